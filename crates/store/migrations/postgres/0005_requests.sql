-- Principals' requests (APPI 32-39; seed 000 Art. 9) and disposal records (seed 000 Art. 8-4;
-- seed 003 Art. 16). Free texts (the request's details, a refusal's reason) are sealed.
CREATE TABLE requests (id TEXT PRIMARY KEY, principal_id TEXT, kind TEXT NOT NULL, status TEXT NOT NULL, received_at TEXT NOT NULL, answer_by TEXT NOT NULL, channel TEXT NOT NULL, purpose TEXT, details_ct BYTEA, fee_yen BIGINT NOT NULL, lang TEXT NOT NULL, opened_by TEXT NOT NULL, verified_at TEXT, verified_by TEXT, verify_method TEXT, closed_at TEXT, closed_by TEXT, ground TEXT, reason_ct BYTEA, result TEXT);
CREATE INDEX requests_status ON requests (status, answer_by);
CREATE INDEX requests_principal ON requests (principal_id);
CREATE TABLE disposals (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, categories TEXT NOT NULL, fields BIGINT NOT NULL, at TEXT NOT NULL, rule TEXT NOT NULL, request_id TEXT, by_login TEXT NOT NULL);
CREATE INDEX disposals_principal ON disposals (principal_id)
