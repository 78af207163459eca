package duckdb

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"

	"oktasync/runtime"
	"oktasync/runtime/dest/desttest"
)

func TestConformance(t *testing.T) {
	desttest.Run(t, func(t *testing.T, dir string, crash func(string) error) desttest.Destination {
		// One thread: the suite's statements are tiny, and a second thread
		// only adds coordination (about a third of the suite's CPU).
		d, err := Open(filepath.Join(dir, "test.duckdb"), Options{CrashPoint: crash, Settings: map[string]string{"threads": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

var (
	t1 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	t2 = t1.Add(time.Hour)
)

func open(t *testing.T, path string, opts Options) *DB {
	t.Helper()
	d, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// dump returns a table's CSV.
func dump(t *testing.T, d *DB, table string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := d.Dump(context.Background(), table, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// snapshot is every table's dump and the state.
func snapshot(t *testing.T, d *DB, tables ...string) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range tables {
		fmt.Fprintf(&b, "== %s\n%s", tb, dump(t, d, tb))
	}
	st, err := d.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(st)
	fmt.Fprintf(&b, "== state\n%s\n", js)
	return b.String()
}

// family is users with children, a fan-out table of users and a log with
// dynamic columns, for the tests below.
type family struct {
	users, emails, profile, member, log *runtime.Table
}

func newFamily() *family {
	f := &family{}
	f.users, f.emails, f.profile = userTables()
	f.member = &runtime.Table{
		Name: "membership", FanOut: &runtime.FanOut{Parent: "users", Fields: []string{"id"}},
		PrimaryKey: []string{"users_id", "group_id"}, ParentKey: []string{"users_id"},
		Columns: []runtime.Column{{Name: "users_id", Type: runtime.TypeString}, {Name: "group_id", Type: runtime.TypeString}},
	}
	f.log, _, _ = logTables()
	return f
}

func (f *family) tables() []*runtime.Table { return []*runtime.Table{f.users, f.member, f.log} }

func (f *family) names() []string {
	return []string{"users", "user_email", "user_profile", "membership", "events", "event_target", "event_ip"}
}

// setup writes a first run: 20 users and their memberships, 10 events.
func (f *family) setup(t *testing.T, d *DB) {
	t.Helper()
	ctx := context.Background()
	if err := d.Prepare(ctx, f.tables()); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*runtime.Batch{f.usersBatch(0, 20, t1, false), f.memberBatch(t1), logBatch(0, 10, t1)} {
		if err := d.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

// usersBatch rebinds a userBatch to the family's tables, optionally ending a
// full import.
func (f *family) usersBatch(first, n int, synced time.Time, sweep bool) *runtime.Batch {
	ub := userBatch(first, n, synced)
	b := &runtime.Batch{Table: f.users, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{},
		Replace: map[*runtime.Table][][]any{}, State: runtime.TableState{Cursor: synced.String()}}
	for tb, rs := range ub.Rows {
		b.Rows[f.byName(tb.Name)] = rs
	}
	for tb, keys := range ub.Replace {
		b.Replace[f.byName(tb.Name)] = keys
	}
	if sweep {
		b.Sweep = &runtime.Sweep{Before: synced, FanOut: []*runtime.Table{f.member}}
		b.State.LastFullImport = synced
	}
	return b
}

func (f *family) byName(name string) *runtime.Table {
	for _, t := range []*runtime.Table{f.users, f.emails, f.profile, f.member} {
		if t.Name == name {
			return t
		}
	}
	panic(name)
}

func (f *family) memberBatch(synced time.Time) *runtime.Batch {
	b := &runtime.Batch{Table: f.member, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{f.member: {}},
		Replace: map[*runtime.Table][][]any{}}
	for i := range 20 {
		id := fmt.Sprintf("00u%017d", i)
		b.Rows[f.member].Rows = append(b.Rows[f.member].Rows, []any{id, "g1"}, []any{id, "g2"})
		b.Replace[f.member] = append(b.Replace[f.member], []any{id})
	}
	return b
}

// subject is a second run's full import of users 5..24 (0..4 are gone):
// updates, inserts, child replacement, a sweep into the fan-out table.
func (f *family) subject() *runtime.Batch { return f.usersBatch(5, 20, t2, true) }

func TestStages(t *testing.T) {
	var got []string
	fam := newFamily()
	d := open(t, "", Options{CrashPoint: func(stage string) error {
		got = append(got, stage)
		return nil
	}})
	fam.setup(t, d)
	got = nil
	if err := d.Commit(context.Background(), fam.subject()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Stages(), got); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
}

// TestCrashAtEveryStage aborts the same commit at each stage in turn: the
// database holds nothing of it (all of it after "committed"), and retrying
// the batch gives the tables of an uninterrupted run.
func TestCrashAtEveryStage(t *testing.T) {
	fam := newFamily()
	ref := open(t, "", Options{})
	fam.setup(t, ref)
	before := snapshot(t, ref, fam.names()...)
	if err := ref.Commit(context.Background(), fam.subject()); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, ref, fam.names()...)
	if want == before {
		t.Fatal("the subject batch changes nothing")
	}

	errCrash := errors.New("crash")
	for _, stage := range Stages() {
		t.Run(stage, func(t *testing.T) {
			armed := false
			d := open(t, filepath.Join(t.TempDir(), "db.duckdb"), Options{CrashPoint: func(s string) error {
				if armed && s == stage {
					return errCrash
				}
				return nil
			}})
			fam.setup(t, d)
			armed = true
			err := d.Commit(context.Background(), fam.subject())
			armed = false
			if !errors.Is(err, errCrash) {
				t.Fatalf("Commit error = %v, want the crash", err)
			}
			if !strings.Contains(err.Error(), "users") {
				t.Errorf("error %q does not name the table", err)
			}
			wantNow := before
			if stage == "committed" {
				wantNow = want
			}
			if diff := cmp.Diff(wantNow, snapshot(t, d, fam.names()...)); diff != "" {
				t.Errorf("after the crash (-want +got):\n%s", diff)
			}
			assertNoTempTables(t, d)
			if err := d.Commit(context.Background(), fam.subject()); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if diff := cmp.Diff(want, snapshot(t, d, fam.names()...)); diff != "" {
				t.Errorf("after the retry (-uninterrupted +retried):\n%s", diff)
			}
		})
	}
}

func assertNoTempTables(t *testing.T, d *DB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	conn, err := d.writer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM duckdb_tables() WHERE temporary`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d staging tables left behind", n)
	}
}

func TestStagingIsCleanedUp(t *testing.T) {
	fam := newFamily()
	d := open(t, "", Options{})
	fam.setup(t, d)
	assertNoTempTables(t, d)
	bad := fam.subject()
	bad.Rows[fam.emails].Rows[3] = []any{"short row"}
	if err := d.Commit(context.Background(), bad); err == nil {
		t.Fatal("a bad batch committed")
	}
	assertNoTempTables(t, d)
}

// TestWALReplay copies the database files right after each commit, as a kill
// -9 would leave them, and opens the copy: DuckDB replays its write-ahead
// log, merges of existing keys and appended rows included, into the same
// tables.
func TestWALReplay(t *testing.T) {
	fam := newFamily()
	dir := t.TempDir()
	path := filepath.Join(dir, "live.duckdb")
	d := open(t, path, Options{})
	fam.setup(t, d)
	appended := logBatch(100, 10, t2)
	appended.Append, appended.Dedupe = true, true
	batches := []*runtime.Batch{fam.subject(), fam.usersBatch(10, 5, t2.Add(time.Hour), false), logBatch(5, 10, t2), appended}
	for i, b := range batches {
		if err := d.Commit(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		want := snapshot(t, d, fam.names()...)
		cp := filepath.Join(dir, fmt.Sprintf("copy%d.duckdb", i))
		for _, suffix := range []string{"", ".wal"} {
			if err := copyFile(path+suffix, cp+suffix); err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(cp + ".wal"); err != nil {
			t.Logf("commit %d: no WAL to replay (%v)", i, err)
		}
		c := open(t, cp, Options{})
		if err := c.Prepare(context.Background(), fam.tables()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, snapshot(t, c, fam.names()...)); diff != "" {
			t.Errorf("commit %d, replayed copy (-live +copy):\n%s", i, diff)
		}
		c.Close()
	}
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

func TestDumpFormat(t *testing.T) {
	tb := &runtime.Table{
		Name:       "typed",
		PrimaryKey: []string{"k1", "k2"},
		Columns: []runtime.Column{
			{Name: "k1", Type: runtime.TypeString},
			{Name: "k2", Type: runtime.TypeInteger},
			{Name: "big", Type: runtime.TypeBigint},
			{Name: "d", Type: runtime.TypeDouble},
			{Name: "ok", Type: runtime.TypeBoolean},
			{Name: "at", Type: runtime.TypeTimestamp},
			{Name: "doc", Type: runtime.TypeJSON},
		},
	}
	d := open(t, "", Options{})
	if err := d.Prepare(context.Background(), []*runtime.Table{tb}); err != nil {
		t.Fatal(err)
	}
	b := &runtime.Batch{Table: tb, Synced: t1, Rows: map[*runtime.Table]*runtime.RowSet{tb: {Rows: [][]any{
		{"b", int32(2), int64(-1), 0.1, false, time.Date(2024, 1, 2, 3, 4, 5, 678_900_000, time.UTC), `{"x": [1, 2]}`},
		{"b", int32(1), nil, nil, nil, nil, nil},
		{"a,\"z\"", int32(9), int64(1) << 40, 1e21, true, time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -3600)), `"s"`},
	}}}}
	if err := d.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := `k1,k2,big,d,ok,at,doc,_fivetran_synced,_fivetran_deleted
"a,""z""",9,1099511627776,1e+21,true,2000-01-01 00:59:59.000,"""s""",2024-05-01 10:00:00.000,false
b,1,,,,,,2024-05-01 10:00:00.000,false
b,2,-1,0.1,false,2024-01-02 03:04:05.678,"{""x"": [1, 2]}",2024-05-01 10:00:00.000,false
`
	if diff := cmp.Diff(want, dump(t, d, "typed")); diff != "" {
		t.Errorf("dump (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := d.Dump(context.Background(), "missing", &buf); err == nil {
		t.Error("dump of a missing table succeeded")
	}
}

func TestExtensionAutoInstallOff(t *testing.T) {
	d := open(t, "", Options{})
	for _, setting := range []string{"autoinstall_known_extensions", "autoload_known_extensions"} {
		var v string
		if err := d.SQL().QueryRow(`SELECT current_setting('` + setting + `')::VARCHAR`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "false" {
			t.Errorf("%s = %s, want false", setting, v)
		}
	}
	// A function of an extension that is not built in fails at once
	// instead of being fetched.
	if _, err := d.SQL().Exec(`SELECT * FROM read_xlsx('nothing.xlsx')`); err == nil {
		t.Error("an extension function was loaded")
	}
}

func TestConcurrentCommits(t *testing.T) {
	fam := newFamily()
	d := open(t, "", Options{})
	fam.setup(t, d)
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 10 {
		wg.Go(func() { errs <- d.Commit(context.Background(), fam.usersBatch(100+10*i, 10, t2, false)) })
		wg.Go(func() { errs <- d.Commit(context.Background(), logBatch(100+10*i, 10, t2)) })
		wg.Go(func() { errs <- d.Commit(context.Background(), fam.memberBatch(t2)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var users, events int
	if err := d.SQL().QueryRow(`SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM events)`).Scan(&users, &events); err != nil {
		t.Fatal(err)
	}
	if users != 120 || events != 110 {
		t.Errorf("%d users and %d events, want 120 and 110", users, events)
	}
}

// TestPrepareKeepsUnknownColumns: a column the descriptor no longer names
// stays, untouched by upserts of the remaining columns.
func TestPrepareKeepsUnknownColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.duckdb")
	d := open(t, path, Options{})
	old := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []runtime.Column{
		{Name: "id", Type: runtime.TypeString}, {Name: "gone", Type: runtime.TypeString}}}
	if err := d.Prepare(context.Background(), []*runtime.Table{old}); err != nil {
		t.Fatal(err)
	}
	commit := func(d *DB, tb *runtime.Table, synced time.Time, rows ...[]any) {
		t.Helper()
		b := &runtime.Batch{Table: tb, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{tb: {Rows: rows}}}
		if err := d.Commit(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	commit(d, old, t1, []any{"a", "x"})
	d.Close()
	d = open(t, path, Options{})
	cur := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: runtime.TypeString}}}
	if err := d.Prepare(context.Background(), []*runtime.Table{cur}); err != nil {
		t.Fatal(err)
	}
	commit(d, cur, t2, []any{"a"}, []any{"b"})
	want := "id,gone,_fivetran_synced,_fivetran_deleted\na,x,2024-05-01 11:00:00.000,false\nb,,2024-05-01 11:00:00.000,false\n"
	if diff := cmp.Diff(want, dump(t, d, "t")); diff != "" {
		t.Errorf("dump (-want +got):\n%s", diff)
	}
}

func TestStateBeforePrepare(t *testing.T) {
	d := open(t, "", Options{})
	st, err := d.State(context.Background())
	if err != nil || len(st) != 0 {
		t.Errorf("State() = %v, %v; want empty", st, err)
	}
	if names := tableNames(t, d); len(names) != 0 {
		t.Errorf("State created tables %q", names)
	}
}

func tableNames(t *testing.T, d *DB) []string {
	t.Helper()
	rows, err := d.SQL().Query(`SELECT table_name FROM duckdb_tables() WHERE NOT temporary`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func TestClosed(t *testing.T) {
	d := open(t, "", Options{})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	tb := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: runtime.TypeString}}}
	if err := d.Prepare(context.Background(), []*runtime.Table{tb}); err == nil {
		t.Error("Prepare on a closed database succeeded")
	}
}

func TestPrepareRejectsChangedKey(t *testing.T) {
	d := open(t, "", Options{})
	one := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []runtime.Column{
		{Name: "id", Type: runtime.TypeString}, {Name: "other", Type: runtime.TypeString}}}
	two := &runtime.Table{Name: "t", PrimaryKey: []string{"id", "other"}, Columns: one.Columns}
	if err := d.Prepare(context.Background(), []*runtime.Table{one}); err != nil {
		t.Fatal(err)
	}
	err := d.Prepare(context.Background(), []*runtime.Table{two})
	if err == nil || !strings.Contains(err.Error(), "primary key") {
		t.Errorf("Prepare with a changed key: %v, want an error about the key", err)
	}
}

func TestOpenRejectsURLCharacters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a?memory_limit=1GB", "a#b"} {
		if d, err := Open(filepath.Join(dir, name), Options{}); err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded", name)
		}
	}
}

func TestSettings(t *testing.T) {
	d := open(t, "", Options{Settings: map[string]string{"memory_limit": "123MB", "autoload_known_extensions": "true"}})
	for setting, want := range map[string]string{
		"memory_limit":              "117.3 MiB", // 123 MB in DuckDB's units
		"autoload_known_extensions": "false",
	} {
		var v string
		if err := d.SQL().QueryRow(`SELECT current_setting('` + setting + `')::VARCHAR`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != want {
			t.Errorf("%s = %s, want %s", setting, v, want)
		}
	}
}

// TestTablesTable: Prepare records every table's key, parent and mode, and
// creates no PRIMARY KEY constraint (its index would stay in memory).
func TestTablesTable(t *testing.T) {
	fam := newFamily()
	d := open(t, "", Options{})
	fam.setup(t, d)
	rows, err := d.SQL().Query(`SELECT table_name, primary_key::VARCHAR, coalesce(parent_table, ''),
		coalesce(parent_key::VARCHAR, ''), write_mode FROM ` + TablesTable + ` ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, key, parent, parentKey, mode string
		if err := rows.Scan(&name, &key, &parent, &parentKey, &mode); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{name, key, parent, parentKey, mode}, " "))
	}
	want := []string{
		"event_ip [_fivetran_id] events [events_id] soft_delete",
		"event_target [id, events_id] events [events_id] soft_delete",
		"events [id]   soft_delete",
		"membership [users_id, group_id] users [users_id] soft_delete",
		"user_email [users_id, value] users [users_id] soft_delete",
		"user_profile [users_id, name] users [users_id] soft_delete",
		"users [id]   soft_delete",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", TablesTable, diff)
	}
	var constraints int
	if err := d.SQL().QueryRow(`SELECT count(*) FROM duckdb_constraints()
		WHERE constraint_type = 'PRIMARY KEY' AND table_name <> $1`, StateTable).Scan(&constraints); err != nil {
		t.Fatal(err)
	}
	if constraints != 0 {
		t.Errorf("%d PRIMARY KEY constraints, want none", constraints)
	}
}

// TestLegacyPrimaryKey: tables made with a PRIMARY KEY by earlier versions
// keep it and keep working, Append and Dedupe batches included; Prepare
// records their keys without dropping anything.
func TestLegacyPrimaryKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "legacy.duckdb")
	d := open(t, path, Options{})
	for _, q := range []string{
		`CREATE TABLE "_oktasync_state" ("table_name" VARCHAR PRIMARY KEY, "state" JSON, "updated_at" TIMESTAMP)`,
		`CREATE TABLE "t" ("id" VARCHAR, "v" VARCHAR, "_fivetran_synced" TIMESTAMP, "_fivetran_deleted" BOOLEAN, PRIMARY KEY ("id"))`,
		`CREATE TABLE "t_tag" ("t_id" VARCHAR, "tag" VARCHAR, "_fivetran_synced" TIMESTAMP, "_fivetran_deleted" BOOLEAN, PRIMARY KEY ("t_id", "tag"))`,
		`INSERT INTO "t" VALUES ('a', 'old', TIMESTAMP '2024-01-01', false), ('z', 'gone', TIMESTAMP '2024-01-01', false)`,
		`INSERT INTO "t_tag" VALUES ('a', 'x', TIMESTAMP '2024-01-01', false)`,
	} {
		if _, err := d.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s := runtime.TypeString
	tb := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: s}, {Name: "v", Type: s}}}
	tag := &runtime.Table{Name: "t_tag", PrimaryKey: []string{"t_id", "tag"}, ParentKey: []string{"t_id"}, Parent: tb,
		Columns: []runtime.Column{{Name: "t_id", Type: s}, {Name: "tag", Type: s}}}
	tb.Children = []*runtime.Table{tag}
	ctx := context.Background()
	if err := d.Prepare(ctx, []*runtime.Table{tb}); err != nil {
		t.Fatal(err)
	}
	commit := func(b *runtime.Batch) {
		t.Helper()
		if err := d.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	b := &runtime.Batch{Table: tb, Synced: t1, Rows: map[*runtime.Table]*runtime.RowSet{tb: {Rows: [][]any{{"a", "new"}}}}}
	commit(b)
	// A run appended: b twice (a page read again), then deduplicated.
	page := func(v string) *runtime.Batch {
		return &runtime.Batch{Table: tb, Synced: t2, Append: true, Rows: map[*runtime.Table]*runtime.RowSet{
			tb: {Rows: [][]any{{"b", v}, {"a", v}}}, tag: {Rows: [][]any{{"b", "y"}}}},
			Replace: map[*runtime.Table][][]any{tag: {{"b"}, {"a"}}}}
	}
	commit(page("first"))
	commit(page("second"))
	b = &runtime.Batch{Table: tb, Synced: t2, Append: true, Dedupe: true, Sweep: &runtime.Sweep{Before: t2}}
	commit(b)
	want := "id,v,_fivetran_synced,_fivetran_deleted\n" +
		"a,second,2024-05-01 11:00:00.000,false\n" +
		"b,second,2024-05-01 11:00:00.000,false\n" +
		"z,gone,2024-01-01 00:00:00.000,true\n"
	if diff := cmp.Diff(want, dump(t, d, "t")); diff != "" {
		t.Errorf("t (-want +got):\n%s", diff)
	}
	want = "t_id,tag,_fivetran_synced,_fivetran_deleted\n" +
		"a,x,2024-01-01 00:00:00.000,true\n" +
		"b,y,2024-05-01 11:00:00.000,false\n"
	if diff := cmp.Diff(want, dump(t, d, "t_tag")); diff != "" {
		t.Errorf("t_tag (-want +got):\n%s", diff)
	}
	var constraints, recorded int
	if err := d.SQL().QueryRow(`SELECT (SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'),
		(SELECT count(*) FROM `+TablesTable+`)`).Scan(&constraints, &recorded); err != nil {
		t.Fatal(err)
	}
	if constraints != 3 || recorded != 2 {
		t.Errorf("%d PRIMARY KEY constraints and %d recorded tables, want 3 (state table included) and 2", constraints, recorded)
	}
	// A changed key is still refused.
	tb2 := &runtime.Table{Name: "t", PrimaryKey: []string{"v"}, Columns: tb.Columns}
	if err := d.Prepare(ctx, []*runtime.Table{tb2}); err == nil || !strings.Contains(err.Error(), "primary key") {
		t.Errorf("Prepare with a changed key: %v, want an error about the key", err)
	}
	// A PRIMARY KEY stands in the way of history mode.
	hist := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: tb.Columns, History: true}
	if err := d.Prepare(ctx, []*runtime.Table{hist}); err == nil || !strings.Contains(err.Error(), "prepare t:") ||
		!strings.Contains(err.Error(), "PRIMARY KEY") {
		t.Errorf("Prepare of a legacy table in history mode: %v, want an error naming the table and its key", err)
	}
	if diff := cmp.Diff(want, dump(t, d, "t_tag")); diff != "" {
		t.Errorf("t_tag after the refused switch (-want +got):\n%s", diff)
	}
}

// TestHistoryTablesTable: a history table's key is its primary key and
// _fivetran_start, its write mode history, and switching records both.
func TestHistoryTablesTable(t *testing.T) {
	d := open(t, "", Options{})
	s := runtime.TypeString
	tb := &runtime.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []runtime.Column{{Name: "id", Type: s}}}
	ctx := context.Background()
	meta := func() string {
		t.Helper()
		var key, mode string
		if err := d.SQL().QueryRow(`SELECT primary_key::VARCHAR, write_mode FROM `+TablesTable+` WHERE table_name = 't'`).Scan(&key, &mode); err != nil {
			t.Fatal(err)
		}
		return key + " " + mode
	}
	for _, history := range []bool{true, false, true} {
		tb.History = history
		if err := d.Prepare(ctx, []*runtime.Table{tb}); err != nil {
			t.Fatal(err)
		}
		want := "[id] soft_delete"
		if history {
			want = "[id, _fivetran_start] history"
		}
		if got := meta(); got != want {
			t.Errorf("history=%v: %s records %q, want %q", history, TablesTable, got, want)
		}
	}

	// A column dropped and a mode switched in one Prepare.
	tb.Columns = append(tb.Columns, runtime.Column{Name: "x", Type: s})
	tb.History = false
	if err := d.Prepare(ctx, []*runtime.Table{tb}); err != nil {
		t.Fatal(err)
	}
	b := &runtime.Batch{Table: tb, Synced: t1, Rows: map[*runtime.Table]*runtime.RowSet{tb: {Rows: [][]any{{"a", "secret"}}}}}
	if err := d.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	tb.Columns, tb.Drop, tb.History = tb.Columns[:1], []string{"x"}, true
	if err := d.Prepare(ctx, []*runtime.Table{tb}); err != nil {
		t.Fatal(err)
	}
	want := "id,_fivetran_start,_fivetran_end,_fivetran_active,_fivetran_synced\n" +
		"a,2024-05-01 10:00:00.000,9999-12-31 23:59:59.999,true,2024-05-01 10:00:00.000\n"
	if diff := cmp.Diff(want, dump(t, d, "t")); diff != "" {
		t.Errorf("t (-want +got):\n%s", diff)
	}
	if got := comments(t, d, "t")["_fivetran_active"]; got == "" {
		t.Errorf("a switched table lacks its column comments")
	}
}

