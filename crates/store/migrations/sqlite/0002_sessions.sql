-- Staff sign-in sessions for the HTTP API and console (ids stored hashed).
CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, login TEXT NOT NULL, csrf TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE INDEX sessions_login ON sessions (login)
