//! Principals' requests end to end (APPI 32-39; seed 000 Art. 9; seed 003 Arts. 5, 21):
//! intake, identity verification, fulfilment or refusal, notices to the principal, and the
//! overdue list. The rules are `mamori_domain::request`; erasure is crypto-shredding.
//!
//! Free texts (what the principal asked, a refusal's reason) may hold personal information: they
//! are sealed under the request's own data key in the key store, never stored in plaintext.

use std::collections::BTreeMap;

use mamori_domain::request::{self as rules, RefusalGround, Status};
use mamori_policy::notice::escape_html;
use mamori_policy::{Action, Lang, Policy, RequestKind};
use mamori_store::crypto::{field_aad, open_with, random_hex, seal_with};
use mamori_store::{AuditDraft, DisposalRow, NewRequest, PrincipalRow, RequestRow, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError, today_jst};

/// How a request reached the office.
pub const INTAKE_CHANNELS: [&str; 5] = ["counter", "mail", "email", "phone", "portal"];

#[derive(Debug, Clone, Default)]
pub struct OpenRequest {
    pub principal_id: Option<String>,
    pub kind: String,
    /// RFC 3339; a time without an offset is Japan time.
    pub received_at: String,
    pub channel: Option<String>,
    /// For a suspension: the purpose to suspend (all uses when absent).
    pub purpose: Option<String>,
    /// What the principal asked, in their words (sealed).
    pub details: Option<String>,
    pub lang: Option<Lang>,
}

/// DESIGN.md: `request open` → `{"id", "answer_by"}`.
#[derive(Debug, Clone, Serialize)]
pub struct Opened {
    pub id: String,
    pub answer_by: String,
    pub kind: String,
    pub status: &'static str,
    /// The fee the policy sets for this kind (APPI 38); 0 = free.
    pub fee_yen: i64,
}

/// DESIGN.md: `request list` → `[{"id", "kind", "status", "answer_by", ...}]`.
#[derive(Debug, Clone, Serialize)]
pub struct RequestInfo {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub answer_by: String,
    pub overdue: bool,
    pub principal_id: Option<String>,
    pub received_at: String,
    pub channel: String,
    pub purpose: Option<String>,
    pub fee_yen: i64,
    pub verified_at: Option<String>,
    pub verify_method: Option<String>,
    pub closed_at: Option<String>,
    pub ground: Option<String>,
    pub result: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fulfilled {
    pub id: String,
    pub kind: String,
    pub status: &'static str,
    /// What was done, in a line (no values).
    pub result: String,
    /// Files written with `--out DIR`.
    pub files: Vec<String>,
    /// The disclosure package or purpose notice as JSON (disclosure, purpose-notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<serde_json::Value>,
    #[serde(skip)]
    pub html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposal: Option<DisposalRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub id: String,
    pub ground: String,
    pub status: &'static str,
    #[serde(skip)]
    pub notice_html: String,
    pub files: Vec<String>,
}

fn info(r: &RequestRow, today: jiff::civil::Date) -> RequestInfo {
    let status = Status::parse(&r.status).unwrap_or(Status::Open);
    let overdue = r
        .answer_by
        .parse::<jiff::civil::Date>()
        .is_ok_and(|d| rules::is_overdue(status, d, today));
    RequestInfo {
        id: r.id.clone(),
        kind: r.kind.clone(),
        status: r.status.clone(),
        answer_by: r.answer_by.clone(),
        overdue,
        principal_id: r.principal_id.clone(),
        received_at: r.received_at.clone(),
        channel: r.channel.clone(),
        purpose: r.purpose.clone(),
        fee_yen: r.fee_yen,
        verified_at: r.verified_at.clone(),
        verify_method: r.verify_method.clone(),
        closed_at: r.closed_at.clone(),
        ground: r.ground.clone(),
        result: r.result.clone(),
    }
}

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(m.into())
}

fn ja(lang: Lang) -> bool {
    lang == Lang::Ja
}

fn check_text(field: &str, text: &str, max: usize) -> Result<()> {
    if text.trim().is_empty() {
        return Err(bad(format!("{field}: is empty: write it out")));
    }
    if text.chars().count() > max
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(bad(format!(
            "{field}: use up to {max} characters without control characters"
        )));
    }
    if mamori_domain::values::contains_card_number(text) {
        return Err(bad(format!(
            "{field}: looks like it holds a payment card number: card numbers are never stored (seed 000 Art. 7-1)"
        )));
    }
    Ok(())
}

