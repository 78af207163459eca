package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime/fetch"
)

// Fetcher gets one page; *fetch.Client is the real one.
type Fetcher interface {
	Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error)
}

// Engine syncs the tables of a registry into a destination.
type Engine struct {
	Registry *Registry
	Fetcher  Fetcher
	Dest     Destination
	// Now is the clock of sync times and cursors; time.Now when nil. Tests fix
	// it so that output tables can be compared with golden files.
	Now func() time.Time
	// Select limits the sync to some tables (top-level and fan-out names);
	// nil syncs all. Children follow their parent.
	Select func(table string) bool
	// ReimportEvery overrides a table's full re-import period.
	ReimportEvery map[string]time.Duration
	// Parallel is how many tables sync at once (default 4); FanOutParallel how
	// many parents of one fan-out table are fetched at once (default 4).
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
}

// TableStatus is how a table's sync ended.
type TableStatus string

const (
	StatusOK      TableStatus = "ok"
	StatusSkipped TableStatus = "skipped" // forbidden or feature not enabled: the rest of the sync goes on
	StatusFailed  TableStatus = "failed"
	StatusRunning TableStatus = "running"
	// StatusNotStarted: the sync stopped (interrupted, credentials refused)
	// before the table's turn.
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
	Waited   time.Duration // spent waiting on rate limits
	Deleted  bool          // a delete sweep ran
	Reason   string
	Err      error
	Duration time.Duration
}

// Summary is the outcome of a sync.
type Summary struct {
	Started time.Time
	Tables  []TableReport
}

