package serve

import (
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/runtime"
)

// TestOpenAPIMatchesRoutes: every route is documented and every documented
// route exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := testDoc()
	if err != nil {
		t.Fatal(err)
	}
	var documented, served []string
	for _, r := range doc.Routes() {
		documented = append(documented, r.Method+" "+r.Path)
	}
	for _, r := range routes {
		served = append(served, r.method+" "+r.path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served and not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in openapi.json and not served", r)
		}
	}
}

func TestAuth(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	e := h.refused("GET", "/v1/connection", "", "", 401, "unauthorized")
	if !strings.Contains(e.Message, "--create-key") {
		t.Errorf("401 does not say how to get a key: %s", e.Message)
	}
	h.refused("GET", "/v1/connection", "", "oks_0000_nope", 401, "unauthorized")
	// A real key's ID with another secret.
	id, _, _ := strings.Cut(strings.TrimPrefix(h.key, keyPrefix), "_")
	h.refused("GET", "/v1/connection", "", keyPrefix+id+"_"+strings.Repeat("A", 43), 401, "unauthorized")
	h.refused("GET", "/metrics", "", "", 401, "unauthorized")
	h.refused("GET", "/openapi.json", "", "", 401, "unauthorized")
	_, hdr, _ := h.do("GET", "/v1/runs", "", "")
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: Bearer: %q", hdr.Get("WWW-Authenticate"))
	}
	// A read-only key reads and changes nothing.
	if status, _, _ := h.do("GET", "/v1/connection", "", h.roKey); status != 200 {
		t.Errorf("read-only GET: %d", status)
	}
	h.refused("PATCH", "/v1/connection", `{"paused": true}`, h.roKey, 403, "forbidden")
	h.refused("POST", "/v1/sync", "", h.roKey, 403, "forbidden")
	h.refused("PUT", "/v1/connection/credentials", `{"token": "x"}`, h.roKey, 403, "forbidden")
	if status, _, body := h.do("GET", "/healthz", "", ""); status != 200 || string(body) != "ok\n" {
		t.Errorf("healthz: %d %q", status, body)
	}
	// A key made while the service runs works at once, and survives the
	// service's own writes of the state file.
	fresh, _, err := CreateKey(h.state, false)
	if err != nil {
		t.Fatal(err)
	}
	h.ok("PATCH", "/v1/connection", `{"paused": true}`, 200, nil)
	if status, _, _ := h.do("GET", "/v1/connection", "", fresh); status != 200 {
		t.Errorf("a key made while the service runs: %d", status)
	}
	// A key revoked while the service runs stops working.
	ro, _, _ := strings.Cut(strings.TrimPrefix(h.roKey, keyPrefix), "_")
	if err := RevokeKey(h.state, ro); err != nil {
		t.Fatal(err)
	}
	h.refused("GET", "/v1/connection", "", h.roKey, 401, "unauthorized")
}

func TestRoutingErrors(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.refused("GET", "/v1/nope", "", h.key, 404, "not_found")
	status, hdr, _ := h.do("DELETE", "/v1/connection", "", h.key)
	if status != 405 || !strings.Contains(hdr.Get("Allow"), "PATCH") {
		t.Errorf("DELETE /v1/connection: %d, Allow %q", status, hdr.Get("Allow"))
	}
}

