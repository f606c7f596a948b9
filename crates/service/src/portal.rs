//! The public privacy portal's intake: a principal's request (APPI 32-39; seed 000 Art. 9) or
//! complaint (seed 003 Art. 23) sent from `/privacy/request` and `/privacy/complaint`, with no
//! staff member signed in.
//!
//! The portal acts as the built-in actor `portal`, whose role may only take requests and
//! complaints in: it can read nothing back. A portal request is recorded unlinked to any
//! principal (the sender is not yet identified); staff check the identity the way the sender
//! chose and link it (`request_link`) before anything is disclosed (seed 000 Art. 9 para. 2).
//! The contact given is free text sealed with the request's details, never stored in plaintext.

use jiff::Timestamp;
use mamori_policy::{Action, Lang, Role};

use crate::complaint::{self, NewComplaint};
use crate::request::{self, OpenRequest};
use crate::{Actor, Mamori, Result, ServiceError};

/// The actor name the audit log records for portal intake.
pub const PORTAL: &str = "portal";

const MAX_CONTACT: usize = 200;
const MAX_MESSAGE: usize = 2000;

/// A request as the principal fills in the portal form.
#[derive(Debug, Clone, Default)]
pub struct PortalRequest {
    /// A request kind (`disclosure`, `correction`, …).
    pub kind: String,
    /// How to reach the sender: an email address or a phone number, as written.
    pub contact: String,
    /// How the sender's identity will be checked: one of the policy's methods.
    pub identity_method: String,
    /// Anything the sender adds (what to correct, which use to stop).
    pub message: String,
    pub lang: Lang,
}

/// A complaint as the principal fills in the portal form.
#[derive(Debug, Clone, Default)]
pub struct PortalComplaint {
    pub contact: String,
    pub summary: String,
}

fn portal_actor() -> Actor {
    Actor {
        login: PORTAL.into(),
        role: Role {
            id: PORTAL.into(),
            ja: "プライバシーポータル".into(),
            en: "Privacy portal".into(),
            purposes: Vec::new(),
            actions: vec![Action::Requests, Action::Complaints],
        },
    }
}

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(m.into())
}

fn one_line(field: &str, text: &str, max: usize) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(bad(format!("{field}: is required")));
    }
    if t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(bad(format!(
            "{field}: use one line of up to {max} characters"
        )));
    }
    Ok(t.to_string())
}

impl Mamori {
    /// A request sent from the portal: recorded with channel `portal`, actor `portal`, no
    /// principal; answered by the policy's answer-by date (APPI 32-35, "遅滞なく").
    pub async fn portal_request(&self, req: PortalRequest) -> Result<request::Opened> {
        let policy = self.policy();
        let method = req.identity_method.trim();
        if !policy
            .requests
            .identity_methods
            .iter()
            .any(|m| m.as_str() == method)
        {
            return Err(bad(
                "identity_method: choose one of the ways of checking your identity listed",
            ));
        }
        let contact = one_line("contact", &req.contact, MAX_CONTACT)?;
        let message = req.message.trim();
        if message.chars().count() > MAX_MESSAGE {
            return Err(bad(format!("message: use up to {MAX_MESSAGE} characters")));
        }
        let mut details = format!("contact: {contact}\nidentity_method: {method}");
        if !message.is_empty() {
            details.push_str("\nmessage: ");
            details.push_str(message);
        }
        self.request_open(
            &portal_actor(),
            OpenRequest {
                principal_id: None,
                kind: req.kind.trim().to_string(),
                received_at: mamori_calendar::format_jst(Timestamp::now()),
                channel: Some("portal".into()),
                purpose: None,
                details: Some(details),
                lang: Some(req.lang),
            },
        )
        .await
        .map_err(|e| match e {
            ServiceError::BadInput(m) => ServiceError::BadInput(
                m.strip_prefix("--")
                    .map_or(m.clone(), |r| r.replace("details:", "message:")),
            ),
            other => other,
        })
    }

