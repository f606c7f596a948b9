//! The principal registry: register, reveal for a purpose, find, correct.
//!
//! Seed 000 Arts. 3-5, 8; seed 003 Arts. 8-12, 17. Values are checked at the edge
//! (`mamori_domain::values`), sealed per principal, and released only when
//! `mamori_domain::access::decide` allows, after the decision is durably audited.

use std::collections::{BTreeMap, BTreeSet};

use mamori_domain::access::{self, AccessFacts, Decision};
use mamori_domain::values;
use mamori_policy::{Action, Channel, ExceptionKind, Policy};
use mamori_store::crypto::{field_aad, open_with, random_hex, seal_with};
use mamori_store::{AuditDraft, PrincipalRow, Stmt, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError};

/// A new principal's id: `p_` and 16 hex digits (64 random bits).
/// `p_`, the time of registration in seconds (8 hex digits), then 64 random bits. The time in
/// front makes new ids sort after older ones, so registering appends to the end of the
/// indexes keyed by principal (principals, fields, data keys, blind indexes' owners) instead
/// of inserting at random places in them: with random ids, an import's batches touched pages
/// all over tables that no longer fit a page cache (issue 13's `import` figure). The id tells
/// nothing that `created_at` beside it does not.
pub fn new_principal_id() -> String {
    let secs = jiff::Timestamp::now().as_second().max(0) as u64;
    format!("p_{:08x}{}", secs & 0xffff_ffff, random_hex(8))
}

/// Parse `CATEGORY=VALUE` arguments.
pub fn parse_assignments(args: &[String]) -> Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| {
                    ServiceError::BadInput(
                        "fields: give each field as CATEGORY=VALUE (e.g. email=taro@example.jp)"
                            .into(),
                    )
                })
        })
        .collect()
}

/// A checked, sealed field ready to store.
pub(crate) struct SealedField {
    pub category: String,
    pub record_id: String,
    pub ciphertext: Vec<u8>,
    pub index: Option<Vec<u8>>,
}

