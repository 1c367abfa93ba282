//! gRPC handlers of the testing service: each parses (through [`convert`] and `wire`),
//! asks [`policy`], makes one call on [`Bookings`] and converts back.

use chrono::Utc;
use platform::{Principal, Role};
use proto::testing::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{bookings::Bookings, convert, policy};

/// The `TestingService` implementation.
#[derive(Debug, Clone)]
pub struct TestingApi {
    bookings: Bookings,
}

impl TestingApi {
    pub fn new(bookings: Bookings) -> Self {
        Self { bookings }
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
        policy::staff(principal)?;
        let person_id = wire::uuid("person_id", &request.get_ref().person_id)?;
        let scope = policy::scope(principal);
        let row = self.bookings.candidate(person_id, scope).await?;
        Ok(Response::new(pb::GetCandidateResponse {
            candidate: Some(convert::candidate(&row)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn plan_session(
        &self,
        request: Request<pb::PlanSessionRequest>,
    ) -> Result<Response<pb::PlanSessionResponse>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Role::TestAdmin)?;
        let new = convert::new_session(request.get_ref(), Utc::now())?;
        let planned_by = &principal.organisation.alias;
        let row = self.bookings.plan(new, planned_by).await?;
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
        policy::staff(principal)?;
        let req = request.get_ref();
        let page = wire::page::<Uuid>(req.page.as_ref())?;
        let filter = convert::session_filter(req)?;
        let (rows, next_page_token) = self.bookings.sessions(filter, page).await?;
        Ok(Response::new(convert::sessions(&rows, next_page_token)?))
    }

    #[tracing::instrument(skip_all, fields(session_id = %request.get_ref().session_id, person_id = %request.get_ref().person_id))]
    async fn book_test(
        &self,
        request: Request<pb::BookTestRequest>,
    ) -> Result<Response<pb::BookTestResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let req = request.get_ref();
        let session_id = wire::uuid("session_id", &req.session_id)?;
        let person_id = wire::uuid("person_id", &req.person_id)?;
        let scope = policy::scope(principal);
        let row = self
            .bookings
            .book(session_id, person_id, scope, Utc::now())
            .await?;
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
        policy::staff(principal)?;
        let booking_id = wire::uuid("booking_id", &request.get_ref().booking_id)?;
        let scope = policy::scope(principal);
        let row = self.bookings.cancel(booking_id, scope, Utc::now()).await?;
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
        let outcome = convert::outcome_from(req.outcome)?;
        let booking_id = wire::uuid("booking_id", &req.booking_id)?;
        let (scope, level, now) = (policy::scope(principal), &req.level_reached, Utc::now());
        let row = self
            .bookings
            .record(booking_id, scope, outcome, level, now)
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
        policy::staff(principal)?;
        let query = convert::fee_query(request.get_ref())?;
        policy::require_fees(principal, &query)?;
        let lines = self
            .bookings
            .ledger(query, policy::scope(principal))
            .await?;
        Ok(Response::new(convert::fees(&lines)))
    }
}
