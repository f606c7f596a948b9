//! Breach (漏えい等) response end to end (issue 9), on SQLite and PostgreSQL: any staff member
//! reports (seed 003 Art. 7(3)), the manager manages (Art. 13(2)), the PPC's deadlines (APPI 26,
//! rules 7-8), the drafts with the nine items of rule 8(1), the notice or substitute measure
//! (APPI 26(2)), closure, the overdue list, and the sealed texts.

use jiff::Timestamp;
use mamori_policy::Lang;
use mamori_service::ServiceError;
use mamori_service::incident::{NoticeMethod, Stage, StepKind};
use serde_json::{Value, json};

use crate::common::*;

fn at(s: &str) -> Option<Timestamp> {
    Some(mamori_calendar::parse_time(s).unwrap())
}

const DESCRIPTION: &str = "事務担当者が山田太郎さんの健康診断書を含むUSBメモリを電車内で紛失した";
const CAUSE: &str = "暗号化されていないUSBメモリを持ち出し規程に反して持ち帰った";

/// Known on Thursday 2026-04-30 (Golden Week ahead); special-care data of 3 people.
fn facts() -> Value {
    json!({
        "discovered_on": "2026-04-30",
        "principals_affected": 3,
        "special_care_data": true,
        "financial_damage_risk": false,
        "wrongful_purpose": false,
        "high_level_encryption": false,
    })
}

fn report(description: &str) -> Value {
    let mut v = facts();
    v["description"] = json!(description);
    v
}

const NOW: &str = "2026-05-01T10:00:00+09:00";

