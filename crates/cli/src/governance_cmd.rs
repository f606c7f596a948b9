//! Governance commands (seed 003 Arts. 4-7, 15, 19, 22, 24; seed 000 Arts. 2, 8): `staff role|
//! disable|pledge`, `training`, `ledger`, `inspection`, `finding`, `committee`, `violation`,
//! `review`. Thin translations of `mamori_service::governance` and `ledger`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use mamori_policy::Lang;
use mamori_service::governance::render_report_html;
use mamori_service::ledger::{ledger_csv, ledger_html};
use mamori_service::{Mamori, ServiceError};

use crate::{AsLogin, Out, bad, json};

/// `staff role`, `staff disable`, `staff pledge` (flattened into `mamori staff`).
#[derive(Subcommand, Debug)]
pub enum StaffGovCmd {
    /// Change a staff member's role (audited; the last administrator keeps the role).
    Role {
        #[arg(value_name = "LOGIN")]
        member: String,
        #[arg(long)]
        role: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// Disable a staff member: they can no longer act; their API tokens are revoked.
    Disable {
        #[arg(value_name = "LOGIN")]
        member: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// Record a staff member's confidentiality pledge (seed 003 Art. 7(1)).
    Pledge {
        #[arg(value_name = "LOGIN")]
        member: String,
        #[command(flatten)]
        who: AsLogin,
        /// The day it was signed (YYYY-MM-DD).
        #[arg(long)]
        date: String,
    },
}

/// The governance commands (flattened into `mamori`).
#[derive(Subcommand, Debug)]
pub enum GovCmd {
    /// Training records and who is overdue (seed 003 Art. 6; seed 000 Art. 8-2).
    #[command(subcommand)]
    Training(TrainingCmd),
    /// The personal-data ledger (台帳, seed 003 Art. 15): JSON, CSV (Excel) or printable HTML.
    Ledger(LedgerArgs),
    /// Inspections and audits (seed 003 Arts. 19, 24).
    #[command(subcommand)]
    Inspection(InspectionCmd),
    /// Findings of inspections and their corrective actions.
    #[command(subcommand)]
    Finding(FindingCmd),
    /// The personal-information protection committee (seed 003 Art. 22).
    #[command(subcommand)]
    Committee(CommitteeCmd),
    /// Reports of violations by staff, to the manager (seed 003 Art. 7(2)).
    #[command(subcommand)]
    Violation(ViolationCmd),
    /// The manager's review of accesses under statutory exceptions.
    #[command(subcommand)]
    Review(ReviewCmd),
}

#[derive(Subcommand, Debug)]
pub enum TrainingCmd {
    /// Record a training: title, date, attendees, material.
    Record {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        title: String,
        #[arg(long)]
        date: String,
        #[arg(long = "attendee", required = true, num_args = 1..)]
        attendees: Vec<String>,
        #[arg(long)]
        material: Option<String>,
    },
    /// Every training on record, the latest first.
    List {
        #[command(flatten)]
        who: AsLogin,
    },
    /// Each staff member's last training, next due date and pledge.
    Staff {
        #[command(flatten)]
        who: AsLogin,
        /// As of this day (YYYY-MM-DD; default today in Japan).
        #[arg(long)]
        today: Option<String>,
    },
    /// Staff handling personal data whose training is overdue.
    Overdue {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct LedgerArgs {
    #[command(flatten)]
    who: AsLogin,
    /// json, csv (UTF-8 with BOM, CRLF: opens in Excel) or html (printable).
    #[arg(long)]
    format: Option<String>,
    /// ja (default) or en, for the HTML page.
    #[arg(long, default_value = "ja")]
    lang: String,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum InspectionCmd {
    /// Run the checklist and keep it.
    Run {
        #[command(flatten)]
        who: AsLogin,
        /// As of this time (RFC 3339; default now).
        #[arg(long)]
        now: Option<String>,
    },
    List {
        #[command(flatten)]
        who: AsLogin,
    },
    Show {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// The auditor's report: printable HTML (or JSON with --json or an --out FILE.json).
    Report {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long, default_value = "ja")]
        lang: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum FindingCmd {
    /// A finding of an inspection, with its corrective action's due date.
    Add {
        inspection: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        text: String,
        #[arg(long)]
        due: String,
        /// The corrective action to take.
        #[arg(long)]
        action: Option<String>,
    },
    /// The corrective action is done.
    Close {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        result: Option<String>,
    },
    List {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        inspection: Option<String>,
        #[arg(long)]
        open: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CommitteeCmd {
    /// Record a meeting chaired by the manager.
    Meeting {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        date: String,
        #[arg(long = "member", required = true, num_args = 1..)]
        members: Vec<String>,
        #[arg(long)]
        minutes: String,
        #[arg(long = "decision")]
        decisions: Vec<String>,
    },
    List {
        #[command(flatten)]
        who: AsLogin,
    },
    Show {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
}

#[derive(Subcommand, Debug)]
pub enum ViolationCmd {
    /// Report a violation or a suspected one (any staff member).
    Report {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        text: String,
    },
    List {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        open: bool,
    },
    Close {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        result: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReviewCmd {
    /// Accesses under a statutory exception not yet reviewed (all with --all).
    Exceptions {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        all: bool,
    },
    /// Mark an access reviewed.
    Done {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
}

fn lang(s: &str) -> Result<Lang, ServiceError> {
    s.parse::<Lang>().map_err(|e| bad(format!("--lang: {e}")))
}

fn date(s: Option<&str>) -> Result<Option<jiff::civil::Date>, ServiceError> {
    s.map(|d| mamori_policy::parse_ymd(d).map_err(|e| bad(format!("--today: {e}"))))
        .transpose()
}

fn write_out(path: &std::path::Path, text: &str) -> Result<(), ServiceError> {
    crate::write_out(path, text.as_bytes())
}

pub async fn staff(m: &Mamori, cmd: StaffGovCmd) -> Result<Out, ServiceError> {
    match cmd {
        StaffGovCmd::Role {
            member: login,
            role,
            who,
        } => {
            let a = m.actor(&who.login).await?;
            let r = m.staff_role(&a, &login, &role).await?;
            let t = format!("{}: {} → {}", r.login, r.from, r.to);
            Ok(Out::Both(json(&r), t))
        }
        StaffGovCmd::Disable { member: login, who } => {
            let a = m.actor(&who.login).await?;
            let r = m.staff_disable(&a, &login).await?;
            let t = format!("Disabled {}; their API tokens are revoked.", r.login);
            Ok(Out::Both(json(&r), t))
        }
        StaffGovCmd::Pledge {
            member: login,
            who,
            date,
        } => {
            let a = m.actor(&who.login).await?;
            let r = m.staff_pledge(&a, &login, &date).await?;
            let t = format!("Pledge {} of {} signed on {}.", r.id, r.login, r.signed_on);
            Ok(Out::Both(json(&r), t))
        }
    }
}

pub async fn run(m: &Mamori, cmd: GovCmd) -> Result<Out, ServiceError> {
    match cmd {
        GovCmd::Training(c) => training(m, c).await,
        GovCmd::Ledger(a) => ledger(m, a).await,
        GovCmd::Inspection(c) => inspection(m, c).await,
        GovCmd::Finding(c) => finding(m, c).await,
        GovCmd::Committee(c) => committee(m, c).await,
        GovCmd::Violation(c) => violation(m, c).await,
        GovCmd::Review(c) => review(m, c).await,
    }
}

async fn training(m: &Mamori, cmd: TrainingCmd) -> Result<Out, ServiceError> {
    match cmd {
        TrainingCmd::Record {
            who,
            title,
            date,
            attendees,
            material,
        } => {
            let a = m.actor(&who.login).await?;
            let r = m
                .training_record(&a, &title, &date, &attendees, material.as_deref())
                .await?;
            let t = format!(
                "Training {} on {}: {} attendee(s).",
                r.id,
                r.date,
                r.attendees.len()
            );
            Ok(Out::Both(json(&r), t))
        }
        TrainingCmd::List { who } => {
            let a = m.actor(&who.login).await?;
            let list = m.training_list(&a).await?;
            let t = list
                .iter()
                .map(|x| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        x.id,
                        x.date,
                        x.title,
                        x.attendees.join(",")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), t))
        }
        TrainingCmd::Staff { who, today } => {
            let a = m.actor(&who.login).await?;
            let list = m
                .training_status(&a, false, date(today.as_deref())?)
                .await?;
            Ok(staff_out(list))
        }
        TrainingCmd::Overdue { who, today } => {
            let a = m.actor(&who.login).await?;
            let list = m.training_status(&a, true, date(today.as_deref())?).await?;
            Ok(staff_out(list))
        }
    }
}

fn staff_out(list: Vec<mamori_service::governance::StaffTraining>) -> Out {
    let t = list
        .iter()
        .map(|s| {
            format!(
                "{}\t{}\tlast {}\tdue {}\t{}\tpledge {}",
                s.login,
                s.role,
                s.last_training.as_deref().unwrap_or("-"),
                s.due.as_deref().unwrap_or("-"),
                if s.overdue { "OVERDUE" } else { "ok" },
                s.pledged_on.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Out::Both(json(&list), t)
}

async fn ledger(m: &Mamori, a: LedgerArgs) -> Result<Out, ServiceError> {
    let actor = m.actor(&a.who.login).await?;
    let rows = m.ledger(&actor).await?;
    let v = json(&rows);
    let text = match a.format.as_deref() {
        None => rows
            .iter()
            .map(|r| {
                format!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.channel,
                    r.category,
                    r.retention,
                    r.roles.join(","),
                    r.principals
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some("json") => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Some("csv") => ledger_csv(&rows),
        Some("html") => ledger_html(&m.policy().organization.name.ja, &rows, lang(&a.lang)?),
        Some(other) => {
            return Err(bad(format!(
                "--format: \"{other}\" is not a ledger format: use json, csv or html"
            )));
        }
    };
    match a.out {
        Some(path) => {
            write_out(&path, &text)?;
            Ok(Out::Both(
                serde_json::json!({"file": path.display().to_string(), "rows": rows.len()}),
                format!(
                    "Wrote the ledger ({} rows) to {}.",
                    rows.len(),
                    path.display()
                ),
            ))
        }
        None => {
            // The printer ends the output with "\n": CSV keeps CRLF on its last line too.
            let mut text = text.trim_end_matches(['\r', '\n']).to_string();
            if a.format.as_deref() == Some("csv") {
                text.push('\r');
            }
            Ok(Out::Both(v, text))
        }
    }
}

async fn inspection(m: &Mamori, cmd: InspectionCmd) -> Result<Out, ServiceError> {
    match cmd {
        InspectionCmd::Run { who, now } => {
            let a = m.actor(&who.login).await?;
            let i = m.inspection_run(&a, now.as_deref()).await?;
            let mut t = format!(
                "Inspection {}: {} passed, {} failed.",
                i.id, i.passed, i.failed
            );
            for c in &i.items {
                t.push_str(&format!(
                    "\n{}\t{}\t{}",
                    if c.pass { "pass" } else { "FAIL" },
                    c.id,
                    c.summary
                ));
            }
            Ok(Out::Both(json(&i), t))
        }
        InspectionCmd::List { who } => {
            let a = m.actor(&who.login).await?;
            let list = m.inspection_list(&a).await?;
            let t = list
                .iter()
                .map(|i| {
                    format!(
                        "{}\t{}\t{}\tpassed {}\tfailed {}",
                        i.id, i.as_of, i.by, i.passed, i.failed
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), t))
        }
        InspectionCmd::Show { id, who } => {
            let a = m.actor(&who.login).await?;
            let i = m.inspection_show(&a, &id).await?;
            let t = i
                .items
                .iter()
                .map(|c| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        if c.pass { "pass" } else { "FAIL" },
                        c.id,
                        c.summary,
                        c.evidence
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&i), t))
        }
        InspectionCmd::Report {
            id,
            who,
            lang: l,
            out,
        } => {
            let a = m.actor(&who.login).await?;
            let lang = lang(&l)?;
            let r = m.inspection_report(&a, &id).await?;
            let v = json(&r);
            match out {
                Some(path) => {
                    let is_json = path.extension().is_some_and(|e| e == "json");
                    let text = if is_json {
                        serde_json::to_string_pretty(&v).unwrap_or_default()
                    } else {
                        render_report_html(&r, lang)
                    };
                    write_out(&path, &text)?;
                    Ok(Out::Both(
                        serde_json::json!({"file": path.display().to_string(), "inspection_id": id}),
                        format!("Wrote the report of inspection {id} to {}.", path.display()),
                    ))
                }
                None => Ok(Out::Both(v, render_report_html(&r, lang))),
            }
        }
    }
}

async fn finding(m: &Mamori, cmd: FindingCmd) -> Result<Out, ServiceError> {
    match cmd {
        FindingCmd::Add {
            inspection,
            who,
            text,
            due,
            action,
        } => {
            let a = m.actor(&who.login).await?;
            let f = m
                .finding_add(&a, &inspection, &text, &due, action.as_deref())
                .await?;
            let t = format!(
                "Finding {} on inspection {}, due {}.",
                f.id, f.inspection_id, f.due
            );
            Ok(Out::Both(json(&f), t))
        }
        FindingCmd::Close { id, who, result } => {
            let a = m.actor(&who.login).await?;
            let f = m.finding_close(&a, &id, result.as_deref()).await?;
            Ok(Out::Both(json(&f), format!("Closed finding {}.", f.id)))
        }
        FindingCmd::List {
            who,
            inspection,
            open,
        } => {
            let a = m.actor(&who.login).await?;
            let list = m.finding_list(&a, inspection.as_deref(), open).await?;
            let t = list
                .iter()
                .map(|f| {
                    format!(
                        "{}\t{}\t{}\tdue {}{}\t{}",
                        f.id,
                        f.inspection_id,
                        f.status,
                        f.due,
                        if f.overdue { " OVERDUE" } else { "" },
                        f.text
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), t))
        }
    }
}

async fn committee(m: &Mamori, cmd: CommitteeCmd) -> Result<Out, ServiceError> {
    match cmd {
        CommitteeCmd::Meeting {
            who,
            date,
            members,
            minutes,
            decisions,
        } => {
            let a = m.actor(&who.login).await?;
            let r = m
                .committee_meeting(&a, &date, &members, &minutes, &decisions)
                .await?;
            let t = format!(
                "Meeting {} on {} chaired by {}: {} member(s), {} decision(s).",
                r.id,
                r.date,
                r.chair,
                r.members.len(),
                r.decisions
            );
            Ok(Out::Both(json(&r), t))
        }
        CommitteeCmd::List { who } => {
            let a = m.actor(&who.login).await?;
            let list = m.committee_list(&a).await?;
            let t = list
                .iter()
                .map(|x| {
                    format!(
                        "{}\t{}\t{}\t{}\t{} decision(s)",
                        x.id,
                        x.date,
                        x.chair,
                        x.members.join(","),
                        x.decisions
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), t))
        }
        CommitteeCmd::Show { id, who } => {
            let a = m.actor(&who.login).await?;
            let d = m.committee_show(&a, &id).await?;
            let mut t = format!(
                "{} on {} (chair {}; members {})\n\n{}",
                d.id,
                d.date,
                d.chair,
                d.members.join(", "),
                d.minutes
            );
            for x in &d.decisions {
                t.push_str(&format!("\n- {x}"));
            }
            Ok(Out::Both(json(&d), t))
        }
    }
}

async fn violation(m: &Mamori, cmd: ViolationCmd) -> Result<Out, ServiceError> {
    match cmd {
        ViolationCmd::Report { who, text } => {
            let a = m.actor(&who.login).await?;
            let r = m.violation_report(&a, &text).await?;
            let t = format!("Reported as {}: it goes to the manager.", r.id);
            Ok(Out::Both(json(&r), t))
        }
        ViolationCmd::List { who, open } => {
            let a = m.actor(&who.login).await?;
            let list = m.violation_list(&a, open).await?;
            let t = list
                .iter()
                .map(|v| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        v.id, v.reported_at, v.status, v.reporter, v.text
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), t))
        }
        ViolationCmd::Close { id, who, result } => {
            let a = m.actor(&who.login).await?;
            let v = m.violation_close(&a, &id, &result).await?;
            Ok(Out::Both(json(&v), format!("Closed report {}.", v.id)))
        }
    }
}

async fn review(m: &Mamori, cmd: ReviewCmd) -> Result<Out, ServiceError> {
    match cmd {
        ReviewCmd::Exceptions { who, all } => {
            let a = m.actor(&who.login).await?;
            let list = m.exception_reviews(&a, all).await?;
            let t = list
                .iter()
                .map(|r| {
                    // What the entry rests on (issue 20): an exception's reason, a request's
                    // identity check and evidence, or the staff account concerned.
                    let basis = match (&r.request_id, &r.account) {
                        (Some(req), _) => format!(
                            "{req} {} {} (verified by {})",
                            r.verify_method.as_deref().unwrap_or("-"),
                            r.evidence.as_deref().unwrap_or("(no evidence)"),
                            r.verified_by.as_deref().unwrap_or("-")
                        ),
                        (None, Some(acc)) => format!("account {acc}"),
                        (None, None) => r.reason.as_deref().unwrap_or("(erased)").to_string(),
                    };
                    format!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        r.id,
                        r.at,
                        if r.principal_id.is_empty() {
                            "-"
                        } else {
                            &r.principal_id
                        },
                        r.staff,
                        r.kind,
                        basis
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), t))
        }
        ReviewCmd::Done { id, who } => {
            let a = m.actor(&who.login).await?;
            let r = m.exception_review_done(&a, &id).await?;
            Ok(Out::Both(json(&r), format!("Reviewed {}.", r.id)))
        }
    }
}
