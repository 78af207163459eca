package oktasim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Keys are made once per test binary: RSA generation is slow on 2 cores.
var (
	testRSAKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	testRSAKey2  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	testECKey    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	testECKey384 = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P384()) })
	testDPoPKey  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	testDPoPKey2 = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// signJWT signs claims; errors never print the key.
func signJWT(t testing.TB, key any, alg jose.SignatureAlgorithm, opts *jose.SignerOptions, claims any) string {
	t.Helper()
	if opts == nil {
		opts = &jose.SignerOptions{}
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("signer for %s: %v", alg, err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// assertionClaims are the claims a well-behaved client sends.
func assertionClaims(clientID, base string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": clientID, "sub": clientID, "aud": base + "/oauth2/v1/token",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomToken()}
}

func assertion(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts.WithHeader("kid", kid)
	}
	return signJWT(t, key, alg, opts, claims)
}

func tokenForm(scope, assertion string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {assertionTypeJWT}, "client_assertion": {assertion}}
}

// proof signs a DPoP proof with key (embedded as the jwk header).
func proof(t testing.TB, key *ecdsa.PrivateKey, htm, htu, token, nonce string) string {
	t.Helper()
	return signJWT(t, key, jose.ES256, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"), dpopClaims(htm, htu, token, nonce))
}

func dpopClaims(htm, htu, token, nonce string) map[string]any {
	c := map[string]any{"htm": htm, "htu": htu, "iat": time.Now().Unix(), "jti": randomToken()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	return c
}

// tokenAnswer is the token endpoint's JSON; AccessToken is never printed.
type tokenAnswer struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
	raw         string
}

func (a tokenAnswer) String() string { return a.Error + ": " + a.Description }

func postToken(t testing.TB, hc *http.Client, base string, form url.Values, dpop string) (*http.Response, tokenAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/oauth2/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if dpop != "" {
		req.Header.Set("DPoP", dpop)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST token: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var a tokenAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("token answer (status %d) is not JSON", resp.StatusCode)
	}
	a.raw = string(b)
	return resp, a
}

// getToken asks for a token and fails unless one is issued.
func getToken(t testing.TB, hc *http.Client, base string, form url.Values, dpop string) tokenAnswer {
	t.Helper()
	resp, a := postToken(t, hc, base, form, dpop)
	if resp.StatusCode != 200 || a.AccessToken == "" {
		t.Fatalf("token request: status %d, %v", resp.StatusCode, a)
	}
	return a
}

// call makes an API request with a raw Authorization value and DPoP proof.
func call(t testing.TB, hc *http.Client, method, u, authz, dpop string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if dpop != "" {
		req.Header.Set("DPoP", dpop)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// wantChallenge asserts a WWW-Authenticate header of the given scheme holding every part.
func wantChallenge(t testing.TB, resp *http.Response, scheme string, parts ...string) {
	t.Helper()
	h := resp.Header.Get("WWW-Authenticate")
	if !strings.HasPrefix(h, scheme+" ") {
		t.Errorf("WWW-Authenticate = %q, want scheme %s", h, scheme)
	}
	for _, p := range parts {
		if !strings.Contains(h, p) {
			t.Errorf("WWW-Authenticate = %q, want it to hold %s", h, p)
		}
	}
}

var smallOrg = Config{Seed: 1, Users: 20, Groups: 4, Apps: 3, Devices: 4, Logs: 40}

func oauthSim(t testing.TB, clients map[string]OAuthClient, edit func(*Config)) (*Sim, string) {
	t.Helper()
	cfg := smallOrg
	cfg.OAuthClients = clients
	if edit != nil {
		edit(&cfg)
	}
	return startSim(t, cfg)
}

// A service app gets a Bearer token with an RSA or an EC key (over HTTP and
// HTTPS), reads what its scopes allow and gets 403 insufficient_scope else.
func TestOAuthClientCredentials(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		pub  any
		alg  jose.SignatureAlgorithm
		kid  string
		tls  bool
	}{
		{name: "RSA RS256", key: testRSAKey(), pub: &testRSAKey().PublicKey, alg: jose.RS256},
		{name: "RSA RS512 JWK with kid", key: testRSAKey(), pub: jose.JSONWebKey{Key: &testRSAKey().PublicKey, KeyID: "k1"}, alg: jose.RS512, kid: "k1"},
		{name: "EC ES256", key: testECKey(), pub: &testECKey().PublicKey, alg: jose.ES256},
		{name: "EC ES384 over TLS", key: testECKey384(), pub: &testECKey384().PublicKey, alg: jose.ES384, tls: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallOrg
			cfg.Now = testNow
			cfg.OAuthClients = map[string]OAuthClient{"0oasvc": {PublicKey: tc.pub, KeyID: tc.kid, Scopes: []string{ScopeUsers, ScopeApps}}}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			hc := testClient
			var base string
			if tc.tls {
				base, err = s.StartTLS("127.0.0.1:0", "")
				hc = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfigFor(s)}}
			} else {
				base, err = s.Start("127.0.0.1:0")
			}
			if err != nil {
				t.Fatal(err)
			}
			form := tokenForm("okta.users.read okta.apps.read okta.users.read", assertion(t, tc.key, tc.alg, tc.kid, assertionClaims("0oasvc", base)))
			resp, a := postToken(t, hc, base, form, "")
			if resp.StatusCode != 200 {
				t.Fatalf("token: status %d, %v", resp.StatusCode, a)
			}
			if a.TokenType != "Bearer" || a.ExpiresIn != 3600 || a.Scope != "okta.users.read okta.apps.read" || a.AccessToken == "" {
				t.Errorf("token answer: type %q, expires_in %d, scope %q, token set %v", a.TokenType, a.ExpiresIn, a.Scope, a.AccessToken != "")
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers: Cache-Control %q, Content-Type %q", resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
			}

			r, b := call(t, hc, "GET", base+"/api/v1/users?limit=2", "Bearer "+a.AccessToken, "")
			if r.StatusCode != 200 || len(decodeList(t, b)) != 2 {
				t.Fatalf("GET users with Bearer: status %d: %s", r.StatusCode, b)
			}
			r, b = call(t, hc, "GET", base+"/api/v1/groups", "Bearer "+a.AccessToken, "")
			wantError(t, r, b, 403, "E0000006")
			wantChallenge(t, r, "Bearer", `error="insufficient_scope"`,
				`error_description="The access token provided does not contain the required scopes."`,
				`scope="okta.groups.read"`, `resource="/api/v1/groups"`, `realm="`+base+`"`)
			if st := s.OAuthStats(); st.TokensIssued != 1 || st.TokenRequests["issued"] != 1 || st.APIAccepted["Bearer"] != 2 || st.APIRefused["insufficient_scope"] != 1 {
				t.Errorf("OAuthStats = %+v", st)
			}
		})
	}
}

