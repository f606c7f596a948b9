//! The `mamori` binary: admin commands over `mamori-service` (DESIGN.md "Command-line
//! interface"; the command and flag names are part of the interface).
//!
//! Exit codes: 0 done; 1 failed (e.g. verification found tampering); 2 bad input or usage, with
//! a one-line reason on stderr; 3 denied by policy, with `denied: <reason>` on stderr.

mod calendar_cmd;
mod complaint_cmd;
mod governance_cmd;
mod incident_cmd;
mod provision_cmd;
mod request_cmd;
mod retention_cmd;
mod student_cmd;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use mamori_policy::Lang;
use mamori_policy::notice::Format;
use mamori_service::principal::{NewPrincipal, parse_assignments, parse_exception};
use mamori_service::{Config, Mamori, ServiceError};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(
    name = "mamori",
    version,
    about = "Mamori (守り): personal-information protection management",
    propagate_version = true
)]
struct Cli {
    /// The data folder (database, keys, audit head).
    #[arg(
        long,
        global = true,
        env = "MAMORI_DATA",
        default_value = "mamori-data"
    )]
    data: PathBuf,
    /// PostgreSQL instead of the embedded SQLite (postgres://user@host/db).
    #[arg(long, global = true, env = "MAMORI_DATABASE_URL")]
    database_url: Option<String>,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct AsLogin {
    /// The staff member acting: every action is attributed and decided by their role.
    #[arg(long = "as", value_name = "LOGIN")]
    login: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a data folder with a preset or a policy file.
    Init {
        #[arg(long, conflicts_with = "policy", required_unless_present = "policy")]
        preset: Option<String>,
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The first administrator (password from MAMORI_PASSWORD or a prompt).
        #[arg(long)]
        admin: Option<String>,
    },
    /// The built-in presets.
    Presets,
    /// Counts: principals, audit entries, … (no personal values).
    Status,
    /// Check that no record an access decision rests on (channels, consents, suspensions,
    /// staff roles) was changed outside Mamori (no --as; exit 1 naming the first bad row).
    Verify,
    /// Staff accounts: add, list, API tokens, roles, disabling, confidentiality pledges.
    #[command(subcommand)]
    Staff(StaffCmd),
    /// The policy: check, show, the notice, diff and apply a new version.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Principals: register, reveal for a purpose, find, correct.
    #[command(subcommand)]
    Principal(PrincipalCmd),
    /// Register principals from a CSV file (header = category ids; UTF-8 or Shift_JIS).
    Import {
        file: PathBuf,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        channel: String,
        /// Purposes every row's principal consented to on the form.
        #[arg(long = "consent")]
        consents: Vec<String>,
        #[arg(long)]
        special_care_consent: bool,
        /// Where the consents are kept (the forms behind the file); needed with --consent or
        /// --special-care-consent. Never a personal value.
        #[arg(long)]
        evidence: Option<String>,
    },
    /// The tamper-evident audit log: verify the chain, read entries (never values).
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Japanese holidays, business days and the complaint window (no --as).
    #[command(subcommand)]
    Calendar(calendar_cmd::CalendarCmd),
    /// The complaint desk (seed 003 Art. 23).
    #[command(subcommand)]
    Complaint(complaint_cmd::ComplaintCmd),
    /// Breach (漏えい等) response with the PPC's deadlines (seed 003 Arts. 7(3), 13(2); APPI 26).
    #[command(subcommand)]
    Incident(incident_cmd::IncidentCmd),
    /// Consent given and withdrawn, by purpose or by recipient.
    #[command(subcommand)]
    Consent(provision_cmd::ConsentCmd),
    /// Provide a principal's data to a recipient (third party, contractor, joint user).
    Provide(provision_cmd::ProvideArgs),
    /// Provision records (APPI 29).
    #[command(subcommand)]
    Provisions(provision_cmd::ProvisionsCmd),
    /// Recipients, their contracts and reviews.
    #[command(subcommand)]
    Recipient(provision_cmd::RecipientCmd),
    /// Principals' requests: disclosure, correction, suspension, erasure, provision stop.
    #[command(subcommand)]
    Request(request_cmd::RequestCmd),
    /// The school's students: application, COE, visa, enrollment, withdrawal, graduation, fee
    /// payments, refunds under the 学費返還規定 and refund statements.
    #[command(subcommand)]
    Student(student_cmd::StudentCmd),
    /// Tuition refunds under the policy's 学費返還規定 (`refund compute`: pure, case JSON on
    /// standard input, no --as).
    #[command(subcommand)]
    Refund(student_cmd::RefundCmd),
    /// Retention sweeps: destroy what has passed its period.
    #[command(subcommand)]
    Retention(retention_cmd::RetentionCmd),
    /// Disposal records.
    #[command(subcommand)]
    Disposals(retention_cmd::DisposalsCmd),
    /// Back up the data (or, with --keys, the key store) to a file.
    Backup {
        #[arg(long)]
        out: PathBuf,
        /// Back up the key store instead of the data (keep the two apart).
        #[arg(long)]
        keys: bool,
    },
    /// Restore a data backup, a key backup, or both (either order); erased principals stay
    /// erased, and an altered backup is refused before anything changes.
    Restore {
        #[arg(value_name = "FILE", required = true, num_args = 1..=2)]
        files: Vec<PathBuf>,
    },
    /// The master key.
    #[command(subcommand)]
    Keys(retention_cmd::KeysCmd),
    #[command(flatten)]
    Governance(governance_cmd::GovCmd),
    /// Serve the HTTP API, the staff console (/console) and the privacy portal (/privacy).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Mark session cookies Secure and send HSTS (set when TLS is terminated in front of
        /// Mamori).
        #[arg(long)]
        secure_cookies: bool,
        /// A reverse proxy whose X-Forwarded-For names the client (an address or a CIDR
        /// network; repeatable, or comma-separated in MAMORI_TRUSTED_PROXIES). Without one, the
        /// connection's address is the client and X-Forwarded-For is ignored.
        #[arg(
            long = "trusted-proxy",
            value_name = "CIDR_OR_IP",
            env = "MAMORI_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxy: Vec<String>,
    },
    /// A throwaway data folder with a preset, synthetic people and a staff account per role,
    /// then serve it.
    Demo {
        #[arg(long, default_value = "chiba-ia")]
        preset: String,
        #[arg(long, default_value_t = 300)]
        principals: u64,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Prepare the data folder and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
}

