package oktasim

import "strings"

// upperAlnum returns n characters of [0-9A-Z] derived from the inputs.
func upperAlnum(a, b, c uint64, n int) string {
	out := make([]byte, n)
	h := hash3(a, b, c)
	for i := range n {
		if i%8 == 0 && i > 0 {
			h = hash3(a, b, c+uint64(i))
		}
		out[i] = base62[h%36]
		h /= 36
	}
	return string(out)
}

// Device expansions: none, expand=user (each user in full) or
// expand=userSummary (id, name, login, email and a self link).
const (
	devExpandNone = iota
	devExpandUser
	devExpandUserSummary
)

// deviceExpand maps the expand parameter of the device endpoints.
func deviceExpand(v string) int {
	switch v {
	case "user":
		return devExpandUser
	case "userSummary":
		return devExpandUserSummary
	}
	return devExpandNone
}

func (rd *renderer) writeDevice(d int, expand int) {
	o, w := rd.o, rd.w
	ds := &o.devices[d]
	r := newRng(o.seed, 0x64657670, uint64(d))
	m := deviceModels[ds.model]
	id := o.ids.id(kDevice, d)
	self := rd.lb + "/api/v1/devices/" + id
	display := m.display
	if strings.HasSuffix(display, "-") {
		display += upperAlnum(o.seed, 0x64737031, uint64(d), 7)
	}
	w.obj()
	w.ks("id", id).ks("status", deviceStatusName[ds.status])
	w.kt("created", ds.created).kt("lastUpdated", ds.lastUpdated)
	w.ko("profile")
	w.ks("displayName", display).ks("platform", m.platform).ks("manufacturer", m.manufacturer).ks("model", m.model)
	w.ks("osVersion", m.os)
	w.ks("serialNumber", upperAlnum(o.seed, 0x73657269, uint64(d), 12))
	udid := strings.ToUpper(string(appendUUID(nil, o.seed, 0x75646964, uint64(d))))
	w.ks("udid", udid)
	switch m.platform {
	case "WINDOWS":
		w.ks("sid", "S-1-5-21-3623811015-3361044348-30300820-"+itoa(2000+d))
		w.ks("tpmPublicKeyHash", b64id(o.seed, 0x74706d, uint64(d), 43)+"=")
	case "IOS", "ANDROID":
		w.ks("imei", "35"+pad4(r.intn(10000))+pad4(r.intn(10000))+pad4(r.intn(10000))+"1")
		if m.platform == "ANDROID" {
			w.ks("meid", "A1000049"+pad4(r.intn(10000))+"12")
		}
	}
	if m.platform == "IOS" {
		// Okta Verify's instance key, on the iOS devices of a recorded list.
		w.ks("authenticatorAppKey", strings.ToUpper(string(appendUUID(nil, o.seed, 0x61616b, uint64(d)))))
	}
	w.kb("registered", ds.status != devCreated)
	w.kb("secureHardwarePresent", m.platform != "ANDROID" || r.chance(0.5))
	w.ks("diskEncryptionType", pick(r, []string{"ALL_INTERNAL_VOLUMES", "FULL", "USER"}))
	w.end()
	w.ks("resourceId", id)
	w.ko("resourceDisplayName").ks("value", display).kb("sensitive", false).end()
	w.ks("resourceType", "UDDevice")
	w.kn("resourceAlternateId")
	if expand != devExpandNone {
		w.ko("_embedded").ka("users")
		for _, u := range ds.users {
			if u >= 0 && !o.users[u].deleted {
				rd.writeDeviceUser(d, u, expand == devExpandUserSummary)
			}
		}
		w.endArr().end()
	}
	w.ko("_links")
	hinted := func(key, path string, methods ...string) {
		w.ko(key).ks2("href", self, path).ko("hints").strs("allow", methods...).end().end()
	}
	// As Okta sends them (its spec's examples, a recorded list): a
	// deactivated device can only be read, deleted or reactivated.
	switch ds.status {
	case devActive:
		hinted("suspend", "/lifecycle/suspend", "POST")
	case devSuspended:
		hinted("unsuspend", "/lifecycle/unsuspend", "POST")
	default:
		hinted("activate", "/lifecycle/activate", "POST")
	}
	if ds.status == devDeactivated {
		hinted("self", "", "GET", "DELETE")
	} else {
		hinted("self", "", "GET", "PATCH", "PUT")
		hinted("users", "/users", "GET")
	}
	if ds.status == devActive || ds.status == devSuspended {
		hinted("deactivate", "/lifecycle/deactivate", "POST")
	}
	w.end()
	w.end()
}

