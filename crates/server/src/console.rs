//! The staff console under `/console`: what a clerk, the manager and the auditor do every day,
//! without the CLI. Each page is a thin translation of `mamori-service` use cases, so the
//! console, the API and the CLI never disagree, and every decision is the role/purpose rule
//! recorded on the audit log.
//!
//! Sign-in is `Mamori::login` with the API's session cookie (`mamori_session`); every page needs
//! a session (else a redirect to `/console/login`) and every form carries the session's CSRF
//! token, checked before anything is done. Searches are POSTs and personal values appear only
//! in page bodies, never in URLs; values are revealed only after a purpose is chosen
//! (seed 000 Art. 4, 8-1; seed 003 Art. 17).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::{SignedDuration, Timestamp, ToSpan};
use mamori_policy::notice::{Format, render as render_notice};
use mamori_policy::{Action, Lang, RequestKind};
use mamori_service::complaint::NewComplaint;
use mamori_service::principal::parse_exception;
use mamori_service::provision::ProvideRequest;
use mamori_service::request::{INTAKE_CHANNELS, OpenRequest};
use mamori_service::store::crypto::random_hex;
use mamori_service::{Actor, ServiceError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::pages::{
    Ctx, LangQuery, choose_lang, cookie, document, error_page, main_of, refusal, render,
    same_token, see_other, with_cookies,
};

mod account;
mod consent;
mod governance;
mod import;
mod incident;
mod oversight;
mod policy_change;
mod school;
mod staff;
mod tokens;

const LOGIN_COOKIE: &str = "mamori_login";
const REFUSAL_GROUNDS: [&str; 5] = [
    "unverifiable",
    "already-erased",
    "serious-hindrance",
    "harm",
    "other-law",
];

type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", |v| v.trim())
}

fn opt(f: &Fields, k: &str) -> Option<String> {
    Some(field(f, k).to_string()).filter(|v| !v.is_empty())
}

/// A signed-in staff member (from the session cookie) with the session's CSRF token.
pub struct Staff {
    actor: Actor,
    csrf: String,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(see_other("/console/login"));
        };
        match s.mamori.session_actor(&sid).await {
            Ok((actor, csrf)) => Ok(Staff { actor, csrf }),
            Err(_) => Err(see_other("/console/login")),
        }
    }
}

impl Staff {
    fn may(&self, a: Action) -> bool {
        self.actor.role.actions.contains(&a)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard))
        .route("/console/login", get(login_form).post(login))
        .route("/console/logout", post(logout))
        .route("/console/principals", get(principals))
        .route("/console/principals/search", post(principal_search))
        .route(
            "/console/principals/new",
            get(principal_new).post(principal_register),
        )
        .route("/console/principals/{id}", get(principal_page))
        .route("/console/principals/{id}/reveal", post(principal_reveal))
        .route("/console/principals/{id}/correct", post(principal_correct))
        .route("/console/requests", get(requests).post(request_open))
        .route("/console/requests/{id}", get(request_page))
        .route("/console/requests/{id}/{step}", post(request_step))
        .route("/console/requests/{id}/notice", get(request_notice))
        .route("/console/complaints", get(complaints).post(complaint_open))
        .route("/console/complaints/{id}", get(complaint_page))
        .route("/console/complaints/{id}/{step}", post(complaint_step))
        .route("/console/complaints/{id}/notice", get(complaint_notice))
        .route("/console/provision", get(provision).post(provide))
        .route("/console/retention", get(retention).post(retention_run))
        .route("/console/audit", get(audit))
        .route("/console/audit/verify", post(audit_verify))
        .route("/console/policy", get(policy))
        .merge(import::routes())
        .merge(consent::routes())
        .merge(incident::routes())
        .merge(policy_change::routes())
        .merge(tokens::routes())
        .merge(governance::routes())
        .merge(staff::routes())
        .merge(school::routes())
        .merge(oversight::routes())
        .merge(account::routes())
}

fn ctx(
    s: &AppState,
    headers: &HeaderMap,
    path: &str,
    q: &LangQuery,
    st: Option<&Staff>,
) -> (Ctx, Option<String>) {
    let (lang, set) = choose_lang(headers, q.lang.as_deref());
    (
        Ctx {
            lang: if lang == Lang::Ja { "ja" } else { "en" },
            ja: lang == Lang::Ja,
            path: path.to_string(),
            org: s.mamori.policy().organization.name.get(lang).to_string(),
            console: true,
            who: st.map(|x| x.actor.login.clone()).unwrap_or_default(),
            csrf: st.map(|x| x.csrf.clone()).unwrap_or_default(),
            // The service's own test: the policy states the refund rules (学費返還規定).
            school: s.mamori.refund_rules().is_ok(),
            actions: st.map_or_else(Vec::new, |x| {
                x.actor.role.actions.iter().map(|a| a.as_str()).collect()
            }),
        },
        set,
    )
}

/// Render with the language cookie.
fn page(status: StatusCode, t: &impl Template, set: Option<String>) -> Response {
    with_cookies(render(status, t), &[set])
}

/// The form's token must be the session's.
fn checked(c: &Ctx, st: &Staff, f: &Fields, back: &str) -> Option<Response> {
    if same_token(field(f, "csrf"), &st.csrf) {
        None
    } else {
        Some(refusal(
            c,
            StatusCode::FORBIDDEN,
            c.t("フォームの有効期限が切れました", "The form has expired"),
            c.t(
                "csrf: フォームを開き直してから、もう一度送信してください。",
                "csrf: the form's token is missing or wrong: open the page again and resend.",
            ),
            back,
        ))
    }
}

fn now_local() -> String {
    mamori_calendar::format_jst(Timestamp::now())
        .get(..16)
        .unwrap_or("")
        .to_string()
}

/// `datetime-local` gives `YYYY-MM-DDTHH:MM`: a Japan time without seconds.
fn form_time(v: &str) -> String {
    if v.len() == 16 {
        format!("{v}:00")
    } else {
        v.to_string()
    }
}

