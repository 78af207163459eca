package fetch

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestServerNow: the server's clock is estimated from the Date header of the
// latest response that has a valid one, error responses included, and runs
// on with the local clock (contract C1).
func TestServerNow(t *testing.T) {
	serverTime := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC) // a year from the client's clock
	var mu sync.Mutex
	date := ""
	status := http.StatusOK
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header()["Date"] = nil // no Date unless the test sets one
		if date != "" {
			w.Header().Set("Date", date)
		}
		writeJSON(w, status, `[]`)
	})
	set := func(d string, s int) {
		mu.Lock()
		date, status = d, s
		mu.Unlock()
	}
	clock := newFakeClock()
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Clock = clock })
	ctx := context.Background()
	get := func() { _, _ = c.Get(ctx, "items", "b", srv.URL+"/items") }

	if _, ok := c.ServerNow(); ok {
		t.Error("ServerNow known before any response")
	}
	get() // no Date header
	if _, ok := c.ServerNow(); ok {
		t.Error("ServerNow known after a response without Date")
	}
	set(serverTime.Format(http.TimeFormat), http.StatusOK)
	get()
	if now, ok := c.ServerNow(); !ok || !now.Equal(serverTime) {
		t.Errorf("ServerNow = %v, %v; want %v", now, ok, serverTime)
	}
	_ = clock.Sleep(ctx, 90*time.Second)
	if now, _ := c.ServerNow(); !now.Equal(serverTime.Add(90 * time.Second)) {
		t.Errorf("ServerNow 90s later = %v, want %v", now, serverTime.Add(90*time.Second))
	}
	// An unparsable Date is ignored; an error response's Date counts.
	set("yesterday at noon", http.StatusOK)
	get()
	if now, _ := c.ServerNow(); !now.Equal(serverTime.Add(90 * time.Second)) {
		t.Errorf("ServerNow after a bad Date = %v, want it unchanged", now)
	}
	later := serverTime.Add(time.Hour)
	set(later.Format(http.TimeFormat), http.StatusForbidden)
	get()
	if now, _ := c.ServerNow(); !now.Equal(later) {
		t.Errorf("ServerNow after a 403 = %v, want %v", now, later)
	}
}

// TestServerNowConcurrent: ServerNow may be read while responses arrive.
func TestServerNowConcurrent(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, `[]`) })
	c := newClient(t, srv.URL, nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				_, _ = c.Get(context.Background(), "items", "b", srv.URL+"/items")
				c.ServerNow()
			}
		})
	}
	wg.Wait()
	if _, ok := c.ServerNow(); !ok {
		t.Error("ServerNow unknown after responses with a Date")
	}
}
