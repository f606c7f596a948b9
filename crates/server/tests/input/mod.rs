//! Trust at the edges, input (issue 20), over real HTTP on SQLite and PostgreSQL: each attack
//! that worked before is replayed and now fails with a one-line problem naming the field, and
//! changes nothing (the store's counts, the audit log included, are the same before and after).
//! - bodies that are not JSON objects (`[]` once ran a real retention sweep);
//! - bad query parameters (a plain-text 400 before) and purposes echoed back;
//! - a statutory exception's reason in the URL (proxies log URLs): refused, the POST twin takes it;
//! - card numbers in disguise;
//! - `X-Forwarded-For` from anyone (every visitor behind a proxy shared one rate limit, and
//!   anyone could pick a fresh address);
//! - slow clients (header-read timeout), CSP without `unsafe-inline`, HSTS over TLS.

use std::time::Duration;

use mamori_service::{Config, Mamori};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{PW, Srv, on_both, problem, start};

/// Everything the store counts (principals, audit entries, requests, …): equal before and after
/// a refused attack.
async fn counts(s: &Srv) -> Value {
    s.m.status().await.unwrap()
}

async fn send_raw(
    s: &Srv,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &str,
) -> reqwest::Response {
    s.http
        .request(method, s.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_json_array_or_any_body_that_is_not_an_object_is_refused_by_every_endpoint() {
    on_both(|s| async move {
        let boss = s.m.staff_token("boss").await.unwrap().token;
        let id = s.add().await;
        let before = counts(&s).await;
        // The attack: a real sweep ran on `[]`.
        let d = problem(
            send_raw(
                &s,
                reqwest::Method::POST,
                "/api/v1/retention/sweep",
                &boss,
                "[]",
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            d,
            "body: is a JSON array: send a JSON object ({\"name\": value, …}) with the fields named"
        );
        // Every operation that takes a JSON body, from the OpenAPI document.
        let doc: Value = s.get("/api/openapi.json", None).await.json().await.unwrap();
        let mut ops = 0;
        // Bodies that may be left out altogether (only a correction carries fields).
        let optional: Vec<String> = [
            "/api/v1/requests/{id}/fulfil",
            "/api/v1/students/{id}/refund",
            "/api/v1/students/{id}/graduate",
        ]
        .iter()
        .map(|p| p.replace("{id}", &id))
        .collect();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !op["requestBody"]["content"]["application/json"].is_object() {
                    continue;
                }
                ops += 1;
                let path = path.replace("{id}", &id).replace("{login}", "sato");
                let method: reqwest::Method = method.to_uppercase().parse().unwrap();
                for (body, says) in [
                    ("[]", "is a JSON array"),
                    (
                        "[\"volunteer\", {\"name\": \"Le Thi Hoa\"}]",
                        "is a JSON array",
                    ),
                    ("[true]", "is a JSON array"),
                    ("\"hoa@example.com\"", "is not a JSON object"),
                    ("null", "is not a JSON object"),
                    ("7", "is not a JSON object"),
                    ("", "is empty"),
                ] {
                    if (body.is_empty() || body == "null") && optional.contains(&path) {
                        continue;
                    }
                    let r = send_raw(&s, method.clone(), &path, &boss, body).await;
                    assert_eq!(
                        r.status(),
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "{method} {path}"
                    );
                    let d = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
                    assert!(
                        d.starts_with("body: ") && d.contains(says) && !d.contains('\n'),
                        "{method} {path} {body}: {d}"
                    );
                    assert!(!d.contains("hoa@") && !d.contains("Le Thi"), "{d}");
                }
            }
        }
        assert!(ops >= 30, "{ops} JSON operations");
        assert_eq!(counts(&s).await, before, "a refused body changes nothing");
        // An object still works.
        let r = s
            .post(
                "/api/v1/retention/sweep",
                Some(&boss),
                json!({"dry_run": true}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_bad_query_parameter_is_a_422_problem_naming_it_without_its_value() {
    on_both(|s| async move {
        let boss = s.m.staff_token("boss").await.unwrap().token;
        let before = counts(&s).await;
        for (path, says) in [
            (
                "/api/v1/requests?overdue=x",
                "overdue: must be true or false",
            ),
            (
                "/api/v1/complaints?overdue=hoa%40example.com",
                "overdue: use true or false",
            ),
            (
                "/api/v1/audit?limit=Le%20Thi%20Hoa",
                "limit: must be a whole number",
            ),
            (
                "/api/v1/imports?channel=volunteer&special_care_consent=maybe",
                "special_care_consent: must be true or false",
            ),
        ] {
            let r = if path.starts_with("/api/v1/imports") {
                s.http
                    .post(s.url(path))
                    .bearer_auth(&boss)
                    .body("name\nA\n")
                    .send()
                    .await
                    .unwrap()
            } else {
                s.get(path, Some(&boss)).await
            };
            let d = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(d.starts_with(says), "{path}: {d}");
            assert!(
                !d.contains("hoa@") && !d.contains("Le Thi") && !d.contains("maybe"),
                "{path}: {d}"
            );
        }
        assert_eq!(counts(&s).await, before);
    })
    .await;
}

#[tokio::test]
async fn a_purpose_that_is_not_in_the_policy_is_never_quoted_back() {
    on_both(|s| async move {
        let id = s.add().await;
        let t = Some(s.clerk_token.as_str());
        let before = counts(&s).await;
        let typed = "Le Thi Hoa 090-3333-4444";
        let d = problem(
            s.get(&format!("/api/v1/principals/{id}?purpose=Le%20Thi%20Hoa%20090-3333-4444"), t)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(d.starts_with("purpose: is not a purpose of this policy: use one of"), "{d}");
        // The search refused the role first and quoted the text in its 403 (and on the log).
        let d = problem(
            s.post("/api/v1/principals/search", t, json!({"purpose": typed, "email": "hoa@example.com"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(d.starts_with("purpose: is not a purpose of this policy"), "{d}");
        assert!(!d.contains("Le Thi") && !d.contains("3333"), "{d}");
        let d = problem(
            s.post(&format!("/api/v1/principals/{id}/read"), t, json!({"purpose": typed}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(d.starts_with("purpose: is not a purpose") && !d.contains("Le Thi"), "{d}");
        let d = problem(
            s.get(&format!("/api/v1/principals/{id}?purpose=registration_contact&fields=name,Le%20Thi%20Hoa"), t)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(d.starts_with("fields: one of the fields is not a category") && !d.contains("Le Thi"), "{d}");
        // A name or an address typed where an id belongs is not repeated either.
        let d = problem(
            s.get("/api/v1/principals/hoa@example.com?purpose=registration_contact", t)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            d,
            "ID: there is no principal with that id (an id is p_ followed by letters and digits)"
        );
        let d = problem(
            s.post(
                "/api/v1/requests",
                t,
                json!({"principal": "Le Thi Hoa", "kind": "disclosure", "received_at": "2026-11-20T10:00:00+09:00"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert!(d.contains("principal with that id") && !d.contains("Le Thi"), "{d}");
        let d = problem(s.get("/api/v1/principals/p_0000000000000000?purpose=registration_contact", t).await, StatusCode::NOT_FOUND).await;
        assert_eq!(d, "ID: there is no principal p_0000000000000000");
        assert_eq!(counts(&s).await, before, "nothing was logged with the typed text");
        // A known purpose the role lacks is named: it is the policy's id, not input.
        let auditor = s.m.staff_token("kansa").await.unwrap().token;
        let d = problem(
            s.post("/api/v1/principals/search", Some(&auditor), json!({"purpose": "registration_contact", "email": "hoa@example.com"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(d.starts_with("denied: role auditor may not"), "{d}");
    })
    .await;
}

#[tokio::test]
async fn a_statutory_exception_reason_in_the_url_is_refused_and_the_post_twin_takes_it() {
    on_both(|s| async move {
        let id = s.add().await;
        let t = Some(s.clerk_token.as_str());
        let boss = s.m.staff_token("boss").await.unwrap().token;
        let before = counts(&s).await;
        for q in [
            "?purpose=inquiry_response&basis=law&reason=Le%20Thi%20Hoa%20%E7%85%A7%E4%BC%9A",
            "?purpose=inquiry_response&reason=Le%20Thi%20Hoa",
            "?purpose=inquiry_response&basis=law",
        ] {
            let d = problem(
                s.get(&format!("/api/v1/principals/{id}{q}"), t).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert!(
                (d.starts_with("reason: ") || d.starts_with("basis: "))
                    && d.contains("never sent in the URL")
                    && d.contains("POST /api/v1/principals/{id}/read")
                    && !d.contains("Le Thi"),
                "{q}: {d}"
            );
        }
        assert_eq!(counts(&s).await, before, "nothing read, nothing logged, no review");
        // (The review also lists the staff accounts made at set-up: only this principal's count.)
        let reviews: Value = s.get("/api/v1/reviews/exceptions", Some(&boss)).await.json().await.unwrap();
        let of_id = |v: &Value| -> Vec<Value> {
            v.as_array().unwrap().iter().filter(|r| r["principal_id"] == json!(id)).cloned().collect()
        };
        assert_eq!(of_id(&reviews), Vec::<Value>::new());

        // The twin: the reason in the body, the use flagged for the manager's review.
        let r = s
            .post(
                &format!("/api/v1/principals/{id}/read"),
                t,
                json!({"purpose": "inquiry_response", "fields": ["email"], "basis": "law", "reason": "警察からの照会(刑事訴訟法197条2項)"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"id": id, "fields": {"email": "hoa@example.com"}})
        );
        let reviews: Value = s.get("/api/v1/reviews/exceptions", Some(&boss)).await.json().await.unwrap();
        assert_eq!(of_id(&reviews)[0]["reason"], "警察からの照会(刑事訴訟法197条2項)");
        // Without an exception it is the same decision as the GET.
        let d = problem(
            s.post(&format!("/api/v1/principals/{id}/read"), t, json!({"purpose": "inquiry_response"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(d.starts_with("denied: purpose inquiry_response was not notified"), "{d}");
        let d = problem(
            s.post(&format!("/api/v1/principals/{id}/read"), t, json!({"purpose": "inquiry_response", "basis": "law"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(d.contains("reason"), "{d}");
        // The document says where the reason goes.
        let doc: Value = s.get("/api/openapi.json", None).await.json().await.unwrap();
        assert!(doc["paths"]["/api/v1/principals/{id}/read"]["post"].is_object());
    })
    .await;
}

#[tokio::test]
async fn a_card_number_in_disguise_is_refused_over_http_without_echo() {
    on_both(|s| async move {
        let t = Some(s.clerk_token.as_str());
        let before = counts(&s).await;
        for note in [
            "カード 4242.4242.4242.4242",
            "4242/4242/4242/4242",
            "4242\t4242\t4242\t4242",
            "4242\n4242\n4242\n4242",
            "4\u{200B}2\u{200B}4\u{200B}2\u{200B}4\u{200B}2\u{200B}4\u{200B}2\u{200B}4\u{200B}2\u{200B}4\u{200B}2\u{200B}4\u{200B}2\u{200B}4\u{200B}2",
            "4242\u{00AD}4242\u{00AD}4242\u{00AD}4242",
            "٤٢٤٢ ٤٢٤٢ ٤٢٤٢ ٤٢٤٢",
            "४२४२४२४२४२४२४२४२",
        ] {
            let d = problem(
                s.post(
                    "/api/v1/principals",
                    t,
                    json!({"channel": "volunteer", "fields": {"name": "Le Thi Hoa", "form_text": note}}),
                )
                .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert!(
                d.starts_with("form_text: looks like a payment card number")
                    && d.contains("seed 000 Art. 7-1")
                    && !d.contains('\n')
                    && !d.contains("4242")
                    && !d.contains("٤٢"),
                "{note:?}: {d}"
            );
        }
        assert_eq!(counts(&s).await, before, "nothing stored");
    })
    .await;
}

// ---- client addresses, slow clients, headers -------------------------------------------------

/// A server with `opts`, on SQLite (these are properties of the HTTP edge, not of the store).
async fn start_with(
    opts: mamori_server::Options,
) -> (String, tempfile::TempDir, tokio::sync::oneshot::Sender<()>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        data_dir: dir.path().join("data"),
        database_url: None,
    };
    let (m, _) = Mamori::init(
        &cfg,
        mamori_policy::preset("chiba-ia").unwrap(),
        "chiba-ia",
        Some("chiba-ia"),
        Some(("admin", PW)),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        mamori_server::serve_on(m, listener, opts, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (format!("http://{addr}"), dir, tx)
}

/// Send the portal's complaint form `n` times, each with the `X-Forwarded-For` that `xff`
/// gives; the statuses.
async fn complaint_sends(base: &str, n: usize, xff: impl Fn(usize) -> String) -> Vec<StatusCode> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("{base}/privacy/complaint"))
        .send()
        .await
        .unwrap();
    let jar: Vec<String> = r
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let html = r.text().await.unwrap();
    let token = html
        .split_once("name=\"csrf\" value=\"")
        .unwrap()
        .1
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let mut out = Vec::new();
    for i in 0..n {
        // An empty summary: refused as 422 after the rate limit took its send, nothing stored.
        let r = http
            .post(format!("{base}/privacy/complaint"))
            .header(COOKIE, jar.join("; "))
            .header("x-forwarded-for", xff(i))
            .form(&[
                ("csrf", token.as_str()),
                ("contact", "090-1111-2222"),
                ("summary", ""),
            ])
            .send()
            .await
            .unwrap();
        out.push(r.status());
    }
    out
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    let limited = |v: &[StatusCode]| {
        v.iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count()
    };
    // No trusted proxy: a visitor who writes a new address in every request still gets only
    // the ten sends a minute of their own connection's address.
    let (base, _d1, _s1) = start_with(mamori_server::Options::default()).await;
    let v = complaint_sends(&base, 12, |i| format!("203.0.113.{i}")).await;
    assert_eq!(limited(&v), 2, "{v:?}");

    // Behind a trusted proxy (here the loopback address the test connects from): each visitor
    // the proxy names has their own allowance, so one does not use up everyone's …
    let opts = mamori_server::Options {
        trusted_proxies: mamori_server::client::TrustedProxies::parse_list("127.0.0.1").unwrap(),
        ..Default::default()
    };
    let (base, _d2, _s2) = start_with(opts.clone()).await;
    let v = complaint_sends(&base, 12, |i| format!("203.0.113.{i}")).await;
    assert_eq!(limited(&v), 0, "{v:?}");
    // … and one visitor is limited, whatever they prepend to the header themselves.
    let v = complaint_sends(&base, 12, |i| format!("198.51.100.{i}, 192.0.2.7")).await;
    assert_eq!(limited(&v), 2, "{v:?}");

    // A proxy that is not the trusted one is not believed.
    let opts = mamori_server::Options {
        trusted_proxies: mamori_server::client::TrustedProxies::parse_list("10.0.0.0/8").unwrap(),
        ..Default::default()
    };
    let (base, _d3, _s3) = start_with(opts).await;
    let v = complaint_sends(&base, 12, |i| format!("203.0.113.{i}")).await;
    assert_eq!(limited(&v), 2, "{v:?}");
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_disconnected() {
    let opts = mamori_server::Options {
        header_read_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let (base, _d, _stop) = start_with(opts).await;
    let addr = base.strip_prefix("http://").unwrap().to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    // The server closes the connection (with or without a 408) instead of waiting forever.
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the slow client was not disconnected within 5 s"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "closed too early: {waited:?}"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    // A client that sends its request in time is answered.
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(mamori_server::HEADER_READ_TIMEOUT, Duration::from_secs(10));
}

#[tokio::test]
async fn no_page_may_run_a_script_or_inline_style_and_hsts_is_sent_over_tls() {
    let s = start(None).await;
    for path in [
        "/console/login",
        "/privacy",
        "/privacy/request",
        "/privacy/complaint",
        "/api/docs",
        "/healthz",
        "/api/v1/me",
    ] {
        let r = s.get(path, None).await;
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        assert!(
            csp.starts_with("default-src 'none';") && !csp.contains("script-src"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}: HSTS over plain HTTP"
        );
        let html = r.text().await.unwrap();
        assert!(
            !html.contains("<script") && !html.contains(" style=\""),
            "{path}"
        );
        if path.starts_with("/console") || path.starts_with("/privacy") {
            assert!(
                !html.contains("<style")
                    && html.contains("<link rel=\"stylesheet\" href=\"/assets/mamori.css\">"),
                "{path}"
            );
        }
    }
    // The docs page lists the operations without a script.
    let docs = s.get("/api/docs", None).await.text().await.unwrap();
    assert!(
        docs.contains("/api/v1/principals/{id}/read")
            && docs.contains("<code>/api/v1/principals/search</code>"),
        "{docs}"
    );
    // The stylesheet is served from the binary.
    let r = s.get("/assets/mamori.css", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert!(r.text().await.unwrap().contains("header.site"));
    // A printable document allows exactly its own <style> blocks, by hash.
    let r = s.get("/api/v1/policy/notice?lang=en", None).await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = r.text().await.unwrap();
    let css = html
        .split_once("<style>")
        .unwrap()
        .1
        .split_once("</style>")
        .unwrap()
        .0;
    use base64::Engine;
    use sha2::Digest;
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(css.as_bytes()));
    assert!(
        csp.contains(&format!("style-src 'self' 'sha256-{hash}';")),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    // Over TLS (the proxy in front says so): HSTS.
    let r = s
        .http
        .get(s.url("/privacy"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        mamori_server::HSTS
    );
    // With trusted proxies configured, only they are believed.
    let opts = mamori_server::Options {
        trusted_proxies: mamori_server::client::TrustedProxies::parse_list("10.0.0.1").unwrap(),
        ..Default::default()
    };
    let (base, _d, _stop) = start_with(opts).await;
    let r = reqwest::Client::new()
        .get(format!("{base}/privacy"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    let opts = mamori_server::Options {
        secure_cookies: true,
        ..Default::default()
    };
    let (base, _d, _stop) = start_with(opts).await;
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        mamori_server::HSTS
    );
}

/// The invariant of the fuzz target `fuzz/fuzz_targets/json_bodies.rs`, on stable and on both
/// backends: every JSON operation of the OpenAPI document, sent a few hundred generated bodies
/// (random bytes, arrays, objects with the API's own keys and random values, nested), by a
/// manager and by the administrator, never answers 5xx; every refusal is a problem document whose
/// detail is one line (a policy's problems excepted, listed one per line by design).
#[tokio::test]
async fn every_json_operation_answers_generated_bodies_without_a_5xx() {
    on_both(|s| async move {
        let tokens = [
            s.m.staff_token("boss").await.unwrap().token,
            s.m.staff_token("admin").await.unwrap().token,
        ];
        let id = s.add().await;
        let doc: Value = s.get("/api/openapi.json", None).await.json().await.unwrap();
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op["requestBody"]["content"]["application/json"].is_object() {
                    let method: reqwest::Method = method.to_uppercase().parse().unwrap();
                    ops.push((method, path.replace("{id}", &id).replace("{login}", "sato")));
                }
            }
        }
        let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        const KEYS: [&str; 16] = [
            "purpose",
            "fields",
            "basis",
            "reason",
            "channel",
            "now",
            "dry_run",
            "login",
            "role",
            "password",
            "kind",
            "received_at",
            "principal",
            "method",
            "text",
            "email",
        ];
        for round in 0..30u64 {
            for (method, path) in &ops {
                let body = match next() % 6 {
                    0 => (0..(next() % 40))
                        .map(|_| (next() % 256) as u8)
                        .collect::<Vec<u8>>(),
                    1 => format!("[{}]", next()).into_bytes(),
                    2 => b"{\""
                        .iter()
                        .copied()
                        .chain((0..(next() % 20)).map(|_| (next() % 128) as u8))
                        .collect(),
                    _ => {
                        let mut o = serde_json::Map::new();
                        for _ in 0..(next() % 4) {
                            let k = KEYS[(next() % KEYS.len() as u64) as usize];
                            let v = match next() % 7 {
                                0 => json!(null),
                                1 => json!(next() % 2 == 0),
                                2 => json!(next() as i64),
                                3 => json!([next() % 10, "x"]),
                                4 => json!({"a": [1, {"b": null}]}),
                                5 => json!("law"),
                                _ => json!("Le Thi Hoa 4242.4242.4242.4242"),
                            };
                            o.insert(k.to_string(), v);
                        }
                        serde_json::to_vec(&o).unwrap()
                    }
                };
                let r = s
                    .http
                    .request(method.clone(), s.url(path))
                    .bearer_auth(&tokens[(round % 2) as usize])
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let shown = String::from_utf8_lossy(&body).to_string();
                assert!(
                    !status.is_server_error(),
                    "{method} {path} {shown:?}: {status}"
                );
                if status.is_client_error() {
                    assert_eq!(
                        r.headers()["content-type"],
                        "application/problem+json",
                        "{method} {path}"
                    );
                    let v: Value = r.json().await.unwrap();
                    let d = v["detail"].as_str().unwrap_or("");
                    if !path.starts_with("/api/v1/policy") {
                        assert!(!d.contains('\n'), "{method} {path} {shown:?}: {d}");
                    }
                    assert!(
                        !d.contains("4242") && !d.contains("Le Thi"),
                        "{method} {path}: {d}"
                    );
                }
            }
        }
    })
    .await;
}
