//! The records an access decision rests on, bound to a key the database does not hold
//! (issue 20, "Input"): a principal's channel and policy version (which purposes they were
//! notified of, APPI 21(1), seed 001 Art. 5), their consents (APPI 18, 27; seed 001 Art. 6),
//! their suspensions (APPI 35) and a staff member's role and whether they are disabled (who may
//! use what, seed 003 Arts. 9-10).
//!
//! Every row of `principals`, `consents`, `suspensions` and `staff` carries `facts_mac`: an
//! HMAC-SHA-256 over the canonical encoding below, under the blind-index key (a random secret
//! wrapped under the master key in the key store, carried in key backups) with a
//! domain-separated kind (`facts:principal`, `facts:consent`, `facts:suspension`,
//! `facts:staff`). A principal's MAC covers the number of their suspensions as well, so a
//! deleted or lifted suspension is caught. Reads check the MACs of the rows they decide on
//! and refuse with [`StoreError::Changed`] (one line naming the principal or staff member, never
//! a value); [`crate::Store::verify_facts`] checks every row (`mamori verify`).
//!
//! What it does not catch: a row put back to an earlier state that Mamori itself wrote (a
//! replay of an authentic row: a withdrawn consent's row restored from before the withdrawal
//! together with the principal's row), and columns outside the encodings (timestamps of last
//! activity, evidence texts, password hashes, API tokens).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::crypto::Keys;
use crate::{AuditDraft, Result, Stmt, Store, StoreError, opt_s, s};

pub const PRINCIPAL: &str = "facts:principal";
pub const CONSENT: &str = "facts:consent";
pub const SUSPENSION: &str = "facts:suspension";
pub const STAFF: &str = "facts:staff";

/// Length-prefixed fields, `None` told apart from an empty text.
fn encode(parts: &[Option<&str>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.len() * 24);
    for p in parts {
        match p {
            None => out.push(0),
            Some(t) => {
                out.push(1);
                out.extend_from_slice(&(t.len() as u64).to_be_bytes());
                out.extend_from_slice(t.as_bytes());
            }
        }
    }
    out
}

/// A principal: id, channel, policy version, number of active suspensions.
pub fn principal(id: &str, channel: &str, policy_version: &str, suspensions: i64) -> Vec<u8> {
    let n = suspensions.to_string();
    encode(&[Some(id), Some(channel), Some(policy_version), Some(&n)])
}

/// The columns of a consent row that a decision rests on.
#[derive(Debug, Clone, Copy)]
pub struct ConsentFacts<'a> {
    pub id: &'a str,
    pub principal_id: &'a str,
    pub purpose: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub given_at: &'a str,
    pub channel: &'a str,
    pub policy_version: &'a str,
    pub special_care: bool,
    pub withdrawn_at: Option<&'a str>,
}

pub fn consent(c: &ConsentFacts<'_>) -> Vec<u8> {
    encode(&[
        Some(c.id),
        Some(c.principal_id),
        c.purpose,
        c.recipient,
        Some(c.given_at),
        Some(c.channel),
        Some(c.policy_version),
        Some(if c.special_care { "1" } else { "0" }),
        c.withdrawn_at,
    ])
}

pub fn suspension(
    id: &str,
    principal_id: &str,
    purpose: Option<&str>,
    since: &str,
    lifted_at: Option<&str>,
) -> Vec<u8> {
    encode(&[
        Some(id),
        Some(principal_id),
        purpose,
        Some(since),
        lifted_at,
    ])
}

pub fn staff(login: &str, role: &str, disabled: bool) -> Vec<u8> {
    encode(&[
        Some(login),
        Some(role),
        Some(if disabled { "1" } else { "0" }),
    ])
}

/// The MAC to store (NULL if no key is loaded, which then never verifies).
pub fn mac(keys: &Keys, kind: &str, canonical: &[u8]) -> Option<String> {
    keys.facts_mac(kind, canonical)
}

