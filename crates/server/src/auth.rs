//! Who is calling: an API token (`Authorization: Bearer mmr_…`) or a session cookie
//! (`mamori_session`, HttpOnly, SameSite=Strict, Secure behind TLS). A change made through a
//! session must carry the session's CSRF token in `X-CSRF-Token`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use mamori_service::Actor;

use crate::AppState;
use crate::error::Problem;

pub const SESSION_COOKIE: &str = "mamori_session";

pub struct Authed {
    pub actor: Actor,
}

fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn session_cookie_of(parts: &Parts) -> Option<String> {
    cookie(parts, SESSION_COOKIE)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
            let token = h
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "Authorization: use `Bearer <token>` with a token from `mamori staff token LOGIN`"))?;
            let (actor, _id) = state.mamori.token_actor(token).await?;
            return Ok(Authed { actor });
        }
        let Some(sid) = session_cookie_of(parts) else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: POST /api/v1/login, or send Authorization: Bearer <token>",
            ));
        };
        let (actor, csrf) = state.mamori.session_actor(&sid).await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "X-CSRF-Token: missing or wrong: send the csrf_token you got at sign-in",
                ));
            }
        }
        Ok(Authed { actor })
    }
}
