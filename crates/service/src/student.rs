//! The school's students end to end (seed 003 学費返還規定; issue 10): a student record linked
//! to a principal, the life cycle (application, certificate of eligibility, visa, arrival,
//! enrollment, withdrawal notice, graduation), fee payments with a payment-processor token (card
//! numbers refused, seed 000 Art. 7-1), the refund computed by the policy's `[refunds]` rules and
//! recorded against the payments, a printable refund statement (ja/en), and graduation, which
//! may move the principal to the `alumni` channel only with consent for the new purposes that
//! are not related to the ones they were told (APPI 17(2), 18(1); seed 003 Arts. 8(2), 9(1)).
//!
//! The rules are `mamori_domain::{student, refund}`. Access: student records are the fee and
//! refund records the school keeps for the purpose `fee_management`; recording needs the role
//! action `register` and reading `read`, and the role must be allowed that purpose (tokyo-one:
//! clerk and manager; a teacher or the auditor is refused).

use std::collections::BTreeMap;

use mamori_domain::access::DenyReason;
use mamori_domain::refund::{self, Course, Paid, RefundCase, RefundResult, Why};
use mamori_domain::student::{self as rules, Stage};
use mamori_domain::values;
use mamori_policy::notice::escape_html;
use mamori_policy::{Action, Lang, Policy, Refunds, Validation};
use mamori_store::crypto::{field_aad, random_hex, seal_with};
use mamori_store::students::{NewStudent, NewStudentEvent, PaymentRow, RefundRow, StudentRow};
use mamori_store::{AuditDraft, Store};
use serde::{Deserialize, Serialize};

use crate::{Actor, Mamori, Result, ServiceError, today_jst};

/// The purpose student records are kept for (tokyo-one: 学費返還規定に基づく返還のため).
pub const PURPOSE: &str = "fee_management";

/// The channel graduates move to.
pub const ALUMNI: &str = "alumni";

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(m.into())
}

fn refunds_of(policy: &Policy) -> Result<&Refunds> {
    policy.refunds.as_ref().ok_or_else(|| {
        bad("refunds: the policy has no [refunds] table: state the school's fee items and refund rules in it (see policies/tokyo-one.toml)")
    })
}

/// `refund compute`: pure. The case as JSON (DESIGN.md shape) under a policy's refund rules.
pub fn refund_compute(policy: &Policy, case: &serde_json::Value) -> Result<RefundResult> {
    let refunds = refunds_of(policy)?;
    refund::compute_json(case, refunds).map_err(|e| bad(e.to_string()))
}

/// `refund compute` from the text on standard input.
pub fn refund_compute_text(policy: &Policy, text: &str) -> Result<RefundResult> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "case: not JSON ({}): give {{\"event\", \"course\", \"paid\", \"withdrawal_notice_term\"}}",
            e.to_string().lines().next().unwrap_or("")
        ))
    })?;
    refund_compute(policy, &v)
}

fn date_arg(field: &str, s: Option<&str>) -> Result<jiff::civil::Date> {
    match s {
        None => Ok(today_jst()),
        Some(s) => mamori_policy::parse_ymd(s).map_err(|e| bad(format!("{field}: {e}"))),
    }
}

