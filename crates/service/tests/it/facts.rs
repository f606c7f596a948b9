//! Issue 20 ("Input"): a database edit of the records an access decision rests on (a
//! principal's channel, consents, suspensions, a staff role) is refused at read time, releases
//! nothing, and `mamori verify` names the row. Each attack is an SQL edit as a DBA would make
//! it (through the store's raw statements, on both backends); the control step recomputes the
//! MACs with Mamori's key (`test_support_seal_unsealed`) to show the edit alone would have
//! changed the decision.

use mamori_service::provision::ConsentTarget;
use mamori_service::request::OpenRequest;
use mamori_service::{Config, Mamori, ServiceError};
use mamori_store::{Stmt, Val};

use crate::common::*;

/// Run SQL against the database as a DBA would: no MAC, no audit entry.
async fn dba(e: &Env, sql: &'static str, params: Vec<Val>) {
    e.m.store()
        .write(vec![Stmt::new(sql, params)], vec![])
        .await
        .unwrap();
}

fn failed(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(ServiceError::Failed(m)) => m,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// The refusal of a read names the principal and says the record was changed; it quotes no
/// value of theirs.
fn assert_refused(m: &str, pid: &str) {
    assert!(m.contains(&format!("principal {pid}")), "{m}");
    assert!(m.contains("changed outside Mamori"), "{m}");
    assert!(!m.contains('\n'), "one line: {m}");
    for value in ["山田", "Yamada", "1234", "千葉"] {
        assert!(!m.contains(value), "{m}");
    }
}

async fn reads_audited(e: &Env, pid: &str) -> usize {
    let auditor = actor(e, "auditor").await;
    e.m.audit_log(&auditor, Some(pid), 1000)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.action == "principal.read" && a.decision == "allow")
        .count()
}

#[tokio::test]
async fn a_channel_changed_in_the_database_is_refused_at_read_and_named_by_verify() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        denied(
            e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
                .await,
        );
        e.m.verify_facts().await.unwrap();
        let before = reads_audited(&e, &pid).await;
        dba(
            &e,
            "UPDATE principals SET channel = 'inquiry' WHERE id = $1",
            vec![pid.as_str().into()],
        )
        .await;
        let m = failed(
            e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
                .await,
        );
        assert_refused(&m, &pid);
        // Every purpose is refused, not only the newly reachable one.
        assert_refused(
            &failed(
                e.m.principal_show(&clerk, &pid, "registration_contact", None, None)
                    .await,
            ),
            &pid,
        );
        assert_eq!(reads_audited(&e, &pid).await, before, "nothing released");
        // The auditor sees the refused attempts, with the reason.
        let auditor = actor(&e, "auditor").await;
        let refused =
            e.m.audit_log(&auditor, Some(&pid), 1000)
                .await
                .unwrap()
                .into_iter()
                .filter(|a| {
                    a.action == "principal.read"
                        && a.decision == "deny"
                        && a.reason.as_deref() == Some("record changed outside Mamori")
                })
                .count();
        assert_eq!(refused, 2);
        let v = failed(e.m.verify_facts().await);
        assert!(v.contains(&format!("principal {pid}")), "{v}");
        assert!(v.contains("changed outside Mamori"), "{v}");

        // Control: with Mamori's key the same edit would have opened the purpose.
        dba(
            &e,
            "UPDATE principals SET facts_mac = NULL WHERE id = $1",
            vec![pid.as_str().into()],
        )
        .await;
        e.m.store().test_support_seal_unsealed().await.unwrap();
        e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_consent_inserted_in_the_database_is_refused_at_read_and_named_by_verify() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let version = e.m.store().principal(&pid).await.unwrap().unwrap();
        dba(
            &e,
            "INSERT INTO consents (id, principal_id, purpose, given_at, channel, evidence, policy_version, recorded_by) VALUES ('forged01', $1, 'inquiry_response', '2026-01-01T00:00:00Z', 'volunteer', 'form 1', $2, 'clerk')",
            vec![pid.as_str().into(), version.policy_version.as_str().into()],
        )
        .await;
        let before = reads_audited(&e, &pid).await;
        assert_refused(
            &failed(
                e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
                    .await,
            ),
            &pid,
        );
        assert_eq!(reads_audited(&e, &pid).await, before, "nothing released");
        let v = failed(e.m.verify_facts().await);
        assert!(v.contains("consent forged01 of principal"), "{v}");
        // The consent list (the provision path) refuses it too.
        assert_refused(
            &e.m.store()
                .consents(&pid)
                .await
                .unwrap_err()
                .to_string(),
            &pid,
        );

        e.m.store().test_support_seal_unsealed().await.unwrap();
        let s =
            e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
                .await
                .unwrap();
        assert!(!s.fields.is_empty(), "the control read opens the purpose");
    })
    .await;
}

