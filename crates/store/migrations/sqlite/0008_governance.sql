-- Governance (seed 003 Arts. 6, 7, 19, 22, 24; seed 000 Art. 8-2): confidentiality pledges,
-- training records, inspections with their findings, committee meetings and staff reports of
-- violations. Free texts that may name people (minutes, decisions, findings, violation reports,
-- the reporter's identity) are sealed under each record's own data key; the rest are ids,
-- logins, dates and counts.
CREATE TABLE pledges (id TEXT PRIMARY KEY, login TEXT NOT NULL, signed_on TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE INDEX pledges_login ON pledges (login);
CREATE TABLE trainings (id TEXT PRIMARY KEY, title TEXT NOT NULL, held_on TEXT NOT NULL, material TEXT, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE training_attendees (training_id TEXT NOT NULL, login TEXT NOT NULL, PRIMARY KEY (training_id, login));
CREATE INDEX training_attendees_login ON training_attendees (login);
CREATE TABLE inspections (id TEXT PRIMARY KEY, run_at TEXT NOT NULL, as_of TEXT NOT NULL, by_login TEXT NOT NULL, passed BIGINT NOT NULL, failed BIGINT NOT NULL, items TEXT NOT NULL);
CREATE TABLE findings (id TEXT PRIMARY KEY, inspection_id TEXT NOT NULL, text_ct BLOB NOT NULL, action_ct BLOB, due_on TEXT NOT NULL, status TEXT NOT NULL, opened_by TEXT NOT NULL, opened_at TEXT NOT NULL, closed_by TEXT, closed_at TEXT, result_ct BLOB);
CREATE INDEX findings_inspection ON findings (inspection_id);
CREATE TABLE committee_meetings (id TEXT PRIMARY KEY, held_on TEXT NOT NULL, chair TEXT NOT NULL, members TEXT NOT NULL, minutes_ct BLOB NOT NULL, decisions_ct BLOB, decisions BIGINT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE violations (id TEXT PRIMARY KEY, reported_at TEXT NOT NULL, reporter_ct BLOB NOT NULL, text_ct BLOB NOT NULL, status TEXT NOT NULL, closed_by TEXT, closed_at TEXT, result_ct BLOB)
