//! `TrajectoryService`: a case worker's requests on persons and trajectories.

use platform::{Principal, clock};
use proto::trajectories::v1::{self as pb, trajectory_service_server::TrajectoryService};
use tonic::{Request, Response, Status};

use crate::{
    TrajectoryError,
    casework::{Casework, Listing, Start},
    convert,
    domain::ContractTerms,
    policy,
    store::NewPerson,
};

/// The `TrajectoryService` implementation.
#[derive(Debug, Clone)]
pub struct TrajectoryApi {
    cases: Casework,
}

impl TrajectoryApi {
    pub fn new(cases: Casework) -> Self {
        Self { cases }
    }
}

fn new_person(
    req: &pb::RegisterPersonRequest,
    principal: &Principal,
) -> Result<NewPerson, TrajectoryError> {
    Ok(NewPerson {
        national_number: wire::national_number("national_number", &req.national_number)?,
        given_name: convert::name("given_name", &req.given_name)?,
        family_name: convert::name("family_name", &req.family_name)?,
        mother_tongue: convert::language("mother_tongue", &req.mother_tongue)?
            .ok_or_else(|| TrajectoryError::invalid("mother_tongue", "is required"))?,
        contact_language: convert::language("contact_language", &req.contact_language)?,
        registered_by: principal.organisation.alias.clone(),
    })
}

fn start(req: &pb::StartTrajectoryRequest) -> Result<Start, TrajectoryError> {
    Ok(Start {
        status: convert::status_from(req.status)?.ok_or_else(|| {
            TrajectoryError::invalid("status", "is required (obliged, entitled or voluntary)")
        })?,
        exemption: convert::exemption_from(req.exemption_reason)?,
        started_on: convert::required_day("started_on", req.started_on.as_ref())?,
    })
}

fn contract_terms(req: &pb::SignContractRequest) -> Result<ContractTerms, TrajectoryError> {
    Ok(ContractTerms {
        signed_on: convert::required_day("signed_on", req.signed_on.as_ref())?,
        rights_and_duties_accepted: req.rights_and_duties_accepted,
        nt2_deadline: convert::day("nt2_deadline", req.nt2_deadline.as_ref())?,
        mo_deadline: convert::day("mo_deadline", req.mo_deadline.as_ref())?,
        participation_deadline: convert::day(
            "participation_deadline",
            req.participation_deadline.as_ref(),
        )?,
    })
}

fn listing(req: &pb::ListTrajectoriesRequest) -> Result<Listing, TrajectoryError> {
    Ok(Listing {
        agency: wire::agency_from("agency", req.agency)?,
        page: wire::page(req.page.as_ref())?,
        municipality_nis: req.municipality_nis.clone(),
        status: convert::status_from(req.status)?,
    })
}

/// The view of `t` every trajectory response carries.
fn view(t: &crate::domain::Trajectory) -> Option<pb::Trajectory> {
    Some(convert::trajectory(t))
}

