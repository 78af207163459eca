package duckdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime"
	"oktasync/runtime/fetch"
)

// foRow is a row of fixed values.
type foRow []any

func (r foRow) AppendValues(dst []any) []any { return append(dst, r...) }

// foOrg is groups with members, all groups on one page of parents, members
// listed three per page; it fails requests at Rate once a run's first Free
// requests are through.
type foOrg struct {
	groups, perGroup int
	Free             int
	Rate             float64

	mu  sync.Mutex
	rnd *rand.Rand
	n   int
}

func (o *foOrg) Get(_ context.Context, _, _, url string) (*fetch.Page, error) {
	o.mu.Lock()
	o.n++
	fail := o.n > o.Free && o.rnd.Float64() < o.Rate
	o.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("GET %s: 500: %w", url, fetch.ErrServer)
	}
	if url == "/groups" {
		var recs []string
		for g := range o.groups {
			recs = append(recs, fmt.Sprintf(`{"id":"g%03d"}`, g))
		}
		return &fetch.Page{URL: url, Status: 200, Body: []byte("[" + strings.Join(recs, ",") + "]")}, nil
	}
	var g, after int
	if _, err := fmt.Sscanf(url, "/groups/g%03d/users?after=%d", &g, &after); err != nil {
		return nil, fmt.Errorf("GET %s: 404: %w", url, fetch.ErrNotFound)
	}
	end := min(after+3, o.perGroup)
	var recs []string
	for u := after; u < end; u++ {
		recs = append(recs, fmt.Sprintf(`{"id":"u%03d"}`, u))
	}
	p := &fetch.Page{URL: url, Status: 200, Body: []byte("[" + strings.Join(recs, ",") + "]")}
	if end < o.perGroup {
		p.Links = map[string]string{"next": fmt.Sprintf("/groups/g%03d/users?after=%d", g, end)}
	}
	return p, nil
}

// TestFanOutUnderFaultsNeverDuplicates runs the first import of a fan-out
// table through failing requests and crashing commits until it finishes:
// every run gets further, and after every run, finished or not, the table
// holds each key once.
// groupMembers is a groups table, deleting as groupDeletes says, and a
// group_member table read per group at membersPath.
func groupMembers(groupDeletes runtime.Deletes, membersPath string) (groups, members *runtime.Table) {
	s := runtime.TypeString
	groups = &runtime.Table{Name: "groups", Request: &runtime.Request{Path: "/groups"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone}, Deletes: groupDeletes,
		PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: s, Source: "id"}}}
	members = &runtime.Table{Name: "group_member", Request: &runtime.Request{Path: membersPath},
		Pagination: runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		FanOut:     &runtime.FanOut{Parent: "groups", Fields: []string{"id"}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport, Every: 7 * 24 * time.Hour},
		ParentKey:  []string{"groups_id"}, PrimaryKey: []string{"groups_id", "users_id"},
		Columns: []runtime.Column{{Name: "groups_id", Type: s, Source: "parent.id"}, {Name: "users_id", Type: s, Source: "id"}}}
	members.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		e.Emit(members, foRow{e.String(parent.Get("id")).Any(), e.String(rec.Get("id")).Any()})
	}
	groups.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) { e.Emit(groups, foRow{e.String(rec.Get("id")).Any()}) }
	return groups, members
}

