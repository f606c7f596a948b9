//! Storage of breach (漏えい等) incidents (seed 003 Arts. 7(3), 13(2); APPI 26, PPC rules 7-10):
//! the facts they were assessed on, the deadlines, the steps the manager recorded, the
//! principals affected, the notices or substitute measures, and when the reports went to the PPC.
//!
//! What the reporter described and every text the manager records may hold personal
//! information: they are stored only as ciphertext sealed by `service` under the incident's own
//! data key (key store owner id = the incident id). Every other column holds ids, staff logins,
//! counts, flags, category ids and dates.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Stmt, Store, opt_s, s};

/// One incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    /// `YYYY-MM-DD`: the day the organization became aware (day 1 of the deadlines).
    pub discovered_on: String,
    pub principals_affected: i64,
    pub special_care_data: bool,
    pub financial_damage_risk: bool,
    pub wrongful_purpose: bool,
    pub high_level_encryption: bool,
    pub reportable: bool,
    /// Ground ids, comma-separated in the stored form.
    pub grounds: Vec<String>,
    pub preliminary_due: String,
    pub final_due: Option<String>,
    pub preliminary_submitted_on: Option<String>,
    pub final_submitted_on: Option<String>,
    /// Category ids of the data affected (rule 8(1)(ii)).
    pub categories: Vec<String>,
    pub description_ct: Vec<u8>,
    pub opened_by: String,
    pub opened_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub policy_version: String,
}

/// One recorded step: containment, investigation, damage, recovery or prevention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentStepRow {
    pub id: String,
    pub incident_id: String,
    pub kind: String,
    pub at: String,
    pub staff: String,
    pub text_ct: Vec<u8>,
}

/// A notice sent to the principals, or a substitute measure (APPI 26(2)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentNoticeRow {
    pub id: String,
    pub incident_id: String,
    /// `notice`, `publication` or `inquiry_desk`.
    pub method: String,
    /// `YYYY-MM-DD`.
    pub done_on: String,
    pub at: String,
    pub staff: String,
    pub text_ct: Option<Vec<u8>>,
}

/// A principal affected, selected from the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentPrincipalRow {
    pub principal_id: String,
    pub added_at: String,
    pub added_by: String,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn flag(r: &AnyRow, i: usize) -> Result<bool> {
    Ok(r.try_get::<i64, _>(i)? != 0)
}

/// Reads the 22 columns of `SELECT id, status, discovered_on, …, policy_version` by position.
fn incident_row(r: &AnyRow) -> Result<IncidentRow> {
    Ok(IncidentRow {
        id: s(r, 0)?,
        status: s(r, 1)?,
        discovered_on: s(r, 2)?,
        principals_affected: r.try_get::<i64, _>(3)?,
        special_care_data: flag(r, 4)?,
        financial_damage_risk: flag(r, 5)?,
        wrongful_purpose: flag(r, 6)?,
        high_level_encryption: flag(r, 7)?,
        reportable: flag(r, 8)?,
        grounds: list(&s(r, 9)?),
        preliminary_due: s(r, 10)?,
        final_due: opt_s(r, 11)?,
        preliminary_submitted_on: opt_s(r, 12)?,
        final_submitted_on: opt_s(r, 13)?,
        categories: list(&s(r, 14)?),
        description_ct: r.try_get::<Vec<u8>, _>(15)?,
        opened_by: s(r, 16)?,
        opened_at: s(r, 17)?,
        updated_at: s(r, 18)?,
        closed_at: opt_s(r, 19)?,
        closed_by: opt_s(r, 20)?,
        policy_version: s(r, 21)?,
    })
}

/// The assessed facts and their outcome, as written by `open` and `update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentAssessment {
    pub discovered_on: String,
    pub principals_affected: i64,
    pub special_care_data: bool,
    pub financial_damage_risk: bool,
    pub wrongful_purpose: bool,
    pub high_level_encryption: bool,
    pub reportable: bool,
    pub grounds: Vec<String>,
    pub preliminary_due: String,
    pub final_due: Option<String>,
}

