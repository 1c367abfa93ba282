//! What municipalities learns from events, applied through the platform inbox so each
//! event counts once:
//! - [`Residents`] reads `trajectories.events.v1`: who lives where with which trajectory
//!   and contract (for placements), and the monitor's facts about trajectories;
//! - [`OwnFacts`] reads this service's own `municipalities.events.v1`: the monitor's facts
//!   about placements and hours, so the monitor counts what was published, once.
//!
//! Events of one trajectory share a key, hence a partition and an order: a fact about a
//! trajectory whose start has not arrived yet is a transient failure.

use chrono::{Datelike, NaiveDate};
use platform::{
    Agency,
    events::{
        Envelope,
        consumer::{Handler, HandlerError},
    },
};
use proto::{municipalities::v1 as own, trajectories::v1 as traj};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use crate::{
    monitor::Measure,
    store::{former_nis, monitor_fact, resident},
};

/// The consumer group (and inbox name) of the residents projection.
pub const RESIDENTS_GROUP: &str = "municipalities.residents";
/// The consumer group (and inbox name) of the monitor's own facts.
pub const MONITOR_GROUP: &str = "municipalities.monitor";

/// Counts `subject` once under `measure` in the quarter of `on` in municipality `nis`.
async fn fact(
    txn: &DatabaseTransaction,
    subject: String,
    measure: Measure,
    nis: &str,
    on: NaiveDate,
    person_ref: Uuid,
    amount: i64,
) -> Result<(), HandlerError> {
    monitor_fact::Entity::insert(monitor_fact::ActiveModel {
        subject: Set(subject),
        measure: Set(measure.as_str().to_owned()),
        nis: Set(nis.to_owned()),
        year: Set(on.year()),
        quarter: Set(on.month0() as i32 / 3 + 1),
        person_ref: Set(person_ref),
        amount: Set(amount),
    })
    .on_conflict(
        OnConflict::column(monitor_fact::Column::Subject)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The code now in force for `code`: itself, or the municipality it was merged into.
async fn current_nis(txn: &DatabaseTransaction, code: &str) -> Result<String, HandlerError> {
    Ok(former_nis::Entity::find_by_id(code.to_owned())
        .one(txn)
        .await?
        .map(|merged| merged.nis)
        .unwrap_or_else(|| code.to_owned()))
}

/// The municipality of a known trajectory.
async fn nis_of(txn: &DatabaseTransaction, trajectory_id: Uuid) -> Result<String, HandlerError> {
    resident::Entity::find_by_id(trajectory_id)
        .one(txn)
        .await?
        .map(|r| r.nis)
        .ok_or_else(|| {
            HandlerError::transient(format!(
                "trajectory {trajectory_id} has not started here yet"
            ))
        })
}

async fn set_state(
    txn: &DatabaseTransaction,
    id: Uuid,
    trajectory_id: &str,
    state: &str,
) -> Result<(), HandlerError> {
    let changed = resident::Entity::update_many()
        .col_expr(resident::Column::State, Expr::value(state))
        .filter(resident::Column::TrajectoryId.eq(id))
        .exec(txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(HandlerError::transient(format!(
            "trajectory {trajectory_id} has not started here yet"
        )));
    }
    Ok(())
}

/// One event of `trajectories.events.v1` as [`Residents`] reads it, decoded and checked.
/// A field the handler checks only after reading the database is kept as its check's
/// result, so a failure is reported in the same order as the handler always did.
#[derive(Debug)]
pub enum ResidentEvent {
    Started {
        trajectory_id: Uuid,
        started_on: NaiveDate,
        municipality_nis: String,
        person_id: Result<Uuid, HandlerError>,
        agency: Result<Agency, HandlerError>,
    },
    ContractSigned {
        trajectory_id: Uuid,
        signed_on: NaiveDate,
    },
    ComponentCompleted {
        trajectory_id: Uuid,
        component: i32,
        completed_on: Result<NaiveDate, HandlerError>,
    },
    AttestIssued {
        trajectory_id: Uuid,
        municipality_nis: String,
        issued_on: Result<NaiveDate, HandlerError>,
    },
    ObligationBreached {
        trajectory_id: Uuid,
        component: i32,
        deadline: Result<NaiveDate, HandlerError>,
    },
    /// Suspended, resumed or stopped: the trajectory as given and its new state.
    State {
        id: Uuid,
        trajectory_id: String,
        state: &'static str,
    },
}

/// The decoding and checking half of [`Residents`], without the database; `None` for an
/// event of a type it does not read.
pub fn resident_event(event: &Envelope) -> Result<Option<ResidentEvent>, HandlerError> {
    fn state(
        trajectory_id: String,
        state: &'static str,
    ) -> Result<Option<ResidentEvent>, HandlerError> {
        Ok(Some(ResidentEvent::State {
            id: wire::uuid("trajectory_id", &trajectory_id)?,
            trajectory_id,
            state,
        }))
    }
    if let Some(started) = event.decode::<traj::TrajectoryStarted>()? {
        Ok(Some(ResidentEvent::Started {
            trajectory_id: wire::uuid("trajectory_id", &started.trajectory_id)?,
            started_on: wire::required_date("started_on", started.started_on.as_ref())?,
            person_id: wire::uuid("person_id", &started.person_id).map_err(HandlerError::from),
            agency: wire::required_agency("agency", started.agency).map_err(HandlerError::from),
            municipality_nis: started.municipality_nis,
        }))
    } else if let Some(signed) = event.decode::<traj::ContractSigned>()? {
        Ok(Some(ResidentEvent::ContractSigned {
            trajectory_id: wire::uuid("trajectory_id", &signed.trajectory_id)?,
            signed_on: wire::required_date("signed_on", signed.signed_on.as_ref())?,
        }))
    } else if let Some(done) = event.decode::<traj::ComponentCompleted>()? {
        Ok(Some(ResidentEvent::ComponentCompleted {
            trajectory_id: wire::uuid("trajectory_id", &done.trajectory_id)?,
            component: done.component,
            completed_on: wire::required_date("completed_on", done.completed_on.as_ref())
                .map_err(HandlerError::from),
        }))
    } else if let Some(attest) = event.decode::<traj::AttestIssued>()? {
        Ok(Some(ResidentEvent::AttestIssued {
            trajectory_id: wire::uuid("trajectory_id", &attest.trajectory_id)?,
            issued_on: wire::required_date("issued_on", attest.issued_on.as_ref())
                .map_err(HandlerError::from),
            municipality_nis: attest.municipality_nis,
        }))
    } else if let Some(breach) = event.decode::<traj::ObligationBreached>()? {
        Ok(Some(ResidentEvent::ObligationBreached {
            trajectory_id: wire::uuid("trajectory_id", &breach.trajectory_id)?,
            component: breach.component,
            deadline: wire::required_date("deadline", breach.deadline.as_ref())
                .map_err(HandlerError::from),
        }))
    } else if let Some(e) = event.decode::<traj::TrajectorySuspended>()? {
        state(e.trajectory_id, "suspended")
    } else if let Some(e) = event.decode::<traj::TrajectoryResumed>()? {
        state(e.trajectory_id, "active")
    } else if let Some(e) = event.decode::<traj::TrajectoryStopped>()? {
        state(e.trajectory_id, "stopped")
    } else {
        Ok(None)
    }
}

/// The handler of `trajectories.events.v1`.
#[derive(Debug)]
pub struct Residents;

impl Handler for Residents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        use resident::Column as C;
        let Some(decoded) = resident_event(event)? else {
            return Ok(());
        };
        match decoded {
            ResidentEvent::Started {
                trajectory_id,
                started_on,
                municipality_nis,
                person_id,
                agency,
            } => {
                // A trajectory started before the register reached trajectories may carry
                // a code merged away in 2025: count and manage it under its municipality
                // now.
                let nis = current_nis(txn, &municipality_nis).await?;
                resident::Entity::insert(resident::ActiveModel {
                    trajectory_id: Set(trajectory_id),
                    person_id: Set(person_id?),
                    nis: Set(nis.clone()),
                    agency: Set(agency?.as_str().to_owned()),
                    contract_signed_on: Set(None),
                    state: Set("active".to_owned()),
                    hours: Set(0),
                    completed_on: Set(None),
                })
                .on_conflict(
                    OnConflict::column(C::TrajectoryId)
                        .update_columns([C::Nis, C::Agency])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
                fact(
                    txn,
                    format!("started:{trajectory_id}"),
                    Measure::TrajectoriesStarted,
                    &nis,
                    started_on,
                    trajectory_id,
                    1,
                )
                .await?;
                tracing::info!(%trajectory_id, "resident projected");
            }
            ResidentEvent::ContractSigned {
                trajectory_id,
                signed_on,
            } => {
                let nis = nis_of(txn, trajectory_id).await?;
                resident::Entity::update_many()
                    .col_expr(C::ContractSignedOn, Expr::value(Some(signed_on)))
                    .filter(C::TrajectoryId.eq(trajectory_id))
                    .exec(txn)
                    .await?;
                fact(
                    txn,
                    format!("contract:{trajectory_id}"),
                    Measure::ContractsSigned,
                    &nis,
                    signed_on,
                    trajectory_id,
                    1,
                )
                .await?;
            }
            ResidentEvent::ComponentCompleted {
                trajectory_id,
                component,
                completed_on,
            } => {
                let nis = nis_of(txn, trajectory_id).await?;
                fact(
                    txn,
                    format!("component:{trajectory_id}:{component}"),
                    Measure::ComponentsCompleted,
                    &nis,
                    completed_on?,
                    trajectory_id,
                    1,
                )
                .await?;
            }
            ResidentEvent::AttestIssued {
                trajectory_id,
                municipality_nis,
                issued_on,
            } => {
                let nis = current_nis(txn, &municipality_nis).await?;
                fact(
                    txn,
                    format!("attest:{trajectory_id}"),
                    Measure::AttestsIssued,
                    &nis,
                    issued_on?,
                    trajectory_id,
                    1,
                )
                .await?;
            }
            ResidentEvent::ObligationBreached {
                trajectory_id,
                component,
                deadline,
            } => {
                let nis = nis_of(txn, trajectory_id).await?;
                fact(
                    txn,
                    format!("breach:{trajectory_id}:{component}"),
                    Measure::ObligationsBreached,
                    &nis,
                    deadline?,
                    trajectory_id,
                    1,
                )
                .await?;
            }
            ResidentEvent::State {
                id,
                trajectory_id,
                state,
            } => set_state(txn, id, &trajectory_id, state).await?,
        }
        Ok(())
    }
}

/// A monitor fact of one event of this service's own `municipalities.events.v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnFact {
    pub subject: String,
    pub measure: Measure,
    pub nis: String,
    pub on: NaiveDate,
    pub person_ref: Uuid,
    pub amount: i64,
}