func TestConnection(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var c connectionDoc
	h.ok("GET", "/v1/connection", "", 200, &c)
	if c.State != StateNotConfigured || c.SyncFrequency != 360 || c.AuthType != "ssws" || c.Credentials.Set || c.Credentials.Source != "none" {
		t.Errorf("a new connection: %+v", c)
	}
	if !strings.Contains(c.Problem, "no org URL") || !strings.Contains(c.Problem, "no API token") {
		t.Errorf("a new connection does not say why it cannot sync: %q", c.Problem)
	}
	// Bad input: each refused, nothing changed.
	for _, tc := range []struct{ body, code string }{
		{`{"sync_frequency_minutes": 7}`, "invalid"},
		{`{"sync_frequency_minutes": "60"}`, "bad_json"},
		{`{"org_url": "ftp://acme.okta.com"}`, "invalid"},
		{`{"org_url": "http://acme.okta.com"}`, "invalid"},
		{`{"auth_type": "basic"}`, "invalid"},
		{`{"schema_change_handling": "ALLOW_SOME"}`, "invalid"},
		{`{"paused": true, "sync_frequency_minutes": 0}`, "invalid"},
		{`{"org_url": "https://acme.okta.com",}`, "bad_json"},
		{`{"org_url": "https://acme.okta.com"`, "bad_json"},
		{`{"orgurl": "https://acme.okta.com"}`, "bad_json"},
		{`{"paused": true} {"paused": false}`, "bad_json"},
		{`[]`, "bad_json"},
	} {
		status := 422
		if tc.code == "bad_json" {
			status = 400
		}
		h.refused("PATCH", "/v1/connection", tc.body, h.key, status, tc.code)
	}
	e := h.refused("PATCH", "/v1/connection", `{"sync_frequency_minutes": 7, "auth_type": "basic"}`, h.key, 422, "invalid")
	if len(e.Details) != 2 || !strings.Contains(e.Message, "5, 15, 30, 60") {
		t.Errorf("every problem at once, with what is allowed: %+v", e)
	}
	e = h.refused("PATCH", "/v1/connection", `{"sync_frequency_minutes": "60"}`, h.key, 400, "bad_json")
	if !strings.Contains(e.Message, "sync_frequency_minutes must be a whole number, not string") {
		t.Errorf("a value of the wrong type is named with what it must be: %s", e.Message)
	}
	e = h.refused("PATCH", "/v1/connection", `{"orgurl": "x"}`, h.key, 400, "bad_json")
	if !strings.Contains(e.Message, `"orgurl"`) {
		t.Errorf("an unknown field is named: %s", e.Message)
	}
	h.refused("PATCH", "/v1/connection", `{"org_url": "`+strings.Repeat("a", maxBody)+`"}`, h.key, 413, "too_large")
	status, _, _ := h.doWith("PATCH", "/v1/connection", `{"paused": true}`, h.key, "text/plain")
	if status != 415 {
		t.Errorf("text/plain body: %d, want 415", status)
	}
	h.refused("PATCH", "/v1/connection", ``, h.key, 400, "bad_json")

	h.ok("PATCH", "/v1/connection", `{"org_url": "https://acme.okta.com/some/path", "sync_frequency_minutes": 60, "schema_change_handling": "BLOCK_ALL"}`, 200, &c)
	if c.OrgURL != "https://acme.okta.com" || c.SyncFrequency != 60 || c.SchemaChangeHandling != "BLOCK_ALL" {
		t.Errorf("after PATCH: %+v", c)
	}
	// Kept: a restarted service has them.
	h.stop()
	h.start(false)
	h.ok("GET", "/v1/connection", "", 200, &c)
	if c.OrgURL != "https://acme.okta.com" || c.SyncFrequency != 60 {
		t.Errorf("after a restart: %+v", c)
	}
	h.ok("POST", "/v1/pause", "", 200, &c)
	if !c.Paused {
		t.Errorf("pause: %+v", c)
	}
	h.ok("POST", "/v1/resume", "", 200, &c)
	if c.Paused {
		t.Errorf("resume: %+v", c)
	}
}

