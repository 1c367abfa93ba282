//! The Belgian national register number: the one identifier of a person that is personal
//! data. Every service that takes one from outside parses it here (trajectories stores it,
//! recruitment passes it on from the register feed), so a number is checked the same way
//! everywhere. It must never be logged: `Debug` redacts it and there is no `Display`.

use std::fmt;

use chrono::NaiveDate;

/// Why a national number was refused; the message starts with the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("national_number {0}")]
pub struct NationalNumberError(pub String);

/// A Belgian national register number, checked. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct NationalNumber(String);

impl NationalNumber {
    /// Parses 11 digits, allowing the usual separators (`85.07.30-033.61`), and checks the
    /// mod-97 check digits: `97 - (first nine digits mod 97)`, or for people born from
    /// 2000 the same over the nine digits prefixed with `2`.
    pub fn parse(input: &str) -> Result<Self, NationalNumberError> {
        let digits: String = input
            .chars()
            .filter(|c| !matches!(c, '.' | '-' | ' '))
            .collect();
        if digits.is_empty() {
            return Err(NationalNumberError("is required".into()));
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(NationalNumberError(
                "may hold only digits and the separators . - and space".into(),
            ));
        }
        if digits.len() != 11 {
            return Err(NationalNumberError(format!(
                "must have 11 digits, has {}",
                digits.len()
            )));
        }
        let base: u64 = digits[..9].parse().expect("nine ASCII digits parse");
        let check: u64 = digits[9..].parse().expect("two ASCII digits parse");
        let before_2000 = 97 - base % 97;
        let from_2000 = 97 - (2_000_000_000 + base) % 97;
        if check != before_2000 && check != from_2000 {
            return Err(NationalNumberError(
                "check digits do not match (mod 97)".into(),
            ));
        }
        Ok(Self(digits))
    }

    /// The birth date the number encodes: YYMMDD, the century from the check digits
    /// (the `2` prefix means born from 2000), a bis number's month less 20 or 40. `None`
    /// when the register does not know the date (month or day 00).
    pub fn birth_date(&self) -> Option<NaiveDate> {
        let d = &self.0;
        let yy: i32 = d[0..2].parse().ok()?;
        let mm: u32 = d[2..4].parse().ok()?;
        let dd: u32 = d[4..6].parse().ok()?;
        let base: u64 = d[..9].parse().ok()?;
        let check: u64 = d[9..].parse().ok()?;
        let century = if check == 97 - (2_000_000_000 + base) % 97 {
            2000
        } else {
            1900
        };
        let month = match mm {
            41..=52 => mm - 40,
            21..=32 => mm - 20,
            m => m,
        };
        NaiveDate::from_ymd_opt(century + yy, month, dd)
    }

    /// The 11 digits, for storage only.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NationalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NationalNumber(<redacted>)")
    }
}
