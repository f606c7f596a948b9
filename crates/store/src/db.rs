//! The connection to the database: SQLite (WAL, in the data folder) or PostgreSQL, one set of
//! SQL for both through sqlx's `Any` driver (`$1` placeholders work on both), and the
//! migrations for each backend, run at start. On SQLite the hot paths (the writer, audited
//! reads, data keys, token sign-in) run the same SQL over the concrete SQLite driver
//! ([`connect_sqlite`]).
//!
//! The key store (wrapped data keys) lives apart from the data: in SQLite its own file
//! `keys.db`, attached as schema `mamori_keys`; in PostgreSQL the schema `mamori_keys`. Both are
//! named `mamori_keys.…` in SQL, so one query serves both backends (DESIGN.md "Protecting the
//! data": data backups and key backups have separate lifetimes).

use std::path::{Path, PathBuf};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A bound parameter. Nullable values carry their type so PostgreSQL can type a NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    I64(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::I64(Some(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(Some(v.to_string()))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(Some(v))
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::Text(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        Val::Text(v.map(str::to_string))
    }
}
impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Self {
        Val::Blob(Some(v))
    }
}

/// One SQL statement with its parameters: the unit the writer runs.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: std::borrow::Cow<'static, str>,
    pub params: Vec<Val>,
    /// The number of rows the statement must touch, and the message when it does not (the job
    /// is then rolled back as a conflict).
    pub expect: Option<(u64, &'static str)>,
    /// The same statement with `?` placeholders, for SQLite ([`Stmt::insert_many`]). SQLite
    /// looks up each `$N` among all the statement's names, when it parses and again when sqlx
    /// binds: quadratic in the parameters, and a 500-row batch has thousands (it was ~60% of
    /// an import's instructions; issue 13's `import` figure).
    pub sqlite_sql: Option<String>,
}

impl Stmt {
    pub fn new(sql: &'static str, params: Vec<Val>) -> Self {
        Stmt {
            sql: std::borrow::Cow::Borrowed(sql),
            params,
            expect: None,
            sqlite_sql: None,
        }
    }

    /// The SQL to run on `backend`.
    pub(crate) fn sql_for(&self, backend: Backend) -> &str {
        match (&self.sqlite_sql, backend) {
            (Some(q), Backend::Sqlite) => q,
            _ => &self.sql,
        }
    }

    /// Insert many rows with as few statements as the backends allow (at most ~30,000 bound
    /// values a statement): one round trip for a batch instead of one per row.
    pub fn insert_many(table: &'static str, columns: &[&str], rows: Vec<Vec<Val>>) -> Vec<Stmt> {
        let per_row = columns.len().max(1);
        let rows_per_stmt = (30_000 / per_row).max(1);
        let mut out = Vec::new();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Val>> = rows.by_ref().take(rows_per_stmt).collect();
            let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            let (mut sql, mut positional) = (head.clone(), head);
            let mut params = Vec::with_capacity(chunk.len() * per_row);
            let mut n = 0usize;
            for (i, row) in chunk.into_iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                    positional.push_str(", ");
                }
                sql.push('(');
                positional.push('(');
                for (j, v) in row.into_iter().enumerate() {
                    if j > 0 {
                        sql.push_str(", ");
                        positional.push_str(", ");
                    }
                    n += 1;
                    push_dollar(&mut sql, n);
                    positional.push('?');
                    params.push(v);
                }
                sql.push(')');
                positional.push(')');
            }
            out.push(Stmt {
                sql: std::borrow::Cow::Owned(sql),
                params,
                expect: None,
                sqlite_sql: Some(positional),
            });
        }
        out
    }

    pub fn expecting(mut self, rows: u64, message: &'static str) -> Self {
        self.expect = Some((rows, message));
        self
    }
}

/// `$n` appended without the formatting machinery (a 500-row batch has thousands).
fn push_dollar(sql: &mut String, n: usize) {
    use std::fmt::Write as _;
    let _ = write!(sql, "${n}");
}

/// `count` placeholders numbered from `first`, comma-separated: `?` on SQLite (see
/// [`Stmt::sqlite_sql`] for why), `$N` on PostgreSQL.
pub(crate) fn placeholders(backend: Backend, first: usize, count: usize) -> String {
    let mut out = String::with_capacity(count * 6);
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        match backend {
            Backend::Sqlite => out.push('?'),
            Backend::Postgres => push_dollar(&mut out, first + i),
        }
    }
    out
}

pub(crate) fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    params: &'q [Val],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for p in params {
        q = match p {
            Val::I64(v) => q.bind(*v),
            Val::Text(v) => q.bind(v.as_deref()),
            Val::Blob(v) => q.bind(v.as_deref()),
        };
    }
    q
}

