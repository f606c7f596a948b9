//! Checks every holiday of 1949–2150 against independent public lists (see
//! `tests/data/make_fixture.py`): PyPI `holidays` for 1949–2099, PyPI `jpholiday` for
//! 2100–2150. Both the dates and the Japanese names must match, year by year.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use mamori_calendar::{Date, HolidayKind, holidays};

const OLD: &str = include_str!("data/holidays_1949_2099.csv");
const NEW: &str = include_str!("data/holidays_2100_2150.csv");

/// The fixture's year -> [(date, name)].
fn load(csv: &str) -> BTreeMap<i16, Vec<(Date, String)>> {
    let mut by_year: BTreeMap<i16, Vec<(Date, String)>> = BTreeMap::new();
    for line in csv.lines() {
        if line.starts_with('#') || line == "date,name" || line.is_empty() {
            continue;
        }
        let (date, name) = line.split_once(',').unwrap();
        let date: Date = date.parse().unwrap();
        by_year
            .entry(date.year())
            .or_default()
            .push((date, name.to_string()));
    }
    by_year
}

/// The fixture's short names for the one-off days, mapped to the names of their acts.
fn ours_in_fixture_words(date: Date, name: &str) -> String {
    match (date.to_string().as_str(), name) {
        ("1959-04-10", "皇太子明仁親王の結婚の儀") => "結婚の儀".into(),
        ("1993-06-09", "皇太子徳仁親王の結婚の儀") => "結婚の儀".into(),
        ("1989-02-24", "昭和天皇の大喪の礼") => "大喪の礼".into(),
        ("2019-10-22", "即位礼正殿の儀") => "即位礼正殿の儀が行われる日".into(),
        _ => name.to_string(),
    }
}

fn compare(csv: &str, first: i16, last: i16, known_differences: &[(&str, &str)]) {
    let fixture = load(csv);
    assert_eq!(fixture.keys().next(), Some(&first));
    assert_eq!(fixture.keys().last(), Some(&last));
    for year in first..=last {
        let want: Vec<(String, String)> = fixture
            .get(&year)
            .unwrap()
            .iter()
            .map(|(d, n)| (d.to_string(), n.clone()))
            .collect();
        let got: Vec<(String, String)> = holidays(year)
            .unwrap()
            .into_iter()
            .map(|h| (h.date.to_string(), ours_in_fixture_words(h.date, h.name)))
            .collect();
        if want == got {
            continue;
        }
        let only_want: Vec<_> = want.iter().filter(|x| !got.contains(x)).collect();
        let only_got: Vec<_> = got.iter().filter(|x| !want.contains(x)).collect();
        let explained = only_want
            .iter()
            .chain(only_got.iter())
            .all(|(d, _)| known_differences.iter().any(|(k, _)| k == d));
        assert!(
            explained,
            "{year}: fixture only {only_want:?}, computed only {only_got:?}"
        );
    }
}

#[test]
fn holidays_match_python_holidays_for_1949_to_2099() {
    compare(OLD, 1949, 2099, &[]);
}

#[test]
fn holidays_match_jpholiday_for_2100_to_2150() {
    // 2107: the approximation formula gives 秋分の日 on 09-24; jpholiday's astronomical
    // computation puts the equinox just before midnight JST on 09-23. The almanac will
    // decide; we keep the standard formula the issue asks for.
    compare(
        NEW,
        2100,
        2150,
        &[
            ("2107-09-23", "jpholiday: 秋分の日"),
            ("2107-09-24", "formula: 秋分の日"),
        ],
    );
}

#[test]
fn the_fixture_covers_every_kind() {
    let all: Vec<HolidayKind> = (1949..=2099)
        .flat_map(|y| holidays(y).unwrap())
        .map(|h| h.kind)
        .collect();
    for kind in [
        HolidayKind::National,
        HolidayKind::Substitute,
        HolidayKind::Citizens,
        HolidayKind::Special,
    ] {
        assert!(all.contains(&kind), "{kind:?}");
    }
}
