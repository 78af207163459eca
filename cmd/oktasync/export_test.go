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

	"github.com/jackc/pgx/v5/pgconn"

	"oktasync/internal/pgtest"
	"oktasync/runtime/dest/postgres"
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
		for _, want := range []string{"usage: oktasync export", "flags:", "--include-deleted", "--overwrite", "--config", "postgres", "REPEATABLE READ", "exit status:", "example"} {
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

// TestExportCommandPostgres: with --config naming a postgres destination,
// export reads that schema: every synced table with the rows the schema
// holds, a manifest whose source names the server and schema but not the
// password; --db beside it is a usage error, as is a --tables name the
// schema lacks (the message naming the schema); an unset DSN variable
// exits 1; nothing is written by the refused exports. A config naming a
// DuckDB file exports that file.
func TestExportCommandPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, "cliexport")
	t.Setenv("OKTASYNC_CLIEXPORT_DSN", dsn)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "oktasync.yaml")
	if err := os.WriteFile(cfg, []byte("destination: {type: postgres, dsn_env: OKTASYNC_CLIEXPORT_DSN, schema: "+schema+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startSim(t, smallOrg, "demo-token")
	if code, out, errOut := runCLI(t, context.Background(), "sync", "--config", cfg); code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	pg, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	password := ""
	if c, err := pgconn.ParseConfig(dsn); err == nil {
		password = c.Password
	}

	snap := filepath.Join(dir, "snap")
	code, out, errOut := runCLI(t, context.Background(), "export", "--config", cfg, "--out", snap)
	if password != "" && strings.Contains(out+errOut, password) {
		t.Fatal("the export's output holds the password")
	}
	if code != 0 || errOut != "" {
		t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(snap, "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if password != "" && strings.Contains(string(b), password) {
		t.Fatal("the manifest holds the password")
	}
	var m struct {
		Source string
		Tables []struct {
			Name  string
			Rows  int64
			Files []string
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Source != "postgres "+pg.Where() || !strings.Contains(m.Source, "schema "+schema) || len(m.Tables) < 40 {
		t.Errorf("manifest: source %q, %d tables; want postgres %s and the synced tables", m.Source, len(m.Tables), pg.Where())
	}
	for _, tb := range m.Tables {
		var want int64
		q := `SELECT count(*) FROM "` + schema + `"."` + tb.Name + `" WHERE NOT _fivetran_deleted`
		if err := pg.Pool().QueryRow(context.Background(), q).Scan(&want); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if tb.Rows != want || !strings.Contains(out, "\n"+tb.Name+" ") {
			t.Errorf("%s: %d rows exported, want the schema's %d, and a line in the report", tb.Name, tb.Rows, want)
		}
		if tb.Name == "system_log" && (want == 0 || !strings.HasPrefix(tb.Files[0], "system_log/day=")) {
			t.Errorf("system_log: %d rows in %v, want day partitions", tb.Rows, tb.Files)
		}
	}
	if !strings.Contains(out, "exported "+strconv.Itoa(len(m.Tables))+" tables") {
		t.Errorf("no summary line:\n%s", out)
	}

	none := filepath.Join(dir, "none")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--db", filepath.Join(dir, "x.duckdb")}, 2, "--db names a DuckDB file, and the config's destination is postgres"},
		{[]string{"--tables", "users,nope"}, 2, "--tables: no synced table nope in postgres " + pg.Where()},
	} {
		args := append([]string{"export", "--config", cfg, "--out", none}, c.args...)
		code, out, errOut := runCLI(t, context.Background(), args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, want %d and %q\n%s%s", args, code, c.code, c.want, out, errOut)
		}
	}
	t.Setenv("OKTASYNC_CLIEXPORT_DSN", "")
	if code, _, errOut := runCLI(t, context.Background(), "export", "--config", cfg, "--out", none); code != 1 || !strings.Contains(errOut, "OKTASYNC_CLIEXPORT_DSN is not set") {
		t.Errorf("export with the DSN variable unset: exit %d, want 1\n%s", code, errOut)
	}
	if _, err := os.Stat(none); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists after refused exports", none)
	}

	// A config whose destination is a DuckDB file: that file is the source.
	duck := filepath.Join(dir, "duck.yaml")
	missing := filepath.Join(dir, "missing.duckdb")
	if err := os.WriteFile(duck, []byte("destination: {path: "+missing+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, context.Background(), "export", "--config", duck, "--out", none); code != 1 || !strings.Contains(errOut, missing) || !strings.Contains(errOut, "no such database") {
		t.Errorf("export --config with a DuckDB destination: exit %d, want 1 naming %s\n%s", code, missing, errOut)
	}
}
