package connector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"oktasync/generated/okta"
	"oktasync/internal/pgtest"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/dest/postgres"
)

// dumper is a destination whose tables dump as CSV (both destinations
// write the same format).
type dumper interface {
	Dump(ctx context.Context, table string, w io.Writer) error
	Close() error
}

// dumpTables dumps every table of the registry, without _fivetran_synced
// when asked (the time of a sync, which differs between any two).
func dumpTables(t *testing.T, d dumper, withoutSynced bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	okta.Registry.Walk(func(tb *runtime.Table) {
		var b bytes.Buffer
		if err := d.Dump(context.Background(), tb.Name, &b); err != nil {
			t.Fatalf("dump %s: %v", tb.Name, err)
		}
		s := b.String()
		if withoutSynced {
			s = withoutColumn(t, s, "_fivetran_synced")
		}
		out[tb.Name] = s
	})
	return out
}

// pgNames renames the columns of DuckDB dumps as PostgreSQL names them
// (postgres.Ident: names past 63 bytes are cut, with a hash).
func pgNames(dumps map[string]string) map[string]string {
	out := make(map[string]string, len(dumps))
	for name, d := range dumps {
		header, rest, _ := strings.Cut(d, "\n")
		cols := strings.Split(header, ",")
		for i, c := range cols {
			cols[i] = postgres.Ident(c)
		}
		out[name] = strings.Join(cols, ",") + "\n" + rest
	}
	return out
}

