//! The `http_read` figure: audited reads over `/api/v1` by many keep-alive connections on
//! loopback, against a raw HTTP server doing the same point read from a plain SQLite table.
//!
//! The load generator is in-process and minimal (HTTP/1.1, keep-alive, one request in flight
//! per connection, `Content-Length` bodies), so it costs about what `wrk` costs; it shares the
//! machine's cores with the server, as `wrk` on the same host would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a load run measured.
pub struct Load {
    pub elapsed: Duration,
    pub ok: u64,
    pub failed: u64,
}

impl Load {
    pub fn per_s(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `total` GETs of `paths` (round robin, each connection starting elsewhere) over `conns`
/// connections, with `header` (e.g. `Authorization: Bearer …\r\n`) on each.
pub async fn load(
    addr: SocketAddr,
    paths: Arc<Vec<String>>,
    header: Arc<String>,
    conns: usize,
    total: u64,
) -> Result<Load> {
    let per = total / conns.max(1) as u64;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let paths = paths.clone();
        let header = header.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let mut buf = Vec::with_capacity(4096);
            let (mut ok, mut failed) = (0u64, 0u64);
            for k in 0..per {
                let i = ((c as u64 * 7919 + k * 104_729) % paths.len().max(1) as u64) as usize;
                let path = paths.get(i).map_or("/", String::as_str);
                let req = format!(
                    "GET {path} HTTP/1.1\r\nHost: bench\r\n{header}Connection: keep-alive\r\n\r\n"
                );
                s.write_all(req.as_bytes()).await?;
                if response(&mut s, &mut buf).await? == 200 {
                    ok += 1;
                } else {
                    failed += 1;
                }
            }
            Ok::<(u64, u64), anyhow::Error>((ok, failed))
        }));
    }
    let (mut ok, mut failed) = (0, 0);
    for task in tasks {
        let (o, f) = task.await??;
        ok += o;
        failed += f;
    }
    Ok(Load {
        elapsed: t.elapsed(),
        ok,
        failed,
    })
}

/// Read one response; its status.
async fn response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let head = std::str::from_utf8(buf.get(..head_end).unwrap_or_default())
        .context("a response head that is not text")?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("a response without a status")?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .context("a response without Content-Length")?;
    let mut have = buf.len() - head_end;
    while have < len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection mid-body");
        }
        have += n;
    }
    Ok(status)
}

/// The baseline server: `GET /raw/{id}` reads one row of the raw table and returns it as JSON.
pub async fn raw_server(
    pool: sqlx::SqlitePool,
) -> Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    use axum::extract::{Path, State};
    use axum::routing::get;
    async fn one(
        State(pool): State<sqlx::SqlitePool>,
        Path(id): Path<String>,
    ) -> Result<axum::Json<serde_json::Value>, axum::http::StatusCode> {
        let row: (String, String, String) =
            sqlx::query_as("SELECT name, email, phone FROM raw WHERE id = ?")
                .bind(id)
                .fetch_one(&pool)
                .await
                .map_err(|_| axum::http::StatusCode::NOT_FOUND)?;
        Ok(axum::Json(
            serde_json::json!({"name": row.0, "email": row.1, "phone": row.2}),
        ))
    }
    let app = axum::Router::new()
        .route("/raw/{id}", get(one))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((addr, stop))
}

/// Mamori's server on loopback, port chosen by the system.
pub async fn mamori_server(
    m: mamori_service::Mamori,
) -> Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mamori_server::serve_on(
        m,
        listener,
        mamori_server::Options::default(),
        async {
            let _ = stopped.await;
        },
    ));
    Ok((addr, stop))
}

/// `wrk` against the same server, when it is installed: its requests per second (a
/// cross-check of the in-process generator). The Lua script rotates over the paths.
pub async fn wrk(
    addr: SocketAddr,
    paths: &[String],
    token: Option<&str>,
    conns: usize,
    seconds: u64,
    dir: &std::path::Path,
) -> Result<Option<f64>> {
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        return Ok(None);
    }
    let list: Vec<String> = paths
        .iter()
        .take(10_000)
        .map(|p| format!("{p:?}"))
        .collect();
    let auth = token.map_or(String::new(), |t| {
        format!("wrk.headers[\"Authorization\"] = \"Bearer {t}\"\n")
    });
    let script = format!(
        "local paths = {{{}}}\nlocal i = 0\n{auth}request = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n",
        list.join(",")
    );
    let file = dir.join("bench.lua");
    std::fs::write(&file, script)?;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("wrk")
            .arg("-t2")
            .arg(format!("-c{conns}"))
            .arg(format!("-d{seconds}s"))
            .arg("-s")
            .arg(&file)
            .arg(format!("http://{addr}"))
            .output()
    })
    .await??;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        bail!("wrk saw non-2xx responses: {}", text.trim());
    }
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok()))
}
