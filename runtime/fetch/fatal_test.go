package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUntrustedCertificateIsFatal: a certificate the client does not trust
// fails every request of a sync alike, so it is ErrFatal and never retried.
func TestUntrustedCertificateIsFatal(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `[]`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = discardLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// The default transport does not know the test server's certificate.
	c := newClient(t, srv.URL, nil)
	_, err := c.Get(context.Background(), "items", "b", srv.URL+"/items")
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("err = %v, want ErrFatal", err)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q does not say the certificate is the problem", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (no retry)", n)
	}
}

// TestTokenNotAHeaderValueIsFatal: a token with a line break (pasted from a
// file, or an injection attempt) can never be sent. New says so at once,
// without quoting it; an authenticator that produces such a value at request
// time fails the request as ErrFatal without retries.
func TestTokenNotAHeaderValueIsFatal(t *testing.T) {
	for _, token := range []string{"secretTok\n", "secretTok\r\nX-Injected: 1", "secret\x00Tok", "secret\x7fTok", ""} {
		_, err := New(Config{BaseURL: "https://org.example.com", Auth: HeaderToken("Authorization", "SSWS", token)})
		if !errors.Is(err, ErrFatal) {
			t.Errorf("New with token %q: err = %v, want ErrFatal", token, err)
			continue
		}
		if token != "" && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "Tok")) {
			t.Errorf("New error quotes the token: %v", err)
		}
		if !strings.Contains(err.Error(), "token") {
			t.Errorf("New error %q does not say the token is the problem", err)
		}
	}
	if _, err := New(Config{BaseURL: "https://org.example.com", Auth: HeaderToken("Bad Header", "", "t")}); !errors.Is(err, ErrFatal) {
		t.Errorf("New with a bad header name: err = %v, want ErrFatal", err)
	}

	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, `[]`) })
	auth := &funcAuth{value: "Bearer secretTok\r\n"}
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })
	_, err := c.Get(context.Background(), "items", "b", srv.URL+"/items")
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("err = %v, want ErrFatal", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error quotes the header value: %v", err)
	}
	if n := auth.calls.Load(); n != 1 {
		t.Errorf("%d attempts, want 1 (no retry)", n)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

// funcAuth sets Authorization to a fixed value and counts its calls.
type funcAuth struct {
	value string
	calls atomic.Int64
}

func (a *funcAuth) Authenticate(req *http.Request) error {
	a.calls.Add(1)
	req.Header["Authorization"] = []string{a.value}
	return nil
}

// TestConfigErrorsAreFatal: New's errors are configuration errors, which no
// retry fixes.
func TestConfigErrorsAreFatal(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "ftp://org.example.com"},
		{BaseURL: "https://org.example.com", Buckets: map[string]int{"x": -1}},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrFatal) {
			t.Errorf("New(%+v): err = %v, want ErrFatal", cfg, err)
		}
	}
}

// TestPlainHTTPServerOnHTTPSIsFatal: an https base URL whose port speaks
// plain HTTP fails every request alike.
func TestPlainHTTPServerOnHTTPSIsFatal(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, `[]`) })
	base := "https://" + strings.TrimPrefix(srv.URL, "http://")
	c := newClient(t, base, nil)
	_, err := c.Get(context.Background(), "items", "b", base+"/items")
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("err = %v, want ErrFatal", err)
	}
}
