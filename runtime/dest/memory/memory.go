// Package memory is a Destination that keeps everything in maps, a test
// double for the engine's tests. It follows the row semantics of
// runtime.Destination for one level of children but keeps nothing across a
// restart and does not run the destination conformance suite
// (runtime/dest/desttest), which needs persistence and a CSV dump.
package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"oktasync/runtime"
)

// DB is an in-memory destination. It is safe for concurrent use.
type DB struct {
	mu     sync.Mutex
	tables map[string]*table
	state  map[string]runtime.TableState
	values map[string]string
	// FailCommit, when set, is called at the start of every Commit; an error
	// aborts the commit before anything changes.
	FailCommit func(b *runtime.Batch) error
}

type table struct {
	desc *runtime.Table
	rows map[string]*Row
}

// Row is a stored row.
type Row struct {
	Values  []any
	Dynamic map[string]any
	Synced  time.Time
	Deleted bool
}

// New returns an empty destination.
func New() *DB {
	return &DB{tables: map[string]*table{}, state: map[string]runtime.TableState{}}
}

// Prepare registers the tables and their children.
func (db *DB) Prepare(_ context.Context, ts []*runtime.Table) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var add func(t *runtime.Table)
	add = func(t *runtime.Table) {
		if _, ok := db.tables[t.Name]; !ok && !t.Blocked {
			db.tables[t.Name] = &table{desc: t, rows: map[string]*Row{}}
		}
		for _, c := range t.Children {
			add(c)
		}
	}
	for _, t := range ts {
		add(t)
	}
	return nil
}

// State returns a copy of the saved state.
func (db *DB) State(context.Context) (map[string]runtime.TableState, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := make(map[string]runtime.TableState, len(db.state))
	for k, v := range db.state {
		out[k] = v
	}
	return out, nil
}

// Commit applies a batch; nothing in it can fail half-way.
func (db *DB) Commit(ctx context.Context, b *runtime.Batch) error {
	// Like a real destination, refuse to start under a finished context.
	if err := ctx.Err(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.FailCommit != nil {
		if err := db.FailCommit(b); err != nil {
			return err
		}
	}
	if b.Truncate {
		var wipe func(t *runtime.Table)
		wipe = func(t *runtime.Table) {
			if tb, ok := db.tables[t.Name]; ok {
				tb.rows = map[string]*Row{}
			}
			for _, c := range t.Children {
				wipe(c)
			}
		}
		wipe(b.Table)
	}
	// A NULL key fails the whole batch, as in a real destination.
	for t, rs := range b.Rows {
		for _, j := range columnIndexes(t, t.PrimaryKey) {
			for _, vals := range rs.Rows {
				if j >= 0 && j < len(vals) && vals[j] == nil {
					return fmt.Errorf("%s: NULL value in primary key column %s", t.Name, t.Columns[j].Name)
				}
			}
		}
	}
	for t, keys := range b.Replace {
		tb, err := db.table(t)
		if err != nil {
			return err
		}
		idx := columnIndexes(t, t.ParentKey)
		want := map[string]bool{}
		for _, k := range keys {
			want[encode(k)] = true
		}
		for _, r := range tb.rows {
			if !r.Deleted && r.Synced.Before(b.Synced) && want[encode(pick(r.Values, idx))] {
				r.Deleted = true
			}
		}
	}
	for t, matches := range b.Delete {
		if err := db.deleteMatching(t, matches); err != nil {
			return err
		}
	}
	// Parents before children, so that a check is never confused by order.
	var order []*runtime.Table
	for t := range b.Rows {
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, c *runtime.Table) int { return strings.Compare(a.Name, c.Name) })
	for _, t := range order {
		rs := b.Rows[t]
		tb, err := db.table(t)
		if err != nil {
			return err
		}
		pk := columnIndexes(t, t.PrimaryKey)
		for i, vals := range rs.Rows {
			// A row is replaced whole, dynamic columns included.
			r := &Row{Values: slices.Clone(vals), Synced: b.Synced}
			if i < len(rs.Dynamic) && len(rs.Dynamic[i]) > 0 {
				r.Dynamic = map[string]any{}
				for _, f := range rs.Dynamic[i] {
					r.Dynamic[f.Name] = f.Value
				}
			}
			tb.rows[encode(pick(vals, pk))] = r
		}
	}
	if s := b.Sweep; s != nil {
		var sweep func(t *runtime.Table)
		sweep = func(t *runtime.Table) {
			if tb, ok := db.tables[t.Name]; ok {
				for _, r := range tb.rows {
					if !r.Deleted && r.Synced.Before(s.Before) {
						r.Deleted = true
					}
				}
			}
			for _, c := range t.Children {
				sweep(c)
			}
		}
		sweep(b.Table)
		parent := db.tables[b.Table.Name]
		deleted := map[string]bool{}
		pk := columnIndexes(b.Table, b.Table.PrimaryKey)
		if parent == nil {
			parent = &table{} // blocked: its fan-out tables cannot follow it
		}
		for _, r := range parent.rows {
			if r.Deleted {
				deleted[encode(pick(r.Values, pk))] = true
			}
		}
		for _, f := range s.FanOut {
			tb, ok := db.tables[f.Name]
			if !ok {
				continue
			}
			idx := columnIndexes(f, f.ParentKey)
			for _, r := range tb.rows {
				if !r.Deleted && deleted[encode(pick(r.Values, idx))] {
					r.Deleted = true
				}
			}
		}
	}
	db.state[b.Table.Name] = b.State
	return nil
}

