-- id: okta_fastpass_phishing_blocked
-- title: Okta FastPass refused to sign in to a phishing page
-- technique: T1566.002 Phishing: Spearphishing Link
-- severity: high
-- scenario: session_replay
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.outcome_reason, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.debug_context_debug_data_request_uri
-- description: user.authentication.auth_via_mfa FAILURE with the reason "FastPass declined
--   phishing attempt": Okta Verify noticed the sign-in page's origin was not the org's and
--   refused. The user was lured to an adversary-in-the-middle kit; the same campaign may
--   have caught users without FastPass (look for okta_session_replay around the same time).
--
--   False positives: very rare; a misconfigured custom domain or reverse proxy in front of
--   Okta can make FastPass decline legitimate pages.
select published as detected_at,
       actor_alternate_id as actor,
       format('FastPass declined a phishing sign-in page for {} (request {}, from {})',
              actor_alternate_id, coalesce(debug_context_debug_data_request_uri, '?'),
              coalesce(client_ip_address, '?')) as summary,
       client_ip_address as ip,
       debug_context_debug_data_request_uri as request_uri
from system_log
where event_type = 'user.authentication.auth_via_mfa'
  and outcome_result = 'FAILURE'
  and outcome_reason ilike '%phishing%'
  and published >= $since::TIMESTAMP
