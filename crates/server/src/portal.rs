//! The public privacy portal under `/privacy`, for principals: the notice in effect (rendered
//! from the policy, so what is published is what is enforced), every earlier version
//! (`/privacy/history`), the notice on automatically collected data (seed 000 Art. 5-2), the
//! request form (APPI 32-35; seed 000 Art. 9) and the complaint form with the desk's hours
//! (seed 003 Art. 23). No sign-in: forms carry a per-visitor token (double-submit cookie
//! `mamori_portal`), and sending is rate-limited per client address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Form, Router};
use mamori_domain_text::{kind_text, method_text, window_days};
use mamori_policy::notice::{Format, render as render_notice};
use mamori_policy::{Lang, RequestKind};
use mamori_service::portal::{PortalComplaint, PortalRequest};
use mamori_service::store::crypto::random_hex;
use serde::Deserialize;

use crate::AppState;
// Also reachable here, where it used to live (the sign-in throttling may name it either way).
pub(crate) use crate::client::ClientAddr;
use crate::pages::{
    Ctx, LangQuery, choose_lang, cookie, error_page, main_of, refusal, render, same_token,
    with_cookies,
};

/// Sends allowed per client address per minute (a token bucket).
pub const SENDS_PER_MINUTE: u32 = 10;
const FORM_COOKIE: &str = "mamori_portal";

/// Text the portal shows for ids of the policy.
mod mamori_domain_text {
    use mamori_policy::{Day, IdentityMethod, RequestKind};

    pub fn kind_text(k: RequestKind, ja: bool) -> &'static str {
        match (k, ja) {
            (RequestKind::PurposeNotice, true) => "利用目的の通知",
            (RequestKind::PurposeNotice, false) => "Notice of the purposes of use",
            (RequestKind::Disclosure, true) => "開示",
            (RequestKind::Disclosure, false) => "Disclosure",
            (RequestKind::Correction, true) => "訂正・追加・削除",
            (RequestKind::Correction, false) => "Correction, addition or deletion",
            (RequestKind::Suspension, true) => "利用停止",
            (RequestKind::Suspension, false) => "Stop using",
            (RequestKind::Erasure, true) => "消去",
            (RequestKind::Erasure, false) => "Erasure",
            (RequestKind::ProvisionStop, true) => "第三者提供の停止",
            (RequestKind::ProvisionStop, false) => "Stop providing to third parties",
        }
    }

    pub fn method_text(m: IdentityMethod, ja: bool) -> &'static str {
        match (m, ja) {
            (IdentityMethod::InPersonResidenceCard, true) => "窓口で在留カードを提示",
            (IdentityMethod::InPersonResidenceCard, false) => {
                "Show your residence card at the desk"
            }
            (IdentityMethod::InPersonIdDocument, true) => "窓口で本人確認書類を提示",
            (IdentityMethod::InPersonIdDocument, false) => "Show an identity document at the desk",
            (IdentityMethod::MailedCode, true) => "登録住所へ郵送する確認コード",
            (IdentityMethod::MailedCode, false) => "A code mailed to your registered address",
            (IdentityMethod::EmailCode, true) => "登録メールアドレスへ送る確認コード",
            (IdentityMethod::EmailCode, false) => "A code sent to your registered email address",
        }
    }

    pub fn window_days(days: &[Day], ja: bool) -> String {
        let names: Vec<&str> = days
            .iter()
            .map(|d| match (d, ja) {
                (Day::Mon, true) => "月",
                (Day::Tue, true) => "火",
                (Day::Wed, true) => "水",
                (Day::Thu, true) => "木",
                (Day::Fri, true) => "金",
                (Day::Sat, true) => "土",
                (Day::Sun, true) => "日",
                (Day::Mon, false) => "Mon",
                (Day::Tue, false) => "Tue",
                (Day::Wed, false) => "Wed",
                (Day::Thu, false) => "Thu",
                (Day::Fri, false) => "Fri",
                (Day::Sat, false) => "Sat",
                (Day::Sun, false) => "Sun",
            })
            .collect();
        names.join(if ja { "・" } else { ", " })
    }
}

