package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"oktasync/internal/connector"
	"oktasync/internal/pgtest"
	"oktasync/runtime/dest/postgres"
	"oktasync/runtime/fetch"
)

// pgSchema syncs testDemo into a fresh PostgreSQL schema, users in history
// mode, and then, as a sync would have, marks one group and one System Log
// event deleted and closes one user's active version; beside the synced
// tables it adds a table with _fivetran_synced the destination did not
// make and a view. It returns the schema, open.
func pgSchema(t *testing.T) (dsn string, pg *postgres.DB) {
	t.Helper()
	dsn = pgtest.DSN(t)
	schema := pgtest.Schema(t, "export")
	t.Setenv("OKTASYNC_EXPORT_TEST_DSN", dsn)
	cfg := &connector.Config{
		Destination: connector.Destination{Type: connector.DestPostgres, DSNEnv: "OKTASYNC_EXPORT_TEST_DSN", Schema: schema},
		Tables:      map[string]connector.TableConfig{"users": {History: true}},
	}
	opt := connector.SyncOptions{Fetch: func(c *fetch.Config) {
		c.RetryBase, c.RetryMax = time.Millisecond, 20*time.Millisecond
		c.MaxRetries = 8
	}}
	if _, err := connector.Demo(context.Background(), cfg, testDemo, opt); err != nil {
		t.Fatalf("sync into postgres: %v", err)
	}
	s := quote(schema) + "."
	pgtest.Exec(t, dsn,
		"UPDATE "+s+"groups SET _fivetran_deleted = true WHERE id = (SELECT min(id) FROM "+s+"groups)",
		"UPDATE "+s+"system_log SET _fivetran_deleted = true WHERE id = (SELECT min(id) FROM "+s+"system_log)",
		"UPDATE "+s+"users SET _fivetran_active = false, _fivetran_end = _fivetran_start WHERE _fivetran_active AND id = (SELECT min(id) FROM "+s+"users)",
		"CREATE TABLE "+s+"scratch_synced AS SELECT 1 AS a, now()::timestamp AS _fivetran_synced",
		"CREATE VIEW "+s+"users_view AS SELECT * FROM "+s+"users",
	)
	pg, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return dsn, pg
}

// pgConn is a connection of the test's own to the server.
func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// pgColumns lists a table's columns and their types (format_type).
func pgColumns(t *testing.T, c *pgx.Conn, schema, table string) (names, types []string) {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
		WHERE n.nspname = $1 AND cl.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, schema, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			t.Fatal(err)
		}
		names, types = append(names, n), append(types, typ)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names, types
}

// cell writes a value read from either database the same way, so that rows
// compare as strings.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return strconv.Quote(x)
	case []byte:
		return strconv.Quote(string(x))
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprintf("%T %v", v, v)
}

