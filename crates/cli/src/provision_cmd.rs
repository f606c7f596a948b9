//! `mamori consent`, `mamori provide`, `mamori provisions`, `mamori recipient`: consent and
//! provision to others (seed 000 Arts. 6-7, seed 003 Arts. 18, 20; APPI 25, 27-29).

use clap::{Args, Subcommand};
use mamori_service::principal::parse_exception;
use mamori_service::provision::{ConsentTarget, ProvideRequest};
use mamori_service::{Mamori, ServiceError};

use crate::{AsLogin, Out, bad, json};

#[derive(Args, Debug, Clone)]
pub struct Target {
    /// A purpose of the policy.
    #[arg(long)]
    purpose: Option<String>,
    /// A recipient of the policy (third party, contractor or joint user).
    #[arg(long)]
    recipient: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ConsentCmd {
    /// Record a consent given (by purpose or by recipient).
    Give {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[command(flatten)]
        target: Target,
        /// Where the consent is kept (a form number), never a personal value.
        #[arg(long)]
        evidence: Option<String>,
        /// For a recipient abroad: the principal was told the country, its protection system and
        /// the recipient's measures before consenting (APPI 28(2)).
        #[arg(long)]
        informed_abroad: bool,
    },
    /// Withdraw a consent: effective at once.
    Withdraw {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[command(flatten)]
        target: Target,
    },
    /// The consent records of a principal.
    List {
        id: String,
        #[command(flatten)]
        who: AsLogin,
    },
}

#[derive(Args, Debug)]
pub struct ProvideArgs {
    id: String,
    #[command(flatten)]
    who: AsLogin,
    #[arg(long)]
    recipient: String,
    #[arg(long)]
    purpose: String,
    /// The categories to provide, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    fields: Vec<String>,
    /// consent, or a statutory exception: law, life, public-health, public-agency.
    #[arg(long)]
    basis: Option<String>,
    /// The written reason for a statutory exception.
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ProvisionsCmd {
    /// The provision records (APPI 29), newest first.
    List {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        principal: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RecipientCmd {
    /// Every recipient with its contract and review state.
    List {
        #[command(flatten)]
        who: AsLogin,
    },
    /// Record the review of a contractor's contract or a foreign recipient's measures.
    Review {
        recipient: String,
        #[command(flatten)]
        who: AsLogin,
        /// contract (a contractor's, seed 003 Art. 18) or measures (abroad, APPI 28(3)); needed
        /// only for a contractor abroad.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        reviewed_on: String,
        /// The clauses the contract now contains (comma-separated), if it changed.
        #[arg(long, value_delimiter = ',')]
        clauses: Option<Vec<String>>,
        /// When the next review is due (default: the policy's interval, one year).
        #[arg(long)]
        next_due: Option<String>,
    },
}

fn target(t: Target) -> Result<ConsentTarget, ServiceError> {
    ConsentTarget::from_flags(t.purpose, t.recipient)
}

pub async fn consent(m: &Mamori, cmd: ConsentCmd) -> Result<Out, ServiceError> {
    match cmd {
        ConsentCmd::Give {
            id,
            who,
            target: t,
            evidence,
            informed_abroad,
        } => {
            let actor = m.actor(&who.login).await?;
            let g = m
                .consent_give(
                    &actor,
                    &id,
                    &target(t)?,
                    evidence.as_deref(),
                    informed_abroad,
                )
                .await?;
            let text = if g.already {
                format!("Consent already on record ({}).", g.consent_id)
            } else {
                format!("Consent recorded ({}).", g.consent_id)
            };
            Ok(Out::Both(json(&g), text))
        }
        ConsentCmd::Withdraw { id, who, target: t } => {
            let actor = m.actor(&who.login).await?;
            let w = m.consent_withdraw(&actor, &id, &target(t)?).await?;
            let text = format!("Withdrawn: {}", w.withdrawn.join(", "));
            Ok(Out::Both(json(&w), text))
        }
        ConsentCmd::List { id, who } => {
            let actor = m.actor(&who.login).await?;
            let list = m.consents_list(&actor, &id).await?;
            let text = list
                .iter()
                .map(|c| {
                    format!(
                        "{}\t{}\tgiven {}\t{}",
                        c.consent_id,
                        c.purpose
                            .as_deref()
                            .or(c.recipient.as_deref())
                            .unwrap_or("special-care acquisition"),
                        c.given_at,
                        c.withdrawn_at
                            .as_deref()
                            .map_or("active".to_string(), |w| format!("withdrawn {w}"))
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), text))
        }
    }
}

pub async fn provide(m: &Mamori, a: ProvideArgs) -> Result<Out, ServiceError> {
    let actor = m.actor(&a.who.login).await?;
    let (exception, require_consent) = match a.basis.as_deref() {
        Some("consent") => {
            if a.reason.is_some() {
                return Err(bad(
                    "--reason: goes with a statutory basis (law, life, public-health, public-agency), not consent",
                ));
            }
            (None, true)
        }
        other => (parse_exception(other, a.reason.as_deref())?, false),
    };
    let p = m
        .provide(
            &actor,
            ProvideRequest {
                principal_id: a.id,
                recipient: a.recipient,
                purpose: a.purpose,
                fields: a.fields,
                exception,
                require_consent,
            },
        )
        .await?;
    let mut text = format!(
        "Provision {} to {} on {}; record kept until {}.",
        p.provision_id,
        p.recipient,
        p.basis,
        p.record_kept_until
            .as_deref()
            .unwrap_or("— (no record required)")
    );
    for (k, v) in &p.fields {
        text.push_str(&format!("\n{k}: {v}"));
    }
    Ok(Out::Both(json(&p), text))
}

pub async fn provisions(m: &Mamori, cmd: ProvisionsCmd) -> Result<Out, ServiceError> {
    match cmd {
        ProvisionsCmd::List { who, principal } => {
            let actor = m.actor(&who.login).await?;
            let list = m.provisions_list(&actor, principal.as_deref()).await?;
            let text = list
                .iter()
                .map(|p| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}\tkept until {}",
                        p.provision_id,
                        p.provided_at,
                        p.principal_id,
                        p.recipient,
                        p.categories.join(","),
                        p.record_kept_until
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), text))
        }
    }
}

pub async fn recipient(m: &Mamori, cmd: RecipientCmd) -> Result<Out, ServiceError> {
    match cmd {
        RecipientCmd::List { who } => {
            let actor = m.actor(&who.login).await?;
            let list = m.recipients_status(&actor).await?;
            let text = list
                .iter()
                .map(|r| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        r.id,
                        r.kind,
                        r.country,
                        r.blocked.as_deref().unwrap_or("ok")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), text))
        }
        RecipientCmd::Review {
            recipient,
            who,
            kind,
            reviewed_on,
            clauses,
            next_due,
        } => {
            let actor = m.actor(&who.login).await?;
            let r = m
                .recipient_review(
                    &actor,
                    &recipient,
                    kind.as_deref(),
                    &reviewed_on,
                    clauses.as_deref(),
                    next_due.as_deref(),
                )
                .await?;
            let text = format!(
                "Review of {} ({}) recorded on {}; next due {}.",
                r.recipient,
                r.kind,
                r.reviewed_on,
                r.next_due.as_deref().unwrap_or("per the policy's interval")
            );
            Ok(Out::Both(json(&r), text))
        }
    }
}
