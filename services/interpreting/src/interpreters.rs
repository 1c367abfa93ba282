//! The interpreter pool: languages, modes, regions, weekly hours, absences and
//! certification. Names and contact details are personal data: every read of them is
//! written to `personal_data_read` (who, organisation, purpose, which interpreters, when),
//! and none of it is logged.

use platform::db::BeginWrite as _;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use platform::{Agency, Principal, paging::Page};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    InterpretingError,
    domain::{self, Language, Mode, Region, Window},
    store::{
        self, absence, availability, booking, interpreter, interpreter_language, personal_data_read,
    },
};

type Result<T, E = InterpretingError> = std::result::Result<T, E>;

/// An interpreter as registered, checked.
#[derive(Debug, Clone)]
pub struct NewInterpreter {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub phone: String,
    pub languages: Vec<Language>,
    pub modes: Vec<Mode>,
    pub regions: Vec<Region>,
    pub windows: Vec<Window>,
    pub certification: Option<(String, NaiveDate)>,
}

/// An interpreter with everything matching needs.
#[derive(Debug, Clone)]
pub struct Profile {
    pub row: interpreter::Model,
    pub languages: Vec<String>,
    pub windows: Vec<availability::Model>,
    pub absences: Vec<absence::Model>,
}

impl Profile {
    pub fn modes(&self) -> impl Iterator<Item = Mode> + '_ {
        self.row.modes.split(',').filter_map(Mode::from_stored)
    }

    pub fn regions(&self) -> impl Iterator<Item = Region> + '_ {
        self.row.regions.split(',').filter_map(Region::from_stored)
    }

    pub fn windows(&self) -> impl Iterator<Item = Window> + '_ {
        self.windows
            .iter()
            .filter_map(|w| Window::from_stored(w.weekday, w.from_minute, w.to_minute))
    }
}

fn joined<T>(items: &[T], s: impl Fn(&T) -> &'static str) -> String {
    items.iter().map(s).collect::<Vec<_>>().join(",")
}

fn window_rows(interpreter_id: Uuid, windows: &[Window]) -> Vec<availability::ActiveModel> {
    windows
        .iter()
        .map(|w| availability::ActiveModel {
            id: Set(Uuid::now_v7()),
            interpreter_id: Set(interpreter_id),
            weekday: Set(i32::try_from(w.weekday).unwrap_or(0)),
            from_minute: Set(i32::try_from(w.from).unwrap_or(0)),
            to_minute: Set(i32::try_from(w.to).unwrap_or(0)),
        })
        .collect()
}

/// The pool of interpreters.
#[derive(Debug, Clone)]
pub struct Pool {
    db: DatabaseConnection,
}