// pgRows reads a table's rows, JSON as its text, each as one string,
// sorted; where, if not empty, filters them.
func pgRows(t *testing.T, c *pgx.Conn, schema, table, where string) []string {
	t.Helper()
	names, types := pgColumns(t, c, schema, table)
	sel := make([]string, len(names))
	for i, n := range names {
		sel[i] = quote(n)
		if types[i] == "json" {
			sel[i] += "::text"
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + quote(schema) + "." + quote(table) + " " + where
	rows, err := c.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, joinCells(vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// parquetRows reads a table's exported rows as pgRows does.
func parquetRows(t *testing.T, r *sql.DB, out, table string) []string {
	t.Helper()
	rows, err := r.Query("SELECT * FROM " + parquet(out, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var got []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		got = append(got, joinCells(vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

func joinCells(vals []any) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = cell(v)
	}
	return strings.Join(s, "|")
}

// liveWhere filters a table's rows to those an export without
// IncludeDeleted holds, by the columns it has.
func liveWhere(t *testing.T, names []string) string {
	t.Helper()
	switch {
	case slices.Contains(names, "_fivetran_deleted"):
		return "WHERE NOT _fivetran_deleted"
	case slices.Contains(names, "_fivetran_active"):
		return "WHERE _fivetran_active"
	}
	t.Fatalf("neither _fivetran_deleted nor _fivetran_active in %v", names)
	return ""
}

// wantType is the DuckDB type of a PostgreSQL destination's column type:
// the types the DuckDB destination gives the same columns.
var wantType = map[string]string{
	"text": "VARCHAR", "integer": "INTEGER", "bigint": "BIGINT", "double precision": "DOUBLE",
	"boolean": "BOOLEAN", "timestamp without time zone": "TIMESTAMP", "json": "JSON",
}

// memDuckDB is an in-memory DuckDB to read Parquet with.
func memDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestExportPostgres exports a PostgreSQL destination: every synced table
// and only those, each with exactly the live rows of the schema, value for
// value, typed as the DuckDB destination types them (JSON as strings); the
// System Log in day partitions; the deleted rows left out, and included,
// flagged, with IncludeDeleted; a manifest whose source names the server
// and schema and never the password; one snapshot across tables; and no
// temporary file left behind, whether the export succeeds or fails.
func TestExportPostgres(t *testing.T) {
	dsn, pg := pgSchema(t)
	schema := pg.Schema()
	c := pgConn(t, dsn)
	r := memDuckDB(t)
	pcfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// noSecret fails the test if the password is in s, which must then not
	// be printed.
	noSecret := func(what, s string) bool {
		t.Helper()
		if pcfg.Password != "" && strings.Contains(s, pcfg.Password) {
			t.Errorf("%s holds the password", what)
			return false
		}
		return true
	}
	var synced []string // the synced tables, as the schema holds them
	for _, n := range queryPg(t, c, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`, schema) {
		if connector.IsTable(n) {
			synced = append(synced, n)
		}
	}
	if len(synced) < 40 || !slices.Contains(synced, "system_log") {
		t.Fatalf("the schema holds only %v", synced)
	}

	t.Run("every table", func(t *testing.T) {
		parent := t.TempDir()
		out := filepath.Join(parent, "snapshot")
		res, err := RunPostgres(context.Background(), pg, Options{Out: out})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		if !noSecret("the manifest", string(b)) {
			t.FailNow()
		}
		m := readManifest(t, out)
		if m.Source != "postgres "+pg.Where() || !strings.Contains(m.Source, "schema "+schema) || !strings.Contains(m.Source, pcfg.Host) ||
			!strings.Contains(m.Source, "/"+pcfg.Database+" ") || m.IncludeDeleted || res.Out != out {
			t.Errorf("manifest source %q, include_deleted %v; want postgres %s", m.Source, m.IncludeDeleted, pg.Where())
		}
		if age := time.Since(m.ExportedAt); age < 0 || age > time.Minute {
			t.Errorf("exported_at %v is not the export's time", m.ExportedAt)
		}
		var got []string
		for _, mt := range m.Tables {
			got = append(got, mt.Name)
		}
		if !slices.Equal(got, synced) {
			t.Fatalf("manifest tables %v, want the synced tables %v", got, synced)
		}
		// The temporary DuckDB copy is gone: only the export is there.
		if e := entries(t, parent); !slices.Equal(e, []string{"snapshot"}) {
			t.Errorf("%s holds %v after the export, want only snapshot", parent, e)
		}

		rows := 0
		for _, mt := range m.Tables {
			names, types := pgColumns(t, c, schema, mt.Name)
			want := pgRows(t, c, schema, mt.Name, liveWhere(t, names))
			gotRows := parquetRows(t, r, out, mt.Name)
			if mt.Rows != int64(len(want)) || len(gotRows) != len(want) {
				t.Errorf("%s: %d rows in the files, %d in the manifest, want the %d live rows", mt.Name, len(gotRows), mt.Rows, len(want))
			} else if !slices.Equal(gotRows, want) {
				for i := range want {
					if gotRows[i] != want[i] {
						t.Errorf("%s: rows differ; first:\n  postgres: %.300s\n  parquet:  %.300s", mt.Name, want[i], gotRows[i])
						break
					}
				}
			}
			rows += len(want)
			var wantCols, manCols []string
			for i, n := range names {
				wantCols = append(wantCols, n+" "+wantType[types[i]])
			}
			for _, col := range mt.Columns {
				manCols = append(manCols, col.Name+" "+col.Type)
			}
			if !slices.Equal(manCols, wantCols) {
				t.Errorf("%s: manifest columns %v, want %v", mt.Name, manCols, wantCols)
			}
			fileCols := queryStrings(t, r, "SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM "+parquet(out, mt.Name)+")")
			for i := range wantCols {
				wantCols[i] = strings.Replace(wantCols[i], " JSON", " VARCHAR", 1)
			}
			if !slices.Equal(fileCols, wantCols) {
				t.Errorf("%s: columns in the files %v, want %v", mt.Name, fileCols, wantCols)
			}
		}
		if rows < 5000 {
			t.Errorf("only %d rows compared: the comparison proves little", rows)
		}

		byName := map[string]Table{}
		for _, mt := range m.Tables {
			byName[mt.Name] = mt
		}
		if u, g := byName["users"], byName["groups"]; u.Mode != ModeHistory || !slices.Equal(u.PrimaryKey, []string{"id", "_fivetran_start"}) ||
			g.Mode != ModeSoftDelete || !slices.Equal(g.PrimaryKey, []string{"id"}) {
			t.Errorf("users: mode %s, key %v; groups: mode %s, key %v; want history, [id _fivetran_start], soft_delete, [id]", u.Mode, u.PrimaryKey, g.Mode, g.PrimaryKey)
		}
		if p := byName["system_log"].Partition; p == nil || p.From != "published" {
			t.Errorf("system_log partition %+v", p)
		}
		days := queryPg(t, c, "SELECT DISTINCT to_char(published, 'YYYY-MM-DD') FROM "+quote(schema)+".system_log WHERE NOT _fivetran_deleted ORDER BY 1")
		checkDays(t, r, filepath.Join(out, "system_log"), days)

		// The rows marked deleted are in the schema, and not in the files.
		for _, d := range deletedRows(t, c, schema) {
			if n := queryInt(t, r, "SELECT count(*) FROM "+parquet(out, d.table)+" WHERE id = "+literal(d.id)+" AND "+d.flag); n != 0 {
				t.Errorf("%s %s, deleted, is in the export %d times", d.table, d.id, n)
			}
		}
	})

	t.Run("include deleted", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "all")
		tables := []string{"groups", "system_log", "USERS"}
		if _, err := RunPostgres(context.Background(), pg, Options{Out: out, IncludeDeleted: true, Tables: tables}); err != nil {
			t.Fatal(err)
		}
		m := readManifest(t, out)
		if !m.IncludeDeleted || len(m.Tables) != 3 {
			t.Fatalf("manifest: include_deleted %v, tables %+v", m.IncludeDeleted, m.Tables)
		}
		for _, mt := range m.Tables {
			want := pgRows(t, c, schema, mt.Name, "")
			if got := parquetRows(t, r, out, mt.Name); !slices.Equal(got, want) || mt.Rows != int64(len(want)) {
				t.Errorf("%s: %d rows in the files (%d in the manifest), want all %d, value for value", mt.Name, len(got), mt.Rows, len(want))
			}
		}
		for _, d := range deletedRows(t, c, schema) {
			if n := queryInt(t, r, "SELECT count(*) FROM "+parquet(out, d.table)+" WHERE id = "+literal(d.id)+" AND "+d.flag); n != 1 {
				t.Errorf("%s %s: %d rows with %s in the export, want 1", d.table, d.id, n, d.flag)
			}
		}
	})

	t.Run("tables", func(t *testing.T) {
		parent := t.TempDir()
		for _, name := range []string{"nope", "_oktasync_tables", "_oktasync_state", "scratch_synced", "users_view"} {
			out := filepath.Join(parent, "none")
			_, err := RunPostgres(context.Background(), pg, Options{Out: out, Tables: []string{"users", name}})
			var unknown *UnknownTableError
			if !errors.As(err, &unknown) || !slices.Equal(unknown.Names, []string{name}) || !slices.Contains(unknown.Known, "group_member") ||
				!strings.Contains(err.Error(), "schema "+schema) {
				t.Errorf("table %s: error %v, want an UnknownTableError naming it, the schema and the tables", name, err)
			}
		}
		if e := entries(t, parent); len(e) != 0 {
			t.Errorf("%s holds %v after refused exports", parent, e)
		}
	})

	t.Run("no synced table", func(t *testing.T) {
		empty, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: "export_none_" + strconv.FormatInt(time.Now().UnixNano(), 36)})
		if err != nil {
			t.Fatal(err)
		}
		defer empty.Close()
		_, err = RunPostgres(context.Background(), empty, Options{Out: filepath.Join(t.TempDir(), "out")})
		if err != nil && !noSecret("the error", err.Error()) {
			return
		}
		if err == nil || !strings.Contains(err.Error(), "no synced table") || !strings.Contains(err.Error(), empty.Where()) {
			t.Errorf("error %v, want one naming %s and saying it holds no synced table", err, empty.Where())
		}
	})

	t.Run("failure leaves nothing", func(t *testing.T) {
		parent := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		afterCopy = func(string) {
			if n++; n == 3 {
				cancel()
			}
		}
		t.Cleanup(func() { afterCopy = nil })
		_, err := RunPostgres(ctx, pg, Options{Out: filepath.Join(parent, "out")})
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "schema "+schema) {
			t.Errorf("error %v, want context.Canceled naming the schema", err)
		}
		if e := entries(t, parent); len(e) != 0 {
			t.Errorf("after a failed export %s holds %v", parent, e)
		}
	})

	// The tables not yet read are locked from the start: a sync cannot
	// change or replace them (the snapshot would see a replaced table
	// empty) until the export has read them.
	t.Run("locks", func(t *testing.T) {
		other := pgConn(t, dsn)
		var alterErr error
		afterCopy = func(table string) {
			if table != "application" {
				return
			}
			ctx := context.Background()
			if _, err := other.Exec(ctx, "SET lock_timeout = '300ms'"); err != nil {
				t.Fatal(err)
			}
			_, alterErr = other.Exec(ctx, "ALTER TABLE "+quote(schema)+".groups ADD COLUMN added_during_export text")
		}
		t.Cleanup(func() {
			afterCopy = nil
			pgtest.Exec(t, dsn, "ALTER TABLE "+quote(schema)+".groups DROP COLUMN IF EXISTS added_during_export")
		})
		out := filepath.Join(t.TempDir(), "out")
		if _, err := RunPostgres(context.Background(), pg, Options{Out: out, Tables: []string{"groups", "application"}}); err != nil {
			t.Fatal(err)
		}
		var pe *pgconn.PgError
		if !errors.As(alterErr, &pe) || pe.Code != "55P03" {
			t.Errorf("ALTER TABLE groups while the export had read application only: error %v, want lock_not_available (55P03)", alterErr)
		}
	})

	// Last: it adds a group to the schema.
	t.Run("snapshot", func(t *testing.T) {
		live := "SELECT count(*) FROM " + quote(schema) + ".groups WHERE NOT _fivetran_deleted"
		before := queryPgInt(t, c, live)
		inserted := false
		afterCopy = func(table string) {
			if table != "application" {
				return
			}
			// Another connection, committed while the export's
			// transaction is open and has read application only.
			s := quote(schema) + "."
			pgtest.Exec(t, dsn,
				"CREATE TEMP TABLE added AS SELECT * FROM "+s+"groups WHERE NOT _fivetran_deleted LIMIT 1",
				"UPDATE added SET id = '00g-added-during-export'",
				"INSERT INTO "+s+"groups SELECT * FROM added")
			inserted = true
		}
		t.Cleanup(func() { afterCopy = nil })
		out := filepath.Join(t.TempDir(), "out")
		if _, err := RunPostgres(context.Background(), pg, Options{Out: out, Tables: []string{"groups", "application"}}); err != nil {
			t.Fatal(err)
		}
		after := queryPgInt(t, c, live)
		if !inserted || after != before+1 {
			t.Fatalf("the insert during the export did not land: %v, %d rows before, %d after", inserted, before, after)
		}
		m := readManifest(t, out)
		if g := m.Tables[1]; g.Name != "groups" || g.Rows != before {
			t.Errorf("%s: %d rows exported, want the %d there when the export began (%d now)", g.Name, g.Rows, before, after)
		}
		if n := queryInt(t, r, "SELECT count(*) FROM "+parquet(out, "groups")+" WHERE id = '00g-added-during-export'"); n != 0 {
			t.Errorf("the group added during the export is in it")
		}
	})
}

// deleted is a row pgSchema marked deleted, and the condition that holds
// for it as marked.
type deleted struct{ table, id, flag string }

func deletedRows(t *testing.T, c *pgx.Conn, schema string) []deleted {
	t.Helper()
	s := quote(schema) + "."
	out := []deleted{
		{"groups", queryPg(t, c, "SELECT id FROM "+s+"groups WHERE _fivetran_deleted")[0], "_fivetran_deleted"},
		{"system_log", queryPg(t, c, "SELECT id FROM "+s+"system_log WHERE _fivetran_deleted")[0], "_fivetran_deleted"},
		{"users", queryPg(t, c, "SELECT id FROM "+s+"users WHERE NOT _fivetran_active")[0], "NOT _fivetran_active"},
	}
	return out
}

func queryPg(t *testing.T, c *pgx.Conn, q string, args ...any) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return out
}

func queryPgInt(t *testing.T, c *pgx.Conn, q string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return n
}
