package connector

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"oktasync/generated/okta"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/fetch"
)

var demoURLRe = regexp.MustCompile(`url=http://(127\.0\.0\.1:[0-9]+)`)

// TestDemoTwiceIntoOneFile: a second demo into the same file leaves every
// table as the first left it. Before, hrefs carried the simulator's random
// port (application_link, resource and application_client_credentials_link
// doubled) and _fivetran_synced was the simulated org's fixed clock, so the
// sweep could not tell old rows from new.
func TestDemoTwiceIntoOneFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.duckdb")
	// system_log included: its window follows the simulated org's clock
	// (the Date header), though the engine's clock is the real one.
	cfg := &Config{Destination: Destination{Path: db}}
	demo := DemoOptions{Seed: 1, Users: 30, Groups: 6, Apps: 24, Devices: 6, Logs: 200, TimeScale: 60}
	var hosts []string
	run := func() (counts map[string]int64, start, end time.Time) {
		t.Helper()
		var log bytes.Buffer
		opt := SyncOptions{
			Logger: slog.New(slog.NewTextHandler(&log, nil)),
			Fetch:  func(c *fetch.Config) { c.RetryBase, c.RetryMax = time.Millisecond, 20*time.Millisecond },
		}
		start = time.Now()
		if _, err := Demo(context.Background(), cfg, demo, opt); err != nil {
			t.Fatalf("demo: %v", err)
		}
		end = time.Now()
		m := demoURLRe.FindStringSubmatch(log.String())
		if m == nil {
			t.Fatalf("no simulator URL in the demo's log:\n%s", log.String())
		}
		hosts = append(hosts, m[1])
		return tableCounts(t, db), start, end
	}
	first, _, _ := run()
	second, start, end := run()

	for _, name := range []string{"application_link", "resource", "application_client_credentials_link"} {
		if first[name] == 0 {
			t.Errorf("%s: no rows; the org is too small to show the defect", name)
		}
	}
	for name, n := range second {
		if n != first[name] {
			t.Errorf("%s: %d rows after the second demo, %d after the first", name, n, first[name])
		}
	}

	d, err := duckdb.Open(db, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	okta.Registry.Walk(func(tb *runtime.Table) {
		if _, synced := second[tb.Name]; !synced {
			return
		}
		key := make([]string, len(tb.PrimaryKey))
		for i, k := range tb.PrimaryKey {
			key[i] = `"` + k + `"`
		}
		k := strings.Join(key, ", ")
		var dups int64
		q := fmt.Sprintf(`SELECT count(*) FROM (SELECT %s FROM %q WHERE NOT _fivetran_deleted GROUP BY %s HAVING count(*) > 1)`, k, tb.Name, k)
		if err := d.SQL().QueryRowContext(ctx, q).Scan(&dups); err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		if dups > 0 {
			t.Errorf("%s: %d keys with two live rows", tb.Name, dups)
		}
		// Links in the data name the demo's canonical host, never the
		// simulator's port of one run.
		var b bytes.Buffer
		if err := d.Dump(ctx, tb.Name, &b); err != nil {
			t.Fatalf("dump %s: %v", tb.Name, err)
		}
		for _, h := range hosts {
			if strings.Contains(b.String(), h) {
				t.Errorf("%s holds the simulator's address %s of one run", tb.Name, h)
			}
		}
	})
	// _fivetran_synced is when the second sync ran, not the simulated org's clock.
	var synced time.Time
	if err := d.SQL().QueryRowContext(ctx, `SELECT max(_fivetran_synced) FROM users`).Scan(&synced); err != nil {
		t.Fatal(err)
	}
	if synced.Before(start.Add(-time.Millisecond)) || synced.After(end) {
		t.Errorf("users._fivetran_synced = %s, want the second sync's time, between %s and %s", synced, start.UTC(), end.UTC())
	}
}

// tableCounts counts the rows of every table in the file, deleted ones included.
func tableCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	d, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	exists := map[string]bool{}
	rows, err := d.SQL().Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		exists[name] = true
	}
	rows.Close()
	out := map[string]int64{}
	okta.Registry.Walk(func(tb *runtime.Table) {
		if !exists[tb.Name] {
			return // excluded
		}
		var n int64
		if err := d.SQL().QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q`, tb.Name)).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tb.Name, err)
		}
		out[tb.Name] = n
	})
	return out
}
