package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"oktasync/generated/okta"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/fetch"
)

var update = flag.Bool("update", false, "rewrite golden files")

// A small org: every table has rows, the CSVs stay readable.
var smallOrg = oktasim.Config{Seed: 7, Users: 40, Groups: 6, Apps: 5, Devices: 8, Logs: 250, LinkBaseURL: "https://acme.okta.example", Now: oktasim.DefaultNow}

type env struct {
	t   *testing.T
	sim *oktasim.Sim
	url string
	db  string
	cfg *Config
	opt SyncOptions
}

func newEnv(t *testing.T, simCfg oktasim.Config) *env {
	t.Helper()
	if simCfg.TimeScale == 0 {
		// Okta's per-minute limits, which the sync honours, pass in a second.
		simCfg.TimeScale = 60
	}
	sim, err := oktasim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	e := &env{t: t, sim: sim, url: url, db: filepath.Join(t.TempDir(), "okta.duckdb")}
	token := "demo-token"
	for tok := range simCfg.Tokens {
		token = tok
	}
	// One DuckDB thread: a test org's statements are tiny, and a second
	// thread only adds coordination (about a quarter of these tests' CPU).
	e.cfg = &Config{OrgURL: url, Token: token, TimeScale: simCfg.TimeScale,
		Destination: Destination{Path: e.db, Settings: map[string]string{"threads": "1"}}}
	e.opt = SyncOptions{
		Now: sim.Now,
		Fetch: func(c *fetch.Config) {
			c.RetryBase, c.RetryMax = time.Millisecond, 20*time.Millisecond
			c.MaxRetries = 8
		},
	}
	return e
}

func (e *env) sync() (*runtime.Summary, error) {
	e.t.Helper()
	return Sync(context.Background(), e.cfg, e.opt)
}

func (e *env) mustSync() *runtime.Summary {
	e.t.Helper()
	sum, err := e.sync()
	if err != nil {
		var b strings.Builder
		if sum != nil {
			PrintSummary(&b, sum, 0)
		}
		e.t.Fatalf("sync: %v\n%s", err, b.String())
	}
	return sum
}

