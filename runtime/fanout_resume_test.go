package runtime_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime"
	"oktasync/runtime/dest/memory"
	"oktasync/runtime/fetch"
)

// A fan-out table whose parents all fit on one page, like an org's groups
// and their members.
var (
	teams = &runtime.Table{
		Name:       "teams",
		Request:    &runtime.Request{Path: "/teams", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}},
	}
	teamMembers = &runtime.Table{
		Name:       "team_members",
		Request:    &runtime.Request{Path: "/teams/{parent.id}/members", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		FanOut:     &runtime.FanOut{Parent: "teams", Fields: []string{"id"}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport, Every: 7 * 24 * time.Hour},
		ParentKey:  []string{"team_id"},
		PrimaryKey: []string{"team_id", "user_id"},
		Columns: []runtime.Column{{Name: "team_id", Type: runtime.TypeString, Source: "parent.id"},
			{Name: "user_id", Type: runtime.TypeString, Source: "id"}},
	}
	teamRegistry = &runtime.Registry{Tables: []*runtime.Table{teams, teamMembers}}
)

func init() {
	teams.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		e.Emit(teams, &rowOf{[]any{e.String(rec.Get("id")).Any()}})
	}
	teamMembers.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		e.Emit(teamMembers, &rowOf{[]any{e.String(parent.Get("id")).Any(), e.String(rec.Get("id")).Any()}})
	}
}

// teamOrg is n teams, team i with i%5+1 members, listed two per page.
type teamOrg struct {
	mu      sync.Mutex
	members map[string][]string // team -> users
	order   []string
}

func newTeamOrg(n int) *teamOrg {
	o := &teamOrg{members: map[string][]string{}}
	for i := range n {
		id := fmt.Sprintf("t%02d", i)
		o.order = append(o.order, id)
		for j := range i%5 + 1 {
			o.members[id] = append(o.members[id], fmt.Sprintf("u%02d-%d", i, j))
		}
	}
	return o
}

func (o *teamOrg) remove(team, user string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.members[team] = slices.DeleteFunc(o.members[team], func(u string) bool { return u == user })
}

// page answers /teams and /teams/<id>/members[?after=n].
func (o *teamOrg) page(url string) (*fetch.Page, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if url == "/teams" {
		var recs []string
		for _, id := range o.order {
			recs = append(recs, fmt.Sprintf(`{"id":%q}`, id))
		}
		return &fetch.Page{URL: url, Status: 200, Body: []byte("[" + strings.Join(recs, ",") + "]")}, nil
	}
	path, query, _ := strings.Cut(url, "?")
	team, ok := strings.CutSuffix(strings.TrimPrefix(path, "/teams/"), "/members")
	users, known := o.members[team]
	if !ok || !known {
		return nil, fmt.Errorf("GET %s: 404: %w", url, fetch.ErrNotFound)
	}
	after := 0
	fmt.Sscanf(query, "after=%d", &after)
	end := min(after+2, len(users))
	var recs []string
	for _, u := range users[min(after, end):end] {
		recs = append(recs, fmt.Sprintf(`{"id":%q}`, u))
	}
	p := &fetch.Page{URL: url, Status: 200, Body: []byte("[" + strings.Join(recs, ",") + "]")}
	if end < len(users) {
		p.Links = map[string]string{"next": fmt.Sprintf("%s?after=%d", path, end)}
	}
	return p, nil
}

// faultyFetcher serves a teamOrg and fails requests: each run lets its
// first Free requests through, then fails each with probability Rate, as
// a server in trouble does once the client's retries are spent.
type faultyFetcher struct {
	org  *teamOrg
	Free int
	Rate float64

	mu   sync.Mutex
	rnd  *rand.Rand
	n    int                 // requests of the current run
	asks map[string][]string // team -> URLs asked this run
}

