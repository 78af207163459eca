package runtime

import (
	"context"
	"sync"
)

// spread runs work(i, emit) for every i in [0, n) on at most workers
// goroutines and returns what they emit, in the order it comes; the channel
// closes once every worker is done. No index is handed out after ctx ends.
// The caller must drain the channel, or the workers block on emit.
func spread[T any](ctx context.Context, workers, n int, work func(i int, emit func(T))) <-chan T {
	out := make(chan T, workers)
	next := make(chan int)
	emit := func(v T) { out <- v }
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				work(i, emit)
			}
		})
	}
	go func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}