    /// A complaint sent from the portal: it may arrive at any time and counts from the desk's
    /// next opening when the desk is closed (seed 003 Art. 23(3)).
    pub async fn portal_complaint(
        &self,
        c: PortalComplaint,
        now: Option<Timestamp>,
    ) -> Result<complaint::Opened> {
        let contact = one_line("contact", &c.contact, MAX_CONTACT)?;
        if c.summary.trim().is_empty() {
            return Err(bad(
                "summary: is required: write what the complaint is about",
            ));
        }
        let now = now.unwrap_or_else(Timestamp::now);
        self.complaint_open(
            &portal_actor(),
            NewComplaint {
                received_at: mamori_calendar::format_jst(now),
                summary: format!("contact: {contact}\n\n{}", c.summary.trim()),
                principal: None,
                channel: Some("portal".into()),
            },
            Some(now),
        )
        .await
        .map_err(|e| match e {
            ServiceError::BadInput(m) => {
                ServiceError::BadInput(m.strip_prefix("--").map_or(m.clone(), str::to_string))
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    async fn fresh() -> (tempfile::TempDir, Mamori, Actor) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config {
            data_dir: dir.path().join("d"),
            database_url: None,
        };
        let (m, _) = Mamori::init(
            &cfg,
            mamori_policy::preset("chiba-ia").unwrap(),
            "chiba-ia",
            None,
            None,
        )
        .await
        .unwrap();
        m.staff_add(None, "sato", "clerk", None, "correct horse battery")
            .await
            .unwrap();
        let clerk = m.actor("sato").await.unwrap();
        (dir, m, clerk)
    }

    #[tokio::test]
    async fn a_portal_request_is_recorded_unlinked_with_the_contact_sealed() {
        let (_d, m, clerk) = fresh().await;
        let o = m
            .portal_request(PortalRequest {
                kind: "disclosure".into(),
                contact: "hoa@example.com".into(),
                identity_method: "email_code".into(),
                message: String::new(),
                lang: Lang::En,
            })
            .await
            .unwrap();
        assert_eq!(o.status, "open");
        let shown = m.request_show(&clerk, &o.id).await.unwrap();
        assert_eq!(shown["channel"], "portal");
        assert!(shown["principal_id"].is_null());
        assert!(
            shown["details"]
                .as_str()
                .unwrap()
                .contains("hoa@example.com")
        );
        let log = m.store().audit_entries(None, 50).await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.actor == PORTAL && e.action == "request.open")
        );
        assert!(log.iter().all(|e| !e.detail.contains("hoa@example.com")));
    }

    #[tokio::test]
    async fn the_portal_refuses_an_unknown_identity_check_and_an_empty_contact() {
        let (_d, m, _) = fresh().await;
        let mut r = PortalRequest {
            kind: "disclosure".into(),
            contact: "090-1111-2222".into(),
            identity_method: "telepathy".into(),
            ..Default::default()
        };
        let e = m.portal_request(r.clone()).await.unwrap_err().to_string();
        assert!(e.starts_with("identity_method:"), "{e}");
        r.identity_method = "mailed_code".into();
        r.contact = "  ".into();
        let e = m.portal_request(r.clone()).await.unwrap_err().to_string();
        assert!(e.starts_with("contact:"), "{e}");
        r.contact = "090-1111-2222".into();
        r.kind = "everything".into();
        let e = m.portal_request(r).await.unwrap_err().to_string();
        assert!(e.starts_with("kind:"), "{e}");
    }

    #[tokio::test]
    async fn a_portal_complaint_on_a_sunday_counts_from_monday_morning() {
        let (_d, m, clerk) = fresh().await;
        // 2026-06-07 is a Sunday: the desk (Mon-Fri 09:00-17:00) is closed.
        let now: Timestamp = "2026-06-07T11:00:00+09:00".parse().unwrap();
        let o = m
            .portal_complaint(
                PortalComplaint {
                    contact: "hoa@example.com".into(),
                    summary: "My data was shown to another member.".into(),
                },
                Some(now),
            )
            .await
            .unwrap();
        assert!(!o.window_open);
        assert_eq!(o.counted_from, "2026-06-08T09:00:00+09:00");
        let list = m.complaint_list(&clerk, false, Some(now)).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].opened_by, PORTAL);
        assert_eq!(list[0].channel.as_deref(), Some("portal"));
    }
}
