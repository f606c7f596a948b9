//! Validated value types: parse, don't validate (DESIGN.md "Validated value types", the
//! `validation` of each category in the policy, and "Protecting the data").
//!
//! Every personal value entering Mamori passes [`check`] with the [`Validation`] its category
//! declares. What comes out is a [`Checked`]: the value that is sealed and shown, and the
//! normalized form a keyed blind index is computed over, so the core never re-checks.
//!
//! Rules that hold for every kind of field:
//! - Surrounding whitespace (and a byte-order mark or zero-width space left by a CSV export) is
//!   trimmed; an empty value is refused: the field is left out instead.
//! - Control characters are refused (free text keeps line breaks and tabs), and so are the
//!   bidirectional override characters that make text display differently from what it holds.
//! - Seed 000 Art. 7-1: card numbers are never stored; payment goes through the payment
//!   processor and only its token is kept. A Luhn-valid run of 13–19 digits (spaces and hyphens
//!   between digits ignored; dots, slashes, commas, tabs and line breaks between card-shaped
//!   groups too; characters that show nothing skipped; digits of every script) is refused in any
//!   field, whatever its kind ([`contains_card_number`]).
//! - Error messages say what is wrong and what to do, with a made-up example. They never repeat
//!   the value: personal values never appear in error messages or logs.

use mamori_policy::Validation;
use unicode_normalization::UnicodeNormalization;

/// A checked value: what is sealed and shown, and the normalized form a blind index is computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub value: String,
    pub index_form: String,
}

/// Why a value was refused: the category's id and what to do. Never the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{category}: {problem}")]
pub struct ValueError {
    pub category: String,
    pub problem: String,
}

const EMPTY: &str = "is empty: leave the field out instead";
const CARD: &str = "looks like a payment card number: card numbers are never stored; \
                    record the payment processor's token instead (seed 000 Art. 7-1)";
const CONTROL_TEXT: &str =
    "contains a control character: remove it (line breaks and tabs are allowed)";
const CONTROL: &str = "contains a control character or line break: enter the value on one line";
const NOT_EMAIL: &str = "not an email address: use the form name@example.jp";
const NOT_PHONE: &str = "not a Japanese phone number: use the form 090-1234-5678, 03-1234-5678, \
                         0120-123-456 or +81 90-1234-5678";
const NOT_POSTAL_CODE: &str = "not a Japanese postal code: use the form 123-4567";
const NOT_DATE: &str = "not a date: use the form 1990-04-01 (year-month-day)";
const NOT_REAL_DATE: &str =
    "not a real calendar date: check the month and the day, e.g. 1990-04-01";
const DATE_OUT_OF_RANGE: &str =
    "is outside 1900-01-01 to 2100-12-31: check the year, e.g. 1990-04-01";
const NOT_NAME: &str = "not a name: use letters, kana or kanji, spaces, ・, hyphens, apostrophes \
                        and periods, without digits or symbols, e.g. 山田 太郎 or Nguyen Van An";
const NOT_KANA: &str =
    "not written in kana: use katakana or hiragana, e.g. ヤマダ タロウ or やまだ たろう";
const NOT_COUNTRY: &str = "not a country: use an ISO 3166-1 code such as VN or a country name \
                           such as Viet Nam or ベトナム";
const NOT_PASSPORT: &str =
    "not a passport number: use the 6 to 12 letters and digits printed on it, e.g. TK1234567";
const NOT_RESIDENCE_CARD: &str = "not a residence card number: use 2 letters, 8 digits and \
                                  2 letters, e.g. AB12345678CD";
const NOT_TOKEN: &str = "not a payment processor token: use 8 to 200 letters, digits, '_', '-' \
                         or '.', e.g. pm_1Nx2Ab3Cd4Ef5Gh";
const NOT_IDENTIFIER: &str =
    "not an identifier: use printable ASCII characters without spaces, e.g. 203.0.113.7";

/// ISO 3166-1 alpha-2 codes (the 249 assigned codes), plus XK (Kosovo, user-assigned but used
/// by the issuers of travel documents).
const ISO_3166_ALPHA_2: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE \
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM \
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC \
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA \
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO \
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK";

/// Checks `raw` by the validation its category declares and returns its stored and index forms.
///
/// `category` is the category's id; it is only used to name the field in the error.
pub fn check(category: &str, validation: Validation, raw: &str) -> Result<Checked, ValueError> {
    let fail = |problem: &str| ValueError {
        category: category.to_owned(),
        problem: problem.to_owned(),
    };
    let trimmed = trim(raw);
    if trimmed.is_empty() {
        return Err(fail(EMPTY));
    }
    let max = max_chars(validation);
    if trimmed.chars().count() > max {
        return Err(fail(&too_long(validation, max)));
    }
    let text = validation == Validation::Text;
    if trimmed.chars().any(|c| is_refused_control(c, text)) {
        return Err(fail(if text { CONTROL_TEXT } else { CONTROL }));
    }
    if contains_card_number(trimmed) {
        return Err(fail(CARD));
    }
    let checked = match validation {
        Validation::Text => Ok(check_text(trimmed)),
        Validation::Name => check_name(trimmed),
        Validation::Kana => check_kana(trimmed),
        Validation::Email => check_email(trimmed),
        Validation::Phone => check_phone(trimmed),
        Validation::PostalCode => check_postal_code(trimmed),
        Validation::Date => check_date(trimmed),
        Validation::Gender => Ok(check_gender(trimmed)),
        Validation::Country => check_country(trimmed),
        Validation::PassportNumber => check_passport_number(trimmed),
        Validation::ResidenceCardNumber => check_residence_card_number(trimmed),
        Validation::Token => check_token(trimmed),
        Validation::Identifier => check_identifier(trimmed),
    }
    .map_err(fail)?;
    // Normalization can lengthen a value (㍿ becomes 株式会社): the limit holds for what is stored.
    if checked.value.chars().count() > max {
        return Err(fail(&too_long(validation, max)));
    }
    Ok(checked)
}

/// DESIGN.md: any Luhn-valid run of 13–19 digits (spaces and hyphens between digits ignored) is a card number (seed 000 Art. 7-1: card numbers are never stored).
///
/// Digits are those of every script (full-width ０-９, Arabic-Indic ٠-٩, Devanagari ०-९, …:
/// [`DIGIT_ZEROS`]). Characters that show nothing (zero-width spaces and joiners, the soft
/// hyphen, variation selectors) are skipped as if absent, so they cannot hide a number. A run is
/// the digits between anything that is not a digit or a separator; it is a card number when the
/// whole run has 13–19 digits and passes Luhn, or when a card-shaped part of it does: whole
/// groups of at least 4 digits (the last may be shorter), 13–19 digits in all, so that
/// `4242 4242 4242 4242 123` (a card number followed by its security code) is caught while two
/// phone numbers side by side (`090-1234-5678 03-1234-5678`) are not mistaken for one.
///
/// Spaces and the hyphens a Japanese keyboard produces (－, ー, ‐, −) join a whole run. Dots,
/// slashes, commas, tabs and line breaks (and their full-width and Arabic forms) also join
/// digits, but a run that holds one counts only card-shaped (or digit by digit,
/// `4.2.4.2…`), so that dates (`1990/04/01`), amounts (`1,234,567`) and lists of short numbers
/// are not mistaken for a card.
///
/// Text that is not ASCII is checked as written and in NFKC form too, so that digits written
/// as compatibility characters (①, ¹, 𝟒) count, whichever use case calls this.
pub fn contains_card_number(s: &str) -> bool {
    contains_card_number_as_written(s)
        || (!s.is_ascii() && contains_card_number_as_written(&nfkc(s)))
}