/// The decoding and checking half of [`OwnFacts`], without the database; `None` for an
/// event of a type it does not read.
pub fn own_fact(event: &Envelope) -> Result<Option<OwnFact>, HandlerError> {
    if let Some(started) = event.decode::<own::ParticipationPlacementStarted>()? {
        Ok(Some(OwnFact {
            subject: format!(
                "placement:{}",
                wire::uuid("placement_id", &started.placement_id)?
            ),
            measure: Measure::ParticipationPlacements,
            on: wire::required_date("started_on", started.started_on.as_ref())?,
            person_ref: wire::uuid("trajectory_id", &started.trajectory_id)?,
            nis: started.municipality_nis,
            amount: 1,
        }))
    } else if let Some(logged) = event.decode::<own::ParticipationHoursLogged>()? {
        Ok(Some(OwnFact {
            subject: format!("hours:{}", wire::uuid("entry_id", &logged.entry_id)?),
            measure: Measure::ParticipationHours,
            on: wire::required_date("done_on", logged.done_on.as_ref())?,
            person_ref: wire::uuid("trajectory_id", &logged.trajectory_id)?,
            nis: logged.municipality_nis,
            amount: i64::from(logged.hours),
        }))
    } else {
        Ok(None)
    }
}

/// The handler of this service's own `municipalities.events.v1`, for the monitor.
#[derive(Debug)]
pub struct OwnFacts;

impl Handler for OwnFacts {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if let Some(f) = own_fact(event)? {
            fact(
                txn,
                f.subject,
                f.measure,
                &f.nis,
                f.on,
                f.person_ref,
                f.amount,
            )
            .await?;
        }
        Ok(())
    }
}
