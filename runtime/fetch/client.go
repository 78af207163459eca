package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime/ratelimit"
)

// Client fetches pages of one API. It is safe for concurrent use; all
// goroutines share its rate-limit buckets and its concurrency cap.
type Client struct {
	cfg     Config
	base    *url.URL
	hc      *http.Client
	clock   ratelimit.Clock
	log     *slog.Logger
	gate    *ratelimit.Gate
	feature map[string]bool

	mu      sync.Mutex
	buckets map[string]*bucket

	dateMu     sync.Mutex
	dateKnown  bool
	dateOffset time.Duration // server clock minus ours, from the latest Date

	bufs   sync.Pool // *bodyBuf, handed out with pages and back on Release
	gzips  sync.Pool // *gzip.Reader
	bodies *bodyBudget
}

// bucket is a rate-limit bucket with its statistics.
type bucket struct {
	lim    *ratelimit.Bucket
	window time.Duration // a window's length on the server's clock
	mu     sync.Mutex
	stat   BucketStats
	// lastWindow is the reset of the latest window counted in
	// stat.Windows (server clock).
	lastWindow time.Time
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fatal(fmt.Errorf("fetch: %w", err))
	}
	if err := cfg.normalize(); err != nil {
		return nil, fatal(fmt.Errorf("fetch: %w", err))
	}
	if v, ok := cfg.Auth.(Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, fatal(fmt.Errorf("fetch: auth: %w", err))
		}
	}
	c := &Client{
		cfg:     cfg,
		base:    base,
		clock:   cfg.Clock,
		log:     cfg.Logger,
		gate:    ratelimit.NewGate(cfg.MaxConcurrent),
		feature: make(map[string]bool, len(cfg.Errors.FeatureDisabled)),
		buckets: make(map[string]*bucket),
		bodies:  newBodyBudget(cfg.MaxInFlightBodyBytes),
	}
	for _, code := range cfg.Errors.FeatureDisabled {
		c.feature[code] = true
	}
	c.hc = c.httpClient(cfg.HTTPClient)
	return c, nil
}

