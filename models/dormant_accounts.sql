-- name: dormant_accounts
-- title: Active accounts nobody has used for 90 days that still hold access
-- grain: one row per dormant user
-- key: user_id
-- materialized: table
-- columns:
--   user_id: the user (users.id)
--   user_login: the login
--   status: the user's status (one that can sign in: ACTIVE, RECOVERY, LOCKED_OUT,
--     PASSWORD_EXPIRED)
--   created: when the user was created
--   last_sign_in_at: the latest successful sign-in (user_360); NULL if never
--   never_signed_in: no sign-in is known
--   days_inactive: whole days to as_of since the last sign-in, or since creation if never
--   app_count: the applications the user can still reach
--   apps: their labels, sorted
--   admin_roles: the active admin roles still held, sorted
--   threshold_days: the threshold the model was built with
-- description: Accounts that can sign in but have not for threshold_days (90, set at the top
--   of the query), measured to as_of, and that still hold something: an application or an
--   admin role. Each is standing access nobody uses, an attacker's favourite: disable it or
--   remove its access. An account never signed in counts from its creation.
-- example:
--   -- dormant admins first
--   select user_login, days_inactive, admin_roles, app_count
--   from okta_models.dormant_accounts
--   order by len(admin_roles) desc, days_inactive desc;
with settings as (
    select 90 as threshold_days
)
select u.user_id, u.user_login, u.status, u.created, u.last_sign_in_at,
       u.last_sign_in_at is null as never_signed_in,
       date_diff('day', coalesce(u.last_sign_in_at, u.created), (select as_of from okta_models.as_of)) as days_inactive,
       u.app_count, u.apps, u.admin_roles, s.threshold_days
from okta_models.user_360 u, settings s
where u.status in ('ACTIVE', 'RECOVERY', 'LOCKED_OUT', 'PASSWORD_EXPIRED')
  and date_diff('day', coalesce(u.last_sign_in_at, u.created), (select as_of from okta_models.as_of)) >= s.threshold_days
  and (u.app_count > 0 or len(u.admin_roles) > 0)
