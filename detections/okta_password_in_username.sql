-- id: okta_password_in_username
-- title: A password typed into the username field (then the real sign-in from the same IP)
-- technique: T1552 Unsecured Credentials
-- severity: medium
-- scenario: password_in_username
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.outcome_reason, system_log.actor_alternate_id, system_log.client_ip_address,
--   users.profile_login
-- description: A failed user.session.start whose username is not a login of the org and
--   looks like a password (no "@", at least 8 characters, at least three of lower case,
--   upper case, digits and symbols), followed within 2 minutes by a successful sign-in of
--   a real user from the same IP: that user's password now sits in the System Log, and
--   in every SIEM the log is copied to. Reset the user's password. The password is never
--   printed: the summary shows its first character and length only.
--
--   False positives: random or test usernames; the follow-up success from the same IP
--   narrows it to a user's slip.
with typed as (
    select published, client_ip_address as ip, actor_alternate_id as typed, outcome_reason
    from system_log
    where event_type = 'user.session.start'
      and outcome_result = 'FAILURE'
      and published >= $since::TIMESTAMP
      and actor_alternate_id is not null
      and length(actor_alternate_id) >= 8
      and actor_alternate_id not like '%@%'
      and (regexp_matches(actor_alternate_id, '[a-z]')::int + regexp_matches(actor_alternate_id, '[A-Z]')::int
           + regexp_matches(actor_alternate_id, '[0-9]')::int + regexp_matches(actor_alternate_id, '[^a-zA-Z0-9]')::int) >= 3
      and lower(actor_alternate_id) not in (select lower(profile_login) from users where profile_login is not null)
)
select s.published as detected_at,
       s.actor_alternate_id as actor,
       format('a password-like username ({}..., {} characters) failed from {}, then {} signed in from that IP {} seconds later; reset their password',
              left(t.typed, 1), length(t.typed), t.ip, s.actor_alternate_id,
              date_diff('second', t.published, s.published)) as summary,
       t.published as failed_at,
       t.ip,
       t.outcome_reason,
       length(t.typed) as typed_length
from typed t
join system_log s on s.client_ip_address = t.ip
    and s.event_type = 'user.session.start'
    and s.outcome_result = 'SUCCESS'
    and s.published > t.published
    and s.published <= t.published + interval 2 minute
qualify row_number() over (partition by t.published, t.ip order by s.published) = 1
