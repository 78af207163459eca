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
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DPoPMode says when an OAuthClientCredentials authenticator binds its
// tokens to a key with DPoP (RFC 9449).
type DPoPMode int

const (
	// DPoPAuto asks for a plain Bearer token and switches to DPoP for the
	// rest of the run when the token endpoint answers invalid_dpop_proof, as
	// an app that requires DPoP makes it; Okta's SDKs do the same.
	DPoPAuto DPoPMode = iota
	// DPoPOn sends a proof from the first token request on.
	DPoPOn
	// DPoPOff never sends one; an app that requires DPoP then fails.
	DPoPOff
)

func (m DPoPMode) String() string {
	switch m {
	case DPoPOn:
		return "on"
	case DPoPOff:
		return "off"
	}
	return "auto"
}

// OAuthConfig configures OAuthClientCredentials.
type OAuthConfig struct {
	// TokenURL is the authorization server's token endpoint; it must have
	// the API's origin, or be https.
	TokenURL string
	ClientID string
	// Key signs the client assertion (private_key_jwt, RFC 7523): an
	// *rsa.PrivateKey (RS256) or an *ecdsa.PrivateKey (ES256, ES384, ES512
	// by curve). ParsePrivateKey reads one from PEM or a JWK.
	Key crypto.Signer
	// KeyID is the assertion's kid header; needed when the app has
	// several keys.
	KeyID  string
	Scopes []string
	DPoP   DPoPMode
	// DPoPKey binds tokens; nil makes a P-256 key for the run, which is
	// what a client without a registered DPoP key does.
	DPoPKey crypto.Signer
	// HTTPClient sends token requests (the API's CA and proxy); nil: a
	// client of its own. Redirects are refused either way.
	HTTPClient *http.Client
	// Advice, when set, returns what to change, in the API's own terms (its
	// admin console), for a token-endpoint error; it goes into the error.
	Advice func(e *OAuthError) string
	// Now is the clock of assertions, proofs and expiry; default time.Now.
	Now func() time.Time
}

// OAuthError is a token endpoint's refusal (RFC 6749 section 5.2). It is
// joined with ErrFatal: no request can succeed until the app or the
// config changes.
type OAuthError struct {
	Status      int
	Code        string // invalid_client, invalid_scope, unauthorized_client, ...
	Description string
	Advice      string
}

func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("token endpoint: HTTP %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Advice != "" {
		msg += " (" + e.Advice + ")"
	}
	return msg
}

// OAuthClientCredentials returns an Authenticator that gets access tokens
// with the client credentials grant (RFC 6749 section 4.4) and a signed
// client assertion, keeps each until shortly before it expires, renews it
// once when the API answers 401, and sends it as a Bearer token or, bound
// with DPoP, with a fresh proof per request, following the server's DPoP
// nonces at the token endpoint and at the API.
func OAuthClientCredentials(cfg OAuthConfig) (*OAuth, error) {
	a := &OAuth{cfg: cfg, dpop: cfg.DPoP == DPoPOn}
	if a.cfg.Now == nil {
		a.cfg.Now = time.Now
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	alg, err := signingAlg(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("oauth private key: %w", err)
	}
	a.assertion, err = jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: cfg.Key, KeyID: cfg.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("oauth private key: %w", err)
	}
	dk := cfg.DPoPKey
	if dk == nil {
		if dk, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, fmt.Errorf("dpop key: %w", err)
		}
	}
	dalg, err := signingAlg(dk)
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	a.proof, err = jose.NewSigner(jose.SigningKey{Algorithm: dalg, Key: dk},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	a.hc = http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		a.hc = *cfg.HTTPClient
	}
	a.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return a, nil
}

// OAuth is the authenticator OAuthClientCredentials returns.
type OAuth struct {
	cfg       OAuthConfig
	assertion jose.Signer
	proof     jose.Signer
	hc        http.Client

	mu         sync.Mutex
	dpop       bool // proofs are sent
	token      *accessToken
	issued     []string // every access token of the run, for Secrets
	tokenNonce string   // the token endpoint's DPoP nonce
	apiNonce   string   // the API's
	requests   int
}

type accessToken struct {
	value   string
	typ     string // Bearer or DPoP
	scopes  []string
	expires time.Time
	renewAt time.Time
}

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Validate checks the configuration without a request.
func (a *OAuth) Validate() error {
	u, err := url.Parse(a.cfg.TokenURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("oauth token URL %q is not an absolute http(s) URL", a.cfg.TokenURL)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("oauth token URL %q: plain http is accepted only for loopback hosts", a.cfg.TokenURL)
	case a.cfg.ClientID == "":
		return errors.New("oauth: no client id")
	case a.cfg.Key == nil:
		return errors.New("oauth: no private key")
	case len(a.cfg.Scopes) == 0:
		return errors.New("oauth: no scope to ask for")
	}
	return nil
}

