//! The database: one sea-orm pool per service, over PostgreSQL (production, tests) or
//! SQLite (embedded default), migrated at start-up.
//!
//! Each service owns its database; the platform contributes two tables to each, the
//! outbox and the inbox (see [`crate::events`]), through [`platform_migrations`].

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    PlatformError,
    events::store::{CreateEntities, OUTBOX_AND_INBOX},
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

/// A service's migrations: the platform's own tables (outbox, inbox) first, then the
/// service's, in order.
pub fn migrations(
    service: impl IntoIterator<Item = CreateEntities>,
) -> Vec<Box<dyn MigrationTrait>> {
    std::iter::once(OUTBOX_AND_INBOX)
        .chain(service)
        .map(|m| Box::new(m) as Box<dyn MigrationTrait>)
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
