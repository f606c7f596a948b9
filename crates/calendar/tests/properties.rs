//! Property tests: the rules of the Act on National Holidays (国民の祝日に関する法律 Art. 2 and 3)
//! and of the office window (seed 003 Art. 23(3)) hold for any year and any moment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use jiff::{Timestamp, ToSpan};
use mamori_calendar::{
    Date, HolidayKind, OfficeWindow, Weekday, add_business_days, format_jst, holiday_on, holidays,
    parse_time, ppc_deadline,
};
use proptest::prelude::*;

const SUBSTITUTE_FROM: Date = Date::constant(1973, 4, 12);
const CITIZENS_FROM: Date = Date::constant(1985, 12, 27);
const RULES_OF_2007: Date = Date::constant(2007, 1, 1);

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn year() -> impl Strategy<Value = i16> {
    1948i16..=2150
}

/// A date in 1948–2149, so that walking forward stays within the known years.
fn date() -> impl Strategy<Value = Date> {
    (1948i16..=2149, 0i64..366).prop_map(|(y, day)| {
        let first = Date::new(y, 1, 1).unwrap();
        let d = first.checked_add(day.days()).unwrap();
        if d.year() == y { d } else { first }
    })
}

/// A moment in 1949–2149, at second precision.
fn moment() -> impl Strategy<Value = Timestamp> {
    let lo = parse_time("1949-01-01T00:00:00+09:00").unwrap().as_second();
    let hi = parse_time("2149-01-01T00:00:00+09:00").unwrap().as_second();
    (lo..hi).prop_map(|s| Timestamp::from_second(s).unwrap())
}

fn is_art2(d: Date) -> bool {
    holiday_on(d).is_some_and(|h| matches!(h.kind, HolidayKind::National | HolidayKind::Special))
}

