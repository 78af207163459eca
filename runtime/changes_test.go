package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime"
	"oktasync/runtime/dest/memory"
	"oktasync/runtime/fetch"
)

// A made-up API with a change feed: owners, their pets (a fan-out table read
// from the feed between daily full passes), and /feed, events oldest first
// within [from, to), filtered by type.

var (
	petOwners = &runtime.Table{
		Name:       "owners",
		Request:    &runtime.Request{Path: "/owners", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}},
	}
	owner   = `target.#(type=="Owner").id`
	petID   = `target.#(type=="Pet").id`
	ownerFP = []runtime.FieldPath{{Field: "id", Path: owner}}
	pets    = &runtime.Table{
		Name:       "pets",
		Request:    &runtime.Request{Path: "/owners/{parent.id}/pets", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		FanOut: &runtime.FanOut{Parent: "owners", Fields: []string{"id"}, Changes: &runtime.Changes{Feed: "feed", Events: []runtime.ChangeEvent{
			{Types: []string{"pet.add"}, Action: runtime.ChangeRow, Parent: ownerFP,
				Record: []runtime.FieldPath{{Field: "id", Path: petID}, {Field: "name", Path: `target.#(type=="Pet").name`}}},
			{Types: []string{"pet.remove"}, Action: runtime.ChangeDelete,
				Match: []runtime.FieldPath{{Field: "owner_id", Path: owner}, {Field: "pet_id", Path: petID}}},
			{Types: []string{"owner.delete"}, Action: runtime.ChangeDelete, Match: []runtime.FieldPath{{Field: "owner_id", Path: owner}}},
			{Types: []string{"pet.update"}, Action: runtime.ChangeFetch, Path: "/owners/{parent.id}/pets/{record.id}", Bucket: "default",
				Parent: ownerFP, Record: []runtime.FieldPath{{Field: "id", Path: petID}}},
			{Types: []string{"owner.rebuild"}, Action: runtime.ChangeRelist, Parent: ownerFP},
		}}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport, Every: 24 * time.Hour},
		ParentKey:  []string{"owner_id"},
		PrimaryKey: []string{"owner_id", "pet_id"},
		Columns: []runtime.Column{{Name: "owner_id", Type: runtime.TypeString, Source: "parent.id"},
			{Name: "pet_id", Type: runtime.TypeString, Source: "id"}, {Name: "name", Type: runtime.TypeString, Source: "name"}},
	}
	petFeed = &runtime.Feed{
		Name:           "feed",
		Request:        &runtime.Request{Path: "/feed", Params: []runtime.Param{{Name: "order", Value: "asc"}}, Bucket: "default", Records: "events"},
		Pagination:     runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		TypeField:      "type",
		SinceParam:     "from",
		UntilParam:     "to",
		FilterParam:    "q",
		FilterTemplate: "type:{type}",
		FilterJoin:     ",",
		Lookback:       5 * time.Minute,
	}
	petSource   = &runtime.SourceInfo{AuthHeader: "Authorization", AuthScheme: "Bearer", ErrorCodePath: "code", Feeds: []*runtime.Feed{petFeed}}
	petRegistry = &runtime.Registry{Source: petSource, Tables: []*runtime.Table{petOwners, pets}}
)

func init() {
	petOwners.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		e.Emit(petOwners, &rowOf{[]any{e.String(rec.Get("id")).Any()}})
	}
	pets.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		e.Emit(pets, &rowOf{[]any{e.String(parent.Get("id")).Any(), e.String(rec.Get("id")).Any(), e.String(rec.Get("name")).Any()}})
	}
}

type feedEvent struct {
	at          time.Time
	typ         string
	owner, pet  string
	name        string
	noPetTarget bool // an event that lacks a field its action needs
}

// petAPI is the fake server: owners and their pets (name by id) and the feed.
type petAPI struct {
	mu       sync.Mutex
	pets     map[string]map[string]string
	events   []feedEvent
	feedCode int // answer the feed with this status when set
	feedLoop int // this many feed pages link to themselves
	requests []string
}

