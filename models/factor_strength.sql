-- name: factor_strength
-- title: How strong each factor type is
-- grain: one row per factor type
-- key: factor_type
-- materialized: view
-- columns:
--   factor_type: a factor type as Okta names it (user_enrolled_factor.factor_type)
--   strength: phishing_resistant, strong or weak
--   reason: why, in a few words
-- description: The ranking mfa_coverage and mfa_coverage_by_factor use, after NIST SP 800-63B
--   and Okta's guidance: a factor bound to the site's origin resists phishing; a possession
--   factor (an app or token) is strong; a code sent over a channel an attacker can intercept
--   or redirect, or a secret the user knows, is weak. Edit the list to change the policy; a
--   type not listed counts as not strong.
-- example:
--   select * from okta_models.factor_strength order by strength, factor_type;
select * from (values
    ('webauthn', 'phishing_resistant', 'a security key or platform authenticator bound to the origin'),
    ('u2f', 'phishing_resistant', 'a security key bound to the origin'),
    ('signed_nonce', 'phishing_resistant', 'Okta FastPass: a device-bound key checked against the origin'),
    ('push', 'strong', 'Okta Verify push to an enrolled device'),
    ('token:software:totp', 'strong', 'a one-time code from an enrolled app'),
    ('token:hotp', 'strong', 'a one-time code from an enrolled token'),
    ('token:hardware', 'strong', 'a hardware token (YubiKey OTP)'),
    ('token', 'strong', 'a third-party token (RSA, Symantec VIP)'),
    ('sms', 'weak', 'a code by SMS: SIM swap and interception'),
    ('call', 'weak', 'a code by voice call: SIM swap and interception'),
    ('email', 'weak', 'a code or link by email: as strong as the mailbox'),
    ('question', 'weak', 'a security question: a secret others can find')
) as f(factor_type, strength, reason)
