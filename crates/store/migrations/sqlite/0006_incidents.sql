-- Breach (漏えい等) incidents (seed 003 Arts. 7(3), 13(2); APPI 26, PPC rules 7-10). Ids, staff
-- logins, dates, the assessment facts (counts and flags), category ids and principal ids are
-- kept in clear; what the reporter described and every text the manager records may hold
-- personal information and are only ever stored sealed, under the incident's own data key (key
-- store owner id = the incident id).
CREATE TABLE incidents (id TEXT PRIMARY KEY, status TEXT NOT NULL, discovered_on TEXT NOT NULL, principals_affected BIGINT NOT NULL, special_care_data BIGINT NOT NULL, financial_damage_risk BIGINT NOT NULL, wrongful_purpose BIGINT NOT NULL, high_level_encryption BIGINT NOT NULL, reportable BIGINT NOT NULL, grounds TEXT NOT NULL, preliminary_due TEXT NOT NULL, final_due TEXT, preliminary_submitted_on TEXT, final_submitted_on TEXT, categories TEXT NOT NULL, description_ct BLOB NOT NULL, opened_by TEXT NOT NULL, opened_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT, closed_by TEXT, policy_version TEXT NOT NULL);
CREATE INDEX incidents_status ON incidents (status, discovered_on);
CREATE TABLE incident_steps (id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL, staff TEXT NOT NULL, text_ct BLOB NOT NULL);
CREATE INDEX incident_steps_incident ON incident_steps (incident_id, at);
CREATE TABLE incident_principals (incident_id TEXT NOT NULL, principal_id TEXT NOT NULL, added_at TEXT NOT NULL, added_by TEXT NOT NULL, PRIMARY KEY (incident_id, principal_id));
CREATE TABLE incident_notices (id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, method TEXT NOT NULL, done_on TEXT NOT NULL, at TEXT NOT NULL, staff TEXT NOT NULL, text_ct BLOB);
CREATE INDEX incident_notices_incident ON incident_notices (incident_id, at)
