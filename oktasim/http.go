package oktasim

import (
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiError is an Okta error response.
type apiError struct {
	status  int
	code    string
	summary string
	causes  []string
}

func errNotFound(id, typ string) *apiError {
	return &apiError{status: 404, code: "E0000007", summary: "Not found: Resource not found: " + id + " (" + typ + ")"}
}

func errBadCursor() *apiError {
	return &apiError{status: 400, code: "E0000029", summary: "Invalid paging request.", causes: []string{"Invalid cursor."}}
}

func errBadSearch(cause string) *apiError {
	return &apiError{status: 400, code: "E0000031", summary: "Invalid search criteria.", causes: []string{cause}}
}

func errValidation(field, cause string) *apiError {
	return &apiError{status: 400, code: "E0000001", summary: "Api validation failed: " + field, causes: []string{cause}}
}

func errLogParam(msg string) *apiError {
	return &apiError{status: 400, code: "E0000053", summary: "Invalid parameter: " + msg}
}

var (
	errUnauthorized = &apiError{status: 401, code: "E0000011", summary: "Invalid token provided"}
	errForbidden    = &apiError{status: 403, code: "E0000006", summary: "You do not have permission to perform the requested action"}
	errRateLimited  = &apiError{status: 429, code: "E0000047", summary: "API call exceeded rate limit due to too many requests."}
	errMethod       = &apiError{status: 405, code: "E0000022", summary: "The endpoint does not support the provided HTTP method"}
	errInternal     = &apiError{status: 500, code: "E0000009", summary: "Internal Server Error"}
)

type handler func(s *Sim, c *reqCtx) *apiError

type route struct {
	pattern string // e.g. "/api/v1/users/{id}"
	segs    []string
	table   string // the destination table it feeds (permission lookup); empty: any role
	scope   string // the OAuth scope it needs when it has no table (TableScopes otherwise)
	h       handler
}

// reqCtx carries one API request through the pipeline. Pooled.
type reqCtx struct {
	w      http.ResponseWriter
	r      *http.Request
	q      url.Values
	params []string
	route  *route
	role   string
	grant  *grant // the access token's grant; nil for an SSWS token
	scheme string // Bearer or DPoP, with grant
	wb     string // scheme://host the client called (Link headers, body next links)
	out    jw
	rd     renderer
	links  []string
	status int
}

func (c *reqCtx) param(i int) string { return c.params[i] }

// Tables and the admin roles that may read them (okta-permissions.md; "Group
// Admin" is USER_ADMIN). Breakout and fan-out children inherit their parent's.
var (
	rolesUsers        = []string{RoleReadOnlyAdmin, RoleAppAdmin, RoleUserAdmin, RoleOrgAdmin, RoleSuperAdmin, RoleHelpDeskAdmin, RoleReportAdmin, RoleAPIAccessMgmtAdmin, RoleGroupMembershipAdmin}
	rolesUserType     = []string{RoleReadOnlyAdmin, RoleUserAdmin, RoleOrgAdmin, RoleSuperAdmin, RoleHelpDeskAdmin, RoleAPIAccessMgmtAdmin, RoleGroupMembershipAdmin}
	rolesSuper        = []string{RoleSuperAdmin}
	rolesGroups       = []string{RoleReadOnlyAdmin, RoleAppAdmin, RoleUserAdmin, RoleOrgAdmin, RoleSuperAdmin, RoleHelpDeskAdmin, RoleAPIAccessMgmtAdmin, RoleGroupMembershipAdmin}
	rolesApps         = []string{RoleReadOnlyAdmin, RoleAppAdmin, RoleOrgAdmin, RoleSuperAdmin, RoleAPIAccessMgmtAdmin}
	rolesDevices      = []string{RoleReadOnlyAdmin, RoleAppAdmin, RoleOrgAdmin, RoleSuperAdmin, RoleHelpDeskAdmin, RoleAPIAccessMgmtAdmin}
	rolesLogs         = []string{RoleSuperAdmin, RoleOrgAdmin, RoleAppAdmin, RoleReadOnlyAdmin, RoleMobileAdmin, RoleReportAdmin, RoleAPIAccessMgmtAdmin}
	rolesMappings     = []string{RoleSuperAdmin, RoleAppAdmin}
	rolesPolicies     = []string{RoleSuperAdmin, RoleOrgAdmin, RoleReadOnlyAdmin, RoleAPIAccessMgmtAdmin}
	rolesOrgSecurity  = []string{RoleSuperAdmin, RoleOrgAdmin, RoleReadOnlyAdmin} // not in the Fivetran table: our choice
	rolesOrgAdminOnly = []string{RoleSuperAdmin, RoleOrgAdmin}                    // not in the Fivetran table: our choice
)

// TablePermissions maps each table an endpoint feeds to the role types that can
// read it. Exported so tests and docs can show the table.
var TablePermissions = map[string][]string{
	"USERS": rolesUsers, "USER_CREDENTIALS_EMAIL": rolesUsers, "USER_CUSTOM_PROFILE": rolesUsers,
	"USER_ENROLLED_FACTOR": rolesUsers, "USER_AUTHENTICATOR_ENROLLMENT": rolesUsers,
	"USER_TYPE": rolesUserType, "USER_ROLE": rolesSuper,
	"GROUPS": rolesGroups, "GROUP_MEMBER": rolesGroups, "RULE": rolesGroups, "GROUP_ROLE": rolesSuper,
	"APPLICATION": rolesApps, "APPLICATION_USER": rolesApps, "APPLICATION_GROUP": rolesApps,
	"DEVICE": rolesDevices, "DEVICE_USER": rolesDevices,
	"SYSTEM_LOG":   rolesLogs,
	"RESOURCE_SET": rolesSuper, "RESOURCE": rolesSuper, "CUSTOM_ROLE": rolesSuper, "CUSTOM_ROLE_PERMISSION": rolesSuper,
	"PROFILE_MAPPING": rolesMappings, "POLICY": rolesPolicies, "POLICY_RULE": rolesPolicies,
	"IDENTITY_PROVIDER": rolesOrgSecurity, "NETWORK_ZONE": rolesOrgSecurity, "API_TOKEN_METADATA": rolesOrgAdminOnly,
}

// OAuth scopes (okta-api.md §6.2 and §7, from each operation's security in
// Okta's spec).
const (
	ScopeUsers           = "okta.users.read"
	ScopeUserTypes       = "okta.userTypes.read"
	ScopeRoles           = "okta.roles.read"
	ScopeGroups          = "okta.groups.read"
	ScopeApps            = "okta.apps.read"
	ScopeDevices         = "okta.devices.read"
	ScopeLogs            = "okta.logs.read"
	ScopeProfileMappings = "okta.profileMappings.read"
	ScopePolicies        = "okta.policies.read"
	ScopeIdPs            = "okta.idps.read"
	ScopeNetworkZones    = "okta.networkZones.read"
	ScopeAPITokens       = "okta.apiTokens.read"
)

// TableScopes maps each table an endpoint feeds to the OAuth scope an access
// token needs to read it (on top of its app's role, per TablePermissions).
// Breakout and fan-out children inherit their parent's, as roles do.
var TableScopes = map[string]string{
	"USERS": ScopeUsers, "USER_CREDENTIALS_EMAIL": ScopeUsers, "USER_CUSTOM_PROFILE": ScopeUsers,
	"USER_ENROLLED_FACTOR": ScopeUsers, "USER_AUTHENTICATOR_ENROLLMENT": ScopeUsers,
	"USER_TYPE": ScopeUserTypes, "USER_ROLE": ScopeRoles,
	"GROUPS": ScopeGroups, "GROUP_MEMBER": ScopeGroups, "RULE": ScopeGroups, "GROUP_ROLE": ScopeRoles,
	"APPLICATION": ScopeApps, "APPLICATION_USER": ScopeApps, "APPLICATION_GROUP": ScopeApps,
	"DEVICE": ScopeDevices, "DEVICE_USER": ScopeDevices,
	"SYSTEM_LOG":   ScopeLogs,
	"RESOURCE_SET": ScopeRoles, "RESOURCE": ScopeRoles, "CUSTOM_ROLE": ScopeRoles, "CUSTOM_ROLE_PERMISSION": ScopeRoles,
	"PROFILE_MAPPING": ScopeProfileMappings, "POLICY": ScopePolicies, "POLICY_RULE": ScopePolicies,
	"IDENTITY_PROVIDER": ScopeIdPs, "NETWORK_ZONE": ScopeNetworkZones, "API_TOKEN_METADATA": ScopeAPITokens,
}

// routes: all read-only (GET). Static segments win over {params}.
var routes = buildRoutes([]route{
	{pattern: "/api/v1/users", table: "USERS", h: hUsers},
	{pattern: "/api/v1/users/me", scope: ScopeUsers, h: hMe}, // no table: any valid token
	{pattern: "/api/v1/users/{id}", table: "USERS", h: hUser},
	{pattern: "/api/v1/users/{id}/roles", table: "USER_ROLE", h: hUserRoles},
	{pattern: "/api/v1/users/{id}/groups", table: "USERS", h: hUserGroups},
	{pattern: "/api/v1/users/{id}/factors", table: "USER_ENROLLED_FACTOR", h: hUserFactors},
	{pattern: "/api/v1/users/{id}/authenticator-enrollments", table: "USER_AUTHENTICATOR_ENROLLMENT", h: hUserEnrollments},
	{pattern: "/api/v1/meta/types/user", table: "USER_TYPE", h: hUserTypes},
	{pattern: "/api/v1/meta/types/user/{id}", table: "USER_TYPE", h: hUserType},
	{pattern: "/api/v1/groups", table: "GROUPS", h: hGroups},
	{pattern: "/api/v1/groups/rules", table: "RULE", h: hGroupRules},
	{pattern: "/api/v1/groups/rules/{id}", table: "RULE", h: hGroupRule},
	{pattern: "/api/v1/groups/{id}", table: "GROUPS", h: hGroup},
	{pattern: "/api/v1/groups/{id}/users", table: "GROUP_MEMBER", h: hGroupUsers},
	{pattern: "/api/v1/groups/{id}/roles", table: "GROUP_ROLE", h: hGroupRoles},
	{pattern: "/api/v1/apps", table: "APPLICATION", h: hApps},
	{pattern: "/api/v1/apps/{id}", table: "APPLICATION", h: hApp},
	{pattern: "/api/v1/apps/{id}/users", table: "APPLICATION_USER", h: hAppUsers},
	{pattern: "/api/v1/apps/{id}/users/{uid}", table: "APPLICATION_USER", h: hAppUser},
	{pattern: "/api/v1/apps/{id}/groups", table: "APPLICATION_GROUP", h: hAppGroups},
	{pattern: "/api/v1/apps/{id}/groups/{gid}", table: "APPLICATION_GROUP", h: hAppGroup},
	{pattern: "/api/v1/devices", table: "DEVICE", h: hDevices},
	{pattern: "/api/v1/devices/{id}", table: "DEVICE", h: hDevice},
	{pattern: "/api/v1/devices/{id}/users", table: "DEVICE_USER", h: hDeviceUsers},
	{pattern: "/api/v1/logs", table: "SYSTEM_LOG", h: hLogs},
	{pattern: "/api/v1/iam/resource-sets", table: "RESOURCE_SET", h: hResourceSets},
	{pattern: "/api/v1/iam/resource-sets/{id}", table: "RESOURCE_SET", h: hResourceSet},
	{pattern: "/api/v1/iam/resource-sets/{id}/resources", table: "RESOURCE", h: hResources},
	{pattern: "/api/v1/iam/roles", table: "CUSTOM_ROLE", h: hCustomRoles},
	{pattern: "/api/v1/iam/roles/{id}", table: "CUSTOM_ROLE", h: hCustomRole},
	{pattern: "/api/v1/iam/roles/{id}/permissions", table: "CUSTOM_ROLE_PERMISSION", h: hPermissions},
	{pattern: "/api/v1/iam/assignees/users", table: "USER_ROLE", h: hAssignees},
	{pattern: "/api/v1/mappings", table: "PROFILE_MAPPING", h: hMappings},
	{pattern: "/api/v1/mappings/{id}", table: "PROFILE_MAPPING", h: hMapping},
	{pattern: "/api/v1/policies", table: "POLICY", h: hPolicies},
	{pattern: "/api/v1/policies/{id}", table: "POLICY", h: hPolicy},
	{pattern: "/api/v1/policies/{id}/rules", table: "POLICY_RULE", h: hPolicyRules},
	{pattern: "/api/v1/policies/{id}/rules/{rid}", table: "POLICY_RULE", h: hPolicyRule},
	{pattern: "/api/v1/idps", table: "IDENTITY_PROVIDER", h: hIdPs},
	{pattern: "/api/v1/idps/{id}", table: "IDENTITY_PROVIDER", h: hIdP},
	{pattern: "/api/v1/zones", table: "NETWORK_ZONE", h: hZones},
	{pattern: "/api/v1/zones/{id}", table: "NETWORK_ZONE", h: hZone},
	{pattern: "/api/v1/api-tokens", table: "API_TOKEN_METADATA", h: hAPITokens},
	{pattern: "/api/v1/api-tokens/{id}", table: "API_TOKEN_METADATA", h: hAPIToken},
})

func buildRoutes(rs []route) []*route {
	out := make([]*route, len(rs))
	for i := range rs {
		r := rs[i]
		r.segs = strings.Split(strings.Trim(r.pattern, "/"), "/")
		out[i] = &r
	}
	return out
}

// matchRoute finds the route for path; static segments beat parameters.
func matchRoute(path string, params []string) (*route, []string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *route
	bestScore := -1
	for _, rt := range routes {
		if len(rt.segs) != len(segs) {
			continue
		}
		score := 0
		ok := true
		for i, p := range rt.segs {
			if strings.HasPrefix(p, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				continue
			}
			if p != segs[i] {
				ok = false
				break
			}
			score++
		}
		if ok && score > bestScore {
			best, bestScore = rt, score
		}
	}
	if best == nil {
		return nil, params
	}
	params = params[:0]
	for i, p := range best.segs {
		if strings.HasPrefix(p, "{") {
			params = append(params, segs[i])
		}
	}
	return best, params
}

// Rate-limit buckets (Okta Workforce defaults). The most specific match wins:
// exact {id} routes first, then the longest prefix; the method matters.
type bucket struct {
	name    string
	methods string // space-separated; empty means any
	prefix  string // path prefix, or the pattern for exact id routes
	idRoute bool   // prefix + "/{id}" exactly
	exact   bool   // the path exactly
	limit   int
}

var buckets = []*bucket{
	{name: "app", prefix: "/api/v1/apps", idRoute: true, limit: 500},
	{name: "group", prefix: "/api/v1/groups", idRoute: true, limit: 1000},
	{name: "user", methods: "GET", prefix: "/api/v1/users", idRoute: true, limit: 2000},
	{name: "user-write", methods: "POST PUT DELETE", prefix: "/api/v1/users", idRoute: true, limit: 600},
	{name: "users", methods: "GET POST", prefix: "/api/v1/users", exact: true, limit: 600},
	{name: "email-bounces", prefix: "/api/v1/org/email/bounces/remove-list", limit: 60},
	{name: "certificate-authorities", prefix: "/api/v1/certificateAuthorities", limit: 100},
	{name: "oauth2-clients", prefix: "/oauth2/v1/clients", limit: 100},
	{name: "devices", prefix: "/api/v1/devices", limit: 100},
	{name: "groups", prefix: "/api/v1/groups", limit: 500},
	{name: "events", prefix: "/api/v1/events", limit: 100},
	{name: "apps", prefix: "/api/v1/apps", limit: 100},
	{name: "logs", prefix: "/api/v1/logs", limit: 120},
	{name: "default", prefix: "/", limit: 1200},
}

// Buckets returns bucket names with their default per-minute limits.
func Buckets() map[string]int {
	m := map[string]int{}
	for _, b := range buckets {
		m[b.name] = b.limit
	}
	return m
}

func bucketByName(name string) *bucket {
	for _, b := range buckets {
		if b.name == name {
			return b
		}
	}
	return nil
}

func methodIn(methods, m string) bool {
	if methods == "" {
		return true
	}
	for _, x := range strings.Fields(methods) {
		if x == m {
			return true
		}
	}
	return false
}

// BucketOf names the rate-limit bucket the simulator counts a request in.
func BucketOf(method, path string) string { return bucketFor(method, path).name }

// bucketFor picks the bucket for a request.
func bucketFor(method, path string) *bucket {
	path = strings.TrimRight(path, "/")
	for _, b := range buckets {
		if !methodIn(b.methods, method) {
			continue
		}
		switch {
		case b.idRoute:
			rest, ok := strings.CutPrefix(path, b.prefix+"/")
			if ok && rest != "" && !strings.Contains(rest, "/") && rest != "rules" {
				return b
			}
		case b.exact:
			if path == b.prefix {
				return b
			}
		}
	}
	var best *bucket
	for _, b := range buckets {
		if b.idRoute || b.exact || !methodIn(b.methods, method) {
			continue
		}
		if path == b.prefix || strings.HasPrefix(path, strings.TrimRight(b.prefix, "/")+"/") {
			if best == nil || len(b.prefix) > len(best.prefix) {
				best = b
			}
		}
	}
	if best == nil {
		return bucketByName("default")
	}
	return best
}

func (s *Sim) bucketLimit(b *bucket) int {
	if v, ok := s.cfg.BucketLimits[b.name]; ok {
		return v
	}
	return b.limit
}

type rlWindow struct {
	start int64 // wire ms when the window opened (first request of the bucket)
	count int
}

type rateLimiter struct {
	mu      sync.Mutex
	windows map[string]*rlWindow
}

// take counts one request in b's window and reports the headers to send and
// whether the request is allowed.
func (s *Sim) take(b *bucket, now int64) (limit, remaining int, reset int64, ok bool) {
	limit = s.bucketLimit(b)
	if s.rateLimits() == RateLimitsOff {
		return limit, limit, (now + minute + 999) / 1000, true
	}
	s.rl.mu.Lock()
	defer s.rl.mu.Unlock()
	w := s.rl.windows[b.name]
	if w == nil || now >= w.start+minute {
		w = &rlWindow{start: now}
		s.rl.windows[b.name] = w
	}
	w.count++
	reset = (w.start + minute + 999) / 1000
	if w.count > limit {
		return limit, 0, reset, false
	}
	return limit, limit - w.count, reset, true
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__sim/") {
		s.serveControl(w, r)
		return
	}
	if r.URL.Path == tokenPath {
		s.serveToken(w, r)
		return
	}
	n := s.reqN.Add(1)
	s.inflight.Add(1)
	defer s.inflight.Add(-1)

	c := s.ctxPool.Get().(*reqCtx)
	defer s.ctxPool.Put(c)
	c.w, c.r, c.status = w, r, 200
	c.links = c.links[:0]
	c.out.reset()
	c.role, c.grant, c.scheme = "", nil, ""
	c.route, c.params = matchRoute(r.URL.Path, c.params)

	now := s.wireNowMs()
	h := w.Header()
	h.Set("Date", time.UnixMilli(now).UTC().Format(http.TimeFormat))
	h.Set("X-Okta-Request-Id", hexID(s.o.seed, 0x72657169, n, 32))
	if s.cfg.TimeScale != 1 {
		h.Set("X-Oktasim-Time-Scale", strconv.FormatFloat(s.cfg.TimeScale, 'g', -1, 64))
	}
	endpoint := r.Method + " (unmatched)"
	if c.route != nil {
		endpoint = r.Method + " " + c.route.pattern
	}
	s.stats.request(endpoint)
	b := bucketFor(r.Method, r.URL.Path)

	// Concurrency limit: headers 0/0 and an estimated reset.
	if s.rateLimits() == RateLimitsOkta && s.inflight.Load() > int64(s.cfg.ConcurrencyLimit) {
		s.rateHeaders(h, 0, 0, (now+second+999)/1000)
		s.stats.concurrencyLimited()
		s.writeError(c, errRateLimited)
		return
	}

	// Faults (never on /__sim/*): decided from the seed and the request counter.
	fault := s.decideFault(n)
	if s.inStorm() {
		fault = "429storm-cont"
	}
	switch fault {
	case "500":
		s.stats.fault(fault)
		s.rateHeaders(h, s.bucketLimit(b), s.bucketLimit(b)-1, (now+minute+999)/1000)
		s.writeError(c, errInternal)
		return
	case "502", "503", "504":
		s.stats.fault(fault)
		writeGatewayError(w, fault)
		s.stats.status(mustAtoi(fault))
		return
	case "reset":
		s.stats.fault(fault)
		resetConn(w)
		return
	case "slow":
		s.stats.fault(fault)
		select {
		case <-time.After(s.cfg.Faults.SlowDelay):
		case <-r.Context().Done():
			return
		}
	case "429storm", "429storm-cont":
		if fault == "429storm" {
			s.startStorm()
		}
		s.stats.fault("429storm")
		s.rateHeaders(h, s.bucketLimit(b), 0, (now+2*second+999)/1000)
		s.writeError(c, errRateLimited)
		return
	}

	limit, remaining, reset, allowed := s.take(b, now)
	s.rateHeaders(h, limit, remaining, reset)
	if !allowed {
		s.writeError(c, errRateLimited)
		return
	}

	if apiErr := s.authenticate(c); apiErr != nil {
		s.writeError(c, apiErr)
		return
	}
	if c.route == nil {
		s.writeError(c, &apiError{status: 404, code: "E0000007", summary: "Not found: Resource not found: " + r.URL.Path + " (Resource)"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(c, errMethod)
		return
	}
	if apiErr := s.checkScope(c); apiErr != nil {
		s.writeError(c, apiErr)
		return
	}
	if c.route.table != "" && !roleAllowed(c.route.table, c.role) {
		s.writeError(c, errForbidden)
		return
	}
	c.q = r.URL.Query()
	c.wb = requestBase(r)
	s.mu.RLock()
	c.rd = renderer{o: s.o, lb: c.wb, w: &c.out, attrs: c.rd.attrs}
	if s.cfg.LinkBaseURL != "" {
		c.rd.lb = s.cfg.LinkBaseURL
	}
	apiErr := c.route.h(s, c)
	s.mu.RUnlock()
	if apiErr != nil {
		s.writeError(c, apiErr)
		return
	}
	for _, l := range c.links {
		h.Add("Link", l)
	}
	h.Set("Content-Type", "application/json")
	s.writeBody(c, fault == "truncate")
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (s *Sim) rateHeaders(h http.Header, limit, remaining int, reset int64) {
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset, 10))
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host
}

// authenticate sets c.role from the Authorization header: an SSWS API
// token, or an OAuth access token ("Bearer", or "DPoP" with a proof).
func (s *Sim) authenticate(c *reqCtx) *apiError {
	scheme, tok, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	switch {
	case strings.EqualFold(scheme, "SSWS"):
		role, ok := s.cfg.Tokens[tok]
		if !ok {
			return errUnauthorized
		}
		c.role = role
		return nil
	case strings.EqualFold(scheme, "Bearer"), strings.EqualFold(scheme, "DPoP"):
		return s.authenticateOAuth(c, strings.EqualFold(scheme, "DPoP"), tok)
	}
	return errUnauthorized
}

func roleAllowed(table, role string) bool {
	for _, r := range TablePermissions[table] {
		if r == role {
			return true
		}
	}
	return false
}

// writeError writes an Okta error body. errorId is derived from the seed, the
// request target and the code so identical requests get identical bodies.
func (s *Sim) writeError(c *reqCtx, e *apiError) {
	h := c.w.Header()
	h.Del("Link")
	h.Set("Content-Type", "application/json")
	c.out.reset()
	w := &c.out
	w.obj()
	w.ks("errorCode", e.code).ks("errorSummary", e.summary).ks("errorLink", e.code)
	w.ks("errorId", "oae"+b64id(s.o.seed, hashString(c.r.Method+" "+c.r.URL.RequestURI()), hashString(e.code), 22))
	w.ka("errorCauses")
	for _, cause := range e.causes {
		w.obj().ks("errorSummary", cause).end()
	}
	w.endArr()
	w.end()
	c.status = e.status
	if e.status == 429 {
		s.stats.rateLimited()
	}
	s.writeBody(c, false)
}

func (s *Sim) writeBody(c *reqCtx, truncate bool) {
	body := c.out.b
	h := c.w.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	s.stats.status(c.status)
	c.w.WriteHeader(c.status)
	if c.r.Method == http.MethodHead {
		return
	}
	if truncate && len(body) > 1 {
		s.stats.fault("truncate")
		_, _ = c.w.Write(body[:len(body)/2])
		if f, ok := c.w.(http.Flusher); ok {
			f.Flush()
		}
		closeConn(c.w)
		return
	}
	_, _ = c.w.Write(body)
}

// closeConn hijacks and closes the connection after a partial body, or aborts
// the handler when hijacking is unsupported (HTTP/2).
func closeConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// resetConn closes the connection without any response, with SO_LINGER 0 so
// the peer sees a TCP reset where possible.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = nc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

var gatewayTitles = map[string]string{"502": "502 Bad Gateway", "503": "503 Service Temporarily Unavailable", "504": "504 Gateway Time-out"}

// writeGatewayError mimics a load balancer error page (HTML, not Okta JSON).
func writeGatewayError(w http.ResponseWriter, code string) {
	title := gatewayTitles[code]
	body := "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n</body>\r\n</html>\r\n"
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(mustAtoi(code))
	_, _ = w.Write([]byte(body))
}

// ---- Pagination helpers ----

// limitParam parses `limit` with Okta's per-endpoint default, clamped to
// [minimum, maximum].
func (c *reqCtx) limitParam(def, minimum, maximum int) (int, *apiError) {
	v := c.q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, errValidation("limit", "limit: The field must be an integer.")
	}
	if n <= 0 {
		return def, nil
	}
	return min(max(n, minimum), maximum), nil
}

