package oktasim

import (
	"slices"
	"sort"
	"strings"
)

const (
	second = int64(1000)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
	year   = 365 * day
)

// User statuses.
const (
	stActive uint8 = iota
	stStaged
	stProvisioned
	stRecovery
	stPasswordExpired
	stLockedOut
	stSuspended
	stDeprovisioned
)

var userStatusName = []string{"ACTIVE", "STAGED", "PROVISIONED", "RECOVERY", "PASSWORD_EXPIRED",
	"LOCKED_OUT", "SUSPENDED", "DEPROVISIONED"}

// userState is the compact mutable state of one user (~56 bytes). Everything
// else about the user (names, profile, credentials) is derived from the seed,
// the index and rev when rendered.
type userState struct {
	created, activated, statusChanged, lastLogin, passwordChanged, lastUpdated int64
	status, typ                                                                uint8
	transitioning                                                              bool
	deleted                                                                    bool
	rev                                                                        uint16 // profile revision, bumped by churn updates
}

const (
	gBuiltIn uint8 = iota
	gOkta
	gApp
)

var groupTypeName = []string{"BUILT_IN", "OKTA_GROUP", "APP_GROUP"}

type groupState struct {
	created, lastUpdated, lastMembershipUpdated int64
	kind                                        uint8
	deleted                                     bool
	rev                                         uint16
	members                                     []int32 // sorted user indices; unused for Everyone (all users)
}

type appState struct {
	created, lastUpdated int64
	tmpl                 appTemplate
	label                string
	active, deleted      bool
	provisioning         bool
	users                []int32 // sorted assigned user indices
	userAdded            map[int32]int64
	groups               []int32 // assigned groups in priority order
}

const (
	devActive uint8 = iota
	devSuspended
	devDeactivated
	devCreated
)

var deviceStatusName = []string{"ACTIVE", "SUSPENDED", "DEACTIVATED", "CREATED"}

type deviceState struct {
	created, lastUpdated int64
	status               uint8
	deleted              bool
	model                uint8
	users                [2]int32 // -1 when unused
}

type ruleState struct {
	created, lastUpdated int64
	status               uint8 // 0 ACTIVE, 1 INACTIVE, 2 INVALID
	dept                 string
	excludeUsers         []int32
	excludeGroups        []int32
	assign               []int32
}

// roleAssign is one admin role assignment: a standard role (std >= 0) or a
// custom role bound to a resource set.
type roleAssign struct {
	id      int // index for the assignment id
	std     int // index into rolesStd, or -1
	custom  int
	rset    int
	created int64
}

type adminAssignee struct {
	idx   int32 // user or group index
	roles []roleAssign
}

type resourceSet struct {
	created, lastUpdated int64
	resources            []resourceRef
}

// resourceRef is a resource-set member: a group, an app, or all users/groups.
type resourceRef struct {
	kind  uint8 // 0 group, 1 app, 2 all users, 3 all groups
	idx   int32
	id    int
	added int64
}

type policyDef struct {
	typ               string
	nth               int // position within its type
	created, lastUpd  int64
	active, system    bool
	rules             []int
	excludeUsers      []int32
	firstRuleIsSystem bool
}

type policyRuleDef struct {
	policy           int
	nth              int
	created, lastUpd int64
	active, system   bool
	excludeUsers     []int32
}

type mappingDef struct {
	// source/target: 0 okta user (type idx in ref), 1 app user (app idx), 2 idp user (idp idx)
	srcKind, dstKind uint8
	srcRef, dstRef   int
	created          int64
}

