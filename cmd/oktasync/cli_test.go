package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"oktasync/internal/connector"
	"oktasync/internal/synctest"
	"oktasync/oktasim"
	"oktasync/runtime"
)

// runCLI runs the command line in-process and returns its exit status and output.
func runCLI(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// startSim serves a simulated org on a loopback port for the test and
// points OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN at it.
func startSim(t *testing.T, cfg oktasim.Config, token string) *oktasim.Sim {
	t.Helper()
	if cfg.Now.IsZero() {
		// The sync runs on the real clock; so does Okta.
		cfg.Now = time.Now()
	}
	sim, url := synctest.StartSim(t, cfg)
	t.Setenv("OKTA_CLIENT_ORGURL", url)
	t.Setenv("OKTA_CLIENT_TOKEN", token)
	return sim
}

var smallOrg = oktasim.Config{Seed: 7, Users: 30, Groups: 5, Apps: 4, Devices: 6, Logs: 200}

// TestHelpAndVersion: --help and `help CMD` exit 0 for every command, with a
// description, the flags, exit statuses and an example; --version works.
func TestHelpAndVersion(t *testing.T) {
	for _, name := range []string{"sync", "resync", "check", "tables", "sim"} {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			code, out, errOut := runCLI(t, context.Background(), args...)
			if code != 0 || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			for _, want := range []string{"usage: oktasync " + name, "flags:", "exit status:", "example"} {
				if !strings.Contains(out, want) {
					t.Errorf("%q: help lacks %q:\n%s", args, want, out)
				}
			}
			if (name == "sync" || name == "resync" || name == "check") && !strings.Contains(out, "OKTA_CLIENT_TOKEN") {
				t.Errorf("%q: help names no environment variable:\n%s", args, out)
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		if code, out, _ := runCLI(t, context.Background(), args...); code != 0 || !strings.Contains(out, "commands:") {
			t.Errorf("%q: exit %d:\n%s", args, code, out)
		}
	}
	if code, _, _ := runCLI(t, context.Background(), "help", "nosuch"); code != 2 {
		t.Errorf("help nosuch: exit %d, want 2", code)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if code, out, _ := runCLI(t, context.Background(), args...); code != 0 || !strings.HasPrefix(out, "oktasync ") {
			t.Errorf("%q: exit %d: %q", args, code, out)
		}
	}
}

// TestCheckAndSyncAgreeOnForbidden: a token that may not read some tables
// makes check and sync exit with the same status, 3.
func TestCheckAndSyncAgreeOnForbidden(t *testing.T) {
	cfg := smallOrg
	cfg.Tokens = map[string]string{"ro-token": "READ_ONLY_ADMIN"}
	startSim(t, cfg, "ro-token")
	code, out, errOut := runCLI(t, context.Background(), "check")
	if code != 3 || !strings.Contains(out, "forbidden") {
		t.Errorf("check: exit %d, want 3\n%s%s", code, out, errOut)
	}
	db := t.TempDir() + "/okta.duckdb"
	code, out, errOut = runCLI(t, context.Background(), "sync", "--db", db, "--tables", "groups,custom_role")
	if code != 3 || !strings.Contains(out, "forbidden") {
		t.Errorf("sync: exit %d, want 3\n%s%s", code, out, errOut)
	}
}

// TestStrayArguments: an argument where only flags belong is refused with
// what to write instead, and nothing is synced; --tables tolerates spaces
// and empty items.
func TestStrayArguments(t *testing.T) {
	startSim(t, smallOrg, "demo-token")
	t.Chdir(t.TempDir())
	// Canceled: a command that took the argument for nothing stops at once.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for args, hint := range map[string]string{
		"sync mydb.duckdb":             "did you mean --db mydb.duckdb?",
		"sync oktasync.yaml":           "did you mean --config oktasync.yaml?",
		"check users":                  "did you mean --tables users?",
		"tables extra":                 "tables takes no arguments",
		"sync --tables users x.duckdb": "did you mean --db x.duckdb?",
		"sim extra":                    "sim takes no arguments",
	} {
		code, out, errOut := runCLI(t, canceled, strings.Fields(args)...)
		if code != 2 || !strings.Contains(errOut, hint) {
			t.Errorf("%s: exit %d, want 2 saying %q\n%s%s", args, code, hint, out, errOut)
		}
	}
	if _, err := os.Stat("okta.duckdb"); err == nil {
		t.Error("a sync with a stray argument wrote okta.duckdb")
	}
	if code, out, errOut := runCLI(t, context.Background(), "check", "--tables", " users, groups,"); code != 0 {
		t.Errorf(`check --tables " users, groups,": exit %d\n%s%s`, code, out, errOut)
	}
	if code, _, errOut := runCLI(t, context.Background(), "sync", "--tables", " , "); code != 2 || !strings.Contains(errOut, "names no table") {
		t.Errorf(`sync --tables " , ": exit %d, want 2: %s`, code, errOut)
	}
}

// TestUnreachableOrgOrWrongToken: an org that does not answer, or refuses
// the token, fails check and sync in one line with exit 1, after one
// request, and creates no database file.
func TestUnreachableOrgOrWrongToken(t *testing.T) {
	db := filepath.Join(t.TempDir(), "okta.duckdb")
	t.Setenv("OKTA_CLIENT_ORGURL", "http://127.0.0.1:1")
	t.Setenv("OKTA_CLIENT_TOKEN", "some-token")
	for _, args := range [][]string{{"check"}, {"sync", "--db", db}} {
		code, out, errOut := runCLI(t, context.Background(), args...)
		if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "127.0.0.1:1") || out != "" {
			t.Errorf("%q against an unreachable org: exit %d, want 1 and one line naming it\nstdout:\n%sstderr:\n%s", args, code, out, errOut)
		}
	}

	sim := startSim(t, smallOrg, "wrong-token")
	for _, args := range [][]string{{"check"}, {"sync", "--db", db}} {
		sim.ResetStats()
		code, out, errOut := runCLI(t, context.Background(), args...)
		if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "401") || out != "" {
			t.Errorf("%q with a wrong token: exit %d, want 1 and one line with the 401\nstdout:\n%sstderr:\n%s", args, code, out, errOut)
		}
		if n := sim.Stats().Requests; n != 1 {
			t.Errorf("%q with a wrong token made %d requests, want 1", args, n)
		}
		if strings.Contains(errOut, "wrong-token") {
			t.Errorf("the token leaked: %s", errOut)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a sync that never started created the database file")
	}
}

