-- id: okta_rogue_idp
-- title: New identity provider created and used to sign users in the same day
-- technique: T1484.002 Domain or Tenant Policy Modification: Trust Modification
-- severity: critical
-- scenario: rogue_idp
-- fields: system_log.id, system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_alternate_id, system_log.client_ip_address, system_log_target.system_log_id,
--   system_log_target.id, system_log_target.type, system_log_target.display_name,
--   identity_provider.id, identity_provider.name, identity_provider.type,
--   identity_provider.status, identity_provider.protocol_issuer_url
-- description: system.idp.lifecycle.create of an identity provider, then within 24 hours
--   successful sign-ins through it (user.authentication.auth_via_IDP whose target is that
--   IdP). An attacker with admin rights adds an IdP they control and signs in as any user
--   it is allowed to route, without passwords or MFA (the inbound federation technique of
--   the 2023 Okta attacks). The evidence adds the IdP from the directory (type, status,
--   issuer) and the users who signed in through it.
--
--   False positives: a planned federation rollout; it is normally tested with one
--   account before users are routed to it.
with created as (
    select s.published, s.actor_alternate_id as creator, s.client_ip_address as ip,
           t.id as idp_id, t.display_name as idp_name
    from system_log s
    join system_log_target t on t.system_log_id = s.id and t.type = 'IdentityProvider'
    where s.event_type = 'system.idp.lifecycle.create'
      and s.outcome_result = 'SUCCESS'
      and s.published >= $since::TIMESTAMP
),
used as (
    select c.idp_id, e.published, e.actor_alternate_id as account
    from created c
    join system_log_target t on t.id = c.idp_id and t.type = 'IdentityProvider'
    join system_log e on e.id = t.system_log_id
        and e.event_type = 'user.authentication.auth_via_IDP'
        and e.outcome_result = 'SUCCESS'
        and e.published > c.published
        and e.published <= c.published + interval 24 hour
)
select min(u.published) as detected_at,
       c.creator as actor,
       format('{} created the identity provider "{}" ({}, {}) from {}; {} sign-in(s) through it within {} minutes by {}',
              c.creator, coalesce(p.name, c.idp_name), coalesce(p.type, '?'), coalesce(p.status, 'gone'), c.ip,
              count(*), date_diff('minute', c.published, max(u.published)),
              string_agg(distinct u.account, ', ' order by u.account)) as summary,
       c.published as created_at,
       c.idp_id,
       coalesce(p.name, c.idp_name) as idp_name,
       p.type as idp_type,
       p.status as idp_status,
       p.protocol_issuer_url as issuer,
       count(*) as sign_ins,
       string_agg(distinct u.account, ', ' order by u.account) as accounts
from created c
join used u on u.idp_id = c.idp_id
left join identity_provider p on p.id = c.idp_id
group by c.published, c.creator, c.ip, c.idp_id, c.idp_name, p.name, p.type, p.status, p.protocol_issuer_url
