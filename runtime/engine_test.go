package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime"
	"oktasync/runtime/dest/memory"
	"oktasync/runtime/fetch"
	"oktasync/runtime/ratelimit"
)

// A small made-up API: items (incremental on "updated", re-imported for
// deletes), their tags (a breakout), parts per item (fan-out), events
// (polling) and a forbidden table.

type rowOf struct{ vals []any }

func (r *rowOf) AppendValues(dst []any) []any { return append(dst, r.vals...) }

var (
	items = &runtime.Table{
		Name:        "items",
		Request:     &runtime.Request{Path: "/items", Params: []runtime.Param{{Name: "limit", Value: "2"}}, Bucket: "default"},
		Pagination:  runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		Incremental: &runtime.Incremental{Kind: runtime.IncrementalFilter, CursorField: "updated", Param: "since", Template: "{cursor}", Lookback: time.Minute},
		Deletes:     runtime.Deletes{Kind: runtime.DeletesFullReimport, Every: 24 * time.Hour},
		PrimaryKey:  []string{"id"},
		Columns:     []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}, {Name: "name", Type: runtime.TypeString, Source: "name"}},
	}
	itemTags = &runtime.Table{
		Name: "item_tags", ParentKey: []string{"item_id"}, PrimaryKey: []string{"item_id", "tag"},
		Columns:  []runtime.Column{{Name: "item_id", Type: runtime.TypeString, Source: "parent.id"}, {Name: "tag", Type: runtime.TypeString, Source: "element"}},
		Breakout: &runtime.Breakout{Kind: runtime.BreakoutScalars, Path: "tags"},
	}
	parts = &runtime.Table{
		Name:       "parts",
		Request:    &runtime.Request{Path: "/items/{parent.id}/parts", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		FanOut: &runtime.FanOut{Parent: "items", Fields: []string{"id"},
			ChangedSince: &runtime.Incremental{Kind: runtime.IncrementalFilter, CursorField: "partsChanged", Param: "partsSince", Template: "{cursor}"}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesNone},
		ParentKey:  []string{"item_id"},
		PrimaryKey: []string{"item_id", "part"},
		Columns:    []runtime.Column{{Name: "item_id", Type: runtime.TypeString, Source: "parent.id"}, {Name: "part", Type: runtime.TypeString, Source: "part"}},
	}
	events = &runtime.Table{
		Name:        "events",
		Request:     &runtime.Request{Path: "/events", Bucket: "default"},
		Pagination:  runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next", Poll: true},
		Incremental: &runtime.Incremental{Kind: runtime.IncrementalNextURL, StartParam: "since", StartLookback: 24 * time.Hour},
		Deletes:     runtime.Deletes{Kind: runtime.DeletesNone},
		PrimaryKey:  []string{"id"},
		Columns:     []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}},
	}
	secrets = &runtime.Table{
		Name:        "secrets",
		Request:     &runtime.Request{Path: "/secrets", Bucket: "default"},
		Pagination:  runtime.Pagination{Kind: runtime.PaginationNone},
		Deletes:     runtime.Deletes{Kind: runtime.DeletesFullReimport},
		Permissions: runtime.Permissions{Roles: []string{"OWNER"}, Scope: "secrets.read"},
		PrimaryKey:  []string{"id"},
		Columns:     []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}},
	}
	// kinds: one request per fixed parent record, the placeholder in a param.
	kinds = &runtime.Table{
		Name:       "kinds",
		Request:    &runtime.Request{Path: "/kinds", Params: []runtime.Param{{Name: "kind", Value: "{parent.kind}"}}, Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		// "unknown" is refused with a 400: a fixed parent the org does not
		// know is skipped, not a failure of the table.
		FanOut:     &runtime.FanOut{Values: []string{`{"kind":"a"}`, `{"kind":"b c"}`, `{"kind":"unknown"}`}, Fields: []string{"kind"}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}},
	}
	// ownerRoles: parents from a wrapped listing that is no table; each
	// parent's endpoint answers a single object.
	ownerRoles = &runtime.Table{
		Name:       "owner_roles",
		Request:    &runtime.Request{Path: "/owners/{parent.id}/role", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		FanOut: &runtime.FanOut{Request: &runtime.Request{Path: "/owners", Bucket: "default", Records: "value"},
			Pagination: runtime.Pagination{Kind: runtime.PaginationBodyLink, NextPath: "next"}, Key: []string{"id"}, Fields: []string{"id"}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		ParentKey:  []string{"owner_id"},
		PrimaryKey: []string{"owner_id"},
		Columns:    []runtime.Column{{Name: "owner_id", Type: runtime.TypeString, Source: "parent.id"}, {Name: "role", Type: runtime.TypeString, Source: "role"}},
	}
	// kindNotes: a fan-out of a fan-out (one listing per note of each kind).
	kindNotes = &runtime.Table{
		Name:       "kind_notes",
		Request:    &runtime.Request{Path: "/kinds/{parent.id}/notes", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		FanOut:     &runtime.FanOut{Parent: "kinds", Fields: []string{"id"}},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		ParentKey:  []string{"kind_id"},
		PrimaryKey: []string{"kind_id", "note"},
		Columns:    []runtime.Column{{Name: "kind_id", Type: runtime.TypeString, Source: "parent.id"}, {Name: "note", Type: runtime.TypeString, Source: "note"}},
	}
	registry = &runtime.Registry{Tables: []*runtime.Table{items, parts, events, secrets, kinds, ownerRoles, kindNotes}}
)

func init() {
	items.Children = []*runtime.Table{itemTags}
	itemTags.Parent = items
	items.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		r := &rowOf{[]any{e.String(rec.Get("id")).Any(), e.String(rec.Get("name")).Any()}}
		e.Emit(items, r)
		rec.Get("tags").ForEach(func(_, v gjson.Result) bool {
			e.Emit(itemTags, &rowOf{[]any{r.vals[0], v.String()}})
			return true
		})
	}
	parts.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		e.Emit(parts, &rowOf{[]any{e.String(parent.Get("id")).Any(), e.String(rec.Get("part")).Any()}})
	}
	events.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		e.Emit(events, &rowOf{[]any{e.String(rec.Get("id")).Any()}})
	}
	secrets.Extract = events.Extract
	kinds.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		e.Emit(kinds, &rowOf{[]any{e.String(rec.Get("id")).Any()}})
	}
	kindNotes.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		e.Emit(kindNotes, &rowOf{[]any{e.String(parent.Get("id")).Any(), e.String(rec.Get("note")).Any()}})
	}
	ownerRoles.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		e.Emit(ownerRoles, &rowOf{[]any{e.String(parent.Get("id")).Any(), e.String(rec.Get("role")).Any()}})
	}
}

