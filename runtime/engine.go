package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime/fetch"
	"oktasync/runtime/ratelimit"
)

// Fetcher gets one page; *fetch.Client is the real one.
type Fetcher interface {
	Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error)
}

// URLChecker is a Fetcher that can tell whether it would request a URL
// (*fetch.Client refuses other origins, other schemes and URLs that carry
// its credentials). The engine checks every URL taken from a response
// before saving it as where a table resumes, so state never holds one.
type URLChecker interface {
	CheckURL(table, url string) error
}

// ServerClock is a Fetcher that knows the server's clock (*fetch.Client
// estimates it from the Date header of its latest response); ok is false
// while it does not. Every time window the engine sends to the server
// follows that clock when it is known, so a client whose clock is off never
// asks for a window the server finds in its future or skips events.
type ServerClock interface {
	ServerNow() (time.Time, bool)
}

// Engine syncs the tables of a registry into a destination.
type Engine struct {
	Registry *Registry
	Fetcher  Fetcher
	Dest     Destination
	// Now is the clock of sync times (_fivetran_synced) and of re-import
	// periods; time.Now when nil. Tests fix it so that output tables can be
	// compared with golden files. Windows sent to the server follow the
	// server's clock instead when the Fetcher knows it (ServerClock).
	Now func() time.Time
	// Select limits the sync to some tables (top-level and fan-out names);
	// nil syncs all. Children follow their parent. Unlike a blocked table
	// (Settings), a table not selected is left as it is.
	Select func(table string) bool
	// Settings decide what lands and how (blocking, hashing, history mode,
	// schema-change policy); nil syncs everything as it comes.
	Settings *Settings
	// Resync names tables (top-level, fan-out or child: a child re-syncs its
	// top-level table) to read whole from scratch this time; "*" names all
	// selected tables. A re-sync interrupted resumes with the next sync.
	Resync []string
	// ReimportEvery overrides a table's full re-import period.
	ReimportEvery map[string]time.Duration
	// Parallel is how many tables sync at once (default 4), not counting
	// those whose requests wait for a rate-limit window (see tableSlots);
	// FanOutParallel how many parents of one fan-out table are fetched at
	// once (default 4).
	Parallel       int
	FanOutParallel int
	// BatchRows is how many rows a batch collects before it is committed
	// (default DefaultBatchRows); BatchBytes how much of their values it holds at most
	// (default DefaultBatchBytes), which cuts batches of wide rows shorter.
	// A batch always ends on a page boundary.
	BatchRows  int
	BatchBytes int
	Logger     *slog.Logger
	// Progress, when set, is called after every committed batch and when a
	// table ends. It must not block.
	Progress func(TableReport)

	// plan is set on the copy of the engine a sync runs (see with).
	plan *settled
}

// TableStatus is how a table's sync ended.
type TableStatus string

const (
	StatusOK      TableStatus = "ok"
	StatusSkipped TableStatus = "skipped" // forbidden or feature not enabled: the rest of the sync goes on
	StatusFailed  TableStatus = "failed"
	StatusRunning TableStatus = "running"
	// StatusNotStarted: the sync stopped (interrupted, or a failure no table
	// survives) before the table's turn came.
	StatusNotStarted TableStatus = "not started"
)

// TableReport is what happened to one table (its children's rows included
// in Rows by table name).
type TableReport struct {
	Table    string
	Status   TableStatus
	Mode     string // full, incremental, resume, poll
	Pages    int
	Requests int
	Rows     map[string]int64
	Invalid  int64
	// Waited is the wall time during which the table was blocked on rate
	// limits: while at least one of its requests waited (pacing or 429s).
	// Parallel waits count once, so Waited never exceeds Duration.
	Waited   time.Duration
	Deleted  bool // a delete sweep ran
	Reason   string
	Err      error
	Duration time.Duration
	// BadRecords counts the records skipped because no row can be made of
	// them: not a JSON object, or a NULL primary key value in the table's
	// row or a child's. The table's other rows land and its Status stays
	// ok, but Summary.Partial reports the sync incomplete.
	BadRecords int64
	// BadRecordSamples describe the first bad records (at most 5).
	BadRecordSamples []BadRecord
	// Resync says why the table was read whole from scratch this time (a
	// re-sync asked for, a column to fill, hashing changed); empty otherwise.
	Resync string
	// NewestAt, for a newest-first table (Incremental.Backfill) whose
	// forward read caught up, is when that read's last batch had committed,
	// from the table's start: its newest events were queryable from then.
	NewestAt time.Duration
	// Backfilled is how many rows the backfill wrote; BackfillLeft that
	// the backfill is not complete (the run ended in it, or failed).
	Backfilled   int64
	BackfillLeft bool
}

// BadRecord is where a bad record was found and why it was skipped.
type BadRecord struct {
	// URL is the page the record came from, without secrets (fetch.RedactURL).
	URL string
	// Reason says what is wrong, e.g. "users.id is null".
	Reason string
}

// Summary is the outcome of a sync.
type Summary struct {
	Started time.Time
	Tables  []TableReport
	// SchemaChanges are the schema changes the sync made or refused (also
	// recorded in SchemaChangesTable).
	SchemaChanges []SchemaChange
	// Buckets are the counters of the rate-limit buckets, by name, when the
	// Fetcher keeps them (a FetchStater): requests, windows used, time
	// waiting. They count the Fetcher's whole life, not only this sync.
	Buckets map[string]fetch.BucketStats
}

// FetchStater is a Fetcher that counts its work (*fetch.Client does); a
// sync's summary then carries the counters of its rate-limit buckets.
type FetchStater interface {
	Stats() fetch.Stats
}

// Partial reports whether some table was skipped or failed, or skipped bad
// records.
func (s *Summary) Partial() bool {
	for _, t := range s.Tables {
		if t.Status != StatusOK || t.BadRecords > 0 {
			return true
		}
	}
	return false
}

// ErrPartial is returned by Sync when some tables did not sync.
var ErrPartial = errors.New("sync incomplete")

// Sync runs one sync of every selected table. Tables run in parallel, fan-out
// tables first (see startOrder). A forbidden table is skipped
// with a reason, a failing one reported, and the others still sync; an
// authentication failure stops everything.
func (e *Engine) Sync(ctx context.Context) (*Summary, error) {
	e.defaults()
	started := e.Now().UTC()
	states, err := e.Dest.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	cols, err := e.Dest.Columns(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the destination's tables: %w", err)
	}
	plan, err := e.settle(ctx, states, cols, started)
	if err != nil {
		return nil, err
	}
	if err := e.Dest.Prepare(ctx, []*Table{SchemaChangesTable}); err != nil {
		return nil, fmt.Errorf("prepare destination: %w", err)
	}
	// What the settings changed is saved before any table is touched, so a
	// crash from here on still re-imports what must be.
	for _, b := range plan.saves {
		if err := e.Dest.Commit(ctx, b); err != nil {
			return nil, fmt.Errorf("save the settings' effects: %w", err)
		}
		states[b.Table.Name] = b.State
	}
	if err := e.Dest.Prepare(ctx, plan.run); err != nil {
		return nil, fmt.Errorf("prepare destination: %w", err)
	}
	e = e.with(plan)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	tables := plan.run
	reports := make([]TableReport, len(tables))
	// Tables start in priority order as slots free up: fan-out tables first,
	// because they make most of a sync's requests and take longest, so the
	// busiest rate-limit buckets are at work from the first window on and the
	// long tables do not start last. A fan-out table lists its parents itself,
	// so it need not wait for the parent table.
	slots := newTableSlots(e.Parallel)
	turn := make([]chan struct{}, len(tables))
	for i := range turn {
		turn[i] = make(chan struct{})
	}
	go func() {
		for _, i := range startOrder(tables) {
			if slots.take(ctx) != nil {
				return
			}
			close(turn[i])
		}
	}()
	var wg sync.WaitGroup
	for i, t := range tables {
		wg.Go(func() {
			select {
			case <-turn[i]:
			case <-ctx.Done():
				// Another table's error stopped the sync; it is reported
				// there, not here.
				reports[i] = TableReport{Table: t.Name, Status: StatusNotStarted, Reason: "not started: the sync stopped"}
				return
			}
			defer slots.give()
			lending := ratelimit.WithLender(ctx, &slotLender{slots: slots})
			reports[i] = newTableRun(e, t, states[t.Name], started).sync(lending)
			if stopsSync(reports[i].Err) {
				cancel(reports[i].Err)
			}
		})
	}
	wg.Wait()
	reports = append(reports, plan.refused...)
	sum := &Summary{Started: started, Tables: reports, SchemaChanges: plan.changes}
	if f, ok := e.Fetcher.(FetchStater); ok {
		sum.Buckets = f.Stats().Buckets
	}
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, fetch.ErrUnauthorized) {
		return sum, fmt.Errorf("authentication failed, sync stopped: %w", cause)
	}
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, fetch.ErrFatal) {
		return sum, fmt.Errorf("sync stopped: %w", cause)
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	if sum.Partial() {
		return sum, ErrPartial
	}
	return sum, nil
}

