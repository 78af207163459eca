package oktasim

import (
	"bytes"
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
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The org authorization server (okta-api.md §6.2, §6.3): client credentials
// with a private_key_jwt assertion at POST /oauth2/v1/token, access tokens
// that are Bearer or bound to a DPoP key (RFC 9449), and their checks on
// every API request. Everything here runs on the real clock, the one the
// client signs its assertions and proofs with; the org clock is the data's.

const (
	tokenPath        = "/oauth2/v1/token"
	assertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// clockSkew is how far in the future an iat (or nbf, or exp beyond the
	// hour) may lie: the client's clock may run a little ahead.
	clockSkew = time.Minute
	// maxAssertionLife is Okta's bound on an assertion's exp.
	maxAssertionLife = time.Hour
	// proofMaxAge is how old a DPoP proof's iat may be.
	proofMaxAge = 5 * time.Minute
	// Okta renews its DPoP nonce every 24 hours; an old one stays valid 3 days.
	nonceRenewal  = 24 * time.Hour
	nonceValidity = 72 * time.Hour
	// pruneEvery bounds how often the jti and token memories are swept, so
	// a sweep costs amortized O(1) per request.
	pruneEvery = 30 * time.Second
)

// oauthAlgs are the JWS algorithms Okta accepts for client assertions and
// DPoP proofs: asymmetric only.
var oauthAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

const oauthAlgsList = "RS256 RS384 RS512 ES256 ES384 ES512"

// OAuthStats counts the org authorization server's work since New
// (ResetStats leaves them).
type OAuthStats struct {
	// TokensIssued counts access tokens issued.
	TokensIssued int64 `json:"tokensIssued"`
	// TokenRequests counts token endpoint requests by outcome: "issued" or
	// the OAuth error code (invalid_client, use_dpop_nonce, ...).
	TokenRequests map[string]int64 `json:"tokenRequests"`
	// APIAccepted counts API requests let in by an access token, by scheme
	// (Bearer, DPoP).
	APIAccepted map[string]int64 `json:"apiAccepted"`
	// APIRefused counts API requests refused by the OAuth checks, by error:
	// invalid_token, invalid_dpop_proof, use_dpop_nonce, insufficient_scope.
	APIRefused map[string]int64 `json:"apiRefused"`
}

// OAuthStats returns a snapshot of the authorization server's counters.
func (s *Sim) OAuthStats() OAuthStats {
	st := s.oauth
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.stats
	out.TokenRequests = cloneMap(st.stats.TokenRequests)
	out.APIAccepted = cloneMap(st.stats.APIAccepted)
	out.APIRefused = cloneMap(st.stats.APIRefused)
	return out
}

// RevokeTokens invalidates every access token issued so far, as when an
// admin revokes them: the next API call with one answers 401 invalid_token.
func (s *Sim) RevokeTokens() {
	st := s.oauth
	st.mu.Lock()
	st.tokens = map[string]*grant{}
	st.mu.Unlock()
}

// ExpireDPoPNonces replaces the token endpoint's and the API's DPoP nonces
// and forgets the old ones at once (Okta keeps an old nonce 3 days), so a
// test can make a client's nonce stale.
func (s *Sim) ExpireDPoPNonces() {
	st := s.oauth
	st.mu.Lock()
	for i := range st.nonces {
		st.nonces[i] = nonceSet{}
	}
	st.mu.Unlock()
}

type oauthState struct {
	clients map[string]OAuthClient // normalized, read-only
	keys    map[string]any         // client_id -> *rsa.PublicKey or *ecdsa.PublicKey

	mu            sync.Mutex
	tokens        map[string]*grant    // by access token
	assertionJTIs map[string]time.Time // client_id NUL jti -> when it can be forgotten
	proofJTIs     map[string]time.Time // key thumbprint NUL jti -> when it can be forgotten
	lastPrune     time.Time
	nonces        [2]nonceSet // nonceToken, nonceAPI
	stats         OAuthStats
}

const (
	nonceToken = iota
	nonceAPI
)

// grant is what an access token stands for.
type grant struct {
	client  string
	role    string
	scopes  []string
	jkt     string // RFC 7638 SHA-256 thumbprint of the DPoP key; empty for a Bearer token
	expires time.Time
}

func (g *grant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

func newOAuthState(clients map[string]OAuthClient) *oauthState {
	st := &oauthState{clients: clients, keys: map[string]any{},
		tokens: map[string]*grant{}, assertionJTIs: map[string]time.Time{}, proofJTIs: map[string]time.Time{},
		stats: OAuthStats{TokenRequests: map[string]int64{}, APIAccepted: map[string]int64{}, APIRefused: map[string]int64{}}}
	for id, cl := range clients {
		st.keys[id], _ = verificationKey(cl.PublicKey) // checked by normalizeOAuthClients
	}
	return st
}

// prune forgets expired tokens and jti values; st.mu held.
func (st *oauthState) prune(now time.Time) {
	if now.Sub(st.lastPrune) < pruneEvery {
		return
	}
	st.lastPrune = now
	for k, g := range st.tokens {
		if !now.Before(g.expires) {
			delete(st.tokens, k)
		}
	}
	for _, m := range []map[string]time.Time{st.assertionJTIs, st.proofJTIs} {
		for k, until := range m {
			if !now.Before(until) {
				delete(m, k)
			}
		}
	}
}

// useJTI records key as used until until and reports whether it was unused.
func (st *oauthState) useJTI(m map[string]time.Time, key string, until, now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.prune(now)
	if u, seen := m[key]; seen && now.Before(u) {
		return false
	}
	m[key] = until
	return true
}

// nonceSet is one server's DPoP nonce: renewed every 24 hours, the old
// values accepted for 3 days after they were first handed out.
type nonceSet struct {
	cur   string
	since time.Time
	old   []oldNonce
}

type oldNonce struct {
	v     string
	until time.Time
}

// current returns the nonce to hand out; st.mu held.
func (n *nonceSet) current(now time.Time) string {
	if n.cur == "" || now.Sub(n.since) >= nonceRenewal {
		if n.cur != "" {
			n.old = append(n.old, oldNonce{n.cur, n.since.Add(nonceValidity)})
		}
		n.old = slices.DeleteFunc(n.old, func(o oldNonce) bool { return !now.Before(o.until) })
		n.cur, n.since = randomToken(), now
	}
	return n.cur
}

// valid reports whether v is an acceptable nonce; st.mu held.
func (n *nonceSet) valid(v string, now time.Time) bool {
	if v == "" {
		return false
	}
	if v == n.current(now) {
		return true
	}
	for _, o := range n.old {
		if o.v == v && now.Before(o.until) {
			return true
		}
	}
	return false
}

// checkNonce reports whether v is one of server i's nonces, and the current one.
func (st *oauthState) checkNonce(i int, v string, now time.Time) (bool, string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.nonces[i].valid(v, now), st.nonces[i].current(now)
}

func (st *oauthState) countToken(outcome string) {
	st.mu.Lock()
	st.stats.TokenRequests[outcome]++
	st.mu.Unlock()
}

func (st *oauthState) countAPI(m map[string]int64, key string) {
	st.mu.Lock()
	m[key]++
	st.mu.Unlock()
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ---- Token endpoint ----

// oauthError is an OAuth error answer of the token endpoint (RFC 6749 §5.2).
type oauthError struct {
	status int
	code   string
	desc   string
	nonce  string // DPoP-Nonce header for use_dpop_nonce
}

func invalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc}
}

func badRequest(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, desc: desc}
}

