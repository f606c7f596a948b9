//! Checks a parsed policy and reports every problem at once, as `key.path: what is wrong`.
//!
//! The checks are the promises the seeds and APPI require a policy to make (each cites its rule):
//! ids unique and every reference defined; every channel with purposes and a retention period
//! (seed 000 Arts. 4, 8-4; seed 003 Arts. 8, 16); special-care categories only with consent
//! (APPI 20(2)); entrustment contracts with the six clauses of seed 003 Art. 18; foreign
//! recipients with an APPI 28 basis; and the items APPI 32(1) requires to be knowable.

use std::collections::{BTreeMap, HashSet};

use crate::model::{Action, ForeignBasis, Policy, RecipientKind, Text};
use crate::{Problem, parse_duration, parse_ymd};

/// The refund events the school's rules may name (seed 003 学費返還規定; DESIGN.md refund input).
pub const REFUND_EVENTS: [&str; 5] = [
    "coe_not_issued",
    "visa_not_applied",
    "visa_refused",
    "withdrew_before_arrival",
    "withdrew_after_enrollment",
];

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, path: &str, ja: &str, en: &str) {
        if ja.trim().is_empty() {
            self.add(format!("{path}.ja"), "is empty: write the Japanese text");
        }
        if en.trim().is_empty() {
            self.add(format!("{path}.en"), "is empty: write the English text");
        }
    }

    fn both(&mut self, path: &str, t: &Text) {
        self.text(path, &t.ja, &t.en);
    }

    /// Ids are lower-case snake case so they can be typed on a command line and used in URLs.
    fn ids<'a>(&mut self, table: &str, ids: impl Iterator<Item = &'a str>) -> HashSet<&'a str> {
        let mut seen = HashSet::new();
        for (i, id) in ids.enumerate() {
            let ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                self.add(
                    format!("{table}[{i}].id"),
                    format!("\"{id}\" is not a valid id: use lower-case letters, digits and _ (e.g. registration_contact)"),
                );
            }
            if !seen.insert(id) {
                self.add(
                    format!("{table}[{id}].id"),
                    format!("\"{id}\" is defined twice: ids must be unique"),
                );
            }
        }
        seen
    }

    fn refs(&mut self, path: &str, kind: &str, names: &[String], defined: &HashSet<&str>) {
        for n in names {
            if !defined.contains(n.as_str()) {
                self.add(
                    path,
                    format!(
                        "{kind} \"{n}\" is not defined: add it to [[{kind}s]] or remove it here"
                    ),
                );
            }
        }
    }

    fn duration(&mut self, path: &str, value: &str) {
        if let Err(e) = parse_duration(value) {
            self.add(path, e);
        }
    }

    fn date(&mut self, path: &str, value: &str) {
        if let Err(e) = parse_ymd(value) {
            self.add(path, e);
        }
    }
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn parse_month_day(s: &str) -> Option<(u8, u8)> {
    let (m, d) = s.split_once('-')?;
    let m: u8 = m.parse().ok()?;
    let d: u8 = d.parse().ok()?;
    let max = match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    (d >= 1 && d <= max).then_some((m, d))
}