type item struct {
	id, name     string
	tags         []string
	updated      time.Time
	partsChanged time.Time
	parts        []string
}

// api is the fake server's data and request log.
type api struct {
	mu       sync.Mutex
	items    []*item
	events   []string
	requests []string
	token    string
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r.URL.RequestURI())
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+a.token {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"code":"BAD_TOKEN","message":"invalid token"}`)
		return
	}
	q := r.URL.Query()
	base := "http://" + r.Host
	switch {
	case r.URL.Path == "/items":
		var list []*item
		since, _ := time.Parse(time.RFC3339, q.Get("since"))
		pSince, _ := time.Parse(time.RFC3339, q.Get("partsSince"))
		for _, it := range a.items {
			if q.Has("since") && !it.updated.After(since) || q.Has("partsSince") && !it.partsChanged.After(pSince) {
				continue
			}
			list = append(list, it)
		}
		off, _ := strconv.Atoi(q.Get("after"))
		end := min(off+2, len(list))
		if end < len(list) {
			q.Set("after", strconv.Itoa(end))
			w.Header().Add("Link", "<"+base+"/items?"+q.Encode()+`>; rel="next"`)
		}
		var out []string
		for _, it := range list[off:end] {
			tags, _ := jsonStrings(it.tags)
			out = append(out, fmt.Sprintf(`{"id":%q,"name":%q,"tags":%s,"updated":%q,"partsChanged":%q}`,
				it.id, it.name, tags, it.updated.Format(time.RFC3339), it.partsChanged.Format(time.RFC3339)))
		}
		fmt.Fprint(w, "["+strings.Join(out, ",")+"]")
	case strings.HasPrefix(r.URL.Path, "/items/") && strings.HasSuffix(r.URL.Path, "/parts"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/items/"), "/parts")
		for _, it := range a.items {
			if it.id == id {
				var out []string
				for _, p := range it.parts {
					out = append(out, fmt.Sprintf(`{"part":%q}`, p))
				}
				fmt.Fprint(w, "["+strings.Join(out, ",")+"]")
				return
			}
		}
		w.WriteHeader(404)
		fmt.Fprint(w, `{"code":"NOT_FOUND","message":"no such item"}`)
	case r.URL.Path == "/events":
		after, _ := strconv.Atoi(q.Get("after"))
		end := min(after+3, len(a.events))
		var out []string
		for _, e := range a.events[after:end] {
			out = append(out, fmt.Sprintf(`{"id":%q}`, e))
		}
		w.Header().Add("Link", fmt.Sprintf(`<%s/events?after=%d>; rel="next"`, base, end))
		fmt.Fprint(w, "["+strings.Join(out, ",")+"]")
	case r.URL.Path == "/kinds":
		if q.Get("kind") == "unknown" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":"BAD_KIND","message":"no such kind"}`)
			return
		}
		fmt.Fprintf(w, `[{"id":%q}]`, "k-"+q.Get("kind"))
	case strings.HasPrefix(r.URL.Path, "/kinds/"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/kinds/"), "/notes")
		fmt.Fprintf(w, `[{"note":"n1 of %s"},{"note":"n2 of %s"}]`, id, id)
	case r.URL.Path == "/owners":
		if q.Get("page") == "" {
			fmt.Fprintf(w, `{"value":[{"id":"o1"}],"next":"%s/owners?page=2"}`, base)
		} else {
			fmt.Fprint(w, `{"value":[{"id":"o2"}]}`)
		}
	case strings.HasPrefix(r.URL.Path, "/owners/"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/owners/"), "/role")
		fmt.Fprintf(w, `{"role":"admin-of-%s"}`, id)
	case r.URL.Path == "/secrets":
		w.WriteHeader(403)
		fmt.Fprint(w, `{"code":"DENIED","message":"not allowed"}`)
	default:
		w.WriteHeader(404)
	}
}

