package connector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"oktasync/generated/okta"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/fetch"
)

// SyncOptions are what a sync run needs besides the config.
type SyncOptions struct {
	Logger *slog.Logger
	// Now fixes the clock (tests, the demo's simulated org); nil is time.Now.
	Now func() time.Time
	// Progress receives table reports as batches commit.
	Progress func(runtime.TableReport)
	// OpenDest overrides how the destination is opened (tests inject crashes).
	OpenDest func(path string) (runtime.Destination, error)
	// Fetch adjusts the HTTP client configuration (tests shorten retries).
	Fetch func(*fetch.Config)
}

// Sync runs one sync of the configured org into the configured destination.
// The returned error is runtime.ErrPartial when some tables were skipped or
// failed; the summary says which and why.
func Sync(ctx context.Context, cfg *Config, opt SyncOptions) (*runtime.Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := newClient(cfg, opt)
	if err != nil {
		return nil, err
	}
	sel, err := selection(cfg)
	if err != nil {
		return nil, err
	}
	// Before the destination is opened: a sync that cannot start creates no file.
	if err := probeOrg(ctx, client); err != nil {
		return nil, err
	}
	open := opt.OpenDest
	if open == nil {
		open = func(path string) (runtime.Destination, error) {
			settings := maps.Clone(DefaultDuckDBSettings)
			maps.Copy(settings, cfg.Destination.Settings)
			return duckdb.Open(path, duckdb.Options{Logger: opt.Logger, Settings: settings})
		}
	}
	path := cfg.Destination.Path
	if path == "" {
		path = "okta.duckdb"
	}
	dest, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("open destination %s: %w", path, err)
	}
	eng := &runtime.Engine{
		Registry: okta.Registry,
		Fetcher:  client,
		Dest:     dest,
		Now:      opt.Now,
		Select:   sel,
		Parallel: cfg.Parallel,
		Logger:   opt.Logger,
		Progress: opt.Progress,
	}
	if d := cfg.ReimportEvery(); d > 0 {
		eng.ReimportEvery = map[string]time.Duration{}
		for _, t := range okta.Registry.Tables {
			eng.ReimportEvery[t.Name] = d
		}
	}
	sum, err := eng.Sync(ctx)
	// Closing checkpoints the write-ahead log into the database file; a
	// failure there loses nothing (the log replays on the next open) but
	// must not pass for a clean sync.
	if cerr := dest.Close(); cerr != nil && (err == nil || errors.Is(err, runtime.ErrPartial)) {
		err = errors.Join(err, fmt.Errorf("close destination %s: %w", path, cerr))
	}
	return sum, err
}

// probePath is what a sync and a check ask first: the token's own user,
// which any valid token may read.
const probePath = "/api/v1/users/me"

// probeOrg asks the org once, without retries and within seconds, so that an
// unreachable org or a refused token fails fast, in one line, before any
// table runs or any file is created.
func probeOrg(ctx context.Context, client *fetch.Client) error {
	// MERGE(C3): fetch.Client.Probe comes with the fetch branch; until then
	// this assertion fails and nothing is probed. Once merged, call
	// client.Probe(ctx, probePath) directly and drop the assertion.
	p, ok := any(client).(interface {
		Probe(ctx context.Context, path string) error
	})
	if !ok {
		return nil
	}
	err := p.Probe(ctx, probePath)
	if errors.Is(err, fetch.ErrUnauthorized) {
		return fmt.Errorf("the org refused the API token (check %s, or the variable the config's token_env names): %w", EnvToken, err)
	}
	return err
}

// selection turns the config's table lists into the engine's filter,
// refusing names that are not tables.
func selection(cfg *Config) (func(string) bool, error) {
	known := map[string]bool{}
	for _, t := range okta.Registry.Tables {
		known[t.Name] = true
	}
	for _, n := range slices.Concat(cfg.Tables, cfg.Exclude) {
		if !known[n] {
			if okta.Registry.Lookup(n) != nil {
				return nil, fmt.Errorf("table %q is a child table; select its parent", n)
			}
			return nil, fmt.Errorf("unknown table %q; `oktasync tables` lists them", n)
		}
	}
	if len(cfg.Tables) == 0 && len(cfg.Exclude) == 0 {
		return nil, nil
	}
	return func(name string) bool {
		if slices.Contains(cfg.Exclude, name) {
			return false
		}
		return len(cfg.Tables) == 0 || slices.Contains(cfg.Tables, name)
	}, nil
}

func httpClientWithCA(file string) (*http.Client, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}

// statusOf is how a table's outcome reads in a summary: a table the sync
// stopped in the middle (an interrupt) was stopped, not failed, and resumes;
// one it never reached was not started.
func statusOf(r runtime.TableReport) (status, note string) {
	switch {
	case r.Status == runtime.StatusNotStarted:
		return string(r.Status), ""
	case r.Status == runtime.StatusFailed && errors.Is(r.Err, context.Canceled):
		return "stopped", ""
	}
	return string(r.Status), r.Reason
}

// PrintSummary writes the per-table summary: one line per table and child
// table, then the total.
func PrintSummary(w io.Writer, s *runtime.Summary) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSTATUS\tMODE\tREQUESTS\tROWS\tINVALID\tTIME\tRATE WAIT\tNOTE")
	var total int64
	reports := slices.Clone(s.Tables)
	for _, r := range reports {
		t := okta.Registry.Lookup(r.Table)
		status, note := statusOf(r)
		if r.Deleted {
			note = strings.TrimSpace("deletes captured " + note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", r.Table, status, r.Mode, r.Requests, r.Rows[r.Table], r.Invalid,
			r.Duration.Round(time.Millisecond), r.Waited.Round(time.Millisecond), note)
		total += r.Rows[r.Table]
		if t == nil {
			continue
		}
		var children []string
		var walk func(t *runtime.Table)
		walk = func(t *runtime.Table) {
			for _, c := range t.Children {
				children = append(children, c.Name)
				walk(c)
			}
		}
		walk(t)
		sort.Strings(children)
		for _, c := range children {
			fmt.Fprintf(tw, "  %s\t\t\t\t%d\t\t\t\t\n", c, r.Rows[c])
			total += r.Rows[c]
		}
	}
	status := "complete"
	if s.Partial() {
		status = "partial"
	}
	fmt.Fprintf(tw, "TOTAL\t%s\t\t\t%d\t\t\t\t\n", status, total)
	tw.Flush()
}