impl Mamori {
    async fn request_row(&self, id: &str) -> Result<RequestRow> {
        self.store.request(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "ID: there is no request {id}: `request list --as LOGIN` shows them"
            ))
        })
    }

    fn seal_for_request(
        &self,
        key: &mamori_store::Key32,
        request_id: &str,
        what: &str,
        text: &str,
    ) -> Result<Vec<u8>> {
        Ok(seal_with(
            key,
            text.as_bytes(),
            &field_aad(request_id, what, "request"),
        )?)
    }

    pub(crate) async fn open_for_request(
        &self,
        request_id: &str,
        what: &str,
        ct: &[u8],
    ) -> Result<String> {
        let key = self.store.data_key(request_id).await?;
        let plain = open_with(&key, ct, &field_aad(request_id, what, "request")).map_err(|_| {
            ServiceError::Failed(format!(
                "the {what} of request {request_id} does not decrypt"
            ))
        })?;
        String::from_utf8(plain).map_err(|_| {
            ServiceError::Failed(format!("the {what} of request {request_id} is not text"))
        })
    }

    /// `mamori request open --principal ID --kind KIND --received-at TIME`.
    pub async fn request_open(&self, actor: &Actor, req: OpenRequest) -> Result<Opened> {
        self.require(actor, Action::Requests, "request.open")
            .await?;
        let kind = rules::parse_kind(&req.kind).map_err(|e| bad(format!("--kind: {e}")))?;
        let received = crate::complaint::parse_time_arg(&req.received_at, "--received-at")?;
        if received > jiff::Timestamp::now() + jiff::SignedDuration::from_mins(10) {
            return Err(bad(
                "--received-at: is in the future: give when the request reached the office",
            ));
        }
        let channel = req.channel.clone().unwrap_or_else(|| "counter".into());
        if !INTAKE_CHANNELS.contains(&channel.as_str()) {
            return Err(bad(format!(
                "--channel: {channel:?} is not an intake channel: use {}",
                INTAKE_CHANNELS.join(", ")
            )));
        }
        let policy = self.policy();
        if let Some(p) = &req.principal_id
            && self.store.principal(p).await?.is_none()
        {
            return Err(ServiceError::NotFound(format!(
                "--principal: there is no {}",
                crate::principal_ref(p)
            )));
        }
        if let Some(p) = &req.purpose {
            if kind != RequestKind::Suspension {
                return Err(bad("--purpose: only a suspension names a purpose"));
            }
            if policy.purpose(p).is_none() {
                return Err(bad(format!(
                    "--purpose: is not a purpose of this policy: use one of {}",
                    Policy::ids(&policy.purposes, |x| x.id.as_str())
                )));
            }
        }
        if let Some(d) = &req.details {
            check_text("--details", d, 4000)?;
        }
        let window = self.complaint_window()?;
        let received_on = received.to_zoned(mamori_calendar::japan_tz()).date();
        let answer_by = rules::answer_by(received_on, policy.requests.answer_within_days, |d| {
            window.is_business_day(d)
        });
        let fee = policy
            .requests
            .fees
            .iter()
            .find(|f| f.kind == kind)
            .map_or(0, |f| i64::from(f.yen));
        let id = format!("r_{}", random_hex(8));
        let (key, wrapped) = self.store.keys().new_data_key(&id)?;
        self.store.put_data_key(&id, &wrapped).await?;
        let details_ct = req
            .details
            .as_deref()
            .map(|d| self.seal_for_request(&key, &id, "details", d))
            .transpose()?;
        let lang = req.lang.unwrap_or_default();
        let received_s = mamori_calendar::format_jst(received);
        let answer_s = answer_by.to_string();
        self.store
            .write(
                vec![Store::insert_request(NewRequest {
                    id: &id,
                    principal_id: req.principal_id.as_deref(),
                    kind: kind.as_str(),
                    received_at: &received_s,
                    answer_by: &answer_s,
                    channel: &channel,
                    purpose: req.purpose.as_deref(),
                    details_ct,
                    fee_yen: fee,
                    lang: if ja(lang) { "ja" } else { "en" },
                    opened_by: &actor.login,
                })],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "request.open".into(),
                    principal_id: req.principal_id.clone(),
                    purpose: req.purpose.clone(),
                    decision: "done".into(),
                    detail: serde_json::json!({"request_id": id, "kind": kind.as_str(), "answer_by": answer_s, "channel": channel}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(Opened {
            id,
            answer_by: answer_s,
            kind: kind.as_str().into(),
            status: "open",
            fee_yen: fee,
        })
    }

    /// `mamori request link ID --principal P`: a request taken in without a known principal
    /// (the portal) is linked once staff know who it is.
    pub async fn request_link(
        &self,
        actor: &Actor,
        id: &str,
        principal_id: &str,
    ) -> Result<RequestInfo> {
        self.require(actor, Action::Requests, "request.link")
            .await?;
        let r = self.request_row(id).await?;
        if r.principal_id.is_some() {
            return Err(bad(format!(
                "ID: request {id} is linked to a principal already"
            )));
        }
        if self.store.principal(principal_id).await?.is_none() {
            return Err(ServiceError::NotFound(format!(
                "--principal: there is no {}",
                crate::principal_ref(principal_id)
            )));
        }
        self.store
            .write(
                vec![Store::link_request(id, principal_id)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "request.link".into(),
                    principal_id: Some(principal_id.into()),
                    decision: "done".into(),
                    detail: serde_json::json!({"request_id": id}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(info(&self.request_row(id).await?, today_jst()))
    }

    /// `mamori request verify ID --method METHOD --evidence TEXT` (seed 000 Art. 9 para. 2):
    /// the evidence (the document seen and at most its number's last four digits, or the code
    /// the principal entered) is recorded sealed under the request's key; the fulfilment rests
    /// on it and the manager's review shows it (issue 20).
    pub async fn request_verify(
        &self,
        actor: &Actor,
        id: &str,
        method: &str,
        evidence: Option<&str>,
    ) -> Result<RequestInfo> {
        self.require(actor, Action::Requests, "request.verify")
            .await?;
        let policy = self.policy();
        if !policy
            .requests
            .identity_methods
            .iter()
            .any(|m| m.as_str() == method)
        {
            return Err(bad(format!(
                "--method: {method:?} is not an identity check of this policy: use {}",
                policy
                    .requests
                    .identity_methods
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let evidence = evidence.unwrap_or("").trim();
        rules::check_identity_evidence(method, evidence)
            .map_err(|e| bad(format!("--evidence: {e}")))?;
        let r = self.request_row(id).await?;
        let status = Status::parse(&r.status).unwrap_or(Status::Open);
        rules::may_verify(status, r.principal_id.is_some(), r.evidence_ct.is_some())
            .map_err(|e| bad(format!("ID: {e}")))?;
        let key = self.store.data_key(id).await?;
        let evidence_ct = self.seal_for_request(&key, id, "evidence", evidence)?;
        self.store
            .write(
                vec![Store::verify_request(id, &actor.login, method, evidence_ct)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "request.verify".into(),
                    principal_id: r.principal_id.clone(),
                    decision: "done".into(),
                    detail: serde_json::json!({"request_id": id, "method": method}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(info(&self.request_row(id).await?, today_jst()))
    }

    /// `mamori request list [--overdue]`.
    pub async fn request_list(
        &self,
        actor: &Actor,
        overdue_only: bool,
        today: Option<jiff::civil::Date>,
    ) -> Result<Vec<RequestInfo>> {
        self.require(actor, Action::Requests, "request.list")
            .await?;
        let today = today.unwrap_or_else(today_jst);
        let list: Vec<RequestInfo> = self
            .store
            .requests()
            .await?
            .iter()
            .map(|r| info(r, today))
            .filter(|r| !overdue_only || r.overdue)
            .collect();
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "request.list".into(),
                decision: "allow".into(),
                ..Default::default()
            }])
            .await?;
        Ok(list)
    }

    /// `mamori request show ID`: the request with its details (sealed text opened for staff who
    /// handle requests).
    pub async fn request_show(&self, actor: &Actor, id: &str) -> Result<serde_json::Value> {
        self.require(actor, Action::Requests, "request.show")
            .await?;
        let r = self.request_row(id).await?;
        let details = match &r.details_ct {
            Some(ct) => Some(self.open_for_request(id, "details", ct).await?),
            None => None,
        };
        let reason = match &r.reason_ct {
            Some(ct) => Some(self.open_for_request(id, "reason", ct).await?),
            None => None,
        };
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "request.show".into(),
                principal_id: r.principal_id.clone(),
                decision: "allow".into(),
                detail: serde_json::json!({"request_id": id}),
                ..Default::default()
            }])
            .await?;
        let mut v = serde_json::to_value(info(&r, today_jst()))
            .map_err(|e| ServiceError::Failed(e.to_string()))?;
        if let Some(o) = v.as_object_mut() {
            o.insert("details".into(), details.into());
            o.insert("reason".into(), reason.into());
            o.insert("lang".into(), r.lang.clone().into());
        }
        Ok(v)
    }

    /// `mamori request refuse ID --ground GROUND --reason TEXT`: a reason is mandatory and a
    /// notice to the principal is produced (APPI 36; seed 000 Art. 9 para. 4).
    pub async fn request_refuse(
        &self,
        actor: &Actor,
        id: &str,
        ground: &str,
        reason: &str,
        out: Option<&std::path::Path>,
    ) -> Result<Refused> {
        self.require(actor, Action::Requests, "request.refuse")
            .await?;
        let ground: RefusalGround = ground.parse().map_err(|e| bad(format!("--ground: {e}")))?;
        check_text("--reason", reason, 2000)?;
        let r = self.request_row(id).await?;
        let status = Status::parse(&r.status).unwrap_or(Status::Open);
        rules::may_refuse(status).map_err(|e| bad(format!("ID: {e}")))?;
        let key = self.store.data_key(id).await?;
        let ct = self.seal_for_request(&key, id, "reason", reason)?;
        self.store
            .write(
                vec![Store::refuse_request(id, &actor.login, ground.as_str(), ct)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "request.refuse".into(),
                    principal_id: r.principal_id.clone(),
                    decision: "done".into(),
                    detail: serde_json::json!({"request_id": id, "ground": ground.as_str()}),
                    ..Default::default()
                }],
            )
            .await?;
        let r = self.request_row(id).await?;
        let html = self.request_letter(&r, Some(reason)).await?;
        let files = write_files(out, id, &[("refusal.html", html.as_bytes())])?;
        Ok(Refused {
            id: id.into(),
            ground: ground.as_str().into(),
            status: "refused",
            notice_html: html,
            files,
        })
    }

    /// `mamori request notice ID [--lang]`: the letter for where the request stands:
    /// acknowledgement (open, verified), result (fulfilled), refusal (refused).
    pub async fn request_notice(
        &self,
        actor: &Actor,
        id: &str,
        lang: Option<Lang>,
    ) -> Result<String> {
        self.require(actor, Action::Requests, "request.notice")
            .await?;
        let mut r = self.request_row(id).await?;
        if let Some(l) = lang {
            r.lang = if ja(l) { "ja".into() } else { "en".into() };
        }
        let reason = match &r.reason_ct {
            Some(ct) => Some(self.open_for_request(id, "reason", ct).await?),
            None => None,
        };
        self.request_letter(&r, reason.as_deref()).await
    }

    async fn request_letter(&self, r: &RequestRow, reason: Option<&str>) -> Result<String> {
        let policy = self.policy();
        let lang = if r.lang == "en" { Lang::En } else { Lang::Ja };
        let j = ja(lang);
        let kind = rules::parse_kind(&r.kind).map_err(ServiceError::Failed)?;
        let status = Status::parse(&r.status).unwrap_or(Status::Open);
        let org = &policy.organization;
        let (title, body) = match status {
            Status::Open | Status::Verified => (
                if j {
                    "ご請求の受付について"
                } else {
                    "We have received your request"
                },
                if j {
                    format!(
                        "{}のご請求を{}に受け付けました。ご本人であることを確認のうえ、{}までにお答えします。{}",
                        rules::kind_text(kind, true),
                        r.received_at.get(..10).unwrap_or(""),
                        r.answer_by,
                        if r.fee_yen > 0 {
                            format!("手数料は{}円です。", r.fee_yen)
                        } else {
                            String::new()
                        }
                    )
                } else {
                    format!(
                        "We received your request for {} on {}. After confirming that it comes from you, we will answer by {}.{}",
                        rules::kind_text(kind, false),
                        r.received_at.get(..10).unwrap_or(""),
                        r.answer_by,
                        if r.fee_yen > 0 {
                            format!(" The fee is {} yen.", r.fee_yen)
                        } else {
                            String::new()
                        }
                    )
                },
            ),
            Status::Fulfilled => (
                if j {
                    "ご請求への対応結果について"
                } else {
                    "The result of your request"
                },
                if j {
                    format!(
                        "{}のご請求({}受付)について、次のとおり対応しました。{}",
                        rules::kind_text(kind, true),
                        r.received_at.get(..10).unwrap_or(""),
                        result_text(kind, true)
                    )
                } else {
                    format!(
                        "About your request for {} received on {}: {}",
                        rules::kind_text(kind, false),
                        r.received_at.get(..10).unwrap_or(""),
                        result_text(kind, false)
                    )
                },
            ),
            Status::Refused => {
                let ground = r
                    .ground
                    .as_deref()
                    .and_then(|g| g.parse::<RefusalGround>().ok());
                (
                    if j {
                        "ご請求に応じられない旨のお知らせ"
                    } else {
                        "We cannot meet your request"
                    },
                    if j {
                        format!(
                            "{}のご請求({}受付)について、{}、ご請求に応じることができません。理由: {}",
                            rules::kind_text(kind, true),
                            r.received_at.get(..10).unwrap_or(""),
                            ground.map_or("", |g| g.text(true)),
                            reason.unwrap_or("")
                        )
                    } else {
                        format!(
                            "About your request for {} received on {}: we cannot meet it. {}. Reason: {}",
                            rules::kind_text(kind, false),
                            r.received_at.get(..10).unwrap_or(""),
                            ground.map_or("", |g| g.text(false)),
                            reason.unwrap_or("")
                        )
                    },
                )
            }
        };
        let contact = format!(
            "{} — {} {}",
            org.contact_window.get(lang),
            if j { "電話" } else { "Tel." },
            org.phone
        );
        Ok(letter_html(
            lang,
            title,
            org.name.get(lang),
            &r.id,
            &today_jst().to_string(),
            &body,
            &contact,
        ))
    }

    /// `mamori request fulfil ID [--out DIR]`: only after verification. Disclosure and purpose
    /// notices are packages (JSON and a printable HTML) in the principal's language; correction
    /// applies `fields`; suspension, erasure and provision stop take effect at once.
    pub async fn request_fulfil(
        &self,
        actor: &Actor,
        id: &str,
        fields: &[(String, String)],
        out: Option<&std::path::Path>,
    ) -> Result<Fulfilled> {
        self.require(actor, Action::Requests, "request.fulfil")
            .await?;
        let r = self.request_row(id).await?;
        let status = Status::parse(&r.status).unwrap_or(Status::Open);
        rules::may_fulfil(status, r.principal_id.is_some(), r.evidence_ct.is_some())
            .map_err(|e| bad(format!("ID: {e}")))?;
        let kind = rules::parse_kind(&r.kind).map_err(ServiceError::Failed)?;
        let pid = r.principal_id.clone().unwrap_or_default();
        let principal = match self.store.principal(&pid).await? {
            Some(p) if p.status == "active" => p,
            Some(_) => {
                return Err(bad(format!(
                    "ID: principal {pid} was erased already: refuse the request with --ground already-erased"
                )));
            }
            None => {
                return Err(ServiceError::NotFound(format!(
                    "there is no {}",
                    crate::principal_ref(&pid)
                )));
            }
        };
        if kind != RequestKind::Correction && !fields.is_empty() {
            return Err(bad(
                "fields: CATEGORY=VALUE goes only with a correction request",
            ));
        }
        let lang = if r.lang == "en" { Lang::En } else { Lang::Ja };
        let mut out_files = Vec::new();
        let mut package = None;
        let mut html = None;
        let mut disposal = None;
        let audit_detail = serde_json::json!({"request_id": id, "kind": kind.as_str()});
        let result: String = match kind {
            RequestKind::Disclosure | RequestKind::PurposeNotice => {
                let (json, page, categories) = self
                    .disclosure_package(&principal, lang, kind == RequestKind::Disclosure, id)
                    .await?;
                // The reveal is audited durably with the status change before anything leaves.
                self.store
                    .write(
                        vec![
                            Store::fulfil_request(id, &actor.login, kind.as_str()),
                            review_stmt(actor, id, &pid, kind),
                        ],
                        vec![AuditDraft {
                            actor: actor.login.clone(),
                            action: "request.fulfil".into(),
                            principal_id: Some(pid.clone()),
                            basis: Some(rules::kind_article(kind).into()),
                            categories,
                            decision: "allow".into(),
                            detail: audit_detail.clone(),
                            ..Default::default()
                        }],
                    )
                    .await?;
                let text = serde_json::to_string_pretty(&json)
                    .map_err(|e| ServiceError::Failed(e.to_string()))?;
                let stem = if kind == RequestKind::Disclosure {
                    "disclosure"
                } else {
                    "purposes"
                };
                out_files = write_files(
                    out,
                    id,
                    &[
                        (&format!("{stem}.json"), text.as_bytes()),
                        (&format!("{stem}.html"), page.as_bytes()),
                    ],
                )?;
                package = Some(json);
                html = Some(page);
                if kind == RequestKind::Disclosure {
                    "disclosed".into()
                } else {
                    "purposes notified".into()
                }
            }
            RequestKind::Correction => {
                if fields.is_empty() {
                    return Err(bad(
                        "fields: give the corrected values as CATEGORY=VALUE (APPI 34)",
                    ));
                }
                let corrected = self
                    .apply_correction(&actor.login, &pid, fields, Some(id))
                    .await?;
                self.finish_request(
                    actor,
                    id,
                    &pid,
                    kind,
                    &format!("corrected {}", corrected.join(",")),
                    vec![],
                )
                .await?;
                format!("corrected {}", corrected.join(", "))
            }
            RequestKind::Suspension => {
                let principal = self
                    .store
                    .principal(&pid)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("no principal {pid}")))?;
                let stmts = Store::insert_suspension(
                    self.store.keys(),
                    &random_hex(8),
                    &principal,
                    r.purpose.as_deref(),
                    Some(id),
                );
                let what = match &r.purpose {
                    Some(p) => format!("use for {p} suspended"),
                    None => "every use suspended".to_string(),
                };
                self.finish_request(actor, id, &pid, kind, &what, stmts)
                    .await?;
                what
            }
            RequestKind::ProvisionStop => {
                let stmt = Store::insert_provision_stop(&random_hex(8), &pid, Some(id));
                self.finish_request(
                    actor,
                    id,
                    &pid,
                    kind,
                    "provision to third parties stopped",
                    vec![stmt],
                )
                .await?;
                "provision to third parties stopped".into()
            }
            RequestKind::Erasure => {
                // The erasure and the request's fulfilment are one commit: a crash leaves either
                // both or neither (issue 14), never an erased principal with an open request.
                let (stmts, audit) = fulfil_parts(actor, id, &pid, kind, "erased");
                let d = self
                    .erase_with(
                        &actor.login,
                        &pid,
                        "request:erasure (APPI 35)",
                        Some(id),
                        (stmts, vec![audit]),
                    )
                    .await?;
                self.store.shred_key_log().await;
                let line = format!("erased {} fields; data key destroyed", d.fields);
                disposal = Some(d);
                line
            }
        };
        Ok(Fulfilled {
            id: id.into(),
            kind: kind.as_str().into(),
            status: "fulfilled",
            result,
            files: out_files,
            package,
            html,
            disposal,
        })
    }

    async fn finish_request(
        &self,
        actor: &Actor,
        id: &str,
        pid: &str,
        kind: RequestKind,
        result: &str,
        mut stmts: Vec<mamori_store::Stmt>,
    ) -> Result<()> {
        let (done, audit) = fulfil_parts(actor, id, pid, kind, result);
        stmts.extend(done);
        self.store.write(stmts, vec![audit]).await?;
        Ok(())
    }

    /// Erase a principal (crypto-shredding): the sealed values and blind indexes are deleted and
    /// a disposal record kept in one commit with its audit entry, then the data key is destroyed,
    /// so every copy of the ciphertext, backups included, is unreadable (seed 000 Art. 8-4:
    /// 復元が不可能な方法). Rerunning it after a crash finishes the job.
    pub async fn erase_principal(
        &self,
        by: &str,
        principal_id: &str,
        rule: &str,
        request_id: Option<&str>,
    ) -> Result<DisposalRow> {
        self.erase_with(by, principal_id, rule, request_id, (vec![], vec![]))
            .await
    }

    /// `erase_principal`, with more statements and audit entries in the same commit.
    async fn erase_with(
        &self,
        by: &str,
        principal_id: &str,
        rule: &str,
        request_id: Option<&str>,
        (then, then_audit): (Vec<mamori_store::Stmt>, Vec<AuditDraft>),
    ) -> Result<DisposalRow> {
        let p = self.store.principal(principal_id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!("there is no principal {principal_id}"))
        })?;
        if p.status != "active" {
            // Already erased: make sure the key is gone too (a crash between the two steps).
            self.store.destroy_data_key(principal_id).await?;
            return self
                .store
                .disposals(Some(principal_id))
                .await?
                .pop()
                .ok_or_else(|| {
                    ServiceError::Failed(format!(
                        "principal {principal_id} is erased but has no disposal record"
                    ))
                });
        }
        let fields = self.store.fields(principal_id).await?;
        let disposal = DisposalRow {
            disposal_id: format!("d_{}", random_hex(8)),
            principal_id: principal_id.into(),
            categories: fields.iter().map(|f| f.category.clone()).collect(),
            fields: fields.len() as i64,
            at: mamori_store::now_string(),
            rule: rule.into(),
            request_id: request_id.map(str::to_string),
            by: by.into(),
        };
        let (shred, rekeyed, shredded) = self.shred_linked_texts(principal_id).await?;
        let mut stmts = Store::erase_statements(principal_id, &disposal);
        stmts.push(Store::destroy_key_statement(principal_id));
        stmts.extend(shred);
        stmts.extend(then);
        let mut audit = vec![AuditDraft {
            actor: by.into(),
            action: "principal.erase".into(),
            principal_id: Some(principal_id.into()),
            categories: disposal.categories.clone(),
            decision: "done".into(),
            detail: serde_json::json!({"disposal_id": disposal.disposal_id, "rule": rule, "request_id": request_id, "texts_shredded": shredded}),
            ..Default::default()
        }];
        audit.extend(then_audit);
        self.store.keys().forget(principal_id);
        self.store.write(stmts, audit).await?;
        self.store.keys().forget(principal_id);
        for id in &rekeyed {
            self.store.keys().forget(id);
        }
        Ok(disposal)
    }

    /// The free texts of the records linked to a principal — the requests they made, the
    /// complaints about them, the incidents that affected them — go with them (issue 20;
    /// seed 000 Art. 8-4): each record gets a new data key (the old one, which every earlier
    /// copy of its texts needs, is destroyed) and each text becomes a dated stub sealed under
    /// the new key. A request's identity evidence (a document's name and last digits, or a
    /// code) is not a text about the person and is resealed as it is, so the manager's review
    /// still shows what a fulfilment rested on. Returns the statements, the records re-keyed
    /// and the counts for the erasure's audit entry (ids and counts only).
    async fn shred_linked_texts(
        &self,
        principal_id: &str,
    ) -> Result<(Vec<mamori_store::Stmt>, Vec<String>, serde_json::Value)> {
        use mamori_store::StubbedText as T;
        let linked = self.store.linked_records(principal_id).await?;
        let today = today_jst().to_string();
        let stub = format!("{today} 本人の消去とともに消去 / erased on {today} with the principal");
        let mut stmts = Vec::new();
        let mut rekeyed = Vec::new();
        let mut texts = 0u64;
        let seal = |key: &mamori_store::Key32, id: &str, record: &str, what: &str, text: &str| {
            seal_with(key, text.as_bytes(), &field_aad(id, record, what))
                .map_err(ServiceError::from)
        };
        for rid in &linked.requests {
            let Some(r) = self.store.request(rid).await? else {
                continue;
            };
            if !self.store.has_data_key(rid).await? {
                continue;
            }
            let evidence = match &r.evidence_ct {
                Some(ct) => self.open_for_request(rid, "evidence", ct).await.ok(),
                None => None,
            };
            let (key, wrapped) = self.store.keys().new_data_key(rid)?;
            stmts.push(Store::rekey_statement(rid, &wrapped));
            if r.details_ct.is_some() {
                stmts.push(Store::stub_text(
                    T::RequestDetails,
                    rid,
                    seal(&key, rid, "details", "request", &stub)?,
                ));
                texts += 1;
            }
            if r.reason_ct.is_some() {
                stmts.push(Store::stub_text(
                    T::RequestReason,
                    rid,
                    seal(&key, rid, "reason", "request", &stub)?,
                ));
                texts += 1;
            }
            if r.evidence_ct.is_some() {
                let kept = evidence.unwrap_or_else(|| stub.clone());
                stmts.push(Store::stub_text(
                    T::RequestEvidence,
                    rid,
                    seal(&key, rid, "evidence", "request", &kept)?,
                ));
            }
            rekeyed.push(rid.clone());
        }
        for (cid, notes) in &linked.complaints {
            if !self.store.has_data_key(cid).await? {
                continue;
            }
            let (key, wrapped) = self.store.keys().new_data_key(cid)?;
            stmts.push(Store::rekey_statement(cid, &wrapped));
            stmts.push(Store::stub_text(
                T::ComplaintSummary,
                cid,
                seal(&key, cid, cid, "complaint_summary", &stub)?,
            ));
            stmts.push(Store::stub_text(
                T::ComplaintResult,
                cid,
                seal(&key, cid, cid, "complaint_result", &stub)?,
            ));
            for n in notes {
                stmts.push(Store::stub_text(
                    T::ComplaintNote,
                    n,
                    seal(&key, cid, n, "complaint_note", &stub)?,
                ));
            }
            texts += 1 + notes.len() as u64;
            rekeyed.push(cid.clone());
        }
        for (iid, steps, notices) in &linked.incidents {
            if !self.store.has_data_key(iid).await? {
                continue;
            }
            let (key, wrapped) = self.store.keys().new_data_key(iid)?;
            stmts.push(Store::rekey_statement(iid, &wrapped));
            stmts.push(Store::stub_text(
                T::IncidentDescription,
                iid,
                seal(&key, iid, iid, "incident_description", &stub)?,
            ));
            for st in steps {
                stmts.push(Store::stub_text(
                    T::IncidentStep,
                    st,
                    seal(&key, iid, st, "incident_step", &stub)?,
                ));
            }
            for n in notices {
                stmts.push(Store::stub_text(
                    T::IncidentNotice,
                    n,
                    seal(&key, iid, n, "incident_notice", &stub)?,
                ));
            }
            texts += 1 + (steps.len() + notices.len()) as u64;
            rekeyed.push(iid.clone());
        }
        let counts = serde_json::json!({
            "requests": linked.requests.len(),
            "complaints": linked.complaints.len(),
            "incidents": linked.incidents.len(),
            "texts": texts,
        });
        Ok((stmts, rekeyed, counts))
    }

    /// The disclosure package (APPI 33: the electronic form, JSON) and a printable page, in the
    /// principal's language: every category and value, purposes, channel and dates, consents,
    /// recipients and provision records (APPI 33(5)), retention. With `values = false`, the
    /// purpose notice (APPI 32(2)): the same without values.
    async fn disclosure_package(
        &self,
        p: &PrincipalRow,
        lang: Lang,
        values: bool,
        request_id: &str,
    ) -> Result<(serde_json::Value, String, Vec<String>)> {
        let policy = self.policy();
        let channel = self.notified_channel(p)?;
        let consents = self.store.consents(&p.id).await?;
        let rows = self.store.fields(&p.id).await?;
        let categories: Vec<String> = rows.iter().map(|f| f.category.clone()).collect();
        let updated: BTreeMap<String, String> = rows
            .iter()
            .map(|f| (f.category.clone(), f.updated_at.clone()))
            .collect();
        let data = if values {
            self.open_fields(&p.id, rows).await?
        } else {
            BTreeMap::new()
        };
        let label = |c: &str| {
            policy.category(c).map_or(c.to_string(), |x| {
                if ja(lang) { x.ja.clone() } else { x.en.clone() }
            })
        };
        let purpose_text = |id: &str| {
            policy.purpose(id).map_or(id.to_string(), |x| {
                if ja(lang) { x.ja.clone() } else { x.en.clone() }
            })
        };
        let mut purposes: Vec<String> = channel.purposes.clone();
        for c in consents.iter().filter(|c| c.withdrawn_at.is_none()) {
            if let Some(pp) = &c.purpose
                && !purposes.contains(pp)
            {
                purposes.push(pp.clone());
            }
        }
        let recipients: Vec<serde_json::Value> = policy
            .recipients
            .iter()
            .filter(|r| r.categories.iter().any(|c| categories.contains(c)))
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "name": r.name.get(lang), "kind": r.kind.as_str(), "country": r.country,
                    "categories": r.categories.iter().filter(|c| categories.contains(c)).collect::<Vec<_>>(),
                    "purposes": r.purposes,
                })
            })
            .collect();
        let provisions = self.store.provisions(Some(&p.id)).await?;
        let retention = serde_json::json!({
            "period": channel.retention,
            "from": match channel.retention_from { mamori_policy::RetentionFrom::LastActivity => "last_activity", mamori_policy::RetentionFrom::Collection => "collection" },
            "note": channel.retention_note.as_ref().map(|n| n.get(lang).to_string()),
        });
        let json = serde_json::json!({
            "kind": if values { "disclosure" } else { "purpose-notice" },
            "request_id": request_id,
            "prepared_on": today_jst().to_string(),
            "organization": policy.organization.name.get(lang),
            "principal_id": p.id,
            "channel": {"id": channel.id, "name": if ja(lang) { &channel.ja } else { &channel.en }},
            "collected_at": p.created_at,
            "last_activity_at": p.last_activity_at,
            "policy_version": p.policy_version,
            "data": categories.iter().map(|c| serde_json::json!({
                "category": c, "label": label(c), "value": data.get(c), "updated_at": updated.get(c),
            })).collect::<Vec<_>>(),
            "purposes": purposes.iter().map(|x| serde_json::json!({"id": x, "text": purpose_text(x)})).collect::<Vec<_>>(),
            "consents": consents.iter().map(|c| serde_json::json!({
                "purpose": c.purpose, "recipient": c.recipient, "given_at": c.given_at, "withdrawn_at": c.withdrawn_at,
            })).collect::<Vec<_>>(),
            "recipients": recipients,
            "provision_records": provisions,
            "retention": retention,
        });
        let page = package_html(&policy, lang, &json, values);
        Ok((json, page, categories))
    }
}

