// Package desttest is the conformance suite every runtime.Destination must
// pass (the idea of CloudQuery's TestWriterSuiteRunner): one set of tests,
// run by each destination's own test, pins down the row semantics that
// runtime/dest.go documents, so a second database behaves like the first.
//
// The suite builds its own small descriptors and rows; it reads the results
// back through Dump, whose CSV format is itself part of the contract (golden
// files compare dumps).
package desttest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"oktasync/runtime"
)

// Destination is a runtime.Destination the suite can look into.
type Destination interface {
	runtime.Destination
	// Dump writes a table as CSV: a header of column names, then the rows
	// ordered by primary key (a history table's versions then by
	// _fivetran_start); NULL as an empty field, booleans as
	// true/false, timestamps in UTC as 2006-01-02 15:04:05.000, JSON as text.
	Dump(ctx context.Context, table string, w io.Writer) error
}

// Open opens the destination stored in dir, an empty directory the first
// time; the suite closes it and opens dir again to check what persisted.
// crash must be called at every step inside Commit, each call with a name for
// the step, and an error it returns must abort the commit there, as a crash
// would; the suite uses it to fail commits at every step in turn.
type Open func(t *testing.T, dir string, crash func(stage string) error) Destination

// Run runs the suite against the destination open makes.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"PrepareCreatesTables", testPrepareCreates},
		{"PrepareIsIdempotent", testPrepareIdempotent},
		{"PrepareAddsColumns", testPrepareAddsColumns},
		{"PrepareRejectsBadDescriptors", testPrepareRejects},
		{"Types", testTypes},
		{"TypesAppended", testTypesAppended},
		{"UpsertByKey", testUpsert},
		{"DuplicateKeysInBatch", testDuplicateKeys},
		{"ReplaceChildren", testReplaceChildren},
		{"ReplaceFanOut", testReplaceFanOut},
		{"Sweep", testSweep},
		{"ReplayIsHarmless", testReplay},
		{"DynamicColumns", testDynamicColumns},
		{"StatePersists", testState},
		{"QuotedIdentifiers", testQuotedIdentifiers},
		{"FailedCommitLeavesNoTrace", testFailedCommit},
		{"CancelledCommit", testCancelledCommit},
		{"InvalidBatch", testInvalidBatch},
		{"UnpreparedTable", testUnprepared},
		{"DeleteByColumns", testDeleteByColumns},
		{"DeleteThenUpsert", testDeleteThenUpsert},
		{"DeleteCascades", testDeleteCascades},
		{"DeleteCrash", testDeleteCrash},
		{"DeleteInvalid", testDeleteInvalid},
		{"AppendDedupe", testAppendDedupe},
		{"AppendDynamicColumns", testAppendDynamic},
		{"AppendReplaceSweep", testAppendReplaceSweep},
		{"AppendInvalidBatch", testAppendInvalid},
		{"AppendRunCrash", testAppendRunCrash},
		{"HistoryVersions", testHistoryVersions},
		{"HistoryFailedCommit", testHistoryFailedCommit},
		{"HistoryDynamic", testHistoryDynamic},
		{"HistorySweep", testHistorySweep},
		{"HistoryReplace", testHistoryReplace},
		{"HistoryDelete", testHistoryDelete},
		{"HistoryAppend", testHistoryAppend},
		{"HistoryAppendResumed", testHistoryAppendResumed},
		{"HistorySwitch", testHistorySwitch},
		{"Truncate", testTruncate},
		{"DropColumns", testDropColumns},
		{"Blocked", testBlocked},
		{"BeforePrepare", testBeforePrepare},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newFixture(t, open))
		})
	}
}

// Times of runs; they format as ts shows.
var (
	t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	s1 = t0.Add(1 * time.Hour)
	s2 = t0.Add(2 * time.Hour)
	s3 = t0.Add(3 * time.Hour)
)

