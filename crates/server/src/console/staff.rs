//! `/console/staff`: who the staff are, and what the administrator and the manager do about
//! them — the same use cases as `mamori staff add|role|disable|pledge`
//! ([`mamori_service::staff`], [`mamori_service::governance`]).
//!
//! - Adding staff, changing a role and disabling an account are the administrator's (the
//!   `staff` action); the service keeps at least one enabled administrator and its refusal is
//!   shown as it is (separation of duties, seed 000 Art. 8-1; seed 003 Arts. 4, 5).
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
}

async fn staff_page(
    s: &AppState,
    st: &Staff,
    c: Ctx,
    set: Option<String>,
    done: String,
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
    staff_page(&s, &st, c, set, String::new()).await
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
    let name = opt(&f, "name");
    match s
        .mamori
        .staff_add(
            Some(&st.actor),
            field(&f, "login"),
            field(&f, "role"),
            name.as_deref(),
            f.get("password").map_or("", String::as_str),
        )
        .await
    {
        Ok(_) => {
            let done = format!("{}: {}", c.t("追加しました", "Added"), field(&f, "login"));
            staff_page(&s, &st, c, set, done).await
        }
        Err(e) => error_page(&c, &e, "/console/staff"),
    }
}

/// `role` (the administrator), `disable` (the administrator), `pledge` (the manager).
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
    let done = match step.as_str() {
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
            "step: use role, disable or pledge".into(),
        )),
    };
    match done {
        Ok(done) => staff_page(&s, &st, c, set, done).await,
        Err(e) => error_page(&c, &e, "/console/staff"),
    }
}
