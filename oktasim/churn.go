package oktasim

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// ChurnSpec says how much to change the org in one Churn step. Counts pick
// objects deterministically (seed + churn counter); the ID lists target
// specific objects. Changes are spread evenly over (now, now+Advance].
type ChurnSpec struct {
	// Advance is how far the org clock moves (default 1h). JSON: "advance": "1h".
	Advance time.Duration `json:"-"`

	NewUsers         int `json:"newUsers,omitempty"`
	UpdatedUsers     int `json:"updatedUsers,omitempty"`
	DeactivatedUsers int `json:"deactivatedUsers,omitempty"`
	// DeletedUsers issues that many user deletes. As in Okta, deleting a user
	// that is not DEPROVISIONED deactivates it; deleting a DEPROVISIONED user
	// removes it for good (404 afterwards). DEPROVISIONED users are picked first.
	DeletedUsers int `json:"deletedUsers,omitempty"`

	NewGroups     int `json:"newGroups,omitempty"`
	UpdatedGroups int `json:"updatedGroups,omitempty"`
	DeletedGroups int `json:"deletedGroups,omitempty"`

	MembershipAdds    int `json:"membershipAdds,omitempty"`
	MembershipRemoves int `json:"membershipRemoves,omitempty"`

	AppAssignmentAdds    int `json:"appAssignmentAdds,omitempty"`
	AppAssignmentRemoves int `json:"appAssignmentRemoves,omitempty"`

	// GroupRoleGrants gives that many groups without an admin role a
	// standard one (group.privilege.grant); GroupRoleRevokes takes every role
	// from that many groups holding some (group.privilege.revoke).
	GroupRoleGrants  int `json:"groupRoleGrants,omitempty"`
	GroupRoleRevokes int `json:"groupRoleRevokes,omitempty"`
	// AppGroupAdds assigns groups to apps, AppGroupRemoves unassigns them
	// (group.application_assignment.add/remove).
	AppGroupAdds    int `json:"appGroupAdds,omitempty"`
	AppGroupRemoves int `json:"appGroupRemoves,omitempty"`
	// PolicyRuleUpdates changes that many policy rules (policy.rule.update).
	PolicyRuleUpdates int `json:"policyRuleUpdates,omitempty"`

	DeviceUpdates int `json:"deviceUpdates,omitempty"`
	// ProfileAttribute adds a custom attribute of that name to the user
	// schema (an admin's Profile Editor change; an existing name is reused),
	// and ProfileAttributeUsers gives it a value on that many users who are
	// not DEPROVISIONED and have none yet: a profile update each, which moves
	// the user's lastUpdated and logs user.account.update_profile. Without a
	// name the count does nothing.
	ProfileAttribute      string `json:"profileAttribute,omitempty"`
	ProfileAttributeUsers int    `json:"profileAttributeUsers,omitempty"`
	// LogEvents adds that many ordinary events (sign-ins, SSO, ...) besides the
	// events every change above emits.
	LogEvents int `json:"logEvents,omitempty"`

	DeactivateUserIDs []string `json:"deactivateUserIds,omitempty"`
	DeleteUserIDs     []string `json:"deleteUserIds,omitempty"`
	DeleteGroupIDs    []string `json:"deleteGroupIds,omitempty"`
}

// DefaultChurnSpec is what POST /__sim/churn applies when the body is empty.
func DefaultChurnSpec() ChurnSpec {
	return ChurnSpec{Advance: time.Hour, NewUsers: 5, UpdatedUsers: 10, DeactivatedUsers: 2, DeletedUsers: 2,
		NewGroups: 1, UpdatedGroups: 2, DeletedGroups: 1, MembershipAdds: 10, MembershipRemoves: 5,
		AppAssignmentAdds: 5, AppAssignmentRemoves: 2, DeviceUpdates: 3, LogEvents: 50}
}

