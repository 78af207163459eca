package desttest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"oktasync/runtime"
)

// History mode (Table.History): versions instead of soft deletes.

// Timestamps of history's system columns as Dump writes them.
var (
	tsEnd = ts(runtime.HistoryEnd)
	tsMin = ts(runtime.HistoryMin)
)

// ms is the step between a closed version's end and its successor's start.
const ms = time.Millisecond

// historyFamily is the family with every table in history mode.
func historyFamily() *family {
	fam := newFamily()
	for _, t := range []*runtime.Table{fam.parent, fam.tag, fam.note, fam.member, fam.other} {
		t.History = true
	}
	return fam
}

var (
	histParent = []string{"id", "name", "_fivetran_start", "_fivetran_end", "_fivetran_active", "_fivetran_synced"}
	histTag    = []string{"parent_id", "tag", "label", "_fivetran_start", "_fivetran_end", "_fivetran_active"}
	histNote   = []string{"parent_id", "tag", "idx", "_fivetran_start", "_fivetran_end", "_fivetran_active", "_fivetran_synced"}
	histMember = []string{"parent_id", "user_id", "_fivetran_start", "_fivetran_end", "_fivetran_active"}
)

// wantHistory compares a history table's rows, like want, and checks the
// invariants of its versions.
func (f *fixture) wantHistory(tb *runtime.Table, cols []string, rows ...[]string) {
	f.t.Helper()
	f.want(tb.Name, cols, rows...)
	f.checkHistory(tb)
}

// checkHistory checks the invariants of every key's versions, in dump order
// (key, then _fivetran_start): start <= end; at most one active version,
// the last, and only it ends at HistoryEnd; a version starts after the
// previous one ended (no overlap), 1ms after unless that one was closed by
// a delete (a gap, which the tests' expected rows pin down); and no
// _fivetran_deleted column.
func (f *fixture) checkHistory(tb *runtime.Table) {
	f.t.Helper()
	recs := f.dump(tb.Name)
	if slices.Contains(recs[0], "_fivetran_deleted") {
		f.t.Errorf("%s: a history table has _fivetran_deleted: %q", tb.Name, recs[0])
	}
	cols := append(slices.Clone(tb.PrimaryKey), "_fivetran_start", "_fivetran_end", "_fivetran_active")
	rows := f.rows(tb.Name, cols...)
	n := len(tb.PrimaryKey)
	parse := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.000", s)
		if err != nil {
			f.t.Fatalf("%s: timestamp %q: %v", tb.Name, s, err)
		}
		return v
	}
	for i, r := range rows {
		key := strings.Join(r[:n], "|")
		start, end, active := parse(r[n]), parse(r[n+1]), r[n+2] == "true"
		if start.After(end) {
			f.t.Errorf("%s %s: version starts at %s after its end %s", tb.Name, key, r[n], r[n+1])
		}
		if active != (r[n+1] == tsEnd) {
			f.t.Errorf("%s %s: version active=%v ends at %s", tb.Name, key, active, r[n+1])
		}
		if i+1 < len(rows) && strings.Join(rows[i+1][:n], "|") == key {
			if active {
				f.t.Errorf("%s %s: active version at %s is not the latest", tb.Name, key, r[n])
			}
			if next := parse(rows[i+1][n]); !next.After(end) {
				f.t.Errorf("%s %s: version at %s overlaps the one ending %s", tb.Name, key, rows[i+1][n], r[n+1])
			}
		}
	}
}

