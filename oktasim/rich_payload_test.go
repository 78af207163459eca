package oktasim

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Apps carry the keys Okta's recorded lists and spec examples carry, and their
// links point at the app on the org's base URL.
func TestAppPayloadsAsOktaSendsThem(t *testing.T) {
	s, base := startSim(t, Config{Seed: 3, Users: 300, Apps: 40})
	o := s.o
	apps := collect(t, base+"/api/v1/apps?includeNonDeleted=true&limit=200", "")
	if len(apps) < 20 {
		t.Fatalf("only %d apps", len(apps))
	}
	orgKid := ""
	modes := map[string]bool{}
	for _, v := range apps {
		app := v.(map[string]any)
		id, name, mode := str(app, "id"), str(app, "name"), str(app, "signOnMode")
		modes[mode] = true
		a := o.ids.parse(kApp, id)
		self := base + "/api/v1/apps/" + id
		for _, k := range []string{"accessibility", "visibility", "credentials", "settings", "features", "signOnMode", "_links", "universalLogout"} {
			if _, ok := app[k]; !ok {
				t.Errorf("app %s (%s): no %s", id, name, k)
			}
		}
		if _, ok := app["_embedded"]; ok {
			t.Errorf("app %s: _embedded without expand", id)
		}
		for key, want := range map[string]string{"users": self + "/users", "groups": self + "/groups", "uploadLogo": self + "/logo", "policies": self + "/policies"} {
			if got := str(app, "_links."+key+".href"); got != want {
				t.Errorf("app %s: _links.%s.href = %q, want %q", id, key, got, want)
			}
		}
		life := "_links.deactivate.href"
		if str(app, "status") != "ACTIVE" {
			life = "_links.activate.href"
		}
		if !strings.HasPrefix(str(app, life), self+"/lifecycle/") {
			t.Errorf("app %s: %s = %q", id, life, str(app, life))
		}
		// The dashboard link is named alike in visibility and _links.
		vis, _ := path(app, "visibility.appLinks").(map[string]any)
		links, _ := path(app, "_links.appLinks").([]any)
		for _, l := range links {
			n := str(l, "name")
			if _, ok := vis[n]; !ok {
				t.Errorf("app %s: _links.appLinks names %q, visibility.appLinks has %v", id, n, vis)
			}
			if !strings.HasPrefix(str(l, "href"), base+"/home/"+name+"/"+id+"/") {
				t.Errorf("app %s: app link %q", id, str(l, "href"))
			}
		}
		switch {
		case name == "bookmark" || strings.HasPrefix(name, "template_"):
			if _, ok := vis["login"]; !ok {
				t.Errorf("app %s (%s): visibility.appLinks %v, want login", id, name, vis)
			}
		case name == "saasure":
			if len(links) != 1 || str(links[0], "name") != "admin" {
				t.Errorf("Admin Console app links %v", links)
			}
		}
		kid := str(app, "credentials.signing.kid")
		switch mode {
		case "OPENID_CONNECT":
			if orgKid == "" {
				orgKid = kid
			}
			if kid == "" || kid != orgKid {
				t.Errorf("OIDC app %s: kid %q, want the org's %q", id, kid, orgKid)
			}
		case "SAML_2_0":
			if kid == "" || kid == orgKid {
				t.Errorf("SAML app %s: kid %q", id, kid)
			}
			if got := str(app, "_links.metadata.href"); got != self+"/sso/saml/metadata" {
				t.Errorf("SAML app %s: metadata %q", id, got)
			}
			for _, k := range []string{"participateSlo.enabled", "assertionEncryption.enabled", "slo.enabled", "ssoAcsUrl", "audience"} {
				if path(app, "settings.signOn."+k) == nil {
					t.Errorf("SAML app %s: no settings.signOn.%s", id, k)
				}
			}
		}
		if a < appADIndex {
			// Okta's own apps: shown, no client settings, notes or redirect URLs.
			for _, p := range []string{"credentials.oauthClient", "settings.oauthClient", "settings.notes", "accessibility.errorRedirectUrl", "_links.help"} {
				if path(app, p) != nil {
					t.Errorf("Okta app %s (%s) has %s", id, name, p)
				}
			}
			if path(app, "visibility.hide.web") != false || path(app, "settings.implicitAssignment") != false {
				t.Errorf("Okta app %s (%s): visibility %v, implicitAssignment %v", id, name, path(app, "visibility"), path(app, "settings.implicitAssignment"))
			}
		}
	}
	for _, m := range []string{"OPENID_CONNECT", "SAML_2_0", "BOOKMARK", "AUTO_LOGIN"} {
		if !modes[m] {
			t.Errorf("no %s app served", m)
		}
	}
	// Filtering on the signing key finds the OIDC apps (Okta supports it).
	byKid := collect(t, base+"/api/v1/apps?limit=200&filter="+url.QueryEscape(`credentials.signing.kid eq "`+orgKid+`"`), "")
	if len(byKid) == 0 {
		t.Error("filter on the org's kid found no app")
	}
	for _, a := range byKid {
		if str(a, "signOnMode") != "OPENID_CONNECT" {
			t.Errorf("filter on the org's kid found %s", str(a, "signOnMode"))
		}
	}
}

