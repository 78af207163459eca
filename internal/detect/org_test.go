package detect

import (
	"context"
	"database/sql"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"oktasync/internal/connector"
	"oktasync/oktasim"
	"oktasync/runtime/fetch"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testOrg is the simulated org the tests sync: large enough that every
// scenario finds its victims (admins among them), small enough to sync in
// a few seconds. Seed and clock are fixed, so the hits are too.
var testOrg = oktasim.Config{Seed: 3, Users: 400, Groups: 8, Apps: 6, Devices: 10, Logs: 3000,
	LinkBaseURL: "https://acme.okta.example", Now: oktasim.DefaultNow, TimeScale: 60}

var (
	orgMu  sync.Mutex
	orgDBs = map[string]string{} // scenarios ("none", "all", a name) -> database file
	orgDir string
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "detect-test-")
	if err != nil {
		panic(err)
	}
	orgDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// orgDB returns a database synced from testOrg telling the scenarios
// named ("none", "all" or one name), syncing it on first use. full syncs
// every table; otherwise only the tables the pack's fields name.
func orgDB(t *testing.T, scenarios string, full bool) string {
	t.Helper()
	key := scenarios
	if full {
		key += "-full"
	}
	orgMu.Lock()
	defer orgMu.Unlock()
	if db, ok := orgDBs[key]; ok {
		return db
	}
	cfg := testOrg
	sc, err := oktasim.ParseScenarios(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Scenarios = sc
	sim, err := oktasim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	db := filepath.Join(orgDir, key+".duckdb")
	c := &connector.Config{OrgURL: url, Token: "demo-token", TimeScale: cfg.TimeScale,
		Destination: connector.Destination{Path: db, Settings: map[string]string{"threads": "1"}}}
	opt := connector.SyncOptions{
		Now: sim.Now,
		Fetch: func(c *fetch.Config) {
			c.RetryBase, c.RetryMax = time.Millisecond, 20*time.Millisecond
			c.MaxRetries = 8
		},
	}
	if !full {
		opt.Only = packTables(t)
	}
	if _, err := connector.Sync(context.Background(), c, opt); err != nil {
		t.Fatalf("sync %s: %v", key, err)
	}
	orgDBs[key] = db
	return db
}

// packTables are the top-level tables the pack's fields name (child
// tables come with their parents).
func packTables(t *testing.T) []string {
	var out []string
	for _, d := range mustPack(t) {
		for _, tb := range d.Tables() {
			switch tb {
			case "system_log_target", "system_log_request":
				tb = "system_log"
			}
			if !slices.Contains(out, tb) {
				out = append(out, tb)
			}
		}
	}
	slices.Sort(out)
	return out
}

func mustPack(t *testing.T) []*Detection {
	t.Helper()
	pack, err := Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pack
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

// execDB runs statements on a database file opened for writing.
func execDB(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// runPack runs detections over a database file.
func runPack(t *testing.T, path string, pack []*Detection, since time.Time) *Result {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := Run(context.Background(), db, pack, since)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func fired(res *Result) []string {
	var ids []string
	for _, h := range res.Hits {
		if !slices.Contains(ids, h.Detection.ID) {
			ids = append(ids, h.Detection.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func failures(res *Result) string {
	var b strings.Builder
	PrintFailures(&b, "", res.Failures)
	return b.String()
}
