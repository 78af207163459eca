-- id: okta_session_replay
-- title: Session replay: one Okta session used from another country, network and browser within an hour
-- technique: T1550.004 Use Alternate Authentication Material: Web Session Cookie
-- severity: critical
-- scenario: session_replay
-- fields: system_log.published, system_log.event_type, system_log.actor_type,
--   system_log.actor_alternate_id, system_log.authentication_context_root_session_id,
--   system_log.authentication_context_external_session_id, system_log.client_ip_address,
--   system_log.client_geographical_context, system_log.security_context_as_number,
--   system_log.security_context_as_org, system_log.client_user_agent_raw_user_agent,
--   system_log.debug_context_debug_data_behaviors
-- description: Events of one Okta session (authenticationContext.rootSessionId, or the
--   externalSessionId when Okta sent no root session) where, within an hour of the
--   session's first event, a later event comes from a different country, a different
--   autonomous system and a different user agent than the first. A stolen session cookie
--   (an adversary-in-the-middle phishing kit, infostealer malware) is replayed from the
--   attacker's machine: no new sign-in, no MFA, just the session. Okta's behaviors (New
--   IP, New Country) and security.session.detect_client_roaming usually agree.
--
--   False positives: a user on a laptop that switches from the office network to a
--   travel VPN or a phone hotspot abroad within the hour changes network and country, but
--   rarely the browser; all three must change here.
with ev as (
    select published, actor_alternate_id as actor, event_type,
           coalesce(nullif(authentication_context_root_session_id, 'unknown'),
                    nullif(authentication_context_external_session_id, 'unknown')) as session_id,
           client_ip_address as ip,
           json_extract_string(client_geographical_context, '$.country') as country,
           security_context_as_number as asn, security_context_as_org as as_org,
           client_user_agent_raw_user_agent as user_agent,
           debug_context_debug_data_behaviors as behaviors
    from system_log
    where actor_type = 'User'
      and published >= $since::TIMESTAMP
),
origin as (
    select * from ev
    where session_id is not null and country is not null
    qualify row_number() over (partition by session_id order by published) = 1
)
select e.published as detected_at,
       o.actor,
       format('session {} began in {} ({}, {}) and was used {} minutes later from {} ({}, {}) with another browser ({})',
              o.session_id, o.country, o.ip, coalesce(o.as_org, '?'),
              date_diff('minute', o.published, e.published), e.country, e.ip,
              coalesce(e.as_org, '?'), e.event_type) as summary,
       o.session_id,
       o.published as session_started,
       o.ip as origin_ip,
       o.country as origin_country,
       o.user_agent as origin_user_agent,
       e.ip as replay_ip,
       e.country as replay_country,
       e.asn as replay_asn,
       e.user_agent as replay_user_agent,
       e.event_type as replay_event,
       e.behaviors as replay_behaviors
from origin o
join ev e on e.session_id = o.session_id
    and e.published > o.published
    and e.published <= o.published + interval 1 hour
    and e.country is distinct from o.country and e.country is not null
    and e.asn is distinct from o.asn
    and e.user_agent is distinct from o.user_agent
qualify row_number() over (partition by o.session_id order by e.published) = 1
