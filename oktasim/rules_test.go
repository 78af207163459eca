package oktasim

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests for the server-side rules of okta-api.md §0, asserted on the wire.

// §0.1: a plain users list omits DEPROVISIONED users; search and filter return them; q omits them.
func TestUsersListOmitsDeprovisioned(t *testing.T) {
	s, base := startSim(t, Config{Seed: 3, Users: 300, Logs: -1})
	deprov := 0
	for _, u := range s.o.users {
		if u.status == stDeprovisioned {
			deprov++
		}
	}
	if deprov == 0 {
		t.Fatal("generator produced no DEPROVISIONED users; the test needs some")
	}
	plain, _ := pageAll(t, base+"/api/v1/users?limit=50")
	for _, u := range plain {
		if u["status"] == "DEPROVISIONED" {
			t.Fatalf("plain list returned DEPROVISIONED user %v", u["id"])
		}
	}
	if len(plain) != 300-deprov {
		t.Errorf("plain list has %d users, want %d", len(plain), 300-deprov)
	}
	filtered, _ := pageAll(t, base+"/api/v1/users?filter="+url.QueryEscape(`status eq "DEPROVISIONED"`))
	if len(filtered) != deprov {
		t.Errorf("filter status eq DEPROVISIONED: %d users, want %d", len(filtered), deprov)
	}
	searched, _ := pageAll(t, base+"/api/v1/users?search="+url.QueryEscape(`lastUpdated gt "2000-01-01T00:00:00.000Z"`))
	if len(searched) != 300 {
		t.Errorf("search lastUpdated gt 2000: %d users, want all 300 incl. DEPROVISIONED", len(searched))
	}
	resp, b := getOK(t, base+"/api/v1/users?q=a&limit=200")
	for _, u := range decodeList(t, b) {
		if u["status"] == "DEPROVISIONED" {
			t.Errorf("q query returned DEPROVISIONED user")
		}
	}
	if len(resp.Header.Values("Link")) != 0 {
		t.Errorf("q query is not paginated; got Link %v", resp.Header.Values("Link"))
	}
}

// §0.2: the System Log next link never disappears for polling queries, even on
// an empty page; bounded (since+until) queries end.
func TestLogPollingNextLinkAlwaysPresent(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 50, Logs: 900})
	since := url.QueryEscape(fmtTS(s.o.now - 31*day))
	next := base + "/api/v1/logs?limit=400&since=" + since
	var total, pages int
	for {
		resp, b := getOK(t, next)
		got := decodeList(t, b)
		pages++
		total += len(got)
		l := links(resp)
		if l["self"] == "" {
			t.Fatal("log page without self link")
		}
		if l["next"] == "" {
			t.Fatalf("polling page %d has no next link", pages)
		}
		next = l["next"]
		if len(got) == 0 {
			break
		}
		if pages > 10 {
			t.Fatal("polling never reached an empty page")
		}
	}
	if want := s.o.logs.total(); total != want {
		t.Errorf("polled %d events, want %d", total, want)
	}
	// An empty page's next link stays valid and stays empty while nothing is new.
	resp, b := getOK(t, next)
	if len(decodeList(t, b)) != 0 || links(resp)["next"] == "" {
		t.Errorf("caught-up poll: want empty page with next link, got %s / %v", b, resp.Header.Values("Link"))
	}

	until := url.QueryEscape(fmtTS(s.o.now + 1)) // until is exclusive; a last sign-in may be at now
	bounded, pages := pageAll(t, base+"/api/v1/logs?limit=400&since="+since+"&until="+until)
	if len(bounded) != total || pages != (total+399)/400 {
		t.Errorf("bounded query: %d events in %d pages, want %d in %d (the last without next)", len(bounded), pages, total, (total+399)/400)
	}
}

