//! What recruitment learns from events, applied through the platform inbox so each event
//! counts once:
//! - the shared [`wire::register::Register`] reads `municipalities.events.v1` and keeps
//!   the municipality register (`RegisterPublished`) under [`REGISTER_GROUP`];
//! - [`Conversion`] reads `trajectories.events.v1` and keeps, per person, the first
//!   trajectory start (the intake) and the first contract: the funnel's later steps.

use chrono::NaiveDate;
use platform::events::{
    Envelope,
    consumer::{Handler, HandlerError},
};
use proto::trajectories::v1 as traj;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

use crate::store::conversion;

/// The consumer group (and inbox name) of the register projection.
pub const REGISTER_GROUP: &str = "recruitment.register";
/// The consumer group (and inbox name) of the conversion projection.
pub const CONVERSION_GROUP: &str = "recruitment.conversion";

/// The handler of `trajectories.events.v1`.
#[derive(Debug)]
pub struct Conversion;

impl Conversion {
    /// Keeps the earliest day of a step: a later trajectory never moves it.
    async fn step(
        txn: &DatabaseTransaction,
        person_id: Uuid,
        intake_on: Option<NaiveDate>,
        contract_on: Option<NaiveDate>,
    ) -> Result<(), HandlerError> {
        use conversion::Column as C;
        let existing = conversion::Entity::find_by_id(person_id).one(txn).await?;
        let earliest = |old: Option<NaiveDate>, new: Option<NaiveDate>| match (old, new) {
            (Some(o), Some(n)) => Some(o.min(n)),
            (o, n) => o.or(n),
        };
        let (old_intake, old_contract) = existing
            .as_ref()
            .map_or((None, None), |c| (c.intake_on, c.contract_on));
        let row = conversion::ActiveModel {
            person_id: Set(person_id),
            intake_on: Set(earliest(old_intake, intake_on)),
            contract_on: Set(earliest(old_contract, contract_on)),
        };
        conversion::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::PersonId)
                    .update_columns([C::IntakeOn, C::ContractOn])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }
}

/// A step of the funnel that [`Conversion`] keeps: a person's intake or contract day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Intake { person_id: Uuid, on: NaiveDate },
    Contract { person_id: Uuid, on: NaiveDate },
}

/// The decoding and checking half of [`Conversion`], without the database; `None` for an
/// event of a type it does not read.
pub fn conversion_step(event: &Envelope) -> Result<Option<Step>, HandlerError> {
    if let Some(started) = event.decode::<traj::TrajectoryStarted>()? {
        let person_id = wire::uuid("person_id", &started.person_id)?;
        let on = wire::required_date("started_on", started.started_on.as_ref())?;
        Ok(Some(Step::Intake { person_id, on }))
    } else if let Some(signed) = event.decode::<traj::ContractSigned>()? {
        let person_id = wire::uuid("person_id", &signed.person_id)?;
        let on = wire::required_date("signed_on", signed.signed_on.as_ref())?;
        Ok(Some(Step::Contract { person_id, on }))
    } else {
        Ok(None)
    }
}

impl Handler for Conversion {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        match conversion_step(event)? {
            Some(Step::Intake { person_id, on }) => {
                Self::step(txn, person_id, Some(on), None).await?;
                tracing::debug!(%person_id, "intake kept for the funnel");
            }
            Some(Step::Contract { person_id, on }) => {
                Self::step(txn, person_id, None, Some(on)).await?;
                tracing::debug!(%person_id, "contract kept for the funnel");
            }
            None => {}
        }
        Ok(())
    }
}
