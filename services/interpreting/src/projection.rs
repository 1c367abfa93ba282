//! What interpreting learns from events, applied through the platform inbox so each event
//! counts once:
//! - `wire::register::Register` reads `municipalities.events.v1` and keeps the
//!   municipality register (`RegisterPublished`) under [`REGISTER_GROUP`]: which codes
//!   exist, their province and agency;
//! - [`Trajectories`] reads `trajectories.events.v1` and keeps each trajectory's first and
//!   last day (`TrajectoryStarted`; `AttestIssued`, `EffortDeclarationIssued` or
//!   `TrajectoryStopped`): who pays a service on a given day.

use chrono::NaiveDate;
use platform::events::{
    Envelope,
    consumer::{Handler, HandlerError},
};
use proto::trajectories::v1 as traj;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

use crate::store::trajectory;

/// The consumer group (and inbox name) of the register projection.
pub const REGISTER_GROUP: &str = "interpreting.register";
/// The consumer group (and inbox name) of the trajectories projection.
pub const TRAJECTORIES_GROUP: &str = "interpreting.trajectories";

/// The handler of `trajectories.events.v1`.
#[derive(Debug)]
pub struct Trajectories;

impl Trajectories {
    /// Keeps the earliest start and the earliest end a trajectory was given: an event
    /// again, or out of order, changes nothing it should not.
    async fn keep(
        txn: &DatabaseTransaction,
        trajectory_id: Uuid,
        person_id: Uuid,
        started_on: Option<NaiveDate>,
        ended_on: Option<NaiveDate>,
    ) -> Result<(), HandlerError> {
        use trajectory::Column as C;
        let existing = trajectory::Entity::find_by_id(trajectory_id)
            .one(txn)
            .await?;
        let earliest = |old: Option<NaiveDate>, new: Option<NaiveDate>| match (old, new) {
            (Some(o), Some(n)) => Some(o.min(n)),
            (o, n) => o.or(n),
        };
        let (old_start, old_end) = existing
            .as_ref()
            .map_or((None, None), |t| (t.started_on, t.ended_on));
        trajectory::Entity::insert(trajectory::ActiveModel {
            trajectory_id: Set(trajectory_id),
            person_id: Set(person_id),
            started_on: Set(earliest(old_start, started_on)),
            ended_on: Set(earliest(old_end, ended_on)),
        })
        .on_conflict(
            OnConflict::column(C::TrajectoryId)
                .update_columns([C::StartedOn, C::EndedOn])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        Ok(())
    }
}

/// What [`Trajectories`] keeps of one event: a trajectory's first or last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub trajectory_id: Uuid,
    pub person_id: Uuid,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

/// The decoding and checking half of [`Trajectories`], without the database; `None` for
/// an event of a type it does not read.
pub fn span(event: &Envelope) -> Result<Option<Span>, HandlerError> {
    let (trajectory_id, person_id, started, ended) =
        if let Some(e) = event.decode::<traj::TrajectoryStarted>()? {
            let on = wire::required_date("started_on", e.started_on.as_ref())?;
            (e.trajectory_id, e.person_id, Some(on), None)
        } else if let Some(e) = event.decode::<traj::AttestIssued>()? {
            let on = wire::required_date("issued_on", e.issued_on.as_ref())?;
            (e.trajectory_id, e.person_id, None, Some(on))
        } else if let Some(e) = event.decode::<traj::EffortDeclarationIssued>()? {
            let on = wire::required_date("issued_on", e.issued_on.as_ref())?;
            (e.trajectory_id, e.person_id, None, Some(on))
        } else if let Some(e) = event.decode::<traj::TrajectoryStopped>()? {
            let on = wire::required_date("stopped_on", e.stopped_on.as_ref())?;
            (e.trajectory_id, e.person_id, None, Some(on))
        } else {
            return Ok(None);
        };
    let trajectory_id = wire::uuid("trajectory_id", &trajectory_id)?;
    let person_id = wire::uuid("person_id", &person_id)?;
    Ok(Some(Span {
        trajectory_id,
        person_id,
        started_on: started,
        ended_on: ended,
    }))
}

impl Handler for Trajectories {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let Some(Span {
            trajectory_id,
            person_id,
            started_on: started,
            ended_on: ended,
        }) = span(event)?
        else {
            return Ok(());
        };
        Self::keep(txn, trajectory_id, person_id, started, ended).await?;
        tracing::debug!(%trajectory_id, "trajectory span kept for who pays");
        Ok(())
    }
}
