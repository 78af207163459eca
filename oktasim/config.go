package oktasim

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config describes the simulated org. The same Config always yields the same org
// and byte-identical response bodies.
type Config struct {
	// Seed drives every generated value.
	Seed int64
	// Sizes of the main object families. 0 means a default (Users 200, Groups
	// Users/25+5, Apps 12, Devices Users/2, Logs Users*10, at least 1000); a
	// negative value means none (but for Apps: the two built-in apps every
	// org has stay). Everything else is proportional.
	Users, Groups, Apps, Devices, Logs int
	// LogDays is how many days before Now the initial System Log events span
	// (default 30; the default 7-day `since` window of /api/v1/logs misses some).
	LogDays int

	// Scenarios names the attack stories (see Scenarios and docs/SIMULATOR.md)
	// told in the System Log, each at a time the seed derives inside the log's
	// span, acting on the org's users and leaving the directory as it says.
	// nil or empty: none. "all" stands for every scenario.
	Scenarios []string

	// Now is the org clock at start. Zero means the real clock: time.Now at New,
	// and the org clock then runs with the wire clock (TimeScale applies), as a
	// real org's would. A non-zero Now is a fixed clock (DefaultNow for tests):
	// it moves only through Advance and Churn, never with the wall clock, so
	// payloads are deterministic.
	Now time.Time

	// RateLimits selects whether per-minute and concurrency limits are enforced.
	RateLimits RateLimitMode
	// BucketLimits overrides per-minute limits by bucket name (see Buckets).
	BucketLimits map[string]int
	// TimeScale is how much faster than real time the wire clock (Date header,
	// rate-limit windows, X-Rate-Limit-Reset) runs; 0 means 1. See the package doc.
	TimeScale float64
	// ConcurrencyLimit is the number of in-flight API requests allowed when
	// rate limits are on; 0 means 75 (Okta's Workforce default).
	ConcurrencyLimit int

	// Faults are injected failures; the zero value injects none.
	Faults FaultConfig

	// Tokens maps an SSWS API token to the admin role type it acts with
	// (SUPER_ADMIN, ORG_ADMIN, ...). Empty means {"demo-token": "SUPER_ADMIN"}.
	Tokens map[string]string

	// LinkBaseURL, when set (e.g. "https://acme.okta.example"), is used for every
	// href inside response bodies (including the /iam body next links) instead of
	// the URL the request was sent to, so golden files do not depend on the
	// listening port; clients re-base such links onto their configured URL, as
	// they must for Okta's "-admin" hosts. Link headers always use the URL the
	// client called.
	LinkBaseURL string

	// AllowNonLoopback lets Start listen on non-loopback addresses.
	AllowNonLoopback bool

	// OAuthClients registers OAuth 2.0 service apps by client_id: they get
	// access tokens from POST /oauth2/v1/token (client credentials with a
	// private_key_jwt assertion) and call the API with "Bearer" or, bound to
	// a DPoP key, "DPoP" tokens. See the package doc.
	OAuthClients map[string]OAuthClient
	// DPoPNonceOnAPI makes the API demand the current DPoP nonce in every
	// proof (401 use_dpop_nonce with a DPoP-Nonce header otherwise). Okta's
	// docs say its management API does not currently require one, hence
	// false by default; the token endpoint always does.
	DPoPNonceOnAPI bool
}

// OAuthClient is an OAuth 2.0 service app registered with the org
// authorization server.
type OAuthClient struct {
	// PublicKey verifies the client's assertions: an *rsa.PublicKey (at
	// least 2048 bits, as Okta requires), an *ecdsa.PublicKey (P-256, P-384
	// or P-521), or a go-jose JSONWebKey (or pointer) holding one of them.
	// LoadPublicKeyFile reads one from PEM or JWK.
	PublicKey any
	// KeyID, when set, must equal the assertion's kid header.
	KeyID string
	// Scopes are the okta.* scopes granted to the app; a token request may
	// ask for any subset of them.
	Scopes []string
	// Role is the admin role type the app acts with (default SUPER_ADMIN);
	// it limits what its scopes reach, as a token's role does.
	Role string
	// RequireDPoP makes the token endpoint refuse requests without a DPoP
	// proof. A client that sends a valid proof gets a DPoP-bound token either way.
	RequireDPoP bool
	// TokenLifetime is how long an access token is valid, on the real clock
	// (default one hour, fixed at Okta; tests shorten it).
	TokenLifetime time.Duration
}

