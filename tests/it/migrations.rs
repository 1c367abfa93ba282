//! Schema changes on databases that already hold data: the testing service's m0004 makes
//! `trajectory_id` optional (non-integrants) on a schema created before it, on SQLite (the
//! embedded default, which cannot alter a column) and on PostgreSQL.

use inburgering_testkit::postgres;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    EntityTrait, Statement,
};
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;
use testing::store::{Migrator, booking, candidate};

/// Migrations before m0004: the platform's m0000 and m0001 and testing's m0001–m0003.
const BEFORE_M0004: u32 = 5;
const PERSON: &str = "0190b3c4-0000-7000-8000-000000000001";
const TRAJECTORY: &str = "0190b3c4-0000-7000-8000-000000000002";
const BOOKING: &str = "0190b3c4-0000-7000-8000-0000000000b0";

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// What an older release left: rows whose trajectory_id column is NOT NULL.
async fn old_schema_with_rows(db: &DatabaseConnection) {
    Migrator::up(db, Some(BEFORE_M0004)).await.unwrap();
    for table in ["candidate", "booking"] {
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                let ddl = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        format!("select sql from sqlite_master where type = 'table' and name = '{table}'"),
                    ))
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get_by_index::<String>(0)
                    .unwrap();
                let (head, tail) = ddl.split_once("\"trajectory_id\" ").unwrap();
                let (column, rest) = tail.split_once(',').unwrap();
                let old = format!("{head}\"trajectory_id\" {column} NOT NULL,{rest}");
                db.execute_unprepared(&format!("drop table {table}"))
                    .await
                    .unwrap();
                db.execute_unprepared(&old).await.unwrap();
            }
            _ => {
                db.execute_unprepared(&format!(
                    "alter table {table} alter column trajectory_id set not null"
                ))
                .await
                .unwrap();
            }
        }
    }
    // As the service wrote them (sea-orm's encoding of UUIDs and times on each backend).
    let id = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    candidate::ActiveModel {
        person_id: Set(id(PERSON)),
        trajectory_id: Set(Some(id(TRAJECTORY))),
        agency: Set("atlas".into()),
        status: Set("OBLIGATION_STATUS_OBLIGED".into()),
        contract_signed_on: Set(None),
        events_applied: Set(2),
        municipality_nis: Set("11002".into()),
        exempted: Set(false),
        b1_follow_up: Set(false),
    }
    .insert(db)
    .await
    .unwrap();
    booking::ActiveModel {
        id: Set(id(BOOKING)),
        session_id: Set(id("0190b3c4-0000-7000-8000-0000000000aa")),
        person_id: Set(id(PERSON)),
        trajectory_id: Set(Some(id(TRAJECTORY))),
        agency: Set("atlas".into()),
        test_type: Set("nt2-a2".into()),
        status: Set("passed".into()),
        fee_cents: Set(9000),
        level_reached: Set(Some("A2".into())),
        booked_at: Set(at("2026-11-20T08:00:00Z")),
        result_recorded_at: Set(Some(at("2026-11-21T08:00:00Z"))),
    }
    .insert(db)
    .await
    .unwrap();
    let refused = db
        .execute_unprepared(
            "insert into candidate (person_id, trajectory_id, agency, status, events_applied, \
             municipality_nis, exempted, b1_follow_up) values \
             ('0190b3c4-0000-7000-8000-000000000003', null, 'atlas', 'registered', 1, '', \
             false, false)",
        )
        .await;
    assert!(refused.is_err(), "the old schema refuses a non-integrant");
}