fn result_text(kind: RequestKind, ja: bool) -> &'static str {
    match (kind, ja) {
        (RequestKind::PurposeNotice, true) => "利用目的を同封のとおり通知します。",
        (RequestKind::PurposeNotice, false) => {
            "the purposes of use are set out in the enclosed notice."
        }
        (RequestKind::Disclosure, true) => "保有個人データを同封のとおり開示します。",
        (RequestKind::Disclosure, false) => {
            "your retained personal data is disclosed in the enclosed document."
        }
        (RequestKind::Correction, true) => "ご指摘の内容を訂正しました。",
        (RequestKind::Correction, false) => "we have corrected the data as you asked.",
        (RequestKind::Suspension, true) => "ご本人の個人データの利用を停止しました。",
        (RequestKind::Suspension, false) => {
            "we have stopped using your personal data as you asked."
        }
        (RequestKind::Erasure, true) => "ご本人の個人データを復元できない方法で消去しました。",
        (RequestKind::Erasure, false) => {
            "we have erased your personal data in a way that cannot be recovered."
        }
        (RequestKind::ProvisionStop, true) => "ご本人の個人データの第三者への提供を停止しました。",
        (RequestKind::ProvisionStop, false) => {
            "we have stopped providing your personal data to third parties."
        }
    }
}

