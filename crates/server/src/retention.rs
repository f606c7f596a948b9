//! API twins of `mamori retention sweep` and `mamori disposals list`, and the daily sweep the
//! server runs by itself (seed 000 Art. 8-4: destroyed promptly once the period has passed).
//! Backups, restores and key rotation stay on the command line: they are done by whoever holds
//! the data folder, never over the network.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mamori_service::Mamori;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::{ApiJson, ApiQuery, Problem};

type ApiResult<T> = Result<T, Problem>;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/retention/sweep", post(sweep))
        .route("/disposals", get(disposals))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SweepBody {
    /// Sweep as of this time (RFC 3339; default now). A real sweep takes no time later than
    /// the clock (422 naming `now`); only a dry run looks ahead.
    #[serde(default)]
    pub now: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// Go ahead although the sweep destroys more than a tenth of all principals (otherwise
    /// 422 naming `confirm_large`, nothing destroyed).
    #[serde(default)]
    pub confirm_large: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisposalsQuery {
    pub principal: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/retention/sweep", tag = "retention", request_body = SweepBody, security(("token" = []), ("session" = [])),
    responses((status = 200, description = "{destroyed: [ids], fields_removed, held, provision_records_purged, …}"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn sweep(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<SweepBody>,
) -> ApiResult<Response> {
    Ok(Json(
        s.mamori
            .retention_sweep(
                Some(&a.actor),
                b.now.as_deref(),
                b.dry_run,
                b.confirm_large,
                &mut |_| {},
            )
            .await?,
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/disposals", tag = "retention", params(DisposalsQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Disposal records (no values)"), (status = 403, body = Problem)))]
pub async fn disposals(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<DisposalsQuery>,
) -> ApiResult<Response> {
    Ok(Json(s.mamori.disposals(&a.actor, q.principal.as_deref()).await?).into_response())
}

/// The server's own sweep: at start, then every 24 hours, as `system`. It never confirms a
/// large sweep: one that would destroy more than a tenth of all principals is logged as refused
/// and left for a person to run with `--confirm-large`.
pub async fn daily(m: Mamori) {
    loop {
        match m
            .retention_sweep(None, None, false, false, &mut |_| {})
            .await
        {
            Ok(r) => tracing::info!(
                destroyed = r.destroyed.len(),
                fields_removed = r.fields_removed.len(),
                held = r.held.len(),
                provision_records_purged = r.provision_records_purged,
                "retention sweep"
            ),
            Err(e) => tracing::error!(error = %e, "retention sweep failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(sweep, disposals),
    components(schemas(SweepBody)),
    tags((name = "retention", description = "Retention sweeps and disposal records"))
)]
pub struct RetentionApi;