// §0.3: polling is in persistence order (published may go backwards) and the
// stored next link returns events appended later; bounded queries are in
// published order.
func TestLogPollingOrderAndResume(t *testing.T) {
	s, base := startSim(t, Config{Seed: 5, Users: 50, Logs: 3000})
	since := url.QueryEscape(fmtTS(s.o.now - 31*day))
	var pubs []string
	seen := map[string]bool{}
	next := base + "/api/v1/logs?limit=1000&since=" + since
	for {
		resp, b := getOK(t, next)
		page := decodeList(t, b)
		next = links(resp)["next"]
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			pubs = append(pubs, e["published"].(string))
			seen[e["uuid"].(string)] = true
		}
	}
	if want := s.o.logs.total(); len(seen) != want {
		t.Fatalf("polled %d distinct events, want %d", len(seen), want)
	}
	if sort.StringsAreSorted(pubs) {
		t.Error("polling results are in published order; Okta orders by persistence time, so some must be out of order")
	}

	res := s.Churn(ChurnSpec{NewUsers: 2, DeactivatedUsers: 1, LogEvents: 3})
	resp, b := getOK(t, next)
	page := decodeList(t, b)
	if len(page) != res.LogEvents || res.LogEvents == 0 {
		t.Fatalf("stored next link returned %d events after churn, want the %d new ones", len(page), res.LogEvents)
	}
	types := map[string]int{}
	for _, e := range page {
		if seen[e["uuid"].(string)] {
			t.Errorf("event %s returned twice", e["uuid"])
		}
		types[e["eventType"].(string)]++
	}
	if types["user.lifecycle.create"] != 2 || types["user.lifecycle.deactivate"] != 1 {
		t.Errorf("new events by type %v: want 2 user.lifecycle.create and 1 user.lifecycle.deactivate", types)
	}
	if links(resp)["next"] == "" {
		t.Error("next link missing after resume")
	}

	until := url.QueryEscape(fmtTS(s.o.now))
	bounded, _ := pageAll(t, base+"/api/v1/logs?limit=700&since="+since+"&until="+until)
	var bp []string
	for _, e := range bounded {
		bp = append(bp, e["published"].(string))
	}
	if !sort.StringsAreSorted(bp) {
		t.Error("bounded query results are not in published order")
	}
	if want := s.o.logs.total(); len(bounded) != want {
		t.Errorf("bounded query returned %d events, want %d", len(bounded), want)
	}
	desc, _ := pageAll(t, base+"/api/v1/logs?limit=700&sortOrder=DESCENDING&since="+since)
	var dp []string
	for _, e := range desc {
		dp = append(dp, e["published"].(string))
	}
	if len(dp) != len(bp) || !sort.SliceIsSorted(dp, func(i, j int) bool { return dp[i] > dp[j] }) {
		t.Errorf("DESCENDING query: %d events, sorted desc = %v", len(dp), sort.SliceIsSorted(dp, func(i, j int) bool { return dp[i] > dp[j] }))
	}
}

// The default since is 7 days before until; older events need an explicit since,
// and since more than 180 days back is rejected.
func TestLogSinceWindow(t *testing.T) {
	s, base := startSim(t, Config{Seed: 2, Users: 20, Logs: 1000, LogDays: 10})
	want := 0
	for j := range s.o.logs.total() {
		if p := s.o.logs.publishedAt(j); p >= s.o.now-7*day && p < s.o.now {
			want++
		}
	}
	def, _ := pageAll(t, base+"/api/v1/logs?limit=1000&until="+url.QueryEscape(fmtTS(s.o.now)))
	if len(def) != want || want == 0 || want >= 1000 {
		t.Errorf("default window returned %d of 1000 events spread over 10 days; want the %d of the last 7 days", len(def), want)
	}
	resp, b := get(t, base+"/api/v1/logs?since="+url.QueryEscape(fmtTS(s.o.now-181*day)), "demo-token")
	e := wantError(t, resp, b, 400, "E0000053")
	if !strings.Contains(e.ErrorSummary, "180 days") {
		t.Errorf("summary %q should mention the 180-day limit", e.ErrorSummary)
	}
	resp, b = get(t, base+"/api/v1/logs?filter="+url.QueryEscape(`published gt "2026-01-01T00:00:00.000Z"`), "demo-token")
	wantError(t, resp, b, 400, "E0000053")
}

