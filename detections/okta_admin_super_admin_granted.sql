-- id: okta_admin_super_admin_granted
-- title: Super administrator granted to a user
-- technique: T1098.003 Account Manipulation: Additional Cloud Roles
-- severity: high
-- scenario: privilege_escalation
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_alternate_id, system_log.client_ip_address, system_log.security_context_is_proxy,
--   system_log.debug_context_debug_data_privilege_granted, system_log_target.system_log_id,
--   system_log_target.id, system_log_target.type, system_log_target.alternate_id,
--   user_role.users_id, user_role.type, user_role.status
-- description: user.account.privilege.grant whose debug privilegeGranted names Super
--   administrator (or Organization administrator): the target can change any setting,
--   make API tokens, and grant further roles. The evidence adds the roles the target holds
--   in the directory now (user_role), to see whether it was since revoked.
--
--   False positives: planned admin onboarding; compare with the change calendar
--   (okta_admin_role_outside_change_window narrows to odd hours).
select s.published as detected_at,
       s.actor_alternate_id as actor,
       format('{} granted {} to {} from {}{}; the target now holds {}',
              s.actor_alternate_id, s.debug_context_debug_data_privilege_granted,
              coalesce(t.alternate_id, t.id, '?'), coalesce(s.client_ip_address, '?'),
              case when s.security_context_is_proxy then ' (a proxy)' else '' end,
              coalesce((select string_agg(r.type || ' ' || coalesce(r.status, ''), ', ' order by r.type)
                        from user_role r where r.users_id = t.id), 'no role')) as summary,
       t.alternate_id as target,
       t.id as target_id,
       s.debug_context_debug_data_privilege_granted as privilege_granted,
       s.client_ip_address as ip,
       s.security_context_is_proxy as is_proxy
from system_log s
left join system_log_target t on t.system_log_id = s.id and t.type = 'User'
where s.event_type = 'user.account.privilege.grant'
  and s.outcome_result = 'SUCCESS'
  and (s.debug_context_debug_data_privilege_granted ilike '%super administrator%'
       or s.debug_context_debug_data_privilege_granted ilike '%organization administrator%'
       or s.debug_context_debug_data_privilege_granted ilike '%SUPER_ADMIN%'
       or s.debug_context_debug_data_privilege_granted ilike '%ORG_ADMIN%')
  and s.published >= $since::TIMESTAMP
