package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
)

// dumpTables returns some tables as CSV, ordered by key.
func (e *env) dumpTables(names ...string) map[string]string {
	e.t.Helper()
	db, err := duckdb.Open(e.db, duckdb.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	for _, name := range names {
		var b bytes.Buffer
		if err := db.Dump(context.Background(), name, &b); err != nil {
			e.t.Fatalf("dump %s: %v", name, err)
		}
		out[name] = b.String()
	}
	return out
}

// minus lists the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func no() *bool { b := false; return &b }

// rows runs a query against the synced database and renders each row as
// its values joined by "|".
func (e *env) rows(query string, args ...any) []string {
	e.t.Helper()
	db, err := duckdb.Open(e.db, duckdb.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	return queryRows(e.t, db, query, args...)
}

func queryRows(t *testing.T, db *duckdb.DB, query string, args ...any) []string {
	t.Helper()
	rs, err := db.SQL().QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339Nano)
			}
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// historyTables are the tables the history scenario keeps versions of,
// with their source keys.
var historyTables = map[string]string{"users": "id", "groups": "id", "group_member": "groups_id, users_id"}

// checkVersions asserts the invariants of a history table: one active
// version per key at most, ending at the far future; closed versions end
// before they would overlap the next version of their key.
func checkVersions(t *testing.T, e *env, table, key string) {
	t.Helper()
	if bad := e.rows(`SELECT ` + key + `, count(*) FROM ` + table + ` WHERE _fivetran_active GROUP BY ALL HAVING count(*) > 1`); len(bad) > 0 {
		t.Errorf("%s: keys with two active versions: %v", table, bad)
	}
	if bad := e.rows(`SELECT ` + key + `, _fivetran_start, _fivetran_end FROM ` + table + ` WHERE _fivetran_start > _fivetran_end
		OR _fivetran_active <> (_fivetran_end = TIMESTAMP '9999-12-31 23:59:59.999')`); len(bad) > 0 {
		t.Errorf("%s: versions with a bad span: %v", table, bad)
	}
	if bad := e.rows(`SELECT * FROM (SELECT ` + key + `, _fivetran_start, _fivetran_end,
		lead(_fivetran_start) OVER (PARTITION BY ` + key + ` ORDER BY _fivetran_start) AS next FROM ` + table + `)
		WHERE next IS NOT NULL AND next <= _fivetran_end`); len(bad) > 0 {
		t.Errorf("%s: overlapping versions: %v", table, bad)
	}
}

// snapshotQueries select what a point in time must show of each history
// table: the live rows' keys and values, system columns aside.
var snapshotQueries = map[string]string{
	"users":        `SELECT id, status, profile_login, profile_email, last_updated FROM users WHERE %s ORDER BY ALL`,
	"groups":       `SELECT id, profile_name, profile_description FROM groups WHERE %s ORDER BY ALL`,
	"group_member": `SELECT groups_id, users_id FROM group_member WHERE %s ORDER BY ALL`,
}

// TestHistoryMode: three syncs with churn between them, history on for
// users, groups and group_member. The versions are golden; every point in
// time between syncs reads back the org as the sync then saw it.
func TestHistoryMode(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.cfg.Tables = map[string]TableConfig{"users": {History: true}, "groups": {History: true}, "group_member": {History: true}}
	type snapshot struct {
		at   time.Time
		rows map[string][]string
	}
	var snaps []snapshot
	take := func() {
		s := snapshot{at: e.sim.Now(), rows: map[string][]string{}}
		for table, q := range snapshotQueries {
			s.rows[table] = e.rows(fmt.Sprintf(q, "_fivetran_active"))
			if len(s.rows[table]) == 0 {
				t.Fatalf("%s has no active version", table)
			}
		}
		snaps = append(snaps, s)
	}
	e.mustSync()
	take()
	e.sim.Churn(oktasim.ChurnSpec{Advance: time.Hour, NewUsers: 3, UpdatedUsers: 4, DeactivatedUsers: 2,
		NewGroups: 1, UpdatedGroups: 2, MembershipAdds: 5, MembershipRemoves: 3, LogEvents: 10})
	e.mustSync()
	take()
	// A week on: users deleted for good, a group gone; the weekly re-import
	// closes their versions.
	e.sim.Churn(oktasim.ChurnSpec{Advance: 8 * 24 * time.Hour, UpdatedUsers: 2, DeletedUsers: 2, DeletedGroups: 1,
		MembershipAdds: 2, LogEvents: 5})
	sum := e.mustSync()
	if r := findTable(sum, "users"); !r.Deleted {
		t.Errorf("users a week later: %+v, want the re-import", r)
	}
	take()

	golden(t, "history", e.dumpTables("users", "groups", "group_member"))
	for table, key := range historyTables {
		checkVersions(t, e, table, key)
		closed := e.rows(`SELECT count(*) FROM ` + table + ` WHERE NOT _fivetran_active`)
		if closed[0] == "0" {
			t.Errorf("%s: no closed version after three syncs with churn", table)
		}
	}
	// Every key changed between syncs has one version per change: the
	// versions of unchanged keys stay one.
	if got := e.rows(`SELECT count(*) FROM (SELECT id FROM users GROUP BY id HAVING count(*) > 1)`); got[0] == "0" {
		t.Error("no user has two versions")
	}
	// The org's clock stands still during a sync here, so a sync's changes
	// take effect at the very instant it is read (versions closed by it end
	// there): the point in time is the next millisecond.
	for i, s := range snaps {
		at := s.at.Add(time.Millisecond).UTC().Format("2006-01-02 15:04:05.000")
		for table, q := range snapshotQueries {
			got := e.rows(fmt.Sprintf(q, "TIMESTAMP '"+at+"' BETWEEN _fivetran_start AND _fivetran_end"))
			if !slices.Equal(got, s.rows[table]) {
				t.Errorf("%s as of sync %d (%s): %d rows, the sync saw %d; only in the query: %v; only in the sync: %v", table, i+1, at,
					len(got), len(s.rows[table]), minus(got, s.rows[table]), minus(s.rows[table], got))
			}
		}
	}
}

// TestHistoryResumesAfterCrash: a history sync cut at any commit stage
// resumes without two active versions of a key or an overlap, and ends
// with the active rows of an uninterrupted sync. The crashes hit the sync
// after churn, which merges into the versions of the first.
func TestHistoryResumesAfterCrash(t *testing.T) {
	churn := oktasim.ChurnSpec{Advance: time.Hour, NewUsers: 2, UpdatedUsers: 5, DeactivatedUsers: 1, UpdatedGroups: 2,
		MembershipAdds: 4, MembershipRemoves: 2, LogEvents: 10}
	history := map[string]TableConfig{"users": {History: true}, "groups": {History: true}, "group_member": {History: true}}
	only := []string{"users", "groups", "group_member"}
	for _, second := range []bool{false, true} {
		// The first sync appends versions, the second merges into them.
		setup := func(e *env) {
			e.cfg.Tables, e.opt.Only, e.cfg.Parallel, e.opt.BatchRows = history, only, 1, 10
			if second {
				e.mustSync()
				e.sim.Churn(churn)
			}
		}
		ref := newEnv(t, smallOrg)
		setup(ref)
		reached := map[string]int{}
		ref.opt.OpenDest = func(path string) (runtime.Destination, error) {
			return duckdb.Open(path, duckdb.Options{CrashPoint: func(s string) error { reached[s]++; return nil }})
		}
		ref.mustSync()
		want := map[string][]string{}
		for table, q := range snapshotQueries {
			want[table] = ref.rows(fmt.Sprintf(q, "_fivetran_active"))
		}
		stages := []string{"staged", "merged", "state", "before-commit"}
		k := 1
		for ; k <= reached[stages[k%len(stages)]]; k++ {
			k, stage := k, stages[k%len(stages)]
			t.Run(fmt.Sprintf("second=%v/%d-%s", second, k, stage), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, smallOrg)
				setup(e)
				calls := 0
				e.opt.OpenDest = func(path string) (runtime.Destination, error) {
					return duckdb.Open(path, duckdb.Options{CrashPoint: func(s string) error {
						if s == stage {
							if calls++; calls == k {
								return errors.New("injected crash at " + s)
							}
						}
						return nil
					}})
				}
				_, err := e.sync()
				if calls < k {
					// A fan-out table's parents are read in parallel and
					// arrive in an order that varies, and a batch commits at
					// the first parent that fills it: the number of batches
					// varies a little. The other points cover this run.
					t.Skipf("this sync passed %s %d times, fewer than the reference's %d", stage, calls, reached[stage])
				}
				if err == nil {
					t.Fatal("a crash in the writer must fail the sync")
				}
				for table, key := range historyTables {
					checkVersions(t, e, table, key)
				}
				e.opt.OpenDest = nil
				e.mustSync()
				for table, key := range historyTables {
					checkVersions(t, e, table, key)
					if got := e.rows(fmt.Sprintf(snapshotQueries[table], "_fivetran_active")); !slices.Equal(got, want[table]) {
						t.Errorf("%s after resuming: only after the crash %v, only without %v", table, minus(got, want[table]), minus(want[table], got))
					}
				}
			})
		}
		if k < 4 {
			t.Fatalf("second sync %v: only %d crash points; the sync is too small to test resuming", second, k-1)
		}
	}
}

