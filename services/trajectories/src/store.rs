//! The trajectories database: sea-orm entities, migrations, and the writes that commit a
//! state change together with its outbox events.

use chrono::{NaiveDate, Utc};
use platform::db::BeginWrite as _;
use platform::events::{Outbox, store::CreateEntities};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TryInsertResult,
};
use sea_orm_migration::prelude::*;
use uuid::Uuid;
use wire::register::{self, Known};

use crate::{
    TrajectoryError,
    domain::{
        Agency, Component, Contract, EffortDeclaration, ExemptionReason, Fee, FeeKind,
        Municipality, NationalNumber, Nis, ObligationStatus, ParticipationWaiver, Progress, State,
        Trajectory, TrajectoryEvent,
    },
    events,
};

/// Persons: the only place the national register number is stored.
pub mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "person")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub national_number: String,
        pub given_name: String,
        pub family_name: String,
        pub mother_tongue: String,
        pub contact_language: Option<String>,
        /// From the national number; `None` when the register does not know it.
        pub birth_date: Option<Date>,
        pub registered_at: DateTimeUtc,
        /// The organisation whose case worker registered the person.
        pub registered_by: String,
    }

    // Personal data: a derived Debug would print it into any log that debugs a row.
    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("person::Model")
                .field("id", &self.id)
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Trajectories with their contract.
pub mod trajectory {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trajectory")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// One trajectory per person for now; a later trajectory after a stop is future work.
        #[sea_orm(unique)]
        pub person_id: Uuid,
        #[sea_orm(indexed)]
        pub municipality_nis: String,
        #[sea_orm(indexed)]
        pub agency: String,
        pub status: String,
        pub exemption_reason: Option<String>,
        pub started_on: Date,
        pub contract_signed_on: Option<Date>,
        pub nt2_deadline: Option<Date>,
        pub mo_deadline: Option<Date>,
        pub vdab_deadline: Option<Date>,
        pub participation_deadline: Option<Date>,
        pub rights_and_duties_clause: bool,
        pub created_at: DateTimeUtc,
        pub nt2_completed_on: Option<Date>,
        pub mo_completed_on: Option<Date>,
        pub vdab_registered_on: Option<Date>,
        pub participation_hours: i32,
        pub participation_completed_on: Option<Date>,
        pub participation_waiver: Option<String>,
        pub attest_issued_on: Option<Date>,
        /// Bumped by every progress save: optimistic concurrency.
        pub version: i32,
        /// active, suspended or stopped.
        pub state: String,
        pub state_reason: Option<String>,
        pub state_since: Option<Date>,
        pub b1_due_by: Option<Date>,
        pub b1_closed_on: Option<Date>,
        /// The declaration of effort ("verklaring geleverde inspanningen") and its grounds.
        pub effort_declared_on: Option<Date>,
        pub effort_grounds: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Fees charged to a person.
pub mod fee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fee")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub trajectory_id: Uuid,
        pub person_id: Uuid,
        pub kind: String,
        pub amount_cents: i64,
        pub charged_on: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Each deadline breach published: at most one per trajectory and component, however
/// often the sweep runs and whoever records the late fact.
pub mod breach {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "breach")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trajectory_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub component: String,
        pub deadline: Date,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every disclosure of a person's data to another organisation for a purpose (a
/// municipality's ceremony): who asked, for which organisation, why, what, when.
pub mod disclosure_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disclosure_audit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub disclosed_at: DateTimeUtc,
        /// The token's subject.
        pub caller: String,
        #[sea_orm(indexed)]
        pub organisation: String,
        /// e.g. `ceremony`.
        pub purpose: String,
        /// What the purpose is about, e.g. the ceremony's id.
        pub reference: String,
        #[sea_orm(indexed)]
        pub person_id: Uuid,
        /// The fields disclosed, comma separated.
        pub fields: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A newcomer's first registration in a Brussels municipality, from recruitment's
/// `NewcomerDetected` (the national-register feed), with what the Brussels rule made of it.
pub mod brussels_newcomer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "brussels_newcomer")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        pub municipality_nis: String,
        #[sea_orm(indexed)]
        pub registered_on: Date,
        pub free_movement: bool,
        pub foreigners_register: bool,
        /// `rules::brussels_obligation` on the day of registration.
        pub obliged: bool,
        /// Why not, when not obliged (e.g. `age`, `free_movement`).
        pub not_obliged_because: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A GGC report that a person registered in a GGC trajectory; unique per person, day and
