//! Audit verification over corrupted entries (issue 14, DESIGN.md "Audit log"): a valid chain of
//! up to eight entries has one field of one entry replaced by fuzzer bytes. Verification never
//! panics, and any change to an entry is detected at that entry or the next.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_store::audit::{AuditDraft, AuditEntry, ChainVerifier, GENESIS};

fuzz_target!(|data: &[u8]| {
    let [n, which, field, rest @ ..] = data else {
        return;
    };
    let n = i64::from(n % 8) + 1;
    let key = mamori_store::crypto::AuditSigner::from_hex(&"1f".repeat(32))
        .map(|s| s.entry_key())
        .ok();
    let Some(key) = key else {
        return;
    };
    let mut prev = GENESIS.to_string();
    let original: Vec<AuditEntry> = (1..=n)
        .map(|seq| {
            let d = AuditDraft {
                actor: "sato".into(),
                action: "principal.read".into(),
                principal_id: Some(format!("p_{seq:016x}")),
                purpose: Some("registration_contact".into()),
                decision: "allow".into(),
                ..Default::default()
            };
            let e = AuditEntry::from_draft(&d, seq, "2026-12-02T10:00:00+09:00", &prev, &key);
            prev.clone_from(&e.hash);
            e
        })
        .collect();
    let mut chain = original.clone();
    let at = usize::from(*which) % chain.len();
    let junk = String::from_utf8_lossy(rest).into_owned();
    let Some(e) = chain.get_mut(at) else {
        return;
    };
    match field % 9 {
        0 => e.hash = junk,
        1 => e.prev_hash = junk,
        2 => {
            e.seq = i64::from_le_bytes(
                rest.get(..8)
                    .and_then(|b| b.try_into().ok())
                    .unwrap_or([0; 8]),
            )
        }
        3 => e.actor = junk,
        4 => e.action = junk,
        5 => e.principal_id = Some(junk),
        6 => e.decision = junk,
        7 => e.detail = junk,
        _ => e.at = junk,
    }
    let mut v = ChainVerifier::new(key.clone(), []);
    let mut failed_at = None;
    for (i, e) in chain.iter().enumerate() {
        if v.push(e).is_err() {
            failed_at = Some(i);
            break;
        }
    }
    if chain != original {
        assert!(
            failed_at.is_some_and(|i| i == at),
            "a changed entry {at} was not detected there (failed at {failed_at:?})"
        );
    } else {
        assert!(
            failed_at.is_none(),
            "an untouched chain failed at {failed_at:?}"
        );
    }
});
