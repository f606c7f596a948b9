//! Students, fees and refunds end to end (issue 10) on SQLite and PostgreSQL: the life cycle with
//! its transitions refused with the 学費返還規定 situation, payments by token (card numbers
//! refused), refunds recorded against the payments, the statement in ja/en, graduation to the
//! alumni list only with consent (APPI 17(2), 18(1)), and roles refused.

use mamori_policy::Lang;
use mamori_service::principal::NewPrincipal;
use mamori_service::provision::ConsentTarget;
use mamori_service::student::{NewEvent, NewPayment, OpenStudent};
use mamori_service::{Actor, ServiceError};

use crate::common::*;

async fn add_applicant(e: &Env) -> String {
    let clerk = actor(e, "clerk").await;
    e.m.principal_add(
        &clerk,
        NewPrincipal {
            channel: "admission_application".into(),
            fields: fields(&[
                ("name", "Nguyen Van An"),
                ("email", "an.nguyen@example.jp"),
                ("nationality", "VN"),
            ]),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn open(e: &Env, clerk: &Actor, pid: &str, term_months: u32, terms: u32) -> String {
    e.m.student_open(
        clerk,
        OpenStudent {
            principal_id: pid.into(),
            term_months,
            terms,
            applied_on: Some("2025-10-01".into()),
        },
    )
    .await
    .unwrap()
    .id
}

fn ev(kind: &str, on: &str) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        on: Some(on.into()),
        ..Default::default()
    }
}

async fn events(e: &Env, clerk: &Actor, id: &str, list: &[(&str, &str)]) {
    for (kind, on) in list {
        e.m.student_event(clerk, id, ev(kind, on)).await.unwrap();
    }
}

fn pay(item: &str, term: Option<u32>, yen: i64) -> NewPayment {
    NewPayment {
        item: item.into(),
        term,
        yen,
        token: "pm_1Nx2Ab3Cd4Ef5Gh".into(),
        paid_on: Some("2025-10-02".into()),
    }
}

const TO_ENROLLMENT: [(&str, &str); 6] = [
    ("coe_applied", "2025-11-01"),
    ("coe_issued", "2026-02-20"),
    ("visa_applied", "2026-03-01"),
    ("visa_issued", "2026-03-10"),
    ("arrived", "2026-03-28"),
    ("enrolled", "2026-04-01"),
];

#[tokio::test]
async fn withdrawal_in_second_term_refunds_terms_after_the_first_six_months() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let pid = add_applicant(&e).await;
        let id = open(&e, &clerk, &pid, 3, 4).await;
        e.m.student_pay(&clerk, &id, pay("screening_fee", None, 20_000))
            .await
            .unwrap();
        e.m.student_pay(&clerk, &id, pay("admission_fee", None, 50_000))
            .await
            .unwrap();
        for t in 1..=3 {
            e.m.student_pay(&clerk, &id, pay("tuition", Some(t), 210_000))
                .await
                .unwrap();
        }
        // Term 4 paid in two instalments.
        e.m.student_pay(&clerk, &id, pay("tuition", Some(4), 100_000))
            .await
            .unwrap();
        e.m.student_pay(&clerk, &id, pay("tuition", Some(4), 110_000))
            .await
            .unwrap();
        e.m.student_pay(&clerk, &id, pay("other_fees", None, 30_000))
            .await
            .unwrap();
        events(&e, &clerk, &id, &TO_ENROLLMENT).await;
        // Refund before any refund situation: refused, naming the stage.
        let m = bad_input(e.m.student_refund(&clerk, &id, None).await);
        assert!(m.contains("stage enrolled"), "{m}");
        // 2026-07-15 falls in term 2 (July to September).
        let info =
            e.m.student_event(&clerk, &id, ev("withdrawal_notice", "2026-07-15"))
                .await
                .unwrap();
        assert_eq!(info.withdrawal_notice_term, Some(2));
        assert_eq!(info.refund_event, Some("withdrew_after_enrollment"));
        // The event must match the record.
        let m = bad_input(e.m.student_refund(&clerk, &id, Some("visa_refused")).await);
        assert!(m.contains("withdrew_after_enrollment"), "{m}");
        let r =
            e.m.student_refund(&clerk, &id, Some("withdrew_after_enrollment"))
                .await
                .unwrap();
        assert_eq!(r.refund, 420_000);
        assert_eq!(r.retained, 20_000 + 50_000 + 420_000 + 30_000);
        let t4 = r.lines.iter().find(|l| l.term == Some(4)).unwrap();
        assert_eq!((t4.paid, t4.refund), (210_000, 210_000));
        assert!(t4.rule.contains("翌学期以降の学費は全額返還する"));
        // Recorded against the payments.
        let shown = e.m.student_show(&clerk, &id).await.unwrap();
        assert_eq!(shown.refund.as_ref().unwrap().id, r.id);
        assert!(
            shown
                .payments
                .iter()
                .all(|p| p.refund_id.as_deref() == Some(r.id.as_str()))
        );
        let refunded: i64 = shown.payments.iter().map(|p| p.refunded_yen).sum();
        assert_eq!(refunded, 420_000);
        let t4_pays: Vec<i64> = shown
            .payments
            .iter()
            .filter(|p| p.term == Some(4))
            .map(|p| p.refunded_yen)
            .collect();
        assert_eq!(t4_pays, vec![100_000, 110_000]);
        // Twice: refused. After the refund: no more payments or events.
        bad_input(e.m.student_refund(&clerk, &id, None).await);
        bad_input(
            e.m.student_pay(&clerk, &id, pay("other_fees", None, 1))
                .await,
        );
        // The statement, both languages, every line with its rule.
        let ja = e.m.student_statement(&clerk, &id, Lang::Ja).await.unwrap();
        assert!(ja.contains("<html lang=\"ja\">"));
        assert!(ja.contains("学費返還明細書"));
        assert!(ja.contains("420,000円"));
        assert!(ja.contains("第4学期"));
        assert!(ja.contains("初期6ヶ月分の学費は返還しない"));
        assert_eq!(ja.matches("学費返還規定「").count(), r.lines.len());
        let en = e.m.student_statement(&clerk, &id, Lang::En).await.unwrap();
        assert!(en.contains("Refund statement"));
        assert!(en.contains("¥420,000"));
        assert!(en.contains("term 3 is after term 2"));
        // No personal value and no token on the statement or the record.
        assert!(!ja.contains("Nguyen") && !en.contains("pm_1Nx2"));
        let json = serde_json::to_string(&shown).unwrap();
        assert!(!json.contains("pm_1Nx2") && !json.contains("Nguyen"));
        // The audit log carries the decisions, never the values.
        let log = e.m.store().audit_entries(Some(&pid), 100).await.unwrap();
        assert!(log.iter().any(|x| x.action == "student.refund"));
        assert!(
            log.iter()
                .all(|x| !x.detail.to_string().contains("pm_1Nx2"))
        );
    })
    .await;
}