// A fixed org clock under a time scale: the Date header runs ahead, and a
// poll from a since the client took from it (after the org clock) finds no
// event yet rather than an error; a since after the Date is still refused.
func TestLogSinceBetweenClocks(t *testing.T) {
	s, base := startSim(t, Config{Seed: 2, Users: 20, Logs: 200, TimeScale: 100000, Now: DefaultNow})
	time.Sleep(50 * time.Millisecond) // 5,000 s of the wire clock
	since := s.Now().Add(time.Hour)
	if !s.WireNow().After(since) {
		t.Fatalf("wire clock %v not past %v", s.WireNow(), since)
	}
	resp, b := get(t, base+"/api/v1/logs?since="+url.QueryEscape(since.Format(time.RFC3339)), "demo-token")
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("poll from between the clocks: %d %s, want 200 and no event", resp.StatusCode, b)
	}
	resp, b = get(t, base+"/api/v1/logs?since="+url.QueryEscape(s.WireNow().Add(24*time.Hour).Format(time.RFC3339)), "demo-token")
	wantError(t, resp, b, 400, "E0000053")
}

// No event of the log is published at or after the org's now, whatever
// the span, the scenarios and the org's size, and every event renders.
func TestLogEndsNow(t *testing.T) {
	for _, cfg := range []Config{{Seed: 2, Users: 20, Logs: 200, Now: DefaultNow},
		{Seed: 5, Users: 300, Logs: 3000, LogDays: 2, Scenarios: []string{"all"}, Now: DefaultNow},
		{Seed: 9, Users: 100, Logs: 1500, Scenarios: []string{"all"}, Now: DefaultNow},
		{Seed: 4, Users: 50, Apps: 1, Logs: 500, Now: DefaultNow},
		{Seed: 4, Users: 50, Apps: -1, Logs: 500, Now: DefaultNow}} {
		s, base := startSim(t, cfg)
		q := "/api/v1/logs?limit=1000&since=" + url.QueryEscape(s.Now().AddDate(0, 0, -60).Format(time.RFC3339)) +
			"&until=" + url.QueryEscape(s.Now().Format(time.RFC3339))
		if evs, _ := pageAll(t, base+q); len(evs) != s.Info().LogEvents {
			t.Errorf("seed %d, apps %d: %d of %d events served", cfg.Seed, cfg.Apps, len(evs), s.Info().LogEvents)
		}
		ls := &s.o.logs
		for j := range ls.total() {
			if p := ls.publishedAt(j); p >= s.o.now {
				lr := ls.rec(j)
				t.Errorf("seed %d: %s published %v, at or after now %v", cfg.Seed, evCatalog[lr.et].typ, time.UnixMilli(p).UTC(), s.Now())
			}
		}
	}
}

// System Log filter and q select events server-side.
func TestLogFilter(t *testing.T) {
	s, base := startSim(t, Config{Seed: 2, Users: 20, Logs: 2000})
	since := url.QueryEscape(fmtTS(s.o.now - 30*day))
	until := url.QueryEscape(fmtTS(s.o.now))
	f := url.QueryEscape(`eventType eq "user.authentication.sso"`)
	got, _ := pageAll(t, base+"/api/v1/logs?since="+since+"&until="+until+"&limit=1000&filter="+f)
	if len(got) == 0 {
		t.Fatal("no sso events")
	}
	for _, e := range got {
		if e["eventType"] != "user.authentication.sso" {
			t.Fatalf("filter returned %v", e["eventType"])
		}
	}
	f = url.QueryEscape(`target.type eq "AppInstance" and eventType sw "user.authentication"`)
	got2, _ := pageAll(t, base+"/api/v1/logs?since="+since+"&until="+until+"&limit=1000&filter="+f)
	if len(got2) != len(got) {
		t.Errorf("target.type filter: %d events, want %d (every sso event targets an AppInstance)", len(got2), len(got))
	}
}