// DefaultNow is the fixed org clock of tests, benchmarks and the demo (set it
// as Config.Now); their payloads do not depend on the day they run.
var DefaultNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// RateLimitMode selects rate-limit enforcement.
type RateLimitMode int

const (
	// RateLimitsOff sends X-Rate-Limit headers with Remaining always equal to
	// Limit and never answers 429 (except for injected 429 storms).
	RateLimitsOff RateLimitMode = iota
	// RateLimitsOkta enforces Okta's Workforce per-minute bucket limits and the
	// concurrent-request limit.
	RateLimitsOkta
)

func (m RateLimitMode) String() string {
	if m == RateLimitsOkta {
		return "okta"
	}
	return "off"
}

// ParseRateLimitMode parses "okta" or "off".
func ParseRateLimitMode(s string) (RateLimitMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "okta", "on":
		return RateLimitsOkta, nil
	case "off", "none", "":
		return RateLimitsOff, nil
	}
	return RateLimitsOff, fmt.Errorf("unknown rate-limit mode %q; want okta or off", s)
}

// Known admin role types (Okta's role-type names; "Group Admin" is USER_ADMIN).
const (
	RoleSuperAdmin             = "SUPER_ADMIN"
	RoleOrgAdmin               = "ORG_ADMIN"
	RoleAppAdmin               = "APP_ADMIN"
	RoleUserAdmin              = "USER_ADMIN"
	RoleHelpDeskAdmin          = "HELP_DESK_ADMIN"
	RoleReadOnlyAdmin          = "READ_ONLY_ADMIN"
	RoleMobileAdmin            = "MOBILE_ADMIN"
	RoleAPIAccessMgmtAdmin     = "API_ACCESS_MANAGEMENT_ADMIN"
	RoleReportAdmin            = "REPORT_ADMIN"
	RoleGroupMembershipAdmin   = "GROUP_MEMBERSHIP_ADMIN"
	defaultToken               = "demo-token"
	defaultConcurrency         = 75
	defaultStormLength         = 10
	defaultSlowDelay           = 200 * time.Millisecond
	defaultChurnAdvance        = time.Hour
	defaultLogDays             = 30
	systemLogMaxSinceDays      = 180
	systemLogDefaultWindowDays = 7
	defaultTokenLifetime       = time.Hour
)

// RoleTypes lists the role types a token may carry.
var RoleTypes = []string{RoleSuperAdmin, RoleOrgAdmin, RoleAppAdmin, RoleUserAdmin, RoleHelpDeskAdmin,
	RoleReadOnlyAdmin, RoleMobileAdmin, RoleAPIAccessMgmtAdmin, RoleReportAdmin, RoleGroupMembershipAdmin}

// FaultConfig sets the probability of each injected fault per API request.
// Decisions are a function of the seed and the request counter, so a given
// sequence of requests meets the same faults on every run. /__sim/* is exempt.
type FaultConfig struct {
	Rate500, Rate502, Rate503, Rate504 float64
	// Reset closes the connection without a response.
	Reset float64
	// Truncate declares the full Content-Length, sends half the body and closes.
	Truncate float64
	// Slow delays the response by SlowDelay (default 200ms) of real time.
	Slow      float64
	SlowDelay time.Duration
	// Storm429 starts a run of StormLength (default 10) consecutive 429 responses.
	Storm429    float64
	StormLength int
}

// Enabled reports whether any fault has a non-zero rate.
func (f FaultConfig) Enabled() bool {
	return f.Rate500+f.Rate502+f.Rate503+f.Rate504+f.Reset+f.Truncate+f.Slow+f.Storm429 > 0
}