// TestInterrupts: a sync stopped by SIGINT says how to resume and exits 130,
// with the tables it never reached "not started" and none "failed"; the
// same command then completes. SIGTERM exits 143.
func TestInterrupts(t *testing.T) {
	cfg := smallOrg
	var err error
	if cfg.Faults, err = oktasim.ParseFaults("slow=1:10ms"); err != nil {
		t.Fatal(err)
	}
	sim := startSim(t, cfg, "demo-token")
	dir := t.TempDir()
	config := filepath.Join(dir, "oktasync.yaml")
	if err := os.WriteFile(config, []byte("parallel: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "okta.duckdb")

	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		for sim.Stats().Requests < 3 {
			time.Sleep(time.Millisecond)
		}
		cancel(interrupted{syscall.SIGINT})
	}()
	code, out, errOut := runCLI(t, ctx, "sync", "--config", config, "--db", db)
	if code != 130 || !strings.Contains(errOut, "interrupted; run the same command again to resume") {
		t.Errorf("sync after SIGINT: exit %d, want 130 saying how to resume\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "not started") || strings.Contains(out, "failed") {
		t.Errorf("after SIGINT, the summary must show tables not started and none failed:\n%s", out)
	}
	if code, out, errOut := runCLI(t, context.Background(), "sync", "--config", config, "--db", db); code != 0 {
		t.Errorf("the same command again: exit %d\n%s%s", code, out, errOut)
	}

	ctx, cancel = context.WithCancelCause(context.Background())
	cancel(interrupted{syscall.SIGTERM})
	if code, out, errOut := runCLI(t, ctx, "check"); code != 143 {
		t.Errorf("check after SIGTERM: exit %d, want 143\n%s%s", code, out, errOut)
	}
}

// TestSimRefusesNegativeCounts: sim --users -5 is a usage error.
func TestSimRefusesNegativeCounts(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel() // a sim that starts returns at once
	for _, args := range [][]string{{"sim", "--users", "-5"}, {"sim", "--logs", "-2"}, {"sim", "--time-scale", "0"}} {
		if code, out, errOut := runCLI(t, canceled, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s%s", args, code, out, errOut)
		}
	}
}

// TestConfigErrorExits1: a config mistake exits 1 with file:line, and a
// negative parallel is refused.
func TestConfigErrorExits1(t *testing.T) {
	startSim(t, smallOrg, "demo-token")
	dir := t.TempDir()
	for body, want := range map[string]string{
		"tabels: [users]\n": "oktasync.yaml:1:1: unknown key tabels; did you mean tables?",
		"parallel: -3\n":    "parallel is -3",
	} {
		config := filepath.Join(dir, "oktasync.yaml")
		os.WriteFile(config, []byte(body), 0o644)
		code, _, errOut := runCLI(t, context.Background(), "sync", "--config", config, "--db", filepath.Join(dir, "x.duckdb"))
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%q: exit %d, want 1 saying %q: %s", body, code, want, errOut)
		}
	}
}

// TestSyncJSON: --json prints one JSON document on stdout with a line per
// table, for scripts.
func TestSyncJSON(t *testing.T) {
	cfg := smallOrg
	cfg.Tokens = map[string]string{"ro-token": "READ_ONLY_ADMIN"}
	startSim(t, cfg, "ro-token")
	db := filepath.Join(t.TempDir(), "okta.duckdb")
	code, out, errOut := runCLI(t, context.Background(), "sync", "--json", "--db", db, "--tables", "groups,custom_role")
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s%s", code, out, errOut)
	}
	var doc connector.SummaryJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	byName := map[string]connector.TableJSON{}
	for _, tb := range doc.Tables {
		byName[tb.Table] = tb
	}
	if g := byName["groups"]; doc.Status != "partial" || g.Status != "ok" || g.Rows == 0 || g.Requests == 0 || g.Mode != "full" {
		t.Errorf("groups: %+v (status %s)", g, doc.Status)
	}
	if c := byName["custom_role"]; c.Status != "skipped" || !strings.Contains(c.Error, "SUPER_ADMIN") {
		t.Errorf("custom_role: %+v", c)
	}
	if doc.Requests != byName["groups"].Requests+byName["custom_role"].Requests {
		t.Errorf("total requests %d", doc.Requests)
	}
}

