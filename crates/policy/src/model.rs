//! The policy file's model: what an organization promises in its privacy policy, as data.
//!
//! Every published notice, access rule, recipient, retention period and office window in Mamori
//! is derived from one `Policy` value (DESIGN.md, "The policy file"), so what is published and
//! what is enforced cannot drift apart. Unknown keys are refused (`deny_unknown_fields`) so a typo
//! in a policy is an error, not a silently ignored promise.

use serde::{Deserialize, Serialize};

/// Text in both of Mamori's languages. Japanese is the authoritative text (the seeds are in
/// Japanese); English is the courtesy translation the portal offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

/// The two languages of notices, portal pages and letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ja" => Ok(Lang::Ja),
            "en" => Ok(Lang::En),
            other => Err(format!("\"{other}\" is not a language: use ja or en")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy's own version, conventionally the date it was written (`2026-04-01`).
    pub version: String,
    /// The preamble of the published policy (seed 000's opening paragraph, seed 003's 方針).
    #[serde(default)]
    pub preamble: Text,
    pub organization: Organization,
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    #[serde(default)]
    pub roles: Vec<Role>,
    pub complaints: Complaints,
    pub requests: Requests,
    pub security: Security,
    #[serde(default)]
    pub training: Option<Training>,
    #[serde(default)]
    pub refunds: Option<Refunds>,
    /// Breach (漏えい等) response: the preliminary-report target (APPI 26; rule 8).
    #[serde(default)]
    pub incidents: Incidents,
    /// Statutory exceptions under which personal data may be used or provided without consent
    /// (APPI 18(3), 27(1); seed 000 Art. 7, seed 003 Arts. 9(3), 20(1)).
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// How the policy is revised and the revision made known (seed 000 Art. 10).
    #[serde(default)]
    pub revisions: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub name: Text,
    pub address: Text,
    /// The representative (APPI 32(1)(i) since 2022: name of the representative for a corporation).
    pub representative: Text,
    pub phone: String,
    #[serde(default)]
    pub fax: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The personal-information protection manager (seed 000 Art. 2, seed 003 Art. 4).
    pub manager: Text,
    /// Where requests and questions go (seed 000 Art. 11 お問い合わせ窓口).
    pub contact_window: Text,
    /// The date the policy was first established (制定日).
    #[serde(default)]
    pub established: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    pub ja: String,
    pub en: String,
    /// For a purpose added in a revision: the earlier purposes it is reasonably related to
    /// (APPI 17(2)). A new purpose related to none of them needs consent (APPI 18(1)).
    #[serde(default)]
    pub related_to: Vec<String>,
    /// The seed article this purpose comes from, for the notice and `docs/seeds.md`.
    #[serde(default)]
    pub article: Option<String>,
}

/// How a category's values are checked at the edge (DESIGN.md "Validated value types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// Free text: no control characters, no card numbers.
    #[default]
    Text,
    Name,
    Kana,
    Email,
    Phone,
    PostalCode,
    Date,
    Gender,
    Country,
    PassportNumber,
    ResidenceCardNumber,
    /// A payment processor's token (seed 000 Art. 7-1: never card data).
    Token,
    /// A technical identifier (device id, cookie id, advertising id, IP address).
    Identifier,
}

impl Validation {
    pub const ALL: [Validation; 13] = [
        Validation::Text,
        Validation::Name,
        Validation::Kana,
        Validation::Email,
        Validation::Phone,
        Validation::PostalCode,
        Validation::Date,
        Validation::Gender,
        Validation::Country,
        Validation::PassportNumber,
        Validation::ResidenceCardNumber,
        Validation::Token,
        Validation::Identifier,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub ja: String,
    pub en: String,
    /// 要配慮個人情報 (APPI 2(3)): acquisition needs the principal's consent (APPI 20(2)).
    #[serde(default)]
    pub special_care: bool,
    #[serde(default)]
    pub validation: Validation,
    /// Acquired automatically by using the website (seed 000 Art. 5-2).
    #[serde(default)]
    pub automatic: bool,
    /// Searchable by exact match through a keyed blind index (name, email, phone).
    #[serde(default)]
    pub searchable: bool,
    /// A retention period for this category that is shorter than its channel's (ISO 8601, `P1Y`).
    #[serde(default)]
    pub retention: Option<String>,
}

/// What the retention period is counted from (seed 000 Art. 8-4, seed 003 Art. 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RetentionFrom {
    /// The last contact or activity with the principal (a correction, a renewal, a request).
    #[default]
    LastActivity,
    /// The day the data was collected.
    Collection,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub id: String,
    pub ja: String,
    pub en: String,
    /// The categories collected through this channel (seed 000 Art. 5).
    pub categories: Vec<String>,
    /// The purposes notified when collecting through this channel (APPI 21(1)/(2)).
    pub purposes: Vec<String>,
    /// How long data from this channel is kept (ISO 8601 duration, e.g. `P3Y`).
    pub retention: String,
    #[serde(default)]
    pub retention_from: RetentionFrom,
    /// Why this period: said in the ledger and the notice.
    #[serde(default)]
    pub retention_note: Option<Text>,
    #[serde(default)]
    pub article: Option<String>,
    /// Collected automatically (web access): never registered by a clerk.
    #[serde(default)]
    pub automatic: bool,
    /// The channel's form obtains the principal's consent to acquire special-care-required
    /// categories (APPI 20(2)); required when it collects any.
    #[serde(default)]
    pub special_care_consent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// 第三者提供 (APPI 27).
    ThirdParty,
    /// 委託 (APPI 27(5)(i)): not a third party; the contractor must be supervised (APPI 25).
    Entrustment,
    /// 共同利用 (APPI 27(5)(iii)): not a third party when announced beforehand.
    JointUse,
}