// testHistoryVersions: a changed row opens a version and closes the active
// one 1ms before it; an unchanged row only moves _fivetran_synced; starts
// come from RowSet.Start, moved after the key's latest start; the last row
// of a key in a batch wins; a replay changes nothing.
func testHistoryVersions(t *testing.T, f *fixture) {
	fam := historyFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	add(b, fam.parent, row("p1", "one"), row("p2", "two"))
	f.commit(b)
	b = batch(fam.parent, s2)
	add(b, fam.parent, row("p1", "uno"), row("p2", "two"), row("p3", "first"), row("p3", "last"))
	f.commit(b)
	f.wantHistory(fam.parent, histParent,
		[]string{"p1", "one", ts(s1), ts(s2.Add(-ms)), "false", ts(s1)},
		[]string{"p1", "uno", ts(s2), tsEnd, "true", ts(s2)},
		[]string{"p2", "two", ts(s1), tsEnd, "true", ts(s2)},
		[]string{"p3", "last", ts(s2), tsEnd, "true", ts(s2)})

	// Starts from the source: p1's takes effect before s3; p2's claims a
	// time before its key's latest version and moves after it.
	at := s3.Add(-30 * time.Minute)
	subject := func() *runtime.Batch {
		b := batch(fam.parent, s3)
		add(b, fam.parent, row("p1", "eins"), row("p2", "zwei"))
		b.Rows[fam.parent].Start = []time.Time{at, t0}
		b.State = runtime.TableState{Cursor: "c3"}
		return b
	}
	f.commit(subject())
	want := [][]string{
		{"p1", "one", ts(s1), ts(s2.Add(-ms)), "false", ts(s1)},
		{"p1", "uno", ts(s2), ts(at.Add(-ms)), "false", ts(s2)},
		{"p1", "eins", ts(at), tsEnd, "true", ts(s3)},
		{"p2", "two", ts(s1), ts(s1), "false", ts(s2)},
		{"p2", "zwei", ts(s1.Add(ms)), tsEnd, "true", ts(s3)},
		{"p3", "last", ts(s2), tsEnd, "true", ts(s2)},
	}
	f.wantHistory(fam.parent, histParent, want...)
	once := f.snapshot(fam.names()...)
	f.commit(subject())
	if diff := cmp.Diff(once, f.snapshot(fam.names()...)); diff != "" {
		t.Errorf("replaying a batch changed the tables (-once +twice):\n%s", diff)
	}

	// The same run writes p1 again with other values (a page read again):
	// a version 1ms after the run's.
	b = batch(fam.parent, s3)
	add(b, fam.parent, row("p1", "eins!"))
	b.Rows[fam.parent].Start = []time.Time{at}
	f.commit(b)
	want = slices.Insert(want, 3, []string{"p1", "eins!", ts(at.Add(ms)), tsEnd, "true", ts(s3)})
	want[2] = []string{"p1", "eins", ts(at), ts(at), "false", ts(s3)}
	f.wantHistory(fam.parent, histParent, want...)
	f.reopen()
	f.prepare(historyFamily().tables()...)
	f.wantHistory(fam.parent, histParent, want...)
}

// testHistoryDynamic: dynamic columns count as values: a changed, added or
// missing one opens a version; the same ones do not.
func testHistoryDynamic(t *testing.T, f *fixture) {
	ev := &runtime.Table{
		Name:       "event",
		History:    true,
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString}, {Name: "doc", Type: runtime.TypeJSON}},
		Dynamic:    []runtime.DynamicColumns{{Path: "attrs", Prefix: "attr_", Type: runtime.TypeString}},
	}
	f.prepare(ev)
	commit := func(synced time.Time, fields ...[]runtime.Field) {
		b := batch(ev, synced)
		b.Rows[ev] = &runtime.RowSet{Rows: [][]any{row("e1", `{"a":1}`), row("e2", `{"b":[2]}`), row("e3", nil)}, Dynamic: fields}
		f.commit(b)
	}
	commit(s1, []runtime.Field{{Name: "attr_a", Value: "1"}}, nil, nil)
	commit(s2, []runtime.Field{{Name: "attr_a", Value: "1"}}, []runtime.Field{{Name: "attr_b", Value: "2"}}, nil)
	commit(s3, []runtime.Field{{Name: "attr_a", Value: "2"}}, []runtime.Field{{Name: "attr_b", Value: "2"}}, nil)
	f.wantHistory(ev, []string{"id", "doc", "attr_a", "attr_b", "_fivetran_start", "_fivetran_active", "_fivetran_synced"},
		[]string{"e1", `{"a":1}`, "1", "", ts(s1), "false", ts(s2)},
		[]string{"e1", `{"a":1}`, "2", "", ts(s3), "true", ts(s3)},
		[]string{"e2", `{"b":[2]}`, "", "", ts(s1), "false", ts(s1)},
		[]string{"e2", `{"b":[2]}`, "", "2", ts(s2), "true", ts(s3)},
		[]string{"e3", "", "", "", ts(s1), "true", ts(s3)})
}

