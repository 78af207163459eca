package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"oktasync/internal/connector"
	"oktasync/internal/sqlfiles"
	"oktasync/runtime/fetch"
)

// testDemo is the demo org at a size that syncs in seconds.
var testDemo = func() connector.DemoOptions {
	d := connector.DefaultDemo
	d.Users, d.Groups, d.Apps, d.Devices, d.Logs = 300, 20, 12, 30, 4000
	return d
}()

var (
	orgOnce sync.Once
	orgDB   string
	orgErr  error
	orgDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "export-test-")
	if err != nil {
		panic(err)
	}
	orgDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The rows the shared database holds deleted (see demoDB).
const (
	deletedGroup = "(SELECT min(id) FROM groups)"
	deletedEvent = "(SELECT min(id) FROM system_log)"
	closedUser   = "(SELECT min(id) FROM users)"
)

// demoDB returns a database synced from testDemo, with users and
// group_member in history mode, syncing it on first use. Then, as a sync
// would have, one group and one System Log event are marked deleted and one
// user's active version is closed; and tables that are no synced tables
// are added beside them: a table of the main schema without
// _fivetran_synced, one with it that the destination did not make, a view,
// and a table in another schema. Tests must not change it (copyDB).
func demoDB(t *testing.T) string {
	t.Helper()
	orgOnce.Do(func() {
		db := filepath.Join(orgDir, "demo.duckdb")
		cfg := &connector.Config{
			Destination: connector.Destination{Path: db, Settings: map[string]string{"threads": "1"}},
			Tables:      map[string]connector.TableConfig{"group_member": {History: true}, "users": {History: true}},
		}
		opt := connector.SyncOptions{Fetch: func(c *fetch.Config) {
			c.RetryBase, c.RetryMax = time.Millisecond, 20*time.Millisecond
			c.MaxRetries = 8
		}}
		if _, orgErr = connector.Demo(context.Background(), cfg, testDemo, opt); orgErr != nil {
			return
		}
		orgErr = execAll(db,
			"UPDATE groups SET _fivetran_deleted = true WHERE id = "+deletedGroup,
			"UPDATE system_log SET _fivetran_deleted = true WHERE id = "+deletedEvent,
			"UPDATE users SET _fivetran_active = false, _fivetran_end = _fivetran_start WHERE _fivetran_active AND id = "+closedUser,
			"CREATE TABLE scratch (a INTEGER)",
			"CREATE TABLE scratch_synced AS SELECT 1 AS a, now()::TIMESTAMP AS _fivetran_synced",
			"CREATE VIEW users_view AS SELECT * FROM users",
			"CREATE SCHEMA okta_models",
			"CREATE TABLE okta_models.groups AS SELECT * FROM groups",
		)
		orgDB = db
	})
	if orgErr != nil {
		t.Fatalf("demo database: %v", orgErr)
	}
	return orgDB
}

func execAll(path string, stmts ...string) error {
	db, err := sqlfiles.Open(path, false)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// copyDB copies a database file to a fresh one the test may change.
func copyDB(t *testing.T, src string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), "copy.duckdb")
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// runExport exports the database at path as the command does: opened
// read-only, closed after.
func runExport(t *testing.T, path string, opt Options) (*Result, error) {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return Run(context.Background(), db, opt)
}

