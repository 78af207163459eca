package oktasim

import (
	"slices"
	"sort"
)

// System Log model.
//
// The log is the merge, in persistence order, of three streams, and an
// event's index is its position in that order (so the index order IS the
// persistence order, which polling relies on):
//
//   - n0 procedural events: event p has persistence time start + p*span/n0
//     and a published time a small random delay (up to maxDelay) earlier,
//     which makes polling results come back slightly out of published order,
//     as Okta's do. Their content is a pure function of the seed and p.
//   - inserted events, placed at any time inside the span when the org is
//     made (before it serves): the history its state implies (lock-outs,
//     lifecycle changes, role grants, each user's last sign-in), the
//     background admin timeline and the scenarios. insT holds their
//     persistence times, ascending; an inserted event sits after every
//     procedural event persisted at or before it, so inserted event k is at
//     index k + procCount(insT[k]). A user's last sign-in is stored as the
//     user's index only (12 bytes an event); the others are logRecs, with
//     optional per-event rendering overrides.
//   - extra: events Churn appends later, at the end.

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
	tkZone
	tkIdP
	tkAPIToken
	tkResourceSet
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
	ov                 int32 // 1 + index into logStore.ovs; 0: no override
}

// userWin is when a user of the generated org may hold sessions: from its
// activation until its status left ACTIVE (ms).
type userWin struct{ from, until int64 }

const never = int64(1) << 62

type logStore struct {
	seed                          uint64
	n0                            int
	start, span                   int64
	users0, groups0, apps0, devs0 int
	admins                        []int32 // ACTIVE admins, the actors of admin events
	nPolicies, nPolicyRules       int
	maxDelay                      int64 // bound on persist - published

	insT    []int64  // persistence times of the inserted events, ascending
	insRef  []int32  // >= 0: the last sign-in of that user; < 0: insRecs[-ref-1]
	insRecs []logRec // in insertion order (their rendering key)
	ovs     []evOverride
	extra   []logRec

	// The directory at generation, for consistency of procedural events.
	win     []userWin
	byLast  []int32 // users whose last sign-in is inside the span, by lastLogin
	lastAt  []int64 // their lastLogin, ascending
	ssoApps []int32 // active apps users are assigned to (not the built-ins)
	idpOK   []int32 // active identity providers
	hasAD   bool

	pending   []logRec            // inserted events before seal
	loginSkip map[int32]bool      // users whose last sign-in an inserted logRec already is
	blackout  map[int32][]userWin // times a user inside its window could not sign in (locked, suspended)
}

func newLogStore(o *org, n int) logStore {
	days := int64(o.cfg.LogDays)
	ls := logStore{seed: o.seed, n0: n, start: o.now - days*day, span: days*day - minute,
		users0: len(o.users), groups0: len(o.groups), apps0: len(o.apps), devs0: len(o.devices),
		nPolicies: len(o.policies), nPolicyRules: len(o.policyRules), loginSkip: map[int32]bool{}, blackout: map[int32][]userWin{}}
	for _, a := range o.adminUsers {
		if o.users[a.idx].status == stActive {
			ls.admins = append(ls.admins, a.idx)
		}
	}
	ls.maxDelay = minLogDelay
	if n > 0 {
		ls.maxDelay = max(minLogDelay, 5*ls.span/int64(n)/2)
	}
	ls.win = make([]userWin, len(o.users))
	for i := range o.users {
		ls.win[i] = sessionWindow(&o.users[i])
	}
	for a := len(builtinApps); a < len(o.apps); a++ {
		if o.apps[a].active && len(o.apps[a].users) > 0 {
			ls.ssoApps = append(ls.ssoApps, int32(a))
		}
	}
	for i := range o.idps {
		if o.idpActive(i) {
			ls.idpOK = append(ls.idpOK, int32(i))
		}
	}
	ls.hasAD = o.hasAD()
	return ls
}

// sessionWindow is when user u may sign in: ACTIVE users from activation on,
// users whose status left ACTIVE until that change, never for users never
// activated.
func sessionWindow(u *userState) userWin {
	switch u.status {
	case stActive:
		return userWin{u.activated, never}
	case stStaged, stProvisioned:
		return userWin{never, never}
	}
	return userWin{u.activated, u.statusChanged}
}

