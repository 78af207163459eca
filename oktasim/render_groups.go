package oktasim

import (
	"strings"
)

func (o *org) groupName(g int) string {
	if g == 0 {
		return "Everyone"
	}
	k := g - 1
	nb, ns := len(groupBases), len(groupSuffixes)
	name := groupBases[k%nb] + groupSuffixes[(k/nb)%ns]
	if n := k / (nb * ns); n > 0 {
		name += " " + itoa(n+1)
	}
	if o.groups[g].kind == gApp {
		name = strings.ReplaceAll(strings.ReplaceAll(name, " - ", "-"), " ", "")
	}
	return name
}

func (o *org) groupDescription(g int) string {
	if g == 0 {
		return "All users in your organization"
	}
	gs := &o.groups[g]
	r := newRng(o.seed, 0x67646573, uint64(g)<<16|uint64(gs.rev))
	if gs.rev == 0 && r.chance(0.3) {
		return ""
	}
	return pick(r, []string{"Members of ", "Access group for ", "Distribution list: ", "Managed by IT: "}) + o.groupName(g)
}

const (
	logoOktaMedium = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-medium.30ce6d4085dff29412984e4c191bc874.png"
	logoOktaLarge  = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-large.c3cb8cda8ae0add1b4fe928f5844dbe3.png"
	logoADMedium   = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/active_directory-medium.8a0d4df0c8b5f0bd6db6b88d8c8ea2a5.png"
	logoADLarge    = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/active_directory-large.b2e2c4f6bfd1a1a2d6f0f3d1d6c0bdb2.png"
)