type tokenResponse struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

// serveToken answers POST /oauth2/v1/token. It is outside the API's
// request counter, faults and rate-limit buckets.
func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	st := s.oauth
	h := w.Header()
	h.Set("Date", s.WireNow().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	res, oe := st.token(r, time.Now())
	if oe != nil {
		st.countToken(oe.code)
		if oe.nonce != "" {
			h.Set("DPoP-Nonce", oe.nonce)
		}
		if oe.status == http.StatusMethodNotAllowed {
			h.Set("Allow", http.MethodPost)
		}
		writeJSONStatus(w, oe.status, map[string]string{"error": oe.code, "error_description": oe.desc})
		return
	}
	st.countToken("issued")
	writeJSONStatus(w, http.StatusOK, res)
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v) // strings and numbers only
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// token checks a token request in the order Okta's answers imply: the
// request's shape, the client's assertion, the DPoP proof, then the scopes.
func (st *oauthState) token(r *http.Request, now time.Time) (*tokenResponse, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "The token endpoint accepts only POST."}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, badRequest("invalid_request", "The request body must be application/x-www-form-urlencoded.")
	}
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("invalid_request", "The request body could not be read as a form.")
	}
	form := r.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return nil, badRequest("invalid_request", "The '"+k+"' parameter was given more than once.")
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case "":
		return nil, badRequest("invalid_request", "The 'grant_type' parameter is required.")
	case "client_credentials":
	default:
		return nil, badRequest("unsupported_grant_type", "The authorization server does not support the grant type "+strconv.Quote(gt)+"; this client may use client_credentials.")
	}
	ca, cat := form.Get("client_assertion"), form.Get("client_assertion_type")
	if ca == "" || cat == "" {
		return nil, badRequest("invalid_request", "The 'client_assertion' and 'client_assertion_type' parameters are required (private_key_jwt client authentication).")
	}
	if cat != assertionTypeJWT {
		return nil, badRequest("invalid_request", "The 'client_assertion_type' parameter must be "+assertionTypeJWT+".")
	}
	id, oe := st.authenticateClient(form.Get("client_id"), ca, requestBase(r)+tokenPath, now)
	if oe != nil {
		return nil, oe
	}
	cl := st.clients[id]

	// A proof binds the token whether or not the app requires DPoP; the
	// token endpoint always wants its nonce.
	var jkt string
	if len(r.Header.Values("DPoP")) > 0 || cl.RequireDPoP {
		p, desc := st.checkProof(r, now, "")
		if desc != "" {
			return nil, badRequest("invalid_dpop_proof", desc)
		}
		if ok, cur := st.checkNonce(nonceToken, p.nonce, now); !ok {
			e := badRequest("use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
			e.nonce = cur
			return nil, e
		}
		jkt = p.jkt
	}

	var asked, refused []string
	for _, sc := range strings.Fields(form.Get("scope")) {
		switch {
		case slices.Contains(asked, sc):
		case slices.Contains(cl.Scopes, sc):
			asked = append(asked, sc)
		case !slices.Contains(refused, sc):
			refused = append(refused, sc)
		}
	}
	if len(refused) > 0 {
		return nil, badRequest("invalid_scope", "The authorization server does not allow the requested scope: "+strings.Join(refused, " "))
	}
	if len(asked) == 0 {
		return nil, badRequest("invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
	}

	g := &grant{client: id, role: cl.Role, scopes: asked, jkt: jkt, expires: now.Add(cl.TokenLifetime)}
	tok := randomToken()
	st.mu.Lock()
	st.prune(now)
	st.tokens[tok] = g
	st.stats.TokensIssued++
	st.mu.Unlock()
	res := &tokenResponse{TokenType: "Bearer", ExpiresIn: int64((cl.TokenLifetime + time.Second - 1) / time.Second),
		AccessToken: tok, Scope: strings.Join(asked, " ")}
	if jkt != "" {
		res.TokenType = "DPoP"
	}
	return res, nil
}

// authenticateClient checks a private_key_jwt assertion (RFC 7523) and
// returns the client_id. Descriptions name the failed check, never the
// assertion.
func (st *oauthState) authenticateClient(clientID, assertion, aud string, now time.Time) (string, *oauthError) {
	tok, err := jwt.ParseSigned(assertion, oauthAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return "", invalidClient("The client_assertion is not a JWS signed with one of " + oauthAlgsList + ".")
	}
	if clientID == "" {
		// The client is named by the assertion's issuer; its signature is
		// checked below with that client's key.
		var unverified jwt.Claims
		if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
			return "", invalidClient("The client_assertion claims are malformed.")
		}
		clientID = unverified.Issuer
	}
	cl, ok := st.clients[clientID]
	if !ok {
		return "", invalidClient("Invalid value for 'client_id' parameter.")
	}
	if cl.KeyID != "" && tok.Headers[0].KeyID != cl.KeyID {
		return "", invalidClient("The client_assertion 'kid' header does not name a key registered for the client.")
	}
	var c jwt.Claims
	if err := tok.Claims(st.keys[clientID], &c); err != nil {
		return "", invalidClient("The client_assertion signature is invalid.")
	}
	switch {
	case c.Issuer != clientID || c.Subject != clientID:
		return "", invalidClient("The 'iss' and 'sub' claims of the client_assertion must both be the client_id.")
	case !c.Audience.Contains(aud):
		return "", invalidClient("The audience claim for client_assertion must be the endpoint invoked for the request.")
	case c.Expiry == nil:
		return "", invalidClient("The client_assertion token has no 'exp' claim.")
	case !c.Expiry.Time().After(now):
		return "", invalidClient("The client_assertion token is expired.")
	case c.Expiry.Time().After(now.Add(maxAssertionLife + clockSkew)):
		return "", invalidClient("The client_assertion token has an expiration too far in the future (at most one hour).")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(clockSkew)):
		return "", invalidClient("The client_assertion token was issued in the future.")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(clockSkew)):
		return "", invalidClient("The client_assertion token is not valid yet.")
	case c.ID == "":
		return "", invalidClient("The client_assertion token has no 'jti' claim.")
	}
	// Consumed here, even if the request fails later: clients sign a new
	// assertion for every attempt (the Okta SDK does).
	if !st.useJTI(st.assertionJTIs, clientID+"\x00"+c.ID, c.Expiry.Time(), now) {
		return "", invalidClient("The client_assertion token has already been used: its 'jti' was seen before.")
	}
	return clientID, nil
}