// walSize is the size of a database's write-ahead log, 0 when there is none.
func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + ".wal")
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestIdleCheckpoint: once commits stop, a write-ahead log past
// IdleCheckpointWAL is folded into the database file, and nothing is lost;
// with the idle checkpoint off, the log stays until the database closes.
func TestIdleCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait time.Duration
	}{{"on", 50 * time.Millisecond}, {"off", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "idle.duckdb")
			// No automatic checkpoint: only the idle one may fold the log in.
			d := open(t, path, Options{IdleCheckpoint: tc.wait, Settings: map[string]string{"checkpoint_threshold": "1GB"}})
			events, _, _ := logTables()
			if err := d.Prepare(context.Background(), []*runtime.Table{events}); err != nil {
				t.Fatal(err)
			}
			n := 0
			for walSize(t, path) < IdleCheckpointWAL {
				b := logBatch(n, 2000, t1)
				b.Table, b.Append = events, true
				if err := d.Commit(context.Background(), b); err != nil {
					t.Fatal(err)
				}
				n += 2000
			}
			deadline := time.Now().Add(10 * time.Second)
			if tc.wait < 0 {
				deadline = time.Now().Add(300 * time.Millisecond)
			}
			for walSize(t, path) >= IdleCheckpointWAL && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := walSize(t, path) >= IdleCheckpointWAL; got != (tc.wait < 0) {
				t.Fatalf("write-ahead log of %d bytes after the writer went idle", walSize(t, path))
			}
			var rows int
			if err := d.SQL().QueryRow(`SELECT count(*) FROM events`).Scan(&rows); err != nil || rows != n {
				t.Fatalf("%d events after the checkpoint (%v), want %d", rows, err, n)
			}
		})
	}
}

