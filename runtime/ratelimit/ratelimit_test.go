package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when someone sleeps, so a test of minutes of
// waiting takes no time and records exactly what was waited.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if d > 0 {
		f.now = f.now.Add(d)
		f.sleeps = append(f.sleeps, d)
	}
	return nil
}

// windowServer counts requests the way a server with fixed windows does, on
// the fake clock.
type windowServer struct {
	clock     *fakeClock
	limit     int
	window    time.Duration
	windowEnd time.Time
	used      int
	rejected  int
}

func (s *windowServer) serve() Observation {
	now := s.clock.Now()
	if !now.Before(s.windowEnd) {
		s.windowEnd = now.Truncate(time.Second).Add(s.window)
		s.used = 0
	}
	s.used++
	if s.used > s.limit {
		s.rejected++
	}
	date := now.Truncate(time.Second)
	return Observation{
		Limit:       s.limit,
		Remaining:   max(s.limit-s.used, 0),
		ServerReset: s.windowEnd,
		ResetAt:     now.Add(s.windowEnd.Sub(date) + time.Second),
	}
}

func TestBucketPacesSequentialRequestsUnderLimit(t *testing.T) {
	clock := newFakeClock()
	srv := &windowServer{clock: clock, limit: 20, window: time.Minute}
	b := NewBucket(BucketConfig{Clock: clock})
	ctx := context.Background()
	start := clock.Now()
	const n = 200
	for range n {
		if _, err := b.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		b.Done(srv.serve())
	}
	if srv.rejected != 0 {
		t.Errorf("server rejected %d requests, want 0", srv.rejected)
	}
	// 19 per window (one kept in reserve), so 200 requests need 11 windows;
	// the pacing must not be so timid that it needs many more.
	if elapsed := clock.Now().Sub(start); elapsed > 12*time.Minute {
		t.Errorf("200 requests took %v of server time, want at most 12 windows", elapsed)
	}
}

func TestBucketCountsInFlightRequests(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock, Burst: 100})
	ctx := context.Background()
	// Probe, then the server says 10 are left until a reset in 30 s.
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	resetAt := clock.Now().Add(30 * time.Second)
	b.Done(Observation{Limit: 20, Remaining: 10, ServerReset: resetAt, ResetAt: resetAt})
	// No responses come back: only remaining - reserve may start before the reset.
	granted := 0
	for {
		if _, err := b.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		if !clock.Now().Before(resetAt) {
			break
		}
		granted++
	}
	if want := 10 - 1; granted != want {
		t.Errorf("granted %d requests before the reset with none answered, want %d", granted, want)
	}
}

func TestBucketWaitsForResetAtReserve(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock})
	ctx := context.Background()
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	reset := clock.Now().Add(42 * time.Second)
	b.Done(Observation{Limit: 100, Remaining: 5, ServerReset: reset, ResetAt: reset})
	waited, err := b.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited != 42*time.Second {
		t.Errorf("waited %v with only the reserve left, want 42s (until the reset)", waited)
	}
}

func TestBucketIgnoresStaleAndOutOfOrderObservations(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock})
	ctx := context.Background()
	now := clock.Now()
	w1, w2 := now.Add(10*time.Second), now.Add(70*time.Second)
	for range 3 {
		b.mu.Lock()
		b.mode = modeUnpaced // let three start at once
		b.mu.Unlock()
		if _, err := b.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	b.Done(Observation{Limit: 50, Remaining: 30, ServerReset: w2, ResetAt: w2})
	b.Done(Observation{Limit: 50, Remaining: 2, ServerReset: w1, ResetAt: w1})  // older window
	b.Done(Observation{Limit: 50, Remaining: 35, ServerReset: w2, ResetAt: w2}) // earlier in w2
	got := b.Snapshot()
	if got.Remaining != 30 || got.Limit != 50 || !got.ResetAt.Equal(w2) {
		t.Errorf("snapshot = %+v, want remaining 30 of 50 resetting at %v", got, w2)
	}
}

func TestBucketGuessPacesBeforeFirstResponse(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock, Guess: 10, Burst: 1})
	ctx := context.Background()
	start := clock.Now()
	for range 9 {
		if _, err := b.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// 9 of 10 (one reserve) spread over a minute; none answered.
	if clock.Now().Sub(start) >= time.Minute {
		t.Errorf("9 guessed requests took %v, want them within the first window", clock.Now().Sub(start))
	}
	if got := b.Snapshot().InFlight; got != 9 {
		t.Errorf("in flight = %d, want 9", got)
	}
}

func TestBucketBlock(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock, Unpaced: true})
	b.Block(clock.Now().Add(3 * time.Second))
	waited, err := b.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if waited != 3*time.Second {
		t.Errorf("waited %v, want 3s", waited)
	}
}

func TestBucketProbeWaitsForFirstResponse(t *testing.T) {
	b := NewBucket(BucketConfig{})
	ctx := context.Background()
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // a chance for a wrong grant to happen
	if got := b.Snapshot().InFlight; got != 1 {
		t.Fatalf("in flight before the probe's response = %d, want 1", got)
	}
	b.Done(Observation{}) // no rate-limit information: stop probing
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBucketAcquireHonoursCancel(t *testing.T) {
	b := NewBucket(BucketConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	reset := time.Now().Add(time.Hour)
	b.Done(Observation{Limit: 10, Remaining: 0, ServerReset: reset, ResetAt: reset})
	done := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire did not return after cancel")
	}
}

func TestGateCapsAndAdapts(t *testing.T) {
	g := NewGate(8)
	ctx := context.Background()
	for range 8 {
		if err := g.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	full, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.Acquire(full); !errors.Is(err, context.Canceled) {
		t.Fatalf("ninth Acquire = %v, want it to wait (and see the cancel)", err)
	}
	// Eight rejections of requests sent together cut the cap once, not to 1.
	for range 8 {
		g.Release(true)
	}
	if got := g.Limit(); got != 4 {
		t.Errorf("limit after a burst of overload = %d, want 4", got)
	}
	// Then it grows back by one per cap's worth of successes.
	for range 4 {
		if err := g.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		g.Release(false)
	}
	if got := g.Limit(); got != 5 {
		t.Errorf("limit after 4 successes = %d, want 5", got)
	}
}
