//! `/console/training`, `/console/ledger`, `/console/inspections`: the governance records a
//! manager keeps and the auditor checks, the same use cases as `mamori training …`, `mamori
//! ledger` and `mamori inspection|finding …` ([`mamori_service::governance`],
//! [`mamori_service::ledger`]).
//!
//! - Training (seed 003 Art. 6; seed 000 Art. 8-2): record a session with its attendees; see
//!   every staff member's last training, when the next is due and who is overdue.
//! - The ledger (seed 003 Art. 15; seed 000 Art. 8-1): one row per channel × category, as a
//!   page and as CSV (Excel-ready) or JSON downloads; counts only, never a value.
//! - Inspections (seed 003 Arts. 19, 24): run the checklist, read each result, add findings
//!   with their corrective action and due date, close them, print the auditor's report.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use mamori_policy::Lang;
use mamori_service::ServiceError;
use mamori_service::governance::{FindingInfo, render_report_html};
use mamori_service::ledger::{LedgerRow, ledger_csv};
use serde::Deserialize;

use super::{Fields, Staff, checked, ctx, field, opt, page, safe_id};
use crate::AppState;
use crate::pages::{Ctx, LangQuery, document, error_page, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/training", get(training).post(training_record))
        .route("/console/ledger", get(ledger))
        .route("/console/ledger/download", get(ledger_download))
        .route(
            "/console/inspections",
            get(inspections).post(inspection_run),
        )
        .route("/console/inspections/{id}", get(inspection_page))
        .route("/console/inspections/{id}/report", get(inspection_report))
        .route("/console/inspections/{id}/findings", post(finding_add))
        .route("/console/findings/{id}/close", post(finding_close))
}

// ---- training --------------------------------------------------------------------------------

struct TrainingRow {
    date: String,
    title: String,
    attendees: String,
    material: String,
    recorded_by: String,
}

struct StatusRow {
    login: String,
    role: String,
    required: bool,
    last: String,
    due: String,
    overdue: bool,
    pledged_on: String,
}

#[derive(askama::Template)]
#[template(path = "console_training.html")]
struct TrainingPage {
    c: Ctx,
    rows: Vec<TrainingRow>,
    staff: Vec<StatusRow>,
    overdue: usize,
    only_overdue: bool,
    today: String,
}

#[derive(Debug, Deserialize, Default)]
struct TrainingQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
}

