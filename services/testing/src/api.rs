//! gRPC handlers of the testing service: proto ⇄ domain and the policy checks.

use chrono::Utc;
use platform::{
    Principal, Role,
    auth::{AuthError, agency_scope},
};
use proto::testing::v1 as pb;
use sea_orm::EntityTrait;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    TestingError,
    bookings::{self, Bookings, SessionFilter},
    convert,
    domain::{BookingStatus, NewSession, TestType, may_book},
    store::{booking, candidate},
};

/// The `TestingService` implementation.
#[derive(Debug, Clone)]
pub struct TestingApi {
    bookings: Bookings,
}

impl TestingApi {
    pub fn new(bookings: Bookings) -> Self {
        Self { bookings }
    }

    /// The candidate, if the caller's agency handles them; otherwise "not known", so that
    /// another agency's people stay invisible.
    async fn candidate(
        &self,
        principal: &Principal,
        person_id: Uuid,
    ) -> Result<candidate::Model, TestingError> {
        let scope = agency_scope(&principal.organisation);
        candidate::Entity::find_by_id(person_id)
            .one(self.bookings.db())
            .await?
            .filter(|c| scope.contains(&c.agency.as_str()))
            .ok_or(TestingError::CandidateNotFound { person_id })
    }

    async fn open_booking(
        &self,
        principal: &Principal,
        raw: &str,
    ) -> Result<booking::Model, TestingError> {
        let booking_id = wire::uuid("booking_id", raw)?;
        let scope = agency_scope(&principal.organisation);
        self.bookings
            .booking(booking_id)
            .await?
            .filter(|b| scope.contains(&b.agency.as_str()))
            .ok_or(TestingError::BookingNotFound { booking_id })
    }
}

/// Case workers and test administrators of an agency may read and book.
fn staff(principal: &Principal) -> Result<(), AuthError> {
    if principal.has(Role::CaseWorker) || principal.has(Role::TestAdmin) {
        Ok(())
    } else {
        Err(AuthError::MissingRole(Role::TestAdmin))
    }
}