// MarshalJSON writes Advance as a duration string.
func (c ChurnSpec) MarshalJSON() ([]byte, error) {
	type plain ChurnSpec // drops the methods, so no recursion
	j := struct {
		plain
		Advance string `json:"advance,omitempty"`
	}{plain: plain(c)}
	if c.Advance != 0 {
		j.Advance = c.Advance.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Advance as a duration string such as "90m".
func (c *ChurnSpec) UnmarshalJSON(b []byte) error {
	type plain ChurnSpec
	var j struct {
		plain
		Advance string `json:"advance"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = ChurnSpec(j.plain)
	if j.Advance != "" {
		d, err := time.ParseDuration(j.Advance)
		if err != nil {
			return fmt.Errorf("advance: %w", err)
		}
		c.Advance = d
	}
	return nil
}

// Membership is a group-user pair.
type Membership struct {
	GroupID string `json:"groupId"`
	UserID  string `json:"userId"`
}

// Assignment is an app-user pair.
type Assignment struct {
	AppID  string `json:"appId"`
	UserID string `json:"userId"`
}

// AppGroup is an app-group pair.
type AppGroup struct {
	AppID   string `json:"appId"`
	GroupID string `json:"groupId"`
}

// ChurnResult lists what a Churn step changed.
type ChurnResult struct {
	Seq                   int          `json:"seq"`
	From                  time.Time    `json:"from"`
	To                    time.Time    `json:"to"`
	CreatedUsers          []string     `json:"createdUsers"`
	UpdatedUsers          []string     `json:"updatedUsers"`
	DeactivatedUsers      []string     `json:"deactivatedUsers"`
	DeletedUsers          []string     `json:"deletedUsers"`
	CreatedGroups         []string     `json:"createdGroups"`
	UpdatedGroups         []string     `json:"updatedGroups"`
	DeletedGroups         []string     `json:"deletedGroups"`
	MembershipsAdded      []Membership `json:"membershipsAdded"`
	MembershipsRemoved    []Membership `json:"membershipsRemoved"`
	AppAssignmentsAdded   []Assignment `json:"appAssignmentsAdded"`
	AppAssignmentsRemoved []Assignment `json:"appAssignmentsRemoved"`
	GroupRolesGranted     []string     `json:"groupRolesGranted"`
	GroupRolesRevoked     []string     `json:"groupRolesRevoked"`
	AppGroupsAdded        []AppGroup   `json:"appGroupsAdded"`
	AppGroupsRemoved      []AppGroup   `json:"appGroupsRemoved"`
	PolicyRulesUpdated    []string     `json:"policyRulesUpdated"`
	UpdatedDevices        []string     `json:"updatedDevices"`
	ProfileAttributeUsers []string     `json:"profileAttributeUsers,omitempty"`
	LogEvents             int          `json:"logEvents"`
	NotFound              []string     `json:"notFound,omitempty"`
}

type churner struct {
	o      *org
	r      *rng
	from   int64
	to     int64
	n, k   int // total ops and ops done, for evenly spaced timestamps
	res    *ChurnResult
	events int
}

func (ch *churner) tick() int64 {
	ch.k++
	return ch.from + int64(ch.k)*(ch.to-ch.from)/int64(ch.n+1)
}

func (ch *churner) admin() (uint8, int32) {
	for _, a := range ch.o.adminUsers {
		if !ch.o.users[a.idx].deleted {
			return akUser, a.idx
		}
	}
	return akSystem, 0
}

// log appends an event of type typ at time t.
func (ch *churner) log(t int64, typ string, actorKind uint8, actor int32, targets ...tref) {
	lr := logRec{et: evIndex[typ], actorKind: actorKind, actor: actor, published: t}
	for _, tr := range targets {
		lr.t[lr.nt] = tr
		lr.nt++
	}
	ch.push(lr)
}

func (ch *churner) push(lr logRec) {
	ls := &ch.o.logs
	j := ls.total()
	delay := int64(hash3(ch.o.seed, 0x70646c79, uint64(j)) % 3000)
	p := min(lr.published+delay, ch.to)
	if j > 0 {
		p = max(p, ls.persistAt(j-1))
	}
	lr.persist = p
	if lr.et == evIndex["app.oauth2.as.token.grant.access_token"] {
		for k := range int(lr.nt) {
			if lr.t[k].kind == tkToken {
				lr.t[k].a = int32(j)
			}
		}
	}
	ls.extra = append(ls.extra, lr)
	ch.events++
}

func (ch *churner) randomUser(ok func(*userState) bool) int {
	return ch.randomUserIdx(func(_ int, u *userState) bool { return ok(u) })
}

// randomUserIdx is randomUser for a predicate that needs the user's index.
func (ch *churner) randomUserIdx(ok func(int, *userState) bool) int {
	o := ch.o
	if len(o.users) == 0 {
		return -1
	}
	for range 64 {
		i := ch.r.intn(len(o.users))
		if !o.users[i].deleted && ok(i, &o.users[i]) {
			return i
		}
	}
	start := ch.r.intn(len(o.users)) // sparse eligibility: scan from a random point
	for i := range o.users {
		j := (start + i) % len(o.users)
		if !o.users[j].deleted && ok(j, &o.users[j]) {
			return j
		}
	}
	return -1
}

func (ch *churner) randomGroup(ok func(int, *groupState) bool) int {
	o := ch.o
	for range 64 {
		g := ch.r.intn(len(o.groups))
		if !o.groups[g].deleted && ok(g, &o.groups[g]) {
			return g
		}
	}
	for g := range o.groups {
		if !o.groups[g].deleted && ok(g, &o.groups[g]) {
			return g
		}
	}
	return -1
}

func isOktaGroup(_ int, gs *groupState) bool { return gs.kind == gOkta }

// Churn applies spec to the org, deterministically from the seed and the churn
// counter, emits the matching System Log events, and advances the clock.
func (s *Sim) Churn(spec ChurnSpec) ChurnResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	clk := s.beginClockChange()
	o := s.o
	o.churnSeq++
	adv := spec.Advance
	if adv <= 0 {
		adv = defaultChurnAdvance
	}
	res := &ChurnResult{Seq: o.churnSeq}
	ch := &churner{o: o, r: newRng(o.seed, 0x6368726e, uint64(o.churnSeq)), from: o.now, to: o.now + adv.Milliseconds(), res: res}
	ch.n = spec.NewUsers + spec.UpdatedUsers + spec.DeactivatedUsers + spec.DeletedUsers + spec.NewGroups +
		spec.UpdatedGroups + spec.DeletedGroups + spec.MembershipAdds + spec.MembershipRemoves +
		spec.AppAssignmentAdds + spec.AppAssignmentRemoves + spec.DeviceUpdates + spec.LogEvents +
		spec.GroupRoleGrants + spec.GroupRoleRevokes + spec.AppGroupAdds + spec.AppGroupRemoves + spec.PolicyRuleUpdates +
		len(spec.DeactivateUserIDs) + len(spec.DeleteUserIDs) + len(spec.DeleteGroupIDs)
	if spec.ProfileAttribute != "" {
		ch.n += spec.ProfileAttributeUsers
	}
	res.From = time.UnixMilli(ch.from).UTC()
	res.To = time.UnixMilli(ch.to).UTC()

	for range spec.NewUsers {
		ch.newUser()
	}
	for range spec.UpdatedUsers {
		t := ch.tick()
		if i := ch.randomUser(func(u *userState) bool { return u.status != stDeprovisioned }); i >= 0 {
			ch.updateUser(i, t)
		}
	}
	for _, id := range spec.DeactivateUserIDs {
		t := ch.tick()
		i := o.userIdx(id)
		if i < 0 || o.users[i].status == stDeprovisioned {
			res.NotFound = append(res.NotFound, id)
			continue
		}
		ch.deactivate(i, t)
	}
	for range spec.DeactivatedUsers {
		t := ch.tick()
		if i := ch.randomUser(func(u *userState) bool { return u.status != stDeprovisioned }); i >= 0 {
			ch.deactivate(i, t)
		}
	}
	for _, id := range spec.DeleteUserIDs {
		t := ch.tick()
		i := o.userIdx(id)
		if i < 0 {
			res.NotFound = append(res.NotFound, id)
			continue
		}
		ch.deleteUser(i, t)
	}
	for range spec.DeletedUsers {
		t := ch.tick()
		i := ch.randomUser(func(u *userState) bool { return u.status == stDeprovisioned })
		if i < 0 {
			i = ch.randomUser(func(*userState) bool { return true })
		}
		if i >= 0 {
			ch.deleteUser(i, t)
		}
	}
	for range spec.NewGroups {
		ch.newGroup()
	}
	for range spec.UpdatedGroups {
		t := ch.tick()
		if g := ch.randomGroup(func(g int, gs *groupState) bool { return gs.kind != gBuiltIn }); g >= 0 {
			gs := &o.groups[g]
			gs.rev++
			gs.lastUpdated = t
			res.UpdatedGroups = append(res.UpdatedGroups, o.ids.id(kGroup, g))
			k, a := ch.admin()
			ch.log(t, "group.profile.update", k, a, tref{kind: tkGroup, a: int32(g)})
		}
	}
	for _, id := range spec.DeleteGroupIDs {
		t := ch.tick()
		g := o.groupIdx(id)
		if g <= 0 {
			res.NotFound = append(res.NotFound, id)
			continue
		}
		ch.deleteGroup(g, t)
	}
	for range spec.DeletedGroups {
		t := ch.tick()
		if g := ch.randomGroup(func(g int, gs *groupState) bool { return gs.kind != gBuiltIn }); g >= 0 {
			ch.deleteGroup(g, t)
		}
	}
	for range spec.MembershipAdds {
		t := ch.tick()
		for range 20 { // retry until a pair that is not yet a membership comes up
			g := ch.randomGroup(isOktaGroup)
			u := ch.randomUser(func(u *userState) bool { return true })
			if g < 0 || u < 0 {
				break
			}
			if ch.addMember(g, u, t) {
				break
			}
		}
	}
	for range spec.MembershipRemoves {
		t := ch.tick()
		g := ch.randomGroup(func(g int, gs *groupState) bool { return gs.kind == gOkta && len(gs.members) > 0 })
		if g < 0 {
			continue
		}
		gs := &o.groups[g]
		u := gs.members[ch.r.intn(len(gs.members))]
		gs.members, _ = removeSorted(gs.members, u)
		gs.lastMembershipUpdated = t
		res.MembershipsRemoved = append(res.MembershipsRemoved, Membership{o.ids.id(kGroup, g), o.ids.id(kUser, int(u))})
		k, a := ch.admin()
		ch.log(t, "group.user_membership.remove", k, a, tref{kind: tkUser, a: u}, tref{kind: tkGroup, a: int32(g)})
	}
	for range spec.AppAssignmentAdds {
		t := ch.tick()
		a, u, added := -1, -1, false
		for range 20 { // retry until an unassigned pair comes up
			a = ch.randomApp(func(app *appState) bool { return app.active })
			u = ch.randomUser(func(*userState) bool { return true })
			if a < 0 || u < 0 {
				break
			}
			if o.apps[a].users, added = insertSorted(o.apps[a].users, int32(u)); added {
				break
			}
		}
		if !added {
			continue
		}
		app := &o.apps[a]
		app.userAdded[int32(u)] = t
		res.AppAssignmentsAdded = append(res.AppAssignmentsAdded, Assignment{o.ids.id(kApp, a), o.ids.id(kUser, u)})
		k, ad := ch.admin()
		ch.log(t, "application.user_membership.add", k, ad, tref{kind: tkAppUser, a: int32(u), b: int32(a)}, tref{kind: tkApp, a: int32(a)}, tref{kind: tkUser, a: int32(u)})
	}
	for range spec.AppAssignmentRemoves {
		t := ch.tick()
		a := ch.randomApp(func(app *appState) bool { return len(app.users) > 0 })
		if a < 0 {
			continue
		}
		app := &o.apps[a]
		u := app.users[ch.r.intn(len(app.users))]
		app.users, _ = removeSorted(app.users, u)
		delete(app.userAdded, u)
		res.AppAssignmentsRemoved = append(res.AppAssignmentsRemoved, Assignment{o.ids.id(kApp, a), o.ids.id(kUser, int(u))})
		k, ad := ch.admin()
		ch.log(t, "application.user_membership.remove", k, ad, tref{kind: tkAppUser, a: u, b: int32(a)}, tref{kind: tkApp, a: int32(a)}, tref{kind: tkUser, a: u})
	}
	for range spec.GroupRoleGrants {
		ch.grantGroupRole(ch.tick())
	}
	for range spec.GroupRoleRevokes {
		ch.revokeGroupRole(ch.tick())
	}
	for range spec.AppGroupAdds {
		ch.assignAppGroup(ch.tick())
	}
	for range spec.AppGroupRemoves {
		ch.unassignAppGroup(ch.tick())
	}
	for range spec.PolicyRuleUpdates {
		ch.updatePolicyRule(ch.tick())
	}
	for range spec.DeviceUpdates {
		t := ch.tick()
		if len(o.devices) == 0 {
			continue
		}
		d := ch.r.intn(len(o.devices))
		if o.devices[d].deleted {
			continue
		}
		o.devices[d].lastUpdated = t
		res.UpdatedDevices = append(res.UpdatedDevices, o.ids.id(kDevice, d))
	}
	// Last of the picks, so naming an attribute changes no other pick of
	// the step (only the spacing of its timestamps).
	if spec.ProfileAttribute != "" {
		ch.setProfileAttribute(spec.ProfileAttribute, spec.ProfileAttributeUsers)
	}
	for k := range spec.LogEvents {
		t := ch.tick()
		r := newRng(o.seed, 0x63686c67, uint64(o.churnSeq)<<32|uint64(k))
		et := 0
		switch x := r.intn(10); {
		case x < 5:
			et = int(evIndex["user.session.start"])
		case x < 8:
			et = int(evIndex["user.authentication.sso"])
		default:
			et = int(evIndex["user.authentication.auth_via_mfa"])
		}
		lr := o.logs.procRec(r, et, o.logs.total())
		lr.published = t
		if !ch.agreeNow(r, &lr) {
			continue
		}
		ch.push(lr)
	}
	res.LogEvents = ch.events
	o.now = ch.to
	s.endClockChange(clk)
	return *res
}

func (ch *churner) randomApp(ok func(*appState) bool) int {
	o := ch.o
	var cands []int
	for a := len(builtinApps); a < len(o.apps); a++ {
		if !o.apps[a].deleted && ok(&o.apps[a]) {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		return -1
	}
	return cands[ch.r.intn(len(cands))]
}

func (ch *churner) newUser() {
	o := ch.o
	t := ch.tick()
	i := len(o.users)
	r := newRng(o.seed, uint64(kUser), uint64(i))
	u := userState{created: t, lastUpdated: t, statusChanged: t}
	switch x := r.float(); {
	case x < 0.8:
		u.status = stActive
		u.activated, u.passwordChanged = t, t
	case x < 0.9:
		u.status = stStaged
		u.statusChanged = 0
	default:
		u.status = stProvisioned
	}
	if r.chance(0.1) {
		u.typ = 1
	}
	o.users = append(o.users, u)
	o.activeUsers++
	o.groups[0].lastMembershipUpdated = t
	ch.res.CreatedUsers = append(ch.res.CreatedUsers, o.ids.id(kUser, i))
	k, a := ch.admin()
	ch.log(t, "user.lifecycle.create", k, a, tref{kind: tkUser, a: int32(i)})
	if u.status == stActive {
		ch.log(t, "user.lifecycle.activate", k, a, tref{kind: tkUser, a: int32(i)})
	}
	// Joining Everyone is logged like any membership: practitioners report
	// group.user_membership.add "when an Okta user is added to any group
	// including the Everyone default group" (elastic/detection-rules#1166).
	ch.res.MembershipsAdded = append(ch.res.MembershipsAdded, Membership{o.ids.id(kGroup, 0), o.ids.id(kUser, i)})
	ch.log(t, "group.user_membership.add", k, a, tref{kind: tkUser, a: int32(i)}, tref{kind: tkGroup, a: 0})
	for range 1 + r.intn(2) {
		if g := ch.randomGroup(isOktaGroup); g >= 0 {
			ch.addMember(g, i, t)
		}
	}
}

// addMember adds user u to group g, reporting false if already a member.
func (ch *churner) addMember(g, u int, t int64) bool {
	o := ch.o
	gs := &o.groups[g]
	var added bool
	gs.members, added = insertSorted(gs.members, int32(u))
	if !added {
		return false
	}
	gs.lastMembershipUpdated = t
	ch.res.MembershipsAdded = append(ch.res.MembershipsAdded, Membership{o.ids.id(kGroup, g), o.ids.id(kUser, u)})
	k, a := ch.admin()
	ch.log(t, "group.user_membership.add", k, a, tref{kind: tkUser, a: int32(u)}, tref{kind: tkGroup, a: int32(g)})
	return true
}

func (ch *churner) updateUser(i int, t int64) {
	o := ch.o
	o.users[i].rev++
	o.users[i].lastUpdated = t
	ch.res.UpdatedUsers = append(ch.res.UpdatedUsers, o.ids.id(kUser, i))
	k, a := ch.admin()
	ch.log(t, "user.account.update_profile", k, a, tref{kind: tkUser, a: int32(i)})
}

// setProfileAttribute adds the custom attribute name to the user schema
// and gives it a value on up to n users.
func (ch *churner) setProfileAttribute(name string, n int) {
	o := ch.o
	k := slices.IndexFunc(o.profileAttrs, func(pa profileAttr) bool { return pa.name == name })
	if k < 0 {
		k = len(o.profileAttrs)
		o.profileAttrs = append(o.profileAttrs, profileAttr{name: name, values: map[int32]string{}})
	}
	pa := &o.profileAttrs[k]
	for range n {
		t := ch.tick()
		i := ch.randomUserIdx(func(i int, u *userState) bool {
			_, set := pa.values[int32(i)]
			return u.status != stDeprovisioned && !set
		})
		if i < 0 {
			return
		}
		pa.values[int32(i)] = string(appendUUID(nil, o.seed, streamProfileAttr, uint64(o.churnSeq)<<32|uint64(i)))
		o.users[i].lastUpdated = t
		ch.res.ProfileAttributeUsers = append(ch.res.ProfileAttributeUsers, o.ids.id(kUser, i))
		ak, a := ch.admin()
		ch.log(t, "user.account.update_profile", ak, a, tref{kind: tkUser, a: int32(i)})
	}
}

func (ch *churner) deactivate(i int, t int64) {
	o := ch.o
	u := &o.users[i]
	u.status = stDeprovisioned
	u.transitioning = false
	u.statusChanged, u.lastUpdated = t, t
	ch.res.DeactivatedUsers = append(ch.res.DeactivatedUsers, o.ids.id(kUser, i))
	k, a := ch.admin()
	ch.log(t, "user.lifecycle.deactivate", k, a, tref{kind: tkUser, a: int32(i)})
}

// deleteUser is Okta's DELETE /users/{id}: the first delete deactivates, a
// delete of a DEPROVISIONED user removes it and all its memberships.
func (ch *churner) deleteUser(i int, t int64) {
	o := ch.o
	u := &o.users[i]
	if u.status != stDeprovisioned {
		ch.deactivate(i, t)
		return
	}
	u.deleted = true
	o.activeUsers--
	o.groups[0].lastMembershipUpdated = t
	for g := 1; g < len(o.groups); g++ {
		gs := &o.groups[g]
		var removed bool
		if gs.members, removed = removeSorted(gs.members, int32(i)); removed {
			gs.lastMembershipUpdated = t
		}
	}
	for a := range o.apps {
		o.apps[a].users, _ = removeSorted(o.apps[a].users, int32(i))
		delete(o.apps[a].userAdded, int32(i))
	}
	for d := range o.devices {
		for k, du := range o.devices[d].users {
			if du == int32(i) {
				o.devices[d].users[k] = -1
			}
		}
	}
	ch.res.DeletedUsers = append(ch.res.DeletedUsers, o.ids.id(kUser, i))
	k, a := ch.admin()
	ch.log(t, "user.lifecycle.delete.initiated", k, a, tref{kind: tkUser, a: int32(i)})
	ch.log(t, "user.lifecycle.delete.completed", akSystem, 0, tref{kind: tkUser, a: int32(i)})
}

func (ch *churner) newGroup() {
	o := ch.o
	t := ch.tick()
	g := len(o.groups)
	o.groups = append(o.groups, groupState{kind: gOkta, created: t, lastUpdated: t, lastMembershipUpdated: t})
	ch.res.CreatedGroups = append(ch.res.CreatedGroups, o.ids.id(kGroup, g))
	k, a := ch.admin()
	ch.log(t, "group.lifecycle.create", k, a, tref{kind: tkGroup, a: int32(g)})
}

func (ch *churner) deleteGroup(g int, t int64) {
	o := ch.o
	o.groups[g].deleted = true
	o.groups[g].members = nil
	// The group's app assignments go with it (listings skip deleted groups);
	// the other groups keep their priority, so nothing changes that the
	// group.lifecycle.delete event does not tell.
	ch.res.DeletedGroups = append(ch.res.DeletedGroups, o.ids.id(kGroup, g))
	k, a := ch.admin()
	ch.log(t, "group.lifecycle.delete", k, a, tref{kind: tkGroup, a: int32(g)})
}

// grantGroupRole gives a group without an admin role a standard one.
func (ch *churner) grantGroupRole(t int64) {
	o := ch.o
	g := ch.randomGroup(func(g int, gs *groupState) bool { return gs.kind != gBuiltIn && !o.groupHasAdminRole(g) })
	if g < 0 {
		return
	}
	ra := roleAssign{id: o.nextRoleID, std: 1 + ch.r.intn(len(rolesStd)-1), created: t}
	o.nextRoleID++
	i := sort.Search(len(o.adminGroups), func(i int) bool { return int(o.adminGroups[i].idx) >= g })
	o.adminGroups = slices.Insert(o.adminGroups, i, adminAssignee{idx: int32(g), roles: []roleAssign{ra}})
	ch.res.GroupRolesGranted = append(ch.res.GroupRolesGranted, o.ids.id(kGroup, g))
	k, a := ch.admin()
	ch.log(t, "group.privilege.grant", k, a, tref{kind: tkGroup, a: int32(g)})
}

// revokeGroupRole takes every admin role from a group holding some.
func (ch *churner) revokeGroupRole(t int64) {
	o := ch.o
	var cands []int
	for i, ag := range o.adminGroups {
		if !o.groups[ag.idx].deleted {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return
	}
	i := cands[ch.r.intn(len(cands))]
	g := int(o.adminGroups[i].idx)
	o.adminGroups = slices.Delete(o.adminGroups, i, i+1)
	ch.res.GroupRolesRevoked = append(ch.res.GroupRolesRevoked, o.ids.id(kGroup, g))
	k, a := ch.admin()
	ch.log(t, "group.privilege.revoke", k, a, tref{kind: tkGroup, a: int32(g)})
}

// assignAppGroup assigns a group to an active app it is not assigned to. The
// app has groups already: an app's first group would turn some of its user
// assignments to scope GROUP, which Okta logs per user and this simulator
// does not model.
func (ch *churner) assignAppGroup(t int64) {
	o := ch.o
	for range 20 {
		a := ch.randomApp(func(app *appState) bool { return app.active && len(app.groups) > 0 })
		g := ch.randomGroup(func(int, *groupState) bool { return true })
		if g >= 0 && o.groups[g].deleted {
			continue
		}
		if a < 0 || g < 0 {
			return
		}
		app := &o.apps[a]
		if containsInt32(app.groups, int32(g)) {
			continue
		}
		app.groups = append(app.groups, int32(g))
		app.lastUpdated = t
		ch.res.AppGroupsAdded = append(ch.res.AppGroupsAdded, AppGroup{o.ids.id(kApp, a), o.ids.id(kGroup, g)})
		k, ad := ch.admin()
		ch.log(t, "group.application_assignment.add", k, ad, tref{kind: tkApp, a: int32(a)}, tref{kind: tkGroup, a: int32(g)})
		return
	}
}

// unassignAppGroup removes a group from an app; the groups after it move up
// in priority.
func (ch *churner) unassignAppGroup(t int64) {
	o := ch.o
	// An app keeps one group at least, for the reason assignAppGroup gives.
	live := func(app *appState) []int {
		var ks []int
		for k, g := range app.groups {
			if !o.groups[g].deleted {
				ks = append(ks, k)
			}
		}
		return ks
	}
	a := ch.randomApp(func(app *appState) bool { return len(app.groups) > 1 && len(live(app)) > 0 })
	if a < 0 {
		return
	}
	app := &o.apps[a]
	ks := live(app)
	k := ks[ch.r.intn(len(ks))]
	g := int(app.groups[k])
	app.groups = slices.Delete(app.groups, k, k+1)
	app.lastUpdated = t
	ch.res.AppGroupsRemoved = append(ch.res.AppGroupsRemoved, AppGroup{o.ids.id(kApp, a), o.ids.id(kGroup, g)})
	ak, ad := ch.admin()
	ch.log(t, "group.application_assignment.remove", ak, ad, tref{kind: tkApp, a: int32(a)}, tref{kind: tkGroup, a: int32(g)})
}

// updatePolicyRule activates or deactivates a policy rule.
func (ch *churner) updatePolicyRule(t int64) {
	o := ch.o
	if len(o.policyRules) == 0 {
		return
	}
	k := ch.r.intn(len(o.policyRules))
	pr := &o.policyRules[k]
	pr.active = !pr.active
	pr.lastUpd = t
	ch.res.PolicyRulesUpdated = append(ch.res.PolicyRulesUpdated, o.ids.id(kPolicyRule, k))
	ak, ad := ch.admin()
	ch.log(t, "policy.rule.update", ak, ad, tref{kind: tkPolicy, a: int32(pr.policy)}, tref{kind: tkPolicyRule, a: int32(k)})
}

// agreeNow makes a sign-in event of a churn step agree with the org as it
// is: its user is ACTIVE, its app one the user is assigned to, and a
// successful sign-in becomes the user's lastLogin. False: no user can.
func (ch *churner) agreeNow(r *rng, lr *logRec) bool {
	o := ch.o
	u := ch.randomUser(func(u *userState) bool { return u.status == stActive })
	if u < 0 {
		return false
	}
	lr.actorKind, lr.actor = akUser, int32(u)
	var apps []int32
	for a := len(builtinApps); a < len(o.apps); a++ {
		if app := &o.apps[a]; app.active && !app.deleted {
			if _, found := slices.BinarySearch(app.users, int32(u)); found {
				apps = append(apps, int32(a))
			}
		}
	}
	app := int32(1) // the Okta Dashboard
	if len(apps) > 0 {
		app = apps[r.intn(len(apps))]
	}
	for k := range int(lr.nt) {
		switch tr := &lr.t[k]; tr.kind {
		case tkUser, tkEnrollment:
			tr.a = int32(u)
		case tkApp:
			tr.a = app
		case tkAppUser:
			tr.a, tr.b = int32(u), app
		}
	}
	if lr.et == evSessionStart && lr.outcome == ocSuccess {
		o.users[u].lastLogin = max(o.users[u].lastLogin, lr.published)
	}
	return true
}
