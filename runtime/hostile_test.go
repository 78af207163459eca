package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// A hostile server: each page is whatever a test says, bad records and
// loops included. things is an incremental table with a breakout child.

var (
	things = &runtime.Table{
		Name:        "things",
		Request:     &runtime.Request{Path: "/things", Bucket: "default"},
		Pagination:  runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		Incremental: &runtime.Incremental{Kind: runtime.IncrementalFilter, CursorField: "updated", Param: "since", Template: "{cursor}", Lookback: time.Minute},
		Deletes:     runtime.Deletes{Kind: runtime.DeletesNone},
		PrimaryKey:  []string{"id"},
		Columns:     []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}, {Name: "name", Type: runtime.TypeString, Source: "name"}},
	}
	thingTags = &runtime.Table{
		Name: "thing_tags", ParentKey: []string{"thing_id"}, PrimaryKey: []string{"thing_id", "tag"},
		Columns:  []runtime.Column{{Name: "thing_id", Type: runtime.TypeString, Source: "parent.id"}, {Name: "tag", Type: runtime.TypeString, Source: "element"}},
		Breakout: &runtime.Breakout{Kind: runtime.BreakoutScalars, Path: "tags"},
	}
	thingRegistry = &runtime.Registry{Tables: []*runtime.Table{things}}
)

func init() {
	things.Children = []*runtime.Table{thingTags}
	thingTags.Parent = things
	things.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		id := e.String(rec.Get("id")).Any()
		e.Emit(things, &rowOf{[]any{id, e.String(rec.Get("name")).Any()}})
		rec.Get("tags").ForEach(func(_, v gjson.Result) bool {
			e.Emit(thingTags, &rowOf{[]any{id, e.String(v).Any()}})
			return true
		})
	}
}

// hostilePage is one answer: a body and the next link, relative to the
// server ("" for none); {n} in the link is the number of the request after
// this one.
type hostilePage struct{ body, next string }

type hostile struct {
	mu sync.Mutex
	// pages by request URI; a URI not found is looked up by its path alone.
	pages    map[string]hostilePage
	requests int
	// limit ends every listing with an empty page after this many requests,
	// so that a loop the engine does not notice still ends.
	limit int
}

func (h *hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	w.Header().Set("Content-Type", "application/json")
	if h.limit > 0 && h.requests > h.limit {
		fmt.Fprint(w, `[]`)
		return
	}
	p, ok := h.pages[r.URL.RequestURI()]
	if !ok {
		p, ok = h.pages[r.URL.Path]
	}
	if !ok {
		w.WriteHeader(404)
		fmt.Fprint(w, `{"code":"NOT_FOUND"}`)
		return
	}
	if p.next != "" {
		next := strings.ReplaceAll(p.next, "{n}", fmt.Sprint(h.requests+1))
		if strings.HasPrefix(next, "/") {
			next = "http://" + r.Host + next
		}
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	fmt.Fprint(w, p.body)
}

type hostileHarness struct {
	url string
	srv *hostile
	db  *memory.DB
	eng *runtime.Engine
	now time.Time
}

func newHostile(t *testing.T, pages map[string]hostilePage) *hostileHarness {
	h := &hostileHarness{srv: &hostile{pages: pages}, db: memory.New(), now: t0}
	srv := httptest.NewServer(h.srv)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	src := &runtime.SourceInfo{AuthHeader: "Authorization", AuthScheme: "Bearer", ErrorCodePath: "code"}
	cfg := src.FetchConfig(srv.URL, "s3cret-token")
	cfg.RetryBase = time.Millisecond
	client, err := fetch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.eng = &runtime.Engine{Registry: thingRegistry, Fetcher: serverAt{client, func() time.Time { return h.now }},
		Dest: h.db, Now: func() time.Time { return h.now }, BatchRows: 1}
	return h
}

func (h *hostileHarness) live(table string) []string {
	var out []string
	for _, r := range h.db.Rows(table) {
		if !r.Deleted {
			out = append(out, fmt.Sprint(r.Values))
		}
	}
	return out
}

// TestBadRecordsSkipped: records no row can be made of (a missing or null
// key, in the table's row or a child's, a scalar or an array where an
// object belongs, a wrapped list) are skipped and counted with their page;
// the good records land, the sync is partial, and the next sync goes on
// the same way instead of failing.
func TestBadRecordsSkipped(t *testing.T) {
	h := newHostile(t, map[string]hostilePage{
		"/things": {next: "/things?page=2&token=s3cret-page", body: `[
			{"id":"a","name":"A","updated":"2026-01-15T10:00:00Z","tags":["x"]},
			{"name":"no id"},
			{"id":null,"name":"null id"},
			"a scalar",
			[{"id":"in an array"}],
			{"id":"b","tags":["x",null],"updated":"2026-01-15T11:00:00Z"},
			{"id":"c","name":"C","updated":"2026-01-15T09:00:00Z"}]`},
		"/things?page=2&token=s3cret-page": {body: `{"things":[{"id":"wrapped"}]}`},
	})
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		h.now = at
		sum, err := h.eng.Sync(context.Background())
		if !errors.Is(err, runtime.ErrPartial) || !sum.Partial() {
			t.Fatalf("sync %d: bad records must make the sync partial, got %v", i+1, err)
		}
		r := report(sum, "things")
		if r.Status != runtime.StatusOK || r.BadRecords != 6 || len(r.BadRecordSamples) != 5 {
			t.Fatalf("sync %d: things = %+v, want status ok, 6 bad records, 5 samples", i+1, r)
		}
		want := []runtime.BadRecord{
			{URL: "/things", Reason: "things.id is null"},
			{URL: "/things", Reason: "things.id is null"},
			{URL: "/things", Reason: "not a JSON object but a string"},
			{URL: "/things", Reason: "not a JSON object but an array"},
			{URL: "/things", Reason: "thing_tags.tag is null"},
		}
		for j, s := range r.BadRecordSamples {
			if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || !strings.Contains(s.URL, want[j].URL) || s.Reason != want[j].Reason {
				t.Errorf("sync %d: sample %d = %+v, want %+v", i+1, j, s, want[j])
			}
		}
		if got := h.live("things"); !slices.Equal(got, []string{"[a A]", "[c C]"}) {
			t.Errorf("sync %d: things = %q, want the good records a and c", i+1, got)
		}
		if got := h.live("thing_tags"); !slices.Equal(got, []string{"[a x]"}) {
			t.Errorf("sync %d: thing_tags = %q, want only the good record's", i+1, got)
		}
	}
	st, _ := h.db.State(context.Background())
	if c := st["things"].Cursor; c != "2026-01-15T10:00:00.000Z" {
		t.Errorf("cursor %q: a bad record's cursor value must not count", c)
	}

	// The page of a wrapped list is named without its secret.
	h = newHostile(t, map[string]hostilePage{
		"/things":                          {next: "/things?page=2&token=s3cret-page", body: `[{"id":"a"}]`},
		"/things?page=2&token=s3cret-page": {body: `{"things":[{"id":"wrapped"}]}`},
	})
	sum, _ := h.eng.Sync(context.Background())
	r := report(sum, "things")
	if len(r.BadRecordSamples) != 1 || r.BadRecordSamples[0].Reason != "things.id is null" ||
		!strings.Contains(r.BadRecordSamples[0].URL, "page=2&token=REDACTED") || strings.Contains(fmt.Sprint(r), "s3cret") {
		t.Errorf("wrapped list: %+v", r)
	}
}

