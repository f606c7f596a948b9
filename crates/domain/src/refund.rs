//! Tuition refunds: the school's 学費返還規定 (refund rules; seed 003, the end: Tokyo One
//! 学費返還規定, in force 令和2年4月1日) as a pure function of the case and the policy's
//! `[refunds]` table, so another school states its own rules in its policy file.
//!
//! The four clauses of seed 003, as the tokyo-one preset encodes them:
//! 1. 「在留資格認定証明書」が不交付の場合、選考料以外は返還する (`coe_not_issued`: everything but
//!    the screening fee is refunded);
//! 2. COE issued but no visa application at the embassy, or the visa refused (`visa_not_applied`,
//!    `visa_refused`): everything but the screening and admission fees;
//! 3. visa obtained, withdrawal before coming to Japan (`withdrew_before_arrival`): everything but
//!    the screening and admission fees;
//! 4. 中途退学 (`withdrew_after_enrollment`): 在籍期間を問わず、初期6ヶ月分の学費は返還しない;
//!    退学届けが出された学期の翌学期以降の学費は全額返還する. Other fees are kept (the preset's
//!    `retain` list: the clause speaks only of tuition; keeping them is the preset's choice).
//!
//! How a rule of the table decides each line ([`compute`]):
//! - a fee item in the rule's `retain` list is kept whole; any other item is refunded in full;
//! - tuition, when not in `retain`, is decided term by term. Term `t` of a course with terms of
//!   `m` months covers months `(t-1)·m+1 ..= t·m`. With `refund_terms_after_notice`, the term in
//!   which the withdrawal notice was submitted and every earlier term are not refunded (the
//!   clause refunds only "翌学期以降": the notice term itself is studied or begun); with
//!   `retain_first_months = N`, the months `1..=N` are never refunded, whatever the term;
//! - a term that straddles the end of month N is split pro rata by month: of what was paid for
//!   that term, the share of its months after month N is refunded and its line says so. The case
//!   carries only what was paid (not the term's full price), so the split is of what was paid;
//! - **rounding**: yen are integers; a pro-rata refund is rounded down to the yen and the school
//!   keeps the remainder (less than one yen per month of the term), so a refund never exceeds
//!   its share ([`tests::pro_rata_refund_is_rounded_down_and_the_school_keeps_the_remainder`]);
//! - only what was paid is refunded: every line's refund is at most what was paid for it, and
//!   `refund + retained` is the total paid.

use std::fmt;

use mamori_policy::{RefundRule, Refunds};
use serde::{Deserialize, Serialize};

/// The refund events (seed 003 学費返還規定; DESIGN.md `refund compute`).
pub const EVENTS: [&str; 5] = mamori_policy::validate::REFUND_EVENTS;

/// The fee items a case carries (DESIGN.md `refund compute` input `paid`).
pub const ITEMS: [&str; 4] = ["screening_fee", "admission_fee", "tuition", "other_fees"];

/// The largest amount one item may carry (¥1,000,000,000): keeps sums far from overflow.
pub const MAX_YEN: i64 = 1_000_000_000;

/// The longest course, in months (5 years).
pub const MAX_COURSE_MONTHS: u32 = 60;

/// Bad input: the field (as a JSON path) and what is wrong. Never a personal value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct RefundError {
    pub field: String,
    pub problem: String,
}

fn err(field: impl Into<String>, problem: impl Into<String>) -> RefundError {
    RefundError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The course: terms of `term_months` months, `terms` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    pub term_months: u32,
    pub terms: u32,
}

/// What was paid, per fee item, in yen (tuition per term, term 1 first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paid {
    pub screening_fee: i64,
    pub admission_fee: i64,
    pub tuition: Vec<i64>,
    pub other_fees: i64,
}

/// A refund case (DESIGN.md `refund compute` input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundCase {
    pub event: String,
    pub course: Course,
    pub paid: Paid,
    /// The term in which the withdrawal notice (退学届) was submitted, 1-based. Needed for
    /// `withdrew_after_enrollment`; checked when given for the other events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_notice_term: Option<u32>,
}

/// Why a line came out as it did; renders the explanation in either language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Why {
    /// The item is in the rule's `retain` list.
    Retained,
    /// The item is not in the rule's `retain` list.
    Refunded,
    /// Tuition of the notice term or an earlier term (not "翌学期以降").
    NoticeTermOrEarlier { term: u32, notice_term: u32 },
    /// Tuition of a term wholly within the first `months` months.
    FirstMonths { term: u32, months: u32 },
    /// Tuition of a term after the notice term and after the first months: refunded in full.
    AfterNotice { term: u32, notice_term: u32 },
    /// Tuition of a term refunded in full (no first-months or notice condition applies).
    TermRefunded { term: u32 },
    /// A term straddling the end of the first `months` months, split pro rata by month.
    Straddle {
        term: u32,
        first_month: u32,
        last_month: u32,
        months: u32,
        refunded_months: u32,
        term_months: u32,
    },
}

