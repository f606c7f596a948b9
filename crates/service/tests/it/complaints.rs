//! The complaint desk end to end (seed 003 Art. 23; seed 000 Art. 11), on SQLite and
//! PostgreSQL: counted from the next opening, answer-by dates across weekends, holidays and the
//! year-end closure, notes with the staff consulted, the written notice, overdue lists, denials,
//! bad input that stores nothing, and no complaint text in the data folder in plaintext.

use std::path::Path;

use jiff::Timestamp;
use mamori_policy::Lang;
use mamori_service::ServiceError;
use mamori_service::complaint::NewComplaint;
use sqlx::Row;

use crate::common::*;

fn at(s: &str) -> Timestamp {
    mamori_calendar::parse_time(s).unwrap()
}

fn complaint(received_at: &str, summary: &str) -> NewComplaint {
    NewComplaint {
        received_at: received_at.into(),
        summary: summary.into(),
        ..Default::default()
    }
}

/// Open a complaint as the clerk, "now" being an hour after it arrived.
async fn open(e: &Env, received_at: &str) -> mamori_service::complaint::Opened {
    let clerk = actor(e, "clerk").await;
    let now = at(received_at)
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    e.m.complaint_open(
        &clerk,
        complaint(received_at, "電話で、退学後も案内メールが届くとの苦情"),
        Some(now),
    )
    .await
    .unwrap()
}