func ts(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// errCrash is what the suite's crash hook returns.
var errCrash = errors.New("desttest: injected crash")

type fixture struct {
	t    *testing.T
	open Open
	dir  string
	d    Destination
	// fail, when set, answers the destination's crash calls.
	fail func(stage string) error
}

func newFixture(t *testing.T, open Open) *fixture {
	f := &fixture{t: t, open: open, dir: t.TempDir()}
	f.d = f.openDest()
	t.Cleanup(func() {
		if f.d != nil {
			f.d.Close()
		}
	})
	return f
}

func (f *fixture) openDest() Destination {
	return f.open(f.t, f.dir, func(stage string) error {
		if f.fail != nil {
			return f.fail(stage)
		}
		return nil
	})
}

func (f *fixture) reopen() {
	f.t.Helper()
	if err := f.d.Close(); err != nil {
		f.t.Fatalf("close: %v", err)
	}
	f.d = f.openDest()
}

func (f *fixture) prepare(tables ...*runtime.Table) {
	f.t.Helper()
	if err := f.d.Prepare(context.Background(), tables); err != nil {
		f.t.Fatalf("prepare: %v", err)
	}
}

func (f *fixture) commit(b *runtime.Batch) {
	f.t.Helper()
	if err := f.d.Commit(context.Background(), b); err != nil {
		f.t.Fatalf("commit: %v", err)
	}
}

// dump returns a table's CSV, header first.
func (f *fixture) dump(table string) [][]string {
	f.t.Helper()
	var buf bytes.Buffer
	if err := f.d.Dump(context.Background(), table, &buf); err != nil {
		f.t.Fatalf("dump: %v", err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		f.t.Fatalf("dump %s: not CSV: %v", table, err)
	}
	if len(recs) == 0 {
		f.t.Fatalf("dump %s: no header", table)
	}
	return recs
}

// rows returns the named columns of a table's rows, in dump order.
func (f *fixture) rows(table string, cols ...string) [][]string {
	f.t.Helper()
	recs := f.dump(table)
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = slices.Index(recs[0], c)
		if idx[i] < 0 {
			f.t.Fatalf("dump %s: no column %q in %q", table, c, recs[0])
		}
	}
	out := [][]string{}
	for _, r := range recs[1:] {
		row := make([]string, len(cols))
		for i, j := range idx {
			row[i] = r[j]
		}
		out = append(out, row)
	}
	return out
}

// want compares a table's rows, projected on cols, with rows.
func (f *fixture) want(table string, cols []string, rows ...[]string) {
	f.t.Helper()
	if rows == nil {
		rows = [][]string{}
	}
	if diff := cmp.Diff(rows, f.rows(table, cols...)); diff != "" {
		f.t.Errorf("%s %q (-want +got):\n%s", table, cols, diff)
	}
}

func (f *fixture) state() map[string]runtime.TableState {
	f.t.Helper()
	st, err := f.d.State(context.Background())
	if err != nil {
		f.t.Fatalf("state: %v", err)
	}
	return st
}

// snapshot is everything observable: every table's dump and the state.
func (f *fixture) snapshot(tables ...string) string {
	f.t.Helper()
	var b strings.Builder
	for _, t := range tables {
		var buf bytes.Buffer
		if err := f.d.Dump(context.Background(), t, &buf); err != nil {
			f.t.Fatalf("dump: %v", err)
		}
		fmt.Fprintf(&b, "== %s\n%s", t, buf.String())
	}
	js, err := json.MarshalIndent(f.state(), "", "  ") // map keys sort
	if err != nil {
		f.t.Fatal(err)
	}
	fmt.Fprintf(&b, "== state\n%s\n", js)
	return b.String()
}

// family is a small set of descriptors shaped like generated ones: a parent
// with a breakout child and grandchild, a fan-out table of the parent, and an
// unrelated table.
type family struct {
	parent, tag, note, member, other *runtime.Table
}

func newFamily() *family {
	s := runtime.TypeString
	parent := &runtime.Table{
		Name:       "parent",
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: s}, {Name: "name", Type: s}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
	}
	tag := &runtime.Table{
		Name:       "parent_tag",
		PrimaryKey: []string{"parent_id", "tag"},
		ParentKey:  []string{"parent_id"},
		Columns:    []runtime.Column{{Name: "parent_id", Type: s}, {Name: "tag", Type: s}, {Name: "label", Type: s}},
		Parent:     parent,
		Breakout:   &runtime.Breakout{Kind: runtime.BreakoutObjects, Path: "tags"},
	}
	note := &runtime.Table{
		Name:       "parent_tag_note",
		PrimaryKey: []string{"parent_id", "tag", "idx"},
		ParentKey:  []string{"parent_id", "tag"},
		Columns: []runtime.Column{{Name: "parent_id", Type: s}, {Name: "tag", Type: s},
			{Name: "idx", Type: runtime.TypeInteger}, {Name: "text", Type: s}},
		Parent:   tag,
		Breakout: &runtime.Breakout{Kind: runtime.BreakoutObjects, Path: "notes"},
	}
	parent.Children = []*runtime.Table{tag}
	tag.Children = []*runtime.Table{note}
	member := &runtime.Table{
		Name:       "parent_member",
		Request:    &runtime.Request{Path: "/parents/{parent.id}/members"},
		FanOut:     &runtime.FanOut{Parent: "parent", Fields: []string{"id"}},
		PrimaryKey: []string{"parent_id", "user_id"},
		ParentKey:  []string{"parent_id"},
		Columns:    []runtime.Column{{Name: "parent_id", Type: s}, {Name: "user_id", Type: s}},
	}
	other := &runtime.Table{
		Name:       "other",
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: s}, {Name: "v", Type: s}},
	}
	return &family{parent: parent, tag: tag, note: note, member: member, other: other}
}

func (fam *family) tables() []*runtime.Table {
	return []*runtime.Table{fam.parent, fam.member, fam.other}
}

func (fam *family) names() []string {
	return []string{"parent", "parent_tag", "parent_tag_note", "parent_member", "other"}
}

func batch(t *runtime.Table, synced time.Time) *runtime.Batch {
	return &runtime.Batch{Table: t, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{}, Replace: map[*runtime.Table][][]any{}}
}

func add(b *runtime.Batch, t *runtime.Table, rows ...[]any) {
	rs := b.Rows[t]
	if rs == nil {
		rs = &runtime.RowSet{}
		b.Rows[t] = rs
	}
	rs.Rows = append(rs.Rows, rows...)
}

func row(v ...any) []any { return v }

// addParent adds a parent row with its tags (each with one note) and the
// replacement of the parent's existing tags, as an engine would.
func (fam *family) addParent(b *runtime.Batch, id, name string, tags ...string) {
	add(b, fam.parent, row(id, name))
	b.Replace[fam.tag] = append(b.Replace[fam.tag], row(id))
	for _, tg := range tags {
		add(b, fam.tag, row(id, tg, tg+"-label"))
		add(b, fam.note, row(id, tg, int32(0), "note of "+tg))
		b.Replace[fam.note] = append(b.Replace[fam.note], row(id, tg))
	}
}

var (
	colsParent = []string{"id", "name", "_fivetran_synced", "_fivetran_deleted"}
	colsTag    = []string{"parent_id", "tag", "label", "_fivetran_synced", "_fivetran_deleted"}
	colsNote   = []string{"parent_id", "tag", "idx", "_fivetran_deleted"}
	colsMember = []string{"parent_id", "user_id", "_fivetran_synced", "_fivetran_deleted"}
)

func testPrepareCreates(t *testing.T, f *fixture) {
	if st := f.state(); len(st) != 0 {
		t.Errorf("state of a new destination = %v, want none", st)
	}
	fam := newFamily()
	f.prepare(fam.tables()...)
	for _, tb := range []*runtime.Table{fam.parent, fam.tag, fam.note, fam.member, fam.other} {
		var want []string
		for _, c := range tb.Columns {
			want = append(want, c.Name)
		}
		want = append(want, "_fivetran_synced", "_fivetran_deleted")
		if diff := cmp.Diff([][]string{want}, f.dump(tb.Name)); diff != "" {
			t.Errorf("empty %s (-want +got):\n%s", tb.Name, diff)
		}
	}
	if st := f.state(); len(st) != 0 {
		t.Errorf("state after Prepare = %v, want none", st)
	}
}