// histDeleteFixture writes, at s1, p1 (tag a), p2 (tag b), p3 and members
// of p1 and p2, all history tables.
func histDeleteFixture(f *fixture) *family {
	fam := historyFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a")
	fam.addParent(b, "p2", "two", "b")
	fam.addParent(b, "p3", "three")
	f.commit(b)
	b = batch(fam.member, s1)
	add(b, fam.member, row("p1", "u1"), row("p2", "u2"))
	f.commit(b)
	return fam
}

// testHistorySweep: a sweep closes the active versions not written since
// its start, with their children and the fan-out rows of closed parents,
// at the batch's Synced and without a successor; rows written again stay
// one version; a key that comes back opens a version after a gap.
func testHistorySweep(t *testing.T, f *fixture) {
	fam := histDeleteFixture(f)
	b := batch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a")
	f.commit(b)
	b = batch(fam.parent, s2)
	fam.addParent(b, "p3", "three")
	b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{fam.member}}
	f.commit(b)
	f.wantHistory(fam.parent, histParent,
		[]string{"p1", "one", ts(s1), tsEnd, "true", ts(s2)},
		[]string{"p2", "two", ts(s1), ts(s2), "false", ts(s1)},
		[]string{"p3", "three", ts(s1), tsEnd, "true", ts(s2)})
	f.wantHistory(fam.tag, histTag,
		[]string{"p1", "a", "a-label", ts(s1), tsEnd, "true"},
		[]string{"p2", "b", "b-label", ts(s1), ts(s2), "false"})
	f.wantHistory(fam.note, histNote,
		[]string{"p1", "a", "0", ts(s1), tsEnd, "true", ts(s2)},
		[]string{"p2", "b", "0", ts(s1), ts(s2), "false", ts(s1)})
	f.wantHistory(fam.member, histMember,
		[]string{"p1", "u1", ts(s1), tsEnd, "true"},
		[]string{"p2", "u2", ts(s1), ts(s2), "false"})

	// p2 comes back: new versions after the gap; its member once listed.
	b = batch(fam.parent, s3)
	fam.addParent(b, "p2", "two", "b")
	f.commit(b)
	b = batch(fam.member, s3)
	add(b, fam.member, row("p2", "u2"))
	b.Replace[fam.member] = [][]any{{"p2"}}
	f.commit(b)
	f.wantHistory(fam.parent, histParent,
		[]string{"p1", "one", ts(s1), tsEnd, "true", ts(s2)},
		[]string{"p2", "two", ts(s1), ts(s2), "false", ts(s1)},
		[]string{"p2", "two", ts(s3), tsEnd, "true", ts(s3)},
		[]string{"p3", "three", ts(s1), tsEnd, "true", ts(s2)})
	f.wantHistory(fam.tag, histTag,
		[]string{"p1", "a", "a-label", ts(s1), tsEnd, "true"},
		[]string{"p2", "b", "b-label", ts(s1), ts(s2), "false"},
		[]string{"p2", "b", "b-label", ts(s3), tsEnd, "true"})
	f.wantHistory(fam.member, histMember,
		[]string{"p1", "u1", ts(s1), tsEnd, "true"},
		[]string{"p2", "u2", ts(s1), ts(s2), "false"},
		[]string{"p2", "u2", ts(s3), tsEnd, "true"})

	// The next full import: p1 is gone. p2's old closed version does not
	// make its key deleted: its member, not listed again, stays.
	s4 := s3.Add(time.Hour)
	b = batch(fam.parent, s4)
	fam.addParent(b, "p2", "two", "b")
	fam.addParent(b, "p3", "three")
	b.Sweep = &runtime.Sweep{Before: s4, FanOut: []*runtime.Table{fam.member}}
	f.commit(b)
	f.wantHistory(fam.member, histMember,
		[]string{"p1", "u1", ts(s1), ts(s4), "false"},
		[]string{"p2", "u2", ts(s1), ts(s2), "false"},
		[]string{"p2", "u2", ts(s3), tsEnd, "true"})
	f.wantHistory(fam.note, histNote,
		[]string{"p1", "a", "0", ts(s1), ts(s4), "false", ts(s2)},
		[]string{"p2", "b", "0", ts(s1), ts(s2), "false", ts(s1)},
		[]string{"p2", "b", "0", ts(s3), tsEnd, "true", ts(s4)})
}