func (ls *logStore) activeAt(u int32, t int64) bool {
	if u < 0 || int(u) >= len(ls.win) {
		return false
	}
	w := ls.win[u]
	if w.from > t || t >= w.until {
		return false
	}
	for _, b := range ls.blackout[u] {
		if b.from <= t && t < b.until {
			return false
		}
	}
	return true
}

// background reports whether the log tells the org's everyday story (its
// procedural events, the history of the directory, the users' last
// sign-ins); a negative Config.Logs asks for none, so only scenarios remain.
func (ls *logStore) background() bool { return ls.n0 > 0 }

func (ls *logStore) total() int { return ls.n0 + len(ls.insT) + len(ls.extra) }

// nBase is the number of events before Churn's.
func (ls *logStore) nBase() int { return ls.n0 + len(ls.insT) }

// procCount is the number of procedural events persisted at or before t.
func (ls *logStore) procCount(t int64) int {
	d := t - ls.start
	if d < 0 || ls.n0 == 0 {
		return 0
	}
	c := ((d+1)*int64(ls.n0)-1)/ls.span + 1
	return int(min(c, int64(ls.n0)))
}

// locate maps index j < nBase to a procedural event (p, -1) or an inserted
// one (-1, k).
func (ls *logStore) locate(j int) (int, int) {
	m := len(ls.insT)
	if m == 0 {
		return j, -1
	}
	k := sort.Search(m, func(k int) bool { return k+ls.procCount(ls.insT[k]) >= j })
	if k < m && k+ls.procCount(ls.insT[k]) == j {
		return -1, k
	}
	return j - k, -1
}

func (ls *logStore) procPersist(p int) int64 { return ls.start + int64(p)*ls.span/int64(ls.n0) }

func (ls *logStore) procPublished(p int) int64 {
	h := hash3(ls.seed, 0x64656c61, uint64(p))
	var d int64
	if h%100 < 85 {
		d = int64(h>>8) % 2000
	} else {
		d = int64(h>>8) % ls.maxDelay
	}
	return ls.procPersist(p) - d
}

// loginDelay is the persistence delay of user u's last sign-in: none, so
// that the last sign-ins are persisted in lastLogin order (seal relies on it).
func (ls *logStore) loginDelay(int32) int64 { return 0 }

func (ls *logStore) persistAt(j int) int64 {
	if nb := ls.nBase(); j >= nb {
		return ls.extra[j-nb].persist
	}
	p, k := ls.locate(j)
	if k >= 0 {
		return ls.insT[k]
	}
	return ls.procPersist(p)
}

func (ls *logStore) publishedAt(j int) int64 {
	if nb := ls.nBase(); j >= nb {
		return ls.extra[j-nb].published
	}
	p, k := ls.locate(j)
	if k < 0 {
		return ls.procPublished(p)
	}
	if ref := ls.insRef[k]; ref >= 0 {
		return ls.insT[k] - ls.loginDelay(ref)
	}
	return ls.insRecs[-ls.insRef[k]-1].published
}

// key is event j's rendering key: the seed stream of its generated values
// (ids, addresses, ...), stable however many events are inserted around it.
func (ls *logStore) key(j int) uint64 {
	if nb := ls.nBase(); j >= nb {
		return 3<<40 | uint64(j-nb)
	}
	p, k := ls.locate(j)
	if k < 0 {
		return uint64(p)
	}
	if ref := ls.insRef[k]; ref >= 0 {
		return 1<<40 | uint64(ref)
	}
	return 2<<40 | uint64(-ls.insRef[k]-1)
}

// firstPersistAtOrAfter returns the first index whose persistence time is >= t.
func (ls *logStore) firstPersistAtOrAfter(t int64) int {
	return sort.Search(ls.total(), func(j int) bool { return ls.persistAt(j) >= t })
}

// rec returns event j in compact form.
func (ls *logStore) rec(j int) logRec {
	if nb := ls.nBase(); j >= nb {
		return ls.extra[j-nb]
	}
	p, k := ls.locate(j)
	if k >= 0 {
		if ref := ls.insRef[k]; ref >= 0 {
			return logRec{et: evSessionStart, actorKind: akUser, actor: ref,
				persist: ls.insT[k], published: ls.insT[k] - ls.loginDelay(ref)}
		}
		return ls.insRecs[-ls.insRef[k]-1]
	}
	r := newRng(ls.seed, 0x6c6f6772, uint64(p))
	x := r.intn(evCumWeights[len(evCumWeights)-1])
	lr := ls.procRec(r, sort.SearchInts(evCumWeights, x+1), p)
	lr.persist, lr.published = ls.procPersist(p), ls.procPublished(p)
	ls.consistent(&lr, p)
	return lr
}

