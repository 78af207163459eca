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

// A polling log like Okta's System Log: a polling listing (no until) runs
// in persistence order from since (on persistence time) and never ends; a
// bounded listing (since and until) runs on published time, newest first
// with order=desc, and ends.

type logEvent struct {
	id                 string
	published, persist time.Time
}

type logAPI struct {
	mu     sync.Mutex
	events []logEvent // in persistence order
	now    time.Time
}

const logPage = 3

// clock is the server's time; later moves it on and adds events. The
// engine reads the clock from its goroutines while the test changes it.
func (a *logAPI) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *logAPI) later(now time.Time, events ...logEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = now
	a.events = append(a.events, events...)
}

func (a *logAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := r.URL.Query()
	var seen []logEvent
	for _, e := range a.events {
		if !e.persist.After(a.now) {
			seen = append(seen, e)
		}
	}
	at := func(name string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, q.Get(name))
		if err != nil {
			http.Error(w, "bad "+name, http.StatusBadRequest)
		}
		return t
	}
	var page []logEvent
	next := ""
	if q.Get("until") == "" {
		pos := 0
		if s := q.Get("after"); s != "" {
			pos, _ = strconv.Atoi(s)
		} else {
			since := at("since")
			pos = sort.Search(len(seen), func(i int) bool { return !seen[i].persist.Before(since) })
		}
		end := min(len(seen), pos+logPage)
		page = seen[pos:end]
		next = "/log?after=" + strconv.Itoa(end)
	} else {
		if q.Get("order") != "desc" {
			http.Error(w, "want order=desc", http.StatusBadRequest)
			return
		}
		since, until := at("since"), at("until")
		var in []logEvent
		for _, e := range seen {
			if !e.published.Before(since) && e.published.Before(until) {
				in = append(in, e)
			}
		}
		sort.Slice(in, func(i, j int) bool { return in[i].published.After(in[j].published) })
		pos := 0
		if s := q.Get("after"); s != "" {
			pos, _ = strconv.Atoi(s)
		}
		end := min(len(in), pos+logPage)
		page = in[pos:end]
		if end < len(in) {
			v := q
			v.Set("after", strconv.Itoa(end))
			next = "/log?" + v.Encode()
		}
	}
	if next != "" {
		w.Header().Add("Link", "<"+next+`>; rel="next"`)
	}
	var b strings.Builder
	b.WriteString("[")
	for i, e := range page {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%q,"published":%q}`, e.id, e.published.Format(time.RFC3339Nano))
	}
	b.WriteString("]")
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(b.String()))
}

var logTable = &runtime.Table{
	Name:       "log",
	Request:    &runtime.Request{Path: "/log", Params: []runtime.Param{{Name: "order", Value: "asc"}}, Bucket: "default"},
	Pagination: runtime.Pagination{Kind: runtime.PaginationLinkHeader, Rel: "next", Poll: true},
	Incremental: &runtime.Incremental{Kind: runtime.IncrementalNextURL, StartParam: "since", StartLookback: 10 * 24 * time.Hour,
		Backfill: &runtime.Backfill{Newest: 24 * time.Hour, Params: []runtime.Param{
			{Name: "since", Value: "{start}"}, {Name: "until", Value: "{end}"}, {Name: "order", Value: "desc"}}}},
	Deletes:    runtime.Deletes{Kind: runtime.DeletesNone},
	PrimaryKey: []string{"id"},
	Columns: []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"},
		{Name: "published", Type: runtime.TypeTimestamp, Source: "published"}},
}

func init() {
	logTable.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		e.Emit(logTable, &rowOf{[]any{e.String(rec.Get("id")).Any(), e.Timestamp(rec.Get("published")).Any()}})
	}
}

// appendModel replays batches as a destination that takes Append batches
// at their word: their rows are added without looking for existing keys,
// and only Dedupe collapses them. It catches a run that appends a row
// already written.
type appendModel struct {
	mu   sync.Mutex
	rows []modelRow
}

type modelRow struct {
	key    string
	synced time.Time
}

func (m *appendModel) apply(b *runtime.Batch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := b.Rows[b.Table]
	if rs == nil {
		rs = &runtime.RowSet{}
	}
	for _, r := range rs.Rows {
		k := r[0].(string)
		if !b.Append {
			m.rows = slices.DeleteFunc(m.rows, func(o modelRow) bool { return o.key == k })
		}
		m.rows = append(m.rows, modelRow{k, b.Synced})
	}
	if b.Dedupe {
		since := b.Synced
		if !b.DedupeSince.IsZero() && b.DedupeSince.Before(since) {
			since = b.DedupeSince
		}
		seen := map[string]bool{}
		for i := len(m.rows) - 1; i >= 0; i-- {
			r := m.rows[i]
			if r.synced.Before(since) {
				continue
			}
			if seen[r.key] {
				m.rows = slices.Delete(m.rows, i, i+1)
			}
			seen[r.key] = true
		}
	}
}

func (m *appendModel) duplicates() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := map[string]int{}
	var dups []string
	for _, r := range m.rows {
		if n[r.key]++; n[r.key] == 2 {
			dups = append(dups, r.key)
		}
	}
	return dups
}

type logHarness struct {
	t     *testing.T
	api   *logAPI
	db    *memory.DB
	model *appendModel
	eng   *runtime.Engine
	// fail, when > 0, fails that commit (counting from 1) of the next sync,
	// as a crash before it lands would.
	fail, commits int
	// oldest is, after each commit that landed, the oldest published time
	// in the table (zero before any row).
	oldest []time.Time
	rec    *recordingFetcher
}

// recordingFetcher records the query of every page the engine received,
// in order: a request the engine gave up on (a prefetch cut short) is not
// one it read.
type recordingFetcher struct {
	serverAt
	mu   sync.Mutex
	reqs []string
}

func (f *recordingFetcher) Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error) {
	p, err := f.serverAt.Get(ctx, table, bucket, url)
	if err == nil {
		f.mu.Lock()
		_, q, _ := strings.Cut(url, "?")
		f.reqs = append(f.reqs, q)
		f.mu.Unlock()
	}
	return p, err
}

func (f *recordingFetcher) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

func newLogHarness(t *testing.T, events []logEvent, now time.Time) *logHarness {
	h := &logHarness{t: t, api: &logAPI{events: events, now: now}, db: memory.New(), model: &appendModel{}}
	srv := httptest.NewServer(h.api)
	t.Cleanup(srv.Close)
	src := &runtime.SourceInfo{AuthHeader: "Authorization", AuthScheme: "Bearer"}
	cfg := src.FetchConfig(srv.URL, "token")
	cfg.RetryBase = time.Millisecond
	client, err := fetch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	server := &recordingFetcher{serverAt: serverAt{client, h.api.clock}}
	h.rec = server
	h.db.FailCommit = func(b *runtime.Batch) error {
		if h.commits++; h.commits == h.fail {
			return errors.New("injected crash")
		}
		h.model.apply(b)
		return nil
	}
	h.eng = &runtime.Engine{Registry: &runtime.Registry{Tables: []*runtime.Table{logTable}}, Fetcher: server, Dest: h.db,
		Now: h.api.clock, BatchRows: 4, Parallel: 1,
		Progress: func(runtime.TableReport) { h.oldest = append(h.oldest, h.oldestRow()) }}
	return h
}

func (h *logHarness) oldestRow() time.Time {
	var o time.Time
	for _, r := range h.db.Rows("log") {
		if p := r.Values[1].(time.Time); o.IsZero() || p.Before(o) {
			o = p
		}
	}
	return o
}

func (h *logHarness) sync() (*runtime.Summary, error) {
	h.commits = 0
	return h.eng.Sync(context.Background())
}

// ids lists the table's ids, sorted.
func (h *logHarness) ids() []string {
	var out []string
	for _, r := range h.db.Rows("log") {
		out = append(out, r.Values[0].(string))
	}
	slices.Sort(out)
	return out
}

// logEvents makes n events over the days before now, persisted delay
// after they were published.
func logEvents(now time.Time, n int, days int, delay time.Duration) []logEvent {
	var out []logEvent
	span := time.Duration(days) * 24 * time.Hour
	for i := range n {
		p := now.Add(-span + time.Duration(i)*span/time.Duration(n))
		out = append(out, logEvent{id: fmt.Sprintf("e%03d", i), published: p, persist: p.Add(delay)})
	}
	return out
}

func wantIDs(evs []logEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.id)
	}
	slices.Sort(out)
	return out
}

// TestBackfillNewestFirst: the first sync commits the newest day before
// anything older, then the rest newest to oldest, every event once.
func TestBackfillNewestFirst(t *testing.T) {
	now := t0
	evs := logEvents(now, 40, 4, time.Second)
	h := newLogHarness(t, evs, now)
	s, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.ids(), wantIDs(evs); !slices.Equal(got, want) {
		t.Fatalf("rows:\n got %v\nwant %v", got, want)
	}
	if d := h.model.duplicates(); len(d) > 0 {
		t.Fatalf("rows appended twice: %v", d)
	}
	// The first commit holds the last day only; each later one reaches
	// further back, never forward.
	dayAgo := now.Add(-24 * time.Hour)
	if len(h.oldest) < 3 || h.oldest[0].Before(dayAgo.Add(-time.Second)) {
		t.Fatalf("oldest row after each commit %v: the first commit must hold the newest day only", h.oldest)
	}
	for i := 1; i < len(h.oldest); i++ {
		if h.oldest[i].After(h.oldest[i-1]) {
			t.Fatalf("oldest row after each commit %v: the backfill must go newest to oldest", h.oldest)
		}
	}
	rep := report(s, "log")
	if rep.NewestAt <= 0 || rep.NewestAt > rep.Duration || rep.BackfillLeft {
		t.Errorf("report: NewestAt %v of %v, BackfillLeft %v", rep.NewestAt, rep.Duration, rep.BackfillLeft)
	}
	older := 0
	for _, e := range evs {
		if e.published.Before(dayAgo) {
			older++
		}
	}
	if rep.Backfilled != int64(older) {
		t.Errorf("Backfilled = %d, want the %d events older than a day", rep.Backfilled, older)
	}
	if !strings.HasPrefix(h.rec.requests()[0], "order=asc&since=") {
		t.Errorf("first request %q: want the forward read of the newest day", h.rec.requests()[0])
	}
	// The next sync reads forward only: the backfill is done.
	h.rec.reqs = nil
	h.api.later(now.Add(time.Hour), logEvent{id: "late", published: now.Add(time.Minute), persist: now.Add(2 * time.Minute)})
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	for _, q := range h.rec.requests() {
		if strings.Contains(q, "until=") {
			t.Errorf("a second sync backfilled again: %q", q)
		}
	}
	if !slices.Contains(h.ids(), "late") {
		t.Errorf("the second sync missed the new event")
	}
}

// TestBackfillLateEvent: an event published before the forward read's
// start but persisted after it is read by both the forward read and the
// backfill; it lands once.
func TestBackfillLateEvent(t *testing.T) {
	now := t0
	evs := logEvents(now, 12, 3, time.Second)
	dayAgo := now.Add(-24 * time.Hour)
	late := logEvent{id: "late", published: dayAgo.Add(-time.Minute), persist: dayAgo.Add(time.Minute)}
	evs = append(evs, late)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].persist.Before(evs[j].persist) })
	h := newLogHarness(t, evs, now)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	if got, want := h.ids(), wantIDs(evs); !slices.Equal(got, want) {
		t.Fatalf("rows:\n got %v\nwant %v", got, want)
	}
	if d := h.model.duplicates(); len(d) > 0 {
		t.Fatalf("rows appended twice: %v", d)
	}
}

// TestBackfillResumes fails every commit of a first sync in turn, as a
// crash would, lets events arrive, and syncs again: every event lands
// once, the new ones before the rest of the backfill.
func TestBackfillResumes(t *testing.T) {
	now := t0
	evs := logEvents(now, 30, 3, time.Second)
	tried := 0
	for fail := 1; ; fail++ {
		h := newLogHarness(t, slices.Clone(evs), now)
		h.fail = fail
		_, err := h.sync()
		if h.commits < fail {
			break
		}
		if err == nil {
			t.Fatalf("fail %d: the sync must report the failed commit", fail)
		}
		tried++
		h.fail = 0
		fresh := logEvent{id: "fresh", published: now.Add(10 * time.Minute), persist: now.Add(10*time.Minute + time.Second)}
		h.api.later(now.Add(time.Hour), fresh)
		h.oldest = nil
		reqsBefore := len(h.rec.requests())
		s, err := h.sync()
		if err != nil {
			t.Fatalf("fail %d: resumed sync: %v", fail, err)
		}
		if got, want := h.ids(), wantIDs(append(slices.Clone(evs), fresh)); !slices.Equal(got, want) {
			t.Fatalf("fail %d: rows:\n got %v\nwant %v", fail, got, want)
		}
		if d := h.model.duplicates(); len(d) > 0 {
			t.Fatalf("fail %d: rows appended twice: %v", fail, d)
		}
		if rep := report(s, "log"); rep.BackfillLeft {
			t.Errorf("fail %d: the backfill is left unfinished", fail)
		}
		// The resumed sync reads forward before it goes on backfilling.
		backfilling := false
		for _, q := range h.rec.requests()[reqsBefore:] {
			bounded := strings.Contains(q, "until=")
			if backfilling && !bounded {
				t.Errorf("fail %d: a forward read after the backfill began: %q", fail, h.rec.requests()[reqsBefore:])
				break
			}
			backfilling = backfilling || bounded
		}
	}
	if tried < 5 {
		t.Errorf("only %d commit points tried", tried)
	}
}
