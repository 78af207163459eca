package oktasim

// The System Log event catalogue: every event type the simulator logs, with
// the legacy type, display message and severity Okta sends for it. weight is
// the share of the procedurally generated background (0: never drawn; such
// types are logged by the history the org's state implies, by the background
// admin timeline, by Churn or by the scenarios). docs/SIMULATOR.md lists the
// catalogue and says where each type comes from.

type evDef struct {
	typ, legacy, msg string
	weight           int
	actor            uint8
	targets          []uint8
	sev              string
	failP            float64
	debug            uint8 // debugData flavour
	// legacyFail and reasonFail are the legacy type and outcome reason of a
	// FAILURE (empty: legacy and the flavour's usual reason).
	legacyFail, reasonFail string
}

// Debug data flavours.
const (
	dbgSession uint8 = iota
	dbgSSO
	dbgMFA
	dbgToken
	dbgAdmin
	dbgPolicy
	dbgSystem
	dbgPush
	dbgIdP
)

var evCatalog = []evDef{
	// Sign-in and session events (user actors, ACTIVE at the event's time).
	{typ: "user.session.start", legacy: "core.user_auth.login_success", msg: "User login to Okta", weight: 300, actor: akUser, sev: "INFO", failP: 0.06, debug: dbgSession, legacyFail: "core.user_auth.login_failed", reasonFail: "INVALID_CREDENTIALS"},
	{typ: "user.authentication.sso", legacy: "app.auth.sso", msg: "User single sign on to app", weight: 220, actor: akUser, targets: []uint8{tkApp, tkAppUser}, sev: "INFO", failP: 0.02, debug: dbgSSO},
	{typ: "user.authentication.auth_via_mfa", legacy: "core.user.factor.attempt_success", msg: "Authentication of user via MFA", weight: 100, actor: akUser, targets: []uint8{tkEnrollment}, sev: "INFO", failP: 0.04, debug: dbgMFA, legacyFail: "core.user.factor.attempt_fail", reasonFail: "INVALID_CREDENTIALS"},
	{typ: "policy.evaluate_sign_on", msg: "Evaluation of sign-on policy", weight: 100, actor: akUser, targets: []uint8{tkPolicy, tkPolicyRule}, sev: "INFO", debug: dbgPolicy},
	{typ: "user.session.end", legacy: "core.user_auth.logout_success", msg: "User logout from Okta", weight: 70, actor: akUser, sev: "INFO", debug: dbgSession},
	{typ: "app.oauth2.as.token.grant.access_token", legacy: "app.oauth2.as.token.grant.access_token_success", msg: "OAuth2 access token is granted", weight: 60, actor: akClient, targets: []uint8{tkToken}, sev: "INFO", failP: 0.01, debug: dbgToken},
	{typ: "user.account.update_profile", legacy: "core.user.config.profile_update.success", msg: "Update user profile for Okta", weight: 30, actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "group.user_membership.add", legacy: "core.user_group_member.user_add", msg: "Add user to group membership", weight: 25, actor: akUser, targets: []uint8{tkUser, tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "group.user_membership.remove", legacy: "core.user_group_member.user_remove", msg: "Remove user from group membership", weight: 10, actor: akUser, targets: []uint8{tkUser, tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "application.user_membership.add", legacy: "app.generic.provision.assign_user_to_app", msg: "Add user to application membership", weight: 15, actor: akUser, targets: []uint8{tkAppUser, tkApp, tkUser}, sev: "INFO", debug: dbgAdmin},
	// Lock-outs come from the users' state (history.go), never drawn.
	{typ: "user.account.lock", legacy: "core.user.account.locked", msg: "Max sign in attempts exceeded", actor: akSystem, targets: []uint8{tkUser}, sev: "WARN", debug: dbgSystem},
	{typ: "user.mfa.factor.activate", legacy: "core.user.factor.activate", msg: "Activate factor or authenticator", weight: 10, actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgMFA},
	{typ: "device.enrollment.create", msg: "Enroll device", weight: 10, actor: akUser, targets: []uint8{tkDevice}, sev: "INFO", debug: dbgSession},
	{typ: "user.lifecycle.create", legacy: "core.user.config.user_creation.success", msg: "Create okta user", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.lifecycle.deactivate", legacy: "core.user.config.user_deactivated", msg: "Deactivate Okta user", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.lifecycle.delete.initiated", legacy: "core.user.config.user_deleted", msg: "Delete Okta user initiated", weight: 1, actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.lifecycle.delete.completed", msg: "Delete Okta user completed", weight: 1, actor: akSystem, targets: []uint8{tkUser}, sev: "INFO", debug: dbgSystem},
	{typ: "group.lifecycle.create", legacy: "core.user_group.created", msg: "Create Okta group", weight: 2, actor: akUser, targets: []uint8{tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "group.profile.update", legacy: "core.user_group.profile_updated", msg: "Update group profile", weight: 2, actor: akUser, targets: []uint8{tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "group.lifecycle.delete", legacy: "core.user_group.deleted", msg: "Delete Okta group", weight: 1, actor: akUser, targets: []uint8{tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "application.user_membership.remove", legacy: "app.generic.unprovision.user_unassigned", msg: "Remove user from application membership", weight: 5, actor: akUser, targets: []uint8{tkAppUser, tkApp, tkUser}, sev: "INFO", debug: dbgAdmin},
	// Grants come from the role assignments' creation times (history.go).
	{typ: "user.account.privilege.grant", legacy: "core.user.admin_privilege.granted", msg: "Grant user privilege", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	// Okta ThreatInsight in log-only mode: the background's detections are
	// ALLOW; the password_spray scenario's are DENY.
	{typ: "security.threat.detected", legacy: "security.threat.detected", msg: "Request from suspicious actor", weight: 1, actor: akSystem, sev: "WARN", debug: dbgSystem},
	{typ: "policy.lifecycle.update", legacy: "core.policy.update", msg: "Update policy", weight: 3, actor: akUser, targets: []uint8{tkPolicy}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.lifecycle.activate", legacy: "core.user.config.user_activated", msg: "Activate Okta user", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	// Logged by Churn, the history and the scenarios (weight 0).
	{typ: "group.privilege.grant", legacy: "core.user_group.privilege_grant", msg: "Grant admin privilege to group", actor: akUser, targets: []uint8{tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "group.privilege.revoke", legacy: "core.user_group.privilege_revoke", msg: "Revoke admin privilege from group", actor: akUser, targets: []uint8{tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "group.application_assignment.add", msg: "Add assigned application to group", actor: akUser, targets: []uint8{tkApp, tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "group.application_assignment.remove", msg: "Remove assigned application from group", actor: akUser, targets: []uint8{tkApp, tkGroup}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.rule.update", legacy: "core.policy.rule.update", msg: "Update policy rule", weight: 2, actor: akUser, targets: []uint8{tkPolicy, tkPolicyRule}, sev: "INFO", debug: dbgAdmin},

	// More background (procedural).
	{typ: "system.push.send_factor_verify_push", legacy: "core.user.factor.push.sent", msg: "Push notification sent for user verification", weight: 25, actor: akUser, targets: []uint8{tkEnrollment}, sev: "INFO", debug: dbgPush},
	{typ: "user.authentication.verify", msg: "Verify user identity", weight: 20, actor: akUser, targets: []uint8{tkEnrollment}, sev: "INFO", failP: 0.03, debug: dbgMFA, reasonFail: "VERIFICATION_ERROR"},
	{typ: "app.oauth2.as.authorize.code", legacy: "app.oauth2.as.authorize.code_success", msg: "OAuth2 authorization code request", weight: 10, actor: akUser, targets: []uint8{tkApp}, sev: "INFO", debug: dbgSSO},
	{typ: "app.oauth2.as.token.grant.refresh_token", legacy: "app.oauth2.as.token.grant.refresh_token_success", msg: "OAuth2 refresh token is granted", weight: 8, actor: akClient, targets: []uint8{tkToken}, sev: "INFO", debug: dbgToken},
	{typ: "user.session.access_admin_app", legacy: "app.admin.sso.login.success", msg: "User accessing Okta admin app", weight: 4, actor: akUser, targets: []uint8{tkApp}, sev: "INFO", debug: dbgSSO},
	{typ: "user.authentication.auth_via_IDP", legacy: "core.user_auth.idp.saml.login_success", msg: "Authenticate user via IDP", weight: 4, actor: akUser, targets: []uint8{tkIdP}, sev: "INFO", debug: dbgIdP},
	{typ: "user.authentication.auth_via_AD_agent", legacy: "core.user_auth.login_success", msg: "Authenticate user with AD agent", weight: 4, actor: akUser, sev: "INFO", failP: 0.03, debug: dbgSession, legacyFail: "core.user_auth.login_failed", reasonFail: "INVALID_CREDENTIALS"},
	{typ: "user.account.update_password", legacy: "core.user.config.password_update.success", msg: "User update password for Okta", weight: 3, actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgSession},
	{typ: "user.mfa.okta_verify.deny_push", legacy: "core.user.factor.attempt_fail", msg: "User rejected Okta push verify", weight: 1, actor: akUser, targets: []uint8{tkEnrollment}, sev: "WARN", debug: dbgPush},
	{typ: "application.provision.user.push", legacy: "app.generic.provision.user.push", msg: "Push new user to external application", weight: 4, actor: akSystem, targets: []uint8{tkAppUser, tkApp, tkUser}, sev: "INFO", debug: dbgSystem},
	{typ: "application.provision.user.push_profile", legacy: "app.generic.provision.user.push_profile", msg: "Push user profile to external application", weight: 4, actor: akSystem, targets: []uint8{tkAppUser, tkApp, tkUser}, sev: "INFO", debug: dbgSystem},
	{typ: "application.lifecycle.update", legacy: "app.generic.config.app_updated", msg: "Update application", weight: 2, actor: akUser, targets: []uint8{tkApp}, sev: "INFO", debug: dbgAdmin},
	{typ: "zone.update", legacy: "zone.update", msg: "Update network zone", weight: 1, actor: akUser, targets: []uint8{tkZone}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.mfa.factor.deactivate", legacy: "core.user.factor.deactivate", msg: "Reset factor for user", weight: 2, actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "system.org.rate_limit.warning", legacy: "core.framework.ratelimit.warning", msg: "Rate limit warning", weight: 1, actor: akSystem, sev: "WARN", debug: dbgSystem},
	{typ: "user.risk.detect", msg: "User risk detected", weight: 1, actor: akSystem, targets: []uint8{tkUser}, sev: "INFO", debug: dbgSystem},

	// History of the org's state and the background admin timeline (history.go).
	{typ: "user.lifecycle.suspend", legacy: "core.user.config.user_suspended", msg: "Suspend Okta user", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.lifecycle.unsuspend", legacy: "core.user.config.user_unsuspended", msg: "Unsuspend Okta user", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.account.unlock", legacy: "core.user.config.user_unlocked", msg: "Unlock user account", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.account.lock.limit", legacy: "core.user.account.lock.limit", msg: "Lock user account due to maximum failed sign-in attempts", actor: akSystem, targets: []uint8{tkUser}, sev: "WARN", debug: dbgSystem},
	{typ: "user.account.reset_password", legacy: "core.user.config.password_reset", msg: "Fired when the user's Okta password is reset", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.account.expire_password", legacy: "core.user.config.password_expired", msg: "Expire password", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.account.privilege.revoke", legacy: "core.user.admin_privilege.revoked", msg: "Revoke user privilege", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "zone.create", legacy: "zone.create", msg: "Create network zone", actor: akUser, targets: []uint8{tkZone}, sev: "INFO", debug: dbgAdmin},
	{typ: "zone.activate", legacy: "zone.activate", msg: "Activate network zone", actor: akUser, targets: []uint8{tkZone}, sev: "INFO", debug: dbgAdmin},
	{typ: "zone.deactivate", legacy: "zone.deactivate", msg: "Deactivate network zone", actor: akUser, targets: []uint8{tkZone}, sev: "INFO", debug: dbgAdmin},
	{typ: "zone.delete", legacy: "zone.delete", msg: "Delete network zone", actor: akUser, targets: []uint8{tkZone}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.lifecycle.create", legacy: "core.policy.add", msg: "Add policy", actor: akUser, targets: []uint8{tkPolicy}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.lifecycle.activate", legacy: "core.policy.activate", msg: "Activate policy", actor: akUser, targets: []uint8{tkPolicy}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.lifecycle.deactivate", legacy: "core.policy.deactivate", msg: "Deactivate policy", actor: akUser, targets: []uint8{tkPolicy}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.lifecycle.delete", legacy: "core.policy.delete", msg: "Delete policy", actor: akUser, targets: []uint8{tkPolicy}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.rule.add", legacy: "core.policy.rule.add", msg: "Add policy rule", actor: akUser, targets: []uint8{tkPolicy, tkPolicyRule}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.rule.activate", legacy: "core.policy.rule.activate", msg: "Activate policy rule", actor: akUser, targets: []uint8{tkPolicy, tkPolicyRule}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.rule.deactivate", legacy: "core.policy.rule.deactivate", msg: "Deactivate policy rule", actor: akUser, targets: []uint8{tkPolicy, tkPolicyRule}, sev: "INFO", debug: dbgAdmin},
	{typ: "policy.rule.delete", legacy: "core.policy.rule.delete", msg: "Delete policy rule", actor: akUser, targets: []uint8{tkPolicy, tkPolicyRule}, sev: "INFO", debug: dbgAdmin},
	{typ: "application.lifecycle.create", legacy: "app.generic.config.app_created", msg: "Create application", actor: akUser, targets: []uint8{tkApp}, sev: "INFO", debug: dbgAdmin},
	{typ: "application.lifecycle.activate", legacy: "app.generic.config.app_activated", msg: "Activate application", actor: akUser, targets: []uint8{tkApp}, sev: "INFO", debug: dbgAdmin},
	{typ: "application.lifecycle.deactivate", legacy: "app.generic.config.app_deactivated", msg: "Deactivate application", actor: akUser, targets: []uint8{tkApp}, sev: "INFO", debug: dbgAdmin},
	{typ: "application.lifecycle.delete", legacy: "app.generic.config.app_deleted", msg: "Delete application", actor: akUser, targets: []uint8{tkApp}, sev: "INFO", debug: dbgAdmin},
	{typ: "system.idp.lifecycle.create", legacy: "core.idp.config.created", msg: "Create IdP", actor: akUser, targets: []uint8{tkIdP}, sev: "INFO", debug: dbgAdmin},
	{typ: "system.idp.lifecycle.activate", legacy: "core.idp.config.activated", msg: "Activate IdP", actor: akUser, targets: []uint8{tkIdP}, sev: "INFO", debug: dbgAdmin},
	{typ: "system.idp.lifecycle.deactivate", legacy: "core.idp.config.deactivated", msg: "Deactivate IdP", actor: akUser, targets: []uint8{tkIdP}, sev: "INFO", debug: dbgAdmin},
	{typ: "system.idp.lifecycle.delete", legacy: "core.idp.config.deleted", msg: "Delete IdP", actor: akUser, targets: []uint8{tkIdP}, sev: "INFO", debug: dbgAdmin},
	{typ: "system.api_token.create", legacy: "api.token.create", msg: "Create API token", actor: akUser, targets: []uint8{tkAPIToken}, sev: "INFO", debug: dbgAdmin},
	{typ: "system.api_token.revoke", legacy: "api.token.revoke", msg: "Revoke API token", actor: akUser, targets: []uint8{tkAPIToken}, sev: "INFO", debug: dbgAdmin},
	{typ: "iam.resourceset.bindings.add", msg: "Add a binding to a resource set", actor: akUser, targets: []uint8{tkResourceSet}, sev: "INFO", debug: dbgAdmin},
	{typ: "iam.resourceset.bindings.delete", msg: "Delete a binding from a resource set", actor: akUser, targets: []uint8{tkResourceSet}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.mfa.factor.reset_all", legacy: "core.user.factor.reset_all", msg: "Reset all factors for user", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},

	// Scenario events (scenarios.go).
	{typ: "user.session.impersonation.grant", legacy: "core.user.impersonation.grant.enabled", msg: "Enable impersonation grant", actor: akUser, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.session.impersonation.initiate", legacy: "core.user.impersonation.session.initiated", msg: "User session impersonation initiated", actor: akSystem, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.session.impersonation.end", legacy: "core.user.impersonation.session.ended", msg: "User session impersonation ended", actor: akSystem, targets: []uint8{tkUser}, sev: "INFO", debug: dbgAdmin},
	{typ: "user.account.report_suspicious_activity_by_enduser", msg: "User report suspicious activity", actor: akUser, targets: []uint8{tkUser}, sev: "WARN", debug: dbgSession},
	{typ: "security.session.detect_client_roaming", msg: "Roaming session detected", actor: akUser, sev: "WARN", debug: dbgSession},
	{typ: "user.risk.change", msg: "User risk level changed", actor: akSystem, targets: []uint8{tkUser}, sev: "INFO", debug: dbgSystem},
	{typ: "security.request.blocked", msg: "Request blocked by network zone", actor: akSystem, sev: "WARN", debug: dbgSystem},
}

// Event type indices by name.
var evIndex = func() map[string]uint8 {
	if len(evCatalog) > 255 {
		panic("oktasim: event catalogue larger than a uint8")
	}
	m := map[string]uint8{}
	for i, e := range evCatalog {
		if _, dup := m[e.typ]; dup {
			panic("oktasim: event type listed twice: " + e.typ)
		}
		m[e.typ] = uint8(i)
	}
	return m
}()

// evt returns the catalogue index of typ, panicking on a name the catalogue
// does not list (a programming error).
func evt(typ string) uint8 {
	i, ok := evIndex[typ]
	if !ok {
		panic("oktasim: unknown event type " + typ)
	}
	return i
}

var evCumWeights = func() []int {
	out := make([]int, len(evCatalog))
	sum := 0
	for i, e := range evCatalog {
		sum += e.weight
		out[i] = sum
	}
	return out
}()
