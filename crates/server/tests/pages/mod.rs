//! The staff console and the public portal over real HTTP (status codes, CSRF refusals, the
//! rate limit, escaping, the language switch) on SQLite and PostgreSQL, and end to end in a real
//! browser (Chromium driven through chromedriver) when Debian's `chromium` and
//! `chromium-driver` are installed; screenshots go to `target/e2e/`.

use std::time::Duration;

use mamori_service::principal::NewPrincipal;
use mamori_service::{Config, Mamori};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::{PW, Srv, on_both};

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
                .contains("default-src 'self'")
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
        let (admin, csrf) = console_login(&s, "admin").await;
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
                ("password", PW),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("suzuki"));
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let m2 = m.clone();
    tokio::spawn(async move {
        mamori_server::serve_on(m2, listener, mamori_server::Options::default(), async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    let data = tempfile::tempdir().unwrap();
    (
        Srv {
            base: format!("http://{addr}"),
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
