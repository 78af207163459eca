package duckdb

import (
	"context"
	"testing"

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
