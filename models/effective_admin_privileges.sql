-- name: effective_admin_privileges
-- title: Who holds admin power, through what, with which permissions and on which resources
-- grain: one row per user, admin role assignment and path: direct, or each group that gives it
-- key: user_id, role_assignment_id, path, group_id
-- materialized: table
-- columns:
--   user_id: the user (users.id)
--   user_login: the user's login
--   user_status: the user's status
--   path: direct (assigned to the user) or group (through a group the user is in)
--   group_id: the group the role is assigned to (path group); NULL for direct
--   group_name: that group's name
--   role_assignment_id: the role assignment (user_role.id, group_role.id)
--   role_type: SUPER_ADMIN, ORG_ADMIN, APP_ADMIN, ... or CUSTOM
--   role_label: the role's label (a custom role's name)
--   privilege_level: super (every permission), org (the org but not admins), scoped (a
--     domain: users, groups, apps, devices, ...), read_only, or custom (see permissions)
--   role_description: what a standard role may do; a custom role's description
--   custom_role_id: the custom role (custom_role.id); NULL for a standard role
--   permissions: a custom role's permissions (custom_role_permission.label), sorted; NULL for
--     a standard role, whose permissions Okta fixes (role_description)
--   resource_set_id: the resource set a custom role is bound to (resource_set.id)
--   resource_set_label: the resource set's label
--   resources: what the resource set holds, as paths of Okta's API ("users", "groups/00g..."),
--     sorted
--   assignment_status: the assignment's status (ACTIVE, INACTIVE)
--   assigned_at: when the role was assigned (the assignment's created)
-- description: Every admin role a user holds: assigned to the user (user_role, assignment
--   type USER) or to a group the user is a member of (group_role with group_member, and any
--   user_role of assignment type GROUP not found that way, its group read from the
--   assignment's link). Custom roles come with their permissions and the resource set they
--   apply to. A user with a role directly and through a group has a row for each, so revoking
--   one shows what remains.
--
--   privilege_level ranks standard roles as Okta documents them: SUPER_ADMIN can do
--   everything, including granting roles; ORG_ADMIN manages the org but not admin
--   assignments; the other standard roles are scoped to a domain; READ_ONLY_ADMIN and
--   REPORT_ADMIN only read.
-- example:
--   -- everyone with super or org admin power, and how they got it
--   select user_login, role_type, path, group_name
--   from okta_models.effective_admin_privileges
--   where privilege_level in ('super', 'org') and assignment_status = 'ACTIVE'
--   order by user_login;
with standard_roles(role_type, privilege_level, role_description) as (
    values ('SUPER_ADMIN', 'super', 'Every permission, including assigning admin roles'),
           ('ORG_ADMIN', 'org', 'Manage users, groups, apps, policies and settings; not admin roles'),
           ('APP_ADMIN', 'scoped', 'Manage applications and their assignments'),
           ('USER_ADMIN', 'scoped', 'Manage users and groups (Group Administrator)'),
           ('GROUP_MEMBERSHIP_ADMIN', 'scoped', 'Manage the members of groups'),
           ('HELP_DESK_ADMIN', 'scoped', 'Reset passwords and factors, unlock users'),
           ('MOBILE_ADMIN', 'scoped', 'Manage devices'),
           ('API_ACCESS_MANAGEMENT_ADMIN', 'scoped', 'Manage authorization servers and their policies'),
           ('ACCESS_CERTIFICATIONS_ADMIN', 'scoped', 'Run access certification campaigns'),
           ('ACCESS_REQUESTS_ADMIN', 'scoped', 'Manage access requests'),
           ('READ_ONLY_ADMIN', 'read_only', 'Read every setting and object; change nothing'),
           ('REPORT_ADMIN', 'read_only', 'Read reports and the System Log')
), assignments as (
    select r.users_id as user_id, 'direct' as path, null::varchar as group_id, r.id, r.type, r.label,
           r.custom_role_id, r.resource_set_id, r.status, r.created
    from okta_current.user_role r
    where r.assignment_type = 'USER'
    union
    select m.users_id, 'group', r.groups_id, r.id, r.type, r.label, r.custom_role_id, r.resource_set_id,
           r.status, r.created
    from okta_current.group_role r
    join okta_current.group_member m on m.groups_id = r.groups_id
), through_group_links as (
    -- roles Okta lists on the user as given by a group, where the group's roles do not say so
    select r.users_id, 'group', regexp_extract(r._links_assignee_href, '/groups/([^/?]+)', 1), r.id, r.type,
           r.label, r.custom_role_id, r.resource_set_id, r.status, r.created
    from okta_current.user_role r
    where r.assignment_type = 'GROUP'
      and not exists (select 1 from assignments a where a.user_id = r.users_id and a.id = r.id and a.path = 'group')
), everything as (
    select * from assignments
    union all
    select * from through_group_links
), permissions as (
    select custom_role_id, list(label order by label) as permissions
    from okta_current.custom_role_permission
    group by custom_role_id
), resources as (
    select resource_set_id, list(distinct regexp_extract(_links_self_href, '/api/v1/(.*)$', 1)
                                 order by regexp_extract(_links_self_href, '/api/v1/(.*)$', 1)) as resources
    from okta_current.resource
    group by resource_set_id
)
select e.user_id, u.profile_login as user_login, u.status as user_status,
       e.path, nullif(e.group_id, '') as group_id, g.profile_name as group_name,
       e.id as role_assignment_id, e.type as role_type, coalesce(cr.label, e.label) as role_label,
       case when e.type = 'CUSTOM' then 'custom' else coalesce(s.privilege_level, 'scoped') end as privilege_level,
       coalesce(s.role_description, cr.description) as role_description,
       e.custom_role_id, p.permissions,
       e.resource_set_id, rs.label as resource_set_label, res.resources,
       e.status as assignment_status, e.created as assigned_at
from everything e
left join okta_current.users u on u.id = e.user_id
left join okta_current.groups g on g.id = e.group_id
left join standard_roles s on s.role_type = e.type
left join okta_current.custom_role cr on cr.id = e.custom_role_id
left join permissions p on p.custom_role_id = e.custom_role_id
left join okta_current.resource_set rs on rs.id = e.resource_set_id
left join resources res on res.resource_set_id = e.resource_set_id
