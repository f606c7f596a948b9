//! Principals' requests end to end (issue 7) on SQLite and PostgreSQL: every kind, nothing
//! before verification, refusal with notices, erasure that leaves nothing readable, and the
//! overdue list across holidays.

use std::path::Path;

use mamori_policy::{ExceptionKind, Lang};
use mamori_service::principal::Exception;
use mamori_service::provision::{ConsentTarget, ProvideRequest};
use mamori_service::request::OpenRequest;
use mamori_service::{Actor, ServiceError};

use crate::common::*;

fn open(principal: Option<&str>, kind: &str, received: &str) -> OpenRequest {
    OpenRequest {
        principal_id: principal.map(str::to_string),
        kind: kind.into(),
        received_at: received.into(),
        ..Default::default()
    }
}

async fn verified(e: &Env, clerk: &Actor, pid: &str, kind: &str) -> String {
    let o =
        e.m.request_open(clerk, open(Some(pid), kind, "2026-11-20T10:30:00+09:00"))
            .await
            .unwrap();
    e.m.request_verify(clerk, &o.id, "email_code", Some("K7Q2X9"))
        .await
        .unwrap();
    o.id
}

#[tokio::test]
async fn nothing_is_disclosed_or_changed_before_the_identity_is_verified() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        for kind in [
            "disclosure",
            "correction",
            "erasure",
            "suspension",
            "provision-stop",
            "purpose-notice",
        ] {
            let o =
                e.m.request_open(&clerk, open(Some(&pid), kind, "2026-11-20T10:30:00+09:00"))
                    .await
                    .unwrap();
            let m = bad_input(
                e.m.request_fulfil(
                    &clerk,
                    &o.id,
                    &fields(&[("email", "new@example.jp")])
                        .into_iter()
                        .filter(|_| kind == "correction")
                        .collect::<Vec<_>>(),
                    None,
                )
                .await,
            );
            assert!(m.contains("identity is not verified"), "{kind}: {m}");
        }
        // Still readable, unchanged, unsuspended.
        let shown =
            e.m.principal_show(&clerk, &pid, "registration_contact", None, None)
                .await
                .unwrap();
        assert_eq!(shown.fields["email"], "Taro.Yamada@example.jp");
        let manager = actor(&e, "manager").await;
        let log = e.m.audit_log(&manager, Some(&pid), 200).await.unwrap();
        assert!(
            !log.iter().any(|x| x.action == "request.fulfil"),
            "no fulfilment on the log"
        );
        match e
            .m
            .request_verify(&clerk, "r_nothing", "email_code", Some("K7Q2X9"))
            .await
        {
            Err(ServiceError::NotFound(m)) => assert!(m.contains("no request r_nothing"), "{m}"),
            other => panic!("expected not found, got {other:?}"),
        }
        let m = "no request r_nothing";
        assert!(m.contains("no request r_nothing"), "{m}");
        let o =
            e.m.request_open(
                &clerk,
                open(Some(&pid), "disclosure", "2026-11-20T10:30:00+09:00"),
            )
            .await
            .unwrap();
        let m = bad_input(
            e.m.request_verify(&clerk, &o.id, "fingerprint", Some("K7Q2X9"))
                .await,
        );
        assert!(
            m.starts_with("--method: \"fingerprint\" is not an identity check"),
            "{m}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_disclosure_package_holds_every_value_purpose_recipient_and_provision_record() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        e.m.consent_give(
            &clerk,
            &pid,
            &ConsentTarget::Recipient("selecttype".into()),
            Some("form 2026-041"),
            false,
        )
        .await
        .unwrap();
        e.m.provide(
            &clerk,
            ProvideRequest {
                principal_id: pid.clone(),
                recipient: "selecttype".into(),
                purpose: "registration_contact".into(),
                fields: vec!["name".into(), "email".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut req = open(Some(&pid), "disclosure", "2026-11-20T10:30:00+09:00");
        req.lang = Some(Lang::En);
        let o = e.m.request_open(&clerk, req).await.unwrap();
        e.m.request_verify(
            &clerk,
            &o.id,
            "in_person_residence_card",
            Some("在留カード 末尾1234"),
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f =
            e.m.request_fulfil(&clerk, &o.id, &[], Some(dir.path()))
                .await
                .unwrap();
        let p = f.package.unwrap();
        let data = p["data"].as_array().unwrap();
        assert_eq!(data.len(), 5);
        assert!(
            data.iter().any(|d| d["category"] == "name"
                && d["value"] == "山田 太郎"
                && d["label"] == "Name")
        );
        assert!(
            p["purposes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == "registration_renewal")
        );
        assert!(
            p["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == "selecttype")
        );
        assert_eq!(p["provision_records"][0]["recipient"], "selecttype");
        assert_eq!(p["retention"]["period"], "P3Y");
        assert_eq!(f.files.len(), 2);
        let html = std::fs::read_to_string(&f.files[1]).unwrap();
        assert!(
            html.contains("lang=\"en\"")
                && html.contains("山田 太郎")
                && html.contains("Records of provision to third parties")
        );
        // The reveal is on the log with every category and its legal basis.
        let manager = actor(&e, "manager").await;
        let log = e.m.audit_log(&manager, Some(&pid), 200).await.unwrap();
        let entry = log.iter().find(|x| x.action == "request.fulfil").unwrap();
        assert_eq!(entry.basis.as_deref(), Some("APPI 33"));
        assert_eq!(entry.categories, "address,email,name,phone,postal_code");
        // Answered requests cannot be answered again.
        let m = bad_input(e.m.request_fulfil(&clerk, &o.id, &[], None).await);
        assert!(m.contains("fulfilled already"), "{m}");
        // The purpose notice has purposes and no values.
        let id = verified(&e, &clerk, &pid, "purpose-notice").await;
        let f = e.m.request_fulfil(&clerk, &id, &[], None).await.unwrap();
        let p = f.package.unwrap();
        assert!(
            p["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["value"].is_null())
        );
        assert!(!f.html.unwrap().contains("山田"));
    })
    .await;
}

#[tokio::test]
async fn correction_suspension_and_provision_stop_take_effect() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let id = verified(&e, &clerk, &pid, "correction").await;
        let m = bad_input(e.m.request_fulfil(&clerk, &id, &[], None).await);
        assert!(m.contains("CATEGORY=VALUE"), "{m}");
        e.m.request_fulfil(&clerk, &id, &fields(&[("phone", "03-1234-0000")]), None)
            .await
            .unwrap();
        let s =
            e.m.principal_show(&clerk, &pid, "registration_contact", None, None)
                .await
                .unwrap();
        assert_eq!(s.fields["phone"], "03-1234-0000");

        let mut req = open(Some(&pid), "suspension", "2026-11-20T10:30:00+09:00");
        req.purpose = Some("registration_renewal".into());
        let o = e.m.request_open(&clerk, req).await.unwrap();
        e.m.request_verify(&clerk, &o.id, "mailed_code", Some("K7Q2X9"))
            .await
            .unwrap();
        e.m.request_fulfil(&clerk, &o.id, &[], None).await.unwrap();
        let d = denied(
            e.m.principal_show(&clerk, &pid, "registration_renewal", None, None)
                .await,
        );
        assert!(
            d.contains("suspended for purpose registration_renewal"),
            "{d}"
        );
        e.m.principal_show(&clerk, &pid, "registration_contact", None, None)
            .await
            .unwrap();
        // A statutory exception still reaches it (APPI 35 does not override 18(3)).
        let ex = Exception {
            kind: ExceptionKind::Law,
            reason: "court order".into(),
        };
        e.m.principal_show(&clerk, &pid, "registration_renewal", None, Some(&ex))
            .await
            .unwrap();

        e.m.consent_give(
            &clerk,
            &pid,
            &ConsentTarget::Recipient("selecttype".into()),
            Some("form 2026-041"),
            false,
        )
        .await
        .unwrap();
        let id = verified(&e, &clerk, &pid, "provision-stop").await;
        e.m.request_fulfil(&clerk, &id, &[], None).await.unwrap();
        let d = denied(
            e.m.provide(
                &clerk,
                ProvideRequest {
                    principal_id: pid.clone(),
                    recipient: "selecttype".into(),
                    purpose: "registration_contact".into(),
                    fields: vec!["name".into()],
                    ..Default::default()
                },
            )
            .await,
        );
        assert!(d.contains("APPI 35(3)"), "{d}");
    })
    .await;
}

fn contains(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            found.extend(contains(&p, needle));
        } else if std::fs::read(&p)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(p.display().to_string());
        }
    }
    found
}

