//! Storage of principals' requests, disposal records, and the statements of erasure
//! (crypto-shredding: the data key is destroyed, the sealed values and blind indexes deleted).

use serde::Serialize;
use sqlx::Row;

use crate::{Backend, Result, Stmt, Store, now_string, opt_s, s};

/// The records linked to a principal whose free texts are shredded with them: requests;
/// complaints with their notes' ids; incidents with their steps' and notices' ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkedRecords {
    pub requests: Vec<String>,
    pub complaints: Vec<(String, Vec<String>)>,
    pub incidents: Vec<(String, Vec<String>, Vec<String>)>,
}

/// Which sealed text of a linked record a stub replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubbedText {
    ComplaintSummary,
    ComplaintResult,
    ComplaintNote,
    RequestDetails,
    RequestReason,
    RequestEvidence,
    IncidentDescription,
    IncidentStep,
    IncidentNotice,
}

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
    /// The identity evidence recorded at verification (sealed under the request's key).
    pub evidence_ct: Option<Vec<u8>>,
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
        evidence_ct: r.try_get::<Option<Vec<u8>>, _>(20)?,
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
                "SELECT id, principal_id, kind, status, received_at, answer_by, channel, purpose, details_ct, fee_yen, lang, opened_by, verified_at, verified_by, verify_method, closed_at, closed_by, ground, reason_ct, result, evidence_ct FROM requests WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(request_row).transpose()
    }

    /// Every request, oldest answer-by date first.
    pub async fn requests(&self) -> Result<Vec<RequestRow>> {
        let rows = self
            .rows(
                "SELECT id, principal_id, kind, status, received_at, answer_by, channel, purpose, details_ct, fee_yen, lang, opened_by, verified_at, verified_by, verify_method, closed_at, closed_by, ground, reason_ct, result, evidence_ct FROM requests ORDER BY answer_by, received_at, id",
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

    /// Mark a request verified with the evidence the check rests on (sealed; issue 20).
    pub fn verify_request(id: &str, by: &str, method: &str, evidence_ct: Vec<u8>) -> Stmt {
        Stmt::new(
            "UPDATE requests SET status = 'verified', verified_at = $2, verified_by = $3, verify_method = $4, evidence_ct = $5 WHERE id = $1 AND (status = 'open' OR (status = 'verified' AND evidence_ct IS NULL))",
            vec![
                id.into(),
                now_string().into(),
                by.into(),
                method.into(),
                evidence_ct.into(),
            ],
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

    /// Suspend a principal's data (as read: `principal`): the suspension row and the
    /// principal's count of suspensions, both with their MACs ([`crate::facts`]). Guarded by
    /// the count read, so two suspensions at once cannot both count as the first.
    pub fn insert_suspension(
        keys: &crate::Keys,
        id: &str,
        principal: &crate::PrincipalRow,
        purpose: Option<&str>,
        request_id: Option<&str>,
    ) -> Vec<Stmt> {
        let since = now_string();
        let mac = crate::facts::mac(
            keys,
            crate::facts::SUSPENSION,
            &crate::facts::suspension(id, &principal.id, purpose, &since, None),
        );
        let count = principal.suspension_count + 1;
        let principal_mac = Store::principal_mac(
            keys,
            &principal.id,
            &principal.channel,
            &principal.policy_version,
            count,
        );
        vec![
            Stmt::new(
                "INSERT INTO suspensions (id, principal_id, purpose, since, request_id, facts_mac) VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    id.into(),
                    principal.id.as_str().into(),
                    purpose.into(),
                    since.into(),
                    request_id.into(),
                    mac.into(),
                ],
            ),
            Stmt::new(
                "UPDATE principals SET suspension_count = $2, facts_mac = $3 WHERE id = $1 AND suspension_count = $4 AND channel = $5 AND policy_version = $6",
                vec![
                    principal.id.as_str().into(),
                    count.into(),
                    principal_mac.into(),
                    principal.suspension_count.into(),
                    principal.channel.as_str().into(),
                    principal.policy_version.as_str().into(),
                ],
            )
            .expecting(1, "the principal changed meanwhile: look at them again"),
        ]
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

    /// Leave no copy of what an erasure deleted on disk: on SQLite, checkpoint the WALs of the
    /// key store and of the main database into their files (whose deleted cells and pages
    /// `secure_delete` has overwritten with zeros) and truncate them, so neither the destroyed
    /// data key nor the deleted ciphertexts and blind-index digests survive in `mamori.db`,
    /// `keys.db` or their `-wal` files. Run after an erasure request and at the end of a sweep.
    /// On PostgreSQL the deleted rows stay as dead tuples until VACUUM reuses their space
    /// (SECURITY.md says what holds there).
    pub async fn shred_key_log(&self) {
        if self.backend() == Backend::Sqlite {
            for sql in [
                "PRAGMA mamori_keys.wal_checkpoint(TRUNCATE)",
                "PRAGMA main.wal_checkpoint(TRUNCATE)",
            ] {
                if let Err(e) = sqlx::query(sql).execute(self.pool()).await {
                    tracing::warn!(error = %e, "WAL checkpoint after an erasure failed");
                }
            }
        }
    }

    /// The records that name a principal by link, whose free texts go with them at erasure
    /// (issue 20): complaints and requests about them, incidents that affected them, with the
    /// ids of each record's sealed texts.
    pub async fn linked_records(&self, principal_id: &str) -> Result<LinkedRecords> {
        let ids = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<String>> {
            rows.iter().map(|r| s(r, 0)).collect()
        };
        let complaints = ids(self
            .rows(
                "SELECT id FROM complaints WHERE principal_id = $1 ORDER BY id",
                vec![principal_id.into()],
            )
            .await?)?;
        let mut out = LinkedRecords {
            requests: ids(self
                .rows(
                    "SELECT id FROM requests WHERE principal_id = $1 ORDER BY id",
                    vec![principal_id.into()],
                )
                .await?)?,
            ..Default::default()
        };
        for c in complaints {
            let notes = ids(self
                .rows(
                    "SELECT id FROM complaint_notes WHERE complaint_id = $1 ORDER BY id",
                    vec![c.as_str().into()],
                )
                .await?)?;
            out.complaints.push((c, notes));
        }
        let incidents = ids(
            self.rows(
                "SELECT incident_id FROM incident_principals WHERE principal_id = $1 ORDER BY incident_id",
                vec![principal_id.into()],
            )
            .await?,
        )?;
        for i in incidents {
            let steps = ids(self
                .rows(
                    "SELECT id FROM incident_steps WHERE incident_id = $1 ORDER BY id",
                    vec![i.as_str().into()],
                )
                .await?)?;
            let notices = ids(
                self.rows(
                    "SELECT id FROM incident_notices WHERE incident_id = $1 AND text_ct IS NOT NULL ORDER BY id",
                    vec![i.as_str().into()],
                )
                .await?,
            )?;
            out.incidents.push((i, steps, notices));
        }
        Ok(out)
    }

    /// Replace a record's data key (key id = the record's id) by a new one, in the commit that
    /// reseals its texts: the old key is gone, so the old ciphertexts (in backups too) are
    /// unreadable.
    pub fn rekey_statement(record_id: &str, wrapped: &crate::crypto::Wrapped) -> Stmt {
        Stmt::new(
            "UPDATE mamori_keys.data_keys SET wrapped = $2, kek_id = $3, created_at = $4 WHERE principal_id = $1",
            vec![
                record_id.into(),
                wrapped.bytes.clone().into(),
                wrapped.kek_id.as_str().into(),
                now_string().into(),
            ],
        )
        .expecting(1, "the record has no data key")
    }

    /// A linked record's sealed text replaced by its stub (sealed under the record's new key).
    pub fn stub_text(which: StubbedText, id: &str, ct: Vec<u8>) -> Stmt {
        let sql = match which {
            StubbedText::ComplaintSummary => "UPDATE complaints SET summary_ct = $2 WHERE id = $1",
            StubbedText::ComplaintResult => {
                "UPDATE complaints SET result_ct = $2 WHERE id = $1 AND result_ct IS NOT NULL"
            }
            StubbedText::ComplaintNote => "UPDATE complaint_notes SET text_ct = $2 WHERE id = $1",
            StubbedText::RequestDetails => {
                "UPDATE requests SET details_ct = $2 WHERE id = $1 AND details_ct IS NOT NULL"
            }
            StubbedText::RequestReason => {
                "UPDATE requests SET reason_ct = $2 WHERE id = $1 AND reason_ct IS NOT NULL"
            }
            StubbedText::RequestEvidence => {
                "UPDATE requests SET evidence_ct = $2 WHERE id = $1 AND evidence_ct IS NOT NULL"
            }
            StubbedText::IncidentDescription => {
                "UPDATE incidents SET description_ct = $2 WHERE id = $1"
            }
            StubbedText::IncidentStep => "UPDATE incident_steps SET text_ct = $2 WHERE id = $1",
            StubbedText::IncidentNotice => {
                "UPDATE incident_notices SET text_ct = $2 WHERE id = $1 AND text_ct IS NOT NULL"
            }
        };
        Stmt::new(sql, vec![id.into(), ct.into()])
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
