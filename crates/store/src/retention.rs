//! The reads and statements of retention sweeps (seed 000 Art. 8-4; seed 003 Art. 16).

use sqlx::Row;

use crate::{PrincipalRow, Result, Stmt, Store, s};

impl Store {
    /// Active principals after `after` (by id), a page at a time, so a sweep over a million
    /// principals never holds them all.
    pub async fn active_principals_page(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PrincipalRow>> {
        let rows = self
            .rows(
                "SELECT id, channel, created_at, last_activity_at, policy_version, status, suspension_count FROM principals WHERE status = 'active' AND id > $1 ORDER BY id LIMIT $2",
                vec![after.into(), limit.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PrincipalRow {
                    id: s(r, 0)?,
                    channel: s(r, 1)?,
                    created_at: s(r, 2)?,
                    last_activity_at: s(r, 3)?,
                    policy_version: s(r, 4)?,
                    status: s(r, 5)?,
                    suspension_count: r.try_get::<i64, _>(6)?,
                })
            })
            .collect()
    }

    /// A request about this principal that is still being answered.
    pub async fn open_request_of(&self, principal_id: &str) -> Result<Option<String>> {
        let rows = self
            .rows(
                "SELECT id FROM requests WHERE principal_id = $1 AND status IN ('open', 'verified') ORDER BY received_at LIMIT 1",
                vec![principal_id.into()],
            )
            .await?;
        rows.first().map(|r| s(r, 0)).transpose()
    }

    /// Remove one field (and its blind index) whose own retention period has passed.
    pub fn remove_field_statements(principal_id: &str, category: &str) -> Vec<Stmt> {
        vec![
            Stmt::new(
                "DELETE FROM fields WHERE principal_id = $1 AND category = $2",
                vec![principal_id.into(), category.into()],
            ),
            Stmt::new(
                "DELETE FROM blind_index WHERE principal_id = $1 AND category = $2",
                vec![principal_id.into(), category.into()],
            ),
        ]
    }

    pub fn insert_disposal(d: &crate::DisposalRow) -> Stmt {
        Stmt::new(
            "INSERT INTO disposals (id, principal_id, categories, fields, at, rule, request_id, by_login) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                d.disposal_id.as_str().into(),
                d.principal_id.as_str().into(),
                d.categories.join(",").into(),
                d.fields.into(),
                d.at.as_str().into(),
                d.rule.as_str().into(),
                d.request_id.clone().into(),
                d.by.as_str().into(),
            ],
        )
    }

    /// Provision records whose keeping period ended before `today` (YYYY-MM-DD).
    pub async fn expired_provision_records(&self, today: &str) -> Result<i64> {
        let rows = self
            .rows(
                "SELECT COUNT(*) FROM provisions WHERE record_kept_until < $1",
                vec![today.into()],
            )
            .await?;
        Ok(rows
            .first()
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(0))
    }

    pub fn purge_provision_records(today: &str) -> Stmt {
        Stmt::new(
            "DELETE FROM provisions WHERE record_kept_until < $1",
            vec![today.into()],
        )
    }
}
