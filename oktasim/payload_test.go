package oktasim

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// collect fetches every object of one kind, following next links (Link header
// or, for /iam, the body), and unwrapping wrapped bodies under key.
func collect(t *testing.T, u, key string) []any {
	t.Helper()
	var out []any
	for u != "" {
		resp, b := getOK(t, u)
		u = links(resp)["next"]
		if key == "" {
			for _, m := range decodeList(t, b) {
				out = append(out, m)
			}
			continue
		}
		obj := decodeObj(t, b)
		if items, ok := obj[key].([]any); ok {
			out = append(out, items...)
		} else {
			out = append(out, obj)
		}
		u = str(obj, "_links.next.href")
	}
	return out
}

// values evaluates a path such as "a.b", "a[].b" (every element) or "a.*" (every
// key) and returns the non-null values found.
func values(v any, p string) []any {
	if p == "" {
		if v == nil {
			return nil
		}
		return []any{v}
	}
	head, rest, _ := strings.Cut(p, ".")
	if name, ok := strings.CutSuffix(head, "[]"); ok {
		arr, _ := path(v, name).([]any)
		var out []any
		for _, e := range arr {
			out = append(out, values(e, rest)...)
		}
		return out
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if head == "*" {
		var out []any
		for _, e := range m {
			out = append(out, values(e, rest)...)
		}
		return out
	}
	return values(m[head], rest)
}

// Every column of Fivetran's Okta schema (reference/fivetran-okta-schema.tsv) can
// be filled from some field we serve: for each table, each JSON path below must
// be non-null in at least one served object. Key columns that come from the
// parent (users_id, application_id, ...) are the parent's id and are omitted.
func TestPayloadsFillFivetranColumns(t *testing.T) {
	s, base := startSim(t, Config{Seed: 1, Users: 400, Groups: 40, Apps: 30, Devices: 60, Logs: 4000})
	o := s.o
	all := "?search=" + url.QueryEscape(`lastUpdated gt "2000-01-01T00:00:00.000Z"`)
	data := map[string][]any{}
	data["users"] = collect(t, base+"/api/v1/users"+all, "")
	data["user_types"] = collect(t, base+"/api/v1/meta/types/user", "")
	data["groups"] = collect(t, base+"/api/v1/groups", "")
	data["rules"] = collect(t, base+"/api/v1/groups/rules", "")
	data["apps"] = collect(t, base+"/api/v1/apps?includeNonDeleted=true", "")
	for _, a := range data["apps"] {
		id := a.(map[string]any)["id"].(string)
		data["app_users"] = append(data["app_users"], collect(t, base+"/api/v1/apps/"+id+"/users", "")...)
		data["app_groups"] = append(data["app_groups"], collect(t, base+"/api/v1/apps/"+id+"/groups", "")...)
	}
	data["devices"] = collect(t, base+"/api/v1/devices", "")
	for _, d := range data["devices"] {
		data["device_users"] = append(data["device_users"], collect(t, base+"/api/v1/devices/"+d.(map[string]any)["id"].(string)+"/users", "")...)
	}
	data["logs"] = collect(t, base+"/api/v1/logs?limit=1000&since="+url.QueryEscape(fmtTS(o.now-30*day))+"&until="+url.QueryEscape(fmtTS(o.now)), "")
	data["resource_sets"] = collect(t, base+"/api/v1/iam/resource-sets", "resource-sets")
	for _, rs := range data["resource_sets"] {
		data["resources"] = append(data["resources"], collect(t, str(rs, "_links.resources.href"), "resources")...)
	}
	data["custom_roles"] = collect(t, base+"/api/v1/iam/roles", "roles")
	for _, r := range data["custom_roles"] {
		data["permissions"] = append(data["permissions"], collect(t, str(r, "_links.permissions.href"), "permissions")...)
	}
	for _, a := range o.adminUsers {
		data["user_roles"] = append(data["user_roles"], collect(t, base+"/api/v1/users/"+o.ids.id(kUser, int(a.idx))+"/roles", "")...)
	}
	for _, g := range o.adminGroups {
		data["group_roles"] = append(data["group_roles"], collect(t, base+"/api/v1/groups/"+o.ids.id(kGroup, int(g.idx))+"/roles", "")...)
	}
	for _, m := range collect(t, base+"/api/v1/mappings", "") {
		data["mappings"] = append(data["mappings"], collect(t, base+"/api/v1/mappings/"+m.(map[string]any)["id"].(string), "x")...)
	}
	for _, typ := range policyTypes {
		for _, p := range collect(t, base+"/api/v1/policies?type="+typ, "") {
			data["policies"] = append(data["policies"], p)
			data["policy_rules"] = append(data["policy_rules"], collect(t, str(p, "_links.rules.href"), "")...)
		}
	}
	data["idps"] = collect(t, base+"/api/v1/idps", "")
	data["zones"] = collect(t, base+"/api/v1/zones", "")
	data["api_tokens"] = collect(t, base+"/api/v1/api-tokens", "")
	for i := range 60 {
		uid := o.ids.id(kUser, i)
		data["factors"] = append(data["factors"], collect(t, base+"/api/v1/users/"+uid+"/factors", "")...)
		data["enrollments"] = append(data["enrollments"], collect(t, base+"/api/v1/users/"+uid+"/authenticator-enrollments", "")...)
	}

	roleCols := "id _links.assignee.href _links.member.href _links.permissions.href _links.resource-set.href _links.role.href assignmentType created role label lastUpdated resource-set status type"
	want := map[string]string{
		"api_tokens": "id clientName created expiresAt lastUpdated name network.connection tokenWindow userId",
		"apps": "id _links.accessPolicy.href _links.activate.href _links.deactivate.href _links.groups.href _links.help.href _links.help.type " +
			"_links.metadata.href _links.metadata.type _links.policies.hints.allow _links.policies.href _links.profileEnrollment.href " +
			"_links.uploadLogo.hints.allow _links.uploadLogo.href _links.users.href accessibility.errorRedirectUrl accessibility.loginRedirectUrl " +
			"accessibility.selfService created credentials.oauthClient.autoKeyRotation credentials.oauthClient.token_endpoint_auth_method " +
			"credentials.revealPassword credentials.scheme credentials.signing.kid credentials.userName credentials.userNameTemplate.template " +
			"credentials.userNameTemplate.pushStatus credentials.userNameTemplate.type credentials.userNameTemplate.userSuffix label lastUpdated name " +
			"settings.oauthClient.request_object_signing_alg settings.app settings.notes.admin settings.notes.enduser settings.notifications.vpn.helpUrl " +
			"settings.notifications.vpn.message settings.notifications.vpn.network.connection settings.notifications.vpn.network.include " +
			"settings.oauthClient.application_type settings.oauthClient.consent_method settings.oauthClient.idp_initiated_login.default_scope " +
			"settings.oauthClient.idp_initiated_login.mode settings.oauthClient.initiate_login_uri settings.oauthClient.issuer_mode " +
			"settings.oauthClient.logo_uri settings.oauthClient.policy_uri settings.oauthClient.refresh_token.leeway " +
			"settings.oauthClient.refresh_token.rotation_type settings.oauthClient.tos_uri settings.oauthClient.client_uri " +
			"settings.oauthClient.wildcard_redirect settings.signOn.allowMultipleAcsEndpoints settings.signOn.assertionSigned settings.signOn.audience " +
			"settings.signOn.authnContextClassRef settings.signOn.defaultRelayState settings.signOn.destination settings.signOn.digestAlgorithm " +
			"settings.signOn.honorForceAuthn settings.signOn.idpIssuer settings.signOn.loginUrl settings.signOn.recipient settings.signOn.redirectUrl " +
			"settings.signOn.requestCompressed settings.signOn.responseSigned settings.signOn.signatureAlgorithm settings.signOn.slo.enabled " +
			"settings.signOn.slo.logoutUrl settings.signOn.slo.spIssuer settings.signOn.spCertificate.x5c settings.signOn.spIssuer " +
			"settings.signOn.ssoAcsUrl settings.signOn.subjectNameIdFormat settings.signOn.subjectNameIdTemplate signOnMode status " +
			"visibility.appLinks visibility.autoLaunch visibility.autoSubmitToolbar visibility.hide.iOS visibility.hide.web " +
			"_links.clientCredentials[].href _links.clientCredentials[].name features[] _links.appLinks[].href _links.appLinks[].name " +
			"_links.appLinks[].type _links.logo[].href _links.logo[].name _links.logo[].type settings.signOn.acsEndpoints[].index " +
			"settings.signOn.acsEndpoints[].url settings.signOn.attributeStatements[].name settings.signOn.attributeStatements[].filterType " +
			"settings.signOn.attributeStatements[].filterValue settings.signOn.attributeStatements[].namespace " +
			"settings.signOn.attributeStatements[].type settings.signOn.attributeStatements[].values settings.signOn.inlineHooks[].id " +
			"settings.signOn.inlineHooks[]._links.self.hints.allow settings.signOn.inlineHooks[]._links.self.href " +
			"settings.oauthClient.grant_types[] settings.oauthClient.post_logout_redirect_uris[] settings.oauthClient.redirect_uris[] " +
			"settings.oauthClient.response_types[]",
		"app_groups": "id _links.app.href _links.group.href _links.self.href priority",
		"app_users": "id _links.app.href _links.self.href _links.user.href created credentials.userName externalId lastSync lastUpdated " +
			"passwordChanged scope status statusChanged syncState",
		"rules": "id allGroupsValid conditions.expression.type conditions.expression.value created lastUpdated name status type " +
			"actions.assignUserToGroups.groupIds[] conditions.people.groups.exclude[] conditions.people.users.exclude[]",
		"custom_roles": "id created description label lastUpdated",
		"permissions":  "label _links.role.href _links.self.href created lastUpdated",
		"devices": "id _links.activate.hints.allow _links.activate.href _links.deactivate.hints.allow _links.deactivate.href " +
			"_links.self.hints.allow _links.self.href _links.suspend.hints.allow _links.suspend.href _links.unsuspend.hints.allow " +
			"_links.unsuspend.href _links.users.hints.allow _links.users.href created lastUpdated profile.displayName profile.imei " +
			"profile.manufacturer profile.meid profile.model profile.osVersion profile.platform profile.registered " +
			"profile.secureHardwarePresent profile.serialNumber profile.sid profile.tpmPublicKeyHash profile.udid " +
			"resourceDisplayName.sensitive resourceDisplayName.value resourceId resourceType status",
		"device_users": "created managementStatus user.id",
		"group_roles":  roleCols,
		"user_roles":   roleCols,
		"groups": "id _links.apps.href _links.self.href _links.source.href _links.users.href created lastMembershipUpdated lastUpdated " +
			"objectClass profile.description profile.dn profile.externalId profile.name profile.samAccountName " +
			"profile.windowsDomainQualifiedName type _links.logo[].href _links.logo[].name _links.logo[].type",
		"idps": "id created issuerMode lastUpdated name policy.accountLink.action policy.accountLink.filter policy.maxClockSkew " +
			"policy.provisioning.action policy.provisioning.conditions.deprovisioned.action policy.provisioning.conditions.suspended.action " +
			"policy.provisioning.groups.action policy.provisioning.profileMaster policy.subject.filter policy.subject.matchAttribute " +
			"policy.subject.matchType policy.subject.userNameTemplate.template protocol.endpoints.authorization.binding " +
			"protocol.endpoints.authorization.url protocol.endpoints.jwks.url protocol.endpoints.token.url protocol.issuer.url " +
			"protocol.endpoints.token.binding protocol.type status type protocol.scopes[]",
		"zones": "id created lastUpdated name status system type usage gateways[].type gateways[].value proxies[].type proxies[].value",
		"policies": "id _links.self.hints.allow _links.self.href conditions created description system lastUpdated name priority " +
			"settings status type",
		"policy_rules": "id conditions.authContext.authType created lastUpdated name conditions.network.connection priority " +
			"actions.signon.access actions.signon.primaryFactor actions.signon.rememberDeviceByDefault actions.signon.requireFactor " +
			"actions.signon.session.maxSessionIdleMinutes actions.signon.session.maxSessionLifetimeMinutes " +
			"actions.signon.session.usePersistentCookie status system type conditions.people.users.exclude[]",
		"mappings": "id _links.self.hints.allow _links.self.href source.id source.name source.type target.id target.name target.type " +
			"properties.*.expression properties.*.pushStatus",
		"resources":     "_links.groups.href _links.self.href _links.users.href created id lastUpdated",
		"resource_sets": "id _links.bindings.href _links.resources.href _links.self.href created description label lastUpdated",
		"logs": "uuid actor.alternateId actor.detailEntry actor.displayName actor.id actor.type " +
			"authenticationContext.authenticationProvider authenticationContext.authenticationStep authenticationContext.credentialProvider " +
			"authenticationContext.credentialType authenticationContext.externalSessionId authenticationContext.interface " +
			"authenticationContext.issuer client.device client.geographicalContext client.id client.ipAddress client.userAgent.browser " +
			"client.userAgent.os client.userAgent.rawUserAgent client.zone debugContext.debugData.* device displayMessage eventType " +
			"legacyEventType outcome.reason outcome.result published securityContext.asNumber securityContext.asOrg securityContext.domain " +
			"securityContext.isProxy securityContext.isp severity transaction.id transaction.type version " +
			"request.ipChain[].geographicalContext request.ipChain[].ip request.ipChain[].source request.ipChain[].version " +
			"target[].id target[].alternateId target[].detailEntry target[].displayName target[].type",
		"enrollments": "id created key lastUpdated name nickname profile status type",
		"factors":     "id created _embedded factorType lastUpdated profile provider status vendorName",
		"user_types": "id _links.schema.href _links.schema.method _links.schema.rel _links.self.href _links.self.method " +
			"_links.self.rel created createdBy default description displayName lastUpdated lastUpdatedBy name",
		"users": "id _links.self.href activated created credentials.password.hash.value credentials.provider.name " +
			"credentials.provider.type credentials.recovery_question.question lastLogin lastUpdated passwordChanged profile.city " +
			"profile.costCenter profile.countryCode profile.department profile.displayName profile.division profile.email " +
			"profile.employeeNumber profile.firstName profile.honorificPrefix profile.honorificSuffix profile.keyGrPerson profile.keyGuid " +
			"profile.lastName profile.locale profile.login profile.manager profile.managerId profile.middleName profile.mobilePhone " +
			"profile.nickName profile.organization profile.postalAddress profile.preferredLanguage profile.primaryPhone profile.secondEmail " +
			"profile.state profile.streetAddress profile.timezone profile.title profile.profileUrl profile.userType profile.zipCode status " +
			"statusChanged transitioningToStatus type.id credentials.emails[].value credentials.emails[].status credentials.emails[].type " +
			"profile.startDate profile.skills",
	}
	// Columns Okta sends as null in every published example and recorded
	// exchange: the column exists, but no real payload fills it.
	alwaysNull := map[string]string{"devices": "resourceAlternateId"}
	for kind, p := range alwaysNull {
		for _, obj := range data[kind] {
			if v, ok := obj.(map[string]any)[p]; !ok || v != nil {
				t.Errorf("%s: %s = %v (present %v), want null", kind, p, v, ok)
				break
			}
		}
	}
	for kind, paths := range want {
		objs := data[kind]
		if len(objs) == 0 {
			t.Errorf("%s: nothing served", kind)
			continue
		}
		for _, p := range strings.Fields(paths) {
			found := false
			for _, obj := range objs {
				if len(values(obj, p)) > 0 {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: no object has a value at %s", kind, p)
			}
		}
	}
	// Users' custom attributes vary between users.
	keys := map[string]int{}
	for _, u := range data["users"] {
		for k := range u.(map[string]any)["profile"].(map[string]any) {
			keys[k]++
		}
	}
	if keys["skills"] == 0 || keys["skills"] == len(data["users"]) || keys["keyGuid"] == len(data["users"]) {
		t.Errorf("custom attribute presence does not vary: %v", keys)
	}
}

var (
	idRe = regexp.MustCompile(`^[0-9A-Za-z]{20}$`)
	tsRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

// Ids are 20 characters with Okta's prefixes; timestamps are ISO-8601 with
// milliseconds and Z; _links hrefs point at the simulator's own base URL.
func TestPayloadFormats(t *testing.T) {
	_, base := startSim(t, Config{Seed: 1, Users: 50, Logs: 10})
	_, b := getOK(t, base+"/api/v1/users?limit=50")
	for _, u := range decodeList(t, b) {
		id := u["id"].(string)
		if !idRe.MatchString(id) || !strings.HasPrefix(id, "00u") {
			t.Errorf("user id %q", id)
		}
		for _, f := range []string{"created", "lastUpdated"} {
			if !tsRe.MatchString(u[f].(string)) {
				t.Errorf("%s %q", f, u[f])
			}
		}
		if got := str(u, "_links.self.href"); got != base+"/api/v1/users/"+id {
			t.Errorf("self href %q", got)
		}
		if !strings.HasPrefix(str(u, "type.id"), "oty") {
			t.Errorf("type.id %q", str(u, "type.id"))
		}
	}
	prefixes := map[string]string{"/api/v1/groups": "00g", "/api/v1/apps": "0oa", "/api/v1/devices": "guo",
		"/api/v1/mappings": "prm", "/api/v1/zones": "nzo", "/api/v1/api-tokens": "00T", "/api/v1/groups/rules": "0pr"}
	for p, pre := range prefixes {
		_, b := getOK(t, base+p)
		for _, o := range decodeList(t, b) {
			if id := o["id"].(string); !idRe.MatchString(id) || !strings.HasPrefix(id, pre) {
				t.Errorf("%s id %q, want %s + 17 chars", p, id, pre)
			}
		}
	}
	// Every id a list hands out resolves with GET by id.
	_, b = getOK(t, base+"/api/v1/users?limit=5")
	for _, u := range decodeList(t, b) {
		_, one := getOK(t, base+"/api/v1/users/"+u["id"].(string))
		if str(decodeObj(t, one), "_links.deactivate.href") == "" && u["status"] != "DEPROVISIONED" {
			t.Errorf("GET /users/{id} lacks lifecycle links")
		}
		// and by login
		_, byLogin := getOK(t, base+"/api/v1/users/"+url.PathEscape(str(u, "profile.login")))
		if decodeObj(t, byLogin)["id"] != u["id"] {
			t.Errorf("lookup by login returned another user")
		}
	}
	if !bytes.Contains(b, []byte(`"secondEmail":`)) {
		t.Error("users lack the secondEmail attribute")
	}
}

// The same Config yields byte-identical bodies; a different seed does not.
func TestDeterministicBodies(t *testing.T) {
	cfg := Config{Seed: 42, Users: 150, Groups: 12, Apps: 14, Devices: 20, Logs: 500, LinkBaseURL: "https://acme.okta.example"}
	paths := []string{"/api/v1/users?limit=200", "/api/v1/groups", "/api/v1/apps?includeNonDeleted=true", "/api/v1/devices?expand=user",
		"/api/v1/logs?limit=1000&since=2025-12-01T00:00:00.000Z&until=2026-01-16T00:00:00.000Z", "/api/v1/iam/roles",
		"/api/v1/policies?type=OKTA_SIGN_ON", "/api/v1/nope", "/api/v1/apps?after=garbage"}
	fetch := func(cfg Config) [][]byte {
		_, base := startSim(t, cfg)
		var out [][]byte
		for _, p := range paths {
			_, b := get(t, base+p, "demo-token")
			out = append(out, b)
		}
		return out
	}
	a, b := fetch(cfg), fetch(cfg)
	for i := range paths {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("%s: bodies differ between two sims with the same Config", paths[i])
		}
		if bytes.Contains(a[i], []byte("127.0.0.1")) {
			t.Errorf("%s: body mentions the listening address despite LinkBaseURL", paths[i])
		}
	}
	cfg.Seed = 43
	c := fetch(cfg)
	if bytes.Equal(a[0], c[0]) {
		t.Error("different seeds produced the same users page")
	}
}

// Moving the clock without changes leaves every object byte-identical: the
// procedural values never depend on the org clock.
func TestAdvanceLeavesObjectsUnchanged(t *testing.T) {
	s, base := startSim(t, Config{Seed: 6, Users: 60, Groups: 10, Apps: 14, Devices: 10, Logs: 10, LinkBaseURL: "https://acme.okta.example"})
	o := s.o
	uid, aid := o.ids.id(kUser, 3), o.ids.id(kApp, len(builtinApps))
	d := 0
	for o.devices[d].users[0] < 0 {
		d++
	}
	paths := []string{"/api/v1/users?limit=200", "/api/v1/groups?expand=stats", "/api/v1/apps?includeNonDeleted=true",
		"/api/v1/apps/" + aid + "/users?expand=user", "/api/v1/apps/" + aid + "/groups", "/api/v1/devices?expand=user",
		"/api/v1/devices/" + o.ids.id(kDevice, d) + "/users", "/api/v1/users/" + uid + "/factors",
		"/api/v1/users/" + uid + "/authenticator-enrollments", "/api/v1/users/" + o.ids.id(kUser, 0) + "/roles",
		"/api/v1/iam/roles", "/api/v1/iam/resource-sets", "/api/v1/mappings", "/api/v1/policies?type=OKTA_SIGN_ON",
		"/api/v1/groups/rules", "/api/v1/idps", "/api/v1/zones", "/api/v1/api-tokens", "/api/v1/meta/types/user"}
	fetch := func() [][]byte {
		var out [][]byte
		for _, p := range paths {
			_, b := getOK(t, base+p)
			out = append(out, b)
		}
		return out
	}
	before := fetch()
	s.Advance(72 * time.Hour)
	after := fetch()
	for i, p := range paths {
		if !bytes.Equal(before[i], after[i]) {
			t.Errorf("%s changed after Advance", p)
		}
	}
}