impl Why {
    /// The explanation of the line in Japanese (`ja`) or English.
    pub fn text(&self, ja: bool) -> String {
        match (*self, ja) {
            (Why::Retained, true) => "返還しない費目".into(),
            (Why::Retained, false) => "not refunded under this rule".into(),
            (Why::Refunded, true) => "全額返還".into(),
            (Why::Refunded, false) => "refunded in full".into(),
            (
                Why::NoticeTermOrEarlier {
                    term, notice_term, ..
                },
                true,
            ) => {
                if term == notice_term {
                    format!("第{term}学期は退学届けが出された学期のため返還しない")
                } else {
                    format!(
                        "第{term}学期は退学届けが出された第{notice_term}学期より前のため返還しない"
                    )
                }
            }
            (Why::NoticeTermOrEarlier { term, notice_term }, false) => {
                if term == notice_term {
                    format!(
                        "term {term} is the term in which the withdrawal notice was submitted: not refunded"
                    )
                } else {
                    format!(
                        "term {term} is before term {notice_term}, in which the withdrawal notice was submitted: not refunded"
                    )
                }
            }
            (Why::FirstMonths { term, months }, true) => {
                format!("第{term}学期は初期{months}ヶ月分の学費のため返還しない")
            }
            (Why::FirstMonths { term, months }, false) => {
                format!("term {term} is within the first {months} months: not refunded")
            }
            (Why::AfterNotice { term, notice_term }, true) => {
                format!(
                    "第{term}学期は退学届けが出された第{notice_term}学期の翌学期以降のため全額返還"
                )
            }
            (Why::AfterNotice { term, notice_term }, false) => format!(
                "term {term} is after term {notice_term}, in which the withdrawal notice was submitted: refunded in full"
            ),
            (Why::TermRefunded { term }, true) => format!("第{term}学期の学費は全額返還"),
            (Why::TermRefunded { term }, false) => format!("term {term}: refunded in full"),
            (
                Why::Straddle {
                    term,
                    first_month,
                    last_month,
                    months,
                    refunded_months,
                    term_months,
                },
                true,
            ) => format!(
                "第{term}学期({first_month}〜{last_month}ヶ月目)は初期{months}ヶ月の終わりをまたぐため月割り: {first_month}〜{months}ヶ月目は返還せず、{}〜{last_month}ヶ月目の分(納付額の{refunded_months}/{term_months}、円未満切り捨て)を返還",
                months + 1
            ),
            (
                Why::Straddle {
                    term,
                    first_month,
                    last_month,
                    months,
                    refunded_months,
                    term_months,
                },
                false,
            ) => format!(
                "term {term} (months {first_month}-{last_month}) straddles the end of the first {months} months and is split pro rata by month: months {first_month}-{months} are not refunded, months {}-{last_month} are ({refunded_months}/{term_months} of what was paid, rounded down to the yen)",
                months + 1
            ),
        }
    }
}

/// One line of the result: one fee item (tuition: one term).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub item: String,
    /// Tuition lines only: the term, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<u32>,
    pub paid: i64,
    pub refund: i64,
    /// The clause of the refund rules that decided the line (Japanese and English, from the
    /// policy's rule) and how it applied.
    pub rule: String,
    /// Structured form of the explanation, for statements in either language.
    #[serde(skip)]
    pub why: Option<Why>,
}

/// DESIGN.md `refund compute` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResult {
    pub refund: i64,
    pub retained: i64,
    pub lines: Vec<RefundLine>,
}

impl fmt::Display for RefundResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            let item = match l.term {
                Some(t) => format!("{} term {t}", l.item),
                None => l.item.clone(),
            };
            writeln!(f, "{item}\tpaid {}\trefund {}", l.paid, l.refund)?;
        }
        write!(f, "refund {}\tretained {}", self.refund, self.retained)
    }
}

fn as_int(v: &serde_json::Value, field: &str) -> Result<i64, RefundError> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().ok_or_else(|| {
            err(
                field,
                "is not a whole number of yen: give an integer such as 200000",
            )
        }),
        serde_json::Value::Null => Err(err(field, "is null: give a number (0 if nothing)")),
        _ => Err(err(
            field,
            "is not a number: give an integer such as 200000",
        )),
    }
}

fn as_count(v: Option<&serde_json::Value>, field: &str) -> Result<u32, RefundError> {
    let v = v.ok_or_else(|| err(field, "is missing: give a whole number"))?;
    let n = match v {
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    }
    .ok_or_else(|| err(field, "is not a whole number: give an integer such as 3"))?;
    u32::try_from(n).map_err(|_| err(field, "must be a whole number from 1"))
}

fn only_keys(
    obj: &serde_json::Map<String, serde_json::Value>,
    path: &str,
    keys: &[&str],
) -> Result<(), RefundError> {
    for k in obj.keys() {
        if !keys.contains(&k.as_str()) {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            return Err(err(
                field,
                format!("is not a field of a refund case: use {}", keys.join(", ")),
            ));
        }
    }
    Ok(())
}

