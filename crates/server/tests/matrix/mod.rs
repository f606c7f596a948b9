//! The authorization matrix (issue 14): every route of the OpenAPI document (generated from the
//! handlers) × anonymous and every role. Anonymous callers get 401 on every route that is not
//! public; no role ever gets a 5xx; the roles that read no personal values (admin, auditor) never
//! get a success from a route that reveals them, and no response to them carries a value.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{PW, start};

/// Routes anyone may call (the published policy, sign-in, the calendar, probes).
fn public(path: &str) -> bool {
    path.starts_with("/api/v1/presets")
        || path.starts_with("/api/v1/policy") && !path.starts_with("/api/v1/policy/apply")
        || path.starts_with("/api/v1/login")
        || path.starts_with("/api/v1/logout")
        || path.starts_with("/api/v1/calendar")
}

/// Routes whose success releases personal values.
fn reveals(method: &str, path: &str) -> bool {
    (method == "get" && path == "/api/v1/principals/{id}")
        || (method == "post" && path == "/api/v1/provisions")
        || (method == "post" && path == "/api/v1/requests/{id}/fulfil")
}

#[tokio::test]
async fn every_route_by_every_role_and_anonymous() {
    let s = start(None).await;
    let pid = s.add().await;
    let doc: Value = s
        .http
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap().clone();
    assert!(
        paths.len() >= 30,
        "the document lists the routes: {}",
        paths.len()
    );
    let mut tokens = vec![("anonymous".to_string(), None)];
    for (login, role) in [
        ("admin", "admin"),
        ("boss", "manager"),
        ("kansa", "auditor"),
        ("sato", "clerk"),
    ] {
        let _ = role;
        tokens.push((
            login.to_string(),
            Some(s.m.staff_token(login).await.unwrap().token),
        ));
    }
    let _ = PW;
    let mut checked = 0;
    for (path, item) in &paths {
        for (method, _op) in item.as_object().unwrap() {
            let concrete = path
                .replace("{id}", &pid)
                .replace("{login}", "sato")
                .replace("{year}", "2026");
            let url = s.url(&format!(
                "{concrete}{}",
                if concrete.contains("/principals/") && method == "get" {
                    "?purpose=registration_contact"
                } else {
                    ""
                }
            ));
            for (who, token) in &tokens {
                let mut req = match method.as_str() {
                    "get" => s.http.get(&url),
                    "post" => s.http.post(&url).json(&json!({})),
                    "patch" => s.http.patch(&url).json(&json!({})),
                    "delete" => s.http.delete(&url),
                    other => panic!("method {other}"),
                };
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let r = req.send().await.unwrap();
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                checked += 1;
                assert!(
                    !status.is_server_error() || path.ends_with("/audit/verify"),
                    "{who} {method} {path}: {status} {body}"
                );
                if token.is_none() && !public(path) {
                    assert_eq!(
                        status,
                        StatusCode::UNAUTHORIZED,
                        "anonymous {method} {path}: {body}"
                    );
                }
                if (who == "admin" || who == "kansa") && reveals(method, path) {
                    assert!(
                        !status.is_success(),
                        "{who} {method} {path} must not reveal values: {status}"
                    );
                }
                if who == "admin" || who == "kansa" {
                    assert!(
                        !body.contains("hoa@example.com") && !body.contains("Le Thi Hoa"),
                        "{who} {method} {path} leaked a value"
                    );
                }
            }
        }
    }
    assert!(checked >= 150, "{checked} calls");
}
