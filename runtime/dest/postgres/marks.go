package postgres

import (
	"context"
	"fmt"
	"time"

	"oktasync/runtime"
	"oktasync/runtime/dest/internal/sqldest"
)

// The commit offers the steps shared with the other SQL destinations
// (sqldest: replacements, deletes, the sweep, truncation, dedupe) DuckDB's
// side of them.
var _ sqldest.Tx = (*commit)(nil)

func (c *commit) Quote(name string) string { return quote(name) }

func (c *commit) Cutoff(t time.Time) (string, any) { return "$1::timestamp", tsParam(t) }

func (c *commit) Exists(ctx context.Context, query string, args ...any) (bool, error) {
	var found bool
	err := c.x.tx.QueryRow(ctx, query, args...).Scan(&found)
	return found, err
}

// OlderRows remembers, per table, the latest cutoff before which the table
// was found to hold no row: PostgreSQL has no zone maps, and without this
// every batch of a first import would scan the rows the run wrote so far
// (quadratic in the run: the breakout children of a large first import
// took most of its commits' time). Rows written later carry a later _fivetran_synced (a run
// writes strictly after the one before), so the answer holds until a
// Prepare, which may rebuild a table, forgets it.
func (c *commit) OlderRows(ctx context.Context, t sqldest.Table, cutoff time.Time) (bool, error) {
	key := lowerIdent(t.Name())
	c.d.tablesMu.Lock()
	none, ok := c.d.noneBefore[key]
	c.d.tablesMu.Unlock()
	if ok && !cutoff.After(none) {
		return false, nil
	}
	older, err := sqldest.OlderRows(ctx, c, t, cutoff)
	if err == nil && !older {
		c.d.tablesMu.Lock()
		if cutoff.After(c.d.noneBefore[key]) {
			c.d.noneBefore[key] = cutoff
		}
		c.d.tablesMu.Unlock()
	}
	return older, err
}

func (c *commit) Exec(ctx context.Context, query string, args ...any) error {
	return c.x.exec(ctx, query, args...)
}

func (c *commit) Stage(ctx context.Context, t *runtime.Table, names []string, rows [][]any) (string, error) {
	info := c.info(t)
	cols := make([]column, len(names))
	for i, n := range names {
		p, ok := info.pos[lowerIdent(n)]
		if !ok || p < 0 {
			return "", fmt.Errorf("no column %q", n)
		}
		cols[i] = info.cols[p]
	}
	name, err := c.temp(ctx, "_oktasync_keys_", cols)
	if err != nil {
		return "", err
	}
	err = c.copyRows(ctx, name, len(cols), len(rows), func(i int, row []any) error {
		for j, v := range rows[i] {
			row[j] = clean(v)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return quote(name), nil
}

func (c *commit) Table(t *runtime.Table) sqldest.Table {
	info := c.info(t)
	if info == nil {
		return nil
	}
	return markTable{c: c, t: t, info: info}
}

func (c *commit) Debug(msg string, args ...any) { c.d.log.Debug("postgres: "+msg, args...) }

// markTable is a prepared table as the shared steps see it.
type markTable struct {
	c    *commit
	t    *runtime.Table
	info *tableInfo
}

func (m markTable) Name() string { return m.info.name }

func (m markTable) MarkDeleted(ctx context.Context, cond string, args ...any) error {
	return m.info.mode.markDeleted(ctx, m.c.x, m.info, m.c.b.Synced, cond, args...)
}

func (m markTable) Deleted(alias string) string { return m.info.mode.deleted(m.info, alias) }

func (m markTable) Live(alias string) string { return m.info.mode.live(alias) }

func (m markTable) Unstaged(alias string) string { return m.c.unstaged(m.t, alias) }

func (m markTable) Dedupe(ctx context.Context, since time.Time) error {
	return m.info.mode.dedupe(ctx, m.c.x, m.info, since)
}
