package oktasim

import (
	"slices"
	"sort"
	"strings"
)

// System Log model.
//
// Event j < n0 is procedural: its persistence time is start + j*span/n0 (so the
// index order IS persistence order) and its published time is the persistence
// time minus a small random delay (up to logStore.maxDelay), which makes polling
// results come back slightly out of published order, as Okta's do. Events
// appended by Churn are stored compactly in extra with explicit times.

// minLogDelay is the smallest bound on persistence-minus-published delays; for
// sparse logs the bound grows to a few event spacings so that polling results
// still come back somewhat out of published order.
const minLogDelay = 120 * second

// Actor kinds.
const (
	akUser uint8 = iota
	akClient
	akSystem
)

// Target kinds.
const (
	tkUser uint8 = iota
	tkApp
	tkAppUser
	tkGroup
	tkPolicy
	tkPolicyRule
	tkDevice
	tkToken
	tkEnrollment
)

// Outcomes.
const (
	ocSuccess uint8 = iota
	ocFailure
	ocAllow
	ocDeny
	ocChallenge
)

var outcomeName = []string{"SUCCESS", "FAILURE", "ALLOW", "DENY", "CHALLENGE"}

type evDef struct {
	typ, legacy, msg string
	weight           int
	actor            uint8
	targets          []uint8
	sev              string
	failP            float64
	debug            uint8 // debugData flavour
}

// Debug data flavours.
const (
	dbgSession uint8 = iota
	dbgSSO
	dbgMFA
	dbgToken
	dbgAdmin
	dbgPolicy
	dbgSystem
)

var evCatalog = []evDef{
	{"user.session.start", "core.user_auth.login_success", "User login to Okta", 300, akUser, nil, "INFO", 0.08, dbgSession},
	{"user.authentication.sso", "app.auth.sso", "User single sign on to app", 220, akUser, []uint8{tkApp, tkAppUser}, "INFO", 0.02, dbgSSO},
	{"user.authentication.auth_via_mfa", "core.user.factor.attempt_success", "Authentication of user via MFA", 100, akUser, []uint8{tkEnrollment}, "INFO", 0.05, dbgMFA},
	{"policy.evaluate_sign_on", "", "Evaluation of sign-on policy", 100, akUser, []uint8{tkPolicy, tkPolicyRule}, "INFO", 0, dbgPolicy},
	{"user.session.end", "core.user_auth.logout_success", "User logout from Okta", 70, akUser, nil, "INFO", 0, dbgSession},
	{"app.oauth2.as.token.grant.access_token", "app.oauth2.as.token.grant.access_token_success", "OAuth2 access token is granted", 60, akClient, []uint8{tkToken}, "INFO", 0.01, dbgToken},
	{"user.account.update_profile", "core.user.config.profile_update.success", "Update user profile for Okta", 30, akUser, []uint8{tkUser}, "INFO", 0, dbgAdmin},
	{"group.user_membership.add", "core.user_group_member.user_add", "Add user to group membership", 25, akUser, []uint8{tkUser, tkGroup}, "INFO", 0, dbgAdmin},
	{"group.user_membership.remove", "core.user_group_member.user_remove", "Remove user from group membership", 10, akUser, []uint8{tkUser, tkGroup}, "INFO", 0, dbgAdmin},
	{"application.user_membership.add", "app.generic.provision.assign_user_to_app", "Add user to application membership", 15, akUser, []uint8{tkAppUser, tkApp, tkUser}, "INFO", 0, dbgAdmin},
	{"user.account.lock", "core.user.account.locked", "Max sign in attempts exceeded", 10, akSystem, []uint8{tkUser}, "WARN", 0, dbgSystem},
	{"user.mfa.factor.activate", "core.user.factor.activate", "Activate factor or authenticator", 10, akUser, []uint8{tkUser}, "INFO", 0, dbgMFA},
	{"device.enrollment.create", "", "Enroll device", 10, akUser, []uint8{tkDevice}, "INFO", 0, dbgSession},
	{"user.lifecycle.create", "core.user.config.user_creation.success", "Create okta user", 8, akUser, []uint8{tkUser}, "INFO", 0, dbgAdmin},
	{"user.lifecycle.deactivate", "core.user.config.user_deactivated", "Deactivate Okta user", 5, akUser, []uint8{tkUser}, "INFO", 0, dbgAdmin},
	{"user.lifecycle.delete.initiated", "core.user.config.user_deleted", "Delete Okta user initiated", 1, akUser, []uint8{tkUser}, "INFO", 0, dbgAdmin},
	{"user.lifecycle.delete.completed", "", "Delete Okta user completed", 1, akSystem, []uint8{tkUser}, "INFO", 0, dbgSystem},
	{"group.lifecycle.create", "core.user_group.created", "Create Okta group", 2, akUser, []uint8{tkGroup}, "INFO", 0, dbgAdmin},
	{"group.profile.update", "core.user_group.profile_updated", "Update group profile", 2, akUser, []uint8{tkGroup}, "INFO", 0, dbgAdmin},
	{"group.lifecycle.delete", "core.user_group.deleted", "Delete Okta group", 1, akUser, []uint8{tkGroup}, "INFO", 0, dbgAdmin},
	{"application.user_membership.remove", "app.generic.unprovision.user_unassigned", "Remove user from application membership", 5, akUser, []uint8{tkAppUser, tkApp, tkUser}, "INFO", 0, dbgAdmin},
	{"user.account.privilege.grant", "core.user.admin_privilege.granted", "Grant user privilege", 2, akUser, []uint8{tkUser}, "INFO", 0, dbgAdmin},
	{"security.threat.detected", "security.threat.detected", "Request from suspicious actor", 5, akSystem, nil, "WARN", 0, dbgSystem},
	{"policy.lifecycle.update", "core.policy.update", "Update policy", 3, akUser, []uint8{tkPolicy}, "INFO", 0, dbgAdmin},
	{"user.lifecycle.activate", "core.user.config.user_activated", "Activate Okta user", 4, akUser, []uint8{tkUser}, "INFO", 0, dbgAdmin},
	// Logged by Churn only (weight 0: never drawn for the generated history).
	// Targets as Okta sends them: the group granted or revoked an admin
	// role; the app and the group of an assignment; the policy and its rule.
	{"group.privilege.grant", "core.user_group.privilege_grant", "Grant admin privilege to group", 0, akUser, []uint8{tkGroup}, "INFO", 0, dbgAdmin},
	{"group.privilege.revoke", "core.user_group.privilege_revoke", "Revoke admin privilege from group", 0, akUser, []uint8{tkGroup}, "INFO", 0, dbgAdmin},
	{"group.application_assignment.add", "", "Add assigned application to group", 0, akUser, []uint8{tkApp, tkGroup}, "INFO", 0, dbgAdmin},
	{"group.application_assignment.remove", "", "Remove assigned application from group", 0, akUser, []uint8{tkApp, tkGroup}, "INFO", 0, dbgAdmin},
	{"policy.rule.update", "core.policy.rule.update", "Update policy rule", 0, akUser, []uint8{tkPolicy, tkPolicyRule}, "INFO", 0, dbgAdmin},
}

