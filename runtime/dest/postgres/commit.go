package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"oktasync/runtime"
	"oktasync/runtime/dest/internal/sqldest"
)

// Commit applies one batch in one transaction: the rows are copied into
// temporary staging tables, then child rows of rewritten parents are
// replaced, the staged rows are merged by key, the delete sweep runs and the
// table's state is saved. Any error rolls all of it back.
func (d *DB) Commit(ctx context.Context, b *runtime.Batch) error {
	if b == nil || b.Table == nil {
		return errors.New("postgres: commit: batch has no table")
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	family := d.family(b.Table.Name)
	family.Lock()
	defer family.Unlock()
	start := time.Now()
	c := newCommit(d, b)
	err := c.run(ctx)
	for try := 1; err != nil && !c.committing && retryable(err) && try < commitTries; try++ {
		// Another table's commit held rows this one needed (a sweep of a
		// fan-out table): PostgreSQL chose this one to give way.
		d.log.Debug("postgres: commit conflicted with another; retrying", "table", b.Table.Name, "err", err)
		c = newCommit(d, b)
		err = c.run(ctx)
	}
	if err != nil {
		return d.errorf(err, "commit %s", b.Table.Name)
	}
	d.log.Debug("postgres: committed", "table", b.Table.Name, "rows", c.rows, "sweep", b.Sweep != nil,
		"elapsed", time.Since(start))
	return nil
}

// commitTries bounds the runs of a commit that conflicts with another.
const commitTries = 4

// retryable reports a transaction PostgreSQL aborted for a conflict with
// another: a deadlock, or a serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func newCommit(d *DB, b *runtime.Batch) *commit {
	return &commit{
		d:      d,
		b:      b,
		infos:  make(map[*runtime.Table]*tableInfo),
		added:  make(map[*runtime.Table][]column),
		staged: make(map[*runtime.Table]string),
	}
}

// commit is one Commit in progress.
type commit struct {
	d *DB
	b *runtime.Batch
	x *txn
	// committing is set once COMMIT is sent: an error after it may come
	// from a transaction that landed, which must not run again.
	committing bool
	// order is the batch's tables in a fixed order: Table, its children
	// depth-first, then any other table by name.
	order  []*runtime.Table
	infos  map[*runtime.Table]*tableInfo
	added  map[*runtime.Table][]column // dynamic columns new to the table
	staged map[*runtime.Table]string   // staging table of each table with rows
	rows   int
}

func (c *commit) run(ctx context.Context) error {
	if err := c.plan(); err != nil {
		return err
	}
	x, err := c.d.begin(ctx)
	if err != nil {
		return err
	}
	defer x.close()
	c.x = x
	steps := []struct {
		stage string
		do    func(context.Context) error
	}{
		{"begin", func(ctx context.Context) error { return sqldest.Truncate(ctx, c, c.b) }},
		{"staged", c.stage},
		{"replaced", c.replaceThenDelete},
		{"merged", c.merge},
		{"swept", func(ctx context.Context) error { return sqldest.Sweep(ctx, c, c.b) }},
		{"state", c.saveState},
		{"before-commit", nil},
	}
	for _, s := range steps {
		if s.do != nil {
			if err := s.do(ctx); err != nil {
				return err
			}
		}
		if err := c.d.crash(s.stage); err != nil {
			return err
		}
	}
	c.committing = true
	if err := x.commit(ctx); err != nil {
		return err
	}
	c.d.install(c.infos)
	return c.d.crash("committed")
}

// plan orders the batch's tables and finds the dynamic columns it adds,
// before the transaction starts.
func (c *commit) plan() error {
	c.order = sqldest.Order(c.b)

	for _, t := range c.order {
		if t == nil {
			return errors.New("batch names a nil table")
		}
		info := c.d.table(t.Name)
		if info == nil {
			return fmt.Errorf("table %s is not prepared", t.Name)
		}
		if rs := c.b.Rows[t]; rs != nil && len(rs.Rows) > 0 {
			nt, added, err := c.d.withDynamic(info, rs)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			info = nt
			c.added[t] = added
		}
		c.infos[t] = info
	}
	return nil
}

// info is what the commit knows of a table, prepared or not (nil).
func (c *commit) info(t *runtime.Table) *tableInfo {
	if info := c.infos[t]; info != nil {
		return info
	}
	return c.d.table(t.Name)
}

