//! Breach (漏えい等) response with the regulator's deadlines (issue 9).
//!
//! Seed 003 Art. 7(3): a staff member who finds that a leak, loss or damage of personal data
//! happened or may have happened reports it to the manager — so any staff member may open an
//! incident ([`Mamori::incident_open`]), whatever their role. Art. 13(2): the manager
//! investigates promptly and, with the staff concerned, takes the measures to stop the damage
//! spreading, recover and prevent recurrence — so every other step needs the role action
//! `incidents` (the manager's in both presets), refused with the rule otherwise.
//!
//! APPI 26 and PPC rules 7-10 decide whether the PPC and the principals must be told and by
//! when ([`mamori_domain::incident::assess`]); the assessment is stored with the incident and
//! redone whenever the facts change ([`Mamori::incident_update`]). The manager records the
//! steps (containment, investigation, secondary damage, recovery, prevention), selects the
//! principals affected from the registry, drafts the preliminary and final reports with the
//! nine items of rule 8(1) ([`render_report`]), drafts the notice to the principals with the
//! items of rule 10 ([`render_notice`]) or records a substitute measure (publication, an
//! inquiry desk; APPI 26(2) proviso), records when each report went to the PPC, and closes the
//! incident. `incident list` flags a report not submitted by its due date as overdue.
//!
//! What the reporter described and every text the manager records may hold personal
//! information: sealed under the incident's own data key (owner id = the incident id), never
//! written in clear, logged or echoed in errors. The audit log gets every step with ids only.

use jiff::Timestamp;
use jiff::civil::Date;
use mamori_calendar::{JST, format_jst};
use mamori_domain::incident::{Assessment, Facts, assess, is_overdue};
use mamori_policy::notice::escape_html;
use mamori_policy::{Action, Lang, Policy};
use mamori_store::crypto::{field_aad, random_hex, seal_with};
use mamori_store::incidents::{
    IncidentAssessment, IncidentNoticeRow, IncidentRow, IncidentStepRow,
};
use mamori_store::{AuditDraft, Key32, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError};

/// The longest description or step text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(msg.into())
}

// ---- the vocabulary --------------------------------------------------------------------------

/// What the manager records (seed 003 Art. 13(2); rule 8(1)(iv), (v), (viii)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Stopping the damage from spreading (被害の拡大防止).
    Containment,
    /// The investigation and the cause (原因, rule 8(1)(iv)).
    Investigation,
    /// Secondary damage or its risk and what it is (二次被害, rule 8(1)(v)).
    Damage,
    /// Recovery (復旧).
    Recovery,
    /// Measures to prevent recurrence (再発防止, rule 8(1)(viii)).
    Prevention,
}

impl StepKind {
    pub const ALL: [StepKind; 5] = [
        StepKind::Containment,
        StepKind::Investigation,
        StepKind::Damage,
        StepKind::Recovery,
        StepKind::Prevention,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Containment => "containment",
            StepKind::Investigation => "investigation",
            StepKind::Damage => "damage",
            StepKind::Recovery => "recovery",
            StepKind::Prevention => "prevention",
        }
    }
    /// Reads `--step`.
    ///
    /// # Errors
    /// `BadInput` naming `field`.
    pub fn parse(s: &str, field: &str) -> Result<StepKind> {
        StepKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                bad(format!(
                    "{field}: not a step: use containment, investigation, damage, recovery or prevention"
                ))
            })
    }
}

/// The two reports to the PPC (rule 8(1) and (2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 速報: promptly (about 3-5 days).
    Preliminary,
    /// 確報: within 30 days, 60 for a wrongful purpose.
    Final,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Preliminary => "preliminary",
            Stage::Final => "final",
        }
    }
    /// Reads `--stage`.
    ///
    /// # Errors
    /// `BadInput` naming `field`.
    pub fn parse(s: &str, field: &str) -> Result<Stage> {
        match s.trim() {
            "preliminary" => Ok(Stage::Preliminary),
            "final" => Ok(Stage::Final),
            _ => Err(bad(format!(
                "{field}: not a stage: use preliminary or final"
            ))),
        }
    }
}

/// How the principals were told (APPI 26(2) and its proviso).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeMethod {
    /// The notice was sent to the principals.
    Notice,
    /// Substitute measure: the incident was published (公表; also rule 8(1)(vii)).
    Publication,
    /// Substitute measure: an inquiry desk was set up (問合せ窓口).
    InquiryDesk,
}

impl NoticeMethod {
    pub const ALL: [NoticeMethod; 3] = [
        NoticeMethod::Notice,
        NoticeMethod::Publication,
        NoticeMethod::InquiryDesk,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeMethod::Notice => "notice",
            NoticeMethod::Publication => "publication",
            NoticeMethod::InquiryDesk => "inquiry_desk",
        }
    }
    /// Reads `--record` (`inquiry-desk` and `inquiry_desk` alike).
    ///
    /// # Errors
    /// `BadInput` naming `field`.
    pub fn parse(s: &str, field: &str) -> Result<NoticeMethod> {
        let s = s.trim().replace('-', "_");
        NoticeMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                bad(format!(
                    "{field}: not a way of telling the principals: use notice, publication or inquiry-desk"
                ))
            })
    }
}

// ---- pure helpers ----------------------------------------------------------------------------

/// `incident assess`: facts JSON → the assessment, in DESIGN.md's shape.
///
/// # Errors
/// `BadInput` naming the field.
pub fn assess_json(facts: &serde_json::Value, preliminary_report_days: u32) -> Result<Assessment> {
    let f = Facts::from_json(facts, &[]).map_err(|e| bad(e.to_string()))?;
    Ok(assess(&f, preliminary_report_days))
}

/// Reads JSON text (standard input, a request body) as the facts object.
///
/// # Errors
/// `BadInput` naming `facts` when it is not JSON; the text is never echoed.
pub fn parse_facts_text(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "facts: not valid JSON (line {}, column {}): give an object such as {{\"discovered_on\": \"2026-04-01\", \"principals_affected\": 12, \"special_care_data\": false, \"financial_damage_risk\": false, \"wrongful_purpose\": false, \"high_level_encryption\": false}}",
            e.line(),
            e.column()
        ))
    })
}

fn check_text(text: &str, field: &str) -> Result<String> {
    crate::sealed_text::check(text, field, MAX_TEXT_CHARS, "write what happened")
}

fn parse_date_arg(s: &str, field: &str) -> Result<Date> {
    mamori_calendar::parse_date(s).map_err(|_| {
        bad(format!(
            "{field}: not a date: use YYYY-MM-DD such as 2026-04-01"
        ))
    })
}

/// The Japan date at `now`.
pub fn japan_date(now: Timestamp) -> Date {
    JST.to_datetime(now).date()
}

fn stored_date(s: &str, id: &str, what: &str) -> Result<Date> {
    s.parse::<Date>().map_err(|_| {
        ServiceError::Failed(format!("incident {id}: the stored {what} is not a date"))
    })
}

