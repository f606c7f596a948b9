//! HTTP: the JSON API under `/api/v1` (OpenAPI 3.1 at `/api/openapi.json`, a docs page at
//! `/api/docs`), `/healthz` and `/metrics`. Handlers are thin translations of `mamori-service`
//! use cases, so the API and the CLI never disagree; authorization is the same role/purpose
//! decision (401 without credentials, 403 with the rule when denied, 422 naming the field,
//! 413 for oversized bodies; errors as RFC 9457 problem details).
//!
//! No personal value is logged: request logs carry the method, the route template (never the
//! path or the query) and the status. Searches by email, phone or name are POST bodies, so
//! values never appear in URLs.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod accounts;
mod api;
mod auth;
mod complaints;
mod console;
mod error;
mod governance;
mod incidents;
mod metrics;
mod openapi;
mod pages;
mod portal;
mod provision;
mod requests;
mod retention;
mod students;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use mamori_service::Mamori;

pub use error::Problem;

/// Request bodies larger than this are refused with 413 (imports are the largest).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub mamori: Mamori,
    /// Mark session cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    pub metrics: Arc<metrics::Metrics>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Always mark cookies Secure (else only when `X-Forwarded-Proto: https` says TLS is in front).
    pub secure_cookies: bool,
}

pub fn router(mamori: Mamori, opts: &Options) -> Router {
    let state = AppState {
        mamori,
        secure_cookies: opts.secure_cookies,
        metrics: Arc::new(metrics::Metrics::default()),
    };
    let v1 = Router::new()
        .route("/login", post(api::login))
        .route("/logout", post(api::logout))
        .route("/me", get(api::me))
        .route("/status", get(api::status))
        .route("/presets", get(api::presets))
        .route("/policy", get(api::policy_show))
        .route("/policy/notice", get(api::policy_notice))
        .route("/policy/versions", get(api::policy_versions))
        .route("/policy/check", post(api::policy_check))
        .route("/policy/diff", post(api::policy_diff))
        .route("/policy/apply", post(api::policy_apply))
        .route("/staff", get(api::staff_list).post(api::staff_add))
        .route("/staff/{login}/tokens", post(api::staff_token))
        .route("/tokens/{id}", delete(api::token_revoke))
        .route("/principals", post(api::principal_add))
        .route("/principals/search", post(api::principal_find))
        .route(
            "/principals/{id}",
            get(api::principal_show).patch(api::principal_correct),
        )
        .route("/imports", post(api::import))
        .route("/audit", get(api::audit_log))
        .route("/audit/verify", post(api::audit_verify))
        .merge(provision::routes())
        .merge(requests::routes())
        .merge(students::routes())
        .merge(retention::routes())
        .merge(complaints::routes())
        .merge(incidents::routes())
        .merge(governance::routes())
        .merge(accounts::routes());
    Router::new()
        .nest("/api/v1", v1)
        .merge(portal::routes())
        .merge(console::routes())
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/docs", get(openapi::docs_page))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::render))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Security headers on every response (CSP, nosniff, no framing, no referrer leaks).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    res
}

/// Request log and metrics: method, route template and status only.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    state.metrics.record(method.as_str(), &route, status);
    tracing::info!(method = %method, route = %route, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    res
}

/// Serve until Ctrl-C or SIGTERM, finishing requests in flight (graceful shutdown). The
/// address actually bound is logged (with port 0 it is the only way to learn the port).
pub async fn serve(
    mamori: Mamori,
    listener: tokio::net::TcpListener,
    opts: Options,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "listening");
    let sweeper = tokio::spawn(retention::daily(mamori.clone()));
    let r = serve_on(mamori, listener, opts, shutdown_signal()).await;
    sweeper.abort();
    r
}

pub async fn serve_on(
    mamori: Mamori,
    listener: tokio::net::TcpListener,
    opts: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(mamori, &opts);
    // The peer address feeds the portal's per-client rate limit (never logged).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
