//! `mamori retention`, `mamori disposals`, `mamori backup`, `mamori restore`, `mamori keys`:
//! retention, disposal and backups (seed 000 Art. 8-4; seed 003 Arts. 12, 16).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Subcommand;
use mamori_service::{Mamori, ServiceError};

use crate::{AsLogin, Out, json};

#[derive(Subcommand, Debug)]
pub enum RetentionCmd {
    /// Destroy what has passed its retention period (or list it with --dry-run).
    Sweep {
        #[command(flatten)]
        who: AsLogin,
        /// Sweep as of this time (RFC 3339; default now). A real sweep takes no time later than
        /// the clock; only --dry-run looks ahead.
        #[arg(long)]
        now: Option<String>,
        #[arg(long)]
        dry_run: bool,
        /// Go ahead although the sweep destroys more than a tenth of all principals (check the
        /// list with --dry-run first).
        #[arg(long)]
        confirm_large: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum DisposalsCmd {
    /// Disposal records: what was destroyed, when, by which rule (no values).
    List {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        principal: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Replace the master key: every data key is rewrapped; readers keep working.
    Rotate,
}

pub async fn retention(m: &Mamori, cmd: RetentionCmd, quiet: bool) -> Result<Out, ServiceError> {
    match cmd {
        RetentionCmd::Sweep {
            who,
            now,
            dry_run,
            confirm_large,
        } => {
            let actor = m.actor(&who.login).await?;
            let bar = if quiet || !std::io::stderr().is_terminal() {
                indicatif::ProgressBar::hidden()
            } else {
                indicatif::ProgressBar::new_spinner()
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} principals examined {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            let b2 = bar.clone();
            let mut progress = move |n: u64| b2.set_position(n);
            let r = m
                .retention_sweep(
                    Some(&actor),
                    now.as_deref(),
                    dry_run,
                    confirm_large,
                    &mut progress,
                )
                .await?;
            bar.finish_and_clear();
            let verb = if dry_run {
                "would destroy"
            } else {
                "destroyed"
            };
            let mut text = format!(
                "As of {}: examined {}, {verb} {} principals, removed expired fields of {}, held {}, purged {} provision records.",
                r.now,
                r.examined,
                r.destroyed.len(),
                r.fields_removed.len(),
                r.held.len(),
                r.provision_records_purged
            );
            for id in &r.destroyed {
                text.push_str(&format!("\n{verb} {id}"));
            }
            for h in &r.held {
                text.push_str(&format!("\nheld {}: {}", h.principal_id, h.reason));
            }
            Ok(Out::Both(json(&r), text))
        }
    }
}

pub async fn disposals(m: &Mamori, cmd: DisposalsCmd) -> Result<Out, ServiceError> {
    match cmd {
        DisposalsCmd::List { who, principal } => {
            let actor = m.actor(&who.login).await?;
            let list = m.disposals(&actor, principal.as_deref()).await?;
            let text = list
                .iter()
                .map(|d| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        d.disposal_id,
                        d.at,
                        d.principal_id,
                        d.categories.join(","),
                        d.rule
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), text))
        }
    }
}

pub async fn backup(m: &Mamori, out: PathBuf, keys: bool) -> Result<Out, ServiceError> {
    let r = m.backup(&out, keys).await?;
    let text = format!(
        "Wrote the {} backup {} ({} rows in {} tables). {}",
        r.kind,
        r.file,
        r.rows,
        r.tables,
        if keys {
            "Keep it apart from the data backups: its lifetime is the key store's."
        } else {
            "It holds ciphertext only; the keys are backed up separately (mamori backup --keys)."
        }
    );
    Ok(Out::Both(json(&r), text))
}

pub async fn restore(m: &Mamori, files: Vec<PathBuf>) -> Result<Out, ServiceError> {
    let r = m.restore(&files).await?;
    let names = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    let mut text = format!(
        "Restored {} rows from {names} ({}); {} principal(s) erased since the backup stay erased; {} key(s) of erased principals destroyed.",
        r.rows,
        r.kinds.join(" + "),
        r.re_erased.len(),
        r.keys_destroyed.len(),
    );
    if r.waiting_for_keys > 0 {
        text.push_str(&format!(
            "\n{} principal(s) have no data key yet: restore the key backup too (mamori restore FILE.keys); nobody was erased for it.",
            r.waiting_for_keys
        ));
    }
    if let Some(t) = &r.unknown_erasures_after {
        text.push_str(&format!(
            "\nErasures made after {t} are in none of these backups: anyone erased since then must be erased again (docs/retention.md)."
        ));
    }
    Ok(Out::Both(json(&r), text))
}

pub async fn keys(m: &Mamori, cmd: KeysCmd) -> Result<Out, ServiceError> {
    match cmd {
        KeysCmd::Rotate => {
            let r = m.rotate_master_key().await?;
            let text = format!(
                "Rewrapped {} data keys under the new master key (key id {}); the old master key is destroyed. Back up {} now, apart from the data.",
                r.rewrapped, r.kek_id, r.key_file
            );
            Ok(Out::Both(json(&r), text))
        }
    }
}
