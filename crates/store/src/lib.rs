//! Persistence: SQLite (default) or PostgreSQL, envelope encryption, and the audit chain.
//!
//! Like kanidm's backend, the store enforces no rules about content: it keeps what `service`
//! decided, sealed, with its audit entries, and answers queries. Which purpose may read what is
//! decided in `mamori-domain`. What it guarantees: personal values are only ever written sealed
//! (see [`crypto`]); every write goes through the one group-commit writer together with its
//! audit entries ([`Store::write`]); the audit log verifies ([`Store::verify_audit`]).
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
pub mod backup;
pub mod complaints;
pub mod crypto;
pub mod db;
pub mod facts;
pub mod files;
pub mod governance;
pub mod head;
pub mod incidents;
mod provision;
mod requests;
mod retention;
pub mod rotation;
pub mod signin;
pub mod students;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

pub use audit::{AuditDraft, AuditEntry, Tamper, VerifyReport};
pub use crypto::{Key32, Keys, Wrapped};
pub use db::{Backend, Location, Stmt, Val};
pub use provision::{ProvisionRow, ReviewRow};
pub use requests::{DisposalRow, LinkedRecords, NewRequest, RequestRow, StubbedText};

use crypto::AuditSigner;
use writer::WriterHandle;

pub const MASTER_KEY_FILE: &str = "master.key";
pub const SIGNING_KEY_FILE: &str = "audit-signing.key";
pub const HEAD_FILE: &str = "audit-head.json";
pub const MASTER_KEY_ENV: &str = "MAMORI_MASTER_KEY";
/// The next master key while a rotation is under way.
pub const MASTER_KEY_NEXT_FILE: &str = "master.key.new";