// stopsSync reports whether a table's error dooms every other table too:
// rejected credentials, or a failure no request survives (fetch.ErrFatal).
func stopsSync(err error) bool {
	return errors.Is(err, fetch.ErrUnauthorized) || errors.Is(err, fetch.ErrFatal)
}

// startOrder is the order in which tables get a slot: fan-out tables, then
// the others, each in registry order.
func startOrder(tables []*Table) []int {
	order := make([]int, 0, len(tables))
	for pass := range 2 {
		for i, t := range tables {
			if (t.FanOut != nil) == (pass == 0) {
				order = append(order, i)
			}
		}
	}
	return order
}

func (e *Engine) defaults() {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Parallel <= 0 {
		e.Parallel = 4
	}
	if e.FanOutParallel <= 0 {
		e.FanOutParallel = 4
	}
	if e.BatchRows <= 0 {
		e.BatchRows = DefaultBatchRows
	}
	if e.BatchBytes <= 0 {
		e.BatchBytes = DefaultBatchBytes
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
}

// with is a copy of e that runs a sync planned by plan: its tables are
// the plan's views.
func (e *Engine) with(plan *settled) *Engine {
	c := *e
	c.plan = plan
	return &c
}

// selected lists the views of the tables the sync runs, parents before
// their fan-out tables; without a plan (a check), those the settings and
// Select leave to read.
func (e *Engine) selected() []*Table {
	if e.plan != nil {
		return e.plan.run
	}
	var out []*Table
	for _, t := range e.Settings.resolve(e.Registry).reg.Tables {
		if e.Select == nil || e.Select(t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// tableRun is one table's part of a sync.
type tableRun struct {
	e       *Engine
	t       *Table
	state   TableState
	started time.Time

	report TableReport
	// em's rows wait in staged until their record is known good: records
	// are extracted through extract, never by calling Extract with em.
	em     *Emitter
	staged []stagedRow
	badWhy string // why the record being extracted is bad, if it is
	// guard watches the listing being read for loops; extract notes each
	// record in it. nil when no listing is watched.
	guard  *loopGuard
	batch  *Batch
	rows   int
	held   int              // RowBytes of the batch's rows
	keyIdx map[*Table][]int // primary key column positions, by table
	// append: the run's batches are Batch.Append (see firstRun).
	append bool
	// committing delivers the result of the batch being committed, which
	// runs under ctx, the table's context.
	committing chan error
	ctx        context.Context
	// slab holds the values of the rows extracted (see values).
	slab []any
	// waits measures the time the table is blocked on rate limits
	// (TableReport.Waited).
	waits *waitClock
	// serverStart is the server's time when the run started (a resumed run
	// keeps its first start, Pending.ServerStart): the end of a change
	// feed's window and what a completed full pass guarantees.
	serverStart time.Time

	// view is how the settings write the table (see views); hasher hashes
	// its hashed columns, nil when the sync hashes none.
	view   *view
	hasher *Hasher
	// lastView is the view of the last row staged: rows of one table come
	// in runs.
	lastView *view
	// resync is why the run reads the table whole from scratch (state's
	// Resync), rebuild that it deletes the table's rows first; truncated
	// that the batch deleting them has been handed to the destination.
	resync    string
	rebuild   bool
	truncated bool
	// keptOut are the dynamic columns and unpivoted keys the policy keeps
	// out ("table.column" entries of TableState.KeptOut); keys the keys of
	// unpivoted tables seen (TableState.Keys).
	keptOut map[string]bool
	keys    map[string]bool
	// tracked holds the unpivoted tables whose keys the state tracked when
	// the run began: only their new keys are schema changes.
	tracked map[*Table]bool
	// recStart is when the record being extracted changed at the source,
	// the start of its rows' versions in a history table (zero: the sync
	// time).
	recStart time.Time
	// changes are schema changes made by the run, waiting for its next
	// batch.
	changes []SchemaChange
	// scratch holds a row's source values while the stage cuts its
	// written values out of them.
	scratch []any

	// begin is when the run started, for the report's times.
	begin time.Time
	// backfill is what a newest-first table still has to read before its
	// forward read's start (TableState.Backfill); nil when nothing.
	// backfillDone: the run read all of it. newest marks the batch ending
	// the forward read of such a table; newestAt is when it committed,
	// set by the commit's goroutine before it delivers its result.
	backfill     *BackfillState
	backfillDone bool
	newest       bool
	newestAt     time.Duration
}

// newTableRun prepares a table's part of a sync. The run sees the engine
// through a copy whose Fetcher reports every request to the run's
// waitClock, so that all of the table's requests count, whichever code
// makes them.
func newTableRun(e *Engine, t *Table, st TableState, started time.Time) *tableRun {
	waits := newWaitClock()
	own := *e
	own.Fetcher = &timedFetcher{Fetcher: e.Fetcher, clock: waits}
	r := &tableRun{e: &own, t: t, state: st, started: started, waits: waits, view: e.plan.vs.byName[t.Name]}
	if e.plan.salt != "" {
		r.hasher = NewHasher(e.plan.salt)
	}
	r.resync, r.rebuild = st.Resync, st.Rebuild && st.Resync != ""
	r.keptOut, r.keys = map[string]bool{}, map[string]bool{}
	for _, k := range st.KeptOut {
		r.keptOut[k] = true
	}
	r.tracked = map[*Table]bool{}
	for _, k := range st.Keys {
		r.keys[k] = true
	}
	for _, v := range e.plan.vs.order {
		if v.owner == r.view && v.keyAt >= 0 && r.keys[v.t.Name+"."] {
			r.tracked[v.t] = true
		}
	}
	return r
}

func (r *tableRun) sync(ctx context.Context) TableReport {
	begin := time.Now()
	r.begin = begin
	r.report = TableReport{Table: r.t.Name, Status: StatusRunning, Rows: map[string]int64{}}
	r.ctx = ctx
	r.started = runSynced(r.started, r.state)
	r.serverStart = r.e.serverNow()
	r.report.Resync = r.resync
	if p := r.state.Pending; p != nil && r.resync != "" && !p.Full {
		// An incremental run under way gives way to the re-import.
		r.state.Pending = nil
	}
	if p := r.state.Pending; p != nil {
		// State saved before Pending had ServerStart only has the local start.
		r.serverStart = p.ServerStart
		if r.serverStart.IsZero() {
			r.serverStart = p.Synced
		}
	}
	var err error
	if r.t.FanOut != nil {
		err = r.syncFanOut(ctx)
	} else {
		err = r.syncList(ctx)
	}
	// Nothing may still be writing once the table reports.
	if werr := r.waitCommit(); err == nil {
		err = werr
	}
	r.report.BackfillLeft = r.backfill != nil && (err != nil || !r.backfillDone)
	r.report.Duration = time.Since(begin)
	r.report.Waited = r.waits.total()
	if r.em != nil {
		r.report.Invalid = r.em.Stats.Invalid
	}
	switch {
	case err == nil:
		r.report.Status = StatusOK
	case errors.Is(err, fetch.ErrForbidden):
		r.report.Status = StatusSkipped
		r.report.Reason = "forbidden: " + r.needsFor(err) + " (" + err.Error() + ")"
		r.report.Err = err
	case errors.Is(err, fetch.ErrFeatureDisabled):
		r.report.Status = StatusSkipped
		r.report.Reason = "feature not enabled on this org (" + err.Error() + ")"
		r.report.Err = err
	default:
		r.report.Status = StatusFailed
		r.report.Reason = err.Error()
		r.report.Err = err
	}
	attrs := []any{"table", r.t.Name, "status", r.report.Status, "mode", r.report.Mode,
		"pages", r.report.Pages, "rows", r.report.Rows[r.t.Name]}
	level := slog.LevelInfo
	switch {
	case r.report.Status == StatusSkipped:
		level = slog.LevelWarn
	case r.report.Status == StatusFailed && !errors.Is(err, context.Canceled):
		level = slog.LevelError
	}
	if r.report.Reason != "" {
		attrs = append(attrs, "reason", r.report.Reason)
	}
	r.e.Logger.Log(ctx, level, "table done", attrs...)
	if r.e.Progress != nil {
		r.e.Progress(r.report)
	}
	return r.report
}

// needs says which roles and scope the spec lists for the table.
func (r *tableRun) needs() string {
	p := r.t.Permissions
	var parts []string
	if len(p.Roles) > 0 {
		parts = append(parts, "needs one of the roles "+strings.Join(p.Roles, ", "))
	}
	if p.Scope != "" {
		parts = append(parts, "scope "+p.Scope)
	}
	if len(parts) == 0 {
		return "the credentials may not read this table"
	}
	return strings.Join(parts, " and ")
}

// plan decides how the table is read this time.
type plan struct {
	synced    time.Time
	full      bool
	url       string
	maxCursor string
	// append: no row can exist yet but those of this run (Batch.Append).
	append bool
}

func (r *tableRun) plan() plan {
	t, st := r.t, r.state
	if p := st.Pending; p != nil && p.URL != "" {
		r.report.Mode = "resume"
		return plan{synced: p.Synced, full: p.Full, url: p.URL, maxCursor: p.MaxCursor, append: p.Append}
	}
	in := t.Incremental
	pl := plan{synced: r.started, append: r.firstRun()}
	switch {
	case in == nil:
		pl.full = true
		r.report.Mode = "full"
		pl.url = listURL(t.Request, "", "")
	case in.Kind == IncrementalNextURL:
		r.report.Mode = "poll"
		switch {
		case st.Cursor != "" && !r.restart():
			pl.url = st.Cursor
			r.backfill = st.Backfill
		case in.Backfill != nil:
			// Newest first: forward from now - Newest; what is older is
			// backfilled once the forward read has caught up.
			now := r.e.serverNow()
			end := formatCursor(now.Add(-in.Backfill.Newest))
			pl.url = listURL(t.Request, in.StartParam, end)
			r.backfill = &BackfillState{Start: formatCursor(now.Add(-in.StartLookback)), End: end,
				Append: pl.append, Since: pl.synced}
		default:
			start := r.e.serverNow().Add(-in.StartLookback)
			pl.url = listURL(t.Request, in.StartParam, formatCursor(start))
		}
	default:
		pl.full = r.reimportDue()
		cursor := in.Initial
		if !pl.full && st.Cursor != "" {
			cursor = shiftCursor(st.Cursor, -in.Lookback)
		}
		if pl.full {
			r.report.Mode = "full"
		} else {
			r.report.Mode = "incremental"
		}
		if cursor == "" {
			pl.url = listURL(t.Request, "", "")
		} else {
			pl.url = listURL(t.Request, in.Param, strings.ReplaceAll(in.Template, "{cursor}", cursor))
		}
	}
	return pl
}

// fullPassDue reports whether the table's delete capture re-import period
// has passed: an incremental table is then read whole, and a fan-out table
// read for changed parents only goes over every parent, which also catches
// changes that do not move the parents' changed_since field.
func (r *tableRun) fullPassDue() bool {
	if r.resync != "" {
		return true
	}
	if r.t.Deletes.Kind != DeletesFullReimport {
		return false
	}
	every := r.t.Deletes.Every
	if o, ok := r.e.ReimportEvery[r.t.Name]; ok {
		every = o
	}
	return r.state.LastFullImport.IsZero() || !r.e.Now().Before(r.state.LastFullImport.Add(every))
}

// serverNow is the server's time when the Fetcher knows it, else the
// engine's clock. The Date header it comes from has whole seconds, so finer
// digits are dropped: the estimate is then never ahead of the server.
func (e *Engine) serverNow() time.Time {
	if c, ok := e.Fetcher.(ServerClock); ok {
		if t, ok := c.ServerNow(); ok {
			return t.UTC().Truncate(time.Second)
		}
	}
	return e.Now().UTC()
}

// fullPassDone records in final that a full pass that started at synced
// (the local clock, which stamps rows) is complete. A change feed read
// after it starts at the pass's start on the server's clock; an older feed
// cursor no longer matters.
func (r *tableRun) fullPassDone(final *TableState, synced time.Time) {
	final.LastFullImport = synced
	final.LastFullImportServer = r.serverStart
	final.ChangesCursor = ""
}

// claim is the cursor a completed run saves, given the table's cursor
// before it and the highest cursor value the run saw: that value, but for a
// timestamp no later than the run's start on the server's clock. A run is
// not a snapshot: a record on a page read early may change after its page
// was read while later pages show newer values, the more so across an
// interruption, and the next run's filter must still reach that change.
// What changed after the start is read again next time, which upserts make
// harmless. The cursor never moves back.
func (r *tableRun) claim(prev, seen string) string {
	if _, ok := ParseTimestamp(seen); ok && !r.serverStart.IsZero() {
		seen = min(seen, formatCursor(r.serverStart))
	}
	return maxString(prev, seen)
}

// firstRun reports whether the table has never been read before: its first
// import can then be appended without merging, since no earlier row exists
// (Batch.Append).
func (r *tableRun) firstRun() bool {
	st := r.state
	if r.rebuild {
		return true // the run starts by deleting every row
	}
	return st.Cursor == "" && st.ParentCursor == "" && st.LastFullImport.IsZero() && st.Pending == nil
}

// reimportDue reports whether an incremental table is read whole this time:
// on its first sync, and when its re-import period has passed.
func (r *tableRun) reimportDue() bool {
	return r.state.Cursor == "" || r.fullPassDue()
}

// restart reports whether a polling table reads again from its start: a
// re-sync reads what the source still serves.
func (r *tableRun) restart() bool {
	return r.resync != ""
}

// syncList reads a table with its own list endpoint, page after page,
// committing each batch together with where to resume.
func (r *tableRun) syncList(ctx context.Context) error {
	t := r.t
	pl := r.plan()
	// A polling table's cursor commits with its rows, so a page is never read
	// twice: continuing the stream appends too.
	poll := t.Pagination.Poll
	r.append = pl.append || (poll && r.state.Cursor != "" && !r.restart())
	r.newBatch(pl.synced)
	maxCursor := pl.maxCursor
	guard := newLoopGuard(t.Name)
	r.guard = guard
	defer func() { r.guard = nil }()
	if err := guard.visit(pl.url); err != nil {
		return err
	}
	pages, stop := r.prefetch(ctx, t.Request.Bucket, pl.url, func(p *fetch.Page) string {
		next := nextURL(t.Pagination, p)
		if poll && countRecords(p.Body, t.Request.Records) == 0 {
			return "" // caught up: see below
		}
		return next
	})
	defer stop()
	for f := range pages {
		url, page := f.url, f.page
		r.report.Requests++
		if f.err != nil {
			return f.err
		}
		r.report.Pages++
		n, pageMax := r.extractPage(page, gjson.Result{}, t)
		maxCursor = maxString(maxCursor, pageMax)
		next := nextURL(t.Pagination, page)
		page.Release() // the rows hold copies, not the page's buffer
		// A polling endpoint always has a next link. An empty page means
		// caught up: the URL that returned it is where the next sync asks.
		if poll && (n == 0 || next == "") {
			r.batch.State = TableState{Cursor: url, Backfill: r.backfill}
			r.batch.Dedupe = pl.append
			if r.backfill == nil {
				return r.commit()
			}
			r.newest = true
			if err := r.commit(); err != nil {
				return err
			}
			stop()
			return r.readBackfill(ctx, url)
		}
		// A loop fails the table before its pages are committed.
		if err := guard.endPage(page.URL); err != nil {
			return err
		}
		if next != "" {
			if err := guard.visit(next); err != nil {
				return err
			}
		}
		if poll {
			r.batch.State = TableState{Cursor: next, Backfill: r.backfill}
			if r.full() && !guard.holding() {
				if err := r.commit(); err != nil {
					return err
				}
			}
			continue
		}
		if next == "" {
			break
		}
		if r.full() && !guard.holding() {
			r.batch.State = r.state
			r.batch.State.Pending = &Pending{Synced: pl.synced, Full: pl.full, URL: next, MaxCursor: maxCursor, Append: r.append}
			if err := r.commit(); err != nil {
				return err
			}
		}
	}
	final := r.state
	final.Pending = nil
	if maxCursor != "" {
		final.Cursor = r.claim(r.state.Cursor, maxCursor)
	}
	if pl.full {
		r.fullPassDone(&final, pl.synced)
		if t.Deletes.Kind == DeletesFullReimport {
			r.batch.Sweep = &Sweep{Before: pl.synced, FanOut: r.fanOutsOf(t)}
			r.report.Deleted = true
		}
	}
	r.batch.State = final
	r.batch.Dedupe = r.append
	return r.commit()
}

// readBackfill reads what a newest-first table has left of its backfill:
// one bounded listing, newest to oldest, each batch committed with the page
// it resumes at. cursor is the forward read's, kept as it is.
func (r *tableRun) readBackfill(ctx context.Context, cursor string) error {
	t, bf := r.t, *r.backfill
	url := bf.URL
	if url == "" {
		url = backfillURL(t.Request, t.Incremental.Backfill.Params, bf.Start, bf.End)
	}
	r.report.Mode += "+backfill"
	r.append = bf.Append
	r.newBatch(r.batch.Synced) // the forward read's batches are committed
	before := r.report.Rows[t.Name]
	guard := newLoopGuard(t.Name)
	r.guard = guard
	defer func() { r.guard = nil }()
	if err := guard.visit(url); err != nil {
		return err
	}
	pages, stop := r.prefetch(ctx, t.Request.Bucket, url, func(p *fetch.Page) string {
		return nextURL(t.Pagination, p)
	})
	defer stop()
	for f := range pages {
		r.report.Requests++
		if f.err != nil {
			return f.err
		}
		r.report.Pages++
		r.extractPage(f.page, gjson.Result{}, t)
		next := nextURL(t.Pagination, f.page)
		pageURL := f.page.URL
		f.page.Release()
		if err := guard.endPage(pageURL); err != nil {
			return err
		}
		if next == "" {
			break
		}
		if err := guard.visit(next); err != nil {
			return err
		}
		if r.full() && !guard.holding() {
			at := bf
			at.URL = next
			r.batch.State = TableState{Cursor: cursor, Backfill: &at}
			if err := r.commit(); err != nil {
				return err
			}
		}
	}
	r.batch.State = TableState{Cursor: cursor}
	r.batch.Dedupe = bf.Append
	r.batch.DedupeSince = bf.Since
	r.report.Backfilled = r.report.Rows[t.Name] - before
	if err := r.commit(); err != nil {
		return err
	}
	r.backfillDone = true
	return nil
}

// backfillURL is the bounded listing of a backfill: the request's
// parameters with Backfill.Params replacing or added to them.
func backfillURL(req *Request, params []Param, start, end string) string {
	q := *req
	q.Params = slices.Clone(req.Params)
	fill := strings.NewReplacer("{start}", start, "{end}", end)
	for _, p := range params {
		v := fill.Replace(p.Value)
		if i := slices.IndexFunc(q.Params, func(o Param) bool { return o.Name == p.Name }); i >= 0 {
			q.Params[i].Value = v
		} else {
			q.Params = append(q.Params, Param{Name: p.Name, Value: v})
		}
	}
	return listURL(&q, "", "")
}

// prefetched is a page fetched ahead, with the URL it came from and the
// next URL to fetch.
type prefetched struct {
	url, next string
	page      *fetch.Page
	err       error
}

// prefetch fetches a listing's pages one ahead of their use, so the next
// page is on its way while this one is extracted; next says where a page
// leads ("" ends the listing). stop ends the fetching and frees what was
// fetched but not used.
func (r *tableRun) prefetch(ctx context.Context, bucket, url string, next func(*fetch.Page) string) (<-chan prefetched, func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan prefetched, 1)
	go func() {
		defer close(out)
		for url != "" {
			page, err := r.e.Fetcher.Get(ctx, r.t.Name, bucket, url)
			f := prefetched{url: url, page: page, err: err}
			if err == nil {
				f.next = next(page)
			}
			select {
			case out <- f:
			case <-ctx.Done():
				page.Release()
				return
			}
			if err != nil {
				return
			}
			url = f.next
		}
	}()
	stop := func() {
		cancel()
		for f := range out {
			f.page.Release()
		}
	}
	return out, stop
}

// countRecords is how many records EachRecord finds in a body, without
// copying the body as a full parse would.
func countRecords(body []byte, path string) int {
	count := "#"
	if path != "" {
		count = path + ".#"
	}
	if n := gjson.GetBytes(body, count); n.Exists() {
		return int(n.Int())
	}
	doc := gjson.GetBytes(body, "@this")
	if path != "" {
		doc = gjson.GetBytes(body, path)
	}
	if doc.IsObject() {
		return 1
	}
	return 0
}

// fanOutsOf lists the selected tables read per row of t: a sweep of t
// cascades to them, and a table not synced was never prepared.
func (r *tableRun) fanOutsOf(t *Table) []*Table {
	var out []*Table
	for _, f := range r.e.selected() {
		if f.FanOut != nil && f.FanOut.Parent == t.Name {
			out = append(out, f)
		}
	}
	return out
}

// syncFanOut reads a table once per parent record. Parents come from the
// parent's endpoint, filtered to those changed since the last sync when the
// spec says how. Each parent's existing rows are replaced by what its listing
// returns now.
//
// A pass interrupted by a failure or a crash resumes at the page of parents
// it stood at, and skips the parents of that page it had committed whole
// (Pending.ParentsDone), so that a pass under heavy faults still gets further
// every sync. A resumed pass writes at its own, later Synced (runSynced): the
// parents the interrupted run read in part are read again whole, and their
// rows replaced like those of any earlier sync; it merges rather than
// appends (see Batch.Append). A first pass that appended dedupes what a
// failure makes it save, and its resumed run dedupes with its first commit,
// so no key is left twice after a run, however it ended.
func (r *tableRun) syncFanOut(ctx context.Context) error {
	// Between full passes, a table with a change feed reads the feed instead.
	if done, err := r.syncChanges(ctx); done {
		return err
	}
	t := r.t
	fo := t.FanOut
	// Where the parents come from: a table's endpoint, a listing of their own,
	// fixed records, or the records of a table that is itself read per parent.
	listing, pagination := fo.Request, fo.Pagination
	var nested *Table
	if fo.Parent != "" {
		parent := r.e.Registry.Lookup(fo.Parent)
		if parent == nil || parent.Request == nil {
			return fmt.Errorf("%s: fan-out parent %q is not a table with a request", t.Name, fo.Parent)
		}
		if parent.FanOut != nil {
			nested, listing = parent, nil
		} else {
			listing, pagination = parent.Request, parent.Pagination
		}
	}
	st := r.state
	cs := fo.ChangedSince
	// synced is the pass's start: the cutoff of its sweep, kept by resumes.
	synced := r.started
	// Every parent is read on the first sync, without changed_since, and when
	// the table's periodic full pass is due: a change that does not move the
	// parent's changed_since field is caught then.
	full := cs == nil || st.ParentCursor == "" || nested != nil || r.fullPassDue()
	parentURL := ""
	maxParent := ""
	// Only the first run of the table's first pass appends; appended says
	// that the pass did, so its last batch dedupes.
	r.append = r.firstRun()
	appended := r.append
	var resume *Pending
	if p := st.Pending; p != nil && p.ChangesURL == "" && (p.ParentURL != "" || listing == nil) {
		resume = p
		r.report.Mode = "resume"
		synced, full, parentURL, maxParent, appended = p.Synced, p.Full, p.ParentURL, p.MaxParentCursor, p.Append
	} else if listing != nil {
		r.report.Mode = "full"
		cursor := ""
		if cs != nil {
			cursor = cs.Initial
			if !full {
				cursor = shiftCursor(st.ParentCursor, -cs.Lookback)
				r.report.Mode = "incremental"
			}
		}
		if cursor == "" {
			parentURL = listURL(listing, "", "")
		} else {
			parentURL = listURL(listing, cs.Param, strings.ReplaceAll(cs.Template, "{cursor}", cursor))
		}
	} else {
		r.report.Mode = "full"
	}
	r.newBatch(r.started)
	if resume != nil && appended {
		// The run resumed may have been killed with a key appended twice
		// (a listing that repeated a record): this run's first commit
		// leaves one row per key, whatever happens to the rest of it.
		r.batch.Dedupe, r.batch.DedupeSince = true, synced
	}
	switch {
	case nested != nil:
		// A resume reads every parent again: the parents' own listings are
		// not tracked. It writes later than the run it resumes, so each
		// parent's rows are replaced by what its listing returns now.
		here := &Pending{Synced: synced, Full: full, Append: appended}
		err := r.nestedParents(ctx, nested, func(parents []gjson.Result) error {
			return r.fanOutPage(ctx, parents, here)
		})
		if err != nil {
			return err
		}
	case listing == nil:
		var parents []gjson.Result
		for _, v := range fo.Values {
			parents = append(parents, gjson.Parse(v))
		}
		here := &Pending{Synced: synced, Full: full, Append: appended}
		if resume != nil {
			here.ParentsDone, here.ParentsSum = resume.ParentsDone, resume.ParentsSum
		}
		if err := r.fanOutPage(ctx, parents, here); err != nil {
			return err
		}
	}
	// The next pages of parents are fetched while this one's are read, so
	// that the fan-out's bucket is not left idle while the listing's request
	// waits (its bucket may be spent until its reset). Only the page being
	// read is ever saved as where the pass stands.
	var ahead <-chan parentPage
	if parentURL != "" {
		var stop func()
		ahead, stop = r.parentPages(ctx, listing.Bucket, pagination, parentURL)
		defer stop()
	}
	for parentURL != "" {
		got, ok := <-ahead
		if !ok {
			return ctx.Err()
		}
		if got.asked {
			r.report.Requests++
		}
		if got.err != nil {
			return got.err
		}
		page := got.page
		var parents []gjson.Result
		EachRecord(page.Body, listing.Records, func(v gjson.Result) {
			parents = append(parents, v)
			if cs != nil {
				maxParent = maxString(maxParent, recordCursor(v, cs))
			}
		})
		next := got.next
		here := &Pending{Synced: synced, Full: full, ParentURL: parentURL, MaxParentCursor: maxParent, Append: appended}
		if resume != nil {
			// The page the pass stood at: its parents done are skipped.
			here.ParentsDone, here.ParentsSum = resume.ParentsDone, resume.ParentsSum
			resume = nil
		}
		if err := r.fanOutPage(ctx, parents, here); err != nil {
			return err
		}
		parentURL = next
		if parentURL != "" {
			r.batch.State = st
			r.batch.State.Pending = &Pending{Synced: synced, Full: full, ParentURL: parentURL, MaxParentCursor: maxParent, Append: appended}
			if err := r.commit(); err != nil {
				return err
			}
		}
	}
	final := st
	final.Pending = nil
	if maxParent != "" {
		final.ParentCursor = r.claim(st.ParentCursor, maxParent)
	}
	if full {
		r.fullPassDone(&final, synced)
		if t.Deletes.Kind == DeletesFullReimport {
			r.batch.Sweep = &Sweep{Before: synced, FanOut: r.fanOutsOf(t)}
			r.report.Deleted = true
		}
	}
	r.batch.State = final
	r.batch.Dedupe = appended
	r.batch.DedupeSince = synced
	return r.commit()
}

// parentPage is a page of a fan-out's parents fetched ahead of its use.
type parentPage struct {
	page  *fetch.Page
	next  string // the listing's next page; "" at its end
	err   error
	asked bool // a request was made (false: the listing loops)
}

// parentPagesAhead is how many pages of parents a fan-out fetches before
// it needs them: one waiting, one more being fetched or waiting to be.
const parentPagesAhead = 1

// parentPages walks a fan-out's parent listing from url on a goroutine of
// its own, at most parentPagesAhead pages ahead of the reader, and sends
// the pages in order; the first failure (a request's, or a listing that
// leads back to one of its pages) is sent last. The channel closes after
// the last page, or early when ctx ends. stop ends the walk and waits for
// its goroutine; it must be called.
func (r *tableRun) parentPages(ctx context.Context, bucket string, pagination Pagination, url string) (<-chan parentPage, func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan parentPage, parentPagesAhead)
	done := make(chan struct{})
	send := func(p parentPage) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(done)
		defer close(out)
		loops := newLoopGuard(r.t.Name)
		for url != "" {
			if err := loops.visit(url); err != nil {
				send(parentPage{err: err})
				return
			}
			page, err := r.e.Fetcher.Get(ctx, r.t.Name, bucket, url)
			if err != nil {
				send(parentPage{err: err, asked: true})
				return
			}
			next := nextURL(pagination, page)
			if !send(parentPage{page: page, next: next, asked: true}) {
				page.Release()
				return
			}
			url = next
		}
	}()
	stop := func() {
		cancel()
		for p := range out {
			p.page.Release()
		}
		<-done
	}
	return out, stop
}

// nestedParents lists the records of a fan-out table (the parent of a
// fan-out of a fan-out) by walking its own parents, and hands them to fn one
// listing page at a time.
func (r *tableRun) nestedParents(ctx context.Context, t *Table, fn func([]gjson.Result) error) error {
	fo := t.FanOut
	// t's own parents: fixed records, or the pages of a listing.
	each := func(grand []gjson.Result) error {
		for _, g := range grand {
			url := fanOutURL(t, g)
			loops := newLoopGuard(r.t.Name)
			for url != "" {
				if err := loops.visit(url); err != nil {
					return err
				}
				page, err := r.e.Fetcher.Get(ctx, r.t.Name, t.Request.Bucket, url)
				r.report.Requests++
				if skippableParentError(t, err) {
					r.e.Logger.Debug("parent listing refused, skipped", "table", r.t.Name, "parent", t.Name, "err", err)
					break
				}
				if err != nil {
					return err
				}
				var parents []gjson.Result
				EachRecord(page.Body, t.Request.Records, func(v gjson.Result) { parents = append(parents, v) })
				if err := fn(parents); err != nil {
					return err
				}
				url = nextURL(t.Pagination, page)
			}
		}
		return nil
	}
	if len(fo.Values) > 0 {
		var grand []gjson.Result
		for _, v := range fo.Values {
			grand = append(grand, gjson.Parse(v))
		}
		return each(grand)
	}
	listing, pagination := fo.Request, fo.Pagination
	if fo.Parent != "" {
		gp := r.e.Registry.Lookup(fo.Parent)
		if gp == nil || gp.Request == nil || gp.FanOut != nil {
			return fmt.Errorf("%s: %s's parent %q must be listed whole", r.t.Name, t.Name, fo.Parent)
		}
		listing, pagination = gp.Request, gp.Pagination
	}
	url := listURL(listing, "", "")
	loops := newLoopGuard(r.t.Name)
	for url != "" {
		if err := loops.visit(url); err != nil {
			return err
		}
		page, err := r.e.Fetcher.Get(ctx, r.t.Name, listing.Bucket, url)
		r.report.Requests++
		if err != nil {
			return err
		}
		var grand []gjson.Result
		EachRecord(page.Body, listing.Records, func(v gjson.Result) { grand = append(grand, v) })
		if err := each(grand); err != nil {
			return err
		}
		url = nextURL(pagination, page)
	}
	return nil
}

// skippableParentError reports whether a fan-out request's error means
// "nothing here for this parent" rather than a failure of the table: the
// parent is gone (404), the feature behind it is not enabled, or, for fixed
// parents such as a list of types, the org does not know that value (400).
func skippableParentError(t *Table, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, fetch.ErrNotFound), errors.Is(err, fetch.ErrFeatureDisabled):
		return true
	case errors.Is(err, fetch.ErrBadRequest):
		return len(t.FanOut.Values) > 0
	}
	return false
}

