//! The person's own account at the console (issue 20, "Sign-in"; seed 000 Art. 8-5):
//!
//! - `/console/setup/{token}`: the page a one-time setup link opens (from an invitation or a
//!   reset, `mamori staff invite|password`); the person chooses their password there, without
//!   signing in, and the link is void afterwards (and after 72 hours).
//! - `/console/password`: "change my password" for everyone signed in: the current password,
//!   then the new one twice; the member's other sessions end.
//!
//! Messages are in the page's language and name the field's label.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use mamori_service::ServiceError;

use super::{Fields, Staff, checked, ctx, page};
use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::pages::{LangQuery, cookie};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/setup/{token}", get(setup_form).post(setup))
        .route("/console/password", get(password_form).post(password))
}

#[derive(askama::Template)]
#[template(path = "console_setup.html")]
struct SetupPage {
    c: crate::pages::Ctx,
    error: String,
    done: bool,
}

#[derive(askama::Template)]
#[template(path = "console_password.html")]
struct PasswordPage {
    c: crate::pages::Ctx,
    error: String,
    done: bool,
}

/// A setup token is 64 hex digits; anything else is no link (and never reaches the service).
fn clean_token(t: &str) -> String {
    t.chars().filter(char::is_ascii_hexdigit).take(64).collect()
}

/// The two new-password fields: at least 10 characters, typed the same twice.
fn new_password_problem(
    c: &crate::pages::Ctx,
    new: &str,
    again: &str,
    label_ja: &'static str,
    label_en: &'static str,
) -> Option<String> {
    if mamori_service::staff::check_password(new).is_err() {
        return Some(format!(
            "{}: {}",
            c.t(label_ja, label_en),
            c.t(
                "10文字以上(1000文字以内)にしてください",
                "use at least 10 characters (at most 1000)"
            )
        ));
    }
    if new != again {
        return Some(
            c.t(
                "新しいパスワード(確認): 2回の入力が一致しません。もう一度入力してください",
                "New password (again): the two entries differ: type them again",
            )
            .to_string(),
        );
    }
    None
}

async fn setup_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let path = format!("/console/setup/{}", clean_token(&token));
    let (c, set) = ctx(&s, &headers, &path, &q, None);
    page(
        StatusCode::OK,
        &SetupPage {
            c,
            error: String::new(),
            done: false,
        },
        set,
    )
}

async fn setup(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let token = clean_token(&token);
    let path = format!("/console/setup/{token}");
    let (c, set) = ctx(&s, &headers, &path, &q, None);
    let new = f.get("password").map_or("", String::as_str);
    let again = f.get("again").map_or("", String::as_str);
    let (status, error) = match new_password_problem(&c, new, again, "新しいパスワード", "New password") {
        Some(e) => (StatusCode::UNPROCESSABLE_ENTITY, e),
        None => match s.mamori.setup_password(&token, new).await {
            Ok(_) => (StatusCode::OK, String::new()),
            Err(ServiceError::BadInput(m)) if m.starts_with("setup link") => (
                StatusCode::UNPROCESSABLE_ENTITY,
                c.t(
                    "設定用リンク: 不明か、使用済みか、期限切れです。管理者に新しいリンクを依頼してください",
                    "Setup link: unknown, used or expired: ask the administrator for a new one",
                )
                .to_string(),
            ),
            Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        },
    };
    let done = error.is_empty();
    page(status, &SetupPage { c, error, done }, set)
}

async fn password_form(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/password", &q, Some(&st));
    page(
        StatusCode::OK,
        &PasswordPage {
            c,
            error: String::new(),
            done: false,
        },
        set,
    )
}

async fn password(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/password", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/password") {
        return r;
    }
    let current = f.get("current_password").map_or("", String::as_str);
    let new = f.get("new_password").map_or("", String::as_str);
    let again = f.get("again").map_or("", String::as_str);
    let error = match new_password_problem(&c, new, again, "新しいパスワード", "New password")
    {
        Some(e) => e,
        None => {
            let keep = cookie(&headers, SESSION_COOKIE);
            match s
                .mamori
                .change_password(&st.actor, current, new, keep.as_deref())
                .await
            {
                Ok(()) => String::new(),
                Err(ServiceError::BadInput(m)) if m.starts_with("current_password") => c
                    .t(
                        "現在のパスワード: 違います。サインインに使ったパスワードを入力してください",
                        "Current password: it is wrong: type the password you signed in with",
                    )
                    .to_string(),
                Err(e) => e.to_string(),
            }
        }
    };
    let done = error.is_empty();
    let status = if done {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(status, &PasswordPage { c, error, done }, set)
}