#[tonic::async_trait]
impl pb::testing_service_server::TestingService for TestingApi {
    #[tracing::instrument(skip_all, fields(person_id = %request.get_ref().person_id))]
    async fn get_candidate(
        &self,
        request: Request<pb::GetCandidateRequest>,
    ) -> Result<Response<pb::GetCandidateResponse>, Status> {
        let principal = Principal::of(&request)?;
        staff(principal)?;
        let person_id = wire::uuid("person_id", &request.get_ref().person_id)?;
        let row = self.candidate(principal, person_id).await?;
        let signed = row.contract_signed_on;
        Ok(Response::new(pb::GetCandidateResponse {
            candidate: Some(pb::Candidate {
                person_id: row.person_id.to_string(),
                trajectory_id: row.trajectory_id.map(|t| t.to_string()).unwrap_or_default(),
                agency: wire::stored_agency(&row.agency),
                contract_signed_on: signed.map(wire::date),
                may_book_nt2: may_book(signed.is_some(), row.b1_follow_up, TestType::Nt2A2),
                may_book_mo: may_book(signed.is_some(), row.b1_follow_up, TestType::Mo),
                events_applied: row.events_applied,
                may_book_b1_oral: may_book(signed.is_some(), row.b1_follow_up, TestType::B1Oral),
                may_book_language_level: may_book(
                    signed.is_some(),
                    row.b1_follow_up,
                    TestType::LanguageLevel,
                ),
            }),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn plan_session(
        &self,
        request: Request<pb::PlanSessionRequest>,
    ) -> Result<Response<pb::PlanSessionResponse>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Role::TestAdmin)?;
        let req = request.get_ref();
        let new = NewSession::parse(
            convert::test_type_from(req.test_type)?,
            &req.location,
            wire::optional_time("starts_at", req.starts_at.as_ref())?,
            req.capacity,
            Utc::now(),
        )?;
        let row = self
            .bookings
            .plan(new, &principal.organisation.alias)
            .await?;
        tracing::info!(session_id = %row.id, "session planned");
        Ok(Response::new(pb::PlanSessionResponse {
            session: Some(convert::session(&row)?),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let principal = Principal::of(&request)?;
        staff(principal)?;
        let req = request.get_ref();
        let page = wire::page::<Uuid>(req.page.as_ref())?;
        let mut rows = self
            .bookings
            .sessions(SessionFilter {
                test_type: convert::test_type_from(req.test_type)?,
                location: Some(req.location.trim().to_owned()).filter(|l| !l.is_empty()),
                from: wire::optional_time("from", req.from.as_ref())?,
                to: wire::optional_time("to", req.to.as_ref())?,
                only_with_free_seats: req.only_with_free_seats,
                after: page.after,
                limit: page.fetch(),
            })
            .await?;
        let next_page_token = page.finish(&mut rows, |s| s.id);
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: rows
                .iter()
                .map(convert::session)
                .collect::<Result<_, _>>()?,
            page: wire::page_response(next_page_token),
        }))
    }

    #[tracing::instrument(skip_all, fields(session_id = %request.get_ref().session_id, person_id = %request.get_ref().person_id))]
    async fn book_test(
        &self,
        request: Request<pb::BookTestRequest>,
    ) -> Result<Response<pb::BookTestResponse>, Status> {
        let principal = Principal::of(&request)?;
        staff(principal)?;
        let req = request.get_ref();
        let session_id = wire::uuid("session_id", &req.session_id)?;
        let person_id = wire::uuid("person_id", &req.person_id)?;
        let who = self.candidate(principal, person_id).await?;
        let row = self.bookings.book(session_id, &who, Utc::now()).await?;
        tracing::info!(booking_id = %row.id, fee_cents = row.fee_cents, "test booked");
        Ok(Response::new(pb::BookTestResponse {
            booking: Some(convert::booking(&row)?),
        }))
    }

    #[tracing::instrument(skip_all, fields(booking_id = %request.get_ref().booking_id))]
    async fn cancel_booking(
        &self,
        request: Request<pb::CancelBookingRequest>,
    ) -> Result<Response<pb::CancelBookingResponse>, Status> {
        let principal = Principal::of(&request)?;
        staff(principal)?;
        let open = self
            .open_booking(principal, &request.get_ref().booking_id)
            .await?;
        let row = self.bookings.cancel(&open, Utc::now()).await?;
        tracing::info!("booking cancelled");
        Ok(Response::new(pb::CancelBookingResponse {
            booking: Some(convert::booking(&row)?),
        }))
    }

    #[tracing::instrument(skip_all, fields(booking_id = %request.get_ref().booking_id))]
    async fn record_result(
        &self,
        request: Request<pb::RecordResultRequest>,
    ) -> Result<Response<pb::RecordResultResponse>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Role::TestAdmin)?;
        let req = request.get_ref();
        let outcome = match pb::Outcome::try_from(req.outcome) {
            Ok(pb::Outcome::Passed) => BookingStatus::Passed,
            Ok(pb::Outcome::Failed) => BookingStatus::Failed,
            Ok(pb::Outcome::Absent) => BookingStatus::Absent,
            _ => {
                return Err(TestingError::invalid(
                    "outcome",
                    "is required: passed, failed or absent",
                )
                .into());
            }
        };
        let open = self.open_booking(principal, &req.booking_id).await?;
        let test_type = TestType::from_stored(&open.test_type).ok_or_else(|| {
            TestingError::Corrupt(format!("booking {} has an unknown test type", open.id))
        })?;
        let level = crate::domain::level_reached(test_type, outcome, &req.level_reached)?;
        let row = self
            .bookings
            .record(&open, outcome, level, Utc::now())
            .await?;
        tracing::info!(outcome = outcome.as_str(), "result recorded");
        Ok(Response::new(pb::RecordResultResponse {
            booking: Some(convert::booking(&row)?),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_fees(
        &self,
        request: Request<pb::ListFeesRequest>,
    ) -> Result<Response<pb::ListFeesResponse>, Status> {
        let principal = Principal::of(&request)?;
        staff(principal)?;
        let req = request.get_ref();
        let scope = agency_scope(&principal.organisation);
        let lines = match (req.person_id.is_empty(), convert::agency_name(req.agency)?) {
            (false, None) => {
                let person_id = wire::uuid("person_id", &req.person_id)?;
                let who = self.candidate(principal, person_id).await?;
                self.bookings.fees(Some(who.person_id), scope).await?
            }
            (true, Some(agency)) => {
                if !scope.contains(&agency) {
                    return Err(AuthError::Forbidden(format!(
                        "agency {agency} is outside organisation {}",
                        principal.organisation.alias
                    ))
                    .into());
                }
                self.bookings.fees(None, &[agency]).await?
            }
            _ => {
                return Err(TestingError::invalid(
                    "person_id",
                    "give either a person_id or an agency",
                )
                .into());
            }
        };
        Ok(Response::new(pb::ListFeesResponse {
            total: Some(bookings::total(&lines)),
            fees: lines.iter().map(convert::fee).collect(),
        }))
    }
}
