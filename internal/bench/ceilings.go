package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"
	"github.com/tidwall/gjson"

	"oktasync/generated/okta"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/fetch"
)

// Ceilings are the rates of the three stages of a sync, each run alone over
// the work of the throughput run.
type Ceilings struct {
	// Fetch is every request of the sync replayed against the same simulator,
	// pages read whole and discarded, FetchWorkers at a time.
	Fetch        time.Duration
	FetchWorkers int
	Requests     int
	Bytes        int64
	// Extract is the generated extractors over the pages held in memory,
	// Workers pages at a time: records walked with gjson, rows built and
	// turned into driver values.
	Extract time.Duration
	// Writer is the append-only ceiling: the rows the extractors built, held
	// in memory in the batches the engine makes of them, committed one after
	// the other to the sync's destination (runtime/dest/duckdb, the sync's
	// settings, a table's first import), plus the checkpoint of closing it.
	Writer time.Duration
	// Append is, for comparison, the same rows appended to plain tables
	// without keys through bare DuckDB Appenders, Workers at a time, each
	// Appender's rows committed as it closes, plus closing the database.
	Append  time.Duration
	Workers int
	// Rows is the number of rows the extractors built; it must equal the
	// rows of the throughput run.
	Rows int64
	// PerTable has the extract and append times of each top-level or fan-out
	// table (its breakout children included).
	PerTable map[string]*StageTimes
}

// StageTimes are one table's share of the ceilings.
type StageTimes struct {
	Rows                    int64
	Extract, Writer, Append time.Duration
}

// fetchOnly replays the requests with workers goroutines through a new client
// and discards the pages.
func fetchOnly(ctx context.Context, s *simServer, reqs []fetched, scale float64, workers int) (time.Duration, int64, error) {
	c, err := newClient(s, scale)
	if err != nil {
		return 0, 0, err
	}
	var next atomic.Int64
	var bytes atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) {
					return
				}
				r := reqs[i]
				p, err := c.Get(ctx, r.Table, r.Bucket, r.URL)
				if err != nil {
					once.Do(func() { first = err })
					return
				}
				bytes.Add(int64(len(p.Body)))
				p.Release()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, 0, fmt.Errorf("fetch-only: %w", first)
	}
	return time.Since(start), bytes.Load(), nil
}

// page is a fetched body with the parent record it was fetched for.
type page struct {
	body   []byte
	parent gjson.Result
}

// extractAppend measures the extract-only and append-only ceilings table by
// table, in chunks of about chunkBytes of pages so that memory stays bounded:
// each chunk is fetched (not timed), extracted (timed), extracted again into
// rows kept in memory (not timed) and appended (timed).
func extractAppend(ctx context.Context, s *simServer, reqs []fetched, tables []*runtime.Table, scale float64, dir string, chunkBytes int, settings map[string]string, c *Ceilings) error {
	client, err := newClient(s, scale)
	if err != nil {
		return err
	}
	wpath := filepath.Join(dir, "writer.duckdb")
	w, err := openWriter(ctx, wpath, settings, tables)
	if err != nil {
		return fmt.Errorf("append-only: %w", err)
	}
	wclosed := false
	defer func() {
		if !wclosed {
			w.db.Close()
		}
	}()
	// The sync's settings: how often DuckDB checkpoints weighs on appends too.
	db, err := duckdb.Open(filepath.Join(dir, "append.duckdb"), ceilingOptions(settings))
	if err != nil {
		return fmt.Errorf("append-only: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			db.Close()
		}
	}()
	ap := &appender{db: db.SQL(), cols: map[*runtime.Table][]string{}}

	var order []*runtime.Table
	byTable := map[*runtime.Table][]fetched{}
	for _, r := range reqs {
		if r.Extract == nil {
			continue
		}
		if _, ok := byTable[r.Extract]; !ok {
			order = append(order, r.Extract)
		}
		byTable[r.Extract] = append(byTable[r.Extract], r)
	}
	c.PerTable = map[string]*StageTimes{}
	for _, t := range order {
		st := &StageTimes{}
		c.PerTable[t.Name] = st
		todo := byTable[t]
		for len(todo) > 0 {
			var pages []page
			size := 0
			for len(todo) > 0 && size < chunkBytes {
				n := min(len(todo), 16)
				got, err := fetchBodies(ctx, client, todo[:n])
				if err != nil {
					return err
				}
				todo = todo[n:]
				for _, p := range got {
					size += len(p.body)
				}
				pages = append(pages, got...)
			}
			d, rows := extractTimed(t, pages, c.Workers)
			st.Extract += d
			st.Rows += rows
			bs := batches(okta.Registry, t, pages, w.synced)
			pages = nil
			d, err := w.commit(ctx, bs)
			if err != nil {
				return fmt.Errorf("append-only %s: %w", t.Name, err)
			}
			st.Writer += d
			d, err = ap.append(ctx, merged(bs), c.Workers)
			if err != nil {
				return fmt.Errorf("raw appender %s: %w", t.Name, err)
			}
			st.Append += d
		}
		d, err := w.finish(ctx, t, fanOutsOf(t, order))
		if err != nil {
			return fmt.Errorf("append-only: %w", err)
		}
		st.Writer += d
		c.Extract += st.Extract
		c.Writer += st.Writer
		c.Append += st.Append
		c.Rows += st.Rows
	}
	start := time.Now()
	wclosed = true
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("append-only: %w", err)
	}
	c.Writer += time.Since(start)
	os.Remove(wpath)
	// Closing checkpoints what the appends left in the write-ahead log, as
	// closing does at the end of a sync.
	start = time.Now()
	closed = true
	if err := db.Close(); err != nil {
		return fmt.Errorf("append-only: %w", err)
	}
	c.Append += time.Since(start)
	os.Remove(filepath.Join(dir, "append.duckdb"))
	return nil
}

