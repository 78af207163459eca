-- id: okta_mfa_push_fatigue
-- title: MFA push fatigue: a user receives a burst of Okta Verify pushes and denies several
-- technique: T1621 Multi-Factor Authentication Request Generation
-- severity: high
-- scenario: mfa_push_fatigue
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.outcome_reason, system_log.actor_id, system_log.actor_alternate_id,
--   system_log.client_ip_address, system_log.security_context_as_org,
--   system_log.debug_context_debug_data_factor
-- description: At least 5 Okta Verify pushes sent to one user
--   (system.push.send_factor_verify_push) within 15 minutes, at least 2 of them
--   rejected (user.mfa.okta_verify.deny_push, FAILURE "User rejected Okta push verify").
--   An attacker who knows the password sends push after push until the user gives in.
--   okta_mfa_push_fatigue_accepted reports the bursts that ended in an accepted push.
--
--   False positives: a user whose phone lost the notification retries a few times; they
--   rarely deny their own pushes. Number challenge (pushWithNumberChallengeResponseType)
--   makes this attack much harder: enable it.
with pushes as (
    select actor_id, published, client_ip_address as ip
    from system_log
    where event_type = 'system.push.send_factor_verify_push'
      and published >= $since::TIMESTAMP
),
denies as (
    select actor_id, published
    from system_log
    where event_type = 'user.mfa.okta_verify.deny_push'
      and outcome_result = 'FAILURE'
      and published >= $since::TIMESTAMP
),
bursts as (
    select a.actor_id, a.published as window_start, count(*) as pushes,
           max(b.published) as last_push, string_agg(distinct b.ip, ', ' order by b.ip) as ips
    from pushes a
    join pushes b on b.actor_id = a.actor_id
        and b.published >= a.published
        and b.published < a.published + interval 15 minute
    group by a.actor_id, a.published
    having count(*) >= 5
),
scored as (
    select b.*, (select count(*) from denies d
                 where d.actor_id = b.actor_id
                   and d.published >= b.window_start
                   and d.published < b.window_start + interval 15 minute) as denied
    from bursts b
),
first_burst as (
    select * from scored where denied >= 2
    qualify row_number() over (partition by actor_id order by window_start) = 1
)
select f.last_push as detected_at,
       coalesce(u.actor_alternate_id, f.actor_id) as actor,
       format('{} Okta Verify pushes in 15 minutes, {} denied by the user, sent for sign-ins from {}',
              f.pushes, f.denied, f.ips) as summary,
       f.window_start,
       f.pushes,
       f.denied,
       f.ips
from first_burst f
left join (select actor_id, min(actor_alternate_id) as actor_alternate_id
           from system_log where event_type = 'system.push.send_factor_verify_push'
           group by actor_id) u on u.actor_id = f.actor_id
