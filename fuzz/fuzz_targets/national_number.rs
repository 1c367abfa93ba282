//! `platform::national_number::NationalNumber::parse` (every national number from outside:
//! trajectories' RegisterPerson, the partner exchange, the obligation check, recruitment's
//! register feed) and `NationalNumber::birth_date`.
//!
//! Asserts: parsing never panics; it accepts exactly the inputs an independent mod-97
//! check accepts; a parsed number round-trips through its normal form (`digits`); the
//! formatted (`YY.MM.DD-XXX.CC`, spaces) and unformatted forms parse to the same number;
//! the birth date agrees with the digits; `Debug` never shows the number.
#![no_main]

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;
use platform::NationalNumber;

/// The rule, written again independently: separators `.`, `-` and space dropped, eleven
/// ASCII digits, and the check digits 97 minus the first nine (or `2` and the first nine,
/// for those born from 2000) modulo 97.
fn oracle(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| *c != '.' && *c != '-' && *c != ' ')
        .collect();
    if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let check: u128 = digits[9..].parse().ok()?;
    let before: u128 = digits[..9].parse().ok()?;
    let after: u128 = format!("2{}", &digits[..9]).parse().ok()?;
    (check == 97 - before % 97 || check == 97 - after % 97).then_some(digits)
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let parsed = NationalNumber::parse(&input);
    assert_eq!(
        parsed.as_ref().ok().map(|n| n.digits().to_owned()),
        oracle(&input),
        "parse and the mod-97 rule disagree"
    );
    let n = match parsed {
        Ok(n) => n,
        Err(e) => {
            assert!(e.to_string().starts_with("national_number "), "{e}");
            return;
        }
    };
    let d = n.digits();
    assert!(d.len() == 11 && d.bytes().all(|b| b.is_ascii_digit()));
    // The normal form parses to the same number.
    assert_eq!(NationalNumber::parse(d).as_ref(), Ok(&n));
    // The formatted forms the register and letters use parse to the same number.
    let dotted = format!(
        "{}.{}.{}-{}.{}",
        &d[0..2],
        &d[2..4],
        &d[4..6],
        &d[6..9],
        &d[9..11]
    );
    assert_eq!(NationalNumber::parse(&dotted).as_ref(), Ok(&n));
    let spaced = format!(" {} {} {} ", &d[0..6], &d[6..9], &d[9..11]);
    assert_eq!(NationalNumber::parse(&spaced).as_ref(), Ok(&n));
    // The birth date, where the number gives one, is the one its digits say.
    if let Some(born) = n.birth_date() {
        assert_eq!(born.year() % 100, d[0..2].parse::<i32>().unwrap());
        let mm: u32 = d[2..4].parse().unwrap();
        assert!([mm, mm.wrapping_sub(20), mm.wrapping_sub(40)].contains(&born.month()));
        assert_eq!(born.day(), d[4..6].parse::<u32>().unwrap());
        assert!((1900..2100).contains(&born.year()));
    }
    // Personal data never reaches a log through Debug.
    let shown = format!("{n:?}");
    assert!(!shown.contains(&d[..6]) && !shown.contains(&d[6..]), "{shown}");
});