async fn data_keys(e: &Env) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM mamori_keys.data_keys")
        .fetch_one(e.m.store().pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

#[tokio::test]
async fn a_complaint_inside_the_window_counts_from_arrival_and_one_outside_from_the_next_opening() {
    on_both("tokyo-one", |e| async move {
        // Seed 003 Art. 23(3): Wednesday 11:00 is inside the window; ten business days later
        // (Art. 23(1), `answer_within_business_days = 10`) is Wednesday 04-15.
        let o = open(&e, "2026-04-01T11:00:00+09:00").await;
        assert!(o.id.starts_with("c_"), "{}", e.backend);
        assert_eq!(o.received_at, "2026-04-01T11:00:00+09:00");
        assert!(o.window_open);
        assert_eq!(o.counted_from, "2026-04-01T11:00:00+09:00");
        assert_eq!(o.answer_by, "2026-04-15");

        // Friday evening, then the weekend and Labour Thanksgiving Day (Monday 11-23).
        let o = open(&e, "2026-11-20T16:30:00+09:00").await;
        assert!(!o.window_open);
        assert_eq!(o.counted_from, "2026-11-24T10:00:00+09:00");
        assert_eq!(o.answer_by, "2026-12-08");

        // A national holiday on a weekday (Showa Day, Wednesday 04-29), and Golden Week inside
        // the ten days (05-04, 05-05, the substitute holiday 05-06).
        let o = open(&e, "2026-04-29T11:00:00+09:00").await;
        assert!(!o.window_open);
        assert_eq!(o.counted_from, "2026-04-30T10:00:00+09:00");
        assert_eq!(o.answer_by, "2026-05-19");

        // Art. 23(3)(2): closed December 29 to January 3; Coming of Age Day 2027-01-11 too.
        let o = open(&e, "2026-12-28T15:00:00+09:00").await;
        assert!(o.window_open);
        assert_eq!(o.answer_by, "2027-01-18");
        let o = open(&e, "2026-12-28T16:00:00+09:00").await;
        assert!(!o.window_open);
        assert_eq!(o.counted_from, "2027-01-04T10:00:00+09:00");
        assert_eq!(o.answer_by, "2027-01-19");
        let o = open(&e, "2027-01-03T23:00:00+09:00").await;
        assert_eq!(o.counted_from, "2027-01-04T10:00:00+09:00");

        // A time given in UTC is judged in Japan time.
        let o = open(&e, "2026-04-01T01:00:00Z").await;
        assert_eq!(o.received_at, "2026-04-01T10:00:00+09:00");
        assert!(o.window_open);
    })
    .await;
}

#[tokio::test]
async fn the_window_edges_of_article_23_are_ten_inclusive_and_sixteen_exclusive() {
    on_both("tokyo-one", |e| async move {
        let cases = [
            ("2026-04-01T09:59:00", false, "2026-04-01T10:00:00+09:00"),
            ("2026-04-01T10:00:00", true, "2026-04-01T10:00:00+09:00"),
            ("2026-04-01T15:59:00", true, "2026-04-01T15:59:00+09:00"),
            ("2026-04-01T16:00:00", false, "2026-04-02T10:00:00+09:00"),
            ("2026-04-01T16:01:00", false, "2026-04-02T10:00:00+09:00"),
        ];
        for (received, open_then, counted) in cases {
            let o = open(&e, received).await;
            assert_eq!(o.window_open, open_then, "{received} {}", e.backend);
            assert_eq!(o.counted_from, counted, "{received}");
        }
    })
    .await;
}

#[tokio::test]
async fn notes_with_the_staff_consulted_the_result_and_the_written_notice_in_japanese_and_english()
{
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let manager = actor(&e, "manager").await;
        let t0 = at("2026-11-20T16:30:00+09:00");
        let o =
            e.m.complaint_open(
                &clerk,
                NewComplaint {
                    received_at: "2026-11-20T16:30:00+09:00".into(),
                    summary: "Letter: my address was shown to another student".into(),
                    channel: Some("letter".into()),
                    ..Default::default()
                },
                Some(t0),
            )
            .await
            .unwrap();

        // No result yet: no notice.
        let m = bad_input(
            e.m.complaint_notice(&clerk, &o.id, Lang::Ja, Some(t0))
                .await,
        );
        assert!(
            m.starts_with("ID: complaint") && m.contains("no result yet"),
            "{m}"
        );

        let acked =
            e.m.complaint_ack(&clerk, &o.id, Some(at("2026-11-24T10:05:00+09:00")))
                .await
                .unwrap();
        assert_eq!(acked.status, "acknowledged");
        assert_eq!(acked.acknowledged_by.as_deref(), Some("clerk"));
        assert_eq!(
            acked.acknowledged_at.as_deref(),
            Some("2026-11-24T10:05:00+09:00")
        );
        let m = bad_input(e.m.complaint_ack(&clerk, &o.id, None).await);
        assert!(m.contains("already acknowledged"), "{m}");

        // Art. 23(4): investigated, the measures discussed with the staff concerned.
        let n1 =
            e.m.complaint_note(
                &clerk,
                &o.id,
                "Seating list posted in class 3B showed addresses",
                &["manager".into(), "admin".into(), "manager".into()],
                Some(at("2026-11-24T11:00:00+09:00")),
            )
            .await
            .unwrap();
        assert_eq!(n1.consulted, vec!["manager", "admin"]);
        e.m.complaint_note(
            &manager,
            &o.id,
            "List withdrawn; teachers reminded",
            &[],
            Some(at("2026-11-25T09:00:00+09:00")),
        )
        .await
        .unwrap();
        let m = bad_input(
            e.m.complaint_note(&clerk, &o.id, "x", &["nobody".into()], None)
                .await,
        );
        assert!(
            m.starts_with("--consulted: there is no staff member \"nobody\""),
            "{m}"
        );

        let closed =
            e.m.complaint_close(
                &manager,
                &o.id,
                "The list was withdrawn on 25 November <and> will not be posted again.",
                Some(at("2026-12-01T14:00:00+09:00")),
            )
            .await
            .unwrap();
        assert_eq!(closed.status, "closed");
        assert!(!closed.overdue);
        assert_eq!(closed.closed_by.as_deref(), Some("manager"));

        // A closed complaint takes no more steps.
        assert!(
            bad_input(e.m.complaint_note(&clerk, &o.id, "late", &[], None).await)
                .contains("is closed")
        );
        assert!(
            bad_input(e.m.complaint_close(&clerk, &o.id, "again", None).await)
                .contains("is closed")
        );
        assert!(bad_input(e.m.complaint_ack(&clerk, &o.id, None).await).contains("is closed"));

        let shown =
            e.m.complaint_show(&clerk, &o.id, Some(at("2026-12-02T09:00:00+09:00")))
                .await
                .unwrap();
        assert_eq!(
            shown.summary,
            "Letter: my address was shown to another student"
        );
        assert_eq!(shown.info.channel.as_deref(), Some("letter"));
        assert_eq!(shown.notes.len(), 2);
        assert_eq!(
            shown.notes[0].text,
            "Seating list posted in class 3B showed addresses"
        );
        assert_eq!(shown.notes[0].staff, "clerk");
        assert_eq!(shown.notes[0].consulted, vec!["manager", "admin"]);
        assert_eq!(shown.notes[1].staff, "manager");
        assert!(shown.notes[1].consulted.is_empty());
        assert_eq!(
            shown.result.as_deref(),
            Some("The list was withdrawn on 25 November <and> will not be posted again.")
        );

        // Art. 23(5): the written notice, printable, in either language.
        let today = Some(at("2026-12-02T09:00:00+09:00"));
        let ja =
            e.m.complaint_notice(&clerk, &o.id, Lang::Ja, today)
                .await
                .unwrap();
        assert!(ja.starts_with("<!doctype html>\n<html lang=\"ja\">"));
        for s in [
            "苦情処理結果のお知らせ",
            "Tokyo One日本語学校",
            "043-330-3300",
            "2026年11月20日 16時30分",
            "2026年11月24日 10時00分",
            "2026年12月8日",
            "2026年12月1日",
            "2026年12月2日",
            "&lt;and&gt;",
            &o.id,
        ] {
            assert!(ja.contains(s), "{s} missing from the Japanese notice");
        }
        let en =
            e.m.complaint_notice(&clerk, &o.id, Lang::En, today)
                .await
                .unwrap();
        assert!(en.starts_with("<!doctype html>\n<html lang=\"en\">"));
        for s in [
            "Notice of the Result of Your Complaint",
            "Tokyo One Japanese Language School",
            "20 November 2026, 16:30 (Japan time)",
            "8 December 2026",
            "will not be posted again",
        ] {
            assert!(en.contains(s), "{s} missing from the English notice");
        }

        // Every step is on the log, with ids only.
        let log = e.m.audit_log(&manager, None, 1000).await.unwrap();
        let steps: Vec<&str> = log
            .iter()
            .filter(|x| x.action.starts_with("complaint.") && x.decision != "deny")
            .map(|x| x.action.as_str())
            .collect();
        assert_eq!(
            steps,
            vec![
                "complaint.open",
                "complaint.ack",
                "complaint.note",
                "complaint.note",
                "complaint.close",
                "complaint.read",
                "complaint.notice",
                "complaint.notice"
            ]
        );
        let note = log.iter().find(|x| x.action == "complaint.note").unwrap();
        assert!(
            note.detail
                .contains("\"consulted\":[\"manager\",\"admin\"]"),
            "{}",
            note.detail
        );
        for x in &log {
            for secret in [
                "address was shown",
                "Seating list",
                "withdrawn on 25",
                "teachers reminded",
            ] {
                assert!(
                    !x.detail.contains(secret)
                        && !x.reason.clone().unwrap_or_default().contains(secret)
                );
            }
        }
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_overdue_list_counts_business_days_right_across_golden_week() {
    on_both("tokyo-one", |e| async move {
        let clerk = actor(&e, "clerk").await;
        // Friday 04-24 11:00: ten business days skip 04-29 and 05-04..05-06 → due 05-14.
        let late = open(&e, "2026-04-24T11:00:00+09:00").await;
        assert_eq!(late.answer_by, "2026-05-14");
        let done = open(&e, "2026-04-24T11:30:00+09:00").await;
        e.m.complaint_close(
            &clerk,
            &done.id,
            "answered by phone",
            Some(at("2026-05-01T12:00:00+09:00")),
        )
        .await
        .unwrap();

        // In Golden Week, and on the whole answer-by day, nothing is overdue.
        for now in [
            "2026-05-06T12:00:00+09:00",
            "2026-05-14T00:00:00+09:00",
            "2026-05-14T23:59:59+09:00",
        ] {
            let list =
                e.m.complaint_list(&clerk, true, Some(at(now)))
                    .await
                    .unwrap();
            assert!(list.is_empty(), "{now}: {list:?}");
        }
        // From midnight in Japan (15:00 UTC) the next day, it is.
        let list =
            e.m.complaint_list(&clerk, true, Some(at("2026-05-14T15:00:00Z")))
                .await
                .unwrap();
        assert_eq!(list.len(), 1, "{}", e.backend);
        assert_eq!(list[0].id, late.id);
        assert!(list[0].overdue);
        assert_eq!(list[0].status, "open");

        // The full list shows both; the closed one is never overdue, even years later.
        let all =
            e.m.complaint_list(&clerk, false, Some(at("2030-01-01T00:00:00+09:00")))
                .await
                .unwrap();
        assert_eq!(all.len(), 2);
        let closed = all.iter().find(|c| c.id == done.id).unwrap();
        assert_eq!(closed.status, "closed");
        assert!(!closed.overdue);
        assert!(all.iter().find(|c| c.id == late.id).unwrap().overdue);
    })
    .await;
}

#[tokio::test]
async fn a_role_without_the_complaints_action_is_denied_with_the_rule() {
    on_both("tokyo-one", |e| async move {
        let auditor = actor(&e, "auditor").await;
        let reason = denied(
            e.m.complaint_open(&auditor, complaint("2026-04-01T11:00:00", "x"), Some(at("2026-04-01T12:00:00")))
                .await,
        );
        assert_eq!(
            reason,
            "role auditor may not handle complaints (seed 000 Art. 8-1: only the staff who need it may handle personal data)"
        );
        let o = open(&e, "2026-04-01T11:00:00+09:00").await;
        denied(e.m.complaint_list(&auditor, false, None).await);
        denied(e.m.complaint_show(&auditor, &o.id, None).await);
        denied(e.m.complaint_notice(&auditor, &o.id, Lang::En, None).await);
        let admin = actor(&e, "admin").await;
        denied(e.m.complaint_close(&admin, &o.id, "done", None).await);

        let manager = actor(&e, "manager").await;
        let log = e.m.audit_log(&manager, None, 1000).await.unwrap();
        let denials: Vec<_> = log.iter().filter(|x| x.action.starts_with("complaint.") && x.decision == "deny").collect();
        assert_eq!(denials.len(), 5);
        assert_eq!(denials[0].action, "complaint.open");
        assert_eq!(denials[0].reason.as_deref(), Some(reason.as_str()));
        assert_eq!(denials[4].actor, "admin");
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_stored() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let now = Some(at("2026-04-01T12:00:00+09:00"));
        let keys_before = data_keys(&e).await;
        let cases: Vec<(NewComplaint, &str)> = vec![
            (complaint("next tuesday", "Tanaka Ichiro phoned"), "--received-at: not an RFC 3339 time"),
            (complaint("2026-02-30T10:00:00", "Tanaka Ichiro phoned"), "--received-at:"),
            (complaint("2026-04-02T10:00:00", "Tanaka Ichiro phoned"), "--received-at: is in the future"),
            (complaint("2026-04-01T10:00:00", "   "), "--summary: is empty"),
            (complaint("2026-04-01T10:00:00", "paid with 4242 4242 4242 4242"), "--summary: looks like it holds a payment card number"),
            (
                NewComplaint { principal: Some("p_0000000000000000".into()), ..complaint("2026-04-01T10:00:00", "Tanaka Ichiro phoned") },
                "--principal: there is no principal p_0000000000000000",
            ),
            (
                NewComplaint { channel: Some("fax".into()), ..complaint("2026-04-01T10:00:00", "Tanaka Ichiro phoned") },
                "--channel: not a way a complaint arrives: use one of phone, letter, email, visit, portal",
            ),
        ];
        for (input, expected) in cases {
            let m = bad_input(e.m.complaint_open(&clerk, input, now).await);
            assert!(m.starts_with(expected), "{m} / {expected}");
            assert!(!m.contains("Tanaka") && !m.contains("4242") && !m.contains("next tuesday"), "{m}");
            assert_eq!(m.lines().count(), 1);
        }
        assert!(e.m.complaint_list(&clerk, false, now).await.unwrap().is_empty(), "{}", e.backend);
        assert_eq!(data_keys(&e).await, keys_before, "no data key was created");

        // Unknown complaint ids are named.
        match e.m.complaint_ack(&clerk, "c_0000000000000000", now).await {
            Err(ServiceError::NotFound(m)) => assert!(m.starts_with("ID: there is no complaint c_0000000000000000"), "{m}"),
            other => panic!("expected not found, got {other:?}"),
        }

        // A complaint about a registered principal is on that principal's audit trail.
        let p = add_volunteer(&e).await;
        let o = e
            .m
            .complaint_open(
                &clerk,
                NewComplaint { principal: Some(p.clone()), channel: Some("phone".into()), ..complaint("2026-04-01T10:00:00", "about the newsletter") },
                now,
            )
            .await
            .unwrap();
        // chiba-ia's desk is open 09:00–17:00.
        assert!(o.window_open);
        let manager = actor(&e, "manager").await;
        let trail = e.m.audit_log(&manager, Some(&p), 100).await.unwrap();
        assert!(trail.iter().any(|x| x.action == "complaint.open" && x.detail.contains(&o.id)));
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
async fn no_complaint_text_is_in_the_data_folder_in_plaintext() {
    let e = setup("tokyo-one", None).await;
    let clerk = actor(&e, "clerk").await;
    let o =
        e.m.complaint_open(
            &clerk,
            complaint(
                "2026-04-01T10:30:00",
                "Nakamura Sakura says her passport copy was lost",
            ),
            Some(at("2026-04-01T11:00:00")),
        )
        .await
        .unwrap();
    e.m.complaint_note(
        &clerk,
        &o.id,
        "Searched cabinet 4 with Ito-sensei",
        &["manager".into()],
        None,
    )
    .await
    .unwrap();
    e.m.complaint_close(
        &clerk,
        &o.id,
        "Copy found in the admissions binder and shredded",
        None,
    )
    .await
    .unwrap();
    e.m.complaint_show(&clerk, &o.id, None).await.unwrap();
    e.m.complaint_notice(&clerk, &o.id, Lang::En, None)
        .await
        .unwrap();
    let found = scan(
        &e.dir,
        &[
            "Nakamura",
            "passport copy",
            "cabinet 4",
            "Ito-sensei",
            "admissions binder",
            "shredded",
        ],
    );
    assert!(found.is_empty(), "{found:?}");
}