// ParseFaults parses a spec like "500=0.02,reset=0.01,truncate=0.01,slow=0.01:200ms,429storm=0.005:20".
// Keys: 500, 502, 503, 504, reset, truncate, slow[=rate:delay], 429storm[=rate:length].
func ParseFaults(spec string) (FaultConfig, error) {
	var f FaultConfig
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "off" || spec == "none" {
		return f, nil
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return FaultConfig{}, fmt.Errorf("fault %q: want key=rate", part)
		}
		rateStr, extra, hasExtra := strings.Cut(val, ":")
		rate, err := strconv.ParseFloat(rateStr, 64)
		if err != nil || rate < 0 || rate > 1 {
			return FaultConfig{}, fmt.Errorf("fault %q: rate must be a number in [0,1]", part)
		}
		if hasExtra && key != "slow" && key != "429storm" {
			return FaultConfig{}, fmt.Errorf("fault %q: only slow and 429storm take a :parameter", part)
		}
		switch key {
		case "500":
			f.Rate500 = rate
		case "502":
			f.Rate502 = rate
		case "503":
			f.Rate503 = rate
		case "504":
			f.Rate504 = rate
		case "reset":
			f.Reset = rate
		case "truncate":
			f.Truncate = rate
		case "slow":
			f.Slow = rate
			if hasExtra {
				d, err := time.ParseDuration(extra)
				if err != nil || d < 0 {
					return FaultConfig{}, fmt.Errorf("fault %q: bad delay: %w", part, errOr(err))
				}
				f.SlowDelay = d
			}
		case "429storm":
			f.Storm429 = rate
			if hasExtra {
				n, err := strconv.Atoi(extra)
				if err != nil || n < 1 {
					return FaultConfig{}, fmt.Errorf("fault %q: storm length must be a positive integer", part)
				}
				f.StormLength = n
			}
		default:
			return FaultConfig{}, fmt.Errorf("fault %q: unknown kind %q; want 500, 502, 503, 504, reset, truncate, slow or 429storm", part, key)
		}
	}
	if f.total() > 1 {
		return FaultConfig{}, errors.New("fault rates add up to more than 1")
	}
	return f, nil
}

func errOr(err error) error {
	if err != nil {
		return err
	}
	return errors.New("negative duration")
}

func (f FaultConfig) total() float64 {
	return f.Rate500 + f.Rate502 + f.Rate503 + f.Rate504 + f.Reset + f.Truncate + f.Slow + f.Storm429
}

// String renders f in the ParseFaults syntax.
func (f FaultConfig) String() string {
	var parts []string
	add := func(k string, v float64, extra string) {
		if v > 0 {
			parts = append(parts, k+"="+strconv.FormatFloat(v, 'g', -1, 64)+extra)
		}
	}
	add("500", f.Rate500, "")
	add("502", f.Rate502, "")
	add("503", f.Rate503, "")
	add("504", f.Rate504, "")
	add("reset", f.Reset, "")
	add("truncate", f.Truncate, "")
	if f.SlowDelay > 0 {
		add("slow", f.Slow, ":"+f.SlowDelay.String())
	} else {
		add("slow", f.Slow, "")
	}
	if f.StormLength > 0 {
		add("429storm", f.Storm429, ":"+strconv.Itoa(f.StormLength))
	} else {
		add("429storm", f.Storm429, "")
	}
	return strings.Join(parts, ",")
}

// ParseTokens parses TOKEN=ROLE pairs (as given to --token) into a token map.
func ParseTokens(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		tok, role, ok := strings.Cut(p, "=")
		if !ok || tok == "" {
			return nil, fmt.Errorf("token %q: want TOKEN=ROLE", p)
		}
		role = strings.ToUpper(strings.TrimSpace(role))
		if !validRole(role) {
			return nil, fmt.Errorf("token %q: unknown role %q; want one of %s", p, role, strings.Join(RoleTypes, ", "))
		}
		out[tok] = role
	}
	return out, nil
}

func validRole(r string) bool {
	for _, x := range RoleTypes {
		if x == r {
			return true
		}
	}
	return false
}

// normalized returns cfg with defaults filled in, or an error for invalid values.
func (cfg Config) normalized() (Config, error) {
	c := cfg
	c.Now = c.Now.UTC().Truncate(time.Millisecond)
	size := func(v, def int) int {
		switch {
		case v < 0:
			return 0
		case v == 0:
			return def
		}
		return v
	}
	c.Users = size(c.Users, 200)
	c.Groups = size(c.Groups, c.Users/25+5)
	if c.Groups < 1 {
		c.Groups = 1 // the built-in Everyone group always exists
	}
	// Every org has the Okta Admin Console and the Okta Dashboard, which
	// admin and sign-in events name.
	c.Apps = max(size(c.Apps, 12), 2)
	c.Devices = size(c.Devices, c.Users/2)
	c.Logs = size(c.Logs, max(1000, c.Users*10))
	if c.LogDays <= 0 {
		c.LogDays = defaultLogDays
	}
	sc, err := ParseScenarios(strings.Join(c.Scenarios, ","))
	if err != nil {
		return c, err
	}
	c.Scenarios = sc
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	if c.TimeScale < 0 {
		return c, fmt.Errorf("time scale %v: must be positive", c.TimeScale)
	}
	if c.ConcurrencyLimit <= 0 {
		c.ConcurrencyLimit = defaultConcurrency
	}
	if c.Faults.total() > 1 {
		return c, errors.New("fault rates add up to more than 1")
	}
	if c.Faults.SlowDelay == 0 {
		c.Faults.SlowDelay = defaultSlowDelay
	}
	if c.Faults.StormLength == 0 {
		c.Faults.StormLength = defaultStormLength
	}
	if len(c.Tokens) == 0 {
		c.Tokens = map[string]string{defaultToken: RoleSuperAdmin}
	}
	for tok, role := range c.Tokens {
		if !validRole(role) {
			return c, fmt.Errorf("token %q: unknown role %q", tok, role)
		}
	}
	for name, v := range c.BucketLimits {
		if bucketByName(name) == nil {
			names := make([]string, 0, len(buckets))
			for _, b := range buckets {
				names = append(names, b.name)
			}
			sort.Strings(names)
			return c, fmt.Errorf("bucket %q: unknown; want one of %s", name, strings.Join(names, ", "))
		}
		if v <= 0 {
			return c, fmt.Errorf("bucket %q: limit must be positive", name)
		}
	}
	c.LinkBaseURL = strings.TrimRight(c.LinkBaseURL, "/")
	clients, err := normalizeOAuthClients(c.OAuthClients)
	if err != nil {
		return c, err
	}
	c.OAuthClients = clients
	return c, nil
}

