-- id: okta_password_spray
-- title: Password spray: one IP fails sign-in for many users within 10 minutes
-- technique: T1110.003 Password Spraying
-- severity: high
-- scenario: password_spray
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.outcome_reason, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.security_context_is_proxy, system_log.security_context_as_number,
--   system_log.security_context_as_org, system_log.client_user_agent_raw_user_agent
-- description: Failed primary authentications (user.session.start FAILURE, legacy
--   core.user_auth.login_failed, reason INVALID_CREDENTIALS, VERIFICATION_ERROR or
--   UNKNOWN_USER) from one client IP against at least 10 distinct accounts within any
--   10-minute window. One hit per IP: the first window that crossed the threshold.
--
--   False positives: a shared egress IP (large office NAT, a corporate proxy, an SSO
--   test harness) after a password-policy change can make many users fail at once;
--   such users are usually on the org's own network zone and not behind an anonymiser
--   (is_proxy in the evidence).
with fails as (
    select published, client_ip_address as ip, lower(actor_alternate_id) as account,
           security_context_is_proxy as is_proxy, security_context_as_number as asn,
           security_context_as_org as as_org, client_user_agent_raw_user_agent as user_agent
    from system_log
    where event_type = 'user.session.start'
      and outcome_result = 'FAILURE'
      and outcome_reason in ('INVALID_CREDENTIALS', 'VERIFICATION_ERROR', 'UNKNOWN_USER')
      and client_ip_address is not null
      and published >= $since::TIMESTAMP
),
windows as (
    select a.ip, a.published as window_start, count(distinct b.account) as accounts,
           count(*) as failures, max(b.published) as window_end
    from fails a
    join fails b on b.ip = a.ip
        and b.published >= a.published
        and b.published < a.published + interval 10 minute
    group by a.ip, a.published
    having count(distinct b.account) >= 10
),
first_window as (
    select * from windows
    qualify row_number() over (partition by ip order by window_start) = 1
)
select w.window_end as detected_at,
       w.ip as actor,
       format('{} failed sign-ins against {} accounts from {} ({}, AS{}) in 10 minutes',
              w.failures, w.accounts, w.ip, coalesce(min(f.as_org), 'unknown network'),
              coalesce(cast(min(f.asn) as varchar), '?')) as summary,
       w.window_start,
       w.accounts,
       w.failures,
       bool_or(f.is_proxy) as is_proxy,
       min(f.asn) as asn,
       min(f.as_org) as as_org,
       min(f.user_agent) as user_agent
from first_window w
join fails f on f.ip = w.ip and f.published >= w.window_start and f.published <= w.window_end
group by w.ip, w.window_start, w.window_end, w.accounts, w.failures