fn purpose_choices(s: &AppState, st: &Staff, ja: bool) -> Vec<Choice> {
    let p = s.mamori.policy();
    st.actor
        .role
        .purposes
        .iter()
        .map(|id| Choice {
            value: id.clone(),
            text: p
                .purpose(id)
                .map_or(id.clone(), |x| if ja { x.ja.clone() } else { x.en.clone() }),
        })
        .collect()
}

struct Choice {
    value: String,
    text: String,
}

fn choices(items: &[&str]) -> Vec<Choice> {
    items
        .iter()
        .map(|v| Choice {
            value: (*v).to_string(),
            text: (*v).to_string(),
        })
        .collect()
}

// ---- sign-in -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console_login.html")]
struct LoginPage {
    c: Ctx,
    error: String,
    login: String,
}

async fn login_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (mut c, set) = ctx(&s, &headers, "/console/login", &q, None);
    let (token, made) = match cookie(&headers, LOGIN_COOKIE) {
        Some(t) if t.len() == 32 => (t, None),
        _ => {
            let t = random_hex(16);
            let secure = if s.secure_cookies { "; Secure" } else { "" };
            (
                t.clone(),
                Some(format!(
                    "{LOGIN_COOKIE}={t}; Path=/console; HttpOnly; SameSite=Strict{secure}"
                )),
            )
        }
    };
    c.csrf = token;
    let p = LoginPage {
        c,
        error: String::new(),
        login: String::new(),
    };
    with_cookies(render(StatusCode::OK, &p), &[set, made])
}

fn is_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    client: crate::client::ClientAddr,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (mut c, set) = ctx(&s, &headers, "/console/login", &q, None);
    let token = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same_token(field(&f, "csrf"), &token) {
        return refusal(
            &c,
            StatusCode::FORBIDDEN,
            c.t("フォームの有効期限が切れました", "The form has expired"),
            c.t(
                "csrf: サインインの画面を開き直してください。",
                "csrf: open the sign-in page again.",
            ),
            "/console/login",
        );
    }
    match s
        .mamori
        .login(
            field(&f, "login"),
            f.get("password").map_or("", String::as_str),
            &client.0,
        )
        .await
    {
        Ok(session) => {
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
            with_cookies(see_other("/console"), &[Some(cookie), set])
        }
        Err(e) => {
            c.csrf = token;
            // Every failed sign-in reads the same, in the page's language (issue 20).
            let (status, error) = match &e {
                ServiceError::Unauthenticated(_) => (
                    StatusCode::UNAUTHORIZED,
                    c.t(
                        "ログイン名またはパスワードが違います",
                        "The login or the password is wrong",
                    )
                    .to_string(),
                ),
                ServiceError::Throttled(_) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    c.t(
                        "この場所からのサインインの失敗が多すぎます。15分待つか、管理者にロックの解除を依頼してください",
                        "Too many failed sign-ins from this address: wait 15 minutes, or ask the administrator to unlock the account",
                    )
                    .to_string(),
                ),
                other => (StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
            };
            let p = LoginPage {
                c,
                error,
                login: field(&f, "login").to_string(),
            };
            page(status, &p, set)
        }
    }
}

async fn logout(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console", &LangQuery::default(), Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console") {
        return r;
    }
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        let _ = s.mamori.logout(&sid).await;
    }
    with_cookies(
        see_other("/console/login"),
        &[Some(format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        ))],
    )
}

// ---- the dashboard -------------------------------------------------------------------------

struct Bar {
    label: String,
    value: i64,
    x: i64,
    y: i64,
    h: i64,
    w: i64,
    ty: i64,
    lx: i64,
}

struct Chart {
    id: String,
    title: String,
    desc: String,
    bars: Vec<Bar>,
}

/// A bar chart as inline SVG coordinates (320×170, bars up to 110 high above y=135).
fn chart(id: &str, title: &str, data: Vec<(String, i64)>) -> Chart {
    let n = i64::try_from(data.len()).unwrap_or(1).max(1);
    let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let slot = 300 / n;
    let w = (slot * 3 / 5).max(4);
    let desc = data
        .iter()
        .map(|(l, v)| format!("{l}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let bars = data
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let i = i64::try_from(i).unwrap_or(0);
            let h = value * 110 / max;
            let x = 10 + i * slot + (slot - w) / 2;
            Bar {
                label,
                value,
                x,
                y: 135 - h,
                h,
                w,
                ty: 130 - h,
                lx: x + w / 2,
            }
        })
        .collect();
    Chart {
        id: id.into(),
        title: title.into(),
        desc,
        bars,
    }
}

struct Due {
    href: String,
    what: String,
    answer_by: String,
}

#[derive(Template)]
#[template(path = "console_dashboard.html")]
struct DashboardPage {
    c: Ctx,
    role: String,
    open_requests: String,
    open_complaints: String,
    open_incidents: String,
    /// Open findings of inspections, and how many are past their due date (seed 003 Arts. 19, 24).
    open_findings: String,
    overdue_findings: String,
    last_inspection: String,
    overdue: Vec<Due>,
    charts: Vec<Chart>,
}

fn monday(d: jiff::civil::Date) -> jiff::civil::Date {
    let back = i64::from(d.weekday().to_monday_zero_offset());
    d.checked_sub(back.days()).unwrap_or(d)
}