// ---- rate limit ------------------------------------------------------------------------------

/// A token bucket per client address, per router (so each server has its own).
#[derive(Debug)]
pub struct Limiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    pub fn new(per_minute: u32) -> Limiter {
        Limiter {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one send for `client`; `false` when its bucket is empty.
    pub fn take(&self, client: &str) -> bool {
        let now = Instant::now();
        let cap = f64::from(self.per_minute);
        let Ok(mut b) = self.buckets.lock() else {
            return false;
        };
        if b.len() > 10_000 {
            b.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 60);
        }
        let entry = b.entry(client.to_string()).or_insert((cap, now));
        let refill = now.duration_since(entry.1).as_secs_f64() * cap / 60.0;
        entry.0 = (entry.0 + refill).min(cap);
        entry.1 = now;
        if entry.0 >= 1.0 {
            entry.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/privacy", get(notice))
        .route("/privacy/history", get(history))
        .route("/privacy/history/{version}", get(history_version))
        .route("/privacy/automatic", get(automatic))
        .route("/privacy/request", get(request_form).post(request_send))
        .route(
            "/privacy/complaint",
            get(complaint_form).post(complaint_send),
        )
        .layer(Extension(Arc::new(Limiter::new(SENDS_PER_MINUTE))))
}

/// The page context and the cookies to set (language chosen, visitor token made).
fn ctx(s: &AppState, headers: &HeaderMap, path: &str, q: &LangQuery) -> (Ctx, Vec<Option<String>>) {
    let (lang, lang_cookie) = choose_lang(headers, q.lang.as_deref());
    let (csrf, form_cookie) = match cookie(headers, FORM_COOKIE) {
        Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => (t, None),
        _ => {
            let t = random_hex(16);
            let secure = if s.secure_cookies { "; Secure" } else { "" };
            let c = format!("{FORM_COOKIE}={t}; Path=/privacy; HttpOnly; SameSite=Strict{secure}");
            (t, Some(c))
        }
    };
    let policy = s.mamori.policy();
    (
        Ctx {
            lang: if lang == Lang::Ja { "ja" } else { "en" },
            ja: lang == Lang::Ja,
            path: path.to_string(),
            org: policy.organization.name.get(lang).to_string(),
            console: false,
            who: String::new(),
            csrf,
            school: false,
            actions: Vec::new(),
        },
        vec![lang_cookie, form_cookie],
    )
}

// ---- the notice and its history --------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_notice.html")]
struct NoticePage {
    c: Ctx,
    title: String,
    version: String,
    current: bool,
    body: String,
}

fn notice_title(doc: &str) -> String {
    doc.split_once("<h1>")
        .and_then(|(_, r)| r.split_once("</h1>"))
        .map(|(t, _)| t.replace("&amp;", "&"))
        .unwrap_or_default()
}

async fn notice(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, cookies) = ctx(&s, &headers, "/privacy", &q);
    let doc = render_notice(&s.mamori.policy(), c.lang(), Format::Html);
    let page = NoticePage {
        title: notice_title(&doc),
        version: s.mamori.policy_version(),
        current: true,
        body: main_of(&doc),
        c,
    };
    with_cookies(render(StatusCode::OK, &page), &cookies)
}

struct VersionRow {
    version: String,
    effective_on: String,
    in_effect: bool,
}

#[derive(Template)]
#[template(path = "portal_history.html")]
struct HistoryPage {
    c: Ctx,
    versions: Vec<VersionRow>,
}

async fn history(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, cookies) = ctx(&s, &headers, "/privacy/history", &q);
    let versions = match s.mamori.policy_versions().await {
        Ok(v) => v,
        Err(e) => return error_page(&c, &e, "/privacy"),
    };
    let versions = versions
        .into_iter()
        .rev()
        .map(|v| VersionRow {
            version: v.version,
            effective_on: v.effective_on,
            in_effect: v.in_effect,
        })
        .collect();
    with_cookies(
        render(StatusCode::OK, &HistoryPage { c, versions }),
        &cookies,
    )
}

