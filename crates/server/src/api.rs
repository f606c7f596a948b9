//! The `/api/v1` handlers: each is the twin of a CLI command, a thin translation of one
//! `mamori-service` use case.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_policy::Lang;
use mamori_policy::notice::Format;
use mamori_service::principal::{NewPrincipal, parse_exception};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Authed, SESSION_COOKIE};
use crate::error::{ApiJson, ApiQuery, Problem};

type ApiResult<T> = Result<T, Problem>;

fn ok<T: Serialize>(v: T) -> ApiResult<Response> {
    Ok(Json(v).into_response())
}

// ---- request bodies (also the OpenAPI schemas) ---------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub login: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrincipalBody {
    /// A channel id of the policy (how the data was acquired).
    pub channel: String,
    /// Category id → value.
    pub fields: BTreeMap<String, String>,
    /// Purposes the principal consented to beyond those notified for the channel.
    #[serde(default)]
    pub consents: Vec<String>,
    /// The principal consented to giving special-care-required data (APPI 20(2)).
    #[serde(default)]
    pub special_care_consent: bool,
    /// Where the consent is kept (a form number); never a personal value.
    #[serde(default)]
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectBody {
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindBody {
    pub purpose: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowQuery {
    /// The purpose of this use (must be allowed for the caller's role and the principal).
    pub purpose: Option<String>,
    /// Comma-separated category ids to reveal (default: all held).
    pub fields: Option<String>,
    /// Refused (422): a statutory exception goes in the body of `POST
    /// /api/v1/principals/{id}/read`, never in a URL.
    pub basis: Option<String>,
    /// Refused (422): the reason goes in the body of `POST /api/v1/principals/{id}/read`.
    pub reason: Option<String>,
}

/// `POST /api/v1/principals/{id}/read`: the twin of `GET /api/v1/principals/{id}` that carries a
/// statutory exception. Its reason is free text that may name people, and URLs are logged by
/// every reverse proxy on the way, so it travels in this body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// The purpose of this use.
    pub purpose: String,
    /// Category ids to reveal (default: all held).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// A statutory exception: law, life, public-health, public-agency (APPI 18(3)).
    #[serde(default)]
    pub basis: Option<String>,
    /// The written reason for the exception (flagged for the manager's review).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffBody {
    pub login: String,
    pub role: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Refused: an administrator does not choose another's password (the response's
    /// `setup_path` lets the person set it).
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyText {
    /// The policy file's TOML text.
    pub toml: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDiffBody {
    pub old: String,
    pub new: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyApplyBody {
    pub toml: String,
    /// YYYY-MM-DD (Japan date) from which the version is in effect.
    pub effective: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// ja (default) or en.
    pub lang: Option<String>,
    /// html (default) or markdown.
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    pub channel: Option<String>,
    /// Comma-separated purposes every row's principal consented to.
    pub consent: Option<String>,
    #[serde(default)]
    pub special_care_consent: Option<bool>,
    /// Where the consents are kept (the forms behind the file): required with `consent` or
    /// `special_care_consent` (issue 20); never a personal value.
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub principal: Option<String>,
    pub limit: Option<i64>,
}

// ---- response schemas (documentation of what the service returns) -----------------------

#[derive(Serialize, ToSchema)]
pub struct IdResponse {
    pub id: String,
}

#[derive(Serialize, ToSchema)]
pub struct ShownResponse {
    pub id: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub login: String,
    pub role: String,
    pub csrf_token: String,
    pub expires_at: String,
}

fn need<'a>(v: &'a Option<String>, name: &str, hint: &str) -> ApiResult<&'a str> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Problem::unprocessable(format!("{name}: is required: {hint}")))
}

// ---- handlers -------------------------------------------------------------------------------

pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

pub async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "no such route: see /api/docs")
}

fn is_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

#[utoipa::path(post, path = "/api/v1/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = SessionResponse, description = "Signed in; the session cookie is set"),
              (status = 401, body = Problem), (status = 422, body = Problem),
              (status = 429, body = Problem, description = "Too many failed sign-ins from this address")))]
pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    client: crate::client::ClientAddr,
    ApiJson(b): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    let session = s.mamori.login(&b.login, &b.password, &client.0).await?;
    let secure = if s.secure_cookies || is_tls(&headers) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        session.id,
        mamori_service::auth::SESSION_HOURS * 3600
    );
    let mut res = Json(&session).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[utoipa::path(post, path = "/api/v1/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(s): State<AppState>, parts: Parts) -> ApiResult<Response> {
    if let Some(sid) = crate::auth::session_cookie_of(&parts) {
        s.mamori.logout(&sid).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mamori_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("token" = []), ("session" = [])),
    responses((status = 200, description = "The caller: login, role and what the role may do"), (status = 401, body = Problem)))]
pub async fn me(a: Authed) -> ApiResult<Response> {
    ok(serde_json::json!({
        "login": a.actor.login,
        "role": a.actor.role.id,
        "actions": a.actor.role.actions,
        "purposes": a.actor.role.purposes,
    }))
}

