package oktasim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sim is a running simulated Okta org. All methods are safe for concurrent use.
type Sim struct {
	cfg Config
	// oauth is the org authorization server's state: issued tokens, used
	// jti values, nonces, counters.
	oauth *oauthState

	mu sync.RWMutex // guards o (reads while rendering, writes in Churn/Advance)
	o  *org

	// clock is the origin of the wire clock: the org clock (a mirror of
	// o.now) and the real time it was read at. A fixed clock keeps New's
	// real time; a running one (Config.Now zero) moves it with every change.
	clock   atomic.Pointer[clockBase]
	running bool

	rl       rateLimiter
	limits   atomic.Int32 // the RateLimitMode in force (Config.RateLimits, then SetRateLimits)
	inflight atomic.Int64
	reqN     atomic.Uint64 // API request counter (drives faults and request ids)

	stormMu   sync.Mutex
	stormLeft int

	stats statsState

	srvMu  sync.Mutex
	srv    *http.Server
	caPEM  []byte
	closed bool

	ctxPool sync.Pool
}

// New generates the org described by cfg. Generation is procedural: only
// compact per-object state is kept, and responses are rendered on demand.
func New(cfg Config) (*Sim, error) {
	start := time.Now()
	running := cfg.Now.IsZero()
	if running {
		cfg.Now = start
	}
	c, err := cfg.normalized()
	if err != nil {
		return nil, fmt.Errorf("oktasim: %w", err)
	}
	s := &Sim{cfg: c, running: running, oauth: newOAuthState(c.OAuthClients)}
	s.o = newOrg(c)
	s.clock.Store(&clockBase{orgNs: s.o.now * 1e6, real: start})
	if running {
		s.clock.Store(&clockBase{orgNs: start.UnixNano(), real: start})
	}
	s.rl.windows = map[string]*rlWindow{}
	s.limits.Store(int32(c.RateLimits))
	s.stats.reset()
	s.ctxPool.New = func() any { return &reqCtx{} }
	return s, nil
}

// Config returns the effective configuration (defaults filled in).
func (s *Sim) Config() Config { return s.cfg }

// SetRateLimits turns rate limits on or off for the requests from now on,
// with every window fresh, as for a client that comes back an hour later:
// so that the same org, at the same point of its clock, can be synced with
// and without limits (a benchmark's bound).
func (s *Sim) SetRateLimits(m RateLimitMode) {
	s.rl.mu.Lock()
	defer s.rl.mu.Unlock()
	s.limits.Store(int32(m))
	s.rl.windows = map[string]*rlWindow{}
}

func (s *Sim) rateLimits() RateLimitMode { return RateLimitMode(s.limits.Load()) }

// clockBase is the wire clock's origin: the wire clock read orgNs (unix ns)
// at real time real. Nanoseconds, so that a running clock restarted at every
// change does not lose a fraction of a millisecond each time.
type clockBase struct {
	orgNs int64
	real  time.Time
}

// Now returns the org clock: a fixed clock (Config.Now set) is Config.Now
// plus every Advance and Churn so far; a running one is the wire clock.
func (s *Sim) Now() time.Time {
	if s.running {
		return s.WireNow()
	}
	return time.UnixMilli(s.clock.Load().orgNs / 1e6).UTC()
}

// WireNow returns the wire clock used for the Date header and rate-limit
// windows: the org clock plus real time elapsed since it was set (since New
// for a fixed clock) times TimeScale.
func (s *Sim) WireNow() time.Time { return time.UnixMilli(s.wireNowMs()).UTC() }

// TimeScale returns the effective time scale (1 when Config.TimeScale was 0).
func (s *Sim) TimeScale() float64 { return s.cfg.TimeScale }

func (s *Sim) nowMs() int64 { return s.Now().UnixMilli() }

func (s *Sim) wireNowMs() int64 { return s.wireNsAt(time.Now()) / 1e6 }

func (s *Sim) wireNsAt(t time.Time) int64 {
	b := s.clock.Load()
	d := t.Sub(b.real)
	if s.cfg.TimeScale != 1 {
		d = time.Duration(float64(d) * s.cfg.TimeScale)
	}
	return b.orgNs + int64(d)
}

// A clockChange brackets a change of o.now under s.mu: begin moves a running
// org clock up to the wire clock, end publishes the new o.now.
type clockChange struct {
	real   time.Time
	wireNs int64
	fromMs int64
}

