//! `/console/students`: the school's student records (seed 003 学費返還規定; tokyo-one), the
//! same use cases as `mamori student …` and `mamori refund compute`
//! ([`mamori_service::student`]).
//!
//! - Open a student record for a principal (the application), record each event of the life
//!   cycle the service offers next (certificate of eligibility, visa, arrival, enrollment,
//!   withdrawal notice…), record fee payments with the payment processor's token (never a card
//!   number, seed 000 Art. 7-1).
//! - When the stage leads to a refund rule, the page shows the refund computed by the policy's
//!   `[refunds]` rules, line by line with the clause that decided it, before it is recorded;
//!   then the refund statement (学費返還明細書) opens for printing.
//! - Graduation, optionally moving the principal to the alumni channel — only with consent for
//!   the new purposes (APPI 17(2), 18(1); seed 003 Arts. 8(2), 9(1)), refused with the rule.
//!
//! Access is the service's: `register`/`read` and the purpose `fee_management`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use mamori_policy::Lang;
use mamori_service::ServiceError;
use mamori_service::student::{NewEvent, NewPayment, OpenStudent, StudentInfo, refund_compute};
use serde::Deserialize;

use super::{Choice, Fields, Staff, checked, ctx, field, opt, page, safe_id};
use crate::AppState;
use crate::pages::{Ctx, LangQuery, document, error_page, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/students", get(students).post(student_open))
        .route("/console/students/{id}", get(student_page))
        .route("/console/students/{id}/statement", get(statement))
        .route("/console/students/{id}/{step}", post(student_step))
}

/// A stage or event of the life cycle in words (the ids are the service's).
fn stage_text(id: &str, ja: bool) -> String {
    let (j, e) = match id {
        "applied" => ("出願", "applied"),
        "coe_applied" => (
            "在留資格認定証明書を申請",
            "certificate of eligibility applied for",
        ),
        "coe_issued" => (
            "在留資格認定証明書が交付",
            "certificate of eligibility issued",
        ),
        "coe_not_issued" => (
            "在留資格認定証明書が不交付",
            "certificate of eligibility not issued",
        ),
        "visa_applied" => ("ビザを申請", "visa applied for"),
        "visa_issued" => ("ビザが発給", "visa issued"),
        "visa_refused" => ("ビザが不交付", "visa refused"),
        "visa_not_applied" => ("ビザを申請せず", "no visa applied for"),
        "arrived" => ("来日", "arrived in Japan"),
        "declined" => ("来日前に入学を辞退", "declined before arrival"),
        "enrolled" => ("入学", "enrolled"),
        "withdrawal_notice" => ("退学届を提出", "withdrawal notice submitted"),
        "graduated" => ("卒業", "graduated"),
        other => return other.to_string(),
    };
    format!("{} ({id})", if ja { j } else { e })
}

/// Yen grouped by thousands, as on the statement.
fn yen(n: i64, ja: bool) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    let sign = if n < 0 { "-" } else { "" };
    if ja {
        format!("{sign}{out}円")
    } else {
        format!("{sign}¥{out}")
    }
}

// ---- the list and opening a record ---------------------------------------------------------

struct StudentRow {
    id: String,
    principal: String,
    stage: String,
    stage_on: String,
    course: String,
    refunded: bool,
}

#[derive(askama::Template)]
#[template(path = "console_students.html")]
struct StudentsPage {
    c: Ctx,
    rows: Vec<StudentRow>,
    principal: String,
    today: String,
}

#[derive(Debug, Deserialize, Default)]
struct StudentsQuery {
    #[serde(default)]
    lang: Option<String>,
    /// Prefill the form (from a principal's page): an id, never a personal value.
    #[serde(default)]
    principal: Option<String>,
}

