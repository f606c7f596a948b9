//! Governance: how the organization runs and checks itself (seed 003 Arts. 4-7, 17, 19, 22, 24;
//! seed 000 Arts. 2, 8).
//!
//! - Roles with separated duties (Arts. 4, 5; seed 000 Art. 8-1): role changes and disabling
//!   are the staff administrator's, audited; the last administrator cannot be removed.
//! - Confidentiality pledges (Art. 7(1)) and training records (Art. 6; seed 000 Art. 8-2); staff
//!   overdue for training are flagged, and refused personal values when the policy blocks.
//! - The manager's review (APPI 18(3); Art. 9(3); issue 20) of accesses under statutory
//!   exceptions, of every fulfilled request with the identity evidence it rests on, and of
//!   staff-account creations, invitations and role changes (read from their audit entries);
//!   nobody marks done an entry they caused (`domain::governance::may_review`).
//! - Inspections (Arts. 19, 24): a checklist derived from the policy and the system's own
//!   records, each item pass/fail with its evidence (ids, counts, dates — never values);
//!   findings with corrective actions and due dates; the auditor's report.
//! - The committee (Art. 22): meetings chaired by the manager, members, sealed minutes and
//!   decisions.
//! - Staff reports of violations (Art. 7(2)) to the manager: text and reporter sealed.
//!
//! Who does what: the auditor (`governance`, `audit`, `ledger`, never `read`) runs inspections
//! and reads their records; texts that may name people (exception reasons, minutes, violation
//! reports) are the manager's — the role with `governance` AND `read` (`domain::governance::
//! may_manage`).

use jiff::Timestamp;
use jiff::civil::Date;
use mamori_domain::governance::{self as rules, Check};
use mamori_domain::values;
use mamori_policy::notice::escape_html;
use mamori_policy::{Action, Lang, Role};
use mamori_store::crypto::{field_aad, open_with, random_hex, seal_with};
use mamori_store::governance::{InspectionRow, NewFinding, NewMeeting};
use mamori_store::{AuditDraft, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError, today_jst};

const FINDING_TEXT: &str = "finding_text";
const FINDING_ACTION: &str = "finding_action";
const FINDING_RESULT: &str = "finding_result";
const MINUTES: &str = "committee_minutes";
const DECISIONS: &str = "committee_decisions";
const REPORTER: &str = "violation_reporter";
const VIOLATION_TEXT: &str = "violation_text";
const VIOLATION_RESULT: &str = "violation_result";
/// Who the audit log names for a violation report: the reporter is sealed (seed 003 Art. 7(2)).
pub const SEALED_REPORTER: &str = "(reporter sealed)";

