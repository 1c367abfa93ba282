//! Proto ⇄ stored values of the testing service's own messages, in one place: the API
//! and the events both use it. Shared conversions (UUIDs, times, agencies, pages) are
//! `wire`'s.

use chrono::{DateTime, Utc};
use platform::Agency;
use proto::{common::v1 as common, testing::v1 as pb};
use wire::timestamp;

use crate::{
    TestingError,
    domain::{BookingStatus, FeeQuery, NewSession, SessionFilter, TestType, may_book},
    store::{booking, candidate, fee, imported_result, session},
};

/// A session as a request plans it at `now`.
pub fn new_session(
    req: &pb::PlanSessionRequest,
    now: DateTime<Utc>,
) -> Result<NewSession, TestingError> {
    NewSession::parse(
        test_type_from(req.test_type)?,
        &req.location,
        wire::optional_time("starts_at", req.starts_at.as_ref())?,
        req.capacity,
        now,
    )
}

/// The filters of a session listing.
pub fn session_filter(req: &pb::ListSessionsRequest) -> Result<SessionFilter, TestingError> {
    Ok(SessionFilter {
        test_type: test_type_from(req.test_type)?,
        location: Some(req.location.trim().to_owned()).filter(|l| !l.is_empty()),
        from: wire::optional_time("from", req.from.as_ref())?,
        to: wire::optional_time("to", req.to.as_ref())?,
        only_with_free_seats: req.only_with_free_seats,
    })
}

/// The outcome a result records: passed, failed or absent.
pub fn outcome_from(value: i32) -> Result<BookingStatus, TestingError> {
    match pb::Outcome::try_from(value) {
        Ok(pb::Outcome::Passed) => Ok(BookingStatus::Passed),
        Ok(pb::Outcome::Failed) => Ok(BookingStatus::Failed),
        Ok(pb::Outcome::Absent) => Ok(BookingStatus::Absent),
        _ => Err(TestingError::invalid(
            "outcome",
            "is required: passed, failed or absent",
        )),
    }
}

/// Whose ledger a fee listing asks for: a `person_id` or an `agency`, not both.
pub fn fee_query(req: &pb::ListFeesRequest) -> Result<FeeQuery, TestingError> {
    match (req.person_id.is_empty(), agency_name(req.agency)?) {
        (false, None) => Ok(FeeQuery::Person(wire::uuid("person_id", &req.person_id)?)),
        (true, Some(agency)) => Ok(FeeQuery::Agency(agency)),
        _ => Err(TestingError::invalid(
            "person_id",
            "give either a person_id or an agency",
        )),
    }
}

/// A candidate and what they may book.
pub fn candidate(row: &candidate::Model) -> pb::Candidate {
    let signed = row.contract_signed_on;
    let may = |t| may_book(signed.is_some(), row.b1_follow_up, t);
    pb::Candidate {
        person_id: row.person_id.to_string(),
        trajectory_id: row.trajectory_id.map(|t| t.to_string()).unwrap_or_default(),
        agency: wire::stored_agency(&row.agency),
        contract_signed_on: signed.map(wire::date),
        may_book_nt2: may(TestType::Nt2A2),
        may_book_mo: may(TestType::Mo),
        events_applied: row.events_applied,
        may_book_b1_oral: may(TestType::B1Oral),
        may_book_language_level: may(TestType::LanguageLevel),
    }
}

/// One page of sessions.
pub fn sessions(
    rows: &[session::Model],
    next_page_token: String,
) -> Result<pb::ListSessionsResponse, TestingError> {
    Ok(pb::ListSessionsResponse {
        sessions: rows.iter().map(session).collect::<Result<_, _>>()?,
        page: wire::page_response(next_page_token),
    })
}

/// Ledger lines and their total.
pub fn fees(lines: &[fee::Model]) -> pb::ListFeesResponse {
    pb::ListFeesResponse {
        total: Some(common::Money {
            cents: lines.iter().map(|l| l.amount_cents).sum(),
        }),
        fees: lines.iter().map(fee).collect(),
    }
}

pub fn test_type_from(value: i32) -> Result<Option<TestType>, TestingError> {
    match pb::TestType::try_from(value) {
        Ok(pb::TestType::Unspecified) => Ok(None),
        Ok(pb::TestType::Nt2A2) => Ok(Some(TestType::Nt2A2)),
        Ok(pb::TestType::Nt2A2Adapted) => Ok(Some(TestType::Nt2A2Adapted)),
        Ok(pb::TestType::Mo) => Ok(Some(TestType::Mo)),
        Ok(pb::TestType::B1Oral) => Ok(Some(TestType::B1Oral)),
        Ok(pb::TestType::LanguageLevel) => Ok(Some(TestType::LanguageLevel)),
        Err(_) => Err(TestingError::invalid(
            "test_type",
            format!("{value} is not a test type"),
        )),
    }
}

