//! Policy use cases: check a file, show the policy in effect, render the public notice, diff two
//! versions, and apply a new version with its effective date (seed 000 Art. 10: revisions are
//! published; every version stays readable for the portal's history).

use mamori_policy::notice::{self, Format};
use mamori_policy::{Action, Lang, Policy, diff};
use mamori_store::{AuditDraft, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError};

/// `mamori policy check FILE`: every problem at once, or the parsed policy.
pub fn check(text: &str, file: &str) -> Result<Policy> {
    Policy::parse(text, file).map_err(|e| ServiceError::BadInput(e.to_string()))
}

/// `mamori policy diff OLD NEW`.
pub fn diff_files(old: (&str, &str), new: (&str, &str)) -> Result<Vec<diff::Change>> {
    let a = check(old.0, old.1)?;
    let b = check(new.0, new.1)?;
    Ok(diff::diff(&a, &b))
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub version: String,
    pub effective_on: String,
    pub applied_at: String,
    pub applied_by: String,
    pub in_effect: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub version: String,
    pub effective_on: String,
    pub changes: Vec<diff::Change>,
}

impl Mamori {
    /// The policy in effect, as TOML.
    pub fn policy_show(&self) -> String {
        self.policy().to_toml()
    }

    pub fn policy_notice(&self, lang: Lang, format: Format) -> String {
        notice::render(&self.policy(), lang, format)
    }

    /// Every stored version (the portal's `/privacy/history`).
    pub async fn policy_versions(&self) -> Result<Vec<VersionInfo>> {
        let current = self.policy_version();
        Ok(self
            .store
            .policy_versions()
            .await?
            .into_iter()
            .map(|r| VersionInfo {
                in_effect: r.version == current,
                version: r.version,
                effective_on: r.effective_on,
                applied_at: r.applied_at,
                applied_by: r.applied_by,
            })
            .collect())
    }

    /// `mamori policy apply FILE --effective DATE`. `actor` is `None` for the set-up
    /// administrator at the console, otherwise it needs the `policy` action.
    pub async fn policy_apply(
        &self,
        actor: Option<&Actor>,
        text: &str,
        file: &str,
        effective: &str,
    ) -> Result<Applied> {
        let by = match actor {
            Some(a) => {
                self.require(a, Action::Policy, "policy.apply").await?;
                a.login.clone()
            }
            None => "local-admin".to_string(),
        };
        let new = check(text, file)?;
        let effective_on = mamori_policy::parse_ymd(effective)
            .map_err(|e| ServiceError::BadInput(format!("--effective: {e}")))?
            .to_string();
        // A revision is published before it takes effect (seed 000 Art. 10; APPI 21(3)): it
        // cannot take effect in the past, nor before the version it follows.
        let today = crate::today_jst().to_string();
        if effective_on < today {
            return Err(ServiceError::BadInput(format!(
                "--effective: {effective_on} is in the past: a revised policy takes effect today ({today}) or later"
            )));
        }
        let versions = self.store.policy_versions().await?;
        if let Some(last) = versions.iter().map(|v| v.effective_on.as_str()).max()
            && effective_on.as_str() < last
        {
            return Err(ServiceError::BadInput(format!(
                "--effective: {effective_on} is before {last}, when the latest stored version takes effect"
            )));
        }
        if versions.iter().any(|v| v.version == new.version) {
            return Err(ServiceError::BadInput(format!(
                "version: {file} has version {:?} which is stored already: give the new policy a new version (e.g. its date)",
                new.version
            )));
        }
        // Roles that staff hold must still exist, or they would be locked out mid-shift.
        for s in self.store.staff_list().await? {
            if new.role(&s.role).is_none() {
                return Err(ServiceError::BadInput(format!(
                    "roles: staff member {} has role {} which {file} removes: change their role first",
                    s.login, s.role
                )));
            }
        }
        let changes = diff::diff(&self.policy(), &new);
        self.store
            .write(
                vec![Store::insert_policy_version(&new.version, &effective_on, &by, text)],
                vec![AuditDraft {
                    actor: by.clone(),
                    action: "policy.apply".into(),
                    decision: "done".into(),
                    detail: serde_json::json!({"version": new.version, "effective_on": effective_on, "changes": changes.len()}),
                    ..Default::default()
                }],
            )
            .await?;
        self.reload_policy().await?;
        Ok(Applied {
            version: new.version,
            effective_on,
            changes,
        })
    }
}