impl Store {
    /// A new incident, status `open`.
    pub fn insert_incident(r: &IncidentRow) -> Stmt {
        Stmt::new(
            "INSERT INTO incidents (id, status, discovered_on, principals_affected, special_care_data, financial_damage_risk, wrongful_purpose, high_level_encryption, reportable, grounds, preliminary_due, final_due, categories, description_ct, opened_by, opened_at, updated_at, policy_version) VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)",
            vec![
                r.id.as_str().into(),
                r.discovered_on.as_str().into(),
                r.principals_affected.into(),
                i64::from(r.special_care_data).into(),
                i64::from(r.financial_damage_risk).into(),
                i64::from(r.wrongful_purpose).into(),
                i64::from(r.high_level_encryption).into(),
                i64::from(r.reportable).into(),
                r.grounds.join(",").into(),
                r.preliminary_due.as_str().into(),
                r.final_due.as_deref().into(),
                r.categories.join(",").into(),
                r.description_ct.clone().into(),
                r.opened_by.as_str().into(),
                r.opened_at.as_str().into(),
                r.policy_version.as_str().into(),
            ],
        )
    }

    /// Re-assessment as the facts change; only while the incident is open.
    pub fn reassess_incident(id: &str, a: &IncidentAssessment, at: &str) -> Stmt {
        Stmt::new(
            "UPDATE incidents SET discovered_on = $2, principals_affected = $3, special_care_data = $4, financial_damage_risk = $5, wrongful_purpose = $6, high_level_encryption = $7, reportable = $8, grounds = $9, preliminary_due = $10, final_due = $11, updated_at = $12 WHERE id = $1 AND status = 'open'",
            vec![
                id.into(),
                a.discovered_on.as_str().into(),
                a.principals_affected.into(),
                i64::from(a.special_care_data).into(),
                i64::from(a.financial_damage_risk).into(),
                i64::from(a.wrongful_purpose).into(),
                i64::from(a.high_level_encryption).into(),
                i64::from(a.reportable).into(),
                a.grounds.join(",").into(),
                a.preliminary_due.as_str().into(),
                a.final_due.as_deref().into(),
                at.into(),
            ],
        )
        .expecting(1, "ID: the incident was closed meanwhile")
    }

    /// A step (sealed text); the incident must still be open.
    pub fn insert_incident_step(r: &IncidentStepRow) -> Stmt {
        Stmt::new(
            "INSERT INTO incident_steps (id, incident_id, kind, at, staff, text_ct) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $2 AND status = 'open')",
            vec![
                r.id.as_str().into(),
                r.incident_id.as_str().into(),
                r.kind.as_str().into(),
                r.at.as_str().into(),
                r.staff.as_str().into(),
                r.text_ct.clone().into(),
            ],
        )
        .expecting(
            1,
            "ID: the incident was closed meanwhile: a closed incident takes no more steps",
        )
    }

