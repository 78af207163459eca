package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"oktasync/generated/okta"
	"oktasync/internal/pgtest"
	"oktasync/internal/synctest"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/dest/postgres"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary compiles oktasync once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "oktasync-bin-"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "oktasync"), ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "oktasync")
}

// dumpAll dumps every table without _fivetran_synced.
func dumpAll(t *testing.T, path string) map[string]string { return synctest.DumpAll(t, path) }

func withoutColumn(t *testing.T, dump, column string) string {
	t.Helper()
	out, err := duckdb.WithoutColumn(dump, column)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKill9Resume kills a real sync process with SIGKILL in the middle and
// shows that the next sync ends with the same tables as an uninterrupted one.
func TestKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	org := kill9Org()
	want := synctest.Reference(t, org, "demo-token")
	sim2, url2 := startSlow(t, org)
	t.Run("duckdb", func(t *testing.T) {
		sim2.ResetStats()
		run, db := killMidSync(t, bin, url2, sim2, 25)
		resume(t, run)
		got := dumpAll(t, db)
		for name := range want {
			if got[name] != want[name] {
				t.Errorf("%s differs after kill -9 and resume", name)
			}
		}
	})
	// The same against PostgreSQL: a killed client's open transaction is
	// rolled back by the server when the connection drops.
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		schema := pgtest.Schema(t, "kill9")
		t.Setenv("OKTASYNC_KILL9_DSN", dsn)
		sim2.ResetStats()
		run := killMidSyncWith(t, bin, url2, sim2, 25,
			"destination: {type: postgres, dsn_env: OKTASYNC_KILL9_DSN, schema: "+schema+"}\n")
		resume(t, run)
		pg, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Close()
		okta.Registry.Walk(func(tb *runtime.Table) {
			var b bytes.Buffer
			if err := pg.Dump(context.Background(), tb.Name, &b); err != nil {
				t.Fatal(err)
			}
			got := withoutColumn(t, b.String(), "_fivetran_synced")
			if w := pgHeader(want[tb.Name]); got != w {
				t.Errorf("%s differs after kill -9 and resume", tb.Name)
			}
		})
	})
}

// kill9Org is the org the kill -9 tests sync. Its rate-limit clock runs
// 60x faster, and the sync is told so (time_scale), so Okta's per-minute
// limits pass in seconds. Its clock starts now, as the binary's does.
func kill9Org() oktasim.Config {
	return oktasim.Config{Seed: 3, Users: 150, Groups: 20, Apps: 8, Devices: 20, Logs: 3000,
		LinkBaseURL: "https://acme.okta.example", TimeScale: 60, Now: time.Now().UTC().Truncate(time.Second)}
}

// startSlow starts org slowed down to 15 ms a request, so that a kill
// lands mid-sync.
func startSlow(t *testing.T, org oktasim.Config) (*oktasim.Sim, string) {
	t.Helper()
	var err error
	if org.Faults, err = oktasim.ParseFaults("slow=1:15ms"); err != nil {
		t.Fatal(err)
	}
	return synctest.StartSim(t, org)
}