// fanOutPage fetches the listings of a page of parents, a few parents at a
// time, and extracts each page as it arrives: memory holds a handful of
// pages, not every listing of the parent page. Order across parents does not
// matter: each parent's rows are replaced by parent key.
//
// here is where a commit inside the page resumes. In a pass (here has no
// ChangesURL), each commit also saves which parents of the page are
// complete, and a resume skips those that here names; a failed request
// commits what was read before it, so that the next sync goes on from there.
func (r *tableRun) fanOutPage(ctx context.Context, parents []gjson.Result, here *Pending) error {
	t := r.t
	type piece struct {
		parent int
		page   *fetch.Page // nil: the parent has nothing (more)
		last   bool        // the parent's listing is complete
		err    error
	}
	pass := here.ChangesURL == ""
	urls := make([]string, len(parents))
	for i, p := range parents {
		urls[i] = fanOutURL(t, p)
	}
	var prog *parentProgress
	todo := make([]int, 0, len(parents))
	if pass {
		prog = newParentProgress(urls, here)
		if here.ParentsDone != "" && prog.resumed == 0 {
			r.e.Logger.Debug("the page of parents changed since the pass stopped; reading it whole", "table", t.Name)
		}
	}
	for i := range parents {
		if prog == nil || !prog.done[i] {
			todo = append(todo, i)
		}
	}
	state := func() *Pending {
		if prog == nil {
			return here
		}
		return prog.pending(here)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pieces := spread(ctx, r.e.FanOutParallel, len(todo), func(k int, emit func(piece)) {
		i := todo[k]
		url := urls[i]
		// A parent's listing that leads back to one of its pages would
		// never end: only its URLs are watched, its records are few.
		loops := newLoopGuard(t.Name)
		for url != "" {
			if err := loops.visit(url); err != nil {
				emit(piece{parent: i, err: err})
				return
			}
			page, err := r.e.Fetcher.Get(ctx, t.Name, t.Request.Bucket, url)
			if skippableParentError(t, err) {
				// Nothing here for this parent (it went away since it was
				// listed, or the org lacks the feature or the value): its
				// rows, if any, are replaced by none.
				r.e.Logger.Debug("fan-out parent skipped", "table", t.Name, "url", fetch.RedactURL(url), "err", err)
				break
			}
			if err != nil {
				emit(piece{parent: i, err: err})
				return
			}
			url = nextURL(t.Pagination, page)
			emit(piece{parent: i, page: page, last: url == ""})
		}
		if url != "" {
			emit(piece{parent: i, last: true})
		}
	})
	started := make([]bool, len(parents))
	var fetchErr, commitErr error
	for p := range pieces {
		if fetchErr != nil || commitErr != nil {
			p.page.Release()
			continue // drain so the workers can finish
		}
		r.report.Requests++
		if p.err != nil {
			fetchErr = p.err
			cancel()
			continue
		}
		if !started[p.parent] {
			started[p.parent] = true
			if len(t.ParentKey) > 0 {
				r.batch.Replace[t] = append(r.batch.Replace[t], r.parentKey(parents[p.parent]))
			}
		}
		if p.page != nil {
			r.report.Pages++
			r.extractPage(p.page, parents[p.parent], t)
			p.page.Release()
		}
		if p.last && prog != nil {
			prog.done[p.parent] = true
		}
		if r.full() {
			r.batch.State = r.state
			r.batch.State.Pending = state()
			if err := r.commit(); err != nil {
				commitErr = err
				cancel()
			}
		}
	}
	if commitErr != nil {
		return commitErr
	}
	if fetchErr != nil && pass && r.ctx.Err() == nil && (r.rows > 0 || len(r.batch.Replace) > 0 || r.batch.Dedupe) {
		// Keep what was read: the parents complete are not read again, and
		// those read in part are read again whole and replace their rows.
		r.batch.State = r.state
		r.batch.State.Pending = state()
		if here.Append {
			// An appending run ends here: it leaves one row per key.
			r.batch.Dedupe, r.batch.DedupeSince = true, here.Synced
		}
		if err := r.commit(); err != nil {
			r.e.Logger.Warn("saving the parents read before a failure failed", "table", t.Name, "err", err)
		}
	}
	return fetchErr
}

// parentKey is a fan-out table's parent key for a parent record.
func (r *tableRun) parentKey(parent gjson.Result) []any {
	return r.hashColumns(r.view, r.t.ParentKey, FanOutParentKey(r.e.Registry, r.view.src, parent, r.em))
}

// hashColumns hashes the values of the columns of v named by cols
// (values[i] for cols[i]) that v hashes: values read from a record or an
// event meet the rows they select as the row stage wrote them.
func (r *tableRun) hashColumns(v *view, cols []string, values []any) []any {
	if v.hashed == nil {
		return values
	}
	for i, name := range cols {
		j := slices.IndexFunc(v.t.Columns, func(c Column) bool { return c.Name == name })
		if j >= 0 && v.hashed[j] && i < len(values) {
			values[i] = r.hasher.Hash(values[i])
		}
	}
	return values
}

// FanOutParentKey is fan-out table t's parent key for a parent record: a
// table parent's key columns, or the spec's key paths, read from the record
// and converted like the extractor converts them.
func FanOutParentKey(reg *Registry, t *Table, parent gjson.Result, em *Emitter) []any {
	fo := t.FanOut
	key := make([]any, 0, len(t.ParentKey))
	if fo.Parent == "" {
		for _, path := range fo.Key {
			key = append(key, em.String(parent.Get(path)).Any())
		}
		return key
	}
	p := reg.Lookup(fo.Parent)
	for _, k := range p.PrimaryKey {
		i := slices.IndexFunc(p.Columns, func(c Column) bool { return c.Name == k })
		if i < 0 {
			continue
		}
		c := p.Columns[i]
		key = append(key, em.Value(c.Type, parent.Get(c.Source)))
	}
	return key
}

// fanOutURL fills the {parent.<field>} placeholders of the path (escaped
// as a path segment) and of the params (escaped as a query value).
func fanOutURL(t *Table, parent gjson.Result) string {
	req := *t.Request
	req.Params = slices.Clone(req.Params)
	for _, f := range t.FanOut.Fields {
		ph, val := "{parent."+f+"}", parent.Get(f).String()
		req.Path = strings.ReplaceAll(req.Path, ph, url.PathEscape(val))
		for i := range req.Params {
			req.Params[i].Value = strings.ReplaceAll(req.Params[i].Value, ph, val)
		}
	}
	return listURL(&req, "", "")
}

// newBatch starts a batch for the table's rows written at synced.
func (r *tableRun) newBatch(synced time.Time) {
	r.batch = &Batch{Table: r.t, Synced: synced, Rows: map[*Table]*RowSet{}, Replace: map[*Table][][]any{}, Append: r.append}
	r.rows, r.held = 0, 0
	if r.em == nil {
		r.em = NewEmitter(SinkFunc(r.stage))
		r.em.Skip = func(t *Table, column int) bool { return !r.e.plan.vs.of(t).writes(column) }
	}
}

// full tells whether the batch is due to commit: BatchRows rows, or
// BatchBytes of values held.
func (r *tableRun) full() bool {
	return r.rows >= r.e.BatchRows || r.held >= r.e.BatchBytes
}

// stagedRow is a row of the record being extracted (see extract).
type stagedRow struct {
	t    *Table
	vals []any
	dyn  []Field
}

// maxBadSamples is how many bad records a table report describes.
const maxBadSamples = 5

// record extracts one record of t into the batch. A bad record, one no row
// can be made of, is skipped and counted with the page it came from
// (TableReport.BadRecords), so that the rest of the table lands. It reports
// whether the record was good.
func (r *tableRun) record(v, parent gjson.Result, t *Table, pageURL string) bool {
	why := r.extract(v, parent, t)
	if why == "" {
		return true
	}
	r.report.BadRecords++
	if len(r.report.BadRecordSamples) < maxBadSamples {
		url := fetch.RedactURL(pageURL)
		r.report.BadRecordSamples = append(r.report.BadRecordSamples, BadRecord{URL: url, Reason: why})
		r.e.Logger.Warn("bad record skipped", "table", r.t.Name, "url", url, "reason", why)
	}
	return false
}

// extract runs the extractor over one record and adds its rows, the
// table's and its breakout children's, to the batch when they are all
// good; else it adds none and says why. Rows are checked before any
// destination sees them: a record that is not a JSON object, or a row whose
// primary key has a NULL value, which no destination accepts.
func (r *tableRun) extract(v, parent gjson.Result, t *Table) (why string) {
	r.staged, r.badWhy = r.staged[:0], ""
	if v.IsObject() {
		if t.History {
			r.recStart = r.changedAt(v, parent)
		}
		t.Extract(v, parent, r.em)
		why = r.badWhy
	} else {
		why = "not a JSON object but " + jsonKind(v)
	}
	if g := r.guard; g != nil {
		// The listing's loop guard knows a record by its row's key, or by its
		// text when it has none.
		i := slices.IndexFunc(r.staged, func(s stagedRow) bool { return s.t == t })
		if why == "" && i >= 0 {
			g.sawKey(r.staged[i].vals, r.keyPositions(t))
		} else {
			g.sawRaw(v.Raw)
		}
	}
	if why == "" {
		for _, s := range r.staged {
			r.add(s.t, s.vals, s.dyn)
		}
	}
	clear(r.staged) // the staged values belong to the batch now, or to no one
	r.staged = r.staged[:0]
	return why
}

// jsonKind names the kind of a JSON value for messages.
func jsonKind(v gjson.Result) string {
	switch {
	case v.IsArray():
		return "an array"
	case v.Type == gjson.Null:
		return "null"
	case v.Type == gjson.String:
		return "a string"
	case v.Type == gjson.Number:
		return "a number"
	case v.Type == gjson.True, v.Type == gjson.False:
		return "a boolean"
	}
	return "nothing"
}

// stage is the emitter's sink: a row waits in staged until its record is
// known to be good (see extract). t is the registry's table; the row is
// staged as its view writes it, or not at all for a table not read.
func (r *tableRun) stage(src *Table, row Row) {
	v := r.lastView
	if v == nil || v.src != src {
		v = r.e.plan.vs.of(src)
		r.lastView = v
	}
	if v == nil || !v.written && !v.t.Blocked {
		return
	}
	t := v.t
	vals, dyn := r.values(v, row)
	if v.keyAt >= 0 && !r.unpivoted(v, vals) {
		return // a key kept out: its row is not written
	}
	if r.badWhy == "" {
		for i, pos := range r.keyPositions(t) {
			if pos >= 0 && pos < len(vals) && vals[pos] == nil {
				r.badWhy = t.Name + "." + t.PrimaryKey[i] + " is null"
				break
			}
		}
	}
	r.staged = append(r.staged, stagedRow{t, vals, dyn})
}

// values copies a row's values out of it as its view writes them (the
// row stage: blocked columns left out, hashed ones hashed), with its
// dynamic columns.
func (r *tableRun) values(v *view, row Row) ([]any, []Field) {
	t := v.t
	// Rows are cut from a shared slab: one allocation per few hundred rows
	// instead of one per row.
	n := len(t.Columns)
	if cap(r.slab)-len(r.slab) < n {
		r.slab = make([]any, 0, max(256*n, 4096))
	}
	at := len(r.slab)
	var vals []any
	if v.keep == nil {
		vals = row.AppendValues(r.slab[at : at : at+n])
	} else {
		r.scratch = row.AppendValues(r.scratch[:0])
		vals = r.slab[at : at : at+n]
		for _, i := range v.keep {
			if i < len(r.scratch) {
				vals = append(vals, r.scratch[i])
			}
		}
		clear(r.scratch)
	}
	if len(vals) <= n {
		r.slab = r.slab[:at+len(vals)]
	}
	if v.hashed != nil {
		for i, h := range v.hashed {
			if h && i < len(vals) {
				vals[i] = r.hasher.Hash(vals[i])
			}
		}
	}
	var dyn []Field
	if len(t.Dynamic) > 0 {
		if d, ok := row.(DynamicRow); ok {
			dyn = r.dynamic(v, d.DynamicFields())
		}
	}
	return vals, dyn
}

// dynamic applies the settings and the schema-change policy to a row's
// dynamic columns: blocked ones are left out, hashed ones hashed, and one
// the destination does not have yet is added or kept out as the policy
// says, once, and recorded.
func (r *tableRun) dynamic(v *view, fields []Field) []Field {
	if v.dynamic == nil && v.hashDynamic == nil && r.e.plan.fresh[v.t] {
		return fields // the table's first sync takes every column
	}
	var out []Field // nil until a field is dropped or changed
	for i, f := range fields {
		keep, hash := r.dynamicField(v, f.Name), v.hashDynamic[f.Name]
		if out == nil && (!keep || hash) {
			out = append(make([]Field, 0, len(fields)), fields[:i]...)
		}
		if !keep {
			continue
		}
		if hash {
			f.Value = r.hasher.Hash(f.Value)
		}
		if out != nil {
			out = append(out, f)
		}
	}
	if out == nil {
		return fields
	}
	return out
}

// dynamicField decides whether a dynamic column is written: as the
// settings say, else when the destination has it, else as the
// schema-change policy says the first time it appears (recorded, and kept
// in the table's state when it keeps the column out).
func (r *tableRun) dynamicField(v *view, name string) bool {
	if on, set := v.dynamic[name]; set {
		return on
	}
	if r.e.plan.fresh[v.t] {
		return true
	}
	lower := strings.ToLower(name)
	known := r.e.plan.known[v.t]
	if known == nil {
		known = map[string]bool{}
		r.e.plan.known[v.t] = known
	}
	if known[lower] {
		return true
	}
	key := v.t.Name + "." + name
	if r.keptOut[key] {
		return false
	}
	typ, _ := v.t.DynamicType(name)
	c := SchemaChange{At: r.started, Table: v.t.Name, Column: name, Type: typ.String(), Decision: "added",
		Reason: "new column; schema_change_handling is " + string(r.e.plan.policy)}
	if r.e.plan.policy == BlockAll {
		c.Decision = "not added"
		r.keptOut[key] = true
	} else {
		known[lower] = true
	}
	r.changes = append(r.changes, c)
	r.e.plan.record(c)
	return c.Decision == "added"
}

// unpivoted applies the settings and the schema-change policy to a row of
// an unpivoted table as dynamic does to a dynamic column, the row's key
// standing for the column: it reports whether the row is written, and
// hashes its value when the key is hashed.
func (r *tableRun) unpivoted(v *view, vals []any) bool {
	key, _ := vals[v.keyAt].(string)
	if v.valueAt >= 0 && v.hashDynamic[key] {
		vals[v.valueAt] = r.hasher.Hash(vals[v.valueAt])
	}
	if on, set := v.dynamic[key]; set {
		return on
	}
	entry := v.t.Name + "." + key
	if r.keys[entry] {
		return true
	}
	if r.keptOut[entry] {
		return false
	}
	if !r.tracked[v.t] {
		// Keys not tracked yet (the table's first sync, or state saved
		// before they were): what is there now is the table's.
		r.keys[entry] = true
		return true
	}
	typ := TypeString
	if v.valueAt >= 0 {
		typ = v.t.Columns[v.valueAt].Type
	}
	c := SchemaChange{At: r.started, Table: v.t.Name, Column: key, Type: typ.String(), Decision: "added",
		Reason: "new key of " + v.t.Breakout.Path + "; schema_change_handling is " + string(r.e.plan.policy)}
	if r.e.plan.policy == BlockAll {
		c.Decision = "not added"
		r.keptOut[entry] = true
	} else {
		r.keys[entry] = true
	}
	r.changes = append(r.changes, c)
	r.e.plan.record(c)
	return c.Decision == "added"
}

// changedAt is when a record changed at the source: the latest of its
// table's cursor fields, read from the parent record for a breakout
// child; zero (the sync time) when the table has none.
func (r *tableRun) changedAt(rec, parent gjson.Result) time.Time {
	in := r.view.owner.src.Incremental
	if in == nil || len(in.Fields()) == 0 {
		return time.Time{}
	}
	t, _ := ParseTimestamp(recordCursor(rec, in))
	return t
}

// add puts a row's values into the batch and notes the parents whose
// children it replaces.
func (r *tableRun) add(t *Table, vals []any, dyn []Field) {
	// A blocked table's rows are not written, but they still replace their
	// children's.
	if !t.Blocked {
		rs := r.batch.Rows[t]
		if rs == nil {
			rs = &RowSet{}
			r.batch.Rows[t] = rs
		}
		rs.Rows = append(rs.Rows, vals)
		r.held += RowBytes(vals)
		if len(t.Dynamic) > 0 {
			rs.Dynamic = append(rs.Dynamic, dyn)
		}
		if t.History {
			rs.Start = append(rs.Start, r.recStart)
		}
		r.rows++
		r.report.Rows[t.Name]++
	}
	if len(t.Children) > 0 {
		key := r.keyValues(t, vals)
		for _, c := range t.Children {
			r.batch.Replace[c] = append(r.batch.Replace[c], key)
		}
	}
}

// keyValues picks a row's primary key values. The key's column positions
// are looked up once per table: this runs for every row that has children.
func (r *tableRun) keyValues(t *Table, vals []any) []any {
	idx := r.keyPositions(t)
	key := make([]any, 0, len(idx))
	for _, i := range idx {
		if i >= 0 && i < len(vals) {
			key = append(key, vals[i])
		}
	}
	return key
}

// keyPositions is KeyPositions, looked up once per table: it runs for every
// row.
func (r *tableRun) keyPositions(t *Table) []int {
	idx, ok := r.keyIdx[t]
	if !ok {
		idx = KeyPositions(t)
		if r.keyIdx == nil {
			r.keyIdx = map[*Table][]int{}
		}
		r.keyIdx[t] = idx
	}
	return idx
}

// KeyPositions are the positions of t's primary key columns in t.Columns
// (-1 for a key column t does not have).
func KeyPositions(t *Table) []int {
	idx := make([]int, 0, len(t.PrimaryKey))
	for _, k := range t.PrimaryKey {
		idx = append(idx, slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == k }))
	}
	return idx
}

