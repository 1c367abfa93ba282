//! The testing domain: test types, sessions and bookings as types that cannot be
//! invalid once parsed. No I/O here.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{TestingError, rules};

/// The standardised tests this service books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestType {
    Nt2A2,
    /// The adapted level for illiterate and low-literate people.
    Nt2A2Adapted,
    Mo,
    /// B1 oral (listening, speaking), for the B1 follow-up after the attest.
    B1Oral,
    /// A language-level test, open to everyone registered, non-integrants included.
    LanguageLevel,
}

impl TestType {
    pub fn as_str(self) -> &'static str {
        match self {
            TestType::Nt2A2 => "nt2-a2",
            TestType::Nt2A2Adapted => "nt2-a2-adapted",
            TestType::Mo => "mo",
            TestType::B1Oral => "b1-oral",
            TestType::LanguageLevel => "language-level",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [
            Self::Nt2A2,
            Self::Nt2A2Adapted,
            Self::Mo,
            Self::B1Oral,
            Self::LanguageLevel,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStatus {
    Booked,
    Cancelled,
    Passed,
    Failed,
    Absent,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Cancelled => "cancelled",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Absent => "absent",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [
            Self::Booked,
            Self::Cancelled,
            Self::Passed,
            Self::Failed,
            Self::Absent,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A session as planned: checked location, start and capacity.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub test_type: TestType,
    pub location: String,
    pub starts_at: DateTime<Utc>,
    pub capacity: i32,
}

impl NewSession {
    /// Checks a plan made at `now`.
    pub fn parse(
        test_type: Option<TestType>,
        location: &str,
        starts_at: Option<DateTime<Utc>>,
        capacity: i32,
        now: DateTime<Utc>,
    ) -> Result<Self, TestingError> {
        let test_type =
            test_type.ok_or_else(|| TestingError::invalid("test_type", "is required"))?;
        let location = location.trim();
        if location.is_empty() {
            return Err(TestingError::invalid("location", "is required"));
        }
        if location.chars().count() > 200 {
            return Err(TestingError::invalid(
                "location",
                "is longer than 200 characters",
            ));
        }
        let starts_at =
            starts_at.ok_or_else(|| TestingError::invalid("starts_at", "is required"))?;
        if starts_at <= now {
            return Err(TestingError::invalid("starts_at", "lies in the past"));
        }
        if !(1..=rules::MAX_SESSION_CAPACITY).contains(&capacity) {
            return Err(TestingError::invalid(
                "capacity",
                format!(
                    "{capacity} is not between 1 and {}",
                    rules::MAX_SESSION_CAPACITY
                ),
            ));
        }
        Ok(Self {
            test_type,
            location: location.to_owned(),
            starts_at,
            capacity,
        })
    }
}

/// What a session listing filters on (the page aside).
#[derive(Debug, Default)]
pub struct SessionFilter {
    pub test_type: Option<TestType>,
    pub location: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub only_with_free_seats: bool,
}

/// Whose fee ledger a listing asks for: one person's, or one agency's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeQuery {
    Person(Uuid),
    /// The stored alias of the agency.
    Agency(&'static str),
}

/// What a candidate may book: NT2 and MO once the contract is signed, B1 oral while
/// on the B1 follow-up list, a language-level test always (DESIGN.md §2–3: language
/// certificates for non-integrants).
pub fn may_book(contract_signed: bool, b1_follow_up_open: bool, test_type: TestType) -> bool {
    match test_type {
        TestType::Nt2A2 | TestType::Nt2A2Adapted | TestType::Mo => contract_signed,
        TestType::B1Oral => b1_follow_up_open,
        TestType::LanguageLevel => true,
    }
}

/// The levels of the Common European Framework of Reference a language-level test
/// certifies.
pub const CEFR_LEVELS: [&str; 6] = ["A1", "A2", "B1", "B2", "C1", "C2"];

/// Checks the level a result records: at most 10 characters; none for an absence; for a
/// passed language-level test a CEFR level, which is what its certificate states.
pub fn level_reached(
    test_type: TestType,
    outcome: BookingStatus,
    level: &str,
) -> Result<Option<String>, TestingError> {
    let level = level.trim();
    if level.chars().count() > 10 {
        return Err(TestingError::invalid(
            "level_reached",
            "is longer than 10 characters",
        ));
    }
    if outcome == BookingStatus::Absent && !level.is_empty() {
        return Err(TestingError::invalid(
            "level_reached",
            "an absent candidate reached no level",
        ));
    }
    if test_type == TestType::LanguageLevel
        && outcome == BookingStatus::Passed
        && !CEFR_LEVELS.contains(&level)
    {
        return Err(TestingError::invalid(
            "level_reached",
            format!(
                "a passed language-level test states a CEFR level ({}), not {level:?}",
                CEFR_LEVELS.join(", ")
            ),
        ));
    }
    Ok(Some(level.to_owned()).filter(|l| !l.is_empty()))
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
        return (rules::TEST_FEE_CENTS, None);
    }
    match rules::fee_exemption(municipality_nis, exempted) {
        Some(reason) => (0, Some(reason)),
        None => (rules::TEST_FEE_CENTS, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_session_needs_a_future_start_and_a_sane_capacity() {
        let now = Utc::now();
        let plan = |start, capacity| {
            NewSession::parse(Some(TestType::Mo), "Gent", Some(start), capacity, now)
        };
        assert!(plan(now + Duration::hours(1), 1).is_ok());
        assert!(plan(now + Duration::hours(1), rules::MAX_SESSION_CAPACITY).is_ok());
        assert!(
            plan(now + Duration::hours(1), 0)
                .unwrap_err()
                .to_string()
                .starts_with("capacity")
        );
        assert!(plan(now + Duration::hours(1), rules::MAX_SESSION_CAPACITY + 1).is_err());
        assert!(
            plan(now, 10)
                .unwrap_err()
                .to_string()
                .starts_with("starts_at")
        );
    }

    #[test]
    fn every_test_type_survives_storage() {
        for t in [
            TestType::Nt2A2,
            TestType::Nt2A2Adapted,
            TestType::Mo,
            TestType::B1Oral,
            TestType::LanguageLevel,
        ] {
            assert_eq!(TestType::from_stored(t.as_str()), Some(t));
        }
    }

    #[test]
    fn nt2_and_mo_need_a_signed_contract_and_b1_the_follow_up() {
        assert!(may_book(true, false, TestType::Nt2A2Adapted));
        assert!(!may_book(false, false, TestType::Mo));
        assert!(
            !may_book(true, false, TestType::B1Oral),
            "B1 only on the follow-up list"
        );
        assert!(may_book(true, true, TestType::B1Oral));
        assert!(
            may_book(false, false, TestType::LanguageLevel),
            "a non-integrant has neither contract nor follow-up"
        );
    }

    #[test]
    fn a_passed_language_level_test_states_a_cefr_level() {
        let lvl = |outcome, level| level_reached(TestType::LanguageLevel, outcome, level);
        assert_eq!(
            lvl(BookingStatus::Passed, " B1 ").unwrap().as_deref(),
            Some("B1")
        );
        assert!(lvl(BookingStatus::Passed, "").is_err());
        assert!(lvl(BookingStatus::Passed, "B3").is_err());
        assert_eq!(lvl(BookingStatus::Failed, "").unwrap(), None);
        assert!(lvl(BookingStatus::Absent, "A1").is_err());
        assert_eq!(
            level_reached(TestType::Nt2A2, BookingStatus::Passed, "").unwrap(),
            None,
            "NT2's level is its test"
        );
    }

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
