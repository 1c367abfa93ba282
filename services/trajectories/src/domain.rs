//! The trajectories domain: types that cannot be invalid once parsed, and the state
//! changes with the events they cause. No I/O here.

use std::fmt;

use chrono::{Months, NaiveDate};
use uuid::Uuid;

use crate::{TrajectoryError, rules};

pub use platform::{Agency, NationalNumber, Nis};

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
        self.nis
            .to_string()
            .parse()
            .expect("a parsed NIS code is five digits")
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

/// The four components of a trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Nt2,
    Mo,
    EconomicSelfReliance,
    Participation,
}

/// What a fee pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeKind {
    Nt2Course,
    MoCourse,
}

impl FeeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeKind::Nt2Course => "nt2-course",
            FeeKind::MoCourse => "mo-course",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Self::Nt2Course, Self::MoCourse]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A fee charged to the person, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fee {
    pub kind: FeeKind,
    pub cents: i64,
}

/// The signed contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub signed_on: NaiveDate,
    pub nt2_deadline: NaiveDate,
    pub mo_deadline: NaiveDate,
    pub vdab_deadline: NaiveDate,
    /// Absent when participation is not part of this person's contract.
    pub participation_deadline: Option<NaiveDate>,
    pub rights_and_duties_clause: bool,
    pub fees: Vec<Fee>,
}

impl Contract {
    /// Every deadline with its component.
    pub fn deadlines(&self) -> Vec<(Component, NaiveDate)> {
        let mut all = vec![
            (Component::Nt2, self.nt2_deadline),
            (Component::Mo, self.mo_deadline),
            (Component::EconomicSelfReliance, self.vdab_deadline),
        ];
        if let Some(p) = self.participation_deadline {
            all.push((Component::Participation, p));
        }
        all
    }

    /// The sum of the fees, in cents.
    pub fn fees_total(&self) -> i64 {
        self.fees.iter().map(|f| f.cents).sum()
    }
}

/// Why participation is not required of someone who is not voluntary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipationWaiver {
    Works,
    Studies,
}

impl ParticipationWaiver {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Works => "works",
            Self::Studies => "studies",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Self::Works, Self::Studies]
            .into_iter()
            .find(|w| w.as_str() == s)
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

/// How far the components are, and the attest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub nt2_completed_on: Option<NaiveDate>,
    pub mo_completed_on: Option<NaiveDate>,
    pub vdab_registered_on: Option<NaiveDate>,
    pub participation_hours: u32,
    pub participation_completed_on: Option<NaiveDate>,
    pub participation_waiver: Option<ParticipationWaiver>,
    pub attest_issued_on: Option<NaiveDate>,
    /// Set when the B1 follow-up applies: the last day to pass B1 oral.
    pub b1_due_by: Option<NaiveDate>,
    /// When the follow-up closed (B1 passed, or 6 months of activity).
    pub b1_closed_on: Option<NaiveDate>,
    /// The "verklaring geleverde inspanningen": the case worker found the goals
    /// unreachable despite the person's effort.
    pub effort_declaration: Option<EffortDeclaration>,
}

/// A "verklaring geleverde inspanningen": issued on a date, with the case worker's grounds
/// (kept with the agency, never published).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffortDeclaration {
    pub issued_on: NaiveDate,
    pub grounds: String,
}

/// What the case worker fixes when the contract is signed.
#[derive(Debug, Clone)]
pub struct ContractTerms {
    pub signed_on: NaiveDate,
    pub rights_and_duties_accepted: bool,
    pub nt2_deadline: Option<NaiveDate>,
    pub mo_deadline: Option<NaiveDate>,
    pub participation_deadline: Option<NaiveDate>,
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
    /// Bumped by every saved change; a save from a stale read is refused.
    pub version: i32,
}

