//! Backups: a portable, logical copy of the data (every table of the data schema, JSON Lines)
//! and, separately, of the key store (the wrapped data keys). Data backups and key backups have
//! separate lifetimes (DESIGN.md): an erased principal's key is gone from the key store, so an
//! old data backup restored later can never make them readable again — and `restore` marks any
//! principal without a key as erased.
//!
//! The same format serves SQLite and PostgreSQL, so a backup can also move an office from one to
//! the other. Values are copied as stored: personal values are ciphertext in the data backup,
//! data keys are wrapped under the master key in the key backup; neither file holds plaintext.

use std::io::{BufRead, Write};

use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::{Executor, Row};

use crate::{Backend, Result, Store, StoreError, Val};

pub const FORMAT: u32 = 1;

/// The rows of a backup: each with its table.
pub type BackupRows = Vec<(String, serde_json::Map<String, serde_json::Value>)>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub mamori_backup: u32,
    /// `data` or `keys`.
    pub kind: String,
    pub created_at: String,
    pub schema_version: i64,
    pub backend: String,
    pub tables: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    table: String,
    row: serde_json::Map<String, serde_json::Value>,
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

fn io(e: std::io::Error, path: &std::path::Path) -> StoreError {
    StoreError::Input(format!("{}: {e}", path.display()))
}

impl Store {
    async fn schema_version(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// The data schema's tables (not the key store, not the migration bookkeeping).
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

    async fn dump_table(
        &self,
        out: &mut impl Write,
        schema: Option<&str>,
        table: &str,
        path: &std::path::Path,
    ) -> Result<u64> {
        let cols = self.columns(schema, table).await?;
        let qualified = match schema {
            Some(s) => format!("{s}.{table}"),
            None => table.to_string(),
        };
        let list = cols
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {list} FROM {qualified}");
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
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            writeln!(out, "{line}").map_err(|e| io(e, path))?;
        }
        Ok(rows.len() as u64)
    }

    /// Write a backup of the data (`keys = false`) or of the key store (`keys = true`).
    pub async fn backup(&self, path: &std::path::Path, keys: bool) -> Result<BackupReport> {
        if path.exists() {
            return Err(StoreError::Input(format!(
                "--out: {} exists already: choose a new file name",
                path.display()
            )));
        }
        let tables = if keys {
            vec!["data_keys".to_string()]
        } else {
            self.data_tables().await?
        };
        let header = Header {
            mamori_backup: FORMAT,
            kind: if keys { "keys".into() } else { "data".into() },
            created_at: crate::now_string(),
            schema_version: self.schema_version().await?,
            backend: self.backend().as_str().into(),
            tables: tables.clone(),
        };
        let tmp = path.with_extension("partial");
        let file = std::fs::File::create(&tmp).map_err(|e| io(e, &tmp))?;
        let mut out = std::io::BufWriter::new(file);
        writeln!(
            out,
            "{}",
            serde_json::to_string(&header).map_err(|e| StoreError::Unavailable(e.to_string()))?
        )
        .map_err(|e| io(e, &tmp))?;
        let mut rows = 0;
        for t in &tables {
            rows += self
                .dump_table(
                    &mut out,
                    if keys { Some("mamori_keys") } else { None },
                    t,
                    &tmp,
                )
                .await?;
        }
        let file = out.into_inner().map_err(|e| io(e.into_error(), &tmp))?;
        file.sync_all().map_err(|e| io(e, &tmp))?;
        std::fs::rename(&tmp, path).map_err(|e| io(e, path))?;
        Ok(BackupReport {
            kind: header.kind,
            file: path.display().to_string(),
            tables: tables.len(),
            rows,
            schema_version: header.schema_version,
        })
    }