func testPrepareIdempotent(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a")
	b.State = runtime.TableState{Cursor: "c1"}
	f.commit(b)
	before := f.snapshot(fam.names()...)
	f.prepare(fam.tables()...)
	f.reopen()
	f.prepare(newFamily().tables()...)
	if diff := cmp.Diff(before, f.snapshot(fam.names()...)); diff != "" {
		t.Errorf("Prepare changed data (-before +after):\n%s", diff)
	}
}

func testPrepareAddsColumns(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.parent)
	b := batch(fam.parent, s1)
	add(b, fam.parent, row("p1", "one"))
	f.commit(b)
	f.reopen()

	// The next version of the spec has a new column, in the middle.
	p2 := &runtime.Table{
		Name:       "parent",
		PrimaryKey: []string{"id"},
		Columns: []runtime.Column{{Name: "id", Type: runtime.TypeString},
			{Name: "extra", Type: runtime.TypeBigint}, {Name: "name", Type: runtime.TypeString}},
	}
	f.prepare(p2)
	f.prepare(p2)
	b = batch(p2, s2)
	add(b, p2, row("p2", int64(7), "two"))
	f.commit(b)
	f.want("parent", []string{"id", "extra", "name", "_fivetran_synced"},
		[]string{"p1", "", "one", ts(s1)},
		[]string{"p2", "7", "two", ts(s2)})
}

func testPrepareRejects(t *testing.T, f *fixture) {
	s := runtime.TypeString
	bad := []*runtime.Table{
		{Name: "no_key", Columns: []runtime.Column{{Name: "id", Type: s}}},
		{Name: "bad_key", PrimaryKey: []string{"nope"}, Columns: []runtime.Column{{Name: "id", Type: s}}},
		{Name: "dup_col", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "id", Type: s}}},
		{Name: "sys_col", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "_fivetran_deleted", Type: runtime.TypeBoolean}}},
		{Name: "bad_type", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: 0}}},
	}
	for _, tb := range bad {
		err := f.d.Prepare(context.Background(), []*runtime.Table{tb})
		if err == nil {
			t.Errorf("Prepare(%s) succeeded, want an error", tb.Name)
		} else if !strings.Contains(err.Error(), tb.Name) {
			t.Errorf("Prepare(%s) error %q does not name the table", tb.Name, err)
		}
	}
}

func testTypes(t *testing.T, f *fixture)         { types(t, f, false) }
func testTypesAppended(t *testing.T, f *fixture) { types(t, f, true) }

// types writes every column type, in a normal or an Append batch.
func types(t *testing.T, f *fixture, appended bool) {
	tb := &runtime.Table{
		Name:       "typed",
		PrimaryKey: []string{"id"},
		Columns: []runtime.Column{
			{Name: "id", Type: runtime.TypeString},
			{Name: "i", Type: runtime.TypeInteger},
			{Name: "big", Type: runtime.TypeBigint},
			{Name: "d", Type: runtime.TypeDouble},
			{Name: "ok", Type: runtime.TypeBoolean},
			{Name: "at", Type: runtime.TypeTimestamp},
			{Name: "doc", Type: runtime.TypeJSON},
		},
	}
	f.prepare(tb)
	east := time.FixedZone("UTC+5", 5*3600)
	b := batch(tb, s1)
	b.Append = appended
	add(b, tb,
		row("a", int32(-7), int64(9007199254740993), 1.5, true,
			time.Date(2024, 2, 29, 23, 59, 59, 123_000_000, time.UTC), `{"a":[1,2],"b":"x"}`),
		row("b", nil, nil, nil, nil, nil, nil),
		row("c, \"quoted\"\nline", int32(0), int64(0), -0.25, false,
			time.Date(2024, 3, 1, 4, 0, 0, 0, east), `[1,"two",null]`),
	)
	f.commit(b)
	f.want("typed", []string{"id", "i", "big", "d", "ok", "at", "doc", "_fivetran_synced", "_fivetran_deleted"},
		[]string{"a", "-7", "9007199254740993", "1.5", "true", "2024-02-29 23:59:59.123", `{"a":[1,2],"b":"x"}`, ts(s1), "false"},
		[]string{"b", "", "", "", "", "", "", ts(s1), "false"},
		[]string{"c, \"quoted\"\nline", "0", "0", "-0.25", "false", "2024-02-29 23:00:00.000", `[1,"two",null]`, ts(s1), "false"},
	)
}

func testUpsert(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.other, s1)
	add(b, fam.other, row("o1", "one"), row("o2", "two"))
	f.commit(b)
	b = batch(fam.other, s2)
	add(b, fam.other, row("o1", "uno"), row("o3", "tres"))
	f.commit(b)
	f.want("other", []string{"id", "v", "_fivetran_synced", "_fivetran_deleted"},
		[]string{"o1", "uno", ts(s2), "false"},
		[]string{"o2", "two", ts(s1), "false"},
		[]string{"o3", "tres", ts(s2), "false"})
}

func testDuplicateKeys(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	add(b, fam.parent, row("p1", "first"), row("p2", "other"), row("p1", "last"))
	add(b, fam.tag, row("p1", "a", "first"), row("p1", "a", "last"))
	f.commit(b)
	f.want("parent", []string{"id", "name"}, []string{"p1", "last"}, []string{"p2", "other"})
	f.want("parent_tag", []string{"parent_id", "tag", "label"}, []string{"p1", "a", "last"})
}