#[tokio::test]
async fn a_term_straddling_the_sixth_month_is_split_pro_rata_on_the_record() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let pid = add_applicant(&e).await;
        let id = open(&e, &clerk, &pid, 4, 3).await;
        for t in 1..=3 {
            e.m.student_pay(&clerk, &id, pay("tuition", Some(t), 280_000))
                .await
                .unwrap();
        }
        events(&e, &clerk, &id, &TO_ENROLLMENT).await;
        let info =
            e.m.student_event(&clerk, &id, ev("withdrawal_notice", "2026-05-10"))
                .await
                .unwrap();
        assert_eq!(info.withdrawal_notice_term, Some(1));
        let r = e.m.student_refund(&clerk, &id, None).await.unwrap();
        assert_eq!(r.refund, 140_000 + 280_000);
        let en = e.m.student_statement(&clerk, &id, Lang::En).await.unwrap();
        assert!(en.contains("split pro rata by month"), "{en}");
        let ja = e.m.student_statement(&clerk, &id, Lang::Ja).await.unwrap();
        assert!(ja.contains("月割り"));
    })
    .await;
}

#[tokio::test]
async fn coe_not_issued_refunds_everything_but_the_screening_fee() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let pid = add_applicant(&e).await;
        let id = open(&e, &clerk, &pid, 6, 4).await;
        e.m.student_pay(&clerk, &id, pay("screening_fee", None, 20_000))
            .await
            .unwrap();
        e.m.student_pay(&clerk, &id, pay("admission_fee", None, 50_000))
            .await
            .unwrap();
        e.m.student_pay(&clerk, &id, pay("tuition", Some(1), 400_000))
            .await
            .unwrap();
        events(
            &e,
            &clerk,
            &id,
            &[
                ("coe_applied", "2025-11-01"),
                ("coe_not_issued", "2026-02-20"),
            ],
        )
        .await;
        let r = e.m.student_refund(&clerk, &id, None).await.unwrap();
        assert_eq!(r.event, "coe_not_issued");
        assert_eq!((r.refund, r.retained), (450_000, 20_000));
        // The life cycle ended: nothing follows.
        let m = bad_input(
            e.m.student_event(&clerk, &id, ev("coe_issued", "2026-03-01"))
                .await,
        );
        assert!(m.contains("settled by refund"), "{m}");
    })
    .await;
}

