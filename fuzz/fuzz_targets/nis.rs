//! NIS (REFNIS) code parsing, written once: `platform::nis::Nis::parse` (every service
//! parses through it, most via `wire::nis`), `Nis::code`, and
//! `municipalities::domain::stored_nis`.
//!
//! Asserts: no parser panics; the parser accepts exactly five ASCII digits from 10000
//! (surrounding white space allowed) and prints the code; a parsed code round-trips
//! through its display; a refusal names its field.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let platform = platform::Nis::parse("municipality_nis", &input);
    let _ = municipalities::domain::stored_nis(&input);

    let trimmed = input.trim();
    let shaped = trimmed.len() == 5 && trimmed.bytes().all(|b| b.is_ascii_digit());
    let expected = (shaped && trimmed >= "10000").then(|| trimmed.to_owned());

    let shown = |r: Option<String>| r;
    assert_eq!(shown(platform.as_ref().ok().map(|n| n.to_string())), expected);

    match &platform {
        Ok(nis) => {
            let code = nis.to_string();
            assert_eq!(platform::Nis::parse("nis", &code).as_ref(), Ok(nis));
            assert_eq!(format!("{:05}", nis.code()), code);
        }
        Err(e) => assert_eq!(e.field, "municipality_nis"),
    }
});
