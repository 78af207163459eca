package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestExportCommand: export writes every synced table as Parquet with a
// manifest and prints each table's rows, exits 1 on a directory it must
// not replace and replaces a previous export with --overwrite, refuses
// unknown tables and bad flags with status 2, a missing database with 1,
// and an interrupted export exits 130 leaving nothing; help documents it.
func TestExportCommand(t *testing.T) {
	for _, args := range [][]string{{"export", "--help"}, {"help", "export"}} {
		code, out, errOut := runCLI(t, context.Background(), args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"usage: oktasync export", "flags:", "--include-deleted", "--overwrite", "exit status:", "example"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: help lacks %q:\n%s", args, want, out)
			}
		}
	}
	if code, out, _ := runCLI(t, context.Background(), "help"); code != 0 || !strings.Contains(out, "  export ") {
		t.Errorf("help: exit %d; the command list lacks export:\n%s", code, out)
	}

	startSim(t, smallOrg, "demo-token")
	dir := t.TempDir()
	db := filepath.Join(dir, "okta.duckdb")
	if code, out, errOut := runCLI(t, context.Background(), "sync", "--db", db); code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}

	snap := filepath.Join(dir, "snap")
	code, out, errOut := runCLI(t, context.Background(), "export", "--db", db, "--out", snap)
	if code != 0 || errOut != "" {
		t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(snap, "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Source         string
		IncludeDeleted bool `json:"include_deleted"`
		Tables         []struct {
			Name  string
			Rows  int64
			Files []string
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Source != db || m.IncludeDeleted || len(m.Tables) < 40 {
		t.Errorf("manifest: source %s, include_deleted %v, %d tables", m.Source, m.IncludeDeleted, len(m.Tables))
	}
	for _, tb := range m.Tables {
		// Each table is a line of the report, with the rows the manifest counts.
		if !slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool {
			f := strings.Fields(l)
			return len(f) >= 2 && f[0] == tb.Name && f[1] == strconv.FormatInt(tb.Rows, 10)
		}) {
			t.Errorf("the report has no line for %s with %d rows:\n%s", tb.Name, tb.Rows, out)
		}
		for _, f := range tb.Files {
			if _, err := os.Stat(filepath.Join(snap, f)); err != nil {
				t.Errorf("%s: %v", tb.Name, err)
			}
		}
		if tb.Name == "system_log" && (tb.Rows == 0 || !strings.HasPrefix(tb.Files[0], "system_log/day=")) {
			t.Errorf("system_log: %d rows in %v, want day partitions", tb.Rows, tb.Files)
		}
	}
	if !strings.Contains(out, "exported "+strconv.Itoa(len(m.Tables))+" tables") || !strings.Contains(out, "deleted rows left out") {
		t.Errorf("export: no summary line:\n%s", out)
	}

	// A second export into the same directory: refused, then replaced.
	code, out, errOut = runCLI(t, context.Background(), "export", "--db", db, "--out", snap, "--tables", "users")
	if code != 1 || !strings.Contains(errOut, "not empty; --overwrite replaces it") {
		t.Errorf("export again: exit %d, want 1\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, context.Background(), "export", "--db", db, "--out", snap, "--tables", "users, groups", "--overwrite", "--include-deleted")
	if code != 0 || !strings.Contains(out, "exported 2 tables") || !strings.Contains(out, "deleted rows included") {
		t.Errorf("export --overwrite: exit %d\n%s%s", code, out, errOut)
	}
	if e, _ := os.ReadDir(snap); len(e) != 3 {
		t.Errorf("after --overwrite %s holds %d entries, want the manifest, groups and users", snap, len(e))
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tables", "users,nope"}, "--tables: no synced table nope in " + db + "; its tables are "},
		{[]string{"--format", "csv"}, `--format "csv": only parquet is supported`},
		{[]string{"--tables", " , "}, "names no table"},
		{[]string{"okta.duckdb"}, "did you mean --db okta.duckdb?"},
	} {
		none := filepath.Join(dir, "none")
		args := append([]string{"export", "--db", db, "--out", none}, c.args...)
		code, out, errOut := runCLI(t, context.Background(), args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, want 2 and %q\n%s%s", args, code, c.want, out, errOut)
		}
		if _, err := os.Stat(none); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%q: %s exists", args, none)
		}
	}
	if code, _, errOut := runCLI(t, context.Background(), "export", "--db", db); code != 2 || !strings.Contains(errOut, "--out DIR is required") {
		t.Errorf("export without --out: exit %d, want 2\n%s", code, errOut)
	}
	missing := filepath.Join(dir, "missing.duckdb")
	if code, _, errOut := runCLI(t, context.Background(), "export", "--db", missing, "--out", filepath.Join(dir, "none")); code != 1 || !strings.Contains(errOut, "no such database") {
		t.Errorf("export of a missing database: exit %d, want 1\n%s", code, errOut)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(interrupted{syscall.SIGINT})
	stopped := filepath.Join(dir, "stopped")
	if code, _, errOut := runCLI(t, ctx, "export", "--db", db, "--out", stopped); code != 130 || !strings.Contains(errOut, "interrupted; nothing was written to "+stopped) {
		t.Errorf("interrupted export: exit %d, want 130\n%s", code, errOut)
	}
	if e, _ := os.ReadDir(dir); slices.ContainsFunc(e, func(d os.DirEntry) bool { return d.Name() != "okta.duckdb" && d.Name() != "snap" }) {
		var names []string
		for _, d := range e {
			names = append(names, d.Name())
		}
		t.Errorf("%s holds %v after the refused and interrupted exports", dir, names)
	}
}
