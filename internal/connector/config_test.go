package connector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigIsStrict(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("org_url: https://acme.okta.com\ntoken_env: MY_TOKEN\ndestination: {path: x.duckdb, settings: {memory_limit: 1GB}}\ntables: [users]\nreimport_every: 3d\n"), 0o644)
	cfg, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ApplyEnv(func(k string) string {
		return map[string]string{"MY_TOKEN": "t0k", EnvToken: "other"}[k]
	}); err != nil {
		t.Fatal(err)
	}
	if cfg.Token != "t0k" || cfg.Destination.Settings["memory_limit"] != "1GB" || cfg.ReimportEvery().Hours() != 72 {
		t.Errorf("config = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("org_url: https://acme.okta.com\ntokn: x\n"), 0o644)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "tokn") {
		t.Errorf("unknown key accepted: %v", err)
	}
}

func TestValidateRefusesPlainHTTPOutsideLoopback(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://acme.okta.com":        true,
		"http://127.0.0.1:8080":        true,
		"http://localhost:1234":        true,
		"http://[::1]:99":              true,
		"http://acme.okta.com":         false,
		"http://10.0.0.1":              false,
		"ftp://acme.okta.com":          false,
		"acme.okta.com":                false,
		"https://acme.okta.com/path?x": true,
	} {
		cfg := &Config{OrgURL: url, Token: "t"}
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", url, err, ok)
		}
	}
	cfg := &Config{OrgURL: "https://acme.okta.com/api/v1?x=1", Token: "t"}
	if cfg.Validate(); cfg.OrgURL != "https://acme.okta.com" {
		t.Errorf("org URL not normalised: %q", cfg.OrgURL)
	}
	err := (&Config{}).Validate()
	if err == nil || !strings.Contains(err.Error(), EnvOrgURL) || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("missing URL and token must both be reported: %v", err)
	}
}

func TestSelectionRefusesUnknownTables(t *testing.T) {
	if _, err := selection(&Config{Tables: []string{"userz"}}); err == nil || !strings.Contains(err.Error(), "userz") {
		t.Errorf("unknown table accepted: %v", err)
	}
	if _, err := selection(&Config{Tables: []string{"user_custom_profile"}}); err == nil || !strings.Contains(err.Error(), "child") {
		t.Errorf("child table accepted: %v", err)
	}
	sel, err := selection(&Config{Exclude: []string{"system_log"}})
	if err != nil || sel("system_log") || !sel("users") {
		t.Errorf("exclude does not work: %v", err)
	}
}

// TestConfigErrorsSayWhere: config mistakes name the file, line and key
// (with the closest known key), never a Go type.
func TestConfigErrorsSayWhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oktasync.yaml")
	os.WriteFile(path, []byte("org_url: https://acme.okta.com\ntabels: [users]\ndestination:\n  pth: x.duckdb\nparallel: many\ntables: users\nfoo: 1\n"), 0o644)
	_, err := LoadConfig(path)
	if err == nil {
		t.Fatal("a bad config was accepted")
	}
	for _, want := range []string{
		path + ":2:1: unknown key tabels; did you mean tables?",
		path + ":4:3: unknown key destination.pth; did you mean destination.path?",
		path + ":5:11: parallel must be a whole number",
		path + ":6:9: tables must be a list",
		path + ":7:1: unknown key foo; the keys are org_url, token,",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "connector.Config") {
		t.Errorf("the error names a Go type:\n%v", err)
	}
}

func TestValidateRefusesNegativeNumbers(t *testing.T) {
	for _, cfg := range []*Config{{Parallel: -3}, {TimeScale: -1}} {
		cfg.OrgURL, cfg.Token = "https://acme.okta.com", "t"
		if err := cfg.Validate(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// TestTokenEnv: a token_env whose variable is unset says so; one that holds
// a pasted token says token_env takes a name, without echoing the token.
func TestTokenEnv(t *testing.T) {
	env := func(k string) string { return map[string]string{EnvToken: "fallback"}[k] }
	cfg := &Config{TokenEnv: "MY_TOKEN"}
	if err := cfg.ApplyEnv(env); err == nil || !strings.Contains(err.Error(), "MY_TOKEN is unset") {
		t.Errorf("unset token_env variable: %v", err)
	}
	const pasted = "00aB3xYz9QwErTy7UiOp1AsDfGhJkLzXcVbNm42-x"
	cfg = &Config{TokenEnv: pasted}
	err := cfg.ApplyEnv(env)
	if err == nil || !strings.Contains(err.Error(), "NAME") || strings.Contains(err.Error(), pasted[:10]) {
		t.Errorf("token pasted into token_env: %v", err)
	}
}
