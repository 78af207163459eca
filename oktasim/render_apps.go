package oktasim

import "strings"

func (o *org) appSlug(a int) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 32
		}
		return '-'
	}, o.apps[a].label), "-")
}

// policyOfType returns the nth policy of type t (the first if fewer; -1 if none).
func (o *org) policyOfType(t string, nth int) int {
	first, n := -1, 0
	for p := range o.policies {
		if o.policies[p].typ == t {
			if first < 0 {
				first = p
			}
			if n == nth {
				return p
			}
			n++
		}
	}
	return first
}

// appLinkName is the name of app a's dashboard link (visibility.appLinks and
// _links.appLinks): "login" for Okta's template apps and bookmarks, "admin" for
// the Admin Console, "<name>_link" for catalog and OIDC apps; "" when the app
// has none (the Dashboard and the Browser Plugin). Okta's recorded app lists
// (okta-sdk-python cassettes) and the OpenAPI spec's examples show these names.
func (o *org) appLinkName(a int) string {
	name := o.apps[a].tmpl.name
	switch {
	case name == "saasure":
		return "admin"
	case a < appADIndex:
		return ""
	case name == "bookmark" || strings.HasPrefix(name, "template_"):
		return "login"
	}
	return name + "_link"
}

// oktaApp reports whether app a is one of Okta's own (Admin Console,
// Dashboard, Browser Plugin): they use the org's signing key and carry no
// client settings, notes or redirect URLs of their own.
func oktaApp(a int) bool { return a < appADIndex }

// orgKid is the key id of the org authorization server's signing key, which
// every OIDC app's credentials.signing.kid names.
func (o *org) orgKid() string { return b64id(o.seed, 0x6b6964, 1<<40, 43) }

func (rd *renderer) writeApp(a int) {
	o, w := rd.o, rd.w
	app := &o.apps[a]
	r := newRng(o.seed, 0x61707072, uint64(a))
	id := o.ids.id(kApp, a)
	self := rd.lb + "/api/v1/apps/" + id
	mode := app.tmpl.mode
	name := app.tmpl.name
	slug := o.appSlug(a)
	builtin := a < len(builtinApps)
	okta := oktaApp(a)
	link := o.appLinkName(a)
	w.obj()
	w.ks("id", id)
	w.ks("orn", "orn:okta:idp:"+o.ids.id(kOrg, 0)+":apps:"+name+":"+id)
	w.ks("name", name).ks("label", app.label)
	if app.active {
		w.ks("status", "ACTIVE")
	} else {
		w.ks("status", "INACTIVE")
	}
	w.kt("lastUpdated", app.lastUpdated).kt("created", app.created)
	w.ko("accessibility").kb("selfService", !okta && r.chance(0.2))
	if r.chance(0.3) && !okta {
		w.ks("errorRedirectUrl", "https://"+slug+".example.com/error").ks("loginRedirectUrl", "https://"+slug+".example.com/login")
	} else {
		w.kn("errorRedirectUrl").kn("loginRedirectUrl")
	}
	w.end()
	w.ko("visibility").kb("autoSubmitToolbar", !okta && r.chance(0.3))
	// Okta's own apps are shown; the AD integration is hidden.
	hideIOS, hideWeb := builtin && !okta, builtin && !okta
	if !builtin {
		hideIOS, hideWeb = r.chance(0.1), r.chance(0.1)
	}
	w.ko("hide").kb("iOS", hideIOS).kb("web", hideWeb).end()
	w.ko("appLinks")
	if link != "" {
		w.kb(link, !builtin || okta)
	}
	w.end()
	w.kb("autoLaunch", false)
	w.end()
	w.ka("features")
	if app.provisioning {
		for _, f := range []string{"IMPORT_NEW_USERS", "PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES", "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS", "GROUP_PUSH"} {
			w.str(f)
		}
		if r.chance(0.5) {
			w.str("PUSH_PASSWORD_UPDATES")
		}
	}
	w.endArr()
	w.ks("signOnMode", mode)
	rd.writeAppCredentials(a, r)
	rd.writeUniversalLogout(a)
	rd.writeAppSettings(a, r)
	w.ko("_links")
	if !okta && name != "bookmark" {
		w.ko("help").ks("href", rd.lb+"/app/"+name+"/"+id+"/setup/help/"+mode+"/external-doc").ks("type", "text/html").end()
	}
	if mode == "SAML_2_0" || mode == "WS_FEDERATION" {
		w.ko("metadata").ks("href", self+"/sso/saml/metadata").ks("type", "application/xml").end()
	}
	w.ka("appLinks")
	switch {
	case name == "saasure":
		w.obj().ks("name", link).ks("href", rd.lb+"/home/"+name+"/"+id+"/2").ks("type", "text/html").end()
	case !builtin:
		// app link ids and logo ids are derived ids in a range no app uses
		w.obj().ks("name", link).ks("href", rd.lb+"/home/"+name+"/"+id+"/"+o.ids.id(kApp, a+1<<20)[3:]).ks("type", "text/html").end()
	}
	w.endArr()
	w.ko("profileEnrollment").ks("href", rd.lb+"/api/v1/policies/"+o.ids.id(kPolicy, max(0, o.policyOfType("PROFILE_ENROLLMENT", 0)))).end()
	w.ko("policies").ks("href", self+"/policies").ko("hints").strs("allow", "PUT").end().end()
	w.href("groups", self+"/groups")
	w.ka("logo").obj().ks("name", "medium").ks("href", "https://ok12static.oktacdn.com/fs/bco/4/"+o.ids.id(kApp, a+2<<20)).ks("type", "image/png").end().endArr()
	w.href("accessPolicy", rd.lb+"/api/v1/policies/"+o.ids.id(kPolicy, max(0, o.policyOfType("ACCESS_POLICY", a%2))))
	w.href("users", self+"/users")
	if app.active {
		w.href("deactivate", self+"/lifecycle/deactivate")
	} else {
		w.href("activate", self+"/lifecycle/activate")
	}
	w.ko("uploadLogo").ks("href", self+"/logo").ko("hints").strs("allow", "POST").end().end()
	if mode == "OPENID_CONNECT" && !okta {
		w.ka("clientCredentials")
		w.obj().ks("name", "secrets").ks("href", self+"/credentials/secrets").end()
		w.obj().ks("name", "keys").ks("href", self+"/credentials/keys").end()
		w.endArr()
	}
	w.end()
	w.end()
}