// comments reads the comments of a table and of its columns ("" for the
// table's own), NULL as "".
func comments(t *testing.T, d *DB, table string) map[string]string {
	t.Helper()
	got := map[string]string{}
	rows, err := d.SQL().Query(`SELECT '', coalesce(comment, '') FROM duckdb_tables() WHERE table_name = $1
		UNION ALL SELECT column_name, coalesce(comment, '') FROM duckdb_columns() WHERE table_name = $1`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, comment string
		if err := rows.Scan(&name, &comment); err != nil {
			t.Fatal(err)
		}
		if comment != "" {
			got[name] = comment
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestComments: descriptions become the comments of tables and columns,
// children included; a Prepare with nothing new changes nothing in the
// catalog; a changed or removed description changes the comment.
func TestComments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.duckdb")
	// Only Close checkpoints: the write-ahead log shows every change.
	d := open(t, path, Options{IdleCheckpoint: -1, Settings: map[string]string{"checkpoint_threshold": "1GB"}})
	ctx := context.Background()
	tables := func(desc, idDesc string) []*runtime.Table {
		parent := &runtime.Table{Name: "t", Description: desc, PrimaryKey: []string{"id"}, Columns: []runtime.Column{
			{Name: "id", Type: runtime.TypeString, Description: idDesc},
			{Name: "plain", Type: runtime.TypeString}}}
		child := &runtime.Table{Name: "t_child", Description: "Its children.", Parent: parent,
			PrimaryKey: []string{"t_id", "n"}, ParentKey: []string{"t_id"}, Columns: []runtime.Column{
				{Name: "t_id", Type: runtime.TypeString, Description: "Key of the parent row in t (id)."},
				{Name: "n", Type: runtime.TypeInteger}}}
		parent.Children = []*runtime.Table{child}
		return []*runtime.Table{parent}
	}
	if err := d.Prepare(ctx, tables("The things; it's all of them.", "The thing's id.")); err != nil {
		t.Fatal(err)
	}
	synced, deleted := "When a sync last wrote the row (UTC).", "True once the row's record is gone from the source."
	want := map[string]string{"": "The things; it's all of them.", "id": "The thing's id.",
		"_fivetran_synced": synced, "_fivetran_deleted": deleted}
	if diff := cmp.Diff(want, comments(t, d, "t")); diff != "" {
		t.Errorf("comments of t (-want +got):\n%s", diff)
	}
	want = map[string]string{"": "Its children.", "t_id": "Key of the parent row in t (id).",
		"_fivetran_synced": synced, "_fivetran_deleted": deleted}
	if diff := cmp.Diff(want, comments(t, d, "t_child")); diff != "" {
		t.Errorf("comments of t_child (-want +got):\n%s", diff)
	}

	wal := walSize(t, path)
	if err := d.Prepare(ctx, tables("The things; it's all of them.", "The thing's id.")); err != nil {
		t.Fatal(err)
	}
	if got := walSize(t, path); got != wal {
		t.Errorf("an unchanged Prepare grew the write-ahead log from %d to %d bytes", wal, got)
	}

	if err := d.Prepare(ctx, tables("All things.", "")); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"": "All things.", "_fivetran_synced": synced, "_fivetran_deleted": deleted}
	if diff := cmp.Diff(want, comments(t, d, "t")); diff != "" {
		t.Errorf("comments of t after a change (-want +got):\n%s", diff)
	}
}

// smallDisk mounts a tmpfs of the given size (e.g. "20m") on a temporary
// folder for the test. Mounting needs root on Linux: elsewhere the test is
// skipped, except in CI (CI=true), which runs as root and must run it.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("cannot mount a %s tmpfs: %v: %s", size, err, bytes.TrimSpace(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (CI=true makes this a failure)")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestCloseFailedCheckpoint: on a disk with room for the write-ahead log but
// not for the checkpoint that folds it into the database file, Close fails
// and says where the data is and what to do; with room again, the data is
// all there.
func TestCloseFailedCheckpoint(t *testing.T) {
	dir := smallDisk(t, "20m")
	path := filepath.Join(dir, "db.duckdb")
	// Only Close checkpoints.
	d, err := Open(path, Options{IdleCheckpoint: -1, Settings: map[string]string{"checkpoint_threshold": "1GB"}})
	if err != nil {
		t.Fatal(err)
	}
	tb := &runtime.Table{Name: "blobs", PrimaryKey: []string{"id"}, Columns: []runtime.Column{
		{Name: "id", Type: runtime.TypeInteger}, {Name: "payload", Type: runtime.TypeString}}}
	ctx := context.Background()
	if err := d.Prepare(ctx, []*runtime.Table{tb}); err != nil {
		t.Fatal(err)
	}
	// Random text does not compress: the checkpoint needs about as much
	// room as the log, which takes 13 of the 20 MB.
	n := 0
	payload := make([]byte, 300)
	for walSize(t, path) < 13<<20 {
		b := &runtime.Batch{Table: tb, Synced: t1, Append: true, Rows: map[*runtime.Table]*runtime.RowSet{tb: {}}}
		for range 1000 {
			if _, err := io.ReadFull(crand.Reader, payload); err != nil {
				t.Fatal(err)
			}
			b.Rows[tb].Rows = append(b.Rows[tb].Rows, []any{int32(n), base64.StdEncoding.EncodeToString(payload)})
			n++
		}
		if err := d.Commit(ctx, b); err != nil {
			t.Fatalf("commit at %d rows: %v", n, err)
		}
	}
	err = d.Close()
	if err == nil {
		t.Fatal("Close succeeded although the checkpoint had no room")
	}
	for _, want := range []string{"not checkpointed", "No space left on device", path + ".wal", "keep the two files together", "free disk space"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Close: %v\nwant it to say %q", err, want)
		}
	}

	// Room again: opening folds the log in, and every row is there.
	if out, err := exec.Command("mount", "-o", "remount,size=100m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	d, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := d.SQL().QueryRow(`SELECT count(*) FROM blobs`).Scan(&rows); err != nil || rows != n {
		t.Errorf("%d rows after reopening (%v), want %d", rows, err, n)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close with room: %v", err)
	}
	if s := walSize(t, path); s != 0 {
		t.Errorf("a write-ahead log of %d bytes after a clean close", s)
	}
}

