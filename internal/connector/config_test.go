package connector

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"oktasync/runtime"
	"oktasync/runtime/fetch"
)

func TestLoadConfigIsStrict(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("org_url: https://acme.okta.com\ntoken_env: MY_TOKEN\ndestination: {path: x.duckdb, settings: {memory_limit: 1GB}}\ntables: {users: {history: true}}\nreimport_every: 3d\n"), 0o644)
	cfg, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ApplyEnv(func(k string) string {
		return map[string]string{"MY_TOKEN": "t0k", EnvToken: "other"}[k]
	}); err != nil {
		t.Fatal(err)
	}
	if cfg.Token != "t0k" || cfg.Destination.Settings["memory_limit"] != "1GB" || cfg.ReimportEvery().Hours() != 72 || !cfg.Tables["users"].History {
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
	if _, err := selection(SyncOptions{Only: []string{"userz"}}); err == nil || !strings.Contains(err.Error(), `unknown table "userz"; did you mean users?`) {
		t.Errorf("unknown table accepted: %v", err)
	}
	if _, err := selection(SyncOptions{Only: []string{"user_custom_profile"}}); err == nil || !strings.Contains(err.Error(), "child") {
		t.Errorf("child table accepted: %v", err)
	}
	sel, err := selection(SyncOptions{Skip: []string{"system_log"}})
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
		path + ":6:9: tables must be a mapping of names to settings, e.g. {users: {history: true}}",
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

// TestRateLimitReserve: rate_limit_reserve is a share of each window from 0
// to below 1; unset keeps fetch's default, 0 keeps nothing back.
func TestRateLimitReserve(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want float64 // fetch.RateLimitHeaders.Reserve; 0 is its default
		bad  bool
	}{
		{"", 0, false},
		{"rate_limit_reserve: 0.1\n", 0.1, false},
		{"rate_limit_reserve: 0\n", -1, false},
		{"rate_limit_reserve: 1\n", 0, true},
		{"rate_limit_reserve: -0.05\n", 0, true},
	} {
		path := filepath.Join(t.TempDir(), "oktasync.yaml")
		if err := os.WriteFile(path, []byte("org_url: https://acme.okta.com\ntoken: t\n"+tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err == nil {
			err = cfg.Validate()
		}
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "rate_limit_reserve") {
				t.Errorf("%q: err = %v, want one naming rate_limit_reserve", tc.yaml, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		var got float64
		if _, err := newClient(context.Background(), cfg, SyncOptions{Fetch: func(c *fetch.Config) { got = c.RateLimit.Reserve }}, nil); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%q: fetch reserve = %v, want %v", tc.yaml, got, tc.want)
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

// TestSettingsErrorsSayWhere: every mistake in the settings is reported at
// once, in the order of the file, at the node it is about: a misspelt key,
// a value of the wrong kind, an unknown policy, table or column (with the
// closest name), a key that cannot be blocked, history set on a child.
func TestSettingsErrorsSayWhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oktasync.yaml")
	os.WriteFile(path, []byte(`schema_change_handling: ALLOW_SOME
tables:
  users:
    history: true
    colums: {}
    columns:
      profile_email: {hashed: true}
      id: {enabled: false}
      profile_emial: {hashed: true}
      status: {hashed: yes please}
  userz: {enabled: false}
  user_custom_profile: {history: true}
  groups:
  group_member:
    columns:
      groups_id: {hashed: true}
  user_enrolled_factor: {enabled: false, extra: 1}
  device: [a]
`), 0o644)
	_, err := LoadConfig(path)
	if err == nil {
		t.Fatal("a bad config was accepted")
	}
	want := []string{
		":1:25: schema_change_handling: unknown policy \"ALLOW_SOME\"; want one of ALLOW_ALL, ALLOW_COLUMNS, BLOCK_ALL",
		":5:5: unknown key tables.users.colums; did you mean tables.users.columns?",
		":8:21: tables.users.columns.id.enabled: cannot be blocked: it is part of the primary key of users",
		":9:7: tables.users.columns.profile_emial: no such column; did you mean profile_email?",
		":10:24: tables.users.columns.status.hashed must be true or false",
		":11:3: tables.userz: no such table; did you mean users?",
		":12:34: tables.user_custom_profile.history: a child table follows its parent's history mode; set history on users",
		":16:27: tables.group_member.columns.groups_id.hashed: a parent key column is hashed when its parent's key is: hash groups.id instead",
		":17:42: unknown key tables.user_enrolled_factor.extra; the keys are enabled, history, columns",
		":18:11: tables.device must be a mapping of keys to values",
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i < len(lines) && lines[i] != path+w {
			t.Errorf("error %d:\n got %s\nwant %s", i, lines[i], path+w)
		}
	}
}

// TestMigrationFromLists: the list forms of tables and exclude are refused
// where they are, saying what to write instead.
func TestMigrationFromLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oktasync.yaml")
	os.WriteFile(path, []byte("org_url: https://acme.okta.com\ntables: [users, groups]\nexclude: [user_enrolled_factor, groups]\n"), 0o644)
	_, err := LoadConfig(path)
	if err == nil {
		t.Fatal("the old list forms were accepted")
	}
	for _, want := range []string{
		path + ":2:9: tables is now a mapping of table settings, not a list of tables: to leave a table out write " +
			"`tables: {groups: {enabled: false}}`",
		"to sync some tables once, `oktasync sync --tables users,groups`",
		path + ":3:1: exclude was removed",
		// The child tables of groups are blocked too, or they would be written.
		"`tables: {user_enrolled_factor: {enabled: false}, groups: {enabled: false}, group_logo_link: {enabled: false}}`",
		"README.md, 'Migrating from tables/exclude lists'",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
}

// TestSettingsBuilt: the config's settings reach the runtime as written,
// and a config that sets nothing syncs everything as it comes.
func TestSettingsBuilt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oktasync.yaml")
	os.WriteFile(path, []byte(`schema_change_handling: ALLOW_COLUMNS
tables:
  users:
    history: true
    columns:
      profile_email: {hashed: true}
      profile_mobile_phone: {enabled: false}
  system_log:
    columns:
      debug_context_debug_data_request_uri: {enabled: true, hashed: true}
  user_enrolled_factor: {enabled: false}
  groups:
`), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.settings(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	no, yes := false, true
	want := &runtime.Settings{SchemaChange: runtime.AllowColumns, Tables: map[string]runtime.TableSettings{
		"users": {History: true, Columns: map[string]runtime.ColumnSettings{
			"profile_email":        {Hashed: true},
			"profile_mobile_phone": {Enabled: &no},
		}},
		"system_log": {Columns: map[string]runtime.ColumnSettings{
			"debug_context_debug_data_request_uri": {Enabled: &yes, Hashed: true},
		}},
		"user_enrolled_factor": {Enabled: &no},
		"groups":               {},
	}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	s, err = (&Config{}).Settings()
	if err != nil || s.SchemaChange != "" || len(s.Tables) != 0 || s.Salt != "" {
		t.Errorf("empty config: %+v, %v", s, err)
	}
	// A config made in code is checked too, without positions.
	_, err = (&Config{Tables: map[string]TableConfig{"users": {Columns: map[string]ColumnConfig{"id": {Enabled: &no}}}}}).Settings()
	if err == nil || err.Error() != "tables.users.columns.id.enabled: cannot be blocked: it is part of the primary key of users" {
		t.Errorf("blocking a key: %v", err)
	}
}

// TestHashSaltEnv: the salt comes from the variable hash_salt_env names; an
// unset one is an error naming the variable, and a value that is no
// variable name (a pasted salt) is refused without being repeated. No
// error ever holds the salt.
func TestHashSaltEnv(t *testing.T) {
	const salt = "s3cr3t-S4LT-value-0123456789abcdef"
	env := func(k string) string { return map[string]string{"OKTASYNC_HASH_SALT": salt}[k] }
	s, err := (&Config{HashSaltEnv: "OKTASYNC_HASH_SALT"}).settings(env)
	if err != nil || s.Salt != salt {
		t.Errorf("salt from the environment: %v", err)
	}
	_, err = (&Config{HashSaltEnv: "MY_SALT"}).settings(env)
	if err == nil || !strings.Contains(err.Error(), "MY_SALT is unset or empty") || strings.Contains(err.Error(), salt) {
		t.Errorf("unset variable: %v", err)
	}
	for _, pasted := range []string{salt, "3f9a0c1d2e4b5a6978877665544332211", "3F9A0C1D2E4B5A6978877665544332211", "my salt"} {
		_, err := (&Config{HashSaltEnv: pasted}).settings(env)
		if err == nil || !strings.Contains(err.Error(), "NAME") || strings.Contains(err.Error(), pasted) {
			t.Errorf("a salt pasted in place of the name: %v", err)
		}
		path := filepath.Join(t.TempDir(), "oktasync.yaml")
		os.WriteFile(path, []byte("hash_salt_env: '"+pasted+"'\n"), 0o644)
		_, err = LoadConfig(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+":1:16: hash_salt_env: takes the NAME") || strings.Contains(err.Error(), pasted) {
			t.Errorf("LoadConfig with a salt pasted in place of the name: %v", err)
		}
	}
}

// TestDocumentedConfigsLoad: every YAML example of README.md and
// docs/SETTINGS.md is a config LoadConfig accepts.
func TestDocumentedConfigsLoad(t *testing.T) {
	n := 0
	for _, doc := range []string{"../../README.md", "../../docs/SETTINGS.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, block := range strings.Split(string(data), "```yaml\n")[1:] {
			block, _, _ = strings.Cut(block, "```")
			path := filepath.Join(t.TempDir(), "oktasync.yaml")
			os.WriteFile(path, []byte(block), 0o644)
			if _, err := LoadConfig(path); err != nil {
				t.Errorf("%s, YAML example %d: %v", doc, i+1, err)
			}
			n++
		}
	}
	if n < 3 {
		t.Errorf("%d YAML examples found, want README's and SETTINGS.md's", n)
	}
}

// TestSelectedLeavesOutBlocked: the tables a run covers are those selected,
// less the blocked ones no written child needs; a blocked table with a
// written child is still read. The salt is not needed to tell.
func TestSelectedLeavesOutBlocked(t *testing.T) {
	no := false
	cfg := &Config{HashSaltEnv: "OKTASYNC_TEST_UNSET_SALT", Tables: map[string]TableConfig{
		"user_enrolled_factor": {Enabled: &no},
		"application":          {Enabled: &no},
	}}
	names, err := Selected(cfg, SyncOptions{Skip: []string{"system_log"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"users": true, "application": true, "user_enrolled_factor": false, "system_log": false} {
		if slices.Contains(names, name) != want {
			t.Errorf("Selected has %s: %v, want %v (%v)", name, !want, want, names)
		}
	}
}

// TestAuthConfig: the auth section loads strictly, the Okta SDKs'
// variables select and fill a service app, and each mistake is named
// without echoing a key.
func TestAuthConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "oktasync.yaml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("org_url: https://acme.okta.com\nauth:\n  type: oauth\n  client_id: 0oa1\n  private_key_file: key.pem\n  scopes: [okta.users.read]\n  dpop: on\n")
	cfg, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Auth.OAuth() || cfg.Auth.ClientID != "0oa1" || cfg.Auth.dpopMode() != fetch.DPoPOn || len(cfg.Auth.Scopes) != 1 {
		t.Errorf("loaded %+v", cfg.Auth)
	}
	write("auth:\n  type: oauth\n  client_secret: abc\n")
	if _, err := LoadConfig(file); err == nil || !strings.Contains(err.Error(), "oktasync.yaml:3:3") || !strings.Contains(err.Error(), "client_secret") {
		t.Errorf("unknown auth key: %v", err)
	}

	const pem = "-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----\n"
	env := map[string]string{EnvOrgURL: "https://acme.okta.com", EnvAuthMode: "PrivateKey", EnvClientID: "0oa2",
		EnvPrivateKey: pem, EnvPrivateKeyID: "kid-9", EnvScopes: "okta.users.read,okta.groups.read"}
	cfg = &Config{}
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !cfg.Auth.OAuth() || cfg.Auth.ClientID != "0oa2" || cfg.Auth.KeyID != "kid-9" || strings.Join(cfg.Auth.Scopes, " ") != "okta.users.read okta.groups.read" {
		t.Errorf("from the SDK's variables: %+v", cfg.Auth)
	}
	_, err = newClient(context.Background(), cfg, SyncOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "the OAuth private key") || strings.Contains(err.Error(), "MIIsecret") {
		t.Errorf("a key that does not parse: %v", err)
	}

	for _, c := range []struct {
		auth AuthConfig
		want string
	}{
		{AuthConfig{Type: "oauth"}, "no client_id"},
		{AuthConfig{Type: "oauth", ClientID: "x"}, "no private key"},
		{AuthConfig{Type: "oauth", ClientID: "x", PrivateKeyFile: "k", DPoP: "maybe"}, `auth.dpop is "maybe"`},
		{AuthConfig{Type: "saml"}, `auth.type "saml" is not supported`},
		{AuthConfig{}, "no API token"},
	} {
		cfg := &Config{OrgURL: "https://acme.okta.com", Auth: c.auth}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.auth, err, c.want)
		}
	}
}
