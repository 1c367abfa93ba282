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
use platform::events::{
    Envelope,
    consumer::{Handler, HandlerError},
};
use proto::{common::v1 as common, municipalities::v1 as own, trajectories::v1 as traj};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use crate::{
    domain::Agency,
    monitor::Measure,
    store::{former_nis, monitor_fact, resident},
};

/// The consumer group (and inbox name) of the residents projection.
pub const RESIDENTS_GROUP: &str = "municipalities.residents";
/// The consumer group (and inbox name) of the monitor's own facts.
pub const MONITOR_GROUP: &str = "municipalities.monitor";

fn uuid(field: &str, value: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(value).map_err(|_| HandlerError::permanent(format!("{field} is not a UUID")))
}

fn date(field: &str, d: Option<&common::Date>) -> Result<NaiveDate, HandlerError> {
    d.and_then(|d| NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32))
        .ok_or_else(|| HandlerError::permanent(format!("{field} is not a date")))
}

fn agency(value: i32) -> Result<Agency, HandlerError> {
    match common::Agency::try_from(value) {
        Ok(common::Agency::Agii) => Ok(Agency::Agii),
        Ok(common::Agency::Bon) => Ok(Agency::Bon),
        Ok(common::Agency::Atlas) => Ok(Agency::Atlas),
        Ok(common::Agency::InGent) => Ok(Agency::InGent),
        _ => Err(HandlerError::permanent(format!(
            "agency {value} is unknown"
        ))),
    }
}

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
    trajectory_id: &str,
    state: &str,
) -> Result<(), HandlerError> {
    let id = uuid("trajectory_id", trajectory_id)?;
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
        if let Some(started) = event.decode::<traj::TrajectoryStarted>()? {
            let trajectory_id = uuid("trajectory_id", &started.trajectory_id)?;
            let started_on = date("started_on", started.started_on.as_ref())?;
            // A trajectory started before the register reached trajectories may carry a
            // code merged away in 2025: count and manage it under its municipality now.
            let nis = current_nis(txn, &started.municipality_nis).await?;
            resident::Entity::insert(resident::ActiveModel {
                trajectory_id: Set(trajectory_id),
                person_id: Set(uuid("person_id", &started.person_id)?),
                nis: Set(nis.clone()),
                agency: Set(agency(started.agency)?.as_str().to_owned()),
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
        } else if let Some(signed) = event.decode::<traj::ContractSigned>()? {
            let trajectory_id = uuid("trajectory_id", &signed.trajectory_id)?;
            let signed_on = date("signed_on", signed.signed_on.as_ref())?;
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
        } else if let Some(done) = event.decode::<traj::ComponentCompleted>()? {
            let trajectory_id = uuid("trajectory_id", &done.trajectory_id)?;
            let nis = nis_of(txn, trajectory_id).await?;
            fact(
                txn,
                format!("component:{trajectory_id}:{}", done.component),
                Measure::ComponentsCompleted,
                &nis,
                date("completed_on", done.completed_on.as_ref())?,
                trajectory_id,
                1,
            )
            .await?;
        } else if let Some(attest) = event.decode::<traj::AttestIssued>()? {
            let trajectory_id = uuid("trajectory_id", &attest.trajectory_id)?;
            let nis = current_nis(txn, &attest.municipality_nis).await?;
            fact(
                txn,
                format!("attest:{trajectory_id}"),
                Measure::AttestsIssued,
                &nis,
                date("issued_on", attest.issued_on.as_ref())?,
                trajectory_id,
                1,
            )
            .await?;
        } else if let Some(breach) = event.decode::<traj::ObligationBreached>()? {
            let trajectory_id = uuid("trajectory_id", &breach.trajectory_id)?;
            let nis = nis_of(txn, trajectory_id).await?;
            fact(
                txn,
                format!("breach:{trajectory_id}:{}", breach.component),
                Measure::ObligationsBreached,
                &nis,
                date("deadline", breach.deadline.as_ref())?,
                trajectory_id,
                1,
            )
            .await?;
        } else if let Some(e) = event.decode::<traj::TrajectorySuspended>()? {
            set_state(txn, &e.trajectory_id, "suspended").await?;
        } else if let Some(e) = event.decode::<traj::TrajectoryResumed>()? {
            set_state(txn, &e.trajectory_id, "active").await?;
        } else if let Some(e) = event.decode::<traj::TrajectoryStopped>()? {
            set_state(txn, &e.trajectory_id, "stopped").await?;
        }
        Ok(())
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
        if let Some(started) = event.decode::<own::ParticipationPlacementStarted>()? {
            fact(
                txn,
                format!("placement:{}", uuid("placement_id", &started.placement_id)?),
                Measure::ParticipationPlacements,
                &started.municipality_nis,
                date("started_on", started.started_on.as_ref())?,
                uuid("trajectory_id", &started.trajectory_id)?,
                1,
            )
            .await?;
        } else if let Some(logged) = event.decode::<own::ParticipationHoursLogged>()? {
            fact(
                txn,
                format!("hours:{}", uuid("entry_id", &logged.entry_id)?),
                Measure::ParticipationHours,
                &logged.municipality_nis,
                date("done_on", logged.done_on.as_ref())?,
                uuid("trajectory_id", &logged.trajectory_id)?,
                i64::from(logged.hours),
            )
            .await?;
        }
        Ok(())
    }
}
