//! Matching: the candidates for a request, ranked and explained, and the booking of one.
//! An interpreter is never booked twice at once. PostgreSQL refuses it itself (the
//! exclusion constraint `booking_never_twice`); SQLite has one writer at a time, so the
//! booking checks for an overlap after writing, inside its transaction, where no other
//! booking can commit beside it. Both paths end in the same `DoubleBooking` error.

use platform::db::BeginWrite as _;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use platform::{Agency, events::Outbox};
use proto::interpreting::v1 as pb;
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    InterpretingError,
    domain::{self, Mode, RequestState, Slot},
    interpreters::{Pool, Profile},
    policy::Viewer,
    requests::{self, Place},
    store::{self, absence, booking, request},
};

type Result<T, E = InterpretingError> = std::result::Result<T, E>;

/// At most this many candidates are returned, best first.
pub const MAX_CANDIDATES: usize = 200;

/// An interpreter weighed for a request.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub profile: Profile,
    pub eligible: bool,
    pub score: i32,
    pub reasons: Vec<String>,
}

/// What the request needs of an interpreter, and why one does not fit.
struct Need<'a> {
    request: &'a request::Model,
    mode: Mode,
    slot: Option<Slot>,
    place: Option<Place>,
}

impl Need<'_> {
    fn of(request: &request::Model, place: Option<Place>) -> Result<Need<'_>> {
        let mode = Mode::from_stored(&request.mode).ok_or_else(|| {
            InterpretingError::Corrupt(format!(
                "request {} has mode {:?}",
                request.id, request.mode
            ))
        })?;
        Ok(Need {
            request,
            mode,
            slot: requests::slot_of(request),
            place,
        })
    }

    /// Why `p` cannot take the request, or nothing when it can (bookings aside).
    fn unsuitable(&self, p: &Profile) -> Option<String> {
        let language = &self.request.language;
        if !p.languages.iter().any(|l| l == language) {
            return Some(format!("does not interpret {language}"));
        }
        if !p.modes().any(|m| m == self.mode) {
            return Some(format!(
                "does not work {}",
                self.mode.as_str().replace('_', " ")
            ));
        }
        if self.mode == Mode::OnSite
            && let Some(place) = self.place
            && !p.regions().any(|r| r == place.region)
        {
            return Some(format!("does not go on site in {}", place.region.as_str()));
        }
        if let Some(slot) = self.slot {
            let windows: Vec<domain::Window> = p.windows().collect();
            if !domain::covered(&windows, &slot) {
                let hours: Vec<String> = p.windows().map(|w| w.describe()).collect();
                return Some(if hours.is_empty() {
                    "has no working hours set".to_owned()
                } else {
                    format!(
                        "works {} (Belgian time), not {} to {}",
                        hours.join(", "),
                        domain::local(slot.starts_at),
                        domain::local(slot.ends_at)
                    )
                });
            }
            if let Some(a) = p
                .absences
                .iter()
                .find(|a| slot.overlaps(a.starts_at, a.ends_at))
            {
                return Some(format!(
                    "is absent from {} to {}",
                    domain::local(a.starts_at),
                    domain::local(a.ends_at)
                ));
            }
        }
        None
    }
}

/// Matching and booking.
#[derive(Debug, Clone)]
pub struct Matching {
    pool: Pool,
    outbox: Outbox,
}

impl Matching {
    pub fn new(pool: Pool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }

    fn db(&self) -> &DatabaseConnection {
        self.pool.db()
    }

    async fn place_of(&self, r: &request::Model) -> Result<Option<Place>> {
        if r.mode == Mode::OnSite.as_str() {
            Ok(Some(
                requests::place(self.db(), "municipality_nis", &r.municipality_nis).await?,
            ))
        } else {
            Ok(None)
        }
    }

