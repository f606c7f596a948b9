//! The access decision: may this staff member use this principal's data for this purpose?
//!
//! Allowed when the staff member's role may use the purpose (seed 000 Art. 8-1: only the
//! minimum necessary staff; seed 003 Art. 17) AND the principal's data is not suspended for
//! that use (APPI 35) AND one of:
//! - the purpose was notified for the channel the data came from (APPI 18(1), 21; seed 000
//!   Art. 4 "取得時に明示した目的の範囲内でのみ"; seed 003 Arts. 9, 11);
//! - the principal consented to the purpose (APPI 18(1); seed 003 Art. 9(1));
//! - a statutory exception is invoked with a written reason (APPI 18(3); seed 003 Art. 9(3);
//!   seed 000 Art. 7): allowed, and flagged for the manager's review.
//!
//! A suspension yields only to a statutory exception (APPI 35 does not override 18(3)).
//!
//! The written reason is what the manager reviews (seed 003 Art. 9(3)): it must say which law or
//! which request the use rests on, so a token reason ("x", "........") is refused at the edge
//! ([`check_exception_reason`], issue 20).

use std::fmt;

use mamori_policy::{Action, Channel, ExceptionKind, Role};

/// Why the use is lawful.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Notified,
    Consent,
    Exception(ExceptionKind),
}

