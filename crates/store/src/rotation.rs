//! Master key rotation: every data key (and the blind-index key) is rewrapped under a new master
//! key, a page at a time; readers keep working throughout (each stored key names the KEK that
//! wrapped it, and a process that meets a KEK it does not know reads the key files again). The
//! new key waits in `master.key.new` until everything is rewrapped, then replaces `master.key`;
//! a rotation interrupted by a crash resumes with the same new key.

use serde::Serialize;
use sqlx::Row;

use crate::{MASTER_KEY_FILE, MASTER_KEY_NEXT_FILE, Result, Store, StoreError, crypto};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RotateReport {
    pub rewrapped: u64,
    pub secrets: u64,
    pub kek_id: String,
    pub key_file: String,
    pub resumed: bool,
}

const PAGE: i64 = 500;

impl Store {
    pub async fn rotate_master_key(&self) -> Result<RotateReport> {
        if crate::master_from_env() {
            return Err(StoreError::Input(format!(
                "{}: the master key comes from the environment: rotate it where it is kept, or move it to a key file first",
                crate::MASTER_KEY_ENV
            )));
        }
        let dir = self.data_dir().to_path_buf();
        let next_path = dir.join(MASTER_KEY_NEXT_FILE);
        let resumed = next_path.exists();
        if !resumed {
            crypto::write_secret_file(&next_path, &crypto::Keys::generate_master_hex())?;
        }
        let next = crypto::read_secret_file(&next_path)?;
        let new_id = self
            .keys()
            .add_master_hex(&next, MASTER_KEY_NEXT_FILE, true)?;
        let mut rewrapped = 0;
        loop {
            let rows = sqlx::query(
                "SELECT principal_id, wrapped, kek_id FROM mamori_keys.data_keys WHERE kek_id <> $1 ORDER BY principal_id LIMIT $2",
            )
            .bind(new_id.as_str())
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.pool().begin().await?;
            for r in &rows {
                let id: String = r.try_get(0)?;
                let wrapped: Vec<u8> = r.try_get(1)?;
                let old: String = r.try_get(2)?;
                let dk = self.keys().unwrap_data_key(&id, &wrapped, &old)?;
                let (bytes, kek) = self.keys().rewrap(&id, &dk)?;
                sqlx::query("UPDATE mamori_keys.data_keys SET wrapped = $2, kek_id = $3 WHERE principal_id = $1 AND kek_id = $4")
                    .bind(id.as_str())
                    .bind(bytes)
                    .bind(kek)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
                rewrapped += 1;
            }
            tx.commit().await?;
        }
        let mut secrets = 0;
        let rows =
            sqlx::query("SELECT name, wrapped, kek_id FROM mamori_keys.secrets WHERE kek_id <> $1")
                .bind(new_id.as_str())
                .fetch_all(self.pool())
                .await?;
        for r in &rows {
            let name: String = r.try_get(0)?;
            let wrapped: Vec<u8> = r.try_get(1)?;
            let old: String = r.try_get(2)?;
            let secret = self.keys().unwrap_secret(&name, &wrapped, &old)?;
            let (bytes, kek) = self.keys().wrap_secret(&name, &secret)?;
            sqlx::query("UPDATE mamori_keys.secrets SET wrapped = $2, kek_id = $3 WHERE name = $1 AND kek_id = $4")
                .bind(name.as_str())
                .bind(bytes)
                .bind(kek)
                .bind(old)
                .execute(self.pool())
                .await?;
            secrets += 1;
        }
        // Everything is under the new key: it becomes the master key, the old one is gone.
        let key_file = dir.join(MASTER_KEY_FILE);
        std::fs::rename(&next_path, &key_file).map_err(|e| {
            StoreError::Unavailable(format!("cannot replace {}: {e}", key_file.display()))
        })?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        self.keys().keep_only_primary();
        if self.backend() == crate::Backend::Sqlite {
            let _ = sqlx::query("PRAGMA mamori_keys.wal_checkpoint(TRUNCATE)")
                .execute(self.pool())
                .await;
        }
        Ok(RotateReport {
            rewrapped,
            secrets,
            kek_id: new_id,
            key_file: key_file.display().to_string(),
            resumed,
        })
    }
}
