//! `mamori student …` and `mamori refund compute`: the school's students, fees and the
//! 学費返還規定 (seed 003, the end; issue 10). `refund compute` is pure (the case as JSON on
//! standard input, no `--as`): it uses the data folder's policy when `--data` is initialized,
//! else the tokyo-one preset, or the preset named by `--preset`. Every `student` command takes
//! `--as` (role action `register` to record, `read` to look, and the purpose `fee_management`).

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use mamori_policy::{Lang, Policy};
use mamori_service::store::Store;
use mamori_service::student::{self, NewEvent, NewPayment, OpenStudent, StudentInfo};
use mamori_service::{Config, Mamori, ServiceError};

use crate::{AsLogin, Out, bad, json};

#[derive(Subcommand, Debug)]
pub enum RefundCmd {
    /// Compute a refund under the 学費返還規定. The case as JSON on standard input:
    /// {"event", "course": {"term_months", "terms"}, "paid": {"screening_fee", "admission_fee",
    /// "tuition": [...], "other_fees"}, "withdrawal_notice_term"}.
    Compute {
        /// Use this preset's refund rules instead of the data folder's policy.
        #[arg(long)]
        preset: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum StudentCmd {
    /// Open a student record for a principal (the application; pay its screening fee with
    /// `student pay`).
    Open {
        /// The principal (registered through the admission_application channel).
        principal: String,
        #[command(flatten)]
        who: AsLogin,
        /// The course applied for: months per term.
        #[arg(long)]
        term_months: u32,
        /// The course applied for: number of terms.
        #[arg(long)]
        terms: u32,
        /// The application date (YYYY-MM-DD; default today in Japan).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
    /// Record a life-cycle event: coe_applied, coe_issued, coe_not_issued, visa_applied,
    /// visa_issued, visa_refused, visa_not_applied, arrived, declined, enrolled,
    /// withdrawal_notice, graduated.
    Event {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        kind: String,
        /// The day it happened (YYYY-MM-DD; default today in Japan). For `enrolled`, the
        /// course's first day; for `withdrawal_notice`, the day the notice was submitted.
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
        /// At enrollment, when the course differs from the one applied for.
        #[arg(long)]
        term_months: Option<u32>,
        #[arg(long)]
        terms: Option<u32>,
    },
    /// Record a payment by fee item, with the payment processor's token (never a card number).
    Pay {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        /// screening_fee, admission_fee, tuition or other_fees.
        #[arg(long)]
        item: String,
        /// Tuition only: the term paid for (1 = the first).
        #[arg(long)]
        term: Option<u32>,
        /// The amount in whole yen.
        #[arg(long)]
        yen: i64,
        /// The payment processor's token (e.g. pm_…).
        #[arg(long)]
        token: String,
        /// The day it was paid (YYYY-MM-DD; default today in Japan).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
    /// Compute the refund from the recorded payments and events and record it.
    Refund {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        /// The refund event; must match the record (derived from it when left out).
        #[arg(long)]
        event: Option<String>,
        /// Also write the refund statement (printable HTML) to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The statement's language: ja or en.
        #[arg(long, default_value = "ja")]
        lang: String,
    },
    /// The refund statement for the student: printable HTML.
    Statement {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long, default_value = "ja")]
        lang: String,
        /// Write the HTML to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Record graduation; with --to-alumni, move the principal to the alumni list (needs their
    /// consent for alumni_contact: APPI 17(2), 18(1)).
    Graduate {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        to_alumni: bool,
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
    /// One student record: events, payments (never the tokens) and refund.
    Show {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// Every student record.
    List {
        #[command(flatten)]
        who: AsLogin,
    },
}

fn lang_arg(s: &str) -> Result<Lang, ServiceError> {
    s.parse().map_err(|e| bad(format!("--lang: {e}")))
}

fn write_out(path: &std::path::Path, html: &str) -> Result<(), ServiceError> {
    crate::write_out(path, html.as_bytes())
}

fn info_text(i: &StudentInfo) -> String {
    let mut t = format!(
        "{}\tprincipal {}\t{}\t{} since {}\tcourse {} × {} months",
        i.id, i.principal_id, i.channel, i.stage, i.stage_on, i.course.terms, i.course.term_months
    );
    if let Some(s) = &i.start_on {
        t.push_str(&format!("\tstarted {s}"));
    }
    if let Some(n) = i.withdrawal_notice_term {
        t.push_str(&format!("\twithdrawal notice in term {n}"));
    }
    for e in &i.events {
        t.push_str(&format!("\n  {}\t{}", e.on, e.kind));
    }
    for p in &i.payments {
        let item = match p.term {
            Some(n) => format!("{} term {n}", p.item),
            None => p.item.clone(),
        };
        t.push_str(&format!("\n  paid {}\t{item}\t{} yen", p.paid_on, p.yen));
    }
    if let Some(r) = &i.refund {
        t.push_str(&format!(
            "\n  refund {} ({}): {} yen, retained {} yen",
            r.id, r.event, r.refund, r.retained
        ));
    } else if !i.next.is_empty() {
        t.push_str(&format!("\n  next: {}", i.next.join(" or ")));
    }
    t
}

/// `mamori refund compute`.
pub async fn refund(cmd: RefundCmd, cfg: &Config) -> Result<Out, ServiceError> {
    let RefundCmd::Compute { preset } = cmd;
    let policy: Policy = match preset {
        Some(p) => {
            let text = mamori_policy::preset(&p).ok_or_else(|| {
                bad(format!(
                    "--preset: \"{p}\" is not a preset: use chiba-ia or tokyo-one"
                ))
            })?;
            Policy::parse(text, &p).map_err(|e| ServiceError::Failed(e.to_string()))?
        }
        None if Store::is_initialized(&cfg.data_dir) => {
            (*Mamori::open(cfg).await?.policy()).clone()
        }
        None => {
            let text = mamori_policy::preset("tokyo-one").unwrap_or_default();
            Policy::parse(text, "tokyo-one").map_err(|e| ServiceError::Failed(e.to_string()))?
        }
    };
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| bad(format!("case: cannot read standard input: {e}")))?;
    let r = student::refund_compute_text(&policy, &text)?;
    Ok(Out::Both(json(&r), r.to_string()))
}

/// `mamori student …`.
pub async fn run(m: &Mamori, cmd: StudentCmd) -> Result<Out, ServiceError> {
    match cmd {
        StudentCmd::Open {
            principal,
            who,
            term_months,
            terms,
            on,
        } => {
            let actor = m.actor(&who.login).await?;
            let i = m
                .student_open(
                    &actor,
                    OpenStudent {
                        principal_id: principal,
                        term_months,
                        terms,
                        applied_on: on,
                    },
                )
                .await?;
            Ok(Out::Both(json(&i), i.id.clone()))
        }
        StudentCmd::Event {
            id,
            who,
            kind,
            on,
            term_months,
            terms,
        } => {
            let actor = m.actor(&who.login).await?;
            let i = m
                .student_event(
                    &actor,
                    &id,
                    NewEvent {
                        kind,
                        on,
                        term_months,
                        terms,
                    },
                )
                .await?;
            let t = info_text(&i);
            Ok(Out::Both(json(&i), t))
        }
        StudentCmd::Pay {
            id,
            who,
            item,
            term,
            yen,
            token,
            on,
        } => {
            let actor = m.actor(&who.login).await?;
            let p = m
                .student_pay(
                    &actor,
                    &id,
                    NewPayment {
                        item,
                        term,
                        yen,
                        token,
                        paid_on: on,
                    },
                )
                .await?;
            let t = format!("{}\t{}\t{} yen", p.id, p.item, p.yen);
            Ok(Out::Both(json(&p), t))
        }
        StudentCmd::Refund {
            id,
            who,
            event,
            out,
            lang,
        } => {
            let lang = lang_arg(&lang)?;
            let actor = m.actor(&who.login).await?;
            let mut r = m.student_refund(&actor, &id, event.as_deref()).await?;
            if let Some(path) = &out {
                let html = m.student_statement(&actor, &id, lang).await?;
                write_out(path, &html)?;
                r.out = Some(path.display().to_string());
            }
            let mut t = String::new();
            for l in &r.lines {
                let item = match l.term {
                    Some(n) => format!("{} term {n}", l.item),
                    None => l.item.clone(),
                };
                t.push_str(&format!("{item}\tpaid {}\trefund {}\n", l.paid, l.refund));
            }
            t.push_str(&format!(
                "{}: refund {} yen, retained {} yen",
                r.id, r.refund, r.retained
            ));
            if let Some(o) = &r.out {
                t.push_str(&format!("\nWrote {o}."));
            }
            Ok(Out::Both(json(&r), t))
        }
        StudentCmd::Statement { id, who, lang, out } => {
            let lang = lang_arg(&lang)?;
            let actor = m.actor(&who.login).await?;
            let html = m.student_statement(&actor, &id, lang).await?;
            match out {
                Some(path) => {
                    write_out(&path, &html)?;
                    Ok(Out::Both(
                        serde_json::json!({"out": path.display().to_string()}),
                        format!("Wrote {}.", path.display()),
                    ))
                }
                None => Ok(Out::Both(serde_json::json!({"html": html}), html)),
            }
        }
        StudentCmd::Graduate {
            id,
            who,
            to_alumni,
            on,
        } => {
            let actor = m.actor(&who.login).await?;
            let g = m
                .student_graduate(&actor, &id, on.as_deref(), to_alumni)
                .await?;
            let t = format!(
                "{} graduated; principal {} is in channel {}",
                g.id, g.principal_id, g.channel
            );
            Ok(Out::Both(json(&g), t))
        }
        StudentCmd::Show { id, who } => {
            let actor = m.actor(&who.login).await?;
            let i = m.student_show(&actor, &id).await?;
            let t = info_text(&i);
            Ok(Out::Both(json(&i), t))
        }
        StudentCmd::List { who } => {
            let actor = m.actor(&who.login).await?;
            let list = m.student_list(&actor).await?;
            let t = list
                .iter()
                .map(|s| {
                    format!(
                        "{}\t{}\t{}\t{}{}",
                        s.id,
                        s.principal_id,
                        s.stage,
                        s.stage_on,
                        s.refund_id
                            .as_deref()
                            .map(|r| format!("\trefunded {r}"))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), t))
        }
    }
}