func (c *Client) httpClient(given *http.Client) *http.Client {
	var hc http.Client
	if given != nil {
		hc = *given
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection per concurrent request instead of reopening them.
		tr.MaxIdleConnsPerHost = c.cfg.MaxConcurrent
		// A host that does not answer fails each attempt in this time, not
		// in the attempt's whole timeout.
		tr.DialContext = (&net.Dialer{Timeout: c.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
		hc.Transport = tr
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !sameOrigin(req.URL, c.base) {
			return ErrForeignURL
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &hc
}

func (c *Client) bucket(name string) *bucket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.buckets[name]; ok {
		return b
	}
	h := c.cfg.RateLimit
	b := &bucket{window: h.Window, lim: ratelimit.NewBucket(ratelimit.BucketConfig{
		Guess:   c.cfg.Buckets[name],
		Window:  c.scale(h.Window),
		Reserve: h.Reserve,
		// Without headers a known limit still paces, counting our own requests.
		Unpaced: !h.enabled() && c.cfg.Buckets[name] == 0,
		Clock:   c.clock,
	})}
	c.buckets[name] = b
	return b
}

// scale converts a duration on the server's clock to ours.
func (c *Client) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.cfg.TimeScale)
}

// Page is one fetched page. Body is only valid until Release.
type Page struct {
	URL    string // the absolute URL fetched
	Status int
	Header http.Header
	// Body is the complete, decompressed body, validated as JSON; empty for
	// 204 No Content.
	Body []byte
	// Links maps relation types to absolute URLs, from every Link header
	// line; nil when there is none. Whether a link may be followed is
	// checked when it is passed to Get.
	Links map[string]string
	// Waited is how long this Get waited on rate limits (pacing and 429s),
	// so a caller can show where a sync's time goes.
	Waited time.Duration

	buf  *bodyBuf
	pool *sync.Pool
}

// Release hands the page's buffer back for reuse by later pages. Calling it
// is optional; after it, Body (and anything that aliases it) must not be used.
func (p *Page) Release() {
	if p == nil || p.buf == nil {
		return
	}
	buf := p.buf
	p.buf, p.Body = nil, nil
	// Very large buffers are dropped rather than kept alive for small pages.
	if cap(buf.b) <= 32<<20 {
		p.pool.Put(buf)
	}
}

type retryKind int

const (
	final        retryKind = iota // res.err is the answer
	transient                     // 5xx, network, body: backoff, counts against MaxRetries
	noConnection                  // could not connect: backoff, counts against MaxConnectRetries
	rateLimited                   // 429: counts against MaxRateLimitWaits
	challenged                    // the authenticator asked for one more try
)

type result struct {
	page *Page
	kind retryKind
	err  error
	wait time.Duration // extra wait before the next attempt
}

// Get fetches one page. bucket names the rate-limit bucket the request counts
// against; table is only used in errors and logs. rawURL is absolute, or
// relative to BaseURL; it must be http(s) on BaseURL's origin (or, with
// RebaseForeignLinks, on a host LinkHosts allows), else Get refuses it with
// ErrForeignURL before any request.
func (c *Client) Get(ctx context.Context, table, bucket, rawURL string) (*Page, error) {
	target, u, err := c.target(rawURL)
	if err != nil {
		return nil, requestError(table, c.safeURL(rawURL), err)
	}
	safe := c.safeURL(target)
	b := c.bucket(bucket)
	var failures, connFailures, limits int
	var waited time.Duration
	didChallenge := false
	for {
		res := c.attempt(ctx, b, table, target, u, safe, limits, didChallenge, &waited)
		// Every error, logged or returned, passes here first.
		res.err = c.redactErr(res.err)
		if res.page != nil {
			res.page.Waited = waited
			return res.page, nil
		}
		var wait time.Duration
		switch res.kind {
		case final:
			return nil, res.err
		case challenged:
			didChallenge = true
			continue
		case transient:
			failures++
			if failures > c.cfg.MaxRetries {
				return nil, res.err
			}
			wait = max(c.backoff(failures), res.wait)
		case noConnection:
			connFailures++
			if connFailures > c.cfg.MaxConnectRetries {
				return nil, res.err
			}
			wait = c.backoff(connFailures)
		case rateLimited:
			limits++
			if limits > c.cfg.MaxRateLimitWaits {
				return nil, res.err
			}
			wait = res.wait
		}
		b.add(func(s *BucketStats) { s.Retries++ })
		level := slog.LevelWarn
		if res.kind == rateLimited {
			level = slog.LevelInfo
		}
		c.log.LogAttrs(ctx, level, "retrying request",
			slog.String("table", table), slog.String("url", safe),
			slog.Int("failures", failures+connFailures), slog.Int("rate_limited", limits),
			slog.Duration("wait", wait), slog.String("err", res.err.Error()))
		if wait > 0 {
			start := c.clock.Now()
			var err error
			if res.kind == rateLimited {
				// A wait on the bucket: its held time counts it.
				err = b.lim.Wait(ctx, wait)
				slept := c.clock.Now().Sub(start)
				waited += slept
				b.add(func(s *BucketStats) { s.Wait += slept })
			} else {
				err = c.clock.Sleep(ctx, wait)
			}
			if err != nil {
				return nil, requestError(table, safe, err)
			}
		}
	}
}

// target resolves rawURL against BaseURL and refuses other origins. The
// returned string is rawURL itself when it was already absolute and allowed,
// so that opaque cursors are sent exactly as the server wrote them.
func (c *Client) target(rawURL string) (string, *url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The parse error quotes the URL, which may hold a secret.
		return "", nil, errors.New("invalid url")
	}
	abs := u.IsAbs()
	if !abs {
		// Scheme-relative references (//host/...) resolve to another host and
		// are caught below.
		u = c.base.ResolveReference(u)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return "", nil, fmt.Errorf("%w: scheme %q is not http or https", ErrForeignURL, u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", nil, fmt.Errorf("%w: url has no host", ErrForeignURL)
	}
	if u.User != nil {
		return "", nil, fmt.Errorf("%w: url carries credentials", ErrForeignURL)
	}
	if !sameOrigin(u, c.base) {
		if !c.cfg.RebaseForeignLinks || !c.cfg.linkHostAllowed(u.Hostname()) {
			return "", nil, ErrForeignURL
		}
		r := *c.base
		r.Path, r.RawPath, r.RawQuery, r.Fragment, r.RawFragment = u.Path, u.RawPath, u.RawQuery, "", ""
		return r.String(), &r, nil
	}
	if abs {
		return rawURL, u, nil
	}
	return u.String(), u, nil
}

// attempt sends the request once, waiting first for its bucket and a slot.
// limits is the number of 429s this Get has had so far; the bucket wait is
// added to waitedSum.
func (c *Client) attempt(ctx context.Context, b *bucket, table, target string, u *url.URL, safe string, limits int, didChallenge bool, waitedSum *time.Duration) result {
	waited, err := b.lim.Acquire(ctx)
	*waitedSum += waited
	b.add(func(s *BucketStats) { s.Wait += waited })
	if err != nil {
		return result{err: requestError(table, safe, err)}
	}
	if err := c.gate.Acquire(ctx); err != nil {
		b.lim.Abort()
		return result{err: requestError(table, safe, err)}
	}
	// The attempt's timeout starts only now, after every wait.
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		c.gate.Release(false)
		b.lim.Abort()
		return result{err: requestError(table, safe, errors.New("invalid url"))}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if c.cfg.Auth != nil {
		if err := c.cfg.Auth.Authenticate(req); err != nil {
			c.gate.Release(false)
			b.lim.Abort()
			return result{err: requestError(table, safe, fmt.Errorf("authenticate: %w", err))}
		}
		// An invalid value would fail every attempt alike, and Go's error
		// for it would be taken for a network failure and retried.
		if name := invalidHeader(req.Header); name != "" {
			c.gate.Release(false)
			b.lim.Abort()
			return result{err: fatal(requestError(table, safe, fmt.Errorf("authenticate: header %s: not a valid header value (a line break or another control character)", name)))}
		}
	}
	b.add(func(s *BucketStats) { s.Requests++ })
	resp, err := c.hc.Do(req)
	if err != nil {
		c.gate.Release(false)
		b.lim.Abort()
		return c.networkFailure(ctx, table, safe, err)
	}
	c.noteDate(resp.Header)
	buf, readErr := c.readBody(actx, resp)
	resp.Body.Close()

	now := c.clock.Now()
	obs, kind := c.observe(resp.Header, now)
	status := resp.StatusCode
	var fallback time.Duration // wait after a 429 that says nothing usable about its reset
	if status == http.StatusTooManyRequests {
		// Whatever the headers said, nothing is left in this window.
		obs.Remaining = 0
		if kind != obsConcurrency && !obs.dated {
			fallback = c.backoff(limits + 1)
			if ra, ok := c.retryAfter(resp.Header, now); ok {
				fallback = ra
			}
			fallback = min(fallback, c.scale(5*c.cfg.RateLimit.Window))
			obs.ResetAt = now.Add(fallback)
		}
	}
	switch kind {
	case obsWindow:
		b.lim.Done(obs.Observation)
		b.sawWindow(obs.ServerReset)
	case obsNone:
		b.lim.Done(ratelimit.Observation{})
	case obsConcurrency:
		// The zeros describe the concurrency limit, not this bucket.
		b.lim.Abort()
	}
	c.gate.Release(status == http.StatusTooManyRequests && kind == obsConcurrency)

	keep := false
	defer func() {
		if !keep {
			c.bufs.Put(buf)
		}
	}()
	body := buf.b
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "response",
			slog.String("table", table), slog.String("url", safe),
			slog.Int("status", status), slog.Int("bytes", len(body)))
	}

	retryableStatus := status/100 == 2 || status == http.StatusTooManyRequests || isRetryableStatus(status)
	if readErr != nil && retryableStatus {
		if ctx.Err() != nil {
			return result{err: requestError(table, safe, ctx.Err())}
		}
		err := requestError(table, safe, fmt.Errorf("%w: %w", ErrInvalidBody, readErr))
		if errors.Is(readErr, errBodyTooLarge) {
			return result{err: err}
		}
		return result{kind: transient, err: err}
	}

	switch {
	case status/100 == 2:
		if status != http.StatusNoContent && !gjson.ValidBytes(body) {
			return result{kind: transient, err: requestError(table, safe, fmt.Errorf("%w: not valid json", ErrInvalidBody))}
		}
		keep = true
		p := &Page{URL: target, Status: status, Header: resp.Header, buf: buf, pool: &c.bufs}
		if len(body) > 0 {
			p.Body = body
		}
		if values := resp.Header.Values("Link"); len(values) > 0 {
			p.Links = resolveLinks(u, ParseLinks(values))
		}
		return result{page: p}

	case status == http.StatusTooManyRequests:
		apiErr := c.apiError(table, safe, resp, body, ErrRateLimited)
		b.add(func(s *BucketStats) { s.RateLimited++ })
		switch {
		case kind == obsConcurrency:
			b.add(func(s *BucketStats) { s.ConcurrencyLimited++ })
			// Back off briefly; the cap has been lowered meanwhile.
			return result{kind: rateLimited, err: apiErr, wait: c.backoff(limits + 1)}
		default:
			// Hold back every goroutine on the bucket, this one included,
			// until the reset; or for a bounded while when the response did
			// not say when that is.
			until := now.Add(fallback)
			if kind == obsWindow {
				until = obs.ResetAt
			}
			b.lim.Block(until)
			c.log.LogAttrs(ctx, slog.LevelInfo, "rate limited",
				slog.String("table", table), slog.String("url", safe),
				slog.Duration("wait", until.Sub(now)))
			return result{kind: rateLimited, err: apiErr}
		}

	case isRetryableStatus(status):
		res := result{kind: transient, err: c.apiError(table, safe, resp, body, ErrServer)}
		if ra, ok := c.retryAfter(resp.Header, now); ok {
			res.wait = min(ra, c.cfg.RetryMax)
		}
		return res
	}

	if (status == http.StatusUnauthorized || status == http.StatusBadRequest) && !didChallenge {
		if ch, ok := c.cfg.Auth.(Challenger); ok {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			retry, err := ch.Challenge(resp)
			if err != nil {
				return result{err: requestError(table, safe, fmt.Errorf("authenticate: %w", err))}
			}
			if retry {
				return result{kind: challenged, err: c.apiError(table, safe, resp, body, nil)}
			}
		}
	}
	return result{err: c.apiError(table, safe, resp, body, nil)}
}

