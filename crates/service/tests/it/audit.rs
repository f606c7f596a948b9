//! The audit log at its edges (issue 20; seed 003 Arts. 15, 19): a lost or damaged head file,
//! an entry forged by someone who can write only the database, a deleted checkpoint, an older
//! head file put back over a truncated log. Each attack is run on both databases and shown to
//! fail with a message naming what is wrong, and to change nothing.

use mamori_service::ServiceError;
use mamori_store::audit::{AuditDraft, CHECKPOINT_EVERY};
use sqlx::Row;

use crate::common::*;

async fn entries(e: &Env) -> i64 {
    e.m.status().await.unwrap()["audit_entries"]
        .as_i64()
        .unwrap()
}

fn head_file(e: &Env) -> std::path::PathBuf {
    e.dir.join("audit-head.json")
}

/// An ordinary audited write: what every clerk's read does.
async fn a_write(e: &Env) -> Result<Vec<i64>, mamori_store::StoreError> {
    e.m.store()
        .audit(vec![AuditDraft {
            actor: "clerk".into(),
            action: "principal.read".into(),
            decision: "allow".into(),
            ..Default::default()
        }])
        .await
}

#[tokio::test]
async fn a_lost_or_damaged_head_file_fails_verification_and_stops_writes_until_rewritten() {
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        let n = entries(&e).await;
        std::fs::remove_file(head_file(&e)).unwrap();
        let m = verify_error(&e).await;
        assert_eq!(
            m,
            format!(
                "audit log verification failed: the signed head file audit-head.json is missing but the log has {n} entries: put back the head kept for safekeeping and run `mamori audit verify --head FILE`"
            )
        );
        // Nothing is added to a log whose head is gone (the tail could have been cut with it).
        let w = a_write(&e).await.unwrap_err().to_string();
        assert!(w.contains("audit-head.json is missing"), "{w}");
        assert_eq!(entries(&e).await, n, "nothing was written");
        // Even a refusal cannot be recorded now, so it is not given either.
        let clerk = actor(&e, "clerk").await;
        let f = e.m.audit_head_rewrite(&clerk).await.unwrap_err().to_string();
        assert!(f.contains("audit-head.json is missing"), "{f}");
        // The administrator rewrites it, and that is on the log.
        let admin = actor(&e, "admin").await;
        let problem = e.m.audit_head_rewrite(&admin).await.unwrap().unwrap();
        assert!(problem.contains("missing"), "{problem}");
        let r = e.m.audit_verify().await.unwrap();
        assert_eq!(r.head_seq, n + 1);
        let auditor = actor(&e, "auditor").await;
        let log = e.m.audit_log(&auditor, None, 10).await.unwrap();
        let rewrite = log
            .iter()
            .find(|x| x.action == "audit.head_rewrite")
            .expect("the rewrite is on the log");
        assert_eq!(rewrite.actor, "admin");
        assert!(rewrite.reason.as_deref().unwrap().contains("audit-head.json is missing"));
        a_write(&e).await.unwrap();
        // Only a role with the system's `policy` action may.
        let d = denied(e.m.audit_head_rewrite(&clerk).await);
        assert!(d.contains("role clerk may not"), "{d}");

        // A head file that is not JSON.
        std::fs::write(head_file(&e), "{ this is not a head").unwrap();
        let m = verify_error(&e).await;
        assert!(
            m.ends_with("the signed head file audit-head.json cannot be read: it is not a signed head (JSON with seq, hash, signature, public_key)"),
            "{m}"
        );
        assert!(a_write(&e).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn an_entry_forged_in_the_database_is_refused_by_the_writer_and_named_by_verify() {
    on_both("chiba-ia", |e| async move {
        let victim = add_volunteer(&e).await;
        let n = entries(&e).await;
        let row = sqlx::query(&format!(
            "SELECT hash, at FROM audit_log WHERE seq = {n}"
        ))
        .fetch_one(e.m.store().pool())
        .await
        .unwrap();
        let prev: String = row.get(0);
        let at: String = row.get(1);
        // What a DBA can do: a well-formed entry with a correct plain SHA-256 (the first round's
        // hash), "the manager read this principal under a statutory exception".
        let mut forged = mamori_store::AuditEntry {
            seq: n + 1,
            at,
            actor: "manager".into(),
            action: "principal.read".into(),
            principal_id: Some(victim.clone()),
            purpose: Some("inquiry_response".into()),
            basis: Some("exception:law".into()),
            categories: "name,email".into(),
            decision: "allow".into(),
            reason: None,
            detail: "{}".into(),
            prev_hash: prev,
            hash: String::new(),
        };
        forged.hash = mamori_store::crypto::sha256_hex(format!("{forged:?}").as_bytes());
        exec(
            &e,
            &format!(
                "INSERT INTO audit_log (seq, at, actor, action, principal_id, purpose, basis, categories, decision, reason, detail, prev_hash, hash) VALUES ({}, '{}', 'manager', 'principal.read', '{victim}', 'inquiry_response', 'exception:law', 'name,email', 'allow', NULL, '{{}}', '{}', '{}')",
                forged.seq, forged.at, forged.prev_hash, forged.hash
            ),
        )
        .await;
        exec(
            &e,
            &format!(
                "UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1",
                forged.seq, forged.hash
            ),
        )
        .await;
        // The next ordinary write does not sign a head over it.
        let w = a_write(&e).await.unwrap_err().to_string();
        assert_eq!(
            w,
            format!(
                "the audit log's last entry {} is not authenticated by the audit signing key (it was written or changed outside Mamori): nothing more is written; run `mamori audit verify`",
                n + 1
            )
        );
        let clerk = actor(&e, "clerk").await;
        assert!(
            e.m.principal_show(&clerk, &victim, "registration_contact", None, None)
                .await
                .is_err(),
            "no value is released without its audit entry"
        );
        assert_eq!(entries(&e).await, n + 1, "nothing was chained onto it");
        let m = verify_error(&e).await;
        assert!(
            m.contains(&format!(
                "audit entry {} was altered or was not written by Mamori",
                n + 1
            )),
            "{m}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_deleted_checkpoint_is_named() {
    on_both("chiba-ia", |e| async move {
        let n = entries(&e).await;
        let drafts: Vec<AuditDraft> = (n..CHECKPOINT_EVERY + 2)
            .map(|_| AuditDraft {
                actor: "clerk".into(),
                action: "principal.read".into(),
                decision: "allow".into(),
                ..Default::default()
            })
            .collect();
        e.m.store().audit(drafts).await.unwrap();
        assert_eq!(e.m.audit_verify().await.unwrap().checkpoints, 1);
        exec(&e, "DELETE FROM audit_checkpoints").await;
        let m = verify_error(&e).await;
        assert!(
            m.contains(&format!(
                "signed checkpoint {CHECKPOINT_EVERY} is missing from the database"
            )),
            "{m}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_older_head_put_back_is_caught_and_a_head_kept_elsewhere_catches_the_truncation_it_hides()
 {
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        let old_file = std::fs::read(head_file(&e)).unwrap();
        let old_seq = e.m.audit_verify().await.unwrap().head_seq;
        add_volunteer(&e).await;
        // The auditor keeps this one outside the data folder.
        let kept = e.m.audit_head().await.unwrap();
        assert_eq!(kept.seq, entries(&e).await);

        // An older head file put back, the log intact: named, and no write goes on.
        std::fs::write(head_file(&e), &old_file).unwrap();
        let m = verify_error(&e).await;
        assert!(
            m.ends_with(&format!(
                "the signed head outside the database is at entry {old_seq} but the log goes on to entry {}: an older head file was put back",
                kept.seq
            )),
            "{m}"
        );
        let w = a_write(&e).await.unwrap_err().to_string();
        assert!(w.contains("an older head file was put back"), "{w}");

        // The tail cut back to the old head as well: beside the database all agrees ...
        let row = sqlx::query(&format!("SELECT hash FROM audit_log WHERE seq = {old_seq}"))
            .fetch_one(e.m.store().pool())
            .await
            .unwrap();
        let hash: String = row.get(0);
        exec(&e, &format!("DELETE FROM audit_log WHERE seq > {old_seq}")).await;
        exec(
            &e,
            &format!("UPDATE audit_head SET seq = {old_seq}, hash = '{hash}' WHERE id = 1"),
        )
        .await;
        e.m.audit_verify().await.unwrap();
        // ... and the head kept elsewhere names the deletion.
        match e.m.audit_verify_against(Some(&kept)).await {
            Err(ServiceError::Failed(m)) => assert_eq!(
                m,
                format!(
                    "audit log verification failed: the log ends at entry {old_seq} but the head kept elsewhere says {}: entries after {old_seq} were deleted",
                    kept.seq
                )
            ),
            other => panic!("expected the kept head to catch it, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn the_head_file_and_the_database_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        let mut files = vec!["audit-head.json"];
        if e.url.is_none() {
            files.extend(["mamori.db", "keys.db", "mamori.db-wal", "keys.db-wal"]);
        }
        for f in files {
            let p = e.dir.join(f);
            let mode = std::fs::metadata(&p)
                .unwrap_or_else(|err| panic!("{f}: {err}"))
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{f} on {}", e.backend);
        }
    })
    .await;
}
