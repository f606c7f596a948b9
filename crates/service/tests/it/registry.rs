//! The registry end to end: purpose-bound access with its reasons, validation at the edge,
//! import, the audit chain under tampering, and no plaintext in the data folder.

use std::path::Path;

use mamori_policy::ExceptionKind;
use mamori_service::ServiceError;
use mamori_service::principal::{Exception, NewPrincipal};

use crate::common::*;

#[tokio::test]
async fn a_notified_purpose_reveals_values_and_an_unnotified_one_is_denied_with_the_rule() {
    on_both("chiba-ia", |e| async move {
        let id = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let shown = e.m.principal_show(&clerk, &id, "registration_renewal", None, None).await.unwrap();
        assert_eq!(shown.fields["name"], "山田 太郎", "{}", e.backend);
        assert_eq!(shown.fields["email"], "Taro.Yamada@example.jp");
        assert_eq!(shown.fields.len(), 5);

        let narrowed = e
            .m
            .principal_show(&clerk, &id, "registration_contact", Some(&["email".to_string()]), None)
            .await
            .unwrap();
        assert_eq!(narrowed.fields.keys().collect::<Vec<_>>(), vec!["email"]);

        let reason = denied(e.m.principal_show(&clerk, &id, "inquiry_response", None, None).await);
        assert_eq!(
            reason,
            "purpose inquiry_response was not notified for channel volunteer and no consent is on record (APPI 18(1); seed 000 Art. 4, seed 003 Art. 9)"
        );

        // Both decisions are on the log, with the categories and the basis.
        let manager = actor(&e, "manager").await;
        let log = e.m.audit_log(&manager, Some(&id), 100).await.unwrap();
        let reads: Vec<_> = log.iter().filter(|x| x.action == "principal.read").collect();
        assert_eq!(reads.len(), 3);
        assert_eq!(reads[0].basis.as_deref(), Some("notified"));
        assert_eq!(reads[0].categories, "address,email,name,phone,postal_code");
        assert_eq!(reads[1].categories, "email");
        assert_eq!(reads[2].decision, "deny");
        assert_eq!(reads[2].reason.as_deref(), Some(reason.as_str()));
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn consent_and_statutory_exceptions_open_other_purposes() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let id =
            e.m.principal_add(
                &clerk,
                NewPrincipal {
                    channel: "volunteer".into(),
                    fields: fields(&[("name", "Nguyen Van An"), ("email", "an@example.com")]),
                    consents: vec!["inquiry_response".into()],
                    evidence: Some("form 2026-041".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        // Consent given at collection.
        e.m.principal_show(&clerk, &id, "inquiry_response", None, None)
            .await
            .unwrap();

        let other = add_volunteer(&e).await;
        let no_reason = Exception {
            kind: ExceptionKind::PublicAgency,
            reason: " ".into(),
        };
        let reason = denied(
            e.m.principal_show(&clerk, &other, "inquiry_response", None, Some(&no_reason))
                .await,
        );
        assert!(reason.contains("needs a written reason"), "{reason}");

        let before = e.m.status().await.unwrap()["pending_exception_reviews"]
            .as_i64()
            .unwrap();
        let with_reason = Exception {
            kind: ExceptionKind::PublicAgency,
            reason: "police inquiry 2026-118 about 山田".into(),
        };
        let shown =
            e.m.principal_show(&clerk, &other, "inquiry_response", None, Some(&with_reason))
                .await
                .unwrap();
        assert_eq!(shown.fields["name"], "山田 太郎");
        let after = e.m.status().await.unwrap()["pending_exception_reviews"]
            .as_i64()
            .unwrap();
        assert_eq!(
            after,
            before + 1,
            "the use is flagged for the manager's review"
        );
        let manager = actor(&e, "manager").await;
        let log = e.m.audit_log(&manager, Some(&other), 10).await.unwrap();
        let last = log
            .iter()
            .rev()
            .find(|x| x.action == "principal.read")
            .unwrap();
        assert_eq!(last.basis.as_deref(), Some("exception:public-agency"));
        // The written reason is sealed, not on the log.
        assert!(!last.detail.contains("police"), "{}", last.detail);
    })
    .await;
}

#[tokio::test]
async fn the_auditor_and_the_admin_never_read_personal_values() {
    on_both("chiba-ia", |e| async move {
        let id = add_volunteer(&e).await;
        let auditor = actor(&e, "auditor").await;
        let reason = denied(
            e.m.principal_show(&auditor, &id, "registration_contact", None, None)
                .await,
        );
        assert!(
            reason.starts_with("role auditor may not read personal values"),
            "{reason}"
        );
        let reason = denied(
            e.m.principal_find(
                &auditor,
                "registration_contact",
                "email",
                "taro.yamada@example.jp",
            )
            .await,
        );
        assert!(
            reason.starts_with("role auditor may not read personal values"),
            "{reason}"
        );
        let admin = actor(&e, "admin").await;
        let reason = denied(
            e.m.principal_show(&admin, &id, "registration_contact", None, None)
                .await,
        );
        assert!(
            reason.starts_with("role admin may not read personal values"),
            "{reason}"
        );
        // The auditor reads the log instead.
        let log = e.m.audit_log(&auditor, None, 50).await.unwrap();
        assert!(
            log.iter()
                .any(|x| x.actor == "auditor" && x.decision == "deny")
        );
        // And the clerk may not read the log.
        let clerk = actor(&e, "clerk").await;
        let reason = denied(e.m.audit_log(&clerk, None, 50).await);
        assert!(reason.contains("may not read the audit log"), "{reason}");
    })
    .await;
}

#[tokio::test]
async fn find_uses_the_blind_index_and_correct_updates_it() {
    on_both("chiba-ia", |e| async move {
        let id = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let hit =
            e.m.principal_find(
                &clerk,
                "registration_contact",
                "email",
                "  TARO.yamada@EXAMPLE.jp ",
            )
            .await
            .unwrap();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].id, id);
        let hit =
            e.m.principal_find(&clerk, "registration_contact", "phone", "090-1234-5678")
                .await
                .unwrap();
        assert_eq!(hit.len(), 1, "+81 and domestic forms match");
        let none =
            e.m.principal_find(&clerk, "registration_contact", "email", "other@example.jp")
                .await
                .unwrap();
        assert!(none.is_empty());

        let c =
            e.m.principal_correct(&clerk, &id, &fields(&[("email", "taro@example.org")]))
                .await
                .unwrap();
        assert_eq!(c.corrected, vec!["email"]);
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
        assert_eq!(
            e.m.principal_find(&clerk, "registration_contact", "email", "taro@example.org")
                .await
                .unwrap()
                .len(),
            1
        );
        let shown =
            e.m.principal_show(&clerk, &id, "registration_contact", None, None)
                .await
                .unwrap();
        assert_eq!(shown.fields["email"], "taro@example.org");
        assert_eq!(shown.fields["name"], "山田 太郎", "other fields untouched");
        // The audit keeps fingerprints of old and new values, never the values.
        let manager = actor(&e, "manager").await;
        let log = e.m.audit_log(&manager, Some(&id), 50).await.unwrap();
        let corr = log
            .iter()
            .find(|x| x.action == "principal.correct")
            .unwrap();
        assert!(
            corr.detail.contains("before") && !corr.detail.contains("example"),
            "{}",
            corr.detail
        );
    })
    .await;
}

#[tokio::test]
async fn bad_input_names_the_field_and_stores_nothing() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let add = |ch: &str, f: Vec<(String, String)>| NewPrincipal {
            channel: ch.into(),
            fields: f,
            ..Default::default()
        };
        let m = bad_input(
            e.m.principal_add(
                &clerk,
                add(
                    "volunteer",
                    fields(&[("name", "Ok Name"), ("email", "not-an-email")]),
                ),
            )
            .await,
        );
        assert!(m.starts_with("email: "), "{m}");
        assert!(!m.contains("not-an-email"), "the value is not echoed: {m}");
        let m = bad_input(
            e.m.principal_add(
                &clerk,
                add(
                    "volunteer",
                    fields(&[("form_text", "card 4242 4242 4242 4242 thanks")]),
                ),
            )
            .await,
        );
        assert!(m.contains("card"), "{m}");
        assert!(!m.contains("4242"), "{m}");
        let m = bad_input(
            e.m.principal_add(
                &clerk,
                add("inquiry", fields(&[("passport_number", "TK1234567")])),
            )
            .await,
        );
        assert!(m.starts_with("passport_number: "), "{m}");
        let m = bad_input(
            e.m.principal_add(&clerk, add("nowhere", fields(&[("name", "A")])))
                .await,
        );
        assert!(m.starts_with("--channel: "), "{m}");
        let m = bad_input(
            e.m.principal_add(&clerk, add("volunteer", fields(&[("health", "asthma")])))
                .await,
        );
        assert!(m.contains("APPI 20(2)"), "{m}");
        let m = bad_input(
            e.m.principal_add(
                &clerk,
                add("web_access", fields(&[("ip_address", "192.0.2.1")])),
            )
            .await,
        );
        assert!(m.contains("seed 000 Art. 5-2"), "{m}");
        match e
            .m
            .principal_show(
                &clerk,
                "p_0000000000000000",
                "registration_contact",
                None,
                None,
            )
            .await
        {
            Err(ServiceError::NotFound(m)) => {
                assert_eq!(m, "ID: there is no principal p_0000000000000000")
            }
            other => panic!("expected not found, got {other:?}"),
        }
        assert_eq!(principals(&e).await, 0, "nothing stored on {}", e.backend);
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn special_care_data_is_kept_only_with_consent() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let id =
            e.m.principal_add(
                &clerk,
                NewPrincipal {
                    channel: "volunteer".into(),
                    fields: fields(&[("name", "佐藤 花子"), ("health", "喘息があります")]),
                    special_care_consent: true,
                    evidence: Some("form 7".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let s =
            e.m.principal_show(&clerk, &id, "registration_contact", None, None)
                .await
                .unwrap();
        assert_eq!(s.fields["health"], "喘息があります");
    })
    .await;
}

#[tokio::test]
async fn import_reports_bad_rows_by_line_reads_shift_jis_and_does_not_duplicate_on_rerun() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let csv = "name,email,phone\n鈴木 一郎,ichiro@example.jp,03-1234-5678\nBad Row,broken-email,\nMaria Santos,maria@example.com,080-1111-2222\n";
        let mut n = 0;
        let mut progress = |x: u64| n = x;
        let r = e.m.import_csv(&clerk, "volunteer", csv.as_bytes(), &[], false, None, &mut progress).await.unwrap();
        assert_eq!((r.rows, r.added, r.errors.len()), (3, 2, 1));
        assert_eq!(r.errors[0].line, 3);
        assert_eq!(r.errors[0].field, "email");
        assert!(!r.errors[0].problem.contains("broken-email"));
        assert_eq!(n, 3);
        // Rerun: nothing new.
        let r2 = e.m.import_csv(&clerk, "volunteer", csv.as_bytes(), &[], false, None, &mut |_| {}).await.unwrap();
        assert_eq!((r2.added, r2.already_imported), (0, 2));
        // Same person typed differently but same email: already registered.
        let again = "name,email\n鈴木　一郎,ICHIRO@example.jp\n";
        let r3 = e.m.import_csv(&clerk, "volunteer", again.as_bytes(), &[], false, None, &mut |_| {}).await.unwrap();
        assert_eq!((r3.added, r3.already_registered), (0, 1));
        // Shift_JIS from Excel.
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("name,email\n高橋 次郎,jiro@example.jp\n");
        let r4 = e.m.import_csv(&clerk, "volunteer", &sjis, &[], false, None, &mut |_| {}).await.unwrap();
        assert_eq!((r4.encoding.as_str(), r4.added), ("shift_jis", 1));
        let s = e.m.principal_show(&clerk, &r4.ids[0], "registration_contact", None, None).await.unwrap();
        assert_eq!(s.fields["name"], "高橋 次郎");
        assert_eq!(principals(&e).await, 3);
        // A column the channel does not collect stops the import before anything is stored.
        let m = bad_input(e.m.import_csv(&clerk, "inquiry", b"name,passport_number\nA,B\n", &[], false, None, &mut |_| {}).await);
        assert!(m.contains("line 1") && m.contains("passport_number"), "{m}");
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn many_concurrent_reads_are_each_audited_and_the_chain_verifies() {
    on_both("chiba-ia", |e| async move {
        let id = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let before = e.m.status().await.unwrap()["audit_entries"]
            .as_i64()
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let m = e.m.clone();
            let c = clerk.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                m.principal_show(&c, &id, "registration_contact", None, None)
                    .await
                    .map(|s| s.fields.len())
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 5);
        }
        let after = e.m.status().await.unwrap()["audit_entries"]
            .as_i64()
            .unwrap();
        assert_eq!(after - before, 64);
        let r = e.m.audit_verify().await.unwrap();
        assert_eq!(r.entries, after);
        assert_eq!(
            r.signed_head_seq,
            Some(after),
            "the head outside the database is current"
        );
    })
    .await;
}

