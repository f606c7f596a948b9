//! `mamori request`: principals' requests (APPI 32-39; seed 000 Art. 9; seed 003 Arts. 5, 21).

use std::path::PathBuf;

use clap::Subcommand;
use mamori_policy::Lang;
use mamori_service::principal::parse_assignments;
use mamori_service::request::OpenRequest;
use mamori_service::{Mamori, ServiceError};

use crate::{AsLogin, Out, bad, json};

#[derive(Subcommand, Debug)]
pub enum RequestCmd {
    /// Take in a request: purpose-notice, disclosure, correction, suspension, erasure, provision-stop.
    Open {
        #[command(flatten)]
        who: AsLogin,
        /// The principal, when known (a portal request is linked after the identity check).
        #[arg(long)]
        principal: Option<String>,
        #[arg(long)]
        kind: String,
        /// When it reached the office (RFC 3339; without an offset, Japan time).
        #[arg(long)]
        received_at: String,
        /// counter, mail, email, phone or portal.
        #[arg(long)]
        channel: Option<String>,
        /// For a suspension: the purpose to suspend (every use when absent).
        #[arg(long)]
        purpose: Option<String>,
        /// What the principal asked, in their words (kept sealed).
        #[arg(long)]
        details: Option<String>,
        /// The principal's language for letters and packages: ja or en.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Link a request to the principal it is about.
    Link {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        principal: String,
    },
    /// Record the identity check (methods from the policy).
    Verify {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        method: String,
        /// What the check rests on: the document seen and at most the last four digits of its
        /// number (e.g. "residence card, ends 1234"), or the code the principal entered.
        #[arg(long)]
        evidence: Option<String>,
    },
    /// Answer the request (after verification); a correction takes CATEGORY=VALUE…
    Fulfil {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        /// Write the package / letter files into DIR.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(value_name = "CATEGORY=VALUE")]
        fields: Vec<String>,
    },
    /// Refuse, with a ground and a reason the principal is told.
    Refuse {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        /// unverifiable, already-erased, serious-hindrance, harm, other-law.
        #[arg(long)]
        ground: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Requests, oldest answer-by date first.
    List {
        #[command(flatten)]
        who: AsLogin,
        /// Only those past their answer-by date and not answered.
        #[arg(long)]
        overdue: bool,
    },
    /// One request with its details.
    Show {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
    /// The letter to the principal for where the request stands (acknowledgement, result, refusal).
    Notice {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        lang: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn lang(l: Option<String>) -> Result<Option<Lang>, ServiceError> {
    l.map(|x| x.parse::<Lang>().map_err(|e| bad(format!("--lang: {e}"))))
        .transpose()
}

pub async fn run(m: &Mamori, cmd: RequestCmd) -> Result<Out, ServiceError> {
    match cmd {
        RequestCmd::Open {
            who,
            principal,
            kind,
            received_at,
            channel,
            purpose,
            details,
            lang: l,
        } => {
            let actor = m.actor(&who.login).await?;
            let o = m
                .request_open(
                    &actor,
                    OpenRequest {
                        principal_id: principal,
                        kind,
                        received_at,
                        channel,
                        purpose,
                        details,
                        lang: lang(l)?,
                    },
                )
                .await?;
            let text = format!("{} ({}) opened; answer by {}.", o.id, o.kind, o.answer_by);
            Ok(Out::Both(json(&o), text))
        }
        RequestCmd::Link { id, who, principal } => {
            let actor = m.actor(&who.login).await?;
            let r = m.request_link(&actor, &id, &principal).await?;
            let text = format!("{id} linked to {principal}.");
            Ok(Out::Both(json(&r), text))
        }
        RequestCmd::Verify {
            id,
            who,
            method,
            evidence,
        } => {
            let actor = m.actor(&who.login).await?;
            let r = m
                .request_verify(&actor, &id, &method, evidence.as_deref())
                .await?;
            let text = format!(
                "{id}: identity verified ({method}); answer by {}.",
                r.answer_by
            );
            Ok(Out::Both(json(&r), text))
        }
        RequestCmd::Fulfil {
            id,
            who,
            out,
            fields,
        } => {
            let actor = m.actor(&who.login).await?;
            let fields = if fields.is_empty() {
                Vec::new()
            } else {
                parse_assignments(&fields)?
            };
            let f = m
                .request_fulfil(&actor, &id, &fields, out.as_deref())
                .await?;
            let mut text = format!("{id} fulfilled: {}.", f.result);
            for file in &f.files {
                text.push_str(&format!("\nwrote {file}"));
            }
            if f.files.is_empty()
                && let Some(p) = &f.package
            {
                text.push('\n');
                text.push_str(&serde_json::to_string_pretty(p).unwrap_or_default());
            }
            Ok(Out::Both(json(&f), text))
        }
        RequestCmd::Refuse {
            id,
            who,
            ground,
            reason,
            out,
        } => {
            let actor = m.actor(&who.login).await?;
            let r = m
                .request_refuse(&actor, &id, &ground, &reason, out.as_deref())
                .await?;
            let mut text = format!("{id} refused ({}).", r.ground);
            for file in &r.files {
                text.push_str(&format!("\nwrote {file}"));
            }
            Ok(Out::Both(json(&r), text))
        }
        RequestCmd::List { who, overdue } => {
            let actor = m.actor(&who.login).await?;
            let list = m.request_list(&actor, overdue, None).await?;
            let text = list
                .iter()
                .map(|r| {
                    format!(
                        "{}\t{}\t{}\tanswer by {}{}\t{}",
                        r.id,
                        r.kind,
                        r.status,
                        r.answer_by,
                        if r.overdue { " (overdue)" } else { "" },
                        r.principal_id.as_deref().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), text))
        }
        RequestCmd::Show { id, who } => {
            let actor = m.actor(&who.login).await?;
            let v = m.request_show(&actor, &id).await?;
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            Ok(Out::Both(v, text))
        }
        RequestCmd::Notice {
            id,
            who,
            lang: l,
            out,
        } => {
            let actor = m.actor(&who.login).await?;
            let html = m.request_notice(&actor, &id, lang(l)?).await?;
            match out {
                Some(path) => {
                    crate::write_out(&path, html.as_bytes())?;
                    let text = format!("wrote {}", path.display());
                    Ok(Out::Both(
                        serde_json::json!({"file": path.display().to_string()}),
                        text,
                    ))
                }
                None => Ok(Out::Both(serde_json::json!({"html": html}), html)),
            }
        }
    }
}
