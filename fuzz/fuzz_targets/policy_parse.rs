//! The policy parser over arbitrary bytes (issue 14): every input ends in a policy or a list of
//! errors naming the file — never a panic. A policy that parses renders its notice in both
//! languages and survives a round trip through `to_toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_policy::Policy;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Policy::parse(&text, "fuzz.toml") {
        Ok(p) => {
            let again = Policy::parse(&p.to_toml(), "again.toml");
            assert!(
                again.is_ok(),
                "a parsed policy did not parse again: {again:?}"
            );
            assert!(
                mamori_policy::diff::diff(&p, &p).is_empty(),
                "a policy differs from itself"
            );
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("fuzz.toml"),
                "error does not name the file: {msg}"
            );
        }
    }
});