// Event type indices used by Churn.
var evIndex = func() map[string]uint8 {
	m := map[string]uint8{}
	for i, e := range evCatalog {
		m[e.typ] = uint8(i)
	}
	return m
}()

var evCumWeights = func() []int {
	out := make([]int, len(evCatalog))
	sum := 0
	for i, e := range evCatalog {
		sum += e.weight
		out[i] = sum
	}
	return out
}()

type tref struct {
	kind uint8
	a, b int32 // a: main index; b: app index for tkAppUser, policy for tkPolicyRule
}

// logRec is one event in compact form; rendering expands it.
type logRec struct {
	persist, published int64
	et, outcome        uint8
	actorKind          uint8
	nt                 uint8
	actor              int32
	t                  [3]tref
}

type logStore struct {
	seed                          uint64
	n0                            int
	start, span                   int64
	users0, groups0, apps0, devs0 int
	admins                        []int32
	nPolicies, nPolicyRules       int
	maxDelay                      int64 // bound on persist - published
	extra                         []logRec
}

func newLogStore(o *org, n int) logStore {
	days := int64(o.cfg.LogDays)
	ls := logStore{seed: o.seed, n0: n, start: o.now - days*day, span: days*day - minute,
		users0: len(o.users), groups0: len(o.groups), apps0: len(o.apps), devs0: len(o.devices),
		nPolicies: len(o.policies), nPolicyRules: len(o.policyRules)}
	for _, a := range o.adminUsers {
		ls.admins = append(ls.admins, a.idx)
	}
	ls.maxDelay = minLogDelay
	if n > 0 {
		ls.maxDelay = max(minLogDelay, 5*ls.span/int64(n)/2)
	}
	return ls
}

func (ls *logStore) total() int { return ls.n0 + len(ls.extra) }

