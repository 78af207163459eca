package oktasim

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testNow is a fixed org clock; 20.5 s past the minute so rate-limit windows
// that start at the first request are visibly not aligned to wall-clock minutes.
var testNow = time.Date(2026, 1, 15, 12, 0, 20, 500_000_000, time.UTC)

// startSim starts a simulator on a loopback port and stops it with the test.
func startSim(t testing.TB, cfg Config) (*Sim, string) {
	t.Helper()
	if cfg.Now.IsZero() {
		cfg.Now = testNow
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, url
}

var testClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableCompression: true}}

// get performs an authenticated GET with token (empty: no Authorization header).
func get(t testing.TB, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, b
}

// getOK is get with the demo token that fails unless the status is 200.
func getOK(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, b := get(t, url, "demo-token")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, body %s", url, resp.StatusCode, b)
	}
	return resp, b
}

func decodeList(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode list: %v\n%s", err, b)
	}
	return out
}

func decodeObj(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode object: %v\n%s", err, b)
	}
	return out
}

var linkRe = regexp.MustCompile(`<([^>]*)>;\s*rel="([a-z]+)"`)

// links parses every Link header value (and comma-joined values) by rel.
func links(resp *http.Response) map[string]string {
	out := map[string]string{}
	for _, v := range resp.Header.Values("Link") {
		for _, m := range linkRe.FindAllStringSubmatch(v, -1) {
			out[m[2]] = m[1]
		}
	}
	return out
}

// pageAll follows next links from url, returning all items and the pages fetched.
func pageAll(t testing.TB, url string) ([]map[string]any, int) {
	t.Helper()
	var all []map[string]any
	pages := 0
	for url != "" {
		resp, b := getOK(t, url)
		all = append(all, decodeList(t, b)...)
		pages++
		url = links(resp)["next"]
		if pages > 100000 {
			t.Fatal("runaway pagination")
		}
	}
	return all, pages
}

// path walks a decoded JSON value by dotted keys.
func path(v any, p string) any {
	for _, k := range strings.Split(p, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, p string) string {
	s, _ := path(v, p).(string)
	return s
}

type apiErrBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorLink    string `json:"errorLink"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

var errorIDRe = regexp.MustCompile(`^oae[A-Za-z0-9_-]{22}$`)

// wantError asserts an Okta error response with the given status and code.
func wantError(t testing.TB, resp *http.Response, body []byte, status int, code string) apiErrBody {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e apiErrBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if e.ErrorCode != code || e.ErrorLink != code {
		t.Errorf("errorCode/errorLink = %q/%q, want %q", e.ErrorCode, e.ErrorLink, code)
	}
	if !errorIDRe.MatchString(e.ErrorID) {
		t.Errorf("errorId %q does not look like oae + 22 base64url chars", e.ErrorID)
	}
	if e.ErrorCauses == nil {
		t.Errorf("errorCauses missing (want an array): %s", body)
	}
	if resp.Header.Get("X-Okta-Request-Id") == "" || resp.Header.Get("Date") == "" {
		t.Errorf("error response lacks X-Okta-Request-Id or Date")
	}
	return e
}

// newReq builds a GET with a raw Authorization header value.
func newReq(url, authorization string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", authorization)
	return req, nil
}
