-- name: mfa_coverage
-- title: Which users and admins have a strong second factor, and which rely on weak ones
-- grain: one row per user not deprovisioned
-- key: user_id
-- materialized: table
-- columns:
--   user_id: the user (users.id)
--   user_login: the user's login
--   user_status: the user's status
--   is_admin: the user holds an active admin role (effective_admin_privileges)
--   factor_types: the factor types of the user's active enrollments, sorted
--   strong_factor_types: those that are strong (see the description), sorted
--   has_strong_factor: at least one strong factor
--   has_phishing_resistant_factor: at least one phishing-resistant factor (webauthn, u2f,
--     signed_nonce)
--   coverage: phishing_resistant, strong, weak_only (only weak factors) or none
-- description: Multi-factor coverage, from the active enrollments of user_enrolled_factor and
--   user_authenticator_enrollment (an authenticator counts as the factor type it provides:
--   okta_verify as push, google_otp as token:software:totp, phone_number as sms, okta_email
--   as email, security_question as question; the password is no second factor).
--
--   Strength is factor_strength's: webauthn, u2f and signed_nonce (FastPass) are
--   phishing-resistant; push, token:software:totp, token:hotp, token:hardware and token are
--   strong; sms, call, email and question are weak. Filter on is_admin for the
--   admins without a strong factor; mfa_coverage_by_factor counts by factor type. Needs
--   user_enrolled_factor or user_authenticator_enrollment synced (both, for the full picture).
-- example:
--   -- admins without a strong factor
--   select user_login, factor_types from okta_models.mfa_coverage
--   where is_admin and not has_strong_factor order by user_login;
with enrolled as (
    select user_id, factor_type
    from okta_current.user_enrolled_factor
    where status = 'ACTIVE'
    union
    select user_id, case key when 'okta_verify' then 'push'
                             when 'google_otp' then 'token:software:totp'
                             when 'phone_number' then 'sms'
                             when 'okta_email' then 'email'
                             when 'security_question' then 'question'
                             when 'yubikey_token' then 'token:hardware'
                             when 'custom_otp' then 'token:hotp'
                             when 'rsa_token' then 'token'
                             when 'symantec_vip' then 'token'
                             when 'duo' then 'push'
                             when 'custom_app' then 'push'
                             else key end
    from okta_current.user_authenticator_enrollment
    where status = 'ACTIVE' and key <> 'okta_password'
), per_user as (
    select e.user_id,
           list(e.factor_type order by e.factor_type) as factor_types,
           list(e.factor_type order by e.factor_type) filter (where s.strength in ('strong', 'phishing_resistant')) as strong_factor_types,
           bool_or(s.strength = 'phishing_resistant') as phishing_resistant
    from enrolled e
    left join okta_models.factor_strength s on s.factor_type = e.factor_type
    group by e.user_id
), admins as (
    select distinct user_id from okta_models.effective_admin_privileges where assignment_status = 'ACTIVE'
)
select u.id as user_id, u.profile_login as user_login, u.status as user_status,
       a.user_id is not null as is_admin,
       coalesce(p.factor_types, []) as factor_types,
       coalesce(p.strong_factor_types, []) as strong_factor_types,
       len(coalesce(p.strong_factor_types, [])) > 0 as has_strong_factor,
       coalesce(p.phishing_resistant, false) as has_phishing_resistant_factor,
       case when p.phishing_resistant then 'phishing_resistant'
            when len(coalesce(p.strong_factor_types, [])) > 0 then 'strong'
            when len(coalesce(p.factor_types, [])) > 0 then 'weak_only'
            else 'none' end as coverage
from okta_current.users u
left join per_user p on p.user_id = u.id
left join admins a on a.user_id = u.id
where u.status <> 'DEPROVISIONED'
