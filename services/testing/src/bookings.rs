//! Writes of sessions, bookings, results and fees, each in one transaction with its
//! outbox events.

use chrono::{DateTime, Utc};
use platform::db::BeginWrite as _;
use platform::events::Outbox;
use proto::{common::v1 as common, testing::v1 as pb};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    TestingError, convert,
    domain::{BookingStatus, NewSession, TestType},
    store::{booking, candidate, fee, session},
};

/// Filters of a session listing.
#[derive(Debug, Default)]
pub struct SessionFilter {
    pub test_type: Option<TestType>,
    pub location: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub only_with_free_seats: bool,
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// Reads and writes of the testing service.
#[derive(Clone, Debug)]
pub struct Bookings {
    db: DatabaseConnection,
    outbox: Outbox,
}

impl Bookings {
    pub fn new(db: DatabaseConnection, outbox: Outbox) -> Self {
        Self { db, outbox }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Plans a session and publishes `TestSessionPlanned`.
    pub async fn plan(
        &self,
        new: NewSession,
        planned_by: &str,
    ) -> Result<session::Model, TestingError> {
        let txn = self.db.begin_write().await?;
        let row = session::ActiveModel {
            id: Set(Uuid::now_v7()),
            test_type: Set(new.test_type.as_str().to_owned()),
            location: Set(new.location),
            starts_at: Set(new.starts_at),
            capacity: Set(new.capacity),
            booked: Set(0),
            planned_by: Set(planned_by.to_owned()),
        }
        .insert(&txn)
        .await?;
        let event = pb::TestSessionPlanned {
            session: Some(convert::session(&row)?),
        };
        self.outbox.stage(&txn, &row.id.to_string(), &event).await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(row)
    }

    /// One page of sessions, soonest first.
    pub async fn sessions(
        &self,
        filter: SessionFilter,
    ) -> Result<Vec<session::Model>, TestingError> {
        let mut condition = Condition::all();
        if let Some(t) = filter.test_type {
            condition = condition.add(session::Column::TestType.eq(t.as_str()));
        }
        if let Some(location) = filter.location {
            condition = condition.add(session::Column::Location.eq(location));
        }
        if let Some(from) = filter.from {
            condition = condition.add(session::Column::StartsAt.gte(from));
        }
        if let Some(to) = filter.to {
            condition = condition.add(session::Column::StartsAt.lt(to));
        }
        if filter.only_with_free_seats {
            condition = condition
                .add(Expr::col(session::Column::Booked).lt(Expr::col(session::Column::Capacity)));
        }
        if let Some(after) = filter.after {
            let Some(cursor) = session::Entity::find_by_id(after).one(&self.db).await? else {
                return Err(TestingError::invalid(
                    "page.page_token",
                    "is not a token from a previous response",
                ));
            };
            condition = condition.add(
                Condition::any()
                    .add(session::Column::StartsAt.gt(cursor.starts_at))
                    .add(
                        Condition::all()
                            .add(session::Column::StartsAt.eq(cursor.starts_at))
                            .add(session::Column::Id.gt(cursor.id)),
                    ),
            );
        }
        Ok(session::Entity::find()
            .filter(condition)
            .order_by_asc(session::Column::StartsAt)
            .order_by_asc(session::Column::Id)
            .limit(filter.limit)
            .all(&self.db)
            .await?)
    }

    /// Books a seat for `who` in `session_id` at `now`: one seat taken only if one is
    /// free (a conditional update, so concurrent bookings never oversell), the booking,
    /// its fee line, `TestBooked` and `FeeCharged`, all in one transaction.
    pub async fn book(
        &self,
        session_id: Uuid,
        who: &candidate::Model,
        now: DateTime<Utc>,
    ) -> Result<booking::Model, TestingError> {
        let txn = self.db.begin_write().await?;
        let Some(seat) = session::Entity::find_by_id(session_id).one(&txn).await? else {
            return Err(TestingError::SessionNotFound { session_id });
        };
        if seat.starts_at <= now {
            return Err(TestingError::SessionStarted { session_id });
        }
        let test_type = TestType::from_stored(&seat.test_type).ok_or_else(|| {
            TestingError::Corrupt(format!("session {session_id} has an unknown test type"))
        })?;
        if !crate::domain::may_book(
            who.contract_signed_on.is_some(),
            who.b1_follow_up,
            test_type,
        ) {
            let reason = match test_type {
                _ if who.trajectory_id.is_none() => {
                    "the person has no integration trajectory; a non-integrant may book a \
                     language-level test"
                }
                TestType::B1Oral => "the person is not on the B1 follow-up list",
                _ => "the integration contract is not signed",
            };
            return Err(TestingError::NotEligible {
                person_id: who.person_id,
                reason: reason.into(),
            });
        }
        let taken = session::Entity::update_many()
            .col_expr(
                session::Column::Booked,
                Expr::col(session::Column::Booked).add(1),
            )
            .filter(session::Column::Id.eq(session_id))
            .filter(Expr::col(session::Column::Booked).lt(Expr::col(session::Column::Capacity)))
            .exec(&txn)
            .await?;
        if taken.rows_affected != 1 {
            return Err(TestingError::SessionFull { session_id });
        }
        let nis = who.municipality_nis.parse::<u32>().unwrap_or_default();
        let (fee_cents, reason) = crate::domain::booking_fee(test_type, nis, who.exempted);
        let row = booking::ActiveModel {
            id: Set(Uuid::now_v7()),
            session_id: Set(session_id),
            person_id: Set(who.person_id),
            trajectory_id: Set(who.trajectory_id),
            agency: Set(who.agency.clone()),
            test_type: Set(test_type.as_str().to_owned()),
            status: Set(BookingStatus::Booked.as_str().to_owned()),
            fee_cents: Set(fee_cents),
            level_reached: Set(None),
            booked_at: Set(now),
            result_recorded_at: Set(None),
        };
        let row = match row.insert(&txn).await {
            Ok(row) => row,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(TestingError::AlreadyBooked {
                    person_id: who.person_id,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let line = charge(&txn, &row, fee_cents, reason, now).await?;
        let booked = pb::TestBooked {
            booking: Some(convert::booking(&row)?),
            trajectory_id: who.trajectory_id.map(|t| t.to_string()).unwrap_or_default(),
            agency: wire::stored_agency(&who.agency),
            session_starts_at: Some(wire::timestamp(seat.starts_at)),
        };
        self.outbox
            .stage(&txn, &row.id.to_string(), &booked)
            .await?;
        self.outbox
            .stage(
                &txn,
                &row.id.to_string(),
                &pb::FeeCharged {
                    fee: Some(convert::fee(&line)),
                },
            )
            .await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(row)
    }

    /// A booking by id.
    pub async fn booking(&self, booking_id: Uuid) -> Result<Option<booking::Model>, TestingError> {
        Ok(booking::Entity::find_by_id(booking_id)
            .one(&self.db)
            .await?)
    }

    /// Cancels an open booking: the seat is released and the fee refunded.
    pub async fn cancel(
        &self,
        open: &booking::Model,
        now: DateTime<Utc>,
    ) -> Result<booking::Model, TestingError> {
        let txn = self.db.begin_write().await?;
        close(&txn, open, BookingStatus::Cancelled, None, now).await?;
        session::Entity::update_many()
            .col_expr(
                session::Column::Booked,
                Expr::col(session::Column::Booked).sub(1),
            )
            .filter(session::Column::Id.eq(open.session_id))
            .exec(&txn)
            .await?;
        let mut refund = None;
        if open.fee_cents != 0 {
            refund = Some(charge(&txn, open, -open.fee_cents, Some("cancelled"), now).await?);
        }
        let row = booking::Entity::find_by_id(open.id)
            .one(&txn)
            .await?
            .ok_or_else(|| TestingError::Corrupt("a cancelled booking vanished".into()))?;
        let key = row.id.to_string();
        self.outbox
            .stage(
                &txn,
                &key,
                &pb::BookingCancelled {
                    booking: Some(convert::booking(&row)?),
                },
            )
            .await?;
        if let Some(line) = refund {
            self.outbox
                .stage(
                    &txn,
                    &key,
                    &pb::FeeCharged {
                        fee: Some(convert::fee(&line)),
                    },
                )
                .await?;
        }
        txn.commit().await?;
        self.outbox.committed();
        Ok(row)
    }

    /// Records the result of an open booking, once, and publishes `TestResultRecorded`.
    pub async fn record(
        &self,
        open: &booking::Model,
        outcome: BookingStatus,
        level_reached: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<booking::Model, TestingError> {
        let txn = self.db.begin_write().await?;
        close(&txn, open, outcome, level_reached, now).await?;
        let row = booking::Entity::find_by_id(open.id)
            .one(&txn)
            .await?
            .ok_or_else(|| TestingError::Corrupt("a recorded booking vanished".into()))?;
        let seat = session::Entity::find_by_id(row.session_id)
            .one(&txn)
            .await?
            .ok_or_else(|| TestingError::Corrupt("a booking's session vanished".into()))?;
        let event = pb::TestResultRecorded {
            booking: Some(convert::booking(&row)?),
            trajectory_id: row.trajectory_id.map(|t| t.to_string()).unwrap_or_default(),
            outcome: convert::outcome(outcome) as i32,
            session_starts_at: Some(wire::timestamp(seat.starts_at)),
        };
        self.outbox.stage(&txn, &row.id.to_string(), &event).await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(row)
    }

    /// The ledger of a person or an agency, oldest first.
    pub async fn fees(
        &self,
        person: Option<Uuid>,
        agencies: &[&str],
    ) -> Result<Vec<fee::Model>, TestingError> {
        let mut query =
            fee::Entity::find().filter(fee::Column::Agency.is_in(agencies.iter().copied()));
        if let Some(person_id) = person {
            query = query.filter(fee::Column::PersonId.eq(person_id));
        }
        Ok(query
            .order_by_asc(fee::Column::ChargedAt)
            .order_by_asc(fee::Column::Id)
            .all(&self.db)
            .await?)
    }
}

/// Moves an open booking to `status`; refuses when it is not open any more (also when a
/// concurrent request closed it first).
async fn close(
    txn: &DatabaseTransaction,
    open: &booking::Model,
    status: BookingStatus,
    level_reached: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), TestingError> {
    let mut update = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(status.as_str()))
        .filter(booking::Column::Id.eq(open.id))
        .filter(booking::Column::Status.eq(BookingStatus::Booked.as_str()));
    if status != BookingStatus::Cancelled {
        update = update
            .col_expr(booking::Column::LevelReached, Expr::value(level_reached))
            .col_expr(booking::Column::ResultRecordedAt, Expr::value(now));
    }
    if update.exec(txn).await?.rows_affected != 1 {
        let current = BookingStatus::from_stored(&open.status).unwrap_or(BookingStatus::Booked);
        let status = if current == BookingStatus::Booked {
            "already closed"
        } else {
            current.as_str()
        };
        return Err(TestingError::BookingClosed {
            booking_id: open.id,
            status,
        });
    }
    Ok(())
}

async fn charge(
    txn: &DatabaseTransaction,
    booking: &booking::Model,
    cents: i64,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<fee::Model, TestingError> {
    Ok(fee::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(booking.person_id),
        booking_id: Set(booking.id),
        agency: Set(booking.agency.clone()),
        amount_cents: Set(cents),
        reason: Set(reason.map(str::to_owned)),
        charged_at: Set(now),
    }
    .insert(txn)
    .await?)
}

/// The total of ledger lines, as money.
pub fn total(lines: &[fee::Model]) -> common::Money {
    common::Money {
        cents: lines.iter().map(|l| l.amount_cents).sum(),
    }
}
