//! The JSON body of `refund compute` and its API twin (issue 14): arbitrary bytes are refused
//! with one line, or computed under tokyo-one's 学費返還規定 — and a computed refund never
//! exceeds what was paid nor goes below zero.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Some(refunds) = mamori_policy::preset("tokyo-one")
        .and_then(|t| Policy::parse(t, "tokyo-one.toml").ok())
        .and_then(|p| p.refunds)
    else {
        return;
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match mamori_domain::refund::compute_json(&v, &refunds) {
        Ok(r) => {
            assert!(r.refund >= 0 && r.retained >= 0, "{r:?}");
            for l in &r.lines {
                assert!(
                    0 <= l.refund && l.refund <= l.paid,
                    "refunds more than was paid: {l:?}"
                );
            }
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