// Devices listed with expand=user embed each device's real users, each the
// User that GET /users/{id} returns (its lifecycle links included).
func TestDeviceEmbeddedUsersAgreeWithDirectory(t *testing.T) {
	s, base := startSim(t, Config{Seed: 5, Users: 300, Devices: 120})
	o := s.o
	devices := collect(t, base+"/api/v1/devices?expand=user&limit=50", "")
	if len(devices) == 0 {
		t.Fatal("no devices")
	}
	embedded, statuses := 0, map[string]bool{}
	for _, v := range devices {
		dev := v.(map[string]any)
		id := str(dev, "id")
		d := o.ids.parse(kDevice, id)
		self := base + "/api/v1/devices/" + id
		st := str(dev, "status")
		statuses[st] = true
		if v, ok := dev["resourceAlternateId"]; !ok || v != nil {
			t.Errorf("device %s: resourceAlternateId %v (present %v), want null", id, v, ok)
		}
		if str(dev, "resourceId") != id || str(dev, "resourceType") != "UDDevice" || str(dev, "resourceDisplayName.value") != str(dev, "profile.displayName") {
			t.Errorf("device %s: resource fields %v %v %v", id, dev["resourceId"], dev["resourceType"], dev["resourceDisplayName"])
		}
		if str(dev, "_links.self.href") != self {
			t.Errorf("device %s: self %q", id, str(dev, "_links.self.href"))
		}
		wantLinks := map[string][]string{
			"ACTIVE":      {"deactivate", "self", "suspend", "users"},
			"SUSPENDED":   {"deactivate", "self", "unsuspend", "users"},
			"CREATED":     {"activate", "self", "users"},
			"DEACTIVATED": {"activate", "self"},
		}[st]
		var got []string
		for k := range dev["_links"].(map[string]any) {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, wantLinks) {
			t.Errorf("device %s (%s): _links %v, want %v", id, st, got, wantLinks)
		}
		var want []string
		for _, u := range o.devices[d].users {
			if u >= 0 && !o.users[u].deleted {
				want = append(want, o.ids.id(kUser, int(u)))
			}
		}
		users, _ := path(dev, "_embedded.users").([]any)
		if len(users) != len(want) {
			t.Errorf("device %s: %d embedded users, want %d", id, len(users), len(want))
			continue
		}
		for k, du := range users {
			uid := str(du, "user.id")
			if uid != want[k] {
				t.Errorf("device %s: embedded user %d is %s, want %s", id, k, uid, want[k])
				continue
			}
			for _, f := range []string{"created", "managementStatus", "screenLockType"} {
				if str(du, f) == "" {
					t.Errorf("device %s user %s: no %s", id, uid, f)
				}
			}
			uself := base + "/api/v1/users/" + uid
			if got := str(du, "user._links.self.href"); got != uself {
				t.Errorf("device %s user %s: _links.self.href %q, want %q", id, uid, got, uself)
			}
			_, b := getOK(t, uself)
			full := decodeObj(t, b)
			if !reflect.DeepEqual(du.(map[string]any)["user"], map[string]any(full)) {
				t.Errorf("device %s: embedded user %s differs from GET /users/{id}", id, uid)
			}
			if str(full, "status") == "ACTIVE" && str(du, "user._links.resetFactors.href") != uself+"/lifecycle/reset_factors" {
				t.Errorf("device %s user %s: no resetFactors link", id, uid)
			}
			tid := str(full, "type.id")
			if got := str(du, "user._links.schema.href"); got != base+"/api/v1/meta/schemas/user/osc"+tid[3:] {
				t.Errorf("device %s user %s: schema link %q for type %s", id, uid, got, tid)
			}
			embedded++
		}
		// /devices/{id}/users serves the same objects.
		if len(users) > 0 {
			_, b := getOK(t, self+"/users")
			list := decodeList(t, b)
			if len(list) != len(users) || !reflect.DeepEqual(any(list[0]), users[0]) {
				t.Errorf("device %s: /users differs from the embedded users", id)
			}
		}
	}
	if embedded == 0 || len(statuses) < 3 {
		t.Errorf("%d embedded users, statuses %v", embedded, statuses)
	}
	// expand=userSummary embeds the same users, each as id, name, login,
	// email and a self link (the spec's example).
	summaries := collect(t, base+"/api/v1/devices?expand=userSummary&limit=50", "")
	if len(summaries) != len(devices) {
		t.Fatalf("%d devices with userSummary, %d with user", len(summaries), len(devices))
	}
	for i, v := range summaries {
		full, _ := path(devices[i], "_embedded.users").([]any)
		sum, _ := path(v, "_embedded.users").([]any)
		if len(sum) != len(full) {
			t.Errorf("device %s: %d summaries, %d users", str(v, "id"), len(sum), len(full))
			continue
		}
		for k := range sum {
			su, fu := path(sum[k], "user").(map[string]any), path(full[k], "user").(map[string]any)
			var keys []string
			for key := range su {
				keys = append(keys, key)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, []string{"_links", "id", "profile"}) {
				t.Errorf("device %s: summary keys %v", str(v, "id"), keys)
			}
			for _, f := range []string{"id", "profile.firstName", "profile.lastName", "profile.login", "profile.email", "_links.self.href"} {
				if str(su, f) != str(fu, f) {
					t.Errorf("device %s: summary %s %q, user %q", str(v, "id"), f, str(su, f), str(fu, f))
				}
			}
			if str(sum[k], "created") != str(full[k], "created") || str(sum[k], "managementStatus") != str(full[k], "managementStatus") {
				t.Errorf("device %s: summary link differs: %v vs %v", str(v, "id"), sum[k], full[k])
			}
		}
	}
}