// fetchBodies gets the pages of reqs at once and keeps their bodies.
func fetchBodies(ctx context.Context, c *fetch.Client, reqs []fetched) ([]page, error) {
	out := make([]page, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			p, err := c.Get(ctx, r.Table, r.Bucket, r.URL)
			if err != nil {
				errs[i] = err
				return
			}
			// Not released: the body stays ours.
			out[i] = page{body: p.Body, parent: r.Parent}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("fetch pages: %w", err)
	}
	return out, nil
}

// countSink turns each row into driver values, as the engine's collector
// does, into a reused slice, and counts it.
type countSink struct {
	buf  []any
	rows int64
}

func (s *countSink) Row(t *runtime.Table, r runtime.Row) {
	s.buf = r.AppendValues(s.buf[:0])
	if d, ok := r.(runtime.DynamicRow); ok {
		_ = d.DynamicFields()
	}
	s.rows++
}

// extractTimed runs the extractor over the pages with workers goroutines and
// returns the time it took and the rows made.
func extractTimed(t *runtime.Table, pages []page, workers int) (time.Duration, int64) {
	var next atomic.Int64
	var rows atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			sink := &countSink{}
			em := runtime.NewEmitter(sink)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pages) {
					break
				}
				p := pages[i]
				runtime.EachRecord(p.body, t.Request.Records, func(v gjson.Result) { t.Extract(v, p.parent, em) })
			}
			rows.Add(sink.rows)
		})
	}
	wg.Wait()
	return time.Since(start), rows.Load()
}

// built is the rows of some pages, per table.
type built map[*runtime.Table]*runtime.RowSet

// merged is the rows of batches, per table.
func merged(bs []*runtime.Batch) built {
	out := built{}
	for _, b := range bs {
		for t, rs := range b.Rows {
			m := out[t]
			if m == nil {
				m = &runtime.RowSet{}
				out[t] = m
			}
			m.Rows = append(m.Rows, rs.Rows...)
			if rs.Dynamic != nil {
				m.Dynamic = append(m.Dynamic, rs.Dynamic...)
			}
		}
	}
	return out
}

// fanOutsOf lists the tables of order read per row of t, which t's sweep
// cascades to.
func fanOutsOf(t *runtime.Table, order []*runtime.Table) []*runtime.Table {
	var out []*runtime.Table
	for _, f := range order {
		if f.FanOut != nil && f.FanOut.Parent == t.Name {
			out = append(out, f)
		}
	}
	return out
}

// appender writes built rows into plain tables: the table's columns, its
// dynamic columns as they appear, and the two system columns a sync adds, no
// key, no index.
type appender struct {
	db   *sql.DB
	cols map[*runtime.Table][]string // columns of each plain table, in order
}

// append lays out the rows (not timed) and appends them, each table's rows
// split over workers Appenders on their own connections (timed).
// appendJobBytes bounds the values one appender transaction holds: the
// engine's default batch size (runtime.Engine.BatchBytes).
const appendJobBytes = runtime.DefaultBatchBytes

