package desttest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"oktasync/runtime"
)

// Batch.Delete: rows marked deleted by column values, as a change feed
// reports deletes.

// memberFixture prepares the family and writes members at s1:
// (p1,u1) (p1,u2) (p2,u1) (p2,u3).
func memberFixture(f *fixture) *family {
	fam := newFamily()
	f.prepare(fam.tables()...)
	b := batch(fam.parent, s1)
	fam.addParent(b, "p1", "one", "a", "b")
	fam.addParent(b, "p2", "two", "a")
	f.commit(b)
	b = batch(fam.member, s1)
	add(b, fam.member, row("p1", "u1"), row("p1", "u2"), row("p2", "u1"), row("p2", "u3"))
	f.commit(b)
	return fam
}

func match(cols []string, vals ...any) runtime.Match {
	return runtime.Match{Columns: cols, Values: vals}
}

// testDeleteByColumns: a match on the whole key marks one row, a match on a
// column marks every live row with its value; deleted rows keep their
// _fivetran_synced, other rows are untouched, and a match of nothing is no
// error.
func testDeleteByColumns(t *testing.T, f *fixture) {
	fam := memberFixture(f)
	b := batch(fam.member, s2)
	b.Delete = map[*runtime.Table][]runtime.Match{fam.member: {
		match([]string{"parent_id", "user_id"}, "p1", "u1"),
		match([]string{"user_id"}, "u3"),
		match([]string{"user_id"}, "nobody"),
	}}
	f.commit(b)
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s1), "true"},
		[]string{"p1", "u2", ts(s1), "false"},
		[]string{"p2", "u1", ts(s1), "false"},
		[]string{"p2", "u3", ts(s1), "true"})
	// Other tables are left alone.
	f.want("parent", []string{"id", "_fivetran_deleted"}, []string{"p1", "false"}, []string{"p2", "false"})
}

// testDeleteThenUpsert: within a batch the matches apply before the rows, so
// a row of the batch outlives a match; rows written earlier in the same run
// (same Synced) are matched like any other.
func testDeleteThenUpsert(t *testing.T, f *fixture) {
	fam := memberFixture(f)
	b := batch(fam.member, s2)
	add(b, fam.member, row("p3", "u1"))
	f.commit(b)
	b = batch(fam.member, s2)
	b.Delete = map[*runtime.Table][]runtime.Match{fam.member: {match([]string{"user_id"}, "u1")}}
	add(b, fam.member, row("p1", "u1"))
	f.commit(b)
	f.want("parent_member", colsMember,
		[]string{"p1", "u1", ts(s2), "false"},
		[]string{"p1", "u2", ts(s1), "false"},
		[]string{"p2", "u1", ts(s1), "true"},
		[]string{"p2", "u3", ts(s1), "false"},
		[]string{"p3", "u1", ts(s2), "true"})
	// Written again later, a deleted row comes back.
	b = batch(fam.member, s3)
	add(b, fam.member, row("p2", "u1"))
	f.commit(b)
	f.want("parent_member", []string{"parent_id", "user_id", "_fivetran_deleted"},
		[]string{"p1", "u1", "false"},
		[]string{"p1", "u2", "false"},
		[]string{"p2", "u1", "false"},
		[]string{"p2", "u3", "false"},
		[]string{"p3", "u1", "true"})
}

// testDeleteCascades: a matched row takes its breakout children, and theirs,
// with it; matches compare typed values (an integer column).
func testDeleteCascades(t *testing.T, f *fixture) {
	fam := memberFixture(f)
	b := batch(fam.parent, s2)
	b.Delete = map[*runtime.Table][]runtime.Match{
		fam.parent: {match([]string{"name"}, "one")},
		fam.note:   {match([]string{"parent_id", "idx"}, "p2", int32(0))},
	}
	f.commit(b)
	f.want("parent", []string{"id", "_fivetran_synced", "_fivetran_deleted"},
		[]string{"p1", ts(s1), "true"},
		[]string{"p2", ts(s1), "false"})
	f.want("parent_tag", []string{"parent_id", "tag", "_fivetran_deleted"},
		[]string{"p1", "a", "true"},
		[]string{"p1", "b", "true"},
		[]string{"p2", "a", "false"})
	f.want("parent_tag_note", colsNote,
		[]string{"p1", "a", "0", "true"},
		[]string{"p1", "b", "0", "true"},
		[]string{"p2", "a", "0", "true"})
	// The fan-out table is no breakout child: its rows stay.
	f.want("parent_member", []string{"parent_id", "user_id", "_fivetran_deleted"},
		[]string{"p1", "u1", "false"},
		[]string{"p1", "u2", "false"},
		[]string{"p2", "u1", "false"},
		[]string{"p2", "u3", "false"})
}

// testDeleteCrash: a delete batch that fails at any crash point leaves
// nothing of itself, and retried it gives what an uninterrupted commit gives;
// committed twice, it changes nothing more.
func testDeleteCrash(t *testing.T, f *fixture) {
	tables := newFamily().names()
	subject := func(fam *family) *runtime.Batch {
		b := batch(fam.member, s2)
		b.Delete = map[*runtime.Table][]runtime.Match{fam.member: {
			match([]string{"user_id"}, "u1"), match([]string{"parent_id", "user_id"}, "p1", "u2")}}
		add(b, fam.member, row("p2", "u1"), row("p2", "u4"))
		b.State = runtime.TableState{ChangesCursor: "2024-03-01T02:00:00.000Z"}
		return b
	}
	fam := memberFixture(f)
	f.commit(subject(fam))
	want := f.snapshot(tables...)
	f.commit(subject(fam))
	if diff := cmp.Diff(want, f.snapshot(tables...)); diff != "" {
		t.Errorf("a replayed delete batch changed the tables (-once +twice):\n%s", diff)
	}
	for n := 1; ; n++ {
		g := newFixture(t, f.open)
		fam := memberFixture(g)
		before := g.snapshot(tables...)
		calls := 0
		g.fail = func(string) error {
			if calls++; calls == n {
				return errCrash
			}
			return nil
		}
		err := g.d.Commit(context.Background(), subject(fam))
		g.fail = nil
		if calls < n {
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("crash at call %d: Commit returned %v", n, err)
		}
		if got := g.snapshot(tables...); got != before && got != want {
			t.Errorf("crash at call %d left a partial commit (-before +got):\n%s", n, cmp.Diff(before, got))
		}
		g.commit(subject(fam))
		if diff := cmp.Diff(want, g.snapshot(tables...)); diff != "" {
			t.Errorf("crash at call %d, then retry (-uninterrupted +retried):\n%s", n, diff)
		}
	}
}

// testDeleteInvalid: a match naming a column the table lacks fails the
// commit, naming the table, and changes nothing.
func testDeleteInvalid(t *testing.T, f *fixture) {
	fam := memberFixture(f)
	before := f.snapshot(fam.names()...)
	b := batch(fam.member, s2)
	b.Delete = map[*runtime.Table][]runtime.Match{fam.member: {match([]string{"nope"}, "x")}}
	err := f.d.Commit(context.Background(), b)
	if err == nil {
		t.Fatal("a match on an unknown column committed")
	}
	if !strings.Contains(err.Error(), "parent_member") {
		t.Errorf("error %q does not name the table", err)
	}
	if diff := cmp.Diff(before, f.snapshot(fam.names()...)); diff != "" {
		t.Errorf("the failed commit changed the tables:\n%s", diff)
	}
}
