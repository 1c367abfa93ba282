//! A fresh PostgreSQL database per service per test.

use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;

/// The server the tests use: `INBURGERING_TEST_POSTGRES` (an admin URL), by default the
/// local server with trust auth.
pub fn admin_url() -> String {
    std::env::var("INBURGERING_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Creates an empty database and returns its URL. Databases are named `it_<uuid>`; the
/// test command drops leftovers before a run.
pub async fn fresh_database() -> SecretString {
    let admin = admin_url();
    let name = format!("it_{}", uuid::Uuid::new_v4().simple());
    let db = Database::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} does not answer: {e}"));
    db.execute_unprepared(&format!("create database {name}"))
        .await
        .expect("create test database");
    db.close().await.expect("close admin connection");
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(&admin);
    SecretString::from(format!("{base}/{name}"))
}
