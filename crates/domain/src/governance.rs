//! Governance rules: who is the manager, who is trained, what an inspection finds, and who may
//! hold which role. Pure: facts (and today's date) in, decisions with reasons out.
//!
//! - Training (seed 003 Art. 6; seed 000 Art. 8-2): staff who handle personal data are trained
//!   at least every `[training] interval`; [`training_gate`] refuses their access to personal
//!   values when the policy says `block_when_overdue = true` and they are overdue.
//! - The manager (seed 003 Arts. 4(1), 5(1), 7(2), 22(4)): the role that runs governance AND
//!   may read personal values — it reads exception reasons, violation reports and committee
//!   minutes, which may name people. The auditor (Art. 4(2), 5(3)) runs governance too but never
//!   reads values: [`may_manage`] refuses it.
//! - Separation of duties (seed 000 Art. 8-1): the last staff administrator cannot be removed
//!   ([`keeps_an_admin`]); nobody reviews what they did themselves ([`may_review`], issue 20):
//!   the manager's review of exception accesses, fulfilled requests and staff-account changes
//!   (seed 003 Arts. 5(1), 9(3)) is done by someone other than whoever caused the entry.
//! - Inspections (seed 003 Arts. 19, 24): [`sweep_recent`] and [`Check`] items.

use std::fmt;

use jiff::Span;
use jiff::civil::Date;
use mamori_policy::{Action, Role};
use serde::Serialize;

/// Retention sweeps are run daily by the server; an inspection flags a gap when the last one is
/// older than this many days (one missed day is tolerated).
pub const SWEEP_WITHIN_DAYS: i64 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GovernanceDenied {
    /// Training overdue and the policy blocks access until trained (seed 003 Art. 6).
    TrainingOverdue {
        login: String,
        last: Option<Date>,
        due: Option<Date>,
    },
    /// Only the manager (governance + the right to read values) does this.
    NotManager { role: String, what: &'static str },
    /// The last administrator cannot lose the role or be disabled.
    LastAdmin { login: String },
    /// The reviewer caused the entry under review (did the access, verified or fulfilled the
    /// request, made or is the account).
    OwnEntry { login: String, entry: String },
}

impl fmt::Display for GovernanceDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GovernanceDenied::TrainingOverdue {
                login, last: None, ..
            } => write!(
                f,
                "staff member {login} has no training on record and the policy blocks access to personal values until trained (seed 003 Art. 6; seed 000 Art. 8-2): record a training with `mamori training record`"
            ),
            GovernanceDenied::TrainingOverdue {
                login,
                last: Some(l),
                due,
            } => write!(
                f,
                "staff member {login}'s training is overdue (last {l}, due {}) and the policy blocks access to personal values until trained (seed 003 Art. 6; seed 000 Art. 8-2): record a training with `mamori training record`",
                due.map_or_else(|| "-".to_string(), |d| d.to_string())
            ),
            GovernanceDenied::NotManager { role, what } => write!(
                f,
                "role {role} may not {what}: that is the personal-information protection manager's (seed 003 Arts. 4(1), 5(1), 7(2), 22(4))"
            ),
            GovernanceDenied::LastAdmin { login } => write!(
                f,
                "{login} is the last staff administrator: add another administrator first (separation of duties, seed 000 Art. 8-1)"
            ),
            GovernanceDenied::OwnEntry { login, entry } => write!(
                f,
                "{login} may not review {entry}, which they did themselves: another manager reviews it (separation of duties, seed 000 Art. 8-1; seed 003 Art. 9(3))"
            ),
        }
    }
}

/// When the next training is due: the last one plus the interval (`None` when never trained).
pub fn training_due(last: Option<Date>, interval: Span) -> Option<Date> {
    last.and_then(|d| d.checked_add(interval).ok())
}

/// Overdue on `today`: never trained, or the due date has passed (the due day itself is fine).
pub fn training_overdue(last: Option<Date>, interval: Span, today: Date) -> bool {
    match training_due(last, interval) {
        None => true,
        Some(due) => today > due,
    }
}

/// The gate on access to personal values (seed 003 Art. 6): refused only when the policy
/// blocks (`block`) and the staff member is overdue.
pub fn training_gate(
    login: &str,
    last: Option<Date>,
    interval: Span,
    today: Date,
    block: bool,
) -> Result<(), GovernanceDenied> {
    if block && training_overdue(last, interval, today) {
        return Err(GovernanceDenied::TrainingOverdue {
            login: login.to_string(),
            last,
            due: training_due(last, interval),
        });
    }
    Ok(())
}

/// Whether a role handles personal data (and so must be trained and pledged, seed 003 Arts.
/// 6, 7(1)): it may register, read, correct or provide personal values.
pub fn handles_personal_data(role: &Role) -> bool {
    [
        Action::Register,
        Action::Read,
        Action::Correct,
        Action::Provide,
    ]
    .iter()
    .any(|a| role.actions.contains(a))
}

/// The manager's own duties: governance plus the right to read values (the auditor has the
/// first, never the second).
pub fn may_manage(role: &Role, what: &'static str) -> Result<(), GovernanceDenied> {
    if role.actions.contains(&Action::Governance) && role.actions.contains(&Action::Read) {
        Ok(())
    } else {
        Err(GovernanceDenied::NotManager {
            role: role.id.clone(),
            what,
        })
    }
}