func TestFanOutUnderFaultsNeverDuplicates(t *testing.T) {
	groups, members := groupMembers(runtime.Deletes{Kind: runtime.DeletesFullReimport}, "/groups/{parent.id}/users?after=0")

	rnd := rand.New(rand.NewPCG(7, 8))
	crash := func(stage string) error {
		if rnd.Float64() < 0.05 {
			return errors.New("killed")
		}
		return nil
	}
	d := open(t, filepath.Join(t.TempDir(), "fanout.duckdb"), Options{CrashPoint: crash})
	org := &foOrg{groups: 25, perGroup: 7, Free: 8, Rate: 0.2, rnd: rand.New(rand.NewPCG(1, 2))}
	eng := &runtime.Engine{Registry: &runtime.Registry{Tables: []*runtime.Table{groups, members}}, Fetcher: org, Dest: d,
		Now: func() time.Time { return t1 }, Select: func(n string) bool { return n == "group_member" },
		BatchRows: 20, FanOutParallel: 4}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := d.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	completeGroups := `SELECT count(*) FROM (SELECT groups_id FROM group_member WHERE NOT _fivetran_deleted
		GROUP BY ALL HAVING count(DISTINCT users_id) = 7)`
	last := -1
	stalled := 0
	for run := 1; ; run++ {
		if run > 100 {
			t.Fatalf("group_member did not finish in %d runs; %d of %d groups complete", run-1, last, org.groups)
		}
		org.mu.Lock()
		org.n = 0
		org.mu.Unlock()
		_, err := eng.Sync(context.Background())
		if dups := count(`SELECT count(*) FROM (SELECT groups_id, users_id FROM group_member GROUP BY ALL HAVING count(*) > 1)`); dups > 0 {
			t.Fatalf("run %d (err %v): %d keys of group_member are there more than once", run, err, dups)
		}
		complete := count(completeGroups)
		if complete < last {
			t.Fatalf("run %d: %d groups complete, fewer than the run before (%d)", run, complete, last)
		}
		if complete == last {
			stalled++
		}
		last = complete
		if err == nil {
			t.Logf("finished in %d runs, %d without progress (a failure or crash before anything committed)", run, stalled)
			break
		}
	}
	if last != org.groups {
		t.Errorf("%d groups complete, want %d", last, org.groups)
	}
	if n := count(`SELECT count(*) FROM group_member WHERE _fivetran_deleted`); n != 0 {
		t.Errorf("%d rows marked deleted, want none", n)
	}
}

