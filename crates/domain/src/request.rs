//! Principals' requests: purpose notice, disclosure, correction, suspension, erasure, provision
//! stop (APPI 32-39 as amended in 2022; seed 000 Art. 9; seed 003 Arts. 5, 21).
//!
//! - Nothing is disclosed or changed before the principal's identity is verified (seed 000
//!   Art. 9 para. 2: 本人確認). A request whose identity cannot be verified ends refused on that
//!   ground.
//! - The answer is due `answer_within_days` calendar days after receipt (APPI 39's two weeks by
//!   default), counted as the Civil Code counts periods: the day of receipt is not counted (Art.
//!   140) and a period ending on a day the office is closed ends on the next day it is open (Art.
//!   142).
//! - Refused and fulfilled requests are never overdue.
//! - The identity check records its evidence (seed 000 Art. 9 para. 2; issue 20): which
//!   document was seen, with at most the last four digits of its number (never the whole
//!   number), or the code the principal entered for an e-mailed or mailed code. Nothing is
//!   fulfilled on a check without evidence; every fulfilled request goes to the manager's
//!   review with it (seed 003 Art. 9(3)), and nobody reviews a request they verified or
//!   fulfilled.
//! - Refusal needs a ground (APPI 33(2); seed 000 Art. 9 para. 4) and a written reason, which is
//!   notified to the principal (APPI 36).

use std::fmt;

use jiff::civil::Date;
use mamori_policy::RequestKind;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Verified,
    Fulfilled,
    Refused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Verified => "verified",
            Status::Fulfilled => "fulfilled",
            Status::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Open,
            Status::Verified,
            Status::Fulfilled,
            Status::Refused,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Status::Fulfilled | Status::Refused)
    }
}

/// The grounds on which a request may be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalGround {
    /// The principal's identity could not be verified (seed 000 Art. 9 paras. 2, 4).
    Unverifiable,
    /// The data was already destroyed or deleted (seed 000 Art. 9 para. 4).
    AlreadyErased,
    /// Answering would seriously hinder the proper conduct of the business (APPI 33(2)(ii);
    /// seed 000 Art. 9 para. 4).
    SeriousHindrance,
    /// Answering could harm the life, body, property or other rights of the principal or a third
    /// party (APPI 33(2)(i)).
    Harm,
    /// Answering would violate another law (APPI 33(2)(iii)).
    OtherLaw,
}

impl RefusalGround {
    pub const ALL: [RefusalGround; 5] = [
        RefusalGround::Unverifiable,
        RefusalGround::AlreadyErased,
        RefusalGround::SeriousHindrance,
        RefusalGround::Harm,
        RefusalGround::OtherLaw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalGround::Unverifiable => "unverifiable",
            RefusalGround::AlreadyErased => "already-erased",
            RefusalGround::SeriousHindrance => "serious-hindrance",
            RefusalGround::Harm => "harm",
            RefusalGround::OtherLaw => "other-law",
        }
    }

    pub fn citation(self) -> &'static str {
        match self {
            RefusalGround::Unverifiable => "seed 000 Art. 9 paras. 2, 4",
            RefusalGround::AlreadyErased => "seed 000 Art. 9 para. 4",
            RefusalGround::SeriousHindrance => "APPI 33(2)(ii); seed 000 Art. 9 para. 4",
            RefusalGround::Harm => "APPI 33(2)(i)",
            RefusalGround::OtherLaw => "APPI 33(2)(iii)",
        }
    }

    /// The ground in the principal's language, for the refusal notice.
    pub fn text(self, ja: bool) -> &'static str {
        match (self, ja) {
            (RefusalGround::Unverifiable, true) => "ご本人であることの確認ができなかったため",
            (RefusalGround::Unverifiable, false) => {
                "We could not confirm that the request came from you"
            }
            (RefusalGround::AlreadyErased, true) => {
                "ご請求の個人情報はすでに廃棄・削除されているため"
            }
            (RefusalGround::AlreadyErased, false) => {
                "The personal information requested has already been destroyed or deleted"
            }
            (RefusalGround::SeriousHindrance, true) => {
                "業務の適正な実施に著しい支障を及ぼすおそれがあるため"
            }
            (RefusalGround::SeriousHindrance, false) => {
                "Answering would seriously hinder the proper conduct of our work"
            }
            (RefusalGround::Harm, true) => {
                "ご本人又は第三者の生命、身体、財産その他の権利利益を害するおそれがあるため"
            }
            (RefusalGround::Harm, false) => {
                "Answering could harm the life, body, property or other rights of you or another person"
            }
            (RefusalGround::OtherLaw, true) => "他の法令に違反することとなるため",
            (RefusalGround::OtherLaw, false) => "Answering would violate another law",
        }
    }
}

