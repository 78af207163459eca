package oktasim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// Churn changes the org like Okta: timestamps move within the churn window,
// deactivations hide users from the plain list, membership changes move
// lastMembershipUpdated but not lastUpdated, and every change is logged.
func TestChurnSemantics(t *testing.T) {
	s, base := startSim(t, Config{Seed: 21, Users: 200, Groups: 12, Apps: 14, Logs: 100})
	from := s.o.now
	groupsBefore := map[string]map[string]any{}
	all, _ := pageAll(t, base+"/api/v1/groups")
	for _, g := range all {
		groupsBefore[g["id"].(string)] = g
	}
	res := s.Churn(ChurnSpec{Advance: 2 * time.Hour, NewUsers: 3, UpdatedUsers: 4, DeactivatedUsers: 2,
		NewGroups: 1, UpdatedGroups: 1, MembershipAdds: 5, MembershipRemoves: 2, AppAssignmentAdds: 2, AppAssignmentRemoves: 1})
	if s.o.now != from+2*hour || !res.To.Equal(time.UnixMilli(from+2*hour).UTC()) {
		t.Fatalf("clock at %v, want advanced by 2h", time.UnixMilli(s.o.now))
	}
	if len(res.CreatedUsers) != 3 || len(res.UpdatedUsers) != 4 || len(res.DeactivatedUsers) != 2 ||
		len(res.CreatedGroups) != 1 || len(res.MembershipsRemoved) != 2 || len(res.AppAssignmentsAdded) != 2 {
		t.Fatalf("churn result: %+v", res)
	}
	inWindow := func(v any) bool {
		ms, ok := parseFilterTime(v.(string))
		return ok && ms > from && ms <= from+2*hour
	}
	changed, _ := pageAll(t, base+"/api/v1/users?search="+url.QueryEscape(`lastUpdated gt "`+fmtTS(from)+`"`))
	ids := map[string]map[string]any{}
	for _, u := range changed {
		ids[u["id"].(string)] = u
		if !inWindow(u["lastUpdated"]) {
			t.Errorf("user %s lastUpdated %v outside the churn window", u["id"], u["lastUpdated"])
		}
	}
	for _, list := range [][]string{res.CreatedUsers, res.UpdatedUsers, res.DeactivatedUsers} {
		for _, id := range list {
			if ids[id] == nil {
				t.Errorf("changed user %s not returned by lastUpdated search", id)
			}
		}
	}
	for _, id := range res.DeactivatedUsers {
		if ids[id]["status"] != "DEPROVISIONED" {
			t.Errorf("deactivated user %s has status %v", id, ids[id]["status"])
		}
	}
	plain, _ := pageAll(t, base+"/api/v1/users")
	for _, u := range plain {
		for _, id := range res.DeactivatedUsers {
			if u["id"] == id {
				t.Errorf("deactivated user %s in the plain list", id)
			}
		}
	}
	for _, m := range res.MembershipsAdded {
		_, b := getOK(t, base+"/api/v1/groups/"+m.GroupID)
		g := decodeObj(t, b)
		if !inWindow(g["lastMembershipUpdated"]) {
			t.Errorf("group %s lastMembershipUpdated %v not moved", m.GroupID, g["lastMembershipUpdated"])
		}
		if before := groupsBefore[m.GroupID]; before != nil && g["lastUpdated"] != before["lastUpdated"] && !contains(res.UpdatedGroups, m.GroupID) {
			t.Errorf("membership change moved group %s lastUpdated", m.GroupID)
		}
		members, _ := pageAll(t, base+"/api/v1/groups/"+m.GroupID+"/users")
		found := false
		for _, u := range members {
			found = found || u["id"] == m.UserID
		}
		removedLater := false
		for _, r := range res.MembershipsRemoved {
			removedLater = removedLater || r == m
		}
		if !found && !removedLater {
			t.Errorf("added member %s not listed in group %s", m.UserID, m.GroupID)
		}
	}
	for _, a := range res.AppAssignmentsAdded {
		resp, b := get(t, base+"/api/v1/apps/"+a.AppID+"/users/"+a.UserID, "demo-token")
		if resp.StatusCode != 200 || !inWindow(decodeObj(t, b)["created"]) {
			t.Errorf("new app assignment %v: status %d body %s", a, resp.StatusCode, b)
		}
	}
	// Every change has its event, published inside the window.
	logs, _ := pageAll(t, base+"/api/v1/logs?limit=1000&since="+url.QueryEscape(fmtTS(from))+"&until="+url.QueryEscape(fmtTS(s.o.now)))
	byType := map[string]int{}
	for _, e := range logs {
		byType[e["eventType"].(string)]++
		if !inWindow(e["published"]) {
			t.Errorf("event %v published %v outside the window", e["eventType"], e["published"])
		}
	}
	want := map[string]int{"user.lifecycle.create": 3, "user.account.update_profile": 4, "user.lifecycle.deactivate": 2,
		"group.lifecycle.create": 1, "group.profile.update": 1, "group.user_membership.remove": 2,
		"application.user_membership.add": 2, "application.user_membership.remove": 1}
	for typ, n := range want {
		if byType[typ] != n {
			t.Errorf("%d %s events, want %d (all: %v)", byType[typ], typ, n, byType)
		}
	}
	if byType["group.user_membership.add"] != len(res.MembershipsAdded) {
		t.Errorf("%d membership add events, want %d", byType["group.user_membership.add"], len(res.MembershipsAdded))
	}
}

