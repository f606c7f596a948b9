//! "A clerk alone" (issue 20), on SQLite and PostgreSQL: a request is fulfilled only on
//! recorded identity evidence (never a whole document number), every fulfilled request goes
//! to the manager's review with that evidence, account creations and role changes are in the
//! same review, nobody marks done an entry they caused, and a token statutory-exception reason
//! is refused. Each attack fails with its message and changes nothing.

use mamori_service::principal::parse_exception;
use mamori_service::request::OpenRequest;
use mamori_service::{Actor, ServiceError};

use crate::common::*;

async fn open(e: &Env, who: &Actor, pid: &str, kind: &str) -> String {
    e.m.request_open(
        who,
        OpenRequest {
            principal_id: Some(pid.into()),
            kind: kind.into(),
            received_at: "2026-11-20T10:30:00+09:00".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn second_manager(e: &Env) -> Actor {
    e.m.staff_add(None, "manager2", "manager", None, PASSWORD)
        .await
        .unwrap();
    actor(e, "manager2").await
}

#[tokio::test]
async fn a_request_is_fulfilled_only_on_recorded_evidence_never_a_whole_document_number() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let id = open(&e, &clerk, &pid, "disclosure").await;
        for (method, evidence, expected) in [
            ("in_person_residence_card", None, "--evidence: is empty: name the document you saw"),
            ("in_person_residence_card", Some("  "), "--evidence: is empty: name the document you saw"),
            (
                "in_person_residence_card",
                Some("在留カード AB12345678CD"),
                "--evidence: holds a whole document number: keep at most its last four digits",
            ),
            ("in_person_id_document", Some("1234"), "--evidence: name the document you saw"),
            ("email_code", None, "--evidence: is empty: give the code the principal entered"),
            ("mailed_code", Some("x"), "--evidence: give the code the principal entered"),
        ] {
            let m = bad_input(e.m.request_verify(&clerk, &id, method, evidence).await);
            assert!(m.starts_with(expected), "{method} {evidence:?}: {m}");
            assert!(!m.contains("12345678"), "the message repeats no number: {m}");
        }
        let shown = e.m.request_show(&clerk, &id).await.unwrap();
        assert_eq!(shown["status"], "open", "nothing recorded");
        assert!(
            bad_input(e.m.request_fulfil(&clerk, &id, &[], None).await)
                .contains("identity is not verified")
        );
        e.m.request_verify(&clerk, &id, "in_person_residence_card", Some("在留カード 末尾1234"))
            .await
            .unwrap();
        // A request verified before evidence was kept (issue 20) is not fulfilled on it.
        e.m.store()
            .write(
                vec![mamori_store::Stmt::new(
                    "UPDATE requests SET evidence_ct = NULL WHERE id = $1",
                    vec![id.as_str().into()],
                )],
                vec![],
            )
            .await
            .unwrap();
        let m = bad_input(e.m.request_fulfil(&clerk, &id, &[], None).await);
        assert!(
            m.contains("the identity check recorded no evidence: verify it again with --method and --evidence"),
            "{m}"
        );
        e.m.request_verify(&clerk, &id, "in_person_residence_card", Some("在留カード 末尾1234"))
            .await
            .unwrap();
        let f = e.m.request_fulfil(&clerk, &id, &[], None).await.unwrap();
        assert_eq!(f.status, "fulfilled");
        if e.backend == "sqlite" {
            assert!(scan_dir(&e.dir, "末尾1234").is_empty(), "the evidence is sealed");
        }
    })
    .await;
}

#[tokio::test]
async fn every_fulfilled_request_goes_to_the_managers_review_with_its_evidence() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let mut done = Vec::new();
        for (kind, method, evidence) in [
            (
                "disclosure",
                "in_person_residence_card",
                "在留カード 末尾1234",
            ),
            ("suspension", "email_code", "K7Q2X9"),
            ("erasure", "mailed_code", "M4P8"),
        ] {
            let id = open(&e, &clerk, &pid, kind).await;
            e.m.request_verify(&clerk, &id, method, Some(evidence))
                .await
                .unwrap();
            e.m.request_fulfil(&clerk, &id, &[], None).await.unwrap();
            done.push((id, kind, method, evidence));
        }
        let list = e.m.exception_reviews(&manager, false).await.unwrap();
        for (id, kind, method, evidence) in &done {
            let r = list
                .iter()
                .find(|r| r.request_id.as_deref() == Some(id.as_str()))
                .unwrap_or_else(|| panic!("{kind} {id} is not in the review: {list:?}"));
            assert_eq!(r.kind, format!("request:{kind}"));
            assert_eq!(r.staff, "clerk");
            assert_eq!(r.principal_id, pid);
            assert_eq!(r.verify_method.as_deref(), Some(*method));
            assert_eq!(r.verified_by.as_deref(), Some("clerk"));
            assert_eq!(
                r.evidence.as_deref(),
                Some(*evidence),
                "{kind}: after the erasure too"
            );
            assert!(r.reviewed_at.is_none());
        }
        // The clerk cannot review; the manager marks them done.
        let d = denied(e.m.exception_reviews(&clerk, false).await);
        assert!(d.starts_with("role clerk may not review"), "{d}");
        let first = list
            .iter()
            .find(|r| r.request_id.as_deref() == Some(done[0].0.as_str()))
            .unwrap();
        let r =
            e.m.exception_review_done(&manager, &first.id)
                .await
                .unwrap();
        assert_eq!(r.reviewed_by.as_deref(), Some("manager"));
        assert_eq!(
            bad_input(e.m.exception_review_done(&manager, &first.id).await),
            format!("ID: {} was reviewed already", first.id)
        );
        let pending = e.m.exception_reviews(&manager, false).await.unwrap();
        assert!(pending.iter().all(|x| x.id != first.id));
        let all = e.m.exception_reviews(&manager, true).await.unwrap();
        assert!(
            all.iter()
                .any(|x| x.id == first.id && x.reviewed_by.as_deref() == Some("manager"))
        );
    })
    .await;
}

