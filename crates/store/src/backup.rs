//! Backups: a portable, logical copy of the data (every table of the data schema, JSON Lines)
//! and, separately, of the key store (the wrapped data keys, the wrapped secrets such as the
//! blind-index key, and the erasure tombstones). Data backups and key backups have separate
//! lifetimes (DESIGN.md): an erased principal's key is gone from the key store, so an old data
//! backup restored later can never make them readable again (seed 000 Art. 8-4 "復元が不可能な
//! 方法"; seed 003 Art. 16).
//!
//! What a backup file is trusted for, and why (issue 20, "Trust at the edges"):
//! - **Authenticated.** The last line is an HMAC-SHA-256 over every byte before it, under a key
//!   derived from the master key ([`crate::crypto::Keys::backup_mac_key`]); the header names
//!   that key's id. [`Store::open_backup`] checks it before anything is parsed into rows, so a
//!   row added (an API token), a header edited or an audit entry changed is refused before
//!   anything changes. Whoever lacks the master key cannot make a file `restore` accepts.
//! - **Known tables only, bound values only.** A data restore replaces exactly the tables of
//!   this database's own catalog, with the names taken from the catalog (quoted), never from
//!   the file; the file must list exactly those tables. A key restore knows three tables.
//!   Every value is a bound parameter.
//! - **Keys are never destroyed for being missing.** Erasures travel as facts: the principal's
//!   status and `principal.erase` entry in every data backup, and a tombstone (id and time)
//!   in the key store, written by a trigger whenever a data key is deleted and carried by every
//!   key backup. A key missing without a tombstone is a key not restored yet.
//!
//! The same format serves SQLite and PostgreSQL, so a backup can also move an office from one
//! to the other. Values are copied as stored: personal values are ciphertext in the data
//! backup, data keys are wrapped under the master key in the key backup; neither file holds
//! plaintext. Files are written 0600, never through a symlink ([`crate::files`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::Row;

use crate::files::{Existing, PrivateFile};
use crate::{Backend, Result, Store, StoreError, Val};

/// Format 2: authenticated (format 1 carried no MAC and is refused).
pub const FORMAT: u32 = 2;

/// The key store's tables a key backup holds.
pub const KEY_TABLES: [&str; 3] = ["data_keys", "secrets", "erasures"];

/// The rows of a backup: each with its table.
pub type BackupRows = Vec<RowOf>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub mamori_backup: u32,
    /// `data` or `keys`.
    pub kind: String,
    pub created_at: String,
    pub schema_version: i64,
    pub backend: String,
    pub tables: Vec<String>,
    /// The id of the key-encryption key whose derived key authenticates the file.
    pub kek_id: String,
    /// Data backups: the public key of the audit signing key that signed the log's
    /// checkpoints (the restored log verifies only under it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    table: String,
    row: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Trailer {
    mac: String,
}

/// A backup read and authenticated ([`Store::open_backup`]). The rows stay in their
/// authenticated text and are parsed one at a time as they are restored ([`Backup::rows`]), so a
/// restore holds the file once in memory, not every row as a map.
#[derive(Debug, Clone)]
pub struct Backup {
    pub file: String,
    pub header: Header,
    /// The authenticated lines after the header (without the MAC trailer).
    body: String,
}

/// Known erasures: principal (or record) id → when it was erased (RFC 3339; empty if unknown).
pub type Erasures = BTreeMap<String, String>;

/// Add erasures to `into`, keeping the time already known for an id.
pub fn merge_erasures(into: &mut Erasures, more: Erasures) {
    for (id, at) in more {
        into.entry(id).or_insert(at);
    }
}

/// One row of a backup, with its table.
pub type RowOf = (String, serde_json::Map<String, serde_json::Value>);

impl Backup {
    pub fn is_keys(&self) -> bool {
        self.header.kind == "keys"
    }