impl RecipientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::ThirdParty => "third_party",
            RecipientKind::Entrustment => "entrustment",
            RecipientKind::JointUse => "joint_use",
        }
    }
}

/// The basis for providing personal data to a recipient in a foreign country (APPI 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignBasis {
    /// A country the PPC's rules recognise as equivalent (the EU and the UK; APPI 28(1), rule 15).
    EquivalentCountry,
    /// The recipient keeps measures equivalent to APPI's (APPI 28(1), rule 16), checked periodically
    /// (APPI 28(3), rule 18).
    EquivalentMeasures,
    /// The principal consented after being told the country, its regime and the recipient's
    /// measures (APPI 28(2), rule 17).
    Consent,
}

/// The six clauses seed 003 Art. 18(1) requires in every entrustment contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractClause {
    /// (1) 個人情報に関する秘密保持等の義務
    Confidentiality,
    /// (2) 再委託の制限又は条件に関する事項
    Subcontracting,
    /// (3) 個人データの複製等の制限に関する事項
    CopyRestriction,
    /// (4) 個人データの漏えい等の事案の発生時における対応に関する事項
    IncidentResponse,
    /// (5) 委託終了時における個人データの消去及び媒体の返却に関する事項
    ReturnAndErasure,
    /// (6) 違反した場合における契約解除の措置その他必要な事項
    Termination,
}

