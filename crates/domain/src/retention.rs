//! Retention: when data held about a principal must go (seed 000 Art. 8-4: a retention period
//! is set and data is destroyed promptly once it has passed; seed 003 Arts. 12(2)(4), 16).
//!
//! - A channel's period runs from the principal's last activity (a correction, a renewal, a
//!   request) or from collection, as the policy says (`retention_from`). When it has passed, the
//!   principal is erased (crypto-shredding) and a disposal record kept.
//! - A category may have a shorter period of its own: that field alone goes when it passes.
//! - A principal with a request still being answered is held back (destroying the data would
//!   defeat the request, APPI 33-35), and said so.
//! - Provision records are kept until their own date (APPI 29(2), rule 21), then purged.
//! - Destruction cannot be undone (seed 000 Art. 8-4: 復元が不可能な方法), so a sweep that
//!   destroys is guarded (issue 20): it runs as of the clock, never a later time (only a dry run
//!   looks ahead), and one that would destroy more than a tenth of all principals needs an
//!   explicit confirmation.

use jiff::civil::Date;
use jiff::{Span, Timestamp, tz::TimeZone};
use mamori_policy::RetentionFrom;

/// When data counted from `from` with `period` expires: the first moment after the period.
pub fn expires_at(from: Timestamp, period: Span, tz: &TimeZone) -> Option<Timestamp> {
    from.to_zoned(tz.clone())
        .checked_add(period)
        .ok()
        .map(|z| z.timestamp())
}

/// The moment a principal's data expires under their channel's rule.
pub fn principal_expires_at(
    created_at: Timestamp,
    last_activity_at: Timestamp,
    from: RetentionFrom,
    period: Span,
    tz: &TimeZone,
) -> Option<Timestamp> {
    let start = match from {
        RetentionFrom::LastActivity => last_activity_at.max(created_at),
        RetentionFrom::Collection => created_at,
    };
    expires_at(start, period, tz)
}

/// Has it expired at `now`? (Expiry is the moment itself: data is kept through the period.)
pub fn is_expired(expires: Timestamp, now: Timestamp) -> bool {
    now >= expires
}

/// What the sweep does with one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Everything has expired: erase the principal.
    Erase,
    /// Only these categories have expired (their own shorter periods).
    RemoveFields(Vec<String>),
    /// Expired, but a request is being answered: held back until it is.
    Held {
        reason: String,
    },
}

/// The sweep's decision for one principal.
pub fn verdict(
    principal_expired: bool,
    expired_fields: Vec<String>,
    open_request: Option<&str>,
) -> Verdict {
    match (principal_expired, expired_fields.is_empty(), open_request) {
        (true, _, Some(r)) | (false, false, Some(r)) => Verdict::Held {
            reason: format!(
                "request {r} is being answered (APPI 33-35): disposed of once it is closed"
            ),
        },
        (true, _, None) => Verdict::Erase,
        (false, false, None) => Verdict::RemoveFields(expired_fields),
        (false, true, _) => Verdict::Keep,
    }
}

/// Why a sweep that destroys may not run as asked (seed 000 Art. 8-4: destruction is final).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepRefusal {
    /// A real sweep asked to run as of a time after the clock.
    InTheFuture,
    /// More than a tenth of all principals would be destroyed without confirmation.
    Large { destroy: u64, of: u64 },
}

/// A real sweep may run as of `asked` only when that is not after `clock` (a dry run may look
/// ahead). One minute of slack absorbs clocks a little apart (the caller's and the server's).
pub fn may_sweep_at(asked: Timestamp, clock: Timestamp, dry_run: bool) -> Result<(), SweepRefusal> {
    if !dry_run && asked > clock + jiff::SignedDuration::from_mins(1) {
        return Err(SweepRefusal::InTheFuture);
    }
    Ok(())
}

/// A real sweep that would destroy more than a tenth of the `total` principals needs
/// `confirmed`; fewer than ten principals in all never count as large on their own, but
/// destroying all of several does (3 of 3).
pub fn may_destroy(destroy: u64, total: u64, confirmed: bool) -> Result<(), SweepRefusal> {
    let large = destroy > 0 && destroy.saturating_mul(10) > total;
    if large && !confirmed {
        return Err(SweepRefusal::Large { destroy, of: total });
    }
    Ok(())
}