#[utoipa::path(get, path = "/api/v1/status", tag = "system", security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Counts, no personal values"), (status = 401, body = Problem)))]
pub async fn status(State(s): State<AppState>, _a: Authed) -> ApiResult<Response> {
    ok(s.mamori.status().await?)
}

#[utoipa::path(get, path = "/api/v1/presets", tag = "policy", responses((status = 200)))]
pub async fn presets() -> ApiResult<Response> {
    let list: Vec<serde_json::Value> = mamori_policy::PRESETS
        .iter()
        .filter_map(|(name, text)| {
            mamori_policy::Policy::parse(text, name).ok().map(|p| {
                serde_json::json!({"id": name, "version": p.version, "organization": {"ja": p.organization.name.ja, "en": p.organization.name.en}})
            })
        })
        .collect();
    ok(list)
}

#[utoipa::path(get, path = "/api/v1/policy", tag = "policy", responses((status = 200, description = "The policy in effect")))]
pub async fn policy_show(State(s): State<AppState>) -> ApiResult<Response> {
    ok(serde_json::json!({"version": s.mamori.policy_version(), "policy": &*s.mamori.policy()}))
}

#[utoipa::path(get, path = "/api/v1/policy/versions", tag = "policy", responses((status = 200, description = "Every stored version")))]
pub async fn policy_versions(State(s): State<AppState>) -> ApiResult<Response> {
    ok(s.mamori.policy_versions().await?)
}

#[utoipa::path(get, path = "/api/v1/policy/notice", tag = "policy", params(NoticeQuery),
    responses((status = 200, description = "The public notice (HTML or Markdown)"), (status = 422, body = Problem)))]
pub async fn policy_notice(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<NoticeQuery>,
) -> ApiResult<Response> {
    let lang: Lang = q
        .lang
        .as_deref()
        .unwrap_or("ja")
        .parse()
        .map_err(|e| Problem::unprocessable(format!("lang: {e}")))?;
    let format: Format = q
        .format
        .as_deref()
        .unwrap_or("html")
        .parse()
        .map_err(|e| Problem::unprocessable(format!("format: {e}")))?;
    let text = s.mamori.policy_notice(lang, format);
    Ok(match format {
        Format::Html => crate::pages::document(text),
        Format::Markdown => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            text,
        )
            .into_response(),
    })
}

#[utoipa::path(post, path = "/api/v1/policy/check", tag = "policy", request_body = PolicyText,
    responses((status = 200), (status = 422, body = Problem, description = "Every problem, one per line")))]
pub async fn policy_check(ApiJson(b): ApiJson<PolicyText>) -> ApiResult<Response> {
    let p = mamori_service::policy::check(&b.toml, "policy")?;
    ok(serde_json::json!({"ok": true, "version": p.version}))
}

#[utoipa::path(post, path = "/api/v1/policy/diff", tag = "policy", request_body = PolicyDiffBody,
    responses((status = 200, description = "Each change with what it requires"), (status = 422, body = Problem)))]
pub async fn policy_diff(ApiJson(b): ApiJson<PolicyDiffBody>) -> ApiResult<Response> {
    ok(mamori_service::policy::diff_files(
        (&b.old, "old"),
        (&b.new, "new"),
    )?)
}

#[utoipa::path(post, path = "/api/v1/policy/apply", tag = "policy", request_body = PolicyApplyBody, security(("token" = []), ("session" = [])),
    responses((status = 200), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn policy_apply(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<PolicyApplyBody>,
) -> ApiResult<Response> {
    ok(s.mamori
        .policy_apply(Some(&a.actor), &b.toml, "policy", &b.effective)
        .await?)
}

#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("token" = []), ("session" = [])),
    responses((status = 200), (status = 401, body = Problem)))]
pub async fn staff_list(State(s): State<AppState>, a: Authed) -> ApiResult<Response> {
    ok(s.mamori.staff_list(&a.actor).await?)
}

#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = NewStaffBody, security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The account, without a password, and its one-time setup link (`setup_path`, 72 hours)"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn staff_add(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<NewStaffBody>,
) -> ApiResult<Response> {
    if b.password.is_some() {
        // The same refusal as the service's, after the same role check.
        s.mamori
            .staff_add(Some(&a.actor), &b.login, &b.role, b.name.as_deref(), "")
            .await?;
    }
    let inv = s
        .mamori
        .staff_invite(Some(&a.actor), &b.login, &b.role, b.name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(inv)).into_response())
}

