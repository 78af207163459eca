package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// A hostile server: what a compromised, buggy or impersonated API could send
// back. Each attack is a handler; tests point a client at it and check that
// nothing it says gets the client to leak, loop, blow up or go elsewhere.

// hostileToken is the client's secret in these tests. It is long and unusual
// so that finding it in a text cannot be a coincidence.
const hostileToken = "00hostileTok3n-Zq7Vw2Xr9"

// hostileClient returns a client for url that authenticates with
// "Authorization: SSWS hostileToken" and reads errors the way the hostile
// handlers write them.
func hostileClient(t testing.TB, url string, mod func(*Config)) *Client {
	t.Helper()
	return newClient(t, url, func(cfg *Config) {
		cfg.Auth = HeaderToken("Authorization", "SSWS", hostileToken)
		cfg.Errors = ErrorBody{Code: "errorCode", Summary: "errorSummary"}
		if mod != nil {
			mod(cfg)
		}
	})
}

// echoedAuth is the Authorization header the request carried, which a
// hostile server echoes wherever it can.
func echoedAuth(r *http.Request) string { return r.Header.Get("Authorization") }

// tokenEchoes are responses that quote the caller's credentials back.
var tokenEchoes = map[string]http.HandlerFunc{
	"errorSummary": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, fmt.Sprintf(`{"errorCode":"E0000011","errorSummary":"Invalid token provided: %s"}`, echoedAuth(r)))
	},
	"token alone in errorSummary": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadRequest, fmt.Sprintf(`{"errorCode":"E0000001","errorSummary":"bad token %s."}`, strings.TrimPrefix(echoedAuth(r), "SSWS ")))
	},
	"errorCode": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, fmt.Sprintf(`{"errorCode":%q,"errorSummary":"no"}`, echoedAuth(r)))
	},
	"errorCauses": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadRequest, fmt.Sprintf(`{"errorCode":"E0000001","errorSummary":{"causes":[{"errorSummary":"header was %s"}]}}`, echoedAuth(r)))
	},
	"HTML body": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "<html><body><h1>502</h1><pre>Authorization: %s</pre></body></html>", echoedAuth(r))
	},
	"plain text": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "no route for %s", echoedAuth(r))
	},
	"challenge header": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q`, echoedAuth(r)))
		writeJSON(w, http.StatusForbidden, `{}`)
	},
	"malformed status line": func(w http.ResponseWriter, r *http.Request) {
		conn, buf, _ := w.(http.Hijacker).Hijack()
		defer conn.Close()
		fmt.Fprintf(buf, "%s\r\n\r\n", echoedAuth(r))
		_ = buf.Flush()
	},
	"next link": func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("after") == "" {
			w.Header().Set("Link", fmt.Sprintf(`</items?after=%s>; rel="next"`, strings.TrimPrefix(echoedAuth(r), "SSWS ")))
			writeJSON(w, http.StatusOK, `[]`)
			return
		}
		writeJSON(w, http.StatusInternalServerError, `{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`)
	},
}

// TestTokenEchoedByServerIsRedacted: whatever a response quotes of the
// credentials, in whatever shape, no error or log line repeats it (13.4).
func TestTokenEchoedByServerIsRedacted(t *testing.T) {
	for name, h := range tokenEchoes {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, h)
			var logs syncBuffer
			c := hostileClient(t, srv.URL, func(cfg *Config) {
				cfg.Logger = debugLogger(&logs)
				cfg.MaxRetries = 1
				if name == "errorCauses" {
					cfg.Errors.Summary = "errorSummary.causes"
				}
			})
			ctx := context.Background()
			url := srv.URL + "/items"
			if name == "next link" {
				p, err := c.Get(ctx, "items", "b", url)
				if err != nil {
					t.Fatal(err)
				}
				url = p.Links["next"]
			}
			_, err := c.Get(ctx, "items", "b", url)
			if err == nil {
				t.Fatal("Get succeeded")
			}
			texts := map[string]string{"error": err.Error(), "logs": logs.String()}
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				texts["APIError fields"] = fmt.Sprintf("%#v", *apiErr)
			}
			for what, text := range texts {
				if strings.Contains(text, hostileToken) {
					t.Errorf("%s reveals the token: %s", what, text)
				}
			}
			if name != "HTML body" && name != "plain text" && !strings.Contains(err.Error(), redacted) {
				t.Errorf("error %q does not show where the echo was, so the check proves little", err)
			}
		})
	}
}

// oddLinks are next links a hostile server may send, none of which may be
// fetched: they are not http(s), or have no host, or carry credentials.
var oddLinks = []string{
	"javascript:alert(document.cookie)",
	"file:///etc/passwd",
	"file://localhost/etc/passwd",
	"data:application/json,[]",
	"ftp://org.example.com/items",
	"mailto:admin@example.com",
	"http:///etc/passwd",
	"https:/items?after=x",
	"http:items",
	"https://user:pw@org.example.com/items",
}

// TestOddLinkSchemesAreRefused: a next link in a Link header or in the body
// that is not http(s) is refused with an error naming the table and the
// link, and nothing is requested; with re-basing on, too (13.10).
func TestOddLinkSchemesAreRefused(t *testing.T) {
	for _, rebase := range []bool{false, true} {
		for _, link := range oddLinks {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", `<`+link+`>; rel="next"`)
				writeJSON(w, http.StatusOK, fmt.Sprintf(`{"items":[],"next":%q}`, link))
			})
			c := hostileClient(t, srv.URL, func(cfg *Config) { cfg.RebaseForeignLinks = rebase })
			ctx := context.Background()
			p, err := c.Get(ctx, "items", "b", srv.URL+"/items")
			if err != nil {
				t.Fatal(err)
			}
			for where, next := range map[string]string{"Link header": p.Links["next"], "body": gjson.GetBytes(p.Body, "next").String()} {
				if next == "" {
					continue // not even parsed as a link
				}
				_, err := c.Get(ctx, "items", "b", next)
				if !errors.Is(err, ErrForeignURL) || errors.Is(err, ErrFatal) {
					t.Errorf("rebase %v, %s link %q: err = %v, want ErrForeignURL (a table failure)", rebase, where, link, err)
					continue
				}
				if want := "items: GET " + RedactURL(next); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q does not start with %q", err, want)
				}
				if strings.Contains(err.Error(), "pw@") {
					t.Errorf("error reveals credentials: %v", err)
				}
			}
			if n := srv.hits.Load(); n != 1 {
				t.Errorf("rebase %v, link %q: server got %d requests, want 1", rebase, link, n)
			}
		}
	}
}

// TestRebaseOnlyAllowedHosts: re-basing keeps working for http(s) links on
// other hosts, and LinkHosts narrows it to the hosts named.
func TestRebaseOnlyAllowedHosts(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, `[]`) })
	ctx := context.Background()
	tests := []struct {
		hosts []string
		link  string
		ok    bool
	}{
		{nil, "https://acme-admin.example.com/items?after=x", true},
		{nil, "http://other.example.net/items?after=x", true},
		{[]string{"acme-admin.example.com"}, "https://ACME-ADMIN.example.com/items?after=x", true},
		{[]string{"*.example.com"}, "https://acme-admin.example.com:8443/items?after=x", true},
		{[]string{"*.example.com"}, "https://example.com/items?after=x", false},
		{[]string{"*.example.com"}, "https://evil-example.com/items?after=x", false},
		{[]string{"acme-admin.example.com"}, "https://acme.example.net/items?after=x", false},
		{[]string{"*.example.com"}, "file://acme.example.com/etc/passwd", false},
	}
	for _, tt := range tests {
		c := hostileClient(t, srv.URL, func(cfg *Config) {
			cfg.RebaseForeignLinks = true
			cfg.LinkHosts = tt.hosts
		})
		before := srv.hits.Load()
		p, err := c.Get(ctx, "items", "b", tt.link)
		if !tt.ok {
			if !errors.Is(err, ErrForeignURL) || srv.hits.Load() != before {
				t.Errorf("hosts %v, link %s: err = %v, hits %d; want a refusal and no request", tt.hosts, tt.link, err, srv.hits.Load()-before)
			}
			continue
		}
		if err != nil {
			t.Errorf("hosts %v, link %s: %v", tt.hosts, tt.link, err)
			continue
		}
		if p.URL != srv.URL+"/items?after=x" {
			t.Errorf("hosts %v, link %s: fetched %s", tt.hosts, tt.link, p.URL)
		}
	}
}
