//! The municipality register as every service but municipalities keeps it: one table,
//! `municipality`, with every code (each municipality's own and its former ones) pointing
//! at the municipality now in force, filled from `RegisterPublished` on
//! `municipalities.events.v1`. Written once here; each service keeps the table in its own
//! database ([`MIGRATION`] after its own), runs [`Register`] (or [`rows`] and [`apply`]
//! inside a handler of its own) and asks [`find`].

use platform::{
    Agency, Nis,
    events::{
        Envelope,
        consumer::{Handler, HandlerError},
    },
};
use proto::municipalities::v1 as pb;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait,
    sea_query::OnConflict,
};
use sea_orm_migration::{
    MigrationName, MigrationTrait, SchemaManager,
    prelude::{ColumnDef, Table},
};

/// The topic the register comes on.
pub const TOPIC: &str = "municipalities.events.v1";

/// The table.
pub mod municipality {
    use sea_orm::entity::prelude::*;

    /// One code of the register.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "municipality")]
    pub struct Model {
        /// A NIS code: the municipality's own or a former one merged into it.
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// The code now in force: `code` itself, or the municipality it was merged into.
        pub current_nis: String,
        pub name_nl: String,
        pub name_fr: String,
        /// Empty in Brussels, which has no province.
        pub province_nis: String,
        /// `Flanders`, `Brussels` or `Wallonia`.
        pub region: String,
        /// The competent agency's alias; `None` in Wallonia.
        pub agency: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use municipality::Model as Municipality;

impl Municipality {
    /// The municipality in force.
    pub fn nis(&self) -> Option<Nis> {
        Nis::parse("current_nis", &self.current_nis).ok()
    }

    /// The competent agency; `None` in Wallonia.
    pub fn agency(&self) -> Option<Agency> {
        self.agency.as_deref().and_then(Agency::from_alias)
    }

    /// Whether it lies in the Brussels-Capital Region.
    pub fn in_brussels(&self) -> bool {
        self.region == region(pb::Region::Brussels as i32)
    }
}

/// The stored name of a region.
fn region(value: i32) -> &'static str {
    match pb::Region::try_from(value) {
        Ok(pb::Region::Flanders) => "Flanders",
        Ok(pb::Region::Brussels) => "Brussels",
        Ok(pb::Region::Wallonia) => "Wallonia",
        _ => "",
    }
}

/// The rows of a `RegisterPublished`, checked, every code of a municipality pointing at
/// it; `None` for an event of another type. An empty register is refused.
pub fn rows(event: &Envelope) -> Result<Option<Vec<municipality::ActiveModel>>, HandlerError> {
    let Some(published) = event.decode::<pb::RegisterPublished>()? else {
        return Ok(None);
    };
    let mut rows = Vec::new();
    for m in &published.municipalities {
        let current = crate::nis("nis", &m.nis)?;
        let agency = crate::agency_from("agency", m.agency)?;
        for code in std::iter::once(&m.nis).chain(&m.former_nis) {
            rows.push(municipality::ActiveModel {
                code: Set(crate::nis("former_nis", code)?.to_string()),
                current_nis: Set(current.to_string()),
                name_nl: Set(m.name_nl.clone()),
                name_fr: Set(m.name_fr.clone()),
                province_nis: Set(m.province_nis.clone()),
                region: Set(region(m.region).to_owned()),
                agency: Set(agency.map(|a| a.as_str().to_owned())),
            });
        }
    }
    if rows.is_empty() {
        return Err(HandlerError::permanent("an empty register"));
    }
    Ok(Some(rows))
}

/// Writes the register's rows in one statement: a code published again takes the new
/// values, a code no longer published stays (an old letter may still name it).
pub async fn apply(
    txn: &DatabaseTransaction,
    rows: Vec<municipality::ActiveModel>,
) -> Result<usize, DbErr> {
    use municipality::Column as C;
    let count = rows.len();
    municipality::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(C::Code)
                .update_columns([
                    C::CurrentNis,
                    C::NameNl,
                    C::NameFr,
                    C::ProvinceNis,
                    C::Region,
                    C::Agency,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    tracing::info!(codes = count, "municipality register applied");
    Ok(count)
}

/// The handler of `municipalities.events.v1` for a service that reads only the register
/// from it.
#[derive(Debug, Clone, Copy)]
pub struct Register;

impl Handler for Register {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if let Some(rows) = rows(event)? {
            apply(txn, rows).await?;
        }
        Ok(())
    }
}

/// What the register says of a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// The code is in the register (its own, or a former code of this municipality).
    Found(Municipality),
    /// The register is here and has no such code.
    Unknown,
    /// No register has reached this service yet: a caller may retry once it has.
    NotLoaded,
}

/// Looks `code` up.
pub async fn find(db: &impl ConnectionTrait, code: Nis) -> Result<Known, DbErr> {
    if let Some(row) = municipality::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
    {
        return Ok(Known::Found(row));
    }
    if municipality::Entity::find().count(db).await? == 0 {
        Ok(Known::NotLoaded)
    } else {
        Ok(Known::Unknown)
    }
}

/// Every code of the register.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Municipality>, DbErr> {
    municipality::Entity::find().all(db).await
}

