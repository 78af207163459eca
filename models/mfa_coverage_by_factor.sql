-- name: mfa_coverage_by_factor
-- title: How many users and admins have each factor type, and how many rely on it alone
-- grain: one row per population (all_users, admins) and factor type
-- key: population, factor_type
-- materialized: table
-- columns:
--   population: all_users (every user not deprovisioned) or admins (those with an active
--     admin role)
--   factor_type: a factor type (sms, push, webauthn, ...), or none for the users with no
--     factor at all
--   strength: phishing_resistant, strong or weak (factor_strength); NULL for
--     none and for a type the model does not rank
--   users: the users of the population enrolled in it (for none: with no factor)
--   share: users divided by the population's size, rounded to 4 places
--   users_without_strong_factor: of those users, how many have no strong factor: for a weak
--     type, the users who rely on it
--   population_users: the population's size
--   population_without_strong_factor: users of the population with no strong factor
-- description: mfa_coverage counted by factor type, for every user and for admins: which
--   factors are in use, and how many users and admins still rely on weak factors (sms,
--   email, question) or have none.
-- example:
--   -- admins relying on weak factors, by type
--   select factor_type, users_without_strong_factor
--   from okta_models.mfa_coverage_by_factor
--   where population = 'admins' and strength = 'weak' order by 2 desc;
with populations as (
    select 'all_users' as population, * from okta_models.mfa_coverage
    union all
    select 'admins', * from okta_models.mfa_coverage where is_admin
), sizes as (
    select population, count(*) as population_users,
           count(*) filter (where not has_strong_factor) as population_without_strong_factor
    from populations group by population
), per_factor as (
    select p.population, f.factor_type, p.has_strong_factor
    from populations p, unnest(p.factor_types) as f(factor_type)
    union all
    select population, 'none', false from populations where len(factor_types) = 0
)
select f.population, f.factor_type,
       s.strength,
       count(*) as users,
       round(count(*) / any_value(z.population_users), 4) as share,
       count(*) filter (where not f.has_strong_factor) as users_without_strong_factor,
       any_value(z.population_users) as population_users,
       any_value(z.population_without_strong_factor) as population_without_strong_factor
from per_factor f
join sizes z on z.population = f.population
left join okta_models.factor_strength s on s.factor_type = f.factor_type
group by f.population, f.factor_type, s.strength
