package connector

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"oktasync/generated/okta"
	"oktasync/runtime"
	"oktasync/runtime/fetch"
)

// AuthConfig is how oktasync authenticates to the org: an SSWS API token
// (the default) or an OAuth 2.0 service app (README.md, "Authentication").
type AuthConfig struct {
	// Type is ssws (an API token: token, token_env or OKTA_CLIENT_TOKEN) or
	// oauth (client credentials with a private_key_jwt assertion).
	Type     string `yaml:"type"`
	ClientID string `yaml:"client_id"`
	// The private key signing the assertion (PEM or JWK): a file, or the
	// name of a variable holding it; else OKTA_CLIENT_PRIVATEKEY.
	PrivateKeyFile string `yaml:"private_key_file"`
	PrivateKeyEnv  string `yaml:"private_key_env"`
	// KeyID is the key's kid, needed when the app has several keys; a JWK's
	// own kid is used otherwise.
	KeyID string `yaml:"key_id"`
	// Scopes to ask for; default: those of the tables the run reads.
	Scopes []string `yaml:"scopes"`
	// DPoP is auto (default: DPoP when the app requires it), on or off.
	DPoP string `yaml:"dpop"`
	// DPoPKeyFile holds the key proofs are signed with (PEM or JWK);
	// default: a P-256 key made for the run.
	DPoPKeyFile string `yaml:"dpop_key_file"`

	key []byte // the private key, from the variable (ApplyEnv)
}

// Auth types.
const (
	AuthSSWS  = "ssws"
	AuthOAuth = "oauth"
)

// Environment variables of the official Okta SDKs for service apps.
const (
	EnvAuthMode     = "OKTA_CLIENT_AUTHORIZATIONMODE" // PrivateKey selects OAuth
	EnvClientID     = "OKTA_CLIENT_CLIENTID"
	EnvPrivateKey   = "OKTA_CLIENT_PRIVATEKEY"
	EnvPrivateKeyID = "OKTA_CLIENT_PRIVATEKEYID"
	EnvScopes       = "OKTA_CLIENT_SCOPES"
)

// OAuth reports whether the config authenticates as a service app.
func (a *AuthConfig) OAuth() bool { return a.Type == AuthOAuth }

// applyEnv fills the OAuth settings the config leaves empty from the SDK's
// variables and reads a key held in a variable.
func (a *AuthConfig) applyEnv(getenv func(string) string) error {
	if a.Type == "" && strings.EqualFold(getenv(EnvAuthMode), "PrivateKey") {
		a.Type = AuthOAuth
	}
	if !a.OAuth() {
		return nil
	}
	if a.ClientID == "" {
		a.ClientID = getenv(EnvClientID)
	}
	if a.KeyID == "" {
		a.KeyID = getenv(EnvPrivateKeyID)
	}
	if len(a.Scopes) == 0 {
		a.Scopes = splitScopes(getenv(EnvScopes))
	}
	switch {
	case a.PrivateKeyFile != "":
	case a.PrivateKeyEnv != "":
		if !validEnvName(a.PrivateKeyEnv) {
			return errors.New("auth.private_key_env takes the NAME of the variable holding the private key, e.g. OKTASYNC_PRIVATE_KEY (the value is not shown)")
		}
		if a.key = []byte(getenv(a.PrivateKeyEnv)); len(a.key) == 0 {
			return fmt.Errorf("auth.private_key_env: the environment variable %s is unset or empty", a.PrivateKeyEnv)
		}
	default:
		a.key = []byte(getenv(EnvPrivateKey))
	}
	return nil
}

