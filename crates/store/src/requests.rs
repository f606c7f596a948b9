//! Storage of principals' requests, disposal records, and the statements of erasure
//! (crypto-shredding: the data key is destroyed, the sealed values and blind indexes deleted).

use serde::Serialize;
use sqlx::Row;

use crate::{Backend, Result, Stmt, Store, now_string, opt_s, s};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: String,
    pub principal_id: Option<String>,
    pub kind: String,
    pub status: String,
    pub received_at: String,
    pub answer_by: String,
    pub channel: String,
    pub purpose: Option<String>,
    pub details_ct: Option<Vec<u8>>,
    pub fee_yen: i64,
    pub lang: String,
    pub opened_by: String,
    pub verified_at: Option<String>,
    pub verified_by: Option<String>,
    pub verify_method: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub ground: Option<String>,
    pub reason_ct: Option<Vec<u8>>,
    pub result: Option<String>,
}

/// A disposal record: what was destroyed, how much, when, by which rule — never the values
/// (seed 000 Art. 8-4; seed 003 Art. 16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisposalRow {
    pub disposal_id: String,
    pub principal_id: String,
    pub categories: Vec<String>,
    pub fields: i64,
    pub at: String,
    pub rule: String,
    pub request_id: Option<String>,
    pub by: String,
}

fn request_row(r: &sqlx::any::AnyRow) -> Result<RequestRow> {
    Ok(RequestRow {
        id: s(r, 0)?,
        principal_id: opt_s(r, 1)?,
        kind: s(r, 2)?,
        status: s(r, 3)?,
        received_at: s(r, 4)?,
        answer_by: s(r, 5)?,
        channel: s(r, 6)?,
        purpose: opt_s(r, 7)?,
        details_ct: r.try_get::<Option<Vec<u8>>, _>(8)?,
        fee_yen: r.try_get::<i64, _>(9)?,
        lang: s(r, 10)?,
        opened_by: s(r, 11)?,
        verified_at: opt_s(r, 12)?,
        verified_by: opt_s(r, 13)?,
        verify_method: opt_s(r, 14)?,
        closed_at: opt_s(r, 15)?,
        closed_by: opt_s(r, 16)?,
        ground: opt_s(r, 17)?,
        reason_ct: r.try_get::<Option<Vec<u8>>, _>(18)?,
        result: opt_s(r, 19)?,
    })
}

/// What a new request holds.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub id: &'a str,
    pub principal_id: Option<&'a str>,
    pub kind: &'a str,
    pub received_at: &'a str,
    pub answer_by: &'a str,
    pub channel: &'a str,
    pub purpose: Option<&'a str>,
    pub details_ct: Option<Vec<u8>>,
    pub fee_yen: i64,
    pub lang: &'a str,
    pub opened_by: &'a str,
}

impl Store {
    pub fn insert_request(r: NewRequest<'_>) -> Stmt {
        Stmt::new(
            "INSERT INTO requests (id, principal_id, kind, status, received_at, answer_by, channel, purpose, details_ct, fee_yen, lang, opened_by) VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $11)",
            vec![
                r.id.into(),
                r.principal_id.into(),
                r.kind.into(),
                r.received_at.into(),
                r.answer_by.into(),
                r.channel.into(),
                r.purpose.into(),
                crate::Val::Blob(r.details_ct),
                r.fee_yen.into(),
                r.lang.into(),
                r.opened_by.into(),
            ],
        )
    }

    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>> {
        let rows = self
            .rows(
                "SELECT id, principal_id, kind, status, received_at, answer_by, channel, purpose, details_ct, fee_yen, lang, opened_by, verified_at, verified_by, verify_method, closed_at, closed_by, ground, reason_ct, result FROM requests WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(request_row).transpose()
    }

    /// Every request, oldest answer-by date first.
    pub async fn requests(&self) -> Result<Vec<RequestRow>> {
        let rows = self
            .rows(
                "SELECT id, principal_id, kind, status, received_at, answer_by, channel, purpose, details_ct, fee_yen, lang, opened_by, verified_at, verified_by, verify_method, closed_at, closed_by, ground, reason_ct, result FROM requests ORDER BY answer_by, received_at, id",
                vec![],
            )
            .await?;
        rows.iter().map(request_row).collect()
    }

    /// Move a request from one status to the next; conflicts if it moved meanwhile.
    pub fn link_request(id: &str, principal_id: &str) -> Stmt {
        Stmt::new(
            "UPDATE requests SET principal_id = $2 WHERE id = $1 AND principal_id IS NULL AND status = 'open'",
            vec![id.into(), principal_id.into()],
        )
        .expecting(1, "the request is linked already or no longer open")
    }

    pub fn verify_request(id: &str, by: &str, method: &str) -> Stmt {
        Stmt::new(
            "UPDATE requests SET status = 'verified', verified_at = $2, verified_by = $3, verify_method = $4 WHERE id = $1 AND status = 'open'",
            vec![id.into(), now_string().into(), by.into(), method.into()],
        )
        .expecting(1, "the request changed meanwhile: look at it again")
    }

    pub fn fulfil_request(id: &str, by: &str, result: &str) -> Stmt {
        Stmt::new(
            "UPDATE requests SET status = 'fulfilled', closed_at = $2, closed_by = $3, result = $4 WHERE id = $1 AND status = 'verified'",
            vec![id.into(), now_string().into(), by.into(), result.into()],
        )
        .expecting(1, "the request changed meanwhile: look at it again")
    }

    pub fn refuse_request(id: &str, by: &str, ground: &str, reason_ct: Vec<u8>) -> Stmt {
        Stmt::new(
            "UPDATE requests SET status = 'refused', closed_at = $2, closed_by = $3, ground = $4, reason_ct = $5 WHERE id = $1 AND status IN ('open', 'verified')",
            vec![id.into(), now_string().into(), by.into(), ground.into(), reason_ct.into()],
        )
        .expecting(1, "the request changed meanwhile: look at it again")
    }

    pub fn insert_suspension(
        id: &str,
        principal_id: &str,
        purpose: Option<&str>,
        request_id: Option<&str>,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO suspensions (id, principal_id, purpose, since, request_id) VALUES ($1, $2, $3, $4, $5)",
            vec![
                id.into(),
                principal_id.into(),
                purpose.into(),
                now_string().into(),
                request_id.into(),
            ],
        )
    }

