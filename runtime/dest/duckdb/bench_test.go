package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
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

func openBench(b *testing.B) *DB {
	d, err := Open(filepath.Join(b.TempDir(), "bench.duckdb"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// BenchmarkCommit commits batches of 5,000 users with 25,000 child rows,
// new users each time (insert) or the same users again (update, as a
// re-import does).
func BenchmarkCommit(b *testing.B) {
	const n = 5000
	for _, mode := range []string{"insert", "update"} {
		b.Run(mode, func(b *testing.B) {
			d := openBench(b)
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
				if mode == "insert" {
					first = i * n
				}
				batch := userBatch(first, n, synced.Add(time.Duration(i+1)*time.Second))
				rows += batchRows(batch)
				b.StartTimer()
				if err := d.Commit(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
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
// batches), reporting rows/s, the last batch's time and the Go heap in use
// at the end, which must not grow with the table.
func BenchmarkCommitLog(b *testing.B) {
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
