//! The reads and writes of the trajectory service's requests: persons, starting a
//! trajectory, its contract, listings; each state change commits with its outbox events.

use chrono::Utc;
use platform::db::BeginWrite as _;
use platform::events::Outbox;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TryInsertResult, sea_query::Expr,
};
use uuid::Uuid;
use wire::register::{self, Known};

use super::{
    aggregate::{load, save_progress, with_fees},
    entities::{fee, person, trajectory},
};
use crate::{
    TrajectoryError,
    domain::{Agency, Municipality, NationalNumber, ObligationStatus, Trajectory, TrajectoryEvent},
    events,
};

/// A person's registration as the case worker gives it.
#[derive(Debug)]
pub struct NewPerson {
    pub national_number: NationalNumber,
    pub given_name: String,
    pub family_name: String,
    pub mother_tongue: String,
    pub contact_language: Option<String>,
    pub registered_by: String,
}

/// Filters of a trajectory listing, already checked against the caller's scope.
#[derive(Debug)]
pub struct ListFilter {
    pub agencies: Vec<Agency>,
    pub status: Option<ObligationStatus>,
    pub municipality: Option<Municipality>,
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// Reads and writes of the trajectories service.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    outbox: Outbox,
}

impl Store {
    pub fn new(db: DatabaseConnection, outbox: Outbox) -> Self {
        Self { db, outbox }
    }

