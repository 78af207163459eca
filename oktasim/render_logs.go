package oktasim

import (
	"strings"
)

// evOverride holds what an inserted event says that its compact form cannot:
// the scenarios' attackers, proxies and sessions, outcome reasons, debug
// data, change details. Zero fields keep the generated value.
type evOverride struct {
	actor   *rawObj     // replaces the actor
	targets []rawObj    // replaces the targets
	change  [3]string   // changeDetails JSON of the event's own targets
	ip      string      // client IP address (also the first ipChain hop)
	pl      *place      // client geography
	isp     *ispDef     // network of the client address
	ua      *uaDef      // user agent
	hops    []string    // proxies the request came through (more ipChain hops)
	sess    string      // rootSessionId and externalSessionId
	reason  string      // outcome.reason
	msg     string      // displayMessage
	sev     string      // severity
	cred    string      // authenticationContext.credentialType
	debug   [][2]string // debugData entries in place of the generated ones (requestId stays)
	authn   string      // authenticatorContext JSON
	zone    string      // client.zone
	tokenID string      // transaction.detail.requestApiTokenId
	device  string      // client.device
	iface   string      // authenticationContext.interface
}

// rawObj is an actor or target rendered from its fields.
type rawObj struct {
	id, typ, alt, disp string
	detail             string // detailEntry JSON, "" for null
	change             string // changeDetails JSON, "" for none
}

func (w *jw) rawObj(x *rawObj) {
	w.ks("id", x.id).ks("type", x.typ).ks("alternateId", x.alt).ks("displayName", x.disp)
	if x.detail != "" {
		w.k("detailEntry").raw([]byte(x.detail))
	} else {
		w.kn("detailEntry")
	}
	if x.change != "" {
		w.k("changeDetails").raw([]byte(x.change))
	}
}

var ipFirstOctets = []int{24, 50, 67, 73, 98, 104, 136, 151, 185, 199}

func appendIP(b []byte, h uint64) []byte {
	b = append(b, itoa(ipFirstOctets[h%uint64(len(ipFirstOctets))])...)
	for k := range 3 {
		b = append(b, '.')
		b = append(b, itoa(int((h>>(8*(k+1)))%254)+1)...)
	}
	return b
}

func (rd *renderer) writeGeo(w *jw, pl *place) {
	w.ko("geographicalContext").ks("city", pl.city).ks("state", pl.state).ks("country", countryName(pl.country)).
		ks("postalCode", pl.zip).ko("geolocation").k("lat").float(pl.lat).k("lon").float(pl.lon).end().end()
}

func countryName(cc string) string {
	switch cc {
	case "US":
		return "United States"
	case "CA":
		return "Canada"
	case "GB":
		return "United Kingdom"
	case "DE":
		return "Germany"
	case "FR":
		return "France"
	case "IE":
		return "Ireland"
	case "JP":
		return "Japan"
	case "AU":
		return "Australia"
	case "IN":
		return "India"
	case "BR":
		return "Brazil"
	case "NG":
		return "Nigeria"
	case "RO":
		return "Romania"
	case "SG":
		return "Singapore"
	case "VN":
		return "Vietnam"
	case "NL":
		return "Netherlands"
	}
	return cc
}

// userPlace is where user u usually signs in from (its profile's city).
func (o *org) userPlace(u int) *place {
	pr := newRng(o.seed, streamProfile, uint64(u))
	pr.next()
	pr.next()
	return &places[pr.intn(len(places))]
}

// userAddr is one of user u's two usual addresses (office and home).
func (o *org) userAddr(u int, second bool) uint64 {
	if second {
		return hash3(o.seed, 0x6971, uint64(u))
	}
	return hash3(o.seed, 0x6970, uint64(u))
}

// userUA is one of user u's usual user agents: a desktop browser, or its phone.
func (o *org) userUA(u int, mobile bool) *uaDef {
	h := hash3(o.seed, 0x7561, uint64(u))
	if mobile {
		return &userAgents[3+int(h>>8)%2]
	}
	return &userAgents[h%3]
}

// sessionID is user u's Okta session around time t (a session a working
// day), as rootSessionId and externalSessionId carry it.
func (o *org) sessionID(u int, t int64) string {
	return "102" + b64id(o.seed, 0x73657373, uint64(u)<<20|uint64(t/(10*hour)), 22)
}