/// Whether the master key comes from `MAMORI_MASTER_KEY` rather than the key file.
pub fn master_from_env() -> bool {
    std::env::var(MASTER_KEY_ENV).is_ok_and(|v| !v.trim().is_empty())
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad input: a clear line for the person who typed it.
    #[error("{0}")]
    Input(String),
    /// The write conflicts with what is stored (a duplicate, a record that changed meanwhile).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Crypto(String),
    #[error("audit log verification failed: {0}")]
    Tampered(#[from] Tamper),
    /// A record an access decision rests on does not carry Mamori's MAC: it was changed outside
    /// Mamori ([`facts`]). The message names the principal or staff member, never a value.
    #[error("{0}")]
    Changed(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Unavailable(db::describe("database error", &e.to_string()))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Now, as stored: RFC 3339 in UTC.
pub fn now_string() -> String {
    jiff::Timestamp::now().to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub login: String,
    pub role: String,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub created_at: String,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRow {
    pub id: String,
    pub channel: String,
    pub created_at: String,
    pub last_activity_at: String,
    pub policy_version: String,
    pub status: String,
    /// Active suspensions, as Mamori counted them (bound by the principal's MAC, [`facts`]).
    pub suspension_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRow {
    pub category: String,
    pub record_id: String,
    pub ciphertext: Vec<u8>,
    pub updated_at: String,
}

/// A principal as a read sees them ([`Store::principal_for_read`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForRead {
    pub principal: PrincipalRow,
    pub fields: Vec<FieldRow>,
    /// Purposes with an active consent.
    pub consented: Vec<String>,
    /// Active suspensions (`None` = every use).
    pub suspensions: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: String,
    pub purpose: Option<String>,
    pub recipient: Option<String>,
    pub given_at: String,
    pub withdrawn_at: Option<String>,
    pub channel: String,
    pub evidence: Option<String>,
    pub policy_version: String,
    /// Given after being told the country, its regime and the recipient's measures (APPI 28(2)).
    pub informed_abroad: bool,
    /// The consent to acquire special-care-required data (APPI 20(2)): a structured fact, not
    /// a prefix of the evidence text (issue 20).
    pub special_care: bool,
}

impl ConsentRow {
    /// The facts its MAC binds ([`facts::consent`]).
    pub fn facts<'a>(&'a self, principal_id: &'a str) -> facts::ConsentFacts<'a> {
        facts::ConsentFacts {
            id: &self.id,
            principal_id,
            purpose: self.purpose.as_deref(),
            recipient: self.recipient.as_deref(),
            given_at: &self.given_at,
            channel: &self.channel,
            policy_version: &self.policy_version,
            special_care: self.special_care,
            withdrawn_at: self.withdrawn_at.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionRow {
    pub version: String,
    pub effective_on: String,
    pub applied_at: String,
    pub applied_by: String,
    pub toml: String,
}

/// An API token as listed: its id, owner and dates; the token and its hash are never read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub login: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// The columns of a row of either driver: `Any`, or SQLite's own on the hot paths
/// (`Store::lite`).
pub(crate) trait Cols {
    fn text(&self, i: usize) -> Result<String>;
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    fn int(&self, i: usize) -> Result<i64>;
    fn bytes(&self, i: usize) -> Result<Vec<u8>>;
}

macro_rules! impl_cols {
    ($row:ty) => {
        impl Cols for $row {
            fn text(&self, i: usize) -> Result<String> {
                Ok(self.try_get::<String, _>(i)?)
            }
            fn opt_text(&self, i: usize) -> Result<Option<String>> {
                Ok(self.try_get::<Option<String>, _>(i)?)
            }
            fn int(&self, i: usize) -> Result<i64> {
                Ok(self.try_get::<i64, _>(i)?)
            }
            fn bytes(&self, i: usize) -> Result<Vec<u8>> {
                Ok(self.try_get::<Vec<u8>, _>(i)?)
            }
        }
    };
}
impl_cols!(AnyRow);
impl_cols!(sqlx::sqlite::SqliteRow);

pub(crate) fn opt_s<R: Cols>(r: &R, i: usize) -> Result<Option<String>> {
    r.opt_text(i)
}
pub(crate) fn s<R: Cols>(r: &R, i: usize) -> Result<String> {
    r.text(i)
}

/// The open store: pools for reads, the writer for writes, and the keys.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite: a pool over the concrete driver for the hot reads (audited reads, data keys,
    /// token sign-in); see [`db::connect_sqlite`].
    lite: Option<sqlx::SqlitePool>,
    /// SQLite: the writer's own connection (its large page cache), also used for an import's
    /// batch of data keys, which must commit before the batch's data.
    write_conn: Option<sqlx::SqlitePool>,
    backend: Backend,
    writer: WriterHandle,
    keys: Arc<Keys>,
    signer: Arc<AuditSigner>,
    data_dir: PathBuf,
    /// SQLite: the database file (audit verification opens its own connection to it).
    data_file: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

fn load_master(data_dir: &Path) -> Result<Keys> {
    if let Ok(v) = std::env::var(MASTER_KEY_ENV)
        && !v.trim().is_empty()
    {
        return Keys::from_master_hex(&v, MASTER_KEY_ENV);
    }
    let text = crypto::read_secret_file(&data_dir.join(MASTER_KEY_FILE))?;
    Keys::from_master_hex(&text, MASTER_KEY_FILE)
}

impl Store {
    /// Whether `data_dir` holds an initialized Mamori.
    pub fn is_initialized(data_dir: &Path) -> bool {
        data_dir.join(SIGNING_KEY_FILE).exists()
    }

    /// Create the data folder (0700), the master key file (0600, unless the key comes from
    /// `MAMORI_MASTER_KEY`), the audit signing key, and the database.
    pub async fn init(data_dir: &Path, database_url: Option<&str>) -> Result<Store> {
        let loc = Location::new(data_dir, database_url)?;
        // A new machine restoring an office's backups: its master key and audit signing key are
        // put in the empty folder first (docs/retention.md), and `init` keeps both, so that the
        // restored log and everything written after it are under the one signing key.
        let placed_key = data_dir.join(SIGNING_KEY_FILE).exists()
            && !data_dir.join(HEAD_FILE).exists()
            && !data_dir.join("mamori.db").exists();
        if Self::is_initialized(data_dir) && !placed_key {
            return Err(StoreError::Input(format!(
                "--data: {} is already initialized; use another folder or remove it first",
                data_dir.display()
            )));
        }
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
        }
        let from_env = std::env::var(MASTER_KEY_ENV).is_ok_and(|v| !v.trim().is_empty());
        if !from_env && !data_dir.join(MASTER_KEY_FILE).exists() {
            crypto::write_secret_file(
                &data_dir.join(MASTER_KEY_FILE),
                &Keys::generate_master_hex(),
            )?;
        }
        let signer = if placed_key {
            AuditSigner::from_hex(&crypto::read_secret_file(&data_dir.join(SIGNING_KEY_FILE))?)?
        } else {
            let signing = AuditSigner::generate_hex();
            crypto::write_secret_file(&data_dir.join(SIGNING_KEY_FILE), &signing)?;
            AuditSigner::from_hex(&signing)?
        };
        let _ = std::fs::write(data_dir.join("audit-signing.pub"), signer.public_hex());
        let _ = loc;
        let store = Self::open_with(data_dir, database_url, false).await?;
        if placed_key && store.audit_head_row().await?.0 > 0 {
            return Err(StoreError::Input(format!(
                "--data: the database of {} already holds an audit log: it is initialized (its head file audit-head.json is missing: see docs/audit.md)",
                data_dir.display()
            )));
        }
        // A new machine's folder is sealed at the first start-up after its restore (the
        // restored log may hold the office's sealing already); a new office's now.
        if !placed_key {
            store.seal_facts_once().await?;
        }
        Ok(store)
    }

    /// Open an initialized data folder (and its database), running pending migrations.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Store> {
        Self::open_with(data_dir, database_url, true).await
    }

    /// `seal`: give rows from before migration 0021 their MACs once ([`facts`]).
    async fn open_with(data_dir: &Path, database_url: Option<&str>, seal: bool) -> Result<Store> {
        let loc = Location::new(data_dir, database_url)?;
        if !Self::is_initialized(data_dir) {
            return Err(StoreError::Input(format!(
                "--data: {} is not a Mamori data folder: run `mamori init --preset chiba-ia` first (or point --data / MAMORI_DATA at it)",
                data_dir.display()
            )));
        }
        let keys = load_master(data_dir)?;
        let signer =
            AuditSigner::from_hex(&crypto::read_secret_file(&data_dir.join(SIGNING_KEY_FILE))?)?;
        let max = match loc.backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = db::connect(&loc, max).await?;
        db::migrate(&pool, loc.backend).await?;
        let signer = Arc::new(signer);
        let (writer_pool, lite, write_conn) = match loc.backend {
            Backend::Sqlite => {
                let w = db::connect_sqlite(&loc, 1, 64).await?;
                (
                    writer::WriterPool::Sqlite(w.clone()),
                    Some(db::connect_sqlite(&loc, max, 2).await?),
                    Some(w),
                )
            }
            Backend::Postgres => (writer::WriterPool::Any(pool.clone()), None, None),
        };
        let writer = WriterHandle::start(
            writer_pool,
            loc.backend,
            signer.clone(),
            data_dir.join(HEAD_FILE),
        );
        if !master_from_env() {
            keys.watch(data_dir);
            // A rotation interrupted by a crash: both key files exist; know both.
            if let Ok(next) = crypto::read_secret_file(&data_dir.join(MASTER_KEY_NEXT_FILE)) {
                keys.add_master_hex(&next, MASTER_KEY_NEXT_FILE, true)?;
            }
        }
        let store = Store {
            pool,
            lite,
            write_conn,
            backend: loc.backend,
            writer,
            keys: Arc::new(keys),
            signer,
            data_dir: data_dir.to_path_buf(),
            data_file: loc.data_file.clone(),
        };
        store.load_blind_key().await?;
        if seal {
            store.seal_facts_once().await?;
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
    pub fn keys(&self) -> &Keys {
        &self.keys
    }
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Run statements and their audit entries as one atomic job in the next group commit.
    /// Returns the audit sequence numbers given to the entries.
    pub async fn write(&self, stmts: Vec<Stmt>, audit: Vec<AuditDraft>) -> Result<Vec<i64>> {
        self.writer.submit(stmts, audit).await
    }

    /// Record audit entries alone (a read, a denial): returns once they are durable.
    pub async fn audit(&self, entries: Vec<AuditDraft>) -> Result<Vec<i64>> {
        self.writer.submit(Vec::new(), entries).await
    }

    pub(crate) async fn rows(&self, sql: &'static str, params: Vec<Val>) -> Result<Vec<AnyRow>> {
        Ok(db::bind(sqlx::query(sql), &params)
            .fetch_all(&self.pool)
            .await?)
    }

    pub(crate) async fn count(&self, sql: &'static str, params: Vec<Val>) -> Result<i64> {
        let rows = self.rows(sql, params).await?;
        match rows.first() {
            Some(r) => Ok(r.try_get::<i64, _>(0)?),
            None => Ok(0),
        }
    }

    // ---- meta -------------------------------------------------------------------------------

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        let rows = self
            .rows("SELECT value FROM meta WHERE key = $1", vec![key.into()])
            .await?;
        rows.first().map(|r| s(r, 0)).transpose()
    }

    pub fn set_meta(key: &str, value: &str) -> Stmt {
        Stmt::new(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), value.into()],
        )
    }

    // ---- policy versions ----------------------------------------------------------------------

    pub fn insert_policy_version(
        version: &str,
        effective_on: &str,
        applied_by: &str,
        toml: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO policy_versions (version, effective_on, applied_at, applied_by, toml) VALUES ($1, $2, $3, $4, $5)",
            vec![
                version.into(),
                effective_on.into(),
                now_string().into(),
                applied_by.into(),
                toml.into(),
            ],
        )
    }

    /// Every stored version, oldest effective date first.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersionRow>> {
        let rows = self
            .rows(
                "SELECT version, effective_on, applied_at, applied_by, toml FROM policy_versions ORDER BY effective_on, applied_at",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PolicyVersionRow {
                    version: s(r, 0)?,
                    effective_on: s(r, 1)?,
                    applied_at: s(r, 2)?,
                    applied_by: s(r, 3)?,
                    toml: s(r, 4)?,
                })
            })
            .collect()
    }

    // ---- staff ------------------------------------------------------------------------------

    pub fn insert_staff(
        keys: &Keys,
        login: &str,
        role: &str,
        name: Option<&str>,
        password_hash: Option<&str>,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO staff (login, role, name, password_hash, created_at, facts_mac) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                login.into(),
                role.into(),
                name.into(),
                password_hash.into(),
                now_string().into(),
                facts::mac(keys, facts::STAFF, &facts::staff(login, role, false)).into(),
            ],
        )
    }

    /// A staff member's record, its role and disabled flag checked against their MAC
    /// ([`facts`]): a record changed outside Mamori is refused.
    pub async fn staff(&self, login: &str) -> Result<Option<StaffRow>> {
        let rows = self
            .rows(
                "SELECT login, role, name, password_hash, created_at, disabled, failed_logins, locked_until, facts_mac FROM staff WHERE login = $1",
                vec![login.into()],
            )
            .await?;
        rows.first()
            .map(|r| checked_staff(&self.keys, r, 8))
            .transpose()
    }

    pub async fn staff_list(&self) -> Result<Vec<StaffRow>> {
        let rows = self
            .rows(
                "SELECT login, role, name, password_hash, created_at, disabled, failed_logins, locked_until FROM staff ORDER BY login",
                vec![],
            )
            .await?;
        rows.iter().map(staff_row).collect()
    }

    pub fn insert_token(id: &str, login: &str, token_hash: &str) -> Stmt {
        Stmt::new(
            "INSERT INTO api_tokens (id, login, token_hash, created_at) VALUES ($1, $2, $3, $4)",
            vec![
                id.into(),
                login.into(),
                token_hash.into(),
                now_string().into(),
            ],
        )
    }

    /// The staff login an unrevoked API token belongs to.
    /// The token's id and its owner's staff record, in one query (every API request asks).
    pub async fn token_staff(&self, token_hash: &str) -> Result<Option<(String, StaffRow)>> {
        const SQL: &str = "SELECT s.login, s.role, s.name, s.password_hash, s.created_at, s.disabled, s.failed_logins, s.locked_until, t.id, s.facts_mac FROM api_tokens t JOIN staff s ON s.login = t.login WHERE t.token_hash = $1 AND t.revoked_at IS NULL";
        fn parse<R: Cols>(keys: &Keys, rows: &[R]) -> Result<Option<(String, StaffRow)>> {
            rows.first()
                .map(|r| Ok((s(r, 8)?, checked_staff(keys, r, 9)?)))
                .transpose()
        }
        match &self.lite {
            Some(lite) => parse(
                &self.keys,
                &sqlx::query(SQL).bind(token_hash).fetch_all(lite).await?,
            ),
            None => parse(&self.keys, &self.rows(SQL, vec![token_hash.into()]).await?),
        }
    }

    pub async fn token_owner(&self, id: &str) -> Result<Option<String>> {
        let rows = self
            .rows(
                "SELECT login FROM api_tokens WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(|r| s(r, 0)).transpose()
    }

    /// API tokens (never their hashes), oldest first: one staff member's, or everyone's.
    pub async fn tokens(&self, login: Option<&str>) -> Result<Vec<TokenRow>> {
        let rows = match login {
            Some(l) => {
                self.rows(
                    "SELECT id, login, created_at, revoked_at FROM api_tokens WHERE login = $1 ORDER BY created_at, id",
                    vec![l.into()],
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT id, login, created_at, revoked_at FROM api_tokens ORDER BY created_at, id",
                    vec![],
                )
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(TokenRow {
                    id: s(r, 0)?,
                    login: s(r, 1)?,
                    created_at: s(r, 2)?,
                    revoked_at: opt_s(r, 3)?,
                })
            })
            .collect()
    }

    pub fn revoke_token(id: &str) -> Stmt {
        Stmt::new(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            vec![id.into(), now_string().into()],
        )
        .expecting(1, "no such unrevoked token")
    }

    /// A failed sign-in: count it, and lock the account until `locked_until` if given.
    pub fn login_failed(login: &str, locked_until: Option<&str>) -> Stmt {
        Stmt::new(
            "UPDATE staff SET failed_logins = failed_logins + 1, locked_until = $2 WHERE login = $1",
            vec![login.into(), locked_until.into()],
        )
    }

    pub fn login_succeeded(login: &str) -> Stmt {
        Stmt::new(
            "UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE login = $1",
            vec![login.into()],
        )
    }

    // ---- sessions ---------------------------------------------------------------------------

    pub fn insert_session(id_hash: &str, login: &str, csrf: &str, expires_at: &str) -> Stmt {
        Stmt::new(
            "INSERT INTO sessions (id_hash, login, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                id_hash.into(),
                login.into(),
                csrf.into(),
                now_string().into(),
                expires_at.into(),
            ],
        )
    }

    pub fn delete_session(id_hash: &str) -> Stmt {
        Stmt::new(
            "DELETE FROM sessions WHERE id_hash = $1",
            vec![id_hash.into()],
        )
    }

    /// (login, csrf token, expires_at) of a session.
    pub async fn session(&self, id_hash: &str) -> Result<Option<(String, String, String)>> {
        let rows = self
            .rows(
                "SELECT login, csrf, expires_at FROM sessions WHERE id_hash = $1",
                vec![id_hash.into()],
            )
            .await?;
        rows.first()
            .map(|r| Ok((s(r, 0)?, s(r, 1)?, s(r, 2)?)))
            .transpose()
    }

    // ---- principals -------------------------------------------------------------------------

    /// Store a new principal's wrapped data key in the key store. Done before the data itself:
    /// a key without data is harmless, data without a key would be lost.
    ///
    /// On SQLite it goes through the writer's own connection, like [`Store::put_data_keys`]: a
    /// write that failed on a shared connection (a full disk) could leave that connection
    /// holding the key store's write lock, and every later registration would wait for it
    /// ("database is locked") until Mamori restarted (issue 20, `faults.rs`).
    pub async fn put_data_key(&self, principal_id: &str, wrapped: &crypto::Wrapped) -> Result<()> {
        const SQL: &str = "INSERT INTO mamori_keys.data_keys (principal_id, wrapped, kek_id, created_at) VALUES ($1, $2, $3, $4)";
        let now = now_string();
        if let Some(w) = &self.write_conn {
            let r = async {
                let mut tx = w.begin().await?;
                sqlx::query(SQL)
                    .bind(principal_id)
                    .bind(wrapped.bytes.as_slice())
                    .bind(wrapped.kek_id.as_str())
                    .bind(now.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await;
            return self.after_write_conn(r).await;
        }
        sqlx::query(SQL)
            .bind(principal_id)
            .bind(wrapped.bytes.as_slice())
            .bind(wrapped.kek_id.as_str())
            .bind(now.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Store many wrapped data keys in one transaction (import): multi-row inserts, one
    /// statement for a batch of 500 instead of one a key.
    pub async fn put_data_keys(&self, keys: &[(String, crypto::Wrapped)]) -> Result<()> {
        let now = now_string();
        let rows = keys
            .iter()
            .map(|(id, wrapped)| {
                vec![
                    Val::from(id.as_str()),
                    Val::from(wrapped.bytes.clone()),
                    Val::from(wrapped.kek_id.as_str()),
                    Val::from(now.as_str()),
                ]
            })
            .collect();
        let stmts = Stmt::insert_many(
            "mamori_keys.data_keys",
            &["principal_id", "wrapped", "kek_id", "created_at"],
            rows,
        );
        if let Some(w) = &self.write_conn {
            let r = async {
                let mut tx = w.begin().await?;
                for s in &stmts {
                    db::bind_sqlite(sqlx::query(s.sql_for(self.backend)), &s.params)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await;
            return self.after_write_conn(r).await;
        }
        let mut tx = self.pool.begin().await?;
        for s in &stmts {
            db::bind(sqlx::query(s.sql_for(self.backend)), &s.params)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A write on the writer's own SQLite connection failed: close that connection rather than
    /// use it again (see `writer::WriterPool::discard`).
    async fn after_write_conn(&self, r: Result<(), sqlx::Error>) -> Result<()> {
        if r.is_err()
            && let Some(w) = &self.write_conn
            && let Ok(c) = w.acquire().await
        {
            let _ = c.close().await;
        }
        Ok(r?)
    }

    /// The principal's data key, from the cache or unwrapped from the key store with the KEK
    /// that wrapped it (a key rewrapped by a rotation in another process is followed).
    pub async fn data_key(&self, principal_id: &str) -> Result<Key32> {
        if let Some(k) = self.keys.cached(principal_id) {
            return Ok(k);
        }
        const SQL: &str =
            "SELECT wrapped, kek_id FROM mamori_keys.data_keys WHERE principal_id = $1";
        fn parse<R: Cols>(row: Option<R>) -> Result<Option<(Vec<u8>, String)>> {
            row.map(|r| Ok((r.bytes(0)?, r.text(1)?))).transpose()
        }
        let row = match &self.lite {
            Some(lite) => parse(
                sqlx::query(SQL)
                    .bind(principal_id)
                    .fetch_optional(lite)
                    .await?,
            )?,
            None => parse(
                sqlx::query(SQL)
                    .bind(principal_id)
                    .fetch_optional(&self.pool)
                    .await?,
            )?,
        };
        let Some((wrapped, kek_id)) = row else {
            return Err(StoreError::NotFound(format!(
                "principal {principal_id} has no data key: their data was erased (or, after a restore, the key backup is not restored yet)"
            )));
        };
        if !self.keys.knows(&kek_id) {
            self.keys.follow_rotation();
        }
        let k = self.keys.unwrap_data_key(principal_id, &wrapped, &kek_id)?;
        self.keys.remember(principal_id, &k);
        Ok(k)
    }

    /// The blind-index key: random, kept wrapped in the key store, so rotating the master key
    /// leaves every blind index and import fingerprint valid.
    async fn load_blind_key(&self) -> Result<()> {
        let select = "SELECT wrapped, kek_id FROM mamori_keys.secrets WHERE name = 'blind_index'";
        let row = sqlx::query(select).fetch_optional(&self.pool).await?;
        let row = match row {
            Some(r) => r,
            None => {
                let (wrapped, kek_id) = self
                    .keys
                    .wrap_secret("blind_index", &Keys::random_secret())?;
                sqlx::query("INSERT INTO mamori_keys.secrets (name, wrapped, kek_id) VALUES ('blind_index', $1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(wrapped)
                    .bind(kek_id)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(select).fetch_one(&self.pool).await?
            }
        };
        let wrapped: Vec<u8> = row.try_get(0)?;
        let kek_id: String = row.try_get(1)?;
        if !self.keys.knows(&kek_id) {
            self.keys.follow_rotation();
        }
        let key = self.keys.unwrap_secret("blind_index", &wrapped, &kek_id)?;
        self.keys.set_blind_key(key);
        Ok(())
    }

    pub fn insert_principal(
        keys: &Keys,
        id: &str,
        channel: &str,
        policy_version: &str,
        at: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO principals (id, channel, created_at, last_activity_at, policy_version, status, facts_mac) VALUES ($1, $2, $3, $3, $4, 'active', $5)",
            vec![
                id.into(),
                channel.into(),
                at.into(),
                policy_version.into(),
                Self::principal_mac(keys, id, channel, policy_version, 0).into(),
            ],
        )
    }

    /// The MAC of a principal's row ([`facts::principal`]).
    pub fn principal_mac(
        keys: &Keys,
        id: &str,
        channel: &str,
        policy_version: &str,
        suspensions: i64,
    ) -> Option<String> {
        facts::mac(
            keys,
            facts::PRINCIPAL,
            &facts::principal(id, channel, policy_version, suspensions),
        )
    }

    /// The MAC of a consent row ([`facts::consent`]).
    pub fn consent_mac(keys: &Keys, c: &facts::ConsentFacts<'_>) -> Option<String> {
        facts::mac(keys, facts::CONSENT, &facts::consent(c))
    }

    pub fn touch_principal(id: &str, at: &str) -> Stmt {
        Stmt::new(
            "UPDATE principals SET last_activity_at = $2 WHERE id = $1 AND status = 'active'",
            vec![id.into(), at.into()],
        )
        .expecting(1, "the principal was erased meanwhile")
    }

    /// Insert or replace a sealed field.
    pub fn upsert_field(
        principal_id: &str,
        category: &str,
        record_id: &str,
        ciphertext: Vec<u8>,
        at: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO fields (principal_id, category, record_id, ciphertext, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal_id, category) DO UPDATE SET record_id = excluded.record_id, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
            vec![
                principal_id.into(),
                category.into(),
                record_id.into(),
                ciphertext.into(),
                at.into(),
            ],
        )
    }

    pub fn upsert_blind_index(principal_id: &str, category: &str, digest: Vec<u8>) -> Stmt {
        Stmt::new(
            "INSERT INTO blind_index (principal_id, category, digest) VALUES ($1, $2, $3) ON CONFLICT (principal_id, category) DO UPDATE SET digest = excluded.digest",
            vec![principal_id.into(), category.into(), digest.into()],
        )
    }

    pub fn insert_import_row(fingerprint: Vec<u8>, principal_id: &str) -> Stmt {
        Stmt::new(
            "INSERT INTO import_rows (fingerprint, principal_id, imported_at) VALUES ($1, $2, $3)",
            vec![fingerprint.into(), principal_id.into(), now_string().into()],
        )
    }

    /// Which of these import fingerprints are known (one query for a batch).
    pub async fn imported_among(
        &self,
        fingerprints: &[Vec<u8>],
    ) -> Result<std::collections::HashSet<Vec<u8>>> {
        let mut found = std::collections::HashSet::new();
        for chunk in fingerprints.chunks(500) {
            let placeholders = db::placeholders(self.backend, 1, chunk.len());
            let sql = format!(
                "SELECT fingerprint FROM import_rows WHERE fingerprint IN ({placeholders})"
            );
            let mut q = sqlx::query(&sql);
            for f in chunk {
                q = q.bind(f.as_slice());
            }
            for r in q.fetch_all(&self.pool).await? {
                found.insert(r.try_get::<Vec<u8>, _>(0)?);
            }
        }
        Ok(found)
    }

    /// Which of these email blind indexes belong to an active principal of the channel.
    pub async fn emails_registered(
        &self,
        channel: &str,
        digests: &[Vec<u8>],
    ) -> Result<std::collections::HashSet<Vec<u8>>> {
        let mut found = std::collections::HashSet::new();
        for chunk in digests.chunks(500) {
            let placeholders = db::placeholders(self.backend, 2, chunk.len());
            let sql = format!(
                "SELECT b.digest FROM blind_index b JOIN principals p ON p.id = b.principal_id WHERE p.channel = {} AND p.status = 'active' AND b.category = 'email' AND b.digest IN ({placeholders})",
                db::placeholders(self.backend, 1, 1)
            );
            let mut q = sqlx::query(&sql).bind(channel);
            for d in chunk {
                q = q.bind(d.as_slice());
            }
            for r in q.fetch_all(&self.pool).await? {
                found.insert(r.try_get::<Vec<u8>, _>(0)?);
            }
        }
        Ok(found)
    }

    pub async fn imported(&self, fingerprint: &[u8]) -> Result<Option<String>> {
        let rows = self
            .rows(
                "SELECT principal_id FROM import_rows WHERE fingerprint = $1",
                vec![fingerprint.to_vec().into()],
            )
            .await?;
        rows.first().map(|r| s(r, 0)).transpose()
    }

    #[allow(clippy::too_many_arguments)]
    /// `special_care`: the consent to acquire special-care-required data (APPI 20(2)).
    pub fn insert_consent(
        id: &str,
        principal_id: &str,
        purpose: Option<&str>,
        recipient: Option<&str>,
        channel: &str,
        evidence: Option<&str>,
        policy_version: &str,
        recorded_by: &str,
        at: &str,
        special_care: bool,
        keys: &Keys,
    ) -> Stmt {
        let mac = Self::consent_mac(
            keys,
            &facts::ConsentFacts {
                id,
                principal_id,
                purpose,
                recipient,
                given_at: at,
                channel,
                policy_version,
                special_care,
                withdrawn_at: None,
            },
        );
        Stmt::new(
            "INSERT INTO consents (id, principal_id, purpose, recipient, given_at, channel, evidence, policy_version, recorded_by, special_care, facts_mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            vec![
                id.into(),
                principal_id.into(),
                purpose.into(),
                recipient.into(),
                at.into(),
                channel.into(),
                evidence.into(),
                policy_version.into(),
                recorded_by.into(),
                i64::from(special_care).into(),
                mac.into(),
            ],
        )
    }

    /// A principal's row, its channel, policy version and count of active suspensions checked
    /// against its MAC ([`facts`]).
    pub async fn principal(&self, id: &str) -> Result<Option<PrincipalRow>> {
        let rows = self
            .rows(
                "SELECT p.id, p.channel, p.created_at, p.last_activity_at, p.policy_version, p.status, p.suspension_count, p.facts_mac, (SELECT COUNT(*) FROM suspensions s WHERE s.principal_id = p.id AND s.lifted_at IS NULL) FROM principals p WHERE p.id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first()
            .map(|r| {
                let p = PrincipalRow {
                    id: s(r, 0)?,
                    channel: s(r, 1)?,
                    created_at: s(r, 2)?,
                    last_activity_at: s(r, 3)?,
                    policy_version: s(r, 4)?,
                    status: s(r, 5)?,
                    suspension_count: r.int(6)?,
                };
                check_principal(&self.keys, &p, opt_s(r, 7)?.as_deref(), r.int(8)?)?;
                Ok(p)
            })
            .transpose()
    }

    /// What an access decision needs beyond the principal, in one query: the purposes with an
    /// active consent, and the active suspensions (`None` = every use).
    pub async fn use_facts(
        &self,
        principal_id: &str,
    ) -> Result<(Vec<String>, Vec<Option<String>>)> {
        // The same query as a read's, so the same checks: the principal's MAC (with the count of
        // suspensions), and each consent's and suspension's.
        // The checks of a read ([`Store::principal_for_read`]) without the sealed fields.
        let read = match &self.lite {
            Some(lite) => for_read(
                &self.keys,
                principal_id,
                &sqlx::query(FACTS_SQL)
                    .bind(principal_id)
                    .fetch_all(lite)
                    .await?,
            )?,
            None => for_read(
                &self.keys,
                principal_id,
                &self.rows(FACTS_SQL, vec![principal_id.into()]).await?,
            )?,
        };
        Ok(read
            .map(|r| (r.consented, r.suspensions))
            .unwrap_or_default())
    }

    /// What a read needs, in one query: the principal, their sealed fields (by category), and
    /// the facts of [`Store::use_facts`]. One round trip instead of two on every audited read.
    /// The principal's row, each active consent and each active suspension are checked against
    /// their MACs, and the suspensions counted against the principal's ([`facts`]): a record
    /// changed outside Mamori is refused before anything is opened.
    pub async fn principal_for_read(&self, id: &str) -> Result<Option<ForRead>> {
        match &self.lite {
            Some(lite) => for_read(
                &self.keys,
                id,
                &sqlx::query(READ_SQL).bind(id).fetch_all(lite).await?,
            ),
            None => for_read(&self.keys, id, &self.rows(READ_SQL, vec![id.into()]).await?),
        }
    }

    pub async fn fields(&self, principal_id: &str) -> Result<Vec<FieldRow>> {
        let rows = self
            .rows(
                "SELECT category, record_id, ciphertext, updated_at FROM fields WHERE principal_id = $1 ORDER BY category",
                vec![principal_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FieldRow {
                    category: s(r, 0)?,
                    record_id: s(r, 1)?,
                    ciphertext: r.try_get::<Vec<u8>, _>(2)?,
                    updated_at: s(r, 3)?,
                })
            })
            .collect()
    }

    /// Principals whose blind index for `category` equals `digest`.
    pub async fn find_by_index(&self, category: &str, digest: &[u8]) -> Result<Vec<String>> {
        let rows = self
            .rows(
                "SELECT b.principal_id FROM blind_index b JOIN principals p ON p.id = b.principal_id WHERE b.category = $1 AND b.digest = $2 AND p.status = 'active' ORDER BY b.principal_id",
                vec![category.into(), digest.to_vec().into()],
            )
            .await?;
        rows.iter().map(|r| s(r, 0)).collect()
    }

    pub async fn consents(&self, principal_id: &str) -> Result<Vec<ConsentRow>> {
        let rows = self
            .rows(
                "SELECT id, purpose, recipient, given_at, withdrawn_at, channel, evidence, policy_version, informed_abroad, special_care, facts_mac FROM consents WHERE principal_id = $1 ORDER BY given_at",
                vec![principal_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let c = ConsentRow {
                    id: s(r, 0)?,
                    purpose: opt_s(r, 1)?,
                    recipient: opt_s(r, 2)?,
                    given_at: s(r, 3)?,
                    withdrawn_at: opt_s(r, 4)?,
                    channel: s(r, 5)?,
                    evidence: opt_s(r, 6)?,
                    policy_version: s(r, 7)?,
                    informed_abroad: r.try_get::<i64, _>(8)? != 0,
                    special_care: r.try_get::<i64, _>(9)? != 0,
                };
                let mac: Option<String> = opt_s(r, 10)?;
                if !self.keys.facts_mac_ok(
                    facts::CONSENT,
                    &facts::consent(&c.facts(principal_id)),
                    mac.as_deref(),
                ) {
                    return Err(facts::principal_changed(principal_id));
                }
                Ok(c)
            })
            .collect()
    }

    /// Purposes the principal's data is suspended for (`None` = every use), APPI 35.
    /// Checked like a read ([`Store::use_facts`]): a suspension deleted or forged is refused.
    pub async fn suspensions(&self, principal_id: &str) -> Result<Vec<Option<String>>> {
        Ok(self.use_facts(principal_id).await?.1)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_exception_review(
        id: &str,
        principal_id: &str,
        staff: &str,
        kind: &str,
        purpose: &str,
        reason_ct: Vec<u8>,
        at: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO exception_reviews (id, principal_id, staff, kind, purpose, reason_ct, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                id.into(),
                principal_id.into(),
                staff.into(),
                kind.into(),
                purpose.into(),
                reason_ct.into(),
                at.into(),
            ],
        )
    }

    pub async fn pending_exception_reviews(&self) -> Result<i64> {
        self.count(
            "SELECT COUNT(*) FROM exception_reviews WHERE reviewed_at IS NULL",
            vec![],
        )
        .await
    }

    // ---- status -----------------------------------------------------------------------------

    pub async fn counts(&self) -> Result<Vec<(&'static str, i64)>> {
        Ok(vec![
            (
                "principals",
                self.count(
                    "SELECT COUNT(*) FROM principals WHERE status = 'active'",
                    vec![],
                )
                .await?,
            ),
            (
                "erased_principals",
                self.count(
                    "SELECT COUNT(*) FROM principals WHERE status = 'erased'",
                    vec![],
                )
                .await?,
            ),
            (
                "fields",
                self.count("SELECT COUNT(*) FROM fields", vec![]).await?,
            ),
            (
                "consents",
                self.count(
                    "SELECT COUNT(*) FROM consents WHERE withdrawn_at IS NULL",
                    vec![],
                )
                .await?,
            ),
            (
                "staff",
                self.count("SELECT COUNT(*) FROM staff", vec![]).await?,
            ),
            (
                "policy_versions",
                self.count("SELECT COUNT(*) FROM policy_versions", vec![])
                    .await?,
            ),
            (
                "audit_entries",
                self.count("SELECT COUNT(*) FROM audit_log", vec![]).await?,
            ),
            (
                "pending_exception_reviews",
                self.pending_exception_reviews().await?,
            ),
        ])
    }

    // ---- audit ------------------------------------------------------------------------------

    pub async fn audit_entries(
        &self,
        principal_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let rows = match principal_id {
            Some(p) => {
                self.rows(
                    "SELECT seq, at, actor, action, principal_id, purpose, basis, categories, decision, reason, detail, prev_hash, hash FROM audit_log WHERE principal_id = $1 ORDER BY seq DESC LIMIT $2",
                    vec![p.into(), limit.into()],
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT seq, at, actor, action, principal_id, purpose, basis, categories, decision, reason, detail, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT $1",
                    vec![limit.into()],
                )
                .await?
            }
        };
        let mut out: Vec<AuditEntry> = rows.iter().map(audit_row).collect::<Result<_>>()?;
        out.reverse();
        Ok(out)
    }

    /// Verify the whole chain, the signed checkpoints and the signed head outside the database.
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        self.verify_audit_against(None).await
    }

    /// [`Store::verify_audit`], and also against a head kept elsewhere (`mamori audit verify
    /// --head FILE`): that catches a tail deleted while an older head file was put back.
    pub async fn verify_audit_against(
        &self,
        external: Option<&audit::SignedHead>,
    ) -> Result<VerifyReport> {
        let head = head::read(&self.data_dir.join(HEAD_FILE));
        self.verify_with(&head, external).await
    }

    async fn verify_with(
        &self,
        head: &audit::HeadState,
        external: Option<&audit::SignedHead>,
    ) -> Result<VerifyReport> {
        let cps = self
            .rows(
                "SELECT seq, hash, signature, at FROM audit_checkpoints ORDER BY seq",
                vec![],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(audit::Checkpoint {
                    seq: r.try_get(0)?,
                    hash: s(r, 1)?,
                    signature: s(r, 2)?,
                    at: s(r, 3)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let wanted = audit::ChainVerifier::wanted_for(&cps, head, external);
        let mut v = audit::ChainVerifier::new(self.signer.entry_key(), wanted);
        match &self.data_file {
            Some(file) if self.backend == Backend::Sqlite => verify_sqlite(file, &mut v).await?,
            _ => self.verify_paged(&mut v).await?,
        }
        Ok(v.finish(&cps, &self.signer.public_hex(), head, external)?)
    }

    /// `mamori audit head`: the log verified, then its last entry's place and hash signed, for
    /// an auditor to keep outside the data folder.
    pub async fn signed_audit_head(&self) -> Result<audit::SignedHead> {
        let r = self.verify_audit().await?;
        Ok(head::signed(&self.signer, r.head_seq, &r.head_hash))
    }

    /// `mamori audit head --rewrite`: a new head file when the file was lost, damaged or
    /// replaced by an older one (the writer refuses to add to the log until then), for a log
    /// whose every entry still verifies under the signing key with its checkpoints. Returns the
    /// problem the old file had (None: it was fine and is left alone); the caller records the
    /// rewrite on the log.
    pub async fn rewrite_audit_head(&self) -> Result<Option<String>> {
        let problem = match self.verify_audit().await {
            Ok(_) => return Ok(None),
            Err(StoreError::Tampered(
                t @ (Tamper::HeadMissing { .. }
                | Tamper::HeadUnreadable { .. }
                | Tamper::HeadBehind { .. }
                | Tamper::BadHeadSignature
                | Tamper::Truncated { .. }
                | Tamper::HeadMismatch { .. }),
            )) => t.to_string(),
            Err(e) => return Err(e),
        };
        let (seq, hash) = self.audit_head_row().await?;
        let fresh = head::signed(&self.signer, seq, &hash);
        let candidate = audit::HeadState::Present(audit::HeadFile {
            head: fresh,
            pending: None,
        });
        self.verify_with(&candidate, None).await?;
        head::reset(&self.data_dir.join(HEAD_FILE), &self.signer, seq, &hash)
            .map_err(StoreError::Unavailable)?;
        Ok(Some(problem))
    }

    async fn audit_head_row(&self) -> Result<(i64, String)> {
        let rows = self
            .rows("SELECT seq, hash FROM audit_head WHERE id = 1", vec![])
            .await?;
        let r = rows
            .first()
            .ok_or_else(|| StoreError::Unavailable("the audit head row is missing".into()))?;
        Ok((r.try_get(0)?, s(r, 1)?))
    }

    /// Any backend: the entries in pages through the shared pool, so a long log does not have
    /// to fit in memory.
    async fn verify_paged(&self, v: &mut audit::ChainVerifier) -> Result<()> {
        let mut after = 0i64;
        loop {
            let page = self
                .rows(
                    "SELECT seq, at, actor, action, principal_id, purpose, basis, categories, decision, reason, detail, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
                    vec![after.into()],
                )
                .await?;
            if page.is_empty() {
                return Ok(());
            }
            for r in &page {
                let e = audit_row(r)?;
                v.push(&e)?;
                after = e.seq;
            }
        }
    }

    /// Direct access for tests that play the attacker (tamper tests) and for the benchmark.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// The rows of [`Store::principal_for_read`]'s query, on either driver.
/// A read's one query ([`Store::principal_for_read`]). Columns: 0 kind; 1 id (principal,
/// consent or suspension); 2 channel; 3 created_at / given_at / since; 4 last_activity_at /
/// recipient; 5 policy_version; 6 status; 7 category / purpose; 8-10 the field; 11 facts_mac;
/// 12 suspension_count / special_care.
const READ_SQL: &str = "SELECT 'f', p.id, p.channel, p.created_at, p.last_activity_at, p.policy_version, p.status, f.category, f.record_id, f.ciphertext, f.updated_at, p.facts_mac, p.suspension_count FROM principals p LEFT JOIN fields f ON f.principal_id = p.id WHERE p.id = $1 \
     UNION ALL SELECT 'c', id, channel, given_at, recipient, policy_version, NULL, purpose, NULL, NULL, NULL, facts_mac, special_care FROM consents WHERE principal_id = $1 AND withdrawn_at IS NULL AND purpose IS NOT NULL \
     UNION ALL SELECT 's', id, NULL, since, NULL, NULL, NULL, purpose, NULL, NULL, NULL, facts_mac, NULL FROM suspensions WHERE principal_id = $1 AND lifted_at IS NULL";
/// The same without the sealed fields ([`Store::use_facts`]).
const FACTS_SQL: &str = "SELECT 'f', p.id, p.channel, p.created_at, p.last_activity_at, p.policy_version, p.status, NULL, NULL, NULL, NULL, p.facts_mac, p.suspension_count FROM principals p WHERE p.id = $1 \
     UNION ALL SELECT 'c', id, channel, given_at, recipient, policy_version, NULL, purpose, NULL, NULL, NULL, facts_mac, special_care FROM consents WHERE principal_id = $1 AND withdrawn_at IS NULL AND purpose IS NOT NULL \
     UNION ALL SELECT 's', id, NULL, since, NULL, NULL, NULL, purpose, NULL, NULL, NULL, facts_mac, NULL FROM suspensions WHERE principal_id = $1 AND lifted_at IS NULL";

/// A principal's row against its MAC, and the suspensions found against the number it binds.
fn check_principal(keys: &Keys, p: &PrincipalRow, mac: Option<&str>, found: i64) -> Result<()> {
    let enc = facts::principal(&p.id, &p.channel, &p.policy_version, p.suspension_count);
    if found != p.suspension_count || !keys.facts_mac_ok(facts::PRINCIPAL, &enc, mac) {
        return Err(facts::principal_changed(&p.id));
    }
    Ok(())
}

fn for_read<R: Cols>(keys: &Keys, id: &str, rows: &[R]) -> Result<Option<ForRead>> {
    let mut principal = None;
    let mut principal_mac = None;
    let mut fields = Vec::new();
    let mut consented = Vec::new();
    let mut suspensions = Vec::new();
    let mut intact = true;
    for r in rows {
        match s(r, 0)?.as_str() {
            "f" => {
                if principal.is_none() {
                    principal = Some(PrincipalRow {
                        id: s(r, 1)?,
                        channel: s(r, 2)?,
                        created_at: s(r, 3)?,
                        last_activity_at: s(r, 4)?,
                        policy_version: s(r, 5)?,
                        status: s(r, 6)?,
                        suspension_count: r.int(12)?,
                    });
                    principal_mac = opt_s(r, 11)?;
                }
                if let Some(category) = opt_s(r, 7)? {
                    fields.push(FieldRow {
                        category,
                        record_id: s(r, 8)?,
                        ciphertext: r.bytes(9)?,
                        updated_at: s(r, 10)?,
                    });
                }
            }
            "c" => {
                let (cid, purpose) = (s(r, 1)?, opt_s(r, 7)?);
                let (channel, given_at) = (s(r, 2)?, s(r, 3)?);
                let (recipient, version) = (opt_s(r, 4)?, s(r, 5)?);
                let c = facts::ConsentFacts {
                    id: &cid,
                    principal_id: id,
                    purpose: purpose.as_deref(),
                    recipient: recipient.as_deref(),
                    given_at: &given_at,
                    channel: &channel,
                    policy_version: &version,
                    special_care: r.int(12)? != 0,
                    withdrawn_at: None,
                };
                intact &= keys.facts_mac_ok(
                    facts::CONSENT,
                    &facts::consent(&c),
                    opt_s(r, 11)?.as_deref(),
                );
                consented.extend(purpose);
            }
            _ => {
                let (sid, purpose, since) = (s(r, 1)?, opt_s(r, 7)?, s(r, 3)?);
                let enc = facts::suspension(&sid, id, purpose.as_deref(), &since, None);
                intact &= keys.facts_mac_ok(facts::SUSPENSION, &enc, opt_s(r, 11)?.as_deref());
                suspensions.push(purpose);
            }
        }
    }
    if let Some(p) = &principal {
        check_principal(keys, p, principal_mac.as_deref(), suspensions.len() as i64)?;
    }
    if !intact {
        return Err(facts::principal_changed(id));
    }
    fields.sort_by(|a, b| a.category.cmp(&b.category));
    Ok(principal.map(|principal| ForRead {
        principal,
        fields,
        consented,
        suspensions,
    }))
}

/// A staff row (columns as [`staff_row`]) with its MAC in column `mac_col`, checked.
fn checked_staff<R: Cols>(keys: &Keys, r: &R, mac_col: usize) -> Result<StaffRow> {
    let row = staff_row(r)?;
    let enc = facts::staff(&row.login, &row.role, row.disabled);
    if !keys.facts_mac_ok(facts::STAFF, &enc, r.opt_text(mac_col)?.as_deref()) {
        return Err(facts::staff_changed(&row.login));
    }
    Ok(row)
}

fn staff_row<R: Cols>(r: &R) -> Result<StaffRow> {
    Ok(StaffRow {
        login: s(r, 0)?,
        role: s(r, 1)?,
        name: opt_s(r, 2)?,
        password_hash: opt_s(r, 3)?,
        created_at: s(r, 4)?,
        disabled: r.int(5)? != 0,
        failed_logins: r.int(6)?,
        locked_until: opt_s(r, 7)?,
    })
}

fn audit_row(r: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.try_get(0)?,
        at: s(r, 1)?,
        actor: s(r, 2)?,
        action: s(r, 3)?,
        principal_id: opt_s(r, 4)?,
        purpose: opt_s(r, 5)?,
        basis: opt_s(r, 6)?,
        categories: s(r, 7)?,
        decision: s(r, 8)?,
        reason: opt_s(r, 9)?,
        detail: s(r, 10)?,
        prev_hash: s(r, 11)?,
        hash: s(r, 12)?,
    })
}

/// SQLite: verification streams the whole log in one query (one snapshot) over a connection of
/// its own with the concrete driver, and hashes each entry where it lies; SQLite frames each
/// row's fields into one value ([`audit::EntryRef::from_framed`]). Through the `Any` pool every
/// row was converted and each of its thirteen fields copied twice (one allocation each), which
/// cost ~50x the hashing itself (issue 13's `verify` figure). The driver's thread steps SQLite
/// while this task hashes, so two cores overlap.
async fn verify_sqlite(file: &Path, v: &mut audit::ChainVerifier) -> Result<()> {
    use futures_util::TryStreamExt;
    use sqlx::ConnectOptions;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10));
    let mut conn = opts.connect().await.map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot open {} to verify the audit log: {}",
            file.display(),
            db::one_line(&e.to_string())
        ))
    })?;
    // concat() skips NULL arguments: an absent optional field leaves only its `~`.
    let framed: Vec<String> = audit::FRAMED_COLUMNS
        .iter()
        .map(|(c, optional)| {
            if *optional {
                format!("coalesce(octet_length({c}) || ':', '~'), {c}")
            } else {
                format!("octet_length({c}), ':', {c}")
            }
        })
        .collect();
    let sql = format!(
        "SELECT seq, CAST(concat({}) AS BLOB) FROM audit_log ORDER BY seq",
        framed.join(", ")
    );
    let result = async {
        let mut rows = sqlx::query(&sql).fetch(&mut conn);
        while let Some(r) = rows.try_next().await? {
            let seq: i64 = r.try_get(0)?;
            let framed: &[u8] = r.try_get(1)?;
            let e = audit::EntryRef::from_framed(seq, framed).ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "audit entry {seq} could not be read back for verification"
                ))
            })?;
            v.push_ref(&e)?;
        }
        Ok::<(), StoreError>(())
    }
    .await;
    let _ = sqlx::Connection::close(conn).await;
    result
}

/// Test support: a fresh, empty PostgreSQL database for one test, from
/// `MAMORI_TEST_DATABASE_URL` (None when it is not set: the PostgreSQL half is skipped).
pub async fn fresh_test_database() -> Result<Option<String>> {
    let Ok(base) = std::env::var("MAMORI_TEST_DATABASE_URL") else {
        return Ok(None);
    };
    if base.trim().is_empty() {
        return Ok(None);
    }
    sqlx::any::install_default_drivers();
    let name = format!("mamori_test_{}", crypto::random_hex(6));
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    // Replace the database name (the path after the last '/', before any '?').
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base.as_str(), None),
    };
    let prefix = head.rsplit_once('/').map_or(head, |(p, _)| p);
    Ok(Some(match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }))
}
