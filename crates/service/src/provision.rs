//! Consent and provision to others: third parties, contractors (entrustment) and joint users.
//! Seed 000 Arts. 6-7; seed 003 Arts. 18, 20; APPI 25, 27-29, 35.
//!
//! - `consent give|withdraw`: consent by purpose or by recipient, with time, channel, evidence and
//!   the policy version; a withdrawal takes effect with its commit.
//! - `provide`: the decision of `mamori_domain::provision::decide`, then (for consent-based
//!   provision to a third party) a provision record with the items APPI 29 and rule 20 require,
//!   kept 3 years (1 where a contract stands in for it); always an audit entry.
//! - `recipient review`: the periodic review of a contractor's contract (seed 003 Art. 18) or of
//!   a foreign recipient's equivalent measures (APPI 28(3)); overdue reviews block provision.

use std::collections::BTreeMap;

use jiff::civil::Date;
use mamori_domain::provision::{
    self as rules, ContractState, ProvisionDecision, ProvisionFacts, RecordRule,
};
use mamori_policy::{Action, ContractClause, ForeignBasis, Policy, Recipient, RecipientKind};
use mamori_store::crypto::random_hex;
use mamori_store::{AuditDraft, ProvisionRow, ReviewRow, Store};
use serde::Serialize;

use crate::principal::Exception;
use crate::{Actor, Mamori, Result, ServiceError, today_jst};

/// What a consent is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentTarget {
    Purpose(String),
    Recipient(String),
}