/// Check fields against the channel and their categories' validation (seed 000 Art. 5: only
/// the categories the channel collects). Errors name the field, never echo the value.
pub(crate) fn check_fields(
    policy: &Policy,
    channel: &Channel,
    fields: &[(String, String)],
) -> Result<Vec<(String, values::Checked)>> {
    if fields.is_empty() {
        return Err(ServiceError::BadInput(
            "fields: give at least one CATEGORY=VALUE".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(fields.len());
    for (cat, raw) in fields {
        if !seen.insert(cat.as_str()) {
            return Err(ServiceError::BadInput(format!(
                "{cat}: given twice: give each category once"
            )));
        }
        let Some(category) = policy.category(cat) else {
            return Err(ServiceError::BadInput(format!(
                "{cat}: not a category of this policy: use one of {}",
                channel.categories.join(", ")
            )));
        };
        if !channel.categories.iter().any(|c| c == cat) {
            return Err(ServiceError::BadInput(format!(
                "{cat}: channel {} does not collect {cat} (seed 000 Art. 5; APPI 18: collect only what the purposes need): it collects {}",
                channel.id,
                channel.categories.join(", ")
            )));
        }
        let checked = values::check(cat, category.validation, raw)
            .map_err(|e| ServiceError::BadInput(e.to_string()))?;
        out.push((cat.clone(), checked));
    }
    Ok(out)
}

pub(crate) fn seal_fields(
    store: &Store,
    policy: &Policy,
    principal_id: &str,
    dk: &mamori_store::Key32,
    checked: &[(String, values::Checked)],
) -> Result<Vec<SealedField>> {
    checked
        .iter()
        .map(|(cat, v)| {
            let record_id = random_hex(8);
            let ciphertext = seal_with(
                dk,
                v.value.as_bytes(),
                &field_aad(principal_id, &record_id, cat),
            )?;
            let searchable = policy.category(cat).is_some_and(|c| c.searchable);
            Ok(SealedField {
                category: cat.clone(),
                record_id,
                ciphertext,
                index: searchable.then(|| store.keys().blind_index(cat, &v.index_form)),
            })
        })
        .collect()
}

pub(crate) fn field_stmts(principal_id: &str, sealed: Vec<SealedField>, at: &str) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(sealed.len() * 2);
    for f in sealed {
        if let Some(ix) = f.index {
            out.push(Store::upsert_blind_index(principal_id, &f.category, ix));
        }
        out.push(Store::upsert_field(
            principal_id,
            &f.category,
            &f.record_id,
            f.ciphertext,
            at,
        ));
    }
    out
}

/// APPI 20(2): special-care-required data only with consent.
pub(crate) fn check_special_care(
    policy: &Policy,
    checked: &[(String, values::Checked)],
    consent: bool,
) -> Result<Vec<String>> {
    let special: Vec<String> = checked
        .iter()
        .filter(|(c, _)| policy.category(c).is_some_and(|c| c.special_care))
        .map(|(c, _)| c.clone())
        .collect();
    if !special.is_empty() && !consent {
        return Err(ServiceError::BadInput(format!(
            "{}: special-care-required information may be acquired only with the principal's consent (APPI 20(2)): record it with --special-care-consent, or leave the field out",
            special.join(", ")
        )));
    }
    Ok(special)
}

#[derive(Debug, Clone, Default)]
pub struct NewPrincipal {
    pub channel: String,
    pub fields: Vec<(String, String)>,
    /// Purposes consented to at collection (beyond those notified for the channel).
    pub consents: Vec<String>,
    /// The principal consented to the acquisition of special-care-required data (APPI 20(2)).
    pub special_care_consent: bool,
    /// Where the consent is evidenced (form id, document number); never a personal value.
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Added {
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub id: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub id: String,
    pub channel: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Corrected {
    pub id: String,
    pub corrected: Vec<String>,
}

/// A principal's channel and the categories it collects, each with whether a value is on
/// record (never the value).
#[derive(Debug, Clone, Serialize)]
pub struct HeldCategories {
    pub id: String,
    pub channel: String,
    pub categories: Vec<(String, bool)>,
}

/// A statutory exception invoked for one use, with the staff member's written reason.
#[derive(Debug, Clone)]
pub struct Exception {
    pub kind: ExceptionKind,
    pub reason: String,
}

/// The shortest statutory-exception reason accepted (`mamori_domain::access`), for the edges'
/// messages.
pub const MIN_EXCEPTION_REASON_CHARS: usize = mamori_domain::access::MIN_EXCEPTION_REASON_CHARS;

pub fn parse_exception(basis: Option<&str>, reason: Option<&str>) -> Result<Option<Exception>> {
    match (basis, reason) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ServiceError::BadInput(
            "--reason: goes with --basis law|life|public-health|public-agency".into(),
        )),
        (Some(b), r) => {
            let kind: ExceptionKind = b
                .parse()
                .map_err(|e| ServiceError::BadInput(format!("--basis: {e}")))?;
            if let Some(r) = r {
                mamori_domain::access::check_exception_reason(r)
                    .map_err(|e| ServiceError::BadInput(format!("--reason: {e}")))?;
            }
            Ok(Some(Exception {
                kind,
                reason: r.unwrap_or("").to_string(),
            }))
        }
    }
}

impl Mamori {
    /// The channel as the principal was told about it: its purposes in the policy version they
    /// saw, plus purposes added later that are reasonably related to one of those (APPI 17(2),
    /// 21(3): a related change needs only a published notice). Unrelated new purposes need
    /// consent (APPI 18(1)).
    pub fn notified_channel(&self, principal: &PrincipalRow) -> Result<Channel> {
        let then = self.policy_at(&principal.policy_version);
        let now = self.policy();
        let old = then
            .channel(&principal.channel)
            .or_else(|| now.channel(&principal.channel))
            .cloned()
            .ok_or_else(|| {
                ServiceError::Failed(format!(
                    "channel {} is in no stored policy",
                    principal.channel
                ))
            })?;
        let mut purposes = old.purposes.clone();
        if let Some(cur) = now.channel(&principal.channel) {
            for p in &cur.purposes {
                if purposes.contains(p) {
                    continue;
                }
                let related = now
                    .purpose(p)
                    .is_some_and(|np| np.related_to.iter().any(|r| old.purposes.contains(r)));
                if related {
                    purposes.push(p.clone());
                }
            }
        }
        Ok(Channel { purposes, ..old })
    }

    /// A short fingerprint of a value keyed with the principal's own data key: shows on the log
    /// that a value changed, without revealing it; destroyed with the key at erasure, and
    /// different for the same value on another principal (issue 20).
    fn value_fingerprint(dk: &mamori_store::Key32, category: &str, value: &[u8]) -> String {
        let fp = mamori_store::crypto::principal_fingerprint(dk, category, value);
        hex::encode(fp.get(..8).unwrap_or(&[]))
    }

    /// A statutory exception's written reason may itself mention the principal: it is sealed
    /// under their key for the manager's review, and only the review's id goes on the log.
    pub(crate) async fn exception_review(
        &self,
        principal_id: &str,
        actor: &Actor,
        e: &Exception,
        purpose: &str,
    ) -> Result<(Stmt, String)> {
        let review_id = random_hex(8);
        let dk = self.store.data_key(principal_id).await?;
        let ct = seal_with(
            &dk,
            e.reason.as_bytes(),
            &field_aad(principal_id, &review_id, "exception_reason"),
        )?;
        let stmt = Store::insert_exception_review(
            &review_id,
            principal_id,
            &actor.login,
            e.kind.as_str(),
            purpose,
            ct,
            &mamori_store::now_string(),
        );
        Ok((stmt, review_id))
    }

    /// Decrypt sealed fields; a ciphertext altered or moved from another record fails, naming it.
    pub(crate) async fn open_fields(
        &self,
        id: &str,
        rows: Vec<mamori_store::FieldRow>,
    ) -> Result<BTreeMap<String, String>> {
        let dk = self.store.data_key(id).await?;
        let mut fields = BTreeMap::new();
        for f in rows {
            let plain = open_with(&dk, &f.ciphertext, &field_aad(id, &f.record_id, &f.category)).map_err(|_| {
                ServiceError::Failed(format!(
                    "field {} of principal {id} does not decrypt: it was altered or moved from another record",
                    f.category
                ))
            })?;
            let text = String::from_utf8(plain).map_err(|_| {
                ServiceError::Failed(format!(
                    "field {} of principal {id} is not text",
                    f.category
                ))
            })?;
            fields.insert(f.category, text);
        }
        Ok(fields)
    }

    pub(crate) async fn active_principal(&self, id: &str) -> Result<PrincipalRow> {
        require_active(self.store.principal(id).await?, |p| p, id)
    }

    /// `mamori principal add`.
    pub async fn principal_add(&self, actor: &Actor, new: NewPrincipal) -> Result<Added> {
        self.require(actor, Action::Register, "principal.add")
            .await?;
        let policy = self.policy();
        let channel = policy.channel(&new.channel).ok_or_else(|| {
            ServiceError::BadInput(format!(
                "--channel: {:?} is not a channel of this policy: use one of {}",
                new.channel,
                Policy::ids(&policy.channels, |c| c.id.as_str())
            ))
        })?;
        refuse_automatic(channel)?;
        for p in &new.consents {
            if policy.purpose(p).is_none() {
                return Err(ServiceError::BadInput(format!(
                    "--consent: one of the purposes is not a purpose of this policy: use one of {}",
                    Policy::ids(&policy.purposes, |x| x.id.as_str())
                )));
            }
        }
        check_evidence(new.evidence.as_deref())?;
        let checked = check_fields(&policy, channel, &new.fields)?;
        let special = check_special_care(&policy, &checked, new.special_care_consent)?;
        if !new.consents.is_empty() || !special.is_empty() {
            require_evidence(new.evidence.as_deref())?;
        }

        let id = new_principal_id();
        let (dk, wrapped) = self.store.keys().new_data_key(&id)?;
        self.store.put_data_key(&id, &wrapped).await?;
        self.store.keys().remember(&id, &dk);
        let at = mamori_store::now_string();
        let version = self.policy_version();
        let sealed = seal_fields(&self.store, &policy, &id, &dk, &checked)?;
        let categories: Vec<String> = sealed.iter().map(|f| f.category.clone()).collect();
        let mut stmts = vec![Store::insert_principal(
            self.store.keys(),
            &id,
            &channel.id,
            &version,
            &at,
        )];
        stmts.extend(field_stmts(&id, sealed, &at));
        stmts.extend(consent_stmts(
            self.store.keys(),
            &id,
            &new.consents,
            &special,
            &channel.id,
            new.evidence.as_deref(),
            &version,
            &actor.login,
            &at,
        ));
        self.store
            .write(
                stmts,
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "principal.add".into(),
                    principal_id: Some(id.clone()),
                    categories,
                    decision: "done".into(),
                    detail: serde_json::json!({"channel": channel.id, "policy_version": version, "consents": new.consents}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(Added { id })
    }

    /// The access decision for one principal, audited durably before anything is returned.
    /// On allow, returns the basis string; on deny, the audited reason as `Denied`.
    #[allow(clippy::too_many_arguments)]
    async fn decide_and_audit(
        &self,
        actor: &Actor,
        action: Action,
        audit_action: &str,
        principal: &PrincipalRow,
        purpose: &str,
        categories: Vec<String>,
        exception: Option<&Exception>,
    ) -> Result<String> {
        let facts = self.store.use_facts(&principal.id).await?;
        self.decide_and_audit_with(
            actor,
            action,
            audit_action,
            principal,
            purpose,
            categories,
            exception,
            facts,
        )
        .await
    }

    /// [`Self::decide_and_audit`] with the consents and suspensions already read.
    #[allow(clippy::too_many_arguments)]
    async fn decide_and_audit_with(
        &self,
        actor: &Actor,
        action: Action,
        audit_action: &str,
        principal: &PrincipalRow,
        purpose: &str,
        categories: Vec<String>,
        exception: Option<&Exception>,
        (consented, suspensions): (Vec<String>, Vec<Option<String>>),
    ) -> Result<String> {
        let policy = self.policy();
        if policy.purpose(purpose).is_none() {
            return Err(ServiceError::BadInput(format!(
                "--purpose: is not a purpose of this policy: use one of {}",
                Policy::ids(&policy.purposes, |x| x.id.as_str())
            )));
        }
        let channel = self.notified_channel(principal)?;
        // Seed 003 Art. 6: staff overdue for training, when the policy blocks them.
        self.deny_untrained(actor, audit_action, &principal.id, purpose, &categories)
            .await?;
        let decision = access::decide(&AccessFacts {
            role: &actor.role,
            action,
            purpose,
            channel: &channel,
            consented: &consented,
            suspensions: &suspensions,
            exception: exception.map(|e| (e.kind, e.reason.as_str())),
        });
        match decision {
            Decision::Allow { basis, review } => {
                let mut stmts = Vec::new();
                let mut detail = serde_json::json!({});
                if review {
                    let e = exception
                        .ok_or_else(|| ServiceError::Failed("review without exception".into()))?;
                    let (stmt, review_id) = self
                        .exception_review(&principal.id, actor, e, purpose)
                        .await?;
                    stmts.push(stmt);
                    detail = serde_json::json!({"review": review_id});
                }
                self.store
                    .write(
                        stmts,
                        vec![AuditDraft {
                            actor: actor.login.clone(),
                            action: audit_action.into(),
                            principal_id: Some(principal.id.clone()),
                            purpose: Some(purpose.into()),
                            basis: Some(basis.as_string()),
                            categories,
                            decision: "allow".into(),
                            detail,
                            ..Default::default()
                        }],
                    )
                    .await?;
                Ok(basis.as_string())
            }
            Decision::Deny { reason } => {
                let reason = reason.to_string();
                self.store
                    .audit(vec![AuditDraft {
                        actor: actor.login.clone(),
                        action: audit_action.into(),
                        principal_id: Some(principal.id.clone()),
                        purpose: Some(purpose.into()),
                        categories,
                        decision: "deny".into(),
                        reason: Some(reason.clone()),
                        ..Default::default()
                    }])
                    .await?;
                Err(ServiceError::Denied(reason))
            }
        }
    }

    /// `mamori principal show ID --purpose P [--fields …]`.
    pub async fn principal_show(
        &self,
        actor: &Actor,
        id: &str,
        purpose: &str,
        only: Option<&[String]>,
        exception: Option<&Exception>,
    ) -> Result<Shown> {
        let read = match self.store.principal_for_read(id).await {
            Err(mamori_store::StoreError::Changed(m)) => {
                // A record changed outside Mamori (facts.rs): nothing is opened; the auditor
                // sees the attempt.
                self.store
                    .audit(vec![AuditDraft {
                        actor: actor.login.clone(),
                        action: "principal.read".into(),
                        principal_id: Some(id.to_string()),
                        // Only a purpose of the policy: the text typed is not logged.
                        purpose: self.policy().purpose(purpose).map(|p| p.id.clone()),
                        decision: "deny".into(),
                        reason: Some("record changed outside Mamori".into()),
                        ..Default::default()
                    }])
                    .await?;
                return Err(ServiceError::Failed(m));
            }
            other => other?,
        };
        let found = require_active(read, |f| &f.principal, id)?;
        let (principal, all_fields) = (found.principal, found.fields);
        let policy = self.policy();
        if let Some(list) = only {
            for c in list {
                if policy.category(c).is_none() {
                    return Err(ServiceError::BadInput(
                        "--fields: one of the fields is not a category of this policy: `policy show` lists them"
                            .into(),
                    ));
                }
            }
        }
        let rows: Vec<_> = all_fields
            .into_iter()
            .filter(|f| only.is_none_or(|l| l.iter().any(|c| c == &f.category)))
            .collect();
        let categories: Vec<String> = rows.iter().map(|f| f.category.clone()).collect();
        self.decide_and_audit_with(
            actor,
            Action::Read,
            "principal.read",
            &principal,
            purpose,
            categories,
            exception,
            (found.consented, found.suspensions),
        )
        .await?;
        let fields = self.open_fields(id, rows).await?;
        Ok(Shown {
            id: id.to_string(),
            fields,
        })
    }

    /// `mamori principal find --purpose P (--email X | --phone X | --name X)`: exact match on
    /// the blind index; returns only the principals the actor may use for the purpose.
    pub async fn principal_find(
        &self,
        actor: &Actor,
        purpose: &str,
        category: &str,
        raw: &str,
    ) -> Result<Vec<Found>> {
        self.require(actor, Action::Read, "principal.find").await?;
        // Issue 20: what the caller typed as the purpose is named back (in the refusal and on
        // the log) only once it is known to be a purpose of the policy, never free text.
        if self.policy().purpose(purpose).is_none() {
            return Err(ServiceError::BadInput(format!(
                "--purpose: is not a purpose of this policy: use one of {}",
                Policy::ids(&self.policy().purposes, |x| x.id.as_str())
            )));
        }
        if let Err(reason) = access::may_use_for(&actor.role, purpose) {
            let reason = reason.to_string();
            self.store
                .audit(vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "principal.find".into(),
                    purpose: Some(purpose.to_string()),
                    categories: vec![category.to_string()],
                    decision: "deny".into(),
                    reason: Some(reason.clone()),
                    ..Default::default()
                }])
                .await?;
            return Err(ServiceError::Denied(reason));
        }
        let policy = self.policy();
        let cat = policy
            .category(category)
            .filter(|c| c.searchable)
            .ok_or_else(|| {
                ServiceError::BadInput(format!(
                    "--{category}: {category} is not searchable in this policy"
                ))
            })?;
        let checked = values::check(category, cat.validation, raw)
            .map_err(|e| ServiceError::BadInput(format!("--{e}")))?;
        let digest = self.store.keys().blind_index(category, &checked.index_form);
        let ids = self.store.find_by_index(category, &digest).await?;
        let mut out = Vec::new();
        let mut last_denial = None;
        for id in ids {
            let Some(p) = self.store.principal(&id).await? else {
                continue;
            };
            match self
                .decide_and_audit(
                    actor,
                    Action::Read,
                    "principal.find",
                    &p,
                    purpose,
                    vec![category.to_string()],
                    None,
                )
                .await
            {
                Ok(_) => out.push(Found {
                    id: p.id,
                    channel: p.channel,
                    created_at: p.created_at,
                }),
                Err(ServiceError::Denied(r)) => last_denial = Some(r),
                Err(e) => return Err(e),
            }
        }
        if out.is_empty()
            && let Some(r) = last_denial
        {
            return Err(ServiceError::Denied(r));
        }
        Ok(out)
    }

    /// The categories a principal's channel collects and which of them hold a value — names
    /// only, never a value — for the correction form (seed 003 Art. 12: keep data accurate).
    /// Needs the role action `correct`, like the correction itself.
    pub async fn principal_categories(&self, actor: &Actor, id: &str) -> Result<HeldCategories> {
        self.require(actor, Action::Correct, "principal.categories")
            .await?;
        let principal = self.active_principal(id).await?;
        let policy = self.policy();
        let held: Vec<String> = self
            .store
            .fields(id)
            .await?
            .into_iter()
            .map(|f| f.category)
            .collect();
        let channel = policy.channel(&principal.channel);
        let collected = channel.map(|c| c.categories.clone()).unwrap_or_default();
        Ok(HeldCategories {
            id: id.to_string(),
            channel: principal.channel.clone(),
            categories: collected
                .into_iter()
                .map(|c| {
                    let on_record = held.contains(&c);
                    (c, on_record)
                })
                .collect(),
        })
    }

    /// `mamori principal correct ID CATEGORY=VALUE…` (seed 003 Art. 12: keep data accurate).
    /// The audit keeps keyed fingerprints of the old and new values, never the values.
    pub async fn principal_correct(
        &self,
        actor: &Actor,
        id: &str,
        fields: &[(String, String)],
    ) -> Result<Corrected> {
        self.require(actor, Action::Correct, "principal.correct")
            .await?;
        let corrected = self
            .apply_correction(&actor.login, id, fields, None)
            .await?;
        Ok(Corrected {
            id: id.to_string(),
            corrected,
        })
    }

    /// Seal and store corrected values (seed 003 Art. 12; APPI 34 when a request asks). The
    /// audit keeps keyed fingerprints of the old and new values, never the values.
    pub(crate) async fn apply_correction(
        &self,
        by: &str,
        id: &str,
        fields: &[(String, String)],
        request_id: Option<&str>,
    ) -> Result<Vec<String>> {
        let principal = self.active_principal(id).await?;
        let policy = self.policy();
        let channel = policy.channel(&principal.channel).ok_or_else(|| {
            ServiceError::Failed(format!(
                "channel {} is not in the current policy",
                principal.channel
            ))
        })?;
        let checked = check_fields(&policy, channel, fields)?;
        // APPI 20(2): the consent on record is a structured fact, never read from a text.
        let has_consent = self
            .store
            .consents(id)
            .await?
            .iter()
            .any(|c| c.withdrawn_at.is_none() && c.special_care);
        check_special_care(&policy, &checked, has_consent)?;
        let dk = self.store.data_key(id).await?;
        let old = self.store.fields(id).await?;
        let mut before = serde_json::Map::new();
        for (cat, _) in &checked {
            if let Some(f) = old.iter().find(|f| &f.category == cat)
                && let Ok(plain) = open_with(&dk, &f.ciphertext, &field_aad(id, &f.record_id, cat))
            {
                before.insert(
                    cat.clone(),
                    Self::value_fingerprint(&dk, cat, &plain).into(),
                );
            }
        }
        let at = mamori_store::now_string();
        let sealed = seal_fields(&self.store, &policy, id, &dk, &checked)?;
        let mut after = serde_json::Map::new();
        for (cat, v) in &checked {
            after.insert(
                cat.clone(),
                Self::value_fingerprint(&dk, cat, v.value.as_bytes()).into(),
            );
        }
        let categories: Vec<String> = sealed.iter().map(|f| f.category.clone()).collect();
        let mut stmts = field_stmts(id, sealed, &at);
        stmts.push(Store::touch_principal(id, &at));
        self.store
            .write(
                stmts,
                vec![AuditDraft {
                    actor: by.to_string(),
                    action: "principal.correct".into(),
                    principal_id: Some(id.to_string()),
                    categories: categories.clone(),
                    decision: "done".into(),
                    detail: serde_json::json!({"before": before, "after": after, "request_id": request_id}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(categories)
    }
}

/// A principal found and not erased (with whatever was read along), or the error that says
/// which it is not.
fn require_active<T>(
    found: Option<T>,
    principal: impl Fn(&T) -> &PrincipalRow,
    id: &str,
) -> Result<T> {
    match found {
        Some(x) if principal(&x).status == "active" => Ok(x),
        Some(_) => Err(ServiceError::NotFound(format!(
            "ID: principal {id} was erased; only their disposal record remains"
        ))),
        None => Err(ServiceError::NotFound(format!(
            "ID: there is no {}",
            crate::principal_ref(id)
        ))),
    }
}

/// Seed 000 Art. 5-2: what the website collects automatically (device ids, logs, cookies) does
/// not identify anyone and is not registered as a person by staff.
pub(crate) fn refuse_automatic(channel: &Channel) -> Result<()> {
    if channel.automatic {
        return Err(ServiceError::BadInput(format!(
            "--channel: {} is collected automatically by the website and is not registered by staff (seed 000 Art. 5-2)",
            channel.id
        )));
    }
    Ok(())
}

pub(crate) fn check_evidence(e: Option<&str>) -> Result<()> {
    if let Some(e) = e
        && (e.chars().count() > 200
            || e.chars().any(char::is_control)
            || values::contains_card_number(e))
    {
        return Err(ServiceError::BadInput(
            "--evidence: a short reference to where the consent is kept (e.g. form 2026-041), up to 200 characters".into(),
        ));
    }
    Ok(())
}

/// A consent is recorded only with a reference to where it is evidenced (issue 20; APPI 17(2),
/// 18(1), 20(2), 27(1); seed 003 Art. 9(1)): the signed form, the letter, the e-mail kept.
pub(crate) fn require_evidence(e: Option<&str>) -> Result<&str> {
    check_evidence(e)?;
    match e.map(str::trim) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(ServiceError::BadInput(
            "--evidence: is empty: a consent is recorded with where it is kept (e.g. form 2026-041)".into(),
        )),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn consent_stmts(
    keys: &mamori_store::Keys,
    id: &str,
    purposes: &[String],
    special: &[String],
    channel: &str,
    evidence: Option<&str>,
    version: &str,
    by: &str,
    at: &str,
) -> Vec<Stmt> {
    let mut out: Vec<Stmt> = purposes
        .iter()
        .map(|p| {
            Store::insert_consent(
                &random_hex(8),
                id,
                Some(p),
                None,
                channel,
                evidence,
                version,
                by,
                at,
                false,
                keys,
            )
        })
        .collect();
    if !special.is_empty() {
        // APPI 20(2): a structured fact (special_care), with the same document reference.
        out.push(Store::insert_consent(
            &random_hex(8),
            id,
            None,
            None,
            channel,
            evidence,
            version,
            by,
            at,
            true,
            keys,
        ));
    }
    out
}
