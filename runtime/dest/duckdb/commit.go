package duckdb

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"

	"oktasync/runtime"
)

// Commit applies one batch in one transaction: the rows are appended to
// temporary staging tables (an Append batch's straight to their tables),
// then child rows of rewritten parents are replaced, the staged rows are
// merged by key (and a Dedupe batch's tables deduplicated), the delete sweep
// runs and the table's state is saved. Any error rolls all of it back.
func (d *DB) Commit(ctx context.Context, b *runtime.Batch) error {
	if b == nil || b.Table == nil {
		return errors.New("duckdb: commit: batch has no table")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	defer governor.work(d.freeMemorySlack())()
	start := time.Now()
	c := newCommit(d, b)
	err := c.run(ctx)
	if err != nil && !c.committing && isOutOfMemory(err) {
		// The transaction was rolled back before COMMIT: run it again with
		// more memory (see raisedMemoryLimit).
		if restore, ok := d.raiseMemoryLimit(ctx); ok {
			d.log.Info("duckdb: commit ran out of memory; retrying with a raised memory_limit",
				"table", b.Table.Name, "err", err)
			c = newCommit(d, b)
			err = c.run(ctx)
			restore()
		}
	}
	if err != nil {
		return fmt.Errorf("duckdb: commit %s: %w", b.Table.Name, err)
	}
	d.log.Debug("duckdb: committed", "table", b.Table.Name, "rows", c.rows, "sweep", b.Sweep != nil,
		"elapsed", time.Since(start))
	return nil
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
	temps  []string                    // temporary tables to drop
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
		{"begin", c.truncate},
		{"staged", c.stage},
		{"replaced", c.replaceThenDelete},
		{"merged", c.merge},
		{"swept", c.sweep},
		{"state", c.saveState},
		{"before-commit", c.dropTemps},
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
	c.d.committed()
	for _, info := range c.infos {
		c.d.tables[strings.ToLower(info.name)] = info
	}
	return c.d.crash("committed")
}

// plan orders the batch's tables and finds the dynamic columns it adds,
// before the transaction starts.
func (c *commit) plan() error {
	seen := make(map[*runtime.Table]bool)
	var walk func(t *runtime.Table)
	walk = func(t *runtime.Table) {
		if seen[t] {
			return
		}
		seen[t] = true
		if c.b.Rows[t] != nil || c.b.Replace[t] != nil {
			c.order = append(c.order, t)
		}
		for _, ch := range t.Children {
			walk(ch)
		}
	}
	walk(c.b.Table)
	var extra []*runtime.Table
	for t := range c.b.Rows {
		if !seen[t] {
			seen[t] = true
			extra = append(extra, t)
		}
	}
	for t := range c.b.Replace {
		if !seen[t] {
			seen[t] = true
			extra = append(extra, t)
		}
	}
	slices.SortFunc(extra, func(a, b *runtime.Table) int { return strings.Compare(a.Name, b.Name) })
	c.order = append(c.order, extra...)

	for _, t := range c.order {
		if t == nil {
			return errors.New("batch names a nil table")
		}
		info := c.d.tables[strings.ToLower(t.Name)]
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
	return c.d.tables[strings.ToLower(t.Name)]
}

// temp creates a temporary table with the given columns, named by position.
// Temporary tables live in the writer's connection and, created inside the
// transaction, vanish with a rollback too.
func (c *commit) temp(ctx context.Context, prefix string, cols []column) (string, error) {
	name := prefix + strconv.Itoa(len(c.temps))
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
	b.WriteString(")")
	if err := c.x.exec(ctx, b.String()); err != nil {
		return "", fmt.Errorf("create staging table: %w", err)
	}
	c.temps = append(c.temps, name)
	return name, nil
}

// appendRows adds n rows made by fill through an Appender that open makes
// on the transaction's connection.
func (c *commit) appendRows(ctx context.Context, open func(driver.Conn) (*ddb.Appender, error), row []driver.Value, n int, fill func(i int, row []driver.Value) error) error {
	defer clear(row) // hold no values of the batch past the commit
	return c.x.conn.Raw(func(dc any) error {
		conn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		a, err := open(conn)
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		every := flushRows(len(row))
		for i := range n {
			if err := fill(i, row); err != nil {
				_ = a.Close()
				return err
			}
			if err := a.AppendRow(row...); err != nil {
				_ = a.Close()
				return fmt.Errorf("row %d: %w", i, err)
			}
			if (i+1)%every == 0 && i+1 < n {
				if err := a.Flush(); err != nil {
					_ = a.Close()
					return fmt.Errorf("append: %w", err)
				}
				c.d.flushes.Add(1)
			}
		}
		if err := a.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("append: %w", err)
		}
		return nil
	})
}

// appendBufferBytes bounds what an Appender holds before it writes. DuckDB's
// Appender collects its rows outside the buffer pool until flushed, in
// whole vectors of 2,048 values a column (16 bytes a value for text, NULL
// or not): a batch of 5,000 System Log rows (about 540 columns) held 50 MB
// there. Flushing costs a write (and a query appender's query) each time,
// so narrow tables flush only at the end.
const appendBufferBytes = 8 << 20

// flushRows is how many rows an Appender of that many columns takes between
// flushes: whole chunks, at least one.
func flushRows(columns int) int {
	chunk := ddb.GetDataChunkCapacity()
	return max(1, appendBufferBytes/(max(1, columns)*chunk*16)) * chunk
}

// toTemp opens an Appender on a temporary table.
func toTemp(table string) func(driver.Conn) (*ddb.Appender, error) {
	return func(conn driver.Conn) (*ddb.Appender, error) {
		return ddb.NewAppender(conn, "temp", "main", table)
	}
}

// appendSource names the relation of appended rows in an append query.
const appendSource = "_oktasync_rows"

// toTable opens an Appender that runs the mode's append query into t: the
// rows go straight into the table, columns named in the query (the table's
// order and columns the writer does not fill do not matter), JSON cast from
// its text, system columns filled by the query.
func toTable(t *tableInfo, synced time.Time) func(driver.Conn) (*ddb.Appender, error) {
	return func(conn driver.Conn) (*ddb.Appender, error) {
		cols := t.stageCols()
		types := make([]ddb.TypeInfo, len(cols))
		names := make([]string, len(cols))
		for i, col := range cols {
			ti, err := ddb.NewTypeInfo(duckType(col.typ))
			if err != nil {
				return nil, err
			}
			types[i], names[i] = ti, stageCol(i)
		}
		return ddb.NewQueryAppender(conn, t.mode.appendQuery(t, appendSource, synced), appendSource, types, names)
	}
}

// stage adds the batch's new dynamic columns and appends every table's rows
// to a staging table, or, for an Append batch, to the table itself. A table
// with a PRIMARY KEY (tableInfo.keyed) is always staged and merged: an
// append could break its key.
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
			c.d.log.Debug("duckdb: added dynamic column", "table", t.Name, "column", col.name)
		}
		versioned := info.mode.versioned()
		if versioned && rs.Start != nil && len(rs.Start) != len(rs.Rows) {
			return fmt.Errorf("%s: %d rows but %d starts", t.Name, len(rs.Rows), len(rs.Start))
		}
		fill := func(i int, row []driver.Value) error {
			if len(rs.Rows[i]) != info.fixed {
				return fmt.Errorf("row %d has %d values, want %d", i, len(rs.Rows[i]), info.fixed)
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
		c.rows += len(rs.Rows)
		if c.b.Append && !info.keyed {
			if err := c.appendRows(ctx, toTable(info, c.b.Synced), info.row(), len(rs.Rows), fill); err != nil {
				return fmt.Errorf("append %s: %w", t.Name, err)
			}
			continue
		}
		name, err := c.temp(ctx, "_oktasync_stage_", info.stageCols())
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if err := c.appendRows(ctx, toTemp(name), info.row(), len(rs.Rows), fill); err != nil {
			return fmt.Errorf("stage %s: %w", t.Name, err)
		}
		c.staged[t] = "temp.main." + quote(name)
	}
	return nil
}

