package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"oktasync/internal/pgtest"
	"oktasync/runtime"
	"oktasync/runtime/dest/desttest"
)

func TestConformance(t *testing.T) {
	dsn := pgtest.DSN(t)
	var mu sync.Mutex
	schemas := map[string]string{}
	desttest.Run(t, func(t *testing.T, dir string, crash func(string) error) desttest.Destination {
		// The suite reopens a destination by its directory: one schema each.
		mu.Lock()
		schema, ok := schemas[dir]
		if !ok {
			sum := sha256.Sum256([]byte(dir))
			schema = "desttest_" + hex.EncodeToString(sum[:6])
			schemas[dir] = schema
			t.Cleanup(func() { pgtest.Exec(t, dsn, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`) })
		}
		mu.Unlock()
		d, err := Open(context.Background(), dsn, Options{Schema: schema, CrashPoint: crash})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func open(t *testing.T, schema string) *DB {
	t.Helper()
	d, err := Open(context.Background(), pgtest.DSN(t), Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func dump(t *testing.T, d *DB, table string) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.Dump(context.Background(), table, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestIdent(t *testing.T) {
	long := strings.Repeat("x", 54) + "_push_with_number_challenge_response_type"
	other := strings.Repeat("x", 54) + "_push_with_number_challenge_response_kind"
	if got := Ident("short"); got != "short" {
		t.Errorf("Ident(short) = %q", got)
	}
	a, b := Ident(long), Ident(other)
	if len(a) > maxIdent || len(b) > maxIdent || a == b || Ident(long) != a || Ident(a) != a {
		t.Errorf("Ident of two long names sharing a start: %q, %q (want at most %d bytes, distinct, stable, idempotent)", a, b, maxIdent)
	}
	// A multi-byte character is never cut in the middle.
	u := Ident(strings.Repeat("é", 40))
	if !utf8.ValidString(u) || len(u) > maxIdent {
		t.Errorf("Ident of a long UTF-8 name = %q (%d bytes)", u, len(u))
	}
}

// TestLongNames: dynamic columns whose names PostgreSQL would cut at 63
// bytes, two of them alike in their first 63, land in two columns, found
// again by their full names in the next batch and after a reopen.
func TestLongNames(t *testing.T) {
	schema := pgtest.Schema(t, "longnames")
	ev := &runtime.Table{
		Name:       "event_with_a_rather_long_table_name_that_postgres_would_cut_short_x",
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString}},
		Dynamic:    []runtime.DynamicColumns{{Path: "d", Prefix: "debug_", Type: runtime.TypeString}},
	}
	a := "debug_" + strings.Repeat("attribute_", 6) + "one_that_differs_only_at_the_end_a"
	b := "debug_" + strings.Repeat("attribute_", 6) + "one_that_differs_only_at_the_end_b"
	synced := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	commit := func(d *DB, id string, fields ...runtime.Field) {
		t.Helper()
		if err := d.Prepare(context.Background(), []*runtime.Table{ev}); err != nil {
			t.Fatal(err)
		}
		batch := &runtime.Batch{Table: ev, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{
			ev: {Rows: [][]any{{id}}, Dynamic: [][]runtime.Field{fields}}}}
		if err := d.Commit(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	d := open(t, schema)
	commit(d, "e1", runtime.Field{Name: a, Value: "A"}, runtime.Field{Name: b, Value: "B"})
	commit(d, "e2", runtime.Field{Name: a, Value: "A2"})
	d.Close()
	d = open(t, schema)
	commit(d, "e3", runtime.Field{Name: b, Value: "B3"})
	want := "id,_fivetran_synced,_fivetran_deleted," + Ident(a) + "," + Ident(b) + "\n" +
		"e1,2024-03-01 00:00:00.000,false,A,B\n" +
		"e2,2024-03-01 00:00:00.000,false,A2,\n" +
		"e3,2024-03-01 00:00:00.000,false,,B3\n"
	if got := dump(t, d, ev.Name); got != want {
		t.Errorf("dump:\n%s\nwant:\n%s", got, want)
	}
}

// TestTextPostgresRefuses: NUL bytes and invalid UTF-8, which DuckDB
// stores and PostgreSQL's text refuses, land as U+FFFD rather than failing
// the batch; JSON's escaped NUL stays as sent.
func TestTextPostgresRefuses(t *testing.T) {
	schema := pgtest.Schema(t, "text")
	tb := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []runtime.Column{
		{Name: "id", Type: runtime.TypeString}, {Name: "s", Type: runtime.TypeString}, {Name: "j", Type: runtime.TypeJSON}}}
	d := open(t, schema)
	if err := d.Prepare(context.Background(), []*runtime.Table{tb}); err != nil {
		t.Fatal(err)
	}
	b := &runtime.Batch{Table: tb, Synced: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		Rows: map[*runtime.Table]*runtime.RowSet{tb: {Rows: [][]any{{"a\x00b", "x\xffy\x00", `{"k":"\u0000"}`}}}}}
	if err := d.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := "id,s,j,_fivetran_synced,_fivetran_deleted\n" +
		"a\uFFFDb,x\uFFFDy\uFFFD,\"{\"\"k\"\":\"\"\\u0000\"\"}\",2024-03-01 00:00:00.000,false\n"
	if got := dump(t, d, "t"); got != want {
		t.Errorf("dump:\n%q\nwant:\n%q", got, want)
	}
}
