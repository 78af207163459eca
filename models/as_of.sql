-- name: as_of
-- title: The moment the models describe: the newest System Log event synced
-- grain: one row
-- key: as_of
-- materialized: view
-- columns:
--   as_of: the newest System Log event's published time; without one, the latest sync of users
-- description: The models measure ages ("days since the last sign-in", "used in the last 30
--   days") from this moment rather than from the clock, so that a database gives the same
--   answer whenever the models run, and an old copy is judged as of its own data. The newest
--   event is at most a sync's interval old on a database kept in sync.
-- example:
--   select as_of, as_of - interval 30 day as thirty_days_before from okta_models.as_of;
select coalesce((select max(published) from okta_current.system_log),
                (select max(_fivetran_synced) from okta_current.users)) as as_of
