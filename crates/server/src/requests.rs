//! API twins of `mamori request …` (APPI 32-39; seed 000 Art. 9).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mamori_policy::Lang;
use mamori_service::request::OpenRequest;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::{ApiJson, ApiQuery, MaybeJson, Problem};

type ApiResult<T> = Result<T, Problem>;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/requests", get(list).post(open))
        .route("/requests/{id}", get(show))
        .route("/requests/{id}/link", post(link))
        .route("/requests/{id}/verify", post(verify))
        .route("/requests/{id}/fulfil", post(fulfil))
        .route("/requests/{id}/refuse", post(refuse))
        .route("/requests/{id}/notice", get(notice))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    #[serde(default)]
    pub principal: Option<String>,
    /// purpose-notice, disclosure, correction, suspension, erasure, provision-stop.
    pub kind: String,
    /// RFC 3339; without an offset, Japan time.
    pub received_at: String,
    /// counter, mail, email, phone, portal.
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    /// ja or en.
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    pub principal: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// An identity check method of the policy.
    pub method: String,
    /// What the check rests on: the document seen and at most the last four digits of its
    /// number, or the code the principal entered (required; 422 naming `evidence`).
    #[serde(default)]
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FulfilBody {
    /// For a correction: category → corrected value.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseBody {
    /// unverifiable, already-erased, serious-hindrance, harm, other-law.
    pub ground: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub overdue: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// json (default) or html: the printable disclosure package / purpose notice.
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    pub lang: Option<String>,
}

fn html(page: String) -> Response {
    crate::pages::document(page)
}

#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = OpenBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "{id, answer_by, kind, status, fee_yen}"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn open(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<OpenBody>,
) -> ApiResult<Response> {
    let lang = b
        .lang
        .as_deref()
        .map(|l| {
            l.parse::<Lang>()
                .map_err(|e| Problem::unprocessable(format!("lang: {e}")))
        })
        .transpose()?;
    let o = s
        .mamori
        .request_open(
            &a.actor,
            OpenRequest {
                principal_id: b.principal,
                kind: b.kind,
                received_at: b.received_at,
                channel: b.channel,
                purpose: b.purpose,
                details: b.details,
                lang,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(o)).into_response())
}

#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(ListQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "[{id, kind, status, answer_by, overdue, …}]"), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .request_list(&a.actor, q.overdue.unwrap_or(false), None)
            .await?,
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests", params(("id" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn show(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.request_show(&a.actor, &id).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/link", tag = "requests", params(("id" = String, Path)), request_body = LinkBody,
    security(("token" = []), ("session" = [])), responses((status = 200), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn link(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LinkBody>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.request_link(&a.actor, &id, &b.principal).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/verify", tag = "requests", params(("id" = String, Path)), request_body = VerifyBody,
    security(("token" = []), ("session" = [])), responses((status = 200), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn verify(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<VerifyBody>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .request_verify(&a.actor, &id, &b.method, b.evidence.as_deref())
            .await?,
    )
    .into_response())
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/fulfil", tag = "requests", params(("id" = String, Path), FormatQuery), request_body = FulfilBody,
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The result; for disclosure and purpose-notice the package (JSON, or the printable page with ?format=html)"),
              (status = 404, body = Problem), (status = 422, body = Problem, description = "e.g. not verified yet")))]
pub async fn fulfil(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<FormatQuery>,
    MaybeJson(body): MaybeJson<FulfilBody>,
) -> ApiResult<Response> {
    let want_html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => {
            return Err(Problem::unprocessable(
                "format: is not a format: use json or html",
            ));
        }
    };
    // The body is optional: only a correction carries one.
    let fields: Vec<(String, String)> = body
        .map(|b| b.fields.into_iter().collect())
        .unwrap_or_default();
    let f = s
        .mamori
        .request_fulfil(&a.actor, &id, &fields, None)
        .await?;
    match (want_html, &f.html) {
        (true, Some(page)) => Ok(html(page.clone())),
        _ => Ok(Json(f).into_response()),
    }
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/refuse", tag = "requests", params(("id" = String, Path)), request_body = RefuseBody,
    security(("token" = []), ("session" = [])), responses((status = 200), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn refuse(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RefuseBody>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .request_refuse(&a.actor, &id, &b.ground, &b.reason, None)
            .await?,
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/requests/{id}/notice", tag = "requests", params(("id" = String, Path), LangQuery),
    security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The letter to the principal (text/html)"), (status = 404, body = Problem)))]
pub async fn notice(
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
        .transpose()?;
    Ok(html(s.mamori.request_notice(&a.actor, &id, lang).await?))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(open, list, show, link, verify, fulfil, refuse, notice),
    components(schemas(OpenBody, LinkBody, VerifyBody, FulfilBody, RefuseBody)),
    tags((name = "requests", description = "Principals' requests: disclosure, correction, suspension, erasure, provision stop"))
)]
pub struct RequestsApi;
