-- id: okta_user_reported_suspicious_activity
-- title: A user reported suspicious activity on their account
-- technique: T1078.004 Valid Accounts: Cloud Accounts
-- severity: high
-- scenario: mfa_push_fatigue
-- fields: system_log.published, system_log.event_type, system_log.actor_alternate_id,
--   system_log.client_ip_address, system_log.raw_json
-- description: user.account.report_suspicious_activity_by_enduser: the user clicked "Report
--   suspicious activity" in an Okta email or Okta Verify, usually about a sign-in or push
--   they did not start. The reported event's type comes from the debug data
--   (suspiciousActivityEventType, read from raw_json as it is not a declared column).
--
--   False positives: users reporting their own forgotten sign-ins; still worth a call.
select published as detected_at,
       actor_alternate_id as actor,
       format('{} reported suspicious activity{}', actor_alternate_id,
              coalesce(' (' || json_extract_string(raw_json, '$.debugContext.debugData.suspiciousActivityEventType') || ')', '')) as summary,
       json_extract_string(raw_json, '$.debugContext.debugData.suspiciousActivityEventType') as reported_event_type,
       json_extract_string(raw_json, '$.debugContext.debugData.suspiciousActivityEventId') as reported_event_id,
       client_ip_address as ip
from system_log
where event_type = 'user.account.report_suspicious_activity_by_enduser'
  and published >= $since::TIMESTAMP
