package oktasim

import (
	"bytes"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// allLogs reads the whole System Log of s over HTTP (a bounded query, in
// published order).
func allLogs(t testing.TB, s *Sim, base string) []map[string]any {
	t.Helper()
	since := url.QueryEscape(fmtTS(s.o.logs.start - day))
	until := url.QueryEscape(fmtTS(s.o.now + 1))
	evs, _ := pageAll(t, base+"/api/v1/logs?limit=1000&since="+since+"&until="+until)
	return evs
}

func pubMs(t testing.TB, e map[string]any) int64 {
	ts, err := time.Parse(time.RFC3339Nano, str(e, "published"))
	if err != nil {
		t.Fatalf("published %q: %v", str(e, "published"), err)
	}
	return ts.UnixMilli()
}

func targetsOf(e map[string]any) []map[string]any {
	ts, _ := e["target"].([]any)
	var out []map[string]any
	for _, x := range ts {
		out = append(out, x.(map[string]any))
	}
	return out
}

func firstTarget(e map[string]any, typ string) map[string]any {
	for _, tg := range targetsOf(e) {
		if tg["type"] == typ {
			return tg
		}
	}
	return nil
}

func debug(e map[string]any, k string) string { return str(e, "debugContext.debugData."+k) }

func geoKm(e map[string]any) *place {
	g, _ := path(e, "client.geographicalContext.geolocation").(map[string]any)
	if g == nil {
		return nil
	}
	return &place{lat: g["lat"].(float64), lon: g["lon"].(float64)}
}

var scenarioOrg = Config{Seed: 3, Users: 400, Logs: 4000, Scenarios: []string{"all"}}

// TestScenariosTellTheirStories: each scenario's events are in the log with
// the contract's shape, and the directory agrees with them afterwards.
func TestScenariosTellTheirStories(t *testing.T) {
	s, base := startSim(t, scenarioOrg)
	evs := allLogs(t, s, base)
	byType := map[string][]map[string]any{}
	for _, e := range evs {
		byType[str(e, "eventType")] = append(byType[str(e, "eventType")], e)
	}
	fails := func(filter func(map[string]any) bool) []map[string]any {
		var out []map[string]any
		for _, e := range byType["user.session.start"] {
			if str(e, "outcome.result") == "FAILURE" && filter(e) {
				out = append(out, e)
			}
		}
		return out
	}

	t.Run("password_spray", func(t *testing.T) {
		byIP := map[string]map[string]bool{}
		for _, e := range fails(func(e map[string]any) bool {
			return path(e, "securityContext.isProxy") == true && str(e, "outcome.reason") == "INVALID_CREDENTIALS" &&
				str(e, "legacyEventType") == "core.user_auth.login_failed"
		}) {
			ip := str(e, "client.ipAddress")
			if byIP[ip] == nil {
				byIP[ip] = map[string]bool{}
			}
			byIP[ip][str(e, "actor.alternateId")] = true
		}
		best := 0
		for _, us := range byIP {
			best = max(best, len(us))
		}
		if best < 20 {
			t.Errorf("no proxy IP failed for >= 20 users; best %d", best)
		}
		spray := 0
		for _, e := range byType["security.threat.detected"] {
			if str(e, "outcome.result") == "DENY" && strings.Contains(debug(e, "threatDetections"), "Password Spray") {
				spray++
			}
		}
		if spray == 0 {
			t.Error("no security.threat.detected DENY naming Password Spray")
		}
	})

	t.Run("credential_stuffing", func(t *testing.T) {
		users, ips, reasons := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, e := range fails(func(e map[string]any) bool { return path(e, "securityContext.asNumber") == float64(14061) }) {
			users[str(e, "actor.alternateId")] = true
			ips[str(e, "client.ipAddress")] = true
			reasons[str(e, "outcome.reason")] = true
			if !strings.Contains(debug(e, "risk"), "HIGH") {
				t.Errorf("stuffing failure without HIGH risk: %v", debug(e, "risk"))
			}
		}
		if len(users) < 12 || len(ips) < 5 || !reasons["INVALID_CREDENTIALS"] || !reasons["VERIFICATION_ERROR"] {
			t.Errorf("stuffing: %d users, %d IPs, reasons %v", len(users), len(ips), reasons)
		}
		challenged := 0
		for _, e := range byType["policy.evaluate_sign_on"] {
			if str(e, "outcome.result") == "CHALLENGE" && path(e, "securityContext.asNumber") == float64(14061) {
				challenged++
			}
		}
		if challenged == 0 {
			t.Error("no successful stuffing sign-in met an MFA challenge")
		}
	})

	t.Run("mfa_push_fatigue", func(t *testing.T) {
		pushes := map[string][]int64{}
		for _, e := range byType["system.push.send_factor_verify_push"] {
			pushes[str(e, "actor.id")] = append(pushes[str(e, "actor.id")], pubMs(t, e))
		}
		victim := ""
		for u, ts := range pushes {
			sort.Slice(ts, func(a, b int) bool { return ts[a] < ts[b] })
			for k := 0; k+7 < len(ts); k++ {
				if ts[k+7]-ts[k] <= 15*minute {
					victim = u
				}
			}
		}
		if victim == "" {
			t.Fatal("no user got >= 8 pushes within 15 minutes")
		}
		denied, accepted := 0, false
		for _, e := range byType["user.mfa.okta_verify.deny_push"] {
			if str(e, "actor.id") == victim && str(e, "outcome.result") == "FAILURE" && str(e, "outcome.reason") == "User rejected Okta push verify" {
				denied++
			}
		}
		for _, e := range byType["user.authentication.auth_via_mfa"] {
			if str(e, "actor.id") == victim && str(e, "outcome.result") == "SUCCESS" && debug(e, "factor") == "OKTA_VERIFY_PUSH" {
				accepted = true
			}
		}
		if denied < 5 || !accepted {
			t.Errorf("push fatigue: %d denies, accepted %v", denied, accepted)
		}
	})

	t.Run("session_replay", func(t *testing.T) {
		countries := map[string]map[string]bool{}
		for _, e := range evs {
			sid := str(e, "authenticationContext.rootSessionId")
			if sid == "" || sid == "unknown" || str(e, "outcome.result") == "FAILURE" {
				continue
			}
			if countries[sid] == nil {
				countries[sid] = map[string]bool{}
			}
			countries[sid][str(e, "client.geographicalContext.country")+"|"+str(e, "client.userAgent.rawUserAgent")] = true
		}
		replayed := 0
		for _, cs := range countries {
			seen := map[string]bool{}
			for k := range cs {
				seen[strings.SplitN(k, "|", 2)[0]] = true
			}
			if len(seen) > 1 {
				replayed++
			}
		}
		if replayed != 1 {
			t.Errorf("%d sessions used from two countries, want the replayed one", replayed)
		}
		if len(byType["security.session.detect_client_roaming"]) == 0 {
			t.Error("no security.session.detect_client_roaming")
		}
		phish := 0
		for _, e := range byType["user.authentication.auth_via_mfa"] {
			if str(e, "outcome.reason") == "FastPass declined phishing attempt" {
				phish++
			}
		}
		if phish == 0 {
			t.Error("no FastPass phishing refusal")
		}
	})

	t.Run("impossible_travel", func(t *testing.T) {
		last := map[string]map[string]any{}
		found := false
		for _, e := range evs {
			if str(e, "eventType") != "user.session.start" || str(e, "outcome.result") != "SUCCESS" {
				continue
			}
			u := str(e, "actor.id")
			if p := last[u]; p != nil && pubMs(t, e)-pubMs(t, p) <= hour {
				if a, b := geoKm(p), geoKm(e); a != nil && b != nil && distanceKm(a, b) > 5000 {
					found = true
					if !strings.Contains(debug(e, "behaviors"), "Velocity=POSITIVE") {
						t.Errorf("far sign-in without Velocity=POSITIVE: %s", debug(e, "behaviors"))
					}
				}
			}
			last[u] = e
		}
		if !found {
			t.Error("no two sign-ins > 5000 km apart within an hour")
		}
	})

	t.Run("privilege_escalation", func(t *testing.T) {
		var grant map[string]any
		for _, e := range byType["user.account.privilege.grant"] {
			if debug(e, "privilegeGranted") == "Super administrator" {
				grant = e
			}
		}
		if grant == nil {
			t.Fatal("no grant of Super administrator")
		}
		uid := firstTarget(grant, "User")["id"].(string)
		_, b := getOK(t, base+"/api/v1/users/"+uid+"/roles")
		if !bytes.Contains(b, []byte(`"type":"SUPER_ADMIN"`)) {
			t.Errorf("granted user's roles lack SUPER_ADMIN: %s", b)
		}
		tokens := byType["system.api_token.create"]
		if len(tokens) != 1 {
			t.Fatalf("%d api_token.create events", len(tokens))
		}
		tid := targetsOf(tokens[0])[0]["id"].(string)
		_, b = getOK(t, base+"/api/v1/api-tokens")
		if !bytes.Contains(b, []byte(tid)) {
			t.Errorf("created token %s not listed", tid)
		}
		var zd map[string]any
		for _, e := range byType["zone.deactivate"] {
			if str(e, "actor.id") == uid {
				zd = e
			}
		}
		if zd == nil {
			t.Fatal("no zone.deactivate by the new super admin")
		}
		_, b = getOK(t, base+"/api/v1/zones/"+targetsOf(zd)[0]["id"].(string))
		if str(decodeObj(t, b), "status") != "INACTIVE" {
			t.Errorf("deactivated zone is %s", str(decodeObj(t, b), "status"))
		}
		if pubMs(t, zd)-pubMs(t, grant) > 30*minute {
			t.Errorf("escalation took %v", time.Duration(pubMs(t, zd)-pubMs(t, grant))*time.Millisecond)
		}
		changed := false
		for _, e := range byType["policy.rule.update"] {
			for _, tg := range targetsOf(e) {
				if tg["changeDetails"] != nil && str(e, "actor.id") == uid {
					changed = true
				}
			}
		}
		if !changed {
			t.Error("no policy.rule.update with changeDetails by the new super admin")
		}
	})

	t.Run("support_impersonation", func(t *testing.T) {
		if len(byType["user.session.impersonation.grant"]) != 1 || len(byType["user.session.impersonation.end"]) != 1 {
			t.Fatalf("impersonation grant/end: %d/%d", len(byType["user.session.impersonation.grant"]), len(byType["user.session.impersonation.end"]))
		}
		in := byType["user.session.impersonation.initiate"]
		if len(in) != 1 || !strings.HasSuffix(str(in[0], "actor.alternateId"), "@okta.com") || debug(in[0], "originalPrincipal") == "" {
			t.Errorf("impersonation initiate: %v", in)
		}
	})

	t.Run("rogue_idp", func(t *testing.T) {
		cr := byType["system.idp.lifecycle.create"]
		if len(cr) != 1 || len(byType["system.idp.lifecycle.activate"]) != 1 {
			t.Fatalf("idp create/activate: %d/%d", len(cr), len(byType["system.idp.lifecycle.activate"]))
		}
		id := targetsOf(cr[0])[0]["id"].(string)
		_, b := getOK(t, base+"/api/v1/idps/"+id)
		if str(decodeObj(t, b), "status") != "ACTIVE" {
			t.Errorf("rogue idp: %s", b)
		}
		n := 0
		for _, e := range byType["user.authentication.auth_via_IDP"] {
			if tg := firstTarget(e, "IdentityProvider"); tg != nil && tg["id"] == id {
				n++
			}
		}
		if n < 2 {
			t.Errorf("%d sign-ins through the rogue idp", n)
		}
	})

	t.Run("password_in_username", func(t *testing.T) {
		found := false
		for _, e := range fails(func(e map[string]any) bool {
			a := str(e, "actor.alternateId")
			return !strings.Contains(a, "@") && len(a) >= 8 && strings.ContainsAny(a, "0123456789")
		}) {
			for _, f := range byType["user.session.start"] {
				d := pubMs(t, f) - pubMs(t, e)
				if str(f, "outcome.result") == "SUCCESS" && str(f, "client.ipAddress") == str(e, "client.ipAddress") && d > 0 && d <= minute {
					found = true
				}
			}
		}
		if !found {
			t.Error("no password typed as a login followed by the user's success")
		}
	})
}

// TestNoScenarioBackgroundStaysQuiet: without scenarios the background
// stays under the attack shapes: failures spread over IPs, single pushes,
// no session from two countries, plausible travel, no impersonation, no IdP
// created, no DENY of ThreatInsight.
func TestNoScenarioBackgroundStaysQuiet(t *testing.T) {
	s, base := startSim(t, Config{Seed: 4, Users: 1500, Logs: 30000})
	evs := allLogs(t, s, base)
	failsByIP := map[string][]int64{}
	pushes := map[string][]int64{}
	sessCountry := map[string]string{}
	lastOK := map[string]map[string]any{}
	for _, e := range evs {
		typ, res := str(e, "eventType"), str(e, "outcome.result")
		switch {
		case res == "FAILURE" && typ == "user.session.start":
			failsByIP[str(e, "client.ipAddress")] = append(failsByIP[str(e, "client.ipAddress")], pubMs(t, e))
		case typ == "system.push.send_factor_verify_push":
			pushes[str(e, "actor.id")] = append(pushes[str(e, "actor.id")], pubMs(t, e))
		case strings.HasPrefix(typ, "user.session.impersonation") || typ == "system.idp.lifecycle.create" ||
			typ == "security.threat.detected" && res == "DENY":
			t.Errorf("background logs %s %s", typ, res)
		}
		if path(e, "securityContext.isProxy") == true {
			t.Errorf("background event through a proxy: %s", typ)
		}
		if sid := str(e, "authenticationContext.rootSessionId"); sid != "" && sid != "unknown" {
			c := str(e, "client.geographicalContext.country")
			if prev, ok := sessCountry[sid]; ok && prev != c {
				t.Errorf("session %s used from %s and %s", sid, prev, c)
			}
			sessCountry[sid] = c
		}
		if typ == "user.session.start" && res == "SUCCESS" {
			u := str(e, "actor.id")
			if p := lastOK[u]; p != nil && pubMs(t, e)-pubMs(t, p) < 2*hour {
				if a, b := geoKm(p), geoKm(e); a != nil && b != nil && distanceKm(a, b) > 500 {
					t.Errorf("user %s travelled %.0f km in under two hours", u, distanceKm(a, b))
				}
			}
			lastOK[u] = e
		}
	}
	within := func(ts []int64, n int, d int64) bool {
		sort.Slice(ts, func(a, b int) bool { return ts[a] < ts[b] })
		for k := 0; k+n-1 < len(ts); k++ {
			if ts[k+n-1]-ts[k] <= d {
				return true
			}
		}
		return false
	}
	for ip, ts := range failsByIP {
		if within(ts, 5, 10*minute) {
			t.Errorf("IP %s failed 5 sign-ins within 10 minutes", ip)
		}
	}
	for u, ts := range pushes {
		if within(ts, 3, 15*minute) {
			t.Errorf("user %s got 3 pushes within 15 minutes", u)
		}
	}
}

// TestLogAgreesWithDirectory walks the log of an org with every scenario
// and checks it against the directory: sign-ins only by users ACTIVE then,
// SSO only to assigned apps, each user's lastLogin is its last successful
// sign-in, lock-outs leave the user LOCKED_OUT or are unlocked, granted
// users hold a role.
func TestLogAgreesWithDirectory(t *testing.T) {
	s, base := startSim(t, scenarioOrg)
	o := s.o
	evs := allLogs(t, s, base)
	lastOK := map[int]int64{}
	locked := map[int]int64{}
	unlocked := map[int]int64{}
	assigned := map[string]bool{}
	for _, e := range evs {
		typ, res := str(e, "eventType"), str(e, "outcome.result")
		at := pubMs(t, e)
		u := -1
		if str(e, "actor.type") == "User" {
			u = o.userIdx(str(e, "actor.id"))
		}
		ok := res == "SUCCESS" || res == "ALLOW"
		if u >= 0 && ok && (typ == "user.session.start" || typ == "user.authentication.sso" || typ == "user.authentication.auth_via_mfa") {
			us := &o.users[u]
			if us.activated == 0 || at < us.activated || us.status != stActive && at >= us.statusChanged {
				t.Errorf("%s by %s (%s since %s) at %s", typ, o.userLogin(u), userStatusName[us.status], fmtTS(us.statusChanged), fmtTS(at))
			}
			if l, ok := locked[u]; ok && l > unlocked[u] {
				t.Errorf("%s by locked-out %s", typ, o.userLogin(u))
			}
		}
		if u >= 0 && typ == "user.session.start" && res == "SUCCESS" {
			lastOK[u] = max(lastOK[u], at)
		}
		if u >= 0 && typ == "user.authentication.sso" && ok {
			app := firstTarget(e, "AppInstance")["id"].(string)
			a := o.appIdx(app)
			if a >= len(builtinApps) {
				key := app + "/" + str(e, "actor.id")
				if _, seen := assigned[key]; !seen {
					resp, _ := get(t, base+"/api/v1/apps/"+app+"/users/"+str(e, "actor.id"), "demo-token")
					assigned[key] = resp.StatusCode == 200
				}
				if !assigned[key] {
					t.Errorf("SSO of %s to %s, not assigned", o.userLogin(u), o.apps[a].label)
				}
			}
		}
		if tg := firstTarget(e, "User"); tg != nil {
			v := o.userIdx(tg["id"].(string))
			switch typ {
			case "user.account.lock":
				locked[v] = at
			case "user.account.unlock":
				unlocked[v] = at
			case "user.account.privilege.grant":
				if !o.userHasRole(v) {
					t.Errorf("grant to %s, who holds no role", o.userLogin(v))
				}
			}
		}
	}
	for v, l := range locked {
		if unlocked[v] < l && o.users[v].status != stLockedOut {
			t.Errorf("%s locked out at %s, never unlocked, but %s", o.userLogin(v), fmtTS(l), userStatusName[o.users[v].status])
		}
	}
	checked := 0
	for i := range o.users {
		want := o.users[i].lastLogin
		if want < o.logs.start {
			if lastOK[i] != 0 {
				t.Errorf("%s: last login %s before the log, but signs in at %s", o.userLogin(i), fmtTS(want), fmtTS(lastOK[i]))
			}
			continue
		}
		checked++
		if lastOK[i] != want {
			t.Errorf("%s: lastLogin %s, last successful user.session.start %s", o.userLogin(i), fmtTS(want), fmtTS(lastOK[i]))
		}
	}
	if checked < 100 {
		t.Errorf("only %d users with a last login in the span", checked)
	}
}

// TestCatalogueBreadth: a default-size org with every scenario logs at
// least 60 distinct event types (and the background alone most of them).
func TestCatalogueBreadth(t *testing.T) {
	for _, sc := range [][]string{{"all"}, nil} {
		s, base := startSim(t, Config{Seed: 1, Scenarios: sc})
		types := map[string]bool{}
		for _, e := range allLogs(t, s, base) {
			types[str(e, "eventType")] = true
		}
		want := 60
		if sc == nil {
			want = 50
		}
		if len(types) < want {
			t.Errorf("scenarios %v: %d distinct event types, want >= %d", sc, len(types), want)
		}
		t.Logf("scenarios %v: %d distinct event types", sc, len(types))
	}
	if len(evCatalog) < 60 {
		t.Errorf("catalogue of %d types", len(evCatalog))
	}
}

// TestScenarioLogDeterministic: the same seed and clock give byte-identical
// logs; unknown scenario names are refused with the valid ones listed.
func TestScenarioLogDeterministic(t *testing.T) {
	read := func() []byte {
		s, base := startSim(t, Config{Seed: 9, Users: 100, Logs: 1500, Scenarios: []string{"all"}})
		var all []byte
		next := base + "/api/v1/logs?limit=1000&since=" + url.QueryEscape(fmtTS(s.o.logs.start-day))
		for range 10 {
			resp, b := getOK(t, next)
			if len(decodeList(t, b)) == 0 {
				break
			}
			all = append(all, b...)
			next = links(resp)["next"]
		}
		return all
	}
	if a, b := read(), read(); !bytes.Equal(a, b) {
		t.Error("two orgs of the same config serve different logs")
	}
	_, err := New(Config{Scenarios: []string{"password_spray", "moon_landing"}})
	if err == nil || !strings.Contains(err.Error(), "moon_landing") || !strings.Contains(err.Error(), "rogue_idp") {
		t.Errorf("unknown scenario: %v", err)
	}
	if sc, err := ParseScenarios("all"); err != nil || len(sc) != len(Scenarios) {
		t.Errorf("all: %v %v", sc, err)
	}
	if sc, err := ParseScenarios("none"); err != nil || len(sc) != 0 {
		t.Errorf("none: %v %v", sc, err)
	}
}
