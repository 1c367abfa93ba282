//! The candidate projection: everyone trajectories registered (`PersonRegistered`), their
//! trajectory (`TrajectoryStarted`), contract (`ContractSigned`) and B1 follow-up.
//!
//! `PersonRegistered` is keyed by the person and `TrajectoryStarted` by the trajectory, so
//! on a topic with several partitions they may arrive in either order: both create the
//! candidate when it is missing and fill in what they know when it is there.

use platform::events::{
    Envelope,
    consumer::{Handler, HandlerError},
};
use proto::trajectories::v1 as traj;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, EntityTrait, IntoActiveModel,
};
use uuid::Uuid;

use crate::store::candidate;

/// The handler of `trajectories.events.v1` for the candidate projection.
#[derive(Debug)]
pub struct Candidates;

fn uuid(field: &str, value: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(value).map_err(|_| HandlerError::permanent(format!("{field} is not a UUID")))
}

fn agency(value: i32) -> Result<&'static str, HandlerError> {
    use proto::common::v1::Agency;
    match Agency::try_from(value) {
        Ok(Agency::Agii) => Ok("agii"),
        Ok(Agency::Bon) => Ok("bon"),
        Ok(Agency::Atlas) => Ok("atlas"),
        Ok(Agency::InGent) => Ok("in-gent"),
        _ => Err(HandlerError::permanent(format!(
            "agency {value} is unknown"
        ))),
    }
}

impl Candidates {
    async fn follow_up(
        &self,
        txn: &DatabaseTransaction,
        person_id: &str,
        open: bool,
    ) -> Result<(), HandlerError> {
        let person_id = uuid("person_id", person_id)?;
        let Some(existing) = candidate::Entity::find_by_id(person_id).one(txn).await? else {
            return Err(HandlerError::transient(format!(
                "no candidate {person_id} yet"
            )));
        };
        let applied = existing.events_applied + 1;
        let mut row = existing.into_active_model();
        row.b1_follow_up = Set(open);
        row.events_applied = Set(applied);
        row.update(txn).await?;
        Ok(())
    }
}

impl Handler for Candidates {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if let Some(registered) = event.decode::<traj::PersonRegistered>()? {
            let person_id = uuid("person_id", &registered.person_id)?;
            match candidate::Entity::find_by_id(person_id).one(txn).await? {
                // The trajectory came first and set the competent agency; count the event.
                Some(existing) => {
                    let applied = existing.events_applied + 1;
                    let mut row = existing.into_active_model();
                    row.events_applied = Set(applied);
                    row.update(txn).await?;
                }
                // Registered before registrations named their agency: testing learns of
                // the person when their trajectory starts.
                None if registered.agency == 0 => {
                    tracing::warn!(%person_id, "a registration without agency; skipped");
                    return Ok(());
                }
                None => {
                    candidate::ActiveModel {
                        person_id: Set(person_id),
                        trajectory_id: Set(None),
                        agency: Set(agency(registered.agency)?.to_owned()),
                        status: Set("registered".to_owned()),
                        contract_signed_on: Set(None),
                        events_applied: Set(1),
                        municipality_nis: Set(String::new()),
                        exempted: Set(false),
                        b1_follow_up: Set(false),
                    }
                    .insert(txn)
                    .await?;
                }
            }
            tracing::info!(%person_id, "candidate registered");
        } else if let Some(started) = event.decode::<traj::TrajectoryStarted>()? {
            let person_id = uuid("person_id", &started.person_id)?;
            let existing = candidate::Entity::find_by_id(person_id).one(txn).await?;
            let applied = existing.as_ref().map_or(0, |c| c.events_applied) + 1;
            let mut row = match existing {
                Some(existing) => existing.into_active_model(),
                None => candidate::ActiveModel {
                    person_id: Set(person_id),
                    contract_signed_on: Set(None),
                    b1_follow_up: Set(false),
                    ..Default::default()
                },
            };
            row.trajectory_id = Set(Some(uuid("trajectory_id", &started.trajectory_id)?));
            row.agency = Set(agency(started.agency)?.to_owned());
            row.status = Set(started.status().as_str_name().to_owned());
            row.municipality_nis = Set(started.municipality_nis.clone());
            row.exempted = Set(started.exemption_reason != 0);
            row.events_applied = Set(applied);
            if applied == 1 {
                row.insert(txn).await?;
            } else {
                row.update(txn).await?;
            }
            tracing::info!(trajectory_id = %started.trajectory_id, "candidate projected");
        } else if let Some(signed) = event.decode::<traj::ContractSigned>()? {
            let person_id = uuid("person_id", &signed.person_id)?;
            // Events of one trajectory share a key, hence a partition and an order: a
            // contract for an unknown person means the start has not been applied yet.
            let Some(existing) = candidate::Entity::find_by_id(person_id).one(txn).await? else {
                return Err(HandlerError::transient(format!(
                    "no candidate for trajectory {} yet",
                    signed.trajectory_id
                )));
            };
            let signed_on = signed
                .signed_on
                .and_then(|d| chrono::NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32))
                .ok_or_else(|| HandlerError::permanent("signed_on is not a date"))?;
            let applied = existing.events_applied + 1;
            let mut row = existing.into_active_model();
            row.contract_signed_on = Set(Some(signed_on));
            row.events_applied = Set(applied);
            row.update(txn).await?;
            tracing::info!(trajectory_id = %signed.trajectory_id, "candidate may book NT2 and MO");
        } else if let Some(due) = event.decode::<traj::B1FollowUpDue>()? {
            self.follow_up(txn, &due.person_id, true).await?;
            tracing::info!(trajectory_id = %due.trajectory_id, "candidate may book B1 oral");
        } else if let Some(closed) = event.decode::<traj::B1FollowUpClosed>()? {
            self.follow_up(txn, &closed.person_id, false).await?;
            tracing::info!(trajectory_id = %closed.trajectory_id, "B1 follow-up closed");
        }
        Ok(())
    }
}