#[tokio::test]
async fn an_erased_principal_cannot_be_read_or_found_and_their_key_is_gone() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let wrapped: Vec<u8> = {
            use sqlx::Row;
            let row =
                sqlx::query("SELECT wrapped FROM mamori_keys.data_keys WHERE principal_id = $1")
                    .bind(pid.as_str())
                    .fetch_one(e.m.store().pool())
                    .await
                    .unwrap();
            row.try_get(0).unwrap()
        };
        let id = verified(&e, &clerk, &pid, "erasure").await;
        let f = e.m.request_fulfil(&clerk, &id, &[], None).await.unwrap();
        let d = f.disposal.unwrap();
        assert_eq!(d.fields, 5);
        assert_eq!(
            d.categories,
            vec!["address", "email", "name", "phone", "postal_code"]
        );
        assert_eq!(d.request_id.as_deref(), Some(id.as_str()));
        match e
            .m
            .principal_show(&clerk, &pid, "registration_contact", None, None)
            .await
        {
            Err(ServiceError::NotFound(m)) => assert!(m.contains("was erased"), "{m}"),
            other => panic!("expected not found, got {other:?}"),
        }
        assert!(
            e.m.principal_find(
                &clerk,
                "registration_contact",
                "email",
                "taro.yamada@example.jp"
            )
            .await
            .unwrap()
            .is_empty()
        );
        assert!(!e.m.store().has_data_key(&pid).await.unwrap());
        assert_eq!(e.m.status().await.unwrap()["erased_principals"], 1);
        // A second erasure request ends refused on the fixed ground.
        let id2 = verified(&e, &clerk, &pid, "disclosure").await;
        let m = bad_input(e.m.request_fulfil(&clerk, &id2, &[], None).await);
        assert!(m.contains("already-erased"), "{m}");
        e.m.request_refuse(&clerk, &id2, "already-erased", "消去済みのため", None)
            .await
            .unwrap();
        if e.backend == "sqlite" {
            // Neither a value nor the wrapped key is left in any file of the data folder.
            let found = contains(&e.dir, &wrapped);
            assert!(found.is_empty(), "wrapped key still on disk: {found:?}");
            for v in ["山田", "Taro.Yamada", "09012345678", "261-0011"] {
                assert!(contains(&e.dir, v.as_bytes()).is_empty(), "{v}");
            }
        }
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn refusal_needs_a_ground_and_a_reason_and_produces_a_notice() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let o =
            e.m.request_open(
                &clerk,
                open(Some(&pid), "disclosure", "2026-11-20T10:30:00+09:00"),
            )
            .await
            .unwrap();
        let m = bad_input(e.m.request_refuse(&clerk, &o.id, "bored", "x", None).await);
        assert!(
            m.starts_with("--ground: \"bored\" is not a refusal ground"),
            "{m}"
        );
        let m = bad_input(
            e.m.request_refuse(&clerk, &o.id, "unverifiable", "  ", None)
                .await,
        );
        assert!(m.starts_with("--reason: is empty"), "{m}");
        let dir = tempfile::tempdir().unwrap();
        let r =
            e.m.request_refuse(
                &clerk,
                &o.id,
                "unverifiable",
                "本人確認書類の提出がありませんでした",
                Some(dir.path()),
            )
            .await
            .unwrap();
        assert_eq!(r.files.len(), 1);
        assert!(
            r.notice_html
                .contains("ご本人であることの確認ができなかったため")
                && r.notice_html
                    .contains("本人確認書類の提出がありませんでした")
        );
        let en =
            e.m.request_notice(&clerk, &o.id, Some(Lang::En))
                .await
                .unwrap();
        assert!(
            en.contains("We cannot meet your request") && en.contains("could not confirm"),
            "{en}"
        );
        let m = bad_input(
            e.m.request_verify(&clerk, &o.id, "email_code", Some("K7Q2X9"))
                .await,
        );
        assert!(m.contains("refused already"), "{m}");
        // The reason is sealed: not in the SQLite files.
        if e.backend == "sqlite" {
            assert!(contains(&e.dir, "本人確認書類の提出".as_bytes()).is_empty());
        }
        let auditor = actor(&e, "auditor").await;
        let d = denied(e.m.request_list(&auditor, false, None).await);
        assert!(
            d.starts_with("role auditor may not handle principals' requests"),
            "{d}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_overdue_list_is_right_across_holidays_and_answered_requests_are_never_overdue() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        // Received Thursday 2025-12-18: 14 days → Jan 1 (New Year's Day, the year-end closure,
        // then a weekend) → Monday 2026-01-05.
        let a =
            e.m.request_open(&clerk, open(Some(&pid), "disclosure", "2025-12-18T15:00"))
                .await
                .unwrap();
        assert_eq!(a.answer_by, "2026-01-05");
        // Received 2026-11-09: 14 days → Nov 23 (勤労感謝の日) → Nov 24.
        let b =
            e.m.request_open(
                &clerk,
                open(Some(&pid), "purpose-notice", "2026-11-09T09:00"),
            )
            .await
            .unwrap();
        assert_eq!(b.answer_by, "2026-11-24");
        let c =
            e.m.request_open(&clerk, open(Some(&pid), "disclosure", "2025-11-02T09:00"))
                .await
                .unwrap();
        e.m.request_refuse(&clerk, &c.id, "serious-hindrance", "reason given", None)
            .await
            .unwrap();
        let on = |d: &str| Some(d.parse::<jiff::civil::Date>().unwrap());
        let ids = |v: Vec<mamori_service::request::RequestInfo>| {
            let mut v: Vec<String> = v.into_iter().map(|r| r.id).collect();
            v.sort();
            v
        };
        let mut both = vec![a.id.clone(), b.id.clone()];
        both.sort();
        assert_eq!(
            ids(e
                .m
                .request_list(&clerk, true, on("2026-01-05"))
                .await
                .unwrap()),
            Vec::<String>::new(),
            "due today is not overdue"
        );
        assert_eq!(
            ids(e
                .m
                .request_list(&clerk, true, on("2026-01-06"))
                .await
                .unwrap()),
            vec![a.id.clone()]
        );
        assert_eq!(
            ids(e
                .m
                .request_list(&clerk, true, on("2026-11-24"))
                .await
                .unwrap()),
            vec![a.id.clone()]
        );
        assert_eq!(
            ids(e
                .m
                .request_list(&clerk, true, on("2026-11-25"))
                .await
                .unwrap()),
            both,
            "the refused one is never overdue"
        );
        assert_eq!(
            e.m.request_list(&clerk, false, None).await.unwrap().len(),
            3
        );
        let m = bad_input(
            e.m.request_open(&clerk, open(Some(&pid), "deletion", "2026-11-09T09:00"))
                .await,
        );
        assert!(m.starts_with("--kind: "), "{m}");
        let m = bad_input(
            e.m.request_open(&clerk, open(Some(&pid), "disclosure", "yesterday"))
                .await,
        );
        assert!(m.starts_with("--received-at: "), "{m}");
        let m = bad_input(
            e.m.request_open(&clerk, open(Some(&pid), "disclosure", "2099-01-01T00:00"))
                .await,
        );
        assert!(m.contains("in the future"), "{m}");
    })
    .await;
}

#[tokio::test]
async fn a_request_without_a_known_principal_is_linked_before_verification() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let mut req = open(None, "disclosure", "2026-11-20T10:30");
        req.channel = Some("portal".into());
        req.details = Some("山田太郎です。登録情報を見たいです。".into());
        let o = e.m.request_open(&clerk, req).await.unwrap();
        let m = bad_input(
            e.m.request_verify(&clerk, &o.id, "email_code", Some("K7Q2X9"))
                .await,
        );
        assert!(m.contains("not linked to a principal"), "{m}");
        e.m.request_link(&clerk, &o.id, &pid).await.unwrap();
        e.m.request_verify(&clerk, &o.id, "email_code", Some("K7Q2X9"))
            .await
            .unwrap();
        let shown = e.m.request_show(&clerk, &o.id).await.unwrap();
        assert_eq!(shown["details"], "山田太郎です。登録情報を見たいです。");
        assert_eq!(shown["status"], "verified");
        if e.backend == "sqlite" {
            assert!(
                contains(&e.dir, "登録情報を見たい".as_bytes()).is_empty(),
                "details are sealed"
            );
        }
    })
    .await;
}
