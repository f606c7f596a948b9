//! CSV decoding for `mamori import` (issue 14): arbitrary bytes, as an Excel export in UTF-8 or
//! Shift_JIS might arrive damaged, decode to text or to a one-line error — never a panic — and
//! the error never repeats the file's contents.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match mamori_service::import::decode(data) {
        Ok((text, encoding)) => assert!(
            encoding == "utf-8" || encoding == "shift_jis",
            "{encoding} for {} chars",
            text.len()
        ),
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