fn contains_card_number_as_written(s: &str) -> bool {
    let mut run = Run::default();
    let mut group: Vec<u8> = Vec::new();
    let mut after: Option<Separator> = None;
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        if let Some(d) = card_digit(c) {
            if let Some(sep) = after.take() {
                run.groups.push(std::mem::take(&mut group));
                run.weak |= sep == Separator::Weak;
            }
            group.push(d);
        } else if let Some(sep) = card_separator(c).filter(|_| !group.is_empty()) {
            // Two separators in a row (", ") join as the weaker of the two.
            after = Some(match after {
                Some(Separator::Weak) => Separator::Weak,
                _ => sep,
            });
        } else {
            if !group.is_empty() {
                run.groups.push(std::mem::take(&mut group));
            }
            if run.has_card_number() {
                return true;
            }
            run = Run::default();
            after = None;
        }
    }
    if !group.is_empty() {
        run.groups.push(group);
    }
    run.has_card_number()
}

/// Digit groups read as one number, and whether a weak separator (a dot, slash, comma, tab or
/// line break) joined any two of them.
#[derive(Default)]
struct Run {
    groups: Vec<Vec<u8>>,
    weak: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// Spaces and hyphens: what people type between the groups of a card number.
    Strong,
    /// Dots, slashes, commas, tabs, line breaks: also between the groups of dates and amounts.
    Weak,
}

impl Run {
    fn has_card_number(&self) -> bool {
        let card_length = 13..=19;
        let run = &self.groups;
        let total: usize = run.iter().map(Vec::len).sum();
        let whole = !self.weak || run.iter().all(|g| g.len() == 1);
        if whole && card_length.contains(&total) && luhn_valid(run.iter().flatten().copied()) {
            return true;
        }
        for start in 0..run.len() {
            let mut digits: Vec<u8> = Vec::new();
            for group in run.iter().skip(start) {
                digits.extend_from_slice(group);
                if digits.len() > 19 {
                    break;
                }
                if card_length.contains(&digits.len()) && luhn_valid(digits.iter().copied()) {
                    return true;
                }
                if group.len() < 4 {
                    // Only the last group of a card number may be shorter than four digits.
                    break;
                }
            }
        }
        false
    }
}

fn luhn_valid(digits: impl DoubleEndedIterator<Item = u8>) -> bool {
    let sum: u32 = digits
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The zero of every run of decimal digits in Unicode (general category Nd, Unicode 15): each
/// is followed by the nine other digits, in order. ASCII, Arabic-Indic (U+0660), Extended
/// Arabic-Indic (U+06F0), Devanagari (U+0966), Bengali, …, full-width (U+FF10), mathematical.
const DIGIT_ZEROS: [u32; 68] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

/// The value of a decimal digit of any script.
fn card_digit(c: char) -> Option<u8> {
    let cp = u32::from(c);
    let at = DIGIT_ZEROS.partition_point(|zero| *zero <= cp);
    let zero = DIGIT_ZEROS.get(at.checked_sub(1)?)?;
    u8::try_from(cp - zero).ok().filter(|d| *d <= 9)
}

/// Characters that show nothing: zero-width space, non-joiner and joiner, the direction marks,
/// word joiner and invisible operators, the soft hyphen, the combining grapheme joiner, the
/// Mongolian vowel separator, variation selectors and the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
    )
}

/// What may stand between the digit groups of a card number.
fn card_separator(c: char) -> Option<Separator> {
    if matches!(
        c,
        '\t' | '\n' | '\r' | '\u{000B}' | '\u{000C}' | '\u{0085}' | '\u{2028}' | '\u{2029}'
    ) {
        Some(Separator::Weak)
    } else if is_digit_separator(c) || c.is_whitespace() {
        Some(Separator::Strong)
    } else if matches!(
        c,
        '.' | '/' | ',' | '\u{00B7}' // middle dot
            | '\u{060C}' | '\u{066B}' | '\u{066C}' // Arabic comma, decimal and thousands separators
            | '\u{2024}' | '\u{2027}' | '\u{2044}' | '\u{2215}' // one dot leader, hyphenation point, fraction and division slashes
            | '\u{3001}' | '\u{3002}' | '\u{30FB}' // 、。・
            | '\u{FF0C}' | '\u{FF0E}' | '\u{FF0F}' | '\u{FF61}' | '\u{FF64}' | '\u{FF65}' // full-width and half-width forms
    ) {
        Some(Separator::Weak)
    } else {
        None
    }
}

/// Spaces and the hyphens people type between digit groups (ASCII, full-width, Unicode dashes,
/// the minus sign and the katakana prolonged sound mark a Japanese IME often produces).
fn is_digit_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{00A0}' | '\u{3000}' | '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}' | '\u{30FC}' | '\u{FF70}'
    )
}

fn trim(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{FEFF}' | '\u{200B}'))
}

/// NFKC; ASCII is its own NFKC form, so most values (emails, phone numbers, romanized names)
/// skip the decomposition tables.
fn nfkc(s: &str) -> String {
    if s.is_ascii() {
        s.to_owned()
    } else {
        s.nfkc().collect()
    }
}

fn max_chars(validation: Validation) -> usize {
    match validation {
        Validation::Text => 4000,
        Validation::Gender => 40,
        Validation::Country => 60,
        Validation::Email => 254,
        _ => 200,
    }
}

fn too_long(validation: Validation, max: usize) -> String {
    match validation {
        Validation::Gender => {
            format!(
                "is longer than {max} characters: use a short word such as 女性, male or non-binary"
            )
        }
        Validation::Country => format!(
            "is longer than {max} characters: use an ISO 3166-1 code such as VN or a short country name"
        ),
        _ => format!("is longer than {max} characters: shorten it"),
    }
}