/// Where the data lives: the URL given, or `sqlite` files in the data folder.
#[derive(Debug, Clone)]
pub struct Location {
    pub backend: Backend,
    pub url: String,
    /// SQLite only: the key store file attached as `mamori_keys`.
    pub keys_file: Option<PathBuf>,
    pub data_file: Option<PathBuf>,
}

impl Location {
    pub fn new(data_dir: &Path, database_url: Option<&str>) -> Result<Location, StoreError> {
        match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Location {
                    backend: Backend::Postgres,
                    url: url.to_string(),
                    keys_file: None,
                    data_file: None,
                })
            }
            Some(other) => Err(StoreError::Input(format!(
                "--database-url: \"{}\" is not a PostgreSQL URL: use postgres://user@host/db, or leave it out to use SQLite in the data folder",
                redact_url(other)
            ))),
            None => {
                let data = data_dir.join("mamori.db");
                let keys = data_dir.join("keys.db");
                Ok(Location {
                    backend: Backend::Sqlite,
                    url: format!("sqlite://{}?mode=rwc", data.display()),
                    keys_file: Some(keys),
                    data_file: Some(data),
                })
            }
        }
    }
}

/// A URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = url.get(s + 3..at).unwrap_or("");
            let user = creds.split(':').next().unwrap_or("");
            format!(
                "{}{}@{}",
                url.get(..s + 3).unwrap_or(""),
                user,
                url.get(at + 1..).unwrap_or("")
            )
        }
        _ => url.to_string(),
    }
}

fn sql_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// SQLite: the database and key store files exist and only their owner may read or write them
/// (0600; issue 20). SQLite gives its `-wal` and `-shm` files the mode of the database file.
/// A file that exists already is narrowed to 0600 as well.
fn owner_only_files(loc: &Location) -> Result<(), StoreError> {
    for file in [&loc.data_file, &loc.keys_file].into_iter().flatten() {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(file)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", file.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for suffix in ["", "-wal", "-shm"] {
                let mut p = file.as_os_str().to_owned();
                p.push(suffix);
                let p = std::path::PathBuf::from(p);
                if let Ok(meta) = std::fs::symlink_metadata(&p)
                    && meta.is_file()
                    && meta.permissions().mode() & 0o077 != 0
                {
                    let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
                }
            }
        }
    }
    Ok(())
}

pub(crate) async fn connect(loc: &Location, max_connections: u32) -> Result<AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    if loc.backend == Backend::Sqlite {
        owner_only_files(loc)?;
    }
    let mut opts = AnyPoolOptions::new().max_connections(max_connections);
    if loc.backend == Backend::Sqlite {
        let keys = loc
            .keys_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        opts = opts.after_connect(move |conn, _meta| {
            let keys = keys.clone();
            Box::pin(async move {
                // WAL: readers never wait for the writer; synchronous=FULL fsyncs each commit,
                // which the group-commit writer amortizes over many callers.
                conn.execute("PRAGMA journal_mode=WAL").await?;
                conn.execute("PRAGMA synchronous=FULL").await?;
                conn.execute("PRAGMA busy_timeout=10000").await?;
                conn.execute(
                    format!("ATTACH DATABASE {} AS mamori_keys", sql_quote(&keys)).as_str(),
                )
                .await?;
                conn.execute("PRAGMA mamori_keys.journal_mode=WAL").await?;
                conn.execute("PRAGMA mamori_keys.synchronous=FULL").await?;
                // Erasure overwrites what it deletes, so a destroyed data key does not linger
                // in free pages of the key store (crypto-shredding, seed 000 Art. 8-4).
                conn.execute("PRAGMA secure_delete=ON").await?;
                conn.execute("PRAGMA mamori_keys.secure_delete=ON").await?;
                Ok(())
            })
        });
    }
    opts.connect(&loc.url).await.map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot open the database at {}: {}",
            redact_url(&loc.url),
            one_line(&e.to_string())
        ))
    })
}

