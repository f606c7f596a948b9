//! May this principal's data go to this recipient? (APPI 27-29; seed 000 Arts. 6-7; seed 003
//! Arts. 18, 20.)
//!
//! - Only what the recipient is declared to receive, for the purposes it is declared for
//!   (seed 000 Art. 7: Stripe gets the token, name and email; SelectType name and email).
//! - A statutory exception with a written reason allows any provision in that scope (APPI
//!   27(1)(i)-(iv)); it leaves no provision record (APPI 29(1) proviso) and goes to the manager's
//!   review.
//! - Entrustment (委託) is not a third-party provision (APPI 27(5)(i)): allowed within the
//!   purposes the principal was told, to a contractor whose contract has the six clauses of
//!   seed 003 Art. 18(1) and is not past its review (APPI 25: supervision). No record.
//! - Joint use (共同利用) is not a third-party provision when announced beforehand (APPI
//!   27(5)(iii); seed 003 Art. 20(2)(3)): the recipient must have been in the policy the principal
//!   was shown. No record.
//! - A third party needs the principal's consent (APPI 27(1); seed 000 Art. 7 para. 2; seed 003
//!   Art. 20(1)), unless a law requires the provision (APPI 27(1)(i), e.g. the immigration
//!   reports of a language school). A consent-based provision leaves a record kept three years,
//!   or one year where a contract stands in for it (APPI 29, rule 21).
//! - Abroad (APPI 28): an equivalent country (EU, UK) is fine; equivalent measures only while
//!   their periodic check is not overdue (28(3)); otherwise consent given after being told the
//!   country, its regime and the recipient's measures (28(2)).
//! - A principal who asked to stop provision to third parties (APPI 35(3), (5)) or to suspend
//!   use for the purpose (APPI 35(1)) is respected unless a statutory exception applies.

use std::fmt;

use jiff::civil::Date;
use mamori_policy::{
    Action, ContractClause, ExceptionKind, ForeignBasis, Recipient, RecipientKind, Role,
};

use crate::access::{DenyReason, may};

/// What the provision rests on, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionBasis {
    Consent,
    Entrustment,
    JointUse,
    /// Required by a law (APPI 27(1)(i)): the recipient is `required_by_law`.
    RequiredByLaw,
    Exception(ExceptionKind),
}

