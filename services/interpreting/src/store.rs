//! The interpreting database: the municipality register (`wire::register`'s table) and
//! the persons' trajectories (projections of other services' events), the interpreter pool with languages, weekly
//! hours and absences, requests, bookings (never two of one interpreter at once),
//! invoices with their lines, and the audit of reads of interpreters' personal data.

use platform::events::store::CreateEntities;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QuerySelect};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

/// A person's trajectory, from `TrajectoryStarted` to `AttestIssued` or `TrajectoryStopped`: who pays.
pub mod trajectory {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trajectory")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trajectory_id: Uuid,
        pub person_id: Uuid,
        pub started_on: Option<Date>,
        pub ended_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An interpreter of the pool; name and contact details are read by coordinators only, audited.
pub mod interpreter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "interpreter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub given_name: String,
        pub family_name: String,
        pub email: String,
        pub phone: String,
        /// Modes, comma separated.
        pub modes: String,
        /// Regions, comma separated.
        pub regions: String,
        pub certification_reference: Option<String>,
        pub certification_valid_until: Option<Date>,
        pub registered_by: String,
        pub registered_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A language an interpreter works in (ISO 639 code as [`crate::domain::Language`] keeps it).
pub mod interpreter_language {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "interpreter_language")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub interpreter_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub language: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A weekly window an interpreter works in, Belgian time, minutes since midnight.
pub mod availability {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "availability")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub interpreter_id: Uuid,
        pub weekday: i32,
        pub from_minute: i32,
        pub to_minute: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A period an interpreter cannot work; no reason is kept.
pub mod absence {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "absence")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub interpreter_id: Uuid,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A request for interpreting or a written translation.
pub mod request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "request")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub requester: String,
        pub municipality_nis: String,
        pub agency: String,
        pub language: String,
        pub mode: String,
        pub starts_at: Option<DateTimeUtc>,
        pub duration_minutes: Option<i32>,
        pub place: Option<String>,
        pub person_id: Option<Uuid>,
        pub purpose: String,
        pub word_count: Option<i32>,
        pub due_on: Option<Date>,
        pub state: String,
        pub interpreter_id: Option<Uuid>,
        pub requested_at: DateTimeUtc,
        pub cancelled_at: Option<DateTimeUtc>,
        /// "requester" or "coordinator": only a requester's late cancellation is billed.
        pub cancelled_by: Option<String>,
        pub cancellation_billable: bool,
        pub performed_minutes: Option<i32>,
        pub performed_words: Option<i32>,
        /// The day billed: the service's Belgian day (interpreting), the day it was delivered (written).
        pub service_on: Option<Date>,
        pub invoice_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The hours an interpreter is held for a request: one per request, and never two of one
/// interpreter overlapping (an exclusion constraint on PostgreSQL, one writer at a time on SQLite).
pub mod booking {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: Uuid,
        pub interpreter_id: Uuid,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What one payer owes for one month of one agency's area.
pub mod invoice {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoice")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub month: Date,
        pub agency: String,
        pub payer_kind: String,
        pub payer: String,
        pub total_cents: i64,
        pub issued_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One billed service: a request is billed once (its id is the key).
pub mod invoice_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoice_line")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: Uuid,
        pub invoice_id: Uuid,
        pub service_on: Date,
        pub mode: String,
        pub language: String,
        pub quantity: i64,
        pub unit: String,
        pub rate_cents: i64,
        pub amount_cents: i64,
        pub late_cancellation: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who read interpreters' names and contact details, for what, when.
pub mod personal_data_read {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "personal_data_read")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub subject: String,
        pub organisation: String,
        pub purpose: String,
        /// The interpreters read, comma separated.
        pub interpreter_ids: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Holds the interpreter's row until the transaction ends (PostgreSQL: `FOR UPDATE`; on
/// SQLite the transaction already holds the only write lock).
pub async fn lock_interpreter<C: ConnectionTrait>(
    db: &C,
    interpreter_id: Uuid,
) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        interpreter::Entity::find_by_id(interpreter_id)
            .lock_exclusive()
            .one(db)
            .await?;
    }
    Ok(())
}

/// The service's schema.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = platform::db::migrations([CreateEntities {
            name: "m0001_interpreting_tables",
            entities: &[
                // The register's table, now the shared one (`wire::register`).
                &wire::register::municipality::Entity,
                &trajectory::Entity,
                &interpreter::Entity,
                &interpreter_language::Entity,
                &availability::Entity,
                &absence::Entity,
                &request::Entity,
                &booking::Entity,
                &invoice::Entity,
                &invoice_line::Entity,
                &personal_data_read::Entity,
            ],
        }]);
        all.push(Box::new(Indexes));
        all.push(Box::new(wire::register::MIGRATION));
        all
    }
}

/// The reads of matching, listing and billing, and the rule that an interpreter is never
/// booked twice at once.
struct Indexes;

impl MigrationName for Indexes {
    fn name(&self) -> &str {
        "m0002_interpreting_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Indexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "create index if not exists trajectory_by_person on trajectory (person_id)",
            "create index if not exists interpreter_language_by_language \
             on interpreter_language (language, interpreter_id)",
            "create index if not exists availability_by_interpreter on availability (interpreter_id)",
            "create index if not exists absence_by_interpreter on absence (interpreter_id, starts_at)",
            "create index if not exists booking_by_interpreter on booking (interpreter_id, starts_at)",
            "create index if not exists request_by_requester on request (requester, id)",
            "create index if not exists request_by_agency on request (agency, id)",
            "create index if not exists request_to_bill on request (agency, service_on)",
            "create index if not exists invoice_by_month on invoice (month, agency, id)",
            "create index if not exists invoice_line_by_invoice on invoice_line (invoice_id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        if db.get_database_backend() == DbBackend::Postgres {
            // The database itself refuses a second booking of an interpreter at once, whatever
            // races above it; btree_gist lets a GiST index compare the interpreter's uuid.
            // (SQLite has one writer at a time: bookings check for overlaps after writing,
            // inside the transaction, see `matching`.)
            db.execute_unprepared("create extension if not exists btree_gist")
                .await?;
            db.execute_unprepared(
                "alter table booking add constraint booking_never_twice exclude using gist \
                 (interpreter_id with =, tstzrange(starts_at, ends_at, '[)') with &&)",
            )
            .await?;
        }
        Ok(())
    }
}
