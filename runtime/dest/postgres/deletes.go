package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"oktasync/runtime"
)

// replaceThenDelete is the commit step that marks rows deleted before the
// batch's rows land: the replacements of Batch.Replace, then the matches of
// Batch.Delete.
func (c *commit) replaceThenDelete(ctx context.Context) error {
	if err := c.replace(ctx); err != nil {
		return err
	}
	return c.deleteRows(ctx)
}

// deleteRows marks deleted the live rows that Batch.Delete matches, whenever
// they were written, and below them the rows of their breakout children.
// Matches naming the same columns are staged together in a temporary table
// and applied by one statement; rows are matched by plain conditions on
// their columns, so no key constraint is needed.
func (c *commit) deleteRows(ctx context.Context) error {
	tables := make([]*runtime.Table, 0, len(c.b.Delete))
	for t := range c.b.Delete {
		tables = append(tables, t)
	}
	slices.SortFunc(tables, func(a, b *runtime.Table) int { return strings.Compare(a.Name, b.Name) })
	for _, t := range tables {
		info := c.info(t)
		if info == nil {
			return fmt.Errorf("delete in %s: the table is not prepared", t.Name)
		}
		// Group the matches by the columns they name, in first-seen order.
		var sets [][]string
		byCols := map[string][]runtime.Match{}
		for _, m := range c.b.Delete[t] {
			if len(m.Columns) == 0 || len(m.Columns) != len(m.Values) {
				return fmt.Errorf("delete in %s: a match has %d columns and %d values", t.Name, len(m.Columns), len(m.Values))
			}
			k := strings.Join(m.Columns, "\x00")
			if _, ok := byCols[k]; !ok {
				sets = append(sets, m.Columns)
			}
			byCols[k] = append(byCols[k], m)
		}
		for _, names := range sets {
			matches := byCols[strings.Join(names, "\x00")]
			if err := c.deleteMatching(ctx, t, info, names, matches); err != nil {
				return fmt.Errorf("delete in %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// deleteMatching stages one set of matches naming the same columns and
// marks the rows they select.
func (c *commit) deleteMatching(ctx context.Context, t *runtime.Table, info *tableInfo, names []string, matches []runtime.Match) error {
	cols := make([]column, len(names))
	for i, n := range names {
		p, ok := info.pos[lowerIdent(n)]
		if !ok || p < 0 {
			return fmt.Errorf("no column %q", n)
		}
		cols[i] = info.cols[p]
	}
	name, err := c.temp(ctx, "_oktasync_deletes_", cols)
	if err != nil {
		return err
	}
	err = c.copyRows(ctx, name, len(cols), len(matches), func(i int, row []any) error {
		for j, v := range matches[i].Values {
			row[j] = clean(v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	scope := func(alias string) string {
		var b strings.Builder
		b.WriteString("EXISTS (SELECT 1 FROM " + quote(name) + " AS k WHERE ")
		for i, col := range cols {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString("k." + quote(stageCol(i)) + " = " + alias + "." + quote(col.name))
		}
		b.WriteString(")")
		return b.String()
	}
	return c.markMatched(ctx, t, scope, 1)
}

// markMatched marks deleted the rows of t that scope selects, with the
// table's write mode, then in each prepared breakout child the rows whose
// parent row is now deleted and was selected.
func (c *commit) markMatched(ctx context.Context, t *runtime.Table, scope func(alias string) string, depth int) error {
	info := c.info(t)
	if err := info.mode.markDeleted(ctx, c.x, info, c.b.Synced, scope("t")+c.unstaged(t, "t")); err != nil {
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
		if err := c.markMatched(ctx, ch, s, depth+1); err != nil {
			return err
		}
	}
	return nil
}
