//! Office windows and business days.
//!
//! Seed 003 Art. 23(3): complaints are received Monday to Friday, 10:00 to 16:00 (Japan time),
//! except national holidays and substitute holidays, and December 29 to January 3. A complaint
//! that arrives while the desk is closed counts from the next opening.
//!
//! Plain business days (`calendar add-business-days`) use the same days: Monday to Friday,
//! not a holiday of any kind, not December 29 to January 3.
//!
//! Breach report deadlines follow the PPC's guidelines (個人情報保護委員会「個人情報の保護に関する
//! 法律についてのガイドライン（通則編）」3-5-3-4): the day the organization became aware is
//! day 1, every day counts, and a last day on a Saturday, Sunday, holiday or December 29 to
//! January 3 moves to the next day that is none of these.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::{Timestamp, ToSpan};

use crate::holidays::{HolidayCache, LAST_YEAR};
use crate::{CalendarError, JST};

/// How far ahead we look for an opening before deciding a window never opens: longer than
/// any run of closed days a real window has (the year-end closure plus a holiday week).
const SEARCH_DAYS: u32 = 3_660;

/// A period of closed days every year, by month and day; `to` is inclusive and may wrap over
/// the new year, e.g. `(12, 29)..(1, 3)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedPeriod {
    /// First closed day, `(month, day)`.
    pub from: (i8, i8),
    /// Last closed day, `(month, day)`, inclusive.
    pub to: (i8, i8),
}

impl ClosedPeriod {
    /// December 29 to January 3, the year-end closure of government offices and of seed 003
    /// Art. 23(3).
    pub const YEAR_END: ClosedPeriod = ClosedPeriod {
        from: (12, 29),
        to: (1, 3),
    };

    /// Whether `date` falls in this period.
    pub fn contains(&self, date: Date) -> bool {
        let md = (date.month(), date.day());
        if self.from <= self.to {
            self.from <= md && md <= self.to
        } else {
            md >= self.from || md <= self.to
        }
    }
}

/// An office window: which weekdays, the hours `[opens, closes)` in Japan time, and the
/// closed days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeWindow {
    /// The weekdays the office is open.
    pub weekdays: Vec<Weekday>,
    /// Opening time (inclusive), Japan time.
    pub opens: Time,
    /// Closing time (exclusive), Japan time.
    pub closes: Time,
    /// Closed on every holiday kind (national, substitute, citizens', special).
    pub closed_on_holidays: bool,
    /// Closed periods that recur every year.
    pub closed_periods: Vec<ClosedPeriod>,
}

const MONDAY_TO_FRIDAY: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

impl OfficeWindow {
    /// The complaints desk of seed 003 Art. 23(3): Monday to Friday 10:00–16:00, closed on
    /// holidays (national, substitute and the other holidays of the Act) and December 29 to
    /// January 3.
    pub fn tokyo_one() -> Self {
        OfficeWindow {
            weekdays: MONDAY_TO_FRIDAY.to_vec(),
            opens: Time::constant(10, 0, 0, 0),
            closes: Time::constant(16, 0, 0, 0),
            closed_on_holidays: true,
            closed_periods: vec![ClosedPeriod::YEAR_END],
        }
    }

    /// Plain business days: Monday to Friday, not a holiday, not December 29 to January 3.
    fn business_days() -> Self {
        Self::tokyo_one()
    }

    /// Whether the office opens at all on `date`.
    pub fn is_business_day(&self, date: Date) -> bool {
        self.is_business_day_with(date, &mut HolidayCache::new())
    }

    fn is_business_day_with(&self, date: Date, cache: &mut HolidayCache) -> bool {
        self.weekdays.contains(&date.weekday())
            && !self.closed_periods.iter().any(|p| p.contains(date))
            && !(self.closed_on_holidays && cache.is_holiday(date))
    }