impl ConsentTarget {
    /// From `--purpose` / `--recipient`: exactly one.
    pub fn from_flags(purpose: Option<String>, recipient: Option<String>) -> Result<ConsentTarget> {
        match (purpose, recipient) {
            (Some(p), None) => Ok(ConsentTarget::Purpose(p)),
            (None, Some(r)) => Ok(ConsentTarget::Recipient(r)),
            _ => Err(ServiceError::BadInput(
                "give exactly one of --purpose P or --recipient R".into(),
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsentInfo {
    pub consent_id: String,
    pub principal_id: String,
    pub purpose: Option<String>,
    pub recipient: Option<String>,
    pub given_at: String,
    pub withdrawn_at: Option<String>,
    pub channel: String,
    pub evidence: Option<String>,
    pub policy_version: String,
    pub informed_abroad: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsentGiven {
    pub consent_id: String,
    /// True when an active consent for the same thing was on record already (nothing new stored).
    pub already: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsentWithdrawn {
    pub withdrawn: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ProvideRequest {
    pub principal_id: String,
    pub recipient: String,
    pub purpose: String,
    pub fields: Vec<String>,
    pub exception: Option<Exception>,
    /// `--basis consent`: insist on consent (refused, not silently another basis, when absent).
    pub require_consent: bool,
}

/// DESIGN.md: `provide` → `{"provision_id", "basis", "record_kept_until"}` (+ what to hand over).
#[derive(Debug, Clone, Serialize)]
pub struct Provided {
    pub provision_id: String,
    pub basis: String,
    pub record_kept_until: Option<String>,
    pub recipient: String,
    /// The values to hand to the recipient (revealed under this provision's audit entry).
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientStatus {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub country: String,
    pub categories: Vec<String>,
    pub purposes: Vec<String>,
    pub foreign_basis: Option<ForeignBasis>,
    /// Entrustment: the clauses on record and when the contract is next reviewed.
    pub contract_clauses: Option<Vec<&'static str>>,
    pub missing_clauses: Vec<&'static str>,
    pub contract_review_due: Option<String>,
    /// Abroad on equivalent measures: when the next periodic check is due.
    pub measures_check_due: Option<String>,
    /// Whether provision to it would currently be blocked by an overdue review or missing clause.
    pub blocked: Option<String>,
}

fn add_period(date: Date, period: Option<&str>) -> Option<Date> {
    let span = mamori_policy::parse_duration(period.unwrap_or("P1Y")).ok()?;
    date.checked_add(span).ok()
}

fn parse_date_field(field: &str, s: &str) -> Result<Date> {
    mamori_policy::parse_ymd(s).map_err(|e| ServiceError::BadInput(format!("{field}: {e}")))
}

impl Mamori {
    fn recipient_of(&self, policy: &Policy, id: &str) -> Result<Recipient> {
        policy.recipient(id).cloned().ok_or_else(|| {
            ServiceError::BadInput(format!(
                "--recipient: is not a recipient of this policy: use one of {}",
                Policy::ids(&policy.recipients, |r| r.id.as_str())
            ))
        })
    }

    /// The contract with a contractor as it stands: the latest recorded review, else the policy.
    pub async fn contract_state(&self, r: &Recipient) -> Result<Option<ContractState>> {
        let policy_contract = r.contract.as_ref();
        if let Some(rev) = self.store.latest_review(&r.id, "contract").await? {
            let clauses: Vec<ContractClause> = match &rev.clauses {
                Some(list) => ContractClause::ALL
                    .into_iter()
                    .filter(|c| list.iter().any(|x| x == c.as_str()))
                    .collect(),
                None => policy_contract
                    .map(|c| c.clauses.clone())
                    .unwrap_or_default(),
            };
            let next = match rev.next_due.as_deref() {
                Some(d) => mamori_policy::parse_ymd(d).ok(),
                None => mamori_policy::parse_ymd(&rev.reviewed_on)
                    .ok()
                    .and_then(|d| {
                        add_period(d, policy_contract.and_then(|c| c.review_every.as_deref()))
                    }),
            };
            return Ok(Some(ContractState {
                clauses,
                next_review: next,
            }));
        }
        Ok(policy_contract.map(|c| ContractState {
            clauses: c.clauses.clone(),
            next_review: c
                .reviewed_on
                .as_deref()
                .and_then(|d| mamori_policy::parse_ymd(d).ok())
                .and_then(|d| add_period(d, c.review_every.as_deref())),
        }))
    }

    /// When the periodic check of a foreign recipient's equivalent measures is next due.
    pub async fn measures_next_due(&self, r: &Recipient) -> Result<Option<Date>> {
        if let Some(rev) = self.store.latest_review(&r.id, "measures").await? {
            return Ok(match rev.next_due.as_deref() {
                Some(d) => mamori_policy::parse_ymd(d).ok(),
                None => mamori_policy::parse_ymd(&rev.reviewed_on)
                    .ok()
                    .and_then(|d| add_period(d, r.measures_check_every.as_deref())),
            });
        }
        Ok(r.measures_checked_on
            .as_deref()
            .and_then(|d| mamori_policy::parse_ymd(d).ok())
            .and_then(|d| add_period(d, r.measures_check_every.as_deref())))
    }

    /// `mamori consent give ID (--purpose P | --recipient R) [--evidence E] [--informed-abroad]`.
    pub async fn consent_give(
        &self,
        actor: &Actor,
        principal_id: &str,
        target: &ConsentTarget,
        evidence: Option<&str>,
        informed_abroad: bool,
    ) -> Result<ConsentGiven> {
        self.require(actor, Action::Consent, "consent.give").await?;
        let principal = self.active_principal(principal_id).await?;
        let policy = self.policy();
        crate::principal::check_evidence(evidence)?;
        let (purpose, recipient) = match target {
            ConsentTarget::Purpose(p) => {
                if policy.purpose(p).is_none() {
                    return Err(ServiceError::BadInput(format!(
                        "--purpose: is not a purpose of this policy: use one of {}",
                        Policy::ids(&policy.purposes, |x| x.id.as_str())
                    )));
                }
                (Some(p.as_str()), None)
            }
            ConsentTarget::Recipient(r) => {
                let rec = self.recipient_of(&policy, r)?;
                if informed_abroad && rec.country == "JP" {
                    return Err(ServiceError::BadInput(format!(
                        "--informed-abroad: recipient {r} is in Japan; the flag is for consent to provision abroad (APPI 28(2))"
                    )));
                }
                (None, Some(r.as_str()))
            }
        };
        // Issue 20: a consent is recorded only with where it is evidenced.
        let evidence = Some(crate::principal::require_evidence(evidence)?);
        let existing = self
            .store
            .consents(principal_id)
            .await?
            .into_iter()
            .find(|c| {
                c.withdrawn_at.is_none()
                    && c.purpose.as_deref() == purpose
                    && c.recipient.as_deref() == recipient
                    && (c.informed_abroad || !informed_abroad)
            });
        if let Some(c) = existing {
            return Ok(ConsentGiven {
                consent_id: c.id,
                already: true,
            });
        }
        let id = random_hex(8);
        self.store
            .write(
                vec![
                    Store::give_consent(
                        self.store.keys(),
                        &id,
                        principal_id,
                        purpose,
                        recipient,
                        &principal.channel,
                        evidence,
                        &self.policy_version(),
                        &actor.login,
                        informed_abroad,
                    ),
                    Store::touch_principal(principal_id, &mamori_store::now_string()),
                ],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "consent.give".into(),
                    principal_id: Some(principal_id.to_string()),
                    purpose: purpose.map(str::to_string),
                    decision: "done".into(),
                    detail: serde_json::json!({"consent_id": id, "recipient": recipient, "informed_abroad": informed_abroad}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(ConsentGiven {
            consent_id: id,
            already: false,
        })
    }

    /// `mamori consent withdraw ID (--purpose P | --recipient R)`: effective at once.
    pub async fn consent_withdraw(
        &self,
        actor: &Actor,
        principal_id: &str,
        target: &ConsentTarget,
    ) -> Result<ConsentWithdrawn> {
        self.require(actor, Action::Consent, "consent.withdraw")
            .await?;
        self.active_principal(principal_id).await?;
        let rows: Vec<mamori_store::ConsentRow> = self
            .store
            .consents(principal_id)
            .await?
            .into_iter()
            .filter(|c| c.withdrawn_at.is_none())
            .filter(|c| match target {
                ConsentTarget::Purpose(p) => c.purpose.as_deref() == Some(p.as_str()),
                ConsentTarget::Recipient(r) => c.recipient.as_deref() == Some(r.as_str()),
            })
            .collect();
        let active: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
        if active.is_empty() {
            let what = match target {
                ConsentTarget::Purpose(_) => format!(
                    "--purpose: principal {principal_id} has no active consent for that purpose"
                ),
                ConsentTarget::Recipient(_) => format!(
                    "--recipient: principal {principal_id} has no active consent for provision to that recipient"
                ),
            };
            return Err(ServiceError::BadInput(what));
        }
        let stmts = rows
            .iter()
            .map(|c| Store::withdraw_consent(self.store.keys(), principal_id, c, &actor.login))
            .collect();
        let (purpose, recipient) = match target {
            ConsentTarget::Purpose(p) => (Some(p.clone()), None),
            ConsentTarget::Recipient(r) => (None, Some(r.clone())),
        };
        self.store
            .write(
                stmts,
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "consent.withdraw".into(),
                    principal_id: Some(principal_id.to_string()),
                    purpose,
                    decision: "done".into(),
                    detail: serde_json::json!({"consents": active, "recipient": recipient}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(ConsentWithdrawn { withdrawn: active })
    }

    /// The consent records of a principal (no personal values).
    pub async fn consents_list(
        &self,
        actor: &Actor,
        principal_id: &str,
    ) -> Result<Vec<ConsentInfo>> {
        self.require(actor, Action::Consent, "consent.list").await?;
        self.active_principal(principal_id).await?;
        let list = self.store.consents(principal_id).await?;
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "consent.list".into(),
                principal_id: Some(principal_id.to_string()),
                decision: "allow".into(),
                ..Default::default()
            }])
            .await?;
        Ok(list
            .into_iter()
            .map(|c| ConsentInfo {
                consent_id: c.id,
                principal_id: principal_id.to_string(),
                purpose: c.purpose,
                recipient: c.recipient,
                given_at: c.given_at,
                withdrawn_at: c.withdrawn_at,
                channel: c.channel,
                evidence: c.evidence,
                policy_version: c.policy_version,
                informed_abroad: c.informed_abroad,
            })
            .collect())
    }

    /// `mamori provide ID --recipient R --purpose P --fields C1,C2 [--basis … --reason …]`.
    pub async fn provide(&self, actor: &Actor, req: ProvideRequest) -> Result<Provided> {
        // The role first: the checks below tell which categories a principal holds, which a
        // role that may not provide must not learn (seed 000 Art. 8-1; seed 003 Art. 17).
        self.require(actor, Action::Provide, "principal.provide")
            .await?;
        let principal = self.active_principal(&req.principal_id).await?;
        let policy = self.policy();
        let recipient = self.recipient_of(&policy, &req.recipient)?;
        if policy.purpose(&req.purpose).is_none() {
            return Err(ServiceError::BadInput(format!(
                "--purpose: is not a purpose of this policy: use one of {}",
                Policy::ids(&policy.purposes, |x| x.id.as_str())
            )));
        }
        if req.fields.is_empty() {
            return Err(ServiceError::BadInput(
                "--fields: name the categories to provide, e.g. --fields name,email".into(),
            ));
        }
        let held = self.store.fields(&principal.id).await?;
        for c in &req.fields {
            if policy.category(c).is_none() {
                return Err(ServiceError::BadInput(
                    "--fields: one of the fields is not a category of this policy: `policy show` lists them"
                        .into(),
                ));
            }
            if !held.iter().any(|f| &f.category == c) {
                return Err(ServiceError::BadInput(format!(
                    "--fields: principal {} holds no {c}",
                    principal.id
                )));
            }
        }
        // Seed 003 Art. 6: staff overdue for training, when the policy blocks them.
        self.deny_untrained(
            actor,
            "principal.provide",
            &principal.id,
            &req.purpose,
            &req.fields,
        )
        .await?;
        let channel = self.notified_channel(&principal)?;
        let consents = self.store.consents(&principal.id).await?;
        let active: Vec<_> = consents
            .iter()
            .filter(|c| c.withdrawn_at.is_none())
            .collect();
        let mut usable: Vec<String> = channel.purposes.clone();
        usable.extend(active.iter().filter_map(|c| c.purpose.clone()));
        // An informed consent (APPI 28(2)) counts over an earlier plain one.
        let recipient_consent = active
            .iter()
            .filter(|c| c.recipient.as_deref() == Some(recipient.id.as_str()))
            .max_by_key(|c| c.informed_abroad);
        let announced = self
            .policy_at(&principal.policy_version)
            .recipient(&recipient.id)
            .is_some();
        let contract = self.contract_state(&recipient).await?;
        let measures_next_due = self.measures_next_due(&recipient).await?;
        let suspensions = self.store.suspensions(&principal.id).await?;
        let suspended_for_purpose = suspensions
            .iter()
            .any(|s| s.as_deref().is_none_or(|p| p == req.purpose));
        let today = today_jst();
        let facts = ProvisionFacts {
            role: &actor.role,
            recipient: &recipient,
            purpose: &req.purpose,
            categories: &req.fields,
            usable_purposes: &usable,
            recipient_consent: recipient_consent.map(|c| c.informed_abroad),
            announced,
            contract: contract.as_ref(),
            measures_next_due,
            provision_stopped: self.store.provision_stopped(&principal.id).await?,
            suspended_for_purpose,
            exception: req.exception.as_ref().map(|e| (e.kind, e.reason.as_str())),
            today,
        };
        let mut decision = rules::decide(&facts);
        if req.require_consent
            && let ProvisionDecision::Allow { basis, .. } = &decision
            && *basis != rules::ProvisionBasis::Consent
            && recipient.kind == RecipientKind::ThirdParty
            && recipient_consent.is_none()
        {
            decision = ProvisionDecision::Deny {
                reason: rules::ProvisionDenied::NoConsent {
                    recipient: recipient.id.clone(),
                },
            };
        }
        let categories = req.fields.clone();
        match decision {
            ProvisionDecision::Deny { reason } => {
                let reason = reason.to_string();
                self.store
                    .audit(vec![AuditDraft {
                        actor: actor.login.clone(),
                        action: "principal.provide".into(),
                        principal_id: Some(principal.id.clone()),
                        purpose: Some(req.purpose.clone()),
                        categories,
                        decision: "deny".into(),
                        reason: Some(reason.clone()),
                        detail: serde_json::json!({"recipient": recipient.id}),
                        ..Default::default()
                    }])
                    .await?;
                Err(ServiceError::Denied(reason))
            }
            ProvisionDecision::Allow {
                basis,
                record,
                review,
            } => {
                let provision_id = format!("v_{}", random_hex(8));
                let kept_until = rules::record_kept_until(today, record).map(|d| d.to_string());
                let mut stmts = Vec::new();
                let mut detail = serde_json::json!({"provision_id": provision_id, "recipient": recipient.id, "kind": recipient.kind.as_str(), "country": recipient.country});
                if let (RecordRule::Years(_), Some(until)) = (record, &kept_until) {
                    stmts.push(Store::insert_provision(&ProvisionRow {
                        provision_id: provision_id.clone(),
                        principal_id: principal.id.clone(),
                        recipient: recipient.id.clone(),
                        recipient_name: recipient.name.ja.clone(),
                        recipient_address: recipient.address.as_ref().map(|a| a.ja.clone()),
                        recipient_kind: recipient.kind.as_str().to_string(),
                        country: recipient.country.clone(),
                        purpose: req.purpose.clone(),
                        categories: categories.clone(),
                        basis: basis.as_string(),
                        consent_id: recipient_consent.map(|c| c.id.clone()),
                        provided_at: mamori_store::now_string(),
                        provided_by: actor.login.clone(),
                        record_kept_until: until.clone(),
                        policy_version: self.policy_version(),
                    }));
                }
                if review {
                    let e = req
                        .exception
                        .as_ref()
                        .ok_or_else(|| ServiceError::Failed("review without exception".into()))?;
                    let (stmt, review_id) = self
                        .exception_review(&principal.id, actor, e, &req.purpose)
                        .await?;
                    stmts.push(stmt);
                    if let Some(obj) = detail.as_object_mut() {
                        obj.insert("review".into(), review_id.into());
                    }
                }
                self.store
                    .write(
                        stmts,
                        vec![AuditDraft {
                            actor: actor.login.clone(),
                            action: "principal.provide".into(),
                            principal_id: Some(principal.id.clone()),
                            purpose: Some(req.purpose.clone()),
                            basis: Some(basis.as_string()),
                            categories: categories.clone(),
                            decision: "allow".into(),
                            detail,
                            ..Default::default()
                        }],
                    )
                    .await?;
                let rows = held
                    .into_iter()
                    .filter(|f| categories.contains(&f.category))
                    .collect();
                let fields = self.open_fields(&principal.id, rows).await?;
                Ok(Provided {
                    provision_id,
                    basis: basis.as_string(),
                    record_kept_until: kept_until,
                    recipient: recipient.id,
                    fields,
                })
            }
        }
    }

    /// `mamori provisions list [--principal ID]`: the provision records (APPI 29).
    pub async fn provisions_list(
        &self,
        actor: &Actor,
        principal: Option<&str>,
    ) -> Result<Vec<ProvisionRow>> {
        let may = [Action::Provide, Action::Audit, Action::Requests]
            .iter()
            .any(|a| actor.role.actions.contains(a));
        if !may {
            self.require(actor, Action::Provide, "provisions.list")
                .await?;
        }
        let list = self.store.provisions(principal).await?;
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "provisions.list".into(),
                principal_id: principal.map(str::to_string),
                decision: "allow".into(),
                ..Default::default()
            }])
            .await?;
        Ok(list)
    }

    /// `mamori recipient review R --reviewed-on DATE [--clauses …] [--next-due DATE]`: record
    /// the review of a contractor's contract (seed 003 Art. 18) or of a foreign recipient's
    /// equivalent measures (APPI 28(3)).
    pub async fn recipient_review(
        &self,
        actor: &Actor,
        recipient: &str,
        kind: Option<&str>,
        reviewed_on: &str,
        clauses: Option<&[String]>,
        next_due: Option<&str>,
    ) -> Result<ReviewRow> {
        self.require(actor, Action::Governance, "recipient.review")
            .await?;
        let policy = self.policy();
        let r = self.recipient_of(&policy, recipient)?;
        let reviewed = parse_date_field("--reviewed-on", reviewed_on)?;
        if reviewed > today_jst() {
            return Err(ServiceError::BadInput(
                "--reviewed-on: the review date is in the future".into(),
            ));
        }
        let next = next_due
            .map(|d| parse_date_field("--next-due", d))
            .transpose()?;
        if next.is_some_and(|n| n <= reviewed) {
            return Err(ServiceError::BadInput(
                "--next-due: must be after --reviewed-on".into(),
            ));
        }
        let contract = r.kind == RecipientKind::Entrustment;
        let measures =
            r.country != "JP" && r.foreign_basis == Some(ForeignBasis::EquivalentMeasures);
        let kind = match (kind, contract, measures) {
            (Some("contract"), true, _) => "contract",
            (Some("measures"), _, true) => "measures",
            (Some(k @ ("contract" | "measures")), _, _) => {
                return Err(ServiceError::BadInput(format!(
                    "--kind: {recipient} has no {k} to review: contracts are reviewed for contractors (entrustment), measures for recipients abroad on equivalent measures"
                )));
            }
            (Some(other), _, _) => {
                return Err(ServiceError::BadInput(format!(
                    "--kind: {other:?} is not a review kind: use contract or measures"
                )));
            }
            (None, true, true) => {
                return Err(ServiceError::BadInput(format!(
                    "--kind: {recipient} is a contractor abroad: say whether the contract or the equivalent measures were reviewed (--kind contract|measures)"
                )));
            }
            (None, true, false) => "contract",
            (None, false, true) => "measures",
            (None, false, false) => {
                return Err(ServiceError::BadInput(format!(
                    "--recipient: {recipient} is neither a contractor (entrustment) nor a recipient abroad on equivalent measures: there is nothing to review"
                )));
            }
        };
        if let Some(list) = clauses {
            if kind != "contract" {
                return Err(ServiceError::BadInput(
                    "--clauses: only contracts with contractors have clauses".into(),
                ));
            }
            for c in list {
                if !ContractClause::ALL.iter().any(|x| x.as_str() == c) {
                    return Err(ServiceError::BadInput(format!(
                        "--clauses: {c:?} is not a clause: use {}",
                        ContractClause::ALL
                            .iter()
                            .map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        let id = random_hex(8);
        let next_s = next.map(|d| d.to_string());
        self.store
            .write(
                vec![Store::insert_review(&id, recipient, kind, clauses, &reviewed.to_string(), next_s.as_deref(), &actor.login)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "recipient.review".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"recipient": recipient, "kind": kind, "reviewed_on": reviewed.to_string()}),
                    ..Default::default()
                }],
            )
            .await?;
        self.store
            .latest_review(recipient, kind)
            .await?
            .ok_or_else(|| ServiceError::Failed("the review was not stored".into()))
    }

    /// `mamori recipient list`: every recipient with its contract and review state.
    pub async fn recipients_status(&self, actor: &Actor) -> Result<Vec<RecipientStatus>> {
        let may = [
            Action::Provide,
            Action::Governance,
            Action::Audit,
            Action::Ledger,
        ]
        .iter()
        .any(|a| actor.role.actions.contains(a));
        if !may {
            self.require(actor, Action::Provide, "recipient.list")
                .await?;
        }
        let policy = self.policy();
        let today = today_jst();
        let mut out = Vec::new();
        for r in &policy.recipients {
            let contract = if r.kind == RecipientKind::Entrustment {
                self.contract_state(r).await?
            } else {
                None
            };
            let measures =
                if r.country != "JP" && r.foreign_basis == Some(ForeignBasis::EquivalentMeasures) {
                    self.measures_next_due(r).await?
                } else {
                    None
                };
            let missing: Vec<&'static str> = match (&contract, r.kind) {
                (Some(c), _) => ContractClause::ALL
                    .iter()
                    .filter(|x| !c.clauses.contains(x))
                    .map(|x| x.as_str())
                    .collect(),
                (None, RecipientKind::Entrustment) => {
                    ContractClause::ALL.iter().map(|x| x.as_str()).collect()
                }
                _ => Vec::new(),
            };
            let review_due = contract.as_ref().and_then(|c| c.next_review);
            let blocked = if !missing.is_empty() {
                Some(format!("contract lacks {}", missing.join(", ")))
            } else if review_due.is_some_and(|d| d < today) {
                Some("contract review overdue".to_string())
            } else if r.foreign_basis == Some(ForeignBasis::EquivalentMeasures)
                && r.country != "JP"
                && measures.is_none_or(|d| d < today)
            {
                Some("periodic check of equivalent measures overdue".to_string())
            } else {
                None
            };
            out.push(RecipientStatus {
                id: r.id.clone(),
                name: r.name.ja.clone(),
                kind: r.kind.as_str(),
                country: r.country.clone(),
                categories: r.categories.clone(),
                purposes: r.purposes.clone(),
                foreign_basis: r.foreign_basis,
                contract_clauses: contract
                    .as_ref()
                    .map(|c| c.clauses.iter().map(|x| x.as_str()).collect()),
                missing_clauses: missing,
                contract_review_due: review_due.map(|d| d.to_string()),
                measures_check_due: measures.map(|d| d.to_string()),
                blocked,
            });
        }
        Ok(out)
    }
}
