package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"oktasync/internal/connector"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/dest/postgres"
)

// ChildCommand is the hidden subcommand of oktabench that runs one sync in a
// process of its own, so that the OS can tell its peak memory.
const ChildCommand = "rss-child"

// childResult is what a child prints.
type childResult struct {
	Rows     int64         `json:"rows"`
	Requests int           `json:"requests"`
	Wall     time.Duration `json:"wall"`
	// GoHeap is the highest Go heap in use, sampled every 100ms.
	GoHeap uint64 `json:"go_heap"`
	// HWM is the peak resident set size of this process's address space
	// (VmHWM), in KiB; 0 where /proc is missing.
	HWM int64 `json:"vm_hwm_kib"`
	// Split is the sample with the highest resident set size taken while
	// the database was open.
	Split memSplit `json:"split"`
}

// memSplit divides one sample of the resident set, in bytes: the Go
// runtime's memory (what it holds from the OS less what it returned) and
// DuckDB's buffer pool (duckdb_memory(), what memory_limit caps); the rest
// is the binary and what DuckDB allocates outside its pool.
type memSplit struct {
	RSS    int64 `json:"rss"`
	Go     int64 `json:"go"`
	DuckDB int64 `json:"duckdb_pool"`
}

// RSSRun is the peak memory of a System Log sync.
type RSSRun struct {
	Logs  int
	Rows  int64
	Wall  time.Duration
	MaxMB float64 // peak resident set size of the syncing process
	// GoHeapMB is the child's peak Go heap in use.
	GoHeapMB float64
	// At the sample with the highest resident set: its size, the Go
	// runtime's part and DuckDB's buffer pool.
	SampleMB, GoMB, DuckDBPoolMB float64
}

// Child runs the sync a parent asked for (args: -url, -db, -now, -scale):
// system_log only, as `oktasync sync` would, and prints a childResult.
func Child(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(ChildCommand, flag.ContinueOnError)
	url := fs.String("url", "", "simulator URL")
	db := fs.String("db", "", "database file")
	now := fs.String("now", "", "org clock, RFC 3339")
	scale := fs.Float64("scale", 1, "time scale")
	set := fs.String("duckdb", "", "DuckDB settings k=v,... on top of the connector's defaults")
	pgSchema := fs.String("pg-schema", "", "sync into this PostgreSQL schema of the server $"+EnvPostgresDSN+" names instead of DuckDB")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, *now)
	if err != nil {
		return fmt.Errorf("now: %w", err)
	}
	cfg := &connector.Config{
		OrgURL: *url, Token: token, Destination: connector.Destination{Path: *db},
		TimeScale: *scale,
		Tables:    withoutRawJSON(nil),
	}
	settings, err := ParseSettings(*set)
	if err != nil {
		return err
	}
	opt := connector.SyncOptions{Now: func() time.Time { return t }, Only: []string{"system_log"}}
	var r childResult
	var mu sync.Mutex
	var dest *duckdb.DB
	// sample notes the Go heap and, while the database answers, splits the
	// resident set if it is the highest yet; closing the database (its last
	// checkpoint) shows in the peak alone.
	sample := func() {
		mu.Lock()
		defer mu.Unlock()
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		r.GoHeap = max(r.GoHeap, ms.HeapInuse)
		if rss := procKiB("/proc/self/status", "VmRSS") << 10; rss > r.Split.RSS {
			if pool, ok := bufferPool(dest); ok {
				r.Split = memSplit{RSS: rss, Go: int64(ms.Sys - ms.HeapReleased), DuckDB: pool}
			}
		}
	}
	// The destination connector.Sync would open, sampled once more before it
	// closes, so that even a sync shorter than a tick is split.
	opt.OpenDest = func(path string) (runtime.Destination, error) {
		if *pgSchema != "" {
			d, err := postgres.Open(ctx, os.Getenv(EnvPostgresDSN), postgres.Options{Schema: *pgSchema})
			if err != nil {
				return nil, err
			}
			return &sampledPG{DB: d, sample: sample}, nil
		}
		d, err := duckdb.Open(path, duckdb.Options{Settings: destSettings(settings)})
		if err != nil {
			return nil, err
		}
		mu.Lock()
		dest = d
		mu.Unlock()
		return &sampledDest{DB: d, sample: sample}, nil
	}
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	sum, err := connector.Sync(ctx, cfg, opt)
	r.Wall = time.Since(start)
	close(done)
	<-sampled
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	r.HWM = procKiB("/proc/self/status", "VmHWM")
	for _, t := range sum.Tables {
		r.Requests += t.Requests
		for _, n := range t.Rows {
			r.Rows += n
		}
	}
	return json.NewEncoder(stdout).Encode(r)
}