func (s *Sim) beginClockChange() clockChange {
	t := time.Now()
	w := s.wireNsAt(t)
	if s.running {
		s.o.now = max(s.o.now, w/1e6)
	}
	return clockChange{real: t, wireNs: w, fromMs: s.o.now}
}

// end publishes o.now; a running clock runs on from it, a fixed one keeps
// New's real time as its origin.
func (s *Sim) endClockChange(c clockChange) {
	b := clockBase{orgNs: s.o.now * 1e6, real: s.clock.Load().real}
	if s.running {
		b = clockBase{orgNs: c.wireNs + (s.o.now-c.fromMs)*1e6, real: c.real}
	}
	s.clock.Store(&b)
}

// Advance moves the org clock (and with it the wire clock) forward by d.
func (s *Sim) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	c := s.beginClockChange()
	s.o.now += d.Milliseconds()
	s.endClockChange(c)
	s.mu.Unlock()
}

// Handler returns the HTTP handler serving the Okta API and /__sim/*.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr (loopback only unless Config.AllowNonLoopback) and
// serves in the background. It returns the base URL, e.g. http://127.0.0.1:PORT.
func (s *Sim) Start(addr string) (string, error) {
	ln, err := s.listen(addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second}
	if err := s.setServer(srv); err != nil {
		_ = ln.Close()
		return "", err
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// StartTLS is Start over HTTPS with a self-signed certificate for 127.0.0.1,
// ::1 and localhost generated now. The certificate (its own CA) is written as
// PEM to caOutFile when non-empty and is available from CACertPEM and CertPool.
// HTTP/2 is disabled so that connection-level faults behave as on HTTP/1.1.
func (s *Sim) StartTLS(addr, caOutFile string) (string, error) {
	return s.StartTLSFor(addr, caOutFile)
}

// StartTLSFor is StartTLS with a certificate valid for the host names too,
// for an org on a custom domain (the caller makes the name reach addr: a
// proxy, a dialer).
func (s *Sim) StartTLSFor(addr, caOutFile string, hosts ...string) (string, error) {
	cert, pemBytes, err := selfSignedCert(time.Now(), hosts...)
	if err != nil {
		return "", fmt.Errorf("generate certificate: %w", err)
	}
	if caOutFile != "" {
		if err := os.WriteFile(caOutFile, pemBytes, 0o644); err != nil {
			return "", fmt.Errorf("write ca file: %w", err)
		}
	}
	ln, err := s.listen(addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	if err := s.setServer(srv); err != nil {
		_ = ln.Close()
		return "", err
	}
	s.srvMu.Lock()
	s.caPEM = pemBytes
	s.srvMu.Unlock()
	go func() { _ = srv.Serve(tls.NewListener(ln, srv.TLSConfig)) }()
	return "https://" + ln.Addr().String(), nil
}

// CACertPEM returns the PEM certificate of the TLS server (nil before StartTLS).
func (s *Sim) CACertPEM() []byte {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.caPEM
}

// CertPool returns a pool trusting the TLS server's certificate.
func (s *Sim) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	if pemBytes := s.CACertPEM(); pemBytes != nil {
		p.AppendCertsFromPEM(pemBytes)
	}
	return p
}

func (s *Sim) setServer(srv *http.Server) error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.closed {
		return errors.New("oktasim: closed")
	}
	if s.srv != nil {
		return errors.New("oktasim: already started")
	}
	s.srv = srv
	return nil
}

func (s *Sim) listen(addr string) (net.Listener, error) {
	if !s.cfg.AllowNonLoopback {
		if err := checkLoopback(addr); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oktasim: listen: %w", err)
	}
	return ln, nil
}

// checkLoopback refuses listen addresses that are not loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("oktasim: bad address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("oktasim: refusing non-loopback address %q (set Config.AllowNonLoopback or --allow-non-loopback to allow it)", addr)
	}
	return nil
}

// Close stops the server started by Start or StartTLS.
func (s *Sim) Close() error {
	s.srvMu.Lock()
	srv := s.srv
	s.closed = true
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		if cerr := srv.Close(); cerr != nil {
			return fmt.Errorf("oktasim: close: %w", cerr)
		}
	}
	return nil
}
