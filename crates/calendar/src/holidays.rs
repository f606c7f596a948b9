//! Japanese national holidays, computed from the Act on National Holidays
//! (国民の祝日に関する法律, Act No. 178 of 1948, in force 1948-07-20) and the special acts that
//! added one-off days or moved days, for 1948–2150. No data file, no network: every day is
//! derived from the rules below, so nothing goes stale until the law changes.
//!
//! - Art. 2 (国民の祝日): the fixed days, each with the years it applied. Amendments:
//!   1966 (敬老の日, 体育の日 from 1966; 建国記念の日 from 1967 by cabinet order),
//!   1989 (天皇誕生日 moves to 12-23, 4-29 becomes みどりの日), 1995 (海の日 from 1996),
//!   1998 and 2001 "Happy Monday" acts (成人の日 and 体育の日 on a Monday from 2000,
//!   海の日 and 敬老の日 from 2003), 2005 (昭和の日 on 4-29 and みどりの日 on 5-4 from 2007),
//!   2014 (山の日 from 2016), 2017 (天皇誕生日 2-23 from 2020; none in 2019),
//!   2018 (体育の日 renamed スポーツの日 from 2020).
//! - 春分の日 / 秋分の日 are fixed each year by the National Astronomical Observatory's
//!   almanac; we use the standard approximation formula, exact against the published
//!   days 1949–2099 and the usual extrapolation for 2100–2150.
//! - Art. 3(2) (振替休日): from 1973-04-12 (1973 amendment), a holiday falling on a Sunday makes
//!   the next day a holiday; from 2007-01-01 (2005 amendment) the nearest following day that
//!   is not a national holiday.
//! - Art. 3(3) (国民の休日): from 1985-12-27 (1985 amendment), a day whose previous and next days
//!   are national holidays is a holiday; until 2006 not when it is a Sunday or a substitute
//!   holiday, from 2007 whenever it is not itself a national holiday.
//! - Special acts: the one-off days of 1959, 1989, 1990, 1993 and 2019 (the 2019 act deems
//!   2019-05-01 a national holiday for Art. 3, which made 04-30 and 05-02 citizens'
//!   holidays), and the Olympic special-measures acts that moved 海の日, スポーツの日 and
//!   山の日 in 2020 and 2021.

use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::CalendarError;

/// The first year this calendar knows (the Act came into force on 1948-07-20).
pub const FIRST_YEAR: i16 = 1948;
/// The last year this calendar knows (the equinox approximation is valid up to 2150).
pub const LAST_YEAR: i16 = 2150;

/// 国民の祝日に関する法律 came into force on the day of its promulgation.
const ACT_IN_FORCE: Date = Date::constant(1948, 7, 20);
/// Art. 3(2) as added by the 1973 amendment (Act No. 10 of 1973), in force 1973-04-12.
const SUBSTITUTE_FROM: Date = Date::constant(1973, 4, 12);
/// Art. 3(3) as added by the 1985 amendment (Act No. 103 of 1985), in force 1985-12-27.
const CITIZENS_FROM: Date = Date::constant(1985, 12, 27);
/// Art. 3(2)/(3) as rewritten by the 2005 amendment (Act No. 43 of 2005), in force 2007-01-01.
const RULES_OF_2007_FROM: Date = Date::constant(2007, 1, 1);

/// What made the day a holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HolidayKind {
    /// A national holiday (国民の祝日) of Art. 2, including the days moved in 2020 and 2021.
    National,
    /// A substitute holiday (振替休日) of Art. 3(2).
    Substitute,
    /// A citizens' holiday (国民の休日) of Art. 3(3).
    Citizens,
    /// A one-off holiday made by its own act (imperial weddings, funeral, enthronement).
    Special,
}

/// One holiday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// The day; serializes as `"YYYY-MM-DD"`.
    pub date: Date,
    /// The Japanese name, e.g. `元日`.
    pub name: &'static str,
    /// The English name, e.g. `New Year's Day`.
    #[serde(skip)]
    pub name_en: &'static str,
    /// Which rule made it a holiday.
    pub kind: HolidayKind,
}

