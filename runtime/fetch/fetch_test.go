package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGetPage(t *testing.T) {
	var gotAuth, gotUA, gotAE string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotUA, gotAE = r.Header.Get("Authorization"), r.Header.Get("User-Agent"), r.Header.Get("Accept-Encoding")
		w.Header().Add("link", `<`+"http://"+r.Host+`/items?limit=2>; rel="self"`)
		w.Header().Add("link", `</items?limit=2&after=b>; rel="next"`)
		writeJSON(w, http.StatusOK, `[{"id":"a"},{"id":"b"}]`)
	})
	c := newClient(t, srv.URL, nil)
	p, err := c.Get(context.Background(), "items", "items", srv.URL+"/items?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	if got, want := string(p.Body), `[{"id":"a"},{"id":"b"}]`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	wantLinks := map[string]string{"self": srv.URL + "/items?limit=2", "next": srv.URL + "/items?limit=2&after=b"}
	if diff := cmp.Diff(wantLinks, p.Links); diff != "" {
		t.Errorf("links mismatch (-want +got):\n%s", diff)
	}
	if p.URL != srv.URL+"/items?limit=2" || p.Status != 200 {
		t.Errorf("page URL, status = %s, %d", p.URL, p.Status)
	}
	if gotAuth != "Token test-token" || gotUA != "fetch-test/1" || gotAE != "gzip" {
		t.Errorf("request headers: Authorization %q, User-Agent %q, Accept-Encoding %q", gotAuth, gotUA, gotAE)
	}
	// A relative URL is resolved against the base URL.
	p2, err := c.Get(context.Background(), "items", "items", "/items?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	if p2.URL != srv.URL+"/items?limit=2" {
		t.Errorf("relative URL fetched as %s", p2.URL)
	}
}

func TestGetGzipAndNoContent(t *testing.T) {
	body := `{"items":[` + strings.Repeat(`{"k":"vvvvvvvv"},`, 500) + `{"k":"end"}]}`
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, _ = zw.Write([]byte(body))
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(zb.Len()))
		_, _ = w.Write(zb.Bytes())
	})
	c := newClient(t, srv.URL, nil)
	for range 3 { // pooled readers and buffers are reused correctly
		p, err := c.Get(context.Background(), "t", "b", srv.URL+"/zipped")
		if err != nil {
			t.Fatal(err)
		}
		if string(p.Body) != body {
			t.Fatalf("decoded body differs: %d bytes, want %d", len(p.Body), len(body))
		}
		p.Release()
	}
	p, err := c.Get(context.Background(), "t", "b", srv.URL+"/empty")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusNoContent || len(p.Body) != 0 {
		t.Errorf("204: status %d, body %q", p.Status, p.Body)
	}
}

func TestNewRefusesPlainHTTPForNonLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://org.example.com", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.9.9.9", true},
		{"http://[::1]:9000", true},
		{"http://localhost:1234", true},
		{"http://LOCALHOST", true},
		{"http://org.example.com", false},
		{"http://10.0.0.1", false},
		{"http://localhost.example.com", false},
		{"http://[::ffff:10.0.0.1]", false},
		{"ftp://org.example.com", false},
		{"https://user:pass@org.example.com", false},
		{"org.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := New(Config{BaseURL: tt.url})
		if (err == nil) != tt.ok {
			t.Errorf("New(%q) err = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), "pass") {
			t.Errorf("New(%q) error reveals credentials: %v", tt.url, err)
		}
	}
}

