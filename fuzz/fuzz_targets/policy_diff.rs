//! `policy diff` over two damaged versions of a preset (issue 14): the inputs are the tokyo-one
//! preset with bytes overwritten at fuzzer-chosen places; whenever both parse, classifying the
//! changes never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_policy::Policy;

fn damaged(base: &[u8], edits: &[u8]) -> String {
    let mut bytes = base.to_vec();
    for pair in edits.chunks_exact(3) {
        if let [hi, lo, b] = pair {
            let at = (usize::from(*hi) << 8 | usize::from(*lo)) % bytes.len().max(1);
            if let Some(slot) = bytes.get_mut(at) {
                *slot = *b;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fuzz_target!(|data: &[u8]| {
    let Some(base) = mamori_policy::preset("tokyo-one") else {
        return;
    };
    let half = data.len() / 2;
    let (a, b) = data.split_at(half - half % 3);
    let (Ok(old), Ok(new)) = (
        Policy::parse(&damaged(base.as_bytes(), a), "old.toml"),
        Policy::parse(&damaged(base.as_bytes(), b), "new.toml"),
    ) else {
        return;
    };
    let _ = mamori_policy::diff::diff(&old, &new);
});