#[tonic::async_trait]
impl TrajectoryService for TrajectoryApi {
    #[tracing::instrument(skip_all, fields(person_id))]
    async fn register_person(
        &self,
        request: Request<pb::RegisterPersonRequest>,
    ) -> Result<Response<pb::RegisterPersonResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::require_registrar(principal)?;
        let new = new_person(request.get_ref(), principal)?;
        let (person_id, created) = self.cases.register_person(new).await?;
        tracing::Span::current().record("person_id", person_id.to_string());
        tracing::info!(created, "person registered");
        Ok(Response::new(pb::RegisterPersonResponse {
            person_id: person_id.to_string(),
            created,
        }))
    }

    #[tracing::instrument(skip_all, fields(person_id, trajectory_id))]
    async fn start_trajectory(
        &self,
        request: Request<pb::StartTrajectoryRequest>,
    ) -> Result<Response<pb::StartTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let person_id = wire::uuid("person_id", &req.person_id)?;
        tracing::Span::current().record("person_id", person_id.to_string());
        let municipality = self.cases.municipality(&req.municipality_nis).await?;
        let start = start(req)?;
        let trajectory = (self.cases)
            .start(principal, person_id, municipality, start)
            .await?;
        tracing::Span::current().record("trajectory_id", trajectory.id.to_string());
        tracing::info!(agency = trajectory.agency().as_str(), "trajectory started");
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::StartTrajectoryResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn sign_contract(
        &self,
        request: Request<pb::SignContractRequest>,
    ) -> Result<Response<pb::SignContractResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let terms = contract_terms(req)?;
        let trajectory = (self.cases)
            .sign_contract(principal, &req.trajectory_id, terms)
            .await?;
        tracing::info!("contract signed");
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::SignContractResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn get_trajectory(
        &self,
        request: Request<pb::GetTrajectoryRequest>,
    ) -> Result<Response<pb::GetTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let id = &request.get_ref().trajectory_id;
        let trajectory = view(&self.cases.visible(principal, id).await?);
        Ok(Response::new(pb::GetTrajectoryResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn record_vdab_registration(
        &self,
        request: Request<pb::RecordVdabRegistrationRequest>,
    ) -> Result<Response<pb::RecordVdabRegistrationResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let registered_on = convert::required_day("registered_on", req.registered_on.as_ref())?;
        let trajectory = (self.cases)
            .progress(principal, &req.trajectory_id, |t| {
                t.record_vdab_registration(registered_on, clock::today())
            })
            .await?;
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::RecordVdabRegistrationResponse {
            trajectory,
        }))
    }

    /// Participation hours moved to the municipalities service, which logs them per
    /// placement and publishes `ParticipationCompleted` at 40 hours; trajectories applies
    /// that. Kept for one release so that old clients learn where to go.
    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn log_participation(
        &self,
        request: Request<pb::LogParticipationRequest>,
    ) -> Result<Response<pb::LogParticipationResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::case_worker_scope(principal)?;
        Err(TrajectoryError::ParticipationMoved.into())
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn waive_participation(
        &self,
        request: Request<pb::WaiveParticipationRequest>,
    ) -> Result<Response<pb::WaiveParticipationResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let waiver = convert::waiver(req.waiver)?;
        let trajectory = (self.cases)
            .progress(principal, &req.trajectory_id, |t| {
                t.waive_participation(waiver, clock::today())
            })
            .await?;
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::WaiveParticipationResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn suspend_trajectory(
        &self,
        request: Request<pb::SuspendTrajectoryRequest>,
    ) -> Result<Response<pb::SuspendTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("suspended_on", req.suspended_on.as_ref())?;
        let trajectory = (self.cases)
            .progress(principal, &req.trajectory_id, |t| {
                t.suspend(&req.reason, on, clock::today())
            })
            .await?;
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::SuspendTrajectoryResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn resume_trajectory(
        &self,
        request: Request<pb::ResumeTrajectoryRequest>,
    ) -> Result<Response<pb::ResumeTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("resumed_on", req.resumed_on.as_ref())?;
        let trajectory = (self.cases)
            .progress(principal, &req.trajectory_id, |t| {
                t.resume(on, clock::today())
            })
            .await?;
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::ResumeTrajectoryResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn stop_trajectory(
        &self,
        request: Request<pb::StopTrajectoryRequest>,
    ) -> Result<Response<pb::StopTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("stopped_on", req.stopped_on.as_ref())?;
        let trajectory = (self.cases)
            .progress(principal, &req.trajectory_id, |t| {
                t.stop(&req.reason, on, clock::today())
            })
            .await?;
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::StopTrajectoryResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(person_id = %request.get_ref().person_id))]
    async fn get_dvz_advice(
        &self,
        request: Request<pb::GetDvzAdviceRequest>,
    ) -> Result<Response<pb::GetDvzAdviceResponse>, Status> {
        let principal = Principal::of(&request)?;
        let person_id = wire::uuid("person_id", &request.get_ref().person_id)?;
        let trajectory = self.cases.of_person(principal, person_id).await?;
        tracing::info!("DVZ advice produced");
        let advice = Some(convert::dvz_advice(&trajectory, clock::today()));
        Ok(Response::new(pb::GetDvzAdviceResponse { advice }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn declare_effort(
        &self,
        request: Request<pb::DeclareEffortRequest>,
    ) -> Result<Response<pb::DeclareEffortResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("issued_on", req.issued_on.as_ref())?;
        let trajectory = (self.cases)
            .progress(principal, &req.trajectory_id, |t| {
                t.declare_effort(&req.grounds, on, clock::today())
            })
            .await?;
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::DeclareEffortResponse { trajectory }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn record_activity(
        &self,
        request: Request<pb::RecordActivityRequest>,
    ) -> Result<Response<pb::RecordActivityResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        convert::require_activity_kind(req.kind)?;
        let from = convert::required_day("from", req.from.as_ref())?;
        let to = convert::required_day("to", req.to.as_ref())?;
        let trajectory = (self.cases)
            .progress(principal, &req.trajectory_id, |t| {
                t.record_activity(from, to, clock::today())
            })
            .await?;
        let trajectory = view(&trajectory);
        Ok(Response::new(pb::RecordActivityResponse { trajectory }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_b1_follow_up_due(
        &self,
        request: Request<pb::ListB1FollowUpDueRequest>,
    ) -> Result<Response<pb::ListB1FollowUpDueResponse>, Status> {
        let principal = Principal::of(&request)?;
        let scope = policy::case_worker_scope(principal)?;
        let page = wire::page(request.get_ref().page.as_ref())?;
        let (rows, next_page_token) = self.cases.b1_due(&scope, page).await?;
        Ok(Response::new(pb::ListB1FollowUpDueResponse {
            trajectories: rows.iter().map(convert::trajectory).collect(),
            page: wire::page_response(next_page_token),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_trajectories(
        &self,
        request: Request<pb::ListTrajectoriesRequest>,
    ) -> Result<Response<pb::ListTrajectoriesResponse>, Status> {
        let principal = Principal::of(&request)?;
        let scope = policy::case_worker_scope(principal)?;
        let listing = listing(request.get_ref())?;
        let (rows, next_page_token) = self.cases.list(principal, scope, listing).await?;
        Ok(Response::new(pb::ListTrajectoriesResponse {
            trajectories: rows.iter().map(convert::trajectory).collect(),
            page: wire::page_response(next_page_token),
        }))
    }
}