async fn dashboard(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console", &q, Some(&st));
    let a = &st.actor;
    let today = mamori_service::today_jst();
    let dash = "—".to_string();
    let mut overdue = Vec::new();
    let (mut open_requests, mut open_complaints, mut open_incidents) =
        (dash.clone(), dash.clone(), dash);
    let mut n_overdue = [0i64; 3];
    let mut charts = Vec::new();
    if st.may(Action::Requests) {
        match s.mamori.request_list(a, false, None).await {
            Ok(list) => {
                let open: Vec<_> = list.iter().filter(|r| r.closed_at.is_none()).collect();
                open_requests = open.len().to_string();
                for r in list.iter().filter(|r| r.overdue) {
                    n_overdue[0] += 1;
                    overdue.push(Due {
                        href: format!("/console/requests/{}", r.id),
                        what: format!("{} {} ({})", c.t("請求", "Request"), r.id, r.kind),
                        answer_by: r.answer_by.clone(),
                    });
                }
                let mut months = Vec::new();
                let first = today.first_of_month();
                for back in (0..6).rev() {
                    let m = first.checked_sub(back.months()).unwrap_or(first);
                    let key = m.to_string().get(..7).unwrap_or("").to_string();
                    let n = list
                        .iter()
                        .filter(|r| r.received_at.starts_with(&key))
                        .count();
                    // `26-06`: short enough to sit under its bar.
                    let label = key.get(2..).unwrap_or("").to_string();
                    months.push((label, i64::try_from(n).unwrap_or(0)));
                }
                charts.push(chart(
                    "ch-requests",
                    c.t("月別の請求件数", "Requests per month"),
                    months,
                ));
            }
            Err(e) => return error_page(&c, &e, "/console"),
        }
    }
    if st.may(Action::Complaints) {
        match s.mamori.complaint_list(a, false, None).await {
            Ok(list) => {
                open_complaints = list
                    .iter()
                    .filter(|x| x.status != "closed")
                    .count()
                    .to_string();
                for x in list.iter().filter(|x| x.overdue) {
                    n_overdue[1] += 1;
                    overdue.push(Due {
                        href: format!("/console/complaints/{}", x.id),
                        what: format!("{} {}", c.t("苦情", "Complaint"), x.id),
                        answer_by: x.answer_by.clone(),
                    });
                }
            }
            Err(e) => return error_page(&c, &e, "/console"),
        }
    }
    if st.may(Action::Incidents) {
        match s.mamori.incident_list(a, false, None).await {
            Ok(list) => {
                open_incidents = list
                    .iter()
                    .filter(|x| x.status != "closed")
                    .count()
                    .to_string();
                for x in list.iter().filter(|x| x.overdue) {
                    n_overdue[2] += 1;
                    overdue.push(Due {
                        href: "/console/incidents".into(),
                        what: format!(
                            "{} {} ({})",
                            c.t("漏えい等", "Incident"),
                            x.id,
                            x.overdue_steps.join(", ")
                        ),
                        answer_by: x.preliminary_due.clone(),
                    });
                }
            }
            Err(e) => return error_page(&c, &e, "/console"),
        }
    }
    let (mut open_findings, mut overdue_findings, mut last_inspection) =
        ("—".to_string(), "—".to_string(), "—".to_string());
    let mut n_findings_overdue = 0i64;
    if st.may(Action::Governance) {
        match s.mamori.finding_list(a, None, true).await {
            Ok(list) => {
                open_findings = list.len().to_string();
                for x in list.iter().filter(|x| x.overdue) {
                    n_findings_overdue += 1;
                    overdue.push(Due {
                        href: format!("/console/inspections/{}", x.inspection_id),
                        what: format!("{} {}", c.t("指摘事項", "Finding"), x.id),
                        answer_by: x.due.clone(),
                    });
                }
                overdue_findings = n_findings_overdue.to_string();
            }
            Err(e) => return error_page(&c, &e, "/console"),
        }
        match s.mamori.inspection_list(a).await {
            Ok(list) => {
                if let Some(i) = list.iter().map(|i| i.run_at.as_str()).max() {
                    last_inspection = i.get(..10).unwrap_or(i).to_string();
                } else {
                    last_inspection = c.t("未実施", "none yet").to_string();
                }
            }
            Err(e) => return error_page(&c, &e, "/console"),
        }
    }
    charts.push(chart(
        "ch-overdue",
        c.t("期限超過", "Overdue items"),
        vec![
            (c.t("請求", "Requests").into(), n_overdue[0]),
            (c.t("苦情", "Complaints").into(), n_overdue[1]),
            (c.t("漏えい等", "Incidents").into(), n_overdue[2]),
            (c.t("指摘事項", "Findings").into(), n_findings_overdue),
        ],
    ));
    if st.may(Action::Audit)
        && let Ok(entries) = s.mamori.audit_log(a, None, 20_000).await
    {
        let this_week = monday(today);
        let mut weeks = Vec::new();
        for back in (0..8).rev() {
            let start = this_week
                .checked_sub((back * 7).days())
                .unwrap_or(this_week);
            weeks.push((start, 0i64));
        }
        for e in entries.iter().filter(|e| e.decision == "deny") {
            let Ok(t) = e.at.parse::<Timestamp>() else {
                continue;
            };
            let wk = monday(t.to_zoned(mamori_calendar::japan_tz()).date());
            if let Some(w) = weeks.iter_mut().find(|w| w.0 == wk) {
                w.1 += 1;
            }
        }
        let data = weeks
            .into_iter()
            .map(|(d, n)| (d.to_string().get(5..).unwrap_or("").to_string(), n))
            .collect();
        charts.push(chart(
            "ch-denied",
            c.t("週別の拒否されたアクセス", "Denied accesses per week"),
            data,
        ));
    }
    if st.may(Action::Retention) {
        let mut data = Vec::new();
        for (label, days) in [
            (c.t("今", "now"), 0i64),
            (c.t("30日後", "in 30 days"), 30),
            (c.t("90日後", "in 90 days"), 90),
        ] {
            let at = Timestamp::now()
                .checked_add(SignedDuration::from_hours(24 * days))
                .unwrap_or_else(|_| Timestamp::now());
            let when = mamori_calendar::format_jst(at);
            if let Ok(r) = s
                .mamori
                .retention_sweep(Some(a), Some(&when), true, false, &mut |_| {})
                .await
            {
                let n = r.destroyed.len() + r.fields_removed.len();
                data.push((label.to_string(), i64::try_from(n).unwrap_or(0)));
            }
        }
        charts.push(chart(
            "ch-expiry",
            c.t("保存期間の満了(予定)", "Expiries coming up"),
            data,
        ));
    }
    let role = {
        let r = &a.role;
        if c.ja { r.ja.clone() } else { r.en.clone() }
    };
    let p = DashboardPage {
        c,
        role,
        open_requests,
        open_complaints,
        open_incidents,
        open_findings,
        overdue_findings,
        last_inspection,
        overdue,
        charts,
    };
    page(StatusCode::OK, &p, set)
}

// ---- principals ----------------------------------------------------------------------------