// Authenticate sets the access token, and a DPoP proof for a bound one.
func (a *OAuth) Authenticate(req *http.Request) error {
	tok, nonce, err := a.current(req.Context())
	if err != nil {
		return err
	}
	if tok.typ == "DPoP" {
		p, err := a.makeProof(req.Method, req.URL, tok.value, nonce)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "DPoP "+tok.value)
		req.Header.Set("DPoP", p)
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+tok.value)
	return nil
}

// Challenge acts on an API's 401: a DPoP nonce to put in the proof, or a
// token refused before its expiry (revoked, the server restarted), which
// is dropped so that the retry gets a new one. Requests in flight with the
// same token all retry, with the one token that replaces it.
func (a *OAuth) Challenge(resp *http.Response) (bool, error) {
	if resp.StatusCode != http.StatusUnauthorized {
		return false, nil
	}
	ch := parseChallenges(resp.Header.Values("Www-Authenticate"))
	a.mu.Lock()
	defer a.mu.Unlock()
	if strings.EqualFold(ch["error"], "use_dpop_nonce") {
		n := resp.Header.Get("DPoP-Nonce")
		if n == "" || n == a.apiNonce {
			return false, nil
		}
		a.apiNonce = n
		return true, nil
	}
	// Drop the refused token unless another request has replaced it
	// already; either way the retry goes with the current one.
	if resp.Request != nil && a.token != nil {
		_, used, _ := strings.Cut(resp.Request.Header.Get("Authorization"), " ")
		if used == a.token.value {
			a.token = nil
		}
	}
	return true, nil
}

// Secrets are the access tokens of the run.
func (a *OAuth) Secrets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.issued)
}

// Granted returns the scopes of the current token (asking for one if
// there is none), as the token endpoint granted them.
func (a *OAuth) Granted(ctx context.Context) ([]string, error) {
	tok, _, err := a.current(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(tok.scopes), nil
}

// TokenRequests counts the requests made to the token endpoint.
func (a *OAuth) TokenRequests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

func (a *OAuth) String() string {
	return fmt.Sprintf("oauth client credentials (client %s, dpop %s): %s", a.cfg.ClientID, a.cfg.DPoP, redacted)
}

func (a *OAuth) GoString() string { return a.String() }

func (a *OAuth) LogValue() slog.Value { return slog.StringValue(a.String()) }

// current returns a token valid for a while yet, asking for one when
// needed; concurrent callers wait for the one request.
func (a *OAuth) current(ctx context.Context) (*accessToken, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != nil && a.cfg.Now().Before(a.token.renewAt) {
		return a.token, a.apiNonce, nil
	}
	tok, err := a.request(ctx)
	if err != nil {
		return nil, "", err
	}
	a.token = tok
	a.issued = append(a.issued, tok.value)
	return tok, a.apiNonce, nil
}

// request asks the token endpoint for a token, with a.mu held. It follows
// a DPoP nonce and a demand for DPoP once each, and retries a failure of
// the network or the server a few times.
func (a *OAuth) request(ctx context.Context) (*accessToken, error) {
	nonceTried, dpopTried := false, false
	var last error
	for attempt, transient := 0, 0; attempt < 8; attempt++ {
		tok, oerr, err := a.post(ctx)
		switch {
		case err == nil && oerr == nil:
			return tok, nil
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if transient++; transient > 3 {
				return nil, fmt.Errorf("token endpoint: %w", err)
			}
			last = err
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(transient) * 500 * time.Millisecond):
			}
			continue
		case oerr.Code == "use_dpop_nonce" && a.dpop && !nonceTried:
			nonceTried = true
			continue
		case oerr.Code == "invalid_dpop_proof" && !a.dpop && a.cfg.DPoP == DPoPAuto && !dpopTried:
			dpopTried, a.dpop = true, true
			continue
		}
		if a.cfg.Advice != nil {
			oerr.Advice = a.cfg.Advice(oerr)
		}
		return nil, errors.Join(ErrFatal, oerr)
	}
	return nil, fmt.Errorf("token endpoint: no token after several attempts: %v", last)
}