func (o *org) logOverride(lr *logRec) *evOverride {
	if lr.ov == 0 {
		return nil
	}
	return &o.logs.ovs[lr.ov-1]
}

// failReason is the outcome reason of a failed event of type e.
func failReason(e *evDef) string {
	switch {
	case e.reasonFail != "":
		return e.reasonFail
	case e.typ == "user.mfa.okta_verify.deny_push":
		return "User rejected Okta push verify"
	case e.debug == dbgSession:
		return "INVALID_CREDENTIALS"
	}
	return "VERIFICATION_ERROR"
}

// writeLog renders event j.
func (rd *renderer) writeLog(j int, lr *logRec) {
	o, w := rd.o, rd.w
	e := &evCatalog[lr.et]
	key := o.logs.key(j)
	ov := o.logOverride(lr)
	r := newRng(o.seed, 0x6c6f6764, key)
	w.obj()
	// actor
	w.ko("actor")
	switch {
	case ov != nil && ov.actor != nil:
		w.rawObj(ov.actor)
	case lr.actorKind == akUser:
		u := int(lr.actor)
		w.ks("id", o.ids.id(kUser, u)).ks("type", "User").ks("alternateId", o.userLogin(u)).ks("displayName", o.userDisplayName(u)).kn("detailEntry")
	case lr.actorKind == akClient:
		a := int(lr.actor)
		w.ks("id", o.ids.id(kApp, a)).ks("type", "PublicClientApp").ks("alternateId", o.apps[a].label).ks("displayName", o.apps[a].label)
		w.ko("detailEntry").ks("clientAuthType", "private_key_jwt").ks("signOnMode", o.apps[a].tmpl.mode).end()
	default:
		w.ks("id", o.ids.id(kOrg, 0)).ks("type", "SystemPrincipal").ks("alternateId", "system@okta.com").ks("displayName", "Okta System").kn("detailEntry")
	}
	w.end()
	// client
	var pl *place
	ipHash := r.next()
	var ua *uaDef
	if lr.actorKind == akUser {
		pl = o.userPlace(int(lr.actor))
		x := r.float()
		ipHash = o.userAddr(int(lr.actor), x >= 0.7)
		if x >= 0.96 {
			ipHash = r.next() // a hotel, a train: a new address in the same country
		}
		ua = o.userUA(int(lr.actor), r.chance(0.25))
	} else {
		pl = &places[r.intn(len(places))]
		ua = &userAgents[r.intn(len(userAgents))]
	}
	if lr.actorKind == akClient {
		ua = &userAgents[5]
	}
	var ipb [16]byte
	ip := string(appendIP(ipb[:0], ipHash))
	isp := &isps[ipHash%backgroundISPs]
	if ov != nil {
		if ov.ip != "" {
			ip = ov.ip
		}
		if ov.pl != nil {
			pl = ov.pl
		}
		if ov.isp != nil {
			isp = ov.isp
		}
		if ov.ua != nil {
			ua = ov.ua
		}
	}
	noClient := lr.actorKind == akSystem && (ov == nil || ov.ip == "")
	w.ko("client")
	if noClient {
		w.kn("userAgent").kn("zone").kn("device").kn("id").kn("ipAddress").kn("geographicalContext")
	} else {
		w.ko("userAgent").ks("rawUserAgent", ua.raw).ks("os", ua.os).ks("browser", ua.browser).end()
		switch {
		case ov != nil && ov.zone != "":
			w.ks("zone", ov.zone)
		case r.chance(0.2) && (ov == nil || ov.ip == ""):
			w.ks("zone", zoneDefs[3].name)
		default:
			w.ks("zone", "null")
		}
		switch {
		case ov != nil && ov.device != "":
			w.ks("device", ov.device)
		case lr.actorKind == akClient:
			w.ks("device", "Unknown")
		case strings.Contains(ua.os, "iOS") || ua.os == "Android":
			w.ks("device", "Mobile")
		default:
			w.ks("device", "Computer")
		}
		if lr.actorKind == akClient {
			w.ks("id", o.ids.id(kApp, int(lr.actor)))
		} else {
			w.kn("id")
		}
		w.ks("ipAddress", ip)
		rd.writeGeo(w, pl)
	}
	w.end()
	// device (Okta Identity Engine device context) for some user events
	if lr.actorKind == akUser && e.debug == dbgSession && len(o.devices) > 0 && ov == nil && r.chance(0.5) {
		d := r.intn(len(o.devices))
		m := deviceModels[o.devices[d].model]
		w.ko("device").ks("id", o.ids.id(kDevice, d)).ks("name", m.display).ks("os_platform", m.platform).ks("os_version", m.os).
			kb("managed", r.chance(0.6)).kb("registered", true).kn("device_integrator").ks("disk_encryption_type", "ALL_INTERNAL_VOLUMES").
			ks("screen_lock_type", "BIOMETRIC").kn("jailbreak").kb("secure_hardware_present", true).end()
	} else {
		w.kn("device")
	}
	// authenticationContext
	w.ko("authenticationContext")
	cred := ""
	switch e.debug {
	case dbgSession:
		w.ks("authenticationProvider", "OKTA_AUTHENTICATION_PROVIDER").ks("credentialProvider", "OKTA_CREDENTIAL_PROVIDER")
		cred = "PASSWORD"
	case dbgMFA, dbgPush:
		w.ks("authenticationProvider", "FACTOR_PROVIDER").ks("credentialProvider", "OKTA_CREDENTIAL_PROVIDER")
		cred = "OTP"
	case dbgIdP:
		w.ks("authenticationProvider", "FEDERATION").kn("credentialProvider")
		cred = "ASSERTION"
	default:
		w.kn("authenticationProvider").kn("credentialProvider")
	}
	if ov != nil && ov.cred != "" {
		cred = ov.cred
	}
	w.ksN("credentialType", cred)
	if e.debug == dbgToken {
		w.ko("issuer").ks("id", o.ids.id(kAuthServer, 0)).ks("type", "AuthorizationServer").end()
	} else {
		w.kn("issuer")
	}
	switch {
	case ov != nil && ov.iface != "":
		w.ks("interface", ov.iface)
	case e.debug == dbgSSO:
		w.ks("interface", "Okta Dashboard")
	default:
		w.kn("interface")
	}
	w.ki("authenticationStep", 0)
	switch {
	case ov != nil && ov.sess != "":
		w.ks("rootSessionId", ov.sess).ks("externalSessionId", ov.sess)
	case lr.actorKind == akUser && (ov == nil || ov.actor == nil):
		sess := o.sessionID(int(lr.actor), lr.published)
		w.ks("rootSessionId", sess).ks("externalSessionId", sess)
	default:
		w.ks("externalSessionId", "unknown")
	}
	// Okta nests the authenticator under authenticationContext.
	if ov != nil && ov.authn != "" {
		w.k("authenticatorContext").raw([]byte(ov.authn))
	} else if e.debug == dbgPush || e.debug == dbgMFA && lr.actorKind == akUser {
		w.ko("authenticatorContext").ks("authenticatorKey", "okta_verify").ks("callerMethodId", "aut"+b64id(o.seed, 0x6175, uint64(lr.actor), 17))
		if e.debug == dbgPush {
			w.ks("methodType", "push")
		} else {
			w.ks("methodType", "signed_nonce")
		}
		w.end()
	}
	w.end()
	msg := e.msg
	if ov != nil && ov.msg != "" {
		msg = ov.msg
	}
	w.ks("displayMessage", msg)
	w.ks("eventType", e.typ)
	w.ko("outcome").ks("result", outcomeName[lr.outcome])
	switch {
	case ov != nil && ov.reason != "":
		w.ks("reason", ov.reason)
	case lr.outcome == ocFailure:
		w.ks("reason", failReason(e))
	case lr.outcome == ocChallenge:
		w.ks("reason", "Sign-on policy evaluation resulted in CHALLENGE")
	default:
		w.kn("reason")
	}
	w.end()
	w.kt("published", lr.published)
	w.ko("securityContext")
	if noClient {
		w.kn("asNumber").kn("asOrg").kn("isp").kn("domain").kn("isProxy")
	} else {
		w.ki("asNumber", isp.asn).ks("asOrg", isp.org).ks("isp", isp.isp).ks("domain", isp.domn).kb("isProxy", isp.proxy != "")
	}
	w.end()
	sev := e.sev
	if lr.outcome == ocFailure {
		sev = "WARN"
	}
	if ov != nil && ov.sev != "" {
		sev = ov.sev
	}
	w.ks("severity", sev)
	txID := b64id(o.seed, 0x7478, key, 27)
	w.ko("debugContext").ko("debugData")
	w.ks("requestId", txID)
	if ov != nil && ov.debug != nil {
		for _, kv := range ov.debug {
			w.ks(kv[0], kv[1])
		}
	} else {
		rd.writeDebugData(w, e, lr, key, r)
	}
	w.end().end()
	legacy := e.legacy
	if lr.outcome == ocFailure && e.legacyFail != "" {
		legacy = e.legacyFail
	}
	w.ksN("legacyEventType", legacy)
	w.ko("transaction")
	if lr.actorKind == akSystem {
		w.ks("type", "JOB")
	} else {
		w.ks("type", "WEB")
	}
	w.ks("id", txID)
	w.ko("detail")
	switch {
	case ov != nil && ov.tokenID != "":
		w.ks("requestApiTokenId", ov.tokenID)
	case e.debug == dbgAdmin && lr.actorKind == akUser && r.chance(0.3):
		w.ks("requestApiTokenId", o.ids.id(kAPIToken, 0))
	}
	w.end()
	w.end()
	w.k("uuid")
	w.pre()
	w.b = append(w.b, '"')
	w.b = appendUUID(w.b, o.seed, 0x75756964, key)
	w.b = append(w.b, '"')
	w.ks("version", "0")
	w.ko("request").ka("ipChain")
	if !noClient {
		w.obj().ks("ip", ip)
		rd.writeGeo(w, pl)
		w.ks("version", "V4").kn("source")
		if isp.proxy != "" {
			writeIPDetails(w, isp)
		}
		w.end()
		if ov != nil && len(ov.hops) > 0 {
			for _, h := range ov.hops {
				w.obj().ks("ip", h).kn("geographicalContext").ks("version", "V4").ks("source", "X-Forwarded-For")
				writeIPDetails(w, isp)
				w.end()
			}
		} else if r.chance(0.15) && ov == nil {
			var pb [16]byte
			w.obj().ks("ip", string(appendIP(pb[:0], r.next()))).kn("geographicalContext").ks("version", "V4").ks("source", "X-Forwarded-For").end()
		}
	}
	w.endArr().end()
	switch {
	case ov != nil && ov.targets != nil:
		w.ka("target")
		for k := range ov.targets {
			w.obj()
			w.rawObj(&ov.targets[k])
			w.end()
		}
		w.endArr()
	case lr.nt == 0:
		w.kn("target")
	default:
		w.ka("target")
		for k := range int(lr.nt) {
			change := ""
			if ov != nil {
				change = ov.change[k]
			}
			rd.writeLogTarget(&lr.t[k], key, lr.published, change)
		}
		w.endArr()
	}
	w.end()
}

