package bench

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"oktasync/generated/okta"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
)

// TestMain lets the test binary stand in for oktabench as the child of the
// memory runs.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ChildCommand {
		if err := Child(context.Background(), os.Args[2:], os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestFiguresLine(t *testing.T) {
	f := Figures{ThroughputRowsS: 123456.7, CeilingFraction: 0.61234, RatelimitedVsBound: 1.0567,
		RSSMB100k: 180.04, RSSMB1m: 201.96, IncrementalRequestFraction: 0.012345, HistoryVsPlain: 0.9123, HashedVsPlain: 0.98765,
		LogNewestDayS: 1.2345, LogFullS: 45.678, RawJSONVsPlain: 0.6543, RawJSONMBPer1m: 1507.6,
		RatelimitedVsStrictBound: 1.0234, IncrementalWallS: 3.456, IncrementalVsStrictBound: 1.0789, ModelsVsDemoSync: 0.07654,
		PostgresRowsS: 20000.4, PostgresCeilingFraction: 0.65432, PostgresRSSMB1m: 190.04}
	want := "BENCH throughput_rows_s=123457 ceiling_fraction=0.612 ratelimited_vs_bound=1.057 rss_mb_100k=180.0 rss_mb_1m=202.0 incremental_request_fraction=0.0123 history_vs_plain=0.912 hashed_vs_plain=0.988 log_newest_day_s=1.23 log_full_s=45.68 rawjson_vs_plain=0.654 rawjson_mb_per_1m=1508 ratelimited_vs_strict_bound=1.023 incremental_wall_s=3.46 incremental_vs_strict_bound=1.079 models_vs_demo_sync=0.077 postgres_rows_s=20000 postgres_ceiling_fraction=0.654 postgres_rss_mb_1m=190.0"
	if got := f.Line(); got != want {
		t.Errorf("Line() =\n%s\nwant\n%s", got, want)
	}
	f.RSSMB1m, f.CeilingFraction = math.NaN(), math.Inf(1)
	got := f.Line()
	if !strings.Contains(got, " rss_mb_1m=n/a ") || !strings.Contains(got, " ceiling_fraction=n/a ") {
		t.Errorf("unmeasured figures should read n/a: %s", got)
	}
}

func TestCeilingFraction(t *testing.T) {
	if got := CeilingFraction(60, 300, 100, 200); got != 0.6 {
		t.Errorf("CeilingFraction(60; 300, 100, 200) = %v, want 0.6 (60 / the smallest, 100)", got)
	}
	// A ceiling that was not measured (NaN, 0) does not count.
	if got := CeilingFraction(50, math.NaN(), 0, 200); got != 0.25 {
		t.Errorf("CeilingFraction ignoring unmeasured = %v, want 0.25", got)
	}
	if got := CeilingFraction(50); !math.IsNaN(got) {
		t.Errorf("CeilingFraction without ceilings = %v, want NaN", got)
	}
}

func TestBound(t *testing.T) {
	loads := []BucketLoad{
		{Bucket: "users", Requests: 600, Limit: 600}, // 1 minute
		{Bucket: "apps", Requests: 250, Limit: 100},  // 2.5 minutes: binds
		{Bucket: "logs", Requests: 0, Limit: 120},
		{Bucket: "default", Requests: 1200, Limit: 1200},
	}
	d, b := Bound(loads, 1)
	if d != 150*time.Second || b != "apps" {
		t.Errorf("Bound = %v (%s), want 2m30s (apps)", d, b)
	}
	// Under a time scale the same minutes pass that much faster.
	if d, _ := Bound(loads, 60); d != 2500*time.Millisecond {
		t.Errorf("Bound at scale 60 = %v, want 2.5s", d)
	}
	if d, b := Bound([]BucketLoad{{Bucket: "x", Limit: 10}}, 1); d != 0 || b != "" {
		t.Errorf("Bound without requests = %v (%q), want 0", d, b)
	}
}

func TestWorkBound(t *testing.T) {
	loads := []BucketLoad{
		{Bucket: "users", Requests: 720, Limit: 600}, // 1.2 windows: 1 whole, 120 of its 720 requests after
		{Bucket: "apps", Requests: 250, Limit: 100},  // 2.5 windows: 2 whole, 50 of 250 after
		{Bucket: "logs", Requests: 0, Limit: 120},
	}
	base := 10 * time.Second
	d, b := WorkBound(loads, 60, base)
	// apps: 2 windows of a second at scale 60, then a fifth of the 10 s.
	if d != 4*time.Second || b != "apps" {
		t.Errorf("WorkBound = %v (%s), want 4s (apps)", d, b)
	}
	// Less than a window of every bucket: the unlimited sync's time.
	if d, _ := WorkBound([]BucketLoad{{Bucket: "users", Requests: 30, Limit: 600}}, 60, base); d != base {
		t.Errorf("WorkBound within one window = %v, want the unlimited %v", d, base)
	}
	// A whole number of windows: the last is a full window's work.
	if d, _ := WorkBound([]BucketLoad{{Bucket: "users", Requests: 1200, Limit: 600}}, 60, base); d != time.Second+base/2 {
		t.Errorf("WorkBound of 2 full windows = %v, want 1 window + half the work", d)
	}
}

func TestWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	// Windows of 100ms: [0,100) holds 3 requests, the one at 130 opens the
	// second 30ms after the first ended, [130,230) holds 2, 400 opens a third
	// 170ms late, [400,500) holds 4, 510 opens the last 10ms late.
	got := Windows(at(0, 10, 99, 130, 200, 400, 410, 420, 430, 510), 100*time.Millisecond)
	want := WindowStats{Windows: 4, First: 3, PerWindow: 3, Gap: 70 * time.Millisecond}
	if got != want {
		t.Errorf("Windows = %+v, want %+v", got, want)
	}
	if got := Windows(at(0, 50), 100*time.Millisecond); got != (WindowStats{Windows: 1, First: 2}) {
		t.Errorf("one window: %+v", got)
	}
}