// TestNoTableSyncedExits1: a sync in which every table failed, and a check
// in which no table can be read, fail as a whole: exit 1, not 3.
func TestNoTableSyncedExits1(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/users/me" {
			w.Write([]byte(`{"id":"00u1"}`))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"errorCode":"E0000001","errorSummary":"Api validation failed"}`))
	}))
	defer srv.Close()
	t.Setenv("OKTA_CLIENT_ORGURL", srv.URL)
	t.Setenv("OKTA_CLIENT_TOKEN", "t")
	db := filepath.Join(t.TempDir(), "okta.duckdb")
	code, out, errOut := runCLI(t, context.Background(), "sync", "--db", db, "--json", "--tables", "users,groups,application")
	var doc connector.SummaryJSON
	json.Unmarshal([]byte(out), &doc)
	if code != 1 || doc.Status != "failed" || !strings.Contains(errOut, "no table synced") {
		t.Errorf("sync with every table failed: exit %d (want 1), status %q\n%s", code, doc.Status, errOut)
	}
	if code, out, errOut := runCLI(t, context.Background(), "check", "--tables", "users,groups"); code != 1 {
		t.Errorf("check with no table readable: exit %d, want 1\n%s%s", code, out, errOut)
	}
}

// TestTablesFlagNames: --tables of sync, check and resync refuses a name
// that is no table, with the closest one, as a usage error before anything
// runs; resync takes child tables (they name their parent), sync does not.
func TestTablesFlagNames(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("OKTA_CLIENT_ORGURL", "http://127.0.0.1:1")
	t.Setenv("OKTA_CLIENT_TOKEN", "t")
	for _, cmd := range []string{"sync", "check", "resync"} {
		code, out, errOut := runCLI(t, context.Background(), cmd, "--tables", "users,groupz")
		if code != 2 || !strings.Contains(errOut, `--tables: unknown table "groupz"; did you mean groups?`) || out != "" {
			t.Errorf("%s --tables users,groupz: exit %d, want 2 and the closest name\n%s%s", cmd, code, out, errOut)
		}
	}
	if code, _, errOut := runCLI(t, context.Background(), "resync", "--tables", " , "); code != 2 || !strings.Contains(errOut, "names no table") {
		t.Errorf(`resync --tables " , ": exit %d, want 2: %s`, code, errOut)
	}
	// A child table passes the flag check; the unreachable org then fails the run.
	code, _, errOut := runCLI(t, context.Background(), "resync", "--tables", "user_custom_profile")
	if code != 1 || strings.Contains(errOut, "unknown table") || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("resync --tables user_custom_profile: exit %d, want 1 from the org\n%s", code, errOut)
	}
	if _, err := os.Stat("okta.duckdb"); err == nil {
		t.Error("a refused command wrote okta.duckdb")
	}
}

// TestResyncAsks: resync runs a sync re-importing the tables --tables
// names, or all ("*"), over the config's settings; sync re-imports none.
func TestResyncAsks(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "oktasync.yaml")
	os.WriteFile(config, []byte("org_url: https://acme.okta.com\ntables: {users: {history: true}}\n"), 0o644)
	t.Setenv("OKTA_CLIENT_TOKEN", "t")
	var got []connector.SyncOptions
	defer func(f func(context.Context, *connector.Config, connector.SyncOptions) (*runtime.Summary, error)) {
		syncOrg = f
	}(syncOrg)
	syncOrg = func(_ context.Context, cfg *connector.Config, opt connector.SyncOptions) (*runtime.Summary, error) {
		if !cfg.Tables["users"].History {
			t.Errorf("the config's settings did not reach the sync: %+v", cfg.Tables)
		}
		got = append(got, opt)
		return &runtime.Summary{}, nil
	}
	for args, want := range map[string][]string{
		"resync": {"*"},
		"resync --tables users,user_custom_profile": {"users", "user_custom_profile"},
		"sync": nil,
	} {
		got = nil
		code, out, errOut := runCLI(t, context.Background(), append(strings.Fields(args), "--config", config, "--db", filepath.Join(dir, "x.duckdb"))...)
		if code != 0 || len(got) != 1 {
			t.Errorf("%s: exit %d, %d syncs\n%s%s", args, code, len(got), out, errOut)
			continue
		}
		if !slices.Equal(got[0].Resync, want) || got[0].Only != nil {
			t.Errorf("%s: Resync %q, Only %q; want Resync %q and every table", args, got[0].Resync, got[0].Only, want)
		}
	}
}

// TestTablesConfig: tables --config shows that config's settings; a config
// with a mistake exits 1 saying where.
func TestTablesConfig(t *testing.T) {
	config := filepath.Join(t.TempDir(), "oktasync.yaml")
	os.WriteFile(config, []byte("tables:\n  user_enrolled_factor: {enabled: false}\n"), 0o644)
	code, out, errOut := runCLI(t, context.Background(), "tables", "--config", config)
	if code != 0 || !regexp.MustCompile(`\n  user_enrolled_factor +blocked\n`).MatchString(out) {
		t.Errorf("tables --config: exit %d\n%s%s", code, out, errOut)
	}
	os.WriteFile(config, []byte("tables:\n  user_enrolled_factr: {enabled: false}\n"), 0o644)
	code, out, errOut = runCLI(t, context.Background(), "tables", "--config", config)
	if code != 1 || out != "" || !strings.Contains(errOut, config+":2:3: tables.user_enrolled_factr: no such table; did you mean user_enrolled_factor?") {
		t.Errorf("tables --config with an unknown table: exit %d\n%s%s", code, out, errOut)
	}
}