// TestHashedColumns: hashed columns are the salted SHA-256 of their values;
// a hashed users.id still joins a hashed group_member.users_id, and hashed
// keys keep their tables' children in step (user_custom_profile.users_id
// follows users.id); the salt shows nowhere.
func TestHashedColumns(t *testing.T) {
	const salt = "correct-horse-battery-staple-0042"
	t.Setenv("OKTASYNC_TEST_SALT", salt)
	plain := newEnv(t, smallOrg)
	plain.opt.Only = []string{"users", "groups", "group_member"}
	plain.mustSync()

	e := newEnv(t, smallOrg)
	e.opt.Only = plain.opt.Only
	var logs bytes.Buffer
	e.opt.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.cfg.HashSaltEnv = "OKTASYNC_TEST_SALT"
	e.cfg.Tables = map[string]TableConfig{"users": {Columns: map[string]ColumnConfig{
		"id": {Hashed: true}, "profile_email": {Hashed: true}, "profile_mobile_phone": {Hashed: true}}},
		"group_member": {Columns: map[string]ColumnConfig{"users_id": {Hashed: true}}}}
	sum := e.mustSync()
	var out bytes.Buffer
	PrintSummary(&out, sum, 0)

	dump := e.dumpTables("users", "group_member")
	golden(t, "hashed", dump)
	if got := e.rows(`SELECT count(*) FROM users WHERE length(id) <> 64 OR profile_email NOT SIMILAR TO '[0-9a-f]{64}'`); got[0] != "0" {
		t.Errorf("%s users with a value that is not a hash", got[0])
	}
	join := `SELECT g.profile_name, u.profile_login FROM group_member m JOIN users u ON m.users_id = u.id
		JOIN groups g ON m.groups_id = g.id WHERE NOT m._fivetran_deleted ORDER BY ALL`
	if got, want := e.rows(join), plain.rows(join); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("the hashed join gives %d pairs, the plain one %d", len(got), len(want))
	}
	var tables strings.Builder
	for _, csv := range dump {
		tables.WriteString(csv)
	}
	for what, text := range map[string]string{"logs": logs.String(), "summary": out.String(), "tables": tables.String()} {
		if strings.Contains(text, salt) {
			t.Errorf("the salt appears in the %s", what)
		}
	}
	if got := e.rows(`SELECT count(*) FROM _oktasync_values WHERE contains(value, $1)`, salt); got[0] != "0" {
		t.Errorf("a salt from the environment is stored in the destination")
	}
	// Another salt would make hashes that match none of the old ones.
	t.Setenv("OKTASYNC_TEST_SALT", "another-salt-entirely")
	if _, err := e.sync(); err == nil || !strings.Contains(err.Error(), "salt") {
		t.Errorf("a sync with another salt: %v, want it refused", err)
	}
}

