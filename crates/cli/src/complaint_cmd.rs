//! `mamori complaint …`: the complaint desk (seed 003 Art. 23; seed 000 Art. 11). Every command
//! takes `--as LOGIN` and needs the role action `complaints`. A text argument given as `-` is read
//! from standard input, so what a complainant said need not appear in the process list.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use mamori_policy::Lang;
use mamori_service::complaint::{ComplaintInfo, NewComplaint};
use mamori_service::{Config, Mamori, ServiceError};

use crate::{AsLogin, Out, bad, json};

#[derive(Subcommand, Debug)]
pub enum ComplaintCmd {
    /// Record a complaint (any time: one received while the desk is closed counts from its
    /// next opening).
    Open {
        #[command(flatten)]
        who: AsLogin,
        /// When it arrived: RFC 3339; a time without an offset is Japan time.
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        received_at: String,
        /// What it is about (sealed; `-` reads standard input).
        #[arg(long, allow_hyphen_values = true)]
        summary: String,
        /// The principal it concerns, when known.
        #[arg(long, value_name = "ID")]
        principal: Option<String>,
        /// phone, letter, email, visit or portal.
        #[arg(long)]
        channel: Option<String>,
    },
    /// Record that the desk acknowledged the complaint.
    Ack {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// An investigation note and the staff consulted (seed 003 Art. 23(4)).
    Note {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        /// The note (sealed; `-` reads standard input).
        #[arg(long, allow_hyphen_values = true)]
        text: String,
        /// A staff member consulted about the measures (repeatable).
        #[arg(long = "consulted", value_name = "LOGIN")]
        consulted: Vec<String>,
    },
    /// Record the result and close the complaint.
    Close {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        /// The result (sealed; `-` reads standard input).
        #[arg(long, allow_hyphen_values = true)]
        result: String,
    },
    /// The written notice of the result to the complainant (seed 003 Art. 23(5)), printable HTML.
    Notice {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long, default_value = "ja")]
        lang: String,
        /// Write the HTML to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Complaints: ids, dates and status (`--overdue`: not closed and past their answer-by date).
    List {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        overdue: bool,
    },
    /// One complaint with its summary, notes and result.
    Show {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
}

/// The argument itself, or standard input when it is `-`.
fn text_arg(value: String, field: &str) -> Result<String, ServiceError> {
    if value != "-" {
        return Ok(value);
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| bad(format!("{field}: cannot read standard input: {e}")))?;
    Ok(s)
}

fn info_line(c: &ComplaintInfo) -> String {
    format!(
        "{}\t{}\t{}\t{}{}",
        c.id,
        c.received_at,
        c.answer_by,
        c.status,
        if c.overdue { "\toverdue" } else { "" }
    )
}

pub async fn run(cmd: ComplaintCmd, cfg: &Config) -> Result<Out, ServiceError> {
    let m = Mamori::open(cfg).await?;
    match cmd {
        ComplaintCmd::Open {
            who,
            received_at,
            summary,
            principal,
            channel,
        } => {
            let actor = m.actor(&who.login).await?;
            let summary = text_arg(summary, "--summary")?;
            let o = m
                .complaint_open(
                    &actor,
                    NewComplaint {
                        received_at,
                        summary,
                        principal,
                        channel,
                    },
                    None,
                )
                .await?;
            let text = format!(
                "{}\nreceived {} ({}), counted from {}, to be answered by {}",
                o.id,
                o.received_at,
                if o.window_open {
                    "desk open"
                } else {
                    "desk closed"
                },
                o.counted_from,
                o.answer_by
            );
            Ok(Out::Both(json(&o), text))
        }
        ComplaintCmd::Ack { id, who } => {
            let actor = m.actor(&who.login).await?;
            let c = m.complaint_ack(&actor, &id, None).await?;
            Ok(Out::Both(json(&c), info_line(&c)))
        }
        ComplaintCmd::Note {
            id,
            who,
            text,
            consulted,
        } => {
            let actor = m.actor(&who.login).await?;
            let text = text_arg(text, "--text")?;
            let n = m
                .complaint_note(&actor, &id, &text, &consulted, None)
                .await?;
            let t = format!("{} noted on {}", n.note_id, n.complaint_id);
            Ok(Out::Both(json(&n), t))
        }
        ComplaintCmd::Close { id, who, result } => {
            let actor = m.actor(&who.login).await?;
            let result = text_arg(result, "--result")?;
            let c = m.complaint_close(&actor, &id, &result, None).await?;
            Ok(Out::Both(json(&c), info_line(&c)))
        }
        ComplaintCmd::Notice { id, who, lang, out } => {
            let lang: Lang = lang.parse().map_err(|e| bad(format!("--lang: {e}")))?;
            let actor = m.actor(&who.login).await?;
            let html = m.complaint_notice(&actor, &id, lang, None).await?;
            match out {
                Some(path) => {
                    crate::write_out(&path, html.as_bytes())?;
                    let t = format!("Wrote {}.", path.display());
                    Ok(Out::Both(
                        serde_json::json!({"id": id, "lang": lang, "out": path.display().to_string()}),
                        t,
                    ))
                }
                None => Ok(Out::Both(
                    serde_json::json!({"id": id, "lang": lang, "html": html}),
                    html,
                )),
            }
        }
        ComplaintCmd::List { who, overdue } => {
            let actor = m.actor(&who.login).await?;
            let list = m.complaint_list(&actor, overdue, None).await?;
            let t = list.iter().map(info_line).collect::<Vec<_>>().join("\n");
            Ok(Out::Both(json(&list), t))
        }
        ComplaintCmd::Show { id, who } => {
            let actor = m.actor(&who.login).await?;
            let c = m.complaint_show(&actor, &id, None).await?;
            let mut t = format!("{}\nsummary: {}", info_line(&c.info), c.summary);
            for n in &c.notes {
                t.push_str(&format!(
                    "\nnote {} {} {}{}: {}",
                    n.id,
                    n.at,
                    n.staff,
                    if n.consulted.is_empty() {
                        String::new()
                    } else {
                        format!(" (consulted {})", n.consulted.join(", "))
                    },
                    n.text
                ));
            }
            if let Some(r) = &c.result {
                t.push_str(&format!("\nresult: {r}"));
            }
            Ok(Out::Both(json(&c), t))
        }
    }
}