/// language. Flagged when the person had a contract at Bon: both stay, nothing is
/// overwritten, and a Bon case worker is shown it.
pub mod ggc_registration {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ggc_registration")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub person_id: Uuid,
        #[sea_orm(indexed)]
        pub registered_on: Date,
        /// `dutch` or `french`.
        pub language: String,
        pub reported_at: DateTimeUtc,
        pub reported_by: String,
        /// The Bon trajectory with a contract it contradicts.
        pub conflicting_trajectory_id: Option<Uuid>,
        pub conflicting_contract_signed_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every exchange with a Brussels partner: who, for which organisation, what for, which
/// persons, when.
pub mod exchange_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchange_audit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub caller: String,
        pub organisation: String,
        pub purpose: String,
        /// The persons concerned, comma separated.
        pub person_ids: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every obligation check by another public body: who asked, why, and the yes/no.
pub mod obligation_check {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "obligation_check")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub checked_at: DateTimeUtc,
        /// The token's subject (a service account of the asking body).
        pub caller: String,
        #[sea_orm(indexed)]
        pub organisation: String,
        pub purpose: String,
        pub benefit: String,
        /// The person checked, when known; never the national number.
        pub person_id: Option<Uuid>,
        pub answer: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The service's schema: the platform's outbox and inbox, then its own tables.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = platform::db::migrations([CreateEntities {
            name: "m0001_trajectories_person_trajectory_fee",
            entities: &[&person::Entity, &trajectory::Entity, &fee::Entity],
        }]);
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0002_trajectories_component_progress",
            columns: progress_columns,
        }));
        all.push(Box::new(CreateEntities {
            name: "m0003_trajectories_obligation_check_audit",
            entities: &[&obligation_check::Entity],
        }));
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0004_trajectories_state",
            columns: state_columns,
        }));
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0005_trajectories_b1_follow_up",
            columns: b1_columns,
        }));
        all.push(Box::new(AddBirthDate));
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0007_trajectories_effort_declaration",
            columns: effort_columns,
        }));
        all.push(Box::new(CreateEntities {
            name: "m0008_trajectories_breach",
            entities: &[&breach::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0009_trajectories_municipality_register",
            entities: &[&wire::register::municipality::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0010_trajectories_disclosure_audit",
            entities: &[&disclosure_audit::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0011_trajectories_brussels_newcomer",
            entities: &[&brussels_newcomer::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0012_trajectories_partner_exchange",
            entities: &[&ggc_registration::Entity, &exchange_audit::Entity],
        }));
        all.push(Box::new(GgcRegistrationOnce));
        all.push(Box::new(wire::register::MIGRATION));
        all
    }
}

/// Columns added to the trajectory table after m0001. A fresh database got them from the
/// entity in m0001; an older one needs them added.
struct AddTrajectoryColumns {
    name: &'static str,
    columns: fn() -> Vec<ColumnDef>,
}

impl MigrationName for AddTrajectoryColumns {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddTrajectoryColumns {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in (self.columns)() {
            let name = column.get_column_name();
            if !manager.has_column("trajectory", &name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(trajectory::Entity)
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

fn progress_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::Nt2CompletedOn).date().null().to_owned(),
        ColumnDef::new(C::MoCompletedOn).date().null().to_owned(),
        ColumnDef::new(C::VdabRegisteredOn).date().null().to_owned(),
        ColumnDef::new(C::ParticipationHours)
            .integer()
            .not_null()
            .default(0)
            .to_owned(),
        ColumnDef::new(C::ParticipationCompletedOn)
            .date()
            .null()
            .to_owned(),
        ColumnDef::new(C::ParticipationWaiver)
            .string()
            .null()
            .to_owned(),
        ColumnDef::new(C::AttestIssuedOn).date().null().to_owned(),
        ColumnDef::new(C::Version)
            .integer()
            .not_null()
            .default(0)
            .to_owned(),
    ]
}

fn b1_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::B1DueBy).date().null().to_owned(),
        ColumnDef::new(C::B1ClosedOn).date().null().to_owned(),
    ]
}