/// Every problem in the policy, in file order as far as possible; empty when it checks clean.
pub fn validate(p: &Policy) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };

    c.date("version", &p.version);

    // APPI 32(1)(i): name, address and representative must be knowable to the principal.
    let o = &p.organization;
    c.both("organization.name", &o.name);
    c.both("organization.address", &o.address);
    c.both("organization.representative", &o.representative);
    c.both("organization.manager", &o.manager);
    c.both("organization.contact_window", &o.contact_window);
    if o.phone.trim().is_empty() {
        c.add(
            "organization.phone",
            "is empty: give the contact telephone number",
        );
    }
    if let Some(d) = &o.established {
        c.date("organization.established", d);
    }

    let purposes = c.ids("purposes", p.purposes.iter().map(|x| x.id.as_str()));
    let categories = c.ids("categories", p.categories.iter().map(|x| x.id.as_str()));
    let channels = c.ids("channels", p.channels.iter().map(|x| x.id.as_str()));
    c.ids("recipients", p.recipients.iter().map(|x| x.id.as_str()));
    let roles = c.ids("roles", p.roles.iter().map(|x| x.id.as_str()));
    let _ = channels;

    // APPI 32(1)(ii): all purposes knowable; seed 000 Art. 4, seed 003 Art. 8.
    if p.purposes.is_empty() {
        c.add(
            "purposes",
            "no purpose is defined: APPI 21 and 32 require the purposes of use to be stated",
        );
    }
    for x in &p.purposes {
        let path = format!("purposes[{}]", x.id);
        c.text(&path, &x.ja, &x.en);
        if x.related_to.iter().any(|r| r == &x.id) {
            c.add(
                format!("{path}.related_to"),
                "a purpose cannot be related to itself",
            );
        }
    }

    let special: HashSet<&str> = p
        .categories
        .iter()
        .filter(|x| x.special_care)
        .map(|x| x.id.as_str())
        .collect();
    for x in &p.categories {
        let path = format!("categories[{}]", x.id);
        c.text(&path, &x.ja, &x.en);
        if let Some(r) = &x.retention {
            c.duration(&format!("{path}.retention"), r);
        }
    }

    for x in &p.channels {
        let path = format!("channels[{}]", x.id);
        c.text(&path, &x.ja, &x.en);
        if x.categories.is_empty() {
            c.add(
                format!("{path}.categories"),
                "is empty: say which categories this channel collects (seed 000 Art. 5)",
            );
        }
        c.refs(
            &format!("{path}.categories"),
            "category",
            &x.categories,
            &categories,
        );
        // Seed 000 Art. 4 / seed 003 Art. 11: purposes are stated when the data is acquired.
        if x.purposes.is_empty() {
            c.add(
                format!("{path}.purposes"),
                "is empty: every channel must notify at least one purpose (APPI 21)",
            );
        }
        c.refs(
            &format!("{path}.purposes"),
            "purpose",
            &x.purposes,
            &purposes,
        );
        // Seed 000 Art. 8-4: a retention period is set for everything held.
        if x.retention.trim().is_empty() {
            c.add(
                format!("{path}.retention"),
                "is empty: set a retention period such as P3Y (seed 000 Art. 8-4)",
            );
        } else {
            c.duration(&format!("{path}.retention"), &x.retention);
        }
        if let Some(t) = &x.retention_note {
            c.both(&format!("{path}.retention_note"), t);
        }
        // APPI 20(2): special-care-required data may be acquired only with consent.
        let sensitive: Vec<&str> = x
            .categories
            .iter()
            .map(String::as_str)
            .filter(|c| special.contains(c))
            .collect();
        if !sensitive.is_empty() && !x.special_care_consent {
            c.add(
                format!("{path}.special_care_consent"),
                format!(
                    "the channel collects special-care-required {} but does not obtain consent: set special_care_consent = true and ask for consent on the form (APPI 20(2))",
                    sensitive.join(", ")
                ),
            );
        }
    }

    for x in &p.recipients {
        let path = format!("recipients[{}]", x.id);
        c.both(&format!("{path}.name"), &x.name);
        c.refs(
            &format!("{path}.categories"),
            "category",
            &x.categories,
            &categories,
        );
        c.refs(
            &format!("{path}.purposes"),
            "purpose",
            &x.purposes,
            &purposes,
        );
        if x.categories.is_empty() {
            c.add(
                format!("{path}.categories"),
                "is empty: say which categories the recipient may receive",
            );
        }
        if x.purposes.is_empty() {
            c.add(
                format!("{path}.purposes"),
                "is empty: say for which purposes the recipient receives data",
            );
        }
        let country_ok = x.country.len() == 2 && x.country.chars().all(|c| c.is_ascii_uppercase());
        if !country_ok {
            c.add(
                format!("{path}.country"),
                format!(
                    "\"{}\" is not a country code: use ISO 3166-1 alpha-2 such as JP or US",
                    x.country
                ),
            );
        } else if x.country != "JP" {
            // APPI 28: a recipient abroad needs a basis.
            match x.foreign_basis {
                None => c.add(
                    format!("{path}.foreign_basis"),
                    "is missing for a recipient outside Japan: set equivalent_country, equivalent_measures or consent (APPI 28)",
                ),
                Some(ForeignBasis::Consent) => match &x.foreign_information {
                    None => c.add(
                        format!("{path}.foreign_information"),
                        "is missing: consent to provision abroad needs the principal to be told the country, its protection system and the recipient's measures (APPI 28(2))",
                    ),
                    Some(t) => c.both(&format!("{path}.foreign_information"), t),
                },
                Some(ForeignBasis::EquivalentMeasures) => match &x.measures_checked_on {
                    None => c.add(
                        format!("{path}.measures_checked_on"),
                        "is missing: equivalent measures must be checked periodically; give the date of the last check (APPI 28(3))",
                    ),
                    Some(d) => c.date(&format!("{path}.measures_checked_on"), d),
                },
                Some(_) => {}
            }
        }
        if let Some(d) = &x.measures_check_every {
            c.duration(&format!("{path}.measures_check_every"), d);
        }
        if x.kind == RecipientKind::Entrustment {
            match &x.contract {
                None => c.add(
                    format!("{path}.contract"),
                    "is missing: an entrustment needs a contract with the six clauses of seed 003 Art. 18",
                ),
                Some(k) => {
                    let missing: Vec<&str> = crate::model::ContractClause::ALL
                        .iter()
                        .filter(|cl| !k.clauses.contains(cl))
                        .map(|cl| cl.as_str())
                        .collect();
                    if !missing.is_empty() {
                        c.add(
                            format!("{path}.contract.clauses"),
                            format!("lacks {}: seed 003 Art. 18(1) requires all six clauses", missing.join(", ")),
                        );
                    }
                    if let Some(d) = &k.reviewed_on {
                        c.date(&format!("{path}.contract.reviewed_on"), d);
                    }
                    if let Some(d) = &k.review_every {
                        c.duration(&format!("{path}.contract.review_every"), d);
                    }
                }
            }
        }
        if x.kind == RecipientKind::JointUse && x.responsible.is_none() {
            c.add(
                format!("{path}.responsible"),
                "is missing: joint use must name who is responsible for the data (APPI 27(5)(iii), seed 003 Art. 20(2)(3))",
            );
        }
    }

    // Roles: DESIGN.md fixes admin, manager, auditor and clerk in both presets; admin is the
    // one `init` creates, so it must exist.
    for x in &p.roles {
        let path = format!("roles[{}]", x.id);
        c.text(&path, &x.ja, &x.en);
        c.refs(
            &format!("{path}.purposes"),
            "purpose",
            &x.purposes,
            &purposes,
        );
        if x.actions.is_empty() {
            c.add(
                format!("{path}.actions"),
                "is empty: give the role at least one action",
            );
        }
        // The administrator (the `admin` role, or any role that manages staff) manages the
        // system, never the data: it could otherwise make accounts and read through them
        // (seed 000 Art. 8-1; seed 003 Arts. 4, 5; issue 20).
        if x.id == "admin" || x.actions.contains(&Action::Staff) {
            if !x.purposes.is_empty() {
                c.add(
                    format!("{path}.purposes"),
                    "must be empty: the administrator (a role with the `staff` action, or `admin`) manages the system and uses no personal data for any purpose; give the purposes to another role (seed 000 Art. 8-1)",
                );
            }
            let data: Vec<&str> = x
                .actions
                .iter()
                .filter(|a| a.handles_personal_data())
                .map(|a| a.as_str())
                .collect();
            if !data.is_empty() {
                c.add(
                    format!("{path}.actions"),
                    format!(
                        "{} handle personal data: the administrator (a role with the `staff` action, or `admin`) manages the system, never the data; give these actions to another role (seed 000 Art. 8-1)",
                        data.join(", ")
                    ),
                );
            }
        }
    }
    if !roles.contains("admin") {
        c.add(
            "roles",
            "there is no \"admin\" role: init needs one to create the first staff member",
        );
    }

    // Complaint window (seed 003 Art. 23; APPI 32(1)(iv) complaint contact).
    let cw = &p.complaints;
    c.both("complaints.contact", &cw.contact);
    if cw.window.days.is_empty() {
        c.add(
            "complaints.window.days",
            "is empty: name the days the complaint window is open (e.g. [\"mon\", \"tue\"])",
        );
    }
    match (parse_hhmm(&cw.window.opens), parse_hhmm(&cw.window.closes)) {
        (None, _) => c.add(
            "complaints.window.opens",
            format!(
                "\"{}\" is not a time: use HH:MM such as 10:00",
                cw.window.opens
            ),
        ),
        (_, None) => c.add(
            "complaints.window.closes",
            format!(
                "\"{}\" is not a time: use HH:MM such as 16:00",
                cw.window.closes
            ),
        ),
        (Some(a), Some(b)) if a >= b => {
            c.add("complaints.window.closes", "must be later than opens")
        }
        _ => {}
    }
    for (i, cp) in cw.window.closed_periods.iter().enumerate() {
        for (k, v) in [("from", &cp.from), ("to", &cp.to)] {
            if parse_month_day(v).is_none() {
                c.add(
                    format!("complaints.window.closed_periods[{i}].{k}"),
                    format!("\"{v}\" is not a day of the year: use MM-DD such as 12-29"),
                );
            }
        }
    }
    if cw.answer_within_business_days == 0 {
        c.add(
            "complaints.answer_within_business_days",
            "must be at least 1",
        );
    }

    // APPI 32(1)(iii), 37, 38: the request procedure and fees are knowable.
    let r = &p.requests;
    c.both("requests.procedure", &r.procedure);
    if r.answer_within_days == 0 {
        c.add(
            "requests.answer_within_days",
            "must be at least 1 (APPI 39: two weeks is usual)",
        );
    }
    if r.identity_methods.is_empty() {
        c.add(
            "requests.identity_methods",
            "is empty: seed 000 Art. 9 requires an identity check before answering a request",
        );
    }
    let mut fee_kinds = BTreeMap::new();
    for f in &r.fees {
        if fee_kinds.insert(f.kind.as_str(), f.yen).is_some() {
            c.add(
                "requests.fees",
                format!("the fee for {} is given twice", f.kind.as_str()),
            );
        }
    }
    if !fee_kinds.contains_key("disclosure") && !fee_kinds.contains_key("purpose-notice") {
        c.add(
            "requests.fees",
            "say the fee for disclosure and purpose notice, 0 if free (APPI 32(1)(iii), 38)",
        );
    }

    // APPI 32(1)(iv) and 23: security control measures knowable.
    if p.security.measures.is_empty() {
        c.add(
            "security.measures",
            "is empty: describe the security control measures (APPI 23, 32(1)(iv))",
        );
    }
    let _ = c.ids(
        "security.measures",
        p.security.measures.iter().map(|m| m.id.as_str()),
    );
    for m in &p.security.measures {
        c.text(&format!("security.measures[{}]", m.id), &m.ja, &m.en);
    }

    if let Some(t) = &p.training {
        c.duration("training.interval", &t.interval);
    }

    // APPI 26, rule 8(1): the preliminary report is due "promptly", about 3-5 days by the
    // PPC's guidelines.
    if !(1..=5).contains(&p.incidents.preliminary_report_days) {
        c.add(
            "incidents.preliminary_report_days",
            "must be 1 to 5: the PPC expects the preliminary report within about 3 to 5 days of becoming aware (APPI 26, rule 8(1))",
        );
    }

    let mut kinds = HashSet::new();
    for e in &p.exceptions {
        if !kinds.insert(e.kind) {
            c.add("exceptions", format!("{} is listed twice", e.kind.as_str()));
        }
        c.text(&format!("exceptions[{}]", e.kind.as_str()), &e.ja, &e.en);
    }

    if let Some(rf) = &p.refunds {
        let items = c.ids("refunds.items", rf.items.iter().map(|i| i.id.as_str()));
        if let Some(d) = &rf.effective {
            c.date("refunds.effective", d);
        }
        let mut events = HashSet::new();
        for rule in &rf.rules {
            let path = format!("refunds.rules[{}]", rule.event);
            if !REFUND_EVENTS.contains(&rule.event.as_str()) {
                c.add(
                    format!("{path}.event"),
                    format!(
                        "\"{}\" is not a refund event: use one of {}",
                        rule.event,
                        REFUND_EVENTS.join(", ")
                    ),
                );
            }
            if !events.insert(rule.event.as_str()) {
                c.add(format!("{path}.event"), "is given twice");
            }
            c.text(&path, &rule.ja, &rule.en);
            for it in &rule.retain {
                if !items.contains(it.as_str()) {
                    c.add(
                        format!("{path}.retain"),
                        format!("fee item \"{it}\" is not defined in refunds.items"),
                    );
                }
            }
        }
    }

    c.problems
}