#[tokio::test]
async fn transitions_are_refused_with_the_refund_rules_situation() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let pid = add_applicant(&e).await;
        let id = open(&e, &clerk, &pid, 3, 4).await;
        let m = bad_input(
            e.m.student_event(&clerk, &id, ev("coe_not_issued", "2025-11-01"))
                .await,
        );
        assert!(
            m.starts_with("--kind: coe_not_issued cannot follow applied"),
            "{m}"
        );
        assert!(m.contains("clause 1"), "{m}");
        let m = bad_input(
            e.m.student_event(&clerk, &id, ev("withdrawal_notice", "2025-11-01"))
                .await,
        );
        assert!(m.contains("clause 4"), "{m}");
        let m = bad_input(
            e.m.student_event(&clerk, &id, ev("coe_applied", "2025-09-01"))
                .await,
        );
        assert!(
            m.starts_with("--on: 2025-09-01 is before the latest event"),
            "{m}"
        );
        let m = bad_input(
            e.m.student_event(&clerk, &id, ev("expelled", "2025-11-01"))
                .await,
        );
        assert!(
            m.starts_with("--kind: \"expelled\" is not a student event"),
            "{m}"
        );
        let m = bad_input(
            e.m.student_event(&clerk, &id, ev("coe_applied", "2025-13-01"))
                .await,
        );
        assert!(m.starts_with("--on:"), "{m}");
        events(&e, &clerk, &id, &TO_ENROLLMENT).await;
        // A notice after the course's last day is graduation, not withdrawal.
        let m = bad_input(
            e.m.student_event(&clerk, &id, ev("withdrawal_notice", "2027-04-01"))
                .await,
        );
        assert!(
            m.contains("after the course's last day (2027-03-31)"),
            "{m}"
        );
        // Nothing was recorded by the refusals.
        let shown = e.m.student_show(&clerk, &id).await.unwrap();
        assert_eq!(shown.events.len(), 7);
        assert_eq!(shown.stage, "enrolled");
        assert_eq!(shown.next, vec!["withdrawal_notice", "graduated"]);
        // Declining before arrival and refunds for it.
        let pid2 = add_applicant(&e).await;
        let id2 = open(&e, &clerk, &pid2, 3, 4).await;
        e.m.student_pay(&clerk, &id2, pay("admission_fee", None, 50_000))
            .await
            .unwrap();
        e.m.student_pay(&clerk, &id2, pay("tuition", Some(1), 210_000))
            .await
            .unwrap();
        events(&e, &clerk, &id2, &TO_ENROLLMENT[..4]).await;
        e.m.student_event(&clerk, &id2, ev("declined", "2026-03-15"))
            .await
            .unwrap();
        let r = e.m.student_refund(&clerk, &id2, None).await.unwrap();
        assert_eq!(
            (r.event.as_str(), r.refund, r.retained),
            ("withdrew_before_arrival", 210_000, 50_000)
        );
        // A second open record for the same principal is refused.
        let m = bad_input(
            e.m.student_open(
                &clerk,
                OpenStudent {
                    principal_id: pid.clone(),
                    term_months: 3,
                    terms: 4,
                    applied_on: None,
                },
            )
            .await,
        );
        assert!(m.contains("already has student record"), "{m}");
        assert_eq!(e.m.student_list(&clerk).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn payments_need_a_token_and_refuse_card_numbers() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let pid = add_applicant(&e).await;
        let id = open(&e, &clerk, &pid, 3, 4).await;
        let mut p = pay("tuition", Some(1), 210_000);
        p.token = "4242 4242 4242 4242".into();
        let m = bad_input(e.m.student_pay(&clerk, &id, p).await);
        assert!(
            m.starts_with("--token: looks like a payment card number"),
            "{m}"
        );
        assert!(!m.contains("4242"));
        let mut p = pay("tuition", Some(1), 210_000);
        p.token = "x".into();
        assert!(bad_input(e.m.student_pay(&clerk, &id, p).await).starts_with("--token:"));
        let m = bad_input(e.m.student_pay(&clerk, &id, pay("tuition", None, 1)).await);
        assert!(m.starts_with("--term:"), "{m}");
        let m = bad_input(
            e.m.student_pay(&clerk, &id, pay("tuition", Some(5), 1))
                .await,
        );
        assert!(m.starts_with("--term: 5 is not a term"), "{m}");
        let m = bad_input(
            e.m.student_pay(&clerk, &id, pay("admission_fee", Some(1), 1))
                .await,
        );
        assert!(m.starts_with("--term: goes with tuition only"), "{m}");
        let m = bad_input(
            e.m.student_pay(&clerk, &id, pay("admission_fee", None, -5))
                .await,
        );
        assert!(m.starts_with("--yen:"), "{m}");
        let m = bad_input(
            e.m.student_pay(&clerk, &id, pay("dormitory", None, 5))
                .await,
        );
        assert!(
            m.starts_with("--item: \"dormitory\" is not a fee item"),
            "{m}"
        );
        assert!(
            e.m.student_show(&clerk, &id)
                .await
                .unwrap()
                .payments
                .is_empty()
        );
        let ok =
            e.m.student_pay(&clerk, &id, pay("tuition", Some(1), 210_000))
                .await
                .unwrap();
        assert!(ok.token_on_record);
        // The token is stored sealed: the raw table never holds it in clear.
        let rows = e.m.store().student_payments(&id).await.unwrap();
        assert!(!rows[0].token_ct.windows(8).any(|w| w == b"pm_1Nx2A"));
    })
    .await;
}