impl RefundCase {
    /// Read a case from JSON (DESIGN.md shape), naming the field of any problem. Missing fee
    /// items count as 0; unknown fields are refused. The amounts are checked by [`compute`].
    pub fn from_json(v: &serde_json::Value) -> Result<RefundCase, RefundError> {
        let obj = v.as_object().ok_or_else(|| {
            err(
                "case",
                "is not a JSON object: give {\"event\", \"course\", \"paid\", \"withdrawal_notice_term\"}",
            )
        })?;
        only_keys(
            obj,
            "",
            &["event", "course", "paid", "withdrawal_notice_term"],
        )?;
        let event = obj
            .get("event")
            .and_then(|e| e.as_str())
            .ok_or_else(|| {
                err(
                    "event",
                    format!("is missing: use one of {}", EVENTS.join(", ")),
                )
            })?
            .to_string();
        let course = obj
            .get("course")
            .and_then(|c| c.as_object())
            .ok_or_else(|| {
                err(
                    "course",
                    "is missing: give {\"term_months\": N, \"terms\": N}",
                )
            })?;
        only_keys(course, "course", &["term_months", "terms"])?;
        let course = Course {
            term_months: as_count(course.get("term_months"), "course.term_months")?,
            terms: as_count(course.get("terms"), "course.terms")?,
        };
        let mut paid = Paid::default();
        match obj.get("paid") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(p)) => {
                only_keys(p, "paid", &ITEMS)?;
                if let Some(x) = p.get("screening_fee") {
                    paid.screening_fee = as_int(x, "paid.screening_fee")?;
                }
                if let Some(x) = p.get("admission_fee") {
                    paid.admission_fee = as_int(x, "paid.admission_fee")?;
                }
                if let Some(x) = p.get("other_fees") {
                    paid.other_fees = as_int(x, "paid.other_fees")?;
                }
                match p.get("tuition") {
                    None | Some(serde_json::Value::Null) => {}
                    Some(serde_json::Value::Array(list)) => {
                        for (i, x) in list.iter().enumerate() {
                            paid.tuition
                                .push(as_int(x, &format!("paid.tuition[{}]", i + 1))?);
                        }
                    }
                    Some(_) => {
                        return Err(err(
                            "paid.tuition",
                            "is not a list: give the amounts paid per term, term 1 first, e.g. [200000, 200000]",
                        ));
                    }
                }
            }
            Some(_) => {
                return Err(err(
                    "paid",
                    "is not an object: give {\"screening_fee\", \"admission_fee\", \"tuition\": [...], \"other_fees\"}",
                ));
            }
        }
        let withdrawal_notice_term = match obj.get("withdrawal_notice_term") {
            None | Some(serde_json::Value::Null) => None,
            Some(x) => Some(as_count(Some(x), "withdrawal_notice_term")?),
        };
        Ok(RefundCase {
            event,
            course,
            paid,
            withdrawal_notice_term,
        })
    }

    /// The total paid.
    pub fn total_paid(&self) -> i64 {
        self.paid.screening_fee
            + self.paid.admission_fee
            + self.paid.other_fees
            + self.paid.tuition.iter().sum::<i64>()
    }

    /// Check the case against itself and the policy's rules; returns the rule for its event.
    fn check<'a>(&self, refunds: &'a Refunds) -> Result<&'a RefundRule, RefundError> {
        if !EVENTS.contains(&self.event.as_str()) {
            return Err(err(
                "event",
                format!(
                    "{:?} is not a refund event: use one of {}",
                    self.event,
                    EVENTS.join(", ")
                ),
            ));
        }
        let rule = refunds
            .rules
            .iter()
            .find(|r| r.event == self.event)
            .ok_or_else(|| {
                err(
                    "event",
                    format!(
                        "the policy's refund rules have no rule for {}: add [[refunds.rules]] event = \"{}\"",
                        self.event, self.event
                    ),
                )
            })?;
        let c = self.course;
        if c.term_months == 0 {
            return Err(err(
                "course.term_months",
                "is 0: give the length of a term in months, e.g. 3",
            ));
        }
        if c.terms == 0 {
            return Err(err(
                "course.terms",
                "is 0: give the number of terms of the course, e.g. 4",
            ));
        }
        if c.term_months.saturating_mul(c.terms) > MAX_COURSE_MONTHS {
            return Err(err(
                "course",
                format!(
                    "{} terms of {} months exceed {MAX_COURSE_MONTHS} months: check term_months and terms",
                    c.terms, c.term_months
                ),
            ));
        }
        let amounts = [
            ("paid.screening_fee".to_string(), self.paid.screening_fee),
            ("paid.admission_fee".to_string(), self.paid.admission_fee),
            ("paid.other_fees".to_string(), self.paid.other_fees),
        ]
        .into_iter()
        .chain(
            self.paid
                .tuition
                .iter()
                .enumerate()
                .map(|(i, y)| (format!("paid.tuition[{}]", i + 1), *y)),
        );
        for (field, yen) in amounts {
            if yen < 0 {
                return Err(err(
                    field,
                    "is negative: give what was paid, in yen (0 if nothing)",
                ));
            }
            if yen > MAX_YEN {
                return Err(err(
                    field,
                    format!("is more than {MAX_YEN} yen: check the amount"),
                ));
            }
        }
        let entries = self.paid.tuition.len();
        if entries > c.terms as usize {
            return Err(err(
                "paid.tuition",
                format!(
                    "has {entries} entries for a course of {} terms: give one amount per term, term 1 first",
                    c.terms
                ),
            ));
        }
        match self.withdrawal_notice_term {
            Some(0) => {
                return Err(err(
                    "withdrawal_notice_term",
                    "is 0: terms are counted from 1",
                ));
            }
            Some(t) if t > c.terms => {
                return Err(err(
                    "withdrawal_notice_term",
                    format!("is {t}, after the course's last term ({})", c.terms),
                ));
            }
            None if rule.refund_terms_after_notice => {
                return Err(err(
                    "withdrawal_notice_term",
                    format!(
                        "is missing: {} needs the term in which the withdrawal notice was submitted",
                        self.event
                    ),
                ));
            }
            _ => {}
        }
        for (item, yen) in [
            ("screening_fee", self.paid.screening_fee),
            ("admission_fee", self.paid.admission_fee),
            ("other_fees", self.paid.other_fees),
            ("tuition", self.paid.tuition.iter().sum::<i64>()),
        ] {
            if yen > 0 && !refunds.items.iter().any(|i| i.id == item) {
                return Err(err(
                    format!("paid.{item}"),
                    format!("the policy's refunds.items has no {item}: add it, or leave it out"),
                ));
            }
        }
        Ok(rule)
    }
}

