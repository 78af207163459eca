package runtime

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"oktasync/runtime/fetch"
)

// waitClock measures how long a table was blocked on rate limits: the wall
// time during which at least one of its requests was waiting, overlapping
// waits counted once, so that it never exceeds the table's duration however
// many requests wait in parallel. A request reports only how long it waited
// (fetch.Page.Waited), not when; its wait is placed at its start, where the
// pacing that makes most of it happens, and cut to the request's duration.
type waitClock struct {
	now func() time.Time

	mu       sync.Mutex
	inflight map[uint64]time.Time // start of each request in flight
	nextID   uint64
	// spans are waits that a request still in flight may yet overlap:
	// disjoint, sorted. done is the length of the others.
	spans []span
	done  time.Duration
}

type span struct{ start, end time.Time }

func newWaitClock() *waitClock {
	return &waitClock{now: time.Now, inflight: map[uint64]time.Time{}}
}

// begin notes a request's start.
func (c *waitClock) begin() (id uint64, start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	start = c.now()
	c.inflight[c.nextID] = start
	return c.nextID, start
}

// end notes that the request begun as id ended after waiting waited.
func (c *waitClock) end(id uint64, start time.Time, waited time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, id)
	if w := min(waited, c.now().Sub(start)); w > 0 {
		c.add(span{start, start.Add(w)})
	}
	// A request's wait starts no earlier than the request: spans that end
	// before every request in flight began are final.
	var first time.Time
	for _, s := range c.inflight {
		if first.IsZero() || s.Before(first) {
			first = s
		}
	}
	k := 0
	for ; k < len(c.spans) && (first.IsZero() || !c.spans[k].end.After(first)); k++ {
		c.done += c.spans[k].end.Sub(c.spans[k].start)
	}
	c.spans = slices.Delete(c.spans, 0, k)
}

// add merges s into the spans.
func (c *waitClock) add(s span) {
	i := sort.Search(len(c.spans), func(i int) bool { return !c.spans[i].end.Before(s.start) })
	j := i
	for ; j < len(c.spans) && !c.spans[j].start.After(s.end); j++ {
		if c.spans[j].start.Before(s.start) {
			s.start = c.spans[j].start
		}
		if c.spans[j].end.After(s.end) {
			s.end = c.spans[j].end
		}
	}
	c.spans = slices.Replace(c.spans, i, j, s)
}

// total is the time blocked so far.
func (c *waitClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.done
	for _, s := range c.spans {
		d += s.end.Sub(s.start)
	}
	return d
}

// timedFetcher is a table's Fetcher: it tells the table's waitClock about
// every request, whichever part of the engine makes it.
type timedFetcher struct {
	Fetcher
	clock *waitClock
}

func (f *timedFetcher) Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error) {
	id, start := f.clock.begin()
	page, err := f.Fetcher.Get(ctx, table, bucket, url)
	var waited time.Duration
	if page != nil {
		waited = page.Waited
	}
	f.clock.end(id, start, waited)
	return page, err
}

// CheckURL passes on the wrapped Fetcher's URL check.
func (f *timedFetcher) CheckURL(table, url string) error {
	if c, ok := f.Fetcher.(URLChecker); ok {
		return c.CheckURL(table, url)
	}
	return nil
}

// ServerNow passes on the server's clock of the wrapped Fetcher.
func (f *timedFetcher) ServerNow() (time.Time, bool) {
	if c, ok := f.Fetcher.(ServerClock); ok {
		return c.ServerNow()
	}
	return time.Time{}, false
}