// org is the whole simulated tenant. Mutable fields are guarded by Sim.mu.
type org struct {
	cfg   Config
	seed  uint64
	ids   idCodec
	now   int64 // org clock, unix ms
	t0    int64 // org clock at generation: procedural values never use the moving clock
	birth int64 // org creation time

	users        []userState
	activeUsers  int // non-deleted, for the Everyone group's stats
	groups       []groupState
	apps         []appState
	devices      []deviceState
	rules        []ruleState
	adminUsers   []adminAssignee // sorted by user index
	adminGroups  []adminAssignee // sorted by group index
	customRoles  []int64         // created time per custom role
	rolePerms    [][]int         // permission label indices per custom role
	resourceSets []resourceSet
	policies     []policyDef
	policyRules  []policyRuleDef
	mappings     []mappingDef
	idps         int
	idpExtra     []idpDef // identity providers added by scenarios, after idpDefs
	zones        int
	zoneInactive []bool  // by zone index
	zoneChanged  []int64 // last change by a scenario, by zone index (0: none)
	apiTokens    int
	tokenExtra   []apiTokenDef // API tokens created by scenarios, after the generated ones
	scenUsed     map[int]bool  // users a scenario already acts on
	logs         logStore
	churnSeq     int
	nextRoleID   int
	profileAttrs []profileAttr // custom user attributes added by churn, in order
}

// profileAttr is a custom user profile attribute added by churn, with the
// users that have a value. The others omit the key, as Okta omits a custom
// attribute a user has never had a value for.
type profileAttr struct {
	name   string
	values map[int32]string // by user index
}

func newOrg(cfg Config) *org {
	o := &org{cfg: cfg, seed: uint64(cfg.Seed), now: cfg.Now.UnixMilli(), t0: cfg.Now.UnixMilli()}
	o.ids = newIDCodec(o.seed)
	o.birth = o.now - 3*year
	o.genUsers(cfg.Users)
	o.genApps(cfg.Apps)
	o.genGroups(cfg.Groups)
	o.genMemberships()
	o.genAppAssignments()
	o.genDevices(cfg.Devices)
	o.genRules()
	o.genAdmin()
	o.genPolicies()
	o.genMappings()
	o.idps = len(idpDefs)
	o.zones = len(zoneDefs)
	o.zoneInactive = make([]bool, o.zones)
	o.zoneChanged = make([]int64, o.zones)
	o.apiTokens = 3
	o.logs = newLogStore(o, cfg.Logs)
	if o.logs.background() {
		o.genHistory()
	}
	for _, name := range cfg.Scenarios {
		o.runScenario(name)
	}
	o.logs.seal(o.users)
	return o
}

// between returns a time uniformly in [a, b] (b if b < a).
func between(r *rng, a, b int64) int64 {
	if b <= a {
		return b
	}
	return a + int64(r.next()%uint64(b-a+1))
}

// recentBiased returns a time in [a, now] that is often recent, so incremental
// queries like lastUpdated gt "<yesterday>" return a realistic slice.
func recentBiased(r *rng, a, now int64) int64 {
	switch {
	case r.chance(0.08):
		return between(r, max(a, now-3*day), now)
	case r.chance(0.3):
		return between(r, max(a, now-60*day), now)
	}
	return between(r, a, now)
}

func (o *org) genUsers(n int) {
	o.users = make([]userState, 0, n+n/8)
	span := max(o.now-2*day-o.birth, 1)
	for i := range n {
		r := newRng(o.seed, uint64(kUser), uint64(i))
		created := o.birth + int64(i)*span/int64(n) + int64(r.next()%uint64(max(span/int64(n), 1)))
		o.users = append(o.users, newUserState(r, created, o.now))
	}
	o.activeUsers = n
}

