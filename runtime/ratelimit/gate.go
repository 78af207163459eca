package ratelimit

import (
	"context"
	"sync"
)

// Gate caps the number of requests in flight. The cap adapts: it is halved
// when the server says too many requests run at once, and grows back by one
// after a cap's worth of requests went through without such a complaint
// (additive increase, multiplicative decrease).
type Gate struct {
	mu       sync.Mutex
	max      int
	limit    int
	inUse    int
	streak   int // releases without overload since the cap last changed
	sinceCut int // releases since the last cut
	drain    int // requests in flight at the last cut
	wake     chan struct{}
}

// NewGate returns a gate admitting at most n requests at once (at least 1).
func NewGate(n int) *Gate {
	n = max(n, 1)
	return &Gate{max: n, limit: n, wake: make(chan struct{})}
}

// Acquire waits for a free slot; the error is ctx.Err() when ctx ends first.
func (g *Gate) Acquire(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.inUse < g.limit {
			g.inUse++
			g.mu.Unlock()
			return nil
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// Release frees a slot. overloaded reports that the server rejected the
// request because too many were in flight.
func (g *Gate) Release(overloaded bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inUse--
	g.sinceCut++
	switch {
	case overloaded:
		g.streak = 0
		// Rejections of requests sent before the last cut say nothing new;
		// without this a burst of them would cut the cap to one.
		if g.sinceCut > g.drain {
			g.limit = max(g.limit/2, 1)
			g.drain = g.inUse
			g.sinceCut = 0
		}
	case g.limit < g.max:
		g.streak++
		if g.streak >= g.limit {
			g.limit++
			g.streak = 0
		}
	}
	close(g.wake)
	g.wake = make(chan struct{})
}

// Limit returns the current cap.
func (g *Gate) Limit() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}
