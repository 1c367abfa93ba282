//! Writes of sessions, bookings, results and fees, each in one transaction with its
//! outbox events.

use chrono::{DateTime, Utc};
use platform::db::BeginWrite as _;
use platform::events::Outbox;
use platform::paging::Page;
use proto::testing::v1 as pb;
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
    domain::{BookingStatus, FeeQuery, NewSession, SessionFilter, TestType},
    store::{booking, candidate, fee, session},
};

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

    /// The candidate, if one of the `scope` agencies handles them; otherwise "not known",
    /// so that another agency's people stay invisible.
    pub async fn candidate(
        &self,
        person_id: Uuid,
        scope: &[&str],
    ) -> Result<candidate::Model, TestingError> {
        candidate::Entity::find_by_id(person_id)
            .one(&self.db)
            .await?
            .filter(|c| scope.contains(&c.agency.as_str()))
            .ok_or(TestingError::CandidateNotFound { person_id })
    }

    /// The booking, if one of the `scope` agencies handles it.
    async fn open_booking(
        &self,
        booking_id: Uuid,
        scope: &[&str],
    ) -> Result<booking::Model, TestingError> {
        booking::Entity::find_by_id(booking_id)
            .one(&self.db)
            .await?
            .filter(|b| scope.contains(&b.agency.as_str()))
            .ok_or(TestingError::BookingNotFound { booking_id })
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

    /// One page of sessions, soonest first, and the token of the next.
    pub async fn sessions(
        &self,
        filter: SessionFilter,
        page: Page<Uuid>,
    ) -> Result<(Vec<session::Model>, String), TestingError> {
        let mut rows = self.session_rows(filter, page.after, page.fetch()).await?;
        let next_page_token = page.finish(&mut rows, |s| s.id);
        Ok((rows, next_page_token))
    }

    async fn session_rows(
        &self,
        filter: SessionFilter,
        after: Option<Uuid>,
        limit: u64,
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
        if let Some(after) = after {
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
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Books a seat for the candidate `person_id` (seen by `scope`) in `session_id` at
    /// `now`: one seat taken only if one is free (a conditional update, so concurrent
    /// bookings never oversell), the booking, its fee line, `TestBooked` and `FeeCharged`,
    /// all in one transaction.
    pub async fn book(
        &self,
        session_id: Uuid,
        person_id: Uuid,
        scope: &[&str],
        now: DateTime<Utc>,
    ) -> Result<booking::Model, TestingError> {
        let who = &self.candidate(person_id, scope).await?;
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

    /// Cancels an open booking (seen by `scope`): the seat is released and the fee
    /// refunded.
    pub async fn cancel(
        &self,
        booking_id: Uuid,
        scope: &[&str],
        now: DateTime<Utc>,
    ) -> Result<booking::Model, TestingError> {
        let open = &self.open_booking(booking_id, scope).await?;
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

    /// Records the result of an open booking (seen by `scope`), once, with the level
    /// reached (checked for its test type), and publishes `TestResultRecorded`.
    pub async fn record(
        &self,
        booking_id: Uuid,
        scope: &[&str],
        outcome: BookingStatus,
        level_reached: &str,
        now: DateTime<Utc>,
    ) -> Result<booking::Model, TestingError> {
        let open = &self.open_booking(booking_id, scope).await?;
        let test_type = TestType::from_stored(&open.test_type).ok_or_else(|| {
            TestingError::Corrupt(format!("booking {} has an unknown test type", open.id))
        })?;
        let level_reached = crate::domain::level_reached(test_type, outcome, level_reached)?;
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

    /// The ledger a listing asks for, oldest first: a person's (seen by `scope`) or an
    /// agency's.
    pub async fn ledger(
        &self,
        query: FeeQuery,
        scope: &[&str],
    ) -> Result<Vec<fee::Model>, TestingError> {
        match query {
            FeeQuery::Person(person_id) => {
                let who = self.candidate(person_id, scope).await?;
                self.fees(Some(who.person_id), scope).await
            }
            FeeQuery::Agency(agency) => self.fees(None, &[agency]).await,
        }
    }

    async fn fees(
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
