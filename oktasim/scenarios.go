package oktasim

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Scenarios: named attack stories told in the System Log. Each is seeded
// (its time inside the log's span, its victims, its attacker's addresses
// derive from the seed), acts on real users of the org, and leaves the
// directory as its events say. docs/SIMULATOR.md tells each story.

// Scenarios lists the scenario names, in the order they are told.
var Scenarios = []string{"password_spray", "credential_stuffing", "mfa_push_fatigue", "session_replay",
	"impossible_travel", "privilege_escalation", "support_impersonation", "rogue_idp", "password_in_username"}

// ParseScenarios parses a comma-separated list of scenario names, "all" or
// "none" (or empty: none), into the canonical list.
func ParseScenarios(spec string) ([]string, error) {
	want := map[string]bool{}
	for _, p := range strings.Split(spec, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "" || p == "none":
		case p == "all":
			for _, s := range Scenarios {
				want[s] = true
			}
		case slices.Contains(Scenarios, p):
			want[p] = true
		default:
			return nil, fmt.Errorf("unknown scenario %q; want all, none or a comma-separated list of %s", p, strings.Join(Scenarios, ", "))
		}
	}
	var out []string
	for _, s := range Scenarios {
		if want[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// scen is one scenario being told.
type scen struct {
	o    *org
	r    *rng
	name string
	t    int64 // when the story starts
}

// scenarioTime is when scenario name starts: a seed-derived time inside the
// span, at least a day after its start (when the span allows) and a few
// hours before now.
func (o *org) scenarioTime(name string) int64 {
	ls := &o.logs
	lo := ls.start + min(day, (o.now-ls.start)/4)
	hi := o.now - 4*hour
	if hi <= lo {
		hi = lo + 1
	}
	return lo + int64(hash3(o.seed, 0x7363746d, hashString(name))%uint64(hi-lo))
}

func (o *org) runScenario(name string) {
	if len(o.users) < 30 {
		return // too small an org to tell a story in
	}
	sc := &scen{o: o, r: newRng(o.seed, 0x7363656e, hashString(name)), name: name, t: o.scenarioTime(name)}
	switch name {
	case "password_spray":
		sc.passwordSpray()
	case "credential_stuffing":
		sc.credentialStuffing()
	case "mfa_push_fatigue":
		sc.pushFatigue()
	case "session_replay":
		sc.sessionReplay()
	case "impossible_travel":
		sc.impossibleTravel()
	case "privilege_escalation":
		sc.privilegeEscalation()
	case "support_impersonation":
		sc.supportImpersonation()
	case "rogue_idp":
		sc.rogueIdP()
	case "password_in_username":
		sc.passwordInUsername()
	}
}

// victim draws a user ACTIVE from well before t0 to after t1, not yet in a
// scenario (an admin or not, as asked), or -1.
func (sc *scen) victim(t0, t1 int64, admin bool) int {
	o, ls := sc.o, &sc.o.logs
	if o.scenUsed == nil {
		o.scenUsed = map[int]bool{}
	}
	try := func(u int) bool {
		us := &o.users[u]
		return !o.scenUsed[u] && us.status == stActive && us.activated < t0-30*day &&
			ls.activeAt(int32(u), t0) && ls.activeAt(int32(u), t1) && o.userHasRole(u) == admin
	}
	if admin {
		for range 16 {
			if len(ls.admins) == 0 {
				break
			}
			if u := int(ls.admins[sc.r.intn(len(ls.admins))]); try(u) {
				o.scenUsed[u] = true
				return u
			}
		}
		return -1
	}
	for range 400 {
		if u := sc.r.intn(ls.users0); try(u) {
			o.scenUsed[u] = true
			return u
		}
	}
	return -1
}

// signedIn records a successful sign-in of u at t: the user's lastLogin
// follows the latest one.
func (sc *scen) signedIn(u int, t int64) {
	o := sc.o
	if t >= o.users[u].lastLogin {
		o.users[u].lastLogin = t
		o.logs.loginSkip[int32(u)] = true
	}
}

// Attacker networks: address prefixes by ISP (isps index).
var proxyPrefixes = map[int][]string{
	6:  {"159.203.", "167.99.", "206.189."}, // DigitalOcean
	7:  {"51.75.", "141.95.", "54.38."},     // OVH
	8:  {"89.238.", "185.156.", "37.120."},  // M247 (VPN exits)
	9:  {"185.59.", "89.187."},              // Datacamp / CDN77 (anonymiser)
	10: {"185.220.101.", "185.220.100."},    // Tor exits
	11: {"212.102.", "138.199."},            // Datacamp (anonymiser)
}

func (sc *scen) proxyIP(isp int) string {
	pre := pick(sc.r, proxyPrefixes[isp])
	ip := pre
	for strings.Count(ip, ".") < 3 {
		ip += itoa(1+sc.r.intn(254)) + "."
	}
	return ip + itoa(1+sc.r.intn(254))
}

// home is the override of an event from user u's usual address, browser
// and city.
func (sc *scen) home(u int) evOverride {
	o := sc.o
	h := o.userAddr(u, false)
	var b [16]byte
	return evOverride{ip: string(appendIP(b[:0], h)), pl: o.userPlace(u), isp: &isps[h%backgroundISPs], ua: o.userUA(u, false),
		sess: o.sessionID(u, sc.t)}
}

// Attackers' user agents.
var (
	uaPython   = &uaDef{"python-requests/2.31.0", "Unknown", "UNKNOWN"}
	uaHeadless = &uaDef{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36", "Linux", "CHROME"}
	uaLinuxFF  = &uaDef{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Linux", "FIREFOX"}
)

const allNewBehaviors = "{New Geo-Location=POSITIVE, New Device=POSITIVE, New IP=POSITIVE, New State=POSITIVE, New Country=POSITIVE, Velocity=NEGATIVE, New City=POSITIVE}"

// signInDebug is the debug data of a sign-in.
func (sc *scen) signInDebug(uri, behaviors, risk, threat string) [][2]string {
	o := sc.o
	d := [][2]string{{"requestUri", uri}, {"url", uri + "?"}, {"threatSuspected", threat}}
	if behaviors != "" {
		d = append(d, [2]string{"behaviors", behaviors})
	}
	if risk != "" {
		d = append(d, [2]string{"risk", risk})
	}
	d = append(d, [2]string{"dtHash", hexID(o.seed, 0x6474, hashString(sc.name)+uint64(len(o.logs.pending)), 64)})
	return d
}

func (sc *scen) passwordSpray() {
	o := sc.o
	ip := sc.proxyIP(9)
	pl := &farPlaces[1]
	users := make([]int, 0, 24)
	for range 24 {
		if u := sc.victim(sc.t, sc.t+hour, false); u >= 0 {
			users = append(users, u)
		}
	}
	for k, u := range users {
		t := sc.t + int64(k)*20*second + int64(sc.r.intn(5000))
		ov := &evOverride{ip: ip, pl: pl, isp: &isps[9], ua: uaPython, reason: "INVALID_CREDENTIALS", sess: "unknown",
			debug: sc.signInDebug("/api/v1/authn", allNewBehaviors, "{reasons=Anomalous Location, Anomalous Device, level=HIGH}", "true")}
		o.ins(t, "user.session.start", akUser, int32(u), ocFailure, ov)
		if k == 12 || k == len(users)-1 {
			o.ins(t+3*second, "security.threat.detected", akSystem, 0, ocDeny, &evOverride{ip: ip, pl: pl, isp: &isps[9], ua: uaPython,
				reason: "Password Spray", msg: "Request from suspicious actor",
				debug: [][2]string{{"requestUri", "/api/v1/authn"}, {"url", "/api/v1/authn?"}, {"threatSuspected", "true"},
					{"threatDetections", `{"Password Spray":"HIGH"}`}, {"clientAddress", ip}}})
		}
	}
}

func (sc *scen) credentialStuffing() {
	o := sc.o
	ips := make([]string, 12)
	for k := range ips {
		ips[k] = sc.proxyIP(6)
	}
	var users []int
	for range 18 {
		if u := sc.victim(sc.t, sc.t+2*hour, false); u >= 0 {
			users = append(users, u)
		}
	}
	risk := "{reasons=Anomalous Device, Suspicious IP, level=HIGH}"
	for k, u := range users {
		t := sc.t + int64(k)*95*second + int64(sc.r.intn(30000))
		ip := ips[k%len(ips)]
		pl := &farPlaces[4+k%2]
		base := evOverride{ip: ip, pl: pl, isp: &isps[6], ua: uaHeadless, sess: "unknown",
			debug: sc.signInDebug("/idp/idx/identify", allNewBehaviors, risk, "true")}
		switch {
		case k%6 == 5: // the password worked: an MFA challenge stops the attacker
			ok := base
			ok.sess = "102" + b64id(o.seed, 0x63737366, uint64(u), 22)
			o.ins(t, "user.session.start", akUser, int32(u), ocSuccess, &ok)
			sc.signedIn(u, t)
			ch := ok
			ch.debug = [][2]string{{"requestUri", "/idp/idx/introspect"}, {"risk", risk}}
			o.ins(t+2*second, "policy.evaluate_sign_on", akUser, int32(u), ocChallenge, &ch,
				tref{kind: tkPolicy, a: 0}, tref{kind: tkPolicyRule, a: 0})
			mf := ok
			mf.reason = "INVALID_CREDENTIALS"
			mf.debug = [][2]string{{"requestUri", "/idp/idx/challenge/answer"}, {"factor", "OKTA_VERIFY_PUSH"}, {"factorIntent", "AUTHENTICATION"}, {"risk", risk}}
			o.ins(t+70*second, "user.authentication.auth_via_mfa", akUser, int32(u), ocFailure, &mf, tref{kind: tkEnrollment, a: int32(u)})
			o.ins(t+75*second, "user.risk.detect", akSystem, 0, ocSuccess, &evOverride{debug: [][2]string{{"risk", risk}, {"clientAddress", ip}}}, userRef(u))
		default:
			f := base
			f.reason = "INVALID_CREDENTIALS"
			if k%3 == 1 {
				f.reason = "VERIFICATION_ERROR"
			}
			o.ins(t, "user.session.start", akUser, int32(u), ocFailure, &f)
		}
	}
}

func (sc *scen) pushFatigue() {
	o := sc.o
	u := sc.victim(sc.t, sc.t+3*hour, false)
	if u < 0 {
		return
	}
	ip := sc.proxyIP(8)
	pl := &farPlaces[0]
	sess := "102" + b64id(o.seed, 0x70757368, uint64(u), 22)
	att := evOverride{ip: ip, pl: pl, isp: &isps[8], ua: uaLinuxFF, sess: sess}
	enr := tref{kind: tkEnrollment, a: int32(u)}
	authn := `{"authenticatorKey":"okta_verify","callerMethodId":"aut` + b64id(o.seed, 0x6175, uint64(u), 17) + `","methodType":"push"}`
	t := sc.t
	for k := range 10 {
		t = sc.t + int64(k)*81*second
		p := att
		p.authn = authn
		p.debug = [][2]string{{"requestUri", "/idp/idx/authenticators/poll"}, {"factor", "OKTA_VERIFY_PUSH"}, {"factorIntent", "AUTHENTICATION"},
			{"behaviors", allNewBehaviors}, {"risk", "{reasons=Anomalous Location, level=HIGH}"}}
		o.ins(t, "system.push.send_factor_verify_push", akUser, int32(u), ocSuccess, &p, enr)
		if k == 9 {
			break
		}
		if k == 3 || k == 6 {
			continue // unanswered
		}
		d := att
		d.authn = authn
		d.reason = "User rejected Okta push verify"
		d.debug = [][2]string{{"requestUri", "/idp/idx/authenticators/poll"}, {"factor", "OKTA_VERIFY_PUSH"}, {"factorIntent", "AUTHENTICATION"},
			{"pushOnlyResponseType", "DENY"}}
		o.ins(t+20*second+int64(sc.r.intn(20000)), "user.mfa.okta_verify.deny_push", akUser, int32(u), ocFailure, &d, enr)
	}
	a := att
	a.authn = authn
	a.cred = "OTP"
	a.debug = [][2]string{{"requestUri", "/idp/idx/challenge/answer"}, {"factor", "OKTA_VERIFY_PUSH"}, {"factorIntent", "AUTHENTICATION"},
		{"pushOnlyResponseType", "ACCEPT"}, {"behaviors", allNewBehaviors}}
	o.ins(t+25*second, "user.authentication.auth_via_mfa", akUser, int32(u), ocSuccess, &a, enr)
	s := att
	s.debug = sc.signInDebug("/idp/idx/identify", allNewBehaviors, "{reasons=Anomalous Location, level=HIGH}", "false")
	o.ins(t+27*second, "user.session.start", akUser, int32(u), ocSuccess, &s)
	sc.signedIn(u, t+27*second)
	// Later that day the user reports the pushes they did not start.
	h := sc.home(u)
	h.sess = o.sessionID(u, t+50*minute)
	h.debug = [][2]string{{"requestUri", "/api/v1/users/me/suspicious-activity"}, {"suspiciousActivityEventType", "system.push.send_factor_verify_push"},
		{"suspiciousActivityEventId", b64id(o.seed, 0x73616964, uint64(u), 20)}}
	o.ins(t+50*minute, "user.account.report_suspicious_activity_by_enduser", akUser, int32(u), ocSuccess, &h, userRef(u))
}

func (sc *scen) sessionReplay() {
	o, ls := sc.o, &sc.o.logs
	u := sc.victim(sc.t, sc.t+2*hour, false)
	if u < 0 {
		return
	}
	r := sc.r
	h := sc.home(u)
	sess := "102" + b64id(o.seed, 0x7265706c, uint64(u), 22)
	h.sess = sess
	h.debug = sc.signInDebug("/idp/idx/identify", "{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}", "{level=LOW}", "false")
	o.ins(sc.t, "user.session.start", akUser, int32(u), ocSuccess, &h)
	sc.signedIn(u, sc.t)
	app1, app2 := ls.assignedApp(r, int32(u)), ls.assignedApp(r, int32(u))
	sso := h
	sso.debug = [][2]string{{"requestUri", "/app/" + o.apps[app1].tmpl.name + "/" + o.ids.id(kApp, int(app1)) + "/sso/saml"}, {"initiationType", "IDP_INITIATED"}}
	o.ins(sc.t+90*second, "user.authentication.sso", akUser, int32(u), ocSuccess, &sso, tref{kind: tkApp, a: app1}, tref{kind: tkAppUser, a: int32(u), b: app1})
	// The stolen cookie, replayed from another country, network and browser.
	far := farPlaces[2+r.intn(2)]
	rep := evOverride{ip: sc.proxyIP(7), pl: &far, isp: &isps[7], ua: uaLinuxFF, sess: sess}
	t := sc.t + 25*minute + int64(r.intn(600))*second
	pe := rep
	pe.debug = [][2]string{{"requestUri", "/app/" + o.apps[app2].tmpl.name + "/" + o.ids.id(kApp, int(app2)) + "/sso/saml"},
		{"behaviors", "{New Geo-Location=POSITIVE, New Device=POSITIVE, New IP=POSITIVE, New State=POSITIVE, New Country=POSITIVE, Velocity=POSITIVE, New City=POSITIVE}"},
		{"risk", "{reasons=Anomalous Location, Anomalous Device, level=HIGH}"}}
	o.ins(t, "policy.evaluate_sign_on", akUser, int32(u), ocAllow, &pe, tref{kind: tkPolicy, a: 0}, tref{kind: tkPolicyRule, a: 0})
	rs := pe
	rs.debug = append(slices.Clone(pe.debug), [2]string{"initiationType", "IDP_INITIATED"})
	o.ins(t+2*second, "user.authentication.sso", akUser, int32(u), ocSuccess, &rs, tref{kind: tkApp, a: app2}, tref{kind: tkAppUser, a: int32(u), b: app2})
	ro := rep
	ro.debug = [][2]string{{"requestUri", "/app/" + o.apps[app2].tmpl.name + "/" + o.ids.id(kApp, int(app2)) + "/sso/saml"},
		{"behaviors", "{New IP=POSITIVE, New Country=POSITIVE}"}, {"clientAddress", rep.ip}}
	o.ins(t+3*second, "security.session.detect_client_roaming", akUser, int32(u), ocSuccess, &ro)
	// The same kit tried another user, whose Okta FastPass refused to sign
	// in to the phishing page.
	if v := sc.victim(sc.t, sc.t+2*hour, false); v >= 0 {
		f := sc.home(v)
		f.sess = o.sessionID(v, sc.t)
		f.reason = "FastPass declined phishing attempt"
		f.cred = "OTP"
		f.authn = `{"authenticatorKey":"okta_verify","callerMethodId":"aut` + b64id(o.seed, 0x6175, uint64(v), 17) + `","methodType":"signed_nonce"}`
		f.debug = [][2]string{{"requestUri", "/idp/idx/authenticators/okta-verify/launch"}, {"factor", "SIGNED_NONCE"}, {"factorIntent", "AUTHENTICATION"},
			{"keyTypeUsedForAuthentication", "PROOF_OF_POSSESSION"}, {"threatSuspected", "true"}}
		o.ins(sc.t-40*minute, "user.authentication.auth_via_mfa", akUser, int32(v), ocFailure, &f, tref{kind: tkEnrollment, a: int32(v)})
	}
}

// distanceKm is the great-circle distance between two places.
func distanceKm(a, b *place) float64 {
	const rad = math.Pi / 180
	la1, la2 := a.lat*rad, b.lat*rad
	dla, dlo := la2-la1, (b.lon-a.lon)*rad
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * 6371 * math.Asin(math.Sqrt(h))
}

// farISPs are the access networks of farPlaces, by index.
var farISPs = []ispDef{
	{29465, "mtn nigeria", "mtn nigeria communication limited", "mtnnigeria.net", ""},
	{8708, "rcs & rds", "rcs & rds s.a.", "rcs-rds.ro", ""},
	{7473, "singtel", "singapore telecommunications ltd", "singtel.com", ""},
	{45899, "vnpt corp", "vnpt corp", "vnpt.vn", ""},
	{1136, "kpn b.v.", "kpn b.v.", "kpn.com", ""},
	{3320, "deutsche telekom ag", "deutsche telekom ag", "t-ipconnect.de", ""},
}

func (sc *scen) impossibleTravel() {
	o := sc.o
	u := sc.victim(sc.t, sc.t+2*hour, false)
	if u < 0 {
		return
	}
	h := sc.home(u)
	h.debug = sc.signInDebug("/idp/idx/identify", "{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}", "{level=LOW}", "false")
	o.ins(sc.t, "user.session.start", akUser, int32(u), ocSuccess, &h)
	home := o.userPlace(u)
	best := 0
	for k := range farPlaces {
		if distanceKm(home, &farPlaces[k]) > distanceKm(home, &farPlaces[best]) {
			best = k
		}
	}
	t := sc.t + 35*minute + int64(sc.r.intn(900))*second
	var b [16]byte
	ip := string(appendIP(b[:0], sc.r.next()))
	far := evOverride{ip: ip, pl: &farPlaces[best], isp: &farISPs[best], ua: o.userUA(u, true), sess: "102" + b64id(o.seed, 0x74726176, uint64(u), 22),
		debug: sc.signInDebug("/idp/idx/identify", "{New Geo-Location=POSITIVE, New Device=POSITIVE, New IP=POSITIVE, New State=POSITIVE, New Country=POSITIVE, Velocity=POSITIVE, New City=POSITIVE}",
			"{reasons=Anomalous Location, Impossible Travel, level=HIGH}", "false")}
	o.ins(t, "user.session.start", akUser, int32(u), ocSuccess, &far)
	sc.signedIn(u, t)
}

func (sc *scen) privilegeEscalation() {
	o := sc.o
	adm := sc.victim(sc.t, sc.t+2*hour, true) // the compromised admin
	u := sc.victim(sc.t, sc.t+2*hour, false)  // the account raised to super admin
	if adm < 0 || u < 0 {
		return
	}
	ip := sc.proxyIP(10)
	pl := &farPlaces[4]
	att := evOverride{ip: ip, pl: pl, isp: &isps[10], ua: uaLinuxFF, sess: "102" + b64id(o.seed, 0x70726976, uint64(adm), 22)}
	t := sc.t
	a := att
	a.debug = [][2]string{{"requestUri", "/admin/sso/request"}, {"url", "/admin/sso/request?"}, {"behaviors", allNewBehaviors}}
	o.ins(t, "user.session.access_admin_app", akUser, int32(adm), ocSuccess, &a, tref{kind: tkApp, a: 0})
	// 1. The admin makes the other account a super admin.
	g := att
	g.debug = [][2]string{{"requestUri", "/api/v1/users/" + o.ids.id(kUser, u) + "/roles"}, {"url", "/api/v1/users/" + o.ids.id(kUser, u) + "/roles?"},
		{"privilegeGranted", "Super administrator"}}
	t += 3 * minute
	o.ins(t, "user.account.privilege.grant", akUser, int32(adm), ocSuccess, &g, userRef(u))
	ra := roleAssign{id: o.nextRoleID, std: 0, custom: 0, created: t}
	o.nextRoleID++
	o.addUserRole(u, ra)
	// 2. The new super admin signs in from the same network and makes an API token.
	s := att
	s.sess = "102" + b64id(o.seed, 0x70726977, uint64(u), 22)
	s.debug = sc.signInDebug("/idp/idx/identify", allNewBehaviors, "{reasons=Anomalous Location, level=HIGH}", "false")
	t += 4 * minute
	o.ins(t, "user.session.start", akUser, int32(u), ocSuccess, &s)
	sc.signedIn(u, t)
	tok := o.apiTokens
	o.apiTokens++
	o.tokenExtra = append(o.tokenExtra, apiTokenDef{name: "svc-automation", owner: u, created: t + 3*minute})
	c := s
	c.debug = [][2]string{{"requestUri", "/api/internal/tokens"}, {"url", "/api/internal/tokens?"}}
	o.ins(t+3*minute, "system.api_token.create", akUser, int32(u), ocSuccess, &c, tref{kind: tkAPIToken, a: int32(tok)})
	tokID := o.ids.id(kAPIToken, tok)
	// 3. With the token, the sign-on policy's MFA requirement goes.
	pol, rule := o.signOnRule()
	t += 9 * minute
	if pol >= 0 {
		p := evOverride{ip: ip, pl: pl, isp: &isps[10], ua: uaPython, tokenID: tokID,
			debug: [][2]string{{"requestUri", "/api/v1/policies/" + o.ids.id(kPolicy, pol) + "/rules/" + o.ids.id(kPolicyRule, rule)}}}
		p.change[1] = `{"from":{"actions":{"signon":{"access":"ALLOW","requireFactor":true,"factorPromptMode":"ALWAYS"}}},"to":{"actions":{"signon":{"access":"ALLOW","requireFactor":false}}}}`
		o.ins(t, "policy.rule.update", akUser, int32(u), ocSuccess, &p, tref{kind: tkPolicy, a: int32(pol)}, tref{kind: tkPolicyRule, a: int32(rule)})
		pu := p
		pu.change = [3]string{`{"from":{"priority":2},"to":{"priority":1}}`}
		pu.debug = [][2]string{{"requestUri", "/api/v1/policies/" + o.ids.id(kPolicy, pol)}}
		o.ins(t+time2(sc.r), "policy.lifecycle.update", akUser, int32(u), ocSuccess, &pu, tref{kind: tkPolicy, a: int32(pol)})
		o.policyRules[rule].lastUpd = t
		o.policies[pol].lastUpd = t
	}
	// 4. The blocklist zone goes.
	z := 4 // Blocked Countries
	t += 6 * minute
	zd := evOverride{ip: ip, pl: pl, isp: &isps[10], ua: uaPython, tokenID: tokID,
		debug: [][2]string{{"requestUri", "/api/v1/zones/" + o.ids.id(kZone, z) + "/lifecycle/deactivate"}}}
	o.ins(t, "zone.deactivate", akUser, int32(u), ocSuccess, &zd, tref{kind: tkZone, a: int32(z)})
	o.zoneInactive[z] = true
	o.zoneChanged[z] = t
}

// signOnRule returns the first OKTA_SIGN_ON policy and its first rule that
// is not the catch-all, or -1.
func (o *org) signOnRule() (int, int) {
	for p := range o.policies {
		if o.policies[p].typ == "OKTA_SIGN_ON" && len(o.policies[p].rules) > 0 {
			return p, o.policies[p].rules[0]
		}
	}
	return -1, -1
}

// addUserRole gives user u an admin role assignment.
func (o *org) addUserRole(u int, ra roleAssign) {
	for k := range o.adminUsers {
		if int(o.adminUsers[k].idx) == u {
			o.adminUsers[k].roles = append(o.adminUsers[k].roles, ra)
			return
		}
	}
	k, _ := slices.BinarySearchFunc(o.adminUsers, int32(u), func(a adminAssignee, v int32) int { return int(a.idx - v) })
	o.adminUsers = slices.Insert(o.adminUsers, k, adminAssignee{idx: int32(u), roles: []roleAssign{ra}})
}

func (sc *scen) supportImpersonation() {
	o := sc.o
	adm := sc.victim(sc.t, sc.t+4*hour, true)
	if adm < 0 {
		return
	}
	h := sc.home(adm)
	t := sc.t
	g := h
	g.debug = [][2]string{{"requestUri", "/api/v1/org/privacy/oktaSupport/grant"}, {"url", "/api/v1/org/privacy/oktaSupport/grant?"}}
	o.ins(t, "user.session.impersonation.grant", akUser, int32(adm), ocSuccess, &g, userRef(adm))
	agent := "support.agent" + itoa(10+sc.r.intn(89)) + "@okta.com"
	support := &rawObj{id: "00u" + b64id(o.seed, 0x73757070, 0, 17), typ: "SystemPrincipal", alt: agent, disp: "Okta Support"}
	orig := `{"id":"` + support.id + `","type":"User","alternateId":"` + agent + `","displayName":"Okta Support"}`
	sip := "35.80." + itoa(1+sc.r.intn(254)) + "." + itoa(1+sc.r.intn(254))
	sup := evOverride{ip: sip, pl: &places[0], isp: &isps[2], ua: uaHeadless, sess: "102" + b64id(o.seed, 0x696d7073, uint64(adm), 22)}
	t += 2*hour + int64(sc.r.intn(3600))*second
	in := sup
	in.actor = support
	in.debug = [][2]string{{"requestUri", "/api/internal/support/impersonation/initiate"}, {"originalPrincipal", orig}}
	o.ins(t, "user.session.impersonation.initiate", akSystem, 0, ocSuccess, &in, userRef(adm))
	// Admin actions in the impersonated session: the admin is the actor,
	// the support engineer the original principal.
	as := sup
	as.debug = [][2]string{{"requestUri", "/admin/sso/request"}, {"originalPrincipal", orig}}
	o.ins(t+time2(sc.r), "user.session.access_admin_app", akUser, int32(adm), ocSuccess, &as, tref{kind: tkApp, a: 0})
	if len(o.policies) > 0 {
		p := sc.r.intn(len(o.policies))
		pu := sup
		pu.debug = [][2]string{{"requestUri", "/api/v1/policies/" + o.ids.id(kPolicy, p)}, {"originalPrincipal", orig}}
		pu.change = [3]string{`{"from":{"description":"` + o.policies[p].typ + ` policy"},"to":{"description":"` + o.policies[p].typ + ` policy (reviewed)"}}`}
		t2 := t + 12*minute
		o.ins(t2, "policy.lifecycle.update", akUser, int32(adm), ocSuccess, &pu, tref{kind: tkPolicy, a: int32(p)})
		o.policies[p].lastUpd = max(o.policies[p].lastUpd, t2)
	}
	if v := sc.victim(t, t+hour, false); v >= 0 {
		fr := sup
		fr.debug = [][2]string{{"requestUri", "/api/v1/users/" + o.ids.id(kUser, v) + "/lifecycle/reset_factors"}, {"originalPrincipal", orig}}
		o.ins(t+18*minute, "user.mfa.factor.reset_all", akUser, int32(adm), ocSuccess, &fr, userRef(v))
	}
	end := sup
	end.actor = support
	end.debug = [][2]string{{"requestUri", "/api/internal/support/impersonation/end"}, {"originalPrincipal", orig}}
	o.ins(t+31*minute, "user.session.impersonation.end", akSystem, 0, ocSuccess, &end, userRef(adm))
}

func (sc *scen) rogueIdP() {
	o := sc.o
	adm := sc.victim(sc.t, sc.t+4*hour, true)
	if adm < 0 {
		return
	}
	ip := sc.proxyIP(11)
	pl := &farPlaces[1]
	att := evOverride{ip: ip, pl: pl, isp: &isps[11], ua: uaLinuxFF, sess: "102" + b64id(o.seed, 0x726f6775, uint64(adm), 22)}
	i := o.idps
	o.idps++
	t := sc.t
	o.idpExtra = append(o.idpExtra, idpDef{typ: "SAML2", name: "Okta SSO Backup", protocol: "SAML2", issuer: "https://sso-backup.idp-cloud.example/saml", created: t})
	id := o.ids.id(kIdP, i)
	c := att
	c.debug = [][2]string{{"requestUri", "/api/v1/idps"}, {"url", "/api/v1/idps?"}}
	o.ins(t, "system.idp.lifecycle.create", akUser, int32(adm), ocSuccess, &c, tref{kind: tkIdP, a: int32(i)})
	ac := att
	ac.debug = [][2]string{{"requestUri", "/api/v1/idps/" + id + "/lifecycle/activate"}}
	o.ins(t+2*minute, "system.idp.lifecycle.activate", akUser, int32(adm), ocSuccess, &ac, tref{kind: tkIdP, a: int32(i)})
	for k := range 4 {
		v := sc.victim(t, t+4*hour, k == 3 && len(o.logs.admins) > 2)
		if v < 0 {
			v = sc.victim(t, t+4*hour, false)
		}
		if v < 0 {
			continue
		}
		s := att
		s.sess = "102" + b64id(o.seed, 0x726f6776, uint64(v), 22)
		s.cred = "ASSERTION"
		s.debug = [][2]string{{"requestUri", "/sso/saml2/" + id}, {"url", "/sso/saml2/" + id + "?"}, {"behaviors", allNewBehaviors}}
		o.ins(t+25*minute+int64(k)*11*minute, "user.authentication.auth_via_IDP", akUser, int32(v), ocSuccess, &s, tref{kind: tkIdP, a: int32(i)})
	}
}

var passwordWords = []string{"Summer", "Winter", "Spring", "Autumn", "Welcome", "Dragon", "Sunshine", "Monkey"}

func (sc *scen) passwordInUsername() {
	o := sc.o
	u := sc.victim(sc.t, sc.t+hour, false)
	if u < 0 {
		return
	}
	typed := pick(sc.r, passwordWords) + itoa(2019+sc.r.intn(7)) + pick(sc.r, []string{"!", "#", "$", "?"}) + itoa(sc.r.intn(10))
	h := sc.home(u)
	f := h
	f.sess = "unknown"
	f.actor = &rawObj{id: "unknown", typ: "User", alt: typed, disp: "unknown"}
	f.reason = "VERIFICATION_ERROR"
	f.debug = sc.signInDebug("/idp/idx/identify", "", "", "false")
	o.ins(sc.t, "user.session.start", akUser, int32(u), ocFailure, &f)
	s := h
	s.debug = sc.signInDebug("/idp/idx/identify", "{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}", "{level=LOW}", "false")
	t := sc.t + 25*second + int64(sc.r.intn(20))*second
	o.ins(t, "user.session.start", akUser, int32(u), ocSuccess, &s)
	sc.signedIn(u, t)
}