// TestListingLoops: a listing whose next link leads back to a page of the
// pass, or whose pages keep returning records already read, fails the
// table with an error that names the table and the page, after a handful
// of requests; no batch holding the loop's pages is committed, so no resume
// point is saved inside it. A listing that merely repeats a few records
// goes through.
func TestListingLoops(t *testing.T) {
	ab := `[{"id":"a","updated":"2026-01-15T10:00:00Z"},{"id":"b","updated":"2026-01-15T10:00:00Z"}]`
	for _, tc := range []struct {
		name  string
		pages map[string]hostilePage
		// want is in the error; pending is the resume point the sync leaves
		// ("" for none); commits is how many batches are committed.
		want, pending string
		commits       int
	}{
		{name: "self link", pages: map[string]hostilePage{"/things": {body: ab, next: "/things"}},
			want: "things: listing loops: the page http://127.0.0.1:PORT/things was already read in this pass"},
		{name: "two-page cycle", pages: map[string]hostilePage{
			"/things":                {body: ab, next: "/things?p=2&key=s3cret"},
			"/things?p=2&key=s3cret": {body: `[{"id":"c"}]`, next: "/things?p=3"},
			"/things?p=3":            {body: `[{"id":"d"}]`, next: "/things?p=2&key=s3cret"}},
			// The first two pages brought new records and were committed.
			want: "things: listing loops: the page http://127.0.0.1:PORT/things?p=2&key=REDACTED was already read in this pass", pending: "/things?p=3", commits: 2},
		{name: "same records, new links", pages: map[string]hostilePage{"/things": {body: ab, next: "/things?page={n}"}},
			want: "things: listing loops: 3 pages in a row up to http://127.0.0.1:PORT/things?page=4 held only records already read in this pass", pending: "/things?page=2", commits: 1},
	} {
		h := newHostile(t, tc.pages)
		h.srv.limit = 20 // ends the loop if the engine does not
		var committed []*runtime.Batch
		h.db.FailCommit = func(b *runtime.Batch) error {
			committed = append(committed, b)
			return nil
		}
		sum, err := h.eng.Sync(context.Background())
		r := report(sum, "things")
		port := strings.TrimPrefix(h.url, "http://127.0.0.1:")
		want := strings.ReplaceAll(tc.want, "PORT", port)
		if err == nil || r.Status != runtime.StatusFailed || !errors.Is(r.Err, runtime.ErrLoop) || r.Reason != want {
			t.Errorf("%s: things = %+v, want failed with %q", tc.name, r, want)
		}
		if strings.Contains(r.Reason, "s3cret") {
			t.Errorf("%s: a secret in the error: %s", tc.name, r.Reason)
		}
		h.srv.mu.Lock()
		requests := h.srv.requests
		h.srv.mu.Unlock()
		// loopPages+1 pages read, up to two fetched ahead
		if requests > 6 {
			t.Errorf("%s: %d requests before the loop was noticed", tc.name, requests)
		}
		if len(committed) != tc.commits {
			t.Errorf("%s: %d batches committed, want %d", tc.name, len(committed), tc.commits)
		}
		st, _ := h.db.State(context.Background())
		got := ""
		if p := st["things"].Pending; p != nil {
			got = strings.TrimPrefix(p.URL, "http://127.0.0.1:"+port)
		}
		if got != tc.pending || st["things"].Cursor != "" {
			t.Errorf("%s: resume point %q (state %+v), want %q", tc.name, got, st["things"], tc.pending)
		}
	}

	// A record read again, even a whole page or two of them, is no loop.
	h := newHostile(t, map[string]hostilePage{
		"/things":     {body: ab, next: "/things?p=2"},
		"/things?p=2": {body: `[{"id":"a"}]`, next: "/things?p=3"},
		"/things?p=3": {body: ab, next: "/things?p=4"},
		"/things?p=4": {body: `[{"id":"b"},{"id":"c"}]`},
	})
	if _, err := h.eng.Sync(context.Background()); err != nil {
		t.Fatalf("records read again: %v", err)
	}
	if got := h.live("things"); !slices.Equal(got, []string{"[a <nil>]", "[b <nil>]", "[c <nil>]"}) {
		t.Errorf("records read again: things = %q", got)
	}
}