impl Pool {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Registers an interpreter for `agency`.
    pub async fn register(&self, agency: Agency, new: NewInterpreter) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let txn = self.db.begin_write().await?;
        interpreter::Entity::insert(interpreter::ActiveModel {
            id: Set(id),
            given_name: Set(new.given_name),
            family_name: Set(new.family_name),
            email: Set(new.email),
            phone: Set(new.phone),
            modes: Set(joined(&new.modes, |m| m.as_str())),
            regions: Set(joined(&new.regions, |r| r.as_str())),
            certification_reference: Set(new.certification.as_ref().map(|c| c.0.clone())),
            certification_valid_until: Set(new.certification.map(|c| c.1)),
            registered_by: Set(agency.as_str().to_owned()),
            registered_at: Set(Utc::now()),
        })
        .exec_without_returning(&txn)
        .await?;
        interpreter_language::Entity::insert_many(new.languages.iter().map(|l| {
            interpreter_language::ActiveModel {
                interpreter_id: Set(id),
                language: Set(l.code().to_owned()),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
        if !new.windows.is_empty() {
            availability::Entity::insert_many(window_rows(id, &new.windows))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        tracing::info!(interpreter_id = %id, %agency, "interpreter registered");
        Ok(id)
    }

    /// Replaces an interpreter's weekly windows.
    pub async fn set_availability(&self, id: Uuid, windows: &[Window]) -> Result<()> {
        let txn = self.db.begin_write().await?;
        availability::Entity::delete_many()
            .filter(Expr::col(availability::Column::InterpreterId).eq(id))
            .exec(&txn)
            .await?;
        if interpreter::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .is_none()
        {
            return Err(InterpretingError::InterpreterNotFound { interpreter_id: id });
        }
        if !windows.is_empty() {
            availability::Entity::insert_many(window_rows(id, windows))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        tracing::info!(interpreter_id = %id, windows = windows.len(), "availability set");
        Ok(())
    }

    /// Adds an absence; refused when the interpreter is booked in it.
    pub async fn add_absence(
        &self,
        id: Uuid,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Result<()> {
        use booking::Column as B;
        let absence_id = Uuid::now_v7();
        let txn = self.db.begin_write().await?;
        // Bookings of the interpreter wait on its row meanwhile (see `matching`).
        store::lock_interpreter(&txn, id).await?;
        absence::Entity::insert(absence::ActiveModel {
            id: Set(absence_id),
            interpreter_id: Set(id),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
        })
        .exec_without_returning(&txn)
        .await?;
        if interpreter::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .is_none()
        {
            return Err(InterpretingError::InterpreterNotFound { interpreter_id: id });
        }
        let booked = booking::Entity::find()
            .filter(Expr::col(B::InterpreterId).eq(id))
            .filter(Expr::col(B::StartsAt).lt(ends_at))
            .filter(Expr::col(B::EndsAt).gt(starts_at))
            .one(&txn)
            .await?;
        if let Some(b) = booked {
            return Err(InterpretingError::AbsenceOverBooking {
                request_id: b.request_id,
                from: domain::local(b.starts_at),
                to: domain::local(b.ends_at),
            });
        }
        txn.commit().await?;
        tracing::info!(interpreter_id = %id, %absence_id, "absence added");
        Ok(())
    }

    /// The interpreter ids in the pool, by id, speaking `language` when given.
    pub async fn list(
        &self,
        language: Option<Language>,
        page: Page,
    ) -> Result<(Vec<Uuid>, String)> {
        let mut ids: Vec<Uuid> = if let Some(language) = language {
            use interpreter_language::Column as C;
            let mut q = interpreter_language::Entity::find()
                .select_only()
                .column(C::InterpreterId)
                .filter(Expr::col(C::Language).eq(language.code()))
                .order_by_asc(C::InterpreterId);
            if let Some(after) = page.after {
                q = q.filter(Expr::col(C::InterpreterId).gt(after));
            }
            q.limit(page.fetch()).into_tuple().all(&self.db).await?
        } else {
            use interpreter::Column as C;
            let mut q = interpreter::Entity::find()
                .select_only()
                .column(C::Id)
                .order_by_asc(C::Id);
            if let Some(after) = page.after {
                q = q.filter(Expr::col(C::Id).gt(after));
            }
            q.limit(page.fetch()).into_tuple().all(&self.db).await?
        };
        let next = page.finish(&mut ids, |id| *id);
        Ok((ids, next))
    }

    /// The ids of the interpreters of `language`.
    pub async fn speaking(&self, language: Language) -> Result<Vec<Uuid>> {
        use interpreter_language::Column as C;
        Ok(interpreter_language::Entity::find()
            .select_only()
            .column(C::InterpreterId)
            .filter(Expr::col(C::Language).eq(language.code()))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// The profiles of `ids`, in that order; ids not in the pool are left out.
    pub async fn profiles<C: ConnectionTrait>(&self, db: &C, ids: &[Uuid]) -> Result<Vec<Profile>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = interpreter::Entity::find()
            .filter(Expr::col(interpreter::Column::Id).is_in(ids.iter().copied()))
            .all(db)
            .await?;
        let mut languages: HashMap<Uuid, Vec<String>> = HashMap::new();
        for l in interpreter_language::Entity::find()
            .filter(
                Expr::col(interpreter_language::Column::InterpreterId).is_in(ids.iter().copied()),
            )
            .order_by_asc(interpreter_language::Column::Language)
            .all(db)
            .await?
        {
            languages
                .entry(l.interpreter_id)
                .or_default()
                .push(l.language);
        }
        let mut windows: HashMap<Uuid, Vec<availability::Model>> = HashMap::new();
        for w in availability::Entity::find()
            .filter(Expr::col(availability::Column::InterpreterId).is_in(ids.iter().copied()))
            .order_by_asc(availability::Column::Weekday)
            .order_by_asc(availability::Column::FromMinute)
            .all(db)
            .await?
        {
            windows.entry(w.interpreter_id).or_default().push(w);
        }
        let mut absences: HashMap<Uuid, Vec<absence::Model>> = HashMap::new();
        for a in absence::Entity::find()
            .filter(Expr::col(absence::Column::InterpreterId).is_in(ids.iter().copied()))
            .filter(Expr::col(absence::Column::EndsAt).gt(Utc::now()))
            .order_by_asc(absence::Column::StartsAt)
            .all(db)
            .await?
        {
            absences.entry(a.interpreter_id).or_default().push(a);
        }
        let mut by_id: HashMap<Uuid, interpreter::Model> =
            rows.into_iter().map(|r| (r.id, r)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| {
                by_id.remove(id).map(|row| Profile {
                    languages: languages.remove(id).unwrap_or_default(),
                    windows: windows.remove(id).unwrap_or_default(),
                    absences: absences.remove(id).unwrap_or_default(),
                    row,
                })
            })
            .collect())
    }

    /// One profile.
    pub async fn profile(&self, id: Uuid) -> Result<Profile> {
        self.profiles(&self.db, &[id])
            .await?
            .pop()
            .ok_or(InterpretingError::InterpreterNotFound { interpreter_id: id })
    }

    /// The interpreter `id`'s profile, read by `principal` for `purpose`: audited.
    pub async fn read(&self, principal: &Principal, purpose: &str, id: Uuid) -> Result<Profile> {
        let p = self.profile(id).await?;
        self.audit(principal, purpose, &[id]).await?;
        Ok(p)
    }

    /// A page of the pool (speaking `language` when given) with where the next starts,
    /// read by `principal`: audited.
    pub async fn read_page(
        &self,
        principal: &Principal,
        language: Option<Language>,
        page: Page,
    ) -> Result<(Vec<Profile>, String)> {
        let (ids, next) = self.list(language, page).await?;
        let profiles = self.profiles(&self.db, &ids).await?;
        self.audit(principal, "ListInterpreters", &ids).await?;
        Ok((profiles, next))
    }

    /// Refuses changes to an interpreter another agency's coordinators manage: the pool is
    /// shared for matching, its hours and absences are kept by the agency that registered.
    pub async fn managed(&self, area: &[Agency], id: Uuid) -> Result<()> {
        let row = interpreter::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(InterpretingError::InterpreterNotFound { interpreter_id: id })?;
        if crate::policy::manages(area, &row.registered_by) {
            Ok(())
        } else {
            Err(InterpretingError::NotYourInterpreter {
                interpreter_id: id,
                agency: row.registered_by,
            })
        }
    }

    /// Records that `principal` read the personal data of `ids` for `purpose`.
    pub async fn audit(&self, principal: &Principal, purpose: &str, ids: &[Uuid]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        personal_data_read::Entity::insert(personal_data_read::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(Utc::now()),
            subject: Set(principal.subject.clone()),
            organisation: Set(principal.organisation.alias.clone()),
            purpose: Set(purpose.to_owned()),
            interpreter_ids: Set(ids
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",")),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }
}
