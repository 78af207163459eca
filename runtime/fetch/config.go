package fetch

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"oktasync/runtime/ratelimit"
)

// Config configures a Client. Everything specific to one API (header names,
// error body layout, known limits) arrives here from that API's spec.
type Config struct {
	// BaseURL is the origin every request goes to, e.g. https://org.example.com.
	// URLs passed to Get (next-page links included) must have the same scheme
	// and host, so that a Link header cannot send credentials elsewhere.
	// Plain http is accepted only for loopback hosts.
	BaseURL   string
	Auth      Authenticator // nil sends no credentials
	UserAgent string        // empty keeps Go's default
	// Timeout bounds one attempt: connecting, sending, and reading the whole
	// body. Waits for rate limits, backoff and a free slot happen outside it,
	// so it never cuts them short. Default 60s.
	Timeout time.Duration
	// ProbeTimeout bounds Probe as a whole: connecting, TLS and the
	// response. Default 5s.
	ProbeTimeout time.Duration
	// MaxRetries is how often one Get retries after a 5xx, a network error
	// or a truncated or unparsable body. Default 4; negative means never.
	MaxRetries int
	// MaxConnectRetries is how often one Get retries when it cannot connect
	// at all (refused, no such host, connect timeout), with the first
	// backoff steps only (about 1.5 s in all by default): an origin that is
	// gone fails each table in seconds. Default 2; negative means never.
	MaxConnectRetries int
	// ConnectTimeout bounds opening a connection, when HTTPClient is not
	// set. Default 10s.
	ConnectTimeout time.Duration
	// MaxRateLimitWaits is how many 429 responses one Get waits out before
	// it returns ErrRateLimited. Default 10; negative means none.
	MaxRateLimitWaits int
	// MaxConcurrent caps requests in flight over all buckets. Default 8.
	// The cap is lowered for a while when the server reports too many
	// concurrent requests.
	MaxConcurrent int
	// RateLimit names the headers that announce a bucket's state; empty means
	// no header-driven limiting (429s are still waited out).
	RateLimit RateLimitHeaders
	// Buckets holds per-window limits known in advance, by bucket name; they
	// pace the first requests until the server's headers take over.
	Buckets map[string]int
	// Errors says where an error body keeps its code and summary.
	Errors ErrorBody
	// TimeScale divides durations measured on the server's clock (waits until
	// a reset, Retry-After, the window length), for simulators whose clock
	// runs faster. Default 1.
	TimeScale float64
	Logger    *slog.Logger // default discards
	// HTTPClient is used for requests when set (tests with their own CA, a
	// proxy). It is copied; redirects to other origins are refused either way.
	HTTPClient *http.Client

	// RetryBase and RetryMax shape the jittered exponential backoff between
	// retries. Defaults 500ms and 30s.
	RetryBase time.Duration
	RetryMax  time.Duration
	// MaxBodyBytes bounds one body, decompressed. A larger body (a gzip bomb)
	// is refused with ErrInvalidBody, not retried, as soon as it is seen to
	// be larger, having buffered no more than this. Default 64 MiB, many
	// times a page of a few thousand records.
	MaxBodyBytes int64
	// MaxInFlightBodyBytes bounds the buffers of all bodies being read at
	// once, over every request in flight: a read that would pass it waits
	// until others end. Pages already returned do not count. At least
	// MaxBodyBytes; default the larger of 256 MiB and MaxBodyBytes.
	MaxInFlightBodyBytes int64
	// RebaseForeignLinks makes Get re-base an http or https URL on another
	// host onto BaseURL (keeping its path and query) instead of refusing it,
	// for APIs whose links name a different canonical host of the same
	// service (a sibling "-admin" host, the canonical name behind a custom
	// domain). Credentials still only ever go to BaseURL. URLs of any other
	// scheme (javascript:, file:, data:, ...), without a host, or with
	// credentials are refused whatever this says: they are no page of the
	// API, and re-basing them would request a path the server never meant.
	RebaseForeignLinks bool
	// LinkHosts limits RebaseForeignLinks to links on these hosts: a name
	// ("acme-admin.example.com") or "*." and a domain ("*.example.com", any
	// name under example.com, not example.com itself). Case and ports do not
	// matter. Empty allows any host, for APIs whose canonical hosts cannot be
	// listed in advance.
	LinkHosts []string
	// Clock is the time source for waits; default the system clock. Tests use
	// a fake one.
	Clock ratelimit.Clock
}

// ResetUnit says how a reset header expresses the end of a window.
type ResetUnit string

const (
	// ResetEpochSeconds: the reset is a Unix time in seconds, on the
	// server's clock (compared with the response's Date header).
	ResetEpochSeconds ResetUnit = "epoch-seconds"
	// ResetDeltaSeconds: the reset is a number of seconds from now.
	ResetDeltaSeconds ResetUnit = "seconds"
)

