-- name: admin_audit_trail
-- title: Every administrative action: who did what to what, and what changed
-- grain: one row per administrative System Log event and target (an event with no target has
--   one row)
-- key: event_id, target_index
-- materialized: table
-- columns:
--   published: when it happened
--   event_id: the event (system_log.id)
--   event_type: Okta's event type (group.user_membership.add, policy.rule.update, ...)
--   display_message: Okta's description of the event
--   outcome: SUCCESS, FAILURE, DENY, ...
--   outcome_reason: why, for an outcome other than SUCCESS when Okta says
--   actor_id: who did it (users.id, or a client's id)
--   actor_login: the actor's login or name
--   actor_is_admin: the actor holds an active admin role now (effective_admin_privileges)
--   client_ip: the client's IP address
--   country: the client's country by Okta's geolocation
--   target_index: the target's position in the event (0 first); NULL for an event with none
--   target_type: the target's type (User, UserGroup, AppInstance, PolicyRule, ...)
--   target_id: the target's id
--   target_name: the target's display name
--   change_before: the values before the change, as the event's changeDetails.from gives them
--     (JSON); NULL when the event says nothing
--   change_after: the values after (changeDetails.to, JSON)
-- description: The administrative changes of the org, from the System Log: users created,
--   suspended or deactivated, passwords reset and factors removed by someone else, group and
--   application membership, admin roles granted and revoked, policies, rules, network zones,
--   identity providers, resource sets, API tokens, support impersonation, and sign-ins to the
--   Admin Console. An event is administrative when a person or client (not Okta itself) did
--   it and its type is one of those families; account and factor events count only when
--   their target is another user than the actor, so a user changing their own password is
--   not in it. The families are listed at the top of the query. Before and after values are
--   there when Okta reports them (changeDetails, on updates).
-- example:
--   -- what changed in policies over the last week of data, newest first
--   select published, actor_login, event_type, target_name, change_before, change_after
--   from okta_models.admin_audit_trail, okta_models.as_of
--   where event_type like 'policy.%' and published > as_of - interval 7 day
--   order by published desc;
with families(pattern, other_user_only) as (
    values ('user.lifecycle.%', false), ('user.account.privilege.%', false),
           ('user.session.impersonation.%', false), ('user.session.access_admin_app', false),
           ('user.session.clear%', false),
           ('user.account.%', true), ('user.mfa.factor.%', true), ('user.credential.%', true),
           ('group.lifecycle.%', false), ('group.profile.%', false), ('group.user_membership.%', false),
           ('group.privilege.%', false), ('group.application_assignment.%', false),
           ('application.lifecycle.%', false), ('application.user_membership.%', false),
           ('application.policy.%', false), ('application.appinstance.%', false),
           ('policy.lifecycle.%', false), ('policy.rule.%', false),
           ('zone.%', false), ('network_zone.%', false),
           ('system.api_token.%', false), ('system.idp.%', false), ('system.org.%', false),
           ('system.feature.%', false), ('system.agent.%', false),
           ('iam.%', false), ('device.lifecycle.%', false), ('app.oauth2.as.lifecycle.%', false),
           ('app.oauth2.client.lifecycle.%', false)
), user_targets as (
    select system_log_id, list(id) as user_ids
    from okta_current.system_log_target
    where type = 'User'
    group by system_log_id
), admin_events as (
    select s.*
    from okta_current.system_log s
    left join user_targets ut on ut.system_log_id = s.id
    where s.actor_type is distinct from 'SystemPrincipal'
      and exists (select 1 from families f
                  where s.event_type like f.pattern
                    and (not f.other_user_only
                         or ut.user_ids is null
                         or len(list_filter(ut.user_ids, x -> x is distinct from s.actor_id)) > 0))
), admins as (
    select distinct user_id from okta_models.effective_admin_privileges where assignment_status = 'ACTIVE'
)
select e.published, e.id as event_id, e.event_type, e.display_message,
       e.outcome_result as outcome, e.outcome_reason,
       e.actor_id, e.actor_alternate_id as actor_login,
       a.user_id is not null as actor_is_admin,
       e.client_ip_address as client_ip,
       json_extract_string(e.client_geographical_context, '$.country') as country,
       t.target_index, t.type as target_type, t.id as target_id, t.display_name as target_name,
       t.change_details -> '$.from' as change_before,
       t.change_details -> '$.to' as change_after
from admin_events e
left join okta_current.system_log_target t on t.system_log_id = e.id
left join admins a on a.user_id = e.actor_id
