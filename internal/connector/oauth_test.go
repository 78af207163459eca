package connector

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
	"oktasync/runtime/fetch"
)

// oauthOrg is a small org whose simulator knows the SSWS token demo-token
// and the service apps given.
// The API asks for DPoP nonces too, which Okta's does not yet.
func oauthOrg(t *testing.T, clients map[string]oktasim.OAuthClient) (*oktasim.Sim, string) {
	t.Helper()
	sim, err := oktasim.New(oktasim.Config{Seed: 11, Users: 60, Groups: 5, Apps: 3, Devices: 6, Logs: 200,
		Now: oktasim.DefaultNow, TimeScale: 60, LinkBaseURL: "https://oauth.okta.example", OAuthClients: clients,
		DPoPNonceOnAPI: true})
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

// keyPEM writes a private key as PKCS #8 PEM and returns its text.
func keyPEM(t *testing.T, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// recorder keeps every credential a client sent: Authorization and DPoP
// headers, and the token requests' bodies (the client assertions).
type recorder struct {
	mu      sync.Mutex
	secrets []string
	base    http.RoundTripper
	// before, when set, runs before each request with its number (from 1).
	before func(n int)
	n      int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.n++
	if r.before != nil {
		r.before(r.n)
	}
	for _, h := range []string{"Authorization", "DPoP"} {
		if v := req.Header.Get(h); v != "" {
			_, cred, _ := strings.Cut(v, " ")
			r.secrets = append(r.secrets, v, cred)
		}
	}
	if req.Body != nil && req.Method == http.MethodPost {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		for _, kv := range strings.Split(string(b), "&") {
			if k, v, _ := strings.Cut(kv, "="); k == "client_assertion" {
				r.secrets = append(r.secrets, v)
			}
		}
	}
	r.mu.Unlock()
	resp, err := r.base.RoundTrip(req)
	if err == nil {
		if tok := resp.Header.Get("Content-Type"); strings.HasPrefix(tok, "application/json") && req.Method == http.MethodPost {
			b, _ := io.ReadAll(resp.Body)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			var body struct {
				AccessToken string `json:"access_token"`
			}
			if json.Unmarshal(b, &body) == nil && body.AccessToken != "" {
				r.mu.Lock()
				r.secrets = append(r.secrets, body.AccessToken)
				r.mu.Unlock()
			}
		}
	}
	return resp, err
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(r.secrets), func(s string) bool { return len(s) < 16 })
}

var oauthTables = []string{"users", "groups", "group_member", "application", "system_log"}

// oauthSync syncs oauthTables with cfg, recording credentials and the log.
func oauthSync(t *testing.T, cfg *Config, rec *recorder, log io.Writer) (map[string]string, *runtime.Summary, error) {
	t.Helper()
	cfg.TimeScale = 60
	opt := SyncOptions{Only: oauthTables, Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Fetch: func(c *fetch.Config) {
			c.RetryBase, c.RetryMax, c.MaxRetries = time.Millisecond, 10*time.Millisecond, 2
			if rec != nil {
				c.HTTPClient = &http.Client{Transport: rec}
			}
		}}
	sum, err := Sync(context.Background(), cfg, opt)
	if err != nil {
		return nil, sum, err
	}
	return dumpSynced(t, cfg.Destination.Path), sum, nil
}

// TestOAuthSync: service apps with RSA and EC keys, Bearer and DPoP, land
// the same tables as the SSWS token; a token that expires mid-sync is
// renewed; no private key, assertion, token or proof reaches the log, the
// errors, the summary or the database.
func TestOAuthSync(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	scopes := TableScopes(oauthTables)
	sim, url := oauthOrg(t, map[string]oktasim.OAuthClient{
		"0oa-bearer": {PublicKey: rsaKey.Public(), Scopes: scopes, Role: oktasim.RoleReadOnlyAdmin},
		// Tokens live 1 s, and the sync's requests are slowed to outlive
		// one: it renews them.
		"0oa-dpop": {PublicKey: ecKey.Public(), Scopes: scopes, Role: oktasim.RoleReadOnlyAdmin, RequireDPoP: true,
			TokenLifetime: time.Second},
	})
	dir := t.TempDir()
	ssws := &Config{OrgURL: url, Token: "demo-token", Destination: Destination{Path: filepath.Join(dir, "ssws.duckdb")}}
	want, _, err := oauthSync(t, ssws, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, client string
		key          crypto.Signer
	}{{"bearer", "0oa-bearer", rsaKey}, {"dpop", "0oa-dpop", ecKey}} {
		t.Run(c.name, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(keyFile, []byte(keyPEM(t, c.key)), 0o600); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(t.TempDir(), "okta.duckdb")
			cfg := &Config{OrgURL: url, Auth: AuthConfig{Type: AuthOAuth, ClientID: c.client, PrivateKeyFile: keyFile},
				Destination: Destination{Path: db}}
			rec := &recorder{base: http.DefaultTransport}
			revoked := false
			if c.name == "dpop" {
				rec.before = func(n int) {
					time.Sleep(100 * time.Millisecond)
					if n == 6 {
						// Okta may refuse a token before its expiry: the
						// 401 makes the client renew it once.
						sim.RevokeTokens()
						revoked = true
					}
				}
			}
			var log bytes.Buffer
			issuedBefore := sim.OAuthStats().TokensIssued
			got, sum, err := oauthSync(t, cfg, rec, &log)
			if err != nil {
				var b bytes.Buffer
				if sum != nil {
					PrintSummary(&b, sum, time.Second)
				}
				t.Fatalf("%v\n%s", err, b.String())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tables differ from the SSWS sync (-ssws +oauth):\n%s", diff)
			}
			issued := sim.OAuthStats().TokensIssued - issuedBefore
			refusals := sim.OAuthStats().APIRefused
			if c.name == "dpop" && (!revoked || issued < 3 || refusals["invalid_token"] == 0 || refusals["use_dpop_nonce"] == 0) {
				t.Errorf("%d tokens issued to a sync that outlived one and saw one revoked (revoked %v, refusals %v); want renewals",
					issued, revoked, sim.OAuthStats().APIRefused)
			}
			secrets := append(rec.all(), strings.TrimSpace(keyPEM(t, c.key)))
			if len(secrets) < 3 {
				t.Fatalf("recorded %d credentials; the recorder missed them", len(secrets))
			}
			doc, _ := json.Marshal(NewSummaryJSON(sum, time.Second))
			var printed bytes.Buffer
			PrintSummary(&printed, sum, time.Second)
			state := dumpAll(t, db)
			for _, s := range secrets {
				for what, text := range map[string]string{"log": log.String(), "summary": string(doc) + printed.String(), "database": state} {
					if strings.Contains(text, s) || strings.Contains(text, strings.Split(s, "\n")[1%len(strings.Split(s, "\n"))]) {
						t.Errorf("a credential (%d bytes) appears in the %s", len(s), what)
					}
				}
			}
		})
	}
}