// testHistoryReplace: a rewritten parent's children not in the batch close
// (with theirs); children written again unchanged stay one version, changed
// ones get a version; rows of the same run are left alone.
func testHistoryReplace(t *testing.T, f *fixture) {
	fam := historyFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a", "b", "c")
	f.commit(b)
	b = batch(fam.parent, s2)
	add(b, fam.parent, row("p1", "one"))
	b.Replace[fam.tag] = [][]any{{"p1"}}
	add(b, fam.tag, row("p1", "a", "a-label"), row("p1", "b", "B"), row("p1", "d", "d-label"))
	for _, tg := range []string{"a", "b", "d"} {
		add(b, fam.note, row("p1", tg, int32(0), "note of "+tg))
		b.Replace[fam.note] = append(b.Replace[fam.note], row("p1", tg))
	}
	f.commit(b)
	want := [][]string{
		{"p1", "a", "a-label", ts(s1), tsEnd, "true"},
		{"p1", "b", "b-label", ts(s1), ts(s2.Add(-ms)), "false"},
		{"p1", "b", "B", ts(s2), tsEnd, "true"},
		{"p1", "c", "c-label", ts(s1), ts(s2), "false"},
		{"p1", "d", "d-label", ts(s2), tsEnd, "true"},
	}
	f.wantHistory(fam.tag, histTag, want...)
	f.wantHistory(fam.note, histNote,
		[]string{"p1", "a", "0", ts(s1), tsEnd, "true", ts(s2)},
		[]string{"p1", "b", "0", ts(s1), tsEnd, "true", ts(s2)},
		[]string{"p1", "c", "0", ts(s1), ts(s2), "false", ts(s1)},
		[]string{"p1", "d", "0", ts(s2), tsEnd, "true", ts(s2)})
	f.wantHistory(fam.parent, histParent, []string{"p1", "one", ts(s1), tsEnd, "true", ts(s2)})

	// A later batch of the run replaces p1's tags again: what the run
	// wrote stays.
	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "e")
	f.commit(b)
	want = append(want, []string{"p1", "e", "e-label", ts(s2), tsEnd, "true"})
	f.wantHistory(fam.tag, histTag, want...)
}

