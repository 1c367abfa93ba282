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
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, UpdateMany,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::store::candidate;

/// The handler of `trajectories.events.v1` for the candidate projection.
#[derive(Debug)]
pub struct Candidates;

/// Applies `change` to the candidate `person_id` and counts the event, in one statement:
/// handlers of one person's events on different partitions never lose an increment.
/// `false` when there is no candidate yet.
async fn update(
    txn: &DatabaseTransaction,
    person_id: Uuid,
    change: impl FnOnce(UpdateMany<candidate::Entity>) -> UpdateMany<candidate::Entity>,
) -> Result<bool, HandlerError> {
    let query = candidate::Entity::update_many()
        .col_expr(
            candidate::Column::EventsApplied,
            Expr::col(candidate::Column::EventsApplied).add(1),
        )
        .filter(candidate::Column::PersonId.eq(person_id));
    Ok(change(query).exec(txn).await?.rows_affected == 1)
}

/// [`update`] for an event that follows the trajectory's start: a missing candidate is
/// transient. Events of one trajectory share a key, hence a partition and an order, so
/// the start has not been applied yet.
async fn update_known(
    txn: &DatabaseTransaction,
    person_id: Uuid,
    trajectory_id: &str,
    change: impl FnOnce(UpdateMany<candidate::Entity>) -> UpdateMany<candidate::Entity>,
) -> Result<(), HandlerError> {
    if update(txn, person_id, change).await? {
        Ok(())
    } else {
        Err(HandlerError::transient(format!(
            "no candidate for trajectory {trajectory_id} yet"
        )))
    }
}

/// What one event changes in the candidate projection, decoded and checked.
#[derive(Debug, Clone)]
pub enum Change {
    /// `PersonRegistered` without agency: only counted.
    Counted { person_id: Uuid },
    /// `PersonRegistered`: the candidate as the registration knows it.
    Registered {
        person_id: Uuid,
        row: candidate::ActiveModel,
    },
    /// `TrajectoryStarted`: the candidate as the trajectory knows it.
    Started {
        trajectory_id: String,
        row: candidate::ActiveModel,
    },
    /// `ContractSigned`.
    ContractSigned {
        person_id: Uuid,
        trajectory_id: String,
        signed_on: chrono::NaiveDate,
    },
    /// `B1FollowUpDue` (`open`) or `B1FollowUpClosed`.
    B1FollowUp {
        person_id: Uuid,
        trajectory_id: String,
        open: bool,
    },
}

/// The decoding and checking half of [`Candidates`], without the database; `None` for an
/// event of a type it does not read.
pub fn change(event: &Envelope) -> Result<Option<Change>, HandlerError> {
    if let Some(registered) = event.decode::<traj::PersonRegistered>()? {
        let person_id = wire::uuid("person_id", &registered.person_id)?;
        if registered.agency == 0 {
            return Ok(Some(Change::Counted { person_id }));
        }
        let row = candidate::ActiveModel {
            person_id: Set(person_id),
            trajectory_id: Set(None),
            agency: Set(wire::required_agency("agency", registered.agency)?
                .as_str()
                .to_owned()),
            status: Set("registered".to_owned()),
            contract_signed_on: Set(None),
            events_applied: Set(1),
            municipality_nis: Set(String::new()),
            exempted: Set(false),
            b1_follow_up: Set(false),
        };
        Ok(Some(Change::Registered { person_id, row }))
    } else if let Some(started) = event.decode::<traj::TrajectoryStarted>()? {
        let person_id = wire::uuid("person_id", &started.person_id)?;
        let row = candidate::ActiveModel {
            person_id: Set(person_id),
            trajectory_id: Set(Some(wire::uuid("trajectory_id", &started.trajectory_id)?)),
            agency: Set(wire::required_agency("agency", started.agency)?
                .as_str()
                .to_owned()),
            status: Set(started.status().as_str_name().to_owned()),
            contract_signed_on: Set(None),
            events_applied: Set(1),
            municipality_nis: Set(started.municipality_nis.clone()),
            exempted: Set(started.exemption_reason != 0),
            b1_follow_up: Set(false),
        };
        Ok(Some(Change::Started {
            trajectory_id: started.trajectory_id,
            row,
        }))
    } else if let Some(signed) = event.decode::<traj::ContractSigned>()? {
        let signed_on = wire::required_date("signed_on", signed.signed_on.as_ref())?;
        Ok(Some(Change::ContractSigned {
            person_id: wire::uuid("person_id", &signed.person_id)?,
            trajectory_id: signed.trajectory_id,
            signed_on,
        }))
    } else if let Some(due) = event.decode::<traj::B1FollowUpDue>()? {
        Ok(Some(Change::B1FollowUp {
            person_id: wire::uuid("person_id", &due.person_id)?,
            trajectory_id: due.trajectory_id,
            open: true,
        }))
    } else if let Some(closed) = event.decode::<traj::B1FollowUpClosed>()? {
        Ok(Some(Change::B1FollowUp {
            person_id: wire::uuid("person_id", &closed.person_id)?,
            trajectory_id: closed.trajectory_id,
            open: false,
        }))
    } else {
        Ok(None)
    }
}

impl Handler for Candidates {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        use candidate::Column as C;
        let Some(change) = change(event)? else {
            return Ok(());
        };
        match change {
            Change::Counted { person_id } => {
                // Registered before registrations named their agency: testing learns of
                // the person when their trajectory starts (and counts this if it has).
                update(txn, person_id, |q| q).await?;
                tracing::warn!(%person_id, "a registration without agency; not a candidate");
            }
            Change::Registered { person_id, row } => {
                // The trajectory may have come first (another partition) and set the
                // competent agency: then only count the event.
                candidate::Entity::insert(row)
                    .on_conflict(
                        OnConflict::column(C::PersonId)
                            .value(
                                C::EventsApplied,
                                Expr::col((candidate::Entity, C::EventsApplied)).add(1),
                            )
                            .to_owned(),
                    )
                    .exec_without_returning(txn)
                    .await?;
                tracing::info!(%person_id, "candidate registered");
            }
            Change::Started { trajectory_id, row } => {
                // Inserted, or, when the registration came first, filled in and counted:
                // one statement either way, so concurrent replicas never collide.
                candidate::Entity::insert(row)
                    .on_conflict(
                        OnConflict::column(C::PersonId)
                            .update_columns([
                                C::TrajectoryId,
                                C::Agency,
                                C::Status,
                                C::MunicipalityNis,
                                C::Exempted,
                            ])
                            .value(
                                C::EventsApplied,
                                Expr::col((candidate::Entity, C::EventsApplied)).add(1),
                            )
                            .to_owned(),
                    )
                    .exec_without_returning(txn)
                    .await?;
                tracing::info!(%trajectory_id, "candidate projected");
            }
            Change::ContractSigned {
                person_id,
                trajectory_id,
                signed_on,
            } => {
                update_known(txn, person_id, &trajectory_id, |q| {
                    q.col_expr(C::ContractSignedOn, Expr::value(Some(signed_on)))
                })
                .await?;
                tracing::info!(%trajectory_id, "candidate may book NT2 and MO");
            }
            Change::B1FollowUp {
                person_id,
                trajectory_id,
                open,
            } => {
                update_known(txn, person_id, &trajectory_id, |q| {
                    q.col_expr(C::B1FollowUp, Expr::value(open))
                })
                .await?;
                if open {
                    tracing::info!(%trajectory_id, "candidate may book B1 oral");
                } else {
                    tracing::info!(%trajectory_id, "B1 follow-up closed");
                }
            }
        }
        Ok(())
    }
}
