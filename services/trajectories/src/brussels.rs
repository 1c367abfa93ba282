//! Applies recruitment's `NewcomerDetected` (the national-register feed) for the 19
//! Brussels municipalities: each person's first Brussels registration is kept with what
//! the Brussels obligation rule ([`rules::brussels_obligation`]) makes of it, the ground
//! for Brussels figures such as the obliged newcomers not yet registered anywhere.

use chrono::NaiveDate;
use platform::events::{
    Envelope,
    consumer::{Handler, HandlerError},
};
use proto::recruitment::v1 as pb;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

use crate::{
    rules::{self, BrusselsObligation, BrusselsRegistration, NotObligedBecause},
    store::{brussels_newcomer, person},
};

/// The consumer group (and inbox name).
pub const GROUP: &str = "trajectories.newcomers";
/// The topic it reads.
pub const TOPIC: &str = "recruitment.events.v1";

/// The handler of `recruitment.events.v1`.
#[derive(Debug)]
pub struct BrusselsNewcomers;

pub(crate) fn because(why: NotObligedBecause) -> &'static str {
    match why {
        NotObligedBecause::NotBrussels => "not_brussels",
        NotObligedBecause::BeforeTheObligation => "before_the_obligation",
        NotObligedBecause::Age => "age",
        NotObligedBecause::FreeMovement => "free_movement",
        NotObligedBecause::PopulationRegister => "population_register",
        NotObligedBecause::SettledStay => "settled_stay",
        NotObligedBecause::Exempted => "exempted",
        NotObligedBecause::UnknownAge => "unknown_age",
    }
}

/// A Brussels registration of `NewcomerDetected`, decoded and checked.
#[derive(Debug, Clone)]
pub struct Newcomer {
    pub detected: pb::NewcomerDetected,
    pub nis: u32,
    pub person_id: Uuid,
    pub registered_on: NaiveDate,
}

/// The decoding and checking half of [`BrusselsNewcomers`], without the database; `None`
/// for an event of another type or a registration outside Brussels.
pub fn newcomer(event: &Envelope) -> Result<Option<Newcomer>, HandlerError> {
    let Some(detected) = event.decode::<pb::NewcomerDetected>()? else {
        return Ok(None);
    };
    let nis: u32 = detected
        .municipality_nis
        .parse()
        .map_err(|_| HandlerError::permanent("municipality_nis is not a NIS code"))?;
    if !rules::BRUSSELS_NIS.contains(&nis) {
        return Ok(None);
    }
    let person_id = wire::uuid("person_id", &detected.person_id)
        .map_err(|_| HandlerError::permanent("person_id is not a UUID"))?;
    let registered_on = wire::optional_date("registered_on", detected.registered_on.as_ref())
        .ok()
        .flatten()
        .ok_or_else(|| HandlerError::permanent("registered_on is not a date"))?;
    Ok(Some(Newcomer {
        detected,
        nis,
        person_id,
        registered_on,
    }))
}

/// What the Brussels obligation rule makes of `newcomer` born on `birth_date`: obliged,
/// or why not.
pub fn decide(newcomer: &Newcomer, birth_date: Option<NaiveDate>) -> (bool, Option<String>) {
    let detected = &newcomer.detected;
    // An event from before the feed told nationality and register: not decidable, so
    // not counted as obliged, and said so.
    match (detected.free_movement, detected.foreigners_register) {
        (Some(free_movement), Some(foreigners_register)) => {
            match rules::brussels_obligation(&BrusselsRegistration {
                municipality_nis: newcomer.nis,
                registered_on: newcomer.registered_on,
                birth_date,
                free_movement,
                foreigners_register,
                legal_stay_since: None,
                exempted: false,
            }) {
                BrusselsObligation::Obliged => (true, None),
                BrusselsObligation::NotObliged(why) => (false, Some(because(why).to_owned())),
            }
        }
        _ => (false, Some("register_facts_unknown".to_owned())),
    }
}

impl Handler for BrusselsNewcomers {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        use brussels_newcomer::Column as C;
        let Some(newcomer) = newcomer(event)? else {
            return Ok(());
        };
        let Newcomer {
            ref detected,
            person_id,
            registered_on,
            ..
        } = newcomer;
        // The feed registers the person with trajectories before it publishes.
        let person = person::Entity::find_by_id(person_id)
            .one(txn)
            .await?
            .ok_or_else(|| HandlerError::permanent("a newcomer trajectories does not know"))?;
        let existing = brussels_newcomer::Entity::find_by_id(person_id)
            .one(txn)
            .await?;
        if existing.is_some_and(|e| e.registered_on <= registered_on) {
            // A later move within Brussels: the first registration decides.
            return Ok(());
        }
        let (obliged, why) = decide(&newcomer, person.birth_date);
        brussels_newcomer::Entity::insert(brussels_newcomer::ActiveModel {
            person_id: Set(person_id),
            municipality_nis: Set(detected.municipality_nis.clone()),
            registered_on: Set(registered_on),
            free_movement: Set(detected.free_movement.unwrap_or(false)),
            foreigners_register: Set(detected.foreigners_register.unwrap_or(false)),
            obliged: Set(obliged),
            not_obliged_because: Set(why),
        })
        .on_conflict(
            OnConflict::column(C::PersonId)
                .update_columns([
                    C::MunicipalityNis,
                    C::RegisteredOn,
                    C::FreeMovement,
                    C::ForeignersRegister,
                    C::Obliged,
                    C::NotObligedBecause,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        tracing::debug!(%person_id, obliged, "brussels newcomer kept");
        Ok(())
    }
}