// extractPage runs the extractor over a page's records; it returns how many
// records there were, bad ones included, and the highest cursor field value
// among the good ones.
func (r *tableRun) extractPage(page *fetch.Page, parent gjson.Result, t *Table) (int, string) {
	n := 0
	maxCursor := ""
	field := ""
	if t.Incremental != nil && t.Incremental.Kind == IncrementalFilter {
		field = t.Incremental.CursorField
	}
	EachRecord(page.Body, t.Request.Records, func(v gjson.Result) {
		n++
		if r.record(v, parent, t, page.URL) && field != "" {
			maxCursor = maxString(maxCursor, recordCursor(v, t.Incremental))
		}
	})
	return n, maxCursor
}

// commit hands the batch to the destination and starts the next one. The
// commit runs while the table goes on fetching and extracting, so a table's
// network, CPU and destination work overlap; batches still commit one at a
// time and in order, so the state each saves follows the one before. The
// commit's error is returned by the next commit or by waitCommit. It runs
// under the table's context: a caller's may be a shorter-lived one (a page
// of fan-out parents) that ends before the commit does.
func (r *tableRun) commit() error {
	if err := r.waitCommit(); err != nil {
		return err
	}
	b := r.batch
	if err := r.checkStateURLs(b.State); err != nil {
		return err
	}
	if p := b.State.Pending; p != nil && p.ServerStart.IsZero() {
		// Every resume point carries the run's start on the server's clock,
		// so a resumed run keeps the bounds of the run it continues.
		cp := *p
		cp.ServerStart = r.serverStart
		b.State.Pending = &cp
	}
	b.State.LastSynced = lastSynced(b, r.state)
	r.settle(b)
	r.state = b.State
	done := make(chan error, 1)
	r.committing = done
	newest := r.newest
	r.newest = false
	go func() {
		err := r.e.Dest.Commit(r.ctx, b)
		if err == nil && newest {
			r.newestAt = time.Since(r.begin)
		}
		done <- err
	}()
	r.newBatch(b.Synced)
	return nil
}

