package oktasim

import (
	"sort"
	"strconv"
	"strings"
)

// Users cursors are opaque: a version digit followed by the last user id (as
// observed: after=200unwlw0tbo8E6aVj5d7 for user 00unwlw0tbo8E6aVj5d7). A bare
// user id is rejected, so clients must follow the Link header.
const userCursorVersion = "2"

func (s *Sim) parseUserCursor(c *reqCtx) (int, *apiError) {
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

// compileQuery parses `search` or `filter` against the endpoint's rules.
func compileQuery(c *reqCtx, searchRules, filtRules filterRules) (*expr, bool, *apiError) {
	for _, p := range []struct {
		name  string
		rules filterRules
	}{{"search", searchRules}, {"filter", filtRules}} {
		v := c.q.Get(p.name)
		if v == "" {
			continue
		}
		e, err := parseFilter(v)
		if err == nil {
			err = p.rules.check(e)
		}
		if err != nil {
			return nil, true, errBadSearch(err.Error())
		}
		return e, true, nil
	}
	return nil, false, nil
}

// hUsers: GET /api/v1/users. A plain list omits DEPROVISIONED users; search and
// filter include them; q is a non-paginated startsWith query.
func hUsers(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	if qv := c.q.Get("q"); qv != "" && c.q.Get("search") == "" && c.q.Get("filter") == "" {
		limit, e := c.limitParam(10, 1, 200)
		if e != nil {
			return e
		}
		qv = strings.ToLower(qv)
		w := c.rd.w
		w.arr()
		n := 0
		for i := range o.users {
			if n >= limit {
				break
			}
			u := &o.users[i]
			if u.deleted || u.status == stDeprovisioned {
				continue
			}
			f, l := o.userNames(i)
			if strings.HasPrefix(strings.ToLower(f), qv) || strings.HasPrefix(strings.ToLower(l), qv) ||
				strings.HasPrefix(o.userLogin(i), qv) {
				c.rd.writeUser(i, false)
				n++
			}
		}
		w.endArr()
		return nil
	}
	limit, e := c.limitParam(200, 1, 200)
	if e != nil {
		return e
	}
	ex, queried, e := compileQuery(c, userSearchRules, userFilterRules)
	if e != nil {
		return e
	}
	after, e := s.parseUserCursor(c)
	if e != nil {
		return e
	}
	get := func(i int) getter {
		return func(name string) (string, int64, bool, bool) { return c.rd.userAttr(i, name) }
	}
	var page []int
	more := false
	for i := after + 1; i < len(o.users); i++ {
		u := &o.users[i]
		if u.deleted || (!queried && u.status == stDeprovisioned) {
			continue
		}
		if ex != nil && !ex.eval(get(i)) {
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
		c.rd.writeUser(i, false)
	}
	w.endArr()
	next := ""
	if more {
		next = userCursorVersion + o.ids.id(kUser, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func hUser(s *Sim, c *reqCtx) *apiError {
	i := c.rd.o.userByIDOrLogin(c.param(0))
	if i < 0 {
		return errNotFound(c.param(0), "User")
	}
	c.rd.writeUser(i, true)
	return nil
}

func userOr404(c *reqCtx) (int, *apiError) {
	i := c.rd.o.userIdx(c.param(0))
	if i < 0 {
		return 0, errNotFound(c.param(0), "User")
	}
	return i, nil
}

// hUserRoles lists a user's direct roles and those held through groups. Not paginated.
func hUserRoles(s *Sim, c *reqCtx) *apiError {
	i, e := userOr404(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	w := c.rd.w
	w.arr()
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
	w.endArr()
	return nil
}

func hUserGroups(s *Sim, c *reqCtx) *apiError {
	i, e := userOr404(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	w := c.rd.w
	w.arr()
	for g := range o.groups {
		if !o.groups[g].deleted && o.isMember(g, int32(i)) {
			c.rd.writeGroup(g, false)
		}
	}
	w.endArr()
	return nil
}

func hUserFactors(s *Sim, c *reqCtx) *apiError {
	i, e := userOr404(c)
	if e != nil {
		return e
	}
	w := c.rd.w
	w.arr()
	for _, k := range c.rd.o.userFactors(i) {
		c.rd.writeFactor(i, k)
	}
	w.endArr()
	return nil
}

func hUserEnrollments(s *Sim, c *reqCtx) *apiError {
	i, e := userOr404(c)
	if e != nil {
		return e
	}
	w := c.rd.w
	w.arr()
	for _, k := range c.rd.o.userEnrollments(i) {
		c.rd.writeEnrollment(i, k)
	}
	w.endArr()
	return nil
}

func hUserTypes(s *Sim, c *reqCtx) *apiError {
	w := c.rd.w
	w.arr()
	for t := range userTypeDefs {
		c.rd.writeUserType(t)
	}
	w.endArr()
	return nil
}

func hUserType(s *Sim, c *reqCtx) *apiError {
	t := c.rd.o.ids.parse(kUserType, c.param(0))
	if t < 0 || t >= len(userTypeDefs) {
		return errNotFound(c.param(0), "CVDType")
	}
	c.rd.writeUserType(t)
	return nil
}

// groupHiddenFor: the Everyone group is not returned to group-admin roles.
func groupHiddenFor(role string, gs *groupState) bool {
	return gs.kind == gBuiltIn && (role == RoleUserAdmin || role == RoleGroupMembershipAdmin)
}

func hGroups(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	stats := c.q.Get("expand") == "stats"
	if qv := c.q.Get("q"); qv != "" && c.q.Get("search") == "" && c.q.Get("filter") == "" {
		// Paging and searching are mutually exclusive: no Link header at all.
		limit, e := c.limitParam(300, 1, 10000)
		if e != nil {
			return e
		}
		qv = strings.ToLower(qv)
		w := c.rd.w
		w.arr()
		n := 0
		for g := range o.groups {
			gs := &o.groups[g]
			if n >= limit {
				break
			}
			if gs.deleted || groupHiddenFor(c.role, gs) || !strings.HasPrefix(strings.ToLower(o.groupName(g)), qv) {
				continue
			}
			c.rd.writeGroup(g, stats)
			n++
		}
		w.endArr()
		return nil
	}
	limit, e := c.limitParam(10000, 1, 10000)
	if e != nil {
		return e
	}
	ex, _, e := compileQuery(c, groupSearchRules, groupFilterRules)
	if e != nil {
		return e
	}
	after, e := parseIDCursor(c, kGroup)
	if e != nil {
		return e
	}
	var page []int
	more := false
	for g := after + 1; g < len(o.groups); g++ {
		gs := &o.groups[g]
		if gs.deleted || groupHiddenFor(c.role, gs) {
			continue
		}
		if ex != nil && !ex.eval(func(name string) (string, int64, bool, bool) { return c.rd.groupAttr(g, name) }) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, g)
	}
	w := c.rd.w
	w.arr()
	for _, g := range page {
		c.rd.writeGroup(g, stats)
	}
	w.endArr()
	next := ""
	if more {
		next = o.ids.id(kGroup, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func groupOr404(c *reqCtx) (int, *apiError) {
	g := c.rd.o.groupIdx(c.param(0))
	if g < 0 || groupHiddenFor(c.role, &c.rd.o.groups[g]) {
		return 0, errNotFound(c.param(0), "UserGroup")
	}
	return g, nil
}

func hGroup(s *Sim, c *reqCtx) *apiError {
	g, e := groupOr404(c)
	if e != nil {
		return e
	}
	c.rd.writeGroup(g, c.q.Get("expand") == "stats")
	return nil
}

// hGroupUsers lists members (full User objects, any status) by user index.
func hGroupUsers(s *Sim, c *reqCtx) *apiError {
	g, e := groupOr404(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	limit, e := c.limitParam(1000, 1, 1000)
	if e != nil {
		return e
	}
	after, e := parseIDCursor(c, kUser)
	if e != nil {
		return e
	}
	var page []int
	more := false
	if g == 0 {
		for i := after + 1; i < len(o.users); i++ {
			if o.users[i].deleted {
				continue
			}
			if len(page) == limit {
				more = true
				break
			}
			page = append(page, i)
		}
	} else {
		m := o.groups[g].members
		k := upperBound(m, int32(after))
		for ; k < len(m); k++ {
			if len(page) == limit {
				more = true
				break
			}
			page = append(page, int(m[k]))
		}
	}
	w := c.rd.w
	w.arr()
	for _, i := range page {
		c.rd.writeUser(i, false)
	}
	w.endArr()
	next := ""
	if more {
		next = o.ids.id(kUser, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func hGroupRoles(s *Sim, c *reqCtx) *apiError {
	g, e := groupOr404(c)
	if e != nil {
		return e
	}
	w := c.rd.w
	w.arr()
	for _, a := range c.rd.o.adminGroups {
		if int(a.idx) == g {
			for _, ra := range a.roles {
				c.rd.writeRole(ra, -1, g)
			}
		}
	}
	w.endArr()
	return nil
}

func hGroupRules(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	limit, e := c.limitParam(50, 1, 200)
	if e != nil {
		return e
	}
	after, e := parseIDCursor(c, kGroupRule)
	if e != nil {
		return e
	}
	kw := strings.ToLower(c.q.Get("search"))
	var page []int
	more := false
	for k := after + 1; k < len(o.rules); k++ {
		if kw != "" && !strings.Contains(strings.ToLower("Auto-assign "+o.rules[k].dept+" "+itoa(k+1)), kw) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, k)
	}
	w := c.rd.w
	w.arr()
	for _, k := range page {
		c.rd.writeGroupRule(k)
	}
	w.endArr()
	next := ""
	if more {
		next = o.ids.id(kGroupRule, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func hGroupRule(s *Sim, c *reqCtx) *apiError {
	k := c.rd.o.ids.parse(kGroupRule, c.param(0))
	if k < 0 || k >= len(c.rd.o.rules) {
		return errNotFound(c.param(0), "GroupRule")
	}
	c.rd.writeGroupRule(k)
	return nil
}

// appVisible: without includeNonDeleted only ACTIVE apps are listed.
func hApps(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	if ex := c.q.Get("expand"); ex != "" && !strings.HasPrefix(ex, "user/") {
		return &apiError{status: 400, code: "E0000001", summary: "Api validation failed: expand", causes: []string{"Expand query is malformed."}}
	}
	limit, e := c.limitParam(20, 1, 200)
	if e != nil {
		return e
	}
	var ex *expr
	if f := c.q.Get("filter"); f != "" {
		var err error
		ex, err = parseFilter(f)
		if err == nil {
			err = appFilterRules.check(ex)
		}
		if err != nil {
			return errBadSearch(err.Error())
		}
	}
	after, e := parseIDCursor(c, kApp)
	if e != nil {
		return e
	}
	includeInactive := c.q.Get("includeNonDeleted") == "true" || ex != nil
	qv := strings.ToLower(c.q.Get("q"))
	var page []int
	more := false
	for a := after + 1; a < len(o.apps); a++ {
		app := &o.apps[a]
		if app.deleted || (!app.active && !includeInactive) {
			continue
		}
		if qv != "" && !strings.HasPrefix(strings.ToLower(app.label), qv) && !strings.HasPrefix(app.tmpl.name, qv) {
			continue
		}
		if ex != nil && !ex.eval(func(name string) (string, int64, bool, bool) {
			switch name {
			case "id":
				return o.ids.id(kApp, a), 0, false, true
			case "status":
				return activeStr(app.active), 0, false, true
			case "name":
				return app.tmpl.name, 0, false, true
			}
			return "", 0, false, false
		}) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, a)
	}
	w := c.rd.w
	w.arr()
	for _, a := range page {
		c.rd.writeApp(a)
	}
	w.endArr()
	next := ""
	if more {
		next = o.ids.id(kApp, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func appOr404(c *reqCtx) (int, *apiError) {
	a := c.rd.o.appIdx(c.param(0))
	if a < 0 {
		return 0, errNotFound(c.param(0), "AppInstance")
	}
	return a, nil
}

func hApp(s *Sim, c *reqCtx) *apiError {
	a, e := appOr404(c)
	if e != nil {
		return e
	}
	c.rd.writeApp(a)
	return nil
}

func hAppUsers(s *Sim, c *reqCtx) *apiError {
	a, e := appOr404(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	limit, e := c.limitParam(50, 1, 500)
	if e != nil {
		return e
	}
	after, e := parseIDCursor(c, kUser)
	if e != nil {
		return e
	}
	expand := c.q.Get("expand") == "user"
	us := o.apps[a].users
	k := upperBound(us, int32(after))
	end := min(k+limit, len(us))
	w := c.rd.w
	w.arr()
	for _, u := range us[k:end] {
		c.rd.writeAppUser(a, u, expand)
	}
	w.endArr()
	next := ""
	if end < len(us) {
		next = o.ids.id(kUser, int(us[end-1]))
	}
	c.setLinks(limit, next)
	return nil
}

func hAppUser(s *Sim, c *reqCtx) *apiError {
	a, e := appOr404(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	u := o.userIdx(c.param(1))
	if u < 0 {
		return errNotFound(c.param(1), "User")
	}
	us := o.apps[a].users
	k := sort.Search(len(us), func(i int) bool { return us[i] >= int32(u) })
	if k >= len(us) || us[k] != int32(u) {
		return errNotFound(c.param(1), "AppUser")
	}
	c.rd.writeAppUser(a, int32(u), c.q.Get("expand") == "user")
	return nil
}

func hAppGroups(s *Sim, c *reqCtx) *apiError {
	a, e := appOr404(c)
	if e != nil {
		return e
	}
	o := c.rd.o
	limit, e := c.limitParam(20, 20, 200)
	if e != nil {
		return e
	}
	gs := o.apps[a].groups
	start := 0
	if c.q.Get("after") != "" {
		g, e := parseIDCursor(c, kGroup)
		if e != nil {
			return e
		}
		start = -1
		for k, x := range gs {
			if int(x) == g {
				start = k + 1
			}
		}
		if start < 0 {
			return errBadCursor()
		}
	}
	// Deleted groups stay in the list (their assignments are gone, the
	// others keep their priority) and are skipped here.
	w := c.rd.w
	w.arr()
	n, k := 0, start
	for ; k < len(gs) && n < limit; k++ {
		if o.groups[gs[k]].deleted {
			continue
		}
		c.rd.writeAppGroup(a, k)
		n++
	}
	w.endArr()
	next := ""
	for j := k; j < len(gs); j++ {
		if !o.groups[gs[j]].deleted {
			next = o.ids.id(kGroup, int(gs[k-1]))
			break
		}
	}
	c.setLinks(limit, next)
	return nil
}

func hAppGroup(s *Sim, c *reqCtx) *apiError {
	a, e := appOr404(c)
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
	limit, e := c.limitParam(200, 1, 200)
	if e != nil {
		return e
	}
	ex, _, e := compileQuery(c, deviceSearchRules, deviceSearchRules)
	if e != nil {
		return e
	}
	after := -1
	if a := c.q.Get("after"); a != "" {
		after = o.ids.parse(kDevice, a)
		if after < 0 {
			return errBadSearch("Invalid cursor.")
		}
	}
	expand := c.q.Get("expand") == "user"
	var page []int
	more := false
	for d := after + 1; d < len(o.devices); d++ {
		if o.devices[d].deleted {
			continue
		}
		if ex != nil && !ex.eval(func(name string) (string, int64, bool, bool) { return c.rd.deviceAttr(d, name) }) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, d)
	}
	w := c.rd.w
	w.arr()
	for _, d := range page {
		c.rd.writeDevice(d, expand)
	}
	w.endArr()
	next := ""
	if more {
		next = o.ids.id(kDevice, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func hDevice(s *Sim, c *reqCtx) *apiError {
	d := c.rd.o.deviceIdx(c.param(0))
	if d < 0 {
		return errNotFound(c.param(0), "Device")
	}
	c.rd.writeDevice(d, c.q.Get("expand") == "user")
	return nil
}

func hDeviceUsers(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	d := o.deviceIdx(c.param(0))
	if d < 0 {
		return errNotFound(c.param(0), "GenericUDObject")
	}
	w := c.rd.w
	w.arr()
	for _, u := range o.devices[d].users {
		if u >= 0 && !o.users[u].deleted {
			c.rd.writeDeviceUser(d, u)
		}
	}
	w.endArr()
	return nil
}

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

func resourceSetOr404(c *reqCtx) (int, *apiError) {
	k := c.rd.o.ids.parse(kResourceSet, c.param(0))
	if k < 0 || k >= len(c.rd.o.resourceSets) {
		return 0, errNotFound(c.param(0), "IAMPolicy")
	}
	return k, nil
}

func hResourceSet(s *Sim, c *reqCtx) *apiError {
	k, e := resourceSetOr404(c)
	if e != nil {
		return e
	}
	c.rd.writeResourceSet(k)
	return nil
}

func hResources(s *Sim, c *reqCtx) *apiError {
	k, e := resourceSetOr404(c)
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

// customRoleOr404 accepts a role id or label.
func customRoleOr404(c *reqCtx) (int, *apiError) {
	o := c.rd.o
	k := o.ids.parse(kCustomRole, c.param(0))
	if k < 0 {
		for i := range o.customRoles {
			if customRoleDefs[i].label == c.param(0) {
				k = i
			}
		}
	}
	if k < 0 || k >= len(o.customRoles) {
		return 0, errNotFound(c.param(0), "CustomRole")
	}
	return k, nil
}

func hCustomRole(s *Sim, c *reqCtx) *apiError {
	k, e := customRoleOr404(c)
	if e != nil {
		return e
	}
	c.rd.writeCustomRole(k)
	return nil
}

func hPermissions(s *Sim, c *reqCtx) *apiError {
	k, e := customRoleOr404(c)
	if e != nil {
		return e
	}
	w := c.rd.w
	w.obj().ka("permissions")
	for _, p := range c.rd.o.rolePerms[k] {
		c.rd.writePermission(k, p)
	}
	w.endArr().end()
	return nil
}

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
			c.rd.w.obj().ks("id", id).ks("orn", "orn:okta:directory:"+orgID+":users:"+id).
				ko("_links").href("self", c.rd.lb+"/api/v1/users/"+id+"/roles").end().end()
		})
}

func hMappings(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	limit, e := c.limitParam(20, 1, 200)
	if e != nil {
		return e
	}
	after, e := parseIDCursor(c, kMapping)
	if e != nil {
		return e
	}
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
	var page []int
	more := false
	for m := after + 1; m < len(o.mappings); m++ {
		md := &o.mappings[m]
		if src != "" && endID(md.srcKind, md.srcRef) != src || dst != "" && endID(md.dstKind, md.dstRef) != dst {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, m)
	}
	w := c.rd.w
	w.arr()
	for _, m := range page {
		c.rd.writeMapping(m, false)
	}
	w.endArr()
	next := ""
	if more {
		next = o.ids.id(kMapping, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func hMapping(s *Sim, c *reqCtx) *apiError {
	m := c.rd.o.ids.parse(kMapping, c.param(0))
	if m < 0 || m >= len(c.rd.o.mappings) {
		return errNotFound(c.param(0), "ProfileMapping")
	}
	c.rd.writeMapping(m, true)
	return nil
}

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

func policyOr404(c *reqCtx) (int, *apiError) {
	p := c.rd.o.ids.parse(kPolicy, c.param(0))
	if p < 0 || p >= len(c.rd.o.policies) {
		return 0, errNotFound(c.param(0), "Policy")
	}
	return p, nil
}

func hPolicy(s *Sim, c *reqCtx) *apiError {
	p, e := policyOr404(c)
	if e != nil {
		return e
	}
	c.rd.writePolicy(p)
	return nil
}

func hPolicyRules(s *Sim, c *reqCtx) *apiError {
	p, e := policyOr404(c)
	if e != nil {
		return e
	}
	w := c.rd.w
	w.arr()
	for _, k := range c.rd.o.policies[p].rules {
		c.rd.writePolicyRule(k)
	}
	w.endArr()
	return nil
}

func hPolicyRule(s *Sim, c *reqCtx) *apiError {
	p, e := policyOr404(c)
	if e != nil {
		return e
	}
	k := c.rd.o.ids.parse(kPolicyRule, c.param(1))
	if k < 0 || !containsInt(c.rd.o.policies[p].rules, k) {
		return errNotFound(c.param(1), "PolicyRule")
	}
	c.rd.writePolicyRule(k)
	return nil
}

// simpleList pages a small fixed collection by last id.
func simpleList(c *reqCtx, n int, k kind, def, maximum int, keep func(int) bool, write func(int)) *apiError {
	limit, e := c.limitParam(def, 1, maximum)
	if e != nil {
		return e
	}
	after, e := parseIDCursor(c, k)
	if e != nil {
		return e
	}
	var page []int
	more := false
	for i := after + 1; i < n; i++ {
		if keep != nil && !keep(i) {
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
		write(i)
	}
	w.endArr()
	next := ""
	if more {
		next = c.rd.o.ids.id(k, page[len(page)-1])
	}
	c.setLinks(limit, next)
	return nil
}

func hIdPs(s *Sim, c *reqCtx) *apiError {
	typ, qv := c.q.Get("type"), strings.ToLower(c.q.Get("q"))
	return simpleList(c, c.rd.o.idps, kIdP, 20, 200, func(i int) bool {
		return (typ == "" || idpDefs[i].typ == typ) && (qv == "" || strings.HasPrefix(strings.ToLower(idpDefs[i].name), qv))
	}, c.rd.writeIdP)
}

func hIdP(s *Sim, c *reqCtx) *apiError {
	i := c.rd.o.ids.parse(kIdP, c.param(0))
	if i < 0 || i >= c.rd.o.idps {
		return errNotFound(c.param(0), "IdentityProvider")
	}
	c.rd.writeIdP(i)
	return nil
}

func hZones(s *Sim, c *reqCtx) *apiError {
	return simpleList(c, c.rd.o.zones, kZone, 1000, 1000, nil, c.rd.writeZone)
}

func hZone(s *Sim, c *reqCtx) *apiError {
	z := c.rd.o.ids.parse(kZone, c.param(0))
	if z < 0 || z >= c.rd.o.zones {
		return errNotFound(c.param(0), "NetworkZone")
	}
	c.rd.writeZone(z)
	return nil
}

func hAPITokens(s *Sim, c *reqCtx) *apiError {
	return simpleList(c, c.rd.o.apiTokens, kAPIToken, 20, 200, nil, c.rd.writeAPIToken)
}

func hAPIToken(s *Sim, c *reqCtx) *apiError {
	t := c.rd.o.ids.parse(kAPIToken, c.param(0))
	if t < 0 || t >= c.rd.o.apiTokens {
		return errNotFound(c.param(0), "ApiToken")
	}
	c.rd.writeAPIToken(t)
	return nil
}