fn check_course(term_months: u32, terms: u32) -> Result<()> {
    if term_months == 0 || term_months > 12 {
        return Err(bad(
            "--term-months: give the length of a term in months, 1 to 12 (e.g. 3)",
        ));
    }
    if terms == 0 {
        return Err(bad("--terms: give the number of terms, from 1 (e.g. 4)"));
    }
    if term_months * terms > refund::MAX_COURSE_MONTHS {
        return Err(bad(format!(
            "--terms: {terms} terms of {term_months} months exceed {} months",
            refund::MAX_COURSE_MONTHS
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpenStudent {
    pub principal_id: String,
    pub term_months: u32,
    pub terms: u32,
    /// The application date (YYYY-MM-DD); today in Japan when absent.
    pub applied_on: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewEvent {
    pub kind: String,
    /// YYYY-MM-DD; today in Japan when absent.
    pub on: Option<String>,
    /// At enrollment: the course, when it differs from the one applied for.
    pub term_months: Option<u32>,
    pub terms: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewPayment {
    /// screening_fee, admission_fee, tuition, other_fees.
    pub item: String,
    /// Tuition only: the term paid for (1-based).
    pub term: Option<u32>,
    pub yen: i64,
    /// The payment processor's token (never a card number).
    pub token: String,
    /// YYYY-MM-DD; today in Japan when absent.
    pub paid_on: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventInfo {
    pub seq: i64,
    pub kind: String,
    pub on: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<i64>,
    pub recorded_by: String,
}

/// A payment as shown: never the token itself.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentInfo {
    pub id: String,
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<i64>,
    pub yen: i64,
    pub paid_on: String,
    pub token_on_record: bool,
    pub refund_id: Option<String>,
    pub refunded_yen: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StudentSummary {
    pub id: String,
    pub principal_id: String,
    pub stage: String,
    pub stage_on: String,
    pub term_months: i64,
    pub terms: i64,
    pub start_on: Option<String>,
    pub refund_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StudentInfo {
    pub id: String,
    pub principal_id: String,
    pub channel: String,
    pub stage: String,
    pub stage_on: String,
    /// The events that may be recorded next.
    pub next: Vec<&'static str>,
    /// The refund rule (学費返還規定 event) the stage leads to, if any.
    pub refund_event: Option<&'static str>,
    pub course: Course,
    pub start_on: Option<String>,
    pub course_end: Option<String>,
    pub withdrawal_notice_term: Option<i64>,
    pub events: Vec<EventInfo>,
    pub payments: Vec<PaymentInfo>,
    pub paid_yen: i64,
    pub refund: Option<RefundInfo>,
}

/// A line as recorded with a refund: the DESIGN.md line plus what a statement needs in either
/// language (the clause and the item's name in the policy at the time).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedLine {
    pub item: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<u32>,
    pub paid: i64,
    pub refund: i64,
    pub rule: String,
    pub item_ja: String,
    pub item_en: String,
    pub rule_ja: String,
    pub rule_en: String,
    pub why: Option<Why>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefundInfo {
    pub id: String,
    pub student_id: String,
    pub event: String,
    pub refund: i64,
    pub retained: i64,
    pub lines: Vec<RecordedLine>,
    pub policy_version: String,
    pub computed_on: String,
    pub recorded_by: String,
    /// The statement file written with `--out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Graduated {
    pub id: String,
    pub principal_id: String,
    pub stage: String,
    pub channel: String,
    /// Whether the principal moved to the alumni channel now.
    pub moved_to_alumni: bool,
}

fn summary(r: &StudentRow) -> StudentSummary {
    StudentSummary {
        id: r.id.clone(),
        principal_id: r.principal_id.clone(),
        stage: r.stage.clone(),
        stage_on: r.stage_on.clone(),
        term_months: r.term_months,
        terms: r.terms,
        start_on: r.start_on.clone(),
        refund_id: r.refund_id.clone(),
    }
}

fn payment_info(p: &PaymentRow) -> PaymentInfo {
    PaymentInfo {
        id: p.id.clone(),
        item: p.item.clone(),
        term: p.term,
        yen: p.yen,
        paid_on: p.paid_on.clone(),
        token_on_record: !p.token_ct.is_empty(),
        refund_id: p.refund_id.clone(),
        refunded_yen: p.refunded_yen,
    }
}

fn stage_of(r: &StudentRow) -> Result<Stage> {
    Stage::parse(&r.stage).ok_or_else(|| {
        ServiceError::Failed(format!("student {} has an unknown stage {}", r.id, r.stage))
    })
}

fn course_of(r: &StudentRow) -> Course {
    Course {
        term_months: u32::try_from(r.term_months).unwrap_or(0),
        terms: u32::try_from(r.terms).unwrap_or(0),
    }
}

/// The case a student's record makes: what was paid per item (tuition per term) and the term
/// of the withdrawal notice.
fn case_of(r: &StudentRow, event: &str, payments: &[PaymentRow]) -> RefundCase {
    let mut paid = Paid::default();
    for p in payments {
        match (p.item.as_str(), p.term) {
            ("screening_fee", _) => paid.screening_fee += p.yen,
            ("admission_fee", _) => paid.admission_fee += p.yen,
            ("other_fees", _) => paid.other_fees += p.yen,
            ("tuition", Some(t)) => {
                let i = usize::try_from(t.max(1) - 1).unwrap_or(0);
                if paid.tuition.len() <= i {
                    paid.tuition.resize(i + 1, 0);
                }
                if let Some(slot) = paid.tuition.get_mut(i) {
                    *slot += p.yen;
                }
            }
            _ => {}
        }
    }
    RefundCase {
        event: event.to_string(),
        course: course_of(r),
        paid,
        withdrawal_notice_term: r.notice_term.and_then(|t| u32::try_from(t).ok()),
    }
}

/// Each payment's share of the refund: a line's refund goes to the payments for its item (and
/// term), the latest first; every payment is marked with the refund, with 0 when nothing of it
/// comes back.
fn shares(lines: &[RecordedLine], payments: &[PaymentRow]) -> Vec<(String, i64)> {
    let mut out: BTreeMap<String, i64> = payments.iter().map(|p| (p.id.clone(), 0)).collect();
    for l in lines {
        let mut left = l.refund;
        for p in payments.iter().rev() {
            if left == 0 {
                break;
            }
            let same = p.item == l.item && p.term.and_then(|t| u32::try_from(t).ok()) == l.term;
            if same {
                let take = left.min(p.yen);
                if let Some(v) = out.get_mut(&p.id) {
                    *v += take;
                }
                left -= take;
            }
        }
    }
    payments
        .iter()
        .map(|p| (p.id.clone(), out.get(&p.id).copied().unwrap_or(0)))
        .collect()
}

fn fmt_yen(yen: i64, ja: bool) -> String {
    let digits = yen.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if yen < 0 { "-" } else { "" };
    if ja {
        format!("{sign}{grouped}円")
    } else {
        format!("{sign}¥{grouped}")
    }
}

const STATEMENT_CSS: &str = "body{font-family:\"Hiragino Mincho ProN\",\"Yu Mincho\",serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.7;color:#111}h1{font-size:1.3rem;text-align:center;margin:2rem 0}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}td.yen,th.yen{text-align:right;white-space:nowrap}th{background:#f2f2f2}.meta{text-align:right}.rule{font-size:.9rem}.from{margin-top:3rem;text-align:right}@media print{body{margin:0;max-width:none}}";

impl Mamori {
    /// The refund rules of the policy in effect (`refund compute` with an initialized folder).
    pub fn refund_rules(&self) -> Result<Refunds> {
        refunds_of(&self.policy()).cloned()
    }

    /// The gate of every student use case: the role action, then the purpose the records are
    /// kept for. A denial is audited.
    async fn student_gate(
        &self,
        actor: &Actor,
        action: Action,
        what: &str,
        principal_id: Option<&str>,
    ) -> Result<()> {
        self.require(actor, action, what).await?;
        if actor.role.purposes.iter().any(|p| p == PURPOSE) {
            return Ok(());
        }
        let reason = DenyReason::PurposeNotForRole {
            role: actor.role.id.clone(),
            purpose: PURPOSE.into(),
        }
        .to_string();
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: what.into(),
                principal_id: principal_id.map(str::to_string),
                purpose: Some(PURPOSE.into()),
                decision: "deny".into(),
                reason: Some(reason.clone()),
                ..Default::default()
            }])
            .await?;
        Err(ServiceError::Denied(reason))
    }

    async fn student_row(&self, id: &str) -> Result<StudentRow> {
        self.store.student(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "ID: there is no student {id}: `student list --as LOGIN` shows them"
            ))
        })
    }

    fn draft(
        &self,
        actor: &Actor,
        what: &str,
        r: &StudentRow,
        detail: serde_json::Value,
    ) -> AuditDraft {
        AuditDraft {
            actor: actor.login.clone(),
            action: what.into(),
            principal_id: Some(r.principal_id.clone()),
            purpose: Some(PURPOSE.into()),
            decision: "done".into(),
            detail,
            ..Default::default()
        }
    }

    /// `mamori student open P --term-months N --terms N [--on DATE]`: the application (its
    /// screening fee is paid with `student pay`).
    pub async fn student_open(&self, actor: &Actor, o: OpenStudent) -> Result<StudentInfo> {
        self.student_gate(
            actor,
            Action::Register,
            "student.open",
            Some(&o.principal_id),
        )
        .await?;
        let policy = self.policy();
        refunds_of(&policy)?;
        check_course(o.term_months, o.terms)?;
        let applied_on = date_arg("--on", o.applied_on.as_deref())?.to_string();
        let principal = self.active_principal(&o.principal_id).await?;
        let channel = self.notified_channel(&principal)?;
        if !channel.purposes.iter().any(|p| p == PURPOSE) {
            return Err(bad(format!(
                "PRINCIPAL: {} came through channel {}, which was not notified for {PURPOSE}: register applicants through a channel that is (tokyo-one: admission_application)",
                principal.id, principal.channel
            )));
        }
        for s in self.store.students(Some(&principal.id)).await? {
            if !stage_of(&s)?.next().is_empty() && s.refund_id.is_none() {
                return Err(bad(format!(
                    "PRINCIPAL: {} already has student record {} at stage {}: continue that one",
                    principal.id, s.id, s.stage
                )));
            }
        }
        let id = format!("s_{}", random_hex(8));
        let at = mamori_store::now_string();
        let stmts = Store::insert_student(&NewStudent {
            id: &id,
            principal_id: &principal.id,
            applied_on: &applied_on,
            term_months: i64::from(o.term_months),
            terms: i64::from(o.terms),
            opened_by: &actor.login,
            at: &at,
        });
        let row = StudentRow {
            id: id.clone(),
            principal_id: principal.id.clone(),
            stage: "applied".into(),
            stage_on: applied_on.clone(),
            term_months: i64::from(o.term_months),
            terms: i64::from(o.terms),
            start_on: None,
            notice_term: None,
            opened_by: actor.login.clone(),
            created_at: at.clone(),
            refund_id: None,
        };
        let draft = self.draft(
            actor,
            "student.open",
            &row,
            serde_json::json!({"student": id, "applied_on": applied_on, "term_months": o.term_months, "terms": o.terms}),
        );
        self.store.write(stmts, vec![draft]).await?;
        self.student_info(&id).await
    }

    /// `mamori student event ID --kind KIND [--on DATE] [--term-months N --terms N]`.
    pub async fn student_event(&self, actor: &Actor, id: &str, e: NewEvent) -> Result<StudentInfo> {
        let r = self.student_row(id).await?;
        self.student_gate(
            actor,
            Action::Register,
            "student.event",
            Some(&r.principal_id),
        )
        .await?;
        let kind = Stage::parse(&e.kind)
            .filter(|k| *k != Stage::Applied)
            .ok_or_else(|| {
                bad(format!(
                    "--kind: {:?} is not a student event: use one of {}",
                    e.kind,
                    Stage::event_kinds()
                ))
            })?;
        if kind == Stage::Graduated {
            // Graduation has its own use case (it may move the principal to the alumni list).
            self.student_graduate(actor, id, e.on.as_deref(), false)
                .await?;
            return self.student_info(id).await;
        }
        let stmts = self.event_stmts(actor, &r, kind, &e).await?;
        let detail = serde_json::json!({"student": r.id, "kind": kind.as_str()});
        self.store
            .write(stmts, vec![self.draft(actor, "student.event", &r, detail)])
            .await?;
        self.student_info(id).await
    }

    /// The statements that append an event, after the life-cycle rules allowed it.
    async fn event_stmts(
        &self,
        actor: &Actor,
        r: &StudentRow,
        kind: Stage,
        e: &NewEvent,
    ) -> Result<Vec<mamori_store::Stmt>> {
        if let Some(rid) = &r.refund_id {
            return Err(bad(format!(
                "ID: student {}'s fees were settled by refund {rid}: no more events are recorded",
                r.id
            )));
        }
        let stage = stage_of(r)?;
        let on = date_arg("--on", e.on.as_deref())?;
        let latest = mamori_policy::parse_ymd(&r.stage_on)
            .map_err(|e| ServiceError::Failed(format!("student {}: stored date: {e}", r.id)))?;
        rules::may_follow(stage, latest, kind, on).map_err(|x| bad(x.to_string()))?;
        if kind != Stage::Enrolled && (e.term_months.is_some() || e.terms.is_some()) {
            return Err(bad(
                "--term-months/--terms: the course is set at the application and may change only at enrollment",
            ));
        }
        let mut course = None;
        let mut start_on = None;
        let mut term = None;
        if kind == Stage::Enrolled {
            let m = e
                .term_months
                .unwrap_or(u32::try_from(r.term_months).unwrap_or(0));
            let n = e.terms.unwrap_or(u32::try_from(r.terms).unwrap_or(0));
            check_course(m, n)?;
            let paid_terms = self
                .store
                .student_payments(&r.id)
                .await?
                .iter()
                .filter_map(|p| p.term)
                .max()
                .unwrap_or(0);
            if paid_terms > i64::from(n) {
                return Err(bad(format!(
                    "--terms: tuition was paid for term {paid_terms}, beyond a course of {n} terms"
                )));
            }
            course = Some((i64::from(m), i64::from(n)));
            start_on = Some(on.to_string());
        }
        if kind == Stage::WithdrawalNotice {
            let start = r
                .start_on
                .as_deref()
                .map(mamori_policy::parse_ymd)
                .transpose()
                .map_err(|e| ServiceError::Failed(format!("student {}: stored date: {e}", r.id)))?
                .ok_or_else(|| {
                    ServiceError::Failed(format!("student {} enrolled without a start date", r.id))
                })?;
            let c = course_of(r);
            let t = rules::term_of(start, c.term_months, c.terms, on).ok_or_else(|| {
                bad(format!(
                    "--on: {on} is after the course's last day ({}): record graduation instead",
                    rules::course_end(start, c.term_months, c.terms)
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                ))
            })?;
            term = Some(i64::from(t));
        }
        let seq = self.store.student_events(&r.id).await?.len() as i64 + 1;
        let at = mamori_store::now_string();
        Ok(Store::insert_student_event(&NewStudentEvent {
            id: &format!("{}-{seq}", r.id),
            student_id: &r.id,
            seq,
            from_stage: &r.stage,
            kind: kind.as_str(),
            on: &on.to_string(),
            term,
            start_on: start_on.as_deref(),
            course,
            recorded_by: &actor.login,
            at: &at,
        }))
    }

    /// `mamori student pay ID --item ITEM [--term N] --yen N --token TOKEN [--on DATE]`.
    pub async fn student_pay(&self, actor: &Actor, id: &str, p: NewPayment) -> Result<PaymentInfo> {
        let r = self.student_row(id).await?;
        self.student_gate(
            actor,
            Action::Register,
            "student.pay",
            Some(&r.principal_id),
        )
        .await?;
        let policy = self.policy();
        let refunds = refunds_of(&policy)?;
        if !refund::ITEMS.contains(&p.item.as_str())
            || !refunds.items.iter().any(|i| i.id == p.item)
        {
            let items: Vec<&str> = refunds
                .items
                .iter()
                .map(|i| i.id.as_str())
                .filter(|i| refund::ITEMS.contains(i))
                .collect();
            return Err(bad(format!(
                "--item: {:?} is not a fee item: use one of {}",
                p.item,
                items.join(", ")
            )));
        }
        let term = match (p.item.as_str(), p.term) {
            ("tuition", None) => {
                return Err(bad(
                    "--term: tuition is paid per term: give the term (1 for the first)",
                ));
            }
            ("tuition", Some(t)) if t == 0 || i64::from(t) > r.terms => {
                return Err(bad(format!(
                    "--term: {t} is not a term of the course: use 1 to {}",
                    r.terms
                )));
            }
            ("tuition", Some(t)) => Some(i64::from(t)),
            (_, Some(_)) => {
                return Err(bad(format!(
                    "--term: goes with tuition only, not {}",
                    p.item
                )));
            }
            (_, None) => None,
        };
        if p.yen <= 0 || p.yen > refund::MAX_YEN {
            return Err(bad(format!(
                "--yen: give the amount paid in whole yen, 1 to {}",
                refund::MAX_YEN
            )));
        }
        let token = values::check("payment_token", Validation::Token, &p.token)
            .map_err(|e| bad(format!("--token: {}", e.problem)))?;
        let paid_on = date_arg("--on", p.paid_on.as_deref())?.to_string();
        if let Some(rid) = &r.refund_id {
            return Err(bad(format!(
                "ID: student {}'s fees were settled by refund {rid}: no more payments are recorded",
                r.id
            )));
        }
        self.active_principal(&r.principal_id).await?;
        let pay_id = format!("pay_{}", random_hex(8));
        let dk = self.store.data_key(&r.principal_id).await?;
        let ct = seal_with(
            &dk,
            token.value.as_bytes(),
            &field_aad(&r.principal_id, &pay_id, "payment_token"),
        )?;
        let at = mamori_store::now_string();
        let stmts = Store::insert_payment(
            &pay_id,
            &r.id,
            &p.item,
            term,
            p.yen,
            &paid_on,
            ct,
            &actor.login,
            &at,
        );
        let mut draft = self.draft(
            actor,
            "student.pay",
            &r,
            serde_json::json!({"student": r.id, "payment": pay_id, "item": p.item, "term": term, "yen": p.yen}),
        );
        draft.categories = vec!["payment_token".into()];
        self.store.write(stmts, vec![draft]).await?;
        Ok(PaymentInfo {
            id: pay_id,
            item: p.item,
            term,
            yen: p.yen,
            paid_on,
            token_on_record: true,
            refund_id: None,
            refunded_yen: 0,
        })
    }

    /// `mamori student refund ID [--event EVENT]`: the case from the recorded payments and events,
    /// computed by the policy's refund rules and recorded against the payments.
    pub async fn student_refund(
        &self,
        actor: &Actor,
        id: &str,
        event: Option<&str>,
    ) -> Result<RefundInfo> {
        let r = self.student_row(id).await?;
        self.student_gate(
            actor,
            Action::Register,
            "student.refund",
            Some(&r.principal_id),
        )
        .await?;
        if let Some(rid) = &r.refund_id {
            return Err(bad(format!(
                "ID: student {} was refunded already (refund {rid}): `student statement {}` shows it",
                r.id, r.id
            )));
        }
        let stage = stage_of(&r)?;
        let due = stage.refund_event().ok_or_else(|| {
            bad(format!(
                "--event: student {} is at stage {}, which no refund rule covers: refunds follow coe_not_issued, visa_not_applied, visa_refused, declined (withdrew_before_arrival) or withdrawal_notice (withdrew_after_enrollment)",
                r.id, r.stage
            ))
        })?;
        if let Some(e) = event
            && e != due
        {
            return Err(bad(format!(
                "--event: {e:?} does not match the record: student {} is at stage {}, which is the situation of {due} (学費返還規定)",
                r.id, r.stage
            )));
        }
        let policy = self.policy();
        let refunds = refunds_of(&policy)?;
        let payments = self.store.student_payments(&r.id).await?;
        let case = case_of(&r, due, &payments);
        let result = refund::compute(&case, refunds).map_err(|e| bad(e.to_string()))?;
        let rule = refunds.rules.iter().find(|x| x.event == due);
        let name = |item: &str, ja: bool| {
            refunds
                .items
                .iter()
                .find(|i| i.id == item)
                .map(|i| if ja { i.ja.clone() } else { i.en.clone() })
                .unwrap_or_else(|| item.to_string())
        };
        let lines: Vec<RecordedLine> = result
            .lines
            .iter()
            .map(|l| RecordedLine {
                item: l.item.clone(),
                term: l.term,
                paid: l.paid,
                refund: l.refund,
                rule: l.rule.clone(),
                item_ja: name(&l.item, true),
                item_en: name(&l.item, false),
                rule_ja: rule.map(|x| x.ja.trim().to_string()).unwrap_or_default(),
                rule_en: rule.map(|x| x.en.trim().to_string()).unwrap_or_default(),
                why: l.why,
            })
            .collect();
        let shares = shares(&lines, &payments);
        let refund_id = format!("rf_{}", random_hex(8));
        let at = mamori_store::now_string();
        let row = RefundRow {
            id: refund_id.clone(),
            student_id: r.id.clone(),
            event: due.to_string(),
            refund_yen: result.refund,
            retained_yen: result.retained,
            lines: serde_json::to_string(&lines)
                .map_err(|e| ServiceError::Failed(format!("refund lines: {e}")))?,
            policy_version: self.policy_version(),
            computed_on: today_jst().to_string(),
            recorded_by: actor.login.clone(),
            recorded_at: at,
        };
        let draft = self.draft(
            actor,
            "student.refund",
            &r,
            serde_json::json!({"student": r.id, "refund": refund_id, "event": due, "refund_yen": result.refund, "retained_yen": result.retained}),
        );
        self.store
            .write(Store::insert_refund(&row, &shares), vec![draft])
            .await?;
        refund_info(&row)
    }

    /// `mamori student graduate ID [--to-alumni] [--on DATE]`: records graduation (after
    /// enrollment) and, with `to_alumni`, moves the principal to the alumni channel — only when
    /// every alumni purpose was notified, is related to one that was, or was consented to (APPI
    /// 17(2), 18(1)); otherwise nothing is recorded and the refusal says which consent is missing.
    pub async fn student_graduate(
        &self,
        actor: &Actor,
        id: &str,
        on: Option<&str>,
        to_alumni: bool,
    ) -> Result<Graduated> {
        let r = self.student_row(id).await?;
        self.student_gate(
            actor,
            Action::Register,
            "student.graduate",
            Some(&r.principal_id),
        )
        .await?;
        let stage = stage_of(&r)?;
        let mut stmts = Vec::new();
        if stage != Stage::Graduated {
            stmts = self
                .event_stmts(
                    actor,
                    &r,
                    Stage::Graduated,
                    &NewEvent {
                        kind: "graduated".into(),
                        on: on.map(str::to_string),
                        ..Default::default()
                    },
                )
                .await?;
        } else if !to_alumni {
            return Err(bad(format!(
                "ID: student {} graduated already: add --to-alumni to move them to the alumni list",
                r.id
            )));
        }
        let principal = self.active_principal(&r.principal_id).await?;
        let mut channel = principal.channel.clone();
        let mut moved = false;
        if to_alumni && principal.channel != ALUMNI {
            let policy = self.policy();
            let target = policy.channel(ALUMNI).ok_or_else(|| {
                bad("--to-alumni: the policy has no alumni channel: add [[channels]] id = \"alumni\"")
            })?;
            let notified = self.notified_channel(&principal)?.purposes;
            let consented: Vec<String> = self
                .store
                .consents(&principal.id)
                .await?
                .into_iter()
                .filter(|c| c.withdrawn_at.is_none())
                .filter_map(|c| c.purpose)
                .collect();
            if let Err(need) =
                rules::channel_move(&policy, &principal.channel, &notified, target, &consented)
            {
                let reason = need
                    .to_string()
                    .replace("consent give ID", &format!("consent give {}", principal.id));
                self.store
                    .audit(vec![AuditDraft {
                        actor: actor.login.clone(),
                        action: "student.graduate".into(),
                        principal_id: Some(principal.id.clone()),
                        purpose: need.purposes.first().cloned(),
                        decision: "deny".into(),
                        reason: Some(reason.clone()),
                        detail: serde_json::json!({"student": r.id, "to": ALUMNI}),
                        ..Default::default()
                    }])
                    .await?;
                return Err(ServiceError::Denied(reason));
            }
            stmts.push(Store::move_principal_channel(
                self.store.keys(),
                &principal,
                ALUMNI,
                &self.policy_version(),
            ));
            channel = ALUMNI.to_string();
            moved = true;
        }
        let draft = self.draft(
            actor,
            "student.graduate",
            &r,
            serde_json::json!({"student": r.id, "from": principal.channel, "to": channel, "moved": moved}),
        );
        self.store.write(stmts, vec![draft]).await?;
        Ok(Graduated {
            id: r.id,
            principal_id: principal.id,
            stage: "graduated".into(),
            channel,
            moved_to_alumni: moved,
        })
    }

    async fn student_info(&self, id: &str) -> Result<StudentInfo> {
        let r = self.student_row(id).await?;
        let stage = stage_of(&r)?;
        let channel = self
            .store
            .principal(&r.principal_id)
            .await?
            .map(|p| p.channel)
            .unwrap_or_default();
        let events = self
            .store
            .student_events(&r.id)
            .await?
            .into_iter()
            .map(|e| EventInfo {
                seq: e.seq,
                kind: e.kind,
                on: e.on_date,
                term: e.term,
                recorded_by: e.recorded_by,
            })
            .collect();
        let payments: Vec<PaymentInfo> = self
            .store
            .student_payments(&r.id)
            .await?
            .iter()
            .map(payment_info)
            .collect();
        let refund = match self.store.student_refund(&r.id).await? {
            Some(x) => Some(refund_info(&x)?),
            None => None,
        };
        let course = course_of(&r);
        let course_end = r
            .start_on
            .as_deref()
            .and_then(|s| mamori_policy::parse_ymd(s).ok())
            .and_then(|s| rules::course_end(s, course.term_months, course.terms))
            .map(|d| d.to_string());
        Ok(StudentInfo {
            paid_yen: payments.iter().map(|p| p.yen).sum(),
            next: if r.refund_id.is_some() {
                Vec::new()
            } else {
                stage.next().iter().map(|s| s.as_str()).collect()
            },
            refund_event: stage.refund_event(),
            id: r.id,
            principal_id: r.principal_id,
            channel,
            stage: r.stage,
            stage_on: r.stage_on,
            course,
            start_on: r.start_on,
            course_end,
            withdrawal_notice_term: r.notice_term,
            events,
            payments,
            refund,
        })
    }

    /// `mamori student show ID`: the record, its events, payments (never the tokens) and refund.
    pub async fn student_show(&self, actor: &Actor, id: &str) -> Result<StudentInfo> {
        let r = self.student_row(id).await?;
        self.student_gate(actor, Action::Read, "student.show", Some(&r.principal_id))
            .await?;
        let info = self.student_info(id).await?;
        self.store
            .audit(vec![AuditDraft {
                decision: "allow".into(),
                ..self.draft(
                    actor,
                    "student.show",
                    &r,
                    serde_json::json!({"student": r.id}),
                )
            }])
            .await?;
        Ok(info)
    }

    /// `mamori student list`: every student record, oldest first.
    pub async fn student_list(&self, actor: &Actor) -> Result<Vec<StudentSummary>> {
        self.student_gate(actor, Action::Read, "student.list", None)
            .await?;
        let list: Vec<StudentSummary> = self
            .store
            .students(None)
            .await?
            .iter()
            .map(summary)
            .collect();
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "student.list".into(),
                purpose: Some(PURPOSE.into()),
                decision: "allow".into(),
                detail: serde_json::json!({"count": list.len()}),
                ..Default::default()
            }])
            .await?;
        Ok(list)
    }

    /// `mamori student statement ID [--lang ja|en]`: the refund statement for the student,
    /// printable HTML: every line with the clause of the refund rules that decided it.
    pub async fn student_statement(&self, actor: &Actor, id: &str, lang: Lang) -> Result<String> {
        let r = self.student_row(id).await?;
        self.student_gate(
            actor,
            Action::Read,
            "student.statement",
            Some(&r.principal_id),
        )
        .await?;
        let refund = self.store.student_refund(&r.id).await?.ok_or_else(|| {
            bad(format!(
                "ID: student {} has no refund yet: `student refund {} --as LOGIN` computes and records it",
                r.id, r.id
            ))
        })?;
        let info = refund_info(&refund)?;
        self.store
            .audit(vec![AuditDraft {
                decision: "allow".into(),
                ..self.draft(
                    actor,
                    "student.statement",
                    &r,
                    serde_json::json!({"student": r.id, "refund": refund.id}),
                )
            }])
            .await?;
        Ok(statement_html(&self.policy(), lang, &r, &info))
    }
}

