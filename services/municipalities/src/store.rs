//! The municipalities database: the register, partnerships, offers and placements with
//! their hours, residents projected from trajectory events, and the monitor's facts.

use platform::events::{Outbox, store::CreateEntities};
use sea_orm::{ActiveValue::Set, EntityTrait};
use sea_orm_migration::prelude::*;

use crate::{convert, register};

/// Municipalities of the register, by current NIS code.
pub mod municipality {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "municipality")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub nis: String,
        pub name_nl: String,
        pub name_fr: String,
        #[sea_orm(indexed)]
        pub province_nis: Option<String>,
        pub province_name_nl: Option<String>,
        #[sea_orm(indexed)]
        pub region: String,
        /// None in Wallonia.
        #[sea_orm(indexed)]
        pub agency: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Codes merged away, and the municipality they became part of.
pub mod former_nis {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "former_nis")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub former: String,
        #[sea_orm(indexed)]
        pub nis: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A municipality's contacts: a function and a work e-mail.
pub mod contact {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contact")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub nis: String,
        pub function: String,
        pub work_email: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Partnership agreements with the agency.
pub mod agreement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agreement")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub nis: String,
        pub agency: String,
        pub subject: String,
        pub signed_on: Date,
        pub valid_until: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Local integration plans.
pub mod local_plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_plan")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub nis: String,
        pub title: String,
        pub from_year: i32,
        pub to_year: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The actions of a local plan, in order.
pub mod plan_action {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plan_action")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub plan_id: Uuid,
        pub position: i32,
        pub description: String,
        pub status: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Participation offers.
pub mod offer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offer")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub nis: String,
        pub kind: String,
        pub host_kind: Option<String>,
        pub host_organisation: String,
        pub title: String,
        pub capacity: i32,
        /// Seats taken; only ever changed by a conditional update, so it never passes
        /// `capacity`.
        pub placed: i32,
        pub starts_on: Date,
        pub ends_on: Date,
        pub open: bool,
        pub created_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// People placed in offers.
pub mod placement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "placement")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub offer_id: Uuid,
        pub person_id: Uuid,
        #[sea_orm(indexed)]
        pub trajectory_id: Uuid,
        pub nis: String,
        pub kind: String,
        pub host_kind: Option<String>,
        pub state: String,
        pub started_on: Date,
        pub hours: i32,
        pub closed_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who lives where with which trajectory, projected from trajectory events, and the
/// trajectory's participation hours over all its placements.
pub mod resident {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "resident")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trajectory_id: Uuid,
        #[sea_orm(unique)]
        pub person_id: Uuid,
        #[sea_orm(indexed)]
        pub nis: String,
        pub agency: String,
        pub contract_signed_on: Option<Date>,
        /// active, suspended or stopped.
        pub state: String,
        pub hours: i32,
        pub completed_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Hours per trajectory and day: the 12-hour cap holds under concurrent logs because the
/// day's row only grows by a conditional upsert.
pub mod hours_day {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "hours_day")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trajectory_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
        pub hours: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Each logged entry of hours.
pub mod hours_entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "hours_entry")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub placement_id: Uuid,
        pub trajectory_id: Uuid,
        pub done_on: Date,
        pub hours: i32,
        pub logged_by: String,
        pub logged_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The monitor's facts: one row per counted thing (a trajectory started, a component
/// completed, an entry of hours, …), unique by `subject` so that no event counts twice,
/// with the municipality and quarter it counts in. `person_ref` is the trajectory id, for
/// counting people; it never leaves the service.
pub mod monitor_fact {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "monitor_fact")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject: String,
        pub measure: String,
        pub nis: String,
        pub year: i32,
        pub quarter: i32,
        pub person_ref: Uuid,
        pub amount: i64,
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
            name: "m0001_municipalities_tables",
            entities: &[
                &municipality::Entity,
                &former_nis::Entity,
                &contact::Entity,
                &agreement::Entity,
                &local_plan::Entity,
                &plan_action::Entity,
                &offer::Entity,
                &placement::Entity,
                &resident::Entity,
                &hours_day::Entity,
                &hours_entry::Entity,
                &monitor_fact::Entity,
            ],
        }]);
        all.push(Box::new(Indexes));
        all.push(Box::new(Register2025));
        all
    }
}

/// One active placement per trajectory and offer, also under concurrent requests; the
/// monitor reads one municipality and year at a time.
struct Indexes;

impl MigrationName for Indexes {
    fn name(&self) -> &str {
        "m0002_municipalities_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Indexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "create unique index if not exists placement_one_active_per_offer \
             on placement (offer_id, trajectory_id) where state = 'active'",
        )
        .await?;
        // Covering: the monitor's aggregates read the index alone (count distinct
        // person_ref, sum amount), never the table.
        db.execute_unprepared(
            "create index if not exists monitor_fact_by_municipality_year \
             on monitor_fact (nis, year, measure, quarter, person_ref, amount)",
        )
        .await?;
        Ok(())
    }
}

/// Loads the register shipped with the build (Statbel's municipalities of 2025-01-01 and
/// the codes merged away that day) and publishes it as one `RegisterPublished`, in one
/// transaction: a database holds the register exactly when its event is on its way. A
/// later register is a later migration.
struct Register2025;

impl MigrationName for Register2025 {
    fn name(&self) -> &str {
        "m0003_municipalities_register_2025"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Register2025 {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let register = register::shipped().map_err(|e| DbErr::Migration(e.to_string()))?;
        let db = manager.get_connection();
        let outbox = Outbox::new(crate::SERVICE, crate::TOPIC);
        let rows: Vec<municipality::ActiveModel> = register
            .iter()
            .map(|m| municipality::ActiveModel {
                nis: Set(m.nis.to_string()),
                name_nl: Set(m.name_nl.clone()),
                name_fr: Set(m.name_fr.clone()),
                province_nis: Set(m.province_nis.clone()),
                province_name_nl: Set(m.province_name_nl.clone()),
                region: Set(m.region.as_str().to_owned()),
                agency: Set(m.agency.map(|a| a.as_str().to_owned())),
            })
            .collect();
        municipality::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        let formers: Vec<former_nis::ActiveModel> = register
            .iter()
            .flat_map(|m| {
                m.former.iter().map(|f| former_nis::ActiveModel {
                    former: Set(f.to_string()),
                    nis: Set(m.nis.to_string()),
                })
            })
            .collect();
        former_nis::Entity::insert_many(formers)
            .exec_without_returning(db)
            .await?;
        let event = proto::municipalities::v1::RegisterPublished {
            valid_from: Some(wire::date(register::VALID_FROM)),
            municipalities: register.iter().map(convert::municipality).collect(),
        };
        outbox.stage(db, register::EVENT_KEY, &event).await?;
        Ok(())
    }
}