// ---- DPoP proofs (RFC 9449 §4.3) ----

type proofInfo struct {
	jkt   string // the proof key's RFC 7638 thumbprint, base64url
	nonce string
}

type proofClaims struct {
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	Nonce string `json:"nonce"`
	ATH   string `json:"ath"`
}

// checkProof checks the request's DPoP proof; with a token (at the API) its
// ath too. It returns a description of the first failed check, or "". The
// nonce is left to the caller, whose answer differs.
func (st *oauthState) checkProof(r *http.Request, now time.Time, token string) (proofInfo, string) {
	vals := r.Header.Values("DPoP")
	switch len(vals) {
	case 0:
		return proofInfo{}, "The DPoP proof JWT header is missing."
	case 1:
	default:
		return proofInfo{}, "The request carries more than one DPoP header."
	}
	tok, err := jwt.ParseSigned(vals[0], oauthAlgs)
	if err != nil || len(tok.Headers) != 1 {
		// go-jose also refuses here an embedded jwk that is not a public key.
		return proofInfo{}, "The DPoP proof JWT is malformed, is not signed with one of " + oauthAlgsList + ", or its 'jwk' is not a public key."
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "dpop+jwt") {
		return proofInfo{}, "The DPoP proof JWT 'typ' header must be dpop+jwt."
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return proofInfo{}, "The DPoP proof JWT 'jwk' header must hold a public key."
	}
	var std jwt.Claims
	var pc proofClaims
	if err := tok.Claims(h.JSONWebKey.Key, &std, &pc); err != nil {
		return proofInfo{}, "The DPoP proof JWT signature is invalid."
	}
	switch {
	case pc.HTM != r.Method:
		return proofInfo{}, "The DPoP proof JWT 'htm' claim does not match the request method."
	case !sameHTU(pc.HTU, r):
		return proofInfo{}, "The DPoP proof JWT 'htu' claim does not match the request URL."
	case std.IssuedAt == nil:
		return proofInfo{}, "The DPoP proof JWT has no 'iat' claim."
	case std.IssuedAt.Time().After(now.Add(clockSkew)) || std.IssuedAt.Time().Before(now.Add(-proofMaxAge)):
		return proofInfo{}, "The DPoP proof JWT 'iat' claim is too old or in the future."
	case std.ID == "":
		return proofInfo{}, "The DPoP proof JWT has no 'jti' claim."
	}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		if pc.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return proofInfo{}, "The DPoP proof JWT 'ath' claim does not match the access token."
		}
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return proofInfo{}, "The DPoP proof JWT 'jwk' header holds an unsupported key."
	}
	jkt := base64.RawURLEncoding.EncodeToString(tp)
	if !st.useJTI(st.proofJTIs, jkt+"\x00"+std.ID, std.IssuedAt.Time().Add(proofMaxAge), now) {
		return proofInfo{}, "The DPoP proof JWT 'jti' was already used."
	}
	return proofInfo{jkt: jkt, nonce: pc.Nonce}, ""
}