#[derive(Clone, Copy)]
enum Rule {
    /// Month and day.
    Fixed(i8, i8),
    /// The nth Monday of the month (the "Happy Monday" acts).
    NthMonday(i8, i8),
    VernalEquinox,
    AutumnalEquinox,
}

struct Def {
    name: &'static str,
    name_en: &'static str,
    rule: Rule,
    /// First and last year (inclusive) the rule applied.
    from: i16,
    to: i16,
}

const fn def(name: &'static str, name_en: &'static str, rule: Rule, from: i16, to: i16) -> Def {
    Def {
        name,
        name_en,
        rule,
        from,
        to,
    }
}

const OPEN: i16 = i16::MAX;

/// Art. 2, with the years each line applied. 1948 holds only the days after 1948-07-20.
const NATIONAL: &[Def] = &[
    def("元日", "New Year's Day", Rule::Fixed(1, 1), 1949, OPEN),
    def(
        "成人の日",
        "Coming of Age Day",
        Rule::Fixed(1, 15),
        1949,
        1999,
    ),
    // 1998 amendment (Happy Monday I), from 2000: the second Monday of January.
    def(
        "成人の日",
        "Coming of Age Day",
        Rule::NthMonday(1, 2),
        2000,
        OPEN,
    ),
    def(
        "建国記念の日",
        "National Foundation Day",
        Rule::Fixed(2, 11),
        1967,
        OPEN,
    ),
    // 2017 act on the Emperor's abdication: 2-23 from 2020; there is no 天皇誕生日 in 2019.
    def(
        "天皇誕生日",
        "The Emperor's Birthday",
        Rule::Fixed(2, 23),
        2020,
        OPEN,
    ),
    def(
        "春分の日",
        "Vernal Equinox Day",
        Rule::VernalEquinox,
        1949,
        OPEN,
    ),
    def(
        "天皇誕生日",
        "The Emperor's Birthday",
        Rule::Fixed(4, 29),
        1949,
        1988,
    ),
    // 1989 amendment: 4-29 becomes みどりの日; 2005 amendment: 昭和の日 from 2007.
    def("みどりの日", "Greenery Day", Rule::Fixed(4, 29), 1989, 2006),
    def("昭和の日", "Showa Day", Rule::Fixed(4, 29), 2007, OPEN),
    def(
        "憲法記念日",
        "Constitution Memorial Day",
        Rule::Fixed(5, 3),
        1949,
        OPEN,
    ),
    def("みどりの日", "Greenery Day", Rule::Fixed(5, 4), 2007, OPEN),
    def(
        "こどもの日",
        "Children's Day",
        Rule::Fixed(5, 5),
        1949,
        OPEN,
    ),
    // 1995 amendment: 海の日 from 1996; 2001 amendment (Happy Monday II) from 2003.
    def("海の日", "Marine Day", Rule::Fixed(7, 20), 1996, 2002),
    def("海の日", "Marine Day", Rule::NthMonday(7, 3), 2003, 2019),
    // Olympic special-measures acts (2018 and 2020 amendments of the act on special
    // measures for the Tokyo 2020 Games): 海の日, スポーツの日 and 山の日 moved in 2020 and 2021.
    def("海の日", "Marine Day", Rule::Fixed(7, 23), 2020, 2020),
    def("スポーツの日", "Sports Day", Rule::Fixed(7, 24), 2020, 2020),
    def("山の日", "Mountain Day", Rule::Fixed(8, 10), 2020, 2020),
    def("海の日", "Marine Day", Rule::Fixed(7, 22), 2021, 2021),
    def("スポーツの日", "Sports Day", Rule::Fixed(7, 23), 2021, 2021),
    def("山の日", "Mountain Day", Rule::Fixed(8, 8), 2021, 2021),
    def("海の日", "Marine Day", Rule::NthMonday(7, 3), 2022, OPEN),
    // 2014 amendment: 山の日 from 2016.
    def("山の日", "Mountain Day", Rule::Fixed(8, 11), 2016, 2019),
    def("山の日", "Mountain Day", Rule::Fixed(8, 11), 2022, OPEN),
    // 1966 amendment: 敬老の日 and 体育の日; Happy Monday from 2003 and 2000.
    def(
        "敬老の日",
        "Respect for the Aged Day",
        Rule::Fixed(9, 15),
        1966,
        2002,
    ),
    def(
        "敬老の日",
        "Respect for the Aged Day",
        Rule::NthMonday(9, 3),
        2003,
        OPEN,
    ),
    def(
        "秋分の日",
        "Autumnal Equinox Day",
        Rule::AutumnalEquinox,
        1948,
        OPEN,
    ),
    def(
        "体育の日",
        "Health and Sports Day",
        Rule::Fixed(10, 10),
        1966,
        1999,
    ),
    def(
        "体育の日",
        "Health and Sports Day",
        Rule::NthMonday(10, 2),
        2000,
        2019,
    ),
    // 2018 amendment: renamed スポーツの日 from 2020 (moved to July in 2020 and 2021).
    def(
        "スポーツの日",
        "Sports Day",
        Rule::NthMonday(10, 2),
        2022,
        OPEN,
    ),
    def("文化の日", "Culture Day", Rule::Fixed(11, 3), 1948, OPEN),
    def(
        "勤労感謝の日",
        "Labor Thanksgiving Day",
        Rule::Fixed(11, 23),
        1948,
        OPEN,
    ),
    def(
        "天皇誕生日",
        "The Emperor's Birthday",
        Rule::Fixed(12, 23),
        1989,
        2018,
    ),
];