func (a *appender) append(ctx context.Context, b built, workers int) (time.Duration, error) {
	type job struct {
		table string
		rows  [][]driver.Value
	}
	var jobs []job
	synced := time.Now().UTC()
	for t, rs := range b {
		if err := a.ensure(ctx, t, rs); err != nil {
			return 0, err
		}
		cols := a.cols[t]
		pos := map[string]int{}
		for i, c := range cols {
			pos[c] = i
		}
		rows := make([][]driver.Value, len(rs.Rows))
		for i, vals := range rs.Rows {
			row := make([]driver.Value, len(cols))
			for j, v := range vals {
				row[j] = v
			}
			row[len(vals)], row[len(vals)+1] = synced, false
			if rs.Dynamic != nil {
				for _, f := range rs.Dynamic[i] {
					row[pos[f.Name]] = f.Value
				}
			}
			rows[i] = row
		}
		// Split among the workers, and cut at the engine's batch size in
		// bytes as the sync's commits are: under the sync's memory_limit an
		// appender of a wide table (the System Log's) holding a whole share
		// of a chunk runs out of memory.
		per := (len(rows) + workers - 1) / workers
		for i := 0; i < len(rows); {
			end, size := i, 0
			for end < min(i+per, len(rows)) && (end == i || size < appendJobBytes) {
				size += runtime.RowBytes(rs.Rows[end])
				end++
			}
			jobs = append(jobs, job{table: plainName(t), rows: rows[i:end]})
			i = end
		}
	}
	var next atomic.Int64
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				errs[i] = a.appendRows(ctx, jobs[i].table, jobs[i].rows)
			}
		})
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

func (a *appender) appendRows(ctx context.Context, table string, rows [][]driver.Value) error {
	conn, err := a.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		app, err := ddb.NewAppender(dc.(driver.Conn), "", "main", table)
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		for _, r := range rows {
			if err := app.AppendRow(r...); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
}

// ensure creates the plain table of t, or adds the dynamic columns the rows
// bring, outside the timed part.
func (a *appender) ensure(ctx context.Context, t *runtime.Table, rs *runtime.RowSet) error {
	cols, ok := a.cols[t]
	if !ok {
		var defs []string
		for _, c := range t.Columns {
			defs = append(defs, quote(c.Name)+" "+sqlType(c.Type))
			cols = append(cols, c.Name)
		}
		defs = append(defs, "_fivetran_synced TIMESTAMP", "_fivetran_deleted BOOLEAN")
		cols = append(cols, "_fivetran_synced", "_fivetran_deleted")
		if _, err := a.db.ExecContext(ctx, "CREATE TABLE "+quote(plainName(t))+" ("+strings.Join(defs, ", ")+")"); err != nil {
			return fmt.Errorf("create %s: %w", plainName(t), err)
		}
	}
	for _, fields := range rs.Dynamic {
		for _, f := range fields {
			if slices.Contains(cols, f.Name) {
				continue
			}
			typ := runtime.TypeString
			for _, d := range t.Dynamic {
				if strings.HasPrefix(f.Name, d.Prefix) {
					typ = d.Type
				}
			}
			if _, err := a.db.ExecContext(ctx, "ALTER TABLE "+quote(plainName(t))+" ADD COLUMN "+quote(f.Name)+" "+sqlType(typ)); err != nil {
				return fmt.Errorf("add column %s: %w", f.Name, err)
			}
			cols = append(cols, f.Name)
		}
	}
	a.cols[t] = cols
	return nil
}

func plainName(t *runtime.Table) string { return "plain_" + t.Name }

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// sqlType is the type a column is staged with by the destination (JSON as
// text, cast when merged).
func sqlType(t runtime.ColumnType) string {
	switch t {
	case runtime.TypeInteger:
		return "INTEGER"
	case runtime.TypeBigint:
		return "BIGINT"
	case runtime.TypeDouble:
		return "DOUBLE"
	case runtime.TypeBoolean:
		return "BOOLEAN"
	case runtime.TypeTimestamp:
		return "TIMESTAMP"
	}
	return "VARCHAR"
}

// defaultWorkers is the parallelism of the extract and append ceilings: one
// per core, since both are CPU work.
func defaultWorkers() int { return goruntime.GOMAXPROCS(0) }