/// Control characters (Unicode Cc) and the bidirectional embedding, override and isolate
/// characters. Free text may hold line breaks and tabs (and CR, which becomes a line break).
fn is_refused_control(c: char, text: bool) -> bool {
    if text && matches!(c, '\n' | '\t' | '\r') {
        return false;
    }
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The index form of kinds without a special rule: NFKC, trimmed, lower-cased.
fn default_index_form(value: &str) -> String {
    nfkc(value).trim().to_lowercase()
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_text(trimmed: &str) -> Checked {
    let value = trimmed.replace("\r\n", "\n").replace('\r', "\n");
    let index_form = default_index_form(&value);
    Checked { value, index_form }
}

/// CJK compatibility ideographs (神 U+FA19 beside 神 U+795E): a person's chosen variant of a
/// kanji in their name. NFKC would replace it, so the stored name keeps it and only the index
/// form folds it, so that both spellings find the person.
fn is_compatibility_ideograph(c: char) -> bool {
    matches!(c, '\u{F900}'..='\u{FAFF}' | '\u{2F800}'..='\u{2FA1F}')
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// The spacing voiced sound marks ゛ ゜ become their combining forms, so that カ゛ is ガ after
/// NFKC (NFKC alone turns ゛ into a space and a combining mark).
fn combine_sound_marks(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{309B}' => '\u{3099}',
            '\u{309C}' => '\u{309A}',
            _ => c,
        })
        .collect()
}

/// NFKC everywhere but on compatibility ideographs, which are kept as written.
fn nfkc_keeping_kanji_variants(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut segment = String::new();
    for c in s.chars() {
        if is_compatibility_ideograph(c) {
            out.extend(segment.nfkc());
            segment.clear();
            out.push(c);
        } else {
            segment.push(c);
        }
    }
    out.extend(segment.nfkc());
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{0483}'..='\u{0489}'
            | '\u{0591}'..='\u{05C7}'
            | '\u{0610}'..='\u{061A}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{3099}'..='\u{309A}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// Scripts of South and South-East Asia (Devanagari to Sinhala, Thai, Lao, Tibetan, Myanmar,
/// Khmer) whose vowel signs are marks rather than letters: any of their non-digit characters.
fn is_brahmic_non_digit(c: char) -> bool {
    matches!(
        c,
        '\u{0900}'..='\u{0DFF}'
            | '\u{0E00}'..='\u{0FFF}'
            | '\u{1000}'..='\u{109F}'
            | '\u{1780}'..='\u{17FF}'
    ) && !c.is_numeric()
}

fn is_name_letter(c: char) -> bool {
    (c.is_alphabetic() && !c.is_numeric()) || is_brahmic_non_digit(c)
}

fn is_name_char(c: char) -> bool {
    is_name_letter(c)
        || c == ' '
        || matches!(c, '・' | '-' | '\'' | '’' | '.')
        || is_combining_mark(c)
        || is_variation_selector(c)
}

fn check_name(trimmed: &str) -> Result<Checked, &'static str> {
    let marks = combine_sound_marks(trimmed);
    let value = collapse_whitespace(&nfkc_keeping_kanji_variants(&marks));
    if !value.chars().all(is_name_char) || !value.chars().any(is_name_letter) {
        return Err(NOT_NAME);
    }
    let index_form = nfkc(&value)
        .chars()
        .filter(|c| !c.is_whitespace() && !is_variation_selector(*c))
        .collect::<String>()
        .to_lowercase();
    Ok(Checked { value, index_form })
}

fn is_kana_letter(c: char) -> bool {
    matches!(
        c,
        '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309F}' | '\u{30A1}'..='\u{30FA}'
            | '\u{30FD}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}'
    )
}

fn is_kana_char(c: char) -> bool {
    is_kana_letter(c) || matches!(c, ' ' | 'ー' | '・' | '゠' | '\u{3099}' | '\u{309A}')
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' => {
            char::from_u32(u32::from(c) + 0x60).unwrap_or(c)
        }
        _ => c,
    }
}

fn check_kana(trimmed: &str) -> Result<Checked, &'static str> {
    let value = collapse_whitespace(&nfkc(&combine_sound_marks(trimmed)));
    if !value.chars().all(is_kana_char) || !value.chars().any(is_kana_letter) {
        return Err(NOT_KANA);
    }
    let index_form = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(hiragana_to_katakana)
        .collect();
    Ok(Checked { value, index_form })
}

fn check_email(trimmed: &str) -> Result<Checked, &'static str> {
    let normalized = nfkc(trimmed);
    let (local, domain) = normalized.split_once('@').ok_or(NOT_EMAIL)?;
    // Old carrier addresses (docomo, au) may hold `..` or end the local part with `.`: they are
    // real, so the local part is only kept free of spaces and the characters of a display form.
    let local_ok = !local.is_empty()
        && local.chars().count() <= 64
        && local.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(
                    c,
                    '@' | '<' | '>' | '(' | ')' | '[' | ']' | '\\' | ',' | ';' | ':' | '"'
                )
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    if !local_ok || !labels_ok || !tld_ok {
        return Err(NOT_EMAIL);
    }
    let value = format!("{local}@{}", domain.to_lowercase());
    let index_form = value.to_lowercase();
    Ok(Checked { value, index_form })
}

/// Separators allowed in a phone number: spaces, hyphens (any dash a keyboard produces) and
/// parentheses.
fn is_phone_separator(c: char) -> bool {
    is_digit_separator(c) || matches!(c, '(' | ')')
}

/// A Japanese number in domestic form, digits only: 10 digits for landlines, 0120 and 0570
/// (0X-XXXX-XXXX, 0120-XXX-XXX), 11 for mobiles (070, 080, 090), IP phones (050) and 0800.
fn is_japanese_number(digits: &str) -> bool {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match digits.len() {
        10 => {
            digits.starts_with('0')
                && !["00", "010", "020", "050", "060", "070", "080", "090"]
                    .iter()
                    .any(|prefix| digits.starts_with(prefix))
        }
        11 => ["050", "070", "080", "090", "0800"]
            .iter()
            .any(|prefix| digits.starts_with(prefix)),
        _ => false,
    }
}

fn check_phone(trimmed: &str) -> Result<Checked, &'static str> {
    let normalized = nfkc(trimmed);
    let (international, national) = match normalized.strip_prefix('+') {
        Some(rest) => {
            let rest = rest.trim_start_matches(is_phone_separator);
            (true, rest.strip_prefix("81").ok_or(NOT_PHONE)?)
        }
        None => (false, normalized.as_str()),
    };
    let mut groups: Vec<String> = Vec::new();
    let mut group = String::new();
    for c in national.chars() {
        if c.is_ascii_digit() {
            group.push(c);
        } else if is_phone_separator(c) {
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
        } else {
            return Err(NOT_PHONE);
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    if international {
        // +81 (0)90-1234-5678 and +81 090-1234-5678 are common ways of writing +81 90-1234-5678.
        if groups.first().is_some_and(|g| g == "0") {
            groups.remove(0);
        }
        match groups.first_mut() {
            Some(first) if !first.starts_with('0') => first.insert(0, '0'),
            Some(_) => {}
            None => return Err(NOT_PHONE),
        }
    }
    let index_form = groups.concat();
    if !is_japanese_number(&index_form) {
        return Err(NOT_PHONE);
    }
    let value = groups.join("-");
    Ok(Checked { value, index_form })
}

fn check_postal_code(trimmed: &str) -> Result<Checked, &'static str> {
    let normalized = nfkc(trimmed);
    let code = normalized.trim_start_matches('〒').trim();
    let digits: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
    let separators: Vec<(usize, char)> = code
        .char_indices()
        .filter(|(_, c)| !c.is_ascii_digit())
        .collect();
    let shape_ok = match separators.as_slice() {
        [] => true,
        [(at, c)] => *at == 3 && is_digit_separator(*c) && *c != ' ',
        _ => false,
    };
    if !shape_ok || digits.len() != 7 {
        return Err(NOT_POSTAL_CODE);
    }
    let (head, tail) = digits.split_at_checked(3).ok_or(NOT_POSTAL_CODE)?;
    let value = format!("{head}-{tail}");
    Ok(Checked {
        index_form: value.clone(),
        value,
    })
}

fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_date(trimmed: &str) -> Result<Checked, &'static str> {
    let normalized = nfkc(trimmed);
    let parts: Vec<&str> = if let Some(rest) = normalized.strip_suffix('日') {
        // 1990年4月1日
        rest.split(['年', '月']).collect()
    } else if let Some(separator) = ['-', '/', '.']
        .into_iter()
        .find(|s| normalized.contains(*s))
    {
        normalized.split(separator).collect()
    } else if normalized.len() == 8 && all_ascii_digits(&normalized) {
        // 19900401
        let (year, month_day) = normalized.split_at_checked(4).ok_or(NOT_DATE)?;
        let (month, day) = month_day.split_at_checked(2).ok_or(NOT_DATE)?;
        vec![year, month, day]
    } else {
        return Err(NOT_DATE);
    };
    let [year, month, day] = parts.as_slice() else {
        return Err(NOT_DATE);
    };
    let shape_ok = year.len() == 4
        && (1..=2).contains(&month.len())
        && (1..=2).contains(&day.len())
        && [year, month, day].iter().all(|part| all_ascii_digits(part));
    if !shape_ok {
        return Err(NOT_DATE);
    }
    let year: i16 = year.parse().map_err(|_| NOT_DATE)?;
    let month: i8 = month.parse().map_err(|_| NOT_DATE)?;
    let day: i8 = day.parse().map_err(|_| NOT_DATE)?;
    if !(1900..=2100).contains(&year) {
        return Err(DATE_OUT_OF_RANGE);
    }
    let date = jiff::civil::Date::new(year, month, day).map_err(|_| NOT_REAL_DATE)?;
    let value = format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day());
    Ok(Checked {
        index_form: value.clone(),
        value,
    })
}

fn check_gender(trimmed: &str) -> Checked {
    let value = collapse_whitespace(&nfkc(trimmed));
    let index_form = default_index_form(&value);
    Checked { value, index_form }
}

fn is_country_name_char(c: char) -> bool {
    is_name_letter(c)
        || is_combining_mark(c)
        || matches!(
            c,
            ' ' | '-' | '\'' | '’' | '.' | ',' | '(' | ')' | '&' | '・'
        )
}

fn check_country(trimmed: &str) -> Result<Checked, &'static str> {
    let normalized = collapse_whitespace(&nfkc(trimmed));
    let value = if normalized.len() == 2 && normalized.bytes().all(|b| b.is_ascii_alphabetic()) {
        let code = normalized.to_ascii_uppercase();
        if !ISO_3166_ALPHA_2.split(' ').any(|known| known == code) {
            return Err(NOT_COUNTRY);
        }
        code
    } else {
        let letters = normalized.chars().filter(|c| is_name_letter(*c)).count();
        if letters < 2 || !normalized.chars().all(is_country_name_char) {
            return Err(NOT_COUNTRY);
        }
        normalized
    };
    let index_form = default_index_form(&value);
    Ok(Checked { value, index_form })
}

/// NFKC, spaces removed, upper-cased: the form printed on a document.
fn document_number(trimmed: &str) -> String {
    nfkc(trimmed)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

fn check_passport_number(trimmed: &str) -> Result<Checked, &'static str> {
    // Japanese passports: 2 letters and 7 digits; other countries' vary, hence 6 to 12.
    let value = document_number(trimmed);
    if !(6..=12).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(NOT_PASSPORT);
    }
    Ok(Checked {
        index_form: value.clone(),
        value,
    })
}

fn check_residence_card_number(trimmed: &str) -> Result<Checked, &'static str> {
    let value = document_number(trimmed);
    let shape_ok = value.len() == 12
        && value.bytes().enumerate().all(|(i, b)| {
            if (2..10).contains(&i) {
                b.is_ascii_digit()
            } else {
                b.is_ascii_uppercase()
            }
        });
    if !shape_ok {
        return Err(NOT_RESIDENCE_CARD);
    }
    Ok(Checked {
        index_form: value.clone(),
        value,
    })
}

/// A payment processor's token (`pm_…`, `cus_…`): opaque and case-sensitive, so it is kept and
/// indexed exactly as given.
fn check_token(trimmed: &str) -> Result<Checked, &'static str> {
    let ok = (8..=200).contains(&trimmed.len())
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !ok {
        return Err(NOT_TOKEN);
    }
    Ok(Checked {
        value: trimmed.to_owned(),
        index_form: trimmed.to_owned(),
    })
}