// reader is an in-memory DuckDB with the database at path attached
// read-only as src, to compare the Parquet files with the tables.
func reader(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// One connection: the attachment belongs to it.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("ATTACH " + literal(path) + " AS src (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return n.Int64
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// parquet is the relation reading a table's exported files.
func parquet(out, table string) string {
	if table == "system_log" {
		return "(SELECT * EXCLUDE (day) FROM read_parquet(" + literal(filepath.Join(out, table, "*", "*.parquet")) + ", hive_partitioning = true))"
	}
	return "read_parquet(" + literal(filepath.Join(out, table, "*.parquet")) + ")"
}

// liveRows is the relation of a table's rows an export without
// --include-deleted should hold, by the columns the table has.
func liveRows(t *testing.T, r *sql.DB, table string) string {
	t.Helper()
	cols := queryStrings(t, r, "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'src' AND table_schema = 'main' AND table_name = "+literal(table))
	rel := "(SELECT * FROM src.main." + quote(table)
	switch {
	case slices.Contains(cols, "_fivetran_deleted"):
		rel += " WHERE NOT _fivetran_deleted"
	case slices.Contains(cols, "_fivetran_active"):
		rel += " WHERE _fivetran_active"
	default:
		t.Fatalf("%s has neither _fivetran_deleted nor _fivetran_active: %v", table, cols)
	}
	return rel + ")"
}

// oktaTables lists the tables of the database's main schema that are
// connector tables: what an export of everything should hold.
func oktaTables(t *testing.T, r *sql.DB) []string {
	t.Helper()
	var out []string
	for _, n := range queryStrings(t, r, "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src' AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1") {
		if connector.IsTable(n) {
			out = append(out, n)
		}
	}
	return out
}

func readManifest(t *testing.T, out string) *Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", ManifestFile, err)
	}
	return &m
}

