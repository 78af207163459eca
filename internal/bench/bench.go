// Package bench measures oktasync against the physical ceilings of the
// machine it runs on: a full sync into DuckDB against the in-process
// simulator, each stage of it alone (fetch, extract, append), a sync under
// Okta's rate limits against the lower bound those limits imply, the peak
// memory of System Log syncs, and the requests of an incremental sync.
// cmd/oktabench prints the result; docs/PERFORMANCE.md explains each figure.
package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"oktasync/internal/connector"
	"oktasync/oktasim"
)

// Sections of a run.
const (
	SecThroughput  = "throughput"
	SecCeilings    = "ceilings"
	SecIncremental = "incremental"
	SecRateLimited = "ratelimited"
	SecMemory      = "memory"
	SecSettings    = "settings"
	SecModels      = "models"
	SecPostgres    = "postgres"
)

// Sections lists every section in the order they run: the ceilings and the
// incremental sync start from the throughput sync's org and database.
var Sections = []string{SecThroughput, SecCeilings, SecIncremental, SecRateLimited, SecSettings, SecMemory, SecModels, SecPostgres}

// Config sizes and steers a run.
type Config struct {
	Quick bool
	// Org is synced for throughput, ceilings and the incremental sync.
	Org Org
	// RateOrg is synced under rate limits, and without them for reference.
	RateOrg Org
	// RSSLogs are the System Log sizes of the two memory runs (the BENCH line
	// names them 100k and 1m whatever they are).
	RSSLogs [2]int
	// Demo is the demo org the models section syncs and builds the data
	// models on (make demo's, connector.DefaultDemo).
	Demo connector.DemoOptions
	// Exclude leaves tables out of every sync.
	Exclude []string
	// TimeScale runs the simulator's and the client's rate-limit clocks this
	// much faster in the unlimited syncs, so that pacing on the simulator's
	// headers never binds.
	TimeScale float64
	// RateFactor and MinWindow choose the rate-limited run's time scale: its
	// bound is RateFactor times the unlimited sync's wall time, unless that
	// makes a window shorter than MinWindow. The CPU work then takes a small
	// part of the wall time, and a fixed delay of the sync (a fan-out table
	// waiting for its parent table's commit) less of a window; at Okta's
	// real minute it would take less still.
	RateFactor float64
	MinWindow  time.Duration
	// RateWindows are the smaller orgs synced under Okta's limits too, by
	// the windows their binding bucket needs (RateOrg scaled down to it).
	RateWindows []float64
	// FetchWorkers is the concurrency of the fetch-only replay (the client's
	// cap in connector.Sync); Workers that of extract- and append-only.
	FetchWorkers, Workers int
	// ChunkBytes bounds the pages held in memory by extract- and append-only.
	ChunkBytes int
	// Dir holds the databases; Self is the oktabench binary, run as the
	// child of the memory runs.
	Dir, Self string
	// Only runs these sections (and what they need); empty runs all.
	Only []string
	// Settings are DuckDB settings to try on top of the connector's
	// defaults (experiments; the published figures use none).
	Settings map[string]string
	// CPUProfile and MemProfile, when set, are written for the throughput
	// sync: its CPU profile, and the allocations made up to its end.
	CPUProfile, MemProfile string
	// Log receives a line as each step starts; nil discards them.
	Log io.Writer
}

// NPlusOne are the tables read with one request per user. They are left out
// by default: a request per user and table for about 2.7 rows, which makes a
// sync's time a matter of request count rather than of rows.
var NPlusOne = []string{"user_enrolled_factor", "user_authenticator_enrollment"}

// Defaults is the full configuration, or the quick one.
func Defaults(quick bool) Config {
	c := Config{
		Quick:        quick,
		Org:          Org{Seed: 1, Users: 100_000, Groups: 4_000, Apps: 200, Devices: 50_000, Logs: 1_000_000},
		RSSLogs:      [2]int{100_000, 1_000_000},
		Demo:         connector.DefaultDemo,
		Exclude:      NPlusOne,
		TimeScale:    10_000,
		RateFactor:   3,
		MinWindow:    2 * time.Second,
		RateWindows:  []float64{1.2, 1.67, 2.5},
		FetchWorkers: 16,
		Workers:      defaultWorkers(),
		ChunkBytes:   32 << 20,
	}
	// The rate-limited orgs are smaller than Org (their syncs take several
	// times as long) and have more groups per user, so that one bucket
	// (groups: two requests per group) needs 20 (quick: 5) windows and just
	// over: the first window, which may be spent at once, weighs little, and
	// the fluid and strict bounds agree.
	c.RateOrg = Org{Seed: 1, Users: 20_000, Groups: 5_000, Apps: 40, Devices: 10_000, Logs: 200_000}
	if quick {
		c.Org = Org{Seed: 1, Users: 5_000, Groups: 200, Apps: 10, Devices: 2_500, Logs: 50_000}
		c.RateOrg = Org{Seed: 1, Users: 2_000, Groups: 1_250, Apps: 4, Devices: 1_000, Logs: 20_000}
		c.RSSLogs = [2]int{5_000, 50_000}
		c.Demo.Users, c.Demo.Groups, c.Demo.Devices, c.Demo.Logs = 1_000, 50, 300, 10_000
	}
	return c
}

