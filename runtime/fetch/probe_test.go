package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProbe: one GET that says in one line whether the origin answers and
// takes the credentials (contract C3).
func TestProbe(t *testing.T) {
	ctx := context.Background()

	t.Run("closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		ln.Close()
		clock := newFakeClock()
		c := newClient(t, base, func(cfg *Config) { cfg.Clock = clock })
		err = c.Probe(ctx, "/api/me")
		if want := "cannot reach " + base + ": connection refused"; err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %q", err, want)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("err = %v does not wrap ECONNREFUSED", err)
		}
		if s := clock.Sleeps(); len(s) != 0 {
			t.Errorf("probe waited %v: it must not retry", s)
		}
	})

	t.Run("401", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusUnauthorized, `{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`)
		})
		c := hostileClient(t, srv.URL, nil)
		err := c.Probe(ctx, "/api/me")
		var apiErr *APIError
		if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "E0000011" {
			t.Fatalf("err = %#v, want a 401 APIError E0000011 wrapping ErrUnauthorized", err)
		}
		if want := "GET " + srv.URL + "/api/me: 401 E0000011: Invalid token provided"; err.Error() != want {
			t.Errorf("err = %q, want %q", err, want)
		}
		if n := srv.hits.Load(); n != 1 {
			t.Errorf("server hits = %d, want 1", n)
		}
	})

	for _, status := range []int{http.StatusOK, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var path, auth string
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				path, auth = r.URL.Path, r.Header.Get("Authorization")
				w.Header().Set("Date", "Mon, 02 Jan 2034 15:04:05 GMT")
				writeJSON(w, status, `{"id":"me"}`)
			})
			c := hostileClient(t, srv.URL, nil)
			if err := c.Probe(ctx, "/api/me"); err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if path != "/api/me" || auth != "SSWS "+hostileToken {
				t.Errorf("server got path %q, Authorization %q", path, auth)
			}
			if now, ok := c.ServerNow(); !ok || now.Year() != 2034 {
				t.Errorf("ServerNow = %v, %v; want the probe's Date", now, ok)
			}
		})
	}

	t.Run("no answer", func(t *testing.T) {
		release := make(chan struct{})
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
		defer close(release)
		c := newClient(t, srv.URL, func(cfg *Config) { cfg.ProbeTimeout = 50 * time.Millisecond })
		err := c.Probe(ctx, "/api/me")
		if want := "cannot reach " + srv.URL + ": no answer within 50ms"; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	})

	t.Run("token not a header value", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
		c := newClient(t, srv.URL, func(cfg *Config) { cfg.Auth = &funcAuth{value: "SSWS secretTok\r\n"} })
		err := c.Probe(ctx, "/api/me")
		if !errors.Is(err, ErrFatal) || strings.Contains(err.Error(), "secret") || srv.hits.Load() != 0 {
			t.Errorf("err = %v, server hits %d; want ErrFatal, no secret, no request", err, srv.hits.Load())
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		srv.Config.ErrorLog = discardLog()
		srv.StartTLS()
		t.Cleanup(srv.Close)
		c := newClient(t, srv.URL, nil)
		err := c.Probe(ctx, "/api/me")
		if !errors.Is(err, ErrFatal) || !strings.HasPrefix(err.Error(), "cannot reach "+srv.URL+": tls: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %v, want a one-line fatal TLS error", err)
		}
	})
}
