//! API twins of the governance commands (seed 003 Arts. 4-7, 15, 19, 22, 24; seed 000 Arts. 2,
//! 8): the ledger, training and pledges, role changes, inspections and findings, the
//! committee, violation reports and the manager's review of exception accesses.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mamori_policy::Lang;
use mamori_service::governance::render_report_html;
use mamori_service::ledger::{ledger_csv, ledger_html};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::{ApiJson, ApiQuery, Problem};

type ApiResult<T> = Result<T, Problem>;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/ledger", get(ledger))
        .route("/training", get(training_list).post(training_record))
        .route("/training/staff", get(training_staff))
        .route("/staff/{login}/role", post(staff_role))
        .route("/staff/{login}/disable", post(staff_disable))
        .route("/staff/{login}/pledge", post(staff_pledge))
        .route("/inspections", get(inspection_list).post(inspection_run))
        .route("/inspections/{id}", get(inspection_show))
        .route("/inspections/{id}/report", get(inspection_report))
        .route("/inspections/{id}/findings", post(finding_add))
        .route("/findings", get(finding_list))
        .route("/findings/{id}/close", post(finding_close))
        .route("/committee", get(committee_list).post(committee_meeting))
        .route("/committee/{id}", get(committee_show))
        .route("/violations", get(violation_list).post(violation_report))
        .route("/violations/{id}/close", post(violation_close))
        .route("/reviews/exceptions", get(review_list))
        .route("/reviews/exceptions/{id}/done", post(review_done))
}

fn lang(s: Option<&str>) -> ApiResult<Lang> {
    s.unwrap_or("ja")
        .parse::<Lang>()
        .map_err(|e| Problem::unprocessable(format!("lang: {e}")))
}

fn html(page: String) -> Response {
    crate::pages::document(page)
}

fn created<T: serde::Serialize>(v: T) -> ApiResult<Response> {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// json (default), csv (UTF-8 with BOM, CRLF) or html (printable).
    pub format: Option<String>,
    /// ja (default) or en, for html.
    pub lang: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/ledger", tag = "governance", params(LedgerQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The ledger: one row per channel × category (JSON array, CSV or HTML)"), (status = 403, body = Problem)))]