// normalizeOAuthClients checks the clients and fills in defaults, in a new
// map so the caller's stays as given.
func normalizeOAuthClients(in map[string]OAuthClient) (map[string]OAuthClient, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]OAuthClient, len(in))
	for id, cl := range in {
		if id == "" || strings.ContainsAny(id, " \t\r\n") {
			return nil, fmt.Errorf("oauth client %q: want a client_id without spaces", id)
		}
		if _, err := verificationKey(cl.PublicKey); err != nil {
			return nil, fmt.Errorf("oauth client %q: %w", id, err)
		}
		if cl.Role == "" {
			cl.Role = RoleSuperAdmin
		}
		cl.Role = strings.ToUpper(cl.Role)
		if !validRole(cl.Role) {
			return nil, fmt.Errorf("oauth client %q: unknown role %q; want one of %s", id, cl.Role, strings.Join(RoleTypes, ", "))
		}
		if len(cl.Scopes) == 0 {
			return nil, fmt.Errorf("oauth client %q: no scopes granted", id)
		}
		for _, sc := range cl.Scopes {
			if sc == "" || strings.ContainsAny(sc, " \t\r\n,") {
				return nil, fmt.Errorf("oauth client %q: scope %q: want a single scope name such as okta.users.read", id, sc)
			}
		}
		cl.Scopes = append([]string(nil), cl.Scopes...)
		switch {
		case cl.TokenLifetime == 0:
			cl.TokenLifetime = defaultTokenLifetime
		case cl.TokenLifetime < 0:
			return nil, fmt.Errorf("oauth client %q: token lifetime %v: must be positive", id, cl.TokenLifetime)
		}
		out[id] = cl
	}
	return out, nil
}

// ParseOAuthClients parses --oauth-client values, ID=PUBLIC_KEY_FILE:SCOPES[:dpop]
// (SCOPES comma-separated; ":dpop" makes the app require DPoP), reading each
// key file. The apps act as SUPER_ADMIN.
func ParseOAuthClients(specs []string) (map[string]OAuthClient, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string]OAuthClient{}
	for _, spec := range specs {
		id, rest, ok := strings.Cut(spec, "=")
		if !ok || id == "" {
			return nil, fmt.Errorf("oauth client %q: want ID=PUBLIC_KEY_FILE:SCOPES[:dpop]", spec)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("oauth client %q: given twice", id)
		}
		var cl OAuthClient
		if r, ok := strings.CutSuffix(rest, ":dpop"); ok {
			rest, cl.RequireDPoP = r, true
		}
		// The scopes follow the last colon, so a key path may hold colons.
		i := strings.LastIndex(rest, ":")
		if i <= 0 {
			return nil, fmt.Errorf("oauth client %q: want ID=PUBLIC_KEY_FILE:SCOPES[:dpop]", id)
		}
		file, scopes := rest[:i], rest[i+1:]
		for _, sc := range strings.Split(scopes, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				cl.Scopes = append(cl.Scopes, sc)
			}
		}
		if len(cl.Scopes) == 0 {
			return nil, fmt.Errorf("oauth client %q: no scopes; want e.g. okta.users.read,okta.groups.read after the key file", id)
		}
		key, err := LoadPublicKeyFile(file)
		if err != nil {
			return nil, fmt.Errorf("oauth client %q: %w", id, err)
		}
		cl.PublicKey = key
		out[id] = cl
	}
	return out, nil
}
