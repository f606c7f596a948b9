//! `mamori-bench`: Mamori's protections side by side with a raw baseline, in the same run on the
//! same machine (DESIGN.md "Benchmarks"; issue 13).
//!
//! Figures: `import` (vs raw SQLite inserts of the same rows, same pragmas and batch size),
//! `read` (purpose-checked, audited, decrypted reads by many concurrent readers vs raw SQLite
//! point reads by as many), `verify` (audit chain verification vs raw SHA-256 over the same
//! bytes), `disclose` and `erase` (p50/p99 of one principal's disclosure package and erasure,
//! vs a raw point read and a raw delete), `http_read` (audited reads over `/api/v1` with a
//! token by many connections on loopback, vs a raw HTTP server reading the raw table). Each
//! figure has `slowdown` = Mamori's time / the baseline's time for the same work. Benchmarks are
//! not tests: nothing fails on a slow machine. `--plot OUT.svg RUN.json…` draws how each cost
//! grows with N from saved runs.

mod http;
mod plot;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use mamori_service::request::OpenRequest;
use mamori_service::{Config, Mamori};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

#[derive(Parser, Debug)]
#[command(
    name = "mamori-bench",
    about = "Mamori side by side with raw baselines"
)]
struct Args {
    /// How many principals to import.
    #[arg(long, default_value_t = 100_000)]
    principals: u64,
    /// Concurrent readers in the `read` figure.
    #[arg(long, default_value_t = 64)]
    readers: usize,
    /// Reads in the `read` figure.
    #[arg(long, default_value_t = 20_000)]
    reads: u64,
    /// Samples for `disclose` and `erase`.
    #[arg(long, default_value_t = 100)]
    samples: usize,
    /// Print `{"figures": [...]}` only.
    #[arg(long)]
    json: bool,
    /// Keep the data in this folder (default: a temporary one).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Connections in the `http_read` figure.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Requests in the `http_read` figure (0: leave the figure out).
    #[arg(long, default_value_t = 20_000)]
    http_reads: u64,
    /// Also measure `http_read` with `wrk` (when installed) for this many seconds.
    #[arg(long)]
    wrk: Option<u64>,
    /// Draw the runs given (JSON files of this bench) as an SVG plot to this file, and stop.
    #[arg(long, value_name = "OUT.svg")]
    plot: Option<std::path::PathBuf>,
    /// With --plot: the runs to draw.
    #[arg(requires = "plot")]
    runs: Vec<std::path::PathBuf>,
}

const BATCH: usize = 500;

fn row(i: u64) -> (String, String, String) {
    // Synthetic, valid values; no card-number-like digit runs.
    let family = [
        "Sato",
        "Suzuki",
        "Takahashi",
        "Tanaka",
        "Nguyen",
        "Santos",
        "Kim",
        "Tamang",
    ];
    let given = [
        "Kenta", "Misaki", "Hiroshi", "Yui", "An", "Maria", "Minji", "Pema",
    ];
    let name = format!(
        "{} {}",
        given.get((i % 8) as usize).unwrap_or(&"A"),
        family.get(((i / 8) % 8) as usize).unwrap_or(&"B")
    );
    let email = format!("person{i}@example.jp");
    let phone = format!("090-{:04}-{:04}", (i / 10_000) % 10_000, i % 10_000);
    (name, email, phone)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(idx.min(sorted.len() - 1))
        .copied()
        .unwrap_or(0.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 100.0).round() / 100.0
    } else {
        0.0
    }
}

