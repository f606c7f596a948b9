//! Retention sweeps, disposal and backups (issue 8) on SQLite and PostgreSQL: period boundaries,
//! dry runs, fields with their own periods, requests holding disposal back, provision records
//! purged, rerun after a crash, and restores that never bring an erased principal back.

use mamori_service::ServiceError;
use mamori_service::provision::{ConsentTarget, ProvideRequest};
use mamori_service::request::OpenRequest;
use mamori_store::{DisposalRow, Store};

use crate::common::*;

async fn course(e: &Env) -> String {
    let clerk = actor(e, "clerk").await;
    e.m.principal_add(
        &clerk,
        mamori_service::principal::NewPrincipal {
            channel: "course_application".into(),
            fields: fields(&[
                ("name", "Retention Probe"),
                ("email", "probe@example.org"),
                ("form_text", "初級クラス希望"),
            ]),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn a_sweep_destroys_exactly_what_has_passed_its_period_and_a_dry_run_nothing() {
    on_both("chiba-ia", |e| async move {
        let old = course(&e).await;
        let volunteer = add_volunteer(&e).await; // P3Y: survives a one-year sweep
        let manager = actor(&e, "manager").await;
        // Two minutes short of the end of its one-year period: kept.
        age(&e, &old, "P1Y", -120).await;
        let r =
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await
                .unwrap();
        assert!(
            r.destroyed.is_empty(),
            "before the end of the period: {:?}",
            r.destroyed
        );
        assert_eq!(r.examined, 2);

        age(&e, &old, "P1Y", 1).await;
        let dry =
            e.m.retention_sweep(Some(&manager), None, true, false, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(dry.destroyed, vec![old.clone()]);
        let clerk = actor(&e, "clerk").await;
        e.m.principal_show(&clerk, &old, "registration_contact", None, None)
            .await
            .unwrap();

        // One of two principals is more than a tenth: refused until confirmed.
        let m = bad_input(
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await,
        );
        assert!(
            m.starts_with(
                "--confirm-large: this sweep would destroy 1 of 2 principals, more than a tenth"
            ),
            "{m}"
        );
        e.m.principal_show(&clerk, &old, "registration_contact", None, None)
            .await
            .unwrap();

        let mut seen = 0;
        let r =
            e.m.retention_sweep(Some(&manager), None, false, true, &mut |n| seen = n)
                .await
                .unwrap();
        assert_eq!(r.destroyed, vec![old.clone()]);
        assert_eq!(seen, 2);
        assert!(matches!(
            e.m.principal_show(&clerk, &old, "registration_contact", None, None)
                .await,
            Err(ServiceError::NotFound(_))
        ));
        e.m.principal_show(&clerk, &volunteer, "registration_contact", None, None)
            .await
            .unwrap();
        let d = e.m.disposals(&manager, Some(&old)).await.unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].categories, vec!["email", "form_text", "name"]);
        assert!(
            d[0].rule.starts_with("retention:course_application P1Y"),
            "{}",
            d[0].rule
        );
        // Rerunning finds nothing more.
        let again =
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await
                .unwrap();
        assert!(again.destroyed.is_empty());
        e.m.audit_verify().await.unwrap();
        if e.backend == "sqlite" {
            for v in ["Retention Probe", "probe@example", "初級クラス"] {
                let hits = scan_dir(&e.dir, v);
                assert!(hits.is_empty(), "{v}: {hits:?}");
            }
        }
        let d = denied(
            e.m.retention_sweep(Some(&clerk), None, true, false, &mut |_| {})
                .await,
        );
        assert!(
            d.starts_with("role clerk may not run retention and disposal"),
            "{d}"
        );
    })
    .await;
}

/// Issue 20: a real sweep with `--now` in the future destroyed every principal. Only a dry run
/// looks ahead; a real one is refused naming --now, and nothing changes.
#[tokio::test]
async fn a_real_sweep_in_the_future_is_refused_naming_now_and_destroys_nothing() {
    on_both("chiba-ia", |e| async move {
        let a = course(&e).await;
        let b = add_volunteer(&e).await;
        let manager = actor(&e, "manager").await;
        let future = "2040-01-01T00:00:00+09:00";
        let dry =
            e.m.retention_sweep(Some(&manager), Some(future), true, false, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(dry.destroyed.len(), 2, "a dry run may look ahead");
        let before = e.m.status().await.unwrap()["audit_entries"].clone();
        for confirm in [false, true] {
            let m = bad_input(
                e.m.retention_sweep(Some(&manager), Some(future), false, confirm, &mut |_| {})
                    .await,
            );
            assert!(
                m.starts_with("--now: a real sweep runs as of the clock"),
                "{m}"
            );
            assert!(m.ends_with("look ahead with a dry run"), "{m}");
        }
        assert_eq!(
            e.m.status().await.unwrap()["audit_entries"],
            before,
            "nothing written"
        );
        assert_eq!(principals(&e).await, 2);
        let clerk = actor(&e, "clerk").await;
        for id in [&a, &b] {
            e.m.principal_show(&clerk, id, "registration_contact", None, None)
                .await
                .unwrap();
        }
        assert!(e.m.disposals(&manager, None).await.unwrap().is_empty());
    })
    .await;
}

/// Issue 20: a sweep that would destroy more than a tenth of all principals needs an explicit
/// confirmation; refused, it destroys nobody (not even the part under the limit).
#[tokio::test]
async fn a_sweep_destroying_more_than_a_tenth_needs_confirmation_and_refused_changes_nothing() {
    on_both("chiba-ia", |e| async move {
        let manager = actor(&e, "manager").await;
        let mut ids = Vec::new();
        for _ in 0..10 {
            ids.push(add_volunteer(&e).await);
        }
        // One expired of ten: a tenth exactly, allowed without confirmation.
        age(&e, &ids[0], "P3Y", 1).await;
        let r =
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(r.destroyed, vec![ids[0].clone()]);
        // Two expired of nine: refused, both kept.
        age(&e, &ids[1], "P3Y", 1).await;
        age(&e, &ids[2], "P3Y", 1).await;
        let m = bad_input(
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await,
        );
        assert_eq!(
            m,
            "--confirm-large: this sweep would destroy 2 of 9 principals, more than a tenth: check the list with a dry run, then confirm the sweep"
        );
        assert_eq!(principals(&e).await, 9);
        assert_eq!(e.m.disposals(&manager, None).await.unwrap().len(), 1);
        let r =
            e.m.retention_sweep(Some(&manager), None, false, true, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(r.destroyed.len(), 2);
        assert_eq!(principals(&e).await, 7);
        // The server's own daily run never confirms.
        age(&e, &ids[3], "P3Y", 1).await;
        age(&e, &ids[4], "P3Y", 1).await;
        let m = bad_input(e.m.retention_sweep(None, None, false, false, &mut |_| {}).await);
        assert!(m.starts_with("--confirm-large: this sweep would destroy 2 of 7"), "{m}");
        assert_eq!(principals(&e).await, 7);
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_open_request_holds_disposal_back_and_a_shorter_category_period_removes_the_field_alone()
{
    on_both("chiba-ia", |e| async move {
        let held = course(&e).await;
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let o = e.m.request_open(&clerk, OpenRequest {
            principal_id: Some(held.clone()),
            kind: "disclosure".into(),
            received_at: "2026-11-20T10:00".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        age(&e, &held, "P1Y", 1).await;
        let r = e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {}).await.unwrap();
        assert!(r.destroyed.is_empty());
        assert_eq!(r.held.len(), 1);
        assert!(r.held[0].reason.contains(&o.id));

        // form_text gets a 30-day period of its own.
        let text = mamori_policy::preset("chiba-ia")
            .unwrap()
            .replace("version = \"2022-04-01\"", "version = \"2026-11-02\"")
            .replace("id = \"form_text\"\nja = \"その他入力フォーム等から提供された情報\"\nen = \"Other information given in forms\"", "id = \"form_text\"\nja = \"その他入力フォーム等から提供された情報\"\nen = \"Other information given in forms\"\nretention = \"P30D\"");
        assert!(text.contains("retention = \"P30D\""));
        e.m.policy_apply(None, &text, "v2.toml", &mamori_service::today_jst().to_string()).await.unwrap();
        let fresh = course(&e).await;
        age(&e, &fresh, "P31D", 0).await;
        let r = e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {}).await.unwrap();
        assert!(r.destroyed.is_empty());
        assert!(r.fields_removed.iter().any(|f| f.principal_id == fresh && f.categories == vec!["form_text"]));
        let s = e.m.principal_show(&clerk, &fresh, "registration_contact", None, None).await.unwrap();
        assert!(!s.fields.contains_key("form_text"));
        assert_eq!(s.fields["name"], "Retention Probe");
    })
    .await;
}

#[tokio::test]
async fn provision_records_are_purged_after_their_keeping_period() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        e.m.consent_give(
            &clerk,
            &pid,
            &ConsentTarget::Recipient("selecttype".into()),
            Some("form 2026-041"),
            false,
        )
        .await
        .unwrap();
        let p =
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
            .await
            .unwrap();
        let until: jiff::civil::Date = p.record_kept_until.unwrap().parse().unwrap();
        let last_day = format!("{until}T23:59:59+09:00");
        let next_day = format!("{}T00:00:00+09:00", until.tomorrow().unwrap());
        let r =
            e.m.retention_sweep(Some(&manager), Some(&last_day), true, false, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(r.provision_records_purged, 0);
        let r =
            e.m.retention_sweep(Some(&manager), Some(&next_day), true, false, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(r.provision_records_purged, 1, "a dry run counts it");
        // A real sweep runs as of the clock: the record's keeping period is moved back instead.
        let yesterday = mamori_service::today_jst().yesterday().unwrap().to_string();
        e.m.store()
            .write(
                vec![mamori_store::Stmt::new(
                    "UPDATE provisions SET record_kept_until = $1",
                    vec![yesterday.as_str().into()],
                )],
                vec![],
            )
            .await
            .unwrap();
        let r =
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(r.provision_records_purged, 1);
        assert!(
            e.m.provisions_list(&manager, None)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_sweep_finishes_an_erasure_a_crash_interrupted() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let manager = actor(&e, "manager").await;
        // The data half of an erasure committed, then the process died before the key went.
        let d = DisposalRow {
            disposal_id: "d_crash".into(),
            principal_id: pid.clone(),
            categories: vec!["name".into()],
            fields: 5,
            at: mamori_store::now_string(),
            rule: "test".into(),
            request_id: None,
            by: "test".into(),
        };
        e.m.store()
            .write(Store::erase_statements(&pid, &d), vec![])
            .await
            .unwrap();
        assert!(e.m.store().has_data_key(&pid).await.unwrap());
        let r =
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(r.keys_destroyed, vec![pid.clone()]);
        assert!(!e.m.store().has_data_key(&pid).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn restoring_an_old_backup_never_brings_an_erased_principal_back() {
    on_both("chiba-ia", |e| async move {
        let gone = add_volunteer(&e).await;
        let kept = course(&e).await;
        let clerk = actor(&e, "clerk").await;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.mamori");
        let keys = dir.path().join("keys.mamori");
        let r = e.m.backup(&data, false).await.unwrap();
        assert!(r.rows > 0);
        e.m.backup(&keys, true).await.unwrap();
        let m = bad_input(e.m.backup(&data, false).await);
        assert!(m.starts_with("--out: "), "{m}");
        if e.backend == "sqlite" {
            assert!(
                scan_dir(dir.path(), "山田").is_empty(),
                "backups hold ciphertext only"
            );
        }

        e.m.erase_principal("test", &gone, "test erasure", None)
            .await
            .unwrap();
        let after_erasure = e.m.status().await.unwrap();

        // Restore the old data backup: the principal's row comes back, but this folder knows
        // the erasure (the key store's tombstone), so they are erased again at once.
        let out = e.m.restore(std::slice::from_ref(&data)).await.unwrap();
        assert_eq!(out.re_erased, vec![gone.clone()]);
        assert!(matches!(
            e.m.principal_show(&clerk, &gone, "registration_contact", None, None)
                .await,
            Err(ServiceError::NotFound(_))
        ));
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
        // The other principal is back and readable.
        e.m.principal_show(&clerk, &kept, "registration_contact", None, None)
            .await
            .unwrap();
        // Restoring the old key backup does not revive the erased principal's key.
        let out = e.m.restore(std::slice::from_ref(&keys)).await.unwrap();
        assert_eq!(out.keys_destroyed, vec![gone.clone()]);
        assert!(!e.m.store().has_data_key(&gone).await.unwrap());
        assert!(matches!(
            e.m.principal_show(&clerk, &gone, "registration_contact", None, None)
                .await,
            Err(ServiceError::NotFound(_))
        ));
        assert_eq!(
            e.m.status().await.unwrap()["principals"],
            after_erasure["principals"]
        );
        // The log verifies after the restore (its head follows the restored log).
        e.m.audit_verify().await.unwrap();
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "hello").unwrap();
        let m = bad_input(e.m.restore(std::slice::from_ref(&junk)).await);
        assert!(m.contains("is not a Mamori backup"), "{m}");
    })
    .await;
}

#[tokio::test]
async fn rotating_the_master_key_rewraps_every_key_and_readers_keep_working() {
    on_both("chiba-ia", |e| async move {
        let a = add_volunteer(&e).await;
        let b = course(&e).await;
        let clerk = actor(&e, "clerk").await;
        // Another process on the same data folder, opened before the rotation.
        let cfg = mamori_service::Config {
            data_dir: e.dir.clone(),
            database_url: e.url.clone(),
        };
        let other = mamori_service::Mamori::open(&cfg).await.unwrap();
        let before = std::fs::read_to_string(e.dir.join("master.key")).unwrap();

        let r = e.m.rotate_master_key().await.unwrap();
        assert!(r.rewrapped >= 2, "{r:?}");
        assert!(!r.resumed);
        let after = std::fs::read_to_string(e.dir.join("master.key")).unwrap();
        assert_ne!(before, after, "the old master key is gone");
        assert!(!e.dir.join("master.key.new").exists());

        // The other process reads keys it never saw, and wraps new ones under the new key.
        let clerk2 = other.actor("clerk").await.unwrap();
        let s = other
            .principal_show(&clerk2, &b, "registration_contact", None, None)
            .await
            .unwrap();
        assert_eq!(s.fields["name"], "Retention Probe");
        let c = other
            .principal_add(
                &clerk2,
                mamori_service::principal::NewPrincipal {
                    channel: "inquiry".into(),
                    fields: fields(&[("name", "After Rotation")]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        // A fresh process with only the new master key reads everything; blind indexes still match.
        let fresh = mamori_service::Mamori::open(&cfg).await.unwrap();
        let clerk3 = fresh.actor("clerk").await.unwrap();
        for id in [&a, &b] {
            fresh
                .principal_show(&clerk3, id, "registration_contact", None, None)
                .await
                .unwrap();
        }
        fresh
            .principal_show(&clerk3, &c, "inquiry_response", None, None)
            .await
            .unwrap();
        let hit = fresh
            .principal_find(
                &clerk3,
                "registration_contact",
                "email",
                "taro.yamada@example.jp",
            )
            .await
            .unwrap();
        assert_eq!(hit.len(), 1);
        let _ = clerk;

        // A rotation interrupted after writing the next key resumes with it.
        let next = mamori_store::Keys::generate_master_hex();
        mamori_store::crypto::write_secret_file(&e.dir.join("master.key.new"), &next).unwrap();
        let resumed = mamori_service::Mamori::open(&cfg).await.unwrap();
        let r = resumed.rotate_master_key().await.unwrap();
        assert!(r.resumed);
        assert_eq!(
            std::fs::read_to_string(e.dir.join("master.key")).unwrap(),
            next.as_str()
        );
        let last = mamori_service::Mamori::open(&cfg).await.unwrap();
        let clerk4 = last.actor("clerk").await.unwrap();
        last.principal_show(&clerk4, &a, "registration_contact", None, None)
            .await
            .unwrap();
        last.audit_verify().await.unwrap();
    })
    .await;
}