    /// Read a backup file: its header and rows.
    pub fn read_backup(path: &std::path::Path) -> Result<(Header, BackupRows)> {
        let f = std::fs::File::open(path).map_err(|e| io(e, path))?;
        let mut lines = std::io::BufReader::new(f).lines();
        let first = lines
            .next()
            .ok_or_else(|| StoreError::Input(format!("FILE: {} is empty", path.display())))?
            .map_err(|e| io(e, path))?;
        let header: Header = serde_json::from_str(&first).map_err(|_| {
            StoreError::Input(format!("FILE: {} is not a Mamori backup", path.display()))
        })?;
        if header.mamori_backup != FORMAT {
            return Err(StoreError::Input(format!(
                "FILE: backup format {} is not one this version reads ({FORMAT})",
                header.mamori_backup
            )));
        }
        let mut rows = Vec::new();
        for (i, l) in lines.enumerate() {
            let l = l.map_err(|e| io(e, path))?;
            if l.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(&l).map_err(|_| {
                StoreError::Input(format!(
                    "FILE: line {} of {} is damaged",
                    i + 2,
                    path.display()
                ))
            })?;
            if !header.tables.contains(&line.table) {
                return Err(StoreError::Input(format!(
                    "FILE: line {} names table {} which the header does not list",
                    i + 2,
                    line.table
                )));
            }
            rows.push((line.table, line.row));
        }
        Ok((header, rows))
    }

    /// Replace the tables listed in a backup with its rows, in one transaction.
    pub async fn restore_rows(&self, header: &Header, rows: &BackupRows) -> Result<u64> {
        let keys = header.kind == "keys";
        let current = self.schema_version().await?;
        if !keys && header.schema_version != current {
            return Err(StoreError::Input(format!(
                "FILE: the backup has schema version {} but this database has {current}: restore it with the Mamori version that made it",
                header.schema_version
            )));
        }
        let schema = if keys { Some("mamori_keys") } else { None };
        let mut types = std::collections::HashMap::new();
        for t in &header.tables {
            types.insert(t.clone(), self.columns(schema, t).await?);
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut tx = self.pool().begin().await?;
        if !keys {
            for t in &header.tables {
                tx.execute(format!("DELETE FROM {t}").as_str()).await?;
            }
        }
        let mut n = 0;
        for (t, row) in rows {
            let cols = types.get(t).ok_or_else(|| {
                StoreError::Input(format!("FILE: table {t} does not exist in this database"))
            })?;
            let mut names = Vec::new();
            let mut vals = Vec::new();
            for (c, ty) in cols {
                let v = row.get(c).cloned().unwrap_or(serde_json::Value::Null);
                let val = match ty {
                    ColType::Int => Val::I64(v.as_i64()),
                    ColType::Text => Val::Text(v.as_str().map(str::to_string)),
                    ColType::Blob => Val::Blob(
                        v.get("b64")
                            .and_then(|x| x.as_str())
                            .map(|s| b64.decode(s))
                            .transpose()
                            .map_err(|_| {
                                StoreError::Input(format!("FILE: a value of {t}.{c} is damaged"))
                            })?,
                    ),
                };
                names.push(c.as_str());
                vals.push(val);
            }
            let qualified = match schema {
                Some(s) => format!("{s}.{t}"),
                None => t.clone(),
            };
            let placeholders = (1..=names.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let conflict = if keys { " ON CONFLICT DO NOTHING" } else { "" };
            let sql = format!(
                "INSERT INTO {qualified} ({}) VALUES ({placeholders}){conflict}",
                names.join(", ")
            );
            let q = crate::db::bind(sqlx::query(&sql), &vals);
            n += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Principals marked active whose data key is gone from the key store (erased after the
    /// backup that was restored).
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

    /// Data keys of erased principals: destroyed again after restoring a key backup, so an old
    /// key backup never revives an erased principal. (The key store also holds the keys of
    /// requests, complaints and incidents; those are not principals and are left alone.)
    pub async fn keys_of_erased(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT k.principal_id FROM mamori_keys.data_keys k JOIN principals p ON p.id = k.principal_id WHERE p.status <> 'active' ORDER BY k.principal_id",
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
