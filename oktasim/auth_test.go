package oktasim

import (
	"net/url"
	"testing"
)

// Each role reads exactly the tables okta-permissions.md grants it; other
// endpoints answer 403 E0000006.
func TestPermissionsByRole(t *testing.T) {
	tokens := map[string]string{}
	for _, r := range RoleTypes {
		tokens["tok-"+r] = r
	}
	s, base := startSim(t, Config{Seed: 1, Users: 30, Groups: 6, Devices: 5, Logs: 20, Tokens: tokens})
	o := s.o
	uid, gid, aid := o.ids.id(kUser, 0), o.ids.id(kGroup, 1), o.ids.id(kApp, len(builtinApps))
	endpoints := []struct{ path, table string }{
		{"/api/v1/users", "USERS"},
		{"/api/v1/users/" + uid, "USERS"},
		{"/api/v1/users/" + uid + "/factors", "USER_ENROLLED_FACTOR"},
		{"/api/v1/meta/types/user", "USER_TYPE"},
		{"/api/v1/users/" + uid + "/roles", "USER_ROLE"},
		{"/api/v1/iam/assignees/users", "USER_ROLE"},
		{"/api/v1/groups", "GROUPS"},
		{"/api/v1/groups/" + gid + "/users", "GROUP_MEMBER"},
		{"/api/v1/groups/" + gid + "/roles", "GROUP_ROLE"},
		{"/api/v1/groups/rules", "RULE"},
		{"/api/v1/apps", "APPLICATION"},
		{"/api/v1/apps/" + aid + "/users", "APPLICATION_USER"},
		{"/api/v1/apps/" + aid + "/groups", "APPLICATION_GROUP"},
		{"/api/v1/devices", "DEVICE"},
		{"/api/v1/logs", "SYSTEM_LOG"},
		{"/api/v1/iam/resource-sets", "RESOURCE_SET"},
		{"/api/v1/iam/roles", "CUSTOM_ROLE"},
		{"/api/v1/mappings", "PROFILE_MAPPING"},
		{"/api/v1/policies?type=OKTA_SIGN_ON", "POLICY"},
		{"/api/v1/idps", "IDENTITY_PROVIDER"},
		{"/api/v1/zones", "NETWORK_ZONE"},
		{"/api/v1/api-tokens", "API_TOKEN_METADATA"},
	}
	// Spot checks straight from okta-permissions.md, so the table itself is tested.
	spot := []struct {
		role, table string
		ok          bool
	}{
		{RoleMobileAdmin, "SYSTEM_LOG", true}, {RoleMobileAdmin, "USERS", false},
		{RoleReportAdmin, "USERS", true}, {RoleReportAdmin, "GROUPS", false},
		{RoleHelpDeskAdmin, "DEVICE", true}, {RoleHelpDeskAdmin, "APPLICATION", false},
		{RoleAppAdmin, "PROFILE_MAPPING", true}, {RoleOrgAdmin, "PROFILE_MAPPING", false},
		{RoleReadOnlyAdmin, "USER_ROLE", false}, {RoleSuperAdmin, "RESOURCE", true},
		{RoleUserAdmin, "USER_TYPE", true}, {RoleAppAdmin, "USER_TYPE", false},
		{RoleGroupMembershipAdmin, "RULE", true}, {RoleAPIAccessMgmtAdmin, "POLICY", true},
		{RoleHelpDeskAdmin, "POLICY", false},
	}
	for _, sc := range spot {
		if roleAllowed(sc.table, sc.role) != sc.ok {
			t.Errorf("%s reading %s: allowed=%v, want %v", sc.role, sc.table, !sc.ok, sc.ok)
		}
	}
	for _, role := range RoleTypes {
		for _, ep := range endpoints {
			resp, b := get(t, base+ep.path, "tok-"+role)
			if roleAllowed(ep.table, role) {
				if resp.StatusCode != 200 {
					t.Errorf("%s GET %s: status %d, want 200: %s", role, ep.path, resp.StatusCode, b)
				}
			} else {
				e := wantError(t, resp, b, 403, "E0000006")
				if e.ErrorSummary != "You do not have permission to perform the requested action" {
					t.Errorf("403 summary %q", e.ErrorSummary)
				}
			}
		}
	}
}

// The Everyone group is hidden from group-admin roles.
func TestEveryoneHiddenFromGroupAdmins(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 20, Logs: -1,
		Tokens: map[string]string{"ga": RoleUserAdmin, "su": RoleSuperAdmin}})
	everyone := s.o.ids.id(kGroup, 0)
	has := func(tok string) bool {
		_, b := get(t, base+"/api/v1/groups?filter="+url.QueryEscape(`type eq "BUILT_IN"`), tok)
		for _, g := range decodeList(t, b) {
			if g["id"] == everyone {
				return true
			}
		}
		return false
	}
	if !has("su") || has("ga") {
		t.Errorf("Everyone visible: super admin %v, group admin %v; want true, false", has("su"), has("ga"))
	}
}

// GET /api/v1/users/me answers the calling token's admin user to every valid
// token, whatever its role may read otherwise, and 401 E0000011 to a bad one:
// a connector probes it before a sync.
func TestUsersMe(t *testing.T) {
	tokens := map[string]string{}
	for _, r := range RoleTypes {
		tokens["tok-"+r] = r
	}
	s, base := startSim(t, Config{Seed: 1, Users: 400, Groups: 10, Logs: -1, Tokens: tokens})
	o := s.o
	holds := func(u int, role string) bool {
		for _, a := range o.adminUsers {
			if int(a.idx) == u {
				for _, ra := range a.roles {
					if ra.std >= 0 && rolesStd[ra.std].typ == role {
						return true
					}
				}
			}
		}
		return false
	}
	for _, role := range RoleTypes {
		resp, b := get(t, base+"/api/v1/users/me", "tok-"+role)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: GET /api/v1/users/me: %d %s", role, resp.StatusCode, b)
		}
		id := str(decodeObj(t, b), "id")
		u := o.userIdx(id)
		if u < 0 {
			t.Fatalf("%s: /users/me is %q, not a user", role, id)
		}
		// Somebody holds the role: it is them; else the first super admin.
		anyone := false
		for _, a := range o.adminUsers {
			anyone = anyone || holds(int(a.idx), role)
		}
		if anyone && !holds(u, role) || !anyone && u != int(o.adminUsers[0].idx) {
			t.Errorf("%s: /users/me is user %d, which does not hold the role", role, u)
		}
		// The same object as GET /users/{id}, bucket and all.
		if _, want := get(t, base+"/api/v1/users/"+id, "tok-"+RoleSuperAdmin); string(want) != string(b) {
			t.Errorf("%s: /users/me differs from /users/%s", role, id)
		}
		if resp.Header.Get("X-Rate-Limit-Limit") != "2000" {
			t.Errorf("%s: /users/me in a bucket of %s, want the user bucket (2000)", role, resp.Header.Get("X-Rate-Limit-Limit"))
		}
	}
	for _, tok := range []string{"bad", ""} {
		resp, b := get(t, base+"/api/v1/users/me", tok)
		wantError(t, resp, b, 401, "E0000011")
	}
}