// TestHostileNextLinksAreNotSaved: a next link that carries the token the
// server was sent, or that no request may follow (another scheme), fails
// the table before it is saved as the resume point: state never holds a
// credential or a link the client refuses.
func TestHostileNextLinksAreNotSaved(t *testing.T) {
	for _, next := range []string{"/things?page=2&echo=s3cret-token", "javascript:alert(1)", "file:///etc/passwd"} {
		h := newHostile(t, map[string]hostilePage{
			"/things": {body: `[{"id":"a","updated":"2026-01-15T10:00:00Z"}]`, next: next},
		})
		sum, _ := h.eng.Sync(context.Background())
		r := report(sum, "things")
		if r.Status != runtime.StatusFailed || !errors.Is(r.Err, fetch.ErrForeignURL) {
			t.Errorf("next %q: things = %s %v, want failed with fetch.ErrForeignURL", next, r.Status, r.Err)
		}
		if strings.Contains(r.Reason, "s3cret-token") {
			t.Errorf("next %q: the token is in the error: %s", next, r.Reason)
		}
		st, _ := h.db.State(context.Background())
		if js := fmt.Sprintf("%+v", st["things"]); strings.Contains(js, "s3cret-token") || strings.Contains(js, "passwd") || strings.Contains(js, "javascript") {
			t.Errorf("next %q: saved in state: %s", next, js)
		}
	}
}

// TestFanOutListingLoops: a parent's listing whose next link leads back to
// one of its pages fails the table after a few requests instead of reading
// the same page for ever.
func TestFanOutListingLoops(t *testing.T) {
	parts := &runtime.Table{
		Name:       "thing_parts",
		Request:    &runtime.Request{Path: "/things/{parent.id}/parts", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next"},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesNone},
		FanOut:     &runtime.FanOut{Parent: "things", Fields: []string{"id"}},
		ParentKey:  []string{"thing_id"},
		PrimaryKey: []string{"thing_id", "part"},
		Columns:    []runtime.Column{{Name: "thing_id", Type: runtime.TypeString, Source: "parent.id"}, {Name: "part", Type: runtime.TypeString, Source: "part"}},
	}
	parts.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		e.Emit(parts, &rowOf{[]any{e.String(parent.Get("id")).Any(), e.String(rec.Get("part")).Any()}})
	}
	h := newHostile(t, map[string]hostilePage{
		"/things":             {body: `[{"id":"a"},{"id":"b"}]`},
		"/things/a/parts":     {body: `[{"part":"p1"}]`},
		"/things/b/parts":     {body: `[{"part":"p1"}]`, next: "/things/b/parts?p=2"},
		"/things/b/parts?p=2": {body: `[{"part":"p2"}]`, next: "/things/b/parts"},
	})
	h.srv.limit = 40 // ends the loop if the engine does not
	h.eng.Registry = &runtime.Registry{Tables: []*runtime.Table{things, parts}}
	h.eng.Select = func(name string) bool { return name == "thing_parts" }
	sum, _ := h.eng.Sync(context.Background())
	r := report(sum, "thing_parts")
	if r.Status != runtime.StatusFailed || !errors.Is(r.Err, runtime.ErrLoop) {
		t.Fatalf("thing_parts = %s %v, want failed with runtime.ErrLoop", r.Status, r.Err)
	}
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	if h.srv.requests > 8 {
		t.Errorf("%d requests before the loop was noticed", h.srv.requests)
	}
}
