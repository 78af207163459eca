package oktasim

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// A zero Config.Now is the real clock, and it runs: a client on the wall
// clock (oktasync sim + sync) asks the System Log for a window ending now,
// which a simulator stuck at DefaultNow answered with 400 E0000053.
func TestZeroNowIsTheRealClock(t *testing.T) {
	before := time.Now()
	s, err := New(Config{Seed: 1, Users: 20, Logs: 200})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	inWallWindow := func(what string, got, lo, hi time.Time) {
		t.Helper()
		if got.Before(lo) || got.After(hi) {
			t.Errorf("%s = %s, want between %s and %s (the wall clock)", what, got, lo, hi)
		}
	}
	inWallWindow("Now", s.Now(), before.Truncate(time.Millisecond), time.Now())

	// A sync's System Log window on the client's wall clock.
	since := time.Now().Add(-7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	resp, b := get(t, base+"/api/v1/logs?limit=1000&since="+url.QueryEscape(since), "demo-token")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/logs since %s (7 days before the wall clock): %d %s", since, resp.StatusCode, b)
	}
	if n := len(decodeList(t, b)); n == 0 {
		t.Errorf("the last 7 days of the System Log are empty")
	}
	lo := time.Now()
	resp, _ = getOK(t, base+"/api/v1/users?limit=1")
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		t.Fatalf("Date: %v", err)
	}
	inWallWindow("Date", date, lo.Truncate(time.Second), time.Now())

	// Advance and Churn move a running clock ahead of the wall clock, and it
	// runs on from there.
	lo = time.Now()
	s.Advance(time.Hour)
	inWallWindow("Now after Advance(1h) - 1h", s.Now().Add(-time.Hour), lo.Truncate(time.Millisecond), time.Now())
	lo = time.Now()
	s.Churn(ChurnSpec{Advance: time.Hour, UpdatedUsers: 2})
	inWallWindow("Now after another hour of churn - 2h", s.Now().Add(-2*time.Hour), lo.Truncate(time.Millisecond), time.Now())
}

// A fixed Config.Now stays put however long the simulator runs.
func TestFixedNowDoesNotRun(t *testing.T) {
	s, err := New(Config{Seed: 1, Users: 5, Logs: -1, Now: DefaultNow, TimeScale: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Now().Equal(DefaultNow) {
		t.Fatalf("Now = %s, want DefaultNow %s", s.Now(), DefaultNow)
	}
	for s.WireNow().Sub(DefaultNow) < time.Second { // the wire clock runs (1000x)
		time.Sleep(time.Millisecond)
	}
	if !s.Now().Equal(DefaultNow) {
		t.Errorf("Now = %s after the wire clock ran, want DefaultNow", s.Now())
	}
	s.Advance(time.Hour)
	if want := DefaultNow.Add(time.Hour); !s.Now().Equal(want) {
		t.Errorf("Now after Advance(1h) = %s, want %s", s.Now(), want)
	}
}

// Every response, whatever its kind, has a Date on the simulator's wire clock
// (a fixed clock far from the wall clock, running 60x, shows a Date the HTTP
// server filled in from the wall clock).
func TestDateHeaderIsTheSimulatorsClock(t *testing.T) {
	type probe struct {
		name, path, token string
		status            int
	}
	cases := []struct {
		cfg    Config
		probes []probe
	}{
		{Config{BucketLimits: map[string]int{"users": 1}, RateLimits: RateLimitsOkta, Tokens: map[string]string{"t": RoleSuperAdmin, "ro": RoleHelpDeskAdmin}}, []probe{
			{"200", "/api/v1/users", "t", 200},
			{"429", "/api/v1/users", "t", 429},
			{"401", "/api/v1/groups", "bad", 401},
			{"403", "/api/v1/logs", "ro", 403},
			{"404 route", "/api/v1/nope", "t", 404},
			{"404 object", "/api/v1/groups/00gNOPE", "t", 404},
			{"400", "/api/v1/groups?after=bogus", "t", 400},
			{"control", "/__sim/info", "", 200},
		}},
		{Config{Faults: FaultConfig{Rate500: 1}, Tokens: map[string]string{"t": RoleSuperAdmin}}, []probe{{"500", "/api/v1/users", "t", 500}}},
		{Config{Faults: FaultConfig{Rate502: 1}, Tokens: map[string]string{"t": RoleSuperAdmin}}, []probe{{"502", "/api/v1/users", "t", 502}}},
	}
	for _, tc := range cases {
		cfg := tc.cfg
		cfg.Seed, cfg.Users, cfg.Logs, cfg.Now, cfg.TimeScale = 1, 5, 5, DefaultNow, 60
		s, base := startSim(t, cfg)
		for _, p := range tc.probes {
			lo := s.WireNow()
			resp, _ := get(t, base+p.path, p.token)
			hi := s.WireNow()
			if resp.StatusCode != p.status {
				t.Fatalf("%s: status %d, want %d", p.name, resp.StatusCode, p.status)
			}
			date, err := http.ParseTime(resp.Header.Get("Date"))
			if err != nil {
				t.Fatalf("%s: Date %q: %v", p.name, resp.Header.Get("Date"), err)
			}
			if date.Before(lo.Truncate(time.Second)) || date.After(hi) {
				t.Errorf("%s: Date %s, want the simulator's clock between %s and %s", p.name, date, lo, hi)
			}
		}
	}
}
