package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestDetect: detect lists the pack, exits 3 with the hits of a synced org
// telling a scenario (table and --json), 0 when --since leaves them out, 1
// naming the detections that failed on a database without the tables, and
// 2 on usage errors.
func TestDetect(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), "detect", "--list")
	if code != 0 || !strings.Contains(out, "okta_password_spray") || !strings.Contains(out, "T1110.003") {
		t.Errorf("--list: exit %d\n%s%s", code, out, errOut)
	}

	cfg := smallOrg
	cfg.Scenarios = []string{"password_spray"}
	startSim(t, cfg, "demo-token")
	db := filepath.Join(t.TempDir(), "okta.duckdb")
	if code, out, errOut := runCLI(t, context.Background(), "sync", "--db", db, "--tables", "system_log,users,user_role,api_token_metadata,network_zone,identity_provider"); code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, context.Background(), "detect", "--db", db)
	if code != 3 || !strings.Contains(out, "DETECTION") || !strings.Contains(out, "okta_password_spray") {
		t.Errorf("detect: exit %d, want 3\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, context.Background(), "detect", "--db", db, "--json", "--only", "okta_password_spray")
	var hit struct {
		Detection, Severity, Actor, Summary string
		Evidence                            map[string]any
	}
	if code != 3 || json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &hit) != nil || hit.Detection != "okta_password_spray" || hit.Evidence["accounts"] == nil {
		t.Errorf("detect --json: exit %d, hit %+v\n%s%s", code, hit, out, errOut)
	}
	// The scenario is at least four hours before the org's clock, the real one.
	if code, out, errOut := runCLI(t, context.Background(), "detect", "--db", db, "--since", "1h"); code != 0 || out != "" {
		t.Errorf("detect --since 1h: exit %d, want 0\n%s%s", code, out, errOut)
	}

	empty := filepath.Join(t.TempDir(), "empty.duckdb")
	e, err := sql.Open("duckdb", empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Exec("create table t (x int)"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	code, out, errOut = runCLI(t, context.Background(), "detect", "--db", empty, "--only", "okta_rogue_idp")
	if code != 1 || !strings.Contains(errOut, "detection okta_rogue_idp failed (detections/okta_rogue_idp.sql)") || !strings.Contains(errOut, "system_log") {
		t.Errorf("detect on a database without tables: exit %d, want 1\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, context.Background(), "detect", "--db", filepath.Join(t.TempDir(), "none.duckdb"))
	if code != 1 || !strings.Contains(errOut, "no such database") {
		t.Errorf("detect on no database: exit %d\n%s", code, errOut)
	}

	for _, args := range [][]string{{"--since", "yesterday"}, {"--only", "nope"}, {"--only", ","}} {
		if code, _, errOut := runCLI(t, context.Background(), append([]string{"detect", "--db", db}, args...)...); code != 2 {
			t.Errorf("detect %v: exit %d, want 2\n%s", args, code, errOut)
		}
	}
}