func (rd *renderer) writeDeviceUser(d int, u int32, summary bool) {
	o, w := rd.o, rd.w
	r := newRng(o.seed, 0x64757372+uint64(d), uint64(u))
	w.obj()
	start := max(o.devices[d].created, o.users[u].created)
	w.kt("created", between(r, start, max(start, o.t0)))
	w.ks("managementStatus", pick(r, []string{"MANAGED", "NOT_MANAGED"}))
	w.ks("screenLockType", pick(r, []string{"BIOMETRIC", "PASSCODE", "NONE"}))
	// The user with the lifecycle links GET /users/{id} carries, as Okta
	// embeds it here.
	w.k("user")
	if summary {
		uid := o.ids.id(kUser, int(u))
		first, last := o.userNames(int(u))
		login := o.userLogin(int(u))
		w.obj().ks("id", uid)
		w.ko("profile").ks("firstName", first).ks("lastName", last).ks("login", login).ks("email", login).end()
		w.ko("_links").href("self", rd.lb+"/api/v1/users/"+uid).end()
		w.end()
	} else {
		rd.writeUser(int(u), true)
	}
	w.end()
}

func (rd *renderer) deviceAttr(d int, name string) (string, int64, bool, bool) {
	o := rd.o
	ds := &o.devices[d]
	m := deviceModels[ds.model]
	switch name {
	case "id":
		return o.ids.id(kDevice, d), 0, false, true
	case "status":
		return deviceStatusName[ds.status], 0, false, true
	case "created":
		return "", ds.created, true, true
	case "lastUpdated":
		return "", ds.lastUpdated, true, true
	case "profile.platform":
		return m.platform, 0, false, true
	case "profile.manufacturer":
		return m.manufacturer, 0, false, true
	case "profile.model":
		return m.model, 0, false, true
	case "profile.osVersion":
		return m.os, 0, false, true
	}
	return "", 0, false, false
}

func (rd *renderer) writePolicy(p int) {
	o, w := rd.o, rd.w
	pd := &o.policies[p]
	id := o.ids.id(kPolicy, p)
	self := rd.lb + "/api/v1/policies/" + id
	w.obj()
	w.ks("id", id)
	w.ks("status", activeStr(pd.active))
	name := strings.ReplaceAll(strings.ToLower(pd.typ), "_", " ")
	if pd.system {
		w.ks("name", "Default Policy")
		w.ks("description", "The default policy applies in all situations if no other policy applies.")
	} else {
		w.ks("name", strings.ToUpper(name[:1])+name[1:]+" policy "+itoa(pd.nth+1))
		w.ks("description", "Custom "+name+" policy")
	}
	w.ki("priority", int64(pd.nth+1))
	w.kb("system", pd.system)
	w.ko("conditions")
	switch pd.typ {
	case "OKTA_SIGN_ON", "PASSWORD", "MFA_ENROLL":
		w.ko("people").ko("groups").strs("include", o.ids.id(kGroup, 0)).end().end()
		if pd.typ == "PASSWORD" {
			w.ko("authProvider").ks("provider", "OKTA").end()
		}
	}
	w.end()
	w.kt("created", pd.created).kt("lastUpdated", pd.lastUpd)
	switch pd.typ {
	case "PASSWORD":
		w.ko("settings")
		w.ko("password")
		w.ko("complexity").ki("minLength", 12).ki("minLowerCase", 1).ki("minUpperCase", 1).ki("minNumber", 1).ki("minSymbol", 0).
			kb("excludeUsername", true).strs("excludeAttributes").ko("dictionary").ko("common").kb("exclude", true).end().end().end()
		w.ko("age").ki("maxAgeDays", 90).ki("expireWarnDays", 14).ki("minAgeMinutes", 0).ki("historyCount", 4).end()
		w.ko("lockout").ki("maxAttempts", 10).ki("autoUnlockMinutes", 0).kb("showLockoutFailures", false).strs("userLockoutNotificationChannels").end()
		w.end()
		w.ko("recovery").ko("factors").ko("recovery_question").ks("status", "ACTIVE").ko("properties").ko("complexity").ki("minLength", 4).end().end().end().
			ko("okta_email").ks("status", "ACTIVE").ko("properties").ko("recoveryToken").ki("tokenLifetimeMinutes", 60).end().end().end().end().end()
		w.ko("delegation").ko("options").kb("skipUnlock", false).end().end()
		w.end()
	case "MFA_ENROLL":
		w.ko("settings").ks("type", "AUTHENTICATORS").ka("authenticators")
		for _, k := range []string{"okta_email", "okta_verify", "phone_number", "security_question"} {
			w.obj().ks("key", k).ko("enroll").ks("self", pick(newRng(o.seed, uint64(p), hashString(k)), []string{"OPTIONAL", "REQUIRED", "NOT_ALLOWED"})).end().end()
		}
		w.endArr().end()
	}
	w.ko("_links")
	w.ko("self").ks("href", self).ko("hints").strs("allow", "GET", "PUT", "DELETE").end().end()
	if pd.active {
		w.ko("deactivate").ks("href", self+"/lifecycle/deactivate").ko("hints").strs("allow", "POST").end().end()
	} else {
		w.ko("activate").ks("href", self+"/lifecycle/activate").ko("hints").strs("allow", "POST").end().end()
	}
	w.ko("rules").ks("href", self+"/rules").ko("hints").strs("allow", "GET", "POST").end().end()
	w.end()
	w.ks("type", pd.typ)
	w.end()
}

