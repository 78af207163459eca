// Package memory is a Destination that keeps everything in maps, a test
// double for the engine's tests. It follows the row semantics of
// runtime.Destination, history mode included, for one level of children
// (replacements and deletes do not cascade to grandchildren) but keeps
// nothing across a restart and does not run the destination conformance
// suite (runtime/dest/desttest), which needs persistence and a CSV dump.
package memory

import (
	"context"
	"fmt"
	"maps"
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
	// history tables keep versions: rows maps key + start to a version,
	// and versions lists each key's.
	history  bool
	rows     map[string]*Row
	versions map[string][]*Row
	// dynamic lists the dynamic columns written, in order of appearance.
	dynamic []string
}

// Row is a stored row, or a version of a history table's row.
type Row struct {
	Values  []any
	Dynamic map[string]any
	Synced  time.Time
	// Deleted is _fivetran_deleted; in a history table, not Active.
	Deleted bool
	// Start, End and Active are the version's (history tables only).
	Start, End time.Time
	Active     bool

	key string // the source key, encoded
}

// New returns an empty destination.
func New() *DB {
	return &DB{tables: map[string]*table{}, state: map[string]runtime.TableState{}, values: map[string]string{}}
}

// Prepare registers the tables and their children: blocked ones are left
// out (their children are not), columns follow the latest descriptor,
// dropped ones go, and write modes switch as runtime.Destination says.
func (db *DB) Prepare(_ context.Context, ts []*runtime.Table) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var add func(t *runtime.Table)
	add = func(t *runtime.Table) {
		for _, c := range t.Children {
			add(c)
		}
		if t.Blocked {
			return
		}
		tb, ok := db.tables[t.Name]
		if !ok {
			db.tables[t.Name] = &table{desc: t, history: t.History, rows: map[string]*Row{}, versions: map[string][]*Row{}}
			return
		}
		tb.reshape(t)
		switch {
		case t.History && !tb.history:
			tb.toHistory()
		case !t.History && tb.history:
			tb.toSoftDelete()
		}
	}
	for _, t := range ts {
		add(t)
	}
	return nil
}

// reshape lays the rows out in t's columns (by name: a column dropped or
// added keeps the others in place) and drops the dynamic columns of t.Drop.
func (tb *table) reshape(t *runtime.Table) {
	old := tb.desc
	tb.desc = t
	for _, name := range t.Drop {
		tb.dynamic = slices.DeleteFunc(tb.dynamic, func(n string) bool { return n == name })
		for _, r := range tb.rows {
			delete(r.Dynamic, name)
		}
	}
	if slices.EqualFunc(old.Columns, t.Columns, func(a, b runtime.Column) bool { return a.Name == b.Name }) {
		return
	}
	idx := columnIndexes(old, names(t.Columns))
	for _, r := range tb.rows {
		r.Values = pick(r.Values, idx)
	}
}