    // ---- erasure ------------------------------------------------------------------------------

    /// The statements that erase a principal's data, in one job with the disposal record:
    /// sealed values and blind indexes deleted, import fingerprints removed, the principal
    /// marked erased. The data key is destroyed right after (see [`Store::destroy_data_key`]).
    pub fn erase_statements(principal_id: &str, disposal: &DisposalRow) -> Vec<Stmt> {
        vec![
            Stmt::new(
                "UPDATE principals SET status = 'erased', erased_at = $2 WHERE id = $1 AND status = 'active'",
                vec![principal_id.into(), disposal.at.as_str().into()],
            )
            .expecting(1, "the principal was erased meanwhile"),
            Stmt::new("DELETE FROM fields WHERE principal_id = $1", vec![principal_id.into()]),
            Stmt::new("DELETE FROM blind_index WHERE principal_id = $1", vec![principal_id.into()]),
            Stmt::new("DELETE FROM import_rows WHERE principal_id = $1", vec![principal_id.into()]),
            Store::insert_disposal(disposal),
        ]
    }

    /// The statement that destroys a principal's data key, run in the erasure's own commit
    /// (crypto-shredding: every copy of their sealed values, backups included, becomes
    /// unreadable). On SQLite the key store is a separate file: should a crash separate the two
    /// commits, the next retention sweep finishes the erasure either way.
    pub fn destroy_key_statement(principal_id: &str) -> Stmt {
        Stmt::new(
            "DELETE FROM mamori_keys.data_keys WHERE principal_id = $1",
            vec![principal_id.into()],
        )
    }

    /// Destroy a principal's data key on its own (finishing an interrupted erasure). Idempotent.
    pub async fn destroy_data_key(&self, principal_id: &str) -> Result<bool> {
        self.keys().forget(principal_id);
        let done = sqlx::query("DELETE FROM mamori_keys.data_keys WHERE principal_id = $1")
            .bind(principal_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Leave no copy of destroyed keys on disk: on SQLite, checkpoint the key store's WAL into
    /// the file (whose deleted pages `secure_delete` has overwritten) and truncate it. Run after
    /// an erasure request and at the end of a sweep.
    pub async fn shred_key_log(&self) {
        if self.backend() == Backend::Sqlite {
            let _ = sqlx::query("PRAGMA mamori_keys.wal_checkpoint(TRUNCATE)")
                .execute(self.pool())
                .await;
        }
    }

    /// Whether the key store still holds a principal's data key.
    pub async fn has_data_key(&self, principal_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) FROM mamori_keys.data_keys WHERE principal_id = $1")
            .bind(principal_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    pub async fn disposals(&self, principal_id: Option<&str>) -> Result<Vec<DisposalRow>> {
        let rows = match principal_id {
            Some(p) => {
                self.rows(
                    "SELECT id, principal_id, categories, fields, at, rule, request_id, by_login FROM disposals WHERE principal_id = $1 ORDER BY at",
                    vec![p.into()],
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT id, principal_id, categories, fields, at, rule, request_id, by_login FROM disposals ORDER BY at",
                    vec![],
                )
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(DisposalRow {
                    disposal_id: s(r, 0)?,
                    principal_id: s(r, 1)?,
                    categories: s(r, 2)?
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .collect(),
                    fields: r.try_get::<i64, _>(3)?,
                    at: s(r, 4)?,
                    rule: s(r, 5)?,
                    request_id: opt_s(r, 6)?,
                    by: s(r, 7)?,
                })
            })
            .collect()
    }
}
