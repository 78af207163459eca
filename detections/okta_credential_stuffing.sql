-- id: okta_credential_stuffing
-- title: Credential stuffing: many accounts fail sign-in from many IPs of one network
-- technique: T1110.004 Credential Stuffing
-- severity: high
-- scenario: credential_stuffing
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.outcome_reason, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.security_context_is_proxy, system_log.security_context_as_number,
--   system_log.security_context_as_org, system_log.debug_context_debug_data_risk
-- description: Failed primary authentications (user.session.start FAILURE with
--   INVALID_CREDENTIALS, VERIFICATION_ERROR or UNKNOWN_USER) that Okta rated high risk
--   (debug risk level=HIGH) or that came through a proxy or hosting network
--   (securityContext.isProxy), from at least 3 distinct IPs of one autonomous system
--   against at least 10 distinct accounts within 30 minutes. Leaked username/password
--   pairs are replayed from rented hosting or proxy pools, so each IP tries only a few
--   accounts and per-IP thresholds (okta_password_spray) stay quiet. Also reports how many
--   accounts of the network succeeded in the same 30 minutes (those passwords are known to
--   the attacker: reset them).
--
--   False positives: a large ISP's subscribers failing at once (an outage of a password
--   sync) would need the HIGH risk or proxy flag too; a partner's hosted integration
--   retrying stale service credentials looks alike; exclude its AS number.
with fails as (
    select published, client_ip_address as ip, lower(actor_alternate_id) as account,
           security_context_as_number as asn, security_context_as_org as as_org, outcome_reason
    from system_log
    where event_type = 'user.session.start'
      and outcome_result = 'FAILURE'
      and outcome_reason in ('INVALID_CREDENTIALS', 'VERIFICATION_ERROR', 'UNKNOWN_USER')
      and security_context_as_number is not null
      and (security_context_is_proxy or debug_context_debug_data_risk like '%level=HIGH%')
      and published >= $since::TIMESTAMP
),
windows as (
    select a.asn, a.published as window_start, max(b.published) as window_end,
           count(distinct b.account) as accounts, count(distinct b.ip) as ips, count(*) as failures,
           string_agg(distinct b.outcome_reason, ', ' order by b.outcome_reason) as reasons,
           min(b.as_org) as as_org
    from fails a
    join fails b on b.asn = a.asn
        and b.published >= a.published
        and b.published < a.published + interval 30 minute
    group by a.asn, a.published
    having count(distinct b.account) >= 10 and count(distinct b.ip) >= 3
),
first_window as (
    select * from windows
    qualify row_number() over (partition by asn order by window_start) = 1
)
select w.window_end as detected_at,
       format('AS{} ({})', w.asn, coalesce(w.as_org, 'unknown')) as actor,
       format('{} failed sign-ins against {} accounts from {} IPs of AS{} ({}) in 30 minutes; {} account(s) of that network signed in',
              w.failures, w.accounts, w.ips, w.asn, coalesce(w.as_org, 'unknown'),
              count(distinct s.actor_alternate_id)) as summary,
       w.window_start,
       w.accounts,
       w.ips,
       w.failures,
       w.reasons,
       count(distinct s.actor_alternate_id) as accounts_signed_in,
       string_agg(distinct s.actor_alternate_id, ', ' order by s.actor_alternate_id) as signed_in
from first_window w
left join system_log s on s.event_type = 'user.session.start'
    and s.outcome_result = 'SUCCESS'
    and s.security_context_as_number = w.asn
    and s.published >= w.window_start
    and s.published < w.window_start + interval 30 minute
group by w.asn, w.as_org, w.window_start, w.window_end, w.accounts, w.ips, w.failures, w.reasons