/// What a state change caused, for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrajectoryEvent {
    Started,
    ContractSigned,
    ComponentCompleted {
        component: Component,
        on: NaiveDate,
    },
    ObligationBreached {
        component: Component,
        deadline: NaiveDate,
    },
    AttestIssued {
        on: NaiveDate,
    },
    Suspended {
        on: NaiveDate,
    },
    Resumed {
        on: NaiveDate,
    },
    Stopped {
        on: NaiveDate,
    },
    B1FollowUpDue {
        due_by: NaiveDate,
    },
    B1FollowUpClosed {
        on: NaiveDate,
    },
    /// The B1 follow-up was not closed by its last day.
    B1FollowUpOverdue {
        due_by: NaiveDate,
    },
    /// A "verklaring geleverde inspanningen", naming the components left unreached.
    EffortDeclared {
        on: NaiveDate,
        unreached: Vec<Component>,
    },
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
        if !terms.rights_and_duties_accepted {
            return Err(TrajectoryError::invalid(
                "rights_and_duties_accepted",
                "the contract includes the clause on essential rights and duties; it must be accepted",
            ));
        }
        if terms.signed_on < self.started_on {
            return Err(TrajectoryError::invalid(
                "signed_on",
                format!(
                    "lies before the start of the trajectory ({})",
                    self.started_on
                ),
            ));
        }
        let horizon = terms
            .signed_on
            .checked_add_months(Months::new(rules::DEADLINE_HORIZON_MONTHS))
            .expect("a signing date near today is far from the end of the calendar");
        let check = |field: &'static str, date: NaiveDate| {
            if date <= terms.signed_on {
                Err(TrajectoryError::invalid(
                    field,
                    "must lie after the signing date",
                ))
            } else if date > horizon {
                Err(TrajectoryError::invalid(
                    field,
                    format!(
                        "lies more than {} months after signing",
                        rules::DEADLINE_HORIZON_MONTHS
                    ),
                ))
            } else {
                Ok(date)
            }
        };
        let nt2_deadline = check(
            "nt2_deadline",
            terms
                .nt2_deadline
                .ok_or_else(|| TrajectoryError::invalid("nt2_deadline", "is required"))?,
        )?;
        let mo_deadline = check(
            "mo_deadline",
            terms
                .mo_deadline
                .ok_or_else(|| TrajectoryError::invalid("mo_deadline", "is required"))?,
        )?;
        let participation_deadline = terms
            .participation_deadline
            .map(|d| check("participation_deadline", d))
            .transpose()?;
        let fee = if rules::pays_course_fees(self.municipality.code(), self.exemption.is_some()) {
            rules::COURSE_FEE_CENTS
        } else {
            0
        };
        self.contract = Some(Contract {
            signed_on: terms.signed_on,
            nt2_deadline,
            mo_deadline,
            vdab_deadline: rules::vdab_registration_deadline(self.started_on),
            participation_deadline,
            rights_and_duties_clause: true,
            fees: vec![
                Fee {
                    kind: FeeKind::MoCourse,
                    cents: fee,
                },
                Fee {
                    kind: FeeKind::Nt2Course,
                    cents: fee,
                },
            ],
        });
        Ok(vec![TrajectoryEvent::ContractSigned])
    }
}

impl Trajectory {
    fn require_active(&self) -> Result<(), TrajectoryError> {
        match self.state {
            State::Active => Ok(()),
            _ => Err(TrajectoryError::NotActive {
                trajectory_id: self.id,
                state: self.state.as_str(),
            }),
        }
    }

