-- Mamori's first schema (SQLite). Personal values are only ever stored sealed (ciphertext);
-- every other column holds ids, category names, times and hashes.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE policy_versions (version TEXT PRIMARY KEY, effective_on TEXT NOT NULL, applied_at TEXT NOT NULL, applied_by TEXT NOT NULL, toml TEXT NOT NULL);
CREATE TABLE staff (login TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT, password_hash TEXT, created_at TEXT NOT NULL, disabled BIGINT NOT NULL DEFAULT 0, failed_logins BIGINT NOT NULL DEFAULT 0, locked_until TEXT);
CREATE TABLE api_tokens (id TEXT PRIMARY KEY, login TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE principals (id TEXT PRIMARY KEY, channel TEXT NOT NULL, created_at TEXT NOT NULL, last_activity_at TEXT NOT NULL, policy_version TEXT NOT NULL, status TEXT NOT NULL, erased_at TEXT);
CREATE INDEX principals_channel ON principals (channel, status);
CREATE TABLE fields (principal_id TEXT NOT NULL, category TEXT NOT NULL, record_id TEXT NOT NULL, ciphertext BLOB NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (principal_id, category));
CREATE TABLE blind_index (principal_id TEXT NOT NULL, category TEXT NOT NULL, digest BLOB NOT NULL, PRIMARY KEY (principal_id, category));
CREATE INDEX blind_index_lookup ON blind_index (category, digest);
CREATE TABLE consents (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, purpose TEXT, recipient TEXT, given_at TEXT NOT NULL, withdrawn_at TEXT, channel TEXT NOT NULL, evidence TEXT, policy_version TEXT NOT NULL, recorded_by TEXT NOT NULL);
CREATE INDEX consents_principal ON consents (principal_id);
CREATE TABLE suspensions (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, purpose TEXT, since TEXT NOT NULL, lifted_at TEXT, request_id TEXT);
CREATE INDEX suspensions_principal ON suspensions (principal_id);
CREATE TABLE exception_reviews (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, staff TEXT NOT NULL, kind TEXT NOT NULL, purpose TEXT NOT NULL, reason_ct BLOB NOT NULL, at TEXT NOT NULL, reviewed_by TEXT, reviewed_at TEXT);
CREATE TABLE import_rows (fingerprint BLOB PRIMARY KEY, principal_id TEXT NOT NULL, imported_at TEXT NOT NULL);
CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, principal_id TEXT, purpose TEXT, basis TEXT, categories TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_principal ON audit_log (principal_id);
CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE audit_checkpoints (seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, signature TEXT NOT NULL, at TEXT NOT NULL)