var (
	evSessionStart = evt("user.session.start")
	evVerify       = evt("user.authentication.verify")
)

// insert adds an event inside the span while the org is made; its
// persistence time follows its published time by a second or so, and never
// passes the org clock.
func (ls *logStore) insert(lr logRec, now int64) {
	if lr.persist == 0 {
		lr.persist = min(lr.published+int64(hash3(ls.seed, 0x696e73, uint64(len(ls.pending)))%1800), now)
	}
	lr.persist = max(lr.persist, lr.published)
	ls.pending = append(ls.pending, lr)
}

// override stores ov for an event about to be inserted and returns its
// logRec.ov value.
func (ls *logStore) override(ov evOverride) int32 {
	ls.ovs = append(ls.ovs, ov)
	return int32(len(ls.ovs))
}

// seal merges the inserted events with every user's last sign-in (users
// whose last sign-in lies inside the span and is not already an inserted
// event) and fixes the order; the org is then served.
func (ls *logStore) seal(users []userState) {
	type item struct {
		t   int64
		ref int32
		ord int
	}
	items := make([]item, 0, len(ls.pending)+len(users))
	for i := range ls.pending {
		if p := ls.pending[i].persist; p >= ls.start {
			items = append(items, item{p, int32(-i - 1), i})
		}
	}
	for u := range min(len(users), ls.users0) {
		last := users[u].lastLogin
		if !ls.background() {
			break
		}
		if last < ls.start || last == 0 || ls.loginSkip[int32(u)] {
			continue
		}
		items = append(items, item{last + ls.loginDelay(int32(u)), int32(u), len(ls.pending) + u})
	}
	slices.SortFunc(items, func(a, b item) int {
		if a.t != b.t {
			if a.t < b.t {
				return -1
			}
			return 1
		}
		return a.ord - b.ord
	})
	ls.insT = make([]int64, len(items))
	ls.insRef = make([]int32, len(items))
	for k, it := range items {
		ls.insT[k], ls.insRef[k] = it.t, it.ref
	}
	ls.insRecs, ls.pending = ls.pending, nil
	// Sign-ins of procedural events go to users whose last sign-in is at or
	// after them (see consistent).
	// The users' last sign-ins are in items in lastLogin order already (no
	// delay, ties by user); those that are inserted logRecs (loginSkip) are
	// merged in.
	type last struct {
		t int64
		u int32
	}
	var skipped []last
	for u := range ls.loginSkip {
		if l := users[u].lastLogin; l >= ls.start && ls.win[u].from <= l && l < ls.win[u].until {
			skipped = append(skipped, last{l, u})
		}
	}
	less := func(a, b last) bool { return a.t < b.t || a.t == b.t && a.u < b.u }
	slices.SortFunc(skipped, func(a, b last) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
	n := len(skipped)
	for _, it := range items {
		if it.ref >= 0 {
			n++
		}
	}
	ls.byLast = make([]int32, 0, n)
	ls.lastAt = make([]int64, 0, n)
	add := func(x last) {
		ls.byLast = append(ls.byLast, x.u)
		ls.lastAt = append(ls.lastAt, x.t)
	}
	k := 0
	for _, it := range items {
		if it.ref < 0 {
			continue
		}
		u := it.ref
		x := last{users[u].lastLogin, u}
		if w := ls.win[u]; x.t < w.from || x.t >= w.until {
			continue
		}
		for k < len(skipped) && less(skipped[k], x) {
			add(skipped[k])
			k++
		}
		add(x)
	}
	for ; k < len(skipped); k++ {
		add(skipped[k])
	}
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
		lr.outcome = ocAllow // ThreatInsight in log-only mode
	case e.typ == "user.mfa.okta_verify.deny_push":
		lr.outcome = ocFailure
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
		case tkZone:
			t.a = int32(r.intn(len(zoneDefs)))
		case tkIdP:
			if len(ls.idpOK) > 0 {
				t.a = ls.idpOK[r.intn(len(ls.idpOK))]
			}
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
	case "user.lifecycle.delete.completed", "user.lifecycle.delete.initiated":
		if lr.nt == 1 {
			lr.t[0].a = int32(phantomBase + j)
		}
	case "group.lifecycle.delete":
		if lr.nt == 1 {
			lr.t[0].a = int32(phantomBase + j)
		}
	}
}