fn is_weekend_or_closed(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
        || holiday_on(d).is_some()
        || (d.month() == 12 && d.day() >= 29)
        || (d.month() == 1 && d.day() <= 3)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn holidays_are_sorted_unique_and_in_their_year(y in year()) {
        let list = holidays(y).unwrap();
        prop_assert!(list.windows(2).all(|w| w[0].date < w[1].date));
        prop_assert!(list.iter().all(|h| h.date.year() == y));
        for h in &list {
            prop_assert_eq!(holiday_on(h.date), Some(h.clone()));
        }
    }

    #[test]
    fn substitute_holiday_follows_a_sunday_holiday_or_a_run_starting_on_sunday(y in year()) {
        for h in holidays(y).unwrap().iter().filter(|h| h.kind == HolidayKind::Substitute) {
            prop_assert!(h.date > SUBSTITUTE_FROM, "{:?}", h);
            prop_assert_ne!(h.date.weekday(), Weekday::Sunday);
            // Walk back over the run of national holidays just before it: it starts on a
            // Sunday (before 2007 the run is the Sunday alone).
            let mut day = h.date.yesterday().unwrap();
            let mut run = Vec::new();
            while is_art2(day) {
                run.push(day);
                day = day.yesterday().unwrap();
            }
            prop_assert!(!run.is_empty(), "{:?}", h);
            prop_assert!(run.iter().any(|d| d.weekday() == Weekday::Sunday), "{:?}", h);
            if h.date < RULES_OF_2007 {
                prop_assert_eq!(run[0].weekday(), Weekday::Sunday);
            }
        }
    }

    #[test]
    fn every_sunday_holiday_after_1973_04_12_gets_its_substitute(y in 1974i16..=2150) {
        for h in holidays(y).unwrap() {
            if !matches!(h.kind, HolidayKind::National | HolidayKind::Special)
                || h.date.weekday() != Weekday::Sunday
            {
                continue;
            }
            let mut next = h.date.tomorrow().unwrap();
            if h.date >= RULES_OF_2007 {
                while is_art2(next) {
                    next = next.tomorrow().unwrap();
                }
            } else if is_art2(next) {
                continue;
            }
            prop_assert_eq!(holiday_on(next).map(|x| x.kind), Some(HolidayKind::Substitute));
        }
    }

    #[test]
    fn no_substitute_holiday_before_1973_04_12(y in 1948i16..=1973) {
        prop_assert!(holidays(y)
            .unwrap()
            .iter()
            .all(|h| h.kind != HolidayKind::Substitute || h.date >= SUBSTITUTE_FROM));
    }

    #[test]
    fn no_citizens_holiday_before_1986(y in 1948i16..=1985) {
        prop_assert!(holidays(y).unwrap().iter().all(|h| h.kind != HolidayKind::Citizens));
    }

    #[test]
    fn citizens_holiday_is_sandwiched_between_two_national_holidays(y in year()) {
        for h in holidays(y).unwrap().iter().filter(|h| h.kind == HolidayKind::Citizens) {
            prop_assert!(h.date >= CITIZENS_FROM);
            prop_assert!(is_art2(h.date.yesterday().unwrap()), "{:?}", h);
            prop_assert!(is_art2(h.date.tomorrow().unwrap()), "{:?}", h);
            if h.date < RULES_OF_2007 {
                prop_assert_ne!(h.date.weekday(), Weekday::Sunday);
            }
        }
    }

    #[test]
    fn every_day_between_two_national_holidays_is_a_holiday_from_2007(y in 2007i16..=2150) {
        let list = holidays(y).unwrap();
        for h in &list {
            let mid = h.date.tomorrow().unwrap();
            let after = mid.tomorrow().unwrap();
            if is_art2(h.date) && is_art2(after) {
                prop_assert!(holiday_on(mid).is_some(), "{}", mid);
            }
        }
    }

    #[test]
    fn every_happy_monday_holiday_is_a_monday(y in 2000i16..=2150) {
        for h in holidays(y).unwrap() {
            let happy = match h.name {
                "成人の日" | "体育の日" => true,
                "海の日" | "敬老の日" => y >= 2003 && y != 2020 && y != 2021,
                "スポーツの日" => y >= 2022,
                _ => false,
            };
            if happy {
                prop_assert_eq!(h.date.weekday(), Weekday::Monday, "{:?}", h);
            }
        }
    }

    #[test]
    fn equinox_days_fall_on_the_usual_dates(y in 1949i16..=2150) {
        let list = holidays(y).unwrap();
        let spring = list.iter().find(|h| h.name == "春分の日").unwrap();
        let autumn = list.iter().find(|h| h.name == "秋分の日").unwrap();
        prop_assert!(spring.date.month() == 3 && (19..=22).contains(&spring.date.day()));
        prop_assert!(autumn.date.month() == 9 && (21..=24).contains(&autumn.date.day()));
    }

    #[test]
    fn special_holidays_are_only_the_one_off_days(y in year()) {
        let known = ["1959-04-10", "1989-02-24", "1990-11-12", "1993-06-09", "2019-05-01", "2019-10-22"];
        for h in holidays(y).unwrap().iter().filter(|h| h.kind == HolidayKind::Special) {
            prop_assert!(known.contains(&h.date.to_string().as_str()), "{:?}", h);
        }
    }

    #[test]
    fn open_means_counted_from_now_and_no_next_opening(at in moment()) {
        let w = OfficeWindow::tokyo_one();
        if w.is_open(at) {
            prop_assert_eq!(w.next_open(at), None);
            prop_assert_eq!(w.counted_from(at), at);
        } else {
            let next = w.next_open(at).unwrap();
            prop_assert!(next > at);
            prop_assert!(w.is_open(next));
            prop_assert!(!w.is_open(next - 1.second()));
            prop_assert!(format_jst(next).ends_with("T10:00:00+09:00"));
            prop_assert_eq!(w.counted_from(at), next);
        }
    }

    #[test]
    fn the_desk_is_open_only_10_to_16_on_business_days(at in moment()) {
        let w = OfficeWindow::tokyo_one();
        let local = jiff::tz::Offset::constant(9).to_datetime(at);
        let in_hours = (10..16).contains(&local.hour());
        prop_assert_eq!(w.is_open(at), in_hours && !is_weekend_or_closed(local.date()));
    }

    #[test]
    fn business_days_add_up(d in date(), a in 0i64..40, b in 0i64..40) {
        let w = OfficeWindow::tokyo_one();
        let ab = w.add_business_days(d, a + b);
        prop_assert_eq!(w.add_business_days(w.add_business_days(d, a), b), ab);
        prop_assert_eq!(add_business_days(d, a + b), Ok(ab));
        if a + b > 0 {
            prop_assert!(ab > d);
            prop_assert!(w.is_business_day(ab));
            prop_assert!(!is_weekend_or_closed(ab));
        }
    }

    #[test]
    fn business_days_count_back_to_where_they_started(d in date(), n in 1i64..40) {
        let w = OfficeWindow::tokyo_one();
        let ahead = w.add_business_days(d, n);
        let back = w.add_business_days(ahead, -n);
        // Back lands on the last business day at or before d.
        prop_assert!(back <= d);
        prop_assert!(w.is_business_day(back));
        let mut day = back.tomorrow().unwrap();
        while day <= d {
            prop_assert!(!w.is_business_day(day));
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn ppc_deadline_is_the_first_open_day_from_the_nominal_last_day(d in date(), days in 1i64..=60) {
        let nominal = d.checked_add((days - 1).days()).unwrap();
        let due = ppc_deadline(d, days);
        prop_assert!(due >= nominal);
        prop_assert!(!is_weekend_or_closed(due));
        let mut day = nominal;
        while day < due {
            prop_assert!(is_weekend_or_closed(day));
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn format_jst_and_parse_time_round_trip(at in moment()) {
        let text = format_jst(at);
        prop_assert!(text.ends_with("+09:00"));
        prop_assert_eq!(parse_time(&text).unwrap(), at);
        let no_offset = text.trim_end_matches("+09:00");
        prop_assert_eq!(parse_time(no_offset).unwrap(), at);
    }
}