func testReplaceChildren(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a", "b")
	fam.addParent(b, "p2", "two", "c")
	f.commit(b)

	// Run 2 rewrites p1 without tag b: b and its note are replaced.
	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a")
	f.commit(b)
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s2), "false"},
		[]string{"p1", "b", "b-label", ts(s1), "true"},
		[]string{"p2", "c", "c-label", ts(s1), "false"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "false"},
		[]string{"p1", "b", "0", "true"},
		[]string{"p2", "c", "0", "false"})

	// A later batch of the same run (the parent on a second page, or a
	// replayed page) does not touch what the run wrote.
	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "d")
	f.commit(b)
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s2), "false"},
		[]string{"p1", "b", "b-label", ts(s1), "true"},
		[]string{"p1", "d", "d-label", ts(s2), "false"},
		[]string{"p2", "c", "c-label", ts(s1), "false"})

	// Run 3: tag b comes back and flips to not deleted; a and d go.
	b = batch(fam.parent, s3)
	fam.addParent(b, "p1", "one", "b")
	f.commit(b)
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s2), "true"},
		[]string{"p1", "b", "b-label", ts(s3), "false"},
		[]string{"p1", "d", "d-label", ts(s2), "true"},
		[]string{"p2", "c", "c-label", ts(s1), "false"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "true"},
		[]string{"p1", "b", "0", "false"},
		[]string{"p1", "d", "0", "true"},
		[]string{"p2", "c", "0", "false"})
	f.want("parent", colsParent,
		[]string{"p1", "one", ts(s3), "false"},
		[]string{"p2", "two", ts(s1), "false"})
}

func testReplaceFanOut(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.member, s1)
	add(b, fam.member, row("p1", "u1"), row("p1", "u2"), row("p2", "u1"))
	b.Replace[fam.member] = [][]any{{"p1"}, {"p2"}}
	f.commit(b)

	// p1's listing starts again: its rows not in the new listing go.
	b = batch(fam.member, s2)
	add(b, fam.member, row("p1", "u2"), row("p1", "u3"))
	b.Replace[fam.member] = [][]any{{"p1"}}
	f.commit(b)
	// Its listing continues in the next batch, without replacing again.
	b = batch(fam.member, s2)
	add(b, fam.member, row("p1", "u4"))
	f.commit(b)
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s1), "true"},
		[]string{"p1", "u2", ts(s2), "false"},
		[]string{"p1", "u3", ts(s2), "false"},
		[]string{"p1", "u4", ts(s2), "false"},
		[]string{"p2", "u1", ts(s1), "false"})
}

func testSweep(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a")
	fam.addParent(b, "p2", "two", "b")
	fam.addParent(b, "p3", "three")
	f.commit(b)
	b = batch(fam.member, s1)
	add(b, fam.member, row("p1", "u1"), row("p2", "u2"))
	f.commit(b)
	b = batch(fam.other, s1)
	add(b, fam.other, row("o1", "x"))
	f.commit(b)

	// Run 2 is a full import over two batches; p2 is gone at the source.
	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a")
	f.commit(b)
	b = batch(fam.parent, s2)
	fam.addParent(b, "p3", "three")
	b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{fam.member}}
	f.commit(b)
	// Deletes leave _fivetran_synced as it was.
	f.want("parent", colsParent,
		[]string{"p1", "one", ts(s2), "false"},
		[]string{"p2", "two", ts(s1), "true"},
		[]string{"p3", "three", ts(s2), "false"})
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s2), "false"},
		[]string{"p2", "b", "b-label", ts(s1), "true"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "false"},
		[]string{"p2", "b", "0", "true"})
	// p1's members were not listed again (only changed parents are), yet
	// they stay; p2's follow their parent.
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s1), "false"},
		[]string{"p2", "u2", ts(s1), "true"})
	f.want("other", []string{"id", "_fivetran_deleted"}, []string{"o1", "false"})

	// Run 3: p2 is back, so are its children; its members when listed.
	b = batch(fam.parent, s3)
	fam.addParent(b, "p2", "two again", "b")
	f.commit(b)
	f.want("parent", colsParent,
		[]string{"p1", "one", ts(s2), "false"},
		[]string{"p2", "two again", ts(s3), "false"},
		[]string{"p3", "three", ts(s2), "false"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "false"},
		[]string{"p2", "b", "0", "false"})
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s1), "false"},
		[]string{"p2", "u2", ts(s1), "true"})
	b = batch(fam.member, s3)
	add(b, fam.member, row("p2", "u2"))
	b.Replace[fam.member] = [][]any{{"p2"}}
	f.commit(b)
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s1), "false"},
		[]string{"p2", "u2", ts(s3), "false"})
}

func testReplay(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a", "b")
	fam.addParent(b, "p2", "two", "c")
	f.commit(b)
	b = batch(fam.member, s1)
	add(b, fam.member, row("p2", "u1"))
	f.commit(b)

	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "uno", "a")
	b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{fam.member}}
	b.State = runtime.TableState{Cursor: "c2", LastFullImport: s2}
	f.commit(b)
	once := f.snapshot(fam.names()...)
	f.commit(b)
	if diff := cmp.Diff(once, f.snapshot(fam.names()...)); diff != "" {
		t.Errorf("replaying a batch changed the tables (-once +twice):\n%s", diff)
	}
}