func TestCredentials(t *testing.T) {
	t.Run("no secret", func(t *testing.T) {
		h := newHarness(t, harnessOptions{noSecret: true})
		e := h.refused("PUT", "/v1/connection/credentials", `{"token": "`+h.token+`"}`, h.key, 503, "secret_unset")
		if !strings.Contains(e.Message, SecretEnv) {
			t.Errorf("503 does not name %s: %s", SecretEnv, e.Message)
		}
	})
	h := newHarness(t, harnessOptions{})
	for _, body := range []string{
		`{}`,
		`{"token": "a b"}`,
		`{"token": "x", "client_id": "y"}`,
		`{"client_id": "0oa1"}`,
		`{"client_id": "0oa1", "private_key": "not a key"}`,
		`{"private_key": "-----BEGIN PRIVATE KEY-----"}`,
	} {
		e := h.refused("PUT", "/v1/connection/credentials", body, h.key, 422, "invalid")
		if strings.Contains(e.Message, "not a key") {
			t.Errorf("an error quotes a credential: %s", e.Message)
		}
	}
	h.refused("PUT", "/v1/connection/credentials", `{"token": 12}`, h.key, 400, "bad_json")
	var c connectionDoc
	h.ok("PUT", "/v1/connection/credentials", `{"client_id": "0oa1", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"}`, 200, &c)
	if !c.Credentials.Set || c.Credentials.Kind != "oauth" || c.AuthType != "oauth" || c.Credentials.Source != "api" || c.Credentials.UpdatedAt == nil {
		t.Errorf("after an OAuth PUT: %+v", c)
	}
	h.ok("PUT", "/v1/connection/credentials", `{"token": "`+h.token+`"}`, 200, &c)
	if c.Credentials.Kind != "token" || c.AuthType != "ssws" {
		t.Errorf("after a token PUT: %+v", c)
	}
	// Sealed under another key they do not open: a clear error, no token.
	h.stop()
	h.secret = newSealKey()
	h.start(false)
	h.ok("PATCH", "/v1/connection", `{"org_url": "`+h.simURL+`"}`, 200, &c)
	if c.State != StateNotConfigured || !strings.Contains(c.Problem, "do not open with "+SecretEnv) {
		t.Errorf("credentials sealed under another key: state %s, problem %q", c.State, c.Problem)
	}
	e := h.refused("POST", "/v1/sync", "", h.key, 409, "not_configured")
	if !strings.Contains(e.Message, "do not open with "+SecretEnv) {
		t.Errorf("not_configured does not say why: %s", e.Message)
	}
}

func TestSchema(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var s schemaDoc
	h.ok("GET", "/v1/schema", "", 200, &s)
	n := 0
	okta.Registry.Walk(func(*runtime.Table) { n++ })
	if len(s.Tables) != n {
		t.Fatalf("GET /v1/schema: %d tables, the registry has %d", len(s.Tables), n)
	}
	users := findTable(t, s, "users")
	if !users.Enabled || users.History || !findColumn(t, users, "id").PrimaryKey || findColumn(t, users, "id").Type == "" {
		t.Errorf("users: %+v", users)
	}
	for _, tc := range []struct {
		body, want string
	}{
		{`{"tables": {"userz": {"history": true}}}`, "tables.userz: no such table; did you mean users?"},
		{`{"tables": {"users": {"columns": {"profile_emial": {"hashed": true}}}}}`, "did you mean profile_email?"},
		{`{"tables": {"users": {"columns": {"id": {"enabled": false}}}}}`, "tables.users.columns.id.enabled: cannot be blocked: it is part of the primary key"},
		{`{"schema_change_handling": "NOPE"}`, "unknown policy"},
		// One bad setting refuses the good ones with it.
		{`{"tables": {"groups": {"history": true}, "userz": {}}}`, "no such table"},
	} {
		e := h.refused("PATCH", "/v1/schema", tc.body, h.key, 422, "invalid")
		if !strings.Contains(e.Message, tc.want) {
			t.Errorf("PATCH /v1/schema %s: %q, want it to say %q", tc.body, e.Message, tc.want)
		}
	}
	h.refused("PATCH", "/v1/schema", `{"tables": {"users": {"history": "yes"}}}`, h.key, 400, "bad_json")
	h.refused("PATCH", "/v1/schema", `{"tables": {"users": {"histroy": true}}}`, h.key, 400, "bad_json")
	h.refused("GET", "/v1/schema/tables/userz", "", h.key, 404, "not_found")
	h.refused("PATCH", "/v1/schema/tables/userz", `{"history": true}`, h.key, 404, "not_found")
	e := h.refused("PATCH", "/v1/schema/tables/users/columns/nope", `{"hashed": true}`, h.key, 404, "not_found")
	if !strings.Contains(e.Message, "no such column") {
		t.Errorf("unknown column: %s", e.Message)
	}
	h.refused("PATCH", "/v1/schema/tables/users/columns/id", `{"enabled": false}`, h.key, 422, "invalid")

	h.ok("PATCH", "/v1/schema", `{"tables": {"users": {"history": true, "columns": {"profile_email": {"hashed": true}}}, "device": {"enabled": false}}}`, 200, &s)
	if u := findTable(t, s, "users"); !u.History || !findColumn(t, u, "profile_email").Hashed {
		t.Errorf("after PATCH: users %+v", u)
	}
	if findTable(t, s, "device").Enabled {
		t.Errorf("device still enabled")
	}
	var tbl tableDoc
	h.ok("PATCH", "/v1/schema/tables/device", `{"enabled": true}`, 200, &tbl)
	if !tbl.Enabled {
		t.Errorf("device not enabled again: %+v", tbl)
	}
	var col columnDoc
	h.ok("PATCH", "/v1/schema/tables/users/columns/profile_mobile_phone", `{"enabled": false}`, 200, &col)
	if col.Enabled || col.Name != "profile_mobile_phone" {
		t.Errorf("column after PATCH: %+v", col)
	}
	h.ok("GET", "/v1/schema/tables/users", "", 200, &tbl)
	if findColumn(t, tbl, "profile_mobile_phone").Enabled || !findColumn(t, tbl, "profile_email").Hashed {
		t.Errorf("users: %+v", tbl)
	}
	// The settings are the sync's: a sync writes what they say.
	h.configure(1440)
	cfg, err := h.svc.syncConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Tables["users"].History || !cfg.Tables["users"].Columns["profile_email"].Hashed {
		t.Errorf("the sync's config lacks the settings: %+v", cfg.Tables["users"])
	}
}