async fn raw_pool(dir: &Path) -> Result<sqlx::SqlitePool> {
    let opts = SqliteConnectOptions::new()
        .filename(dir.join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(opts)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS raw (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    Ok(pool)
}

fn progress(quiet: bool, what: &str) {
    if !quiet {
        eprintln!("… {what}");
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(out) = &args.plot {
        return plot::plot(out, &args.runs);
    }
    let tmp = tempfile_dir(args.dir.as_deref())?;
    let dir = tmp.path().to_path_buf();
    let n = args.principals.max(args.samples as u64 * 2 + 10);
    let quiet = args.json;

    // ---- set-up -------------------------------------------------------------------------------
    let cfg = Config {
        data_dir: dir.join("mamori"),
        database_url: None,
    };
    let pw = "bench passphrase 1";
    let (m, _) = Mamori::init(
        &cfg,
        mamori_policy_preset()?,
        "chiba-ia",
        Some("chiba-ia"),
        Some(("admin", pw)),
    )
    .await?;
    m.staff_add(None, "clerk", "clerk", None, pw).await?;
    m.staff_add(None, "boss", "manager", None, pw).await?;
    let clerk = m.actor("clerk").await?;
    let boss = m.actor("boss").await?;
    let raw = raw_pool(&dir).await?;

    // ---- import -------------------------------------------------------------------------------
    progress(quiet, &format!("import of {n} principals"));
    let mut csv = String::with_capacity(n as usize * 48);
    csv.push_str("name,email,phone\n");
    for i in 0..n {
        let (a, b, c) = row(i);
        csv.push_str(&format!("{a},{b},{c}\n"));
    }
    let t = Instant::now();
    let report = m
        .import_csv(
            &clerk,
            "volunteer",
            csv.as_bytes(),
            &[],
            false,
            None,
            &mut |_| {},
        )
        .await?;
    let mamori_import = t.elapsed();
    anyhow::ensure!(
        report.added == n,
        "import added {} of {n}: {:?}",
        report.added,
        report.errors.first()
    );
    drop(csv);
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let mut tx = raw.begin().await?;
        for j in i..(i + BATCH as u64).min(n) {
            let (a, b, c) = row(j);
            sqlx::query("INSERT INTO raw (id, name, email, phone) VALUES (?, ?, ?, ?)")
                .bind(format!("r{j:012}"))
                .bind(a)
                .bind(b)
                .bind(c)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        i += BATCH as u64;
    }
    let raw_import = t.elapsed();
    let ids = report.ids.clone();

    // ---- read ---------------------------------------------------------------------------------
    progress(
        quiet,
        &format!("{} reads by {} readers", args.reads, args.readers),
    );
    let ids = Arc::new(ids);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..args.readers {
        let m = m.clone();
        let clerk = clerk.clone();
        let ids = ids.clone();
        let per = args.reads / args.readers as u64;
        tasks.push(tokio::spawn(async move {
            for k in 0..per {
                let idx = ((r as u64 * 7919 + k * 104_729) % ids.len() as u64) as usize;
                let id = ids.get(idx).cloned().unwrap_or_default();
                m.principal_show(&clerk, &id, "registration_contact", None, None)
                    .await?;
            }
            Ok::<(), mamori_service::ServiceError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let mamori_read = t.elapsed();
    let reads_done = (args.reads / args.readers as u64) * args.readers as u64;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..args.readers {
        let raw = raw.clone();
        let per = args.reads / args.readers as u64;
        tasks.push(tokio::spawn(async move {
            for k in 0..per {
                let idx = (r as u64 * 7919 + k * 104_729) % n;
                sqlx::query("SELECT name, email, phone FROM raw WHERE id = ?")
                    .bind(format!("r{idx:012}"))
                    .fetch_one(&raw)
                    .await?;
            }
            Ok::<(), sqlx::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let raw_read = t.elapsed();

    // ---- http_read ----------------------------------------------------------------------------
    let mut http_figure = None;
    if args.http_reads > 0 {
        progress(
            quiet,
            &format!(
                "{} HTTP reads over {} connections",
                args.http_reads, args.connections
            ),
        );
        let token = m.staff_token("clerk").await?.token;
        let paths: Vec<String> = ids
            .iter()
            .map(|id| format!("/api/v1/principals/{id}?purpose=registration_contact"))
            .collect();
        let (addr, stop) = http::mamori_server(m.clone()).await?;
        let header = Arc::new(format!("Authorization: Bearer {token}\r\n"));
        let paths = Arc::new(paths);
        let mamori_http = http::load(
            addr,
            paths.clone(),
            header,
            args.connections,
            args.http_reads,
        )
        .await?;
        anyhow::ensure!(
            mamori_http.failed == 0,
            "{} of the HTTP reads failed",
            mamori_http.failed
        );
        let wrk_mamori = match args.wrk {
            Some(secs) => {
                http::wrk(addr, &paths, Some(&token), args.connections, secs, &dir).await?
            }
            None => None,
        };
        let _ = stop.send(());
        let (raw_addr, raw_stop) = http::raw_server(raw.clone()).await?;
        let raw_paths: Vec<String> = (0..n).map(|i| format!("/raw/r{i:012}")).collect();
        let raw_paths = Arc::new(raw_paths);
        let raw_http = http::load(
            raw_addr,
            raw_paths.clone(),
            Arc::new(String::new()),
            args.connections,
            args.http_reads,
        )
        .await?;
        let wrk_raw = match args.wrk {
            Some(secs) => {
                http::wrk(raw_addr, &raw_paths, None, args.connections, secs, &dir).await?
            }
            None => None,
        };
        let _ = raw_stop.send(());
        http_figure = Some(json!({
            "name": "http_read", "reads": mamori_http.ok, "connections": args.connections,
            "seconds": mamori_http.elapsed.as_secs_f64(), "reads_per_s": mamori_http.per_s(),
            "baseline_seconds": raw_http.elapsed.as_secs_f64(), "baseline_reads_per_s": raw_http.per_s(),
            "slowdown": ratio(raw_http.per_s(), mamori_http.per_s()),
            "wrk_reads_per_s": wrk_mamori, "wrk_baseline_reads_per_s": wrk_raw,
            "audited": true,
            "baseline": "axum on loopback, the same point read from the raw table, no token, no audit",
        }));
    }

    // ---- verify -------------------------------------------------------------------------------
    progress(quiet, "audit verification");
    // Best of three for each side of this figure: one pass is a second or two, and the machine
    // may be shared.
    let mut mamori_verify = Duration::MAX;
    let mut v = None;
    for _ in 0..3 {
        let t = Instant::now();
        v = Some(m.audit_verify().await?);
        mamori_verify = mamori_verify.min(t.elapsed());
    }
    let v = v.context("verification did not run")?;
    // The entries' bytes, read a page at a time (holding a million decoded entries at once took
    // gigabytes: this bench's memory, not Mamori's).
    let mut bytes = Vec::new();
    let mut count = 0usize;
    let mut after = 0i64;
    loop {
        use sqlx::Row;
        let page = sqlx::query(
            "SELECT seq, at, actor, action, categories, decision, detail, prev_hash, principal_id, purpose, basis, reason FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 10000",
        )
        .bind(after)
        .fetch_all(m.store().pool())
        .await?;
        let Some(last) = page.last() else { break };
        after = last.try_get(0)?;
        count += page.len();
        for r in &page {
            for i in 1..12 {
                if let Some(s) = r.try_get::<Option<String>, _>(i)? {
                    bytes.extend_from_slice(s.as_bytes());
                }
            }
        }
    }
    let per = bytes.len() / count.max(1);
    let mut raw_verify = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        // The same work shape: one hash per entry over its bytes, chained.
        let mut prev = [0u8; 32];
        for chunk in bytes.chunks(per.max(1)) {
            let mut h = Sha256::new();
            h.update(prev);
            h.update(chunk);
            prev = h.finalize().into();
        }
        std::hint::black_box(prev);
        raw_verify = raw_verify.min(t.elapsed());
    }
    // A second baseline: the same bytes read back from a plain SQLite table and hashed, so the
    // figure also shows what reading the log from SQLite costs by itself.
    sqlx::query("CREATE TABLE raw_log (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL)")
        .execute(&raw)
        .await?;
    let mut tx = raw.begin().await?;
    for (i, chunk) in bytes.chunks(per.max(1)).enumerate() {
        sqlx::query("INSERT INTO raw_log (seq, bytes) VALUES (?, ?)")
            .bind(i as i64 + 1)
            .bind(chunk)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    // Into the database file, as Mamori's older entries are: read from a fresh WAL, every page
    // lookup searches the WAL index first.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&raw)
        .await?;
    let mut raw_scan_verify = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        {
            use futures_util::TryStreamExt;
            let mut prev = [0u8; 32];
            let mut rows =
                sqlx::query_as::<_, (Vec<u8>,)>("SELECT bytes FROM raw_log ORDER BY seq")
                    .fetch(&raw);
            while let Some((chunk,)) = rows.try_next().await? {
                let mut h = Sha256::new();
                h.update(prev);
                h.update(&chunk);
                prev = h.finalize().into();
            }
            std::hint::black_box(prev);
        }
        raw_scan_verify = raw_scan_verify.min(t.elapsed());
    }

    // ---- disclose and erase -------------------------------------------------------------------
    progress(
        quiet,
        &format!("{} disclosures and {} erasures", args.samples, args.samples),
    );
    let mut disclose = Vec::new();
    let mut raw_disclose = Vec::new();
    for k in 0..args.samples {
        let id = ids.get(k).cloned().unwrap_or_default();
        let o = m
            .request_open(
                &clerk,
                OpenRequest {
                    principal_id: Some(id),
                    kind: "disclosure".into(),
                    received_at: "2026-11-20T10:00".into(),
                    ..Default::default()
                },
            )
            .await?;
        m.request_verify(&clerk, &o.id, "email_code", Some("K7Q2X9"))
            .await?;
        let t = Instant::now();
        m.request_fulfil(&clerk, &o.id, &[], None).await?;
        disclose.push(ms(t.elapsed()));
        let t = Instant::now();
        sqlx::query("SELECT name, email, phone FROM raw WHERE id = ?")
            .bind(format!("r{k:012}"))
            .fetch_one(&raw)
            .await?;
        raw_disclose.push(ms(t.elapsed()));
    }
    let mut erase = Vec::new();
    let mut raw_erase = Vec::new();
    for k in 0..args.samples {
        let id = ids.get(args.samples + k).cloned().unwrap_or_default();
        let t = Instant::now();
        m.erase_principal(&boss.login, &id, "bench", None).await?;
        erase.push(ms(t.elapsed()));
        let t = Instant::now();
        sqlx::query("DELETE FROM raw WHERE id = ?")
            .bind(format!("r{:012}", args.samples + k))
            .execute(&raw)
            .await?;
        raw_erase.push(ms(t.elapsed()));
    }
    for v in [&mut disclose, &mut raw_disclose, &mut erase, &mut raw_erase] {
        v.sort_by(|a, b| a.total_cmp(b));
    }

    let figures = vec![
        json!({
            "name": "import", "rows": n,
            "seconds": mamori_import.as_secs_f64(), "rows_per_s": n as f64 / mamori_import.as_secs_f64(),
            "baseline_seconds": raw_import.as_secs_f64(), "baseline_rows_per_s": n as f64 / raw_import.as_secs_f64(),
            "slowdown": ratio(mamori_import.as_secs_f64(), raw_import.as_secs_f64()),
        }),
        json!({
            "name": "read", "reads": reads_done, "readers": args.readers,
            "seconds": mamori_read.as_secs_f64(), "reads_per_s": reads_done as f64 / mamori_read.as_secs_f64(),
            "baseline_seconds": raw_read.as_secs_f64(), "baseline_reads_per_s": reads_done as f64 / raw_read.as_secs_f64(),
            "slowdown": ratio(mamori_read.as_secs_f64(), raw_read.as_secs_f64()),
            "audited": true,
        }),
        json!({
            "name": "verify", "entries": v.entries, "bytes": bytes.len(),
            "seconds": mamori_verify.as_secs_f64(), "baseline_seconds": raw_verify.as_secs_f64(),
            "slowdown": ratio(mamori_verify.as_secs_f64(), raw_verify.as_secs_f64()),
            "baseline": "SHA-256 over the same bytes, chained per entry, in memory",
            "scan_baseline_seconds": raw_scan_verify.as_secs_f64(),
            "slowdown_vs_scan": ratio(mamori_verify.as_secs_f64(), raw_scan_verify.as_secs_f64()),
        }),
        json!({
            "name": "disclose", "samples": args.samples, "principals": n,
            "p50_ms": pct(&disclose, 0.5), "p99_ms": pct(&disclose, 0.99),
            "baseline_p50_ms": pct(&raw_disclose, 0.5), "baseline_p99_ms": pct(&raw_disclose, 0.99),
            "slowdown": ratio(pct(&disclose, 0.5), pct(&raw_disclose, 0.5)),
        }),
        json!({
            "name": "erase", "samples": args.samples, "principals": n,
            "p50_ms": pct(&erase, 0.5), "p99_ms": pct(&erase, 0.99),
            "baseline_p50_ms": pct(&raw_erase, 0.5), "baseline_p99_ms": pct(&raw_erase, 0.99),
            "slowdown": ratio(pct(&erase, 0.5), pct(&raw_erase, 0.5)),
        }),
    ];
    let mut figures = figures;
    if let Some(f) = http_figure {
        figures.insert(2, f);
    }
    let out = json!({ "figures": figures, "machine": machine() });
    if args.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

fn mamori_policy_preset() -> Result<&'static str> {
    mamori_service::policy_model::preset("chiba-ia").context("the chiba-ia preset is missing")
}

fn machine() -> Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    json!({"cpus": cpus, "cpu": model, "os": std::env::consts::OS})
}

/// A temporary folder (removed at the end) or the one given.
fn tempfile_dir(given: Option<&Path>) -> Result<TempDir> {
    match given {
        Some(p) => {
            std::fs::create_dir_all(p)?;
            Ok(TempDir {
                path: p.to_path_buf(),
                remove: false,
            })
        }
        None => {
            let p = std::env::temp_dir().join(format!("mamori-bench-{}", std::process::id()));
            std::fs::create_dir_all(&p)?;
            Ok(TempDir {
                path: p,
                remove: true,
            })
        }
    }
}

struct TempDir {
    path: std::path::PathBuf,
    remove: bool,
}

impl TempDir {
    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
