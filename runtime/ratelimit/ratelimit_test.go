package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
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

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sleeps)
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
	// others is how many requests of other clients each window counts
	// before ours; ours counts our requests by window end.
	others int
	ours   map[time.Time]int
}

func (s *windowServer) serve() Observation {
	now := s.clock.Now()
	if !now.Before(s.windowEnd) {
		s.windowEnd = now.Truncate(time.Second).Add(s.window)
		s.used = s.others
	}
	if s.ours == nil {
		s.ours = map[time.Time]int{}
	}
	s.ours[s.windowEnd]++
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

// spend drives b against srv the way concurrent workers do: every request
// the bucket grants without waiting starts at once and is answered only
// after them (so the bucket must count those in flight); when it grants
// none, one request waits for it. It returns the instants requests were
// granted at, with how many at each, and the waits.
func spend(t *testing.T, b *Bucket, srv *windowServer, n int) (grants map[time.Time]int, waits []time.Duration) {
	t.Helper()
	grants = map[time.Time]int{}
	now, cancel := context.WithCancel(context.Background())
	cancel() // Acquire(now) grants or returns at once
	for done := 0; done < n; {
		batch := 0
		for done+batch < n {
			if _, err := b.Acquire(now); err != nil {
				break
			}
			batch++
		}
		if batch == 0 {
			waited, err := b.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			waits = append(waits, waited)
			batch = 1
		}
		grants[srv.clock.Now()] += batch
		for range batch {
			b.Done(srv.serve())
		}
		done += batch
	}
	return grants, waits
}

func TestBucketSpendsEachWindowAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		others int // requests of other clients in every window
	}{{"alone", 0}, {"shared", 5}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			const limit, reserve, n = 20, 1, 100
			srv := &windowServer{clock: clock, limit: limit, window: time.Minute, others: tc.others}
			b := NewBucket(BucketConfig{Clock: clock})
			grants, waits := spend(t, b, srv, n)
			if srv.rejected != 0 {
				t.Errorf("server rejected %d requests, want 0", srv.rejected)
			}
			// Each window: the first request alone (its answer tells what is
			// left), then all the rest but the reserve at the same instant.
			quota := limit - tc.others - reserve
			var ends []time.Time
			for end := range srv.ours {
				ends = append(ends, end)
			}
			slices.SortFunc(ends, time.Time.Compare)
			for i, end := range ends {
				got := srv.ours[end]
				if got > quota || (i < len(ends)-1 && got != quota) {
					t.Errorf("window %d: %d requests of ours, want %d (limit %d - others %d - reserve %d)", i, got, quota, limit, tc.others, reserve)
				}
				open := end.Add(-time.Minute)
				if got, want := grants[open]+grants[open.Add(time.Second)], srv.ours[end]; got != want {
					t.Errorf("window %d: %d requests granted when it opened, want all %d", i, got, want)
				}
			}
			if want := (n + quota - 1) / quota; len(ends) != want {
				t.Errorf("%d requests took %d windows, want %d", n, len(ends), want)
			}
			// Between windows the bucket sleeps until the announced reset
			// (the server's 60 s, plus a second of margin), and only then.
			for i, w := range waits {
				if w != 61*time.Second {
					t.Errorf("wait %d = %v, want 1m1s (until the reset)", i, w)
				}
			}
			if len(waits) != len(ends)-1 {
				t.Errorf("%d waits for %d windows, want one between each two", len(waits), len(ends))
			}
		})
	}
}

func TestBucketEarlyRollWaitsForServer(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock})
	ctx := context.Background()
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	w1 := clock.Now().Add(30 * time.Second)
	b.Done(Observation{Limit: 10, Remaining: 0, ServerReset: w1, ResetAt: w1})
	// At our estimate of the reset one request goes out alone...
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	// ...and the server says its window is not over: 0 left for 5 s more.
	b.Done(Observation{Limit: 10, Remaining: 0, ServerReset: w1, ResetAt: clock.Now().Add(5 * time.Second)})
	waited, err := b.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited != 5*time.Second {
		t.Errorf("waited %v after the server said its window runs 5s more, want 5s", waited)
	}
}