// testHistoryDelete: matched rows close at the batch's Synced (at their
// start when it is later), with their breakout children; a row of the
// batch outlives a match of the same batch.
func testHistoryDelete(t *testing.T, f *fixture) {
	fam := histDeleteFixture(f)
	b := batch(fam.member, s1)
	add(b, fam.member, row("p9", "u9"))
	b.Rows[fam.member].Start = []time.Time{s2}
	f.commit(b)
	b = batch(fam.member, s1)
	b.Delete = map[*runtime.Table][]runtime.Match{fam.member: {match([]string{"user_id"}, "u9")}}
	f.commit(b)
	b = batch(fam.parent, s3)
	b.Delete = map[*runtime.Table][]runtime.Match{fam.parent: {match([]string{"name"}, "one"), match([]string{"name"}, "two")}}
	add(b, fam.parent, row("p2", "two"))
	f.commit(b)
	b = batch(fam.member, s3)
	b.Delete = map[*runtime.Table][]runtime.Match{fam.member: {match([]string{"user_id"}, "u1")}}
	f.commit(b)
	f.wantHistory(fam.member, histMember,
		[]string{"p1", "u1", ts(s1), ts(s3), "false"},
		[]string{"p2", "u2", ts(s1), tsEnd, "true"},
		[]string{"p9", "u9", ts(s2), ts(s2), "false"})
	f.wantHistory(fam.parent, histParent,
		[]string{"p1", "one", ts(s1), ts(s3), "false", ts(s1)},
		[]string{"p2", "two", ts(s1), tsEnd, "true", ts(s3)},
		[]string{"p3", "three", ts(s1), tsEnd, "true", ts(s1)})
	f.wantHistory(fam.tag, histTag,
		[]string{"p1", "a", "a-label", ts(s1), ts(s3), "false"},
		[]string{"p2", "b", "b-label", ts(s1), tsEnd, "true"})
	f.wantHistory(fam.note, histNote,
		[]string{"p1", "a", "0", ts(s1), ts(s3), "false", ts(s1)},
		[]string{"p2", "b", "0", ts(s1), tsEnd, "true", ts(s1)})

	// u1 comes back with a start before its delete: it starts after it.
	b = batch(fam.member, s3.Add(time.Hour))
	add(b, fam.member, row("p1", "u1"))
	b.Rows[fam.member].Start = []time.Time{s2}
	f.commit(b)
	f.wantHistory(fam.member, histMember,
		[]string{"p1", "u1", ts(s1), ts(s3), "false"},
		[]string{"p1", "u1", ts(s3.Add(ms)), tsEnd, "true"},
		[]string{"p2", "u2", ts(s1), tsEnd, "true"},
		[]string{"p9", "u9", ts(s2), ts(s2), "false"})
}

// testHistoryAppend: an Append run inserts versions at their start; its
// Dedupe keeps the last row written of each key, in the table and its
// children; the next run merges as usual.
func testHistoryAppend(t *testing.T, f *fixture) {
	fam := historyFamily()
	f.prepare(fam.tables()...)
	page := func(name string) *runtime.Batch {
		b := appendBatch(fam.parent, s1)
		fam.addParent(b, "p1", name, "a")
		fam.addParent(b, "p2", "two")
		b.Rows[fam.parent].Start = []time.Time{t0, {}}
		return b
	}
	f.commit(page("one"))
	f.commit(page("one"))
	f.commit(page("uno"))
	b := appendBatch(fam.parent, s1)
	fam.addParent(b, "p3", "three")
	b.Dedupe = true
	f.commit(b)
	f.wantHistory(fam.parent, histParent,
		[]string{"p1", "uno", ts(t0), tsEnd, "true", ts(s1)},
		[]string{"p2", "two", ts(s1), tsEnd, "true", ts(s1)},
		[]string{"p3", "three", ts(s1), tsEnd, "true", ts(s1)})
	f.wantHistory(fam.tag, histTag, []string{"p1", "a", "a-label", ts(s1), tsEnd, "true"})
	f.wantHistory(fam.note, histNote, []string{"p1", "a", "0", ts(s1), tsEnd, "true", ts(s1)})

	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "again", "a")
	fam.addParent(b, "p2", "two")
	b.Sweep = &runtime.Sweep{Before: s2}
	f.commit(b)
	f.wantHistory(fam.parent, histParent,
		[]string{"p1", "uno", ts(t0), ts(s2.Add(-ms)), "false", ts(s1)},
		[]string{"p1", "again", ts(s2), tsEnd, "true", ts(s2)},
		[]string{"p2", "two", ts(s1), tsEnd, "true", ts(s2)},
		[]string{"p3", "three", ts(s1), ts(s2), "false", ts(s1)})
	f.wantHistory(fam.tag, histTag, []string{"p1", "a", "a-label", ts(s1), tsEnd, "true"})
}