func (ls *logStore) persistAt(j int) int64 {
	if j < ls.n0 {
		return ls.start + int64(j)*ls.span/int64(ls.n0)
	}
	return ls.extra[j-ls.n0].persist
}

func (ls *logStore) publishedAt(j int) int64 {
	if j < ls.n0 {
		h := hash3(ls.seed, 0x64656c61, uint64(j))
		var d int64
		if h%100 < 85 {
			d = int64(h>>8) % 2000
		} else {
			d = int64(h>>8) % ls.maxDelay
		}
		return ls.persistAt(j) - d
	}
	return ls.extra[j-ls.n0].published
}

// firstPersistAtOrAfter returns the first index whose persistence time is >= t.
func (ls *logStore) firstPersistAtOrAfter(t int64) int {
	return sort.Search(ls.total(), func(j int) bool { return ls.persistAt(j) >= t })
}

// rec returns event j in compact form.
func (ls *logStore) rec(j int) logRec {
	if j >= ls.n0 {
		return ls.extra[j-ls.n0]
	}
	r := newRng(ls.seed, 0x6c6f6772, uint64(j))
	x := r.intn(evCumWeights[len(evCumWeights)-1])
	lr := ls.procRec(r, sort.SearchInts(evCumWeights, x+1), j)
	lr.persist, lr.published = ls.persistAt(j), ls.publishedAt(j)
	return lr
}

// procRec draws the actor, outcome and targets of an event of type et.
func (ls *logStore) procRec(r *rng, et, j int) logRec {
	e := &evCatalog[et]
	lr := logRec{et: uint8(et), actorKind: e.actor}
	user := func() int32 {
		if ls.users0 == 0 {
			return -1
		}
		return int32(r.intn(ls.users0))
	}
	switch e.actor {
	case akUser:
		lr.actor = user()
		if e.debug == dbgAdmin && len(ls.admins) > 0 {
			lr.actor = ls.admins[r.intn(len(ls.admins))]
		}
		if lr.actor < 0 {
			lr.actorKind = akSystem
		}
	case akClient:
		if ls.apps0 > 0 {
			lr.actor = int32(r.intn(ls.apps0))
		} else {
			lr.actorKind = akSystem
		}
	}
	switch {
	case e.failP > 0 && r.chance(e.failP):
		lr.outcome = ocFailure
	case e.typ == "policy.evaluate_sign_on":
		lr.outcome = []uint8{ocAllow, ocAllow, ocAllow, ocChallenge, ocDeny}[r.intn(5)]
	case e.typ == "security.threat.detected":
		lr.outcome = ocDeny
	}
	subject := lr.actor
	if e.debug == dbgAdmin || e.actor != akUser {
		subject = user()
	}
	app := int32(-1)
	if ls.apps0 > 0 {
		app = int32(r.intn(ls.apps0))
	}
	for _, tk := range e.targets {
		t := tref{kind: tk, a: -1, b: -1}
		switch tk {
		case tkUser, tkEnrollment:
			t.a = subject
		case tkApp:
			t.a = app
		case tkAppUser:
			t.a, t.b = subject, app
		case tkGroup:
			if ls.groups0 > 0 {
				t.a = int32(r.intn(ls.groups0))
			}
		case tkPolicy:
			if ls.nPolicies > 0 {
				t.a = int32(r.intn(ls.nPolicies))
			}
		case tkPolicyRule:
			if ls.nPolicyRules > 0 {
				t.a = int32(r.intn(ls.nPolicyRules))
			}
		case tkDevice:
			if ls.devs0 > 0 {
				t.a = int32(r.intn(ls.devs0))
			}
		case tkToken:
			t.a = int32(j)
		}
		if t.a < 0 {
			continue
		}
		lr.t[lr.nt] = t
		lr.nt++
	}
	ls.agree(&lr, j)
	return lr
}

// phantomBase is the first index of the users and groups that generated
// delete events name: objects deleted before the org's state was made, whose
// indices no object created later can reach.
const phantomBase = 1 << 28

