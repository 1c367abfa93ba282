//! Requests for interpreting and translation: asked for by a public body, cancelled by it
//! or a coordinator (late ones billed as booked), and recorded as performed. Each change
//! commits with its event in the outbox. Purposes and places are never logged.

use chrono::{DateTime, NaiveDate, Utc};
use platform::db::BeginWrite as _;
use platform::{Agency, events::Outbox, paging::Page};
use proto::interpreting::v1 as pb;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;
use wire::register::{self, Known};

use crate::{
    InterpretingError, convert,
    domain::{Language, Mode, Region, RequestState, Slot},
    policy::Viewer,
    rules,
    store::{booking, request},
};

type Result<T, E = InterpretingError> = std::result::Result<T, E>;

/// A municipality of the register, as a request names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub nis: platform::Nis,
    pub agency: Agency,
    pub region: Region,
}

/// The municipality `raw` from the register: it must exist and be in an agency's area.
pub async fn place(db: &impl ConnectionTrait, field: &'static str, raw: &str) -> Result<Place> {
    let nis = wire::nis(field, raw)?;
    let row = match register::find(db, nis).await? {
        Known::Found(row) => row,
        Known::NotLoaded => return Err(InterpretingError::RegisterNotLoaded),
        Known::Unknown => {
            return Err(InterpretingError::UnknownMunicipality {
                nis: nis.to_string(),
            });
        }
    };
    let agency = row.agency().ok_or_else(|| {
        InterpretingError::invalid(
            field,
            format!("{nis} is in Wallonia, outside every agency's area"),
        )
    })?;
    let region = Region::of_municipality(&row.province_nis, agency == Agency::Bon)
        .ok_or_else(|| InterpretingError::Corrupt(format!("municipality {nis} has no region")))?;
    let nis = wire::nis(field, &row.current_nis)?;
    Ok(Place {
        nis,
        agency,
        region,
    })
}

/// What is asked for: interpreting at a time, or a written translation by a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Interpreting(Slot),
    Written { words: i32, due_on: NaiveDate },
}

/// A request as asked for, checked.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub requester: String,
    pub place: Place,
    pub language: Language,
    pub mode: Mode,
    pub service: Service,
    pub address: Option<String>,
    pub person_id: Option<Uuid>,
    pub purpose: String,
}

/// A request the viewer sees; another organisation's is not found.
pub async fn visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> Result<request::Model> {
    request::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| viewer.sees(&r.agency, &r.requester))
        .ok_or(InterpretingError::RequestNotFound { request_id: id })
}

/// The state of a stored request.
pub fn state_of(r: &request::Model) -> Result<RequestState> {
    RequestState::from_stored(&r.state).ok_or_else(|| {
        InterpretingError::Corrupt(format!("request {} has state {:?}", r.id, r.state))
    })
}

/// The slot of a stored interpreting request.
pub fn slot_of(r: &request::Model) -> Option<Slot> {
    Some(Slot::new(r.starts_at?, r.duration_minutes?))
}

/// The requests desk.
#[derive(Debug, Clone)]
pub struct Desk {
    db: DatabaseConnection,
    outbox: Outbox,
    late_cancellation_hours: u32,
}