func contains(xs []string, v string) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

// Deletes: a first delete deprovisions, a second removes the user everywhere
// and logs user.lifecycle.delete.completed.
func TestChurnDeleteTwice(t *testing.T) {
	s, base := startSim(t, Config{Seed: 8, Users: 100, Groups: 10, Logs: 10})
	r1 := s.Churn(ChurnSpec{DeletedUsers: 200}) // more deletes than users: all deprovisioned ones vanish, the rest deprovision
	if len(r1.DeletedUsers) == 0 || len(r1.DeactivatedUsers) == 0 {
		t.Fatalf("first churn: deleted %d deactivated %d", len(r1.DeletedUsers), len(r1.DeactivatedUsers))
	}
	victim := r1.DeletedUsers[0]
	resp, b := get(t, base+"/api/v1/users/"+victim, "demo-token")
	wantError(t, resp, b, 404, "E0000007")
	for g := 1; g < len(s.o.groups); g++ {
		members, _ := pageAll(t, base+"/api/v1/groups/"+s.o.ids.id(kGroup, g)+"/users")
		for _, m := range members {
			if m["id"] == victim {
				t.Errorf("deleted user still a member of group %d", g)
			}
		}
	}
	logs, _ := pageAll(t, base+"/api/v1/logs?limit=1000&filter="+url.QueryEscape(`eventType eq "user.lifecycle.delete.completed"`)+"&until="+url.QueryEscape(fmtTS(s.o.now)))
	found := false
	for _, e := range logs {
		for _, tg := range e["target"].([]any) {
			found = found || tg.(map[string]any)["id"] == victim
		}
	}
	if !found {
		t.Error("no user.lifecycle.delete.completed event targets the deleted user")
	}
}

// The same seed and churn sequence give the same result and the same pages.
func TestChurnDeterministic(t *testing.T) {
	cfg := Config{Seed: 5, Users: 80, Groups: 8, Logs: 50, LinkBaseURL: "https://acme.okta.example"}
	var results []ChurnResult
	var bodies [][]byte
	for range 2 {
		s, base := startSim(t, cfg)
		s.Churn(DefaultChurnSpec())
		results = append(results, s.Churn(DefaultChurnSpec()))
		_, b := getOK(t, base+"/api/v1/users?search="+url.QueryEscape(`lastUpdated gt "2000-01-01T00:00:00.000Z"`))
		_, l := getOK(t, base+"/api/v1/logs?limit=1000&since="+url.QueryEscape(fmtTS(s.o.now-2*hour)))
		bodies = append(bodies, append(b, l...))
	}
	if !reflect.DeepEqual(results[0], results[1]) {
		t.Errorf("churn results differ:\n%+v\n%+v", results[0], results[1])
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Error("bodies after identical churn differ")
	}
}

// The HTTP control API drives the same operations.
func TestControlAPI(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 20, Logs: 10})
	before := s.Now()
	body, _ := json.Marshal(ChurnSpec{Advance: 30 * time.Minute, NewUsers: 2})
	resp, err := http.Post(base+"/__sim/churn", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var res ChurnResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("churn: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if len(res.CreatedUsers) != 2 || !s.Now().Equal(before.Add(30*time.Minute)) {
		t.Errorf("churn via HTTP: created %d, clock %v (from %v)", len(res.CreatedUsers), s.Now(), before)
	}
	resp, err = http.Post(base+"/__sim/advance?d=2h", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("advance: %v %v", resp, err)
	}
	resp.Body.Close()
	if !s.Now().Equal(before.Add(150 * time.Minute)) {
		t.Errorf("clock %v after advance, want %v", s.Now(), before.Add(150*time.Minute))
	}
	resp, _ = http.Post(base+"/__sim/advance?d=soon", "", nil)
	if resp.StatusCode != 400 {
		t.Errorf("bad duration: status %d", resp.StatusCode)
	}
	resp.Body.Close()

	getOK(t, base+"/api/v1/users")
	getOK(t, base+"/api/v1/users?limit=3")
	get(t, base+"/api/v1/users", "nope")
	r, err := http.Get(base + "/__sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if st.Requests != 3 || st.ByEndpoint["GET /api/v1/users"] != 3 || st.ByStatus["401"] != 1 || st.ByStatus["200"] != 2 {
		t.Errorf("stats = %+v", st)
	}
	r, _ = http.Post(base+"/__sim/stats/reset", "", nil)
	r.Body.Close()
	if got := s.Stats(); got.Requests != 0 || len(got.ByEndpoint) != 0 {
		t.Errorf("after reset: %+v", got)
	}
}