#[derive(Debug, Clone, Serialize)]
pub struct RoleChanged {
    pub login: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffDisabled {
    pub login: String,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pledged {
    pub id: String,
    pub login: String,
    pub signed_on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainingInfo {
    pub id: String,
    pub title: String,
    pub date: String,
    pub material: Option<String>,
    pub attendees: Vec<String>,
    pub recorded_by: String,
}

/// One staff member's training and pledge state.
#[derive(Debug, Clone, Serialize)]
pub struct StaffTraining {
    pub login: String,
    pub role: String,
    /// Handles personal data, so training and a pledge are required (Arts. 6, 7(1)).
    pub required: bool,
    pub last_training: Option<String>,
    pub due: Option<String>,
    pub overdue: bool,
    pub pledged_on: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExceptionReviewInfo {
    pub id: String,
    pub principal_id: String,
    pub staff: String,
    pub kind: String,
    pub purpose: String,
    pub at: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// The written reason, opened for the manager (None once the principal was erased).
    pub reason: Option<String>,
    /// A fulfilled request: its id, the identity check's method, who verified it and the
    /// evidence recorded (issue 20).
    pub request_id: Option<String>,
    pub verify_method: Option<String>,
    pub verified_by: Option<String>,
    pub evidence: Option<String>,
    /// A staff-account action: the account it concerns (and `detail`, its audit entry's
    /// detail: role, from/to).
    pub account: Option<String>,
    pub detail: Option<serde_json::Value>,
}

/// The id of the review entry of a staff-account action: its audit entry's sequence number.
const STAFF_ACTION_PREFIX: &str = "audit-";

fn staff_action_account(detail: &serde_json::Value) -> Option<String> {
    detail
        .get("login")
        .and_then(|l| l.as_str())
        .map(str::to_string)
}

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub id: String,
    pub run_at: String,
    pub as_of: String,
    pub by: String,
    pub passed: i64,
    pub failed: i64,
    pub items: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingInfo {
    pub id: String,
    pub inspection_id: String,
    pub text: String,
    pub corrective_action: Option<String>,
    pub due: String,
    pub status: String,
    pub overdue: bool,
    pub opened_by: String,
    pub opened_at: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub result: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectionReport {
    pub organization: String,
    pub inspection: Inspection,
    pub findings: Vec<FindingInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingInfo {
    pub id: String,
    pub date: String,
    pub chair: String,
    pub members: Vec<String>,
    pub decisions: i64,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingDetail {
    pub id: String,
    pub date: String,
    pub chair: String,
    pub members: Vec<String>,
    pub minutes: String,
    pub decisions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reported {
    pub id: String,
    pub reported_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ViolationInfo {
    pub id: String,
    pub reported_at: String,
    pub reporter: String,
    pub text: String,
    pub status: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub result: Option<String>,
}

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(m.into())
}

/// A free text: not blank, bounded, no control characters (newlines allowed when `multiline`),
/// no card number (DESIGN: never stored). The message names the field, never the text.
pub fn check_text(field: &str, text: &str, max: usize, multiline: bool) -> Result<()> {
    if text.trim().is_empty() {
        return Err(bad(format!("{field}: must not be empty")));
    }
    if text.chars().count() > max {
        return Err(bad(format!("{field}: use at most {max} characters")));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')))
    {
        return Err(bad(format!(
            "{field}: control characters are not allowed{}",
            if multiline { "" } else { " (one line)" }
        )));
    }
    if values::contains_card_number(text) {
        return Err(bad(format!(
            "{field}: looks like a card number, which is never stored (seed 000 Art. 7-1): leave it out"
        )));
    }
    Ok(())
}

/// A date argument (YYYY-MM-DD), not in the future.
pub fn past_date(field: &str, s: &str) -> Result<Date> {
    let d = mamori_policy::parse_ymd(s).map_err(|e| bad(format!("{field}: {e}")))?;
    if d > today_jst() {
        return Err(bad(format!("{field}: {d} is in the future")));
    }
    Ok(d)
}

fn any_date(field: &str, s: &str) -> Result<Date> {
    mamori_policy::parse_ymd(s).map_err(|e| bad(format!("{field}: {e}")))
}

fn is_admin(role: Option<&Role>) -> bool {
    role.is_some_and(|r| r.actions.contains(&Action::Staff))
}

fn japan_date_of(at: &str) -> Option<Date> {
    at.parse::<Timestamp>()
        .ok()
        .map(|t| t.to_zoned(mamori_calendar::japan_tz()).date())
}

impl Mamori {
    fn training_interval(&self) -> Result<(jiff::Span, String)> {
        let text = self
            .policy()
            .training
            .as_ref()
            .map_or_else(|| "P1Y".to_string(), |t| t.interval.clone());
        let span = mamori_policy::parse_duration(&text)
            .map_err(|e| ServiceError::Failed(format!("policy [training] interval: {e}")))?;
        Ok((span, text))
    }

    /// The training gate on access to personal values (seed 003 Art. 6): when the policy blocks
    /// overdue staff, the refusal is audited like any denial and returned.
    pub(crate) async fn deny_untrained(
        &self,
        actor: &Actor,
        audit_action: &str,
        principal_id: &str,
        purpose: &str,
        categories: &[String],
    ) -> Result<()> {
        let block = self
            .policy()
            .training
            .as_ref()
            .is_some_and(|t| t.block_when_overdue);
        if !block {
            return Ok(());
        }
        let (interval, _) = self.training_interval()?;
        let last = self
            .store
            .last_training(&actor.login)
            .await?
            .and_then(|d| mamori_policy::parse_ymd(&d).ok());
        if let Err(e) = rules::training_gate(&actor.login, last, interval, today_jst(), true) {
            let reason = e.to_string();
            self.store
                .audit(vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: audit_action.into(),
                    principal_id: Some(principal_id.into()),
                    purpose: Some(purpose.into()),
                    categories: categories.to_vec(),
                    decision: "deny".into(),
                    reason: Some(reason.clone()),
                    ..Default::default()
                }])
                .await?;
            return Err(ServiceError::Denied(reason));
        }
        Ok(())
    }

    /// The manager's own duties (texts that may name people); a refusal is audited.
    async fn require_manager(
        &self,
        actor: &Actor,
        audit_action: &str,
        what: &'static str,
    ) -> Result<()> {
        match rules::may_manage(&actor.role, what) {
            Ok(()) => Ok(()),
            Err(e) => {
                let reason = e.to_string();
                self.store
                    .audit(vec![AuditDraft {
                        actor: actor.login.clone(),
                        action: audit_action.into(),
                        decision: "deny".into(),
                        reason: Some(reason.clone()),
                        ..Default::default()
                    }])
                    .await?;
                Err(ServiceError::Denied(reason))
            }
        }
    }

    /// Any of `actions` lets the actor in; else the first is required (and the denial audited).
    async fn require_any(&self, actor: &Actor, actions: &[Action], what: &str) -> Result<()> {
        if actions.iter().any(|a| actor.role.actions.contains(a)) {
            return Ok(());
        }
        match actions.first() {
            Some(a) => self.require(actor, *a, what).await,
            None => Ok(()),
        }
    }

    async fn note(&self, actor: &str, action: &str, detail: serde_json::Value) -> Result<()> {
        self.store
            .audit(vec![AuditDraft {
                actor: actor.into(),
                action: action.into(),
                decision: "allow".into(),
                detail,
                ..Default::default()
            }])
            .await?;
        Ok(())
    }

    async fn record_key(&self, id: &str) -> Result<mamori_store::Key32> {
        let (dk, wrapped) = self.store.keys().new_data_key(id)?;
        self.store.put_data_key(id, &wrapped).await?;
        self.store.keys().remember(id, &dk);
        Ok(dk)
    }

    async fn open_text(&self, id: &str, part: &str, ct: &[u8]) -> Result<String> {
        let dk = self.store.data_key(id).await?;
        let plain = open_with(&dk, ct, &field_aad(id, id, part)).map_err(|_| {
            ServiceError::Failed(format!(
                "{part} of {id} does not decrypt: it was altered or moved from another record"
            ))
        })?;
        String::from_utf8(plain)
            .map_err(|_| ServiceError::Failed(format!("{part} of {id} is not text")))
    }

    // ---- roles ----------------------------------------------------------------------------

    async fn enabled_admins(&self) -> Result<Vec<String>> {
        let policy = self.policy();
        Ok(self
            .store
            .staff_list()
            .await?
            .into_iter()
            .filter(|s| !s.disabled && is_admin(policy.role(&s.role)))
            .map(|s| s.login)
            .collect())
    }

    async fn staff_row(&self, login: &str) -> Result<mamori_store::StaffRow> {
        self.store.staff(login).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "LOGIN: there is no staff member {login:?}: `mamori staff list --as LOGIN` shows who there is"
            ))
        })
    }

    /// `mamori staff role LOGIN --role ROLE --as ADMIN`: audited; the last administrator keeps
    /// the role (separation of duties, seed 000 Art. 8-1; seed 003 Arts. 4, 5).
    pub async fn staff_role(&self, actor: &Actor, login: &str, role: &str) -> Result<RoleChanged> {
        self.require(actor, Action::Staff, "staff.role").await?;
        let policy = self.policy();
        if policy.role(role).is_none() {
            return Err(bad(format!(
                "--role: {role:?} is not a role of this policy: use one of {}",
                mamori_policy::Policy::ids(&policy.roles, |r| r.id.as_str())
            )));
        }
        let row = self.staff_row(login).await?;
        if row.role == role {
            return Err(bad(format!("--role: {login} has role {role} already")));
        }
        let loses =
            !row.disabled && is_admin(policy.role(&row.role)) && !is_admin(policy.role(role));
        if let Err(e) = rules::keeps_an_admin(login, loses, &self.enabled_admins().await?) {
            return Err(bad(format!("LOGIN: {e}")));
        }
        self.store
            .write(
                vec![Store::set_staff_role(self.store.keys(), &row, role)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.role".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "from": row.role, "to": role}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(RoleChanged {
            login: login.into(),
            from: row.role,
            to: role.into(),
        })
    }

    /// `mamori staff disable LOGIN --as ADMIN`: the member can no longer act; their API tokens
    /// are revoked. The last administrator cannot be disabled.
    pub async fn staff_disable(&self, actor: &Actor, login: &str) -> Result<StaffDisabled> {
        self.require(actor, Action::Staff, "staff.disable").await?;
        let row = self.staff_row(login).await?;
        if row.disabled {
            return Err(bad(format!("LOGIN: {login} is disabled already")));
        }
        let loses = is_admin(self.policy().role(&row.role));
        if let Err(e) = rules::keeps_an_admin(login, loses, &self.enabled_admins().await?) {
            return Err(bad(format!("LOGIN: {e}")));
        }
        self.store
            .write(
                vec![
                    Store::disable_staff(self.store.keys(), &row),
                    Store::revoke_tokens_of(login),
                ],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.disable".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"login": login, "role": row.role}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(StaffDisabled {
            login: login.into(),
            disabled: true,
        })
    }

    // ---- pledges and training ---------------------------------------------------------------

    /// `mamori staff pledge LOGIN --as MANAGER --date DATE` (seed 003 Art. 7(1)).
    pub async fn staff_pledge(&self, actor: &Actor, login: &str, date: &str) -> Result<Pledged> {
        self.require(actor, Action::Training, "staff.pledge")
            .await?;
        self.staff_row(login).await?;
        let d = past_date("--date", date)?;
        let id = format!("g_{}", random_hex(8));
        self.store
            .write(
                vec![Store::insert_pledge(&id, login, &d.to_string(), &actor.login)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "staff.pledge".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"pledge_id": id, "login": login, "signed_on": d.to_string()}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(Pledged {
            id,
            login: login.into(),
            signed_on: d.to_string(),
        })
    }

    /// `mamori training record --as LOGIN --title TEXT --date DATE --attendee LOGIN… [--material
    /// TEXT]` (seed 003 Art. 6; seed 000 Art. 8-2).
    pub async fn training_record(
        &self,
        actor: &Actor,
        title: &str,
        date: &str,
        attendees: &[String],
        material: Option<&str>,
    ) -> Result<TrainingInfo> {
        self.require(actor, Action::Training, "training.record")
            .await?;
        check_text("--title", title, 200, false)?;
        if let Some(m) = material {
            check_text("--material", m, 500, false)?;
        }
        let d = past_date("--date", date)?;
        if attendees.is_empty() {
            return Err(bad(
                "--attendee: name at least one staff member who attended",
            ));
        }
        let mut list: Vec<String> = Vec::new();
        for a in attendees {
            if self.store.staff(a).await?.is_none() {
                return Err(bad(format!("--attendee: there is no staff member {a:?}")));
            }
            if !list.contains(a) {
                list.push(a.clone());
            }
        }
        let id = format!("t_{}", random_hex(8));
        self.store
            .write(
                Store::insert_training(&id, title.trim(), &d.to_string(), material, &actor.login, &list),
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "training.record".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"training_id": id, "date": d.to_string(), "attendees": list}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(TrainingInfo {
            id,
            title: title.trim().into(),
            date: d.to_string(),
            material: material.map(str::to_string),
            attendees: list,
            recorded_by: actor.login.clone(),
        })
    }

    /// `mamori training list --as LOGIN`: the manager, and the auditor who checks it.
    pub async fn training_list(&self, actor: &Actor) -> Result<Vec<TrainingInfo>> {
        self.require_any(
            actor,
            &[Action::Training, Action::Governance, Action::Audit],
            "training.list",
        )
        .await?;
        let list = self
            .store
            .trainings()
            .await?
            .into_iter()
            .map(|t| TrainingInfo {
                id: t.id,
                title: t.title,
                date: t.held_on,
                material: t.material,
                attendees: t.attendees,
                recorded_by: t.recorded_by,
            })
            .collect::<Vec<_>>();
        self.note(
            &actor.login,
            "training.list",
            serde_json::json!({"count": list.len()}),
        )
        .await?;
        Ok(list)
    }

    async fn staff_training_rows(&self, today: Date) -> Result<Vec<StaffTraining>> {
        let policy = self.policy();
        let (interval, _) = self.training_interval()?;
        let pledges = self.store.pledges().await?;
        let mut out = Vec::new();
        for s in self.store.staff_list().await? {
            if s.disabled {
                continue;
            }
            let required = policy
                .role(&s.role)
                .is_some_and(rules::handles_personal_data);
            let last = self
                .store
                .last_training(&s.login)
                .await?
                .and_then(|d| mamori_policy::parse_ymd(&d).ok());
            let pledged_on = pledges
                .iter()
                .filter(|p| p.login == s.login)
                .map(|p| p.signed_on.clone())
                .max();
            out.push(StaffTraining {
                required,
                last_training: last.map(|d| d.to_string()),
                due: rules::training_due(last, interval).map(|d| d.to_string()),
                overdue: required && rules::training_overdue(last, interval, today),
                pledged_on,
                login: s.login,
                role: s.role,
            });
        }
        Ok(out)
    }

    /// `mamori training staff|overdue --as LOGIN [--today DATE]`: each staff member's last
    /// training, when the next is due, whether it is overdue, and their pledge.
    pub async fn training_status(
        &self,
        actor: &Actor,
        overdue_only: bool,
        today: Option<Date>,
    ) -> Result<Vec<StaffTraining>> {
        self.require_any(
            actor,
            &[Action::Training, Action::Governance, Action::Audit],
            "training.status",
        )
        .await?;
        let list: Vec<StaffTraining> = self
            .staff_training_rows(today.unwrap_or_else(today_jst))
            .await?
            .into_iter()
            .filter(|s| !overdue_only || s.overdue)
            .collect();
        self.note(
            &actor.login,
            "training.status",
            serde_json::json!({"overdue_only": overdue_only, "count": list.len()}),
        )
        .await?;
        Ok(list)
    }

    // ---- exception reviews ------------------------------------------------------------------

    /// `mamori review exceptions --as MANAGER [--all]`: accesses under a statutory exception
    /// with their sealed reasons opened for the manager, fulfilled requests with the identity
    /// evidence they rest on, and staff-account creations, invitations and role changes (issue
    /// 20), oldest first.
    pub async fn exception_reviews(
        &self,
        actor: &Actor,
        all: bool,
    ) -> Result<Vec<ExceptionReviewInfo>> {
        self.require_manager(
            actor,
            "exception_review.list",
            "review accesses under statutory exceptions",
        )
        .await?;
        let mut out = Vec::new();
        for r in self.store.exception_reviews(!all).await? {
            out.push(self.review_info(r).await?);
        }
        for a in self.store.staff_account_actions().await? {
            let id = format!("{STAFF_ACTION_PREFIX}{}", a.seq);
            if let Some(x) = out.iter_mut().find(|x| x.id == id) {
                x.detail = serde_json::from_str(&a.detail).ok();
                continue;
            }
            if self.store.exception_review_row(&id).await?.is_some() {
                continue;
            }
            let detail: serde_json::Value =
                serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null);
            out.push(ExceptionReviewInfo {
                id,
                principal_id: String::new(),
                staff: a.actor,
                kind: a.action,
                purpose: "staff".into(),
                at: a.at,
                reviewed_by: None,
                reviewed_at: None,
                reason: None,
                request_id: None,
                verify_method: None,
                verified_by: None,
                evidence: None,
                account: staff_action_account(&detail),
                detail: Some(detail),
            });
        }
        out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        self.note(
            &actor.login,
            "exception_review.list",
            serde_json::json!({"count": out.len(), "all": all}),
        )
        .await?;
        Ok(out)
    }

    /// One stored review entry as the manager sees it: an exception access with its reason, or
    /// a fulfilled request with its evidence.
    async fn review_info(
        &self,
        r: mamori_store::governance::ExceptionReviewRow,
    ) -> Result<ExceptionReviewInfo> {
        let mut info = ExceptionReviewInfo {
            id: r.id.clone(),
            principal_id: r.principal_id.clone(),
            staff: r.staff.clone(),
            kind: r.kind.clone(),
            purpose: r.purpose.clone(),
            at: r.at.clone(),
            reviewed_by: r.reviewed_by.clone(),
            reviewed_at: r.reviewed_at.clone(),
            reason: None,
            request_id: r.request_id.clone(),
            verify_method: None,
            verified_by: None,
            evidence: None,
            account: None,
            detail: None,
        };
        if let Some(req) = &r.request_id {
            if let Some(q) = self.store.request(req).await? {
                info.verify_method = q.verify_method.clone();
                info.verified_by = q.verified_by.clone();
                info.evidence = match &q.evidence_ct {
                    Some(ct) => self.open_for_request(req, "evidence", ct).await.ok(),
                    None => None,
                };
            }
        } else if r.id.starts_with(STAFF_ACTION_PREFIX) {
            info.account =
                (!r.purpose.is_empty() && r.purpose != "staff").then(|| r.purpose.clone());
        } else {
            info.reason = match self.store.data_key(&r.principal_id).await {
                Ok(dk) => open_with(
                    &dk,
                    &r.reason_ct,
                    &field_aad(&r.principal_id, &r.id, "exception_reason"),
                )
                .ok()
                .and_then(|p| String::from_utf8(p).ok()),
                Err(_) => None,
            };
        }
        Ok(info)
    }

    /// Refuse (audited) a reviewer who caused the entry (`domain::governance::may_review`).
    async fn refuse_own_review(&self, actor: &Actor, entry: &str, involved: &[&str]) -> Result<()> {
        if let Err(e) = rules::may_review(&actor.login, entry, involved) {
            let reason = e.to_string();
            self.store
                .audit(vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "exception_review.done".into(),
                    decision: "deny".into(),
                    reason: Some(reason.clone()),
                    detail: serde_json::json!({"review_id": entry}),
                    ..Default::default()
                }])
                .await?;
            return Err(ServiceError::Denied(reason));
        }
        Ok(())
    }