// agree makes a generated event that asserts a change of memberships,
// assignments or objects agree with the org's generated state, so that a
// reader replaying the history (a change feed) ends where the org is: an
// add names a pair that exists, a remove one that does not, a deletion an
// object that is gone. Its own random stream leaves the other draws alone.
func (ls *logStore) agree(lr *logRec, j int) {
	r := newRng(ls.seed, 0x61677265, uint64(j))
	switch evCatalog[lr.et].typ {
	case "group.user_membership.add":
		// [User, UserGroup]: one of the user's groups, or Everyone, which
		// every user belongs to.
		if lr.nt == 2 && lr.t[1].kind == tkGroup {
			gs := initialGroups(ls.seed, int(lr.t[0].a), ls.groups0-1, nil)
			lr.t[1].a = 0
			if len(gs) > 0 {
				lr.t[1].a = int32(gs[r.intn(len(gs))])
			}
		}
	case "group.user_membership.remove":
		// A group the user is not in (never Everyone); none: Everyone is
		// kept out by turning the event into an add there.
		if lr.nt == 2 && lr.t[1].kind == tkGroup {
			gs := initialGroups(ls.seed, int(lr.t[0].a), ls.groups0-1, nil)
			lr.t[1].a = -1
			for range 16 {
				if g := 1 + r.intn(max(1, ls.groups0-1)); g < ls.groups0 && !slices.Contains(gs, g) {
					lr.t[1].a = int32(g)
					break
				}
			}
			if lr.t[1].a < 0 {
				lr.et, lr.t[1].a = evIndex["group.user_membership.add"], 0
			}
		}
	case "application.user_membership.add", "application.user_membership.remove":
		// [AppUser, AppInstance, User]: a user assigned to the app for an
		// add, one not assigned for a remove.
		if lr.nt != 3 || ls.apps0 <= len(builtinApps) {
			return
		}
		want := evCatalog[lr.et].typ == "application.user_membership.add"
		a := len(builtinApps) + r.intn(ls.apps0-len(builtinApps))
		thr := appUserThreshold(ls.seed, a)
		u := int(lr.t[2].a)
		for k := 0; k < 256 && initiallyAssigned(ls.seed, a, u, thr) != want; k++ {
			u = r.intn(ls.users0)
		}
		if initiallyAssigned(ls.seed, a, u, thr) != want {
			lr.et = evIndex["user.session.start"]
			lr.nt = 0
			return
		}
		lr.t[0].a, lr.t[0].b, lr.t[1].a, lr.t[2].a = int32(u), int32(a), int32(a), int32(u)
	case "user.lifecycle.delete.completed":
		if lr.nt == 1 {
			lr.t[0].a = int32(phantomBase + j)
		}
	case "group.lifecycle.delete":
		if lr.nt == 1 {
			lr.t[0].a = int32(phantomBase + j)
		}
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

func (rd *renderer) writeGeo(w *jw, pl place) {
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
	}
	return cc
}

// writeLog renders event j.
func (rd *renderer) writeLog(j int, lr *logRec) {
	o, w := rd.o, rd.w
	e := &evCatalog[lr.et]
	r := newRng(o.seed, 0x6c6f6764, uint64(j))
	w.obj()
	// actor
	w.ko("actor")
	switch lr.actorKind {
	case akUser:
		u := int(lr.actor)
		w.ks("id", o.ids.id(kUser, u)).ks("type", "User").ks("alternateId", o.userLogin(u)).ks("displayName", o.userDisplayName(u)).kn("detailEntry")
	case akClient:
		a := int(lr.actor)
		w.ks("id", o.ids.id(kApp, a)).ks("type", "PublicClientApp").ks("alternateId", o.apps[a].label).ks("displayName", o.apps[a].label)
		w.ko("detailEntry").ks("clientAuthType", "private_key_jwt").ks("signOnMode", o.apps[a].tmpl.mode).end()
	default:
		w.ks("id", o.ids.id(kOrg, 0)).ks("type", "SystemPrincipal").ks("alternateId", "system@okta.com").ks("displayName", "Okta System").kn("detailEntry")
	}
	w.end()
	// client
	var pl place
	ipHash := r.next()
	if lr.actorKind == akUser {
		pr := newRng(o.seed, streamProfile, uint64(lr.actor))
		pr.next()
		pr.next()
		pl = places[pr.intn(len(places))]
		ipHash = hash3(o.seed, 0x6970, uint64(lr.actor)) // the user's usual address
		if r.chance(0.2) {
			ipHash = r.next()
		}
	} else {
		pl = places[r.intn(len(places))]
	}
	ua := userAgents[r.intn(len(userAgents))]
	if lr.actorKind == akClient {
		ua = userAgents[5]
	}
	var ipb [16]byte
	ip := string(appendIP(ipb[:0], ipHash))
	w.ko("client")
	if lr.actorKind == akSystem {
		w.kn("userAgent").kn("zone").kn("device").kn("id").kn("ipAddress").kn("geographicalContext")
	} else {
		w.ko("userAgent").ks("rawUserAgent", ua.raw).ks("os", ua.os).ks("browser", ua.browser).end()
		if r.chance(0.2) {
			w.ks("zone", zoneDefs[3].name)
		} else {
			w.ks("zone", "null")
		}
		switch {
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
	if lr.actorKind == akUser && e.debug == dbgSession && len(o.devices) > 0 && r.chance(0.5) {
		d := r.intn(len(o.devices))
		m := deviceModels[o.devices[d].model]
		w.ko("device").ks("id", o.ids.id(kDevice, d)).ks("name", m.display).ks("os_platform", m.platform).ks("os_version", m.os).
			kb("managed", r.chance(0.6)).kb("registered", true).kn("device_integrator").ks("disk_encryption_type", "ALL_INTERNAL_VOLUMES").
			ks("screen_lock_type", "BIOMETRIC").kn("jailbreak").kb("secure_hardware_present", true).end()
	} else {
		w.kn("device")
	}
	// authenticationContext
	sess := "102" + b64id(o.seed, 0x73657373, uint64(lr.actor)<<20|uint64(j%7), 22)
	w.ko("authenticationContext")
	switch e.debug {
	case dbgSession:
		w.ks("authenticationProvider", "OKTA_AUTHENTICATION_PROVIDER").ks("credentialProvider", "OKTA_CREDENTIAL_PROVIDER").ks("credentialType", "PASSWORD")
	case dbgMFA:
		w.ks("authenticationProvider", "FACTOR_PROVIDER").ks("credentialProvider", "OKTA_CREDENTIAL_PROVIDER").ks("credentialType", "OTP")
	default:
		w.kn("authenticationProvider").kn("credentialProvider").kn("credentialType")
	}
	if e.debug == dbgToken {
		w.ko("issuer").ks("id", o.ids.id(kAuthServer, 0)).ks("type", "AuthorizationServer").end()
	} else {
		w.kn("issuer")
	}
	if e.debug == dbgSSO {
		w.ks("interface", "Okta Dashboard")
	} else {
		w.kn("interface")
	}
	w.ki("authenticationStep", 0)
	if lr.actorKind == akUser {
		w.ks("rootSessionId", sess).ks("externalSessionId", sess)
	} else {
		w.ks("externalSessionId", "unknown")
	}
	w.end()
	w.ks("displayMessage", e.msg)
	w.ks("eventType", e.typ)
	w.ko("outcome").ks("result", outcomeName[lr.outcome])
	switch {
	case lr.outcome == ocFailure && e.debug == dbgSession:
		w.ks("reason", "INVALID_CREDENTIALS")
	case lr.outcome == ocFailure:
		w.ks("reason", "VERIFICATION_ERROR")
	case lr.outcome == ocDeny && e.typ == "security.threat.detected":
		w.ks("reason", "Password Spray")
	case lr.outcome == ocChallenge:
		w.ks("reason", "Sign-on policy evaluation resulted in CHALLENGE")
	default:
		w.kn("reason")
	}
	w.end()
	w.kt("published", lr.published)
	isp := isps[ipHash%uint64(len(isps))]
	w.ko("securityContext")
	if lr.actorKind == akSystem {
		w.kn("asNumber").kn("asOrg").kn("isp").kn("domain").kn("isProxy")
	} else {
		w.ki("asNumber", isp.asn).ks("asOrg", isp.org).ks("isp", isp.isp).ks("domain", isp.domn).kb("isProxy", false)
	}
	w.end()
	sev := e.sev
	if lr.outcome == ocFailure {
		sev = "WARN"
	}
	w.ks("severity", sev)
	txID := b64id(o.seed, 0x7478, uint64(j), 27)
	w.ko("debugContext").ko("debugData")
	w.ks("requestId", txID)
	rd.writeDebugData(w, e, lr, j, r)
	w.end().end()
	w.ksN("legacyEventType", e.legacy)
	w.ko("transaction")
	if lr.actorKind == akSystem {
		w.ks("type", "JOB")
	} else {
		w.ks("type", "WEB")
	}
	w.ks("id", txID)
	w.ko("detail")
	if e.debug == dbgAdmin && r.chance(0.3) {
		w.ks("requestApiTokenId", o.ids.id(kAPIToken, 0))
	}
	w.end()
	w.end()
	w.k("uuid")
	w.pre()
	w.b = append(w.b, '"')
	w.b = appendUUID(w.b, o.seed, 0x75756964, uint64(j))
	w.b = append(w.b, '"')
	w.ks("version", "0")
	w.ko("request").ka("ipChain")
	if lr.actorKind != akSystem {
		w.obj().ks("ip", ip)
		rd.writeGeo(w, pl)
		w.ks("version", "V4").kn("source").end()
		if r.chance(0.15) {
			var pb [16]byte
			w.obj().ks("ip", string(appendIP(pb[:0], r.next()))).kn("geographicalContext").ks("version", "V4").ks("source", "X-Forwarded-For").end()
		}
	}
	w.endArr().end()
	if lr.nt == 0 {
		w.kn("target")
	} else {
		w.ka("target")
		for k := range int(lr.nt) {
			rd.writeLogTarget(&lr.t[k], j)
		}
		w.endArr()
	}
	w.end()
}

func (rd *renderer) writeDebugData(w *jw, e *evDef, lr *logRec, j int, r *rng) {
	o := rd.o
	switch e.debug {
	case dbgSession:
		w.ks("requestUri", "/idp/idx/identify").ks("url", "/idp/idx/identify?")
		w.ks("dtHash", hexID(o.seed, 0x6474, uint64(j), 64))
		w.ks("threatSuspected", "false")
		if r.chance(0.7) {
			w.ks("behaviors", "{New Geo-Location=NEGATIVE, New Device=POSITIVE, New IP=POSITIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}")
			w.ks("risk", "{level="+pick(r, []string{"LOW", "LOW", "MEDIUM", "HIGH"})+"}")
		}
		if r.chance(0.5) {
			w.ks("deviceFingerprint", hexID(o.seed, 0x6670, uint64(j), 32))
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
			w.ks("signOnMode", strings.ReplaceAll(o.apps[a].tmpl.mode, "_", " "))
		}
		w.ks("initiationType", pick(r, []string{"IDP_INITIATED", "SP_INITIATED"}))
		if r.chance(0.5) {
			w.ks("authnRequestId", b64id(o.seed, 0x61726964, uint64(j), 20))
		}
	case dbgMFA:
		w.ks("requestUri", "/idp/idx/challenge/answer").ks("factor", pick(r, []string{"OKTA_VERIFY_PUSH", "SMS_FACTOR", "EMAIL_FACTOR", "FIDO_WEBAUTHN"}))
		w.ks("factorIntent", "AUTHENTICATION")
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
		if r.chance(0.5) {
			w.ks("threatDetections", "{\"Password Spray\":\"HIGH\"}")
		}
	}
}

func (rd *renderer) writeLogTarget(t *tref, j int) {
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
		w.ks("id", "AT."+b64id(o.seed, 0x6174, uint64(j), 43)).ks("type", "access_token").ks("alternateId", "unknown").ks("displayName", "Access Token")
		w.ko("detailEntry").ks("expires", fmtTS(o.logs.publishedAt(j)+hour)).ks("subject", o.ids.id(kApp, 0)).ks("hash", b64id(o.seed, 0x6168, uint64(j), 22)).end()
	case tkEnrollment:
		u := int(t.a)
		w.ks("id", o.ids.id(kEnrollApp, u)).ks("type", "AuthenticatorEnrollment").ks("alternateId", "unknown").ks("displayName", "Okta Verify").kn("detailEntry")
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
	switch name {
	case "eventType":
		return e.typ, 0, false, true
	case "legacyEventType":
		return e.legacy, 0, false, e.legacy != ""
	case "displayMessage":
		return e.msg, 0, false, true
	case "severity":
		if lr.outcome == ocFailure {
			return "WARN", 0, false, true
		}
		return e.sev, 0, false, true
	case "outcome.result":
		return outcomeName[lr.outcome], 0, false, true
	case "uuid":
		return string(appendUUID(nil, o.seed, 0x75756964, uint64(j))), 0, false, true
	case "transaction.id", "debugContext.debugData.requestId":
		return b64id(o.seed, 0x7478, uint64(j), 27), 0, false, true
	case "actor.id", "actor.type", "actor.alternateId", "actor.displayName":
		var id, typ, alt, disp string
		switch lr.actorKind {
		case akUser:
			u := int(lr.actor)
			id, typ, alt, disp = o.ids.id(kUser, u), "User", o.userLogin(u), o.userDisplayName(u)
		case akClient:
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
		if lr.nt == 0 {
			return "", 0, false, false
		}
		var sub jw
		saved := rd.w
		rd.w = &sub
		sub.arr()
		for k := range int(lr.nt) {
			rd.writeLogTarget(&lr.t[k], j)
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