// testHistoryAppendResumed: an Append run resumed by a later sync reads a
// page again; its replacement closes the children the run appended before,
// and its Dedupe leaves one version of each, as soft deletes leave one row.
func testHistoryAppendResumed(t *testing.T, f *fixture) {
	fam := historyFamily()
	f.prepare(fam.tables()...)
	b := appendBatch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a", "b")
	f.commit(b)
	b = appendBatch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a")
	fam.addParent(b, "p2", "two", "c")
	b.Dedupe, b.DedupeSince = true, s1
	f.commit(b)
	f.wantHistory(fam.parent, histParent,
		[]string{"p1", "one", ts(s2), tsEnd, "true", ts(s2)},
		[]string{"p2", "two", ts(s2), tsEnd, "true", ts(s2)})
	f.wantHistory(fam.tag, histTag,
		[]string{"p1", "a", "a-label", ts(s2), tsEnd, "true"},
		[]string{"p1", "b", "b-label", ts(s1), ts(s2), "false"},
		[]string{"p2", "c", "c-label", ts(s2), tsEnd, "true"})
	f.wantHistory(fam.note, histNote,
		[]string{"p1", "a", "0", ts(s2), tsEnd, "true", ts(s2)},
		[]string{"p1", "b", "0", ts(s1), ts(s2), "false", ts(s1)},
		[]string{"p2", "c", "0", ts(s2), tsEnd, "true", ts(s2)})
}

// testHistorySwitch turns soft-delete tables into history tables and back.
func testHistorySwitch(t *testing.T, f *fixture) {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a")
	fam.addParent(b, "p2", "two", "b")
	f.commit(b)
	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a")
	b.Sweep = &runtime.Sweep{Before: s2}
	f.commit(b)

	// Live rows become active versions from the table's latest sync,
	// deleted ones closed versions at HistoryMin.
	hist := historyFamily()
	f.prepare(hist.tables()...)
	f.wantHistory(hist.parent, histParent,
		[]string{"p1", "one", ts(s2), tsEnd, "true", ts(s2)},
		[]string{"p2", "two", tsMin, tsMin, "false", ts(s1)})
	f.wantHistory(hist.tag, histTag,
		[]string{"p1", "a", "a-label", ts(s2), tsEnd, "true"},
		[]string{"p2", "b", "b-label", tsMin, tsMin, "false"})
	cols := f.columns()
	if want := []string{"id", "name", "_fivetran_start", "_fivetran_end", "_fivetran_active", "_fivetran_synced"}; !cmp.Equal(want, cols["parent"]) {
		t.Errorf("parent columns after the switch = %q, want %q", cols["parent"], want)
	}
	f.prepare(hist.tables()...) // idempotent
	b = batch(hist.parent, s3)
	hist.addParent(b, "p1", "uno", "a")
	hist.addParent(b, "p2", "two")
	f.commit(b)
	f.wantHistory(hist.parent, histParent,
		[]string{"p1", "one", ts(s2), ts(s3.Add(-ms)), "false", ts(s2)},
		[]string{"p1", "uno", ts(s3), tsEnd, "true", ts(s3)},
		[]string{"p2", "two", tsMin, tsMin, "false", ts(s1)},
		[]string{"p2", "two", ts(s3), tsEnd, "true", ts(s3)})
	b = batch(hist.parent, s3)
	b.Delete = map[*runtime.Table][]runtime.Match{hist.tag: {match([]string{"tag"}, "a")}}
	f.commit(b)

	// Back: the latest version of each key, deleted unless active.
	f.reopen()
	f.prepare(newFamily().tables()...)
	f.want("parent", colsParent,
		[]string{"p1", "uno", ts(s3), "false"},
		[]string{"p2", "two", ts(s3), "false"})
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s3), "true"},
		[]string{"p2", "b", "b-label", ts(s1), "true"})
	if got := f.dump("parent")[0]; !cmp.Equal(got, colsParent) {
		t.Errorf("parent columns after switching back = %q, want %q", got, colsParent)
	}
	b = batch(fam.parent, s3.Add(time.Hour))
	fam.addParent(b, "p2", "two", "b")
	f.commit(b)
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s3), "true"},
		[]string{"p2", "b", "b-label", ts(s3.Add(time.Hour)), "false"})
}

