package serve

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

//go:embed page.html
var pageFS embed.FS

var pageTemplate = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"sub": func(a, b float64) float64 { return a - b },
	"ptr": func(t time.Time) *time.Time { return &t },
	"secs": func(s float64) string {
		if s < 60 {
			return fmt.Sprintf("%.1fs", s)
		}
		return (time.Duration(s) * time.Second).Round(time.Second).String()
	},
}).ParseFS(pageFS, "page.html"))

// sessionCookie holds the page's session after a login with an API key.
const sessionCookie = "oktasync_session"

// sessionTTL is how long a page session lasts.
const sessionTTL = 12 * time.Hour

type pageSession struct {
	keyID    string
	readOnly bool
	csrf     string // every form of the page carries it
	expires  time.Time
}

// sessions are the page's logins, in memory: a restart logs everyone out.
type sessions struct {
	mu sync.Mutex
	m  map[string]pageSession
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session is the request's live session, if any; a session whose key was
// removed from the state file ends.
func (s *Service) session(r *http.Request) (pageSession, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return pageSession{}, false
	}
	s.sessions.mu.Lock()
	ps, ok := s.sessions.m[c.Value]
	if ok && time.Now().After(ps.expires) {
		delete(s.sessions.m, c.Value)
		ok = false
	}
	s.sessions.mu.Unlock()
	if !ok {
		return pageSession{}, false
	}
	for _, k := range s.store.keys() {
		if k.ID == ps.keyID {
			return ps, true
		}
	}
	return pageSession{}, false
}

// checkSession authorizes a form of the page: a live session and its form
// token, and a key that may write.
func (s *Service) checkSession(r *http.Request) error {
	ps, ok := s.session(r)
	if !ok {
		return &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "not logged in: open / and log in with an API key"}
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "the form could not be read"}
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(ps.csrf)) != 1 {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "the form's token does not match the session: reload the page"}
	}
	if ps.readOnly && r.URL.Path != "/ui/logout" {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "this API key is read-only: it cannot start syncs"}
	}
	return nil
}

func (s *Service) uiLogin(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "the form could not be read"}
	}
	key, ok := matchKey(s.store.keys(), strings.TrimSpace(r.PostForm.Get("key")))
	if !ok {
		return s.render(w, r, http.StatusUnauthorized, pageSession{}, false, "That API key is not known to this service.")
	}
	token := randomToken()
	s.sessions.mu.Lock()
	if s.sessions.m == nil {
		s.sessions.m = map[string]pageSession{}
	}
	for k, ps := range s.sessions.m {
		if time.Now().After(ps.expires) {
			delete(s.sessions.m, k)
		}
	}
	s.sessions.m[token] = pageSession{keyID: key.ID, readOnly: key.ReadOnly, csrf: randomToken(), expires: time.Now().Add(sessionTTL)}
	s.sessions.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

func (s *Service) uiLogout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.mu.Lock()
		delete(s.sessions.m, c.Value)
		s.sessions.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// uiSync is the page's sync and re-sync buttons; the page shows the outcome.
