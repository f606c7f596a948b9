//! The audit log as people use it: verify it (anyone who holds the data folder), read it (the
//! auditor and the manager: ids and categories, never personal values; seed 003 Arts. 5(3), 19).

use mamori_policy::Action;
use mamori_store::{AuditDraft, AuditEntry, VerifyReport};

use crate::{Actor, Mamori, Result, ServiceError};

impl Mamori {
    /// `mamori audit verify`: exit 1 naming the first bad entry.
    pub async fn audit_verify(&self) -> Result<VerifyReport> {
        self.store.verify_audit().await.map_err(|e| match e {
            mamori_store::StoreError::Tampered(t) => {
                ServiceError::Failed(format!("audit log verification failed: {t}"))
            }
            other => ServiceError::from(other),
        })
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