fn effort_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::EffortDeclaredOn).date().null().to_owned(),
        ColumnDef::new(C::EffortGrounds).string().null().to_owned(),
    ]
}

/// The person's birth date, added after m0001 like the trajectory's columns.
struct AddBirthDate;

impl MigrationName for AddBirthDate {
    fn name(&self) -> &str {
        "m0006_trajectories_person_birth_date"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddBirthDate {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("person", "birth_date").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(person::Entity)
                        .add_column(ColumnDef::new(person::Column::BirthDate).date().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

fn state_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::State)
            .string()
            .not_null()
            .default("active")
            .to_owned(),
        ColumnDef::new(C::StateReason).string().null().to_owned(),
        ColumnDef::new(C::StateSince).date().null().to_owned(),
    ]
}

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

/// Turns a page of rows into trajectories, reading all their fees in one query.
async fn with_fees<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<trajectory::Model>,
) -> Result<Vec<Trajectory>, TrajectoryError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut fees = fee::Entity::find()
        .filter(fee::Column::TrajectoryId.is_in(ids))
        .order_by_asc(fee::Column::Kind)
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                fees.drain(..).partition(|f| f.trajectory_id == row.id);
            fees = rest;
            to_domain(row, mine)
        })
        .collect()
}

/// Loads a trajectory with its contract and fees through `conn` (a pool or the
/// consumer's transaction).
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<Trajectory>, TrajectoryError> {
    // One round trip: the trajectory joined with its fees, a row per fee (one row with
    // no fee before the contract). Every command on a trajectory starts here.
    let fees_of: sea_orm::RelationDef = fee::Entity::belongs_to(trajectory::Entity)
        .from(fee::Column::TrajectoryId)
        .to(trajectory::Column::Id)
        .into();
    let mut rows = trajectory::Entity::find_by_id(id)
        .join(JoinType::LeftJoin, fees_of.rev())
        .select_also(fee::Entity)
        .order_by_asc(fee::Column::Kind)
        .all(conn)
        .await?
        .into_iter();
    let Some((row, first)) = rows.next() else {
        return Ok(None);
    };
    let fees = first
        .into_iter()
        .chain(rows.filter_map(|(_, fee)| fee))
        .collect();
    to_domain(row, fees).map(Some)
}

