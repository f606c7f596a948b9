//! Storage of the student life cycle, fee payments and refunds (seed 003 学費返還規定; issue 10).
//!
//! No rules here: which event may follow which, and what is refunded, is decided in
//! `mamori_domain::{student, refund}`. Payment tokens are stored sealed (the caller seals them
//! under the principal's data key); amounts are whole yen. Stage changes are guarded by the stage
//! they start from, so two clerks recording at once cannot both succeed.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Stmt, Store, Val, opt_s, s};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentRow {
    pub id: String,
    pub principal_id: String,
    pub stage: String,
    /// The date of the latest event.
    pub stage_on: String,
    pub term_months: i64,
    pub terms: i64,
    /// The enrollment date: the course's first day.
    pub start_on: Option<String>,
    /// The term the withdrawal notice fell in.
    pub notice_term: Option<i64>,
    pub opened_by: String,
    pub created_at: String,
    pub refund_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentEventRow {
    pub id: String,
    pub seq: i64,
    pub kind: String,
    pub on_date: String,
    pub term: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: String,
    pub student_id: String,
    pub item: String,
    pub term: Option<i64>,
    pub yen: i64,
    pub paid_on: String,
    pub token_ct: Vec<u8>,
    pub recorded_by: String,
    pub recorded_at: String,
    pub refund_id: Option<String>,
    pub refunded_yen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRow {
    pub id: String,
    pub student_id: String,
    pub event: String,
    pub refund_yen: i64,
    pub retained_yen: i64,
    /// The computed lines as JSON (item, term, paid, refund, rule, why).
    pub lines: String,
    pub policy_version: String,
    pub computed_on: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// What a new student record holds.
#[derive(Debug, Clone)]
pub struct NewStudent<'a> {
    pub id: &'a str,
    pub principal_id: &'a str,
    pub applied_on: &'a str,
    pub term_months: i64,
    pub terms: i64,
    pub opened_by: &'a str,
    pub at: &'a str,
}

/// A new event: the stage it moves from (guard) and to, and what it sets.
#[derive(Debug, Clone)]
pub struct NewStudentEvent<'a> {
    pub id: &'a str,
    pub student_id: &'a str,
    pub seq: i64,
    pub from_stage: &'a str,
    pub kind: &'a str,
    pub on: &'a str,
    pub term: Option<i64>,
    /// At enrollment: the course's first day, and the course if it changed.
    pub start_on: Option<&'a str>,
    pub course: Option<(i64, i64)>,
    pub recorded_by: &'a str,
    pub at: &'a str,
}

fn student_row(r: &AnyRow) -> Result<StudentRow> {
    Ok(StudentRow {
        id: s(r, 0)?,
        principal_id: s(r, 1)?,
        stage: s(r, 2)?,
        stage_on: s(r, 3)?,
        term_months: r.try_get::<i64, _>(4)?,
        terms: r.try_get::<i64, _>(5)?,
        start_on: opt_s(r, 6)?,
        notice_term: r.try_get::<Option<i64>, _>(7)?,
        opened_by: s(r, 8)?,
        created_at: s(r, 9)?,
        refund_id: opt_s(r, 10)?,
    })
}

fn payment_row(r: &AnyRow) -> Result<PaymentRow> {
    Ok(PaymentRow {
        id: s(r, 0)?,
        student_id: s(r, 1)?,
        item: s(r, 2)?,
        term: r.try_get::<Option<i64>, _>(3)?,
        yen: r.try_get::<i64, _>(4)?,
        paid_on: s(r, 5)?,
        token_ct: r.try_get::<Vec<u8>, _>(6)?,
        recorded_by: s(r, 7)?,
        recorded_at: s(r, 8)?,
        refund_id: opt_s(r, 9)?,
        refunded_yen: r.try_get::<i64, _>(10)?,
    })
}

