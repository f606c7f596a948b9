//! `mamori import FILE.csv --channel CH`: registering many principals from a spreadsheet.
//!
//! The header row names category ids. The file may be UTF-8 (with or without BOM) or
//! Shift_JIS (what Excel saves in Japanese offices). Each bad row is reported by its line number
//! and field, and nothing of it is stored; good rows are stored in batches, each batch one group
//! commit with an audit entry per principal.
//!
//! Re-running an import does not duplicate people: each row's keyed fingerprint (HMAC over the
//! channel and the normalized values, so it reveals nothing) is kept, and a row whose
//! fingerprint is known is skipped as `already_imported`; a row whose email is already held for
//! the same channel is skipped as `already_registered` (the clerk corrects that person instead).

use std::collections::HashSet;

use mamori_policy::{Action, Policy};
use mamori_store::{AuditDraft, Stmt};
use serde::Serialize;

use crate::principal::{
    check_fields, check_special_care, consent_stmts, new_principal_id, seal_fields,
};
use crate::{Actor, Mamori, Result, ServiceError};

const BATCH: usize = 500;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowProblem {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub field: String,
    pub problem: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ImportReport {
    pub encoding: String,
    pub rows: u64,
    pub added: u64,
    pub already_imported: u64,
    pub already_registered: u64,
    pub errors: Vec<RowProblem>,
    pub ids: Vec<String>,
}

/// Decode the file: UTF-8 (BOM stripped) or, failing that, Shift_JIS.
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str)> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok((s.to_string(), "utf-8"));
    }
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(body);
    if had_errors {
        return Err(ServiceError::BadInput(
            "FILE: the file is neither UTF-8 nor Shift_JIS: save it from Excel as \"CSV UTF-8\" and try again".into(),
        ));
    }
    Ok((text.into_owned(), "shift_jis"))
}

struct Pending {
    fingerprint: Vec<u8>,
    /// Blind index of the email, to find people already registered through the channel.
    email_digest: Option<Vec<u8>>,
    checked: Vec<(String, mamori_domain::values::Checked)>,
    special: Vec<String>,
}