#[tokio::test]
async fn nobody_marks_done_a_review_entry_they_caused() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let manager = actor(&e, "manager").await;
        let other = second_manager(&e).await;
        // The manager reads under a statutory exception, then tries to approve it.
        let ex = parse_exception(Some("law"), Some("捜査関係事項照会書 第123号")).unwrap();
        e.m.principal_show(&manager, &pid, "inquiry_response", None, ex.as_ref())
            .await
            .unwrap();
        // The manager handles a request alone, then tries to approve it.
        let rid = open(&e, &manager, &pid, "disclosure").await;
        e.m.request_verify(&manager, &rid, "email_code", Some("K7Q2X9"))
            .await
            .unwrap();
        e.m.request_fulfil(&manager, &rid, &[], None).await.unwrap();
        let list = e.m.exception_reviews(&manager, false).await.unwrap();
        let access = list.iter().find(|r| r.kind == "law").unwrap();
        let request = list
            .iter()
            .find(|r| r.request_id.as_deref() == Some(rid.as_str()))
            .unwrap();
        for entry in [access, request] {
            let d = denied(e.m.exception_review_done(&manager, &entry.id).await);
            assert_eq!(
                d,
                format!(
                    "manager may not review {}, which they did themselves: another manager reviews it (separation of duties, seed 000 Art. 8-1; seed 003 Art. 9(3))",
                    entry.id
                )
            );
        }
        let still = e.m.exception_reviews(&manager, false).await.unwrap();
        assert!(still.iter().any(|r| r.id == access.id) && still.iter().any(|r| r.id == request.id));
        let log = e.m.audit_log(&manager, None, 200).await.unwrap();
        assert_eq!(
            log.iter()
                .filter(|x| x.action == "exception_review.done" && x.decision == "deny")
                .count(),
            2,
            "each refusal is on the log"
        );
        // Another manager reviews both.
        for entry in [&access.id, &request.id] {
            let r = e.m.exception_review_done(&other, entry).await.unwrap();
            assert_eq!(r.reviewed_by.as_deref(), Some("manager2"));
        }
    })
    .await;
}

#[tokio::test]
async fn account_creations_and_role_changes_are_in_the_managers_review() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        let manager = actor(&e, "manager").await;
        // An administrator invites (it never chooses the password).
        e.m.staff_invite(Some(&admin), "tanaka", "clerk", None)
            .await
            .unwrap();
        e.m.staff_role(&admin, "tanaka", "manager").await.unwrap();
        let list = e.m.exception_reviews(&manager, false).await.unwrap();
        let add = list
            .iter()
            .find(|r| r.kind == "staff.invite" && r.account.as_deref() == Some("tanaka"))
            .unwrap_or_else(|| panic!("no staff.invite entry: {list:?}"));
        assert_eq!(add.staff, "admin");
        assert!(add.id.starts_with("audit-"), "{}", add.id);
        let role = list
            .iter()
            .find(|r| r.kind == "staff.role" && r.account.as_deref() == Some("tanaka"))
            .unwrap();
        assert_eq!(role.detail.as_ref().unwrap()["to"], "manager");
        // The promoted account may not approve its own promotion.
        let tanaka = actor(&e, "tanaka").await;
        let d = denied(e.m.exception_review_done(&tanaka, &role.id).await);
        assert!(d.starts_with("tanaka may not review audit-"), "{d}");
        let r = e.m.exception_review_done(&manager, &role.id).await.unwrap();
        assert_eq!(r.reviewed_by.as_deref(), Some("manager"));
        assert_eq!(r.account.as_deref(), Some("tanaka"));
        assert_eq!(
            bad_input(e.m.exception_review_done(&manager, &role.id).await),
            format!("ID: {} was reviewed already", role.id)
        );
        let pending = e.m.exception_reviews(&manager, false).await.unwrap();
        assert!(pending.iter().all(|x| x.id != role.id));
        assert!(pending.iter().any(|x| x.id == add.id));
        let all = e.m.exception_reviews(&manager, true).await.unwrap();
        let reviewed = all.iter().find(|x| x.id == role.id).unwrap();
        assert_eq!(reviewed.reviewed_by.as_deref(), Some("manager"));
        match e.m.exception_review_done(&manager, "audit-999999").await {
            Err(ServiceError::NotFound(m)) => {
                assert!(m.starts_with("ID: there is no review entry"), "{m}")
            }
            other => panic!("expected not found, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_token_statutory_exception_reason_is_refused_and_nothing_is_read() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let before = e.m.status().await.unwrap();
        for token in ["x", "照会", "........"] {
            let m = bad_input(parse_exception(Some("law"), Some(token)));
            assert!(
                m.starts_with("--reason: too short to review: write at least 8 characters"),
                "{token}: {m}"
            );
        }
        let after = e.m.status().await.unwrap();
        assert_eq!(before["audit_entries"], after["audit_entries"]);
        assert_eq!(after["pending_exception_reviews"], 0);
        let _ = pid;
    })
    .await;
}

