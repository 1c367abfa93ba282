//! The testing database: candidates (projected from trajectory events), sessions,
//! bookings, the fee ledger and the results imported from an agency's caseload.

use platform::events::store::{CreateEntities, EntityCreate};
use sea_orm::{ConnectionTrait, DbBackend, Schema, Statement};
use sea_orm_migration::prelude::*;

/// Who may book which test, projected from trajectory events: everyone registered, with
/// their trajectory if they have one.
pub mod candidate {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "candidate")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        /// None for a non-integrant (registered, no trajectory).
        #[sea_orm(unique)]
        pub trajectory_id: Option<Uuid>,
        /// The competent agency: the trajectory's, else the one that registered them.
        pub agency: String,
        pub status: String,
        pub contract_signed_on: Option<Date>,
        pub events_applied: i32,
        /// Residence decides the fee (Brussels residents pay nothing).
        pub municipality_nis: String,
        /// Exempted people pay nothing.
        pub exempted: bool,
        /// On the B1 follow-up list: may book B1 oral.
        pub b1_follow_up: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Test sessions at central locations.
pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "session")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub test_type: String,
        pub location: String,
        #[sea_orm(indexed)]
        pub starts_at: DateTimeUtc,
        pub capacity: i32,
        /// Seats taken; only ever changed by a conditional update, so it never passes
        /// `capacity`.
        pub booked: i32,
        pub planned_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Bookings of a seat by a person.
pub mod booking {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub session_id: Uuid,
        #[sea_orm(indexed)]
        pub person_id: Uuid,
        /// None for a non-integrant's language-level test.
        pub trajectory_id: Option<Uuid>,
        pub agency: String,
        pub test_type: String,
        pub status: String,
        pub fee_cents: i64,
        pub level_reached: Option<String>,
        pub booked_at: DateTimeUtc,
        pub result_recorded_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The fee ledger: every charge and refund, and who owes it.
pub mod fee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fee")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub person_id: Uuid,
        pub booking_id: Uuid,
        #[sea_orm(indexed)]
        pub agency: String,
        pub amount_cents: i64,
        pub reason: Option<String>,
        pub charged_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Results of tests taken before this service existed, as an agency's caseload holds them
/// (`inburgering import caseload`): no session, no booking, no fee.
pub mod imported_result {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "imported_result")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// A person took a test once a day: the import's key with `test_type` and
        /// `taken_on`, so importing a file again changes nothing.
        #[sea_orm(unique_key = "person_test_day")]
        pub person_id: Uuid,
        pub trajectory_id: Uuid,
        #[sea_orm(unique_key = "person_test_day")]
        pub test_type: String,
        #[sea_orm(unique_key = "person_test_day")]
        pub taken_on: Date,
        pub centre: String,
        /// `passed`, `failed` or `absent`, as a booking's status.
        pub outcome: String,
        pub level_reached: Option<String>,
        /// The import's label, e.g. the file it came from.
        pub source: String,
        pub imported_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The service's schema.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = platform::db::migrations([CreateEntities {
            name: "m0001_testing_candidate",
            entities: &[&candidate::Entity],
        }]);
        all.push(Box::new(SessionsBookingsFees));
        all.push(Box::new(B1FollowUp));
        all.push(Box::new(NonIntegrants));
        all.push(Box::new(CreateEntities {
            name: "m0005_testing_imported_result",
            entities: &[&imported_result::Entity],
        }));
        all
    }
}

/// One open booking per person and test type, also under concurrent requests.
const ONE_OPEN_BOOKING_PER_TYPE: &str = "create unique index if not exists \
     booking_one_open_per_type on booking (person_id, test_type) where status = 'booked'";

/// Sessions, bookings and fees; the candidate's residence and exemption for the fee rule.
struct SessionsBookingsFees;

