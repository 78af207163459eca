-- id: okta_admin_role_outside_change_window
-- title: Admin role granted outside the change window (weekends, before 08:00 or after 18:00 UTC)
-- technique: T1098.003 Account Manipulation: Additional Cloud Roles
-- severity: medium
-- scenario: privilege_escalation
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.debug_context_debug_data_privilege_granted, system_log_target.system_log_id,
--   system_log_target.type, system_log_target.alternate_id
-- description: Any admin role granted to a user or group (user.account.privilege.grant,
--   group.privilege.grant) on a Saturday or Sunday, or before 08:00 or after 18:00 UTC on a
--   weekday. Attackers act when nobody watches; legitimate role changes follow the change
--   calendar. The window is written at the top of the query: edit it to the org's own
--   (and time zone) before relying on it.
--
--   False positives: emergency access granted by on-call staff; teams in other time zones
--   (set the window to cover them).
with change_window as (
    select 8 as opens_hour, 18 as closes_hour  -- UTC, Monday to Friday
)
select s.published as detected_at,
       s.actor_alternate_id as actor,
       format('{} granted {} to {} on {} at {} UTC, outside the change window (Mon-Fri {}:00-{}:00 UTC)',
              s.actor_alternate_id, coalesce(s.debug_context_debug_data_privilege_granted, 'a role'),
              coalesce(t.alternate_id, '?'), dayname(s.published), strftime(s.published, '%H:%M'),
              w.opens_hour, w.closes_hour) as summary,
       t.alternate_id as target,
       s.debug_context_debug_data_privilege_granted as privilege_granted,
       s.client_ip_address as ip
from system_log s
cross join change_window w
left join system_log_target t on t.system_log_id = s.id and t.type in ('User', 'UserGroup')
where s.event_type in ('user.account.privilege.grant', 'group.privilege.grant')
  and s.outcome_result = 'SUCCESS'
  and (isodow(s.published) in (6, 7)
       or hour(s.published) < w.opens_hour
       or hour(s.published) >= w.closes_hour)
  and s.published >= $since::TIMESTAMP