    /// Whether the office is open at `at` (judged in Japan time): on a business day, from
    /// `opens` (open) up to `closes` (closed).
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = JST.to_datetime(at);
        self.opens <= local.time()
            && local.time() < self.closes
            && self.is_business_day(local.date())
    }

    /// `None` when the office is open at `at`; otherwise the next opening after `at`. Also
    /// `None` when the window never opens (no weekdays, or `opens >= closes`).
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        if self.is_open(at) || self.opens >= self.closes {
            return None;
        }
        let local = JST.to_datetime(at);
        let mut cache = HolidayCache::new();
        let mut day = local.date();
        if local.time() >= self.opens {
            // Today's opening has passed (or today is closed); start with tomorrow.
            day = day.tomorrow().ok()?;
        }
        for _ in 0..SEARCH_DAYS {
            if self.is_business_day_with(day, &mut cache) {
                return JST.to_timestamp(DateTime::from_parts(day, self.opens)).ok();
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// The moment a complaint received at `at` counts from: `at` itself when the desk is open,
    /// else its next opening (seed 003 Art. 23(3)); `at` when the window never opens.
    pub fn counted_from(&self, at: Timestamp) -> Timestamp {
        if self.is_open(at) {
            at
        } else {
            self.next_open(at).unwrap_or(at)
        }
    }

    /// The `n`-th business day after `date`, not counting `date` itself: `n = 0` gives `date`,
    /// `n = 1` the next business day (even when `date` is not one). A negative `n` counts
    /// back: `-1` is the last business day before `date`. Saturates at jiff's date limits, and
    /// returns `date` when the window has no business day at all.
    pub fn add_business_days(&self, date: Date, n: i64) -> Date {
        match self.step(date, n, None) {
            Step::Reached(d) => d,
            Step::Limit => {
                if n >= 0 {
                    Date::MAX
                } else {
                    Date::MIN
                }
            }
            Step::NeverOpens => date,
        }
    }

    /// Walks `n` business days from `date`; stops when a year passes `last_year`.
    fn step(&self, date: Date, n: i64, last_year: Option<i16>) -> Step {
        let mut cache = HolidayCache::new();
        let mut day = date;
        let mut left = n.unsigned_abs();
        let mut gap = 0u32;
        while left > 0 {
            let next = if n >= 0 {
                day.tomorrow()
            } else {
                day.yesterday()
            };
            let Ok(next) = next else {
                return Step::Limit;
            };
            day = next;
            if last_year.is_some_and(|y| day.year() > y) {
                return Step::Limit;
            }
            if self.is_business_day_with(day, &mut cache) {
                left -= 1;
                gap = 0;
            } else {
                gap += 1;
                if gap > SEARCH_DAYS {
                    return Step::NeverOpens;
                }
            }
        }
        Step::Reached(day)
    }
}

enum Step {
    Reached(Date),
    Limit,
    NeverOpens,
}

/// The `n`-th plain business day after `date` (Monday to Friday, not a holiday of any kind,
/// not December 29 to January 3), not counting `date` itself; `n = 0` gives `date`.
/// Used by `calendar add-business-days DATE N`.
///
/// # Errors
/// A negative `n`, a `date` outside 1948–2150, or a result past 2150 (holidays unknown).
pub fn add_business_days(date: Date, n: i64) -> Result<Date, CalendarError> {
    if n < 0 {
        return Err(CalendarError::NegativeBusinessDays { n });
    }
    let year = date.year();
    if !(crate::holidays::FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(CalendarError::YearOutOfRange { year });
    }
    match OfficeWindow::business_days().step(date, n, Some(LAST_YEAR)) {
        Step::Reached(d) => Ok(d),
        Step::Limit | Step::NeverOpens => Err(CalendarError::PastLastYear { date, n }),
    }
}

/// The deadline of a breach report due `days` days after the organization became aware on
/// `aware_on`, by the PPC's rule: `aware_on` is day 1 and every day counts; a last day on a
/// Saturday, Sunday, holiday of any kind or December 29 to January 3 moves to the next day
/// that is none of these. `days` below 1 is taken as 1; saturates at jiff's last date.
pub fn ppc_deadline(aware_on: Date, days: i64) -> Date {
    // A jiff span holds at most 7,304,484 days; anything larger is past Date::MAX anyway.
    let offset = days.clamp(1, 7_304_485) - 1;
    let Ok(mut last) = aware_on.checked_add(offset.days()) else {
        return Date::MAX;
    };
    let mut cache = HolidayCache::new();
    while matches!(last.weekday(), Weekday::Saturday | Weekday::Sunday)
        || ClosedPeriod::YEAR_END.contains(last)
        || cache.is_holiday(last)
    {
        let Ok(next) = last.tomorrow() else {
            return Date::MAX;
        };
        last = next;
    }
    last
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{format_jst, parse_time};

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    fn t(s: &str) -> Timestamp {
        parse_time(s).unwrap()
    }

    #[test]
    fn window_opens_at_10_and_closes_at_16() {
        let w = OfficeWindow::tokyo_one();
        // 2026-11-24 is a Tuesday, not a holiday.
        assert!(!w.is_open(t("2026-11-24T09:59:00+09:00")));
        assert!(!w.is_open(t("2026-11-24T09:59:59.999+09:00")));
        assert!(w.is_open(t("2026-11-24T10:00:00+09:00")));
        assert!(w.is_open(t("2026-11-24T15:59:00+09:00")));
        assert!(w.is_open(t("2026-11-24T15:59:59+09:00")));
        assert!(!w.is_open(t("2026-11-24T16:00:00+09:00")));
        assert!(!w.is_open(t("2026-11-24T16:01:00+09:00")));
    }

    #[test]
    fn window_is_judged_in_japan_time() {
        let w = OfficeWindow::tokyo_one();
        // 01:00Z is 10:00 in Japan; 00:59Z is 09:59.
        assert!(w.is_open(t("2026-11-24T01:00:00Z")));
        assert!(!w.is_open(t("2026-11-24T00:59:00Z")));
        // 2026-11-23T20:00-05:00 is 2026-11-24T10:00+09:00.
        assert!(w.is_open(t("2026-11-23T20:00:00-05:00")));
    }

    #[test]
    fn window_is_closed_on_weekends_and_holidays() {
        let w = OfficeWindow::tokyo_one();
        assert!(!w.is_open(t("2026-11-28T11:00:00+09:00"))); // Saturday
        assert!(!w.is_open(t("2026-11-29T11:00:00+09:00"))); // Sunday
        assert!(!w.is_open(t("2026-11-23T11:00:00+09:00"))); // 勤労感謝の日 (Monday)
        assert!(!w.is_open(t("2026-05-06T11:00:00+09:00"))); // 振替休日
        assert!(!w.is_open(t("2026-09-22T11:00:00+09:00"))); // 国民の休日
    }

    #[test]
    fn year_end_closure_runs_from_december_29_to_january_3() {
        let w = OfficeWindow::tokyo_one();
        // 2025-12-26 is a Friday; 2025-12-29 Monday; 2026-01-02 Friday; 2026-01-05 Monday.
        assert!(w.is_business_day(d(2025, 12, 26)));
        assert!(!w.is_business_day(d(2025, 12, 29)));
        assert!(!w.is_business_day(d(2026, 1, 2)));
        // 2027-12-28 is a Tuesday, 2027-12-29 a Wednesday, 2030-01-03 a Thursday and
        // 2030-01-04 a Friday.
        assert!(w.is_business_day(d(2027, 12, 28)));
        assert!(w.is_open(t("2027-12-28T10:00:00+09:00")));
        assert!(!w.is_business_day(d(2027, 12, 29)));
        assert!(!w.is_open(t("2027-12-29T10:00:00+09:00")));
        assert!(!w.is_business_day(d(2030, 1, 3)));
        assert!(w.is_business_day(d(2030, 1, 4)));
        assert!(w.is_open(t("2030-01-04T10:00:00+09:00")));
    }

    #[test]
    fn closed_period_wraps_over_the_new_year() {
        let p = ClosedPeriod::YEAR_END;
        assert!(p.contains(d(2026, 12, 31)));
        assert!(p.contains(d(2027, 1, 1)));
        assert!(!p.contains(d(2026, 12, 28)));
        assert!(!p.contains(d(2027, 1, 4)));
        let obon = ClosedPeriod {
            from: (8, 13),
            to: (8, 16),
        };
        assert!(obon.contains(d(2026, 8, 13)));
        assert!(obon.contains(d(2026, 8, 16)));
        assert!(!obon.contains(d(2026, 8, 17)));
    }

    #[test]
    fn next_open_is_none_while_open() {
        let w = OfficeWindow::tokyo_one();
        assert_eq!(w.next_open(t("2026-11-24T10:00:00+09:00")), None);
        assert_eq!(w.next_open(t("2026-11-24T15:59:59+09:00")), None);
    }

    #[test]
    fn next_open_before_opening_is_the_same_day() {
        let w = OfficeWindow::tokyo_one();
        let next = w.next_open(t("2026-11-24T09:59:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2026-11-24T10:00:00+09:00");
    }

    #[test]
    fn next_open_after_closing_is_the_next_business_day() {
        let w = OfficeWindow::tokyo_one();
        let next = w.next_open(t("2026-11-24T16:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2026-11-25T10:00:00+09:00");
    }

    #[test]
    fn next_open_skips_a_weekend_and_a_monday_holiday() {
        let w = OfficeWindow::tokyo_one();
        // Friday 2026-11-20 after 16:00 → Sat, Sun, Mon 11-23 勤労感謝の日 → Tue 11-24.
        let next = w.next_open(t("2026-11-20T16:30:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2026-11-24T10:00:00+09:00");
    }

    #[test]
    fn next_open_skips_a_weekend_the_year_end_closure_and_a_holiday() {
        let w = OfficeWindow::tokyo_one();
        // Friday 2026-12-25 after closing: weekend 12-26/27, Mon 12-28 is open.
        let next = w.next_open(t("2026-12-25T17:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2026-12-28T10:00:00+09:00");
        // Mon 2026-12-28 after closing: 12-29..1-3 closed, 2027-01-04 Monday opens.
        let next = w.next_open(t("2026-12-28T16:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2027-01-04T10:00:00+09:00");
        // Fri 2029-12-28 evening → Sat 12-29 .. Thu 1-3 closed → Fri 2030-01-04.
        let next = w.next_open(t("2029-12-28T16:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2030-01-04T10:00:00+09:00");
        // Fri 2024-12-27 evening → weekend, 12-29..1-3 with 元日, then the weekend of
        // 1-4/1-5 → Mon 2025-01-06.
        let next = w.next_open(t("2024-12-27T16:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2025-01-06T10:00:00+09:00");
        // Fri 2025-01-10 evening → weekend, Mon 1-13 成人の日 → Tue 1-14.
        let next = w.next_open(t("2025-01-10T16:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2025-01-14T10:00:00+09:00");
    }

    #[test]
    fn next_open_across_the_year_end_and_a_substitute_holiday() {
        let w = OfficeWindow::tokyo_one();
        // 2023-01-01 was a Sunday, so 2023-01-02 was a substitute holiday (inside the closure
        // anyway). From Wed 2022-12-28 after closing → Wed 2023-01-04.
        let next = w.next_open(t("2022-12-28T16:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2023-01-04T10:00:00+09:00");
        // Sat 2027-01-09 → Mon 1-11 成人の日 → Tue 2027-01-12.
        let next = w.next_open(t("2027-01-09T12:00:00+09:00")).unwrap();
        assert_eq!(format_jst(next), "2027-01-12T10:00:00+09:00");
    }

    #[test]
    fn counted_from_is_now_when_open_else_next_opening() {
        let w = OfficeWindow::tokyo_one();
        let open = t("2026-11-24T11:30:00+09:00");
        assert_eq!(w.counted_from(open), open);
        let closed = t("2026-11-21T11:30:00+09:00"); // Saturday
        assert_eq!(
            format_jst(w.counted_from(closed)),
            "2026-11-24T10:00:00+09:00"
        );
    }

    #[test]
    fn a_window_that_never_opens_has_no_next_opening() {
        let w = OfficeWindow {
            weekdays: vec![],
            ..OfficeWindow::tokyo_one()
        };
        let at = t("2026-11-24T11:30:00+09:00");
        assert_eq!(w.next_open(at), None);
        assert_eq!(w.counted_from(at), at);
        assert_eq!(w.add_business_days(d(2026, 11, 24), 3), d(2026, 11, 24));
        let empty = OfficeWindow {
            closes: Time::constant(10, 0, 0, 0),
            ..OfficeWindow::tokyo_one()
        };
        assert!(!empty.is_open(t("2026-11-24T10:00:00+09:00")));
        assert_eq!(empty.next_open(at), None);
    }

    #[test]
    fn add_business_days_does_not_count_the_start_day() {
        let w = OfficeWindow::tokyo_one();
        assert_eq!(w.add_business_days(d(2026, 11, 24), 0), d(2026, 11, 24));
        assert_eq!(w.add_business_days(d(2026, 11, 24), 1), d(2026, 11, 25));
        // Fri 11-20 + 1 → Tue 11-24 (Mon 11-23 is a holiday).
        assert_eq!(w.add_business_days(d(2026, 11, 20), 1), d(2026, 11, 24));
        // From a Saturday, the first business day is Monday.
        assert_eq!(w.add_business_days(d(2026, 11, 28), 1), d(2026, 11, 30));
        // Across the year end: Mon 2026-12-28 + 1 → Mon 2027-01-04.
        assert_eq!(w.add_business_days(d(2026, 12, 28), 1), d(2027, 1, 4));
        // Negative counts back.
        assert_eq!(w.add_business_days(d(2027, 1, 4), -1), d(2026, 12, 28));
    }

    #[test]
    fn plain_add_business_days_rejects_bad_input() {
        assert_eq!(add_business_days(d(2026, 11, 20), 10), Ok(d(2026, 12, 7)));
        assert_eq!(
            add_business_days(d(2026, 11, 20), -1),
            Err(CalendarError::NegativeBusinessDays { n: -1 })
        );
        assert_eq!(
            add_business_days(d(2151, 1, 5), 1),
            Err(CalendarError::YearOutOfRange { year: 2151 })
        );
        assert!(matches!(
            add_business_days(d(2150, 12, 1), 30),
            Err(CalendarError::PastLastYear { .. })
        ));
        assert!(matches!(
            add_business_days(d(2026, 1, 5), i64::MAX),
            Err(CalendarError::PastLastYear { .. })
        ));
    }

    #[test]
    fn ppc_deadline_counts_the_day_of_awareness_as_day_one() {
        // Aware on Wed 2026-04-01; 30 days → day 30 is Thu 2026-04-30.
        assert_eq!(ppc_deadline(d(2026, 4, 1), 30), d(2026, 4, 30));
        // 3 days from Wed 2026-04-01 → Fri 04-03.
        assert_eq!(ppc_deadline(d(2026, 4, 1), 3), d(2026, 4, 3));
        // 1 day → the same day.
        assert_eq!(ppc_deadline(d(2026, 4, 1), 1), d(2026, 4, 1));
        assert_eq!(ppc_deadline(d(2026, 4, 1), 0), d(2026, 4, 1));
    }

    #[test]
    fn ppc_deadline_on_a_closed_day_moves_to_the_next_open_day() {
        // Aware on 2026-04-05 (Sunday); 30 days → day 30 is Mon 05-04 みどりの日, then 5-5
        // こどもの日, 5-6 振替休日 → Thu 2026-05-07.
        assert_eq!(ppc_deadline(d(2026, 4, 5), 30), d(2026, 5, 7));
        // Day 30 on Saturday 2026-05-02 → Mon 5-4 holiday... → 5-7.
        assert_eq!(ppc_deadline(d(2026, 4, 3), 30), d(2026, 5, 7));
        // Day 30 on 2026-12-30 (year-end) → 2027-01-04 (Monday).
        assert_eq!(ppc_deadline(d(2026, 12, 1), 30), d(2027, 1, 4));
        // Day 3 on a Saturday → Monday.
        assert_eq!(ppc_deadline(d(2026, 11, 26), 3), d(2026, 11, 30));
    }

    #[test]
    fn ppc_deadline_saturates_instead_of_overflowing() {
        assert_eq!(ppc_deadline(d(2026, 4, 1), i64::MAX), Date::MAX);
        assert_eq!(ppc_deadline(Date::MAX, 2), Date::MAX);
    }
}
