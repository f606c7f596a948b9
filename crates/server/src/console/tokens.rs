//! `/console/tokens`: a staff member's API tokens for `/api/v1` (`Authorization: Bearer
//! mmr_…`). Anyone signed in makes their own (shown once; only its hash is kept) and revokes
//! their own; nobody makes one for someone else (issue 20: the administrator would act as
//! them); revoking another's is the administrator's (`staff` action), as the service decides
//! ([`mamori_service::Mamori::issue_token`], `revoke_token`; seed 000 Art. 8-5).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use mamori_policy::Action;

use super::{Fields, Staff, checked, ctx, field, page, safe_id};
use crate::AppState;
use crate::pages::{Ctx, LangQuery, error_page, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/tokens", get(tokens).post(token_new))
        .route("/console/tokens/{id}/revoke", post(token_revoke))
}

struct TokenRow {
    id: String,
    login: String,
    created_at: String,
    revoked_at: String,
}

#[derive(askama::Template)]
#[template(path = "console_tokens.html")]
struct TokensPage {
    c: Ctx,
    rows: Vec<TokenRow>,
    may_others: bool,
    /// The token just made: shown on this page only, once.
    made: String,
    made_id: String,
    made_for: String,
}

async fn tokens_page(
    s: &AppState,
    st: &Staff,
    c: Ctx,
    set: Option<String>,
    made: Option<mamori_service::staff::NewToken>,
) -> Response {
    let list = match s.mamori.token_list(&st.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let (made, made_id, made_for) = made
        .map(|t| (t.token, t.token_id, t.login))
        .unwrap_or_default();
    let p = TokensPage {
        c,
        rows: list
            .into_iter()
            .rev()
            .map(|t| TokenRow {
                id: t.token_id,
                login: t.login,
                created_at: t.created_at,
                revoked_at: t.revoked_at.unwrap_or_default(),
            })
            .collect(),
        may_others: st.may(Action::Staff),
        made,
        made_id,
        made_for,
    };
    page(StatusCode::OK, &p, set)
}

async fn tokens(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/tokens", &q, Some(&st));
    tokens_page(&s, &st, c, set, None).await
}

async fn token_new(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/tokens", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/tokens") {
        return r;
    }
    let login = match field(&f, "login") {
        "" => st.actor.login.clone(),
        l => l.to_string(),
    };
    match s.mamori.issue_token(&st.actor, &login).await {
        Ok(t) => tokens_page(&s, &st, c, set, Some(t)).await,
        Err(e) => error_page(&c, &e, "/console/tokens"),
    }
}

async fn token_revoke(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, _) = ctx(&s, &headers, "/console/tokens", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/tokens") {
        return r;
    }
    match s.mamori.revoke_token(&st.actor, &safe_id(&id)).await {
        Ok(()) => see_other("/console/tokens"),
        Err(e) => error_page(&c, &e, "/console/tokens"),
    }
}