// filesUnder lists the Parquet files under dir, relative to it.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestExport: an export of every table holds exactly the connector's tables
// (not oktasync's own, other schemas, views, or tables the destination did
// not make); each table's files hold, column for column and with the same
// types (JSON as strings), exactly its live rows: soft-deleted rows and
// closed versions are absent; the System Log is one Hive partition per day
// holding that day's events only; the manifest says what is there.
func TestExport(t *testing.T) {
	src := demoDB(t)
	out := filepath.Join(t.TempDir(), "snapshot")
	res, err := runExport(t, src, Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	r := reader(t, src)
	m := readManifest(t, out)
	if res.Out != out || m.Source != src || m.IncludeDeleted || m.Format != "parquet" {
		t.Errorf("result at %s, manifest: source %s, include_deleted %v, format %s; want %s, %s, false, parquet", res.Out, m.Source, m.IncludeDeleted, m.Format, out, src)
	}
	if age := time.Since(m.ExportedAt); age < 0 || age > time.Minute {
		t.Errorf("manifest exported_at %v is not the export's time", m.ExportedAt)
	}

	want := oktaTables(t, r)
	var got []string
	for _, mt := range m.Tables {
		got = append(got, mt.Name)
	}
	if !slices.Equal(got, want) || len(want) < 40 || !slices.Contains(want, "system_log") {
		t.Fatalf("manifest tables %v, want the connector's tables %v", got, want)
	}
	wantEntries := append([]string{ManifestFile}, want...)
	slices.Sort(wantEntries)
	if e := entries(t, out); !slices.Equal(e, wantEntries) {
		t.Errorf("%s holds %v, want %v", out, e, wantEntries)
	}

	for _, mt := range m.Tables {
		live := liveRows(t, r, mt.Name)
		pq := parquet(out, mt.Name)
		n := queryInt(t, r, "SELECT count(*) FROM "+pq)
		if wantN := queryInt(t, r, "SELECT count(*) FROM "+live); n != wantN || mt.Rows != wantN {
			t.Errorf("%s: %d rows in the files, %d in the manifest, want the %d live rows", mt.Name, n, mt.Rows, wantN)
		}
		// Every value, both ways, duplicates counted.
		for _, q := range []string{"SELECT * FROM " + live + " EXCEPT ALL SELECT * FROM " + pq, "SELECT * FROM " + pq + " EXCEPT ALL SELECT * FROM " + live} {
			if d := queryInt(t, r, "SELECT count(*) FROM ("+q+")"); d != 0 {
				t.Errorf("%s: %d rows differ: %s", mt.Name, d, q)
			}
		}
		// Types as in the database, JSON as strings.
		wantCols := queryStrings(t, r, "SELECT column_name || ' ' || replace(data_type, 'JSON', 'VARCHAR') FROM information_schema.columns WHERE table_catalog = 'src' AND table_schema = 'main' AND table_name = "+literal(mt.Name)+" ORDER BY ordinal_position")
		gotCols := queryStrings(t, r, "SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM "+pq+")")
		if !slices.Equal(gotCols, wantCols) {
			t.Errorf("%s: columns in the files %v, want %v", mt.Name, gotCols, wantCols)
		}
		var manCols []string
		for _, c := range mt.Columns {
			manCols = append(manCols, c.Name+" "+strings.ReplaceAll(c.Type, "JSON", "VARCHAR"))
		}
		if !slices.Equal(manCols, wantCols) {
			t.Errorf("%s: manifest columns %v, want %v", mt.Name, manCols, wantCols)
		}
		onDisk := filesUnder(t, out)
		onDisk = slices.DeleteFunc(onDisk, func(f string) bool { return !strings.HasPrefix(f, mt.Name+"/") })
		if !slices.Equal(mt.Files, onDisk) || len(onDisk) == 0 || mt.Path != mt.Name {
			t.Errorf("%s: manifest path %s, files %v; on disk %v", mt.Name, mt.Path, mt.Files, onDisk)
		}
	}
	byName := map[string]Table{}
	for _, mt := range m.Tables {
		byName[mt.Name] = mt
	}
	if u, g := byName["users"], byName["groups"]; u.Mode != ModeHistory || !slices.Equal(u.PrimaryKey, []string{"id", "_fivetran_start"}) ||
		g.Mode != ModeSoftDelete || !slices.Equal(g.PrimaryKey, []string{"id"}) {
		t.Errorf("users: mode %s, key %v; groups: mode %s, key %v; want history, [id _fivetran_start], soft_delete, [id]", u.Mode, u.PrimaryKey, g.Mode, g.PrimaryKey)
	}
	if p := byName["system_log"].Partition; p == nil || *p != (Partition{Column: "day", Type: "DATE", From: "published", Layout: "hive"}) {
		t.Errorf("system_log partition %+v", p)
	}

	// The deleted rows are in the database, and not in the files.
	for _, c := range []struct{ table, id string }{{"groups", deletedGroup}, {"system_log", deletedEvent}, {"users", closedUser}} {
		id := queryStrings(t, r, "SELECT "+strings.ReplaceAll(c.id, "FROM ", "FROM src.main."))[0]
		if n := queryInt(t, r, "SELECT count(*) FROM src.main."+c.table+" WHERE id = "+literal(id)); n == 0 {
			t.Fatalf("%s %s is not in the database", c.table, id)
		}
		if n := queryInt(t, r, "SELECT count(*) FROM "+parquet(out, c.table)+" WHERE id = "+literal(id)); n != 0 {
			t.Errorf("%s %s, deleted, is in the export %d times", c.table, id, n)
		}
	}

	checkDays(t, r, filepath.Join(out, "system_log"), queryStrings(t, r, "SELECT DISTINCT strftime(published, '%Y-%m-%d') FROM src.system_log WHERE NOT _fivetran_deleted ORDER BY 1"))
}

// checkDays: dir holds one day=YYYY-MM-DD directory for each day of want
// (day=__HIVE_DEFAULT_PARTITION__ for events without published), each with
// files that hold events of that day only and no day column (the Hive
// layout keeps it in the path).
func checkDays(t *testing.T, r *sql.DB, dir string, want []string) {
	t.Helper()
	var got []string
	for _, e := range entries(t, dir) {
		day, ok := strings.CutPrefix(e, "day=")
		if !ok || !regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}|`+hiveNull+`)$`).MatchString(day) {
			t.Errorf("%s: %s is no day partition", dir, e)
			continue
		}
		got = append(got, day)
		files := filesUnder(t, filepath.Join(dir, e))
		if len(files) == 0 {
			t.Errorf("%s: no file", e)
		}
		for _, f := range files {
			rel := "read_parquet(" + literal(filepath.Join(dir, e, f)) + ", hive_partitioning = false)"
			if n := queryInt(t, r, "SELECT count(*) FROM "+rel); n == 0 {
				t.Errorf("%s/%s: no rows", e, f)
			}
			if n := queryInt(t, r, "SELECT count(*) FROM "+rel+" WHERE coalesce(strftime(published, '%Y-%m-%d'), "+literal(hiveNull)+") <> "+literal(day)); n != 0 {
				t.Errorf("%s/%s: %d events of another day", e, f, n)
			}
			if n := queryInt(t, r, "SELECT count(*) FROM (DESCRIBE SELECT * FROM "+rel+") WHERE column_name = 'day'"); n != 0 {
				t.Errorf("%s/%s has a day column", e, f)
			}
		}
	}
	if !slices.Equal(got, want) || len(want) < 2 {
		t.Errorf("%s: partitions %v, want the days %v", dir, got, want)
	}
}

// TestExportIncludeDeleted: with IncludeDeleted every row is exported, the
// deleted ones flagged as in the database and the closed versions of
// history-mode tables with them.
func TestExportIncludeDeleted(t *testing.T) {
	src := demoDB(t)
	out := filepath.Join(t.TempDir(), "all")
	if _, err := runExport(t, src, Options{Out: out, IncludeDeleted: true, Tables: []string{"groups", "system_log", "users", "group_member"}}); err != nil {
		t.Fatal(err)
	}
	r := reader(t, src)
	m := readManifest(t, out)
	if !m.IncludeDeleted || len(m.Tables) != 4 {
		t.Fatalf("manifest: include_deleted %v, %d tables", m.IncludeDeleted, len(m.Tables))
	}
	for _, mt := range m.Tables {
		all := "src.main." + quote(mt.Name)
		pq := parquet(out, mt.Name)
		if n, want := queryInt(t, r, "SELECT count(*) FROM "+pq), queryInt(t, r, "SELECT count(*) FROM "+all); n != want || mt.Rows != want {
			t.Errorf("%s: %d rows in the files, %d in the manifest, want all %d", mt.Name, n, mt.Rows, want)
		}
		for _, q := range []string{"SELECT * FROM " + all + " EXCEPT ALL SELECT * FROM " + pq, "SELECT * FROM " + pq + " EXCEPT ALL SELECT * FROM " + all} {
			if d := queryInt(t, r, "SELECT count(*) FROM ("+q+")"); d != 0 {
				t.Errorf("%s: %d rows differ: %s", mt.Name, d, q)
			}
		}
	}
	for _, c := range []struct{ table, id, flag string }{
		{"groups", deletedGroup, "_fivetran_deleted"},
		{"system_log", deletedEvent, "_fivetran_deleted"},
		{"users", closedUser, "NOT _fivetran_active"},
	} {
		id := queryStrings(t, r, "SELECT "+strings.ReplaceAll(c.id, "FROM ", "FROM src.main."))[0]
		if n := queryInt(t, r, "SELECT count(*) FROM "+parquet(out, c.table)+" WHERE id = "+literal(id)+" AND "+c.flag); n != 1 {
			t.Errorf("%s %s: %d rows with %s in the export, want 1", c.table, id, n, c.flag)
		}
	}
	checkDays(t, r, filepath.Join(out, "system_log"), queryStrings(t, r, "SELECT DISTINCT strftime(published, '%Y-%m-%d') FROM src.system_log ORDER BY 1"))
}

// TestExportTables: Tables limits the export to the tables named, in any
// case; a name that is no synced table (unknown, oktasync's own, a table
// the destination did not make, a view) is an UnknownTableError naming it
// and the tables there are, and nothing is written.
func TestExportTables(t *testing.T) {
	src := demoDB(t)
	out := filepath.Join(t.TempDir(), "two")
	if _, err := runExport(t, src, Options{Out: out, Tables: []string{"users", "GROUPS"}}); err != nil {
		t.Fatal(err)
	}
	if e := entries(t, out); !slices.Equal(e, []string{ManifestFile, "groups", "users"}) {
		t.Errorf("%s holds %v, want the manifest, groups and users", out, e)
	}
	if m := readManifest(t, out); len(m.Tables) != 2 || m.Tables[0].Name != "groups" || m.Tables[1].Name != "users" {
		t.Errorf("manifest tables %+v", m.Tables)
	}

	for _, name := range []string{"nope", "_oktasync_state", "_oktasync_schema_changes", "scratch", "scratch_synced", "users_view"} {
		out := filepath.Join(t.TempDir(), "none")
		_, err := runExport(t, src, Options{Out: out, Tables: []string{"users", name}})
		var unknown *UnknownTableError
		if !errors.As(err, &unknown) || !slices.Equal(unknown.Names, []string{name}) || !slices.Contains(unknown.Known, "users") ||
			slices.Contains(unknown.Known, name) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "group_member") {
			t.Errorf("table %s: error %v, want an UnknownTableError naming it and listing the tables", name, err)
		}
		if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("table %s: %s exists after a refused export", name, out)
		}
	}
}

// TestExportOlderDatabase: in a database from before the destination
// recorded its tables (no _oktasync_tables), every table of the main schema
// with _fivetran_synced is a synced table, with no key in the manifest;
// oktasync's own tables still are not.
func TestExportOlderDatabase(t *testing.T) {
	src := copyDB(t, demoDB(t))
	if err := execAll(src, "DROP TABLE _oktasync_tables"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := runExport(t, src, Options{Out: out, Tables: []string{"groups", "scratch_synced"}}); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, out)
	if len(m.Tables) != 2 || m.Tables[0].Name != "groups" || m.Tables[0].PrimaryKey != nil || m.Tables[1].Name != "scratch_synced" || m.Tables[1].Rows != 1 {
		t.Errorf("manifest tables %+v", m.Tables)
	}
	_, err := runExport(t, src, Options{Out: filepath.Join(t.TempDir(), "out"), Tables: []string{"_oktasync_schema_changes"}})
	var unknown *UnknownTableError
	if !errors.As(err, &unknown) {
		t.Errorf("_oktasync_schema_changes: error %v, want an UnknownTableError", err)
	}
}

// TestExportEventWithoutTime: an event without published goes to the
// partition Hive, Spark and Trino read as a NULL day, and reads back.
func TestExportEventWithoutTime(t *testing.T) {
	src := copyDB(t, demoDB(t))
	if err := execAll(src, "UPDATE system_log SET published = NULL WHERE id = (SELECT max(id) FROM system_log)"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := runExport(t, src, Options{Out: out, Tables: []string{"system_log"}}); err != nil {
		t.Fatal(err)
	}
	r := reader(t, src)
	glob := literal(filepath.Join(out, "system_log", "*", "*.parquet"))
	if n := queryInt(t, r, "SELECT count(*) FROM read_parquet("+glob+", hive_partitioning = true) WHERE day IS NULL AND published IS NULL"); n != 1 {
		t.Errorf("%d events without published read back with a NULL day, want 1", n)
	}
	if files := filesUnder(t, filepath.Join(out, "system_log", "day=__HIVE_DEFAULT_PARTITION__")); len(files) != 1 {
		t.Errorf("NULL partition: files %v", files)
	}
	checkDays(t, r, filepath.Join(out, "system_log"), queryStrings(t, r, "SELECT DISTINCT coalesce(strftime(published, '%Y-%m-%d'), '__HIVE_DEFAULT_PARTITION__') FROM src.system_log WHERE NOT _fivetran_deleted ORDER BY 1"))
}

// TestExportRefusesToReplace: a directory that is not empty is refused,
// untouched; with Overwrite, only a previous export is replaced, whole; an
// empty directory is used; a file is refused; no temporary directory is
// left beside any of them.
func TestExportRefusesToReplace(t *testing.T) {
	src := demoDB(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(out, "keep.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, overwrite := range []bool{false, true} {
		_, err := runExport(t, src, Options{Out: out, Tables: []string{"groups"}, Overwrite: overwrite})
		want := "not empty; --overwrite replaces it"
		if overwrite {
			want = "holds no _manifest.json, so it is no export; refusing to replace it"
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), out) {
			t.Errorf("overwrite %v: error %v, want it to name %s and say %q", overwrite, err, out, want)
		}
		if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" || len(entries(t, out)) != 1 {
			t.Errorf("overwrite %v: %s changed: %q, %v, %v", overwrite, out, b, err, entries(t, out))
		}
	}

	file := filepath.Join(parent, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := runExport(t, src, Options{Out: file, Overwrite: true, Tables: []string{"groups"}}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as output: error %v", err)
	}

	prev := filepath.Join(parent, "prev")
	os.Mkdir(prev, 0o755) // empty: used
	if _, err := runExport(t, src, Options{Out: prev, Tables: []string{"users"}}); err != nil {
		t.Fatalf("into an empty directory: %v", err)
	}
	if _, err := runExport(t, src, Options{Out: prev, Tables: []string{"groups"}}); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("over an export without Overwrite: error %v", err)
	}
	if _, err := runExport(t, src, Options{Out: prev, Tables: []string{"groups"}, Overwrite: true}); err != nil {
		t.Fatalf("over an export with Overwrite: %v", err)
	}
	if e := entries(t, prev); !slices.Equal(e, []string{ManifestFile, "groups"}) {
		t.Errorf("after Overwrite %s holds %v, want the new export only", prev, e)
	}
	if e := entries(t, parent); !slices.Equal(e, []string{"file", "out", "prev"}) {
		t.Errorf("%s holds %v: a temporary or old directory is left", parent, e)
	}
	if fi, err := os.Stat(prev); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("%s: %v, %v; want a directory others may read", prev, fi.Mode(), err)
	}
}

// TestExportFailureLeavesNothing: an export that fails midway (here: its
// context ends after some tables are written) leaves no output directory,
// or the previous export as it was, and no temporary directory.
func TestExportFailureLeavesNothing(t *testing.T) {
	src := demoDB(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	fail := func(opt Options) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var done []string
		opt.Out = out
		opt.Progress = func(tb Table, n, total int) {
			done = append(done, tb.Name)
			if n == 3 {
				cancel()
			}
		}
		db, err := Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = Run(ctx, db, opt)
		if len(done) != 3 {
			t.Errorf("%d tables written before the failure, want 3", len(done))
		}
		return err
	}

	if err := fail(Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if e := entries(t, parent); len(e) != 0 {
		t.Errorf("after a failed export %s holds %v", parent, e)
	}

	if _, err := runExport(t, src, Options{Out: out, Tables: []string{"users"}}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(out, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := fail(Options{Overwrite: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("over an export: error %v, want context.Canceled", err)
	}
	after, err := os.ReadFile(filepath.Join(out, ManifestFile))
	if err != nil || string(after) != string(before) || !slices.Equal(entries(t, out), []string{ManifestFile, "users"}) {
		t.Errorf("the previous export changed after a failed one: %v, %v", err, entries(t, out))
	}
	if e := entries(t, parent); !slices.Equal(e, []string{"out"}) {
		t.Errorf("after a failed export %s holds %v", parent, e)
	}
}

// TestExportSnapshot: every table is read in one transaction. A row
// committed to a table after the export began, while it writes the tables
// before it, is not in the export, and the export's tables agree with each
// other as of its start.
func TestExportSnapshot(t *testing.T) {
	path := copyDB(t, demoDB(t))
	db, err := sqlfiles.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var before int64
	if err := db.QueryRow("SELECT count(*) FROM groups WHERE NOT _fivetran_deleted").Scan(&before); err != nil {
		t.Fatal(err)
	}
	inserted := false
	out := filepath.Join(t.TempDir(), "out")
	_, err = Run(context.Background(), db, Options{Out: out, Tables: []string{"application", "groups"}, Progress: func(tb Table, _, _ int) {
		if tb.Name != "application" {
			return
		}
		// Another connection of the pool: the export's transaction holds one.
		if _, err := db.Exec("INSERT INTO groups SELECT * REPLACE ('00g-added-during-export' AS id) FROM groups WHERE NOT _fivetran_deleted LIMIT 1"); err != nil {
			t.Errorf("insert: %v", err)
			return
		}
		inserted = true
	}})
	if err != nil {
		t.Fatal(err)
	}
	var after int64
	if err := db.QueryRow("SELECT count(*) FROM groups WHERE NOT _fivetran_deleted").Scan(&after); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, out)
	if !inserted || after != before+1 {
		t.Fatalf("the insert during the export did not land: %v, %d rows before, %d after", inserted, before, after)
	}
	if g := m.Tables[1]; g.Name != "groups" || g.Rows != before {
		t.Errorf("%s: %d rows exported, want the %d there when the export began (%d now)", g.Name, g.Rows, before, after)
	}
}
