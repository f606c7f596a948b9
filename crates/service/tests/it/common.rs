//! Shared set-up for the service tests: a fresh data folder per test, on SQLite and (when
//! MAMORI_TEST_DATABASE_URL is set) on PostgreSQL.

use std::future::Future;

use mamori_service::principal::NewPrincipal;
use mamori_service::{Actor, Config, Mamori, ServiceError};

pub const PASSWORD: &str = "correct horse battery";

pub struct Env {
    pub m: Mamori,
    _dir: tempfile::TempDir,
    pub dir: std::path::PathBuf,
    pub backend: &'static str,
    /// The PostgreSQL URL of this test's database (None on SQLite).
    pub url: Option<String>,
}

pub async fn setup(preset: &str, url: Option<String>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = Config {
        data_dir: data.clone(),
        database_url: url.clone(),
    };
    let text = mamori_policy::preset(preset).unwrap();
    let (m, _) = Mamori::init(&cfg, text, preset, Some(preset), Some(("admin", PASSWORD)))
        .await
        .unwrap();
    for (login, role) in [
        ("manager", "manager"),
        ("clerk", "clerk"),
        ("auditor", "auditor"),
    ] {
        m.staff_add(None, login, role, None, PASSWORD)
            .await
            .unwrap();
    }
    Env {
        m,
        _dir: dir,
        dir: data,
        backend: if url.is_some() { "postgres" } else { "sqlite" },
        url: url.clone(),
    }
}

/// Run a scenario on SQLite, then on PostgreSQL if configured.
pub async fn on_both<F, Fut>(preset: &str, f: F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    f(setup(preset, None).await).await;
    match mamori_store::fresh_test_database().await.unwrap() {
        Some(url) => f(setup(preset, Some(url)).await).await,
        None => eprintln!("PostgreSQL tests skipped: MAMORI_TEST_DATABASE_URL is not set"),
    }
}

pub async fn actor(e: &Env, login: &str) -> Actor {
    e.m.actor(login).await.unwrap()
}

pub fn fields(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub async fn add_volunteer(e: &Env) -> String {
    let clerk = actor(e, "clerk").await;
    e.m.principal_add(
        &clerk,
        NewPrincipal {
            channel: "volunteer".into(),
            fields: fields(&[
                ("name", "山田 太郎"),
                ("email", "Taro.Yamada@example.jp"),
                ("phone", "+81 90-1234-5678"),
                ("postal_code", "261-0011"),
                ("address", "千葉市美浜区真砂1-2-3"),
            ]),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

pub fn denied(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(ServiceError::Denied(reason)) => reason,
        other => panic!("expected a denial, got {other:?}"),
    }
}

pub fn bad_input(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(ServiceError::BadInput(m)) => m,
        other => panic!("expected bad input, got {other:?}"),
    }
}

pub async fn principals(e: &Env) -> i64 {
    e.m.status().await.unwrap()["principals"].as_i64().unwrap()
}

/// Files under `dir` whose bytes contain `needle` (plaintext scans of the data folder).
pub fn scan_dir(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            found.extend(scan_dir(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            found.push(p.display().to_string());
        }
    }
    found
}

/// Move a principal's dates (registration, last activity, fields' updates) back by `span` and
/// `extra_secs` more, as if registered that long ago: a real retention sweep runs only as of the
/// clock (issue 20), so a test ages its data instead of sweeping in the future.
pub async fn age(e: &Env, id: &str, span: &str, extra_secs: i64) {
    let back = jiff::Timestamp::now()
        .to_zoned(mamori_calendar::japan_tz())
        .checked_sub(span.parse::<jiff::Span>().unwrap())
        .unwrap()
        .timestamp()
        - jiff::SignedDuration::from_secs(extra_secs);
    let back = back.to_string();
    e.m.store()
        .write(
            vec![
                mamori_store::Stmt::new(
                    "UPDATE principals SET created_at = $2, last_activity_at = $2 WHERE id = $1",
                    vec![id.into(), back.as_str().into()],
                ),
                mamori_store::Stmt::new(
                    "UPDATE fields SET updated_at = $2 WHERE principal_id = $1",
                    vec![id.into(), back.as_str().into()],
                ),
            ],
            vec![],
        )
        .await
        .unwrap();
}

/// Files under `dir` whose bytes contain `needle` (raw scans for digests and ciphertexts).
pub fn scan_dir_bytes(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            found.extend(scan_dir_bytes(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p)
            && !needle.is_empty()
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(p.display().to_string());
        }
    }
    found
}

/// Run SQL against the test's database as someone with database access alone would.
pub async fn exec(e: &Env, sql: &str) {
    sqlx::query(sql).execute(e.m.store().pool()).await.unwrap();
}

/// The message of an audit verification that must fail.
pub async fn verify_error(e: &Env) -> String {
    match e.m.audit_verify().await {
        Err(ServiceError::Failed(m)) => m,
        other => panic!(
            "expected verification to fail on {}, got {other:?}",
            e.backend
        ),
    }
}