/// The refusal when a principal's records do not verify.
pub fn principal_changed(id: &str) -> StoreError {
    StoreError::Changed(format!(
        "principal {id}: their record (channel, consents or suspensions) was changed outside Mamori: nothing was released; run `mamori verify` and restore the record from a backup"
    ))
}

/// The refusal when a staff member's record does not verify.
pub fn staff_changed(login: &str) -> StoreError {
    StoreError::Changed(format!(
        "staff member {login}: their record (role or disabled) was changed outside Mamori: refused; run `mamori verify` and restore the record from a backup"
    ))
}

/// What [`crate::Store::verify_facts`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct FactsReport {
    pub principals: i64,
    pub consents: i64,
    pub suspensions: i64,
    pub staff: i64,
}

fn changed_row(what: String) -> StoreError {
    StoreError::Changed(format!(
        "{what} was changed outside Mamori (its MAC does not verify): restore it from a backup"
    ))
}

impl Store {
    /// Check the MAC of every row of `principals`, `consents`, `suspensions` and `staff`, and
    /// each principal's count of suspensions (`mamori verify`). The first row that fails is
    /// named (by id, never a value) in [`StoreError::Changed`].
    pub async fn verify_facts(&self) -> Result<FactsReport> {
        let keys = self.keys();
        let mut report = FactsReport::default();
        let rows = self
            .rows(
                "SELECT p.id, p.channel, p.policy_version, p.suspension_count, p.facts_mac, (SELECT COUNT(*) FROM suspensions s WHERE s.principal_id = p.id AND s.lifted_at IS NULL) FROM principals p ORDER BY p.id",
                vec![],
            )
            .await?;
        for r in &rows {
            let id = s(r, 0)?;
            let count: i64 = r.try_get(3)?;
            let found: i64 = r.try_get(5)?;
            let enc = principal(&id, &s(r, 1)?, &s(r, 2)?, count);
            if count != found || !keys.facts_mac_ok(PRINCIPAL, &enc, opt_s(r, 4)?.as_deref()) {
                return Err(changed_row(format!("principal {id}")));
            }
            report.principals += 1;
        }
        let rows = self
            .rows(
                "SELECT id, principal_id, purpose, recipient, given_at, channel, policy_version, special_care, withdrawn_at, facts_mac FROM consents ORDER BY id",
                vec![],
            )
            .await?;
        for r in &rows {
            let (id, pid, enc) = consent_of(r)?;
            if !keys.facts_mac_ok(CONSENT, &enc, opt_s(r, 9)?.as_deref()) {
                return Err(changed_row(format!("consent {id} of principal {pid}")));
            }
            report.consents += 1;
        }
        let rows = self
            .rows(
                "SELECT id, principal_id, purpose, since, lifted_at, facts_mac FROM suspensions ORDER BY id",
                vec![],
            )
            .await?;
        for r in &rows {
            let (id, pid, enc) = suspension_of(r)?;
            if !keys.facts_mac_ok(SUSPENSION, &enc, opt_s(r, 5)?.as_deref()) {
                return Err(changed_row(format!("suspension {id} of principal {pid}")));
            }
            report.suspensions += 1;
        }
        let rows = self
            .rows(
                "SELECT login, role, disabled, facts_mac FROM staff ORDER BY login",
                vec![],
            )
            .await?;
        for r in &rows {
            let (login, enc) = staff_of(r)?;
            if !keys.facts_mac_ok(STAFF, &enc, opt_s(r, 3)?.as_deref()) {
                return Err(changed_row(format!("staff member {login}")));
            }
            report.staff += 1;
        }
        Ok(report)
    }