// TestHelperProcess is not a test: run by the tests below as another
// process, it opens the DuckDB database DUCKDB_HELPER_DSN names, says
// "ready", answers "count TABLE" lines from stdin, and exits at EOF. DuckDB
// locks a file against other processes, not against the same one.
func TestHelperProcess(t *testing.T) {
	dsn, ok := os.LookupEnv("DUCKDB_HELPER_DSN")
	if !ok {
		t.Skip("run by other tests")
	}
	c, err := ddb.NewConnector(dsn, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	if err := db.Ping(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		table, _ := strings.CutPrefix(sc.Text(), "count ")
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + quote(table)).Scan(&n); err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(n)
	}
}

// helper is another process holding a DuckDB database open.
type helper struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startHelper opens dsn in another process and waits until it has.
func startHelper(t *testing.T, dsn string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "DUCKDB_HELPER_DSN="+dsn)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(h.stop)
	if got := h.line(t); got != "ready" {
		t.Fatalf("helper: %s", got)
	}
	return h
}

func (h *helper) line(t *testing.T) string {
	t.Helper()
	if !h.out.Scan() {
		t.Fatalf("helper exited: %v", h.out.Err())
	}
	return h.out.Text()
}

// count asks the helper for a table's row count.
func (h *helper) count(t *testing.T, table string) string {
	t.Helper()
	fmt.Fprintf(h.in, "count %s\n", table)
	return h.line(t)
}