#[tokio::test]
async fn a_consent_needs_its_evidence_and_special_care_consent_is_a_fact_not_a_text() {
    on_both("chiba-ia", |e| async move {
        use mamori_service::principal::NewPrincipal;
        use mamori_service::provision::ConsentTarget;
        let clerk = actor(&e, "clerk").await;
        let pid = add_volunteer(&e).await;
        for evidence in [None, Some("  ")] {
            let m = bad_input(
                e.m.consent_give(
                    &clerk,
                    &pid,
                    &ConsentTarget::Purpose("inquiry_response".into()),
                    evidence,
                    false,
                )
                .await,
            );
            assert_eq!(
                m,
                "--evidence: is empty: a consent is recorded with where it is kept (e.g. form 2026-041)"
            );
        }
        assert!(e.m.consents_list(&clerk, &pid).await.unwrap().is_empty());
        let before = principals(&e).await;
        for new in [
            NewPrincipal {
                channel: "volunteer".into(),
                fields: fields(&[("name", "Nguyen Van An")]),
                consents: vec!["inquiry_response".into()],
                ..Default::default()
            },
            NewPrincipal {
                channel: "volunteer".into(),
                fields: fields(&[("name", "佐藤 花子"), ("health", "喘息があります")]),
                special_care_consent: true,
                ..Default::default()
            },
        ] {
            let m = bad_input(e.m.principal_add(&clerk, new).await);
            assert!(m.starts_with("--evidence: is empty"), "{m}");
        }
        assert_eq!(principals(&e).await, before, "nobody registered");

        // The attack: a purpose consent whose evidence text begins "special-care" let a
        // correction add health data. Now only the structured fact counts (APPI 20(2)).
        e.m.consent_give(
            &clerk,
            &pid,
            &ConsentTarget::Purpose("inquiry_response".into()),
            Some("special-care acquisition: health"),
            false,
        )
        .await
        .unwrap();
        let manager = actor(&e, "manager").await;
        let m = bad_input(
            e.m.principal_correct(&manager, &pid, &fields(&[("health", "持病あり")]))
                .await,
        );
        assert!(
            m.starts_with("health: special-care-required information may be acquired only with the principal's consent (APPI 20(2))"),
            "{m}"
        );
        // Registered with the consent and its evidence: the fact is on record, and a correction
        // of the special-care field is allowed.
        let with =
            e.m.principal_add(
                &clerk,
                NewPrincipal {
                    channel: "volunteer".into(),
                    fields: fields(&[("name", "佐藤 花子"), ("health", "喘息があります")]),
                    special_care_consent: true,
                    evidence: Some("form 2026-077".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let consents = e.m.store().consents(&with).await.unwrap();
        assert_eq!(consents.len(), 1);
        assert!(consents[0].special_care);
        assert_eq!(consents[0].evidence.as_deref(), Some("form 2026-077"));
        e.m.principal_correct(&manager, &with, &fields(&[("health", "喘息(軽度)")]))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_import_with_consents_needs_where_they_are_kept() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let csv = "name,email\nNguyen Van An,an@example.com\n";
        let consents = vec!["inquiry_response".to_string()];
        let m = bad_input(
            e.m.import_csv(
                &clerk,
                "volunteer",
                csv.as_bytes(),
                &consents,
                false,
                None,
                &mut |_| {},
            )
            .await,
        );
        assert!(m.starts_with("--evidence: is empty"), "{m}");
        assert_eq!(principals(&e).await, 0, "nothing imported");
        let r =
            e.m.import_csv(
                &clerk,
                "volunteer",
                csv.as_bytes(),
                &consents,
                false,
                Some("application forms 2026-04, cabinet 3"),
                &mut |_| {},
            )
            .await
            .unwrap();
        assert_eq!(r.added, 1);
        let id = &r.ids[0];
        let c = e.m.store().consents(id).await.unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].evidence.as_deref(),
            Some("application forms 2026-04, cabinet 3")
        );
    })
    .await;
}