impl std::str::FromStr for RefusalGround {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RefusalGround::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a refusal ground: use {}",
                    RefusalGround::ALL.map(|g| g.as_str()).join(", ")
                )
            })
    }
}

pub fn parse_kind(s: &str) -> Result<RequestKind, String> {
    RequestKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| {
            format!(
                "{s:?} is not a request kind: use {}",
                RequestKind::ALL.map(|k| k.as_str()).join(", ")
            )
        })
}

/// What a request is about, in the notices and the audit log.
pub fn kind_text(kind: RequestKind, ja: bool) -> &'static str {
    match (kind, ja) {
        (RequestKind::PurposeNotice, true) => "利用目的の通知",
        (RequestKind::PurposeNotice, false) => "notification of the purposes of use",
        (RequestKind::Disclosure, true) => "保有個人データの開示",
        (RequestKind::Disclosure, false) => "disclosure of your retained personal data",
        (RequestKind::Correction, true) => "内容の訂正・追加・削除",
        (RequestKind::Correction, false) => "correction, addition or deletion",
        (RequestKind::Suspension, true) => "利用の停止",
        (RequestKind::Suspension, false) => "suspension of use",
        (RequestKind::Erasure, true) => "消去",
        (RequestKind::Erasure, false) => "erasure",
        (RequestKind::ProvisionStop, true) => "第三者への提供の停止",
        (RequestKind::ProvisionStop, false) => "stopping provision to third parties",
    }
}

/// The APPI article a request kind rests on.
pub fn kind_article(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::PurposeNotice => "APPI 32(2)",
        RequestKind::Disclosure => "APPI 33",
        RequestKind::Correction => "APPI 34",
        RequestKind::Suspension => "APPI 35(1), 35(5)",
        RequestKind::Erasure => "APPI 35(1), 35(5)",
        RequestKind::ProvisionStop => "APPI 35(3), 35(5)",
    }
}

/// The answer-by date: `days` calendar days after receipt, the day of receipt not counted (Civil
/// Code Art. 140); a last day on which the office is closed moves to its next open day (Art. 142).
pub fn answer_by(received_on: Date, days: u32, is_open_day: impl Fn(Date) -> bool) -> Date {
    let mut d = received_on
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .unwrap_or(received_on);
    // A year holds at most a few closed days in a row (the year-end closure plus a weekend);
    // the bound only guards against a window that never opens.
    for _ in 0..60 {
        if is_open_day(d) {
            return d;
        }
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => return d,
        }
    }
    d
}

/// Overdue: not answered and the answer-by date has passed. Fulfilled and refused requests are
/// never overdue.
pub fn is_overdue(status: Status, answer_by: Date, today: Date) -> bool {
    !status.is_final() && answer_by < today
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepDenied {
    Final {
        status: Status,
    },
    NotVerified,
    AlreadyVerified,
    NoPrincipal,
    /// Verified before evidence was recorded (a request from before issue 20).
    NoEvidence,
}

impl fmt::Display for StepDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepDenied::Final { status } => write!(
                f,
                "the request is {} already: nothing more can be done with it",
                status.as_str()
            ),
            StepDenied::NotVerified => write!(
                f,
                "the principal's identity is not verified: verify it first (request verify --method …); nothing is disclosed or changed before (seed 000 Art. 9 para. 2)"
            ),
            StepDenied::AlreadyVerified => {
                write!(f, "the principal's identity is verified already")
            }
            StepDenied::NoPrincipal => write!(
                f,
                "the request is not linked to a principal yet: link it after checking who they are (request link ID --principal P)"
            ),
            StepDenied::NoEvidence => write!(
                f,
                "the identity check recorded no evidence: verify it again with --method and --evidence (seed 000 Art. 9 para. 2)"
            ),
        }
    }
}

/// May the identity be verified now? Once, or again when the first check recorded no
/// evidence.
pub fn may_verify(status: Status, linked: bool, has_evidence: bool) -> Result<(), StepDenied> {
    match status {
        s if s.is_final() => Err(StepDenied::Final { status: s }),
        Status::Verified if has_evidence => Err(StepDenied::AlreadyVerified),
        _ if !linked => Err(StepDenied::NoPrincipal),
        _ => Ok(()),
    }
}

