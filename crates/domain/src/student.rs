//! The student life cycle the school's 学費返還規定 presumes (seed 003, the end), as pure rules:
//! which event may follow which, the term a withdrawal notice falls in, which refund event a
//! stage leads to, and whether moving a graduate to another channel needs consent.
//!
//! The stages, each an event appended with its date (dates never go backwards):
//! `applied` (application, screening fee) → `coe_applied` → `coe_issued` | `coe_not_issued`
//! (clause 1) → `visa_applied` | `visa_not_applied` (clause 2) → `visa_issued` | `visa_refused`
//! (clause 2) → `arrived` | `declined` (入学を辞退, before coming to Japan: clause 3) →
//! `enrolled` → `withdrawal_notice` (退学届: clause 4) | `graduated`.
//! `coe_not_issued`, `visa_not_applied`, `visa_refused`, `declined`, `withdrawal_notice` and
//! `graduated` end the life cycle.
//!
//! Moving a principal to another channel (a graduate to `alumni`) is a change of purpose: the
//! target channel's purposes that are neither among the purposes the principal was notified of
//! nor reasonably related to one of them (`related_to`, APPI 17(2)) need the principal's consent
//! (APPI 18(1); seed 003 Art. 8(2), 9(1)).

use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;
use mamori_policy::{Channel, Policy};

/// A life-cycle stage: the kind of the latest event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Applied,
    CoeApplied,
    CoeIssued,
    CoeNotIssued,
    VisaApplied,
    VisaIssued,
    VisaRefused,
    VisaNotApplied,
    Arrived,
    Declined,
    Enrolled,
    WithdrawalNotice,
    Graduated,
}

impl Stage {
    pub const ALL: [Stage; 13] = [
        Stage::Applied,
        Stage::CoeApplied,
        Stage::CoeIssued,
        Stage::CoeNotIssued,
        Stage::VisaApplied,
        Stage::VisaIssued,
        Stage::VisaRefused,
        Stage::VisaNotApplied,
        Stage::Arrived,
        Stage::Declined,
        Stage::Enrolled,
        Stage::WithdrawalNotice,
        Stage::Graduated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Applied => "applied",
            Stage::CoeApplied => "coe_applied",
            Stage::CoeIssued => "coe_issued",
            Stage::CoeNotIssued => "coe_not_issued",
            Stage::VisaApplied => "visa_applied",
            Stage::VisaIssued => "visa_issued",
            Stage::VisaRefused => "visa_refused",
            Stage::VisaNotApplied => "visa_not_applied",
            Stage::Arrived => "arrived",
            Stage::Declined => "declined",
            Stage::Enrolled => "enrolled",
            Stage::WithdrawalNotice => "withdrawal_notice",
            Stage::Graduated => "graduated",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The events staff record with `student event --kind` (every stage but the application,
    /// which is the record's opening).
    pub fn event_kinds() -> String {
        Stage::ALL
            .into_iter()
            .filter(|s| *s != Stage::Applied)
            .map(Stage::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What may follow this stage.
    pub fn next(self) -> &'static [Stage] {
        match self {
            Stage::Applied => &[Stage::CoeApplied],
            Stage::CoeApplied => &[Stage::CoeIssued, Stage::CoeNotIssued],
            Stage::CoeIssued => &[Stage::VisaApplied, Stage::VisaNotApplied],
            Stage::VisaApplied => &[Stage::VisaIssued, Stage::VisaRefused],
            Stage::VisaIssued => &[Stage::Arrived, Stage::Declined],
            Stage::Arrived => &[Stage::Enrolled],
            Stage::Enrolled => &[Stage::WithdrawalNotice, Stage::Graduated],
            Stage::CoeNotIssued
            | Stage::VisaRefused
            | Stage::VisaNotApplied
            | Stage::Declined
            | Stage::WithdrawalNotice
            | Stage::Graduated => &[],
        }
    }

    /// The refund event (学費返還規定 clause) this stage leads to, if any.
    pub fn refund_event(self) -> Option<&'static str> {
        match self {
            Stage::CoeNotIssued => Some("coe_not_issued"),
            Stage::VisaNotApplied => Some("visa_not_applied"),
            Stage::VisaRefused => Some("visa_refused"),
            Stage::Declined => Some("withdrew_before_arrival"),
            Stage::WithdrawalNotice => Some("withdrew_after_enrollment"),
            _ => None,
        }
    }

    /// Whether the student has enrolled (the course has started) at this stage.
    pub fn enrolled(self) -> bool {
        matches!(
            self,
            Stage::Enrolled | Stage::WithdrawalNotice | Stage::Graduated
        )
    }
}

/// Why an event may not be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// The stage does not lead to this event.
    NotAfter { stage: Stage, kind: Stage },
    /// The event is dated before the latest one.
    BeforeLatest { on: Date, latest: Date },
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionError::NotAfter { stage, kind } => {
                let next = stage.next();
                if next.is_empty() {
                    write!(
                        f,
                        "--kind: {} cannot follow {}: the life cycle ended at {} (学費返還規定: {})",
                        kind.as_str(),
                        stage.as_str(),
                        stage.as_str(),
                        situation(*stage)
                    )
                } else {
                    write!(
                        f,
                        "--kind: {} cannot follow {}: next comes {} (学費返還規定: {})",
                        kind.as_str(),
                        stage.as_str(),
                        next.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" or "),
                        situation(*kind)
                    )
                }
            }
            TransitionError::BeforeLatest { on, latest } => write!(
                f,
                "--on: {on} is before the latest event ({latest}): events are recorded in the order they happened"
            ),
        }
    }
}