#[tokio::test]
async fn tampering_with_the_audit_log_is_detected_and_named() {
    // Alteration.
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        exec(&e, "UPDATE audit_log SET actor = 'nobody' WHERE seq = 2").await;
        assert!(verify_error(&e).await.contains("audit entry 2 was altered"));
    })
    .await;
    // Alteration of an optional field to NULL, and of a value to one with separators in it.
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        let row = sqlx::query(
            "SELECT seq FROM audit_log WHERE principal_id IS NOT NULL ORDER BY seq LIMIT 1",
        )
        .fetch_one(e.m.store().pool())
        .await
        .unwrap();
        let seq: i64 = sqlx::Row::get(&row, 0);
        exec(
            &e,
            &format!("UPDATE audit_log SET principal_id = NULL WHERE seq = {seq}"),
        )
        .await;
        let m = verify_error(&e).await;
        assert!(m.contains(&format!("audit entry {seq} was altered")), "{m}");
    })
    .await;
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        exec(&e, "UPDATE audit_log SET detail = '3:{}~' WHERE seq = 3").await;
        assert!(verify_error(&e).await.contains("audit entry 3 was altered"));
    })
    .await;
    // Deletion.
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        exec(&e, "DELETE FROM audit_log WHERE seq = 3").await;
        assert!(verify_error(&e).await.contains("audit entry 3 is missing"));
    })
    .await;
    // Reordering: two entries swap places.
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        exec(&e, "UPDATE audit_log SET seq = -1 WHERE seq = 2").await;
        exec(&e, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
        exec(&e, "UPDATE audit_log SET seq = 3 WHERE seq = -1").await;
        assert!(verify_error(&e).await.contains("audit entry 2 was altered"));
    })
    .await;
    // Truncation of the tail, head row rewound too.
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        let last = e.m.status().await.unwrap()["audit_entries"]
            .as_i64()
            .unwrap();
        exec(&e, &format!("DELETE FROM audit_log WHERE seq = {last}")).await;
        let m = verify_error(&e).await;
        assert!(
            m.contains("truncated") && m.contains(&format!("says {last}")),
            "{m}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_principal_does_not_decrypt() {
    on_both("chiba-ia", |e| async move {
        let a = add_volunteer(&e).await;
        let b = add_volunteer(&e).await;
        exec(
            &e,
            &format!("UPDATE fields SET ciphertext = (SELECT ciphertext FROM fields WHERE principal_id = '{a}' AND category = 'email') WHERE principal_id = '{b}' AND category = 'email'"),
        )
        .await;
        let clerk = actor(&e, "clerk").await;
        match e.m.principal_show(&clerk, &b, "registration_contact", None, None).await {
            Err(ServiceError::Failed(m)) => assert!(m.contains(&format!("field email of principal {b}")), "{m}"),
            other => panic!("expected a decryption failure, got {other:?}"),
        }
    })
    .await;
}

