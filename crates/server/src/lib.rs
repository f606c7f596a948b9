//! HTTP: the JSON API under `/api/v1` (OpenAPI 3.1 at `/api/openapi.json`, a docs page at
//! `/api/docs`), `/healthz` and `/metrics`. Handlers are thin translations of `mamori-service`
//! use cases, so the API and the CLI never disagree; authorization is the same role/purpose
//! decision (401 without credentials, 403 with the rule when denied, 422 naming the field,
//! 413 for oversized bodies; errors as RFC 9457 problem details).
//!
//! No personal value is logged: request logs carry the method, the route template (never the
//! path or the query) and the status. Searches by email, phone or name are POST bodies, so
//! values never appear in URLs; nor does a statutory exception's reason (a POST body too).
//!
//! At the edge (issue 20): every JSON body must be an object and every bad query parameter is a
//! 422 problem document ([`error`]); the client address believes `X-Forwarded-For` only from
//! trusted proxies ([`client`]); a client that does not send its request headers within
//! [`Options::header_read_timeout`] is disconnected; the Content-Security-Policy allows no
//! script and no inline style (the pages' stylesheet is `/assets/mamori.css`; a printable
//! document's own `<style>` is allowed by its hash); HSTS is sent when served over TLS.
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
pub mod client;
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
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use mamori_service::Mamori;

pub use error::Problem;

/// Request bodies larger than this are refused with 413 (imports are the largest).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// A client that has not sent a request's headers after this long is disconnected (slow
/// clients holding connections open, "slowloris").
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// HSTS when served over TLS: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The Content-Security-Policy of every response: nothing runs (no script at all), styles only
/// from the server's own stylesheet, no framing. A printable document adds the hashes of its
/// own `<style>` blocks ([`document_csp`]).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Clone)]
pub struct AppState {
    pub mamori: Mamori,
    /// Mark session cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    pub metrics: Arc<metrics::Metrics>,
    /// Whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed ([`client::client_addr`]).
    pub trusted_proxies: Arc<client::TrustedProxies>,
}

impl AppState {
    /// Whether the request reached us over TLS: the operator said so (`secure_cookies`), or a
    /// trusted proxy says `X-Forwarded-Proto: https` (any sender, when no proxy is configured,
    /// as before trusted proxies existed; browsers ignore HSTS over plain HTTP anyway).
    pub fn over_tls(
        &self,
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> bool {
        if self.secure_cookies {
            return true;
        }
        if self.trusted_proxies.is_empty() {
            headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
        } else {
            client::forwarded_tls(peer, headers, &self.trusted_proxies)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Always mark cookies Secure and send HSTS (else only when `X-Forwarded-Proto: https` says
    /// TLS is in front).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`,
    /// `MAMORI_TRUSTED_PROXIES`; later `trusted_proxies` in `mamori.toml`).
    pub trusted_proxies: client::TrustedProxies,
    /// How long a client may take to send a request's headers ([`HEADER_READ_TIMEOUT`]).
    pub header_read_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            secure_cookies: false,
            trusted_proxies: client::TrustedProxies::default(),
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

pub fn router(mamori: Mamori, opts: &Options) -> Router {
    let state = AppState {
        mamori,
        secure_cookies: opts.secure_cookies,
        metrics: Arc::new(metrics::Metrics::default()),
        trusted_proxies: Arc::new(opts.trusted_proxies.clone()),
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
        .route("/principals/{id}/read", post(api::principal_read))
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
        .route("/assets/mamori.css", get(stylesheet))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::render))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

const STYLESHEET: &str = include_str!("../assets/mamori.css");

/// The pages' stylesheet (vendored in the binary; nothing is downloaded).
async fn stylesheet() -> Response {
    let mut res = STYLESHEET.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

/// The Content-Security-Policy of a document made by the service: [`CSP`] with the SHA-256
/// hash of each of its `<style>` blocks allowed (CSP Level 2 hash sources).
pub fn document_csp(html: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let mut hashes = String::new();
    let mut rest = html;
    while let Some((_, after)) = rest.split_once("<style>") {
        let Some((css, tail)) = after.split_once("</style>") else {
            break;
        };
        let digest = sha2::Sha256::digest(css.as_bytes());
        hashes.push_str(&format!(
            " 'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = tail;
    }
    CSP.replacen("style-src 'self'", &format!("style-src 'self'{hashes}"), 1)
}

/// Security headers on every response (CSP, nosniff, no framing, no referrer leaks; HSTS over
/// TLS). A response that set its own CSP (a printable document) keeps it.
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let tls = state.over_tls(peer, req.headers());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, "content-security-policy", CSP);
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    if tls {
        set(h, "strict-transport-security", HSTS);
    }
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

/// Serve `listener` until `shutdown` completes, then finish the requests in flight. Each
/// connection is HTTP/1.1 with a header-read timeout ([`Options::header_read_timeout`]); the
/// peer address is given to the handlers as `ConnectInfo` (for [`client::client_addr`]; never
/// logged).
pub async fn serve_on(
    mamori: Mamori,
    listener: tokio::net::TcpListener,
    opts: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let header_timeout = opts.header_read_timeout;
    let app = router(mamori, &opts);
    // Every connection task holds a receiver; when all are dropped, the last request is done.
    let (closed_tx, closed_rx) = tokio::sync::watch::channel(());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Too many open files and the like: wait, then accept again.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let mut stop = stop_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(remote));
                    app.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    changed = stop.changed() => {
                        conn.as_mut().graceful_shutdown();
                        if changed.is_err() {
                            let _ = conn.as_mut().await;
                            break;
                        }
                    }
                }
            }
            drop(closed);
        });
    }
    drop(listener);
    drop(closed_rx);
    let _ = stop_tx.send(true);
    closed_tx.closed().await;
    Ok(())
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
