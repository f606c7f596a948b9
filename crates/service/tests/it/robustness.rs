//! Malformed input never panics (issue 14): property tests over the policy parser, every value
//! validator, CSV decoding and import, incident facts, and audit verification over corrupted
//! entries. Each case must end in a value or a one-line error — never a panic.

use mamori_policy::{Policy, Validation};
use mamori_store::audit::{AuditDraft, AuditEntry, ChainVerifier, GENESIS, HeadState};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_policy_parser_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = Policy::parse(&text, "fuzz.toml");
    }

    #[test]
    fn the_policy_parser_never_panics_on_a_damaged_preset(cut in 0usize..20_000, flip in 0usize..20_000, byte in any::<u8>()) {
        let mut bytes = mamori_policy::preset("tokyo-one").unwrap().as_bytes().to_vec();
        let n = bytes.len();
        bytes.truncate(n - cut.min(n));
        if !bytes.is_empty() {
            let i = flip % bytes.len();
            bytes[i] = byte;
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = Policy::parse(&text, "damaged.toml") {
            prop_assert!(e.to_string().starts_with("damaged.toml: "));
        }
    }

    /// No refusal repeats the value (it may be personal data): the value is also tried wrapped in
    /// a private-use mark that no message of the validators contains, so a message holding one
    /// repeats what it was given (the fuzz target `value_check` does the same).
    #[test]
    fn every_validator_answers_any_string_without_echoing_it(raw in "\\PC{0,80}", which in 0usize..Validation::ALL.len()) {
        let v = Validation::ALL[which];
        let marked = format!("\u{E000}{raw}\u{E000}");
        for value in [raw.as_str(), marked.as_str()] {
            if let Err(e) = mamori_domain::values::check("field", v, value) {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("field: "));
                prop_assert!(!msg.contains('\n'));
                prop_assert!(
                    !msg.chars().any(|c| ('\u{E000}'..='\u{F8FF}').contains(&c)),
                    "the error repeats the value: {msg}"
                );
            }
        }
    }

    #[test]
    fn csv_decoding_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = mamori_service::import::decode(&bytes);
    }

    #[test]
    fn incident_facts_never_panic_on_arbitrary_json(text in "\\PC{0,200}") {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let _ = mamori_domain::incident::Facts::from_json(&v, &[]);
        }
    }

    #[test]
    fn incident_facts_with_wrong_types_name_the_field(key in 0usize..6, value in prop_oneof![Just(serde_json::json!(-1)), Just(serde_json::json!("x")), Just(serde_json::json!(null)), Just(serde_json::json!([1])), Just(serde_json::json!(1.5))]) {
        let keys = ["discovered_on", "principals_affected", "special_care_data", "financial_damage_risk", "wrongful_purpose", "high_level_encryption"];
        let mut v = serde_json::json!({"discovered_on": "2026-11-20", "principals_affected": 3, "special_care_data": false, "financial_damage_risk": false, "wrongful_purpose": false, "high_level_encryption": false});
        v[keys[key]] = value;
        match mamori_domain::incident::Facts::from_json(&v, &[]) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.to_string().contains(keys[key]), "{e}"),
        }
    }

    #[test]
    fn audit_verification_never_panics_on_corrupted_entries(which in 0usize..5, field in 0usize..6, junk in "\\PC{0,20}", seq in any::<i64>()) {
        let key = mamori_store::crypto::AuditSigner::from_hex(&"1f".repeat(32)).unwrap().entry_key();
        let mut prev = GENESIS.to_string();
        let mut chain: Vec<AuditEntry> = (1..=5)
            .map(|s| {
                let d = AuditDraft { actor: "clerk".into(), action: "principal.read".into(), decision: "allow".into(), ..Default::default() };
                let e = AuditEntry::from_draft(&d, s, "2026-11-22T00:00:00Z", &prev, &key);
                prev.clone_from(&e.hash);
                e
            })
            .collect();
        let original = chain.clone();
        let e = &mut chain[which];
        match field {
            0 => e.hash = junk.clone(),
            1 => e.prev_hash = junk.clone(),
            2 => e.seq = seq,
            3 => e.actor = junk.clone(),
            4 => e.detail = junk.clone(),
            _ => e.at = junk.clone(),
        }
        let mut v = ChainVerifier::new(key.clone(), []);
        let mut failed = false;
        for e in &chain {
            if v.push(e).is_err() {
                failed = true;
                break;
            }
        }
        let unchanged = match field {
            0 => junk == chain[which].compute_hash(&key),
            2 => seq == which as i64 + 1,
            _ => false,
        };
        // Any change to an entry is caught while the chain is read (the MAC covers every field).
        prop_assert!(failed || unchanged || chain == original, "a changed entry verified");
        if !failed {
            prop_assert!(v.finish(&[], "", &HeadState::Missing, None).is_err(), "no head file, yet it verified");
        }
    }
}