func jsonStrings(ss []string) (string, error) {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ",") + "]", nil
}

func (a *api) takeRequests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.requests
	a.requests = nil
	return r
}

type harness struct {
	t   *testing.T
	api *api
	srv *httptest.Server
	db  *memory.DB
	now time.Time
	// skew is how far the server's clock is from now.
	skew time.Duration
	eng  *runtime.Engine
	logs []string
}

// serverAt gives a Fetcher the fake server's clock (runtime.ServerClock),
// so that tests do not depend on the Date headers of the real one.
type serverAt struct {
	runtime.Fetcher
	now func() time.Time
}

func (f serverAt) ServerNow() (time.Time, bool) { return f.now(), true }

func (f serverAt) CheckURL(table, url string) error {
	if c, ok := f.Fetcher.(runtime.URLChecker); ok {
		return c.CheckURL(table, url)
	}
	return nil
}

var t0 = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, api: &api{token: "s3cret-token"}, db: memory.New(), now: t0}
	for i := range 5 {
		h.api.items = append(h.api.items, &item{id: fmt.Sprintf("i%d", i), name: fmt.Sprintf("item %d", i), tags: []string{"a", "b"},
			updated: t0.Add(-time.Duration(10-i) * time.Hour), partsChanged: t0.Add(-time.Hour), parts: []string{"p1", "p2"}})
	}
	h.api.events = []string{"e1", "e2", "e3", "e4"}
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	src := &runtime.SourceInfo{AuthHeader: "Authorization", AuthScheme: "Bearer", ErrorCodePath: "code", ErrorSummaryPath: "message"}
	cfg := src.FetchConfig(h.srv.URL, "s3cret-token")
	cfg.RetryBase = time.Millisecond
	client, err := fetch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	server := serverAt{client, func() time.Time { return h.now.Add(h.skew) }}
	h.eng = &runtime.Engine{Registry: registry, Fetcher: server, Dest: h.db, Now: func() time.Time { return h.now }, BatchRows: 1}
	return h
}

func (h *harness) sync() (*runtime.Summary, error) {
	h.t.Helper()
	return h.eng.Sync(context.Background())
}

// table renders a table as "key|...|deleted" lines.
func (h *harness) table(name string) []string {
	var out []string
	for _, r := range h.db.Rows(name) {
		out = append(out, fmt.Sprintf("%v deleted=%v", r.Values, r.Deleted))
	}
	return out
}

func report(s *runtime.Summary, table string) runtime.TableReport {
	for _, r := range s.Tables {
		if r.Table == table {
			return r
		}
	}
	return runtime.TableReport{}
}