// resume runs the sync a kill interrupted again, which must complete.
func resume(t *testing.T, run func() *exec.Cmd) {
	t.Helper()
	out, err := run().CombinedOutput()
	if err != nil {
		t.Fatalf("resumed sync: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "TOTAL") {
		t.Errorf("no summary printed:\n%s", out)
	}
}

// pgHeader names a DuckDB dump's columns as PostgreSQL does (postgres.Ident).
func pgHeader(dump string) string {
	header, rest, _ := strings.Cut(dump, "\n")
	cols := strings.Split(header, ",")
	for i, c := range cols {
		cols[i] = postgres.Ident(c)
	}
	return strings.Join(cols, ",") + "\n" + rest
}

// TestSignalExitStatus: the binary stopped by SIGINT or SIGTERM says how to
// resume and exits 130 or 143.
func TestSignalExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	org := smallOrg
	var err error
	if org.Faults, err = oktasim.ParseFaults("slow=1:20ms"); err != nil {
		t.Fatal(err)
	}
	sim := startSim(t, org, "demo-token")
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		sim.ResetStats()
		cmd := exec.Command(bin, "sync", "--db", filepath.Join(t.TempDir(), "okta.duckdb"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for sim.Stats().Requests < 3 {
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Signal(sig)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != want || !strings.Contains(stderr.String(), "run the same command again to resume") {
			t.Errorf("%v: exit %d, want %d saying how to resume\n%s", sig, code, want, stderr.String())
		}
	}
}

// TestMakeInstallSaysWhenCgoIsOff: without cgo, make install says that
// DuckDB needs it and a C compiler, instead of Go's "build constraints
// exclude all Go files", and installs nothing.
func TestMakeInstallSaysWhenCgoIsOff(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	bin := t.TempDir()
	for _, env := range [][]string{{"CGO_ENABLED=0"}, {"CC=no-such-cc"}} {
		cmd := exec.Command("make", "-C", "../..", "install")
		cmd.Env = append(append(os.Environ(), "GOBIN="+bin), env...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "oktasync needs") || !strings.Contains(string(out), "C compiler") {
			t.Errorf("%s make install: %v\n%s", env, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "oktasync")); err == nil {
		t.Error("make install installed a binary without cgo")
	}
}

// killMidSync starts `oktasync sync` (with args, time scale 60) against url
// into a fresh database, kills it with SIGKILL once sim has served after
// requests, and returns a command running the same sync again, and the
// database.
func killMidSync(t *testing.T, bin, url string, sim *oktasim.Sim, after int64, args ...string) (func() *exec.Cmd, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "okta.duckdb")
	return killMidSyncWith(t, bin, url, sim, after, "", append([]string{"--db", db}, args...)...), db
}

// killMidSyncWith is killMidSync with more config (YAML) and no database
// of its own.
func killMidSyncWith(t *testing.T, bin, url string, sim *oktasim.Sim, after int64, moreConfig string, args ...string) func() *exec.Cmd {
	t.Helper()
	config := filepath.Join(t.TempDir(), "oktasync.yaml")
	if err := os.WriteFile(config, []byte("time_scale: 60\n"+moreConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"sync", "--config", config}, args...)...)
		cmd.Env = append(os.Environ(), "OKTA_CLIENT_ORGURL="+url, "OKTA_CLIENT_TOKEN=demo-token")
		return cmd
	}
	cmd := run()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for sim.Stats().Requests < after {
		if time.Now().After(deadline) {
			t.Fatalf("the sync made too few requests to kill it mid-way\n%s", stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the sync was not killed (it finished first?): %v\n%s", err, stderr.String())
	}
	return run
}

// TestKill9ResumeLogBackfill kills a first sync of the System Log with
// SIGKILL while it backfills, newest to oldest, after its newest day was
// committed; the next sync ends with every event of the log once.
func TestKill9ResumeLogBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	org := oktasim.Config{Seed: 5, Users: 300, Groups: 10, Apps: 4, Devices: 10, Logs: 30000,
		LinkBaseURL: "https://acme.okta.example", TimeScale: 60, Now: time.Now().UTC().Truncate(time.Second)}
	org.Faults, _ = oktasim.ParseFaults("slow=1:40ms")
	sim, err := oktasim.New(org)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	// The newest day is about a thirtieth of the log: a page or two of
	// 1,000 events; the backfill reads the other 29 pages.
	run, db := killMidSync(t, bin, url, sim, 12, "--tables", "system_log")
	count := func() (rows, distinct, newest int) {
		d, err := duckdb.Open(db, duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		day := sim.Now().Add(-24 * time.Hour).UTC().Format("2006-01-02 15:04:05")
		if err := d.SQL().QueryRow(`SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE published >= TIMESTAMP '`+day+`') FROM system_log`).
			Scan(&rows, &distinct, &newest); err != nil {
			t.Fatal(err)
		}
		return
	}
	rows, distinct, newest := count()
	if rows == 0 || newest == 0 || rows >= sim.Info().LogEvents || distinct != rows {
		t.Fatalf("killed with %d events (%d of the last day) of %d stored: want the newest day and part of the backfill", rows, newest, sim.Info().LogEvents)
	}
	t.Logf("killed with %d of %d events stored, %d of the last day", rows, sim.Info().LogEvents, newest)
	out, err := run().CombinedOutput()
	if err != nil {
		t.Fatalf("resumed sync: %v\n%s", err, out)
	}
	rows, distinct, _ = count()
	if rows != sim.Info().LogEvents || distinct != rows {
		t.Errorf("after kill -9 and resume: %d events, %d distinct; the log has %d", rows, distinct, sim.Info().LogEvents)
	}
}