func openPostgres(t *testing.T, dsn, schema string) *postgres.DB {
	t.Helper()
	d, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// diffDumps reports the tables whose dumps differ, with their first
// differing line.
func diffDumps(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for name, w := range want {
		g := got[name]
		if g == w {
			continue
		}
		wl, gl := strings.Split(w, "\n"), strings.Split(g, "\n")
		for i := range max(len(wl), len(gl)) {
			var a, b string
			if i < len(wl) {
				a = wl[i]
			}
			if i < len(gl) {
				b = gl[i]
			}
			if a != b {
				t.Errorf("%s: %s differs (%d and %d lines), line %d:\n  duckdb:   %.300s\n  postgres: %.300s", what, name, len(wl), len(gl), i+1, a, b)
				break
			}
		}
	}
}

// TestPostgresMatchesDuckDB syncs the demo org (every attack scenario) into
// DuckDB and into PostgreSQL on the same clock, twice (a full sync, then an
// incremental one), users and group_member in history mode and an email
// hashed, and compares every table: same rows, same values.
func TestPostgresMatchesDuckDB(t *testing.T) {
	dsn := pgtest.DSN(t)
	demo := DefaultDemo
	demo.Users, demo.Groups, demo.Apps, demo.Devices, demo.Logs = 300, 20, 12, 30, 4000
	dbPath := t.TempDir() + "/okta.duckdb"
	schema := pgtest.Schema(t, "e2e")
	t.Setenv("OKTASYNC_E2E_DSN", dsn)
	dests := []Destination{
		{Path: dbPath, Settings: map[string]string{"threads": "1"}},
		{Type: DestPostgres, DSNEnv: "OKTASYNC_E2E_DSN", Schema: schema},
	}
	// History mode and hashing too: their paths through the destination
	// differ from the plain one. One salt for both, or their hashes differ.
	t.Setenv("OKTASYNC_E2E_SALT", "e2e-salt")
	tables := map[string]TableConfig{
		"users":        {History: true, Columns: map[string]ColumnConfig{"profile_email": {Hashed: true}}},
		"group_member": {History: true},
	}
	for round, now := range []time.Time{oktasim.DefaultNow, oktasim.DefaultNow.Add(time.Hour)} {
		for _, d := range dests {
			cfg := &Config{Destination: d, Tables: tables, HashSaltEnv: "OKTASYNC_E2E_SALT"}
			clock := func() time.Time { return now }
			if sum, err := Demo(context.Background(), cfg, demo, SyncOptions{Now: clock}); err != nil {
				var b strings.Builder
				if sum != nil {
					PrintSummary(&b, sum, 0)
				}
				t.Fatalf("round %d, sync into %s: %v\n%s", round+1, d.Name(), err, b.String())
			}
		}
		ddb, err := duckdb.Open(dbPath, duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// The second round's System Log window follows the simulator's wire
		// clock, which moved between the two syncs: its _fivetran_synced
		// may differ on the events both read again.
		want := pgNames(dumpTables(t, ddb, round > 0))
		ddb.Close()
		pg := openPostgres(t, dsn, schema)
		got := dumpTables(t, pg, round > 0)
		diffDumps(t, "round "+string(rune('1'+round)), want, got)
		rows := 0
		for _, s := range got {
			rows += strings.Count(s, "\n") - 1
		}
		if rows < 10000 {
			t.Errorf("round %d: only %d rows in all: the comparison proves little", round+1, rows)
		}
		pg.Close()
	}
}

// TestPostgresRefusals: a DSN that does not parse, a wrong password, a
// database that does not exist, a port nobody listens on, and a user
// without the privilege to create the schema each fail the sync before any
// table, naming host and database and never the password; nothing is
// created.
func TestPostgresRefusals(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	with := func(f func(u *url.URL)) string {
		c := *u
		f(&c)
		return c.String()
	}
	// A user that may log in but not create schemas.
	role := "oktasync_noprivs_" + strings.ReplaceAll(pgtest.Schema(t, "x")[2:], "_", "")
	rolePass := "rolepass-" + role
	pgtest.Exec(t, dsn, `CREATE ROLE "`+role+`" LOGIN PASSWORD '`+rolePass+`'`,
		`REVOKE CREATE ON DATABASE postgres FROM PUBLIC`, `REVOKE CREATE ON SCHEMA public FROM PUBLIC`)
	t.Cleanup(func() { pgtest.Exec(t, dsn, `DROP ROLE IF EXISTS "`+role+`"`) })
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := free.Addr().(*net.TCPAddr).Port
	free.Close()

	sim := startTestSim(t)
	cases := []struct {
		name, dsn string
		want      []string
	}{
		{"unparsable", "postgres://oktasync:" + password + "@127.0.0.1:notaport/postgres", []string{"does not parse"}},
		{"wrong password", with(func(u *url.URL) { u.User = url.UserPassword(u.User.Username(), "wrong-password-xyz") }),
			[]string{u.Host, "/postgres", "password", "check the user and password"}},
		{"no database", with(func(u *url.URL) { u.Path = "/no_such_db" }), []string{u.Host, "/no_such_db", "create the database"}},
		{"server down", with(func(u *url.URL) { u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(deadPort)) }),
			[]string{"127.0.0.1:" + strconv.Itoa(deadPort), "/postgres", "unreachable"}},
		{"no privilege", with(func(u *url.URL) { u.User = url.UserPassword(role, rolePass) }),
			[]string{u.Host, "/postgres", "permission denied", "GRANT CREATE"}},
	}
	// check says the same before any sync: writable for the owner, the
	// grant to give for the user without privileges, on a new schema and
	// on one that exists.
	t.Run("check", func(t *testing.T) {
		schema := pgtest.Schema(t, "checked")
		t.Setenv("OKTASYNC_CHECK_DSN", dsn)
		d := Destination{Type: DestPostgres, DSNEnv: "OKTASYNC_CHECK_DSN", Schema: schema}
		if what, err := CheckDestination(context.Background(), d); err != nil || !strings.Contains(what, u.Host+"/postgres") {
			t.Errorf("check as the owner: %q, %v", what, err)
		}
		t.Setenv("OKTASYNC_CHECK_DSN", with(func(u *url.URL) { u.User = url.UserPassword(role, rolePass) }))
		_, err := CheckDestination(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), "may not create it") || !strings.Contains(err.Error(), "AUTHORIZATION") || strings.Contains(err.Error(), rolePass) {
			t.Errorf("check without privileges, no schema: %v", err)
		}
		pgtest.Exec(t, dsn, `CREATE SCHEMA "`+schema+`"`)
		_, err = CheckDestination(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), "may not create tables in schema") || !strings.Contains(err.Error(), "GRANT CREATE, USAGE ON SCHEMA") {
			t.Errorf("check without privileges on an existing schema: %v", err)
		}
		pgtest.Exec(t, dsn, `GRANT CREATE, USAGE ON SCHEMA "`+schema+`" TO "`+role+`"`)
		if _, err := CheckDestination(context.Background(), d); err != nil {
			t.Errorf("check after the grant: %v", err)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema := pgtest.Schema(t, "refused")
			t.Setenv("OKTASYNC_REFUSED_DSN", tc.dsn)
			cfg := &Config{OrgURL: sim, Token: "demo-token", TimeScale: 60,
				Destination: Destination{Type: DestPostgres, DSNEnv: "OKTASYNC_REFUSED_DSN", Schema: schema}}
			_, err := Sync(context.Background(), cfg, SyncOptions{})
			if err == nil {
				t.Fatal("the sync passed")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			for _, secret := range []string{password, "wrong-password-xyz", rolePass} {
				if strings.Contains(msg, secret) {
					t.Errorf("error shows a password:\n%s", msg)
				}
			}
			pg := openPostgres(t, dsn, schema)
			var n int
			if err := pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, schema).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d tables created", n)
			}
		})
	}
}

