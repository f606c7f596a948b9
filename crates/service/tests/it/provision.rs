//! Consent and provision to others end to end (issue 5), on SQLite and PostgreSQL: third
//! parties on consent, scope, statutory exceptions, contractors and their contracts, foreign
//! recipients (APPI 28), joint use, provision stops, and the provision records APPI 29 requires.

use mamori_policy::ExceptionKind;
use mamori_service::principal::{Exception, NewPrincipal};
use mamori_service::provision::{ConsentTarget, ProvideRequest};
use mamori_service::{Mamori, ServiceError};
use mamori_store::Store;

use crate::common::*;

const EXTRA_RECIPIENTS: &str = r#"
[[recipients]]
id = "cloud_us"
name = { ja = "米国クラウド事業者", en = "US cloud provider" }
kind = "entrustment"
country = "US"
categories = ["name", "email"]
purposes = ["registration_contact"]
foreign_basis = "equivalent_measures"
measures_checked_on = "2024-01-10"
contract = { clauses = ["confidentiality", "subcontracting", "copy_restriction", "incident_response", "return_and_erasure", "termination"], reviewed_on = "2026-04-01", review_every = "P1Y" }

[[recipients]]
id = "partner_vn"
name = { ja = "ベトナム協力団体", en = "Partner association in Viet Nam" }
kind = "third_party"
country = "VN"
categories = ["name", "email"]
purposes = ["registration_contact"]
foreign_basis = "consent"
foreign_information = { ja = "提供先の国:ベトナム。同国には個人データ保護に関する政令があります。提供先は秘密保持の措置を講じています。", en = "Country: Viet Nam, which has a decree on personal data protection. The recipient keeps the data confidential." }
address = { ja = "ベトナム ハノイ市", en = "Hanoi, Viet Nam" }
"#;

const JOINT_USE: &str = r#"
[[recipients]]
id = "ia_network"
name = { ja = "千葉県内国際交流協会ネットワーク", en = "Chiba international associations network" }
kind = "joint_use"
country = "JP"
categories = ["name", "email"]
purposes = ["registration_contact"]
responsible = { ja = "公益財団法人千葉市国際交流協会", en = "Chiba City International Association" }
"#;

async fn with_extra(e: &Env) {
    let text = mamori_policy::preset("chiba-ia")
        .unwrap()
        .replace("version = \"2022-04-01\"", "version = \"2026-01-01\"")
        + EXTRA_RECIPIENTS;
    let today = mamori_service::today_jst().to_string();
    e.m.policy_apply(None, &text, "extra.toml", &today)
        .await
        .unwrap();
}