func newUserState(r *rng, created, now int64) userState {
	u := userState{created: created}
	x := r.float()
	switch {
	case x < 0.80:
		u.status = stActive
	case x < 0.84:
		u.status = stProvisioned
	case x < 0.87:
		u.status = stStaged
	case x < 0.88:
		u.status = stRecovery
	case x < 0.90:
		u.status = stPasswordExpired
	case x < 0.92:
		u.status = stLockedOut
	case x < 0.955:
		u.status = stSuspended
	default:
		u.status = stDeprovisioned
	}
	switch y := r.float(); {
	case y < 0.85:
		u.typ = 0
	case y < 0.95:
		u.typ = 1
	default:
		u.typ = 2
	}
	last := created
	if u.status != stStaged && u.status != stProvisioned {
		u.activated = between(r, created, min(created+2*day, now))
		u.passwordChanged = between(r, u.activated, now)
		last = max(last, u.passwordChanged)
	}
	switch u.status {
	case stActive:
		u.statusChanged = u.activated
	case stStaged:
		u.statusChanged = 0
	case stProvisioned:
		u.statusChanged = between(r, created, min(created+day, now))
		u.transitioning = r.chance(0.1)
	default:
		u.statusChanged = recentBiased(r, max(u.activated, created), now)
	}
	last = max(last, u.statusChanged)
	switch u.status {
	case stActive, stRecovery, stPasswordExpired, stLockedOut, stSuspended:
		if r.chance(0.88) {
			u.lastLogin = between(r, max(u.activated, now-30*day), now)
		}
	}
	// A user whose status left ACTIVE signed in last before that change (the
	// System Log's sign-ins agree); its own hash, so the draws below stay.
	if u.status != stActive && u.lastLogin > u.statusChanged-hour {
		u.lastLogin = 0
		if hi := u.statusChanged - hour; hi > u.activated {
			lo := max(u.activated, hi-20*day)
			u.lastLogin = lo + int64(hash3(uint64(created), 0x6c6c, uint64(u.statusChanged))%uint64(hi-lo))
		}
	}
	u.lastUpdated = last
	if r.chance(0.55) {
		u.lastUpdated = recentBiased(r, last, now)
	}
	return u
}

func (o *org) genApps(n int) {
	for i := range n {
		r := newRng(o.seed, uint64(kApp), uint64(i))
		a := appState{}
		if i < len(builtinApps) {
			a.tmpl = builtinApps[i]
			a.label = a.tmpl.label
			a.created = o.birth + int64(i)*minute
			a.active = true
		} else {
			c := i - len(builtinApps)
			a.tmpl = appCatalog[c%len(appCatalog)]
			a.label = a.tmpl.label
			if c >= len(appCatalog) {
				a.label += " " + itoa(c/len(appCatalog)+1)
			}
			a.created = between(r, o.birth+day, o.now-5*day)
			a.active = !r.chance(0.1)
			a.provisioning = a.tmpl.mode == "SAML_2_0" && r.chance(0.6)
		}
		a.lastUpdated = recentBiased(r, a.created, o.now)
		a.userAdded = map[int32]int64{}
		o.apps = append(o.apps, a)
	}
}

func (o *org) hasAD() bool { return len(o.apps) > appADIndex }

func (o *org) genGroups(n int) {
	o.groups = make([]groupState, 0, n+8)
	o.groups = append(o.groups, groupState{created: o.birth, lastUpdated: o.birth, kind: gBuiltIn})
	span := max(o.now-3*day-o.birth, 1)
	for g := 1; g < n; g++ {
		r := newRng(o.seed, uint64(kGroup), uint64(g))
		gs := groupState{kind: gOkta}
		if o.hasAD() && r.chance(0.2) {
			gs.kind = gApp
		}
		gs.created = o.birth + int64(g)*span/int64(n)
		gs.lastUpdated = gs.created
		if r.chance(0.4) {
			gs.lastUpdated = recentBiased(r, gs.created, o.now)
		}
		o.groups = append(o.groups, gs)
	}
}