func testDynamicColumns(t *testing.T, f *fixture) {
	ev := &runtime.Table{
		Name:       "event",
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString}, {Name: "msg", Type: runtime.TypeString}},
		Dynamic: []runtime.DynamicColumns{
			{Path: "attrs", Prefix: "attr_", Type: runtime.TypeString},
			{Path: "counts", Prefix: "count_", Type: runtime.TypeBigint},
		},
	}
	f.prepare(ev)
	weird := `attr_x"; DROP TABLE event; --`
	b := batch(ev, s1)
	b.Rows[ev] = &runtime.RowSet{
		Rows: [][]any{row("e1", "one"), row("e2", "two"), row("e3", "three")},
		Dynamic: [][]runtime.Field{
			{{Name: "attr_a", Value: "1"}},
			{{Name: "attr_b", Value: "2"}, {Name: "count_n", Value: int64(5)}},
			nil,
		},
	}
	f.commit(b)
	f.want("event", []string{"id", "msg", "attr_a", "attr_b", "count_n"},
		[]string{"e1", "one", "1", "", ""},
		[]string{"e2", "two", "", "2", "5"},
		[]string{"e3", "three", "", "", ""})

	// A row written again is replaced whole, dynamic columns included.
	b = batch(ev, s2)
	b.Rows[ev] = &runtime.RowSet{
		Rows:    [][]any{row("e1", "uno")},
		Dynamic: [][]runtime.Field{{{Name: "attr_c", Value: "3"}, {Name: weird, Value: "w"}}},
	}
	f.commit(b)
	f.want("event", []string{"id", "msg", "attr_a", "attr_b", "attr_c", weird, "count_n"},
		[]string{"e1", "uno", "", "", "3", "w", ""},
		[]string{"e2", "two", "", "2", "", "", "5"},
		[]string{"e3", "three", "", "", "", "", ""})

	// After a reopen the columns are known again.
	f.reopen()
	f.prepare(ev)
	b = batch(ev, s3)
	b.Rows[ev] = &runtime.RowSet{
		Rows:    [][]any{row("e4", "four")},
		Dynamic: [][]runtime.Field{{{Name: "attr_a", Value: "4"}, {Name: "attr_d", Value: "5"}}},
	}
	f.commit(b)
	f.want("event", []string{"id", "attr_a", "attr_d"},
		[]string{"e1", "", ""}, []string{"e2", "", ""}, []string{"e3", "", ""}, []string{"e4", "4", "5"})
	if got := f.dump("event")[0]; len(got) != 10 {
		t.Errorf("event columns = %q, want 10 (2 + 2 system + 6 dynamic)", got)
	}
}

func testState(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	st1 := runtime.TableState{
		Cursor:         "2024-03-01T00:00:00.000Z",
		LastFullImport: s1,
		Pending:        &runtime.Pending{Synced: s1, Full: true, URL: "https://x/next?after=1", MaxCursor: "m"},
	}
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one")
	b.State = st1
	f.commit(b)
	st2 := runtime.TableState{ParentCursor: "pc"}
	b = batch(fam.member, s1)
	b.State = st2 // a batch may carry no rows at all
	f.commit(b)
	want := map[string]runtime.TableState{"parent": st1, "parent_member": st2}
	if diff := cmp.Diff(want, f.state()); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	f.reopen()
	if diff := cmp.Diff(want, f.state()); diff != "" {
		t.Errorf("state after reopen (-want +got):\n%s", diff)
	}
	f.want("parent", []string{"id"}, []string{"p1"})

	b = batch(fam.parent, s2)
	b.State = runtime.TableState{Cursor: "next"}
	f.commit(b)
	want["parent"] = b.State
	if diff := cmp.Diff(want, f.state()); diff != "" {
		t.Errorf("state after update (-want +got):\n%s", diff)
	}
}

func testQuotedIdentifiers(t *testing.T, f *fixture) {
	s := runtime.TypeString
	parent := &runtime.Table{
		Name:       `select`,
		PrimaryKey: []string{`from`},
		Columns:    []runtime.Column{{Name: `from`, Type: s}, {Name: `a"b`, Type: s}, {Name: `x"; DROP TABLE users; --`, Type: s}},
	}
	child := &runtime.Table{
		Name:       `we"ird child`,
		PrimaryKey: []string{`select_from`, `order`},
		ParentKey:  []string{`select_from`},
		Columns:    []runtime.Column{{Name: `select_from`, Type: s}, {Name: `order`, Type: runtime.TypeInteger}},
		Parent:     parent,
		Breakout:   &runtime.Breakout{Kind: runtime.BreakoutScalars, Path: "x"},
	}
	parent.Children = []*runtime.Table{child}
	users := &runtime.Table{Name: "users", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: s}}}
	f.prepare(parent, users)
	f.prepare(parent, users)
	b := batch(users, s1)
	add(b, users, row("u1"))
	f.commit(b)

	b = batch(parent, s1)
	add(b, parent, row("k1", `q"q`, `'; --`), row("k2", "", nil))
	add(b, child, row("k1", int32(1)), row("k2", int32(1)))
	b.Replace[child] = [][]any{{"k1"}, {"k2"}}
	f.commit(b)
	b = batch(parent, s2)
	add(b, parent, row("k1", `q"q`, `'; --`))
	add(b, child, row("k1", int32(2)))
	b.Replace[child] = [][]any{{"k1"}}
	b.Sweep = &runtime.Sweep{Before: s2}
	f.commit(b)
	f.want(`select`, []string{`from`, `a"b`, `x"; DROP TABLE users; --`, "_fivetran_deleted"},
		[]string{"k1", `q"q`, `'; --`, "false"},
		[]string{"k2", "", "", "true"})
	f.want(`we"ird child`, []string{`select_from`, `order`, "_fivetran_deleted"},
		[]string{"k1", "1", "true"},
		[]string{"k1", "2", "false"},
		[]string{"k2", "1", "true"})
	f.want("users", []string{"id"}, []string{"u1"})
}

// testFailedCommit makes a rich commit (new dynamic column, replacement,
// upsert, sweep, state) fail at each crash point in turn, and checks that the
// destination holds either all of it or none of it, also after a reopen, and
// that retrying the batch then gives the same tables as an uninterrupted run.
func testFailedCommit(t *testing.T, f *fixture)        { failedCommit(t, f, false) }
func testHistoryFailedCommit(t *testing.T, f *fixture) { failedCommit(t, f, true) }

