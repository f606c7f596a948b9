//! `/console/staff`: who the staff are, and what the administrator and the manager do about
//! them — the same use cases as `mamori staff invite|role|disable|enable|unlock|password|pledge`
//! ([`mamori_service::staff`], [`mamori_service::governance`]).
//!
//! - Inviting staff, changing a role, disabling, enabling and unlocking an account and
//!   resetting a password are the administrator's (the `staff` action); the service keeps at
//!   least one enabled administrator and its refusal is shown as it is (separation of duties,
//!   seed 000 Art. 8-1; seed 003 Arts. 4, 5). The administrator never chooses a password: an
//!   invitation or a reset shows a one-time setup link, on this page only, for the person.
//! - A pledge of confidentiality is recorded by the manager (the `training` action; seed 003
//!   Art. 7(1)).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use mamori_policy::Action;
use mamori_service::ServiceError;

use super::{Choice, Fields, Staff, checked, ctx, field, opt, page};
use crate::AppState;
use crate::pages::{Ctx, LangQuery, error_page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/staff", get(staff).post(staff_add))
        .route("/console/staff/{login}/{step}", post(staff_step))
}

struct StaffRow {
    login: String,
    role: String,
    role_id: String,
    name: String,
    created_at: String,
    disabled: bool,
    password_set: bool,
}

#[derive(askama::Template)]
#[template(path = "console_staff.html")]
struct StaffPage {
    c: Ctx,
    rows: Vec<StaffRow>,
    roles: Vec<Choice>,
    /// The administrator: add staff, change roles, disable accounts.
    may_manage: bool,
    /// The manager: record pledges (seed 003 Art. 7(1)).
    may_pledge: bool,
    today: String,
    done: String,
    /// A setup link just made (an invitation or a reset): shown once.
    link: String,
}

async fn staff_page(
    s: &AppState,
    st: &Staff,
    c: Ctx,
    set: Option<String>,
    done: String,
    link: String,
) -> Response {
    let list = match s.mamori.staff_list(&st.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let policy = s.mamori.policy();
    let role_name = |id: &str| {
        policy.role(id).map_or(id.to_string(), |r| {
            if c.ja { r.ja.clone() } else { r.en.clone() }
        })
    };
    let rows = list
        .into_iter()
        .map(|x| StaffRow {
            role: role_name(&x.role),
            role_id: x.role,
            login: x.login,
            name: x.name.unwrap_or_default(),
            created_at: x.created_at,
            disabled: x.disabled,
            password_set: x.password_set,
        })
        .collect();
    let roles = policy
        .roles
        .iter()
        .map(|r| Choice {
            value: r.id.clone(),
            text: if c.ja { r.ja.clone() } else { r.en.clone() },
        })
        .collect();
    let p = StaffPage {
        c,
        rows,
        roles,
        may_manage: st.may(Action::Staff),
        may_pledge: st.may(Action::Training),
        today: mamori_service::today_jst().to_string(),
        done,
        link,
    };
    page(StatusCode::OK, &p, set)
}

async fn staff(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/staff", &q, Some(&st));
    staff_page(&s, &st, c, set, String::new(), String::new()).await
}

/// The full setup link for the page: the address the administrator reached the console at.
pub(super) fn full_link(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
    let tls = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    match host {
        Some(h) => format!("{}://{h}{path}", if tls { "https" } else { "http" }),
        None => path.to_string(),
    }
}

async fn staff_add(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/staff", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/staff") {
        return r;
    }
    if !field(&f, "password").is_empty() {
        let e = ServiceError::BadInput(
            c.t(
                "パスワード: 管理者は他人のパスワードを決めません。招待すると本人が設定用リンクで設定します。",
                "Password: an administrator does not choose another's password: invite them and they set it at the setup link.",
            )
            .into(),
        );
        return error_page(&c, &e, "/console/staff");
    }
    let name = opt(&f, "name");
    match s
        .mamori
        .staff_invite(
            Some(&st.actor),
            field(&f, "login"),
            field(&f, "role"),
            name.as_deref(),
        )
        .await
    {
        Ok(inv) => {
            let done = format!("{}: {}", c.t("招待しました", "Invited"), inv.login);
            let link = full_link(&headers, &inv.setup_path);
            staff_page(&s, &st, c, set, done, link).await
        }
        Err(e) => error_page(&c, &e, "/console/staff"),
    }
}

/// `role`, `disable`, `enable`, `unlock`, `password` (the administrator), `pledge` (the
/// manager).
async fn staff_step(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path((login, step)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/staff", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/staff") {
        return r;
    }
    let a = &st.actor;
    let mut link = String::new();
    let done = match step.as_str() {
        "enable" => s.mamori.staff_enable(Some(a), &login).await.map(|r| {
            format!(
                "{}: {}",
                c.t("アカウントを有効に戻しました", "Account enabled"),
                r.login
            )
        }),
        "unlock" => s.mamori.staff_unlock(Some(a), &login).await.map(|r| {
            format!(
                "{}: {}",
                c.t(
                    "サインインの失敗記録を消去しました(ロック解除)",
                    "Failed sign-ins forgotten (unlocked)"
                ),
                r.login
            )
        }),
        "password" => s
            .mamori
            .staff_password_reset(Some(a), &login)
            .await
            .map(|inv| {
                link = full_link(&headers, &inv.setup_path);
                format!(
                    "{}: {}",
                    c.t(
                        "パスワードを無効にし、設定用リンクを発行しました",
                        "The password no longer works; a new setup link is made"
                    ),
                    inv.login
                )
            }),
        "role" => s
            .mamori
            .staff_role(a, &login, field(&f, "role"))
            .await
            .map(|r| {
                format!(
                    "{}: {} {} → {}",
                    c.t("役割を変更しました", "Role changed"),
                    r.login,
                    r.from,
                    r.to
                )
            }),
        "disable" => s.mamori.staff_disable(a, &login).await.map(|r| {
            format!(
                "{}: {}",
                c.t(
                    "アカウントを無効にしました(APIトークンも失効)",
                    "Account disabled (its API tokens revoked)"
                ),
                r.login
            )
        }),
        "pledge" => s
            .mamori
            .staff_pledge(a, &login, field(&f, "date"))
            .await
            .map(|r| {
                format!(
                    "{}: {} ({})",
                    c.t("誓約書を記録しました", "Pledge recorded"),
                    r.login,
                    r.signed_on
                )
            }),
        _ => Err(ServiceError::NotFound(
            "step: use role, disable, enable, unlock, password or pledge".into(),
        )),
    };
    match done {
        Ok(done) => staff_page(&s, &st, c, set, done, link).await,
        Err(e) => error_page(&c, &e, "/console/staff"),
    }
}