// genMemberships gives each user a few groups; low-numbered groups are larger.
func (o *org) genMemberships() {
	ng := len(o.groups) - 1
	if ng <= 0 {
		return
	}
	var picked []int
	for i := range o.users {
		picked = initialGroups(o.seed, i, ng, picked[:0])
		for _, g := range picked {
			o.groups[g].members = append(o.groups[g].members, int32(i))
		}
	}
	everyone := &o.groups[0]
	everyone.lastMembershipUpdated = o.birth
	if len(o.users) > 0 {
		everyone.lastMembershipUpdated = o.users[len(o.users)-1].created
	}
	for g := 1; g < len(o.groups); g++ {
		gs := &o.groups[g]
		r := newRng(o.seed, 0x6c6d75, uint64(g))
		gs.lastMembershipUpdated = gs.created
		if len(gs.members) > 0 {
			gs.lastMembershipUpdated = recentBiased(r, gs.created, o.now)
		}
	}
}

// initialGroups appends to dst the groups (1..ng) user i is generated into,
// a few each, low-numbered groups more often; a pure function of the seed so
// that the history of the System Log can agree with it.
func initialGroups(seed uint64, i, ng int, dst []int) []int {
	r := newRng(seed, 0x6d656d, uint64(i))
	k := 0
	switch x := r.float(); {
	case x < 0.08:
		k = 0
	case x < 0.33:
		k = 1
	case x < 0.58:
		k = 2
	case x < 0.78:
		k = 3
	default:
		k = 4 + r.intn(5)
	}
	start := len(dst)
	for range k {
		u := r.float()
		g := 1 + int(float64(ng)*u*u)
		if g > ng {
			g = ng
		}
		if !slices.Contains(dst[start:], g) {
			dst = append(dst, g)
		}
	}
	return dst
}

var appUserFractions = []float64{0.03, 0.1, 0.3, 0.6, 0.9}

// appUserThreshold is the share of users generated assigned to app a, as a
// threshold on a 32-bit hash (see initiallyAssigned).
func appUserThreshold(seed uint64, a int) uint64 {
	r := newRng(seed, 0x617070, uint64(a))
	return uint64(appUserFractions[r.intn(len(appUserFractions))] * (1 << 32))
}

// initiallyAssigned reports whether user i is generated assigned to app a,
// whose appUserThreshold is thr (a pure function of the seed, like
// initialGroups).
func initiallyAssigned(seed uint64, a, i int, thr uint64) bool {
	return a >= len(builtinApps) && hash3(seed, 0x617075+uint64(a), uint64(i))&0xffffffff < thr
}

func (o *org) genAppAssignments() {
	for a := len(builtinApps); a < len(o.apps); a++ {
		r := newRng(o.seed, 0x617070, uint64(a))
		r.intn(len(appUserFractions)) // the user fraction, see appUserThreshold
		thr := appUserThreshold(o.seed, a)
		app := &o.apps[a]
		for i := range o.users {
			if initiallyAssigned(o.seed, a, i, thr) {
				app.users = append(app.users, int32(i))
			}
		}
		if len(o.groups) > 1 {
			ng := r.intn(4)
			for range ng {
				g := int32(1 + r.intn(len(o.groups)-1))
				if r.chance(0.1) {
					g = 0
				}
				if !containsInt32(app.groups, g) {
					app.groups = append(app.groups, g)
				}
			}
		}
	}
}

func containsInt32(xs []int32, v int32) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func (o *org) genDevices(n int) {
	o.devices = make([]deviceState, 0, n)
	for d := range n {
		r := newRng(o.seed, uint64(kDevice), uint64(d))
		ds := deviceState{users: [2]int32{-1, -1}}
		ds.created = between(r, o.now-2*year, o.now-day)
		ds.lastUpdated = recentBiased(r, ds.created, o.now)
		switch x := r.float(); {
		case x < 0.85:
			ds.status = devActive
		case x < 0.9:
			ds.status = devSuspended
		case x < 0.95:
			ds.status = devDeactivated
		default:
			ds.status = devCreated
		}
		ds.model = uint8(r.intn(len(deviceModels)))
		if len(o.users) > 0 && ds.status != devCreated {
			ds.users[0] = int32(r.intn(len(o.users)))
			if r.chance(0.1) {
				ds.users[1] = int32(r.intn(len(o.users)))
				if ds.users[1] == ds.users[0] {
					ds.users[1] = -1
				}
			}
		}
		o.devices = append(o.devices, ds)
	}
}

