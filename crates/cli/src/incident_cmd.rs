//! `mamori incident …`: breach (漏えい等) response with the PPC's deadlines (seed 003 Arts. 7(3),
//! 13(2); APPI 26, PPC rules 7-10). `assess` is pure (facts JSON on standard input, no `--as`);
//! `open` is for any staff member (facts and `description` as JSON on standard input, so what
//! happened never appears in the process list); every other command is the manager's (role
//! action `incidents`). A `--text` given as `-` is read from standard input.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use mamori_policy::Lang;
use mamori_service::incident::{self, IncidentInfo, NoticeMethod, Stage, StepKind};
use mamori_service::store::Store;
use mamori_service::{Config, Mamori, ServiceError};

use crate::{AsLogin, Out, bad, json};

#[derive(Subcommand, Debug)]
pub enum IncidentCmd {
    /// Must the PPC and the principals be told, and by when? Facts as JSON on standard input:
    /// {"discovered_on", "principals_affected", "special_care_data", "financial_damage_risk",
    /// "wrongful_purpose", "high_level_encryption"}.
    Assess,
    /// Report a breach, or the risk of one, to the manager (any staff member). The facts as for
    /// `assess`, plus "description" (what happened; stored sealed), as JSON on standard input.
    Open {
        #[command(flatten)]
        who: AsLogin,
    },
    /// Re-assess as the facts change (facts JSON on standard input, as for `assess`).
    Update {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// Record a step: containment, investigation, damage, recovery or prevention.
    Record {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        step: String,
        /// What was done or found (sealed; `-` reads standard input).
        #[arg(long, allow_hyphen_values = true)]
        text: String,
    },
    /// The principals affected, selected from the registry, and the categories of data.
    Affected {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        /// A principal id (repeatable).
        #[arg(long = "principal", value_name = "ID", num_args = 1..)]
        principals: Vec<String>,
        /// A category of the data concerned (repeatable).
        #[arg(long = "category", value_name = "CATEGORY", num_args = 1..)]
        categories: Vec<String>,
    },
    /// The draft report to the PPC with the nine items of rule 8(1), printable HTML (JSON with
    /// --json).
    Report {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        stage: String,
        #[arg(long, default_value = "ja")]
        lang: String,
        /// Write the HTML to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The draft notice to the principals (APPI 26(2)), printable HTML; or, with --record,
    /// record that they were notified or a substitute measure taken.
    Notice {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long, default_value = "ja")]
        lang: String,
        /// Write the HTML to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Record instead: notice, publication or inquiry-desk.
        #[arg(long, value_name = "METHOD", requires = "on")]
        record: Option<String>,
        /// With --record: the day it was done (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
        /// With --record: what was done (sealed; `-` reads standard input).
        #[arg(long, allow_hyphen_values = true)]
        text: Option<String>,
    },
    /// Record that a report went to the PPC.
    Submitted {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        stage: String,
        #[arg(long, value_name = "DATE")]
        on: String,
    },
    /// Close the incident (a reportable one once its final report is in and the principals
    /// were told).
    Close {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// Incidents with their deadlines (`--overdue`: only those with a report past due).
    List {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        overdue: bool,
    },
    /// One incident with its description, steps, principals and notices.
    Show {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
}

fn stdin_text(field: &str) -> Result<String, ServiceError> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| bad(format!("{field}: cannot read standard input: {e}")))?;
    Ok(s)
}

fn stdin_facts() -> Result<serde_json::Value, ServiceError> {
    incident::parse_facts_text(&stdin_text("facts")?)
}

fn text_arg(value: String, field: &str) -> Result<String, ServiceError> {
    if value == "-" {
        stdin_text(field)
    } else {
        Ok(value)
    }
}

fn info_line(i: &IncidentInfo) -> String {
    format!(
        "{}\t{}\tdiscovered {}\t{}\tpreliminary by {}\tfinal by {}{}",
        i.id,
        i.status,
        i.discovered_on,
        if i.reportable {
            format!("reportable ({})", i.grounds.join(", "))
        } else {
            "not reportable".to_string()
        },
        i.preliminary_due,
        i.final_due.as_deref().unwrap_or("-"),
        if i.overdue {
            format!("\toverdue: {}", i.overdue_steps.join(", "))
        } else {
            String::new()
        }
    )
}

fn lang_arg(s: &str) -> Result<Lang, ServiceError> {
    s.parse().map_err(|e| bad(format!("--lang: {e}")))
}

fn html_out(
    html: String,
    out: Option<PathBuf>,
    json_value: serde_json::Value,
) -> Result<Out, ServiceError> {
    match out {
        Some(path) => {
            crate::write_out(&path, html.as_bytes())?;
            let mut v = json_value;
            if let Some(o) = v.as_object_mut() {
                o.insert("out".into(), path.display().to_string().into());
            }
            Ok(Out::Both(v, format!("Wrote {}.", path.display())))
        }
        None => Ok(Out::Both(json_value, html)),
    }
}

/// `incident assess`: pure; the data folder's policy sets the preliminary target when there
/// is one.
async fn assess(cfg: &Config) -> Result<Out, ServiceError> {
    let facts = stdin_facts()?;
    // The data folder's policy sets the preliminary target when there is one.
    let days = if Store::is_initialized(&cfg.data_dir) {
        Mamori::open(cfg).await?.preliminary_report_days()
    } else {
        mamori_policy::Incidents::DEFAULT_PRELIMINARY_REPORT_DAYS
    };
    let a = incident::assess_json(&facts, days)?;
    let mut text = if a.reportable {
        format!(
            "reportable to the PPC: {}\npreliminary report by {}\nfinal report by {}\nnotify the principals",
            a.grounds
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            a.preliminary_due,
            a.final_due.map(|d| d.to_string()).unwrap_or_default()
        )
    } else {
        "not reportable to the PPC".to_string()
    };
    for r in a.reasons() {
        text.push_str(&format!("\n  {r}"));
    }
    Ok(Out::Both(json(&a), text))
}

