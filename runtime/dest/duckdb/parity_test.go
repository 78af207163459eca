package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"oktasync/runtime"
	"oktasync/runtime/dest/memory"
)

// TestHistoryParity runs random histories of batches (rows that change or
// not, starts from the source, replaced children, deletes, sweeps with a
// fan-out table, runs of several batches) through DuckDB and the memory
// destination, which engine tests rely on, and requires the same versions
// from both.
func TestHistoryParity(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { parity(t, seed) })
	}
}

func parityTables() (parent, tag, member *runtime.Table) {
	s := runtime.TypeString
	parent = &runtime.Table{Name: "parent", PrimaryKey: []string{"id"}, History: true,
		Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "name", Type: s}}}
	tag = &runtime.Table{Name: "parent_tag", PrimaryKey: []string{"parent_id", "tag"}, ParentKey: []string{"parent_id"},
		Parent: parent, History: true,
		Columns: []runtime.Column{{Name: "parent_id", Type: s}, {Name: "tag", Type: s}, {Name: "label", Type: s}}}
	parent.Children = []*runtime.Table{tag}
	member = &runtime.Table{Name: "parent_member", PrimaryKey: []string{"parent_id", "user_id"}, ParentKey: []string{"parent_id"},
		FanOut: &runtime.FanOut{Parent: "parent"}, History: true,
		Columns: []runtime.Column{{Name: "parent_id", Type: s}, {Name: "user_id", Type: s}}}
	return parent, tag, member
}

func parity(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	parent, tag, member := parityTables()
	d := open(t, "", Options{Settings: map[string]string{"threads": "1"}})
	m := memory.New()
	ctx := context.Background()
	for _, dst := range []runtime.Destination{d, m} {
		if err := dst.Prepare(ctx, []*runtime.Table{parent, member}); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(b *runtime.Batch) {
		t.Helper()
		for _, dst := range []runtime.Destination{d, m} {
			if err := dst.Commit(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for run := range 8 {
		synced := t0.Add(time.Duration(run+1) * time.Hour)
		full := rng.IntN(3) == 0
		for range 1 + rng.IntN(2) { // batches of the run
			b := &runtime.Batch{Table: parent, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{
				parent: {}, tag: {}}, Replace: map[*runtime.Table][][]any{}}
			for p := range 6 {
				if !full && rng.IntN(2) == 0 {
					continue
				}
				id := fmt.Sprint("p", p)
				rs := b.Rows[parent]
				rs.Rows = append(rs.Rows, []any{id, pick("a", "b")})
				var start time.Time
				if rng.IntN(3) == 0 {
					start = synced.Add(-time.Duration(rng.IntN(150)) * time.Minute)
				}
				rs.Start = append(rs.Start, start)
				b.Replace[tag] = append(b.Replace[tag], []any{id})
				for _, tg := range []string{"x", "y"} {
					if rng.IntN(2) == 0 {
						b.Rows[tag].Rows = append(b.Rows[tag].Rows, []any{id, tg, pick("1", "2")})
					}
				}
			}
			if rng.IntN(4) == 0 {
				b.Delete = map[*runtime.Table][]runtime.Match{parent: {{Columns: []string{"name"}, Values: []any{pick("a", "b")}}}}
			}
			commit(b)
		}
		if full {
			b := &runtime.Batch{Table: parent, Synced: synced, Sweep: &runtime.Sweep{Before: synced, FanOut: []*runtime.Table{member}}}
			commit(b)
		}
		b := &runtime.Batch{Table: member, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{member: {}},
			Replace: map[*runtime.Table][][]any{}}
		for p := range 6 {
			if rng.IntN(3) == 0 {
				id := fmt.Sprint("p", p)
				b.Replace[member] = append(b.Replace[member], []any{id})
				for _, u := range []string{"u1", "u2"} {
					if rng.IntN(2) == 0 {
						b.Rows[member].Rows = append(b.Rows[member].Rows, []any{id, u})
					}
				}
			}
		}
		commit(b)
	}
	for _, tb := range []*runtime.Table{parent, tag, member} {
		want := memoryVersions(m, tb)
		got := duckVersions(t, d, tb)
		checkVersions(t, d, tb)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-memory +duckdb):\n%s", tb.Name, diff)
		}
	}
}

// memoryVersions writes a table's versions as "values start end active synced".
func memoryVersions(m *memory.DB, tb *runtime.Table) []string {
	var out []string
	for _, r := range m.Rows(tb.Name) {
		out = append(out, fmt.Sprintf("%v %s %s %v %s", r.Values, r.Start.Format(DumpTimeFormat),
			r.End.Format(DumpTimeFormat), r.Active, r.Synced.Format(DumpTimeFormat)))
	}
	slices.Sort(out)
	return out
}

func duckVersions(t *testing.T, d *DB, tb *runtime.Table) []string {
	t.Helper()
	var cols []string
	for _, c := range tb.Columns {
		cols = append(cols, quote(c.Name))
	}
	rows, err := d.SQL().Query(`SELECT ` + strings.Join(cols, ", ") + `, _fivetran_start, _fivetran_end, _fivetran_active, _fivetran_synced FROM ` + quote(tb.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		var start, end, synced time.Time
		var active bool
		ptrs := make([]any, 0, len(cols)+4)
		for i := range vals {
			ptrs = append(ptrs, &vals[i])
		}
		if err := rows.Scan(append(ptrs, &start, &end, &active, &synced)...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%v %s %s %v %s", vals, start.Format(DumpTimeFormat), end.Format(DumpTimeFormat),
			active, synced.Format(DumpTimeFormat)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkVersions checks the invariants of a history table's versions: start
// <= end, no overlap with the next version of the key, only the latest
// version active, and active exactly when the end is HistoryEnd.
func checkVersions(t *testing.T, d *DB, tb *runtime.Table) {
	t.Helper()
	key := quoteAll(tb.PrimaryKey)
	var bad int
	err := d.SQL().QueryRow(`SELECT count(*) FROM (SELECT _fivetran_start AS s, _fivetran_end AS e, _fivetran_active AS a,
		lead(_fivetran_start) OVER (PARTITION BY `+key+` ORDER BY _fivetran_start) AS next FROM `+quote(tb.Name)+`)
		WHERE s > e OR next <= e OR (a AND next IS NOT NULL) OR a <> (e = $1)`, tsParam(runtime.HistoryEnd)).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%s: %d versions break the invariants", tb.Name, bad)
	}
}
