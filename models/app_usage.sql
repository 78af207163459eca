-- name: app_usage
-- title: Applications: who is assigned, who actually uses them
-- grain: one row per application
-- key: app_id
-- materialized: table
-- columns:
--   app_id: the application (application.id)
--   app_label: its label
--   app_status: ACTIVE or INACTIVE
--   sign_on_mode: SAML_2_0, OPENID_CONNECT, BOOKMARK, ...
--   assigned_users: users who can reach it (effective_app_access) and can sign in (ACTIVE,
--     RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED)
--   used_30d: of those, how many signed in to it successfully in the 30 days to as_of
--   used_90d: the same over 90 days
--   unused_90d: assigned users with no successful sign-in to it in 90 days: licences to
--     reclaim
--   usage_rate_30d: used_30d divided by assigned_users, rounded to 4 places; NULL with no
--     assigned user
--   sign_ins_30d: successful sign-ins to it in the 30 days
--   failed_sign_ins_30d: failed ones
--   unassigned_users_signed_in_90d: users who signed in to it in 90 days without access now
--     (since removed, or a gap in the data)
--   last_sign_in_at: the latest successful sign-in to it; NULL if none in the data
-- description: Assignment against use, from effective_app_access and the single sign-on
--   events of sign_in_daily: which applications are used, which assignments are not (licences
--   to reclaim, access to remove), and who signs in without being assigned any longer.
--   Windows end at as_of. Bookmark applications have no sign-in events, so they always look
--   unused; sign_on_mode says which they are.
-- example:
--   -- the least used applications with many assignments
--   select app_label, assigned_users, used_30d, usage_rate_30d
--   from okta_models.app_usage where assigned_users >= 10
--   order by usage_rate_30d nulls first limit 10;
with clock as (
    select as_of from okta_models.as_of
), access as (
    select distinct app_id, user_id
    from okta_models.effective_app_access
    where user_status in ('ACTIVE', 'RECOVERY', 'LOCKED_OUT', 'PASSWORD_EXPIRED')
), sso as (
    select d.app_id, d.user_id, d.outcome, d.events, d.last_at,
           d.day > cast(timezone('UTC', c.as_of) as date) - 30 as in_30d,
           d.day > cast(timezone('UTC', c.as_of) as date) - 90 as in_90d
    from okta_models.sign_in_daily d, clock c
    where d.kind = 'app_sso' and d.app_id is not null
), use_per_user as (
    select app_id, user_id,
           bool_or(outcome = 'SUCCESS' and in_30d) as used_30d,
           bool_or(outcome = 'SUCCESS' and in_90d) as used_90d
    from sso group by app_id, user_id
), per_app as (
    select a.app_id,
           count(*) as assigned_users,
           count(*) filter (where u.used_30d) as used_30d,
           count(*) filter (where u.used_90d) as used_90d
    from access a
    left join use_per_user u on u.app_id = a.app_id and u.user_id = a.user_id
    group by a.app_id
), events as (
    select app_id,
           coalesce(sum(events) filter (where outcome = 'SUCCESS' and in_30d), 0) as sign_ins_30d,
           coalesce(sum(events) filter (where outcome <> 'SUCCESS' and in_30d), 0) as failed_sign_ins_30d,
           max(last_at) filter (where outcome = 'SUCCESS') as last_sign_in_at
    from sso group by app_id
), unassigned as (
    select u.app_id, count(*) as users
    from use_per_user u
    where u.used_90d and not exists (select 1 from access a where a.app_id = u.app_id and a.user_id = u.user_id)
    group by u.app_id
)
select app.id as app_id, app.label as app_label, app.status as app_status, app.sign_on_mode,
       coalesce(p.assigned_users, 0) as assigned_users,
       coalesce(p.used_30d, 0) as used_30d,
       coalesce(p.used_90d, 0) as used_90d,
       coalesce(p.assigned_users - p.used_90d, 0) as unused_90d,
       round(p.used_30d / nullif(p.assigned_users, 0), 4) as usage_rate_30d,
       coalesce(e.sign_ins_30d, 0) as sign_ins_30d,
       coalesce(e.failed_sign_ins_30d, 0) as failed_sign_ins_30d,
       coalesce(n.users, 0) as unassigned_users_signed_in_90d,
       e.last_sign_in_at
from okta_current.application app
left join per_app p on p.app_id = app.id
left join events e on e.app_id = app.id
left join unassigned n on n.app_id = app.id