// writeIPDetails renders an ipChain hop's ipDetails: the network of a
// proxy address.
func writeIPDetails(w *jw, isp *ispDef) {
	w.ko("ipDetails").ki("asNumber", isp.asn).ks("asOrg", isp.org).ks("isp", isp.isp).ks("domain", isp.domn).
		kb("isProxy", isp.proxy != "").ks("proxyType", isp.proxy).end()
}

var behaviorNames = []string{"New Geo-Location", "New Device", "New IP", "New State", "New Country", "Velocity", "New City"}

// backgroundBehaviors renders the behaviour detection of an ordinary sign-in:
// a new device or address now and then, never a new country or velocity.
func backgroundBehaviors(r *rng) string {
	var b strings.Builder
	b.WriteByte('{')
	for k, n := range behaviorNames {
		if k > 0 {
			b.WriteString(", ")
		}
		v := "NEGATIVE"
		switch n {
		case "New Device":
			if r.chance(0.15) {
				v = "POSITIVE"
			}
		case "New IP":
			if r.chance(0.2) {
				v = "POSITIVE"
			}
		case "New City", "New State":
			if r.chance(0.03) {
				v = "POSITIVE"
			}
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(v)
	}
	b.WriteByte('}')
	return b.String()
}

func (rd *renderer) writeDebugData(w *jw, e *evDef, lr *logRec, key uint64, r *rng) {
	o := rd.o
	switch e.debug {
	case dbgSession:
		w.ks("requestUri", "/idp/idx/identify").ks("url", "/idp/idx/identify?")
		w.ks("dtHash", hexID(o.seed, 0x6474, key, 64))
		w.ks("threatSuspected", "false")
		if lr.actorKind == akUser && r.chance(0.7) {
			w.ks("behaviors", backgroundBehaviors(r))
			w.ks("risk", "{reasons=Anomalous Device, level="+pick(r, []string{"LOW", "LOW", "LOW", "MEDIUM"})+"}")
		}
		if r.chance(0.5) {
			w.ks("deviceFingerprint", hexID(o.seed, 0x6670, key, 32))
		}
	case dbgSSO:
		var app int32 = -1
		for k := range int(lr.nt) {
			if lr.t[k].kind == tkApp {
				app = lr.t[k].a
			}
		}
		if app >= 0 {
			a := int(app)
			w.ks("requestUri", "/app/"+o.apps[a].tmpl.name+"/"+o.ids.id(kApp, a)+"/sso/saml")
			w.ks("url", "/app/"+o.apps[a].tmpl.name+"/"+o.ids.id(kApp, a)+"/sso/saml?")
			w.ks("signOnMode", strings.ReplaceAll(o.apps[a].tmpl.mode, "_", " "))
		}
		w.ks("initiationType", pick(r, []string{"IDP_INITIATED", "SP_INITIATED"}))
		if r.chance(0.5) {
			w.ks("authnRequestId", b64id(o.seed, 0x61726964, key, 20))
		}
	case dbgMFA:
		w.ks("requestUri", "/idp/idx/challenge/answer").ks("url", "/idp/idx/challenge/answer?")
		w.ks("factor", pick(r, []string{"OKTA_VERIFY_PUSH", "OKTA_VERIFY_PUSH", "SIGNED_NONCE", "SMS_FACTOR", "EMAIL_FACTOR", "FIDO_WEBAUTHN"}))
		w.ks("factorIntent", "AUTHENTICATION")
	case dbgPush:
		w.ks("requestUri", "/idp/idx/authenticators/poll").ks("url", "/idp/idx/authenticators/poll?")
		w.ks("factor", "OKTA_VERIFY_PUSH").ks("factorIntent", "AUTHENTICATION")
		if e.typ == "user.mfa.okta_verify.deny_push" {
			w.ks("pushOnlyResponseType", "DENY")
		} else if r.chance(0.4) {
			w.ks("pushWithNumberChallengeResponseType", "CORRECT_NUMBER_CHOSEN")
		}
	case dbgIdP:
		for k := range int(lr.nt) {
			if lr.t[k].kind == tkIdP {
				w.ks("requestUri", "/sso/idps/"+o.ids.id(kIdP, int(lr.t[k].a)))
			}
		}
		w.ks("authnRequestId", b64id(o.seed, 0x61726964, key, 20))
	case dbgToken:
		w.ks("requestUri", "/oauth2/v1/token").ks("grantType", "client_credentials")
		w.ks("grantedScopes", pick(r, []string{"okta.users.read", "okta.users.read okta.groups.read", "okta.logs.read"}))
		w.ks("clientAuthType", "private_key_jwt")
	case dbgAdmin:
		if lr.nt > 0 && lr.t[0].kind == tkUser {
			w.ks("requestUri", "/api/v1/users/"+o.ids.id(kUser, int(lr.t[0].a)))
		} else {
			w.ks("requestUri", "/api/v1/groups")
		}
		if e.typ == "user.account.update_profile" {
			w.ks("changedAttributes", pick(r, []string{"title,department", "mobilePhone", "title", "costCenter,division"}))
		}
	case dbgPolicy:
		w.ks("requestUri", "/idp/idx/introspect").ks("policyType", "OktaSignOn")
	case dbgSystem:
		switch e.typ {
		case "security.threat.detected":
			w.ks("threatSuspected", "true").ks("threatDetections", `{"Login failures":"LOW"}`).ks("logOnlySecurityData", `{"risk":{"level":"LOW"},"behaviors":{"New IP":"POSITIVE"}}`)
		case "user.risk.detect":
			w.ks("risk", "{level=LOW, reasons=Anomalous Location}")
		case "system.org.rate_limit.warning":
			w.ks("requestUri", "/api/v1/users").ks("rateLimitBucketUri", "/api/v1/users")
		}
	}
}

func (rd *renderer) writeLogTarget(t *tref, key uint64, published int64, change string) {
	o, w := rd.o, rd.w
	w.obj()
	switch t.kind {
	case tkUser:
		u := int(t.a)
		w.ks("id", o.ids.id(kUser, u)).ks("type", "User").ks("alternateId", o.userLogin(u)).ks("displayName", o.userDisplayName(u)).kn("detailEntry")
	case tkApp:
		a := int(t.a)
		w.ks("id", o.ids.id(kApp, a)).ks("type", "AppInstance").ks("alternateId", o.apps[a].label).ks("displayName", o.apps[a].label)
		w.ko("detailEntry").ks("signOnModeType", o.apps[a].tmpl.mode).end()
	case tkAppUser:
		u := int(t.a)
		w.ks("id", "0ua"+o.ids.id(kUser, u)[3:]).ks("type", "AppUser").ks("alternateId", o.userLogin(u)).ks("displayName", o.userDisplayName(u)).kn("detailEntry")
	case tkGroup:
		g := int(t.a)
		w.ks("id", o.ids.id(kGroup, g)).ks("type", "UserGroup").ks("alternateId", "unknown").ks("displayName", o.groupNameSafe(g)).kn("detailEntry")
	case tkPolicy:
		p := int(t.a)
		w.ks("id", o.ids.id(kPolicy, p)).ks("type", "PolicyEntity").ks("alternateId", "unknown").ks("displayName", o.policies[p].typ+" policy")
		w.ko("detailEntry").ks("policyType", o.policies[p].typ).end()
	case tkPolicyRule:
		k := int(t.a)
		w.ks("id", o.ids.id(kPolicyRule, k)).ks("type", "PolicyRule").ks("alternateId", "unknown").ks("displayName", "Rule "+itoa(o.policyRules[k].nth+1))
		w.ko("detailEntry").ks("policyRuleFactorMode", "2FA").end()
	case tkDevice:
		d := int(t.a)
		w.ks("id", o.ids.id(kDevice, d)).ks("type", "Device").ks("alternateId", "unknown").ks("displayName", deviceModels[o.devices[d].model].display).kn("detailEntry")
	case tkToken:
		w.ks("id", "AT."+b64id(o.seed, 0x6174, key, 43)).ks("type", "access_token").ks("alternateId", "unknown").ks("displayName", "Access Token")
		w.ko("detailEntry").ks("expires", fmtTS(published+hour)).ks("subject", o.ids.id(kApp, 0)).ks("hash", b64id(o.seed, 0x6168, key, 22)).end()
	case tkEnrollment:
		u := int(t.a)
		w.ks("id", o.ids.id(kEnrollApp, u)).ks("type", "AuthenticatorEnrollment").ks("alternateId", "unknown").ks("displayName", "Okta Verify").kn("detailEntry")
	case tkZone:
		z := int(t.a)
		w.ks("id", o.ids.id(kZone, z)).ks("type", "NetworkZone").ks("alternateId", "unknown").ks("displayName", zoneDefs[z].name).kn("detailEntry")
	case tkIdP:
		i := int(t.a)
		d := o.idpDef(i)
		w.ks("id", o.ids.id(kIdP, i)).ks("type", "IdentityProvider").ks("alternateId", "unknown").ks("displayName", d.name)
		w.ko("detailEntry").ks("protocolType", d.protocol).ks("providerType", d.typ).end()
	case tkAPIToken:
		i := int(t.a)
		name := apiTokenNames[i%len(apiTokenNames)]
		if x := i - (o.apiTokens - len(o.tokenExtra)); x >= 0 && x < len(o.tokenExtra) {
			name = o.tokenExtra[x].name
		}
		w.ks("id", o.ids.id(kAPIToken, i)).ks("type", "Token").ks("alternateId", "unknown").ks("displayName", name).kn("detailEntry")
	case tkResourceSet:
		s := int(t.a)
		w.ks("id", o.ids.id(kResourceSet, s)).ks("type", "ResourceSet").ks("alternateId", "unknown").ks("displayName", resourceSetDefs[s].label).kn("detailEntry")
	}
	if change != "" {
		w.k("changeDetails").raw([]byte(change))
	}
	w.end()
}

func (o *org) groupNameSafe(g int) string {
	if g < len(o.groups) {
		return o.groupName(g)
	}
	return "Group " + itoa(g)
}

// logAttr is the filter getter for events; multi-valued attributes (target.*)
// are joined with NUL.
func (rd *renderer) logAttr(j int, lr *logRec, name string) (string, int64, bool, bool) {
	o := rd.o
	e := &evCatalog[lr.et]
	ov := o.logOverride(lr)
	key := o.logs.key(j)
	switch name {
	case "eventType":
		return e.typ, 0, false, true
	case "legacyEventType":
		legacy := e.legacy
		if lr.outcome == ocFailure && e.legacyFail != "" {
			legacy = e.legacyFail
		}
		return legacy, 0, false, legacy != ""
	case "displayMessage":
		if ov != nil && ov.msg != "" {
			return ov.msg, 0, false, true
		}
		return e.msg, 0, false, true
	case "severity":
		switch {
		case ov != nil && ov.sev != "":
			return ov.sev, 0, false, true
		case lr.outcome == ocFailure:
			return "WARN", 0, false, true
		}
		return e.sev, 0, false, true
	case "outcome.result":
		return outcomeName[lr.outcome], 0, false, true
	case "outcome.reason":
		switch {
		case ov != nil && ov.reason != "":
			return ov.reason, 0, false, true
		case lr.outcome == ocFailure:
			return failReason(e), 0, false, true
		}
		return "", 0, false, false
	case "uuid":
		return string(appendUUID(nil, o.seed, 0x75756964, key)), 0, false, true
	case "transaction.id", "debugContext.debugData.requestId":
		return b64id(o.seed, 0x7478, key, 27), 0, false, true
	case "actor.id", "actor.type", "actor.alternateId", "actor.displayName":
		var id, typ, alt, disp string
		switch {
		case ov != nil && ov.actor != nil:
			id, typ, alt, disp = ov.actor.id, ov.actor.typ, ov.actor.alt, ov.actor.disp
		case lr.actorKind == akUser:
			u := int(lr.actor)
			id, typ, alt, disp = o.ids.id(kUser, u), "User", o.userLogin(u), o.userDisplayName(u)
		case lr.actorKind == akClient:
			a := int(lr.actor)
			id, typ, alt, disp = o.ids.id(kApp, a), "PublicClientApp", o.apps[a].label, o.apps[a].label
		default:
			id, typ, alt, disp = o.ids.id(kOrg, 0), "SystemPrincipal", "system@okta.com", "Okta System"
		}
		switch name {
		case "actor.id":
			return id, 0, false, true
		case "actor.type":
			return typ, 0, false, true
		case "actor.alternateId":
			return alt, 0, false, true
		}
		return disp, 0, false, true
	case "target.id", "target.type", "target.displayName", "target.alternateId":
		if lr.nt == 0 && (ov == nil || ov.targets == nil) {
			return "", 0, false, false
		}
		var sub jw
		saved := rd.w
		rd.w = &sub
		sub.arr()
		if ov != nil && ov.targets != nil {
			for k := range ov.targets {
				sub.obj()
				sub.rawObj(&ov.targets[k])
				sub.end()
			}
		} else {
			for k := range int(lr.nt) {
				rd.writeLogTarget(&lr.t[k], key, lr.published, "")
			}
		}
		sub.endArr()
		rd.w = saved
		field := strings.TrimPrefix(name, "target.")
		return extractField(sub.b, field), 0, false, true
	}
	return "", 0, false, false
}

// extractField pulls the string values of a top-level key from each object of a
// rendered target array, joined by NUL (cheap, avoids a JSON decoder).
func extractField(b []byte, field string) string {
	var vals []string
	needle := `"` + field + `":"`
	s := string(b)
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '"':
			if depth == 1 && strings.HasPrefix(s[i:], needle) {
				rest := s[i+len(needle):]
				end := strings.IndexByte(rest, '"')
				if end >= 0 {
					vals = append(vals, rest[:end])
				}
			}
			// skip the string
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
	}
	return strings.Join(vals, "\x00")
}
