package oktasim

import (
	"sort"
	"strconv"
	"strings"
)

// ---- Lookups: a path parameter to an object index, or 404 ----

// finder resolves path parameter p to an object index; find returns -1 for an
// unknown (or deleted, or hidden) object, answered by 404 E0000007 naming typ.
type finder struct {
	p    int
	typ  string
	find func(c *reqCtx, id string) int
}

func (f finder) get(c *reqCtx) (int, *apiError) {
	id := c.param(f.p)
	i := f.find(c, id)
	if i < 0 {
		return 0, errNotFound(id, f.typ)
	}
	return i, nil
}

// below finds ids of kind k among the first n(o) objects (those never deleted).
func below(k kind, n func(o *org) int) func(*reqCtx, string) int {
	return func(c *reqCtx, id string) int { return c.rd.o.idx(k, id, n(c.rd.o), nil) }
}

var (
	findUser        = finder{0, "User", func(c *reqCtx, id string) int { return c.rd.o.userIdx(id) }}
	findUserOrLogin = finder{0, "User", func(c *reqCtx, id string) int { return c.rd.o.userByIDOrLogin(id) }}
	findUserType    = finder{0, "CVDType", below(kUserType, func(*org) int { return len(userTypeDefs) })}
	findGroup       = finder{0, "UserGroup", func(c *reqCtx, id string) int {
		g := c.rd.o.groupIdx(id)
		if g >= 0 && groupHiddenFor(c.role, &c.rd.o.groups[g]) {
			return -1
		}
		return g
	}}
	findGroupRule   = finder{0, "GroupRule", below(kGroupRule, func(o *org) int { return len(o.rules) })}
	findApp         = finder{0, "AppInstance", func(c *reqCtx, id string) int { return c.rd.o.appIdx(id) }}
	findDevice      = finder{0, "Device", func(c *reqCtx, id string) int { return c.rd.o.deviceIdx(id) }}
	findResourceSet = finder{0, "IAMPolicy", below(kResourceSet, func(o *org) int { return len(o.resourceSets) })}
	findCustomRole  = finder{0, "CustomRole", customRoleIdx}
	findMapping     = finder{0, "ProfileMapping", below(kMapping, func(o *org) int { return len(o.mappings) })}
	findPolicy      = finder{0, "Policy", below(kPolicy, func(o *org) int { return len(o.policies) })}
	findIdP         = finder{0, "IdentityProvider", below(kIdP, func(o *org) int { return o.idps })}
	findZone        = finder{0, "NetworkZone", below(kZone, func(o *org) int { return o.zones })}
	findAPIToken    = finder{0, "ApiToken", below(kAPIToken, func(o *org) int { return o.apiTokens })}
)

// customRoleIdx accepts a role id or label.
func customRoleIdx(c *reqCtx, id string) int {
	o := c.rd.o
	k := o.ids.parse(kCustomRole, id)
	if k < 0 {
		for i := range o.customRoles {
			if customRoleDefs[i].label == id {
				k = i
			}
		}
	}
	if k >= len(o.customRoles) {
		return -1
	}
	return k
}

// one serves a single object: the one f finds (or 404), written by write.
func one(f finder, write func(c *reqCtx, i int)) handler {
	return func(_ *Sim, c *reqCtx) *apiError {
		i, e := f.get(c)
		if e != nil {
			return e
		}
		write(c, i)
		return nil
	}
}

// under serves an unpaged array (no Link header) of what write emits for the
// object f finds.
func under(f finder, write func(c *reqCtx, i int)) handler {
	return one(f, func(c *reqCtx, i int) {
		c.rd.w.arr()
		write(c, i)
		c.rd.w.endArr()
	})
}

// ---- Paged lists ----

// listing is a list paged as most of Okta's are: `limit` with a default and
// bounds, an `after` cursor naming the last object of the previous page, and
// self and next Link headers. Candidates are 0..n-1, or the object indexes in
// ids (ascending; set one of the two), in order.
type listing struct {
	kind          kind // the cursor's id kind
	def, min, max int  // the limit's default and bounds (min 0 means 1)
	n             int
	ids           []int32
	// query parses search or filter; it runs after the limit and before the
	// cursor, the order in which Okta reports bad parameters.
	query func() *apiError
	// after decodes the cursor to the last candidate seen (-1 for none); nil
	// means the last object's id of kind.
	after func(c *reqCtx) (int, *apiError)
	// cursor encodes the last candidate of a page; nil means its id of kind.
	cursor func(i int) string
	keep   func(i int) bool // nil keeps every candidate
	write  func(i int)
}