impl MigrationName for SessionsBookingsFees {
    fn name(&self) -> &str {
        "m0002_testing_sessions_bookings_fees"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SessionsBookingsFees {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A fresh database got these columns from the entity in m0001; an older one
        // needs them added.
        for (column, definition) in [
            (
                candidate::Column::MunicipalityNis,
                ColumnDef::new(candidate::Column::MunicipalityNis)
                    .string()
                    .not_null()
                    .default("")
                    .to_owned(),
            ),
            (
                candidate::Column::Exempted,
                ColumnDef::new(candidate::Column::Exempted)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
        ] {
            if !manager.has_column("candidate", column.to_string()).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(candidate::Entity)
                            .add_column(definition)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        let schema = Schema::new(manager.get_database_backend());
        for entity in [
            &session::Entity as &dyn EntityCreate,
            &booking::Entity,
            &fee::Entity,
        ] {
            entity.create(manager, &schema).await?;
        }
        // One open booking per person and test type, also under concurrent requests.
        manager
            .get_connection()
            .execute_unprepared(ONE_OPEN_BOOKING_PER_TYPE)
            .await?;
        Ok(())
    }
}

/// The candidate's place on the B1 follow-up list.
struct B1FollowUp;

impl MigrationName for B1FollowUp {
    fn name(&self) -> &str {
        "m0003_testing_b1_follow_up"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for B1FollowUp {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("candidate", "b1_follow_up").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(candidate::Entity)
                        .add_column(
                            ColumnDef::new(candidate::Column::B1FollowUp)
                                .boolean()
                                .not_null()
                                .default(false),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Non-integrants: candidates and bookings without a trajectory. A fresh database got
/// nullable `trajectory_id` columns from the entities in m0001/m0002; an older one has them
/// NOT NULL. PostgreSQL drops the constraint; SQLite, which cannot alter a column, copies
/// each table aside, recreates it from its entity and copies the rows back.
struct NonIntegrants;

impl MigrationName for NonIntegrants {
    fn name(&self) -> &str {
        "m0004_testing_non_integrants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NonIntegrants {
    /// All or nothing, also on SQLite (where sea-orm-migration does not wrap by default):
    /// a crash between dropping a table and copying its rows back must not record the
    /// migration as done with the rows left aside.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let schema = Schema::new(backend);
        let tables: [(&str, &dyn EntityCreate, Vec<String>); 2] = [
            (
                "candidate",
                &candidate::Entity,
                column_names::<candidate::Column>(),
            ),
            (
                "booking",
                &booking::Entity,
                column_names::<booking::Column>(),
            ),
        ];
        for (table, entity, columns) in tables {
            match backend {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "alter table {table} alter column trajectory_id drop not null"
                    ))
                    .await?;
                }
                DbBackend::Sqlite => {
                    let not_null = db
                        .query_one_raw(Statement::from_string(
                            backend,
                            format!(
                                "select \"notnull\" from pragma_table_info('{table}') \
                                 where name = 'trajectory_id'"
                            ),
                        ))
                        .await?
                        .map(|row| row.try_get_by_index::<i32>(0))
                        .transpose()?
                        .unwrap_or(0);
                    if not_null == 0 {
                        continue;
                    }
                    let list = columns.join(", ");
                    let aside = format!("{table}_m0004");
                    db.execute_unprepared(&format!(
                        "create table {aside} as select {list} from {table}"
                    ))
                    .await?;
                    db.execute_unprepared(&format!("drop table {table}"))
                        .await?;
                    entity.create(manager, &schema).await?;
                    db.execute_unprepared(&format!(
                        "insert into {table} ({list}) select {list} from {aside}"
                    ))
                    .await?;
                    db.execute_unprepared(&format!("drop table {aside}"))
                        .await?;
                }
                other => {
                    return Err(DbErr::Migration(format!("unsupported database {other:?}")));
                }
            }
        }
        // The partial index went with SQLite's old booking table.
        db.execute_unprepared(ONE_OPEN_BOOKING_PER_TYPE).await?;
        Ok(())
    }
}

fn column_names<C: sea_orm::Iterable + sea_orm::IdenStatic>() -> Vec<String> {
    C::iter().map(|c| format!("\"{}\"", c.as_str())).collect()
}