func TestBucketCountsInFlightRequests(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock})
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
	// The reserve of a limit of 100 is 2 requests.
	b.Done(Observation{Limit: 100, Remaining: 2, ServerReset: reset, ResetAt: reset})
	waited, err := b.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited != 42*time.Second {
		t.Errorf("waited %v with only the reserve left, want 42s (until the reset)", waited)
	}
	if got := b.Snapshot().Held; got != 42*time.Second {
		t.Errorf("held = %v, want the 42s waited", got)
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

func TestBucketGuessSpendsWindowAfterFirstResponse(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock, Guess: 10})
	ctx := context.Background()
	start := clock.Now()
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	// A server that announces no limits: our own count of the guessed
	// window stands, and its rest (10, less the one spent and the reserve
	// of one) starts at once, none answered.
	b.Done(Observation{})
	for range 8 {
		if _, err := b.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if clock.Now() != start {
		t.Errorf("the guessed window's 8 requests took %v, want them at once", clock.Now().Sub(start))
	}
	if got := b.Snapshot().InFlight; got != 8 {
		t.Errorf("in flight = %d, want 8", got)
	}
	// The next waits for the window's end.
	waited, err := b.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited != time.Minute {
		t.Errorf("waited %v past the guessed window's quota, want 1m0s (its end)", waited)
	}
}

func TestBucketOpensWindowWithOneRequest(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock, Guess: 10})
	ctx := context.Background()
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	// Before the first response the window's count is unknown (others may
	// have spent it): nothing more starts until the window ends.
	waited, err := b.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited != time.Minute {
		t.Errorf("second request waited %v before any response, want 1m0s", waited)
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

// TestBucketNeverExceedsLimitLessReserve drives a bucket through many
// windows with responses answered out of order and late: the server never
// counts more than limit - reserve of our requests in a window, every window
// but the last is spent whole, and none is wasted.
func TestBucketNeverExceedsLimitLessReserve(t *testing.T) {
	clock := newFakeClock()
	const limit, n = 30, 400
	const reserve = 3 // 10% of 30
	srv := &windowServer{clock: clock, limit: limit, window: time.Minute}
	b := NewBucket(BucketConfig{Clock: clock, Reserve: 0.1})
	rng := rand.New(rand.NewPCG(1, 2))
	now, cancel := context.WithCancel(context.Background())
	cancel()
	var inFlight []Observation // answers the server has given, not yet delivered
	for sent := 0; sent < n || len(inFlight) > 0; {
		switch {
		case sent < n && rng.IntN(3) > 0:
			if _, err := b.Acquire(now); err == nil {
				inFlight = append(inFlight, srv.serve())
				sent++
				continue
			}
			if len(inFlight) == 0 {
				// Nothing will answer: wait for the bucket.
				if _, err := b.Acquire(context.Background()); err != nil {
					t.Fatal(err)
				}
				inFlight = append(inFlight, srv.serve())
				sent++
			}
		case len(inFlight) > 0:
			i := rng.IntN(len(inFlight))
			b.Done(inFlight[i])
			inFlight = slices.Delete(inFlight, i, i+1)
		}
	}
	if srv.rejected != 0 {
		t.Errorf("server rejected %d requests, want 0", srv.rejected)
	}
	quota := limit - reserve
	var ends []time.Time
	for end := range srv.ours {
		ends = append(ends, end)
	}
	slices.SortFunc(ends, time.Time.Compare)
	for i, end := range ends {
		got := srv.ours[end]
		if got > quota {
			t.Errorf("window %d: %d requests, more than limit %d - reserve %d", i, got, limit, reserve)
		}
		if i < len(ends)-1 && got != quota {
			t.Errorf("window %d: %d requests, want the whole quota of %d", i, got, quota)
		}
	}
	if want := (n + quota - 1) / quota; len(ends) != want {
		t.Errorf("%d requests took %d windows, want %d", n, len(ends), want)
	}
}

// TestBucketHonoursLateServerReset: after the reset we expected, the first
// request's response says the server's window is still open (its clock is
// behind ours, or its reset came late). The bucket takes the server's word:
// it spends what that window has left and waits for the reset the server
// now announces, not for a whole window of its own.
func TestBucketHonoursLateServerReset(t *testing.T) {
	for _, tc := range []struct {
		name      string
		remaining int // what the server says is left after the first request
		granted   int // requests that may then start at once
	}{
		{"only the reserve left", 1, 0},
		{"some left", 4, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			b := NewBucket(BucketConfig{Clock: clock})
			ctx := context.Background()
			if _, err := b.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
			w1 := clock.Now().Add(30 * time.Second)
			b.Done(Observation{Limit: 10, Remaining: 1, ServerReset: w1, ResetAt: w1})
			// Only the reserve is left: the next request waits for w1 and
			// goes out alone.
			if waited, err := b.Acquire(ctx); err != nil || waited != 30*time.Second {
				t.Fatalf("Acquire = %v, %v; want 30s waited for the reset", waited, err)
			}
			late := clock.Now().Add(5 * time.Second)
			b.Done(Observation{Limit: 10, Remaining: tc.remaining, ServerReset: w1, ResetAt: late})
			now, cancel := context.WithCancel(ctx)
			cancel()
			granted := 0
			for {
				if _, err := b.Acquire(now); err != nil {
					break
				}
				granted++
			}
			if granted != tc.granted {
				t.Errorf("%d requests granted at once, want %d (%d left - the reserve)", granted, tc.granted, tc.remaining)
			}
			for range granted {
				b.Abort()
			}
			waited, err := b.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if waited != 5*time.Second {
				t.Errorf("waited %v, want 5s (until the reset the server announced)", waited)
			}
		})
	}
}