func failedCommit(t *testing.T, f *fixture, history bool) {
	fam := newFamily()
	if history {
		fam = historyFamily()
	}
	fam.parent.Dynamic = []runtime.DynamicColumns{{Path: "attrs", Prefix: "attr_", Type: runtime.TypeString}}
	tables := append(fam.names(), "event")
	setup := func(f *fixture) {
		f.prepare(fam.tables()...)
		b := batch(fam.parent, s1)
		fam.addParent(b, "p1", "one", "a", "b")
		fam.addParent(b, "p2", "two", "c")
		b.Rows[fam.parent].Dynamic = [][]runtime.Field{{{Name: "attr_x", Value: "1"}}, nil}
		b.State = runtime.TableState{Cursor: "c1"}
		f.commit(b)
		b = batch(fam.member, s1)
		add(b, fam.member, row("p1", "u1"), row("p2", "u2"))
		f.commit(b)
		ev := &runtime.Table{Name: "event", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: runtime.TypeString}}}
		f.prepare(ev)
	}
	subject := func() *runtime.Batch {
		b := batch(fam.parent, s2)
		fam.addParent(b, "p1", "uno", "a", "d")
		fam.addParent(b, "p3", "three", "e")
		b.Rows[fam.parent].Dynamic = [][]runtime.Field{{{Name: "attr_y", Value: "2"}}, {{Name: "attr_x", Value: "3"}}}
		b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{fam.member}}
		b.State = runtime.TableState{Cursor: "c2", LastFullImport: s2}
		return b
	}

	setup(f)
	f.commit(subject())
	want := f.snapshot(tables...)
	if history {
		for _, tb := range []*runtime.Table{fam.parent, fam.tag, fam.note, fam.member} {
			f.checkHistory(tb)
		}
	}

	for n := 1; ; n++ {
		g := newFixture(t, f.open)
		setup(g)
		before := g.snapshot(tables...)
		calls, stage := 0, ""
		g.fail = func(s string) error {
			if calls++; calls == n {
				stage = s
				return errCrash
			}
			return nil
		}
		err := g.d.Commit(context.Background(), subject())
		g.fail = nil
		if calls < n {
			if err != nil {
				t.Fatalf("commit without a crash: %v", err)
			}
			if n == 1 {
				t.Fatal("the destination never called the crash hook")
			}
			break
		}
		if err == nil {
			t.Fatalf("crash at call %d (%s): Commit returned no error", n, stage)
		}
		if !errors.Is(err, errCrash) {
			t.Errorf("crash at %s: error %q does not wrap the crash", stage, err)
		}
		if !strings.Contains(err.Error(), "parent") {
			t.Errorf("crash at %s: error %q does not name the table", stage, err)
		}
		got := g.snapshot(tables...)
		if got != before && got != want {
			t.Errorf("crash at %s left a partial commit (-before +got):\n%s", stage, cmp.Diff(before, got))
		}
		g.reopen()
		if again := g.snapshot(tables...); again != got {
			t.Errorf("crash at %s: reopened destination differs (-before +after reopen):\n%s", stage, cmp.Diff(got, again))
		}
		g.prepare(fam.tables()...)
		g.commit(subject())
		if diff := cmp.Diff(want, g.snapshot(tables...)); diff != "" {
			t.Errorf("crash at %s, then retry (-uninterrupted +retried):\n%s", stage, diff)
		}
	}
}

func testCancelledCommit(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	before := f.snapshot(fam.names()...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a")
	b.State = runtime.TableState{Cursor: "c1"}
	if err := f.d.Commit(ctx, b); err == nil {
		t.Fatal("Commit with a cancelled context succeeded")
	}
	if diff := cmp.Diff(before, f.snapshot(fam.names()...)); diff != "" {
		t.Errorf("cancelled commit changed the destination (-before +after):\n%s", diff)
	}
	f.commit(b)
	f.want("parent", []string{"id"}, []string{"p1"})
}

func testInvalidBatch(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a")
	f.commit(b)
	before := f.snapshot(fam.names()...)

	bad := []func() *runtime.Batch{
		func() *runtime.Batch { // a child row one value short, after good rows
			b := batch(fam.parent, s2)
			fam.addParent(b, "p2", "two", "b")
			add(b, fam.tag, row("p2", "c"))
			b.State = runtime.TableState{Cursor: "bad"}
			return b
		},
		func() *runtime.Batch { // a value of the wrong type
			b := batch(fam.parent, s2)
			fam.addParent(b, "p2", "two", "b")
			add(b, fam.note, row("p2", "b", "not a number", "x"))
			return b
		},
		func() *runtime.Batch { // a replacement key of the wrong width
			b := batch(fam.parent, s2)
			fam.addParent(b, "p2", "two")
			b.Replace[fam.note] = [][]any{{"p2"}}
			return b
		},
		func() *runtime.Batch { // a NULL key
			b := batch(fam.parent, s2)
			add(b, fam.parent, row("p3", "three"), row(nil, "null"))
			return b
		},
		func() *runtime.Batch { // a dynamic field without dynamic columns
			b := batch(fam.parent, s2)
			add(b, fam.parent, row("p3", "three"))
			b.Rows[fam.parent].Dynamic = [][]runtime.Field{{{Name: "attr_a", Value: "x"}}}
			return b
		},
	}
	for i, mk := range bad {
		err := f.d.Commit(context.Background(), mk())
		if err == nil {
			t.Errorf("bad batch %d: Commit succeeded", i)
			continue
		}
		if !strings.Contains(err.Error(), "parent") {
			t.Errorf("bad batch %d: error %q does not name the table", i, err)
		}
		if diff := cmp.Diff(before, f.snapshot(fam.names()...)); diff != "" {
			t.Errorf("bad batch %d changed the destination (-before +after):\n%s", i, diff)
		}
	}
	// The destination is still usable.
	b = batch(fam.parent, s2)
	fam.addParent(b, "p2", "two", "b")
	f.commit(b)
	f.want("parent", []string{"id"}, []string{"p1"}, []string{"p2"})
}

func testUnprepared(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.other)
	b := batch(fam.parent, s1)
	add(b, fam.parent, row("p1", "one"))
	err := f.d.Commit(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), "parent") {
		t.Errorf("Commit to an unprepared table: error %v, want one naming the table", err)
	}
}

// appendBatch is a batch of an Append run.
func appendBatch(t *runtime.Table, synced time.Time) *runtime.Batch {
	b := batch(t, synced)
	b.Append = true
	return b
}

