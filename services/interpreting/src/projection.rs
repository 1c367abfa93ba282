//! What interpreting learns from events, applied through the platform inbox so each event
//! counts once:
//! - [`Register`] reads `municipalities.events.v1` and keeps the municipality register
//!   (`RegisterPublished`): which codes exist, their province and agency;
//! - [`Trajectories`] reads `trajectories.events.v1` and keeps each trajectory's first and
//!   last day (`TrajectoryStarted`; `AttestIssued`, `EffortDeclarationIssued` or
//!   `TrajectoryStopped`): who pays a service on a given day.

use chrono::NaiveDate;
use platform::{
    Agency,
    events::{
        Envelope,
        consumer::{Handler, HandlerError},
    },
};
use proto::{municipalities::v1 as muni, trajectories::v1 as traj};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

use crate::store::{municipality, trajectory};

/// The consumer group (and inbox name) of the register projection.
pub const REGISTER_GROUP: &str = "interpreting.register";
/// The consumer group (and inbox name) of the trajectories projection.
pub const TRAJECTORIES_GROUP: &str = "interpreting.trajectories";

fn permanent(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::permanent(e.to_string())
}

/// The handler of `municipalities.events.v1`.
#[derive(Debug)]
pub struct Register;

/// The decoding and checking half of [`Register`], without the database: the rows of a
/// `RegisterPublished`, every code of a municipality pointing at it; `None` for an event
/// of another type.
pub fn register_rows(
    event: &Envelope,
) -> Result<Option<Vec<municipality::ActiveModel>>, HandlerError> {
    let Some(published) = event.decode::<muni::RegisterPublished>()? else {
        return Ok(None);
    };
    let mut rows = Vec::new();
    for m in &published.municipalities {
        let current = platform::Nis::parse("nis", &m.nis).map_err(permanent)?;
        let agency: Option<Agency> = wire::agency_from("agency", m.agency).map_err(permanent)?;
        for code in std::iter::once(&m.nis).chain(&m.former_nis) {
            rows.push(municipality::ActiveModel {
                code: Set(platform::Nis::parse("former_nis", code)
                    .map_err(permanent)?
                    .to_string()),
                current_nis: Set(current.to_string()),
                province_nis: Set(m.province_nis.clone()),
                agency: Set(agency.map(|a| a.as_str().to_owned())),
            });
        }
    }
    if rows.is_empty() {
        return Err(HandlerError::permanent("an empty register"));
    }
    Ok(Some(rows))
}

impl Handler for Register {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        use municipality::Column as C;
        let Some(rows) = register_rows(event)? else {
            return Ok(());
        };
        let count = rows.len();
        municipality::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(C::Code)
                    .update_columns([C::CurrentNis, C::ProvinceNis, C::Agency])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        tracing::info!(codes = count, "municipality register applied");
        Ok(())
    }
}

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
            let on = wire::required_date("started_on", e.started_on.as_ref()).map_err(permanent)?;
            (e.trajectory_id, e.person_id, Some(on), None)
        } else if let Some(e) = event.decode::<traj::AttestIssued>()? {
            let on = wire::required_date("issued_on", e.issued_on.as_ref()).map_err(permanent)?;
            (e.trajectory_id, e.person_id, None, Some(on))
        } else if let Some(e) = event.decode::<traj::EffortDeclarationIssued>()? {
            let on = wire::required_date("issued_on", e.issued_on.as_ref()).map_err(permanent)?;
            (e.trajectory_id, e.person_id, None, Some(on))
        } else if let Some(e) = event.decode::<traj::TrajectoryStopped>()? {
            let on = wire::required_date("stopped_on", e.stopped_on.as_ref()).map_err(permanent)?;
            (e.trajectory_id, e.person_id, None, Some(on))
        } else {
            return Ok(None);
        };
    let trajectory_id = wire::uuid("trajectory_id", &trajectory_id).map_err(permanent)?;
    let person_id = wire::uuid("person_id", &person_id).map_err(permanent)?;
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
