package serve

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"oktasync/internal/browsertest"
	"oktasync/internal/connector"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestPageInBrowser: in headless Chromium, the status page asks for a key,
// then shows the tables after a sync; its sync button starts a run that
// appears in the history and ends complete. The page logs no error.
func TestPageInBrowser(t *testing.T) {
	browsertest.Exec(t)
	h := newHarness(t, harnessOptions{})
	h.configure(1440)
	var run Run
	h.ok("POST", "/v1/sync", "", 202, &run)
	h.waitRun(run.ID)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(h.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), h.key),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.ID("tables")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	users := text(t, ctx, chromedp.Text(chromedp.CSS(`tr[data-table="users"] td.num`)))
	state := text(t, ctx, chromedp.Text(chromedp.ID("state")))
	if strings.TrimSpace(users) != "40" || state != StateIdle {
		t.Errorf("after a sync the page shows users with %q rows, state %q; want 40, idle", users, state)
	}
	tables := eval[int](t, ctx, `document.querySelectorAll("#tables tbody tr").length`)
	if want := len(h.svc.schema().Tables); tables != want {
		t.Errorf("the page lists %d tables, want %d", tables, want)
	}

	// The sync button starts the next run, which the history shows until it ends.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("sync-button")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	); err != nil {
		t.Fatalf("click sync: %v", err)
	}
	if notice, want := text(t, ctx, chromedp.Text(chromedp.ID("notice"))), fmt.Sprintf("Run %d started.", run.ID+1); notice != want {
		t.Errorf("after the click: %q, want %q", notice, want)
	}
	status := ""
	for deadline := time.Now().Add(60 * time.Second); status != "complete"; {
		if time.Now().After(deadline) {
			t.Fatalf("run %d shows %q on the page after 60s", run.ID+1, status)
		}
		time.Sleep(100 * time.Millisecond)
		if err := chromedp.Do(ctx, chromedp.Navigate(h.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("history"))); err != nil {
			t.Fatal(err)
		}
		status = eval[string](t, ctx, fmt.Sprintf(`(document.querySelector('tr[data-run="%d"] .state') || {}).textContent || ""`, run.ID+1))
	}
	if bars := eval[int](t, ctx, `document.querySelectorAll("#chart rect.bar").length`); bars != 2 {
		t.Errorf("the chart has %d bars, want one per run (2)", bars)
	}
	if runs := h.runs(); len(runs) != 2 || runs[0].Trigger != TriggerPage {
		t.Errorf("the API's history after the click: %+v", runs)
	}
	// The re-sync button re-imports the tables typed beside it; a wrong
	// name is refused with the closest one.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="tables"]`), "userz"),
		chromedp.Click(chromedp.ID("resync-button")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	); err != nil {
		t.Fatalf("click re-sync: %v", err)
	}
	if notice := text(t, ctx, chromedp.Text(chromedp.ID("notice"))); !strings.Contains(notice, "did you mean users?") {
		t.Errorf("re-sync of userz: %q", notice)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="tables"]`), "users"),
		chromedp.Click(chromedp.ID("resync-button")),
	); err != nil {
		t.Fatalf("click re-sync: %v", err)
	}
	// The page the click leads to, not the one before it.
	want := fmt.Sprintf("Run %d started.", run.ID+2)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		notice := eval[string](t, ctx, `(document.getElementById("notice") || {}).textContent || ""`)
		if notice == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the re-sync click: %q, want %q", notice, want)
		}
	}
	resync := h.waitRun(run.ID + 2)
	if resync.Kind != KindResync || resync.Trigger != TriggerPage || !slices.Equal(resync.ResyncTables, []string{"users"}) || resync.Status != "complete" {
		t.Errorf("the re-sync button's run: %+v", resync.RunSummary)
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("the page logged errors: %v", errs)
	}
	// Logged out, the page asks for a key again.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`header button`)),
		chromedp.WaitVisible(chromedp.ID("key")),
	); err != nil {
		t.Errorf("log out: %v", err)
	}
}

// TestPageForms: the page's forms need the session and its form token; a
// read-only key sees no buttons and cannot sync.
func TestPageForms(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := newJarClient(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := func(path string, form map[string][]string) *http.Response {
		t.Helper()
		resp, err := c.PostForm(h.srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("/ui/sync", nil); r.StatusCode != 401 {
		t.Errorf("sync without a session: %d", r.StatusCode)
	}
	if r := post("/ui/login", map[string][]string{"key": {"oks_nope_x"}}); r.StatusCode != 401 {
		t.Errorf("login with a wrong key: %d", r.StatusCode)
	}
	if r := post("/ui/login", map[string][]string{"key": {h.roKey}}); r.StatusCode != 303 {
		t.Fatalf("login: %d", r.StatusCode)
	}
	resp, err := c.Get(h.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if strings.Contains(page, `id="sync-button"`) || !strings.Contains(page, `id="tables"`) {
		t.Errorf("a read-only session: sync button shown or tables missing")
	}
	if problem := between(page, `id="problem">`, "<"); !strings.Contains(problem, "no org URL") {
		t.Errorf("the page of a connection that cannot sync does not say why: %q", problem)
	}
	csrf := between(page, `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatalf("no form token on the page")
	}
	if r := post("/ui/sync", map[string][]string{"csrf": {"forged"}}); r.StatusCode != 403 {
		t.Errorf("a forged form token: %d", r.StatusCode)
	}
	if r := post("/ui/sync", map[string][]string{"csrf": {csrf}}); r.StatusCode != 403 {
		t.Errorf("a read-only key syncing from the page: %d", r.StatusCode)
	}
	if r := post("/ui/logout", map[string][]string{"csrf": {csrf}}); r.StatusCode != 303 {
		t.Errorf("logout: %d", r.StatusCode)
	}
	if r := post("/ui/sync", map[string][]string{"csrf": {csrf}}); r.StatusCode != 401 {
		t.Errorf("sync after logout: %d", r.StatusCode)
	}
	if len(h.runs()) != 0 {
		t.Errorf("a refused form started a run")
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

// TestPageScreenshot renders the page of a fixed history in Chromium and
// compares it with testdata/page.png (go test -run TestPageScreenshot
// -update rewrites it): a page whose layout or styles break fails.
func TestPageScreenshot(t *testing.T) {
	browsertest.Exec(t)
	h := newHarness(t, harnessOptions{})
	h.ok("PATCH", "/v1/connection", `{"org_url": "https://acme.okta.com", "sync_frequency_minutes": 60}`, 200, nil)
	h.ok("PUT", "/v1/connection/credentials", `{"token": "`+h.token+`"}`, 200, nil)
	h.ok("PATCH", "/v1/schema", `{"tables": {"users": {"history": true}, "device": {"enabled": false}}}`, 200, nil)
	h.svc.mu.Lock()
	h.svc.runs = fixtureRuns(h.svc.schema())
	h.svc.mu.Unlock()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(h.srv.URL+"/"),
		chromedp.SendKeys(chromedp.ID("key"), h.key),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.ID("tables")),
	); err != nil {
		t.Fatal(err)
	}
	// Nothing of the page may stick out of the window's width.
	if overflow := eval[int](t, ctx, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
		t.Errorf("the page is %dpx wider than the window", overflow)
	}
	browsertest.CompareScreenshot(t, browsertest.Screenshot(t, ctx), "testdata/page.png", *update)
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("the page logged errors: %v", errs)
	}
}