pub async fn ledger(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<LedgerQuery>,
) -> ApiResult<Response> {
    let rows = s.mamori.ledger(&a.actor).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(rows).into_response()),
        Some("csv") => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"ledger.csv\"",
                ),
            ],
            ledger_csv(&rows),
        )
            .into_response()),
        Some("html") => Ok(html(ledger_html(
            &s.mamori.policy().organization.name.ja,
            &rows,
            lang(q.lang.as_deref())?,
        ))),
        Some(_) => Err(Problem::unprocessable(
            "format: is not a ledger format: use json, csv or html",
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingBody {
    pub title: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// Staff logins who attended.
    pub attendees: Vec<String>,
    #[serde(default)]
    pub material: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/training", tag = "governance", request_body = TrainingBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "{id, title, date, attendees, material}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn training_record(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<TrainingBody>,
) -> ApiResult<Response> {
    created(
        s.mamori
            .training_record(
                &a.actor,
                &b.title,
                &b.date,
                &b.attendees,
                b.material.as_deref(),
            )
            .await?,
    )
}

#[utoipa::path(get, path = "/api/v1/training", tag = "governance", security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Training records"), (status = 403, body = Problem)))]
pub async fn training_list(State(s): State<AppState>, a: Authed) -> ApiResult<Response> {
    Ok(Json(s.mamori.training_list(&a.actor).await?).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrainingStaffQuery {
    /// Only staff overdue for training.
    pub overdue: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/training/staff", tag = "governance", params(TrainingStaffQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Each staff member's last training, due date and pledge"), (status = 403, body = Problem)))]
pub async fn training_staff(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<TrainingStaffQuery>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .training_status(&a.actor, q.overdue.unwrap_or(false), None)
            .await?,
    )
    .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub role: String,
}

#[utoipa::path(post, path = "/api/v1/staff/{login}/role", tag = "governance", params(("login" = String, Path)), request_body = RoleBody, security(("token" = []), ("session" = [])),
    responses((status = 200, description = "{login, from, to}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn staff_role(
    State(s): State<AppState>,
    a: Authed,
    Path(login): Path<String>,
    ApiJson(b): ApiJson<RoleBody>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.staff_role(&a.actor, &login, &b.role).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/staff/{login}/disable", tag = "governance", params(("login" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "{login, disabled}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn staff_disable(
    State(s): State<AppState>,
    a: Authed,
    Path(login): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.staff_disable(&a.actor, &login).await?).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgeBody {
    /// YYYY-MM-DD the pledge was signed.
    pub date: String,
}

#[utoipa::path(post, path = "/api/v1/staff/{login}/pledge", tag = "governance", params(("login" = String, Path)), request_body = PledgeBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "{id, login, signed_on}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn staff_pledge(
    State(s): State<AppState>,
    a: Authed,
    Path(login): Path<String>,
    ApiJson(b): ApiJson<PledgeBody>,
) -> ApiResult<Response> {
    created(s.mamori.staff_pledge(&a.actor, &login, &b.date).await?)
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct InspectionBody {
    /// As of this time (RFC 3339; default now).
    #[serde(default)]
    pub now: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/inspections", tag = "governance", request_body = InspectionBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "{id, passed, failed, items: [{id, rule, pass, summary, evidence}]}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn inspection_run(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<InspectionBody>,
) -> ApiResult<Response> {
    created(s.mamori.inspection_run(&a.actor, b.now.as_deref()).await?)
}

#[utoipa::path(get, path = "/api/v1/inspections", tag = "governance", security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Inspections run"), (status = 403, body = Problem)))]
pub async fn inspection_list(State(s): State<AppState>, a: Authed) -> ApiResult<Response> {
    Ok(Json(s.mamori.inspection_list(&a.actor).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/inspections/{id}", tag = "governance", params(("id" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "One inspection with its checklist"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn inspection_show(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.inspection_show(&a.actor, &id).await?).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// html (default) or json.
    pub format: Option<String>,
    /// ja (default) or en.
    pub lang: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/inspections/{id}/report", tag = "governance", params(("id" = String, Path), ReportQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The auditor's report: printable HTML or JSON"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn inspection_report(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let lang = lang(q.lang.as_deref())?;
    let r = s.mamori.inspection_report(&a.actor, &id).await?;
    match q.format.as_deref() {
        None | Some("html") => Ok(html(render_report_html(&r, lang))),
        Some("json") => Ok(Json(r).into_response()),
        Some(_) => Err(Problem::unprocessable(
            "format: is not a report format: use html or json",
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    pub text: String,
    /// YYYY-MM-DD by which the corrective action is due.
    pub due: String,
    #[serde(default)]
    pub action: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/inspections/{id}/findings", tag = "governance", params(("id" = String, Path)), request_body = FindingBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The finding"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn finding_add(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<FindingBody>,
) -> ApiResult<Response> {
    created(
        s.mamori
            .finding_add(&a.actor, &id, &b.text, &b.due, b.action.as_deref())
            .await?,
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    pub inspection: Option<String>,
    pub open: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/findings", tag = "governance", params(FindingsQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Findings with their corrective actions"), (status = 403, body = Problem)))]
pub async fn finding_list(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .finding_list(&a.actor, q.inspection.as_deref(), q.open.unwrap_or(false))
            .await?,
    )
    .into_response())
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    #[serde(default)]
    pub result: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/findings/{id}/close", tag = "governance", params(("id" = String, Path)), request_body = CloseBody, security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The finding, closed"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn finding_close(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CloseBody>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .finding_close(&a.actor, &id, b.result.as_deref())
            .await?,
    )
    .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingBody {
    pub date: String,
    pub members: Vec<String>,
    pub minutes: String,
    #[serde(default)]
    pub decisions: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/committee", tag = "governance", request_body = MeetingBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "{id, date, chair, members, decisions}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn committee_meeting(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<MeetingBody>,
) -> ApiResult<Response> {
    created(
        s.mamori
            .committee_meeting(&a.actor, &b.date, &b.members, &b.minutes, &b.decisions)
            .await?,
    )
}

#[utoipa::path(get, path = "/api/v1/committee", tag = "governance", security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Meetings: dates, members, number of decisions"), (status = 403, body = Problem)))]
pub async fn committee_list(State(s): State<AppState>, a: Authed) -> ApiResult<Response> {
    Ok(Json(s.mamori.committee_list(&a.actor).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/committee/{id}", tag = "governance", params(("id" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Minutes and decisions (the manager and the members)"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn committee_show(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.committee_show(&a.actor, &id).await?).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViolationBody {
    pub text: String,
}

#[utoipa::path(post, path = "/api/v1/violations", tag = "governance", request_body = ViolationBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "{id, reported_at}"), (status = 422, body = Problem)))]
pub async fn violation_report(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<ViolationBody>,
) -> ApiResult<Response> {
    created(s.mamori.violation_report(&a.actor, &b.text).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpenQuery {
    pub open: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/violations", tag = "governance", params(OpenQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Reports with reporter and text (the manager only)"), (status = 403, body = Problem)))]
pub async fn violation_list(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<OpenQuery>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .violation_list(&a.actor, q.open.unwrap_or(false))
            .await?,
    )
    .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    pub result: String,
}

#[utoipa::path(post, path = "/api/v1/violations/{id}/close", tag = "governance", params(("id" = String, Path)), request_body = ResultBody, security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The report, closed"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn violation_close(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ResultBody>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.violation_close(&a.actor, &id, &b.result).await?).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// Reviewed ones too.
    pub all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/reviews/exceptions", tag = "governance", params(ReviewQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Accesses under statutory exceptions with their reasons (the manager only)"), (status = 403, body = Problem)))]
pub async fn review_list(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .exception_reviews(&a.actor, q.all.unwrap_or(false))
            .await?,
    )
    .into_response())
}

#[utoipa::path(post, path = "/api/v1/reviews/exceptions/{id}/done", tag = "governance", params(("id" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Marked reviewed"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn review_done(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.exception_review_done(&a.actor, &id).await?).into_response())
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        ledger, training_record, training_list, training_staff, staff_role, staff_disable, staff_pledge,
        inspection_run, inspection_list, inspection_show, inspection_report, finding_add, finding_list, finding_close,
        committee_meeting, committee_list, committee_show, violation_report, violation_list, violation_close,
        review_list, review_done,
    ),
    components(schemas(TrainingBody, RoleBody, PledgeBody, InspectionBody, FindingBody, CloseBody, MeetingBody, ViolationBody, ResultBody)),
    tags((name = "governance", description = "Ledger, training, inspections, committee, violation reports (seed 003 Arts. 4-7, 15, 19, 22, 24)"))
)]
pub struct GovernanceApi;