/// The one-off days, each made a holiday (休日) by its own act.
const SPECIAL: &[(Date, &str, &str)] = &[
    // Act No. 16 of 1959.
    (
        Date::constant(1959, 4, 10),
        "皇太子明仁親王の結婚の儀",
        "The Wedding Ceremony of Crown Prince Akihito",
    ),
    // Act No. 4 of 1989.
    (
        Date::constant(1989, 2, 24),
        "昭和天皇の大喪の礼",
        "The Funeral Ceremony of Emperor Showa",
    ),
    // Act No. 24 of 1990.
    (
        Date::constant(1990, 11, 12),
        "即位礼正殿の儀",
        "The Ceremony of the Enthronement of Emperor Akihito",
    ),
    // Act No. 32 of 1993.
    (
        Date::constant(1993, 6, 9),
        "皇太子徳仁親王の結婚の儀",
        "The Wedding Ceremony of Crown Prince Naruhito",
    ),
    // Act No. 99 of 2018; deemed national holidays for Art. 3.
    (
        Date::constant(2019, 5, 1),
        "天皇の即位の日",
        "The Day of the Emperor's Enthronement",
    ),
    (
        Date::constant(2019, 10, 22),
        "即位礼正殿の儀",
        "The Ceremony of the Enthronement of Emperor Naruhito",
    ),
];

const SUBSTITUTE_NAME: (&str, &str) = ("振替休日", "Substitute Holiday");
const CITIZENS_NAME: (&str, &str) = ("国民の休日", "Citizens' Holiday");

/// The day of March or September of the equinox holiday, by the standard approximation
/// formula (floor(c + 0.242194 (y − 1980) − trunc((y − y0) / 4))), computed in millionths so
/// no floating-point rounding can move a day.
fn equinox_day(year: i16, vernal: bool) -> i8 {
    let y = i64::from(year);
    // (constant in millionths, leap-year base year) for each range of validity.
    let (c, base) = match (year, vernal) {
        (..=1979, true) => (20_835_700, 1983),
        (..=1979, false) => (23_258_800, 1983),
        (1980..=2099, true) => (20_843_100, 1980),
        (1980..=2099, false) => (23_248_800, 1980),
        (2100.., true) => (21_851_000, 1980),
        (2100.., false) => (24_248_800, 1980),
    };
    // Integer division truncates toward zero, as the formula's INT does.
    let leap = (y - base) / 4;
    let micro = c + 242_194 * (y - 1980) - leap * 1_000_000;
    i8::try_from(micro.div_euclid(1_000_000)).unwrap_or(0)
}

