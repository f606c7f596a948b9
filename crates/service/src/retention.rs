//! Retention sweeps, backups and restores (seed 000 Art. 8-4; seed 003 Arts. 12(2)(4), 16;
//! APPI 29(2) for provision records).
//!
//! `retention sweep` finds what has passed its retention period under the policy in effect and
//! destroys it: a principal whose channel period has passed is erased (crypto-shredding, with a
//! disposal record); a field whose category has a shorter period of its own is removed alone;
//! provision records past their keeping period are purged. It works in pages, each commit with
//! its audit entries, so it can be rerun after a crash and finishes what was left: an erased
//! principal whose key survived a crash has it destroyed on the next run.

use jiff::Timestamp;
use mamori_domain::retention::{self as rules, Verdict};
use mamori_policy::{Action, Policy};
use mamori_store::backup::merge_erasures;
use mamori_store::crypto::random_hex;
use mamori_store::{AuditDraft, DisposalRow, PrincipalRow, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError};

const PAGE: i64 = 500;
pub const SYSTEM: &str = "system";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldsRemoved {
    pub principal_id: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Held {
    pub principal_id: String,
    pub reason: String,
}

/// DESIGN.md: `retention sweep` → `{"destroyed": [principal ids], ...}`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SweepReport {
    pub now: String,
    pub dry_run: bool,
    pub examined: u64,
    pub destroyed: Vec<String>,
    pub fields_removed: Vec<FieldsRemoved>,
    pub held: Vec<Held>,
    pub provision_records_purged: i64,
    /// Keys of already-erased principals destroyed now (a crash between the two steps).
    pub keys_destroyed: Vec<String>,
    /// Principals active in the data whose erasure the key store records (an old data backup
    /// restored by other means): erased again.
    pub re_erased: Vec<String>,
}

fn parse_ts(s: &str, what: &str) -> Result<Timestamp> {
    s.parse::<Timestamp>()
        .map_err(|_| ServiceError::Failed(format!("stored {what} {s:?} is not a time")))
}

impl Mamori {
    /// What the sweep would do with one principal at `now`.
    async fn sweep_verdict(
        &self,
        policy: &Policy,
        p: &PrincipalRow,
        now: Timestamp,
    ) -> Result<Verdict> {
        let tz = mamori_calendar::japan_tz();
        // The period the policy in effect sets; a channel it no longer has keeps the period of
        // the version the principal was told.
        let channel = policy
            .channel(&p.channel)
            .cloned()
            .or_else(|| {
                self.policy_at(&p.policy_version)
                    .channel(&p.channel)
                    .cloned()
            })
            .ok_or_else(|| {
                ServiceError::Failed(format!(
                    "channel {} of principal {} is in no policy",
                    p.channel, p.id
                ))
            })?;
        let period = mamori_policy::parse_duration(&channel.retention).map_err(|e| {
            ServiceError::Failed(format!("channels[{}].retention: {e}", channel.id))
        })?;
        let expires = rules::principal_expires_at(
            parse_ts(&p.created_at, "created_at")?,
            parse_ts(&p.last_activity_at, "last_activity_at")?,
            channel.retention_from,
            period,
            &tz,
        )
        .ok_or_else(|| {
            ServiceError::Failed(format!("the retention of principal {} overflows", p.id))
        })?;
        let expired = rules::is_expired(expires, now);
        let mut fields = Vec::new();
        if !expired {
            for f in self.store.fields(&p.id).await? {
                let Some(period) = policy
                    .category(&f.category)
                    .and_then(|c| c.retention.as_deref())
                    .and_then(|r| mamori_policy::parse_duration(r).ok())
                else {
                    continue;
                };
                let updated = parse_ts(&f.updated_at, "updated_at")?;
                if rules::expires_at(updated, period, &tz)
                    .is_some_and(|e| rules::is_expired(e, now))
                {
                    fields.push(f.category);
                }
            }
        }
        let open = if expired || !fields.is_empty() {
            self.store.open_request_of(&p.id).await?
        } else {
            None
        };
        Ok(rules::verdict(expired, fields, open.as_deref()))
    }