// temp creates a temporary table with the given columns, named by
// position. Temporary tables live in the transaction's connection and drop
// at its end, committed or not.
func (c *commit) temp(ctx context.Context, prefix string, cols []column) (string, error) {
	name := c.x.tempName(prefix)
	var b strings.Builder
	b.WriteString("CREATE TEMP TABLE ")
	b.WriteString(quote(name))
	b.WriteString(" (")
	for i, col := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(stageCol(i)))
		b.WriteString(" ")
		b.WriteString(stageType(col.typ))
	}
	b.WriteString(") ON COMMIT DROP")
	if err := c.x.exec(ctx, b.String()); err != nil {
		return "", fmt.Errorf("create staging table: %w", err)
	}
	return name, nil
}

// copyRows copies n rows made by fill into the temporary table name, whose
// columns are width staging columns, with COPY in binary form.
func (c *commit) copyRows(ctx context.Context, name string, width, n int, fill func(i int, row []any) error) error {
	cols := make([]string, width)
	for i := range cols {
		cols[i] = stageCol(i)
	}
	src := &rowSource{n: n, row: make([]any, width), fill: fill}
	defer clear(src.row) // hold no values of the batch past the commit
	if _, err := c.x.tx.CopyFrom(ctx, pgx.Identifier{name}, cols, src); err != nil {
		return err
	}
	return src.err
}

// rowSource feeds COPY one row at a time, laid out by fill in a reused buffer.
type rowSource struct {
	n, i int
	row  []any
	fill func(i int, row []any) error
	err  error
}

func (s *rowSource) Next() bool {
	if s.err != nil || s.i >= s.n {
		return false
	}
	if err := s.fill(s.i, s.row); err != nil {
		s.err = fmt.Errorf("row %d: %w", s.i, err)
		return false
	}
	s.i++
	return true
}

func (s *rowSource) Values() ([]any, error) { return s.row, nil }

func (s *rowSource) Err() error { return s.err }

// stage adds the batch's new dynamic columns and copies every table's rows
// to a staging table, the last row of each key only: a merge statement may
// touch a row once.
func (c *commit) stage(ctx context.Context) error {
	for _, t := range c.order {
		rs := c.b.Rows[t]
		if rs == nil || len(rs.Rows) == 0 {
			continue
		}
		info := c.infos[t]
		for _, col := range c.added[t] {
			if err := addColumn(ctx, c.x, info.name, col); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			c.d.log.Debug("postgres: added dynamic column", "table", t.Name, "column", col.name)
		}
		versioned := info.mode.versioned()
		if versioned && rs.Start != nil && len(rs.Start) != len(rs.Rows) {
			return fmt.Errorf("%s: %d rows but %d starts", t.Name, len(rs.Rows), len(rs.Start))
		}
		for i, r := range rs.Rows {
			if len(r) != info.fixed {
				return fmt.Errorf("stage %s: row %d has %d values, want %d", t.Name, i, len(r), info.fixed)
			}
		}
		keep := lastPerKey(info, rs.Rows)
		fill := func(i int, row []any) error {
			if keep != nil {
				i = keep[i]
			}
			var fields []runtime.Field
			if rs.Dynamic != nil {
				fields = rs.Dynamic[i]
			}
			info.fill(row, rs.Rows[i], fields)
			if versioned {
				// NULL stands for the batch's Synced.
				row[len(info.cols)] = nil
				if rs.Start != nil && !rs.Start[i].IsZero() {
					row[len(info.cols)] = rs.Start[i].UTC()
				}
			}
			return nil
		}
		n := len(rs.Rows)
		if keep != nil {
			n = len(keep)
		}
		c.rows += len(rs.Rows)
		if c.b.Append {
			done, err := c.copyDirect(ctx, info, n, fill)
			if err != nil {
				return fmt.Errorf("append %s: %w", t.Name, err)
			}
			if done {
				continue
			}
		}
		name, err := c.temp(ctx, "_oktasync_stage_", info.stageCols())
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if err := c.copyRows(ctx, name, info.width(), n, fill); err != nil {
			return fmt.Errorf("stage %s: %w", t.Name, err)
		}
		c.staged[t] = quote(name)
	}
	return nil
}