fn rule_date(year: i16, rule: Rule) -> Option<Date> {
    match rule {
        Rule::Fixed(m, d) => Date::new(year, m, d).ok(),
        Rule::NthMonday(m, nth) => Date::new(year, m, 1)
            .ok()?
            .nth_weekday_of_month(nth, Weekday::Monday)
            .ok(),
        Rule::VernalEquinox => Date::new(year, 3, equinox_day(year, true)).ok(),
        Rule::AutumnalEquinox => Date::new(year, 9, equinox_day(year, false)).ok(),
    }
}

fn holiday(
    date: Date,
    (name, name_en): (&'static str, &'static str),
    kind: HolidayKind,
) -> Holiday {
    Holiday {
        date,
        name,
        name_en,
        kind,
    }
}

/// Every holiday of `year`, sorted by date.
///
/// # Errors
/// [`CalendarError::YearOutOfRange`] for a year outside 1948–2150.
pub fn holidays(year: i16) -> Result<Vec<Holiday>, CalendarError> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(CalendarError::YearOutOfRange { year });
    }
    // Art. 2 and the special acts: the days that count as 国民の祝日 for Art. 3.
    let mut days: Vec<Holiday> = NATIONAL
        .iter()
        .filter(|d| (d.from..=d.to).contains(&year))
        .filter_map(|d| {
            let date = rule_date(year, d.rule)?;
            Some(holiday(date, (d.name, d.name_en), HolidayKind::National))
        })
        .chain(
            SPECIAL
                .iter()
                .filter(|(date, _, _)| date.year() == year)
                .map(|&(date, name, name_en)| holiday(date, (name, name_en), HolidayKind::Special)),
        )
        .filter(|h| h.date >= ACT_IN_FORCE)
        .collect();
    days.sort_by_key(|h| h.date);
    let national: Vec<Date> = days.iter().map(|h| h.date).collect();
    let is_national = |d: Date| national.binary_search(&d).is_ok();

    // Art. 3(2): 振替休日.
    let mut substitutes: Vec<Date> = Vec::new();
    for &d in &national {
        if d < SUBSTITUTE_FROM || d.weekday() != Weekday::Sunday {
            continue;
        }
        let Ok(mut next) = d.tomorrow() else {
            continue;
        };
        if d >= RULES_OF_2007_FROM {
            // "the nearest following day that is not a national holiday".
            while is_national(next) {
                let Ok(n) = next.tomorrow() else {
                    break;
                };
                next = n;
            }
        } else if is_national(next) {
            // Before 2007 only "the next day": when it is a holiday anyway, nothing is added.
            continue;
        }
        if !substitutes.contains(&next) {
            substitutes.push(next);
        }
    }

    // Art. 3(3): 国民の休日, a day between two national holidays.
    let mut citizens: Vec<Date> = Vec::new();
    for pair in national.windows(2) {
        let &[before, after] = pair else {
            continue;
        };
        let Ok(mid) = before.tomorrow() else {
            continue;
        };
        if mid.tomorrow().ok() != Some(after) || mid < CITIZENS_FROM || is_national(mid) {
            continue;
        }
        if substitutes.contains(&mid) {
            // Before 2007 the law excludes substitute days; from 2007 both make it a holiday,
            // and we name it by the substitute rule.
            continue;
        }
        if mid < RULES_OF_2007_FROM && mid.weekday() == Weekday::Sunday {
            continue;
        }
        citizens.push(mid);
    }

    days.extend(
        substitutes
            .into_iter()
            .map(|d| holiday(d, SUBSTITUTE_NAME, HolidayKind::Substitute)),
    );
    days.extend(
        citizens
            .into_iter()
            .map(|d| holiday(d, CITIZENS_NAME, HolidayKind::Citizens)),
    );
    days.sort_by_key(|h| h.date);
    Ok(days)
}

/// The holiday on `date`, if any. `None` also for dates outside 1948–2150, for which the
/// calendar knows no holidays.
pub fn holiday_on(date: Date) -> Option<Holiday> {
    holidays(date.year())
        .ok()?
        .into_iter()
        .find(|h| h.date == date)
}

