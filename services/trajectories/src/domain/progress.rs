//! Progress on a trajectory's components: passed tests, the VDAB registration,
//! participation, the declaration of effort, the attest that follows when everything
//! required is done, and the deadlines missed.

use chrono::NaiveDate;

use super::{
    components::{Component, EffortDeclaration, ParticipationWaiver},
    event::TrajectoryEvent,
    trajectory::{ObligationStatus, State, Trajectory},
};
use crate::{TrajectoryError, rules};

impl Trajectory {
    /// A passed NT2 or MO test completes its component; a second pass changes nothing.
    pub fn complete_test(
        &mut self,
        component: Component,
        passed_on: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        self.contract()?;
        // A passed test is a fact also during a suspension; a stopped trajectory is closed.
        if let State::Stopped { .. } = self.state {
            return Ok(Vec::new());
        }
        let slot = match component {
            Component::Nt2 => &mut self.progress.nt2_completed_on,
            Component::Mo => &mut self.progress.mo_completed_on,
            other => {
                return Err(TrajectoryError::Corrupt(format!(
                    "{other:?} is not completed by a test"
                )));
            }
        };
        if slot.is_some() {
            return Ok(Vec::new());
        }
        *slot = Some(passed_on);
        let mut events = vec![TrajectoryEvent::ComponentCompleted {
            component,
            on: passed_on,
        }];
        events.extend(self.issue_attest_if_complete(passed_on));
        Ok(events)
    }

    /// Records the VDAB registration; after the deadline an obliged person has breached
    /// the obligation for economic self-reliance (DESIGN.md §3, within 2 months).
    pub fn record_vdab_registration(
        &mut self,
        registered_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        self.require_active()?;
        let contract = self.contract()?;
        let deadline = contract.vdab_deadline;
        if registered_on < self.started_on {
            return Err(TrajectoryError::invalid(
                "registered_on",
                format!(
                    "lies before the start of the trajectory ({})",
                    self.started_on
                ),
            ));
        }
        if registered_on > today {
            return Err(TrajectoryError::invalid(
                "registered_on",
                "lies in the future",
            ));
        }
        if self.progress.vdab_registered_on.is_some() {
            return Err(TrajectoryError::AlreadyRecorded {
                trajectory_id: self.id,
                what: "the VDAB registration",
            });
        }
        self.progress.vdab_registered_on = Some(registered_on);
        let mut events = vec![TrajectoryEvent::ComponentCompleted {
            component: Component::EconomicSelfReliance,
            on: registered_on,
        }];
        // Against the contract's deadline: the rule's, moved by any suspension.
        if self.status == ObligationStatus::Obliged
            && !self.obligation_met()
            && !rules::on_time(deadline, registered_on)
        {
            events.push(TrajectoryEvent::ObligationBreached {
                component: Component::EconomicSelfReliance,
                deadline,
            });
        }
        events.extend(self.issue_attest_if_complete(registered_on));
        Ok(events)
    }

    /// The participation hours the municipality has logged for this trajectory, over all
    /// its placements (`ParticipationHoursLogged`). Municipalities is the one source of the
    /// hours: this only keeps the latest total for the trajectory's view, and a late or
    /// repeated event never lowers it.
    pub fn record_participation_hours(&mut self, trajectory_hours: u32) {
        self.progress.participation_hours = self.progress.participation_hours.max(trajectory_hours);
    }

    /// The municipality found the 40 hours reached on `on` (`ParticipationCompleted`):
    /// the component is completed, and the attest follows when nothing else is open. A
    /// trajectory that no longer takes progress (stopped), does not require participation
    /// or has completed it already changes nothing.
    pub fn complete_participation(&mut self, on: NaiveDate) -> Vec<TrajectoryEvent> {
        if matches!(self.state, State::Stopped { .. })
            || !self.participation_required()
            || self.progress.participation_completed_on.is_some()
            || self.contract.is_none()
        {
            return Vec::new();
        }
        self.progress.participation_completed_on = Some(on);
        let mut events = vec![TrajectoryEvent::ComponentCompleted {
            component: Component::Participation,
            on,
        }];
        events.extend(self.issue_attest_if_complete(on));
        events
    }