// A custom attribute added between syncs: the users given a value carry it,
// their lastUpdated moves into the window so an incremental search finds
// them, each change is logged, and everyone else's profile lacks the key.
func TestChurnProfileAttribute(t *testing.T) {
	cfg := Config{Seed: 21, Users: 200, Groups: 12, Logs: 100, LinkBaseURL: "https://acme.okta.example"}
	var bodies [][]byte
	for run := range 2 {
		s, base := startSim(t, cfg)
		const since = `lastUpdated gt "2000-01-01T00:00:00.000Z"` // search: DEPROVISIONED users too
		before := map[string]map[string]any{}
		all, _ := pageAll(t, base+"/api/v1/users?search="+url.QueryEscape(since))
		for _, u := range all {
			before[u["id"].(string)] = u
		}
		from := s.o.now
		res := s.Churn(ChurnSpec{Advance: time.Hour, ProfileAttribute: "buildingCode", ProfileAttributeUsers: 5})
		if len(res.ProfileAttributeUsers) != 5 || len(res.UpdatedUsers) != 0 {
			t.Fatalf("churn result: %+v", res)
		}
		changed, _ := pageAll(t, base+"/api/v1/users?search="+url.QueryEscape(`lastUpdated gt "`+fmtTS(from)+`"`))
		got := map[string]string{}
		for _, u := range changed {
			id := u["id"].(string)
			prof := u["profile"].(map[string]any)
			v, _ := prof["buildingCode"].(string)
			got[id] = v
			if v == "" {
				t.Errorf("user %s changed without a buildingCode: %v", id, prof)
			}
			if u["status"] == "DEPROVISIONED" {
				t.Errorf("DEPROVISIONED user %s was given a value", id)
			}
			if lu := u["lastUpdated"].(string); lu == before[id]["lastUpdated"] || lu <= fmtTS(from) || lu > fmtTS(s.o.now) {
				t.Errorf("user %s lastUpdated %s, was %s, want inside the churn window", id, lu, before[id]["lastUpdated"])
			}
			// Nothing else of the profile changes.
			delete(prof, "buildingCode")
			if !reflect.DeepEqual(prof, before[id]["profile"]) {
				t.Errorf("user %s: profile changed beyond the new attribute:\n%v\n%v", id, prof, before[id]["profile"])
			}
		}
		if len(got) != 5 {
			t.Errorf("incremental search returned %d users, want the 5 given a value", len(got))
		}
		for _, id := range res.ProfileAttributeUsers {
			if _, ok := got[id]; !ok {
				t.Errorf("user %s given a value is not returned by the incremental search", id)
			}
		}
		// Users without a value omit the key; the attribute is searchable.
		all, _ = pageAll(t, base+"/api/v1/users?search="+url.QueryEscape(since))
		for _, u := range all {
			if _, has := u["profile"].(map[string]any)["buildingCode"]; has != (got[u["id"].(string)] != "") {
				t.Errorf("user %s: buildingCode present %v, want only on the users given a value", u["id"], has)
			}
		}
		id := res.ProfileAttributeUsers[0]
		found, _ := pageAll(t, base+"/api/v1/users?search="+url.QueryEscape(`profile.buildingCode eq "`+got[id]+`"`))
		if len(found) != 1 || found[0]["id"] != id {
			t.Errorf("search by the new attribute found %d users, want %s", len(found), id)
		}
		logs, _ := pageAll(t, base+"/api/v1/logs?limit=1000&filter="+url.QueryEscape(`eventType eq "user.account.update_profile"`)+
			"&since="+url.QueryEscape(fmtTS(from))+"&until="+url.QueryEscape(fmtTS(s.o.now)))
		logged := map[string]bool{}
		for _, e := range logs {
			logged[e["target"].([]any)[0].(map[string]any)["id"].(string)] = true
		}
		if len(logs) != 5 || len(logged) != 5 {
			t.Errorf("%d user.account.update_profile events for %d users, want 5 for 5", len(logs), len(logged))
		}
		// The same attribute again: new users get a value, the first keep theirs.
		res2 := s.Churn(ChurnSpec{ProfileAttribute: "buildingCode", ProfileAttributeUsers: 3})
		for _, id := range res2.ProfileAttributeUsers {
			if contains(res.ProfileAttributeUsers, id) {
				t.Errorf("user %s given a value twice", id)
			}
		}
		_, b := getOK(t, base+"/api/v1/users/"+id)
		if v := decodeObj(t, b)["profile"].(map[string]any)["buildingCode"]; v != got[id] || len(res2.ProfileAttributeUsers) != 3 {
			t.Errorf("after a second step: user %s has %v (was %s); %d more users", id, v, got[id], len(res2.ProfileAttributeUsers))
		}
		_, b = getOK(t, base+"/api/v1/users?search="+url.QueryEscape(since))
		bodies = append(bodies, b)
		if run == 1 && !bytes.Equal(bodies[0], bodies[1]) {
			t.Error("the same seed and churn sequence gave different users")
		}
	}
}
