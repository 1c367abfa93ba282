//! What ceremonies learns from events, applied through the platform inbox so each event
//! counts once:
//! - [`Attests`] reads `trajectories.events.v1` and keeps every `AttestIssued` (who, in
//!   which municipality, on which day): the source of invitation lists;
//! - `wire::register::Register` (run under [`REGISTER_GROUP`]) reads
//!   `municipalities.events.v1` and keeps the municipality register (`RegisterPublished`),
//!   to check a ceremony's municipality and its agency and to resolve the names in
//!   historical overviews.

use platform::events::{
    Envelope,
    consumer::{Handler, HandlerError},
};
use proto::trajectories::v1 as traj;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

use crate::store::attest;

/// The consumer group (and inbox name) of the attests projection.
pub const ATTESTS_GROUP: &str = "ceremonies.attests";
/// The consumer group (and inbox name) of the register projection.
pub const REGISTER_GROUP: &str = "ceremonies.register";

/// The handler of `trajectories.events.v1`.
#[derive(Debug)]
pub struct Attests;

/// The decoding and checking half of [`Attests`], without the database: the trajectory
/// and the row kept of an `AttestIssued`, `None` for an event of another type.
pub fn attest_row(event: &Envelope) -> Result<Option<(Uuid, attest::ActiveModel)>, HandlerError> {
    let Some(issued) = event.decode::<traj::AttestIssued>()? else {
        return Ok(None);
    };
    let trajectory_id = wire::uuid("trajectory_id", &issued.trajectory_id)?;
    let agency = wire::required_agency("agency", issued.agency)?;
    let row = attest::ActiveModel {
        trajectory_id: Set(trajectory_id),
        person_id: Set(wire::uuid("person_id", &issued.person_id)?),
        nis: Set(wire::nis("municipality_nis", &issued.municipality_nis)?.to_string()),
        agency: Set(agency.as_str().to_owned()),
        issued_on: Set(wire::required_date("issued_on", issued.issued_on.as_ref())?),
    };
    Ok(Some((trajectory_id, row)))
}

impl Handler for Attests {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let Some((trajectory_id, row)) = attest_row(event)? else {
            return Ok(());
        };
        // An attest is issued once per trajectory; the same event again changes nothing.
        attest::Entity::insert(row)
            .on_conflict(
                OnConflict::column(attest::Column::TrajectoryId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        tracing::debug!(%trajectory_id, "attest kept for invitations");
        Ok(())
    }
}