// §0.4: IAM list bodies are wrapped, with the next page in _links.next.href.
func TestIAMWrappedBodies(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 100, Groups: 150, Logs: -1})
	resp, b := getOK(t, base+"/api/v1/iam/resource-sets")
	rs := decodeObj(t, b)
	sets, ok := rs["resource-sets"].([]any)
	if !ok || len(sets) == 0 {
		t.Fatalf("resource-sets body not wrapped: %s", b)
	}
	if links(resp)["self"] == "" {
		t.Error("iam list lacks Link self header")
	}
	first := sets[0].(map[string]any)
	resURL := str(first, "_links.resources.href")
	if !strings.HasSuffix(resURL, "/resources") {
		t.Fatalf("resource set _links.resources.href = %q", resURL)
	}
	resp, b = getOK(t, base+"/api/v1/iam/resource-sets/"+first["id"].(string)+"/resources")
	page1 := decodeObj(t, b)
	items1, _ := page1["resources"].([]any)
	nextHref := str(page1, "_links.next.href")
	if len(items1) != 100 || nextHref == "" {
		t.Fatalf("resources page 1: %d items, next %q; want 100 and a body next link", len(items1), nextHref)
	}
	if links(resp)["next"] != "" {
		t.Error("iam next page must be in the body, not a Link header")
	}
	_, b = getOK(t, nextHref)
	page2 := decodeObj(t, b)
	items2, _ := page2["resources"].([]any)
	if len(items2) != 30 || str(page2, "_links.next.href") != "" {
		t.Errorf("resources page 2: %d items, next %q; want 30 and no next", len(items2), str(page2, "_links.next.href"))
	}
	ids := map[string]bool{}
	for _, it := range append(items1, items2...) {
		ids[it.(map[string]any)["id"].(string)] = true
	}
	if len(ids) != 130 {
		t.Errorf("resources: %d distinct ids, want 130", len(ids))
	}
	_, b = getOK(t, base+"/api/v1/iam/roles")
	roles := decodeObj(t, b)
	rl, ok := roles["roles"].([]any)
	if !ok || len(rl) == 0 {
		t.Fatalf("roles body not wrapped: %s", b)
	}
	rid := rl[0].(map[string]any)["id"].(string)
	resp, b = getOK(t, base+"/api/v1/iam/roles/"+rid+"/permissions")
	perms := decodeObj(t, b)
	if p, ok := perms["permissions"].([]any); !ok || len(p) == 0 {
		t.Errorf("permissions body not wrapped: %s", b)
	}
	if len(resp.Header.Values("Link")) != 0 {
		t.Error("permissions is not paginated; want no Link header")
	}
	_, b = getOK(t, base+"/api/v1/iam/assignees/users")
	as := decodeObj(t, b)
	if v, ok := as["value"].([]any); !ok || len(v) == 0 {
		t.Errorf("assignees body: %s", b)
	}
}

// §0.5: users cursors are opaque (not the last id) and a bare id is rejected;
// apps and devices cursors are the last id.
func TestCursorsOpaque(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 30, Apps: 14, Devices: 10, Logs: -1})
	resp, b := getOK(t, base+"/api/v1/users?limit=5")
	page := decodeList(t, b)
	lastID := page[len(page)-1]["id"].(string)
	nu, _ := url.Parse(links(resp)["next"])
	after := nu.Query().Get("after")
	if after == lastID || !strings.HasSuffix(after, lastID) || len(after) <= len(lastID) {
		t.Errorf("users cursor %q: want an opaque value that is not the last id %q", after, lastID)
	}
	r2, b2 := get(t, base+"/api/v1/users?limit=5&after="+lastID, "demo-token")
	wantError(t, r2, b2, 400, "E0000029")

	resp, b = getOK(t, base+"/api/v1/apps?limit=3")
	apps := decodeList(t, b)
	nu, _ = url.Parse(links(resp)["next"])
	if got := nu.Query().Get("after"); got != apps[2]["id"] {
		t.Errorf("apps cursor %q, want last id %q", got, apps[2]["id"])
	}
	resp, b = getOK(t, base+"/api/v1/devices?limit=3")
	devs := decodeList(t, b)
	nu, _ = url.Parse(links(resp)["next"])
	if got := nu.Query().Get("after"); got != devs[2]["id"] {
		t.Errorf("devices cursor %q, want last id %q", got, devs[2]["id"])
	}
}

