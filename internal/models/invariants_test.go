package models

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// invariant is a fact about a model computed twice: from the model (got)
// and from the synced tables another way (want). Both are queries whose
// rows must be equal as multisets, and want must return rows.
type invariant struct {
	model, name string
	got, want   string
}

// notDeleted filters live rows of a soft-delete table aliased x.
const notDeleted = "not coalesce(%s._fivetran_deleted, false)"

func live(alias string) string { return fmt.Sprintf(notDeleted, alias) }

var invariants = []invariant{
	{"as_of", "the newest event", `select as_of from okta_models.as_of`,
		`select max(published) from main.system_log`},
	{"sign_in_daily", "every sign-in event counted once, by kind and outcome",
		`select kind, outcome, sum(events) from okta_models.sign_in_daily group by all`,
		`select case event_type when 'user.session.start' then 'okta_sign_in' else 'app_sso' end, outcome_result, count(*)
		 from main.system_log s where event_type in ('user.session.start', 'user.authentication.sso') and ` + live("s") + ` group by all`},
	{"sign_in_daily", "the application of an SSO is its AppInstance target",
		`select user_id, app_id, sum(events) from okta_models.sign_in_daily where kind = 'app_sso' group by all`,
		`select s.actor_id, t.id, count(*) from main.system_log s join main.system_log_target t on t.system_log_id = s.id and t.type = 'AppInstance'
		 where s.event_type = 'user.authentication.sso' group by all`},
	{"group_membership_history", "the current periods are the memberships of group_member, once each",
		`select user_id, group_id from okta_models.group_membership_history where is_current`,
		`select users_id, groups_id from main.group_member m where ` + live("m")},
	{"group_membership_history", "every successful removal in the log ends a period",
		`select user_id, group_id, valid_to from okta_models.group_membership_history where source = 'system_log' and valid_to is not null`,
		`select distinct u.id, g.id, s.published from main.system_log s
		 join main.system_log_target u on u.system_log_id = s.id and u.type = 'User'
		 join main.system_log_target g on g.system_log_id = s.id and g.type = 'UserGroup'
		 where s.event_type = 'group.user_membership.remove' and s.outcome_result = 'SUCCESS'`},
	{"effective_app_access", "the paths are application_user and application_group x group_member",
		`select distinct user_id, app_id from okta_models.effective_app_access`,
		`select user_id, application_id from main.application_user au where ` + live("au") + `
		 union select m.users_id, ag.application_id from main.application_group ag
		 join main.group_member m on m.groups_id = ag.groups_id where ` + live("ag") + ` and ` + live("m")},
	{"effective_app_access", "the group paths are application_group x group_member",
		`select user_id, app_id, group_id from okta_models.effective_app_access where path = 'group' and group_id is not null`,
		`select m.users_id, ag.application_id, ag.groups_id from main.application_group ag
		 join main.group_member m on m.groups_id = ag.groups_id where ` + live("ag") + ` and ` + live("m")},
	{"effective_app_access", "the direct paths are the assignments of scope USER",
		`select user_id, app_id, assigned_at from okta_models.effective_app_access where path = 'direct'`,
		`select user_id, application_id, created from main.application_user au where scope = 'USER' and ` + live("au")},
	{"effective_admin_privileges", "the roles are user_role and group_role x group_member",
		`select distinct user_id, role_assignment_id from okta_models.effective_admin_privileges`,
		`select users_id, id from main.user_role r where ` + live("r") + `
		 union select m.users_id, r.id from main.group_role r join main.group_member m on m.groups_id = r.groups_id
		 where ` + live("r") + ` and ` + live("m")},
	{"effective_admin_privileges", "a custom role carries each of its permissions",
		`select p.user_id, p.role_assignment_id, perm from okta_models.effective_admin_privileges p, unnest(p.permissions) as x(perm)`,
		`select a.user_id, a.role_assignment_id, c.label from okta_models.effective_admin_privileges a
		 join main.custom_role_permission c on c.custom_role_id = a.custom_role_id`},
	{"factor_strength", "every factor type enrolled in the org is ranked",
		`select distinct factor_type from main.user_enrolled_factor where factor_type in (select factor_type from okta_models.factor_strength)`,
		`select distinct factor_type from main.user_enrolled_factor`},
	{"mfa_coverage", "users with no active enrollment have coverage none",
		`select user_id from okta_models.mfa_coverage where coverage = 'none'`,
		`select id from main.users u where status <> 'DEPROVISIONED' and ` + live("u") + `
		 and id not in (select user_id from main.user_enrolled_factor where status = 'ACTIVE')
		 and id not in (select user_id from main.user_authenticator_enrollment where status = 'ACTIVE' and key <> 'okta_password')`},
	{"mfa_coverage", "users with an active webauthn, push or TOTP factor have a strong factor",
		`select user_id from okta_models.mfa_coverage where has_strong_factor`,
		`select user_id from main.user_enrolled_factor where status = 'ACTIVE' and factor_type in ('webauthn', 'push', 'token:software:totp')
		   and user_id in (select id from main.users where status <> 'DEPROVISIONED')
		 union select user_id from main.user_authenticator_enrollment where status = 'ACTIVE' and key in ('okta_verify', 'google_otp', 'webauthn')
		   and user_id in (select id from main.users where status <> 'DEPROVISIONED')`},
	{"mfa_coverage_by_factor", "the users with sms are those with an sms factor or a phone authenticator",
		`select population, users from okta_models.mfa_coverage_by_factor where factor_type = 'sms'`,
		`select 'all_users', count(distinct user_id) from (
		   select user_id from main.user_enrolled_factor where status = 'ACTIVE' and factor_type = 'sms'
		   union select user_id from main.user_authenticator_enrollment where status = 'ACTIVE' and key = 'phone_number')
		 where user_id in (select id from main.users where status <> 'DEPROVISIONED')
		 union all select 'admins', count(distinct user_id) from (
		   select user_id from main.user_enrolled_factor where status = 'ACTIVE' and factor_type = 'sms'
		   union select user_id from main.user_authenticator_enrollment where status = 'ACTIVE' and key = 'phone_number')
		 where user_id in (select id from main.users where status <> 'DEPROVISIONED')
		   and user_id in (select users_id from main.user_role where status = 'ACTIVE'
		                   union select m.users_id from main.group_role r join main.group_member m on m.groups_id = r.groups_id where r.status = 'ACTIVE')`},
	{"user_360", "one row per user, with their group count",
		`select user_id, group_count from okta_models.user_360`,
		`select u.id, (select count(*) from main.group_member m where m.users_id = u.id and ` + live("m") + `) from main.users u where ` + live("u")},
	{"user_360", "the applications a user reaches",
		`select user_id, app_count from okta_models.user_360 where app_count > 0`,
		`select user_id, count(distinct application_id) from (
		   select user_id, application_id from main.application_user
		   union select m.users_id, ag.application_id from main.application_group ag join main.group_member m on m.groups_id = ag.groups_id)
		 group by user_id`},
	{"orphaned_access", "a deactivated user's groups, Everyone aside",
		`select user_id, object_id from okta_models.orphaned_access where access_kind = 'group'`,
		`select m.users_id, m.groups_id from main.group_member m join main.users u on u.id = m.users_id
		 join main.groups g on g.id = m.groups_id where u.status = 'DEPROVISIONED' and g.type <> 'BUILT_IN'`},
	{"orphaned_access", "a deactivated user's applications",
		`select distinct user_id, object_id from okta_models.orphaned_access where access_kind = 'app'`,
		`select user_id, application_id from main.application_user where user_id in (select id from main.users where status = 'DEPROVISIONED')
		 union select m.users_id, ag.application_id from main.application_group ag join main.group_member m on m.groups_id = ag.groups_id
		 where m.users_id in (select id from main.users where status = 'DEPROVISIONED')`},
	{"admin_audit_trail", "every role grant and revocation, membership change and policy change is there",
		`select distinct event_id from okta_models.admin_audit_trail
		 where event_type in ('user.account.privilege.grant', 'user.account.privilege.revoke', 'group.user_membership.add', 'policy.rule.update', 'zone.deactivate')`,
		`select id from main.system_log where event_type in ('user.account.privilege.grant', 'user.account.privilege.revoke',
		 'group.user_membership.add', 'policy.rule.update', 'zone.deactivate') and actor_type <> 'SystemPrincipal'`},
	{"admin_audit_trail", "a change's before and after are the target's changeDetails",
		`select event_id, target_index, change_before::varchar, change_after::varchar from okta_models.admin_audit_trail where change_before is not null`,
		`select t.system_log_id, t.target_index, json_extract(t.change_details, 'from')::varchar, json_extract(t.change_details, 'to')::varchar
		 from main.system_log_target t join main.system_log s on s.id = t.system_log_id
		 where t.change_details is not null and s.actor_type <> 'SystemPrincipal' and s.event_type <> 'policy.evaluate_sign_on'`},
	{"app_usage", "assigned users are those who reach the app and can sign in",
		`select app_id, assigned_users from okta_models.app_usage where assigned_users > 0`,
		`select application_id, count(distinct user_id) from (
		   select user_id, application_id from main.application_user
		   union select m.users_id, ag.application_id from main.application_group ag join main.group_member m on m.groups_id = ag.groups_id) a
		 join main.users u on u.id = a.user_id where u.status in ('ACTIVE', 'RECOVERY', 'LOCKED_OUT', 'PASSWORD_EXPIRED')
		 group by application_id`},
	{"app_usage", "the last sign-in to each app",
		`select app_id, last_sign_in_at from okta_models.app_usage where last_sign_in_at is not null`,
		`select t.id, max(s.published) from main.system_log s join main.system_log_target t on t.system_log_id = s.id and t.type = 'AppInstance'
		 where s.event_type = 'user.authentication.sso' and s.outcome_result = 'SUCCESS' group by t.id`},
	{"policy_coverage", "the applications each authentication policy governs",
		`select distinct policy_id, target_id from okta_models.policy_coverage where target_kind = 'app'`,
		`select p.id, a.id from main.policy p join main.application a on a._links_access_policy_href like '%/policies/' || p.id`},
	{"policy_coverage", "every rule of every policy is there",
		`select distinct rule_id from okta_models.policy_coverage where rule_id is not null`,
		`select id from main.policy_rule`},
}

