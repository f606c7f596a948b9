//! Storage of governance records (seed 003 Arts. 6, 7, 15, 19, 22, 24; seed 000 Art. 8-2):
//! pledges, trainings, inspections and findings, committee meetings, violation reports, the
//! manager's review of statutory-exception accesses, role changes, and the counts behind the
//! ledger. Sealed columns (`*_ct`) hold texts that may name people; the store keeps them as
//! given and enforces no rule about who reads them.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Stmt, Store, Val, now_string, opt_s, s};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeRow {
    pub id: String,
    pub login: String,
    pub signed_on: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingRow {
    pub id: String,
    pub title: String,
    pub held_on: String,
    pub material: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
    pub attendees: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionRow {
    pub id: String,
    pub run_at: String,
    pub as_of: String,
    pub by: String,
    pub passed: i64,
    pub failed: i64,
    /// The checklist as JSON (ids, counts, dates; never values).
    pub items: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub id: String,
    pub inspection_id: String,
    pub text_ct: Vec<u8>,
    pub action_ct: Option<Vec<u8>>,
    pub due_on: String,
    pub status: String,
    pub opened_by: String,
    pub opened_at: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub result_ct: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRow {
    pub id: String,
    pub held_on: String,
    pub chair: String,
    pub members: Vec<String>,
    pub minutes_ct: Vec<u8>,
    pub decisions_ct: Option<Vec<u8>>,
    pub decisions: i64,
    pub recorded_by: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationRow {
    pub id: String,
    pub reported_at: String,
    pub reporter_ct: Vec<u8>,
    pub text_ct: Vec<u8>,
    pub status: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub result_ct: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionReviewRow {
    pub id: String,
    pub principal_id: String,
    pub staff: String,
    pub kind: String,
    pub purpose: String,
    pub reason_ct: Vec<u8>,
    pub at: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// A fulfilled request under review (issue 20); `None` for an exception access.
    pub request_id: Option<String>,
}

/// An audit entry of a staff-account action (creation, invitation, role change) for the
/// manager's review: who did it, when, to which account (issue 20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffActionRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// What a new finding holds.
#[derive(Debug, Clone)]
pub struct NewFinding<'a> {
    pub id: &'a str,
    pub inspection_id: &'a str,
    pub text_ct: Vec<u8>,
    pub action_ct: Option<Vec<u8>>,
    pub due_on: &'a str,
    pub opened_by: &'a str,
}

/// What a new committee meeting holds.
#[derive(Debug, Clone)]
pub struct NewMeeting<'a> {
    pub id: &'a str,
    pub held_on: &'a str,
    pub chair: &'a str,
    pub members: &'a [String],
    pub minutes_ct: Vec<u8>,
    pub decisions_ct: Option<Vec<u8>>,
    pub decisions: i64,
    pub recorded_by: &'a str,
}

fn blob(r: &AnyRow, i: usize) -> Result<Vec<u8>> {
    Ok(r.try_get::<Vec<u8>, _>(i)?)
}
fn opt_blob(r: &AnyRow, i: usize) -> Result<Option<Vec<u8>>> {
    Ok(r.try_get::<Option<Vec<u8>>, _>(i)?)
}
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn finding_row(r: &AnyRow) -> Result<FindingRow> {
    Ok(FindingRow {
        id: s(r, 0)?,
        inspection_id: s(r, 1)?,
        text_ct: blob(r, 2)?,
        action_ct: opt_blob(r, 3)?,
        due_on: s(r, 4)?,
        status: s(r, 5)?,
        opened_by: s(r, 6)?,
        opened_at: s(r, 7)?,
        closed_by: opt_s(r, 8)?,
        closed_at: opt_s(r, 9)?,
        result_ct: opt_blob(r, 10)?,
    })
}

fn meeting_row(r: &AnyRow) -> Result<MeetingRow> {
    Ok(MeetingRow {
        id: s(r, 0)?,
        held_on: s(r, 1)?,
        chair: s(r, 2)?,
        members: list(&s(r, 3)?),
        minutes_ct: blob(r, 4)?,
        decisions_ct: opt_blob(r, 5)?,
        decisions: r.try_get::<i64, _>(6)?,
        recorded_by: s(r, 7)?,
        recorded_at: s(r, 8)?,
    })
}

fn violation_row(r: &AnyRow) -> Result<ViolationRow> {
    Ok(ViolationRow {
        id: s(r, 0)?,
        reported_at: s(r, 1)?,
        reporter_ct: blob(r, 2)?,
        text_ct: blob(r, 3)?,
        status: s(r, 4)?,
        closed_by: opt_s(r, 5)?,
        closed_at: opt_s(r, 6)?,
        result_ct: opt_blob(r, 7)?,
    })
}

fn review_row(r: &AnyRow) -> Result<ExceptionReviewRow> {
    Ok(ExceptionReviewRow {
        id: s(r, 0)?,
        principal_id: s(r, 1)?,
        staff: s(r, 2)?,
        kind: s(r, 3)?,
        purpose: s(r, 4)?,
        reason_ct: blob(r, 5)?,
        at: s(r, 6)?,
        reviewed_by: opt_s(r, 7)?,
        reviewed_at: opt_s(r, 8)?,
        request_id: opt_s(r, 9)?,
    })
}

fn inspection_row(r: &AnyRow) -> Result<InspectionRow> {
    Ok(InspectionRow {
        id: s(r, 0)?,
        run_at: s(r, 1)?,
        as_of: s(r, 2)?,
        by: s(r, 3)?,
        passed: r.try_get::<i64, _>(4)?,
        failed: r.try_get::<i64, _>(5)?,
        items: s(r, 6)?,
    })
}

impl Store {
    // ---- staff roles ----------------------------------------------------------------------------

    /// A new role for a staff member (as read: `from`); the MAC is renewed
    /// ([`crate::facts`]).
    pub fn set_staff_role(keys: &crate::Keys, from: &crate::StaffRow, role: &str) -> Stmt {
        let mac = crate::facts::mac(
            keys,
            crate::facts::STAFF,
            &crate::facts::staff(&from.login, role, from.disabled),
        );
        Stmt::new(
            "UPDATE staff SET role = $3, facts_mac = $4 WHERE login = $1 AND role = $2 AND disabled = $5",
            vec![
                from.login.as_str().into(),
                from.role.as_str().into(),
                role.into(),
                mac.into(),
                i64::from(from.disabled).into(),
            ],
        )
        .expecting(1, "the staff member changed meanwhile: look again")
    }

    /// Disable a staff member (as read: `row`); the MAC is renewed ([`crate::facts`]).
    pub fn disable_staff(keys: &crate::Keys, row: &crate::StaffRow) -> Stmt {
        let mac = crate::facts::mac(
            keys,
            crate::facts::STAFF,
            &crate::facts::staff(&row.login, &row.role, true),
        );
        Stmt::new(
            "UPDATE staff SET disabled = 1, facts_mac = $3 WHERE login = $1 AND role = $2 AND disabled = 0",
            vec![row.login.as_str().into(), row.role.as_str().into(), mac.into()],
        )
        .expecting(1, "the staff member is disabled already")
    }

    /// Revoke every API token of a staff member (when they are disabled).
    pub fn revoke_tokens_of(login: &str) -> Stmt {
        Stmt::new(
            "UPDATE api_tokens SET revoked_at = $2 WHERE login = $1 AND revoked_at IS NULL",
            vec![login.into(), now_string().into()],
        )
    }

    // ---- pledges and training ---------------------------------------------------------------

    pub fn insert_pledge(id: &str, login: &str, signed_on: &str, by: &str) -> Stmt {
        Stmt::new(
            "INSERT INTO pledges (id, login, signed_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                id.into(),
                login.into(),
                signed_on.into(),
                by.into(),
                now_string().into(),
            ],
        )
    }

    pub async fn pledges(&self) -> Result<Vec<PledgeRow>> {
        let rows = self
            .rows(
                "SELECT id, login, signed_on, recorded_by, recorded_at FROM pledges ORDER BY signed_on, recorded_at",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PledgeRow {
                    id: s(r, 0)?,
                    login: s(r, 1)?,
                    signed_on: s(r, 2)?,
                    recorded_by: s(r, 3)?,
                    recorded_at: s(r, 4)?,
                })
            })
            .collect()
    }

    /// The statements recording one training and its attendees.
    pub fn insert_training(
        id: &str,
        title: &str,
        held_on: &str,
        material: Option<&str>,
        by: &str,
        attendees: &[String],
    ) -> Vec<Stmt> {
        let mut out = vec![Stmt::new(
            "INSERT INTO trainings (id, title, held_on, material, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                id.into(),
                title.into(),
                held_on.into(),
                material.into(),
                by.into(),
                now_string().into(),
            ],
        )];
        for a in attendees {
            out.push(Stmt::new(
                "INSERT INTO training_attendees (training_id, login) VALUES ($1, $2)",
                vec![id.into(), a.into()],
            ));
        }
        out
    }

    /// Every training with its attendees, the latest first.
    pub async fn trainings(&self) -> Result<Vec<TrainingRow>> {
        let rows = self
            .rows(
                "SELECT id, title, held_on, material, recorded_by, recorded_at FROM trainings ORDER BY held_on DESC, recorded_at DESC",
                vec![],
            )
            .await?;
        let att = self
            .rows(
                "SELECT training_id, login FROM training_attendees ORDER BY login",
                vec![],
            )
            .await?;
        let att: Vec<(String, String)> = att
            .iter()
            .map(|r| Ok((s(r, 0)?, s(r, 1)?)))
            .collect::<Result<_>>()?;
        rows.iter()
            .map(|r| {
                let id = s(r, 0)?;
                let attendees = att
                    .iter()
                    .filter(|(t, _)| *t == id)
                    .map(|(_, l)| l.clone())
                    .collect();
                Ok(TrainingRow {
                    id,
                    title: s(r, 1)?,
                    held_on: s(r, 2)?,
                    material: opt_s(r, 3)?,
                    recorded_by: s(r, 4)?,
                    recorded_at: s(r, 5)?,
                    attendees,
                })
            })
            .collect()
    }

    /// The date of a staff member's latest training (YYYY-MM-DD), if any.
    pub async fn last_training(&self, login: &str) -> Result<Option<String>> {
        let rows = self
            .rows(
                "SELECT MAX(t.held_on) FROM trainings t JOIN training_attendees a ON a.training_id = t.id WHERE a.login = $1",
                vec![login.into()],
            )
            .await?;
        Ok(rows.first().map(|r| opt_s(r, 0)).transpose()?.flatten())
    }

    // ---- exception reviews --------------------------------------------------------------------

    /// Accesses under a statutory exception, unreviewed first (or only those with `pending`).
    pub async fn exception_reviews(&self, pending: bool) -> Result<Vec<ExceptionReviewRow>> {
        let rows = if pending {
            self.rows(
                "SELECT id, principal_id, staff, kind, purpose, reason_ct, at, reviewed_by, reviewed_at, request_id FROM exception_reviews WHERE reviewed_at IS NULL ORDER BY at, id",
                vec![],
            )
            .await?
        } else {
            self.rows(
                "SELECT id, principal_id, staff, kind, purpose, reason_ct, at, reviewed_by, reviewed_at, request_id FROM exception_reviews ORDER BY at, id",
                vec![],
            )
            .await?
        };
        rows.iter().map(review_row).collect()
    }

    pub async fn exception_review_row(&self, id: &str) -> Result<Option<ExceptionReviewRow>> {
        let rows = self
            .rows(
                "SELECT id, principal_id, staff, kind, purpose, reason_ct, at, reviewed_by, reviewed_at, request_id FROM exception_reviews WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(review_row).transpose()
    }

    /// A fulfilled request goes to the manager's review (issue 20): the row names the request;
    /// its evidence stays sealed with the request.
    pub fn insert_request_review(
        id: &str,
        principal_id: &str,
        staff: &str,
        kind: &str,
        request_id: &str,
        at: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO exception_reviews (id, principal_id, staff, kind, purpose, reason_ct, at, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                id.into(),
                principal_id.into(),
                staff.into(),
                kind.into(),
                "request".into(),
                Vec::<u8>::new().into(),
                at.into(),
                request_id.into(),
            ],
        )
    }

    /// A staff-account action reviewed (the row is made when it is marked done; its id is
    /// `audit-SEQ`, so it is marked once).
    /// `account`: the login the action concerns (kept in the `purpose` column).
    pub fn insert_staff_action_review(
        id: &str,
        staff: &str,
        action: &str,
        account: &str,
        at: &str,
        by: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO exception_reviews (id, principal_id, staff, kind, purpose, reason_ct, at, reviewed_by, reviewed_at) VALUES ($1, '', $2, $3, $4, $5, $6, $7, $8)",
            vec![
                id.into(),
                staff.into(),
                action.into(),
                account.into(),
                Vec::<u8>::new().into(),
                at.into(),
                by.into(),
                now_string().into(),
            ],
        )
    }

    /// The audit entries of staff-account creations, invitations and role changes, oldest
    /// first (read for the manager's review, issue 20).
    pub async fn staff_account_actions(&self) -> Result<Vec<StaffActionRow>> {
        self.rows(
            "SELECT seq, at, actor, action, detail FROM audit_log WHERE action IN ('staff.add', 'staff.invite', 'staff.role') AND decision = 'done' ORDER BY seq",
            vec![],
        )
        .await?
        .iter()
        .map(staff_action_row)
        .collect()
    }

    /// One of [`Store::staff_account_actions`], by its audit sequence number (a point read on
    /// the log's key, not a scan of it).
    pub async fn staff_account_action(&self, seq: i64) -> Result<Option<StaffActionRow>> {
        self.rows(
            "SELECT seq, at, actor, action, detail FROM audit_log WHERE seq = $1 AND action IN ('staff.add', 'staff.invite', 'staff.role') AND decision = 'done'",
            vec![seq.into()],
        )
        .await?
        .first()
        .map(staff_action_row)
        .transpose()
    }

    pub fn mark_exception_reviewed(id: &str, by: &str) -> Stmt {
        Stmt::new(
            "UPDATE exception_reviews SET reviewed_by = $2, reviewed_at = $3 WHERE id = $1 AND reviewed_at IS NULL",
            vec![id.into(), by.into(), now_string().into()],
        )
        .expecting(1, "the access was reviewed meanwhile")
    }

    // ---- inspections and findings ---------------------------------------------------------------

    pub fn insert_inspection(r: &InspectionRow) -> Stmt {
        Stmt::new(
            "INSERT INTO inspections (id, run_at, as_of, by_login, passed, failed, items) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                r.id.as_str().into(),
                r.run_at.as_str().into(),
                r.as_of.as_str().into(),
                r.by.as_str().into(),
                r.passed.into(),
                r.failed.into(),
                r.items.as_str().into(),
            ],
        )
    }

    pub async fn inspection(&self, id: &str) -> Result<Option<InspectionRow>> {
        let rows = self
            .rows(
                "SELECT id, run_at, as_of, by_login, passed, failed, items FROM inspections WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(inspection_row).transpose()
    }

    pub async fn inspections(&self) -> Result<Vec<InspectionRow>> {
        let rows = self
            .rows(
                "SELECT id, run_at, as_of, by_login, passed, failed, items FROM inspections ORDER BY run_at, id",
                vec![],
            )
            .await?;
        rows.iter().map(inspection_row).collect()
    }

    pub fn insert_finding(f: NewFinding<'_>) -> Stmt {
        Stmt::new(
            "INSERT INTO findings (id, inspection_id, text_ct, action_ct, due_on, status, opened_by, opened_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
            vec![
                f.id.into(),
                f.inspection_id.into(),
                f.text_ct.into(),
                Val::Blob(f.action_ct),
                f.due_on.into(),
                f.opened_by.into(),
                now_string().into(),
            ],
        )
    }

    pub fn close_finding(id: &str, by: &str, result_ct: Option<Vec<u8>>) -> Stmt {
        Stmt::new(
            "UPDATE findings SET status = 'closed', closed_by = $2, closed_at = $3, result_ct = $4 WHERE id = $1 AND status = 'open'",
            vec![id.into(), by.into(), now_string().into(), Val::Blob(result_ct)],
        )
        .expecting(1, "the finding is closed already")
    }

    pub async fn finding(&self, id: &str) -> Result<Option<FindingRow>> {
        let sql = "SELECT id, inspection_id, text_ct, action_ct, due_on, status, opened_by, opened_at, closed_by, closed_at, result_ct FROM findings WHERE id = $1";
        let rows = self.rows(sql, vec![id.into()]).await?;
        rows.first().map(finding_row).transpose()
    }

    /// Findings of one inspection, or all of them.
    pub async fn findings(&self, inspection: Option<&str>) -> Result<Vec<FindingRow>> {
        let rows = match inspection {
            Some(i) => {
                self.rows(
                    "SELECT id, inspection_id, text_ct, action_ct, due_on, status, opened_by, opened_at, closed_by, closed_at, result_ct FROM findings WHERE inspection_id = $1 ORDER BY opened_at, id",
                    vec![i.into()],
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT id, inspection_id, text_ct, action_ct, due_on, status, opened_by, opened_at, closed_by, closed_at, result_ct FROM findings ORDER BY opened_at, id",
                    vec![],
                )
                .await?
            }
        };
        rows.iter().map(finding_row).collect()
    }

    // ---- committee ----------------------------------------------------------------------------

    pub fn insert_meeting(m: NewMeeting<'_>) -> Stmt {
        Stmt::new(
            "INSERT INTO committee_meetings (id, held_on, chair, members, minutes_ct, decisions_ct, decisions, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                m.id.into(),
                m.held_on.into(),
                m.chair.into(),
                m.members.join(",").into(),
                m.minutes_ct.into(),
                Val::Blob(m.decisions_ct),
                m.decisions.into(),
                m.recorded_by.into(),
                now_string().into(),
            ],
        )
    }

    pub async fn meetings(&self) -> Result<Vec<MeetingRow>> {
        let rows = self
            .rows(
                "SELECT id, held_on, chair, members, minutes_ct, decisions_ct, decisions, recorded_by, recorded_at FROM committee_meetings ORDER BY held_on, recorded_at",
                vec![],
            )
            .await?;
        rows.iter().map(meeting_row).collect()
    }

    pub async fn meeting(&self, id: &str) -> Result<Option<MeetingRow>> {
        let rows = self
            .rows(
                "SELECT id, held_on, chair, members, minutes_ct, decisions_ct, decisions, recorded_by, recorded_at FROM committee_meetings WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(meeting_row).transpose()
    }

    // ---- violation reports ------------------------------------------------------------------

    pub fn insert_violation(id: &str, reporter_ct: Vec<u8>, text_ct: Vec<u8>) -> Stmt {
        Stmt::new(
            "INSERT INTO violations (id, reported_at, reporter_ct, text_ct, status) VALUES ($1, $2, $3, $4, 'open')",
            vec![
                id.into(),
                now_string().into(),
                reporter_ct.into(),
                text_ct.into(),
            ],
        )
    }

    pub fn close_violation(id: &str, by: &str, result_ct: Vec<u8>) -> Stmt {
        Stmt::new(
            "UPDATE violations SET status = 'closed', closed_by = $2, closed_at = $3, result_ct = $4 WHERE id = $1 AND status = 'open'",
            vec![id.into(), by.into(), now_string().into(), result_ct.into()],
        )
        .expecting(1, "the report is closed already")
    }

    pub async fn violations(&self) -> Result<Vec<ViolationRow>> {
        let rows = self
            .rows(
                "SELECT id, reported_at, reporter_ct, text_ct, status, closed_by, closed_at, result_ct FROM violations ORDER BY reported_at, id",
                vec![],
            )
            .await?;
        rows.iter().map(violation_row).collect()
    }

    pub async fn violation(&self, id: &str) -> Result<Option<ViolationRow>> {
        let rows = self
            .rows(
                "SELECT id, reported_at, reporter_ct, text_ct, status, closed_by, closed_at, result_ct FROM violations WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        rows.first().map(violation_row).transpose()
    }

    // ---- the system's own records -------------------------------------------------------------

    /// The latest audit entry of an action: (seq, at).
    pub async fn last_audit_of(&self, action: &str) -> Result<Option<(i64, String)>> {
        let rows = self
            .rows(
                "SELECT seq, at FROM audit_log WHERE action = $1 ORDER BY seq DESC LIMIT 1",
                vec![action.into()],
            )
            .await?;
        rows.first()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, s(r, 1)?)))
            .transpose()
    }

    /// For the ledger: how many active principals hold each category, by channel. Counts only.
    pub async fn field_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = self
            .rows(
                "SELECT p.channel, f.category, COUNT(*) FROM fields f JOIN principals p ON p.id = f.principal_id WHERE p.status = 'active' GROUP BY p.channel, f.category ORDER BY p.channel, f.category",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((s(r, 0)?, s(r, 1)?, r.try_get::<i64, _>(2)?)))
            .collect()
    }
}

fn staff_action_row(r: &sqlx::any::AnyRow) -> Result<StaffActionRow> {
    Ok(StaffActionRow {
        seq: r.try_get::<i64, _>(0)?,
        at: s(r, 1)?,
        actor: s(r, 2)?,
        action: s(r, 3)?,
        detail: s(r, 4)?,
    })
}