// TestBlockedColumns: a blocked column is not in the table and its values
// are in no file the destination wrote; a key cannot be blocked; unblocked,
// the column is filled for every row by a re-import.
func TestBlockedColumns(t *testing.T) {
	plain := newEnv(t, smallOrg)
	plain.opt.Only = []string{"users"}
	plain.mustSync()
	phones := plain.rows(`SELECT DISTINCT profile_mobile_phone FROM users WHERE profile_mobile_phone IS NOT NULL`)
	logins := plain.rows(`SELECT DISTINCT profile_login FROM users`)
	if len(phones) < 5 {
		t.Fatalf("the org has %d mobile phones; the test needs some", len(phones))
	}

	e := newEnv(t, smallOrg)
	e.opt.Only = []string{"users"}
	e.cfg.Destination.Settings["checkpoint_threshold"] = "1GB" // values stay in the write-ahead log too
	e.cfg.Tables = map[string]TableConfig{"users": {Columns: map[string]ColumnConfig{"profile_mobile_phone": {Enabled: no()}}},
		"user_custom_profile": {Enabled: no()}}
	e.mustSync()
	if got := e.rows(`SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'profile_mobile_phone'`); got[0] != "0" {
		t.Fatal("a blocked column is in the table")
	}
	if got := e.rows(`SELECT count(*) FROM duckdb_tables() WHERE table_name = 'user_custom_profile'`); got[0] != "0" {
		t.Fatal("a blocked table was created")
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(e.db), "*"))
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	found := 0
	for _, l := range logins {
		if bytes.Contains(all, []byte(l)) {
			found++
		}
	}
	if found == 0 {
		t.Fatalf("no login found in the destination's %d files: the scan cannot see values", len(files))
	}
	for _, p := range phones {
		if bytes.Contains(all, []byte(p)) {
			t.Fatalf("blocked value %q found in the destination's files", p)
		}
	}

	// Unblocked, the column is filled for every row by a re-import.
	e.cfg.Tables = nil
	sum := e.mustSync()
	if r := findTable(sum, "users"); !strings.Contains(r.Resync, "profile_mobile_phone") || r.Mode != "full" {
		t.Errorf("users after unblocking: mode %s, resync %q; want a re-import", r.Mode, r.Resync)
	}
	if got, want := e.rows(`SELECT count(*) FROM users WHERE profile_mobile_phone IS NOT NULL`), plain.rows(`SELECT count(*) FROM users WHERE profile_mobile_phone IS NOT NULL`); got[0] != want[0] {
		t.Errorf("%s rows have a mobile phone after unblocking, want %s", got[0], want[0])
	}
}

