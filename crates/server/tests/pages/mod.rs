//! The staff console and the public portal over real HTTP (status codes, CSRF refusals, the
//! rate limit, escaping, the language switch) on SQLite and PostgreSQL, and end to end in a real
//! browser (Chromium driven through chromedriver) when Debian's `chromium` and
//! `chromium-driver` are installed; screenshots go to `target/e2e/`.

use std::time::Duration;

use mamori_service::principal::NewPrincipal;
use mamori_service::{Config, Mamori};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::{PW, Srv, on_both, serve_loopback};

fn plain() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name=value` of every Set-Cookie, for sending back.
fn cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_string)
        .collect()
}

fn csrf_of(html: &str) -> String {
    let (_, rest) = html.split_once("name=\"csrf\" value=\"").unwrap();
    rest.split('"').next().unwrap().to_string()
}

async fn add_principal(m: &Mamori) -> String {
    let clerk = m.actor("sato").await.unwrap();
    m.principal_add(
        &clerk,
        NewPrincipal {
            channel: "volunteer".into(),
            fields: vec![
                ("name".into(), "Le Thi Hoa".into()),
                ("email".into(), "hoa@example.com".into()),
                ("phone".into(), "090-3333-4444".into()),
            ],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

/// Sign in through the console form; returns the cookie header and the session's CSRF token.
async fn console_login(s: &Srv, login: &str) -> (String, String) {
    let http = plain();
    let r = http.get(s.url("/console/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let pre = cookies(&r).join("; ");
    let token = csrf_of(&r.text().await.unwrap());
    let r = http
        .post(s.url("/console/login"))
        .header(COOKIE, &pre)
        .form(&[("csrf", token.as_str()), ("login", login), ("password", PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/console");
    let session = cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("mamori_session="))
        .unwrap();
    let r = http
        .get(s.url("/console"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csrf = csrf_of(&r.text().await.unwrap());
    (session, csrf)
}

#[tokio::test]
async fn the_portal_pages_answer_in_japanese_and_english() {
    on_both(|s| async move {
        let http = plain();
        let r = http.get(s.url("/privacy")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'; style-src 'self';")
        );
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"ja\">"), "{html}");
        assert!(html.contains("<meta name=\"viewport\""));
        assert!(html.contains("個人情報保護方針"));
        assert!(!html.contains("http://") && !html.contains("https://fonts"));

        let r = http.get(s.url("/privacy?lang=en")).send().await.unwrap();
        let set = cookies(&r);
        assert!(set.contains(&"mamori_lang=en".to_string()), "{set:?}");
        assert!(r.text().await.unwrap().contains("<html lang=\"en\">"));
        // The cookie keeps the choice on the next page.
        let r = http
            .get(s.url("/privacy/request"))
            .header(COOKIE, "mamori_lang=en")
            .send()
            .await
            .unwrap();
        let html = r.text().await.unwrap();
        assert!(
            html.contains("<html lang=\"en\">") && html.contains("How we will check your identity")
        );

        let html = http
            .get(s.url("/privacy/history"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v = s.m.policy_version();
        assert!(html.contains(&format!("/privacy/history/{v}")), "{html}");
        let r = http
            .get(s.url(&format!("/privacy/history/{v}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = http
            .get(s.url("/privacy/history/1999-01-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        let html = http
            .get(s.url("/privacy/automatic?lang=en"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("IP address"), "{html}");
        let html = http
            .get(s.url("/privacy/complaint"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("09:00–17:00") && html.contains("id=\"desk-state\""),
            "{html}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_portal_request_needs_the_form_token_and_reaches_the_console_unlinked() {
    on_both(|s| async move {
        let http = plain();
        let r = http.get(s.url("/privacy/request")).send().await.unwrap();
        let jar = cookies(&r).join("; ");
        assert!(jar.contains("mamori_portal="));
        let token = csrf_of(&r.text().await.unwrap());

        // No token, or a token without its cookie: refused, nothing recorded.
        let form = [
            ("kind", "disclosure"),
            ("contact", "hoa@example.com"),
            ("identity_method", "email_code"),
        ];
        let r = http
            .post(s.url("/privacy/request"))
            .header(COOKIE, &jar)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let mut with_token = form.to_vec();
        with_token.push(("csrf", token.as_str()));
        let r = http
            .post(s.url("/privacy/request"))
            .form(&with_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let clerk = s.m.actor("sato").await.unwrap();
        assert!(
            s.m.request_list(&clerk, false, None)
                .await
                .unwrap()
                .is_empty()
        );

        let r = http
            .post(s.url("/privacy/request"))
            .header(COOKIE, &jar)
            .form(&with_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        let list = s.m.request_list(&clerk, false, None).await.unwrap();
        assert_eq!(list.len(), 1);
        let req = &list[0];
        assert_eq!(
            (req.channel.as_str(), req.principal_id.as_deref()),
            ("portal", None)
        );
        assert!(
            html.contains(&req.id) && html.contains(&req.answer_by),
            "{html}"
        );

        // Bad input comes back on the form, escaped, naming the field.
        let bad = [
            ("csrf", token.as_str()),
            ("kind", "disclosure"),
            ("contact", "<b>me</b>"),
            ("identity_method", "telepathy"),
        ];
        let r = http
            .post(s.url("/privacy/request"))
            .header(COOKIE, &jar)
            .form(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("identity_method:")
                && html.contains("&#60;b&#62;me&#60;/b&#62;")
                && !html.contains("<b>me</b>"),
            "{html}"
        );

        // The clerk sees it in the console, unlinked, with the contact sealed in its details.
        let (session, _) = console_login(&s, "sato").await;
        let html = http
            .get(s.url("/console/requests"))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&req.id) && html.contains("portal"), "{html}");
        let html = http
            .get(s.url(&format!("/console/requests/{}", req.id)))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("hoa@example.com"), "{html}");
    })
    .await;
}

#[tokio::test]
async fn portal_sends_are_rate_limited_per_client() {
    let s = super::start(None).await;
    let http = plain();
    let r = http.get(s.url("/privacy/complaint")).send().await.unwrap();
    let jar = cookies(&r).join("; ");
    let token = csrf_of(&r.text().await.unwrap());
    let form = [
        ("csrf", token.as_str()),
        ("contact", "090-1111-2222"),
        ("summary", ""),
    ];
    for _ in 0..10 {
        let r = http
            .post(s.url("/privacy/complaint"))
            .header(COOKIE, &jar)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = http
        .post(s.url("/privacy/complaint"))
        .header(COOKIE, &jar)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_console_needs_a_session_and_its_token_and_reveals_only_for_a_purpose() {
    on_both(|s| async move {
        let http = plain();
        let id = add_principal(&s.m).await;
        for p in [
            "/console",
            "/console/requests",
            &format!("/console/principals/{id}"),
        ] {
            let r = http.get(s.url(p)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{p}");
            assert_eq!(r.headers()[LOCATION], "/console/login");
        }
        // Signing in needs the form token too.
        let r = http
            .post(s.url("/console/login"))
            .form(&[("login", "sato"), ("password", PW)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        let (session, csrf) = console_login(&s, "sato").await;
        let dash = http
            .get(s.url("/console"))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            dash.contains("<svg")
                && !dash.contains("Requests per month")
                && dash.contains("月別の請求件数"),
            "{dash}"
        );

        let reveal = format!("/console/principals/{id}/reveal");
        let r = http
            .post(s.url(&reveal))
            .header(COOKIE, &session)
            .form(&[("purpose", "registration_contact")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(!r.text().await.unwrap().contains("hoa@example.com"));

        let page = http
            .get(s.url(&format!("/console/principals/{id}")))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("hoa@example.com"));
        let r = http
            .post(s.url(&reveal))
            .header(COOKIE, &session)
            .form(&[("csrf", csrf.as_str()), ("purpose", "registration_contact")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("hoa@example.com") && html.contains("Le Thi Hoa"),
            "{html}"
        );

        let r = http
            .post(s.url(&reveal))
            .header(COOKIE, &session)
            .form(&[("csrf", csrf.as_str()), ("purpose", "inquiry_response")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let html = r.text().await.unwrap();
        assert!(
            html.contains(
                "denied: purpose inquiry_response was not notified for channel volunteer"
            ),
            "{html}"
        );
        assert!(!html.contains("hoa@example.com"));

        // Search is a POST: the value never appears in a URL.
        let r = http
            .post(s.url("/console/principals/search"))
            .header(COOKIE, &session)
            .form(&[
                ("csrf", csrf.as_str()),
                ("by", "email"),
                ("value", "hoa@example.com"),
                ("purpose", "registration_contact"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains(&format!("/console/principals/{id}"))
        );

        // A complaint recorded by the clerk: the summary is shown escaped.
        let r = http
            .post(s.url("/console/complaints"))
            .header(COOKIE, &session)
            .form(&[
                ("csrf", csrf.as_str()),
                ("received_at", "2026-06-08T10:00"),
                ("channel", "phone"),
                ("summary", "<script>alert(1)</script>"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()[LOCATION].to_str().unwrap().to_string();
        let html = http
            .get(s.url(&to))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                && !html.contains("<script>alert"),
            "{html}"
        );

        // Sign out needs the token; afterwards the session is gone.
        let r = http
            .post(s.url("/console/logout"))
            .header(COOKIE, &session)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = http
            .get(s.url("/console"))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test]
async fn every_console_page_draws_for_the_manager_and_refuses_with_the_rule_otherwise() {
    on_both(|s| async move {
        let http = plain();
        add_principal(&s.m).await;
        let (boss, _) = console_login(&s, "boss").await;
        for p in [
            "/console",
            "/console/principals",
            "/console/requests",
            "/console/complaints",
            "/console/incidents",
            "/console/provision",
            "/console/retention",
            "/console/audit",
            "/console/policy",
            "/console/policy?lang=en",
            "/console/import",
            "/console/training",
            "/console/ledger",
            "/console/inspections",
            "/console/tokens",
            "/console/tokens?lang=en",
            "/console/staff",
            "/console/staff?lang=en",
            "/console/committee",
            "/console/committee?lang=en",
            "/console/violations",
            "/console/violations?lang=en",
            "/console/reviews",
            "/console/reviews?all=1&lang=en",
            "/console/recipients",
            "/console/recipients?lang=en",
        ] {
            let r = http
                .get(s.url(p))
                .header(COOKIE, &boss)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{p}");
            let html = r.text().await.unwrap();
            assert!(html.contains("</html>"), "{p}");
        }
        let (clerk, _) = console_login(&s, "sato").await;
        let r = http
            .get(s.url("/console/audit"))
            .header(COOKIE, &clerk)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: "));
        // The navigation offers each role the pages its actions open (the service still decides).
        let nav = |html: &str, href: &str| {
            let menu = html
                .split("<nav class=\"main\"")
                .nth(1)
                .and_then(|rest| rest.split("</nav>").next())
                .unwrap_or("");
            menu.contains(&format!("<a href=\"{href}\">"))
        };
        let (_, clerk_home) = get_page(&s, "/console", &clerk).await;
        let (_, boss_home) = get_page(&s, "/console", &boss).await;
        for href in [
            "/console/principals",
            "/console/requests",
            "/console/incidents",
        ] {
            assert!(nav(&clerk_home, href), "the clerk's navigation has {href}");
        }
        for href in [
            "/console/audit",
            "/console/ledger",
            "/console/inspections",
            "/console/staff",
        ] {
            assert!(
                !nav(&clerk_home, href),
                "the clerk's navigation has no {href}"
            );
            assert!(
                nav(&boss_home, href)
                    || href == "/console/staff" && nav(&boss_home, "/console/training"),
                "the manager's has {href}"
            );
        }
        let (admin, csrf) = console_login(&s, "admin").await;
        let (_, admin_home) = get_page(&s, "/console", &admin).await;
        assert!(nav(&admin_home, "/console/staff") && !nav(&admin_home, "/console/principals"));
        let r = http
            .get(s.url("/console/staff"))
            .header(COOKIE, &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = http
            .post(s.url("/console/staff"))
            .header(COOKIE, &admin)
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", "suzuki"),
                ("role", "clerk"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("suzuki"));
        // No password is chosen by the administrator: a one-time setup link is shown instead.
        assert!(html.contains("id=\"setup-link\""), "{html}");
        assert!(html.contains("/console/setup/"), "{html}");
    })
    .await;
}

// ---- the browser ----------------------------------------------------------------------------

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn e2e_dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A server whose complaint desk is closed today (its only day is another weekday).
async fn start_with_closed_desk() -> (Srv, tempfile::TempDir) {
    let today = jiff::Timestamp::now()
        .to_zoned(mamori_calendar::japan_tz())
        .weekday();
    let day = if today == jiff::civil::Weekday::Sunday {
        "sat"
    } else {
        "sun"
    };
    let text = mamori_policy::preset("chiba-ia").unwrap().replace(
        "days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
        &format!("days = [\"{day}\"]"),
    );
    assert!(text.contains(&format!("days = [\"{day}\"]")));
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        data_dir: dir.path().join("data"),
        database_url: None,
    };
    let (m, _) = Mamori::init(
        &cfg,
        &text,
        "chiba-ia",
        Some("chiba-ia"),
        Some(("admin", PW)),
    )
    .await
    .unwrap();
    for (l, r) in [("sato", "clerk"), ("kansa", "auditor"), ("boss", "manager")] {
        m.staff_add(None, l, r, None, PW).await.unwrap();
    }
    let clerk_token = m.staff_token("sato").await.unwrap().token;
    let (base, tx) = serve_loopback(&m).await;
    let data = tempfile::tempdir().unwrap();
    (
        Srv {
            base,
            m,
            http: reqwest::Client::new(),
            clerk_token,
            _dir: dir,
            _stop: tx,
        },
        data,
    )
}

struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_clerk_and_a_principal_in_a_real_browser() {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        eprintln!("browser tests skipped: install chromium and chromium-driver (see .ci/run)");
        return;
    }
    use fantoccini::{ClientBuilder, Locator};

    let (s, profile) = start_with_closed_desk().await;
    let id = add_principal(&s.m).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _driver = Driver(
        std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--no-first-run", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,1000", format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver did not start");
    let dir = e2e_dir();
    let shot = |name: &'static str| {
        let c = c.clone();
        let dir = dir.clone();
        async move {
            // Styled under a CSP without 'unsafe-inline' (issue 20): the stylesheet applied.
            let accent = c
                .execute(
                    "return getComputedStyle(document.querySelector('header.site')).backgroundColor",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(
                accent,
                serde_json::json!("rgb(11, 79, 156)"),
                "{name}: unstyled"
            );
            let png = c.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    };

    // Sign in.
    c.goto(&s.url("/console/login")).await.unwrap();
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys("sato")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PW)
        .await
        .unwrap();
    c.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("open-requests"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/console")
    );
    shot("01-dashboard").await;

    // Reveal with a purpose.
    c.goto(&s.url(&format!("/console/principals/{id}")))
        .await
        .unwrap();
    c.find(Locator::Css(
        "#purpose option[value='registration_contact']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.find(Locator::Id("reveal"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let values = c
        .wait()
        .for_element(Locator::Id("values"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(values.contains("hoa@example.com"), "{values}");
    shot("02-reveal").await;

    // A denied reveal shows the rule.
    c.find(Locator::Css("#purpose option[value='inquiry_response']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("reveal"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let denied = c
        .wait()
        .for_element(Locator::Id("denied"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        denied.contains("denied: purpose inquiry_response was not notified"),
        "{denied}"
    );
    assert!(!c.source().await.unwrap().contains("hoa@example.com"));
    shot("03-denied").await;

    // A principal sends a request from the portal, on a phone-sized screen, in English.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&s.url("/privacy/request?lang=en")).await.unwrap();
    c.find(Locator::Css("#kind option[value='disclosure']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("contact"))
        .await
        .unwrap()
        .send_keys("hoa@example.com")
        .await
        .unwrap();
    c.find(Locator::Id("m-mailed_code"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shot("04-portal-request-phone").await;
    c.find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let reference = c
        .wait()
        .for_element(Locator::Id("reference"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reference.starts_with("r_"), "{reference}");
    shot("05-portal-request-done").await;

    // … and it appears in the console.
    c.set_window_size(1280, 1000).await.unwrap();
    c.goto(&s.url("/console/requests?lang=ja")).await.unwrap();
    let table = c
        .find(Locator::Id("requests"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains(&reference) && table.contains("portal") && table.contains("未確認"),
        "{table}"
    );
    shot("06-console-requests").await;

    // A complaint while the desk is closed counts from its next opening.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&s.url("/privacy/complaint")).await.unwrap();
    let state = c
        .find(Locator::Id("desk-state"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(state.contains("受付時間外"), "{state}");
    c.find(Locator::Id("contact"))
        .await
        .unwrap()
        .send_keys("090-1111-2222")
        .await
        .unwrap();
    c.find(Locator::Id("summary"))
        .await
        .unwrap()
        .send_keys("会員名簿が他の会員に見えていました。")
        .await
        .unwrap();
    shot("07-portal-complaint-closed").await;
    c.find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let done = c
        .wait()
        .for_element(Locator::Css("main ol"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("受付時間外に届いたため"), "{done}");
    let complaint = c
        .find(Locator::Id("reference"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    shot("08-portal-complaint-done").await;
    c.set_window_size(1280, 1000).await.unwrap();
    c.goto(&s.url("/console/complaints")).await.unwrap();
    let table = c
        .find(Locator::Id("complaints"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains(&complaint) && table.contains("時間外"),
        "{table}"
    );
    shot("09-console-complaints").await;

    // A CSV import through a real file chooser (multipart from the browser).
    let csv = profile.path().join("volunteers.csv");
    std::fs::write(&csv, "name,email\r\nTran Thi Mai,mai@example.com\r\n").unwrap();
    c.goto(&s.url("/console/import")).await.unwrap();
    c.find(Locator::Css("#channel option[value='volunteer']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&csv.display().to_string())
        .await
        .unwrap();
    c.find(Locator::Id("import"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let added = c
        .wait()
        .for_element(Locator::Id("added"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(added, "1");
    shot("10-console-import").await;

    // Consent to a recipient on the principal page.
    c.goto(&s.url(&format!("/console/principals/{id}")))
        .await
        .unwrap();
    c.find(Locator::Css("#target option[value='recipient:selecttype']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("evidence"))
        .await
        .unwrap()
        .send_keys("form 2026-17")
        .await
        .unwrap();
    c.find(Locator::Id("give-consent"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let consents = c
        .wait()
        .for_element(Locator::Id("consent-list"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(consents.contains("recipient:selecttype"), "{consents}");
    shot("11-console-consent").await;

    // The clerk reports a breach to the manager and sees the deadlines.
    c.goto(&s.url("/console/incidents")).await.unwrap();
    c.find(Locator::Id("principals_affected"))
        .await
        .unwrap()
        .send_keys("3")
        .await
        .unwrap();
    c.find(Locator::Id("description"))
        .await
        .unwrap()
        .send_keys("USBメモリを紛失した")
        .await
        .unwrap();
    c.find(Locator::Id("open"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let opened = c
        .wait()
        .for_element(Locator::Id("opened-id"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(opened.starts_with("i_"), "{opened}");
    shot("12-console-incident-reported").await;

    // The clerk corrects the email (seed 003 Art. 12): the page says so without any value,
    // and the new value shows when revealed for a purpose.
    c.goto(&s.url(&format!("/console/principals/{id}")))
        .await
        .unwrap();
    c.find(Locator::Id("f-email"))
        .await
        .unwrap()
        .send_keys("hoa.le@example.com")
        .await
        .unwrap();
    c.find(Locator::Id("correct-values"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let corrected = c
        .wait()
        .for_element(Locator::Id("corrected"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(corrected.contains("訂正しました"), "{corrected}");
    let source = c.source().await.unwrap();
    assert!(
        !source.contains("hoa.le@example.com") && !source.contains("hoa@example.com"),
        "{source}"
    );
    assert!(
        !c.current_url()
            .await
            .unwrap()
            .as_str()
            .contains("example.com")
    );
    shot("13-console-corrected").await;
    c.find(Locator::Css(
        "#purpose option[value='registration_contact']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.find(Locator::Id("reveal"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let values = c
        .wait()
        .for_element(Locator::Id("values"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(values.contains("hoa.le@example.com"), "{values}");

    c.close().await.unwrap();
}

#[tokio::test]
async fn a_clerk_registers_a_principal_from_the_console() {
    on_both(|s| async move {
        let (session, csrf) = console_login(&s, "sato").await;
        let http = plain();
        let r = http
            .get(s.url("/console/principals/new?channel=course_application"))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("name=\"f-email\"") && html.contains("name=\"f-payment_token\""));
        assert!(
            !html.contains("name=\"f-passport_number\""),
            "only what the channel collects"
        );
        // Without the session's token: refused, nothing stored.
        let before = s.m.status().await.unwrap()["principals"].as_i64().unwrap();
        let r = http
            .post(s.url("/console/principals/new"))
            .header(COOKIE, &session)
            .form(&[
                ("channel", "course_application"),
                ("f-name", "Maria Santos"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Bad input names the field and does not echo it.
        let r = http
            .post(s.url("/console/principals/new"))
            .header(COOKIE, &session)
            .form(&[
                ("csrf", csrf.as_str()),
                ("channel", "course_application"),
                ("f-name", "Maria Santos"),
                ("f-email", "maria-at-example"),
            ])
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        assert!(
            body.contains("email: ") && !body.contains("maria-at-example"),
            "{body}"
        );
        assert_eq!(
            s.m.status().await.unwrap()["principals"].as_i64().unwrap(),
            before
        );
        let r = http
            .post(s.url("/console/principals/new"))
            .header(COOKIE, &session)
            .form(&[
                ("csrf", csrf.as_str()),
                ("channel", "course_application"),
                ("f-name", "Maria Santos"),
                ("f-email", "maria@example.com"),
                ("f-phone", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(to.starts_with("/console/principals/p_"), "{to}");
        let id = to.trim_start_matches("/console/principals/");
        let clerk = s.m.actor("sato").await.unwrap();
        let shown =
            s.m.principal_show(&clerk, id, "registration_contact", None, None)
                .await
                .unwrap();
        assert_eq!(shown.fields.len(), 2, "the empty phone is not stored");
        assert_eq!(shown.fields["email"], "maria@example.com");
    })
    .await;
}

// ---- the pages of issue 12: import, consent, incidents, policy, tokens, governance ----------

/// A `multipart/form-data` body (what a browser sends for a form with a file), built by hand so
/// the tests need no extra client feature: text fields, then files as (name, file name, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----mamori-test-boundary-7c1d";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (k, name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(
    s: &Srv,
    path: &str,
    session: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> reqwest::Response {
    let (ct, body) = multipart(fields, files);
    plain()
        .post(s.url(path))
        .header(COOKIE, session)
        .header(reqwest::header::CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn get_page(s: &Srv, path: &str, session: &str) -> (StatusCode, String) {
    let r = plain()
        .get(s.url(path))
        .header(COOKIE, session)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post_form(s: &Srv, path: &str, session: &str, form: &[(&str, &str)]) -> reqwest::Response {
    plain()
        .post(s.url(path))
        .header(COOKIE, session)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A form sent without the session's token, and with a wrong one: both refused with 403 and
/// the one-line reason, before anything is done (the caller checks that nothing was stored).
async fn refused_without_the_token(s: &Srv, path: &str, session: &str, form: &[(&str, &str)]) {
    for token in [None, Some("ffffffffffffffffffffffffffffffff")] {
        let mut f = form.to_vec();
        if let Some(t) = token {
            f.push(("csrf", t));
        }
        let r = post_form(s, path, session, &f).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {token:?}");
        assert!(r.text().await.unwrap().contains("csrf: "), "{path}");
    }
}

fn principals(v: &serde_json::Value) -> i64 {
    v["principals"].as_i64().unwrap()
}

#[tokio::test]
async fn a_clerk_imports_a_csv_from_the_console_and_the_people_are_findable() {
    on_both(|s| async move {
        let (clerk, csrf) = console_login(&s, "sato").await;
        let (status, html) = get_page(&s, "/console/import", &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("enctype=\"multipart/form-data\"")
                && html.contains("<label for=\"file\">")
                && html.contains("value=\"volunteer\""),
            "{html}"
        );
        let csv = "name,email,phone\r\nNguyen Van An,an@example.com,090-1234-5678\r\nMaria Santos,maria@example.com,\r\nBad Row,not-an-email,\r\n";
        let before = principals(&s.m.status().await.unwrap());
        // No token, or a wrong one: refused before anything is stored.
        for token in [None, Some("0123456789abcdef")] {
            let mut fields = vec![("channel", "volunteer")];
            if let Some(t) = token {
                fields.push(("csrf", t));
            }
            let r = post_multipart(
                &s,
                "/console/import",
                &clerk,
                &fields,
                &[("file", "people.csv", csv.as_bytes())],
            )
            .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
            assert!(r.text().await.unwrap().contains("csrf: "));
        }
        assert_eq!(principals(&s.m.status().await.unwrap()), before);
        // A column the channel does not collect: the whole file is refused, naming line 1.
        let r = post_multipart(
            &s,
            "/console/import",
            &clerk,
            &[("csrf", &csrf), ("channel", "volunteer")],
            &[("file", "bad.csv", b"name,passport_number\r\nA,TK123\r\n")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("line 1") && body.contains("passport_number") && !body.contains("TK123"),
            "{body}"
        );
        assert_eq!(principals(&s.m.status().await.unwrap()), before);

        let r = post_multipart(
            &s,
            "/console/import",
            &clerk,
            &[("csrf", &csrf), ("channel", "volunteer")],
            &[("file", "people.csv", csv.as_bytes())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("<dd id=\"rows\">3</dd>")
                && html.contains("<dd id=\"added\">2</dd>")
                && html.contains("<dd id=\"errors\">1</dd>"),
            "{html}"
        );
        // The bad row is named by its line and field, without its value.
        assert!(
            html.contains("<th scope=\"row\">4</th><td>email</td>") && !html.contains("not-an-email"),
            "{html}"
        );
        assert_eq!(principals(&s.m.status().await.unwrap()), before + 2);
        let clerk_actor = s.m.actor("sato").await.unwrap();
        let found =
            s.m.principal_find(&clerk_actor, "registration_contact", "email", "an@example.com")
                .await
                .unwrap();
        assert_eq!(found.len(), 1);
        assert!(html.contains(&format!("/console/principals/{}", found[0].id)));
        // The same file again adds nobody.
        let r = post_multipart(
            &s,
            "/console/import",
            &clerk,
            &[("csrf", &csrf), ("channel", "volunteer")],
            &[("file", "people.csv", csv.as_bytes())],
        )
        .await;
        let html = r.text().await.unwrap();
        assert!(
            html.contains("<dd id=\"added\">0</dd>")
                && html.contains("<dd id=\"already-imported\">2</dd>"),
            "{html}"
        );
        assert_eq!(principals(&s.m.status().await.unwrap()), before + 2);

        // The auditor may not register anyone: the service's rule, nothing stored.
        let (auditor, acsrf) = console_login(&s, "kansa").await;
        let r = post_multipart(
            &s,
            "/console/import",
            &auditor,
            &[("csrf", &acsrf), ("channel", "volunteer")],
            &[("file", "people2.csv", b"name\r\nSomeone Else\r\n")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body = r.text().await.unwrap();
        assert!(body.contains("denied: role auditor"), "{body}");
        assert_eq!(principals(&s.m.status().await.unwrap()), before + 2);
    })
    .await;
}

#[tokio::test]
async fn consent_is_given_and_withdrawn_on_the_principal_page() {
    on_both(|s| async move {
        let id = add_principal(&s.m).await;
        let page = format!("/console/principals/{id}");
        let action = format!("/console/principals/{id}/consent");
        let (clerk, csrf) = console_login(&s, "sato").await;
        let (status, html) = get_page(&s, &page, &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("同意の記録はありません") && html.contains("<label for=\"target\">"),
            "{html}"
        );
        let clerk_actor = s.m.actor("sato").await.unwrap();
        let give = [
            ("op", "give"),
            ("target", "recipient:selecttype"),
            ("evidence", "form 2026-17"),
        ];
        let r = post_form(&s, &action, &clerk, &give).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let mut wrong = give.to_vec();
        wrong.push(("csrf", "not-the-token"));
        let r = post_form(&s, &action, &clerk, &wrong).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            s.m.consents_list(&clerk_actor, &id)
                .await
                .unwrap()
                .is_empty()
        );

        let mut ok = give.to_vec();
        ok.push(("csrf", &csrf));
        let r = post_form(&s, &action, &clerk, &ok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = get_page(&s, &page, &clerk).await;
        assert!(
            html.contains("id=\"consent-list\"")
                && html.contains("recipient:selecttype")
                && html.contains("form 2026-17")
                && html.contains("撤回する"),
            "{html}"
        );
        let list = s.m.consents_list(&clerk_actor, &id).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].recipient.as_deref(), Some("selecttype"));

        // Without its evidence a consent is not recorded: said in the page's language with the
        // field's label (issue 20).
        let r = post_form(
            &s,
            &action,
            &clerk,
            &[
                ("csrf", &csrf),
                ("op", "give"),
                ("target", "purpose:inquiry_response"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("同意の記録の所在: 同意書など"), "{html}");
        assert_eq!(s.m.consents_list(&clerk_actor, &id).await.unwrap().len(), 1);
        // An unknown purpose names the field.
        let r = post_form(
            &s,
            &action,
            &clerk,
            &[
                ("csrf", &csrf),
                ("op", "give"),
                ("target", "purpose:marketing"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("--purpose: is not a purpose")
        );

        let r = post_form(
            &s,
            &action,
            &clerk,
            &[
                ("csrf", &csrf),
                ("op", "withdraw"),
                ("target", "recipient:selecttype"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = s.m.consents_list(&clerk_actor, &id).await.unwrap();
        assert!(list[0].withdrawn_at.is_some());
        let (_, html) = get_page(&s, &page, &clerk).await;
        assert!(!html.contains("撤回する"), "withdrawn: no button {html}");

        // The auditor has no consent action: the page says the rule, the form is refused.
        let (auditor, acsrf) = console_login(&s, "kansa").await;
        let (status, html) = get_page(&s, &page, &auditor).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("id=\"consent-problem\"") && html.contains("denied: role auditor"),
            "{html}"
        );
        let r = post_form(
            &s,
            &action,
            &auditor,
            &[
                ("csrf", &acsrf),
                ("op", "give"),
                ("target", "recipient:selecttype"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role auditor"));
        assert_eq!(s.m.consents_list(&clerk_actor, &id).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn an_incident_reported_from_the_console_is_worked_by_the_manager_with_its_deadlines() {
    on_both(|s| async move {
        let boss_actor = s.m.actor("boss").await.unwrap();
        let (clerk, csrf) = console_login(&s, "sato").await;
        // The clerk may report but not see the list: the rule is shown beside the form.
        let (status, html) = get_page(&s, "/console/incidents", &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("id=\"denied\"")
                && html.contains("denied: ")
                && html.contains("<label for=\"principals_affected\">"),
            "{html}"
        );
        let today = mamori_service::today_jst().to_string();
        let facts = [
            ("discovered_on", today.as_str()),
            ("principals_affected", "1200"),
            ("wrongful_purpose", "1"),
            ("description", "名簿のファイルが外部から読まれた"),
        ];
        refused_without_the_token(&s, "/console/incidents", &clerk, &facts).await;
        assert!(
            s.m.incident_list(&boss_actor, false, None)
                .await
                .unwrap()
                .is_empty()
        );
        // Bad input names the field; nothing is stored.
        let r = post_form(
            &s,
            "/console/incidents",
            &clerk,
            &[
                ("csrf", &csrf),
                ("mode", "open"),
                ("discovered_on", &today),
                ("principals_affected", "many"),
                ("description", "x"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("principals_affected: "));
        // Assessing only stores nothing.
        let mut assess = facts.to_vec();
        assess.extend([("csrf", csrf.as_str()), ("mode", "assess")]);
        let r = post_form(&s, "/console/incidents", &clerk, &assess).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("判定のみ") && html.contains("wrongful_purpose"),
            "{html}"
        );
        assert!(
            s.m.incident_list(&boss_actor, false, None)
                .await
                .unwrap()
                .is_empty()
        );

        let mut open = facts.to_vec();
        open.extend([("csrf", csrf.as_str()), ("mode", "open")]);
        let r = post_form(&s, "/console/incidents", &clerk, &open).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        let list = s.m.incident_list(&boss_actor, false, None).await.unwrap();
        assert_eq!(list.len(), 1);
        let inc = &list[0];
        assert!(inc.reportable);
        let final_due = inc.final_due.clone().unwrap();
        assert!(
            html.contains(&format!("<strong id=\"opened-id\">{}</strong>", inc.id))
                && html.contains(&inc.preliminary_due)
                && html.contains(&final_due),
            "{html}"
        );
        // The clerk cannot open the detail page: the manager's (seed 003 Art. 13(2)).
        let detail = format!("/console/incidents/{}", inc.id);
        let (status, html) = get_page(&s, &detail, &clerk).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("denied: "), "{html}");

        let (boss, bcsrf) = console_login(&s, "boss").await;
        let (status, html) = get_page(&s, "/console/incidents", &boss).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("/console/incidents/{}", inc.id))
                && html.contains(&inc.preliminary_due),
            "{html}"
        );
        let (status, html) = get_page(&s, &detail, &boss).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!(
                "<dd id=\"preliminary-due\">{}</dd>",
                inc.preliminary_due
            )) && html.contains(&format!("<dd id=\"final-due\">{final_due}</dd>"))
                && html.contains("名簿のファイルが外部から読まれた"),
            "{html}"
        );
        // A step without the token is refused and not recorded.
        let step = format!("{detail}/steps");
        refused_without_the_token(
            &s,
            &step,
            &boss,
            &[("step", "containment"), ("text", "遮断した")],
        )
        .await;
        let r = post_form(
            &s,
            &step,
            &boss,
            &[
                ("csrf", &bcsrf),
                ("step", "containment"),
                ("text", "サーバーを遮断した"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = post_form(
            &s,
            &format!("{detail}/submitted"),
            &boss,
            &[("csrf", &bcsrf), ("stage", "preliminary"), ("on", &today)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // Closing before the final report is refused with the service's reason.
        let r = post_form(&s, &format!("{detail}/close"), &boss, &[("csrf", &bcsrf)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (_, html) = get_page(&s, &detail, &boss).await;
        assert!(
            html.contains("サーバーを遮断した") && html.contains(&format!("<dd>{today}</dd>")),
            "{html}"
        );
        let d = s.m.incident_show(&boss_actor, &inc.id, None).await.unwrap();
        assert_eq!(d.steps.len(), 1);
        assert_eq!(
            d.info.preliminary_submitted_on.as_deref(),
            Some(today.as_str())
        );
        assert_eq!(d.info.status, "open");
        let r = plain()
            .get(s.url(&format!("{detail}/report?stage=final&lang=ja")))
            .header(COOKIE, &boss)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("<html"));
    })
    .await;
}

#[tokio::test]
async fn a_proposed_policy_is_compared_and_applied_only_by_the_role_the_service_allows() {
    on_both(|s| async move {
        let current = mamori_policy::preset("chiba-ia").unwrap();
        let proposed = current
            .replacen("version = \"2022-04-01\"", "version = \"2099-01-01\"", 1)
            .replacen(
                "en = \"To contact you about supporting-member",
                "en = \"So that we can contact you about supporting-member",
                1,
            );
        assert_ne!(proposed, current);
        let (clerk, csrf) = console_login(&s, "sato").await;
        let (status, html) = get_page(&s, "/console/policy", &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("action=\"/console/policy/diff\""), "{html}");
        let r = post_multipart(
            &s,
            "/console/policy/diff",
            &clerk,
            &[("toml", &proposed)],
            &[],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Uploaded as a file: the change is classified with its rule.
        let r = post_multipart(
            &s,
            "/console/policy/diff",
            &clerk,
            &[("csrf", &csrf)],
            &[("file", "new.toml", proposed.as_bytes())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("purposes[registration_contact]")
                && html.contains("publish_notice")
                && html.contains("APPI 21(3)")
                && html.contains("<strong id=\"proposed\">2099-01-01</strong>"),
            "{html}"
        );
        // Bad TOML names the problem.
        let r = post_multipart(
            &s,
            "/console/policy/diff",
            &clerk,
            &[("csrf", &csrf), ("toml", "version = 3")],
            &[],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        let versions = s.m.policy_versions().await.unwrap().len();
        let today = mamori_service::today_jst().to_string();
        let apply = [("toml", proposed.as_str()), ("effective", today.as_str())];
        refused_without_the_token(&s, "/console/policy/apply", &clerk, &apply).await;
        let mut with = apply.to_vec();
        with.push(("csrf", &csrf));
        let r = post_form(&s, "/console/policy/apply", &clerk, &with).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role clerk"));
        assert_eq!(s.m.policy_versions().await.unwrap().len(), versions);
        assert_eq!(s.m.policy_version(), "2022-04-01");

        let (admin, acsrf) = console_login(&s, "admin").await;
        let mut with = apply.to_vec();
        with.push(("csrf", &acsrf));
        let r = post_form(&s, "/console/policy/apply", &admin, &with).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"applied\"") && html.contains("2099-01-01"),
            "{html}"
        );
        assert_eq!(s.m.policy_versions().await.unwrap().len(), versions + 1);
        assert_eq!(s.m.policy_version(), "2099-01-01");
    })
    .await;
}

#[tokio::test]
async fn a_staff_member_makes_a_token_that_works_on_the_api_and_revokes_it() {
    on_both(|s| async move {
        let (clerk, csrf) = console_login(&s, "sato").await;
        let (status, html) = get_page(&s, "/console/tokens", &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("id=\"make-token\""), "{html}");
        let clerk_actor = s.m.actor("sato").await.unwrap();
        let before = s.m.token_list(&clerk_actor).await.unwrap().len();
        let r = post_form(&s, "/console/tokens", &clerk, &[]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = post_form(&s, "/console/tokens", &clerk, &[("csrf", "nope")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(s.m.token_list(&clerk_actor).await.unwrap().len(), before);

        let r = post_form(&s, "/console/tokens", &clerk, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        let (_, rest) = html.split_once("id=\"new-token\" value=\"").unwrap();
        let token = rest.split('"').next().unwrap().to_string();
        assert!(token.starts_with("mmr_"), "{token}");
        let list = s.m.token_list(&clerk_actor).await.unwrap();
        assert_eq!(list.len(), before + 1);
        let id = list.last().unwrap().token_id.clone();
        let me = s.get("/api/v1/me", Some(&token)).await;
        assert_eq!(me.status(), StatusCode::OK);
        assert_eq!(
            me.json::<serde_json::Value>().await.unwrap()["login"],
            "sato"
        );
        // Shown once: the list page never shows it again.
        let (_, html) = get_page(&s, "/console/tokens", &clerk).await;
        assert!(html.contains(&id) && !html.contains(&token), "{html}");

        // Someone else's token is nobody's to make (issue 20).
        let r = post_form(
            &s,
            "/console/tokens",
            &clerk,
            &[("csrf", &csrf), ("login", "kansa")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("denied: API tokens are only for oneself")
        );
        let (auditor, acsrf) = console_login(&s, "kansa").await;
        let r = post_form(
            &s,
            &format!("/console/tokens/{id}/revoke"),
            &auditor,
            &[("csrf", &acsrf)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            s.get("/api/v1/me", Some(&token)).await.status(),
            StatusCode::OK
        );

        let revoke = format!("/console/tokens/{id}/revoke");
        refused_without_the_token(&s, &revoke, &clerk, &[]).await;
        assert_eq!(
            s.get("/api/v1/me", Some(&token)).await.status(),
            StatusCode::OK
        );
        let r = post_form(&s, &revoke, &clerk, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            s.get("/api/v1/me", Some(&token)).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let (_, html) = get_page(&s, "/console/tokens", &clerk).await;
        assert!(html.contains("失効"), "{html}");
    })
    .await;
}

#[tokio::test]
async fn training_the_ledger_and_inspections_have_pages_and_the_dashboard_counts_findings() {
    on_both(|s| async move {
        add_principal(&s.m).await;
        let (boss, bcsrf) = console_login(&s, "boss").await;
        let (clerk, _) = console_login(&s, "sato").await;
        let boss_actor = s.m.actor("boss").await.unwrap();

        // Training: the clerk may not see the records; the manager records one.
        let (status, html) = get_page(&s, "/console/training", &clerk).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("denied: role clerk"), "{html}");
        let (status, html) = get_page(&s, "/console/training", &boss).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("id=\"training-staff\"") && html.contains("<label for=\"attendees\">")
        );
        let today = mamori_service::today_jst().to_string();
        let form = [
            ("title", "個人情報の取扱い研修"),
            ("date", today.as_str()),
            ("attendees", "sato, boss"),
        ];
        refused_without_the_token(&s, "/console/training", &boss, &form).await;
        assert!(s.m.training_list(&boss_actor).await.unwrap().is_empty());
        let r = post_form(
            &s,
            "/console/training",
            &boss,
            &[
                ("csrf", &bcsrf),
                ("title", "x"),
                ("date", &today),
                ("attendees", "nobody"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("--attendee: "));
        let mut ok = form.to_vec();
        ok.push(("csrf", &bcsrf));
        let r = post_form(&s, "/console/training", &boss, &ok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = get_page(&s, "/console/training", &boss).await;
        assert!(
            html.contains("個人情報の取扱い研修") && html.contains("boss, sato"),
            "{html}"
        );
        let (_, html) = get_page(&s, "/console/training?overdue=1", &boss).await;
        assert!(html.contains("id=\"overdue-count\""), "{html}");

        // The ledger: the auditor reads it and downloads it; the clerk may not.
        let (auditor, acsrf) = console_login(&s, "kansa").await;
        let (status, html) = get_page(&s, "/console/ledger", &auditor).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("id=\"ledger\"")
                && html.contains("volunteer")
                && html.contains("/console/ledger/download?format=csv"),
            "{html}"
        );
        let r = plain()
            .get(s.url("/console/ledger/download?format=csv"))
            .header(COOKIE, &auditor)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        assert!(r.text().await.unwrap().starts_with("\u{feff}channel,"));
        let r = plain()
            .get(s.url("/console/ledger/download?format=json"))
            .header(COOKIE, &auditor)
            .send()
            .await
            .unwrap();
        let rows: serde_json::Value = r.json().await.unwrap();
        assert!(
            rows.as_array()
                .unwrap()
                .iter()
                .any(|r| r["channel"] == "volunteer"
                    && r["category"] == "email"
                    && r["principals"] == 1)
        );
        let (status, html) = get_page(&s, "/console/ledger", &clerk).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("denied: role clerk"), "{html}");

        // Inspections: the auditor runs one and adds a finding already past due.
        let (status, _) = get_page(&s, "/console/inspections", &auditor).await;
        assert_eq!(status, StatusCode::OK);
        refused_without_the_token(&s, "/console/inspections", &auditor, &[]).await;
        assert!(s.m.inspection_list(&boss_actor).await.unwrap().is_empty());
        let r = post_form(&s, "/console/inspections", &auditor, &[("csrf", &acsrf)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(to.starts_with("/console/inspections/i_"), "{to}");
        let (status, html) = get_page(&s, &to, &auditor).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("id=\"checks\"") && html.contains("training"),
            "{html}"
        );
        let findings = format!("{to}/findings");
        let finding = [("text", "研修の記録が一部ない"), ("due", "2026-01-05")];
        refused_without_the_token(&s, &findings, &auditor, &finding).await;
        let mut ok = finding.to_vec();
        ok.push(("csrf", &acsrf));
        let r = post_form(&s, &findings, &auditor, &ok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = get_page(&s, &to, &auditor).await;
        assert!(html.contains("研修の記録が一部ない"), "{html}");
        let open = s.m.finding_list(&boss_actor, None, true).await.unwrap();
        assert_eq!(open.len(), 1);
        assert!(open[0].overdue);

        // The dashboard counts it beside requests, complaints and incidents.
        let (_, dash) = get_page(&s, "/console", &boss).await;
        assert!(
            dash.contains("<div class=\"n\" id=\"open-findings\">1</div>")
                && dash.contains("<span id=\"overdue-findings\">1</span>")
                && dash.contains(&format!("指摘事項 {}", open[0].id)),
            "{dash}"
        );
        let (_, dash) = get_page(&s, "/console", &clerk).await;
        assert!(
            dash.contains("<div class=\"n\" id=\"open-findings\">—</div>"),
            "{dash}"
        );

        let close = format!("/console/findings/{}/close", open[0].id);
        refused_without_the_token(&s, &close, &auditor, &[("result", "記録を補った")]).await;
        let r = post_form(
            &s,
            &close,
            &auditor,
            &[("csrf", &acsrf), ("result", "記録を補った")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(
            s.m.finding_list(&boss_actor, None, true)
                .await
                .unwrap()
                .is_empty()
        );
        let r = plain()
            .get(s.url(&format!("{to}/report?lang=en")))
            .header(COOKIE, &auditor)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("Audit report"));
        let (status, html) = get_page(&s, "/console/inspections", &clerk).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("denied: role clerk"), "{html}");
    })
    .await;
}

#[tokio::test]
async fn a_clerk_corrects_a_principal_and_the_new_value_shows_only_when_revealed() {
    on_both(|s| async move {
        let id = add_principal(&s.m).await;
        let (clerk, csrf) = console_login(&s, "sato").await;
        let clerk_actor = s.m.actor("sato").await.unwrap();
        let page = format!("/console/principals/{id}");
        let (status, html) = get_page(&s, &page, &clerk).await;
        assert_eq!(status, StatusCode::OK);
        // The channel's categories, labelled, with no value in them.
        assert!(
            html.contains("action=\"/console/principals/")
                && html.contains("<label for=\"f-email\">")
                && !html.contains("hoa@example.com"),
            "{html}"
        );
        let correct = format!("{page}/correct");
        let form = [("f-email", "hoa.new@example.com")];
        refused_without_the_token(&s, &correct, &clerk, &form).await;
        let email = |v: mamori_service::principal::Shown| v.fields["email"].clone();
        let shown =
            s.m.principal_show(&clerk_actor, &id, "registration_contact", None, None)
                .await
                .unwrap();
        assert_eq!(email(shown), "hoa@example.com");

        // Bad input: 422 naming the field, nothing stored, the value not echoed.
        let r = post_form(
            &s,
            &correct,
            &clerk,
            &[("csrf", &csrf), ("f-email", "hoa-at-example")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("email: ") && !html.contains("hoa-at-example"),
            "{html}"
        );
        let r = post_form(&s, &correct, &clerk, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // The correction: the page says what was corrected, and shows neither value.
        let r = post_form(
            &s,
            &correct,
            &clerk,
            &[
                ("csrf", &csrf),
                ("f-email", "hoa.new@example.com"),
                ("f-phone", ""),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"corrected\""), "{html}");
        assert!(
            !html.contains("hoa@example.com") && !html.contains("hoa.new@example.com"),
            "{html}"
        );
        // Revealed for a purpose: the new value.
        let r = post_form(
            &s,
            &format!("{page}/reveal"),
            &clerk,
            &[("csrf", &csrf), ("purpose", "registration_contact")],
        )
        .await;
        let html = r.text().await.unwrap();
        assert!(
            html.contains("hoa.new@example.com")
                && !html.contains("hoa@example.com")
                && html.contains("090-3333-4444"),
            "{html}"
        );
        let log =
            s.m.audit_log(&s.m.actor("kansa").await.unwrap(), Some(&id), 50)
                .await
                .unwrap();
        assert!(log.iter().any(|e| e.action == "principal.correct"));

        // The auditor has no `correct`: no form, and a post is refused with the rule.
        let (auditor, acsrf) = console_login(&s, "kansa").await;
        let (_, html) = get_page(&s, &page, &auditor).await;
        assert!(!html.contains("f-email"), "{html}");
        let r = post_form(
            &s,
            &correct,
            &auditor,
            &[("csrf", &acsrf), ("f-email", "x@example.com")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let html = r.text().await.unwrap();
        assert!(html.contains("denied: role auditor"), "{html}");
    })
    .await;
}

#[tokio::test]
async fn the_administrator_changes_roles_and_disables_accounts_and_the_manager_records_pledges() {
    on_both(|s| async move {
        let (admin, csrf) = console_login(&s, "admin").await;
        let (clerk, ccsrf) = console_login(&s, "sato").await;
        let role_of = |html: &str, login: &str| {
            let row = html
                .split(&format!("<th scope=\"row\">{login}</th>"))
                .nth(1)
                .unwrap();
            row.split("data-role=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string()
        };
        let (status, html) = get_page(&s, "/console/staff", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(role_of(&html, "sato"), "clerk");
        assert!(html.contains("<label for=\"role-sato\">"), "{html}");

        let path = "/console/staff/sato/role";
        refused_without_the_token(&s, path, &admin, &[("role", "manager")]).await;
        let (_, html) = get_page(&s, "/console/staff", &admin).await;
        assert_eq!(role_of(&html, "sato"), "clerk");
        // A role that is not the policy's: 422 naming the field.
        let r = post_form(&s, path, &admin, &[("csrf", &csrf), ("role", "king")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("--role: "));
        let r = post_form(&s, path, &admin, &[("csrf", &csrf), ("role", "manager")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert_eq!(role_of(&html, "sato"), "manager");
        assert!(html.contains("id=\"done\""), "{html}");
        assert_eq!(s.m.actor("sato").await.unwrap().role.id, "manager");

        // The last administrator: the service's refusal, nothing changed.
        for (p, f) in [
            (
                "/console/staff/admin/disable",
                vec![("csrf", csrf.as_str())],
            ),
            (
                "/console/staff/admin/role",
                vec![("csrf", csrf.as_str()), ("role", "clerk")],
            ),
        ] {
            let r = post_form(&s, p, &admin, &f).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{p}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains("admin is the last staff administrator"),
                "{html}"
            );
        }
        assert_eq!(s.m.actor("admin").await.unwrap().role.id, "admin");

        // Disabling: refused without the token, then done.
        let path = "/console/staff/kansa/disable";
        refused_without_the_token(&s, path, &admin, &[]).await;
        assert!(s.m.actor("kansa").await.is_ok());
        let r = post_form(&s, path, &admin, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(s.m.actor("kansa").await.is_err());

        // A pledge is the manager's; the administrator and a clerk are refused with the rule.
        let (boss, bcsrf) = console_login(&s, "boss").await;
        let today = mamori_service::today_jst().to_string();
        let path = "/console/staff/boss/pledge";
        refused_without_the_token(&s, path, &boss, &[("date", &today)]).await;
        let r = post_form(&s, path, &boss, &[("csrf", &bcsrf), ("date", "2999-01-01")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("--date: "));
        let r = post_form(&s, path, &boss, &[("csrf", &bcsrf), ("date", &today)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let boss_actor = s.m.actor("boss").await.unwrap();
        let st = s.m.training_status(&boss_actor, false, None).await.unwrap();
        assert_eq!(
            st.iter()
                .find(|x| x.login == "boss")
                .unwrap()
                .pledged_on
                .as_deref(),
            Some(today.as_str())
        );
        let r = post_form(&s, path, &admin, &[("csrf", &csrf), ("date", &today)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role admin"));
        // sato is a manager now; sign a new clerk in to see the clerk's refusal.
        drop((clerk, ccsrf));
        s.m.staff_add(None, "suzuki", "clerk", None, PW)
            .await
            .unwrap();
        let (clerk, ccsrf) = console_login(&s, "suzuki").await;
        let r = post_form(
            &s,
            "/console/staff/boss/role",
            &clerk,
            &[("csrf", &ccsrf), ("role", "clerk")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role clerk"));
        assert_eq!(s.m.actor("boss").await.unwrap().role.id, "manager");
    })
    .await;
}

// ---- the school (tokyo-one) -----------------------------------------------------------------

/// The same test on the school's server (tokyo-one: clerk `sato`, auditor `kansa`, teacher
/// `sensei`, and here the manager `boss`), on SQLite and PostgreSQL.
async fn on_both_school<F, Fut>(f: F)
where
    F: Fn(Srv) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let school = |url| async move {
        let (s, _, _) = super::start_school(url).await;
        s.m.staff_add(None, "boss", "manager", None, PW)
            .await
            .unwrap();
        s
    };
    f(school(None).await).await;
    match mamori_service::store::fresh_test_database().await.unwrap() {
        Some(url) => f(school(Some(url)).await).await,
        None => eprintln!("PostgreSQL tests skipped: MAMORI_TEST_DATABASE_URL is not set"),
    }
}

#[tokio::test]
async fn a_clerk_opens_a_student_records_payments_and_a_refund_that_matches_refund_compute() {
    on_both_school(|s| async move {
        let clerk_actor = s.m.actor("sato").await.unwrap();
        let pid =
            s.m.principal_add(
                &clerk_actor,
                NewPrincipal {
                    channel: "admission_application".into(),
                    fields: vec![("name".into(), "Tran Thi Mai".into())],
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let (clerk, csrf) = console_login(&s, "sato").await;
        // The school's nav item; the principal page links to opening a record.
        let (status, html) = get_page(&s, &format!("/console/principals/{pid}"), &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("href=\"/console/students\"")
                && html.contains(&format!("/console/students?principal={pid}")),
            "{html}"
        );
        let (status, html) =
            get_page(&s, &format!("/console/students?principal={pid}"), &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("value=\"{pid}\"")) && html.contains("<label for=\"terms\">")
        );

        // Open: refused without the token, bad input names the field, then done.
        let open = [
            ("principal", pid.as_str()),
            ("term_months", "6"),
            ("terms", "4"),
            ("on", "2025-10-01"),
        ];
        refused_without_the_token(&s, "/console/students", &clerk, &open).await;
        assert!(s.m.student_list(&clerk_actor).await.unwrap().is_empty());
        let mut bad = open.to_vec();
        bad[2] = ("terms", "four");
        bad.push(("csrf", &csrf));
        let r = post_form(&s, "/console/students", &clerk, &bad).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("terms: give"));
        assert!(s.m.student_list(&clerk_actor).await.unwrap().is_empty());
        let mut ok = open.to_vec();
        ok.push(("csrf", &csrf));
        let r = post_form(&s, "/console/students", &clerk, &ok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let page = r.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(page.starts_with("/console/students/"), "{page}");
        let id = page.trim_start_matches("/console/students/").to_string();

        // Payments: a card number is refused (never echoed); tokens are never shown.
        let pay = format!("{page}/pay");
        let form = [
            ("item", "admission_fee"),
            ("yen", "50000"),
            ("token", "pm_1Nx2Ab3Cd4Ef5Gh"),
            ("on", "2025-10-02"),
        ];
        refused_without_the_token(&s, &pay, &clerk, &form).await;
        let r = post_form(
            &s,
            &pay,
            &clerk,
            &[
                ("csrf", &csrf),
                ("item", "tuition"),
                ("term", "1"),
                ("yen", "420000"),
                ("token", "4111 1111 1111 1111"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("token: looks like a payment card number") && !html.contains("4111"),
            "{html}"
        );
        let r = post_form(
            &s,
            &pay,
            &clerk,
            &[
                ("csrf", &csrf),
                ("item", "tuition"),
                ("yen", "lots"),
                ("token", "pm_x"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("yen: give"));
        assert!(
            s.m.student_show(&clerk_actor, &id)
                .await
                .unwrap()
                .payments
                .is_empty()
        );
        for (item, term, yen) in [
            ("admission_fee", "", "50000"),
            ("tuition", "1", "420000"),
            ("tuition", "2", "420000"),
        ] {
            let r = post_form(
                &s,
                &pay,
                &clerk,
                &[
                    ("csrf", &csrf),
                    ("item", item),
                    ("term", term),
                    ("yen", yen),
                    ("token", "pm_1Nx2Ab3Cd4Ef5Gh"),
                    ("on", "2025-10-02"),
                ],
            )
            .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{item}");
        }

        // Events: an event that cannot follow the stage is refused with the clause.
        let event = format!("{page}/event");
        refused_without_the_token(&s, &event, &clerk, &[("kind", "coe_applied")]).await;
        assert_eq!(
            s.m.student_show(&clerk_actor, &id)
                .await
                .unwrap()
                .events
                .len(),
            1
        );
        let r = post_form(
            &s,
            &event,
            &clerk,
            &[("csrf", &csrf), ("kind", "declined"), ("on", "2025-11-01")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("clause 3"));
        for (kind, on) in [
            ("coe_applied", "2025-11-01"),
            ("coe_issued", "2026-02-20"),
            ("visa_applied", "2026-03-01"),
            ("visa_issued", "2026-03-10"),
            ("arrived", "2026-03-28"),
            ("enrolled", "2026-04-01"),
            ("withdrawal_notice", "2026-05-01"),
        ] {
            let r = post_form(
                &s,
                &event,
                &clerk,
                &[("csrf", &csrf), ("kind", kind), ("on", on)],
            )
            .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{kind}");
        }

        // The page computes the refund under the rules before anything is recorded.
        let case = serde_json::json!({"event": "withdrew_after_enrollment",
            "course": {"term_months": 6, "terms": 4},
            "paid": {"admission_fee": 50000, "tuition": [420000, 420000]},
            "withdrawal_notice_term": 1});
        let computed = mamori_service::student::refund_compute(&s.m.policy(), &case).unwrap();
        assert_eq!(computed.refund, 420_000);
        let (status, html) = get_page(&s, &page, &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("id=\"refund-preview\"")
                && html.contains("withdrew_after_enrollment")
                && html.contains("<td id=\"preview-total\">420,000円</td>")
                && html.contains("初期6ヶ月分の学費は返還しない")
                && !html.contains("pm_1Nx2"),
            "{html}"
        );
        let refund = format!("{page}/refund");
        refused_without_the_token(&s, &refund, &clerk, &[]).await;
        assert!(
            s.m.student_show(&clerk_actor, &id)
                .await
                .unwrap()
                .refund
                .is_none()
        );
        let r = post_form(&s, &refund, &clerk, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let recorded =
            s.m.student_show(&clerk_actor, &id)
                .await
                .unwrap()
                .refund
                .unwrap();
        assert_eq!(
            (recorded.refund, recorded.retained),
            (computed.refund, computed.retained)
        );
        assert_eq!(recorded.lines.len(), computed.lines.len());
        for (a, b) in recorded.lines.iter().zip(&computed.lines) {
            assert_eq!(
                (&a.item, a.term, a.paid, a.refund),
                (&b.item, b.term, b.paid, b.refund)
            );
        }
        // The statement (print styles), in English too, with the same lines.
        let (status, html) = get_page(&s, &format!("{page}/statement?lang=en"), &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("Refund statement") && html.contains("@media print"),
            "{html}"
        );
        let cells: Vec<(String, String)> = html
            .split("<tr><td>")
            .skip(1)
            .map(|row| {
                let yen: Vec<&str> = row
                    .split("<td class=\"yen\">")
                    .skip(1)
                    .map(|x| x.split('<').next().unwrap())
                    .collect();
                (yen[0].to_string(), yen[1].to_string())
            })
            .collect();
        let fmt = |n: i64| {
            let s = n.to_string();
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(ch);
            }
            format!("¥{out}")
        };
        let want: Vec<(String, String)> = computed
            .lines
            .iter()
            .map(|l| (fmt(l.paid), fmt(l.refund)))
            .collect();
        assert_eq!(cells, want);
        let (_, html) = get_page(&s, &page, &clerk).await;
        assert!(
            html.contains("id=\"refund-lines\"") && html.contains("/statement"),
            "{html}"
        );
        let (_, html) = get_page(&s, "/console/students", &clerk).await;
        assert!(html.contains(&id), "{html}");

        // Graduation: to the alumni records only with consent for the new purpose.
        let pid2 =
            s.m.principal_add(
                &clerk_actor,
                NewPrincipal {
                    channel: "admission_application".into(),
                    fields: vec![("name".into(), "Le Van Binh".into())],
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let id2 =
            s.m.student_open(
                &clerk_actor,
                mamori_service::student::OpenStudent {
                    principal_id: pid2.clone(),
                    term_months: 6,
                    terms: 4,
                    applied_on: Some("2025-10-01".into()),
                },
            )
            .await
            .unwrap()
            .id;
        for (kind, on) in [
            ("coe_applied", "2025-11-01"),
            ("coe_issued", "2026-02-20"),
            ("visa_applied", "2026-03-01"),
            ("visa_issued", "2026-03-10"),
            ("arrived", "2026-03-28"),
            ("enrolled", "2026-04-01"),
        ] {
            s.m.student_event(
                &clerk_actor,
                &id2,
                mamori_service::student::NewEvent {
                    kind: kind.into(),
                    on: Some(on.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        let page2 = format!("/console/students/{id2}");
        let (_, html) = get_page(&s, &page2, &clerk).await;
        assert!(
            html.contains("id=\"graduate\"") && !html.contains("id=\"record-refund\""),
            "{html}"
        );
        let graduate = format!("{page2}/graduate");
        let form = [("on", "2028-03-20"), ("to_alumni", "1")];
        refused_without_the_token(&s, &graduate, &clerk, &form).await;
        let mut ok = form.to_vec();
        ok.push(("csrf", &csrf));
        let r = post_form(&s, &graduate, &clerk, &ok).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("APPI 17(2), 18(1)") && html.contains("alumni_contact"),
            "{html}"
        );
        assert_eq!(
            s.m.student_show(&clerk_actor, &id2).await.unwrap().stage,
            "enrolled"
        );
        s.m.consent_give(
            &clerk_actor,
            &pid2,
            &mamori_service::provision::ConsentTarget::from_flags(
                Some("alumni_contact".into()),
                None,
            )
            .unwrap(),
            Some("form 2026-041"),
            false,
        )
        .await
        .unwrap();
        let r = post_form(&s, &graduate, &clerk, &ok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let g = s.m.student_show(&clerk_actor, &id2).await.unwrap();
        assert_eq!(
            (g.stage.as_str(), g.channel.as_str()),
            ("graduated", "alumni")
        );

        // Every student page draws for the manager, in both languages.
        let (boss, _) = console_login(&s, "boss").await;
        for p in [
            "/console/students".to_string(),
            "/console/students?lang=en".to_string(),
            page.clone(),
            format!("{page}?lang=en"),
            format!("{page}/statement"),
        ] {
            let (status, html) = get_page(&s, &p, &boss).await;
            assert_eq!(status, StatusCode::OK, "{p}");
            assert!(html.contains("</html>"), "{p}");
        }
        // A teacher is refused with the rule (the purpose is not theirs), and sees no list.
        let (teacher, tcsrf) = console_login(&s, "sensei").await;
        let (status, html) = get_page(&s, "/console/students", &teacher).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            html.contains("denied: ") && html.contains("fee_management"),
            "{html}"
        );
        let r = post_form(
            &s,
            &pay,
            &teacher,
            &[
                ("csrf", &tcsrf),
                ("item", "other_fees"),
                ("yen", "1"),
                ("token", "pm_x"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role teacher"));
    })
    .await;
}

#[tokio::test]
async fn the_students_item_is_only_in_the_navigation_of_a_policy_with_refund_rules() {
    on_both(|s| async move {
        let (clerk, _) = console_login(&s, "sato").await;
        let (_, html) = get_page(&s, "/console", &clerk).await;
        assert!(!html.contains("href=\"/console/students\""), "{html}");
        // The page itself answers with the service's reason (no fee_management purpose here).
        let (status, html) = get_page(&s, "/console/students", &clerk).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            html.contains("denied: ") && html.contains("fee_management"),
            "{html}"
        );
    })
    .await;
}

// ---- the committee, violation reports, exception reviews, recipients -------------------------

#[tokio::test]
async fn the_committee_minutes_are_the_managers_and_a_clerks_violation_report_reaches_only_the_manager()
 {
    on_both(|s| async move {
        let boss_actor = s.m.actor("boss").await.unwrap();
        let (boss, bcsrf) = console_login(&s, "boss").await;
        let (auditor, _) = console_login(&s, "kansa").await;
        let (clerk, ccsrf) = console_login(&s, "sato").await;
        let today = mamori_service::today_jst().to_string();

        // A meeting: refused without the token; a future date is 422 naming the field.
        let meeting = [
            ("date", today.as_str()),
            ("members", "kansa, sato"),
            ("minutes", "委員会の議事録: 名簿の管理について"),
            ("decisions", "名簿を施錠保管する\n研修を年2回にする"),
        ];
        refused_without_the_token(&s, "/console/committee", &boss, &meeting).await;
        assert!(s.m.committee_list(&boss_actor).await.unwrap().is_empty());
        let mut bad = meeting.to_vec();
        bad[0] = ("date", "2999-01-01");
        bad.push(("csrf", &bcsrf));
        let r = post_form(&s, "/console/committee", &boss, &bad).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("--date: "));
        assert!(s.m.committee_list(&boss_actor).await.unwrap().is_empty());
        let mut ok = meeting.to_vec();
        ok.push(("csrf", &bcsrf));
        let r = post_form(&s, "/console/committee", &boss, &ok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()[LOCATION].to_str().unwrap().to_string();
        // The list: date and members (for the auditor too), never the minutes.
        let (status, html) = get_page(&s, "/console/committee", &auditor).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&to)
                && html.contains("boss, kansa, sato")
                && !html.contains("議事録: 名簿"),
            "{html}"
        );
        // The minutes: the manager reads them; the auditor, a member, is refused with the rule.
        let (status, html) = get_page(&s, &to, &boss).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("委員会の議事録: 名簿の管理について")
                && html.contains("<li>研修を年2回にする</li>"),
            "{html}"
        );
        let (status, html) = get_page(&s, &to, &auditor).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            html.contains("denied: role auditor may not read the committee&#39;s minutes")
                || html.contains("denied: role auditor may not read the committee"),
            "{html}"
        );
        assert!(!html.contains("名簿の管理"), "{html}");
        // The clerk may not record a meeting: the service's rule.
        let mut as_clerk = meeting.to_vec();
        as_clerk.push(("csrf", &ccsrf));
        let r = post_form(&s, "/console/committee", &clerk, &as_clerk).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role clerk"));
        assert_eq!(s.m.committee_list(&boss_actor).await.unwrap().len(), 1);

        // A violation report by the clerk.
        let (status, html) = get_page(&s, "/console/violations", &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("<label for=\"text\">") && !html.contains("id=\"violations\""),
            "{html}"
        );
        let report = [("text", "名簿が机の上に置かれたままだった")];
        refused_without_the_token(&s, "/console/violations", &clerk, &report).await;
        assert!(
            s.m.violation_list(&boss_actor, false)
                .await
                .unwrap()
                .is_empty()
        );
        let r = post_form(
            &s,
            "/console/violations",
            &clerk,
            &[("csrf", &ccsrf), ("text", "  ")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("--text: "));
        let r = post_form(
            &s,
            "/console/violations",
            &clerk,
            &[
                ("csrf", &ccsrf),
                ("text", "名簿が机の上に置かれたままだった"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"reported\""), "{html}");
        // Listed for the manager (with who reported), not for the clerk.
        let (_, html) = get_page(&s, "/console/violations", &clerk).await;
        assert!(
            !html.contains("名簿が机の上に") && !html.contains("id=\"violations\""),
            "{html}"
        );
        let (_, html) = get_page(&s, "/console/violations", &boss).await;
        assert!(
            html.contains("id=\"violations\"")
                && html.contains("名簿が机の上に置かれたままだった")
                && html.contains("<td>sato</td>"),
            "{html}"
        );
        let v = s.m.violation_list(&boss_actor, false).await.unwrap();
        let close = format!("/console/violations/{}/close", v[0].id);
        refused_without_the_token(&s, &close, &boss, &[("result", "施錠保管を徹底した")]).await;
        let r = post_form(&s, &close, &clerk, &[("csrf", &ccsrf), ("result", "x")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role clerk"));
        assert!(
            s.m.violation_list(&boss_actor, true)
                .await
                .unwrap()
                .iter()
                .any(|x| x.id == v[0].id)
        );
        let r = post_form(
            &s,
            &close,
            &boss,
            &[("csrf", &bcsrf), ("result", "施錠保管を徹底した")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(
            s.m.violation_list(&boss_actor, true)
                .await
                .unwrap()
                .is_empty()
        );
        let (_, html) = get_page(&s, "/console/violations", &boss).await;
        assert!(html.contains("施錠保管を徹底した"), "{html}");
    })
    .await;
}

#[tokio::test]
async fn the_manager_reviews_exception_accesses_and_records_a_contractors_contract_review() {
    on_both(|s| async move {
        let boss_actor = s.m.actor("boss").await.unwrap();
        let id = add_principal(&s.m).await;
        let (clerk, ccsrf) = console_login(&s, "sato").await;
        let (boss, bcsrf) = console_login(&s, "boss").await;
        // A clerk reads under a statutory exception, with the written reason.
        let r = post_form(
            &s,
            &format!("/console/principals/{id}/reveal"),
            &clerk,
            &[
                ("csrf", &ccsrf),
                ("purpose", "inquiry_response"),
                ("basis", "law"),
                ("reason", "警察署からの照会(刑事訴訟法第197条第2項)"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        // The manager's list shows it with the reason; the clerk is refused with the rule.
        let (status, html) = get_page(&s, "/console/reviews", &boss).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("id=\"reviews\"")
                && html.contains("警察署からの照会")
                && html.contains(&id),
            "{html}"
        );
        let (status, html) = get_page(&s, "/console/reviews", &clerk).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("denied: role clerk"), "{html}");
        // Besides it, the set-up's account creations wait for review (issue 20).
        let exceptions = |v: Vec<mamori_service::governance::ExceptionReviewInfo>| {
            v.into_iter()
                .filter(|r| r.kind != "staff.add")
                .collect::<Vec<_>>()
        };
        let rv = exceptions(s.m.exception_reviews(&boss_actor, false).await.unwrap());
        assert_eq!(rv.len(), 1);
        let done = format!("/console/reviews/{}/done", rv[0].id);
        refused_without_the_token(&s, &done, &boss, &[]).await;
        let r = post_form(&s, &done, &clerk, &[("csrf", &ccsrf)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            exceptions(s.m.exception_reviews(&boss_actor, false).await.unwrap()).len(),
            1
        );
        let r = post_form(&s, &done, &boss, &[("csrf", &bcsrf)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = get_page(&s, "/console/reviews", &boss).await;
        assert!(!html.contains("警察署からの照会"), "{html}");
        assert!(
            html.contains("staff.add"),
            "account creations are listed: {html}"
        );
        let (_, html) = get_page(&s, "/console/reviews?all=1", &boss).await;
        assert!(html.contains("(boss)"), "{html}");
        let r = post_form(&s, &done, &boss, &[("csrf", &bcsrf)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("was reviewed already"));

        // The contractor: its contract on record (the policy's), with every clause ticked.
        let (status, html) = get_page(&s, "/console/recipients", &boss).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("action=\"/console/recipients/delivery_carrier/review\"")
                && html.contains("value=\"termination\" checked")
                && !html.contains("contract lacks"),
            "{html}"
        );
        let path = "/console/recipients/delivery_carrier/review";
        let today = mamori_service::today_jst().to_string();
        let mut form: Vec<(&str, &str)> = vec![("reviewed_on", &today), ("clauses_given", "1")];
        for c in [
            "confidentiality",
            "subcontracting",
            "copy_restriction",
            "incident_response",
            "return_and_erasure",
            "termination",
        ] {
            form.push(("clause", c));
        }
        let blocked = |v: Vec<mamori_service::provision::RecipientStatus>| {
            v.into_iter()
                .find(|r| r.id == "delivery_carrier")
                .unwrap()
                .blocked
        };
        // A review that finds the termination clause gone: provision stops (Art. 18(2)).
        let lacking: Vec<(&str, &str)> = form
            .iter()
            .copied()
            .filter(|x| *x != ("clause", "termination"))
            .collect();
        refused_without_the_token(&s, path, &boss, &lacking).await;
        assert_eq!(
            blocked(s.m.recipients_status(&boss_actor).await.unwrap()),
            None
        );
        let mut ok = lacking.clone();
        ok.push(("csrf", &bcsrf));
        let r = post_form(&s, path, &boss, &ok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            blocked(s.m.recipients_status(&boss_actor).await.unwrap()).as_deref(),
            Some("contract lacks termination")
        );
        let (_, html) = get_page(&s, "/console/recipients", &boss).await;
        assert!(html.contains("contract lacks termination"), "{html}");
        let r = post_form(
            &s,
            path,
            &boss,
            &[("csrf", &bcsrf), ("reviewed_on", "2026-13-01")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("--reviewed-on: "));
        let mut as_clerk = form.clone();
        as_clerk.push(("csrf", &ccsrf));
        let r = post_form(&s, path, &clerk, &as_clerk).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("denied: role clerk"));
        form.push(("csrf", &bcsrf));
        let r = post_form(&s, path, &boss, &form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            blocked(s.m.recipients_status(&boss_actor).await.unwrap()),
            None
        );
        let (_, html) = get_page(&s, "/console/recipients", &boss).await;
        assert!(!html.contains("contract lacks"), "{html}");
    })
    .await;
}

/// Issue 20 at the console: the administrator invites (a setup link, never a password),
/// resets, unlocks and enables; the person sets their password at the link and changes it;
/// messages are in the page's language and name the field's label.
#[tokio::test]
async fn the_console_invites_with_a_setup_link_and_everyone_changes_their_own_password() {
    on_both(|s| async move {
        let http = plain();
        let (admin, csrf) = console_login(&s, "admin").await;
        // A password on the invitation form is refused, in the page's language.
        let r = post_form(
            &s,
            "/console/staff",
            &admin,
            &[
                ("csrf", &csrf),
                ("login", "tanaka"),
                ("role", "clerk"),
                ("password", PW),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("パスワード: 管理者は他人のパスワードを決めません")
        );
        assert!(s.m.store().staff("tanaka").await.unwrap().is_none());
        let r = post_form(
            &s,
            "/console/staff",
            &admin,
            &[("csrf", &csrf), ("login", "tanaka"), ("role", "clerk")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        let link = html
            .split("<code>")
            .nth(1)
            .and_then(|x| x.split("</code>").next())
            .unwrap()
            .to_string();
        let path = link
            .split_once("/console/setup/")
            .map(|(_, t)| format!("/console/setup/{t}"))
            .unwrap();
        assert!(html.contains("パスワード未設定"), "{html}");

        // The person opens the link: mismatched entries are named by their label.
        let r = http
            .get(s.url(&format!("{path}?lang=en")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = http
            .post(s.url(&format!("{path}?lang=en")))
            .form(&[
                ("password", "tanaka's secret"),
                ("again", "tanaka's secrex"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("New password (again): the two entries differ")
        );
        let r = http
            .post(s.url(&path))
            .form(&[
                ("password", "tanaka's secret"),
                ("again", "tanaka's secret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("パスワードを設定しました"));
        let r = http
            .post(s.url(&path))
            .form(&[("password", "another secret"), ("again", "another secret")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("設定用リンク: 不明か、使用済みか、期限切れです")
        );
        s.m.login("tanaka", "tanaka's secret", "192.0.2.1")
            .await
            .unwrap();

        // Everyone changes their own password; a wrong current one is named by its label.
        let (clerk, ccsrf) = console_login(&s, "sato").await;
        let (status, html) = get_page(&s, "/console/password", &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<label for=\"current_password\">"), "{html}");
        let r = post_form(
            &s,
            "/console/password",
            &clerk,
            &[
                ("csrf", &ccsrf),
                ("current_password", "not my password"),
                ("new_password", "sato's new secret"),
                ("again", "sato's new secret"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("現在のパスワード: 違います")
        );
        let r = post_form(
            &s,
            "/console/password",
            &clerk,
            &[
                ("csrf", &ccsrf),
                ("current_password", PW),
                ("new_password", "sato's new secret"),
                ("again", "sato's new secret"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        s.m.login("sato", "sato's new secret", "192.0.2.1")
            .await
            .unwrap();

        // The administrator resets (a new link; the old password stops), unlocks and enables.
        let r = post_form(
            &s,
            "/console/staff/sato/password",
            &admin,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("/console/setup/"));
        assert!(
            s.m.login("sato", "sato's new secret", "192.0.2.1")
                .await
                .is_err()
        );
        let r = post_form(&s, "/console/staff/sato/unlock", &admin, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("ロック解除"));
        let r = post_form(
            &s,
            "/console/staff/tanaka/disable",
            &admin,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = post_form(
            &s,
            "/console/staff/tanaka/enable",
            &admin,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("アカウントを有効に戻しました")
        );
        // The reset ended sato's sessions; the auditor may do none of it.
        let (_, html) = get_page(&s, "/console/password", &clerk).await;
        assert!(
            !html.contains("current_password"),
            "sato's session has ended"
        );
        let (auditor, acsrf) = console_login(&s, "kansa").await;
        let r = post_form(
            &s,
            "/console/staff/tanaka/unlock",
            &auditor,
            &[("csrf", &acsrf)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("denied: role auditor may not")
        );
    })
    .await;
}

// ---- issue 20: the identity check's evidence and the sweep guard in the console -------------

#[tokio::test]
async fn the_console_verifies_on_evidence_and_guards_a_large_sweep_in_the_pages_language() {
    on_both(|s| async move {
        let id = add_principal(&s.m).await;
        let clerk_actor = s.m.actor("sato").await.unwrap();
        let rid = s
            .m
            .request_open(
                &clerk_actor,
                mamori_service::request::OpenRequest {
                    principal_id: Some(id.clone()),
                    kind: "disclosure".into(),
                    received_at: "2026-11-20T10:00:00+09:00".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let (clerk, ccsrf) = console_login(&s, "sato").await;
        let (status, html) = get_page(&s, &format!("/console/requests/{rid}"), &clerk).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("name=\"evidence\""), "{html}");
        let verify = format!("/console/requests/{rid}/verify");
        let whole = [
            ("csrf", ccsrf.as_str()),
            ("method", "in_person_residence_card"),
            ("evidence", "在留カード AB12345678CD"),
        ];
        let r = post_form(&s, &verify, &clerk, &whole).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("確認の根拠: 確認した書類の名前と番号の末尾4桁まで") && !html.contains("12345678"),
            "{html}"
        );
        let r = post_form(&s, &format!("{verify}?lang=en"), &clerk, &whole).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Evidence: holds a whole document number") && !html.contains("12345678"),
            "{html}"
        );
        let shown = s.m.request_show(&clerk_actor, &rid).await.unwrap();
        assert_eq!(shown["status"], "open", "nothing recorded");
        let r = post_form(
            &s,
            &verify,
            &clerk,
            &[
                ("csrf", ccsrf.as_str()),
                ("method", "in_person_residence_card"),
                ("evidence", "在留カード 末尾1234"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(s.m.request_show(&clerk_actor, &rid).await.unwrap()["status"], "verified");

        // The sweep: one of one principals expired; refused until the box is ticked.
        sqlx::query("UPDATE principals SET created_at = '2020-01-01T00:00:00Z', last_activity_at = '2020-01-01T00:00:00Z'")
            .execute(s.m.store().pool())
            .await
            .unwrap();
        s.m.request_refuse(&clerk_actor, &rid, "other-law", "テストのため取り下げ", None)
            .await
            .unwrap();
        let (boss, bcsrf) = console_login(&s, "boss").await;
        let (_, html) = get_page(&s, "/console/retention", &boss).await;
        assert!(html.contains("id=\"confirm-large\""), "{html}");
        let r = post_form(&s, "/console/retention", &boss, &[("csrf", &bcsrf), ("mode", "sweep")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"problem\"")
                && html.contains("この廃棄では1人(全本人の1割超)が消去されるため、実行しませんでした")
                && html.contains("「全本人の1割を超える消去も実行する」"),
            "{html}"
        );
        assert_eq!(s.m.status().await.unwrap()["principals"], 1);
        let r = post_form(
            &s,
            "/console/retention?lang=en",
            &boss,
            &[("csrf", &bcsrf), ("mode", "sweep")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("This sweep would erase 1 principals, more than a tenth of all, so nothing was done"), "{html}");
        let r = post_form(
            &s,
            "/console/retention",
            &boss,
            &[("csrf", &bcsrf), ("mode", "sweep"), ("confirm_large", "yes")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(s.m.status().await.unwrap()["principals"], 0);
    })
    .await;
}

/// Every failed console sign-in reads the same, in the page's language (issue 20).
#[tokio::test]
async fn a_failed_console_sign_in_reads_the_same_for_every_login() {
    on_both(|s| async move {
        let http = plain();
        let mut seen = Vec::new();
        for login in ["sato", "ghost"] {
            let r = http.get(s.url("/console/login")).send().await.unwrap();
            let pre = cookies(&r).join("; ");
            let token = csrf_of(&r.text().await.unwrap());
            let r = http
                .post(s.url("/console/login"))
                .header(COOKIE, &pre)
                .form(&[
                    ("csrf", token.as_str()),
                    ("login", login),
                    ("password", "a wrong one!"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            let html = r.text().await.unwrap();
            let msg = html
                .split("id=\"login-error\">")
                .nth(1)
                .and_then(|x| x.split('<').next())
                .unwrap()
                .to_string();
            seen.push(msg);
        }
        assert_eq!(seen[0], "ログイン名またはパスワードが違います");
        assert_eq!(seen[0], seen[1]);
    })
    .await;
}

#[tokio::test]
async fn a_token_exception_reason_is_refused_in_the_pages_language_and_nothing_is_read() {
    on_both(|s| async move {
        let id = add_principal(&s.m).await;
        let (clerk, csrf) = console_login(&s, "sato").await;
        let before = s.m.status().await.unwrap()["audit_entries"].clone();
        let form = [
            ("csrf", csrf.as_str()),
            ("purpose", "inquiry_response"),
            ("basis", "law"),
            ("reason", "x"),
        ];
        let path = format!("/console/principals/{id}/reveal");
        let r = post_form(&s, &path, &clerk, &form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("理由: 短すぎて確認できません。根拠となる法令や照会を8文字以上で"),
            "{html}"
        );
        assert!(!html.contains("Le Thi Hoa"), "{html}");
        let r = post_form(&s, &format!("{path}?lang=en"), &clerk, &form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Reason: too short to review: write at least 8 characters"),
            "{html}"
        );
        assert_eq!(
            s.m.status().await.unwrap()["audit_entries"],
            before,
            "nothing read, nothing logged"
        );
        assert_eq!(s.m.status().await.unwrap()["pending_exception_reviews"], 0);
    })
    .await;
}
