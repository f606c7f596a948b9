//! Consent on the principal page (`/console/principals/{id}`): the consent records of the
//! person, and giving or withdrawing one, for a purpose beyond those notified at collection
//! (APPI 18(1); seed 003 Art. 9(1)) or for provision to a recipient (APPI 27(1), 28; seed 000
//! Art. 7; seed 003 Art. 20(1)). The same use cases as `mamori consent give|withdraw`
//! ([`mamori_service::Mamori::consent_give`], `consent_withdraw`, `consents_list`); a role
//! without the `consent` action is refused with the rule. A withdrawal takes effect at once.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Router};
use mamori_service::ServiceError;
use mamori_service::provision::ConsentTarget;

use super::{Choice, Fields, Staff, checked, ctx, field, opt, safe_id};
use crate::AppState;
use crate::pages::{LangQuery, error_page, see_other};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/principals/{id}/consent", post(consent_step))
}

pub(super) struct ConsentRow {
    /// `purpose:ID` or `recipient:ID`, the form value that names it.
    pub target: String,
    pub given_at: String,
    pub withdrawn_at: String,
    pub evidence: String,
    pub informed_abroad: bool,
}

/// The consent part of the principal page.
pub(super) struct Consents {
    pub rows: Vec<ConsentRow>,
    /// The service's refusal (`denied: …`) or why the records could not be read.
    pub problem: String,
    pub targets: Vec<Choice>,
}

impl Consents {
    pub(super) async fn of(s: &AppState, st: &Staff, id: &str, ja: bool) -> Consents {
        let policy = s.mamori.policy();
        let mut targets: Vec<Choice> = policy
            .purposes
            .iter()
            .map(|p| Choice {
                value: format!("purpose:{}", p.id),
                text: format!(
                    "{}: {}",
                    if ja { "利用目的" } else { "Purpose" },
                    if ja { &p.ja } else { &p.en }
                ),
            })
            .collect();
        targets.extend(policy.recipients.iter().map(|r| Choice {
            value: format!("recipient:{}", r.id),
            text: format!(
                "{}: {}",
                if ja { "提供先" } else { "Recipient" },
                r.name.get(if ja {
                    mamori_policy::Lang::Ja
                } else {
                    mamori_policy::Lang::En
                })
            ),
        }));
        let (rows, problem) = match s.mamori.consents_list(&st.actor, id).await {
            Ok(list) => (
                list.into_iter()
                    .map(|c| {
                        let target = match (&c.purpose, &c.recipient) {
                            (Some(p), _) => format!("purpose:{p}"),
                            (None, Some(r)) => format!("recipient:{r}"),
                            (None, None) => String::new(),
                        };
                        ConsentRow {
                            target,
                            given_at: c.given_at,
                            withdrawn_at: c.withdrawn_at.unwrap_or_default(),
                            evidence: c.evidence.unwrap_or_default(),
                            informed_abroad: c.informed_abroad,
                        }
                    })
                    .collect(),
                String::new(),
            ),
            Err(ServiceError::Denied(rule)) => (vec![], format!("denied: {rule}")),
            Err(e) => (vec![], e.to_string()),
        };
        Consents {
            rows,
            problem,
            targets,
        }
    }
}

fn target_of(v: &str) -> Result<ConsentTarget, ServiceError> {
    match v.split_once(':') {
        Some(("purpose", p)) if !p.is_empty() => Ok(ConsentTarget::Purpose(p.to_string())),
        Some(("recipient", r)) if !r.is_empty() => Ok(ConsentTarget::Recipient(r.to_string())),
        _ => Err(ServiceError::BadInput(
            "target: choose the purpose or the recipient the consent is for".into(),
        )),
    }
}

async fn consent_step(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/principals/{id}");
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let target = match target_of(field(&f, "target")) {
        Ok(t) => t,
        Err(e) => return error_page(&c, &e, &back),
    };
    let done = match field(&f, "op") {
        "give" => s
            .mamori
            .consent_give(
                &st.actor,
                &id,
                &target,
                opt(&f, "evidence").as_deref(),
                field(&f, "informed_abroad") == "1",
            )
            .await
            .map(|_| ()),
        "withdraw" => s
            .mamori
            .consent_withdraw(&st.actor, &id, &target)
            .await
            .map(|_| ()),
        _ => Err(ServiceError::BadInput("op: use give or withdraw".into())),
    };
    match done {
        Ok(()) => see_other(&format!("{back}#consents")),
        // Issue 20: a consent needs its evidence; said in the page's language with the label.
        Err(ServiceError::BadInput(m)) if m.starts_with("--evidence: is empty") => {
            let e = ServiceError::BadInput(
                c.t(
                    "同意の記録の所在: 同意書など、同意の記録がどこにあるかを書いてください(例: 申込書 2026-041)。書かないと同意は記録されません。",
                    "Where the consent is kept: say where the signed consent is kept (e.g. form 2026-041); without it the consent is not recorded.",
                )
                .to_string(),
            );
            error_page(&c, &e, &back)
        }
        Err(e) => error_page(&c, &e, &back),
    }
}