#[tokio::test]
async fn graduation_moves_to_alumni_only_with_consent_for_alumni_contact() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let pid = add_applicant(&e).await;
        let id = open(&e, &clerk, &pid, 6, 4).await;
        events(&e, &clerk, &id, &TO_ENROLLMENT).await;
        // Without consent: refused with the rule, and nothing recorded.
        let reason = denied(
            e.m.student_graduate(&clerk, &id, Some("2028-03-20"), true)
                .await,
        );
        assert!(reason.contains("alumni_contact"), "{reason}");
        assert!(reason.contains("APPI 17(2), 18(1)"), "{reason}");
        assert!(
            reason.contains(&format!("consent give {pid} --purpose alumni_contact")),
            "{reason}"
        );
        let shown = e.m.student_show(&clerk, &id).await.unwrap();
        assert_eq!(
            (shown.stage.as_str(), shown.channel.as_str()),
            ("enrolled", "admission_application")
        );
        // Graduating without moving is fine; moving later needs the consent.
        let g =
            e.m.student_graduate(&clerk, &id, Some("2028-03-20"), false)
                .await
                .unwrap();
        assert_eq!(
            (g.channel.as_str(), g.moved_to_alumni),
            ("admission_application", false)
        );
        denied(e.m.student_graduate(&clerk, &id, None, true).await);
        e.m.consent_give(
            &clerk,
            &pid,
            &ConsentTarget::Purpose("alumni_contact".into()),
            Some("form 2028-alumni-01"),
            false,
        )
        .await
        .unwrap();
        let g = e.m.student_graduate(&clerk, &id, None, true).await.unwrap();
        assert_eq!((g.channel.as_str(), g.moved_to_alumni), ("alumni", true));
        let p = e.m.store().principal(&pid).await.unwrap().unwrap();
        assert_eq!(p.channel, "alumni");
        // The alumni purpose now allows reading the graduate's contact details.
        let shown =
            e.m.principal_show(
                &clerk,
                &pid,
                "alumni_contact",
                Some(&["email".to_string()]),
                None,
            )
            .await
            .unwrap();
        assert_eq!(shown.fields["email"], "an.nguyen@example.jp");
        // Graduation in one step with consent already on record.
        let pid2 = add_applicant(&e).await;
        e.m.consent_give(
            &clerk,
            &pid2,
            &ConsentTarget::Purpose("alumni_contact".into()),
            Some("form 2026-041"),
            false,
        )
        .await
        .unwrap();
        let id2 = open(&e, &clerk, &pid2, 6, 4).await;
        events(&e, &clerk, &id2, &TO_ENROLLMENT).await;
        let g =
            e.m.student_graduate(&clerk, &id2, Some("2028-03-20"), true)
                .await
                .unwrap();
        assert!(g.moved_to_alumni);
        // Graduation before enrollment is refused.
        let pid3 = add_applicant(&e).await;
        let id3 = open(&e, &clerk, &pid3, 6, 4).await;
        let m = bad_input(e.m.student_graduate(&clerk, &id3, None, false).await);
        assert!(m.contains("graduated cannot follow applied"), "{m}");
    })
    .await;
}