func activeStr(b bool) string {
	if b {
		return "ACTIVE"
	}
	return "INACTIVE"
}

func (rd *renderer) writePolicyRule(k int) {
	o, w := rd.o, rd.w
	pr := &o.policyRules[k]
	pd := &o.policies[pr.policy]
	r := newRng(o.seed, 0x70727572, uint64(k))
	id := o.ids.id(kPolicyRule, k)
	self := rd.lb + "/api/v1/policies/" + o.ids.id(kPolicy, pr.policy) + "/rules/" + id
	w.obj()
	w.ks("id", id).ks("status", activeStr(pr.active))
	if pr.system {
		w.ks("name", "Catch-all Rule")
	} else {
		w.ks("name", "Rule "+itoa(pr.nth+1))
	}
	w.ki("priority", int64(pr.nth+1))
	w.kt("created", pr.created).kt("lastUpdated", pr.lastUpd)
	w.kb("system", pr.system)
	w.ko("conditions")
	w.ko("people").ko("users").ka("exclude")
	for _, u := range pr.excludeUsers {
		w.str(o.ids.id(kUser, int(u)))
	}
	w.endArr().end().end()
	conn := pick(r, []string{"ANYWHERE", "ANYWHERE", "ZONE"})
	w.ko("network").ks("connection", conn)
	if conn == "ZONE" {
		w.strs("include", o.ids.id(kZone, 3))
	}
	w.end()
	if pd.typ == "OKTA_SIGN_ON" {
		w.ko("authContext").ks("authType", pick(r, []string{"ANY", "ANY", "RADIUS"})).end()
	}
	if pd.typ == "ACCESS_POLICY" {
		w.ko("riskScore").ks("level", "ANY").end()
	}
	w.end()
	w.ko("actions")
	switch pd.typ {
	case "OKTA_SIGN_ON":
		req := r.chance(0.6)
		w.ko("signon").ks("access", pick(r, []string{"ALLOW", "ALLOW", "ALLOW", "DENY"})).kb("requireFactor", req)
		w.ks("primaryFactor", pick(r, []string{"PASSWORD_IDP_ANY_FACTOR", "PASSWORD_IDP"}))
		if req {
			w.ks("factorPromptMode", pick(r, []string{"ALWAYS", "SESSION", "DEVICE"})).kb("rememberDeviceByDefault", r.chance(0.5)).ki("factorLifetime", 15)
		} else {
			w.kb("rememberDeviceByDefault", false)
		}
		w.ko("session").ki("maxSessionIdleMinutes", int64(pick(r, []int{60, 120, 720}))).
			ki("maxSessionLifetimeMinutes", int64(pick(r, []int{0, 1440}))).kb("usePersistentCookie", r.chance(0.3)).end()
		w.end()
	case "PASSWORD":
		w.ko("passwordChange").ks("access", "ALLOW").end()
		w.ko("selfServicePasswordReset").ks("access", pick(r, []string{"ALLOW", "DENY"})).end()
		w.ko("selfServiceUnlock").ks("access", pick(r, []string{"ALLOW", "DENY"})).end()
	case "ACCESS_POLICY":
		w.ko("appSignOn").ks("access", "ALLOW").ko("verificationMethod").ks("factorMode", pick(r, []string{"1FA", "2FA"})).
			ks("type", "ASSURANCE").ks("reauthenticateIn", "PT12H").end().end()
	case "MFA_ENROLL":
		w.ko("enroll").ks("self", "CHALLENGE").end()
	case "IDP_DISCOVERY":
		w.ko("idp").ka("providers").obj().ks("type", "OKTA").end().endArr().end()
	}
	w.end()
	w.ks("type", policyRuleType[pd.typ])
	w.ko("_links")
	w.ko("self").ks("href", self).ko("hints").strs("allow", "GET", "PUT", "DELETE").end().end()
	if pr.active {
		w.ko("deactivate").ks("href", self+"/lifecycle/deactivate").ko("hints").strs("allow", "POST").end().end()
	} else {
		w.ko("activate").ks("href", self+"/lifecycle/activate").ko("hints").strs("allow", "POST").end().end()
	}
	w.end()
	w.end()
}

