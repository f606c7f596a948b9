//! `/api/v1/complaints…` and `/api/v1/calendar…`: the twins of `mamori complaint …` (seed 003
//! Art. 23; seed 000 Art. 11) and `mamori calendar …`, thin translations of
//! `mamori_service::complaint`. Complaints need a signed-in staff member whose role has the
//! `complaints` action (403 with the rule otherwise); the calendar is public and pure. What a
//! complainant said, notes and results travel in JSON bodies, never in URLs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mamori_policy::Lang;
use mamori_service::complaint::{self, NewComplaint};
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
        .route("/complaints", get(complaint_list).post(complaint_open))
        .route("/complaints/{id}", get(complaint_show))
        .route("/complaints/{id}/ack", post(complaint_ack))
        .route("/complaints/{id}/notes", post(complaint_note))
        .route("/complaints/{id}/close", post(complaint_close))
        .route("/complaints/{id}/notice", get(complaint_notice))
        .route("/calendar/holidays/{year}", get(calendar_holidays))
        .route("/calendar/window", get(calendar_window))
        .route(
            "/calendar/add-business-days",
            get(calendar_add_business_days),
        )
}

// ---- bodies and queries ----------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComplaintBody {
    /// When it arrived: RFC 3339; a time without an offset is Japan time.
    pub received_at: String,
    /// What it is about (stored sealed).
    pub summary: String,
    /// The principal it concerns, when known.
    #[serde(default)]
    pub principal: Option<String>,
    /// phone, letter, email, visit or portal.
    #[serde(default)]
    pub channel: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The investigation note (stored sealed).
    pub text: String,
    /// Logins of the staff consulted (seed 003 Art. 23(4)).
    #[serde(default)]
    pub consulted: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// The result (stored sealed).
    pub result: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: only complaints not closed whose answer-by date is before today in Japan.
    pub overdue: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// ja (default) or en.
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// RFC 3339; a time without an offset is Japan time.
    pub at: Option<String>,
    /// The window of a built-in preset instead of the served policy's.
    pub preset: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BusinessDaysQuery {
    /// YYYY-MM-DD.
    pub date: Option<String>,
    /// Business days to add, 0 or more.
    pub n: Option<String>,
}

// ---- response schemas (documentation of what the service returns) ---------------------------

#[derive(Serialize, ToSchema)]
pub struct OpenedResponse {
    pub id: String,
    pub received_at: String,
    /// Whether the desk was open when it arrived.
    pub window_open: bool,
    /// The desk's next opening when it arrived while closed, else `received_at`.
    pub counted_from: String,
    /// YYYY-MM-DD.
    pub answer_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintResponse {
    pub id: String,
    pub received_at: String,
    pub window_open: bool,
    pub counted_from: String,
    pub answer_by: String,
    /// open, acknowledged or closed.
    pub status: String,
    /// Not closed and past its answer-by date.
    pub overdue: bool,
    pub principal: Option<String>,
    pub channel: Option<String>,
    pub opened_by: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HolidayResponse {
    /// YYYY-MM-DD.
    pub date: String,
    /// The Japanese name, e.g. 元日.
    pub name: String,
    /// national, substitute, citizens or special.
    pub kind: String,
}

#[derive(Serialize, ToSchema)]
pub struct WindowResponse {
    pub open: bool,
    /// The next opening (RFC 3339, Japan time); null while open.
    pub next_open: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DateResponse {
    /// YYYY-MM-DD.
    pub date: String,
}

fn need(v: Option<String>, name: &str, hint: &str) -> ApiResult<String> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Problem::unprocessable(format!("{name}: is required: {hint}")))
}

// ---- complaints ------------------------------------------------------------------------------

#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = NewComplaintBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, body = OpenedResponse, description = "Recorded; counted from the desk's next opening when it arrived while closed"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn complaint_open(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<NewComplaintBody>,
) -> ApiResult<Response> {
    let opened = s
        .mamori
        .complaint_open(
            &a.actor,
            NewComplaint {
                received_at: b.received_at,
                summary: b.summary,
                principal: b.principal,
                channel: b.channel,
            },
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(opened)).into_response())
}

#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints", params(ListQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = [ComplaintResponse]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn complaint_list(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let overdue = match q.overdue.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Problem::unprocessable("overdue: use true or false")),
    };
    ok(s.mamori.complaint_list(&a.actor, overdue, None).await?)
}