// Role assignments and the IAM lists link to the real assignee, role and
// resource set.
func TestRolePayloadsLinkTheDirectory(t *testing.T) {
	s, base := startSim(t, Config{Seed: 7, Users: 2000, Groups: 60})
	o := s.o
	custom := 0
	check := func(r any, assignee string, typ string) {
		t.Helper()
		for _, k := range []string{"id", "label", "type", "status", "created", "lastUpdated", "assignmentType"} {
			if str(r, k) == "" {
				t.Errorf("role %s: no %s", str(r, "id"), k)
			}
		}
		if str(r, "assignmentType") != typ {
			t.Errorf("role %s: assignmentType %q, want %q", str(r, "id"), str(r, "assignmentType"), typ)
		}
		if got := str(r, "_links.assignee.href"); got != assignee {
			t.Errorf("role %s: assignee %q, want %q", str(r, "id"), got, assignee)
		}
		if str(r, "type") != "CUSTOM" {
			return
		}
		custom++
		role, rs := str(r, "role"), str(r, "resource-set")
		if o.ids.parse(kCustomRole, role) < 0 || o.ids.parse(kResourceSet, rs) < 0 {
			t.Errorf("custom role %s: role %q resource-set %q", str(r, "id"), role, rs)
		}
		for k, want := range map[string]string{
			"role":         base + "/api/v1/iam/roles/" + role,
			"permissions":  base + "/api/v1/iam/roles/" + role + "/permissions",
			"resource-set": base + "/api/v1/iam/resource-sets/" + rs,
		} {
			if got := str(r, "_links."+k+".href"); got != want {
				t.Errorf("custom role %s: _links.%s %q, want %q", str(r, "id"), k, got, want)
			}
		}
		if !strings.HasPrefix(str(r, "_links.member.href"), base+"/api/v1/iam/resource-sets/"+rs+"/bindings/"+role+"/members/") {
			t.Errorf("custom role %s: member %q", str(r, "id"), str(r, "_links.member.href"))
		}
	}
	for _, a := range o.adminUsers {
		uid := o.ids.id(kUser, int(a.idx))
		roles := collect(t, base+"/api/v1/users/"+uid+"/roles", "")
		if len(roles) < len(a.roles) {
			t.Errorf("user %s: %d roles, want at least %d", uid, len(roles), len(a.roles))
		}
		for _, r := range roles[:len(a.roles)] {
			check(r, base+"/api/v1/users/"+uid, "USER")
		}
		for _, r := range roles[len(a.roles):] {
			if !strings.HasPrefix(str(r, "_links.assignee.href"), base+"/api/v1/groups/") || str(r, "assignmentType") != "GROUP" {
				t.Errorf("user %s: inherited role %v", uid, r)
			}
		}
	}
	for _, a := range o.adminGroups {
		gid := o.ids.id(kGroup, int(a.idx))
		for _, r := range collect(t, base+"/api/v1/groups/"+gid+"/roles", "") {
			check(r, base+"/api/v1/groups/"+gid, "GROUP")
		}
	}
	if custom == 0 {
		t.Error("no custom role assignment served")
	}
	for _, u := range collect(t, base+"/api/v1/iam/assignees/users?limit=100", "value") {
		uself := base + "/api/v1/users/" + str(u, "id")
		if str(u, "_links.self.href") != uself || str(u, "_links.roles.href") != uself+"/roles" {
			t.Errorf("assignee %s: links %v", str(u, "id"), path(u, "_links"))
		}
	}
	for _, r := range collect(t, base+"/api/v1/iam/roles", "roles") {
		if _, ok := r.(map[string]any)["isCloneable"].(bool); !ok {
			t.Errorf("custom role %s: no isCloneable", str(r, "id"))
		}
		if str(r, "_links.self.href") != base+"/api/v1/iam/roles/"+str(r, "id") {
			t.Errorf("custom role %s: self %q", str(r, "id"), str(r, "_links.self.href"))
		}
	}
}