func (a *petAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r.URL.RequestURI())
	w.Header().Set("Content-Type", "application/json")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	notFound := func() {
		w.WriteHeader(404)
		fmt.Fprint(w, `{"code":"NOT_FOUND"}`)
	}
	switch {
	case r.URL.Path == "/owners":
		var ids []string
		for o := range a.pets {
			ids = append(ids, fmt.Sprintf(`{"id":%q}`, o))
		}
		sort.Strings(ids)
		fmt.Fprint(w, "["+strings.Join(ids, ",")+"]")
	case len(parts) == 3 && parts[0] == "owners" && parts[2] == "pets":
		ps, ok := a.pets[parts[1]]
		if !ok {
			notFound()
			return
		}
		var out []string
		for id, name := range ps {
			out = append(out, fmt.Sprintf(`{"id":%q,"name":%q}`, id, name))
		}
		sort.Strings(out)
		fmt.Fprint(w, "["+strings.Join(out, ",")+"]")
	case len(parts) == 4 && parts[0] == "owners" && parts[2] == "pets":
		name, ok := a.pets[parts[1]][parts[3]]
		if !ok {
			notFound()
			return
		}
		fmt.Fprintf(w, `{"id":%q,"name":%q}`, parts[3], name)
	case r.URL.Path == "/feed":
		if a.feedCode != 0 {
			w.WriteHeader(a.feedCode)
			fmt.Fprint(w, `{"code":"NO_FEED"}`)
			return
		}
		q := r.URL.Query()
		from, err1 := time.Parse(time.RFC3339, q.Get("from"))
		to, err2 := time.Parse(time.RFC3339, q.Get("to"))
		if err1 != nil || err2 != nil || q.Get("order") != "asc" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":"BAD_WINDOW"}`)
			return
		}
		types := map[string]bool{}
		for _, c := range strings.Split(q.Get("q"), ",") {
			types[strings.TrimPrefix(c, "type:")] = true
		}
		var match []int
		for i, e := range a.events {
			if types[e.typ] && !e.at.Before(from) && e.at.Before(to) {
				match = append(match, i)
			}
		}
		after, _ := strconv.Atoi(q.Get("after"))
		end := min(after+2, len(match))
		var out []string
		for _, i := range match[after:end] {
			e := a.events[i]
			targets := []string{fmt.Sprintf(`{"type":"Owner","id":%q}`, e.owner)}
			if e.pet != "" && !e.noPetTarget {
				targets = append(targets, fmt.Sprintf(`{"type":"Pet","id":%q,"name":%q}`, e.pet, e.name))
			}
			out = append(out, fmt.Sprintf(`{"uuid":"ev%d","type":%q,"published":%q,"target":[%s]}`,
				i, e.typ, e.at.Format(time.RFC3339Nano), strings.Join(targets, ",")))
		}
		switch {
		case a.feedLoop > 0:
			a.feedLoop--
			w.Header().Add("Link", "<http://"+r.Host+r.URL.RequestURI()+`>; rel="next"`)
		case end < len(match):
			q.Set("after", strconv.Itoa(end))
			w.Header().Add("Link", "<http://"+r.Host+"/feed?"+q.Encode()+`>; rel="next"`)
		}
		fmt.Fprint(w, `{"events":[`+strings.Join(out, ",")+"]}")
	default:
		notFound()
	}
}

// change applies a change to the data and logs its event at.
func (a *petAPI) change(at time.Time, typ, owner, pet, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch typ {
	case "pet.add", "pet.update":
		a.pets[owner][pet] = name
	case "pet.remove":
		delete(a.pets[owner], pet)
	case "owner.delete":
		delete(a.pets, owner)
	}
	a.events = append(a.events, feedEvent{at: at, typ: typ, owner: owner, pet: pet, name: name})
}

func (a *petAPI) takeRequests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.requests
	a.requests = nil
	return r
}

type petHarness struct {
	t   *testing.T
	api *petAPI
	srv *httptest.Server
	db  *memory.DB
	eng *runtime.Engine
	now time.Time
	// skew is how far the server's clock is from now.
	skew time.Duration
}

func newPetHarness(t *testing.T, api *petAPI) *petHarness {
	h := &petHarness{t: t, api: api, db: memory.New(), now: t0}
	if api == nil {
		h.api = &petAPI{pets: map[string]map[string]string{
			"o1": {"p1": "Rex", "p2": "Tom"},
			"o2": {"p3": "Kit"},
			"o3": {"p4": "Max"},
			"o5": {"p9": "Ida"},
		}}
	}
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	cfg := petSource.FetchConfig(h.srv.URL, "tok")
	cfg.RetryBase = time.Millisecond
	client, err := fetch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	server := serverAt{client, func() time.Time { return h.now.Add(h.skew) }}
	h.eng = &runtime.Engine{Registry: petRegistry, Fetcher: server, Dest: h.db, Now: func() time.Time { return h.now }, BatchRows: 1}
	return h
}