    /// `mamori retention sweep [--now TIME] [--dry-run] [--confirm-large]`. `actor` is `None`
    /// for the server's daily run (recorded as `system`). A real sweep runs as of the clock
    /// (a `--now` later than it is refused) and one that would destroy more than a tenth of all
    /// principals is refused, before anything is destroyed, unless `confirm_large`
    /// (`mamori_domain::retention::may_destroy`; seed 000 Art. 8-4).
    pub async fn retention_sweep(
        &self,
        actor: Option<&Actor>,
        now: Option<&str>,
        dry_run: bool,
        confirm_large: bool,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<SweepReport> {
        let by = match actor {
            Some(a) => {
                self.require(a, Action::Retention, "retention.sweep")
                    .await?;
                a.login.clone()
            }
            None => SYSTEM.to_string(),
        };
        let clock = Timestamp::now();
        let now = match now {
            Some(t) => crate::complaint::parse_time_arg(t, "--now")?,
            None => clock,
        };
        rules::may_sweep_at(now, clock, dry_run).map_err(|_| {
            ServiceError::BadInput(format!(
                "--now: a real sweep runs as of the clock ({}), never a later time: look ahead with a dry run",
                mamori_calendar::format_jst(clock)
            ))
        })?;
        let policy = self.policy();
        let mut report = SweepReport {
            now: mamori_calendar::format_jst(now),
            dry_run,
            ..Default::default()
        };
        // Finish what a crash interrupted: erased principals whose key survived.
        for id in self.store.keys_of_erased().await? {
            if !dry_run {
                self.store.destroy_data_key(&id).await?;
            }
            report.keys_destroyed.push(id);
        }
        // Erasures the key store records (tombstones) for principals an older data backup put
        // back as active; a key merely missing (its backup not restored yet) is no erasure.
        // They count towards the guard below.
        let re_erase: Vec<(String, String)> = self.store.active_but_erased().await?;
        let tombstoned: std::collections::BTreeSet<String> =
            re_erase.iter().map(|(id, _)| id.clone()).collect();
        // First what would go, then (a real sweep, once the guard lets it) the destruction:
        // nothing is destroyed by a sweep that is refused.
        let mut to_erase: Vec<PrincipalRow> = Vec::new();
        let mut to_trim: Vec<(String, Vec<String>)> = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.store.active_principals_page(&after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            for p in page {
                report.examined += 1;
                if tombstoned.contains(&p.id) {
                    continue;
                }
                match self.sweep_verdict(&policy, &p, now).await? {
                    Verdict::Keep => {}
                    Verdict::Held { reason } => report.held.push(Held {
                        principal_id: p.id.clone(),
                        reason,
                    }),
                    Verdict::Erase => to_erase.push(p),
                    Verdict::RemoveFields(categories) => to_trim.push((p.id.clone(), categories)),
                }
            }
            progress(report.examined);
        }
        if !dry_run {
            let destroy = (to_erase.len() + re_erase.len()) as u64;
            rules::may_destroy(destroy, report.examined, confirm_large).map_err(|_| {
                ServiceError::BadInput(format!(
                    "--confirm-large: this sweep would destroy {destroy} of {} principals, more than a tenth: check the list with a dry run, then confirm the sweep",
                    report.examined
                ))
            })?;
        }
        for (id, at) in re_erase {
            if !dry_run {
                let rule = format!("restored data: erased at {at}");
                self.erase_principal(&by, &id, &rule, None).await?;
            }
            report.re_erased.push(id);
        }
        for p in to_erase {
            if !dry_run {
                let rule = format!(
                    "retention:{} {}",
                    p.channel,
                    policy
                        .channel(&p.channel)
                        .map_or("", |c| c.retention.as_str())
                );
                self.erase_principal(&by, &p.id, &rule, None).await?;
            }
            report.destroyed.push(p.id);
        }
        for (principal_id, categories) in to_trim {
            if !dry_run {
                self.remove_expired_fields(&by, &principal_id, &categories)
                    .await?;
            }
            report.fields_removed.push(FieldsRemoved {
                principal_id,
                categories,
            });
        }
        if !dry_run
            && (!report.destroyed.is_empty()
                || !report.keys_destroyed.is_empty()
                || !report.re_erased.is_empty())
        {
            self.store.shred_key_log().await;
        }
        let today = now.to_zoned(mamori_calendar::japan_tz()).date().to_string();
        report.provision_records_purged = self.store.expired_provision_records(&today).await?;
        let mut stmts = Vec::new();
        if !dry_run && report.provision_records_purged > 0 {
            stmts.push(Store::purge_provision_records(&today));
        }
        self.store
            .write(
                stmts,
                vec![AuditDraft {
                    actor: by,
                    action: if dry_run {
                        "retention.dry_run".into()
                    } else {
                        "retention.sweep".into()
                    },
                    decision: "done".into(),
                    detail: serde_json::json!({
                        "now": report.now,
                        "examined": report.examined,
                        "destroyed": report.destroyed.len(),
                        "fields_removed": report.fields_removed.len(),
                        "held": report.held.len(),
                        "provision_records_purged": report.provision_records_purged,
                    }),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(report)
    }

    async fn remove_expired_fields(
        &self,
        by: &str,
        principal_id: &str,
        categories: &[String],
    ) -> Result<()> {
        let d = DisposalRow {
            disposal_id: format!("d_{}", random_hex(8)),
            principal_id: principal_id.into(),
            categories: categories.to_vec(),
            fields: categories.len() as i64,
            at: mamori_store::now_string(),
            rule: "retention:field (category period)".into(),
            request_id: None,
            by: by.into(),
        };
        let mut stmts: Vec<_> = categories
            .iter()
            .flat_map(|c| Store::remove_field_statements(principal_id, c))
            .collect();
        stmts.push(Store::insert_disposal(&d));
        self.store
            .write(
                stmts,
                vec![AuditDraft {
                    actor: by.into(),
                    action: "principal.dispose_fields".into(),
                    principal_id: Some(principal_id.into()),
                    categories: categories.to_vec(),
                    decision: "done".into(),
                    detail: serde_json::json!({"disposal_id": d.disposal_id}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(())
    }

    /// Disposal records (no values): what was destroyed, when, by which rule.
    pub async fn disposals(
        &self,
        actor: &Actor,
        principal: Option<&str>,
    ) -> Result<Vec<DisposalRow>> {
        let may = [Action::Retention, Action::Audit, Action::Requests]
            .iter()
            .any(|a| actor.role.actions.contains(a));
        if !may {
            self.require(actor, Action::Retention, "disposals.list")
                .await?;
        }
        Ok(self.store.disposals(principal).await?)
    }

    /// `mamori backup --out FILE [--keys]`: the data (or, with `keys`, the key store) as a
    /// portable file; both backends.
    pub async fn backup(
        &self,
        out: &std::path::Path,
        keys: bool,
    ) -> Result<mamori_store::backup::BackupReport> {
        let r = self.store.backup(out, keys).await?;
        self.store
            .audit(vec![AuditDraft {
                actor: "local-admin".into(),
                action: if keys {
                    "backup.keys".into()
                } else {
                    "backup.data".into()
                },
                decision: "done".into(),
                detail: serde_json::json!({"rows": r.rows, "tables": r.tables}),
                ..Default::default()
            }])
            .await?;
        Ok(r)
    }

    /// `mamori restore FILE [FILE]`: put a data backup, a key backup, or both back, in either
    /// order (seed 000 Art. 8-4; seed 003 Art. 16).
    ///
    /// Every file is authenticated and checked first; an altered one is refused (exit 1) before
    /// anything changes. A data backup replaces the data, and its audit log must verify or the
    /// data before it is put back. A key backup adds the missing keys and its secrets (the
    /// blind-index key). A principal is erased again only when an erasure is known (their
    /// status in the data, or a tombstone in the key store or a key backup), never because a
    /// key is missing: those wait for their key backup. Erasures known in this folder before
    /// the restore are kept as tombstones, so they survive an older backup.
    pub async fn restore(&self, files: &[std::path::PathBuf]) -> Result<RestoreReport> {
        if files.is_empty() || files.len() > 2 {
            return Err(ServiceError::BadInput(
                "FILE: give a data backup, a key backup, or one of each".into(),
            ));
        }
        let mut data = None;
        let mut keys = None;
        for f in files {
            let b = self.store.open_backup(f)?;
            let slot = if b.is_keys() { &mut keys } else { &mut data };
            if slot.is_some() {
                return Err(ServiceError::BadInput(format!(
                    "FILE: both files are {} backups: give one data backup and one key backup",
                    b.header.kind
                )));
            }
            *slot = Some(b);
        }
        for b in data.iter().chain(keys.iter()) {
            self.store.check_restorable(b).await?;
        }
        // Nothing has changed so far. What this folder knows before the restore.
        let previous = self.store.audit_head().await?;
        let (principals_before, tombstones_before) = self.store.principals_and_tombstones().await?;
        // Whether this folder is newer than the backups (it saw every erasure since): its log
        // continues the data backup's; with a key backup alone, it holds anything at all.
        let newer_here = match &data {
            Some(b) => self.store.continues_log_of(b).await?,
            None => principals_before > 0 || tombstones_before > 0,
        };
        let mut erased = self.store.erasures().await?;
        let now = mamori_store::now_string();
        let mut report = RestoreReport {
            kinds: data
                .iter()
                .chain(keys.iter())
                .map(|b| b.header.kind.clone())
                .collect(),
            previous_head: serde_json::json!({"seq": previous.0, "hash": previous.1}),
            ..Default::default()
        };
        if let Some(b) = &data {
            // First the erasures this folder knows, as tombstones in the key store (which the
            // data restore leaves alone): should the process die part-way, the next restore or
            // sweep still knows them.
            self.store.record_erasures(&erased, &now).await?;
            let before = self.store.snapshot_data().await?;
            report.rows += self.store.restore_data(b).await?;
            let (seq, hash) = self.store.audit_head().await?;
            self.store.reset_signed_head(seq, &hash);
            if let Err(e) = self.store.verify_audit().await {
                // Put back what was there: the restore changes nothing.
                self.store.restore_data(&before).await?;
                self.store.reset_signed_head(previous.0, &previous.1);
                return Err(ServiceError::Failed(format!(
                    "FILE: the audit log in {} does not verify ({e}); nothing was restored",
                    b.file
                )));
            }
            self.reload_policy().await?;
            merge_erasures(&mut erased, self.store.erasures().await?);
        }
        if let Some(b) = &keys {
            merge_erasures(&mut erased, b.erasures());
            let (n, left_out) = self.store.restore_keys(b, &erased).await?;
            report.rows += n;
            report.keys_destroyed.extend(left_out);
        }
        // Erasures known anywhere become tombstones here, then are carried out.
        merge_erasures(&mut erased, self.store.erasures().await?);
        self.store.record_erasures(&erased, &now).await?;
        for id in self.store.keys_of_erased().await? {
            self.store.destroy_data_key(&id).await?;
            report.keys_destroyed.push(id);
        }
        report.keys_destroyed.sort();
        report.keys_destroyed.dedup();
        for (id, at) in self.store.active_but_erased().await? {
            self.erase_principal(
                "local-admin",
                &id,
                &format!("restore: erased at {at}, after the backup was made"),
                None,
            )
            .await?;
            report.re_erased.push(id);
        }
        report.waiting_for_keys = self.store.active_without_key().await?.len() as u64;
        if !newer_here {
            // Nothing newer than the backups was here: erasures after them cannot be known.
            report.unknown_erasures_after = data
                .iter()
                .chain(keys.iter())
                .map(|b| b.header.created_at.clone())
                .max();
        }
        self.store.shred_key_log().await;
        self.store
            .audit(vec![AuditDraft {
                actor: "local-admin".into(),
                action: "backup.restore".into(),
                decision: "done".into(),
                detail: serde_json::json!({
                    "kinds": report.kinds,
                    "backups_created_at": data.iter().chain(keys.iter()).map(|b| b.header.created_at.clone()).collect::<Vec<_>>(),
                    "rows": report.rows,
                    "previous_head": report.previous_head,
                    "re_erased": report.re_erased.len(),
                    "keys_destroyed": report.keys_destroyed.len(),
                    "waiting_for_keys": report.waiting_for_keys,
                    "unknown_erasures_after": report.unknown_erasures_after,
                }),
                ..Default::default()
            }])
            .await?;
        Ok(report)
    }
}

/// What `mamori restore` did (ids only, never a value).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct RestoreReport {
    /// `data`, `keys`: the backups restored, in the order applied.
    pub kinds: Vec<String>,
    pub rows: u64,
    /// Principals active in the restored data whose erasure is known: erased again.
    pub re_erased: Vec<String>,
    /// Keys of erased principals destroyed (or left out of the key backup).
    pub keys_destroyed: Vec<String>,
    /// Active principals whose data key is not here yet: restore the key backup.
    pub waiting_for_keys: u64,
    /// When the folder held nothing newer (its log does not continue the data backup's): the
    /// time of the newest backup given, after which erasures cannot be known (anyone erased
    /// since must be erased again).
    pub unknown_erasures_after: Option<String>,
    pub previous_head: serde_json::Value,
}

impl Mamori {
    /// `mamori keys rotate`: a new master key; every data key rewrapped (readers keep working).
    pub async fn rotate_master_key(&self) -> Result<mamori_store::rotation::RotateReport> {
        let r = self.store.rotate_master_key().await?;
        self.store
            .audit(vec![AuditDraft {
                actor: "local-admin".into(),
                action: "keys.rotate".into(),
                decision: "done".into(),
                detail: serde_json::json!({"rewrapped": r.rewrapped, "kek_id": r.kek_id, "resumed": r.resumed}),
                ..Default::default()
            }])
            .await?;
        Ok(r)
    }
}
