-- id: okta_mfa_policy_weakened
-- title: Sign-on or authentication policy weakened: MFA no longer required, or access opened
-- technique: T1556.006 Modify Authentication Process: Multi-Factor Authentication
-- severity: high
-- scenario: privilege_escalation
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.transaction_detail_request_api_token_id, system_log_target.system_log_id,
--   system_log_target.type, system_log_target.display_name, system_log_target.change_details
-- description: policy.rule.update and policy.lifecycle.update whose target's changeDetails
--   show a rule that required a second factor no longer requiring it (requireFactor true
--   to false or gone), an authentication policy rule going from 2FA to 1FA, or access
--   changing from DENY to ALLOW. The evidence names the API token when the change was made
--   with one (transaction.detail.requestApiTokenId).
--
--   False positives: a deliberate relaxation for a pilot group; the change should be on
--   the change calendar. Changes made without changeDetails (older events) are not seen.
with changes as (
    select s.published, s.actor_alternate_id, s.client_ip_address, s.event_type,
           s.transaction_detail_request_api_token_id as api_token_id,
           t.display_name as rule, t.change_details,
           json_extract_string(t.change_details, '$.from.actions.signon.requireFactor') as from_require,
           json_extract_string(t.change_details, '$.to.actions.signon.requireFactor') as to_require,
           json_extract_string(t.change_details, '$.from.actions.appSignOn.verificationMethod.factorMode') as from_mode,
           json_extract_string(t.change_details, '$.to.actions.appSignOn.verificationMethod.factorMode') as to_mode,
           coalesce(json_extract_string(t.change_details, '$.from.actions.signon.access'),
                    json_extract_string(t.change_details, '$.from.actions.appSignOn.access')) as from_access,
           coalesce(json_extract_string(t.change_details, '$.to.actions.signon.access'),
                    json_extract_string(t.change_details, '$.to.actions.appSignOn.access')) as to_access
    from system_log s
    join system_log_target t on t.system_log_id = s.id
    where s.event_type in ('policy.rule.update', 'policy.lifecycle.update')
      and s.outcome_result = 'SUCCESS'
      and t.change_details is not null
      and s.published >= $since::TIMESTAMP
)
select published as detected_at,
       actor_alternate_id as actor,
       format('{} weakened "{}": {}{}', actor_alternate_id, coalesce(rule, '?'),
              case when from_require = 'true' and coalesce(to_require, 'false') = 'false' then 'MFA no longer required'
                   when from_mode = '2FA' and to_mode = '1FA' then 'factor mode 2FA to 1FA'
                   else 'access ' || from_access || ' to ' || to_access end,
              case when api_token_id is not null then ' (with API token ' || api_token_id || ')' else '' end) as summary,
       event_type,
       rule,
       client_ip_address as ip,
       api_token_id,
       change_details
from changes
where (from_require = 'true' and coalesce(to_require, 'false') = 'false')
   or (from_mode = '2FA' and to_mode = '1FA')
   or (from_access = 'DENY' and to_access = 'ALLOW')
