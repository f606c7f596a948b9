//! Staff accounts: who may act, in which role (seed 000 Art. 8-1; seed 003 Arts. 4, 5, 17).
//! Passwords are stored as Argon2id hashes; API tokens as SHA-256 hashes, revocable.
//!
//! Separation of duties (issue 20, "One person must not be enough"): the administrator manages
//! the system, never the data. An account the administrator creates has no password: the
//! person sets their own through a one-time setup link (valid [`SETUP_HOURS`] hours) at
//! `/console/setup/…`; a forgotten password is reset the same way (`mamori staff password`),
//! so the administrator never knows anyone's password. Every creation, invitation, reset,
//! unlock and re-enabling is an audit entry (`staff.add`, `staff.invite`, `staff.password`,
//! `staff.unlock`, `staff.enable`) whose detail names the login and the role, never a password,
//! for the manager's review. Only the holder of the data folder (the CLI without `--as`, which
//! has the master key and so everything anyway) may set a password directly
//! (`--password-from-env`, `mamori init --admin`, the demo).
//!
//! Argon2id runs on the blocking pool behind a semaphore sized to the cores, so a flood of
//! sign-ins queues for the hash instead of stalling every other request.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use mamori_policy::Action;
use mamori_store::crypto::random_hex;
use mamori_store::{AuditDraft, Store};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::{Actor, Mamori, Result, ServiceError};

/// How long a setup link works (DESIGN.md "Interfaces of the second round": 72 hours).
pub const SETUP_HOURS: i64 = 72;