func (o *org) genRules() {
	n := max(3, len(o.groups)/10)
	if len(o.groups) < 2 {
		n = 0
	}
	for i := range n {
		r := newRng(o.seed, uint64(kGroupRule), uint64(i))
		rs := ruleState{dept: pick(r, departments)}
		rs.created = between(r, o.birth+day, o.now-2*day)
		rs.lastUpdated = recentBiased(r, rs.created, o.now)
		switch x := r.float(); {
		case x < 0.8:
			rs.status = 0
		case x < 0.95:
			rs.status = 1
		default:
			rs.status = 2
		}
		for range 1 + r.intn(3) {
			g := int32(1 + r.intn(len(o.groups)-1))
			if !containsInt32(rs.assign, g) {
				rs.assign = append(rs.assign, g)
			}
		}
		if len(o.users) > 0 {
			for range r.intn(4) {
				u := int32(r.intn(len(o.users)))
				if !containsInt32(rs.excludeUsers, u) {
					rs.excludeUsers = append(rs.excludeUsers, u)
				}
			}
		}
		for range r.intn(3) {
			g := int32(1 + r.intn(len(o.groups)-1))
			if !containsInt32(rs.excludeGroups, g) && !containsInt32(rs.assign, g) {
				rs.excludeGroups = append(rs.excludeGroups, g)
			}
		}
		o.rules = append(o.rules, rs)
	}
}

func (o *org) genAdmin() {
	r := newRng(o.seed, 0x61646d, 0)
	nCustom := 4
	for c := range nCustom {
		rc := newRng(o.seed, uint64(kCustomRole), uint64(c))
		o.customRoles = append(o.customRoles, between(rc, o.birth+30*day, o.now-10*day))
		var perms []int
		for range 2 + rc.intn(5) {
			p := rc.intn(len(permissionLabels))
			if !containsInt(perms, p) {
				perms = append(perms, p)
			}
		}
		sort.Ints(perms)
		o.rolePerms = append(o.rolePerms, perms)
	}
	// Resource sets: the first one is large enough (when the org has the groups)
	// that its resources span more than one default page of 100.
	for s := range 3 {
		rr := newRng(o.seed, uint64(kResourceSet), uint64(s))
		rs := resourceSet{created: between(rr, o.birth+30*day, o.now-10*day)}
		rs.lastUpdated = recentBiased(rr, rs.created, o.now)
		switch s {
		case 0:
			for g := 1; g < len(o.groups) && g <= 130; g++ {
				rs.resources = append(rs.resources, resourceRef{kind: 0, idx: int32(g)})
			}
		case 1:
			for a := len(builtinApps); a < len(o.apps) && a < len(builtinApps)+8; a++ {
				rs.resources = append(rs.resources, resourceRef{kind: 1, idx: int32(a)})
			}
		default:
			rs.resources = append(rs.resources, resourceRef{kind: 2}, resourceRef{kind: 3})
		}
		for k := range rs.resources {
			rs.resources[k].id = s*100000 + k
			rs.resources[k].added = between(rr, rs.created, rs.lastUpdated)
		}
		o.resourceSets = append(o.resourceSets, rs)
	}
	newRole := func(rr *rng, custom bool) roleAssign {
		ra := roleAssign{id: o.nextRoleID, std: -1, created: between(rr, o.birth+60*day, o.now-day)}
		o.nextRoleID++
		if rr.chance(0.25) || custom {
			ra.custom = rr.intn(len(o.customRoles))
			ra.rset = rr.intn(len(o.resourceSets))
		} else {
			ra.std = 1 + rr.intn(len(rolesStd)-1)
		}
		return ra
	}
	if len(o.users) > 0 {
		// User 0 is the org's first super admin (the owner of the API tokens).
		o.adminUsers = append(o.adminUsers, adminAssignee{idx: 0, roles: []roleAssign{{id: o.nextRoleID, std: 0, created: o.birth}}})
		o.nextRoleID++
		n := max(2, min(50, len(o.users)/200))
		seen := map[int32]bool{0: true}
		for range n {
			u := int32(r.intn(len(o.users)))
			if seen[u] {
				continue
			}
			seen[u] = true
			a := adminAssignee{idx: u}
			for k := range 1 + r.intn(2) {
				// The first delegated admin always holds a custom role, so the
				// CUSTOM shape (role, resource-set, their links) is always served.
				a.roles = append(a.roles, newRole(r, len(o.adminUsers) == 1 && k == 0))
			}
			o.adminUsers = append(o.adminUsers, a)
		}
		sort.Slice(o.adminUsers, func(i, j int) bool { return o.adminUsers[i].idx < o.adminUsers[j].idx })
	}
	if len(o.groups) > 1 {
		seen := map[int32]bool{}
		for range min(3, len(o.groups)-1) {
			g := int32(1 + r.intn(len(o.groups)-1))
			if seen[g] {
				continue
			}
			seen[g] = true
			o.adminGroups = append(o.adminGroups, adminAssignee{idx: g, roles: []roleAssign{newRole(r, len(o.adminGroups) == 0)}})
		}
		sort.Slice(o.adminGroups, func(i, j int) bool { return o.adminGroups[i].idx < o.adminGroups[j].idx })
	}
}