/// The holiday dates of one year at a time, for loops that walk day by day.
pub(crate) struct HolidayCache {
    year: i16,
    dates: Vec<Date>,
}

impl HolidayCache {
    pub(crate) fn new() -> Self {
        // jiff years never reach i16::MIN, so the first lookup always fills the cache.
        HolidayCache {
            year: i16::MIN,
            dates: Vec::new(),
        }
    }

    /// Whether `date` is a holiday of any kind; false outside 1948–2150.
    pub(crate) fn is_holiday(&mut self, date: Date) -> bool {
        if date.year() != self.year {
            self.year = date.year();
            self.dates = holidays(self.year)
                .map(|v| v.into_iter().map(|h| h.date).collect())
                .unwrap_or_default();
        }
        self.dates.binary_search(&date).is_ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    fn on(y: i16, m: i8, day: i8) -> Option<(&'static str, HolidayKind)> {
        holiday_on(d(y, m, day)).map(|h| (h.name, h.kind))
    }

    #[test]
    fn years_outside_1948_to_2150_are_an_error() {
        assert_eq!(
            holidays(2151).unwrap_err().to_string(),
            "year 2151 is outside 1948–2150"
        );
        assert!(holidays(1947).is_err());
        assert!(holidays(1948).is_ok());
        assert!(holidays(2150).is_ok());
        assert_eq!(holiday_on(d(1947, 1, 1)), None);
    }

    #[test]
    fn the_act_applies_from_1948_07_20() {
        let dates: Vec<Date> = holidays(1948).unwrap().iter().map(|h| h.date).collect();
        assert_eq!(dates, vec![d(1948, 9, 23), d(1948, 11, 3), d(1948, 11, 23)]);
    }

    #[test]
    fn year_2026_matches_the_cabinet_office_list() {
        let got: Vec<(String, &str, HolidayKind)> = holidays(2026)
            .unwrap()
            .into_iter()
            .map(|h| (h.date.to_string(), h.name, h.kind))
            .collect();
        use HolidayKind::*;
        let want = vec![
            ("2026-01-01", "元日", National),
            ("2026-01-12", "成人の日", National),
            ("2026-02-11", "建国記念の日", National),
            ("2026-02-23", "天皇誕生日", National),
            ("2026-03-20", "春分の日", National),
            ("2026-04-29", "昭和の日", National),
            ("2026-05-03", "憲法記念日", National),
            ("2026-05-04", "みどりの日", National),
            ("2026-05-05", "こどもの日", National),
            ("2026-05-06", "振替休日", Substitute),
            ("2026-07-20", "海の日", National),
            ("2026-08-11", "山の日", National),
            ("2026-09-21", "敬老の日", National),
            ("2026-09-22", "国民の休日", Citizens),
            ("2026-09-23", "秋分の日", National),
            ("2026-10-12", "スポーツの日", National),
            ("2026-11-03", "文化の日", National),
            ("2026-11-23", "勤労感謝の日", National),
        ];
        let want: Vec<(String, &str, HolidayKind)> = want
            .into_iter()
            .map(|(a, b, c)| (a.to_string(), b, c))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn substitute_holiday_follows_a_sunday_holiday() {
        // 1973-04-29 (Sunday) was the first: the amendment came into force on 1973-04-12.
        assert_eq!(on(1973, 4, 30), Some(("振替休日", HolidayKind::Substitute)));
        // 1973-02-11 was a Sunday before the amendment: no substitute.
        assert_eq!(on(1973, 2, 12), None);
    }

    #[test]
    fn from_2007_the_substitute_is_the_next_non_holiday_day() {
        // 2008-05-04 (Sunday, みどりの日): 5-5 is こどもの日, so 5-6 is the substitute.
        assert_eq!(on(2008, 5, 6), Some(("振替休日", HolidayKind::Substitute)));
        // 2015-05-03 (Sunday): 5-4 and 5-5 are holidays, so 5-6.
        assert_eq!(on(2015, 5, 6), Some(("振替休日", HolidayKind::Substitute)));
    }

    #[test]
    fn before_2007_a_sunday_holiday_before_a_holiday_gives_no_substitute() {
        // 1997-05-04 was a Sunday between 5-3 and 5-5; not a citizens' holiday (Sunday), and
        // 5-3 (Saturday) gave nothing; 5-6 was a normal day.
        assert_eq!(on(1997, 5, 4), None);
        assert_eq!(on(1997, 5, 6), None);
    }

    #[test]
    fn citizens_holiday_is_a_day_between_two_holidays() {
        assert_eq!(on(1988, 5, 4), Some(("国民の休日", HolidayKind::Citizens)));
        assert_eq!(on(2009, 9, 22), Some(("国民の休日", HolidayKind::Citizens)));
        // Before the 1985 amendment, May 4 was a normal day.
        assert_eq!(on(1984, 5, 4), None);
        // 1986-05-04 was a Sunday; 1987-05-04 was the substitute for Sunday 5-3.
        assert_eq!(on(1986, 5, 4), None);
        assert_eq!(on(1987, 5, 4), Some(("振替休日", HolidayKind::Substitute)));
    }

    #[test]
    fn special_days_are_holidays_of_kind_special() {
        for (y, m, day, name) in [
            (1959, 4, 10, "皇太子明仁親王の結婚の儀"),
            (1989, 2, 24, "昭和天皇の大喪の礼"),
            (1990, 11, 12, "即位礼正殿の儀"),
            (1993, 6, 9, "皇太子徳仁親王の結婚の儀"),
            (2019, 5, 1, "天皇の即位の日"),
            (2019, 10, 22, "即位礼正殿の儀"),
        ] {
            assert_eq!(on(y, m, day), Some((name, HolidayKind::Special)));
        }
    }

    #[test]
    fn golden_week_2019_has_ten_days_off() {
        assert_eq!(on(2019, 4, 30), Some(("国民の休日", HolidayKind::Citizens)));
        assert_eq!(on(2019, 5, 2), Some(("国民の休日", HolidayKind::Citizens)));
        assert_eq!(on(2019, 5, 6), Some(("振替休日", HolidayKind::Substitute)));
        // No 天皇誕生日 in 2019.
        assert!(
            holidays(2019)
                .unwrap()
                .iter()
                .all(|h| h.name != "天皇誕生日")
        );
    }

    #[test]
    fn olympic_years_move_marine_sports_and_mountain_days() {
        assert_eq!(on(2020, 7, 23), Some(("海の日", HolidayKind::National)));
        assert_eq!(
            on(2020, 7, 24),
            Some(("スポーツの日", HolidayKind::National))
        );
        assert_eq!(on(2020, 8, 10), Some(("山の日", HolidayKind::National)));
        assert_eq!(on(2020, 10, 12), None);
        assert_eq!(on(2021, 7, 22), Some(("海の日", HolidayKind::National)));
        assert_eq!(
            on(2021, 7, 23),
            Some(("スポーツの日", HolidayKind::National))
        );
        assert_eq!(on(2021, 8, 8), Some(("山の日", HolidayKind::National)));
        assert_eq!(on(2021, 8, 9), Some(("振替休日", HolidayKind::Substitute)));
        assert_eq!(on(2021, 8, 11), None);
    }

    #[test]
    fn equinox_days_follow_the_almanac() {
        // Published by the National Astronomical Observatory of Japan.
        assert_eq!(on(2025, 3, 20).map(|x| x.0), Some("春分の日"));
        assert_eq!(on(2025, 9, 23).map(|x| x.0), Some("秋分の日"));
        assert_eq!(on(2012, 9, 22).map(|x| x.0), Some("秋分の日"));
        assert_eq!(on(1960, 3, 20).map(|x| x.0), Some("春分の日"));
        assert_eq!(on(1979, 9, 24).map(|x| x.0), Some("秋分の日"));
    }

    #[test]
    fn every_holiday_has_an_english_name() {
        for year in FIRST_YEAR..=LAST_YEAR {
            for h in holidays(year).unwrap() {
                assert!(!h.name_en.is_empty(), "{h:?}");
            }
        }
        assert_eq!(holiday_on(d(2026, 1, 1)).unwrap().name_en, "New Year's Day");
    }
}
