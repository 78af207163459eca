package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
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
