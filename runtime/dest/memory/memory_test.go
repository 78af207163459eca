package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"oktasync/runtime"
)

var (
	t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	s1 = t0.Add(time.Hour)
	s2 = t0.Add(2 * time.Hour)
	s3 = t0.Add(3 * time.Hour)
)

func tables() (parent, tag, member *runtime.Table) {
	s := runtime.TypeString
	parent = &runtime.Table{Name: "parent", PrimaryKey: []string{"id"},
		Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "name", Type: s}}}
	tag = &runtime.Table{Name: "parent_tag", PrimaryKey: []string{"parent_id", "tag"}, ParentKey: []string{"parent_id"},
		Columns: []runtime.Column{{Name: "parent_id", Type: s}, {Name: "tag", Type: s}}, Parent: parent}
	parent.Children = []*runtime.Table{tag}
	member = &runtime.Table{Name: "parent_member", PrimaryKey: []string{"parent_id", "user_id"}, ParentKey: []string{"parent_id"},
		FanOut:  &runtime.FanOut{Parent: "parent"},
		Columns: []runtime.Column{{Name: "parent_id", Type: s}, {Name: "user_id", Type: s}}}
	return parent, tag, member
}

func commit(t *testing.T, db *DB, b *runtime.Batch) {
	t.Helper()
	if err := db.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func batch(tb *runtime.Table, synced time.Time, rows map[*runtime.Table][][]any) *runtime.Batch {
	b := &runtime.Batch{Table: tb, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{}, Replace: map[*runtime.Table][][]any{}}
	for t, rs := range rows {
		b.Rows[t] = &runtime.RowSet{Rows: rs}
		if t == tb {
			for _, r := range rs {
				for _, c := range tb.Children {
					b.Replace[c] = append(b.Replace[c], r[:1])
				}
			}
		}
	}
	return b
}

// versions writes a history table's versions as "values start..end active".
func versions(db *DB, name string) []string {
	var out []string
	f := func(t time.Time) string {
		switch {
		case t.Equal(runtime.HistoryEnd):
			return "END"
		case t.Equal(runtime.HistoryMin):
			return "MIN"
		}
		return t.Sub(t0).String()
	}
	for _, r := range db.Rows(name) {
		out = append(out, fmt.Sprintf("%v %s..%s %v synced=%s", r.Values, f(r.Start), f(r.End), r.Active, f(r.Synced)))
	}
	return out
}

func TestHistory(t *testing.T) {
	parent, tag, member := tables()
	parent.History, tag.History, member.History = true, true, true
	db := New()
	ctx := context.Background()
	if err := db.Prepare(ctx, []*runtime.Table{parent, member}); err != nil {
		t.Fatal(err)
	}
	commit(t, db, batch(parent, s1, map[*runtime.Table][][]any{
		parent: {{"p1", "one"}, {"p2", "two"}}, tag: {{"p1", "a"}, {"p2", "b"}}}))
	commit(t, db, batch(member, s1, map[*runtime.Table][][]any{member: {{"p1", "u1"}, {"p2", "u2"}}}))
	b := batch(parent, s2, map[*runtime.Table][][]any{parent: {{"p1", "uno"}}, tag: {{"p1", "a"}}})
	b.Rows[parent].Start = []time.Time{s2.Add(-time.Minute)}
	b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{member}}
	commit(t, db, b)
	commit(t, db, batch(parent, s3, map[*runtime.Table][][]any{parent: {{"p2", "two"}, {"p2", "zwei"}}}))
	want := []string{
		"[p1 one] 1h0m0s..1h58m59.999s false synced=1h0m0s",
		"[p1 uno] 1h59m0s..END true synced=2h0m0s",
		"[p2 two] 1h0m0s..2h0m0s false synced=1h0m0s",
		"[p2 zwei] 3h0m0s..END true synced=3h0m0s",
	}
	if diff := cmp.Diff(want, versions(db, "parent")); diff != "" {
		t.Errorf("parent (-want +got):\n%s", diff)
	}
	// The unchanged tag of a rewritten parent stays one version.
	want = []string{
		"[p1 a] 1h0m0s..END true synced=2h0m0s",
		"[p2 b] 1h0m0s..2h0m0s false synced=1h0m0s",
	}
	if diff := cmp.Diff(want, versions(db, "parent_tag")); diff != "" {
		t.Errorf("parent_tag (-want +got):\n%s", diff)
	}
	want = []string{
		"[p1 u1] 1h0m0s..END true synced=1h0m0s",
		"[p2 u2] 1h0m0s..2h0m0s false synced=1h0m0s",
	}
	if diff := cmp.Diff(want, versions(db, "parent_member")); diff != "" {
		t.Errorf("parent_member (-want +got):\n%s", diff)
	}

	// Back to soft deletes, then history again.
	p2, _, member2 := tables()
	if err := db.Prepare(ctx, []*runtime.Table{p2, member2}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range db.Rows("parent") {
		got = append(got, fmt.Sprintf("%v %v", r.Values, r.Deleted))
	}
	if diff := cmp.Diff([]string{"[p1 uno] false", "[p2 zwei] false"}, got); diff != "" {
		t.Errorf("parent after switching back (-want +got):\n%s", diff)
	}
	p2.History = true
	if err := db.Prepare(ctx, []*runtime.Table{p2}); err != nil {
		t.Fatal(err)
	}
	want = []string{"[p1 uno] 3h0m0s..END true synced=2h0m0s", "[p2 zwei] 3h0m0s..END true synced=3h0m0s"}
	if diff := cmp.Diff(want, versions(db, "parent")); diff != "" {
		t.Errorf("parent after switching to history (-want +got):\n%s", diff)
	}
	// The tag followed its parent back to soft deletes and stays there.
	got = nil
	for _, r := range db.Rows("parent_tag") {
		got = append(got, fmt.Sprintf("%v %v", r.Values, r.Deleted))
	}
	if diff := cmp.Diff([]string{"[p1 a] false", "[p2 b] true"}, got); diff != "" {
		t.Errorf("parent_tag (-want +got):\n%s", diff)
	}
	cols, _ := db.Columns(ctx)
	if got := cols["parent"]; !slices.Contains(got, "_fivetran_active") || slices.Contains(got, "_fivetran_deleted") {
		t.Errorf("Columns of a history table = %q", got)
	}
}

func TestBlockedTruncateDropValues(t *testing.T) {
	parent, tag, _ := tables()
	parent.Blocked = true
	db := New()
	ctx := context.Background()
	if v, ok, err := db.Value(ctx, "salt"); v != "" || ok || err != nil {
		t.Errorf("Value of a new destination = %q, %v, %v", v, ok, err)
	}
	if err := db.SetValue(ctx, "salt", "x"); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := db.Value(ctx, "salt"); v != "x" || !ok {
		t.Errorf("Value = %q, %v", v, ok)
	}
	if err := db.Prepare(ctx, []*runtime.Table{parent}); err != nil {
		t.Fatal(err)
	}
	cols, _ := db.Columns(ctx)
	if diff := cmp.Diff(map[string][]string{"parent_tag": {"parent_id", "tag", "_fivetran_synced", "_fivetran_deleted"}}, cols); diff != "" {
		t.Errorf("Columns (-want +got):\n%s", diff)
	}
	b := batch(parent, s1, map[*runtime.Table][][]any{tag: {{"p1", "a"}, {"p2", "b"}}})
	commit(t, db, b)
	b = batch(parent, s2, map[*runtime.Table][][]any{tag: {{"p1", "a"}}})
	b.Sweep = &runtime.Sweep{Before: s2}
	b.State = runtime.TableState{Cursor: "c"}
	commit(t, db, b)
	var got []string
	for _, r := range db.Rows("parent_tag") {
		got = append(got, fmt.Sprintf("%v %v", r.Values, r.Deleted))
	}
	if diff := cmp.Diff([]string{"[p1 a] false", "[p2 b] true"}, got); diff != "" {
		t.Errorf("parent_tag (-want +got):\n%s", diff)
	}
	if st, _ := db.State(ctx); st["parent"].Cursor != "c" {
		t.Errorf("state = %+v", st)
	}
	b = batch(parent, s3, map[*runtime.Table][][]any{tag: {{"p3", "c"}}})
	b.Truncate = true
	commit(t, db, b)
	if rows := db.Rows("parent_tag"); len(rows) != 1 || rows[0].Values[0] != "p3" {
		t.Errorf("after Truncate: %v", rows)
	}

	// A dropped column goes; the others keep their values.
	_, tag2, _ := tables()
	tag2.Columns = []runtime.Column{{Name: "tag", Type: runtime.TypeString}, {Name: "parent_id", Type: runtime.TypeString}}
	tag2.Drop = []string{"x"}
	if err := db.Prepare(ctx, []*runtime.Table{tag2}); err != nil {
		t.Fatal(err)
	}
	if got := db.Rows("parent_tag")[0].Values; strings.Join([]string{got[0].(string), got[1].(string)}, ",") != "c,p3" {
		t.Errorf("values after a column change = %v", got)
	}
}
