-- id: okta_impossible_travel
-- title: Impossible travel: two sign-ins of one user more than 5000 km apart within an hour
-- technique: T1078.004 Valid Accounts: Cloud Accounts
-- severity: high
-- scenario: impossible_travel
-- fields: system_log.published, system_log.event_type, system_log.outcome_result,
--   system_log.actor_id, system_log.actor_alternate_id, system_log.client_ip_address,
--   system_log.client_geographical_context, system_log.security_context_is_proxy,
--   system_log.security_context_as_org, system_log.debug_context_debug_data_behaviors
-- description: Consecutive successful sign-ins (user.session.start SUCCESS) of one user,
--   at most an hour apart, whose geolocations (client.geographicalContext.geolocation) are
--   more than 5000 km apart, at a speed above 1000 km/h. Sign-ins through a proxy or
--   anonymiser (securityContext.isProxy) are left out: their location is the exit node's,
--   and other detections cover them. Okta's Velocity and New Geo-Location behaviors
--   usually agree (evidence).
--
--   False positives: a user on a corporate VPN whose exit is not flagged as a proxy
--   (exclude the VPN's network zone), and IP geolocation errors for mobile carriers.
with signins as (
    select published, actor_id, actor_alternate_id as actor, client_ip_address as ip,
           json_extract_string(client_geographical_context, '$.country') as country,
           json_extract_string(client_geographical_context, '$.city') as city,
           try_cast(json_extract_string(client_geographical_context, '$.geolocation.lat') as double) as lat,
           try_cast(json_extract_string(client_geographical_context, '$.geolocation.lon') as double) as lon,
           security_context_as_org as as_org,
           debug_context_debug_data_behaviors as behaviors
    from system_log
    where event_type = 'user.session.start'
      and outcome_result = 'SUCCESS'
      and not coalesce(security_context_is_proxy, false)
      and published >= $since::TIMESTAMP - interval 1 hour
),
pairs as (
    select *,
           lag(published) over w as prev_published,
           lag(ip) over w as prev_ip,
           lag(country) over w as prev_country,
           lag(city) over w as prev_city,
           lag(lat) over w as prev_lat,
           lag(lon) over w as prev_lon
    from signins
    window w as (partition by actor_id order by published)
),
measured as (
    select *,
           2 * 6371 * asin(sqrt(pow(sin(radians(lat - prev_lat) / 2), 2)
               + cos(radians(prev_lat)) * cos(radians(lat)) * pow(sin(radians(lon - prev_lon) / 2), 2))) as km,
           greatest(date_diff('second', prev_published, published), 1) / 3600.0 as hours
    from pairs
    where prev_published is not null and lat is not null and prev_lat is not null
      and published >= prev_published
      and published <= prev_published + interval 1 hour
      and published >= $since::TIMESTAMP
)
select published as detected_at,
       actor,
       format('signed in from {}, {} ({}) {} minutes after {}, {} ({}): {} km, {} km/h',
              coalesce(city, '?'), coalesce(country, '?'), ip,
              date_diff('minute', prev_published, published),
              coalesce(prev_city, '?'), coalesce(prev_country, '?'), prev_ip,
              round(km)::bigint, round(km / hours)::bigint) as summary,
       prev_published as previous_at,
       prev_ip as previous_ip,
       prev_country as previous_country,
       ip,
       country,
       round(km)::bigint as km,
       round(km / hours)::bigint as km_per_hour,
       as_org,
       behaviors
from measured
where km > 5000 and km / hours > 1000