// noteDate records the server's clock from a response's Date header, read
// as the response arrives; an absent or unparsable Date changes nothing.
func (c *Client) noteDate(h http.Header) {
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	offset := date.Sub(c.clock.Now())
	c.dateMu.Lock()
	c.dateOffset, c.dateKnown = offset, true
	c.dateMu.Unlock()
}

// ServerNow estimates the server's current time: our clock plus the
// difference the Date header of the latest response showed. Date has
// whole seconds and is written before the response travels, so the
// estimate trails the server by up to a second plus the network delay,
// never leads it. ok is false until a response with a valid Date arrived.
// Safe for concurrent use.
func (c *Client) ServerNow() (now time.Time, ok bool) {
	c.dateMu.Lock()
	offset, known := c.dateOffset, c.dateKnown
	c.dateMu.Unlock()
	if !known {
		return time.Time{}, false
	}
	return c.clock.Now().Add(offset), true
}

// invalidHeader returns the name of a header whose value cannot be sent,
// or "" if there is none.
func invalidHeader(h http.Header) string {
	for name, values := range h {
		for _, v := range values {
			if !validHeaderValue(v) {
				return name
			}
		}
	}
	return ""
}

// isRetryableStatus reports statuses worth another try: the server or
// something in front of it failed, not the request.
func isRetryableStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// networkFailure classifies an error from sending a request.
func (c *Client) networkFailure(ctx context.Context, table, safe string, err error) result {
	if ctx.Err() != nil {
		return result{err: requestError(table, safe, ctx.Err())}
	}
	// *url.Error quotes the full URL, secrets included; keep only its cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("attempt timed out after %s: %w", c.cfg.Timeout, err)
	}
	switch {
	case isTLSFailure(err):
		return result{err: fatal(requestError(table, safe, err))}
	case errors.Is(err, ErrForeignURL): // a redirect elsewhere
		return result{err: requestError(table, safe, err)}
	case isConnectFailure(err):
		return result{kind: noConnection, err: requestError(table, safe, err)}
	}
	return result{kind: transient, err: requestError(table, safe, err)}
}

