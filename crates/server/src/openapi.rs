//! The OpenAPI 3.1 document (generated from the handlers' annotations) and a docs page served
//! from the binary: nothing is downloaded and nothing runs in the browser (no script, so the
//! Content-Security-Policy allows none): the list of operations is drawn from the document here.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::api;
use crate::error::Problem;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `mamori staff token LOGIN`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "mamori_session",
                "The session cookie set by POST /api/v1/login; changes also need X-CSRF-Token",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Mamori API", description = "Personal-information protection management (守り). Every use of personal data is purpose-bound and audited; errors are RFC 9457 problem details."),
    paths(
        api::login, api::logout, api::me, api::status, api::presets,
        api::policy_show, api::policy_versions, api::policy_notice, api::policy_check, api::policy_diff, api::policy_apply,
        api::staff_list, api::staff_add, api::staff_token, api::token_revoke,
        api::principal_add, api::principal_show, api::principal_read, api::principal_find, api::principal_correct, api::import,
        api::audit_log, api::audit_verify,
    ),
    components(schemas(
        Problem, api::LoginBody, api::NewPrincipalBody, api::CorrectBody, api::FindBody, api::NewStaffBody,
        api::ReadBody, api::PolicyText, api::PolicyDiffBody, api::PolicyApplyBody, api::IdResponse, api::ShownResponse, api::SessionResponse,
    )),
    modifiers(&Security),
    tags((name = "principals", description = "The encrypted registry"), (name = "audit"), (name = "policy"), (name = "staff"), (name = "auth"), (name = "system"))
)]
pub struct ApiDoc;

/// The whole document: the core API merged with each workflow's own part.
pub fn full() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::provision::ProvisionApi::openapi());
    doc.merge(crate::requests::RequestsApi::openapi());
    doc.merge(crate::students::StudentsApi::openapi());
    doc.merge(crate::retention::RetentionApi::openapi());
    doc.merge(crate::complaints::ComplaintsApi::openapi());
    doc.merge(crate::incidents::IncidentsApi::openapi());
    doc.merge(crate::governance::GovernanceApi::openapi());
    doc.merge(crate::accounts::AccountsApi::openapi());
    doc
}

pub async fn document() -> impl IntoResponse {
    Json(full())
}

const DOCS: &str = include_str!("docs.html");

pub async fn docs_page() -> impl IntoResponse {
    crate::pages::document(DOCS.replace("{OPS}", &operations_html(&full())))
}

/// Every operation, grouped by tag in the order the document lists them: method, path, and
/// the description with the response codes.
fn operations_html(doc: &utoipa::openapi::OpenApi) -> String {
    let e = mamori_policy::notice::escape_html;
    let value = serde_json::to_value(doc).unwrap_or_default();
    let mut by_tag: Vec<(String, Vec<String>)> = Vec::new();
    for (path, item) in value
        .get("paths")
        .and_then(|p| p.as_object())
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op
                .pointer("/tags/0")
                .and_then(|t| t.as_str())
                .unwrap_or("other")
                .to_string();
            let codes: Vec<&str> = op
                .get("responses")
                .and_then(|r| r.as_object())
                .map(|r| r.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let text = ["description", "summary"]
                .iter()
                .find_map(|k| op.get(*k).and_then(|t| t.as_str()))
                .unwrap_or("");
            let line = format!(
                "<div class=\"op\"><span class=\"m {m}\">{M}</span><code>{p}</code><div class=\"muted\">{t}{c}</div></div>",
                m = e(method),
                M = e(&method.to_uppercase()),
                p = e(path),
                t = e(text),
                c = if codes.is_empty() {
                    String::new()
                } else {
                    format!("  — responses: {}", e(&codes.join(" ")))
                }
            );
            match by_tag.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, ops)) => ops.push(line),
                None => by_tag.push((tag, vec![line])),
            }
        }
    }
    by_tag
        .into_iter()
        .map(|(tag, ops)| format!("<h2>{}</h2>\n{}", e(&tag), ops.join("\n")))
        .collect::<Vec<_>>()
        .join("\n")
}
