package oktasim

import (
	"sort"
)

// The System Log agrees with the directory: procedural events are bent to
// the org's state (consistent), and the changes the state implies inside the
// log's span are inserted at their times (genHistory), together with a
// background admin timeline on short-lived objects.

// sessionLike reports whether events of type e need a signed-in user: a user
// actor that is not an admin acting on the directory.
func sessionLike(e *evDef) bool { return e.actor == akUser && e.debug != dbgAdmin }

// consistent makes procedural event p agree with the directory at its time:
// its user is ACTIVE then (and one whose last sign-in is at or after it, for
// a successful sign-in), its app is one the user is assigned to, a
// provisioning push names an assignment. Its own random stream, so the other
// draws of the event stay.
func (ls *logStore) consistent(lr *logRec, p int) {
	e := &evCatalog[lr.et]
	r := newRng(ls.seed, 0x636f6e73, uint64(p))
	t := lr.persist
	if lr.actorKind != akUser {
		if lr.nt == 3 && lr.t[0].kind == tkAppUser { // provisioning pushes
			for range 8 {
				u := ls.activeUser(r, t)
				if u < 0 {
					break
				}
				if a := ls.assignedApp(r, u); int(a) >= len(builtinApps) {
					lr.t[0].a, lr.t[0].b, lr.t[1].a, lr.t[2].a = u, a, a, u
					return
				}
			}
			lr.nt = 0
			lr.et = evt("system.org.rate_limit.warning")
		}
		return
	}
	if !sessionLike(e) {
		return
	}
	u := lr.actor
	switch {
	case lr.et == evSessionStart && lr.outcome == ocSuccess:
		if u = ls.loginUser(r, t); u < 0 {
			// Nobody's last sign-in is this late: a step-up verification.
			lr.et, lr.nt = evVerify, 1
			lr.t[0] = tref{kind: tkEnrollment}
			u = ls.activeUser(r, t)
		}
	case e.typ == "user.session.access_admin_app":
		u = -1
		for range 8 {
			if len(ls.admins) == 0 {
				break
			}
			if a := ls.admins[r.intn(len(ls.admins))]; ls.activeAt(a, t) {
				u = a
				break
			}
		}
	case e.typ == "user.authentication.auth_via_AD_agent" && !ls.hasAD:
		lr.et, lr.nt = evVerify, 1
		lr.t[0] = tref{kind: tkEnrollment}
		if !ls.activeAt(u, t) {
			u = ls.activeUser(r, t)
		}
	default:
		if !ls.activeAt(u, t) {
			u = ls.activeUser(r, t)
		}
	}
	if u < 0 {
		lr.actorKind, lr.actor, lr.nt = akSystem, 0, 0
		lr.et = evt("system.org.rate_limit.warning")
		lr.outcome = ocSuccess
		return
	}
	lr.actor = u
	for k := range int(lr.nt) {
		tr := &lr.t[k]
		switch tr.kind {
		case tkUser, tkEnrollment:
			tr.a = u
		case tkApp:
			a := int32(0) // the Okta Admin Console
			if e.typ != "user.session.access_admin_app" {
				a = ls.assignedApp(r, u)
			}
			tr.a = a
			for m := range int(lr.nt) {
				if lr.t[m].kind == tkAppUser {
					lr.t[m].a, lr.t[m].b = u, a
				}
			}
		}
	}
}

// activeUser draws a user ACTIVE at t, or -1.
func (ls *logStore) activeUser(r *rng, t int64) int32 {
	if ls.users0 == 0 {
		return -1
	}
	for range 24 {
		if u := int32(r.intn(ls.users0)); ls.activeAt(u, t) {
			return u
		}
	}
	return ls.loginUser(r, t)
}

// loginUser draws a user ACTIVE at t whose last sign-in is at or after t,
// or -1.
func (ls *logStore) loginUser(r *rng, t int64) int32 {
	k0 := sort.Search(len(ls.lastAt), func(k int) bool { return ls.lastAt[k] >= t })
	n := len(ls.lastAt) - k0
	if n <= 0 {
		return -1
	}
	for range 8 {
		if u := ls.byLast[k0+r.intn(n)]; ls.activeAt(u, t) {
			return u
		}
	}
	return -1
}

// assignedApp draws an active app user u is assigned to (as generated), or
// the Okta Dashboard, which every user has.
func (ls *logStore) assignedApp(r *rng, u int32) int32 {
	if n := len(ls.ssoApps); n > 0 {
		s := r.intn(n)
		for i := range n {
			a := int(ls.ssoApps[(s+i)%n])
			if initiallyAssigned(ls.seed, a, int(u), appUserThreshold(ls.seed, a)) {
				return int32(a)
			}
		}
	}
	return 1
}