// post makes one token request: err for the network or the server (worth
// a retry), oerr for a refusal.
func (a *OAuth) post(ctx context.Context) (tok *accessToken, oerr *OAuthError, err error) {
	now := a.cfg.Now()
	assertion, err := jwt.Signed(a.assertion).Claims(jwt.Claims{
		Issuer: a.cfg.ClientID, Subject: a.cfg.ClientID, Audience: jwt.Audience{a.cfg.TokenURL},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		ID: randomID(),
	}).Serialize()
	if err != nil {
		return nil, &OAuthError{Code: "client_assertion", Description: "cannot sign the client assertion: " + err.Error()}, nil
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {strings.Join(a.cfg.Scopes, " ")},
		"client_assertion_type": {assertionType},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if a.dpop {
		p, err := a.makeProof(http.MethodPost, req.URL, "", a.tokenNonce)
		if err != nil {
			return nil, &OAuthError{Code: "dpop_proof", Description: err.Error()}, nil
		}
		req.Header.Set("DPoP", p)
	}
	a.requests++
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, nil, redactURLError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		a.tokenNonce = n
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return nil, nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, &OAuthError{Status: resp.StatusCode, Code: e.Error, Description: e.Description}, nil
	}
	var r struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.AccessToken == "" {
		return nil, &OAuthError{Status: resp.StatusCode, Code: "invalid_response", Description: "the answer holds no access_token"}, nil
	}
	if !validHeaderValue(r.AccessToken) {
		return nil, &OAuthError{Status: resp.StatusCode, Code: "invalid_response", Description: "the access token is not a valid header value"}, nil
	}
	tok = &accessToken{value: r.AccessToken, typ: "Bearer", scopes: strings.Fields(r.Scope)}
	if strings.EqualFold(r.TokenType, "DPoP") {
		if !a.dpop {
			return nil, &OAuthError{Status: resp.StatusCode, Code: "invalid_response", Description: "a DPoP token was issued without a proof"}, nil
		}
		tok.typ = "DPoP"
	}
	if len(tok.scopes) == 0 {
		tok.scopes = slices.Clone(a.cfg.Scopes)
	}
	life := time.Duration(r.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	// Renew a fifth of the lifetime early, at most a minute: a request
	// signed just before expiry may arrive after it.
	tok.expires = now.Add(life)
	tok.renewAt = tok.expires.Add(-min(time.Minute, life/5))
	return tok, nil, nil
}

// makeProof signs a DPoP proof for a request (RFC 9449 section 4.2).
func (a *OAuth) makeProof(method string, u *url.URL, token, nonce string) (string, error) {
	htu := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	claims := map[string]any{
		"jti": randomID(),
		"htm": method,
		"htu": htu.String(),
		"iat": a.cfg.Now().Unix(),
	}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	p, err := jwt.Signed(a.proof).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign a DPoP proof: %w", err)
	}
	return p, nil
}

// signingAlg is the JWS algorithm for a key: RS256 for RSA, ES256/384/512
// by curve for ECDSA.
func signingAlg(k crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch key := k.(type) {
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return "", fmt.Errorf("an RSA key of %d bits; use 2048 or more", key.N.BitLen())
		}
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		switch key.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
		return "", errors.New("an EC key on a curve other than P-256, P-384 or P-521")
	case nil:
		return "", errors.New("no key")
	}
	return "", fmt.Errorf("a %T key; use RSA or ECDSA", k)
}

// ParsePrivateKey reads a private key from PEM (PKCS #8, PKCS #1 or SEC 1)
// or from a JWK (JSON). It returns the key and the JWK's kid, if any. Its
// errors never quote the input.
func ParsePrivateKey(data []byte) (crypto.Signer, string, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON([]byte(trimmed)); err != nil {
			return nil, "", errors.New("not a valid JWK")
		}
		s, ok := k.Key.(crypto.Signer)
		if !ok || k.IsPublic() {
			return nil, "", errors.New("the JWK holds no private key")
		}
		if _, err := signingAlg(s); err != nil {
			return nil, "", err
		}
		return s, k.KeyID, nil
	}
	block, _ := pem.Decode([]byte(trimmed))
	if block == nil {
		return nil, "", errors.New("neither PEM nor a JWK")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, "", fmt.Errorf("a PEM block of type %q; want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("PEM %s: cannot parse the key", block.Type)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, "", fmt.Errorf("a %T key cannot sign", key)
	}
	if _, err := signingAlg(s); err != nil {
		return nil, "", err
	}
	return s, "", nil
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// redactURLError keeps a *url.Error's operation and cause but not its URL's
// query (a token endpoint has none; this keeps the habit).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, strings.SplitN(ue.URL, "?", 2)[0], ue.Err)
	}
	return err
}
