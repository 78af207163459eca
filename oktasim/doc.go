// Package oktasim is a deterministic, in-process simulator of an Okta org's
// Management API, faithful to the behaviours a connector can get wrong
// (okta-api.md §0): the tests, benchmarks and the demo of oktasync run against it.
//
//	s, _ := oktasim.New(oktasim.Config{Seed: 1, Users: 1000, Now: oktasim.DefaultNow})
//	url, _ := s.Start("127.0.0.1:0") // or s.StartTLS(addr, caFile), or s.Handler()
//	defer s.Close()
//	// GET url+"/api/v1/users" with "Authorization: SSWS demo-token"
//
// # Data
//
// The org is generated from Config.Seed and the sizes. Only compact per-object
// state is held (about 60 bytes per user); names, profiles, credentials,
// settings, factors and System Log events are derived from (seed, object
// index) when a page is rendered, by an append-only JSON writer. Ids are 20
// characters with Okta's prefixes (00u users, 00g groups, 0oa apps, guo devices,
// ...) and encode the object index under a keyed permutation, so lookups need
// no tables. The same Config yields byte-identical bodies; set
// Config.LinkBaseURL to keep the listening port out of bodies for golden files.
//
// # Clocks and TimeScale (decision)
//
// There are two clocks.
//
//   - The org clock starts at Config.Now. Every timestamp in a body
//     (lastUpdated, published, ...) and every default that depends on "now"
//     (the System Log's until and 7-day since window) uses it. A zero
//     Config.Now means the real clock: the org starts at time.Now and its clock
//     runs with the wire clock, so a client on the wall clock (oktasync sim +
//     sync) agrees with it. A non-zero Config.Now (DefaultNow in tests, the
//     benchmarks and the demo) is fixed: it moves only through Advance and
//     Churn, so bodies never depend on the wall clock.
//   - The wire clock is the org clock plus the real time elapsed since New
//     (for a running clock: since the org clock last changed), multiplied by
//     Config.TimeScale. The Date header, the per-minute rate-limit
//     windows and X-Rate-Limit-Reset (epoch seconds) are on the wire clock.
//
// Date and X-Rate-Limit-Reset are therefore consistent with each other: a
// window resets 60 simulated seconds after its first request, and Reset − Date
// is in simulated seconds. With TimeScale 60 one simulated minute passes in one
// real second, so a client must wait (Reset − Date) / TimeScale real seconds;
// a client that waits Reset − Date real seconds (the Okta SDK's rule) is
// correct but waits TimeScale times too long. Tests that use TimeScale should
// give their client the same scale. When TimeScale is not 1 every API response
// carries X-Oktasim-Time-Scale so a client can discover it; Sim.TimeScale and
// GET /__sim/info report it too.
//
// # Rate limits
//
// With RateLimitsOkta each bucket allows its per-minute limit (Okta's
// Workforce defaults, overridable by Config.BucketLimits) in windows that open
// at the bucket's first request; the next request answers 429 E0000047 with
// X-Rate-Limit-Remaining 0 and no Retry-After. More than ConcurrencyLimit
// (default 75) requests in flight answer 429 with Limit 0 and Remaining 0.
// With RateLimitsOff the headers are sent but Remaining always equals Limit.
// Buckets (most specific wins; method matters):
//
//	app          /api/v1/apps/{id}                       500
//	group        /api/v1/groups/{id}                    1000
//	user         GET /api/v1/users/{idOrLogin}           2000
//	user-write   POST|PUT|DELETE /api/v1/users/{id}       600
//	users        GET|POST /api/v1/users                   600
//	apps         /api/v1/apps and /api/v1/apps/*          100
//	groups       /api/v1/groups and /api/v1/groups/*      500
//	devices      /api/v1/devices*                         100
//	logs         /api/v1/logs                             120
//	events       /api/v1/events                           100
//	oauth2-clients, certificate-authorities              100
//	email-bounces /api/v1/org/email/bounces/remove-list    60
//	default      everything else                         1200
//
// # Authentication and permissions
//
// Requests need "Authorization: SSWS <token>" or an OAuth access token (below);
// Config.Tokens maps tokens to an admin role type (default demo-token →
// SUPER_ADMIN). Unknown or missing tokens get 401 E0000011. Each route feeds a
// destination table, and a role may read a table as listed in
// TablePermissions (from okta-permissions.md; Group Admin is USER_ADMIN);
// otherwise 403 E0000006. The Everyone group is hidden from USER_ADMIN and
// GROUP_MEMBERSHIP_ADMIN.
//
// # OAuth 2.0 service apps and DPoP
//
// Config.OAuthClients registers service apps by client_id (ParseOAuthClients
// reads --oauth-client values, LoadPublicKeyFile a PEM or JWK public key).
// POST /oauth2/v1/token is the org authorization server: grant_type
// client_credentials, scope, and a private_key_jwt client_assertion (RS256,
// RS384, RS512, ES256, ES384, ES512; iss = sub = client_id, aud = the token
// URL called, exp at most an hour ahead, a jti used once; kid = KeyID when
// set). Refusals are OAuth JSON: 401 invalid_client (the description names the
// failed check), 400 invalid_scope, unsupported_grant_type, invalid_request.
// Tokens are opaque, valid TokenLifetime (default 1 h) on the real clock, and
// answer {"token_type","expires_in","access_token","scope"} with
// Cache-Control: no-store. The token endpoint has no rate-limit bucket, faults
// or Stats; OAuthStats counts its work.
//
// DPoP (RFC 9449): an app with RequireDPoP gets 400 invalid_dpop_proof
// without a DPoP header; a valid proof without the server's nonce gets 400
// use_dpop_nonce and a DPoP-Nonce header (renewed daily, old values good for 3
// days; ExpireDPoPNonces drops them); with it, a "DPoP" token bound to the
// proof key's thumbprint. Any app that sends a valid proof gets a bound token.
// Proofs need typ dpop+jwt, an asymmetric alg, a public jwk that verifies, htm
// and htu (query and fragment ignored) of the request, an iat within 5 minutes
// and a fresh jti; at the API also ath, the hash of the token.
//
// The API takes "Bearer <token>" and "DPoP <token>" with a proof of the bound
// key. An unknown, expired or revoked (RevokeTokens) token, one under the
// other scheme, or a bad proof answers 401 E0000011 with WWW-Authenticate
// (error="invalid_token" or "invalid_dpop_proof"); with
// Config.DPoPNonceOnAPI a proof without the API's nonce answers 401
// use_dpop_nonce with DPoP-Nonce. A route needs its table's scope
// (TableScopes; /users/me okta.users.read): without it, 403 E0000006 with
// WWW-Authenticate error="insufficient_scope", scope and resource. Then the
// app's Role applies as a token's role does.
//
// # Endpoints (all GET)
//
//	/api/v1/users                       Link, 200/200; search, filter, q; plain list omits DEPROVISIONED
//	/api/v1/users/{idOrLogin}           full lifecycle _links
//	/api/v1/users/me                    the token's admin user (any role may read it)
//	/api/v1/users/{id}/roles            direct + group-assigned roles; no Link
//	/api/v1/users/{id}/groups, /factors, /authenticator-enrollments   no Link
//	/api/v1/meta/types/user[/{id}]      no Link
//	/api/v1/groups                      Link, 10000/10000; search, filter, q (q: no Link), expand=stats
//	/api/v1/groups/{id}, /users (Link, 1000/1000), /roles (no Link)
//	/api/v1/groups/rules[/{id}]         Link, 50/200
//	/api/v1/apps                        Link, 20/200; filter, q, includeNonDeleted (else ACTIVE only)
//	/api/v1/apps/{id}, /users (Link, 50/500, expand=user), /groups (Link, 20, min 20/max 200)
//	/api/v1/devices[/{id}]              Link, 200/200; search, expand=user|userSummary; /{id}/users no Link
//	/api/v1/logs                        Link; 100/1000; since, until, after, filter, q, sortOrder
//	/api/v1/iam/resource-sets[/{id}], /{id}/resources (100), /iam/roles[/{id}], /{id}/permissions,
//	/api/v1/iam/assignees/users         wrapped bodies with _links.next.href
//	/api/v1/mappings[/{id}]             Link, 20/200; sourceId, targetId; properties only by id
//	/api/v1/policies?type=T             type required (400 E0000001); /{id}, /{id}/rules[/{rid}]
//	/api/v1/idps, /zones, /api-tokens   Link; by id too
//
// Cursors are opaque: users' cursors are a version digit plus the last id (a
// bare id is rejected with 400 E0000029); apps, devices, groups and most others
// use the last id, as observed. Bad cursors answer 400 E0000029 "Invalid paging
// request." (E0000031 "Invalid search criteria." for devices), both with the
// cause "Invalid cursor.". self and next arrive as two Link header lines; the
// self link echoes the effective limit. Unknown or deleted objects answer 404
// E0000007 "Not found: Resource not found: <id> (<Type>)".
//
// The System Log is in persistence order for polling requests (no until,
// ASCENDING): published times may go backwards, the next link is always
// present (an empty page when caught up) and its after cursor encodes a
// position in the log, so events appended later by Churn are returned by the
// stored next link. Requests with until, or DESCENDING, are ordered by
// published and end. since defaults to 7 days before until; since more than
// 180 days back answers 400 E0000053.
//
// # Change over time
//
// Churn (or POST /__sim/churn with a JSON ChurnSpec; an empty body applies
// DefaultChurnSpec) creates, updates, deactivates and deletes users, creates,
// updates and deletes groups, changes memberships and app assignments, touches
// devices, adds custom user profile attributes (set on some users; the others
// omit the key) and appends ordinary log events, deterministically from the
// seed and the churn counter. Changes are spread over (now, now+Advance], move
// lastUpdated / lastMembershipUpdated as Okta does (membership changes move only
// lastMembershipUpdated), emit the matching System Log events
// (user.lifecycle.create, user.account.update_profile, user.lifecycle.deactivate,
// user.lifecycle.delete.initiated/completed, group.lifecycle.create/delete,
// group.profile.update, group.user_membership.add/remove,
// application.user_membership.add/remove) and advance the org clock. A deleted
// user is first DEPROVISIONED; deleting it again makes it vanish (404).
//
// # Control API (no auth, no faults, no rate limits)
//
//	POST /__sim/churn          JSON ChurnSpec → ChurnResult
//	POST /__sim/advance?d=1h   move the org clock
//	GET  /__sim/stats          Stats (requests per route pattern, statuses, 429s, faults)
//	POST /__sim/stats/reset
//	GET  /__sim/info           sizes, clocks, buckets
//
// # Faults
//
// Config.Faults (ParseFaults syntax "500=0.02,reset=0.01,truncate=0.01,
// slow=0.01:200ms,429storm=0.005:10") injects 500 (Okta JSON E0000009),
// 502/503/504 (load-balancer HTML), connection resets, truncated bodies (full
// Content-Length, half the body, then close), slow responses and storms of
// consecutive 429s. The decision for the n-th API request is a function of the
// seed and n only, so a sequential client meets the same faults on every run.
package oktasim
