//! Policy as code: the organization's privacy policy as one checked TOML file.
//!
//! Everything Mamori publishes (the notice) and enforces (purposes, roles, recipients, retention,
//! windows, refund rules) is derived from a [`Policy`]. This crate parses and validates it
//! ([`Policy::parse`]), renders the public notice ([`notice`]) and classifies the changes between
//! two versions ([`diff`]). It is pure: no I/O but what the caller hands in, no clock.
//!
//! Seeds: 000 (Chiba City International Association) and 003 (Tokyo One Japanese Language
//! School); `docs/seeds.md` maps every article to the key that encodes it.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod diff;
pub mod model;
pub mod notice;
pub mod validate;

pub use model::*;

use std::fmt;

/// One thing wrong with a policy file: where (`channels[volunteer].retention`) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a policy file, each printed as `FILE: key.path: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", self.file, p)?;
        }
        Ok(())
    }
}

/// The built-in presets (DESIGN.md: their ids are part of the interface).
pub const PRESETS: [(&str, &str); 2] = [
    ("chiba-ia", include_str!("../../../policies/chiba-ia.toml")),
    (
        "tokyo-one",
        include_str!("../../../policies/tokyo-one.toml"),
    ),
];

/// The TOML text of a built-in preset.
pub fn preset(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Parse an ISO 8601 period such as `P3Y`, `P6M` or `P30D` (years, months, weeks, days).
pub fn parse_duration(s: &str) -> Result<jiff::Span, String> {
    let bad = || format!("\"{s}\" is not a period: use ISO 8601 such as P3Y, P6M or P30D");
    if !s.starts_with('P') || s.contains('T') {
        return Err(bad());
    }
    let span: jiff::Span = s.parse().map_err(|_| bad())?;
    if span.is_zero() || span.is_negative() {
        return Err(format!("\"{s}\" must be a positive period such as P3Y"));
    }
    Ok(span)
}

/// Parse a calendar date `YYYY-MM-DD`.
pub fn parse_ymd(s: &str) -> Result<jiff::civil::Date, String> {
    let ok_shape =
        s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') && s.as_bytes().get(7) == Some(&b'-');
    if !ok_shape {
        return Err(format!(
            "\"{s}\" is not a date: use YYYY-MM-DD such as 2026-04-01"
        ));
    }
    s.parse()
        .map_err(|_| format!("\"{s}\" is not a date: use YYYY-MM-DD such as 2026-04-01"))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Policy {
    /// Parse and validate a policy file. `file` names it in the problems reported.
    pub fn parse(text: &str, file: &str) -> Result<Policy, PolicyErrors> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let at = match e.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    format!("line {l}, column {c}")
                }
                None => "(file)".to_string(),
            };
            PolicyErrors {
                file: file.to_string(),
                problems: vec![Problem {
                    path: at,
                    message: e.message().trim().replace('\n', " "),
                }],
            }
        })?;
        let problems = validate::validate(&policy);
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(PolicyErrors {
                file: file.to_string(),
                problems,
            })
        }
    }

    /// The policy as TOML (what `policy show` prints and what is stored per version).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|x| x.id == id)
    }
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|x| x.id == id)
    }
    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|x| x.id == id)
    }
    pub fn recipient(&self, id: &str) -> Option<&Recipient> {
        self.recipients.iter().find(|x| x.id == id)
    }
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|x| x.id == id)
    }
    pub fn exception(&self, kind: ExceptionKind) -> Option<&Exception> {
        self.exceptions.iter().find(|x| x.kind == kind)
    }
    /// The ids of a table, for error messages that list what may be used.
    pub fn ids<'a, T>(items: &'a [T], id: impl Fn(&'a T) -> &'a str) -> String {
        items.iter().map(id).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_presets_check_clean() {
        for (name, text) in PRESETS {
            if let Err(e) = Policy::parse(text, name) {
                panic!("preset {name} has problems:\n{e}");
            }
        }
    }

    #[test]
    fn durations_accept_iso_periods_and_refuse_others() {
        assert!(parse_duration("P3Y").is_ok());
        assert!(parse_duration("P6M").is_ok());
        assert!(parse_duration("P30D").is_ok());
        assert!(parse_duration("3 years").unwrap_err().contains("ISO 8601"));
        assert!(parse_duration("PT3H").is_err());
        assert!(parse_duration("P0D").unwrap_err().contains("positive"));
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let e = Policy::parse("version = \n", "broken.toml").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("broken.toml: line 1"), "{s}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let text =
            preset("chiba-ia")
                .unwrap()
                .replacen("version =", "versoin = \"x\"\nversion =", 1);
        let s = Policy::parse(&text, "p.toml").unwrap_err().to_string();
        assert!(s.contains("versoin"), "{s}");
    }

    #[test]
    fn an_administrator_with_purposes_or_data_actions_fails_the_check() {
        for name in ["chiba-ia", "tokyo-one"] {
            let text = preset(name).unwrap();
            let admin = "actions = [\"staff\", \"policy\"]";
            assert!(text.contains(admin), "{name}");
            let read = text.replacen(
                admin,
                "actions = [\"staff\", \"policy\", \"read\", \"provide\"]",
                1,
            );
            let s = Policy::parse(&read, "p.toml").unwrap_err().to_string();
            assert!(
                s.contains(
                    "roles[admin].actions: read, provide handle personal data: the administrator"
                ),
                "{s}"
            );
            let purposed = text.replacen(
                admin,
                &format!("{admin}\npurposes = [\"inquiry_response\"]"),
                1,
            );
            let s = Policy::parse(&purposed, "p.toml").unwrap_err().to_string();
            assert!(s.contains("roles[admin].purposes: must be empty"), "{s}");
        }
    }

    #[test]
    fn a_role_that_manages_staff_holds_no_data_action() {
        let text = preset("chiba-ia").unwrap();
        let p = Policy::parse(text, "p.toml").unwrap();
        let clerk = p.role("clerk").unwrap();
        let actions: Vec<&str> = clerk.actions.iter().map(|a| a.as_str()).collect();
        let list = actions
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let with_staff = format!("{list}, \"staff\"");
        let changed = text.replacen(
            &format!("actions = [{list}]"),
            &format!("actions = [{with_staff}]"),
            1,
        );
        assert_ne!(changed, text, "the clerk's actions line was found");
        let s = Policy::parse(&changed, "p.toml").unwrap_err().to_string();
        assert!(s.contains("roles[clerk].purposes: must be empty"), "{s}");
        assert!(s.contains("roles[clerk].actions:"), "{s}");
        assert!(s.contains("handle personal data"), "{s}");
    }
}