func (c *reqCtx) list(l listing) *apiError {
	limit, e := c.limitParam(l.def, max(l.min, 1), l.max)
	if e != nil {
		return e
	}
	if l.query != nil {
		if e := l.query(); e != nil {
			return e
		}
	}
	decode := l.after
	if decode == nil {
		decode = func(c *reqCtx) (int, *apiError) { return parseIDCursor(c, l.kind) }
	}
	after, e := decode(c)
	if e != nil {
		return e
	}
	start, end, item := after+1, l.n, func(k int) int { return k }
	if l.ids != nil {
		start, end, item = upperBound(l.ids, int32(after)), len(l.ids), func(k int) int { return int(l.ids[k]) }
	}
	var page []int
	more := false
	for k := start; k < end; k++ {
		i := item(k)
		if l.keep != nil && !l.keep(i) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, i)
	}
	w := c.rd.w
	w.arr()
	for _, i := range page {
		l.write(i)
	}
	w.endArr()
	next := ""
	if more {
		last := page[len(page)-1]
		if l.cursor != nil {
			next = l.cursor(last)
		} else {
			next = c.rd.o.ids.id(l.kind, last)
		}
	}
	c.setLinks(limit, next)
	return nil
}

// firstMatches serves a `q` search: the first limit of the objects 0..n-1
// that keep accepts, with no Link header (Okta does not page q searches).
func (c *reqCtx) firstMatches(def, maximum, n int, keep func(int) bool, write func(int)) *apiError {
	limit, e := c.limitParam(def, 1, maximum)
	if e != nil {
		return e
	}
	c.rd.w.arr()
	found := 0
	for i := 0; i < n && found < limit; i++ {
		if keep(i) {
			write(i)
			found++
		}
	}
	c.rd.w.endArr()
	return nil
}

// Users cursors are opaque: a version digit followed by the last user id (as
// observed: after=200unwlw0tbo8E6aVj5d7 for user 00unwlw0tbo8E6aVj5d7). A bare
// user id is rejected, so clients must follow the Link header.
const userCursorVersion = "2"

func parseUserCursor(c *reqCtx) (int, *apiError) {
	a := c.q.Get("after")
	if a == "" {
		return -1, nil
	}
	if len(a) != 21 || a[0] < '0' || a[0] > '9' {
		return 0, errBadCursor()
	}
	i := c.rd.o.ids.parse(kUser, a[1:])
	if i < 0 {
		return 0, errBadCursor()
	}
	return i, nil
}

// parseIDCursor decodes an `after` cursor that is the last id of kind k.
func parseIDCursor(c *reqCtx, k kind) (int, *apiError) {
	a := c.q.Get("after")
	if a == "" {
		return -1, nil
	}
	i := c.rd.o.ids.parse(k, a)
	if i < 0 {
		return 0, errBadCursor()
	}
	return i, nil
}

// compileParam parses query parameter name as a filter expression checked
// against rules; nil when the parameter is absent.
func compileParam(c *reqCtx, name string, rules filterRules) (*expr, *apiError) {
	v := c.q.Get(name)
	if v == "" {
		return nil, nil
	}
	e, err := parseFilter(v)
	if err == nil {
		err = rules.check(e)
	}
	if err != nil {
		return nil, errBadSearch(err.Error())
	}
	return e, nil
}

// compileQuery parses `search` (which wins) or `filter` against the endpoint's
// rules, and reports whether either was given.
func compileQuery(c *reqCtx, searchRules, filtRules filterRules) (*expr, bool, *apiError) {
	if c.q.Get("search") != "" {
		e, err := compileParam(c, "search", searchRules)
		return e, true, err
	}
	e, err := compileParam(c, "filter", filtRules)
	return e, c.q.Get("filter") != "", err
}