func findTable(t *testing.T, s schemaDoc, name string) tableDoc {
	t.Helper()
	for _, tb := range s.Tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("no table %s", name)
	return tableDoc{}
}

func findColumn(t *testing.T, tb tableDoc, name string) columnDoc {
	t.Helper()
	for _, c := range tb.Columns {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s: no column %s", tb.Name, name)
	return columnDoc{}
}

func TestSyncResyncAndRuns(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.refused("POST", "/v1/sync", "", h.key, 409, "not_configured")
	h.configure(1440)
	var run Run
	h.ok("POST", "/v1/sync", "", 202, &run)
	if run.Status != StatusRunning || run.Trigger != TriggerAPI || run.Kind != KindSync || run.ExitStatus != nil {
		t.Errorf("a started run: %+v", run.RunSummary)
	}
	// Never two at once: the second is refused with the first's ID.
	e := h.refused("POST", "/v1/sync", "", h.key, 409, "sync_running")
	if e.RunID != run.ID {
		t.Errorf("409 names run %d, want %d", e.RunID, run.ID)
	}
	h.refused("POST", "/v1/resync", `{"tables": ["users"]}`, h.key, 409, "sync_running")
	done := h.waitRun(run.ID)
	if done.Status != "complete" || done.ExitStatus == nil || *done.ExitStatus != 0 || done.Rows == 0 || done.Requests == 0 || done.FinishedAt == nil {
		t.Fatalf("the run: %+v\n%s", done.RunSummary, h.logs.String())
	}
	users := -1
	for _, tr := range done.Tables {
		if tr.Table == "users" {
			users = int(tr.RowsByTable["users"])
		}
	}
	if users != 40 {
		t.Errorf("users rows in the run: %d, want 40", users)
	}
	h.refused("POST", "/v1/sync", `{"full": true}`, h.key, 400, "bad_json")
	h.refused("POST", "/v1/resync", `{"tables": ["userz"]}`, h.key, 422, "invalid")
	h.refused("POST", "/v1/resync", `{"tables": "users"}`, h.key, 400, "bad_json")
	h.ok("POST", "/v1/resync", `{"tables": ["users"]}`, 202, &run)
	if run.Kind != KindResync || !slices.Equal(run.ResyncTables, []string{"users"}) {
		t.Errorf("resync run: %+v", run.RunSummary)
	}
	re := h.waitRun(run.ID)
	if re.Status != "complete" {
		t.Errorf("resync: %+v", re.RunSummary)
	}
	for _, tr := range re.Tables {
		if tr.Table == "users" && tr.Resync == "" {
			t.Errorf("users was not re-imported: %+v", tr)
		}
	}
	runs := h.runs()
	if len(runs) != 2 || runs[0].ID != run.ID {
		t.Errorf("history, newest first: %+v", runs)
	}
	var l runList
	h.ok("GET", "/v1/runs?limit=1", "", 200, &l)
	if len(l.Runs) != 1 {
		t.Errorf("limit=1: %d runs", len(l.Runs))
	}
	for _, bad := range []string{"0", "1001", "x"} {
		h.refused("GET", "/v1/runs?limit="+bad, "", h.key, 422, "invalid")
	}
	h.refused("GET", "/v1/runs/999", "", h.key, 404, "not_found")
	h.refused("GET", "/v1/runs/abc", "", h.key, 404, "not_found")

	// The history is the destination's: a restarted service has it.
	h.stop()
	h.start(false)
	if got := h.runs(); len(got) != 2 || got[0].Status != "complete" || got[1].Status != "complete" {
		t.Errorf("history after a restart: %+v", got)
	}
	var c connectionDoc
	h.ok("GET", "/v1/connection", "", 200, &c)
	if c.LastSuccessAt == nil || c.State != StateIdle {
		t.Errorf("connection after a restart: %+v", c)
	}
}

// TestMetrics: /metrics is valid exposition text and counts a run.
func TestMetrics(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.configure(1440)
	var run Run
	h.ok("POST", "/v1/sync", "", 202, &run)
	h.waitRun(run.ID)
	status, hdr, body := h.do("GET", "/metrics", "", h.roKey)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", status, hdr.Get("Content-Type"))
	}
	samples := parseExposition(t, string(body))
	for name, want := range map[string]func(float64) bool{
		`oktasync_sync_runs_total{status="complete"}`:      func(v float64) bool { return v == 1 },
		`oktasync_rows_total{table="users"}`:               func(v float64) bool { return v == 40 },
		`oktasync_requests_total{table="users"}`:           func(v float64) bool { return v > 0 },
		`oktasync_sync_duration_seconds_count`:             func(v float64) bool { return v == 1 },
		`oktasync_sync_duration_seconds_bucket{le="+Inf"}`: func(v float64) bool { return v == 1 },
		`oktasync_last_success_timestamp_seconds`:          func(v float64) bool { return v > 1.7e9 },
		`oktasync_sync_running`:                            func(v float64) bool { return v == 0 },
		`oktasync_rate_limit_wait_seconds_total`:           func(v float64) bool { return v >= 0 },
		`oktasync_next_sync_timestamp_seconds`:             func(v float64) bool { return v >= 0 },
		`oktasync_rate_limited_total{bucket="users"}`:      func(v float64) bool { return v >= 0 },
	} {
		v, ok := samples[name]
		if !ok {
			t.Errorf("no sample %s", name)
		} else if !want(v) {
			t.Errorf("%s = %g", name, v)
		}
	}
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})?) (\S+)$`)
	typeLine   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$`)
)

