package fetch

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fakeAS is an authorization server and API in one: it checks client
// assertions and DPoP proofs as RFC 7523 and RFC 9449 say, issues tokens,
// and serves GET /items to a valid token.
type fakeAS struct {
	t           *testing.T
	srv         *httptest.Server
	clientKey   crypto.PublicKey
	requireDPoP bool
	nonce       string // the token endpoint's DPoP nonce; "" needs none
	apiNonce    string // the API's; "" needs none
	lifetime    time.Duration
	refuse      *OAuthError // answer every token request with this

	mu       sync.Mutex
	tokens   map[string]fakeToken
	jtis     map[string]bool
	issued   int
	apiCalls int
	proofs   []string // every DPoP proof the API accepted
}

type fakeToken struct {
	typ     string
	jkt     string // thumbprint of the proof key, DPoP only
	expires time.Time
}

func newFakeAS(t *testing.T, clientKey crypto.PublicKey) *fakeAS {
	f := &fakeAS{t: t, clientKey: clientKey, lifetime: time.Hour, tokens: map[string]fakeToken{}, jtis: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAS) tokenURL() string { return f.srv.URL + "/oauth2/v1/token" }

func oauthErr(w http.ResponseWriter, status int, code, desc string, h ...string) {
	for i := 0; i+1 < len(h); i += 2 {
		w.Header().Set(h[i], h[i+1])
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (f *fakeAS) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/oauth2/v1/token":
		f.token(w, r)
	case "/items":
		f.api(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeAS) token(w http.ResponseWriter, r *http.Request) {
	if f.refuse != nil {
		oauthErr(w, f.refuse.Status, f.refuse.Code, f.refuse.Description)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_assertion_type") != assertionType {
		oauthErr(w, 400, "invalid_request", "bad form")
		return
	}
	tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	var claims jwt.Claims
	if err == nil {
		err = tok.Claims(f.clientKey, &claims)
	}
	if err == nil {
		err = claims.ValidateWithLeeway(jwt.Expected{Issuer: "client-1", Subject: "client-1", AnyAudience: jwt.Audience{f.tokenURL()}, Time: time.Now()}, time.Minute)
	}
	if err == nil && (claims.ID == "" || f.jtis[claims.ID]) {
		err = errors.New("jti missing or replayed")
	}
	if err != nil {
		oauthErr(w, 401, "invalid_client", "The client_assertion is invalid: "+err.Error())
		return
	}
	f.jtis[claims.ID] = true
	typ, jkt := "Bearer", ""
	if p := r.Header.Get("DPoP"); p != "" {
		var c map[string]any
		var err error
		if jkt, c, err = f.checkProof(p, "POST", f.tokenURL(), ""); err != nil {
			oauthErr(w, 400, "invalid_dpop_proof", err.Error())
			return
		}
		if f.nonce != "" && c["nonce"] != f.nonce {
			oauthErr(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.", "DPoP-Nonce", f.nonce)
			return
		}
		typ = "DPoP"
	} else if f.requireDPoP {
		oauthErr(w, 400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
		return
	}
	f.issued++
	value := fmt.Sprintf("tok-%d-%s", f.issued, randomID())
	f.tokens[value] = fakeToken{typ: typ, jkt: jkt, expires: time.Now().Add(f.lifetime)}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token_type": typ, "access_token": value,
		"expires_in": int(f.lifetime.Seconds()), "scope": r.PostForm.Get("scope")})
}

// checkProof verifies a DPoP proof and returns its key's thumbprint.
func (f *fakeAS) checkProof(p, method, htu, token string) (string, map[string]any, error) {
	js, err := jose.ParseSigned(p, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return "", nil, err
	}
	h := js.Signatures[0].Header
	if h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return "", nil, errors.New("bad proof header")
	}
	payload, err := js.Verify(h.JSONWebKey)
	if err != nil {
		return "", nil, err
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", nil, err
	}
	if c["htm"] != method || c["htu"] != htu || c["jti"] == nil || f.jtis[c["jti"].(string)] {
		return "", nil, fmt.Errorf("bad proof claims %v", c)
	}
	f.jtis[c["jti"].(string)] = true
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		if c["ath"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return "", nil, errors.New("bad ath")
		}
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	return string(tp), c, err
}

func (f *fakeAS) api(w http.ResponseWriter, r *http.Request) {
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok, ok := f.tokens[value]
	if !ok || time.Now().After(tok.expires) || !strings.EqualFold(scheme, tok.typ) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid."`)
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided: %s"}`, value)
		return
	}
	if tok.typ == "DPoP" {
		jkt, c, err := f.checkProof(r.Header.Get("DPoP"), r.Method, f.srv.URL+"/items", value)
		if err != nil || jkt != tok.jkt {
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
			w.WriteHeader(401)
			return
		}
		if f.apiNonce != "" && c["nonce"] != f.apiNonce {
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof."`)
			w.Header().Set("DPoP-Nonce", f.apiNonce)
			w.WriteHeader(401)
			return
		}
		f.proofs = append(f.proofs, r.Header.Get("DPoP"))
	}
	f.apiCalls++
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `[{"id":"1"}]`)
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// oauthClient builds a client of f's API authenticated as client-1.
func oauthClient(t *testing.T, f *fakeAS, key crypto.Signer, mode DPoPMode) (*Client, *OAuth) {
	t.Helper()
	a, err := OAuthClientCredentials(OAuthConfig{TokenURL: f.tokenURL(), ClientID: "client-1", Key: key,
		Scopes: []string{"items.read"}, DPoP: mode,
		Advice: func(e *OAuthError) string { return "advice for " + e.Code }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: f.srv.URL, Auth: a, RetryBase: time.Millisecond, RetryMax: time.Millisecond,
		Errors: ErrorBody{Code: "errorCode", Summary: "errorSummary"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

func getItems(t *testing.T, c *Client) error {
	t.Helper()
	_, err := c.Get(context.Background(), "items", "", c.cfg.BaseURL+"/items")
	return err
}

func TestOAuthBearer(t *testing.T) {
	for _, key := range []crypto.Signer{rsaKey(t), func() crypto.Signer {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return k
	}()} {
		f := newFakeAS(t, key.Public())
		c, a := oauthClient(t, f, key, DPoPAuto)
		for range 3 {
			if err := getItems(t, c); err != nil {
				t.Fatalf("%T key: %v", key, err)
			}
		}
		if f.issued != 1 || a.TokenRequests() != 1 || f.apiCalls != 3 {
			t.Errorf("%T key: %d tokens issued in %d requests for %d calls; want one token for all", key, f.issued, a.TokenRequests(), f.apiCalls)
		}
		if g, err := a.Granted(context.Background()); err != nil || strings.Join(g, " ") != "items.read" {
			t.Errorf("granted %v, %v", g, err)
		}
	}
}

// TestOAuthDPoP: an app that requires DPoP gets a proof after the first
// refusal (auto), the token endpoint's nonce, and the API's nonce; every
// API request carries a fresh proof.
func TestOAuthDPoP(t *testing.T) {
	key := rsaKey(t)
	f := newFakeAS(t, key.Public())
	f.requireDPoP, f.nonce, f.apiNonce = true, "n-token", "n-api"
	c, a := oauthClient(t, f, key, DPoPAuto)
	for range 3 {
		if err := getItems(t, c); err != nil {
			t.Fatal(err)
		}
	}
	// no proof -> invalid_dpop_proof; proof without nonce -> use_dpop_nonce; then the token.
	if a.TokenRequests() != 3 || f.issued != 1 {
		t.Errorf("%d token requests, %d issued; want 3 and 1", a.TokenRequests(), f.issued)
	}
	if len(f.proofs) != 3 || f.proofs[0] == f.proofs[1] {
		t.Errorf("the API accepted %d proofs; want a fresh one for each of 3 calls", len(f.proofs))
	}

	f2 := newFakeAS(t, key.Public())
	f2.requireDPoP = true
	c2, _ := oauthClient(t, f2, key, DPoPOff)
	err := getItems(t, c2)
	var oe *OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_dpop_proof" || !errors.Is(err, ErrFatal) || !strings.Contains(err.Error(), "advice for invalid_dpop_proof") {
		t.Errorf("dpop off against an app that requires it: %v", err)
	}
}

// TestOAuthRenewal: a token is renewed before it expires, and once more
// when the API refuses it early (401).
func TestOAuthRenewal(t *testing.T) {
	key := rsaKey(t)
	f := newFakeAS(t, key.Public())
	f.lifetime = 2 * time.Second // renewed 0.4 s before
	c, a := oauthClient(t, f, key, DPoPAuto)
	if err := getItems(t, c); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1700 * time.Millisecond)
	if err := getItems(t, c); err != nil {
		t.Fatal(err)
	}
	if f.issued != 2 {
		t.Errorf("%d tokens issued; want the first renewed before it expired", f.issued)
	}
	f.mu.Lock()
	clear(f.tokens) // revoked
	f.mu.Unlock()
	if err := getItems(t, c); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if f.issued != 3 || a.TokenRequests() != 3 {
		t.Errorf("%d tokens issued after a revocation; want a third", f.issued)
	}
}

// TestOAuthRefusals: each token-endpoint refusal is fatal, names its code
// and description and the advice, and quotes no secret.
func TestOAuthRefusals(t *testing.T) {
	key := rsaKey(t)
	for _, code := range []string{"invalid_client", "invalid_scope", "unauthorized_client"} {
		f := newFakeAS(t, key.Public())
		f.refuse = &OAuthError{Status: 400, Code: code, Description: "no " + code}
		c, _ := oauthClient(t, f, key, DPoPAuto)
		err := getItems(t, c)
		if !errors.Is(err, ErrFatal) || !strings.Contains(err.Error(), "HTTP 400 "+code+": no "+code+" (advice for "+code+")") {
			t.Errorf("%s: %v", code, err)
		}
	}
	// The wrong key: the server cannot verify the assertion.
	f := newFakeAS(t, rsaKey(t).Public())
	c, _ := oauthClient(t, f, key, DPoPAuto)
	if err := getItems(t, c); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong key: %v", err)
	}
}

// TestOAuthSecretsRedacted: a token the API quotes back never reaches an
// error.
func TestOAuthSecretsRedacted(t *testing.T) {
	key := rsaKey(t)
	f := newFakeAS(t, key.Public())
	c, a := oauthClient(t, f, key, DPoPAuto)
	if err := getItems(t, c); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.lifetime = -time.Hour // every new token is expired: the API quotes it in its 401
	clear(f.tokens)
	f.mu.Unlock()
	err := getItems(t, c)
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "Invalid token provided: REDACTED") {
		t.Errorf("the error does not show the redacted summary: %v", err)
	}
	for _, s := range a.Secrets() {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error quotes an access token: %v", err)
		}
	}
	if fmt.Sprint(a) != "oauth client credentials (client client-1, dpop auto): REDACTED" {
		t.Errorf("String: %s", a)
	}
}