/// Writes the progress of `t` if nobody saved it since it was loaded, and stages
/// `events` (the caller commits); returns how many events it staged. An attest among
/// them starts the B1 follow-up, for which the person's birth date is read here.
pub async fn save_progress<C: ConnectionTrait>(
    conn: &C,
    outbox: &Outbox,
    t: &mut Trajectory,
    mut events: Vec<TrajectoryEvent>,
) -> Result<usize, TrajectoryError> {
    use trajectory::Column as C;
    if events
        .iter()
        .any(|e| matches!(e, TrajectoryEvent::AttestIssued { .. }))
    {
        let birth_date = person::Entity::find_by_id(t.person_id)
            .select_only()
            .column(person::Column::BirthDate)
            .into_tuple::<Option<chrono::NaiveDate>>()
            .one(conn)
            .await?
            .flatten();
        events.extend(t.start_b1_follow_up(birth_date));
    }
    let p = &t.progress;
    let updated = trajectory::Entity::update_many()
        .col_expr(C::Nt2CompletedOn, Expr::value(p.nt2_completed_on))
        .col_expr(C::MoCompletedOn, Expr::value(p.mo_completed_on))
        .col_expr(C::VdabRegisteredOn, Expr::value(p.vdab_registered_on))
        .col_expr(
            C::ParticipationHours,
            Expr::value(p.participation_hours as i32),
        )
        .col_expr(
            C::ParticipationCompletedOn,
            Expr::value(p.participation_completed_on),
        )
        .col_expr(
            C::ParticipationWaiver,
            Expr::value(p.participation_waiver.map(|w| w.as_str())),
        )
        .col_expr(C::AttestIssuedOn, Expr::value(p.attest_issued_on))
        .col_expr(C::Version, Expr::value(t.version + 1))
        .col_expr(C::B1DueBy, Expr::value(p.b1_due_by))
        .col_expr(C::B1ClosedOn, Expr::value(p.b1_closed_on))
        .col_expr(
            C::EffortDeclaredOn,
            Expr::value(p.effort_declaration.as_ref().map(|e| e.issued_on)),
        )
        .col_expr(
            C::EffortGrounds,
            Expr::value(p.effort_declaration.as_ref().map(|e| e.grounds.clone())),
        )
        .col_expr(C::State, Expr::value(t.state.as_str()))
        .col_expr(
            C::StateReason,
            Expr::value(match &t.state {
                State::Active => None,
                State::Suspended { reason, .. } | State::Stopped { reason, .. } => {
                    Some(reason.clone())
                }
            }),
        )
        .col_expr(
            C::StateSince,
            Expr::value(match &t.state {
                State::Active => None,
                State::Suspended { since, .. } | State::Stopped { since, .. } => Some(*since),
            }),
        )
        .filter(C::Id.eq(t.id))
        .filter(C::Version.eq(t.version));
    // A resumed trajectory's deadlines move (rules::deadline_after_suspension); without a
    // contract there are none to write (and none to erase).
    let updated = match &t.contract {
        Some(c) => updated
            .col_expr(C::Nt2Deadline, Expr::value(c.nt2_deadline))
            .col_expr(C::MoDeadline, Expr::value(c.mo_deadline))
            .col_expr(C::VdabDeadline, Expr::value(c.vdab_deadline))
            .col_expr(
                C::ParticipationDeadline,
                Expr::value(c.participation_deadline),
            ),
        None => updated,
    }
    .exec(conn)
    .await?;
    if updated.rows_affected != 1 {
        return Err(TrajectoryError::Conflict {
            trajectory_id: t.id,
        });
    }
    let events = record_breaches(conn, t.id, events).await?;
    events::stage(conn, outbox, t, &events).await?;
    t.version += 1;
    Ok(events.len())
}

/// Bumps the version of `t` if it is still the one loaded: a write that depends on the
/// whole loaded state without changing it (the deadline sweep) fails with `Conflict`
/// when anything changed meanwhile, and makes a concurrent save from the same read fail.
pub async fn claim_version<C: ConnectionTrait>(
    conn: &C,
    t: &Trajectory,
) -> Result<(), TrajectoryError> {
    let updated = trajectory::Entity::update_many()
        .col_expr(trajectory::Column::Version, Expr::value(t.version + 1))
        .filter(trajectory::Column::Id.eq(t.id))
        .filter(trajectory::Column::Version.eq(t.version))
        .exec(conn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(TrajectoryError::Conflict {
            trajectory_id: t.id,
        });
    }
    Ok(())
}

/// Records each `ObligationBreached` and `B1FollowUpOverdue` among `events` in the breach
/// table and keeps only those not recorded before: a breach is published once per
/// trajectory and component, whether the sweep or a late record found it first.
pub async fn record_breaches<C: ConnectionTrait>(
    conn: &C,
    trajectory_id: Uuid,
    events: Vec<TrajectoryEvent>,
) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
    let mut kept = Vec::with_capacity(events.len());
    for event in events {
        let missed = match &event {
            TrajectoryEvent::ObligationBreached {
                component,
                deadline,
            } => Some((component_key(*component), *deadline)),
            TrajectoryEvent::B1FollowUpOverdue { due_by } => Some((B1_FOLLOW_UP_KEY, *due_by)),
            _ => None,
        };
        if let Some((key, deadline)) = missed {
            let inserted = breach::Entity::insert(breach::ActiveModel {
                trajectory_id: Set(trajectory_id),
                component: Set(key.to_owned()),
                deadline: Set(deadline),
                recorded_at: Set(Utc::now()),
            })
            .on_conflict_do_nothing_on([breach::Column::TrajectoryId, breach::Column::Component])
            .exec_without_returning(conn)
            .await?;
            if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
                continue;
            }
        }
        kept.push(event);
    }
    Ok(kept)
}