impl Desk {
    pub fn new(db: DatabaseConnection, outbox: Outbox, late_cancellation_hours: u32) -> Self {
        Self {
            db,
            outbox,
            late_cancellation_hours,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn late_cancellation_hours(&self) -> u32 {
        self.late_cancellation_hours
    }

    /// Files a request with its `InterpretingRequested`.
    pub async fn create(&self, new: NewRequest, now: DateTime<Utc>) -> Result<request::Model> {
        let (starts_at, duration, words, due_on) = match new.service {
            Service::Interpreting(slot) => (
                Some(slot.starts_at),
                Some(i32::try_from((slot.ends_at - slot.starts_at).num_minutes()).unwrap_or(0)),
                None,
                None,
            ),
            Service::Written { words, due_on } => (None, None, Some(words), Some(due_on)),
        };
        let row = request::Model {
            id: Uuid::now_v7(),
            requester: new.requester,
            municipality_nis: new.place.nis.to_string(),
            agency: new.place.agency.as_str().to_owned(),
            language: new.language.code().to_owned(),
            mode: new.mode.as_str().to_owned(),
            starts_at,
            duration_minutes: duration,
            place: new.address,
            person_id: new.person_id,
            purpose: new.purpose,
            word_count: words,
            due_on,
            state: RequestState::Open.as_str().to_owned(),
            interpreter_id: None,
            requested_at: now,
            cancelled_at: None,
            cancelled_by: None,
            cancellation_billable: false,
            performed_minutes: None,
            performed_words: None,
            service_on: None,
            invoice_id: None,
        };
        let txn = self.db.begin_write().await?;
        request::Entity::insert(request::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await?;
        self.outbox
            .stage(
                &txn,
                &row.id.to_string(),
                &pb::InterpretingRequested {
                    request_id: row.id.to_string(),
                    requester: row.requester.clone(),
                    municipality_nis: row.municipality_nis.clone(),
                    agency: wire::agency(new.place.agency) as i32,
                    language: row.language.clone(),
                    mode: convert::mode(new.mode) as i32,
                    starts_at: row.starts_at.map(wire::timestamp),
                    duration_minutes: row.duration_minutes.unwrap_or(0),
                    person_id: row.person_id.map(|p| p.to_string()).unwrap_or_default(),
                    due_on: row.due_on.map(wire::date),
                },
            )
            .await?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(request_id = %row.id, mode = new.mode.as_str(), language = %row.language, "interpreting requested");
        Ok(row)
    }

    /// A request the viewer sees; another organisation's is not found.
    pub async fn get(&self, viewer: &Viewer, id: Uuid) -> Result<request::Model> {
        visible(&self.db, viewer, id).await
    }

    /// The requests the viewer sees, oldest first.
    pub async fn list(
        &self,
        viewer: &Viewer,
        state: Option<RequestState>,
        page: Page,
    ) -> Result<(Vec<request::Model>, String)> {
        use request::Column as C;
        if viewer.area.is_empty() && viewer.own.is_none() {
            return Ok((Vec::new(), String::new()));
        }
        let mut visible = sea_orm::Condition::any();
        if !viewer.area.is_empty() {
            visible =
                visible.add(Expr::col(C::Agency).is_in(viewer.area.iter().map(|a| a.as_str())));
        }
        if let Some(own) = &viewer.own {
            visible = visible.add(Expr::col(C::Requester).eq(own.as_str()));
        }
        let mut q = request::Entity::find().filter(visible).order_by_asc(C::Id);
        if let Some(state) = state {
            q = q.filter(Expr::col(C::State).eq(state.as_str()));
        }
        if let Some(after) = page.after {
            q = q.filter(Expr::col(C::Id).gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |r| r.id);
        Ok((rows, next))
    }

    /// Cancels an open or assigned request before it starts. Cancelled late by its
    /// requester with an interpreter booked, it is billed as booked; an agency that
    /// cancels (its interpreter fell ill) bills no one.
    pub async fn cancel(
        &self,
        viewer: &Viewer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<request::Model> {
        use request::Column as C;
        let current = self.get(viewer, id).await?;
        let state = state_of(&current)?;
        if !matches!(state, RequestState::Open | RequestState::Assigned) {
            return Err(InterpretingError::WrongState {
                request_id: id,
                state: state.as_str(),
                hint: "only an open or assigned request can be cancelled",
            });
        }
        let slot = slot_of(&current);
        if slot.is_some_and(|s| s.starts_at <= now) {
            return Err(InterpretingError::WrongState {
                request_id: id,
                state: "started",
                hint: "a service that has begun is recorded as performed, not cancelled",
            });
        }
        let by_requester = viewer.own.as_deref() == Some(current.requester.as_str());
        let billable = by_requester
            && state == RequestState::Assigned
            && slot.is_some_and(|s| {
                rules::is_late_cancellation(now, s.starts_at, self.late_cancellation_hours)
            });
        let txn = self.db.begin_write().await?;
        let changed = request::Entity::update_many()
            .col_expr(C::State, Expr::val(RequestState::Cancelled.as_str()))
            .col_expr(C::CancelledAt, Expr::val(now))
            .col_expr(C::CancellationBillable, Expr::val(billable))
            .col_expr(
                C::CancelledBy,
                Expr::val(if by_requester {
                    "requester"
                } else {
                    "coordinator"
                }),
            )
            .col_expr(
                C::ServiceOn,
                Expr::val(billable.then(|| slot.map(|s| s.day())).flatten()),
            )
            .filter(Expr::col(C::Id).eq(id))
            .filter(Expr::col(C::State).eq(state.as_str()))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Err(InterpretingError::Contended {
                request_id: id,
                what: "changed meanwhile",
            });
        }
        booking::Entity::delete_by_id(id).exec(&txn).await?;
        self.outbox
            .stage(
                &txn,
                &id.to_string(),
                &pb::InterpretingCancelled {
                    request_id: id.to_string(),
                    cancelled_at: Some(wire::timestamp(now)),
                    billable,
                    agency: wire::stored_agency(&current.agency),
                },
            )
            .await?;
        let row = request::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(InterpretingError::RequestNotFound { request_id: id })?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(request_id = %id, billable, "interpreting cancelled");
        Ok(row)
    }

    /// Records what an assigned request took: minutes for interpreting (once it started),
    /// words for a translation.
    pub async fn perform(
        &self,
        area: &[Agency],
        id: Uuid,
        minutes: i32,
        words: i32,
        now: DateTime<Utc>,
    ) -> Result<request::Model> {
        use request::Column as C;
        let viewer = Viewer {
            area: area.to_vec(),
            own: None,
        };
        let current = self.get(&viewer, id).await?;
        let state = state_of(&current)?;
        if state != RequestState::Assigned {
            return Err(InterpretingError::WrongState {
                request_id: id,
                state: state.as_str(),
                hint: "only an assigned request can be recorded as performed",
            });
        }
        let (minutes, words, service_on) = match slot_of(&current) {
            Some(slot) => {
                if words != 0 {
                    return Err(InterpretingError::invalid(
                        "words",
                        "is for written translations; give minutes",
                    ));
                }
                if !(1..=rules::MAX_PERFORMED_MINUTES).contains(&minutes) {
                    return Err(InterpretingError::invalid(
                        "minutes",
                        format!(
                            "must be 1 to {}, not {minutes}",
                            rules::MAX_PERFORMED_MINUTES
                        ),
                    ));
                }
                if now < slot.starts_at {
                    return Err(InterpretingError::WrongState {
                        request_id: id,
                        state: "not started yet",
                        hint: "a service is recorded once it has started",
                    });
                }
                (Some(minutes), None, slot.day())
            }
            None => {
                if minutes != 0 {
                    return Err(InterpretingError::invalid(
                        "minutes",
                        "is for interpreting; give words",
                    ));
                }
                if !(1..=rules::MAX_WORDS).contains(&words) {
                    return Err(InterpretingError::invalid(
                        "words",
                        format!("must be 1 to {}, not {words}", rules::MAX_WORDS),
                    ));
                }
                (None, Some(words), platform::clock::belgian_date(now))
            }
        };
        let txn = self.db.begin_write().await?;
        let changed = request::Entity::update_many()
            .col_expr(C::State, Expr::val(RequestState::Performed.as_str()))
            .col_expr(C::PerformedMinutes, Expr::val(minutes))
            .col_expr(C::PerformedWords, Expr::val(words))
            .col_expr(C::ServiceOn, Expr::val(service_on))
            .filter(Expr::col(C::Id).eq(id))
            .filter(Expr::col(C::State).eq(RequestState::Assigned.as_str()))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Err(InterpretingError::Contended {
                request_id: id,
                what: "changed meanwhile",
            });
        }
        self.outbox
            .stage(
                &txn,
                &id.to_string(),
                &pb::InterpretingPerformed {
                    request_id: id.to_string(),
                    interpreter_id: current
                        .interpreter_id
                        .map(|i| i.to_string())
                        .unwrap_or_default(),
                    service_on: Some(wire::date(service_on)),
                    minutes: minutes.unwrap_or(0),
                    words: words.unwrap_or(0),
                    agency: wire::stored_agency(&current.agency),
                },
            )
            .await?;
        let row = request::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(InterpretingError::RequestNotFound { request_id: id })?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(request_id = %id, "interpreting performed");
        Ok(row)
    }
}
