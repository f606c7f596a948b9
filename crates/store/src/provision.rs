//! Storage of consents given and withdrawn, provision records (APPI 29), reviews of contractors
//! and foreign recipients, and provision stops. Holds ids, category names and dates only.

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Stmt, Store, now_string, opt_s, s};

/// A provision record: the items APPI 29 and rule 20 require for a consent-based provision —
/// the date, the recipient (name, address), the principal, the items of data, and the consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionRow {
    pub provision_id: String,
    pub principal_id: String,
    pub recipient: String,
    pub recipient_name: String,
    pub recipient_address: Option<String>,
    pub recipient_kind: String,
    pub country: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub basis: String,
    pub consent_id: Option<String>,
    pub provided_at: String,
    pub provided_by: String,
    pub record_kept_until: String,
    pub policy_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewRow {
    pub id: String,
    pub recipient: String,
    /// `contract` (seed 003 Art. 18) or `measures` (APPI 28(3)).
    pub kind: String,
    pub clauses: Option<Vec<String>>,
    pub reviewed_on: String,
    pub next_due: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
}

fn provision_row(r: &sqlx::any::AnyRow) -> Result<ProvisionRow> {
    Ok(ProvisionRow {
        provision_id: s(r, 0)?,
        principal_id: s(r, 1)?,
        recipient: s(r, 2)?,
        recipient_name: s(r, 3)?,
        recipient_address: opt_s(r, 4)?,
        recipient_kind: s(r, 5)?,
        country: s(r, 6)?,
        purpose: s(r, 7)?,
        categories: s(r, 8)?
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        basis: s(r, 9)?,
        consent_id: opt_s(r, 10)?,
        provided_at: s(r, 11)?,
        provided_by: s(r, 12)?,
        record_kept_until: s(r, 13)?,
        policy_version: s(r, 14)?,
    })
}