// dump returns every table as CSV, ordered by key.
func (e *env) dump() map[string]string {
	e.t.Helper()
	db, err := duckdb.Open(e.db, duckdb.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	okta.Registry.Walk(func(t *runtime.Table) {
		var b bytes.Buffer
		if err := db.Dump(context.Background(), t.Name, &b); err != nil {
			e.t.Fatalf("dump %s: %v", t.Name, err)
		}
		out[t.Name] = b.String()
	})
	return out
}

// golden compares dumps with testdata/<scenario>/<table>.csv.
func golden(t *testing.T, scenario string, got map[string]string) {
	t.Helper()
	dir := filepath.Join("testdata", scenario)
	if *update {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, csv := range got {
			if err := os.WriteFile(filepath.Join(dir, name+".csv"), []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for name, csv := range got {
		want, err := os.ReadFile(filepath.Join(dir, name+".csv"))
		if err != nil {
			t.Errorf("%v (run go test ./internal/connector -update)", err)
			continue
		}
		if diff := cmp.Diff(string(want), csv); diff != "" {
			t.Errorf("%s/%s.csv mismatch (-want +got):\n%s", scenario, name, diff)
		}
	}
}

func rowsOf(csv string) int { return strings.Count(csv, "\n") - 1 }

// TestGoldenScenarios: first sync, incremental after churn, weekly re-import
// after deletes, and a sync with no changes that issues only incremental
// requests.
func TestGoldenScenarios(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.mustSync()
	golden(t, "first", e.dump())

	e.sim.Churn(oktasim.ChurnSpec{Advance: time.Hour, NewUsers: 3, UpdatedUsers: 4, DeactivatedUsers: 1,
		NewGroups: 1, UpdatedGroups: 1, MembershipAdds: 4, MembershipRemoves: 2, LogEvents: 20})
	sum := e.mustSync()
	if r := findTable(sum, "users"); r.Mode != "incremental" {
		t.Errorf("users after churn: mode %s", r.Mode)
	}
	golden(t, "incremental", e.dump())

	// A week later, with a user and a group deleted for good: the re-import
	// marks them (and their children) deleted.
	e.sim.Churn(oktasim.ChurnSpec{Advance: 8 * 24 * time.Hour, DeletedUsers: 2, DeletedGroups: 1, LogEvents: 5})
	sum = e.mustSync()
	before := sum
	if r := findTable(sum, "users"); r.Mode != "full" || !r.Deleted {
		t.Errorf("users a week later: %+v", r)
	}
	reimport := e.dump()
	if !strings.Contains(reimport["users"], ",true\n") || !strings.Contains(reimport["groups"], ",true\n") {
		t.Error("the re-import marked no user or group deleted")
	}
	golden(t, "reimport", reimport)

	// Nothing changes: the incremental tables issue one filtered request
	// each; the per-user tables list the users changed within the lookback of
	// their cursor and re-read just those. The fan-out tables read from the
	// System Log (group_member, application_user, application_group,
	// group_role, policy_rule) had their weekly full pass in the sync before;
	// now each reads one page of the log from 5 minutes before that pass,
	// which holds no event of theirs. Tables Okta offers no filter for cost
	// what they cost in the sync before.
	relistedUsers := e.count(`SELECT count(*) FROM users WHERE NOT _fivetran_deleted AND last_updated >=
		(SELECT max(last_updated) FROM users) - INTERVAL 5 MINUTE`)
	e.sim.ResetStats()
	again := e.mustSync()
	var total int
	for _, r := range again.Tables {
		total += r.Requests
		switch r.Table {
		case "users", "groups", "device", "system_log":
			if r.Requests != 1 {
				t.Errorf("%s: %d requests in a sync with no changes, want 1", r.Table, r.Requests)
			}
		case "group_member", "application_user", "application_group", "group_role", "policy_rule":
			if r.Requests != 1 || r.Mode != "incremental" {
				t.Errorf("%s: %d requests (%s) in a sync with no changes, want 1 System Log request", r.Table, r.Requests, r.Mode)
			}
		case "user_enrolled_factor", "user_authenticator_enrollment":
			if r.Requests != 1+relistedUsers {
				t.Errorf("%s: %d requests, want 1 + %d users within the lookback", r.Table, r.Requests, relistedUsers)
			}
		default:
			if f := findTable(before, r.Table); r.Requests != f.Requests {
				t.Errorf("%s: %d requests, %d in the sync before", r.Table, r.Requests, f.Requests)
			}
		}
	}
	// The probe of the org (probeOrg) belongs to no table.
	if got := e.sim.Stats().Requests; got != int64(total+1) {
		t.Errorf("the simulator counted %d requests, the sync reports %d and 1 probe", got, total)
	}
}

// count runs a query returning one number against the synced database.
func (e *env) count(query string) int {
	e.t.Helper()
	db, err := duckdb.Open(e.db, duckdb.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.SQL().QueryRow(query).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func findTable(s *runtime.Summary, name string) runtime.TableReport {
	for _, r := range s.Tables {
		if r.Table == name {
			return r
		}
	}
	return runtime.TableReport{}
}

// TestResumeAfterCrash aborts the destination's commit at each crash point
// of the writer in turn and checks the next sync ends with tables identical
// to an uninterrupted sync.
func TestResumeAfterCrash(t *testing.T) {
	stages := []string{"staged", "merged", "state", "before-commit"}
	// The reference sync counts how often each crash point is reached; the
	// syncs that crash at the k-th of them are independent of each other,
	// so they run in parallel.
	ref := newEnv(t, smallOrg)
	ref.cfg.Parallel = 1
	reached := map[string]int{}
	ref.opt.OpenDest = func(path string) (runtime.Destination, error) {
		return duckdb.Open(path, duckdb.Options{CrashPoint: func(s string) error {
			reached[s]++
			return nil
		}})
	}
	ref.mustSync()
	want := ref.dump()

	k := 1
	for ; k <= reached[stages[k%len(stages)]]; k++ {
		k, stage := k, stages[k%len(stages)]
		t.Run(fmt.Sprintf("%d-%s", k, stage), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, smallOrg)
			e.cfg.Parallel = 1
			calls := 0
			crashed := false
			e.opt.OpenDest = func(path string) (runtime.Destination, error) {
				return duckdb.Open(path, duckdb.Options{CrashPoint: func(s string) error {
					if s != stage {
						return nil
					}
					calls++
					if calls == k {
						crashed = true
						return errors.New("injected crash at " + s)
					}
					return nil
				}})
			}
			_, err := e.sync()
			if !crashed || err == nil {
				t.Fatalf("crash point %d of %s: crashed %v, sync error %v; a crash in the writer must fail the sync", k, stage, crashed, err)
			}
			e.opt.OpenDest = nil
			e.mustSync()
			got := e.dump()
			for name := range want {
				if diff := cmp.Diff(want[name], got[name]); diff != "" {
					t.Fatalf("%s differs after resuming (-want +got):\n%s", name, diff)
				}
			}
		})
	}
	if k < 5 {
		t.Fatalf("only %d crash points; the org is too small to test resuming", k-1)
	}
}

// TestFaultsAndRateLimits: with 5xx, resets, truncated bodies and 429 storms,
// or with a 60-per-minute bucket, the tables are identical to a clean run.
func TestFaultsAndRateLimits(t *testing.T) {
	ref := newEnv(t, smallOrg)
	ref.mustSync()
	want := ref.dump()

	faults, err := oktasim.ParseFaults("500=0.04,502=0.02,503=0.02,504=0.02,reset=0.03,truncate=0.03,429storm=0.01")
	if err != nil {
		t.Fatal(err)
	}
	cfg := smallOrg
	cfg.Faults = faults
	e := newEnv(t, cfg)
	e.mustSync()
	st := e.sim.Stats()
	if st.FaultsTotal == 0 {
		t.Fatal("no fault was injected")
	}
	if diff := cmp.Diff(want, e.dump()); diff != "" {
		t.Errorf("with %d faults injected the tables differ (-want +got):\n%s", st.FaultsTotal, diff)
	}

	cfg = smallOrg
	cfg.RateLimits = oktasim.RateLimitsOkta
	cfg.TimeScale = 120
	cfg.BucketLimits = map[string]int{}
	for b := range oktasim.Buckets() {
		cfg.BucketLimits[b] = 60
	}
	e = newEnv(t, cfg)
	e.mustSync()
	if diff := cmp.Diff(want, e.dump()); diff != "" {
		t.Errorf("with 60 requests per minute the tables differ (-want +got):\n%s", diff)
	}
}

// TestPermissions: with a READ_ONLY_ADMIN token the Super Admin tables are
// skipped with the roles they need, the rest is complete, and the sync is
// reported partial.
func TestPermissions(t *testing.T) {
	ref := newEnv(t, smallOrg)
	ref.mustSync()
	want := ref.dump()

	cfg := smallOrg
	cfg.Tokens = map[string]string{"ro-token": "READ_ONLY_ADMIN"}
	e := newEnv(t, cfg)
	sum, err := e.sync()
	if !errors.Is(err, runtime.ErrPartial) {
		t.Fatalf("err = %v, want a partial sync", err)
	}
	got := e.dump()
	skipped := 0
	for _, r := range sum.Tables {
		tbl := okta.Registry.Lookup(r.Table)
		roles := tbl.Permissions.Roles
		allowed := slices.Contains(roles, "READ_ONLY_ADMIN")
		switch {
		case len(roles) == 0:
			// The reference lists no roles for it; whatever happens must be
			// explained.
			if r.Status != runtime.StatusOK && !strings.Contains(r.Reason, tbl.Permissions.Scope) {
				t.Errorf("%s: %s without naming its scope: %q", r.Table, r.Status, r.Reason)
			}
		case allowed && r.Status != runtime.StatusOK:
			t.Errorf("%s: %s %s", r.Table, r.Status, r.Reason)
		case allowed && got[r.Table] != want[r.Table]:
			t.Errorf("%s is not complete", r.Table)
		case !allowed && (r.Status != runtime.StatusSkipped || !strings.Contains(r.Reason, "SUPER_ADMIN")):
			t.Errorf("%s must be skipped naming the roles it needs: %s %q", r.Table, r.Status, r.Reason)
		case !allowed:
			skipped++
		}
	}
	if skipped < 5 {
		t.Errorf("only %d tables skipped", skipped)
	}
	var b strings.Builder
	PrintSummary(&b, sum, 0)
	if !strings.Contains(b.String(), "partial") {
		t.Errorf("summary does not say partial:\n%s", b.String())
	}
	if strings.Contains(b.String(), "ro-token") || strings.Contains(fmt.Sprint(err), "ro-token") {
		t.Error("the token leaked")
	}
}

// TestCheck: a SUPER_ADMIN token reads everything; a READ_ONLY_ADMIN token
// is refused the Super Admin tables, which are reported with the roles they
// need, and nothing is written.
func TestCheck(t *testing.T) {
	cfg := smallOrg
	cfg.Tokens = map[string]string{"super": "SUPER_ADMIN", "ro": "READ_ONLY_ADMIN"}
	e := newEnv(t, cfg)
	e.cfg.Token = "super"
	results, ok, err := Check(context.Background(), e.cfg, e.opt)
	if err != nil || !ok {
		var b strings.Builder
		PrintCheck(&b, results)
		t.Fatalf("super admin: ok=%v err=%v\n%s", ok, err, b.String())
	}
	if len(results) != len(okta.Registry.Tables) {
		t.Errorf("%d results for %d tables", len(results), len(okta.Registry.Tables))
	}
	e.cfg.Token = "ro"
	results, ok, err = Check(context.Background(), e.cfg, e.opt)
	if err != nil || ok {
		t.Fatalf("read-only admin: ok=%v err=%v", ok, err)
	}
	forbidden := 0
	for _, r := range results {
		tbl := okta.Registry.Lookup(r.Table)
		superOnly := slices.Equal(tbl.Permissions.Roles, []string{"SUPER_ADMIN"})
		switch {
		case superOnly && (r.Status != runtime.CheckForbidden || !strings.Contains(r.Needs, "SUPER_ADMIN")):
			t.Errorf("%s: %s %q, want forbidden naming SUPER_ADMIN", r.Table, r.Status, r.Needs)
		case superOnly:
			forbidden++
		case slices.Contains(tbl.Permissions.Roles, "READ_ONLY_ADMIN") && r.Status != runtime.CheckOK:
			t.Errorf("%s: %s %v, want ok", r.Table, r.Status, r.Err)
		}
	}
	if forbidden < 5 {
		t.Errorf("only %d Super Admin tables reported forbidden", forbidden)
	}
	if _, err := os.Stat(e.db); err == nil {
		t.Error("check created the database")
	}
}

// TestExcludedFanOut: leaving out of a run a table read per row of another
// (as the benchmark leaves out the costly ones) leaves the other's delete
// sweep working.
func TestExcludedFanOut(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.opt.Skip = []string{"user_enrolled_factor", "user_authenticator_enrollment", "group_member"}
	sum := e.mustSync()
	if r := findTable(sum, "users"); r.Status != runtime.StatusOK || !r.Deleted {
		t.Errorf("users: %+v", r)
	}
	if r := findTable(sum, "user_enrolled_factor"); r.Table != "" {
		t.Errorf("an excluded table synced: %+v", r)
	}
}

// failingClose is a destination whose Close fails after closing.
type failingClose struct{ *duckdb.DB }

func (d failingClose) Close() error {
	d.DB.Close()
	return errors.New("injected close failure")
}

// TestCloseErrorFailsSync: a destination that fails to close (its last
// checkpoint, for DuckDB) fails a sync that otherwise went well.
func TestCloseErrorFailsSync(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.opt.Only = []string{"groups"}
	e.opt.OpenDest = func(path string) (runtime.Destination, error) {
		d, err := duckdb.Open(path, duckdb.Options{})
		return failingClose{d}, err
	}
	_, err := e.sync()
	if err == nil || !strings.Contains(err.Error(), "close destination") || !strings.Contains(err.Error(), "injected close failure") {
		t.Fatalf("sync: %v, want the close failure", err)
	}
}

// refusingOrg answers the probe and refuses the token everywhere else, as an
// org does whose token is revoked during a sync.
func refusingOrg(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == ProbePath {
			w.Write([]byte(`{"id":"00u1"}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAuthFailureStopsTheSync: the first 401 stops the sync; the tables
// that never ran say so, and none quotes another table's error.
func TestAuthFailureStopsTheSync(t *testing.T) {
	db := filepath.Join(t.TempDir(), "okta.duckdb")
	cfg := &Config{OrgURL: refusingOrg(t), Token: "revoked", Destination: Destination{Path: db}, Parallel: 1}
	sum, err := Sync(context.Background(), cfg, SyncOptions{})
	if !errors.Is(err, fetch.ErrUnauthorized) || sum == nil {
		t.Fatalf("sync: %v, want the 401", err)
	}
	notStarted := 0
	for _, r := range sum.Tables {
		switch {
		case r.Status == runtime.StatusNotStarted:
			notStarted++
			if r.Reason != "not started: the sync stopped" {
				t.Errorf("%s did not start; its reason is %q", r.Table, r.Reason)
			}
		case !strings.HasPrefix(r.Reason, r.Table+": "):
			t.Errorf("%s (%s) gives another table's error: %q", r.Table, r.Status, r.Reason)
		}
	}
	if notStarted != len(sum.Tables)-1 {
		t.Errorf("%d of %d tables not started, want all but the one that met the 401", notStarted, len(sum.Tables))
	}
}

// TestLogsOnANonTerminal: the log of a sync has no line per created table
// and no empty reason; a skipped table is a warning.
func TestLogsOnANonTerminal(t *testing.T) {
	cfg := smallOrg
	cfg.Tokens = map[string]string{"ro-token": "READ_ONLY_ADMIN"}
	e := newEnv(t, cfg)
	e.opt.Only = []string{"groups", "custom_role"}
	var log bytes.Buffer
	e.opt.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if _, err := e.sync(); !errors.Is(err, runtime.ErrPartial) {
		t.Fatalf("sync: %v, want partial", err)
	}
	for _, bad := range []string{"created table", `reason=""`} {
		if strings.Contains(log.String(), bad) {
			t.Errorf("the log has %q:\n%s", bad, log.String())
		}
	}
	var warned bool
	for line := range strings.Lines(log.String()) {
		warned = warned || strings.Contains(line, "level=WARN") && strings.Contains(line, "table=custom_role")
	}
	if !warned {
		t.Errorf("the skipped table is no warning:\n%s", log.String())
	}
}

// TestSummaryTotals: the TOTAL line adds up requests, rows (child tables
// included), invalid values and rate waits, and gives the sync's time.
func TestSummaryTotals(t *testing.T) {
	sum := &runtime.Summary{Tables: []runtime.TableReport{
		{Table: "users", Status: runtime.StatusOK, Requests: 3, Rows: map[string]int64{"users": 10, "user_custom_profile": 5},
			Invalid: 1, Waited: time.Second, Duration: 2 * time.Second},
		{Table: "groups", Status: runtime.StatusOK, Requests: 4, Rows: map[string]int64{"groups": 7},
			Waited: 500 * time.Millisecond, Duration: time.Second},
	}}
	var b strings.Builder
	PrintSummary(&b, sum, 3*time.Second)
	var total string
	for line := range strings.Lines(b.String()) {
		if strings.HasPrefix(line, "TOTAL") {
			total = line
		}
	}
	if got, want := strings.Fields(total), []string{"TOTAL", "complete", "7", "22", "1", "0", "3s", "1.5s"}; !slices.Equal(got, want) {
		t.Errorf("TOTAL line %q, want the fields %q:\n%s", total, want, b.String())
	}
	doc := NewSummaryJSON(sum, 3*time.Second)
	if doc.Requests != 7 || doc.Rows != 22 || doc.Tables[0].Rows != 15 || doc.Tables[0].RowsByTable["user_custom_profile"] != 5 {
		t.Errorf("JSON summary: %+v", doc)
	}
}

// TestSummaryBuckets: the summary lists each rate-limit bucket that sent
// requests with its requests, windows used and time waiting (once for
// requests that waited together), in the text and the JSON.
func TestSummaryBuckets(t *testing.T) {
	sum := &runtime.Summary{Buckets: map[string]fetch.BucketStats{
		"users":  {Requests: 103, Windows: 2, Held: 60500 * time.Millisecond, Wait: 9 * time.Minute, Limit: 60},
		"apps":   {Requests: 4, Windows: 1, RateLimited: 1},
		"unused": {},
	}}
	var b strings.Builder
	PrintSummary(&b, sum, time.Minute)
	var lines [][]string
	for line := range strings.Lines(b.String()) {
		if f := strings.Fields(line); len(f) == 6 && (f[0] == "users" || f[0] == "apps" || f[0] == "unused") {
			lines = append(lines, f)
		}
	}
	want := [][]string{{"apps", "4", "1", "0s", "1", "unknown"}, {"users", "103", "2", "1m0.5s", "0", "60"}}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("bucket lines mismatch (-want +got):\n%s\n%s", diff, b.String())
	}
	doc := NewSummaryJSON(sum, time.Minute)
	wantJSON := []BucketJSON{
		{Bucket: "apps", Requests: 4, Windows: 1, RateLimited: 1},
		{Bucket: "users", Requests: 103, Windows: 2, WaitingSeconds: 60.5, Limit: 60},
	}
	if diff := cmp.Diff(wantJSON, doc.Buckets); diff != "" {
		t.Errorf("JSON buckets mismatch (-want +got):\n%s", diff)
	}
}

// TestSyncSummaryBuckets: a sync's summary carries the counters of the
// client's buckets; a tight bucket spends its windows without a 429.
func TestSyncSummaryBuckets(t *testing.T) {
	cfg := smallOrg
	cfg.RateLimits = oktasim.RateLimitsOkta
	cfg.TimeScale = 600
	// A page of groups, then one listing of members per group: 7 requests,
	// 2 a window (a limit of 3, less the reserve of 1).
	cfg.BucketLimits = map[string]int{"groups": 3}
	e := newEnv(t, cfg)
	e.opt.Only = []string{"group_member"}
	sum := e.mustSync()
	b, ok := sum.Buckets["groups"]
	if !ok {
		t.Fatalf("no groups bucket in the summary: %+v", sum.Buckets)
	}
	if b.Requests != 7 || b.Windows != 4 || b.Held <= 0 || b.RateLimited != 0 {
		t.Errorf("groups bucket = %+v, want 7 requests in 4 windows, time waiting and no 429", b)
	}
	var out strings.Builder
	PrintSummary(&out, sum, 0)
	if !strings.Contains(out.String(), "rate-limit buckets:") {
		t.Errorf("the summary lists no bucket:\n%s", out.String())
	}
}

// TestProgressLine: the live line says how many tables are done of how
// many, the rows so far and an estimate of the time left.
func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newLiveProgress(io.Discard, 4, 200, start)
	p.Update(runtime.TableReport{Table: "groups", Status: runtime.StatusOK, Rows: map[string]int64{"groups": 7}})
	p.Update(runtime.TableReport{Table: "device", Status: runtime.StatusOK, Rows: map[string]int64{"device": 3}})
	p.Update(runtime.TableReport{Table: "users", Status: runtime.StatusRunning, Rows: map[string]int64{"users": 90}})
	line := p.line(start.Add(10 * time.Second))
	for _, want := range []string{"10s  2/4 tables done, 100 rows, about 10s left", "users 90 rows"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
}

// TestPrintTables: every fan-out table names what it is read per, periods
// read as the config writes them (7d), and no line is wider than 120.
func TestPrintTables(t *testing.T) {
	var b strings.Builder
	PrintTables(&b, false, nil)
	out := b.String()
	for _, bad := range []string{"per  row", "168h0m0s", "24h0m0s"} {
		if strings.Contains(out, bad) {
			t.Errorf("the listing has %q", bad)
		}
	}
	for _, want := range []string{"per /api/v1/mappings record", "per fixed value (12)", "per /api/v1/iam/assignees/users",
		"re-import every 7d", "SUPER_ADMIN, APP_ADMIN:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the listing lacks %q", want)
		}
	}
	for line := range strings.Lines(out) {
		if n := utf8.RuneCountInString(strings.TrimSuffix(line, "\n")); n > 120 {
			t.Errorf("a line of %d characters: %q", n, line)
		}
	}
}

// TestPrintTablesVerbose: -v carries the specs' table and column
// descriptions, wrapped to 120 columns.
func TestPrintTablesVerbose(t *testing.T) {
	var b strings.Builder
	PrintTables(&b, true, nil)
	flat := strings.Join(strings.Fields(b.String()), " ")
	users := okta.Registry.Lookup("users")
	var col runtime.Column
	for _, c := range users.Columns {
		if len(c.Description) > len(col.Description) {
			col = c
		}
	}
	for _, want := range []string{users.Description, col.Description} {
		if want == "" || !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("tables -v lacks the description %q", want)
		}
	}
	for line := range strings.Lines(b.String()) {
		if n := utf8.RuneCountInString(strings.TrimSuffix(line, "\n")); n > 120 {
			t.Errorf("a line of %d characters: %q", n, line)
		}
	}
}

// TestPrintTablesSettings: the listing says what the config's settings make
// of each table they touch (blocked, read for its children, history and
// what opens a version, hashed and blocked columns), and -v marks each
// column and its type as written; without settings -v has no SETTING column.
func TestPrintTablesSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oktasync.yaml")
	os.WriteFile(path, []byte(`schema_change_handling: BLOCK_ALL
tables:
  users:
    history: true
    columns:
      profile_email: {hashed: true}
      profile_mobile_phone: {enabled: false}
  user_enrolled_factor: {enabled: false}
  application: {enabled: false}
`), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var start string
	for _, e := range cfg.runtimeSettings().Effective(okta.Registry) {
		if e.Table.Name == "users" {
			start = e.HistoryStart
		}
	}
	if start == "" {
		start = "the sync time"
	}
	var b strings.Builder
	PrintTables(&b, false, cfg)
	// Spaces as one: the alignment depends on the names listed.
	var lines []string
	for line := range strings.Lines(b.String()) {
		lines = append(lines, strings.Join(strings.Fields(line), " "))
	}
	out := strings.Join(lines, "\n") + "\n"
	for _, want := range []string{
		"\nschema_change_handling: BLOCK_ALL\n",
		"\nusers written, history on (versions open at " + start + "), 1 hashed column, 1 blocked column\n",
		"\nuser_custom_profile written, history on, as users (versions open with the parent's)\n",
		"\nuser_enrolled_factor blocked\n",
		"\napplication blocked, read for its written child tables\n",
		"\nevery other table is written, every column as it comes, history off\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\ngroups written") {
		t.Errorf("a table without settings is listed under SETTINGS:\n%s", out)
	}
	b.Reset()
	PrintTables(&b, true, cfg)
	out = b.String()
	users := out[strings.Index(out, "\nusers\n"):]
	users = users[:strings.Index(users[1:], "\n\n")+1]
	for _, want := range []string{"setting: written", "history: on; versions open at ", "SETTING",
		"profile_email                    string     hashed", "profile_mobile_phone             string     blocked"} {
		if !strings.Contains(users, want) {
			t.Errorf("tables -v, users, lacks %q:\n%s", want, users)
		}
	}
	if !strings.Contains(out, "\nuser_enrolled_factor\n") || !strings.Contains(out, "setting: blocked; neither read nor written") {
		t.Errorf("tables -v does not say user_enrolled_factor is blocked")
	}
	b.Reset()
	PrintTables(&b, true, nil)
	if out := b.String(); strings.Contains(out, "SETTING") || strings.Contains(out, "history: on") || strings.Contains(out, "blocked") {
		t.Errorf("tables -v without settings shows some")
	}
}

// TestSummaryResyncAndSchemaChanges: a table re-imported says why in its
// NOTE and in JSON; the schema changes follow the table, one a line, and
// are in JSON as schema_changes (an empty list when there were none).
func TestSummaryResyncAndSchemaChanges(t *testing.T) {
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	sum := &runtime.Summary{Tables: []runtime.TableReport{
		{Table: "users", Status: runtime.StatusOK, Mode: "full", Rows: map[string]int64{"users": 10}, Deleted: true,
			Resync: "column profile_mobile_phone unblocked"},
		{Table: "groups", Status: runtime.StatusOK, Mode: "incremental", Rows: map[string]int64{"groups": 2}},
	}, SchemaChanges: []runtime.SchemaChange{
		{At: at, Table: "system_log", Column: "debug_context_debug_data_new_key", Type: "string", Decision: "not added",
			Reason: "schema_change_handling BLOCK_ALL"},
		{At: at, Table: "users", Decision: "re-import", Reason: "column profile_mobile_phone unblocked"},
	}}
	var b strings.Builder
	PrintSummary(&b, sum, time.Second)
	out := b.String()
	var users string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "users ") {
			users = line
		}
	}
	if !strings.HasSuffix(users, "re-imported: column profile_mobile_phone unblocked; deletes captured\n") {
		t.Errorf("the users line does not say why it was re-imported: %q", users)
	}
	want := "\nschema changes:\n" +
		"  system_log.debug_context_debug_data_new_key (string): not added; schema_change_handling BLOCK_ALL\n" +
		"  users: re-import; column profile_mobile_phone unblocked\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("the summary does not end with the schema changes:\n%s", out)
	}
	doc := NewSummaryJSON(sum, time.Second)
	if doc.Tables[0].Resync != "column profile_mobile_phone unblocked" || doc.Tables[1].Resync != "" {
		t.Errorf("JSON resync: %+v", doc.Tables)
	}
	js, _ := json.Marshal(doc)
	if !strings.Contains(string(js), `"schema_changes":[{"at":"2026-01-15T12:00:00Z","table":"system_log","column":"debug_context_debug_data_new_key","type":"string","decision":"not added","reason":"schema_change_handling BLOCK_ALL"},`) {
		t.Errorf("JSON schema changes: %s", js)
	}
	sum.SchemaChanges = nil
	b.Reset()
	PrintSummary(&b, sum, time.Second)
	if strings.Contains(b.String(), "schema changes") {
		t.Errorf("a summary without schema changes lists some:\n%s", b.String())
	}
	if js, _ := json.Marshal(NewSummaryJSON(sum, time.Second)); !strings.Contains(string(js), `"schema_changes":[]`) {
		t.Errorf("JSON without schema changes: %s", js)
	}
}

// TestHistoryText: the field that opens a version, the latest of several,
// or the sync time.
func TestHistoryText(t *testing.T) {
	users := okta.Registry.Lookup("users")
	for _, c := range []struct {
		e    runtime.TableEffect
		want string
	}{
		{runtime.TableEffect{Table: users}, "history: off"},
		{runtime.TableEffect{Table: users, History: true, HistoryStart: "lastUpdated"},
			"history: on; versions open at the record's lastUpdated (the source's change time)"},
		{runtime.TableEffect{Table: users, History: true, HistoryStart: "lastUpdated, lastMembershipUpdated"},
			"history: on; versions open at the record's latest of lastUpdated and lastMembershipUpdated (the source's change time)"},
		{runtime.TableEffect{Table: users, History: true}, "history: on; versions open at the sync time (the table has no change time)"},
	} {
		if got := historyText(c.e); got != c.want {
			t.Errorf("historyText = %q, want %q", got, c.want)
		}
	}
}
