//! Signing in: staff passwords (Argon2id), sessions, and API tokens (stored hashed, revocable,
//! attributed to their staff member). Seed 000 Art. 8-5: access control so that no one else can
//! reach the data.
//!
//! Issue 20 ("Sign-in"): every failed sign-in — unknown login, wrong password, disabled
//! account, account without a password yet — gets the same answer after the same work (one
//! Argon2id check, against a dummy hash when there is no real one, and one durable write), so
//! neither the message nor the time tells which logins exist. Failures are throttled by the
//! client address *and* the login: [`MAX_FAILURES`] from one address for one login, or
//! [`CLIENT_MAX_FAILURES`] from one address for any logins, within [`LOCK_MINUTES`], refuse that
//! address (429) for the rest of the window, whatever the login; the same login from another
//! address is not affected, so an outsider cannot lock anyone out (not even the only
//! administrator). `mamori staff unlock LOGIN` forgets a login's failures at once.

use mamori_policy::Action;
use mamori_store::crypto::{random_hex, sha256_hex};
use mamori_store::{AuditDraft, Store};
use serde::Serialize;

use crate::staff::{NewToken, token_hash, verify_password_bounded};
use crate::{Actor, Mamori, Result, ServiceError};

/// Failures from one client address for one login before that address is refused for it.
pub const MAX_FAILURES: i64 = 5;
/// Failures from one client address, whatever the logins, before it is refused altogether.
pub const CLIENT_MAX_FAILURES: i64 = 20;
/// The window the failures are counted in (and so the longest a refusal lasts).
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

/// The one answer to every failed sign-in.
pub const WRONG: &str = "login or password is wrong";

fn wrong() -> ServiceError {
    ServiceError::Unauthenticated(WRONG.into())
}

impl Mamori {
    /// A keyed digest (hex) of a client address or a login typed at sign-in: the throttle's
    /// keys, so neither the address nor the text typed (maybe a password) is stored.
    pub(crate) fn sign_in_key(&self, kind: &str, value: &str) -> String {
        hex::encode(
            self.store
                .keys()
                .blind_index(&format!("sign-in-{kind}"), value),
        )
    }

    /// Sign in with a password from `client` (the caller's address, as the server sees it).
    pub async fn login(&self, login: &str, password: &str, client: &str) -> Result<Session> {
        let now = jiff::Timestamp::now();
        let secs = now.as_second();
        let since = secs - LOCK_MINUTES * 60;
        let client_key = self.sign_in_key("client", client);
        let login_key = self.sign_in_key("login", login);
        let (pair, from_client) = self
            .store
            .sign_in_failures(&client_key, &login_key, since)
            .await?;
        if pair >= MAX_FAILURES || from_client >= CLIENT_MAX_FAILURES {
            // The same refusal for every login, known or not: it is about the address.
            return Err(ServiceError::Throttled(format!(
                "too many failed sign-ins from this address: wait {LOCK_MINUTES} minutes, or ask the administrator to unlock the account (`mamori staff unlock LOGIN`)"
            )));
        }
        // A record changed outside Mamori (facts.rs) signs nobody in, and answers like any other
        // failure (no enumeration); the log says why.
        let (row, changed) = match self.store.staff(login).await {
            Ok(row) => (row, false),
            Err(mamori_store::StoreError::Changed(_)) => (None, true),
            Err(e) => return Err(e.into()),
        };
        let hash = row
            .as_ref()
            .filter(|r| !r.disabled)
            .and_then(|r| r.password_hash.clone());
        let ok = verify_password_bounded(password, hash).await?;
        let row = match row {
            Some(r) if ok => r,
            other => {
                let reason = match &other {
                    None if changed => "record changed outside Mamori",
                    None => "unknown login",
                    Some(r) if r.disabled => "account disabled",
                    Some(r) if r.password_hash.is_none() => "no password set yet",
                    Some(_) => "wrong password",
                };
                let refused = if pair + 1 >= MAX_FAILURES || from_client + 1 >= CLIENT_MAX_FAILURES
                {
                    format!("{reason}; this address is refused for {LOCK_MINUTES} minutes")
                } else {
                    reason.to_string()
                };
                self.store
                    .write(
                        Store::sign_in_failed(&client_key, &login_key, secs, since).into(),
                        vec![AuditDraft {
                            // An unknown login is not recorded: it may be a password typed
                            // into the login field.
                            actor: if other.is_some() || changed {
                                login.to_string()
                            } else {
                                "(unknown)".into()
                            },
                            action: "staff.login".into(),
                            decision: "deny".into(),
                            reason: Some(refused),
                            ..Default::default()
                        }],
                    )
                    .await?;
                return Err(wrong());
            }
        };
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
                    Store::clear_sign_in_failures_from(&login_key, &client_key),
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

    /// A new API token (shown once), only for oneself: it carries no more than the member's
    /// role, like a session, and is attributed to them (seed 000 Art. 8-5). Nobody — not the
    /// administrator — makes a token for someone else: that would let them act as that person
    /// with the log naming the other (issue 20).
    pub async fn issue_token(&self, actor: &Actor, login: &str) -> Result<NewToken> {
        if login != actor.login {
            let reason = format!(
                "API tokens are only for oneself: {login} makes their own (console \"API tokens\", or `mamori staff token {login}` with their password); seed 000 Art. 8-5"
            );
            self.store
                .audit(vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.token".into(),
                    decision: "deny".into(),
                    reason: Some(reason.clone()),
                    detail: serde_json::json!({"login": login}),
                    ..Default::default()
                }])
                .await?;
            return Err(ServiceError::Denied(reason));
        }
        self.mint_token(&actor.login, login).await
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