// attrOf adapts an attribute lookup of object i to a filter getter.
func attrOf(i int, attr func(i int, name string) (string, int64, bool, bool)) getter {
	return func(name string) (string, int64, bool, bool) { return attr(i, name) }
}

// hUsers: GET /api/v1/users. A plain list omits DEPROVISIONED users; search and
// filter include them; q is a non-paginated startsWith query.
func hUsers(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	if qv := c.q.Get("q"); qv != "" && c.q.Get("search") == "" && c.q.Get("filter") == "" {
		qv = strings.ToLower(qv)
		return c.firstMatches(10, 200, len(o.users), func(i int) bool {
			if u := &o.users[i]; u.deleted || u.status == stDeprovisioned {
				return false
			}
			f, l := o.userNames(i)
			return strings.HasPrefix(strings.ToLower(f), qv) || strings.HasPrefix(strings.ToLower(l), qv) ||
				strings.HasPrefix(o.userLogin(i), qv)
		}, func(i int) { c.rd.writeUser(i, false) })
	}
	var ex *expr
	queried := false
	return c.list(listing{kind: kUser, def: 200, max: 200, n: len(o.users),
		query: func() (e *apiError) {
			ex, queried, e = compileQuery(c, userSearchRules, userFilterRules)
			return e
		},
		after:  parseUserCursor,
		cursor: func(i int) string { return userCursorVersion + o.ids.id(kUser, i) },
		keep: func(i int) bool {
			u := &o.users[i]
			return !u.deleted && (queried || u.status != stDeprovisioned) && (ex == nil || ex.eval(attrOf(i, c.rd.userAttr)))
		},
		write: func(i int) { c.rd.writeUser(i, false) },
	})
}

var hUser = one(findUserOrLogin, func(c *reqCtx, i int) { c.rd.writeUser(i, true) })

// hMe: GET /api/v1/users/me, the admin user the calling token acts for. A
// simulated token carries a role type, not a user: it is the first live admin
// holding that role type, else the first live admin (the org's first super
// admin owns the API tokens). Every valid token may read itself.
func hMe(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	me := -1
	for _, a := range o.adminUsers {
		if u := &o.users[a.idx]; u.deleted || u.status == stDeprovisioned {
			continue
		}
		if me < 0 {
			me = int(a.idx)
		}
		for _, ra := range a.roles {
			if ra.std >= 0 && rolesStd[ra.std].typ == c.role {
				c.rd.writeUser(int(a.idx), true)
				return nil
			}
		}
	}
	if me < 0 {
		return errUnauthorized // no user left to act for
	}
	c.rd.writeUser(me, true)
	return nil
}

// hUserRoles lists a user's direct roles and those held through groups. Not paginated.
var hUserRoles = under(findUser, func(c *reqCtx, i int) {
	o := c.rd.o
	for _, a := range o.adminUsers {
		if int(a.idx) == i {
			for _, ra := range a.roles {
				c.rd.writeRole(ra, i, -1)
			}
		}
	}
	for _, a := range o.adminGroups {
		if !o.groups[a.idx].deleted && o.isMember(int(a.idx), int32(i)) {
			for _, ra := range a.roles {
				c.rd.writeRole(ra, i, int(a.idx))
			}
		}
	}
})

var hUserGroups = under(findUser, func(c *reqCtx, i int) {
	o := c.rd.o
	for g := range o.groups {
		if !o.groups[g].deleted && o.isMember(g, int32(i)) {
			c.rd.writeGroup(g, false)
		}
	}
})

var hUserFactors = under(findUser, func(c *reqCtx, i int) {
	for _, k := range c.rd.o.userFactors(i) {
		c.rd.writeFactor(i, k)
	}
})

var hUserEnrollments = under(findUser, func(c *reqCtx, i int) {
	for _, k := range c.rd.o.userEnrollments(i) {
		c.rd.writeEnrollment(i, k)
	}
})

func hUserTypes(s *Sim, c *reqCtx) *apiError {
	w := c.rd.w
	w.arr()
	for t := range userTypeDefs {
		c.rd.writeUserType(t)
	}
	w.endArr()
	return nil
}

