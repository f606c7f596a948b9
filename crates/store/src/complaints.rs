//! Storage of complaints (seed 003 Art. 23; seed 000 Art. 11): when they arrived, when they
//! count from, when they are due, who acknowledged, noted, consulted and closed them.
//!
//! What the complainant said (the summary), the investigation notes and the result may hold
//! personal information: they are stored only as ciphertext sealed by `service` under the
//! complaint's own data key (key store owner id = the complaint id). Every other column holds
//! ids, staff logins, times and dates.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Stmt, Store, opt_s, s};

/// One complaint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRow {
    pub id: String,
    /// The principal the complaint concerns, when known.
    pub principal_id: Option<String>,
    /// How it arrived: `phone`, `letter`, `email`, `visit`, `portal`.
    pub channel: Option<String>,
    /// RFC 3339, Japan time.
    pub received_at: String,
    /// Whether the desk was open when it arrived (seed 003 Art. 23(3)).
    pub window_open: bool,
    /// RFC 3339, Japan time: the moment it counts from.
    pub counted_from: String,
    /// `YYYY-MM-DD`, Japan date.
    pub answer_by: String,
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
    pub summary_ct: Vec<u8>,
    pub opened_by: String,
    pub opened_at: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub result_ct: Option<Vec<u8>>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub policy_version: String,
}

/// One investigation note (seed 003 Art. 23(4)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintNoteRow {
    pub id: String,
    pub complaint_id: String,
    pub at: String,
    pub staff: String,
    /// The staff consulted, as logins.
    pub consulted: Vec<String>,
    pub text_ct: Vec<u8>,
}

/// Reads the 17 columns of `SELECT id, principal_id, …, policy_version` by position.
fn complaint_row(r: &AnyRow) -> Result<ComplaintRow> {
    Ok(ComplaintRow {
        id: s(r, 0)?,
        principal_id: opt_s(r, 1)?,
        channel: opt_s(r, 2)?,
        received_at: s(r, 3)?,
        window_open: r.try_get::<i64, _>(4)? != 0,
        counted_from: s(r, 5)?,
        answer_by: s(r, 6)?,
        status: s(r, 7)?,
        summary_ct: r.try_get::<Vec<u8>, _>(8)?,
        opened_by: s(r, 9)?,
        opened_at: s(r, 10)?,
        acknowledged_at: opt_s(r, 11)?,
        acknowledged_by: opt_s(r, 12)?,
        result_ct: r.try_get::<Option<Vec<u8>>, _>(13)?,
        closed_at: opt_s(r, 14)?,
        closed_by: opt_s(r, 15)?,
        policy_version: s(r, 16)?,
    })
}

impl Store {
    /// A new complaint, status `open`.
    pub fn insert_complaint(c: &ComplaintRow) -> Stmt {
        Stmt::new(
            "INSERT INTO complaints (id, principal_id, channel, received_at, window_open, counted_from, answer_by, status, summary_ct, opened_by, opened_at, policy_version) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11)",
            vec![
                c.id.as_str().into(),
                c.principal_id.as_deref().into(),
                c.channel.as_deref().into(),
                c.received_at.as_str().into(),
                i64::from(c.window_open).into(),
                c.counted_from.as_str().into(),
                c.answer_by.as_str().into(),
                c.summary_ct.clone().into(),
                c.opened_by.as_str().into(),
                c.opened_at.as_str().into(),
                c.policy_version.as_str().into(),
            ],
        )
    }

    /// Record the acknowledgement; only an `open` complaint can be acknowledged.
    pub fn acknowledge_complaint(id: &str, by: &str, at: &str) -> Stmt {
        Stmt::new(
            "UPDATE complaints SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 AND status = 'open'",
            vec![id.into(), at.into(), by.into()],
        )
        .expecting(
            1,
            "ID: the complaint was acknowledged or closed meanwhile: `complaint show ID` shows it",
        )
    }

    /// An investigation note; the complaint must still be open (not closed).
    pub fn insert_complaint_note(n: &ComplaintNoteRow) -> Stmt {
        Stmt::new(
            "INSERT INTO complaint_notes (id, complaint_id, at, staff, consulted, text_ct) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM complaints WHERE id = $2 AND status <> 'closed')",
            vec![
                n.id.as_str().into(),
                n.complaint_id.as_str().into(),
                n.at.as_str().into(),
                n.staff.as_str().into(),
                n.consulted.join(",").into(),
                n.text_ct.clone().into(),
            ],
        )
        .expecting(
            1,
            "ID: the complaint was closed meanwhile: a closed complaint takes no more notes",
        )
    }

    /// Record the result and close; a closed complaint stays closed.
    pub fn close_complaint(id: &str, by: &str, at: &str, result_ct: Vec<u8>) -> Stmt {
        Stmt::new(
            "UPDATE complaints SET status = 'closed', result_ct = $2, closed_at = $3, closed_by = $4 WHERE id = $1 AND status <> 'closed'",
            vec![id.into(), result_ct.into(), at.into(), by.into()],
        )
        .expecting(1, "ID: the complaint was closed meanwhile")
    }

    pub async fn complaint(&self, id: &str) -> Result<Option<ComplaintRow>> {
        let rows = self
            .rows(
                "SELECT id, principal_id, channel, received_at, window_open, counted_from, answer_by, status, summary_ct, opened_by, opened_at, acknowledged_at, acknowledged_by, result_ct, closed_at, closed_by, policy_version FROM complaints WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(complaint_row).transpose()
    }

    /// Every complaint, oldest first; with `due_before`, only those not closed whose answer-by
    /// date is before that date (`YYYY-MM-DD`).
    pub async fn complaints(&self, due_before: Option<&str>) -> Result<Vec<ComplaintRow>> {
        let rows = match due_before {
            Some(d) => {
                self.rows(
                    "SELECT id, principal_id, channel, received_at, window_open, counted_from, answer_by, status, summary_ct, opened_by, opened_at, acknowledged_at, acknowledged_by, result_ct, closed_at, closed_by, policy_version FROM complaints WHERE status <> 'closed' AND answer_by < $1 ORDER BY received_at, id",
                    vec![d.into()],
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT id, principal_id, channel, received_at, window_open, counted_from, answer_by, status, summary_ct, opened_by, opened_at, acknowledged_at, acknowledged_by, result_ct, closed_at, closed_by, policy_version FROM complaints ORDER BY received_at, id",
                    vec![],
                )
                .await?
            }
        };
        rows.iter().map(complaint_row).collect()
    }

    /// The notes of a complaint, oldest first.
    pub async fn complaint_notes(&self, complaint_id: &str) -> Result<Vec<ComplaintNoteRow>> {
        let rows = self
            .rows(
                "SELECT id, complaint_id, at, staff, consulted, text_ct FROM complaint_notes WHERE complaint_id = $1 ORDER BY at, id",
                vec![complaint_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let consulted = s(r, 4)?;
                Ok(ComplaintNoteRow {
                    id: s(r, 0)?,
                    complaint_id: s(r, 1)?,
                    at: s(r, 2)?,
                    staff: s(r, 3)?,
                    consulted: consulted
                        .split(',')
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect(),
                    text_ct: r.try_get::<Vec<u8>, _>(5)?,
                })
            })
            .collect()
    }
}
