-- id: okta_api_token_by_non_service_admin
-- title: API token created by a person's admin account rather than a service account
-- technique: T1098.001 Account Manipulation: Additional Cloud Credentials
-- severity: medium
-- scenario: privilege_escalation
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_id, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.security_context_is_proxy, system_log_target.system_log_id, system_log_target.id,
--   system_log_target.type, system_log_target.display_name, api_token_metadata.id,
--   api_token_metadata.name, api_token_metadata.network_connection, api_token_metadata.expires_at
-- description: system.api_token.create by an actor whose login does not look like a
--   service account (svc, service, integration, automation, api, bot). An SSWS token acts
--   with its creator's admin roles and outlives the creator's session and MFA: made by a
--   person's account it is a persistence mechanism. The evidence adds the token's
--   metadata from the directory (api_token_metadata): its name and the networks it may be
--   used from (ANYWHERE is the riskiest).
--
--   False positives: admins who make tokens for integrations from their own account
--   (a practice to end: create them from a dedicated service admin); adjust the pattern
--   to the org's naming of service accounts.
select s.published as detected_at,
       s.actor_alternate_id as actor,
       format('{} created the API token "{}"{}{}', s.actor_alternate_id,
              coalesce(m.name, t.display_name, '?'),
              case when m.network_connection is not null then ' usable from ' || m.network_connection else '' end,
              case when s.security_context_is_proxy then ' through a proxy (' || s.client_ip_address || ')' else '' end) as summary,
       t.id as token_id,
       coalesce(m.name, t.display_name) as token_name,
       m.network_connection,
       m.expires_at,
       s.client_ip_address as ip,
       s.security_context_is_proxy as is_proxy
from system_log s
left join system_log_target t on t.system_log_id = s.id and t.type = 'Token'
left join api_token_metadata m on m.id = t.id
where s.event_type = 'system.api_token.create'
  and s.outcome_result = 'SUCCESS'
  and not regexp_matches(lower(coalesce(s.actor_alternate_id, '')), '(^|[^a-z])(svc|service|integration|automation|api|bot)')
  and s.published >= $since::TIMESTAMP
