//! Applies `municipalities.events.v1`: the municipality register (`RegisterPublished`,
//! kept through the shared `wire::register` projection to check and route
//! `municipality_nis`), and participation, whose hours municipalities alone logs:
//! `ParticipationHoursLogged` keeps the trajectory's total for its view,
//! `ParticipationCompleted` completes the component (and the attest follows when nothing
//! else is open).

use chrono::NaiveDate;
use platform::events::{
    Envelope, Outbox,
    consumer::{Handler, HandlerError},
};
use proto::municipalities::v1 as pb;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;
use wire::register;

use crate::{results::handler_error, store};

/// The consumer group (and inbox name).
pub const GROUP: &str = "trajectories.municipalities";
/// The topic it reads.
pub const TOPIC: &str = "municipalities.events.v1";

/// The handler of `municipalities.events.v1`.
#[derive(Debug)]
pub struct MunicipalityEvents {
    pub outbox: Outbox,
}

/// One event of `municipalities.events.v1` as [`MunicipalityEvents`] reads it, decoded
/// and checked.
#[derive(Debug, Clone)]
pub enum MunicipalityEvent {
    /// `RegisterPublished`: the rows of every code it holds.
    Register(Vec<register::municipality::ActiveModel>),
    /// `ParticipationHoursLogged`, or `ParticipationCompleted` with its day.
    Participation {
        id: Uuid,
        hours: i32,
        completed_on: Option<NaiveDate>,
    },
}

/// The decoding and checking half of [`MunicipalityEvents`], without the database; `None`
/// for an event of a type it does not read.
pub fn municipality_event(event: &Envelope) -> Result<Option<MunicipalityEvent>, HandlerError> {
    if let Some(rows) = register::rows(event)? {
        return Ok(Some(MunicipalityEvent::Register(rows)));
    }
    let (id, hours, completed_on) =
        if let Some(logged) = event.decode::<pb::ParticipationHoursLogged>()? {
            (logged.trajectory_id, logged.trajectory_hours, None)
        } else if let Some(done) = event.decode::<pb::ParticipationCompleted>()? {
            let on = wire::required_date("completed_on", done.completed_on.as_ref())?;
            (done.trajectory_id, done.trajectory_hours, Some(on))
        } else {
            return Ok(None);
        };
    Ok(Some(MunicipalityEvent::Participation {
        id: wire::uuid("trajectory_id", &id)?,
        hours,
        completed_on,
    }))
}

impl Handler for MunicipalityEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let (id, hours, completed_on) = match municipality_event(event)? {
            None => return Ok(()),
            Some(MunicipalityEvent::Register(rows)) => {
                register::apply(txn, rows).await?;
                return Ok(());
            }
            Some(MunicipalityEvent::Participation {
                id,
                hours,
                completed_on,
            }) => (id, hours, completed_on),
        };
        let mut trajectory = store::load(txn, id)
            .await
            .map_err(handler_error)?
            .ok_or_else(|| HandlerError::permanent(format!("trajectory {id} does not exist")))?;
        trajectory.record_participation_hours(hours.max(0) as u32);
        let events = match completed_on {
            Some(on) => trajectory.complete_participation(on),
            None => Vec::new(),
        };
        let saved = store::save_progress(txn, &self.outbox, &mut trajectory, events)
            .await
            .map_err(handler_error)?;
        tracing::info!(trajectory_id = %id, hours, events = saved, "participation applied");
        Ok(())
    }
}