#[derive(Subcommand, Debug)]
enum StaffCmd {
    /// Add a staff member: prints a one-time setup link where they set their own password
    /// (or, with --password-from-env, takes it from MAMORI_PASSWORD or a prompt).
    Add {
        login: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// Optional: the staff administrator doing it (else the holder of the data folder).
        #[arg(long = "as", value_name = "LOGIN")]
        by: Option<String>,
        /// Set the password now, from MAMORI_PASSWORD or a prompt (the holder of the data
        /// folder only: an administrator never chooses another's password).
        #[arg(long, conflicts_with = "by")]
        password_from_env: bool,
    },
    /// Invite a staff member: an account without a password and a one-time setup link
    /// (valid 72 hours) where the person sets it.
    Invite {
        login: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// Optional: the staff administrator doing it (else the holder of the data folder).
        #[arg(long = "as", value_name = "LOGIN")]
        by: Option<String>,
    },
    /// Reset a forgotten password: the old one stops working and a new setup link is printed
    /// (or, with --password-from-env, set it from MAMORI_PASSWORD or a prompt).
    Password {
        login: String,
        /// Optional: the staff administrator doing it (else the holder of the data folder).
        #[arg(long = "as", value_name = "LOGIN")]
        by: Option<String>,
        /// Set the password now, from MAMORI_PASSWORD or a prompt (the holder of the data
        /// folder only).
        #[arg(long, conflicts_with = "by")]
        password_from_env: bool,
    },
    /// Forget a login's failed sign-ins (from every address): they may sign in again at once.
    Unlock {
        login: String,
        /// Optional: the staff administrator doing it (else the holder of the data folder).
        #[arg(long = "as", value_name = "LOGIN")]
        by: Option<String>,
    },
    /// Enable a disabled staff member again (their old API tokens stay revoked).
    Enable {
        login: String,
        /// Optional: the staff administrator doing it (else the holder of the data folder).
        #[arg(long = "as", value_name = "LOGIN")]
        by: Option<String>,
    },
    List {
        #[command(flatten)]
        who: AsLogin,
    },
    /// Print a new API token for yourself: LOGIN's own password is asked (MAMORI_PASSWORD or
    /// a prompt); nobody makes a token for someone else.
    Token { login: String },
    #[command(flatten)]
    Governance(governance_cmd::StaffGovCmd),
}

