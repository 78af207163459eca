package serve

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// metrics are the service's Prometheus metrics, counted over the runs this
// process ran or found in the history when it started.
type metrics struct {
	mu          sync.Mutex
	runs        map[string]float64 // by status
	rows        map[string]float64 // by table
	requests    map[string]float64 // by table
	limited     map[string]float64 // 429s by bucket
	waitSeconds float64
	durations   histogram
	lastSuccess time.Time
	next        time.Time
	running     bool
}

// durationBuckets are the sync duration histogram's upper bounds, seconds.
var durationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600}

type histogram struct {
	counts []float64 // per bucket, not cumulative
	sum    float64
	count  float64
}

func newMetrics() *metrics {
	return &metrics{runs: map[string]float64{}, rows: map[string]float64{}, requests: map[string]float64{},
		limited: map[string]float64{}, durations: histogram{counts: make([]float64, len(durationBuckets))}}
}

// restore takes the last success from a run of the history; its counts are
// the previous process's, which Prometheus counted then.
func (m *metrics) restore(r *Run) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.Status == "complete" && r.FinishedAt != nil && r.FinishedAt.After(m.lastSuccess) {
		m.lastSuccess = *r.FinishedAt
	}
}

// observe counts a finished run.
func (m *metrics) observe(r *Run) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[r.Status]++
	for _, t := range r.Tables {
		for name, n := range t.RowsByTable {
			m.rows[name] += float64(n)
		}
		m.requests[t.Table] += float64(t.Requests)
	}
	for _, b := range r.Buckets {
		m.limited[b.Bucket] += float64(b.RateLimited)
	}
	m.waitSeconds += r.RateWaitSeconds
	i, _ := slices.BinarySearch(durationBuckets, r.DurationSeconds)
	if i < len(m.durations.counts) {
		m.durations.counts[i]++
	}
	m.durations.sum += r.DurationSeconds
	m.durations.count++
	if r.Status == "complete" && r.FinishedAt != nil {
		m.lastSuccess = *r.FinishedAt
	}
}

func (m *metrics) setNext(at time.Time) {
	m.mu.Lock()
	m.next = at
	m.mu.Unlock()
}

func (m *metrics) setRunning(on bool) {
	m.mu.Lock()
	m.running = on
	m.mu.Unlock()
}

// write prints the metrics in Prometheus' text exposition format 0.0.4.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	counter := func(name, help, label string, values map[string]float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		for _, k := range slices.Sorted(maps.Keys(values)) {
			fmt.Fprintf(w, "%s{%s=\"%s\"} %s\n", name, label, escapeLabel(k), num(values[k]))
		}
	}
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, num(v))
	}
	counter("oktasync_sync_runs_total", "Syncs ended, by status.", "status", m.runs)
	counter("oktasync_rows_total", "Rows written, by table.", "table", m.rows)
	counter("oktasync_requests_total", "Requests sent to the org, by table.", "table", m.requests)
	counter("oktasync_rate_limited_total", "Answers of 429 Too Many Requests, by rate-limit bucket.", "bucket", m.limited)
	fmt.Fprintf(w, "# HELP oktasync_rate_limit_wait_seconds_total Time tables waited on rate limits.\n"+
		"# TYPE oktasync_rate_limit_wait_seconds_total counter\noktasync_rate_limit_wait_seconds_total %s\n", num(m.waitSeconds))
	const h = "oktasync_sync_duration_seconds"
	fmt.Fprintf(w, "# HELP %s Duration of syncs.\n# TYPE %s histogram\n", h, h)
	cum := 0.0
	for i, le := range durationBuckets {
		cum += m.durations.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %s\n", h, num(le), num(cum))
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %s\n%s_sum %s\n%s_count %s\n", h, num(m.durations.count), h, num(m.durations.sum), h, num(m.durations.count))
	gauge("oktasync_last_success_timestamp_seconds", "When the last complete sync ended (Unix time; 0: none).", unix(m.lastSuccess))
	gauge("oktasync_next_sync_timestamp_seconds", "When the next scheduled sync starts (Unix time; 0: none scheduled).", unix(m.next))
	running := 0.0
	if m.running {
		running = 1
	}
	gauge("oktasync_sync_running", "1 while a sync runs.", running)
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func num(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escapeLabel escapes a label value as the format requires.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
