package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"oktasync/oktasim"
)

// runCLI runs the command line in-process and returns its exit status and output.
func runCLI(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// startSim serves a simulated org on a loopback port for the test and
// points OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN at it.
func startSim(t *testing.T, cfg oktasim.Config, token string) *oktasim.Sim {
	t.Helper()
	sim, err := oktasim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	t.Setenv("OKTA_CLIENT_ORGURL", url)
	t.Setenv("OKTA_CLIENT_TOKEN", token)
	return sim
}

var smallOrg = oktasim.Config{Seed: 7, Users: 30, Groups: 5, Apps: 4, Devices: 6, Logs: 200}

// TestHelpAndVersion: --help and `help CMD` exit 0 for every command, with a
// description, the flags, exit statuses and an example; --version works.
func TestHelpAndVersion(t *testing.T) {
	for _, name := range []string{"sync", "check", "tables", "sim"} {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			code, out, errOut := runCLI(t, context.Background(), args...)
			if code != 0 || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			for _, want := range []string{"usage: oktasync " + name, "flags:", "exit status:", "example"} {
				if !strings.Contains(out, want) {
					t.Errorf("%q: help lacks %q:\n%s", args, want, out)
				}
			}
			if (name == "sync" || name == "check") && !strings.Contains(out, "OKTA_CLIENT_TOKEN") {
				t.Errorf("%q: help names no environment variable:\n%s", args, out)
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		if code, out, _ := runCLI(t, context.Background(), args...); code != 0 || !strings.Contains(out, "commands:") {
			t.Errorf("%q: exit %d:\n%s", args, code, out)
		}
	}
	if code, _, _ := runCLI(t, context.Background(), "help", "nosuch"); code != 2 {
		t.Errorf("help nosuch: exit %d, want 2", code)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if code, out, _ := runCLI(t, context.Background(), args...); code != 0 || !strings.HasPrefix(out, "oktasync ") {
			t.Errorf("%q: exit %d: %q", args, code, out)
		}
	}
}

// TestCheckAndSyncAgreeOnForbidden: a token that may not read some tables
// makes check and sync exit with the same status, 3.
func TestCheckAndSyncAgreeOnForbidden(t *testing.T) {
	cfg := smallOrg
	cfg.Tokens = map[string]string{"ro-token": "READ_ONLY_ADMIN"}
	startSim(t, cfg, "ro-token")
	code, out, errOut := runCLI(t, context.Background(), "check")
	if code != 3 || !strings.Contains(out, "forbidden") {
		t.Errorf("check: exit %d, want 3\n%s%s", code, out, errOut)
	}
	db := t.TempDir() + "/okta.duckdb"
	code, out, errOut = runCLI(t, context.Background(), "sync", "--db", db, "--tables", "groups,custom_role")
	if code != 3 || !strings.Contains(out, "forbidden") {
		t.Errorf("sync: exit %d, want 3\n%s%s", code, out, errOut)
	}
}
