package bench

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/oktasim"
	"oktasync/runtime/dest/duckdb"
)

// TestSystemLogRawJSONCost measures what system_log.raw_json costs: the
// same org's System Log synced twice into fresh DuckDB files, as it comes
// and with raw_json blocked in the settings, each pass's file size and
// throughput. A measurement, not a check: it runs only when
// BENCH_RAWJSON_EVENTS gives the number of events (docs/PERFORMANCE.md,
// "System Log raw event"), e.g.
//
//	BENCH_RAWJSON_EVENTS=1000000 go test ./internal/bench -run RawJSONCost -v -timeout 30m
func TestSystemLogRawJSONCost(t *testing.T) {
	events, _ := strconv.Atoi(os.Getenv("BENCH_RAWJSON_EVENTS"))
	if events <= 0 {
		t.Skip("a measurement: set BENCH_RAWJSON_EVENTS")
	}
	connector.UseDefaultGC()
	org := Org{Seed: 1, Users: 5000, Groups: 200, Apps: 10, Devices: 2500, Logs: events}
	s, err := startSim(org.simConfig(oktasim.RateLimitsOff, 10000))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var exclude []string
	for _, tb := range okta.Registry.Tables {
		if tb != okta.SystemLog {
			exclude = append(exclude, tb.Name)
		}
	}
	blocked := map[string]connector.TableConfig{"system_log": {Columns: map[string]connector.ColumnConfig{"raw_json": {Enabled: new(false)}}}}
	dir := t.TempDir()
	type pass struct {
		name   string
		keep   bool
		tables map[string]connector.TableConfig
		run    *SyncRun
		bytes  int64
	}
	// Each pass BENCH_RAWJSON_ROUNDS times (default 1), alternating, so
	// that neither has the machine to itself at a better moment; the
	// faster of each is kept.
	passes := []*pass{{name: "raw_json", keep: true}, {name: "without raw_json", tables: blocked}}
	rounds, _ := strconv.Atoi(os.Getenv("BENCH_RAWJSON_ROUNDS"))
	for round := range max(rounds, 1) {
		for i, p := range passes {
			db := filepath.Join(dir, strconv.Itoa(round)+"-"+strconv.Itoa(i)+".duckdb")
			r, err := runSync(context.Background(), s, syncSpec{DB: db, Exclude: exclude, TimeScale: 10000, Tables: p.tables, KeepRawJSON: p.keep})
			if err != nil {
				t.Fatalf("%s: %v", p.name, err)
			}
			st, err := os.Stat(db)
			if err != nil {
				t.Fatal(err)
			}
			if wal, err := os.Stat(db + ".wal"); err == nil {
				t.Fatalf("%s: a write-ahead log of %d bytes is left after the sync", p.name, wal.Size())
			}
			if p.run == nil || r.Wall < p.run.Wall {
				p.run = r
			}
			p.bytes = st.Size()
			if round == 0 && i == 0 {
				logRawSize(t, db)
			}
			os.Remove(db)
		}
	}
	perM := func(v float64) float64 { return v * 1e6 / float64(events) }
	for _, p := range passes {
		t.Logf("%-17s events %d rows %d: file %.1f MB (%.1f MB per million events), best wall %.2fs: %.0f events/s, %.0f rows/s; committing %.2fs (%v)",
			p.name, events, p.run.Rows(), float64(p.bytes)/1e6, perM(float64(p.bytes)/1e6), p.run.Wall.Seconds(),
			float64(events)/p.run.Wall.Seconds(), float64(p.run.Rows())/p.run.Wall.Seconds(), p.run.CommitTotal().Seconds(), p.run.Stages)
	}
	with, without := passes[0], passes[1]
	t.Logf("raw_json: +%.1f MB per million events (x%.2f the file), throughput x%.3f (events/s with / without)",
		perM(float64(with.bytes-without.bytes)/1e6), float64(with.bytes)/float64(without.bytes),
		without.run.Wall.Seconds()/with.run.Wall.Seconds())
}

// logRawSize reports how long the events are as Okta sends them.
func logRawSize(t *testing.T, path string) {
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var avg, total sql.NullFloat64
	if err := db.SQL().QueryRow(`SELECT avg(strlen(raw_json::VARCHAR)), sum(strlen(raw_json::VARCHAR)) FROM system_log`).Scan(&avg, &total); err != nil {
		t.Fatal(err)
	}
	t.Logf("raw_json: %.0f bytes per event on average, %.1f MB of JSON in all", avg.Float64, total.Float64/1e6)
}