fn test_type(t: TestType) -> pb::TestType {
    match t {
        TestType::Nt2A2 => pb::TestType::Nt2A2,
        TestType::Nt2A2Adapted => pb::TestType::Nt2A2Adapted,
        TestType::Mo => pb::TestType::Mo,
        TestType::B1Oral => pb::TestType::B1Oral,
        TestType::LanguageLevel => pb::TestType::LanguageLevel,
    }
}

fn stored_test_type(s: &str) -> Result<pb::TestType, TestingError> {
    TestType::from_stored(s)
        .map(test_type)
        .ok_or_else(|| TestingError::Corrupt(format!("unknown test type {s:?}")))
}

/// The stored alias of a requested agency; `None` when unset.
fn agency_name(value: i32) -> Result<Option<&'static str>, TestingError> {
    Ok(wire::agency_from("agency", value)?.map(Agency::as_str))
}

pub fn outcome(status: BookingStatus) -> pb::Outcome {
    match status {
        BookingStatus::Passed => pb::Outcome::Passed,
        BookingStatus::Failed => pb::Outcome::Failed,
        BookingStatus::Absent => pb::Outcome::Absent,
        BookingStatus::Booked | BookingStatus::Cancelled => pb::Outcome::Unspecified,
    }
}

fn status(s: BookingStatus) -> pb::BookingStatus {
    match s {
        BookingStatus::Booked => pb::BookingStatus::Booked,
        BookingStatus::Cancelled => pb::BookingStatus::Cancelled,
        BookingStatus::Passed => pb::BookingStatus::Passed,
        BookingStatus::Failed => pb::BookingStatus::Failed,
        BookingStatus::Absent => pb::BookingStatus::Absent,
    }
}

pub fn session(s: &session::Model) -> Result<pb::Session, TestingError> {
    Ok(pb::Session {
        session_id: s.id.to_string(),
        test_type: stored_test_type(&s.test_type)? as i32,
        location: s.location.clone(),
        starts_at: Some(timestamp(s.starts_at)),
        capacity: s.capacity,
        booked: s.booked,
        free_seats: s.capacity - s.booked,
    })
}

pub fn booking(b: &booking::Model) -> Result<pb::Booking, TestingError> {
    let current = BookingStatus::from_stored(&b.status).ok_or_else(|| {
        TestingError::Corrupt(format!("booking {} has status {:?}", b.id, b.status))
    })?;
    Ok(pb::Booking {
        booking_id: b.id.to_string(),
        session_id: b.session_id.to_string(),
        person_id: b.person_id.to_string(),
        test_type: stored_test_type(&b.test_type)? as i32,
        status: status(current) as i32,
        fee: Some(common::Money { cents: b.fee_cents }),
        level_reached: b.level_reached.clone().unwrap_or_default(),
    })
}

pub fn fee(f: &fee::Model) -> pb::FeeLine {
    pb::FeeLine {
        fee_id: f.id.to_string(),
        person_id: f.person_id.to_string(),
        booking_id: f.booking_id.to_string(),
        agency: wire::stored_agency(&f.agency),
        amount: Some(common::Money {
            cents: f.amount_cents,
        }),
        reason: f.reason.clone().unwrap_or_default(),
        charged_at: Some(timestamp(f.charged_at)),
    }
}

/// The `TestResultRecorded` of an imported result: its booking is the result itself (no
/// session, no fee), and the session "started" at noon UTC on the day the test was taken,
/// which is that day in Belgium too.
pub fn imported_result(r: &imported_result::Model) -> Result<pb::TestResultRecorded, TestingError> {
    let result = BookingStatus::from_stored(&r.outcome)
        .filter(|o| outcome(*o) != pb::Outcome::Unspecified)
        .ok_or_else(|| {
            TestingError::Corrupt(format!(
                "imported result {} has outcome {:?}",
                r.id, r.outcome
            ))
        })?;
    let noon = r
        .taken_on
        .and_hms_opt(12, 0, 0)
        .expect("noon exists on every day")
        .and_utc();
    Ok(pb::TestResultRecorded {
        booking: Some(pb::Booking {
            booking_id: r.id.to_string(),
            session_id: String::new(),
            person_id: r.person_id.to_string(),
            test_type: stored_test_type(&r.test_type)? as i32,
            status: status(result) as i32,
            fee: Some(common::Money { cents: 0 }),
            level_reached: r.level_reached.clone().unwrap_or_default(),
        }),
        trajectory_id: r.trajectory_id.to_string(),
        outcome: outcome(result) as i32,
        session_starts_at: Some(timestamp(noon)),
    })
}
