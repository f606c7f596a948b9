//! The manager's oversight pages: the committee, violation reports, the review of accesses
//! under statutory exceptions, and the periodic review of contractors and recipients abroad —
//! the same use cases as `mamori committee|violation|review|recipient review`
//! ([`mamori_service::governance`], [`mamori_service::provision`]).
//!
//! - `/console/committee` (seed 003 Art. 22): the manager convenes and chairs; a meeting is
//!   recorded with its date, members and minutes (stored sealed) and decisions; the list shows
//!   dates and members, the minutes open for the manager and the members who may read personal
//!   values (the auditor is refused with the rule, Art. 5(3)).
//! - `/console/violations` (seed 003 Art. 7(2)): any staff member reports; the text and the
//!   reporter are sealed; only the manager lists and closes reports.
//! - `/console/reviews` (seed 000 Art. 4; seed 003 Art. 17): accesses under a statutory
//!   exception with their written reasons, for the manager to review and mark done.
//! - `/console/recipients` (seed 003 Art. 18; APPI 28(3)): each recipient's contract and review
//!   state; record a contractor's contract review (with the clauses on record) or the check of a
//!   foreign recipient's equivalent measures.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use mamori_policy::{Action, ContractClause};
use serde::Deserialize;

use super::{Fields, Staff, checked, ctx, field, opt, page, safe_id};
use crate::AppState;
use crate::pages::{Ctx, LangQuery, error_page, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/committee", get(committee).post(meeting_record))
        .route("/console/committee/{id}", get(meeting_page))
        .route(
            "/console/violations",
            get(violations).post(violation_report),
        )
        .route("/console/violations/{id}/close", post(violation_close))
        .route("/console/reviews", get(reviews))
        .route("/console/reviews/{id}/done", post(review_done))
        .route("/console/recipients", get(recipients))
        .route("/console/recipients/{id}/review", post(recipient_review))
}

