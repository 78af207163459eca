package connector

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"oktasync/generated/okta"
)

// declaredDebugKeys are the debug-data keys system_log declares as columns
// of their own, by column name (issue 15's contract lists 18).
func declaredDebugKeys(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range okta.SystemLog.Columns {
		if key, ok := strings.CutPrefix(c.Source, "debugContext.debugData."); ok {
			out[c.Name] = key
		}
	}
	if len(out) != 18 {
		t.Fatalf("system_log declares %d debug-data keys, want 18", len(out))
	}
	return out
}

// columnsOf lists a table's columns in the destination, in table order.
func (e *env) columnsOf(table string) []string {
	e.t.Helper()
	return e.rows(`SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position`, table)
}

// TestDeclaredDebugKeysCompile: a query naming any declared debug-data key
// compiles on a database synced from an org that never sent one (here an
// org with no System Log events at all), and the column is NULL there.
func TestDeclaredDebugKeysCompile(t *testing.T) {
	org := smallOrg
	org.Logs = -1 // no events
	e := newEnv(t, org)
	e.opt.Only = []string{"system_log"}
	e.mustSync()
	if got := e.rows(`SELECT count(*) FROM system_log`); got[0] != "0" {
		t.Fatalf("the org sent %s events; the test needs none", got[0])
	}
	var where []string
	for col := range declaredDebugKeys(t) {
		where = append(where, col+" IS NOT NULL")
	}
	slices.Sort(where)
	if got := e.rows(`SELECT count(*) FROM system_log WHERE ` + strings.Join(where, " OR ")); got[0] != "0" {
		t.Errorf("%s rows with a declared key", got[0])
	}
	var dynamic []string
	for _, c := range e.columnsOf("system_log") {
		if _, ok := declaredDebugKeys(t)[c]; !ok && strings.HasPrefix(c, "debug_context_debug_data_") {
			dynamic = append(dynamic, c)
		}
	}
	if len(dynamic) > 0 {
		t.Errorf("dynamic debug-data columns without any event: %v", dynamic)
	}
}

// TestSystemLogRawJSON: raw_json holds every event whole, the declared
// debug-data keys are filled exactly where the event has them, and the
// settings switch (tables.system_log.columns.raw_json.enabled: false in
// oktasync.yaml) leaves raw_json out and changes nothing else.
func TestSystemLogRawJSON(t *testing.T) {
	plain := newEnv(t, smallOrg)
	plain.opt.Only = []string{"system_log"}
	plain.mustSync()

	if got := plain.rows(`SELECT count(*), count(raw_json), count(*) FILTER (WHERE json_extract_string(raw_json, '$.uuid') = id
		AND json_extract_string(raw_json, '$.eventType') = event_type) FROM system_log`); got[0] != fmt.Sprintf("%[1]d|%[1]d|%[1]d", plain.sim.Info().LogEvents) {
		t.Errorf("events, with raw_json, whose raw_json is the event: %s; want %d of each", got[0], plain.sim.Info().LogEvents)
	}
	sent := 0
	for col, key := range declaredDebugKeys(t) {
		path := `'$.debugContext.debugData.` + key + `'`
		got := plain.rows(`SELECT count(*) FILTER (WHERE (` + col + ` IS NOT NULL) <> coalesce(json_exists(raw_json, ` + path + `), false)),
			count(*) FILTER (WHERE ` + col + ` IS NOT NULL) FROM system_log`)
		n, has, _ := strings.Cut(got[0], "|")
		if n != "0" {
			t.Errorf("%s: %s events where the column and the event's debugData.%s disagree", col, n, key)
		}
		if has != "0" {
			sent++
		}
	}
	if sent == 0 {
		t.Error("the org sent none of the declared debug-data keys; the test cannot see them filled")
	}

	path := filepath.Join(t.TempDir(), "oktasync.yaml")
	if err := os.WriteFile(path, []byte("tables:\n  system_log:\n    columns:\n      raw_json: {enabled: false}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	blocked := newEnv(t, smallOrg)
	blocked.opt.Only = []string{"system_log"}
	blocked.cfg.Tables = cfg.Tables
	blocked.mustSync()
	for _, table := range []string{"system_log", "system_log_target", "system_log_request"} {
		want := minus(plain.columnsOf(table), []string{"raw_json"})
		got := blocked.columnsOf(table)
		if !slices.Equal(got, want) {
			t.Errorf("%s with raw_json blocked has columns %v, want %v", table, got, want)
			continue
		}
		cols := strings.Join(minus(got, []string{"_fivetran_synced"}), ", ")
		q := `SELECT ` + cols + ` FROM ` + table + ` ORDER BY ALL`
		if g, w := blocked.rows(q), plain.rows(q); !slices.Equal(g, w) {
			t.Errorf("%s: %d rows with raw_json blocked, %d without; the values differ", table, len(g), len(w))
		}
	}
	if len(blocked.columnsOf("system_log")) == len(plain.columnsOf("system_log")) {
		t.Error("raw_json blocked: the column is still there")
	}
}