const LETTER_CSS: &str = "body{font-family:\"Hiragino Mincho ProN\",\"Yu Mincho\",serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.8;color:#111}h1{font-size:1.3rem;text-align:center;margin:2rem 0}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f2f2f2}.meta{text-align:right}.from{margin-top:3rem;text-align:right}@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}}";

fn letter_html(
    lang: Lang,
    title: &str,
    org: &str,
    id: &str,
    date: &str,
    body: &str,
    contact: &str,
) -> String {
    let l = if ja(lang) { "ja" } else { "en" };
    format!(
        "<!doctype html>\n<html lang=\"{l}\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{LETTER_CSS}</style></head><body>\n<p class=\"meta\">{id}<br>{date}</p>\n<h1>{t}</h1>\n<p>{b}</p>\n<p class=\"from\">{o}<br>{c}</p>\n</body></html>\n",
        t = escape_html(title),
        id = escape_html(id),
        date = escape_html(date),
        b = escape_html(body),
        o = escape_html(org),
        c = escape_html(contact),
    )
}

fn package_html(policy: &Policy, lang: Lang, p: &serde_json::Value, values: bool) -> String {
    let j = ja(lang);
    let e = |v: &serde_json::Value| escape_html(v.as_str().unwrap_or(""));
    let mut rows = String::new();
    for d in p
        .get("data")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
    {
        let value = if values {
            e(d.get("value").unwrap_or(&serde_json::Value::Null))
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th>{}<td>{}</td></tr>\n",
            e(d.get("label").unwrap_or(&serde_json::Value::Null)),
            if values {
                format!("<td>{value}</td>")
            } else {
                String::new()
            },
            e(d.get("updated_at").unwrap_or(&serde_json::Value::Null))
                .get(..10)
                .unwrap_or(""),
        ));
    }
    let list = |key: &str, f: &dyn Fn(&serde_json::Value) -> String| -> String {
        let items: Vec<String> = p
            .get(key)
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
            .map(|x| format!("<li>{}</li>", f(x)))
            .collect();
        if items.is_empty() {
            format!("<p>{}</p>", if j { "ありません。" } else { "None." })
        } else {
            format!("<ul>{}</ul>", items.join(""))
        }
    };
    let purposes = list("purposes", &|x| {
        e(x.get("text").unwrap_or(&serde_json::Value::Null))
    });
    let recipients = list("recipients", &|x| {
        format!(
            "{} ({}, {}) — {}",
            e(x.get("name").unwrap_or(&serde_json::Value::Null)),
            e(x.get("kind").unwrap_or(&serde_json::Value::Null)),
            e(x.get("country").unwrap_or(&serde_json::Value::Null)),
            escape_html(
                &x.get("categories")
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            )
        )
    });
    let provisions = list("provision_records", &|x| {
        format!(
            "{} {} — {}",
            e(x.get("provided_at").unwrap_or(&serde_json::Value::Null))
                .get(..10)
                .unwrap_or(""),
            e(x.get("recipient_name").unwrap_or(&serde_json::Value::Null)),
            escape_html(
                &x.get("categories")
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            )
        )
    });
    let consents = list("consents", &|x| {
        format!(
            "{} {} {}",
            e(x.get("purpose")
                .or_else(|| x.get("recipient"))
                .unwrap_or(&serde_json::Value::Null)),
            e(x.get("given_at").unwrap_or(&serde_json::Value::Null))
                .get(..10)
                .unwrap_or(""),
            x.get("withdrawn_at")
                .and_then(|w| w.as_str())
                .map(|w| format!("(withdrawn {})", escape_html(w.get(..10).unwrap_or(""))))
                .unwrap_or_default()
        )
    });
    let ret = p.get("retention").cloned().unwrap_or_default();
    let title = match (values, j) {
        (true, true) => "保有個人データ開示書",
        (true, false) => "Disclosure of your retained personal data",
        (false, true) => "利用目的通知書",
        (false, false) => "Notice of the purposes of use",
    };
    let h = |ja_t: &str, en_t: &str| {
        if j {
            ja_t.to_string()
        } else {
            en_t.to_string()
        }
    };
    format!(
        "<!doctype html>\n<html lang=\"{l}\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{LETTER_CSS}</style></head><body>\n<p class=\"meta\">{rid}<br>{date}</p>\n<h1>{t}</h1>\n<p>{org}</p>\n<table><tr><th scope=\"row\">{h_id}</th><td>{pid}</td></tr><tr><th scope=\"row\">{h_ch}</th><td>{ch}</td></tr><tr><th scope=\"row\">{h_col}</th><td>{col}</td></tr></table>\n<h2>{h_data}</h2>\n<table><tr><th scope=\"col\">{h_cat}</th>{h_val}<th scope=\"col\">{h_upd}</th></tr>\n{rows}</table>\n<h2>{h_pur}</h2>{purposes}\n<h2>{h_con}</h2>{consents}\n<h2>{h_rec}</h2>{recipients}\n<h2>{h_prov}</h2>{provisions}\n<h2>{h_ret}</h2><p>{ret_p} {ret_n}</p>\n<p class=\"from\">{org}<br>{contact} {phone}</p>\n</body></html>\n",
        l = if j { "ja" } else { "en" },
        t = escape_html(title),
        rid = e(p.get("request_id").unwrap_or(&serde_json::Value::Null)),
        date = e(p.get("prepared_on").unwrap_or(&serde_json::Value::Null)),
        org = escape_html(policy.organization.name.get(lang)),
        h_id = h("本人の識別番号", "Your reference"),
        pid = e(p.get("principal_id").unwrap_or(&serde_json::Value::Null)),
        h_ch = h("取得の手続", "How we acquired it"),
        ch = e(p
            .pointer("/channel/name")
            .unwrap_or(&serde_json::Value::Null)),
        h_col = h("取得日", "Acquired on"),
        col = e(p.get("collected_at").unwrap_or(&serde_json::Value::Null))
            .get(..10)
            .unwrap_or(""),
        h_data = h("保有個人データ", "Retained personal data"),
        h_cat = h("項目", "Item"),
        h_val = if values {
            format!("<th scope=\"col\">{}</th>", h("内容", "Value"))
        } else {
            String::new()
        },
        h_upd = h("更新日", "Updated"),
        h_pur = h("利用目的", "Purposes of use"),
        h_con = h("同意", "Consents"),
        h_rec = h("提供先・委託先", "Recipients and contractors"),
        h_prov = h("第三者提供の記録", "Records of provision to third parties"),
        h_ret = h("保存期間", "Retention"),
        ret_p = escape_html(ret.get("period").and_then(|x| x.as_str()).unwrap_or("")),
        ret_n = escape_html(ret.get("note").and_then(|x| x.as_str()).unwrap_or("")),
        contact = escape_html(policy.organization.contact_window.get(lang)),
        phone = escape_html(&policy.organization.phone),
    )
}