/// The citation of a rule on a line: the clause in Japanese and English, then how it applied.
fn cite(rule: &RefundRule, why: Why) -> String {
    format!(
        "学費返還規定「{}」 / Refund rules: \"{}\" — {}",
        rule.ja.trim(),
        rule.en.trim(),
        why.text(false)
    )
}

/// Decide one tuition term (see the module comment).
fn tuition_term(rule: &RefundRule, course: Course, notice: Option<u32>, term: u32) -> (u32, Why) {
    let m = course.term_months;
    if rule.retain.iter().any(|i| i == "tuition") {
        return (0, Why::Retained);
    }
    if rule.refund_terms_after_notice
        && let Some(n) = notice
        && term <= n
    {
        return (
            0,
            Why::NoticeTermOrEarlier {
                term,
                notice_term: n,
            },
        );
    }
    let first_month = (term - 1) * m + 1;
    let last_month = term * m;
    let months = rule.retain_first_months.unwrap_or(0);
    let retained_months = months.saturating_sub(first_month - 1).min(m);
    let refunded_months = m - retained_months;
    if refunded_months == 0 {
        return (0, Why::FirstMonths { term, months });
    }
    if retained_months > 0 {
        return (
            refunded_months,
            Why::Straddle {
                term,
                first_month,
                last_month,
                months,
                refunded_months,
                term_months: m,
            },
        );
    }
    match notice {
        Some(n) if rule.refund_terms_after_notice => (
            m,
            Why::AfterNotice {
                term,
                notice_term: n,
            },
        ),
        _ => (m, Why::TermRefunded { term }),
    }
}

/// Compute the refund for a case under the policy's refund rules (see the module comment for
/// the rules, the pro-rata split and the rounding).
pub fn compute(case: &RefundCase, refunds: &Refunds) -> Result<RefundResult, RefundError> {
    let rule = case.check(refunds)?;
    let mut lines = Vec::new();
    for (item, paid) in [
        ("screening_fee", case.paid.screening_fee),
        ("admission_fee", case.paid.admission_fee),
    ] {
        lines.push(simple_line(rule, item, paid));
    }
    for (i, paid) in case.paid.tuition.iter().enumerate() {
        let term = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (months, why) = tuition_term(rule, case.course, case.withdrawal_notice_term, term);
        // Floor of paid × months / term_months: the school keeps the remainder.
        let refund = paid.saturating_mul(i64::from(months)) / i64::from(case.course.term_months);
        lines.push(RefundLine {
            item: "tuition".into(),
            term: Some(term),
            paid: *paid,
            refund,
            rule: cite(rule, why),
            why: Some(why),
        });
    }
    lines.push(simple_line(rule, "other_fees", case.paid.other_fees));
    let refund: i64 = lines.iter().map(|l| l.refund).sum();
    let paid: i64 = lines.iter().map(|l| l.paid).sum();
    Ok(RefundResult {
        refund,
        retained: paid - refund,
        lines,
    })
}

