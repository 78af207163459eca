package fetch

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestConnectionRefusedFailsFast: an origin that refuses connections (gone
// mid-sync, a wrong port) is retried only a couple of times with short
// waits, so each table fails in about a second, not in tens (12.4).
func TestConnectionRefusedFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	clock := newFakeClock()
	// The default retry policy, on a fake clock that records the waits.
	c, err := New(Config{BaseURL: base, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), "items", "b", base+"/items"); err == nil {
		t.Fatal("Get on a closed port succeeded")
	}
	sleeps := clock.Sleeps()
	var total time.Duration
	for _, d := range sleeps {
		total += d
	}
	if len(sleeps) > 2 || total > 1500*time.Millisecond {
		t.Errorf("waited %v (%v in all) before giving up on a refused connection, want at most 2 waits and 1.5s", sleeps, total)
	}
	if s := c.Stats(); s.Requests != int64(len(sleeps))+1 {
		t.Errorf("%d attempts for %d waits", s.Requests, len(sleeps))
	}
}
