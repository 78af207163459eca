package models

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"oktasync/internal/connector"
	"oktasync/runtime/fetch"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testDemo is the demo org (connector.DefaultDemo: its seed, every attack
// scenario) at a size whose models fit in reviewable golden files.
var testDemo = func() connector.DemoOptions {
	d := connector.DefaultDemo
	d.Users, d.Groups, d.Apps, d.Devices, d.Logs = 300, 20, 12, 30, 4000
	return d
}()

var (
	orgMu  sync.Mutex
	orgDBs = map[string]string{}
	orgDir string
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "models-test-")
	if err != nil {
		panic(err)
	}
	orgDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// demoDB returns a database file synced from testDemo, syncing it on first
// use; history puts group_member and users in history mode. Tests that
// change the file copy it first (copyDB).
func demoDB(t *testing.T, history bool) string {
	t.Helper()
	key := "plain"
	if history {
		key = "history"
	}
	orgMu.Lock()
	defer orgMu.Unlock()
	if db, ok := orgDBs[key]; ok {
		return db
	}
	db := filepath.Join(orgDir, key+".duckdb")
	cfg := &connector.Config{Destination: connector.Destination{Path: db, Settings: map[string]string{"threads": "1"}}}
	if history {
		cfg.Tables = map[string]connector.TableConfig{"group_member": {History: true}, "users": {History: true}}
	}
	opt := connector.SyncOptions{Fetch: func(c *fetch.Config) {
		c.RetryBase, c.RetryMax = time.Millisecond, 20*time.Millisecond
		c.MaxRetries = 8
	}}
	if _, err := connector.Demo(context.Background(), cfg, testDemo, opt); err != nil {
		t.Fatalf("demo sync: %v", err)
	}
	orgDBs[key] = db
	return db
}

// builtDB returns a copy of the demo database with every model built.
func builtDB(t *testing.T, history bool) string {
	t.Helper()
	path := copyDB(t, demoDB(t, history))
	res := runModels(t, path, mustPack(t))
	if res.Failed() > 0 {
		var b strings.Builder
		PrintFailures(&b, "", res)
		t.Fatalf("models failed:\n%s", b.String())
	}
	return path
}

func mustPack(t *testing.T) []*Model {
	t.Helper()
	pack, err := Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pack
}

func runModels(t *testing.T, path string, ms []*Model) *Result {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := Run(context.Background(), db, ms)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// copyDB copies a database file to a fresh one the test may change.
func copyDB(t *testing.T, src string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), "copy.duckdb")
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryRows runs a query and renders each row as one tab-separated line,
// the lines sorted: results compare as multisets.
func queryRows(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				parts[i] = "NULL"
			case []byte:
				parts[i] = string(x)
			case time.Time:
				parts[i] = x.UTC().Format(time.RFC3339Nano)
			default:
				parts[i] = fmt.Sprint(x)
			}
		}
		out = append(out, strings.Join(parts, "\t"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// queryInt runs a query returning one integer.
func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return n.Int64
}
