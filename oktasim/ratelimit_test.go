package oktasim

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func rlHeaders(t *testing.T, resp *http.Response) (limit, remaining int, reset int64, date time.Time) {
	t.Helper()
	var err error
	if limit, err = strconv.Atoi(resp.Header.Get("X-Rate-Limit-Limit")); err != nil {
		t.Fatalf("X-Rate-Limit-Limit: %v", err)
	}
	if remaining, err = strconv.Atoi(resp.Header.Get("X-Rate-Limit-Remaining")); err != nil {
		t.Fatalf("X-Rate-Limit-Remaining: %v", err)
	}
	if reset, err = strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64); err != nil {
		t.Fatalf("X-Rate-Limit-Reset: %v", err)
	}
	if date, err = http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Fatalf("Date: %v", err)
	}
	return
}

// Remaining counts down, the request after zero gets 429 E0000047 without
// Retry-After, and after waiting Reset-Date (scaled) the window is fresh.
func TestRateLimitCountdownAndReset(t *testing.T) {
	const scale = 600 // one simulated minute passes in 0.1 s
	_, base := startSim(t, Config{Seed: 1, Users: 5, Logs: -1, RateLimits: RateLimitsOkta,
		BucketLimits: map[string]int{"users": 3}, TimeScale: scale})
	var firstReset int64
	for i := range 3 {
		resp, _ := getOK(t, base+"/api/v1/users")
		limit, rem, reset, date := rlHeaders(t, resp)
		if limit != 3 || rem != 2-i {
			t.Fatalf("request %d: limit %d remaining %d, want 3 and %d", i+1, limit, rem, 2-i)
		}
		if i == 0 {
			firstReset = reset
			// The window starts at this first request (org clock 12:00:20.5), so
			// it resets 60 s later at 12:01:21 (rounded up), not on a wall minute.
			if d := reset - date.Unix(); d < 59 || d > 61 {
				t.Errorf("Reset-Date = %d s, want about 60", d)
			}
			if reset%60 == 0 {
				t.Errorf("reset %d is aligned to a wall-clock minute; windows start at the first request", reset)
			}
		} else if reset != firstReset {
			t.Errorf("reset moved within a window: %d != %d", reset, firstReset)
		}
	}
	resp, b := get(t, base+"/api/v1/users", "demo-token")
	wantError(t, resp, b, 429, "E0000047")
	_, rem, reset, date := rlHeaders(t, resp)
	if rem != 0 || resp.Header.Get("Retry-After") != "" {
		t.Errorf("429: remaining %d, Retry-After %q; want 0 and none", rem, resp.Header.Get("Retry-After"))
	}
	// Other buckets are unaffected.
	getOK(t, base+"/api/v1/groups")
	// A client honouring Reset - Date on the scaled clock waits (Reset-Date)/scale.
	wait := time.Duration(reset-date.Unix()+1) * time.Second / scale
	time.Sleep(wait)
	resp, _ = getOK(t, base+"/api/v1/users")
	if _, rem, _, _ := rlHeaders(t, resp); rem != 2 {
		t.Errorf("after reset: remaining %d, want 2 (a fresh window)", rem)
	}
	if resp.Header.Get("X-Oktasim-Time-Scale") != "600" {
		t.Errorf("X-Oktasim-Time-Scale = %q", resp.Header.Get("X-Oktasim-Time-Scale"))
	}
}