/// May the request be fulfilled now? Only once the identity is verified, on recorded evidence.
pub fn may_fulfil(status: Status, linked: bool, has_evidence: bool) -> Result<(), StepDenied> {
    match status {
        s if s.is_final() => Err(StepDenied::Final { status: s }),
        _ if !linked => Err(StepDenied::NoPrincipal),
        Status::Verified if has_evidence => Ok(()),
        Status::Verified => Err(StepDenied::NoEvidence),
        _ => Err(StepDenied::NotVerified),
    }
}

/// Whether an identity check's evidence is what it must be (seed 000 Art. 9 para. 2; issue 20).
/// In person (`in_person_*`): names the document seen and at most the last four digits of its
/// number — a run of five or more digits (spaces and hyphens between them ignored) is a whole
/// number and is refused, since the number itself is personal data the office need not keep.
/// By code (`email_code`, `mailed_code`): the code the principal entered, 4 to 16 letters or
/// digits. The message never repeats the evidence.
pub fn check_identity_evidence(method: &str, evidence: &str) -> Result<(), String> {
    let e = evidence.trim();
    if e.is_empty() {
        return Err(if method.ends_with("_code") {
            "is empty: give the code the principal entered".into()
        } else {
            "is empty: name the document you saw and the last digits of its number (e.g. \"residence card, ends 1234\")".into()
        });
    }
    if e.chars().any(char::is_control) {
        return Err("holds control characters: write it on one line".into());
    }
    if method.ends_with("_code") {
        let n = e.chars().count();
        if !(4..=16).contains(&n) || !e.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("give the code the principal entered: 4 to 16 letters or digits".into());
        }
        return Ok(());
    }
    if e.chars().count() > 200 {
        return Err("use up to 200 characters: the document's name and its last digits".into());
    }
    if !e.chars().any(char::is_alphabetic) {
        return Err(
            "name the document you saw (e.g. \"residence card, ends 1234\"), not only digits"
                .into(),
        );
    }
    let mut run = 0;
    for c in e.chars() {
        if c.is_numeric() {
            run += 1;
            if run >= 5 {
                return Err("holds a whole document number: keep at most its last four digits (e.g. \"residence card, ends 1234\")".into());
            }
        } else if c != ' ' && c != '-' && c != '\u{2010}' && c != '\u{2212}' && c != '\u{30FC}' {
            run = 0;
        }
    }
    Ok(())
}

