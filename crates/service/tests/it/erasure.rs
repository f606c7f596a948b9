//! Erasure leaves nothing of the person (issue 20), on SQLite and PostgreSQL: the free texts of
//! complaints, requests and incidents linked to an erased principal go with them (a dated stub
//! remains, and the old ciphertexts no longer open with any key); correction fingerprints are
//! keyed per principal, so correcting a dummy principal confirms none of an erased person's
//! values; and on SQLite neither the ciphertexts, nor the blind-index digests, nor the data key
//! remain in the data folder's files (main database, key store and their WALs).

use mamori_service::complaint::NewComplaint;
use mamori_service::incident::StepKind;
use mamori_service::request::OpenRequest;
use mamori_store::crypto::{field_aad, open_with};
use sqlx::Row;

use crate::common::*;

const NAMED: &str = "山田太郎さんから電話: 090-1234-5678 の番号を消してほしい";

async fn erase_by_request(e: &Env, pid: &str, details: Option<&str>) -> String {
    let clerk = actor(e, "clerk").await;
    let o =
        e.m.request_open(
            &clerk,
            OpenRequest {
                principal_id: Some(pid.into()),
                kind: "erasure".into(),
                received_at: mamori_calendar::format_jst(jiff::Timestamp::now()),
                details: details.map(str::to_string),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    e.m.request_verify(
        &clerk,
        &o.id,
        "in_person_residence_card",
        Some("在留カード 末尾1234"),
    )
    .await
    .unwrap();
    e.m.request_fulfil(&clerk, &o.id, &[], None).await.unwrap();
    o.id
}

async fn blob(e: &Env, sql: &'static str, id: &str) -> Vec<u8> {
    sqlx::query(sql)
        .bind(id)
        .fetch_one(e.m.store().pool())
        .await
        .unwrap()
        .try_get::<Vec<u8>, _>(0)
        .unwrap()
}

async fn blobs(e: &Env, sql: &'static str, id: &str) -> Vec<Vec<u8>> {
    sqlx::query(sql)
        .bind(id)
        .fetch_all(e.m.store().pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<Vec<u8>, _>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn the_texts_of_complaints_requests_and_incidents_linked_to_an_erased_principal_are_shredded()
{
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let now = mamori_calendar::format_jst(jiff::Timestamp::now());
        let linked =
            e.m.complaint_open(
                &clerk,
                NewComplaint {
                    received_at: now.clone(),
                    summary: NAMED.into(),
                    principal: Some(pid.clone()),
                    channel: None,
                },
                None,
            )
            .await
            .unwrap();
        e.m.complaint_note(&clerk, &linked.id, "山田太郎さんに折り返した", &[], None)
            .await
            .unwrap();
        let other =
            e.m.complaint_open(
                &clerk,
                NewComplaint {
                    received_at: now.clone(),
                    summary: "佐藤花子さんの苦情(無関係)".into(),
                    principal: None,
                    channel: None,
                },
                None,
            )
            .await
            .unwrap();
        let today = mamori_service::today_jst().to_string();
        let facts = serde_json::json!({
            "discovered_on": today,
            "principals_affected": 1,
            "special_care_data": false,
            "financial_damage_risk": false,
            "wrongful_purpose": false,
            "high_level_encryption": false,
            "description": "山田太郎さん宛の封筒を別人に送付した",
        });
        let inc = e.m.incident_open(&clerk, &facts, None).await.unwrap();
        e.m.incident_affected(&manager, &inc.id, std::slice::from_ref(&pid), &[], None)
            .await
            .unwrap();
        e.m.incident_record(
            &manager,
            &inc.id,
            StepKind::Containment,
            "山田太郎さんに電話で謝罪した",
            None,
        )
        .await
        .unwrap();
        let old_summary = blob(
            &e,
            "SELECT summary_ct FROM complaints WHERE id = $1",
            &linked.id,
        )
        .await;

        let rid = erase_by_request(&e, &pid, Some("山田太郎です。全部消してください。")).await;

        let stub = format!("{today} 本人の消去とともに消去 / erased on {today} with the principal");
        let c = e.m.complaint_show(&clerk, &linked.id, None).await.unwrap();
        assert_eq!(c.summary, stub);
        assert_eq!(c.notes.len(), 1, "the note stays, its text does not");
        assert_eq!(c.notes[0].text, stub);
        let r = e.m.request_show(&clerk, &rid).await.unwrap();
        assert_eq!(r["details"], stub.as_str());
        assert_eq!(r["status"], "fulfilled");
        let i = e.m.incident_show(&manager, &inc.id, None).await.unwrap();
        assert_eq!(i.description, stub);
        assert!(i.steps.iter().all(|s| s.text == stub), "{:?}", i.steps);
        assert_eq!(i.principals, vec![pid.clone()], "the link (an id) stays");
        // Texts not linked to the person are untouched.
        let o = e.m.complaint_show(&clerk, &other.id, None).await.unwrap();
        assert_eq!(o.summary, "佐藤花子さんの苦情(無関係)");
        // The complaint's old key is gone: its old ciphertext (in any backup) opens with
        // nothing the key store holds.
        let key = e.m.store().data_key(&linked.id).await.unwrap();
        assert!(
            open_with(
                &key,
                &old_summary,
                &field_aad(&linked.id, &linked.id, "complaint_summary")
            )
            .is_err()
        );
        // The erasure's audit entry counts what went (ids and counts only).
        let log = e.m.audit_log(&manager, Some(&pid), 100).await.unwrap();
        let erase = log.iter().find(|x| x.action == "principal.erase").unwrap();
        let detail: serde_json::Value = serde_json::from_str(&erase.detail).unwrap();
        assert_eq!(
            detail["texts_shredded"],
            serde_json::json!({"requests": 1, "complaints": 1, "incidents": 1, "texts": 5})
        );
        assert!(!erase.detail.contains("山田"));
        e.m.audit_verify().await.unwrap();
        if e.backend == "sqlite" {
            for v in ["山田太郎", "090-1234-5678"] {
                assert!(scan_dir(&e.dir, v).is_empty(), "{v}");
            }
        }
    })
    .await;
}

/// Issue 20: with one key for every principal's fingerprints, the manager could confirm an
/// erased person's phone number by correcting a dummy principal to a candidate and comparing
/// the fingerprints on the log. Keyed per principal, the same value fingerprints differently on
/// another principal, and the erased principal's key is gone.
#[tokio::test]
async fn correction_fingerprints_are_keyed_per_principal_so_a_dummy_principal_confirms_nothing() {
    on_both("chiba-ia", |e| async move {
        let victim = add_volunteer(&e).await; // phone +81 90-1234-5678
        let dummy = add_volunteer(&e).await;
        let manager = actor(&e, "manager").await;
        e.m.principal_correct(&manager, &victim, &fields(&[("phone", "03-5555-0101")]))
            .await
            .unwrap();
        erase_by_request(&e, &victim, None).await;
        assert!(!e.m.store().has_data_key(&victim).await.unwrap());
        // The attack: the dummy corrected to each candidate, old and new.
        for candidate in ["+81 90-1234-5678", "03-5555-0101"] {
            e.m.principal_correct(&manager, &dummy, &fields(&[("phone", candidate)]))
                .await
                .unwrap();
        }
        let fp = |id: &str, side: &'static str| {
            let id = id.to_string();
            let e = &e;
            let manager = manager.clone();
            async move {
                e.m.audit_log(&manager, Some(&id), 100)
                    .await
                    .unwrap()
                    .iter()
                    .filter(|x| x.action == "principal.correct")
                    .map(|x| {
                        let d: serde_json::Value = serde_json::from_str(&x.detail).unwrap();
                        d[side]["phone"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            }
        };
        let victim_old = fp(&victim, "before").await;
        let victim_new = fp(&victim, "after").await;
        let dummy_new = fp(&dummy, "after").await;
        assert_eq!(
            (victim_old.len(), victim_new.len(), dummy_new.len()),
            (1, 1, 2)
        );
        assert_eq!(
            victim_old[0].len(),
            16,
            "a short hex fingerprint is still logged"
        );
        assert_ne!(
            victim_old[0], dummy_new[0],
            "the old number is not confirmed"
        );
        assert_ne!(
            victim_new[0], dummy_new[1],
            "the new number is not confirmed"
        );
        // On one principal the fingerprint still shows whether a value changed.
        let dummy_old = fp(&dummy, "before").await;
        assert_eq!(dummy_old[1], dummy_new[0]);
    })
    .await;
}

/// Issue 20: blind-index digests and ciphertexts stayed in `mamori.db` and its WAL after an
/// erasure. On SQLite the test reads the raw files of the data folder; on PostgreSQL it checks
/// the rows are gone (dead tuples stay until VACUUM: SECURITY.md).
#[tokio::test]
async fn an_erasure_leaves_no_ciphertext_digest_or_key_in_the_database_files() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let keep =
            e.m.principal_add(
                &clerk,
                mamori_service::principal::NewPrincipal {
                    channel: "volunteer".into(),
                    fields: fields(&[
                        ("name", "佐藤 花子"),
                        ("email", "hanako@example.jp"),
                        ("phone", "03-5555-0199"),
                        ("postal_code", "261-0012"),
                        ("address", "千葉市美浜区磯辺2-3-4"),
                    ]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let cts = blobs(
            &e,
            "SELECT ciphertext FROM fields WHERE principal_id = $1",
            &pid,
        )
        .await;
        let digests = blobs(
            &e,
            "SELECT digest FROM blind_index WHERE principal_id = $1",
            &pid,
        )
        .await;
        let wrapped = blob(
            &e,
            "SELECT wrapped FROM mamori_keys.data_keys WHERE principal_id = $1",
            &pid,
        )
        .await;
        assert_eq!(cts.len(), 5);
        assert!(digests.len() >= 3, "email, phone and name are indexed");
        if e.backend == "sqlite" {
            // Before: they are there (the scan can find them).
            assert!(!scan_dir_bytes(&e.dir, &digests[0]).is_empty());
            assert!(!scan_dir_bytes(&e.dir, &cts[0]).is_empty());
        }
        erase_by_request(&e, &pid, None).await;
        if e.backend == "sqlite" {
            for (what, b) in cts
                .iter()
                .map(|c| ("ciphertext", c))
                .chain(digests.iter().map(|d| ("blind-index digest", d)))
                .chain([("data key", &wrapped)])
            {
                let hits = scan_dir_bytes(&e.dir, b);
                assert!(
                    hits.is_empty(),
                    "a {what} of the erased principal is in {hits:?}"
                );
            }
            for v in [
                "山田 太郎",
                "Taro.Yamada@example.jp",
                "taro.yamada@example.jp",
            ] {
                assert!(scan_dir(&e.dir, v).is_empty(), "{v}");
            }
        }
        for (sql, what) in [
            (
                "SELECT COUNT(*) FROM fields WHERE principal_id = $1",
                "fields",
            ),
            (
                "SELECT COUNT(*) FROM blind_index WHERE principal_id = $1",
                "blind indexes",
            ),
            (
                "SELECT COUNT(*) FROM mamori_keys.data_keys WHERE principal_id = $1",
                "data key",
            ),
        ] {
            let n: i64 = sqlx::query(sql)
                .bind(pid.as_str())
                .fetch_one(e.m.store().pool())
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            assert_eq!(n, 0, "{what}");
        }
        // The other principal is whole and readable.
        let s =
            e.m.principal_show(&clerk, &keep, "registration_contact", None, None)
                .await
                .unwrap();
        assert_eq!(s.fields.len(), 5);
    })
    .await;
}