var hUserType = one(findUserType, func(c *reqCtx, t int) { c.rd.writeUserType(t) })

// groupHiddenFor: the Everyone group is not returned to group-admin roles.
func groupHiddenFor(role string, gs *groupState) bool {
	return gs.kind == gBuiltIn && (role == RoleUserAdmin || role == RoleGroupMembershipAdmin)
}

func hGroups(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	stats := c.q.Get("expand") == "stats"
	write := func(g int) { c.rd.writeGroup(g, stats) }
	if qv := c.q.Get("q"); qv != "" && c.q.Get("search") == "" && c.q.Get("filter") == "" {
		// Paging and searching are mutually exclusive: no Link header at all.
		qv = strings.ToLower(qv)
		return c.firstMatches(300, 10000, len(o.groups), func(g int) bool {
			gs := &o.groups[g]
			return !gs.deleted && !groupHiddenFor(c.role, gs) && strings.HasPrefix(strings.ToLower(o.groupName(g)), qv)
		}, write)
	}
	var ex *expr
	return c.list(listing{kind: kGroup, def: 10000, max: 10000, n: len(o.groups),
		query: func() (e *apiError) {
			ex, _, e = compileQuery(c, groupSearchRules, groupFilterRules)
			return e
		},
		keep: func(g int) bool {
			gs := &o.groups[g]
			return !gs.deleted && !groupHiddenFor(c.role, gs) && (ex == nil || ex.eval(attrOf(g, c.rd.groupAttr)))
		},
		write: write,
	})
}

var hGroup = one(findGroup, func(c *reqCtx, g int) { c.rd.writeGroup(g, c.q.Get("expand") == "stats") })