    /// `mamori review done ID --as MANAGER`: never by whoever caused the entry.
    pub async fn exception_review_done(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<ExceptionReviewInfo> {
        self.require_manager(
            actor,
            "exception_review.done",
            "review accesses under statutory exceptions",
        )
        .await?;
        if let Some(seq) = id.strip_prefix(STAFF_ACTION_PREFIX) {
            return self.staff_action_review_done(actor, id, seq).await;
        }
        let row = self.store.exception_review_row(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "ID: there is no review entry {id}: `mamori review exceptions --as MANAGER` lists them"
            ))
        })?;
        if row.reviewed_at.is_some() {
            return Err(bad(format!("ID: {id} was reviewed already")));
        }
        let mut involved = vec![row.staff.clone()];
        if let Some(req) = &row.request_id
            && let Some(q) = self.store.request(req).await?
        {
            involved.extend(q.verified_by.clone());
            involved.extend(q.closed_by.clone());
        }
        let involved: Vec<&str> = involved.iter().map(String::as_str).collect();
        self.refuse_own_review(actor, id, &involved).await?;
        self.store
            .write(
                vec![Store::mark_exception_reviewed(id, &actor.login)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "exception_review.done".into(),
                    principal_id: Some(row.principal_id.clone()).filter(|p| !p.is_empty()),
                    decision: "done".into(),
                    detail: serde_json::json!({"review_id": id, "kind": row.kind, "request_id": row.request_id}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self
            .store
            .exception_review_row(id)
            .await?
            .ok_or_else(|| ServiceError::Failed("the review was not stored".into()))?;
        let mut info = self.review_info(row).await?;
        info.reason = None;
        info.evidence = None;
        Ok(info)
    }

    /// A staff-account action marked reviewed: its row is made now, under the audit entry's id.
    async fn staff_action_review_done(
        &self,
        actor: &Actor,
        id: &str,
        seq: &str,
    ) -> Result<ExceptionReviewInfo> {
        let not_found = || {
            ServiceError::NotFound(format!(
                "ID: there is no review entry {id}: `mamori review exceptions --as MANAGER` lists them"
            ))
        };
        let seq: i64 = seq.parse().map_err(|_| not_found())?;
        let a = self
            .store
            .staff_account_action(seq)
            .await?
            .ok_or_else(not_found)?;
        if self.store.exception_review_row(id).await?.is_some() {
            return Err(bad(format!("ID: {id} was reviewed already")));
        }
        let detail: serde_json::Value =
            serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null);
        let account = staff_action_account(&detail);
        let mut involved = vec![a.actor.as_str()];
        if let Some(acc) = &account {
            involved.push(acc.as_str());
        }
        self.refuse_own_review(actor, id, &involved).await?;
        self.store
            .write(
                vec![Store::insert_staff_action_review(
                    id,
                    &a.actor,
                    &a.action,
                    account.as_deref().unwrap_or("staff"),
                    &a.at,
                    &actor.login,
                )],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "exception_review.done".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"review_id": id, "kind": a.action}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self
            .store
            .exception_review_row(id)
            .await?
            .ok_or_else(|| ServiceError::Failed("the review was not stored".into()))?;
        let mut info = self.review_info(row).await?;
        info.detail = Some(detail);
        Ok(info)
    }

    // ---- inspections --------------------------------------------------------------------------

    /// The checklist (seed 003 Arts. 19, 24) as of `now`: derived from the policy and the
    /// system's own records; evidence holds ids, counts and dates, never values.
    async fn checklist(&self, actor: &Actor, now: Timestamp) -> Result<Vec<Check>> {
        let today = now.to_zoned(mamori_calendar::japan_tz()).date();
        let mut items = Vec::new();

        // Contractors' contracts complete and reviewed (Art. 18), foreign measures checked.
        let mut gaps = Vec::new();
        let mut checked = 0;
        for r in self.recipients_status(actor).await? {
            let reviewable = r.contract_clauses.is_some()
                || r.kind == "entrustment"
                || r.measures_check_due.is_some();
            if !reviewable && r.blocked.is_none() {
                continue;
            }
            checked += 1;
            let late = |d: &Option<String>| {
                d.as_deref()
                    .and_then(|d| mamori_policy::parse_ymd(d).ok())
                    .is_some_and(|d| d < today)
            };
            if !r.missing_clauses.is_empty()
                || late(&r.contract_review_due)
                || late(&r.measures_check_due)
                || r.blocked.is_some()
            {
                gaps.push(serde_json::json!({
                    "recipient": r.id,
                    "missing_clauses": r.missing_clauses,
                    "contract_review_due": r.contract_review_due,
                    "measures_check_due": r.measures_check_due,
                }));
            }
        }
        items.push(Check::new(
            "contracts",
            "seed 003 Art. 18; APPI 28(3)",
            gaps.is_empty(),
            format!("{checked} contractor(s) checked, {} with gaps", gaps.len()),
            serde_json::json!({"checked": checked, "gaps": gaps}),
        ));

        // Retention sweeps run recently (seed 000 Art. 8-4; seed 003 Art. 16).
        let last = self.store.last_audit_of("retention.sweep").await?;
        let last_date = last.as_ref().and_then(|(_, at)| japan_date_of(at));
        items.push(Check::new(
            "retention_sweeps",
            "seed 000 Art. 8-4; seed 003 Art. 16",
            rules::sweep_recent(last_date, today),
            match &last_date {
                Some(d) => format!("last sweep on {d}"),
                None => "no retention sweep on record".into(),
            },
            serde_json::json!({"last_seq": last.as_ref().map(|l| l.0), "last_at": last.map(|l| l.1), "within_days": rules::SWEEP_WITHIN_DAYS}),
        ));

        // The audit chain verifies.
        let (pass, summary, evidence) = match self.audit_verify().await {
            Ok(r) => (
                true,
                format!("{} entries verified", r.entries),
                serde_json::json!({"entries": r.entries, "head_seq": r.head_seq, "checkpoints": r.checkpoints}),
            ),
            Err(e) => (
                false,
                "the audit log does not verify".to_string(),
                serde_json::json!({"error": e.to_string()}),
            ),
        };
        items.push(Check::new(
            "audit_chain",
            "seed 003 Art. 19",
            pass,
            summary,
            evidence,
        ));

        // Accesses under statutory exceptions reviewed by the manager (APPI 18(3)).
        let pending: Vec<serde_json::Value> = self
            .store
            .exception_reviews(true)
            .await?
            .iter()
            // Accesses only: answered requests wait in the same review (issue 20) but are not
            // exception accesses.
            .filter(|r| r.request_id.is_none())
            .map(|r| serde_json::json!({"id": r.id, "kind": r.kind, "at": r.at, "staff": r.staff}))
            .collect();
        items.push(Check::new(
            "exception_reviews",
            "seed 003 Art. 9(3); APPI 18(3)",
            pending.is_empty(),
            format!(
                "{} access(es) under a statutory exception not reviewed",
                pending.len()
            ),
            serde_json::json!({"pending": pending}),
        ));

        // Staff trained and pledged (Arts. 6, 7(1); seed 000 Art. 8-2).
        let (_, interval) = self.training_interval()?;
        let staff = self.staff_training_rows(today).await?;
        let overdue: Vec<serde_json::Value> = staff
            .iter()
            .filter(|s| s.overdue)
            .map(|s| serde_json::json!({"login": s.login, "last_training": s.last_training}))
            .collect();
        items.push(Check::new(
            "staff_training",
            "seed 003 Art. 6; seed 000 Art. 8-2",
            overdue.is_empty(),
            format!("{} staff member(s) overdue for training", overdue.len()),
            serde_json::json!({"interval": interval, "required": staff.iter().filter(|s| s.required).count(), "overdue": overdue}),
        ));
        let unpledged: Vec<&str> = staff
            .iter()
            .filter(|s| s.required && s.pledged_on.is_none())
            .map(|s| s.login.as_str())
            .collect();
        items.push(Check::new(
            "staff_pledges",
            "seed 003 Art. 7(1)",
            unpledged.is_empty(),
            format!(
                "{} staff member(s) without a confidentiality pledge",
                unpledged.len()
            ),
            serde_json::json!({"missing": unpledged}),
        ));

        // Overdue requests, complaints, incidents: read through their own lists, as a scoped
        // role that may list them and nothing else (the lists hold ids, dates and status only).
        let lists = Actor {
            login: actor.login.clone(),
            role: Role {
                id: format!("{}:inspection", actor.role.id),
                ja: actor.role.ja.clone(),
                en: actor.role.en.clone(),
                purposes: Vec::new(),
                actions: vec![Action::Requests, Action::Complaints, Action::Incidents],
            },
        };
        let req: Vec<serde_json::Value> = self
            .request_list(&lists, true, Some(today))
            .await?
            .iter()
            .map(|r| serde_json::json!({"id": r.id, "kind": r.kind, "answer_by": r.answer_by}))
            .collect();
        items.push(Check::new(
            "requests_overdue",
            "APPI 32-35; seed 000 Art. 9",
            req.is_empty(),
            format!("{} request(s) past their answer-by date", req.len()),
            serde_json::json!({"overdue": req}),
        ));
        let com: Vec<serde_json::Value> = self
            .complaint_list(&lists, true, Some(now))
            .await?
            .iter()
            .map(|c| serde_json::json!({"id": c.id, "answer_by": c.answer_by}))
            .collect();
        items.push(Check::new(
            "complaints_overdue",
            "seed 003 Art. 23",
            com.is_empty(),
            format!("{} complaint(s) past their answer-by date", com.len()),
            serde_json::json!({"overdue": com}),
        ));
        let inc: Vec<serde_json::Value> = self
            .incident_list(&lists, true, Some(now))
            .await?
            .iter()
            .map(|i| serde_json::json!({"id": i.id, "overdue_steps": i.overdue_steps}))
            .collect();
        items.push(Check::new(
            "incidents_overdue",
            "seed 003 Art. 13(2); APPI 26",
            inc.is_empty(),
            format!("{} incident(s) with an overdue report", inc.len()),
            serde_json::json!({"overdue": inc}),
        ));

        // Pending items: corrective actions past due, violation reports not closed.
        let late: Vec<serde_json::Value> = self
            .store
            .findings(None)
            .await?
            .iter()
            .filter(|f| f.status == "open" && mamori_policy::parse_ymd(&f.due_on).is_ok_and(|d| d < today))
            .map(|f| serde_json::json!({"id": f.id, "inspection_id": f.inspection_id, "due": f.due_on}))
            .collect();
        items.push(Check::new(
            "corrective_actions",
            "seed 003 Arts. 19, 24",
            late.is_empty(),
            format!("{} corrective action(s) past due", late.len()),
            serde_json::json!({"overdue": late}),
        ));
        let open: Vec<serde_json::Value> = self
            .store
            .violations()
            .await?
            .iter()
            .filter(|v| v.status == "open")
            .map(|v| serde_json::json!({"id": v.id, "reported_at": v.reported_at}))
            .collect();
        items.push(Check::new(
            "violation_reports",
            "seed 003 Art. 7(2)",
            open.is_empty(),
            format!(
                "{} violation report(s) not closed by the manager",
                open.len()
            ),
            serde_json::json!({"open": open}),
        ));
        Ok(items)
    }

    /// `mamori inspection run --as LOGIN [--now TIME]`: run and keep the checklist.
    pub async fn inspection_run(&self, actor: &Actor, now: Option<&str>) -> Result<Inspection> {
        self.require(actor, Action::Governance, "inspection.run")
            .await?;
        let now = match now {
            Some(t) => crate::complaint::parse_time_arg(t, "--now")?,
            None => Timestamp::now(),
        };
        let items = self.checklist(actor, now).await?;
        let passed = items.iter().filter(|c| c.pass).count() as i64;
        let failed = items.len() as i64 - passed;
        let row = InspectionRow {
            id: format!("i_{}", random_hex(8)),
            run_at: mamori_store::now_string(),
            as_of: now.to_string(),
            by: actor.login.clone(),
            passed,
            failed,
            items: serde_json::to_string(&items)
                .map_err(|e| ServiceError::Failed(format!("inspection items: {e}")))?,
        };
        let failing: Vec<&str> = items
            .iter()
            .filter(|c| !c.pass)
            .map(|c| c.id.as_str())
            .collect();
        self.store
            .write(
                vec![Store::insert_inspection(&row)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "inspection.run".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"inspection_id": row.id, "passed": passed, "failed": failed, "failing": failing}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(Inspection {
            id: row.id,
            run_at: row.run_at,
            as_of: row.as_of,
            by: row.by,
            passed,
            failed,
            items,
        })
    }

    fn inspection_of(row: InspectionRow) -> Result<Inspection> {
        let items: Vec<Check> = serde_json::from_str(&row.items)
            .map_err(|e| ServiceError::Failed(format!("inspection {} items: {e}", row.id)))?;
        Ok(Inspection {
            id: row.id,
            run_at: row.run_at,
            as_of: row.as_of,
            by: row.by,
            passed: row.passed,
            failed: row.failed,
            items,
        })
    }

    async fn inspection_row(&self, id: &str) -> Result<InspectionRow> {
        self.store.inspection(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "INSPECTION: there is no inspection {id}: `mamori inspection list --as LOGIN` shows them"
            ))
        })
    }

    /// `mamori inspection list --as LOGIN`.
    pub async fn inspection_list(&self, actor: &Actor) -> Result<Vec<Inspection>> {
        self.require(actor, Action::Governance, "inspection.list")
            .await?;
        let list = self
            .store
            .inspections()
            .await?
            .into_iter()
            .map(Self::inspection_of)
            .collect::<Result<Vec<_>>>()?;
        self.note(
            &actor.login,
            "inspection.list",
            serde_json::json!({"count": list.len()}),
        )
        .await?;
        Ok(list)
    }

    /// `mamori inspection show ID --as LOGIN`.
    pub async fn inspection_show(&self, actor: &Actor, id: &str) -> Result<Inspection> {
        self.require(actor, Action::Governance, "inspection.read")
            .await?;
        let i = Self::inspection_of(self.inspection_row(id).await?)?;
        self.note(
            &actor.login,
            "inspection.read",
            serde_json::json!({"inspection_id": id}),
        )
        .await?;
        Ok(i)
    }

    async fn finding_info(
        &self,
        f: mamori_store::governance::FindingRow,
        today: Date,
    ) -> Result<FindingInfo> {
        let text = self.open_text(&f.id, FINDING_TEXT, &f.text_ct).await?;
        let corrective_action = match &f.action_ct {
            Some(ct) => Some(self.open_text(&f.id, FINDING_ACTION, ct).await?),
            None => None,
        };
        let result = match &f.result_ct {
            Some(ct) => Some(self.open_text(&f.id, FINDING_RESULT, ct).await?),
            None => None,
        };
        let overdue =
            f.status == "open" && mamori_policy::parse_ymd(&f.due_on).is_ok_and(|d| d < today);
        Ok(FindingInfo {
            id: f.id,
            inspection_id: f.inspection_id,
            text,
            corrective_action,
            due: f.due_on,
            status: f.status,
            overdue,
            opened_by: f.opened_by,
            opened_at: f.opened_at,
            closed_by: f.closed_by,
            closed_at: f.closed_at,
            result,
        })
    }

    /// `mamori finding add INSPECTION --as LOGIN --text TEXT --due DATE [--action TEXT]`.
    pub async fn finding_add(
        &self,
        actor: &Actor,
        inspection: &str,
        text: &str,
        due: &str,
        corrective_action: Option<&str>,
    ) -> Result<FindingInfo> {
        self.require(actor, Action::Governance, "finding.add")
            .await?;
        self.inspection_row(inspection).await?;
        check_text("--text", text, 4000, true)?;
        if let Some(a) = corrective_action {
            check_text("--action", a, 4000, true)?;
        }
        let due = any_date("--due", due)?;
        let id = format!("f_{}", random_hex(8));
        let dk = self.record_key(&id).await?;
        let text_ct = seal_with(&dk, text.as_bytes(), &field_aad(&id, &id, FINDING_TEXT))?;
        let action_ct = corrective_action
            .map(|a| seal_with(&dk, a.as_bytes(), &field_aad(&id, &id, FINDING_ACTION)))
            .transpose()?;
        self.store
            .write(
                vec![Store::insert_finding(NewFinding {
                    id: &id,
                    inspection_id: inspection,
                    text_ct,
                    action_ct,
                    due_on: &due.to_string(),
                    opened_by: &actor.login,
                })],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "finding.add".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"finding_id": id, "inspection_id": inspection, "due": due.to_string()}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self
            .store
            .finding(&id)
            .await?
            .ok_or_else(|| ServiceError::Failed("the finding was not stored".into()))?;
        self.finding_info(row, today_jst()).await
    }

    /// `mamori finding close ID --as LOGIN [--result TEXT]`: the corrective action is done.
    pub async fn finding_close(
        &self,
        actor: &Actor,
        id: &str,
        result: Option<&str>,
    ) -> Result<FindingInfo> {
        self.require(actor, Action::Governance, "finding.close")
            .await?;
        let row = self.store.finding(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "ID: there is no finding {id}: `mamori finding list --as LOGIN` shows them"
            ))
        })?;
        if row.status != "open" {
            return Err(bad(format!("ID: finding {id} is closed already")));
        }
        if let Some(r) = result {
            check_text("--result", r, 4000, true)?;
        }
        let result_ct = match result {
            Some(r) => {
                let dk = self.store.data_key(id).await?;
                Some(seal_with(
                    &dk,
                    r.as_bytes(),
                    &field_aad(id, id, FINDING_RESULT),
                )?)
            }
            None => None,
        };
        self.store
            .write(
                vec![Store::close_finding(id, &actor.login, result_ct)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "finding.close".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"finding_id": id}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self
            .store
            .finding(id)
            .await?
            .ok_or_else(|| ServiceError::Failed("the finding vanished".into()))?;
        self.finding_info(row, today_jst()).await
    }

    /// `mamori finding list --as LOGIN [--inspection ID] [--open]`.
    pub async fn finding_list(
        &self,
        actor: &Actor,
        inspection: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<FindingInfo>> {
        self.require(actor, Action::Governance, "finding.list")
            .await?;
        let today = today_jst();
        let mut out = Vec::new();
        for f in self.store.findings(inspection).await? {
            if open_only && f.status != "open" {
                continue;
            }
            out.push(self.finding_info(f, today).await?);
        }
        self.note(
            &actor.login,
            "finding.list",
            serde_json::json!({"count": out.len()}),
        )
        .await?;
        Ok(out)
    }

    /// `mamori inspection report ID --as LOGIN`: the auditor's report (Art. 5(3), 19).
    pub async fn inspection_report(&self, actor: &Actor, id: &str) -> Result<InspectionReport> {
        self.require(actor, Action::Governance, "inspection.report")
            .await?;
        let inspection = Self::inspection_of(self.inspection_row(id).await?)?;
        let today = today_jst();
        let mut findings = Vec::new();
        for f in self.store.findings(Some(id)).await? {
            findings.push(self.finding_info(f, today).await?);
        }
        self.note(
            &actor.login,
            "inspection.report",
            serde_json::json!({"inspection_id": id}),
        )
        .await?;
        Ok(InspectionReport {
            organization: self.policy().organization.name.ja.clone(),
            inspection,
            findings,
        })
    }

    // ---- the committee --------------------------------------------------------------------------

    /// `mamori committee meeting --as MANAGER --date DATE --member LOGIN… --minutes TEXT
    /// [--decision TEXT]…` (seed 003 Art. 22: the manager convenes and chairs).
    pub async fn committee_meeting(
        &self,
        actor: &Actor,
        date: &str,
        members: &[String],
        minutes: &str,
        decisions: &[String],
    ) -> Result<MeetingInfo> {
        self.require_manager(actor, "committee.meeting", "convene the committee")
            .await?;
        let d = past_date("--date", date)?;
        check_text("--minutes", minutes, 20_000, true)?;
        for x in decisions {
            check_text("--decision", x, 2000, true)?;
        }
        let mut list = vec![actor.login.clone()];
        for m in members {
            if self.store.staff(m).await?.is_none() {
                return Err(bad(format!("--member: there is no staff member {m:?}")));
            }
            if !list.contains(m) {
                list.push(m.clone());
            }
        }
        if list.len() < 2 {
            return Err(bad(
                "--member: name the members besides the chair (Art. 22(4))",
            ));
        }
        let id = format!("c_{}", random_hex(8));
        let dk = self.record_key(&id).await?;
        let minutes_ct = seal_with(&dk, minutes.as_bytes(), &field_aad(&id, &id, MINUTES))?;
        let decisions_ct = if decisions.is_empty() {
            None
        } else {
            let text = serde_json::to_string(decisions)
                .map_err(|e| ServiceError::Failed(format!("decisions: {e}")))?;
            Some(seal_with(
                &dk,
                text.as_bytes(),
                &field_aad(&id, &id, DECISIONS),
            )?)
        };
        self.store
            .write(
                vec![Store::insert_meeting(NewMeeting {
                    id: &id,
                    held_on: &d.to_string(),
                    chair: &actor.login,
                    members: &list,
                    minutes_ct,
                    decisions_ct,
                    decisions: decisions.len() as i64,
                    recorded_by: &actor.login,
                })],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "committee.meeting".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"meeting_id": id, "date": d.to_string(), "members": list, "decisions": decisions.len()}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(MeetingInfo {
            id,
            date: d.to_string(),
            chair: actor.login.clone(),
            members: list,
            decisions: decisions.len() as i64,
            recorded_by: actor.login.clone(),
        })
    }

    /// `mamori committee list --as LOGIN`: dates, members and the number of decisions.
    pub async fn committee_list(&self, actor: &Actor) -> Result<Vec<MeetingInfo>> {
        self.require(actor, Action::Governance, "committee.list")
            .await?;
        let list: Vec<MeetingInfo> = self
            .store
            .meetings()
            .await?
            .into_iter()
            .map(|m| MeetingInfo {
                id: m.id,
                date: m.held_on,
                chair: m.chair,
                members: m.members,
                decisions: m.decisions,
                recorded_by: m.recorded_by,
            })
            .collect();
        self.note(
            &actor.login,
            "committee.list",
            serde_json::json!({"count": list.len()}),
        )
        .await?;
        Ok(list)
    }

    /// `mamori committee show ID --as LOGIN`: the minutes and decisions, for the manager and
    /// the meeting's members who may read personal values (minutes may mention people).
    pub async fn committee_show(&self, actor: &Actor, id: &str) -> Result<MeetingDetail> {
        let m = self.store.meeting(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!("ID: there is no committee meeting {id}: `mamori committee list --as LOGIN` shows them"))
        })?;
        // Members read the minutes, except a member who may never read personal values (the
        // auditor, Art. 5(3)): minutes may mention people.
        let member = m.members.contains(&actor.login) && actor.role.actions.contains(&Action::Read);
        if !member {
            self.require_manager(
                actor,
                "committee.read",
                "read the committee's minutes (members and the manager do)",
            )
            .await?;
        }
        self.note(
            &actor.login,
            "committee.read",
            serde_json::json!({"meeting_id": id}),
        )
        .await?;
        let minutes = self.open_text(id, MINUTES, &m.minutes_ct).await?;
        let decisions = match &m.decisions_ct {
            Some(ct) => serde_json::from_str(&self.open_text(id, DECISIONS, ct).await?)
                .map_err(|e| ServiceError::Failed(format!("decisions of {id}: {e}")))?,
            None => Vec::new(),
        };
        Ok(MeetingDetail {
            id: m.id,
            date: m.held_on,
            chair: m.chair,
            members: m.members,
            minutes,
            decisions,
        })
    }

    // ---- violation reports --------------------------------------------------------------------

    /// `mamori violation report --as LOGIN --text TEXT`: any staff member (seed 003 Art. 7(2));
    /// the text and who reported are sealed, and the log does not name the reporter.
    pub async fn violation_report(&self, actor: &Actor, text: &str) -> Result<Reported> {
        check_text("--text", text, 8000, true)?;
        let id = format!("x_{}", random_hex(8));
        let dk = self.record_key(&id).await?;
        let reporter_ct = seal_with(&dk, actor.login.as_bytes(), &field_aad(&id, &id, REPORTER))?;
        let text_ct = seal_with(&dk, text.as_bytes(), &field_aad(&id, &id, VIOLATION_TEXT))?;
        self.store
            .write(
                vec![Store::insert_violation(&id, reporter_ct, text_ct)],
                vec![AuditDraft {
                    actor: SEALED_REPORTER.into(),
                    action: "violation.report".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"violation_id": id}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self
            .store
            .violation(&id)
            .await?
            .ok_or_else(|| ServiceError::Failed("the report was not stored".into()))?;
        Ok(Reported {
            id,
            reported_at: row.reported_at,
        })
    }

    async fn violation_info(
        &self,
        v: mamori_store::governance::ViolationRow,
    ) -> Result<ViolationInfo> {
        let result = match &v.result_ct {
            Some(ct) => Some(self.open_text(&v.id, VIOLATION_RESULT, ct).await?),
            None => None,
        };
        Ok(ViolationInfo {
            reporter: self.open_text(&v.id, REPORTER, &v.reporter_ct).await?,
            text: self.open_text(&v.id, VIOLATION_TEXT, &v.text_ct).await?,
            id: v.id,
            reported_at: v.reported_at,
            status: v.status,
            closed_by: v.closed_by,
            closed_at: v.closed_at,
            result,
        })
    }

    /// `mamori violation list --as MANAGER [--open]`.
    pub async fn violation_list(
        &self,
        actor: &Actor,
        open_only: bool,
    ) -> Result<Vec<ViolationInfo>> {
        self.require_manager(actor, "violation.list", "read reports of violations")
            .await?;
        self.note(
            &actor.login,
            "violation.list",
            serde_json::json!({"open_only": open_only}),
        )
        .await?;
        let mut out = Vec::new();
        for v in self.store.violations().await? {
            if open_only && v.status != "open" {
                continue;
            }
            out.push(self.violation_info(v).await?);
        }
        Ok(out)
    }

    /// `mamori violation close ID --as MANAGER --result TEXT`.
    pub async fn violation_close(
        &self,
        actor: &Actor,
        id: &str,
        result: &str,
    ) -> Result<ViolationInfo> {
        self.require_manager(actor, "violation.close", "handle reports of violations")
            .await?;
        let v = self.store.violation(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!("ID: there is no violation report {id}: `mamori violation list --as MANAGER` shows them"))
        })?;
        if v.status != "open" {
            return Err(bad(format!("ID: report {id} is closed already")));
        }
        check_text("--result", result, 8000, true)?;
        let dk = self.store.data_key(id).await?;
        let ct = seal_with(&dk, result.as_bytes(), &field_aad(id, id, VIOLATION_RESULT))?;
        self.store
            .write(
                vec![Store::close_violation(id, &actor.login, ct)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "violation.close".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"violation_id": id}),
                    ..Default::default()
                }],
            )
            .await?;
        let v = self
            .store
            .violation(id)
            .await?
            .ok_or_else(|| ServiceError::Failed("the report vanished".into()))?;
        self.violation_info(v).await
    }
}