// writeUniversalLogout: Okta returns universalLogout null for apps without
// Universal Logout (every app of its recorded lists); catalog apps that
// support it (Slack, Salesforce) carry the read-only object the spec
// describes, enabled or not by the org's admin.
func (rd *renderer) writeUniversalLogout(a int) {
	o, w := rd.o, rd.w
	switch o.apps[a].tmpl.name {
	case "slack", "salesforce":
		st := "DISABLED"
		if hash3(o.seed, 0x756c6f, uint64(a))%2 == 0 {
			st = "ENABLED"
		}
		w.ko("universalLogout").ks("status", st).ks("supportType", "FULL").ks("identityStack", "NOT_SHARED").ks("protocol", "PROPRIETARY").end()
	default:
		w.kn("universalLogout")
	}
}

func (rd *renderer) writeAppCredentials(a int, r *rng) {
	o, w := rd.o, rd.w
	app := &o.apps[a]
	mode := app.tmpl.mode
	w.ko("credentials")
	switch mode {
	case "AUTO_LOGIN", "BROWSER_PLUGIN", "BASIC_AUTH":
		w.ks("scheme", pick(r, []string{"EDIT_USERNAME_AND_PASSWORD", "ADMIN_SETS_CREDENTIALS", "EXTERNAL_PASSWORD_SYNC"}))
		w.kb("revealPassword", r.chance(0.5))
	case "SECURE_PASSWORD_STORE":
		w.ks("scheme", "SHARED_USERNAME_AND_PASSWORD")
		w.ks("userName", "marketing@"+orgDomain)
		w.kb("revealPassword", false)
	}
	w.ko("userNameTemplate").ks("template", "${source.login}").ks("type", "BUILT_IN")
	if app.provisioning {
		w.ks("pushStatus", pick(r, []string{"PUSH", "DONT_PUSH"}))
	}
	if r.chance(0.2) && !oktaApp(a) {
		w.ks("userSuffix", orgDomain)
	}
	w.end()
	w.ko("signing")
	switch mode {
	case "SAML_2_0", "WS_FEDERATION":
		w.ks("kid", b64id(o.seed, 0x6b6964, uint64(a), 43))
	case "OPENID_CONNECT":
		// OIDC apps sign with the org's key: Okta's own apps in a recorded
		// list all name the same kid.
		w.ks("kid", o.orgKid())
	}
	w.end()
	if mode == "OPENID_CONNECT" && !oktaApp(a) {
		w.ko("oauthClient").kb("autoKeyRotation", true).ks("client_id", o.ids.id(kApp, a))
		w.ks("token_endpoint_auth_method", pick(r, []string{"client_secret_basic", "private_key_jwt", "none", "client_secret_post"}))
		w.kb("pkce_required", r.chance(0.5))
		w.end()
	}
	w.end()
}

