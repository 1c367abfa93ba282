//! Writes and reads of offers, placements and hours, each write in one transaction with
//! its outbox events. Seats and the day's hours only ever change by conditional
//! statements, so concurrent officers never oversell an offer or overfill a day.

use chrono::{DateTime, NaiveDate, Utc};
use platform::db::BeginWrite as _;
use platform::{Agency, events::Outbox, paging::Page};
use proto::municipalities::v1 as pb;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
    MunicipalitiesError, convert,
    domain::{
        NewOffer, Offer, OfferFilter, OfferKind, Placement, PlacementState, Resident, stored_nis,
    },
    rules,
    store::{hours_day, hours_entry, offer, placement, resident},
};

/// Offers, placements and hours of the municipalities service.
#[derive(Clone, Debug)]
pub struct Participation {
    db: DatabaseConnection,
    outbox: Outbox,
}

/// Stored hours as a count; a negative value cannot be written.
fn count(stored: i32) -> u32 {
    u32::try_from(stored).unwrap_or(0)
}

fn to_offer(row: offer::Model) -> Result<Offer, MunicipalitiesError> {
    Ok(Offer {
        id: row.id,
        nis: stored_nis(&row.nis)?,
        kind: OfferKind::from_stored(&row.kind, row.host_kind.as_deref())
            .ok_or_else(|| MunicipalitiesError::Corrupt(format!("offer {} kind", row.id)))?,
        host_organisation: row.host_organisation,
        title: row.title,
        capacity: row.capacity,
        placed: row.placed,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        open: row.open,
    })
}

fn to_placement(
    row: placement::Model,
    trajectory_hours: i32,
) -> Result<Placement, MunicipalitiesError> {
    Ok(Placement {
        id: row.id,
        offer_id: row.offer_id,
        person_id: row.person_id,
        trajectory_id: row.trajectory_id,
        nis: stored_nis(&row.nis)?,
        kind: OfferKind::from_stored(&row.kind, row.host_kind.as_deref())
            .ok_or_else(|| MunicipalitiesError::Corrupt(format!("placement {} kind", row.id)))?,
        state: PlacementState::from_stored(&row.state)
            .ok_or_else(|| MunicipalitiesError::Corrupt(format!("placement {} state", row.id)))?,
        started_on: row.started_on,
        hours: count(row.hours),
        trajectory_hours: count(trajectory_hours),
        closed_on: row.closed_on,
    })
}

/// The resident row as the domain sees it.
pub fn to_resident(row: resident::Model) -> Result<Resident, MunicipalitiesError> {
    let state = match row.state.as_str() {
        "active" => "active",
        "suspended" => "suspended",
        "stopped" => "stopped",
        other => {
            return Err(MunicipalitiesError::Corrupt(format!(
                "resident state {other:?}"
            )));
        }
    };
    Ok(Resident {
        trajectory_id: row.trajectory_id,
        person_id: row.person_id,
        nis: stored_nis(&row.nis)?,
        agency: Agency::from_alias(&row.agency).ok_or_else(|| {
            MunicipalitiesError::Corrupt(format!("resident agency {:?}", row.agency))
        })?,
        contract_signed_on: row.contract_signed_on,
        state,
        hours: count(row.hours),
        completed_on: row.completed_on,
    })
}