// hGroupUsers lists members (full User objects, any status) by user index.
func hGroupUsers(s *Sim, c *reqCtx) *apiError {
	g, e := findGroup.get(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	l := listing{kind: kUser, def: 1000, max: 1000, write: func(i int) { c.rd.writeUser(i, false) }}
	if g == 0 { // Everyone
		l.n, l.keep = len(o.users), func(i int) bool { return !o.users[i].deleted }
	} else {
		l.ids = o.groups[g].members
	}
	return c.list(l)
}

var hGroupRoles = under(findGroup, func(c *reqCtx, g int) {
	for _, a := range c.rd.o.adminGroups {
		if int(a.idx) == g {
			for _, ra := range a.roles {
				c.rd.writeRole(ra, -1, g)
			}
		}
	}
})

func hGroupRules(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	kw := strings.ToLower(c.q.Get("search"))
	return c.list(listing{kind: kGroupRule, def: 50, max: 200, n: len(o.rules),
		keep: func(k int) bool {
			return kw == "" || strings.Contains(strings.ToLower("Auto-assign "+o.rules[k].dept+" "+itoa(k+1)), kw)
		},
		write: c.rd.writeGroupRule,
	})
}

var hGroupRule = one(findGroupRule, func(c *reqCtx, k int) { c.rd.writeGroupRule(k) })

// hApps: without includeNonDeleted (or a filter) only ACTIVE apps are listed.
func hApps(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	if ex := c.q.Get("expand"); ex != "" && !strings.HasPrefix(ex, "user/") {
		return &apiError{status: 400, code: "E0000001", summary: "Api validation failed: expand", causes: []string{"Expand query is malformed."}}
	}
	var ex *expr
	qv := strings.ToLower(c.q.Get("q"))
	return c.list(listing{kind: kApp, def: 20, max: 200, n: len(o.apps),
		query: func() (e *apiError) {
			ex, e = compileParam(c, "filter", appFilterRules)
			return e
		},
		keep: func(a int) bool {
			app := &o.apps[a]
			if app.deleted || (!app.active && c.q.Get("includeNonDeleted") != "true" && ex == nil) {
				return false
			}
			if qv != "" && !strings.HasPrefix(strings.ToLower(app.label), qv) && !strings.HasPrefix(app.tmpl.name, qv) {
				return false
			}
			return ex == nil || ex.eval(attrOf(a, c.rd.appAttr))
		},
		write: c.rd.writeApp,
	})
}

// appAttr is the filter view of app a: id, status and name.
func (rd *renderer) appAttr(a int, name string) (string, int64, bool, bool) {
	switch name {
	case "id":
		return rd.o.ids.id(kApp, a), 0, false, true
	case "status":
		return activeStr(rd.o.apps[a].active), 0, false, true
	case "name":
		return rd.o.apps[a].tmpl.name, 0, false, true
	case "credentials.signing.kid":
		switch rd.o.apps[a].tmpl.mode {
		case "SAML_2_0", "WS_FEDERATION":
			return b64id(rd.o.seed, 0x6b6964, uint64(a), 43), 0, false, true
		case "OPENID_CONNECT":
			return rd.o.orgKid(), 0, false, true
		}
	}
	return "", 0, false, false
}

var hApp = one(findApp, func(c *reqCtx, a int) { c.rd.writeApp(a) })

func hAppUsers(s *Sim, c *reqCtx) *apiError {
	a, e := findApp.get(c)
	if e != nil {
		return e
	}
	expand := c.q.Get("expand") == "user"
	return c.list(listing{kind: kUser, def: 50, max: 500, ids: c.rd.o.apps[a].users,
		write: func(u int) { c.rd.writeAppUser(a, int32(u), expand) }})
}

func hAppUser(s *Sim, c *reqCtx) *apiError {
	a, e := findApp.get(c)
	if e != nil {
		return e
	}
	u, e := finder{1, "User", findUser.find}.get(c)
	if e != nil {
		return e
	}
	us := c.rd.o.apps[a].users
	k := sort.Search(len(us), func(i int) bool { return us[i] >= int32(u) })
	if k >= len(us) || us[k] != int32(u) {
		return errNotFound(c.param(1), "AppUser")
	}
	c.rd.writeAppUser(a, int32(u), c.q.Get("expand") == "user")
	return nil
}

// hAppGroups pages an app's assignments in priority order; the cursor is the
// last group's id. Deleted groups stay in the list (their assignments are
// gone, the others keep their priority) and are skipped here.
func hAppGroups(s *Sim, c *reqCtx) *apiError {
	a, e := findApp.get(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	gs := o.apps[a].groups
	return c.list(listing{kind: kGroup, def: 20, min: 20, max: 200, n: len(gs),
		after: func(c *reqCtx) (int, *apiError) {
			if c.q.Get("after") == "" {
				return -1, nil
			}
			g, e := parseIDCursor(c, kGroup)
			if e != nil {
				return 0, e
			}
			for k := len(gs) - 1; k >= 0; k-- {
				if int(gs[k]) == g {
					return k, nil
				}
			}
			return 0, errBadCursor()
		},
		cursor: func(k int) string { return o.ids.id(kGroup, int(gs[k])) },
		keep:   func(k int) bool { return !o.groups[gs[k]].deleted },
		write:  func(k int) { c.rd.writeAppGroup(a, k) },
	})
}

func hAppGroup(s *Sim, c *reqCtx) *apiError {
	a, e := findApp.get(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	g := o.groupIdx(c.param(1))
	for k, x := range o.apps[a].groups {
		if g >= 0 && int(x) == g {
			c.rd.writeAppGroup(a, k)
			return nil
		}
	}
	return errNotFound(c.param(1), "ApplicationGroupAssignment")
}

func hDevices(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	var ex *expr
	expand := deviceExpand(c.q.Get("expand"))
	return c.list(listing{kind: kDevice, def: 200, max: 200, n: len(o.devices),
		query: func() (e *apiError) {
			ex, _, e = compileQuery(c, deviceSearchRules, deviceSearchRules)
			return e
		},
		// Devices answer a bad cursor as a bad search.
		after: func(c *reqCtx) (int, *apiError) {
			a := c.q.Get("after")
			if a == "" {
				return -1, nil
			}
			d := o.ids.parse(kDevice, a)
			if d < 0 {
				return 0, errBadSearch("Invalid cursor.")
			}
			return d, nil
		},
		keep: func(d int) bool {
			return !o.devices[d].deleted && (ex == nil || ex.eval(attrOf(d, c.rd.deviceAttr)))
		},
		write: func(d int) { c.rd.writeDevice(d, expand) },
	})
}

var hDevice = one(findDevice, func(c *reqCtx, d int) { c.rd.writeDevice(d, deviceExpand(c.q.Get("expand"))) })

var hDeviceUsers = under(finder{0, "GenericUDObject", findDevice.find}, func(c *reqCtx, d int) {
	o := c.rd.o
	for _, u := range o.devices[d].users {
		if u >= 0 && !o.users[u].deleted {
			c.rd.writeDeviceUser(d, u, false)
		}
	}
})

// iamList writes a wrapped IAM list body {key: [...], _links: {self, next}} with
// the next page in the body (on the link base, like every body link), plus a
// Link self header.
func iamList(c *reqCtx, key string, n, limit int, idOf func(int) string, write func(int)) *apiError {
	after := -1
	if a := c.q.Get("after"); a != "" {
		after = -2
		for k := range n {
			if idOf(k) == a {
				after = k
				break
			}
		}
		if after == -2 {
			return errBadCursor()
		}
	}
	start := after + 1
	end := min(start+limit, n)
	w := c.rd.w
	w.obj()
	w.ka(key)
	for k := start; k < end; k++ {
		write(k)
	}
	w.endArr()
	w.ko("_links")
	w.href("self", c.pageURLOn(c.rd.lb))
	if end < n {
		w.href("next", c.pageURLOn(c.rd.lb, "after", idOf(end-1)))
	}
	w.end()
	w.end()
	c.links = append(c.links, "<"+c.pageURL()+`>; rel="self"`)
	return nil
}

const iamPageSize = 20

func hResourceSets(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	return iamList(c, "resource-sets", len(o.resourceSets), iamPageSize,
		func(k int) string { return o.ids.id(kResourceSet, k) }, c.rd.writeResourceSet)
}

var hResourceSet = one(findResourceSet, func(c *reqCtx, k int) { c.rd.writeResourceSet(k) })

func hResources(s *Sim, c *reqCtx) *apiError {
	k, e := findResourceSet.get(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	limit, e := c.limitParam(100, 1, 100)
	if e != nil {
		return e
	}
	rs := o.resourceSets[k].resources
	return iamList(c, "resources", len(rs), limit,
		func(r int) string { return o.ids.id(kResource, rs[r].id) },
		func(r int) { c.rd.writeResource(k, r) })
}

func hCustomRoles(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	return iamList(c, "roles", len(o.customRoles), iamPageSize,
		func(k int) string { return o.ids.id(kCustomRole, k) }, c.rd.writeCustomRole)
}

var hCustomRole = one(findCustomRole, func(c *reqCtx, k int) { c.rd.writeCustomRole(k) })

var hPermissions = one(findCustomRole, func(c *reqCtx, k int) {
	w := c.rd.w
	w.obj().ka("permissions")
	for _, p := range c.rd.o.rolePerms[k] {
		c.rd.writePermission(k, p)
	}
	w.endArr().end()
})

// hAssignees: GET /iam/assignees/users -> {"value":[{id, orn, _links}], "_links":{next}}.
func hAssignees(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	limit, e := c.limitParam(100, 1, 100)
	if e != nil {
		return e
	}
	var users []int
	for _, a := range o.adminUsers {
		if !o.users[a.idx].deleted {
			users = append(users, int(a.idx))
		}
	}
	orgID := o.ids.id(kOrg, 0)
	return iamList(c, "value", len(users), limit,
		func(k int) string { return o.ids.id(kUser, users[k]) },
		func(k int) {
			id := o.ids.id(kUser, users[k])
			self := c.rd.lb + "/api/v1/users/" + id
			c.rd.w.obj().ks("id", id).ks("orn", "orn:okta:directory:"+orgID+":users:"+id).
				ko("_links").href("self", self).href("roles", self+"/roles").end().end()
		})
}

func hMappings(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	src, dst := c.q.Get("sourceId"), c.q.Get("targetId")
	endID := func(k uint8, ref int) string {
		switch k {
		case 0:
			return o.ids.id(kUserType, ref)
		case 1:
			return o.ids.id(kApp, ref)
		}
		return o.ids.id(kIdP, ref)
	}
	return c.list(listing{kind: kMapping, def: 20, max: 200, n: len(o.mappings),
		keep: func(m int) bool {
			md := &o.mappings[m]
			return (src == "" || endID(md.srcKind, md.srcRef) == src) && (dst == "" || endID(md.dstKind, md.dstRef) == dst)
		},
		write: func(m int) { c.rd.writeMapping(m, false) },
	})
}

var hMapping = one(findMapping, func(c *reqCtx, m int) { c.rd.writeMapping(m, true) })

// hPolicies: type is required; limit (a string param) and after page by id.
func hPolicies(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	typ := c.q.Get("type")
	if typ == "" {
		return errValidation("type", "type: The type parameter is required.")
	}
	if !containsStr(policyTypes, typ) {
		return errValidation("type", "type: Invalid policy type "+strconv.Quote(typ)+".")
	}
	status := c.q.Get("status")
	var all []int
	for p := range o.policies {
		if o.policies[p].typ == typ && (status == "" || activeStr(o.policies[p].active) == status) {
			all = append(all, p)
		}
	}
	start := 0
	if c.q.Get("after") != "" {
		p, e := parseIDCursor(c, kPolicy)
		if e != nil {
			return e
		}
		start = sort.SearchInts(all, p+1)
	}
	end := len(all)
	paged := c.q.Get("limit") != ""
	limit := 0
	if paged {
		var e *apiError
		limit, e = c.limitParam(len(all), 1, 200)
		if e != nil {
			return e
		}
		end = min(start+limit, len(all))
	}
	w := c.rd.w
	w.arr()
	for _, p := range all[start:end] {
		c.rd.writePolicy(p)
	}
	w.endArr()
	if paged {
		next := ""
		if end < len(all) {
			next = o.ids.id(kPolicy, all[end-1])
		}
		c.setLinks(limit, next)
	} else {
		c.links = append(c.links, "<"+c.pageURL()+`>; rel="self"`)
	}
	return nil
}

var hPolicy = one(findPolicy, func(c *reqCtx, p int) { c.rd.writePolicy(p) })

var hPolicyRules = under(findPolicy, func(c *reqCtx, p int) {
	for _, k := range c.rd.o.policies[p].rules {
		c.rd.writePolicyRule(k)
	}
})

func hPolicyRule(s *Sim, c *reqCtx) *apiError {
	p, e := findPolicy.get(c)
	if e != nil {
		return e
	}
	k, e := finder{1, "PolicyRule", func(c *reqCtx, id string) int {
		k := c.rd.o.ids.parse(kPolicyRule, id)
		if k < 0 || !containsInt(c.rd.o.policies[p].rules, k) {
			return -1
		}
		return k
	}}.get(c)
	if e != nil {
		return e
	}
	c.rd.writePolicyRule(k)
	return nil
}

func hIdPs(s *Sim, c *reqCtx) *apiError {
	typ, qv := c.q.Get("type"), strings.ToLower(c.q.Get("q"))
	return c.list(listing{kind: kIdP, def: 20, max: 200, n: c.rd.o.idps,
		keep: func(i int) bool {
			return (typ == "" || c.rd.o.idpDef(i).typ == typ) && (qv == "" || strings.HasPrefix(strings.ToLower(c.rd.o.idpDef(i).name), qv))
		},
		write: c.rd.writeIdP,
	})
}

var hIdP = one(findIdP, func(c *reqCtx, i int) { c.rd.writeIdP(i) })

func hZones(s *Sim, c *reqCtx) *apiError {
	return c.list(listing{kind: kZone, def: 1000, max: 1000, n: c.rd.o.zones, write: c.rd.writeZone})
}

var hZone = one(findZone, func(c *reqCtx, z int) { c.rd.writeZone(z) })

func hAPITokens(s *Sim, c *reqCtx) *apiError {
	return c.list(listing{kind: kAPIToken, def: 20, max: 200, n: c.rd.o.apiTokens, write: c.rd.writeAPIToken})
}

var hAPIToken = one(findAPIToken, func(c *reqCtx, t int) { c.rd.writeAPIToken(t) })