// mappingEnd describes one side of a profile mapping.
func (rd *renderer) writeMappingEnd(key string, kindOf uint8, ref int) {
	o, w := rd.o, rd.w
	w.ko(key)
	switch kindOf {
	case 0:
		tid := o.ids.id(kUserType, ref)
		w.ks("id", tid).ks("name", userTypeDefs[ref].name).ks("type", "user")
		w.ko("_links").href("self", rd.lb+"/api/v1/meta/types/user/"+tid).href("schema", rd.lb+"/api/v1/meta/schemas/user/osc"+tid[3:]).end()
	case 1:
		aid := o.ids.id(kApp, ref)
		w.ks("id", aid).ks("name", o.apps[ref].tmpl.name).ks("type", "appuser")
		w.ko("_links").href("self", rd.lb+"/api/v1/apps/"+aid).href("schema", rd.lb+"/api/v1/meta/schemas/apps/"+aid+"/default").end()
	default:
		iid := o.ids.id(kIdP, ref)
		w.ks("id", iid).ks("name", strings.ToLower(idpDefs[ref].typ)).ks("type", "appuser")
		w.ko("_links").href("self", rd.lb+"/api/v1/idps/"+iid).href("schema", rd.lb+"/api/v1/meta/schemas/apps/"+iid+"/default").end()
	}
	w.end()
}

func (rd *renderer) writeMapping(m int, full bool) {
	o, w := rd.o, rd.w
	md := &o.mappings[m]
	id := o.ids.id(kMapping, m)
	w.obj()
	w.ks("id", id)
	rd.writeMappingEnd("source", md.srcKind, md.srcRef)
	rd.writeMappingEnd("target", md.dstKind, md.dstRef)
	if full {
		src := "appuser"
		if md.srcKind == 0 {
			src = "user"
		}
		w.ko("properties")
		for i, p := range []string{"firstName", "lastName", "email", "login", "department", "title"} {
			if i >= 4 && md.srcKind != 0 {
				break
			}
			push := "PUSH"
			if md.dstKind == 0 || (m+i)%3 == 0 {
				push = "DONT_PUSH"
			}
			w.ko(p).ks("expression", src+"."+p).ks("pushStatus", push).end()
		}
		w.end()
	}
	w.ko("_links").ko("self").ks("href", rd.lb+"/api/v1/mappings/"+id).ko("hints").strs("allow", "GET", "POST").end().end().end()
	w.end()
}