fn facts_of(row: &IncidentRow) -> Result<Facts> {
    Ok(Facts {
        discovered_on: stored_date(&row.discovered_on, &row.id, "discovered_on")?,
        principals_affected: u64::try_from(row.principals_affected).unwrap_or(0),
        special_care_data: row.special_care_data,
        financial_damage_risk: row.financial_damage_risk,
        wrongful_purpose: row.wrongful_purpose,
        high_level_encryption: row.high_level_encryption,
    })
}

fn stored_assessment(f: &Facts, a: &Assessment) -> Result<IncidentAssessment> {
    Ok(IncidentAssessment {
        discovered_on: f.discovered_on.to_string(),
        principals_affected: i64::try_from(f.principals_affected).map_err(|_| {
            bad("principals_affected: too large: give the number of people whose data is affected")
        })?,
        special_care_data: f.special_care_data,
        financial_damage_risk: f.financial_damage_risk,
        wrongful_purpose: f.wrongful_purpose,
        high_level_encryption: f.high_level_encryption,
        reportable: a.reportable,
        grounds: a.grounds.iter().map(|g| g.as_str().to_string()).collect(),
        preliminary_due: a.preliminary_due.to_string(),
        final_due: a.final_due.map(|d| d.to_string()),
    })
}

// ---- outputs ---------------------------------------------------------------------------------

/// `incident open` → the id and the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opened {
    pub id: String,
    #[serde(flatten)]
    pub assessment: Assessment,
}

/// An incident as listed: ids, counts, flags and dates; no text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentInfo {
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    pub discovered_on: String,
    pub principals_affected: i64,
    /// Affected principals selected from the registry.
    pub registered_principals: i64,
    pub special_care_data: bool,
    pub financial_damage_risk: bool,
    pub wrongful_purpose: bool,
    pub high_level_encryption: bool,
    pub reportable: bool,
    pub grounds: Vec<String>,
    pub preliminary_due: String,
    pub final_due: Option<String>,
    pub notify_principals: bool,
    pub preliminary_submitted_on: Option<String>,
    pub final_submitted_on: Option<String>,
    /// A notice or a substitute measure is on record.
    pub principals_notified: bool,
    /// Any step is overdue.
    pub overdue: bool,
    /// `preliminary_report`, `final_report`: not submitted and past the due date.
    pub overdue_steps: Vec<&'static str>,
    /// What remains before the incident can be closed.
    pub pending_steps: Vec<&'static str>,
    pub categories: Vec<String>,
    pub opened_by: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

fn info(row: &IncidentRow, registered: i64, notified: bool, today: Date) -> IncidentInfo {
    let closed = row.status == "closed";
    let prelim_due = row.preliminary_due.parse::<Date>().ok();
    let final_due = row
        .final_due
        .as_deref()
        .and_then(|d| d.parse::<Date>().ok());
    let final_done = row.final_submitted_on.is_some();
    // A final report submitted also stands for the preliminary one.
    let prelim_done = row.preliminary_submitted_on.is_some() || final_done;
    let mut overdue_steps = Vec::new();
    let mut pending_steps = Vec::new();
    if row.reportable && !closed {
        if is_overdue(prelim_due, prelim_done, today) {
            overdue_steps.push("preliminary_report");
        }
        if is_overdue(final_due, final_done, today) {
            overdue_steps.push("final_report");
        }
        if !prelim_done {
            pending_steps.push("preliminary_report");
        }
        if !final_done {
            pending_steps.push("final_report");
        }
        if !notified {
            pending_steps.push("principal_notice");
        }
    }
    IncidentInfo {
        id: row.id.clone(),
        status: row.status.clone(),
        discovered_on: row.discovered_on.clone(),
        principals_affected: row.principals_affected,
        registered_principals: registered,
        special_care_data: row.special_care_data,
        financial_damage_risk: row.financial_damage_risk,
        wrongful_purpose: row.wrongful_purpose,
        high_level_encryption: row.high_level_encryption,
        reportable: row.reportable,
        grounds: row.grounds.clone(),
        preliminary_due: row.preliminary_due.clone(),
        final_due: row.final_due.clone(),
        notify_principals: row.reportable,
        preliminary_submitted_on: row.preliminary_submitted_on.clone(),
        final_submitted_on: row.final_submitted_on.clone(),
        principals_notified: notified,
        overdue: !overdue_steps.is_empty(),
        overdue_steps,
        pending_steps,
        categories: row.categories.clone(),
        opened_by: row.opened_by.clone(),
        opened_at: row.opened_at.clone(),
        closed_at: row.closed_at.clone(),
        closed_by: row.closed_by.clone(),
    }
}

/// A recorded step, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub id: String,
    pub kind: String,
    pub at: String,
    pub staff: String,
    pub text: String,
}

/// A notice or substitute measure, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeRecord {
    pub id: String,
    pub method: String,
    pub done_on: String,
    pub at: String,
    pub staff: String,
    pub text: Option<String>,
}

/// `incident show`: everything, texts opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub info: IncidentInfo,
    /// Why it is (not) reportable, citing rule 7.
    pub reasons: Vec<String>,
    pub description: String,
    pub steps: Vec<Step>,
    pub principals: Vec<String>,
    pub notices: Vec<NoticeRecord>,
}

/// `incident record` → the step's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepAdded {
    pub incident_id: String,
    pub step_id: String,
    pub kind: String,
    pub at: String,
}

/// One of the nine items of rule 8(1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportItem {
    /// 1-9, the item of rule 8(1).
    pub item: u8,
    pub key: &'static str,
    pub title: &'static str,
    pub text: String,
    /// Nothing is on record for it yet.
    pub missing: bool,
}

/// `incident report`: a draft of the preliminary or final report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub id: String,
    pub stage: Stage,
    pub lang: Lang,
    pub due: Option<String>,
    pub reportable: bool,
    pub items: Vec<ReportItem>,
    pub html: String,
}

// ---- the drafts (pure) -----------------------------------------------------------------------

/// What the drafts are made of: the stored incident, its opened texts, the policy's names.
#[derive(Debug, Clone)]
pub struct DraftFacts<'a> {
    pub id: &'a str,
    pub facts: Facts,
    pub assessment: &'a Assessment,
    pub description: &'a str,
    pub steps: &'a [Step],
    pub categories: &'a [String],
    pub registered_principals: i64,
    pub notices: &'a [NoticeRecord],
    pub preliminary_submitted_on: Option<&'a str>,
    pub final_submitted_on: Option<&'a str>,
    /// The date of the draft.
    pub today: Date,
}

/// The facts a report draft and a notice draft are written from.
fn draft_facts<'a>(
    id: &'a str,
    row: &'a IncidentRow,
    detail: &'a IncidentDetail,
    assessment: &'a Assessment,
    today: Date,
) -> Result<DraftFacts<'a>> {
    Ok(DraftFacts {
        id,
        facts: facts_of(row)?,
        assessment,
        description: &detail.description,
        steps: &detail.steps,
        categories: &row.categories,
        registered_principals: detail.info.registered_principals,
        notices: &detail.notices,
        preliminary_submitted_on: row.preliminary_submitted_on.as_deref(),
        final_submitted_on: row.final_submitted_on.as_deref(),
        today,
    })
}