func TestFirstAndIncrementalSync(t *testing.T) {
	h := newHarness(t)
	sum, err := h.sync()
	if !errors.Is(err, runtime.ErrPartial) {
		t.Fatalf("the forbidden table must make the sync partial, got %v", err)
	}
	if r := report(sum, "secrets"); r.Status != runtime.StatusSkipped || !strings.Contains(r.Reason, "OWNER") || !strings.Contains(r.Reason, "secrets.read") {
		t.Errorf("secrets: %+v", r)
	}
	for _, name := range []string{"items", "parts", "events", "kinds", "owner_roles", "kind_notes"} {
		if r := report(sum, name); r.Status != runtime.StatusOK {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if got := len(h.table("items")); got != 5 {
		t.Errorf("items = %d rows", got)
	}
	if got := len(h.table("item_tags")); got != 10 {
		t.Errorf("item_tags = %d rows", got)
	}
	if got := len(h.table("parts")); got != 10 {
		t.Errorf("parts = %d rows", got)
	}
	if got := h.table("events"); len(got) != 4 {
		t.Errorf("events = %v", got)
	}
	if got := h.table("kinds"); !slices.Equal(got, []string{"[k-a] deleted=false", "[k-b c] deleted=false"}) {
		t.Errorf("kinds (fixed parents) = %q", got)
	}
	if got := h.table("kind_notes"); !slices.Equal(got, []string{"[k-a n1 of k-a] deleted=false", "[k-a n2 of k-a] deleted=false", "[k-b c n1 of k-b c] deleted=false", "[k-b c n2 of k-b c] deleted=false"}) {
		t.Errorf("kind_notes (fan-out of a fan-out) = %q", got)
	}
	if got := h.table("owner_roles"); !slices.Equal(got, []string{"[o1 admin-of-o1] deleted=false", "[o2 admin-of-o2] deleted=false"}) {
		t.Errorf("owner_roles (listing parents, single-object bodies) = %q", got)
	}
	st, _ := h.db.State(context.Background())
	if st["items"].Cursor != "2026-01-15T06:00:00.000Z" || st["items"].Pending != nil {
		t.Errorf("items state = %+v", st["items"])
	}
	h.api.takeRequests()

	// Nothing changed: only the incremental requests go out.
	h.now = t0.Add(time.Hour)
	if _, err := h.sync(); !errors.Is(err, runtime.ErrPartial) {
		t.Fatal(err)
	}
	reqs := h.api.takeRequests()
	want := []string{
		"/items?limit=2&since=2026-01-15T05%3A59%3A00.000Z",      // cursor minus the one-minute lookback
		"/items?limit=2&partsSince=2026-01-15T11%3A00%3A00.000Z", // parents whose parts changed
		"/events?after=4",
		"/secrets",
		"/kinds?kind=a", "/kinds?kind=b+c", "/kinds?kind=unknown", // tables without a cursor are read whole
		"/kinds?kind=a", "/kinds?kind=b+c", "/kinds?kind=unknown", "/kinds/k-a/notes", "/kinds/k-b%20c/notes",
		"/owners", "/owners?page=2", "/owners/o1/role", "/owners/o2/role",
	}
	slices.Sort(reqs)
	slices.Sort(want)
	if !slices.Equal(reqs, want) {
		t.Errorf("second sync requests:\n got %q\nwant %q", reqs, want)
	}

	// A change, a new item, new parts and new events are picked up.
	h.api.mu.Lock()
	h.api.items[1].name, h.api.items[1].updated, h.api.items[1].tags = "renamed", t0.Add(90*time.Minute), []string{"b", "c"}
	h.api.items = append(h.api.items, &item{id: "i9", name: "new", updated: t0.Add(95 * time.Minute), partsChanged: t0.Add(95 * time.Minute), parts: []string{"x"}})
	h.api.items[0].partsChanged, h.api.items[0].parts = t0.Add(95*time.Minute), []string{"p1"}
	h.api.events = append(h.api.events, "e5")
	h.api.mu.Unlock()
	h.now = t0.Add(2 * time.Hour)
	if _, err := h.sync(); !errors.Is(err, runtime.ErrPartial) {
		t.Fatal(err)
	}
	items := h.table("items")
	if len(items) != 6 || items[1] != "[i1 renamed] deleted=false" {
		t.Errorf("items after change = %q", items)
	}
	tags := h.table("item_tags")
	wantTags := []string{"[i0 a] deleted=false", "[i0 b] deleted=false", "[i1 a] deleted=true", "[i1 b] deleted=false", "[i1 c] deleted=false"}
	if !slices.Equal(tags[:5], wantTags) {
		t.Errorf("tags of a rewritten item must be replaced:\n got %q\nwant %q", tags[:5], wantTags)
	}
	if got := h.table("parts"); !slices.Contains(got, "[i0 p2] deleted=true") || !slices.Contains(got, "[i9 x] deleted=false") || !slices.Contains(got, "[i1 p2] deleted=false") {
		t.Errorf("parts after change = %q", got)
	}
	if got := h.table("events"); len(got) != 5 {
		t.Errorf("events = %q", got)
	}
}

func TestReimportMarksDeletes(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" || n == "parts" }
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	h.api.mu.Lock()
	gone := h.api.items[2]
	h.api.items = slices.Delete(h.api.items, 2, 3)
	h.api.mu.Unlock()

	// Within the re-import period the delete is not noticed.
	h.now = t0.Add(time.Hour)
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "items"); r.Mode != "incremental" || r.Deleted {
		t.Errorf("items within the period: %+v", r)
	}
	// A day later the full re-import marks it and its children deleted.
	h.now = t0.Add(25 * time.Hour)
	sum, err = h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "items"); r.Mode != "full" || !r.Deleted {
		t.Errorf("items after the period: %+v", r)
	}
	if got := h.table("items"); got[2] != "[i2 item 2] deleted=true" || got[1] != "[i1 item 1] deleted=false" {
		t.Errorf("items = %q", got)
	}
	for _, name := range []string{"item_tags", "parts"} {
		for _, row := range h.table(name) {
			if strings.HasPrefix(row, "[i2 ") != strings.HasSuffix(row, "deleted=true") {
				t.Errorf("%s: %s", name, row)
			}
		}
	}
	// It comes back: flipped to not deleted.
	h.api.mu.Lock()
	gone.updated = t0.Add(26 * time.Hour)
	h.api.items = append(h.api.items, gone)
	h.api.mu.Unlock()
	h.now = t0.Add(27 * time.Hour)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	if got := h.table("items"); got[2] != "[i2 item 2] deleted=false" {
		t.Errorf("a re-created row must flip back: %q", got)
	}
}