func containsInt(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func (o *org) genPolicies() {
	for _, t := range policyTypes {
		r := newRng(o.seed, uint64(kPolicy), hashString(t))
		n := 1 + r.intn(3)
		for k := range n {
			p := policyDef{typ: t, nth: k, active: k == 0 || r.chance(0.85)}
			p.system = k == 0 && (t == "OKTA_SIGN_ON" || t == "PASSWORD" || t == "MFA_ENROLL" || t == "IDP_DISCOVERY" || t == "ACCESS_POLICY")
			p.created = between(r, o.birth, o.birth+90*day)
			if p.system {
				p.created = o.birth
			}
			p.lastUpd = recentBiased(r, p.created, o.now)
			pi := len(o.policies)
			for j := range 1 + r.intn(3) {
				rr := newRng(o.seed, uint64(kPolicyRule), uint64(len(o.policyRules)))
				pr := policyRuleDef{policy: pi, nth: j, active: rr.chance(0.9)}
				pr.created = between(rr, p.created, o.now-day)
				pr.lastUpd = recentBiased(rr, pr.created, o.now)
				if len(o.users) > 0 && rr.chance(0.4) {
					for range 1 + rr.intn(3) {
						u := int32(rr.intn(len(o.users)))
						if !containsInt32(pr.excludeUsers, u) {
							pr.excludeUsers = append(pr.excludeUsers, u)
						}
					}
				}
				p.rules = append(p.rules, len(o.policyRules))
				o.policyRules = append(o.policyRules, pr)
			}
			if p.system && len(p.rules) > 0 {
				o.policyRules[p.rules[len(p.rules)-1]].system = true
			}
			o.policies = append(o.policies, p)
		}
	}
}

func (o *org) genMappings() {
	for a := len(builtinApps); a < len(o.apps); a++ {
		app := &o.apps[a]
		if !app.provisioning && app.tmpl.mode != "OPENID_CONNECT" {
			continue
		}
		r := newRng(o.seed, uint64(kMapping), uint64(a))
		c := between(r, app.created, o.now-day)
		o.mappings = append(o.mappings, mappingDef{srcKind: 0, srcRef: 0, dstKind: 1, dstRef: a, created: c})
		if app.provisioning {
			o.mappings = append(o.mappings, mappingDef{srcKind: 1, srcRef: a, dstKind: 0, dstRef: 0, created: c + minute})
		}
	}
	for i := range len(idpDefs) {
		o.mappings = append(o.mappings, mappingDef{srcKind: 2, srcRef: i, dstKind: 0, dstRef: 0, created: o.birth + int64(i+10)*day})
	}
}

func hashString(s string) uint64 {
	h := uint64(1469598103934665603)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Lookups by id. Each returns -1 when the id is unknown or the object deleted.

// idx parses id as an id of kind k and returns its index among the first n
// objects, or -1 when it is none of them or gone (nil: none is gone).
func (o *org) idx(k kind, id string, n int, gone func(i int) bool) int {
	i := o.ids.parse(k, id)
	if i < 0 || i >= n || gone != nil && gone(i) {
		return -1
	}
	return i
}

func (o *org) userIdx(id string) int {
	return o.idx(kUser, id, len(o.users), func(i int) bool { return o.users[i].deleted })
}

// userByIDOrLogin accepts an id or a login such as olivia.smith12@example.com.
func (o *org) userByIDOrLogin(s string) int {
	if i := o.userIdx(s); i >= 0 {
		return i
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return -1
	}
	j := at
	for j > 0 && s[j-1] >= '0' && s[j-1] <= '9' {
		j--
	}
	n := 0
	for _, c := range s[j:at] {
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return -1
		}
	}
	i := n - 1
	if i < 0 || i >= len(o.users) || o.users[i].deleted {
		return -1
	}
	if !strings.EqualFold(o.userLogin(i), s) {
		return -1
	}
	return i
}

func (o *org) groupIdx(id string) int {
	return o.idx(kGroup, id, len(o.groups), func(g int) bool { return o.groups[g].deleted })
}

func (o *org) appIdx(id string) int {
	return o.idx(kApp, id, len(o.apps), func(a int) bool { return o.apps[a].deleted })
}

func (o *org) deviceIdx(id string) int {
	return o.idx(kDevice, id, len(o.devices), func(d int) bool { return o.devices[d].deleted })
}

// isMember reports whether user u is in group g.
func (o *org) isMember(g int, u int32) bool {
	if g == 0 {
		return !o.users[u].deleted
	}
	m := o.groups[g].members
	k := sort.Search(len(m), func(i int) bool { return m[i] >= u })
	return k < len(m) && m[k] == u
}

// insertSorted adds v to the sorted slice xs if absent.
func insertSorted(xs []int32, v int32) ([]int32, bool) {
	k := sort.Search(len(xs), func(i int) bool { return xs[i] >= v })
	if k < len(xs) && xs[k] == v {
		return xs, false
	}
	xs = append(xs, 0)
	copy(xs[k+1:], xs[k:])
	xs[k] = v
	return xs, true
}

func removeSorted(xs []int32, v int32) ([]int32, bool) {
	k := sort.Search(len(xs), func(i int) bool { return xs[i] >= v })
	if k >= len(xs) || xs[k] != v {
		return xs, false
	}
	return append(xs[:k], xs[k+1:]...), true
}

// upperBound returns the first position in sorted xs with a value > v.
func upperBound(xs []int32, v int32) int {
	return sort.Search(len(xs), func(i int) bool { return xs[i] > v })
}

// idpDef is an identity provider; created is zero for the generated ones.
type idpDef struct {
	typ, name, protocol, issuer string
	created                     int64
}

func (o *org) idpDef(i int) idpDef {
	if i < len(idpDefs) {
		return idpDefs[i]
	}
	return o.idpExtra[i-len(idpDefs)]
}

// idpActive: the generated Facebook IdP is INACTIVE, every other ACTIVE.
func (o *org) idpActive(i int) bool { return i != 4 }

// apiTokenDef is an API token created by a scenario.
type apiTokenDef struct {
	name    string
	owner   int
	created int64
}
