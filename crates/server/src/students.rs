//! `/api/v1/refunds/compute` and `/api/v1/students…`: the twins of `mamori refund compute` and
//! `mamori student …` (seed 003 学費返還規定; issue 10), thin translations of
//! `mamori_service::student`. Every route needs a signed-in staff member; `refunds/compute` is
//! pure (the policy in effect), the student routes need the role action `register` (changes) or
//! `read` and the purpose `fee_management` (403 with the rule otherwise). Payment tokens travel
//! in JSON bodies, never in URLs; card numbers are refused (422).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mamori_policy::Lang;
use mamori_service::student::{self, NewEvent, NewPayment, OpenStudent};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::{ApiJson, ApiQuery, MaybeJson, Problem};

type ApiResult<T> = Result<T, Problem>;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/refunds/compute", post(refund_compute))
        .route("/students", get(student_list).post(student_open))
        .route("/students/{id}", get(student_show))
        .route("/students/{id}/events", post(student_event))
        .route("/students/{id}/payments", post(student_pay))
        .route("/students/{id}/refund", post(student_refund))
        .route("/students/{id}/statement", get(student_statement))
        .route("/students/{id}/graduate", post(student_graduate))
}

/// DESIGN.md `refund compute` input.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RefundCaseBody {
    /// coe_not_issued, visa_not_applied, visa_refused, withdrew_before_arrival,
    /// withdrew_after_enrollment.
    pub event: String,
    /// {"term_months": N, "terms": N}
    pub course: serde_json::Value,
    /// {"screening_fee": N, "admission_fee": N, "tuition": [per term, term 1 first], "other_fees": N}
    pub paid: serde_json::Value,
    /// The term in which the withdrawal notice was submitted (withdrew_after_enrollment).
    pub withdrawal_notice_term: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenStudentBody {
    /// The principal (registered through the admission_application channel).
    pub principal: String,
    pub term_months: u32,
    pub terms: u32,
    /// The application date, YYYY-MM-DD (default today in Japan).
    #[serde(default)]
    pub on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// coe_applied, coe_issued, coe_not_issued, visa_applied, visa_issued, visa_refused,
    /// visa_not_applied, arrived, declined, enrolled, withdrawal_notice, graduated.
    pub kind: String,
    /// YYYY-MM-DD (default today in Japan).
    #[serde(default)]
    pub on: Option<String>,
    /// At enrollment, when the course differs from the one applied for.
    #[serde(default)]
    pub term_months: Option<u32>,
    #[serde(default)]
    pub terms: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// screening_fee, admission_fee, tuition, other_fees.
    pub item: String,
    /// Tuition only: the term (1-based).
    #[serde(default)]
    pub term: Option<u32>,
    pub yen: i64,
    /// The payment processor's token (never a card number).
    pub token: String,
    /// YYYY-MM-DD (default today in Japan).
    #[serde(default)]
    pub on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// The refund event; must match the record (derived from it when absent).
    #[serde(default)]
    pub event: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GraduateBody {
    /// Move the principal to the alumni channel (needs consent for alumni_contact).
    #[serde(default)]
    pub to_alumni: bool,
    #[serde(default)]
    pub on: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// ja (default) or en.
    pub lang: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/refunds/compute", tag = "students", request_body = RefundCaseBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "{refund, retained, lines: [{item, paid, refund, rule}]} (tuition lines also carry term)"),
              (status = 401, body = Problem), (status = 422, body = Problem, description = "Bad input, naming the field")))]
pub async fn refund_compute(
    State(s): State<AppState>,
    _a: Authed,
    ApiJson(case): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let r = student::refund_compute(&s.mamori.policy(), &case)?;
    Ok(Json(r).into_response())
}

#[utoipa::path(post, path = "/api/v1/students", tag = "students", request_body = OpenStudentBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The student record"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn student_open(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<OpenStudentBody>,
) -> ApiResult<Response> {
    let i = s
        .mamori
        .student_open(
            &a.actor,
            OpenStudent {
                principal_id: b.principal,
                term_months: b.term_months,
                terms: b.terms,
                applied_on: b.on,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(i)).into_response())
}

