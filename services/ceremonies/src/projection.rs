//! What ceremonies learns from events, applied through the platform inbox so each event
//! counts once:
//! - [`Attests`] reads `trajectories.events.v1` and keeps every `AttestIssued` (who, in
//!   which municipality, on which day): the source of invitation lists;
//! - [`Register`] reads `municipalities.events.v1` and keeps the municipality register
//!   (`RegisterPublished`), to check a ceremony's municipality and its agency and to
//!   resolve the names in historical overviews.

use chrono::NaiveDate;
use platform::{
    Agency,
    events::{
        Envelope,
        consumer::{Handler, HandlerError},
    },
};
use proto::{common::v1 as common, municipalities::v1 as muni, trajectories::v1 as traj};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

use crate::{
    convert,
    domain::Nis,
    store::{attest, municipality},
};

/// The consumer group (and inbox name) of the attests projection.
pub const ATTESTS_GROUP: &str = "ceremonies.attests";
/// The consumer group (and inbox name) of the register projection.
pub const REGISTER_GROUP: &str = "ceremonies.register";

fn uuid(field: &str, value: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(value).map_err(|_| HandlerError::permanent(format!("{field} is not a UUID")))
}

fn date(field: &str, d: Option<&common::Date>) -> Result<NaiveDate, HandlerError> {
    d.and_then(convert::naive_date)
        .ok_or_else(|| HandlerError::permanent(format!("{field} is not a date")))
}

fn agency(field: &str, value: i32) -> Result<Option<Agency>, HandlerError> {
    convert::agency_from("agency", value)
        .map_err(|_| HandlerError::permanent(format!("{field} {value} is not an agency")))
}

fn nis(field: &'static str, value: &str) -> Result<Nis, HandlerError> {
    Nis::parse(field, value).map_err(|e| HandlerError::permanent(e.to_string()))
}

/// The handler of `trajectories.events.v1`.
#[derive(Debug)]
pub struct Attests;

/// The decoding and checking half of [`Attests`], without the database: the trajectory
/// and the row kept of an `AttestIssued`, `None` for an event of another type.
pub fn attest_row(event: &Envelope) -> Result<Option<(Uuid, attest::ActiveModel)>, HandlerError> {
    let Some(issued) = event.decode::<traj::AttestIssued>()? else {
        return Ok(None);
    };
    let trajectory_id = uuid("trajectory_id", &issued.trajectory_id)?;
    let agency = agency("agency", issued.agency)?
        .ok_or_else(|| HandlerError::permanent("agency is required"))?;
    let row = attest::ActiveModel {
        trajectory_id: Set(trajectory_id),
        person_id: Set(uuid("person_id", &issued.person_id)?),
        nis: Set(nis("municipality_nis", &issued.municipality_nis)?.to_string()),
        agency: Set(agency.as_str().to_owned()),
        issued_on: Set(date("issued_on", issued.issued_on.as_ref())?),
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
        let current = nis("nis", &m.nis)?;
        let agency = agency("agency", m.agency)?;
        for code in std::iter::once(&m.nis).chain(&m.former_nis) {
            rows.push(municipality::ActiveModel {
                code: Set(nis("former_nis", code)?.to_string()),
                current_nis: Set(current.to_string()),
                name_nl: Set(m.name_nl.clone()),
                name_fr: Set(m.name_fr.clone()),
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
                    .update_columns([C::CurrentNis, C::NameNl, C::NameFr, C::Agency])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        tracing::info!(codes = count, "municipality register applied");
        Ok(())
    }
}
