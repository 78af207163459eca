package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/dest/postgres"
	"oktasync/runtime/fetch"
)

// simServer is a simulator listening on loopback.
type simServer struct {
	*oktasim.Sim
	URL string
}

func startSim(cfg oktasim.Config) (*simServer, error) {
	s, err := oktasim.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	return &simServer{Sim: s, URL: url}, nil
}

// syncSpec says how one sync runs.
type syncSpec struct {
	DB        string
	Exclude   []string // tables left out; all others sync
	TimeScale float64  // the simulator's, given to the client too
	// Settings are DuckDB settings to try on top of the connector's defaults.
	Settings map[string]string
	// Observe, when set, wraps the client's transport (counting what the
	// client receives).
	Observe func(http.RoundTripper) http.RoundTripper
	// Tables are the config's table settings (history mode, hashing).
	Tables map[string]connector.TableConfig
	// Record, when set, receives every request the sync made.
	Record *[]fetched
	// KeepRawJSON syncs system_log.raw_json, which the bench's syncs
	// otherwise block (see withoutRawJSON).
	KeepRawJSON bool
	// PostgresDSN, when set, syncs into this server's PostgresSchema
	// instead of DuckDB.
	PostgresDSN, PostgresSchema string
}

// withoutRawJSON returns tables with system_log.raw_json blocked. The
// bench's figures measure the work they measured before the raw event
// existed; what the raw event costs is a figure of its own
// (rawjson_vs_plain, rawjson_mb_per_1m; docs/PERFORMANCE.md).
func withoutRawJSON(tables map[string]connector.TableConfig) map[string]connector.TableConfig {
	out := make(map[string]connector.TableConfig, len(tables)+1)
	for k, v := range tables {
		out[k] = v
	}
	tc := out[logTable]
	cols := make(map[string]connector.ColumnConfig, len(tc.Columns)+1)
	for k, v := range tc.Columns {
		cols[k] = v
	}
	cols[rawJSONColumn] = connector.ColumnConfig{Enabled: new(false)}
	tc.Columns = cols
	out[logTable] = tc
	return out
}

// rawJSONColumn is system_log's column holding the whole event.
const rawJSONColumn = "raw_json"

// SyncRun is the outcome of one sync.
type SyncRun struct {
	Wall    time.Duration
	Summary *runtime.Summary
	// Server is what the simulator served during the sync.
	Server oktasim.Stats
	// Commit is the time the destination spent committing, by table.
	Commit map[string]time.Duration
	// Stages is the commit time by stage of the destination (duckdb.Stages:
	// staged is the time up to the end of staging, and so on).
	Stages map[string]time.Duration
}

// logTable is the table whose newest-first first sync the BENCH line times.
const logTable = "system_log"

// table is the report of one table of the sync.
func (r *SyncRun) table(name string) (runtime.TableReport, bool) {
	for _, t := range r.Summary.Tables {
		if t.Table == name {
			return t, true
		}
	}
	return runtime.TableReport{}, false
}

// CommitTotal is the time the destination spent committing.
func (r *SyncRun) CommitTotal() time.Duration {
	var d time.Duration
	for _, v := range r.Commit {
		d += v
	}
	return d
}

// timedDest times the commits of a destination, and with the crash points
// the DuckDB destination passes at the end of every stage of a commit, splits
// that time by stage. The destination commits one batch at a time anyway;
// holding our own lock around each commit keeps the wait for its lock out of
// the times.
type timedDest struct {
	runtime.Destination
	// concurrent lets commits run at once, as the PostgreSQL destination
	// does: only the time of each is added up (its stages are not split).
	concurrent bool
	mu         sync.Mutex
	busy       map[string]time.Duration
	stages     map[string]time.Duration
	last       time.Time
}