// pageURL builds a link on the called host: first the given leading params
// (key, value pairs; an empty value drops the key), then the request's other
// params in key order, re-encoded.
func (c *reqCtx) pageURL(lead ...string) string { return c.pageURLOn(c.wb, lead...) }

// pageURLOn is pageURL on another base URL (body links use the link base).
func (c *reqCtx) pageURLOn(base string, lead ...string) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteString(c.r.URL.Path)
	skip := map[string]bool{}
	sep := byte('?')
	for i := 0; i+1 < len(lead); i += 2 {
		skip[lead[i]] = true
		if lead[i+1] == "" {
			continue // drop this parameter
		}
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(url.QueryEscape(lead[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(lead[i+1]))
	}
	keys := make([]string, 0, len(c.q))
	for k := range c.q {
		if !skip[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range c.q[k] {
			b.WriteByte(sep)
			sep = '&'
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// setLinks adds the self link (echoing the effective limit) and, when next is
// non-empty, a next link carrying that cursor: two separate Link headers.
func (c *reqCtx) setLinks(limit int, next string) {
	lim := strconv.Itoa(limit)
	if c.q.Has("after") {
		c.links = append(c.links, "<"+c.pageURL("after", c.q.Get("after"), "limit", lim)+`>; rel="self"`)
	} else {
		c.links = append(c.links, "<"+c.pageURL("limit", lim)+`>; rel="self"`)
	}
	if next != "" {
		c.links = append(c.links, "<"+c.pageURL("after", next, "limit", lim)+`>; rel="next"`)
	}
}
