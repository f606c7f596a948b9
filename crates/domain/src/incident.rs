//! Must a breach (漏えい等) be reported to the Personal Information Protection Commission (PPC),
//! by when, and must the principals be told? (APPI 26; PPC rules (施行規則) Arts. 7, 8 and 10;
//! seed 003 Arts. 7(3) and 13(2).)
//!
//! - Rule 7 names the situations that must be reported ([`Ground`]): leakage, loss or damage
//!   (or its risk) of personal data that includes special-care-required information (item 1);
//!   of data whose misuse may cause property damage, such as card numbers or banking log-ins
//!   (item 2); caused by an act that may have been done for a wrongful purpose, including data
//!   the organization is acquiring or about to acquire (item 3); or of more than 1,000
//!   principals' data (item 4). Items 1-3 apply from one person; item 4 from 1,001.
//! - Rule 7 item 1 defines 個人データ for the whole article as excluding data protected by
//!   high-level encryption or other measures needed to protect the individuals' rights and
//!   interests (「高度な暗号化その他の個人の権利利益を保護するために必要な措置を講じたものを
//!   除く。以下この条及び次条第一項において同じ。」), so the exemption applies to all four
//!   items, the wrongful-purpose one included. It holds only while the key itself is safe: a
//!   leaked key means `high_level_encryption` is false.
//! - Deadlines (rule 8(1) and (2)): a preliminary report (速報) "promptly" — the PPC's guidelines
//!   say about 3 to 5 days, so a policy-set number of days, 5 by default — and a final report
//!   (確報) within 30 days, or 60 when item 3 applies, alone or with other grounds. The day the
//!   organization became aware is day 1, every day counts, and a last day on a Saturday,
//!   Sunday, national holiday or December 29 to January 3 moves to the next day that is none
//!   ([`mamori_calendar::ppc_deadline`]).
//! - The principals must be notified whenever the PPC must be (APPI 26(2)); where that is
//!   hard, a substitute measure (publication, an inquiry desk) protects them instead.
//!
//! Pure: facts in, an [`Assessment`] out; no clock (the date of awareness is a fact).

use std::fmt;

use jiff::civil::Date;
use mamori_calendar::ppc_deadline;
use serde::Serialize;
use serde_json::{Map, Value};

/// More than this many principals is a reportable situation by number alone (rule 7 item 4).
pub const PRINCIPALS_THRESHOLD: u64 = 1000;
/// The final report's deadline in days (rule 8(2)).
pub const FINAL_REPORT_DAYS: i64 = 30;
/// The final report's deadline when rule 7 item 3 (wrongful purpose) applies (rule 8(2)).
pub const FINAL_REPORT_DAYS_WRONGFUL_PURPOSE: i64 = 60;
/// The PPC's guidelines: the preliminary report within about 3 to 5 days; the outer bound.
pub const DEFAULT_PRELIMINARY_REPORT_DAYS: u32 = 5;

/// The keys of the facts, as `incident assess` reads them (DESIGN.md).
pub const FACT_KEYS: [&str; 6] = [
    "discovered_on",
    "principals_affected",
    "special_care_data",
    "financial_damage_risk",
    "wrongful_purpose",
    "high_level_encryption",
];

/// What is known about a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// The day the organization became aware of it (day 1 of every deadline).
    pub discovered_on: Date,
    /// How many principals' data was, or may have been, leaked, lost or damaged.
    pub principals_affected: u64,
    /// It includes special-care-required information (要配慮個人情報, APPI 2(3)).
    pub special_care_data: bool,
    /// Misuse may cause property damage (card numbers, banking log-ins).
    pub financial_damage_risk: bool,
    /// It may have been caused by an act done for a wrongful purpose (不正の目的): unauthorized
    /// access, ransomware, theft, an insider taking data out — also for data being acquired.
    pub wrongful_purpose: bool,
    /// The data was protected by high-level encryption (高度な暗号化) whose key is safe.
    pub high_level_encryption: bool,
}