func (s *Service) uiSync(w http.ResponseWriter, r *http.Request) error {
	kind, tables := KindSync, []string(nil)
	if r.URL.Path == "/ui/resync" {
		kind = KindResync
		var names []string
		for _, n := range strings.Split(r.PostForm.Get("tables"), ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		var err error
		if tables, err = resyncTables(names); err != nil {
			http.Redirect(w, r, noticeURL(err.Error()), http.StatusSeeOther)
			return nil
		}
	}
	notice := ""
	if run, err := s.start(kind, TriggerPage, tables); err != nil {
		notice = err.Error()
	} else {
		notice = fmt.Sprintf("Run %d started.", run.ID)
	}
	http.Redirect(w, r, noticeURL(notice), http.StatusSeeOther)
	return nil
}

// noticeURL is the page showing a notice.
func noticeURL(notice string) string { return "/?" + url.Values{"notice": {notice}}.Encode() }

// pageTable is one row of the page's table list.
type pageTable struct {
	Name, Parent       string
	Enabled            bool
	LastSync           *time.Time
	LastRun            int
	Rows               int64
	Status, Error      string
	History, Backfills bool
}

// bar is one run in the page's chart.
type bar struct {
	ID                    int
	Status                string
	X, RowsH, DurY, Width float64
	Rows                  int64
	Seconds               float64
}

type pageData struct {
	LoggedIn, ReadOnly bool
	CSRF, Notice       string
	Conn               connectionDoc
	Tables             []pageTable
	Runs               []RunSummary
	Bars               []bar
	MaxRows            int64
	MaxSeconds         float64
	DurPath            string
	Refresh            bool
}

// page renders the status page, or the login form without a session.
func (s *Service) page(w http.ResponseWriter, r *http.Request) error {
	ps, ok := s.session(r)
	return s.render(w, r, http.StatusOK, ps, ok, r.URL.Query().Get("notice"))
}

func (s *Service) render(w http.ResponseWriter, r *http.Request, status int, ps pageSession, loggedIn bool, notice string) error {
	d := pageData{LoggedIn: loggedIn, ReadOnly: ps.readOnly, CSRF: ps.csrf, Notice: notice}
	if loggedIn {
		d.Conn = s.connection()
		d.Refresh = d.Conn.State == StateSyncing
		s.mu.Lock()
		runs := make([]*Run, len(s.runs))
		for i, run := range s.runs {
			runs[i] = run.clone()
		}
		s.mu.Unlock()
		d.Tables = pageTables(s.schema(), runs)
		for i := len(runs) - 1; i >= 0 && len(d.Runs) < 20; i-- {
			d.Runs = append(d.Runs, runs[i].RunSummary)
		}
		d.Bars, d.MaxRows, d.MaxSeconds, d.DurPath = chart(runs)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page has no script; forms post to this origin only.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	return pageTemplate.Execute(w, d)
}

// pageTables is every table with its last sync: the last run that synced it
// and that run's rows, and the error of the latest run if it failed there.
func pageTables(schema schemaDoc, runs []*Run) []pageTable {
	var out []pageTable
	parent := map[string]string{}
	for _, t := range schema.Tables {
		parent[t.Name] = t.Parent
	}
	for _, t := range schema.Tables {
		pt := pageTable{Name: t.Name, Parent: t.Parent, Enabled: t.Enabled, History: t.History}
		// A child table is written with its top-level table's run.
		top := t.Name
		for parent[top] != "" {
			top = parent[top]
		}
		for i := len(runs) - 1; i >= 0; i-- {
			r := runs[i]
			for _, tr := range r.Tables {
				if tr.Table != top {
					continue
				}
				if pt.Status == "" {
					pt.Status, pt.Error = tr.Status, tr.Error
				}
				if tr.Status == "ok" && pt.LastSync == nil {
					pt.LastSync, pt.LastRun, pt.Rows = r.FinishedAt, r.ID, tr.RowsByTable[t.Name]
					if pt.LastSync == nil {
						t := r.StartedAt
						pt.LastSync = &t
					}
				}
			}
			if pt.LastSync != nil {
				break
			}
		}
		out = append(out, pt)
	}
	return out
}

// chart lays out the last 30 runs as bars of rows with a line of durations,
// in a 600x160 box.
func chart(runs []*Run) ([]bar, int64, float64, string) {
	if len(runs) > 30 {
		runs = runs[len(runs)-30:]
	}
	var maxRows int64 = 1
	maxSec := 1.0
	for _, r := range runs {
		maxRows = max(maxRows, r.Rows)
		maxSec = max(maxSec, r.DurationSeconds)
	}
	const w, h = 600.0, 160.0
	var bars []bar
	var path strings.Builder
	step := w / 30
	for i, r := range runs {
		b := bar{ID: r.ID, Status: r.Status, X: float64(i)*step + 2, Width: step - 4, Rows: r.Rows, Seconds: r.DurationSeconds}
		b.RowsH = h * float64(r.Rows) / float64(maxRows)
		b.DurY = h - h*r.DurationSeconds/maxSec
		bars = append(bars, b)
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, b.X+b.Width/2, b.DurY)
	}
	return bars, maxRows, maxSec, strings.TrimSpace(path.String())
}
