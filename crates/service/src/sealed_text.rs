//! Free texts that may hold personal information (a complaint's summary, an incident's
//! description, notes, minutes): checked at the edge and kept sealed under their record's own
//! data key. One place for what complaints, incidents and the like share.

use mamori_store::Key32;
use mamori_store::crypto::{field_aad, open_with};

use crate::{Result, ServiceError};

/// Present, not longer than `max` characters, no card number (seed 000 Art. 7-1). The message
/// names the field, says what to do (`empty_hint` when it is empty) and never echoes the text.
pub(crate) fn check(text: &str, field: &str, max: usize, empty_hint: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ServiceError::BadInput(format!(
            "{field}: is empty: {empty_hint}"
        )));
    }
    if t.chars().count() > max {
        return Err(ServiceError::BadInput(format!(
            "{field}: longer than {max} characters: shorten it and keep the rest on paper"
        )));
    }
    if mamori_domain::values::contains_card_number(t) {
        return Err(ServiceError::BadInput(format!(
            "{field}: looks like it holds a payment card number: card numbers are never stored (seed 000 Art. 7-1); leave the number out"
        )));
    }
    Ok(t.to_string())
}

/// Open a sealed text of record `id` (`kind` names the record in messages: complaint, incident).
pub(crate) fn open(
    kind: &str,
    dk: &Key32,
    ct: &[u8],
    id: &str,
    record: &str,
    what: &str,
) -> Result<String> {
    let plain = open_with(dk, ct, &field_aad(id, record, what)).map_err(|_| {
        ServiceError::Failed(format!(
            "{kind} {id}: the sealed {what} does not open with its data key"
        ))
    })?;
    String::from_utf8(plain)
        .map_err(|_| ServiceError::Failed(format!("{kind} {id}: the {what} is not UTF-8")))
}