/// Whether a provision record is past its keeping period on `today` (APPI 29(2), rule 21).
pub fn provision_record_expired(kept_until: Date, today: Date) -> bool {
    today > kept_until
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        mamori_calendar::parse_time(s).unwrap()
    }

    fn jst() -> TimeZone {
        mamori_calendar::japan_tz()
    }

    #[test]
    fn a_three_year_period_from_the_last_activity_ends_three_years_later_to_the_moment() {
        let created = ts("2020-01-10T09:00");
        let last = ts("2023-05-01T12:00");
        let p: Span = "P3Y".parse().unwrap();
        let exp =
            principal_expires_at(created, last, RetentionFrom::LastActivity, p, &jst()).unwrap();
        assert_eq!(exp, ts("2026-05-01T12:00"));
        assert!(!is_expired(exp, ts("2026-05-01T11:59:59")));
        assert!(is_expired(exp, ts("2026-05-01T12:00")));
    }

    #[test]
    fn a_period_from_collection_ignores_later_activity() {
        let p: Span = "P6M".parse().unwrap();
        let exp = principal_expires_at(
            ts("2026-01-31T10:00"),
            ts("2026-06-01T10:00"),
            RetentionFrom::Collection,
            p,
            &jst(),
        )
        .unwrap();
        // Month arithmetic in Japan time: Jan 31 + 6 months → Jul 31.
        assert_eq!(exp, ts("2026-07-31T10:00"));
    }

    #[test]
    fn a_leap_day_plus_a_year_lands_on_the_last_day_of_february() {
        let p: Span = "P1Y".parse().unwrap();
        assert_eq!(
            expires_at(ts("2024-02-29T00:00"), p, &jst()).unwrap(),
            ts("2025-02-28T00:00")
        );
    }

    #[test]
    fn an_open_request_holds_disposal_back() {
        assert_eq!(verdict(true, vec![], None), Verdict::Erase);
        assert!(
            matches!(verdict(true, vec![], Some("r_1")), Verdict::Held { reason } if reason.contains("r_1"))
        );
        assert_eq!(
            verdict(false, vec!["ip_address".into()], None),
            Verdict::RemoveFields(vec!["ip_address".into()])
        );
        assert_eq!(verdict(false, vec![], Some("r_1")), Verdict::Keep);
    }

    #[test]
    fn a_real_sweep_never_runs_as_of_a_later_time_but_a_dry_run_may() {
        let clock = ts("2026-12-04T10:00");
        assert_eq!(
            may_sweep_at(ts("2036-12-04T10:00"), clock, false),
            Err(SweepRefusal::InTheFuture)
        );
        assert_eq!(may_sweep_at(ts("2036-12-04T10:00"), clock, true), Ok(()));
        assert_eq!(
            may_sweep_at(ts("2026-12-04T10:00:30"), clock, false),
            Ok(())
        );
        assert_eq!(may_sweep_at(ts("2020-01-01T00:00"), clock, false), Ok(()));
    }

    #[test]
    fn destroying_more_than_a_tenth_of_all_principals_needs_confirmation() {
        assert_eq!(may_destroy(10, 100, false), Ok(()));
        assert_eq!(
            may_destroy(11, 100, false),
            Err(SweepRefusal::Large {
                destroy: 11,
                of: 100
            })
        );
        assert_eq!(may_destroy(11, 100, true), Ok(()));
        assert_eq!(
            may_destroy(3, 3, false),
            Err(SweepRefusal::Large { destroy: 3, of: 3 })
        );
        assert_eq!(may_destroy(0, 0, false), Ok(()));
    }

    #[test]
    fn provision_records_are_kept_through_their_last_day() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert!(!provision_record_expired(d("2029-11-22"), d("2029-11-22")));
        assert!(provision_record_expired(d("2029-11-22"), d("2029-11-23")));
    }
}
