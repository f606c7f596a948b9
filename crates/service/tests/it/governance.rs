//! Governance (issue 11) on SQLite and PostgreSQL: roles with separated duties, pledges and
//! training (and the training gate), the manager's review of exception accesses, inspections
//! that find exactly the gaps planted, findings, the committee, violation reports, the ledger —
//! and an auditor who provably never sees a personal value.

use mamori_service::governance::SEALED_REPORTER;
use mamori_service::principal::{NewPrincipal, parse_exception};
use mamori_service::request::OpenRequest;
use mamori_service::{Config, Mamori, ServiceError};

use crate::common::*;

const NAME: &str = "Nguyen Van Sentinel";
const EMAIL: &str = "sentinel.nguyen@example.org";
const PHONE: &str = "090-8765-4321";

fn today() -> String {
    mamori_service::today_jst().to_string()
}

fn days_ago(n: i64) -> String {
    mamori_service::today_jst()
        .checked_sub(jiff::Span::new().days(n))
        .unwrap()
        .to_string()
}

async fn sentinel(e: &Env) -> String {
    let clerk = actor(e, "clerk").await;
    e.m.principal_add(
        &clerk,
        NewPrincipal {
            channel: "volunteer".into(),
            fields: fields(&[("name", NAME), ("email", EMAIL), ("phone", PHONE)]),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

fn failing(i: &mamori_service::governance::Inspection) -> Vec<String> {
    let mut v: Vec<String> = i
        .items
        .iter()
        .filter(|c| !c.pass)
        .map(|c| c.id.clone())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn role_changes_are_audited_and_the_last_admin_cannot_be_removed() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        let manager = actor(&e, "manager").await;
        denied(e.m.staff_role(&manager, "clerk", "manager").await);
        let m = bad_input(e.m.staff_role(&admin, "admin", "clerk").await);
        assert!(m.contains("last staff administrator"), "{m}");
        let m = bad_input(e.m.staff_disable(&admin, "admin").await);
        assert!(m.contains("last staff administrator"), "{m}");
        let m = bad_input(e.m.staff_role(&admin, "clerk", "boss").await);
        assert!(m.starts_with("--role:"), "{m}");

        let r = e.m.staff_role(&admin, "clerk", "manager").await.unwrap();
        assert_eq!((r.from.as_str(), r.to.as_str()), ("clerk", "manager"));
        assert_eq!(actor(&e, "clerk").await.role.id, "manager");
        e.m.staff_add(None, "root", "admin", None, PASSWORD)
            .await
            .unwrap();
        e.m.staff_disable(&admin, "root").await.unwrap();
        assert!(matches!(
            e.m.actor("root").await,
            Err(ServiceError::Unauthenticated(_))
        ));
        let auditor = actor(&e, "auditor").await;
        let log = e.m.audit_log(&auditor, None, 100).await.unwrap();
        let role = log
            .iter()
            .find(|x| x.action == "staff.role" && x.decision == "done")
            .unwrap();
        assert_eq!(role.actor, "admin");
        assert!(
            role.detail.contains("\"from\":\"clerk\""),
            "{}",
            role.detail
        );
        assert!(
            log.iter()
                .any(|x| x.action == "staff.disable" && x.detail.contains("root"))
        );
    })
    .await;
}

#[tokio::test]
async fn training_and_pledges_are_recorded_and_overdue_staff_are_flagged() {
    on_both("chiba-ia", |e| async move {
        let manager = actor(&e, "manager").await;
        let clerk = actor(&e, "clerk").await;
        let t =
            e.m.training_record(
                &manager,
                "個人情報保護研修",
                &days_ago(400),
                &["clerk".into()],
                Some("slides v2"),
            )
            .await
            .unwrap();
        assert_eq!(t.attendees, vec!["clerk"]);
        e.m.training_record(
            &manager,
            "新任研修",
            &days_ago(10),
            &["manager".into()],
            None,
        )
        .await
        .unwrap();
        denied(
            e.m.training_record(&clerk, "x", &today(), &["clerk".into()], None)
                .await,
        );
        let m = bad_input(
            e.m.training_record(&manager, "x", "2999-01-01", &["clerk".into()], None)
                .await,
        );
        assert!(m.starts_with("--date:"), "{m}");
        let m = bad_input(
            e.m.training_record(&manager, "x", &today(), &["nobody".into()], None)
                .await,
        );
        assert!(m.starts_with("--attendee:"), "{m}");
        e.m.staff_pledge(&manager, "clerk", &days_ago(30))
            .await
            .unwrap();

        let auditor = actor(&e, "auditor").await;
        assert_eq!(e.m.training_list(&auditor).await.unwrap().len(), 2);
        let overdue = e.m.training_status(&auditor, true, None).await.unwrap();
        let logins: Vec<&str> = overdue.iter().map(|s| s.login.as_str()).collect();
        assert_eq!(
            logins,
            vec!["clerk"],
            "admin and auditor handle no personal data"
        );
        let all = e.m.training_status(&auditor, false, None).await.unwrap();
        let c = all.iter().find(|s| s.login == "clerk").unwrap();
        assert_eq!(c.pledged_on.as_deref(), Some(days_ago(30).as_str()));
        assert!(!all.iter().find(|s| s.login == "auditor").unwrap().required);
    })
    .await;
}

/// A data folder initialized with the preset's text changed (e.g. a blocking training rule).
async fn setup_text(text: &str, url: Option<String>) -> (Mamori, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        data_dir: dir.path().join("data"),
        database_url: url,
    };
    let (m, _) = Mamori::init(
        &cfg,
        text,
        "chiba-ia",
        Some("chiba-ia"),
        Some(("admin", PASSWORD)),
    )
    .await
    .unwrap();
    for (l, r) in [("manager", "manager"), ("clerk", "clerk")] {
        m.staff_add(None, l, r, None, PASSWORD).await.unwrap();
    }
    (m, dir)
}

