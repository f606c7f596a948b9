//! What the staff console and the public portal share: the page context (language, who is
//! signed in, the form token), the `ja`/`en` switch (`?lang=en`, remembered in the
//! `mamori_lang` cookie), cookies, CSRF comparison, and turning templates and errors into pages.
//!
//! Pages are server-rendered (askama escapes every value), usable without JavaScript, and keep
//! to the server's CSP (`default-src 'self'`; the one stylesheet is inline in `base.html`).

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_policy::Lang;
use mamori_service::ServiceError;
use serde::Deserialize;

pub const LANG_COOKIE: &str = "mamori_lang";

/// Everything the layout (`base.html`) needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: &'static str,
    pub ja: bool,
    /// The page's path (no query), for the language switch.
    pub path: String,
    /// The organization's name in the page's language.
    pub org: String,
    /// `true` in the staff console.
    pub console: bool,
    /// The signed-in staff member (console).
    pub who: String,
    /// The form token: the session's CSRF token in the console, the visitor's in the portal.
    pub csrf: String,
    /// The policy has the school's refund rules (`[refunds]`, seed 003 学費返還規定): the
    /// console shows its student records.
    pub school: bool,
    /// What the signed-in staff member's role may do (console navigation shows only those
    /// pages; the service still decides every action).
    pub actions: Vec<&'static str>,
}

impl Ctx {
    /// Whether the signed-in role has any of the actions (comma-separated), for the navigation.
    pub fn may(&self, any: &str) -> bool {
        any.split(',').any(|a| self.actions.contains(&a.trim()))
    }

    /// Fixed text in the page's language.
    pub fn t(&self, ja: &'static str, en: &'static str) -> &'static str {
        if self.ja { ja } else { en }
    }

    pub fn lang(&self) -> Lang {
        if self.ja { Lang::Ja } else { Lang::En }
    }
}

/// `?lang=ja|en` on any page.
#[derive(Debug, Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    pub lang: Option<String>,
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The page language: `?lang=` first (and remembered), then the cookie, then Japanese.
/// Returns the `Set-Cookie` value when the query chose a language.
pub fn choose_lang(headers: &HeaderMap, q: Option<&str>) -> (Lang, Option<String>) {
    match q {
        Some("en") => (Lang::En, Some(lang_cookie("en"))),
        Some("ja") => (Lang::Ja, Some(lang_cookie("ja"))),
        _ => match cookie(headers, LANG_COOKIE).as_deref() {
            Some("en") => (Lang::En, None),
            _ => (Lang::Ja, None),
        },
    }
}

fn lang_cookie(v: &str) -> String {
    format!("{LANG_COOKIE}={v}; Path=/; SameSite=Lax; Max-Age=31536000")
}

/// Constant-time comparison of two tokens (form field against cookie or session).
pub fn same_token(a: &str, b: &str) -> bool {
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Add `Set-Cookie` headers to a response.
pub fn with_cookies(mut res: Response, cookies: &[Option<String>]) -> Response {
    for c in cookies.iter().flatten() {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// A rendered template as an HTML response.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be drawn",
            )
                .into_response()
        }
    }
}

/// A full HTML document made by the service (a letter, a package, a notice), printable on its
/// own: its `<style>` blocks are allowed by their SHA-256 hashes in its Content-Security-Policy
/// (no `'unsafe-inline'`, no script).
pub fn document(html: String) -> Response {
    let csp = crate::document_csp(&html);
    let mut res = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// A 303 redirect (after a form, or to the sign-in page).
pub fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// The inside of `<main>` of a full document rendered by `mamori_policy::notice::render`
/// (already escaped there).
pub fn main_of(doc: &str) -> String {
    let start = doc.find("<main>").map_or(0, |i| i + "<main>".len());
    let end = doc.rfind("</main>").unwrap_or(doc.len());
    doc.get(start..end).unwrap_or("").to_string()
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub c: Ctx,
    pub title: String,
    pub detail: String,
    pub back: String,
}

/// A use case's error as a page: the one line a person can act on, and the status.
pub fn error_page(c: &Ctx, e: &ServiceError, back: &str) -> Response {
    let (status, title) = match e {
        ServiceError::BadInput(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            c.t("入力を確認してください", "Please check what you entered"),
        ),
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, c.t("見つかりません", "Not found")),
        ServiceError::Denied(_) => (
            StatusCode::FORBIDDEN,
            c.t("方針により拒否されました", "Denied by the policy"),
        ),
        ServiceError::Unauthenticated(_) => (
            StatusCode::UNAUTHORIZED,
            c.t("サインインしてください", "Please sign in"),
        ),
        ServiceError::Throttled(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            c.t(
                "サインインの失敗が多すぎます。しばらく待ってください",
                "Too many failed sign-ins: please wait",
            ),
        ),
        ServiceError::Failed(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            c.t("処理に失敗しました", "It failed"),
        ),
        ServiceError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            c.t(
                "いまは記録できません。しばらくしてからもう一度お試しください",
                "Nothing can be recorded just now; please try again shortly",
            ),
        ),
    };
    let detail = match e {
        ServiceError::Denied(r) => format!("denied: {r}"),
        other => other.to_string(),
    };
    if status.is_server_error() {
        tracing::error!(error = %detail, "page failed");
    }
    render(
        status,
        &ErrorPage {
            c: c.clone(),
            title: title.to_string(),
            detail,
            back: back.to_string(),
        },
    )
}

/// A page-level refusal (bad form token, too many requests).
pub fn refusal(c: &Ctx, status: StatusCode, title: &str, detail: &str, back: &str) -> Response {
    render(
        status,
        &ErrorPage {
            c: c.clone(),
            title: title.to_string(),
            detail: detail.to_string(),
            back: back.to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", ""));
        assert!(!same_token("ab", "abc"));
    }

    #[test]
    fn the_query_language_wins_and_is_remembered() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("mamori_lang=en"));
        assert_eq!(choose_lang(&h, None).0, Lang::En);
        let (l, set) = choose_lang(&h, Some("ja"));
        assert_eq!(l, Lang::Ja);
        assert!(set.unwrap().starts_with("mamori_lang=ja;"));
        assert_eq!(choose_lang(&HeaderMap::new(), Some("fr")).0, Lang::Ja);
    }
}
