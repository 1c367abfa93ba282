//! The trajectory aggregate: a person's trajectory in a municipality, how it starts,
//! its contract is signed, and how it is suspended, resumed and stopped; what its
//! components require. Progress on the components is in `progress`, the B1 follow-up in
//! `b1`.

use std::fmt;

use chrono::NaiveDate;
use platform::{Agency, Nis};
use uuid::Uuid;

use super::{
    components::{Component, Progress},
    contract::{Contract, ContractTerms},
    event::TrajectoryEvent,
};
use crate::{TrajectoryError, rules};

/// The municipality a trajectory runs in, as the municipality register has it (the
/// municipalities service, projected here from `RegisterPublished`): the code in force
/// and the agency competent for its residents. The domain only carries what the register
/// said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Municipality {
    pub nis: Nis,
    pub agency: Agency,
}

impl Municipality {
    /// The municipality `nis`, served by `agency`.
    pub fn new(nis: Nis, agency: Agency) -> Self {
        Self { nis, agency }
    }

    /// The 5-digit code as a number, for the rules that name codes.
    pub fn code(self) -> u32 {
        self.nis.code()
    }
}

impl fmt::Display for Municipality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.nis.fmt(f)
    }
}

/// Why someone follows a trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObligationStatus {
    Obliged,
    Entitled,
    Voluntary,
}

impl ObligationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationStatus::Obliged => "obliged",
            ObligationStatus::Entitled => "entitled",
            ObligationStatus::Voluntary => "voluntary",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Self::Obliged, Self::Entitled, Self::Voluntary]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Grounds that exempt an obliged person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExemptionReason {
    SeriousIllness,
    MentalDisability,
    PhysicalDisability,
}

impl ExemptionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SeriousIllness => "serious-illness",
            Self::MentalDisability => "mental-disability",
            Self::PhysicalDisability => "physical-disability",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [
            Self::SeriousIllness,
            Self::MentalDisability,
            Self::PhysicalDisability,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Whether a trajectory runs, with why and since when it does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum State {
    #[default]
    Active,
    Suspended {
        reason: String,
        since: NaiveDate,
    },
    Stopped {
        reason: String,
        since: NaiveDate,
    },
}

impl State {
    pub fn as_str(&self) -> &'static str {
        match self {
            State::Active => "active",
            State::Suspended { .. } => "suspended",
            State::Stopped { .. } => "stopped",
        }
    }
}

/// A person's trajectory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trajectory {
    pub id: Uuid,
    pub person_id: Uuid,
    pub municipality: Municipality,
    pub status: ObligationStatus,
    pub exemption: Option<ExemptionReason>,
    pub started_on: NaiveDate,
    pub contract: Option<Contract>,
    pub progress: Progress,
    pub state: State,
    /// The day the trajectory was imported with its history (the caseload import), if it
    /// was: a deadline that passed before it is history, never a breach.
    pub imported_on: Option<NaiveDate>,
    /// Bumped by every saved change; a save from a stale read is refused.
    pub version: i32,
}

impl Trajectory {
    /// The competent agency.
    pub fn agency(&self) -> Agency {
        self.municipality.agency
    }

    /// Starts a trajectory on `started_on`, which may not lie after `today`.
    pub fn start(
        person_id: Uuid,
        municipality: Municipality,
        status: ObligationStatus,
        exemption: Option<ExemptionReason>,
        started_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<(Self, TrajectoryEvent), TrajectoryError> {
        if exemption.is_some() && status != ObligationStatus::Obliged {
            return Err(TrajectoryError::invalid(
                "exemption_reason",
                "only an obliged person can be exempted",
            ));
        }
        if started_on < rules::EARLIEST_START {
            return Err(TrajectoryError::invalid(
                "started_on",
                format!(
                    "lies before {}, when civic integration began",
                    rules::EARLIEST_START
                ),
            ));
        }
        if started_on > today {
            return Err(TrajectoryError::invalid("started_on", "lies in the future"));
        }
        let trajectory = Self {
            id: Uuid::now_v7(),
            person_id,
            municipality,
            status,
            exemption,
            started_on,
            contract: None,
            progress: Progress::default(),
            state: State::Active,
            imported_on: None,
            version: 0,
        };
        Ok((trajectory, TrajectoryEvent::Started))
    }

    /// Signs the contract: the case worker's deadlines, the VDAB deadline from the rules,
    /// the rights-and-duties clause, and the course fees.
    pub fn sign_contract(
        &mut self,
        terms: ContractTerms,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        if self.contract.is_some() {
            return Err(TrajectoryError::ContractAlreadySigned {
                trajectory_id: self.id,
            });
        }
        let pays_fees = rules::pays_course_fees(self.municipality.code(), self.exemption.is_some());
        self.contract = Some(Contract::sign(terms, self.started_on, pays_fees)?);
        Ok(vec![TrajectoryEvent::ContractSigned])
    }
}

impl Trajectory {
    pub(super) fn require_active(&self) -> Result<(), TrajectoryError> {
        match self.state {
            State::Active => Ok(()),
            _ => Err(TrajectoryError::NotActive {
                trajectory_id: self.id,
                state: self.state.as_str(),
            }),
        }
    }