#[derive(Subcommand, Debug)]
enum PolicyCmd {
    /// Check a policy file: every problem at once.
    Check { file: PathBuf },
    /// The public notice rendered from the policy in effect.
    Notice {
        #[arg(long, default_value = "ja")]
        lang: String,
        #[arg(long, default_value = "markdown")]
        format: String,
    },
    /// Classify every change between two policy files.
    Diff { old: PathBuf, new: PathBuf },
    /// Store a new policy version, effective on DATE.
    Apply {
        file: PathBuf,
        #[arg(long)]
        effective: String,
        #[arg(long = "as", value_name = "LOGIN")]
        by: Option<String>,
    },
    /// The policy in effect (TOML), or with --json the stored versions too.
    Show,
}

#[derive(Subcommand, Debug)]
enum PrincipalCmd {
    /// Register a principal: CATEGORY=VALUE…
    Add {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        channel: String,
        /// A purpose the principal consented to (beyond those notified for the channel).
        #[arg(long = "consent")]
        consents: Vec<String>,
        /// The principal consented to giving special-care-required data (APPI 20(2)).
        #[arg(long)]
        special_care_consent: bool,
        /// Where the consent is kept (a form number), never a personal value.
        #[arg(long)]
        evidence: Option<String>,
        #[arg(value_name = "CATEGORY=VALUE")]
        fields: Vec<String>,
    },
    /// Reveal a principal's values for a purpose.
    Show {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        purpose: String,
        /// Only these categories (comma-separated).
        #[arg(long, value_delimiter = ',')]
        fields: Option<Vec<String>>,
        /// A statutory exception: law, life, public-health, public-agency.
        #[arg(long)]
        basis: Option<String>,
        /// The written reason for the exception (required with --basis).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Find principals by exact email, phone or name.
    Find {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        purpose: String,
        #[arg(long, group = "by")]
        email: Option<String>,
        #[arg(long, group = "by")]
        phone: Option<String>,
        #[arg(long, group = "by")]
        name: Option<String>,
    },
    /// Correct values: CATEGORY=VALUE…
    Correct {
        id: String,
        #[command(flatten)]
        who: AsLogin,
        #[arg(value_name = "CATEGORY=VALUE", required = true)]
        fields: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Verify the chain (every entry authenticated by the signing key), the signed checkpoints
    /// and the signed head file; exit 1 naming what is wrong or missing.
    Verify {
        /// Also check the log against a head kept outside the data folder (printed earlier by
        /// `mamori audit head`): detects entries deleted after it even if an older head file
        /// was put back.
        #[arg(long, value_name = "FILE")]
        head: Option<PathBuf>,
    },
    /// Print the verified log's signed head (JSON) to keep outside the data folder.
    Head {
        /// Write a new head file for the log as it verifies entry by entry, after the head file
        /// was lost, damaged or replaced (writes are refused until then); recorded on the log.
        #[arg(long, requires = "login")]
        rewrite: bool,
        /// The staff member rewriting the head file (the administrator).
        #[arg(long = "as", value_name = "LOGIN")]
        login: Option<String>,
    },
    /// The latest audit entries (ids and categories, never values).
    Log {
        #[command(flatten)]
        who: AsLogin,
        #[arg(long)]
        principal: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
}

/// What a command prints: the JSON with --json, the text otherwise.
enum Out {
    Both(serde_json::Value, String),
}

/// `--out FILE` for a letter, notice or report: written 0600 and never through a symlink (one
/// helper for every such file, `mamori_store::files`); a regular file there is replaced.
pub(crate) fn write_out(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    mamori_service::store::files::write_private(
        path,
        bytes,
        mamori_service::store::files::Existing::Replace,
    )
    .map(|_| ())
    .map_err(|e| ServiceError::BadInput(format!("--out: {e}")))
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(msg.into())
}

fn read_file(path: &Path) -> Result<String, ServiceError> {
    std::fs::read_to_string(path).map_err(|e| bad(format!("{}: cannot read: {e}", path.display())))
}

fn password() -> Result<String, ServiceError> {
    if let Ok(p) = std::env::var("MAMORI_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(bad("password: set MAMORI_PASSWORD (no terminal to ask on)"));
    }
    let p = rpassword::prompt_password("Password: ").map_err(|e| bad(format!("password: {e}")))?;
    let again = rpassword::prompt_password("Again: ").map_err(|e| bad(format!("password: {e}")))?;
    if p != again {
        return Err(bad("password: the two entries differ; try again"));
    }
    Ok(p)
}

/// Where the server is reached, for setup links: MAMORI_PUBLIC_URL, else the default address
/// of `mamori serve`.
fn public_url() -> String {
    std::env::var("MAMORI_PUBLIC_URL")
        .ok()
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8080".into())
}

/// A setup link as printed: the link on its own line (once; only its hash is kept).
fn invitation_out(inv: &mamori_service::staff::Invitation, what: &str) -> Out {
    let link = format!("{}{}", public_url(), inv.setup_path);
    let mut v = json(inv);
    if let Some(o) = v.as_object_mut() {
        o.insert("setup_link".into(), link.clone().into());
    }
    let t = format!(
        "{what} {} ({}). Give this one-time link to the person only; they set their password there (valid until {}):\n{link}",
        inv.login,
        inv.role,
        mamori_calendar::format_jst(inv.expires_at.parse().unwrap_or_default())
    );
    Out::Both(v, t)
}

async fn run(cli: Cli) -> Result<Out, ServiceError> {
    let cfg = Config {
        data_dir: cli.data.clone(),
        database_url: cli.database_url.clone(),
    };
    match cli.command {
        Command::Presets => {
            let mut list = Vec::new();
            let mut lines = Vec::new();
            for (name, text) in mamori_policy::PRESETS {
                if let Ok(p) = mamori_policy::Policy::parse(text, name) {
                    lines.push(format!(
                        "{name}\t{}\t{}",
                        p.organization.name.ja, p.organization.name.en
                    ));
                    list.push(serde_json::json!({"id": name, "version": p.version, "organization": {"ja": p.organization.name.ja, "en": p.organization.name.en}}));
                }
            }
            let text = lines.join("\n");
            Ok(Out::Both(serde_json::Value::Array(list), text))
        }
        Command::Init {
            preset,
            policy,
            admin,
        } => {
            let (text, name) = match (&preset, &policy) {
                (Some(p), _) => (
                    mamori_policy::preset(p)
                        .ok_or_else(|| {
                            bad(format!(
                                "--preset: \"{p}\" is not a preset: use chiba-ia or tokyo-one"
                            ))
                        })?
                        .to_string(),
                    p.clone(),
                ),
                (None, Some(f)) => (read_file(f)?, f.display().to_string()),
                (None, None) => return Err(bad("give --preset NAME or --policy FILE")),
            };
            mamori_service::policy::check(&text, &name)?;
            let pw = match &admin {
                Some(_) => Some(password()?),
                None => None,
            };
            let admin_pair = admin.as_deref().zip(pw.as_deref());
            let (_m, report) =
                Mamori::init(&cfg, &text, &name, preset.as_deref(), admin_pair).await?;
            let t = format!(
                "Initialized {} ({}, policy {}).\nMaster key: {} — keep a copy somewhere safe and separate from backups.",
                report.data_dir, report.backend, report.policy_version, report.master_key
            );
            Ok(Out::Both(json(&report), t))
        }
        Command::Verify => {
            let m = Mamori::open(&cfg).await?;
            let r = m.verify_facts().await?;
            let t = format!(
                "ok: {} principals, {} consents, {} suspensions, {} staff verified",
                r.principals, r.consents, r.suspensions, r.staff
            );
            Ok(Out::Both(json(&r), t))
        }
        Command::Status => {
            let m = Mamori::open(&cfg).await?;
            let s = m.status().await?;
            let text = s
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
            Ok(Out::Both(s, text))
        }
        Command::Staff(cmd) => {
            let m = Mamori::open(&cfg).await?;
            match cmd {
                StaffCmd::Add {
                    login,
                    role,
                    name,
                    by,
                    password_from_env,
                } => {
                    let actor = match &by {
                        Some(l) => Some(m.actor(l).await?),
                        None => None,
                    };
                    if !password_from_env {
                        let inv = m
                            .staff_invite(actor.as_ref(), &login, &role, name.as_deref())
                            .await?;
                        return Ok(invitation_out(&inv, "Added"));
                    }
                    // Check what can be checked before asking for a password.
                    mamori_service::staff::check_login(&login)?;
                    let pw = password()?;
                    let info = m
                        .staff_add(actor.as_ref(), &login, &role, name.as_deref(), &pw)
                        .await?;
                    let t = format!("Added {} ({}).", info.login, info.role);
                    Ok(Out::Both(json(&info), t))
                }
                StaffCmd::Invite {
                    login,
                    role,
                    name,
                    by,
                } => {
                    let actor = match &by {
                        Some(l) => Some(m.actor(l).await?),
                        None => None,
                    };
                    let inv = m
                        .staff_invite(actor.as_ref(), &login, &role, name.as_deref())
                        .await?;
                    Ok(invitation_out(&inv, "Invited"))
                }
                StaffCmd::Password {
                    login,
                    by,
                    password_from_env,
                } => {
                    if password_from_env {
                        m.staff_set_password(&login, &password()?).await?;
                        let t = format!("Password set for {login}.");
                        return Ok(Out::Both(
                            serde_json::json!({"login": login, "password_set": true}),
                            t,
                        ));
                    }
                    let actor = match &by {
                        Some(l) => Some(m.actor(l).await?),
                        None => None,
                    };
                    let inv = m.staff_password_reset(actor.as_ref(), &login).await?;
                    Ok(invitation_out(&inv, "Password reset for"))
                }
                StaffCmd::Unlock { login, by } => {
                    let actor = match &by {
                        Some(l) => Some(m.actor(l).await?),
                        None => None,
                    };
                    let r = m.staff_unlock(actor.as_ref(), &login).await?;
                    let t = format!("Unlocked {} ({}).", r.login, r.role);
                    Ok(Out::Both(json(&r), t))
                }
                StaffCmd::Enable { login, by } => {
                    let actor = match &by {
                        Some(l) => Some(m.actor(l).await?),
                        None => None,
                    };
                    let r = m.staff_enable(actor.as_ref(), &login).await?;
                    let t = format!("Enabled {} ({}).", r.login, r.role);
                    Ok(Out::Both(json(&r), t))
                }
                StaffCmd::List { who } => {
                    let actor = m.actor(&who.login).await?;
                    let list = m.staff_list(&actor).await?;
                    let t = list
                        .iter()
                        .map(|s| {
                            format!(
                                "{}\t{}\t{}{}",
                                s.login,
                                s.role,
                                s.name.clone().unwrap_or_default(),
                                if s.password_set {
                                    ""
                                } else {
                                    "\t(no password yet: setup link)"
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    Ok(Out::Both(json(&list), t))
                }
                StaffCmd::Governance(cmd) => governance_cmd::staff(&m, cmd).await,
                StaffCmd::Token { login } => {
                    let t = m.own_token(&login, &password()?).await?;
                    let text = t.token.clone();
                    Ok(Out::Both(json(&t), text))
                }
            }
        }
        Command::Policy(cmd) => match cmd {
            PolicyCmd::Check { file } => {
                let text = read_file(&file)?;
                let p = mamori_service::policy::check(&text, &file.display().to_string())?;
                let t = format!("{}: ok (version {})", file.display(), p.version);
                Ok(Out::Both(
                    serde_json::json!({"ok": true, "version": p.version}),
                    t,
                ))
            }
            PolicyCmd::Diff { old, new } => {
                let a = read_file(&old)?;
                let b = read_file(&new)?;
                let changes = mamori_service::policy::diff_files(
                    (&a, &old.display().to_string()),
                    (&b, &new.display().to_string()),
                )?;
                let t = if changes.is_empty() {
                    "no changes".to_string()
                } else {
                    changes
                        .iter()
                        .map(|c| c.line())
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                Ok(Out::Both(json(&changes), t))
            }
            PolicyCmd::Notice { lang, format } => {
                let lang: Lang = lang.parse().map_err(|e| bad(format!("--lang: {e}")))?;
                let format: Format = format.parse().map_err(|e| bad(format!("--format: {e}")))?;
                let m = Mamori::open(&cfg).await?;
                let text = m.policy_notice(lang, format);
                Ok(Out::Both(
                    serde_json::json!({"lang": lang, "notice": text}),
                    text,
                ))
            }
            PolicyCmd::Apply {
                file,
                effective,
                by,
            } => {
                let m = Mamori::open(&cfg).await?;
                let actor = match &by {
                    Some(l) => Some(m.actor(l).await?),
                    None => None,
                };
                let text = read_file(&file)?;
                let r = m
                    .policy_apply(
                        actor.as_ref(),
                        &text,
                        &file.display().to_string(),
                        &effective,
                    )
                    .await?;
                let mut t = format!("Stored policy {} effective {}.", r.version, r.effective_on);
                for c in &r.changes {
                    t.push('\n');
                    t.push_str(&c.line());
                }
                Ok(Out::Both(json(&r), t))
            }
            PolicyCmd::Show => {
                let m = Mamori::open(&cfg).await?;
                let versions = m.policy_versions().await?;
                Ok(Out::Both(
                    serde_json::json!({"version": m.policy_version(), "policy": json(&*m.policy()), "versions": versions}),
                    m.policy_show(),
                ))
            }
        },
        Command::Principal(cmd) => {
            let m = Mamori::open(&cfg).await?;
            match cmd {
                PrincipalCmd::Add {
                    who,
                    channel,
                    consents,
                    special_care_consent,
                    evidence,
                    fields,
                } => {
                    let actor = m.actor(&who.login).await?;
                    let fields = parse_assignments(&fields)?;
                    let added = m
                        .principal_add(
                            &actor,
                            NewPrincipal {
                                channel,
                                fields,
                                consents,
                                special_care_consent,
                                evidence,
                            },
                        )
                        .await?;
                    let t = added.id.clone();
                    Ok(Out::Both(json(&added), t))
                }
                PrincipalCmd::Show {
                    id,
                    who,
                    purpose,
                    fields,
                    basis,
                    reason,
                } => {
                    let actor = m.actor(&who.login).await?;
                    let exception = parse_exception(basis.as_deref(), reason.as_deref())?;
                    let shown = m
                        .principal_show(
                            &actor,
                            &id,
                            &purpose,
                            fields.as_deref(),
                            exception.as_ref(),
                        )
                        .await?;
                    let t = shown
                        .fields
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join("\n");
                    Ok(Out::Both(json(&shown), t))
                }
                PrincipalCmd::Find {
                    who,
                    purpose,
                    email,
                    phone,
                    name,
                } => {
                    let actor = m.actor(&who.login).await?;
                    let (cat, value) = match (email, phone, name) {
                        (Some(v), _, _) => ("email", v),
                        (_, Some(v), _) => ("phone", v),
                        (_, _, Some(v)) => ("name", v),
                        _ => return Err(bad("give one of --email, --phone or --name")),
                    };
                    let found = m.principal_find(&actor, &purpose, cat, &value).await?;
                    let t = if found.is_empty() {
                        "no match".to_string()
                    } else {
                        found
                            .iter()
                            .map(|f| format!("{}\t{}", f.id, f.channel))
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    Ok(Out::Both(json(&found), t))
                }
                PrincipalCmd::Correct { id, who, fields } => {
                    let actor = m.actor(&who.login).await?;
                    let fields = parse_assignments(&fields)?;
                    let c = m.principal_correct(&actor, &id, &fields).await?;
                    let t = format!("Corrected {}: {}", c.id, c.corrected.join(", "));
                    Ok(Out::Both(json(&c), t))
                }
            }
        }
        Command::Import {
            file,
            who,
            channel,
            consents,
            special_care_consent,
            evidence,
        } => {
            let m = Mamori::open(&cfg).await?;
            let actor = m.actor(&who.login).await?;
            let mut bytes = Vec::new();
            std::fs::File::open(&file)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|e| bad(format!("{}: cannot read: {e}", file.display())))?;
            let total = bytes
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                .saturating_sub(1) as u64;
            let bar = if cli.json || !std::io::stderr().is_terminal() {
                indicatif::ProgressBar::hidden()
            } else {
                indicatif::ProgressBar::new(total)
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let b2 = bar.clone();
            let mut progress = move |n: u64| b2.set_position(n);
            let r = m
                .import_csv(
                    &actor,
                    &channel,
                    &bytes,
                    &consents,
                    special_care_consent,
                    evidence.as_deref(),
                    &mut progress,
                )
                .await?;
            bar.finish_and_clear();
            let mut t = format!(
                "{} rows ({}): {} added, {} already imported, {} already registered, {} with errors",
                r.rows,
                r.encoding,
                r.added,
                r.already_imported,
                r.already_registered,
                r.errors.len()
            );
            for e in &r.errors {
                t.push_str(&format!("\nline {}: {}: {}", e.line, e.field, e.problem));
            }
            Ok(Out::Both(json(&r), t))
        }
        Command::Serve {
            listen,
            secure_cookies,
            trusted_proxy,
        } => {
            let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
                bad(format!(
                    "--listen: \"{listen}\" is not an address: use HOST:PORT such as 127.0.0.1:8080"
                ))
            })?;
            let trusted_proxies =
                mamori_server::client::TrustedProxies::parse_list(&trusted_proxy.join(","))
                    .map_err(|e| {
                        bad(format!(
                            "--trusted-proxy: {}",
                            e.strip_prefix("trusted proxy: ").unwrap_or(&e)
                        ))
                    })?;
            let m = Mamori::open(&cfg).await?;
            init_logging();
            let (listener, addr) = bind(addr, &listen).await?;
            eprintln!(
                "Mamori serving {} on http://{addr} (API docs: http://{addr}/api/docs)",
                cfg.data_dir.display()
            );
            let opts = mamori_server::Options {
                secure_cookies,
                trusted_proxies,
                ..Default::default()
            };
            mamori_server::serve(m, listener, opts)
                .await
                .map_err(|e| ServiceError::Failed(format!("--listen {listen}: {e}")))?;
            Ok(Out::Both(
                serde_json::json!({"stopped": true}),
                String::new(),
            ))
        }
        Command::Demo {
            preset,
            principals,
            listen,
            no_serve,
        } => {
            demo(
                &cli.data,
                cli.database_url.as_deref(),
                &preset,
                principals,
                &listen,
                no_serve,
            )
            .await
        }
        Command::Consent(cmd) => provision_cmd::consent(&Mamori::open(&cfg).await?, cmd).await,
        Command::Provide(args) => provision_cmd::provide(&Mamori::open(&cfg).await?, args).await,
        Command::Provisions(cmd) => {
            provision_cmd::provisions(&Mamori::open(&cfg).await?, cmd).await
        }
        Command::Recipient(cmd) => provision_cmd::recipient(&Mamori::open(&cfg).await?, cmd).await,
        Command::Request(cmd) => request_cmd::run(&Mamori::open(&cfg).await?, cmd).await,
        Command::Student(cmd) => student_cmd::run(&Mamori::open(&cfg).await?, cmd).await,
        Command::Refund(cmd) => student_cmd::refund(cmd, &cfg).await,
        Command::Retention(cmd) => {
            retention_cmd::retention(&Mamori::open(&cfg).await?, cmd, cli.json).await
        }
        Command::Disposals(cmd) => retention_cmd::disposals(&Mamori::open(&cfg).await?, cmd).await,
        Command::Backup { out, keys } => {
            retention_cmd::backup(&Mamori::open(&cfg).await?, out, keys).await
        }
        Command::Restore { files } => {
            retention_cmd::restore(&Mamori::open(&cfg).await?, files).await
        }
        Command::Keys(cmd) => retention_cmd::keys(&Mamori::open(&cfg).await?, cmd).await,
        Command::Governance(cmd) => governance_cmd::run(&Mamori::open(&cfg).await?, cmd).await,
        Command::Calendar(cmd) => calendar_cmd::run(cmd, &cfg).await,
        Command::Complaint(cmd) => complaint_cmd::run(cmd, &cfg).await,
        Command::Incident(cmd) => incident_cmd::run(cmd, &cfg).await,
        Command::Audit(cmd) => {
            let m = Mamori::open(&cfg).await?;
            match cmd {
                AuditCmd::Verify { head } => {
                    let kept = match &head {
                        Some(path) => {
                            let text = std::fs::read_to_string(path).map_err(|e| {
                                ServiceError::BadInput(format!(
                                    "--head: cannot read {}: {}",
                                    path.display(),
                                    e.kind()
                                ))
                            })?;
                            Some(Mamori::parse_kept_head(&text)?)
                        }
                        None => None,
                    };
                    let r = m.audit_verify_against(kept.as_ref()).await?;
                    let mut t = format!(
                        "ok: {} entries, head {} {}, {} signed checkpoints, signed head outside the database at {}",
                        r.entries,
                        r.head_seq,
                        r.head_hash,
                        r.checkpoints,
                        r.signed_head_seq
                            .map_or("none".to_string(), |s| s.to_string())
                    );
                    if let Some(x) = r.external_head_seq {
                        t.push_str(&format!(", and the head kept elsewhere at {x}"));
                    }
                    Ok(Out::Both(json(&r), t))
                }
                AuditCmd::Head { rewrite, login } => match (rewrite, login) {
                    (true, Some(login)) => {
                        let actor = m.actor(&login).await?;
                        let t = match m.audit_head_rewrite(&actor).await? {
                            Some(p) => format!("rewritten: the head file had this problem: {p}"),
                            None => "the head file is sound: nothing was rewritten".to_string(),
                        };
                        let h = m.audit_head().await?;
                        Ok(Out::Both(json(&h), t))
                    }
                    _ => {
                        let h = m.audit_head().await?;
                        let text = serde_json::to_string_pretty(&h).unwrap_or_default();
                        Ok(Out::Both(json(&h), text))
                    }
                },
                AuditCmd::Log {
                    who,
                    principal,
                    limit,
                } => {
                    let actor = m.actor(&who.login).await?;
                    let entries = m.audit_log(&actor, principal.as_deref(), limit).await?;
                    let t = entries
                        .iter()
                        .map(|e| {
                            format!(
                                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                                e.seq,
                                e.at,
                                e.actor,
                                e.action,
                                e.principal_id.as_deref().unwrap_or("-"),
                                e.purpose.as_deref().unwrap_or("-"),
                                e.decision,
                                e.reason.as_deref().unwrap_or("")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    Ok(Out::Both(json(&entries), t))
                }
            }
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `mamori demo`: a fresh data folder (under the system's temp folder unless --data names a new
/// one), the preset, synthetic people, a staff member per role with passwords printed once.
async fn demo(
    data: &Path,
    database_url: Option<&str>,
    preset: &str,
    principals: u64,
    listen: &str,
    no_serve: bool,
) -> Result<Out, ServiceError> {
    let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
        bad(format!(
            "--listen: \"{listen}\" is not an address: use HOST:PORT such as 127.0.0.1:8080"
        ))
    })?;
    let text = mamori_policy::preset(preset).ok_or_else(|| {
        bad(format!(
            "--preset: \"{preset}\" is not a preset: use chiba-ia or tokyo-one"
        ))
    })?;
    let dir = if data == Path::new("mamori-data") && std::env::var_os("MAMORI_DATA").is_none() {
        std::env::temp_dir().join(format!(
            "mamori-demo-{}",
            mamori_service::store::crypto::random_hex(4)
        ))
    } else {
        data.to_path_buf()
    };
    let cfg = Config {
        data_dir: dir.clone(),
        database_url: database_url.map(str::to_string),
    };
    let admin_pw = mamori_service::store::crypto::random_hex(8);
    let (m, _) = Mamori::init(&cfg, text, preset, Some(preset), Some(("admin", &admin_pw))).await?;
    eprintln!(
        "Creating {principals} synthetic people in {} …",
        dir.display()
    );
    let report = m.demo_populate(principals, 2026).await?;
    let mut staff =
        vec![serde_json::json!({"login": "admin", "role": "admin", "password": admin_pw})];
    staff.extend(
        report
            .staff
            .iter()
            .map(|s| serde_json::json!({"login": s.login, "role": s.role, "password": s.password})),
    );
    let clerk = report
        .staff
        .iter()
        .find(|s| s.role == "clerk")
        .map(|s| s.login.clone())
        .unwrap_or_else(|| "admin".into());
    let token = m.staff_token(&clerk).await?;
    let mut t = format!(
        "Demo data folder: {}\nPolicy: {preset}; {} people registered.\n\nStaff (passwords shown once):\n",
        dir.display(),
        report.principals
    );
    for s in &staff {
        t.push_str(&format!(
            "  {:<10} {:<9} {}\n",
            s["login"].as_str().unwrap_or(""),
            s["role"].as_str().unwrap_or(""),
            s["password"].as_str().unwrap_or("")
        ));
    }
    t.push_str(&format!(
        "\nAPI token for {clerk}: {}\nTry:\n  curl -s -H \"Authorization: Bearer {}\" http://{addr}/api/v1/me\n  MAMORI_DATA={} mamori principal find --as {clerk} --purpose registration_contact --email …\n",
        token.token, token.token, dir.display()
    ));
    if no_serve {
        return Ok(Out::Both(
            serde_json::json!({"data": dir.display().to_string(), "staff": staff, "token": token.token, "principals": report.principals}),
            t,
        ));
    }
    eprintln!("{t}");
    init_logging();
    let (listener, addr) = bind(addr, listen).await?;
    eprintln!("Serving on http://{addr} (API docs: http://{addr}/api/docs). Ctrl-C stops.");
    mamori_server::serve(m, listener, mamori_server::Options::default())
        .await
        .map_err(|e| ServiceError::Failed(format!("--listen {listen}: {e}")))?;
    Ok(Out::Both(
        serde_json::json!({"stopped": true}),
        String::new(),
    ))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let as_json = cli.json;
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(run(cli));
    let mut stdout = std::io::stdout().lock();
    match result {
        Ok(out) => {
            let Out::Both(v, t) = out;
            let text = if as_json {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            } else {
                t
            };
            if !text.is_empty() {
                let _ = writeln!(stdout, "{text}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let line = e.to_string();
            match &e {
                ServiceError::Denied(_) => eprintln!("denied: {line}"),
                _ => eprintln!("{line}"),
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Bind `--listen` and return the address actually bound (the port, when 0 was asked for).
async fn bind(
    addr: std::net::SocketAddr,
    listen: &str,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), ServiceError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServiceError::Failed(format!("--listen {listen}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServiceError::Failed(format!("--listen {listen}: {e}")))?;
    Ok((listener, bound))
}