fn scan(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            found.extend(scan(&p, needles));
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        for n in needles {
            if bytes.windows(n.len()).any(|w| w == n.as_bytes()) {
                found.push(format!("{} contains {n}", p.display()));
            }
        }
    }
    found
}

#[tokio::test]
async fn no_personal_value_is_in_the_data_folder_in_plaintext() {
    let e = setup("chiba-ia", None).await;
    let id = add_volunteer(&e).await;
    let clerk = actor(&e, "clerk").await;
    e.m.principal_show(&clerk, &id, "registration_contact", None, None)
        .await
        .unwrap();
    e.m.principal_correct(&clerk, &id, &fields(&[("address", "千葉市稲毛区轟町9-9")]))
        .await
        .unwrap();
    let csv = "name,email,phone\nPlaintext Probe,probe@example.jp,03-9876-5432\n";
    e.m.import_csv(
        &clerk,
        "volunteer",
        csv.as_bytes(),
        &[],
        false,
        None,
        &mut |_| {},
    )
    .await
    .unwrap();
    let exc = Exception {
        kind: ExceptionKind::Law,
        reason: "court order naming Yamada".into(),
    };
    e.m.principal_show(&clerk, &id, "inquiry_response", None, Some(&exc))
        .await
        .unwrap();
    // Let SQLite checkpoint the WAL into the main file too: both are scanned.
    let needles = [
        "山田",
        "Taro.Yamada",
        "taro.yamada",
        "1234-5678",
        "09012345678",
        "261-0011",
        "美浜区真砂",
        "稲毛区轟町",
        "Plaintext Probe",
        "probe@example",
        "9876-5432",
        "court order",
    ];
    let found = scan(&e.dir, &needles);
    assert!(found.is_empty(), "{found:?}");
}