/// A situation rule 7 makes reportable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// Rule 7 item 1.
    SpecialCareData,
    /// Rule 7 item 2.
    FinancialDamageRisk,
    /// Rule 7 item 3.
    WrongfulPurpose,
    /// Rule 7 item 4.
    #[serde(rename = "over_1000_principals")]
    Over1000Principals,
}

impl Ground {
    pub const ALL: [Ground; 4] = [
        Ground::SpecialCareData,
        Ground::FinancialDamageRisk,
        Ground::WrongfulPurpose,
        Ground::Over1000Principals,
    ];

    /// The stable id used in JSON and on the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Ground::SpecialCareData => "special_care_data",
            Ground::FinancialDamageRisk => "financial_damage_risk",
            Ground::WrongfulPurpose => "wrongful_purpose",
            Ground::Over1000Principals => "over_1000_principals",
        }
    }

    /// The rule it comes from.
    pub fn rule(self) -> &'static str {
        match self {
            Ground::SpecialCareData => "PPC rule 7(i) (規則第7条第1号)",
            Ground::FinancialDamageRisk => "PPC rule 7(ii) (規則第7条第2号)",
            Ground::WrongfulPurpose => "PPC rule 7(iii) (規則第7条第3号)",
            Ground::Over1000Principals => "PPC rule 7(iv) (規則第7条第4号)",
        }
    }

    /// The ground as the report states it.
    pub fn ja(self) -> &'static str {
        match self {
            Ground::SpecialCareData => "要配慮個人情報が含まれる個人データの漏えい等",
            Ground::FinancialDamageRisk => {
                "不正に利用されることにより財産的被害が生じるおそれがある個人データの漏えい等"
            }
            Ground::WrongfulPurpose => {
                "不正の目的をもって行われたおそれがある行為による個人データの漏えい等"
            }
            Ground::Over1000Principals => "本人の数が千人を超える個人データの漏えい等",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Ground::SpecialCareData => {
                "leakage etc. of personal data including special-care-required information"
            }
            Ground::FinancialDamageRisk => {
                "leakage etc. of personal data whose misuse may cause property damage"
            }
            Ground::WrongfulPurpose => {
                "leakage etc. by an act that may have been done for a wrongful purpose"
            }
            Ground::Over1000Principals => {
                "leakage etc. of the personal data of more than 1,000 principals"
            }
        }
    }

    pub fn parse(s: &str) -> Option<Ground> {
        Ground::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

impl fmt::Display for Ground {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision, in the shape `incident assess` prints (DESIGN.md): `{"reportable", "grounds",
/// "preliminary_due", "final_due", "notify_principals"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// The PPC must be told (APPI 26(1)).
    pub reportable: bool,
    /// The rule 7 items that apply, in rule order.
    pub grounds: Vec<Ground>,
    /// The preliminary report's target date (rule 8(1): promptly).
    pub preliminary_due: Date,
    /// The final report's deadline (rule 8(2)); `None` when nothing is to be reported.
    pub final_due: Option<Date>,
    /// The principals must be told, or a substitute measure taken (APPI 26(2), rule 10).
    pub notify_principals: bool,
    /// The grounds that would apply but for high-level encryption (rule 7 item 1's exclusion);
    /// not part of the fixed JSON shape.
    #[serde(skip)]
    pub exempted_by_encryption: Vec<Ground>,
}

impl Assessment {
    /// Why, one line per ground, citing the rule; for reports and `incident show`.
    pub fn reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .grounds
            .iter()
            .map(|g| format!("{}: {} ({})", g.as_str(), g.en(), g.rule()))
            .collect();
        for g in &self.exempted_by_encryption {
            out.push(format!(
                "{}: would apply, but the data was protected by high-level encryption (PPC rule 7(i): the exclusion applies to the whole article)",
                g.as_str()
            ));
        }
        if self.grounds.is_empty() && self.exempted_by_encryption.is_empty() {
            out.push(
                "no situation of PPC rule 7 applies: no report to the PPC is required (APPI 26(1)); record the response all the same (seed 003 Art. 13(2))"
                    .to_string(),
            );
        }
        out
    }
}

/// The grounds the facts meet before the encryption exemption, in rule order.
fn raw_grounds(f: &Facts) -> Vec<Ground> {
    let mut g = Vec::new();
    if f.special_care_data {
        g.push(Ground::SpecialCareData);
    }
    if f.financial_damage_risk {
        g.push(Ground::FinancialDamageRisk);
    }
    if f.wrongful_purpose {
        g.push(Ground::WrongfulPurpose);
    }
    if f.principals_affected > PRINCIPALS_THRESHOLD {
        g.push(Ground::Over1000Principals);
    }
    g
}

/// APPI 26 and rules 7-8 and 10: reportable or not, the grounds, the deadlines, and whether the
/// principals must be told. `preliminary_report_days` is the policy's target (1-5; the PPC's
/// guidelines say about 3 to 5 days).
pub fn assess(f: &Facts, preliminary_report_days: u32) -> Assessment {
    let raw = raw_grounds(f);
    // Rule 7 item 1: data under high-level encryption is not 個人データ for the whole article.
    let (grounds, exempted) = if f.high_level_encryption {
        (Vec::new(), raw)
    } else {
        (raw, Vec::new())
    };
    let reportable = !grounds.is_empty();
    // Rule 8(2): 60 days when item 3 applies, alone or with other grounds.
    let final_days = if grounds.contains(&Ground::WrongfulPurpose) {
        FINAL_REPORT_DAYS_WRONGFUL_PURPOSE
    } else {
        FINAL_REPORT_DAYS
    };
    Assessment {
        reportable,
        preliminary_due: ppc_deadline(f.discovered_on, i64::from(preliminary_report_days)),
        final_due: reportable.then(|| ppc_deadline(f.discovered_on, final_days)),
        notify_principals: reportable,
        grounds,
        exempted_by_encryption: exempted,
    }
}

/// A report not yet submitted is overdue once its due date has passed: the whole due day is
/// still in time. A final report submitted also stands for the preliminary one (the PPC's
/// guidelines allow one report to serve as both).
pub fn is_overdue(due: Option<Date>, submitted: bool, today: Date) -> bool {
    !submitted && due.is_some_and(|d| d < today)
}

/// Bad facts: one line naming the field, never quoting the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FactsError {
    pub field: String,
    pub problem: String,
}

fn err(field: &str, problem: impl Into<String>) -> FactsError {
    FactsError {
        field: field.to_string(),
        problem: problem.into(),
    }
}

fn get<'a>(o: &'a Map<String, Value>, key: &str, hint: &str) -> Result<&'a Value, FactsError> {
    match o.get(key) {
        None | Some(Value::Null) => Err(err(key, format!("is missing: {hint}"))),
        Some(v) => Ok(v),
    }
}

fn flag(o: &Map<String, Value>, key: &str) -> Result<bool, FactsError> {
    get(o, key, "give true or false")?
        .as_bool()
        .ok_or_else(|| err(key, "is not true or false"))
}

impl Facts {
    /// Reads the facts of DESIGN.md's `incident assess` from a JSON object. Every key is
    /// required; `extra` names further keys the caller reads itself (e.g. `description`);
    /// any other key is refused, so a misspelt fact is not silently ignored.
    ///
    /// # Errors
    /// [`FactsError`] naming the key: missing, of the wrong type, a negative or fractional
    /// count, a malformed date or one outside the years the calendar knows.
    pub fn from_json(v: &Value, extra: &[&str]) -> Result<Facts, FactsError> {
        let Some(o) = v.as_object() else {
            return Err(err(
                "facts",
                format!(
                    "not a JSON object: give {{{}}}",
                    FACT_KEYS
                        .iter()
                        .map(|k| format!("\"{k}\": …"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if let Some(k) = o
            .keys()
            .find(|k| !FACT_KEYS.contains(&k.as_str()) && !extra.contains(&k.as_str()))
        {
            // Shown escaped (`{:?}`), so the message stays one line whatever the key holds
            // (found by the fuzz target `incident_facts`).
            let shown: String = k.chars().take(40).collect();
            return Err(err(
                "facts",
                format!(
                    "unknown key {shown:?}: the facts are {}",
                    FACT_KEYS.join(", ")
                ),
            ));
        }
        let date = get(
            o,
            "discovered_on",
            "give the day the breach became known, YYYY-MM-DD",
        )?
        .as_str()
        .and_then(|s| mamori_calendar::parse_date(s).ok())
        .ok_or_else(|| {
            err(
                "discovered_on",
                "not a date: use YYYY-MM-DD such as 2026-04-01",
            )
        })?;
        if !(mamori_calendar::FIRST_YEAR..=mamori_calendar::LAST_YEAR).contains(&date.year()) {
            return Err(err(
                "discovered_on",
                format!(
                    "outside the years this calendar knows: give a date from {} to {}",
                    mamori_calendar::FIRST_YEAR,
                    mamori_calendar::LAST_YEAR
                ),
            ));
        }
        let count = get(
            o,
            "principals_affected",
            "give the number of people whose data is affected, 0 or more",
        )?;
        let principals_affected = match count.as_u64() {
            Some(n) => n,
            None if count.as_i64().is_some_and(|n| n < 0) => {
                return Err(err(
                    "principals_affected",
                    "is negative: give the number of people whose data is affected, 0 or more",
                ));
            }
            None => {
                return Err(err(
                    "principals_affected",
                    "is not a whole number: give the number of people whose data is affected, 0 or more",
                ));
            }
        };
        Ok(Facts {
            discovered_on: date,
            principals_affected,
            special_care_data: flag(o, "special_care_data")?,
            financial_damage_risk: flag(o, "financial_damage_risk")?,
            wrongful_purpose: flag(o, "wrongful_purpose")?,
            high_level_encryption: flag(o, "high_level_encryption")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// A breach known on Wednesday 2026-04-01 with no ground at all.
    fn none() -> Facts {
        Facts {
            discovered_on: d("2026-04-01"),
            principals_affected: 10,
            special_care_data: false,
            financial_damage_risk: false,
            wrongful_purpose: false,
            high_level_encryption: false,
        }
    }

    fn a(f: Facts) -> Assessment {
        assess(&f, DEFAULT_PRELIMINARY_REPORT_DAYS)
    }

    #[test]
    fn a_breach_meeting_no_ground_of_rule_7_is_not_reportable() {
        let r = a(none());
        assert!(!r.reportable);
        assert!(r.grounds.is_empty());
        assert_eq!(r.final_due, None);
        assert!(!r.notify_principals);
        // The preliminary target is still computed (DESIGN.md: a date, never null).
        assert_eq!(r.preliminary_due, d("2026-04-06"));
        assert!(r.reasons()[0].contains("no situation of PPC rule 7 applies"));
    }

    #[test]
    fn special_care_data_alone_is_reportable_under_rule_7_item_1_even_for_one_person() {
        let r = a(Facts {
            special_care_data: true,
            principals_affected: 1,
            ..none()
        });
        assert!(r.reportable);
        assert_eq!(r.grounds, vec![Ground::SpecialCareData]);
        assert_eq!(r.final_due, Some(d("2026-04-30")));
        assert!(r.notify_principals);
        assert!(r.reasons()[0].contains("PPC rule 7(i)"));
    }

    #[test]
    fn property_damage_risk_alone_is_reportable_under_rule_7_item_2() {
        let r = a(Facts {
            financial_damage_risk: true,
            principals_affected: 1,
            ..none()
        });
        assert_eq!(r.grounds, vec![Ground::FinancialDamageRisk]);
        assert_eq!(r.final_due, Some(d("2026-04-30")));
        assert!(r.reasons()[0].contains("PPC rule 7(ii)"));
    }

    #[test]
    fn a_wrongful_purpose_alone_is_reportable_under_rule_7_item_3_with_60_days() {
        // Known on Wed 2026-04-01: day 60 is Sat 2026-05-30 → Mon 06-01.
        let r = a(Facts {
            wrongful_purpose: true,
            principals_affected: 0,
            ..none()
        });
        assert!(r.reportable);
        assert_eq!(r.grounds, vec![Ground::WrongfulPurpose]);
        assert_eq!(r.final_due, Some(d("2026-06-01")));
        assert!(r.reasons()[0].contains("PPC rule 7(iii)"));
    }

    #[test]
    fn more_than_1000_principals_alone_is_reportable_under_rule_7_item_4() {
        let r = a(Facts {
            principals_affected: 5000,
            ..none()
        });
        assert_eq!(r.grounds, vec![Ground::Over1000Principals]);
        assert_eq!(r.final_due, Some(d("2026-04-30")));
        assert!(r.reasons()[0].contains("PPC rule 7(iv)"));
    }

    #[test]
    fn exactly_1000_principals_is_not_more_than_1000_but_1001_is() {
        let at = |n| {
            a(Facts {
                principals_affected: n,
                ..none()
            })
        };
        assert!(!at(999).reportable);
        assert!(!at(1000).reportable);
        assert!(at(1001).reportable);
        assert_eq!(at(1001).grounds, vec![Ground::Over1000Principals]);
    }

    #[test]
    fn grounds_combine_in_rule_order() {
        let r = a(Facts {
            special_care_data: true,
            financial_damage_risk: true,
            principals_affected: 1200,
            ..none()
        });
        assert_eq!(
            r.grounds,
            vec![
                Ground::SpecialCareData,
                Ground::FinancialDamageRisk,
                Ground::Over1000Principals
            ]
        );
        assert_eq!(r.final_due, Some(d("2026-04-30")));
        assert_eq!(r.reasons().len(), 3);
    }

    #[test]
    fn a_wrongful_purpose_with_other_grounds_still_gives_60_days() {
        for f in [
            Facts {
                wrongful_purpose: true,
                special_care_data: true,
                ..none()
            },
            Facts {
                wrongful_purpose: true,
                financial_damage_risk: true,
                ..none()
            },
            Facts {
                wrongful_purpose: true,
                principals_affected: 2000,
                ..none()
            },
            Facts {
                wrongful_purpose: true,
                special_care_data: true,
                financial_damage_risk: true,
                principals_affected: 2000,
                ..none()
            },
        ] {
            let r = a(f);
            assert!(r.grounds.contains(&Ground::WrongfulPurpose));
            assert_eq!(r.final_due, Some(d("2026-06-01")), "{f:?}");
        }
    }

    #[test]
    fn high_level_encryption_exempts_every_ground_of_rule_7() {
        // Rule 7 item 1 excludes data under high-level encryption from 個人データ "in this
        // article", so items 1 to 4 alike.
        for f in [
            Facts {
                special_care_data: true,
                ..none()
            },
            Facts {
                financial_damage_risk: true,
                ..none()
            },
            Facts {
                wrongful_purpose: true,
                ..none()
            },
            Facts {
                principals_affected: 100_000,
                ..none()
            },
            Facts {
                special_care_data: true,
                financial_damage_risk: true,
                wrongful_purpose: true,
                principals_affected: 100_000,
                ..none()
            },
        ] {
            let expected = raw_grounds(&f);
            let r = a(Facts {
                high_level_encryption: true,
                ..f
            });
            assert!(!r.reportable, "{f:?}");
            assert!(r.grounds.is_empty());
            assert_eq!(r.final_due, None);
            assert!(!r.notify_principals);
            assert_eq!(r.exempted_by_encryption, expected);
            assert!(
                r.reasons()
                    .iter()
                    .all(|l| l.contains("high-level encryption"))
            );
        }
    }

    #[test]
    fn encryption_without_any_ground_changes_nothing() {
        let r = a(Facts {
            high_level_encryption: true,
            ..none()
        });
        assert!(!r.reportable);
        assert!(r.exempted_by_encryption.is_empty());
    }

    #[test]
    fn the_preliminary_target_follows_the_policy_days() {
        // Known Monday 2026-04-06: day 3 is Wed 04-08, day 5 Fri 04-10.
        let f = Facts {
            discovered_on: d("2026-04-06"),
            special_care_data: true,
            ..none()
        };
        assert_eq!(assess(&f, 3).preliminary_due, d("2026-04-08"));
        assert_eq!(assess(&f, 5).preliminary_due, d("2026-04-10"));
        assert_eq!(assess(&f, 1).preliminary_due, d("2026-04-06"));
    }

    #[test]
    fn a_deadline_on_a_weekend_moves_to_monday() {
        // Known Wed 2026-04-01: day 5 is Sunday 04-05 → Monday 04-06.
        let f = Facts {
            special_care_data: true,
            ..none()
        };
        assert_eq!(a(f).preliminary_due, d("2026-04-06"));
        // Known Sunday 2026-04-05: day 30 is Monday 05-04 (みどりの日) → see Golden Week below;
        // known Fri 2026-10-02: day 30 is Saturday 10-31 → Monday 11-02.
        let f = Facts {
            discovered_on: d("2026-10-02"),
            special_care_data: true,
            ..none()
        };
        assert_eq!(a(f).final_due, Some(d("2026-11-02")));
    }

    #[test]
    fn a_deadline_in_golden_week_moves_past_the_holidays() {
        // Known Thu 2026-04-30: day 5 is Mon 05-04 みどりの日, then 05-05 こどもの日 and 05-06
        // 振替休日 → Thursday 05-07.
        let f = Facts {
            discovered_on: d("2026-04-30"),
            financial_damage_risk: true,
            ..none()
        };
        assert_eq!(a(f).preliminary_due, d("2026-05-07"));
        // Known Sun 2026-04-05: day 30 is Mon 05-04 → 05-07.
        let f = Facts {
            discovered_on: d("2026-04-05"),
            financial_damage_risk: true,
            ..none()
        };
        assert_eq!(a(f).final_due, Some(d("2026-05-07")));
    }

    #[test]
    fn a_deadline_in_the_year_end_closure_moves_to_january_4() {
        // Known Sat 2026-12-26: day 5 is Wed 12-30 → past 12-29..01-03 → Mon 2027-01-04.
        let f = Facts {
            discovered_on: d("2026-12-26"),
            special_care_data: true,
            ..none()
        };
        assert_eq!(a(f).preliminary_due, d("2027-01-04"));
        // Known Tue 2026-12-01: day 30 is Wed 12-30 → 2027-01-04.
        let f = Facts {
            discovered_on: d("2026-12-01"),
            special_care_data: true,
            ..none()
        };
        assert_eq!(a(f).final_due, Some(d("2027-01-04")));
        // Known Sun 2026-11-01 with a wrongful purpose: day 60 is Wed 12-30 → 2027-01-04.
        let f = Facts {
            discovered_on: d("2026-11-01"),
            wrongful_purpose: true,
            ..none()
        };
        assert_eq!(a(f).final_due, Some(d("2027-01-04")));
    }

    #[test]
    fn weekends_and_holidays_inside_the_period_are_counted() {
        // Known Mon 2026-04-27: day 30 is Tue 05-26 — Golden Week inside the period is counted.
        let f = Facts {
            discovered_on: d("2026-04-27"),
            special_care_data: true,
            ..none()
        };
        assert_eq!(a(f).final_due, Some(d("2026-05-26")));
    }

    #[test]
    fn the_json_shape_is_the_one_design_md_fixes() {
        let r = a(Facts {
            wrongful_purpose: true,
            principals_affected: 1001,
            ..none()
        });
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({
                "reportable": true,
                "grounds": ["wrongful_purpose", "over_1000_principals"],
                "preliminary_due": "2026-04-06",
                "final_due": "2026-06-01",
                "notify_principals": true,
            })
        );
        let r = a(none());
        assert_eq!(serde_json::to_value(&r).unwrap()["final_due"], Value::Null);
    }

    #[test]
    fn overdue_means_unsubmitted_and_past_the_due_day() {
        let due = Some(d("2026-04-06"));
        assert!(!is_overdue(due, false, d("2026-04-06")));
        assert!(is_overdue(due, false, d("2026-04-07")));
        assert!(!is_overdue(due, true, d("2026-05-01")));
        assert!(!is_overdue(None, false, d("2030-01-01")));
    }

    fn facts_json() -> Value {
        json!({
            "discovered_on": "2026-04-01",
            "principals_affected": 12,
            "special_care_data": false,
            "financial_damage_risk": true,
            "wrongful_purpose": false,
            "high_level_encryption": false,
        })
    }

    #[test]
    fn facts_are_read_from_the_design_md_json() {
        let f = Facts::from_json(&facts_json(), &[]).unwrap();
        assert_eq!(
            f,
            Facts {
                principals_affected: 12,
                financial_damage_risk: true,
                ..none()
            }
        );
        let mut v = facts_json();
        v["description"] = json!("x");
        assert!(Facts::from_json(&v, &["description"]).is_ok());
    }

    fn problem(v: Value) -> String {
        Facts::from_json(&v, &[]).unwrap_err().to_string()
    }

    #[test]
    fn every_missing_key_is_named() {
        for k in FACT_KEYS {
            let mut v = facts_json();
            v.as_object_mut().unwrap().remove(k);
            let m = problem(v);
            assert!(m.starts_with(&format!("{k}: is missing")), "{m}");
        }
    }

    #[test]
    fn bad_values_are_named_without_being_quoted() {
        let with = |k: &str, val: Value| {
            let mut v = facts_json();
            v[k] = val;
            problem(v)
        };
        assert_eq!(
            with("principals_affected", json!(-3)),
            "principals_affected: is negative: give the number of people whose data is affected, 0 or more"
        );
        assert!(
            with("principals_affected", json!(2.5))
                .starts_with("principals_affected: is not a whole number")
        );
        assert!(
            with("principals_affected", json!("ten"))
                .starts_with("principals_affected: is not a whole number")
        );
        assert_eq!(
            with("discovered_on", json!("Taro 2026")),
            "discovered_on: not a date: use YYYY-MM-DD such as 2026-04-01"
        );
        assert!(
            with("discovered_on", json!("2026-02-30")).starts_with("discovered_on: not a date")
        );
        assert!(
            with("discovered_on", json!("1900-01-01"))
                .starts_with("discovered_on: outside the years")
        );
        assert_eq!(
            with("wrongful_purpose", json!("yes")),
            "wrongful_purpose: is not true or false"
        );
        assert!(problem(json!([1, 2])).starts_with("facts: not a JSON object"));
        let mut v = facts_json();
        v["encrypted"] = json!(true);
        assert!(problem(v).starts_with("facts: unknown key \"encrypted\""));
        let mut v = facts_json();
        v["di\ngi-\ngisn"] = json!(0);
        let p = problem(v);
        assert!(
            p.starts_with("facts: unknown key \"di\\ngi-\\ngisn\""),
            "{p}"
        );
        assert!(!p.contains('\n'), "one line: {p}");
    }

    #[test]
    fn ground_ids_round_trip() {
        for g in Ground::ALL {
            assert_eq!(Ground::parse(g.as_str()), Some(g));
        }
        assert_eq!(Ground::parse("nope"), None);
    }
}