// sameHTU reports whether htu names the URL r was sent to, ignoring query
// and fragment, after scheme-based normalization (case, default port).
func sameHTU(htu string, r *http.Request) bool {
	u, err := url.Parse(htu)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := func(p string) string {
		if p == "" {
			return "/"
		}
		return p
	}
	return strings.EqualFold(u.Scheme, scheme) &&
		normHost(u.Host, scheme) == normHost(r.Host, scheme) &&
		path(u.EscapedPath()) == path(r.URL.EscapedPath())
}

func normHost(host, scheme string) string {
	host = strings.ToLower(host)
	if scheme == "https" {
		return strings.TrimSuffix(host, ":443")
	}
	return strings.TrimSuffix(host, ":80")
}

// ---- API requests ----

// authenticateOAuth lets in an API request that carries an access token:
// "Bearer <token>", or "DPoP <token>" with a proof of the token's key. A
// refusal sets WWW-Authenticate as Okta does and answers 401 E0000011.
func (s *Sim) authenticateOAuth(c *reqCtx, dpop bool, token string) *apiError {
	st := s.oauth
	now := time.Now()
	scheme := "Bearer"
	if dpop {
		scheme = "DPoP"
	}
	refuse := func(code, desc string) *apiError {
		st.countAPI(st.stats.APIRefused, code)
		c.w.Header().Set("WWW-Authenticate", s.challenge(c, scheme, routeScope(c.route), code, desc))
		return errUnauthorized
	}
	st.mu.Lock()
	g := st.tokens[token]
	st.mu.Unlock()
	// A token presented under the other scheme is as good as unknown.
	if g == nil || !now.Before(g.expires) || (g.jkt != "") != dpop {
		return refuse("invalid_token", "The access token is invalid.")
	}
	if dpop {
		p, desc := st.checkProof(c.r, now, token)
		if desc == "" && p.jkt != g.jkt {
			desc = "The DPoP proof JWT key is not the key the access token is bound to."
		}
		if desc != "" {
			return refuse("invalid_dpop_proof", desc)
		}
		if s.cfg.DPoPNonceOnAPI {
			if ok, cur := st.checkNonce(nonceAPI, p.nonce, now); !ok {
				c.w.Header().Set("DPoP-Nonce", cur)
				return refuse("use_dpop_nonce", "Resource server requires nonce in DPoP proof.")
			}
		}
	}
	st.countAPI(st.stats.APIAccepted, scheme)
	c.role, c.grant, c.scheme = g.role, g, scheme
	return nil
}

