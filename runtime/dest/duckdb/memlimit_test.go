package duckdb

import (
	"context"
	"strconv"
	"testing"

	ddb "github.com/duckdb/duckdb-go/v2"

	"oktasync/runtime"
)

// TestOutOfMemoryRetry: a commit that does not fit in memory_limit runs
// again with a raised limit, which is set back after; without a limit of
// its own in Options.Settings the commit fails as DuckDB says.
func TestOutOfMemoryRetry(t *testing.T) {
	const limit = "16MB" // an in-memory database cannot spill: the batch needs more
	commit := func(d *DB) error {
		events, _, _ := logTables()
		if err := d.Prepare(context.Background(), []*runtime.Table{events}); err != nil {
			t.Fatal(err)
		}
		b := logBatch(0, 20000, t1)
		b.Table, b.Append = events, true
		return d.Commit(context.Background(), b)
	}
	setting := func(d *DB) string {
		var v string
		if err := d.SQL().QueryRow("SELECT current_setting('memory_limit')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("control", func(t *testing.T) {
		d := open(t, "", Options{})
		if _, err := d.SQL().Exec("SET memory_limit = '" + limit + "'"); err != nil {
			t.Fatal(err)
		}
		if err := commit(d); !isOutOfMemory(err) {
			t.Fatalf("commit under %s set behind the destination's back: %v, want DuckDB's out of memory error", limit, err)
		}
	})

	t.Run("retry", func(t *testing.T) {
		d := open(t, "", Options{Settings: map[string]string{"memory_limit": limit}})
		before := setting(d)
		if err := commit(d); err != nil {
			t.Fatal(err)
		}
		if after := setting(d); after != before {
			t.Errorf("memory_limit %s after the retry, want %s back", after, before)
		}
		var n int
		if err := d.SQL().QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil || n != 20000 {
			t.Errorf("%d events (%v), want 20000", n, err)
		}
	})
}

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{"91.5 MiB": 95944704, "1.0 GiB": 1 << 30, "512 bytes": 512, "2 KB": 2000} {
		if got, err := parseMemory(in); err != nil || got != want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseMemory("lots"); err == nil {
		t.Error("parseMemory(lots): no error")
	}
}

// TestWideBatchFlushedInChunks: an Appender of a table as wide as the
// System Log flushes every chunk (DuckDB holds what it has not flushed
// outside its buffer pool), and every row lands whole, appended into the
// table or staged and merged; a narrow table's batch flushes once.
func TestWideBatchFlushedInChunks(t *testing.T) {
	const cols, n = 600, 5000
	if every := flushRows(cols + 1); every != ddb.GetDataChunkCapacity() {
		t.Fatalf("flushRows(%d) = %d, want one chunk", cols+1, every)
	}
	if every := flushRows(3); every < 10_000 {
		t.Fatalf("flushRows(3) = %d: a narrow table's batch should flush once", every)
	}
	wide := &runtime.Table{Name: "wide", PrimaryKey: []string{"id"}}
	wide.Columns = append(wide.Columns, runtime.Column{Name: "id", Type: runtime.TypeString})
	for j := range cols {
		wide.Columns = append(wide.Columns, runtime.Column{Name: "c" + strconv.Itoa(j), Type: runtime.TypeString})
	}
	batch := func(version string, appendOnly bool) *runtime.Batch {
		rs := &runtime.RowSet{}
		for i := range n {
			row := make([]any, 1+cols)
			row[0] = "id" + strconv.Itoa(i)
			for j := 0; j < cols; j += 149 {
				row[1+j] = version + strconv.Itoa(i) + "." + strconv.Itoa(j)
			}
			rs.Rows = append(rs.Rows, row)
		}
		return &runtime.Batch{Table: wide, Synced: t1, Append: appendOnly,
			Rows: map[*runtime.Table]*runtime.RowSet{wide: rs}, Replace: map[*runtime.Table][][]any{}}
	}
	d := open(t, "", Options{})
	ctx := context.Background()
	if err := d.Prepare(ctx, []*runtime.Table{wide}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		version    string
		appendOnly bool
	}{{"a", true}, {"b", false}} {
		before := d.flushes.Load()
		if err := d.Commit(ctx, batch(step.version, step.appendOnly)); err != nil {
			t.Fatal(err)
		}
		if got, want := d.flushes.Load()-before, int64((n-1)/ddb.GetDataChunkCapacity()); got != want {
			t.Errorf("version %s: %d flushes before the last, want %d", step.version, got, want)
		}
		var rows, whole int
		err := d.SQL().QueryRow(`SELECT count(*), count(*) FILTER (WHERE c0 = ? || substr(id, 3) || '.0'
			AND c596 = ? || substr(id, 3) || '.596' AND c1 IS NULL) FROM wide`, step.version, step.version).Scan(&rows, &whole)
		if err != nil {
			t.Fatal(err)
		}
		if rows != n || whole != n {
			t.Errorf("version %s: %d rows, %d of them whole; want %d", step.version, rows, whole, n)
		}
	}
	before := d.flushes.Load()
	events, _, _ := logTables()
	if err := d.Prepare(ctx, []*runtime.Table{events}); err != nil {
		t.Fatal(err)
	}
	b := logBatch(0, n, t1)
	b.Table, b.Append = events, true
	if err := d.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := d.flushes.Load() - before; got != 0 {
		t.Errorf("a narrow batch of %d rows flushed %d times before its last", n, got)
	}
}
