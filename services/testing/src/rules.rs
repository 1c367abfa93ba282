//! Every rule with a number of the testing service, named once, citing its source
//! (DESIGN.md §3). Change them here and in the tests at their edges.

/// A standardised test costs €90; a retake is paid again (DESIGN.md §3, "€90 per test
/// (NT2, MO); a retake is paid again").
pub const TEST_FEE_CENTS: i64 = 90_00;

/// The 19 Brussels municipalities, 21001–21019 (DESIGN.md §1).
pub const BRUSSELS_NIS: std::ops::RangeInclusive<u32> = 21001..=21019;

/// Why a person pays nothing for a test, if they do not: Brussels residents (the fee is
/// a rule of the Flemish Region) and the exemption categories (serious illness, mental or
/// physical disability) pay nothing (issue 3's fee list).
pub fn fee_exemption(municipality_nis: u32, exempted: bool) -> Option<&'static str> {
    if BRUSSELS_NIS.contains(&municipality_nis) {
        Some("brussels-resident")
    } else if exempted {
        Some("exempted")
    } else {
        None
    }
}

/// The first day an integration test can have been taken: the decree of 28 February 2003
/// on the Flemish civic integration policy ("decree of 28 February 2003: civic integration
/// began 2004-04-01"). An imported result from before it is a typing error.
pub const INTEGRATION_BEGAN_ON: chrono::NaiveDate =
    chrono::NaiveDate::from_ymd_opt(2004, 4, 1).expect("1 April 2004 is a date");

/// A test centre's name, like a session's location, is at most this many characters.
pub const MAX_CENTRE_CHARS: usize = 200;

/// A session seats at least one and, as a plausibility bound for central test rooms, at
/// most this many people.
pub const MAX_SESSION_CAPACITY: i32 = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brussels_residents_are_exempted_at_both_edges_of_the_region() {
        assert_eq!(fee_exemption(21000, false), None);
        assert_eq!(fee_exemption(21001, false), Some("brussels-resident"));
        assert_eq!(fee_exemption(21019, true), Some("brussels-resident"));
        assert_eq!(fee_exemption(21020, false), None);
        assert_eq!(fee_exemption(44021, true), Some("exempted"));
    }
}
