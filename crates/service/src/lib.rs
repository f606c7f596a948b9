//! Use cases: one function per thing a user does. The only place that combines the rules
//! (`mamori-domain`, `mamori-policy`, `mamori-calendar`) with storage (`mamori-store`), so the
//! CLI and the HTTP API never disagree.
//!
//! Every use case takes the acting staff member (`actor`, the `--as` login) first, decides by
//! that member's role, and records the decision, allowed or denied, on the audit log in the same
//! group commit as the write it describes.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod audit;
pub mod auth;
pub mod complaint;
pub mod demo;
pub mod governance;
pub mod import;
pub mod incident;
pub mod ledger;
pub mod policy;
pub mod portal;
pub mod principal;
pub mod provision;
pub mod request;
pub mod retention;
mod sealed_text;
pub mod staff;
pub mod student;
pub mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use mamori_policy::{Action, Policy, Role};
use mamori_store::{AuditDraft, Store, StoreError};
use serde::Serialize;

pub use mamori_policy as policy_model;
pub use mamori_store as store;

/// Errors as people see them: one line, and the exit code / HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input or usage: exit 2, HTTP 422. The message names the field and what to do.
    #[error("{0}")]
    BadInput(String),
    /// Something named does not exist: exit 2, HTTP 404.
    #[error("{0}")]
    NotFound(String),
    /// Denied by policy: exit 3, HTTP 403. The message is the rule, without the `denied:` prefix.
    #[error("{0}")]
    Denied(String),
    /// Not signed in / unknown staff: exit 3, HTTP 401.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many attempts from this client: HTTP 429 (sign-in throttling, issue 20).
    #[error("{0}")]
    Throttled(String),
    /// It failed (verification found tampering, a record does not open): exit 1, HTTP 500.
    #[error("{0}")]
    Failed(String),
    /// The storage cannot be used just now (a full disk, the database server unreachable or
    /// restarting, a key store that refuses writes): nothing was written; exit 1, HTTP 503. The
    /// same running Mamori carries on once the fault is gone (issue 20).
    #[error("{0}")]
    Unavailable(String),
}

impl ServiceError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ServiceError::BadInput(_) | ServiceError::NotFound(_) => 2,
            ServiceError::Denied(_)
            | ServiceError::Unauthenticated(_)
            | ServiceError::Throttled(_) => 3,
            ServiceError::Failed(_) | ServiceError::Unavailable(_) => 1,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Input(m) | StoreError::Conflict(m) => ServiceError::BadInput(m),
            StoreError::NotFound(m) => ServiceError::NotFound(m),
            StoreError::Unavailable(m) => ServiceError::Unavailable(m),
            other => ServiceError::Failed(other.to_string()),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// A staff member acting, as the role decides.
#[derive(Debug, Clone)]
pub struct Actor {
    pub login: String,
    pub role: Role,
}

/// Where the data is.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

/// An open Mamori: the store and the policy versions.
#[derive(Clone)]
pub struct Mamori {
    store: Store,
    /// Parsed policy versions by version id (principals keep the version they were told).
    versions: Arc<RwLock<HashMap<String, Arc<Policy>>>>,
    current: Arc<RwLock<(String, Arc<Policy>)>>,
}

impl std::fmt::Debug for Mamori {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mamori")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub data_dir: String,
    pub backend: &'static str,
    pub policy_version: String,
    pub preset: Option<String>,
    pub admin: Option<String>,
    pub master_key: String,
}

