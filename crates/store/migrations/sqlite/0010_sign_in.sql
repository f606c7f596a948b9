-- Sign-in (issue 20): one-time setup links for staff passwords (stored hashed), and recent
-- failed sign-ins keyed by keyed digests of the client address and the login typed (never the
-- address or the text itself: a password typed into the login field must not be kept).
CREATE TABLE staff_setup (token_hash TEXT PRIMARY KEY, login TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT);
CREATE INDEX staff_setup_login ON staff_setup (login);
CREATE TABLE sign_in_failures (client_key TEXT NOT NULL, login_key TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX sign_in_failures_pair ON sign_in_failures (login_key, client_key, at);
CREATE INDEX sign_in_failures_client ON sign_in_failures (client_key, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at)