// startTestSim starts the small org and returns its URL.
func startTestSim(t *testing.T) string {
	t.Helper()
	org := smallOrg
	org.TimeScale = 60
	org.Tokens = map[string]string{"demo-token": "SUPER_ADMIN"}
	sim, err := oktasim.New(org)
	if err != nil {
		t.Fatal(err)
	}
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return u
}

// TestPostgresServerGoneMidSync cuts the server off (a proxy between the
// sync and PostgreSQL drops every connection and refuses new ones) after
// some batches have committed: the sync fails naming the server, and once
// the server is back the next sync resumes and ends with the tables of a
// DuckDB sync interrupted at the same point (its commits refused from
// then on) and resumed. One table at a time, so that both stop at the same
// batch; the two resumed syncs then take the same decisions.
func TestPostgresServerGoneMidSync(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	org := smallOrg
	org.Users, org.Logs = 150, 3000
	e := newEnv(t, org)
	e.cfg.Parallel = 1
	e.opt.BatchRows = 200 // many commits, so the cut lands between some
	const cutAfter = 8
	var reports atomic.Int64
	var down atomic.Bool
	e.opt.Progress = func(runtime.TableReport) {
		if reports.Add(1) == cutAfter {
			down.Store(true)
		}
	}

	// Reference: DuckDB, its commits refused from the same point on.
	e.opt.OpenDest = func(path string) (runtime.Destination, error) {
		d, err := duckdb.Open(path, duckdb.Options{})
		return refusing{d, &down}, err
	}
	if _, err := e.sync(); err == nil {
		t.Fatal("the reference sync passed with its commits refused")
	}
	down.Store(false)
	e.opt.Progress = nil
	e.mustSync()
	e.opt.OpenDest = nil
	ddb, err := duckdb.Open(e.db, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := pgNames(dumpTables(t, ddb, true))
	ddb.Close()

	proxy := newCutProxy(t, u.Host)
	pu := *u
	pu.Host = proxy.addr
	t.Setenv("OKTASYNC_CUT_DSN", pu.String())
	schema := pgtest.Schema(t, "cut")
	e.cfg.Destination = Destination{Type: DestPostgres, DSNEnv: "OKTASYNC_CUT_DSN", Schema: schema}
	reports.Store(0)
	e.opt.Progress = func(runtime.TableReport) {
		if reports.Add(1) == cutAfter {
			proxy.cut()
		}
	}
	sum, err := e.sync()
	if err == nil {
		t.Fatal("the sync passed with the server gone")
	}
	var b strings.Builder
	if sum != nil {
		PrintSummary(&b, sum, 0)
	}
	if msg := b.String() + err.Error(); !strings.Contains(msg, proxy.addr+"/postgres") || strings.Contains(msg, pgPassword(u)) {
		t.Errorf("the failure does not name the server (%s/postgres), or shows the password:\n%s", proxy.addr, msg)
	}
	proxy.restore()
	e.opt.Progress = nil
	e.mustSync()
	pg := openPostgres(t, dsn, schema)
	got := dumpTables(t, pg, true)
	diffDumps(t, "after the server came back", want, got)
}

func pgPassword(u *url.URL) string {
	p, _ := u.User.Password()
	return p
}

// refusing is a destination whose commits fail while down is set.
type refusing struct {
	runtime.Destination
	down *atomic.Bool
}

func (r refusing) Commit(ctx context.Context, b *runtime.Batch) error {
	if r.down.Load() {
		return errors.New("refused: the destination is down")
	}
	return r.Destination.Commit(ctx, b)
}

// cutProxy forwards TCP connections to a server until cut: then it closes
// every connection and refuses new ones until restored.
type cutProxy struct {
	addr   string
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: ln.Addr().String(), target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