// olderRows reports whether t has a live row written before cutoff.
// Replacing and sweeping rows of a table this run wrote whole (a first
// import) then costs one look at the zone maps of _fivetran_synced.
func (c *commit) olderRows(ctx context.Context, t *tableInfo, cutoff time.Time) (bool, error) {
	cond := quote(colSynced) + " < $1"
	if live := t.mode.live("t"); live != "" {
		cond += " AND " + live
	}
	var found bool
	err := c.x.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+quote(t.name)+" AS t WHERE "+
		cond+")", tsParam(cutoff)).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("%s: %w", t.name, err)
	}
	return found, nil
}

// replace marks deleted the rows of the parents listed in Batch.Replace that
// this run has not written yet, and below them the rows of their breakout
// children whose parent row is now deleted: the batch can only name the
// parents it holds, not the child rows they lost (a comment removed from a
// ticket takes its attachments with it).
func (c *commit) replace(ctx context.Context) error {
	for _, t := range c.order {
		keys := c.b.Replace[t]
		if len(keys) == 0 {
			continue
		}
		info := c.infos[t]
		if len(t.ParentKey) == 0 {
			return fmt.Errorf("replace in %s: the table has no parent key", t.Name)
		}
		// Only rows older than the run are marked, and their children only
		// below a deleted row of t; with no row older than the run (one
		// written by an earlier run would be), there is nothing to mark.
		older, err := c.olderRows(ctx, info, c.b.Synced)
		if err != nil {
			return fmt.Errorf("replace in %w", err)
		}
		if !older {
			continue
		}
		cols := make([]column, len(t.ParentKey))
		for i, k := range t.ParentKey {
			cols[i] = info.cols[info.pos[strings.ToLower(k)]]
		}
		name, err := c.temp(ctx, "_oktasync_keys_", cols)
		if err != nil {
			return fmt.Errorf("replace in %s: %w", t.Name, err)
		}
		err = c.appendRows(ctx, toTemp(name), make([]driver.Value, len(cols)), len(keys), func(i int, row []driver.Value) error {
			if len(keys[i]) != len(cols) {
				return fmt.Errorf("key %d has %d values, want %d", i, len(keys[i]), len(cols))
			}
			for j, v := range keys[i] {
				row[j] = v
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("replace in %s: %w", t.Name, err)
		}
		names, staged := make([]string, len(cols)), make([]string, len(cols))
		for i, col := range cols {
			names[i], staged[i] = col.name, stageCol(i)
		}
		scope := func(alias string) string {
			return inSelect(alias, names, "", staged, "temp.main."+quote(name))
		}
		if err := c.markTree(ctx, t, scope, c.b.Synced, 1); err != nil {
			return fmt.Errorf("replace: %w", err)
		}
	}
	return nil
}

// markTree marks deleted the rows of t (under alias t) that scope selects and
// that were not written since cutoff, then, in each prepared breakout child,
// the rows whose parent row is now deleted and was selected by scope. The
// cutoff comes first in every condition, as a plain parameter, so that the
// scan skips the row groups written since by their zone maps.
func (c *commit) markTree(ctx context.Context, t *runtime.Table, scope func(alias string) string, cutoff time.Time, depth int) error {
	info := c.info(t)
	cond := "t." + quote(colSynced) + " < $1 AND " + scope("t") + c.unstaged(t, "t")
	if err := info.mode.markDeleted(ctx, c.x, info, c.b.Synced, cond, tsParam(cutoff)); err != nil {
		return err
	}
	for _, ch := range t.Children {
		if c.info(ch) == nil {
			continue
		}
		s, err := c.parentDeleted(t, ch, scope, "p"+strconv.Itoa(depth))
		if err != nil {
			return err
		}
		if err := c.markTree(ctx, ch, s, cutoff, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// parentDeleted is a scope selecting the rows of child whose parent row (in
// parent, joined on the child's ParentKey, aliased alias) is deleted and in
// the parent's scope.
func (c *commit) parentDeleted(parent, child *runtime.Table, scope func(string) string, alias string) (func(string) string, error) {
	pinfo := c.info(parent)
	if pinfo == nil {
		return nil, fmt.Errorf("table %s is not prepared", parent.Name)
	}
	if len(child.ParentKey) == 0 || len(child.ParentKey) != len(parent.PrimaryKey) {
		return nil, fmt.Errorf("the parent key of %s does not match the primary key of %s", child.Name, parent.Name)
	}
	return func(a string) string {
		where := pinfo.mode.deleted(pinfo, alias)
		if scope != nil {
			where += " AND " + scope(alias)
		}
		return inSelect(a, child.ParentKey, alias, parent.PrimaryKey, quote(pinfo.name)+" AS "+alias+" WHERE "+where)
	}, nil
}

// inSelect is the condition that the columns cols of alias are among the
// values of the columns of from (qualified by fromAlias, if any): (a.x, a.y)
// IN (SELECT f.x, f.y FROM ...). Unlike the equivalent EXISTS, whose
// decorrelated join compares with IS NOT DISTINCT FROM, an IN lets DuckDB
// push the subquery's min and max values into the scan of alias's table as
// a filter, which skips the row groups outside that range by their zone
// maps: deleting one parent's 10,000 rows from 7.6 million rows of
// application_user took 22 ms instead of 114 ms.
func inSelect(alias string, cols []string, fromAlias string, fromCols []string, from string) string {
	var b strings.Builder
	if len(cols) > 1 {
		b.WriteString("(")
	}
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(alias + "." + quote(c))
	}
	if len(cols) > 1 {
		b.WriteString(")")
	}
	b.WriteString(" IN (SELECT ")
	for i, c := range fromCols {
		if i > 0 {
			b.WriteString(", ")
		}
		if fromAlias != "" {
			b.WriteString(fromAlias + ".")
		}
		b.WriteString(quote(c))
	}
	b.WriteString(" FROM " + from + ")")
	return b.String()
}

// merge merges the staged rows into their tables; a Dedupe batch then
// leaves one row per key in Table and its breakout children.
func (c *commit) merge(ctx context.Context) error {
	for _, t := range c.order {
		if stage, ok := c.staged[t]; ok {
			info := c.infos[t]
			if err := info.mode.write(ctx, c.x, info, stage, c.b.Synced); err != nil {
				return err
			}
		}
	}
	if !c.b.Dedupe {
		return nil
	}
	since := c.b.Synced
	if d := c.b.DedupeSince; !d.IsZero() && d.Before(since) {
		since = d
	}
	var walk func(t *runtime.Table) error
	walk = func(t *runtime.Table) error {
		info := c.info(t)
		switch {
		case t.Blocked:
			// No table of its own; its children are deduplicated.
		case info == nil && t == c.b.Table:
			return fmt.Errorf("dedupe: table %s is not prepared", t.Name)
		case info == nil:
			return nil // a child table not prepared has no rows
		default:
			if err := info.mode.dedupe(ctx, c.x, info, since); err != nil {
				return err
			}
		}
		for _, ch := range t.Children {
			if err := walk(ch); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(c.b.Table)
}

// sweep ends a full import: rows of Table and its children not written since
// Sweep.Before are marked deleted, then the rows of the fan-out tables (and
// their children) whose parent row is deleted. Fan-out rows of live parents
// stay: a fan-out table may be listed only for changed parents, so an old
// _fivetran_synced says nothing about it.
func (c *commit) sweep(ctx context.Context) error {
	s := c.b.Sweep
	if s == nil {
		return nil
	}
	swept := make(map[string]*runtime.Table)
	var walk func(t *runtime.Table) error
	walk = func(t *runtime.Table) error {
		info := c.info(t)
		switch {
		case t.Blocked:
			// No table of its own; its breakout children are swept.
		case info == nil && t == c.b.Table:
			return fmt.Errorf("sweep: table %s is not prepared", t.Name)
		case info == nil:
			c.d.log.Debug("duckdb: sweep skips a child table not prepared", "table", t.Name)
			return nil
		default:
			cond := "t." + quote(colSynced) + " < $1"
			if err := info.mode.markDeleted(ctx, c.x, info, c.b.Synced, cond, tsParam(s.Before)); err != nil {
				return fmt.Errorf("sweep: %w", err)
			}
		}
		swept[strings.ToLower(t.Name)] = t
		for _, ch := range t.Children {
			if err := walk(ch); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(c.b.Table); err != nil {
		return err
	}
	var mark func(t *runtime.Table)
	mark = func(t *runtime.Table) {
		swept[strings.ToLower(t.Name)] = t
		for _, ch := range t.Children {
			mark(ch)
		}
	}
	for _, f := range s.FanOut {
		if f == nil || f.FanOut == nil {
			return errors.New("sweep: a table in Sweep.FanOut is not a fan-out table")
		}
		parent := swept[strings.ToLower(f.FanOut.Parent)]
		if parent == nil {
			return fmt.Errorf("sweep: parent %s of fan-out table %s is not swept by this batch", f.FanOut.Parent, f.Name)
		}
		if parent.Blocked {
			// Deleted parents are what the cascade follows, and a blocked
			// parent has no rows to tell them.
			c.d.log.Debug("duckdb: sweep skips a fan-out table of a blocked parent", "table", f.Name, "parent", parent.Name)
			continue
		}
		if c.info(f) == nil {
			return fmt.Errorf("sweep: table %s is not prepared", f.Name)
		}
		scope, err := c.parentDeleted(parent, f, nil, "p0")
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		if err := c.markTree(ctx, f, scope, s.Before, 1); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		mark(f)
	}
	return nil
}

// truncate deletes every row of Table and of its breakout children, for
// good, before anything else of a Truncate batch: the table is rebuilt.
func (c *commit) truncate(ctx context.Context) error {
	if !c.b.Truncate {
		return nil
	}
	var walk func(t *runtime.Table) error
	walk = func(t *runtime.Table) error {
		if info := c.info(t); info != nil && !t.Blocked {
			if err := c.x.exec(ctx, "DELETE FROM "+quote(info.name)); err != nil {
				return fmt.Errorf("truncate %s: %w", t.Name, err)
			}
			c.d.log.Debug("duckdb: truncated", "table", t.Name)
		}
		for _, ch := range t.Children {
			if err := walk(ch); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(c.b.Table)
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
		VALUES ($1, $2, $3)
		ON CONFLICT ("table_name") DO UPDATE SET "state" = excluded."state", "updated_at" = excluded."updated_at"`,
		c.b.Table.Name, string(js), tsParam(c.d.opts.Now()))
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

func (c *commit) dropTemps(ctx context.Context) error {
	for _, name := range c.temps {
		if err := c.x.exec(ctx, "DROP TABLE temp.main."+quote(name)); err != nil {
			return fmt.Errorf("drop staging table: %w", err)
		}
	}
	return nil
}
