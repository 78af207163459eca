-- name: orphaned_access
-- title: Access deactivated users still hold
-- grain: one row per deactivated user and thing still held: an application path, a group, an
--   admin role path
-- key: user_id, access_kind, object_id, path, group_id
-- materialized: table
-- columns:
--   user_id: the user (users.id)
--   user_login: the login
--   deactivated_at: when the user was deactivated (users.status_changed)
--   days_since_deactivation: whole days from then to as_of
--   access_kind: app, group or admin_role
--   object_id: the application, group, or role assignment held
--   object_name: its label or name
--   path: for app and admin_role, direct or group; for group, member
--   group_id: the group that gives it (path group); NULL otherwise
-- description: Deactivated (DEPROVISIONED) users keep their application assignments, group
--   memberships and admin roles in Okta until someone removes them; reactivating the user,
--   by mistake or by an attacker with admin rights, restores them all, and assignments can
--   keep accounts alive in the applications. Each row is one thing to clean up. The built-in
--   Everyone group is left out (every user is in it). Suspended users are left out too: a
--   suspension is meant to keep access for the user's return.
-- example:
--   -- the deactivated users holding the most
--   select user_login, count(*) as held, list(distinct access_kind) as kinds
--   from okta_models.orphaned_access group by user_login order by held desc limit 20;
with gone as (
    select id, profile_login, status_changed
    from okta_current.users
    where status = 'DEPROVISIONED'
), held as (
    select a.user_id, 'app' as access_kind, a.app_id as object_id, a.app_label as object_name, a.path, a.group_id
    from okta_models.effective_app_access a
    union all
    select m.users_id, 'group', m.groups_id, g.profile_name, 'member', null
    from okta_current.group_member m
    join okta_current.groups g on g.id = m.groups_id
    where g.type is distinct from 'BUILT_IN'
    union all
    select p.user_id, 'admin_role', p.role_assignment_id, p.role_label, p.path, p.group_id
    from okta_models.effective_admin_privileges p
)
select u.id as user_id, u.profile_login as user_login, u.status_changed as deactivated_at,
       date_diff('day', u.status_changed, (select as_of from okta_models.as_of)) as days_since_deactivation,
       h.access_kind, h.object_id, h.object_name, h.path, h.group_id
from gone u
join held h on h.user_id = u.id
