package runtime_test

import (
	"context"
	"fmt"
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

// pagesFetcher answers GETs from a map of URL to body, with no network; a
// body may be changed between syncs.
type pagesFetcher struct {
	mu    sync.Mutex
	pages map[string]string
	links map[string]string // URL -> next URL
}

func (f *pagesFetcher) Get(_ context.Context, _, _, url string) (*fetch.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, ok := f.pages[url]
	if !ok {
		return nil, fmt.Errorf("GET %s: %w", url, fetch.ErrNotFound)
	}
	p := &fetch.Page{URL: url, Status: 200, Body: []byte(body)}
	if next := f.links[url]; next != "" {
		p.Links = map[string]string{"next": next}
	}
	return p, nil
}

func (f *pagesFetcher) set(url, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages[url] = body
}

// TestSweepWithAFixedClock: a sync whose clock reads the same time as the
// previous one (a fixed or skewed clock) still writes later than it, so its
// full pass's sweep marks the rows it did not see, and an object whose key
// changed is never live twice.
func TestSweepWithAFixedClock(t *testing.T) {
	links := &runtime.Table{
		Name:       "links",
		Request:    &runtime.Request{Path: "/links", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		PrimaryKey: []string{"href"},
		Columns:    []runtime.Column{{Name: "href", Type: runtime.TypeString, Source: "href"}},
	}
	links.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		e.Emit(links, &rowOf{[]any{e.String(rec.Get("href")).Any()}})
	}
	f := &pagesFetcher{pages: map[string]string{"/links": `[{"href":"http://127.0.0.1:4001/a"}]`}}
	db := memory.New()
	clock := t0
	eng := &runtime.Engine{Registry: &runtime.Registry{Tables: []*runtime.Table{links}}, Fetcher: f, Dest: db,
		Now: func() time.Time { return clock }}
	live := func() []string {
		var out []string
		for _, r := range db.Rows("links") {
			if !r.Deleted {
				out = append(out, r.Values[0].(string))
			}
		}
		return out
	}
	if _, err := eng.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The same object, under a key that changed (a new port in its href),
	// read by syncs whose clock stands still, then goes back.
	for i, c := range []time.Time{t0, t0, t0.Add(-time.Hour)} {
		href := fmt.Sprintf("http://127.0.0.1:%d/a", 4002+i)
		f.set("/links", `[{"href":"`+href+`"}]`)
		clock = c
		if _, err := eng.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := live(); !slices.Equal(got, []string{href}) {
			t.Fatalf("sync %d at %s: live rows %q, want only %q", i+2, c.Format(time.RFC3339), got, href)
		}
	}
	st, err := db.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last := st["links"].LastSynced; !last.After(t0) || last.After(t0.Add(time.Millisecond)) {
		t.Errorf("last synced = %s, want just after %s", last.Format(time.RFC3339Nano), t0.Format(time.RFC3339Nano))
	}
	for _, r := range db.Rows("links") {
		if strings.HasSuffix(r.Values[0].(string), ":4001/a") && !r.Synced.Equal(t0) {
			t.Errorf("the first sync's row was written at %s, want %s", r.Synced, t0)
		}
	}
}
