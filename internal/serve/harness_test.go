package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"oktasync/internal/connector"
	"oktasync/internal/serve/apicheck"
	"oktasync/internal/synctest"
	"oktasync/oktasim"
)

// harness is a service on a simulated org, behind a loopback server, with
// a read-write and a read-only key. Every answer is held to openapi.json.
type harness struct {
	t             *testing.T
	svc           *Service
	srv           *httptest.Server
	key, roKey    string
	token, secret string // the org's API token; the sealing key
	simURL        string
	sim           *oktasim.Sim
	dir, state    string
	db            string
	logs          *lockedBuffer
	doc           *apicheck.Doc
	opts          Options
	stopSched     context.CancelFunc
	schedDone     chan struct{}
}

type harnessOptions struct {
	org       oktasim.Config
	timeScale float64
	noSecret  bool
	schedule  bool // run the scheduler
	jitter    func(time.Duration) time.Duration
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var testDoc = sync.OnceValues(func() (*apicheck.Doc, error) { return apicheck.Load(openAPIDoc) })

// newSealKey is a random OKTASYNC_SERVE_SECRET.
func newSealKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	doc, err := testDoc()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	h := &harness{t: t, dir: t.TempDir(), logs: &lockedBuffer{}, doc: doc}
	h.state = filepath.Join(h.dir, "oktasync-serve.json")
	h.db = filepath.Join(h.dir, "okta.duckdb")
	if h.key, _, err = CreateKey(h.state, false); err != nil {
		t.Fatal(err)
	}
	if h.roKey, _, err = CreateKey(h.state, true); err != nil {
		t.Fatal(err)
	}
	// A token no other string of the test holds, to find it wherever it leaks.
	h.token = "00TOKEN" + randomHex(16)
	if o.org.Users == 0 {
		o.org = oktasim.Config{Seed: 7, Users: 40, Groups: 5, Apps: 4, Devices: 6, Logs: 300}
	}
	if o.timeScale == 0 {
		o.timeScale = 600
	}
	o.org.Tokens = map[string]string{h.token: "SUPER_ADMIN"}
	o.org.TimeScale = o.timeScale
	o.org.LinkBaseURL = "https://acme.okta.example"
	h.sim, h.simURL = synctest.StartSim(t, o.org)
	if !o.noSecret {
		h.secret = newSealKey()
	}
	h.opts = Options{
		Config:    &connector.Config{Destination: connector.Destination{Path: h.db}, TimeScale: o.timeScale},
		StatePath: h.state,
		Getenv: func(name string) string {
			if name == SecretEnv {
				return h.secret
			}
			return "" // nothing of the machine's environment
		},
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Jitter: o.jitter,
	}
	h.start(o.schedule)
	t.Cleanup(h.stop)
	return h
}

// start starts the service (again) on the same state and destination.
func (h *harness) start(schedule bool) {
	h.t.Helper()
	svc, err := New(context.Background(), h.opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.svc = svc
	h.srv = httptest.NewServer(svc.Handler())
	if schedule {
		ctx, cancel := context.WithCancel(context.Background())
		h.stopSched, h.schedDone = cancel, make(chan struct{})
		go func() {
			defer close(h.schedDone)
			svc.Run(ctx)
		}()
	}
}

// stop shuts the service down as SIGTERM does, with no grace.
func (h *harness) stop() {
	if h.srv == nil {
		return
	}
	h.srv.Close()
	if h.stopSched != nil {
		h.stopSched()
		<-h.schedDone
		h.stopSched = nil
	}
	h.svc.Shutdown(0)
	h.srv = nil
}

// do sends a request with a key ("" for none) and holds the answer to the
// document.
func (h *harness) do(method, path, body, key string) (int, http.Header, []byte) {
	h.t.Helper()
	return h.doWith(method, path, body, key, "application/json")
}

func (h *harness) doWith(method, path, body, key, contentType string) (int, http.Header, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	urlPath, _, _ := strings.Cut(path, "?")
	if _, documented := h.doc.Match(method, urlPath); documented {
		if err := h.doc.CheckResponse(method, urlPath, resp.StatusCode, resp.Header, data); err != nil {
			h.t.Errorf("%s %s: the answer is not what openapi.json says: %v\n%s", method, path, err, data)
		}
	}
	return resp.StatusCode, resp.Header, data
}

// ok sends a request that must answer want, and decodes the answer.
func (h *harness) ok(method, path, body string, want int, into any) {
	h.t.Helper()
	status, _, data := h.do(method, path, body, h.key)
	if status != want {
		h.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, status, want, data)
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			h.t.Fatalf("%s %s: %v\n%s", method, path, err, data)
		}
	}
}

// refused sends a request that must be refused with status and code, and
// must change nothing: the state file is byte for byte the same.
func (h *harness) refused(method, path, body, key string, status int, code string) apiError {
	h.t.Helper()
	before, _ := os.ReadFile(h.state)
	got, _, data := h.do(method, path, body, key)
	var e struct{ Error apiError }
	if err := json.Unmarshal(data, &e); err != nil {
		h.t.Fatalf("%s %s: the error is not JSON: %v\n%s", method, path, err, data)
	}
	if got != status || e.Error.Code != code || e.Error.Status != status || e.Error.Message == "" {
		h.t.Errorf("%s %s %s: got %d %s, want %d %s\n%s", method, path, abbrev(body), got, e.Error.Code, status, code, data)
	}
	if after, _ := os.ReadFile(h.state); !bytes.Equal(before, after) {
		h.t.Errorf("%s %s %s: a refused request changed the state file", method, path, abbrev(body))
	}
	return e.Error
}

func abbrev(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// configure points the connection at the simulator with the token.
func (h *harness) configure(frequency int) {
	h.t.Helper()
	h.ok("PATCH", "/v1/connection", `{"org_url": "`+h.simURL+`", "sync_frequency_minutes": `+itoa(frequency)+`}`, 200, nil)
	h.ok("PUT", "/v1/connection/credentials", `{"token": "`+h.token+`"}`, 200, nil)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// waitRun waits until run id has ended and returns it.
func (h *harness) waitRun(id int) Run {
	h.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var r Run
		h.ok("GET", "/v1/runs/"+itoa(id), "", 200, &r)
		if r.Status != StatusRunning {
			return r
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("run %d still running after 90s\n%s", id, h.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) runs() []RunSummary {
	h.t.Helper()
	var l runList
	h.ok("GET", "/v1/runs?limit=1000", "", 200, &l)
	return l.Runs
}