    pub(super) fn state_change(
        &self,
        field: &'static str,
        on: NaiveDate,
        today: NaiveDate,
        reason: Option<(&'static str, &str)>,
    ) -> Result<(), TrajectoryError> {
        if on < self.started_on || on > today {
            return Err(TrajectoryError::invalid(
                field,
                "lies outside the trajectory (before its start or in the future)",
            ));
        }
        if let Some((reason_field, reason)) = reason {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(TrajectoryError::invalid(
                    reason_field,
                    "is required, at most 500 characters",
                ));
            }
        }
        Ok(())
    }

    /// Suspends a running trajectory.
    pub fn suspend(
        &mut self,
        reason: &str,
        on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        self.state_change("suspended_on", on, today, Some(("reason", reason)))?;
        self.require_active()?;
        self.state = State::Suspended {
            reason: reason.trim().to_owned(),
            since: on,
        };
        Ok(vec![TrajectoryEvent::Suspended { on }])
    }

    /// Resumes a suspended trajectory.
    pub fn resume(
        &mut self,
        on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        self.state_change("resumed_on", on, today, None)?;
        match &self.state {
            State::Suspended { since, .. } if on >= *since => {
                let since = *since;
                self.state = State::Active;
                self.move_open_deadlines(since, on);
                Ok(vec![TrajectoryEvent::Resumed { on }])
            }
            State::Suspended { .. } => Err(TrajectoryError::invalid(
                "resumed_on",
                "lies before the suspension",
            )),
            other => Err(TrajectoryError::NotActive {
                trajectory_id: self.id,
                state: other.as_str(),
            }),
        }
    }

    /// After a suspension from `since` to `resumed_on`: the deadlines of open components
    /// and of an open B1 follow-up that were still ahead move by its length.
    fn move_open_deadlines(&mut self, since: NaiveDate, resumed_on: NaiveDate) {
        let open = self.open_components();
        let moved = |d: NaiveDate| rules::deadline_after_suspension(d, since, resumed_on);
        if let Some(contract) = self.contract.as_mut() {
            for (component, deadline) in [
                (Component::Nt2, &mut contract.nt2_deadline),
                (Component::Mo, &mut contract.mo_deadline),
                (Component::EconomicSelfReliance, &mut contract.vdab_deadline),
            ] {
                if open.contains(&component) {
                    *deadline = moved(*deadline);
                }
            }
            if open.contains(&Component::Participation) {
                contract.participation_deadline = contract.participation_deadline.map(moved);
            }
        }
        if self.progress.b1_closed_on.is_none() {
            self.progress.b1_due_by = self.progress.b1_due_by.map(moved);
        }
    }

    /// Stops a trajectory for good; a stopped one takes no more progress.
    pub fn stop(
        &mut self,
        reason: &str,
        on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        self.state_change("stopped_on", on, today, Some(("reason", reason)))?;
        if let State::Stopped { .. } = self.state {
            return Err(TrajectoryError::NotActive {
                trajectory_id: self.id,
                state: "stopped",
            });
        }
        self.state = State::Stopped {
            reason: reason.trim().to_owned(),
            since: on,
        };
        Ok(vec![TrajectoryEvent::Stopped { on }])
    }

    pub(super) fn contract(&self) -> Result<&Contract, TrajectoryError> {
        self.contract
            .as_ref()
            .ok_or(TrajectoryError::ContractNotSigned {
                trajectory_id: self.id,
            })
    }

    /// Whether participation is part of this person's trajectory.
    pub fn participation_required(&self) -> bool {
        rules::participation_required(
            self.status == ObligationStatus::Voluntary,
            self.progress.participation_waiver.is_some(),
        )
    }

    /// Each of the four components: whether this person's trajectory requires it, and
    /// when it was completed.
    pub fn components(&self) -> [(Component, bool, Option<NaiveDate>); 4] {
        let p = &self.progress;
        [
            (Component::Nt2, true, p.nt2_completed_on),
            (Component::Mo, true, p.mo_completed_on),
            (Component::EconomicSelfReliance, true, p.vdab_registered_on),
            (
                Component::Participation,
                self.participation_required(),
                p.participation_completed_on,
            ),
        ]
    }

    /// The components this person has not completed, of those their trajectory requires.
    pub fn open_components(&self) -> Vec<Component> {
        self.components()
            .into_iter()
            .filter(|(_, required, done)| *required && done.is_none())
            .map(|(component, _, _)| component)
            .collect()
    }

    /// The obligation is met: by the attest, by a declaration of effort, or because the
    /// person is exempted (DESIGN.md §3).
    pub fn obligation_met(&self) -> bool {
        self.progress.attest_issued_on.is_some()
            || self.progress.effort_declaration.is_some()
            || self.exemption.is_some()
    }
}