fn date_text(d: Date, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Lang::En => d.to_string(),
    }
}

fn date_str(s: &str, lang: Lang) -> String {
    s.parse::<Date>()
        .map_or_else(|_| s.to_string(), |d| date_text(d, lang))
}

fn steps_text(steps: &[Step], kind: StepKind) -> Option<String> {
    let texts: Vec<String> = steps
        .iter()
        .filter(|s| s.kind == kind.as_str())
        .map(|s| s.text.clone())
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

fn category_names(policy: &Policy, ids: &[String], lang: Lang) -> Vec<String> {
    ids.iter()
        .map(|id| {
            policy.category(id).map_or_else(
                || id.clone(),
                |c| match lang {
                    Lang::Ja => c.ja.clone(),
                    Lang::En => c.en.clone(),
                },
            )
        })
        .collect()
}

/// The nine items of rule 8(1), from what is on record. An item with nothing on record says so
/// and is marked `missing`, so the manager sees what the final report still lacks.
pub fn report_items(policy: &Policy, f: &DraftFacts<'_>, lang: Lang) -> Vec<ReportItem> {
    let tr = |ja: &'static str, en: &'static str| match lang {
        Lang::Ja => ja,
        Lang::En => en,
    };
    let none = tr(
        "(未記録: 調査中)",
        "(nothing on record yet: under investigation)",
    );
    let mut items = Vec::new();
    let mut push = |item: u8, key: &'static str, title: &'static str, text: Option<String>| {
        items.push(ReportItem {
            item,
            key,
            title,
            missing: text.is_none(),
            text: text.unwrap_or_else(|| none.to_string()),
        });
    };

    // (i) 概要
    let grounds = if f.assessment.grounds.is_empty() {
        tr(
            "規則第7条各号のいずれにも該当しない(任意の報告)",
            "none of the situations of PPC rule 7 (a voluntary report)",
        )
        .to_string()
    } else {
        f.assessment
            .grounds
            .iter()
            .map(|g| match lang {
                Lang::Ja => format!("{} ({})", g.ja(), g.rule()),
                Lang::En => format!("{} ({})", g.en(), g.rule()),
            })
            .collect::<Vec<_>>()
            .join(tr("、", "; "))
    };
    let mut summary = match lang {
        Lang::Ja => format!(
            "発覚日: {}\n報告対象事態: {}\n{}",
            date_text(f.facts.discovered_on, lang),
            grounds,
            f.description
        ),
        Lang::En => format!(
            "Became aware on: {}\nReportable situation: {}\n{}",
            date_text(f.facts.discovered_on, lang),
            grounds,
            f.description
        ),
    };
    if let Some(c) = steps_text(f.steps, StepKind::Containment) {
        summary.push_str(&format!(
            "\n{}: {c}",
            tr("被害拡大防止の措置", "Containment")
        ));
    }
    push(1, "summary", tr("概要", "Summary"), Some(summary));

    // (ii) 個人データの項目
    let mut cats = category_names(policy, f.categories, lang);
    if f.facts.special_care_data {
        cats.push(
            tr(
                "要配慮個人情報を含む",
                "includes special-care-required information",
            )
            .to_string(),
        );
    }
    push(
        2,
        "data_items",
        tr(
            "漏えい等が発生し、又は発生したおそれがある個人データの項目",
            "Items of the personal data leaked, lost or damaged, or that may have been",
        ),
        (!cats.is_empty()).then(|| cats.join(tr("、", ", "))),
    );

    // (iii) 本人の数
    let count = match lang {
        Lang::Ja => format!(
            "{}人(うち登録簿で特定済み {}人)",
            f.facts.principals_affected, f.registered_principals
        ),
        Lang::En => format!(
            "{} (of whom {} identified in the registry)",
            f.facts.principals_affected, f.registered_principals
        ),
    };
    push(
        3,
        "principals",
        tr(
            "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数",
            "Number of principals whose personal data is concerned",
        ),
        Some(count),
    );

    // (iv) 原因
    push(
        4,
        "cause",
        tr("原因", "Cause"),
        steps_text(f.steps, StepKind::Investigation),
    );

    // (v) 二次被害又はそのおそれの有無及びその内容
    let mut damage = steps_text(f.steps, StepKind::Damage);
    if damage.is_none() && f.facts.financial_damage_risk {
        damage = Some(
            tr(
                "財産的被害が生じるおそれあり(内容は調査中)",
                "Property damage may result (details under investigation)",
            )
            .to_string(),
        );
    }
    push(
        5,
        "secondary_damage",
        tr(
            "二次被害又はそのおそれの有無及びその内容",
            "Secondary damage or its risk, and what it is",
        ),
        damage,
    );

    // (vi) 本人への対応の実施状況
    let to_principals: Vec<String> = f
        .notices
        .iter()
        .filter(|n| n.method != NoticeMethod::Publication.as_str())
        .map(|n| {
            let what = if n.method == NoticeMethod::Notice.as_str() {
                tr("本人へ通知", "principals notified")
            } else {
                tr(
                    "代替措置: 問合せ窓口の設置",
                    "substitute measure: an inquiry desk",
                )
            };
            let mut line = format!("{} {what}", date_str(&n.done_on, lang));
            if let Some(t) = &n.text {
                line.push_str(&format!(": {t}"));
            }
            line
        })
        .collect();
    push(
        6,
        "response_to_principals",
        tr("本人への対応の実施状況", "Response to the principals"),
        (!to_principals.is_empty()).then(|| to_principals.join("\n")),
    );

    // (vii) 公表の実施状況
    let published: Vec<String> = f
        .notices
        .iter()
        .filter(|n| n.method == NoticeMethod::Publication.as_str())
        .map(|n| {
            let mut line = format!("{} {}", date_str(&n.done_on, lang), tr("公表", "published"));
            if let Some(t) = &n.text {
                line.push_str(&format!(": {t}"));
            }
            line
        })
        .collect();
    push(
        7,
        "publication",
        tr("公表の実施状況", "Publication"),
        (!published.is_empty()).then(|| published.join("\n")),
    );

    // (viii) 再発防止のための措置
    push(
        8,
        "prevention",
        tr("再発防止のための措置", "Measures to prevent recurrence"),
        steps_text(f.steps, StepKind::Prevention),
    );

    // (ix) その他参考となる事項
    let mut other = Vec::new();
    if let Some(r) = steps_text(f.steps, StepKind::Recovery) {
        other.push(format!("{}: {r}", tr("復旧", "Recovery")));
    }
    if let Some(d) = f.preliminary_submitted_on {
        other.push(format!(
            "{}: {}",
            tr("速報の提出日", "Preliminary report submitted on"),
            date_str(d, lang)
        ));
    }
    if !f.assessment.exempted_by_encryption.is_empty() {
        other.push(
            tr(
                "高度な暗号化等の措置が講じられている(規則第7条第1号)",
                "The data was protected by high-level encryption (PPC rule 7(i))",
            )
            .to_string(),
        );
    }
    push(
        9,
        "other",
        tr("その他参考となる事項", "Other matters for reference"),
        (!other.is_empty()).then(|| other.join("\n")),
    );
    items
}

const CSS: &str = "body{font-family:system-ui,'Hiragino Sans','Noto Sans JP',sans-serif;line-height:1.7;color:#111;margin:0}main{max-width:46rem;margin:2rem auto;padding:0 1.5rem}h1{font-size:1.35rem;text-align:center;margin:1.5rem 0}.draft{color:#a00;font-weight:600;text-align:center}.date,.from{text-align:right}table{border-collapse:collapse;width:100%}th,td{border:1px solid #888;padding:.4rem .6rem;vertical-align:top;text-align:left}th{width:32%;background:#f3f3f3}.missing{color:#a00}@media print{main{margin:0;max-width:none}body{font-size:10.5pt}}";

fn lines_html(s: &str) -> String {
    s.lines()
        .map(escape_html)
        .collect::<Vec<_>>()
        .join("<br>\n")
}

fn head(title: &str, lang: Lang) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        match lang {
            Lang::Ja => "ja",
            Lang::En => "en",
        },
        escape_html(title)
    )
}