// TestModelInvariants checks each invariant on the demo org, and that
// every model has at least one.
func TestModelInvariants(t *testing.T) {
	db := openDB(t, builtDB(t, false))
	covered := map[string]bool{}
	for _, inv := range invariants {
		covered[inv.model] = true
		t.Run(inv.model+"/"+inv.name, func(t *testing.T) {
			want := queryRows(t, db, inv.want)
			if len(want) == 0 {
				t.Fatalf("the base tables give no rows: the demo org cannot show this invariant\n%s", inv.want)
			}
			got := queryRows(t, db, inv.got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-base tables +model):\n%s", diff)
			}
		})
	}
	for _, m := range mustPack(t) {
		if !covered[m.Name] && m.Name != "dormant_accounts" {
			t.Errorf("model %s has no invariant", m.Name)
		}
	}
}

// TestDormantAccounts recomputes the dormant accounts in Go from the users
// and the System Log: active users whose last sign-in (or creation) is 90
// days or more before the newest event, and who hold an app or a role.
func TestDormantAccounts(t *testing.T) {
	db := openDB(t, builtDB(t, false))
	var asOf time.Time
	if err := db.QueryRow(`select max(published) from main.system_log`).Scan(&asOf); err != nil {
		t.Fatal(err)
	}
	last := map[string]time.Time{}
	rows, err := db.Query(`select actor_id, published from main.system_log
		where event_type = 'user.session.start' and outcome_result = 'SUCCESS' and actor_id is not null`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		if at.After(last[id]) {
			last[id] = at
		}
	}
	rows.Close()
	holders := map[string]bool{}
	for _, l := range queryRows(t, db, `select user_id from main.application_user
		union select m.users_id from main.application_group ag join main.group_member m on m.groups_id = ag.groups_id
		union select users_id from main.user_role where status = 'ACTIVE'
		union select m.users_id from main.group_role r join main.group_member m on m.groups_id = r.groups_id where r.status = 'ACTIVE'`) {
		holders[l] = true
	}
	rows, err = db.Query(`select id, status, created, last_login from main.users`)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var id, status string
		var created time.Time
		var lastLogin *time.Time
		if err := rows.Scan(&id, &status, &created, &lastLogin); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains([]string{"ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED"}, status) || !holders[id] {
			continue
		}
		seen := last[id]
		if lastLogin != nil && lastLogin.After(seen) {
			seen = *lastLogin
		}
		from := seen
		if from.IsZero() {
			from = created
		}
		// date_diff('day') counts calendar days crossed, as the model does.
		days := int(asOf.UTC().Truncate(24*time.Hour).Sub(from.UTC().Truncate(24*time.Hour)).Hours() / 24)
		if days >= 90 {
			want = append(want, fmt.Sprintf("%s\t%d\t%t", id, days, seen.IsZero()))
		}
	}
	rows.Close()
	slices.Sort(want)
	if len(want) == 0 {
		t.Fatal("the demo org has no dormant account: it cannot show the model works")
	}
	got := queryRows(t, db, `select user_id, days_inactive, never_signed_in from okta_models.dormant_accounts`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dormant accounts (-recomputed +model):\n%s", diff)
	}
}

