//! Japanese holidays, business days and office windows (pure: no I/O, no clock; time is an
//! argument).
//!
//! - [`holidays`] / [`holiday_on`]: the holidays of the Act on National Holidays
//!   (国民の祝日に関する法律, Art. 2 and 3) and the special acts, 1948–2150.
//! - [`OfficeWindow`]: the complaints desk of seed 003 Art. 23(3) and its kin.
//! - [`add_business_days`], [`ppc_deadline`]: day counting for deadlines.
//! - [`parse_time`], [`format_jst`]: RFC 3339 times; a time without an offset is Japan time
//!   (DESIGN.md, "Command-line interface").
//!
//! Japan time is the fixed offset +09:00 ([`JST`]): Japan has kept it without daylight saving
//! since 1952, so no time zone database is needed.

mod holidays;
mod window;

pub use holidays::{FIRST_YEAR, Holiday, HolidayKind, LAST_YEAR, holiday_on, holidays};
pub use jiff::civil::{Date, DateTime, Time, Weekday};
pub use window::{ClosedPeriod, OfficeWindow, add_business_days, ppc_deadline};

use jiff::Timestamp;
use jiff::fmt::temporal::{Pieces, TimeZoneAnnotationKind};
use jiff::tz::{Offset, TimeZone};

/// Japan Standard Time, UTC+09:00.
pub const JST: Offset = Offset::constant(9);

/// Japan time as a jiff time zone (the fixed offset [`JST`]).
pub fn japan_tz() -> TimeZone {
    TimeZone::fixed(JST)
}

/// What went wrong, as one line naming the field and what to do.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    /// A year this calendar has no holidays for.
    #[error("year {year} is outside 1948–2150")]
    YearOutOfRange { year: i16 },
    /// Not a time.
    #[error("time: {0:?} is not an RFC 3339 time (e.g. 2026-04-01T10:00:00+09:00)")]
    BadTime(String),
    /// Not a date.
    #[error("date: {0:?} is not a date (e.g. 2026-04-01)")]
    BadDate(String),
    /// `add_business_days` was given a negative count.
    #[error("n: {n} is negative; give a number of business days of 0 or more")]
    NegativeBusinessDays { n: i64 },
    /// The result would fall after 2150, where holidays are unknown.
    #[error(
        "n: {date} plus {n} business days goes past 2150, the last year with known holidays; give a smaller number"
    )]
    PastLastYear { date: Date, n: i64 },
}

/// Parses a time: RFC 3339 (`2026-04-01T10:00:00+09:00`, `...Z`); a time without an offset
/// is Japan time (`2026-04-01T10:00:00`), and a bare date `2026-04-01` is 00:00 Japan time.
/// A bracketed zone without an offset is accepted only when it is Japan's.
///
/// # Errors
/// [`CalendarError::BadTime`] for anything else.
pub fn parse_time(s: &str) -> Result<Timestamp, CalendarError> {
    let bad = || CalendarError::BadTime(s.to_string());
    let pieces = Pieces::parse(s.trim()).map_err(|_| bad())?;
    let offset = match (pieces.to_numeric_offset(), pieces.time_zone_annotation()) {
        (Some(offset), _) => offset,
        (None, None) => JST,
        (None, Some(annotation)) => match annotation.kind() {
            TimeZoneAnnotationKind::Offset(offset) => *offset,
            TimeZoneAnnotationKind::Named(name)
                if matches!(name.as_str(), "Asia/Tokyo" | "Japan") =>
            {
                JST
            }
            _ => return Err(bad()),
        },
    };
    let time = pieces.time().unwrap_or(Time::midnight());
    offset
        .to_timestamp(DateTime::from_parts(pieces.date(), time))
        .map_err(|_| bad())
}

/// Parses a date `YYYY-MM-DD`.
///
/// # Errors
/// [`CalendarError::BadDate`] for anything else.
pub fn parse_date(s: &str) -> Result<Date, CalendarError> {
    s.trim()
        .parse::<Date>()
        .map_err(|_| CalendarError::BadDate(s.to_string()))
}

/// Formats a time as RFC 3339 in Japan time, to the second: `2026-11-24T10:00:00+09:00`.
pub fn format_jst(ts: Timestamp) -> String {
    let dt = JST.to_datetime(ts);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+09:00",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_reads_rfc3339_with_an_offset() {
        let ts = parse_time("2026-04-01T10:00:00+09:00").unwrap();
        assert_eq!(ts, "2026-04-01T01:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(parse_time("2026-04-01T01:00:00Z").unwrap(), ts);
        assert_eq!(parse_time("2026-03-31T20:00:00-05:00").unwrap(), ts);
    }

    #[test]
    fn a_time_without_an_offset_is_japan_time() {
        let ts = parse_time("2026-04-01T10:00:00").unwrap();
        assert_eq!(format_jst(ts), "2026-04-01T10:00:00+09:00");
        let ts = parse_time("2026-04-01T10:00:00[Asia/Tokyo]").unwrap();
        assert_eq!(format_jst(ts), "2026-04-01T10:00:00+09:00");
    }

    #[test]
    fn a_bare_date_is_midnight_japan_time() {
        let ts = parse_time("2026-04-01").unwrap();
        assert_eq!(format_jst(ts), "2026-04-01T00:00:00+09:00");
    }

    #[test]
    fn parse_time_rejects_nonsense_with_a_one_line_reason() {
        assert_eq!(
            parse_time("2026-13-01").unwrap_err().to_string(),
            "time: \"2026-13-01\" is not an RFC 3339 time (e.g. 2026-04-01T10:00:00+09:00)"
        );
        for bad in [
            "",
            "tomorrow",
            "2026-04-01T25:00:00+09:00",
            "2026-02-30",
            "2026-04-01T10:00:00[America/New_York]",
        ] {
            assert_eq!(
                parse_time(bad),
                Err(CalendarError::BadTime(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn format_jst_prints_seconds_and_plus_nine() {
        let ts: Timestamp = "2026-11-24T01:00:00.75Z".parse().unwrap();
        assert_eq!(format_jst(ts), "2026-11-24T10:00:00+09:00");
        let ts: Timestamp = "2026-12-31T15:00:00Z".parse().unwrap();
        assert_eq!(format_jst(ts), "2027-01-01T00:00:00+09:00");
    }

    #[test]
    fn format_jst_round_trips_through_parse_time() {
        let ts = parse_time("2026-11-24T10:00:00+09:00").unwrap();
        assert_eq!(parse_time(&format_jst(ts)).unwrap(), ts);
    }

    #[test]
    fn japan_tz_is_plus_nine() {
        assert_eq!(JST.seconds(), 9 * 3600);
        let ts = parse_time("2026-04-01T00:00:00Z").unwrap();
        assert_eq!(
            japan_tz().to_datetime(ts),
            DateTime::from_parts(Date::constant(2026, 4, 1), Time::constant(9, 0, 0, 0))
        );
    }

    #[test]
    fn parse_date_reads_iso_dates() {
        assert_eq!(parse_date("2026-04-01"), Ok(Date::constant(2026, 4, 1)));
        assert_eq!(
            parse_date("2026-4-1").unwrap_err().to_string(),
            "date: \"2026-4-1\" is not a date (e.g. 2026-04-01)"
        );
    }
}