// isConnectFailure reports failures to open a connection at all (refused,
// no such host, unreachable, connect timeout): the origin is gone or
// wrong, which a few quick retries tell as well as many slow ones.
func isConnectFailure(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect")
}

// isTLSFailure reports TLS errors that no other request to the same origin
// would escape: an untrusted or invalid certificate, or no TLS at all.
func isTLSFailure(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
		rerr tls.RecordHeaderError
	)
	return errors.As(err, &verr) || errors.As(err, &uerr) ||
		errors.As(err, &herr) || errors.As(err, &cerr) || errors.As(err, &rerr) ||
		// net/http replaces the RecordHeaderError of a plain HTTP answer
		// with an unexported error that only its text identifies.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// apiError builds the error for a response; kind overrides the class derived
// from the status.
func (c *Client) apiError(table, safe string, resp *http.Response, body []byte, kind error) *APIError {
	e := &APIError{Table: table, URL: safe, Status: resp.StatusCode}
	if len(body) > 0 && gjson.ValidBytes(body) {
		if c.cfg.Errors.Code != "" {
			e.Code = gjson.GetBytes(body, c.cfg.Errors.Code).String()
		}
		if c.cfg.Errors.Summary != "" {
			e.Summary = gjson.GetBytes(body, c.cfg.Errors.Summary).String()
		}
	}
	challenge := parseChallenges(resp.Header.Values("Www-Authenticate"))
	insufficientScope := strings.EqualFold(challenge["error"], "insufficient_scope")
	if insufficientScope {
		e.Scope = challenge["scope"]
	}
	switch {
	case kind != nil:
		e.kind = kind
	case e.Code != "" && c.feature[e.Code]:
		e.kind = ErrFeatureDisabled
	case insufficientScope || resp.StatusCode == http.StatusForbidden:
		e.kind = ErrForbidden
	case resp.StatusCode == http.StatusUnauthorized:
		e.kind = ErrUnauthorized
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		e.kind = ErrNotFound
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity:
		e.kind = ErrBadRequest
	case resp.StatusCode >= 500:
		e.kind = ErrServer
	}
	return e
}