async fn assert_relaxed_and_kept(db: &DatabaseConnection) {
    Migrator::up(db, None).await.unwrap();
    assert_eq!(
        scalar(db, "select count(*) from candidate").await,
        1,
        "rows kept"
    );
    assert_eq!(
        scalar(db, "select count(*) from booking").await,
        1,
        "rows kept"
    );
    let id = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let kept = candidate::Entity::find_by_id(id(PERSON))
        .one(db)
        .await
        .unwrap()
        .expect("the old candidate");
    assert_eq!(kept.trajectory_id, Some(id(TRAJECTORY)));
    assert_eq!(
        (
            kept.agency.as_str(),
            kept.events_applied,
            kept.municipality_nis.as_str()
        ),
        ("atlas", 2, "11002")
    );
    let booked = booking::Entity::find_by_id(id(BOOKING))
        .one(db)
        .await
        .unwrap()
        .expect("the old booking");
    assert_eq!(
        (
            booked.fee_cents,
            booked.level_reached.as_deref(),
            booked.status.as_str()
        ),
        (9000, Some("A2"), "passed")
    );
    assert_eq!(
        booked.result_recorded_at.map(|t| t.to_rfc3339()),
        Some("2026-11-21T08:00:00+00:00".to_owned())
    );
    db.execute_unprepared(
        "insert into candidate (person_id, trajectory_id, agency, status, events_applied, \
         municipality_nis, exempted, b1_follow_up) values \
         ('0190b3c4-0000-7000-8000-000000000003', null, 'atlas', 'registered', 1, '', \
         false, false)",
    )
    .await
    .unwrap();
    let session = "0190b3c4-0000-7000-8000-0000000000aa";
    let booking = |id: &str| {
        format!(
            "insert into booking (id, session_id, person_id, trajectory_id, agency, test_type, \
             status, fee_cents, level_reached, booked_at, result_recorded_at) values \
             ('{id}', '{session}', '0190b3c4-0000-7000-8000-000000000003', null, 'atlas', \
             'language-level', 'booked', 9000, null, '2026-11-28T08:00:00Z', null)"
        )
    };
    db.execute_unprepared(&booking("0190b3c4-0000-7000-8000-0000000000b1"))
        .await
        .unwrap();
    assert!(
        db.execute_unprepared(&booking("0190b3c4-0000-7000-8000-0000000000b2"))
            .await
            .is_err(),
        "still one open booking per person and test type"
    );
}

#[tokio::test]
async fn m0004_lets_an_old_sqlite_database_hold_non_integrants_and_keeps_its_rows() {
    let path = std::env::temp_dir().join(format!("m0004-{}.sqlite", uuid::Uuid::new_v4()));
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    old_schema_with_rows(&db).await;
    assert_relaxed_and_kept(&db).await;
    db.close().await.unwrap();
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn m0004_lets_an_old_postgresql_database_hold_non_integrants_and_keeps_its_rows() {
    let url = postgres::fresh_database().await;
    let db = Database::connect(url.expose_secret()).await.unwrap();
    old_schema_with_rows(&db).await;
    assert_relaxed_and_kept(&db).await;
}

/// The embedded default: trajectories' migrations and the deadline sweep's query (its
/// NOT EXISTS subqueries, the breach table's ON CONFLICT) on SQLite, as `inburgering dev`
/// runs them.
#[tokio::test]
async fn the_deadline_sweep_runs_on_the_embedded_sqlite_database() {
    use chrono::NaiveDate;
    use platform::events::Outbox;
    use trajectories::{
        domain::{Agency, ContractTerms, Municipality, Nis, ObligationStatus, Trajectory},
        store::{self, Store},
        sweep,
    };
    let path = std::env::temp_dir().join(format!("sweep-{}.sqlite", uuid::Uuid::new_v4()));
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    store::Migrator::up(&db, None).await.unwrap();
    let outbox = Outbox::new("trajectories", "trajectories.events.v1");
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let (mut t, started) = Trajectory::start(
        uuid::Uuid::now_v7(),
        Municipality::new(Nis::parse("nis", "11002").unwrap(), Agency::Atlas),
        ObligationStatus::Obliged,
        None,
        day(2026, 1, 15),
        day(2026, 11, 28),
    )
    .unwrap();
    let store = Store::new(db.clone(), outbox.clone());
    store.start(&t, &[started]).await.unwrap();
    let signed = t
        .sign_contract(ContractTerms {
            signed_on: day(2026, 1, 20),
            rights_and_duties_accepted: true,
            nt2_deadline: Some(day(2026, 12, 31)),
            mo_deadline: Some(day(2026, 9, 30)),
            participation_deadline: None,
        })
        .unwrap();
    store.save_contract(&t, &signed).await.unwrap();

    // VDAB by 2026-03-15 and MO by 2026-09-30, both past their grace by 2026-11-28.
    assert_eq!(
        sweep::run_once(&db, &outbox, day(2026, 11, 28))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        sweep::run_once(&db, &outbox, day(2026, 11, 28))
            .await
            .unwrap(),
        0,
        "each breach once"
    );
    assert_eq!(
        scalar(
            &db,
            "select count(*) from outbox where ce_type like '%ObligationBreached'"
        )
        .await,
        2
    );
    db.close().await.unwrap();
    std::fs::remove_file(path).ok();
}