async fn students(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<StudentsQuery>,
) -> Response {
    let lq = LangQuery {
        lang: q.lang.clone(),
    };
    let (c, set) = ctx(&s, &headers, "/console/students", &lq, Some(&st));
    let list = match s.mamori.student_list(&st.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let rows = list
        .into_iter()
        .rev()
        .map(|x| StudentRow {
            stage: stage_text(&x.stage, c.ja),
            course: format!("{} × {}", x.terms, x.term_months),
            refunded: x.refund_id.is_some(),
            id: x.id,
            principal: x.principal_id,
            stage_on: x.stage_on,
        })
        .collect();
    let p = StudentsPage {
        rows,
        principal: q.principal.as_deref().map(safe_id).unwrap_or_default(),
        today: mamori_service::today_jst().to_string(),
        c,
    };
    page(StatusCode::OK, &p, set)
}

/// A whole number from a form field; the error names the field and never echoes the text.
fn number<T: std::str::FromStr>(
    f: &Fields,
    k: &str,
    what: &str,
) -> Result<Option<T>, ServiceError> {
    match opt(f, k) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| ServiceError::BadInput(format!("{k}: give {what}"))),
    }
}

fn required<T>(v: Option<T>, k: &str, what: &str) -> Result<T, ServiceError> {
    v.ok_or_else(|| ServiceError::BadInput(format!("{k}: give {what}")))
}

async fn student_open(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/students", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/students") {
        return r;
    }
    let course = (|| {
        let tm = number::<u32>(&f, "term_months", "the length of a term in months (e.g. 6)")?;
        let terms = number::<u32>(&f, "terms", "the number of terms (e.g. 4)")?;
        Ok::<_, ServiceError>((
            required(tm, "term_months", "the length of a term in months (e.g. 6)")?,
            required(terms, "terms", "the number of terms (e.g. 4)")?,
        ))
    })();
    let (term_months, terms) = match course {
        Ok(x) => x,
        Err(e) => return error_page(&c, &e, "/console/students"),
    };
    let o = OpenStudent {
        principal_id: field(&f, "principal").to_string(),
        term_months,
        terms,
        applied_on: opt(&f, "on"),
    };
    match s.mamori.student_open(&st.actor, o).await {
        Ok(i) => see_other(&format!("/console/students/{}", i.id)),
        Err(e) => error_page(&c, &e, "/console/students"),
    }
}

// ---- one student ---------------------------------------------------------------------------

struct EventRow {
    on: String,
    kind: String,
    term: String,
    recorded_by: String,
}

struct PaymentRow {
    item: String,
    term: String,
    yen: String,
    paid_on: String,
    token: bool,
    refunded: String,
}

/// A refund line as shown: the item (and term), paid, refund, and the clause that decided it.
struct LineRow {
    item: String,
    term: String,
    paid: String,
    refund: String,
    rule: String,
}

#[derive(askama::Template)]
#[template(path = "console_student.html")]
struct StudentPage {
    c: Ctx,
    id: String,
    principal: String,
    channel: String,
    stage: String,
    stage_on: String,
    course: String,
    start_on: String,
    course_end: String,
    notice_term: String,
    paid: String,
    events: Vec<EventRow>,
    payments: Vec<PaymentRow>,
    /// The events the service allows next (graduation has its own form).
    next: Vec<Choice>,
    may_graduate: bool,
    items: Vec<Choice>,
    /// The refund rule the stage leads to (学費返還規定), and the computation before recording.
    refund_event: String,
    preview: Vec<LineRow>,
    preview_total: String,
    preview_retained: String,
    preview_problem: String,
    /// The refund as recorded.
    refund_id: String,
    refund: Vec<LineRow>,
    refund_total: String,
    refund_retained: String,
    today: String,
}

/// The case of `refund compute` for this record: what was paid per item (tuition per term),
/// the course and the term of the withdrawal notice — the shape of DESIGN.md.
fn case_of(i: &StudentInfo, event: &str) -> serde_json::Value {
    let mut paid = serde_json::Map::new();
    let mut tuition: Vec<i64> = Vec::new();
    // As the service builds the case when it records the refund: the four fee items, tuition
    // by its term (1-based).
    for p in &i.payments {
        match (p.item.as_str(), p.term) {
            ("tuition", Some(t)) => {
                let t = usize::try_from(t.max(1) - 1).unwrap_or(0);
                if tuition.len() <= t {
                    tuition.resize(t + 1, 0);
                }
                if let Some(slot) = tuition.get_mut(t) {
                    *slot += p.yen;
                }
            }
            (item @ ("screening_fee" | "admission_fee" | "other_fees"), _) => {
                let sum = paid
                    .get(item)
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0);
                paid.insert(item.to_string(), (sum + p.yen).into());
            }
            _ => {}
        }
    }
    paid.insert("tuition".into(), tuition.into());
    let mut case = serde_json::json!({
        "event": event,
        "course": {"term_months": i.course.term_months, "terms": i.course.terms},
        "paid": paid,
    });
    if let (Some(t), Some(obj)) = (i.withdrawal_notice_term, case.as_object_mut()) {
        obj.insert("withdrawal_notice_term".into(), t.into());
    }
    case
}