func (h *petHarness) sync() *runtime.Summary {
	h.t.Helper()
	sum, err := h.eng.Sync(context.Background())
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return sum
}

// live is the table's live rows.
func (h *petHarness) live(table string) []string {
	var out []string
	for _, r := range h.db.Rows(table) {
		if !r.Deleted {
			out = append(out, fmt.Sprint(r.Values))
		}
	}
	return out
}

// churnPets changes the org between t0 and t0+1h and logs every change.
func churnPets(api *petAPI) { churnPetsAt(api, t0) }

// churnPetsAt is churnPets with the server's clock at base.
func churnPetsAt(api *petAPI, base time.Time) {
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	api.change(at(10), "pet.add", "o1", "p5", "Ace")
	api.change(at(11), "pet.remove", "o1", "p2", "")
	api.change(at(12), "pet.update", "o2", "p3", "Kitty")
	api.change(at(13), "pet.update", "o2", "p3", "Kitty")  // fetched once
	api.change(at(14), "pet.add", "o1", "p7", "Gone")      // added, then
	api.change(at(15), "pet.remove", "o1", "p7", "")       // removed: deleted
	api.change(at(16), "pet.remove", "o1", "p1", "")       // removed, then
	api.change(at(17), "pet.add", "o1", "p1", "Rex again") // added back: live
	api.mu.Lock()
	api.pets["o3"] = map[string]string{"p6": "Neo"}
	api.mu.Unlock()
	api.change(at(18), "owner.rebuild", "o3", "", "")
	api.change(at(19), "owner.rebuild", "o3", "", "") // listed once
	api.change(at(20), "owner.delete", "o5", "", "")
	api.mu.Lock()
	api.events = append(api.events, feedEvent{at: at(21), typ: "pet.add", owner: "o2", pet: "p8", name: "Lost", noPetTarget: true})
	api.mu.Unlock()
}

// TestChangesFromFeed: after a full first sync, a sync within the full-pass
// period reads the feed and applies each action, making only the requests
// the events call for, and ends with the live rows a fresh full sync finds.
func TestChangesFromFeed(t *testing.T) {
	h := newPetHarness(t, nil)
	if r := report(h.sync(), "pets"); r.Mode != "full" {
		t.Fatalf("first sync: %+v", r)
	}
	h.api.takeRequests()
	churnPets(h.api)

	h.now = t0.Add(time.Hour)
	sum := h.sync()
	if r := report(sum, "pets"); r.Mode != "incremental" || r.Status != runtime.StatusOK {
		t.Fatalf("pets: %+v", r)
	}
	var got []string
	for _, u := range h.api.takeRequests() {
		if !strings.HasPrefix(u, "/owners?") && u != "/owners" {
			got = append(got, u)
		}
	}
	filter := "q=type%3Apet.add%2Ctype%3Apet.remove%2Ctype%3Aowner.delete%2Ctype%3Apet.update%2Ctype%3Aowner.rebuild"
	first := "/feed?order=asc&" + filter + "&from=2026-01-15T11%3A55%3A00.000Z&to=2026-01-15T13%3A00%3A00.000Z"
	if len(got) < 3 || got[0] != first {
		t.Fatalf("the first request must read the feed from the last full pass minus the lookback:\n got %q\nwant %q", got, first)
	}
	var detail []string
	feedPages := 0
	for _, u := range got {
		if strings.HasPrefix(u, "/feed?") {
			feedPages++
		} else {
			detail = append(detail, u)
		}
	}
	slices.Sort(detail)
	if want := []string{"/owners/o2/pets/p3", "/owners/o3/pets"}; !slices.Equal(detail, want) {
		t.Errorf("requests besides the feed = %q, want %q (each URL and parent once)", detail, want)
	}
	if feedPages != 6 { // 12 events, 2 a page
		t.Errorf("%d feed pages, want 6", feedPages)
	}
	wantRows := []string{"[o1 p1 Rex again]", "[o1 p5 Ace]", "[o2 p3 Kitty]", "[o3 p6 Neo]"}
	if got := h.live("pets"); !slices.Equal(got, wantRows) {
		t.Errorf("live pets after the changes:\n got %q\nwant %q", got, wantRows)
	}
	fresh := newPetHarness(t, h.api)
	fresh.now = h.now
	fresh.sync()
	h.api.takeRequests()
	if diff := slices.Compare(h.live("pets"), fresh.live("pets")); diff != 0 {
		t.Errorf("changes %q, a fresh full sync %q", h.live("pets"), fresh.live("pets"))
	}
	for _, r := range h.db.Rows("pets") {
		if fmt.Sprint(r.Values[:2]) == "[o1 p2]" && (!r.Deleted || !r.Synced.Equal(t0)) {
			t.Errorf("a removed pet is marked deleted and keeps its _fivetran_synced: %+v", r)
		}
	}
	st, _ := h.db.State(context.Background())
	if s := st["pets"]; s.ChangesCursor != "2026-01-15T13:00:00.000Z" || s.Pending != nil || !s.LastFullImport.Equal(t0) {
		t.Errorf("pets state = %+v", s)
	}

	// Nothing changed since: one feed request over the lookback window.
	h.now = t0.Add(2 * time.Hour)
	h.sync()
	reqs := h.api.takeRequests()
	feed := slices.DeleteFunc(slices.Clone(reqs), func(u string) bool { return !strings.HasPrefix(u, "/feed") })
	if len(feed) != 1 || !strings.Contains(feed[0], "from=2026-01-15T12%3A55%3A00.000Z") || len(reqs) != 2 {
		t.Errorf("a sync without changes: %q", reqs)
	}

	// Once the period has passed, the full pass reads every parent again.
	h.now = t0.Add(25 * time.Hour)
	if r := report(h.sync(), "pets"); r.Mode != "full" || !r.Deleted {
		t.Errorf("after the full-pass period: %+v", r)
	}
	if reqs := h.api.takeRequests(); slices.ContainsFunc(reqs, func(u string) bool { return strings.HasPrefix(u, "/feed") }) {
		t.Errorf("a full pass read the feed: %q", reqs)
	}
}