// TestBucketRejectionHoldsUntilReset: a 429 (nothing left, and Block until
// the announced reset) holds every request on the bucket until that reset,
// and the hold counts once in Held however many requests wait.
func TestBucketRejectionHoldsUntilReset(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock, Guess: 100})
	ctx := context.Background()
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	// Other clients spent the window: the first response is a rejection.
	reset := clock.Now().Add(20 * time.Second)
	b.Done(Observation{Limit: 100, Remaining: 0, ServerReset: reset, ResetAt: reset})
	b.Block(reset)
	waited, err := b.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited != 20*time.Second {
		t.Errorf("waited %v after a rejection, want 20s (until its reset)", waited)
	}
	if got := b.Snapshot().Held; got != 20*time.Second {
		t.Errorf("held = %v, want 20s", got)
	}
}

// TestBucketUnknownLimitProbes: with no limit known, one request goes out
// alone; its response tells the window, whose rest (less the reserve)
// starts at once.
func TestBucketUnknownLimitProbes(t *testing.T) {
	clock := newFakeClock()
	b := NewBucket(BucketConfig{Clock: clock})
	ctx := context.Background()
	now, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Acquire(now); err != nil {
		t.Fatalf("first request: %v, want it granted at once", err)
	}
	if _, err := b.Acquire(now); err == nil {
		t.Fatal("a second request was granted before the first response")
	}
	reset := clock.Now().Add(time.Minute)
	b.Done(Observation{Limit: 10, Remaining: 9, ServerReset: reset, ResetAt: reset})
	granted := 0
	for {
		if _, err := b.Acquire(now); err != nil {
			break
		}
		granted++
	}
	if granted != 8 {
		t.Errorf("%d granted after the probe's response, want 8 (9 left - 1 reserve)", granted)
	}
	if got := clock.Sleeps(); len(got) != 0 {
		t.Errorf("the bucket slept %v, want no waits", got)
	}
}

// countingLender records its calls with the fake clock's time.
type countingLender struct {
	clock *fakeClock
	calls []string
}

func (l *countingLender) Lend() {
	l.calls = append(l.calls, "lend at "+l.clock.Now().Format(time.TimeOnly))
}
func (l *countingLender) Reclaim() {
	l.calls = append(l.calls, "reclaim at "+l.clock.Now().Format(time.TimeOnly))
}

// TestBucketLendsDuringWindowWaits: a request waiting for its window to
// reset, for a block to end or for a backoff lends what its caller holds for
// the wait; a request that goes at once, or waits only for a probe's
// response, lends nothing.
func TestBucketLendsDuringWindowWaits(t *testing.T) {
	clock := newFakeClock()
	l := &countingLender{clock: clock}
	ctx := WithLender(context.Background(), l)
	at := func(d time.Duration) string { return clock.Now().Add(d).Format(time.TimeOnly) }

	b := NewBucket(BucketConfig{Clock: clock, Guess: 100})
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if len(l.calls) != 0 {
		t.Errorf("a request granted at once lent: %q", l.calls)
	}
	reset := clock.Now().Add(42 * time.Second)
	b.Done(Observation{Limit: 100, Remaining: 2, ServerReset: reset, ResetAt: reset})
	want := []string{"lend at " + at(0), "reclaim at " + at(42*time.Second)}
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	b.Done(Observation{})
	if !slices.Equal(l.calls, want) {
		t.Errorf("waiting for the reset: %q, want %q", l.calls, want)
	}

	l.calls = nil
	b.Block(clock.Now().Add(3 * time.Second))
	want = []string{"lend at " + at(0), "reclaim at " + at(3*time.Second)}
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.calls, want) {
		t.Errorf("waiting for a block: %q, want %q", l.calls, want)
	}

	l.calls = nil
	want = []string{"lend at " + at(0), "reclaim at " + at(5*time.Second)}
	if err := b.Wait(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.calls, want) {
		t.Errorf("a backoff: %q, want %q", l.calls, want)
	}

	l.calls = nil
	probe := NewBucket(BucketConfig{Clock: clock})
	if _, err := probe.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := probe.Acquire(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("second request while the probe is out: %v, want it to wait", err)
	}
	if len(l.calls) != 0 {
		t.Errorf("a wait for the probe's response lent: %q", l.calls)
	}
}
