package runtime

import (
	"testing"
	"time"
)

// TestWaitClock: waits of requests in flight together count once, a wait
// is cut to its request's duration, and waits apart add up.
func TestWaitClock(t *testing.T) {
	base := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	now := base
	c := newWaitClock()
	c.now = func() time.Time { return now }
	at := func(s float64) { now = base.Add(time.Duration(s * float64(time.Second))) }
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

	at(0)
	a, aStart := c.begin()
	at(1)
	b, bStart := c.begin()
	at(8)
	c.end(a, aStart, sec(6)) // waits 0-6
	at(9)
	c.end(b, bStart, sec(6)) // waits 1-7: 0-7 in all, not 12
	if got := c.total(); got != sec(7) {
		t.Errorf("two overlapping waits of 6s: %v, want 7s", got)
	}
	at(10)
	d, dStart := c.begin()
	at(11)
	e, eStart := c.begin()
	at(12)
	c.end(e, eStart, sec(30)) // cut to its 1s: 11-12
	at(20)
	c.end(d, dStart, sec(2)) // 10-12, which holds 11-12
	if got := c.total(); got != sec(9) {
		t.Errorf("after waits of 2s and a 30s wait cut to 1s, inside it: %v, want 9s", got)
	}
	if len(c.spans) != 0 || len(c.inflight) != 0 {
		t.Errorf("with nothing in flight every wait is final: %d spans, %d in flight", len(c.spans), len(c.inflight))
	}
}
