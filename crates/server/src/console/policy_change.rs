//! `/console/policy/diff` and `/console/policy/apply`: compare a proposed policy file (uploaded
//! or pasted) with the one in effect, each change classified by what it requires before it takes
//! effect (APPI 17(2), 18(1), 21(3), 27, 28; seed 000 Art. 10 — [`mamori_policy::diff`]), then
//! apply it with its effective date, the same use case as `mamori policy apply FILE --effective
//! DATE` ([`mamori_service::Mamori::policy_apply`]): who may apply is the service's decision
//! (the `policy` action), refused with its rule otherwise.

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Router};
use mamori_service::ServiceError;

use super::import::read_multipart;
use super::{Fields, Staff, checked, ctx, field, page};
use crate::AppState;
use crate::pages::{Ctx, LangQuery, error_page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/policy/diff", post(policy_diff))
        .route("/console/policy/apply", post(policy_apply))
}

struct ChangeRow {
    kind: String,
    subject: String,
    detail: String,
    action: String,
    instruction: String,
    rule: String,
}

#[derive(askama::Template)]
#[template(path = "console_policy_diff.html")]
struct DiffPage {
    c: Ctx,
    current: String,
    proposed: String,
    changes: Vec<ChangeRow>,
    toml: String,
    today: String,
    applied: String,
}

fn rows(changes: Vec<mamori_policy::diff::Change>) -> Vec<ChangeRow> {
    changes
        .into_iter()
        .map(|ch| ChangeRow {
            kind: serde_json::to_value(ch.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            subject: ch.subject,
            detail: ch.detail,
            action: ch.action.as_str().to_string(),
            instruction: ch.action.instruction().to_string(),
            rule: ch.rule,
        })
        .collect()
}

async fn policy_diff(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    mp: Multipart,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/policy", &q, Some(&st));
    let (f, files) = match read_multipart(mp).await {
        Ok(x) => x,
        Err(e) => return error_page(&c, &e, "/console/policy"),
    };
    if let Some(r) = checked(&c, &st, &f, "/console/policy") {
        return r;
    }
    // The uploaded file wins over the pasted text.
    let text = match files
        .into_iter()
        .find(|(n, b)| n == "file" && !b.is_empty())
    {
        Some((_, bytes)) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                return error_page(
                    &c,
                    &ServiceError::BadInput(
                        "file: the policy file is not UTF-8 text: save it as UTF-8 and upload it again".into(),
                    ),
                    "/console/policy",
                );
            }
        },
        None => field(&f, "toml").to_string(),
    };
    if text.trim().is_empty() {
        return error_page(
            &c,
            &ServiceError::BadInput(
                "toml: no policy given: upload the proposed policy file or paste its TOML".into(),
            ),
            "/console/policy",
        );
    }
    let new = match mamori_service::policy::check(&text, "proposed") {
        Ok(p) => p,
        Err(e) => return error_page(&c, &e, "/console/policy"),
    };
    let changes = mamori_policy::diff::diff(&s.mamori.policy(), &new);
    let p = DiffPage {
        c,
        current: s.mamori.policy_version(),
        proposed: new.version.clone(),
        changes: rows(changes),
        toml: text,
        today: mamori_service::today_jst().to_string(),
        applied: String::new(),
    };
    page(StatusCode::OK, &p, set)
}

async fn policy_apply(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/policy", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/policy") {
        return r;
    }
    let text = f.get("toml").map_or("", String::as_str);
    let previous = s.mamori.policy_version();
    match s
        .mamori
        .policy_apply(Some(&st.actor), text, "proposed", field(&f, "effective"))
        .await
    {
        Ok(a) => {
            let p = DiffPage {
                c,
                current: previous,
                proposed: a.version.clone(),
                changes: rows(a.changes),
                toml: String::new(),
                today: a.effective_on.clone(),
                applied: format!("{} ({})", a.version, a.effective_on),
            };
            page(StatusCode::OK, &p, set)
        }
        Err(e) => error_page(&c, &e, "/console/policy"),
    }
}
