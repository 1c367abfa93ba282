//! The form of a NIS (REFNIS) code, the key of a municipality: five digits from 10000.
//! Whether a municipality has the code is the register's question (the municipalities
//! service); this only refuses what cannot be a code.

use std::fmt;

use crate::error::FieldError;

/// A well-formed NIS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nis(u32);

impl Nis {
    /// Parses `input` given in `field`.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let input = input.trim();
        let refuse = |reason: String| Err(FieldError { field, reason });
        if input.is_empty() {
            return refuse("is required".into());
        }
        if input.len() != 5 || !input.bytes().all(|b| b.is_ascii_digit()) {
            return refuse(format!("{input:?} is not a 5-digit NIS code"));
        }
        let code: u32 = input.parse().expect("five ASCII digits parse");
        if code < 10_000 {
            return refuse(format!("{input} is not a NIS code: they start at 10000"));
        }
        Ok(Self(code))
    }
}

impl Nis {
    /// The code as a number, e.g. 11002 (the rules name municipalities by number).
    pub fn code(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Nis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:05}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_five_digits_from_10000() {
        assert_eq!(
            Nis::parse("nis", "21004").map(|n| n.to_string()),
            Ok("21004".into())
        );
        assert!(Nis::parse("nis", "09999").is_err());
        assert!(Nis::parse("nis", "10000").is_ok());
        assert!(Nis::parse("nis", "2100").is_err());
        assert!(Nis::parse("nis", "21 04").is_err());
        let err = Nis::parse("municipality_nis", "").expect_err("empty");
        assert_eq!(err.to_string(), "municipality_nis: is required");
    }
}