/// How the breach table names an overdue B1 follow-up.
pub const B1_FOLLOW_UP_KEY: &str = "b1-follow-up";

/// How the breach table names a component.
pub fn component_key(component: Component) -> &'static str {
    match component {
        Component::Nt2 => "nt2",
        Component::Mo => "mo",
        Component::EconomicSelfReliance => "economic-self-reliance",
        Component::Participation => "participation",
    }
}

fn to_domain(row: trajectory::Model, fees: Vec<fee::Model>) -> Result<Trajectory, TrajectoryError> {
    let corrupt = |what: &str| TrajectoryError::Corrupt(format!("trajectory {}: {what}", row.id));
    let municipality = Municipality::new(
        Nis::parse("municipality_nis", &row.municipality_nis)
            .map_err(|_| corrupt("municipality"))?,
        Agency::from_alias(&row.agency).ok_or_else(|| corrupt("agency"))?,
    );
    let status = ObligationStatus::from_stored(&row.status).ok_or_else(|| corrupt("status"))?;
    let exemption = row
        .exemption_reason
        .as_deref()
        .map(|e| ExemptionReason::from_stored(e).ok_or_else(|| corrupt("exemption")))
        .transpose()?;
    let contract = match row.contract_signed_on {
        None => None,
        Some(signed_on) => {
            let date = |d: Option<NaiveDate>| d.ok_or_else(|| corrupt("contract deadline"));
            Some(Contract {
                signed_on,
                nt2_deadline: date(row.nt2_deadline)?,
                mo_deadline: date(row.mo_deadline)?,
                vdab_deadline: date(row.vdab_deadline)?,
                participation_deadline: row.participation_deadline,
                rights_and_duties_clause: row.rights_and_duties_clause,
                fees: fees
                    .iter()
                    .map(|f| {
                        Ok(Fee {
                            kind: FeeKind::from_stored(&f.kind)
                                .ok_or_else(|| corrupt("fee kind"))?,
                            cents: f.amount_cents,
                        })
                    })
                    .collect::<Result<_, TrajectoryError>>()?,
            })
        }
    };
    let participation_waiver = row
        .participation_waiver
        .as_deref()
        .map(|w| ParticipationWaiver::from_stored(w).ok_or_else(|| corrupt("participation waiver")))
        .transpose()?;
    Ok(Trajectory {
        id: row.id,
        person_id: row.person_id,
        municipality,
        status,
        exemption,
        started_on: row.started_on,
        contract,
        progress: Progress {
            nt2_completed_on: row.nt2_completed_on,
            mo_completed_on: row.mo_completed_on,
            vdab_registered_on: row.vdab_registered_on,
            participation_hours: <u32 as TryFrom<i32>>::try_from(row.participation_hours)
                .map_err(|_| corrupt("participation hours"))?,
            participation_completed_on: row.participation_completed_on,
            participation_waiver,
            attest_issued_on: row.attest_issued_on,
            b1_due_by: row.b1_due_by,
            b1_closed_on: row.b1_closed_on,
            effort_declaration: match (row.effort_declared_on, row.effort_grounds) {
                (Some(issued_on), Some(grounds)) => Some(EffortDeclaration { issued_on, grounds }),
                (None, None) => None,
                _ => return Err(corrupt("declaration of effort")),
            },
        },
        state: match (row.state.as_str(), row.state_reason, row.state_since) {
            ("active", _, _) => State::Active,
            ("suspended", Some(reason), Some(since)) => State::Suspended { reason, since },
            ("stopped", Some(reason), Some(since)) => State::Stopped { reason, since },
            _ => return Err(corrupt("state")),
        },
        version: row.version,
    })
}

/// A GGC report is recorded once per person, day and language, however often it comes.
struct GgcRegistrationOnce;

impl MigrationName for GgcRegistrationOnce {
    fn name(&self) -> &str {
        "m0013_trajectories_ggc_registration_once"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for GgcRegistrationOnce {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "create unique index if not exists ggc_registration_once \
                 on ggc_registration (person_id, registered_on, language)",
            )
            .await?;
        Ok(())
    }
}
