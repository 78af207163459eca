package duckdb

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"

	"oktasync/runtime"
	"oktasync/runtime/dest/internal/sqldest"
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
		{"begin", func(ctx context.Context) error { return sqldest.Truncate(ctx, c, c.b) }},
		{"staged", c.stage},
		{"replaced", c.replaceThenDelete},
		{"merged", c.merge},
		{"swept", func(ctx context.Context) error { return sqldest.Sweep(ctx, c, c.b) }},
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
	c.order = sqldest.Order(c.b)

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