// Partial reports whether some table was skipped or failed.
func (s *Summary) Partial() bool {
	for _, t := range s.Tables {
		if t.Status != StatusOK {
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
	if err := e.Dest.Prepare(ctx, e.selected()); err != nil {
		return nil, fmt.Errorf("prepare destination: %w", err)
	}
	states, err := e.Dest.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	tables := e.selected()
	reports := make([]TableReport, len(tables))
	// Tables start in priority order as slots free up: fan-out tables first,
	// because they make most of a sync's requests and take longest, so the
	// busiest rate-limit buckets are at work from the first window on and the
	// long tables do not start last. A fan-out table lists its parents itself,
	// so it need not wait for the parent table.
	slots := make(chan struct{}, e.Parallel)
	turn := make([]chan struct{}, len(tables))
	for i := range turn {
		turn[i] = make(chan struct{})
	}
	go func() {
		for _, i := range startOrder(tables) {
			select {
			case slots <- struct{}{}:
				close(turn[i])
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for i, t := range tables {
		wg.Go(func() {
			select {
			case <-turn[i]:
			case <-ctx.Done():
				// Its reason must not quote the error of the table that
				// stopped the sync.
				reports[i] = TableReport{Table: t.Name, Status: StatusNotStarted, Err: context.Cause(ctx), Reason: "not started: sync stopped"}
				return
			}
			defer func() { <-slots }()
			run := &tableRun{e: e, t: t, state: states[t.Name], started: started}
			reports[i] = run.sync(ctx)
			if errors.Is(reports[i].Err, fetch.ErrUnauthorized) {
				cancel(reports[i].Err)
			}
		})
	}
	wg.Wait()
	sum := &Summary{Started: started, Tables: reports}
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, fetch.ErrUnauthorized) {
		return sum, fmt.Errorf("authentication failed, sync stopped: %w", cause)
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	if sum.Partial() {
		return sum, ErrPartial
	}
	return sum, nil
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

// selected lists the tables with a request that the sync covers, parents
// before their fan-out tables.
func (e *Engine) selected() []*Table {
	var out []*Table
	for _, t := range e.Registry.Tables {
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
	em     *Emitter
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
	// slab holds the values of the rows collected (see collect).
	slab []any
}

func (r *tableRun) sync(ctx context.Context) TableReport {
	begin := time.Now()
	r.report = TableReport{Table: r.t.Name, Status: StatusRunning, Rows: map[string]int64{}}
	r.ctx = ctx
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
	r.report.Duration = time.Since(begin)
	if r.em != nil {
		r.report.Invalid = r.em.Stats.Invalid
	}
	switch {
	case err == nil:
		r.report.Status = StatusOK
	case errors.Is(err, fetch.ErrForbidden):
		r.report.Status = StatusSkipped
		r.report.Reason = "forbidden: " + r.needs() + " (" + err.Error() + ")"
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
		if st.Cursor != "" {
			pl.url = st.Cursor
		} else {
			start := r.e.Now().UTC().Add(-in.StartLookback)
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
	if r.t.Deletes.Kind != DeletesFullReimport {
		return false
	}
	every := r.t.Deletes.Every
	if o, ok := r.e.ReimportEvery[r.t.Name]; ok {
		every = o
	}
	return r.state.LastFullImport.IsZero() || !r.e.Now().Before(r.state.LastFullImport.Add(every))
}

// firstRun reports whether the table has never been read before: its first
// import can then be appended without merging, since no earlier row exists
// (Batch.Append).
func (r *tableRun) firstRun() bool {
	st := r.state
	return st.Cursor == "" && st.ParentCursor == "" && st.LastFullImport.IsZero() && st.Pending == nil
}

// reimportDue reports whether an incremental table is read whole this time:
// on its first sync, and when its re-import period has passed.
func (r *tableRun) reimportDue() bool {
	return r.state.Cursor == "" || r.fullPassDue()
}

// syncList reads a table with its own list endpoint, page after page,
// committing each batch together with where to resume.
func (r *tableRun) syncList(ctx context.Context) error {
	t := r.t
	pl := r.plan()
	// A polling table's cursor commits with its rows, so a page is never read
	// twice: continuing the stream appends too.
	poll := t.Pagination.Poll
	r.append = pl.append || (poll && r.state.Cursor != "")
	r.newBatch(pl.synced)
	maxCursor := pl.maxCursor
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
		r.report.Waited += page.Waited
		r.report.Pages++
		n, pageMax := r.extractPage(page.Body, gjson.Result{}, t)
		maxCursor = maxString(maxCursor, pageMax)
		next := nextURL(t.Pagination, page)
		page.Release() // the rows hold copies, not the page's buffer
		if poll {
			// A polling endpoint always has a next link. An empty page means
			// caught up: the URL that returned it is where the next sync asks.
			if n == 0 || next == "" {
				r.batch.State = TableState{Cursor: url}
				r.batch.Dedupe = pl.append
				return r.commit()
			}
			r.batch.State = TableState{Cursor: next}
			if r.full() {
				if err := r.commit(); err != nil {
					return err
				}
			}
			continue
		}
		if next == "" {
			break
		}
		if r.full() {
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
		final.Cursor = maxString(r.state.Cursor, maxCursor)
	}
	if pl.full {
		final.LastFullImport = pl.synced
		if t.Deletes.Kind == DeletesFullReimport {
			r.batch.Sweep = &Sweep{Before: pl.synced, FanOut: r.fanOutsOf(t)}
			r.report.Deleted = true
		}
	}
	r.batch.State = final
	r.batch.Dedupe = r.append
	return r.commit()
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
	synced := r.started
	// Every parent is read on the first sync, without changed_since, and when
	// the table's periodic full pass is due: a change that does not move the
	// parent's changed_since field is caught then.
	full := cs == nil || st.ParentCursor == "" || nested != nil || r.fullPassDue()
	parentURL := ""
	maxParent := ""
	r.append = r.firstRun()
	if p := st.Pending; p != nil {
		r.append = p.Append
	}
	if p := st.Pending; p != nil && p.ParentURL != "" {
		r.report.Mode = "resume"
		synced, full, parentURL, maxParent = p.Synced, p.Full, p.ParentURL, p.MaxParentCursor
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
	r.newBatch(synced)
	switch {
	case nested != nil:
		// A crash restarts the whole table: the parents' own listings are
		// not tracked, and re-reading replaces rows with themselves.
		here := &Pending{Synced: synced, Full: full, Append: r.append}
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
		if err := r.fanOutPage(ctx, parents, &Pending{Synced: synced, Full: full, Append: r.append}); err != nil {
			return err
		}
	}
	for parentURL != "" {
		page, err := r.e.Fetcher.Get(ctx, t.Name, listing.Bucket, parentURL)
		r.report.Requests++
		if err != nil {
			return err
		}
		r.report.Waited += page.Waited
		var parents []gjson.Result
		EachRecord(page.Body, listing.Records, func(v gjson.Result) {
			parents = append(parents, v)
			if cs != nil {
				maxParent = maxString(maxParent, cursorValue(v, cs.CursorField))
			}
		})
		next := nextURL(pagination, page)
		here := &Pending{Synced: synced, Full: full, ParentURL: parentURL, MaxParentCursor: maxParent, Append: r.append}
		if err := r.fanOutPage(ctx, parents, here); err != nil {
			return err
		}
		parentURL = next
		if parentURL != "" {
			// Resume from the next parent page; parents already done are
			// replaced again at worst, which changes nothing.
			r.batch.State = st
			r.batch.State.Pending = &Pending{Synced: synced, Full: full, ParentURL: parentURL, MaxParentCursor: maxParent, Append: r.append}
			if err := r.commit(); err != nil {
				return err
			}
		}
	}
	final := st
	final.Pending = nil
	if maxParent != "" {
		final.ParentCursor = maxString(st.ParentCursor, maxParent)
	}
	if full {
		final.LastFullImport = synced
		if t.Deletes.Kind == DeletesFullReimport {
			r.batch.Sweep = &Sweep{Before: synced, FanOut: r.fanOutsOf(t)}
			r.report.Deleted = true
		}
	}
	r.batch.State = final
	r.batch.Dedupe = r.append
	return r.commit()
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
			for url != "" {
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
	for url != "" {
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
// matter: each parent's rows are replaced by parent key, and a commit inside
// the page resumes at the start of the page.
func (r *tableRun) fanOutPage(ctx context.Context, parents []gjson.Result, here *Pending) error {
	t := r.t
	type piece struct {
		parent int
		page   *fetch.Page // nil: the parent has nothing (more)
		last   bool        // the parent's listing is complete
		err    error
		waited time.Duration
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pieces := spread(ctx, r.e.FanOutParallel, len(parents), func(i int, emit func(piece)) {
		url := fanOutURL(t, parents[i])
		for url != "" {
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
			emit(piece{parent: i, page: page, last: url == "", waited: page.Waited})
		}
		if url != "" {
			emit(piece{parent: i, last: true})
		}
	})
	started := make([]bool, len(parents))
	var firstErr error
	for p := range pieces {
		if firstErr != nil {
			continue // drain so the workers can finish
		}
		r.report.Requests++
		r.report.Waited += p.waited
		if p.err != nil {
			firstErr = p.err
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
			r.extractPage(p.page.Body, parents[p.parent], t)
			p.page.Release()
		}
		if r.full() {
			// A commit inside a page of parents resumes at that page.
			r.batch.State = r.state
			r.batch.State.Pending = here
			if err := r.commit(); err != nil {
				firstErr = err
				cancel()
			}
		}
	}
	return firstErr
}

// parentKey is a fan-out table's parent key for a parent record.
func (r *tableRun) parentKey(parent gjson.Result) []any {
	return FanOutParentKey(r.e.Registry, r.t, parent, r.em)
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
		r.em = NewEmitter(SinkFunc(r.collect))
	}
}

// full tells whether the batch is due to commit: BatchRows rows, or
// BatchBytes of values held.
func (r *tableRun) full() bool {
	return r.rows >= r.e.BatchRows || r.held >= r.e.BatchBytes
}

// collect is the emitter's sink: it copies each row's values into the batch
// and notes the parents whose children it replaces.
func (r *tableRun) collect(t *Table, row Row) {
	rs := r.batch.Rows[t]
	if rs == nil {
		rs = &RowSet{}
		r.batch.Rows[t] = rs
	}
	// Rows are cut from a shared slab: one allocation per few hundred rows
	// instead of one per row.
	n := len(t.Columns)
	if cap(r.slab)-len(r.slab) < n {
		r.slab = make([]any, 0, max(256*n, 4096))
	}
	at := len(r.slab)
	vals := row.AppendValues(r.slab[at : at : at+n])
	if len(vals) <= n {
		r.slab = r.slab[:at+len(vals)]
	}
	rs.Rows = append(rs.Rows, vals)
	r.held += RowBytes(vals)
	if len(t.Dynamic) > 0 {
		var dyn []Field
		if d, ok := row.(DynamicRow); ok {
			dyn = d.DynamicFields()
		}
		rs.Dynamic = append(rs.Dynamic, dyn)
	}
	r.rows++
	r.report.Rows[t.Name]++
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
	idx, ok := r.keyIdx[t]
	if !ok {
		idx = KeyPositions(t)
		if r.keyIdx == nil {
			r.keyIdx = map[*Table][]int{}
		}
		r.keyIdx[t] = idx
	}
	key := make([]any, 0, len(idx))
	for _, i := range idx {
		if i >= 0 && i < len(vals) {
			key = append(key, vals[i])
		}
	}
	return key
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
// records there were and the highest cursor field value among them.
func (r *tableRun) extractPage(body []byte, parent gjson.Result, t *Table) (int, string) {
	n := 0
	maxCursor := ""
	field := ""
	if t.Incremental != nil && t.Incremental.Kind == IncrementalFilter {
		field = t.Incremental.CursorField
	}
	EachRecord(body, t.Request.Records, func(v gjson.Result) {
		n++
		t.Extract(v, parent, r.em)
		if field != "" {
			maxCursor = maxString(maxCursor, cursorValue(v, field))
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
	r.state = b.State
	done := make(chan error, 1)
	r.committing = done
	go func() { done <- r.e.Dest.Commit(r.ctx, b) }()
	r.newBatch(b.Synced)
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
	if r.e.Progress != nil {
		r.e.Progress(r.report)
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
