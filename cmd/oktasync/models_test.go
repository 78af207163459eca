package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestModels: models lists the models, builds them on a synced database
// (table and --json), --select builds a model with what it reads, an
// unknown model is a usage error, a database without the tables exits 1
// naming the failed models, and sync --models builds them after a sync.
func TestModels(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), "models", "--list")
	if code != 0 || !strings.Contains(out, "effective_app_access") || !strings.Contains(out, "group_membership_history") {
		t.Errorf("--list: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, context.Background(), "models", "--select", "nope"); code != 2 || !strings.Contains(errOut, "no model nope") {
		t.Errorf("--select nope: exit %d, want 2\n%s%s", code, out, errOut)
	}

	startSim(t, smallOrg, "demo-token")
	db := filepath.Join(t.TempDir(), "okta.duckdb")
	code, out, errOut = runCLI(t, context.Background(), "sync", "--db", db, "--models")
	if code != 0 || !strings.Contains(out, "user_360") || !strings.Contains(out, "14 ok, 0 failed") {
		t.Fatalf("sync --models: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, context.Background(), "models", "--db", db, "--select", "dormant_accounts", "--json")
	var built []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var o struct{ Model, Status string }
		if err := json.Unmarshal([]byte(l), &o); err != nil || o.Status != "ok" {
			t.Errorf("--json line %q: %v", l, err)
		}
		built = append(built, o.Model)
	}
	if code != 0 || strings.Join(built, ",") != "effective_admin_privileges,as_of,group_membership_history,effective_app_access,sign_in_daily,factor_strength,mfa_coverage,user_360,dormant_accounts" {
		t.Errorf("--select dormant_accounts --json: exit %d, built %v\n%s", code, built, errOut)
	}

	partial := filepath.Join(t.TempDir(), "partial.duckdb")
	if code, out, errOut := runCLI(t, context.Background(), "sync", "--db", partial, "--tables", "users,groups"); code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, context.Background(), "models", "--db", partial)
	if code != 1 || !strings.Contains(errOut, "model sign_in_daily failed: models/sign_in_daily.sql:") || !strings.Contains(errOut, "system_log") ||
		!strings.Contains(errOut, "model user_360 skipped") || !strings.Contains(out, "as_of") {
		t.Errorf("models without the tables: exit %d, want 1\n%s%s", code, out, errOut)
	}
}
