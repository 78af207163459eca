-- name: effective_app_access
-- title: Who can reach which application, and through what
-- grain: one row per user, application and path of access: direct, or each group that grants it
-- key: user_id, app_id, path, group_id
-- materialized: table
-- columns:
--   user_id: the user (users.id)
--   user_login: the user's login; NULL if the user is not among the synced users
--   user_status: the user's status (ACTIVE, SUSPENDED, DEPROVISIONED, ...)
--   app_id: the application (application.id)
--   app_label: the application's label
--   app_status: the application's status (ACTIVE, INACTIVE)
--   path: direct (assigned to the user) or group (through a group the user is in)
--   group_id: the group that grants it (path group); NULL for direct, and for an assignment
--     whose scope is GROUP when no group of the application holds the user now
--   group_name: that group's name
--   assignment_scope: application_user.scope of the user's assignment (USER, GROUP); NULL
--     when the group grants access and Okta lists no assignment for the user
--   assignment_status: application_user.status (ACTIVE, PROVISIONED, STAGED, ...)
--   assigned_at: when the user's assignment to the application was created
--     (application_user.created), whatever its path
--   member_since: path group: when the user's current membership of the group began
--     (group_membership_history); NULL before the data begins, and for direct
-- description: Every path by which a user reaches an application: assigned directly
--   (application_user with scope USER), or through each group assigned to the application
--   (application_group) that the user is a member of (group_member). A user assigned
--   directly and through two groups has three rows, so removing one path shows what remains.
--   Users of every status are included: filter on user_status, or see orphaned_access.
--   Invariant (tested): the direct and group paths are exactly the union of application_user
--   and application_group joined with group_member.
-- example:
--   -- who reaches Salesforce only through a group, and which
--   select user_login, group_name, member_since
--   from okta_models.effective_app_access
--   where app_label = 'Salesforce.com' and path = 'group'
--   order by user_login;
with assignments as (
    select au.application_id as app_id, au.user_id, au.scope, au.status, au.created
    from okta_current.application_user au
), direct as (
    select a.user_id, a.app_id, 'direct' as path, null::varchar as group_id
    from assignments a
    where a.scope = 'USER'
), via_group as (
    select m.users_id as user_id, ag.application_id as app_id, 'group' as path, ag.groups_id as group_id
    from okta_current.application_group ag
    join okta_current.group_member m on m.groups_id = ag.groups_id
), unresolved as (
    -- Okta says a group grants it, but no group of the app holds the user now
    select a.user_id, a.app_id, 'group' as path, null::varchar as group_id
    from assignments a
    where a.scope = 'GROUP'
      and not exists (select 1 from via_group v where v.user_id = a.user_id and v.app_id = a.app_id)
), paths as (
    -- distinct already: the paths differ, and a group grants an app once
    select * from direct
    union all
    select * from via_group
    union all
    select * from unresolved
), since as (
    select user_id, group_id, max(valid_from) as member_since
    from okta_models.group_membership_history
    where is_current
    group by all
)
select p.user_id, u.profile_login as user_login, u.status as user_status,
       p.app_id, app.label as app_label, app.status as app_status,
       p.path, p.group_id, g.profile_name as group_name,
       a.scope as assignment_scope, a.status as assignment_status, a.created as assigned_at,
       s.member_since
from paths p
left join okta_current.users u on u.id = p.user_id
left join okta_current.application app on app.id = p.app_id
left join okta_current.groups g on g.id = p.group_id
left join assignments a on a.user_id = p.user_id and a.app_id = p.app_id
left join since s on s.user_id = p.user_id and s.group_id = p.group_id