/// Logins typed with commas, spaces or new lines.
fn logins(v: &str) -> Vec<String> {
    v.split([',', ' ', '\n', '\r', '、'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

// ---- the committee ---------------------------------------------------------------------------

struct MeetingRow {
    id: String,
    date: String,
    chair: String,
    members: String,
    decisions: i64,
}

#[derive(askama::Template)]
#[template(path = "console_committee.html")]
struct CommitteePage {
    c: Ctx,
    rows: Vec<MeetingRow>,
    today: String,
}

async fn committee(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/committee", &q, Some(&st));
    let list = match s.mamori.committee_list(&st.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let p = CommitteePage {
        rows: list
            .into_iter()
            .rev()
            .map(|m| MeetingRow {
                id: m.id,
                date: m.date,
                chair: m.chair,
                members: m.members.join(", "),
                decisions: m.decisions,
            })
            .collect(),
        today: mamori_service::today_jst().to_string(),
        c,
    };
    page(StatusCode::OK, &p, set)
}

async fn meeting_record(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/committee", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/committee") {
        return r;
    }
    // One decision a line.
    let decisions: Vec<String> = field(&f, "decisions")
        .lines()
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    let minutes = f.get("minutes").map_or("", |v| v.trim());
    match s
        .mamori
        .committee_meeting(
            &st.actor,
            field(&f, "date"),
            &logins(field(&f, "members")),
            minutes,
            &decisions,
        )
        .await
    {
        Ok(m) => see_other(&format!("/console/committee/{}", m.id)),
        Err(e) => error_page(&c, &e, "/console/committee"),
    }
}

#[derive(askama::Template)]
#[template(path = "console_meeting.html")]
struct MeetingPage {
    c: Ctx,
    id: String,
    date: String,
    chair: String,
    members: String,
    minutes: String,
    decisions: Vec<String>,
}

async fn meeting_page(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let (c, set) = ctx(
        &s,
        &headers,
        &format!("/console/committee/{id}"),
        &q,
        Some(&st),
    );
    match s.mamori.committee_show(&st.actor, &id).await {
        Ok(m) => {
            let p = MeetingPage {
                c,
                id: m.id,
                date: m.date,
                chair: m.chair,
                members: m.members.join(", "),
                minutes: m.minutes,
                decisions: m.decisions,
            };
            page(StatusCode::OK, &p, set)
        }
        Err(e) => error_page(&c, &e, "/console/committee"),
    }
}

// ---- violation reports -----------------------------------------------------------------------

struct ViolationRow {
    id: String,
    reported_at: String,
    reporter: String,
    text: String,
    status: String,
    closed: String,
    result: String,
}

#[derive(askama::Template)]
#[template(path = "console_violations.html")]
struct ViolationsPage {
    c: Ctx,
    /// The manager: the reports (for anyone else, only the form).
    manager: bool,
    rows: Vec<ViolationRow>,
    reported: String,
}

/// Whether the role may read the reports, as the service decides it (`governance` with `read`:
/// the manager). Other roles are not asked, so that opening the form is no denial on the log.
fn reads_reports(st: &Staff) -> bool {
    st.may(Action::Governance) && st.may(Action::Read)
}

async fn violations_page(
    s: &AppState,
    st: &Staff,
    c: Ctx,
    set: Option<String>,
    reported: String,
) -> Response {
    let manager = reads_reports(st);
    let mut rows = Vec::new();
    if manager {
        match s.mamori.violation_list(&st.actor, false).await {
            Ok(list) => {
                rows = list
                    .into_iter()
                    .rev()
                    .map(|v| ViolationRow {
                        id: v.id,
                        reported_at: v.reported_at,
                        reporter: v.reporter,
                        text: v.text,
                        status: v.status,
                        closed: v.closed_at.unwrap_or_default(),
                        result: v.result.unwrap_or_default(),
                    })
                    .collect();
            }
            Err(e) => return error_page(&c, &e, "/console"),
        }
    }
    let p = ViolationsPage {
        c,
        manager,
        rows,
        reported,
    };
    page(StatusCode::OK, &p, set)
}

async fn violations(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/violations", &q, Some(&st));
    violations_page(&s, &st, c, set, String::new()).await
}

async fn violation_report(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/violations", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/violations") {
        return r;
    }
    let text = f.get("text").map_or("", |v| v.trim());
    match s.mamori.violation_report(&st.actor, text).await {
        Ok(r) => violations_page(&s, &st, c, set, r.id).await,
        Err(e) => error_page(&c, &e, "/console/violations"),
    }
}

async fn violation_close(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/violations", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/violations") {
        return r;
    }
    let result = f.get("result").map_or("", |v| v.trim());
    match s
        .mamori
        .violation_close(&st.actor, &safe_id(&id), result)
        .await
    {
        Ok(_) => see_other("/console/violations"),
        Err(e) => error_page(&c, &e, "/console/violations"),
    }
}

// ---- accesses under statutory exceptions -------------------------------------------------------

struct ReviewRow {
    id: String,
    at: String,
    staff: String,
    principal: String,
    kind: String,
    purpose: String,
    reason: String,
    reviewed: String,
}

#[derive(askama::Template)]
#[template(path = "console_reviews.html")]
struct ReviewsPage {
    c: Ctx,
    rows: Vec<ReviewRow>,
    all: bool,
}

#[derive(Debug, Deserialize, Default)]
struct ReviewsQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    all: Option<String>,
}

async fn reviews(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<ReviewsQuery>,
) -> Response {
    let lq = LangQuery {
        lang: q.lang.clone(),
    };
    let (c, set) = ctx(&s, &headers, "/console/reviews", &lq, Some(&st));
    let all = q.all.as_deref() == Some("1");
    let list = match s.mamori.exception_reviews(&st.actor, all).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let p = ReviewsPage {
        rows: list
            .into_iter()
            .rev()
            .map(|r| ReviewRow {
                // What the entry rests on (issue 20): an exception's written reason, a fulfilled
                // request's identity check and evidence, a staff-account change's detail.
                reason: match (&r.request_id, &r.account) {
                    (Some(req), _) => format!(
                        "{} {req}: {} — {} ({})",
                        c.t("請求", "request"),
                        r.verify_method.clone().unwrap_or_default(),
                        r.evidence.clone().unwrap_or_default(),
                        r.verified_by.clone().unwrap_or_default(),
                    ),
                    (None, Some(acc)) => format!(
                        "{} {acc} {}",
                        c.t("職員アカウント", "staff account"),
                        r.detail
                            .as_ref()
                            .and_then(|d| d.get("role").or_else(|| d.get("to")))
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                    ),
                    (None, None) => r.reason.clone().unwrap_or_default(),
                },
                id: r.id,
                at: r.at,
                staff: r.staff,
                principal: r.principal_id,
                kind: r.kind,
                purpose: r.purpose,
                reviewed: match (r.reviewed_by, r.reviewed_at) {
                    (Some(by), Some(at)) => format!("{at} ({by})"),
                    _ => String::new(),
                },
            })
            .collect(),
        all,
        c,
    };
    page(StatusCode::OK, &p, set)
}