func (rd *renderer) writeIdP(i int) {
	o, w := rd.o, rd.w
	d := o.idpDef(i)
	r := newRng(o.seed, uint64(kIdP), uint64(i))
	id := o.ids.id(kIdP, i)
	created := o.birth + int64(i+10)*day
	lastUpd := recentBiased(r, created, o.t0)
	if d.created != 0 {
		created, lastUpd = d.created, d.created+2*minute
	}
	w.obj()
	w.ks("id", id).ks("type", d.typ).ks("issuerMode", "ORG_URL").ks("name", d.name)
	w.ks("status", activeStr(o.idpActive(i)))
	w.kt("created", created).kt("lastUpdated", lastUpd)
	w.ko("protocol").ks("type", d.protocol)
	w.ko("endpoints")
	if d.protocol == "SAML2" {
		w.ko("sso").ks("url", d.issuer+"/sso").ks("binding", "HTTP-POST").ks("destination", d.issuer+"/sso").end()
		w.ko("acs").ks("binding", "HTTP-POST").ks("type", "INSTANCE").end()
	} else {
		w.ko("authorization").ks("url", d.issuer+"/oauth2/v1/authorize").ks("binding", "HTTP-REDIRECT").end()
		w.ko("token").ks("url", d.issuer+"/oauth2/v1/token").ks("binding", "HTTP-POST").end()
		w.ko("userInfo").ks("url", d.issuer+"/oauth2/v1/userinfo").ks("binding", "HTTP-REDIRECT").end()
		w.ko("jwks").ks("url", d.issuer+"/oauth2/v1/keys").ks("binding", "HTTP-REDIRECT").end()
	}
	w.end()
	if d.protocol != "SAML2" {
		w.strs("scopes", "openid", "email", "profile")
		w.ko("issuer").ks("url", d.issuer).end()
		w.ko("credentials").ko("client").ks("client_id", b64id(o.seed, 0x63696470, uint64(i), 20)).end().end()
	} else {
		w.ko("credentials").ko("trust").ks("issuer", d.issuer).ks("audience", rd.lb).ks("kid", string(appendUUID(nil, o.seed, 0x6b696470, uint64(i)))).end().end()
	}
	w.end()
	w.ko("policy")
	w.ko("provisioning").ks("action", pick(r, []string{"AUTO", "DISABLED"})).kb("profileMaster", r.chance(0.3))
	w.ko("groups").ks("action", "NONE").end()
	w.ko("conditions").ko("deprovisioned").ks("action", "NONE").end().ko("suspended").ks("action", "NONE").end().end()
	w.end()
	w.ko("accountLink")
	if i == 1 {
		w.ko("filter").ko("groups").strs("include", o.ids.id(kGroup, 0)).end().end()
	} else {
		w.kn("filter")
	}
	w.ks("action", "AUTO").end()
	w.ko("subject").ko("userNameTemplate").ks("template", "idpuser.email").end()
	if i == 2 {
		w.ks("filter", `(\S+@example\.com)`).ks("matchType", "CUSTOM_ATTRIBUTE").ks("matchAttribute", "employeeNumber")
	} else {
		w.ks("filter", "").ks("matchType", "USERNAME").ks("matchAttribute", "")
	}
	w.end()
	w.ki("maxClockSkew", 120000)
	w.end()
	w.ko("_links")
	w.ko("authorize").ks("href", rd.lb+"/oauth2/v1/authorize?idp="+id+"&client_id={clientId}&response_type={responseType}&response_mode={responseMode}&scope={scopes}&redirect_uri={redirectUri}&state={state}&nonce={nonce}").kb("templated", true).ko("hints").strs("allow", "GET").end().end()
	w.ko("clientRedirectUri").ks("href", rd.lb+"/oauth2/v1/authorize/callback").ko("hints").strs("allow", "POST").end().end()
	w.end()
	w.end()
}

var zoneDefs = []struct {
	name, typ, usage string
	system           bool
}{
	{"LegacyIpZone", "IP", "POLICY", true},
	{"BlockedIpZone", "IP", "BLOCKLIST", true},
	{"DefaultEnhancedDynamicZone", "DYNAMIC_V2", "BLOCKLIST", true},
	{"Corporate Offices", "IP", "POLICY", false},
	{"Blocked Countries", "DYNAMIC", "BLOCKLIST", false},
	{"VPN Egress", "IP", "POLICY", false},
}

