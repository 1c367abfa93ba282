//! Every rule with a number of the testing service, named once, citing its source
//! (DESIGN.md §3). Change them here and in the tests at their edges.

use crate::domain::TestType;

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

/// The fee a booking charges, with the reason when it is nothing. A language-level test
/// is outside the integration trajectory: "non-integrants pay for a language-level test"
/// (DESIGN.md §3), at the test fee, wherever they live.
pub fn booking_fee(
    test_type: TestType,
    municipality_nis: u32,
    exempted: bool,
) -> (i64, Option<&'static str>) {
    if test_type == TestType::LanguageLevel {
        return (TEST_FEE_CENTS, None);
    }
    match fee_exemption(municipality_nis, exempted) {
        Some(reason) => (0, Some(reason)),
        None => (TEST_FEE_CENTS, None),
    }
}

/// A session seats at least one and, as a plausibility bound for central test rooms, at
/// most this many people.
pub const MAX_SESSION_CAPACITY: i32 = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_costs_ninety_euro_outside_brussels() {
        assert_eq!(booking_fee(TestType::Mo, 11002, false), (90_00, None));
        assert_eq!(
            booking_fee(TestType::Nt2A2, 21000, false),
            (90_00, None),
            "21000 is no Brussels municipality"
        );
        assert_eq!(booking_fee(TestType::Nt2A2, 21020, false), (90_00, None));
    }

    #[test]
    fn brussels_residents_at_both_edges_and_exempted_people_pay_nothing() {
        assert_eq!(
            booking_fee(TestType::Mo, 21001, false),
            (0, Some("brussels-resident"))
        );
        assert_eq!(
            booking_fee(TestType::B1Oral, 21019, false),
            (0, Some("brussels-resident"))
        );
        assert_eq!(
            booking_fee(TestType::Nt2A2Adapted, 44021, true),
            (0, Some("exempted"))
        );
    }

    #[test]
    fn a_language_level_test_is_charged_in_brussels_and_to_the_exempted_too() {
        assert_eq!(
            booking_fee(TestType::LanguageLevel, 21001, false),
            (90_00, None)
        );
        assert_eq!(
            booking_fee(TestType::LanguageLevel, 11002, true),
            (90_00, None)
        );
        assert_eq!(
            booking_fee(TestType::LanguageLevel, 0, false),
            (90_00, None),
            "a non-integrant's residence is not known"
        );
    }
}