// §0.6: per-endpoint default page sizes, echoed in the self link; limits above
// the maximum are clamped.
func TestDefaultPageSizes(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 40, Groups: 12, Apps: 14, Devices: 5, Logs: 50})
	gid := s.o.ids.id(kGroup, 1)
	aid := s.o.ids.id(kApp, len(builtinApps))
	cases := []struct {
		path string
		want int
	}{
		{"/api/v1/users", 200},
		{"/api/v1/groups", 10000},
		{"/api/v1/groups/" + gid + "/users", 1000},
		{"/api/v1/groups/rules", 50},
		{"/api/v1/apps", 20},
		{"/api/v1/apps/" + aid + "/users", 50},
		{"/api/v1/apps/" + aid + "/groups", 20},
		{"/api/v1/devices", 200},
		{"/api/v1/mappings", 20},
		{"/api/v1/logs", 100},
		{"/api/v1/users?limit=1000", 200},
		{"/api/v1/groups/rules?limit=1000", 200},
		{"/api/v1/apps?limit=999", 200},
		{"/api/v1/apps/" + aid + "/users?limit=9999", 500},
		{"/api/v1/apps/" + aid + "/groups?limit=5", 20},
		{"/api/v1/logs?limit=5000", 1000},
	}
	for _, tc := range cases {
		resp, _ := getOK(t, base+tc.path)
		self, err := url.Parse(links(resp)["self"])
		if err != nil || self.Path == "" {
			t.Errorf("%s: no self link", tc.path)
			continue
		}
		if got := self.Query().Get("limit"); got != strconv.Itoa(tc.want) {
			t.Errorf("%s: self link limit=%s, want %d", tc.path, got, tc.want)
		}
	}
	// Clamping is real: 40 users with limit=1000 arrive in one page of <=200.
	resp, b := getOK(t, base+"/api/v1/users?limit=1000")
	if n := len(decodeList(t, b)); n > 200 || links(resp)["next"] != "" {
		t.Errorf("clamped users page: %d users, next %q", n, links(resp)["next"])
	}
}

// §0.7: self and next arrive as two separate Link header lines.
func TestTwoLinkHeaders(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 30, Logs: -1})
	resp, _ := getOK(t, base+"/api/v1/users?limit=10")
	vals := resp.Header.Values("Link")
	if len(vals) != 2 {
		t.Fatalf("Link header values = %q, want 2 separate lines", vals)
	}
	if !strings.HasSuffix(vals[0], `rel="self"`) || !strings.HasSuffix(vals[1], `rel="next"`) {
		t.Errorf("Link values %q: want self then next", vals)
	}
	_, pages := pageAll(t, base+"/api/v1/users?limit=10")
	resp, _ = getOK(t, base+"/api/v1/users?limit=100")
	if v := resp.Header.Values("Link"); len(v) != 1 || !strings.Contains(v[0], `rel="self"`) {
		t.Errorf("last page Link = %q, want only self", v)
	}
	if pages < 3 {
		t.Errorf("paged %d pages of 10, want >= 3", pages)
	}
}

// §0.8: bad cursors: apps 400 E0000029, devices 400 E0000031, both "Invalid cursor.".
func TestBadCursorErrors(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 10, Logs: 100})
	resp, b := get(t, base+"/api/v1/apps?after=garbage", "demo-token")
	e := wantError(t, resp, b, 400, "E0000029")
	if e.ErrorSummary != "Invalid paging request." || len(e.ErrorCauses) != 1 || e.ErrorCauses[0].ErrorSummary != "Invalid cursor." {
		t.Errorf("apps bad cursor body: %s", b)
	}
	resp, b = get(t, base+"/api/v1/devices?after=garbage", "demo-token")
	e = wantError(t, resp, b, 400, "E0000031")
	if e.ErrorSummary != "Invalid search criteria." || len(e.ErrorCauses) != 1 || e.ErrorCauses[0].ErrorSummary != "Invalid cursor." {
		t.Errorf("devices bad cursor body: %s", b)
	}
	resp, b = get(t, base+"/api/v1/logs?after=12_999999", "demo-token")
	wantError(t, resp, b, 400, "E0000053")
}

// §0.9: only E0000011 for bad or missing credentials (401).
func TestUnauthorized(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 10, Logs: -1})
	for _, tok := range []string{"", "wrong-token"} {
		resp, b := get(t, base+"/api/v1/users", tok)
		e := wantError(t, resp, b, 401, "E0000011")
		if e.ErrorSummary != "Invalid token provided" {
			t.Errorf("summary %q", e.ErrorSummary)
		}
	}
	req, _ := newReq(base+"/api/v1/users", "Bearer demo-token")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("Bearer scheme with an SSWS token: status %d, want 401", resp.StatusCode)
	}
}

