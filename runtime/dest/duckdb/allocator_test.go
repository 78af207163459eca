package duckdb

import (
	"context"
	"testing"
	"time"

	"oktasync/runtime"
)

// TestMemoryGovernor: while a database works, what DuckDB's allocator holds
// freed goes back to the OS once it passes the slack; without the governor
// it stays (jemalloc keeps it about a second).
func TestMemoryGovernor(t *testing.T) {
	if !allocatorLinked {
		t.Skip("DuckDB is built without jemalloc here")
	}
	const slack = 1 << 20
	// Sorting 70 MB of text allocates DuckDB buffers and frees them.
	churn := func(d *DB) {
		t.Helper()
		var n int
		if err := d.SQL().QueryRow(`SELECT count(*) FROM (SELECT repeat('x', 200) || i AS s
			FROM range(300000) t(i) ORDER BY s DESC)`).Scan(&n); err != nil || n != 300000 {
			t.Fatalf("churn: %d rows, %v", n, err)
		}
	}
	waitGovernorIdle(t)

	t.Run("off", func(t *testing.T) {
		d := open(t, "", Options{FreeMemorySlack: -1})
		defer governor.work(d.freeMemorySlack())()
		churn(d)
		if governor.isRunning() {
			t.Fatal("governor running with FreeMemorySlack < 0")
		}
		if free, ok := allocatorFree(); !ok || free <= slack {
			t.Fatalf("the workload left %d bytes freed (%v): it cannot show the governor at work", free, ok)
		}
	})

	t.Run("on", func(t *testing.T) {
		d := open(t, "", Options{FreeMemorySlack: slack})
		end := governor.work(d.freeMemorySlack())
		defer end()
		churn(d)
		deadline := time.Now().Add(2 * time.Second)
		for {
			free, ok := allocatorFree()
			if !ok {
				t.Fatal("allocator statistics unreadable")
			}
			if free <= slack {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d bytes still freed but resident 2 s after the workload, slack %d", free, slack)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("end of work", func(t *testing.T) {
		// A slack the ticks never pass: only the end of the work purges.
		d := open(t, "", Options{FreeMemorySlack: 1 << 40})
		end := governor.work(d.freeMemorySlack())
		churn(d)
		end()
		if free, ok := allocatorFree(); !ok || free > slack {
			t.Fatalf("%d bytes freed but resident after the work ended (%v), want at most %d", free, ok, slack)
		}
	})

	t.Run("commit", func(t *testing.T) {
		waitGovernorIdle(t)
		d := open(t, "", Options{})
		events, _, _ := logTables()
		if err := d.Prepare(context.Background(), []*runtime.Table{events}); err != nil {
			t.Fatal(err)
		}
		waitGovernorIdle(t)
		b := logBatch(0, 100, t1)
		b.Table, b.Append = events, true
		if err := d.Commit(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if !governor.isRunning() {
			t.Fatal("no governor after a commit")
		}
	})
}

// waitGovernorIdle waits for the governor of earlier work to stop.
func waitGovernorIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for governor.isRunning() {
		if time.Now().After(deadline) {
			t.Fatal("governor still running 5 s after the last work")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (g *memoryGovernor) isRunning() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running
}