/// The migration that brings a service's `municipality` table to the shared columns: a
/// table made by a service's own older entity gets the columns it lacked (empty until the
/// next register), a new one is created whole. Put it after the service's own migrations.
pub const MIGRATION: RegisterColumns = RegisterColumns;

/// See [`MIGRATION`].
#[derive(Debug, Clone, Copy)]
pub struct RegisterColumns;

impl MigrationName for RegisterColumns {
    fn name(&self) -> &str {
        "m9000_shared_municipality_register"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RegisterColumns {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use municipality::Column as C;
        if !manager.has_table("municipality").await? {
            let backend = manager.get_database_backend();
            let schema = sea_orm::Schema::new(backend);
            return manager
                .create_table(schema.create_table_from_entity(municipality::Entity))
                .await;
        }
        for (column, name) in [
            (C::CurrentNis, "current_nis"),
            (C::NameNl, "name_nl"),
            (C::NameFr, "name_fr"),
            (C::ProvinceNis, "province_nis"),
            (C::Region, "region"),
        ] {
            if !manager.has_column("municipality", name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(municipality::Entity)
                            .add_column(ColumnDef::new(column).string().not_null().default(""))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        if !manager.has_column("municipality", "agency").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(municipality::Entity)
                        .add_column(ColumnDef::new(C::Agency).string().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, EntityTrait, Set, TransactionTrait};
    use sea_orm_migration::{MigrationTrait, SchemaManager};

    use super::*;

    /// A service's database from before the shared register: its own narrower table with
    /// a row in it. The migration adds the shared columns, keeps the row, and the shared
    /// projection then writes and finds rows in it.
    #[tokio::test]
    async fn an_older_services_table_gets_the_shared_columns_and_keeps_its_rows() {
        let db = Database::connect("sqlite::memory:").await.expect("SQLite");
        db.execute_unprepared(
            "create table municipality (code text primary key not null, \
             current_nis text not null, name_nl text not null, agency text null); \
             insert into municipality values ('11007', '11002', 'Antwerpen', 'atlas');",
        )
        .await
        .expect("the old table");
        MIGRATION
            .up(&SchemaManager::new(&db))
            .await
            .expect("columns added");
        let code = Nis::parse("code", "11007").expect("code");
        let Known::Found(kept) = find(&db, code).await.expect("lookup") else {
            panic!("the old row is kept");
        };
        assert_eq!(kept.current_nis, "11002");
        assert_eq!(kept.agency(), Some(Agency::Atlas));
        assert_eq!(kept.province_nis, "", "empty until the next register");

        let txn = db.begin().await.expect("txn");
        let row = municipality::ActiveModel {
            code: Set("21004".into()),
            current_nis: Set("21004".into()),
            name_nl: Set("Brussel".into()),
            name_fr: Set("Bruxelles".into()),
            province_nis: Set(String::new()),
            region: Set("Brussels".into()),
            agency: Set(Some("bon".into())),
        };
        apply(&txn, vec![row]).await.expect("applied");
        txn.commit().await.expect("commit");
        let brussels = Nis::parse("code", "21004").expect("code");
        assert!(matches!(find(&db, brussels).await, Ok(Known::Found(m)) if m.in_brussels()));
        let unknown = Nis::parse("code", "99999").expect("code");
        assert_eq!(find(&db, unknown).await.ok(), Some(Known::Unknown));
        assert_eq!(all(&db).await.expect("all").len(), 2);
    }

    #[tokio::test]
    async fn a_new_database_gets_the_whole_table_and_knows_it_is_not_loaded() {
        let db = Database::connect("sqlite::memory:").await.expect("SQLite");
        MIGRATION
            .up(&SchemaManager::new(&db))
            .await
            .expect("table created");
        let code = Nis::parse("code", "11002").expect("code");
        assert_eq!(find(&db, code).await.ok(), Some(Known::NotLoaded));
        assert!(
            municipality::Entity::find()
                .all(&db)
                .await
                .expect("read")
                .is_empty()
        );
    }
}