    /// An affected principal; adding one twice is a no-op.
    pub fn insert_incident_principal(
        incident_id: &str,
        principal_id: &str,
        by: &str,
        at: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO incident_principals (incident_id, principal_id, added_at, added_by) SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $1 AND status = 'open') ON CONFLICT (incident_id, principal_id) DO NOTHING",
            vec![
                incident_id.into(),
                principal_id.into(),
                at.into(),
                by.into(),
            ],
        )
    }

    /// The category ids of the data affected (rule 8(1)(ii)).
    pub fn set_incident_categories(id: &str, categories: &[String], at: &str) -> Stmt {
        Stmt::new(
            "UPDATE incidents SET categories = $2, updated_at = $3 WHERE id = $1 AND status = 'open'",
            vec![id.into(), categories.join(",").into(), at.into()],
        )
        .expecting(1, "ID: the incident was closed meanwhile")
    }

    /// A notice to the principals or a substitute measure.
    pub fn insert_incident_notice(r: &IncidentNoticeRow) -> Stmt {
        Stmt::new(
            "INSERT INTO incident_notices (id, incident_id, method, done_on, at, staff, text_ct) SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $2 AND status = 'open')",
            vec![
                r.id.as_str().into(),
                r.incident_id.as_str().into(),
                r.method.as_str().into(),
                r.done_on.as_str().into(),
                r.at.as_str().into(),
                r.staff.as_str().into(),
                crate::Val::Blob(r.text_ct.clone()),
            ],
        )
        .expecting(1, "ID: the incident was closed meanwhile")
    }

    /// The preliminary report went to the PPC on `on`.
    pub fn incident_preliminary_submitted(id: &str, on: &str, at: &str) -> Stmt {
        Stmt::new(
            "UPDATE incidents SET preliminary_submitted_on = $2, updated_at = $3 WHERE id = $1 AND status = 'open'",
            vec![id.into(), on.into(), at.into()],
        )
        .expecting(1, "ID: the incident was closed meanwhile")
    }

    /// The final report went to the PPC on `on`.
    pub fn incident_final_submitted(id: &str, on: &str, at: &str) -> Stmt {
        Stmt::new(
            "UPDATE incidents SET final_submitted_on = $2, updated_at = $3 WHERE id = $1 AND status = 'open'",
            vec![id.into(), on.into(), at.into()],
        )
        .expecting(1, "ID: the incident was closed meanwhile")
    }

    /// Close; a closed incident stays closed.
    pub fn close_incident(id: &str, by: &str, at: &str) -> Stmt {
        Stmt::new(
            "UPDATE incidents SET status = 'closed', closed_at = $2, closed_by = $3, updated_at = $2 WHERE id = $1 AND status = 'open'",
            vec![id.into(), at.into(), by.into()],
        )
        .expecting(1, "ID: the incident was closed meanwhile")
    }

    pub async fn incident(&self, id: &str) -> Result<Option<IncidentRow>> {
        let rows = self
            .rows(
                "SELECT id, status, discovered_on, principals_affected, special_care_data, financial_damage_risk, wrongful_purpose, high_level_encryption, reportable, grounds, preliminary_due, final_due, preliminary_submitted_on, final_submitted_on, categories, description_ct, opened_by, opened_at, updated_at, closed_at, closed_by, policy_version FROM incidents WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(incident_row).transpose()
    }

    /// Every incident, earliest discovered first.
    pub async fn incidents(&self) -> Result<Vec<IncidentRow>> {
        let rows = self
            .rows(
                "SELECT id, status, discovered_on, principals_affected, special_care_data, financial_damage_risk, wrongful_purpose, high_level_encryption, reportable, grounds, preliminary_due, final_due, preliminary_submitted_on, final_submitted_on, categories, description_ct, opened_by, opened_at, updated_at, closed_at, closed_by, policy_version FROM incidents ORDER BY discovered_on, opened_at, id",
                vec![],
            )
            .await?;
        rows.iter().map(incident_row).collect()
    }

    pub async fn incident_steps(&self, incident_id: &str) -> Result<Vec<IncidentStepRow>> {
        let rows = self
            .rows(
                "SELECT id, incident_id, kind, at, staff, text_ct FROM incident_steps WHERE incident_id = $1 ORDER BY at, id",
                vec![incident_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentStepRow {
                    id: s(r, 0)?,
                    incident_id: s(r, 1)?,
                    kind: s(r, 2)?,
                    at: s(r, 3)?,
                    staff: s(r, 4)?,
                    text_ct: r.try_get::<Vec<u8>, _>(5)?,
                })
            })
            .collect()
    }

    pub async fn incident_principals(
        &self,
        incident_id: &str,
    ) -> Result<Vec<IncidentPrincipalRow>> {
        let rows = self
            .rows(
                "SELECT principal_id, added_at, added_by FROM incident_principals WHERE incident_id = $1 ORDER BY principal_id",
                vec![incident_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentPrincipalRow {
                    principal_id: s(r, 0)?,
                    added_at: s(r, 1)?,
                    added_by: s(r, 2)?,
                })
            })
            .collect()
    }

    pub async fn incident_principal_count(&self, incident_id: &str) -> Result<i64> {
        self.count(
            "SELECT COUNT(*) FROM incident_principals WHERE incident_id = $1",
            vec![incident_id.into()],
        )
        .await
    }

    pub async fn incident_notices(&self, incident_id: &str) -> Result<Vec<IncidentNoticeRow>> {
        let rows = self
            .rows(
                "SELECT id, incident_id, method, done_on, at, staff, text_ct FROM incident_notices WHERE incident_id = $1 ORDER BY at, id",
                vec![incident_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentNoticeRow {
                    id: s(r, 0)?,
                    incident_id: s(r, 1)?,
                    method: s(r, 2)?,
                    done_on: s(r, 3)?,
                    at: s(r, 4)?,
                    staff: s(r, 5)?,
                    text_ct: r.try_get::<Option<Vec<u8>>, _>(6)?,
                })
            })
            .collect()
    }
}
