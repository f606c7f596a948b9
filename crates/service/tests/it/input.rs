//! Input (issue 20) on SQLite and PostgreSQL: a card number in disguise — dots, slashes, commas,
//! tabs or line breaks between its groups, invisible characters between its digits, or digits of
//! another script — is refused in a registered value and in every free text that is sealed
//! (complaints, violation reports), in one line that does not repeat it, and nothing is stored.

use mamori_service::complaint::NewComplaint;
use mamori_service::principal::NewPrincipal;

use crate::common::*;

const DISGUISED: [&str; 7] = [
    "4242.4242.4242.4242",
    "4242/4242/4242/4242",
    "4242,4242,4242,4242",
    "4242\n4242\n4242\n4242",
    "4242\u{200B}4242\u{00AD}4242\u{2060}4242",
    "٤٢٤٢ ٤٢٤٢ ٤٢٤٢ ٤٢٤٢",
    "४२४२-४२४२-४२४२-४२४२",
];

fn no_echo(m: &str) {
    assert!(
        !m.contains('\n') && !m.contains("4242") && !m.contains("٤٢") && !m.contains("४२"),
        "{m}"
    );
}

#[tokio::test]
async fn a_disguised_card_number_is_refused_in_values_and_sealed_texts_and_nothing_is_stored() {
    on_both("chiba-ia", |e| async move {
        let clerk = actor(&e, "clerk").await;
        let before = e.m.status().await.unwrap();
        for card in DISGUISED {
            let m = bad_input(
                e.m.principal_add(
                    &clerk,
                    NewPrincipal {
                        channel: "volunteer".into(),
                        fields: fields(&[
                            ("name", "Le Thi Hoa"),
                            ("form_text", &format!("支払い {card}")),
                        ]),
                        ..Default::default()
                    },
                )
                .await,
            );
            assert!(
                m.starts_with("form_text: looks like a payment card number"),
                "{m}"
            );
            no_echo(&m);
            let m = bad_input(
                e.m.complaint_open(
                    &clerk,
                    NewComplaint {
                        received_at: "2026-11-20T10:30:00+09:00".into(),
                        summary: format!("カード番号 {card} を言ってしまった"),
                        ..Default::default()
                    },
                    None,
                )
                .await,
            );
            assert!(m.contains("payment card number"), "{m}");
            no_echo(&m);
            let m = bad_input(
                e.m.violation_report(&clerk, &format!("番号 {card} が書かれた紙"))
                    .await,
            );
            assert!(m.contains("card number"), "{m}");
            no_echo(&m);
        }
        assert_eq!(
            e.m.status().await.unwrap(),
            before,
            "nothing stored, nothing logged"
        );
    })
    .await;
}
