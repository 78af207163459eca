package oktasim

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// What a reader of the System Log as a change feed relies on: every change
// of memberships, assignments, roles and rules is logged with the targets
// Okta names; a filter on several event types and a window bounded by since
// and until return those events oldest first and end; the history the org is
// generated with agrees with its state.

// feedQuery is a bounded, filtered, ascending log query for the given types.
func feedQuery(base string, since, until int64, limit int, types ...string) string {
	var conds []string
	for _, t := range types {
		conds = append(conds, `eventType eq "`+t+`"`)
	}
	return base + "/api/v1/logs?limit=" + itoa(limit) + "&sortOrder=ASCENDING&filter=" + url.QueryEscape(strings.Join(conds, " or ")) +
		"&since=" + url.QueryEscape(fmtTS(since)) + "&until=" + url.QueryEscape(fmtTS(until))
}

func targetTypes(e map[string]any) []string {
	var out []string
	ts, _ := e["target"].([]any)
	for _, t := range ts {
		out = append(out, str(t, "type"))
	}
	return out
}

func targetID(e map[string]any, typ string) string {
	ts, _ := e["target"].([]any)
	for _, t := range ts {
		if str(t, "type") == typ {
			return str(t, "id")
		}
	}
	return ""
}

// The change feed's event types, with the target types each carries.
var feedTargets = map[string][]string{
	"group.user_membership.add":           {"User", "UserGroup"},
	"group.user_membership.remove":        {"User", "UserGroup"},
	"application.user_membership.add":     {"AppUser", "AppInstance", "User"},
	"application.user_membership.remove":  {"AppUser", "AppInstance", "User"},
	"group.privilege.grant":               {"UserGroup"},
	"group.privilege.revoke":              {"UserGroup"},
	"group.application_assignment.add":    {"AppInstance", "UserGroup"},
	"group.application_assignment.remove": {"AppInstance", "UserGroup"},
	"policy.rule.update":                  {"PolicyEntity", "PolicyRule"},
	"group.lifecycle.delete":              {"UserGroup"},
	"user.lifecycle.delete.completed":     {"User"},
}

func TestChurnLogsTheChangeFeed(t *testing.T) {
	s, base := startSim(t, Config{Seed: 31, Users: 300, Groups: 20, Apps: 12, Logs: 500})
	s.Churn(ChurnSpec{DeletedUsers: 2}) // deprovision, so the next deletes remove
	from := s.o.now
	res := s.Churn(ChurnSpec{Advance: time.Hour, NewUsers: 3, DeletedUsers: 2, DeletedGroups: 1,
		MembershipAdds: 6, MembershipRemoves: 3, AppAssignmentAdds: 3, AppAssignmentRemoves: 2,
		GroupRoleGrants: 2, GroupRoleRevokes: 1, AppGroupAdds: 2, AppGroupRemoves: 1, PolicyRuleUpdates: 2, LogEvents: 40})
	types := make([]string, 0, len(feedTargets))
	for typ := range feedTargets {
		types = append(types, typ)
	}
	slices.Sort(types)
	events, pages := pageAll(t, feedQuery(base, from, s.o.now, 7, types...))
	if pages < 2 {
		t.Fatalf("only %d page(s); the test wants the bounded query to page", pages)
	}
	byType := map[string][]map[string]any{}
	last := ""
	for _, e := range events {
		typ := e["eventType"].(string)
		want, ok := feedTargets[typ]
		if !ok {
			t.Errorf("the filter let %s through", typ)
			continue
		}
		if got := targetTypes(e); !slices.Equal(got, want) {
			t.Errorf("%s targets %q, want %q", typ, got, want)
		}
		if p := e["published"].(string); p < last {
			t.Errorf("event published %s after one published %s: not oldest first", p, last)
		} else {
			last = p
		}
		byType[typ] = append(byType[typ], e)
	}
	counts := map[string]int{
		"group.privilege.grant": len(res.GroupRolesGranted), "group.privilege.revoke": len(res.GroupRolesRevoked),
		"group.application_assignment.add": len(res.AppGroupsAdded), "group.application_assignment.remove": len(res.AppGroupsRemoved),
		"policy.rule.update": len(res.PolicyRulesUpdated), "group.user_membership.add": len(res.MembershipsAdded),
		"group.user_membership.remove": len(res.MembershipsRemoved), "application.user_membership.add": len(res.AppAssignmentsAdded),
		"application.user_membership.remove": len(res.AppAssignmentsRemoved), "group.lifecycle.delete": len(res.DeletedGroups),
		"user.lifecycle.delete.completed": len(res.DeletedUsers),
	}
	for typ, n := range counts {
		if len(byType[typ]) != n || n == 0 {
			t.Errorf("%d %s events, want %d (> 0)", len(byType[typ]), typ, n)
		}
	}
	// A new user joins Everyone, and that is logged too.
	everyone := s.o.ids.id(kGroup, 0)
	for _, u := range res.CreatedUsers {
		found := false
		for _, e := range byType["group.user_membership.add"] {
			found = found || targetID(e, "User") == u && targetID(e, "UserGroup") == everyone
		}
		if !found {
			t.Errorf("no group.user_membership.add of new user %s to Everyone", u)
		}
	}
	// The events say what the API now serves.
	for _, g := range res.GroupRolesGranted {
		if slices.Contains(res.GroupRolesRevoked, g) {
			continue
		}
		if roles := decodeList(t, getBody(t, base+"/api/v1/groups/"+g+"/roles")); len(roles) != 1 {
			t.Errorf("group %s was granted a role, lists %d", g, len(roles))
		}
	}
	for _, g := range res.GroupRolesRevoked {
		if roles := decodeList(t, getBody(t, base+"/api/v1/groups/"+g+"/roles")); len(roles) != 0 {
			t.Errorf("group %s had its roles revoked, lists %d", g, len(roles))
		}
	}
	appGroups := func(a string) []string {
		var ids []string
		gs, _ := pageAll(t, base+"/api/v1/apps/"+a+"/groups")
		for _, g := range gs {
			ids = append(ids, g["id"].(string))
		}
		return ids
	}
	for _, ag := range res.AppGroupsAdded {
		if !slices.Contains(appGroups(ag.AppID), ag.GroupID) && !slices.Contains(res.AppGroupsRemoved, ag) {
			t.Errorf("assigned %v, not listed", ag)
		}
	}
	for _, ag := range res.AppGroupsRemoved {
		if slices.Contains(appGroups(ag.AppID), ag.GroupID) {
			t.Errorf("unassigned %v, still listed", ag)
		}
	}
	for _, e := range byType["policy.rule.update"] {
		rule := decodeObj(t, getBody(t, base+"/api/v1/policies/"+targetID(e, "PolicyEntity")+"/rules/"+targetID(e, "PolicyRule")))
		if lu, _ := parseFilterTime(rule["lastUpdated"].(string)); lu <= from {
			t.Errorf("updated rule %s has lastUpdated %v", rule["id"], rule["lastUpdated"])
		}
	}
}