#[tokio::test]
async fn a_clerk_reports_a_breach_and_the_manager_carries_it_to_closure() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let p = add_volunteer(&e).await;

        // Seed 003 Art. 7(3): the clerk reports. Rule 7(i); day 5 is Mon 05-04 (holiday) →
        // 05-07; day 30 is Fri 05-29.
        let o = e.m.incident_open(&clerk, &report(DESCRIPTION), at(NOW)).await.unwrap();
        assert!(o.id.starts_with("i_"));
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(
            v,
            json!({"id": o.id, "reportable": true, "grounds": ["special_care_data"],
                   "preliminary_due": "2026-05-07", "final_due": "2026-05-29", "notify_principals": true})
        );
        let id = o.id.clone();

        // Seed 003 Art. 13(2): the manager investigates, contains, recovers, prevents.
        for (kind, text) in [
            (StepKind::Containment, "USBメモリの遺失届を警察に提出した"),
            (StepKind::Investigation, CAUSE),
            (StepKind::Damage, "現時点で二次被害は確認されていない"),
            (StepKind::Recovery, "バックアップから台帳を復元した"),
            (StepKind::Prevention, "USBメモリの持ち出しを禁止し、暗号化を義務付けた"),
        ] {
            let s = e.m.incident_record(&manager, &id, kind, text, at(NOW)).await.unwrap();
            assert_eq!(s.kind, kind.as_str());
        }
        let i = e.m
            .incident_affected(&manager, &id, std::slice::from_ref(&p), &["name".into(), "health".into()], at(NOW))
            .await
            .unwrap();
        assert_eq!(i.registered_principals, 1);
        assert_eq!(i.categories, ["name", "health"]);
        assert_eq!(i.pending_steps, ["preliminary_report", "final_report", "principal_notice"]);

        // The drafts: the nine items of rule 8(1), in Japanese and English.
        let r = e.m
            .incident_report(&manager, &id, Stage::Preliminary, Lang::Ja, at(NOW))
            .await
            .unwrap();
        assert_eq!(r.due.as_deref(), Some("2026-05-07"));
        let titles: Vec<&str> = r.items.iter().map(|i| i.title).collect();
        assert_eq!(
            titles,
            [
                "概要",
                "漏えい等が発生し、又は発生したおそれがある個人データの項目",
                "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数",
                "原因",
                "二次被害又はそのおそれの有無及びその内容",
                "本人への対応の実施状況",
                "公表の実施状況",
                "再発防止のための措置",
                "その他参考となる事項",
            ]
        );
        for t in titles {
            assert!(r.html.contains(t), "{t}");
        }
        assert!(r.html.contains(CAUSE));
        assert!(r.html.contains("(速報)"));
        assert!(r.items[1].text.contains("氏名"), "{}", r.items[1].text);
        let missing: Vec<&str> = r.items.iter().filter(|i| i.missing).map(|i| i.key).collect();
        assert_eq!(missing, ["response_to_principals", "publication"]);
        let en = e.m
            .incident_report(&manager, &id, Stage::Final, Lang::En, at(NOW))
            .await
            .unwrap();
        assert_eq!(en.due.as_deref(), Some("2026-05-29"));
        assert!(en.html.contains("Measures to prevent recurrence"));

        // The notice to the principals (rule 10) names no one.
        let notice = e.m.incident_notice(&manager, &id, Lang::Ja, at(NOW)).await.unwrap();
        assert!(notice.contains(CAUSE));
        assert!(!notice.contains("山田"));

        // Closing needs the final report and the notice (APPI 26(1), (2)).
        let m = bad_input(e.m.incident_close(&manager, &id, at(NOW)).await);
        assert!(m.contains("final report"), "{m}");
        e.m.incident_submitted(&manager, &id, Stage::Preliminary, "2026-05-01", at(NOW))
            .await
            .unwrap();
        e.m.incident_submitted(&manager, &id, Stage::Final, "2026-05-01", at(NOW))
            .await
            .unwrap();
        let m = bad_input(e.m.incident_close(&manager, &id, at(NOW)).await);
        assert!(m.contains("APPI 26(2)"), "{m}");
        let i = e.m
            .incident_notice_record(&manager, &id, NoticeMethod::Notice, "2026-05-01", None, at(NOW))
            .await
            .unwrap();
        assert!(i.principals_notified);
        e.m.incident_notice_record(
            &manager,
            &id,
            NoticeMethod::Publication,
            "2026-05-01",
            Some("ウェブサイトに掲載"),
            at(NOW),
        )
        .await
        .unwrap();
        let r = e.m
            .incident_report(&manager, &id, Stage::Final, Lang::Ja, at(NOW))
            .await
            .unwrap();
        assert!(r.items.iter().all(|i| !i.missing), "{:?}", r.items);
        let closed = e.m.incident_close(&manager, &id, at(NOW)).await.unwrap();
        assert_eq!(closed.status, "closed");
        assert_eq!(closed.closed_by.as_deref(), Some("manager"));
        assert!(closed.pending_steps.is_empty());
        let m = bad_input(
            e.m.incident_record(&manager, &id, StepKind::Recovery, "x", at(NOW)).await,
        );
        assert!(m.contains("closed"), "{m}");

        // Show opens everything; the audit log has every step, ids only.
        let d = e.m.incident_show(&manager, &id, at(NOW)).await.unwrap();
        assert_eq!(d.description, DESCRIPTION);
        assert_eq!(d.steps.len(), 5);
        assert_eq!(d.principals, std::slice::from_ref(&p));
        assert_eq!(d.notices.len(), 2);
        assert!(d.reasons[0].contains("PPC rule 7(i)"));
        let admin = actor(&e, "manager").await;
        let log = e.m.audit_log(&admin, None, 500).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|x| x.action.as_str()).collect();
        for a in [
            "incident.open",
            "incident.step",
            "incident.affected",
            "incident.report",
            "incident.notice",
            "incident.submitted",
            "incident.notified",
            "incident.close",
            "incident.read",
        ] {
            assert!(actions.contains(&a), "{a} not on the audit log");
        }
        let text = serde_json::to_string(&log).unwrap();
        assert!(!text.contains("山田"));
        assert!(!text.contains("USB"));
        assert!(
            log.iter()
                .any(|x| x.action == "incident.affected" && x.principal_id.as_deref() == Some(p.as_str()))
        );
        assert!(e.m.audit_verify().await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn only_the_manager_manages_an_incident_and_anyone_may_report_one() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let auditor = actor(&e, "auditor").await;
        // Seed 003 Art. 7(3): every staff member reports, the auditor too.
        let id =
            e.m.incident_open(&auditor, &report("棚の書類が見当たらない"), at(NOW))
                .await
                .unwrap()
                .id;
        e.m.incident_open(&clerk, &report("誤送信"), at(NOW))
            .await
            .unwrap();
        for who in [&clerk, &auditor] {
            let reason = denied(
                e.m.incident_record(who, &id, StepKind::Containment, "x", at(NOW))
                    .await,
            );
            assert!(reason.contains("may not manage incidents"), "{reason}");
            assert!(reason.contains("seed 003 Art. 13(2)"), "{reason}");
            denied(e.m.incident_list(who, false, at(NOW)).await);
            denied(e.m.incident_show(who, &id, at(NOW)).await);
            denied(e.m.incident_close(who, &id, at(NOW)).await);
            denied(e.m.incident_update(who, &id, &facts(), at(NOW)).await);
            denied(
                e.m.incident_report(who, &id, Stage::Final, Lang::Ja, at(NOW))
                    .await,
            );
            denied(e.m.incident_notice(who, &id, Lang::Ja, at(NOW)).await);
            denied(
                e.m.incident_submitted(who, &id, Stage::Final, "2026-05-01", at(NOW))
                    .await,
            );
            denied(
                e.m.incident_affected(who, &id, &[], &["name".into()], at(NOW))
                    .await,
            );
        }
        let manager = actor(&e, "manager").await;
        let log = e.m.audit_log(&manager, None, 500).await.unwrap();
        assert!(
            log.iter()
                .any(|x| x.action == "incident.step" && x.decision == "deny" && x.actor == "clerk")
        );
    })
    .await;
}

