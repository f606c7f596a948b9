//! Every value validator over arbitrary text (issue 14): a value is accepted or refused with one
//! line naming the field — and the refusal never repeats the value (it may be personal data):
//! each value is also tried wrapped in a private-use mark that no message contains.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_policy::Validation;

/// A private-use character: no message of the validators contains one, so a message that does
/// repeats the value it was given.
const MARK: char = '\u{E000}';

fn private_use(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c)
}

fuzz_target!(|data: &[u8]| {
    let Some((which, rest)) = data.split_first() else {
        return;
    };
    let v = Validation::ALL[usize::from(*which) % Validation::ALL.len()];
    let raw = String::from_utf8_lossy(rest);
    let marked = format!("{MARK}{raw}{MARK}");
    for value in [raw.as_ref(), marked.as_str()] {
        if let Err(e) = mamori_domain::values::check("field", v, value) {
            let msg = e.to_string();
            assert!(msg.starts_with("field: "), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
            assert!(
                !msg.chars().any(private_use),
                "the error repeats the value: {msg}"
            );
        }
    }
});
