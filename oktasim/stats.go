package oktasim

import (
	"strconv"
	"sync"
)

// Stats counts what the simulator served since start or the last ResetStats.
type Stats struct {
	// Requests counts API requests (not /__sim/*).
	Requests int64 `json:"requests"`
	// ByEndpoint counts requests per route pattern, e.g. "GET /api/v1/users/{id}".
	ByEndpoint map[string]int64 `json:"byEndpoint"`
	// ByStatus counts responses per HTTP status code.
	ByStatus map[string]int64 `json:"byStatus"`
	// RateLimited counts every 429 served (per-minute, concurrency and storms).
	RateLimited int64 `json:"rateLimited"`
	// ConcurrencyLimited counts 429s caused by the concurrent-request limit.
	ConcurrencyLimited int64 `json:"concurrencyLimited"`
	// Faults counts injected faults by kind (500, 502, 503, 504, reset,
	// truncate, slow, 429storm).
	Faults map[string]int64 `json:"faults"`
	// FaultsTotal is the sum of Faults.
	FaultsTotal int64 `json:"faultsTotal"`
}

type statsState struct {
	mu sync.Mutex
	st Stats
}

func (ss *statsState) reset() {
	ss.mu.Lock()
	ss.st = Stats{ByEndpoint: map[string]int64{}, ByStatus: map[string]int64{}, Faults: map[string]int64{}}
	ss.mu.Unlock()
}

func (ss *statsState) request(endpoint string) {
	ss.mu.Lock()
	ss.st.Requests++
	ss.st.ByEndpoint[endpoint]++
	ss.mu.Unlock()
}

func (ss *statsState) status(code int) {
	ss.mu.Lock()
	ss.st.ByStatus[strconv.Itoa(code)]++
	ss.mu.Unlock()
}

func (ss *statsState) rateLimited() {
	ss.mu.Lock()
	ss.st.RateLimited++
	ss.mu.Unlock()
}

func (ss *statsState) concurrencyLimited() {
	ss.mu.Lock()
	ss.st.ConcurrencyLimited++
	ss.mu.Unlock()
}

func (ss *statsState) fault(kind string) {
	ss.mu.Lock()
	ss.st.Faults[kind]++
	ss.st.FaultsTotal++
	ss.mu.Unlock()
}

func (ss *statsState) snapshot() Stats {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := ss.st
	out.ByEndpoint = cloneMap(ss.st.ByEndpoint)
	out.ByStatus = cloneMap(ss.st.ByStatus)
	out.Faults = cloneMap(ss.st.Faults)
	return out
}

func cloneMap(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Stats returns a snapshot of the counters (also served at GET /__sim/stats).
func (s *Sim) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters (also POST /__sim/stats/reset).
func (s *Sim) ResetStats() { s.stats.reset() }