impl Mamori {
    /// Import principals from CSV text. `progress` is told how many rows are done. `evidence`
    /// says where the consents given with the file are kept (needed with `consents` or
    /// `special_care_consent`, issue 20).
    #[allow(clippy::too_many_arguments)]
    pub async fn import_csv(
        &self,
        actor: &Actor,
        channel_id: &str,
        bytes: &[u8],
        consents: &[String],
        special_care_consent: bool,
        evidence: Option<&str>,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<ImportReport> {
        self.require(actor, Action::Register, "principal.import")
            .await?;
        let policy = self.policy();
        let channel = policy.channel(channel_id).ok_or_else(|| {
            ServiceError::BadInput(format!(
                "--channel: {channel_id:?} is not a channel of this policy: use one of {}",
                Policy::ids(&policy.channels, |c| c.id.as_str())
            ))
        })?;
        crate::principal::refuse_automatic(channel)?;
        // Issue 20: consents are recorded with where they are kept (the forms behind the file).
        crate::principal::check_evidence(evidence)?;
        let evidence = if consents.is_empty() && !special_care_consent {
            evidence.map(str::trim).filter(|e| !e.is_empty())
        } else {
            Some(crate::principal::require_evidence(evidence)?)
        };
        for p in consents {
            if policy.purpose(p).is_none() {
                return Err(ServiceError::BadInput(
                    "--consent: one of the purposes is not a purpose of this policy: `policy show` lists them".into(),
                ));
            }
        }
        let (text, encoding) = decode(bytes)?;
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| {
                ServiceError::BadInput(format!("FILE: line 1: cannot read the header row: {e}"))
            })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        for h in &header {
            if !channel.categories.iter().any(|c| c == h) {
                return Err(ServiceError::BadInput(format!(
                    "FILE: line 1: column {h:?} is not a category collected through channel {}: use {}",
                    channel.id,
                    channel.categories.join(", ")
                )));
            }
        }
        let mut report = ImportReport {
            encoding: encoding.to_string(),
            ..Default::default()
        };
        let mut seen_in_file: HashSet<Vec<u8>> = HashSet::new();
        let mut seen_emails: HashSet<Vec<u8>> = HashSet::new();
        let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
        let version = self.policy_version();
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            report.rows += 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    report.errors.push(RowProblem {
                        line,
                        field: String::new(),
                        problem: format!(
                            "cannot read the row: {}",
                            e.to_string().lines().next().unwrap_or("")
                        ),
                    });
                    continue;
                }
            };
            let fields: Vec<(String, String)> = header
                .iter()
                .zip(rec.iter())
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect();
            let checked = match check_fields(&policy, channel, &fields)
                .and_then(|c| check_special_care(&policy, &c, special_care_consent).map(|s| (c, s)))
            {
                Ok(c) => c,
                Err(e) => {
                    let msg = e.to_string();
                    let (field, problem) = msg
                        .split_once(": ")
                        .map_or((String::new(), msg.clone()), |(f, p)| {
                            (f.to_string(), p.to_string())
                        });
                    report.errors.push(RowProblem {
                        line,
                        field,
                        problem,
                    });
                    continue;
                }
            };
            let (checked, special) = checked;
            let mut material = format!("{}\n", channel.id).into_bytes();
            let mut sorted: Vec<&(String, mamori_domain::values::Checked)> =
                checked.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            for (c, v) in sorted {
                material.extend_from_slice(format!("{c}={}\n", v.index_form).as_bytes());
            }
            let fingerprint = self.store.keys().fingerprint(&material);
            if !seen_in_file.insert(fingerprint.clone()) {
                report.already_imported += 1;
                continue;
            }
            let email_digest = checked
                .iter()
                .find(|(c, _)| c == "email")
                .map(|(_, e)| self.store.keys().blind_index("email", &e.index_form));
            if let Some(d) = &email_digest
                && !seen_emails.insert(d.clone())
            {
                report.already_registered += 1;
                continue;
            }
            batch.push(Pending {
                fingerprint,
                email_digest,
                checked,
                special,
            });
            if batch.len() >= BATCH {
                self.flush_import(
                    actor,
                    &policy,
                    &channel.id,
                    &version,
                    consents,
                    evidence,
                    &mut batch,
                    &mut report,
                )
                .await?;
                // That batch is committed: later rows repeating it are found through the
                // database (`imported_among`, `emails_registered`), so these sets hold one batch,
                // not the whole file (a million-row import grew by ~250 bytes a row).
                seen_in_file.clear();
                seen_emails.clear();
                progress(report.rows);
            }
        }
        self.flush_import(
            actor,
            &policy,
            &channel.id,
            &version,
            consents,
            evidence,
            &mut batch,
            &mut report,
        )
        .await?;
        progress(report.rows);
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn flush_import(
        &self,
        actor: &Actor,
        policy: &Policy,
        channel: &str,
        version: &str,
        consents: &[String],
        evidence: Option<&str>,
        batch: &mut Vec<Pending>,
        report: &mut ImportReport,
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // One query each for the whole batch: rows imported before, and emails already held
        // for the channel.
        let fingerprints: Vec<Vec<u8>> = batch.iter().map(|p| p.fingerprint.clone()).collect();
        let imported = self.store.imported_among(&fingerprints).await?;
        let digests: Vec<Vec<u8>> = batch
            .iter()
            .filter_map(|p| p.email_digest.clone())
            .collect();
        let registered = self.store.emails_registered(channel, &digests).await?;
        let mut fresh = Vec::with_capacity(batch.len());
        for p in batch.drain(..) {
            if imported.contains(&p.fingerprint) {
                report.already_imported += 1;
            } else if p
                .email_digest
                .as_ref()
                .is_some_and(|d| registered.contains(d))
            {
                report.already_registered += 1;
            } else {
                let id = new_principal_id();
                let (dk, wrapped) = self.store.keys().new_data_key(&id)?;
                fresh.push((id, dk, wrapped, p));
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let keys: Vec<(String, mamori_store::Wrapped)> = fresh
            .iter()
            .map(|(id, _, w, _)| (id.clone(), w.clone()))
            .collect();
        self.store.put_data_keys(&keys).await?;
        let at = mamori_store::now_string();
        let mut principals = Vec::with_capacity(fresh.len());
        let mut field_rows = Vec::new();
        let mut index_rows = Vec::new();
        let mut import_rows = Vec::with_capacity(fresh.len());
        let mut consent_rows = Vec::new();
        let mut audit = Vec::with_capacity(fresh.len());
        for (id, dk, _, p) in &fresh {
            let sealed = seal_fields(&self.store, policy, id, dk, &p.checked)?;
            let categories: Vec<String> = sealed.iter().map(|f| f.category.clone()).collect();
            principals.push(vec![
                id.as_str().into(),
                channel.into(),
                at.as_str().into(),
                at.as_str().into(),
                version.into(),
                "active".into(),
                mamori_store::Store::principal_mac(self.store.keys(), id, channel, version, 0)
                    .into(),
            ]);
            for f in sealed {
                if let Some(ix) = f.index {
                    index_rows.push(vec![
                        id.as_str().into(),
                        f.category.as_str().into(),
                        ix.into(),
                    ]);
                }
                field_rows.push(vec![
                    id.as_str().into(),
                    f.category.into(),
                    f.record_id.into(),
                    f.ciphertext.into(),
                    at.as_str().into(),
                ]);
            }
            consent_rows.extend(consent_stmts(
                self.store.keys(),
                id,
                consents,
                &p.special,
                channel,
                evidence,
                version,
                &actor.login,
                &at,
            ));
            import_rows.push(vec![
                p.fingerprint.clone().into(),
                id.as_str().into(),
                at.as_str().into(),
            ]);
            audit.push(AuditDraft {
                actor: actor.login.clone(),
                action: "principal.add".into(),
                principal_id: Some(id.clone()),
                categories,
                decision: "done".into(),
                detail: serde_json::json!({"channel": channel, "policy_version": version, "via": "import"}),
                ..Default::default()
            });
        }
        // A batch is a handful of multi-row statements, not a few per row.
        let mut stmts = Stmt::insert_many(
            "principals",
            &[
                "id",
                "channel",
                "created_at",
                "last_activity_at",
                "policy_version",
                "status",
                "facts_mac",
            ],
            principals,
        );
        stmts.extend(Stmt::insert_many(
            "fields",
            &[
                "principal_id",
                "category",
                "record_id",
                "ciphertext",
                "updated_at",
            ],
            field_rows,
        ));
        stmts.extend(Stmt::insert_many(
            "blind_index",
            &["principal_id", "category", "digest"],
            index_rows,
        ));
        stmts.extend(consent_rows);
        stmts.extend(Stmt::insert_many(
            "import_rows",
            &["fingerprint", "principal_id", "imported_at"],
            import_rows,
        ));
        self.store.write(stmts, audit).await?;
        report.added += fresh.len() as u64;
        report.ids.extend(fresh.into_iter().map(|(id, ..)| id));
        Ok(())
    }
}