    /// Once, at the start-up after migration 0021: give every row written before it its MAC,
    /// in one job with one audit entry `facts.sealed` (the counts). Only while the migration's
    /// mark is there and no `facts.sealed` entry exists, so a row inserted later without a MAC
    /// stays refused (a mark put back by hand is ignored once the log has the entry). The
    /// entry is written even when nothing needed sealing (a new data folder), for that reason.
    pub(crate) async fn seal_facts_once(&self) -> Result<()> {
        let pending = self
            .count(
                "SELECT COUNT(*) FROM meta WHERE key = 'facts_seal_pending'",
                vec![],
            )
            .await?;
        if pending == 0 {
            return Ok(());
        }
        let clear = Stmt::new("DELETE FROM meta WHERE key = 'facts_seal_pending'", vec![]);
        let sealed_before = self
            .count(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'facts.sealed'",
                vec![],
            )
            .await?;
        if sealed_before > 0 {
            self.write(vec![clear], vec![]).await?;
            return Ok(());
        }
        self.seal_unsealed(true).await.map(|_| ())
    }

    /// Test support only: give every row without a MAC its MAC, as the one-off sealing after
    /// migration 0021 does (no audit entry). Tests use it to show that an edit refused today
    /// would have changed a decision had its MAC been recomputed, which needs Mamori's key.
    #[doc(hidden)]
    pub async fn test_support_seal_unsealed(&self) -> Result<FactsReport> {
        self.seal_unsealed(false).await
    }

    async fn seal_unsealed(&self, audited: bool) -> Result<FactsReport> {
        let clear = Stmt::new("DELETE FROM meta WHERE key = 'facts_seal_pending'", vec![]);
        let keys = self.keys();
        if keys.facts_mac("facts:probe", b"").is_none() {
            return Err(StoreError::Crypto(
                "the blind-index key is not loaded: cannot seal the records".into(),
            ));
        }
        let mut stmts = Vec::new();
        let mut report = FactsReport::default();
        for r in &self
            .rows(
                "SELECT p.id, p.channel, p.policy_version, (SELECT COUNT(*) FROM suspensions s WHERE s.principal_id = p.id AND s.lifted_at IS NULL) FROM principals p WHERE p.facts_mac IS NULL",
                vec![],
            )
            .await?
        {
            let (id, count): (String, i64) = (s(r, 0)?, r.try_get(3)?);
            let m = mac(keys, PRINCIPAL, &principal(&id, &s(r, 1)?, &s(r, 2)?, count));
            stmts.push(Stmt::new(
                "UPDATE principals SET suspension_count = $2, facts_mac = $3 WHERE id = $1 AND facts_mac IS NULL",
                vec![id.into(), count.into(), m.into()],
            ));
            report.principals += 1;
        }
        for r in &self
            .rows(
                "SELECT id, principal_id, purpose, recipient, given_at, channel, policy_version, special_care, withdrawn_at FROM consents WHERE facts_mac IS NULL",
                vec![],
            )
            .await?
        {
            let (id, _, enc) = consent_of(r)?;
            let m = mac(keys, CONSENT, &enc);
            stmts.push(Stmt::new(
                "UPDATE consents SET facts_mac = $2 WHERE id = $1 AND facts_mac IS NULL",
                vec![id.into(), m.into()],
            ));
            report.consents += 1;
        }
        for r in &self
            .rows(
                "SELECT id, principal_id, purpose, since, lifted_at FROM suspensions WHERE facts_mac IS NULL",
                vec![],
            )
            .await?
        {
            let (id, _, enc) = suspension_of(r)?;
            stmts.push(Stmt::new(
                "UPDATE suspensions SET facts_mac = $2 WHERE id = $1 AND facts_mac IS NULL",
                vec![id.into(), mac(keys, SUSPENSION, &enc).into()],
            ));
            report.suspensions += 1;
        }
        for r in &self
            .rows(
                "SELECT login, role, disabled FROM staff WHERE facts_mac IS NULL",
                vec![],
            )
            .await?
        {
            let (login, enc) = staff_of(r)?;
            stmts.push(Stmt::new(
                "UPDATE staff SET facts_mac = $2 WHERE login = $1 AND facts_mac IS NULL",
                vec![login.into(), mac(keys, STAFF, &enc).into()],
            ));
            report.staff += 1;
        }
        if audited {
            stmts.push(clear);
        }
        let audit = if !audited {
            vec![]
        } else {
            vec![AuditDraft {
                actor: "system".into(),
                action: "facts.sealed".into(),
                principal_id: None,
                purpose: None,
                basis: None,
                categories: vec![],
                decision: "done".into(),
                reason: None,
                detail: serde_json::json!({
                    "principals": report.principals,
                    "consents": report.consents,
                    "suspensions": report.suspensions,
                    "staff": report.staff,
                }),
            }]
        };
        self.write(stmts, audit).await?;
        Ok(report)
    }
}

