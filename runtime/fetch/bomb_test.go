package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// gzipZeros is one gzip member holding n zero bytes: about n/1000 bytes.
func gzipZeros(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zeros))
		_, _ = zw.Write(zeros[:k])
		n -= k
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bombHandler sends a gzip body that decompresses to total bytes: the
// member repeated (a multi-member gzip stream is their concatenation).
func bombHandler(member []byte, memberSize, total int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		for sent := 0; sent < total; sent += memberSize {
			if _, err := w.Write(member); err != nil {
				return // the client hung up, as it should
			}
		}
	}
}

// TestGzipBombIsBoundedPerRequest: a body that decompresses to 1 GiB is
// refused at MaxBodyBytes, having allocated about that much, not a multiple
// of it (13.7).
func TestGzipBombIsBoundedPerRequest(t *testing.T) {
	const limit = 4 << 20
	const memberSize, total = 16 << 20, 1 << 30
	srv := newServer(t, bombHandler(gzipZeros(t, memberSize), memberSize, total))
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.MaxBodyBytes = limit })

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.Get(context.Background(), "items", "b", srv.URL+"/items")
	runtime.ReadMemStats(&after)

	if !errors.Is(err, ErrInvalidBody) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want ErrInvalidBody saying the body is too large", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("server hits = %d, want 1 (a bomb is not retried)", n)
	}
	// Growing a buffer by doubling up to the limit allocates about twice
	// the limit in all; the old reader allocated four times and more.
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB for a %d MiB limit", float64(allocated)/(1<<20), limit>>20)
	if allocated > 5*limit/2 {
		t.Errorf("allocated %d bytes for a body limit of %d (decompressed size %d)", allocated, limit, total)
	}
}

// TestBodiesInFlightShareABudget: bodies read at once never hold more than
// MaxInFlightBodyBytes together, however many requests are in flight, and
// the budget neither deadlocks nor starves the pages that fit (13.7).
func TestBodiesInFlightShareABudget(t *testing.T) {
	const limit, budget = 1 << 20, 2 << 20
	const bombs, pages = 8, 8
	const memberSize = 4 << 20
	member := gzipZeros(t, memberSize)
	page := `[` + strings.Repeat(`{"id":"00u1","name":"abcdefghijklmnopqrstuvwxyz"},`, 12000) + `{"id":"end"}]` // ~600 KB
	var zpage bytes.Buffer
	zw := gzip.NewWriter(&zpage)
	_, _ = zw.Write([]byte(page))
	_ = zw.Close()

	// Every handler waits until all requests have arrived, so that all
	// bodies are read at the same time.
	var arrived sync.WaitGroup
	arrived.Add(bombs + pages)
	bomb := bombHandler(member, memberSize, 1<<30)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait()
		if r.URL.Path == "/bomb" {
			bomb(w, r)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(zpage.Bytes())
	})
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.MaxBodyBytes = limit
		cfg.MaxInFlightBodyBytes = budget
		cfg.MaxConcurrent = bombs + pages
		cfg.MaxRetries = -1 // every request must succeed or fail on its first try
	})
	var wg sync.WaitGroup
	errs := make([]error, bombs+pages)
	for i := range bombs + pages {
		path := "/bomb"
		if i >= bombs {
			path = "/page"
		}
		wg.Go(func() {
			p, err := c.Get(context.Background(), "items", "b", srv.URL+path)
			if err == nil && string(p.Body) != page {
				err = errors.New("page body differs")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i < bombs && !errors.Is(err, ErrInvalidBody) {
			t.Errorf("bomb %d: err = %v, want ErrInvalidBody", i, err)
		}
		if i >= bombs && err != nil {
			t.Errorf("page %d: %v", i-bombs, err)
		}
	}
	used, peak := c.bodies.stats()
	t.Logf("peak %d KiB held by bodies in flight", peak>>10)
	if peak > budget {
		t.Errorf("bodies in flight held %d bytes at once, budget %d", peak, budget)
	}
	if used != 0 {
		t.Errorf("%d bytes still held after every request ended", used)
	}
}

// TestBodyBudgetAvoidsDeadlock: room is not given when it could leave two
// reads each waiting for the other's.
func TestBodyBudgetAvoidsDeadlock(t *testing.T) {
	b := newBodyBudget(10)
	a, x := b.open(8), b.open(8)
	if err := a.grow(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	// Giving x 5 would leave both 3 short with nothing free.
	if b.safe(x, 5) {
		t.Error("budget would give room that deadlocks")
	}
	// Giving x 2 leaves 3 free: a can finish, then x.
	if !b.safe(x, 2) {
		t.Error("budget refuses room that is safe")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- x.grow(ctx, 5) }()
	a.close() // a's room comes back; x's wait must end
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cancel()
	// A wait ends with its context.
	y := b.open(10)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := y.grow(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("grow with a canceled context: %v", err)
	}
}