// TestBlockingAKeyIsAnError: the config names the file, line and column.
func TestBlockingAKeyIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oktasync.yaml")
	if err := os.WriteFile(path, []byte("tables:\n  users:\n    columns:\n      id: {enabled: false}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path+":4:") || !strings.Contains(err.Error(), "primary key") {
		t.Fatalf("blocking users.id: %v; want an error at line 4 saying it is the primary key", err)
	}
}

// TestNewSpecColumnIsFilled: a column added to a spec for a table already
// synced is filled for every row by the next sync (here the column is
// dropped from the table, as if the spec had just gained it).
func TestNewSpecColumnIsFilled(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.opt.Only = []string{"users"}
	e.mustSync()
	want := e.rows(`SELECT id, profile_title FROM users ORDER BY id`)
	db, err := duckdb.Open(e.db, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`ALTER TABLE users DROP COLUMN profile_title`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	sum := e.mustSync()
	if r := findTable(sum, "users"); r.Mode != "full" {
		t.Errorf("users: mode %s, want a re-import for the new column", r.Mode)
	}
	if !slices.ContainsFunc(sum.SchemaChanges, func(c runtime.SchemaChange) bool {
		return c.Table == "users" && c.Column == "profile_title" && c.Decision == "added"
	}) {
		t.Errorf("schema changes %+v: want profile_title added", sum.SchemaChanges)
	}
	if got := e.rows(`SELECT id, profile_title FROM users ORDER BY id`); !slices.Equal(got, want) {
		t.Errorf("profile_title after the sync: %d rows differ from the first sync's", len(got))
	}
	if got := e.rows(`SELECT count(*) FROM _oktasync_schema_changes WHERE column_name = 'profile_title'`); got[0] != "1" {
		t.Errorf("%s schema change rows for profile_title, want 1", got[0])
	}
}

// TestResyncResumes: a re-sync cut at several commit stages resumes with
// the next sync; no row is missing between its batches; users deleted in
// Okta meanwhile end deleted.
func TestResyncResumes(t *testing.T) {
	for _, tc := range []struct {
		stage string
		k     int
	}{{"staged", 3}, {"merged", 3}, {"before-commit", 4}} {
		t.Run(fmt.Sprintf("%s-%d", tc.stage, tc.k), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, oktasim.Config{Seed: 7, Users: 650, Groups: 4, Apps: 2, Devices: 2, Logs: 20,
				LinkBaseURL: "https://acme.okta.example", Now: oktasim.DefaultNow})
			e.opt.Only, e.opt.BatchRows = []string{"users"}, 100
			e.mustSync()
			before := e.rows(`SELECT id FROM users WHERE NOT _fivetran_deleted ORDER BY id`)
			// Deleted for good: a user is deactivated by its first delete and
			// removed by the second.
			doomed := before[:4]
			e.sim.Churn(oktasim.ChurnSpec{Advance: time.Minute, DeleteUserIDs: doomed})
			e.sim.Churn(oktasim.ChurnSpec{Advance: time.Minute, DeleteUserIDs: doomed})
			gone := len(doomed)
			var db *duckdb.DB
			check := func(label string) {
				got := queryRows(t, db, `SELECT id FROM users WHERE NOT _fivetran_deleted ORDER BY id`)
				for _, id := range before {
					if !slices.Contains(got, id) {
						t.Errorf("%s: user %s is missing while the re-sync runs", label, id)
						return
					}
				}
			}
			calls := 0
			e.opt.Resync = []string{"users"}
			e.cfg.Destination.Settings["threads"] = "1"
			batches := 0
			e.opt.Progress = func(r runtime.TableReport) {
				if r.Status == runtime.StatusRunning && !r.Deleted {
					batches++
					check(fmt.Sprintf("after batch %d", batches))
				}
			}
			e.opt.OpenDest = func(path string) (runtime.Destination, error) {
				d, err := duckdb.Open(path, duckdb.Options{CrashPoint: func(s string) error {
					if s == tc.stage {
						if calls++; calls == tc.k {
							return errors.New("injected crash at " + s)
						}
					}
					return nil
				}})
				db = d
				return d, err
			}
			e.cfg.Parallel = 1
			if _, err := e.sync(); err == nil {
				t.Fatal("a crash in the writer must fail the re-sync")
			}
			if batches == 0 {
				t.Fatal("the re-sync crashed before its first batch; the test needs one")
			}
			e.opt.OpenDest = func(path string) (runtime.Destination, error) {
				d, err := duckdb.Open(path, duckdb.Options{})
				db = d
				return d, err
			}
			e.opt.Resync = nil // the plain sync resumes the re-sync
			sum := e.mustSync()
			if r := findTable(sum, "users"); r.Resync == "" || !r.Deleted {
				t.Errorf("users after the crash: %+v, want the re-sync resumed and completed", r)
			}
			if got := e.rows(`SELECT count(*) FROM users WHERE _fivetran_deleted`); got[0] != fmt.Sprint(gone) {
				t.Errorf("%s users deleted, want the %d gone from Okta", got[0], gone)
			}
		})
	}
}

