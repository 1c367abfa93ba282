//! The database: one sea-orm pool per service, over PostgreSQL (production, tests) or
//! SQLite (embedded default), migrated at start-up.
//!
//! Each service owns its database; the platform contributes two tables to each, the
//! outbox and the inbox (see [`crate::events`]), through [`migrations`].

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    PlatformError,
    events::store::{CreateEntities, OUTBOX_AND_INBOX, OutboxHistory},
};

/// Opens the service's pool and runs its migrations, so a started service always finds
/// the schema it expects.
pub async fn connect_and_migrate<M: MigratorTrait>(
    url: &SecretString,
    max_connections: u32,
) -> Result<DatabaseConnection, PlatformError> {
    let url = url.expose_secret();
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // SQLite (the embedded default): a writer that finds the file locked waits for it
        // instead of failing at once.
        .map_sqlx_sqlite_opts(|opts| opts.busy_timeout(SQLITE_BUSY_TIMEOUT));
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers run beside the one writer; it persists in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    M::up(&db, None).await?;
    tracing::info!(backend = ?db.get_database_backend(), "database migrated");
    Ok(db)
}

/// How long an SQLite writer waits for the file's one write lock before it fails.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting up to [`SQLITE_BUSY_TIMEOUT`] for it: a deferred
/// transaction that read first and then wrote could not wait for a concurrent writer and
/// failed with "database is locked" (776 times for 3 to 6 concurrent callers of
/// `inburgering dev`). On PostgreSQL it is a plain `BEGIN`. Every service begins its
/// transactions through this.
pub trait BeginWrite {
    /// `BEGIN IMMEDIATE` on SQLite, `BEGIN` elsewhere.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<DatabaseTransaction, DbErr>> + Send;
}

impl BeginWrite for DatabaseConnection {
    async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        if self.get_database_backend() == DbBackend::Sqlite {
            self.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        } else {
            self.begin().await
        }
    }
}

/// The SQLite file of a service under the embedded default's data folder.
pub fn sqlite_path(data_dir: &std::path::Path, service: &str) -> std::path::PathBuf {
    data_dir.join(format!("{service}.sqlite"))
}

/// The SQLite URL of a service's file under the embedded default's data folder.
pub fn sqlite_url(data_dir: &std::path::Path, service: &str) -> SecretString {
    SecretString::from(format!(
        "sqlite://{}?mode=rwc",
        sqlite_path(data_dir, service).display()
    ))
}

/// A service's migrations: the platform's own tables (outbox, inbox) and their later
/// columns first, then the service's, in order. A platform migration added here later
/// sits before service migrations a database has already applied; the migrator applies
/// what is pending wherever it sits in the list.
pub fn migrations(
    service: impl IntoIterator<Item = CreateEntities>,
) -> Vec<Box<dyn MigrationTrait>> {
    let platform: [Box<dyn MigrationTrait>; 2] =
        [Box::new(OUTBOX_AND_INBOX), Box::new(OutboxHistory)];
    platform
        .into_iter()
        .chain(
            service
                .into_iter()
                .map(|m| Box::new(m) as Box<dyn MigrationTrait>),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    use sea_orm_migration::{MigrationTrait, MigratorTrait};

    use super::*;

    struct PlatformTables;

    impl MigratorTrait for PlatformTables {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            migrations(std::iter::empty())
        }
    }

    /// A service's own table, migrated after the platform's.
    mod thing {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "thing")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    const THING: CreateEntities = CreateEntities {
        name: "m0001_service_thing",
        entities: &[&thing::Entity],
    };

    /// A service's list as it was before `outbox.history`.
    struct BeforeHistory;

    impl MigratorTrait for BeforeHistory {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(OUTBOX_AND_INBOX), Box::new(THING)]
        }
    }

    /// The same service's list now.
    struct WithHistory;

    impl MigratorTrait for WithHistory {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            migrations([THING])
        }
    }

    async fn has_history(db: &sea_orm::DatabaseConnection) -> bool {
        sea_orm_migration::SchemaManager::new(db)
            .has_column("outbox", "history")
            .await
            .expect("the outbox's columns")
    }

    fn in_memory() -> SecretString {
        // One connection: a second would open another, empty, in-memory database.
        SecretString::from("sqlite::memory:")
    }

    /// The history migration sits before service migrations an existing database applied
    /// long ago; the migrator still applies it, and the outbox gains the column.
    #[tokio::test]
    async fn the_history_column_reaches_a_database_that_applied_later_service_migrations() {
        let db = connect_and_migrate::<BeforeHistory>(&in_memory(), 1)
            .await
            .expect("the old list");
        // m0000 creates the outbox from today's entity: drop the column to leave the table
        // an older release created.
        db.execute_unprepared("alter table outbox drop column history")
            .await
            .expect("the old outbox");
        assert!(!has_history(&db).await);
        WithHistory::up(&db, None).await.expect("the new list");
        assert!(has_history(&db).await);
        assert!(
            WithHistory::get_pending_migrations(&db)
                .await
                .expect("status")
                .is_empty()
        );
        crate::events::Outbox::new("thing", "thing.events.v1")
            .as_history("import")
            .stage(&db, "k", &prost_types::Timestamp::default())
            .await
            .expect("a history row in the migrated outbox");
    }

    /// A new database gets the column with the outbox (m0000) and skips the ALTER.
    #[tokio::test]
    async fn a_new_database_gets_the_history_column_from_the_entity() {
        let db = connect_and_migrate::<WithHistory>(&in_memory(), 1)
            .await
            .expect("a new database");
        assert!(has_history(&db).await);
        WithHistory::up(&db, None)
            .await
            .expect("nothing left to do");
    }

    /// Sixteen callers each read a counter and write it back, 25 times, on one SQLite
    /// file: with deferred transactions some of them failed at once with "database is
    /// locked" (a reader cannot upgrade to the write lock while another writer holds it);
    /// begun with `begin_write` every one waits its turn, and no increment is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sixteen_concurrent_writers_on_sqlite_wait_their_turn() {
        let dir = std::env::temp_dir().join(format!("platform-db-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("test folder");
        let db = connect_and_migrate::<PlatformTables>(&sqlite_url(&dir, "locks"), 10)
            .await
            .expect("SQLite file");
        db.execute_unprepared(
            "create table counter (id integer primary key, n integer not null); \
             insert into counter values (1, 0);",
        )
        .await
        .expect("counter table");
        let writers: Vec<_> = (0..16)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    for _ in 0..25 {
                        let txn = db.begin_write().await?;
                        let n: i64 = txn
                            .query_one_raw(Statement::from_string(
                                DbBackend::Sqlite,
                                "select n from counter where id = 1",
                            ))
                            .await?
                            .expect("the counter row")
                            .try_get("", "n")?;
                        txn.execute_raw(Statement::from_sql_and_values(
                            DbBackend::Sqlite,
                            "update counter set n = ? where id = 1",
                            [(n + 1).into()],
                        ))
                        .await?;
                        txn.commit().await?;
                    }
                    Ok::<_, DbErr>(())
                })
            })
            .collect();
        for writer in writers {
            writer
                .await
                .expect("writer task")
                .expect("no writer is refused by a locked database");
        }
        let n: i64 = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "select n from counter where id = 1",
            ))
            .await
            .expect("read")
            .expect("row")
            .try_get("", "n")
            .expect("n");
        assert_eq!(n, 16 * 25);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