// TestChangesResume fails the sync of changes at every commit in turn; the
// next sync resumes at the feed page it stopped at and ends with the rows of
// an uninterrupted one.
func TestChangesResume(t *testing.T) {
	ref := newPetHarness(t, nil)
	ref.sync()
	churnPets(ref.api)
	ref.now = t0.Add(time.Hour)
	ref.sync()
	want := ref.live("pets")

	resumedMidFeed := false
	for failAt := 1; ; failAt++ {
		h := newPetHarness(t, nil)
		h.eng.Select = func(n string) bool { return n == "pets" }
		h.sync()
		churnPets(h.api)
		h.now = t0.Add(time.Hour)
		commits := 0
		h.db.FailCommit = func(*runtime.Batch) error {
			if commits++; commits == failAt {
				return errors.New("injected crash")
			}
			return nil
		}
		_, err := h.eng.Sync(context.Background())
		if commits < failAt {
			break
		}
		if err == nil {
			t.Fatalf("failAt %d: the failed commit must fail the sync", failAt)
		}
		h.db.FailCommit = nil
		st, _ := h.db.State(context.Background())
		h.api.takeRequests()
		h.now = t0.Add(61 * time.Minute)
		h.sync()
		reqs := h.api.takeRequests()
		if p := st["pets"].Pending; p != nil && p.ChangesURL != "" {
			resumedMidFeed = true
			if len(reqs) == 0 || "http://"+h.srv.Listener.Addr().String()+reqs[0] != p.ChangesURL && reqs[0] != p.ChangesURL {
				t.Errorf("failAt %d: resumed at %q, want the saved page %q", failAt, reqs, p.ChangesURL)
			}
		}
		if got := h.live("pets"); !slices.Equal(got, want) {
			t.Errorf("failAt %d: pets after resuming:\n got %q\nwant %q", failAt, got, want)
		}
	}
	if !resumedMidFeed {
		t.Error("no crash left a run of changes to resume")
	}
}

// TestChangesFeedRefused: a feed the source refuses sends the table to its
// full pass, which still gets every change.
func TestChangesFeedRefused(t *testing.T) {
	for _, code := range []int{403, 400} {
		h := newPetHarness(t, nil)
		h.sync()
		churnPets(h.api)
		h.api.feedCode = code
		h.now = t0.Add(time.Hour)
		sum := h.sync()
		if r := report(sum, "pets"); r.Mode != "full" || r.Status != runtime.StatusOK {
			t.Errorf("%d: pets %+v", code, r)
		}
		want := []string{"[o1 p1 Rex again]", "[o1 p5 Ace]", "[o2 p3 Kitty]", "[o3 p6 Neo]"}
		if got := h.live("pets"); !slices.Equal(got, want) {
			t.Errorf("%d: pets after the fallback %q, want %q", code, got, want)
		}
	}
}