/// Nobody marks done a review entry they caused: `involved` are the logins that did the access,
/// verified or fulfilled the request, or made (or are) the account.
pub fn may_review(reviewer: &str, entry: &str, involved: &[&str]) -> Result<(), GovernanceDenied> {
    if involved.contains(&reviewer) {
        return Err(GovernanceDenied::OwnEntry {
            login: reviewer.to_string(),
            entry: entry.to_string(),
        });
    }
    Ok(())
}

/// A role change or a disabling keeps at least one enabled administrator (a role with the
/// `staff` action). `admins` are the enabled administrators now; `login` loses the role.
pub fn keeps_an_admin(
    login: &str,
    loses_admin: bool,
    admins: &[String],
) -> Result<(), GovernanceDenied> {
    if loses_admin && admins.iter().all(|a| a == login) {
        return Err(GovernanceDenied::LastAdmin {
            login: login.to_string(),
        });
    }
    Ok(())
}

/// Whether the last retention sweep (a Japan date) is recent enough on `today`.
pub fn sweep_recent(last: Option<Date>, today: Date) -> bool {
    last.is_some_and(|d| {
        d.checked_add(Span::new().days(SWEEP_WITHIN_DAYS))
            .is_ok_and(|limit| today <= limit)
    })
}

/// One item of an inspection's checklist: pass or fail, with the evidence (ids, counts,
/// dates — never values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Check {
    pub id: String,
    /// The rule it checks (seed article).
    pub rule: String,
    pub pass: bool,
    pub summary: String,
    pub evidence: serde_json::Value,
}

impl Check {
    pub fn new(
        id: &str,
        rule: &str,
        pass: bool,
        summary: impl Into<String>,
        evidence: serde_json::Value,
    ) -> Check {
        Check {
            id: id.into(),
            rule: rule.into(),
            pass,
            summary: summary.into(),
            evidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_reviews_an_entry_they_caused() {
        assert_eq!(may_review("boss", "request r_1", &["sato", "sato"]), Ok(()));
        let e = may_review("boss", "request r_1", &["sato", "boss"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "boss may not review request r_1, which they did themselves: another manager reviews it (separation of duties, seed 000 Art. 8-1; seed 003 Art. 9(3))"
        );
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }
    fn year() -> Span {
        Span::new().years(1)
    }
    fn role(id: &str, actions: Vec<Action>) -> Role {
        Role {
            id: id.into(),
            ja: id.into(),
            en: id.into(),
            purposes: vec![],
            actions,
        }
    }

    #[test]
    fn training_is_due_a_year_after_and_overdue_the_day_after_that() {
        let last = Some(d("2025-11-22"));
        assert_eq!(training_due(last, year()), Some(d("2026-11-22")));
        assert!(!training_overdue(last, year(), d("2026-11-22")));
        assert!(training_overdue(last, year(), d("2026-11-23")));
        assert!(training_overdue(None, year(), d("2026-11-23")));
    }

    #[test]
    fn the_gate_refuses_only_when_the_policy_blocks_and_training_is_overdue_citing_art_6() {
        let today = d("2026-11-23");
        assert!(training_gate("sato", None, year(), today, false).is_ok());
        assert!(training_gate("sato", Some(d("2026-01-01")), year(), today, true).is_ok());
        let e = training_gate("sato", Some(d("2025-01-01")), year(), today, true).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("seed 003 Art. 6"), "{m}");
        assert!(m.contains("last 2025-01-01, due 2026-01-01"), "{m}");
        let m = training_gate("sato", None, year(), today, true)
            .unwrap_err()
            .to_string();
        assert!(m.contains("no training on record"), "{m}");
    }

    #[test]
    fn the_manager_reads_values_and_governs_the_auditor_only_governs() {
        let manager = role("manager", vec![Action::Read, Action::Governance]);
        let auditor = role("auditor", vec![Action::Audit, Action::Governance]);
        let clerk = role("clerk", vec![Action::Read]);
        assert!(may_manage(&manager, "x").is_ok());
        assert!(
            may_manage(&auditor, "x")
                .unwrap_err()
                .to_string()
                .contains("7(2)")
        );
        assert!(may_manage(&clerk, "x").is_err());
        assert!(handles_personal_data(&clerk));
        assert!(!handles_personal_data(&auditor));
    }

    #[test]
    fn the_last_admin_cannot_be_removed_but_one_of_two_can() {
        let one = vec!["admin".to_string()];
        let two = vec!["admin".to_string(), "root".to_string()];
        assert!(keeps_an_admin("admin", true, &one).is_err());
        assert!(keeps_an_admin("admin", true, &two).is_ok());
        assert!(keeps_an_admin("admin", false, &one).is_ok());
        assert!(keeps_an_admin("sato", true, &one).is_ok());
    }

    #[test]
    fn a_sweep_within_two_days_is_recent_and_none_is_not() {
        assert!(sweep_recent(Some(d("2026-11-20")), d("2026-11-22")));
        assert!(!sweep_recent(Some(d("2026-11-19")), d("2026-11-22")));
        assert!(!sweep_recent(None, d("2026-11-22")));
    }
}