// checkScope answers 403 E0000006 with an insufficient_scope challenge when
// an access token lacks the scope the route's table needs.
func (s *Sim) checkScope(c *reqCtx) *apiError {
	need := routeScope(c.route)
	if c.grant == nil || need == "" || c.grant.has(need) {
		return nil
	}
	st := s.oauth
	st.countAPI(st.stats.APIRefused, "insufficient_scope")
	c.w.Header().Set("WWW-Authenticate", s.challenge(c, c.scheme, need, "insufficient_scope",
		"The access token provided does not contain the required scopes."))
	return errForbidden
}

// routeScope is the OAuth scope a route needs: its table's, or its own.
func routeScope(rt *route) string {
	if rt == nil {
		return ""
	}
	if rt.table != "" {
		return TableScopes[rt.table]
	}
	return rt.scope
}

// challenge renders a WWW-Authenticate value in the shape Okta sends
// (okta-api.md §5: algs for DPoP, authorization_uri, realm, scope, error,
// error_description, resource).
func (s *Sim) challenge(c *reqCtx, scheme, scope, code, desc string) string {
	base := requestBase(c.r)
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString(" ")
	if scheme == "DPoP" {
		b.WriteString(`algs="` + oauthAlgsList + `", `)
	}
	b.WriteString(`authorization_uri="` + base + `/oauth2/v1/authorize", realm="` + base + `", `)
	if scope != "" {
		b.WriteString(`scope="` + scope + `", `)
	}
	b.WriteString(`error="` + code + `", error_description="` + desc + `", resource="` + c.r.URL.EscapedPath() + `"`)
	return b.String()
}