#[tokio::test]
async fn a_withdrawn_consent_revived_in_the_database_is_refused_at_read() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let target = ConsentTarget::Purpose("inquiry_response".into());
        e.m.consent_give(&clerk, &pid, &target, Some("form 2026-041"), false)
            .await
            .unwrap();
        e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
            .await
            .unwrap();
        e.m.consent_withdraw(&clerk, &pid, &target).await.unwrap();
        denied(
            e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
                .await,
        );
        // A withdrawal keeps the row verifying.
        let r = e.m.verify_facts().await.unwrap();
        assert_eq!(r.consents, 1);
        dba(
            &e,
            "UPDATE consents SET withdrawn_at = NULL WHERE principal_id = $1",
            vec![pid.as_str().into()],
        )
        .await;
        assert_refused(
            &failed(
                e.m.principal_show(&clerk, &pid, "inquiry_response", None, None)
                    .await,
            ),
            &pid,
        );
        let v = failed(e.m.verify_facts().await);
        assert!(v.contains(&format!("of principal {pid}")), "{v}");
        assert!(v.starts_with("consent "), "{v}");
    })
    .await;
}

#[tokio::test]
async fn a_suspension_deleted_in_the_database_is_refused_at_read() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let o =
            e.m.request_open(
                &clerk,
                OpenRequest {
                    principal_id: Some(pid.clone()),
                    kind: "suspension".into(),
                    received_at: "2026-11-20T10:30:00+09:00".into(),
                    purpose: Some("registration_renewal".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        e.m.request_verify(&clerk, &o.id, "mailed_code", Some("K7Q2X9"))
            .await
            .unwrap();
        e.m.request_fulfil(&clerk, &o.id, &[], None).await.unwrap();
        denied(
            e.m.principal_show(&clerk, &pid, "registration_renewal", None, None)
                .await,
        );
        let r = e.m.verify_facts().await.unwrap();
        assert_eq!(r.suspensions, 1);
        dba(
            &e,
            "DELETE FROM suspensions WHERE principal_id = $1",
            vec![pid.as_str().into()],
        )
        .await;
        assert_refused(
            &failed(
                e.m.principal_show(&clerk, &pid, "registration_renewal", None, None)
                    .await,
            ),
            &pid,
        );
        let v = failed(e.m.verify_facts().await);
        assert!(v.contains(&format!("principal {pid}")), "{v}");
        // The provision path's list of suspensions refuses it too.
        assert_refused(
            &e.m.store().suspensions(&pid).await.unwrap_err().to_string(),
            &pid,
        );

        // Control: with Mamori's key (the principal's MAC recomputed over the new count) the
        // deletion would have lifted the suspension.
        dba(
            &e,
            "UPDATE principals SET facts_mac = NULL WHERE id = $1",
            vec![pid.as_str().into()],
        )
        .await;
        e.m.store().test_support_seal_unsealed().await.unwrap();
        e.m.principal_show(&clerk, &pid, "registration_renewal", None, None)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_staff_role_changed_in_the_database_is_refused_and_named_by_verify() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        assert_eq!(clerk.role.id, "clerk");
        dba(
            &e,
            "UPDATE staff SET role = 'manager' WHERE login = 'clerk'",
            vec![],
        )
        .await;
        let m = failed(e.m.actor("clerk").await);
        assert!(m.contains("staff member clerk"), "{m}");
        assert!(m.contains("changed outside Mamori"), "{m}");
        let v = failed(e.m.verify_facts().await);
        assert!(v.contains("staff member clerk"), "{v}");
        // Signing in answers like any failure.
        let s = e.m.login("clerk", PASSWORD, "203.0.113.9").await;
        let unknown = e.m.login("nobody", PASSWORD, "203.0.113.9").await;
        match (&s, &unknown) {
            (Err(ServiceError::Unauthenticated(a)), Err(ServiceError::Unauthenticated(b))) => {
                assert_eq!(a, b)
            }
            other => panic!("expected the same refusal, got {other:?}"),
        }
        // A disabled account re-enabled by hand is refused the same way.
        dba(
            &e,
            "UPDATE staff SET role = 'clerk' WHERE login = 'clerk'",
            vec![],
        )
        .await;
        e.m.verify_facts().await.unwrap();
        let admin = actor(&e, "admin").await;
        e.m.staff_disable(&admin, "auditor").await.unwrap();
        e.m.verify_facts().await.unwrap();
        dba(
            &e,
            "UPDATE staff SET disabled = 0 WHERE login = 'auditor'",
            vec![],
        )
        .await;
        let m = failed(e.m.actor("auditor").await);
        assert!(m.contains("staff member auditor"), "{m}");
    })
    .await;
}