async fn history_version(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(version): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let path = format!("/privacy/history/{}", urlsafe(&version));
    let (c, cookies) = ctx(&s, &headers, &path, &q);
    let known = match s.mamori.policy_versions().await {
        Ok(v) => v.into_iter().find(|v| v.version == version),
        Err(e) => return error_page(&c, &e, "/privacy/history"),
    };
    let Some(v) = known else {
        let e = mamori_service::ServiceError::NotFound(
            "version: there is no such version of the policy: see the list of past versions".into(),
        );
        return with_cookies(error_page(&c, &e, "/privacy/history"), &cookies);
    };
    let doc = render_notice(&s.mamori.policy_at(&v.version), c.lang(), Format::Html);
    let page = NoticePage {
        title: notice_title(&doc),
        version: v.version,
        current: v.in_effect,
        body: main_of(&doc),
        c,
    };
    with_cookies(render(StatusCode::OK, &page), &cookies)
}

/// A path segment as given, limited to the characters a version id uses.
fn urlsafe(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect()
}

// ---- automatically collected data (seed 000 Art. 5-2) ----------------------------------------

struct AutoChannel {
    name: String,
    categories: Vec<String>,
    purposes: Vec<String>,
    retention: String,
}

#[derive(Template)]
#[template(path = "portal_automatic.html")]
struct AutomaticPage {
    c: Ctx,
    channels: Vec<AutoChannel>,
}

async fn automatic(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, cookies) = ctx(&s, &headers, "/privacy/automatic", &q);
    let p = s.mamori.policy();
    let lang = c.lang();
    let pick = |ja: &str, en: &str| if c.ja { ja.to_string() } else { en.to_string() };
    let channels = p
        .channels
        .iter()
        .filter(|ch| ch.automatic)
        .map(|ch| AutoChannel {
            name: pick(&ch.ja, &ch.en),
            categories: ch
                .categories
                .iter()
                .map(|id| p.category(id).map_or(id.clone(), |k| pick(&k.ja, &k.en)))
                .collect(),
            purposes: ch
                .purposes
                .iter()
                .map(|id| p.purpose(id).map_or(id.clone(), |k| pick(&k.ja, &k.en)))
                .collect(),
            retention: ch
                .retention_note
                .as_ref()
                .map_or(ch.retention.clone(), |n| n.get(lang).to_string()),
        })
        .collect();
    with_cookies(
        render(StatusCode::OK, &AutomaticPage { c, channels }),
        &cookies,
    )
}

// ---- the request form ------------------------------------------------------------------------

struct Choice {
    value: String,
    text: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "portal_request.html")]
struct RequestPage {
    c: Ctx,
    kinds: Vec<Choice>,
    methods: Vec<Choice>,
    procedure: String,
    answer_days: u32,
    error: String,
    contact: String,
    message: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    identity_method: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    lang: String,
}

fn request_page(s: &AppState, c: Ctx, f: &RequestForm, error: String) -> RequestPage {
    let p = s.mamori.policy();
    let kinds = RequestKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().into(),
            text: kind_text(*k, c.ja).into(),
            selected: f.kind == k.as_str(),
        })
        .collect();
    let methods = p
        .requests
        .identity_methods
        .iter()
        .map(|m| Choice {
            value: m.as_str().into(),
            text: method_text(*m, c.ja).into(),
            selected: f.identity_method == m.as_str(),
        })
        .collect();
    RequestPage {
        procedure: p.requests.procedure.get(c.lang()).to_string(),
        answer_days: p.requests.answer_within_days,
        kinds,
        methods,
        error,
        contact: f.contact.clone(),
        message: f.message.clone(),
        c,
    }
}

