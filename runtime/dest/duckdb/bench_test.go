package duckdb

import (
	"context"
	"database/sql/driver"
	"flag"
	"fmt"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"

	"oktasync/runtime"
)

// userTables is shaped like a users table: 40 text and 8 timestamp columns,
// with two breakout children.
func userTables() (users, emails, profile *runtime.Table) {
	users = &runtime.Table{Name: "users", PrimaryKey: []string{"id"}}
	users.Columns = append(users.Columns, runtime.Column{Name: "id", Type: runtime.TypeString})
	for i := range 39 {
		users.Columns = append(users.Columns, runtime.Column{Name: "profile_" + strconv.Itoa(i), Type: runtime.TypeString})
	}
	for i := range 8 {
		users.Columns = append(users.Columns, runtime.Column{Name: "at_" + strconv.Itoa(i), Type: runtime.TypeTimestamp})
	}
	emails = &runtime.Table{
		Name: "user_email", PrimaryKey: []string{"users_id", "value"}, ParentKey: []string{"users_id"}, Parent: users,
		Columns: []runtime.Column{{Name: "users_id", Type: runtime.TypeString}, {Name: "value", Type: runtime.TypeString},
			{Name: "status", Type: runtime.TypeString}, {Name: "type", Type: runtime.TypeString}},
	}
	profile = &runtime.Table{
		Name: "user_profile", PrimaryKey: []string{"users_id", "name"}, ParentKey: []string{"users_id"}, Parent: users,
		Columns: []runtime.Column{{Name: "users_id", Type: runtime.TypeString}, {Name: "name", Type: runtime.TypeString},
			{Name: "value", Type: runtime.TypeString}},
	}
	users.Children = []*runtime.Table{emails, profile}
	return users, emails, profile
}

// userBatch makes n users, from the first'th on, each with 2 emails and 3
// profile attributes, and the replacement of their children.
func userBatch(first, n int, synced time.Time) *runtime.Batch {
	users, emails, profile := userTables()
	b := &runtime.Batch{Table: users, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{
		users: {}, emails: {}, profile: {},
	}, Replace: map[*runtime.Table][][]any{}}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("00u%017d", i)
		row := make([]any, 0, len(users.Columns))
		row = append(row, id)
		for j := range 39 {
			row = append(row, "value "+strconv.Itoa(j)+" of "+id)
		}
		for j := range 8 {
			row = append(row, at.Add(time.Duration(i*8+j)*time.Second))
		}
		b.Rows[users].Rows = append(b.Rows[users].Rows, row)
		for j := range 2 {
			b.Rows[emails].Rows = append(b.Rows[emails].Rows, []any{id, fmt.Sprintf("u%d.%d@example.com", i, j), "VERIFIED", "primary"})
		}
		for j := range 3 {
			b.Rows[profile].Rows = append(b.Rows[profile].Rows, []any{id, "attr" + strconv.Itoa(j), "v" + strconv.Itoa(j)})
		}
		b.Replace[emails] = append(b.Replace[emails], []any{id})
		b.Replace[profile] = append(b.Replace[profile], []any{id})
	}
	return b
}

func batchRows(b *runtime.Batch) int {
	n := 0
	for _, rs := range b.Rows {
		n += len(rs.Rows)
	}
	return n
}

func openBench(b *testing.B) *DB { return openBenchWith(b, Options{}) }

