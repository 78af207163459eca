-- id: okta_mfa_push_fatigue_accepted
-- title: MFA push fatigue succeeded: a push accepted after a burst of denied pushes, then a session
-- technique: T1621 Multi-Factor Authentication Request Generation
-- severity: critical
-- scenario: mfa_push_fatigue
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_id, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.security_context_as_org, system_log.security_context_is_proxy,
--   system_log.debug_context_debug_data_factor, system_log.client_geographical_context
-- description: A successful Okta Verify push verification (user.authentication.auth_via_mfa
--   SUCCESS, debug factor OKTA_VERIFY_PUSH) within 30 minutes after at least 3 denied pushes
--   (user.mfa.okta_verify.deny_push) of the same user, followed within 10 minutes by a
--   successful user.session.start. The user gave in: treat the session as the attacker's,
--   clear the user's sessions and reset the password.
--
--   False positives: a user who denied pushes by mistake and then accepted their own; the
--   evidence gives the sign-in's IP, network and country to compare with the user's usual ones.
with denies as (
    select actor_id, published
    from system_log
    where event_type = 'user.mfa.okta_verify.deny_push'
      and outcome_result = 'FAILURE'
      and published >= $since::TIMESTAMP - interval 30 minute
),
accepts as (
    select id, actor_id, actor_alternate_id, published, client_ip_address as ip
    from system_log
    where event_type = 'user.authentication.auth_via_mfa'
      and outcome_result = 'SUCCESS'
      and debug_context_debug_data_factor = 'OKTA_VERIFY_PUSH'
      and published >= $since::TIMESTAMP
),
given_in as (
    select a.*, count(*) as denied, min(d.published) as first_denied
    from accepts a
    join denies d on d.actor_id = a.actor_id
        and d.published < a.published
        and d.published >= a.published - interval 30 minute
    group by all
    having count(*) >= 3
)
select s.published as detected_at,
       g.actor_alternate_id as actor,
       format('push accepted after {} denied pushes in {} minutes, then a session from {} ({}, {})',
              g.denied, date_diff('minute', g.first_denied, g.published), s.client_ip_address,
              coalesce(s.security_context_as_org, 'unknown network'),
              coalesce(json_extract_string(s.client_geographical_context, '$.country'), 'unknown country')) as summary,
       g.published as accepted_at,
       g.denied,
       s.client_ip_address as session_ip,
       s.security_context_is_proxy as session_is_proxy,
       json_extract_string(s.client_geographical_context, '$.country') as session_country
from given_in g
join system_log s on s.actor_id = g.actor_id
    and s.event_type = 'user.session.start'
    and s.outcome_result = 'SUCCESS'
    and s.published >= g.published
    and s.published < g.published + interval 10 minute
qualify row_number() over (partition by g.id order by s.published) = 1