func (rd *renderer) writeAppSettings(a int, r *rng) {
	o, w := rd.o, rd.w
	app := &o.apps[a]
	mode := app.tmpl.mode
	slug := o.appSlug(a)
	host := "https://" + slug + ".example.com"
	w.ko("settings")
	w.ko("app")
	switch mode {
	case "BOOKMARK":
		w.kb("requestIntegration", false).ks("url", host+"/")
	case "BASIC_AUTH":
		w.ks("url", host+"/").ks("authURL", host+"/login")
	case "BROWSER_PLUGIN", "AUTO_LOGIN":
		w.ks("url", host+"/login").ks("usernameField", "#username").ks("passwordField", "#password").ks("buttonField", "#submit")
	case "SECURE_PASSWORD_STORE":
		w.ks("url", host+"/signin").ks("usernameField", "user").ks("passwordField", "pass").kn("optionalField1")
	case "WS_FEDERATION":
		w.ks("realm", "urn:"+slug).ks("siteURL", host+"/").ks("wReplyURL", host+"/_trust/").kb("wReplyOverride", false).
			ks("nameIDFormat", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified").ks("usernameAttribute", "username").
			ks("signatureAlgorithm", "RSA_SHA256").ks("digestAlgorithm", "SHA256")
	case "SAML_2_0":
		if app.tmpl.name == "salesforce" {
			w.ks("instanceType", "PRODUCTION").ks("integrationType", "STANDARD")
		} else if r.chance(0.5) {
			w.ks("subdomain", slug)
		}
	}
	w.end()
	w.kb("implicitAssignment", a == appADIndex)
	w.ko("notifications").ko("vpn")
	conn := pick(r, []string{"DISABLED", "DISABLED", "ANYWHERE", "ZONE"})
	if oktaApp(a) {
		conn = "DISABLED"
	}
	w.ko("network").ks("connection", conn).ka("include")
	if conn == "ZONE" {
		w.str(o.ids.id(kZone, 3))
	}
	w.endArr().ka("exclude").endArr().end()
	if conn != "DISABLED" {
		w.ks("message", "Connect to the corporate VPN before signing in").ks("helpUrl", "https://it.example.com/vpn")
	} else {
		w.kn("message").kn("helpUrl")
	}
	w.end().end()
	w.kb("manualProvisioning", false)
	if oktaApp(a) {
		// Okta's own apps carry no notes and no client settings.
		w.end()
		return
	}
	w.ko("notes")
	if r.chance(0.4) {
		w.ks("admin", "Owner: "+o.userDisplayName(r.intn(max(1, len(o.users))))).ks("enduser", "Contact IT for access to "+app.label)
	} else {
		w.kn("admin").kn("enduser")
	}
	w.end()
	switch mode {
	case "SAML_2_0":
		rd.writeSAMLSignOn(a, r, host)
	case "AUTO_LOGIN", "BROWSER_PLUGIN":
		w.ko("signOn").ks("redirectUrl", host+"/home").ks("loginUrl", host+"/login").end()
	case "OPENID_CONNECT":
		rd.writeOAuthClientSettings(a, r, host)
	}
	w.end()
}

func (rd *renderer) writeSAMLSignOn(a int, r *rng, host string) {
	o, w := rd.o, rd.w
	w.ko("signOn")
	w.ks("defaultRelayState", "")
	w.ks("ssoAcsUrl", host+"/saml/acs")
	w.ks("idpIssuer", "http://www.okta.com/${org.externalKey}")
	w.ks("audience", host+"/saml/metadata")
	w.ks("recipient", host+"/saml/acs")
	w.ks("destination", host+"/saml/acs")
	w.ks("subjectNameIdTemplate", "${user.userName}")
	w.ks("subjectNameIdFormat", pick(r, []string{"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}))
	w.kb("responseSigned", true)
	w.kb("assertionSigned", true)
	w.ks("signatureAlgorithm", "RSA_SHA256")
	w.ks("digestAlgorithm", "SHA256")
	w.kb("honorForceAuthn", true)
	w.ks("authnContextClassRef", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	w.ks("spIssuer", "")
	w.kb("requestCompressed", false)
	w.ka("attributeStatements")
	w.obj().ks("type", "EXPRESSION").ks("name", "email").ks("namespace", "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified").strs("values", "user.email").end()
	w.obj().ks("type", "EXPRESSION").ks("name", "firstName").ks("namespace", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic").strs("values", "user.firstName").end()
	if r.chance(0.6) {
		w.obj().ks("type", "GROUP").ks("name", "groups").ks("namespace", "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified").
			ks("filterType", "STARTS_WITH").ks("filterValue", o.appSlug(a)).end()
	}
	w.endArr()
	w.ka("inlineHooks")
	if r.chance(0.3) {
		hid := o.ids.id(kInlineHook, a)
		w.obj().ks("id", hid).ko("_links").ko("self").ks("href", rd.lb+"/api/v1/inlineHooks/"+hid).
			ko("hints").strs("allow", "GET", "PUT", "DELETE").end().end().end().end()
	}
	w.endArr()
	multi := r.chance(0.25)
	w.kb("allowMultipleAcsEndpoints", multi)
	w.ka("acsEndpoints")
	if multi {
		for k := range 2 {
			w.obj().ks("url", host+"/saml/acs/"+itoa(k)).ki("index", int64(k)).end()
		}
	}
	w.endArr()
	w.kb("samlSignedRequestEnabled", false)
	slo := r.chance(0.3)
	w.ko("slo").kb("enabled", slo)
	if slo {
		w.ks("spIssuer", host+"/saml/metadata").ks("logoutUrl", host+"/saml/slo")
	}
	w.end()
	if slo {
		w.ko("spCertificate").strs("x5c", "MIIC"+b64id(o.seed, 0x78356300, uint64(a), 60)+"==").end()
	}
	w.kn("configuredAttributeStatements")
	// Drawn last, so the keys above keep their values.
	w.ko("participateSlo")
	if slo && r.chance(0.5) {
		w.kb("enabled", true).ks("logoutRequestUrl", host+"/saml/slo/participate").kb("sessionIndexRequired", true).ks("bindingType", "REDIRECT")
	} else {
		w.kb("enabled", false)
	}
	w.end()
	w.ko("assertionEncryption").kb("enabled", false).end()
	w.end()
}

func (rd *renderer) writeOAuthClientSettings(a int, r *rng, host string) {
	w := rd.w
	typ := pick(r, []string{"web", "native", "browser", "service"})
	w.ko("oauthClient")
	w.ks("client_uri", host)
	w.ks("logo_uri", host+"/logo.png")
	w.ka("redirect_uris")
	if typ != "service" {
		w.str(host + "/authorization-code/callback")
		if r.chance(0.5) {
			w.str("http://localhost:8080/authorization-code/callback")
		}
	}
	w.endArr()
	w.ka("post_logout_redirect_uris")
	if typ != "service" {
		w.str(host + "/logout")
	}
	w.endArr()
	w.ka("response_types")
	switch typ {
	case "service":
		w.str("token")
	case "browser":
		w.str("code").str("id_token")
	default:
		w.str("code")
	}
	w.endArr()
	w.ka("grant_types")
	switch typ {
	case "service":
		w.str("client_credentials")
	case "browser":
		w.str("authorization_code").str("implicit")
	default:
		w.str("authorization_code").str("refresh_token")
	}
	w.endArr()
	w.ks("application_type", typ)
	w.ks("consent_method", pick(r, []string{"REQUIRED", "TRUSTED"}))
	w.ks("issuer_mode", pick(r, []string{"DYNAMIC", "ORG_URL", "CUSTOM_URL"}))
	w.ko("idp_initiated_login").ks("mode", pick(r, []string{"DISABLED", "SPEC", "OKTA"})).strs("default_scope", "openid", "profile").end()
	w.ks("initiate_login_uri", host+"/login")
	w.ks("policy_uri", host+"/privacy")
	w.ks("tos_uri", host+"/terms")
	w.ks("wildcard_redirect", "DISABLED")
	w.ks("request_object_signing_alg", pick(r, []string{"RS256", "ES256"}))
	w.ko("refresh_token").ks("rotation_type", pick(r, []string{"ROTATE", "STATIC"})).ki("leeway", 30).end()
	w.end()
}

// appUserTimes returns created/lastUpdated/statusChanged for an assignment.
func (o *org) appUserTimes(a int, u int32) (created, lastUpd int64) {
	if t, ok := o.apps[a].userAdded[u]; ok {
		return t, t
	}
	r := newRng(o.seed, 0x61757372+uint64(a), uint64(u))
	start := max(o.apps[a].created, o.users[u].created)
	c := between(r, start, max(start, o.t0-day))
	return c, recentBiased(r, c, max(c, o.t0))
}

func (rd *renderer) writeAppUser(a int, u int32, expandUser bool) {
	o, w := rd.o, rd.w
	app := &o.apps[a]
	r := newRng(o.seed, 0x61757378+uint64(a), uint64(u))
	uid := o.ids.id(kUser, int(u))
	aid := o.ids.id(kApp, a)
	created, lastUpd := o.appUserTimes(a, u)
	scopeGroup := r.chance(0.3) && len(app.groups) > 0
	w.obj()
	w.ks("id", uid)
	if app.provisioning {
		w.ks("externalId", b64id(o.seed, 0x65787475, uint64(a)<<32|uint64(u), 18))
	} else {
		w.kn("externalId")
	}
	w.kt("created", created).kt("lastUpdated", lastUpd)
	if scopeGroup {
		w.ks("scope", "GROUP")
	} else {
		w.ks("scope", "USER")
	}
	status := "ACTIVE"
	switch {
	case app.provisioning && r.chance(0.9):
		status = "PROVISIONED"
	case app.provisioning:
		status = "STAGED"
	}
	w.ks("status", status)
	w.kt("statusChanged", created)
	if app.tmpl.mode == "BASIC_AUTH" || app.tmpl.mode == "BROWSER_PLUGIN" || app.tmpl.mode == "AUTO_LOGIN" {
		w.kt("passwordChanged", between(r, created, lastUpd))
	} else {
		w.kn("passwordChanged")
	}
	if app.provisioning {
		w.ks("syncState", pick(r, []string{"SYNCHRONIZED", "SYNCHRONIZED", "OUT_OF_SYNC", "ERROR"}))
		w.kt("lastSync", between(r, lastUpd, max(lastUpd, o.t0)))
	} else {
		w.ks("syncState", "DISABLED")
		w.kn("lastSync")
	}
	login := o.userLogin(int(u))
	w.ko("credentials").ks("userName", login).end()
	first, last := o.userNames(int(u))
	w.ko("profile").ks("email", login).ks("firstName", first).ks("lastName", last)
	if app.tmpl.mode == "SAML_2_0" {
		w.kn("role").kn("samlRoles")
	}
	w.end()
	if expandUser {
		w.ko("_embedded").k("user")
		rd.writeUser(int(u), false)
		w.end()
	}
	w.ko("_links")
	w.href("app", rd.lb+"/api/v1/apps/"+aid)
	w.href("user", rd.lb+"/api/v1/users/"+uid)
	w.href("self", rd.lb+"/api/v1/apps/"+aid+"/users/"+uid)
	if scopeGroup {
		g := app.groups[r.intn(len(app.groups))]
		w.ko("group").ks("name", o.groupName(int(g))).ks("href", rd.lb+"/api/v1/groups/"+o.ids.id(kGroup, int(g))).end()
	}
	w.end()
	w.end()
}

func (rd *renderer) writeAppGroup(a, pos int) {
	o, w := rd.o, rd.w
	app := &o.apps[a]
	g := int(app.groups[pos])
	gid := o.ids.id(kGroup, g)
	aid := o.ids.id(kApp, a)
	r := newRng(o.seed, 0x61677270+uint64(a), uint64(g))
	w.obj()
	w.ks("id", gid)
	start := max(app.created, o.groups[g].created)
	w.kt("lastUpdated", between(r, start, max(start, o.t0)))
	w.ki("priority", int64(pos))
	w.ko("profile").end()
	w.ko("_links")
	w.href("app", rd.lb+"/api/v1/apps/"+aid)
	w.href("self", rd.lb+"/api/v1/apps/"+aid+"/groups/"+gid)
	w.href("group", rd.lb+"/api/v1/groups/"+gid)
	w.end()
	w.end()
}
