package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
)

// buildBinary compiles oktasync once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "oktasync")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func dumpAll(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	okta.Registry.Walk(func(tb *runtime.Table) {
		var b bytes.Buffer
		if err := db.Dump(context.Background(), tb.Name, &b); err != nil {
			t.Fatal(err)
		}
		out[tb.Name] = b.String()
	})
	return out
}

// TestKill9Resume kills a real sync process with SIGKILL in the middle and
// shows that the next sync ends with the same tables as an uninterrupted one.
func TestKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	// The simulated org's rate-limit clock runs 60x faster, and the sync is
	// told so (time_scale), so Okta's per-minute limits pass in seconds.
	org := oktasim.Config{Seed: 3, Users: 150, Groups: 20, Apps: 8, Devices: 20, Logs: 3000,
		LinkBaseURL: "https://acme.okta.example", TimeScale: 60, Now: oktasim.DefaultNow}

	// Reference: an uninterrupted sync, in-process.
	sim, err := oktasim.New(org)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	refDB := filepath.Join(t.TempDir(), "ref.duckdb")
	cfg := &connector.Config{OrgURL: url, Token: "demo-token", Destination: connector.Destination{Path: refDB}, TimeScale: 60}
	if _, err := connector.Sync(context.Background(), cfg, connector.SyncOptions{Now: sim.Now}); err != nil {
		t.Fatal(err)
	}
	want := dumpAll(t, refDB)

	// The same org, slowed down so that the kill lands mid-sync.
	slow := org
	slow.Faults, err = oktasim.ParseFaults("slow=1:15ms")
	if err != nil {
		t.Fatal(err)
	}
	sim2, err := oktasim.New(slow)
	if err != nil {
		t.Fatal(err)
	}
	url2, err := sim2.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim2.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "okta.duckdb")
	config := filepath.Join(dir, "oktasync.yaml")
	if err := os.WriteFile(config, []byte("time_scale: 60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "sync", "--config", config, "--db", db)
		// The simulated org's clock is fixed; the binary must use it too.
		cmd.Env = append(os.Environ(), "OKTA_CLIENT_ORGURL="+url2, "OKTA_CLIENT_TOKEN=demo-token",
			"OKTASYNC_NOW="+sim2.Now().Format(time.RFC3339Nano))
		return cmd
	}
	cmd := run()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for sim2.Stats().Requests < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("the sync made too few requests to kill it mid-way\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the sync was not killed (it finished first?): %v\n%s", err, stderr.String())
	}

	cmd = run()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("resumed sync: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "TOTAL") {
		t.Errorf("no summary printed:\n%s", out)
	}
	got := dumpAll(t, db)
	for name := range want {
		if got[name] != want[name] {
			t.Errorf("%s differs after kill -9 and resume", name)
		}
	}
}