    /// The rows, parsed as they are read; a damaged line, or one naming a table the header
    /// does not list, is an error (and the restore's transaction is not committed).
    pub fn rows(&self) -> impl Iterator<Item = Result<RowOf>> + '_ {
        self.body
            .split('\n')
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let line: Line = serde_json::from_str(l).map_err(|_| {
                    StoreError::Input(format!("FILE: line {} of {} is damaged", i + 2, self.file))
                })?;
                if !self.header.tables.contains(&line.table) {
                    return Err(StoreError::Input(format!(
                        "FILE: line {} of {} names a table the header does not list",
                        i + 2,
                        self.file
                    )));
                }
                Ok((line.table, line.row))
            })
    }

    /// The ids of the principals whose data key a key backup holds.
    pub fn key_ids(&self) -> Vec<String> {
        self.column("data_keys", "principal_id")
    }

    /// The erasure tombstones a key backup carries: id → when.
    pub fn erasures(&self) -> Erasures {
        self.rows()
            .filter_map(|r| r.ok())
            .filter(|(t, _)| t == "erasures")
            .filter_map(|(_, r)| {
                let id = r.get("principal_id").and_then(|v| v.as_str())?.to_string();
                let at = r.get("erased_at").and_then(|v| v.as_str()).unwrap_or("");
                Some((id, at.to_string()))
            })
            .collect()
    }

    fn column(&self, table: &str, col: &str) -> Vec<String> {
        self.rows()
            .filter_map(|r| r.ok())
            .filter(|(t, _)| t == table)
            .filter_map(|(_, r)| r.get(col).and_then(|v| v.as_str()).map(str::to_string))
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BackupReport {
    pub kind: String,
    pub file: String,
    pub tables: usize,
    pub rows: u64,
    pub schema_version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColType {
    Int,
    Text,
    Blob,
}

fn col_type(decl: &str) -> ColType {
    let d = decl.to_ascii_lowercase();
    if d.contains("int") {
        ColType::Int
    } else if d.contains("blob") || d.contains("bytea") {
        ColType::Blob
    } else {
        ColType::Text
    }
}

/// A name from the database's own catalog, quoted for SQL (never a name from a file).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn qualified(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", ident(s), ident(table)),
        None => ident(table),
    }
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Bytes written and authenticated as they go.
struct MacWriter<W: Write> {
    inner: W,
    mac: Hmac<Sha256>,
}

impl<W: Write> MacWriter<W> {
    fn line(&mut self, text: &str) -> std::io::Result<()> {
        self.mac.update(text.as_bytes());
        self.mac.update(b"\n");
        self.inner.write_all(text.as_bytes())?;
        self.inner.write_all(b"\n")
    }

    /// The trailer line (the MAC of everything before it); returns the writer.
    fn finish(mut self) -> std::io::Result<W> {
        let mac = hex::encode(self.mac.finalize().into_bytes());
        let t = serde_json::to_string(&Trailer { mac }).map_err(std::io::Error::other)?;
        self.inner.write_all(t.as_bytes())?;
        self.inner.write_all(b"\n")?;
        Ok(self.inner)
    }
}

fn altered(file: &str) -> StoreError {
    StoreError::Crypto(format!(
        "FILE: {file} fails its authentication: it was changed after it was made (or is damaged); nothing was restored"
    ))
}

impl Store {
    async fn schema_version(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// The data schema's tables (not the key store, not the migration bookkeeping), from the
    /// database's catalog.
    async fn data_tables(&self) -> Result<Vec<String>> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name"
            }
        };
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<(String, ColType)>> {
        let rows = match (self.backend(), schema) {
            (Backend::Sqlite, None) => {
                sqlx::query("SELECT name, type FROM pragma_table_info($1)").bind(table).fetch_all(self.pool()).await?
            }
            (Backend::Sqlite, Some(s)) => {
                sqlx::query("SELECT name, type FROM pragma_table_info($1, $2)")
                    .bind(table)
                    .bind(s)
                    .fetch_all(self.pool())
                    .await?
            }
            (Backend::Postgres, None) => {
                sqlx::query("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position")
                    .bind(table)
                    .fetch_all(self.pool())
                    .await?
            }
            (Backend::Postgres, Some(s)) => {
                sqlx::query("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = $2 AND table_name = $1 ORDER BY ordinal_position")
                    .bind(table)
                    .bind(s)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>(0)?,
                    col_type(&r.try_get::<String, _>(1)?),
                ))
            })
            .collect()
    }

    async fn dump_table<W: Write>(
        &self,
        out: &mut MacWriter<W>,
        schema: Option<&str>,
        table: &str,
        file: &str,
    ) -> Result<u64> {
        let cols = self.columns(schema, table).await?;
        let list = cols
            .iter()
            .map(|(c, _)| ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {list} FROM {}", qualified(schema, table));
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        let b64 = base64::engine::general_purpose::STANDARD;
        for r in &rows {
            let mut row = serde_json::Map::new();
            for (i, (name, ty)) in cols.iter().enumerate() {
                let v = match ty {
                    ColType::Int => r
                        .try_get::<Option<i64>, _>(i)?
                        .map_or(serde_json::Value::Null, Into::into),
                    ColType::Text => r
                        .try_get::<Option<String>, _>(i)?
                        .map_or(serde_json::Value::Null, Into::into),
                    ColType::Blob => r.try_get::<Option<Vec<u8>>, _>(i)?.map_or(
                        serde_json::Value::Null,
                        |b| serde_json::json!({ "b64": b64.encode(b) }),
                    ),
                };
                row.insert(name.clone(), v);
            }
            let line = serde_json::to_string(&Line {
                table: table.to_string(),
                row,
            })
            .map_err(json_err)?;
            out.line(&line)
                .map_err(|e| StoreError::Unavailable(format!("cannot write {file}: {e}")))?;
        }
        Ok(rows.len() as u64)
    }

    /// Write a whole backup (header, rows, MAC) to `out`.
    async fn dump<W: Write>(&self, out: W, keys: bool, file: &str) -> Result<(W, Header, u64)> {
        let tables = if keys {
            KEY_TABLES.iter().map(|t| t.to_string()).collect()
        } else {
            self.data_tables().await?
        };
        let kek_id = self.keys().kek_id();
        let key = self.keys().backup_mac_key(&kek_id).ok_or_else(|| {
            StoreError::Crypto("the master key is not available to authenticate the backup".into())
        })?;
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
            .map_err(|_| StoreError::Crypto("backup authentication key".into()))?;
        let header = Header {
            mamori_backup: FORMAT,
            kind: if keys { "keys".into() } else { "data".into() },
            created_at: crate::now_string(),
            schema_version: self.schema_version().await?,
            backend: self.backend().as_str().into(),
            tables: tables.clone(),
            kek_id,
            signer: (!keys).then(|| self.signer.public_hex()),
        };
        let mut w = MacWriter { inner: out, mac };
        w.line(&serde_json::to_string(&header).map_err(json_err)?)
            .map_err(|e| StoreError::Unavailable(format!("cannot write {file}: {e}")))?;
        let mut rows = 0;
        for t in &tables {
            let schema = keys.then_some("mamori_keys");
            rows += self.dump_table(&mut w, schema, t, file).await?;
        }
        let inner = w
            .finish()
            .map_err(|e| StoreError::Unavailable(format!("cannot write {file}: {e}")))?;
        Ok((inner, header, rows))
    }

    /// Write a backup of the data (`keys = false`) or of the key store (`keys = true`):
    /// authenticated, 0600, never through a symlink, and never over an existing file.
    pub async fn backup(&self, path: &std::path::Path, keys: bool) -> Result<BackupReport> {
        let file = path.display().to_string();
        let out = PrivateFile::create(path, Existing::Refuse)
            .map_err(|e| StoreError::Input(format!("--out: {e}")))?;
        let (out, header, rows) = self.dump(out, keys, &file).await?;
        out.finish()
            .map_err(|e| StoreError::Input(format!("--out: {e}")))?;
        Ok(BackupReport {
            kind: header.kind,
            file,
            tables: header.tables.len(),
            rows,
            schema_version: header.schema_version,
        })
    }

    /// Read a backup file and authenticate it: nothing of it is believed before its MAC checks
    /// out under this folder's master key.
    pub fn open_backup(&self, path: &std::path::Path) -> Result<Backup> {
        let bytes = std::fs::read(path)
            .map_err(|e| StoreError::Input(format!("FILE: cannot read {}: {e}", path.display())))?;
        self.parse_backup(&bytes, &path.display().to_string())
    }

    fn parse_backup(&self, bytes: &[u8], file: &str) -> Result<Backup> {
        let not_backup = || StoreError::Input(format!("FILE: {file} is not a Mamori backup"));
        let text = std::str::from_utf8(bytes).map_err(|_| not_backup())?;
        let first = text.split('\n').next().unwrap_or("");
        let probe: serde_json::Value = serde_json::from_str(first).map_err(|_| not_backup())?;
        let format = probe
            .get("mamori_backup")
            .and_then(|v| v.as_u64())
            .ok_or_else(not_backup)?;
        if format != u64::from(FORMAT) {
            return Err(StoreError::Input(format!(
                "FILE: {file} is a backup of format {format}, which this version does not read ({FORMAT}, authenticated): restore it with the Mamori version that made it, then make a new backup"
            )));
        }
        let header: Header = serde_json::from_str(first).map_err(|_| altered(file))?;
        let Some(key) = self.keys().backup_mac_key(&header.kek_id) else {
            return Err(StoreError::Input(format!(
                "FILE: {file} was made under master key {}, which this folder does not have (its master key is {}): put the master.key of the office that made it in the data folder, or set MAMORI_MASTER_KEY (docs/retention.md)",
                header.kek_id,
                self.keys().kek_id()
            )));
        };
        // The trailer: the last non-empty line; the MAC covers every byte before it.
        let body_end = text
            .trim_end_matches('\n')
            .rfind('\n')
            .ok_or_else(|| altered(file))?
            + 1;
        let (body, trailer) = text.split_at(body_end);
        let trailer: Trailer = serde_json::from_str(trailer.trim()).map_err(|_| altered(file))?;
        let tag = hex::decode(trailer.mac).map_err(|_| altered(file))?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
            .map_err(|_| StoreError::Crypto("backup authentication key".into()))?;
        mac.update(body.as_bytes());
        mac.verify_slice(&tag).map_err(|_| altered(file))?;
        if header.kind != "data" && header.kind != "keys" {
            return Err(StoreError::Input(format!(
                "FILE: {file} is neither a data backup nor a key backup"
            )));
        }
        // Authentic: made by this office's Mamori. Its rows are still checked as they are read,
        // and all of them before anything is restored ([`Store::check_restorable`]).
        let rows_start = body.find('\n').map_or(body.len(), |i| i + 1);
        Ok(Backup {
            file: file.to_string(),
            header,
            body: body.get(rows_start..).unwrap_or("").to_string(),
        })
    }

    /// Everything a restore of `b` needs, checked before anything changes: every line, the schema version,
    /// the tables (exactly this database's, or the key store's three), the signing key of its
    /// audit log, the master key of its wrapped keys.
    pub async fn check_restorable(&self, b: &Backup) -> Result<()> {
        let file = &b.file;
        for r in b.rows() {
            r?;
        }
        if b.is_keys() {
            for t in &b.header.tables {
                if !KEY_TABLES.contains(&t.as_str()) {
                    return Err(StoreError::Input(format!(
                        "FILE: {file} lists a table that is not one of the key store's ({})",
                        KEY_TABLES.join(", ")
                    )));
                }
            }
            for row in b.rows() {
                let (t, r) = row?;
                let kek = r.get("kek_id").and_then(|v| v.as_str());
                if (t == "data_keys" || t == "secrets")
                    && !kek.is_some_and(|k| self.keys().knows(k))
                {
                    return Err(StoreError::Input(format!(
                        "FILE: {file} holds keys wrapped under master key {}, which this folder does not have: put that master.key in the data folder (docs/retention.md)",
                        kek.unwrap_or("?")
                    )));
                }
            }
            return Ok(());
        }
        let current = self.schema_version().await?;
        if b.header.schema_version != current {
            return Err(StoreError::Input(format!(
                "FILE: {file} has schema version {} but this database has {current}: restore it with the Mamori version that made it",
                b.header.schema_version
            )));
        }
        let ours: BTreeSet<String> = self.data_tables().await?.into_iter().collect();
        let theirs: BTreeSet<String> = b.header.tables.iter().cloned().collect();
        if ours != theirs {
            return Err(StoreError::Input(format!(
                "FILE: {file} does not hold exactly the tables of this database ({} listed, {} here): restore it with the Mamori version that made it",
                theirs.len(),
                ours.len()
            )));
        }
        let signer = self.signer.public_hex();
        if b.header.signer.as_deref() != Some(signer.as_str()) {
            return Err(StoreError::Input(format!(
                "FILE: the audit log in {file} is signed by another audit signing key than this folder's: copy audit-signing.key and audit-signing.pub from the office that made it into {} (docs/retention.md)",
                self.data_dir().display()
            )));
        }
        Ok(())
    }

    /// The rows of `table` as bound values in the catalog's column order.
    fn row_vals(
        cols: &[(String, ColType)],
        table: &str,
        row: &serde_json::Map<String, serde_json::Value>,
        file: &str,
    ) -> Result<Vec<Val>> {
        let b64 = base64::engine::general_purpose::STANDARD;
        cols.iter()
            .map(|(c, ty)| {
                let v = row.get(c).cloned().unwrap_or(serde_json::Value::Null);
                Ok(match ty {
                    ColType::Int => Val::I64(v.as_i64()),
                    ColType::Text => Val::Text(v.as_str().map(str::to_string)),
                    ColType::Blob => Val::Blob(
                        v.get("b64")
                            .and_then(|x| x.as_str())
                            .map(|s| b64.decode(s))
                            .transpose()
                            .map_err(|_| {
                                StoreError::Input(format!(
                                    "FILE: a value of {table}.{c} in {file} is damaged"
                                ))
                            })?,
                    ),
                })
            })
            .collect()
    }

    async fn insert_sql(
        &self,
        schema: Option<&str>,
        table: &str,
        conflict: &str,
    ) -> Result<(String, Vec<(String, ColType)>)> {
        let cols = self.columns(schema, table).await?;
        let names = cols.iter().map(|(c, _)| ident(c)).collect::<Vec<_>>();
        let placeholders = (1..=names.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({placeholders}){conflict}",
            qualified(schema, table),
            names.join(", ")
        );
        Ok((sql, cols))
    }

    /// Replace the data with a data backup's rows, in one transaction. The tables are this
    /// database's own (checked by [`Store::check_restorable`]); every value is bound.
    pub async fn restore_data(&self, b: &Backup) -> Result<u64> {
        let tables = self.data_tables().await?;
        let mut sqls = BTreeMap::new();
        for t in &tables {
            sqls.insert(t.clone(), self.insert_sql(None, t, "").await?);
        }
        let mut tx = self.pool().begin().await?;
        for t in &tables {
            sqlx::query(&format!("DELETE FROM {}", ident(t)))
                .execute(&mut *tx)
                .await?;
        }
        let mut n = 0;
        for r in b.rows() {
            let (t, row) = r?;
            let (sql, cols) = sqls.get(&t).ok_or_else(|| {
                StoreError::Input(format!(
                    "FILE: {} names a table this database lacks",
                    b.file
                ))
            })?;
            let vals = Self::row_vals(cols, &t, &row, &b.file)?;
            n += crate::db::bind(sqlx::query(sql), &vals)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Add a key backup's keys to the key store, in one transaction: its tombstones are added,
    /// the keys of anyone in `erased` (or tombstoned) are left out and returned, the other
    /// missing keys added (present ones kept), and its secrets (the blind-index key) replace
    /// this folder's, so the restored data's blind indexes find people again.
    pub async fn restore_keys(&self, b: &Backup, erased: &Erasures) -> Result<(u64, Vec<String>)> {
        let mut gone: BTreeSet<String> = erased.keys().cloned().collect();
        gone.extend(b.erasures().into_keys());
        gone.extend(self.tombstones().await?);
        let mut sqls = BTreeMap::new();
        for (t, conflict) in [
            ("data_keys", " ON CONFLICT DO NOTHING"),
            ("erasures", " ON CONFLICT DO NOTHING"),
            ("secrets", ""),
        ] {
            sqls.insert(t, self.insert_sql(Some("mamori_keys"), t, conflict).await?);
        }
        let mut tx = self.pool().begin().await?;
        let mut n = 0;
        let mut left_out = Vec::new();
        let secrets: Vec<String> = b.column("secrets", "name");
        for name in &secrets {
            sqlx::query("DELETE FROM mamori_keys.secrets WHERE name = $1")
                .bind(name.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for r in b.rows() {
            let (t, row) = r?;
            let Some((sql, cols)) = sqls.get(t.as_str()) else {
                continue;
            };
            if t == "data_keys"
                && let Some(id) = row.get("principal_id").and_then(|v| v.as_str())
                && gone.contains(id)
            {
                left_out.push(id.to_string());
                continue;
            }
            let vals = Self::row_vals(cols, &t, &row, &b.file)?;
            n += crate::db::bind(sqlx::query(sql), &vals)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        for id in &left_out {
            self.keys().forget(id);
        }
        if !secrets.is_empty() {
            self.load_blind_key().await?;
        }
        Ok((n, left_out))
    }

    /// The current data as an authenticated backup in memory (to put back should a restored
    /// audit log fail verification).
    pub async fn snapshot_data(&self) -> Result<Backup> {
        let (bytes, _, _) = self
            .dump(Vec::new(), false, "the data before the restore")
            .await?;
        self.parse_backup(&bytes, "the data before the restore")
    }

    /// The erasure tombstones of the key store.
    pub async fn tombstones(&self) -> Result<BTreeSet<String>> {
        let rows = sqlx::query("SELECT principal_id FROM mamori_keys.erasures")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Every erasure this folder knows of, with its time: tombstones and principals marked
    /// erased.
    pub async fn erasures(&self) -> Result<Erasures> {
        let mut known = Erasures::new();
        let rows = sqlx::query("SELECT principal_id, erased_at FROM mamori_keys.erasures")
            .fetch_all(self.pool())
            .await?;
        for r in &rows {
            known.insert(r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?);
        }
        let rows = sqlx::query(
            "SELECT id, COALESCE(erased_at, '') FROM principals WHERE status <> 'active'",
        )
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            known
                .entry(r.try_get::<String, _>(0)?)
                .or_insert(r.try_get::<String, _>(1)?);
        }
        Ok(known)
    }

    /// Record erasures as tombstones in the key store (known from another artefact), so a key
    /// restored later is destroyed again; `fallback` is the time for one whose time is unknown.
    pub async fn record_erasures(&self, known: &Erasures, fallback: &str) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        for (id, at) in known {
            let at = if at.is_empty() { fallback } else { at.as_str() };
            sqlx::query("INSERT INTO mamori_keys.erasures (principal_id, erased_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether this folder's audit log continues the one in data backup `b` (the entry at the
    /// backup's head is the same here): then this folder saw every erasure after the backup.
    pub async fn continues_log_of(&self, b: &Backup) -> Result<bool> {
        let head = b
            .body
            .split('\n')
            .filter(|l| l.contains("\"table\":\"audit_head\""))
            .filter_map(|l| serde_json::from_str::<Line>(l).ok())
            .find(|l| l.table == "audit_head");
        let Some(head) = head else { return Ok(false) };
        let (Some(seq), Some(hash)) = (
            head.row.get("seq").and_then(|v| v.as_i64()),
            head.row.get("hash").and_then(|v| v.as_str()),
        ) else {
            return Ok(false);
        };
        let row = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(seq)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<String, _>(0)? == hash,
            // The backup's log is empty (seq 0): any log continues it.
            None => seq == 0,
        })
    }

    /// How many principals there are, and how many tombstones (an empty folder has neither).
    pub async fn principals_and_tombstones(&self) -> Result<(i64, i64)> {
        let p = sqlx::query("SELECT COUNT(*) FROM principals")
            .fetch_one(self.pool())
            .await?
            .try_get::<i64, _>(0)?;
        let t = sqlx::query("SELECT COUNT(*) FROM mamori_keys.erasures")
            .fetch_one(self.pool())
            .await?
            .try_get::<i64, _>(0)?;
        Ok((p, t))
    }

    /// Principals marked active whose data key is missing (their key backup is not restored
    /// yet, or was lost): never erased for that alone.
    pub async fn active_without_key(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT p.id FROM principals p WHERE p.status = 'active' AND NOT EXISTS (SELECT 1 FROM mamori_keys.data_keys k WHERE k.principal_id = p.id) ORDER BY p.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Principals marked active whose erasure the key store records (a tombstone): an older
    /// data backup restored, or one erased since the backup. With the tombstone's time.
    pub async fn active_but_erased(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT p.id, e.erased_at FROM principals p JOIN mamori_keys.erasures e ON e.principal_id = p.id WHERE p.status = 'active' ORDER BY p.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect()
    }

    /// Data keys of erased principals (marked erased, or tombstoned): destroyed again after
    /// restoring a key backup, so an old key backup never revives an erased principal. (The key
    /// store also holds the keys of requests, complaints and incidents; those are not
    /// principals and are left alone unless tombstoned.)
    pub async fn keys_of_erased(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT k.principal_id FROM mamori_keys.data_keys k WHERE EXISTS (SELECT 1 FROM principals p WHERE p.id = k.principal_id AND p.status <> 'active') OR EXISTS (SELECT 1 FROM mamori_keys.erasures e WHERE e.principal_id = k.principal_id) ORDER BY k.principal_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// After a restore: the signed head outside the database follows the restored log.
    pub fn reset_signed_head(&self, seq: i64, hash: &str) {
        let path = self.data_dir().join(crate::HEAD_FILE);
        let _ = std::fs::remove_file(&path);
        crate::writer::write_head(&path, &self.signer, seq, hash);
    }

    /// The audit head as stored in the database.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_catalog_are_quoted() {
        assert_eq!(ident("principals"), "\"principals\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            qualified(Some("mamori_keys"), "data_keys"),
            "\"mamori_keys\".\"data_keys\""
        );
    }
}