fn simple_line(rule: &RefundRule, item: &str, paid: i64) -> RefundLine {
    let why = if rule.retain.iter().any(|i| i == item) {
        Why::Retained
    } else {
        Why::Refunded
    };
    RefundLine {
        item: item.into(),
        term: None,
        paid,
        refund: if why == Why::Retained { 0 } else { paid },
        rule: cite(rule, why),
        why: Some(why),
    }
}

/// Read a case from JSON and compute it: the `refund compute` use case.
pub fn compute_json(v: &serde_json::Value, refunds: &Refunds) -> Result<RefundResult, RefundError> {
    compute(&RefundCase::from_json(v)?, refunds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tokyo_one() -> Refunds {
        let text = mamori_policy::preset("tokyo-one").unwrap();
        mamori_policy::Policy::parse(text, "tokyo-one")
            .unwrap()
            .refunds
            .unwrap()
    }

    fn case(
        event: &str,
        term_months: u32,
        terms: u32,
        tuition: Vec<i64>,
        notice: Option<u32>,
    ) -> RefundCase {
        RefundCase {
            event: event.into(),
            course: Course { term_months, terms },
            paid: Paid {
                screening_fee: 20_000,
                admission_fee: 50_000,
                tuition,
                other_fees: 30_000,
            },
            withdrawal_notice_term: notice,
        }
    }

    fn run(c: &RefundCase) -> RefundResult {
        compute(c, &tokyo_one()).unwrap()
    }

    fn line<'a>(r: &'a RefundResult, item: &str) -> &'a RefundLine {
        r.lines
            .iter()
            .find(|l| l.item == item && l.term.is_none())
            .unwrap()
    }

    fn term(r: &RefundResult, t: u32) -> &RefundLine {
        r.lines.iter().find(|l| l.term == Some(t)).unwrap()
    }

    fn refunds_of_terms(r: &RefundResult) -> Vec<i64> {
        r.lines
            .iter()
            .filter(|l| l.term.is_some())
            .map(|l| l.refund)
            .collect()
    }

    fn invariants(c: &RefundCase, r: &RefundResult) {
        assert_eq!(r.refund + r.retained, c.total_paid(), "{c:?}");
        assert_eq!(r.refund, r.lines.iter().map(|l| l.refund).sum::<i64>());
        for l in &r.lines {
            assert!(l.refund >= 0 && l.refund <= l.paid, "{l:?}");
            assert!(l.rule.contains("学費返還規定「"), "{}", l.rule);
            assert!(l.rule.contains("Refund rules: \""), "{}", l.rule);
        }
    }

    // ---- clause 1: COE not issued ----------------------------------------------------------

    #[test]
    fn coe_not_issued_refunds_everything_but_the_screening_fee() {
        for (m, terms) in [(3, 4), (3, 8), (6, 2), (6, 4), (4, 3)] {
            let c = case(
                "coe_not_issued",
                m,
                terms,
                vec![200_000; terms as usize],
                None,
            );
            let r = run(&c);
            invariants(&c, &r);
            assert_eq!(line(&r, "screening_fee").refund, 0);
            assert_eq!(line(&r, "admission_fee").refund, 50_000);
            assert_eq!(line(&r, "other_fees").refund, 30_000);
            assert!(refunds_of_terms(&r).iter().all(|y| *y == 200_000));
            assert_eq!(r.retained, 20_000);
            assert!(
                line(&r, "screening_fee")
                    .rule
                    .contains("選考料以外は返還する")
            );
            assert!(line(&r, "screening_fee").rule.contains("not refunded"));
        }
    }

    // ---- clause 2: COE issued, no visa application / visa refused ---------------------------

    #[test]
    fn coe_issued_without_visa_application_refunds_everything_but_screening_and_admission_fees() {
        for (m, terms) in [(3, 4), (3, 8), (6, 2), (6, 4)] {
            let c = case("visa_not_applied", m, terms, vec![150_000, 150_000], None);
            let r = run(&c);
            invariants(&c, &r);
            assert_eq!(line(&r, "screening_fee").refund, 0);
            assert_eq!(line(&r, "admission_fee").refund, 0);
            assert_eq!(line(&r, "other_fees").refund, 30_000);
            assert_eq!(refunds_of_terms(&r), vec![150_000, 150_000]);
            assert_eq!(r.retained, 70_000);
            assert!(term(&r, 1).rule.contains("留学ビザの手続きをしていない"));
        }
    }

    #[test]
    fn visa_refused_refunds_everything_but_screening_and_admission_fees() {
        for (m, terms) in [(3, 4), (3, 8), (6, 2), (6, 4)] {
            let c = case("visa_refused", m, terms, vec![400_000], None);
            let r = run(&c);
            invariants(&c, &r);
            assert_eq!(r.refund, 400_000 + 30_000);
            assert_eq!(r.retained, 70_000);
            assert!(line(&r, "admission_fee").rule.contains("ビザが不交付"));
        }
    }

    // ---- clause 3: visa obtained, withdrew before arrival -----------------------------------

    #[test]
    fn withdrawal_before_arrival_refunds_everything_but_screening_and_admission_fees() {
        for (m, terms) in [(3, 4), (3, 8), (6, 2), (6, 4)] {
            let c = case("withdrew_before_arrival", m, terms, vec![300_000; 2], None);
            let r = run(&c);
            invariants(&c, &r);
            assert_eq!(r.refund, 600_000 + 30_000);
            assert_eq!(line(&r, "admission_fee").refund, 0);
            assert!(
                line(&r, "admission_fee")
                    .rule
                    .contains("来日前に入学を辞退")
            );
        }
    }

    // ---- clause 4: withdrawal after enrollment ----------------------------------------------

    /// Expected tuition refunds for full payment of `per_term` each term, by the clause read
    /// literally: months 1..=6 never; terms after the notice term in full; straddling split.
    fn expected(m: u32, terms: u32, notice: u32, per_term: i64) -> Vec<i64> {
        (1..=terms)
            .map(|t| {
                if t <= notice {
                    return 0;
                }
                let first = (t - 1) * m + 1;
                let refundable = (first..=t * m).filter(|month| *month > 6).count() as i64;
                per_term * refundable / i64::from(m)
            })
            .collect()
    }

    #[test]
    fn withdrawal_in_every_term_with_3_month_terms_one_and_two_year_courses() {
        for terms in [4, 8] {
            for notice in 1..=terms {
                let c = case(
                    "withdrew_after_enrollment",
                    3,
                    terms,
                    vec![210_000; terms as usize],
                    Some(notice),
                );
                let r = run(&c);
                invariants(&c, &r);
                assert_eq!(
                    refunds_of_terms(&r),
                    expected(3, terms, notice, 210_000),
                    "terms {terms} notice {notice}"
                );
                // Terms 1 and 2 are the first six months: never refunded.
                assert_eq!(term(&r, 1).refund, 0);
                assert_eq!(term(&r, 2).refund, 0);
                assert_eq!(line(&r, "admission_fee").refund, 0);
                assert_eq!(line(&r, "other_fees").refund, 0);
            }
        }
    }

    #[test]
    fn withdrawal_in_every_term_with_6_month_terms_one_and_two_year_courses() {
        for terms in [2, 4] {
            for notice in 1..=terms {
                let c = case(
                    "withdrew_after_enrollment",
                    6,
                    terms,
                    vec![420_000; terms as usize],
                    Some(notice),
                );
                let r = run(&c);
                invariants(&c, &r);
                assert_eq!(refunds_of_terms(&r), expected(6, terms, notice, 420_000));
                assert_eq!(term(&r, 1).refund, 0);
                for t in 2..=terms {
                    assert_eq!(term(&r, t).refund, if t > notice { 420_000 } else { 0 });
                }
            }
        }
    }

    #[test]
    fn withdrawal_in_second_term_refunds_terms_after_the_first_six_months() {
        // 3-month terms, 1 year: notice in term 2 → terms 3 and 4 refunded in full.
        let c = case("withdrew_after_enrollment", 3, 4, vec![210_000; 4], Some(2));
        let r = run(&c);
        assert_eq!(refunds_of_terms(&r), vec![0, 0, 210_000, 210_000]);
        assert!(term(&r, 3).rule.contains("after term 2"));
        assert!(
            term(&r, 2)
                .rule
                .contains("is the term in which the withdrawal notice")
        );
        assert!(term(&r, 1).rule.contains("初期6ヶ月分の学費は返還しない"));
    }

    #[test]
    fn withdrawal_in_the_first_term_keeps_the_first_six_months_whatever_the_time_enrolled() {
        // 3-month terms: notice in term 1; term 2 (months 4-6) is after the notice term but within
        // the first six months, so it is not refunded.
        let c = case("withdrew_after_enrollment", 3, 4, vec![210_000; 4], Some(1));
        let r = run(&c);
        assert_eq!(refunds_of_terms(&r), vec![0, 0, 210_000, 210_000]);
        assert!(term(&r, 2).rule.contains("within the first 6 months"));
        assert_eq!(
            term(&r, 2).why,
            Some(Why::FirstMonths { term: 2, months: 6 })
        );
    }

    #[test]
    fn a_term_straddling_the_sixth_month_is_split_pro_rata_by_month_and_says_so() {
        // 4-month terms: term 2 covers months 5-8; months 5-6 kept, 7-8 refunded.
        for notice in 1..=3 {
            let c = case(
                "withdrew_after_enrollment",
                4,
                3,
                vec![280_000; 3],
                Some(notice),
            );
            let r = run(&c);
            invariants(&c, &r);
            assert_eq!(refunds_of_terms(&r), expected(4, 3, notice, 280_000));
        }
        let r = run(&case(
            "withdrew_after_enrollment",
            4,
            3,
            vec![280_000; 3],
            Some(1),
        ));
        assert_eq!(refunds_of_terms(&r), vec![0, 140_000, 280_000]);
        let l = term(&r, 2);
        assert!(l.rule.contains("months 5-8"), "{}", l.rule);
        assert!(l.rule.contains("split pro rata by month"), "{}", l.rule);
        assert!(l.rule.contains("2/4"), "{}", l.rule);
        assert!(l.why.unwrap().text(true).contains("月割り"));
        // Notice in term 2: the straddling term is the notice term: not refunded at all.
        let r = run(&case(
            "withdrew_after_enrollment",
            4,
            3,
            vec![280_000; 3],
            Some(2),
        ));
        assert_eq!(refunds_of_terms(&r), vec![0, 0, 280_000]);
        // 4-month terms over two years.
        let c = case("withdrew_after_enrollment", 4, 6, vec![280_000; 6], Some(1));
        let r = run(&c);
        assert_eq!(
            refunds_of_terms(&r),
            vec![0, 140_000, 280_000, 280_000, 280_000, 280_000]
        );
    }

    #[test]
    fn pro_rata_refund_is_rounded_down_and_the_school_keeps_the_remainder() {
        // 4-month term 2 of ¥100,001: 2/4 of it is ¥50,000.5 → ¥50,000 refunded, ¥50,001 kept.
        let c = case("withdrew_after_enrollment", 4, 3, vec![0, 100_001], Some(1));
        let r = run(&c);
        assert_eq!(term(&r, 2).refund, 50_000);
        invariants(&c, &r);
        // 5-month terms: term 2 covers months 6-10: 4/5 refunded; ¥99,999 × 4/5 = 79,999.2.
        let c = case("withdrew_after_enrollment", 5, 2, vec![0, 99_999], Some(1));
        let r = run(&c);
        assert_eq!(term(&r, 2).refund, 79_999);
        assert!(term(&r, 2).rule.contains("4/5"));
    }

    #[test]
    fn only_what_was_paid_is_refunded_partial_payments() {
        // Two of four terms paid, the second only in part.
        let c = case(
            "withdrew_after_enrollment",
            3,
            4,
            vec![210_000, 210_000, 100_000],
            Some(2),
        );
        let r = run(&c);
        invariants(&c, &r);
        assert_eq!(refunds_of_terms(&r), vec![0, 0, 100_000]);
        assert_eq!(r.lines.iter().filter(|l| l.term.is_some()).count(), 3);
        // Straddling partial payment: pro rata of what was paid.
        let c = case(
            "withdrew_after_enrollment",
            4,
            3,
            vec![280_000, 100_000],
            Some(1),
        );
        assert_eq!(refunds_of_terms(&run(&c)), vec![0, 50_000]);
        // Before arrival: only what was paid comes back.
        let c = case("withdrew_before_arrival", 3, 8, vec![210_000], None);
        let r = run(&c);
        assert_eq!(r.refund, 210_000 + 30_000);
    }

    #[test]
    fn zero_payments_refund_nothing() {
        for ev in EVENTS {
            let c = RefundCase {
                event: ev.into(),
                course: Course {
                    term_months: 3,
                    terms: 4,
                },
                paid: Paid::default(),
                withdrawal_notice_term: Some(1),
            };
            let r = run(&c);
            assert_eq!((r.refund, r.retained), (0, 0));
            assert_eq!(r.lines.len(), 3);
        }
    }

    #[test]
    fn refund_plus_retained_is_what_was_paid_in_every_case() {
        let amounts = [0, 1, 3, 99_999, 100_001, 333_333];
        for ev in EVENTS {
            for m in [1, 2, 3, 4, 5, 6, 12] {
                for terms in [1, 2, 3, 4] {
                    for notice in 1..=terms {
                        for a in amounts {
                            let tuition: Vec<i64> = (0..terms).map(|i| a + i64::from(i)).collect();
                            let c = RefundCase {
                                event: ev.into(),
                                course: Course {
                                    term_months: m,
                                    terms,
                                },
                                paid: Paid {
                                    screening_fee: a,
                                    admission_fee: a + 1,
                                    tuition,
                                    other_fees: a + 2,
                                },
                                withdrawal_notice_term: Some(notice),
                            };
                            invariants(&c, &run(&c));
                        }
                    }
                }
            }
        }
    }

    // ---- the JSON shape -------------------------------------------------------------------

    #[test]
    fn the_json_shape_is_the_design_shape() {
        let v = json!({"event": "withdrew_after_enrollment", "course": {"term_months": 3, "terms": 4},
            "paid": {"screening_fee": 20000, "admission_fee": 50000, "tuition": [210000, 210000, 210000], "other_fees": 30000},
            "withdrawal_notice_term": 2});
        let r = compute_json(&v, &tokyo_one()).unwrap();
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["refund"], 210_000);
        assert_eq!(out["retained"], 20_000 + 50_000 + 420_000 + 30_000);
        let first = out["lines"][0].as_object().unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(keys, ["item", "paid", "refund", "rule"]);
        assert_eq!(out["lines"][2]["item"], "tuition");
        assert_eq!(out["lines"][2]["term"], 1);
    }

    // ---- bad input -----------------------------------------------------------------------

    fn bad(v: serde_json::Value) -> RefundError {
        compute_json(&v, &tokyo_one()).unwrap_err()
    }

    fn base() -> serde_json::Value {
        json!({"event": "withdrew_after_enrollment", "course": {"term_months": 3, "terms": 4},
            "paid": {"screening_fee": 20000, "admission_fee": 50000, "tuition": [210000], "other_fees": 0},
            "withdrawal_notice_term": 1})
    }

    fn with(path: &[&str], value: serde_json::Value) -> serde_json::Value {
        let mut v = base();
        let mut cur = &mut v;
        for p in &path[..path.len() - 1] {
            cur = &mut cur[*p];
        }
        cur[path[path.len() - 1]] = value;
        v
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(
            bad(with(&["paid", "screening_fee"], json!(-1))).field,
            "paid.screening_fee"
        );
        assert_eq!(
            bad(with(&["paid", "tuition"], json!([1, -5]))).field,
            "paid.tuition[2]"
        );
        assert_eq!(
            bad(with(&["paid", "tuition"], json!([1, 1, 1, 1, 1]))).field,
            "paid.tuition"
        );
        assert_eq!(
            bad(with(&["paid", "tuition"], json!(5))).field,
            "paid.tuition"
        );
        assert_eq!(
            bad(with(&["paid", "other_fees"], json!(1.5))).field,
            "paid.other_fees"
        );
        assert_eq!(
            bad(with(&["paid", "other_fees"], json!("3000"))).field,
            "paid.other_fees"
        );
        assert_eq!(bad(with(&["paid", "card"], json!(1))).field, "paid.card");
        assert_eq!(
            bad(with(&["withdrawal_notice_term"], json!(0))).field,
            "withdrawal_notice_term"
        );
        assert_eq!(
            bad(with(&["withdrawal_notice_term"], json!(5))).field,
            "withdrawal_notice_term"
        );
        assert_eq!(
            bad(with(&["withdrawal_notice_term"], json!(-1))).field,
            "withdrawal_notice_term"
        );
        assert_eq!(
            bad(with(&["withdrawal_notice_term"], json!(null))).field,
            "withdrawal_notice_term"
        );
        assert_eq!(bad(with(&["event"], json!("expelled"))).field, "event");
        assert!(
            bad(with(&["event"], json!("expelled")))
                .problem
                .contains("coe_not_issued")
        );
        assert_eq!(
            bad(with(&["course", "term_months"], json!(0))).field,
            "course.term_months"
        );
        assert_eq!(
            bad(with(&["course", "terms"], json!(0))).field,
            "course.terms"
        );
        assert_eq!(bad(with(&["course", "terms"], json!(100))).field, "course");
        assert_eq!(
            bad(with(&["course", "weeks"], json!(1))).field,
            "course.weeks"
        );
        assert_eq!(
            bad(with(&["paid", "admission_fee"], json!(MAX_YEN + 1))).field,
            "paid.admission_fee"
        );
        assert_eq!(bad(json!([1, 2])).field, "case");
        assert_eq!(
            bad(json!({"course": {"term_months": 3, "terms": 4}})).field,
            "event"
        );
        assert_eq!(bad(json!({"event": "visa_refused"})).field, "course");
        let e = bad(with(&["paid", "screening_fee"], json!(-1)));
        assert_eq!(
            e.to_string(),
            "paid.screening_fee: is negative: give what was paid, in yen (0 if nothing)"
        );
    }

    #[test]
    fn a_policy_without_a_rule_for_the_event_is_named() {
        let mut r = tokyo_one();
        r.rules.retain(|x| x.event != "visa_refused");
        let e = compute_json(&with(&["event"], json!("visa_refused")), &r).unwrap_err();
        assert_eq!(e.field, "event");
        assert!(e.problem.contains("no rule for visa_refused"));
    }

    #[test]
    fn another_school_states_its_own_rules() {
        // A school that keeps the first 3 months and refunds the rest regardless of the notice,
        // and keeps its admission fee on a refused COE.
        let mut r = tokyo_one();
        for rule in &mut r.rules {
            if rule.event == "withdrew_after_enrollment" {
                rule.retain_first_months = Some(3);
                rule.refund_terms_after_notice = false;
            }
            if rule.event == "coe_not_issued" {
                rule.retain = vec!["screening_fee".into(), "admission_fee".into()];
            }
        }
        let c = case("withdrew_after_enrollment", 2, 4, vec![100_000; 4], Some(3));
        let out = compute(&c, &r).unwrap();
        assert_eq!(refunds_of_terms(&out), vec![0, 50_000, 100_000, 100_000]);
        let c = case("coe_not_issued", 3, 4, vec![100_000], None);
        assert_eq!(compute(&c, &r).unwrap().refund, 100_000 + 30_000);
    }
}