// testTruncate: a Truncate batch deletes every row of its table and its
// breakout children before writing its own; other tables keep theirs.
func testTruncate(t *testing.T, f *fixture) {
	for _, history := range []bool{false, true} {
		g := newFixture(t, f.open)
		fam := newFamily()
		if history {
			fam = historyFamily()
		}
		g.prepare(fam.tables()...)
		b := batch(fam.parent, s1)
		fam.addParent(b, "p1", "one", "a")
		fam.addParent(b, "p2", "two", "b")
		g.commit(b)
		b = batch(fam.member, s1)
		add(b, fam.member, row("p1", "u1"))
		g.commit(b)
		b = appendBatch(fam.parent, s2)
		b.Truncate = true
		fam.addParent(b, "p3", "three", "c")
		g.commit(b)
		g.want("parent", []string{"id", "_fivetran_synced"}, []string{"p3", ts(s2)})
		g.want("parent_tag", []string{"parent_id", "tag"}, []string{"p3", "c"})
		g.want("parent_tag_note", []string{"parent_id", "tag"}, []string{"p3", "c"})
		g.want("parent_member", []string{"parent_id", "user_id"}, []string{"p1", "u1"})
	}
}

// testDropColumns: Prepare drops the columns of Table.Drop a table has,
// and ignores those it lacks.
func testDropColumns(t *testing.T, f *fixture) {
	s := runtime.TypeString
	tb := &runtime.Table{Name: "secret", PrimaryKey: []string{"id"},
		Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "ssn", Type: s}, {Name: "name", Type: s}}}
	f.prepare(tb)
	b := batch(tb, s1)
	add(b, tb, row("k1", "123", "one"))
	f.commit(b)
	blocked := &runtime.Table{Name: "secret", PrimaryKey: []string{"id"},
		Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "name", Type: s}}, Drop: []string{"ssn", "never_there"}}
	f.prepare(blocked)
	f.prepare(blocked)
	f.reopen()
	f.prepare(blocked)
	b = batch(blocked, s2)
	add(b, blocked, row("k2", "two"))
	f.commit(b)
	if got, want := f.dump("secret")[0], []string{"id", "name", "_fivetran_synced", "_fivetran_deleted"}; !cmp.Equal(got, want) {
		t.Errorf("columns after Drop = %q, want %q", got, want)
	}
	if got := f.columns()["secret"]; slices.Contains(got, "ssn") {
		t.Errorf("Columns still lists the dropped column: %q", got)
	}
	f.want("secret", []string{"id", "name"}, []string{"k1", "one"}, []string{"k2", "two"})
	bad := &runtime.Table{Name: "secret", PrimaryKey: []string{"id"},
		Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "name", Type: s}}, Drop: []string{"id"}}
	if err := f.d.Prepare(context.Background(), []*runtime.Table{bad}); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("dropping the key column: error %v, want one naming the table", err)
	}
}

