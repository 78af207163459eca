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
// temporary staging tables, then child rows of rewritten parents are
// replaced, the staged rows are upserted, the delete sweep runs and the
// table's state is saved. Any error rolls all of it back.
func (d *DB) Commit(ctx context.Context, b *runtime.Batch) error {
	if b == nil || b.Table == nil {
		return errors.New("duckdb: commit: batch has no table")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	start := time.Now()
	c := &commit{
		d:      d,
		b:      b,
		infos:  make(map[*runtime.Table]*tableInfo),
		added:  make(map[*runtime.Table][]column),
		staged: make(map[*runtime.Table]string),
	}
	if err := c.run(ctx); err != nil {
		return fmt.Errorf("duckdb: commit %s: %w", b.Table.Name, err)
	}
	d.log.Debug("duckdb: committed", "table", b.Table.Name, "rows", c.rows, "sweep", b.Sweep != nil,
		"elapsed", time.Since(start))
	return nil
}

// commit is one Commit in progress.
type commit struct {
	d *DB
	b *runtime.Batch
	x *txn
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
		{"begin", nil},
		{"staged", c.stage},
		{"replaced", c.replace},
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
	if err := x.commit(ctx); err != nil {
		return err
	}
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

// appendRows fills a temporary table through the Appender, n rows made by fill.
func (c *commit) appendRows(ctx context.Context, table string, row []driver.Value, n int, fill func(i int, row []driver.Value) error) error {
	defer clear(row) // hold no values of the batch past the commit
	return c.x.conn.Raw(func(dc any) error {
		conn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		a, err := ddb.NewAppender(conn, "temp", "main", table)
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		for i := range n {
			if err := fill(i, row); err != nil {
				_ = a.Close()
				return err
			}
			if err := a.AppendRow(row...); err != nil {
				_ = a.Close()
				return fmt.Errorf("row %d: %w", i, err)
			}
		}
		if err := a.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("append: %w", err)
		}
		return nil
	})
}

// stage adds the batch's new dynamic columns and appends every table's rows
// to a staging table.
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
		name, err := c.temp(ctx, "_oktasync_stage_", info.cols)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		err = c.appendRows(ctx, name, info.row(), len(rs.Rows), func(i int, row []driver.Value) error {
			if len(rs.Rows[i]) != info.fixed {
				return fmt.Errorf("row %d has %d values, want %d", i, len(rs.Rows[i]), info.fixed)
			}
			var fields []runtime.Field
			if rs.Dynamic != nil {
				fields = rs.Dynamic[i]
			}
			info.fill(row, rs.Rows[i], fields)
			return nil
		})
		if err != nil {
			return fmt.Errorf("stage %s: %w", t.Name, err)
		}
		c.staged[t] = "temp.main." + quote(name)
		c.rows += len(rs.Rows)
	}
	return nil
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
		cols := make([]column, len(t.ParentKey))
		for i, k := range t.ParentKey {
			cols[i] = info.cols[info.pos[strings.ToLower(k)]]
		}
		name, err := c.temp(ctx, "_oktasync_keys_", cols)
		if err != nil {
			return fmt.Errorf("replace in %s: %w", t.Name, err)
		}
		err = c.appendRows(ctx, name, make([]driver.Value, len(cols)), len(keys), func(i int, row []driver.Value) error {
			if len(keys[i]) != len(cols) {
				return fmt.Errorf("key %d has %d values, want %d", i, len(keys[i]), len(cols))
			}
			for j, v := range keys[i] {
				if a := cols[j].apply; a != nil {
					v = a(v)
				}
				row[j] = v
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("replace in %s: %w", t.Name, err)
		}
		scope := func(alias string) string {
			var b strings.Builder
			b.WriteString("EXISTS (SELECT 1 FROM temp.main." + quote(name) + " AS k WHERE ")
			for i, col := range cols {
				if i > 0 {
					b.WriteString(" AND ")
				}
				b.WriteString("k." + quote(stageCol(i)) + " = " + alias + "." + quote(col.name))
			}
			b.WriteString(")")
			return b.String()
		}
		if err := c.markTree(ctx, t, scope, micros(c.b.Synced), 1); err != nil {
			return fmt.Errorf("replace: %w", err)
		}
	}
	return nil
}

// markTree marks deleted the rows of t (under alias t) that scope selects and
// that were not written since cutoff, then, in each prepared breakout child,
// the rows whose parent row is now deleted and was selected by scope.
func (c *commit) markTree(ctx context.Context, t *runtime.Table, scope func(alias string) string, cutoff int64, depth int) error {
	info := c.info(t)
	cond := "t." + quote(colSynced) + " < make_timestamp($1::BIGINT) AND " + scope("t")
	if err := info.mode.markDeleted(ctx, c.x, info, cond, cutoff); err != nil {
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
		var b strings.Builder
		b.WriteString("EXISTS (SELECT 1 FROM " + quote(pinfo.name) + " AS " + alias + " WHERE ")
		for i, k := range child.ParentKey {
			b.WriteString(alias + "." + quote(parent.PrimaryKey[i]) + " = " + a + "." + quote(k) + " AND ")
		}
		b.WriteString(pinfo.mode.deleted(alias))
		if scope != nil {
			b.WriteString(" AND " + scope(alias))
		}
		b.WriteString(")")
		return b.String()
	}, nil
}

func (c *commit) merge(ctx context.Context) error {
	for _, t := range c.order {
		if stage, ok := c.staged[t]; ok {
			info := c.infos[t]
			if err := info.mode.write(ctx, c.x, info, stage, c.b.Synced); err != nil {
				return err
			}
		}
	}
	return nil
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
	before := micros(s.Before)
	swept := make(map[string]*runtime.Table)
	var walk func(t *runtime.Table) error
	walk = func(t *runtime.Table) error {
		info := c.info(t)
		if info == nil {
			if t == c.b.Table {
				return fmt.Errorf("sweep: table %s is not prepared", t.Name)
			}
			c.d.log.Debug("duckdb: sweep skips a child table not prepared", "table", t.Name)
			return nil
		}
		cond := "t." + quote(colSynced) + " < make_timestamp($1::BIGINT)"
		if err := info.mode.markDeleted(ctx, c.x, info, cond, before); err != nil {
			return fmt.Errorf("sweep: %w", err)
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
		if c.info(f) == nil {
			return fmt.Errorf("sweep: table %s is not prepared", f.Name)
		}
		scope, err := c.parentDeleted(parent, f, nil, "p0")
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		if err := c.markTree(ctx, f, scope, before, 1); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		mark(f)
	}
	return nil
}

func (c *commit) saveState(ctx context.Context) error {
	js, err := json.Marshal(c.b.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	err = c.x.exec(ctx, `INSERT INTO `+quote(StateTable)+` ("table_name", "state", "updated_at")
		VALUES ($1, $2, make_timestamp($3::BIGINT))
		ON CONFLICT ("table_name") DO UPDATE SET "state" = excluded."state", "updated_at" = excluded."updated_at"`,
		c.b.Table.Name, string(js), micros(c.d.opts.Now()))
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