// Result is everything a run measured.
type Result struct {
	Config  Config
	Machine Machine
	Wall    time.Duration
	// PeakMB is the peak RSS of the benchmark's own process: simulators,
	// in-process syncs and the ceilings' pages and rows.
	PeakMB float64

	Throughput *SyncRun
	Ceilings   *Ceilings
	// NoDest is the engine syncing the same org into a destination that
	// keeps nothing.
	NoDest time.Duration
	Rate   *RateRun
	// RateSizes are the orgs of Config.RateWindows under Okta's limits.
	RateSizes   []*RateRun
	RSS         []*RSSRun
	Incremental *IncRun
	Settings    *SettingsRun
	Models      *ModelsRun
	// Postgres is nil when no server was given (EnvPostgresDSN).
	Postgres *PostgresRun
}

func (c *Config) wants(sec string) bool {
	if len(c.Only) == 0 || slices.Contains(c.Only, sec) {
		return true
	}
	// Ceilings and the incremental sync start from the throughput sync.
	return sec == SecThroughput && (slices.Contains(c.Only, SecCeilings) || slices.Contains(c.Only, SecIncremental))
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "oktabench: "+format+"\n", args...)
	}
}

// Run runs the benchmark.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	res := &Result{Config: cfg, Machine: machine()}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "oktabench-")
		if err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	if cfg.wants(SecThroughput) {
		if err := throughputAndAfter(ctx, &cfg, res); err != nil {
			return nil, err
		}
	}
	if cfg.wants(SecRateLimited) {
		var err error
		if res.Rate, err = rateSection(ctx, &cfg, cfg.RateOrg, nil, true); err != nil {
			return nil, err
		}
		for _, w := range cfg.RateWindows {
			r, err := rateSized(ctx, &cfg, res.Rate, w)
			if err != nil {
				return nil, err
			}
			res.RateSizes = append(res.RateSizes, r)
		}
	}
	if cfg.wants(SecSettings) {
		var err error
		if res.Settings, err = settingsRuns(ctx, &cfg); err != nil {
			return nil, err
		}
	}
	if cfg.wants(SecMemory) {
		for _, n := range cfg.RSSLogs {
			cfg.logf("memory: system_log of %d events in a child process", n)
			r, err := measureRSS(ctx, cfg.Self, cfg.Org, n, cfg.Dir, cfg.TimeScale, cfg.Settings)
			if err != nil {
				return nil, err
			}
			res.RSS = append(res.RSS, r)
		}
	}
	if cfg.wants(SecModels) {
		var err error
		if res.Models, err = modelsRun(ctx, &cfg); err != nil {
			return nil, err
		}
	}
	if cfg.wants(SecPostgres) {
		var err error
		if res.Postgres, err = postgresSection(ctx, &cfg); err != nil {
			return nil, err
		}
	}
	res.Config = cfg
	res.Wall = time.Since(start)
	if v := procField("/proc/self/status", "VmHWM"); v != "" {
		kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 64)
		res.PeakMB = kb / 1024
	}
	return res, nil
}