// histAdmin returns an ACTIVE admin to act at time t (the actor kind and
// user), or the Okta system.
func (o *org) histAdmin(r *rng, t int64) (uint8, int32) {
	ls := &o.logs
	for range 8 {
		if len(ls.admins) == 0 {
			break
		}
		if a := ls.admins[r.intn(len(ls.admins))]; ls.activeAt(a, t) {
			return akUser, a
		}
	}
	return akSystem, 0
}

// ins inserts an event of type typ published at t.
func (o *org) ins(t int64, typ string, ak uint8, actor int32, outcome uint8, ov *evOverride, targets ...tref) {
	if t >= o.now {
		return // a story longer than a very short log; the log ends now
	}
	lr := logRec{et: evt(typ), actorKind: ak, actor: actor, outcome: outcome, published: t}
	for _, tr := range targets {
		lr.t[lr.nt] = tr
		lr.nt++
	}
	if ov != nil {
		lr.ov = o.logs.override(*ov)
	}
	o.logs.insert(lr, o.now)
}

func userRef(u int) tref { return tref{kind: tkUser, a: int32(u), b: -1} }

// inSpan reports whether t lies inside the log's span (and before now).
func (o *org) inSpan(t int64) bool { return t >= o.logs.start && t < o.now }

// genHistory inserts the events the generated state implies inside the
// span, and the background admin timeline.
func (o *org) genHistory() {
	ls := &o.logs
	for i := range ls.users0 {
		u := &o.users[i]
		r := newRng(o.seed, 0x68697374, uint64(i))
		if o.inSpan(u.created) {
			k, a := o.histAdmin(r, u.created)
			o.ins(u.created, "user.lifecycle.create", k, a, ocSuccess, nil, userRef(i))
		}
		if u.activated != 0 && o.inSpan(u.activated) {
			k, a := o.histAdmin(r, u.activated)
			o.ins(u.activated, "user.lifecycle.activate", k, a, ocSuccess, nil, userRef(i))
		}
		t := u.statusChanged
		if !o.inSpan(t) {
			continue
		}
		k, a := o.histAdmin(r, t)
		switch u.status {
		case stLockedOut:
			o.lockOut(r, i, t)
		case stSuspended:
			o.ins(t, "user.lifecycle.suspend", k, a, ocSuccess, nil, userRef(i))
		case stDeprovisioned:
			o.ins(t, "user.lifecycle.deactivate", k, a, ocSuccess, nil, userRef(i))
		case stRecovery:
			o.ins(t, "user.account.reset_password", k, a, ocSuccess, nil, userRef(i))
		case stPasswordExpired:
			o.ins(t, "user.account.expire_password", k, a, ocSuccess, nil, userRef(i))
		}
	}
	// Admin roles assigned inside the span.
	for _, as := range o.adminUsers {
		for _, ra := range as.roles {
			if o.inSpan(ra.created) && int(as.idx) < ls.users0 {
				r := newRng(o.seed, 0x67726e74, uint64(ra.id))
				k, a := o.histAdmin(r, ra.created)
				if a == as.idx {
					k, a = akSystem, 0
				}
				ov := &evOverride{debug: [][2]string{{"requestUri", "/api/v1/users/" + o.ids.id(kUser, int(as.idx)) + "/roles"},
					{"privilegeGranted", o.roleLabel(ra)}}}
				o.ins(ra.created, "user.account.privilege.grant", k, a, ocSuccess, ov, userRef(int(as.idx)))
			}
		}
	}
	for _, as := range o.adminGroups {
		for _, ra := range as.roles {
			if o.inSpan(ra.created) {
				r := newRng(o.seed, 0x67726e74, uint64(ra.id))
				k, a := o.histAdmin(r, ra.created)
				ov := &evOverride{debug: [][2]string{{"requestUri", "/api/v1/groups/" + o.ids.id(kGroup, int(as.idx)) + "/roles"},
					{"privilegeGranted", o.roleLabel(ra)}}}
				o.ins(ra.created, "group.privilege.grant", k, a, ocSuccess, ov, tref{kind: tkGroup, a: as.idx})
			}
		}
	}
	o.adminTimeline()
}

func (o *org) roleLabel(ra roleAssign) string {
	if ra.std >= 0 {
		return rolesStd[ra.std].label
	}
	return customRoleDefs[ra.custom].label
}

