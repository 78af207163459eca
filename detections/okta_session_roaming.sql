-- id: okta_session_roaming
-- title: Okta detected a session roaming to another client (security.session.detect_client_roaming)
-- technique: T1550.004 Use Alternate Authentication Material: Web Session Cookie
-- severity: high
-- scenario: session_replay
-- fields: system_log.published, system_log.event_type, system_log.actor_alternate_id,
--   system_log.client_ip_address, system_log.client_geographical_context,
--   system_log.security_context_as_org, system_log.debug_context_debug_data_behaviors,
--   system_log.authentication_context_external_session_id
-- description: Okta logs security.session.detect_client_roaming when a session's IP or
--   device context changes mid-session in a way its session-protection feature considers
--   a possible hijack. Each event is a hit; okta_session_replay finds the same story from
--   the raw events when the feature is off.
--
--   False positives: users whose IP changes legitimately (mobile networks, split-tunnel
--   VPNs); compare the new country and network in the evidence.
select published as detected_at,
       actor_alternate_id as actor,
       format('Okta saw the session {} roam to {} ({}, {}); behaviors {}',
              coalesce(authentication_context_external_session_id, '?'), client_ip_address,
              coalesce(json_extract_string(client_geographical_context, '$.country'), 'unknown country'),
              coalesce(security_context_as_org, 'unknown network'),
              coalesce(debug_context_debug_data_behaviors, 'none')) as summary,
       client_ip_address as ip,
       json_extract_string(client_geographical_context, '$.country') as country,
       debug_context_debug_data_behaviors as behaviors
from system_log
where event_type = 'security.session.detect_client_roaming'
  and published >= $since::TIMESTAMP