func TestGetRefusesForeignOrigins(t *testing.T) {
	foreign := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `[]`)
	})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, foreign.URL+"/stolen", http.StatusFound)
		case "/page":
			w.Header().Set("Link", `<`+foreign.URL+`/items?after=x>; rel="next"`)
			writeJSON(w, http.StatusOK, `[]`)
		default:
			writeJSON(w, http.StatusOK, `[]`)
		}
	})
	c := newClient(t, srv.URL, nil)
	ctx := context.Background()
	p, err := c.Get(ctx, "items", "b", srv.URL+"/page")
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, u := range []string{
		p.Links["next"], // a Link header naming another host
		"//" + strings.TrimPrefix(foreign.URL, "http://") + "/x", // scheme-relative
		"http://localhost:" + port + "/items",                    // same port, other host name
		"https://" + host + "/items",                             // other scheme
		"http://user:secret@" + host + "/items",                  // credentials in the URL
		srv.URL + "/redirect",                                    // a redirect to another host
		"http://%zz",                                             // not a URL
	} {
		_, err := c.Get(ctx, "items", "b", u)
		if !errors.Is(err, ErrForeignURL) && !strings.Contains(fmt.Sprint(err), "invalid url") {
			t.Errorf("Get(%s) err = %v, want refusal", u, err)
		}
		if strings.Contains(fmt.Sprint(err), "secret") {
			t.Errorf("error reveals credentials: %v", err)
		}
	}
	if n := foreign.hits.Load(); n != 0 {
		t.Errorf("foreign host got %d requests, want 0", n)
	}

	// With re-basing, a foreign link is fetched from the base URL instead.
	rc := newClient(t, srv.URL, func(cfg *Config) { cfg.RebaseForeignLinks = true })
	p, err = rc.Get(ctx, "items", "b", foreign.URL+"/items?after=x")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != srv.URL+"/items?after=x" || foreign.hits.Load() != 0 {
		t.Errorf("rebased fetch went to %s (foreign hits %d)", p.URL, foreign.hits.Load())
	}
}

// fault makes a handler fail in one of the ways that deserve a retry.
func fault(kind string, w http.ResponseWriter) {
	const good = `[{"id":1},{"id":2}]`
	switch kind {
	case "500", "502", "503", "504":
		code, _ := strconv.Atoi(kind)
		writeJSON(w, code, errorBody("SERVER", "Internal error"))
	case "reset":
		conn, _, _ := w.(http.Hijacker).Hijack()
		_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
		_ = conn.Close()
	case "eof":
		conn, _, _ := w.(http.Hijacker).Hijack()
		_ = conn.Close()
	case "short body":
		conn, buf, _ := w.(http.Hijacker).Hijack()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(good), good[:7])
		_ = buf.Flush()
		_ = conn.Close()
	case "invalid json":
		writeJSON(w, http.StatusOK, good[:len(good)-1])
	case "truncated gzip":
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, _ = zw.Write([]byte(good))
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(zb.Bytes()[:zb.Len()-6])
	default:
		panic(kind)
	}
}

func TestGetRetriesTransientFailures(t *testing.T) {
	for _, kind := range []string{"500", "502", "503", "504", "reset", "eof", "short body", "invalid json", "truncated gzip"} {
		t.Run(kind, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				if n <= 2 {
					fault(kind, w)
					return
				}
				writeJSON(w, http.StatusOK, `[{"id":1},{"id":2}]`)
			})
			c := newClient(t, srv.URL, nil)
			p, err := c.Get(context.Background(), "items", "b", srv.URL+"/items")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if string(p.Body) != `[{"id":1},{"id":2}]` {
				t.Errorf("body = %s", p.Body)
			}
			if got := srv.hits.Load(); got != 3 {
				t.Errorf("server hits = %d, want 3", got)
			}
			if s := c.Stats(); s.Retries != 2 || s.Requests != 3 {
				t.Errorf("stats: %d requests, %d retries; want 3, 2", s.Requests, s.Retries)
			}
		})
	}
}

func TestGetGivesUpAfterMaxRetries(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, errorBody("DOWN", "Down for maintenance."))
	})
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = 2 })
	_, err := c.Get(context.Background(), "items", "b", srv.URL+"/items")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrServer) || apiErr.Status != 503 || apiErr.Code != "DOWN" {
		t.Fatalf("err = %#v, want a 503 APIError wrapping ErrServer", err)
	}
	if got := srv.hits.Load(); got != 3 {
		t.Errorf("server hits = %d, want 3 (1 + 2 retries)", got)
	}
}

func TestGetClassifiesErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		code      string
		challenge string
		want      error
		notWant   error
	}{
		{name: "bad request", status: 400, code: "BAD_CURSOR", want: ErrBadRequest},
		{name: "bad credentials", status: 401, code: "BAD_TOKEN", want: ErrUnauthorized, notWant: ErrFeatureDisabled},
		{name: "feature not enabled", status: 401, code: "FEATURE_OFF", want: ErrFeatureDisabled, notWant: ErrUnauthorized},
		{name: "forbidden", status: 403, code: "NO_ROLE", want: ErrForbidden},
		{name: "not found", status: 404, code: "GONE", want: ErrNotFound},
		{name: "insufficient scope", status: 403, want: ErrForbidden,
			challenge: `Bearer algs="RS256 ES256", realm="http://x", scope="items.read", error="insufficient_scope", error_description="The token lacks scopes."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.challenge != "" {
					w.Header().Set("WWW-Authenticate", tt.challenge)
				}
				body := errorBody(tt.code, "Something is wrong.")
				if tt.code == "" {
					body = ""
				}
				writeJSON(w, tt.status, body)
			})
			c := newClient(t, srv.URL, nil)
			_, err := c.Get(context.Background(), "items", "b", srv.URL+"/items")
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("err = %v, must not be %v", err, tt.notWant)
			}
			if got := srv.hits.Load(); got != 1 {
				t.Errorf("server hits = %d, want 1 (never retried)", got)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.Code != tt.code {
				t.Fatalf("err = %#v, want APIError with status %d code %q", err, tt.status, tt.code)
			}
			if tt.challenge != "" && (apiErr.Scope != "items.read" || !strings.Contains(err.Error(), "items.read")) {
				t.Errorf("scope = %q, error %q; want items.read in both", apiErr.Scope, err)
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, errorBody("NO_ROLE", "You do not have permission to perform the requested action."))
	})
	c := newClient(t, srv.URL, nil)
	_, err := c.Get(context.Background(), "users", "b", srv.URL+"/api/users?limit=200")
	want := "users: GET " + srv.URL + "/api/users?limit=200: 403 NO_ROLE: You do not have permission to perform the requested action"
	if err == nil || err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	const token, apiKey, access = "tok-Zr8vQ2", "key-Hn4wP7", "acc-Lm3xK9"
	secrets := []string{token, apiKey, access}
	var gotAuth string
	var mu sync.Mutex
	calls := 0
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		gotAuth = r.Header.Get("Authorization")
		mu.Unlock()
		if n == 1 {
			writeJSON(w, http.StatusInternalServerError, errorBody("SERVER", "oops"))
			return
		}
		writeJSON(w, http.StatusForbidden, errorBody("NO_ROLE", "Denied."))
	})
	var logs syncBuffer
	auth := HeaderToken("Authorization", "Token", token)
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.Auth = auth
		cfg.Logger = debugLogger(&logs)
	})
	u := srv.URL + "/items?limit=5&api_key=" + apiKey + "&access_token=" + access + "&after=cur1"
	_, err := c.Get(context.Background(), "items", "b", u)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden", err)
	}
	if gotAuth != "Token "+token {
		t.Fatalf("server got Authorization %q; the token must still be sent", gotAuth)
	}
	if !strings.Contains(err.Error(), "limit=5") || !strings.Contains(err.Error(), "after=cur1") {
		t.Errorf("error %q lost the harmless query parameters", err)
	}
	// A network error (nothing listens) goes through a different path.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	dc := newClient(t, dead, func(cfg *Config) {
		cfg.Auth = auth
		cfg.Logger = debugLogger(&logs)
		cfg.MaxRetries = 1
	})
	_, netErr := dc.Get(context.Background(), "items", "b", dead+"/items?token="+token)
	if netErr == nil {
		t.Fatal("Get on a closed port succeeded")
	}
	texts := map[string]string{
		"error":         err.Error(),
		"network error": netErr.Error(),
		"logs":          logs.String(),
		"stats":         fmt.Sprintf("%+v", c.Stats()),
		"authenticator": fmt.Sprintf("%v %+v %#v %s", auth, auth, auth, auth),
	}
	for what, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s reveals a secret: %s", what, text)
			}
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("logs did not record the retry, so the check above proves little:\n%s", logs.String())
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h/a?limit=2&after=x", "https://h/a?limit=2&after=x"},
		{"https://h/a?api_key=s&limit=2", "https://h/a?api_key=REDACTED&limit=2"},
		{"https://h/a?client_secret=s&Access-Token=t&password=p&key=k&secret", "https://h/a?client_secret=REDACTED&Access-Token=REDACTED&password=REDACTED&key=REDACTED&REDACTED"},
		{"https://h/a?search=lastUpdated%20gt%20%222024%22", "https://h/a?search=lastUpdated%20gt%20%222024%22"},
		{"https://user:pw@h/a#frag", "https://h/a"},
		{"https://h/%zz?token=1", "(invalid url)"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// serverTimeHandler answers the first request with a 429 whose Date is the
// given server time and whose reset is resetIn later, then 200.
func serverTimeHandler(serverNow time.Time, resetIn int) http.HandlerFunc {
	var mu sync.Mutex
	calls := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		h := w.Header()
		h.Set("Date", serverNow.UTC().Format(http.TimeFormat))
		h.Set(hLimit, "50")
		h.Set(hReset, strconv.FormatInt(serverNow.Unix()+int64(resetIn), 10))
		if n == 1 {
			h.Set(hRemaining, "0")
			writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
			return
		}
		h.Set(hRemaining, "49")
		writeJSON(w, http.StatusOK, `[]`)
	}
}

func TestRateLimitWaitUsesServerClock(t *testing.T) {
	for _, offset := range []time.Duration{0, -3 * time.Hour, 5*time.Hour + 17*time.Minute} {
		t.Run(offset.String(), func(t *testing.T) {
			clock := newFakeClock()
			// The server's clock is offset from ours (and from the real one).
			srv := newServer(t, serverTimeHandler(clock.Now().Add(offset), 7))
			c := newClient(t, srv.URL, func(cfg *Config) {
				cfg.Clock = clock
				cfg.RateLimit = quotaHeaders
				cfg.TimeScale = 2
			})
			page, err := c.Get(context.Background(), "items", "items", srv.URL+"/items")
			if err != nil {
				t.Fatal(err)
			}
			if page.Waited != 4*time.Second {
				t.Errorf("page.Waited = %v, want the 4s of the 429 wait", page.Waited)
			}
			// Reset - Date + 1 = 8 server seconds, 4 of ours at scale 2.
			if diff := cmp.Diff([]time.Duration{4 * time.Second}, clock.Sleeps()); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
			s := c.Stats()
			if s.RateLimited != 1 || s.Requests != 2 || s.Wait != 4*time.Second || s.Buckets["items"].Wait != 4*time.Second {
				t.Errorf("stats = %+v, want 1 rate-limited, 2 requests, 4s waited in bucket items", s)
			}
		})
	}
}

// TestWindowWaitUsesServerClock: when only the reserve is left, the client
// waits for the reset the server announced, measured on the server's clock
// (Reset - Date), however far that clock is from ours; the next window's
// first request then finds the server's window reset.
func TestWindowWaitUsesServerClock(t *testing.T) {
	for _, offset := range []time.Duration{0, -3 * time.Hour, 5*time.Hour + 17*time.Minute} {
		t.Run(offset.String(), func(t *testing.T) {
			clock := newFakeClock()
			var mu sync.Mutex
			var end time.Time // the server's window ends here, on its clock
			used, rejected := 0, 0
			const limit = 3
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				now := clock.Now().Add(offset) // the server's clock
				switch {
				case end.IsZero():
					// A window the server opened before our first request.
					end = now.Add(25 * time.Second)
				case !now.Before(end):
					end, used = now.Add(time.Minute), 0
				}
				used++
				h := w.Header()
				h.Set("Date", now.UTC().Format(http.TimeFormat))
				h.Set(hLimit, strconv.Itoa(limit))
				h.Set(hRemaining, strconv.Itoa(max(limit-used, 0)))
				h.Set(hReset, strconv.FormatInt(end.Unix(), 10))
				if used > limit {
					rejected++
					writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
					return
				}
				writeJSON(w, http.StatusOK, `[]`)
			})
			c := newClient(t, srv.URL, func(cfg *Config) {
				cfg.Clock = clock
				cfg.RateLimit = quotaHeaders
			})
			for range 4 {
				if _, err := c.Get(context.Background(), "items", "items", srv.URL+"/items"); err != nil {
					t.Fatal(err)
				}
			}
			// Two requests in the first window (the third is the reserve),
			// then a wait of Reset - Date + 1 s, whatever the offset.
			if diff := cmp.Diff([]time.Duration{26 * time.Second}, clock.Sleeps()); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
			if rejected != 0 {
				t.Errorf("server rejected %d requests, want 0", rejected)
			}
			if s := c.Stats().Buckets["items"]; s.Windows != 2 || s.Held != 26*time.Second {
				t.Errorf("bucket stats = %+v, want 2 windows and 26s held", s)
			}
		})
	}
}

func TestRateLimitWithoutDateFallsBackToBackoff(t *testing.T) {
	var calls atomic.Int64
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // suppress the server's automatic Date
		if calls.Add(1) == 1 {
			writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
			return
		}
		writeJSON(w, http.StatusOK, `[]`)
	})
	clock := newFakeClock()
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = clock
		cfg.RateLimit = quotaHeaders
		cfg.RetryBase, cfg.RetryMax = 100*time.Millisecond, time.Second
	})
	if _, err := c.Get(context.Background(), "items", "items", srv.URL+"/items"); err != nil {
		t.Fatal(err)
	}
	sleeps := clock.Sleeps()
	if len(sleeps) != 1 || sleeps[0] < 50*time.Millisecond || sleeps[0] > 100*time.Millisecond {
		t.Errorf("waits = %v, want one backoff between 50ms and 100ms", sleeps)
	}
}

func TestRateLimitGivesUp(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		now := clock.Now() // the server shares the fake clock here
		h.Set("Date", now.Format(http.TimeFormat))
		h.Set(hLimit, "10")
		h.Set(hRemaining, "0")
		h.Set(hReset, strconv.FormatInt(now.Unix()+30, 10))
		writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
	})
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = clock
		cfg.RateLimit = quotaHeaders
		cfg.MaxRateLimitWaits = 3
	})
	_, err := c.Get(context.Background(), "items", "items", srv.URL+"/items")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if got := srv.hits.Load(); got != 4 {
		t.Errorf("server hits = %d, want 4 (1 + 3 waits)", got)
	}
	if s := c.Stats(); s.Wait != 3*31*time.Second {
		t.Errorf("waited %v, want 3 x 31s", s.Wait)
	}
}

func TestConcurrencyRejectionLowersCap(t *testing.T) {
	var calls atomic.Int64
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			h := w.Header()
			h.Set(hLimit, "0")
			h.Set(hRemaining, "0")
			h.Set(hReset, strconv.FormatInt(time.Now().Unix()+1, 10))
			writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
			return
		}
		writeJSON(w, http.StatusOK, `[]`)
	})
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.RateLimit = quotaHeaders
		cfg.MaxConcurrent = 8
	})
	if _, err := c.Get(context.Background(), "items", "items", srv.URL+"/items"); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	if s.ConcurrencyLimited != 1 || s.MaxConcurrent != 4 {
		t.Errorf("stats = %+v, want 1 concurrency rejection and the cap halved to 4", s)
	}
	// The zeros of a concurrency rejection must not be taken for the bucket.
	if b := s.Buckets["items"]; b.Limit != 0 {
		t.Errorf("bucket learnt limit %d from a concurrency rejection", b.Limit)
	}
}

// TestLimiterKeepsBurstUnderLimit runs many workers against a server that
// allows 20 requests per window (100ms of our time at scale 600) and rejects
// the rest; the limiter must keep every request within the limit.
func TestLimiterKeepsBurstUnderLimit(t *testing.T) {
	const scale = 600
	q := newQuota(20, scale, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if q.admit(w) {
			writeJSON(w, http.StatusOK, `[{"id":1}]`)
		}
	})
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = nil // real time
		cfg.RateLimit = quotaHeaders
		cfg.TimeScale = scale
		cfg.MaxConcurrent = 30
		cfg.MaxRateLimitWaits = -1 // a 429 fails the test instead of being waited out
	})
	const workers, each = 30, 2
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				p, err := c.Get(context.Background(), "items", "items", srv.URL+"/items")
				if err != nil {
					errs <- err
					continue
				}
				p.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := q.Rejected(); n != 0 {
		t.Errorf("server rejected %d requests, want 0", n)
	}
	if s := c.Stats(); s.Requests != workers*each || s.RateLimited != 0 {
		t.Errorf("stats = %+v, want %d requests and no 429", s, workers*each)
	}
}

// TestWindowSpentUnderConcurrencyCap: the bucket lets a window's whole
// quota start at once, and the concurrency cap still bounds the requests in
// flight; no request is rejected, and the client counts the server's
// windows as the server does.
func TestWindowSpentUnderConcurrencyCap(t *testing.T) {
	const scale, limit, maxConc = 600, 50, 4
	q := newQuota(limit, scale, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	var inflight, peak atomic.Int64
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(time.Millisecond) // let requests overlap
		if q.admit(w) {
			writeJSON(w, http.StatusOK, `[]`)
		}
	})
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = nil // real time
		cfg.RateLimit = quotaHeaders
		cfg.TimeScale = scale
		cfg.MaxConcurrent = maxConc
		cfg.MaxRateLimitWaits = -1 // a 429 fails the test
	})
	const workers, each = 40, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				p, err := c.Get(context.Background(), "items", "items", srv.URL+"/items")
				if err != nil {
					errs <- err
					continue
				}
				p.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := peak.Load(); got > maxConc {
		t.Errorf("%d requests in flight at once, want at most the cap of %d", got, maxConc)
	}
	s := c.Stats().Buckets["items"]
	if s.RateLimited != 0 || q.Rejected() != 0 {
		t.Errorf("%d 429s received, %d rejected, want none", s.RateLimited, q.Rejected())
	}
	// 49 a window (the reserve is one): at least 3 windows.
	if s.Windows != q.Windows() || s.Windows < 3 {
		t.Errorf("client counted %d windows, the server opened %d; want the same, at least 3", s.Windows, q.Windows())
	}
	if s.Held <= 0 {
		t.Errorf("held = %v, want the waits for the resets", s.Held)
	}
}

func TestCancelDuringWaitReturns(t *testing.T) {
	t.Run("rate limit", func(t *testing.T) {
		seen := make(chan struct{}, 1)
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			w.Header().Set(hLimit, "10")
			w.Header().Set(hRemaining, "0")
			w.Header().Set(hReset, strconv.FormatInt(now.Unix()+3600, 10))
			writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
			seen <- struct{}{}
		})
		c := newClient(t, srv.URL, func(cfg *Config) {
			cfg.Clock = nil
			cfg.RateLimit = quotaHeaders
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.Get(ctx, "items", "items", srv.URL+"/items")
			done <- err
		}()
		<-seen
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Get kept waiting after cancel")
		}
	})
	t.Run("concurrency slot", func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{}, 1)
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
			writeJSON(w, http.StatusOK, `[]`)
		})
		c := newClient(t, srv.URL, func(cfg *Config) {
			cfg.Clock = nil
			cfg.MaxConcurrent = 1
		})
		first := make(chan error, 1)
		go func() {
			_, err := c.Get(context.Background(), "items", "b", srv.URL+"/slow")
			first <- err
		}()
		<-entered
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.Get(ctx, "items", "b2", srv.URL+"/queued")
			done <- err
		}()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Get kept waiting for a slot after cancel")
		}
		close(release)
		if err := <-first; err != nil {
			t.Error(err)
		}
		if got := srv.hits.Load(); got != 1 {
			t.Errorf("server hits = %d, want 1 (the cancelled request never sent)", got)
		}
	})
}

func TestTimeoutDoesNotCutRateLimitWait(t *testing.T) {
	const scale = 10
	var mu sync.Mutex
	calls := 0
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		now := time.Now()
		h := w.Header()
		h.Set("Date", now.UTC().Format(http.TimeFormat))
		h.Set(hLimit, "100")
		h.Set(hReset, strconv.FormatInt(now.Unix()+2, 10))
		switch n {
		case 1: // rate limited: wait (Reset - Date + 1) / 10 = 300ms
			h.Set(hRemaining, "0")
			writeJSON(w, http.StatusTooManyRequests, errorBody("TOO_MANY", "Too many requests."))
		case 2: // slower than the attempt timeout: retried
			time.Sleep(400 * time.Millisecond)
			writeJSON(w, http.StatusOK, `[]`)
		default:
			h.Set(hRemaining, "8")
			writeJSON(w, http.StatusOK, `[{"id":1}]`)
		}
	})
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = nil
		cfg.RateLimit = quotaHeaders
		cfg.TimeScale = scale
		cfg.Timeout = 100 * time.Millisecond
	})
	p, err := c.Get(context.Background(), "items", "items", srv.URL+"/items")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(p.Body) != `[{"id":1}]` {
		t.Errorf("body = %s", p.Body)
	}
	s := c.Stats()
	if s.Requests != 3 || s.RateLimited != 1 || s.Retries != 2 {
		t.Errorf("stats = %+v, want 3 requests, 1 rate-limited, 2 retries", s)
	}
	// The wait was three times the attempt timeout and still ran to its end.
	if s.Wait < 300*time.Millisecond {
		t.Errorf("waited %v, want at least the 300ms until the reset", s.Wait)
	}
}

func TestBodyTooLargeIsNotRetried(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `["`+strings.Repeat("x", 2000)+`"]`)
	})
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.MaxBodyBytes = 1000 })
	_, err := c.Get(context.Background(), "items", "b", srv.URL+"/items")
	if !errors.Is(err, ErrInvalidBody) {
		t.Fatalf("err = %v, want ErrInvalidBody", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("server hits = %d, want 1", got)
	}
}

// nonceAuth asks for a nonce the first time the server demands one, the way
// proof-of-possession schemes do.
type nonceAuth struct {
	mu      sync.Mutex
	nonce   string
	methods []string
}

func (a *nonceAuth) Authenticate(req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.methods = append(a.methods, req.Method+" "+req.URL.Path)
	req.Header.Set("Authorization", "Proof p1")
	if a.nonce != "" {
		req.Header.Set("Proof", "nonce="+a.nonce)
	}
	return nil
}

func (a *nonceAuth) Challenge(resp *http.Response) (bool, error) {
	if resp.Header.Get("Proof-Nonce") == "" {
		return false, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nonce = resp.Header.Get("Proof-Nonce")
	return true, nil
}

func TestChallengerRetriesOnce(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proof") != "nonce=n1" {
			w.Header().Set("Proof-Nonce", "n1")
			writeJSON(w, http.StatusUnauthorized, errorBody("USE_NONCE", "Nonce required."))
			return
		}
		writeJSON(w, http.StatusOK, `[]`)
	})
	auth := &nonceAuth{}
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })
	if _, err := c.Get(context.Background(), "items", "b", srv.URL+"/items"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"GET /items", "GET /items"}, auth.methods); diff != "" {
		t.Errorf("Authenticate calls mismatch (-want +got):\n%s", diff)
	}

	// A server that keeps challenging gets one retry, then the 401.
	always := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Proof-Nonce", "again")
		writeJSON(w, http.StatusUnauthorized, errorBody("USE_NONCE", "Nonce required."))
	})
	c = newClient(t, always.URL, func(cfg *Config) { cfg.Auth = &nonceAuth{} })
	if _, err := c.Get(context.Background(), "items", "b", always.URL+"/items"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
	if got := always.hits.Load(); got != 2 {
		t.Errorf("server hits = %d, want 2", got)
	}
}

func TestParseChallenges(t *testing.T) {
	got := parseChallenges([]string{
		`Bearer realm="x", error="invalid_token"`,
		`Proof algs="A B", scope="s1 s2", error="insufficient_scope", token68abc==`,
	})
	want := map[string]string{"realm": "x", "error": "invalid_token", "algs": "A B", "scope": "s1 s2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseChallenges mismatch (-want +got):\n%s", diff)
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := New(Config{
		BaseURL:   "https://h.example",
		RateLimit: RateLimitHeaders{Limit: "L", ResetUnit: "minutes"},
		Buckets:   map[string]int{"x": -1},
		LinkHosts: []string{"https://x.example.com"},
	})
	if err == nil {
		t.Fatal("New accepted a bad config")
	}
	for _, want := range []string{"set together", `unknown reset unit "minutes"`, `bucket "x"`, `link host "https://x.example.com"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	page := `[` + strings.Repeat(`{"id":"00u1","profile":{"login":"a@b.c","firstName":"A"}},`, 199) + `{"id":"end"}]`
	srv := newServer(b, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set(hLimit, "1000000")
		h.Set(hRemaining, "999999")
		h.Set(hReset, strconv.FormatInt(time.Now().Unix()+60, 10))
		h.Set("Link", `<http://`+r.Host+`/items?after=x>; rel="next"`)
		writeJSON(w, http.StatusOK, page)
	})
	c := newClient(b, srv.URL, func(cfg *Config) {
		cfg.Clock = nil
		cfg.RateLimit = quotaHeaders
	})
	ctx := context.Background()
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.Get(ctx, "items", "items", srv.URL+"/items")
		if err != nil {
			b.Fatal(err)
		}
		p.Release()
	}
}