async fn request_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, cookies) = ctx(&s, &headers, "/privacy/request", &q);
    let page = request_page(&s, c, &RequestForm::default(), String::new());
    with_cookies(render(StatusCode::OK, &page), &cookies)
}

#[derive(Template)]
#[template(path = "portal_done.html")]
struct DonePage {
    c: Ctx,
    title: String,
    reference: String,
    answer_by: String,
    next: Vec<String>,
}

/// The visitor token must match the cookie, and the client must have sends left.
fn gate(
    c: &Ctx,
    headers: &HeaderMap,
    sent: &str,
    lim: &Limiter,
    client: &str,
    back: &str,
) -> Option<Response> {
    let cookie_token = cookie(headers, FORM_COOKIE).unwrap_or_default();
    if !same_token(sent, &cookie_token) {
        return Some(refusal(
            c,
            StatusCode::FORBIDDEN,
            c.t("フォームの有効期限が切れました", "The form has expired"),
            c.t(
                "csrf: フォームを開き直してから、もう一度送信してください。",
                "csrf: the form's token is missing or wrong: open the form again and send it once more.",
            ),
            back,
        ));
    }
    if !lim.take(client) {
        return Some(refusal(
            c,
            StatusCode::TOO_MANY_REQUESTS,
            c.t("送信が多すぎます", "Too many sends"),
            c.t(
                "短い時間に多くの送信がありました。1分ほど待ってから送信してください。",
                "Too many forms were sent from your address in a short time: wait a minute and send again.",
            ),
            back,
        ));
    }
    None
}

async fn request_send(
    State(s): State<AppState>,
    Extension(lim): Extension<Arc<Limiter>>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<RequestForm>,
) -> Response {
    let (c, cookies) = ctx(&s, &headers, "/privacy/request", &q);
    if let Some(r) = gate(&c, &headers, &f.csrf, &lim, &client, "/privacy/request") {
        return r;
    }
    let lang = if f.lang == "en" {
        Lang::En
    } else if f.lang == "ja" {
        Lang::Ja
    } else {
        c.lang()
    };
    let sent = s
        .mamori
        .portal_request(PortalRequest {
            kind: f.kind.clone(),
            contact: f.contact.clone(),
            identity_method: f.identity_method.clone(),
            message: f.message.clone(),
            lang,
        })
        .await;
    match sent {
        Ok(o) => {
            let kind = RequestKind::ALL
                .iter()
                .find(|k| k.as_str() == o.kind)
                .map_or("", |k| kind_text(*k, c.ja));
            let method = s
                .mamori
                .policy()
                .requests
                .identity_methods
                .iter()
                .find(|m| m.as_str() == f.identity_method)
                .map_or("", |m| method_text(*m, c.ja));
            let next = if c.ja {
                vec![
                    format!("「{kind}」のご請求を受け付けました。"),
                    format!(
                        "担当者からご連絡先あてに連絡し、お選びの方法({method})でご本人であることを確認します。"
                    ),
                    "ご本人確認ができるまで、個人情報をお知らせすることはありません。".into(),
                    format!("{}までにお答えします。", o.answer_by),
                ]
            } else {
                vec![
                    format!("We have received your request: {kind}."),
                    format!(
                        "Our staff will contact you and check your identity the way you chose ({method})."
                    ),
                    "Nothing about you is disclosed until your identity is confirmed.".into(),
                    format!("We will answer by {}.", o.answer_by),
                ]
            };
            let page = DonePage {
                title: c
                    .t("ご請求を受け付けました", "Your request has been received")
                    .into(),
                reference: o.id,
                answer_by: o.answer_by,
                next,
                c,
            };
            with_cookies(render(StatusCode::OK, &page), &cookies)
        }
        Err(e) => {
            let page = request_page(&s, c, &f, e.to_string());
            with_cookies(render(StatusCode::UNPROCESSABLE_ENTITY, &page), &cookies)
        }
    }
}

// ---- the complaint form (seed 003 Art. 23) ----------------------------------------------------