// testAppendDedupe: rows of an Append run may repeat a key (a page read
// again, a key twice in a batch) until the run's Dedupe batch, which keeps
// the last row written of each key in the table and in its children and
// grandchildren, and nothing of earlier runs.
func testAppendDedupe(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.other, s1)
	add(b, fam.other, row("o0", "earlier run"))
	f.commit(b)

	page := func(name, label string) *runtime.Batch {
		b := appendBatch(fam.parent, s2)
		fam.addParent(b, "p1", name, "a", "b")
		add(b, fam.tag, row("p1", "a", label)) // the same key twice in a batch
		fam.addParent(b, "p2", "two", "c")
		return b
	}
	f.commit(page("one", "first"))
	f.commit(page("one", "first")) // the same page, appended again
	f.commit(page("uno", "second"))
	if n := len(f.rows("parent", "id")); n != 6 {
		t.Logf("before Dedupe: %d parent rows (a destination may merge appended rows at once)", n)
	}
	b = appendBatch(fam.parent, s2)
	fam.addParent(b, "p3", "three")
	b.Dedupe = true
	b.State = runtime.TableState{Cursor: "done"}
	f.commit(b)
	f.want("parent", colsParent,
		[]string{"p1", "uno", ts(s2), "false"},
		[]string{"p2", "two", ts(s2), "false"},
		[]string{"p3", "three", ts(s2), "false"})
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "second", ts(s2), "false"},
		[]string{"p1", "b", "b-label", ts(s2), "false"},
		[]string{"p2", "c", "c-label", ts(s2), "false"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "false"},
		[]string{"p1", "b", "0", "false"},
		[]string{"p2", "c", "0", "false"})
	f.want("other", []string{"id", "v"}, []string{"o0", "earlier run"})

	// Dedupe with nothing to remove, and replayed, changes nothing.
	before := f.snapshot(fam.names()...)
	b = appendBatch(fam.parent, s2)
	b.Dedupe = true
	b.State = runtime.TableState{Cursor: "done"}
	f.commit(b)
	f.commit(b)
	if diff := cmp.Diff(before, f.snapshot(fam.names()...)); diff != "" {
		t.Errorf("a second Dedupe changed the tables (-before +after):\n%s", diff)
	}
	// The next run merges into the deduplicated rows as usual.
	b = batch(fam.parent, s3)
	fam.addParent(b, "p1", "again", "a")
	f.commit(b)
	f.want("parent", []string{"id", "name", "_fivetran_synced"},
		[]string{"p1", "again", ts(s3)}, []string{"p2", "two", ts(s2)}, []string{"p3", "three", ts(s2)})
	f.want("parent_tag", []string{"parent_id", "tag", "label", "_fivetran_deleted"},
		[]string{"p1", "a", "a-label", "false"},
		[]string{"p1", "b", "b-label", "true"},
		[]string{"p2", "c", "c-label", "false"})
}

// testAppendDynamic: appended rows add and fill dynamic columns.
func testAppendDynamic(t *testing.T, f *fixture) {
	ev := &runtime.Table{
		Name:       "event",
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString}, {Name: "msg", Type: runtime.TypeString}},
		Dynamic:    []runtime.DynamicColumns{{Path: "attrs", Prefix: "attr_", Type: runtime.TypeString}},
	}
	f.prepare(ev)
	b := appendBatch(ev, s1)
	b.Rows[ev] = &runtime.RowSet{
		Rows:    [][]any{row("e1", "one"), row("e2", "two")},
		Dynamic: [][]runtime.Field{{{Name: "attr_a", Value: "1"}}, {{Name: "attr_b", Value: "2"}}},
	}
	f.commit(b)
	b = appendBatch(ev, s1)
	b.Dedupe = true
	b.Rows[ev] = &runtime.RowSet{
		Rows:    [][]any{row("e1", "uno"), row("e3", "three")},
		Dynamic: [][]runtime.Field{{{Name: "attr_c", Value: "3"}}, nil},
	}
	f.commit(b)
	f.want("event", []string{"id", "msg", "attr_a", "attr_b", "attr_c", "_fivetran_synced"},
		[]string{"e1", "uno", "", "", "3", ts(s1)},
		[]string{"e2", "two", "", "2", "", ts(s1)},
		[]string{"e3", "three", "", "", "", ts(s1)})
}

// testAppendReplaceSweep: replacements and the sweep of an Append run mark
// rows of earlier runs, never the run's own.
func testAppendReplaceSweep(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p9", "nine", "z")
	f.commit(b)
	b = batch(fam.member, s1)
	add(b, fam.member, row("p1", "u1"), row("p9", "u9"))
	b.Replace[fam.member] = [][]any{{"p1"}, {"p9"}}
	f.commit(b)

	// Run 2 imports parents anew; p9 is gone at the source. A page is read
	// twice, the second time with fewer tags: a replacement within the run
	// keeps what the run wrote.
	b = appendBatch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a", "b")
	f.commit(b)
	b = appendBatch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a")
	fam.addParent(b, "p2", "two", "c")
	f.commit(b)
	b = appendBatch(fam.parent, s2)
	b.Dedupe = true
	b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{fam.member}}
	f.commit(b)
	f.want("parent", colsParent,
		[]string{"p1", "one", ts(s2), "false"},
		[]string{"p2", "two", ts(s2), "false"},
		[]string{"p9", "nine", ts(s1), "true"})
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s2), "false"},
		[]string{"p1", "b", "b-label", ts(s2), "false"},
		[]string{"p2", "c", "c-label", ts(s2), "false"},
		[]string{"p9", "z", "z-label", ts(s1), "true"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "false"},
		[]string{"p1", "b", "0", "false"},
		[]string{"p2", "c", "0", "false"},
		[]string{"p9", "z", "0", "true"})
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s1), "false"},
		[]string{"p9", "u9", ts(s1), "true"})

	// The fan-out table's own Append run: p1's listing replaces its rows of
	// run 1, p2's is new.
	b = appendBatch(fam.member, s2)
	add(b, fam.member, row("p1", "u2"), row("p2", "u1"))
	b.Replace[fam.member] = [][]any{{"p1"}, {"p2"}}
	f.commit(b)
	b = appendBatch(fam.member, s2)
	add(b, fam.member, row("p1", "u3"))
	b.Replace[fam.member] = [][]any{{"p1"}}
	b.Dedupe = true
	f.commit(b)
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s1), "true"},
		[]string{"p1", "u2", ts(s2), "false"},
		[]string{"p1", "u3", ts(s2), "false"},
		[]string{"p2", "u1", ts(s2), "false"},
		[]string{"p9", "u9", ts(s1), "true"})
}

