-- Third-party provision records (APPI 29), reviews of contractors and foreign recipients
-- (seed 003 Art. 18; APPI 25, 28(3)), provision stops (APPI 35(3)), informed consent abroad
-- (APPI 28(2)).
CREATE TABLE provisions (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, recipient TEXT NOT NULL, recipient_name TEXT NOT NULL, recipient_address TEXT, recipient_kind TEXT NOT NULL, country TEXT NOT NULL, purpose TEXT NOT NULL, categories TEXT NOT NULL, basis TEXT NOT NULL, consent_id TEXT, provided_at TEXT NOT NULL, provided_by TEXT NOT NULL, record_kept_until TEXT NOT NULL, policy_version TEXT NOT NULL);
CREATE INDEX provisions_principal ON provisions (principal_id);
CREATE TABLE recipient_reviews (id TEXT PRIMARY KEY, recipient TEXT NOT NULL, kind TEXT NOT NULL, clauses TEXT, reviewed_on TEXT NOT NULL, next_due TEXT, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE INDEX recipient_reviews_recipient ON recipient_reviews (recipient, kind);
CREATE TABLE provision_stops (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, since TEXT NOT NULL, lifted_at TEXT, request_id TEXT);
CREATE INDEX provision_stops_principal ON provision_stops (principal_id);
ALTER TABLE consents ADD COLUMN informed_abroad BIGINT NOT NULL DEFAULT 0;
ALTER TABLE consents ADD COLUMN withdrawn_by TEXT