async fn training(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<TrainingQuery>,
) -> Response {
    let lq = LangQuery {
        lang: q.lang.clone(),
    };
    let (c, set) = ctx(&s, &headers, "/console/training", &lq, Some(&st));
    let only_overdue = q.overdue.as_deref() == Some("1");
    let list = match s.mamori.training_list(&st.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let status = match s
        .mamori
        .training_status(&st.actor, only_overdue, None)
        .await
    {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let p = TrainingPage {
        rows: list
            .into_iter()
            .rev()
            .map(|t| TrainingRow {
                date: t.date,
                title: t.title,
                attendees: t.attendees.join(", "),
                material: t.material.unwrap_or_default(),
                recorded_by: t.recorded_by,
            })
            .collect(),
        overdue: status.iter().filter(|x| x.overdue).count(),
        staff: status
            .into_iter()
            .map(|x| StatusRow {
                login: x.login,
                role: x.role,
                required: x.required,
                last: x.last_training.unwrap_or_default(),
                due: x.due.unwrap_or_default(),
                overdue: x.overdue,
                pledged_on: x.pledged_on.unwrap_or_default(),
            })
            .collect(),
        only_overdue,
        today: mamori_service::today_jst().to_string(),
        c,
    };
    page(StatusCode::OK, &p, set)
}

async fn training_record(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/training", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/training") {
        return r;
    }
    let attendees: Vec<String> = field(&f, "attendees")
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    match s
        .mamori
        .training_record(
            &st.actor,
            field(&f, "title"),
            field(&f, "date"),
            &attendees,
            opt(&f, "material").as_deref(),
        )
        .await
    {
        Ok(_) => see_other("/console/training"),
        Err(e) => error_page(&c, &e, "/console/training"),
    }
}

// ---- the ledger ------------------------------------------------------------------------------

#[derive(askama::Template)]
#[template(path = "console_ledger.html")]
struct LedgerPage {
    c: Ctx,
    rows: Vec<LedgerRow>,
}

async fn ledger(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/ledger", &q, Some(&st));
    match s.mamori.ledger(&st.actor).await {
        Ok(rows) => page(StatusCode::OK, &LedgerPage { c, rows }, set),
        Err(e) => error_page(&c, &e, "/console"),
    }
}

#[derive(Debug, Deserialize, Default)]
struct DownloadQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `?format=csv` (UTF-8 with BOM, CRLF: Excel opens it as it is) or `?format=json`.
async fn ledger_download(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let (c, _) = ctx(
        &s,
        &headers,
        "/console/ledger",
        &LangQuery::default(),
        Some(&st),
    );
    let format = q.format.as_deref().unwrap_or("csv");
    if !matches!(format, "csv" | "json") {
        return error_page(
            &c,
            &ServiceError::BadInput(format!(
                "format: \"{}\" is not a ledger download: use csv or json",
                safe_id(format)
            )),
            "/console/ledger",
        );
    }
    let rows = match s.mamori.ledger(&st.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(&c, &e, "/console/ledger"),
    };
    let (ct, name, body) = if format == "csv" {
        ("text/csv; charset=utf-8", "ledger.csv", ledger_csv(&rows))
    } else {
        match serde_json::to_string_pretty(&rows) {
            Ok(j) => ("application/json", "ledger.json", j),
            Err(e) => {
                return error_page(
                    &c,
                    &ServiceError::Failed(format!("ledger: {e}")),
                    "/console/ledger",
                );
            }
        }
    };
    (
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

// ---- inspections and findings ----------------------------------------------------------------

struct InspectionRow {
    id: String,
    run_at: String,
    by: String,
    passed: i64,
    failed: i64,
}

struct FindingRow {
    id: String,
    inspection_id: String,
    text: String,
    action: String,
    due: String,
    status: String,
    overdue: bool,
    result: String,
}

fn finding_row(f: FindingInfo) -> FindingRow {
    FindingRow {
        id: f.id,
        inspection_id: f.inspection_id,
        text: f.text,
        action: f.corrective_action.unwrap_or_default(),
        due: f.due,
        status: f.status,
        overdue: f.overdue,
        result: f.result.unwrap_or_default(),
    }
}

#[derive(askama::Template)]
#[template(path = "console_inspections.html")]
struct InspectionsPage {
    c: Ctx,
    rows: Vec<InspectionRow>,
    open_findings: Vec<FindingRow>,
}

async fn inspections(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/inspections", &q, Some(&st));
    let list = match s.mamori.inspection_list(&st.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let findings = match s.mamori.finding_list(&st.actor, None, true).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let p = InspectionsPage {
        c,
        rows: list
            .into_iter()
            .rev()
            .map(|i| InspectionRow {
                id: i.id,
                run_at: i.run_at,
                by: i.by,
                passed: i.passed,
                failed: i.failed,
            })
            .collect(),
        open_findings: findings.into_iter().map(finding_row).collect(),
    };
    page(StatusCode::OK, &p, set)
}

async fn inspection_run(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/inspections", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/inspections") {
        return r;
    }
    match s.mamori.inspection_run(&st.actor, None).await {
        Ok(i) => see_other(&format!("/console/inspections/{}", i.id)),
        Err(e) => error_page(&c, &e, "/console/inspections"),
    }
}

struct CheckRow {
    id: String,
    rule: String,
    pass: bool,
    summary: String,
    evidence: String,
}

#[derive(askama::Template)]
#[template(path = "console_inspection.html")]
struct InspectionPage {
    c: Ctx,
    id: String,
    run_at: String,
    as_of: String,
    by: String,
    passed: i64,
    failed: i64,
    items: Vec<CheckRow>,
    findings: Vec<FindingRow>,
}

async fn inspection_page(
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
        &format!("/console/inspections/{id}"),
        &q,
        Some(&st),
    );
    // The report carries the inspection and its findings in one audited read.
    let r = match s.mamori.inspection_report(&st.actor, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&c, &e, "/console/inspections"),
    };
    let i = r.inspection;
    let p = InspectionPage {
        c,
        id: i.id,
        run_at: i.run_at,
        as_of: i.as_of,
        by: i.by,
        passed: i.passed,
        failed: i.failed,
        items: i
            .items
            .into_iter()
            .map(|x| CheckRow {
                id: x.id,
                rule: x.rule,
                pass: x.pass,
                summary: x.summary,
                evidence: x.evidence.to_string(),
            })
            .collect(),
        findings: r.findings.into_iter().map(finding_row).collect(),
    };
    page(StatusCode::OK, &p, set)
}

/// The auditor's report (seed 003 Arts. 5(3), 19), printable.
async fn inspection_report(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/inspections/{id}");
    let (c, _) = ctx(&s, &headers, &back, &LangQuery::default(), Some(&st));
    let lang = q
        .lang
        .as_deref()
        .and_then(|l| l.parse::<Lang>().ok())
        .unwrap_or(c.lang());
    match s.mamori.inspection_report(&st.actor, &id).await {
        Ok(r) => document(render_report_html(&r, lang)),
        Err(e) => error_page(&c, &e, &back),
    }
}

async fn finding_add(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/inspections/{id}");
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    match s
        .mamori
        .finding_add(
            &st.actor,
            &id,
            field(&f, "text"),
            field(&f, "due"),
            opt(&f, "action").as_deref(),
        )
        .await
    {
        Ok(_) => see_other(&back),
        Err(e) => error_page(&c, &e, &back),
    }
}

async fn finding_close(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = match opt(&f, "inspection") {
        Some(i) => format!("/console/inspections/{}", safe_id(&i)),
        None => "/console/inspections".to_string(),
    };
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    match s
        .mamori
        .finding_close(&st.actor, &id, opt(&f, "result").as_deref())
        .await
    {
        Ok(_) => see_other(&back),
        Err(e) => error_page(&c, &e, &back),
    }
}
