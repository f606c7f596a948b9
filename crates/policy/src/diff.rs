//! Classifies every change between two policy versions by what the organization must do before
//! the new version takes effect (`mamori policy diff OLD NEW`, `policy apply`).
//!
//! The rules are APPI's and the seeds':
//! - a purpose may change only within what is reasonably related to the old one, and the changed
//!   purpose must be notified or published (APPI 17(2), 21(3); seed 000 Art. 4 para. 2; seed 003
//!   Arts. 8(2), 11(3));
//! - data may not be used beyond the purposes notified when it was acquired without consent
//!   (APPI 18(1); seed 003 Art. 9(1)), so a new purpose that is not `related_to` an old one, or a
//!   channel gaining an unrelated purpose, needs consent;
//! - special-care-required data is acquired only with consent (APPI 20(2));
//! - provision to a third party needs consent (APPI 27(1); seed 000 Art. 7; seed 003 Art. 20(1)),
//!   abroad also APPI 28; joint use is announced beforehand, and so is a change of its purposes or
//!   responsible party (APPI 27(5)(iii), 27(6); seed 003 Art. 20(2)(3), 20(3));
//! - what APPI 32(1) makes knowable (name, address, representative, purposes, request procedure,
//!   security measures, complaint contact) is republished when it changes (seed 000 Art. 10).
//!
//! Each kind of change has its own small pure function, which says the rule it applies.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::model::{Category, Channel, Policy, Purpose, Recipient, RecipientKind, Role, Text};
use crate::parse_duration;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    VersionChanged,
    OrganizationChanged,
    PreambleChanged,
    PurposeAdded,
    PurposeRemoved,
    PurposeReworded,
    CategoryAdded,
    CategoryRemoved,
    CategoryReworded,
    CategorySpecialCareChanged,
    /// Validation, automatic or searchable changed: internal.
    CategoryChanged,
    ChannelAdded,
    ChannelRemoved,
    ChannelReworded,
    ChannelPurposesChanged,
    ChannelCategoriesChanged,
    RetentionChanged,
    RecipientAdded,
    RecipientRemoved,
    RecipientChanged,
    RoleChanged,
    ComplaintWindowChanged,
    RequestsChanged,
    SecurityChanged,
    TrainingChanged,
    RefundsChanged,
    IncidentsChanged,
    ExceptionsChanged,
    RevisionsChanged,
}

/// What the organization must do about a change, from least to most demanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing (the version string).
    None,
    /// Internal: keep a record of the change (roles, training, contracts, a narrower use).
    RecordOnly,
    /// Publish the new notice before the change takes effect (APPI 21(3), 32(1)).
    PublishNotice,
    /// Announce to the principals beforehand, so they can easily know it (APPI 27(5)(iii), 27(6)).
    AnnounceBeforehand,
    /// Obtain the principals' consent before the change applies to them (APPI 18(1), 20(2), 27(1), 28(1)).
    ConsentRequired,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::RecordOnly => "record_only",
            Action::PublishNotice => "publish_notice",
            Action::AnnounceBeforehand => "announce_beforehand",
            Action::ConsentRequired => "consent_required",
        }
    }

    /// The instruction, as a person reads it in `policy diff`.
    pub fn instruction(self) -> &'static str {
        match self {
            Action::None => "nothing to do",
            Action::RecordOnly => "record the change",
            Action::PublishNotice => "publish the notice before it takes effect",
            Action::AnnounceBeforehand => "announce it to the principals before it takes effect",
            Action::ConsentRequired => "obtain the principals' consent before it applies to them",
        }
    }
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The key that changed, e.g. `purposes[inquiry_response]`.
    pub subject: String,
    /// What changed, briefly.
    pub detail: String,
    pub action: Action,
    /// The article the classification applies, e.g. `APPI 21(3)`.
    pub rule: String,
}

impl Change {
    fn new(
        kind: ChangeKind,
        subject: impl Into<String>,
        detail: impl Into<String>,
        action: Action,
        rule: &str,
    ) -> Change {
        Change {
            kind,
            subject: subject.into(),
            detail: detail.into(),
            action,
            rule: rule.to_string(),
        }
    }

    /// `purposes[x]: reworded — publish the notice before it takes effect (APPI 21(3))`.
    pub fn line(&self) -> String {
        let rule = if self.rule.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.rule)
        };
        format!(
            "{}: {} — {}{rule}",
            self.subject,
            self.detail,
            self.action.instruction()
        )
    }
}

/// Whether any change needs the principals' consent before it applies.
pub fn needs_consent(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.action == Action::ConsentRequired)
}

/// Whether the notice must be published (or an announcement made) before the new version applies.
pub fn needs_publication(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.action >= Action::PublishNotice)
}

/// The most demanding action among the changes (`None` when there are none).
pub fn strongest(changes: &[Change]) -> Action {
    changes
        .iter()
        .map(|c| c.action)
        .max()
        .unwrap_or(Action::None)
}

/// The changes that need consent, for the consent campaign `policy apply` refuses without.
pub fn consent_changes(changes: &[Change]) -> Vec<&Change> {
    changes
        .iter()
        .filter(|c| c.action == Action::ConsentRequired)
        .collect()
}