// throughputAndAfter runs the throughput sync, then on the same org the
// ceilings (before the org changes) and the incremental sync.
func throughputAndAfter(ctx context.Context, cfg *Config, res *Result) error {
	cfg.logf("throughput: starting the simulated org (%s)", cfg.Org)
	s, err := startSim(cfg.Org.simConfig(oktasim.RateLimitsOff, cfg.TimeScale))
	if err != nil {
		return err
	}
	defer s.Close()
	spec := syncSpec{DB: filepath.Join(cfg.Dir, "throughput.duckdb"), Exclude: cfg.Exclude, TimeScale: cfg.TimeScale, Settings: cfg.Settings}
	cfg.logf("throughput: full sync")
	var stop func()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		stop = pprof.StopCPUProfile
	}
	var reqs []fetched
	if cfg.wants(SecCeilings) {
		spec.Record = &reqs
	}
	res.Throughput, err = runSync(ctx, s, spec)
	spec.Record = nil
	if stop != nil {
		stop()
	}
	if err != nil {
		return fmt.Errorf("throughput: %w", err)
	}
	if cfg.MemProfile != "" {
		if err := writeProfile(cfg.MemProfile, "allocs"); err != nil {
			return err
		}
	}
	if cfg.wants(SecCeilings) {
		tables := selected(cfg.Exclude)
		if err := extracts(reqs); err != nil {
			return err
		}
		cfg.logf("ceilings: the sync again, engine without destination")
		if res.NoDest, err = noDestination(ctx, s, tables, cfg.TimeScale); err != nil {
			return err
		}
		c := &Ceilings{FetchWorkers: cfg.FetchWorkers, Workers: cfg.Workers, Requests: len(reqs)}
		cfg.logf("ceilings: fetch-only, %d requests", len(reqs))
		if c.Fetch, c.Bytes, err = fetchOnly(ctx, s, reqs, cfg.TimeScale, cfg.FetchWorkers); err != nil {
			return err
		}
		cfg.logf("ceilings: extract-only and append-only")
		if err := extractAppend(ctx, s, reqs, tables, cfg.TimeScale, cfg.Dir, cfg.ChunkBytes, cfg.Settings, c); err != nil {
			return err
		}
		res.Ceilings = c
	}
	if cfg.wants(SecIncremental) {
		cfg.logf("incremental: 1%% churn, then a sync into the same database")
		if res.Incremental, err = incremental(ctx, s, cfg.Org, res.Throughput, spec); err != nil {
			return err
		}
	}
	return nil
}

func writeProfile(path, name string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("%s profile: %w", name, err)
	}
	return f.Close()
}

// rateSection syncs org without limits (its database the baseline), then
// under Okta's limits (rateLimited). sized, when set, is told the
// unlimited sync first and may refuse the org (too far from the windows
// it wants): rateSection then returns nil.
func rateSection(ctx context.Context, cfg *Config, org Org, sized func(*SyncRun) (bool, error), inc bool) (*RateRun, error) {
	cfg.logf("rate-limited: unlimited sync of %s", org)
	s, err := startSim(org.simConfig(oktasim.RateLimitsOff, cfg.TimeScale))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	baseDB := filepath.Join(cfg.Dir, "ratebase-"+strconv.Itoa(org.Groups)+".duckdb")
	os.Remove(baseDB)
	base, err := runSync(ctx, s, syncSpec{DB: baseDB, Exclude: cfg.Exclude, TimeScale: cfg.TimeScale, Settings: cfg.Settings})
	if err != nil {
		return nil, fmt.Errorf("rate-limited baseline: %w", err)
	}
	if sized != nil {
		if ok, err := sized(base); err != nil || !ok {
			return nil, err
		}
	}
	cfg.logf("rate-limited: sync under Okta's limits (unlimited took %s)", base.Wall.Round(time.Millisecond))
	return rateLimited(ctx, cfg, org, base, baseDB, inc)
}

// rateSized syncs, under Okta's limits, RateOrg scaled so that its binding
// bucket needs about windows windows (within 3%; the requests a table
// makes whatever the org's size keep the scale from being exact, so it is
// corrected from the unlimited sync up to three times).
func rateSized(ctx context.Context, cfg *Config, big *RateRun, windows float64) (*RateRun, error) {
	f := windows / big.Windows()
	for try := 0; ; try++ {
		org := cfg.RateOrg.Scaled(f)
		var got float64
		r, err := rateSection(ctx, cfg, org, func(base *SyncRun) (bool, error) {
			ld, err := bucketLoads(base)
			if err != nil {
				return false, err
			}
			_, binding := WorkBound(ld, 1, base.Wall)
			for _, l := range ld {
				if l.Bucket == binding {
					got = l.Minutes()
				}
			}
			return math.Abs(got/windows-1) <= 0.03 || try == 3, nil
		}, false)
		if err != nil || r != nil {
			return r, err
		}
		cfg.logf("rate-limited: %s needs %.2f windows, want %.2f; scaling again", org, got, windows)
		f *= windows / got
	}
}
