//! `/api/v1/incidents…`: the twins of `mamori incident …` (seed 003 Arts. 7(3), 13(2); APPI 26,
//! PPC rules 7-10), thin translations of `mamori_service::incident`. Every route needs a
//! signed-in staff member; any of them may assess and report a breach (`POST /incidents`), every
//! other route needs the role action `incidents` (403 with the rule otherwise). Descriptions and
//! step texts travel in JSON bodies, never in URLs; facts are read by the same code as the CLI's,
//! so a bad one is a 422 naming the field.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mamori_policy::Lang;
use mamori_service::incident::{self, NoticeMethod, Stage, StepKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::{ApiJson, ApiQuery, Problem};

type ApiResult<T> = Result<T, Problem>;

fn ok<T: Serialize>(v: T) -> ApiResult<Response> {
    Ok(Json(v).into_response())
}

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/assess", post(incident_assess))
        .route("/incidents", get(incident_list).post(incident_open))
        .route("/incidents/{id}", get(incident_show))
        .route("/incidents/{id}/facts", post(incident_update))
        .route("/incidents/{id}/steps", post(incident_record))
        .route("/incidents/{id}/affected", post(incident_affected))
        .route("/incidents/{id}/report", get(incident_report))
        .route(
            "/incidents/{id}/notice",
            get(incident_notice).post(incident_notice_record),
        )
        .route("/incidents/{id}/submitted", post(incident_submitted))
        .route("/incidents/{id}/close", post(incident_close))
}

// ---- bodies and queries ----------------------------------------------------------------------

/// The facts of a breach (DESIGN.md `incident assess`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct FactsBody {
    /// YYYY-MM-DD: the day the organization became aware (day 1 of every deadline).
    pub discovered_on: String,
    /// How many principals' data is affected, 0 or more.
    pub principals_affected: u64,
    pub special_care_data: bool,
    pub financial_damage_risk: bool,
    /// Possibly done for a wrongful purpose (unauthorized access, theft, data being acquired).
    pub wrongful_purpose: bool,
    /// Protected by high-level encryption whose key is safe (exempts every ground of rule 7).
    pub high_level_encryption: bool,
}