/// The path of a setup link's console page (the token follows).
pub const SETUP_PATH: &str = "/console/setup/";

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
            "password: must be at least 10 characters: choose a longer one".into(),
        ));
    }
    if password.chars().count() > 1000 {
        return Err(ServiceError::BadInput(
            "password: must be at most 1000 characters".into(),
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

/// Argon2 computations at once: the cores, less one left for everything else (at least one).
pub fn argon2_permits() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

static ARGON2: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(argon2_permits()));

/// A hash of a random password with the same parameters as real ones: an unknown login, a
/// disabled account or one without a password is checked against it, so every failed sign-in
/// costs the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&random_hex(16)).unwrap_or_default());

async fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = ARGON2
        .acquire()
        .await
        .map_err(|e| ServiceError::Failed(format!("password check: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Failed(format!("password check: {e}")))
}

/// [`hash_password`] on the blocking pool, at most [`argon2_permits`] at once.
pub async fn hash_password_bounded(password: &str) -> Result<String> {
    let p = zeroize::Zeroizing::new(password.to_string());
    bounded(move || hash_password(&p)).await?
}

/// [`verify_password`] on the blocking pool, at most [`argon2_permits`] at once; `None` (no
/// usable hash) is checked against a dummy hash and is always `false`.
pub async fn verify_password_bounded(password: &str, hash: Option<String>) -> Result<bool> {
    let p = zeroize::Zeroizing::new(password.to_string());
    let real = hash.is_some();
    let h = hash.unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = bounded(move || verify_password(&p, &h)).await?;
    Ok(ok && real)
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffInfo {
    pub login: String,
    pub role: String,
    pub name: Option<String>,
    pub created_at: String,
    pub disabled: bool,
    /// Whether the person has set a password (an invited account has not, until they use
    /// their setup link).
    pub password_set: bool,
}

impl From<mamori_store::StaffRow> for StaffInfo {
    fn from(r: mamori_store::StaffRow) -> Self {
        StaffInfo {
            password_set: r.password_hash.is_some(),
            login: r.login,
            role: r.role,
            name: r.name,
            created_at: r.created_at,
            disabled: r.disabled,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NewToken {
    pub login: String,
    pub token_id: String,
    /// Shown once; only its hash is stored.
    pub token: String,
}

/// A one-time setup link for a staff member's password (shown once; only its hash is kept).
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub login: String,
    pub role: String,
    /// The console page where the person sets their password: `/console/setup/<token>`
    /// (prefix it with the server's address).
    pub setup_path: String,
    pub expires_at: String,
}

/// The outcome of `staff unlock` / `staff enable`.
#[derive(Debug, Clone, Serialize)]
pub struct StaffChanged {
    pub login: String,
    pub role: String,
    pub done: &'static str,
}

/// Hash of an API token as stored.
pub fn token_hash(token: &str) -> String {
    mamori_store::crypto::sha256_hex(token.as_bytes())
}

fn setup_expired() -> ServiceError {
    ServiceError::BadInput(
        "setup link: unknown, used or expired: ask the administrator for a new one (`mamori staff password LOGIN`)".into(),
    )
}

impl Mamori {
    /// Who acts: the staff administrator (`staff` action), or the holder of the data folder.
    async fn staff_admin(&self, actor: Option<&Actor>, what: &str) -> Result<String> {
        match actor {
            Some(a) => {
                self.require(a, Action::Staff, what).await?;
                Ok(a.login.clone())
            }
            None => Ok("local-admin".to_string()),
        }
    }

    fn check_new_staff(&self, login: &str, role: &str, name: Option<&str>) -> Result<()> {
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
        Ok(())
    }

    async fn existing(&self, login: &str) -> Result<mamori_store::StaffRow> {
        self.store.staff(login).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "LOGIN: there is no staff member {login:?}: `mamori staff list --as LOGIN` shows who there is"
            ))
        })
    }

    /// A fresh setup link for `login`: its statements (voiding earlier links) and what to show.
    fn new_setup(login: &str, role: &str) -> Result<(Vec<mamori_store::Stmt>, Invitation)> {
        let token = random_hex(32);
        let expires_at = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(SETUP_HOURS))
            .map_err(|e| ServiceError::Failed(e.to_string()))?
            .to_string();
        let stmts = vec![
            Store::void_setups_of(login),
            Store::insert_setup(&token_hash(&token), login, &expires_at),
        ];
        Ok((
            stmts,
            Invitation {
                login: login.to_string(),
                role: role.to_string(),
                setup_path: format!("{SETUP_PATH}{token}"),
                expires_at,
            },
        ))
    }

    /// `mamori staff add LOGIN --role ROLE --password-from-env`: an account with a password,
    /// for the holder of the data folder only (`actor` `None`: the CLI without `--as`, the demo).
    /// A staff administrator invites instead ([`Mamori::staff_invite`]): they must not know the
    /// password of an account they create.
    pub async fn staff_add(
        &self,
        actor: Option<&Actor>,
        login: &str,
        role: &str,
        name: Option<&str>,
        password: &str,
    ) -> Result<StaffInfo> {
        if let Some(a) = actor {
            self.require(a, Action::Staff, "staff.add").await?;
            return Err(ServiceError::BadInput(
                "password: an administrator does not choose another's password: invite them (`mamori staff invite LOGIN --role ROLE`) and they set it at the setup link".into(),
            ));
        }
        self.check_new_staff(login, role, name)?;
        check_password(password)?;
        if self.store.staff(login).await?.is_some() {
            return Err(ServiceError::BadInput(format!(
                "login: staff member {login:?} exists already: choose another login"
            )));
        }
        let hash = hash_password_bounded(password).await?;
        self.store
            .write(
                vec![Store::insert_staff(
                    self.store.keys(),
                    login,
                    role,
                    name,
                    Some(&hash),
                )],
                vec![AuditDraft {
                    actor: "local-admin".into(),
                    action: "staff.add".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "role": role, "password": "set by the holder of the data folder"}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(self.existing(login).await?.into())
    }

    /// `mamori staff invite LOGIN --role ROLE [--name TEXT]` (and `staff add` without
    /// `--password-from-env`, `POST /api/v1/staff`, the console): an account without a password
    /// and a one-time setup link, valid 72 hours, where the person sets their own.
    pub async fn staff_invite(
        &self,
        actor: Option<&Actor>,
        login: &str,
        role: &str,
        name: Option<&str>,
    ) -> Result<Invitation> {
        let by = self.staff_admin(actor, "staff.invite").await?;
        self.check_new_staff(login, role, name)?;
        if self.store.staff(login).await?.is_some() {
            return Err(ServiceError::BadInput(format!(
                "login: staff member {login:?} exists already: choose another login"
            )));
        }
        let (mut stmts, inv) = Self::new_setup(login, role)?;
        stmts.insert(
            0,
            Store::insert_staff(self.store.keys(), login, role, name, None),
        );
        self.store
            .write(
                stmts,
                vec![
                    AuditDraft {
                        actor: by.clone(),
                        action: "staff.add".into(),
                        decision: "done".into(),
                        detail: serde_json::json!({"login": login, "role": role, "password": "set by the person at a setup link"}),
                        ..Default::default()
                    },
                    AuditDraft {
                        actor: by,
                        action: "staff.invite".into(),
                        decision: "done".into(),
                        detail: serde_json::json!({"login": login, "role": role, "expires_at": inv.expires_at}),
                        ..Default::default()
                    },
                ],
            )
            .await?;
        Ok(inv)
    }

    /// `mamori staff password LOGIN`: reset a forgotten password. The old one stops working at
    /// once, the member's sessions end, and a new setup link (valid 72 hours) lets the person
    /// choose a new one; the administrator never learns it.
    pub async fn staff_password_reset(
        &self,
        actor: Option<&Actor>,
        login: &str,
    ) -> Result<Invitation> {
        let by = self.staff_admin(actor, "staff.password").await?;
        let row = self.existing(login).await?;
        let (mut stmts, inv) = Self::new_setup(login, &row.role)?;
        stmts.extend([
            Store::clear_password(login),
            Store::delete_sessions_of(login),
            Store::clear_sign_in_failures(&self.sign_in_key("login", login)),
        ]);
        self.store
            .write(
                stmts,
                vec![AuditDraft {
                    actor: by,
                    action: "staff.password".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "role": row.role, "how": "reset: a new setup link", "expires_at": inv.expires_at}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(inv)
    }

    /// `mamori staff password LOGIN --password-from-env`: the holder of the data folder sets a
    /// password directly (the first administrator locked out, the demo).
    pub async fn staff_set_password(&self, login: &str, password: &str) -> Result<StaffInfo> {
        let row = self.existing(login).await?;
        check_password(password)?;
        let hash = hash_password_bounded(password).await?;
        self.store
            .write(
                vec![
                    Store::set_password(login, &hash),
                    Store::void_setups_of(login),
                    Store::delete_sessions_of(login),
                    Store::clear_sign_in_failures(&self.sign_in_key("login", login)),
                ],
                vec![AuditDraft {
                    actor: "local-admin".into(),
                    action: "staff.password".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "role": row.role, "how": "set by the holder of the data folder"}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(self.existing(login).await?.into())
    }

    /// The console's setup page: the person whose link it is sets their password (once; the
    /// link is void afterwards, and after 72 hours).
    pub async fn setup_password(&self, token: &str, password: &str) -> Result<StaffInfo> {
        let hash_of_token = token_hash(token.trim());
        let row = self
            .store
            .setup(&hash_of_token)
            .await?
            .ok_or_else(setup_expired)?;
        let live = row.used_at.is_none()
            && row
                .expires_at
                .parse::<jiff::Timestamp>()
                .is_ok_and(|t| t > jiff::Timestamp::now());
        if !live {
            return Err(setup_expired());
        }
        check_password(password)?;
        let staff = self.existing(&row.login).await?;
        let hash = hash_password_bounded(password).await?;
        self.store
            .write(
                vec![
                    Store::use_setup(&hash_of_token),
                    Store::set_password(&row.login, &hash),
                    Store::clear_sign_in_failures(&self.sign_in_key("login", &row.login)),
                ],
                vec![AuditDraft {
                    actor: row.login.clone(),
                    action: "staff.password".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": row.login, "role": staff.role, "how": "set by the person at their setup link"}),
                    ..Default::default()
                }],
            )
            .await
            .map_err(|e| match e {
                mamori_store::StoreError::Conflict(_) => setup_expired(),
                other => other.into(),
            })?;
        Ok(self.existing(&row.login).await?.into())
    }

    /// "Change my password" (console, `POST /api/v1/me/password`): the signed-in member gives
    /// their current password and a new one; their other sessions end.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let row = self.existing(&actor.login).await?;
        if !verify_password_bounded(current, row.password_hash.clone()).await? {
            self.store
                .audit(vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.password".into(),
                    decision: "deny".into(),
                    reason: Some("the current password given is wrong".into()),
                    ..Default::default()
                }])
                .await?;
            return Err(ServiceError::BadInput(
                "current_password: is wrong: type the password you signed in with".into(),
            ));
        }
        check_password(new).map_err(|_| {
            ServiceError::BadInput(
                "new_password: must be at least 10 characters: choose a longer one".into(),
            )
        })?;
        let hash = hash_password_bounded(new).await?;
        let mut stmts = vec![Store::set_password(&actor.login, &hash)];
        if let Some(keep) = keep_session {
            stmts.push(Store::delete_other_sessions_of(
                &actor.login,
                &mamori_store::crypto::sha256_hex(keep.as_bytes()),
            ));
        } else {
            stmts.push(Store::delete_sessions_of(&actor.login));
        }
        self.store
            .write(
                stmts,
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.password".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": actor.login, "role": row.role, "how": "changed by the person"}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(())
    }

    /// `mamori staff unlock LOGIN`: forget the failed sign-ins of that login from every
    /// address, so a member who mistyped can sign in again at once.
    pub async fn staff_unlock(&self, actor: Option<&Actor>, login: &str) -> Result<StaffChanged> {
        let by = self.staff_admin(actor, "staff.unlock").await?;
        let row = self.existing(login).await?;
        self.store
            .write(
                vec![
                    Store::clear_sign_in_failures(&self.sign_in_key("login", login)),
                    Store::login_succeeded(login),
                ],
                vec![AuditDraft {
                    actor: by,
                    action: "staff.unlock".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "role": row.role}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(StaffChanged {
            login: login.into(),
            role: row.role,
            done: "unlocked",
        })
    }

    /// `mamori staff enable LOGIN`: a disabled member may act again (their API tokens stay
    /// revoked: they make new ones).
    pub async fn staff_enable(&self, actor: Option<&Actor>, login: &str) -> Result<StaffChanged> {
        let by = self.staff_admin(actor, "staff.enable").await?;
        let row = self.existing(login).await?;
        if !row.disabled {
            return Err(ServiceError::BadInput(format!(
                "LOGIN: {login} is not disabled"
            )));
        }
        self.store
            .write(
                vec![Store::enable_staff(self.store.keys(), &row)],
                vec![AuditDraft {
                    actor: by,
                    action: "staff.enable".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "role": row.role}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(StaffChanged {
            login: login.into(),
            role: row.role,
            done: "enabled",
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
        Ok(rows.into_iter().map(StaffInfo::from).collect())
    }

    /// A new API token for `login`, recorded as made by `by`.
    pub(crate) async fn mint_token(&self, by: &str, login: &str) -> Result<NewToken> {
        let id = random_hex(6);
        let token = format!("mmr_{}", random_hex(32));
        self.store
            .write(
                vec![Store::insert_token(&id, login, &token_hash(&token))],
                vec![AuditDraft {
                    actor: by.into(),
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

    /// An API token for the holder of the data folder's own use (the demo, tests). The CLI's
    /// `mamori staff token LOGIN` goes through [`Mamori::own_token`] instead.
    pub async fn staff_token(&self, login: &str) -> Result<NewToken> {
        self.existing(login).await?;
        self.mint_token("local-admin", login).await
    }

    /// `mamori staff token LOGIN`: a token only for oneself, so the member's own password is
    /// asked (MAMORI_PASSWORD or a prompt). A wrong password answers like a failed sign-in.
    pub async fn own_token(&self, login: &str, password: &str) -> Result<NewToken> {
        let row = self.store.staff(login).await?;
        let hash = row
            .as_ref()
            .filter(|r| !r.disabled)
            .and_then(|r| r.password_hash.clone());
        if !verify_password_bounded(password, hash).await? {
            return Err(ServiceError::Unauthenticated(
                "login or password is wrong: `mamori staff token LOGIN` asks LOGIN's own password (MAMORI_PASSWORD or the prompt)".into(),
            ));
        }
        self.mint_token(login, login).await
    }
}