// settle completes a batch with what the settings ask of it: the table's
// settings in its state, the deletion of every row before the first batch
// of a rebuild, the schema changes made since the last batch, and the end
// of a re-sync once its full import is complete.
func (r *tableRun) settle(b *Batch) {
	st := &b.State
	st.History = r.t.History
	st.Hashed = r.e.plan.vs.hashedNames(r.view)
	st.KeptOut = r.state.KeptOut
	for k := range r.keptOut {
		if !slices.Contains(st.KeptOut, k) {
			st.KeptOut = append(slices.Clone(st.KeptOut), k)
		}
	}
	slices.Sort(st.KeptOut)
	for _, v := range r.e.plan.vs.order {
		if v.owner == r.view && v.keyAt >= 0 {
			r.keys[v.t.Name+"."] = true // tracked from now on
		}
	}
	st.Keys = slices.Sorted(maps.Keys(r.keys))
	if r.rebuild && !r.truncated {
		b.Truncate, r.truncated = true, true
	}
	st.Rebuild = false
	// A re-sync ends with its full import; a polling table's re-read goes
	// on from its cursor.
	st.Resync = ""
	if r.resync != "" && st.Pending != nil && st.Pending.Full {
		st.Resync = r.resync
	}
	for _, c := range r.changes {
		addChange(b, c)
	}
	r.changes = nil
}