// lockOut logs user i's failed sign-ins and the lock at t (the user then
// stays LOCKED_OUT, or is unlocked by a later event).
func (o *org) lockOut(r *rng, i int, t int64) {
	fail := &evOverride{reason: "INVALID_CREDENTIALS"}
	o.ins(t-95*second-int64(r.intn(60))*second, "user.session.start", akUser, int32(i), ocFailure, fail)
	o.ins(t-20*second-int64(r.intn(15))*second, "user.session.start", akUser, int32(i), ocFailure, fail)
	o.ins(t, "user.account.lock", akSystem, 0, ocSuccess, nil, userRef(i))
	o.ins(t+2*second, "user.account.lock.limit", akSystem, 0, ocSuccess, nil, userRef(i))
	o.ins(t+40*second+int64(r.intn(60))*second, "user.session.start", akUser, int32(i), ocFailure, &evOverride{reason: "LOCKED_OUT"})
}

// Policy kinds of the admin timeline's short-lived policies, with a name.
var timelinePolicies = []struct{ typ, name string }{
	{"ACCESS_POLICY", "App sign-on policy - pilot"},
	{"OKTA_SIGN_ON", "Global session policy - contractors"},
	{"PASSWORD", "Password policy - service accounts"},
	{"MFA_ENROLL", "Authenticator enrollment - pilot"},
	{"PROFILE_ENROLLMENT", "Self-service registration - test"},
	{"IDP_DISCOVERY", "IdP routing - test"},
}

// rawTarget is a target the directory does not keep (a short-lived object,
// a phantom): rendered from its fields.
func rawTarget(id, typ, alt, disp, detail string) rawObj {
	return rawObj{id: id, typ: typ, alt: alt, disp: disp, detail: detail}
}

