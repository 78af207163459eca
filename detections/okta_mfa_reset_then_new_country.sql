-- id: okta_mfa_reset_then_new_country
-- title: MFA factors reset, then a sign-in from a country the user never signed in from
-- technique: T1556.006 Modify Authentication Process: Multi-Factor Authentication
-- severity: high
-- scenario: none
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_id, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.client_geographical_context, system_log_target.system_log_id,
--   system_log_target.id, system_log_target.type, system_log_target.alternate_id
-- description: user.mfa.factor.reset_all or user.mfa.factor.deactivate for a user, then
--   within 24 hours a successful user.session.start of that user from a country none of
--   their successful sign-ins in the 30 days before the reset came from (at least one
--   such sign-in is required, so new users are left out). The help-desk social-engineering
--   pattern: the attacker has the factors reset, enrols their own and signs in from home.
--
--   False positives: a traveller who lost their phone abroad and called the help desk;
--   the help desk ticket will say so.
with resets as (
    select s.published, s.actor_alternate_id as reset_by, t.id as user_id, t.alternate_id as login,
           s.event_type
    from system_log s
    join system_log_target t on t.system_log_id = s.id and t.type = 'User'
    where s.event_type in ('user.mfa.factor.reset_all', 'user.mfa.factor.deactivate')
      and s.outcome_result = 'SUCCESS'
      and s.published >= $since::TIMESTAMP
),
signins as (
    select actor_id, published, client_ip_address as ip,
           json_extract_string(client_geographical_context, '$.country') as country
    from system_log
    where event_type = 'user.session.start'
      and outcome_result = 'SUCCESS'
      and client_geographical_context is not null
)
select a.published as detected_at,
       r.login as actor,
       format('{} ({} by {}) then a sign-in from {} ({}) {} hours later; the 30 days before: {}',
              r.event_type, strftime(r.published, '%Y-%m-%d %H:%M'), r.reset_by, a.country, a.ip,
              date_diff('hour', r.published, a.published),
              (select string_agg(distinct b.country, ', ' order by b.country) from signins b
               where b.actor_id = r.user_id and b.published < r.published
                 and b.published >= r.published - interval 30 day)) as summary,
       r.published as reset_at,
       r.reset_by,
       a.ip,
       a.country
from resets r
join signins a on a.actor_id = r.user_id
    and a.published > r.published
    and a.published <= r.published + interval 24 hour
    and a.country is not null
where exists (select 1 from signins b where b.actor_id = r.user_id and b.published < r.published
                and b.published >= r.published - interval 30 day)
  and not exists (select 1 from signins b where b.actor_id = r.user_id and b.published < r.published
                    and b.published >= r.published - interval 30 day and b.country = a.country)
qualify row_number() over (partition by r.user_id, r.published order by a.published) = 1
