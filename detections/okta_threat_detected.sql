-- id: okta_threat_detected
-- title: Okta ThreatInsight denied or rated a request as a high threat
-- technique: T1110 Brute Force
-- severity: medium
-- scenario: password_spray
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.outcome_reason, system_log.client_ip_address, system_log.security_context_as_org,
--   system_log.debug_context_debug_data_threat_detections,
--   system_log.debug_context_debug_data_threat_suspected
-- description: security.threat.detected events that Okta ThreatInsight blocked (outcome
--   DENY) or whose threatDetections rate a threat HIGH, grouped by client IP and
--   threat. Events ThreatInsight only logged at a low rating (e.g. "Login failures":"LOW"
--   with outcome ALLOW) are left out.
--
--   False positives: ThreatInsight's own; an IP of the org's network zones that it
--   flagged should be excluded from ThreatInsight in the admin console.
select min(published) as detected_at,
       coalesce(client_ip_address, 'unknown ip') as actor,
       format('ThreatInsight: {} ({}), {} event(s), outcome {}',
              coalesce(min(outcome_reason), 'threat'),
              coalesce(min(debug_context_debug_data_threat_detections), 'no detail'),
              count(*), string_agg(distinct outcome_result, '/' order by outcome_result)) as summary,
       max(published) as last_seen,
       count(*) as events,
       min(debug_context_debug_data_threat_detections) as threat_detections,
       min(security_context_as_org) as as_org
from system_log
where event_type = 'security.threat.detected'
  and published >= $since::TIMESTAMP
  and (outcome_result = 'DENY'
       or upper(coalesce(debug_context_debug_data_threat_detections, '')) like '%HIGH%')
group by client_ip_address, outcome_reason
