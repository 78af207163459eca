package oktasim

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// The official Okta Go SDK (v2) pages users, groups, apps and the System Log
// from the simulator over TLS, with small pages, and sees every object once.
func TestOktaSDKPagesEverything(t *testing.T) {
	s, err := New(Config{Seed: 7, Users: 120, Groups: 25, Apps: 30, Devices: 5, Logs: 700, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	base, err := s.StartTLS("127.0.0.1:0", caFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pemBytes, err := os.ReadFile(caFile)
	if err != nil || len(pemBytes) == 0 {
		t.Fatalf("CA file: %v", err)
	}
	httpClient := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}}}
	// Keep the SDK from reading ~/.okta or OKTA_* settings of the machine.
	t.Setenv("HOME", t.TempDir())
	ctx, client, err := okta.NewClient(context.Background(),
		okta.WithOrgUrl(base), okta.WithToken("demo-token"), okta.WithHttpClientPtr(httpClient),
		okta.WithCache(false), okta.WithRequestTimeout(20), okta.WithRateLimitMaxRetries(2))
	if err != nil {
		t.Fatalf("okta.NewClient: %v", err)
	}
	o := s.o

	wantUsers := 0
	for _, u := range o.users {
		if u.status != stDeprovisioned {
			wantUsers++
		}
	}
	seen := map[string]int{}
	users, resp, err := client.User.ListUsers(ctx, query.NewQueryParams(query.WithLimit(7)))
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	pages := 1
	for {
		for _, u := range users {
			seen[u.Id]++
		}
		if !resp.HasNextPage() {
			break
		}
		users = nil
		if resp, err = resp.Next(ctx, &users); err != nil {
			t.Fatalf("users page %d: %v", pages+1, err)
		}
		pages++
	}
	checkOnce(t, "users", seen, wantUsers, pages)

	seen = map[string]int{}
	groups, resp, err := client.Group.ListGroups(ctx, query.NewQueryParams(query.WithLimit(4)))
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	pages = 1
	for {
		for _, g := range groups {
			seen[g.Id]++
		}
		if !resp.HasNextPage() {
			break
		}
		groups = nil
		if resp, err = resp.Next(ctx, &groups); err != nil {
			t.Fatalf("groups page %d: %v", pages+1, err)
		}
		pages++
	}
	checkOnce(t, "groups", seen, len(o.groups), pages)

	wantApps := 0
	for _, a := range o.apps {
		if a.active {
			wantApps++
		}
	}
	seen = map[string]int{}
	apps, resp, err := client.Application.ListApplications(ctx, query.NewQueryParams(query.WithLimit(4)))
	if err != nil {
		t.Fatalf("ListApplications: %v", err)
	}
	pages = 1
	for {
		for _, a := range apps {
			seen[a.(*okta.Application).Id]++
		}
		if !resp.HasNextPage() {
			break
		}
		var next []okta.Application
		if resp, err = resp.Next(ctx, &next); err != nil {
			t.Fatalf("apps page %d: %v", pages+1, err)
		}
		apps = apps[:0]
		for i := range next {
			apps = append(apps, &next[i])
		}
		pages++
	}
	checkOnce(t, "apps", seen, wantApps, pages)

	// System Log polling: the next link never ends, so stop on an empty page.
	seen = map[string]int{}
	since := time.UnixMilli(o.now - 30*day).UTC().Format(time.RFC3339)
	events, resp, err := client.LogEvent.GetLogs(ctx, query.NewQueryParams(query.WithSince(since), query.WithLimit(100)))
	if err != nil {
		t.Fatalf("GetLogs: %v", err)
	}
	pages = 1
	for len(events) > 0 {
		for _, e := range events {
			seen[e.Uuid]++
			if e.Published == nil || e.Actor == nil || e.EventType == "" {
				t.Fatalf("event %s decoded incompletely", e.Uuid)
			}
		}
		if !resp.HasNextPage() {
			t.Fatal("polling page without next link")
		}
		events = nil
		if resp, err = resp.Next(ctx, &events); err != nil {
			t.Fatalf("logs page %d: %v", pages+1, err)
		}
		pages++
	}
	checkOnce(t, "log events", seen, s.o.logs.total(), pages-1)
	if st := s.Stats(); st.ByStatus["200"] != st.Requests {
		t.Errorf("non-200 responses during SDK paging: %v", st.ByStatus)
	}
}

func checkOnce(t *testing.T, what string, seen map[string]int, want, pages int) {
	t.Helper()
	if len(seen) != want {
		t.Errorf("%s: saw %d distinct, want %d", what, len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s: %s seen %d times", what, id, n)
		}
	}
	if pages < 3 {
		t.Errorf("%s: only %d pages; the test must really page", what, pages)
	}
}
