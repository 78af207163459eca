-- id: okta_support_access_granted
-- title: Okta Support access to the org granted
-- technique: T1199 Trusted Relationship
-- severity: medium
-- scenario: support_impersonation
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_alternate_id, system_log.client_ip_address
-- description: user.session.impersonation.grant: an admin let Okta Support sign in to the
--   org as an admin. Legitimate during a support case; also a step of social-engineering
--   attacks in which the attacker poses as support or as an admin asking support to act.
--   Confirm a support case exists.
--
--   False positives: every real support case; the grant expires after the period chosen.
select published as detected_at,
       actor_alternate_id as actor,
       format('{} granted Okta Support access to the org (from {})', actor_alternate_id,
              coalesce(client_ip_address, '?')) as summary,
       client_ip_address as ip
from system_log
where event_type = 'user.session.impersonation.grant'
  and outcome_result = 'SUCCESS'
  and published >= $since::TIMESTAMP
