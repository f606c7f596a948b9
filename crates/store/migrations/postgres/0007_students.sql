-- The student life cycle, payments and refunds of the school's 学費返還規定 (seed 003, the end;
-- issue 10). Payment-processor tokens are sealed under the principal's data key; card numbers are
-- never stored (seed 000 Art. 7-1). Amounts are whole yen.
CREATE TABLE students (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, stage TEXT NOT NULL, stage_on TEXT NOT NULL, term_months BIGINT NOT NULL, terms BIGINT NOT NULL, start_on TEXT, notice_term BIGINT, opened_by TEXT NOT NULL, created_at TEXT NOT NULL, refund_id TEXT);
CREATE INDEX students_principal ON students (principal_id);
CREATE TABLE student_events (id TEXT PRIMARY KEY, student_id TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, on_date TEXT NOT NULL, term BIGINT, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL, UNIQUE (student_id, seq));
CREATE TABLE student_payments (id TEXT PRIMARY KEY, student_id TEXT NOT NULL, item TEXT NOT NULL, term BIGINT, yen BIGINT NOT NULL, paid_on TEXT NOT NULL, token_ct BYTEA NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL, refund_id TEXT, refunded_yen BIGINT NOT NULL DEFAULT 0);
CREATE INDEX student_payments_student ON student_payments (student_id);
CREATE TABLE student_refunds (id TEXT PRIMARY KEY, student_id TEXT NOT NULL UNIQUE, event TEXT NOT NULL, refund_yen BIGINT NOT NULL, retained_yen BIGINT NOT NULL, lines TEXT NOT NULL, policy_version TEXT NOT NULL, computed_on TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL)