// SetPrivateKey sets the service app's private key (PEM or JWK) from
// somewhere other than a file or the environment (the service's sealed
// credentials).
func (a *AuthConfig) SetPrivateKey(key []byte) {
	a.PrivateKeyFile, a.PrivateKeyEnv, a.key = "", "", key
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// validate lists what is wrong with the auth settings.
func (a *AuthConfig) validate(token string) []error {
	var errs []error
	switch a.Type {
	case "", AuthSSWS:
		if token == "" {
			errs = append(errs, fmt.Errorf("no API token: set %s (or token_env in the config), or use an OAuth service app (auth.type: oauth)", EnvToken))
		}
	case AuthOAuth:
		if a.ClientID == "" {
			errs = append(errs, fmt.Errorf("auth.type oauth: no client_id (auth.client_id or %s)", EnvClientID))
		}
		if a.PrivateKeyFile == "" && len(a.key) == 0 {
			errs = append(errs, fmt.Errorf("auth.type oauth: no private key (auth.private_key_file, auth.private_key_env or %s)", EnvPrivateKey))
		}
		switch a.DPoP {
		case "", "auto", "on", "off":
		default:
			errs = append(errs, fmt.Errorf("auth.dpop is %q; want auto (DPoP when the app requires it), on or off", a.DPoP))
		}
	default:
		errs = append(errs, fmt.Errorf("auth.type %q is not supported; want ssws (an API token) or oauth (a service app)", a.Type))
	}
	return errs
}

// privateKey reads and parses the private key; errors never quote it.
func (a *AuthConfig) privateKey() (key []byte, err error) {
	if a.PrivateKeyFile == "" {
		return a.key, nil
	}
	key, err = os.ReadFile(a.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("auth.private_key_file: %w", err)
	}
	return key, nil
}

func (a *AuthConfig) dpopMode() fetch.DPoPMode {
	switch a.DPoP {
	case "on":
		return fetch.DPoPOn
	case "off":
		return fetch.DPoPOff
	}
	return fetch.DPoPAuto
}

// TableScopes lists the OAuth scopes the tables need: their own and their
// child tables', sorted.
func TableScopes(names []string) []string {
	var out []string
	for _, n := range names {
		t := okta.Registry.Lookup(n)
		if t == nil {
			continue
		}
		var walk func(t *runtime.Table)
		walk = func(t *runtime.Table) {
			if s := t.Permissions.Scope; s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
			for _, c := range t.Children {
				walk(c)
			}
		}
		walk(t)
	}
	slices.Sort(out)
	return out
}

// oauthConfig is the service app's token configuration, asking for scopes.
func (c *Config) oauthConfig(hc *http.Client, scopes []string) (fetch.OAuthConfig, error) {
	pem, err := c.Auth.privateKey()
	if err != nil {
		return fetch.OAuthConfig{}, err
	}
	key, kid, err := fetch.ParsePrivateKey(pem)
	if err != nil {
		return fetch.OAuthConfig{}, fmt.Errorf("the OAuth private key: %w", err)
	}
	if c.Auth.KeyID != "" {
		kid = c.Auth.KeyID
	}
	var dpopKey crypto.Signer
	if f := c.Auth.DPoPKeyFile; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return fetch.OAuthConfig{}, fmt.Errorf("auth.dpop_key_file: %w", err)
		}
		if dpopKey, _, err = fetch.ParsePrivateKey(data); err != nil {
			return fetch.OAuthConfig{}, fmt.Errorf("auth.dpop_key_file %s: %w", f, err)
		}
	}
	return fetch.OAuthConfig{
		DPoPKey:  dpopKey,
		TokenURL: c.OrgURL + okta.Source.OAuthTokenPath, ClientID: c.Auth.ClientID,
		Key: key, KeyID: kid, Scopes: scopes, DPoP: c.Auth.dpopMode(), HTTPClient: hc,
		Advice: oauthAdvice,
	}, nil
}

// oauthAdvice says where in Okta's Admin Console each refusal is fixed.
func oauthAdvice(e *fetch.OAuthError) string {
	const app = "Admin Console > Applications > Applications > the service app"
	switch e.Code {
	case "invalid_client":
		return "check auth.client_id, and that the app's public key matches the private key (" + app +
			" > General > Client Credentials: Public key / Private key, and auth.key_id if it has several keys)"
	case "invalid_scope":
		return "grant the scopes on " + app + " > Okta API Scopes, or leave out the tables that need them (oktasync check lists them)"
	case "unauthorized_client":
		return "the app must allow the Client Credentials grant (" + app + " > General > General Settings > Grant type)"
	case "invalid_dpop_proof", "use_dpop_nonce":
		return "the app requires DPoP (" + app + " > General > Require Demonstrating Proof of Possession): set auth.dpop to auto or on"
	}
	return ""
}

// newOAuth builds the service app's authenticator for scopes. On
// invalid_scope it finds which scopes the app lacks, asking for each alone,
// and names them with the tables that need them.
func (c *Config) newOAuth(ctx context.Context, hc *http.Client, scopes []string) (*fetch.OAuth, error) {
	ocfg, err := c.oauthConfig(hc, scopes)
	if err != nil {
		return nil, err
	}
	a, err := fetch.OAuthClientCredentials(ocfg)
	if err != nil {
		return nil, err
	}
	_, err = a.Granted(ctx)
	if err == nil || !isOAuthCode(err, "invalid_scope") {
		return a, err
	}
	_, missing, gerr := c.grantedScopes(ctx, hc, scopes)
	if gerr != nil || len(missing) == 0 {
		return nil, err
	}
	return nil, errors.Join(fetch.ErrFatal, &MissingScopesError{Missing: missing})
}