#[derive(Template)]
#[template(path = "portal_complaint.html")]
struct ComplaintPage {
    c: Ctx,
    desk: String,
    days: String,
    hours: String,
    closed_on_holidays: bool,
    closed_periods: Vec<String>,
    open_now: bool,
    next_open: String,
    answer_days: u32,
    error: String,
    contact: String,
    summary: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct ComplaintForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    summary: String,
}

fn complaint_page(s: &AppState, c: Ctx, f: &ComplaintForm, error: String) -> ComplaintPage {
    let p = s.mamori.policy();
    let w = &p.complaints.window;
    let now = jiff::Timestamp::now();
    let (open_now, next_open) = match s.mamori.complaint_window() {
        Ok(win) => (
            win.is_open(now),
            win.next_open(now)
                .map(mamori_calendar::format_jst)
                .map(|t| t.replace('T', " ").chars().take(16).collect())
                .unwrap_or_default(),
        ),
        Err(_) => (false, String::new()),
    };
    ComplaintPage {
        desk: p.complaints.contact.get(c.lang()).to_string(),
        days: window_days(&w.days, c.ja),
        hours: format!("{}–{}", w.opens, w.closes),
        closed_on_holidays: w.closed_on_holidays,
        closed_periods: w
            .closed_periods
            .iter()
            .map(|cp| format!("{} – {}", cp.from, cp.to))
            .collect(),
        open_now,
        next_open,
        answer_days: p.complaints.answer_within_business_days,
        error,
        contact: f.contact.clone(),
        summary: f.summary.clone(),
        c,
    }
}

async fn complaint_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, cookies) = ctx(&s, &headers, "/privacy/complaint", &q);
    let page = complaint_page(&s, c, &ComplaintForm::default(), String::new());
    with_cookies(render(StatusCode::OK, &page), &cookies)
}

async fn complaint_send(
    State(s): State<AppState>,
    Extension(lim): Extension<Arc<Limiter>>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<ComplaintForm>,
) -> Response {
    let (c, cookies) = ctx(&s, &headers, "/privacy/complaint", &q);
    if let Some(r) = gate(&c, &headers, &f.csrf, &lim, &client, "/privacy/complaint") {
        return r;
    }
    let sent = s
        .mamori
        .portal_complaint(
            PortalComplaint {
                contact: f.contact.clone(),
                summary: f.summary.clone(),
            },
            None,
        )
        .await;
    match sent {
        Ok(o) => {
            let from = o
                .counted_from
                .replace('T', " ")
                .chars()
                .take(16)
                .collect::<String>();
            let mut next = Vec::new();
            if c.ja {
                next.push("苦情を受け付けました。".to_string());
                if !o.window_open {
                    next.push(format!("受付時間外に届いたため、次の受付開始({from})に受け付けたものとして扱います。"));
                }
                next.push("担当者が内容を確認し、ご連絡先あてに連絡します。".into());
                next.push(format!("{}までに結果をお知らせします。", o.answer_by));
            } else {
                next.push("We have received your complaint.".to_string());
                if !o.window_open {
                    next.push(format!("It arrived while the desk was closed, so it counts from the desk's next opening ({from})."));
                }
                next.push("Our staff will look into it and contact you.".into());
                next.push(format!("We will tell you the result by {}.", o.answer_by));
            }
            let page = DonePage {
                title: c
                    .t("苦情を受け付けました", "Your complaint has been received")
                    .into(),
                reference: o.id,
                answer_by: o.answer_by,
                next,
                c,
            };
            with_cookies(render(StatusCode::OK, &page), &cookies)
        }
        Err(e) => {
            let page = complaint_page(&s, c, &f, e.to_string());
            with_cookies(render(StatusCode::UNPROCESSABLE_ENTITY, &page), &cookies)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_its_size_then_refuses() {
        let l = Limiter::new(3);
        assert!(l.take("a") && l.take("a") && l.take("a"));
        assert!(!l.take("a"));
        assert!(l.take("b"));
    }
}