// parseExposition checks Prometheus' text format line by line (a TYPE
// before the samples of each metric, one TYPE per metric, numbers that
// parse, cumulative histogram buckets) and returns the samples.
func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	typed := map[string]string{}
	var lastBucket float64
	for line := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n") {
		if m := typeLine.FindStringSubmatch(line); m != nil {
			if _, dup := typed[m[1]]; dup {
				t.Errorf("TYPE twice for %s", m[1])
			}
			typed[m[1]], lastBucket = m[2], 0
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("not a sample line: %q", line)
			continue
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil && m[4] != "+Inf" {
			t.Errorf("%q: value %q", line, m[4])
		}
		name, _, _ := strings.Cut(m[1], "{")
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if typed[name] == "" && typed[base] != "histogram" {
			t.Errorf("%s: a sample before its TYPE", name)
		}
		if strings.HasSuffix(name, "_bucket") {
			if v < lastBucket {
				t.Errorf("%s: buckets not cumulative", line)
			}
			lastBucket = v
		}
		out[m[1]] = v
	}
	return out
}

// TestNoSecretsAnywhere: a token sent to the API is in no answer, no log
// line, no file of the service (the state file holds it sealed) and not in
// the destination, after a sync with it and a failed one.
func TestNoSecretsAnywhere(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.configure(1440)
	var answers []string
	record := func(method, path, body string) {
		_, _, data := h.do(method, path, body, h.key)
		answers = append(answers, string(data))
	}
	var run Run
	h.ok("POST", "/v1/sync", "", 202, &run)
	h.waitRun(run.ID)
	// A refused token: the sync fails and says so, without the token.
	wrong := "00WRONG" + randomHex(16)
	h.ok("PUT", "/v1/connection/credentials", `{"token": "`+wrong+`"}`, 200, nil)
	h.ok("POST", "/v1/sync", "", 202, &run)
	if r := h.waitRun(run.ID); r.Status != "failed" || r.Error == "" {
		t.Errorf("a sync with a revoked token: %+v", r.RunSummary)
	}
	for _, p := range []string{"/v1/connection", "/v1/schema", "/v1/runs", "/v1/runs/1", "/v1/runs/2", "/metrics", "/openapi.json"} {
		record("GET", p, "")
	}
	record("PUT", "/v1/connection/credentials", `{"token": "`+h.token+` x"}`)
	page := h.loggedInPage()
	h.stop()
	haystacks := map[string]string{"logs": h.logs.String(), "page": page, "answers": strings.Join(answers, "\n")}
	entries, err := os.ReadDir(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(h.dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		haystacks[e.Name()] = string(data)
	}
	if _, ok := haystacks["okta.duckdb"]; !ok {
		t.Fatalf("no destination file among %v", entries)
	}
	if !strings.Contains(haystacks["oktasync-serve.json"], `"sealed"`) {
		t.Errorf("the state file holds no sealed credentials")
	}
	for where, text := range haystacks {
		for _, needle := range []string{h.token, h.token[7:], wrong, wrong[7:], h.secret} {
			if strings.Contains(text, needle) {
				t.Errorf("the credential %q... is in %s", needle[:8], where)
			}
		}
	}
}

// loggedInPage logs in to the page with the key and returns the page.
func (h *harness) loggedInPage() string {
	h.t.Helper()
	resp, err := newJarClient(h.t).PostForm(h.srv.URL+"/ui/login", map[string][]string{"key": {h.key}})
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data := readBody(h.t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(data, `id="tables"`) {
		h.t.Fatalf("login: %d\n%s", resp.StatusCode, data)
	}
	return data
}

// newJarClient is a client that keeps cookies, as a browser does.
func newJarClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// TestFirstStartTakesTheConfig: the first start fills the connection and the
// table settings from the config file and the environment a sync reads;
// later starts keep what the API changed.
func TestFirstStartTakesTheConfig(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.stop()
	if err := os.WriteFile(h.state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if h.key, _, err = CreateKey(h.state, false); err != nil {
		t.Fatal(err)
	}
	yes := true
	h.opts.Config = &connector.Config{Destination: h.opts.Config.Destination, SyncFrequency: 60, SchemaChangeHandling: "ALLOW_COLUMNS",
		Tables: map[string]connector.TableConfig{"users": {History: true, Columns: map[string]connector.ColumnConfig{"profile_email": {Hashed: yes}}}}}
	getenv := h.opts.Getenv
	h.opts.Getenv = func(name string) string {
		switch name {
		case connector.EnvOrgURL:
			return "https://acme.okta.com"
		case connector.EnvAuthMode:
			return "PrivateKey"
		}
		return getenv(name)
	}
	h.start(false)
	var c connectionDoc
	h.ok("GET", "/v1/connection", "", 200, &c)
	if c.OrgURL != "https://acme.okta.com" || c.AuthType != "oauth" || c.SyncFrequency != 60 || c.SchemaChangeHandling != "ALLOW_COLUMNS" {
		t.Errorf("seeded connection: %+v", c)
	}
	var tbl tableDoc
	h.ok("GET", "/v1/schema/tables/users", "", 200, &tbl)
	if !tbl.History || !findColumn(t, tbl, "profile_email").Hashed {
		t.Errorf("seeded users: %+v", tbl)
	}
	h.ok("PATCH", "/v1/connection", `{"sync_frequency_minutes": 120}`, 200, nil)
	h.stop()
	h.start(false)
	h.ok("GET", "/v1/connection", "", 200, &c)
	if c.SyncFrequency != 120 {
		t.Errorf("after a restart the config file's frequency came back: %d", c.SyncFrequency)
	}
}