impl ContractClause {
    pub const ALL: [ContractClause; 6] = [
        ContractClause::Confidentiality,
        ContractClause::Subcontracting,
        ContractClause::CopyRestriction,
        ContractClause::IncidentResponse,
        ContractClause::ReturnAndErasure,
        ContractClause::Termination,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContractClause::Confidentiality => "confidentiality",
            ContractClause::Subcontracting => "subcontracting",
            ContractClause::CopyRestriction => "copy_restriction",
            ContractClause::IncidentResponse => "incident_response",
            ContractClause::ReturnAndErasure => "return_and_erasure",
            ContractClause::Termination => "termination",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// The clauses the signed contract contains.
    pub clauses: Vec<ContractClause>,
    /// When the contract (and the contractor's handling) was last reviewed, `YYYY-MM-DD`.
    #[serde(default)]
    pub reviewed_on: Option<String>,
    /// How often it must be reviewed (ISO 8601 duration, e.g. `P1Y`).
    #[serde(default)]
    pub review_every: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub id: String,
    pub name: Text,
    pub kind: RecipientKind,
    /// ISO 3166-1 alpha-2 country code of the recipient (`JP`, `US`, …).
    pub country: String,
    /// The categories it may receive: nothing else is ever provided to it.
    pub categories: Vec<String>,
    /// The purposes for which it receives them.
    pub purposes: Vec<String>,
    /// What it does with the data, in the notice's words.
    #[serde(default)]
    pub description: Text,
    /// The recipient's own privacy policy (seed 000 Art. 7 links to it).
    #[serde(default)]
    pub policy_url: Option<String>,
    /// The basis for a recipient abroad (APPI 28); required when `country` is not `JP`.
    #[serde(default)]
    pub foreign_basis: Option<ForeignBasis>,
    /// For `equivalent_measures`: the date of the last periodic check (APPI 28(3)).
    #[serde(default)]
    pub measures_checked_on: Option<String>,
    /// How often the recipient's equivalent measures are checked (ISO 8601, default `P1Y`);
    /// provision is refused once a check is overdue (APPI 28(3), rule 18).
    #[serde(default)]
    pub measures_check_every: Option<String>,
    /// For `consent` abroad: what the principal is told before consenting — the country, its
    /// system for protecting personal information, and the recipient's measures (APPI 28(2),
    /// rule 17(2)).
    #[serde(default)]
    pub foreign_information: Option<Text>,
    /// The recipient's address and representative, kept in provision records (APPI 29, rule 20).
    #[serde(default)]
    pub address: Option<Text>,
    /// A contract with the recipient stands in for the provision record: records are kept one
    /// year instead of three (APPI 29(2), rule 21).
    #[serde(default)]
    pub record_by_contract: bool,
    /// The contract with a contractor (entrustment, seed 003 Art. 18).
    #[serde(default)]
    pub contract: Option<Contract>,
    /// Provision to this recipient is required by a law (e.g. the Immigration Control Act):
    /// APPI 27(1)(i), no consent needed and no provision record (APPI 29(1) proviso).
    #[serde(default)]
    pub required_by_law: bool,
    /// For joint use (APPI 27(5)(iii)): who is responsible for the data.
    #[serde(default)]
    pub responsible: Option<Text>,
    #[serde(default)]
    pub article: Option<String>,
}

/// What a staff role may do. Personal values are released only through `read`, and only for
/// the role's purposes (seed 000 Art. 8-1: the fewest staff, seed 003 Art. 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Register principals (add, import).
    Register,
    /// Reveal personal values for a purpose (show, find).
    Read,
    /// Correct personal values.
    Correct,
    /// Record consent given or withdrawn.
    Consent,
    /// Provide personal data to a recipient.
    Provide,
    /// Handle principals' requests.
    Requests,
    /// Handle complaints.
    Complaints,
    /// Manage breach incidents (the manager, seed 003 Art. 13(2)); reporting one needs no
    /// action: every staff member may (Art. 7(3)).
    Incidents,
    /// Run retention sweeps and disposal.
    Retention,
    /// Read the audit log (ids and categories, never values).
    Audit,
    /// Read the ledger (seed 003 Art. 15).
    Ledger,
    /// Manage staff accounts and roles.
    Staff,
    /// Apply a new policy version.
    Policy,
    /// Record training and pledges.
    Training,
    /// Inspections, audits, the committee.
    Governance,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Read => "read",
            Action::Correct => "correct",
            Action::Consent => "consent",
            Action::Provide => "provide",
            Action::Requests => "requests",
            Action::Complaints => "complaints",
            Action::Incidents => "incidents",
            Action::Retention => "retention",
            Action::Audit => "audit",
            Action::Ledger => "ledger",
            Action::Staff => "staff",
            Action::Policy => "policy",
            Action::Training => "training",
            Action::Governance => "governance",
        }
    }

    /// Whether the action handles principals' data (registers, reveals, changes, provides or
    /// disposes of it, or handles their requests, complaints and breaches). The administrator
    /// holds none of these: it manages the system, never the data (seed 000 Art. 8-1, seed 003
    /// Arts. 4, 5: duties kept apart).
    pub fn handles_personal_data(self) -> bool {
        matches!(
            self,
            Action::Register
                | Action::Read
                | Action::Correct
                | Action::Consent
                | Action::Provide
                | Action::Requests
                | Action::Complaints
                | Action::Incidents
                | Action::Retention
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub ja: String,
    pub en: String,
    /// The purposes this role may use personal data for.
    #[serde(default)]
    pub purposes: Vec<String>,
    pub actions: Vec<Action>,
}

/// A weekday in the office window (`mon` … `sun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedPeriod {
    /// `MM-DD`, inclusive; the period may wrap over the new year (`12-29` to `01-03`).
    pub from: String,
    pub to: String,
}

/// An office window (seed 003 Art. 23(3)): days, hours, closed days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub days: Vec<Day>,
    /// `HH:MM`, Japan time; `opens` inclusive, `closes` exclusive.
    pub opens: String,
    pub closes: String,
    /// Closed on national holidays and substitute holidays (Art. 23(3)(1)).
    #[serde(default)]
    pub closed_on_holidays: bool,
    #[serde(default)]
    pub closed_periods: Vec<ClosedPeriod>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaints {
    /// The complaint window (苦情受付窓口, seed 003 Art. 23(2)).
    pub contact: Text,
    pub window: Window,
    /// Business days within which a complaint is to be answered (Art. 23(1) "迅速な処理").
    pub answer_within_business_days: u32,
}

/// A principal's identity check method (seed 000 Art. 9 para. 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMethod {
    InPersonResidenceCard,
    InPersonIdDocument,
    MailedCode,
    EmailCode,
}

impl IdentityMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityMethod::InPersonResidenceCard => "in_person_residence_card",
            IdentityMethod::InPersonIdDocument => "in_person_id_document",
            IdentityMethod::MailedCode => "mailed_code",
            IdentityMethod::EmailCode => "email_code",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    PurposeNotice,
    Disclosure,
    Correction,
    Suspension,
    Erasure,
    ProvisionStop,
}

