//! Signing in: staff passwords (Argon2id) with lockout after repeated failures, sessions, and
//! API tokens (stored hashed, revocable, attributed to their staff member). Seed 000 Art. 8-5:
//! access control so that no one else can reach the data.

use mamori_policy::Action;
use mamori_store::crypto::{random_hex, sha256_hex};
use mamori_store::{AuditDraft, Store};
use serde::Serialize;

use crate::staff::{NewToken, token_hash, verify_password};
use crate::{Actor, Mamori, Result, ServiceError};

/// Consecutive failures before an account is locked, and for how long.
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;
pub const SESSION_HOURS: i64 = 8;

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// The session id for the cookie (only its hash is stored).
    #[serde(skip)]
    pub id: String,
    pub login: String,
    pub role: String,
    /// Sent back in `X-CSRF-Token` (and form fields) with every change made through the session.
    pub csrf_token: String,
    pub expires_at: String,
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub token_id: String,
    pub login: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

fn wrong() -> ServiceError {
    ServiceError::Unauthenticated("login or password is wrong".into())
}

impl Mamori {
    /// Sign in with a password. Five failures in a row lock the account for 15 minutes.
    pub async fn login(&self, login: &str, password: &str) -> Result<Session> {
        let now = jiff::Timestamp::now();
        let Some(row) = self.store.staff(login).await? else {
            // Same work as a real check, so timing does not tell which logins exist.
            let _ = crate::staff::hash_password(password);
            return Err(wrong());
        };
        if let Some(until) = row
            .locked_until
            .as_deref()
            .and_then(|u| u.parse::<jiff::Timestamp>().ok())
            && until > now
        {
            self.store
                .audit(vec![AuditDraft {
                    actor: login.to_string(),
                    action: "staff.login".into(),
                    decision: "deny".into(),
                    reason: Some("account locked".into()),
                    ..Default::default()
                }])
                .await?;
            return Err(ServiceError::Unauthenticated(format!(
                "the account is locked after {MAX_FAILURES} failed sign-ins until {}; ask the administrator or wait",
                mamori_calendar::format_jst(until)
            )));
        }
        let ok = !row.disabled
            && row
                .password_hash
                .as_deref()
                .is_some_and(|h| verify_password(password, h));
        if !ok {
            let failures = row.failed_logins + 1;
            let lock = (failures >= MAX_FAILURES)
                .then(|| {
                    now.checked_add(jiff::SignedDuration::from_mins(LOCK_MINUTES))
                        .ok()
                })
                .flatten()
                .map(|t| t.to_string());
            self.store
                .write(
                    vec![Store::login_failed(login, lock.as_deref())],
                    vec![AuditDraft {
                        actor: login.to_string(),
                        action: "staff.login".into(),
                        decision: "deny".into(),
                        reason: Some(if lock.is_some() {
                            "wrong password; account locked".into()
                        } else {
                            "wrong password".into()
                        }),
                        ..Default::default()
                    }],
                )
                .await?;
            return Err(wrong());
        }
        let id = random_hex(32);
        let csrf = random_hex(16);
        let expires = now
            .checked_add(jiff::SignedDuration::from_hours(SESSION_HOURS))
            .map_err(|e| ServiceError::Failed(e.to_string()))?
            .to_string();
        self.store
            .write(
                vec![
                    Store::login_succeeded(login),
                    Store::insert_session(&sha256_hex(id.as_bytes()), login, &csrf, &expires),
                ],
                vec![AuditDraft {
                    actor: login.to_string(),
                    action: "staff.login".into(),
                    decision: "allow".into(),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(Session {
            id,
            login: row.login,
            role: row.role,
            csrf_token: csrf,
            expires_at: expires,
        })
    }

    /// The staff member of a session cookie, and the session's CSRF token.
    pub async fn session_actor(&self, session_id: &str) -> Result<(Actor, String)> {
        let expired =
            || ServiceError::Unauthenticated("the session has expired: sign in again".into());
        let (login, csrf, expires) = self
            .store
            .session(&sha256_hex(session_id.as_bytes()))
            .await?
            .ok_or_else(expired)?;
        if expires
            .parse::<jiff::Timestamp>()
            .map_or(true, |t| t <= jiff::Timestamp::now())
        {
            return Err(expired());
        }
        let actor = self.actor(&login).await?;
        Ok((actor, csrf))
    }

    pub async fn logout(&self, session_id: &str) -> Result<()> {
        self.store
            .write(
                vec![Store::delete_session(&sha256_hex(session_id.as_bytes()))],
                vec![],
            )
            .await?;
        Ok(())
    }

    /// The staff member an API token belongs to (`Authorization: Bearer mmr_…`).
    pub async fn token_actor(&self, token: &str) -> Result<(Actor, String)> {
        // One query for the token and its owner (it is asked on every API request).
        let (id, row) = self
            .store
            .token_staff(&token_hash(token))
            .await?
            .ok_or_else(|| {
                ServiceError::Unauthenticated("the API token is unknown or revoked".into())
            })?;
        Ok((self.actor_of(row)?, id))
    }

    /// A new API token for a staff member (shown once). A staff member may make their own — it
    /// carries no more than their role, like a session, and is attributed to them (seed 000
    /// Art. 8-5); a token for someone else needs the `staff` action (the administrator).
    pub async fn issue_token(&self, actor: &Actor, login: &str) -> Result<NewToken> {
        if login != actor.login {
            self.require(actor, Action::Staff, "staff.token").await?;
        }
        if self.store.staff(login).await?.is_none() {
            return Err(ServiceError::NotFound(format!(
                "login: there is no staff member {login:?}"
            )));
        }
        let id = random_hex(6);
        let token = format!("mmr_{}", random_hex(32));
        self.store
            .write(
                vec![Store::insert_token(&id, login, &token_hash(&token))],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.token".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "token_id": id}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(NewToken {
            login: login.to_string(),
            token_id: id,
            token,
        })
    }

    /// The API tokens a staff member may see: their own, or everyone's with the `staff` action
    /// (ids and dates only; a token is shown once, when made).
    pub async fn token_list(&self, actor: &Actor) -> Result<Vec<TokenInfo>> {
        let all = actor.role.actions.contains(&Action::Staff);
        let rows = self
            .store
            .tokens(if all {
                None
            } else {
                Some(actor.login.as_str())
            })
            .await?;
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "staff.token.list".into(),
                decision: "allow".into(),
                detail: serde_json::json!({"all": all, "count": rows.len()}),
                ..Default::default()
            }])
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TokenInfo {
                token_id: r.id,
                login: r.login,
                created_at: r.created_at,
                revoked_at: r.revoked_at,
            })
            .collect())
    }

    /// Revoke an API token: a staff member may revoke their own; an administrator any.
    pub async fn revoke_token(&self, actor: &Actor, token_id: &str) -> Result<()> {
        let owner = self.store.token_owner(token_id).await?;
        if owner.as_deref() != Some(actor.login.as_str()) {
            self.require(actor, Action::Staff, "staff.token.revoke")
                .await?;
        }
        self.store
            .write(
                vec![Store::revoke_token(token_id)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.token.revoke".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"token_id": token_id}),
                    ..Default::default()
                }],
            )
            .await
            .map_err(|e| match e {
                mamori_store::StoreError::Conflict(_) => {
                    ServiceError::NotFound(format!("token {token_id}: no such unrevoked token"))
                }
                other => other.into(),
            })?;
        Ok(())
    }
}