// TestDedupeSince: a Dedupe batch whose run began in an earlier sync
// (DedupeSince) dedupes the rows that sync appended too.
func TestDedupeSince(t *testing.T) {
	s := runtime.TypeString
	tb := &runtime.Table{Name: "m", PrimaryKey: []string{"g", "u"}, ParentKey: []string{"g"},
		Columns: []runtime.Column{{Name: "g", Type: s}, {Name: "u", Type: s}, {Name: "v", Type: s}}}
	d := open(t, "", Options{})
	ctx := context.Background()
	if err := d.Prepare(ctx, []*runtime.Table{tb}); err != nil {
		t.Fatal(err)
	}
	rows := func(vals ...[]any) map[*runtime.Table]*runtime.RowSet {
		return map[*runtime.Table]*runtime.RowSet{tb: {Rows: vals}}
	}
	for _, b := range []*runtime.Batch{
		// The first sync appends a key twice (a listing that repeated a record).
		{Table: tb, Synced: t1, Append: true, Rows: rows([]any{"a", "1", "x"}, []any{"a", "1", "y"}, []any{"a", "2", "x"})},
		// A later sync ends the run.
		{Table: tb, Synced: t2, Rows: rows([]any{"b", "1", "x"}), Dedupe: true, DedupeSince: t1},
	} {
		if err := d.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	want := "g,u,v,_fivetran_synced,_fivetran_deleted\n" +
		"a,1,y,2024-05-01 10:00:00.000,false\n" +
		"a,2,x,2024-05-01 10:00:00.000,false\n" +
		"b,1,x,2024-05-01 11:00:00.000,false\n"
	if got := dump(t, d, "m"); got != want {
		t.Errorf("m:\n%s\nwant\n%s", got, want)
	}
}

// scripted answers each URL with a body, or fails it while fail says so.
type scripted struct {
	mu    sync.Mutex
	pages map[string]string
	links map[string]string
	fail  func(url string) bool
}

func (s *scripted) Get(_ context.Context, _, _, url string) (*fetch.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil && s.fail(url) {
		return nil, fmt.Errorf("GET %s: 500: %w", url, fetch.ErrServer)
	}
	body, ok := s.pages[url]
	if !ok {
		return nil, fmt.Errorf("GET %s: 404: %w", url, fetch.ErrNotFound)
	}
	p := &fetch.Page{URL: url, Status: 200, Body: []byte(body)}
	if next := s.links[url]; next != "" {
		p.Links = map[string]string{"next": next}
	}
	return p, nil
}

// TestInterruptedAppendRunEndsDeduped: a first import appends, and a listing
// that repeats a record (its pages shifted while it was read) appends a key
// twice; the run's end dedupes it. A run that fails, or is killed, before
// its end must not leave the key twice either: a failed run dedupes what it
// saves, and a resumed run dedupes with its first commit.
func TestInterruptedAppendRunEndsDeduped(t *testing.T) {
	groups, members := groupMembers(runtime.Deletes{}, "/groups/{parent.id}/users")
	src := &scripted{
		pages: map[string]string{
			"/groups":             `[{"id":"a"},{"id":"b"},{"id":"c"}]`,
			"/groups/a/users":     `[{"id":"u1"},{"id":"u2"}]`,
			"/groups/a/users?p=2": `[{"id":"u2"},{"id":"u3"}]`, // u2 again
			"/groups/b/users":     `[{"id":"u1"}]`,
			"/groups/c/users":     `[{"id":"u4"}]`,
		},
		links: map[string]string{"/groups/a/users": "/groups/a/users?p=2"},
	}
	for _, tc := range []struct {
		name string
		// run makes the first run fail: a request, or a commit (a kill).
		failURL   string
		crashAt   int
		batchRows int
	}{
		{name: "a failed request", failURL: "/groups/c/users", batchRows: 100},
		// Killed at its third commit, once the repeated key is in.
		{name: "a killed commit", crashAt: 3, batchRows: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			commits, crashAt := 0, tc.crashAt
			d := open(t, filepath.Join(t.TempDir(), "m.duckdb"), Options{CrashPoint: func(stage string) error {
				if stage == "begin" {
					commits++
				}
				if commits == crashAt && stage == "merged" {
					return errors.New("killed")
				}
				return nil
			}})
			src.fail = func(url string) bool { return url == tc.failURL }
			eng := &runtime.Engine{Registry: &runtime.Registry{Tables: []*runtime.Table{groups, members}}, Fetcher: src, Dest: d,
				Now: func() time.Time { return t1 }, Select: func(n string) bool { return n == "group_member" },
				BatchRows: tc.batchRows, FanOutParallel: 1}
			dups := func() int {
				t.Helper()
				var n int
				if err := d.SQL().QueryRow(`SELECT count(*) FROM (SELECT groups_id, users_id FROM group_member
					GROUP BY ALL HAVING count(*) > 1)`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if _, err := eng.Sync(context.Background()); err == nil {
				t.Fatal("the first run must fail")
			}
			if tc.crashAt == 0 {
				if n := dups(); n != 0 {
					t.Errorf("after a failed run: %d keys twice", n)
				}
			} else {
				// The resumed run is killed at its second commit: its first
				// must have deduplicated what the killed run appended.
				src.fail, commits, crashAt = nil, 0, 2
				if _, err := eng.Sync(context.Background()); err == nil {
					t.Fatal("the resumed run must be killed")
				}
				if n := dups(); n != 0 {
					t.Errorf("after a resumed run: %d keys twice", n)
				}
			}
			src.fail, crashAt = nil, -1
			if _, err := eng.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := "groups_id,users_id,_fivetran_synced,_fivetran_deleted\n"
			for _, k := range []string{"a,u1", "a,u2", "a,u3", "b,u1", "c,u4"} {
				want += k + ",2024-05-01 10:00:00.000,false\n"
			}
			if got := dump(t, d, "group_member"); got != want {
				t.Errorf("group_member:\n%s\nwant\n%s", got, want)
			}
		})
	}
}