func TestParsePrivateKey(t *testing.T) {
	rk := rsaKey(t)
	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rk)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: ek, KeyID: "k1"})
	pub, _ := json.Marshal(jose.JSONWebKey{Key: ek.Public(), KeyID: "k1"})
	for _, c := range []struct {
		name, data, kid, err string
	}{
		{"pkcs8", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})), "", ""},
		{"pkcs1", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})), "", ""},
		{"sec1", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})), "", ""},
		{"jwk", string(jwk), "k1", ""},
		{"public jwk", string(pub), "", "no private key"},
		{"certificate", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})), "", `type "CERTIFICATE"`},
		{"garbage", "secret-looking-garbage", "", "neither PEM nor a JWK"},
	} {
		k, kid, err := ParsePrivateKey([]byte(c.data))
		switch {
		case c.err == "" && (err != nil || k == nil || kid != c.kid):
			t.Errorf("%s: %v, kid %q", c.name, err, kid)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		case err != nil && strings.Contains(err.Error(), "garbage"):
			t.Errorf("%s: the error quotes the input: %v", c.name, err)
		}
	}
}

// TestOAuthChallengeInFlight: requests in flight with a token the API
// refused all retry, and the second refusal keeps the token that replaced
// it.
func TestOAuthChallengeInFlight(t *testing.T) {
	key := rsaKey(t)
	f := newFakeAS(t, key.Public())
	_, a := oauthClient(t, f, key, DPoPAuto)
	old, _, err := a.current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	refused := func() *http.Response {
		req, _ := http.NewRequest("GET", f.srv.URL+"/items", nil)
		req.Header.Set("Authorization", "Bearer "+old.value)
		return &http.Response{StatusCode: 401, Request: req, Header: http.Header{}}
	}
	if retry, err := a.Challenge(refused()); !retry || err != nil {
		t.Fatalf("first refusal: retry %v, %v", retry, err)
	}
	renewed, _, err := a.current(context.Background())
	if err != nil || renewed.value == old.value {
		t.Fatalf("no new token: %v", err)
	}
	if retry, err := a.Challenge(refused()); !retry || err != nil {
		t.Fatalf("second refusal of the old token: retry %v, %v", retry, err)
	}
	if now, _, _ := a.current(context.Background()); now != renewed || a.TokenRequests() != 2 {
		t.Errorf("the second refusal dropped the new token (%d token requests)", a.TokenRequests())
	}
}