#[tokio::test]
async fn rows_from_before_the_migration_are_sealed_once_and_never_again() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let cfg = Config {
            data_dir: e.dir.clone(),
            database_url: e.url.clone(),
        };
        // As a database from before 0021: no MACs, the migration's mark.
        for sql in [
            "UPDATE principals SET facts_mac = NULL",
            "UPDATE consents SET facts_mac = NULL",
            "UPDATE suspensions SET facts_mac = NULL",
            "UPDATE staff SET facts_mac = NULL",
            "INSERT INTO meta (key, value) VALUES ('facts_seal_pending', '1')",
        ] {
            dba(&e, sql, vec![]).await;
        }
        let sealed_entries = |m: Mamori| async move {
            let auditor = m.actor("auditor").await.unwrap();
            m.audit_log(&auditor, None, 100_000)
                .await
                .unwrap()
                .into_iter()
                .filter(|a| a.action == "facts.sealed")
                .collect::<Vec<_>>()
        };
        // The sealing of the new data folder itself is on the log already: a mark put back
        // by hand seals nothing.
        let m2 = Mamori::open(&cfg).await.unwrap();
        let v = failed(m2.verify_facts().await);
        assert!(v.contains(&format!("principal {pid}")), "{v}");
        assert_refused(
            &failed(
                m2.principal_show(&clerk, &pid, "registration_contact", None, None)
                    .await,
            ),
            &pid,
        );

        // A folder whose log has no sealing yet (made before 0021) is sealed at start-up.
        dba(
            &e,
            "DELETE FROM audit_log WHERE action = 'facts.sealed'",
            vec![],
        )
        .await;
        dba(
            &e,
            "INSERT INTO meta (key, value) VALUES ('facts_seal_pending', '1')",
            vec![],
        )
        .await;
        let m3 = Mamori::open(&cfg).await.unwrap();
        let r = m3.verify_facts().await.unwrap();
        assert_eq!((r.principals, r.staff), (1, 4), "{r:?}");
        m3.actor("clerk").await.unwrap();
        m3.principal_show(&clerk, &pid, "registration_contact", None, None)
            .await
            .unwrap();
        let entries = sealed_entries(m3).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        let detail: serde_json::Value = serde_json::from_str(&entries[0].detail).unwrap();
        assert_eq!(detail["principals"], 1, "{detail}");
        assert_eq!(detail["staff"], 4, "{detail}");
    })
    .await;
}
