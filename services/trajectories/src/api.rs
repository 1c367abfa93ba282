//! gRPC handlers: proto ⇄ domain and nothing more.

use platform::{Principal, clock};
use proto::trajectories::v1::{self as pb, trajectory_service_server::TrajectoryService};
use tonic::{Request, Response, Status};

use crate::{
    TrajectoryError,
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
        let (trajectory, _started) = Trajectory::start(
            person_id,
            municipality,
            status,
            exemption,
            started_on,
            today,
        )?;
        self.store.start(&trajectory).await?;
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
        trajectory.sign_contract(terms)?;
        self.store.save_contract(&trajectory).await?;
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

/// Conversions between proto and domain values, each naming the field it checks.
pub mod convert {
    use chrono::NaiveDate;
    use platform::FieldError;
    use proto::{common::v1 as common, trajectories::v1 as pb};

    use crate::{
        TrajectoryError,
        domain::{
            Component, Contract, ExemptionReason, FeeKind, ObligationStatus, ParticipationWaiver,
            State, Trajectory,
        },
    };

    /// Names longer than this are refused; no civil register holds longer ones.
    const MAX_NAME_CHARS: usize = 200;

    /// A day of a request, `None` when absent. The wire checks it; this service has always
    /// called a day that does not exist "not a calendar date", and still does.
    pub fn day(
        field: &'static str,
        d: Option<&common::Date>,
    ) -> Result<Option<NaiveDate>, FieldError> {
        wire::optional_date(field, d).map_err(|e| {
            let reason = e.reason.replace("is not a date", "is not a calendar date");
            FieldError::new(field, reason)
        })
    }

    /// A required day of a request.
    pub fn required_day(
        field: &'static str,
        d: Option<&common::Date>,
    ) -> Result<NaiveDate, FieldError> {
        day(field, d)?.ok_or_else(|| FieldError::new(field, "is required"))
    }

    pub fn name(field: &'static str, value: &str) -> Result<String, TrajectoryError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(TrajectoryError::invalid(field, "is required"));
        }
        if value.chars().count() > MAX_NAME_CHARS {
            return Err(TrajectoryError::invalid(
                field,
                format!("is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(TrajectoryError::invalid(
                field,
                "contains control characters",
            ));
        }
        Ok(value.to_owned())
    }

    /// An ISO 639 code (2 or 3 lowercase letters); empty is `None`.
    pub fn language(field: &'static str, value: &str) -> Result<Option<String>, TrajectoryError> {
        if value.is_empty() {
            return Ok(None);
        }
        if !(2..=3).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(TrajectoryError::invalid(
                field,
                format!("{value:?} is not an ISO 639 language code such as \"ar\""),
            ));
        }
        Ok(Some(value.to_owned()))
    }

    pub fn status_from(value: i32) -> Result<Option<ObligationStatus>, TrajectoryError> {
        match pb::ObligationStatus::try_from(value) {
            Ok(pb::ObligationStatus::Unspecified) => Ok(None),
            Ok(pb::ObligationStatus::Obliged) => Ok(Some(ObligationStatus::Obliged)),
            Ok(pb::ObligationStatus::Entitled) => Ok(Some(ObligationStatus::Entitled)),
            Ok(pb::ObligationStatus::Voluntary) => Ok(Some(ObligationStatus::Voluntary)),
            Err(_) => Err(TrajectoryError::invalid(
                "status",
                format!("{value} is not an obligation status"),
            )),
        }
    }

    pub fn status(s: ObligationStatus) -> pb::ObligationStatus {
        match s {
            ObligationStatus::Obliged => pb::ObligationStatus::Obliged,
            ObligationStatus::Entitled => pb::ObligationStatus::Entitled,
            ObligationStatus::Voluntary => pb::ObligationStatus::Voluntary,
        }
    }

    pub fn exemption_from(value: i32) -> Result<Option<ExemptionReason>, TrajectoryError> {
        match pb::ExemptionReason::try_from(value) {
            Ok(pb::ExemptionReason::Unspecified) => Ok(None),
            Ok(pb::ExemptionReason::SeriousIllness) => Ok(Some(ExemptionReason::SeriousIllness)),
            Ok(pb::ExemptionReason::MentalDisability) => {
                Ok(Some(ExemptionReason::MentalDisability))
            }
            Ok(pb::ExemptionReason::PhysicalDisability) => {
                Ok(Some(ExemptionReason::PhysicalDisability))
            }
            Err(_) => Err(TrajectoryError::invalid(
                "exemption_reason",
                format!("{value} is not an exemption reason"),
            )),
        }
    }

    pub fn exemption(e: Option<ExemptionReason>) -> pb::ExemptionReason {
        match e {
            None => pb::ExemptionReason::Unspecified,
            Some(ExemptionReason::SeriousIllness) => pb::ExemptionReason::SeriousIllness,
            Some(ExemptionReason::MentalDisability) => pb::ExemptionReason::MentalDisability,
            Some(ExemptionReason::PhysicalDisability) => pb::ExemptionReason::PhysicalDisability,
        }
    }

    pub fn component(c: Component) -> pb::Component {
        match c {
            Component::Nt2 => pb::Component::Nt2,
            Component::Mo => pb::Component::Mo,
            Component::EconomicSelfReliance => pb::Component::EconomicSelfReliance,
            Component::Participation => pb::Component::Participation,
        }
    }

    pub fn deadlines(c: &Contract) -> Vec<pb::ComponentDeadline> {
        c.deadlines()
            .into_iter()
            .map(|(comp, d)| pb::ComponentDeadline {
                component: component(comp) as i32,
                deadline: Some(wire::date(d)),
            })
            .collect()
    }

    fn fee_kind(k: FeeKind) -> pb::FeeKind {
        match k {
            FeeKind::Nt2Course => pb::FeeKind::Nt2Course,
            FeeKind::MoCourse => pb::FeeKind::MoCourse,
        }
    }

    pub fn trajectory(t: &Trajectory) -> pb::Trajectory {
        pb::Trajectory {
            trajectory_id: t.id.to_string(),
            person_id: t.person_id.to_string(),
            municipality_nis: t.municipality.to_string(),
            agency: wire::agency(t.agency()) as i32,
            status: status(t.status) as i32,
            exemption_reason: exemption(t.exemption) as i32,
            started_on: Some(wire::date(t.started_on)),
            contract: t.contract.as_ref().map(|c| pb::Contract {
                signed_on: Some(wire::date(c.signed_on)),
                deadlines: deadlines(c),
                rights_and_duties_clause: c.rights_and_duties_clause,
                fees: c
                    .fees
                    .iter()
                    .map(|f| pb::Fee {
                        kind: fee_kind(f.kind) as i32,
                        amount: Some(common::Money { cents: f.cents }),
                    })
                    .collect(),
                fees_total: Some(common::Money {
                    cents: c.fees_total(),
                }),
            }),
            components: components(t),
            participation_hours: t.progress.participation_hours as i32,
            participation_waiver: match (t.status, t.progress.participation_waiver) {
                (_, Some(ParticipationWaiver::Works)) => pb::ParticipationWaiver::Works,
                (_, Some(ParticipationWaiver::Studies)) => pb::ParticipationWaiver::Studies,
                (ObligationStatus::Voluntary, None) => pb::ParticipationWaiver::Voluntary,
                _ => pb::ParticipationWaiver::Unspecified,
            } as i32,
            attest_issued_on: t.progress.attest_issued_on.map(wire::date),
            state: match t.state {
                State::Active => pb::TrajectoryState::Active,
                State::Suspended { .. } => pb::TrajectoryState::Suspended,
                State::Stopped { .. } => pb::TrajectoryState::Stopped,
            } as i32,
            state_reason: match &t.state {
                State::Active => String::new(),
                State::Suspended { reason, .. } | State::Stopped { reason, .. } => reason.clone(),
            },
            state_since: match &t.state {
                State::Active => None,
                State::Suspended { since, .. } | State::Stopped { since, .. } => {
                    Some(wire::date(*since))
                }
            },
            b1_due_by: t.progress.b1_due_by.map(wire::date),
            b1_closed_on: t.progress.b1_closed_on.map(wire::date),
            effort_declared_on: t
                .progress
                .effort_declaration
                .as_ref()
                .map(|e| wire::date(e.issued_on)),
            effort_grounds: t
                .progress
                .effort_declaration
                .as_ref()
                .map(|e| e.grounds.clone())
                .unwrap_or_default(),
        }
    }

    fn components(t: &Trajectory) -> Vec<pb::ComponentProgress> {
        t.components()
            .into_iter()
            .map(|(c, required, done)| pb::ComponentProgress {
                component: component(c) as i32,
                required,
                completed_on: done.map(wire::date),
            })
            .collect()
    }
}