// TestResumeAfterFailedCommit fails the sync at every commit in turn and
// checks that the next sync ends where an uninterrupted sync ends.
func TestResumeAfterFailedCommit(t *testing.T) {
	ref := newHarness(t)
	ref.eng.Select = func(n string) bool { return n != "secrets" }
	if _, err := ref.sync(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, n := range []string{"items", "item_tags", "parts", "events"} {
		want[n] = ref.table(n)
	}
	resumed := 0
	for failAt := 1; ; failAt++ {
		h := newHarness(t)
		h.eng.Select = ref.eng.Select
		h.eng.Parallel = 1
		commits := 0
		h.db.FailCommit = func(b *runtime.Batch) error {
			commits++
			if commits == failAt {
				return errors.New("injected crash")
			}
			return nil
		}
		_, err := h.sync()
		if commits < failAt {
			break // every commit point has been tried
		}
		if err == nil {
			t.Fatalf("failAt %d: the sync must report the failed commit", failAt)
		}
		resumed++
		h.db.FailCommit = nil
		h.now = t0.Add(time.Minute)
		if _, err := h.sync(); err != nil {
			t.Fatalf("failAt %d: resumed sync: %v", failAt, err)
		}
		for n, w := range want {
			if got := h.table(n); !slices.Equal(got, w) {
				t.Errorf("failAt %d: %s after resume:\n got %q\nwant %q", failAt, n, got, w)
			}
		}
	}
	if resumed < 6 {
		t.Errorf("only %d commit points tried", resumed)
	}
}

func TestUnauthorizedStopsTheSync(t *testing.T) {
	h := newHarness(t)
	h.api.token = "rotated"
	sum, err := h.sync()
	if err == nil || !errors.Is(err, fetch.ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "s3cret-token") {
		t.Error("the token leaked into the error")
	}
	for _, r := range sum.Tables {
		if r.Status == runtime.StatusOK {
			t.Errorf("%s synced with bad credentials", r.Table)
		}
	}
}

// TestFanOutFullPass: a fan-out read for changed parents only goes over every
// parent once its re-import period has passed, catching changes that did not
// move the parent's changed_since field.
func TestFanOutFullPass(t *testing.T) {
	saved := parts.Deletes
	parts.Deletes = runtime.Deletes{Kind: runtime.DeletesFullReimport, Every: 24 * time.Hour}
	t.Cleanup(func() { parts.Deletes = saved })
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" || n == "parts" }
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	h.api.mu.Lock()
	h.api.items[3].parts = []string{"p9"} // partsChanged not moved
	h.api.mu.Unlock()

	h.now = t0.Add(time.Hour)
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "parts"); r.Mode != "incremental" || slices.Contains(h.table("parts"), "[i3 p9] deleted=false") {
		t.Errorf("within the period only changed parents are read: %+v %q", r, h.table("parts"))
	}
	h.now = t0.Add(25 * time.Hour)
	sum, err = h.sync()
	if err != nil {
		t.Fatal(err)
	}
	got := h.table("parts")
	if r := report(sum, "parts"); r.Mode != "full" || !r.Deleted ||
		!slices.Contains(got, "[i3 p9] deleted=false") || !slices.Contains(got, "[i3 p1] deleted=true") {
		t.Errorf("the full pass must read every parent: %+v %q", r, got)
	}
}

