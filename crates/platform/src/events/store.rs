//! The outbox and inbox tables, which every service's database holds.

use sea_orm::{DbBackend, Schema};
use sea_orm_migration::prelude::*;

/// Events staged in the same transaction as the state change, until the relay sends them.
pub mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        /// Commit order; the relay publishes in this order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// The CloudEvents id.
        #[sea_orm(unique)]
        pub event_id: Uuid,
        pub topic: String,
        /// The aggregate id: never personal data.
        pub key: String,
        pub ce_type: String,
        pub ce_source: String,
        pub ce_time: DateTimeUtc,
        pub payload: Vec<u8>,
        pub traceparent: Option<String>,
        #[sea_orm(indexed)]
        pub sent_at: Option<DateTimeUtc>,
        /// The source label of an import whose facts carry their own dates (the
        /// `ce_history` header); `None` for an event that happens now.
        pub history: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Ids of events a consumer has applied, written in the same transaction as the effect.
pub mod inbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        pub topic: String,
        pub applied_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The outbox and inbox tables, first in every service's migrations.
pub const OUTBOX_AND_INBOX: CreateEntities = CreateEntities {
    name: "m0000_platform_outbox_inbox",
    entities: &[&outbox::Entity, &inbox::Entity],
};

/// `outbox.history`, second in every service's migrations. A database created since has
/// the column already (m0000 creates the table from the entity); an older one gains it.
pub struct OutboxHistory;

impl MigrationName for OutboxHistory {
    fn name(&self) -> &str {
        "m0001_platform_outbox_history"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxHistory {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = outbox::Column::History;
        if manager.has_column("outbox", column.to_string()).await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(outbox::Entity)
                    .add_column(ColumnDef::new(column).string().null())
                    .to_owned(),
            )
            .await
    }
}

/// A migration that creates each entity's table and indexes as the entity declares them:
/// the one way services turn their sea-orm entities into a migration.
pub struct CreateEntities {
    /// The migration's name, recorded in `seaql_migrations`; never change it once shipped.
    pub name: &'static str,
    pub entities: &'static [&'static dyn EntityCreate],
}

impl MigrationName for CreateEntities {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateEntities {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend: DbBackend = manager.get_database_backend();
        let schema = Schema::new(backend);
        for entity in self.entities {
            entity.create(manager, &schema).await?;
        }
        Ok(())
    }
}

/// An entity whose table a migration can create.
#[async_trait::async_trait]
pub trait EntityCreate: Sync {
    async fn create(&self, manager: &SchemaManager<'_>, schema: &Schema) -> Result<(), DbErr>;
}

#[async_trait::async_trait]
impl<E: sea_orm::EntityTrait + Sync> EntityCreate for E {
    async fn create(&self, manager: &SchemaManager<'_>, schema: &Schema) -> Result<(), DbErr> {
        manager
            .create_table(
                schema
                    .create_table_from_entity(*self)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        for mut index in schema.create_index_from_entity(*self) {
            manager
                .create_index(index.if_not_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