// copyDirect copies the rows of an Append batch straight into the table,
// system columns filled here: the usual case of a first import, which then
// costs the server a COPY and no merge. The keys of an Append batch are new
// to the table unless a page is read again after a resume; the primary key
// then refuses the COPY, which is rolled back to a savepoint, and done
// reports false: the rows are staged and merged instead.
func (c *commit) copyDirect(ctx context.Context, t *tableInfo, n int, fill func(i int, row []any) error) (done bool, err error) {
	sys := t.mode.systemColumns()
	cols := make([]string, 0, len(t.cols)+len(sys))
	for _, col := range t.cols {
		cols = append(cols, Ident(col.name))
	}
	for _, col := range sys {
		cols = append(cols, Ident(col.name))
	}
	staged := make([]any, t.width())
	values := t.mode.directValues(c.b.Synced)
	direct := func(i int, row []any) error {
		if err := fill(i, staged); err != nil {
			return err
		}
		copy(row, staged[:len(t.cols)])
		values(row[len(t.cols):], staged[len(t.cols):])
		return nil
	}
	if err := c.x.exec(ctx, "SAVEPOINT direct_copy"); err != nil {
		return false, err
	}
	src := &rowSource{n: n, row: make([]any, len(cols)), fill: direct}
	defer clear(src.row)
	_, err = c.x.tx.CopyFrom(ctx, pgx.Identifier{Ident(t.name)}, cols, src)
	if err == nil {
		err = src.err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		if err := c.x.exec(ctx, "ROLLBACK TO SAVEPOINT direct_copy"); err != nil {
			return false, err
		}
		c.d.log.Debug("postgres: append met a key already written; merging instead", "table", t.name)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, c.x.exec(ctx, "RELEASE SAVEPOINT direct_copy")
}

// lastPerKey returns the positions of the last row of each key, in order,
// or nil when no key repeats (the usual case, which costs one map).
func lastPerKey(t *tableInfo, rows [][]any) []int {
	pos := make([]int, len(t.pk))
	for i, k := range t.pk {
		pos[i] = t.pos[lowerIdent(k)]
	}
	last := make(map[string]int, len(rows))
	var b strings.Builder
	for i, r := range rows {
		if s, ok := r[pos[0]].(string); ok && len(pos) == 1 {
			last[s] = i
			continue
		}
		b.Reset()
		for _, p := range pos {
			fmt.Fprintf(&b, "%T:%v\x00", r[p], r[p])
		}
		last[b.String()] = i
	}
	if len(last) == len(rows) {
		return nil
	}
	keep := make([]int, 0, len(last))
	for _, i := range last {
		keep = append(keep, i)
	}
	slices.Sort(keep)
	return keep
}

// merge merges the staged rows into their tables; a Dedupe batch then
// leaves one row per key in Table and its breakout children.
func (c *commit) merge(ctx context.Context) error {
	for _, t := range c.order {
		if stage, ok := c.staged[t]; ok {
			info := c.infos[t]
			write := info.mode.write
			if c.b.Append {
				write = info.mode.appendWrite
			}
			if err := write(ctx, c.x, info, stage, c.b.Synced); err != nil {
				return err
			}
		}
	}
	if !c.b.Dedupe {
		return nil
	}
	return sqldest.Dedupe(ctx, c, c.b)
}

// unstaged is, for a history table with rows staged in this batch, the
// condition (" AND ...", on alias) that leaves the rows of their keys alone:
// the merge that follows confirms an unchanged row's active version or
// closes it for a changed one, where closing it first would open a new
// version for every unchanged child row a rewritten parent replaces.
func (c *commit) unstaged(t *runtime.Table, alias string) string {
	info, stage := c.info(t), c.staged[t]
	if info == nil || stage == "" || !info.mode.versioned() {
		return ""
	}
	return " AND " + inSelectNot(alias, info.pk, "", stagedKey(info), stage)
}

func (c *commit) saveState(ctx context.Context) error {
	js, err := json.Marshal(c.b.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	err = c.x.exec(ctx, `INSERT INTO `+quote(StateTable)+` ("table_name", "state", "updated_at")
		VALUES ($1, $2::text::json, $3::timestamp)
		ON CONFLICT ("table_name") DO UPDATE SET "state" = excluded."state", "updated_at" = excluded."updated_at"`,
		c.b.Table.Name, string(js), tsParam(c.d.opts.Now()))
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// inSelect is sqldest.InSelect with this destination's quoting.
func inSelect(alias string, cols []string, fromAlias string, fromCols []string, from string) string {
	return sqldest.InSelect(quote, alias, cols, fromAlias, fromCols, from)
}

// replaceThenDelete is the commit step that marks rows deleted before the
// batch's rows land: the replacements of Batch.Replace, then the matches of
// Batch.Delete.
func (c *commit) replaceThenDelete(ctx context.Context) error {
	if err := sqldest.Replace(ctx, c, c.b, c.order); err != nil {
		return err
	}
	return sqldest.Delete(ctx, c, c.b)
}