// TestPolicyCoverageGroups reads the people condition of each policy in Go
// and finds its groups in the model.
func TestPolicyCoverageGroups(t *testing.T) {
	db := openDB(t, builtDB(t, false))
	var want []string
	for _, l := range queryRows(t, db, `select id, conditions::varchar from main.policy where conditions is not null`) {
		id, conds, _ := strings.Cut(l, "\t")
		var c struct {
			People struct {
				Groups struct{ Include, Exclude []string } `json:"groups"`
			} `json:"people"`
		}
		if err := json.Unmarshal([]byte(conds), &c); err != nil {
			t.Fatalf("policy %s: %v", id, err)
		}
		for _, g := range c.People.Groups.Include {
			want = append(want, id+"\tgroup_included\t"+g)
		}
		for _, g := range c.People.Groups.Exclude {
			want = append(want, id+"\tgroup_excluded\t"+g)
		}
	}
	slices.Sort(want)
	if len(want) == 0 {
		t.Fatal("no policy of the demo org names a group")
	}
	got := queryRows(t, db, `select distinct policy_id, target_kind, target_id from okta_models.policy_coverage
		where target_kind in ('group_included', 'group_excluded')`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-policy conditions +model):\n%s", diff)
	}
}

// TestModelKeys: each model's key identifies its rows.
func TestModelKeys(t *testing.T) {
	db := openDB(t, builtDB(t, false))
	for _, m := range mustPack(t) {
		var keys []string
		for _, k := range m.Key {
			keys = append(keys, quote(k))
		}
		q := fmt.Sprintf("select %s, count(*) from %s.%s group by all having count(*) > 1 limit 5",
			strings.Join(keys, ", "), Schema, quote(m.Name))
		if dup := queryRows(t, db, q); len(dup) > 0 {
			t.Errorf("%s: key (%s) repeats:\n%s", m.File, strings.Join(m.Key, ", "), strings.Join(dup, "\n"))
		}
		if n := queryInt(t, db, fmt.Sprintf("select count(*) from %s.%s", Schema, quote(m.Name))); n == 0 {
			t.Errorf("%s: no rows on the demo org: nothing shows it works", m.File)
		}
	}
}