    /// Participation is not required of who works or studies.
    pub fn waive_participation(
        &mut self,
        waiver: ParticipationWaiver,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        self.require_active()?;
        self.contract()?;
        if self.progress.participation_completed_on.is_some() {
            return Err(TrajectoryError::AlreadyRecorded {
                trajectory_id: self.id,
                what: "the completed participation",
            });
        }
        self.progress.participation_waiver = Some(waiver);
        Ok(self.issue_attest_if_complete(today).into_iter().collect())
    }

    /// Issues the "verklaring geleverde inspanningen": the case worker records that the
    /// goals are unreachable despite the person's effort (DESIGN.md §3). It closes the
    /// trajectory's obligation like the attest does, but only where a test goal (NT2 or MO)
    /// is still open: VDAB registration and participation hours are within anyone's reach.
    pub fn declare_effort(
        &mut self,
        grounds: &str,
        on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        self.state_change("issued_on", on, today, Some(("grounds", grounds)))?;
        self.require_active()?;
        let contract = self.contract()?;
        if on < contract.signed_on {
            return Err(TrajectoryError::invalid(
                "issued_on",
                format!(
                    "lies before the contract was signed ({})",
                    contract.signed_on
                ),
            ));
        }
        if self.progress.attest_issued_on.is_some() {
            return Err(TrajectoryError::AlreadyRecorded {
                trajectory_id: self.id,
                what: "the attest",
            });
        }
        if self.progress.effort_declaration.is_some() {
            return Err(TrajectoryError::AlreadyRecorded {
                trajectory_id: self.id,
                what: "the declaration of effort",
            });
        }
        let unreached = self.open_components();
        if !unreached
            .iter()
            .any(|c| matches!(c, Component::Nt2 | Component::Mo))
        {
            return Err(TrajectoryError::NotRequired {
                trajectory_id: self.id,
                what: "a declaration of effort once NT2 and MO are passed",
            });
        }
        self.progress.effort_declaration = Some(EffortDeclaration {
            issued_on: on,
            grounds: grounds.trim().to_owned(),
        });
        Ok(vec![TrajectoryEvent::EffortDeclared { on, unreached }])
    }

    /// What an obliged person has missed by `today`, as the events that report it: each
    /// component still open whose contract deadline lies more than the grace period
    /// before `today` (rules::breach_detectable), none once the obligation is met; and
    /// the B1 follow-up still open after its last day. Nothing while the trajectory is
    /// suspended or stopped.
    pub fn missed_deadlines(&self, today: NaiveDate) -> Vec<TrajectoryEvent> {
        if self.status != ObligationStatus::Obliged || self.state != State::Active {
            return Vec::new();
        }
        let mut missed = Vec::new();
        if let Some(contract) = self.contract.as_ref().filter(|_| !self.obligation_met()) {
            let open = self.open_components();
            missed.extend(
                contract
                    .deadlines()
                    .into_iter()
                    .filter(|(component, deadline)| {
                        open.contains(component)
                            && rules::breach_detectable(*deadline, today)
                            && self.deadline_after_import(*deadline)
                    })
                    .map(
                        |(component, deadline)| TrajectoryEvent::ObligationBreached {
                            component,
                            deadline,
                        },
                    ),
            );
        }
        if let (Some(due_by), None) = (self.progress.b1_due_by, self.progress.b1_closed_on)
            && rules::breach_detectable(due_by, today)
            && self.deadline_after_import(due_by)
        {
            missed.push(TrajectoryEvent::B1FollowUpOverdue { due_by });
        }
        missed
    }

    /// Whether `deadline` still lay ahead (or was that very day) when the trajectory was
    /// imported: one that passed before the import is history, and history breaches
    /// nothing (docs/design.md §4, "History").
    fn deadline_after_import(&self, deadline: NaiveDate) -> bool {
        self.imported_on.is_none_or(|imported| deadline >= imported)
    }

    /// The attest follows when NT2 and MO are passed, VDAB registration is done, and
    /// participation is completed or not required (DESIGN.md §3).
    fn issue_attest_if_complete(&mut self, on: NaiveDate) -> Option<TrajectoryEvent> {
        if self.progress.attest_issued_on.is_none() && self.open_components().is_empty() {
            self.progress.attest_issued_on = Some(on);
            return Some(TrajectoryEvent::AttestIssued { on });
        }
        None
    }
}