/// A technical identifier (device id, cookie id, advertising id, IP address): opaque and
/// possibly case-sensitive, so it is kept and indexed exactly as given.
fn check_identifier(trimmed: &str) -> Result<Checked, &'static str> {
    if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(NOT_IDENTIFIER);
    }
    Ok(Checked {
        value: trimmed.to_owned(),
        index_form: trimmed.to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Published test numbers of the card brands (Stripe, Adyen, JCB test documentation).
    const TEST_CARDS: [&str; 10] = [
        "4242424242424242",    // Visa
        "4111111111111111",    // Visa
        "4222222222222",       // Visa, 13 digits
        "5555555555554444",    // Mastercard
        "378282246310005",     // American Express, 15 digits
        "6011111111111117",    // Discover
        "3530111333300000",    // JCB
        "36227206271667",      // Diners Club, 14 digits
        "6200000000000005",    // UnionPay
        "6205500000000000004", // UnionPay, 19 digits
    ];

    fn ok(validation: Validation, raw: &str) -> Checked {
        check("field", validation, raw).unwrap()
    }

    fn problem(validation: Validation, raw: &str) -> String {
        check("field", validation, raw).unwrap_err().problem
    }

    fn grouped(pan: &str, separator: &str) -> String {
        let digits: Vec<String> = pan.chars().map(String::from).collect();
        digits
            .chunks(4)
            .map(|chunk| chunk.concat())
            .collect::<Vec<_>>()
            .join(separator)
    }

    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '0'..='9' => {
                    char::from_u32(u32::from(c) - u32::from('0') + u32::from('０')).unwrap()
                }
                _ => c,
            })
            .collect()
    }

    // Rules for every kind.

    #[test]
    fn an_empty_or_blank_value_is_refused_in_every_kind_of_field() {
        for validation in Validation::ALL {
            for raw in ["", "   ", "\u{3000}\u{3000}", " \u{FEFF} "] {
                assert_eq!(problem(validation, raw), EMPTY, "{validation:?}");
            }
        }
    }

    #[test]
    fn the_error_names_the_category_and_the_remedy() {
        let err = check("email", Validation::Email, "taro.yamada.example.jp").unwrap_err();
        assert_eq!(
            err.to_string(),
            "email: not an email address: use the form name@example.jp"
        );
    }

    #[test]
    fn surrounding_whitespace_and_a_byte_order_mark_are_trimmed() {
        assert_eq!(
            ok(Validation::Email, "\u{FEFF} hanako@example.jp \n").value,
            "hanako@example.jp"
        );
        assert_eq!(ok(Validation::Text, "\u{3000}メモ\u{3000}").value, "メモ");
    }

    #[test]
    fn a_value_over_the_length_limit_of_its_kind_is_refused() {
        assert_eq!(
            ok(Validation::Text, &"あ".repeat(4000))
                .value
                .chars()
                .count(),
            4000
        );
        assert!(problem(Validation::Text, &"あ".repeat(4001)).contains("4000"));
        assert!(problem(Validation::Name, &"あ".repeat(201)).contains("200"));
        assert!(problem(Validation::Identifier, &"x".repeat(201)).contains("200"));
        assert!(problem(Validation::Gender, &"x".repeat(41)).contains("40"));
        assert!(problem(Validation::Country, &"x".repeat(61)).contains("60"));
    }

    #[test]
    fn a_value_that_normalization_lengthens_past_the_limit_is_refused() {
        // ㍿ is one character; NFKC makes it the four of 株式会社.
        assert!(problem(Validation::Gender, &"㍿".repeat(11)).contains("40"));
    }

    #[test]
    fn a_control_character_is_refused_but_free_text_keeps_line_breaks_and_tabs() {
        for validation in Validation::ALL {
            assert!(
                check("field", validation, "ab\u{0007}cdefgh").is_err(),
                "{validation:?}"
            );
            assert!(
                check("field", validation, "ab\u{0000}cdefgh").is_err(),
                "{validation:?}"
            );
        }
        assert_eq!(problem(Validation::Name, "山田\n太郎"), CONTROL);
        assert_eq!(problem(Validation::Text, "a\u{001B}[31m"), CONTROL_TEXT);
        assert_eq!(
            ok(Validation::Text, "一行目\n\t二行目").value,
            "一行目\n\t二行目"
        );
    }

    #[test]
    fn free_text_line_breaks_from_a_web_form_become_newlines() {
        assert_eq!(
            ok(Validation::Text, "一行目\r\n二行目\r三行目").value,
            "一行目\n二行目\n三行目"
        );
    }

    #[test]
    fn a_bidirectional_override_is_refused() {
        assert_eq!(
            problem(Validation::Text, "invoice\u{202E}fdp.exe"),
            CONTROL_TEXT
        );
        assert_eq!(problem(Validation::Name, "Taro\u{2066}Yamada"), CONTROL);
    }

    // Card numbers (seed 000 Art. 7-1).

    #[test]
    fn a_card_number_hidden_in_a_note_is_refused() {
        let err = check(
            "form_text",
            Validation::Text,
            "支払いはカード 4242 4242 4242 4242 でお願いします",
        )
        .unwrap_err();
        assert_eq!(err.problem, CARD);
        assert!(err.problem.contains("seed 000 Art. 7-1"));
    }

    #[test]
    fn a_card_number_is_refused_in_every_kind_of_field() {
        for validation in Validation::ALL {
            for raw in [
                "4242424242424242",
                "4242 4242 4242 4242",
                "tok_4242424242424242",
            ] {
                assert_eq!(problem(validation, raw), CARD, "{validation:?}");
            }
        }
    }

    #[test]
    fn a_payment_token_that_is_a_card_number_is_refused() {
        assert_eq!(problem(Validation::Token, "5555-5555-5555-4444"), CARD);
    }

    #[test]
    fn a_luhn_invalid_sixteen_digit_run_is_not_a_card_number() {
        assert!(!contains_card_number("4242 4242 4242 4241"));
        assert!(!contains_card_number("1234567812345678"));
        assert_eq!(
            ok(Validation::Text, "受付番号 1234567812345678").value,
            "受付番号 1234567812345678"
        );
    }

    #[test]
    fn known_test_card_numbers_are_detected_in_every_format() {
        for pan in TEST_CARDS {
            assert!(
                luhn_valid(pan.bytes().map(|b| b - b'0')),
                "{pan} is a test card"
            );
            let forms = [
                pan.to_owned(),
                grouped(pan, " "),
                grouped(pan, "-"),
                grouped(pan, " - "),
                grouped(pan, "\u{3000}"),
                grouped(pan, "－"),
                grouped(pan, "ー"),
                full_width(pan),
                full_width(&grouped(pan, "－")),
            ];
            for form in forms {
                for text in [
                    form.clone(),
                    format!("カード番号は{form}です"),
                    format!("card: {form}, exp 12/29"),
                    format!("{form}\n"),
                    format!("(番号:{form})"),
                ] {
                    assert!(contains_card_number(&text), "{text}");
                }
            }
        }
        assert!(
            contains_card_number("3782 822463 10005"),
            "American Express 4-6-5 grouping"
        );
        assert!(contains_card_number("5555-5555-5555-4444"));
    }

    #[test]
    fn every_single_digit_change_to_a_test_card_number_is_not_a_card_number() {
        // Luhn catches every single-digit error, so none of these is a card number.
        for pan in TEST_CARDS {
            let digits: Vec<char> = pan.chars().collect();
            for position in 0..digits.len() {
                for replacement in '0'..='9' {
                    if digits[position] == replacement {
                        continue;
                    }
                    let mut changed = digits.clone();
                    changed[position] = replacement;
                    let changed: String = changed.into_iter().collect();
                    assert!(!contains_card_number(&changed), "{changed}");
                    if pan.len() <= 16 {
                        // (A 19-digit number in groups of four also holds card-shaped parts.)
                        assert!(!contains_card_number(&grouped(&changed, " ")), "{changed}");
                    }
                }
            }
        }
    }

    /// Issue 20: each of these got a test card past the check.
    fn disguised(pan: &str) -> Vec<(String, String)> {
        let mut forms = Vec::new();
        for (what, sep) in [
            ("dots", "."),
            ("slashes", "/"),
            ("commas", ","),
            ("comma and space", ", "),
            ("tabs", "\t"),
            ("newlines", "\n"),
            ("CRLF", "\r\n"),
            ("zero-width spaces", "\u{200B}"),
            ("zero-width joiners", "\u{200D}"),
            ("word joiners", "\u{2060}"),
            ("soft hyphens", "\u{00AD}"),
            ("BOMs", "\u{FEFF}"),
            ("full-width dots", "．"),
            ("ideographic commas", "、"),
            ("katakana middle dots", "・"),
            ("thin spaces", "\u{2009}"),
        ] {
            forms.push((what.to_owned(), grouped(pan, sep)));
        }
        // Invisible characters between every digit.
        for (what, sep) in [
            ("a zero-width space between every digit", "\u{200B}"),
            ("a soft hyphen between every digit", "\u{00AD}"),
            ("a dot between every digit", "."),
        ] {
            let spaced: Vec<String> = pan.chars().map(String::from).collect();
            forms.push((what.to_owned(), spaced.join(sep)));
        }
        for (what, zero) in [
            ("Arabic-Indic digits", '\u{0660}'),
            ("Extended Arabic-Indic digits", '\u{06F0}'),
            ("Devanagari digits", '\u{0966}'),
            ("Bengali digits", '\u{09E6}'),
            ("Thai digits", '\u{0E50}'),
            ("mathematical bold digits", '\u{1D7CE}'),
        ] {
            let script: String = pan
                .chars()
                .map(|c| char::from_u32(u32::from(zero) + (u32::from(c) - u32::from('0'))).unwrap())
                .collect();
            forms.push((format!("{what} grouped"), grouped(&script, " ")));
            forms.push((format!("{what} with dots"), grouped(&script, ".")));
            forms.push((what.to_owned(), script));
        }
        forms
    }

    #[test]
    fn a_card_number_disguised_by_separators_invisible_characters_or_other_scripts_is_refused() {
        for pan in TEST_CARDS {
            for (what, form) in disguised(pan) {
                for text in [form.clone(), format!("カード {form} です")] {
                    let err = check("form_text", Validation::Text, &text)
                        .expect_err(&format!("{what}: {text:?}"));
                    assert_eq!(err.problem, CARD, "{what}");
                    // One line that never repeats the value (nor any digit of it).
                    let line = err.to_string();
                    assert!(!line.contains('\n'), "{what}: {line}");
                    assert!(!line.contains(&pan[pan.len() - 4..]), "{what}: {line}");
                }
            }
        }
    }

    #[test]
    fn a_disguised_card_number_is_refused_in_every_kind_of_field() {
        for validation in Validation::ALL {
            for raw in [
                "4242.4242.4242.4242",
                "4242/4242/4242/4242",
                "4242\u{200B}4242\u{200B}4242\u{200B}4242",
                "4242\u{00AD}4242\u{00AD}4242\u{00AD}4242",
                "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢",
                "४२४२ ४२४२ ४२४२ ४२४२",
            ] {
                assert_eq!(problem(validation, raw), CARD, "{validation:?}: {raw}");
            }
        }
    }

    #[test]
    fn a_card_number_in_compatibility_digits_is_found_by_every_caller() {
        // Circled and superscript digits are not decimal digits; NFKC makes them so.
        assert!(contains_card_number("④②④② ④②④② ④②④② ④②④②"));
        assert!(contains_card_number("⁴²⁴²⁴²⁴²⁴²⁴²⁴²⁴²"));
    }

    #[test]
    fn every_decimal_digit_zero_is_followed_by_its_nine_digits() {
        for zero in DIGIT_ZEROS {
            for d in 0..10u8 {
                let c = char::from_u32(zero + u32::from(d)).unwrap();
                assert_eq!(card_digit(c), Some(d), "U+{:04X}", zero + u32::from(d));
                assert!(c.is_numeric(), "U+{:04X}", zero + u32::from(d));
            }
        }
        assert_eq!(card_digit('a'), None);
        assert_eq!(card_digit('/'), None);
        assert_eq!(card_digit(':'), None);
    }

    #[test]
    fn dates_amounts_and_lists_written_with_dots_slashes_and_commas_are_not_card_numbers() {
        for note in [
            "1990/04/01 123-4567",
            "2026.12.04 10:00",
            "1,234,567,890,123円",
            "12, 14, 15, 21, 22, 30, 31",
            "会員番号 12345\n電話 03-1234-5678\n〒260-0013",
            "090-1234-5678, 03-1234-5678",
            "1.5, 2.25, 3.125, 4.0625",
            "٢٠٢٦/١٢/٠٤",
        ] {
            assert!(!contains_card_number(note), "{note}");
        }
    }

    #[test]
    fn a_card_number_followed_by_its_security_code_is_detected() {
        assert!(contains_card_number("4242 4242 4242 4242 123"));
        assert!(contains_card_number("番号 4242-4242-4242-4242 737"));
    }

    #[test]
    fn a_run_of_too_few_or_too_many_digits_is_not_a_card_number() {
        // 12 digits (a Luhn-valid prefix of a test card) and 20 digits in one group.
        assert!(!contains_card_number("424242424242"));
        assert!(!contains_card_number("42424242424242424242"));
    }

    #[test]
    fn phone_numbers_and_postal_codes_in_a_note_are_not_card_numbers() {
        for note in [
            "090-1234-5678 03-1234-5678",
            "〒260-0013 千葉市中央区 043-245-5750 090-9876-5432",
            "+81 90-1234-5678 / 050 1234 5678",
            "1990/04/01 123-4567",
        ] {
            assert!(!contains_card_number(note), "{note}");
            assert_eq!(ok(Validation::Text, note).value, note);
        }
    }

    // Email.

    #[test]
    fn an_email_address_is_accepted_and_indexed_in_lower_case() {
        let checked = ok(Validation::Email, "Hanako.Sato@Example.JP");
        assert_eq!(checked.value, "Hanako.Sato@example.jp");
        assert_eq!(checked.index_form, "hanako.sato@example.jp");
    }

    #[test]
    fn a_full_width_email_address_is_normalized_to_half_width() {
        assert_eq!(
            ok(Validation::Email, "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ").value,
            "hanako@example.jp"
        );
    }

    #[test]
    fn an_old_carrier_address_with_consecutive_dots_is_accepted() {
        assert_eq!(
            ok(Validation::Email, "taro..yamada.@docomo.ne.jp").value,
            "taro..yamada.@docomo.ne.jp"
        );
    }

    #[test]
    fn a_malformed_email_address_is_refused() {
        for raw in [
            "hanako.example.jp",
            "hanako@@example.jp",
            "hanako@mail@example.jp",
            "@example.jp",
            "hanako@localhost",
            "hanako@example..jp",
            "hanako@.example.jp",
            "hanako @example.jp",
            "Hanako <hanako@example.jp>",
            "hanako@example.j",
            "hanako@exa_mple.jp",
        ] {
            assert_eq!(problem(Validation::Email, raw), NOT_EMAIL, "{raw}");
        }
    }

    // Phone.

    #[test]
    fn a_mobile_number_is_kept_as_typed_and_indexed_as_digits() {
        let checked = ok(Validation::Phone, "090-1234-5678");
        assert_eq!(checked.value, "090-1234-5678");
        assert_eq!(checked.index_form, "09012345678");
        let checked = ok(Validation::Phone, "08012345678");
        assert_eq!(checked.value, "08012345678");
        assert_eq!(checked.index_form, "08012345678");
    }

    #[test]
    fn a_mobile_number_in_plus81_form_is_stored_in_domestic_form() {
        for raw in [
            "+81 90-1234-5678",
            "+81-90-1234-5678",
            "+819012345678",
            "+81 (0)90 1234 5678",
            "＋８１ ９０－１２３４－５６７８",
        ] {
            let checked = ok(Validation::Phone, raw);
            assert_eq!(checked.index_form, "09012345678", "{raw}");
            assert!(checked.value.starts_with("090"), "{raw}");
        }
        assert_eq!(
            ok(Validation::Phone, "+81 90-1234-5678").value,
            "090-1234-5678"
        );
        assert_eq!(
            ok(Validation::Phone, "+81 3 1234 5678").value,
            "03-1234-5678"
        );
    }

    #[test]
    fn a_landline_number_with_parentheses_or_spaces_is_accepted() {
        assert_eq!(ok(Validation::Phone, "03(1234)5678").value, "03-1234-5678");
        assert_eq!(
            ok(Validation::Phone, "(043) 245 5750").value,
            "043-245-5750"
        );
        assert_eq!(
            ok(Validation::Phone, "(043) 245 5750").index_form,
            "0432455750"
        );
    }

    #[test]
    fn a_full_width_phone_number_is_accepted() {
        let checked = ok(Validation::Phone, "０９０－１２３４－５６７８");
        assert_eq!(checked.value, "090-1234-5678");
        assert_eq!(checked.index_form, "09012345678");
        // The katakana prolonged sound mark an IME often puts in place of a hyphen.
        assert_eq!(
            ok(Validation::Phone, "０９０ー１２３４ー５６７８").index_form,
            "09012345678"
        );
    }

    #[test]
    fn free_dial_and_ip_phone_numbers_are_accepted() {
        assert_eq!(
            ok(Validation::Phone, "0120-123-456").index_form,
            "0120123456"
        );
        assert_eq!(
            ok(Validation::Phone, "0800-123-4567").index_form,
            "08001234567"
        );
        assert_eq!(
            ok(Validation::Phone, "050-1234-5678").index_form,
            "05012345678"
        );
        assert_eq!(
            ok(Validation::Phone, "0570-123-456").index_form,
            "0570123456"
        );
    }

    #[test]
    fn a_phone_number_of_the_wrong_length_or_prefix_is_refused() {
        for raw in [
            "090-1234-567",   // 10 digits with a mobile prefix
            "090-1234-56789", // 12 digits
            "0120-123-4567",  // free dial has 10 digits
            "050-123-4567",   // IP phone has 11 digits
            "1234-5678",      // no area code
            "00-1234-5678",
            "+84 90 123 4567", // not a Japanese number
            "090.1234.5678",
            "tel 090-1234-5678",
            "+",
        ] {
            assert_eq!(problem(Validation::Phone, raw), NOT_PHONE, "{raw}");
        }
    }

    // Postal code.

    #[test]
    fn a_postal_code_is_stored_with_a_hyphen() {
        for raw in [
            "260-0013",
            "2600013",
            "〒260-0013",
            "〒 260-0013",
            "２６０－００１３",
            "〒２６０ー００１３",
        ] {
            let checked = ok(Validation::PostalCode, raw);
            assert_eq!(checked.value, "260-0013", "{raw}");
            assert_eq!(checked.index_form, "260-0013", "{raw}");
        }
    }

    #[test]
    fn a_malformed_postal_code_is_refused() {
        for raw in [
            "260-001",
            "2600-013",
            "26000134",
            "260--0013",
            "260 0013",
            "〒",
            "abc-defg",
        ] {
            assert_eq!(
                problem(Validation::PostalCode, raw),
                NOT_POSTAL_CODE,
                "{raw}"
            );
        }
    }

    // Date.

    #[test]
    fn a_date_is_stored_as_year_month_day() {
        for raw in [
            "1990-04-01",
            "1990/04/01",
            "1990/4/1",
            "1990.4.1",
            "19900401",
            "1990年4月1日",
            "１９９０／０４／０１",
        ] {
            let checked = ok(Validation::Date, raw);
            assert_eq!(checked.value, "1990-04-01", "{raw}");
            assert_eq!(checked.index_form, "1990-04-01", "{raw}");
        }
    }

    #[test]
    fn a_date_that_is_not_in_year_month_day_form_is_refused() {
        for raw in [
            "04/01/1990",
            "1990-04",
            "1990-04/01",
            "90-04-01",
            "1990-004-01",
            "April 1, 1990",
            "1990-+4-01",
        ] {
            assert_eq!(problem(Validation::Date, raw), NOT_DATE, "{raw}");
        }
    }

    #[test]
    fn an_impossible_date_is_refused() {
        for raw in [
            "2023-02-29",
            "1990-13-01",
            "1990-04-31",
            "1990-00-10",
            "1990-01-00",
        ] {
            assert_eq!(problem(Validation::Date, raw), NOT_REAL_DATE, "{raw}");
        }
        assert_eq!(ok(Validation::Date, "2024-02-29").value, "2024-02-29");
    }

    #[test]
    fn a_date_outside_1900_to_2100_is_refused() {
        assert_eq!(problem(Validation::Date, "1899-12-31"), DATE_OUT_OF_RANGE);
        assert_eq!(problem(Validation::Date, "2101-01-01"), DATE_OUT_OF_RANGE);
        assert_eq!(ok(Validation::Date, "1900-01-01").value, "1900-01-01");
        assert_eq!(ok(Validation::Date, "2100-12-31").value, "2100-12-31");
    }

    // Name.

    #[test]
    fn a_japanese_name_keeps_its_kanji_and_is_indexed_without_spaces() {
        let checked = ok(Validation::Name, "山田　太郎");
        assert_eq!(checked.value, "山田 太郎");
        assert_eq!(checked.index_form, "山田太郎");
        assert_eq!(
            ok(Validation::Name, "山田太郎").index_form,
            checked.index_form
        );
        assert_eq!(ok(Validation::Name, "佐々木 ヶ子").value, "佐々木 ヶ子");
    }

    #[test]
    fn a_latin_name_with_accents_is_indexed_in_lower_case() {
        let checked = ok(Validation::Name, "Nguyễn  Văn An");
        assert_eq!(checked.value, "Nguyễn Văn An");
        assert_eq!(checked.index_form, "nguyễnvănan");
        assert_eq!(
            ok(Validation::Name, "O'Brien-Smith Jr.").index_form,
            "o'brien-smithjr."
        );
        assert_eq!(
            ok(Validation::Name, "ジョン・スミス").value,
            "ジョン・スミス"
        );
    }

    #[test]
    fn a_full_width_latin_name_is_stored_in_half_width() {
        let checked = ok(Validation::Name, "Ｍａｒｉａ Ｓａｎｔｏｓ");
        assert_eq!(checked.value, "Maria Santos");
        assert_eq!(checked.index_form, "mariasantos");
    }

    #[test]
    fn a_half_width_katakana_name_is_stored_in_full_width() {
        assert_eq!(ok(Validation::Name, "ﾔﾏﾀﾞ ﾀﾛｳ").value, "ヤマダ タロウ");
    }

    #[test]
    fn names_in_other_scripts_of_foreign_residents_are_accepted() {
        for raw in ["राम बहादुर", "မောင်မောင်", "김민준", "Иван Петров", "محمد"]
        {
            assert!(check("name", Validation::Name, raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn a_kanji_variant_in_a_name_is_kept_but_found_by_the_common_form() {
        // 神 (U+FA19) is the variant some people register; NFKC would make it 神 (U+795E).
        let variant = ok(Validation::Name, "\u{FA19}田 花子");
        assert_eq!(variant.value, "\u{FA19}田 花子");
        assert_eq!(
            variant.index_form,
            ok(Validation::Name, "\u{795E}田 花子").index_form
        );
        // An ideographic variation sequence (葛 + VS17) is kept too, and folded for search.
        let ivs = ok(Validation::Name, "葛\u{E0100}西");
        assert_eq!(ivs.value, "葛\u{E0100}西");
        assert_eq!(ivs.index_form, "葛西");
    }

    #[test]
    fn a_name_with_digits_or_symbols_is_refused() {
        for raw in [
            "山田太郎2",
            "Taro <b>",
            "{{name}}",
            "Yamada_Taro",
            "@hanako",
            "---",
            "・",
            "Ｔａｒｏ１",
        ] {
            assert_eq!(problem(Validation::Name, raw), NOT_NAME, "{raw}");
        }
    }

    // Kana.

    #[test]
    fn hiragana_and_katakana_readings_share_an_index_form() {
        let katakana = ok(Validation::Kana, "ヤマダ　タロウ");
        assert_eq!(katakana.value, "ヤマダ タロウ");
        assert_eq!(katakana.index_form, "ヤマダタロウ");
        let hiragana = ok(Validation::Kana, "やまだ たろう");
        assert_eq!(hiragana.value, "やまだ たろう");
        assert_eq!(hiragana.index_form, "ヤマダタロウ");
        assert_eq!(ok(Validation::Kana, "ﾔﾏﾀﾞ ﾀﾛｳ").index_form, "ヤマダタロウ");
        assert_eq!(
            ok(Validation::Kana, "ヤマタ゛ タロウ").index_form,
            "ヤマダタロウ"
        );
        assert_eq!(
            ok(Validation::Kana, "グエン・ヴァン・アン").index_form,
            "グエン・ヴァン・アン"
        );
        assert_eq!(
            ok(Validation::Kana, "さとう ゆうこ").index_form,
            "サトウユウコ"
        );
        assert_eq!(ok(Validation::Kana, "ローラ").index_form, "ローラ");
    }

    #[test]
    fn a_kana_field_refuses_kanji_latin_and_digits() {
        for raw in ["山田 タロウ", "Yamada", "ヤマダ1", "ーー", "ヤマダ-タロウ"] {
            assert_eq!(problem(Validation::Kana, raw), NOT_KANA, "{raw}");
        }
    }

    // Gender.

    #[test]
    fn a_gender_is_free_but_short() {
        for raw in [
            "女性",
            "男性",
            "その他",
            "male",
            "female",
            "non-binary",
            "回答しない",
        ] {
            assert_eq!(ok(Validation::Gender, raw).value, raw);
        }
        assert_eq!(
            ok(Validation::Gender, "Non-Binary").index_form,
            "non-binary"
        );
        assert!(problem(Validation::Gender, &"x".repeat(41)).contains("short word"));
    }

    // Country.

    #[test]
    fn a_two_letter_country_code_is_upper_cased() {
        let checked = ok(Validation::Country, "vn");
        assert_eq!(checked.value, "VN");
        assert_eq!(checked.index_form, "vn");
        assert_eq!(ok(Validation::Country, "ＪＰ").value, "JP");
    }

    #[test]
    fn an_unassigned_country_code_is_refused() {
        for raw in ["ZZ", "xx", "J1", "A"] {
            assert_eq!(problem(Validation::Country, raw), NOT_COUNTRY, "{raw}");
        }
    }

    #[test]
    fn a_country_name_is_kept_as_given() {
        for raw in [
            "Viet Nam",
            "ベトナム",
            "中国",
            "Korea, Republic of",
            "Côte d'Ivoire",
            "セントクリストファー・ネービス",
        ] {
            assert_eq!(ok(Validation::Country, raw).value, raw);
        }
        assert_eq!(ok(Validation::Country, "Viet Nam").index_form, "viet nam");
        assert_eq!(problem(Validation::Country, "Country 42"), NOT_COUNTRY);
    }

    // Passport number.

    #[test]
    fn a_passport_number_is_upper_cased_without_spaces() {
        assert_eq!(
            ok(Validation::PassportNumber, "tk 1234567").value,
            "TK1234567"
        );
        assert_eq!(
            ok(Validation::PassportNumber, "ＴＫ１２３４５６７").value,
            "TK1234567"
        );
        assert_eq!(
            ok(Validation::PassportNumber, "C01X00T47").index_form,
            "C01X00T47"
        );
        assert_eq!(ok(Validation::PassportNumber, "B1234567").value, "B1234567");
    }

    #[test]
    fn a_passport_number_of_the_wrong_length_or_with_symbols_is_refused() {
        for raw in ["TK123", "TK12345678901", "TK-1234567", "旅券1234567"] {
            assert_eq!(
                problem(Validation::PassportNumber, raw),
                NOT_PASSPORT,
                "{raw}"
            );
        }
    }

    // Residence card number.

    #[test]
    fn a_residence_card_number_is_two_letters_eight_digits_two_letters() {
        let checked = ok(Validation::ResidenceCardNumber, "ab12345678cd");
        assert_eq!(checked.value, "AB12345678CD");
        assert_eq!(checked.index_form, "AB12345678CD");
        assert_eq!(
            ok(
                Validation::ResidenceCardNumber,
                "ＡＢ １２３４５６７８ ＣＤ"
            )
            .value,
            "AB12345678CD"
        );
        for raw in [
            "AB1234567CD",
            "AB123456789C",
            "A123456789CD",
            "AB12345678C1",
            "AB-12345678-CD",
        ] {
            assert_eq!(
                problem(Validation::ResidenceCardNumber, raw),
                NOT_RESIDENCE_CARD,
                "{raw}"
            );
        }
    }

    // Token.

    #[test]
    fn a_payment_processor_token_is_kept_exactly() {
        let checked = ok(Validation::Token, "pm_1Nx2Ab3Cd4Ef5Gh");
        assert_eq!(checked.value, "pm_1Nx2Ab3Cd4Ef5Gh");
        assert_eq!(checked.index_form, "pm_1Nx2Ab3Cd4Ef5Gh");
        assert!(check("payment_token", Validation::Token, "cus_Q1w2E3r4T5y6").is_ok());
    }

    #[test]
    fn a_short_token_or_one_with_other_characters_is_refused() {
        for raw in [
            "pm_1Nx",
            "pm 1Nx2Ab3Cd4",
            "pm_1Nx2Ab3Cd4/",
            "ｐｍ＿１Ｎｘ２Ａｂ３",
        ] {
            assert_eq!(problem(Validation::Token, raw), NOT_TOKEN, "{raw}");
        }
    }

    // Identifier.

    #[test]
    fn an_identifier_is_printable_ascii_without_spaces() {
        for raw in [
            "203.0.113.7",
            "2001:db8::1",
            "GA1.2.1234567890.1700000000",
            "a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d",
        ] {
            assert_eq!(ok(Validation::Identifier, raw).value, raw);
            assert_eq!(ok(Validation::Identifier, raw).index_form, raw);
        }
        for raw in ["device 01", "端末01"] {
            assert_eq!(
                problem(Validation::Identifier, raw),
                NOT_IDENTIFIER,
                "{raw}"
            );
        }
    }

    // Text.

    #[test]
    fn free_text_is_kept_as_written_and_indexed_in_normal_form() {
        let checked = ok(Validation::Text, "ＡＢＣ商事の件 <b>");
        assert_eq!(checked.value, "ＡＢＣ商事の件 <b>");
        assert_eq!(checked.index_form, "abc商事の件 <b>");
    }

    // Personal values never appear in error messages.

    #[test]
    fn error_messages_never_contain_the_value() {
        let bad = [
            (Validation::Email, "yamada.hanako.example.jp"),
            (Validation::Email, "yamada hanako@example.jp"),
            (Validation::Phone, "090-9876-543"),
            (Validation::Phone, "+84 912 345 678"),
            (Validation::PostalCode, "260-00135"),
            (Validation::Date, "1987-02-30"),
            (Validation::Date, "1850-06-15"),
            (Validation::Date, "15/06/1987"),
            (Validation::Name, "Suzuki Ichiro 3"),
            (Validation::Name, "鈴木<一郎>"),
            (Validation::Kana, "Suzuki イチロウ"),
            (
                Validation::Gender,
                "a very long description of gender identity here",
            ),
            (Validation::Country, "Neverland 7"),
            (Validation::Country, "QQ"),
            (Validation::PassportNumber, "MZ98-765"),
            (Validation::ResidenceCardNumber, "XY98765432Z"),
            (Validation::Token, "tk_9f8e"),
            (Validation::Identifier, "my device"),
            (
                Validation::Text,
                "鈴木さんのカード 5555 5555 5555 4444 有効期限 12/29",
            ),
            (Validation::Name, "Suzuki\u{0007}Ichiro"),
            (Validation::Identifier, &"9a".repeat(150)),
        ];
        for (validation, raw) in bad {
            let err = check("field", validation, raw).unwrap_err();
            let message = err.to_string();
            let trimmed = raw.trim();
            assert!(!message.contains(trimmed), "{validation:?}: {message}");
            assert!(
                !message.contains(&nfkc(trimmed)),
                "{validation:?}: {message}"
            );
            assert!(
                !format!("{err:?}").contains(trimmed),
                "{validation:?}: {err:?}"
            );
            for word in trimmed
                .split_whitespace()
                .filter(|w| w.chars().count() >= 5)
            {
                assert!(!message.contains(word), "{validation:?}: {message}");
            }
        }
    }
}