/// The draft report to the PPC (rule 8(1) items, the stage's due date), printable HTML. Every
/// text is HTML-escaped.
pub fn render_report(
    policy: &Policy,
    f: &DraftFacts<'_>,
    items: &[ReportItem],
    stage: Stage,
    lang: Lang,
) -> String {
    let tr = |ja: &'static str, en: &'static str| match lang {
        Lang::Ja => ja,
        Lang::En => en,
    };
    let org = &policy.organization;
    let title = match (stage, lang) {
        (Stage::Preliminary, Lang::Ja) => "個人データの漏えい等に関する報告(速報)",
        (Stage::Final, Lang::Ja) => "個人データの漏えい等に関する報告(確報)",
        (Stage::Preliminary, Lang::En) => "Report of a personal-data breach (preliminary)",
        (Stage::Final, Lang::En) => "Report of a personal-data breach (final)",
    };
    let due = match stage {
        Stage::Preliminary => Some(f.assessment.preliminary_due),
        Stage::Final => f.assessment.final_due,
    };
    let mut h = head(title, lang);
    h.push_str(&format!(
        "<p class=\"draft\">{}</p>\n",
        tr(
            "案 — 個人情報保護委員会の報告フォームへの転記用",
            "Draft — to be transcribed into the PPC's report form"
        )
    ));
    h.push_str(&format!(
        "<p class=\"date\">{}</p>\n",
        escape_html(&date_text(f.today, lang))
    ));
    h.push_str(&format!(
        "<p>{}</p>\n",
        tr(
            "個人情報保護委員会 御中",
            "To the Personal Information Protection Commission"
        )
    ));
    h.push_str(&format!(
        "<p class=\"from\">{}<br>\n{}<br>\n{} {}<br>\n{} {}</p>\n",
        escape_html(org.name.get(lang)),
        escape_html(org.address.get(lang)),
        tr("代表者", "Representative:"),
        escape_html(org.representative.get(lang)),
        tr("個人情報保護管理者", "Personal information manager:"),
        escape_html(org.manager.get(lang)),
    ));
    h.push_str(&format!("<h1>{}</h1>\n", escape_html(title)));
    h.push_str(&format!(
        "<p>{} {}<br>\n{} {}</p>\n",
        tr("管理番号:", "Reference:"),
        escape_html(f.id),
        tr("提出期限:", "Due:"),
        escape_html(&due.map_or_else(
            || {
                tr(
                    "報告義務なし(規則第7条非該当)",
                    "no report required (PPC rule 7)",
                )
                .to_string()
            },
            |d| date_text(d, lang)
        )),
    ));
    h.push_str("<table>\n");
    for it in items {
        h.push_str(&format!(
            "<tr><th>({}) {}</th><td{}>{}</td></tr>\n",
            it.item,
            escape_html(it.title),
            if it.missing { " class=\"missing\"" } else { "" },
            lines_html(&it.text)
        ));
    }
    h.push_str("</table>\n");
    h.push_str(&format!(
        "<p>{}</p>\n",
        tr(
            "(個人情報の保護に関する法律第26条第1項、同法施行規則第8条)",
            "(APPI Art. 26(1); PPC rules Art. 8)"
        )
    ));
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// The draft notice to the principals (APPI 26(2); rule 10: items (i), (ii), (iv), (v) and (ix)
/// of rule 8(1)), printable HTML. It is addressed to everyone concerned and names no one; its
/// summary is made from the facts, not from the reporter's description.
pub fn render_notice(policy: &Policy, f: &DraftFacts<'_>, lang: Lang) -> String {
    let tr = |ja: &'static str, en: &'static str| match lang {
        Lang::Ja => ja,
        Lang::En => en,
    };
    let org = &policy.organization;
    let title = tr(
        "個人情報の漏えい等に関するお知らせ",
        "Notice about a leak of personal information",
    );
    let mut h = head(title, lang);
    h.push_str(&format!(
        "<p class=\"draft\">{}</p>\n",
        tr(
            "案 — 送付前に、他の方の個人情報が含まれていないことを確認してください",
            "Draft — before sending, check that it holds no one else's personal information"
        )
    ));
    h.push_str(&format!(
        "<p class=\"date\">{}</p>\n<p>{}</p>\n<p class=\"from\">{}<br>\n{}</p>\n",
        escape_html(&date_text(f.today, lang)),
        tr("関係者各位", "To everyone concerned"),
        escape_html(org.name.get(lang)),
        escape_html(org.representative.get(lang)),
    ));
    h.push_str(&format!("<h1>{}</h1>\n", escape_html(title)));
    let cats = category_names(policy, f.categories, lang);
    let summary = match lang {
        Lang::Ja => format!(
            "{}、当団体が取り扱う{}名の方の個人データについて、漏えい、滅失若しくは毀損が発生し、又は発生したおそれがあることが判明しました。ご迷惑とご心配をおかけしますことを深くお詫び申し上げます。",
            date_text(f.facts.discovered_on, lang),
            f.facts.principals_affected
        ),
        Lang::En => format!(
            "On {} we became aware that the personal data of {} people that we handle was leaked, lost or damaged, or may have been. We sincerely apologize for the trouble and concern this causes.",
            date_text(f.facts.discovered_on, lang),
            f.facts.principals_affected
        ),
    };
    let pending = tr(
        "調査中です。判明次第お知らせします。",
        "Under investigation: we will tell you as soon as we know.",
    );
    let mut other = Vec::new();
    if let Some(r) = steps_text(f.steps, StepKind::Recovery) {
        other.push(r);
    }
    if let Some(p) = steps_text(f.steps, StepKind::Prevention) {
        other.push(p);
    }
    other.push(
        tr(
            "不審な連絡等がありましたら、下記の窓口までご連絡ください。",
            "If you receive any suspicious contact, please tell us at the desk below.",
        )
        .to_string(),
    );
    let rows = [
        (tr("概要", "What happened"), summary),
        (
            tr("対象となる個人データの項目", "The personal data concerned"),
            if cats.is_empty() {
                pending.to_string()
            } else {
                cats.join(tr("、", ", "))
            },
        ),
        (
            tr("原因", "Cause"),
            steps_text(f.steps, StepKind::Investigation).unwrap_or_else(|| pending.to_string()),
        ),
        (
            tr(
                "二次被害又はそのおそれの有無及びその内容",
                "Secondary damage or its risk",
            ),
            steps_text(f.steps, StepKind::Damage).unwrap_or_else(|| pending.to_string()),
        ),
        (tr("その他", "Other matters"), other.join("\n")),
    ];
    h.push_str("<table>\n");
    for (k, v) in rows {
        h.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape_html(k),
            lines_html(&v)
        ));
    }
    h.push_str("</table>\n");
    h.push_str(&format!(
        "<h2>{}</h2>\n<p>{}<br>\n{} {}</p>\n",
        tr("お問い合わせ先", "Contact"),
        escape_html(org.contact_window.get(lang)),
        tr("電話", "Tel."),
        escape_html(&org.phone)
    ));
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

