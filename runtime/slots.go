package runtime

import (
	"context"
	"sync"
)

// tableSlots caps how many tables sync at once. A table whose requests wait
// for a rate-limit window to reset lends its slot out (slotLender), so that
// tables on other buckets use the window meanwhile instead of queueing
// behind it; when its requests may go again it takes the slot back at once,
// over the cap if need be, because a window's quota must not wait for a slot.
// The cap then holds back only the start of further tables.
type tableSlots struct {
	mu   sync.Mutex
	free int
	more chan struct{} // closed, and replaced, when free grows
}

func newTableSlots(n int) *tableSlots {
	return &tableSlots{free: n, more: make(chan struct{})}
}

// take waits for a free slot and holds it.
func (s *tableSlots) take(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.free > 0 {
			s.free--
			s.mu.Unlock()
			return nil
		}
		more := s.more
		s.mu.Unlock()
		select {
		case <-more:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// retake holds a slot without waiting, overdrawing when none is free.
func (s *tableSlots) retake() {
	s.mu.Lock()
	s.free--
	s.mu.Unlock()
}

// give hands a slot back.
func (s *tableSlots) give() {
	s.mu.Lock()
	s.free++
	close(s.more)
	s.more = make(chan struct{})
	s.mu.Unlock()
}

// slotLender lends one table's slot while any of its requests waits for a
// rate-limit window (ratelimit.Lender): the first such wait gives it back,
// the end of the last retakes it.
type slotLender struct {
	slots   *tableSlots
	mu      sync.Mutex
	waiting int
}

func (l *slotLender) Lend() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting++
	if l.waiting == 1 {
		l.slots.give()
	}
}

func (l *slotLender) Reclaim() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting--
	if l.waiting == 0 {
		l.slots.retake()
	}
}
