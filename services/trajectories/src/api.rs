//! gRPC handlers: proto ⇄ domain and nothing more.

use platform::{Principal, clock};
use proto::trajectories::v1::{self as pb, trajectory_service_server::TrajectoryService};
use tonic::{Request, Response, Status};

use crate::{
    TrajectoryError, convert,
    domain::{ContractTerms, ParticipationWaiver, Trajectory, TrajectoryEvent},
    policy,
    store::{ListFilter, NewPerson, Store},
};

/// The `TrajectoryService` implementation.
#[derive(Debug, Clone)]
pub struct TrajectoryApi {
    store: Store,
}

impl TrajectoryApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Loads a trajectory the caller may see; one of another agency is "not found", so
    /// that its existence does not leak.
    async fn visible(
        &self,
        principal: &Principal,
        field: &'static str,
        id: &str,
    ) -> Result<Trajectory, TrajectoryError> {
        let trajectory_id = wire::uuid(field, id)?;
        let scope = policy::case_worker_scope(principal)?;
        match self.store.load(trajectory_id).await? {
            Some(t) if scope.contains(&t.agency()) => Ok(t),
            _ => Err(TrajectoryError::TrajectoryNotFound { trajectory_id }),
        }
    }
}

impl TrajectoryApi {
    /// Loads a visible trajectory, applies `change`, and saves progress with its events.
    async fn progress(
        &self,
        principal: &Principal,
        id: &str,
        change: impl FnOnce(&mut Trajectory) -> Result<Vec<TrajectoryEvent>, TrajectoryError>,
    ) -> Result<Trajectory, TrajectoryError> {
        let mut trajectory = self.visible(principal, "trajectory_id", id).await?;
        let events = change(&mut trajectory)?;
        let saved = self.store.save_progress(&mut trajectory, events).await?;
        tracing::info!(events = saved, "progress recorded");
        Ok(trajectory)
    }
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
        let req = request.get_ref();
        let new = NewPerson {
            national_number: wire::national_number("national_number", &req.national_number)?,
            given_name: convert::name("given_name", &req.given_name)?,
            family_name: convert::name("family_name", &req.family_name)?,
            mother_tongue: convert::language("mother_tongue", &req.mother_tongue)?
                .ok_or_else(|| TrajectoryError::invalid("mother_tongue", "is required"))?,
            contact_language: convert::language("contact_language", &req.contact_language)?,
            registered_by: principal.organisation.alias.clone(),
        };
        let (person_id, created) = self.store.register_person(new).await?;
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
        let municipality = self.store.municipality(&req.municipality_nis).await?;
        let status = convert::status_from(req.status)?.ok_or_else(|| {
            TrajectoryError::invalid("status", "is required (obliged, entitled or voluntary)")
        })?;
        let exemption = convert::exemption_from(req.exemption_reason)?;
        let started_on = convert::required_day("started_on", req.started_on.as_ref())?;
        if !policy::may_handle(principal, municipality.agency)? {
            return Err(platform::auth::AuthError::Forbidden(format!(
                "municipality {municipality} falls under {}, not {}",
                municipality.agency.as_str(),
                principal.organisation.alias
            ))
            .into());
        }
        if !self
            .store
            .person_exists(person_id)
            .await
            .map_err(Status::from)?
        {
            return Err(TrajectoryError::PersonNotFound { person_id }.into());
        }
        let today = clock::today();
        let (trajectory, started) = Trajectory::start(
            person_id,
            municipality,
            status,
            exemption,
            started_on,
            today,
        )?;
        self.store.start(&trajectory, &[started]).await?;
        tracing::Span::current().record("trajectory_id", trajectory.id.to_string());
        tracing::info!(agency = trajectory.agency().as_str(), "trajectory started");
        Ok(Response::new(pb::StartTrajectoryResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn sign_contract(
        &self,
        request: Request<pb::SignContractRequest>,
    ) -> Result<Response<pb::SignContractResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let terms = ContractTerms {
            signed_on: convert::required_day("signed_on", req.signed_on.as_ref())?,
            rights_and_duties_accepted: req.rights_and_duties_accepted,
            nt2_deadline: convert::day("nt2_deadline", req.nt2_deadline.as_ref())?,
            mo_deadline: convert::day("mo_deadline", req.mo_deadline.as_ref())?,
            participation_deadline: convert::day(
                "participation_deadline",
                req.participation_deadline.as_ref(),
            )?,
        };
        let mut trajectory = self
            .visible(principal, "trajectory_id", &req.trajectory_id)
            .await?;
        let events = trajectory.sign_contract(terms)?;
        self.store.save_contract(&trajectory, &events).await?;
        tracing::info!("contract signed");
        Ok(Response::new(pb::SignContractResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn get_trajectory(
        &self,
        request: Request<pb::GetTrajectoryRequest>,
    ) -> Result<Response<pb::GetTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let trajectory = self
            .visible(principal, "trajectory_id", &request.get_ref().trajectory_id)
            .await?;
        Ok(Response::new(pb::GetTrajectoryResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn record_vdab_registration(
        &self,
        request: Request<pb::RecordVdabRegistrationRequest>,
    ) -> Result<Response<pb::RecordVdabRegistrationResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let registered_on = convert::required_day("registered_on", req.registered_on.as_ref())?;
        let trajectory = self
            .progress(principal, &req.trajectory_id, |t| {
                t.record_vdab_registration(registered_on, clock::today())
            })
            .await?;
        Ok(Response::new(pb::RecordVdabRegistrationResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
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
        let waiver = match pb::ParticipationWaiver::try_from(req.waiver) {
            Ok(pb::ParticipationWaiver::Works) => ParticipationWaiver::Works,
            Ok(pb::ParticipationWaiver::Studies) => ParticipationWaiver::Studies,
            Ok(pb::ParticipationWaiver::Voluntary) => {
                return Err(TrajectoryError::invalid(
                    "waiver",
                    "a voluntary trajectory is waived by its status, not by a waiver",
                )
                .into());
            }
            _ => {
                return Err(
                    TrajectoryError::invalid("waiver", "is required: works or studies").into(),
                );
            }
        };
        let trajectory = self
            .progress(principal, &req.trajectory_id, |t| {
                t.waive_participation(waiver, clock::today())
            })
            .await?;
        Ok(Response::new(pb::WaiveParticipationResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn suspend_trajectory(
        &self,
        request: Request<pb::SuspendTrajectoryRequest>,
    ) -> Result<Response<pb::SuspendTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("suspended_on", req.suspended_on.as_ref())?;
        let trajectory = self
            .progress(principal, &req.trajectory_id, |t| {
                t.suspend(&req.reason, on, clock::today())
            })
            .await?;
        Ok(Response::new(pb::SuspendTrajectoryResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn resume_trajectory(
        &self,
        request: Request<pb::ResumeTrajectoryRequest>,
    ) -> Result<Response<pb::ResumeTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("resumed_on", req.resumed_on.as_ref())?;
        let trajectory = self
            .progress(principal, &req.trajectory_id, |t| {
                t.resume(on, clock::today())
            })
            .await?;
        Ok(Response::new(pb::ResumeTrajectoryResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn stop_trajectory(
        &self,
        request: Request<pb::StopTrajectoryRequest>,
    ) -> Result<Response<pb::StopTrajectoryResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("stopped_on", req.stopped_on.as_ref())?;
        let trajectory = self
            .progress(principal, &req.trajectory_id, |t| {
                t.stop(&req.reason, on, clock::today())
            })
            .await?;
        Ok(Response::new(pb::StopTrajectoryResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(person_id = %request.get_ref().person_id))]
    async fn get_dvz_advice(
        &self,
        request: Request<pb::GetDvzAdviceRequest>,
    ) -> Result<Response<pb::GetDvzAdviceResponse>, Status> {
        let principal = Principal::of(&request)?;
        let person_id = wire::uuid("person_id", &request.get_ref().person_id)?;
        let scope = policy::case_worker_scope(principal)?;
        let not_found = || TrajectoryError::NoTrajectory { person_id };
        let trajectory_id = self
            .store
            .trajectory_of(person_id)
            .await?
            .ok_or_else(not_found)?;
        let t = match self.store.load(trajectory_id).await? {
            Some(t) if scope.contains(&t.agency()) => t,
            _ => return Err(not_found().into()),
        };
        let view = convert::trajectory(&t);
        tracing::info!("DVZ advice produced");
        Ok(Response::new(pb::GetDvzAdviceResponse {
            advice: Some(pb::DvzAdvice {
                person_id: view.person_id,
                trajectory_id: view.trajectory_id,
                agency: view.agency,
                status: view.status,
                started_on: view.started_on,
                contract_signed_on: view.contract.and_then(|c| c.signed_on),
                components: view.components,
                attest_issued_on: view.attest_issued_on,
                state: view.state,
                produced_on: Some(wire::date(clock::today())),
                effort_declared_on: view.effort_declared_on,
            }),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn declare_effort(
        &self,
        request: Request<pb::DeclareEffortRequest>,
    ) -> Result<Response<pb::DeclareEffortResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let on = convert::required_day("issued_on", req.issued_on.as_ref())?;
        let trajectory = self
            .progress(principal, &req.trajectory_id, |t| {
                t.declare_effort(&req.grounds, on, clock::today())
            })
            .await?;
        Ok(Response::new(pb::DeclareEffortResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all, fields(trajectory_id = %request.get_ref().trajectory_id))]
    async fn record_activity(
        &self,
        request: Request<pb::RecordActivityRequest>,
    ) -> Result<Response<pb::RecordActivityResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        if matches!(
            pb::ActivityKind::try_from(req.kind),
            Ok(pb::ActivityKind::Unspecified) | Err(_)
        ) {
            return Err(
                TrajectoryError::invalid("kind", "is required: work, study or training").into(),
            );
        }
        let from = convert::required_day("from", req.from.as_ref())?;
        let to = convert::required_day("to", req.to.as_ref())?;
        let trajectory = self
            .progress(principal, &req.trajectory_id, |t| {
                t.record_activity(from, to, clock::today())
            })
            .await?;
        Ok(Response::new(pb::RecordActivityResponse {
            trajectory: Some(convert::trajectory(&trajectory)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_b1_follow_up_due(
        &self,
        request: Request<pb::ListB1FollowUpDueRequest>,
    ) -> Result<Response<pb::ListB1FollowUpDueResponse>, Status> {
        let principal = Principal::of(&request)?;
        let scope = policy::case_worker_scope(principal)?;
        let page = wire::page(request.get_ref().page.as_ref())?;
        let mut rows = self.store.b1_due(&scope, page.after, page.fetch()).await?;
        let next_page_token = page.finish(&mut rows, |t| t.id);
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
        let req = request.get_ref();
        let mut agencies = policy::case_worker_scope(principal)?;
        if let Some(wanted) = wire::agency_from("agency", req.agency)? {
            if !agencies.contains(&wanted) {
                return Err(platform::auth::AuthError::Forbidden(format!(
                    "agency {} is outside organisation {}",
                    wanted.as_str(),
                    principal.organisation.alias
                ))
                .into());
            }
            agencies = vec![wanted];
        }
        let page = wire::page(req.page.as_ref())?;
        let municipality = if req.municipality_nis.is_empty() {
            None
        } else {
            Some(self.store.municipality(&req.municipality_nis).await?)
        };
        // One more than the page tells whether another page follows.
        let mut rows = self
            .store
            .list(ListFilter {
                agencies,
                status: convert::status_from(req.status)?,
                municipality,
                after: page.after,
                limit: page.fetch(),
            })
            .await?;
        let next_page_token = page.finish(&mut rows, |t| t.id);
        Ok(Response::new(pb::ListTrajectoriesResponse {
            trajectories: rows.iter().map(convert::trajectory).collect(),
            page: wire::page_response(next_page_token),
        }))
    }
}
