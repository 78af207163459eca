package runtime

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestSpread(t *testing.T) {
	const workers, n = 3, 50
	var running, most atomic.Int32
	seen := make([]int, n)
	for v := range spread(context.Background(), workers, n, func(i int, emit func(int)) {
		now := running.Add(1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		emit(i)
		emit(i) // several results per index
		running.Add(-1)
	}) {
		seen[v]++
	}
	for i, c := range seen {
		if c != 2 {
			t.Errorf("index %d emitted %d times, want 2", i, c)
		}
	}
	if m := most.Load(); m > workers {
		t.Errorf("%d workers at once, want at most %d", m, workers)
	}
	if _, open := <-spread(context.Background(), workers, 0, func(int, func(int)) {}); open {
		t.Error("no work: the channel must close")
	}
}

// TestSpreadStopsOnCancel: once ctx ends no index is handed out; those
// already handed out finish and the channel closes.
func TestSpreadStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Int32
	got := 0
	for range spread(ctx, 1, 1_000_000, func(i int, emit func(int)) {
		started.Add(1)
		emit(i)
	}) {
		got++
		if got == 5 {
			cancel()
		}
	}
	// After ctx ends the feeder may still win a race or two with it (a
	// select picks at random), never many.
	if s := started.Load(); s > 100 || int(s) != got {
		t.Errorf("%d indices started and %d results after cancelling at 5", s, got)
	}
}