// TestSchemaChangeCustomAttribute: a custom profile attribute that appears
// between syncs lands in user_custom_profile under ALLOW_ALL and
// ALLOW_COLUMNS, not under BLOCK_ALL; each decision is recorded.
func TestSchemaChangeCustomAttribute(t *testing.T) {
	for _, policy := range runtime.Policies {
		t.Run(string(policy), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, smallOrg)
			e.opt.Only = []string{"users"}
			e.cfg.SchemaChangeHandling = string(policy)
			e.mustSync()
			e.sim.Churn(oktasim.ChurnSpec{Advance: time.Hour, ProfileAttribute: "badgeColor", ProfileAttributeUsers: 5})
			sum := e.mustSync()
			landed := e.rows(`SELECT count(*) FROM user_custom_profile WHERE name = 'badgeColor'`)[0]
			want, decision := "5", "added"
			if policy == runtime.BlockAll {
				want, decision = "0", "not added"
			}
			if landed != want {
				t.Errorf("%s rows of badgeColor, want %s", landed, want)
			}
			if got := e.rows(`SELECT decision FROM _oktasync_schema_changes WHERE table_name = 'user_custom_profile' AND column_name = 'badgeColor'`); !slices.Equal(got, []string{decision}) {
				t.Errorf("recorded decisions %v, want [%s]", got, decision)
			}
			if !slices.ContainsFunc(sum.SchemaChanges, func(c runtime.SchemaChange) bool { return c.Column == "badgeColor" && c.Decision == decision }) {
				t.Errorf("summary schema changes %+v, want badgeColor %s", sum.SchemaChanges, decision)
			}
		})
	}
}

