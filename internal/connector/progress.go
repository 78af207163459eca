package connector

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"oktasync/runtime"
)

// LiveProgress redraws one status line on a terminal while tables sync: how
// many tables are done of how many, the rows so far, an estimate of the time
// left, and what each running table is at.
type LiveProgress struct {
	mu      sync.Mutex
	w       io.Writer
	total   int
	width   int
	reports map[string]runtime.TableReport
	stop    chan struct{}
	done    chan struct{}
	start   time.Time
}

// NewLiveProgress starts redrawing on w every 200ms until Stop; total is the
// number of tables the sync covers (0 if unknown), width the terminal's.
func NewLiveProgress(w io.Writer, total, width int) *LiveProgress {
	p := newLiveProgress(w, total, width, time.Now())
	go p.loop()
	return p
}

func newLiveProgress(w io.Writer, total, width int, start time.Time) *LiveProgress {
	if width <= 0 {
		width = 100
	}
	return &LiveProgress{w: w, total: total, width: width, reports: map[string]runtime.TableReport{},
		stop: make(chan struct{}), done: make(chan struct{}), start: start}
}

// Update records a table's latest report; it is the engine's Progress hook.
func (p *LiveProgress) Update(r runtime.TableReport) {
	p.mu.Lock()
	p.reports[r.Table] = r
	p.mu.Unlock()
}

// Stop clears the status line.
func (p *LiveProgress) Stop() {
	close(p.stop)
	<-p.done
}

func (p *LiveProgress) loop() {
	defer close(p.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case now := <-tick.C:
			fmt.Fprint(p.w, "\r\033[K"+p.line(now))
		}
	}
}

// line is the status line at now. The estimate assumes the tables left take
// as long, on average, as those done so far: rough, and said so ("about").
func (p *LiveProgress) line(now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var running []string
	done := 0
	var rows int64
	for name, r := range p.reports {
		for _, n := range r.Rows {
			rows += n
		}
		if r.Status == runtime.StatusRunning || r.Status == "" {
			item := fmt.Sprintf("%s %d rows", name, r.Rows[name])
			if r.Waited >= time.Second {
				item += fmt.Sprintf(" (rate-limit wait %s)", r.Waited.Round(time.Second))
			}
			running = append(running, item)
		} else {
			done++
		}
	}
	slices.Sort(running)
	elapsed := now.Sub(p.start)
	s := fmt.Sprintf("%s  %d", elapsed.Round(time.Second), done)
	if p.total > 0 {
		s += fmt.Sprintf("/%d", p.total)
	}
	s += fmt.Sprintf(" tables done, %d rows", rows)
	if done > 0 && done < p.total {
		left := elapsed * time.Duration(p.total-done) / time.Duration(done)
		s += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	if len(running) > 0 {
		s += "; " + strings.Join(running, ", ")
	}
	if len(s) > p.width-1 {
		s = s[:p.width-4] + "..."
	}
	return s
}