#[tokio::test]
async fn affected_principals_must_be_in_the_registry_and_nothing_is_stored_otherwise() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let p = add_volunteer(&e).await;
        let id =
            e.m.incident_open(&clerk, &report("誤送信"), at(NOW))
                .await
                .unwrap()
                .id;
        let m = bad_input(
            e.m.incident_affected(&manager, &id, &[p.clone(), "p_nobody".into()], &[], at(NOW))
                .await,
        );
        assert!(
            m.starts_with("--principal: there is no principal p_nobody"),
            "{m}"
        );
        let m = bad_input(
            e.m.incident_affected(
                &manager,
                &id,
                std::slice::from_ref(&p),
                &["shoe_size".into()],
                at(NOW),
            )
            .await,
        );
        assert!(m.starts_with("--category:"), "{m}");
        let d = e.m.incident_show(&manager, &id, at(NOW)).await.unwrap();
        assert!(d.principals.is_empty());
        assert_eq!(d.info.registered_principals, 0);
        assert!(d.info.categories.is_empty());
        // Twice the same principal counts once.
        let i =
            e.m.incident_affected(&manager, &id, &[p.clone(), p.clone()], &[], at(NOW))
                .await
                .unwrap();
        assert_eq!(i.registered_principals, 1);
        let i =
            e.m.incident_affected(&manager, &id, std::slice::from_ref(&p), &[], at(NOW))
                .await
                .unwrap();
        assert_eq!(i.registered_principals, 1);
        assert!(matches!(
            e.m.incident_show(&manager, "i_nothing", at(NOW)).await,
            Err(ServiceError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn bad_reports_are_refused_naming_the_field_and_nothing_is_stored() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let m = bad_input(e.m.incident_open(&clerk, &facts(), at(NOW)).await);
        assert!(m.starts_with("description: is missing"), "{m}");
        let mut v = report("x");
        v["principals_affected"] = json!(-1);
        let m = bad_input(e.m.incident_open(&clerk, &v, at(NOW)).await);
        assert!(m.starts_with("principals_affected: is negative"), "{m}");
        let mut v = report("x");
        v["discovered_on"] = json!("2026-05-02");
        let m = bad_input(e.m.incident_open(&clerk, &v, at(NOW)).await);
        assert!(m.starts_with("discovered_on: is in the future"), "{m}");
        let m = bad_input(
            e.m.incident_open(&clerk, &report("card 4242 4242 4242 4242"), at(NOW))
                .await,
        );
        assert!(
            m.starts_with("description: looks like it holds a payment card number"),
            "{m}"
        );
        assert!(!m.contains("4242"));
        assert!(
            e.m.incident_list(&manager, false, at(NOW))
                .await
                .unwrap()
                .is_empty()
        );

        let id =
            e.m.incident_open(&clerk, &report("x"), at(NOW))
                .await
                .unwrap()
                .id;
        let m = bad_input(
            e.m.incident_submitted(&manager, &id, Stage::Preliminary, "2026-04-29", at(NOW))
                .await,
        );
        assert!(
            m.starts_with("--on: is before the breach became known"),
            "{m}"
        );
        let m = bad_input(
            e.m.incident_submitted(&manager, &id, Stage::Preliminary, "2026-05-02", at(NOW))
                .await,
        );
        assert!(m.starts_with("--on: is in the future"), "{m}");
        let m = bad_input(
            e.m.incident_record(&manager, &id, StepKind::Recovery, "  ", at(NOW))
                .await,
        );
        assert!(m.starts_with("--text: is empty"), "{m}");
    })
    .await;
}