// RateLimitHeaders names the response headers that describe a bucket. Limit,
// Remaining and Reset are set together or not at all. A response whose Limit
// is 0 reports a concurrency rejection, not a bucket.
type RateLimitHeaders struct {
	Limit     string
	Remaining string
	Reset     string
	ResetUnit ResetUnit // default ResetEpochSeconds
	// Window is the length of a rate-limit window on the server's clock.
	// Default one minute.
	Window time.Duration
	// Reserve is the fraction of each window left unused for other clients
	// of the same limit (at least one request). Zero means
	// ratelimit.DefaultReserve, 0.02; a negative value keeps nothing back.
	Reserve float64
}

func (h RateLimitHeaders) enabled() bool { return h.Limit != "" }

// ErrorBody says how to read an error response body.
type ErrorBody struct {
	Code    string // gjson path of the error code
	Summary string // gjson path of the human-readable summary
	// FeatureDisabled lists codes meaning the feature is not enabled for the
	// account. Such responses are ErrFeatureDisabled whatever their status,
	// so a 401 with one of them is not taken for bad credentials.
	FeatureDisabled []string
}

func (cfg *Config) normalize() error {
	var errs []error
	h := cfg.RateLimit
	if n := countSet(h.Limit, h.Remaining, h.Reset); n != 0 && n != 3 {
		errs = append(errs, errors.New("rate limit headers: limit, remaining and reset must be set together"))
	}
	switch h.ResetUnit {
	case "":
		cfg.RateLimit.ResetUnit = ResetEpochSeconds
	case ResetEpochSeconds, ResetDeltaSeconds:
	default:
		errs = append(errs, fmt.Errorf("rate limit headers: unknown reset unit %q; want %s or %s", h.ResetUnit, ResetEpochSeconds, ResetDeltaSeconds))
	}
	if h.Window <= 0 {
		cfg.RateLimit.Window = time.Minute
	}
	if h.Reserve >= 1 {
		errs = append(errs, fmt.Errorf("rate limit headers: reserve %v is not below 1", h.Reserve))
	}
	for name, n := range cfg.Buckets {
		if n < 0 {
			errs = append(errs, fmt.Errorf("bucket %q: negative limit %d", name, n))
		}
	}
	for _, h := range cfg.LinkHosts {
		name := strings.TrimPrefix(h, "*.")
		if name == "" || strings.ContainsAny(name, "*/:@?# ") {
			errs = append(errs, fmt.Errorf("link host %q: want a host name or *.domain", h))
		}
	}
	if cfg.TimeScale < 0 {
		errs = append(errs, fmt.Errorf("time scale %v is negative", cfg.TimeScale))
	}
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 5 * time.Second
	}
	cfg.MaxRetries = defaultCount(cfg.MaxRetries, 4)
	cfg.MaxConnectRetries = defaultCount(cfg.MaxConnectRetries, 2)
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	cfg.MaxRateLimitWaits = defaultCount(cfg.MaxRateLimitWaits, 10)
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 8
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 500 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	cfg.RetryMax = max(cfg.RetryMax, cfg.RetryBase)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	switch {
	case cfg.MaxInFlightBodyBytes <= 0:
		cfg.MaxInFlightBodyBytes = max(256<<20, cfg.MaxBodyBytes)
	case cfg.MaxInFlightBodyBytes < cfg.MaxBodyBytes:
		errs = append(errs, fmt.Errorf("max in-flight body bytes %d is less than max body bytes %d", cfg.MaxInFlightBodyBytes, cfg.MaxBodyBytes))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = ratelimit.System()
	}
	return errors.Join(errs...)
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// defaultCount maps 0 to def and negative values to 0.
func defaultCount(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// parseBaseURL checks the origin requests may go to.
func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("base url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error quotes the text, credentials included.
		return nil, errors.New("base url is not a valid url")
	}
	if u.User != nil || strings.Contains(u.Opaque, "@") {
		return nil, fmt.Errorf("base url %s must not carry credentials", RedactURL(raw))
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("base url %s is not an absolute url", RedactURL(raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base url %s: plain http is only allowed for loopback hosts", RedactURL(raw))
		}
	default:
		return nil, fmt.Errorf("base url %s: scheme must be https", RedactURL(raw))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// sameOrigin reports whether u has the scheme, host and port of base.
func sameOrigin(u, base *url.URL) bool {
	return strings.EqualFold(u.Scheme, base.Scheme) &&
		strings.EqualFold(u.Hostname(), base.Hostname()) &&
		effectivePort(u) == effectivePort(base)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// linkHostAllowed reports whether a link on host may be re-based onto the
// base URL.
func (cfg *Config) linkHostAllowed(host string) bool {
	if len(cfg.LinkHosts) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range cfg.LinkHosts {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if domain, ok := strings.CutPrefix(h, "*"); ok {
			if strings.HasSuffix(host, domain) && len(host) > len(domain) {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}