// §4: deleted objects answer 404 E0000007 "Not found: Resource not found: <id> (<Type>)"
// and vanish from lists; a user needs two deletes.
func TestDeletedObjects404(t *testing.T) {
	s, base := startSim(t, Config{Seed: 4, Users: 40, Groups: 8, Logs: -1})
	var uid string
	for i, u := range s.o.users {
		if u.status == stActive {
			uid = s.o.ids.id(kUser, i)
			break
		}
	}
	s.Churn(ChurnSpec{DeleteUserIDs: []string{uid}})
	_, b := getOK(t, base+"/api/v1/users/"+uid)
	if st := decodeObj(t, b)["status"]; st != "DEPROVISIONED" {
		t.Fatalf("after first delete status = %v, want DEPROVISIONED", st)
	}
	s.Churn(ChurnSpec{DeleteUserIDs: []string{uid}})
	resp, b := get(t, base+"/api/v1/users/"+uid, "demo-token")
	e := wantError(t, resp, b, 404, "E0000007")
	if e.ErrorSummary != "Not found: Resource not found: "+uid+" (User)" {
		t.Errorf("404 summary %q", e.ErrorSummary)
	}
	all, _ := pageAll(t, base+"/api/v1/users?search="+url.QueryEscape(`status eq "DEPROVISIONED"`))
	for _, u := range all {
		if u["id"] == uid {
			t.Error("fully deleted user still listed by search")
		}
	}
	gid := s.o.ids.id(kGroup, 2)
	s.Churn(ChurnSpec{DeleteGroupIDs: []string{gid}})
	resp, b = get(t, base+"/api/v1/groups/"+gid, "demo-token")
	e = wantError(t, resp, b, 404, "E0000007")
	if !strings.HasSuffix(e.ErrorSummary, gid+" (UserGroup)") {
		t.Errorf("group 404 summary %q", e.ErrorSummary)
	}
	resp, b = get(t, base+"/api/v1/apps/0oa00000000000000000", "demo-token")
	e = wantError(t, resp, b, 404, "E0000007")
	if !strings.HasSuffix(e.ErrorSummary, "(AppInstance)") {
		t.Errorf("app 404 summary %q", e.ErrorSummary)
	}
	resp, b = get(t, base+"/api/v1/devices/guo00000000000000000/users", "demo-token")
	e = wantError(t, resp, b, 404, "E0000007")
	if !strings.HasSuffix(e.ErrorSummary, "(GenericUDObject)") {
		t.Errorf("device users 404 summary %q", e.ErrorSummary)
	}
}

// Unparametrised lists (roles, device users, user types, permissions, factors)
// answer without any Link header.
func TestUnpaginatedEndpoints(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 30, Devices: 10, Logs: -1})
	fu := 0
	for len(s.o.userFactors(fu)) == 0 {
		fu++
	}
	uid := s.o.ids.id(kUser, fu)
	d := 0
	for d < len(s.o.devices) && s.o.devices[d].users[0] < 0 {
		d++
	}
	for _, p := range []string{
		"/api/v1/users/" + s.o.ids.id(kUser, 0) + "/roles",
		"/api/v1/users/" + uid + "/factors",
		"/api/v1/users/" + uid + "/authenticator-enrollments",
		"/api/v1/meta/types/user",
		"/api/v1/devices/" + s.o.ids.id(kDevice, d) + "/users",
		"/api/v1/groups/" + s.o.ids.id(kGroup, int(s.o.adminGroups[0].idx)) + "/roles",
	} {
		resp, b := getOK(t, base+p)
		if v := resp.Header.Values("Link"); len(v) != 0 {
			t.Errorf("%s: Link %q, want none", p, v)
		}
		if len(decodeList(t, b)) == 0 {
			t.Errorf("%s: empty list", p)
		}
	}
}