// ---- the use cases ---------------------------------------------------------------------------

const DESCRIPTION: &str = "incident_description";
const STEP: &str = "incident_step";
const NOTICE: &str = "incident_notice";

/// A new incident's id: `i_` and 16 hex digits.
pub fn new_incident_id() -> String {
    format!("i_{}", random_hex(8))
}

fn open_text(dk: &Key32, ct: &[u8], id: &str, record: &str, what: &str) -> Result<String> {
    crate::sealed_text::open("incident", dk, ct, id, record, what)
}

impl Mamori {
    /// The policy's preliminary-report target in days (1-5, default 5).
    pub fn preliminary_report_days(&self) -> u32 {
        self.policy().incidents.preliminary_report_days
    }

    /// Every step but reporting is the manager's (seed 003 Art. 13(2)): the role action
    /// `incidents`. A denial is audited and returned with the rule.
    async fn require_incident_manager(&self, actor: &Actor, what: &str) -> Result<()> {
        if actor.role.actions.contains(&Action::Incidents) {
            return Ok(());
        }
        let reason = format!(
            "role {} may not manage incidents: the personal-information protection manager investigates, contains, recovers and prevents recurrence (seed 003 Art. 13(2)); any staff member may report one with `incident open` (Art. 7(3))",
            actor.role.id
        );
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: what.into(),
                decision: "deny".into(),
                reason: Some(reason.clone()),
                ..Default::default()
            }])
            .await?;
        Err(ServiceError::Denied(reason))
    }

    async fn incident_row(&self, id: &str) -> Result<IncidentRow> {
        self.store.incident(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "ID: there is no incident {id}: `incident list --as LOGIN` shows them"
            ))
        })
    }

    fn incident_open_only(row: &IncidentRow) -> Result<()> {
        if row.status == "closed" {
            return Err(bad(format!(
                "ID: incident {} is closed: it takes no more steps",
                row.id
            )));
        }
        Ok(())
    }

    async fn incident_info(&self, row: &IncidentRow, today: Date) -> Result<IncidentInfo> {
        let registered = self.store.incident_principal_count(&row.id).await?;
        let notified = !self.store.incident_notices(&row.id).await?.is_empty();
        Ok(info(row, registered, notified, today))
    }

    fn facts_not_in_future(f: &Facts, now: Timestamp) -> Result<()> {
        if f.discovered_on > japan_date(now) {
            return Err(bad(
                "discovered_on: is in the future: give the day the breach became known",
            ));
        }
        Ok(())
    }

    /// `incident open`: any staff member reports a breach, or the risk of one, to the manager
    /// (seed 003 Art. 7(3)). `facts` is DESIGN.md's facts object plus `description` (what
    /// happened, sealed). Returns the id and the assessment.
    pub async fn incident_open(
        &self,
        actor: &Actor,
        facts: &serde_json::Value,
        now: Option<Timestamp>,
    ) -> Result<Opened> {
        let now = now.unwrap_or_else(Timestamp::now);
        let f = Facts::from_json(facts, &["description"]).map_err(|e| bad(e.to_string()))?;
        Self::facts_not_in_future(&f, now)?;
        let description = match facts.get("description") {
            None | Some(serde_json::Value::Null) => {
                return Err(bad(
                    "description: is missing: say what happened (it is stored sealed)",
                ));
            }
            Some(v) => v.as_str().ok_or_else(|| bad("description: is not text"))?,
        };
        let description = check_text(description, "description")?;
        let a = assess(&f, self.preliminary_report_days());
        let stored = stored_assessment(&f, &a)?;

        let id = new_incident_id();
        let (dk, wrapped) = self.store.keys().new_data_key(&id)?;
        self.store.put_data_key(&id, &wrapped).await?;
        self.store.keys().remember(&id, &dk);
        let description_ct = seal_with(
            &dk,
            description.as_bytes(),
            &field_aad(&id, &id, DESCRIPTION),
        )?;
        let at = format_jst(now);
        let row = IncidentRow {
            id: id.clone(),
            status: "open".into(),
            discovered_on: stored.discovered_on.clone(),
            principals_affected: stored.principals_affected,
            special_care_data: f.special_care_data,
            financial_damage_risk: f.financial_damage_risk,
            wrongful_purpose: f.wrongful_purpose,
            high_level_encryption: f.high_level_encryption,
            reportable: a.reportable,
            grounds: stored.grounds.clone(),
            preliminary_due: stored.preliminary_due.clone(),
            final_due: stored.final_due.clone(),
            preliminary_submitted_on: None,
            final_submitted_on: None,
            categories: Vec::new(),
            description_ct,
            opened_by: actor.login.clone(),
            opened_at: at.clone(),
            updated_at: at,
            closed_at: None,
            closed_by: None,
            policy_version: self.policy_version(),
        };
        self.store
            .write(
                vec![Store::insert_incident(&row)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "incident.open".into(),
                    categories: vec![DESCRIPTION.into()],
                    decision: "done".into(),
                    detail: serde_json::json!({
                        "incident": id,
                        "discovered_on": row.discovered_on,
                        "principals_affected": row.principals_affected,
                        "reportable": a.reportable,
                        "grounds": row.grounds,
                        "preliminary_due": row.preliminary_due,
                        "final_due": row.final_due,
                    }),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(Opened { id, assessment: a })
    }

    /// `incident update ID`: re-assess as the facts change (the deadlines follow).
    pub async fn incident_update(
        &self,
        actor: &Actor,
        id: &str,
        facts: &serde_json::Value,
        now: Option<Timestamp>,
    ) -> Result<IncidentInfo> {
        self.require_incident_manager(actor, "incident.update")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.incident_row(id).await?;
        Self::incident_open_only(&row)?;
        let f = Facts::from_json(facts, &[]).map_err(|e| bad(e.to_string()))?;
        Self::facts_not_in_future(&f, now)?;
        let a = assess(&f, self.preliminary_report_days());
        let stored = stored_assessment(&f, &a)?;
        self.store
            .write(
                vec![Store::reassess_incident(id, &stored, &format_jst(now))],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "incident.update".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({
                        "incident": id,
                        "was": {"reportable": row.reportable, "grounds": row.grounds, "final_due": row.final_due},
                        "reportable": stored.reportable,
                        "grounds": stored.grounds,
                        "preliminary_due": stored.preliminary_due,
                        "final_due": stored.final_due,
                    }),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self.incident_row(id).await?;
        self.incident_info(&row, japan_date(now)).await
    }

    /// `incident record ID --step KIND --text TEXT`: a step of the response (seed 003 Art.
    /// 13(2)), sealed.
    pub async fn incident_record(
        &self,
        actor: &Actor,
        id: &str,
        kind: StepKind,
        text: &str,
        now: Option<Timestamp>,
    ) -> Result<StepAdded> {
        self.require_incident_manager(actor, "incident.step")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.incident_row(id).await?;
        Self::incident_open_only(&row)?;
        let text = check_text(text, "--text")?;
        let dk = self.store.data_key(id).await?;
        let step_id = format!("s_{}", random_hex(8));
        let text_ct = seal_with(&dk, text.as_bytes(), &field_aad(id, &step_id, STEP))?;
        let at = format_jst(now);
        self.store
            .write(
                vec![Store::insert_incident_step(&IncidentStepRow {
                    id: step_id.clone(),
                    incident_id: id.to_string(),
                    kind: kind.as_str().into(),
                    at: at.clone(),
                    staff: actor.login.clone(),
                    text_ct,
                })],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "incident.step".into(),
                    categories: vec![STEP.into()],
                    decision: "done".into(),
                    detail: serde_json::json!({"incident": id, "step": step_id, "kind": kind.as_str()}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(StepAdded {
            incident_id: id.to_string(),
            step_id,
            kind: kind.as_str().into(),
            at,
        })
    }

    /// `incident affected ID --principal P... [--category C...]`: the principals affected,
    /// selected from the registry (each must exist), and the categories of data concerned
    /// (rule 8(1)(ii), (iii)). Everything is checked before anything is stored.
    pub async fn incident_affected(
        &self,
        actor: &Actor,
        id: &str,
        principals: &[String],
        categories: &[String],
        now: Option<Timestamp>,
    ) -> Result<IncidentInfo> {
        self.require_incident_manager(actor, "incident.affected")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.incident_row(id).await?;
        Self::incident_open_only(&row)?;
        if principals.is_empty() && categories.is_empty() {
            return Err(bad(
                "--principal: give the principals affected (and/or --category for the data concerned)",
            ));
        }
        let mut ids: Vec<String> = Vec::new();
        for p in principals {
            let p = p.trim();
            if self.store.principal(p).await?.is_none() {
                return Err(bad(format!(
                    "--principal: there is no {}: check the id (`principal find`); nothing was recorded",
                    crate::principal_ref(p)
                )));
            }
            if !ids.iter().any(|x| x == p) {
                ids.push(p.to_string());
            }
        }
        let policy = self.policy();
        let mut cats = row.categories.clone();
        for c in categories {
            let c = c.trim();
            if policy.category(c).is_none() {
                return Err(bad(format!(
                    "--category: {c:?} is not a category of the policy: `policy show` lists them; nothing was recorded"
                )));
            }
            if !cats.iter().any(|x| x == c) {
                cats.push(c.to_string());
            }
        }
        let at = format_jst(now);
        let mut stmts: Vec<_> = ids
            .iter()
            .map(|p| Store::insert_incident_principal(id, p, &actor.login, &at))
            .collect();
        stmts.push(Store::set_incident_categories(id, &cats, &at));
        let audit = std::iter::once(AuditDraft {
            actor: actor.login.clone(),
            action: "incident.affected".into(),
            decision: "done".into(),
            detail: serde_json::json!({"incident": id, "principals": ids.len(), "categories": cats}),
            ..Default::default()
        })
        .chain(ids.iter().map(|p| AuditDraft {
            actor: actor.login.clone(),
            action: "incident.affected".into(),
            principal_id: Some(p.clone()),
            decision: "done".into(),
            detail: serde_json::json!({"incident": id}),
            ..Default::default()
        }))
        .collect();
        self.store.write(stmts, audit).await?;
        let row = self.incident_row(id).await?;
        self.incident_info(&row, japan_date(now)).await
    }

    /// `incident notice ID --record METHOD --on DATE [--text TEXT]`: the principals were
    /// notified, or a substitute measure was taken because notifying is hard (APPI 26(2)).
    pub async fn incident_notice_record(
        &self,
        actor: &Actor,
        id: &str,
        method: NoticeMethod,
        on: &str,
        text: Option<&str>,
        now: Option<Timestamp>,
    ) -> Result<IncidentInfo> {
        self.require_incident_manager(actor, "incident.notified")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.incident_row(id).await?;
        Self::incident_open_only(&row)?;
        let on = self.check_on(&row, on, "--on", now)?;
        let text = text
            .filter(|t| !t.trim().is_empty())
            .map(|t| check_text(t, "--text"))
            .transpose()?;
        let notice_id = format!("t_{}", random_hex(8));
        let text_ct = match &text {
            Some(t) => {
                let dk = self.store.data_key(id).await?;
                Some(seal_with(
                    &dk,
                    t.as_bytes(),
                    &field_aad(id, &notice_id, NOTICE),
                )?)
            }
            None => None,
        };
        let at = format_jst(now);
        self.store
            .write(
                vec![Store::insert_incident_notice(&IncidentNoticeRow {
                    id: notice_id.clone(),
                    incident_id: id.to_string(),
                    method: method.as_str().into(),
                    done_on: on.to_string(),
                    at,
                    staff: actor.login.clone(),
                    text_ct,
                })],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "incident.notified".into(),
                    categories: if text.is_some() { vec![NOTICE.into()] } else { vec![] },
                    decision: "done".into(),
                    detail: serde_json::json!({"incident": id, "notice": notice_id, "method": method.as_str(), "on": on.to_string()}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self.incident_row(id).await?;
        self.incident_info(&row, japan_date(now)).await
    }

    /// A date the manager gives for something done: not before the breach became known, not
    /// in the future.
    fn check_on(&self, row: &IncidentRow, on: &str, field: &str, now: Timestamp) -> Result<Date> {
        let d = parse_date_arg(on, field)?;
        if d > japan_date(now) {
            return Err(bad(format!(
                "{field}: is in the future: give the day it was done"
            )));
        }
        let discovered = stored_date(&row.discovered_on, &row.id, "discovered_on")?;
        if d < discovered {
            return Err(bad(format!(
                "{field}: is before the breach became known ({}): give the day it was done",
                row.discovered_on
            )));
        }
        Ok(d)
    }

    /// `incident submitted ID --stage S --on DATE`: the report went to the PPC.
    pub async fn incident_submitted(
        &self,
        actor: &Actor,
        id: &str,
        stage: Stage,
        on: &str,
        now: Option<Timestamp>,
    ) -> Result<IncidentInfo> {
        self.require_incident_manager(actor, "incident.submitted")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.incident_row(id).await?;
        Self::incident_open_only(&row)?;
        let on = self.check_on(&row, on, "--on", now)?;
        let due = match stage {
            Stage::Preliminary => Some(row.preliminary_due.clone()),
            Stage::Final => row.final_due.clone(),
        };
        let on_time = due
            .as_deref()
            .and_then(|d| d.parse::<Date>().ok())
            .map(|d| on <= d);
        let at = format_jst(now);
        let stmt = match stage {
            Stage::Preliminary => Store::incident_preliminary_submitted(id, &on.to_string(), &at),
            Stage::Final => Store::incident_final_submitted(id, &on.to_string(), &at),
        };
        self.store
            .write(
                vec![stmt],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "incident.submitted".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"incident": id, "stage": stage.as_str(), "on": on.to_string(), "due": due, "on_time": on_time}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self.incident_row(id).await?;
        self.incident_info(&row, japan_date(now)).await
    }

    /// `incident close ID`: the manager closes the incident. A reportable one closes only once
    /// its final report is submitted and the principals were told or a substitute measure
    /// taken (APPI 26(1), (2)).
    pub async fn incident_close(
        &self,
        actor: &Actor,
        id: &str,
        now: Option<Timestamp>,
    ) -> Result<IncidentInfo> {
        self.require_incident_manager(actor, "incident.close")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.incident_row(id).await?;
        Self::incident_open_only(&row)?;
        if row.reportable {
            if row.final_submitted_on.is_none() {
                return Err(bad(format!(
                    "ID: incident {id} must be reported to the PPC and its final report is not recorded as submitted (APPI 26(1)): `incident submitted ID --stage final --on DATE` first"
                )));
            }
            if self.store.incident_notices(id).await?.is_empty() {
                return Err(bad(format!(
                    "ID: the principals of incident {id} must be told (APPI 26(2)): record the notice or a substitute measure with `incident notice ID --record notice|publication|inquiry-desk --on DATE` first"
                )));
            }
        }
        let at = format_jst(now);
        self.store
            .write(
                vec![Store::close_incident(id, &actor.login, &at)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "incident.close".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"incident": id, "reportable": row.reportable}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self.incident_row(id).await?;
        self.incident_info(&row, japan_date(now)).await
    }

    /// `incident list [--overdue]`: every incident with its deadlines, or only those with an
    /// overdue report, as of `now` (Japan date). No text.
    pub async fn incident_list(
        &self,
        actor: &Actor,
        overdue_only: bool,
        now: Option<Timestamp>,
    ) -> Result<Vec<IncidentInfo>> {
        self.require_incident_manager(actor, "incident.list")
            .await?;
        let today = japan_date(now.unwrap_or_else(Timestamp::now));
        let mut list = Vec::new();
        for row in self.store.incidents().await? {
            let i = self.incident_info(&row, today).await?;
            if !overdue_only || i.overdue {
                list.push(i);
            }
        }
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "incident.list".into(),
                decision: "allow".into(),
                detail: serde_json::json!({"overdue": overdue_only, "count": list.len()}),
                ..Default::default()
            }])
            .await?;
        Ok(list)
    }

    /// Everything about an incident with its texts opened — after the read is durably audited.
    async fn incident_open_all(
        &self,
        actor: &Actor,
        id: &str,
        action: &str,
        extra: serde_json::Value,
        today: Date,
    ) -> Result<(IncidentRow, IncidentDetail, Assessment)> {
        let row = self.incident_row(id).await?;
        let steps = self.store.incident_steps(id).await?;
        let principals = self.store.incident_principals(id).await?;
        let notices = self.store.incident_notices(id).await?;
        let mut detail = serde_json::json!({"incident": id});
        if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: action.into(),
                categories: vec![DESCRIPTION.into(), STEP.into(), NOTICE.into()],
                decision: "allow".into(),
                detail,
                ..Default::default()
            }])
            .await?;
        let dk = self.store.data_key(id).await?;
        let description = open_text(&dk, &row.description_ct, id, id, DESCRIPTION)?;
        let steps = steps
            .iter()
            .map(|s| {
                Ok(Step {
                    id: s.id.clone(),
                    kind: s.kind.clone(),
                    at: s.at.clone(),
                    staff: s.staff.clone(),
                    text: open_text(&dk, &s.text_ct, id, &s.id, STEP)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let notices = notices
            .iter()
            .map(|n| {
                Ok(NoticeRecord {
                    id: n.id.clone(),
                    method: n.method.clone(),
                    done_on: n.done_on.clone(),
                    at: n.at.clone(),
                    staff: n.staff.clone(),
                    text: n
                        .text_ct
                        .as_deref()
                        .map(|ct| open_text(&dk, ct, id, &n.id, NOTICE))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let facts = facts_of(&row)?;
        let a = assess(&facts, self.preliminary_report_days());
        // The stored deadlines are the ones decided when the facts were last assessed.
        let a = Assessment {
            preliminary_due: stored_date(&row.preliminary_due, id, "preliminary_due")?,
            final_due: row
                .final_due
                .as_deref()
                .map(|d| stored_date(d, id, "final_due"))
                .transpose()?,
            ..a
        };
        let info = info(&row, principals.len() as i64, !notices.is_empty(), today);
        Ok((
            row,
            IncidentDetail {
                info,
                reasons: a.reasons(),
                description,
                steps,
                principals: principals.into_iter().map(|p| p.principal_id).collect(),
                notices,
            },
            a,
        ))
    }

    /// `incident show ID`: everything, texts opened.
    pub async fn incident_show(
        &self,
        actor: &Actor,
        id: &str,
        now: Option<Timestamp>,
    ) -> Result<IncidentDetail> {
        self.require_incident_manager(actor, "incident.read")
            .await?;
        let today = japan_date(now.unwrap_or_else(Timestamp::now));
        let (_, detail, _) = self
            .incident_open_all(actor, id, "incident.read", serde_json::json!({}), today)
            .await?;
        Ok(detail)
    }

    /// `incident report ID --stage S`: the draft report to the PPC with the nine items of rule
    /// 8(1), as data and printable HTML.
    pub async fn incident_report(
        &self,
        actor: &Actor,
        id: &str,
        stage: Stage,
        lang: Lang,
        now: Option<Timestamp>,
    ) -> Result<Report> {
        self.require_incident_manager(actor, "incident.report")
            .await?;
        let today = japan_date(now.unwrap_or_else(Timestamp::now));
        let (row, detail, a) = self
            .incident_open_all(
                actor,
                id,
                "incident.report",
                serde_json::json!({"stage": stage.as_str(), "lang": lang}),
                today,
            )
            .await?;
        let policy = self.policy();
        let f = draft_facts(id, &row, &detail, &a, today)?;
        let items = report_items(&policy, &f, lang);
        let html = render_report(&policy, &f, &items, stage, lang);
        Ok(Report {
            id: id.to_string(),
            stage,
            lang,
            due: match stage {
                Stage::Preliminary => Some(row.preliminary_due.clone()),
                Stage::Final => row.final_due.clone(),
            },
            reportable: row.reportable,
            items,
            html,
        })
    }

    /// `incident notice ID`: the draft notice to the principals (APPI 26(2), rule 10),
    /// printable HTML.
    pub async fn incident_notice(
        &self,
        actor: &Actor,
        id: &str,
        lang: Lang,
        now: Option<Timestamp>,
    ) -> Result<String> {
        self.require_incident_manager(actor, "incident.notice")
            .await?;
        let today = japan_date(now.unwrap_or_else(Timestamp::now));
        let (row, detail, a) = self
            .incident_open_all(
                actor,
                id,
                "incident.notice",
                serde_json::json!({"lang": lang}),
                today,
            )
            .await?;
        let policy = self.policy();
        let f = draft_facts(id, &row, &detail, &a, today)?;
        Ok(render_notice(&policy, &f, lang))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::parse(mamori_policy::preset("tokyo-one").unwrap(), "tokyo-one").unwrap()
    }

    fn facts() -> Facts {
        Facts {
            discovered_on: "2026-04-01".parse().unwrap(),
            principals_affected: 3,
            special_care_data: true,
            financial_damage_risk: false,
            wrongful_purpose: false,
            high_level_encryption: false,
        }
    }

    #[test]
    fn the_report_has_the_nine_items_of_rule_8_and_marks_what_is_missing() {
        let f = facts();
        let a = assess(&f, 5);
        let steps = vec![Step {
            id: "s_1".into(),
            kind: "investigation".into(),
            at: "2026-04-02T10:00:00+09:00".into(),
            staff: "boss".into(),
            text: "USB memory <lost> on the train".into(),
        }];
        let cats = vec!["name".to_string(), "health".to_string()];
        let d = DraftFacts {
            id: "i_1",
            facts: f,
            assessment: &a,
            description: "A clerk lost a USB memory",
            steps: &steps,
            categories: &cats,
            registered_principals: 2,
            notices: &[],
            preliminary_submitted_on: None,
            final_submitted_on: None,
            today: "2026-04-03".parse().unwrap(),
        };
        let p = policy();
        let items = report_items(&p, &d, Lang::Ja);
        assert_eq!(
            items.iter().map(|i| i.item).collect::<Vec<_>>(),
            (1..=9).collect::<Vec<u8>>()
        );
        assert_eq!(items[0].title, "概要");
        assert!(items[0].text.contains("規則第7条第1号"));
        assert_eq!(items[3].title, "原因");
        assert!(items[3].text.contains("USB"));
        assert!(items[2].text.contains("3人(うち登録簿で特定済み 2人)"));
        assert!(items[1].text.contains("要配慮個人情報を含む"));
        let missing: Vec<&str> = items.iter().filter(|i| i.missing).map(|i| i.key).collect();
        assert_eq!(
            missing,
            [
                "secondary_damage",
                "response_to_principals",
                "publication",
                "prevention",
                "other"
            ]
        );
        let html = render_report(&p, &d, &items, Stage::Preliminary, Lang::Ja);
        assert!(html.contains("(速報)"));
        assert!(html.contains("&lt;lost&gt;"));
        assert!(!html.contains("<lost>"));
        assert!(html.contains("2026年4月6日"), "the preliminary due date");
        let en = report_items(&p, &d, Lang::En);
        let html = render_report(&p, &d, &en, Stage::Final, Lang::En);
        assert!(html.contains("(final)"));
        assert!(html.contains("2026-04-30"));
    }

    #[test]
    fn the_notice_names_no_one_and_leaves_the_description_out() {
        let f = facts();
        let a = assess(&f, 5);
        let d = DraftFacts {
            id: "i_1",
            facts: f,
            assessment: &a,
            description: "Taro Yamada's file was lost",
            steps: &[],
            categories: &[],
            registered_principals: 0,
            notices: &[],
            preliminary_submitted_on: None,
            final_submitted_on: None,
            today: "2026-04-03".parse().unwrap(),
        };
        let html = render_notice(&policy(), &d, Lang::Ja);
        assert!(!html.contains("Taro"));
        assert!(html.contains("3名"));
        assert!(html.contains("お問い合わせ先"));
    }

    #[test]
    fn step_stage_and_method_names_are_checked_naming_the_field() {
        assert_eq!(
            StepKind::parse("containment", "--step").unwrap(),
            StepKind::Containment
        );
        assert!(
            StepKind::parse("lunch", "--step")
                .unwrap_err()
                .to_string()
                .starts_with("--step:")
        );
        assert_eq!(Stage::parse("final", "--stage").unwrap(), Stage::Final);
        assert!(
            Stage::parse("x", "--stage")
                .unwrap_err()
                .to_string()
                .starts_with("--stage:")
        );
        assert_eq!(
            NoticeMethod::parse("inquiry-desk", "--record").unwrap(),
            NoticeMethod::InquiryDesk
        );
        assert!(NoticeMethod::parse("fax", "--record").is_err());
    }

    #[test]
    fn bad_json_is_refused_without_echoing_it() {
        let e = parse_facts_text("{\"name\": \"Taro")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("facts: not valid JSON"));
        assert!(!e.contains("Taro"));
    }

    #[test]
    fn an_overdue_report_is_flagged_and_a_final_report_stands_for_the_preliminary() {
        let row = IncidentRow {
            id: "i_1".into(),
            status: "open".into(),
            discovered_on: "2026-04-01".into(),
            principals_affected: 3,
            special_care_data: true,
            financial_damage_risk: false,
            wrongful_purpose: false,
            high_level_encryption: false,
            reportable: true,
            grounds: vec!["special_care_data".into()],
            preliminary_due: "2026-04-06".into(),
            final_due: Some("2026-04-30".into()),
            preliminary_submitted_on: None,
            final_submitted_on: None,
            categories: vec![],
            description_ct: vec![],
            opened_by: "clerk".into(),
            opened_at: "x".into(),
            updated_at: "x".into(),
            closed_at: None,
            closed_by: None,
            policy_version: "v".into(),
        };
        let day = |s: &str| s.parse::<Date>().unwrap();
        assert!(!info(&row, 0, false, day("2026-04-06")).overdue);
        let i = info(&row, 0, false, day("2026-04-07"));
        assert_eq!(i.overdue_steps, ["preliminary_report"]);
        let i = info(&row, 0, false, day("2026-05-01"));
        assert_eq!(i.overdue_steps, ["preliminary_report", "final_report"]);
        let done = IncidentRow {
            final_submitted_on: Some("2026-04-05".into()),
            ..row.clone()
        };
        assert!(!info(&done, 0, true, day("2026-05-01")).overdue);
        let not_reportable = IncidentRow {
            reportable: false,
            final_due: None,
            ..row
        };
        assert!(!info(&not_reportable, 0, false, day("2027-01-01")).overdue);
    }
}
