// Package synctest holds what tests of whole syncs share: a dump of every
// table, and the tables of an uninterrupted sync of a simulated org to hold
// an interrupted one to.
package synctest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
)

// DumpAll dumps every table of a DuckDB file as CSV ordered by key, without
// _fivetran_synced: the time of a sync, which differs between any two.
func DumpAll(t testing.TB, path string) map[string]string {
	t.Helper()
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	okta.Registry.Walk(func(tb *runtime.Table) {
		var b bytes.Buffer
		if err := db.Dump(context.Background(), tb.Name, &b); err != nil {
			t.Fatal(err)
		}
		s, err := duckdb.WithoutColumn(b.String(), "_fivetran_synced")
		if err != nil {
			t.Fatal(err)
		}
		out[tb.Name] = s
	})
	return out
}

// Reference syncs a simulated org once, uninterrupted, in-process and on the
// org's clock, with a token of the org, and dumps its tables.
func Reference(t testing.TB, org oktasim.Config, token string) map[string]string {
	t.Helper()
	sim, url := StartSim(t, org)
	defer sim.Close()
	db := filepath.Join(t.TempDir(), "reference.duckdb")
	cfg := &connector.Config{OrgURL: url, Token: token, Destination: connector.Destination{Path: db}, TimeScale: org.TimeScale}
	if sum, err := connector.Sync(context.Background(), cfg, connector.SyncOptions{Now: sim.Now}); err != nil {
		// Name the tables: a table the simulator does not serve yet fails
		// here first.
		var why []string
		if sum != nil {
			for _, r := range sum.Tables {
				if r.Status != runtime.StatusOK {
					why = append(why, fmt.Sprintf("%s %s: %s", r.Table, r.Status, r.Reason))
				}
			}
		}
		t.Fatalf("reference sync: %v\n%s", err, strings.Join(why, "\n"))
	}
	return DumpAll(t, db)
}

// StartSim starts a simulated org on a loopback port; the test's cleanup
// stops it.
func StartSim(t testing.TB, org oktasim.Config) (*oktasim.Sim, string) {
	t.Helper()
	sim, err := oktasim.New(org)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, url
}
