-- Issue 20 ("a clerk alone", "erasure leaves nothing of the person"). A request's fulfilment
-- rests on recorded identity evidence (which document and its last digits, or the code the
-- principal entered), sealed under the request's own data key. The consent to acquire
-- special-care-required data is a structured fact (APPI 20(2)), not a prefix of the evidence
-- text. Fulfilled requests go to the manager's review (exception_reviews.request_id). Erasure
-- finds the complaints and incidents linked to a principal by index.
ALTER TABLE requests ADD COLUMN evidence_ct BLOB;
ALTER TABLE consents ADD COLUMN special_care BIGINT NOT NULL DEFAULT 0;
UPDATE consents SET special_care = 1 WHERE purpose IS NULL AND recipient IS NULL AND evidence LIKE 'special-care%';
ALTER TABLE exception_reviews ADD COLUMN request_id TEXT;
CREATE INDEX complaints_principal ON complaints (principal_id);
CREATE INDEX incident_principals_principal ON incident_principals (principal_id)