    /// Registers the person once; `(person_id, created)`. A second registration of the
    /// same number, also a concurrent one, returns the first person's id.
    pub async fn register_person(&self, new: NewPerson) -> Result<(Uuid, bool), TrajectoryError> {
        let txn = self.db.begin_write().await?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let row = person::ActiveModel {
            id: Set(id),
            national_number: Set(new.national_number.digits().to_owned()),
            given_name: Set(new.given_name),
            family_name: Set(new.family_name),
            mother_tongue: Set(new.mother_tongue.clone()),
            contact_language: Set(new.contact_language.clone()),
            birth_date: Set(new.national_number.birth_date()),
            registered_at: Set(now),
            registered_by: Set(new.registered_by.clone()),
        };
        let inserted = person::Entity::insert(row)
            .on_conflict_do_nothing_on([person::Column::NationalNumber])
            .exec_without_returning(&txn)
            .await?;
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            let event = events::person_registered(
                id,
                now,
                &new.mother_tongue,
                new.contact_language.as_deref(),
                Agency::from_alias(&new.registered_by),
            );
            self.outbox.stage(&txn, &id.to_string(), &event).await?;
            txn.commit().await?;
            self.outbox.committed();
            return Ok((id, true));
        }
        txn.rollback().await?;
        let existing = person::Entity::find()
            .filter(person::Column::NationalNumber.eq(new.national_number.digits()))
            .one(&self.db)
            .await?
            .ok_or_else(|| TrajectoryError::Corrupt("a conflicting person vanished".into()))?;
        Ok((existing.id, false))
    }

    /// The municipality with code `input` (current, or merged away in 2025 and then the one
    /// it became part of), with its competent agency, as the register says. An unknown code,
    /// or one where no Flemish agency is competent, is bad input naming the field.
    pub async fn municipality(&self, input: &str) -> Result<Municipality, TrajectoryError> {
        let field = "municipality_nis";
        let code = wire::nis(field, input)?;
        let row = match register::find(&self.db, code).await? {
            Known::Found(row) => row,
            Known::NotLoaded => return Err(TrajectoryError::RegisterNotLoaded),
            Known::Unknown => {
                return Err(TrajectoryError::invalid(
                    field,
                    format!("{code} is not a municipality in Statbel's register"),
                ));
            }
        };
        let corrupt = |what: &str| TrajectoryError::Corrupt(format!("municipality {code}: {what}"));
        let agency = match (&row.agency, row.agency()) {
            (_, Some(agency)) => agency,
            (None, None) => {
                return Err(TrajectoryError::invalid(
                    field,
                    format!(
                        "{code} ({}) is in {}; no Flemish agency is competent there",
                        row.name_nl, row.region
                    ),
                ));
            }
            (Some(_), None) => return Err(corrupt("agency")),
        };
        let current = row.nis().ok_or_else(|| corrupt("current code"))?;
        Ok(Municipality::new(current, agency))
    }

    /// Whether `person_id` is registered.
    pub async fn person_exists(&self, person_id: Uuid) -> Result<bool, TrajectoryError> {
        Ok(person::Entity::find_by_id(person_id)
            .select_only()
            .column(person::Column::Id)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Stores a new trajectory and the events of its start in one transaction.
    pub async fn start(
        &self,
        t: &Trajectory,
        events: &[TrajectoryEvent],
    ) -> Result<(), TrajectoryError> {
        let txn = self.db.begin_write().await?;
        let row = trajectory::ActiveModel {
            id: Set(t.id),
            person_id: Set(t.person_id),
            municipality_nis: Set(t.municipality.to_string()),
            agency: Set(t.agency().as_str().to_owned()),
            status: Set(t.status.as_str().to_owned()),
            exemption_reason: Set(t.exemption.map(|e| e.as_str().to_owned())),
            started_on: Set(t.started_on),
            contract_signed_on: Set(None),
            nt2_deadline: Set(None),
            mo_deadline: Set(None),
            vdab_deadline: Set(None),
            participation_deadline: Set(None),
            rights_and_duties_clause: Set(false),
            created_at: Set(Utc::now()),
            nt2_completed_on: Set(None),
            mo_completed_on: Set(None),
            vdab_registered_on: Set(None),
            participation_hours: Set(0),
            participation_completed_on: Set(None),
            participation_waiver: Set(None),
            attest_issued_on: Set(None),
            version: Set(0),
            state: Set(t.state.as_str().to_owned()),
            state_reason: Set(None),
            state_since: Set(None),
            b1_due_by: Set(None),
            b1_closed_on: Set(None),
            effort_declared_on: Set(None),
            effort_grounds: Set(None),
            imported_on: Set(None),
        };
        let inserted = trajectory::Entity::insert(row)
            .on_conflict_do_nothing_on([trajectory::Column::PersonId])
            .exec_without_returning(&txn)
            .await?;
        if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            txn.rollback().await?;
            let existing = self.trajectory_of(t.person_id).await?;
            return Err(TrajectoryError::TrajectoryExists {
                person_id: t.person_id,
                trajectory_id: existing.unwrap_or_default(),
            });
        }
        events::stage(&txn, &self.outbox, t, events).await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(())
    }

    /// The trajectory of `person_id`, if any.
    pub async fn trajectory_of(&self, person_id: Uuid) -> Result<Option<Uuid>, TrajectoryError> {
        Ok(trajectory::Entity::find()
            .filter(trajectory::Column::PersonId.eq(person_id))
            .select_only()
            .column(trajectory::Column::Id)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?)
    }

    /// Loads a trajectory with its contract and fees.
    pub async fn load(&self, id: Uuid) -> Result<Option<Trajectory>, TrajectoryError> {
        load(&self.db, id).await
    }

    /// Saves progress and stages its events in one transaction.
    pub async fn save_progress(
        &self,
        t: &mut Trajectory,
        events: Vec<TrajectoryEvent>,
    ) -> Result<usize, TrajectoryError> {
        let txn = self.db.begin_write().await?;
        let saved = save_progress(&txn, &self.outbox, t, events).await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(saved)
    }

    /// Open B1 follow-ups in `agencies`, oldest trajectory first.
    pub async fn b1_due(
        &self,
        agencies: &[Agency],
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Trajectory>, TrajectoryError> {
        let mut query = trajectory::Entity::find()
            .filter(trajectory::Column::Agency.is_in(agencies.iter().map(|a| a.as_str())))
            .filter(trajectory::Column::B1DueBy.is_not_null())
            .filter(trajectory::Column::B1ClosedOn.is_null());
        if let Some(after) = after {
            query = query.filter(trajectory::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(trajectory::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        with_fees(&self.db, rows).await
    }

    /// Writes the signed contract, its fees and the events of the signature in one
    /// transaction. A concurrent signature loses: the update only applies to an unsigned
    /// contract.
    pub async fn save_contract(
        &self,
        t: &Trajectory,
        events: &[TrajectoryEvent],
    ) -> Result<(), TrajectoryError> {
        let contract = t
            .contract
            .as_ref()
            .ok_or_else(|| TrajectoryError::Corrupt("no contract to save".into()))?;
        let txn = self.db.begin_write().await?;
        let updated = trajectory::Entity::update_many()
            .col_expr(
                trajectory::Column::ContractSignedOn,
                Expr::value(contract.signed_on),
            )
            .col_expr(
                trajectory::Column::Nt2Deadline,
                Expr::value(contract.nt2_deadline),
            )
            .col_expr(
                trajectory::Column::MoDeadline,
                Expr::value(contract.mo_deadline),
            )
            .col_expr(
                trajectory::Column::VdabDeadline,
                Expr::value(contract.vdab_deadline),
            )
            .col_expr(
                trajectory::Column::ParticipationDeadline,
                Expr::value(contract.participation_deadline),
            )
            .col_expr(
                trajectory::Column::RightsAndDutiesClause,
                Expr::value(contract.rights_and_duties_clause),
            )
            .col_expr(trajectory::Column::Version, Expr::value(t.version + 1))
            .filter(trajectory::Column::Id.eq(t.id))
            .filter(trajectory::Column::ContractSignedOn.is_null())
            .filter(trajectory::Column::Version.eq(t.version))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            txn.rollback().await?;
            // Signed meanwhile, or another change (a suspension) saved since the read.
            return Err(match self.load(t.id).await? {
                Some(now) if now.contract.is_some() => TrajectoryError::ContractAlreadySigned {
                    trajectory_id: t.id,
                },
                _ => TrajectoryError::Conflict {
                    trajectory_id: t.id,
                },
            });
        }
        let fees: Vec<fee::ActiveModel> = contract
            .fees
            .iter()
            .map(|f| fee::ActiveModel {
                id: Set(Uuid::now_v7()),
                trajectory_id: Set(t.id),
                person_id: Set(t.person_id),
                kind: Set(f.kind.as_str().to_owned()),
                amount_cents: Set(f.cents),
                charged_on: Set(contract.signed_on),
            })
            .collect();
        fee::Entity::insert_many(fees).exec(&txn).await?;
        events::stage(&txn, &self.outbox, t, events).await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(())
    }

    /// One page of trajectories in `filter.agencies`, oldest first, after the cursor.
    pub async fn list(&self, filter: ListFilter) -> Result<Vec<Trajectory>, TrajectoryError> {
        let mut condition = Condition::all()
            .add(trajectory::Column::Agency.is_in(filter.agencies.iter().map(|a| a.as_str())));
        if let Some(status) = filter.status {
            condition = condition.add(trajectory::Column::Status.eq(status.as_str()));
        }
        if let Some(nis) = filter.municipality {
            condition = condition.add(trajectory::Column::MunicipalityNis.eq(nis.to_string()));
        }
        if let Some(after) = filter.after {
            condition = condition.add(trajectory::Column::Id.gt(after));
        }
        let rows = trajectory::Entity::find()
            .filter(condition)
            .order_by_asc(trajectory::Column::Id)
            .limit(filter.limit)
            .all(&self.db)
            .await?;
        with_fees(&self.db, rows).await
    }
}