/// SQLite only: a pool over the concrete sqlx SQLite driver, with the same pragmas and the key
/// store attached, for the hot paths (the writer, audited reads, token sign-in). Through `Any`
/// each argument and each row value is converted and copied once more (issue 13's `read`
/// figure: the `Any` row conversion was 16% of an audited read's instructions).
///
/// `cache_mib`: SQLite's page cache per connection for both files (its default is 2 MiB). The
/// writer's connection gets a larger one: an import inserts into indexes whose keys are random
/// (blind indexes, fingerprints, data keys), and with 2 MiB nearly every insert into a 100 MB
/// table misses the cache.
pub(crate) async fn connect_sqlite(
    loc: &Location,
    max_connections: u32,
    cache_mib: u32,
) -> Result<sqlx::SqlitePool, StoreError> {
    let cache = format!("-{}", u64::from(cache_mib) * 1024);
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let data = loc.data_file.clone().unwrap_or_default();
    let keys = loc
        .keys_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let opts = SqliteConnectOptions::new()
        .filename(&data)
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(std::time::Duration::from_secs(10))
        .pragma("secure_delete", "ON")
        .pragma("cache_size", cache.clone());
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .after_connect(move |conn, _meta| {
            let keys = keys.clone();
            let cache = cache.clone();
            Box::pin(async move {
                conn.execute(
                    format!("ATTACH DATABASE {} AS mamori_keys", sql_quote(&keys)).as_str(),
                )
                .await?;
                conn.execute(format!("PRAGMA mamori_keys.cache_size={cache}").as_str())
                    .await?;
                conn.execute("PRAGMA mamori_keys.journal_mode=WAL").await?;
                conn.execute("PRAGMA mamori_keys.synchronous=FULL").await?;
                conn.execute("PRAGMA mamori_keys.secure_delete=ON").await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot open the database at {}: {}",
                data.display(),
                one_line(&e.to_string())
            ))
        })
}

pub(crate) fn bind_sqlite<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    params: &'q [Val],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for p in params {
        q = match p {
            Val::I64(v) => q.bind(*v),
            Val::Text(v) => q.bind(v.as_deref()),
            Val::Blob(v) => q.bind(v.as_deref()),
        };
    }
    q
}

pub(crate) fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// A storage fault in words an office can act on (issue 20: a full disk, a database server
/// restarting or unreachable), from a driver's or the file system's message; None when the
/// message is not one of those.
pub(crate) fn storage_fault(msg: &str) -> Option<&'static str> {
    let m = msg.to_ascii_lowercase();
    let full = [
        "disk is full",
        "no space left",
        "no storage space",
        "could not extend file",
        "disk full",
    ];
    let unreachable = [
        "connection refused",
        "connection reset",
        "broken pipe",
        "terminating connection",
        "the database system is starting up",
        "the database system is shutting down",
        "pool timed out",
        "server closed the connection",
        "unexpected eof",
    ];
    if full.iter().any(|f| m.contains(f)) {
        Some(
            "the disk holding the data is full: free space on it, then try again (nothing was written)",
        )
    } else if unreachable.iter().any(|f| m.contains(f)) {
        Some(
            "the database server cannot be reached just now: check that it is running, then try again (nothing was written)",
        )
    } else {
        None
    }
}