// aheadFetcher holds a fan-out's requests for the children of its first
// page of parents until the fan-out has asked for its second page of
// parents: a fan-out that fetched that page only after the first page's
// children would never get there.
type aheadFetcher struct {
	serverAt
	secondAsked chan struct{}
	once        sync.Once
}

func (f *aheadFetcher) Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error) {
	switch {
	case strings.Contains(url, "/items?") && strings.Contains(url, "after=2"):
		f.once.Do(func() { close(f.secondAsked) })
	case strings.Contains(url, "/items/i0/parts"):
		select {
		case <-f.secondAsked:
		case <-time.After(10 * time.Second): // a deadlock guard, not a timing
			return nil, errors.New("the second page of parents was not asked for while the first page's children were read")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.serverAt.Get(ctx, table, bucket, url)
}

// TestFanOutFetchesParentsAhead: a fan-out asks for its next page of
// parents while it reads the children of the current one, so its bucket is
// not left idle while the listing's request waits (for a spent bucket's
// reset, say); the pass still ends with every parent's rows.
func TestFanOutFetchesParentsAhead(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "parts" }
	h.eng.Fetcher = &aheadFetcher{serverAt: h.eng.Fetcher.(serverAt), secondAsked: make(chan struct{})}
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "parts"); r.Status != runtime.StatusOK {
		t.Fatalf("parts: %+v", r)
	}
	if got := h.table("parts"); len(got) != 10 {
		t.Errorf("parts = %q, want 2 parts of each of 5 items", got)
	}
}

// TestAppendRuns: a table's first import and a polling table's stream are
// written as Append batches (no earlier rows to merge with), the first import
// ending with a Dedupe batch; later runs merge. A resumed first import goes on
// appending and still dedupes at its end.
func TestAppendRuns(t *testing.T) {
	type flags struct{ append, dedupe bool }
	record := func(h *harness) map[string][]flags {
		got := map[string][]flags{}
		var mu sync.Mutex
		h.db.FailCommit = func(b *runtime.Batch) error {
			mu.Lock()
			defer mu.Unlock()
			got[b.Table.Name] = append(got[b.Table.Name], flags{b.Append, b.Dedupe})
			return nil
		}
		return got
	}
	// check says whether every batch of table appends and only the last dedupes.
	check := func(label string, got map[string][]flags, table string, appendAll, dedupeLast bool) {
		t.Helper()
		bs := got[table]
		if len(bs) == 0 {
			t.Fatalf("%s: %s had no batch", label, table)
		}
		for i, b := range bs {
			last := i == len(bs)-1
			if b.append != appendAll || b.dedupe != (last && dedupeLast) {
				t.Errorf("%s: %s batch %d of %d = %+v, want append %v, dedupe %v", label, table, i+1, len(bs), b, appendAll, last && dedupeLast)
			}
		}
	}
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" || n == "parts" || n == "events" }
	got := record(h)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"items", "parts", "events"} {
		if len(got[n]) < 2 {
			t.Fatalf("first sync: %s had %d batches; the test needs several", n, len(got[n]))
		}
		check("first sync", got, n, true, true)
	}
	h.api.mu.Lock()
	h.api.items[0].updated, h.api.items[0].partsChanged = t0.Add(30*time.Minute), t0.Add(30*time.Minute)
	h.api.events = append(h.api.events, "e5", "e6")
	h.api.mu.Unlock()
	h.now = t0.Add(time.Hour)
	got = record(h)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	check("second sync", got, "items", false, false)
	check("second sync", got, "parts", false, false)
	check("second sync", got, "events", true, false) // the stream goes on: nothing to merge

	// A first import that fails half-way resumes as an append run.
	h = newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	commits := 0
	h.db.FailCommit = func(*runtime.Batch) error {
		if commits++; commits == 3 {
			return errors.New("injected crash")
		}
		return nil
	}
	if _, err := h.sync(); err == nil {
		t.Fatal("the injected crash must fail the sync")
	}
	got = record(h)
	h.now = t0.Add(time.Minute)
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "items"); r.Mode != "resume" {
		t.Fatalf("items after a crash: mode %s, want resume", r.Mode)
	}
	check("resumed first import", got, "items", true, true)
}