    fn state_change(
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

    fn contract(&self) -> Result<&Contract, TrajectoryError> {
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

    /// After an attest: the B1 follow-up starts for an obliged person of working age
    /// (DESIGN.md §3). `birth_date` is the person's, from the national number.
    pub fn start_b1_follow_up(&mut self, birth_date: Option<NaiveDate>) -> Option<TrajectoryEvent> {
        let attest_on = self.progress.attest_issued_on?;
        if self.progress.b1_due_by.is_some() {
            return None;
        }
        let age = rules::age_on(birth_date?, attest_on);
        if !rules::b1_follow_up_applies(self.status == ObligationStatus::Obliged, age) {
            return None;
        }
        let due_by = rules::b1_due_by(attest_on);
        self.progress.b1_due_by = Some(due_by);
        Some(TrajectoryEvent::B1FollowUpDue { due_by })
    }

    /// Closes the follow-up on `on`; after its last day (month 25 on) it is closed late,
    /// which is also overdue (published once, whether the sweep saw it first or not).
    fn close_b1_follow_up(&mut self, on: NaiveDate) -> Vec<TrajectoryEvent> {
        let Some(due_by) = self.progress.b1_due_by else {
            return Vec::new();
        };
        if self.progress.b1_closed_on.is_some() {
            return Vec::new();
        }
        self.progress.b1_closed_on = Some(on);
        let mut events = vec![TrajectoryEvent::B1FollowUpClosed { on }];
        if !rules::on_time(due_by, on) {
            events.push(TrajectoryEvent::B1FollowUpOverdue { due_by });
        }
        events
    }

    /// A passed B1 oral test closes the follow-up.
    pub fn pass_b1(&mut self, passed_on: NaiveDate) -> Vec<TrajectoryEvent> {
        self.close_b1_follow_up(passed_on)
    }

    /// An uninterrupted period of work, study or training; 6 months of it close the
    /// follow-up.
    pub fn record_activity(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        if to < from {
            return Err(TrajectoryError::invalid("to", "lies before from"));
        }
        if to > today {
            return Err(TrajectoryError::invalid("to", "lies in the future"));
        }
        let Some(attest_on) = self.progress.attest_issued_on else {
            return Err(TrajectoryError::NotRequired {
                trajectory_id: self.id,
                what: "an activity before the attest",
            });
        };
        if from < attest_on {
            return Err(TrajectoryError::invalid(
                "from",
                format!("lies before the attest ({attest_on}); only what follows it counts"),
            ));
        }
        if !rules::activity_closes_follow_up(from, to) {
            return Ok(Vec::new());
        }
        // Closed on the day the 6 months were reached, however long the period recorded.
        let reached = rules::six_months_of_activity_on(from).unwrap_or(to);
        Ok(self.close_b1_follow_up(reached))
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

    /// The obligation is met: by the attest, by a declaration of effort, or because the
    /// person is exempted (DESIGN.md §3).
    pub fn obligation_met(&self) -> bool {
        self.progress.attest_issued_on.is_some()
            || self.progress.effort_declaration.is_some()
            || self.exemption.is_some()
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
                        open.contains(component) && rules::breach_detectable(*deadline, today)
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
        {
            missed.push(TrajectoryEvent::B1FollowUpOverdue { due_by });
        }
        missed
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    /// Builds a valid number from birth date digits and a serial, before or from 2000.
    fn valid_number(base: u64, from_2000: bool) -> String {
        let check = if from_2000 {
            97 - (2_000_000_000 + base) % 97
        } else {
            97 - base % 97
        };
        format!("{base:09}{check:02}")
    }

    #[test]
    fn a_number_from_before_2000_passes_and_its_typo_fails() {
        let n = valid_number(850_730_033, false);
        assert!(NationalNumber::parse(&n).is_ok());
        let typo = format!("{}{}", &n[..10], (n.as_bytes()[10] - b'0' + 1) % 10);
        let err = NationalNumber::parse(&typo)
            .expect_err("typo must fail")
            .to_string();
        assert!(
            err.contains("national_number") && err.contains("mod 97"),
            "{err}"
        );
    }

    #[test]
    fn a_number_born_from_2000_uses_the_2_prefix() {
        let n = valid_number(10_203_123, true);
        assert!(NationalNumber::parse(&n).is_ok(), "{n}");
        // The same base with the pre-2000 check digits is a different valid number; the
        // post-2000 digits are not valid without the prefix rule.
        assert_ne!(n, valid_number(10_203_123, false));
    }

    #[test]
    fn separators_are_allowed_but_letters_and_lengths_are_named() {
        let n = valid_number(850_730_033, false);
        let dotted = format!(
            "{}.{}.{}-{}.{}",
            &n[0..2],
            &n[2..4],
            &n[4..6],
            &n[6..9],
            &n[9..]
        );
        assert_eq!(NationalNumber::parse(&dotted).expect("dotted").digits(), n);
        assert!(
            NationalNumber::parse("8507300336X")
                .unwrap_err()
                .to_string()
                .contains("only digits")
        );
        assert!(
            NationalNumber::parse("1234567890")
                .unwrap_err()
                .to_string()
                .contains("has 10")
        );
        assert!(
            NationalNumber::parse("")
                .unwrap_err()
                .to_string()
                .contains("required")
        );
    }

    #[test]
    fn debug_never_shows_the_number() {
        let n = NationalNumber::parse(&valid_number(850_730_033, false)).expect("valid");
        assert!(!format!("{n:?}").contains("850730033"));
    }

    /// A municipality as the register would describe it, for the tests.
    fn nis(code: &str) -> Municipality {
        let nis = Nis::parse("municipality_nis", code).expect("a code");
        let agency = match code.parse::<u32>().expect("a code") {
            11002 => Agency::Atlas,
            44021 => Agency::InGent,
            21001..=21019 => Agency::Bon,
            _ => Agency::Agii,
        };
        Municipality::new(nis, agency)
    }

    fn started(code: &str) -> Trajectory {
        Trajectory::start(
            Uuid::now_v7(),
            nis(code),
            ObligationStatus::Obliged,
            None,
            d(2026, 1, 15),
            d(2026, 11, 28),
        )
        .expect("valid start")
        .0
    }

    fn terms(signed_on: NaiveDate) -> ContractTerms {
        ContractTerms {
            signed_on,
            rights_and_duties_accepted: true,
            nt2_deadline: Some(d(2026, 12, 31)),
            mo_deadline: Some(d(2026, 9, 30)),
            participation_deadline: Some(d(2026, 12, 31)),
        }
    }

    #[test]
    fn signing_charges_two_course_fees_and_fixes_the_vdab_deadline() {
        let mut t = started("11002");
        assert_eq!(
            t.sign_contract(terms(d(2026, 1, 20))).unwrap(),
            vec![TrajectoryEvent::ContractSigned]
        );
        let c = t.contract.as_ref().unwrap();
        assert_eq!(c.fees_total(), 2 * 90_00);
        assert_eq!(c.vdab_deadline, d(2026, 3, 15));
        assert!(c.rights_and_duties_clause);
    }

    #[test]
    fn brussels_residents_sign_without_fees() {
        let mut t = started("21004");
        t.sign_contract(terms(d(2026, 1, 20))).unwrap();
        assert_eq!(t.contract.unwrap().fees_total(), 0);
    }

    #[test]
    fn signing_twice_is_refused() {
        let mut t = started("11002");
        t.sign_contract(terms(d(2026, 1, 20))).unwrap();
        assert!(matches!(
            t.sign_contract(terms(d(2026, 1, 21))),
            Err(TrajectoryError::ContractAlreadySigned { .. })
        ));
    }

    #[test]
    fn signing_before_the_start_or_deadlines_before_signing_are_refused() {
        let mut t = started("11002");
        assert!(
            t.sign_contract(terms(d(2026, 1, 14)))
                .unwrap_err()
                .to_string()
                .starts_with("signed_on")
        );
        let mut late = terms(d(2026, 1, 20));
        late.mo_deadline = Some(d(2026, 1, 20));
        assert!(
            t.sign_contract(late)
                .unwrap_err()
                .to_string()
                .starts_with("mo_deadline")
        );
        let mut far = terms(d(2026, 1, 20));
        far.nt2_deadline = Some(d(2205, 1, 1));
        assert!(
            t.sign_contract(far)
                .unwrap_err()
                .to_string()
                .starts_with("nt2_deadline")
        );
        let mut refused = terms(d(2026, 1, 20));
        refused.rights_and_duties_accepted = false;
        assert!(
            t.sign_contract(refused)
                .unwrap_err()
                .to_string()
                .starts_with("rights_and_duties")
        );
        assert!(t.contract.is_none(), "nothing half-written");
    }

    #[test]
    fn start_dates_are_bounded_by_the_decree_and_today() {
        let nis = nis("11002");
        let today = d(2026, 11, 28);
        let start = |on| {
            Trajectory::start(
                Uuid::now_v7(),
                nis,
                ObligationStatus::Entitled,
                None,
                on,
                today,
            )
        };
        assert!(start(d(2004, 3, 31)).is_err());
        assert!(start(d(2004, 4, 1)).is_ok());
        assert!(start(today).is_ok());
        assert!(start(d(2026, 11, 29)).is_err());
        let exempt_voluntary = Trajectory::start(
            Uuid::now_v7(),
            nis,
            ObligationStatus::Voluntary,
            Some(ExemptionReason::SeriousIllness),
            today,
            today,
        );
        assert!(
            exempt_voluntary
                .unwrap_err()
                .to_string()
                .starts_with("exemption_reason")
        );
    }

    fn signed(status: ObligationStatus) -> Trajectory {
        let mut t = Trajectory::start(
            Uuid::now_v7(),
            nis("11002"),
            status,
            None,
            d(2026, 1, 15),
            d(2026, 11, 28),
        )
        .unwrap()
        .0;
        t.sign_contract(terms(d(2026, 1, 20))).unwrap();
        t
    }

    const TODAY: (i32, u32, u32) = (2026, 11, 28);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn participation_completed_by_the_municipality_completes_the_component_once() {
        let mut t = signed(ObligationStatus::Obliged);
        t.record_participation_hours(39);
        t.record_participation_hours(12);
        assert_eq!(
            t.progress.participation_hours, 39,
            "a late total never lowers it"
        );
        let events = t.complete_participation(d(2026, 5, 2));
        assert_eq!(
            events,
            vec![TrajectoryEvent::ComponentCompleted {
                component: Component::Participation,
                on: d(2026, 5, 2)
            }]
        );
        assert!(
            t.complete_participation(d(2026, 5, 3)).is_empty(),
            "complete is complete"
        );
    }

    #[test]
    fn a_vdab_registration_on_the_deadline_is_on_time_and_the_day_after_breaches() {
        let mut on_time = signed(ObligationStatus::Obliged);
        let events = on_time
            .record_vdab_registration(d(2026, 3, 15), today())
            .unwrap();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, TrajectoryEvent::ObligationBreached { .. }))
        );
        let mut late = signed(ObligationStatus::Obliged);
        let events = late
            .record_vdab_registration(d(2026, 3, 16), today())
            .unwrap();
        assert!(events.contains(&TrajectoryEvent::ObligationBreached {
            component: Component::EconomicSelfReliance,
            deadline: d(2026, 3, 15)
        }));
        // An entitled person has no obligation to breach.
        let mut entitled = signed(ObligationStatus::Entitled);
        let events = entitled
            .record_vdab_registration(d(2026, 3, 16), today())
            .unwrap();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, TrajectoryEvent::ObligationBreached { .. }))
        );
    }

    #[test]
    fn the_attest_follows_the_last_required_component_once() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        t.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        t.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        let events = t.complete_participation(d(2026, 7, 1));
        assert!(events.contains(&TrajectoryEvent::AttestIssued { on: d(2026, 7, 1) }));
        assert!(
            t.complete_test(Component::Nt2, d(2026, 8, 1))
                .unwrap()
                .is_empty(),
            "a second pass changes nothing"
        );
    }

    #[test]
    fn voluntary_and_working_people_get_the_attest_without_participation() {
        let mut v = signed(ObligationStatus::Voluntary);
        v.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        v.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        let events = v.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        assert!(events.contains(&TrajectoryEvent::AttestIssued { on: d(2026, 6, 2) }));
        assert!(
            v.complete_participation(d(2026, 6, 3)).is_empty(),
            "not required"
        );

        let mut w = signed(ObligationStatus::Obliged);
        w.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        w.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        w.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        assert_eq!(
            w.waive_participation(ParticipationWaiver::Works, d(2026, 6, 5))
                .unwrap(),
            vec![TrajectoryEvent::AttestIssued { on: d(2026, 6, 5) }]
        );
    }

    #[test]
    fn a_suspended_trajectory_takes_no_progress_until_resumed_and_a_stopped_one_never() {
        let mut t = signed(ObligationStatus::Obliged);
        t.suspend("ziekte", d(2026, 4, 1), today()).unwrap();
        assert!(matches!(
            t.record_vdab_registration(d(2026, 4, 2), today()),
            Err(TrajectoryError::NotActive { .. })
        ));
        assert!(
            t.resume(d(2026, 3, 31), today()).is_err(),
            "not before the suspension"
        );
        t.resume(d(2026, 5, 1), today()).unwrap();
        t.record_vdab_registration(d(2026, 5, 2), today()).unwrap();
        t.stop("verhuisd naar Wallonië", d(2026, 6, 1), today())
            .unwrap();
        assert!(t.resume(d(2026, 6, 2), today()).is_err());
        assert!(
            t.complete_test(Component::Mo, d(2026, 6, 3))
                .unwrap()
                .is_empty()
        );
        assert!(t.stop("again", d(2026, 6, 4), today()).is_err());
        assert!(
            t.suspend("", d(2026, 6, 4), today())
                .unwrap_err()
                .to_string()
                .starts_with("reason")
        );
    }

    #[test]
    fn birth_dates_come_from_the_number_with_the_century_of_its_check_digits() {
        let old = NationalNumber::parse(&valid_number(850_730_033, false)).unwrap();
        assert_eq!(old.birth_date(), Some(d(1985, 7, 30)));
        let young = NationalNumber::parse(&valid_number(40_215_123, true)).unwrap();
        assert_eq!(young.birth_date(), Some(d(2004, 2, 15)));
        let bis = NationalNumber::parse(&valid_number(852_730_033, false)).unwrap();
        assert_eq!(
            bis.birth_date(),
            Some(d(1985, 7, 30)),
            "bis number: month + 20"
        );
        let unknown = NationalNumber::parse(&valid_number(850_000_033, false)).unwrap();
        assert_eq!(unknown.birth_date(), None);
    }

    #[test]
    fn the_b1_follow_up_starts_at_the_attest_and_six_months_of_work_close_it() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        t.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        t.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        t.waive_participation(ParticipationWaiver::Studies, d(2026, 6, 3))
            .unwrap();
        assert_eq!(
            t.start_b1_follow_up(Some(d(1985, 7, 30))),
            Some(TrajectoryEvent::B1FollowUpDue {
                due_by: d(2028, 6, 3)
            })
        );
        assert!(
            t.record_activity(d(2026, 6, 3), d(2026, 11, 1), today())
                .unwrap()
                .is_empty(),
            "5 months"
        );
        assert_eq!(
            t.record_activity(d(2026, 6, 3), d(2026, 12, 2), d(2026, 12, 31))
                .unwrap(),
            vec![TrajectoryEvent::B1FollowUpClosed { on: d(2026, 12, 2) }]
        );
        assert!(t.pass_b1(d(2027, 1, 1)).is_empty(), "closed once");
    }

    #[test]
    fn b1_passed_in_month_24_is_in_time_and_in_month_25_overdue() {
        let attested = || {
            let mut t = signed(ObligationStatus::Obliged);
            t.progress.attest_issued_on = Some(d(2026, 6, 3));
            t.start_b1_follow_up(Some(d(1985, 7, 30)));
            t
        };
        assert_eq!(attested().progress.b1_due_by, Some(d(2028, 6, 3)));
        assert_eq!(
            attested().pass_b1(d(2028, 6, 3)),
            vec![TrajectoryEvent::B1FollowUpClosed { on: d(2028, 6, 3) }]
        );
        assert_eq!(
            attested().pass_b1(d(2028, 6, 4)),
            vec![
                TrajectoryEvent::B1FollowUpClosed { on: d(2028, 6, 4) },
                TrajectoryEvent::B1FollowUpOverdue {
                    due_by: d(2028, 6, 3)
                }
            ]
        );
        // Two years of work recorded at once after the last day: the follow-up closed when
        // the first 6 months were reached, in time.
        assert_eq!(
            attested()
                .record_activity(d(2026, 7, 1), d(2028, 7, 1), d(2028, 7, 2))
                .unwrap(),
            vec![TrajectoryEvent::B1FollowUpClosed {
                on: d(2026, 12, 31)
            }]
        );
        // Open past its last day: the sweep reports it after the grace period.
        let open = attested();
        assert_eq!(open.missed_deadlines(d(2028, 6, 17)), vec![]);
        assert_eq!(
            open.missed_deadlines(d(2028, 6, 18)),
            vec![TrajectoryEvent::B1FollowUpOverdue {
                due_by: d(2028, 6, 3)
            }]
        );
    }

    #[test]
    fn no_follow_up_for_people_older_than_65_at_the_attest() {
        let mut t = signed(ObligationStatus::Obliged);
        t.progress.attest_issued_on = Some(d(2026, 6, 3));
        assert_eq!(
            t.start_b1_follow_up(Some(d(1960, 6, 3))),
            None,
            "66 on the attest day"
        );
        assert!(
            t.start_b1_follow_up(Some(d(1960, 6, 4))).is_some(),
            "65 on the attest day"
        );
    }

    #[test]
    fn progress_needs_a_signed_contract() {
        let mut t = Trajectory::start(
            Uuid::now_v7(),
            nis("11002"),
            ObligationStatus::Obliged,
            None,
            d(2026, 1, 15),
            today(),
        )
        .unwrap()
        .0;
        assert!(matches!(
            t.complete_test(Component::Nt2, d(2026, 6, 1)),
            Err(TrajectoryError::ContractNotSigned { .. })
        ));
    }

    #[test]
    fn resuming_moves_the_open_deadlines_by_the_suspension() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Mo, d(2026, 1, 25)).unwrap();
        t.suspend("hospitalised", d(2026, 2, 1), today()).unwrap();
        t.resume(d(2026, 3, 1), today()).unwrap();
        let c = t.contract.as_ref().unwrap();
        assert_eq!(c.vdab_deadline, d(2026, 4, 12), "2026-03-15 + 28 days");
        assert_eq!(c.nt2_deadline, d(2027, 1, 28));
        assert_eq!(c.mo_deadline, d(2026, 9, 30), "MO was done: unchanged");
        assert_eq!(c.participation_deadline, Some(d(2027, 1, 28)));
        assert_eq!(t.missed_deadlines(d(2026, 4, 26)), vec![]);
        assert_eq!(
            t.missed_deadlines(d(2026, 4, 27)),
            vec![TrajectoryEvent::ObligationBreached {
                component: Component::EconomicSelfReliance,
                deadline: d(2026, 4, 12)
            }]
        );
    }

    #[test]
    fn a_declaration_of_effort_needs_an_open_test_goal_and_meets_the_obligation() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Mo, d(2026, 5, 1)).unwrap();
        assert!(
            t.declare_effort("  ", d(2026, 6, 1), today())
                .unwrap_err()
                .to_string()
                .starts_with("grounds")
        );
        assert!(
            t.declare_effort("illiterate", d(2026, 1, 19), today())
                .unwrap_err()
                .to_string()
                .starts_with("issued_on"),
            "before the contract was signed"
        );
        assert!(!t.obligation_met());
        let events = t
            .declare_effort("four NT2 attempts, A1 not reached", d(2026, 6, 1), today())
            .unwrap();
        assert_eq!(
            events,
            vec![TrajectoryEvent::EffortDeclared {
                on: d(2026, 6, 1),
                unreached: vec![
                    Component::Nt2,
                    Component::EconomicSelfReliance,
                    Component::Participation
                ],
            }]
        );
        assert!(t.obligation_met());
        assert!(matches!(
            t.declare_effort("again", d(2026, 6, 2), today()),
            Err(TrajectoryError::AlreadyRecorded { .. })
        ));
        assert_eq!(
            t.record_vdab_registration(d(2026, 6, 5), today()).unwrap(),
            vec![TrajectoryEvent::ComponentCompleted {
                component: Component::EconomicSelfReliance,
                on: d(2026, 6, 5)
            }],
            "late, but the obligation is met: no breach"
        );

        let mut passed = signed(ObligationStatus::Obliged);
        passed.complete_test(Component::Nt2, d(2026, 5, 1)).unwrap();
        passed.complete_test(Component::Mo, d(2026, 5, 2)).unwrap();
        assert!(
            matches!(
                passed.declare_effort("no time", d(2026, 6, 1), today()),
                Err(TrajectoryError::NotRequired { .. })
            ),
            "VDAB and participation are within reach"
        );
    }

    #[test]
    fn only_an_active_obliged_trajectory_with_open_components_misses_deadlines() {
        let mut t = signed(ObligationStatus::Obliged);
        // VDAB by 2026-03-15, MO by 2026-09-30, NT2 and participation by 2026-12-31.
        let breach = |component, deadline| TrajectoryEvent::ObligationBreached {
            component,
            deadline,
        };
        assert_eq!(t.missed_deadlines(d(2026, 3, 29)), vec![]);
        assert_eq!(
            t.missed_deadlines(d(2026, 3, 30)),
            vec![breach(Component::EconomicSelfReliance, d(2026, 3, 15))]
        );
        t.complete_test(Component::Mo, d(2026, 9, 1)).unwrap();
        assert_eq!(
            t.missed_deadlines(d(2027, 6, 1)),
            vec![
                breach(Component::Nt2, d(2026, 12, 31)),
                breach(Component::EconomicSelfReliance, d(2026, 3, 15)),
                breach(Component::Participation, d(2026, 12, 31)),
            ]
        );
        assert_eq!(
            signed(ObligationStatus::Entitled).missed_deadlines(d(2027, 6, 1)),
            vec![],
            "an entitled person has no obligation to breach"
        );
        t.suspend("illness", d(2026, 10, 1), today()).unwrap();
        assert_eq!(t.missed_deadlines(d(2027, 6, 1)), vec![]);
        t.resume(d(2026, 11, 1), today()).unwrap();
        t.declare_effort("A1 not reached", d(2026, 11, 2), today())
            .unwrap();
        assert_eq!(
            t.missed_deadlines(d(2027, 6, 1)),
            vec![],
            "the declaration meets the obligation"
        );
    }

    proptest! {
        #[test]
        fn every_well_formed_number_with_its_check_digits_parses(base in 0u64..1_000_000_000, from_2000: bool) {
            prop_assert!(NationalNumber::parse(&valid_number(base, from_2000)).is_ok());
        }

        #[test]
        fn the_parser_never_panics(input in "\\PC{0,20}") {
            let _ = NationalNumber::parse(&input);
            let _ = Nis::parse("municipality_nis", &input);
        }
    }
}