func tlsConfigFor(s *Sim) *tls.Config { return &tls.Config{RootCAs: s.CertPool()} }

// Every refusal of the token endpoint, as Okta's org authorization server
// words it, and none quotes the assertion or the proof.
func TestOAuthTokenErrors(t *testing.T) {
	_, base := oauthSim(t, map[string]OAuthClient{
		"0oarsa":  {PublicKey: &testRSAKey().PublicKey, Scopes: []string{ScopeUsers, ScopeApps}},
		"0oakid":  {PublicKey: &testECKey().PublicKey, KeyID: "k1", Scopes: []string{ScopeUsers}},
		"0oadpop": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}, RequireDPoP: true},
	}, nil)
	tokenURL := base + "/oauth2/v1/token"
	rsaAssert := func(edit func(map[string]any)) string {
		c := assertionClaims("0oarsa", base)
		if edit != nil {
			edit(c)
		}
		return assertion(t, testRSAKey(), jose.RS256, "", c)
	}
	good := func() url.Values { return tokenForm(ScopeUsers, rsaAssert(nil)) }
	withForm := func(edit func(url.Values)) func() (url.Values, string) {
		return func() (url.Values, string) { f := good(); edit(f); return f, "" }
	}
	withClaims := func(edit func(map[string]any)) func() (url.Values, string) {
		return func() (url.Values, string) { return tokenForm(ScopeUsers, rsaAssert(edit)), "" }
	}
	withProof := func(p func() string) func() (url.Values, string) {
		return func() (url.Values, string) { return good(), p() }
	}
	for _, tc := range []struct {
		name   string
		req    func() (url.Values, string)
		status int
		code   string
		desc   string
	}{
		{"unknown client", withClaims(func(c map[string]any) { c["iss"], c["sub"] = "0oanobody", "0oanobody" }), 401, "invalid_client", "Invalid value for 'client_id' parameter."},
		{"signed by another key", func() (url.Values, string) {
			return tokenForm(ScopeUsers, assertion(t, testRSAKey2(), jose.RS256, "", assertionClaims("0oarsa", base))), ""
		}, 401, "invalid_client", "signature is invalid"},
		{"RS256 header on an EC client", func() (url.Values, string) {
			c := assertionClaims("0oakid", base)
			return tokenForm(ScopeUsers, assertion(t, testRSAKey(), jose.RS256, "k1", c)), ""
		}, 401, "invalid_client", "signature is invalid"},
		{"HS256", func() (url.Values, string) {
			return tokenForm(ScopeUsers, signJWT(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, nil, assertionClaims("0oarsa", base))), ""
		}, 401, "invalid_client", "RS256 RS384 RS512 ES256 ES384 ES512"},
		{"not a JWT", withForm(func(f url.Values) { f.Set("client_assertion", "not.a.jwt") }), 401, "invalid_client", "not a JWS"},
		{"wrong kid", func() (url.Values, string) {
			return tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "k2", assertionClaims("0oakid", base))), ""
		}, 401, "invalid_client", "'kid'"},
		{"no kid", func() (url.Values, string) {
			return tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oakid", base))), ""
		}, 401, "invalid_client", "'kid'"},
		{"sub is not the client", withClaims(func(c map[string]any) { c["sub"] = "someone" }), 401, "invalid_client", "'iss' and 'sub'"},
		{"client_id is another client", withForm(func(f url.Values) { f.Set("client_id", "0oadpop") }), 401, "invalid_client", "signature is invalid"},
		{"aud is the default AS", withClaims(func(c map[string]any) { c["aud"] = base + "/oauth2/default/v1/token" }), 401, "invalid_client", "audience"},
		{"aud is another host", withClaims(func(c map[string]any) { c["aud"] = "https://acme.okta.com/oauth2/v1/token" }), 401, "invalid_client", "audience"},
		{"expired", withClaims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), 401, "invalid_client", "expired"},
		{"exp beyond an hour", withClaims(func(c map[string]any) { c["exp"] = time.Now().Add(2 * time.Hour).Unix() }), 401, "invalid_client", "too far in the future"},
		{"no exp", withClaims(func(c map[string]any) { delete(c, "exp") }), 401, "invalid_client", "'exp'"},
		{"iat in the future", withClaims(func(c map[string]any) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() }), 401, "invalid_client", "issued in the future"},
		{"no jti", withClaims(func(c map[string]any) { delete(c, "jti") }), 401, "invalid_client", "'jti'"},
		{"scope not granted", withForm(func(f url.Values) { f.Set("scope", "okta.users.read okta.groups.read") }), 400, "invalid_scope",
			"The authorization server does not allow the requested scope: okta.groups.read"},
		{"no scope", withForm(func(f url.Values) { f.Del("scope") }), 400, "invalid_scope", "'scope' must be provided"},
		{"password grant", withForm(func(f url.Values) { f.Set("grant_type", "password") }), 400, "unsupported_grant_type", "client_credentials"},
		{"no grant_type", withForm(func(f url.Values) { f.Del("grant_type") }), 400, "invalid_request", "'grant_type'"},
		{"no client_assertion", withForm(func(f url.Values) { f.Del("client_assertion") }), 400, "invalid_request", "'client_assertion'"},
		{"no client_assertion_type", withForm(func(f url.Values) { f.Del("client_assertion_type") }), 400, "invalid_request", "'client_assertion_type'"},
		{"wrong client_assertion_type", withForm(func(f url.Values) {
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		}),
			400, "invalid_request", "jwt-bearer"},
		{"scope twice", withForm(func(f url.Values) { f.Add("scope", ScopeApps) }), 400, "invalid_request", "more than once"},
		{"DPoP required, no proof", func() (url.Values, string) {
			return tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oadpop", base))), ""
		}, 400, "invalid_dpop_proof", "The DPoP proof JWT header is missing."},
		{"proof htm GET", withProof(func() string { return proof(t, testDPoPKey(), "GET", tokenURL, "", "") }), 400, "invalid_dpop_proof", "'htm'"},
		{"proof htu elsewhere", withProof(func() string { return proof(t, testDPoPKey(), "POST", base+"/oauth2/default/v1/token", "", "") }), 400, "invalid_dpop_proof", "'htu'"},
		{"proof typ JWT", withProof(func() string {
			return signJWT(t, testDPoPKey(), jose.ES256, (&jose.SignerOptions{EmbedJWK: true}).WithType("JWT"), dpopClaims("POST", tokenURL, "", ""))
		}), 400, "invalid_dpop_proof", "'typ'"},
		{"proof without jwk", withProof(func() string {
			return signJWT(t, testDPoPKey(), jose.ES256, (&jose.SignerOptions{}).WithType("dpop+jwt"), dpopClaims("POST", tokenURL, "", ""))
		}), 400, "invalid_dpop_proof", "'jwk'"},
		{"proof jwk is a private key", withProof(func() string {
			o := (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: testDPoPKey()})
			return signJWT(t, testDPoPKey(), jose.ES256, o, dpopClaims("POST", tokenURL, "", ""))
		}), 400, "invalid_dpop_proof", "public key"},
		{"proof signed by another key", withProof(func() string {
			o := (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: &testDPoPKey2().PublicKey})
			return signJWT(t, testDPoPKey(), jose.ES256, o, dpopClaims("POST", tokenURL, "", ""))
		}), 400, "invalid_dpop_proof", "signature"},
		{"proof too old", withProof(func() string {
			c := dpopClaims("POST", tokenURL, "", "")
			c["iat"] = time.Now().Add(-10 * time.Minute).Unix()
			return signJWT(t, testDPoPKey(), jose.ES256, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"), c)
		}), 400, "invalid_dpop_proof", "'iat'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form, dpop := tc.req()
			resp, a := postToken(t, testClient, base, form, dpop)
			if resp.StatusCode != tc.status || a.Error != tc.code || !strings.Contains(a.Description, tc.desc) {
				t.Errorf("got %d %v; want %d %s with %q", resp.StatusCode, a, tc.status, tc.code, tc.desc)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if a.AccessToken != "" {
				t.Error("an access token came with an error")
			}
			for _, secret := range []string{form.Get("client_assertion"), dpop} {
				if len(secret) > 12 && strings.Contains(a.raw, secret) {
					t.Error("the answer quotes the assertion or the proof")
				}
			}
		})
	}

	t.Run("GET", func(t *testing.T) {
		resp, b := call(t, testClient, "GET", tokenURL, "", "")
		if resp.StatusCode != 405 || !strings.Contains(string(b), `"invalid_request"`) {
			t.Errorf("GET token: %d %s", resp.StatusCode, b)
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"grant_type": "client_credentials"})
		resp, err := testClient.Post(tokenURL, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"invalid_request"`) {
			t.Errorf("JSON token request: %d %s", resp.StatusCode, b)
		}
	})
}

// An assertion is good once: its jti is remembered until it expires.
func TestOAuthAssertionReplay(t *testing.T) {
	s, base := oauthSim(t, map[string]OAuthClient{"0oasvc": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}}}, nil)
	form := tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oasvc", base)))
	getToken(t, testClient, base, form, "")
	resp, a := postToken(t, testClient, base, form, "")
	if resp.StatusCode != 401 || a.Error != "invalid_client" || !strings.Contains(a.Description, "already been used") {
		t.Errorf("replayed assertion: %d %v", resp.StatusCode, a)
	}
	if st := s.OAuthStats(); st.TokensIssued != 1 || st.TokenRequests["invalid_client"] != 1 {
		t.Errorf("OAuthStats = %+v", st)
	}
}

// dpopToken runs the nonce dance of an app and returns its DPoP token.
func dpopToken(t *testing.T, base, clientID string, key *ecdsa.PrivateKey) tokenAnswer {
	t.Helper()
	tokenURL := base + "/oauth2/v1/token"
	form := func() url.Values {
		return tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims(clientID, base)))
	}
	resp, a := postToken(t, testClient, base, form(), proof(t, key, "POST", tokenURL, "", ""))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 400 || a.Error != "use_dpop_nonce" || a.Description != "Authorization server requires nonce in DPoP proof." || nonce == "" {
		t.Fatalf("proof without nonce: %d %v (nonce header set: %v)", resp.StatusCode, a, nonce != "")
	}
	a = getToken(t, testClient, base, form(), proof(t, key, "POST", tokenURL, "", nonce))
	if a.TokenType != "DPoP" || a.Scope != ScopeUsers {
		t.Fatalf("token_type %q scope %q, want DPoP %s", a.TokenType, a.Scope, ScopeUsers)
	}
	return a
}

// The DPoP flow of an app that requires it, then the API's checks of the
// token's proofs.
func TestOAuthDPoP(t *testing.T) {
	s, base := oauthSim(t, map[string]OAuthClient{
		"0oadpop":  {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}, RequireDPoP: true},
		"0oaplain": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}},
	}, nil)
	tokenURL := base + "/oauth2/v1/token"
	form := func() url.Values {
		return tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oadpop", base)))
	}
	resp, a := postToken(t, testClient, base, form(), "")
	if resp.StatusCode != 400 || a.Error != "invalid_dpop_proof" || a.Description != "The DPoP proof JWT header is missing." {
		t.Fatalf("no proof: %d %v", resp.StatusCode, a)
	}
	resp, a = postToken(t, testClient, base, form(), proof(t, testDPoPKey(), "POST", tokenURL, "", "stale-nonce"))
	if resp.StatusCode != 400 || a.Error != "use_dpop_nonce" || resp.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("stale nonce: %d %v", resp.StatusCode, a)
	}
	tok := dpopToken(t, base, "0oadpop", testDPoPKey()).AccessToken

	users := base + "/api/v1/users"
	r, b := call(t, testClient, "GET", users+"?limit=3", "DPoP "+tok, proof(t, testDPoPKey(), "GET", users, tok, ""))
	if r.StatusCode != 200 || len(decodeList(t, b)) != 3 {
		t.Fatalf("DPoP API request: %d %s", r.StatusCode, b)
	}
	r, b = call(t, testClient, "GET", users+"?limit=1", "DPoP "+tok, proof(t, testDPoPKey(), "GET", users+"?limit=1", tok, ""))
	if r.StatusCode != 200 {
		t.Fatalf("htu with the query (ignored): %d %s", r.StatusCode, b)
	}
	replayed := proof(t, testDPoPKey(), "GET", users, tok, "")
	if r, b := call(t, testClient, "GET", users, "DPoP "+tok, replayed); r.StatusCode != 200 {
		t.Fatalf("DPoP API request: %d %s", r.StatusCode, b)
	}

	for _, tc := range []struct {
		name, authz, proof, scheme, code, desc string
	}{
		{"as Bearer", "Bearer " + tok, "", "Bearer", "invalid_token", "The access token is invalid."},
		{"as Bearer with a proof", "Bearer " + tok, proof(t, testDPoPKey(), "GET", users, tok, ""), "Bearer", "invalid_token", "The access token is invalid."},
		{"no proof", "DPoP " + tok, "", "DPoP", "invalid_dpop_proof", "The DPoP proof JWT header is missing."},
		{"proof from another key", "DPoP " + tok, proof(t, testDPoPKey2(), "GET", users, tok, ""), "DPoP", "invalid_dpop_proof", "not the key the access token is bound to"},
		{"wrong htu", "DPoP " + tok, proof(t, testDPoPKey(), "GET", base+"/api/v1/groups", tok, ""), "DPoP", "invalid_dpop_proof", "'htu'"},
		{"wrong htm", "DPoP " + tok, proof(t, testDPoPKey(), "POST", users, tok, ""), "DPoP", "invalid_dpop_proof", "'htm'"},
		{"no ath", "DPoP " + tok, proof(t, testDPoPKey(), "GET", users, "", ""), "DPoP", "invalid_dpop_proof", "'ath'"},
		{"ath of another token", "DPoP " + tok, proof(t, testDPoPKey(), "GET", users, tok+"x", ""), "DPoP", "invalid_dpop_proof", "'ath'"},
		{"replayed proof", "DPoP " + tok, replayed, "DPoP", "invalid_dpop_proof", "'jti'"},
		{"unknown token", "DPoP x" + tok, proof(t, testDPoPKey(), "GET", users, "x"+tok, ""), "DPoP", "invalid_token", "The access token is invalid."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, b := call(t, testClient, "GET", users, tc.authz, tc.proof)
			e := wantError(t, r, b, 401, "E0000011")
			if e.ErrorSummary != "Invalid token provided" {
				t.Errorf("summary %q", e.ErrorSummary)
			}
			wantChallenge(t, r, tc.scheme, `error="`+tc.code+`"`, tc.desc, `resource="/api/v1/users"`)
			if tc.scheme == "DPoP" {
				wantChallenge(t, r, "DPoP", `algs="RS256 RS384 RS512 ES256 ES384 ES512"`)
			}
		})
	}

	t.Run("optional DPoP still binds", func(t *testing.T) {
		a := dpopToken(t, base, "0oaplain", testDPoPKey2())
		r, b := call(t, testClient, "GET", users, "Bearer "+a.AccessToken, "")
		wantError(t, r, b, 401, "E0000011")
		r, b = call(t, testClient, "GET", users, "DPoP "+a.AccessToken, proof(t, testDPoPKey2(), "GET", users, a.AccessToken, ""))
		if r.StatusCode != 200 {
			t.Fatalf("DPoP request: %d %s", r.StatusCode, b)
		}
	})
	if st := s.OAuthStats(); st.TokenRequests["use_dpop_nonce"] != 3 || st.TokenRequests["invalid_dpop_proof"] != 1 || st.APIAccepted["DPoP"] != 4 {
		t.Errorf("OAuthStats = %+v", st)
	}
}

// With DPoPNonceOnAPI the API demands its own nonce, and a new one once the
// old expires.
func TestOAuthDPoPNonceOnAPI(t *testing.T) {
	s, base := oauthSim(t, map[string]OAuthClient{"0oadpop": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}, RequireDPoP: true}},
		func(c *Config) { c.DPoPNonceOnAPI = true })
	tok := dpopToken(t, base, "0oadpop", testDPoPKey()).AccessToken
	users := base + "/api/v1/users"
	wantNonce := func(p string) string {
		t.Helper()
		r, b := call(t, testClient, "GET", users, "DPoP "+tok, p)
		wantError(t, r, b, 401, "E0000011")
		wantChallenge(t, r, "DPoP", `error="use_dpop_nonce"`, `error_description="Resource server requires nonce in DPoP proof."`)
		n := r.Header.Get("DPoP-Nonce")
		if n == "" {
			t.Fatal("no DPoP-Nonce header")
		}
		return n
	}
	nonce := wantNonce(proof(t, testDPoPKey(), "GET", users, tok, ""))
	r, b := call(t, testClient, "GET", users, "DPoP "+tok, proof(t, testDPoPKey(), "GET", users, tok, nonce))
	if r.StatusCode != 200 {
		t.Fatalf("with the nonce: %d %s", r.StatusCode, b)
	}
	s.ExpireDPoPNonces()
	if n := wantNonce(proof(t, testDPoPKey(), "GET", users, tok, nonce)); n == nonce {
		t.Error("the expired nonce came back")
	}
}

// A token dies after its app's TokenLifetime.
func TestOAuthTokenLifetime(t *testing.T) {
	_, base := oauthSim(t, map[string]OAuthClient{"0oasvc": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}, TokenLifetime: time.Second}}, nil)
	a := getToken(t, testClient, base, tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oasvc", base))), "")
	if a.ExpiresIn != 1 {
		t.Errorf("expires_in = %d, want 1", a.ExpiresIn)
	}
	if r, b := call(t, testClient, "GET", base+"/api/v1/users", "Bearer "+a.AccessToken, ""); r.StatusCode != 200 {
		t.Fatalf("fresh token: %d %s", r.StatusCode, b)
	}
	time.Sleep(1100 * time.Millisecond)
	r, b := call(t, testClient, "GET", base+"/api/v1/users", "Bearer "+a.AccessToken, "")
	wantError(t, r, b, 401, "E0000011")
	wantChallenge(t, r, "Bearer", `error="invalid_token"`, `error_description="The access token is invalid."`)
}

// RevokeTokens kills every token; a new one works.
func TestOAuthRevokeTokens(t *testing.T) {
	s, base := oauthSim(t, map[string]OAuthClient{"0oasvc": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}}}, nil)
	newTok := func() string {
		return getToken(t, testClient, base, tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oasvc", base))), "").AccessToken
	}
	users := base + "/api/v1/users"
	tok := newTok()
	if r, b := call(t, testClient, "GET", users, "Bearer "+tok, ""); r.StatusCode != 200 {
		t.Fatalf("before revoking: %d %s", r.StatusCode, b)
	}
	s.RevokeTokens()
	r, b := call(t, testClient, "GET", users, "Bearer "+tok, "")
	wantError(t, r, b, 401, "E0000011")
	wantChallenge(t, r, "Bearer", `error="invalid_token"`)
	if r, b := call(t, testClient, "GET", users, "Bearer "+newTok(), ""); r.StatusCode != 200 {
		t.Fatalf("new token: %d %s", r.StatusCode, b)
	}
	if st := s.OAuthStats(); st.TokensIssued != 2 || st.APIRefused["invalid_token"] != 1 || st.APIAccepted["Bearer"] != 2 {
		t.Errorf("OAuthStats = %+v", st)
	}
}

// The app's role applies after its scopes: a scope it holds does not reach
// what its role may not read (403 without a challenge).
func TestOAuthRoleApplies(t *testing.T) {
	_, base := oauthSim(t, map[string]OAuthClient{"0oaro": {PublicKey: &testECKey().PublicKey, Role: RoleReadOnlyAdmin, Scopes: []string{ScopeUsers, ScopeRoles}}}, nil)
	tok := getToken(t, testClient, base, tokenForm("okta.users.read okta.roles.read", assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oaro", base))), "").AccessToken
	if r, b := call(t, testClient, "GET", base+"/api/v1/users", "Bearer "+tok, ""); r.StatusCode != 200 {
		t.Fatalf("users: %d %s", r.StatusCode, b)
	}
	r, b := call(t, testClient, "GET", base+"/api/v1/iam/roles", "Bearer "+tok, "")
	wantError(t, r, b, 403, "E0000006")
	if h := r.Header.Get("WWW-Authenticate"); h != "" {
		t.Errorf("role refusal carries WWW-Authenticate %q", h)
	}
}

// The token endpoint is outside the API's buckets, counter and stats.
func TestOAuthTokenEndpointNotRateLimited(t *testing.T) {
	s, base := oauthSim(t, map[string]OAuthClient{"0oasvc": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}}},
		func(c *Config) { c.RateLimits, c.BucketLimits = RateLimitsOkta, map[string]int{"default": 1} })
	for range 3 {
		resp, a := postToken(t, testClient, base, tokenForm(ScopeUsers, assertion(t, testECKey(), jose.ES256, "", assertionClaims("0oasvc", base))), "")
		if resp.StatusCode != 200 || resp.Header.Get("X-Rate-Limit-Limit") != "" {
			t.Fatalf("token request: %d %v, X-Rate-Limit-Limit %q", resp.StatusCode, a, resp.Header.Get("X-Rate-Limit-Limit"))
		}
	}
	if n := s.Stats().Requests; n != 0 {
		t.Errorf("Stats.Requests = %d, want 0", n)
	}
}

// Every table has a scope, and so does every route.
func TestTableScopes(t *testing.T) {
	for table := range TablePermissions {
		if TableScopes[table] == "" {
			t.Errorf("table %s has no scope", table)
		}
	}
	for table := range TableScopes {
		if TablePermissions[table] == nil {
			t.Errorf("scope for unknown table %s", table)
		}
	}
	for _, rt := range routes {
		if routeScope(rt) == "" {
			t.Errorf("route %s needs no scope", rt.pattern)
		}
	}
	for table, want := range map[string]string{"USERS": "okta.users.read", "GROUP_MEMBER": "okta.groups.read", "USER_ROLE": "okta.roles.read",
		"RESOURCE": "okta.roles.read", "APPLICATION_GROUP": "okta.apps.read", "DEVICE_USER": "okta.devices.read", "SYSTEM_LOG": "okta.logs.read",
		"PROFILE_MAPPING": "okta.profileMappings.read", "POLICY_RULE": "okta.policies.read", "USER_TYPE": "okta.userTypes.read"} {
		if TableScopes[table] != want {
			t.Errorf("TableScopes[%s] = %q, want %q", table, TableScopes[table], want)
		}
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Public keys load from PEM (PKIX, PKCS #1) and JWK, and --oauth-client
// values parse; private keys are refused without being quoted.
func TestLoadPublicKeyAndParseOAuthClients(t *testing.T) {
	pkix, err := x509.MarshalPKIXPublicKey(&testECKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	jwkPub, _ := json.Marshal(jose.JSONWebKey{Key: &testECKey().PublicKey, KeyID: "k1"})
	jwkPriv, _ := json.Marshal(jose.JSONWebKey{Key: testECKey()})
	privDER, _ := x509.MarshalECPrivateKey(testECKey())
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER})
	files := map[string][]byte{
		"pkix.pem":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"pkcs1.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&testRSAKey().PublicKey)}),
		"key.jwk":   jwkPub,
		"set.json":  []byte(`{"keys":[` + string(jwkPub) + `]}`),
		"priv.pem":  privPEM,
		"priv.jwk":  jwkPriv,
		"small.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&mustRSA(1024).PublicKey)}),
		"junk.txt":  []byte("hello"),
	}
	paths := map[string]string{}
	for name, data := range files {
		paths[name] = writeFile(t, name, data)
	}
	for _, tc := range []struct {
		file, wantErr string
	}{
		{"pkix.pem", ""}, {"pkcs1.pem", ""}, {"key.jwk", ""}, {"set.json", ""},
		{"priv.pem", "private key"}, {"priv.jwk", "private key"}, {"small.pem", "1024 bits"}, {"junk.txt", "neither PEM nor JWK"},
	} {
		k, err := LoadPublicKeyFile(paths[tc.file])
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.file, err)
		case tc.wantErr == "":
			if _, err := verificationKey(k); err != nil {
				t.Errorf("%s: loaded key does not verify: %v", tc.file, err)
			}
		case err == nil || !strings.Contains(err.Error(), tc.wantErr):
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.wantErr)
		case strings.Contains(err.Error(), "MHc") || strings.Contains(err.Error(), `"d"`):
			t.Errorf("%s: error quotes the key", tc.file)
		}
	}

	got, err := ParseOAuthClients([]string{
		"0oaa=" + paths["pkix.pem"] + ":okta.users.read, okta.groups.read",
		"0oab=" + paths["key.jwk"] + ":okta.logs.read:dpop",
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := got["0oaa"]; strings.Join(a.Scopes, " ") != "okta.users.read okta.groups.read" || a.RequireDPoP || a.PublicKey == nil {
		t.Errorf("0oaa = scopes %v, dpop %v", a.Scopes, a.RequireDPoP)
	}
	if b := got["0oab"]; strings.Join(b.Scopes, " ") != "okta.logs.read" || !b.RequireDPoP {
		t.Errorf("0oab = scopes %v, dpop %v", b.Scopes, b.RequireDPoP)
	}
	if _, err := New(Config{Seed: 1, Users: 5, Logs: -1, OAuthClients: got}); err != nil {
		t.Errorf("New with parsed clients: %v", err)
	}
	for _, bad := range []string{"0oaa", "=" + paths["pkix.pem"] + ":okta.users.read", "0oaa=" + paths["pkix.pem"], "0oaa=" + paths["pkix.pem"] + ":",
		"0oaa=/nonexistent/key.pem:okta.users.read", "0oaa=" + paths["priv.pem"] + ":okta.users.read"} {
		if _, err := ParseOAuthClients([]string{bad}); err == nil {
			t.Errorf("ParseOAuthClients(%q): no error", bad)
		}
	}
	if _, err := ParseOAuthClients([]string{"x=" + paths["pkix.pem"] + ":okta.users.read", "x=" + paths["key.jwk"] + ":okta.users.read"}); err == nil {
		t.Error("a client given twice: no error")
	}
	for name, cl := range map[string]OAuthClient{
		"private key":  {PublicKey: testECKey(), Scopes: []string{ScopeUsers}},
		"no key":       {Scopes: []string{ScopeUsers}},
		"unknown role": {PublicKey: &testECKey().PublicKey, Scopes: []string{ScopeUsers}, Role: "GOD"},
		"no scopes":    {PublicKey: &testECKey().PublicKey},
		"bad scope":    {PublicKey: &testECKey().PublicKey, Scopes: []string{"okta.users.read okta.apps.read"}},
	} {
		if _, err := New(Config{Seed: 1, Users: 5, Logs: -1, OAuthClients: map[string]OAuthClient{"0oa": cl}}); err == nil {
			t.Errorf("New with %s: no error", name)
		}
	}
}