// Policies require type (400 otherwise) and rules carry excluded users.
func TestPoliciesTypeRequired(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 30, Logs: -1})
	resp, b := get(t, base+"/api/v1/policies", "demo-token")
	wantError(t, resp, b, 400, "E0000001")
	resp, b = get(t, base+"/api/v1/policies?type=NOPE", "demo-token")
	wantError(t, resp, b, 400, "E0000001")
	excluded := 0
	for _, typ := range policyTypes {
		_, b := getOK(t, base+"/api/v1/policies?type="+typ)
		pols := decodeList(t, b)
		if len(pols) == 0 {
			t.Errorf("no %s policies", typ)
		}
		for _, p := range pols {
			if p["type"] != typ {
				t.Errorf("type=%s returned a %v policy", typ, p["type"])
			}
			_, rb := getOK(t, str(p, "_links.rules.href"))
			for _, r := range decodeList(t, rb) {
				if ex, _ := path(r, "conditions.people.users.exclude").([]any); len(ex) > 0 {
					excluded++
				}
			}
		}
	}
	if excluded == 0 {
		t.Error("no policy rule excludes users")
	}
}

// search/filter on lastUpdated for users, groups (also lastMembershipUpdated)
// and devices return exactly the matching objects.
func TestIncrementalSearch(t *testing.T) {
	s, base := startSim(t, Config{Seed: 9, Users: 400, Groups: 30, Devices: 100, Logs: -1})
	cut := s.o.now - 20*day
	ts := fmtTS(cut)
	wantUsers, wantGroups, wantMem, wantDev := 0, 0, 0, 0
	for _, u := range s.o.users {
		if u.lastUpdated > cut {
			wantUsers++
		}
	}
	for _, g := range s.o.groups {
		if g.lastUpdated > cut {
			wantGroups++
		}
		if g.lastMembershipUpdated >= cut {
			wantMem++
		}
	}
	for _, d := range s.o.devices {
		if d.lastUpdated > cut {
			wantDev++
		}
	}
	if wantUsers == 0 || wantUsers == 400 || wantDev == 0 {
		t.Fatalf("test needs a partial slice: users %d devices %d", wantUsers, wantDev)
	}
	check := func(p string, want int, field string, op func(ms int64) bool) {
		t.Helper()
		got, _ := pageAll(t, base+p)
		if len(got) != want {
			t.Errorf("%s: %d results, want %d", p, len(got), want)
		}
		for _, o := range got {
			ms, ok := parseFilterTime(o[field].(string))
			if !ok || !op(ms) {
				t.Errorf("%s returned %s=%v", p, field, o[field])
			}
		}
	}
	q := func(s string) string { return url.QueryEscape(s) }
	check("/api/v1/users?limit=37&search="+q(`lastUpdated gt "`+ts+`"`), wantUsers, "lastUpdated", func(ms int64) bool { return ms > cut })
	check("/api/v1/users?limit=37&filter="+q(`lastUpdated gt "`+ts+`"`), wantUsers, "lastUpdated", func(ms int64) bool { return ms > cut })
	check("/api/v1/groups?limit=7&search="+q(`lastUpdated gt "`+ts+`"`), wantGroups, "lastUpdated", func(ms int64) bool { return ms > cut })
	check("/api/v1/groups?limit=7&filter="+q(`lastMembershipUpdated ge "`+ts+`"`), wantMem, "lastMembershipUpdated", func(ms int64) bool { return ms >= cut })
	check("/api/v1/devices?limit=9&search="+q(`lastUpdated gt "`+ts+`"`), wantDev, "lastUpdated", func(ms int64) bool { return ms > cut })
	// filter accepts only eq on non-date attributes; ne is never accepted in search.
	resp, b := get(t, base+"/api/v1/users?filter="+q(`profile.login sw "a"`), "demo-token")
	wantError(t, resp, b, 400, "E0000031")
	resp, b = get(t, base+"/api/v1/users?search="+q(`status ne "ACTIVE"`), "demo-token")
	wantError(t, resp, b, 400, "E0000031")
}

// Every response carries X-Okta-Request-Id, Date and the rate-limit headers.
func TestCommonHeaders(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 10, Logs: -1})
	for _, p := range []string{"/api/v1/users", "/api/v1/nope", "/api/v1/users/00uNOPE"} {
		for _, tok := range []string{"demo-token", "bad"} {
			resp, _ := get(t, base+p, tok)
			for _, h := range []string{"X-Okta-Request-Id", "Date", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("%s (%s): missing %s", p, tok, h)
				}
			}
			if _, err := time.Parse(time.RFC1123, resp.Header.Get("Date")); err != nil {
				t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
			}
		}
	}
}