struct FoundRow {
    id: String,
    channel: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "console_principals.html")]
struct PrincipalsPage {
    c: Ctx,
    purposes: Vec<Choice>,
    searched: bool,
    found: Vec<FoundRow>,
    purpose: String,
}

async fn principals(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/principals", &q, Some(&st));
    let purposes = purpose_choices(&s, &st, c.ja);
    let p = PrincipalsPage {
        c,
        purposes,
        searched: false,
        found: vec![],
        purpose: String::new(),
    };
    page(StatusCode::OK, &p, set)
}

async fn principal_search(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/principals", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/principals") {
        return r;
    }
    let by = match field(&f, "by") {
        b @ ("email" | "phone" | "name") => b,
        _ => "email",
    };
    let purpose = field(&f, "purpose").to_string();
    match s
        .mamori
        .principal_find(&st.actor, &purpose, by, field(&f, "value"))
        .await
    {
        Ok(found) => {
            let purposes = purpose_choices(&s, &st, c.ja);
            let found = found
                .into_iter()
                .map(|x| FoundRow {
                    id: x.id,
                    channel: x.channel,
                    created_at: x.created_at,
                })
                .collect();
            page(
                StatusCode::OK,
                &PrincipalsPage {
                    c,
                    purposes,
                    searched: true,
                    found,
                    purpose,
                },
                set,
            )
        }
        Err(e) => error_page(&c, &e, "/console/principals"),
    }
}

#[derive(Template)]
#[template(path = "console_principal_new.html")]
struct PrincipalNewPage {
    c: Ctx,
    channels: Vec<Choice>,
    channel: String,
    fields: Vec<Choice>,
    special_care: bool,
}

#[derive(Debug, serde::Deserialize)]
struct ChannelQuery {
    lang: Option<String>,
    channel: Option<String>,
}