#[tokio::test]
async fn teachers_and_the_auditor_are_refused_student_records() {
    on_both("tokyo-one", |e| async move {
        e.m.staff_add(None, "teacher", "teacher", None, PASSWORD)
            .await
            .unwrap();
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let teacher = actor(&e, "teacher").await;
        let auditor = actor(&e, "auditor").await;
        let pid = add_applicant(&e).await;
        let id = open(&e, &manager, &pid, 3, 4).await;
        let r = denied(e.m.student_show(&teacher, &id).await);
        assert!(
            r.contains("role teacher may not use personal data for purpose fee_management"),
            "{r}"
        );
        let r = denied(
            e.m.student_pay(&teacher, &id, pay("tuition", Some(1), 1))
                .await,
        );
        assert!(r.contains("role teacher may not register"), "{r}");
        denied(e.m.student_list(&auditor).await);
        denied(
            e.m.student_event(&auditor, &id, ev("coe_applied", "2025-11-01"))
                .await,
        );
        denied(e.m.student_statement(&teacher, &id, Lang::Ja).await);
        denied(e.m.student_graduate(&teacher, &id, None, true).await);
        // The clerk may.
        assert_eq!(e.m.student_list(&clerk).await.unwrap().len(), 1);
        // Denials are on the audit log.
        let log = e.m.store().audit_entries(None, 200).await.unwrap();
        assert!(
            log.iter()
                .any(|x| x.action == "student.show" && x.decision == "deny")
        );
        // An inquiry's principal cannot become a student (fee_management not notified).
        let inq =
            e.m.principal_add(
                &clerk,
                NewPrincipal {
                    channel: "inquiry".into(),
                    fields: fields(&[("email", "q@example.jp")]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let m = bad_input(
            e.m.student_open(
                &clerk,
                OpenStudent {
                    principal_id: inq,
                    term_months: 3,
                    terms: 4,
                    applied_on: None,
                },
            )
            .await,
        );
        assert!(m.contains("was not notified for fee_management"), "{m}");
        assert!(matches!(
            e.m.student_show(&clerk, "s_missing").await,
            Err(ServiceError::NotFound(_))
        ));
    })
    .await;
}