// TestWindowOpenerBoundsReset: a response saying one request is gone from a
// full window answered the window's first request, so the window ends within
// one window length of its arrival; the client need not wait for the
// whole-second reset header plus its one-second margin.
func TestWindowOpenerBoundsReset(t *testing.T) {
	for _, tc := range []struct {
		name             string
		limit, remaining int
		want             time.Duration
	}{
		{"opener", 2, 1, time.Minute},
		// Another client took a request first: only the headers are known.
		{"not the opener", 3, 1, time.Minute + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				now := clock.Now()
				h := w.Header()
				h.Set("Date", now.Format(http.TimeFormat))
				h.Set(hLimit, strconv.Itoa(tc.limit))
				h.Set(hRemaining, strconv.Itoa(tc.remaining))
				h.Set(hReset, strconv.FormatInt(now.Unix()+60, 10))
				writeJSON(w, http.StatusOK, `[]`)
			})
			c := newClient(t, srv.URL, func(cfg *Config) {
				cfg.Clock = clock
				cfg.RateLimit = quotaHeaders
			})
			for range 2 {
				if _, err := c.Get(context.Background(), "items", "items", srv.URL+"/items"); err != nil {
					t.Fatal(err)
				}
			}
			// The one request left is the reserve: the second waits for the reset.
			if diff := cmp.Diff([]time.Duration{tc.want}, clock.Sleeps()); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBodyBufferFitsTheBody: a body of known length is read into a buffer of
// about its size; one of exactly its size would be doubled to see the end.
func TestBodyBufferFitsTheBody(t *testing.T) {
	body := `[` + strings.Repeat(`"abcdefgh",`, 10000) + `"end"]`
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		writeJSON(w, 200, body)
	})
	c := newClient(t, srv.URL, nil)
	p, err := c.Get(context.Background(), "t", "", srv.URL+"/x")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	if string(p.Body) != body {
		t.Fatalf("body of %d bytes, want %d", len(p.Body), len(body))
	}
	if got := cap(p.buf.b); got > len(body)+len(body)/4 {
		t.Errorf("buffer of %d bytes for a body of %d", got, len(body))
	}
}