/// The situation of the refund rules a stage belongs to (for reasons).
pub fn situation(stage: Stage) -> &'static str {
    match stage {
        Stage::Applied => "the application, with the screening fee (選考料)",
        Stage::CoeApplied => "the certificate of eligibility is applied for",
        Stage::CoeIssued => {
            "the certificate of eligibility (在留資格認定証明書) is issued after it is applied for"
        }
        Stage::CoeNotIssued => {
            "clause 1, 在留資格認定証明書が不交付: decided only after a certificate of eligibility was applied for"
        }
        Stage::VisaApplied => {
            "a student visa is applied for at the embassy once the certificate of eligibility is issued"
        }
        Stage::VisaNotApplied => {
            "clause 2, 在留資格認定証明書が交付され、ビザの手続きをしていない: only after the certificate of eligibility was issued"
        }
        Stage::VisaIssued => "the visa is issued after it is applied for",
        Stage::VisaRefused => {
            "clause 2, 本国の大使館でビザが不交付: only after the visa was applied for"
        }
        Stage::Declined => {
            "clause 3, 留学ビザを取得し、来日前に入学を辞退: only after the visa was obtained and before arrival"
        }
        Stage::Arrived => "arrival in Japan, after the visa was obtained",
        Stage::Enrolled => "enrollment, after arrival in Japan",
        Stage::WithdrawalNotice => "clause 4, 中途退学 (退学届): only after enrollment",
        Stage::Graduated => "graduation, after enrollment",
    }
}

/// May `kind` be recorded on `on` after the latest event (`stage`, dated `latest`)?
pub fn may_follow(
    stage: Stage,
    latest: Date,
    kind: Stage,
    on: Date,
) -> Result<(), TransitionError> {
    if !stage.next().contains(&kind) {
        return Err(TransitionError::NotAfter { stage, kind });
    }
    if on < latest {
        return Err(TransitionError::BeforeLatest { on, latest });
    }
    Ok(())
}

/// The term (1-based) a date falls in, for a course starting on `start` with terms of
/// `term_months` months: term `t` runs from `start + (t-1)·term_months` months up to the day
/// before the next term starts. `None` before the start or after the course's last term.
pub fn term_of(start: Date, term_months: u32, terms: u32, on: Date) -> Option<u32> {
    if on < start || term_months == 0 {
        return None;
    }
    // Term t+1 starts t·term_months months after the start (a day past the month's end is
    // the month's last day, as jiff adds months), so count from the start each time.
    (1..=terms).find(|t| {
        let months = i64::from(*t) * i64::from(term_months);
        start
            .checked_add(months.months())
            .is_ok_and(|next_start| on < next_start)
    })
}