async fn member(e: &Env) -> String {
    let clerk = actor(e, "clerk").await;
    e.m.principal_add(
        &clerk,
        NewPrincipal {
            channel: "course_application".into(),
            fields: fields(&[
                ("name", "Maria Santos"),
                ("email", "maria@example.com"),
                ("phone", "080-1111-2222"),
                ("address", "千葉市美浜区真砂1-1"),
                ("postal_code", "261-0011"),
                ("payment_token", "pm_1NxAbCdEfGh"),
            ]),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

fn req(id: &str, recipient: &str, purpose: &str, f: &[&str]) -> ProvideRequest {
    ProvideRequest {
        principal_id: id.into(),
        recipient: recipient.into(),
        purpose: purpose.into(),
        fields: f.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

async fn provide(
    m: &Mamori,
    who: &str,
    r: ProvideRequest,
) -> Result<mamori_service::provision::Provided, ServiceError> {
    let a = m.actor(who).await.unwrap();
    m.provide(&a, r).await
}

#[tokio::test]
async fn a_third_party_needs_consent_and_the_record_holds_the_items_appi_29_requires() {
    on_both("chiba-ia", |e| async move {
        let id = member(&e).await;
        let clerk = actor(&e, "clerk").await;
        let r = denied(
            provide(
                &e.m,
                "clerk",
                req(
                    &id,
                    "stripe",
                    "registration_contact",
                    &["payment_token", "name"],
                ),
            )
            .await,
        );
        assert!(
            r.starts_with("no consent is on record for provision to stripe (APPI 27(1)"),
            "{r}"
        );

        let g =
            e.m.consent_give(
                &clerk,
                &id,
                &ConsentTarget::Recipient("stripe".into()),
                Some("web form 12"),
                false,
            )
            .await
            .unwrap();
        assert!(!g.already);
        let again =
            e.m.consent_give(
                &clerk,
                &id,
                &ConsentTarget::Recipient("stripe".into()),
                Some("form 2026-041"),
                false,
            )
            .await
            .unwrap();
        assert!(
            again.already && again.consent_id == g.consent_id,
            "giving twice stores one consent"
        );

        let p = provide(
            &e.m,
            "clerk",
            req(
                &id,
                "stripe",
                "registration_contact",
                &["payment_token", "name"],
            ),
        )
        .await
        .unwrap();
        assert_eq!(p.basis, "consent");
        let today = mamori_service::today_jst();
        assert_eq!(
            p.record_kept_until,
            Some(
                today
                    .checked_add(jiff::Span::new().years(3))
                    .unwrap()
                    .to_string()
            )
        );
        assert_eq!(p.fields["payment_token"], "pm_1NxAbCdEfGh");
        assert_eq!(p.fields.len(), 2);

        let manager = actor(&e, "manager").await;
        let records = e.m.provisions_list(&manager, Some(&id)).await.unwrap();
        assert_eq!(records.len(), 1);
        let rec = &records[0];
        assert_eq!(rec.provision_id, p.provision_id);
        assert_eq!(rec.principal_id, id);
        assert_eq!(rec.recipient, "stripe");
        assert_eq!(rec.recipient_name, "ストライプジャパン株式会社");
        assert_eq!(rec.categories, vec!["payment_token", "name"]);
        assert_eq!(rec.consent_id.as_deref(), Some(g.consent_id.as_str()));
        assert_eq!(rec.basis, "consent");
        assert_eq!(rec.provided_by, "clerk");
        assert!(rec.provided_at.starts_with(&today.year().to_string()));

        // Withdrawal takes effect at once.
        let w =
            e.m.consent_withdraw(&clerk, &id, &ConsentTarget::Recipient("stripe".into()))
                .await
                .unwrap();
        assert_eq!(w.withdrawn, vec![g.consent_id.clone()]);
        denied(
            provide(
                &e.m,
                "clerk",
                req(&id, "stripe", "registration_contact", &["name"]),
            )
            .await,
        );
        let m = bad_input(
            e.m.consent_withdraw(&clerk, &id, &ConsentTarget::Recipient("stripe".into()))
                .await,
        );
        assert!(m.contains("no active consent"), "{m}");
        let list = e.m.consents_list(&clerk, &id).await.unwrap();
        assert!(list.iter().all(|c| c.withdrawn_at.is_some()));
        assert_eq!(list[0].evidence.as_deref(), Some("web form 12"));
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn only_the_declared_categories_and_purposes_go_to_a_recipient() {
    on_both("chiba-ia", |e| async move {
        let id = member(&e).await;
        let clerk = actor(&e, "clerk").await;
        e.m.consent_give(&clerk, &id, &ConsentTarget::Recipient("stripe".into()), Some("form 2026-041"), false).await.unwrap();
        let r = denied(provide(&e.m, "clerk", req(&id, "stripe", "registration_contact", &["name", "phone"])).await);
        assert_eq!(r, "recipient stripe may receive only payment_token, name, email; not phone (seed 000 Art. 7; APPI 27)");
        let r = denied(provide(&e.m, "clerk", req(&id, "stripe", "material_delivery", &["name"])).await);
        assert!(r.starts_with("recipient stripe does not receive data for purpose material_delivery"), "{r}");
        let m = bad_input(provide(&e.m, "clerk", req(&id, "nobody", "registration_contact", &["name"])).await);
        assert!(m.starts_with("--recipient: "), "{m}");
        let m = bad_input(provide(&e.m, "clerk", req(&id, "stripe", "registration_contact", &[])).await);
        assert!(m.starts_with("--fields: "), "{m}");
        let r = denied(provide(&e.m, "auditor", req(&id, "stripe", "registration_contact", &["name"])).await);
        assert!(r.starts_with("role auditor may not provide personal data to others"), "{r}");
        let manager = actor(&e, "manager").await;
        assert!(e.m.provisions_list(&manager, None).await.unwrap().is_empty(), "nothing recorded");
    })
    .await;
}

#[tokio::test]
async fn statutory_exceptions_need_a_reason_leave_no_record_and_go_to_review() {
    on_both("chiba-ia", |e| async move {
        let id = member(&e).await;
        for kind in ExceptionKind::ALL {
            let mut r = req(&id, "selecttype", "registration_contact", &["name"]);
            r.exception = Some(Exception {
                kind,
                reason: String::new(),
            });
            let d = denied(provide(&e.m, "clerk", r.clone()).await);
            assert!(d.contains("needs a written reason"), "{d}");
            r.exception = Some(Exception {
                kind,
                reason: format!("{} request no. 7", kind.as_str()),
            });
            let p = provide(&e.m, "clerk", r).await.unwrap();
            assert_eq!(p.basis, kind.as_str());
            assert_eq!(p.record_kept_until, None);
        }
        let manager = actor(&e, "manager").await;
        assert!(
            e.m.provisions_list(&manager, None)
                .await
                .unwrap()
                .is_empty(),
            "APPI 29(1) proviso: no records"
        );
        assert_eq!(e.m.status().await.unwrap()["pending_exception_reviews"], 4);
        let log = e.m.audit_log(&manager, Some(&id), 100).await.unwrap();
        assert_eq!(
            log.iter()
                .filter(|x| x.action == "principal.provide" && x.decision == "allow")
                .count(),
            4
        );
    })
    .await;
}

#[tokio::test]
async fn a_contractor_needs_the_six_clauses_and_a_current_review() {
    on_both("chiba-ia", |e| async move {
        let id = member(&e).await;
        let manager = actor(&e, "manager").await;
        let r = || {
            req(
                &id,
                "delivery_carrier",
                "material_delivery",
                &["name", "address", "postal_code"],
            )
        };
        // The policy's contract: six clauses, reviewed 2026-04-01, yearly.
        let p = provide(&e.m, "clerk", r()).await.unwrap();
        assert_eq!(
            (p.basis.as_str(), p.record_kept_until.as_deref()),
            ("entrustment", None)
        );
        // A review finds the contract lacks clauses.
        let two = vec!["confidentiality".to_string(), "termination".to_string()];
        e.m.recipient_review(
            &manager,
            "delivery_carrier",
            None,
            "2026-11-01",
            Some(&two),
            None,
        )
        .await
        .unwrap();
        let d = denied(provide(&e.m, "clerk", r()).await);
        assert!(
            d.contains(
                "lacks subcontracting, copy_restriction, incident_response, return_and_erasure"
            ),
            "{d}"
        );
        let status = e.m.recipients_status(&manager).await.unwrap();
        let dc = status.iter().find(|s| s.id == "delivery_carrier").unwrap();
        assert!(dc.blocked.as_deref().unwrap().starts_with("contract lacks"));
        // A review past its due date blocks too.
        let all: Vec<String> = [
            "confidentiality",
            "subcontracting",
            "copy_restriction",
            "incident_response",
            "return_and_erasure",
            "termination",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        e.m.recipient_review(
            &manager,
            "delivery_carrier",
            None,
            "2026-11-02",
            Some(&all),
            Some("2026-11-03"),
        )
        .await
        .unwrap();
        let d = denied(provide(&e.m, "clerk", r()).await);
        assert!(d.contains("was due for review on 2026-11-03"), "{d}");
        // A current review with all six clauses allows it again.
        e.m.recipient_review(
            &manager,
            "delivery_carrier",
            None,
            "2026-11-04",
            Some(&all),
            None,
        )
        .await
        .unwrap();
        provide(&e.m, "clerk", r()).await.unwrap();
        // Entrustment stays within the purposes of use.
        let d = denied(
            provide(
                &e.m,
                "clerk",
                req(&id, "delivery_carrier", "material_delivery", &["phone"]),
            )
            .await,
        );
        assert!(
            d.contains("may receive only name, address, postal_code"),
            "{d}"
        );
        let m = bad_input(
            e.m.recipient_review(&manager, "stripe", None, "2026-11-01", None, None)
                .await,
        );
        assert!(m.contains("nothing to review"), "{m}");
        let clerk = actor(&e, "clerk").await;
        denied(
            e.m.recipient_review(&clerk, "delivery_carrier", None, "2026-11-01", None, None)
                .await,
        );
    })
    .await;
}

#[tokio::test]
async fn recipients_abroad_follow_appi_28() {
    on_both("chiba-ia", |e| async move {
        with_extra(&e).await;
        let id = member(&e).await;
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        // Equivalent measures, last checked 2024-01-10, yearly: overdue.
        let d = denied(
            provide(
                &e.m,
                "clerk",
                req(&id, "cloud_us", "registration_contact", &["name"]),
            )
            .await,
        );
        assert!(
            d.contains("cloud_us's equivalent measures was due on 2025-01-10")
                && d.contains("APPI 28(3)"),
            "{d}"
        );
        e.m.recipient_review(&manager, "cloud_us", None, "2026-11-01", None, None)
            .await
            .unwrap_err();
        e.m.recipient_review(
            &manager,
            "cloud_us",
            Some("measures"),
            "2026-11-01",
            None,
            None,
        )
        .await
        .unwrap();
        let p = provide(
            &e.m,
            "clerk",
            req(&id, "cloud_us", "registration_contact", &["name"]),
        )
        .await
        .unwrap();
        assert_eq!(p.basis, "entrustment");
        // Consent abroad must be informed consent.
        e.m.consent_give(
            &clerk,
            &id,
            &ConsentTarget::Recipient("partner_vn".into()),
            Some("form 2026-041"),
            false,
        )
        .await
        .unwrap();
        let d = denied(
            provide(
                &e.m,
                "clerk",
                req(&id, "partner_vn", "registration_contact", &["name"]),
            )
            .await,
        );
        assert!(d.contains("APPI 28(2)"), "{d}");
        let g =
            e.m.consent_give(
                &clerk,
                &id,
                &ConsentTarget::Recipient("partner_vn".into()),
                Some("form VN-3"),
                true,
            )
            .await
            .unwrap();
        assert!(!g.already, "informed consent is a new record");
        let p = provide(
            &e.m,
            "clerk",
            req(
                &id,
                "partner_vn",
                "registration_contact",
                &["name", "email"],
            ),
        )
        .await
        .unwrap();
        assert_eq!(p.basis, "consent");
        let rec = e.m.provisions_list(&manager, Some(&id)).await.unwrap();
        assert_eq!(rec.len(), 1);
        assert_eq!(
            (rec[0].country.as_str(), rec[0].recipient_address.as_deref()),
            ("VN", Some("ベトナム ハノイ市"))
        );
        let m = bad_input(
            e.m.consent_give(
                &clerk,
                &id,
                &ConsentTarget::Recipient("stripe".into()),
                Some("form 2026-041"),
                true,
            )
            .await,
        );
        assert!(m.starts_with("--informed-abroad"), "{m}");
    })
    .await;
}

#[tokio::test]
async fn joint_use_must_have_been_announced_before_collection() {
    on_both("chiba-ia", |e| async move {
        let before = member(&e).await;
        let text = mamori_policy::preset("chiba-ia")
            .unwrap()
            .replace("version = \"2022-04-01\"", "version = \"2026-02-01\"")
            + JOINT_USE;
        let today = mamori_service::today_jst().to_string();
        e.m.policy_apply(None, &text, "joint.toml", &today)
            .await
            .unwrap();
        let m = bad_input(
            e.m.policy_apply(
                None,
                &text.replace("2026-02-01", "2026-02-02"),
                "j2.toml",
                "2020-01-01",
            )
            .await,
        );
        assert!(
            m.starts_with("--effective: 2020-01-01 is in the past"),
            "{m}"
        );
        let after = member(&e).await;
        let d = denied(
            provide(
                &e.m,
                "clerk",
                req(&before, "ia_network", "registration_contact", &["name"]),
            )
            .await,
        );
        assert!(
            d.contains("joint use with ia_network was not announced"),
            "{d}"
        );
        let p = provide(
            &e.m,
            "clerk",
            req(&after, "ia_network", "registration_contact", &["name"]),
        )
        .await
        .unwrap();
        assert_eq!((p.basis.as_str(), p.record_kept_until), ("joint-use", None));
    })
    .await;
}

#[tokio::test]
async fn a_provision_stop_blocks_third_parties_but_not_contractors_nor_the_law() {
    on_both("chiba-ia", |e| async move {
        let id = member(&e).await;
        let clerk = actor(&e, "clerk").await;
        e.m.consent_give(
            &clerk,
            &id,
            &ConsentTarget::Recipient("stripe".into()),
            Some("form 2026-041"),
            false,
        )
        .await
        .unwrap();
        e.m.store()
            .write(vec![Store::insert_provision_stop("s1", &id, None)], vec![])
            .await
            .unwrap();
        let d = denied(
            provide(
                &e.m,
                "clerk",
                req(&id, "stripe", "registration_contact", &["name"]),
            )
            .await,
        );
        assert!(d.contains("APPI 35(3)"), "{d}");
        provide(
            &e.m,
            "clerk",
            req(&id, "delivery_carrier", "material_delivery", &["name"]),
        )
        .await
        .unwrap();
        let mut r = req(&id, "stripe", "registration_contact", &["name"]);
        r.exception = Some(Exception {
            kind: ExceptionKind::Law,
            reason: "tax office inquiry".into(),
        });
        provide(&e.m, "clerk", r).await.unwrap();
        // --basis consent insists on consent: not silently another basis.
        let mut r = req(&id, "selecttype", "registration_contact", &["name"]);
        r.require_consent = true;
        denied(provide(&e.m, "clerk", r).await);
    })
    .await;
}
