//! What recruitment learns from events, applied through the platform inbox so each event
//! counts once:
//! - [`Register`] reads `municipalities.events.v1` and keeps the municipality register
//!   (`RegisterPublished`): which codes exist, their region and agency;
//! - [`Conversion`] reads `trajectories.events.v1` and keeps, per person, the first
//!   trajectory start (the intake) and the first contract: the funnel's later steps.

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

use crate::{
    domain::Nis,
    store::{conversion, municipality},
};

/// The consumer group (and inbox name) of the register projection.
pub const REGISTER_GROUP: &str = "recruitment.register";
/// The consumer group (and inbox name) of the conversion projection.
pub const CONVERSION_GROUP: &str = "recruitment.conversion";

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
        let current = Nis::parse("nis", &m.nis).map_err(permanent)?;
        let agency: Option<Agency> = wire::agency_from("agency", m.agency).map_err(permanent)?;
        for code in std::iter::once(&m.nis).chain(&m.former_nis) {
            rows.push(municipality::ActiveModel {
                code: Set(Nis::parse("former_nis", code)
                    .map_err(permanent)?
                    .to_string()),
                current_nis: Set(current.to_string()),
                name_nl: Set(m.name_nl.clone()),
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
                    .update_columns([C::CurrentNis, C::NameNl, C::Agency])
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
        let person_id = wire::uuid("person_id", &started.person_id).map_err(permanent)?;
        let on =
            wire::required_date("started_on", started.started_on.as_ref()).map_err(permanent)?;
        Ok(Some(Step::Intake { person_id, on }))
    } else if let Some(signed) = event.decode::<traj::ContractSigned>()? {
        let person_id = wire::uuid("person_id", &signed.person_id).map_err(permanent)?;
        let on = wire::required_date("signed_on", signed.signed_on.as_ref()).map_err(permanent)?;
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