// Bucket selection: longest prefix, exact id routes, and the method.
func TestBucketFor(t *testing.T) {
	cases := []struct{ method, path, bucket string }{
		{"GET", "/api/v1/users", "users"},
		{"POST", "/api/v1/users", "users"},
		{"GET", "/api/v1/users/00u1", "user"},
		{"DELETE", "/api/v1/users/00u1", "user-write"},
		{"GET", "/api/v1/users/00u1/roles", "default"},
		{"GET", "/api/v1/apps", "apps"},
		{"GET", "/api/v1/apps/0oa1", "app"},
		{"GET", "/api/v1/apps/0oa1/users", "apps"},
		{"GET", "/api/v1/groups", "groups"},
		{"GET", "/api/v1/groups/00g1", "group"},
		{"GET", "/api/v1/groups/rules", "groups"},
		{"GET", "/api/v1/groups/00g1/users", "groups"},
		{"GET", "/api/v1/logs", "logs"},
		{"GET", "/api/v1/devices/guo1/users", "devices"},
		{"GET", "/api/v1/iam/roles", "default"},
		{"GET", "/oauth2/v1/clients", "oauth2-clients"},
	}
	for _, c := range cases {
		if got := bucketFor(c.method, c.path).name; got != c.bucket {
			t.Errorf("%s %s: bucket %s, want %s", c.method, c.path, got, c.bucket)
		}
	}
	// Workforce defaults appear on the wire.
	s, base := startSim(t, Config{Seed: 1, Users: 5, Logs: 5, RateLimits: RateLimitsOkta})
	uid := s.o.ids.id(kUser, 0)
	for p, want := range map[string]int{"/api/v1/users": 600, "/api/v1/users/" + uid: 2000,
		"/api/v1/logs": 120, "/api/v1/apps": 100, "/api/v1/groups": 500, "/api/v1/meta/types/user": 1200} {
		resp, _ := getOK(t, base+p)
		if l, _, _, _ := rlHeaders(t, resp); l != want {
			t.Errorf("%s: X-Rate-Limit-Limit %d, want %d", p, l, want)
		}
	}
}

// With rate limits off, headers are still sent but Remaining never drops.
func TestRateLimitsOff(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 5, Logs: -1, BucketLimits: map[string]int{"users": 2}})
	for range 5 {
		resp, _ := getOK(t, base+"/api/v1/users")
		if l, rem, _, _ := rlHeaders(t, resp); l != 2 || rem != 2 {
			t.Fatalf("off: limit %d remaining %d, want 2/2", l, rem)
		}
	}
}

// The concurrent-request limit answers 429 with Limit 0 and Remaining 0.
func TestConcurrencyLimit(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 5, Logs: -1, RateLimits: RateLimitsOkta, ConcurrencyLimit: 1,
		Faults: FaultConfig{Slow: 1, SlowDelay: 400 * time.Millisecond}})
	var wg sync.WaitGroup
	wg.Add(1)
	var slowStatus int
	go func() {
		defer wg.Done()
		resp, _ := get(t, base+"/api/v1/users", "demo-token")
		slowStatus = resp.StatusCode
	}()
	deadline := time.Now().Add(2 * time.Second)
	for s.inflight.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	resp, b := get(t, base+"/api/v1/groups", "demo-token")
	wantError(t, resp, b, 429, "E0000047")
	if l, rem, _, _ := rlHeaders(t, resp); l != 0 || rem != 0 {
		t.Errorf("concurrency 429 headers: limit %d remaining %d, want 0/0", l, rem)
	}
	wg.Wait()
	if slowStatus != 200 {
		t.Errorf("the in-flight request got %d", slowStatus)
	}
	if st := s.Stats(); st.ConcurrencyLimited != 1 || st.RateLimited != 1 {
		t.Errorf("stats: concurrencyLimited %d rateLimited %d, want 1/1", st.ConcurrencyLimited, st.RateLimited)
	}
}

// SetRateLimits turns limits off and on again for the same org: off, no
// request is refused however many; on again, the window is fresh and the
// limit counts from its first request.
func TestSetRateLimits(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 5, Logs: -1, RateLimits: RateLimitsOkta,
		BucketLimits: map[string]int{"users": 2}})
	for range 2 {
		getOK(t, base+"/api/v1/users")
	}
	resp, b := get(t, base+"/api/v1/users", "demo-token")
	wantError(t, resp, b, 429, "E0000047")
	s.SetRateLimits(RateLimitsOff)
	for range 5 {
		resp, _ := getOK(t, base+"/api/v1/users")
		if l, rem, _, _ := rlHeaders(t, resp); l != 2 || rem != 2 {
			t.Fatalf("off: limit %d remaining %d, want 2/2", l, rem)
		}
	}
	s.SetRateLimits(RateLimitsOkta)
	for i := range 2 {
		resp, _ := getOK(t, base+"/api/v1/users")
		if _, rem, _, _ := rlHeaders(t, resp); rem != 1-i {
			t.Fatalf("on again, request %d: remaining %d, want %d", i+1, rem, 1-i)
		}
	}
	resp, b = get(t, base+"/api/v1/users", "demo-token")
	wantError(t, resp, b, 429, "E0000047")
}
