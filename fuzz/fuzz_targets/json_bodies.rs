//! JSON bodies over the whole HTTP router (issue 14): every `/api/v1` operation that takes a JSON
//! body is sent arbitrary bytes by a manager and by the administrator. The server never panics
//! and never answers 5xx: a body it cannot take is a 4xx problem document whose one line names
//! what is wrong.
//! The operations come from the server's own OpenAPI document, so a new route is fuzzed too.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;
use mamori_service::{Config, Mamori};
use tower::ServiceExt;

struct App {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    /// (method, path with `{id}` replaced) of every operation with a JSON body.
    ops: Vec<(Method, String)>,
    tokens: [String; 2],
    _dir: tempfile::TempDir,
}

const PW: &str = "correct horse battery";

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let (router, ops, tokens) = rt.block_on(async {
            let cfg = Config {
                data_dir: dir.path().join("data"),
                database_url: None,
            };
            let text = mamori_policy::preset("chiba-ia").expect("preset");
            let (m, _) = Mamori::init(&cfg, text, "chiba-ia", Some("chiba-ia"), Some(("admin", PW)))
                .await
                .expect("init");
            m.staff_add(None, "boss", "manager", None, PW).await.expect("staff");
            let tokens = [
                m.staff_token("boss").await.expect("token").token,
                m.staff_token("admin").await.expect("token").token,
            ];
            let router = mamori_server::router(m, &mamori_server::Options::default());
            let res = router
                .clone()
                .oneshot(Request::get("/api/openapi.json").body(Body::empty()).expect("request"))
                .await
                .expect("openapi");
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            let doc: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            let mut ops = Vec::new();
            for (path, item) in doc["paths"].as_object().expect("paths") {
                for (method, op) in item.as_object().expect("item") {
                    if op["requestBody"]["content"]["application/json"].is_object() {
                        let path = path
                            .replace("{id}", "p_0000000000000000")
                            .replace("{login}", "boss");
                        ops.push((method.to_uppercase().parse::<Method>().expect("method"), path));
                    }
                }
            }
            ops.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
            (router, ops, tokens)
        });
        assert!(ops.len() >= 20, "the document lists the JSON operations: {ops:?}");
        App { rt, router, ops, tokens, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((which, body)) = data.split_first() else {
        return;
    };
    let app = app();
    let (method, path) = &app.ops[usize::from(*which >> 1) % app.ops.len()];
    let token = &app.tokens[usize::from(*which & 1)];
    let req = Request::builder()
        .method(method.clone())
        .uri(path.as_str())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_vec()))
        .expect("request");
    let res = app
        .rt
        .block_on(app.router.clone().oneshot(req))
        .expect("infallible");
    let status = res.status();
    assert!(!status.is_server_error(), "{method} {path}: {status}");
    if status.is_client_error() {
        let ct = res.headers().get(header::CONTENT_TYPE).cloned();
        assert_eq!(
            ct.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{method} {path}: {status} without a problem document"
        );
        // One line a person can act on (a policy's problems are listed one per line by design).
        if !path.starts_with("/api/v1/policy") {
            let bytes = app
                .rt
                .block_on(axum::body::to_bytes(res.into_body(), usize::MAX))
                .expect("body");
            let problem: serde_json::Value = serde_json::from_slice(&bytes).expect("problem JSON");
            let detail = problem["detail"].as_str().unwrap_or("");
            assert!(!detail.contains('\n'), "{method} {path}: {detail}");
        }
    }
});
