//! The testing database.

use platform::events::store::CreateEntities;
use sea_orm_migration::prelude::*;

/// Who may book which test, projected from trajectory events.
pub mod candidate {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "candidate")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        #[sea_orm(unique)]
        pub trajectory_id: Uuid,
        pub agency: String,
        pub status: String,
        pub contract_signed_on: Option<Date>,
        pub events_applied: i32,
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
        platform::db::migrations([CreateEntities {
            name: "m0001_testing_candidate",
            entities: &[&candidate::Entity],
        }])
    }
}
