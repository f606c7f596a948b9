//! Every value validator over arbitrary text (issue 14): a value is accepted or refused with one
//! line naming the field — and the refusal never repeats the value (it may be personal data):
//! each value is also tried wrapped in a private-use mark that no message contains.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_policy::Validation;

const VALIDATIONS: [Validation; 13] = [
    Validation::Text,
    Validation::Name,
    Validation::Kana,
    Validation::Email,
    Validation::Phone,
    Validation::PostalCode,
    Validation::Date,
    Validation::Gender,
    Validation::Country,
    Validation::PassportNumber,
    Validation::ResidenceCardNumber,
    Validation::Token,
    Validation::Identifier,
];

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
    let v = VALIDATIONS[usize::from(*which) % VALIDATIONS.len()];
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
