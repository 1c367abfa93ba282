//! Recruitment's national-register feed (`inburgering recruitment import-register FILE`),
//! CSV with a header or JSON lines: `recruitment::feed::parse` against a small register,
//! then `feed::Record::target` (the target group rule) on every accepted record, and
//! `feed::line_count`.
//!
//! The file arrives as bytes: like the command (`read_to_string`), bytes that are not
//! UTF-8 are refused before parsing.
//!
//! Asserts: nothing panics; the result is the records or every bad line with its field;
//! an accepted record's national number is valid and round-trips, its municipality is in
//! the register, it has at least one language and no language twice, its names and
//! address are non-empty printable text within their limits.
#![no_main]

use std::{collections::BTreeMap, sync::LazyLock};

use libfuzzer_sys::fuzz_target;
use platform::NationalNumber;
use recruitment::{domain::Municipality, feed};

static REGISTER: LazyLock<BTreeMap<String, Municipality>> =
    LazyLock::new(inburgering_fuzz::recruitment_register);

/// What an error may name besides a column: the line itself, or the header.
const WHOLE: [&str; 2] = ["line", "header"];

fn printable(s: &str, max: usize) {
    assert!(!s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = feed::line_count(text);
    match feed::parse(text, &REGISTER) {
        Ok(records) => {
            for r in &records {
                assert_eq!(
                    NationalNumber::parse(r.national_number.digits()).as_ref(),
                    Ok(&r.national_number)
                );
                let nis = r.municipality.nis.to_string();
                assert!(REGISTER.values().any(|m| m.nis.to_string() == nis));
                assert!(!r.languages.is_empty());
                for (i, l) in r.languages.iter().enumerate() {
                    assert!(!r.languages[..i].contains(l), "a language twice");
                    assert_eq!(l.as_str().len(), 2);
                }
                assert_eq!(r.nationality.as_str().len(), 2);
                printable(&r.given_name, 100);
                printable(&r.family_name, 100);
                printable(&r.street, 200);
                printable(&r.postal_code, 10);
                printable(&r.city, 100);
                let _ = r.target();
                let _ = format!("{r:?}");
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(
                    WHOLE.contains(&e.field) || feed::FIELDS.contains(&e.field),
                    "{}",
                    e.field
                );
                assert!(!e.to_string().is_empty());
            }
        }
    }
});