func getBody(t *testing.T, u string) []byte {
	t.Helper()
	_, b := getOK(t, u)
	return b
}

// TestAppUserByID: GET /apps/{appId}/users/{userId} answers the record the
// app's listing holds, and 404 for a user not assigned (any more).
func TestAppUserByID(t *testing.T) {
	s, base := startSim(t, Config{Seed: 4, Users: 60, Apps: 8, Logs: 10})
	var app string
	var listed []map[string]any
	for a := len(builtinApps); a < len(s.o.apps) && len(listed) == 0; a++ {
		app = s.o.ids.id(kApp, a)
		listed, _ = pageAll(t, base+"/api/v1/apps/"+app+"/users")
	}
	if len(listed) == 0 {
		t.Fatal("no app has users")
	}
	one := listed[0]
	resp, b := get(t, base+"/api/v1/apps/"+app+"/users/"+one["id"].(string), "demo-token")
	if resp.StatusCode != 200 {
		t.Fatalf("assigned user: %d %s", resp.StatusCode, b)
	}
	got := decodeObj(t, b)
	for _, k := range []string{"id", "created", "lastUpdated", "scope", "status", "syncState"} {
		if got[k] != one[k] {
			t.Errorf("%s = %v by id, %v in the listing", k, got[k], one[k])
		}
	}
	assigned := map[string]bool{}
	for _, u := range listed {
		assigned[u["id"].(string)] = true
	}
	for i := range s.o.users {
		if id := s.o.ids.id(kUser, i); !assigned[id] {
			resp, b := get(t, base+"/api/v1/apps/"+app+"/users/"+id, "demo-token")
			wantError(t, resp, b, 404, "E0000007")
			break
		}
	}
	res := s.Churn(ChurnSpec{AppAssignmentRemoves: 20})
	for _, a := range res.AppAssignmentsRemoved {
		resp, b := get(t, base+"/api/v1/apps/"+a.AppID+"/users/"+a.UserID, "demo-token")
		wantError(t, resp, b, 404, "E0000007")
	}
}

// TestHistoryAgreesWithState: in the generated history, a membership or an
// assignment added is one the org has, one removed is one it has not, and a
// deleted user or group is gone; the last minutes before a first sync may be
// read again by a change feed's lookback.
func TestHistoryAgreesWithState(t *testing.T) {
	s, base := startSim(t, Config{Seed: 12, Users: 150, Groups: 15, Apps: 10, Logs: 20000})
	types := []string{"group.user_membership.add", "group.user_membership.remove", "application.user_membership.add",
		"application.user_membership.remove", "user.lifecycle.delete.completed", "group.lifecycle.delete"}
	events, _ := pageAll(t, feedQuery(base, s.o.now-30*day, s.o.now, 1000, types...))
	seen := map[string]int{}
	for _, e := range events {
		typ := e["eventType"].(string)
		seen[typ]++
		u, g, a := targetID(e, "User"), targetID(e, "UserGroup"), targetID(e, "AppInstance")
		switch typ {
		case "group.user_membership.add", "group.user_membership.remove":
			gi, ui := s.o.groupIdx(g), s.o.userIdx(u)
			if gi < 0 || ui < 0 {
				t.Fatalf("%s names unknown user %s or group %s", typ, u, g)
			}
			if member := s.o.isMember(gi, int32(ui)); member != (typ == "group.user_membership.add") {
				t.Errorf("%s of user %d to group %d, but member = %v", typ, ui, gi, member)
			}
		case "application.user_membership.add", "application.user_membership.remove":
			resp, _ := get(t, base+"/api/v1/apps/"+a+"/users/"+u, "demo-token")
			if (resp.StatusCode == 200) != (typ == "application.user_membership.add") {
				t.Errorf("%s of %s to %s, but the assignment answers %d", typ, u, a, resp.StatusCode)
			}
		case "user.lifecycle.delete.completed":
			if resp, _ := get(t, base+"/api/v1/users/"+u, "demo-token"); resp.StatusCode != 404 {
				t.Errorf("deleted user %s answers %d", u, resp.StatusCode)
			}
		case "group.lifecycle.delete":
			if resp, _ := get(t, base+"/api/v1/groups/"+g, "demo-token"); resp.StatusCode != 404 {
				t.Errorf("deleted group %s answers %d", g, resp.StatusCode)
			}
		}
	}
	for _, typ := range types {
		if seen[typ] == 0 {
			t.Errorf("no %s event in the generated history; make the log larger", typ)
		}
	}
}
