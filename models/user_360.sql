-- name: user_360
-- title: Everything about a user on one row
-- grain: one row per user
-- key: user_id
-- materialized: table
-- columns:
--   user_id: the user (users.id)
--   user_login: the login
--   email: the primary email
--   display_name: the display name, else first and last name
--   status: ACTIVE, STAGED, PROVISIONED, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED or
--     DEPROVISIONED
--   status_changed: when the status last changed
--   department: the profile's department
--   title: the profile's title
--   manager_id: the manager's user id, as the profile gives it (profile.managerId)
--   manager_login: the manager's login, when manager_id is a user of the org
--   created: when the user was created
--   activated: when the user was activated
--   last_login: Okta's last login (users.last_login)
--   last_sign_in_at: the latest successful sign-in, from last_login and the System Log
--     (sign_in_daily)
--   days_since_sign_in: whole days from last_sign_in_at to as_of; NULL if never
--   group_count: the groups the user is in
--   groups: their names, sorted
--   app_count: the applications the user can reach (effective_app_access)
--   apps: their labels, sorted
--   admin_roles: the active admin roles held, directly or through groups (role labels,
--     sorted); empty for none
--   is_admin: holds at least one active admin role
--   factor_types: the active factor types (mfa_coverage); NULL for a deprovisioned user
--   mfa_coverage: phishing_resistant, strong, weak_only or none (mfa_coverage)
-- description: The starting point of an investigation or an access review: who the user is,
--   who manages them, when they last signed in, and what they hold (groups, applications,
--   admin roles, factors). Lists are sorted, so rows compare between runs.
-- example:
--   -- active admins who have not signed in for 30 days
--   select user_login, admin_roles, days_since_sign_in
--   from okta_models.user_360
--   where is_admin and status = 'ACTIVE' and coalesce(days_since_sign_in, 9999) > 30;
with sign_ins as (
    select user_id, max(last_at) as last_at
    from okta_models.sign_in_daily
    where kind = 'okta_sign_in' and outcome = 'SUCCESS' and user_id is not null
    group by user_id
), memberships as (
    select m.users_id as user_id, count(*) as group_count, list(g.profile_name order by g.profile_name) as groups
    from okta_current.group_member m
    left join okta_current.groups g on g.id = m.groups_id
    group by m.users_id
), apps as (
    select user_id, count(distinct app_id) as app_count,
           list(distinct app_label order by app_label) as apps
    from okta_models.effective_app_access
    group by user_id
), roles as (
    select user_id, list(distinct role_label order by role_label) as admin_roles
    from okta_models.effective_admin_privileges
    where assignment_status = 'ACTIVE'
    group by user_id
)
select u.id as user_id, u.profile_login as user_login, u.profile_email as email,
       coalesce(u.profile_display_name, trim(concat_ws(' ', u.profile_first_name, u.profile_last_name))) as display_name,
       u.status, u.status_changed, u.profile_department as department, u.profile_title as title,
       u.profile_manager_id as manager_id, mgr.profile_login as manager_login,
       u.created, u.activated, u.last_login,
       greatest(u.last_login, s.last_at) as last_sign_in_at,
       date_diff('day', greatest(u.last_login, s.last_at), (select as_of from okta_models.as_of)) as days_since_sign_in,
       coalesce(m.group_count, 0) as group_count, coalesce(m.groups, []) as groups,
       coalesce(a.app_count, 0) as app_count, coalesce(a.apps, []) as apps,
       coalesce(r.admin_roles, []) as admin_roles, r.user_id is not null as is_admin,
       f.factor_types, f.coverage as mfa_coverage
from okta_current.users u
left join okta_current.users mgr on mgr.id = u.profile_manager_id
left join sign_ins s on s.user_id = u.id
left join memberships m on m.user_id = u.id
left join apps a on a.user_id = u.id
left join roles r on r.user_id = u.id
left join okta_models.mfa_coverage f on f.user_id = u.id