impl RequestKind {
    pub const ALL: [RequestKind; 6] = [
        RequestKind::PurposeNotice,
        RequestKind::Disclosure,
        RequestKind::Correction,
        RequestKind::Suspension,
        RequestKind::Erasure,
        RequestKind::ProvisionStop,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::PurposeNotice => "purpose-notice",
            RequestKind::Disclosure => "disclosure",
            RequestKind::Correction => "correction",
            RequestKind::Suspension => "suspension",
            RequestKind::Erasure => "erasure",
            RequestKind::ProvisionStop => "provision-stop",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub kind: RequestKind,
    /// The fee in yen (APPI 38: a reasonable amount considering actual costs); 0 = free.
    pub yen: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requests {
    /// How a principal makes a request (APPI 32(1)(iii), 37).
    pub procedure: Text,
    /// Calendar days within which a request is answered (APPI 39's "two weeks" by default).
    pub answer_within_days: u32,
    pub identity_methods: Vec<IdentityMethod>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// Why a request may be refused, as the policy says it (seed 000 Art. 9 para. 4).
    #[serde(default)]
    pub refusal: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub id: String,
    pub ja: String,
    pub en: String,
    /// Enforced by Mamori itself (a rule, a key, a log) rather than recorded only.
    #[serde(default)]
    pub enforced_by_software: bool,
    #[serde(default)]
    pub article: Option<String>,
}

/// Security control measures (安全管理措置, APPI 23; made knowable under APPI 32(1)(iv)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    pub measures: Vec<Measure>,
    /// A word to users about their own devices (seed 000 Art. 2 para. 2).
    #[serde(default)]
    pub user_advice: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Staff whose last training is older than this (ISO 8601 duration) are flagged.
    pub interval: String,
    /// Refuse access to personal values to staff whose training is overdue.
    #[serde(default)]
    pub block_when_overdue: bool,
}

/// Breach (漏えい等) response (seed 003 Arts. 7(3), 13(2); APPI 26, rules 7-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incidents {
    /// Days within which the preliminary report (速報) to the PPC is due, the day the
    /// organization became aware counted as day 1. Rule 8(1) says "promptly"; the PPC's
    /// guidelines say about 3 to 5 days, so 1 to 5 is accepted and 5 is the default.
    #[serde(default = "Incidents::default_preliminary_report_days")]
    pub preliminary_report_days: u32,
}

impl Incidents {
    pub const DEFAULT_PRELIMINARY_REPORT_DAYS: u32 = 5;
    fn default_preliminary_report_days() -> u32 {
        Self::DEFAULT_PRELIMINARY_REPORT_DAYS
    }
}

impl Default for Incidents {
    fn default() -> Self {
        Incidents {
            preliminary_report_days: Self::DEFAULT_PRELIMINARY_REPORT_DAYS,
        }
    }
}

/// A fee item of the school (seed 003 学費返還規定).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeItem {
    pub id: String,
    pub ja: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRule {
    /// `coe_not_issued`, `visa_not_applied`, `visa_refused`, `withdrew_before_arrival`,
    /// `withdrew_after_enrollment`.
    pub event: String,
    pub ja: String,
    pub en: String,
    /// Fee items that are kept by the school; everything else paid is refunded.
    #[serde(default)]
    pub retain: Vec<String>,
    /// For withdrawal after enrollment: tuition for the first N months is never refunded.
    #[serde(default)]
    pub retain_first_months: Option<u32>,
    /// For withdrawal after enrollment: tuition for the terms after the one in which the notice
    /// was submitted is refunded in full.
    #[serde(default)]
    pub refund_terms_after_notice: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refunds {
    #[serde(default)]
    pub effective: Option<String>,
    pub items: Vec<FeeItem>,
    pub rules: Vec<RefundRule>,
}

/// The statutory exceptions (DESIGN.md: `law`, `life`, `public-health`, `public-agency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExceptionKind {
    Law,
    Life,
    PublicHealth,
    PublicAgency,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 4] = [
        ExceptionKind::Law,
        ExceptionKind::Life,
        ExceptionKind::PublicHealth,
        ExceptionKind::PublicAgency,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::Law => "law",
            ExceptionKind::Life => "life",
            ExceptionKind::PublicHealth => "public-health",
            ExceptionKind::PublicAgency => "public-agency",
        }
    }
    /// The APPI paragraph the exception comes from (Art. 18(3) for use, 27(1) for provision).
    pub fn appi_item(self) -> &'static str {
        match self {
            ExceptionKind::Law => "(i)",
            ExceptionKind::Life => "(ii)",
            ExceptionKind::PublicHealth => "(iii)",
            ExceptionKind::PublicAgency => "(iv)",
        }
    }
}

impl std::str::FromStr for ExceptionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExceptionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("\"{s}\" is not a statutory exception: use law, life, public-health or public-agency"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub kind: ExceptionKind,
    pub ja: String,
    pub en: String,
}
