-- Keystone's lockout (lockout_failure_attempts, lockout_duration): failed password logins in a row per user,
-- and until when the user is locked out once they reach the limit; a successful login removes the row. A table
-- of its own: changes to identity_users empty every token cache, and a failed login must not.
CREATE TABLE identity_login_failures (
    user_id      text        PRIMARY KEY REFERENCES identity_users (id) ON DELETE CASCADE,
    failures     int         NOT NULL,
    locked_until timestamptz
);