/// Every change from `old` to `new`, in the order of the policy file.
pub fn diff(old: &Policy, new: &Policy) -> Vec<Change> {
    let mut out = Vec::new();
    out.extend(version_changed(&old.version, &new.version));
    out.extend(organization_changes(old, new));
    out.extend(text_changed(
        ChangeKind::PreambleChanged,
        "preamble",
        &old.preamble,
        &new.preamble,
        "the notice's own text",
    ));

    for p in &new.purposes {
        match old.purpose(&p.id) {
            None => out.push(purpose_added(old, new, p)),
            Some(o) => out.extend(purpose_reworded(o, p)),
        }
    }
    for p in old.purposes.iter().filter(|p| new.purpose(&p.id).is_none()) {
        out.push(purpose_removed(p));
    }

    for c in &new.categories {
        match old.category(&c.id) {
            None => out.push(category_added(c)),
            Some(o) => out.extend(category_changes(o, c)),
        }
    }
    for c in old
        .categories
        .iter()
        .filter(|c| new.category(&c.id).is_none())
    {
        out.push(category_removed(c));
    }

    for c in &new.channels {
        match old.channel(&c.id) {
            None => out.push(channel_added(new, c)),
            Some(o) => {
                out.extend(channel_reworded(o, c));
                out.extend(channel_purposes_changed(old, new, o, c));
                out.extend(channel_categories_changed(new, o, c));
                out.extend(retention_changed(
                    &format!("channels[{}].retention", c.id),
                    (&o.retention, o.retention_from, o.retention_note.as_ref()),
                    (&c.retention, c.retention_from, c.retention_note.as_ref()),
                ));
            }
        }
    }
    for c in old.channels.iter().filter(|c| new.channel(&c.id).is_none()) {
        out.push(channel_removed(c));
    }

    for r in &new.recipients {
        match old.recipient(&r.id) {
            None => out.push(recipient_added(r)),
            Some(o) => out.extend(recipient_changes(o, r)),
        }
    }
    for r in old
        .recipients
        .iter()
        .filter(|r| new.recipient(&r.id).is_none())
    {
        out.push(recipient_removed(r));
    }

    for r in &new.roles {
        out.extend(role_changed(old.role(&r.id), Some(r)));
    }
    for r in old.roles.iter().filter(|r| new.role(&r.id).is_none()) {
        out.extend(role_changed(Some(r), None));
    }

    out.extend(complaint_window_changes(old, new));
    out.extend(requests_changes(old, new));
    out.extend(security_changes(old, new));
    out.extend(training_changed(old, new));
    out.extend(refunds_changed(old, new));
    out.extend(incidents_changed(old, new));
    out.extend(exceptions_changed(old, new));
    out.extend(text_changed(
        ChangeKind::RevisionsChanged,
        "revisions",
        &old.revisions,
        &new.revisions,
        "seed 000 Art. 10",
    ));
    out
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn added<'a>(old: &'a [String], new: &'a [String]) -> Vec<&'a str> {
    new.iter()
        .filter(|x| !old.contains(x))
        .map(String::as_str)
        .collect()
}

fn removed<'a>(old: &'a [String], new: &'a [String]) -> Vec<&'a str> {
    added(new, old)
}

fn plus_minus(gained: &[&str], lost: &[&str]) -> String {
    let mut parts = Vec::new();
    if !gained.is_empty() {
        parts.push(format!("adds {}", gained.join(", ")));
    }
    if !lost.is_empty() {
        parts.push(format!("drops {}", lost.join(", ")));
    }
    parts.join("; ")
}

/// Whether purpose `id` (of the new policy) is reasonably related to any of `to` (purposes of the
/// old policy), as the policy declares it with `related_to` in either direction (APPI 17(2)).
fn related(old: &Policy, new: &Policy, id: &str, to: &[String]) -> bool {
    let declared = new
        .purpose(id)
        .map(|p| p.related_to.as_slice())
        .unwrap_or_default();
    let forward = declared
        .iter()
        .any(|r| to.contains(r) && old.purpose(r).is_some());
    let backward = to.iter().any(|q| {
        new.purpose(q)
            .map(|p| p.related_to.iter().any(|r| r == id))
            .unwrap_or(false)
    });
    forward || backward
}

/// Where a period ends when counted from a fixed day: periods compare by their length in the
/// calendar, so `P12M` and `P1Y` are the same period.
fn period_end(s: &str) -> Option<jiff::civil::Date> {
    let span = parse_duration(s).ok()?;
    jiff::civil::date(2000, 1, 1).checked_add(span).ok()
}

fn text_changed(
    kind: ChangeKind,
    subject: &str,
    old: &Text,
    new: &Text,
    rule: &str,
) -> Option<Change> {
    (old != new).then(|| Change::new(kind, subject, "reworded", Action::PublishNotice, rule))
}

// ---------------------------------------------------------------------------------------------
// Rules, one per kind of change.

/// The version string itself has no consequence; a version that does not move forward is flagged.
fn version_changed(old: &str, new: &str) -> Option<Change> {
    if old == new {
        return None;
    }
    let detail = if new < old {
        format!("{old} → {new} (the new version is earlier than the old one: check it)")
    } else {
        format!("{old} → {new}")
    };
    Some(Change::new(
        ChangeKind::VersionChanged,
        "version",
        detail,
        Action::None,
        "",
    ))
}

/// APPI 32(1)(i): name, address and representative are knowable; the manager and the contact
/// window are the promises of seed 000 Arts. 2, 11 and seed 003 Art. 4 / 本件連絡先.
fn organization_changes(old: &Policy, new: &Policy) -> Vec<Change> {
    let (o, n) = (&old.organization, &new.organization);
    let mut out = Vec::new();
    let mut field = |name: &str, changed: bool, rule: &str| {
        if changed {
            out.push(Change::new(
                ChangeKind::OrganizationChanged,
                format!("organization.{name}"),
                "changed",
                Action::PublishNotice,
                rule,
            ));
        }
    };
    field("name", o.name != n.name, "APPI 32(1)(i)");
    field("address", o.address != n.address, "APPI 32(1)(i)");
    field(
        "representative",
        o.representative != n.representative,
        "APPI 32(1)(i)",
    );
    field(
        "manager",
        o.manager != n.manager,
        "seed 000 Art. 2; seed 003 Art. 4",
    );
    field(
        "phone",
        o.phone != n.phone,
        "APPI 32(1)(iv); seed 000 Art. 11",
    );
    field("fax", o.fax != n.fax, "APPI 32(1)(iv)");
    field("email", o.email != n.email, "APPI 32(1)(iv)");
    field(
        "contact_window",
        o.contact_window != n.contact_window,
        "APPI 32(1)(iv); seed 000 Art. 11",
    );
    field(
        "established",
        o.established != n.established,
        "the notice's date",
    );
    out
}

/// A new purpose (APPI 17(2), 18(1), 21(3)). Related to an old purpose: publish the changed purpose.
/// Not related: data collected earlier may not be used for it without consent — unless only new
/// channels notify it, so that it is notified at acquisition (APPI 21(1)) and touches no old data.
fn purpose_added(old: &Policy, new: &Policy, p: &Purpose) -> Change {
    let subject = format!("purposes[{}]", p.id);
    let old_ids: Vec<String> = old.purposes.iter().map(|x| x.id.clone()).collect();
    if related(old, new, &p.id, &old_ids) {
        let to: Vec<&str> = p
            .related_to
            .iter()
            .filter(|r| old.purpose(r).is_some())
            .map(String::as_str)
            .collect();
        return Change::new(
            ChangeKind::PurposeAdded,
            subject,
            format!("added, reasonably related to {}", to.join(", ")),
            Action::PublishNotice,
            "APPI 17(2), 21(3)",
        );
    }
    let users: Vec<&Channel> = new
        .channels
        .iter()
        .filter(|c| c.purposes.contains(&p.id))
        .collect();
    if !users.is_empty() && users.iter().all(|c| old.channel(&c.id).is_none()) {
        let names: Vec<&str> = users.iter().map(|c| c.id.as_str()).collect();
        return Change::new(
            ChangeKind::PurposeAdded,
            subject,
            format!(
                "added for new channels only ({}): notified when their data is acquired",
                names.join(", ")
            ),
            Action::PublishNotice,
            "APPI 21(1)",
        );
    }
    Change::new(
        ChangeKind::PurposeAdded,
        subject,
        "added, not related to any purpose of the old policy: data collected earlier may not be used for it without consent",
        Action::ConsentRequired,
        "APPI 17(2), 18(1)",
    )
}

/// A purpose no longer used narrows the use: nothing to ask of anyone.
fn purpose_removed(p: &Purpose) -> Change {
    Change::new(
        ChangeKind::PurposeRemoved,
        format!("purposes[{}]", p.id),
        "removed: data may no longer be used for it",
        Action::RecordOnly,
        "APPI 18(1)",
    )
}

/// A reworded purpose is a changed purpose: publish it (APPI 21(3)). A wording that goes beyond
/// what is reasonably related to the old one must be a new purpose with a new id (APPI 17(2)).
fn purpose_reworded(old: &Purpose, new: &Purpose) -> Option<Change> {
    (old.ja != new.ja || old.en != new.en).then(|| {
        Change::new(
            ChangeKind::PurposeReworded,
            format!("purposes[{}]", new.id),
            "reworded",
            Action::PublishNotice,
            "APPI 21(3)",
        )
    })
}

fn category_added(c: &Category) -> Change {
    Change::new(
        ChangeKind::CategoryAdded,
        format!("categories[{}]", c.id),
        "added: collected only once a channel lists it",
        Action::RecordOnly,
        "",
    )
}

fn category_removed(c: &Category) -> Change {
    Change::new(
        ChangeKind::CategoryRemoved,
        format!("categories[{}]", c.id),
        "removed",
        Action::RecordOnly,
        "",
    )
}

/// A category changes: its name (listed in the notice, seed 000 Art. 5), whether it is
/// special-care-required (APPI 2(3), 20(2)), its own retention, or internal settings.
fn category_changes(old: &Category, new: &Category) -> Vec<Change> {
    let subject = format!("categories[{}]", new.id);
    let mut out = Vec::new();
    if old.ja != new.ja || old.en != new.en {
        out.push(Change::new(
            ChangeKind::CategoryReworded,
            subject.clone(),
            "reworded",
            Action::PublishNotice,
            "seed 000 Art. 5",
        ));
    }
    out.extend(category_special_care_changed(old, new));
    if old.validation != new.validation
        || old.automatic != new.automatic
        || old.searchable != new.searchable
    {
        out.push(Change::new(
            ChangeKind::CategoryChanged,
            subject.clone(),
            "validation, automatic or searchable changed",
            Action::RecordOnly,
            "",
        ));
    }
    let path = format!("{subject}.retention");
    match (&old.retention, &new.retention) {
        (None, None) => {}
        (Some(a), Some(b)) => out.extend(retention_changed(
            &path,
            (a, Default::default(), None),
            (b, Default::default(), None),
        )),
        (None, Some(b)) => out.push(Change::new(
            ChangeKind::RetentionChanged,
            path,
            format!("now kept for {b}, shorter than its channels"),
            Action::RecordOnly,
            "seed 003 Art. 16",
        )),
        (Some(a), None) => out.push(Change::new(
            ChangeKind::RetentionChanged,
            path,
            format!("its own period {a} is dropped: kept as long as its channels"),
            Action::PublishNotice,
            "seed 000 Art. 8-4",
        )),
    }
    out
}

/// Becoming special-care-required: acquiring it now needs consent (APPI 20(2)).
fn category_special_care_changed(old: &Category, new: &Category) -> Option<Change> {
    match (old.special_care, new.special_care) {
        (false, true) => Some(Change::new(
            ChangeKind::CategorySpecialCareChanged,
            format!("categories[{}].special_care", new.id),
            "now special-care-required: its acquisition needs consent",
            Action::ConsentRequired,
            "APPI 2(3), 20(2)",
        )),
        (true, false) => Some(Change::new(
            ChangeKind::CategorySpecialCareChanged,
            format!("categories[{}].special_care", new.id),
            "no longer special-care-required",
            Action::RecordOnly,
            "APPI 2(3)",
        )),
        _ => None,
    }
}

/// A new channel: its purposes are notified or published before data is acquired through it.
fn channel_added(new: &Policy, c: &Channel) -> Change {
    let special = c
        .categories
        .iter()
        .any(|id| new.category(id).is_some_and(|x| x.special_care));
    let detail = if special {
        "added; it collects special-care-required data, acquired only with consent on the form"
    } else {
        "added"
    };
    Change::new(
        ChangeKind::ChannelAdded,
        format!("channels[{}]", c.id),
        detail,
        Action::PublishNotice,
        "APPI 21(1)",
    )
}

/// A channel that is no longer used: data acquired through it keeps its purposes and retention.
fn channel_removed(c: &Channel) -> Change {
    Change::new(
        ChangeKind::ChannelRemoved,
        format!("channels[{}]", c.id),
        "removed: data already acquired through it still needs its purposes and retention period until it is disposed of",
        Action::RecordOnly,
        "seed 003 Art. 16",
    )
}

fn channel_reworded(old: &Channel, new: &Channel) -> Option<Change> {
    (old.ja != new.ja || old.en != new.en).then(|| {
        Change::new(
            ChangeKind::ChannelReworded,
            format!("channels[{}]", new.id),
            "reworded",
            Action::PublishNotice,
            "seed 000 Art. 3",
        )
    })
}

/// A channel's purposes change. Gaining a purpose not related to its old ones: the data it
/// already holds may not be used for it without consent (APPI 17(2), 18(1)). Gaining a related
/// one: publish (APPI 21(3)). Only losing purposes: a narrower use.
fn channel_purposes_changed(
    old: &Policy,
    new: &Policy,
    o: &Channel,
    n: &Channel,
) -> Option<Change> {
    let gained = added(&o.purposes, &n.purposes);
    let lost = removed(&o.purposes, &n.purposes);
    if gained.is_empty() && lost.is_empty() {
        return None;
    }
    let subject = format!("channels[{}].purposes", n.id);
    let unrelated: Vec<&str> = gained
        .iter()
        .copied()
        .filter(|p| !related(old, new, p, &o.purposes))
        .collect();
    let detail = plus_minus(&gained, &lost);
    Some(if !unrelated.is_empty() {
        Change::new(
            ChangeKind::ChannelPurposesChanged,
            subject,
            format!(
                "{detail}; {} not related to its old purposes",
                unrelated.join(", ")
            ),
            Action::ConsentRequired,
            "APPI 17(2), 18(1)",
        )
    } else if !gained.is_empty() {
        Change::new(
            ChangeKind::ChannelPurposesChanged,
            subject,
            format!("{detail} (related to its old purposes)"),
            Action::PublishNotice,
            "APPI 17(2), 21(3)",
        )
    } else {
        Change::new(
            ChangeKind::ChannelPurposesChanged,
            subject,
            detail,
            Action::RecordOnly,
            "APPI 18(1)",
        )
    })
}

/// A channel collects more or fewer categories. Special-care-required ones need consent at
/// acquisition (APPI 20(2)); others change what the notice says is acquired (seed 000 Arts. 5, 10).
fn channel_categories_changed(new: &Policy, o: &Channel, n: &Channel) -> Option<Change> {
    let gained = added(&o.categories, &n.categories);
    let lost = removed(&o.categories, &n.categories);
    if gained.is_empty() && lost.is_empty() {
        return None;
    }
    let subject = format!("channels[{}].categories", n.id);
    let detail = plus_minus(&gained, &lost);
    let special: Vec<&str> = gained
        .iter()
        .copied()
        .filter(|c| new.category(c).is_some_and(|x| x.special_care))
        .collect();
    Some(if !special.is_empty() {
        Change::new(
            ChangeKind::ChannelCategoriesChanged,
            subject,
            format!("{detail}; {} is special-care-required", special.join(", ")),
            Action::ConsentRequired,
            "APPI 20(2)",
        )
    } else if !gained.is_empty() {
        Change::new(
            ChangeKind::ChannelCategoriesChanged,
            subject,
            detail,
            Action::PublishNotice,
            "seed 000 Arts. 5, 10",
        )
    } else {
        Change::new(
            ChangeKind::ChannelCategoriesChanged,
            subject,
            detail,
            Action::RecordOnly,
            "",
        )
    })
}

type RetentionTerms<'a> = (&'a str, crate::model::RetentionFrom, Option<&'a Text>);

/// A retention period changes (seed 000 Art. 8-4, seed 003 Art. 16). Longer, or counted from a
/// different day: the notice states the period, publish it first. Shorter: the next sweep
/// disposes of what is past the new period; record it.
fn retention_changed(
    subject: &str,
    old: RetentionTerms<'_>,
    new: RetentionTerms<'_>,
) -> Option<Change> {
    let (o_period, o_from, o_note) = old;
    let (n_period, n_from, n_note) = new;
    let (oe, ne) = (period_end(o_period), period_end(n_period));
    let same_period = match (oe, ne) {
        (Some(a), Some(b)) => a == b,
        _ => o_period == n_period,
    };
    if same_period && o_from == n_from && o_note == n_note {
        return None;
    }
    let c = |detail: String, action, rule| {
        Some(Change::new(
            ChangeKind::RetentionChanged,
            subject,
            detail,
            action,
            rule,
        ))
    };
    if !same_period {
        let longer = match (oe, ne) {
            (Some(a), Some(b)) => b > a,
            _ => true,
        };
        return if longer {
            c(
                format!("{o_period} → {n_period} (longer)"),
                Action::PublishNotice,
                "seed 000 Art. 8-4",
            )
        } else {
            c(
                format!(
                    "{o_period} → {n_period} (shorter): the next retention sweep disposes of data past the new period"
                ),
                Action::RecordOnly,
                "seed 003 Art. 16",
            )
        };
    }
    if o_from != n_from {
        return c(
            "counted from a different day".to_string(),
            Action::PublishNotice,
            "seed 000 Art. 8-4",
        );
    }
    c(
        "note reworded".to_string(),
        Action::PublishNotice,
        "seed 000 Art. 8-4",
    )
}

/// A new recipient: by kind (APPI 25, 27, 28).
fn recipient_added(r: &Recipient) -> Change {
    let subject = format!("recipients[{}]", r.id);
    let abroad_on_consent =
        r.country != "JP" && r.foreign_basis == Some(crate::model::ForeignBasis::Consent);
    let (detail, action, rule) = match r.kind {
        _ if abroad_on_consent => (
            format!(
                "added in {}: provision abroad on the basis of consent",
                r.country
            ),
            Action::ConsentRequired,
            "APPI 28(1)",
        ),
        RecipientKind::ThirdParty if r.required_by_law => (
            "added: provision required by law".to_string(),
            Action::PublishNotice,
            "APPI 27(1)(i)",
        ),
        RecipientKind::ThirdParty => (
            "added: a new third party".to_string(),
            Action::ConsentRequired,
            if r.country == "JP" {
                "APPI 27(1)"
            } else {
                "APPI 27(1), 28"
            },
        ),
        RecipientKind::JointUse => (
            "added: joint use, with its items, users, purposes and responsible party".to_string(),
            Action::AnnounceBeforehand,
            "APPI 27(5)(iii)",
        ),
        RecipientKind::Entrustment => (
            "added: a contractor; sign the contract with the six clauses and supervise it"
                .to_string(),
            Action::RecordOnly,
            "APPI 25; seed 003 Art. 18",
        ),
    };
    Change::new(ChangeKind::RecipientAdded, subject, detail, action, rule)
}

fn recipient_removed(r: &Recipient) -> Change {
    let detail = if r.kind == RecipientKind::Entrustment {
        "removed: the contractor erases the data and returns the media"
    } else {
        "removed: nothing more is provided to it"
    };
    Change::new(
        ChangeKind::RecipientRemoved,
        format!("recipients[{}]", r.id),
        detail,
        Action::RecordOnly,
        if r.kind == RecipientKind::Entrustment {
            "seed 003 Art. 18(1)(5)"
        } else {
            ""
        },
    )
}

/// What widening a recipient's categories or purposes demands, by its kind.
fn widening(r: &Recipient) -> (Action, &'static str) {
    match r.kind {
        RecipientKind::ThirdParty if r.required_by_law => (Action::PublishNotice, "APPI 27(1)(i)"),
        RecipientKind::ThirdParty => (Action::ConsentRequired, "APPI 27(1)"),
        RecipientKind::JointUse => (Action::AnnounceBeforehand, "APPI 27(5)(iii), 27(6)"),
        RecipientKind::Entrustment => (Action::RecordOnly, "APPI 25; seed 003 Art. 18"),
    }
}

/// A recipient changes: each aspect is one change.
fn recipient_changes(o: &Recipient, n: &Recipient) -> Vec<Change> {
    let base = format!("recipients[{}]", n.id);
    let mut out = Vec::new();
    let mut push = |field: &str, detail: String, action: Action, rule: &str| {
        let subject = if field.is_empty() {
            base.clone()
        } else {
            format!("{base}.{field}")
        };
        out.push(Change::new(
            ChangeKind::RecipientChanged,
            subject,
            detail,
            action,
            rule,
        ));
    };

    if o.kind != n.kind {
        let (action, rule) = widening(n);
        push(
            "kind",
            format!("{} → {}", o.kind.as_str(), n.kind.as_str()),
            action,
            rule,
        );
    }
    let gained = added(&o.categories, &n.categories);
    let lost = removed(&o.categories, &n.categories);
    if !gained.is_empty() {
        let (action, rule) = widening(n);
        push(
            "categories",
            format!("receives new categories: {}", gained.join(", ")),
            action,
            rule,
        );
    } else if !lost.is_empty() {
        push("categories", plus_minus(&[], &lost), Action::RecordOnly, "");
    }
    let gained = added(&o.purposes, &n.purposes);
    let lost = removed(&o.purposes, &n.purposes);
    if !gained.is_empty() || (!lost.is_empty() && n.kind == RecipientKind::JointUse) {
        let (action, rule) = widening(n);
        push("purposes", plus_minus(&gained, &lost), action, rule);
    } else if !lost.is_empty() {
        push("purposes", plus_minus(&[], &lost), Action::RecordOnly, "");
    }
    if o.responsible != n.responsible && n.kind == RecipientKind::JointUse {
        push(
            "responsible",
            "the party responsible for the jointly used data changes".to_string(),
            Action::AnnounceBeforehand,
            "APPI 27(6)",
        );
    }
    if o.country != n.country || o.foreign_basis != n.foreign_basis {
        let on_consent =
            n.country != "JP" && n.foreign_basis == Some(crate::model::ForeignBasis::Consent);
        push(
            "country",
            format!("{} → {}", o.country, n.country),
            if on_consent {
                Action::ConsentRequired
            } else {
                Action::PublishNotice
            },
            "APPI 28",
        );
    }
    if o.required_by_law && !n.required_by_law {
        let (action, rule) = widening(n);
        push(
            "required_by_law",
            "no longer required by law".to_string(),
            action,
            rule,
        );
    } else if !o.required_by_law && n.required_by_law {
        push(
            "required_by_law",
            "now required by law".to_string(),
            Action::RecordOnly,
            "APPI 27(1)(i)",
        );
    }
    if o.name != n.name || o.description != n.description || o.policy_url != n.policy_url {
        push(
            "",
            "name, description or policy link changed".to_string(),
            Action::PublishNotice,
            "seed 000 Art. 7; seed 003 Art. 11(5)",
        );
    }
    if o.contract != n.contract || o.measures_checked_on != n.measures_checked_on {
        push(
            "contract",
            "contract or periodic check updated".to_string(),
            Action::RecordOnly,
            "seed 003 Art. 18; APPI 28(3)",
        );
    }
    out
}

/// Who may see what is internal: record it and tell the staff affected (seed 000 Art. 8-1,
/// seed 003 Art. 17).
fn role_changed(old: Option<&Role>, new: Option<&Role>) -> Option<Change> {
    let rule = "seed 000 Art. 8-1; seed 003 Art. 17";
    let (subject, detail) = match (old, new) {
        (None, Some(n)) => (format!("roles[{}]", n.id), "added".to_string()),
        (Some(o), None) => (format!("roles[{}]", o.id), "removed".to_string()),
        (Some(o), Some(n)) => {
            let mut parts = Vec::new();
            let p = plus_minus(
                &added(&o.purposes, &n.purposes),
                &removed(&o.purposes, &n.purposes),
            );
            if !p.is_empty() {
                parts.push(format!("purposes: {p}"));
            }
            let oa: BTreeSet<&str> = o.actions.iter().map(|a| a.as_str()).collect();
            let na: BTreeSet<&str> = n.actions.iter().map(|a| a.as_str()).collect();
            let ga: Vec<&str> = na.difference(&oa).copied().collect();
            let la: Vec<&str> = oa.difference(&na).copied().collect();
            let a = plus_minus(&ga, &la);
            if !a.is_empty() {
                parts.push(format!("actions: {a}"));
            }
            if o.ja != n.ja || o.en != n.en {
                parts.push("renamed".to_string());
            }
            if parts.is_empty() {
                return None;
            }
            (format!("roles[{}]", n.id), parts.join("; "))
        }
        (None, None) => return None,
    };
    Some(Change::new(
        ChangeKind::RoleChanged,
        subject,
        detail,
        Action::RecordOnly,
        rule,
    ))
}

/// The complaint contact and window are knowable (APPI 32(1)(iv), Cabinet Order Art. 10(ii);
/// seed 003 Art. 23).
fn complaint_window_changes(old: &Policy, new: &Policy) -> Vec<Change> {
    let (o, n) = (&old.complaints, &new.complaints);
    let rule = "APPI 32(1)(iv); seed 003 Art. 23";
    let mut out = Vec::new();
    if o.contact != n.contact {
        out.push(Change::new(
            ChangeKind::ComplaintWindowChanged,
            "complaints.contact",
            "changed",
            Action::PublishNotice,
            rule,
        ));
    }
    if o.window != n.window {
        out.push(Change::new(
            ChangeKind::ComplaintWindowChanged,
            "complaints.window",
            format!(
                "days, hours or closed days changed ({}–{} → {}–{})",
                o.window.opens, o.window.closes, n.window.opens, n.window.closes
            ),
            Action::PublishNotice,
            rule,
        ));
    }
    if o.answer_within_business_days != n.answer_within_business_days {
        out.push(Change::new(
            ChangeKind::ComplaintWindowChanged,
            "complaints.answer_within_business_days",
            format!(
                "{} → {} business days",
                o.answer_within_business_days, n.answer_within_business_days
            ),
            Action::PublishNotice,
            rule,
        ));
    }
    out
}

/// The request procedure and fees are knowable (APPI 32(1)(iii), 37, 38).
fn requests_changes(old: &Policy, new: &Policy) -> Vec<Change> {
    let (o, n) = (&old.requests, &new.requests);
    let rule = "APPI 32(1)(iii), 37, 38";
    let mut out = Vec::new();
    let mut field = |name: &str, changed: bool| {
        if changed {
            out.push(Change::new(
                ChangeKind::RequestsChanged,
                format!("requests.{name}"),
                "changed",
                Action::PublishNotice,
                rule,
            ));
        }
    };
    field("procedure", o.procedure != n.procedure);
    field(
        "answer_within_days",
        o.answer_within_days != n.answer_within_days,
    );
    field("identity_methods", o.identity_methods != n.identity_methods);
    field("fees", o.fees != n.fees);
    field("refusal", o.refusal != n.refusal);
    out
}

/// Security control measures are knowable since 2022 (APPI 23, 32(1)(iv), Cabinet Order Art.
/// 10(i)); whether Mamori enforces one is internal.
fn security_changes(old: &Policy, new: &Policy) -> Vec<Change> {
    let rule = "APPI 23, 32(1)(iv)";
    let mut out = Vec::new();
    let find = |p: &Policy, id: &str| p.security.measures.iter().find(|m| m.id == id).cloned();
    for m in &new.security.measures {
        let subject = format!("security.measures[{}]", m.id);
        match find(old, &m.id) {
            None => out.push(Change::new(
                ChangeKind::SecurityChanged,
                subject,
                "added",
                Action::PublishNotice,
                rule,
            )),
            Some(o) if o.ja != m.ja || o.en != m.en => {
                out.push(Change::new(
                    ChangeKind::SecurityChanged,
                    subject,
                    "reworded",
                    Action::PublishNotice,
                    rule,
                ));
            }
            Some(o)
                if o.enforced_by_software != m.enforced_by_software || o.article != m.article =>
            {
                out.push(Change::new(
                    ChangeKind::SecurityChanged,
                    subject,
                    "enforcement or article changed",
                    Action::RecordOnly,
                    "",
                ));
            }
            Some(_) => {}
        }
    }
    for m in old
        .security
        .measures
        .iter()
        .filter(|m| find(new, &m.id).is_none())
    {
        out.push(Change::new(
            ChangeKind::SecurityChanged,
            format!("security.measures[{}]", m.id),
            "removed",
            Action::PublishNotice,
            rule,
        ));
    }
    if old.security.user_advice != new.security.user_advice {
        out.push(Change::new(
            ChangeKind::SecurityChanged,
            "security.user_advice",
            "changed",
            Action::PublishNotice,
            "seed 000 Art. 2",
        ));
    }
    out
}

/// Training is internal (seed 000 Art. 8-2, seed 003 Art. 6).
fn training_changed(old: &Policy, new: &Policy) -> Option<Change> {
    (old.training != new.training).then(|| {
        Change::new(
            ChangeKind::TrainingChanged,
            "training",
            "interval or enforcement changed",
            Action::RecordOnly,
            "seed 000 Art. 8-2; seed 003 Art. 6",
        )
    })
}

/// The school's refund rules are a term of its contracts: new rules apply to contracts made
/// after `refunds.effective`, and are published before then (seed 003 学費返還規定).
fn refunds_changed(old: &Policy, new: &Policy) -> Option<Change> {
    (old.refunds != new.refunds).then(|| {
        Change::new(
            ChangeKind::RefundsChanged,
            "refunds",
            "refund rules changed: they apply only to contracts made after refunds.effective",
            Action::PublishNotice,
            "seed 003 学費返還規定",
        )
    })
}

/// The breach-response settings are internal (APPI 26; seed 003 Art. 13(2)).
fn incidents_changed(old: &Policy, new: &Policy) -> Option<Change> {
    (old.incidents != new.incidents).then(|| {
        Change::new(
            ChangeKind::IncidentsChanged,
            "incidents",
            "the preliminary-report target changed",
            Action::RecordOnly,
            "APPI 26; seed 003 Art. 13(2)",
        )
    })
}

/// The statutory exceptions as the notice states them (APPI 18(3), 27(1)).
fn exceptions_changed(old: &Policy, new: &Policy) -> Option<Change> {
    (old.exceptions != new.exceptions).then(|| {
        Change::new(
            ChangeKind::ExceptionsChanged,
            "exceptions",
            "changed",
            Action::PublishNotice,
            "APPI 18(3), 27(1)",
        )
    })
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::model::{ForeignBasis, Purpose};
    use crate::preset;

    fn chiba() -> Policy {
        Policy::parse(preset("chiba-ia").unwrap(), "chiba-ia").unwrap()
    }
    fn tokyo() -> Policy {
        Policy::parse(preset("tokyo-one").unwrap(), "tokyo-one").unwrap()
    }

    fn only(changes: &[Change], kind: ChangeKind) -> &Change {
        let of: Vec<&Change> = changes.iter().filter(|c| c.kind == kind).collect();
        assert_eq!(of.len(), 1, "expected one {kind:?} in {changes:#?}");
        of[0]
    }

    fn purpose(id: &str, related_to: &[&str]) -> Purpose {
        Purpose {
            id: id.to_string(),
            ja: format!("{id}のため"),
            en: format!("For {id}"),
            related_to: related_to.iter().map(|s| s.to_string()).collect(),
            article: None,
        }
    }

    fn channel_mut<'a>(p: &'a mut Policy, id: &str) -> &'a mut Channel {
        p.channels.iter_mut().find(|c| c.id == id).unwrap()
    }
    fn recipient_mut<'a>(p: &'a mut Policy, id: &str) -> &'a mut Recipient {
        p.recipients.iter_mut().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn identical_policies_have_no_changes() {
        assert!(diff(&chiba(), &chiba()).is_empty());
        assert!(diff(&tokyo(), &tokyo()).is_empty());
    }

    #[test]
    fn diffing_one_preset_against_the_other_classifies_every_change() {
        let changes = diff(&chiba(), &tokyo());
        assert!(needs_publication(&changes));
        // Tokyo One's purposes are notified only by channels chiba-ia does not have.
        let admission = changes
            .iter()
            .find(|c| c.subject == "purposes[admission_screening]")
            .unwrap();
        assert_eq!(admission.action, Action::PublishNotice);
        for c in &changes {
            assert!(!c.line().is_empty());
        }
    }

    #[test]
    fn version_change_alone_needs_nothing() {
        let old = chiba();
        let mut new = old.clone();
        new.version = "2026-04-01".to_string();
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::VersionChanged).action,
            Action::None
        );
        assert_eq!(changes.len(), 1);
        assert!(!needs_publication(&changes));
    }

    #[test]
    fn new_purpose_not_related_to_an_old_one_needs_consent() {
        let old = chiba();
        let mut new = old.clone();
        new.purposes.push(purpose("marketing", &[]));
        channel_mut(&mut new, "supporting_member")
            .purposes
            .push("marketing".into());
        let changes = diff(&old, &new);
        let c = only(&changes, ChangeKind::PurposeAdded);
        assert_eq!(c.subject, "purposes[marketing]");
        assert_eq!(c.action, Action::ConsentRequired);
        assert_eq!(c.rule, "APPI 17(2), 18(1)");
        assert!(needs_consent(&changes));
    }

    #[test]
    fn new_purpose_related_to_an_old_one_needs_only_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        new.purposes
            .push(purpose("renewal_reminder", &["registration_renewal"]));
        channel_mut(&mut new, "supporting_member")
            .purposes
            .push("renewal_reminder".into());
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::PurposeAdded).action,
            Action::PublishNotice
        );
        assert_eq!(
            only(&changes, ChangeKind::ChannelPurposesChanged).action,
            Action::PublishNotice
        );
        assert!(!needs_consent(&changes));
    }

    #[test]
    fn new_purpose_related_only_to_another_new_purpose_needs_consent() {
        let old = chiba();
        let mut new = old.clone();
        new.purposes.push(purpose("a_new", &[]));
        new.purposes.push(purpose("b_new", &["a_new"]));
        channel_mut(&mut new, "volunteer")
            .purposes
            .push("b_new".into());
        let changes = diff(&old, &new);
        let b = changes
            .iter()
            .find(|c| c.subject == "purposes[b_new]")
            .unwrap();
        assert_eq!(b.action, Action::ConsentRequired);
    }

    #[test]
    fn new_purpose_only_for_a_new_channel_needs_only_the_notice() {
        let old = tokyo();
        let mut new = old.clone();
        new.purposes.push(purpose("scholarship", &[]));
        let mut ch = new.channel("inquiry").unwrap().clone();
        ch.id = "scholarship_application".into();
        ch.purposes = vec!["scholarship".into()];
        new.channels.push(ch);
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::PurposeAdded).action,
            Action::PublishNotice
        );
        assert_eq!(
            only(&changes, ChangeKind::ChannelAdded).action,
            Action::PublishNotice
        );
        assert!(!needs_consent(&changes));
    }

    #[test]
    fn reworded_purpose_needs_the_notice() {
        let old = tokyo();
        let mut new = old.clone();
        new.purposes
            .iter_mut()
            .find(|p| p.id == "inquiry_response")
            .unwrap()
            .en = "To answer your questions".into();
        let changes = diff(&old, &new);
        let c = only(&changes, ChangeKind::PurposeReworded);
        assert_eq!(c.action, Action::PublishNotice);
        assert_eq!(
            c.line(),
            "purposes[inquiry_response]: reworded — publish the notice before it takes effect (APPI 21(3))"
        );
    }

    #[test]
    fn removed_purpose_is_record_only() {
        let old = chiba();
        let mut new = old.clone();
        new.purposes.retain(|p| p.id != "material_delivery");
        for c in &mut new.channels {
            c.purposes.retain(|p| p != "material_delivery");
        }
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::PurposeRemoved).action,
            Action::RecordOnly
        );
        assert!(
            changes
                .iter()
                .filter(|c| c.kind == ChangeKind::ChannelPurposesChanged)
                .all(|c| c.action == Action::RecordOnly)
        );
        assert!(!needs_publication(&changes));
    }

    #[test]
    fn channel_gaining_an_unrelated_purpose_needs_consent() {
        let old = chiba();
        let mut new = old.clone();
        channel_mut(&mut new, "event_application")
            .purposes
            .push("material_delivery".into());
        let changes = diff(&old, &new);
        let c = only(&changes, ChangeKind::ChannelPurposesChanged);
        assert_eq!(c.subject, "channels[event_application].purposes");
        assert_eq!(c.action, Action::ConsentRequired);
        assert!(
            c.detail.contains("material_delivery not related"),
            "{}",
            c.detail
        );
    }

    #[test]
    fn channel_gaining_a_related_purpose_needs_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        new.purposes
            .iter_mut()
            .find(|p| p.id == "material_delivery")
            .unwrap()
            .related_to = vec!["registration_contact".into()];
        channel_mut(&mut new, "event_application")
            .purposes
            .push("material_delivery".into());
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::ChannelPurposesChanged).action,
            Action::PublishNotice
        );
    }

    #[test]
    fn channel_losing_a_purpose_is_record_only() {
        let old = tokyo();
        let mut new = old.clone();
        channel_mut(&mut new, "enrollment")
            .purposes
            .retain(|p| p != "fee_management");
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::ChannelPurposesChanged).action,
            Action::RecordOnly
        );
    }

    #[test]
    fn channel_gaining_a_special_care_category_needs_consent() {
        let old = tokyo();
        let mut new = old.clone();
        let ch = channel_mut(&mut new, "admission_application");
        ch.categories.push("health".into());
        ch.special_care_consent = true;
        let changes = diff(&old, &new);
        let c = only(&changes, ChangeKind::ChannelCategoriesChanged);
        assert_eq!(c.action, Action::ConsentRequired);
        assert_eq!(c.rule, "APPI 20(2)");
    }

    #[test]
    fn channel_gaining_an_ordinary_category_needs_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        channel_mut(&mut new, "event_application")
            .categories
            .push("address".into());
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::ChannelCategoriesChanged).action,
            Action::PublishNotice
        );
    }

    #[test]
    fn channel_added_needs_the_notice_and_channel_removed_is_record_only() {
        let old = chiba();
        let mut new = old.clone();
        let mut ch = new.channel("inquiry").unwrap().clone();
        ch.id = "newsletter".into();
        new.channels.push(ch);
        new.channels.retain(|c| c.id != "room_booking");
        let changes = diff(&old, &new);
        assert_eq!(
            only(&changes, ChangeKind::ChannelAdded).action,
            Action::PublishNotice
        );
        assert_eq!(
            only(&changes, ChangeKind::ChannelRemoved).action,
            Action::RecordOnly
        );
    }

    #[test]
    fn longer_retention_needs_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        channel_mut(&mut new, "inquiry").retention = "P2Y".into();
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RetentionChanged);
        assert_eq!(c.subject, "channels[inquiry].retention");
        assert_eq!(c.action, Action::PublishNotice);
    }

    #[test]
    fn shorter_retention_is_record_only() {
        let old = tokyo();
        let mut new = old.clone();
        channel_mut(&mut new, "alumni").retention = "P5Y".into();
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::RetentionChanged).action,
            Action::RecordOnly
        );
    }

    #[test]
    fn the_same_period_spelled_differently_is_no_change() {
        let old = chiba();
        let mut new = old.clone();
        channel_mut(&mut new, "inquiry").retention = "P12M".into();
        assert!(diff(&old, &new).is_empty());
    }

    #[test]
    fn new_third_party_recipient_needs_consent() {
        let old = chiba();
        let mut new = old.clone();
        let mut r = new.recipient("selecttype").unwrap().clone();
        r.id = "newsletter_service".into();
        new.recipients.push(r);
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RecipientAdded);
        assert_eq!(c.action, Action::ConsentRequired);
        assert_eq!(c.rule, "APPI 27(1)");
    }

    #[test]
    fn new_recipient_required_by_law_needs_only_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        let mut r = new.recipient("selecttype").unwrap().clone();
        r.id = "city_office".into();
        r.required_by_law = true;
        new.recipients.push(r);
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::RecipientAdded).action,
            Action::PublishNotice
        );
    }

    #[test]
    fn new_foreign_recipient_on_consent_needs_consent() {
        let old = tokyo();
        let mut new = old.clone();
        let mut r = new.recipient("immigration_agency").unwrap().clone();
        r.id = "agent_abroad".into();
        r.kind = RecipientKind::Entrustment;
        r.required_by_law = false;
        r.country = "VN".into();
        r.foreign_basis = Some(ForeignBasis::Consent);
        new.recipients.push(r);
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RecipientAdded);
        assert_eq!(c.action, Action::ConsentRequired);
        assert_eq!(c.rule, "APPI 28(1)");
    }

    #[test]
    fn new_joint_use_must_be_announced_beforehand() {
        let old = chiba();
        let mut new = old.clone();
        let mut r = new.recipient("selecttype").unwrap().clone();
        r.id = "city_joint".into();
        r.kind = RecipientKind::JointUse;
        r.responsible = Some(Text {
            ja: "千葉市".into(),
            en: "Chiba City".into(),
        });
        new.recipients.push(r);
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RecipientAdded);
        assert_eq!(c.action, Action::AnnounceBeforehand);
        assert_eq!(c.rule, "APPI 27(5)(iii)");
    }

    #[test]
    fn joint_use_purposes_or_responsible_changed_must_be_announced_beforehand() {
        let mut old = chiba();
        let r = recipient_mut(&mut old, "selecttype");
        r.kind = RecipientKind::JointUse;
        r.responsible = Some(Text {
            ja: "当協会".into(),
            en: "The Association".into(),
        });
        let mut new = old.clone();
        let r = recipient_mut(&mut new, "selecttype");
        r.responsible = Some(Text {
            ja: "千葉市".into(),
            en: "Chiba City".into(),
        });
        r.purposes.push("user_contact".into());
        let changes = diff(&old, &new);
        assert_eq!(changes.len(), 2, "{changes:#?}");
        assert!(
            changes
                .iter()
                .all(|c| c.action == Action::AnnounceBeforehand)
        );
        assert!(
            changes.iter().any(
                |c| c.subject == "recipients[selecttype].responsible" && c.rule == "APPI 27(6)"
            )
        );
    }

    #[test]
    fn new_entrustment_is_record_only() {
        let old = chiba();
        let mut new = old.clone();
        let mut r = new.recipient("delivery_carrier").unwrap().clone();
        r.id = "printer".into();
        new.recipients.push(r);
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RecipientAdded);
        assert_eq!(c.action, Action::RecordOnly);
        assert!(c.rule.contains("seed 003 Art. 18"));
    }

    #[test]
    fn recipient_receiving_new_categories_needs_consent() {
        let old = chiba();
        let mut new = old.clone();
        recipient_mut(&mut new, "stripe")
            .categories
            .push("phone".into());
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RecipientChanged);
        assert_eq!(c.subject, "recipients[stripe].categories");
        assert_eq!(c.action, Action::ConsentRequired);
    }

    #[test]
    fn recipient_required_by_law_receiving_new_categories_needs_the_notice() {
        let old = tokyo();
        let mut new = old.clone();
        recipient_mut(&mut new, "immigration_agency")
            .categories
            .push("email".into());
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::RecipientChanged).action,
            Action::PublishNotice
        );
    }

    #[test]
    fn recipient_removed_is_record_only() {
        let old = chiba();
        let mut new = old.clone();
        new.recipients.retain(|r| r.id != "delivery_carrier");
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RecipientRemoved);
        assert_eq!(c.action, Action::RecordOnly);
        assert!(c.detail.contains("erases"));
    }

    #[test]
    fn recipient_moved_abroad_on_consent_needs_consent() {
        let old = chiba();
        let mut new = old.clone();
        let r = recipient_mut(&mut new, "stripe");
        r.country = "US".into();
        r.foreign_basis = Some(ForeignBasis::Consent);
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RecipientChanged);
        assert_eq!(c.subject, "recipients[stripe].country");
        assert_eq!(c.action, Action::ConsentRequired);
    }

    #[test]
    fn recipient_policy_link_changed_needs_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        recipient_mut(&mut new, "stripe").policy_url = Some("https://stripe.com/jp/privacy".into());
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::RecipientChanged).action,
            Action::PublishNotice
        );
    }

    #[test]
    fn category_becoming_special_care_needs_consent() {
        let old = tokyo();
        let mut new = old.clone();
        new.categories
            .iter_mut()
            .find(|c| c.id == "nationality")
            .unwrap()
            .special_care = true;
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::CategorySpecialCareChanged);
        assert_eq!(c.action, Action::ConsentRequired);
        assert_eq!(c.rule, "APPI 2(3), 20(2)");
    }

    #[test]
    fn category_added_or_removed_is_record_only() {
        let old = tokyo();
        let mut new = old.clone();
        let mut cat = new.category("photo").unwrap().clone();
        cat.id = "signature".into();
        new.categories.push(cat);
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::CategoryAdded).action,
            Action::RecordOnly
        );
        let c = diff(&new, &old);
        assert_eq!(
            only(&c, ChangeKind::CategoryRemoved).action,
            Action::RecordOnly
        );
    }

    #[test]
    fn category_reworded_needs_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        new.categories
            .iter_mut()
            .find(|c| c.id == "address")
            .unwrap()
            .ja = "住所(番地まで)".into();
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::CategoryReworded).action,
            Action::PublishNotice
        );
    }

    #[test]
    fn role_change_is_record_only() {
        let old = tokyo();
        let mut new = old.clone();
        let teacher = new.roles.iter_mut().find(|r| r.id == "teacher").unwrap();
        teacher.purposes.push("fee_management".into());
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RoleChanged);
        assert_eq!(c.action, Action::RecordOnly);
        assert_eq!(c.detail, "purposes: adds fee_management");
    }

    #[test]
    fn organization_change_needs_the_notice() {
        let old = tokyo();
        let mut new = old.clone();
        new.organization.phone = "043-330-9999".into();
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::OrganizationChanged);
        assert_eq!(c.subject, "organization.phone");
        assert_eq!(c.action, Action::PublishNotice);
    }

    #[test]
    fn complaint_window_change_needs_the_notice() {
        let old = tokyo();
        let mut new = old.clone();
        new.complaints.window.closes = "17:00".into();
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::ComplaintWindowChanged);
        assert_eq!(c.action, Action::PublishNotice);
        assert!(c.detail.contains("10:00–16:00 → 10:00–17:00"));
    }

    #[test]
    fn requests_change_needs_the_notice() {
        let old = chiba();
        let mut new = old.clone();
        new.requests.fees[1].yen = 500;
        let c = diff(&old, &new);
        let c = only(&c, ChangeKind::RequestsChanged);
        assert_eq!(c.subject, "requests.fees");
        assert_eq!(c.action, Action::PublishNotice);
    }

    #[test]
    fn security_measure_removed_needs_the_notice_and_enforcement_is_internal() {
        let old = chiba();
        let mut new = old.clone();
        new.security.measures.retain(|m| m.id != "firewall");
        new.security.measures[0].enforced_by_software = false;
        let c = diff(&old, &new);
        assert_eq!(c.len(), 2);
        assert!(c.iter().any(
            |x| x.subject == "security.measures[firewall]" && x.action == Action::PublishNotice
        ));
        assert!(c.iter().any(|x| x.action == Action::RecordOnly));
    }

    #[test]
    fn training_change_is_record_only() {
        let old = tokyo();
        let mut new = old.clone();
        new.training.as_mut().unwrap().interval = "P6M".into();
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::TrainingChanged).action,
            Action::RecordOnly
        );
    }

    #[test]
    fn refund_rules_change_needs_the_notice() {
        let old = tokyo();
        let mut new = old.clone();
        new.refunds.as_mut().unwrap().rules[4].retain_first_months = Some(3);
        let c = diff(&old, &new);
        assert_eq!(
            only(&c, ChangeKind::RefundsChanged).action,
            Action::PublishNotice
        );
    }

    #[test]
    fn changes_serialize_in_snake_case() {
        #[derive(Serialize)]
        struct Out {
            changes: Vec<Change>,
        }
        let old = chiba();
        let mut new = old.clone();
        new.purposes.push(purpose("marketing", &[]));
        let text = toml::to_string(&Out {
            changes: diff(&old, &new),
        })
        .unwrap();
        assert!(text.contains("kind = \"purpose_added\""), "{text}");
        assert!(text.contains("action = \"consent_required\""), "{text}");
        assert_eq!(Action::ConsentRequired.as_str(), "consent_required");
    }

    #[test]
    fn strongest_and_helpers_order_actions() {
        assert!(Action::ConsentRequired > Action::AnnounceBeforehand);
        assert!(Action::AnnounceBeforehand > Action::PublishNotice);
        assert!(Action::PublishNotice > Action::RecordOnly);
        assert_eq!(strongest(&[]), Action::None);
        let old = chiba();
        let mut new = old.clone();
        new.purposes.push(purpose("marketing", &[]));
        new.organization.phone = "0".into();
        let c = diff(&old, &new);
        assert_eq!(consent_changes(&c).len(), 1);
        assert!(needs_publication(&c));
    }
}