/// The facts and what happened (stored sealed).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewIncidentBody {
    #[serde(flatten)]
    pub facts: FactsBody,
    /// What happened (stored sealed).
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// containment, investigation, damage, recovery or prevention.
    pub step: String,
    /// What was done or found (stored sealed).
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedBody {
    /// Principal ids from the registry.
    #[serde(default)]
    pub principals: Vec<String>,
    /// Category ids of the data concerned.
    #[serde(default)]
    pub categories: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRecordBody {
    /// notice, publication or inquiry_desk.
    pub method: String,
    /// YYYY-MM-DD: the day it was done.
    pub on: String,
    /// What was done (stored sealed).
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmittedBody {
    /// preliminary or final.
    pub stage: String,
    /// YYYY-MM-DD: the day the report went to the PPC.
    pub on: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: only incidents with a report past its due date.
    pub overdue: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// preliminary or final.
    pub stage: Option<String>,
    /// ja (default) or en.
    pub lang: Option<String>,
    /// html (default) or json.
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// ja (default) or en.
    pub lang: Option<String>,
}

// ---- response schemas (documentation of what the service returns) ---------------------------

#[derive(Serialize, ToSchema)]
pub struct AssessmentResponse {
    pub reportable: bool,
    /// special_care_data, financial_damage_risk, wrongful_purpose, over_1000_principals.
    pub grounds: Vec<String>,
    /// YYYY-MM-DD.
    pub preliminary_due: String,
    /// YYYY-MM-DD; null when not reportable.
    pub final_due: Option<String>,
    pub notify_principals: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OpenedIncidentResponse {
    pub id: String,
    #[serde(flatten)]
    pub assessment: AssessmentResponse,
}

#[derive(Serialize, ToSchema)]
pub struct IncidentResponse {
    pub id: String,
    /// open or closed.
    pub status: String,
    pub discovered_on: String,
    pub principals_affected: i64,
    pub registered_principals: i64,
    pub reportable: bool,
    pub grounds: Vec<String>,
    pub preliminary_due: String,
    pub final_due: Option<String>,
    pub notify_principals: bool,
    pub preliminary_submitted_on: Option<String>,
    pub final_submitted_on: Option<String>,
    pub principals_notified: bool,
    pub overdue: bool,
    /// preliminary_report, final_report.
    pub overdue_steps: Vec<String>,
    pub pending_steps: Vec<String>,
    pub categories: Vec<String>,
    pub opened_by: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

fn lang_of(q: Option<&str>) -> ApiResult<Lang> {
    q.unwrap_or("ja")
        .parse()
        .map_err(|e| Problem::unprocessable(format!("lang: {e}")))
}

fn html(page: String) -> Response {
    crate::pages::document(page)
}

// ---- handlers --------------------------------------------------------------------------------

#[utoipa::path(post, path = "/api/v1/incidents/assess", tag = "incidents", request_body = FactsBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = AssessmentResponse, description = "Reportable or not (PPC rule 7), the deadlines (rule 8), whether the principals must be told (APPI 26(2))"),
              (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_assess(
    State(s): State<AppState>,
    _a: Authed,
    ApiJson(facts): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    ok(incident::assess_json(
        &facts,
        s.mamori.preliminary_report_days(),
    )?)
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = NewIncidentBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, body = OpenedIncidentResponse, description = "Reported to the manager (seed 003 Art. 7(3)); any staff member may"),
              (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_open(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(facts): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let o = s.mamori.incident_open(&a.actor, &facts, None).await?;
    Ok((StatusCode::CREATED, Json(o)).into_response())
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = [IncidentResponse]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_list(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let overdue = match q.overdue.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Problem::unprocessable("overdue: use true or false")),
    };
    ok(s.mamori.incident_list(&a.actor, overdue, None).await?)
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = String, Path)),
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The incident with its description, reasons, steps, principals and notices"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn incident_show(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(s.mamori.incident_show(&a.actor, &id, None).await?)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/facts", tag = "incidents", params(("id" = String, Path)), request_body = FactsBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = IncidentResponse, description = "Re-assessed; the deadlines follow the facts"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_update(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(facts): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    ok(s.mamori
        .incident_update(&a.actor, &id, &facts, None)
        .await?)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/steps", tag = "incidents", params(("id" = String, Path)), request_body = StepBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The step's id"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_record(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StepBody>,
) -> ApiResult<Response> {
    let kind = StepKind::parse(&b.step, "step")?;
    let added = s
        .mamori
        .incident_record(&a.actor, &id, kind, &b.text, None)
        .await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/affected", tag = "incidents", params(("id" = String, Path)), request_body = AffectedBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = IncidentResponse), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_affected(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AffectedBody>,
) -> ApiResult<Response> {
    ok(s.mamori
        .incident_affected(&a.actor, &id, &b.principals, &b.categories, None)
        .await?)
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/report", tag = "incidents", params(("id" = String, Path), ReportQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, content_type = "text/html", description = "The draft report with the nine items of rule 8(1), printable (format=json: the items as data)"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_report(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let stage = Stage::parse(
        q.stage.as_deref().ok_or_else(|| {
            Problem::unprocessable("stage: is required: use preliminary or final")
        })?,
        "stage",
    )?;
    let lang = lang_of(q.lang.as_deref())?;
    let as_json = match q.format.as_deref() {
        None | Some("html") => false,
        Some("json") => true,
        Some(_) => return Err(Problem::unprocessable("format: use html or json")),
    };
    let r = s
        .mamori
        .incident_report(&a.actor, &id, stage, lang, None)
        .await?;
    if as_json { ok(r) } else { Ok(html(r.html)) }
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/notice", tag = "incidents", params(("id" = String, Path), LangQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, content_type = "text/html", description = "The draft notice to the principals (APPI 26(2), rule 10), printable"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_notice(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> ApiResult<Response> {
    let lang = lang_of(q.lang.as_deref())?;
    Ok(html(
        s.mamori.incident_notice(&a.actor, &id, lang, None).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/notice", tag = "incidents", params(("id" = String, Path)), request_body = NoticeRecordBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = IncidentResponse, description = "The principals were notified, or a substitute measure taken (APPI 26(2))"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_notice_record(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NoticeRecordBody>,
) -> ApiResult<Response> {
    let method = NoticeMethod::parse(&b.method, "method")?;
    ok(s.mamori
        .incident_notice_record(&a.actor, &id, method, &b.on, b.text.as_deref(), None)
        .await?)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/submitted", tag = "incidents", params(("id" = String, Path)), request_body = SubmittedBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = IncidentResponse), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn incident_submitted(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SubmittedBody>,
) -> ApiResult<Response> {
    let stage = Stage::parse(&b.stage, "stage")?;
    ok(s.mamori
        .incident_submitted(&a.actor, &id, stage, &b.on, None)
        .await?)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/close", tag = "incidents", params(("id" = String, Path)),
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = IncidentResponse), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem, description = "A reportable incident whose final report or notice is not on record")))]
pub async fn incident_close(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(s.mamori.incident_close(&a.actor, &id, None).await?)
}

/// The OpenAPI paths of this module (merged into the main document).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        incident_assess, incident_open, incident_list, incident_show, incident_update, incident_record,
        incident_affected, incident_report, incident_notice, incident_notice_record, incident_submitted, incident_close,
    ),
    components(schemas(
        FactsBody, NewIncidentBody, StepBody, AffectedBody, NoticeRecordBody, SubmittedBody,
        AssessmentResponse, OpenedIncidentResponse, IncidentResponse,
    )),
    tags((name = "incidents", description = "Breach (漏えい等) response with the PPC's deadlines (seed 003 Arts. 7(3), 13(2); APPI 26)"))
)]
pub struct IncidentsApi;