impl Store {
    /// Record a consent given (`purpose` or `recipient`).
    #[allow(clippy::too_many_arguments)]
    pub fn give_consent(
        keys: &crate::Keys,
        id: &str,
        principal_id: &str,
        purpose: Option<&str>,
        recipient: Option<&str>,
        channel: &str,
        evidence: Option<&str>,
        policy_version: &str,
        recorded_by: &str,
        informed_abroad: bool,
    ) -> Stmt {
        let at = now_string();
        let mac = Store::consent_mac(
            keys,
            &crate::facts::ConsentFacts {
                id,
                principal_id,
                purpose,
                recipient,
                given_at: &at,
                channel,
                policy_version,
                special_care: false,
                withdrawn_at: None,
            },
        );
        Stmt::new(
            "INSERT INTO consents (id, principal_id, purpose, recipient, given_at, channel, evidence, policy_version, recorded_by, informed_abroad, facts_mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            vec![
                id.into(),
                principal_id.into(),
                purpose.into(),
                recipient.into(),
                at.into(),
                channel.into(),
                evidence.into(),
                policy_version.into(),
                recorded_by.into(),
                i64::from(informed_abroad).into(),
                mac.into(),
            ],
        )
    }

    /// Withdraw one consent (as read, of `principal_id`); takes effect with the commit. Its MAC
    /// is renewed over the withdrawal time ([`crate::facts`]).
    pub fn withdraw_consent(
        keys: &crate::Keys,
        principal_id: &str,
        consent: &crate::ConsentRow,
        by: &str,
    ) -> Stmt {
        let at = now_string();
        let mut withdrawn = consent.clone();
        withdrawn.withdrawn_at = Some(at.clone());
        let mac = Store::consent_mac(keys, &withdrawn.facts(principal_id));
        Stmt::new(
            "UPDATE consents SET withdrawn_at = $2, withdrawn_by = $3, facts_mac = $4 WHERE id = $1 AND principal_id = $5 AND withdrawn_at IS NULL",
            vec![
                consent.id.as_str().into(),
                at.into(),
                by.into(),
                mac.into(),
                principal_id.into(),
            ],
        )
        .expecting(1, "the consent was withdrawn meanwhile")
    }

    pub fn insert_provision(p: &ProvisionRow) -> Stmt {
        Stmt::new(
            "INSERT INTO provisions (id, principal_id, recipient, recipient_name, recipient_address, recipient_kind, country, purpose, categories, basis, consent_id, provided_at, provided_by, record_kept_until, policy_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            vec![
                p.provision_id.as_str().into(),
                p.principal_id.as_str().into(),
                p.recipient.as_str().into(),
                p.recipient_name.as_str().into(),
                p.recipient_address.clone().into(),
                p.recipient_kind.as_str().into(),
                p.country.as_str().into(),
                p.purpose.as_str().into(),
                p.categories.join(",").into(),
                p.basis.as_str().into(),
                p.consent_id.clone().into(),
                p.provided_at.as_str().into(),
                p.provided_by.as_str().into(),
                p.record_kept_until.as_str().into(),
                p.policy_version.as_str().into(),
            ],
        )
    }

    /// Provision records, newest first; of one principal or of everyone.
    pub async fn provisions(&self, principal_id: Option<&str>) -> Result<Vec<ProvisionRow>> {
        let rows = match principal_id {
            Some(p) => {
                self.rows(
                    "SELECT id, principal_id, recipient, recipient_name, recipient_address, recipient_kind, country, purpose, categories, basis, consent_id, provided_at, provided_by, record_kept_until, policy_version FROM provisions WHERE principal_id = $1 ORDER BY provided_at DESC, id",
                    vec![p.into()],
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT id, principal_id, recipient, recipient_name, recipient_address, recipient_kind, country, purpose, categories, basis, consent_id, provided_at, provided_by, record_kept_until, policy_version FROM provisions ORDER BY provided_at DESC, id",
                    vec![],
                )
                .await?
            }
        };
        rows.iter().map(provision_row).collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_review(
        id: &str,
        recipient: &str,
        kind: &str,
        clauses: Option<&[String]>,
        reviewed_on: &str,
        next_due: Option<&str>,
        recorded_by: &str,
    ) -> Stmt {
        Stmt::new(
            "INSERT INTO recipient_reviews (id, recipient, kind, clauses, reviewed_on, next_due, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                id.into(),
                recipient.into(),
                kind.into(),
                clauses.map(|c| c.join(",")).into(),
                reviewed_on.into(),
                next_due.into(),
                recorded_by.into(),
                now_string().into(),
            ],
        )
    }

    /// The latest review of a recipient of a kind (`contract` or `measures`).
    pub async fn latest_review(&self, recipient: &str, kind: &str) -> Result<Option<ReviewRow>> {
        let rows = self
            .rows(
                "SELECT id, recipient, kind, clauses, reviewed_on, next_due, recorded_by, recorded_at FROM recipient_reviews WHERE recipient = $1 AND kind = $2 ORDER BY reviewed_on DESC, recorded_at DESC LIMIT 1",
                vec![recipient.into(), kind.into()],
            )
            .await?;
        rows.first()
            .map(|r| {
                Ok(ReviewRow {
                    id: s(r, 0)?,
                    recipient: s(r, 1)?,
                    kind: s(r, 2)?,
                    clauses: opt_s(r, 3)?.map(|c| {
                        c.split(',')
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect()
                    }),
                    reviewed_on: s(r, 4)?,
                    next_due: opt_s(r, 5)?,
                    recorded_by: s(r, 6)?,
                    recorded_at: s(r, 7)?,
                })
            })
            .transpose()
    }

    pub fn insert_provision_stop(id: &str, principal_id: &str, request_id: Option<&str>) -> Stmt {
        Stmt::new(
            "INSERT INTO provision_stops (id, principal_id, since, request_id) VALUES ($1, $2, $3, $4)",
            vec![
                id.into(),
                principal_id.into(),
                now_string().into(),
                request_id.into(),
            ],
        )
    }

    /// Whether the principal asked to stop provision to third parties (APPI 35(3)).
    pub async fn provision_stopped(&self, principal_id: &str) -> Result<bool> {
        let rows = self
            .rows(
                "SELECT COUNT(*) FROM provision_stops WHERE principal_id = $1 AND lifted_at IS NULL",
                vec![principal_id.into()],
            )
            .await?;
        Ok(rows
            .first()
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(0)
            > 0)
    }
}