// sampledDest takes a memory sample before the database closes.
type sampledDest struct {
	*duckdb.DB
	sample func()
}

func (d *sampledDest) Close() error {
	d.sample()
	return d.DB.Close()
}

// sampledPG takes a memory sample before the database closes.
type sampledPG struct {
	*postgres.DB
	sample func()
}

func (d *sampledPG) Close() error {
	d.sample()
	return d.DB.Close()
}

// measureRSS serves an org of logs System Log events and syncs it in a child
// process (self, the oktabench binary), which reports its peak RSS as the OS
// counts it (VmHWM). The simulator stays in this process, so the figure is
// the sync's alone.
func measureRSS(ctx context.Context, self string, org Org, logs int, dir string, scale float64, settings map[string]string) (*RSSRun, error) {
	return measureRSSInto(ctx, self, org, logs, dir, scale, settings, "", "")
}

// measureRSSInto is measureRSS into the PostgreSQL schema pgSchema of the
// server at pgDSN, when set.
func measureRSSInto(ctx context.Context, self string, org Org, logs int, dir string, scale float64, settings map[string]string, pgDSN, pgSchema string) (*RSSRun, error) {
	o := org
	o.Logs = logs
	s, err := startSim(o.simConfig(oktasim.RateLimitsOff, scale))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	db := filepath.Join(dir, "rss-"+strconv.Itoa(logs)+".duckdb")
	cmd := exec.CommandContext(ctx, self, ChildCommand, "-url", s.URL, "-db", db,
		"-now", s.Now().Format(time.RFC3339Nano), "-scale", strconv.FormatFloat(scale, 'g', -1, 64),
		"-duckdb", FormatSettings(settings), "-pg-schema", pgSchema)
	if pgDSN != "" {
		cmd.Env = append(os.Environ(), EnvPostgresDSN+"="+pgDSN)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("rss child (%d logs): %w: %s", logs, err, bytes.TrimSpace(errb.Bytes()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil, errors.New("rss child: no resource usage from the OS")
	}
	var r childResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("rss child: %w", err)
	}
	os.Remove(db)
	os.Remove(db + ".wal")
	// Linux reports ru_maxrss in KiB. It is the child's peak only when the
	// child outgrows this process: Go starts children with vfork, so they
	// inherit the parent's high-water mark until exec. VmHWM, read by the
	// child itself, belongs to its own address space.
	peak := ru.Maxrss
	if r.HWM > 0 {
		peak = r.HWM
	}
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	return &RSSRun{Logs: logs, Rows: r.Rows, Wall: r.Wall, MaxMB: float64(peak) / 1024,
		GoHeapMB: mb(int64(r.GoHeap)), SampleMB: mb(r.Split.RSS), GoMB: mb(r.Split.Go), DuckDBPoolMB: mb(r.Split.DuckDB)}, nil
}

// procKiB reads a "<n> kB" field of a /proc status file; 0 when missing.
func procKiB(path, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(procField(path, name), "kB")), 10, 64)
	return n
}

// bufferPool is the memory DuckDB's buffer manager holds, in bytes: the
// part of DuckDB's memory that memory_limit caps; false before the database
// opens, after it closes, or when it cannot tell.
func bufferPool(d *duckdb.DB) (int64, bool) {
	if d == nil {
		return 0, false
	}
	var n sql.NullInt64
	if err := d.SQL().QueryRow("SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory()").Scan(&n); err != nil {
		return 0, false
	}
	return n.Int64, true
}

// ParseSettings reads DuckDB settings written as k=v,k=v.
func ParseSettings(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("duckdb setting %q: want name=value", kv)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}

// FormatSettings writes settings as ParseSettings reads them, sorted.
func FormatSettings(m map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
