//! What a case worker does with trajectories, behind `TrajectoryService`: each operation
//! asks `policy`, loads through the store, lets the domain decide, and saves the state
//! with exactly the events the domain returned.

use chrono::NaiveDate;
use platform::{Agency, Principal, auth::AuthError, clock, paging::Page};
use uuid::Uuid;

use crate::{
    TrajectoryError,
    domain::{
        ContractTerms, ExemptionReason, Municipality, ObligationStatus, Trajectory, TrajectoryEvent,
    },
    policy,
    store::{ListFilter, NewPerson, Store},
};

/// How a trajectory starts, as the request gives it.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    pub status: ObligationStatus,
    pub exemption: Option<ExemptionReason>,
    pub started_on: NaiveDate,
}

/// What a listing asks for, before the caller's scope is applied.
#[derive(Debug)]
pub struct Listing {
    pub agency: Option<Agency>,
    pub status: Option<ObligationStatus>,
    pub municipality_nis: String,
    pub page: Page,
}

/// The case worker's operations on trajectories.
#[derive(Debug, Clone)]
pub struct Casework {
    store: Store,
}

impl Casework {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Registers a person once; `(person_id, created)`. The caller checked
    /// `policy::require_registrar` before parsing the request.
    pub async fn register_person(&self, new: NewPerson) -> Result<(Uuid, bool), TrajectoryError> {
        self.store.register_person(new).await
    }

    /// The municipality with code `input`, as the register says.
    pub async fn municipality(&self, input: &str) -> Result<Municipality, TrajectoryError> {
        self.store.municipality(input).await
    }

    /// Starts the trajectory of `person_id` in `municipality`, which the caller's agency
    /// must handle.
    pub async fn start(
        &self,
        principal: &Principal,
        person_id: Uuid,
        municipality: Municipality,
        start: Start,
    ) -> Result<Trajectory, TrajectoryError> {
        if !policy::may_handle(principal, municipality.agency)? {
            return Err(AuthError::Forbidden(format!(
                "municipality {municipality} falls under {}, not {}",
                municipality.agency.as_str(),
                principal.organisation.alias
            ))
            .into());
        }
        if !self.store.person_exists(person_id).await? {
            return Err(TrajectoryError::PersonNotFound { person_id });
        }
        let (trajectory, started) = Trajectory::start(
            person_id,
            municipality,
            start.status,
            start.exemption,
            start.started_on,
            clock::today(),
        )?;
        self.store.start(&trajectory, &[started]).await?;
        Ok(trajectory)
    }

    /// Loads a trajectory the caller may see; one of another agency is "not found", so
    /// that its existence does not leak.
    pub async fn visible(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<Trajectory, TrajectoryError> {
        let trajectory_id = wire::uuid("trajectory_id", id)?;
        let scope = policy::case_worker_scope(principal)?;
        match self.store.load(trajectory_id).await? {
            Some(t) if scope.contains(&t.agency()) => Ok(t),
            _ => Err(TrajectoryError::TrajectoryNotFound { trajectory_id }),
        }
    }

    /// Signs the contract of a visible trajectory.
    pub async fn sign_contract(
        &self,
        principal: &Principal,
        id: &str,
        terms: ContractTerms,
    ) -> Result<Trajectory, TrajectoryError> {
        let mut trajectory = self.visible(principal, id).await?;
        let events = trajectory.sign_contract(terms)?;
        self.store.save_contract(&trajectory, &events).await?;
        Ok(trajectory)
    }

    /// Loads a visible trajectory, applies `change`, and saves progress with its events.
    pub async fn progress(
        &self,
        principal: &Principal,
        id: &str,
        change: impl FnOnce(&mut Trajectory) -> Result<Vec<TrajectoryEvent>, TrajectoryError>,
    ) -> Result<Trajectory, TrajectoryError> {
        let mut trajectory = self.visible(principal, id).await?;
        let events = change(&mut trajectory)?;
        let saved = self.store.save_progress(&mut trajectory, events).await?;
        tracing::info!(events = saved, "progress recorded");
        Ok(trajectory)
    }

    /// The trajectory of `person_id` for the DVZ advice, if the caller may see it.
    pub async fn of_person(
        &self,
        principal: &Principal,
        person_id: Uuid,
    ) -> Result<Trajectory, TrajectoryError> {
        let scope = policy::case_worker_scope(principal)?;
        let not_found = || TrajectoryError::NoTrajectory { person_id };
        let trajectory_id = self
            .store
            .trajectory_of(person_id)
            .await?
            .ok_or_else(not_found)?;
        match self.store.load(trajectory_id).await? {
            Some(t) if scope.contains(&t.agency()) => Ok(t),
            _ => Err(not_found()),
        }
    }

    /// One page of open B1 follow-ups in `scope` (the caller's, from
    /// `policy::case_worker_scope`), and the next page's token.
    pub async fn b1_due(
        &self,
        scope: &[Agency],
        page: Page,
    ) -> Result<(Vec<Trajectory>, String), TrajectoryError> {
        let mut rows = self.store.b1_due(scope, page.after, page.fetch()).await?;
        let next_page_token = page.finish(&mut rows, |t| t.id);
        Ok((rows, next_page_token))
    }

    /// One page of trajectories in `scope` (the caller's, from
    /// `policy::case_worker_scope`), narrowed to one agency, status or municipality when
    /// asked, and the next page's token.
    pub async fn list(
        &self,
        principal: &Principal,
        scope: Vec<Agency>,
        listing: Listing,
    ) -> Result<(Vec<Trajectory>, String), TrajectoryError> {
        let mut agencies = scope;
        if let Some(wanted) = listing.agency {
            if !agencies.contains(&wanted) {
                return Err(AuthError::Forbidden(format!(
                    "agency {} is outside organisation {}",
                    wanted.as_str(),
                    principal.organisation.alias
                ))
                .into());
            }
            agencies = vec![wanted];
        }
        let municipality = if listing.municipality_nis.is_empty() {
            None
        } else {
            Some(self.store.municipality(&listing.municipality_nis).await?)
        };
        let page = listing.page;
        // One more than the page tells whether another page follows.
        let mut rows = self
            .store
            .list(ListFilter {
                agencies,
                status: listing.status,
                municipality,
                after: page.after,
                limit: page.fetch(),
            })
            .await?;
        let next_page_token = page.finish(&mut rows, |t| t.id);
        Ok((rows, next_page_token))
    }
}