fn refund_info(row: &RefundRow) -> Result<RefundInfo> {
    let lines: Vec<RecordedLine> = serde_json::from_str(&row.lines)
        .map_err(|e| ServiceError::Failed(format!("refund {}: stored lines: {e}", row.id)))?;
    Ok(RefundInfo {
        id: row.id.clone(),
        student_id: row.student_id.clone(),
        event: row.event.clone(),
        refund: row.refund_yen,
        retained: row.retained_yen,
        lines,
        policy_version: row.policy_version.clone(),
        computed_on: row.computed_on.clone(),
        recorded_by: row.recorded_by.clone(),
        out: None,
    })
}

/// The refund statement (学費返還明細書): printable, in the student's language.
pub fn statement_html(policy: &Policy, lang: Lang, r: &StudentRow, info: &RefundInfo) -> String {
    let ja = lang == Lang::Ja;
    let t = |j: &'static str, e: &'static str| if ja { j } else { e };
    let mut rows = String::new();
    for l in &info.lines {
        let item = if ja { &l.item_ja } else { &l.item_en };
        let term = match l.term {
            Some(n) if ja => format!("第{n}学期"),
            Some(n) => format!("term {n}"),
            None => String::new(),
        };
        let clause = if ja { &l.rule_ja } else { &l.rule_en };
        let why = l.why.map(|w| w.text(ja)).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"yen\">{}</td><td class=\"yen\">{}</td><td class=\"rule\">{}<br>{}</td></tr>\n",
            escape_html(item),
            escape_html(&term),
            fmt_yen(l.paid, ja),
            fmt_yen(l.refund, ja),
            escape_html(&why),
            escape_html(&format!("{}「{}」", t("学費返還規定", "Refund rules:"), clause)),
        ));
    }
    let paid: i64 = info.lines.iter().map(|l| l.paid).sum();
    let org = &policy.organization;
    let l = if ja { "ja" } else { "en" };
    format!(
        "<!doctype html>\n<html lang=\"{l}\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STATEMENT_CSS}</style></head><body>\n<p class=\"meta\">{rid}<br>{date}</p>\n<h1>{title}</h1>\n<p>{org_name}</p>\n<table><tr><th scope=\"row\">{h_student}</th><td>{sid}</td></tr><tr><th scope=\"row\">{h_principal}</th><td>{pid}</td></tr><tr><th scope=\"row\">{h_event}</th><td>{event}</td></tr><tr><th scope=\"row\">{h_clause}</th><td>{clause}</td></tr></table>\n<table><tr><th scope=\"col\">{h_item}</th><th scope=\"col\">{h_term}</th><th scope=\"col\" class=\"yen\">{h_paid}</th><th scope=\"col\" class=\"yen\">{h_refund}</th><th scope=\"col\">{h_rule}</th></tr>\n{rows}<tr><th scope=\"row\" colspan=\"2\">{h_total}</th><td class=\"yen\">{paid}</td><td class=\"yen\">{refund}</td><td>{h_retained} {retained}</td></tr></table>\n<p class=\"rule\">{rounding}</p>\n<p class=\"from\">{org_name}<br>{contact}</p>\n</body></html>\n",
        title = t("学費返還明細書", "Refund statement"),
        rid = escape_html(&info.id),
        date = escape_html(&info.computed_on),
        org_name = escape_html(org.name.get(lang)),
        h_student = t("学籍番号", "Student record"),
        sid = escape_html(&r.id),
        h_principal = t("本人番号", "Principal"),
        pid = escape_html(&r.principal_id),
        h_event = t("事由", "Situation"),
        event = escape_html(&info.event),
        h_clause = t("適用規定", "Rule applied"),
        clause = escape_html(
            info.lines
                .first()
                .map(|x| if ja {
                    x.rule_ja.as_str()
                } else {
                    x.rule_en.as_str()
                })
                .unwrap_or("")
        ),
        h_item = t("費目", "Item"),
        h_term = t("学期", "Term"),
        h_paid = t("納付額", "Paid"),
        h_refund = t("返還額", "Refund"),
        h_rule = t("根拠", "Rule"),
        h_total = t("合計", "Total"),
        paid = fmt_yen(paid, ja),
        refund = fmt_yen(info.refund, ja),
        h_retained = t("返還しない額", "Retained"),
        retained = fmt_yen(info.retained, ja),
        rounding = t(
            "月割りの返還額は円未満を切り捨て、端数は本学が収受します。",
            "Pro-rata refunds are rounded down to the yen; the School keeps the remainder."
        ),
        contact = escape_html(org.contact_window.get(lang)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_are_grouped_by_thousands() {
        assert_eq!(fmt_yen(0, true), "0円");
        assert_eq!(fmt_yen(210_000, true), "210,000円");
        assert_eq!(fmt_yen(1_234_567, false), "¥1,234,567");
        assert_eq!(fmt_yen(999, false), "¥999");
    }
}
