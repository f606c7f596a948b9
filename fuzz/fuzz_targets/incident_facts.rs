//! The JSON body of `incident assess|open` and `POST /api/v1/incidents/assess` (issue 14):
//! arbitrary bytes are either refused with an error naming the key, or assessed under APPI 26
//! and rules 7-8 with dates the calendar can give.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_domain::incident::{Facts, assess};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match Facts::from_json(&v, &[]) {
        Ok(f) => {
            let a = assess(&f, 3);
            let _ = a.reasons();
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