fn term_text(t: Option<i64>, ja: bool) -> String {
    match t {
        Some(n) if ja => format!("第{n}学期"),
        Some(n) => format!("term {n}"),
        None => String::new(),
    }
}

async fn student_page(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/students/{id}");
    let (c, set) = ctx(&s, &headers, &back, &q, Some(&st));
    let i = match s.mamori.student_show(&st.actor, &id).await {
        Ok(i) => i,
        Err(e) => return error_page(&c, &e, "/console/students"),
    };
    let ja = c.ja;
    let policy = s.mamori.policy();
    let refunds = policy.refunds.as_ref();
    let item_name = |item: &str| {
        refunds
            .and_then(|r| r.items.iter().find(|x| x.id == item))
            .map_or(item.to_string(), |x| {
                if ja { x.ja.clone() } else { x.en.clone() }
            })
    };
    let items = refunds
        .map(|r| {
            r.items
                .iter()
                .map(|x| Choice {
                    value: x.id.clone(),
                    text: if ja { x.ja.clone() } else { x.en.clone() },
                })
                .collect()
        })
        .unwrap_or_default();
    let (mut preview, mut preview_total, mut preview_retained, mut preview_problem) =
        (Vec::new(), String::new(), String::new(), String::new());
    if let (Some(ev), None) = (i.refund_event, &i.refund) {
        match refund_compute(&policy, &case_of(&i, ev)) {
            Ok(r) => {
                preview = r
                    .lines
                    .iter()
                    .map(|l| LineRow {
                        item: item_name(&l.item),
                        term: term_text(l.term.map(i64::from), ja),
                        paid: yen(l.paid, ja),
                        refund: yen(l.refund, ja),
                        rule: l.rule.clone(),
                    })
                    .collect();
                preview_total = yen(r.refund, ja);
                preview_retained = yen(r.retained, ja);
            }
            Err(e) => preview_problem = e.to_string(),
        }
    }
    let (mut refund, mut refund_total, mut refund_retained, mut refund_id) =
        (Vec::new(), String::new(), String::new(), String::new());
    if let Some(r) = &i.refund {
        refund = r
            .lines
            .iter()
            .map(|l| LineRow {
                item: if ja {
                    l.item_ja.clone()
                } else {
                    l.item_en.clone()
                },
                term: term_text(l.term.map(i64::from), ja),
                paid: yen(l.paid, ja),
                refund: yen(l.refund, ja),
                rule: format!(
                    "{}「{}」",
                    c.t("学費返還規定", "Refund rules:"),
                    if ja { &l.rule_ja } else { &l.rule_en }
                ),
            })
            .collect();
        refund_total = yen(r.refund, ja);
        refund_retained = yen(r.retained, ja);
        refund_id = r.id.clone();
    }
    let p = StudentPage {
        id: i.id.clone(),
        principal: i.principal_id.clone(),
        channel: i.channel.clone(),
        stage: stage_text(&i.stage, ja),
        stage_on: i.stage_on.clone(),
        course: format!(
            "{} × {}{}",
            i.course.terms,
            i.course.term_months,
            c.t("か月", " months")
        ),
        start_on: i.start_on.clone().unwrap_or_default(),
        course_end: i.course_end.clone().unwrap_or_default(),
        notice_term: term_text(i.withdrawal_notice_term, ja),
        paid: yen(i.paid_yen, ja),
        events: i
            .events
            .iter()
            .map(|e| EventRow {
                on: e.on.clone(),
                kind: stage_text(&e.kind, ja),
                term: term_text(e.term, ja),
                recorded_by: e.recorded_by.clone(),
            })
            .collect(),
        payments: i
            .payments
            .iter()
            .map(|p| PaymentRow {
                item: item_name(&p.item),
                term: term_text(p.term, ja),
                yen: yen(p.yen, ja),
                paid_on: p.paid_on.clone(),
                token: p.token_on_record,
                refunded: if p.refund_id.is_some() {
                    yen(p.refunded_yen, ja)
                } else {
                    String::new()
                },
            })
            .collect(),
        next: i
            .next
            .iter()
            .filter(|k| **k != "graduated")
            .map(|k| Choice {
                value: (*k).to_string(),
                text: stage_text(k, ja),
            })
            .collect(),
        may_graduate: i.next.contains(&"graduated") || i.stage == "graduated",
        items,
        refund_event: i.refund_event.unwrap_or("").to_string(),
        preview,
        preview_total,
        preview_retained,
        preview_problem,
        refund_id,
        refund,
        refund_total,
        refund_retained,
        today: mamori_service::today_jst().to_string(),
        c,
    };
    page(StatusCode::OK, &p, set)
}