/// A driver's error as one line for people: a storage fault in plain words, else the driver's
/// first line after `what`.
pub(crate) fn describe(what: &str, e: &str) -> String {
    let line = one_line(e);
    match storage_fault(&line) {
        Some(plain) => plain.to_string(),
        None => format!("{what}: {line}"),
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_sessions.sql")),
    (3, include_str!("../migrations/sqlite/0003_provision.sql")),
    (4, include_str!("../migrations/sqlite/0004_complaints.sql")),
    (5, include_str!("../migrations/sqlite/0005_requests.sql")),
    (6, include_str!("../migrations/sqlite/0006_incidents.sql")),
    (7, include_str!("../migrations/sqlite/0007_students.sql")),
    (8, include_str!("../migrations/sqlite/0008_governance.sql")),
    (9, include_str!("../migrations/sqlite/0009_indexes.sql")),
    (10, include_str!("../migrations/sqlite/0010_sign_in.sql")),
    // Issue 20's request evidence, structured special-care consent, request reviews. Numbered
    // apart from the other issue-20 migrations (versions need not be consecutive).
    (
        20,
        include_str!("../migrations/sqlite/0020_trust_requests.sql"),
    ),
    // Issue 20's MACs over the records an access decision rests on (facts.rs).
    (21, include_str!("../migrations/sqlite/0021_facts.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_sessions.sql")),
    (3, include_str!("../migrations/postgres/0003_provision.sql")),
    (
        4,
        include_str!("../migrations/postgres/0004_complaints.sql"),
    ),
    (5, include_str!("../migrations/postgres/0005_requests.sql")),
    (6, include_str!("../migrations/postgres/0006_incidents.sql")),
    (7, include_str!("../migrations/postgres/0007_students.sql")),
    (
        8,
        include_str!("../migrations/postgres/0008_governance.sql"),
    ),
    (9, include_str!("../migrations/postgres/0009_indexes.sql")),
    (10, include_str!("../migrations/postgres/0010_sign_in.sql")),
    (
        20,
        include_str!("../migrations/postgres/0020_trust_requests.sql"),
    ),
    (21, include_str!("../migrations/postgres/0021_facts.sql")),
];

/// Run the migrations this binary knows that the database has not seen yet.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let (list, keys_sql) = match backend {
        Backend::Sqlite => (
            SQLITE_MIGRATIONS,
            "CREATE TABLE IF NOT EXISTS mamori_keys.data_keys (principal_id TEXT PRIMARY KEY, wrapped BLOB NOT NULL, kek_id TEXT NOT NULL, created_at TEXT NOT NULL)",
        ),
        Backend::Postgres => (
            POSTGRES_MIGRATIONS,
            "CREATE TABLE IF NOT EXISTS mamori_keys.data_keys (principal_id TEXT PRIMARY KEY, wrapped BYTEA NOT NULL, kek_id TEXT NOT NULL, created_at TEXT NOT NULL)",
        ),
    };
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        // Two processes starting at once must not both create the schema.
        conn.execute("SELECT pg_advisory_lock(7236111)").await?;
        conn.execute("CREATE SCHEMA IF NOT EXISTS mamori_keys")
            .await?;
    }
    let result = async {
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .await?;
        conn.execute(keys_sql).await?;
        conn.execute(match backend {
            Backend::Sqlite => "CREATE TABLE IF NOT EXISTS mamori_keys.secrets (name TEXT PRIMARY KEY, wrapped BLOB NOT NULL, kek_id TEXT NOT NULL)",
            Backend::Postgres => "CREATE TABLE IF NOT EXISTS mamori_keys.secrets (name TEXT PRIMARY KEY, wrapped BYTEA NOT NULL, kek_id TEXT NOT NULL)",
        })
        .await?;
        // Erasure tombstones: every data key destroyed leaves its id and the time in the key
        // store (a trigger, so no path can destroy a key without it). Key backups carry them,
        // so a key restored later from an older backup is destroyed again, and a key that is
        // merely missing (its backup not restored yet) is told apart from one destroyed
        // (seed 000 Art. 8-4; docs/retention.md).
        for sql in match backend {
            Backend::Sqlite => [
                "CREATE TABLE IF NOT EXISTS mamori_keys.erasures (principal_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL)",
                "CREATE TRIGGER IF NOT EXISTS mamori_keys.data_key_destroyed AFTER DELETE ON data_keys BEGIN INSERT OR IGNORE INTO erasures (principal_id, erased_at) VALUES (old.principal_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')); END",
                "SELECT 1",
            ],
            Backend::Postgres => [
                "CREATE TABLE IF NOT EXISTS mamori_keys.erasures (principal_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL)",
                "CREATE OR REPLACE FUNCTION mamori_keys.record_erasure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO mamori_keys.erasures (principal_id, erased_at) VALUES (OLD.principal_id, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')) ON CONFLICT DO NOTHING; RETURN OLD; END $$",
                "CREATE OR REPLACE TRIGGER data_key_destroyed AFTER DELETE ON mamori_keys.data_keys FOR EACH ROW EXECUTE FUNCTION mamori_keys.record_erasure()",
            ],
        } {
            conn.execute(sql).await?;
        }
        let done: Vec<AnyRow> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *conn)
            .await?;
        let done: Vec<i64> = done.iter().filter_map(|r| r.try_get::<i64, _>(0).ok()).collect();
        for (version, sql) in list {
            if done.contains(version) {
                continue;
            }
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
                tx.execute(stmt).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(jiff::Timestamp::now().to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok::<(), StoreError>(())
    }
    .await;
    if backend == Backend::Postgres {
        conn.execute("SELECT pg_advisory_unlock(7236111)").await?;
    }
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_row_insert_has_one_placeholder_per_value_on_either_backend() {
        let rows = (0..3)
            .map(|i| vec![Val::from(i as i64), Val::from("x")])
            .collect();
        let stmts = Stmt::insert_many("t", &["a", "b"], rows);
        assert_eq!(stmts.len(), 1);
        let s = &stmts[0];
        assert_eq!(
            s.sql_for(Backend::Postgres),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"
        );
        assert_eq!(
            s.sql_for(Backend::Sqlite),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)"
        );
        assert_eq!(s.params.len(), 6);
        // Statements written by hand keep their `$N` on SQLite too.
        let one = Stmt::new("DELETE FROM t WHERE a = $1", vec![1.into()]);
        assert_eq!(one.sql_for(Backend::Sqlite), "DELETE FROM t WHERE a = $1");
    }
}