    /// The candidates for request `id` of `area`, which must still be to match: open or
    /// assigned, and not started.
    pub async fn candidates_for(
        &self,
        area: &[Agency],
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>> {
        let viewer = Viewer {
            area: area.to_vec(),
            own: None,
        };
        let row = requests::visible(self.db(), &viewer, id).await?;
        let state = requests::state_of(&row)?;
        let started = requests::slot_of(&row).is_some_and(|s| s.starts_at <= now);
        if !matches!(state, RequestState::Open | RequestState::Assigned) || started {
            return Err(InterpretingError::WrongState {
                request_id: id,
                state: if started { "started" } else { state.as_str() },
                hint: "candidates are for a request still to be matched",
            });
        }
        self.candidates(&row, now).await
    }

    /// The interpreters of the request's language, the eligible first by score.
    pub async fn candidates(
        &self,
        r: &request::Model,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>> {
        let place = self.place_of(r).await?;
        let need = Need::of(r, place)?;
        let language = domain::Language::parse("language", &r.language)?;
        let ids = self.pool.speaking(language).await?;
        let profiles = self.pool.profiles(self.db(), &ids).await?;
        // Bookings of these interpreters on the request's day: the overlapping ones rule
        // out, the others weigh as load.
        let mut booked: HashMap<Uuid, Vec<booking::Model>> = HashMap::new();
        if let Some(slot) = need.slot {
            // Wide enough for any Belgian day around the slot; the day itself is checked
            // below.
            let day_start = slot.starts_at - chrono::TimeDelta::hours(14);
            let day_end = slot.ends_at + chrono::TimeDelta::hours(14);
            for b in booking::Entity::find()
                .filter(Expr::col(booking::Column::InterpreterId).is_in(ids.iter().copied()))
                .filter(Expr::col(booking::Column::StartsAt).lt(day_end))
                .filter(Expr::col(booking::Column::EndsAt).gt(day_start))
                .all(self.db())
                .await?
            {
                if platform::clock::belgian_date(b.starts_at) == slot.day()
                    || slot.overlaps(b.starts_at, b.ends_at)
                {
                    booked.entry(b.interpreter_id).or_default().push(b);
                }
            }
        }
        let service_day = need
            .slot
            .map(|s| s.day())
            .or(r.due_on)
            .unwrap_or_else(|| platform::clock::belgian_date(now));
        let mut out: Vec<Candidate> = profiles
            .into_iter()
            .map(|p| {
                let mut reasons = Vec::new();
                let mut score = 100;
                let mut eligible = true;
                if Some(p.row.id) == r.interpreter_id {
                    eligible = false;
                    reasons.push("is the interpreter booked for it now".to_owned());
                }
                if let Some(why) = need.unsuitable(&p) {
                    eligible = false;
                    reasons.push(why);
                } else {
                    reasons.push(format!(
                        "interprets {} ({}), works {}",
                        language.code(),
                        language.name(),
                        need.mode.as_str().replace('_', " ")
                    ));
                }
                let theirs = booked.get(&p.row.id).map(Vec::as_slice).unwrap_or_default();
                let (overlapping, others): (Vec<&booking::Model>, Vec<&booking::Model>) = theirs
                    .iter()
                    .filter(|b| b.request_id != r.id)
                    .partition(|b| {
                        need.slot
                            .is_some_and(|s| s.overlaps(b.starts_at, b.ends_at))
                    });
                if let Some(b) = overlapping.first() {
                    eligible = false;
                    reasons.push(format!(
                        "is booked from {} to {} for request {}",
                        domain::local(b.starts_at),
                        domain::local(b.ends_at),
                        b.request_id
                    ));
                }
                match (
                    &p.row.certification_reference,
                    p.row.certification_valid_until,
                ) {
                    (Some(_), Some(until)) if until >= service_day => {
                        score += 30;
                        reasons.push(format!("certified until {until}"));
                    }
                    (Some(_), Some(until)) => {
                        reasons.push(format!("certification expired on {until}"))
                    }
                    _ => reasons.push("not certified".to_owned()),
                }
                if p.row.registered_by == r.agency {
                    score += 5;
                    reasons.push(format!("in {}'s own pool", r.agency));
                }
                if !others.is_empty() {
                    score -= 10 * i32::try_from(others.len()).unwrap_or(10);
                    reasons.push(format!("{} other booking(s) that day", others.len()));
                }
                Candidate {
                    profile: p,
                    eligible,
                    score,
                    reasons,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.eligible
                .cmp(&a.eligible)
                .then(b.score.cmp(&a.score))
                .then(a.profile.row.id.cmp(&b.profile.row.id))
        });
        out.truncate(MAX_CANDIDATES);
        Ok(out)
    }

    /// Books `interpreter_id` for request `request_id`: an open one, or (`reassign`) an
    /// assigned one whose interpreter is released in the same transaction.
    pub async fn assign(
        &self,
        area: &[Agency],
        request_id: Uuid,
        interpreter_id: Uuid,
        reassign: bool,
        now: DateTime<Utc>,
    ) -> Result<request::Model> {
        let viewer = Viewer {
            area: area.to_vec(),
            own: None,
        };
        let desk_row = requests::visible(self.db(), &viewer, request_id).await?;
        let state = requests::state_of(&desk_row)?;
        let expected = if reassign {
            RequestState::Assigned
        } else {
            RequestState::Open
        };
        if state != expected {
            return Err(InterpretingError::WrongState {
                request_id,
                state: state.as_str(),
                hint: if reassign {
                    "only an assigned request can be reassigned"
                } else if state == RequestState::Assigned {
                    "it has an interpreter; use ReassignInterpreter"
                } else {
                    "only an open request can be assigned"
                },
            });
        }
        let slot = requests::slot_of(&desk_row);
        if slot.is_some_and(|s| s.starts_at <= now) {
            return Err(InterpretingError::WrongState {
                request_id,
                state: "started",
                hint: "a service that has started cannot be given another interpreter",
            });
        }
        let previous = desk_row.interpreter_id;
        if previous == Some(interpreter_id) {
            return Err(InterpretingError::Unsuitable {
                interpreter_id,
                request_id,
                reason: "is the interpreter booked for it now".to_owned(),
            });
        }
        let profile = self.pool.profile(interpreter_id).await?;
        let place = self.place_of(&desk_row).await?;
        if let Some(reason) = Need::of(&desk_row, place)?.unsuitable(&profile) {
            return Err(InterpretingError::Unsuitable {
                interpreter_id,
                request_id,
                reason,
            });
        }
        match self
            .book(&desk_row, expected, previous, interpreter_id, slot)
            .await
        {
            Ok(row) => {
                tracing::info!(%request_id, %interpreter_id, reassigned = reassign, "interpreter assigned");
                Ok(row)
            }
            Err(Booked::Overlap(other)) => Err(InterpretingError::DoubleBooking {
                interpreter_id,
                other_request: other.request_id,
                from: domain::local(other.starts_at),
                to: domain::local(other.ends_at),
            }),
            Err(Booked::Refused(e)) if is_exclusion(&e) => {
                // PostgreSQL refused the second booking; name the one it collided with.
                let slot = slot.ok_or_else(|| InterpretingError::Database(e))?;
                match overlapping(self.db(), interpreter_id, slot, request_id).await? {
                    Some(other) => Err(InterpretingError::DoubleBooking {
                        interpreter_id,
                        other_request: other.request_id,
                        from: domain::local(other.starts_at),
                        to: domain::local(other.ends_at),
                    }),
                    None => Err(InterpretingError::Contended {
                        request_id,
                        what: "lost a race for the interpreter with a booking since undone",
                    }),
                }
            }
            Err(Booked::Refused(e)) => Err(e.into()),
            Err(Booked::Absent(a)) => Err(InterpretingError::Unsuitable {
                interpreter_id,
                request_id,
                reason: format!(
                    "is absent from {} to {}",
                    domain::local(a.starts_at),
                    domain::local(a.ends_at)
                ),
            }),
            Err(Booked::Changed) => Err(InterpretingError::Contended {
                request_id,
                what: "was changed by another coordinator meanwhile",
            }),
        }
    }

    async fn book(
        &self,
        current: &request::Model,
        expected: RequestState,
        previous: Option<Uuid>,
        interpreter_id: Uuid,
        slot: Option<Slot>,
    ) -> Result<request::Model, Booked> {
        use request::Column as C;
        let id = current.id;
        let txn = self.db().begin_write().await?;
        // The request first: the write that takes SQLite's lock, and the row a second
        // coordinator of the same request waits on.
        let mut update = request::Entity::update_many()
            .col_expr(C::State, Expr::val(RequestState::Assigned.as_str()))
            .col_expr(C::InterpreterId, Expr::val(interpreter_id))
            .filter(Expr::col(C::Id).eq(id))
            .filter(Expr::col(C::State).eq(expected.as_str()));
        if let Some(previous) = previous {
            update = update.filter(Expr::col(C::InterpreterId).eq(previous));
        }
        if update.exec(&txn).await?.rows_affected != 1 {
            return Err(Booked::Changed);
        }
        if let Some(slot) = slot {
            // The interpreter's row next: bookings and absences of one interpreter take
            // turns on it (PostgreSQL; SQLite has one writer), so an absence added meanwhile
            // is seen below.
            store::lock_interpreter(&txn, interpreter_id).await?;
            if let Some(a) = absent(&txn, interpreter_id, slot).await? {
                return Err(Booked::Absent(a));
            }
            booking::Entity::delete_by_id(id).exec(&txn).await?;
            booking::Entity::insert(booking::ActiveModel {
                request_id: Set(id),
                interpreter_id: Set(interpreter_id),
                starts_at: Set(slot.starts_at),
                ends_at: Set(slot.ends_at),
            })
            .exec_without_returning(&txn)
            .await?;
            if let Some(other) = overlapping(&txn, interpreter_id, slot, id).await? {
                return Err(Booked::Overlap(other));
            }
        }
        self.outbox
            .stage(
                &txn,
                &id.to_string(),
                &pb::InterpreterAssigned {
                    request_id: id.to_string(),
                    interpreter_id: interpreter_id.to_string(),
                    previous_interpreter_id: previous.map(|p| p.to_string()).unwrap_or_default(),
                    starts_at: slot.map(|s| wire::timestamp(s.starts_at)),
                    ends_at: slot.map(|s| wire::timestamp(s.ends_at)),
                    agency: wire::stored_agency(&current.agency),
                },
            )
            .await?;
        let row = request::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(Booked::Changed)?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(row)
    }
}

/// Why a booking transaction did not commit.
enum Booked {
    Overlap(booking::Model),
    Absent(absence::Model),
    Changed,
    Refused(DbErr),
}

impl From<DbErr> for Booked {
    fn from(e: DbErr) -> Self {
        Booked::Refused(e)
    }
}

/// PostgreSQL's exclusion violation of `booking_never_twice` (SQLSTATE 23P01).
fn is_exclusion(e: &DbErr) -> bool {
    let text = e.to_string();
    text.contains("booking_never_twice") || text.contains("23P01")
}

/// An absence of the interpreter overlapping `slot`.
async fn absent<C: ConnectionTrait>(
    db: &C,
    interpreter_id: Uuid,
    slot: Slot,
) -> Result<Option<absence::Model>, DbErr> {
    use absence::Column as A;
    absence::Entity::find()
        .filter(Expr::col(A::InterpreterId).eq(interpreter_id))
        .filter(Expr::col(A::StartsAt).lt(slot.ends_at))
        .filter(Expr::col(A::EndsAt).gt(slot.starts_at))
        .one(db)
        .await
}

/// Another booking of the interpreter overlapping `slot`.
async fn overlapping<C: ConnectionTrait>(
    db: &C,
    interpreter_id: Uuid,
    slot: Slot,
    except: Uuid,
) -> Result<Option<booking::Model>, DbErr> {
    use booking::Column as B;
    booking::Entity::find()
        .filter(Expr::col(B::InterpreterId).eq(interpreter_id))
        .filter(Expr::col(B::RequestId).ne(except))
        .filter(Expr::col(B::StartsAt).lt(slot.ends_at))
        .filter(Expr::col(B::EndsAt).gt(slot.starts_at))
        .one(db)
        .await
}