func (rd *renderer) writeZone(z int) {
	o, w := rd.o, rd.w
	d := zoneDefs[z]
	r := newRng(o.seed, uint64(kZone), uint64(z))
	id := o.ids.id(kZone, z)
	self := rd.lb + "/api/v1/zones/" + id
	created := o.birth + int64(z)*day
	w.obj()
	w.ks("type", d.typ).ks("id", id).ks("name", d.name).ks("status", activeStr(!o.zoneInactive[z])).ks("usage", d.usage)
	lastUpd := recentBiased(r, created, o.t0)
	if t := o.zoneChanged[z]; t != 0 {
		lastUpd = t
	}
	w.kt("created", created).kt("lastUpdated", lastUpd)
	w.kb("system", d.system)
	switch d.typ {
	case "IP":
		w.ka("gateways")
		if z != 1 {
			w.obj().ks("type", "CIDR").ks("value", "203.0."+itoa(113+z%3)+".0/24").end()
			w.obj().ks("type", "RANGE").ks("value", "198.51.100."+itoa(10*z)+"-198.51.100."+itoa(10*z+9)).end()
		} else {
			w.obj().ks("type", "CIDR").ks("value", "192.0.2.0/24").end()
		}
		w.endArr()
		if z == 5 || z == 0 {
			w.ka("proxies").obj().ks("type", "CIDR").ks("value", "100.64."+itoa(z)+".0/24").end().endArr()
		} else {
			w.kn("proxies")
		}
	default:
		w.ks("proxyType", "Any")
		w.ka("locations").obj().ks("country", "KP").kn("region").end().obj().ks("country", "IR").kn("region").end().endArr()
		w.strs("asns", "64496")
	}
	w.ko("_links")
	w.ko("self").ks("href", self).ko("hints").strs("allow", "GET", "PUT", "DELETE").end().end()
	w.ko("deactivate").ks("href", self+"/lifecycle/deactivate").ko("hints").strs("allow", "POST").end().end()
	w.end()
	w.end()
}

var apiTokenNames = []string{"Fivetran connector", "SCIM provisioning", "Terraform", "Audit export", "Backup job"}

func (rd *renderer) writeAPIToken(t int) {
	o, w := rd.o, rd.w
	r := newRng(o.seed, uint64(kAPIToken), uint64(t))
	id := o.ids.id(kAPIToken, t)
	owner := 0
	if len(o.adminUsers) > 0 {
		owner = int(o.adminUsers[t%len(o.adminUsers)].idx)
	}
	created := between(r, o.t0-200*day, o.t0-10*day)
	lastUpd := between(r, created, o.t0)
	name := apiTokenNames[t%len(apiTokenNames)]
	if t >= o.apiTokens-len(o.tokenExtra) {
		x := o.tokenExtra[t-(o.apiTokens-len(o.tokenExtra))]
		owner, created, lastUpd, name = x.owner, x.created, x.created, x.name
	}
	w.obj()
	w.ks("id", id).ks("name", name)
	w.ks("userId", o.ids.id(kUser, owner))
	w.ks("clientName", "Okta API")
	w.kt("created", created).kt("lastUpdated", lastUpd)
	w.kt("expiresAt", lastUpd+30*day)
	w.ks("tokenWindow", "P30D")
	conn := pick(r, []string{"ANYWHERE", "ZONE"})
	w.ko("network").ks("connection", conn)
	if conn == "ZONE" {
		w.strs("include", o.ids.id(kZone, 3))
	}
	w.end()
	w.ko("_links")
	w.ko("self").ks("href", rd.lb+"/api/v1/api-tokens/"+id).ko("hints").strs("allow", "GET", "DELETE", "PUT").end().end()
	w.ko("user").ks("name", o.userDisplayName(owner)).ks("href", rd.lb+"/api/v1/users/"+o.ids.id(kUser, owner)).ko("hints").strs("allow", "GET").end().end()
	w.end()
	w.end()
}