async fn review_done(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/reviews", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/reviews") {
        return r;
    }
    match s
        .mamori
        .exception_review_done(&st.actor, &safe_id(&id))
        .await
    {
        Ok(_) => see_other("/console/reviews"),
        Err(e) => error_page(&c, &e, "/console/reviews"),
    }
}

// ---- contractors and recipients abroad -------------------------------------------------------

struct RecipientRow {
    id: String,
    name: String,
    kind: String,
    country: String,
    clauses: String,
    missing: String,
    contract_due: String,
    measures_due: String,
    blocked: String,
    /// A contractor (a contract to review) and/or a recipient abroad on equivalent measures.
    contract: bool,
    measures: bool,
    /// The clause boxes of the review form, ticked for the clauses on record.
    boxes: Vec<(String, String, bool)>,
}

#[derive(askama::Template)]
#[template(path = "console_recipients.html")]
struct RecipientsPage {
    c: Ctx,
    rows: Vec<RecipientRow>,
    may_review: bool,
    today: String,
}

/// The six clauses of a contract with a contractor (seed 003 Art. 18(2)).
fn clause_text(c: ContractClause, ja: bool) -> String {
    let (j, e) = match c {
        ContractClause::Confidentiality => ("秘密保持等の義務", "confidentiality"),
        ContractClause::Subcontracting => ("再委託の制限又は条件", "subcontracting"),
        ContractClause::CopyRestriction => ("複製等の制限", "copy restriction"),
        ContractClause::IncidentResponse => ("漏えい等の発生時の対応", "incident response"),
        ContractClause::ReturnAndErasure => (
            "委託終了時の消去及び媒体の返却",
            "erasure and return at the end",
        ),
        ContractClause::Termination => ("違反時の契約解除等", "termination on breach"),
    };
    format!("{} ({})", if ja { j } else { e }, c.as_str())
}

async fn recipients(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/recipients", &q, Some(&st));
    let list = match s.mamori.recipients_status(&st.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let rows = list
        .into_iter()
        .map(|r| RecipientRow {
            contract: r.kind == "entrustment",
            measures: r.country != "JP"
                && r.foreign_basis == Some(mamori_policy::ForeignBasis::EquivalentMeasures),
            boxes: ContractClause::ALL
                .iter()
                .map(|x| {
                    let on = r
                        .contract_clauses
                        .as_ref()
                        .is_some_and(|have| have.contains(&x.as_str()));
                    (x.as_str().to_string(), clause_text(*x, c.ja), on)
                })
                .collect(),
            id: r.id,
            name: r.name,
            kind: r.kind.to_string(),
            country: r.country,
            clauses: r.contract_clauses.map(|x| x.join(", ")).unwrap_or_default(),
            missing: r.missing_clauses.join(", "),
            contract_due: r.contract_review_due.unwrap_or_default(),
            measures_due: r.measures_check_due.unwrap_or_default(),
            blocked: r.blocked.unwrap_or_default(),
        })
        .collect();
    let p = RecipientsPage {
        rows,
        may_review: st.may(Action::Governance),
        today: mamori_service::today_jst().to_string(),
        c,
    };
    page(StatusCode::OK, &p, set)
}

/// `recipient review`: the review date, the kind when both apply, the clauses on record (a
/// contract) and, optionally, when the next review is due (default: the policy's interval).
async fn recipient_review(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    // Checkboxes repeat `clause`: the pairs, not a map.
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/recipients", &q, Some(&st));
    let f: Fields = pairs.iter().cloned().collect();
    if let Some(r) = checked(&c, &st, &f, "/console/recipients") {
        return r;
    }
    let clauses: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "clause")
        .map(|(_, v)| v.clone())
        .collect();
    let kind = opt(&f, "kind");
    let with_clauses = kind.as_deref() != Some("measures") && field(&f, "clauses_given") == "1";
    match s
        .mamori
        .recipient_review(
            &st.actor,
            &safe_id(&id),
            kind.as_deref(),
            field(&f, "reviewed_on"),
            with_clauses.then_some(clauses.as_slice()),
            opt(&f, "next_due").as_deref(),
        )
        .await
    {
        Ok(_) => see_other("/console/recipients"),
        Err(e) => error_page(&c, &e, "/console/recipients"),
    }
}