/// The last day of the course (the day before the term after the last would start).
pub fn course_end(start: Date, term_months: u32, terms: u32) -> Option<Date> {
    let months = i64::from(term_months) * i64::from(terms);
    start
        .checked_add(months.months())
        .ok()?
        .checked_sub(1.day())
        .ok()
}

/// Why moving a principal to a channel needs consent first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentNeeded {
    pub to: String,
    pub from: String,
    /// The target channel's purposes that need consent, in the policy's order.
    pub purposes: Vec<String>,
}

impl fmt::Display for ConsentNeeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "moving the principal to channel {} uses their data for {} which is not related to the purposes of channel {} they were told, and no consent is on record (APPI 17(2), 18(1); seed 003 Arts. 8(2), 9(1)): record it with `mamori consent give ID --purpose {}` first",
            self.to,
            self.purposes.join(", "),
            self.from,
            self.purposes.join(" / ")
        )
    }
}

/// May the principal, notified of `notified` purposes through channel `from`, be moved to
/// channel `to`? Every purpose of `to` must be notified already, reasonably related to a notified
/// one (`related_to`), or consented to.
pub fn channel_move(
    policy: &Policy,
    from: &str,
    notified: &[String],
    to: &Channel,
    consented: &[String],
) -> Result<(), ConsentNeeded> {
    let purposes: Vec<String> = to
        .purposes
        .iter()
        .filter(|p| !notified.contains(p))
        .filter(|p| {
            !policy
                .purpose(p)
                .is_some_and(|x| x.related_to.iter().any(|r| notified.contains(r)))
        })
        .filter(|p| !consented.contains(p))
        .cloned()
        .collect();
    if purposes.is_empty() {
        Ok(())
    } else {
        Err(ConsentNeeded {
            to: to.id.clone(),
            from: from.to_string(),
            purposes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_life_cycle_follows_the_refund_rules_situations() {
        let d = date(2026, 1, 10);
        let path = [
            Stage::Applied,
            Stage::CoeApplied,
            Stage::CoeIssued,
            Stage::VisaApplied,
            Stage::VisaIssued,
            Stage::Arrived,
            Stage::Enrolled,
            Stage::Graduated,
        ];
        for w in path.windows(2) {
            assert_eq!(may_follow(w[0], d, w[1], d), Ok(()));
        }
        assert_eq!(
            may_follow(Stage::CoeApplied, d, Stage::CoeNotIssued, d),
            Ok(())
        );
        assert_eq!(
            may_follow(Stage::CoeIssued, d, Stage::VisaNotApplied, d),
            Ok(())
        );
        assert_eq!(
            may_follow(Stage::VisaApplied, d, Stage::VisaRefused, d),
            Ok(())
        );
        assert_eq!(may_follow(Stage::VisaIssued, d, Stage::Declined, d), Ok(()));
        assert_eq!(
            may_follow(Stage::Enrolled, d, Stage::WithdrawalNotice, d),
            Ok(())
        );
    }

    #[test]
    fn coe_not_issued_cannot_be_recorded_before_a_coe_was_applied_for() {
        let d = date(2026, 1, 10);
        let e = may_follow(Stage::Applied, d, Stage::CoeNotIssued, d).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("coe_not_issued cannot follow applied"), "{m}");
        assert!(m.contains("next comes coe_applied"), "{m}");
        assert!(m.contains("clause 1"), "{m}");
    }

    #[test]
    fn withdrawal_before_arrival_needs_the_visa_and_no_arrival() {
        let d = date(2026, 1, 10);
        assert!(may_follow(Stage::Arrived, d, Stage::Declined, d).is_err());
        let m = may_follow(Stage::VisaApplied, d, Stage::Declined, d)
            .unwrap_err()
            .to_string();
        assert!(m.contains("clause 3"), "{m}");
    }

    #[test]
    fn withdrawal_notice_only_after_enrollment() {
        let d = date(2026, 1, 10);
        for s in Stage::ALL {
            let ok = may_follow(s, d, Stage::WithdrawalNotice, d).is_ok();
            assert_eq!(ok, s == Stage::Enrolled, "{s:?}");
        }
    }

    #[test]
    fn ended_life_cycles_take_no_more_events() {
        let d = date(2026, 1, 10);
        for s in Stage::ALL.into_iter().filter(|s| s.next().is_empty()) {
            for k in Stage::ALL {
                let e = may_follow(s, d, k, d).unwrap_err();
                assert!(e.to_string().contains("the life cycle ended"), "{e}");
            }
        }
    }

    #[test]
    fn events_are_dated_in_order() {
        let e = may_follow(
            Stage::Applied,
            date(2026, 2, 1),
            Stage::CoeApplied,
            date(2026, 1, 31),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("--on: 2026-01-31 is before"));
    }

    #[test]
    fn each_ending_stage_leads_to_its_refund_event() {
        let ends: Vec<_> = Stage::ALL
            .into_iter()
            .filter_map(|s| s.refund_event().map(|e| (s, e)))
            .collect();
        assert_eq!(ends.len(), 5);
        for (_, e) in &ends {
            assert!(crate::refund::EVENTS.contains(e));
        }
        assert_eq!(Stage::Graduated.refund_event(), None);
    }

    #[test]
    fn the_withdrawal_notice_date_gives_its_term() {
        let start = date(2026, 4, 1);
        assert_eq!(term_of(start, 3, 4, date(2026, 4, 1)), Some(1));
        assert_eq!(term_of(start, 3, 4, date(2026, 6, 30)), Some(1));
        assert_eq!(term_of(start, 3, 4, date(2026, 7, 1)), Some(2));
        assert_eq!(term_of(start, 3, 4, date(2027, 3, 31)), Some(4));
        assert_eq!(term_of(start, 3, 4, date(2027, 4, 1)), None);
        assert_eq!(term_of(start, 3, 4, date(2026, 3, 31)), None);
        assert_eq!(term_of(start, 6, 4, date(2027, 10, 15)), Some(4));
        // A course starting on the 31st: a month later is the last day of the shorter month.
        let start = date(2026, 10, 31);
        assert_eq!(term_of(start, 1, 12, date(2026, 11, 30)), Some(2));
        assert_eq!(course_end(date(2026, 4, 1), 3, 4), Some(date(2027, 3, 31)));
    }

    fn tokyo_one() -> Policy {
        Policy::parse(mamori_policy::preset("tokyo-one").unwrap(), "tokyo-one").unwrap()
    }

    #[test]
    fn moving_a_graduate_to_alumni_needs_consent_for_alumni_contact() {
        let p = tokyo_one();
        let enrollment = p.channel("enrollment").unwrap().purposes.clone();
        let alumni = p.channel("alumni").unwrap();
        let e = channel_move(&p, "enrollment", &enrollment, alumni, &[]).unwrap_err();
        assert_eq!(e.purposes, vec!["alumni_contact".to_string()]);
        let m = e.to_string();
        assert!(m.contains("APPI 17(2), 18(1)"), "{m}");
        assert!(
            m.contains("consent give ID --purpose alumni_contact"),
            "{m}"
        );
        assert_eq!(
            channel_move(
                &p,
                "enrollment",
                &enrollment,
                alumni,
                &["alumni_contact".into()]
            ),
            Ok(())
        );
    }

    #[test]
    fn a_related_purpose_needs_no_consent() {
        let mut p = tokyo_one();
        for x in &mut p.purposes {
            if x.id == "alumni_contact" {
                x.related_to = vec!["education".into()];
            }
        }
        let enrollment = p.channel("enrollment").unwrap().purposes.clone();
        let alumni = p.channel("alumni").unwrap().clone();
        assert_eq!(
            channel_move(&p, "enrollment", &enrollment, &alumni, &[]),
            Ok(())
        );
    }
}