// TestServerClockWindows: the windows sent to the server follow its clock,
// here a year behind the local one: the feed's since and until, and a
// polling table's start.
func TestServerClockWindows(t *testing.T) {
	const year = 365 * 24 * time.Hour
	h := newPetHarness(t, nil)
	h.skew = -year
	h.sync()
	h.api.takeRequests()
	churnPetsAt(h.api, t0.Add(-year))
	h.now = t0.Add(time.Hour)
	sum := h.sync()
	if r := report(sum, "pets"); r.Mode != "incremental" || r.Status != runtime.StatusOK {
		t.Fatalf("pets: %+v", r)
	}
	var feed []string
	for _, u := range h.api.takeRequests() {
		if strings.HasPrefix(u, "/feed?") {
			feed = append(feed, u)
		}
	}
	// The last full pass started at t0 on the local clock, t0 - 1y on the server's.
	window := "&from=2025-01-15T11%3A55%3A00.000Z&to=2025-01-15T13%3A00%3A00.000Z"
	if len(feed) == 0 || !strings.HasSuffix(feed[0], window) {
		t.Errorf("feed window on the server's clock: got %q, want a window ending %q", feed, window)
	}
	want := []string{"[o1 p1 Rex again]", "[o1 p5 Ace]", "[o2 p3 Kitty]", "[o3 p6 Neo]"}
	if got := h.live("pets"); !slices.Equal(got, want) {
		t.Errorf("live pets after the changes:\n got %q\nwant %q", got, want)
	}
	st, _ := h.db.State(context.Background())
	if s := st["pets"]; s.ChangesCursor != "2025-01-15T13:00:00.000Z" || !s.LastFullImport.Equal(t0) {
		t.Errorf("pets state = %+v", s)
	}

	// A window saved on a clock ahead of the server's (a sync before the
	// server's clock was known) fits no window: the full pass starts afresh.
	h = newPetHarness(t, nil)
	h.sync()
	h.skew = -year
	h.now = t0.Add(time.Hour)
	if r := report(h.sync(), "pets"); r.Mode != "full" || r.Status != runtime.StatusOK {
		t.Errorf("a saved window after the server's time: pets %+v, want a full pass", r)
	}
	st, _ = h.db.State(context.Background())
	if s := st["pets"]; !s.LastFullImportServer.Equal(t0.Add(time.Hour-year)) || s.ChangesCursor != "" {
		t.Errorf("after the full pass: %+v", s)
	}

	p := newHarness(t)
	p.skew = -year
	p.eng.Select = func(n string) bool { return n == "events" }
	if _, err := p.sync(); err != nil {
		t.Fatal(err)
	}
	if reqs := p.api.takeRequests(); len(reqs) == 0 || reqs[0] != "/events?since=2025-01-14T12%3A00%3A00.000Z" {
		t.Errorf("a polling table's start on the server's clock: got %q, want /events?since=2025-01-14T12%%3A00%%3A00.000Z first", reqs)
	}
}

// TestChangesFeedLoop: a feed whose next link is the page itself fails the
// table after one page, without applying or saving it as a resume point.
func TestChangesFeedLoop(t *testing.T) {
	h := newPetHarness(t, nil)
	h.sync()
	churnPets(h.api)
	h.api.feedLoop = 20 // ends the loop if the engine does not
	h.api.takeRequests()
	h.now = t0.Add(time.Hour)
	sum, err := h.eng.Sync(context.Background())
	r := report(sum, "pets")
	if err == nil || r.Status != runtime.StatusFailed || !errors.Is(r.Err, runtime.ErrLoop) || !strings.Contains(r.Reason, "pets: listing loops: the page http://127.0.0.1:") {
		t.Fatalf("pets = %+v, want failed with a loop", r)
	}
	feed := 0
	for _, u := range h.api.takeRequests() {
		if strings.HasPrefix(u, "/feed") {
			feed++
		}
	}
	if feed > 3 {
		t.Errorf("%d feed requests before the loop was noticed", feed)
	}
	st, _ := h.db.State(context.Background())
	if s := st["pets"]; s.Pending != nil || s.ChangesCursor != "" {
		t.Errorf("the loop left state %+v", s)
	}
}