// checkStateURLs refuses a state whose resume URLs the Fetcher would not
// request (URLChecker): those came from responses, and a hostile or broken
// server must not get a foreign link or an echoed credential into state.
func (r *tableRun) checkStateURLs(st TableState) error {
	c, ok := r.e.Fetcher.(URLChecker)
	if !ok {
		return nil
	}
	urls := []string{}
	if in := r.t.Incremental; in != nil && in.Kind == IncrementalNextURL {
		urls = append(urls, st.Cursor)
	}
	if p := st.Pending; p != nil {
		urls = append(urls, p.URL, p.ParentURL, p.ChangesURL)
	}
	if b := st.Backfill; b != nil {
		urls = append(urls, b.URL)
	}
	for _, u := range urls {
		if u == "" {
			continue
		}
		if err := c.CheckURL(r.t.Name, u); err != nil {
			return fmt.Errorf("not saved as where the table resumes: %w", err)
		}
	}
	return nil
}

// waitCommit waits for the batch being committed, if any.
func (r *tableRun) waitCommit() error {
	if r.committing == nil {
		return nil
	}
	err := <-r.committing
	r.committing = nil
	if err != nil {
		return fmt.Errorf("%s: commit: %w", r.t.Name, err)
	}
	if r.newestAt != 0 && r.report.NewestAt == 0 {
		r.report.NewestAt = r.newestAt
	}
	if r.e.Progress != nil {
		// A copy: the hook may keep the report and read it from another
		// goroutine while the table goes on.
		rep := r.report
		rep.Waited = r.waits.total()
		rep.Rows = maps.Clone(r.report.Rows)
		rep.BadRecordSamples = slices.Clone(r.report.BadRecordSamples)
		r.e.Progress(rep)
	}
	return nil
}

