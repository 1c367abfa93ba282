//! The database: one sea-orm pool per service, over PostgreSQL (production, tests) or
//! SQLite (embedded default), migrated at start-up.
//!
//! Each service owns its database; the platform contributes two tables to each, the
//! outbox and the inbox (see [`crate::events`]), through [`platform_migrations`].

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
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
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers run beside the one writer; it persists in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    M::up(&db, None).await?;
    tracing::info!(backend = ?db.get_database_backend(), "database migrated");
    Ok(db)
}

/// The SQLite URL of a service's file under the embedded default's data folder.
pub fn sqlite_url(data_dir: &std::path::Path, service: &str) -> SecretString {
    SecretString::from(format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(format!("{service}.sqlite")).display()
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
