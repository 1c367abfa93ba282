//! The testing domain: test types, sessions and bookings as types that cannot be
//! invalid once parsed. No I/O here.

use chrono::{DateTime, Utc};

use crate::{TestingError, rules};

/// The standardised tests this service books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestType {
    Nt2A2,
    /// The adapted level for illiterate and low-literate people.
    Nt2A2Adapted,
    Mo,
}

impl TestType {
    pub fn as_str(self) -> &'static str {
        match self {
            TestType::Nt2A2 => "nt2-a2",
            TestType::Nt2A2Adapted => "nt2-a2-adapted",
            TestType::Mo => "mo",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Self::Nt2A2, Self::Nt2A2Adapted, Self::Mo]
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

/// What a candidate may book: NT2 and MO once the contract is signed (DESIGN.md §3).
pub fn may_book(contract_signed: bool, test_type: TestType) -> bool {
    match test_type {
        TestType::Nt2A2 | TestType::Nt2A2Adapted | TestType::Mo => contract_signed,
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
    fn nt2_and_mo_need_a_signed_contract() {
        assert!(may_book(true, TestType::Nt2A2Adapted));
        assert!(!may_book(false, TestType::Mo));
    }
}