// deleteMatching marks deleted the live rows of t whose columns equal a
// match's values, whenever they were written, and the rows of t's children
// below them (Batch.Delete).
func (db *DB) deleteMatching(t *runtime.Table, matches []runtime.Match) error {
	tb, err := db.table(t)
	if err != nil {
		return err
	}
	pk := columnIndexes(t, t.PrimaryKey)
	var marked [][]any
	for _, m := range matches {
		idx := columnIndexes(t, m.Columns)
		if slices.Contains(idx, -1) || len(m.Columns) != len(m.Values) {
			return fmt.Errorf("delete in %s: match %v does not fit the table's columns", t.Name, m.Columns)
		}
		want := encode(m.Values)
		for _, r := range tb.rows {
			if !r.Deleted && encode(pick(r.Values, idx)) == want {
				r.Deleted = true
				marked = append(marked, pick(r.Values, pk))
			}
		}
	}
	for _, c := range t.Children {
		if _, ok := db.tables[c.Name]; !ok || len(marked) == 0 {
			continue
		}
		var below []runtime.Match
		for _, key := range marked {
			below = append(below, runtime.Match{Columns: c.ParentKey, Values: key})
		}
		if err := db.deleteMatching(c, below); err != nil {
			return err
		}
	}
	return nil
}

// Close does nothing.
func (db *DB) Close() error { return nil }

func (db *DB) table(t *runtime.Table) (*table, error) {
	tb, ok := db.tables[t.Name]
	if !ok {
		return nil, fmt.Errorf("table %s was not prepared", t.Name)
	}
	return tb, nil
}

// Rows returns a table's rows ordered by primary key.
func (db *DB) Rows(name string) []*Row {
	db.mu.Lock()
	defer db.mu.Unlock()
	tb, ok := db.tables[name]
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(tb.rows))
	for k := range tb.rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*Row, len(keys))
	for i, k := range keys {
		r := *tb.rows[k]
		out[i] = &r
	}
	return out
}

func columnIndexes(t *runtime.Table, names []string) []int {
	idx := make([]int, 0, len(names))
	for _, n := range names {
		idx = append(idx, slices.IndexFunc(t.Columns, func(c runtime.Column) bool { return c.Name == n }))
	}
	return idx
}

func pick(vals []any, idx []int) []any {
	out := make([]any, len(idx))
	for i, j := range idx {
		if j >= 0 && j < len(vals) {
			out[i] = vals[j]
		}
	}
	return out
}

// encode makes a map key of key values; %#v keeps types apart ("1" vs 1).
func encode(vals []any) string {
	var b strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&b, "%#v\x00", v)
	}
	return b.String()
}

// Columns, Value and SetValue: placeholders until the settings work lands.
func (db *DB) Columns(context.Context) (map[string][]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := map[string][]string{}
	for name, t := range db.tables {
		var cols []string
		for _, c := range t.desc.Columns {
			cols = append(cols, c.Name)
		}
		for _, r := range t.rows {
			for k := range r.Dynamic {
				if !slices.Contains(cols, k) {
					cols = append(cols, k)
				}
			}
		}
		out[strings.ToLower(name)] = cols
	}
	return out, nil
}
func (db *DB) Value(_ context.Context, key string) (string, bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	v, ok := db.values[key]
	return v, ok, nil
}

func (db *DB) SetValue(_ context.Context, key, value string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.values == nil {
		db.values = map[string]string{}
	}
	db.values[key] = value
	return nil
}