// TestBatchBytes: a batch also ends when its values pass BatchBytes, on the
// page boundary after.
func TestBatchBytes(t *testing.T) {
	for _, tc := range []struct {
		bytes, commits int
	}{{1 << 30, 1}, {1, 3}} { // 5 items, 2 per page
		h := newHarness(t)
		h.eng.Select = func(n string) bool { return n == "items" }
		h.eng.BatchRows, h.eng.BatchBytes = 1000, tc.bytes
		commits := 0
		h.db.FailCommit = func(b *runtime.Batch) error {
			if b.Table.Name == "items" {
				commits++
			}
			return nil
		}
		if _, err := h.sync(); err != nil {
			t.Fatal(err)
		}
		if commits != tc.commits {
			t.Errorf("BatchBytes %d: %d commits of items, want %d", tc.bytes, commits, tc.commits)
		}
		if got := len(h.table("items")); got != 5 {
			t.Errorf("BatchBytes %d: %d items synced, want 5", tc.bytes, got)
		}
	}
}

// TestResumeSpanningChanges: records change between an interrupted run and
// its resume, on pages committed before the interruption and after. The
// cursor the resumed run saves must not pass over the earlier changes, so
// that the next incremental sync reads them: items (a filter cursor) and
// parts (a fan-out's changed_since cursor).
func TestResumeSpanningChanges(t *testing.T) {
	rowsOf := func(b *runtime.Batch, table string) string {
		for tb, rs := range b.Rows {
			if tb.Name == table {
				return fmt.Sprint(rs.Rows)
			}
		}
		return ""
	}
	for _, tc := range []struct {
		table string
		// crash fails the commit of the batch holding this item's rows:
		// the items before it are committed, the later ones are not.
		crash  string
		change func(a *api)
		want   string
	}{
		{table: "items", crash: "i2", want: "[i0 renamed] deleted=false", change: func(a *api) {
			a.items[0].name, a.items[0].updated = "renamed", t0.Add(10*time.Minute)
			a.items[4].name, a.items[4].updated = "renamed too", t0.Add(20*time.Minute)
		}},
		{table: "parts", crash: "i4", want: "[i0 p9] deleted=false", change: func(a *api) {
			a.items[0].parts, a.items[0].partsChanged = []string{"p9"}, t0.Add(10*time.Minute)
			a.items[4].parts, a.items[4].partsChanged = []string{"p8"}, t0.Add(20*time.Minute)
		}},
	} {
		h := newHarness(t)
		h.eng.Select = func(n string) bool { return n == tc.table }
		h.db.FailCommit = func(b *runtime.Batch) error {
			if strings.Contains(rowsOf(b, tc.table), tc.crash) {
				return errors.New("injected crash")
			}
			return nil
		}
		if _, err := h.sync(); err == nil {
			t.Fatalf("%s: the injected crash must fail the first sync", tc.table)
		}
		h.db.FailCommit = nil
		h.api.mu.Lock()
		tc.change(h.api)
		h.api.mu.Unlock()

		h.now = t0.Add(30 * time.Minute)
		sum, err := h.sync()
		if err != nil {
			t.Fatal(err)
		}
		if r := report(sum, tc.table); r.Mode != "resume" {
			t.Fatalf("%s: the second sync must resume, got %+v", tc.table, r)
		}
		h.now = t0.Add(time.Hour)
		if _, err := h.sync(); err != nil {
			t.Fatal(err)
		}
		if got := h.table(tc.table); !slices.Contains(got, tc.want) {
			t.Errorf("%s: a change to a row committed before the interruption is lost: %q, want %s", tc.table, got, tc.want)
		}
	}
}

// slowPages claims that every request waited wait on rate limits.
type slowPages struct {
	runtime.Fetcher
	wait time.Duration
}

func (f slowPages) Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error) {
	p, err := f.Fetcher.Get(ctx, table, bucket, url)
	if p != nil {
		p.Waited = f.wait
	}
	return p, err
}

// TestWaitedWithinDuration: a table's rate-limit wait is the wall time it
// was blocked, never more than its duration, however many of its requests
// wait, in parallel or not.
func TestWaitedWithinDuration(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" || n == "parts" }
	h.eng.Fetcher = slowPages{h.eng.Fetcher, time.Hour}
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sum.Tables {
		if r.Requests < 3 || r.Waited <= 0 || r.Waited > r.Duration {
			t.Errorf("%s: %d requests waited %v in %v", r.Table, r.Requests, r.Waited, r.Duration)
		}
	}
}

// TestProgressReportsAreSnapshots: a report handed to Progress during a
// sync stays as it was: the hook may keep it and read it from another
// goroutine while the table goes on.
func TestProgressReportsAreSnapshots(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	var reports []runtime.TableReport
	h.eng.Progress = func(r runtime.TableReport) { reports = append(reports, r) }
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	// A batch's report comes once it is committed, when the next page is
	// extracted: 4 rows after the first, then 5.
	var got []int64
	for _, r := range reports {
		got = append(got, r.Rows["items"])
	}
	if want := []int64{4, 5, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("items rows in the progress reports, as kept: %v, want %v", got, want)
	}
}