func TestShape(t *testing.T) {
	for _, c := range [][2]string{
		{"/api/v1/groups/{parent.id}/users", "/api/v1/groups/*/users"},
		{"/api/v1/groups/{id}/users", "/api/v1/groups/*/users"},
		{"/api/v1/logs", "/api/v1/logs"},
		{"/api/v1/iam/resource-sets/{parent.id}/resources", "/api/v1/iam/resource-sets/*/resources"},
	} {
		if got := shape(c[0]); got != c[1] {
			t.Errorf("shape(%s) = %s, want %s", c[0], got, c[1])
		}
	}
}

func TestBucketOf(t *testing.T) {
	shapes, err := bucketsByShape()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/api/v1/groups":                       "groups",
		"/api/v1/groups/00g1abc/users":         "groups",
		"/api/v1/groups/rules":                 "groups",
		"/api/v1/apps/0oa1/users":              "apps",
		"/api/v1/users/00u1/factors":           "default",
		"/api/v1/logs":                         "logs",
		"/api/v1/iam/roles/cr0abc/permissions": "default",
		"/api/v1/nothing/here":                 "",
	} {
		if got := bucketOf(shapes, path); got != want {
			t.Errorf("bucketOf(%s) = %q, want %q", path, got, want)
		}
	}
}