// ---- Keys ----

// verificationKey returns the crypto public key of a registered client's
// PublicKey, or why it cannot verify assertions.
func verificationKey(key any) (any, error) {
	switch k := key.(type) {
	case nil:
		return nil, errors.New("no public key")
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return nil, errors.New("an empty RSA public key")
		}
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("an RSA key of %d bits; Okta requires at least 2048", k.N.BitLen())
		}
		return k, nil
	case *ecdsa.PublicKey:
		if k == nil || (k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521()) {
			return nil, errors.New("an EC key not on P-256, P-384 or P-521")
		}
		return k, nil
	case jose.JSONWebKey:
		return verificationKey(k.Key)
	case *jose.JSONWebKey:
		if k == nil {
			return nil, errors.New("no public key")
		}
		return verificationKey(k.Key)
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return nil, errors.New("a private key; register its public key")
	}
	return nil, fmt.Errorf("a %T key; want an RSA or EC public key", key)
}

// LoadPublicKeyFile reads a client's public key (see ParsePublicKey).
func LoadPublicKeyFile(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// ParsePublicKey reads a public key from PEM ("PUBLIC KEY", PKIX, or "RSA
// PUBLIC KEY", PKCS #1) or from a JWK (JSON; a JWK set holding one key is
// accepted too, as the Admin Console exports). It returns an *rsa.PublicKey,
// an *ecdsa.PublicKey or a jose.JSONWebKey. Its errors never quote the input.
func ParsePublicKey(data []byte) (any, error) {
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("{")) {
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if json.Unmarshal(data, &set) == nil && set.Keys != nil {
			if len(set.Keys) != 1 {
				return nil, fmt.Errorf("a JWK set of %d keys; want exactly one", len(set.Keys))
			}
			data = set.Keys[0]
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(data); err != nil {
			return nil, errors.New("not a valid JWK")
		}
		if !k.IsPublic() {
			return nil, errors.New("the JWK holds a private key; give its public part")
		}
		if _, err := verificationKey(k); err != nil {
			return nil, err
		}
		return k, nil
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("neither PEM nor JWK")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("a private key (PEM %s); give the public key (openssl pkey -in KEY -pubout)", block.Type)
	default:
		return nil, fmt.Errorf("a PEM block of type %q; want PUBLIC KEY or RSA PUBLIC KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("bad PEM %s: %w", block.Type, err)
	}
	if _, err := verificationKey(key); err != nil {
		return nil, err
	}
	return key, nil
}