func openBenchWith(b *testing.B, opts Options) *DB {
	d, err := Open(filepath.Join(b.TempDir(), "bench.duckdb"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// BenchmarkCommit commits batches of 5,000 users with 25,000 child rows,
// new users each time (insert), the same users again (update, as a
// re-import does), or new users in an Append run (append, as a first
// import does).
func BenchmarkCommit(b *testing.B) {
	const n = 5000
	for _, mode := range []string{"insert", "update", "append"} {
		b.Run(mode, func(b *testing.B) {
			var st stageTimes
			d := openBenchWith(b, Options{CrashPoint: st.hook})
			users, _, _ := userTables()
			if err := d.Prepare(context.Background(), []*runtime.Table{users}); err != nil {
				b.Fatal(err)
			}
			synced := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			if mode == "update" {
				if err := d.Commit(context.Background(), userBatch(0, n, synced)); err != nil {
					b.Fatal(err)
				}
			}
			rows := 0
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				first := 0
				if mode != "update" {
					first = i * n
				}
				batch := userBatch(first, n, synced.Add(time.Duration(i+1)*time.Second))
				batch.Append = mode == "append"
				rows += batchRows(batch)
				b.StartTimer()
				if err := d.Commit(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			st.report(b, b.N)
		})
	}
}

// BenchmarkAppend is the ceiling of the write path: prebuilt users rows
// through the Appender into a table without a key, nothing else.
func BenchmarkAppend(b *testing.B) {
	d := openBench(b)
	users, _, _ := userTables()
	ctx := context.Background()
	ddl := "CREATE TABLE plain ("
	for i, c := range users.Columns {
		if i > 0 {
			ddl += ", "
		}
		typ, _ := sqlType(c.Type)
		ddl += quote(c.Name) + " " + typ
	}
	if _, err := d.db.ExecContext(ctx, ddl+")"); err != nil {
		b.Fatal(err)
	}
	ub := userBatch(0, 5000, time.Now())
	rows := ub.Rows[ub.Table].Rows
	conn, err := d.db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	buf := make([]driver.Value, len(users.Columns))
	b.ResetTimer()
	err = conn.Raw(func(dc any) error {
		a, err := ddb.NewAppender(dc.(driver.Conn), "", "main", "plain")
		if err != nil {
			return err
		}
		for i := range b.N {
			for j, v := range rows[i%len(rows)] {
				buf[j] = v
			}
			if err := a.AppendRow(buf...); err != nil {
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// logTables is shaped like an event log: an immutable event with two
// breakout children and dynamic columns.
func logTables() (events, targets, ips *runtime.Table) {
	s := runtime.TypeString
	events = &runtime.Table{Name: "events", PrimaryKey: []string{"id"},
		Dynamic: []runtime.DynamicColumns{{Path: "debug", Prefix: "debug_", Type: s}}}
	events.Columns = append(events.Columns, runtime.Column{Name: "id", Type: s}, runtime.Column{Name: "published", Type: runtime.TypeTimestamp})
	for i := range 30 {
		events.Columns = append(events.Columns, runtime.Column{Name: "f" + strconv.Itoa(i), Type: s})
	}
	targets = &runtime.Table{Name: "event_target", PrimaryKey: []string{"id", "events_id"}, ParentKey: []string{"events_id"}, Parent: events,
		Columns: []runtime.Column{{Name: "events_id", Type: s}, {Name: "id", Type: s}, {Name: "type", Type: s}, {Name: "detail", Type: runtime.TypeJSON}}}
	ips = &runtime.Table{Name: "event_ip", PrimaryKey: []string{"_fivetran_id"}, ParentKey: []string{"events_id"}, Parent: events,
		Columns: []runtime.Column{{Name: "events_id", Type: s}, {Name: "_fivetran_id", Type: s}, {Name: "ip", Type: s}}}
	events.Children = []*runtime.Table{targets, ips}
	return events, targets, ips
}

// logBatch makes n events from the first'th on, each with 2 targets, 1 ip and
// 3 of 20 dynamic keys, with replacement keys as the engine sends them.
func logBatch(first, n int, synced time.Time) *runtime.Batch {
	events, targets, ips := logTables()
	b := &runtime.Batch{Table: events, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{
		events: {}, targets: {}, ips: {},
	}, Replace: map[*runtime.Table][][]any{}}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i*2654435761%(1<<32), i)
		row := []any{id, at.Add(time.Duration(i) * time.Millisecond)}
		for j := range 30 {
			row = append(row, "field "+strconv.Itoa(j))
		}
		b.Rows[events].Rows = append(b.Rows[events].Rows, row)
		b.Rows[events].Dynamic = append(b.Rows[events].Dynamic, []runtime.Field{
			{Name: "debug_k" + strconv.Itoa(i%20), Value: "a"},
			{Name: "debug_k" + strconv.Itoa((i+7)%20), Value: "b"},
			{Name: "debug_k" + strconv.Itoa((i+13)%20), Value: "c"},
		})
		for j := range 2 {
			b.Rows[targets].Rows = append(b.Rows[targets].Rows, []any{id, "t" + strconv.Itoa(j), "User", `{"a":1}`})
		}
		b.Rows[ips].Rows = append(b.Rows[ips].Rows, []any{id, runtime.RowHash([]any{id}), "10.0.0.1"})
		b.Replace[targets] = append(b.Replace[targets], []any{id})
		b.Replace[ips] = append(b.Replace[ips], []any{id})
	}
	return b
}

// BenchmarkCommitLog commits 1,000-event batches into a growing log (b.N
// batches), merged by key or appended, reporting rows/s, the last batch's
// time and the Go heap in use at the end, which must not grow with the
// table.
func BenchmarkCommitLog(b *testing.B) {
	for _, mode := range []string{"merge", "append"} {
		b.Run(mode, func(b *testing.B) { benchCommitLog(b, mode == "append") })
	}
}

func benchCommitLog(b *testing.B, appended bool) {
	const n = 1000
	d := openBench(b)
	events, _, _ := logTables()
	if err := d.Prepare(context.Background(), []*runtime.Table{events}); err != nil {
		b.Fatal(err)
	}
	synced := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := 0
	var last time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		batch := logBatch(i*n, n, synced)
		batch.Append = appended
		rows += batchRows(batch)
		b.StartTimer()
		start := time.Now()
		if err := d.Commit(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		last = time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(last.Microseconds())/1000, "ms/last-batch")
	debug.FreeOSMemory()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MB-heap")
	var duck int64
	if err := d.db.QueryRow(`SELECT sum(memory_usage_bytes) FROM duckdb_memory()`).Scan(&duck); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(duck)/(1<<20), "MB-duckdb")
}

// bigRows sizes the large tables of the benchmarks below: application_user
// had 7.6 million rows in the throughput org.
var bigRows = flag.Int("bigrows", 7_000_000, "rows of the large table of BenchmarkMergeLarge and BenchmarkAppendRunLarge")

// syncSettings are those a sync runs with (connector.DefaultDuckDBSettings,
// which this package cannot import); a table with a primary-key index gets
// no memory limit, as its index must stay in memory.
func syncSettings(indexed bool) map[string]string {
	if indexed {
		return map[string]string{"checkpoint_threshold": "256MB"}
	}
	return map[string]string{"checkpoint_threshold": "256MB", "memory_limit": "96MB"}
}

// assignTable is shaped like application_user: a fan-out table of 10 text
// and 5 timestamp columns keyed by (app_id, user_id).
func assignTable() *runtime.Table {
	t := &runtime.Table{Name: "assign", PrimaryKey: []string{"app_id", "user_id"}, ParentKey: []string{"app_id"},
		FanOut: &runtime.FanOut{Parent: "app", Fields: []string{"id"}}}
	t.Columns = append(t.Columns, runtime.Column{Name: "app_id", Type: runtime.TypeString}, runtime.Column{Name: "user_id", Type: runtime.TypeString})
	for i := range 8 {
		t.Columns = append(t.Columns, runtime.Column{Name: "s" + strconv.Itoa(i), Type: runtime.TypeString})
	}
	for i := range 5 {
		t.Columns = append(t.Columns, runtime.Column{Name: "at" + strconv.Itoa(i), Type: runtime.TypeTimestamp})
	}
	return t
}

const usersPerApp = 35000

// appID starts like an Okta id, with characters that differ between apps.
func appID(app int) string   { return fmt.Sprintf("0oa%05x%012d", app*2654435761%(1<<20), app) }
func userID(user int) string { return fmt.Sprintf("00u%017d", user) }

// fillAssign writes n rows, usersPerApp per app, straight into the table
// with SQL (the Appender would take minutes), as written at synced, and
// checkpoints.
func fillAssign(b *testing.B, d *DB, n int, synced time.Time) {
	b.Helper()
	app := `(i // ` + strconv.Itoa(usersPerApp) + `)`
	q := `INSERT INTO assign SELECT '0oa' || lpad(lower(to_hex(` + app + ` * 2654435761 % 1048576)), 5, '0') || lpad(` + app + `::VARCHAR, 12, '0'),
		'00u' || lpad((i % ` + strconv.Itoa(usersPerApp) + `)::VARCHAR, 17, '0')`
	for i := range 8 {
		q += `, 'https://acme.okta.com/api/v1/apps/field` + strconv.Itoa(i) + `/' || i::VARCHAR`
	}
	for range 5 {
		q += `, TIMESTAMP '2024-01-01' + to_seconds(i)`
	}
	q += `, ` + tsLiteral(synced) + `, false FROM range(` + strconv.Itoa(n) + `) t(i)`
	if _, err := d.db.Exec(q); err != nil {
		b.Fatal(err)
	}
	if _, err := d.db.Exec("CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
}

// assignBatch lists users [first, first+n) of app, replacing the app's rows.
func assignBatch(t *runtime.Table, app, first, n int, synced time.Time) *runtime.Batch {
	b := &runtime.Batch{Table: t, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{t: {}},
		Replace: map[*runtime.Table][][]any{t: {{appID(app)}}}}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for u := first; u < first+n; u++ {
		row := []any{appID(app), userID(u)}
		for i := range 8 {
			row = append(row, "https://acme.okta.com/api/v1/apps/field"+strconv.Itoa(i)+"/x"+strconv.Itoa(u))
		}
		for i := range 5 {
			row = append(row, at.Add(time.Duration(u+i)*time.Second))
		}
		b.Rows[t].Rows = append(b.Rows[t].Rows, row)
	}
	return b
}

// BenchmarkMergeLarge merges batches of 10,000 rows (half of them keys the
// table has) into a table of -bigrows rows, as an incremental sync re-lists
// a fan-out table: without an index (delete and insert by key) and, for
// comparison, into a table with a PRIMARY KEY made by an earlier version
// (INSERT OR REPLACE through the index). A batch holds the rows of one app,
// or of four (the engine's batches of application_user held 4 on average),
// which makes the range of keys the merge looks for wider. It reports ms
// per batch and per commit stage.
func BenchmarkMergeLarge(b *testing.B) {
	for _, kind := range []string{"keyless/1-app", "keyless/4-apps", "primary-key/1-app", "primary-key/4-apps"} {
		b.Run(kind, func(b *testing.B) {
			parents := 1
			if strings.HasSuffix(kind, "4-apps") {
				parents = 4
			}
			var st stageTimes
			d := openBenchWith(b, Options{CrashPoint: st.hook, Settings: syncSettings(strings.HasPrefix(kind, "primary-key"))})
			t := assignTable()
			ctx := context.Background()
			if strings.HasPrefix(kind, "primary-key") {
				ddl := "CREATE TABLE assign ("
				for _, c := range t.Columns {
					typ, _ := sqlType(c.Type)
					ddl += quote(c.Name) + " " + typ + ", "
				}
				ddl += "_fivetran_synced TIMESTAMP, _fivetran_deleted BOOLEAN, PRIMARY KEY (app_id, user_id))"
				if _, err := d.db.Exec(ddl); err != nil {
					b.Fatal(err)
				}
			}
			if err := d.Prepare(ctx, []*runtime.Table{t}); err != nil {
				b.Fatal(err)
			}
			if got := d.tables["assign"].keyed; got != strings.HasPrefix(kind, "primary-key") {
				b.Fatalf("keyed = %v", got)
			}
			s1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			fillAssign(b, d, *bigRows, s1)
			apps := *bigRows / usersPerApp
			const n = 10000
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				// Each app's users usersPerApp-m/2..: m/2 it has, m/2 new.
				var batch *runtime.Batch
				m := n / parents
				for j := range parents {
					k := i*parents + j
					ab := assignBatch(t, k%apps, usersPerApp-m/2+k/apps*m, m, s1.Add(time.Hour))
					if batch == nil {
						batch = ab
						continue
					}
					batch.Rows[t].Rows = append(batch.Rows[t].Rows, ab.Rows[t].Rows...)
					batch.Replace[t] = append(batch.Replace[t], ab.Replace[t]...)
				}
				b.StartTimer()
				if err := d.Commit(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var rows int
			if err := d.db.QueryRow(`SELECT count(*) FROM assign`).Scan(&rows); err != nil {
				b.Fatal(err)
			}
			if want := *bigRows + b.N*n/2; rows != want && b.N*parents <= apps {
				b.Fatalf("%d rows after the merges, want %d: the batches' keys do not match the table's", rows, want)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
			st.report(b, b.N)
		})
	}
}

// BenchmarkAppendRunLarge times the commits of an Append run into a table
// of -bigrows rows: "written-this-run" rows carry the run's
// _fivetran_synced, as in a first import, so replacements, the sweep and
// the dedupe probe skip them by zone maps; "earlier-run" rows are older, as
// an incremental stream's are, so the replacement and the sweep must look at
// them. Each op is one batch of 10,000 new rows replacing an app's rows;
// the last op also dedupes and sweeps. It reports ms per batch and the
// duration of the final batch alone.
func BenchmarkAppendRunLarge(b *testing.B) {
	for _, kind := range []string{"written-this-run", "earlier-run"} {
		b.Run(kind, func(b *testing.B) {
			var st stageTimes
			d := openBenchWith(b, Options{CrashPoint: st.hook, Settings: syncSettings(false)})
			t := assignTable()
			ctx := context.Background()
			if err := d.Prepare(ctx, []*runtime.Table{t}); err != nil {
				b.Fatal(err)
			}
			run := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
			written := run
			if kind == "earlier-run" {
				written = run.Add(-24 * time.Hour)
			}
			fillAssign(b, d, *bigRows, written)
			apps := *bigRows / usersPerApp
			const n = 10000
			var last time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				batch := assignBatch(t, apps+i, 0, n, run)
				batch.Append = true
				if i == b.N-1 {
					batch.Dedupe = true
					batch.Sweep = &runtime.Sweep{Before: run}
				}
				b.StartTimer()
				start := time.Now()
				if err := d.Commit(ctx, batch); err != nil {
					b.Fatal(err)
				}
				last = time.Since(start)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
			b.ReportMetric(float64(last.Microseconds())/1000, "ms/last-batch")
			st.report(b, b.N)
		})
	}
}

// stageTimes adds up the time of each commit stage through the CrashPoint
// hook; report prints them per commit.
type stageTimes struct {
	last time.Time
	sum  map[string]time.Duration
}

func (st *stageTimes) hook(stage string) error {
	now := time.Now()
	if stage != "begin" && !st.last.IsZero() {
		if st.sum == nil {
			st.sum = map[string]time.Duration{}
		}
		st.sum[stage] += now.Sub(st.last)
	}
	st.last = now
	return nil
}

func (st *stageTimes) report(b *testing.B, commits int) {
	for _, s := range Stages()[1:] {
		b.ReportMetric(float64(st.sum[s].Microseconds())/1000/float64(commits), "ms/"+s)
	}
}

// BenchmarkHistory compares history mode with soft deletes on the batches
// of BenchmarkCommit (5,000 users with 25,000 child rows): an Append run
// (a first import), a merge of the same rows unchanged (a re-import, which
// in history mode confirms each active version) and a merge in which every
// user changed (a new version of each; the children stay unchanged).
func BenchmarkHistory(b *testing.B) {
	const n = 5000
	for _, kind := range []string{"append", "unchanged", "changed"} {
		for _, mode := range []string{"soft_delete", "history"} {
			b.Run(kind+"/"+mode, func(b *testing.B) {
				var st stageTimes
				d := openBenchWith(b, Options{CrashPoint: st.hook})
				users, emails, profile := userTables()
				history := mode == "history"
				users.History, emails.History, profile.History = history, history, history
				ctx := context.Background()
				if err := d.Prepare(ctx, []*runtime.Table{users}); err != nil {
					b.Fatal(err)
				}
				synced := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
				if kind != "append" {
					if err := d.Commit(ctx, userBatch(0, n, synced)); err != nil {
						b.Fatal(err)
					}
				}
				rows := 0
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					first := 0
					if kind == "append" {
						first = i * n
					}
					batch := userBatch(first, n, synced.Add(time.Duration(i+1)*time.Second))
					batch.Append = kind == "append"
					if kind == "changed" {
						for _, r := range batch.Rows[batch.Table].Rows {
							r[1] = "changed " + strconv.Itoa(i)
						}
					}
					rows += batchRows(batch)
					b.StartTimer()
					if err := d.Commit(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
				st.report(b, b.N)
			})
		}
	}
}