// testAppendInvalid: a bad Append batch fails whole, as any batch does.
func testAppendInvalid(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := appendBatch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a")
	b.State = runtime.TableState{Cursor: "c1"}
	f.commit(b)
	before := f.snapshot(fam.names()...)
	bad := []func() *runtime.Batch{
		func() *runtime.Batch { // a NULL key
			b := appendBatch(fam.parent, s1)
			add(b, fam.parent, row("p2", "two"), row(nil, "null"))
			return b
		},
		func() *runtime.Batch { // a NULL key in a child, after good parent rows
			b := appendBatch(fam.parent, s1)
			fam.addParent(b, "p2", "two", "b")
			add(b, fam.tag, row("p2", nil, "x"))
			b.Dedupe = true
			return b
		},
		func() *runtime.Batch { // a child row one value short
			b := appendBatch(fam.parent, s1)
			fam.addParent(b, "p2", "two", "b")
			add(b, fam.tag, row("p2", "c"))
			b.State = runtime.TableState{Cursor: "bad"}
			return b
		},
		func() *runtime.Batch { // a value of the wrong type
			b := appendBatch(fam.parent, s1)
			fam.addParent(b, "p2", "two", "b")
			add(b, fam.note, row("p2", "b", "not a number", "x"))
			return b
		},
	}
	for i, mk := range bad {
		err := f.d.Commit(context.Background(), mk())
		if err == nil {
			t.Errorf("bad batch %d: Commit succeeded", i)
			continue
		}
		if !strings.Contains(err.Error(), "parent") {
			t.Errorf("bad batch %d: error %q does not name the table", i, err)
		}
		if diff := cmp.Diff(before, f.snapshot(fam.names()...)); diff != "" {
			t.Errorf("bad batch %d changed the destination (-before +after):\n%s", i, diff)
		}
	}
}

// testAppendRunCrash interrupts an Append run at each crash point of each
// of its commits in turn, reopens the destination as a restarted process
// would, and resumes the run from the saved state the way an engine does:
// from the batch after the last one saved, with that batch's first page read
// again. The run must end with the tables of an uninterrupted run.
func testAppendRunCrash(t *testing.T, f *fixture) {
	fam := newFamily()
	tables := fam.names()
	setup := func(f *fixture) {
		f.prepare(fam.tables()...)
		b := batch(fam.parent, s1)
		fam.addParent(b, "p0", "zero", "a")
		b.State = runtime.TableState{Cursor: "run1"}
		f.commit(b)
		b = batch(fam.member, s1)
		add(b, fam.member, row("p0", "u0"), row("p1", "u1"))
		f.commit(b)
	}
	// Run 2 is a full import of four pages, each batch a page; p0 is gone,
	// p1's members were listed before p1 was imported. Page i is re-read first when the run resumes after it, so each batch
	// repeats the previous batch's last parent, changed.
	pages := [][]string{{"p1", "p2"}, {"p3", "p4"}, {"p5"}, {"p6"}}
	run := func(i int, replayed bool) *runtime.Batch {
		b := appendBatch(fam.parent, s2)
		if i > 0 || replayed {
			prev := pages[max(i-1, 0)]
			fam.addParent(b, prev[len(prev)-1], "re-read", "x")
		}
		for _, id := range pages[i] {
			fam.addParent(b, id, "name of "+id, "a", "b")
		}
		b.State = runtime.TableState{Pending: &runtime.Pending{Synced: s2, Full: true, URL: fmt.Sprint("page", i+1)}}
		if i == len(pages)-1 {
			b.Dedupe = true
			b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{fam.member}}
			b.State = runtime.TableState{Cursor: "run2", LastFullImport: s2}
		}
		return b
	}
	// next is the page a resumed run starts at, from the saved state.
	next := func(f *fixture) int {
		st := f.state()["parent"]
		if st.Pending == nil {
			if st.Cursor == "run2" {
				return len(pages)
			}
			return 0
		}
		var n int
		if _, err := fmt.Sscanf(st.Pending.URL, "page%d", &n); err != nil {
			f.t.Fatalf("state %+v: %v", st, err)
		}
		return n
	}

	setup(f)
	for i := range pages {
		f.commit(run(i, false))
	}
	want := f.snapshot(tables...)
	f.want("parent", colsParent,
		[]string{"p0", "zero", ts(s1), "true"},
		[]string{"p1", "name of p1", ts(s2), "false"},
		[]string{"p2", "re-read", ts(s2), "false"},
		[]string{"p3", "name of p3", ts(s2), "false"},
		[]string{"p4", "re-read", ts(s2), "false"},
		[]string{"p5", "re-read", ts(s2), "false"},
		[]string{"p6", "name of p6", ts(s2), "false"})
	f.want("parent_member", colsMember,
		[]string{"p0", "u0", ts(s1), "true"},
		[]string{"p1", "u1", ts(s1), "false"})

	for n := 1; ; n++ {
		g := newFixture(t, f.open)
		setup(g)
		calls, stage, at := 0, "", -1
		g.fail = func(s string) error {
			if calls++; calls == n {
				stage = s
				return errCrash
			}
			return nil
		}
		for i := range pages {
			if err := g.d.Commit(context.Background(), run(i, false)); err != nil {
				if !errors.Is(err, errCrash) {
					t.Fatalf("batch %d: %v", i, err)
				}
				at = i
				break
			}
		}
		g.fail = nil
		if at < 0 {
			break // every crash point has been tried
		}
		g.reopen()
		g.prepare(fam.tables()...)
		for i := next(g); i < len(pages); i++ {
			g.commit(run(i, true))
		}
		if diff := cmp.Diff(want, g.snapshot(tables...)); diff != "" {
			t.Errorf("crash in batch %d at %s, then resume (-uninterrupted +resumed):\n%s", at, stage, diff)
		}
	}
}
