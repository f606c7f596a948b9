//! API twins of `mamori staff password|unlock|enable` (`staff invite` is `POST /api/v1/staff`),
//! the setup link and "change my
//! password" (issue 20; seed 000 Art. 8-1, 8-5). Thin over [`mamori_service::staff`]: the
//! administrator invites and resets, never chooses a password; the person sets theirs at the
//! setup link (`POST /api/v1/staff/setup`, or the console page the link opens) or changes it
//! signed in (`POST /api/v1/me/password`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Authed, SESSION_COOKIE};
use crate::error::{ApiJson, Problem};

type ApiResult<T> = Result<T, Problem>;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/staff/setup", post(setup))
        .route("/staff/{login}/password", post(reset))
        .route("/staff/{login}/unlock", post(unlock))
        .route("/staff/{login}/enable", post(enable))
        .route("/me/password", post(change))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupBody {
    /// The token of the setup link (the part after `/console/setup/`).
    pub token: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/staff/setup", tag = "staff", request_body = SetupBody,
    responses((status = 200, description = "The password is set; sign in with it"), (status = 422, body = Problem)))]
pub async fn setup(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<SetupBody>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.setup_password(&b.token, &b.password).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/staff/{login}/password", tag = "staff", params(("login" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The old password no longer works; a new setup link (72 hours)"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset(
    State(s): State<AppState>,
    a: Authed,
    Path(login): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .staff_password_reset(Some(&a.actor), &login)
            .await?,
    )
    .into_response())
}

#[utoipa::path(post, path = "/api/v1/staff/{login}/unlock", tag = "staff", params(("login" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn unlock(
    State(s): State<AppState>,
    a: Authed,
    Path(login): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.staff_unlock(Some(&a.actor), &login).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/staff/{login}/enable", tag = "staff", params(("login" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 200), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn enable(
    State(s): State<AppState>,
    a: Authed,
    Path(login): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.staff_enable(Some(&a.actor), &login).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = ChangePasswordBody, security(("token" = []), ("session" = [])),
    responses((status = 204, description = "Changed; the caller's other sessions end"), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn change(
    State(s): State<AppState>,
    a: Authed,
    headers: HeaderMap,
    ApiJson(b): ApiJson<ChangePasswordBody>,
) -> ApiResult<Response> {
    let keep = crate::pages::cookie(&headers, SESSION_COOKIE);
    s.mamori
        .change_password(
            &a.actor,
            &b.current_password,
            &b.new_password,
            keep.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(setup, reset, unlock, enable, change),
    components(schemas(SetupBody, ChangePasswordBody))
)]
pub struct AccountsApi;
