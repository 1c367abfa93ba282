//! What a state change of a trajectory caused: the domain returns these, the store
//! writes exactly these to the outbox.

use chrono::NaiveDate;

use super::components::Component;

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
