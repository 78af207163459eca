-- id: okta_blocklist_zone_disabled
-- title: A blocklist network zone deactivated or deleted
-- technique: T1562.007 Impair Defenses: Disable or Modify Cloud Firewall
-- severity: high
-- scenario: privilege_escalation
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.transaction_detail_request_api_token_id, system_log_target.system_log_id,
--   system_log_target.id, system_log_target.type, system_log_target.display_name,
--   network_zone.id, network_zone.name, network_zone.usage, network_zone.status
-- description: zone.deactivate or zone.delete of a network zone the directory lists with
--   usage BLOCKLIST (network_zone): the countries, anonymisers or IPs the org refused can
--   now reach the sign-in page. Zones that only scope policies (usage POLICY), such as a
--   partner VPN being retired, are left out.
--
--   False positives: a blocklist replaced by a newer one; the replacement is normally
--   activated first (look for zone.activate just before).
select s.published as detected_at,
       s.actor_alternate_id as actor,
       format('{} {} the blocklist zone "{}" (now {}){}', s.actor_alternate_id,
              case s.event_type when 'zone.delete' then 'deleted' else 'deactivated' end,
              coalesce(z.name, t.display_name), coalesce(z.status, 'gone'),
              case when s.transaction_detail_request_api_token_id is not null
                   then ' with API token ' || s.transaction_detail_request_api_token_id else '' end) as summary,
       t.id as zone_id,
       coalesce(z.name, t.display_name) as zone,
       z.status as zone_status_now,
       s.client_ip_address as ip,
       s.transaction_detail_request_api_token_id as api_token_id
from system_log s
join system_log_target t on t.system_log_id = s.id and t.type = 'NetworkZone'
join network_zone z on z.id = t.id
where s.event_type in ('zone.deactivate', 'zone.delete')
  and s.outcome_result = 'SUCCESS'
  and z.usage = 'BLOCKLIST'
  and s.published >= $since::TIMESTAMP
