//! History events on real parts: an event staged through a history outbox reaches the
//! broker with `ce_history` (the import's source label), a plain one without it, and the
//! consumer's `Envelope` tells them apart; an outbox on PostgreSQL that predates the
//! column gains it.

use std::time::Duration;

use inburgering_testkit::{Broker, eventually, kafka, postgres, scalar};
use platform::events::{self, Envelope, Outbox, Staged, headers, relay};
use proto::{common::v1 as common, trajectories::v1 as tv1};
use rdkafka::Message;
use sea_orm::ConnectionTrait;
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;

const TOPIC: &str = "history.events.v1";
const LABEL: &str = "caseload:atlas-2026.jsonl";
const PATIENCE: Duration = Duration::from_secs(30);

/// The platform's outbox and inbox and nothing else.
struct PlatformTables;

impl MigratorTrait for PlatformTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        platform::db::migrations(std::iter::empty())
    }
}

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

#[tokio::test]
async fn only_the_history_event_reaches_the_broker_with_ce_history() {
    let broker = Broker::start().await;
    let brokers = broker.address();
    let db =
        platform::db::connect_and_migrate::<PlatformTables>(&postgres::fresh_database().await, 2)
            .await
            .unwrap();
    events::ensure_topics(&brokers, &[TOPIC]).await.unwrap();
    let outbox = Outbox::new("trajectories", TOPIC);
    outbox
        .stage(
            &db,
            "trajectory-now",
            &tv1::ContractSigned {
                trajectory_id: "trajectory-now".into(),
                signed_on: date(2026, 3, 2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    outbox
        .as_history(LABEL)
        .stage_all(
            &db,
            vec![Staged::new(
                "trajectory-imported",
                &tv1::TrajectoryStarted {
                    trajectory_id: "trajectory-imported".into(),
                    started_on: date(2024, 9, 16),
                    ..Default::default()
                },
            )],
        )
        .await
        .unwrap();

    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(relay::run(
        db.clone(),
        brokers.clone(),
        outbox.clone(),
        shutdown.clone(),
    ));
    outbox.committed();
    let messages = eventually("both events on the topic", PATIENCE, || async {
        let messages = kafka::read_all(&brokers, TOPIC).await;
        (messages.len() == 2).then_some(messages)
    })
    .await;
    shutdown.cancel();
    relay.await.unwrap().unwrap();

    let seen: Vec<(String, Option<String>, bool)> = messages
        .iter()
        .map(|m| {
            let envelope = Envelope::from_message(m).unwrap();
            (
                String::from_utf8_lossy(m.key().unwrap()).into_owned(),
                kafka::header(m, headers::HISTORY),
                envelope.is_history(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("trajectory-now".to_owned(), None, false),
            (
                "trajectory-imported".to_owned(),
                Some(LABEL.to_owned()),
                true
            ),
        ]
    );
    let imported = Envelope::from_message(&messages[1]).unwrap();
    assert_eq!(imported.history.as_deref(), Some(LABEL));
    let started = imported
        .decode::<tv1::TrajectoryStarted>()
        .unwrap()
        .expect("a TrajectoryStarted");
    assert_eq!(
        started.started_on,
        date(2024, 9, 16),
        "the payload keeps the fact's own date"
    );
}

/// The history column reaches an outbox created before it, on PostgreSQL: the migration
/// is ALTER TABLE there (on a new database the entity already has the column).
#[tokio::test]
async fn an_outbox_from_before_history_gains_the_column_on_postgres() {
    let url = postgres::fresh_database().await;
    let db = platform::db::connect_and_migrate::<PlatformTables>(&url, 2)
        .await
        .unwrap();
    // What an older release left: no history column, its migration not recorded.
    db.execute_unprepared(
        "alter table outbox drop column history; \
         delete from seaql_migrations where version = 'm0001_platform_outbox_history'",
    )
    .await
    .unwrap();
    let has_history = "select count(*) from information_schema.columns \
                       where table_name = 'outbox' and column_name = 'history'";
    assert_eq!(scalar(&url, has_history).await, 0);

    PlatformTables::up(&db, None).await.unwrap();
    assert_eq!(scalar(&url, has_history).await, 1);
    Outbox::new("trajectories", TOPIC)
        .as_history(LABEL)
        .stage(
            &db,
            "trajectory-imported",
            &tv1::TrajectoryStarted::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        scalar(
            &url,
            &format!("select count(*) from outbox where history = '{LABEL}'")
        )
        .await,
        1
    );
}
