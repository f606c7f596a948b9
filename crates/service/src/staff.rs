//! Staff accounts: who may act, in which role (seed 000 Art. 8-1; seed 003 Arts. 4, 5, 17).
//! Passwords are stored as Argon2id hashes; API tokens as SHA-256 hashes, revocable.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use mamori_policy::Action;
use mamori_store::{AuditDraft, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError};

/// Logins are short, typeable and safe in URLs and logs.
pub fn check_login(login: &str) -> Result<()> {
    let ok = (2..=32).contains(&login.len())
        && login.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && login.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' || c == '.'
        });
    if ok {
        Ok(())
    } else {
        Err(ServiceError::BadInput(format!(
            "login: {login:?} is not a valid login: use 2–32 lower-case letters, digits, '.', '_' or '-', starting with a letter (e.g. sato)"
        )))
    }
}

pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 10 {
        return Err(ServiceError::BadInput(
            "password: must be at least 10 characters; set MAMORI_PASSWORD or type it at the prompt".into(),
        ));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Failed(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffInfo {
    pub login: String,
    pub role: String,
    pub name: Option<String>,
    pub created_at: String,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewToken {
    pub login: String,
    pub token_id: String,
    /// Shown once; only its hash is stored.
    pub token: String,
}

/// Hash of an API token as stored.
pub fn token_hash(token: &str) -> String {
    mamori_store::crypto::sha256_hex(token.as_bytes())
}

impl Mamori {
    /// `mamori staff add`. `actor` is `None` when run by whoever holds the data folder (the
    /// set-up administrator at the console); otherwise the actor needs the `staff` action.
    pub async fn staff_add(
        &self,
        actor: Option<&Actor>,
        login: &str,
        role: &str,
        name: Option<&str>,
        password: &str,
    ) -> Result<StaffInfo> {
        let by = match actor {
            Some(a) => {
                self.require(a, Action::Staff, "staff.add").await?;
                a.login.clone()
            }
            None => "local-admin".to_string(),
        };
        check_login(login)?;
        let policy = self.policy();
        if policy.role(role).is_none() {
            return Err(ServiceError::BadInput(format!(
                "--role: {role:?} is not a role of this policy: use one of {}",
                mamori_policy::Policy::ids(&policy.roles, |r| r.id.as_str())
            )));
        }
        if let Some(n) = name
            && (n.chars().any(char::is_control) || n.chars().count() > 100)
        {
            return Err(ServiceError::BadInput(
                "--name: use up to 100 characters without control characters".into(),
            ));
        }
        check_password(password)?;
        if self.store.staff(login).await?.is_some() {
            return Err(ServiceError::BadInput(format!(
                "login: staff member {login:?} exists already: choose another login"
            )));
        }
        let hash = hash_password(password)?;
        self.store
            .write(
                vec![Store::insert_staff(login, role, name, Some(&hash))],
                vec![AuditDraft {
                    actor: by,
                    action: "staff.add".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "role": role}),
                    ..Default::default()
                }],
            )
            .await?;
        let row =
            self.store.staff(login).await?.ok_or_else(|| {
                ServiceError::Failed("the new staff member was not stored".into())
            })?;
        Ok(StaffInfo {
            login: row.login,
            role: row.role,
            name: row.name,
            created_at: row.created_at,
            disabled: row.disabled,
        })
    }

    /// `mamori staff list --as LOGIN`: every role may see who the staff are (no personal data
    /// of principals); the list is audited like every read of records.
    pub async fn staff_list(&self, actor: &Actor) -> Result<Vec<StaffInfo>> {
        let rows = self.store.staff_list().await?;
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "staff.list".into(),
                decision: "allow".into(),
                ..Default::default()
            }])
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| StaffInfo {
                login: r.login,
                role: r.role,
                name: r.name,
                created_at: r.created_at,
                disabled: r.disabled,
            })
            .collect())
    }

    /// `mamori staff token LOGIN`: a new API token for that staff member (printed once).
    pub async fn staff_token(&self, login: &str) -> Result<NewToken> {
        if self.store.staff(login).await?.is_none() {
            return Err(ServiceError::NotFound(format!(
                "LOGIN: there is no staff member {login:?}: add them with `mamori staff add`"
            )));
        }
        let id = mamori_store::crypto::random_hex(6);
        let token = format!("mmr_{}", mamori_store::crypto::random_hex(32));
        self.store
            .write(
                vec![Store::insert_token(&id, login, &token_hash(&token))],
                vec![AuditDraft {
                    actor: "local-admin".into(),
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
}