func TestPerBucket(t *testing.T) {
	got, err := perBucket(map[string]int64{
		"GET /api/v1/users":               5,
		"GET /api/v1/groups":              1,
		"GET /api/v1/groups/{id}/users":   40,
		"GET /api/v1/apps/{id}/users":     7,
		"GET /api/v1/users/{id}/factors":  3,
		"GET /api/v1/something/unspecced": 2, // no spec lists it: where the simulator charges it
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"users": 5, "groups": 41, "apps": 7, "default": 3 + 2}
	if len(got) != len(want) {
		t.Errorf("perBucket = %v, want %v", got, want)
	}
	for b, n := range want {
		if got[b] != n {
			t.Errorf("bucket %s: %d requests, want %d", b, got[b], n)
		}
	}
}

// TestBucketsAgreeWithSimulator checks the premise of the bound: each request
// of the specs counts against the bucket the simulator charges it to. Every
// bucket gets a limit of its own, and the limit the simulator announces for
// a request names the bucket it charged.
func TestBucketsAgreeWithSimulator(t *testing.T) {
	limits := map[string]int{}
	byLimit := map[string]string{}
	i := 0
	for _, name := range sortedKeys(oktasim.Buckets()) {
		limits[name] = 5000 + i
		byLimit[strconv.Itoa(5000+i)] = name
		i++
	}
	s, err := startSim(oktasim.Config{Seed: 1, Users: 5, RateLimits: oktasim.RateLimitsOkta, BucketLimits: limits,
		Tokens: map[string]string{token: oktasim.RoleSuperAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range requests() {
		path := strings.NewReplacer("{parent.id}", "00u1example", "{parent.type}", "PASSWORD").Replace(r.Path)
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		req.Header.Set("Authorization", "SSWS "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := byLimit[resp.Header.Get("X-Rate-Limit-Limit")]
		if got != r.Bucket {
			t.Errorf("GET %s: the simulator charges bucket %q, the spec says %q", r.Path, got, r.Bucket)
		}
	}
	if _, err := bucketsByShape(); err != nil {
		t.Error(err)
	}
}

func TestPlaceholders(t *testing.T) {
	req := &runtime.Request{Path: "/api/v1/apps/{parent.id}/users", Params: []runtime.Param{{Name: "limit", Value: "500"}}}
	f, ok := placeholders(req, "http://127.0.0.1:9/api/v1/apps/0oa%2Fx/users?limit=500&after=abc")
	if !ok || f["id"] != "0oa/x" {
		t.Errorf("placeholders = %v, %v; want id 0oa/x", f, ok)
	}
	if _, ok := placeholders(req, "/api/v1/apps?limit=20"); ok {
		t.Error("the parent listing /api/v1/apps matched the child request")
	}
	pol := &runtime.Request{Path: "/api/v1/policies", Params: []runtime.Param{{Name: "type", Value: "{parent.type}"}}}
	f, ok = placeholders(pol, "/api/v1/policies?type=MFA_ENROLL")
	if !ok || f["type"] != "MFA_ENROLL" {
		t.Errorf("placeholders in params = %v, %v; want type MFA_ENROLL", f, ok)
	}
	if p := parentRecord(f); p.Get("type").String() != "MFA_ENROLL" {
		t.Errorf("parentRecord = %s", p.Raw)
	}
}

// TestParentFromURL checks the premise of rebuilding fan-out parents from
// URLs: every parent value an extractor reads is a field the URL carries.
func TestParentFromURL(t *testing.T) {
	for _, tab := range okta.Registry.Tables {
		if tab.FanOut == nil {
			continue
		}
		for _, c := range tab.Columns {
			if f, ok := strings.CutPrefix(c.Source, "parent."); ok && !slices.Contains(tab.FanOut.Fields, f) {
				t.Errorf("%s.%s reads parent field %s, which its URL does not carry (fields %v)", tab.Name, c.Name, f, tab.FanOut.Fields)
			}
		}
	}
}

func TestChurnFor(t *testing.T) {
	c := ChurnFor(Org{Users: 100_000, Groups: 4_000, Devices: 50_000, Logs: 1_000_000})
	users := c.NewUsers + c.UpdatedUsers + c.DeactivatedUsers + c.DeletedUsers
	groups := c.NewGroups + c.UpdatedGroups + c.DeletedGroups
	if users != 1000 || groups != 40 || c.DeviceUpdates != 500 || c.LogEvents != 10_000 || c.MembershipAdds != 1000 {
		t.Errorf("1%% churn of 100k users: users %d, groups %d, devices %d, log events %d, membership adds %d",
			users, groups, c.DeviceUpdates, c.LogEvents, c.MembershipAdds)
	}
	// A tiny org still changes.
	c = ChurnFor(Org{Users: 10, Groups: 2, Devices: 1, Logs: 5})
	if c.UpdatedUsers < 1 || c.UpdatedGroups < 1 || c.LogEvents < 1 {
		t.Errorf("churn of a tiny org changes nothing: %+v", c)
	}
}

func TestRowsLost(t *testing.T) {
	r := &RateRun{
		Rows:        map[string]int64{"users": 10, "groups": 5, "logs": 7},
		RowsLimited: map[string]int64{"users": 10, "groups": 3, "extra": 1},
	}
	// groups short by 2, logs missing (7), extra unexpected (1).
	if got := r.RowsLost(); got != 10 {
		t.Errorf("RowsLost = %d, want 10", got)
	}
}

func TestSettings(t *testing.T) {
	m, err := ParseSettings(" threads=2, checkpoint_threshold=1GB ")
	if err != nil {
		t.Fatal(err)
	}
	if m["threads"] != "2" || m["checkpoint_threshold"] != "1GB" || len(m) != 2 {
		t.Errorf("ParseSettings = %v", m)
	}
	if got := FormatSettings(m); got != "checkpoint_threshold=1GB,threads=2" {
		t.Errorf("FormatSettings = %s", got)
	}
	if _, err := ParseSettings("threads"); err == nil {
		t.Error("ParseSettings accepted a setting without a value")
	}
	if m, err := ParseSettings(""); err != nil || m != nil {
		t.Errorf("ParseSettings(\"\") = %v, %v; want none", m, err)
	}
}

// TestRunSmallOrg runs every section on a tiny org and checks what the
// figures rest on, not how fast anything is: the ceilings cover exactly the
// sync's rows and requests, the rate-limited sync loses no rows and the
// incremental sync asks for less than the full one.
func TestRunSmallOrg(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs several orgs")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults(true)
	cfg.Org = Org{Seed: 3, Users: 300, Groups: 20, Apps: 3, Devices: 100, Logs: 2_000}
	cfg.RateOrg = Org{Seed: 3, Users: 100, Groups: 300, Apps: 2, Devices: 50, Logs: 500}
	cfg.RSSLogs = [2]int{200, 2_000}
	cfg.Demo.Users, cfg.Demo.Groups, cfg.Demo.Apps, cfg.Demo.Devices, cfg.Demo.Logs = 100, 10, 5, 10, 1_000
	cfg.RateWindows = []float64{1.67} // one size: make bench runs them all
	cfg.MinWindow = 200 * time.Millisecond
	cfg.Self, cfg.Dir = self, t.TempDir()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp := res.Throughput
	if tp.Rows() == 0 || res.Ceilings.Rows != tp.Rows() {
		t.Errorf("extract-only made %d rows, the sync %d", res.Ceilings.Rows, tp.Rows())
		for _, rep := range tp.Summary.Tables {
			if st := res.Ceilings.PerTable[rep.Table]; st != nil && st.Rows != tableRows(rep) {
				t.Errorf("%s: extract-only %d rows, the sync %d", rep.Table, st.Rows, tableRows(rep))
			}
		}
	}
	// The simulator also answered the connector's probe of the org
	// (connector.ProbePath), which belongs to no table.
	if int64(res.Ceilings.Requests) != tp.Requests() || tp.Requests()+1 != tp.Server.Requests {
		t.Errorf("requests: recorded %d, engine %d, simulator %d", res.Ceilings.Requests, tp.Requests(), tp.Server.Requests)
	}
	for _, name := range cfg.Exclude {
		if slices.ContainsFunc(tp.Summary.Tables, func(r runtime.TableReport) bool { return r.Table == name }) {
			t.Errorf("excluded table %s was synced", name)
		}
	}
	rl := res.Rate
	if rl.RowsLost() != 0 || len(rl.Rows) == 0 {
		t.Errorf("rate-limited sync lost %d rows (tables %d)", rl.RowsLost(), len(rl.Rows))
	}
	if rl.Binding != "groups" || rl.Bound <= 0 {
		t.Errorf("bound %v set by %q, want groups (two requests per group)", rl.Bound, rl.Binding)
	}
	if rl.Requests-rl.Served429 != rl.BaseRequests {
		t.Errorf("limited sync made %d requests besides 429s, unlimited %d", rl.Requests-rl.Served429, rl.BaseRequests)
	}
	if len(res.RateSizes) != len(cfg.RateWindows) {
		t.Errorf("%d orgs synced by size under limits, want %d", len(res.RateSizes), len(cfg.RateWindows))
	}
	for i, r := range res.RateSizes {
		if got, want := r.Windows(), cfg.RateWindows[i]; r.RowsLost() != 0 || r.Strict <= 0 || got < want*0.9 || got > want*1.1 {
			t.Errorf("org of %.2f windows: needs %.2f windows, strict bound %v, %d rows lost", want, got, r.Strict, r.RowsLost())
		}
	}
	if inc := rl.Inc; inc == nil || inc.Served429 != 0 || inc.Strict <= 0 || inc.Requests == 0 || inc.Requests >= rl.BaseRequests {
		t.Errorf("rate-limited incremental: %+v", inc)
	}
	if len(res.RSS) != 2 || res.RSS[0].MaxMB <= 0 || res.RSS[1].Rows <= res.RSS[0].Rows {
		t.Errorf("memory runs: %+v", res.RSS)
	}
	for _, m := range res.RSS {
		if m.SampleMB <= 0 || m.SampleMB > m.MaxMB*1.02 || m.GoMB <= 0 || m.DuckDBPoolMB <= 0 { // the kernel syncs RSS counters lazily
			t.Errorf("memory run of %d events: sample of %.1f MB (Go %.1f, DuckDB pool %.1f) against a peak of %.1f MB", m.Logs, m.SampleMB, m.GoMB, m.DuckDBPoolMB, m.MaxMB)
		}
	}
	inc := res.Incremental
	if inc.Full != tp.Server.Requests || inc.Incremental <= 0 || inc.Incremental >= inc.Full {
		t.Errorf("incremental requests %d of full %d", inc.Incremental, inc.Full)
	}
	if inc.IncByTable["users"] != 1 {
		t.Errorf("incremental users took %d requests, want 1 (only changed users)", inc.IncByTable["users"])
	}
	// Every bench sync blocks the raw event but the settings section's
	// raw_json pass, which keeps it and so makes the bigger file.
	st := res.Settings
	if st == nil || st.RawJSON == nil || st.RawJSONBytes <= st.PlainBytes || !(st.RawJSONMBPerMillion() > 0) {
		t.Errorf("settings: raw_json pass %+v", st)
	}
	for _, c := range []struct {
		db   string
		want bool
	}{{"throughput.duckdb", false}, {"settings-plain.duckdb", false}, {"settings-raw_json.duckdb", true}} {
		db, err := duckdb.Open(filepath.Join(cfg.Dir, c.db), duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = db.SQL().QueryRow(`SELECT count(*) FROM information_schema.columns WHERE table_name = 'system_log' AND column_name = 'raw_json'`).Scan(&n)
		db.Close()
		if err != nil || (n == 1) != c.want {
			t.Errorf("%s: system_log has raw_json: %v, want %v (%v)", c.db, n == 1, c.want, err)
		}
	}
	if m := res.Models; m == nil || len(m.Builds) != 2 || m.DemoWall <= 0 || !(m.Ratio() > 0) || len(m.Best.Outcomes) == 0 {
		t.Errorf("models: %+v", m)
	}
	var b strings.Builder
	res.Write(&b)
	last := strings.TrimSpace(b.String())
	last = last[strings.LastIndex(last, "\n")+1:]
	if !strings.HasPrefix(last, "BENCH throughput_rows_s=") || strings.Contains(last, "n/a") {
		t.Errorf("last line of the report: %s", last)
	}
}