#[utoipa::path(post, path = "/api/v1/staff/{login}/tokens", tag = "staff", params(("login" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 201, description = "The token, shown once"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn staff_token(
    State(s): State<AppState>,
    a: Authed,
    Path(login): Path<String>,
) -> ApiResult<Response> {
    let t = s.mamori.issue_token(&a.actor, &login).await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "staff", params(("id" = String, Path)), security(("token" = []), ("session" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn token_revoke(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    s.mamori.revoke_token(&a.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/v1/principals", tag = "principals", request_body = NewPrincipalBody, security(("token" = []), ("session" = [])),
    responses((status = 201, body = IdResponse), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn principal_add(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<NewPrincipalBody>,
) -> ApiResult<Response> {
    let added = s
        .mamori
        .principal_add(
            &a.actor,
            NewPrincipal {
                channel: b.channel,
                fields: b.fields.into_iter().collect(),
                consents: b.consents,
                special_care_consent: b.special_care_consent,
                evidence: b.evidence,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

#[utoipa::path(get, path = "/api/v1/principals/{id}", tag = "principals", params(("id" = String, Path), ShowQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, body = ShownResponse), (status = 401, body = Problem), (status = 403, body = Problem, description = "denied: the rule"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn principal_show(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> ApiResult<Response> {
    // Issue 20: reverse proxies log URLs, and a reason may name people.
    for (name, given) in [("reason", &q.reason), ("basis", &q.basis)] {
        if given.is_some() {
            return Err(Problem::unprocessable(format!(
                "{name}: a statutory exception is never sent in the URL (proxies log URLs): \
                 send POST /api/v1/principals/{{id}}/read with {{\"purpose\", \"fields\", \"basis\", \"reason\"}} in the body"
            )));
        }
    }
    let purpose = need(
        &q.purpose,
        "purpose",
        "say why you need the data (?purpose=registration_contact)",
    )?;
    let only: Option<Vec<String>> = q.fields.as_deref().map(|f| {
        f.split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    });
    ok(s.mamori
        .principal_show(&a.actor, &id, purpose, only.as_deref(), None)
        .await?)
}

#[utoipa::path(post, path = "/api/v1/principals/{id}/read", tag = "principals", params(("id" = String, Path)), request_body = ReadBody, security(("token" = []), ("session" = [])),
    responses((status = 200, body = ShownResponse), (status = 401, body = Problem), (status = 403, body = Problem, description = "denied: the rule"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn principal_read(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReadBody>,
) -> ApiResult<Response> {
    if b.purpose.trim().is_empty() {
        return Err(Problem::unprocessable(
            "purpose: is required: say why you need the data (\"purpose\": \"registration_contact\")",
        ));
    }
    let only: Option<Vec<String>> = b.fields.map(|f| {
        f.into_iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    });
    let exception = parse_exception(b.basis.as_deref(), b.reason.as_deref())?;
    ok(s.mamori
        .principal_show(
            &a.actor,
            &id,
            &b.purpose,
            only.as_deref(),
            exception.as_ref(),
        )
        .await?)
}

#[utoipa::path(post, path = "/api/v1/principals/search", tag = "principals", request_body = FindBody, security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Matching principals the caller may use for the purpose (ids, no values)"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn principal_find(
    State(s): State<AppState>,
    a: Authed,
    ApiJson(b): ApiJson<FindBody>,
) -> ApiResult<Response> {
    let (cat, value) = match (&b.email, &b.phone, &b.name) {
        (Some(v), None, None) => ("email", v),
        (None, Some(v), None) => ("phone", v),
        (None, None, Some(v)) => ("name", v),
        _ => {
            return Err(Problem::unprocessable(
                "body: give exactly one of email, phone or name",
            ));
        }
    };
    ok(s.mamori
        .principal_find(&a.actor, &b.purpose, cat, value)
        .await?)
}

#[utoipa::path(patch, path = "/api/v1/principals/{id}", tag = "principals", params(("id" = String, Path)), request_body = CorrectBody, security(("token" = []), ("session" = [])),
    responses((status = 200), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn principal_correct(
    State(s): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CorrectBody>,
) -> ApiResult<Response> {
    let fields: Vec<(String, String)> = b.fields.into_iter().collect();
    ok(s.mamori.principal_correct(&a.actor, &id, &fields).await?)
}

#[utoipa::path(post, path = "/api/v1/imports", tag = "principals", params(ImportQuery), security(("token" = []), ("session" = [])),
    request_body(content = String, content_type = "text/csv", description = "CSV, header = category ids; UTF-8 or Shift_JIS"),
    responses((status = 200, description = "Rows added, skipped, and errors by line"), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn import(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let channel = need(
        &q.channel,
        "channel",
        "give ?channel=… (a channel id of the policy)",
    )?;
    let consents: Vec<String> = q
        .consent
        .as_deref()
        .map(|c| {
            c.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let report = s
        .mamori
        .import_csv(
            &a.actor,
            channel,
            &body,
            &consents,
            q.special_care_consent.unwrap_or(false),
            q.evidence.as_deref(),
            &mut |_| {},
        )
        .await?;
    ok(report)
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("token" = []), ("session" = [])),
    responses((status = 200, description = "Entries, oldest first: ids and categories, never values"), (status = 403, body = Problem)))]
pub async fn audit_log(
    State(s): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    ok(s.mamori
        .audit_log(&a.actor, q.principal.as_deref(), q.limit.unwrap_or(200))
        .await?)
}

#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", security(("token" = []), ("session" = [])),
    responses((status = 200), (status = 500, body = Problem, description = "Verification failed: names the first bad entry")))]
pub async fn audit_verify(State(s): State<AppState>, _a: Authed) -> ApiResult<Response> {
    ok(s.mamori.audit_verify().await?)
}