// grantedScopes asks for each scope alone, to tell granted from missing.
func (c *Config) grantedScopes(ctx context.Context, hc *http.Client, scopes []string) (granted, missing []string, err error) {
	for _, s := range scopes {
		ocfg, err := c.oauthConfig(hc, []string{s})
		if err != nil {
			return nil, nil, err
		}
		a, err := fetch.OAuthClientCredentials(ocfg)
		if err != nil {
			return nil, nil, err
		}
		_, err = a.Granted(ctx)
		switch {
		case err == nil:
			granted = append(granted, s)
		case isOAuthCode(err, "invalid_scope"):
			missing = append(missing, s)
		default:
			return nil, nil, err
		}
	}
	return granted, missing, nil
}

func isOAuthCode(err error, code string) bool {
	var oe *fetch.OAuthError
	return errors.As(err, &oe) && oe.Code == code
}

// MissingScopesError names the scopes a service app was not granted and the
// tables that need them.
type MissingScopesError struct {
	Missing []string
}

func (e *MissingScopesError) Error() string {
	var parts []string
	for _, s := range e.Missing {
		parts = append(parts, s+" (tables "+strings.Join(scopeTables(s), ", ")+")")
	}
	return "the OAuth app was not granted the scopes " + strings.Join(parts, "; ") +
		": grant them on Admin Console > Applications > Applications > the service app > Okta API Scopes, " +
		"or leave those tables out (block them in the config, or sync --tables)"
}

// scopeTables lists the top-level and fan-out tables whose reading needs
// scope.
func scopeTables(scope string) []string {
	var out []string
	okta.Registry.Walk(func(t *runtime.Table) {
		if t.Permissions.Scope == scope && slices.Contains(okta.Registry.Tables, t) {
			out = append(out, t.Name)
		}
	})
	return out
}

// ProxyConfig sends every request through an HTTP(S) proxy. Without it,
// HTTPS_PROXY and NO_PROXY apply (Go's rules: never for loopback hosts).
type ProxyConfig struct {
	URL      string `yaml:"url"` // http://proxy.corp:3128, or https:// for a TLS proxy
	Username string `yaml:"username"`
	// PasswordEnv names the variable holding the proxy's password.
	PasswordEnv string `yaml:"password_env"`

	password string
}

func (p *ProxyConfig) validate() []error {
	if p.URL == "" {
		if p.Username != "" || p.PasswordEnv != "" {
			return []error{errors.New("proxy: username or password_env without proxy.url")}
		}
		return nil
	}
	u, err := url.Parse(p.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return []error{fmt.Errorf("proxy.url %q is not an http(s) URL (http://proxy.corp:3128)", redactUserinfo(p.URL))}
	case u.User != nil:
		return []error{errors.New("proxy.url holds credentials: give proxy.username, and the password in the variable proxy.password_env names")}
	case p.PasswordEnv != "" && p.password == "":
		return []error{fmt.Errorf("proxy.password_env: the environment variable %s is unset or empty", p.PasswordEnv)}
	}
	return nil
}

// redactUserinfo drops anything before an @ of a URL-like string.
func redactUserinfo(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "REDACTED@" + s[i+1:]
		}
	}
	return s
}

// proxyFunc is the transport's proxy: the configured one, with its
// credentials, or the environment's.
func (p *ProxyConfig) proxyFunc() func(*http.Request) (*url.URL, error) {
	if p.URL == "" {
		return http.ProxyFromEnvironment
	}
	u, _ := url.Parse(p.URL)
	if p.Username != "" {
		u.User = url.UserPassword(p.Username, p.password)
	}
	return http.ProxyURL(u)
}

// httpClient is the client of every request, token requests included:
// the configured CA and proxy; nil when neither is set (fetch's default,
// which follows HTTPS_PROXY).
func (c *Config) httpClient() (*http.Client, error) {
	if c.CAFile == "" && c.Proxy.URL == "" {
		return nil, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = c.Proxy.proxyFunc()
	if c.CAFile != "" {
		pool, err := caPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}