/// A consent row's id, principal and encoding, from the columns `id, principal_id, purpose,
/// recipient, given_at, channel, policy_version, special_care, withdrawn_at` (first, in that
/// order): [`Store::verify_facts`] and the sealing read the same columns.
fn consent_of(r: &AnyRow) -> Result<(String, String, Vec<u8>)> {
    let (id, pid) = (s(r, 0)?, s(r, 1)?);
    let (purpose, recipient) = (opt_s(r, 2)?, opt_s(r, 3)?);
    let (given_at, channel, version) = (s(r, 4)?, s(r, 5)?, s(r, 6)?);
    let withdrawn_at = opt_s(r, 8)?;
    let enc = consent(&ConsentFacts {
        id: &id,
        principal_id: &pid,
        purpose: purpose.as_deref(),
        recipient: recipient.as_deref(),
        given_at: &given_at,
        channel: &channel,
        policy_version: &version,
        special_care: r.try_get::<i64, _>(7)? != 0,
        withdrawn_at: withdrawn_at.as_deref(),
    });
    Ok((id, pid, enc))
}

/// A suspension row's id, principal and encoding, from `id, principal_id, purpose, since,
/// lifted_at`.
fn suspension_of(r: &AnyRow) -> Result<(String, String, Vec<u8>)> {
    let (id, pid) = (s(r, 0)?, s(r, 1)?);
    let enc = suspension(
        &id,
        &pid,
        opt_s(r, 2)?.as_deref(),
        &s(r, 3)?,
        opt_s(r, 4)?.as_deref(),
    );
    Ok((id, pid, enc))
}

/// A staff row's login and encoding, from `login, role, disabled`.
fn staff_of(r: &AnyRow) -> Result<(String, Vec<u8>)> {
    let login = s(r, 0)?;
    let enc = staff(&login, &s(r, 1)?, r.try_get::<i64, _>(2)? != 0);
    Ok((login, enc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_tell_fields_apart() {
        assert_ne!(
            encode(&[Some("ab"), Some("c")]),
            encode(&[Some("a"), Some("bc")])
        );
        assert_ne!(encode(&[None]), encode(&[Some("")]));
        assert_ne!(principal("p", "c", "v", 0), principal("p", "c", "v", 1));
        assert_ne!(staff("a", "clerk", false), staff("a", "clerk", true));
    }

    #[test]
    fn a_mac_depends_on_the_key_and_the_kind() {
        let a = Keys::from_master_hex(&"11".repeat(32), "test").unwrap();
        let b = Keys::from_master_hex(&"22".repeat(32), "test").unwrap();
        let enc = staff("kato", "clerk", false);
        let m = mac(&a, STAFF, &enc).unwrap();
        assert!(a.facts_mac_ok(STAFF, &enc, Some(&m)));
        assert!(!b.facts_mac_ok(STAFF, &enc, Some(&m)), "another key");
        assert!(!a.facts_mac_ok(PRINCIPAL, &enc, Some(&m)), "another kind");
        assert!(!a.facts_mac_ok(STAFF, &staff("kato", "manager", false), Some(&m)));
        assert!(!a.facts_mac_ok(STAFF, &enc, None), "NULL never verifies");
    }
}
