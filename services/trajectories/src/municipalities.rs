//! Applies `municipalities.events.v1`: the municipality register (`RegisterPublished`,
//! kept as this service's projection to check and route `municipality_nis`), and
//! participation, whose hours municipalities alone logs: `ParticipationHoursLogged` keeps
//! the trajectory's total for its view, `ParticipationCompleted` completes the component
//! (and the attest follows when nothing else is open).

use chrono::NaiveDate;
use platform::events::{
    Envelope, Outbox,
    consumer::{Handler, HandlerError},
};
use proto::{common::v1 as common, municipalities::v1 as pb};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

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

fn agency(value: i32) -> Result<Option<&'static str>, HandlerError> {
    match common::Agency::try_from(value) {
        Ok(common::Agency::Unspecified) => Ok(None),
        Ok(common::Agency::Agii) => Ok(Some("agii")),
        Ok(common::Agency::Bon) => Ok(Some("bon")),
        Ok(common::Agency::Atlas) => Ok(Some("atlas")),
        Ok(common::Agency::InGent) => Ok(Some("in-gent")),
        Err(_) => Err(HandlerError::permanent(format!(
            "agency {value} is unknown"
        ))),
    }
}

fn region(value: i32) -> &'static str {
    match pb::Region::try_from(value) {
        Ok(pb::Region::Flanders) => "Flanders",
        Ok(pb::Region::Brussels) => "Brussels",
        Ok(pb::Region::Wallonia) => "Wallonia",
        _ => "an unknown region",
    }
}

fn five_digits(field: &str, value: &str) -> Result<(), HandlerError> {
    if value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(HandlerError::permanent(format!(
            "{field} {value:?} is not a NIS code"
        )))
    }
}

/// The rows of every code of `m` (its own and its former ones), each pointing at `m`.
fn rows(m: &pb::Municipality) -> Result<Vec<store::municipality::ActiveModel>, HandlerError> {
    five_digits("nis", &m.nis)?;
    let agency = agency(m.agency)?;
    std::iter::once(&m.nis)
        .chain(&m.former_nis)
        .map(|code| {
            five_digits("former_nis", code)?;
            Ok(store::municipality::ActiveModel {
                code: Set(code.clone()),
                current_nis: Set(m.nis.clone()),
                name_nl: Set(m.name_nl.clone()),
                region: Set(region(m.region).to_owned()),
                agency: Set(agency.map(str::to_owned)),
            })
        })
        .collect()
}

/// The rows of the whole register, checked; an empty register is refused.
pub fn register_rows(
    all: &[pb::Municipality],
) -> Result<Vec<store::municipality::ActiveModel>, HandlerError> {
    let mut upserts = Vec::new();
    for m in all {
        upserts.extend(rows(m)?);
    }
    if upserts.is_empty() {
        return Err(HandlerError::permanent("an empty register"));
    }
    Ok(upserts)
}

/// Upserts the whole register in one statement.
async fn register(
    txn: &DatabaseTransaction,
    upserts: Vec<store::municipality::ActiveModel>,
) -> Result<(), HandlerError> {
    use store::municipality::{Column as C, Entity};
    Entity::insert_many(upserts)
        .on_conflict(
            OnConflict::column(C::Code)
                .update_columns([C::CurrentNis, C::NameNl, C::Region, C::Agency])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

fn trajectory_id(value: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(value).map_err(|_| HandlerError::permanent("trajectory_id is not a UUID"))
}

fn date(field: &str, d: Option<&common::Date>) -> Result<NaiveDate, HandlerError> {
    d.and_then(|d| NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32))
        .ok_or_else(|| HandlerError::permanent(format!("{field} is not a date")))
}

/// One event of `municipalities.events.v1` as [`MunicipalityEvents`] reads it, decoded
/// and checked.
#[derive(Debug, Clone)]
pub enum MunicipalityEvent {
    /// `RegisterPublished`: its rows and how many municipalities it holds.
    Register {
        rows: Vec<store::municipality::ActiveModel>,
        municipalities: usize,
    },
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
    if let Some(published) = event.decode::<pb::RegisterPublished>()? {
        return Ok(Some(MunicipalityEvent::Register {
            rows: register_rows(&published.municipalities)?,
            municipalities: published.municipalities.len(),
        }));
    }
    let (id, hours, completed_on) =
        if let Some(logged) = event.decode::<pb::ParticipationHoursLogged>()? {
            (logged.trajectory_id, logged.trajectory_hours, None)
        } else if let Some(done) = event.decode::<pb::ParticipationCompleted>()? {
            let on = date("completed_on", done.completed_on.as_ref())?;
            (done.trajectory_id, done.trajectory_hours, Some(on))
        } else {
            return Ok(None);
        };
    Ok(Some(MunicipalityEvent::Participation {
        id: trajectory_id(&id)?,
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
            Some(MunicipalityEvent::Register {
                rows,
                municipalities,
            }) => {
                register(txn, rows).await?;
                tracing::info!(municipalities, "municipality register applied");
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