func (d *timedDest) Commit(ctx context.Context, b *runtime.Batch) error {
	if d.concurrent {
		start := time.Now()
		err := d.Destination.Commit(ctx, b)
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.busy == nil {
			d.busy = map[string]time.Duration{}
		}
		d.busy[b.Table.Name] += time.Since(start)
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	start := time.Now()
	d.last = start
	err := d.Destination.Commit(ctx, b)
	if d.busy == nil {
		d.busy = map[string]time.Duration{}
	}
	d.busy[b.Table.Name] += time.Since(start)
	return err
}

// stage is the destination's crash point: it notes the time since the last
// stage ended and never crashes. Commits hold d.mu while it runs.
func (d *timedDest) stage(name string) error {
	now := time.Now()
	if d.stages == nil {
		d.stages = map[string]time.Duration{}
	}
	if !d.last.IsZero() {
		d.stages[name] += now.Sub(d.last)
	}
	d.last = now
	return nil
}

// Rows is the number of rows the sync wrote, children included.
func (r *SyncRun) Rows() int64 {
	var n int64
	for _, t := range r.Summary.Tables {
		for _, v := range t.Rows {
			n += v
		}
	}
	return n
}

// Requests is the number of requests the engine reports.
func (r *SyncRun) Requests() int64 {
	var n int64
	for _, t := range r.Summary.Tables {
		n += int64(t.Requests)
	}
	return n
}

// runSync runs connector.Sync, the code path of `oktasync sync`, against the
// simulator, on the simulator's org clock.
func runSync(ctx context.Context, s *simServer, spec syncSpec) (*SyncRun, error) {
	cfg := &connector.Config{
		OrgURL: s.URL, Token: token,
		Destination: connector.Destination{Type: "duckdb", Path: spec.DB},
		TimeScale:   spec.TimeScale,
		Tables:      spec.Tables,
	}
	if !spec.KeepRawJSON {
		cfg.Tables = withoutRawJSON(spec.Tables)
	}
	opt := connector.SyncOptions{Now: s.Now, Skip: spec.Exclude}
	timed := &timedDest{}
	opt.OpenDest = func(path string) (runtime.Destination, error) {
		var d runtime.Destination
		var err error
		if spec.PostgresDSN != "" {
			timed.concurrent = true
			d, err = postgres.Open(ctx, spec.PostgresDSN, postgres.Options{Schema: spec.PostgresSchema})
		} else {
			d, err = duckdb.Open(path, duckdb.Options{Settings: destSettings(spec.Settings), CrashPoint: timed.stage})
		}
		if err != nil {
			return nil, err
		}
		timed.Destination = d
		return timed, nil
	}
	if spec.Observe != nil {
		opt.Fetch = func(c *fetch.Config) {
			// The client tunes its own transport only when given none: do as it does.
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = c.MaxConcurrent
			c.HTTPClient = &http.Client{Transport: spec.Observe(tr)}
		}
	}
	var rec *recorder
	if spec.Record != nil {
		opt.WrapFetcher = func(c *fetch.Client) runtime.Fetcher {
			rec = &recorder{Client: c}
			return rec
		}
	}
	s.ResetStats()
	start := time.Now()
	sum, err := connector.Sync(ctx, cfg, opt)
	wall := time.Since(start)
	if rec != nil {
		*spec.Record = rec.reqs
	}
	if err != nil {
		if sum != nil && errors.Is(err, runtime.ErrPartial) {
			return nil, fmt.Errorf("sync: %w: %s", err, failures(sum))
		}
		return nil, fmt.Errorf("sync: %w", err)
	}
	return &SyncRun{Wall: wall, Summary: sum, Server: s.Stats(), Commit: timed.busy, Stages: timed.stages}, nil
}

// destSettings are the DuckDB settings connector.Sync opens its destination
// with (its defaults, then the config's), the config's being those under test.
func destSettings(test map[string]string) map[string]string {
	s := maps.Clone(connector.DefaultDuckDBSettings)
	if s == nil {
		s = map[string]string{}
	}
	maps.Copy(s, test)
	return s
}

func failures(sum *runtime.Summary) string {
	var out []string
	for _, t := range sum.Tables {
		if t.Status != runtime.StatusOK {
			out = append(out, t.Table+": "+t.Reason)
		}
	}
	return fmt.Sprint(out)
}

// selected lists the top-level and fan-out tables a sync that leaves out
// exclude covers.
func selected(exclude []string) []*runtime.Table {
	var out []*runtime.Table
	for _, t := range okta.Registry.Tables {
		if !slices.Contains(exclude, t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