/// `/console/principals/new`: the registration form of a channel — only the categories the
/// channel collects (seed 000 Art. 5), the same use case as `mamori principal add`.
async fn principal_new(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<ChannelQuery>,
) -> Response {
    let lq = LangQuery {
        lang: q.lang.clone(),
    };
    let (c, set) = ctx(&s, &headers, "/console/principals/new", &lq, Some(&st));
    let policy = s.mamori.policy();
    let lang = if c.ja { Lang::Ja } else { Lang::En };
    let channels: Vec<Choice> = policy
        .channels
        .iter()
        .filter(|ch| !ch.automatic)
        .map(|ch| Choice {
            value: ch.id.clone(),
            text: if lang == Lang::Ja {
                ch.ja.clone()
            } else {
                ch.en.clone()
            },
        })
        .collect();
    let chosen = q
        .channel
        .as_deref()
        .and_then(|id| policy.channel(id))
        .filter(|ch| !ch.automatic);
    let fields: Vec<Choice> = chosen
        .map(|ch| {
            ch.categories
                .iter()
                .filter_map(|id| policy.category(id))
                .map(|cat| Choice {
                    value: cat.id.clone(),
                    text: if lang == Lang::Ja {
                        cat.ja.clone()
                    } else {
                        cat.en.clone()
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let special_care = chosen.is_some_and(|ch| {
        ch.categories
            .iter()
            .any(|id| policy.category(id).is_some_and(|cat| cat.special_care))
    });
    let p = PrincipalNewPage {
        c,
        channels,
        channel: chosen.map(|ch| ch.id.clone()).unwrap_or_default(),
        fields,
        special_care,
    };
    page(StatusCode::OK, &p, set)
}

async fn principal_register(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let channel = field(&f, "channel").to_string();
    let back = format!("/console/principals/new?channel={}", safe_id(&channel));
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let mut fields: Vec<(String, String)> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("f-")
                .map(|cat| (cat.to_string(), v.trim().to_string()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    fields.sort();
    let new = mamori_service::principal::NewPrincipal {
        channel,
        fields,
        consents: Vec::new(),
        special_care_consent: field(&f, "special_care_consent") == "1",
        evidence: opt(&f, "evidence"),
    };
    match s.mamori.principal_add(&st.actor, new).await {
        Ok(added) => see_other(&format!("/console/principals/{}", added.id)),
        // Issue 20: a consent needs its evidence; said in the page's language with the label.
        Err(ServiceError::BadInput(m)) if m.starts_with("--evidence: is empty") => {
            let e = ServiceError::BadInput(
                c.t(
                    "同意の記録の所在: 同意を記録するときは、同意書など同意の記録がどこにあるかを書いてください(例: 申込書 2026-041)。何も登録していません。",
                    "Where the consent is kept: a consent is recorded with where the signed consent is kept (e.g. form 2026-041); nothing was registered.",
                )
                .to_string(),
            );
            error_page(&c, &e, &back)
        }
        Err(e) => error_page(&c, &e, &back),
    }
}

#[derive(Template)]
#[template(path = "console_principal.html")]
struct PrincipalPage {
    c: Ctx,
    id: String,
    purposes: Vec<Choice>,
    purpose: String,
    revealed: bool,
    values: Vec<(String, String)>,
    denied: String,
    consents: consent::Consents,
    /// The correction form (seed 003 Art. 12): the channel's categories, with whether a value
    /// is on record; empty when the role may not correct.
    correctable: Vec<Correctable>,
    /// After a correction: the categories corrected (names only, never a value).
    corrected: String,
}

struct Correctable {
    value: String,
    text: String,
    held: bool,
}

/// The categories offered for correction: only for a role with the `correct` action (so that
/// a mere view is not a denial on the audit log); names only.
async fn correctable(s: &AppState, st: &Staff, id: &str, ja: bool) -> Vec<Correctable> {
    if !st.may(Action::Correct) {
        return Vec::new();
    }
    let Ok(held) = s.mamori.principal_categories(&st.actor, id).await else {
        return Vec::new();
    };
    let p = s.mamori.policy();
    held.categories
        .into_iter()
        .map(|(cat, held)| Correctable {
            text: p.category(&cat).map_or(cat.clone(), |x| {
                if ja { x.ja.clone() } else { x.en.clone() }
            }),
            value: cat,
            held,
        })
        .collect()
}

impl PrincipalPage {
    async fn of(s: &AppState, st: &Staff, c: Ctx, id: String) -> Self {
        let purposes = purpose_choices(s, st, c.ja);
        let consents = consent::Consents::of(s, st, &id, c.ja).await;
        let correctable = correctable(s, st, &id, c.ja).await;
        PrincipalPage {
            c,
            id,
            purposes,
            purpose: String::new(),
            revealed: false,
            values: vec![],
            denied: String::new(),
            consents,
            correctable,
            corrected: String::new(),
        }
    }
}

async fn principal_page(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(
        &s,
        &headers,
        &format!("/console/principals/{}", safe_id(&id)),
        &q,
        Some(&st),
    );
    let p = PrincipalPage::of(&s, &st, c, safe_id(&id)).await;
    page(StatusCode::OK, &p, set)
}

/// `principal correct` from the principal page (seed 003 Art. 12: keep data accurate). The new
/// values travel in the form body only; the page after names the categories corrected and
/// shows no value, old or new, until one is revealed for a purpose.
async fn principal_correct(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/principals/{id}");
    let (c, set) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let mut fields: Vec<(String, String)> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("f-")
                .map(|cat| (cat.to_string(), v.trim().to_string()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    fields.sort();
    if fields.is_empty() && st.may(Action::Correct) {
        let e = ServiceError::BadInput(
            "CATEGORY=VALUE: fill in at least one category with its corrected value".into(),
        );
        return error_page(&c, &e, &back);
    }
    match s.mamori.principal_correct(&st.actor, &id, &fields).await {
        Ok(done) => {
            let policy = s.mamori.policy();
            let names: Vec<String> = done
                .corrected
                .iter()
                .map(|k| {
                    policy.category(k).map_or(k.clone(), |x| {
                        if c.ja { x.ja.clone() } else { x.en.clone() }
                    })
                })
                .collect();
            let mut p = PrincipalPage::of(&s, &st, c, id).await;
            p.corrected = names.join(", ");
            page(StatusCode::OK, &p, set)
        }
        Err(e) => error_page(&c, &e, &back),
    }
}

/// Ids are `p_…`, `r_…`, `c_…`: keep the characters ids use (for paths built from them).
fn safe_id(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect()
}

async fn principal_reveal(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/principals/{id}");
    let (c, set) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let purpose = field(&f, "purpose").to_string();
    let only: Option<Vec<String>> = opt(&f, "fields").map(|v| {
        v.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    });
    let exception = match parse_exception(opt(&f, "basis").as_deref(), opt(&f, "reason").as_deref())
    {
        Ok(e) => e,
        Err(e) => return error_page(&c, &reason_in_page_language(&c, e, "理由", "Reason"), &back),
    };
    match s
        .mamori
        .principal_show(
            &st.actor,
            &id,
            &purpose,
            only.as_deref(),
            exception.as_ref(),
        )
        .await
    {
        Ok(shown) => {
            let p = s.mamori.policy();
            let values = shown
                .fields
                .into_iter()
                .map(|(k, v)| {
                    (
                        p.category(&k).map_or(k.clone(), |x| {
                            if c.ja { x.ja.clone() } else { x.en.clone() }
                        }),
                        v,
                    )
                })
                .collect();
            let mut p = PrincipalPage::of(&s, &st, c, id).await;
            p.purpose = purpose;
            p.revealed = true;
            p.values = values;
            page(StatusCode::OK, &p, set)
        }
        Err(ServiceError::Denied(rule)) => {
            let mut p = PrincipalPage::of(&s, &st, c, id).await;
            p.purpose = purpose;
            p.denied = format!("denied: {rule}");
            page(StatusCode::FORBIDDEN, &p, set)
        }
        Err(e) => error_page(&c, &e, &back),
    }
}

// ---- requests ------------------------------------------------------------------------------

struct RequestRow {
    id: String,
    kind: String,
    status: String,
    received_at: String,
    answer_by: String,
    overdue: bool,
    principal: String,
    channel: String,
}

#[derive(Template)]
#[template(path = "console_requests.html")]
struct RequestsPage {
    c: Ctx,
    rows: Vec<RequestRow>,
    kinds: Vec<Choice>,
    channels: Vec<Choice>,
    now: String,
}

async fn requests(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/requests", &q, Some(&st));
    let list = match s.mamori.request_list(&st.actor, false, None).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let rows = list
        .into_iter()
        .rev()
        .map(|r| RequestRow {
            id: r.id,
            kind: r.kind,
            status: r.status,
            received_at: r.received_at,
            answer_by: r.answer_by,
            overdue: r.overdue,
            principal: r.principal_id.unwrap_or_default(),
            channel: r.channel,
        })
        .collect();
    let kinds = choices(&RequestKind::ALL.map(RequestKind::as_str));
    let p = RequestsPage {
        c,
        rows,
        kinds,
        channels: choices(&INTAKE_CHANNELS),
        now: now_local(),
    };
    page(StatusCode::OK, &p, set)
}

async fn request_open(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/requests", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/requests") {
        return r;
    }
    let req = OpenRequest {
        principal_id: opt(&f, "principal"),
        kind: field(&f, "kind").into(),
        received_at: form_time(field(&f, "received_at")),
        channel: opt(&f, "channel"),
        purpose: opt(&f, "purpose"),
        details: opt(&f, "details"),
        lang: field(&f, "lang").parse().ok(),
    };
    match s.mamori.request_open(&st.actor, req).await {
        Ok(o) => see_other(&format!("/console/requests/{}", o.id)),
        Err(e) => error_page(&c, &e, "/console/requests"),
    }
}

#[derive(Template)]
#[template(path = "console_request.html")]
struct RequestPage {
    c: Ctx,
    id: String,
    facts: Vec<(String, String)>,
    details: String,
    reason: String,
    linked: bool,
    closed: bool,
    methods: Vec<Choice>,
    grounds: Vec<Choice>,
}

async fn request_page(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let (c, set) = ctx(
        &s,
        &headers,
        &format!("/console/requests/{id}"),
        &q,
        Some(&st),
    );
    let v = match s.mamori.request_show(&st.actor, &id).await {
        Ok(v) => v,
        Err(e) => return error_page(&c, &e, "/console/requests"),
    };
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let facts = [
        "kind",
        "status",
        "received_at",
        "answer_by",
        "channel",
        "principal_id",
        "verified_at",
        "verify_method",
        "closed_at",
        "ground",
        "result",
        "lang",
    ]
    .iter()
    .map(|k| ((*k).to_string(), text(k)))
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let status = text("status");
    let methods = s
        .mamori
        .policy()
        .requests
        .identity_methods
        .iter()
        .map(|m| Choice {
            value: m.as_str().into(),
            text: m.as_str().into(),
        })
        .collect();
    let p = RequestPage {
        c,
        linked: !text("principal_id").is_empty(),
        closed: status == "fulfilled" || status == "refused",
        details: text("details"),
        reason: text("reason"),
        facts,
        id,
        methods,
        grounds: choices(&REFUSAL_GROUNDS),
    };
    page(StatusCode::OK, &p, set)
}

async fn request_step(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path((id, step)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/requests/{id}");
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let a = &st.actor;
    let m = &s.mamori;
    let done = match step.as_str() {
        "link" => m
            .request_link(a, &id, field(&f, "principal"))
            .await
            .map(|_| None),
        "verify" => m
            .request_verify(a, &id, field(&f, "method"), Some(field(&f, "evidence")))
            .await
            .map(|_| None)
            .map_err(|e| evidence_in_page_language(&c, e)),
        "refuse" => m
            .request_refuse(a, &id, field(&f, "ground"), field(&f, "reason"), None)
            .await
            .map(|r| Some(r.notice_html)),
        "fulfil" => {
            let lines: Vec<String> = field(&f, "fields")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            match mamori_service::principal::parse_assignments(&lines) {
                Ok(fields) => m
                    .request_fulfil(a, &id, &fields, None)
                    .await
                    .map(|r| r.html),
                Err(e) => Err(e),
            }
        }
        _ => Err(ServiceError::NotFound(
            "step: use link, verify, fulfil or refuse".into(),
        )),
    };
    match done {
        Ok(Some(html)) => document(html),
        Ok(None) => see_other(&back),
        Err(e) => error_page(&c, &e, &back),
    }
}

/// A statutory exception's token reason refused (issue 20), said in the page's language with
/// the form's label for the field; other errors pass through.
fn reason_in_page_language(
    c: &Ctx,
    e: ServiceError,
    label_ja: &str,
    label_en: &str,
) -> ServiceError {
    match e {
        ServiceError::BadInput(m) if m.starts_with("--reason: too short") => {
            ServiceError::BadInput(if c.ja {
                format!(
                    "{label_ja}: 短すぎて確認できません。根拠となる法令や照会を{}文字以上で書いてください(例: 捜査関係事項照会書 第123号)。",
                    mamori_service::principal::MIN_EXCEPTION_REASON_CHARS
                )
            } else {
                format!(
                    "{label_en}: too short to review: write at least {} characters saying which law or which request it rests on (e.g. court order 2026-55).",
                    mamori_service::principal::MIN_EXCEPTION_REASON_CHARS
                )
            })
        }
        other => other,
    }
}

/// The identity check's evidence refused (issue 20), said in the page's language with the
/// field's label; other errors pass through.
fn evidence_in_page_language(c: &Ctx, e: ServiceError) -> ServiceError {
    match e {
        ServiceError::BadInput(m) if m.starts_with("--evidence:") => {
            let rest = m.trim_start_matches("--evidence:").trim();
            ServiceError::BadInput(if c.ja {
                "確認の根拠: 確認した書類の名前と番号の末尾4桁まで(例: 在留カード 末尾1234)、コードによる確認では本人が入力したコード(英数字4〜16字)を記入してください。番号の全体は記録しません。".into()
            } else {
                format!("Evidence: {rest}")
            })
        }
        other => other,
    }
}

async fn request_notice(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let (c, _) = ctx(
        &s,
        &headers,
        "/console/requests",
        &LangQuery::default(),
        Some(&st),
    );
    let lang = q.lang.as_deref().and_then(|l| l.parse::<Lang>().ok());
    match s.mamori.request_notice(&st.actor, &id, lang).await {
        Ok(html) => document(html),
        Err(e) => error_page(&c, &e, &format!("/console/requests/{id}")),
    }
}

// ---- complaints ----------------------------------------------------------------------------

struct ComplaintRow {
    id: String,
    received_at: String,
    window_open: bool,
    answer_by: String,
    status: String,
    overdue: bool,
    channel: String,
}

#[derive(Template)]
#[template(path = "console_complaints.html")]
struct ComplaintsPage {
    c: Ctx,
    rows: Vec<ComplaintRow>,
    channels: Vec<Choice>,
    now: String,
}

async fn complaints(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/complaints", &q, Some(&st));
    let list = match s.mamori.complaint_list(&st.actor, false, None).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let rows = list
        .into_iter()
        .rev()
        .map(|x| ComplaintRow {
            id: x.id,
            received_at: x.received_at,
            window_open: x.window_open,
            answer_by: x.answer_by,
            status: x.status,
            overdue: x.overdue,
            channel: x.channel.unwrap_or_default(),
        })
        .collect();
    let channels = choices(&mamori_service::complaint::CHANNELS);
    page(
        StatusCode::OK,
        &ComplaintsPage {
            c,
            rows,
            channels,
            now: now_local(),
        },
        set,
    )
}

async fn complaint_open(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/complaints", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/complaints") {
        return r;
    }
    let new = NewComplaint {
        received_at: form_time(field(&f, "received_at")),
        summary: field(&f, "summary").into(),
        principal: opt(&f, "principal"),
        channel: opt(&f, "channel"),
    };
    match s.mamori.complaint_open(&st.actor, new, None).await {
        Ok(o) => see_other(&format!("/console/complaints/{}", o.id)),
        Err(e) => error_page(&c, &e, "/console/complaints"),
    }
}

struct NoteRow {
    at: String,
    staff: String,
    text: String,
}

#[derive(Template)]
#[template(path = "console_complaint.html")]
struct ComplaintPage {
    c: Ctx,
    id: String,
    facts: Vec<(String, String)>,
    summary: String,
    notes: Vec<NoteRow>,
    result: String,
    status: String,
}

async fn complaint_page(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let (c, set) = ctx(
        &s,
        &headers,
        &format!("/console/complaints/{id}"),
        &q,
        Some(&st),
    );
    let d = match s.mamori.complaint_show(&st.actor, &id, None).await {
        Ok(d) => d,
        Err(e) => return error_page(&c, &e, "/console/complaints"),
    };
    let i = &d.info;
    let facts = vec![
        ("status".to_string(), i.status.clone()),
        ("received_at".into(), i.received_at.clone()),
        ("window_open".into(), i.window_open.to_string()),
        ("counted_from".into(), i.counted_from.clone()),
        ("answer_by".into(), i.answer_by.clone()),
        ("overdue".into(), i.overdue.to_string()),
        ("channel".into(), i.channel.clone().unwrap_or_default()),
        ("principal".into(), i.principal.clone().unwrap_or_default()),
        ("opened_by".into(), i.opened_by.clone()),
        ("closed_at".into(), i.closed_at.clone().unwrap_or_default()),
    ];
    let notes = d
        .notes
        .iter()
        .map(|n| NoteRow {
            at: n.at.clone(),
            staff: n.staff.clone(),
            text: n.text.clone(),
        })
        .collect();
    let p = ComplaintPage {
        c,
        id,
        facts,
        summary: d.summary.clone(),
        notes,
        result: d.result.clone().unwrap_or_default(),
        status: i.status.clone(),
    };
    page(StatusCode::OK, &p, set)
}

async fn complaint_step(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path((id, step)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/complaints/{id}");
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let a = &st.actor;
    let m = &s.mamori;
    let done = match step.as_str() {
        "ack" => m.complaint_ack(a, &id, None).await.map(|_| ()),
        "note" => {
            let consulted: Vec<String> = field(&f, "consulted")
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect();
            m.complaint_note(a, &id, field(&f, "text"), &consulted, None)
                .await
                .map(|_| ())
        }
        "close" => m
            .complaint_close(a, &id, field(&f, "result"), None)
            .await
            .map(|_| ()),
        _ => Err(ServiceError::NotFound(
            "step: use ack, note or close".into(),
        )),
    };
    match done {
        Ok(()) => see_other(&back),
        Err(e) => error_page(&c, &e, &back),
    }
}

async fn complaint_notice(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let (c, _) = ctx(
        &s,
        &headers,
        "/console/complaints",
        &LangQuery::default(),
        Some(&st),
    );
    let lang = q
        .lang
        .as_deref()
        .and_then(|l| l.parse::<Lang>().ok())
        .unwrap_or(c.lang());
    match s.mamori.complaint_notice(&st.actor, &id, lang, None).await {
        Ok(html) => document(html),
        Err(e) => error_page(&c, &e, &format!("/console/complaints/{id}")),
    }
}

// ---- provision, retention ------------------------------------------------------------------

struct ProvisionRow {
    id: String,
    principal: String,
    recipient: String,
    purpose: String,
    categories: String,
    basis: String,
    provided_at: String,
    kept_until: String,
}

#[derive(Template)]
#[template(path = "console_provision.html")]
struct ProvisionPage {
    c: Ctx,
    rows: Vec<ProvisionRow>,
    recipients: Vec<Choice>,
    purposes: Vec<Choice>,
    provided: Vec<(String, String)>,
    provided_id: String,
}

async fn provision_page(
    s: &AppState,
    st: &Staff,
    c: Ctx,
    set: Option<String>,
    provided: Vec<(String, String)>,
    provided_id: String,
) -> Response {
    let list = match s.mamori.provisions_list(&st.actor, None).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let rows = list
        .into_iter()
        .rev()
        .map(|r| ProvisionRow {
            id: r.provision_id,
            principal: r.principal_id,
            recipient: r.recipient,
            purpose: r.purpose,
            categories: r.categories.join(", "),
            basis: r.basis,
            provided_at: r.provided_at,
            kept_until: r.record_kept_until,
        })
        .collect();
    let p = s.mamori.policy();
    let recipients = p
        .recipients
        .iter()
        .map(|r| Choice {
            value: r.id.clone(),
            text: r.name.get(c.lang()).to_string(),
        })
        .collect();
    let purposes = purpose_choices(s, st, c.ja);
    page(
        StatusCode::OK,
        &ProvisionPage {
            c,
            rows,
            recipients,
            purposes,
            provided,
            provided_id,
        },
        set,
    )
}

async fn provision(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/provision", &q, Some(&st));
    provision_page(&s, &st, c, set, vec![], String::new()).await
}

async fn provide(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/provision", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/provision") {
        return r;
    }
    let basis = opt(&f, "basis");
    let require_consent = basis.as_deref() == Some("consent");
    let exception = match parse_exception(
        basis.as_deref().filter(|b| *b != "consent"),
        opt(&f, "reason").as_deref(),
    ) {
        Ok(e) => e,
        Err(e) => {
            let e = reason_in_page_language(&c, e, "例外の理由", "Reason for an exception");
            return error_page(&c, &e, "/console/provision");
        }
    };
    let req = ProvideRequest {
        principal_id: field(&f, "principal").into(),
        recipient: field(&f, "recipient").into(),
        purpose: field(&f, "purpose").into(),
        fields: field(&f, "fields")
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
        exception,
        require_consent,
    };
    match s.mamori.provide(&st.actor, req).await {
        Ok(p) => {
            let values = p.fields.into_iter().collect();
            provision_page(&s, &st, c, set, values, p.provision_id).await
        }
        Err(e) => error_page(&c, &e, "/console/provision"),
    }
}

#[derive(Template)]
#[template(path = "console_retention.html")]
struct RetentionPage {
    c: Ctx,
    ran: bool,
    dry_run: bool,
    examined: u64,
    destroyed: Vec<String>,
    fields_removed: Vec<(String, String)>,
    held: Vec<(String, String)>,
    purged: i64,
    /// Why a sweep was refused, in the page's language (naming the form's label).
    problem: String,
}

async fn retention(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/retention", &q, Some(&st));
    let p = RetentionPage {
        c,
        ran: false,
        dry_run: true,
        examined: 0,
        destroyed: vec![],
        fields_removed: vec![],
        held: vec![],
        purged: 0,
        problem: String::new(),
    };
    page(StatusCode::OK, &p, set)
}

async fn retention_run(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/retention", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/retention") {
        return r;
    }
    let dry_run = field(&f, "mode") != "sweep";
    let confirm_large = field(&f, "confirm_large") == "yes";
    match s
        .mamori
        .retention_sweep(Some(&st.actor), None, dry_run, confirm_large, &mut |_| {})
        .await
    {
        Ok(r) => {
            let p = RetentionPage {
                c,
                ran: true,
                dry_run,
                examined: r.examined,
                destroyed: r.destroyed,
                fields_removed: r
                    .fields_removed
                    .into_iter()
                    .map(|x| (x.principal_id, x.categories.join(", ")))
                    .collect(),
                held: r
                    .held
                    .into_iter()
                    .map(|h| (h.principal_id, h.reason))
                    .collect(),
                purged: r.provision_records_purged,
                problem: String::new(),
            };
            page(StatusCode::OK, &p, set)
        }
        Err(ServiceError::BadInput(m)) if m.starts_with("--confirm-large:") => {
            // The guard of seed 000 Art. 8-4 (issue 20): said in the page's language, naming
            // the checkbox by its label; nothing was destroyed.
            let n = m
                .split_whitespace()
                .skip_while(|w| *w != "destroy")
                .nth(1)
                .unwrap_or("")
                .to_string();
            let problem = if c.ja {
                format!(
                    "この廃棄では{n}人(全本人の1割超)が消去されるため、実行しませんでした。試行で対象を確かめ、「全本人の1割を超える消去も実行する」に印を付けてもう一度実行してください。"
                )
            } else {
                format!(
                    "This sweep would erase {n} principals, more than a tenth of all, so nothing was done: check them with a dry run, tick \"Go ahead even if more than a tenth of all principals are erased\" and sweep again."
                )
            };
            let p = RetentionPage {
                c,
                ran: false,
                dry_run: false,
                examined: 0,
                destroyed: vec![],
                fields_removed: vec![],
                held: vec![],
                purged: 0,
                problem,
            };
            page(StatusCode::UNPROCESSABLE_ENTITY, &p, set)
        }
        Err(e) => error_page(&c, &e, "/console/retention"),
    }
}

// ---- audit, policy --------------------------------------------------------------------

struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    principal: String,
    purpose: String,
    decision: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "console_audit.html")]
struct AuditPage {
    c: Ctx,
    rows: Vec<AuditRow>,
    verified: String,
    failed: String,
}

#[derive(Debug, Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    principal: Option<String>,
}

async fn audit_page(
    s: &AppState,
    st: &Staff,
    c: Ctx,
    set: Option<String>,
    principal: Option<&str>,
    verified: String,
    failed: String,
) -> Response {
    let entries = match s.mamori.audit_log(&st.actor, principal, 300).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let rows = entries
        .into_iter()
        .rev()
        .map(|e| AuditRow {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            principal: e.principal_id.unwrap_or_default(),
            purpose: e.purpose.unwrap_or_default(),
            decision: e.decision,
            reason: e.reason.unwrap_or_default(),
        })
        .collect();
    page(
        StatusCode::OK,
        &AuditPage {
            c,
            rows,
            verified,
            failed,
        },
        set,
    )
}

async fn audit(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    let lq = LangQuery {
        lang: q.lang.clone(),
    };
    let (c, set) = ctx(&s, &headers, "/console/audit", &lq, Some(&st));
    let principal = q
        .principal
        .as_deref()
        .map(safe_id)
        .filter(|p| !p.is_empty());
    audit_page(
        &s,
        &st,
        c,
        set,
        principal.as_deref(),
        String::new(),
        String::new(),
    )
    .await
}

async fn audit_verify(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/audit", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/audit") {
        return r;
    }
    let (ok, failed) = match s.mamori.audit_verify().await {
        Ok(r) => (
            format!(
                "{} {} / head #{} {} / {} {}",
                r.entries,
                c.t("件を検証しました", "entries verified"),
                r.head_seq,
                r.head_hash.get(..16).unwrap_or(""),
                r.checkpoints,
                c.t("個の署名付きチェックポイント", "signed checkpoints")
            ),
            String::new(),
        ),
        Err(e) => (String::new(), e.to_string()),
    };
    audit_page(&s, &st, c, set, None, ok, failed).await
}

struct VersionRow {
    version: String,
    effective_on: String,
    applied_by: String,
    in_effect: bool,
}

#[derive(Template)]
#[template(path = "console_policy.html")]
struct PolicyPage {
    c: Ctx,
    version: String,
    versions: Vec<VersionRow>,
    notice: String,
}

async fn policy(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/policy", &q, Some(&st));
    let versions = match s.mamori.policy_versions().await {
        Ok(v) => v
            .into_iter()
            .rev()
            .map(|v| VersionRow {
                version: v.version,
                effective_on: v.effective_on,
                applied_by: v.applied_by,
                in_effect: v.in_effect,
            })
            .collect(),
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let notice = main_of(&render_notice(&s.mamori.policy(), c.lang(), Format::Html));
    let p = PolicyPage {
        c,
        version: s.mamori.policy_version(),
        versions,
        notice,
    };
    page(StatusCode::OK, &p, set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let ch = chart(
            "x",
            "t",
            vec![("a".into(), 2), ("b".into(), 4), ("c".into(), 0)],
        );
        assert_eq!(ch.bars[1].h, 110);
        assert_eq!(ch.bars[0].h, 55);
        assert_eq!(ch.bars[2].h, 0);
        assert_eq!(ch.desc, "a: 2, b: 4, c: 0");
    }

    #[test]
    fn ids_keep_only_id_characters() {
        assert_eq!(safe_id("p_12ab"), "p_12ab");
        assert_eq!(safe_id("p_1\"><script>"), "p_1script");
    }
}