// writeGroup renders group g; stats adds _embedded.stats (expand=stats).
func (rd *renderer) writeGroup(g int, stats bool) {
	o, w := rd.o, rd.w
	gs := &o.groups[g]
	id := o.ids.id(kGroup, g)
	self := rd.lb + "/api/v1/groups/" + id
	name := o.groupName(g)
	w.obj()
	w.ks("id", id)
	w.kt("created", gs.created).kt("lastUpdated", gs.lastUpdated).kt("lastMembershipUpdated", gs.lastMembershipUpdated)
	if gs.kind == gApp {
		w.strs("objectClass", "okta:windows_security_principal")
	} else {
		w.strs("objectClass", "okta:user_group")
	}
	w.ks("type", groupTypeName[gs.kind])
	w.ko("profile").ks("name", name).ksN("description", o.groupDescription(g))
	if gs.kind == gApp {
		sam := strings.ReplaceAll(name, " ", "")
		w.ks("groupType", "Security").ks("samAccountName", sam)
		w.ks("objectSid", "S-1-5-21-3623811015-3361044348-30300820-"+itoa(1100+g))
		w.ks("groupScope", "Global")
		w.ks("dn", "CN="+sam+",OU=Groups,DC=corp,DC=example,DC=com")
		w.ks("windowsDomainQualifiedName", `CORP\`+sam)
		w.ks("externalId", b64id(o.seed, 0x65787467, uint64(g), 22)+"==")
	}
	w.end()
	if gs.kind == gApp {
		w.ko("source").ks("id", o.ids.id(kApp, appADIndex)).end()
	}
	if stats {
		w.ko("_embedded").ko("stats")
		w.ki("usersCount", int64(o.groupMemberCount(g)))
		w.ki("appsCount", int64(o.groupAppCount(g)))
		w.ki("groupPushMappingsCount", 0)
		w.kb("hasAdminPrivilege", o.groupHasAdminRole(g))
		w.ko("_links").href("self", self+"/stats").end()
		w.end().end()
	}
	w.ko("_links")
	w.ka("logo")
	medium, large := logoOktaMedium, logoOktaLarge
	if gs.kind == gApp {
		medium, large = logoADMedium, logoADLarge
	}
	w.obj().ks("name", "medium").ks("href", medium).ks("type", "image/png").end()
	w.obj().ks("name", "large").ks("href", large).ks("type", "image/png").end()
	w.endArr()
	if gs.kind == gApp {
		w.href("source", rd.lb+"/api/v1/apps/"+o.ids.id(kApp, appADIndex))
	}
	w.href("users", self+"/users")
	w.href("apps", self+"/apps")
	w.href("self", self)
	w.end()
	w.end()
}

func (o *org) groupMemberCount(g int) int {
	if g == 0 {
		return o.activeUsers
	}
	return len(o.groups[g].members)
}

func (o *org) groupAppCount(g int) int {
	n := 0
	for a := range o.apps {
		if !o.apps[a].deleted && containsInt32(o.apps[a].groups, int32(g)) {
			n++
		}
	}
	return n
}

func (o *org) groupHasAdminRole(g int) bool {
	for _, a := range o.adminGroups {
		if int(a.idx) == g {
			return true
		}
	}
	return false
}

func (rd *renderer) groupAttr(g int, name string) (string, int64, bool, bool) {
	o := rd.o
	gs := &o.groups[g]
	switch name {
	case "id":
		return o.ids.id(kGroup, g), 0, false, true
	case "type":
		return groupTypeName[gs.kind], 0, false, true
	case "created":
		return "", gs.created, true, true
	case "lastUpdated":
		return "", gs.lastUpdated, true, true
	case "lastMembershipUpdated":
		return "", gs.lastMembershipUpdated, true, true
	case "source.id":
		if gs.kind == gApp {
			return o.ids.id(kApp, appADIndex), 0, false, true
		}
	case "profile.name":
		return o.groupName(g), 0, false, true
	case "profile.description":
		d := o.groupDescription(g)
		return d, 0, false, d != ""
	}
	return "", 0, false, false
}

var ruleStatusName = []string{"ACTIVE", "INACTIVE", "INVALID"}

func (rd *renderer) writeGroupRule(k int) {
	o, w := rd.o, rd.w
	rs := &o.rules[k]
	w.obj()
	w.ks("type", "group_rule")
	w.ks("id", o.ids.id(kGroupRule, k))
	w.ks("status", ruleStatusName[rs.status])
	w.ks("name", "Auto-assign "+rs.dept+" "+itoa(k+1))
	w.kt("created", rs.created).kt("lastUpdated", rs.lastUpdated)
	w.ko("conditions")
	w.ko("people")
	w.ko("users").ka("exclude")
	for _, u := range rs.excludeUsers {
		w.str(o.ids.id(kUser, int(u)))
	}
	w.endArr().end()
	w.ko("groups").ka("exclude")
	for _, g := range rs.excludeGroups {
		w.str(o.ids.id(kGroup, int(g)))
	}
	w.endArr().end()
	w.end()
	w.ko("expression").ks("value", `user.department=="`+rs.dept+`"`).ks("type", "urn:okta:expression:1.0").end()
	w.end()
	w.ko("actions").ko("assignUserToGroups").ka("groupIds")
	for _, g := range rs.assign {
		w.str(o.ids.id(kGroup, int(g)))
	}
	w.endArr().end().end()
	w.kb("allGroupsValid", rs.status != 2)
	w.end()
}

// writeRole renders a role assignment held by a user (assigneeUser >= 0) or a
// group; viaGroup marks a user's role inherited from group g.
func (rd *renderer) writeRole(ra roleAssign, assigneeUser, assigneeGroup int) {
	o, w := rd.o, rd.w
	w.obj()
	var assigneeHref string
	assignment := "USER"
	if assigneeGroup >= 0 {
		assignment = "GROUP"
		assigneeHref = rd.lb + "/api/v1/groups/" + o.ids.id(kGroup, assigneeGroup)
	} else {
		assigneeHref = rd.lb + "/api/v1/users/" + o.ids.id(kUser, assigneeUser)
	}
	lastUpd := ra.created + int64(ra.id%5)*day
	if lastUpd > o.t0 {
		lastUpd = max(o.t0, ra.created)
	}
	if ra.std >= 0 {
		rs := rolesStd[ra.std]
		w.ks("id", o.ids.id(kRoleAssignStd, ra.id)).ks("label", rs.label).ks("type", rs.typ).ks("status", "ACTIVE")
		w.kt("created", ra.created).kt("lastUpdated", lastUpd).ks("assignmentType", assignment)
		w.ko("_links").href("assignee", assigneeHref).end()
		w.end()
		return
	}
	roleID := o.ids.id(kCustomRole, ra.custom)
	rsID := o.ids.id(kResourceSet, ra.rset)
	memberID := o.ids.id(kRoleAssignCustom, ra.id+1<<20)
	w.ks("id", o.ids.id(kRoleAssignCustom, ra.id)).ks("role", roleID).ks("label", customRoleDefs[ra.custom].label)
	w.ks("type", "CUSTOM").ks("status", "ACTIVE")
	w.kt("created", ra.created).kt("lastUpdated", lastUpd).ks("assignmentType", assignment)
	w.ks("resource-set", rsID)
	w.ko("_links")
	w.href("assignee", assigneeHref)
	w.href("resource-set", rd.lb+"/api/v1/iam/resource-sets/"+rsID)
	w.href("role", rd.lb+"/api/v1/iam/roles/"+roleID)
	w.href("permissions", rd.lb+"/api/v1/iam/roles/"+roleID+"/permissions")
	w.href("member", rd.lb+"/api/v1/iam/resource-sets/"+rsID+"/bindings/"+roleID+"/members/"+memberID)
	w.end()
	w.end()
}

func (rd *renderer) writeCustomRole(c int) {
	o, w := rd.o, rd.w
	id := o.ids.id(kCustomRole, c)
	w.obj()
	w.ks("id", id).ks("label", customRoleDefs[c].label).kb("isCloneable", false).ks("description", customRoleDefs[c].desc)
	w.kt("created", o.customRoles[c]).kt("lastUpdated", min(o.t0, o.customRoles[c]+int64(c+1)*3*day))
	w.ko("_links")
	w.href("permissions", rd.lb+"/api/v1/iam/roles/"+id+"/permissions")
	w.href("self", rd.lb+"/api/v1/iam/roles/"+id)
	w.end()
	w.end()
}

func (rd *renderer) writePermission(c, p int) {
	o, w := rd.o, rd.w
	id := o.ids.id(kCustomRole, c)
	label := permissionLabels[p]
	created := o.customRoles[c]
	w.obj()
	w.ks("label", label)
	w.kt("created", created).kt("lastUpdated", min(o.t0, created+int64(p)*day))
	w.kn("conditions")
	w.ko("_links")
	w.href("role", rd.lb+"/api/v1/iam/roles/"+id)
	w.href("self", rd.lb+"/api/v1/iam/roles/"+id+"/permissions/"+label)
	w.end()
	w.end()
}

func (rd *renderer) writeResourceSet(s int) {
	o, w := rd.o, rd.w
	rs := &o.resourceSets[s]
	id := o.ids.id(kResourceSet, s)
	self := rd.lb + "/api/v1/iam/resource-sets/" + id
	w.obj()
	w.ks("id", id).ks("label", resourceSetDefs[s].label).ks("description", resourceSetDefs[s].desc)
	w.kt("created", rs.created).kt("lastUpdated", rs.lastUpdated)
	w.ko("_links")
	w.href("self", self)
	w.href("resources", self+"/resources")
	w.href("bindings", self+"/bindings")
	w.end()
	w.end()
}

func (rd *renderer) writeResource(s, k int) {
	o, w := rd.o, rd.w
	ref := o.resourceSets[s].resources[k]
	orgID := o.ids.id(kOrg, 0)
	w.obj()
	w.ks("id", o.ids.id(kResource, ref.id))
	switch ref.kind {
	case 0:
		gid := o.ids.id(kGroup, int(ref.idx))
		w.ks("orn", "orn:okta:directory:"+orgID+":groups:"+gid)
		w.kt("created", ref.added).kt("lastUpdated", ref.added)
		w.ko("_links")
		w.href("self", rd.lb+"/api/v1/groups/"+gid)
		w.href("users", rd.lb+"/api/v1/groups/"+gid+"/users")
		w.end()
	case 1:
		a := int(ref.idx)
		aid := o.ids.id(kApp, a)
		w.ks("orn", "orn:okta:idp:"+orgID+":apps:"+o.apps[a].tmpl.name+":"+aid)
		w.kt("created", ref.added).kt("lastUpdated", ref.added)
		w.ko("_links").href("self", rd.lb+"/api/v1/apps/"+aid).end()
	case 2:
		w.ks("orn", "orn:okta:directory:"+orgID+":users")
		w.kt("created", ref.added).kt("lastUpdated", ref.added)
		w.ko("_links")
		w.href("self", rd.lb+"/api/v1/users")
		w.href("users", rd.lb+"/api/v1/users")
		w.end()
	default:
		w.ks("orn", "orn:okta:directory:"+orgID+":groups")
		w.kt("created", ref.added).kt("lastUpdated", ref.added)
		w.ko("_links")
		w.href("self", rd.lb+"/api/v1/groups")
		w.href("groups", rd.lb+"/api/v1/groups")
		w.end()
	}
	w.end()
}