func (f *faultyFetcher) Get(_ context.Context, _, _, url string) (*fetch.Page, error) {
	f.mu.Lock()
	f.n++
	fail := f.n > f.Free && f.rnd.Float64() < f.Rate
	if team, ok := strings.CutPrefix(url, "/teams/"); ok {
		team, _, _ = strings.Cut(team, "/")
		f.asks[team] = append(f.asks[team], url)
	}
	f.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("GET %s: 503: %w", url, fetch.ErrServer)
	}
	return f.org.page(url)
}

// newRun starts counting a run's requests.
func (f *faultyFetcher) newRun() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n, f.asks = 0, map[string][]string{}
}

// memberState sorts the org's teams by what the destination holds of them:
// complete (exactly the team's members live), partial (some live rows but
// not those), or none.
func memberState(db *memory.DB, o *teamOrg) (complete, partial []string) {
	live := map[string][]string{}
	for _, r := range db.Rows("team_members") {
		if !r.Deleted {
			team := r.Values[0].(string)
			live[team] = append(live[team], r.Values[1].(string))
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range o.order {
		got := live[id]
		slices.Sort(got)
		switch {
		case slices.Equal(got, o.members[id]):
			complete = append(complete, id)
		case len(got) > 0:
			partial = append(partial, id)
		}
	}
	return complete, partial
}

// TestFanOutResumesInsideAParentPage: when requests keep failing, a fan-out
// table whose parents all fit on one page resumes at the first parent not
// yet complete, not at the page's first parent, so every run gets further
// and the table finishes. A parent read only in part is read again whole and
// its rows replaced: a member it lost meanwhile is marked deleted.
func TestFanOutResumesInsideAParentPage(t *testing.T) {
	org := newTeamOrg(40) // 120 members, 60 member pages, one page of teams
	f := &faultyFetcher{org: org, Free: 6, Rate: 0.4, rnd: rand.New(rand.NewPCG(1, 2))}
	db := memory.New()
	eng := &runtime.Engine{Registry: teamRegistry, Fetcher: f, Dest: db, Now: func() time.Time { return t0 },
		Select: func(n string) bool { return n == "team_members" }, BatchRows: 3, FanOutParallel: 1}
	var done []string // complete after the last run
	var removed []string
	for run := 1; ; run++ {
		if run > 40 {
			t.Fatalf("team_members did not finish in %d runs; %d of %d teams complete", run-1, len(done), len(org.order))
		}
		f.newRun()
		_, err := eng.Sync(context.Background())
		for _, team := range done {
			if urls := f.asks[team]; len(urls) > 0 {
				t.Errorf("run %d listed %s again (%q), complete since an earlier run", run, team, urls)
			}
		}
		complete, partial := memberState(db, org)
		if err == nil {
			if len(complete) != len(org.order) {
				t.Fatalf("run %d finished with %d of %d teams complete", run, len(complete), len(org.order))
			}
			t.Logf("finished in %d runs", run)
			break
		}
		if len(complete) <= len(done) {
			t.Errorf("run %d: %d teams complete, no more than after the run before (%d)", run, len(complete), len(done))
		}
		done = complete
		// A member of a team read in part leaves before the team is read again.
		for _, team := range partial {
			org.mu.Lock()
			users := slices.Clone(org.members[team])
			org.mu.Unlock()
			if len(users) < 2 || slices.ContainsFunc(removed, func(m string) bool { return strings.HasPrefix(m, team+" ") }) {
				continue
			}
			org.remove(team, users[0])
			removed = append(removed, team+" "+users[0])
		}
	}
	if len(removed) == 0 {
		t.Fatal("no run ended with a team read in part; the test proves nothing about replacing its rows")
	}
	rows := map[string]bool{}
	for _, r := range db.Rows("team_members") {
		rows[fmt.Sprintf("%v %v", r.Values[0], r.Values[1])] = r.Deleted
	}
	for _, m := range removed {
		if deleted, ok := rows[m]; !ok || !deleted {
			t.Errorf("member %s left a team read in part: its row must be marked deleted (present %v, deleted %v)", m, ok, deleted)
		}
	}
	if _, partial := memberState(db, org); len(partial) > 0 {
		t.Errorf("teams left in part: %q", partial)
	}
}