// adminTimeline inserts the background admin work of a real org, each story
// on objects that do not outlive it (so the directory agrees): a network
// zone tried and removed, a policy of each kind drafted and dropped, an app
// integration set up and removed, an old API token revoked, resource-set
// bindings added and removed, factors reset and re-enrolled, lock-outs a
// help desk unlocks, a suspension lifted. Roughly one of each a week.
func (o *org) adminTimeline() {
	ls := &o.logs
	span := o.now - hour - ls.start
	if span <= 6*hour || ls.users0 == 0 {
		return
	}
	weeks := max(1, int(span/(7*day)))
	for w := range weeks {
		r := newRng(o.seed, 0x74696d65, uint64(w))
		// at draws a story's start in week w; a story of the given length
		// that would run past the hour before now starts earlier, so that
		// every story ends before now (the directory shows none of them).
		at := func(length int64) int64 {
			t := ls.start + int64(w)*span/int64(weeks) + between(r, hour, span/int64(weeks)-5*hour)
			if end := o.now - hour; t+length > end {
				t = max(ls.start, end-length)
			}
			return t
		}
		n := w*16 + 1

		// A network zone, from creation to deletion in an afternoon.
		t := at(3*hour + 10*minute)
		k, a := o.histAdmin(r, t)
		zid := o.ids.id(kZone, phantomBase+n)
		zname := pick(r, []string{"Partner VPN", "Branch office", "Pen-test egress", "Vendor allowlist"}) + " " + itoa(w+1)
		zt := []rawObj{rawTarget(zid, "NetworkZone", "unknown", zname, "")}
		o.ins(t, "zone.create", k, a, ocSuccess, &evOverride{targets: zt, debug: [][2]string{{"requestUri", "/api/v1/zones"}}})
		o.ins(t+2*minute, "zone.activate", k, a, ocSuccess, &evOverride{targets: zt, debug: [][2]string{{"requestUri", "/api/v1/zones/" + zid + "/lifecycle/activate"}}})
		zu := []rawObj{zt[0]}
		zu[0].change = `{"from":{"gateways":[{"type":"CIDR","value":"198.51.100.0/28"}]},"to":{"gateways":[{"type":"CIDR","value":"198.51.100.0/27"}]}}`
		o.ins(t+30*minute, "zone.update", k, a, ocSuccess, &evOverride{targets: zu, debug: [][2]string{{"requestUri", "/api/v1/zones/" + zid}}})
		o.ins(t+3*hour, "zone.deactivate", k, a, ocSuccess, &evOverride{targets: zt, debug: [][2]string{{"requestUri", "/api/v1/zones/" + zid + "/lifecycle/deactivate"}}})
		o.ins(t+3*hour+time2(r), "zone.delete", k, a, ocSuccess, &evOverride{targets: zt, debug: [][2]string{{"requestUri", "/api/v1/zones/" + zid}}})

		// A policy of one kind, with a rule, drafted and dropped.
		t = at(2*day + 15*minute)
		k, a = o.histAdmin(r, t)
		pd := timelinePolicies[w%len(timelinePolicies)]
		pid, rid := o.ids.id(kPolicy, phantomBase+n), o.ids.id(kPolicyRule, phantomBase+n)
		pol := rawTarget(pid, "PolicyEntity", "unknown", pd.name, `{"policyType":"`+pd.typ+`"}`)
		rule := rawTarget(rid, "PolicyRule", "unknown", "Pilot rule", `{"policyRuleFactorMode":"2FA"}`)
		puri := [][2]string{{"requestUri", "/api/v1/policies/" + pid}}
		ruri := [][2]string{{"requestUri", "/api/v1/policies/" + pid + "/rules/" + rid}}
		o.ins(t, "policy.lifecycle.create", k, a, ocSuccess, &evOverride{targets: []rawObj{pol}, debug: [][2]string{{"requestUri", "/api/v1/policies"}}})
		o.ins(t+3*minute, "policy.rule.add", k, a, ocSuccess, &evOverride{targets: []rawObj{pol, rule}, debug: ruri})
		o.ins(t+4*minute, "policy.rule.activate", k, a, ocSuccess, &evOverride{targets: []rawObj{pol, rule}, debug: ruri})
		o.ins(t+5*minute, "policy.lifecycle.activate", k, a, ocSuccess, &evOverride{targets: []rawObj{pol}, debug: puri})
		ru := rule
		ru.change = `{"from":{"actions":{"signon":{"session":{"maxSessionIdleMinutes":120}}}},"to":{"actions":{"signon":{"session":{"maxSessionIdleMinutes":60}}}}}`
		o.ins(t+40*minute, "policy.rule.update", k, a, ocSuccess, &evOverride{targets: []rawObj{pol, ru}, debug: ruri})
		t2 := t + 2*day + time2(r)
		o.ins(t2, "policy.rule.deactivate", k, a, ocSuccess, &evOverride{targets: []rawObj{pol, rule}, debug: ruri})
		o.ins(t2+minute, "policy.rule.delete", k, a, ocSuccess, &evOverride{targets: []rawObj{pol, rule}, debug: ruri})
		o.ins(t2+2*minute, "policy.lifecycle.deactivate", k, a, ocSuccess, &evOverride{targets: []rawObj{pol}, debug: puri})
		o.ins(t2+3*minute, "policy.lifecycle.delete", k, a, ocSuccess, &evOverride{targets: []rawObj{pol}, debug: puri})

		// An app integration tried out and removed.
		t = at(day + 15*minute)
		k, a = o.histAdmin(r, t)
		aid := o.ids.id(kApp, phantomBase+n)
		tmpl := appCatalog[r.intn(len(appCatalog))]
		app := rawTarget(aid, "AppInstance", tmpl.label+" (trial)", tmpl.label+" (trial)", `{"signOnModeType":"`+tmpl.mode+`"}`)
		auri := [][2]string{{"requestUri", "/api/v1/apps/" + aid}}
		o.ins(t, "application.lifecycle.create", k, a, ocSuccess, &evOverride{targets: []rawObj{app}, debug: [][2]string{{"requestUri", "/api/v1/apps"}}})
		o.ins(t+time2(r), "application.lifecycle.activate", k, a, ocSuccess, &evOverride{targets: []rawObj{app}, debug: auri})
		au := app
		au.change = `{"from":{"label":"` + tmpl.label + `"},"to":{"label":"` + tmpl.label + ` (trial)"}}`
		o.ins(t+20*minute, "application.lifecycle.update", k, a, ocSuccess, &evOverride{targets: []rawObj{au}, debug: auri})
		t2 = t + day + time2(r)
		o.ins(t2, "application.lifecycle.deactivate", k, a, ocSuccess, &evOverride{targets: []rawObj{app}, debug: auri})
		o.ins(t2+minute, "application.lifecycle.delete", k, a, ocSuccess, &evOverride{targets: []rawObj{app}, debug: auri})

		// An old API token revoked (no longer listed).
		t = at(0)
		k, a = o.histAdmin(r, t)
		tid := o.ids.id(kAPIToken, phantomBase+n)
		o.ins(t, "system.api_token.revoke", k, a, ocSuccess, &evOverride{targets: []rawObj{rawTarget(tid, "Token", "unknown",
			pick(r, []string{"Old SIEM export", "Legacy provisioning", "Former contractor script"}), "")},
			debug: [][2]string{{"requestUri", "/api/v1/api-tokens/" + tid}}})

		// A resource-set binding added for a week, then removed.
		if len(o.resourceSets) > 0 && len(o.customRoles) > 0 {
			t = at(0) // the removal is clamped below
			k, a = o.histAdmin(r, t)
			rs := r.intn(len(o.resourceSets))
			rsid := o.ids.id(kResourceSet, rs)
			role := r.intn(len(o.customRoles))
			tg := []rawObj{rawTarget(rsid, "ResourceSet", "unknown", resourceSetLabel(rs), ""),
				rawTarget(o.ids.id(kCustomRole, role), "CUSTOM_ROLE", "unknown", customRoleDefs[role].label, "")}
			uri := [][2]string{{"requestUri", "/api/v1/iam/resource-sets/" + rsid + "/bindings"}}
			o.ins(t, "iam.resourceset.bindings.add", k, a, ocSuccess, &evOverride{targets: tg, debug: uri})
			o.ins(t+min(5*day, o.now-hour-t-minute), "iam.resourceset.bindings.delete", k, a, ocSuccess, &evOverride{targets: tg, debug: uri})
		}

		// A user's factors reset by the help desk, then enrolled again.
		t = at(hour)
		k, a = o.histAdmin(r, t)
		if u := ls.activeUser(r, t); u >= 0 && ls.activeAt(u, t+hour) {
			o.ins(t, "user.mfa.factor.reset_all", k, a, ocSuccess, nil, userRef(int(u)))
			o.ins(t+25*minute+time2(r), "user.mfa.factor.activate", akUser, u, ocSuccess,
				&evOverride{debug: [][2]string{{"requestUri", "/idp/idx/credential/enroll"}, {"factor", "OKTA_VERIFY_PUSH"}, {"factorIntent", "ENROLLMENT"}}}, userRef(int(u)))
		}

		// A lock-out the help desk unlocks.
		t = at(2 * hour)
		if u := ls.activeUser(r, t); u >= 0 && ls.activeAt(u, t+2*hour) && o.users[u].status == stActive {
			o.lockOut(r, int(u), t)
			k, a = o.histAdmin(r, t)
			end := t + 20*minute + time2(r)
			o.ins(end, "user.account.unlock", k, a, ocSuccess, nil, userRef(int(u)))
			ls.blackout[u] = append(ls.blackout[u], userWin{t - 5*minute, end})
		}

		// A suspension lifted the next day.
		t = at(2 * day)
		if u := ls.activeUser(r, t); u >= 0 && ls.activeAt(u, t+2*day) && o.users[u].status == stActive {
			k, a = o.histAdmin(r, t)
			end := t + day + time2(r)
			o.ins(t, "user.lifecycle.suspend", k, a, ocSuccess, nil, userRef(int(u)))
			o.ins(end, "user.lifecycle.unsuspend", k, a, ocSuccess, nil, userRef(int(u)))
			ls.blackout[u] = append(ls.blackout[u], userWin{t, end})
		}

		// A privilege revoked from a user holding none any more.
		t = at(0)
		if u := ls.activeUser(r, t); u >= 0 && !o.userHasRole(int(u)) {
			k, a = o.histAdmin(r, t)
			o.ins(t, "user.account.privilege.revoke", k, a, ocSuccess,
				&evOverride{debug: [][2]string{{"requestUri", "/api/v1/users/" + o.ids.id(kUser, int(u)) + "/roles"}, {"privilegeRevoked", "Read-only Administrator"}}}, userRef(int(u)))
		}

		// The inactive Facebook IdP was deactivated in the first week.
		if w == 0 && len(idpDefs) > 4 {
			t = at(0)
			k, a = o.histAdmin(r, t)
			o.ins(t, "system.idp.lifecycle.deactivate", k, a, ocSuccess, &evOverride{debug: [][2]string{{"requestUri", "/api/v1/idps/" + o.ids.id(kIdP, 4) + "/lifecycle/deactivate"}}},
				tref{kind: tkIdP, a: 4})
		}
	}
}

// time2 is a few minutes, at random.
func time2(r *rng) int64 { return int64(1+r.intn(9))*minute + int64(r.intn(60))*second }

func (o *org) userHasRole(u int) bool {
	for _, a := range o.adminUsers {
		if int(a.idx) == u {
			return true
		}
	}
	return false
}

func resourceSetLabel(s int) string { return resourceSetDefs[s].label }
