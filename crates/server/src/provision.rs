//! API twins of `mamori consent`, `provide`, `provisions list` and `recipient list|review`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mamori_service::principal::parse_exception;
use mamori_service::provision::{ConsentTarget, ProvideRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::{ApiJson, ApiQuery, Problem};

type ApiResult<T> = Result<T, Problem>;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/principals/{id}/consents",
            get(consents_list).post(consent_give),
        )
        .route("/principals/{id}/consents/withdraw", post(consent_withdraw))
        .route("/provisions", get(provisions_list).post(provide))
        .route("/recipients", get(recipients))
        .route("/recipients/{id}/reviews", post(review))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    /// Exactly one of purpose or recipient.
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
    /// Where the consent is kept (a form number), never a personal value.
    #[serde(default)]
    pub evidence: Option<String>,
    /// For a recipient abroad: the principal was told the country, its regime and the
    /// recipient's measures (APPI 28(2)).
    #[serde(default)]
    pub informed_abroad: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvideBody {
    pub principal: String,
    pub recipient: String,
    pub purpose: String,
    pub fields: Vec<String>,
    /// `consent`, or a statutory exception: law, life, public-health, public-agency.
    #[serde(default)]
    pub basis: Option<String>,
    /// The written reason for a statutory exception.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProvidedResponse {
    pub provision_id: String,
    pub basis: String,
    /// YYYY-MM-DD, or null when no provision record is required.
    pub record_kept_until: Option<String>,
    pub recipient: String,
    pub fields: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `contract` or `measures`; needed only for a contractor abroad.
    #[serde(default)]
    pub kind: Option<String>,
    /// YYYY-MM-DD.
    pub reviewed_on: String,
    #[serde(default)]
    pub clauses: Option<Vec<String>>,
    #[serde(default)]
    pub next_due: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProvisionsQuery {
    pub principal: Option<String>,
}

fn target(purpose: Option<String>, recipient: Option<String>) -> ApiResult<ConsentTarget> {
    ConsentTarget::from_flags(purpose, recipient)
        .map_err(|_| Problem::unprocessable("body: give exactly one of purpose or recipient"))
}

#[utoipa::path(post, path = "/api/v1/principals/{id}/consents", tag = "consent", params(("id" = String, Path)), request_body = ConsentBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, description = "{consent_id, already}"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn consent_give(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ConsentBody>,
) -> ApiResult<Response> {
    let t = target(b.purpose, b.recipient)?;
    let g = s
        .mamori
        .consent_give(&a.actor, &id, &t, b.evidence.as_deref(), b.informed_abroad)
        .await?;
    let status = if g.already {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(g)).into_response())
}

#[utoipa::path(post, path = "/api/v1/principals/{id}/consents/withdraw", tag = "consent", params(("id" = String, Path)), request_body = WithdrawBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "{withdrawn: [consent ids]}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn consent_withdraw(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WithdrawBody>,
) -> ApiResult<Response> {
    let t = target(b.purpose, b.recipient)?;
    Ok(Json(s.mamori.consent_withdraw(&a.actor, &id, &t).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/principals/{id}/consents", tag = "consent", params(("id" = String, Path)),
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Consent records, no personal values"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn consents_list(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.consents_list(&a.actor, &id).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/provisions", tag = "consent", request_body = ProvideBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, body = ProvidedResponse), (status = 403, body = Problem, description = "denied: the rule"), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn provide(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<ProvideBody>,
) -> ApiResult<Response> {
    let (exception, require_consent) = match b.basis.as_deref() {
        Some("consent") => (None, true),
        other => (parse_exception(other, b.reason.as_deref())?, false),
    };
    let p = s
        .mamori
        .provide(
            &a.actor,
            ProvideRequest {
                principal_id: b.principal,
                recipient: b.recipient,
                purpose: b.purpose,
                fields: b.fields,
                exception,
                require_consent,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

#[utoipa::path(get, path = "/api/v1/provisions", tag = "consent", params(ProvisionsQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Provision records (APPI 29), newest first"), (status = 403, body = Problem)))]
pub async fn provisions_list(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ProvisionsQuery>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .provisions_list(&a.actor, q.principal.as_deref())
            .await?,
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/recipients", tag = "consent",
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Recipients with contract and review state"), (status = 403, body = Problem)))]
pub async fn recipients(State(s): State<AppState>, a: Authed) -> ApiResult<Response> {
    Ok(Json(s.mamori.recipients_status(&a.actor).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/recipients/{id}/reviews", tag = "consent", params(("id" = String, Path)), request_body = ReviewBody,
    security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The review as recorded"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn review(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> ApiResult<Response> {
    let r = s
        .mamori
        .recipient_review(
            &a.actor,
            &id,
            b.kind.as_deref(),
            &b.reviewed_on,
            b.clauses.as_deref(),
            b.next_due.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(consent_give, consent_withdraw, consents_list, provide, provisions_list, recipients, review),
    components(schemas(ConsentBody, WithdrawBody, ProvideBody, ProvidedResponse, ReviewBody)),
    tags((name = "consent", description = "Consent, provision to others, contractors"))
)]
pub struct ProvisionApi;
