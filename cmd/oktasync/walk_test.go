package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"oktasync/generated/okta"
	"oktasync/runtime"
)

// TestNewcomerWalk walks the README as a newcomer does: make install, start
// `oktasync sim`, then check, sync, sync again and tables against it, each
// exiting 0, and no table may hold two live rows for one key. It needs a
// simulator whose clock is the real one (contract C5) and takes about a
// minute: the simulator enforces Okta's rate limits in real time.
func TestNewcomerWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("installs the binary and syncs for a minute")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	gobin := t.TempDir()
	install := exec.Command("make", "-C", "../..", "install")
	install.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	bin := filepath.Join(gobin, "oktasync")

	// oktasync sim, as the README starts it.
	sim := exec.Command(bin, "sim")
	var simErr bytes.Buffer
	sim.Stderr = &simErr
	simOut, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			sim.Process.Kill()
			sim.Wait()
		}
	})
	line, err := bufio.NewReader(simOut).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("oktasync sim: first line %q, %v\n%s", line, err, simErr.String())
	}

	dir := t.TempDir()
	oktasync := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "OKTA_CLIENT_ORGURL="+url, "OKTA_CLIENT_TOKEN=demo-token")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("oktasync %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	oktasync("check")
	oktasync("sync", "--db", "okta.duckdb")
	oktasync("sync", "--db", "okta.duckdb")
	if out := oktasync("tables"); !strings.Contains(out, "users") {
		t.Errorf("oktasync tables lists no users table:\n%s", out)
	}

	sim.Process.Signal(syscall.SIGTERM)
	sim.Wait()
	stopped = true
	if code := sim.ProcessState.ExitCode(); code != 0 {
		t.Errorf("oktasync sim stopped by SIGTERM: exit %d\n%s", code, simErr.String())
	}

	db, err := sql.Open("duckdb", filepath.Join(dir, "okta.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	okta.Registry.Walk(func(tb *runtime.Table) {
		key := make([]string, len(tb.PrimaryKey))
		for i, k := range tb.PrimaryKey {
			key[i] = `"` + k + `"`
		}
		var dups int
		q := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM "%s" WHERE NOT coalesce(_fivetran_deleted, false)
			GROUP BY %s HAVING count(*) > 1)`, tb.Name, strings.Join(key, ", "))
		if err := db.QueryRow(q).Scan(&dups); err != nil {
			t.Errorf("%s: %v", tb.Name, err)
		} else if dups > 0 {
			t.Errorf("%s: %d keys with more than one live row after two syncs", tb.Name, dups)
		}
	})
}