impl Basis {
    /// As recorded in the audit log: `notified`, `consent`, `exception:law`, …
    pub fn as_string(self) -> String {
        match self {
            Basis::Notified => "notified".into(),
            Basis::Consent => "consent".into(),
            Basis::Exception(k) => format!("exception:{}", k.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    ActionNotAllowed { role: String, action: Action },
    PurposeNotForRole { role: String, purpose: String },
    Suspended { purpose: Option<String> },
    NotNotified { purpose: String, channel: String },
    ExceptionWithoutReason { kind: ExceptionKind },
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::ActionNotAllowed { role, action } => write!(
                f,
                "role {role} may not {} (seed 000 Art. 8-1: only the staff who need it may handle personal data)",
                action_phrase(*action)
            ),
            DenyReason::PurposeNotForRole { role, purpose } => write!(
                f,
                "role {role} may not use personal data for purpose {purpose} (seed 000 Art. 8-1, seed 003 Art. 17)"
            ),
            DenyReason::Suspended { purpose: Some(p) } => write!(
                f,
                "the principal's data is suspended for purpose {p} at their request (APPI 35); only a statutory exception with a reason allows it"
            ),
            DenyReason::Suspended { purpose: None } => write!(
                f,
                "the principal's data is suspended for every use at their request (APPI 35); only a statutory exception with a reason allows it"
            ),
            DenyReason::NotNotified { purpose, channel } => write!(
                f,
                "purpose {purpose} was not notified for channel {channel} and no consent is on record (APPI 18(1); seed 000 Art. 4, seed 003 Art. 9)"
            ),
            DenyReason::ExceptionWithoutReason { kind } => write!(
                f,
                "the statutory exception {} needs a written reason: give --reason (APPI 18(3){})",
                kind.as_str(),
                kind.appi_item()
            ),
        }
    }
}

fn action_phrase(a: Action) -> &'static str {
    match a {
        Action::Register => "register principals",
        Action::Read => "read personal values",
        Action::Correct => "correct personal values",
        Action::Consent => "record consent",
        Action::Provide => "provide personal data to others",
        Action::Requests => "handle principals' requests",
        Action::Complaints => "handle complaints",
        Action::Incidents => "manage incidents",
        Action::Retention => "run retention and disposal",
        Action::Audit => "read the audit log",
        Action::Ledger => "read the ledger",
        Action::Staff => "manage staff",
        Action::Policy => "change the policy",
        Action::Training => "record training",
        Action::Governance => "run inspections and audits",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `review`: the manager must review this use (statutory exceptions).
    Allow {
        basis: Basis,
        review: bool,
    },
    Deny {
        reason: DenyReason,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// May this role perform this action at all? (the first gate of every use case)
pub fn may(role: &Role, action: Action) -> Result<(), DenyReason> {
    if role.actions.contains(&action) {
        Ok(())
    } else {
        Err(DenyReason::ActionNotAllowed {
            role: role.id.clone(),
            action,
        })
    }
}

/// Whether the role may use personal data for `purpose` at all (seed 000 Art. 8-1: only the
/// staff who need it; seed 003 Art. 17). A fact of the role alone, so a search can be refused
/// before it looks anyone up (else "nobody found" and "refused" would tell who is held).
pub fn may_use_for(role: &Role, purpose: &str) -> Result<(), DenyReason> {
    if role.purposes.iter().any(|p| p == purpose) {
        Ok(())
    } else {
        Err(DenyReason::PurposeNotForRole {
            role: role.id.clone(),
            purpose: purpose.to_string(),
        })
    }
}

/// The facts an access decision is made on.
#[derive(Debug, Clone)]
pub struct AccessFacts<'a> {
    pub role: &'a Role,
    /// `Read` to reveal values, `Correct` to change them, …
    pub action: Action,
    pub purpose: &'a str,
    /// The channel the principal's data was collected through.
    pub channel: &'a Channel,
    /// Purposes with consent on record and not withdrawn.
    pub consented: &'a [String],
    /// Active suspensions: `None` = every use, `Some(p)` = purpose p.
    pub suspensions: &'a [Option<String>],
    /// A statutory exception invoked by the staff member, with the written reason.
    pub exception: Option<(ExceptionKind, &'a str)>,
}

/// The shortest written reason for a statutory exception, in characters.
pub const MIN_EXCEPTION_REASON_CHARS: usize = 8;

/// Whether a statutory exception's written reason can be reviewed (APPI 18(3); seed 003 Art.
/// 9(3)): at least [`MIN_EXCEPTION_REASON_CHARS`] characters, not one character repeated. An
/// empty reason is the decision's to deny ([`DenyReason::ExceptionWithoutReason`]). The
/// message never repeats the reason.
pub fn check_exception_reason(reason: &str) -> Result<(), String> {
    let r = reason.trim();
    if r.is_empty() {
        return Ok(());
    }
    let mut distinct: Vec<char> = r.chars().filter(|c| !c.is_whitespace()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if r.chars().count() < MIN_EXCEPTION_REASON_CHARS || distinct.len() < 3 {
        return Err(format!(
            "too short to review: write at least {MIN_EXCEPTION_REASON_CHARS} characters saying which law or which request it rests on (e.g. 捜査関係事項照会書 第123号) (APPI 18(3); seed 003 Art. 9(3))"
        ));
    }
    Ok(())
}

/// The access decision (see the module comment for the rule).
pub fn decide(f: &AccessFacts<'_>) -> Decision {
    if let Err(reason) = may(f.role, f.action) {
        return Decision::Deny { reason };
    }
    if let Err(reason) = may_use_for(f.role, f.purpose) {
        return Decision::Deny { reason };
    }
    let exception = match f.exception {
        Some((kind, reason)) if reason.trim().is_empty() => {
            return Decision::Deny {
                reason: DenyReason::ExceptionWithoutReason { kind },
            };
        }
        Some((kind, _)) => Some(kind),
        None => None,
    };
    let suspended = f
        .suspensions
        .iter()
        .find(|s| s.as_deref().is_none_or(|p| p == f.purpose));
    if let Some(s) = suspended {
        return match exception {
            Some(kind) => Decision::Allow {
                basis: Basis::Exception(kind),
                review: true,
            },
            None => Decision::Deny {
                reason: DenyReason::Suspended { purpose: s.clone() },
            },
        };
    }
    if f.channel.purposes.iter().any(|p| p == f.purpose) {
        return Decision::Allow {
            basis: Basis::Notified,
            review: false,
        };
    }
    if f.consented.iter().any(|p| p == f.purpose) {
        return Decision::Allow {
            basis: Basis::Consent,
            review: false,
        };
    }
    match exception {
        Some(kind) => Decision::Allow {
            basis: Basis::Exception(kind),
            review: true,
        },
        None => Decision::Deny {
            reason: DenyReason::NotNotified {
                purpose: f.purpose.to_string(),
                channel: f.channel.id.clone(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_policy::Policy;

    fn policy() -> Policy {
        Policy::parse(mamori_policy::preset("chiba-ia").unwrap(), "chiba-ia").unwrap()
    }

    fn facts<'a>(p: &'a Policy, role: &str, purpose: &'a str, channel: &str) -> AccessFacts<'a> {
        AccessFacts {
            role: p.role(role).unwrap(),
            action: Action::Read,
            purpose,
            channel: p.channel(channel).unwrap(),
            consented: &[],
            suspensions: &[],
            exception: None,
        }
    }

    #[test]
    fn a_purpose_notified_for_the_channel_is_allowed() {
        let p = policy();
        let d = decide(&facts(&p, "clerk", "registration_renewal", "volunteer"));
        assert_eq!(
            d,
            Decision::Allow {
                basis: Basis::Notified,
                review: false
            }
        );
    }

    #[test]
    fn a_purpose_not_notified_for_the_channel_is_denied_with_the_rule() {
        let p = policy();
        let d = decide(&facts(&p, "clerk", "inquiry_response", "volunteer"));
        let Decision::Deny { reason } = d else {
            panic!("allowed")
        };
        assert_eq!(
            reason.to_string(),
            "purpose inquiry_response was not notified for channel volunteer and no consent is on record (APPI 18(1); seed 000 Art. 4, seed 003 Art. 9)"
        );
    }

    #[test]
    fn consent_on_record_allows_a_purpose_that_was_not_notified() {
        let p = policy();
        let consented = vec!["inquiry_response".to_string()];
        let mut f = facts(&p, "clerk", "inquiry_response", "volunteer");
        f.consented = &consented;
        assert_eq!(
            decide(&f),
            Decision::Allow {
                basis: Basis::Consent,
                review: false
            }
        );
    }

    #[test]
    fn a_statutory_exception_with_a_reason_is_allowed_and_flagged_for_review() {
        let p = policy();
        let mut f = facts(&p, "clerk", "inquiry_response", "volunteer");
        f.exception = Some((ExceptionKind::PublicAgency, "police inquiry no. 12"));
        assert_eq!(
            decide(&f),
            Decision::Allow {
                basis: Basis::Exception(ExceptionKind::PublicAgency),
                review: true
            }
        );
    }

    #[test]
    fn a_token_statutory_exception_reason_is_refused_and_a_real_one_accepted() {
        for token in ["x", "照会", "aaaaaaaaaaaa", "a a a a a a"] {
            let m = check_exception_reason(token).unwrap_err();
            assert!(
                m.starts_with("too short to review: write at least 8"),
                "{token}: {m}"
            );
        }
        assert_eq!(check_exception_reason("捜査関係事項照会書 第123号"), Ok(()));
        assert_eq!(check_exception_reason("court order 2026-55"), Ok(()));
        assert_eq!(
            check_exception_reason(""),
            Ok(()),
            "the decision denies an empty one"
        );
    }

    #[test]
    fn a_statutory_exception_without_a_reason_is_denied() {
        let p = policy();
        let mut f = facts(&p, "clerk", "inquiry_response", "volunteer");
        f.exception = Some((ExceptionKind::Law, "  "));
        let Decision::Deny { reason } = decide(&f) else {
            panic!("allowed")
        };
        assert!(
            reason.to_string().contains("needs a written reason"),
            "{reason}"
        );
        assert!(reason.to_string().contains("APPI 18(3)(i)"), "{reason}");
    }

    #[test]
    fn the_auditor_may_never_read_personal_values() {
        let p = policy();
        let d = decide(&facts(&p, "auditor", "registration_contact", "volunteer"));
        let Decision::Deny { reason } = d else {
            panic!("allowed")
        };
        assert_eq!(
            reason,
            DenyReason::ActionNotAllowed {
                role: "auditor".into(),
                action: Action::Read
            }
        );
        assert!(
            reason
                .to_string()
                .starts_with("role auditor may not read personal values")
        );
    }

    #[test]
    fn the_admin_sets_up_the_system_but_reads_no_personal_values() {
        let p = policy();
        assert!(!decide(&facts(&p, "admin", "registration_contact", "volunteer")).is_allowed());
    }

    #[test]
    fn a_role_without_the_purpose_is_denied_even_when_it_was_notified() {
        let mut p = policy();
        let clerk = p.roles.iter_mut().find(|r| r.id == "clerk").unwrap();
        clerk.purposes.retain(|x| x != "material_delivery");
        let d = decide(&facts(&p, "clerk", "material_delivery", "volunteer"));
        let Decision::Deny { reason } = d else {
            panic!("allowed")
        };
        assert_eq!(
            reason.to_string(),
            "role clerk may not use personal data for purpose material_delivery (seed 000 Art. 8-1, seed 003 Art. 17)"
        );
    }

    #[test]
    fn a_suspension_for_the_purpose_denies_even_a_notified_purpose() {
        let p = policy();
        let s = vec![Some("registration_renewal".to_string())];
        let mut f = facts(&p, "clerk", "registration_renewal", "volunteer");
        f.suspensions = &s;
        let Decision::Deny { reason } = decide(&f) else {
            panic!("allowed")
        };
        assert!(
            reason
                .to_string()
                .contains("suspended for purpose registration_renewal")
        );
        // Another purpose is not affected.
        let mut g = facts(&p, "clerk", "registration_contact", "volunteer");
        g.suspensions = &s;
        assert!(decide(&g).is_allowed());
    }

    #[test]
    fn a_suspension_of_every_use_yields_only_to_a_statutory_exception() {
        let p = policy();
        let s = vec![None];
        let mut f = facts(&p, "clerk", "registration_contact", "volunteer");
        f.suspensions = &s;
        assert!(!decide(&f).is_allowed());
        f.exception = Some((ExceptionKind::Life, "ambulance called, next of kin needed"));
        assert_eq!(
            decide(&f),
            Decision::Allow {
                basis: Basis::Exception(ExceptionKind::Life),
                review: true
            }
        );
    }

    #[test]
    fn notified_wins_over_an_unneeded_exception() {
        let p = policy();
        let mut f = facts(&p, "clerk", "registration_contact", "volunteer");
        f.exception = Some((ExceptionKind::Law, "court order"));
        assert_eq!(
            decide(&f),
            Decision::Allow {
                basis: Basis::Notified,
                review: false
            }
        );
    }
}