// TestHistorySwitch: history turned on for a synced table makes its rows
// active versions; turned off, it is refused until a re-sync asks for it,
// which keeps the latest version of each key. A System Log re-sync reads
// again what the org serves and deletes nothing.
func TestHistorySwitch(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.opt.Only = []string{"users", "system_log"}
	e.mustSync()
	live := e.rows(`SELECT id FROM users WHERE NOT _fivetran_deleted ORDER BY id`)
	events := e.rows(`SELECT count(*) FROM system_log`)[0]

	e.cfg.Tables = map[string]TableConfig{"users": {History: true}}
	sum := e.mustSync()
	if got := e.rows(`SELECT id FROM users WHERE _fivetran_active ORDER BY id`); !slices.Equal(got, live) {
		t.Errorf("history on: %d active versions, %d live rows before", len(got), len(live))
	}
	if !slices.ContainsFunc(sum.SchemaChanges, func(c runtime.SchemaChange) bool { return c.Table == "users" && c.Decision == "history mode on" }) {
		t.Errorf("schema changes %+v: want history mode on recorded", sum.SchemaChanges)
	}
	e.sim.Churn(oktasim.ChurnSpec{Advance: time.Hour, UpdatedUsers: 3, LogEvents: 10})
	e.mustSync()
	versions := e.rows(`SELECT count(*) FROM users`)[0]

	e.cfg.Tables = nil
	sum, err := e.sync()
	if r := findTable(sum, "users"); err == nil || r.Status != runtime.StatusFailed || !strings.Contains(r.Reason, "re-sync") {
		t.Fatalf("history off without a re-sync: %v, users %+v; want it refused", err, r)
	}
	if got := e.rows(`SELECT count(*) FROM users`)[0]; got != versions {
		t.Fatalf("the refused switch changed users: %s rows, %s before", got, versions)
	}
	e.opt.Resync = []string{"users", "system_log"}
	sum = e.mustSync()
	if r := findTable(sum, "users"); r.Resync == "" {
		t.Errorf("users: %+v, want re-synced", r)
	}
	if got := e.rows(`SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name LIKE '_fivetran_%'`)[0]; got != "2" {
		t.Errorf("users has %s system columns after history off, want _fivetran_synced and _fivetran_deleted", got)
	}
	if got := e.rows(`SELECT id FROM users WHERE NOT _fivetran_deleted ORDER BY id`); len(got) != len(live) {
		t.Errorf("history off: %d live users, want %d", len(got), len(live))
	}
	if got := e.rows(`SELECT count(*) FROM system_log WHERE _fivetran_deleted`)[0]; got != "0" {
		t.Errorf("the System Log re-sync deleted %s events", got)
	}
	if got := e.rows(`SELECT count(*) FROM system_log`)[0]; len(got) < len(events) || len(got) == len(events) && got < events {
		t.Errorf("the System Log has %s events after its re-sync, %s before", got, events)
	}
}
