//! `/metrics` in the Prometheus text format: request counts by route template and status, and
//! the store's counts. Ids, values and query strings never appear (labels are route templates).
//! Only staff see it (a session or an API token, e.g. a scraper's token; issue 20): the counts
//! say how many people an office holds and how busy its desk is.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;
use crate::auth::Authed;

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status))
                .or_insert(0) += 1;
        }
    }
}

pub async fn render(State(state): State<AppState>, _staff: Authed) -> impl IntoResponse {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP mamori_http_requests_total HTTP requests by method, route template and status."
    );
    let _ = writeln!(out, "# TYPE mamori_http_requests_total counter");
    if let Ok(m) = state.metrics.requests.lock() {
        for ((method, route, status), n) in m.iter() {
            let _ = writeln!(
                out,
                "mamori_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                route.replace('"', "")
            );
        }
    }
    if let Ok(status) = state.mamori.status().await
        && let Some(obj) = status.as_object()
    {
        for (k, v) in obj {
            if let Some(n) = v.as_i64() {
                let _ = writeln!(out, "# TYPE mamori_{k} gauge");
                let _ = writeln!(out, "mamori_{k} {n}");
            }
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
