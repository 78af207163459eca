package fetch

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Header names of the test API; deliberately not any real API's.
const (
	hLimit     = "X-Quota-Limit"
	hRemaining = "X-Quota-Remaining"
	hReset     = "X-Quota-Reset"
)

var quotaHeaders = RateLimitHeaders{Limit: hLimit, Remaining: hRemaining, Reset: hReset}

// fakeClock advances only when someone sleeps; waits take no time and are
// recorded exactly.
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
	return append([]time.Duration(nil), f.sleeps...)
}

// server is a loopback test server that counts the requests it saw.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t testing.TB, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// newClient returns a client for srv with a fake clock and quick retries;
// mod adjusts the config.
func newClient(t testing.TB, baseURL string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:    baseURL,
		Auth:       HeaderToken("Authorization", "Token", "test-token"),
		UserAgent:  "fetch-test/1",
		Timeout:    5 * time.Second,
		MaxRetries: 4,
		RetryBase:  time.Millisecond,
		RetryMax:   4 * time.Millisecond,
		Errors:     ErrorBody{Code: "error.code", Summary: "error.message", FeatureDisabled: []string{"FEATURE_OFF"}},
		Clock:      newFakeClock(),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func errorBody(code, message string) string {
	return `{"error":{"code":"` + code + `","message":"` + message + `"}}`
}

// quota is the server side of a per-window limit, on a server clock that
// runs scale times faster than ours and starts at base (which may be far
// from our time). Windows last a minute of server time and begin with the
// first request after the previous one ended.
type quota struct {
	mu        sync.Mutex
	limit     int
	scale     float64
	start     time.Time // our clock
	base      time.Time // server clock at start
	windowEnd time.Time
	used      int
	rejected  int
	windows   int
}

func newQuota(limit int, scale float64, base time.Time) *quota {
	return &quota{limit: limit, scale: scale, start: time.Now(), base: base}
}

func (q *quota) now() time.Time {
	return q.base.Add(time.Duration(float64(time.Since(q.start)) * q.scale))
}

// admit counts the request, writes the quota headers and reports whether the
// request may be served; if not, it has written the 429.
func (q *quota) admit(w http.ResponseWriter) bool {
	q.mu.Lock()
	now := q.now()
	if !now.Before(q.windowEnd) {
		q.windowEnd = now.Truncate(time.Second).Add(time.Minute)
		q.used = 0
		q.windows++
	}
	q.used++
	ok := q.used <= q.limit
	if !ok {
		q.rejected++
	}
	h := w.Header()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set(hLimit, strconv.Itoa(q.limit))
	h.Set(hRemaining, strconv.Itoa(max(q.limit-q.used, 0)))
	h.Set(hReset, strconv.FormatInt(q.windowEnd.Unix(), 10))
	q.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
	}
	return ok
}

func (q *quota) Windows() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.windows
}

func (q *quota) Rejected() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rejected
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func debugLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// discardLog silences an http.Server's error log (TLS handshake failures the
// test provokes on purpose).
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
