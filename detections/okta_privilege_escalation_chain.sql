-- id: okta_privilege_escalation_chain
-- title: Privilege escalation chain: an admin grant followed within an hour by a new API token and weakened defences
-- technique: T1098.003 Account Manipulation: Additional Cloud Roles
-- severity: critical
-- scenario: privilege_escalation
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_id, system_log.actor_alternate_id, system_log_target.system_log_id,
--   system_log_target.id, system_log_target.type, system_log_target.alternate_id
-- description: A user.account.privilege.grant, then within 60 minutes at least two of these
--   steps by the grantee or the granter: an API token created (system.api_token.create), a
--   policy or policy rule changed, deactivated or deleted (policy.rule.update,
--   policy.lifecycle.update, policy.rule.deactivate, policy.rule.delete,
--   policy.lifecycle.deactivate), a network zone deactivated, deleted or changed
--   (zone.deactivate, zone.delete, zone.update). Each step alone is routine admin work;
--   together right after a grant they are an attacker securing access and lowering
--   defences. The single-step detections (okta_admin_super_admin_granted,
--   okta_api_token_by_non_service_admin, okta_mfa_policy_weakened,
--   okta_blocklist_zone_disabled) say more about each step.
--
--   False positives: onboarding of a new admin who starts by tidying policies; the
--   evidence lists the steps.
with grants as (
    select s.id, s.published, s.actor_id as granter_id, s.actor_alternate_id as granter,
           t.id as grantee_id, t.alternate_id as grantee
    from system_log s
    join system_log_target t on t.system_log_id = s.id and t.type = 'User'
    where s.event_type = 'user.account.privilege.grant'
      and s.outcome_result = 'SUCCESS'
      and s.published >= $since::TIMESTAMP
),
steps as (
    select g.id as grant_id, e.published, e.event_type,
           case when e.event_type = 'system.api_token.create' then 'api token'
                when e.event_type like 'policy.%' then 'policy'
                else 'network zone' end as step
    from grants g
    join system_log e on e.actor_id in (g.granter_id, g.grantee_id)
        and e.published > g.published
        and e.published <= g.published + interval 60 minute
        and e.outcome_result = 'SUCCESS'
        and e.event_type in ('system.api_token.create', 'policy.rule.update', 'policy.lifecycle.update',
                             'policy.rule.deactivate', 'policy.rule.delete', 'policy.lifecycle.deactivate',
                             'zone.deactivate', 'zone.delete', 'zone.update')
)
select max(st.published) as detected_at,
       g.grantee as actor,
       format('{} was granted an admin role by {} at {} UTC; within {} minutes: {}',
              g.grantee, g.granter, strftime(g.published, '%Y-%m-%d %H:%M'),
              date_diff('minute', g.published, max(st.published)),
              string_agg(st.event_type, ', ' order by st.published)) as summary,
       g.published as granted_at,
       g.granter,
       count(distinct st.step) as kinds_of_steps,
       string_agg(st.event_type, ', ' order by st.published) as steps
from grants g
join steps st on st.grant_id = g.id
group by g.id, g.published, g.granter, g.grantee
having count(distinct st.step) >= 2