impl Store {
    /// A new student record and its first event (the application).
    pub fn insert_student(n: &NewStudent<'_>) -> Vec<Stmt> {
        vec![
            Stmt::new(
                "INSERT INTO students (id, principal_id, stage, stage_on, term_months, terms, opened_by, created_at) VALUES ($1, $2, 'applied', $3, $4, $5, $6, $7)",
                vec![
                    n.id.into(),
                    n.principal_id.into(),
                    n.applied_on.into(),
                    n.term_months.into(),
                    n.terms.into(),
                    n.opened_by.into(),
                    n.at.into(),
                ],
            ),
            Stmt::new(
                "INSERT INTO student_events (id, student_id, seq, kind, on_date, term, recorded_by, recorded_at) VALUES ($1, $2, 1, 'applied', $3, NULL, $4, $5)",
                vec![
                    format!("{}-1", n.id).into(),
                    n.id.into(),
                    n.applied_on.into(),
                    n.opened_by.into(),
                    n.at.into(),
                ],
            ),
        ]
    }

    /// Append an event and move the stage, guarded by the stage it moves from.
    pub fn insert_student_event(e: &NewStudentEvent<'_>) -> Vec<Stmt> {
        let (tm, tn) = match e.course {
            Some((m, n)) => (Val::I64(Some(m)), Val::I64(Some(n))),
            None => (Val::I64(None), Val::I64(None)),
        };
        vec![
            Stmt::new(
                "UPDATE students SET stage = $3, stage_on = $4, start_on = COALESCE($5, start_on), notice_term = COALESCE($6, notice_term), term_months = COALESCE($7, term_months), terms = COALESCE($8, terms) WHERE id = $1 AND stage = $2 AND refund_id IS NULL",
                vec![
                    e.student_id.into(),
                    e.from_stage.into(),
                    e.kind.into(),
                    e.on.into(),
                    e.start_on.into(),
                    Val::I64(if e.kind == "withdrawal_notice" { e.term } else { None }),
                    tm,
                    tn,
                ],
            )
            .expecting(1, "the student record changed meanwhile: look at it again"),
            Stmt::new(
                "INSERT INTO student_events (id, student_id, seq, kind, on_date, term, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    e.id.into(),
                    e.student_id.into(),
                    e.seq.into(),
                    e.kind.into(),
                    e.on.into(),
                    Val::I64(e.term),
                    e.recorded_by.into(),
                    e.at.into(),
                ],
            ),
        ]
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_payment(
        id: &str,
        student_id: &str,
        item: &str,
        term: Option<i64>,
        yen: i64,
        paid_on: &str,
        token_ct: Vec<u8>,
        recorded_by: &str,
        at: &str,
    ) -> Vec<Stmt> {
        vec![
            // Payments stop once the fees were settled by a refund.
            Stmt::new(
                "UPDATE students SET stage = stage WHERE id = $1 AND refund_id IS NULL",
                vec![student_id.into()],
            )
            .expecting(1, "the student's fees were settled by a refund meanwhile"),
            Stmt::new(
                "INSERT INTO student_payments (id, student_id, item, term, yen, paid_on, token_ct, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                vec![
                    id.into(),
                    student_id.into(),
                    item.into(),
                    Val::I64(term),
                    yen.into(),
                    paid_on.into(),
                    token_ct.into(),
                    recorded_by.into(),
                    at.into(),
                ],
            ),
        ]
    }

    /// Record a refund: the refund itself, the student settled, and each payment's share.
    pub fn insert_refund(r: &RefundRow, shares: &[(String, i64)]) -> Vec<Stmt> {
        let mut out = vec![
            Stmt::new(
                "UPDATE students SET refund_id = $2 WHERE id = $1 AND refund_id IS NULL",
                vec![r.student_id.as_str().into(), r.id.as_str().into()],
            )
            .expecting(1, "the student's fees were refunded meanwhile"),
            Stmt::new(
                "INSERT INTO student_refunds (id, student_id, event, refund_yen, retained_yen, lines, policy_version, computed_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                vec![
                    r.id.as_str().into(),
                    r.student_id.as_str().into(),
                    r.event.as_str().into(),
                    r.refund_yen.into(),
                    r.retained_yen.into(),
                    r.lines.as_str().into(),
                    r.policy_version.as_str().into(),
                    r.computed_on.as_str().into(),
                    r.recorded_by.as_str().into(),
                    r.recorded_at.as_str().into(),
                ],
            ),
        ];
        for (payment_id, yen) in shares {
            out.push(
                Stmt::new(
                    "UPDATE student_payments SET refund_id = $2, refunded_yen = $3 WHERE id = $1 AND refund_id IS NULL",
                    vec![payment_id.as_str().into(), r.id.as_str().into(), (*yen).into()],
                )
                .expecting(1, "a payment changed meanwhile: look at the student again"),
            );
        }
        out
    }

    pub async fn student(&self, id: &str) -> Result<Option<StudentRow>> {
        let rows = self
            .rows(
                "SELECT id, principal_id, stage, stage_on, term_months, terms, start_on, notice_term, opened_by, created_at, refund_id FROM students WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(student_row).transpose()
    }

    /// Every student record, optionally only one principal's, oldest first.
    pub async fn students(&self, principal_id: Option<&str>) -> Result<Vec<StudentRow>> {
        let rows = match principal_id {
            Some(p) => {
                self.rows(
                    "SELECT id, principal_id, stage, stage_on, term_months, terms, start_on, notice_term, opened_by, created_at, refund_id FROM students WHERE principal_id = $1 ORDER BY created_at, id",
                    vec![p.into()],
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT id, principal_id, stage, stage_on, term_months, terms, start_on, notice_term, opened_by, created_at, refund_id FROM students ORDER BY created_at, id",
                    vec![],
                )
                .await?
            }
        };
        rows.iter().map(student_row).collect()
    }

    pub async fn student_events(&self, student_id: &str) -> Result<Vec<StudentEventRow>> {
        let rows = self
            .rows(
                "SELECT id, seq, kind, on_date, term, recorded_by, recorded_at FROM student_events WHERE student_id = $1 ORDER BY seq",
                vec![student_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StudentEventRow {
                    id: s(r, 0)?,
                    seq: r.try_get::<i64, _>(1)?,
                    kind: s(r, 2)?,
                    on_date: s(r, 3)?,
                    term: r.try_get::<Option<i64>, _>(4)?,
                    recorded_by: s(r, 5)?,
                    recorded_at: s(r, 6)?,
                })
            })
            .collect()
    }

    /// A student's payments in the order they were made.
    pub async fn student_payments(&self, student_id: &str) -> Result<Vec<PaymentRow>> {
        let rows = self
            .rows(
                "SELECT id, student_id, item, term, yen, paid_on, token_ct, recorded_by, recorded_at, refund_id, refunded_yen FROM student_payments WHERE student_id = $1 ORDER BY paid_on, recorded_at, id",
                vec![student_id.into()],
            )
            .await?;
        rows.iter().map(payment_row).collect()
    }

    pub async fn student_refund(&self, student_id: &str) -> Result<Option<RefundRow>> {
        let rows = self
            .rows(
                "SELECT id, student_id, event, refund_yen, retained_yen, lines, policy_version, computed_on, recorded_by, recorded_at FROM student_refunds WHERE student_id = $1",
                vec![student_id.into()],
            )
            .await?;
        rows.first()
            .map(|r| {
                Ok(RefundRow {
                    id: s(r, 0)?,
                    student_id: s(r, 1)?,
                    event: s(r, 2)?,
                    refund_yen: r.try_get::<i64, _>(3)?,
                    retained_yen: r.try_get::<i64, _>(4)?,
                    lines: s(r, 5)?,
                    policy_version: s(r, 6)?,
                    computed_on: s(r, 7)?,
                    recorded_by: s(r, 8)?,
                    recorded_at: s(r, 9)?,
                })
            })
            .transpose()
    }

    /// Move a principal to another channel (a graduate to the alumni list), with the policy
    /// version under which they were told the new channel's purposes. Guarded by the old channel.
    /// The principal's MAC is renewed over the new channel and version ([`crate::facts`]);
    /// guarded by the count of suspensions it binds as well.
    pub fn move_principal_channel(
        keys: &crate::Keys,
        principal: &crate::PrincipalRow,
        to: &str,
        policy_version: &str,
    ) -> Stmt {
        let mac = Store::principal_mac(
            keys,
            &principal.id,
            to,
            policy_version,
            principal.suspension_count,
        );
        Stmt::new(
            "UPDATE principals SET channel = $3, policy_version = $4, facts_mac = $5 WHERE id = $1 AND channel = $2 AND status = 'active' AND suspension_count = $6",
            vec![
                principal.id.as_str().into(),
                principal.channel.as_str().into(),
                to.into(),
                policy_version.into(),
                mac.into(),
                principal.suspension_count.into(),
            ],
        )
        .expecting(1, "the principal changed meanwhile: look at them again")
    }
}