// failingFetcher fails every request with err.
type failingFetcher struct{ err error }

func (f failingFetcher) Get(context.Context, string, string, string) (*fetch.Page, error) {
	return nil, f.err
}

// TestFatalErrorStopsTheSync: a failure no request survives (an untrusted
// certificate, say) stops the sync like rejected credentials do, and the
// tables that never ran say so instead of quoting the failing table's error.
func TestFatalErrorStopsTheSync(t *testing.T) {
	h := newHarness(t)
	h.eng.Parallel = 1
	h.eng.Fetcher = failingFetcher{fmt.Errorf("items: GET /items: x509: certificate signed by unknown authority: %w", fetch.ErrFatal)}
	sum, err := h.sync()
	if !errors.Is(err, fetch.ErrFatal) {
		t.Fatalf("err = %v, want fetch.ErrFatal", err)
	}
	var failed, notStarted int
	for _, r := range sum.Tables {
		switch r.Status {
		case runtime.StatusFailed:
			failed++
		case runtime.StatusNotStarted:
			notStarted++
			if strings.Contains(r.Reason, "x509") || r.Err != nil {
				t.Errorf("%s never ran but reports another table's error: %q", r.Table, r.Reason)
			}
		default:
			t.Errorf("%s: status %s", r.Table, r.Status)
		}
	}
	if failed != 1 || notStarted != len(sum.Tables)-1 {
		t.Errorf("%d failed, %d not started of %d tables; want 1 failed, the others not started", failed, notStarted, len(sum.Tables))
	}
}

// resetClock is a rate-limit clock on which a window resets when reset is
// closed (or, so that a broken test ends, after a few seconds).
type resetClock struct {
	reset chan struct{}
	after atomic.Bool
}

func (c *resetClock) Now() time.Time {
	if c.after.Load() {
		return t0.Add(2 * time.Hour)
	}
	return t0
}

func (c *resetClock) Sleep(ctx context.Context, _ time.Duration) error {
	select {
	case <-c.reset:
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	c.after.Store(true)
	return nil
}

// windowSpent sends the requests of one table through a bucket whose window
// is spent until clock resets, and notes in order when other tables' requests
// went and when the waiting table's went on.
type windowSpent struct {
	runtime.Fetcher
	table  string
	bucket *ratelimit.Bucket
	clock  *resetClock
	once   sync.Once
	mu     sync.Mutex
	order  []string
}

func (f *windowSpent) Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error) {
	if table == f.table {
		if _, err := f.bucket.Acquire(ctx); err != nil {
			return nil, err
		}
		f.bucket.Done(ratelimit.Observation{})
		f.note(table + " after the reset")
	} else {
		f.note(table)
		f.once.Do(func() { close(f.clock.reset) })
	}
	return f.Fetcher.Get(ctx, table, bucket, url)
}

func (f *windowSpent) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.order) == 0 || f.order[len(f.order)-1] != s {
		f.order = append(f.order, s)
	}
}

// TestWaitingTableLendsItsSlot: a table whose requests wait for a rate-limit
// window to reset gives its slot to the next table, which runs meanwhile
// (here, with one slot, it would otherwise wait behind it), and both end
// complete.
func TestWaitingTableLendsItsSlot(t *testing.T) {
	h := newHarness(t)
	h.eng.Parallel = 1
	h.eng.Select = func(n string) bool { return n == "items" || n == "events" }
	clock := &resetClock{reset: make(chan struct{})}
	b := ratelimit.NewBucket(ratelimit.BucketConfig{Clock: clock, Unpaced: true})
	b.Block(t0.Add(time.Hour))
	f := &windowSpent{Fetcher: h.eng.Fetcher, table: "items", bucket: b, clock: clock}
	h.eng.Fetcher = f
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	// After the reset both tables run, their requests interleaved.
	if want := []string{"events", "items after the reset"}; len(f.order) < 2 || !slices.Equal(f.order[:2], want) {
		t.Errorf("requests went in the order %q, want %q first", f.order, want)
	}
	if got := len(h.table("items")); got != 5 {
		t.Errorf("items has %d rows, want 5", got)
	}
	if got := len(h.table("events")); got != 4 {
		t.Errorf("events has %d rows, want 4", got)
	}
	for _, r := range sum.Tables {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Table, r.Err)
		}
	}
}