// eachRecord calls fn for every record of a body: the elements of the array
// at path (the body itself when path is empty), or the body as one record
// when it is a single object, as detail endpoints answer.
func EachRecord(body []byte, path string, fn func(gjson.Result)) {
	doc := gjson.ParseBytes(body)
	if path != "" {
		doc = doc.Get(path)
	}
	switch {
	case doc.IsArray():
		doc.ForEach(func(_, v gjson.Result) bool {
			fn(v)
			return true
		})
	case doc.IsObject():
		fn(doc)
	}
}

func nextURL(p Pagination, page *fetch.Page) string {
	switch p.Kind {
	case PaginationLinkHeader:
		return page.Links[p.Rel]
	case PaginationBodyLink:
		return gjson.GetBytes(page.Body, p.NextPath).String()
	}
	return ""
}

// listURL is a request's path and query: fixed params in spec order, then the
// incremental one.
func listURL(req *Request, param, value string) string {
	var q []string
	for _, p := range req.Params {
		q = append(q, url.QueryEscape(p.Name)+"="+url.QueryEscape(p.Value))
	}
	if param != "" {
		q = append(q, url.QueryEscape(param)+"="+url.QueryEscape(value))
	}
	if len(q) == 0 {
		return req.Path
	}
	return req.Path + "?" + strings.Join(q, "&")
}

