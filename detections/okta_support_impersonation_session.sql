-- id: okta_support_impersonation_session
-- title: Okta Support impersonated an admin and made changes
-- technique: T1199 Trusted Relationship
-- severity: high
-- scenario: support_impersonation
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_type, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.debug_context_debug_data_original_principal, system_log_target.system_log_id,
--   system_log_target.alternate_id, system_log.id
-- description: user.session.impersonation.initiate by an Okta support principal
--   (actor type SystemPrincipal or a login at okta.com), with the events carried out in
--   the impersonated session until user.session.impersonation.end: those whose debug
--   originalPrincipal is set. Lists the admin actions so the org can review what support
--   did (factor resets and policy changes deserve a look).
--
--   False positives: expected during a support case opened by the org; the list of
--   actions is then the review.
with initiations as (
    select s.id, s.published, s.actor_alternate_id as agent, s.client_ip_address as ip,
           t.alternate_id as impersonated
    from system_log s
    left join system_log_target t on t.system_log_id = s.id
    where s.event_type = 'user.session.impersonation.initiate'
      and s.outcome_result = 'SUCCESS'
      and (s.actor_type = 'SystemPrincipal' or lower(s.actor_alternate_id) like '%@okta.com')
      and s.published >= $since::TIMESTAMP
),
actions as (
    select i.id as initiation_id, e.published, e.event_type
    from initiations i
    join system_log e on e.debug_context_debug_data_original_principal is not null
        and e.published > i.published
        and e.published <= i.published + interval 12 hour
        and e.event_type not like 'user.session.impersonation.%'
)
select i.published as detected_at,
       i.agent as actor,
       format('{} impersonated {}; {} action(s) in the session: {}', i.agent, coalesce(i.impersonated, '?'),
              count(a.event_type), coalesce(string_agg(a.event_type, ', ' order by a.published), 'none')) as summary,
       i.impersonated,
       i.ip,
       count(a.event_type) as actions,
       string_agg(a.event_type, ', ' order by a.published) as action_types
from initiations i
left join actions a on a.initiation_id = i.id
group by i.id, i.published, i.agent, i.impersonated, i.ip