// testBlocked: a blocked table gets no table; its breakout children do,
// and its batches write, replace and sweep them; a fan-out table of a
// blocked parent is not swept; the state is saved under its name.
func testBlocked(t *testing.T, f *fixture) {
	fam := newFamily()
	fam.parent.Blocked = true
	f.prepare(fam.tables()...)
	if _, ok := f.columns()["parent"]; ok {
		t.Errorf("a blocked table was created")
	}
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a", "b")
	fam.addParent(b, "p2", "two", "c")
	delete(b.Rows, fam.parent)
	f.commit(b)
	b = batch(fam.member, s1)
	add(b, fam.member, row("p1", "u1"))
	f.commit(b)
	b = batch(fam.parent, s2)
	fam.addParent(b, "p1", "one", "a")
	delete(b.Rows, fam.parent)
	b.Sweep = &runtime.Sweep{Before: s2, FanOut: []*runtime.Table{fam.member}}
	b.State = runtime.TableState{Cursor: "c2", LastFullImport: s2}
	f.commit(b)
	f.want("parent_tag", colsTag,
		[]string{"p1", "a", "a-label", ts(s2), "false"},
		[]string{"p1", "b", "b-label", ts(s1), "true"},
		[]string{"p2", "c", "c-label", ts(s1), "true"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "false"},
		[]string{"p1", "b", "0", "true"},
		[]string{"p2", "c", "0", "true"})
	f.want("parent_member", colsMember, []string{"p1", "u1", ts(s1), "false"})
	if st := f.state()["parent"]; st.Cursor != "c2" {
		t.Errorf("state of the blocked table = %+v, want cursor c2", st)
	}
	if _, ok := f.columns()["parent"]; ok {
		t.Errorf("a blocked table was created")
	}
	// Its Append run dedupes the children.
	b = appendBatch(fam.parent, s3)
	b.Truncate = true
	fam.addParent(b, "p1", "one", "a")
	fam.addParent(b, "p1", "one", "a")
	delete(b.Rows, fam.parent)
	b.Dedupe = true
	f.commit(b)
	f.want("parent_tag", []string{"parent_id", "tag", "_fivetran_synced"}, []string{"p1", "a", ts(s3)})
}

// testBeforePrepare: State, Columns and Value answer on a new destination,
// SetValue works before any Prepare, values persist; Columns lists the
// tables Prepare makes, system columns included.
func testBeforePrepare(t *testing.T, f *fixture) {
	ctx := context.Background()
	if st := f.state(); len(st) != 0 {
		t.Errorf("State() of a new destination = %v", st)
	}
	if cols := f.columns(); len(cols) != 0 {
		t.Errorf("Columns() of a new destination = %v", cols)
	}
	if v, ok, err := f.d.Value(ctx, "salt"); err != nil || ok || v != "" {
		t.Errorf(`Value("salt") of a new destination = %q, %v, %v`, v, ok, err)
	}
	if err := f.d.SetValue(ctx, "salt", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := f.d.SetValue(ctx, "salt", "s2"); err != nil {
		t.Fatal(err)
	}
	if err := f.d.SetValue(ctx, "other", ""); err != nil {
		t.Fatal(err)
	}
	f.reopen()
	if v, ok, err := f.d.Value(ctx, "salt"); err != nil || !ok || v != "s2" {
		t.Errorf(`Value("salt") = %q, %v, %v; want "s2"`, v, ok, err)
	}
	if v, ok, err := f.d.Value(ctx, "other"); err != nil || !ok || v != "" {
		t.Errorf(`Value("other") = %q, %v, %v; want "", true`, v, ok, err)
	}
	if cols := f.columns(); len(cols) != 0 {
		t.Errorf("Columns() before Prepare = %v", cols)
	}
	fam := newFamily()
	fam.member.History = true
	f.prepare(fam.tables()...)
	want := map[string][]string{
		"parent":          {"id", "name", "_fivetran_synced", "_fivetran_deleted"},
		"parent_tag":      {"parent_id", "tag", "label", "_fivetran_synced", "_fivetran_deleted"},
		"parent_tag_note": {"parent_id", "tag", "idx", "text", "_fivetran_synced", "_fivetran_deleted"},
		"parent_member":   {"parent_id", "user_id", "_fivetran_start", "_fivetran_end", "_fivetran_active", "_fivetran_synced"},
		"other":           {"id", "v", "_fivetran_synced", "_fivetran_deleted"},
	}
	if diff := cmp.Diff(want, f.columns()); diff != "" {
		t.Errorf("Columns() (-want +got):\n%s", diff)
	}
}

func (f *fixture) columns() map[string][]string {
	f.t.Helper()
	cols, err := f.d.Columns(context.Background())
	if err != nil {
		f.t.Fatalf("columns: %v", err)
	}
	return cols
}
