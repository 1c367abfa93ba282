//! The events the trajectories service publishes on `trajectories.events.v1`. None carries
//! a national number or a name.

use chrono::{DateTime, NaiveDate, Utc};
use platform::events::{Outbox, Staged};
use proto::trajectories::v1 as pb;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::{
    TrajectoryError, convert,
    domain::{Agency, Component, Contract, Trajectory, TrajectoryEvent},
};

pub fn person_registered(
    person_id: Uuid,
    at: DateTime<Utc>,
    mother_tongue: &str,
    contact_language: Option<&str>,
    registered_by: Option<Agency>,
) -> pb::PersonRegistered {
    pb::PersonRegistered {
        person_id: person_id.to_string(),
        registered_at: Some(wire::timestamp(at)),
        mother_tongue: mother_tongue.to_owned(),
        contact_language: contact_language.unwrap_or_default().to_owned(),
        agency: registered_by
            .map(wire::agency)
            .unwrap_or(proto::common::v1::Agency::Unspecified) as i32,
    }
}

fn trajectory_started(t: &Trajectory) -> pb::TrajectoryStarted {
    pb::TrajectoryStarted {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        municipality_nis: t.municipality.to_string(),
        agency: wire::agency(t.agency()) as i32,
        status: convert::status(t.status) as i32,
        exemption_reason: convert::exemption(t.exemption) as i32,
        started_on: Some(wire::date(t.started_on)),
    }
}

fn contract_signed(t: &Trajectory, contract: &Contract) -> pb::ContractSigned {
    pb::ContractSigned {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        agency: wire::agency(t.agency()) as i32,
        municipality_nis: t.municipality.to_string(),
        status: convert::status(t.status) as i32,
        signed_on: Some(wire::date(contract.signed_on)),
        deadlines: convert::deadlines(contract),
        fees_total: Some(proto::common::v1::Money {
            cents: contract.fees_total(),
        }),
    }
}

fn component_completed(
    t: &Trajectory,
    component: Component,
    on: NaiveDate,
) -> pb::ComponentCompleted {
    pb::ComponentCompleted {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        component: convert::component(component) as i32,
        completed_on: Some(wire::date(on)),
        agency: wire::agency(t.agency()) as i32,
    }
}

fn obligation_breached(
    t: &Trajectory,
    component: Component,
    deadline: NaiveDate,
) -> pb::ObligationBreached {
    pb::ObligationBreached {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        component: convert::component(component) as i32,
        deadline: Some(wire::date(deadline)),
        agency: wire::agency(t.agency()) as i32,
    }
}

fn attest_issued(t: &Trajectory, on: NaiveDate) -> pb::AttestIssued {
    pb::AttestIssued {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        agency: wire::agency(t.agency()) as i32,
        municipality_nis: t.municipality.to_string(),
        status: convert::status(t.status) as i32,
        issued_on: Some(wire::date(on)),
    }
}

/// Stages each event of `t` (as the domain returned them) in the caller's transaction,
/// keyed by the trajectory id.
pub async fn stage<C: ConnectionTrait>(
    conn: &C,
    outbox: &Outbox,
    t: &Trajectory,
    events: &[TrajectoryEvent],
) -> Result<(), TrajectoryError> {
    outbox.stage_all(conn, staged(t, events)?).await?;
    Ok(())
}

/// Each event of `t` as the outbox row it becomes, keyed by the trajectory id.
pub fn staged(t: &Trajectory, events: &[TrajectoryEvent]) -> Result<Vec<Staged>, TrajectoryError> {
    let key = t.id.to_string();
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let row = match event {
            TrajectoryEvent::ComponentCompleted { component, on } => {
                Staged::new(key.clone(), &component_completed(t, *component, *on))
            }
            TrajectoryEvent::ObligationBreached {
                component,
                deadline,
            } => Staged::new(key.clone(), &obligation_breached(t, *component, *deadline)),
            TrajectoryEvent::AttestIssued { on } => {
                Staged::new(key.clone(), &attest_issued(t, *on))
            }
            TrajectoryEvent::Suspended { on } => {
                let event = pb::TrajectorySuspended {
                    trajectory_id: key.clone(),
                    person_id: t.person_id.to_string(),
                    agency: wire::agency(t.agency()) as i32,
                    suspended_on: Some(wire::date(*on)),
                };
                Staged::new(key.clone(), &event)
            }
            TrajectoryEvent::Resumed { on } => {
                let event = pb::TrajectoryResumed {
                    trajectory_id: key.clone(),
                    person_id: t.person_id.to_string(),
                    agency: wire::agency(t.agency()) as i32,
                    resumed_on: Some(wire::date(*on)),
                    deadlines: t
                        .contract
                        .as_ref()
                        .map(convert::deadlines)
                        .unwrap_or_default(),
                    b1_due_by: t.progress.b1_due_by.map(wire::date),
                };
                Staged::new(key.clone(), &event)
            }
            TrajectoryEvent::Stopped { on } => {
                let event = pb::TrajectoryStopped {
                    trajectory_id: key.clone(),
                    person_id: t.person_id.to_string(),
                    agency: wire::agency(t.agency()) as i32,
                    stopped_on: Some(wire::date(*on)),
                };
                Staged::new(key.clone(), &event)
            }
            TrajectoryEvent::B1FollowUpDue { due_by } => {
                let event = pb::B1FollowUpDue {
                    trajectory_id: key.clone(),
                    person_id: t.person_id.to_string(),
                    agency: wire::agency(t.agency()) as i32,
                    due_by: Some(wire::date(*due_by)),
                };
                Staged::new(key.clone(), &event)
            }
            TrajectoryEvent::B1FollowUpClosed { on } => {
                let event = pb::B1FollowUpClosed {
                    trajectory_id: key.clone(),
                    person_id: t.person_id.to_string(),
                    agency: wire::agency(t.agency()) as i32,
                    closed_on: Some(wire::date(*on)),
                };
                Staged::new(key.clone(), &event)
            }
            TrajectoryEvent::B1FollowUpOverdue { due_by } => {
                let event = pb::B1FollowUpOverdue {
                    trajectory_id: key.clone(),
                    person_id: t.person_id.to_string(),
                    agency: wire::agency(t.agency()) as i32,
                    due_by: Some(wire::date(*due_by)),
                };
                Staged::new(key.clone(), &event)
            }
            TrajectoryEvent::EffortDeclared { on, unreached } => {
                let event = pb::EffortDeclarationIssued {
                    trajectory_id: key.clone(),
                    person_id: t.person_id.to_string(),
                    agency: wire::agency(t.agency()) as i32,
                    issued_on: Some(wire::date(*on)),
                    unreached_components: unreached
                        .iter()
                        .map(|c| convert::component(*c) as i32)
                        .collect(),
                };
                Staged::new(key.clone(), &event)
            }
            TrajectoryEvent::Started => Staged::new(key.clone(), &trajectory_started(t)),
            TrajectoryEvent::ContractSigned => {
                let contract = t.contract.as_ref().ok_or_else(|| {
                    TrajectoryError::Corrupt(format!("trajectory {key}: signed without a contract"))
                })?;
                Staged::new(key.clone(), &contract_signed(t, contract))
            }
        };
        rows.push(row);
    }
    Ok(rows)
}