#[tokio::test]
async fn re_assessment_moves_the_deadlines_and_the_policy_sets_the_preliminary_target() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let mut v = report("メール誤送信");
        v["special_care_data"] = json!(false);
        v["principals_affected"] = json!(1000);
        let o = e.m.incident_open(&clerk, &v, at(NOW)).await.unwrap();
        assert!(!o.assessment.reportable);
        assert_eq!(o.assessment.final_due, None);
        // Found to be an intrusion (rule 7(iii)): 60 days — day 60 is Sun 06-28 → Mon 06-29.
        let mut f = facts();
        f["special_care_data"] = json!(false);
        f["principals_affected"] = json!(1001);
        f["wrongful_purpose"] = json!(true);
        let i =
            e.m.incident_update(&manager, &o.id, &f, at(NOW))
                .await
                .unwrap();
        assert!(i.reportable);
        assert_eq!(i.grounds, ["wrongful_purpose", "over_1000_principals"]);
        assert_eq!(i.final_due.as_deref(), Some("2026-06-29"));
        // High-level encryption exempts it again (rule 7(i)'s exclusion).
        f["high_level_encryption"] = json!(true);
        let i =
            e.m.incident_update(&manager, &o.id, &f, at(NOW))
                .await
                .unwrap();
        assert!(!i.reportable);
        assert!(i.grounds.is_empty());
        let d = e.m.incident_show(&manager, &o.id, at(NOW)).await.unwrap();
        assert!(
            d.reasons
                .iter()
                .all(|r| r.contains("high-level encryption")),
            "{:?}",
            d.reasons
        );
        // Not reportable: it closes without reports.
        e.m.incident_close(&manager, &o.id, at(NOW)).await.unwrap();

        // A policy with a 3-day target: known Mon 04-27, day 3 is Wed 04-29 (昭和の日) → Thu 04-30.
        let text = mamori_policy::preset("chiba-ia")
            .unwrap()
            .replace("version = \"2022-04-01\"", "version = \"2026-01-01\"")
            + "\n[incidents]\npreliminary_report_days = 3\n";
        let today = mamori_service::today_jst().to_string();
        e.m.policy_apply(None, &text, "three.toml", &today)
            .await
            .unwrap();
        assert_eq!(e.m.preliminary_report_days(), 3);
        let mut v = report("x");
        v["discovered_on"] = json!("2026-04-27");
        let o = e.m.incident_open(&clerk, &v, at(NOW)).await.unwrap();
        assert_eq!(o.assessment.preliminary_due.to_string(), "2026-04-30");
    })
    .await;
}

#[tokio::test]
async fn the_overdue_list_flags_reports_past_their_due_date_as_of_the_given_day() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let id =
            e.m.incident_open(&clerk, &report("紛失"), at(NOW))
                .await
                .unwrap()
                .id;
        let mut quiet = report("軽微");
        quiet["special_care_data"] = json!(false);
        e.m.incident_open(&clerk, &quiet, at(NOW)).await.unwrap();

        // The whole due day (Thu 05-07, after Golden Week) is still in time.
        let l =
            e.m.incident_list(&manager, true, at("2026-05-07T23:59:00+09:00"))
                .await
                .unwrap();
        assert!(l.is_empty());
        let all =
            e.m.incident_list(&manager, false, at("2026-05-07T12:00:00+09:00"))
                .await
                .unwrap();
        assert_eq!(all.len(), 2);
        let l =
            e.m.incident_list(&manager, true, at("2026-05-08T09:00:00+09:00"))
                .await
                .unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].id, id);
        assert_eq!(l[0].overdue_steps, ["preliminary_report"]);
        e.m.incident_submitted(
            &manager,
            &id,
            Stage::Preliminary,
            "2026-05-08",
            at("2026-05-08T10:00:00+09:00"),
        )
        .await
        .unwrap();
        assert!(
            e.m.incident_list(&manager, true, at("2026-05-29T18:00:00+09:00"))
                .await
                .unwrap()
                .is_empty()
        );
        let l =
            e.m.incident_list(&manager, true, at("2026-05-30T09:00:00+09:00"))
                .await
                .unwrap();
        assert_eq!(l[0].overdue_steps, ["final_report"]);
        e.m.incident_submitted(
            &manager,
            &id,
            Stage::Final,
            "2026-05-30",
            at("2026-05-30T10:00:00+09:00"),
        )
        .await
        .unwrap();
        assert!(
            e.m.incident_list(&manager, true, at("2026-06-30T10:00:00+09:00"))
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn no_incident_text_is_in_the_data_folder_in_plaintext() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let secret = "SECRET-DESCRIPTION-漏えい-0001";
        let step = "SECRET-STEP-調査-0002";
        let id =
            e.m.incident_open(&clerk, &report(secret), at(NOW))
                .await
                .unwrap()
                .id;
        e.m.incident_record(&manager, &id, StepKind::Investigation, step, at(NOW))
            .await
            .unwrap();
        e.m.incident_notice_record(
            &manager,
            &id,
            NoticeMethod::InquiryDesk,
            "2026-05-01",
            Some("SECRET-NOTICE-0003"),
            at(NOW),
        )
        .await
        .unwrap();
        let d = e.m.incident_show(&manager, &id, at(NOW)).await.unwrap();
        assert_eq!(d.description, secret);
        assert_eq!(d.steps[0].text, step);
        assert_eq!(d.notices[0].text.as_deref(), Some("SECRET-NOTICE-0003"));
        if e.backend != "sqlite" {
            return;
        }
        // Checkpoint the WAL so the bytes are where they will rest, then read every file.
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(e.m.store().pool())
            .await;
        for entry in std::fs::read_dir(&e.dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for needle in [secret, step, "SECRET-NOTICE-0003", "SECRET"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{needle} in {}",
                    path.display()
                );
            }
        }
    })
    .await;
}
