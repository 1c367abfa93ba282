//! The ceremonies database: the municipality register (`wire::register`'s table) and the
//! attests (projections of other services' events), ceremonies, invitations, ambassadors,
//! imported historical overviews, and the printed letters and their batches.

use platform::{Nis, events::store::CreateEntities};
use sea_orm_migration::prelude::*;

use crate::CeremoniesError;

/// A NIS code read back from the service's own tables: one that does not parse is
/// corrupt data, not bad input.
pub fn stored_nis(stored: &str) -> Result<Nis, CeremoniesError> {
    Nis::parse("nis", stored)
        .map_err(|_| CeremoniesError::Corrupt(format!("stored NIS {stored:?}")))
}

/// Attests issued, by trajectory: who may be invited where. No name, no national number.
pub mod attest {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attest")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trajectory_id: Uuid,
        pub person_id: Uuid,
        pub nis: String,
        pub agency: String,
        pub issued_on: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ceremony {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ceremony")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub nis: String,
        pub agency: String,
        pub kind: String,
        pub date: Date,
        pub year: i32,
        pub place: String,
        pub host: String,
        pub capacity: i32,
        pub attest_from: Date,
        pub attest_to: Date,
        pub co_organiser: Option<String>,
        pub min_age: Option<i32>,
        pub max_age: Option<i32>,
        pub state: String,
        /// Invitations sent; only ever raised by a conditional update, so it never
        /// passes `capacity`.
        pub invitations: i32,
        pub rounds: i32,
        /// Counted from the invitations when the ceremony is closed (held), in the same
        /// transaction; nothing about its invitations changes after that.
        pub participants: Option<i32>,
        pub no_shows: Option<i32>,
        pub created_by: String,
        pub cancel_reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One invitee of one ceremony: unique by (ceremony, person), so an invitation is sent
/// once whatever the replicas or retries. Name and contact language as trajectories
/// disclosed them for this ceremony.
pub mod invitation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invitation")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub ceremony_id: Uuid,
        pub person_id: Uuid,
        pub given_name: String,
        pub family_name: String,
        pub contact_language: Option<String>,
        pub attest_issued_on: Date,
        pub late_addition: bool,
        pub invited_at: DateTimeUtc,
        pub rsvp: Option<String>,
        pub guests: i32,
        pub attended_at: Option<DateTimeUtc>,
        pub cancellation_sent: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A printed letter to one invitee: one per invitation and kind (`invitation` or
/// `cancellation`, a unique index), so once per person, ceremony and kind. `pending` while
/// its batch prints, `printed` once the batch's file is whole. It holds no name: the
/// invitation does, and the letter is printed from it.
pub mod letter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub invitation_id: Uuid,
        pub ceremony_id: Uuid,
        pub kind: String,
        pub batch_id: Uuid,
        /// Its place in the batch, from 0.
        pub position: i32,
        /// The language of the translation after the Dutch letter; none: Dutch only.
        pub translation_language: Option<String>,
        pub state: String,
        pub printed_on: Option<Date>,
        /// Which release of the texts it was printed with (`printing::texts::VERSION`).
        pub text_version: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A batch of letters of one ceremony and kind, printed to one PDF file and its index.
pub mod letter_batch {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_batch")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub ceremony_id: Uuid,
        pub kind: String,
        /// Where the PDF went (its index beside it); empty while none was written.
        pub file: String,
        pub letters: i32,
        /// `printing`, then `printed`.
        pub state: String,
        pub created_at: DateTimeUtc,
        pub printed_at: Option<DateTimeUtc>,
        /// Until when a run holds the batch it is printing.
        pub claimed_until: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ambassador {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ambassador")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub ceremony_id: Uuid,
        /// Erased when consent is withdrawn.
        pub display_name: String,
        pub consent_given_on: Date,
        pub consent_withdrawn_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A row of an imported historical overview: one municipality, year and kind; a count
/// not known is NULL, never 0.
pub mod overview {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "overview")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub nis: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        pub invitations: Option<i32>,
        pub participants: Option<i32>,
        pub reported_rate_bp: Option<i32>,
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
            name: "m0001_ceremonies_tables",
            entities: &[
                // The register's table, now the shared one (`wire::register`).
                &wire::register::municipality::Entity,
                &attest::Entity,
                &ceremony::Entity,
                &invitation::Entity,
                &ambassador::Entity,
                &overview::Entity,
            ],
        }]);
        all.push(Box::new(Indexes));
        all.push(Box::new(wire::register::MIGRATION));
        all.push(Box::new(Letters));
        all
    }
}

/// One invitation per person and ceremony, also under concurrent requests; the
/// invitation list reads attests by municipality and date; the report reads a year.
struct Indexes;

impl MigrationName for Indexes {
    fn name(&self) -> &str {
        "m0002_ceremonies_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Indexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "create unique index if not exists invitation_once_per_person \
             on invitation (ceremony_id, person_id)",
            // Covering for the report: counts invitations and attendance per ceremony
            // from the index alone.
            "create index if not exists invitation_attendance \
             on invitation (ceremony_id, attended_at)",
            "create index if not exists attest_by_municipality_day \
             on attest (nis, issued_on, person_id)",
            "create index if not exists ceremony_by_year \
             on ceremony (year, state, nis, kind)",
            "create index if not exists ceremony_by_municipality \
             on ceremony (nis, date, id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

/// The printed letters (issue 24) and their batches, with the index that prints a letter
/// once per invitation and kind whatever the runs, and the reads of a batch.
struct Letters;

impl MigrationName for Letters {
    fn name(&self) -> &str {
        "m0003_ceremonies_letters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Letters {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        CreateEntities {
            name: "m0003_ceremonies_letters",
            entities: &[&letter::Entity, &letter_batch::Entity],
        }
        .up(manager)
        .await?;
        let db = manager.get_connection();
        for sql in [
            "create unique index if not exists letter_once_per_invitation_and_kind \
             on letter (invitation_id, kind)",
            "create index if not exists letter_by_batch on letter (batch_id, position)",
            "create index if not exists letter_batch_by_state on letter_batch (state, id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
