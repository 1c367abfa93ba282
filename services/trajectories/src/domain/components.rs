//! The four components of a trajectory and how far a person is with them.

use chrono::NaiveDate;

/// The four components of a trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Nt2,
    Mo,
    EconomicSelfReliance,
    Participation,
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