// parseChallenges collects the auth-params of WWW-Authenticate values
// (RFC 9110 11.6.1) into one map, first occurrence winning; scheme names are
// skipped. It is lenient: only error and scope are looked at.
func parseChallenges(values []string) map[string]string {
	params := make(map[string]string)
	for _, s := range values {
		i := 0
		for i < len(s) {
			i = skipSpaceAnd(s, i, ',')
			var name string
			name, i = readToken(s, i)
			i = skipSpace(s, i)
			if i >= len(s) || s[i] != '=' {
				if name == "" && i < len(s) {
					i = skipElement(s, i) // stray character
				}
				continue // a scheme name, or a bare token68
			}
			i = skipSpace(s, i+1)
			var value string
			if i < len(s) && s[i] == '"' {
				value, i = readQuoted(s, i)
			} else {
				value, i = readToken(s, i)
				if value == "" {
					// token68 padding ("abc=="), not a parameter
					i = skipElement(s, i)
					continue
				}
			}
			name = strings.ToLower(name)
			if _, ok := params[name]; !ok && name != "" {
				params[name] = value
			}
		}
	}
	return params
}

type obsKind int

const (
	obsNone        obsKind = iota // no rate-limit headers
	obsWindow                     // a bucket's state
	obsConcurrency                // a concurrency rejection (limit 0)
)

type observation struct {
	ratelimit.Observation
	dated bool // the server's Date was known, so the reset is exact
}

// observe reads the rate-limit headers of a response received at now.
func (c *Client) observe(h http.Header, now time.Time) (observation, obsKind) {
	rl := c.cfg.RateLimit
	if !rl.enabled() {
		return observation{}, obsNone
	}
	limit, okL := headerInt(h, rl.Limit, false)
	remaining, okR := headerInt(h, rl.Remaining, false)
	reset, okT := headerInt(h, rl.Reset, true)
	if okL && limit == 0 {
		return observation{}, obsConcurrency
	}
	if !okL || !okR || !okT || limit < 0 || remaining < 0 {
		return observation{}, obsNone
	}
	serverNow, err := http.ParseTime(h.Get("Date"))
	dated := err == nil
	var serverReset time.Time
	var untilReset time.Duration
	switch rl.ResetUnit {
	case ResetDeltaSeconds:
		untilReset = time.Duration(reset) * time.Second
		if !dated {
			serverNow = now.Truncate(time.Second)
		}
		serverReset = serverNow.Add(untilReset)
	default:
		serverReset = time.Unix(reset, 0)
		if dated {
			// The server's own clock, not ours: they may be hours apart.
			untilReset = serverReset.Sub(serverNow)
		} else {
			// Without the server's clock, a whole window is the safe guess.
			untilReset = rl.Window
		}
	}
	// One second more, because both values are whole seconds; bounded so that
	// a wild header cannot stall a sync.
	untilReset = min(max(untilReset, 0)+time.Second, 5*rl.Window)
	resetAt := now.Add(c.scale(untilReset))
	if remaining == limit-1 {
		// This request was the first the window counted, so the window began
		// before its response got here and ends within one window length from
		// now: often well before the whole-second headers, plus the margin,
		// say. Waiting for those would idle up to 3 s of every minute.
		if end := now.Add(c.scale(rl.Window)); end.Before(resetAt) {
			resetAt = end
		}
	}
	return observation{
		Observation: ratelimit.Observation{
			Limit:       int(limit),
			Remaining:   int(min(remaining, limit)),
			ServerReset: serverReset,
			ResetAt:     resetAt,
		},
		dated: dated,
	}, obsWindow
}

