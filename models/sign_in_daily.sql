-- name: sign_in_daily
-- title: Sign-ins per day, user, application, country and outcome
-- grain: one row per UTC day, kind of sign-in, user, application, country and outcome
-- key: day, kind, user_id, user_login, app_id, country, outcome
-- materialized: table
-- columns:
--   day: the UTC day of the events
--   kind: okta_sign_in (user.session.start: a session with Okta) or app_sso
--     (user.authentication.sso: a sign-in to an application)
--   user_id: the actor's id (users.id); NULL for a name Okta did not know
--   user_login: the name the actor signed in with, as the event gives it
--   app_id: the application signed in to (application.id); NULL for okta_sign_in
--   app_label: the application's label as the event names it
--   country: the client's country by Okta's geolocation; NULL when unknown
--   outcome: the event's outcome (SUCCESS, FAILURE, DENY, ...)
--   events: how many events
--   distinct_ips: how many client IP addresses they came from
--   first_at: the first event's time
--   last_at: the last event's time
-- description: The fact table of sign-in activity, from the System Log: every session started
--   with Okta and every single sign-on to an application, counted by day (UTC), user,
--   application, country and outcome. It answers "who signs in from where", "which sign-ins
--   fail", and feeds the last sign-in of user_360 and the usage of app_usage. It holds the
--   days the synced System Log holds (Okta keeps about 90 days; a sync keeps every event it
--   read).
-- example:
--   -- failed sign-ins per country over the last week of data
--   select country, sum(events) as failures
--   from okta_models.sign_in_daily, okta_models.as_of
--   where outcome <> 'SUCCESS' and day > cast(as_of as date) - 7
--   group by country order by failures desc;
with events as (
    select s.id, s.published, s.event_type, s.actor_id, s.actor_alternate_id, s.outcome_result,
           s.client_ip_address,
           json_extract_string(s.client_geographical_context, '$.country') as country
    from okta_current.system_log s
    where s.event_type in ('user.session.start', 'user.authentication.sso')
), apps as (
    -- an SSO event's application is its first AppInstance target
    select t.system_log_id, t.id as app_id, t.display_name as app_label
    from okta_current.system_log_target t
    where t.type = 'AppInstance'
    qualify row_number() over (partition by t.system_log_id order by t.target_index) = 1
)
select cast(timezone('UTC', e.published) as date) as day,
       case e.event_type when 'user.session.start' then 'okta_sign_in' else 'app_sso' end as kind,
       e.actor_id as user_id,
       e.actor_alternate_id as user_login,
       case when e.event_type = 'user.authentication.sso' then a.app_id end as app_id,
       max(case when e.event_type = 'user.authentication.sso' then a.app_label end) as app_label,
       e.country,
       e.outcome_result as outcome,
       count(*) as events,
       count(distinct e.client_ip_address) as distinct_ips,
       min(e.published) as first_at,
       max(e.published) as last_at
from events e
left join apps a on a.system_log_id = e.id
group by all