/// `event`, `pay`, `refund`, `graduate`: each the service's use case, then back to the page.
async fn student_step(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path((id, step)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/students/{id}");
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let a = &st.actor;
    let m = &s.mamori;
    let done: Result<(), ServiceError> = match step.as_str() {
        "event" => {
            let course = (|| {
                Ok::<_, ServiceError>((
                    number::<u32>(&f, "term_months", "the length of a term in months (e.g. 6)")?,
                    number::<u32>(&f, "terms", "the number of terms (e.g. 4)")?,
                ))
            })();
            match course {
                Ok((term_months, terms)) => m
                    .student_event(
                        a,
                        &id,
                        NewEvent {
                            kind: field(&f, "kind").to_string(),
                            on: opt(&f, "on"),
                            term_months,
                            terms,
                        },
                    )
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            }
        }
        "pay" => {
            let amounts = (|| {
                let yen = number::<i64>(&f, "yen", "the amount paid in yen, a whole number")?;
                Ok::<_, ServiceError>((
                    required(yen, "yen", "the amount paid in yen, a whole number")?,
                    number::<u32>(&f, "term", "the term paid for, from 1 (tuition only)")?,
                ))
            })();
            match amounts {
                Ok((yen, term)) => m
                    .student_pay(
                        a,
                        &id,
                        NewPayment {
                            item: field(&f, "item").to_string(),
                            term,
                            yen,
                            token: field(&f, "token").to_string(),
                            paid_on: opt(&f, "on"),
                        },
                    )
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            }
        }
        "refund" => m
            .student_refund(a, &id, opt(&f, "event").as_deref())
            .await
            .map(|_| ()),
        "graduate" => m
            .student_graduate(
                a,
                &id,
                opt(&f, "on").as_deref(),
                field(&f, "to_alumni") == "1",
            )
            .await
            .map(|_| ()),
        _ => Err(ServiceError::NotFound(
            "step: use event, pay, refund or graduate".into(),
        )),
    };
    match done {
        Ok(()) => see_other(&back),
        Err(e) => error_page(&c, &e, &back),
    }
}

/// The refund statement (学費返還明細書) as the service prints it (print styles included).
async fn statement(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/students/{id}");
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    let lang = if c.ja { Lang::Ja } else { Lang::En };
    match s.mamori.student_statement(&st.actor, &id, lang).await {
        Ok(html) => document(html),
        Err(e) => error_page(&c, &e, &back),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_are_grouped_by_thousands_as_on_the_statement() {
        assert_eq!(yen(420_000, true), "420,000円");
        assert_eq!(yen(1_234_567, false), "¥1,234,567");
        assert_eq!(yen(999, false), "¥999");
        assert_eq!(yen(0, true), "0円");
    }

    #[test]
    fn stages_are_named_in_words_with_their_id() {
        assert_eq!(
            stage_text("withdrawal_notice", true),
            "退学届を提出 (withdrawal_notice)"
        );
        assert_eq!(stage_text("unknown", false), "unknown");
    }
}