func names(cols []runtime.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// toHistory makes live rows active versions from the table's latest sync
// and deleted ones closed versions at HistoryMin.
func (tb *table) toHistory() {
	var last time.Time
	tb.versions = map[string][]*Row{}
	for _, r := range tb.rows {
		if r.Synced.After(last) {
			last = r.Synced
		}
	}
	rows := make(map[string]*Row, len(tb.rows))
	for k, r := range tb.rows {
		r.key = k
		if r.Deleted {
			r.Start, r.End, r.Active = runtime.HistoryMin, runtime.HistoryMin, false
		} else {
			r.Start, r.End, r.Active = last, runtime.HistoryEnd, true
		}
		rows[versionKey(k, r.Start)] = r
		tb.versions[k] = []*Row{r}
	}
	tb.rows, tb.history = rows, true
}

// toSoftDelete keeps the latest version of each key, deleted unless active.
func (tb *table) toSoftDelete() {
	rows := make(map[string]*Row)
	for _, r := range tb.rows {
		if cur, ok := rows[r.key]; !ok || r.Start.After(cur.Start) {
			rows[r.key] = r
		}
	}
	for _, r := range rows {
		r.Deleted = !r.Active
		r.Start, r.End, r.Active = time.Time{}, time.Time{}, false
	}
	tb.rows, tb.history, tb.versions = rows, false, nil
}

// versionKey sorts a key's versions by start.
func versionKey(key string, start time.Time) string {
	return key + "\x01" + start.UTC().Format("2006-01-02T15:04:05.000000000")
}

// State returns a copy of the saved state.
func (db *DB) State(context.Context) (map[string]runtime.TableState, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return maps.Clone(db.state), nil
}

// Columns lists every table's columns, system columns included, by
// lower-cased name.
func (db *DB) Columns(context.Context) (map[string][]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := make(map[string][]string, len(db.tables))
	for name, tb := range db.tables {
		cols := append(names(tb.desc.Columns), tb.dynamic...)
		if tb.history {
			cols = append(cols, "_fivetran_start", "_fivetran_end", "_fivetran_active", "_fivetran_synced")
		} else {
			cols = append(cols, "_fivetran_synced", "_fivetran_deleted")
		}
		out[strings.ToLower(name)] = cols
	}
	return out, nil
}

// Value returns a value saved by SetValue.
func (db *DB) Value(_ context.Context, key string) (string, bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	v, ok := db.values[key]
	return v, ok, nil
}

// SetValue saves a value.
func (db *DB) SetValue(_ context.Context, key, value string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.values[key] = value
	return nil
}

// alive reports whether a row is live: not deleted, or an active version.
func (tb *table) alive(r *Row) bool {
	if tb.history {
		return r.Active
	}
	return !r.Deleted
}

// kill marks a row deleted; a version closes at synced (or its start).
func (tb *table) kill(r *Row, synced time.Time) {
	r.Deleted = true
	if tb.history {
		r.Active = false
		r.End = synced
		if r.Start.After(synced) {
			r.End = r.Start
		}
	}
}

// rowKey is the encoded source key of a row of r.
func (tb *table) rowKey(r *Row) string {
	if tb.history {
		return r.key
	}
	return encode(pick(r.Values, columnIndexes(tb.desc, tb.desc.PrimaryKey)))
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
	// A NULL key fails the whole batch, as in a real destination.
	for t, rs := range b.Rows {
		if _, err := db.table(t); err != nil {
			return err
		}
		for _, j := range columnIndexes(t, t.PrimaryKey) {
			for _, vals := range rs.Rows {
				if j >= 0 && j < len(vals) && vals[j] == nil {
					return fmt.Errorf("%s: NULL value in primary key column %s", t.Name, t.Columns[j].Name)
				}
			}
		}
		if rs.Start != nil && len(rs.Start) != len(rs.Rows) {
			return fmt.Errorf("%s: %d rows but %d starts", t.Name, len(rs.Rows), len(rs.Start))
		}
	}
	if b.Truncate {
		var truncate func(t *runtime.Table)
		truncate = func(t *runtime.Table) {
			if tb, ok := db.tables[t.Name]; ok {
				clear(tb.rows)
				clear(tb.versions)
			}
			for _, c := range t.Children {
				truncate(c)
			}
		}
		truncate(b.Table)
	}
	// In a history table, the batch's own keys are left to the upsert,
	// which confirms an unchanged version instead of closing it and
	// opening an equal one.
	inBatch := func(t *runtime.Table, tb *table) map[string]bool {
		keys := map[string]bool{}
		if rs := b.Rows[t]; rs != nil && tb.history {
			pk := columnIndexes(t, t.PrimaryKey)
			for _, vals := range rs.Rows {
				keys[encode(pick(vals, pk))] = true
			}
		}
		return keys
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
		skip := inBatch(t, tb)
		for _, r := range tb.rows {
			if tb.alive(r) && r.Synced.Before(b.Synced) && want[encode(pick(r.Values, idx))] && !skip[tb.rowKey(r)] {
				tb.kill(r, b.Synced)
			}
		}
	}
	for t, matches := range b.Delete {
		if err := db.deleteMatching(t, matches, b.Synced, inBatch); err != nil {
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
		tb, _ := db.table(t)
		tb.write(b.Rows[t], b.Synced)
	}
	if s := b.Sweep; s != nil {
		db.sweep(b, s)
	}
	db.state[b.Table.Name] = b.State
	return nil
}

// write upserts rows: replaced whole, dynamic columns included; in a
// history table, as versions.
func (tb *table) write(rs *runtime.RowSet, synced time.Time) {
	t := tb.desc
	pk := columnIndexes(t, t.PrimaryKey)
	last := map[string]int{} // the last row of each key wins
	for i, vals := range rs.Rows {
		last[encode(pick(vals, pk))] = i
	}
	for i, vals := range rs.Rows {
		key := encode(pick(vals, pk))
		if last[key] != i {
			continue
		}
		r := &Row{Values: slices.Clone(vals), Synced: synced}
		if i < len(rs.Dynamic) && len(rs.Dynamic[i]) > 0 {
			r.Dynamic = map[string]any{}
			for _, f := range rs.Dynamic[i] {
				r.Dynamic[f.Name] = f.Value
				if !slices.Contains(tb.dynamic, f.Name) {
					tb.dynamic = append(tb.dynamic, f.Name)
				}
			}
		}
		if !tb.history {
			tb.rows[key] = r
			continue
		}
		start := synced
		if rs.Start != nil && !rs.Start[i].IsZero() {
			start = rs.Start[i].UTC()
		}
		tb.version(key, r, start, synced)
	}
}

// version adds r as the latest version of key unless it equals the active
// one, which it then confirms.
func (tb *table) version(key string, r *Row, start, synced time.Time) {
	var active *Row
	for _, v := range tb.versions[key] {
		if v.Active {
			active = v
		}
		if s := v.Start.Add(time.Millisecond); s.After(start) {
			start = s
		}
		if e := v.End.Add(time.Millisecond); !v.Active && e.After(start) {
			start = e
		}
	}
	if active != nil {
		if encode(active.Values) == encode(r.Values) && encodeMap(active.Dynamic) == encodeMap(r.Dynamic) {
			active.Synced = synced
			return
		}
		active.Active, active.Deleted, active.End = false, true, start.Add(-time.Millisecond)
	}
	r.key, r.Start, r.End, r.Active = key, start, runtime.HistoryEnd, true
	tb.rows[versionKey(key, start)] = r
	tb.versions[key] = append(tb.versions[key], r)
}

// sweep marks rows of the batch's table and children not written since
// Before deleted, and the fan-out rows of deleted parents.
func (db *DB) sweep(b *runtime.Batch, s *runtime.Sweep) {
	var walk func(t *runtime.Table)
	walk = func(t *runtime.Table) {
		if tb, ok := db.tables[t.Name]; ok {
			for _, r := range tb.rows {
				if tb.alive(r) && r.Synced.Before(s.Before) {
					tb.kill(r, b.Synced)
				}
			}
		}
		for _, c := range t.Children {
			walk(c)
		}
	}
	walk(b.Table)
	parent, ok := db.tables[b.Table.Name]
	if !ok {
		return // blocked: no rows tell which parents are gone
	}
	// A key is deleted when none of its rows is alive.
	deleted := map[string]bool{}
	for _, r := range parent.rows {
		k := parent.rowKey(r)
		if parent.alive(r) {
			deleted[k] = false
		} else if _, seen := deleted[k]; !seen {
			deleted[k] = true
		}
	}
	for _, f := range s.FanOut {
		tb, ok := db.tables[f.Name]
		if !ok {
			continue
		}
		idx := columnIndexes(f, f.ParentKey)
		for _, r := range tb.rows {
			if tb.alive(r) && r.Synced.Before(s.Before) && deleted[encode(pick(r.Values, idx))] {
				tb.kill(r, b.Synced)
			}
		}
	}
}

// deleteMatching marks deleted the live rows of t whose columns equal a
// match's values, whenever they were written, but for the keys skip gives,
// and the rows of t's children below them (Batch.Delete).
func (db *DB) deleteMatching(t *runtime.Table, matches []runtime.Match, synced time.Time, skip func(*runtime.Table, *table) map[string]bool) error {
	tb, err := db.table(t)
	if err != nil {
		return err
	}
	skipped := skip(t, tb)
	var marked [][]any
	for _, m := range matches {
		idx := columnIndexes(t, m.Columns)
		if slices.Contains(idx, -1) || len(m.Columns) != len(m.Values) {
			return fmt.Errorf("delete in %s: match %v does not fit the table's columns", t.Name, m.Columns)
		}
		want := encode(m.Values)
		for _, r := range tb.rows {
			if tb.alive(r) && encode(pick(r.Values, idx)) == want && !skipped[tb.rowKey(r)] {
				tb.kill(r, synced)
				marked = append(marked, pick(r.Values, columnIndexes(t, t.PrimaryKey)))
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
		if err := db.deleteMatching(c, below, synced, skip); err != nil {
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

// Rows returns a table's rows ordered by primary key (a history table's
// versions by key, then start).
func (db *DB) Rows(name string) []*Row {
	db.mu.Lock()
	defer db.mu.Unlock()
	tb, ok := db.tables[name]
	if !ok {
		return nil
	}
	keys := slices.Sorted(maps.Keys(tb.rows))
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

// encodeMap encodes dynamic values in name order; a NULL is no value.
func encodeMap(m map[string]any) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != nil {
			fmt.Fprintf(&b, "%q=%#v\x00", k, m[k])
		}
	}
	return b.String()
}
