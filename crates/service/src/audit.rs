//! The audit log as people use it: verify it (anyone who holds the data folder), read it (the
//! auditor and the manager: ids and categories, never personal values; seed 003 Arts. 5(3), 19).

use mamori_policy::Action;
use mamori_store::audit::SignedHead;
use mamori_store::{AuditDraft, AuditEntry, VerifyReport};

use crate::{Actor, Mamori, Result, ServiceError};

impl Mamori {
    /// `mamori audit verify`: exit 1 naming the first bad entry.
    pub async fn audit_verify(&self) -> Result<VerifyReport> {
        self.audit_verify_against(None).await
    }

    /// `mamori audit verify --head FILE`: also against a head kept outside the data folder.
    pub async fn audit_verify_against(&self, kept: Option<&SignedHead>) -> Result<VerifyReport> {
        self.store.verify_audit_against(kept).await.map_err(failed)
    }

    /// `mamori audit head`: the verified log's signed head, for safekeeping outside the data
    /// folder (issue 20): a later `audit verify --head FILE` detects entries deleted after it
    /// even when an older head file was put back beside the database.
    pub async fn audit_head(&self) -> Result<SignedHead> {
        self.store.signed_audit_head().await.map_err(failed)
    }

    /// A head kept elsewhere, as read from its file (`--head FILE`).
    pub fn parse_kept_head(text: &str) -> Result<SignedHead> {
        serde_json::from_str(text).map_err(|_| {
            ServiceError::BadInput(
                "--head: the file is not a signed head printed by `mamori audit head` (JSON with seq, hash, signature, public_key)".into(),
            )
        })
    }

    /// `mamori audit head --rewrite --as LOGIN`: after the head file was lost, damaged or
    /// replaced, a new one for the log as it verifies entry by entry; recorded on the log with
    /// the problem the old file had, for the auditor (seed 003 Art. 19).
    pub async fn audit_head_rewrite(&self, actor: &Actor) -> Result<Option<String>> {
        self.require(actor, Action::Policy, "audit.head_rewrite")
            .await?;
        let problem = self.store.rewrite_audit_head().await.map_err(failed)?;
        if let Some(p) = &problem {
            self.store
                .audit(vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "audit.head_rewrite".into(),
                    decision: "done".into(),
                    reason: Some(p.clone()),
                    ..Default::default()
                }])
                .await?;
        }
        Ok(problem)
    }

    /// `mamori audit log --as LOGIN [--principal ID]`: the latest entries, oldest first.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        principal: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        self.require(actor, Action::Audit, "audit.read").await?;
        if !(1..=100_000).contains(&limit) {
            return Err(ServiceError::BadInput(
                "--limit: give a number from 1 to 100000".into(),
            ));
        }
        let entries = self.store.audit_entries(principal, limit).await?;
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "audit.read".into(),
                principal_id: principal.map(str::to_string),
                decision: "allow".into(),
                ..Default::default()
            }])
            .await?;
        Ok(entries)
    }
}

fn failed(e: mamori_store::StoreError) -> ServiceError {
    match e {
        mamori_store::StoreError::Tampered(t) => {
            ServiceError::Failed(format!("audit log verification failed: {t}"))
        }
        other => ServiceError::from(other),
    }
}
