-- name: policy_coverage
-- title: What each policy rule applies to: groups, applications, excluded users
-- grain: one row per policy rule (or policy without rules) and target
-- key: policy_id, rule_id, target_kind, target_id
-- materialized: table
-- columns:
--   policy_id: the policy (policy.id)
--   policy_name: its name
--   policy_type: OKTA_SIGN_ON, PASSWORD, MFA_ENROLL, ACCESS_POLICY, ...
--   policy_status: ACTIVE or INACTIVE
--   policy_priority: its priority among the policies of its type (1 first)
--   rule_id: the rule (policy_rule.id); NULL for a policy with no rule
--   rule_name: the rule's name
--   rule_status: ACTIVE or INACTIVE
--   rule_priority: its priority within the policy (1 first)
--   rule_access: a sign-on rule's action (ALLOW, DENY)
--   target_kind: group_included, group_excluded (the policy's people condition), app (an
--     application whose authentication policy it is), user_excluded (the rule's exclusion),
--     everyone (no people condition and no application), or none (an authentication policy
--     no application uses)
--   target_id: the group, application or user; NULL for everyone and none
--   target_name: its name, label or login
--   target_users: the users a group target holds now; NULL for other kinds
--   in_force: the policy and the rule are both ACTIVE
-- description: Policy coverage: for every rule of every policy, the groups its policy
--   includes or excludes (policy.conditions people.groups), the applications that use it as
--   their authentication policy (an application's access policy link), and the users its
--   rule excludes. It answers "which policy governs this group or application" and "which
--   rules apply to nobody". Okta evaluates policies by priority and the first matching rule
--   wins; this model lists what each could apply to, not which one wins for a given user.
-- example:
--   -- applications and the sign-in rules in force for them
--   select target_name as app, policy_name, rule_name, rule_access
--   from okta_models.policy_coverage
--   where target_kind = 'app' and in_force order by app, rule_priority;
with policy_groups as (
    select p.id as policy_id, 'group_included' as target_kind, g.id as target_id
    from okta_current.policy p,
         unnest(from_json(json_extract(p.conditions, '$.people.groups.include'), '["VARCHAR"]')) as g(id)
    union all
    select p.id, 'group_excluded', g.id
    from okta_current.policy p,
         unnest(from_json(json_extract(p.conditions, '$.people.groups.exclude'), '["VARCHAR"]')) as g(id)
), policy_apps as (
    select regexp_extract(a._links_access_policy_href, '/policies/([^/?]+)', 1) as policy_id,
           'app' as target_kind, a.id as target_id
    from okta_current.application a
    where a._links_access_policy_href is not null
), policy_targets as (
    select * from policy_groups
    union all
    select * from policy_apps
    union all
    select p.id, case when p.type = 'ACCESS_POLICY' then 'none' else 'everyone' end, null
    from okta_current.policy p
    where not exists (select 1 from policy_groups g where g.policy_id = p.id)
      and not exists (select 1 from policy_apps a where a.policy_id = p.id)
), rule_targets as (
    select r.id as rule_id, 'user_excluded' as target_kind, x.user_id as target_id
    from okta_current.policy_rule r
    join okta_current.policy_rule_condition_excluded_user x on x.policy_rule_id = r.id
), members as (
    select groups_id, count(*) as users from okta_current.group_member group by groups_id
), rows as (
    select p.id as policy_id, r.id as rule_id, t.target_kind, t.target_id
    from okta_current.policy p
    left join okta_current.policy_rule r on r.policy_id = p.id
    join policy_targets t on t.policy_id = p.id
    union all
    select r.policy_id, r.id, t.target_kind, t.target_id
    from okta_current.policy_rule r
    join rule_targets t on t.rule_id = r.id
)
select p.id as policy_id, p.name as policy_name, p.type as policy_type, p.status as policy_status,
       p.priority as policy_priority,
       r.id as rule_id, r.name as rule_name, r.status as rule_status,
       try_cast(r.priority as integer) as rule_priority, r.signon_access as rule_access,
       x.target_kind, x.target_id,
       case x.target_kind when 'app' then app.label
                          when 'user_excluded' then u.profile_login
                          else g.profile_name end as target_name,
       case when x.target_kind in ('group_included', 'group_excluded') then coalesce(m.users, 0) end as target_users,
       p.status = 'ACTIVE' and coalesce(r.status, 'ACTIVE') = 'ACTIVE' as in_force
from rows x
join okta_current.policy p on p.id = x.policy_id
left join okta_current.policy_rule r on r.id = x.rule_id
left join okta_current.groups g on g.id = x.target_id and x.target_kind in ('group_included', 'group_excluded')
left join okta_current.application app on app.id = x.target_id and x.target_kind = 'app'
left join okta_current.users u on u.id = x.target_id and x.target_kind = 'user_excluded'
left join members m on m.groups_id = x.target_id
