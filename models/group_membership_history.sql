-- name: group_membership_history
-- title: Who was in which group, and when
-- grain: one row per user, group and period of membership
-- key: user_id, group_id, valid_from
-- materialized: table
-- columns:
--   user_id: the member (users.id)
--   user_login: the member's login now; NULL if the user is gone
--   group_id: the group (groups.id)
--   group_name: the group's name now; NULL if the group is gone
--   valid_from: when the membership began; NULL: before the data begins (the System Log's
--     first event, or the first sync in history mode)
--   valid_to: when it ended; NULL: it has not ended
--   is_current: the user is in the group now (group_member)
--   source: history (versions of group_member in history mode), system_log (membership
--     events), or snapshot (a membership the log never mentions, so older than the log)
--   added_by: who added the user (the event's actor); NULL unless source is system_log
--   removed_by: who removed the user; NULL unless source is system_log and it ended
-- description: Group membership over time. Where group_member is synced in history mode
--   (tables.group_member.history: true), its versions are the periods. Otherwise the periods
--   are rebuilt from the System Log: each group.user_membership.add opens a period, the next
--   group.user_membership.remove of the same user and group closes it, a removal with no
--   addition before it in the log closes a period that began before the log, and a current
--   membership the log never mentions is one period that began before the log. Failed events
--   are ignored.
--
--   Use it to answer "who was in Finance on 1 March" or "who added this user to the admins
--   group"; effective_app_access takes the start of current memberships from it.
-- example:
--   -- members of a group at a moment
--   select user_login from okta_models.group_membership_history
--   where group_name = 'Finance'
--     and coalesce(valid_from, timestamptz '-infinity') <= timestamptz '2026-01-10 12:00:00+00'
--     and coalesce(valid_to, timestamptz 'infinity') > timestamptz '2026-01-10 12:00:00+00';
with history_mode as (
    select coalesce((select history from okta_history.table_mode where table_name = 'group_member'), false) as history_on
), versions as (
    select h.users_id as user_id, h.groups_id as group_id, h.valid_from, h.valid_to,
           'history' as source, null::varchar as added_by, null::varchar as removed_by
    from okta_history.group_member h
), events as (
    select s.id, s.published, s.event_type, s.actor_alternate_id as actor,
           max(case when t.type = 'User' then t.id end) as user_id,
           max(case when t.type = 'UserGroup' then t.id end) as group_id
    from okta_current.system_log s
    join okta_current.system_log_target t on t.system_log_id = s.id
    where s.event_type in ('group.user_membership.add', 'group.user_membership.remove')
      and s.outcome_result = 'SUCCESS'
    group by s.id, s.published, s.event_type, s.actor_alternate_id
), ordered as (
    select e.*,
           lag(e.event_type) over w as prev_type,
           lead(e.event_type) over w as next_type,
           lead(e.published) over w as next_at,
           lead(e.actor) over w as next_actor
    from events e
    where e.user_id is not null and e.group_id is not null
    window w as (partition by e.user_id, e.group_id order by e.published, e.id)
), logged as (
    -- an addition opens a period (a second addition while open changes nothing)
    select user_id, group_id, published as valid_from,
           case when next_type = 'group.user_membership.remove' then next_at end as valid_to,
           'system_log' as source, actor as added_by,
           case when next_type = 'group.user_membership.remove' then next_actor end as removed_by
    from ordered
    where event_type = 'group.user_membership.add' and prev_type is distinct from 'group.user_membership.add'
    union all
    -- the log's first event of a pair is a removal: a period older than the log
    select user_id, group_id, null, published, 'system_log', null, actor
    from ordered
    where event_type = 'group.user_membership.remove' and prev_type is null
), snapshot as (
    select m.users_id, m.groups_id, null::timestamptz, null::timestamptz, 'snapshot', null, null
    from okta_current.group_member m
    where not exists (select 1 from logged l
                      where l.user_id = m.users_id and l.group_id = m.groups_id and l.valid_to is null)
), periods as (
    select * from versions where (select history_on from history_mode)
    union all
    select * from logged where not (select history_on from history_mode)
    union all
    select * from snapshot where not (select history_on from history_mode)
)
select p.user_id, u.profile_login as user_login, p.group_id, g.profile_name as group_name,
       p.valid_from, p.valid_to,
       p.valid_to is null and exists (select 1 from okta_current.group_member m
                                      where m.users_id = p.user_id and m.groups_id = p.group_id) as is_current,
       p.source, p.added_by, p.removed_by
from periods p
left join okta_current.users u on u.id = p.user_id
left join okta_current.groups g on g.id = p.group_id