// fixtureRuns is a history of 12 runs on a fixed clock: complete ones of
// growing size, a failed one and a partial one.
func fixtureRuns(schema schemaDoc) []*Run {
	base := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	var runs []*Run
	for i := range 12 {
		r := newRun(i+1, KindSync, TriggerSchedule, nil, base.Add(time.Duration(i)*time.Hour))
		code, status := 0, "complete"
		switch i {
		case 7:
			code, status = 1, "failed"
		case 11:
			code, status = 3, "partial"
		}
		dur := 20 + float64(i*i)
		fin := r.StartedAt.Add(time.Duration(dur) * time.Second)
		r.Status, r.ExitStatus, r.FinishedAt, r.DurationSeconds = status, &code, &fin, dur
		if status == "failed" {
			r.Error = "authentication failed, sync stopped: 401 Unauthorized (E0000011: Invalid token provided)"
			runs = append(runs, r)
			continue
		}
		var tr *connector.TableJSON
		for j, t := range schema.Tables {
			n := int64(100*(j+1) + 10*i)
			if t.Parent != "" {
				// Child tables' rows are their top-level table's.
				tr.RowsByTable[t.Name] = n
				tr.Rows += n
				r.Rows += n
				continue
			}
			if tr != nil {
				r.Tables = append(r.Tables, *tr)
			}
			tr = &connector.TableJSON{Table: t.Name, Status: "ok", RowsByTable: map[string]int64{t.Name: n}, Requests: 3}
			if status == "partial" && t.Name == "user_role" {
				tr.Status, tr.Error = "skipped", "forbidden: the token's admin lacks a role that may read it (Super Administrator)"
			}
			tr.Rows = n
			r.Rows += n
			r.Requests += tr.Requests
		}
		r.Tables = append(r.Tables, *tr)
		runs = append(runs, r)
	}
	return runs
}

func text(t *testing.T, ctx context.Context, a chromedp.Action[string]) string {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}