#[tokio::test]
async fn a_purpose_added_later_is_usable_for_old_data_only_when_related_or_consented() {
    on_both("chiba-ia", |e| async move {
        let id = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        // Version 2 adds two purposes to the volunteer channel: one related to an old purpose,
        // one not.
        let mut text = mamori_policy::preset("chiba-ia").unwrap().replace("version = \"2022-04-01\"", "version = \"2026-11-01\"");
        text = text.replace(
            "[[purposes]]\nid = \"inquiry_response\"",
            "[[purposes]]\nid = \"volunteer_newsletter\"\nja = \"ボランティア向け情報の連絡のため\"\nen = \"To send volunteers news of activities\"\nrelated_to = [\"registration_renewal\"]\n\n[[purposes]]\nid = \"survey\"\nja = \"調査研究のため\"\nen = \"For research surveys\"\n\n[[purposes]]\nid = \"inquiry_response\"",
        );
        text = text.replace(
            "purposes = [\"registration_contact\", \"registration_renewal\", \"material_delivery\", \"user_contact\"]\nretention = \"P3Y\"\nretention_note = { ja = \"最後の活動",
            "purposes = [\"registration_contact\", \"registration_renewal\", \"material_delivery\", \"user_contact\", \"volunteer_newsletter\", \"survey\"]\nretention = \"P3Y\"\nretention_note = { ja = \"最後の活動",
        );
        text = text.replace(
            "id = \"clerk\"\nja = \"事務担当者\"\nen = \"Office clerk\"\npurposes = [",
            "id = \"clerk\"\nja = \"事務担当者\"\nen = \"Office clerk\"\npurposes = [\"volunteer_newsletter\", \"survey\", ",
        );
        let today = mamori_service::today_jst().to_string();
        let applied = e.m.policy_apply(None, &text, "v2.toml", &today).await.unwrap();
        assert_eq!(applied.version, "2026-11-01");
        let clerk2 = actor(&e, "clerk").await;
        let _ = clerk;
        e.m.principal_show(&clerk2, &id, "volunteer_newsletter", None, None).await.unwrap();
        let reason = denied(e.m.principal_show(&clerk2, &id, "survey", None, None).await);
        assert!(reason.contains("purpose survey was not notified for channel volunteer"), "{reason}");
        // Someone registered under the new version was told about the survey.
        let new_id = add_volunteer(&e).await;
        e.m.principal_show(&clerk2, &new_id, "survey", None, None).await.unwrap();
        assert_eq!(e.m.policy_versions().await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn the_correction_form_learns_the_categories_held_but_never_a_value() {
    on_both("chiba-ia", |e| async move {
        let id = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let held = e.m.principal_categories(&clerk, &id).await.unwrap();
        assert_eq!(held.channel, "volunteer");
        let on_record: Vec<&str> = held
            .categories
            .iter()
            .filter(|(_, on)| *on)
            .map(|(c, _)| c.as_str())
            .collect();
        assert_eq!(
            on_record,
            ["name", "phone", "address", "postal_code", "email"]
        );
        let text = serde_json::to_string(&held).unwrap();
        assert!(
            !text.contains("example.jp") && !text.contains("山田"),
            "{text}"
        );
        // Seed 003 Art. 12 is the `correct` action's: the auditor is refused with the rule.
        let auditor = actor(&e, "auditor").await;
        let reason = denied(e.m.principal_categories(&auditor, &id).await);
        assert!(reason.contains("auditor"), "{reason}");
    })
    .await;
}