#[utoipa::path(get, path = "/api/v1/students", tag = "students", security(("token" = []), ("session" = [])),
    responses((status = 200, description = "[{id, principal_id, stage, stage_on, …}]"), (status = 403, body = Problem)))]
pub async fn student_list(State(s): State<AppState>, a: Authed) -> ApiResult<Response> {
    Ok(Json(s.mamori.student_list(&a.actor).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/students/{id}", tag = "students", params(("id" = String, Path)),
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The record, its events, payments (never tokens) and refund"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn student_show(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.student_show(&a.actor, &id).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/students/{id}/events", tag = "students", params(("id" = String, Path)), request_body = EventBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The record after the event"), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem, description = "e.g. the event cannot follow the stage (学費返還規定 situation)")))]
pub async fn student_event(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<EventBody>,
) -> ApiResult<Response> {
    let i = s
        .mamori
        .student_event(
            &a.actor,
            &id,
            NewEvent {
                kind: b.kind,
                on: b.on,
                term_months: b.term_months,
                terms: b.terms,
            },
        )
        .await?;
    Ok(Json(i).into_response())
}

#[utoipa::path(post, path = "/api/v1/students/{id}/payments", tag = "students", params(("id" = String, Path)), request_body = PaymentBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The payment (the token is kept sealed, never shown)"), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem, description = "e.g. a card number instead of a token")))]
pub async fn student_pay(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PaymentBody>,
) -> ApiResult<Response> {
    let p = s
        .mamori
        .student_pay(
            &a.actor,
            &id,
            NewPayment {
                item: b.item,
                term: b.term,
                yen: b.yen,
                token: b.token,
                paid_on: b.on,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

#[utoipa::path(post, path = "/api/v1/students/{id}/refund", tag = "students", params(("id" = String, Path)), request_body = RefundBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The refund, recorded against the payments: {id, event, refund, retained, lines}"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn student_refund(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    MaybeJson(b): MaybeJson<RefundBody>,
) -> ApiResult<Response> {
    let b = b.unwrap_or_default();
    let r = s
        .mamori
        .student_refund(&a.actor, &id, b.event.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(get, path = "/api/v1/students/{id}/statement", tag = "students", params(("id" = String, Path), LangQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The refund statement (text/html)"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn student_statement(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> ApiResult<Response> {
    let lang = q
        .lang
        .as_deref()
        .map(|l| {
            l.parse::<Lang>()
                .map_err(|e| Problem::unprocessable(format!("lang: {e}")))
        })
        .transpose()?
        .unwrap_or_default();
    let page = s.mamori.student_statement(&a.actor, &id, lang).await?;
    Ok(crate::pages::document(page))
}

#[utoipa::path(post, path = "/api/v1/students/{id}/graduate", tag = "students", params(("id" = String, Path)), request_body = GraduateBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "{id, principal_id, stage, channel, moved_to_alumni}"),
              (status = 403, body = Problem, description = "e.g. no consent for the alumni channel's purposes (APPI 17(2), 18(1))"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn student_graduate(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    MaybeJson(b): MaybeJson<GraduateBody>,
) -> ApiResult<Response> {
    let b = b.unwrap_or_default();
    let g = s
        .mamori
        .student_graduate(&a.actor, &id, b.on.as_deref(), b.to_alumni)
        .await?;
    Ok(Json(g).into_response())
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(refund_compute, student_open, student_list, student_show, student_event, student_pay, student_refund, student_statement, student_graduate),
    components(schemas(RefundCaseBody, OpenStudentBody, EventBody, PaymentBody, RefundBody, GraduateBody)),
    tags((name = "students", description = "The school's students, fees and refunds under the 学費返還規定"))
)]
pub struct StudentsApi;
