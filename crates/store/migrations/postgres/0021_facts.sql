-- Issue 20: the records an access decision rests on carry a MAC under a key the database does
-- not hold (crates/store/src/facts.rs). Rows written before this migration are sealed once by
-- the start-up that runs it (the `facts_seal_pending` mark, audited as `facts.sealed`).
ALTER TABLE principals ADD COLUMN suspension_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE principals ADD COLUMN facts_mac TEXT;
ALTER TABLE consents ADD COLUMN facts_mac TEXT;
ALTER TABLE suspensions ADD COLUMN facts_mac TEXT;
ALTER TABLE staff ADD COLUMN facts_mac TEXT;
INSERT INTO meta (key, value) VALUES ('facts_seal_pending', '1')
