package oktasim

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("500=0.02,502=0.01,reset=0.01,truncate=0.01,slow=0.01:200ms,429storm=0.005:7")
	if err != nil {
		t.Fatal(err)
	}
	want := FaultConfig{Rate500: 0.02, Rate502: 0.01, Reset: 0.01, Truncate: 0.01, Slow: 0.01, SlowDelay: 200 * time.Millisecond, Storm429: 0.005, StormLength: 7}
	if f != want {
		t.Errorf("ParseFaults = %+v, want %+v", f, want)
	}
	if back, err := ParseFaults(f.String()); err != nil || back != f {
		t.Errorf("round trip via %q = %+v, %v", f.String(), back, err)
	}
	for _, bad := range []string{"500", "404=0.1", "500=2", "reset=0.1:3", "slow=0.1:soon", "500=0.6,502=0.6"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
}

// doRaw returns the status and body, or the transport error.
func doRaw(url string) (int, []byte, error) {
	req, _ := newReq(url, "SSWS demo-token")
	resp, err := testClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Each fault kind shows on the wire as specified.
func TestFaultKinds(t *testing.T) {
	cases := []struct {
		name  string
		cfg   FaultConfig
		check func(t *testing.T, status int, body []byte, err error, elapsed time.Duration)
	}{
		{"500", FaultConfig{Rate500: 1}, func(t *testing.T, st int, b []byte, err error, _ time.Duration) {
			if err != nil || st != 500 || !strings.Contains(string(b), `"errorCode":"E0000009"`) {
				t.Errorf("status %d err %v body %s", st, err, b)
			}
		}},
		{"503", FaultConfig{Rate503: 1}, func(t *testing.T, st int, b []byte, err error, _ time.Duration) {
			if err != nil || st != 503 || !strings.Contains(string(b), "<html>") {
				t.Errorf("status %d err %v body %s", st, err, b)
			}
		}},
		{"504", FaultConfig{Rate504: 1}, func(t *testing.T, st int, _ []byte, err error, _ time.Duration) {
			if err != nil || st != 504 {
				t.Errorf("status %d err %v", st, err)
			}
		}},
		{"reset", FaultConfig{Reset: 1}, func(t *testing.T, st int, _ []byte, err error, _ time.Duration) {
			if err == nil {
				t.Errorf("reset: got status %d, want a transport error", st)
			}
		}},
		{"truncate", FaultConfig{Truncate: 1}, func(t *testing.T, st int, b []byte, err error, _ time.Duration) {
			if st != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("truncate: status %d err %v (read %d bytes), want 200 and unexpected EOF", st, err, len(b))
			}
		}},
		{"slow", FaultConfig{Slow: 1, SlowDelay: 150 * time.Millisecond}, func(t *testing.T, st int, _ []byte, err error, d time.Duration) {
			if err != nil || st != 200 || d < 150*time.Millisecond {
				t.Errorf("slow: status %d err %v after %v", st, err, d)
			}
		}},
		{"429storm", FaultConfig{Storm429: 1, StormLength: 3}, func(t *testing.T, st int, b []byte, err error, _ time.Duration) {
			if err != nil || st != 429 || !strings.Contains(string(b), "E0000047") {
				t.Errorf("storm: status %d err %v", st, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, base := startSim(t, Config{Seed: 1, Users: 5, Logs: -1, Faults: tc.cfg})
			start := time.Now()
			st, b, err := doRaw(base + "/api/v1/users")
			tc.check(t, st, b, err, time.Since(start))
			if got := s.Stats().FaultsTotal; got != 1 {
				t.Errorf("faultsTotal = %d, want 1", got)
			}
			// /__sim/* is never faulted.
			resp, err := testClient.Get(base + "/__sim/stats")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("/__sim/stats under faults: %v %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}

// Fault decisions depend only on the seed and the request counter.
func TestFaultsDeterministic(t *testing.T) {
	cfg := Config{Seed: 11, Users: 5, Logs: -1, Faults: FaultConfig{Rate500: 0.2, Rate502: 0.1, Storm429: 0.05, StormLength: 2}}
	run := func(cfg Config) string {
		_, base := startSim(t, cfg)
		var sb strings.Builder
		for range 60 {
			st, _, err := doRaw(base + "/api/v1/users")
			if err != nil {
				t.Fatal(err)
			}
			sb.WriteString(strconv.Itoa(st) + " ")
		}
		return sb.String()
	}
	a, b := run(cfg), run(cfg)
	if a != b {
		t.Errorf("same seed, different fault sequences:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "500") || !strings.Contains(a, "429") || !strings.Contains(a, "200") {
		t.Errorf("sequence %s lacks 500s, 429s or successes", a)
	}
	cfg.Seed = 12
	if c := run(cfg); c == a {
		t.Errorf("different seeds gave the same fault sequence %s", c)
	}
}