/// Write the named files into `dir` (created if needed); returns their paths.
fn write_files(
    dir: Option<&std::path::Path>,
    id: &str,
    files: &[(&str, &[u8])],
) -> Result<Vec<String>> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    mamori_store::files::create_private_dir(dir)
        .map_err(|e| bad(format!("--out: cannot create {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(format!("{id}-{name}"));
        // 0600, never through a symlink (SECURITY.md "Files outside the database").
        mamori_store::files::write_private(&path, bytes, mamori_store::files::Existing::Replace)
            .map_err(|e| bad(format!("--out: {e}")))?;
        out.push(path.display().to_string());
    }
    Ok(out)
}

/// The manager's review entry of a fulfilled request (issue 20), in the fulfilment's commit.
fn review_stmt(actor: &Actor, id: &str, pid: &str, kind: RequestKind) -> mamori_store::Stmt {
    Store::insert_request_review(
        &random_hex(8),
        pid,
        &actor.login,
        &format!("request:{}", kind.as_str()),
        id,
        &mamori_store::now_string(),
    )
}

/// The statements (the status change and the manager's review entry) and the audit entry that
/// mark a request fulfilled.
fn fulfil_parts(
    actor: &Actor,
    id: &str,
    pid: &str,
    kind: RequestKind,
    result: &str,
) -> (Vec<mamori_store::Stmt>, AuditDraft) {
    (
        vec![
            Store::fulfil_request(id, &actor.login, result),
            review_stmt(actor, id, pid, kind),
        ],
        AuditDraft {
            actor: actor.login.clone(),
            action: "request.fulfil".into(),
            principal_id: Some(pid.into()),
            basis: Some(rules::kind_article(kind).into()),
            decision: "done".into(),
            detail: serde_json::json!({"request_id": id, "kind": kind.as_str(), "result": result}),
            ..Default::default()
        },
    )
}