/// "principal ID" for a message about an id that names nobody — or, when what was given is
/// not shaped like an id (a prefix of letters, `_`, letters and digits), "principal with that
/// id": a name or an address typed where an id belongs is never repeated (issue 20).
pub(crate) fn principal_ref(id: &str) -> String {
    let shaped = id.split_once('_').is_some_and(|(prefix, rest)| {
        (1..=4).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && (1..=40).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if shaped {
        format!("principal {id}")
    } else {
        "principal with that id (an id is p_ followed by letters and digits)".to_string()
    }
}

/// Today in Japan (policy effective dates are Japan dates).
pub fn today_jst() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(mamori_calendar::japan_tz())
        .date()
}

impl Mamori {
    /// `mamori init`: create the data folder, keys, database, the first policy version and
    /// (optionally) the first admin.
    pub async fn init(
        cfg: &Config,
        policy_text: &str,
        policy_name: &str,
        preset: Option<&str>,
        admin: Option<(&str, &str)>,
    ) -> Result<(Mamori, InitReport)> {
        let policy = Policy::parse(policy_text, policy_name)
            .map_err(|e| ServiceError::BadInput(e.to_string()))?;
        if let Some((login, password)) = admin {
            staff::check_login(login)?;
            staff::check_password(password)?;
        }
        let store = Store::init(&cfg.data_dir, cfg.database_url.as_deref()).await?;
        let effective = today_jst().to_string();
        let mut stmts = vec![Store::insert_policy_version(
            &policy.version,
            &effective,
            "init",
            policy_text,
        )];
        let mut audit = vec![AuditDraft {
            actor: "init".into(),
            action: "policy.apply".into(),
            decision: "done".into(),
            detail: serde_json::json!({"version": policy.version, "effective_on": effective}),
            ..Default::default()
        }];
        if let Some(p) = preset {
            stmts.push(Store::set_meta("preset", p));
        }
        if let Some((login, password)) = admin {
            let hash = staff::hash_password(password)?;
            stmts.push(Store::insert_staff(
                store.keys(),
                login,
                "admin",
                None,
                Some(&hash),
            ));
            audit.push(AuditDraft {
                actor: "init".into(),
                action: "staff.add".into(),
                decision: "done".into(),
                detail: serde_json::json!({"login": login, "role": "admin"}),
                ..Default::default()
            });
        }
        store.write(stmts, audit).await?;
        let m = Mamori::from_store(store).await?;
        let report = InitReport {
            data_dir: cfg.data_dir.display().to_string(),
            backend: m.store.backend().as_str(),
            policy_version: policy.version.clone(),
            preset: preset.map(str::to_string),
            admin: admin.map(|(l, _)| l.to_string()),
            master_key: if std::env::var(mamori_store::MASTER_KEY_ENV)
                .is_ok_and(|v| !v.trim().is_empty())
            {
                format!("from {}", mamori_store::MASTER_KEY_ENV)
            } else {
                cfg.data_dir
                    .join(mamori_store::MASTER_KEY_FILE)
                    .display()
                    .to_string()
            },
        };
        Ok((m, report))
    }

    pub async fn open(cfg: &Config) -> Result<Mamori> {
        let store = Store::open(&cfg.data_dir, cfg.database_url.as_deref()).await?;
        Mamori::from_store(store).await
    }

    async fn from_store(store: Store) -> Result<Mamori> {
        let m = Mamori {
            store,
            versions: Arc::new(RwLock::new(HashMap::new())),
            current: Arc::new(RwLock::new((
                String::new(),
                Arc::new(placeholder_policy()?),
            ))),
        };
        m.reload_policy().await?;
        Ok(m)
    }

    /// Load every stored policy version and choose the one in effect today.
    pub async fn reload_policy(&self) -> Result<()> {
        let rows = self.store.policy_versions().await?;
        let today = today_jst().to_string();
        let mut map = HashMap::new();
        let mut current: Option<(String, Arc<Policy>)> = None;
        for r in &rows {
            let p = Arc::new(
                Policy::parse(&r.toml, &format!("stored policy {}", r.version))
                    .map_err(|e| ServiceError::Failed(e.to_string()))?,
            );
            map.insert(r.version.clone(), p.clone());
            if r.effective_on <= today {
                current = Some((r.version.clone(), p));
            }
        }
        let current = current
            .or_else(|| {
                rows.first()
                    .and_then(|r| map.get(&r.version).map(|p| (r.version.clone(), p.clone())))
            })
            .ok_or_else(|| {
                ServiceError::Failed("the database holds no policy: run `mamori init`".into())
            })?;
        if let Ok(mut v) = self.versions.write() {
            *v = map;
        }
        if let Ok(mut c) = self.current.write() {
            *c = current;
        }
        Ok(())
    }

    /// The policy in effect now.
    pub fn policy(&self) -> Arc<Policy> {
        self.current
            .read()
            .map(|c| c.1.clone())
            .unwrap_or_else(|p| p.into_inner().1.clone())
    }

    pub fn policy_version(&self) -> String {
        self.current
            .read()
            .map(|c| c.0.clone())
            .unwrap_or_else(|p| p.into_inner().0.clone())
    }

    /// A stored policy version (the one a principal was told), or the current one.
    pub fn policy_at(&self, version: &str) -> Arc<Policy> {
        self.versions
            .read()
            .ok()
            .and_then(|v| v.get(version).cloned())
            .unwrap_or_else(|| self.policy())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The staff member acting (`--as LOGIN`), with the role the current policy gives them.
    pub async fn actor(&self, login: &str) -> Result<Actor> {
        let row = self.store.staff(login).await?.ok_or_else(|| {
            ServiceError::Unauthenticated(format!(
                "--as: there is no staff member {login:?}: `mamori staff list --as ADMIN` shows who there is"
            ))
        })?;
        self.actor_of(row)
    }

    /// The actor for a staff record: refused when disabled, with the current policy's role.
    pub(crate) fn actor_of(&self, row: mamori_store::StaffRow) -> Result<Actor> {
        let login = row.login.as_str();
        if row.disabled {
            return Err(ServiceError::Unauthenticated(format!(
                "--as: staff member {login} is disabled"
            )));
        }
        let role = self.policy().role(&row.role).cloned().ok_or_else(|| {
            ServiceError::Failed(format!(
                "staff member {login} has role {} which the current policy does not define",
                row.role
            ))
        })?;
        Ok(Actor {
            login: row.login.clone(),
            role,
        })
    }

    /// Gate a use case on the actor's role; a denial is audited and returned.
    pub async fn require(&self, actor: &Actor, action: Action, what: &str) -> Result<()> {
        match mamori_domain::access::may(&actor.role, action) {
            Ok(()) => Ok(()),
            Err(reason) => {
                let reason = reason.to_string();
                self.store
                    .audit(vec![AuditDraft {
                        actor: actor.login.clone(),
                        action: what.into(),
                        decision: "deny".into(),
                        reason: Some(reason.clone()),
                        ..Default::default()
                    }])
                    .await?;
                Err(ServiceError::Denied(reason))
            }
        }
    }

    /// `mamori status`: counts, no personal values.
    pub async fn status(&self) -> Result<serde_json::Value> {
        let mut m = serde_json::Map::new();
        for (k, v) in self.store.counts().await? {
            m.insert(k.to_string(), v.into());
        }
        m.insert("policy_version".into(), self.policy_version().into());
        m.insert(
            "organization".into(),
            self.policy().organization.name.ja.clone().into(),
        );
        m.insert("backend".into(), self.store.backend().as_str().into());
        if let Some(p) = self.store.meta("preset").await? {
            m.insert("preset".into(), p.into());
        }
        Ok(serde_json::Value::Object(m))
    }
}

fn placeholder_policy() -> Result<Policy> {
    let text = mamori_policy::preset("chiba-ia").unwrap_or_default();
    Policy::parse(text, "chiba-ia").map_err(|e| ServiceError::Failed(e.to_string()))
}

/// The data folder from `--data` / `MAMORI_DATA`, default `./mamori-data`.
pub fn default_data_dir() -> PathBuf {
    Path::new("mamori-data").to_path_buf()
}