impl Participation {
    pub fn new(db: DatabaseConnection, outbox: Outbox) -> Self {
        Self { db, outbox }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Creates an offer.
    pub async fn create_offer(
        &self,
        new: NewOffer,
        created_by: &str,
    ) -> Result<Offer, MunicipalitiesError> {
        let row = offer::ActiveModel {
            id: Set(Uuid::now_v7()),
            nis: Set(new.nis.to_string()),
            kind: Set(new.kind.as_str().to_owned()),
            host_kind: Set(new.kind.host_kind().map(|h| h.as_str().to_owned())),
            host_organisation: Set(new.host_organisation),
            title: Set(new.title),
            capacity: Set(new.capacity),
            placed: Set(0),
            starts_on: Set(new.starts_on),
            ends_on: Set(new.ends_on),
            open: Set(true),
            created_by: Set(created_by.to_owned()),
        }
        .insert(&self.db)
        .await?;
        to_offer(row)
    }

    pub async fn offer(&self, offer_id: Uuid) -> Result<Option<Offer>, MunicipalitiesError> {
        offer::Entity::find_by_id(offer_id)
            .one(&self.db)
            .await?
            .map(to_offer)
            .transpose()
    }

    /// One page of offers, oldest first, and the token of the next.
    pub async fn offers(
        &self,
        filter: OfferFilter,
        page: Page<Uuid>,
    ) -> Result<(Vec<Offer>, String), MunicipalitiesError> {
        let mut rows = self.offer_rows(filter, page.after, page.fetch()).await?;
        let next_page_token = page.finish(&mut rows, |o| o.id);
        Ok((rows, next_page_token))
    }

    async fn offer_rows(
        &self,
        filter: OfferFilter,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Offer>, MunicipalitiesError> {
        let mut condition = Condition::all();
        if let Some(nis) = filter.nis {
            condition = condition.add(offer::Column::Nis.eq(nis.to_string()));
        }
        if let Some(kind) = filter.kind {
            condition = condition.add(offer::Column::Kind.eq(kind));
        }
        if filter.only_with_free_seats {
            condition = condition
                .add(offer::Column::Open.eq(true))
                .add(Expr::col(offer::Column::Placed).lt(Expr::col(offer::Column::Capacity)));
        }
        if let Some(after) = after {
            condition = condition.add(offer::Column::Id.gt(after));
        }
        offer::Entity::find()
            .filter(condition)
            .order_by_asc(offer::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_offer)
            .collect()
    }

    /// Closes an offer to new placements.
    pub async fn close_offer(&self, offer_id: Uuid) -> Result<Offer, MunicipalitiesError> {
        offer::Entity::update_many()
            .col_expr(offer::Column::Open, Expr::value(false))
            .filter(offer::Column::Id.eq(offer_id))
            .exec(&self.db)
            .await?;
        self.offer(offer_id)
            .await?
            .ok_or(MunicipalitiesError::OfferNotFound { offer_id })
    }

    /// The resident with trajectory for `person_id`, if trajectories told us of one.
    pub async fn resident(&self, person_id: Uuid) -> Result<Option<Resident>, MunicipalitiesError> {
        resident::Entity::find()
            .filter(resident::Column::PersonId.eq(person_id))
            .one(&self.db)
            .await?
            .map(to_resident)
            .transpose()
    }

    /// Places `who` in `offer` from `started_on`: one seat taken only if one is free, the
    /// placement and `ParticipationPlacementStarted`, in one transaction.
    pub async fn place(
        &self,
        offer: &Offer,
        who: &Resident,
        started_on: NaiveDate,
    ) -> Result<Placement, MunicipalitiesError> {
        let signed_on = who.may_participate()?;
        if !offer.open {
            return Err(MunicipalitiesError::OfferClosed { offer_id: offer.id });
        }
        crate::domain::check_placement_start(
            started_on,
            (offer.starts_on, offer.ends_on),
            signed_on,
        )?;
        let txn = self.db.begin_write().await?;
        let taken = offer::Entity::update_many()
            .col_expr(
                offer::Column::Placed,
                Expr::col(offer::Column::Placed).add(1),
            )
            .filter(offer::Column::Id.eq(offer.id))
            .filter(offer::Column::Open.eq(true))
            .filter(Expr::col(offer::Column::Placed).lt(Expr::col(offer::Column::Capacity)))
            .exec(&txn)
            .await?;
        if taken.rows_affected != 1 {
            return Err(MunicipalitiesError::OfferFull { offer_id: offer.id });
        }
        let row = placement::ActiveModel {
            id: Set(Uuid::now_v7()),
            offer_id: Set(offer.id),
            person_id: Set(who.person_id),
            trajectory_id: Set(who.trajectory_id),
            nis: Set(offer.nis.to_string()),
            kind: Set(offer.kind.as_str().to_owned()),
            host_kind: Set(offer.kind.host_kind().map(|h| h.as_str().to_owned())),
            state: Set(PlacementState::Active.as_str().to_owned()),
            started_on: Set(started_on),
            hours: Set(0),
            closed_on: Set(None),
        };
        let row = match row.insert(&txn).await {
            Ok(row) => row,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(MunicipalitiesError::AlreadyPlaced {
                    person_id: who.person_id,
                    offer_id: offer.id,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let placement = to_placement(row, who.hours as i32)?;
        let event = pb::ParticipationPlacementStarted {
            placement_id: placement.id.to_string(),
            offer_id: offer.id.to_string(),
            person_id: who.person_id.to_string(),
            trajectory_id: who.trajectory_id.to_string(),
            municipality_nis: offer.nis.to_string(),
            kind: convert::offer_kind(offer.kind) as i32,
            started_on: Some(wire::date(started_on)),
        };
        self.outbox
            .stage(&txn, &who.trajectory_id.to_string(), &event)
            .await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(placement)
    }

    /// A placement with its trajectory's hours.
    pub async fn placement(
        &self,
        placement_id: Uuid,
    ) -> Result<Option<Placement>, MunicipalitiesError> {
        let Some(row) = placement::Entity::find_by_id(placement_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let hours = resident::Entity::find_by_id(row.trajectory_id)
            .one(&self.db)
            .await?
            .map(|r| r.hours)
            .unwrap_or(0);
        to_placement(row, hours).map(Some)
    }

    /// One page of an offer's placements, oldest first.
    pub async fn placements(
        &self,
        offer_id: Uuid,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Placement>, MunicipalitiesError> {
        let mut query = placement::Entity::find().filter(placement::Column::OfferId.eq(offer_id));
        if let Some(after) = after {
            query = query.filter(placement::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(placement::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let hours: std::collections::HashMap<Uuid, i32> = resident::Entity::find()
            .filter(resident::Column::TrajectoryId.is_in(rows.iter().map(|r| r.trajectory_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.trajectory_id, r.hours))
            .collect();
        rows.into_iter()
            .map(|row| {
                let h = hours.get(&row.trajectory_id).copied().unwrap_or(0);
                to_placement(row, h)
            })
            .collect()
    }

    /// Logs `hours` on `done_on` for an active placement, in one transaction: the day's
    /// cap, the placement's and the trajectory's hours, the entry, `ParticipationHoursLogged`
    /// and, when the trajectory reaches 40 hours, `ParticipationCompleted` (once).
    pub async fn log_hours(
        &self,
        open: &Placement,
        done_on: NaiveDate,
        hours: i32,
        logged_by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Placement, MunicipalitiesError> {
        if open.state != PlacementState::Active {
            return Err(MunicipalitiesError::PlacementClosed {
                placement_id: open.id,
                state: open.state.as_str(),
            });
        }
        let txn = self.db.begin_write().await?;
        // The trajectory's row first, for every log of this person whatever the placement:
        // concurrent logs queue here instead of deadlocking on each other's placements,
        // and the checks below read the row as it is now.
        lock_resident(&txn, open.trajectory_id).await?;
        let who = resident_in(&txn, open.trajectory_id).await?;
        let signed_on = who.may_participate()?;
        let hours = crate::domain::check_hours(hours, done_on, today, signed_on, open.started_on)?;
        add_to_day(&txn, open.trajectory_id, done_on, hours).await?;
        let added = placement::Entity::update_many()
            .col_expr(
                placement::Column::Hours,
                Expr::col(placement::Column::Hours).add(hours as i32),
            )
            .filter(placement::Column::Id.eq(open.id))
            .filter(placement::Column::State.eq(PlacementState::Active.as_str()))
            .exec(&txn)
            .await?;
        if added.rows_affected != 1 {
            return Err(MunicipalitiesError::PlacementClosed {
                placement_id: open.id,
                state: "closed",
            });
        }
        resident::Entity::update_many()
            .col_expr(
                resident::Column::Hours,
                Expr::col(resident::Column::Hours).add(hours as i32),
            )
            .filter(resident::Column::TrajectoryId.eq(open.trajectory_id))
            .exec(&txn)
            .await?;
        let total = resident_in(&txn, open.trajectory_id).await?.hours;
        let entry_id = Uuid::now_v7();
        hours_entry::ActiveModel {
            id: Set(entry_id),
            placement_id: Set(open.id),
            trajectory_id: Set(open.trajectory_id),
            done_on: Set(done_on),
            hours: Set(hours as i32),
            logged_by: Set(logged_by.to_owned()),
            logged_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let key = open.trajectory_id.to_string();
        let logged = pb::ParticipationHoursLogged {
            entry_id: entry_id.to_string(),
            placement_id: open.id.to_string(),
            person_id: open.person_id.to_string(),
            trajectory_id: key.clone(),
            municipality_nis: open.nis.to_string(),
            done_on: Some(wire::date(done_on)),
            hours: hours as i32,
            trajectory_hours: total as i32,
        };
        self.outbox.stage(&txn, &key, &logged).await?;
        if rules::participation_complete(total)
            && claim_completion(&txn, open.trajectory_id, done_on).await?
        {
            // Every running placement of the trajectory is done, and frees its seat.
            let running = placement::Entity::find()
                .filter(placement::Column::TrajectoryId.eq(open.trajectory_id))
                .filter(placement::Column::State.eq(PlacementState::Active.as_str()))
                .all(&txn)
                .await?;
            for p in &running {
                close_placement(&txn, p, PlacementState::Completed, done_on).await?;
            }
            let completed = pb::ParticipationCompleted {
                placement_id: open.id.to_string(),
                person_id: open.person_id.to_string(),
                trajectory_id: key.clone(),
                municipality_nis: open.nis.to_string(),
                completed_on: Some(wire::date(done_on)),
                trajectory_hours: total as i32,
            };
            self.outbox.stage(&txn, &key, &completed).await?;
            tracing::info!(placement_id = %open.id, trajectory_hours = total, "participation completed");
        }
        let row = placement::Entity::find_by_id(open.id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                MunicipalitiesError::Corrupt(format!("placement {} vanished", open.id))
            })?;
        let placement = to_placement(row, total as i32)?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(
            hours,
            trajectory_hours = placement.trajectory_hours,
            of = rules::PARTICIPATION_HOURS,
            "hours logged"
        );
        Ok(placement)
    }

    /// Ends an active placement before the 40 hours and frees its seat.
    pub async fn end(
        &self,
        open: &Placement,
        ended_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Placement, MunicipalitiesError> {
        if ended_on < open.started_on || ended_on > today {
            return Err(MunicipalitiesError::invalid(
                "ended_on",
                format!(
                    "{ended_on} must lie between the start ({}) and today",
                    open.started_on
                ),
            ));
        }
        let txn = self.db.begin_write().await?;
        lock_resident(&txn, open.trajectory_id).await?;
        let last_logged = hours_entry::Entity::find()
            .filter(hours_entry::Column::PlacementId.eq(open.id))
            .order_by_desc(hours_entry::Column::DoneOn)
            .one(&txn)
            .await?
            .map(|e| e.done_on);
        if let Some(last) = last_logged.filter(|last| *last > ended_on) {
            return Err(MunicipalitiesError::invalid(
                "ended_on",
                format!("{ended_on} is before hours already logged on {last}"),
            ));
        }
        let row = placement::Entity::find_by_id(open.id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                MunicipalitiesError::Corrupt(format!("placement {} vanished", open.id))
            })?;
        if !close_placement(&txn, &row, PlacementState::Ended, ended_on).await? {
            return Err(MunicipalitiesError::PlacementClosed {
                placement_id: open.id,
                state: open.state.as_str(),
            });
        }
        let event = pb::ParticipationPlacementEnded {
            placement_id: open.id.to_string(),
            person_id: open.person_id.to_string(),
            trajectory_id: open.trajectory_id.to_string(),
            municipality_nis: open.nis.to_string(),
            ended_on: Some(wire::date(ended_on)),
        };
        self.outbox
            .stage(&txn, &open.trajectory_id.to_string(), &event)
            .await?;
        let row = placement::Entity::find_by_id(open.id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                MunicipalitiesError::Corrupt(format!("placement {} vanished", open.id))
            })?;
        let hours = resident_in(&txn, open.trajectory_id).await?.hours;
        let placement = to_placement(row, hours as i32)?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(placement)
    }
}

/// Takes the write lock on the trajectory's row (a no-op update), so that writes of one
/// person's participation run one after the other.
async fn lock_resident(
    txn: &DatabaseTransaction,
    trajectory_id: Uuid,
) -> Result<(), MunicipalitiesError> {
    resident::Entity::update_many()
        .col_expr(resident::Column::Hours, Expr::col(resident::Column::Hours))
        .filter(resident::Column::TrajectoryId.eq(trajectory_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Closes an active placement as `state` on `on` and frees its seat; `false` when it was
/// not active any more.
async fn close_placement(
    txn: &DatabaseTransaction,
    p: &placement::Model,
    state: PlacementState,
    on: NaiveDate,
) -> Result<bool, MunicipalitiesError> {
    let closed = placement::Entity::update_many()
        .col_expr(placement::Column::State, Expr::value(state.as_str()))
        .col_expr(placement::Column::ClosedOn, Expr::value(Some(on)))
        .filter(placement::Column::Id.eq(p.id))
        .filter(placement::Column::State.eq(PlacementState::Active.as_str()))
        .exec(txn)
        .await?;
    if closed.rows_affected != 1 {
        return Ok(false);
    }
    offer::Entity::update_many()
        .col_expr(
            offer::Column::Placed,
            Expr::col(offer::Column::Placed).sub(1),
        )
        .filter(offer::Column::Id.eq(p.offer_id))
        .exec(txn)
        .await?;
    Ok(true)
}

async fn resident_in(
    txn: &DatabaseTransaction,
    trajectory_id: Uuid,
) -> Result<Resident, MunicipalitiesError> {
    let row = resident::Entity::find_by_id(trajectory_id)
        .one(txn)
        .await?
        .ok_or_else(|| {
            MunicipalitiesError::Corrupt(format!("placement of unknown trajectory {trajectory_id}"))
        })?;
    to_resident(row)
}

/// Adds `hours` to the trajectory's day, refusing past [`rules::MAX_HOURS_PER_DAY`]: an
/// upsert whose update only happens while the sum stays within the cap.
async fn add_to_day(
    txn: &DatabaseTransaction,
    trajectory_id: Uuid,
    day: NaiveDate,
    hours: u32,
) -> Result<(), MunicipalitiesError> {
    use hours_day::Column as C;
    let max = rules::MAX_HOURS_PER_DAY as i32;
    let stored = Expr::col((hours_day::Entity, C::Hours));
    let written = hours_day::Entity::insert(hours_day::ActiveModel {
        trajectory_id: Set(trajectory_id),
        day: Set(day),
        hours: Set(hours as i32),
    })
    .on_conflict(
        OnConflict::columns([C::TrajectoryId, C::Day])
            .value(C::Hours, stored.clone().add(hours as i32))
            .action_and_where(stored.add(hours as i32).lte(max))
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if written == 1 {
        return Ok(());
    }
    let already = hours_day::Entity::find_by_id((trajectory_id, day))
        .one(txn)
        .await?
        .map(|d| count(d.hours))
        .unwrap_or(0);
    Err(MunicipalitiesError::DayFull {
        day,
        already,
        max: rules::MAX_HOURS_PER_DAY,
    })
}

/// Marks the trajectory's participation completed on `on`; `true` for the one call that
/// does, whatever the concurrency.
async fn claim_completion(
    txn: &DatabaseTransaction,
    trajectory_id: Uuid,
    on: NaiveDate,
) -> Result<bool, MunicipalitiesError> {
    Ok(resident::Entity::update_many()
        .col_expr(resident::Column::CompletedOn, Expr::value(Some(on)))
        .filter(resident::Column::TrajectoryId.eq(trajectory_id))
        .filter(resident::Column::CompletedOn.is_null())
        .exec(txn)
        .await?
        .rows_affected
        == 1)
}
