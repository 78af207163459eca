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

	mu sync.RWMutex // guards o (reads while rendering, writes in Churn/Advance)
	o  *org

	orgNow    atomic.Int64 // mirror of o.now for the wire clock, unix ms
	realStart time.Time

	rl       rateLimiter
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
	c, err := cfg.normalized()
	if err != nil {
		return nil, fmt.Errorf("oktasim: %w", err)
	}
	s := &Sim{cfg: c, realStart: time.Now()}
	s.o = newOrg(c)
	s.orgNow.Store(s.o.now)
	s.rl.windows = map[string]*rlWindow{}
	s.stats.reset()
	s.ctxPool.New = func() any { return &reqCtx{} }
	return s, nil
}

// Config returns the effective configuration (defaults filled in).
func (s *Sim) Config() Config { return s.cfg }

// Now returns the org clock: Config.Now plus every Advance and Churn so far.
func (s *Sim) Now() time.Time { return time.UnixMilli(s.orgNow.Load()).UTC() }

// WireNow returns the wire clock used for the Date header and rate-limit
// windows: the org clock plus real time elapsed since New times TimeScale.
func (s *Sim) WireNow() time.Time { return time.UnixMilli(s.wireNowMs()).UTC() }

// TimeScale returns the effective time scale (1 when Config.TimeScale was 0).
func (s *Sim) TimeScale() float64 { return s.cfg.TimeScale }

func (s *Sim) wireNowMs() int64 {
	elapsed := time.Since(s.realStart)
	return s.orgNow.Load() + int64(float64(elapsed.Milliseconds())*s.cfg.TimeScale)
}

// Advance moves the org clock (and with it the wire clock) forward by d.
func (s *Sim) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	s.o.now += d.Milliseconds()
	s.orgNow.Store(s.o.now)
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
	cert, pemBytes, err := selfSignedCert(time.Now())
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
