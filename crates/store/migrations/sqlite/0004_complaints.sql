-- Complaints (seed 003 Art. 23; seed 000 Art. 11). Ids, staff logins, times and dates are kept
-- in clear; what the complainant said, the investigation notes and the result may hold personal
-- information and are only ever stored sealed, under the complaint's own data key (key store
-- owner id = the complaint id).
CREATE TABLE complaints (id TEXT PRIMARY KEY, principal_id TEXT, channel TEXT, received_at TEXT NOT NULL, window_open BIGINT NOT NULL, counted_from TEXT NOT NULL, answer_by TEXT NOT NULL, status TEXT NOT NULL, summary_ct BLOB NOT NULL, opened_by TEXT NOT NULL, opened_at TEXT NOT NULL, acknowledged_at TEXT, acknowledged_by TEXT, result_ct BLOB, closed_at TEXT, closed_by TEXT, policy_version TEXT NOT NULL);
CREATE INDEX complaints_status ON complaints (status, answer_by);
CREATE TABLE complaint_notes (id TEXT PRIMARY KEY, complaint_id TEXT NOT NULL, at TEXT NOT NULL, staff TEXT NOT NULL, consulted TEXT NOT NULL, text_ct BLOB NOT NULL);
CREATE INDEX complaint_notes_complaint ON complaint_notes (complaint_id, at)