impl ProvisionBasis {
    /// As in `provide`'s output and the audit log.
    pub fn as_string(self) -> String {
        match self {
            ProvisionBasis::Consent => "consent".into(),
            ProvisionBasis::Entrustment => "entrustment".into(),
            ProvisionBasis::JointUse => "joint-use".into(),
            ProvisionBasis::RequiredByLaw => "law".into(),
            ProvisionBasis::Exception(k) => k.as_str().into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionDenied {
    Role(DenyReason),
    PurposeNotForRecipient {
        recipient: String,
        purpose: String,
        allowed: Vec<String>,
    },
    CategoriesOutOfScope {
        recipient: String,
        extra: Vec<String>,
        allowed: Vec<String>,
    },
    ExceptionWithoutReason {
        kind: ExceptionKind,
    },
    ProvisionStopped {
        recipient: String,
    },
    Suspended {
        purpose: String,
    },
    PurposeNotNotified {
        purpose: String,
    },
    ContractMissing {
        recipient: String,
    },
    ContractLacksClauses {
        recipient: String,
        missing: Vec<&'static str>,
    },
    ContractReviewOverdue {
        recipient: String,
        due: Date,
    },
    JointUseNotAnnounced {
        recipient: String,
    },
    NoConsent {
        recipient: String,
    },
    ForeignMeasuresCheckOverdue {
        recipient: String,
        due: Option<Date>,
    },
    ForeignConsentNotInformed {
        recipient: String,
        country: String,
    },
    NoForeignBasis {
        recipient: String,
        country: String,
    },
}

impl fmt::Display for ProvisionDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProvisionDenied::*;
        match self {
            Role(r) => write!(f, "{r}"),
            PurposeNotForRecipient {
                recipient,
                purpose,
                allowed,
            } => write!(
                f,
                "recipient {recipient} does not receive data for purpose {purpose}: its purposes are {} (APPI 27; seed 000 Art. 7)",
                allowed.join(", ")
            ),
            CategoriesOutOfScope {
                recipient,
                extra,
                allowed,
            } => write!(
                f,
                "recipient {recipient} may receive only {}; not {} (seed 000 Art. 7; APPI 27)",
                allowed.join(", "),
                extra.join(", ")
            ),
            ExceptionWithoutReason { kind } => write!(
                f,
                "the statutory exception {} needs a written reason: give --reason (APPI 27(1){})",
                kind.as_str(),
                kind.appi_item()
            ),
            ProvisionStopped { recipient } => write!(
                f,
                "the principal asked to stop provision of their data to third parties; {recipient} may not receive it (APPI 35(3), 35(5)); only a statutory exception with a reason allows it"
            ),
            Suspended { purpose } => write!(
                f,
                "the principal's data is suspended for purpose {purpose} at their request (APPI 35); only a statutory exception with a reason allows it"
            ),
            PurposeNotNotified { purpose } => write!(
                f,
                "purpose {purpose} was not notified to the principal and no consent is on record: entrustment and joint use are only within the purposes of use (APPI 27(5), 18(1))"
            ),
            ContractMissing { recipient } => write!(
                f,
                "there is no entrustment contract on record with {recipient}: record it with the six clauses of seed 003 Art. 18(1) first (APPI 25)"
            ),
            ContractLacksClauses { recipient, missing } => write!(
                f,
                "the contract with {recipient} lacks {}: seed 003 Art. 18(1) requires all six clauses before data is entrusted",
                missing.join(", ")
            ),
            ContractReviewOverdue { recipient, due } => write!(
                f,
                "the contract with {recipient} was due for review on {due}: review the contractor's handling and record it before entrusting data (seed 003 Art. 18; APPI 25)"
            ),
            JointUseNotAnnounced { recipient } => write!(
                f,
                "joint use with {recipient} was not announced in the policy the principal was shown: it needs their consent as a third-party provision (APPI 27(5)(iii); seed 003 Art. 20(2)(3))"
            ),
            NoConsent { recipient } => write!(
                f,
                "no consent is on record for provision to {recipient} (APPI 27(1); seed 000 Art. 7, seed 003 Art. 20): record the principal's consent, or give a statutory basis with a reason"
            ),
            ForeignMeasuresCheckOverdue {
                recipient,
                due: Some(d),
            } => write!(
                f,
                "the periodic check of {recipient}'s equivalent measures was due on {d}: check and record it before providing data abroad (APPI 28(3), rule 18)"
            ),
            ForeignMeasuresCheckOverdue {
                recipient,
                due: None,
            } => write!(
                f,
                "{recipient}'s equivalent measures have never been checked: check and record it before providing data abroad (APPI 28(3), rule 18)"
            ),
            ForeignConsentNotInformed { recipient, country } => write!(
                f,
                "provision to {recipient} in {country} needs consent given after the principal was told the country, its protection system and the recipient's measures (APPI 28(2), rule 17): record that consent with --informed-abroad"
            ),
            NoForeignBasis { recipient, country } => write!(
                f,
                "recipient {recipient} is in {country} and the policy gives no APPI 28 basis for it"
            ),
        }
    }
}

/// How long the provision record is kept (APPI 29(2), rule 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordRule {
    /// No provision record: statutory exceptions, provision required by law, entrustment,
    /// joint use (APPI 29(1) proviso, 27(5)).
    None,
    Years(i16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionDecision {
    Allow {
        basis: ProvisionBasis,
        record: RecordRule,
        review: bool,
    },
    Deny {
        reason: ProvisionDenied,
    },
}

/// The state of the contract with a contractor: clauses signed and the next review date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractState {
    pub clauses: Vec<ContractClause>,
    pub next_review: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct ProvisionFacts<'a> {
    pub role: &'a Role,
    pub recipient: &'a Recipient,
    pub purpose: &'a str,
    pub categories: &'a [String],
    /// Purposes the principal was told for their channel, or consented to.
    pub usable_purposes: &'a [String],
    /// An active consent to provision to this recipient: `Some(informed_abroad)`.
    pub recipient_consent: Option<bool>,
    /// The recipient was in the policy version the principal was shown (joint use announced).
    pub announced: bool,
    pub contract: Option<&'a ContractState>,
    /// Next due date of the periodic check of equivalent measures abroad.
    pub measures_next_due: Option<Date>,
    pub provision_stopped: bool,
    pub suspended_for_purpose: bool,
    pub exception: Option<(ExceptionKind, &'a str)>,
    pub today: Date,
}

fn deny(reason: ProvisionDenied) -> ProvisionDecision {
    ProvisionDecision::Deny { reason }
}

/// The provision decision (see the module comment for the rules).
pub fn decide(f: &ProvisionFacts<'_>) -> ProvisionDecision {
    use ProvisionDenied::*;
    let r = f.recipient;
    if let Err(e) = may(f.role, Action::Provide) {
        return deny(Role(e));
    }
    if !r.purposes.iter().any(|p| p == f.purpose) {
        return deny(PurposeNotForRecipient {
            recipient: r.id.clone(),
            purpose: f.purpose.to_string(),
            allowed: r.purposes.clone(),
        });
    }
    let extra: Vec<String> = f
        .categories
        .iter()
        .filter(|c| !r.categories.contains(c))
        .cloned()
        .collect();
    if !extra.is_empty() {
        return deny(CategoriesOutOfScope {
            recipient: r.id.clone(),
            extra,
            allowed: r.categories.clone(),
        });
    }
    match f.exception {
        Some((kind, reason)) if reason.trim().is_empty() => {
            return deny(ExceptionWithoutReason { kind });
        }
        Some((kind, _)) => {
            return ProvisionDecision::Allow {
                basis: ProvisionBasis::Exception(kind),
                record: RecordRule::None,
                review: true,
            };
        }
        None => {}
    }
    if f.suspended_for_purpose {
        return deny(Suspended {
            purpose: f.purpose.to_string(),
        });
    }
    // APPI 28 applies to every recipient abroad, contractors and joint users included.
    if r.country != "JP" {
        match r.foreign_basis {
            None => {
                return deny(NoForeignBasis {
                    recipient: r.id.clone(),
                    country: r.country.clone(),
                });
            }
            Some(ForeignBasis::EquivalentCountry) => {}
            Some(ForeignBasis::EquivalentMeasures) => {
                if f.measures_next_due.is_none_or(|d| d < f.today) {
                    return deny(ForeignMeasuresCheckOverdue {
                        recipient: r.id.clone(),
                        due: f.measures_next_due,
                    });
                }
            }
            Some(ForeignBasis::Consent) => {
                if f.recipient_consent != Some(true) {
                    return deny(ForeignConsentNotInformed {
                        recipient: r.id.clone(),
                        country: r.country.clone(),
                    });
                }
            }
        }
    }
    let within_purposes = f.usable_purposes.iter().any(|p| p == f.purpose);
    match r.kind {
        RecipientKind::Entrustment => {
            if !within_purposes {
                return deny(PurposeNotNotified {
                    purpose: f.purpose.to_string(),
                });
            }
            let Some(c) = f.contract else {
                return deny(ContractMissing {
                    recipient: r.id.clone(),
                });
            };
            let missing: Vec<&'static str> = ContractClause::ALL
                .iter()
                .filter(|cl| !c.clauses.contains(cl))
                .map(|cl| cl.as_str())
                .collect();
            if !missing.is_empty() {
                return deny(ContractLacksClauses {
                    recipient: r.id.clone(),
                    missing,
                });
            }
            if let Some(due) = c.next_review
                && due < f.today
            {
                return deny(ContractReviewOverdue {
                    recipient: r.id.clone(),
                    due,
                });
            }
            ProvisionDecision::Allow {
                basis: ProvisionBasis::Entrustment,
                record: RecordRule::None,
                review: false,
            }
        }
        RecipientKind::JointUse => {
            if !f.announced {
                return deny(JointUseNotAnnounced {
                    recipient: r.id.clone(),
                });
            }
            if !within_purposes {
                return deny(PurposeNotNotified {
                    purpose: f.purpose.to_string(),
                });
            }
            ProvisionDecision::Allow {
                basis: ProvisionBasis::JointUse,
                record: RecordRule::None,
                review: false,
            }
        }
        RecipientKind::ThirdParty => {
            if r.required_by_law {
                return ProvisionDecision::Allow {
                    basis: ProvisionBasis::RequiredByLaw,
                    record: RecordRule::None,
                    review: false,
                };
            }
            if f.provision_stopped {
                return deny(ProvisionStopped {
                    recipient: r.id.clone(),
                });
            }
            if f.recipient_consent.is_none() {
                return deny(NoConsent {
                    recipient: r.id.clone(),
                });
            }
            ProvisionDecision::Allow {
                basis: ProvisionBasis::Consent,
                record: RecordRule::Years(if r.record_by_contract { 1 } else { 3 }),
                review: false,
            }
        }
    }
}

/// The date a provision record may be purged: `years` after the provision (APPI 29(2), rule 21).
pub fn record_kept_until(provided_on: Date, rule: RecordRule) -> Option<Date> {
    match rule {
        RecordRule::None => None,
        RecordRule::Years(y) => provided_on.checked_add(jiff::Span::new().years(y)).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_policy::Policy;

    fn policy() -> Policy {
        Policy::parse(mamori_policy::preset("chiba-ia").unwrap(), "chiba-ia").unwrap()
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    struct F {
        p: Policy,
        purposes: Vec<String>,
        cats: Vec<String>,
    }

    fn fx() -> F {
        F {
            p: policy(),
            purposes: vec!["registration_contact".into(), "material_delivery".into()],
            cats: vec!["name".into(), "email".into()],
        }
    }

    fn facts<'a>(f: &'a F, recipient: &str, purpose: &'a str) -> ProvisionFacts<'a> {
        ProvisionFacts {
            role: f.p.role("clerk").unwrap(),
            recipient: f.p.recipient(recipient).unwrap(),
            purpose,
            categories: &f.cats,
            usable_purposes: &f.purposes,
            recipient_consent: None,
            announced: true,
            contract: None,
            measures_next_due: None,
            provision_stopped: false,
            suspended_for_purpose: false,
            exception: None,
            today: d("2026-11-22"),
        }
    }

    fn reason(x: ProvisionDecision) -> String {
        match x {
            ProvisionDecision::Deny { reason } => reason.to_string(),
            other => panic!("allowed: {other:?}"),
        }
    }

    #[test]
    fn a_third_party_with_consent_is_allowed_and_recorded_for_three_years() {
        let f = fx();
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.recipient_consent = Some(false);
        assert_eq!(
            decide(&x),
            ProvisionDecision::Allow {
                basis: ProvisionBasis::Consent,
                record: RecordRule::Years(3),
                review: false
            }
        );
        assert_eq!(
            record_kept_until(d("2026-11-22"), RecordRule::Years(3)),
            Some(d("2029-11-22"))
        );
    }

    #[test]
    fn a_third_party_without_consent_is_refused_citing_appi_27() {
        let f = fx();
        let r = reason(decide(&facts(&f, "selecttype", "registration_contact")));
        assert!(
            r.starts_with("no consent is on record for provision to selecttype (APPI 27(1)"),
            "{r}"
        );
    }

    #[test]
    fn a_category_outside_the_recipients_scope_is_refused() {
        let mut f = fx();
        f.cats = vec!["name".into(), "phone".into()];
        let mut x = facts(&f, "stripe", "registration_contact");
        x.recipient_consent = Some(false);
        assert_eq!(
            reason(decide(&x)),
            "recipient stripe may receive only payment_token, name, email; not phone (seed 000 Art. 7; APPI 27)"
        );
    }

    #[test]
    fn a_purpose_the_recipient_is_not_declared_for_is_refused() {
        let f = fx();
        let r = reason(decide(&facts(&f, "stripe", "material_delivery")));
        assert!(
            r.starts_with("recipient stripe does not receive data for purpose material_delivery"),
            "{r}"
        );
    }

    #[test]
    fn each_statutory_exception_with_a_reason_is_allowed_without_a_record_and_flagged() {
        let f = fx();
        for kind in ExceptionKind::ALL {
            let mut x = facts(&f, "selecttype", "registration_contact");
            x.exception = Some((kind, "written reason"));
            x.provision_stopped = true;
            assert_eq!(
                decide(&x),
                ProvisionDecision::Allow {
                    basis: ProvisionBasis::Exception(kind),
                    record: RecordRule::None,
                    review: true
                }
            );
            x.exception = Some((kind, ""));
            assert!(reason(decide(&x)).contains("needs a written reason"));
        }
    }

    #[test]
    fn entrustment_needs_the_six_clauses_and_a_current_review() {
        let mut f = fx();
        f.cats = vec!["name".into(), "address".into()];
        let mut x = facts(&f, "delivery_carrier", "material_delivery");
        assert!(reason(decide(&x)).contains("no entrustment contract on record"));
        let partial = ContractState {
            clauses: vec![
                ContractClause::Confidentiality,
                ContractClause::Subcontracting,
            ],
            next_review: Some(d("2027-04-01")),
        };
        x.contract = Some(&partial);
        let r = reason(decide(&x));
        assert!(
            r.contains(
                "lacks copy_restriction, incident_response, return_and_erasure, termination"
            ),
            "{r}"
        );
        let overdue = ContractState {
            clauses: ContractClause::ALL.to_vec(),
            next_review: Some(d("2026-04-01")),
        };
        x.contract = Some(&overdue);
        assert!(reason(decide(&x)).contains("was due for review on 2026-04-01"));
        let good = ContractState {
            clauses: ContractClause::ALL.to_vec(),
            next_review: Some(d("2027-04-01")),
        };
        x.contract = Some(&good);
        assert_eq!(
            decide(&x),
            ProvisionDecision::Allow {
                basis: ProvisionBasis::Entrustment,
                record: RecordRule::None,
                review: false
            }
        );
    }

    #[test]
    fn entrustment_is_only_within_the_purposes_the_principal_was_told() {
        let mut f = fx();
        f.cats = vec!["name".into()];
        f.purposes = vec!["registration_contact".into()];
        let good = ContractState {
            clauses: ContractClause::ALL.to_vec(),
            next_review: None,
        };
        let mut x = facts(&f, "delivery_carrier", "material_delivery");
        x.contract = Some(&good);
        assert!(reason(decide(&x)).starts_with("purpose material_delivery was not notified"));
    }

    #[test]
    fn a_provision_stop_blocks_third_parties_but_not_contractors() {
        let mut f = fx();
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.recipient_consent = Some(false);
        x.provision_stopped = true;
        assert!(reason(decide(&x)).contains("APPI 35(3)"));
        f.cats = vec!["name".into()];
        let good = ContractState {
            clauses: ContractClause::ALL.to_vec(),
            next_review: None,
        };
        let mut y = facts(&f, "delivery_carrier", "material_delivery");
        y.contract = Some(&good);
        y.provision_stopped = true;
        assert!(matches!(decide(&y), ProvisionDecision::Allow { .. }));
    }

    fn foreign(f: &mut F, basis: ForeignBasis) {
        let r =
            f.p.recipients
                .iter_mut()
                .find(|r| r.id == "selecttype")
                .unwrap();
        r.country = "US".into();
        r.foreign_basis = Some(basis);
    }

    #[test]
    fn abroad_an_equivalent_country_needs_only_the_ordinary_consent() {
        let mut f = fx();
        foreign(&mut f, ForeignBasis::EquivalentCountry);
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.recipient_consent = Some(false);
        assert!(matches!(
            decide(&x),
            ProvisionDecision::Allow {
                basis: ProvisionBasis::Consent,
                ..
            }
        ));
    }

    #[test]
    fn abroad_equivalent_measures_block_provision_once_the_check_is_overdue() {
        let mut f = fx();
        foreign(&mut f, ForeignBasis::EquivalentMeasures);
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.recipient_consent = Some(false);
        assert!(reason(decide(&x)).contains("never been checked"));
        x.measures_next_due = Some(d("2026-11-21"));
        let r = reason(decide(&x));
        assert!(
            r.contains("measures was due on 2026-11-21") && r.contains("APPI 28(3)"),
            "{r}"
        );
        x.measures_next_due = Some(d("2026-11-22"));
        assert!(matches!(decide(&x), ProvisionDecision::Allow { .. }));
    }

    #[test]
    fn abroad_on_consent_the_consent_must_be_informed() {
        let mut f = fx();
        foreign(&mut f, ForeignBasis::Consent);
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.recipient_consent = Some(false);
        assert!(reason(decide(&x)).contains("APPI 28(2)"));
        x.recipient_consent = Some(true);
        assert!(matches!(
            decide(&x),
            ProvisionDecision::Allow {
                basis: ProvisionBasis::Consent,
                ..
            }
        ));
    }

    #[test]
    fn a_provision_required_by_law_needs_no_consent_and_leaves_no_record() {
        let mut f = fx();
        f.p.recipients
            .iter_mut()
            .find(|r| r.id == "selecttype")
            .unwrap()
            .required_by_law = true;
        let x = facts(&f, "selecttype", "registration_contact");
        assert_eq!(
            decide(&x),
            ProvisionDecision::Allow {
                basis: ProvisionBasis::RequiredByLaw,
                record: RecordRule::None,
                review: false
            }
        );
    }

    #[test]
    fn a_contract_standing_in_for_the_record_keeps_it_one_year() {
        let mut f = fx();
        f.p.recipients
            .iter_mut()
            .find(|r| r.id == "selecttype")
            .unwrap()
            .record_by_contract = true;
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.recipient_consent = Some(false);
        assert!(matches!(
            decide(&x),
            ProvisionDecision::Allow {
                record: RecordRule::Years(1),
                ..
            }
        ));
    }

    #[test]
    fn joint_use_must_have_been_announced() {
        let mut f = fx();
        let r =
            f.p.recipients
                .iter_mut()
                .find(|r| r.id == "selecttype")
                .unwrap();
        r.kind = RecipientKind::JointUse;
        let mut x = facts(&f, "selecttype", "registration_contact");
        assert!(matches!(
            decide(&x),
            ProvisionDecision::Allow {
                basis: ProvisionBasis::JointUse,
                record: RecordRule::None,
                ..
            }
        ));
        x.announced = false;
        assert!(reason(decide(&x)).contains("was not announced"));
    }

    #[test]
    fn the_auditor_may_not_provide() {
        let f = fx();
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.role = f.p.role("auditor").unwrap();
        assert!(
            reason(decide(&x)).starts_with("role auditor may not provide personal data to others")
        );
    }

    #[test]
    fn a_suspension_for_the_purpose_blocks_provision() {
        let f = fx();
        let mut x = facts(&f, "selecttype", "registration_contact");
        x.recipient_consent = Some(false);
        x.suspended_for_purpose = true;
        assert!(reason(decide(&x)).contains("suspended for purpose registration_contact"));
    }
}