#[tokio::test]
async fn a_blocking_policy_refuses_values_to_untrained_staff_citing_art_6_until_trained() {
    let text = mamori_policy::preset("chiba-ia")
        .unwrap()
        .replace("block_when_overdue = false", "block_when_overdue = true");
    let mut urls = vec![None];
    if let Some(u) = mamori_store::fresh_test_database().await.unwrap() {
        urls.push(Some(u));
    }
    for url in urls {
        let (m, _dir) = setup_text(&text, url).await;
        let clerk = m.actor("clerk").await.unwrap();
        let manager = m.actor("manager").await.unwrap();
        let id = m
            .principal_add(
                &clerk,
                NewPrincipal {
                    channel: "volunteer".into(),
                    fields: fields(&[("name", NAME), ("email", EMAIL)]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let r = denied(
            m.principal_show(&clerk, &id, "registration_contact", None, None)
                .await,
        );
        assert!(
            r.contains("seed 003 Art. 6") && r.contains("no training on record"),
            "{r}"
        );
        let r = denied(
            m.provide(
                &clerk,
                mamori_service::provision::ProvideRequest {
                    principal_id: id.clone(),
                    recipient: "selecttype".into(),
                    purpose: "registration_contact".into(),
                    fields: vec!["name".into()],
                    ..Default::default()
                },
            )
            .await,
        );
        assert!(r.contains("seed 003 Art. 6"), "{r}");
        m.training_record(&manager, "研修", &days_ago(800), &["clerk".into()], None)
            .await
            .unwrap();
        let r = denied(
            m.principal_show(&clerk, &id, "registration_contact", None, None)
                .await,
        );
        assert!(r.contains("is overdue (last"), "{r}");
        m.training_record(&manager, "研修", &today(), &["clerk".into()], None)
            .await
            .unwrap();
        let shown = m
            .principal_show(&clerk, &id, "registration_contact", None, None)
            .await
            .unwrap();
        assert_eq!(shown.fields["name"], NAME);
        let log = m.store().audit_entries(Some(&id), 50).await.unwrap();
        assert!(
            log.iter().any(|x| x.decision == "deny"
                && x.reason.as_deref().is_some_and(|r| r.contains("Art. 6")))
        );
    }
}

#[tokio::test]
async fn an_inspection_finds_exactly_the_gaps_planted_and_nothing_else() {
    on_both("chiba-ia", |e| async move {
        let manager = actor(&e, "manager").await;
        let clerk = actor(&e, "clerk").await;
        let auditor = actor(&e, "auditor").await;
        // What is in order: pledges, the manager's training, a sweep run today.
        for l in ["manager", "clerk"] {
            e.m.staff_pledge(&manager, l, &days_ago(5)).await.unwrap();
        }
        e.m.training_record(&manager, "研修", &days_ago(3), &["manager".into()], None)
            .await
            .unwrap();
        let id = sentinel(&e).await;
        e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
            .await
            .unwrap();
        // The gaps: an unreviewed exception access, an overdue request, a contract lacking a
        // clause, an untrained clerk.
        let ex = parse_exception(
            Some("public-agency"),
            Some(&format!("警察からの照会 {NAME}")),
        )
        .unwrap();
        e.m.principal_show(&clerk, &id, "inquiry_response", None, ex.as_ref())
            .await
            .unwrap();
        let req =
            e.m.request_open(
                &manager,
                OpenRequest {
                    principal_id: Some(id.clone()),
                    kind: "disclosure".into(),
                    received_at: format!("{}T10:00:00+09:00", days_ago(90)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let five: Vec<String> = [
            "confidentiality",
            "subcontracting",
            "copy_restriction",
            "incident_response",
            "return_and_erasure",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        e.m.recipient_review(
            &manager,
            "delivery_carrier",
            None,
            &today(),
            Some(&five),
            None,
        )
        .await
        .unwrap();

        let i = e.m.inspection_run(&auditor, None).await.unwrap();
        assert_eq!(
            failing(&i),
            vec![
                "contracts",
                "exception_reviews",
                "requests_overdue",
                "staff_training"
            ],
            "{:#?}",
            i.items
        );
        let get = |k: &str| i.items.iter().find(|c| c.id == k).unwrap().clone();
        assert_eq!(
            get("contracts").evidence["gaps"][0]["missing_clauses"],
            serde_json::json!(["termination"])
        );
        assert_eq!(get("requests_overdue").evidence["overdue"][0]["id"], req.id);
        assert_eq!(
            get("staff_training").evidence["overdue"][0]["login"],
            "clerk"
        );
        assert_eq!(
            get("exception_reviews").evidence["pending"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let text = serde_json::to_string(&i).unwrap();
        for v in [NAME, EMAIL, PHONE, "警察"] {
            assert!(!text.contains(v), "the inspection holds {v}");
        }

        // The manager reviews (and reads the sealed reason); the auditor may not.
        denied(e.m.exception_reviews(&auditor, false).await);
        let pending = e.m.exception_reviews(&manager, false).await.unwrap();
        // Besides it: the set-up's account creations (issue 20: they are reviewed too).
        assert!(
            pending.iter().filter(|r| r.kind != "staff.add").count() == 1
                && pending.iter().any(|r| r.kind == "staff.add"),
            "{pending:?}"
        );
        let pending: Vec<_> = pending
            .into_iter()
            .filter(|r| r.kind != "staff.add")
            .collect();
        assert_eq!(
            pending[0].reason.as_deref(),
            Some(format!("警察からの照会 {NAME}").as_str())
        );
        e.m.exception_review_done(&manager, &pending[0].id)
            .await
            .unwrap();
        bad_input(e.m.exception_review_done(&manager, &pending[0].id).await);
        e.m.training_record(&manager, "研修", &today(), &["clerk".into()], None)
            .await
            .unwrap();
        let mut all: Vec<String> = five.clone();
        all.push("termination".into());
        e.m.recipient_review(
            &manager,
            "delivery_carrier",
            None,
            &today(),
            Some(&all),
            None,
        )
        .await
        .unwrap();
        let j = e.m.inspection_run(&auditor, None).await.unwrap();
        assert_eq!(failing(&j), vec!["requests_overdue"]);

        // Findings and the auditor's report.
        let f =
            e.m.finding_add(
                &auditor,
                &i.id,
                "開示請求の期限超過",
                &days_ago(1),
                Some("回答する"),
            )
            .await
            .unwrap();
        assert!(f.overdue);
        let k = e.m.inspection_run(&auditor, None).await.unwrap();
        assert_eq!(failing(&k), vec!["corrective_actions", "requests_overdue"]);
        e.m.finding_close(&auditor, &f.id, Some("回答済み"))
            .await
            .unwrap();
        let r = e.m.inspection_report(&auditor, &i.id).await.unwrap();
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].status, "closed");
        let html = mamori_service::governance::render_report_html(&r, mamori_policy::Lang::Ja);
        assert!(html.contains("監査報告書") && html.contains("不適合"));
        assert_eq!(e.m.inspection_list(&auditor).await.unwrap().len(), 3);
        denied(e.m.inspection_run(&clerk, None).await);
    })
    .await;
}

#[tokio::test]
async fn the_committee_is_chaired_by_the_manager_and_its_minutes_stay_sealed() {
    on_both("tokyo-one", |e| async move {
        let manager = actor(&e, "manager").await;
        let auditor = actor(&e, "auditor").await;
        let clerk = actor(&e, "clerk").await;
        let minutes = format!("{NAME} さんの開示請求の処理方針を協議");
        denied(
            e.m.committee_meeting(&auditor, &today(), &["clerk".into()], "x", &[])
                .await,
        );
        let m =
            e.m.committee_meeting(
                &manager,
                &today(),
                &["auditor".into(), "clerk".into()],
                &minutes,
                &["方針を承認".into()],
            )
            .await
            .unwrap();
        assert_eq!(m.chair, "manager");
        assert_eq!(m.members, vec!["manager", "auditor", "clerk"]);
        let list = e.m.committee_list(&auditor).await.unwrap();
        assert_eq!(list[0].decisions, 1);
        // A member who handles personal data reads the minutes; the auditor, though a member,
        // never reads what may name people; a teacher who is no member may not either.
        let d = e.m.committee_show(&clerk, &m.id).await.unwrap();
        assert_eq!(d.minutes, minutes);
        assert_eq!(d.decisions, vec!["方針を承認"]);
        denied(e.m.committee_show(&auditor, &m.id).await);
        e.m.staff_add(None, "sensei", "teacher", None, PASSWORD)
            .await
            .unwrap();
        denied(e.m.committee_show(&actor(&e, "sensei").await, &m.id).await);
        assert!(scan_dir(&e.dir, NAME).is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_violation_report_goes_to_the_manager_with_the_reporter_sealed() {
    on_both("chiba-ia", |e| async move {
        let manager = actor(&e, "manager").await;
        let clerk = actor(&e, "clerk").await;
        let auditor = actor(&e, "auditor").await;
        let r =
            e.m.violation_report(
                &clerk,
                &format!("{NAME} の名簿を私用メールに送った職員がいる"),
            )
            .await
            .unwrap();
        denied(e.m.violation_list(&auditor, false).await);
        denied(e.m.violation_list(&clerk, false).await);
        let list = e.m.violation_list(&manager, true).await.unwrap();
        assert_eq!(list[0].reporter, "clerk");
        let log = e.m.audit_log(&auditor, None, 200).await.unwrap();
        let entry = log.iter().find(|x| x.action == "violation.report").unwrap();
        assert_eq!(entry.actor, SEALED_REPORTER);
        let m = bad_input(e.m.violation_report(&clerk, "  ").await);
        assert!(m.starts_with("--text:"), "{m}");
        let closed =
            e.m.violation_close(&manager, &r.id, "注意指導を実施")
                .await
                .unwrap();
        assert_eq!(closed.status, "closed");
        assert!(e.m.violation_list(&manager, true).await.unwrap().is_empty());
        assert!(scan_dir(&e.dir, NAME).is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_ledger_matches_the_stored_data_after_adds_and_erasure() {
    on_both("chiba-ia", |e| async move {
        let auditor = actor(&e, "auditor").await;
        let a = sentinel(&e).await;
        sentinel(&e).await;
        add_volunteer(&e).await;
        let rows = e.m.ledger(&auditor).await.unwrap();
        let policy = e.m.policy();
        let expected: usize = policy.channels.iter().map(|c| c.categories.len()).sum();
        assert_eq!(rows.len(), expected);
        let row = |rows: &[mamori_service::ledger::LedgerRow], ch: &str, cat: &str| {
            rows.iter()
                .find(|r| r.channel == ch && r.category == cat)
                .unwrap()
                .clone()
        };
        let name = row(&rows, "volunteer", "name");
        assert_eq!(name.principals, 3);
        assert_eq!(row(&rows, "volunteer", "address").principals, 1);
        assert_eq!(row(&rows, "course_application", "name").principals, 0);
        assert_eq!(name.roles, vec!["manager", "clerk"]);
        assert!(name.recipients.contains(&"selecttype".to_string()));
        assert!(
            row(&rows, "volunteer", "address")
                .recipients
                .contains(&"delivery_carrier".to_string())
        );
        let backend = if e.backend == "postgres" {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        assert_eq!(
            name.storage,
            format!("encrypted per principal (XChaCha20-Poly1305), {backend}")
        );

        e.m.erase_principal("manager", &a, "test", None)
            .await
            .unwrap();
        let rows = e.m.ledger(&auditor).await.unwrap();
        assert_eq!(row(&rows, "volunteer", "name").principals, 2);
        assert_eq!(row(&rows, "volunteer", "phone").principals, 2);
        let csv = mamori_service::ledger::ledger_csv(&rows);
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\r\n") && !csv.replace("\r\n", "").contains('\n'));
        denied(e.m.ledger(&actor(&e, "clerk").await).await);
    })
    .await;
}

#[tokio::test]
async fn the_auditor_never_sees_a_personal_value_in_any_read() {
    on_both("chiba-ia", |e| async move {
        let manager = actor(&e, "manager").await;
        let clerk = actor(&e, "clerk").await;
        let auditor = actor(&e, "auditor").await;
        let id = sentinel(&e).await;
        let ex = parse_exception(Some("law"), Some(&format!("照会 {NAME}"))).unwrap();
        e.m.principal_show(&clerk, &id, "inquiry_response", None, ex.as_ref())
            .await
            .unwrap();
        e.m.principal_correct(&clerk, &id, &fields(&[("phone", "080-1111-0000")]))
            .await
            .unwrap();
        let req =
            e.m.request_open(
                &manager,
                OpenRequest {
                    principal_id: Some(id.clone()),
                    kind: "disclosure".into(),
                    received_at: format!("{}T00:00:00+09:00", today()),
                    details: Some(format!("{NAME} {EMAIL}")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        e.m.violation_report(&clerk, &format!("{NAME} {PHONE}"))
            .await
            .unwrap();
        let meeting =
            e.m.committee_meeting(
                &manager,
                &today(),
                &["clerk".into()],
                &format!("{NAME} について"),
                &[],
            )
            .await
            .unwrap();
        e.m.staff_pledge(&manager, "clerk", &today()).await.unwrap();
        e.m.training_record(&manager, "研修", &today(), &["clerk".into()], None)
            .await
            .unwrap();
        let i = e.m.inspection_run(&auditor, None).await.unwrap();
        e.m.finding_add(&auditor, &i.id, "例外アクセスの確認漏れ", &today(), None)
            .await
            .unwrap();

        let mut seen = Vec::new();
        macro_rules! walk {
            ($($e:expr),* $(,)?) => {$( seen.push(format!("{:?}", $e)); )*};
        }
        walk!(
            e.m.principal_show(&auditor, &id, "registration_contact", None, None)
                .await,
            e.m.principal_find(&auditor, "registration_contact", "email", EMAIL)
                .await,
            e.m.consents_list(&auditor, &id).await,
            e.m.provisions_list(&auditor, Some(&id)).await,
            e.m.request_list(&auditor, false, None).await,
            e.m.request_show(&auditor, &req.id).await,
            e.m.complaint_list(&auditor, false, None).await,
            e.m.incident_list(&auditor, false, None).await,
            e.m.disposals(&auditor, None).await,
            e.m.audit_log(&auditor, None, 100_000).await,
            e.m.audit_log(&auditor, Some(&id), 1000).await,
            e.m.ledger(&auditor).await,
            e.m.recipients_status(&auditor).await,
            e.m.staff_list(&auditor).await,
            e.m.training_list(&auditor).await,
            e.m.training_status(&auditor, false, None).await,
            e.m.exception_reviews(&auditor, true).await,
            e.m.inspection_run(&auditor, None).await,
            e.m.inspection_list(&auditor).await,
            e.m.inspection_show(&auditor, &i.id).await,
            e.m.inspection_report(&auditor, &i.id).await,
            e.m.finding_list(&auditor, None, false).await,
            e.m.committee_list(&auditor).await,
            e.m.committee_show(&auditor, &meeting.id).await,
            e.m.violation_list(&auditor, false).await,
            e.m.status().await,
        );
        let all = seen.join("\n");
        for v in [NAME, EMAIL, PHONE, "080-1111-0000", "sentinel"] {
            assert!(
                !all.to_lowercase().contains(&v.to_lowercase()),
                "the auditor saw {v}"
            );
        }
        // The auditor's reads that are allowed did return something (not only refusals).
        assert!(all.contains("Ok("));
    })
    .await;
}

#[tokio::test]
async fn a_ledger_cell_that_excel_would_run_as_a_formula_is_neutralized() {
    // Issue 20: a channel named `=HYPERLINK(…)` in the policy reached Excel as a formula.
    on_both("chiba-ia", |e| async move {
        let auditor = actor(&e, "auditor").await;
        let text = mamori_policy::preset("chiba-ia")
            .unwrap()
            .replace("version = \"2022-04-01\"", "version = \"2026-01-01\"")
            .replace(
                "ja = \"ボランティア登録\"",
                "ja = \"=HYPERLINK(\\\"http://evil.example/\\\",\\\"台帳\\\")\"",
            );
        e.m.policy_apply(None, &text, "formula.toml", &today())
            .await
            .unwrap();
        let rows = e.m.ledger(&auditor).await.unwrap();
        let volunteer = rows.iter().find(|r| r.channel == "volunteer").unwrap();
        assert!(volunteer.channel_name.starts_with("=HYPERLINK"));
        let csv = mamori_service::ledger::ledger_csv(&rows);
        assert!(
            csv.contains(",\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"台帳\"\")\","),
            "{csv}"
        );
        for line in csv.lines().skip(1) {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '-', '@']),
                    "a cell begins a formula: {line}"
                );
            }
        }
    })
    .await;
}