#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints", params(("id" = String, Path)),
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The complaint with its summary, notes (with the staff consulted) and result"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn complaint_show(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(s.mamori.complaint_show(&a.actor, &id, None).await?)
}

#[utoipa::path(post, path = "/api/v1/complaints/{id}/ack", tag = "complaints", params(("id" = String, Path)),
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = ComplaintResponse), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn complaint_ack(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(s.mamori.complaint_ack(&a.actor, &id, None).await?)
}

#[utoipa::path(post, path = "/api/v1/complaints/{id}/notes", tag = "complaints", params(("id" = String, Path)), request_body = NoteBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The note's id and the staff consulted"), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn complaint_note(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> ApiResult<Response> {
    let n = s
        .mamori
        .complaint_note(&a.actor, &id, &b.text, &b.consulted, None)
        .await?;
    Ok((StatusCode::CREATED, Json(n)).into_response())
}

#[utoipa::path(post, path = "/api/v1/complaints/{id}/close", tag = "complaints", params(("id" = String, Path)), request_body = CloseBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, body = ComplaintResponse), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn complaint_close(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CloseBody>,
) -> ApiResult<Response> {
    ok(s.mamori
        .complaint_close(&a.actor, &id, &b.result, None)
        .await?)
}

#[utoipa::path(get, path = "/api/v1/complaints/{id}/notice", tag = "complaints", params(("id" = String, Path), LangQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, content_type = "text/html", description = "The written notice of the result (seed 003 Art. 23(5)), printable"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn complaint_notice(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> ApiResult<Response> {
    let lang: Lang = q
        .lang
        .as_deref()
        .unwrap_or("ja")
        .parse()
        .map_err(|e| Problem::unprocessable(format!("lang: {e}")))?;
    let html = s.mamori.complaint_notice(&a.actor, &id, lang, None).await?;
    Ok(crate::pages::document(html))
}

// ---- calendar (pure, public) -------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/calendar/holidays/{year}", tag = "calendar", params(("year" = String, Path, description = "1948–2150")),
    responses((status = 200, body = [HolidayResponse]), (status = 422, body = Problem)))]
pub async fn calendar_holidays(Path(year): Path<String>) -> ApiResult<Response> {
    ok(complaint::holidays(&year, "year")?)
}

#[utoipa::path(get, path = "/api/v1/calendar/window", tag = "calendar", params(WindowQuery),
    responses((status = 200, body = WindowResponse, description = "Whether the complaint window of the served policy (or the preset) is open, and when it next opens"),
              (status = 422, body = Problem)))]
pub async fn calendar_window(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> ApiResult<Response> {
    let at = need(q.at, "at", "give a time such as 2026-04-01T10:00:00+09:00")?;
    let window = match q.preset.as_deref() {
        Some(p) => complaint::preset_window(p).map_err(|_| {
            Problem::unprocessable("preset: is not a preset: use chiba-ia or tokyo-one")
        })?,
        None => s.mamori.complaint_window()?,
    };
    ok(complaint::window_at(&window, &at, "at")?)
}

#[utoipa::path(get, path = "/api/v1/calendar/add-business-days", tag = "calendar", params(BusinessDaysQuery),
    responses((status = 200, body = DateResponse), (status = 422, body = Problem)))]
pub async fn calendar_add_business_days(
    ApiQuery(q): ApiQuery<BusinessDaysQuery>,
) -> ApiResult<Response> {
    let date = need(q.date, "date", "give a date such as 2026-04-01")?;
    let n = need(q.n, "n", "give the number of business days, 0 or more")?;
    ok(complaint::add_business_days(&date, &n, "date", "n")?)
}

/// The OpenAPI paths of this module (nested into the main document).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        complaint_open, complaint_list, complaint_show, complaint_ack, complaint_note, complaint_close, complaint_notice,
        calendar_holidays, calendar_window, calendar_add_business_days,
    ),
    components(schemas(
        NewComplaintBody, NoteBody, CloseBody, OpenedResponse, ComplaintResponse, HolidayResponse, WindowResponse, DateResponse,
    )),
    tags((name = "complaints", description = "The complaint desk (seed 003 Art. 23)"), (name = "calendar", description = "Japanese holidays, business days, the complaint window"))
)]
pub struct ComplaintsApi;