// headerInt parses an integer header, which may repeat or hold a
// comma-separated list; it takes the largest value when largest is set, the
// smallest otherwise (the cautious choice for each header).
func headerInt(h http.Header, name string, largest bool) (int64, bool) {
	var out int64
	found := false
	for _, v := range h.Values(name) {
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				continue
			}
			if !found || (largest && n > out) || (!largest && n < out) {
				out = n
			}
			found = true
		}
	}
	return out, found
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) as a
// duration on our clock.
func (c *Client) retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return c.scale(time.Duration(min(secs, 1<<31)) * time.Second), true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	serverNow, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		serverNow = now
	}
	return c.scale(max(at.Sub(serverNow), 0)), true
}

// backoff returns the wait before retry n (1-based): exponential, capped,
// with half of it random so that workers that failed together do not retry
// together.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.RetryMax
	if n-1 < 32 {
		d = min(c.cfg.RetryBase<<(n-1), c.cfg.RetryMax)
	}
	if d <= 0 {
		d = c.cfg.RetryMax
	}
	half := d / 2
	return half + rand.N(half+1)
}

// sawWindow counts the window a response announced, if it is a new one:
// windows do not overlap, so a new window ends at least a window length
// after the one before it (a second less, for rounding).
func (b *bucket) sawWindow(reset time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stat.Windows == 0 || !reset.Before(b.lastWindow.Add(b.window-time.Second)) {
		b.stat.Windows++
		b.lastWindow = reset
	}
}

// add updates the bucket's statistics.
func (b *bucket) add(f func(*BucketStats)) {
	b.mu.Lock()
	f(&b.stat)
	b.mu.Unlock()
}

// Stats are counters of a client's work. They hold no URLs or credentials.
type Stats struct {
	Requests           int64 // requests sent (attempts, retries included)
	Retries            int64 // attempts repeated after a failure or a 429
	RateLimited        int64 // 429 responses
	ConcurrencyLimited int64 // of which concurrency rejections
	// Wait is the time requests spent waiting on rate limits, added up over
	// requests that waited at the same time.
	Wait          time.Duration
	MaxConcurrent int // the current (possibly lowered) cap
	Buckets       map[string]BucketStats
}

// BucketStats are the counters of one bucket, plus its last known state.
type BucketStats struct {
	Requests           int64
	Retries            int64
	RateLimited        int64
	ConcurrencyLimited int64
	Wait               time.Duration // added up over requests, as Stats.Wait
	// Windows is the number of the server's windows the bucket's responses
	// announced: the windows the client used.
	Windows int
	// Held is the time during which at least one request waited on the
	// bucket: requests that waited together count once, so it never
	// exceeds the time the client ran.
	Held      time.Duration
	Limit     int // 0 while unknown
	Remaining int
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	buckets := maps.Clone(c.buckets)
	c.mu.Unlock()

	s := Stats{MaxConcurrent: c.gate.Limit(), Buckets: make(map[string]BucketStats, len(buckets))}
	for name, b := range buckets {
		b.mu.Lock()
		st := b.stat
		b.mu.Unlock()
		snap := b.lim.Snapshot()
		if snap.Known {
			st.Limit, st.Remaining = snap.Limit, snap.Remaining
		}
		st.Held = snap.Held
		s.Buckets[name] = st
		s.Requests += st.Requests
		s.Retries += st.Retries
		s.RateLimited += st.RateLimited
		s.ConcurrencyLimited += st.ConcurrencyLimited
		s.Wait += st.Wait
	}
	return s
}