// ---- the auditor's report as a printable page ---------------------------------------------------

fn t<'a>(lang: Lang, ja: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// The auditor's report as a printable HTML page (texts escaped).
pub fn render_report_html(r: &InspectionReport, lang: Lang) -> String {
    let e = escape_html;
    let mut h = String::new();
    h.push_str(&format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #888;padding:4px;vertical-align:top;text-align:left}}.fail{{color:#a00;font-weight:bold}}.pass{{color:#060}}code{{font-size:90%;white-space:pre-wrap}}@media print{{body{{margin:0}}}}</style></head><body>\n",
        t(lang, "ja", "en"),
        t(lang, "監査報告書", "Audit report")
    ));
    h.push_str(&format!(
        "<h1>{}</h1>\n<p>{} — {}: {} / {}: {} / {}: {}</p>\n<p>{}: {} / {}: {}</p>\n",
        t(
            lang,
            "監査報告書(個人情報の管理状況)",
            "Audit report: the management of personal information"
        ),
        e(&r.organization),
        t(lang, "点検", "Inspection"),
        e(&r.inspection.id),
        t(lang, "基準時点", "As of"),
        e(&r.inspection.as_of),
        t(lang, "実施者", "By"),
        e(&r.inspection.by),
        t(lang, "適合", "Passed"),
        r.inspection.passed,
        t(lang, "不適合", "Failed"),
        r.inspection.failed
    ));
    h.push_str(&format!(
        "<h2>{}</h2>\n<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        t(lang, "点検項目", "Checklist"),
        t(lang, "項目", "Item"),
        t(lang, "根拠", "Rule"),
        t(lang, "結果", "Result"),
        t(lang, "概要", "Summary"),
        t(lang, "証跡", "Evidence")
    ));
    for c in &r.inspection.items {
        let (class, word) = if c.pass {
            ("pass", t(lang, "適合", "pass"))
        } else {
            ("fail", t(lang, "不適合", "fail"))
        };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            e(&c.id),
            e(&c.rule),
            e(&c.summary),
            e(&c.evidence.to_string())
        ));
    }
    h.push_str("</table>\n");
    h.push_str(&format!(
        "<h2>{}</h2>\n",
        t(
            lang,
            "指摘事項と是正措置",
            "Findings and corrective actions"
        )
    ));
    if r.findings.is_empty() {
        h.push_str(&format!(
            "<p>{}</p>\n",
            t(lang, "指摘事項なし", "No findings")
        ));
    } else {
        h.push_str(&format!(
            "<table><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
            t(lang, "指摘", "Finding"),
            t(lang, "是正措置", "Corrective action"),
            t(lang, "期限", "Due"),
            t(lang, "状態", "Status"),
            t(lang, "結果", "Result")
        ));
        for f in &r.findings {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>\n",
                e(&f.id),
                e(&f.text),
                e(f.corrective_action.as_deref().unwrap_or("")),
                e(&f.due),
                e(&f.status),
                if f.overdue {
                    t(lang, "(期限超過)", " (overdue)")
                } else {
                    ""
                },
                e(f.result.as_deref().unwrap_or(""))
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str(&format!(
        "<p>{}</p>\n</body></html>\n",
        t(
            lang,
            "本報告書は個人情報保護規定第5条第3項・第19条に基づく。証跡は識別子・件数・日付のみで、個人の値を含まない。",
            "Made under Arts. 5(3) and 19 of the rules. Evidence holds ids, counts and dates only, never personal values."
        )
    ));
    h
}
