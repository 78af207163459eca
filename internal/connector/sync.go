package connector

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"oktasync/generated/okta"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/dest/postgres"
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
	// WrapFetcher, when set, stands between the engine and the client (the
	// benchmark records the sync's requests to replay exactly that work).
	// What it returns should keep the client's other methods (embed it):
	// the engine reads the server's clock and the buckets' stats from them.
	WrapFetcher func(*fetch.Client) runtime.Fetcher
	// Only limits the run to these top-level and fan-out tables (--tables);
	// Skip leaves these out (the benchmark's costly tables). Tables left
	// out of a run are left as they are, unlike tables the config blocks.
	Only, Skip []string
	// Resync names tables to re-import from scratch (child tables name
	// their top-level table; "*" all of them).
	Resync []string
	// BatchRows overrides the rows a batch collects before it commits
	// (tests cut syncs into many batches).
	BatchRows int
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
	client, err := newClient(ctx, cfg, opt, nil)
	if err != nil {
		return nil, err
	}
	sel, err := selection(opt)
	if err != nil {
		return nil, err
	}
	settings, err := cfg.Settings()
	if err != nil {
		return nil, err
	}
	if err := CheckTableNames("resync", opt.Resync); err != nil {
		return nil, err
	}
	// Before the destination is opened: a sync that cannot start creates no file.
	if err := probeOrg(ctx, cfg, client); err != nil {
		return nil, err
	}
	open := opt.OpenDest
	if open == nil {
		open = func(path string) (runtime.Destination, error) {
			return OpenDestination(ctx, cfg.Destination, opt.Logger)
		}
	}
	path := cfg.Destination.Name()
	dest, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("open destination %s: %w", path, err)
	}
	var fetcher runtime.Fetcher = client
	if opt.WrapFetcher != nil {
		fetcher = opt.WrapFetcher(client)
	}
	eng := &runtime.Engine{
		Registry:  okta.Registry,
		Fetcher:   fetcher,
		Dest:      dest,
		Now:       opt.Now,
		Select:    sel,
		Settings:  settings,
		Resync:    opt.Resync,
		BatchRows: opt.BatchRows,
		Parallel:  cfg.Parallel,
		Logger:    opt.Logger,
		Progress:  opt.Progress,
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

// OpenDestination opens the destination d names; logger receives its
// schema changes.
func OpenDestination(ctx context.Context, d Destination, logger *slog.Logger) (runtime.Destination, error) {
	if d.IsPostgres() {
		dsn := os.Getenv(d.DSNVar())
		if dsn == "" {
			return nil, fmt.Errorf("%s is not set: it holds the postgres destination's connection string, "+
				"e.g. postgres://user:password@host:5432/database", d.DSNVar())
		}
		return postgres.Open(ctx, dsn, postgres.Options{Schema: d.PostgresSchema(), Logger: logger})
	}
	settings := maps.Clone(DefaultDuckDBSettings)
	maps.Copy(settings, d.Settings)
	return duckdb.Open(d.DBPath(), duckdb.Options{Logger: logger, Settings: settings})
}

// ProbePath is what a sync and a check ask first: the token's own user,
// which any valid token may read.
const ProbePath = "/api/v1/users/me"

// probeOrg asks the org once, without retries and within seconds, so that an
// unreachable org or a refused token fails fast, in one line, before any
// table runs or any file is created. Its answer's Date also sets the
// server's clock, which the System Log's window is read on.
//
// A service app has already proven its credentials by getting its token;
// it may hold no user to be "me" (an answer of 403 or 404), which then
// says nothing more than that the org answers.
func probeOrg(ctx context.Context, cfg *Config, client *fetch.Client) error {
	err := client.Probe(ctx, ProbePath)
	switch {
	case cfg.Auth.OAuth() && errors.Is(err, fetch.ErrNotFound):
		return nil
	case cfg.Auth.OAuth() && errors.Is(err, fetch.ErrUnauthorized):
		return fmt.Errorf("the org refused the OAuth service app's access token: %w", err)
	case errors.Is(err, fetch.ErrUnauthorized):
		return fmt.Errorf("the org refused the API token (check %s, or the variable the config's token_env names): %w", EnvToken, err)
	}
	return err
}

// Selected lists the top-level and fan-out tables a run covers: those opt
// selects, less those the config blocks that no written child needs.
func Selected(cfg *Config, opt SyncOptions) ([]string, error) {
	sel, err := selection(opt)
	if err != nil {
		return nil, err
	}
	// Without the salt, which only a sync needs: check runs without it.
	var out []string
	for _, e := range cfg.runtimeSettings().Effective(okta.Registry) {
		t := e.Table
		if slices.Contains(okta.Registry.Tables, t) && (sel == nil || sel(t.Name)) && (e.Written || e.ReadForChildren) {
			out = append(out, t.Name)
		}
	}
	return out, nil
}

// selection turns the run's table lists into the engine's filter,
// refusing names that are not tables.
func selection(opt SyncOptions) (func(string) bool, error) {
	for _, n := range slices.Concat(opt.Only, opt.Skip) {
		if t := okta.Registry.Lookup(n); t != nil && !slices.Contains(okta.Registry.Tables, t) {
			return nil, fmt.Errorf("table %q is a child table; select its parent", n)
		}
	}
	if err := CheckTableNames("", slices.Concat(opt.Only, opt.Skip)); err != nil {
		return nil, err
	}
	if len(opt.Only) == 0 && len(opt.Skip) == 0 {
		return nil, nil
	}
	return func(name string) bool {
		if slices.Contains(opt.Skip, name) {
			return false
		}
		return len(opt.Only) == 0 || slices.Contains(opt.Only, name)
	}, nil
}

// CheckTableNames refuses names that are no table (child tables included),
// with the closest table name; "*" passes for a re-sync (what names it).
func CheckTableNames(what string, names []string) error {
	var all []string
	okta.Registry.Walk(func(t *runtime.Table) { all = append(all, t.Name) })
	var errs []error
	for _, n := range names {
		if slices.Contains(all, n) || n == "*" && what == "resync" {
			continue
		}
		msg := fmt.Sprintf("unknown table %q", n)
		if what != "" {
			msg = what + ": " + msg
		}
		if c := closest(n, all); c != "" {
			msg += "; did you mean " + c + "?"
		} else {
			msg += "; `oktasync tables` lists them"
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// caPool is the system's roots plus the certificates of file.
func caPool(file string) (*x509.CertPool, error) {
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
	return pool, nil
}

// statusOf is how a table's outcome reads in a summary: a table the sync
// stopped in the middle (an interrupt) was stopped, not failed, and resumes;
// one it never reached was not started.
func statusOf(r runtime.TableReport) (status, note string) {
	switch {
	case r.Status == runtime.StatusNotStarted:
		return string(r.Status), ""
	case cutShort(r):
		return "stopped", ""
	}
	return string(r.Status), r.Reason
}

// childTables lists t's child tables, grandchildren included, by name.
func childTables(t *runtime.Table) []string {
	var out []string
	var walk func(t *runtime.Table)
	walk = func(t *runtime.Table) {
		for _, c := range t.Children {
			out = append(out, c.Name)
			walk(c)
		}
	}
	if t != nil {
		walk(t)
	}
	sort.Strings(out)
	return out
}

// BadRecordJSON is one skipped record: the page it came in (redacted) and why.
type BadRecordJSON struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

// badRecords returns how many records of a table were skipped as unusable,
// with up to five examples (contract C2).
func badRecords(r runtime.TableReport) (int64, []BadRecordJSON) {
	out := make([]BadRecordJSON, 0, len(r.BadRecordSamples))
	for _, b := range r.BadRecordSamples {
		out = append(out, BadRecordJSON{URL: b.URL, Reason: b.Reason})
	}
	return r.BadRecords, out
}

// Exit statuses of a sync, shared by the command line and the service's
// run records.
const (
	ExitOK      = 0
	ExitFailed  = 1 // nothing or no table done: config, org, token, or every table failed
	ExitPartial = 3 // some tables done, some skipped (forbidden, feature off) or failed
)

// SyncResult is a finished sync's exit status, its outcome in a word
// (complete, partial, failed) and what to tell the user; an interrupted
// sync is for the caller to tell, who knows what stopped it.
func SyncResult(sum *runtime.Summary, err error) (code int, status, msg string) {
	if err == nil {
		return ExitOK, "complete", ""
	}
	if onlyPartial(err) && sum != nil && Failed(sum) {
		return ExitFailed, "failed", "sync failed: no table synced (see NOTE)"
	}
	if onlyPartial(err) {
		return ExitPartial, "partial", "sync incomplete: some tables were skipped or failed (see NOTE)"
	}
	return ExitFailed, "failed", err.Error()
}

// onlyPartial reports whether err says nothing but that some tables did not
// sync; a failure besides (closing the destination) is an error of its own.
func onlyPartial(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyPartial(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, runtime.ErrPartial)
}

// Outcome is a sync's result in one word: complete; failed when no table
// synced or an error no table can survive stopped it; interrupted when it
// was stopped before it ended; partial when some tables did not sync.
func Outcome(s *runtime.Summary) string {
	switch {
	case !s.Partial():
		return "complete"
	case stoppedByFatal(s):
		return "failed"
	case slices.ContainsFunc(s.Tables, cutShort):
		return "interrupted"
	case Failed(s):
		return "failed"
	}
	return "partial"
}

// Failed reports whether no table synced, or a table met an error that no
// request of the sync can survive (a refused token, fetch.ErrFatal): a
// failure of the whole sync (exit 1), not a partial one.
func Failed(s *runtime.Summary) bool {
	return stoppedByFatal(s) || !slices.ContainsFunc(s.Tables, func(r runtime.TableReport) bool {
		return r.Status == runtime.StatusOK
	})
}

func stoppedByFatal(s *runtime.Summary) bool {
	return slices.ContainsFunc(s.Tables, func(r runtime.TableReport) bool { return fatal(r.Err) })
}

// cutShort reports a table the sync never reached or stopped midway.
func cutShort(r runtime.TableReport) bool {
	return r.Status == runtime.StatusNotStarted || r.Status == runtime.StatusFailed && errors.Is(r.Err, context.Canceled)
}

// fatal reports errors that stop a whole sync (contract C4).
func fatal(err error) bool {
	return errors.Is(err, fetch.ErrUnauthorized) || errors.Is(err, fetch.ErrFatal)
}

// PrintSummary writes the per-table summary: one line per table and child
// table, then the totals; elapsed is the sync's wall time. Rate waits add
// up over tables that waited at the same time, so their total can exceed it.
func PrintSummary(w io.Writer, s *runtime.Summary, elapsed time.Duration) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSTATUS\tMODE\tREQUESTS\tROWS\tINVALID\tBAD\tTIME\tRATE WAIT\tNOTE")
	var rows, invalid, bad int64
	var requests int
	var waited time.Duration
	for _, r := range s.Tables {
		status, note := statusOf(r)
		nbad, samples := badRecords(r)
		if nbad > 0 {
			skipped := fmt.Sprintf("%d bad records skipped", nbad)
			if len(samples) > 0 {
				skipped += fmt.Sprintf(" (e.g. %s: %s)", samples[0].URL, samples[0].Reason)
			}
			note = strings.TrimSpace(skipped + "; " + note)
			note = strings.TrimSuffix(note, ";")
		}
		if r.Deleted {
			note = strings.TrimSpace("deletes captured " + note)
		}
		if r.Resync != "" {
			note = strings.TrimSuffix("re-imported: "+r.Resync+"; "+note, "; ")
		}
		if b := backfillNote(r); b != "" {
			note = strings.TrimSuffix(b+"; "+note, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.Table, status, r.Mode, r.Requests, r.Rows[r.Table], r.Invalid, nbad,
			r.Duration.Round(time.Millisecond), r.Waited.Round(time.Millisecond), note)
		rows += r.Rows[r.Table]
		for _, c := range childTables(okta.Registry.Lookup(r.Table)) {
			fmt.Fprintf(tw, "  %s\t\t\t\t%d\t\t\t\t\t\n", c, r.Rows[c])
			rows += r.Rows[c]
		}
		requests += r.Requests
		invalid += r.Invalid
		bad += nbad
		waited += r.Waited
	}
	fmt.Fprintf(tw, "TOTAL\t%s\t\t%d\t%d\t%d\t%d\t%s\t%s\t\n", Outcome(s), requests, rows, invalid, bad,
		elapsed.Round(time.Millisecond), waited.Round(time.Millisecond))
	tw.Flush()
	printBuckets(w, s.Buckets)
	printSchemaChanges(w, s.SchemaChanges)
}

// printBuckets lists the rate-limit buckets the sync used, one a line: the
// requests sent on it (retries included), the org's windows they fell in,
// the wall time during which requests waited on it (requests that waited
// together count once, unlike the tables' RATE WAIT), the 429s it got and
// its last known limit per window.
func printBuckets(w io.Writer, buckets map[string]fetch.BucketStats) {
	names := bucketNames(buckets)
	if len(names) == 0 {
		return
	}
	fmt.Fprintln(w, "\nrate-limit buckets:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  BUCKET\tREQUESTS\tWINDOWS\tWAITING\t429S\tLIMIT")
	for _, name := range names {
		b := buckets[name]
		limit := "unknown"
		if b.Limit > 0 {
			limit = fmt.Sprintf("%d", b.Limit)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%d\t%s\n", name, b.Requests, b.Windows, b.Held.Round(time.Millisecond), b.RateLimited, limit)
	}
	tw.Flush()
}

// bucketNames are the names of the buckets that sent requests, sorted.
func bucketNames(buckets map[string]fetch.BucketStats) []string {
	var names []string
	for name, b := range buckets {
		if b.Requests > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// backfillNote says how a newest-first table's first sync went: when its
// newest events were queryable, and how much of the backfill it did.
func backfillNote(r runtime.TableReport) string {
	var parts []string
	if r.NewestAt > 0 {
		parts = append(parts, "newest events queryable after "+r.NewestAt.Round(time.Millisecond).String())
	}
	switch {
	case r.BackfillLeft:
		parts = append(parts, fmt.Sprintf("backfill under way (%d older rows so far; the next sync goes on)", r.Backfilled))
	case r.Backfilled > 0:
		parts = append(parts, fmt.Sprintf("backfilled %d older rows", r.Backfilled))
	}
	return strings.Join(parts, ", ")
}

// maxSchemaChanges is how many schema changes a summary lists; the table
// _oktasync_schema_changes holds them all.
const maxSchemaChanges = 20

// printSchemaChanges lists the schema changes a sync made or refused, one a
// line: the table or column, its type, the decision and why.
func printSchemaChanges(w io.Writer, changes []runtime.SchemaChange) {
	if len(changes) == 0 {
		return
	}
	fmt.Fprintln(w, "\nschema changes:")
	for i, c := range changes {
		if i == maxSchemaChanges {
			fmt.Fprintf(w, "  ... and %d more (all in table %s)\n", len(changes)-i, runtime.SchemaChangesTable.Name)
			break
		}
		what := c.Table
		if c.Column != "" {
			what += "." + c.Column
		}
		if c.Type != "" {
			what += " (" + c.Type + ")"
		}
		line := "  " + what + ": " + c.Decision
		if c.Reason != "" {
			line += "; " + c.Reason
		}
		fmt.Fprintln(w, line)
	}
}

// SummaryJSON is what `oktasync sync --json` prints: snake_case names,
// durations in seconds, rows including child tables'.
type SummaryJSON struct {
	// Status is complete, partial, failed or interrupted.
	Status          string      `json:"status"`
	Error           string      `json:"error,omitempty"`
	Started         *time.Time  `json:"started,omitempty"`
	DurationSeconds float64     `json:"duration_seconds"`
	Requests        int         `json:"requests"`
	Rows            int64       `json:"rows"`
	RateWaitSeconds float64     `json:"rate_wait_seconds"`
	BadRecords      int64       `json:"bad_records"`
	Tables          []TableJSON `json:"tables"`
	// SchemaChanges are the schema changes the sync made or refused.
	SchemaChanges []SchemaChangeJSON `json:"schema_changes"`
	// Buckets are the rate-limit buckets that sent requests, by name.
	Buckets []BucketJSON `json:"buckets"`
}

// BucketJSON is one rate-limit bucket of SummaryJSON.
type BucketJSON struct {
	Bucket string `json:"bucket"`
	// Requests counts the requests sent on the bucket, retries included.
	Requests int64 `json:"requests"`
	// Windows counts the org's rate-limit windows the requests fell in.
	Windows int `json:"windows"`
	// WaitingSeconds is the wall time during which requests waited on the
	// bucket (its window spent, a 429's reset): requests that waited
	// together count once, unlike the tables' rate_wait_seconds.
	WaitingSeconds float64 `json:"waiting_seconds"`
	RateLimited    int64   `json:"rate_limited"`
	// Limit is the last known limit per window; 0 when none is known.
	Limit int `json:"limit"`
}

// SchemaChangeJSON is one runtime.SchemaChange; Column is empty for a
// change of a table.
type SchemaChangeJSON struct {
	At       time.Time `json:"at"`
	Table    string    `json:"table"`
	Column   string    `json:"column"`
	Type     string    `json:"type"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason"`
}

// TableJSON is one table of SummaryJSON.
type TableJSON struct {
	Table string `json:"table"`
	// Status is ok, skipped, failed, stopped (by an interrupt) or not started.
	Status string `json:"status"`
	Mode   string `json:"mode,omitempty"`
	// Rows counts the table's rows and its child tables'; RowsByTable
	// splits them.
	Rows             int64            `json:"rows"`
	RowsByTable      map[string]int64 `json:"rows_by_table"`
	Requests         int              `json:"requests"`
	RateWaitSeconds  float64          `json:"rate_wait_seconds"`
	DurationSeconds  float64          `json:"duration_seconds"`
	InvalidValues    int64            `json:"invalid_values"`
	BadRecords       int64            `json:"bad_records"`
	BadRecordSamples []BadRecordJSON  `json:"bad_record_samples,omitempty"`
	DeletesCaptured  bool             `json:"deletes_captured"`
	// Resync says why the table was re-imported from scratch this time.
	Resync string `json:"resync,omitempty"`
	// NewestSeconds, for a newest-first table whose forward read caught
	// up, is when its newest events were queryable; BackfilledRows how
	// many older rows its backfill wrote, BackfillLeft that some remain.
	NewestSeconds  float64 `json:"newest_seconds,omitempty"`
	BackfilledRows int64   `json:"backfilled_rows,omitempty"`
	BackfillLeft   bool    `json:"backfill_left,omitempty"`
	Error          string  `json:"error,omitempty"`
}

// NewSummaryJSON turns a summary (nil for a sync that never started) into
// SummaryJSON; the caller sets Status for outcomes the summary cannot tell
// (interrupted) and Error.
func NewSummaryJSON(s *runtime.Summary, elapsed time.Duration) *SummaryJSON {
	out := &SummaryJSON{Status: "failed", DurationSeconds: seconds(elapsed), Tables: []TableJSON{}, SchemaChanges: []SchemaChangeJSON{}, Buckets: []BucketJSON{}}
	if s == nil {
		return out
	}
	out.Status = Outcome(s)
	var waited time.Duration
	if !s.Started.IsZero() {
		out.Started = &s.Started
	}
	for _, r := range s.Tables {
		status, _ := statusOf(r)
		t := TableJSON{Table: r.Table, Status: status, Mode: r.Mode, RowsByTable: map[string]int64{r.Table: r.Rows[r.Table]},
			Requests: r.Requests, RateWaitSeconds: seconds(r.Waited), DurationSeconds: seconds(r.Duration),
			InvalidValues: r.Invalid, DeletesCaptured: r.Deleted, Resync: r.Resync,
			NewestSeconds: seconds(r.NewestAt), BackfilledRows: r.Backfilled, BackfillLeft: r.BackfillLeft}
		for _, c := range childTables(okta.Registry.Lookup(r.Table)) {
			t.RowsByTable[c] = r.Rows[c]
		}
		for _, n := range t.RowsByTable {
			t.Rows += n
		}
		t.BadRecords, t.BadRecordSamples = badRecords(r)
		if r.Status != runtime.StatusOK && r.Status != runtime.StatusNotStarted && status != "stopped" {
			t.Error = r.Reason
		}
		out.Tables = append(out.Tables, t)
		out.Requests += t.Requests
		out.Rows += t.Rows
		waited += r.Waited
		out.BadRecords += t.BadRecords
	}
	out.RateWaitSeconds = seconds(waited)
	for _, name := range bucketNames(s.Buckets) {
		b := s.Buckets[name]
		out.Buckets = append(out.Buckets, BucketJSON{Bucket: name, Requests: b.Requests, Windows: b.Windows,
			WaitingSeconds: seconds(b.Held), RateLimited: b.RateLimited, Limit: b.Limit})
	}
	for _, c := range s.SchemaChanges {
		out.SchemaChanges = append(out.SchemaChanges, SchemaChangeJSON{At: c.At, Table: c.Table, Column: c.Column,
			Type: c.Type, Decision: c.Decision, Reason: c.Reason})
	}
	return out
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }
