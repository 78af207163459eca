package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime/fetch"
)

// Reading a fan-out table from a change feed (FanOut.Changes).
//
// Such a table reads every parent on its first sync and whenever its full
// pass is due (Deletes.Every). In between it reads the events its feed
// published in the window [cursor - lookback, run start), oldest first, and
// applies each event of the types it lists. The window is on the server's
// clock (ServerClock), never the local one alone:
//
//   - relist: the parent the event names is listed again and its rows
//     replaced, as a full pass does;
//   - fetch: the one record the event names is read by its detail URL; a 200
//     upserts it, a 404 marks its row deleted;
//   - row: the row is made from the event alone and upserted;
//   - delete: the rows whose columns equal the event's values are marked
//     deleted.
//
// Re-listings and fetches read the state as it is now, after every event of
// the window, so each parent and each URL is read once per sync. Rows and
// deletes made from events follow the events' order: a delete drops the rows
// of the same batch it matches, and the destination applies a batch's
// deletes before its rows.
//
// The window's end becomes the table's cursor, committed with the last
// batch; batches before it save the feed page they stopped at, so a crash
// resumes there and applies some events again, which changes nothing. A full
// pass reflects every event before its start, so the cursor is never older
// than the last full pass. A feed the source refuses (no permission, feature
// not enabled, a request it rejects) sends the table to its full pass.

// syncChanges reads the table from its change feed when it is not due for a
// full pass. done is false when the table must be read in full instead.
func (r *tableRun) syncChanges(ctx context.Context) (done bool, err error) {
	ch := r.t.FanOut.Changes
	if ch == nil {
		return false, nil
	}
	feed := r.e.Registry.Source.Feed(ch.Feed)
	if feed == nil {
		return true, fmt.Errorf("%s: change feed %q is not declared by the source", r.t.Name, ch.Feed)
	}
	st := r.state
	var synced time.Time
	var next, until string
	switch p := st.Pending; {
	case p != nil && p.ChangesURL != "":
		r.report.Mode = "resume"
		synced, next, until = p.Synced, p.ChangesURL, p.ChangesUntil
	case p != nil:
		return false, nil // an interrupted full pass goes on as one
	case st.LastFullImport.IsZero() || r.fullPassDue():
		return false, nil
	default:
		// The window is on the server's clock: its end is the run's start
		// there, its start the end of the last window or the last full
		// pass's start there (the local one for state saved before that).
		full := st.LastFullImportServer
		if full.IsZero() {
			full = st.LastFullImport
		}
		since := maxString(st.ChangesCursor, formatCursor(full))
		until = formatCursor(r.serverStart)
		if since > until {
			// Saved by a client whose clock ran ahead of the server's: no
			// window fits, and a full pass starts afresh on the server's clock.
			r.e.Logger.Warn("change feed window starts after the server's time, reading every parent instead",
				"table", r.t.Name, "since", since, "until", until)
			return false, nil
		}
		r.report.Mode = "incremental"
		synced = r.started
		next = changesURL(feed, ch, shiftCursor(since, -feed.Lookback), until)
	}
	c := newChangeRun(r, feed, ch)
	r.newBatch(synced)
	first := true
	guard := newLoopGuard(r.t.Name)
	if err := guard.visit(next); err != nil {
		return true, err
	}
	for next != "" {
		page, err := r.e.Fetcher.Get(ctx, r.t.Name, feed.Request.Bucket, next)
		r.report.Requests++
		if err != nil && first && feedRefused(err) {
			r.e.Logger.Warn("change feed refused, reading every parent instead", "table", r.t.Name, "feed", feed.Name, "err", err)
			return false, nil
		}
		if err != nil {
			return true, err
		}
		first = false
		r.report.Pages++
		here := &Pending{Synced: synced, ChangesURL: next, ChangesUntil: until}
		next = nextURL(feed.Pagination, page)
		if next != "" {
			// A feed whose next link leads back fails before its page is
			// applied and saved as a resume point.
			if err := guard.visit(next); err != nil {
				return true, err
			}
		}
		if err := c.page(ctx, page.Body, here); err != nil {
			return true, err
		}
		if next != "" && r.full() {
			r.batch.State = r.state
			r.batch.State.Pending = &Pending{Synced: synced, ChangesURL: next, ChangesUntil: until}
			if err := r.commit(); err != nil {
				return true, err
			}
		}
	}
	if c.skipped > 0 {
		r.e.Logger.Warn("change feed events without the fields their action needs were skipped",
			"table", r.t.Name, "feed", feed.Name, "skipped", c.skipped)
	}
	r.e.Logger.Debug("change feed applied", "table", r.t.Name, "events", c.events, "skipped", c.skipped)
	final := r.state
	final.Pending = nil
	final.ChangesCursor = until
	r.batch.State = final
	return true, r.commit()
}

// feedRefused reports whether an error on a change feed's first page means
// the feed cannot be used here (no permission, a feature the org lacks, a
// request the source rejects, such as a resumed page whose cursor expired),
// so that the table falls back to its full pass.
func feedRefused(err error) bool {
	return errors.Is(err, fetch.ErrForbidden) || errors.Is(err, fetch.ErrFeatureDisabled) || errors.Is(err, fetch.ErrBadRequest)
}

// changesURL is the first page of a feed's window for the event types of ch:
// fixed params, the type filter, then since and until.
func changesURL(f *Feed, ch *Changes, since, until string) string {
	req := *f.Request
	req.Params = slices.Clone(req.Params)
	if f.FilterParam != "" {
		var conds []string
		for _, ev := range ch.Events {
			for _, t := range ev.Types {
				conds = append(conds, strings.ReplaceAll(f.FilterTemplate, "{type}", t))
			}
		}
		req.Params = append(req.Params, Param{Name: f.FilterParam, Value: strings.Join(conds, f.FilterJoin)})
	}
	req.Params = append(req.Params, Param{Name: f.SinceParam, Value: since}, Param{Name: f.UntilParam, Value: until})
	return listURL(&req, "", "")
}

// changeRun applies the events of one run of changes.
type changeRun struct {
	r      *tableRun
	feed   *Feed
	byType map[string][]*ChangeEvent
	// done holds the parents re-listed and the URLs fetched by this run.
	done    map[string]bool
	events  int
	skipped int // events lacking a field their action needs
}

func newChangeRun(r *tableRun, feed *Feed, ch *Changes) *changeRun {
	c := &changeRun{r: r, feed: feed, byType: map[string][]*ChangeEvent{}, done: map[string]bool{}}
	for i := range ch.Events {
		ev := &ch.Events[i]
		for _, t := range ev.Types {
			c.byType[t] = append(c.byType[t], ev)
		}
	}
	return c
}

// fetchReq is one record to read by its detail URL.
type fetchReq struct {
	url, bucket string
	parent, rec gjson.Result
}

// page applies a page of events in order, then makes the re-listings and
// fetches they asked for. here is where a commit inside the page resumes:
// at the page itself.
func (c *changeRun) page(ctx context.Context, body []byte, here *Pending) error {
	r := c.r
	var relist []gjson.Result
	var fetches []fetchReq
	EachRecord(body, c.feed.Request.Records, func(ev gjson.Result) {
		for _, a := range c.byType[ev.Get(c.feed.TypeField).String()] {
			c.events++
			switch a.Action {
			case ChangeRelist:
				parent, ok := eventObject(ev, a.Parent)
				var key []any
				if ok {
					key = r.parentKey(parent)
				}
				if !ok || slices.Contains(key, nil) {
					c.skip(ev)
					continue
				}
				k := fmt.Sprintf("relist %#v", key)
				if !c.done[k] {
					c.done[k] = true
					relist = append(relist, parent)
				}
			case ChangeFetch:
				parent, ok1 := eventObject(ev, a.Parent)
				rec, ok2 := eventObject(ev, a.Record)
				u, ok3 := detailURL(a.Path, parent, rec)
				if !ok1 || !ok2 || !ok3 {
					c.skip(ev)
					continue
				}
				if !c.done[u] {
					c.done[u] = true
					fetches = append(fetches, fetchReq{url: u, bucket: a.Bucket, parent: parent, rec: rec})
				}
			case ChangeRow:
				parent, ok1 := eventObject(ev, a.Parent)
				rec, ok2 := eventObject(ev, a.Record)
				if !ok1 || !ok2 || !c.upsert(rec, parent) {
					c.skip(ev)
				}
			case ChangeDelete:
				m, ok := c.match(ev, a.Match)
				if !ok {
					c.skip(ev)
					continue
				}
				c.delete(m)
			}
		}
	})
	if len(relist) > 0 {
		if err := r.fanOutPage(ctx, relist, here); err != nil {
			return err
		}
	}
	if len(fetches) > 0 {
		return c.fetch(ctx, fetches, here)
	}
	return nil
}

func (c *changeRun) skip(ev gjson.Result) {
	c.skipped++
	c.r.e.Logger.Debug("change feed event skipped: a field its action needs is missing", "table", c.r.t.Name,
		"type", ev.Get(c.feed.TypeField).String())
}

// upsert runs the extractor on a record made from an event and adds its rows
// to the batch, unless a row would have a NULL key, which no destination
// accepts: the event then lacks a field its action needs.
func (c *changeRun) upsert(rec, parent gjson.Result) bool {
	return c.r.extract(rec, parent, c.r.t) == ""
}

// rowKey is the primary key of the row the extractor makes of a record.
func (c *changeRun) rowKey(rec, parent gjson.Result) ([]any, bool) {
	r := c.r
	var key []any
	r.t.Extract(rec, parent, NewEmitter(SinkFunc(func(t *Table, row Row) {
		if t == r.view.src && key == nil {
			vals := row.AppendValues(nil)
			cols := make([]string, len(t.PrimaryKey))
			key = make([]any, len(t.PrimaryKey))
			for i, pos := range KeyPositions(t) {
				cols[i] = t.PrimaryKey[i]
				if pos >= 0 {
					key[i] = vals[pos]
				}
			}
			key = r.hashColumns(r.view, cols, key)
		}
	})))
	return key, key != nil && !slices.Contains(key, nil)
}

// match reads a delete's column values from an event, converted to the
// columns' types.
func (c *changeRun) match(ev gjson.Result, fields []FieldPath) (Match, bool) {
	r := c.r
	m := Match{}
	src := r.view.src
	for _, f := range fields {
		i := slices.IndexFunc(src.Columns, func(col Column) bool { return col.Name == f.Field })
		v := ev.Get(f.Path)
		if i < 0 || !v.Exists() {
			return Match{}, false
		}
		// Converted as the extractor converts the column, then hashed if the
		// column is.
		val := r.em.Value(src.Columns[i].Type, v)
		if val == nil {
			return Match{}, false
		}
		m.Columns = append(m.Columns, f.Field)
		m.Values = append(m.Values, val)
	}
	m.Values = r.hashColumns(r.view, m.Columns, m.Values)
	return m, len(m.Columns) > 0
}

// delete marks the rows m matches deleted: those already written through
// the batch's Delete, those of the batch (and their breakout children) by
// dropping them.
func (c *changeRun) delete(m Match) {
	r := c.r
	if r.batch.Delete == nil {
		r.batch.Delete = map[*Table][]Match{}
	}
	r.batch.Delete[r.t] = append(r.batch.Delete[r.t], m)
	c.drop(r.t, m)
}

// drop removes from the batch the rows of t that m matches, and the rows of
// t's breakout children below them.
func (c *changeRun) drop(t *Table, m Match) {
	r := c.r
	rs := r.batch.Rows[t]
	if rs == nil || len(rs.Rows) == 0 {
		return
	}
	idx := make([]int, len(m.Columns))
	for i, name := range m.Columns {
		idx[i] = slices.IndexFunc(t.Columns, func(col Column) bool { return col.Name == name })
		if idx[i] < 0 {
			return
		}
	}
	var gone [][]any
	kept := 0
	for i, vals := range rs.Rows {
		hit := true
		for j, k := range idx {
			if !sameValue(vals[k], m.Values[j]) {
				hit = false
				break
			}
		}
		if hit {
			gone = append(gone, r.keyValues(t, vals))
			r.held -= RowBytes(vals)
			continue
		}
		rs.Rows[kept] = vals
		if rs.Dynamic != nil {
			rs.Dynamic[kept] = rs.Dynamic[i]
		}
		if rs.Start != nil {
			rs.Start[kept] = rs.Start[i]
		}
		kept++
	}
	clear(rs.Rows[kept:])
	rs.Rows = rs.Rows[:kept]
	if rs.Dynamic != nil {
		clear(rs.Dynamic[kept:])
		rs.Dynamic = rs.Dynamic[:kept]
	}
	if rs.Start != nil {
		rs.Start = rs.Start[:kept]
	}
	r.rows -= len(gone)
	for _, ch := range t.Children {
		for _, key := range gone {
			c.drop(ch, Match{Columns: ch.ParentKey, Values: key})
		}
	}
}

// sameValue compares driver values; timestamps by instant.
func sameValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

// fetch reads records by their detail URLs, a few at a time: a 200 upserts
// the record, a 404 marks its row deleted.
func (c *changeRun) fetch(ctx context.Context, reqs []fetchReq, here *Pending) error {
	r := c.r
	return r.getAll(ctx, len(reqs), func(i int) (string, string) { return reqs[i].bucket, reqs[i].url },
		func(i int, page *fetch.Page, err error) error {
			q := reqs[i]
			switch {
			case errors.Is(err, fetch.ErrNotFound):
				if key, ok := c.rowKey(q.rec, q.parent); ok {
					c.delete(Match{Columns: r.t.PrimaryKey, Values: key})
				}
			case err != nil:
				return err
			default:
				EachRecord(page.Body, "", func(v gjson.Result) { r.record(v, q.parent, r.t, page.URL) })
			}
			if r.full() {
				r.batch.State = r.state
				r.batch.State.Pending = here
				return r.commit()
			}
			return nil
		})
}

// getAll makes n requests (bucket and URL of each from req) with the
// engine's fan-out parallelism and hands each result to fn, in the order they
// arrive, on the calling goroutine. The first error fn returns stops the
// rest and is returned.
func (r *tableRun) getAll(ctx context.Context, n int, req func(i int) (bucket, url string), fn func(i int, page *fetch.Page, err error) error) error {
	type result struct {
		i    int
		page *fetch.Page
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := spread(ctx, r.e.FanOutParallel, n, func(i int, emit func(result)) {
		bucket, u := req(i)
		page, err := r.e.Fetcher.Get(ctx, r.t.Name, bucket, u)
		emit(result{i, page, err})
	})
	var firstErr error
	for res := range results {
		r.report.Requests++
		if firstErr != nil {
			continue // drain so the workers can finish
		}
		if res.page != nil {
			r.report.Pages++
		}
		if err := fn(res.i, res.page, res.err); err != nil {
			firstErr = err
			cancel()
		}
	}
	return firstErr
}

// eventObject makes a JSON object of an event's values: each field (a dotted
// path, \. for a literal dot) gets the raw JSON found at its path. ok is false
// when the event lacks one of them.
func eventObject(ev gjson.Result, fields []FieldPath) (gjson.Result, bool) {
	root := map[string]any{}
	for _, f := range fields {
		v := ev.Get(f.Path)
		if !v.Exists() {
			return gjson.Result{}, false
		}
		segs := splitField(f.Field)
		m := root
		for _, s := range segs[:len(segs)-1] {
			sub, ok := m[s].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[s] = sub
			}
			m = sub
		}
		m[segs[len(segs)-1]] = json.RawMessage(v.Raw)
	}
	b, err := json.Marshal(root)
	if err != nil {
		return gjson.Result{}, false
	}
	return gjson.ParseBytes(b), true
}

// splitField cuts a dotted field path into its keys; \. is a literal dot.
func splitField(p string) []string {
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			cur.WriteByte(p[i])
		case p[i] == '.':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(p[i])
		}
	}
	return append(segs, cur.String())
}

// detailURL fills the {parent.<field>} and {record.<field>} placeholders of
// a detail path, each escaped as a path segment; ok is false when a value is
// missing or empty.
func detailURL(path string, parent, rec gjson.Result) (string, bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return b.String(), true
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			b.WriteString(path)
			return b.String(), true
		}
		b.WriteString(path[:i])
		name := path[i+1 : i+j]
		var v gjson.Result
		if f, ok := strings.CutPrefix(name, "parent."); ok {
			v = parent.Get(f)
		} else if f, ok := strings.CutPrefix(name, "record."); ok {
			v = rec.Get(f)
		}
		if v.String() == "" {
			return "", false
		}
		b.WriteString(url.PathEscape(v.String()))
		path = path[i+j+1:]
	}
}
