//! gRPC handlers of the testing service.

use chrono::Datelike;
use platform::{
    Principal, Role,
    auth::{AuthError, agency_scope},
};
use proto::{common::v1 as common, testing::v1 as pb};
use sea_orm::{DatabaseConnection, EntityTrait};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{TestingError, store::candidate};

/// The `TestingService` implementation.
#[derive(Debug, Clone)]
pub struct TestingApi {
    db: DatabaseConnection,
}

impl TestingApi {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn agency(alias: &str) -> common::Agency {
    match alias {
        "agii" => common::Agency::Agii,
        "bon" => common::Agency::Bon,
        "atlas" => common::Agency::Atlas,
        "in-gent" => common::Agency::InGent,
        _ => common::Agency::Unspecified,
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
        if !(principal.has(Role::TestAdmin) || principal.has(Role::CaseWorker)) {
            return Err(AuthError::MissingRole(Role::TestAdmin).into());
        }
        let raw = &request.get_ref().person_id;
        let person_id = Uuid::parse_str(raw).map_err(|_| TestingError::InvalidArgument {
            field: "person_id",
            reason: format!("{raw:?} is not a UUID"),
        })?;
        let scope = agency_scope(&principal.organisation);
        let row = candidate::Entity::find_by_id(person_id)
            .one(&self.db)
            .await
            .map_err(TestingError::from)?
            .filter(|c| scope.contains(&c.agency.as_str()))
            .ok_or(TestingError::CandidateNotFound { person_id })?;
        let signed = row.contract_signed_on;
        Ok(Response::new(pb::GetCandidateResponse {
            candidate: Some(pb::Candidate {
                person_id: row.person_id.to_string(),
                trajectory_id: row.trajectory_id.to_string(),
                agency: agency(&row.agency) as i32,
                contract_signed_on: signed.map(|d| common::Date {
                    year: d.year(),
                    month: d.month() as i32,
                    day: d.day() as i32,
                }),
                may_book_nt2: signed.is_some(),
                may_book_mo: signed.is_some(),
                events_applied: row.events_applied,
            }),
        }))
    }
}