func (h *helper) stop() {
	if h.in != nil {
		h.in.Close()
		h.in = nil
		h.cmd.Wait()
	}
}

// TestOpenLocked: a database another program has open, even read-only, is
// refused with an error that names the program's PID and says what to do.
func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.duckdb")
	d, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	for _, mode := range []string{"", "?access_mode=READ_ONLY"} {
		h := startHelper(t, path+mode)
		_, err := Open(path, Options{})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("Open while another program has it%s: %v; want ErrLocked", mode, err)
		}
		for _, want := range []string{fmt.Sprintf("(PID %d)", h.cmd.Process.Pid), "close that program",
			"cp " + path, "-read.duckdb read-only"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Open: %v\nwant it to say %q", err, want)
			}
		}
		h.stop()
	}
	// Once the other program is gone, the database opens.
	d, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// TestReadCopyWhileSyncing checks the recipe Open's lock error gives: a
// reader keeps a copy made between syncs open, read-only, while the next
// sync writes the database and its copy is replaced; the reader never blocks
// the sync and reads its snapshot throughout, and a new reader sees the new
// copy. (A reader of the database itself, even read-only or by ATTACH ...
// (READ_ONLY), blocks a sync and is blocked by one; a copy taken during a
// sync lacks what the write-ahead log holds.)
func TestReadCopyWhileSyncing(t *testing.T) {
	dir := t.TempDir()
	path, read := filepath.Join(dir, "db.duckdb"), filepath.Join(dir, "db-read.duckdb")
	events, _, _ := logTables()
	sync := func(first int) {
		t.Helper()
		d, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Prepare(context.Background(), []*runtime.Table{events}); err != nil {
			t.Fatal(err)
		}
		b := logBatch(first, 100, t1)
		b.Table = events
		if err := d.Commit(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	publish := func() { // cp db.duckdb db-read.duckdb.tmp && mv db-read.duckdb.tmp db-read.duckdb
		t.Helper()
		if err := copyFile(path, read+".tmp"); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(read+".tmp", read); err != nil {
			t.Fatal(err)
		}
	}
	sync(0)
	publish()
	reader := startHelper(t, read+"?access_mode=READ_ONLY")
	if got := reader.count(t, "events"); got != "100" {
		t.Fatalf("reader of the copy: %s events, want 100", got)
	}
	sync(100)
	publish()
	if got := reader.count(t, "events"); got != "100" {
		t.Errorf("reader of the old copy after a sync and a new copy: %s events, want its 100", got)
	}
	if got := startHelper(t, read+"?access_mode=READ_ONLY").count(t, "events"); got != "200" {
		t.Errorf("new reader: %s events, want 200", got)
	}
}