/// May it be refused now? Any time before it is answered.
pub fn may_refuse(status: Status) -> Result<(), StepDenied> {
    if status.is_final() {
        Err(StepDenied::Final { status })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn office(date: Date) -> bool {
        mamori_calendar::OfficeWindow::tokyo_one().is_business_day(date)
    }

    #[test]
    fn an_identity_check_keeps_the_document_and_its_last_digits_never_the_whole_number() {
        let ok = |m: &str, e: &str| check_identity_evidence(m, e);
        assert_eq!(
            ok("in_person_residence_card", "在留カード 末尾1234"),
            Ok(())
        );
        assert_eq!(
            ok("in_person_id_document", "driving licence, ends 5678"),
            Ok(())
        );
        for whole in [
            "residence card AB12345678CD",
            "passport TK1234567",
            "licence 1234 5678 9012",
            "licence 12-345",
        ] {
            let m = ok("in_person_id_document", whole).unwrap_err();
            assert!(
                m.starts_with("holds a whole document number"),
                "{whole}: {m}"
            );
            assert!(!m.contains("345"), "the message repeats no digits: {m}");
        }
        assert!(
            ok("in_person_id_document", "1234")
                .unwrap_err()
                .starts_with("name the document")
        );
        assert!(
            ok("in_person_id_document", "  ")
                .unwrap_err()
                .starts_with("is empty: name the document")
        );
        assert_eq!(ok("email_code", "K7Q2X9"), Ok(()));
        assert!(
            ok("mailed_code", "")
                .unwrap_err()
                .starts_with("is empty: give the code")
        );
        assert!(
            ok("email_code", "no such code!")
                .unwrap_err()
                .starts_with("give the code")
        );
    }

    #[test]
    fn nothing_is_fulfilled_on_a_check_without_evidence() {
        assert_eq!(may_fulfil(Status::Verified, true, true), Ok(()));
        assert_eq!(
            may_fulfil(Status::Verified, true, false),
            Err(StepDenied::NoEvidence)
        );
        assert_eq!(
            may_fulfil(Status::Open, true, true),
            Err(StepDenied::NotVerified)
        );
        assert!(
            StepDenied::NoEvidence
                .to_string()
                .contains("verify it again with --method and --evidence")
        );
        // A check that recorded no evidence may be done again; one that did may not.
        assert_eq!(may_verify(Status::Verified, true, false), Ok(()));
        assert_eq!(
            may_verify(Status::Verified, true, true),
            Err(StepDenied::AlreadyVerified)
        );
    }

    #[test]
    fn two_weeks_are_counted_from_the_day_after_receipt() {
        // Received Monday 2026-11-02: day 1 is Nov 3 (a holiday, still counted); 14 days → Nov 16 (Mon).
        assert_eq!(answer_by(d("2026-11-02"), 14, office), d("2026-11-16"));
    }

    #[test]
    fn a_period_ending_on_a_weekend_ends_on_the_next_open_day() {
        // Received Friday 2026-11-06 + 14 = Friday Nov 20; + 15 = Saturday → Monday Nov 23 is
        // 勤労感謝の日 → Tuesday Nov 24.
        assert_eq!(answer_by(d("2026-11-06"), 14, office), d("2026-11-20"));
        assert_eq!(answer_by(d("2026-11-06"), 15, office), d("2026-11-24"));
    }

    #[test]
    fn a_period_ending_in_the_year_end_closure_ends_after_it() {
        // Received 2026-12-16 + 14 = Dec 30 (closed) → Jan 4 2027 (Monday, open).
        assert_eq!(answer_by(d("2026-12-16"), 14, office), d("2027-01-04"));
    }

    #[test]
    fn a_period_ending_in_golden_week_ends_after_it() {
        // Received 2026-04-20 + 14 = May 4 (みどりの日) → May 5, 6 holidays → May 7.
        assert_eq!(answer_by(d("2026-04-20"), 14, office), d("2026-05-07"));
    }

    #[test]
    fn answered_requests_are_never_overdue() {
        let due = d("2026-11-16");
        assert!(is_overdue(Status::Open, due, d("2026-11-17")));
        assert!(is_overdue(Status::Verified, due, d("2026-11-17")));
        assert!(
            !is_overdue(Status::Open, due, d("2026-11-16")),
            "due today is not overdue yet"
        );
        assert!(!is_overdue(Status::Fulfilled, due, d("2027-01-01")));
        assert!(!is_overdue(Status::Refused, due, d("2027-01-01")));
    }

    #[test]
    fn nothing_is_fulfilled_before_the_identity_is_verified() {
        assert_eq!(
            may_fulfil(Status::Open, true, true),
            Err(StepDenied::NotVerified)
        );
        assert!(
            may_fulfil(Status::Open, true, true)
                .unwrap_err()
                .to_string()
                .contains("seed 000 Art. 9 para. 2")
        );
        assert_eq!(may_fulfil(Status::Verified, true, true), Ok(()));
        assert_eq!(
            may_fulfil(Status::Verified, false, true),
            Err(StepDenied::NoPrincipal)
        );
        assert_eq!(
            may_fulfil(Status::Fulfilled, true, true),
            Err(StepDenied::Final {
                status: Status::Fulfilled
            })
        );
    }

    #[test]
    fn verification_needs_a_linked_principal_and_happens_once() {
        assert_eq!(
            may_verify(Status::Open, false, true),
            Err(StepDenied::NoPrincipal)
        );
        assert_eq!(may_verify(Status::Open, true, true), Ok(()));
        assert_eq!(
            may_verify(Status::Verified, true, true),
            Err(StepDenied::AlreadyVerified)
        );
        assert_eq!(
            may_verify(Status::Refused, true, true),
            Err(StepDenied::Final {
                status: Status::Refused
            })
        );
    }

    #[test]
    fn a_request_can_be_refused_until_it_is_answered() {
        assert!(may_refuse(Status::Open).is_ok());
        assert!(may_refuse(Status::Verified).is_ok());
        assert!(may_refuse(Status::Fulfilled).is_err());
    }

    #[test]
    fn grounds_and_kinds_parse_from_their_fixed_names() {
        for g in RefusalGround::ALL {
            assert_eq!(g.as_str().parse::<RefusalGround>().unwrap(), g);
        }
        assert!(
            "maybe"
                .parse::<RefusalGround>()
                .unwrap_err()
                .contains("unverifiable, already-erased")
        );
        for k in RequestKind::ALL {
            assert_eq!(parse_kind(k.as_str()).unwrap(), k);
        }
        assert!(
            parse_kind("deletion")
                .unwrap_err()
                .contains("purpose-notice, disclosure")
        );
    }
}