// cursorFormat is how cursors are written: RFC 3339 in UTC with milliseconds,
// the form APIs that filter on timestamps accept.
const cursorFormat = "2006-01-02T15:04:05.000Z"

func formatCursor(t time.Time) string { return t.UTC().Format(cursorFormat) }

// cursorValue reads a record's cursor field in a comparable form: timestamps
// normalised to cursorFormat, anything else as its text.
func cursorValue(rec gjson.Result, field string) string {
	v := rec.Get(field)
	if !v.Exists() || v.Type == gjson.Null {
		return ""
	}
	if t, ok := ParseTimestamp(v.String()); ok {
		return formatCursor(t)
	}
	return v.String()
}

// shiftCursor moves a timestamp cursor; other cursors stay as they are.
func shiftCursor(c string, d time.Duration) string {
	t, ok := ParseTimestamp(c)
	if !ok {
		return c
	}
	return formatCursor(t.Add(d))
}

// maxString keeps the larger cursor; cursorFormat sorts as text.
func maxString(a, b string) string {
	if b > a {
		return b
	}
	return a
}

// DefaultBatchRows is Engine.BatchRows's default.
const DefaultBatchRows = 10000

// DefaultBatchBytes is Engine.BatchBytes's default. The engine holds two
// batches, one committing while the next collects, so it bounds most of
// the engine's heap. By RowBytes the benchmark's rows weighed from 100
// bytes (a membership) to 860 (an audit event, a device): 4 MB cuts the
// widest at about 5,000 rows and leaves narrow tables at BatchRows.
const DefaultBatchBytes = 4 << 20

// RowBytes is what a row's values weigh in a batch: a slot and a box per
// value, and the text of strings.
func RowBytes(vals []any) int {
	n := len(vals) * 32
	for _, v := range vals {
		if s, ok := v.(string); ok {
			n += len(s)
		}
	}
	return n
}