pub async fn run(cmd: IncidentCmd, cfg: &Config) -> Result<Out, ServiceError> {
    let m = match cmd {
        IncidentCmd::Assess => return assess(cfg).await,
        _ => Mamori::open(cfg).await?,
    };
    match cmd {
        IncidentCmd::Assess => assess(cfg).await,
        IncidentCmd::Open { who } => {
            let actor = m.actor(&who.login).await?;
            let facts = stdin_facts()?;
            let o = m.incident_open(&actor, &facts, None).await?;
            let text = format!(
                "{}\n{}, preliminary report by {}, final report by {}",
                o.id,
                if o.assessment.reportable {
                    "reportable to the PPC"
                } else {
                    "not reportable to the PPC"
                },
                o.assessment.preliminary_due,
                o.assessment
                    .final_due
                    .map_or_else(|| "-".to_string(), |d| d.to_string())
            );
            Ok(Out::Both(json(&o), text))
        }
        IncidentCmd::Update { id, who } => {
            let actor = m.actor(&who.login).await?;
            let facts = stdin_facts()?;
            let i = m.incident_update(&actor, &id, &facts, None).await?;
            Ok(Out::Both(json(&i), info_line(&i)))
        }
        IncidentCmd::Record {
            id,
            who,
            step,
            text,
        } => {
            let actor = m.actor(&who.login).await?;
            let kind = StepKind::parse(&step, "--step")?;
            let text = text_arg(text, "--text")?;
            let s = m.incident_record(&actor, &id, kind, &text, None).await?;
            let t = format!("{} recorded ({}) on {}", s.step_id, s.kind, s.incident_id);
            Ok(Out::Both(json(&s), t))
        }
        IncidentCmd::Affected {
            id,
            who,
            principals,
            categories,
        } => {
            let actor = m.actor(&who.login).await?;
            let i = m
                .incident_affected(&actor, &id, &principals, &categories, None)
                .await?;
            let t = format!(
                "{}: {} principals identified in the registry; categories {}",
                i.id,
                i.registered_principals,
                i.categories.join(", ")
            );
            Ok(Out::Both(json(&i), t))
        }
        IncidentCmd::Report {
            id,
            who,
            stage,
            lang,
            out,
        } => {
            let stage = Stage::parse(&stage, "--stage")?;
            let lang = lang_arg(&lang)?;
            let actor = m.actor(&who.login).await?;
            let r = m.incident_report(&actor, &id, stage, lang, None).await?;
            let html = r.html.clone();
            html_out(html, out, json(&r))
        }
        IncidentCmd::Notice {
            id,
            who,
            lang,
            out,
            record,
            on,
            text,
        } => {
            let actor = m.actor(&who.login).await?;
            if let Some(method) = record {
                let method = NoticeMethod::parse(&method, "--record")?;
                let on = on.ok_or_else(|| bad("--on: give the day it was done (YYYY-MM-DD)"))?;
                let text = text.map(|t| text_arg(t, "--text")).transpose()?;
                let i = m
                    .incident_notice_record(&actor, &id, method, &on, text.as_deref(), None)
                    .await?;
                return Ok(Out::Both(json(&i), info_line(&i)));
            }
            let lang = lang_arg(&lang)?;
            let html = m.incident_notice(&actor, &id, lang, None).await?;
            let v = serde_json::json!({"id": id, "lang": lang, "html": html});
            html_out(html, out, v)
        }
        IncidentCmd::Submitted { id, who, stage, on } => {
            let stage = Stage::parse(&stage, "--stage")?;
            let actor = m.actor(&who.login).await?;
            let i = m.incident_submitted(&actor, &id, stage, &on, None).await?;
            Ok(Out::Both(json(&i), info_line(&i)))
        }
        IncidentCmd::Close { id, who } => {
            let actor = m.actor(&who.login).await?;
            let i = m.incident_close(&actor, &id, None).await?;
            Ok(Out::Both(json(&i), info_line(&i)))
        }
        IncidentCmd::List { who, overdue } => {
            let actor = m.actor(&who.login).await?;
            let list = m.incident_list(&actor, overdue, None).await?;
            let t = list.iter().map(info_line).collect::<Vec<_>>().join("\n");
            Ok(Out::Both(json(&list), t))
        }
        IncidentCmd::Show { id, who } => {
            let actor = m.actor(&who.login).await?;
            let d = m.incident_show(&actor, &id, None).await?;
            let mut t = format!("{}\ndescription: {}", info_line(&d.info), d.description);
            for r in &d.reasons {
                t.push_str(&format!("\n  {r}"));
            }
            for s in &d.steps {
                t.push_str(&format!(
                    "\n{} {} {} {}: {}",
                    s.id, s.at, s.staff, s.kind, s.text
                ));
            }
            if !d.principals.is_empty() {
                t.push_str(&format!("\nprincipals: {}", d.principals.join(", ")));
            }
            for n in &d.notices {
                t.push_str(&format!(
                    "\n{} {} {}{}",
                    n.id,
                    n.done_on,
                    n.method,
                    n.text
                        .as_deref()
                        .map(|x| format!(": {x}"))
                        .unwrap_or_default()
                ));
            }
            Ok(Out::Both(json(&d), t))
        }
    }
}