// dumpAll renders every table of a database as text, the state included.
func dumpAll(t *testing.T, path string) string {
	t.Helper()
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, n := range queryRows(t, db, `select table_name from information_schema.tables where table_schema = 'main'`) {
		b.WriteString(strings.Join(queryRows(t, db, `select * from "`+n+`"`), "\n"))
	}
	return b.String()
}

// dumpSynced renders the tables a sync wrote as CSV ordered by key, the
// sync's time left out (duckdb.DB.Dump).
func dumpSynced(t *testing.T, path string) map[string]string {
	t.Helper()
	counts := tableCounts(t, path)
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	for name := range counts {
		if strings.HasPrefix(name, "_") {
			continue
		}
		var b bytes.Buffer
		if err := db.Dump(context.Background(), name, &b); err != nil {
			t.Fatalf("dump %s: %v", name, err)
		}
		out[name] = withoutColumn(t, b.String(), "_fivetran_synced")
	}
	return out
}

func withoutColumn(t *testing.T, dump, column string) string {
	t.Helper()
	out, err := duckdb.WithoutColumn(dump, column)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOAuthRefusals: the wrong key, an unknown client, a scope the app
// lacks and DPoP turned off for an app that requires it each fail before
// any table, naming what to fix.
func TestOAuthRefusals(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, url := oauthOrg(t, map[string]oktasim.OAuthClient{
		"0oa-app":  {PublicKey: key.Public(), Scopes: []string{"okta.users.read", "okta.groups.read"}},
		"0oa-dpop": {PublicKey: key.Public(), Scopes: []string{"okta.users.read"}, RequireDPoP: true},
	})
	for _, c := range []struct {
		name, client, dpop string
		key                crypto.Signer
		tables             []string
		want               []string
	}{
		{"wrong key", "0oa-app", "", other, []string{"users"}, []string{"invalid_client", "Public key / Private key"}},
		{"unknown client", "0oa-nobody", "", key, []string{"users"}, []string{"invalid_client", "auth.client_id"}},
		{"missing scope", "0oa-app", "", key, []string{"users", "application"},
			[]string{"not granted the scopes okta.apps.read (tables application", "Okta API Scopes"}},
		{"dpop off", "0oa-dpop", "off", key, []string{"users"}, []string{"invalid_dpop_proof", "requires DPoP"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "okta.duckdb")
			cfg := &Config{OrgURL: url, Destination: Destination{Path: db},
				Auth: AuthConfig{Type: AuthOAuth, ClientID: c.client, DPoP: c.dpop}}
			if err := cfg.Auth.applyEnv(func(k string) string {
				return map[string]string{EnvPrivateKey: keyPEM(t, c.key)}[k]
			}); err != nil {
				t.Fatal(err)
			}
			_, err := Sync(context.Background(), cfg, SyncOptions{Only: c.tables})
			if err == nil || !errors.Is(err, fetch.ErrFatal) {
				t.Fatalf("err = %v, want a fatal error", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("the error quotes the key: %v", err)
			}
			if _, statErr := os.Stat(db); statErr == nil {
				t.Error("a database was created though the sync could not start")
			}
		})
	}
}

// TestOAuthCheck: check under OAuth names, per table, the scope the app
// was not granted, or the roles its admin role lacks, and reads the rest.
func TestOAuthCheck(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// HELP_DESK_ADMIN reads users and groups, not applications; the app
	// lacks the logs scope.
	_, url := oauthOrg(t, map[string]oktasim.OAuthClient{
		"0oa-app": {PublicKey: key.Public(), Scopes: []string{"okta.users.read", "okta.groups.read", "okta.apps.read"},
			Role: oktasim.RoleHelpDeskAdmin},
	})
	cfg := &Config{OrgURL: url, TimeScale: 60, Auth: AuthConfig{Type: AuthOAuth, ClientID: "0oa-app"}}
	if err := cfg.Auth.applyEnv(func(k string) string { return map[string]string{EnvPrivateKey: keyPEM(t, key)}[k] }); err != nil {
		t.Fatal(err)
	}
	results, ok, err := Check(context.Background(), cfg, SyncOptions{Only: []string{"users", "application", "system_log"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range results {
		got[r.Table] = string(r.Status) + ": " + r.Needs
	}
	if ok || !strings.HasPrefix(got["users"], "ok") ||
		!strings.Contains(got["system_log"], "forbidden: scope okta.logs.read, not granted to the OAuth app") ||
		!strings.Contains(got["application"], "forbidden: needs one of the roles") {
		t.Errorf("check: ok %v\n%v", ok, got)
	}
}
