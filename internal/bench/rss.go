package bench

import (
	"bytes"
	"context"
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
	"syscall"
	"time"

	"oktasync/internal/connector"
	"oktasync/oktasim"
)

// ChildCommand is the hidden subcommand of oktabench that runs one sync in a
// process of its own, so that the OS can tell its peak memory.
const ChildCommand = "rss-child"

// childResult is what a child prints.
type childResult struct {
	Rows     int64         `json:"rows"`
	Requests int           `json:"requests"`
	Wall     time.Duration `json:"wall"`
	// GoHeap and GoSys are the highest Go heap in use and memory the Go
	// runtime held from the OS, sampled every 100ms: what is not Go is
	// DuckDB's.
	GoHeap uint64 `json:"go_heap"`
	GoSys  uint64 `json:"go_sys"`
	// HWM is the peak resident set size of this process's address space
	// (VmHWM), in KiB; 0 where /proc is missing.
	HWM int64 `json:"vm_hwm_kib"`
}

// RSSRun is the peak memory of a System Log sync.
type RSSRun struct {
	Logs  int
	Rows  int64
	Wall  time.Duration
	MaxMB float64 // peak resident set size of the syncing process
	// GoHeapMB and GoSysMB are the child's peak Go heap in use and Go
	// runtime memory; the rest of the RSS is DuckDB's (and the binary's).
	GoHeapMB, GoSysMB float64
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, *now)
	if err != nil {
		return fmt.Errorf("now: %w", err)
	}
	cfg := &connector.Config{
		OrgURL: *url, Token: token, Destination: connector.Destination{Path: *db},
		Tables: []string{"system_log"}, TimeScale: *scale,
	}
	settings, err := ParseSettings(*set)
	if err != nil {
		return err
	}
	cfg.Destination.Settings = settings
	opt := connector.SyncOptions{Now: func() time.Time { return t }}
	var r childResult
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms goruntime.MemStats
			goruntime.ReadMemStats(&ms)
			r.GoHeap, r.GoSys = max(r.GoHeap, ms.HeapInuse), max(r.GoSys, ms.Sys)
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
	if v := procField("/proc/self/status", "VmHWM"); v != "" {
		r.HWM, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	}
	for _, t := range sum.Tables {
		r.Requests += t.Requests
		for _, n := range t.Rows {
			r.Rows += n
		}
	}
	return json.NewEncoder(stdout).Encode(r)
}

// measureRSS serves an org of logs System Log events and syncs it in a child
// process (self, the oktabench binary), which reports its peak RSS as the OS
// counts it (VmHWM). The simulator stays in this process, so the figure is
// the sync's alone.
func measureRSS(ctx context.Context, self string, org Org, logs int, dir string, scale float64, settings map[string]string) (*RSSRun, error) {
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
		"-duckdb", FormatSettings(settings))
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
	return &RSSRun{Logs: logs, Rows: r.Rows, Wall: r.Wall, MaxMB: float64(peak) / 1024,
		GoHeapMB: float64(r.GoHeap) / (1 << 20), GoSysMB: float64(r.GoSys) / (1 << 20)}, nil
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
