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

// LiveProgress redraws one status line on a terminal while tables sync:
// rows and requests per running table, and how many are done.
type LiveProgress struct {
	mu      sync.Mutex
	w       io.Writer
	reports map[string]runtime.TableReport
	stop    chan struct{}
	done    chan struct{}
	start   time.Time
}

// NewLiveProgress starts redrawing on w every 200ms until Stop.
func NewLiveProgress(w io.Writer) *LiveProgress {
	p := &LiveProgress{w: w, reports: map[string]runtime.TableReport{}, stop: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	go p.loop()
	return p
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
		case <-tick.C:
			fmt.Fprint(p.w, "\r\033[K"+p.line())
		}
	}
}

func (p *LiveProgress) line() string {
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
			item := fmt.Sprintf("%s %d rows/%d pages", name, r.Rows[name], r.Pages)
			if r.Waited >= time.Second {
				item += fmt.Sprintf(" (rate-limit wait %s)", r.Waited.Round(time.Second))
			}
			running = append(running, item)
		} else {
			done++
		}
	}
	slices.Sort(running)
	s := fmt.Sprintf("%s  %d rows, %d tables done", time.Since(p.start).Round(time.Second), rows, done)
	if len(running) > 0 {
		s += "; " + strings.Join(running, ", ")
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
