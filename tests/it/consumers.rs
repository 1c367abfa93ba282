//! The one consumer mechanism (`platform::events::consumer`) against the real broker, under
//! the faults that used to stop a group for good: a handler slower than the poll
//! interval (the member is evicted from its group mid-event), a broker restarted while the
//! group rebalances, a consumer started while the broker is down, and a member whose
//! partitions another member holds without committing (the watchdog's case).
//!
//! Each test ends with the group's lag at 0, read from the broker (committed offset =
//! high watermark), and every event applied exactly once. The bound on each is stated
//! where it is waited for; none is a speed target, only "it does not stay stopped".

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use inburgering_testkit::{broker::Broker, eventually, kafka};
use platform::events::{
    Envelope,
    consumer::{self, Handler, HandlerError, Subscription},
    headers,
};
use rdkafka::{
    ClientConfig,
    consumer::{BaseConsumer, Consumer},
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;

/// The platform's inbox and outbox tables and nothing else.
struct InboxOnly;

impl MigratorTrait for InboxOnly {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        platform::db::migrations(std::iter::empty())
    }
}

/// Counts the events it applies; sleeps on the first one when told to.
#[derive(Clone, Default)]
struct Counting {
    applied: Arc<AtomicUsize>,
    sleep_first: Option<Duration>,
    slept: Arc<AtomicBool>,
}

impl Handler for Counting {
    async fn handle(
        &self,
        _txn: &DatabaseTransaction,
        _event: &Envelope,
    ) -> Result<(), HandlerError> {
        if let Some(pause) = self.sleep_first
            && !self.slept.swap(true, Ordering::SeqCst)
        {
            tokio::time::sleep(pause).await;
        }
        self.applied.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn database() -> DatabaseConnection {
    let dir = std::env::temp_dir().join(format!("inburgering-consumer-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("database folder");
    platform::db::connect_and_migrate::<InboxOnly>(&platform::db::sqlite_url(&dir, "inbox"), 5)
        .await
        .expect("inbox database")
}

async fn publish(brokers: &str, topic: &str, count: usize) {
    for _ in 0..count {
        let id = uuid::Uuid::now_v7().to_string();
        kafka::produce(
            brokers,
            topic,
            "aggregate",
            &[
                (headers::ID, id.as_str()),
                (headers::TYPE, "inburgering.test.v1.Happened"),
                (headers::SOURCE, "/inburgering/test"),
            ],
            b"",
        )
        .await;
    }
}

fn subscription(group: &str, topic: &str) -> Subscription {
    let mut s = Subscription::configured(group, &[topic], &platform::Config::default());
    s.stall_after = Duration::from_secs(3);
    s
}

fn spawn(
    db: &DatabaseConnection,
    brokers: &str,
    subscription: Subscription,
    handler: Counting,
    stop: &CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let (db, brokers, stop) = (db.clone(), brokers.to_owned(), stop.clone());
    tokio::spawn(async move {
        consumer::run(db, brokers, subscription, Arc::new(handler), stop)
            .await
            .expect("consumer runs");
    })
}

/// Waits until `group` has applied `count` events and committed through the end of
/// `topic`: lag 0 on the broker.
async fn drained(
    brokers: &str,
    group: &str,
    topic: &str,
    applied: &AtomicUsize,
    count: usize,
    patience: Duration,
) {
    eventually(
        &format!("{group} to apply {count} events and reach lag 0"),
        patience,
        || async {
            let committed = {
                let (b, g, t) = (brokers.to_owned(), group.to_owned(), topic.to_owned());
                tokio::task::spawn_blocking(move || kafka::committed(&b, &g, &t, 0))
                    .await
                    .expect("committed offset read")
            };
            (applied.load(Ordering::SeqCst) >= count && committed == Some(count as i64))
                .then_some(())
        },
    )
    .await;
    // Exactly once: nothing applied twice while the group moved around.
    assert_eq!(
        applied.load(Ordering::SeqCst),
        count,
        "{group} applied an event twice"
    );
}

async fn topic(brokers: &str, name: &str) {
    platform::events::ensure_topics(brokers, &[name])
        .await
        .expect("create topic");
}

#[tokio::test]
async fn a_member_evicted_for_a_handler_slower_than_its_poll_interval_rejoins_and_drains() {
    let broker = Broker::start().await;
    let brokers = broker.address();
    let (group, name) = ("consumers.slow", "consumers.slow.v1");
    topic(&brokers, name).await;
    publish(&brokers, name, 20).await;
    let db = database().await;
    let mut sub = subscription(group, name);
    // The first event takes 9 s: past the session timeout and the poll interval, so
    // librdkafka leaves the group mid-event and must rejoin afterwards.
    sub.session_timeout = Duration::from_secs(6);
    sub.max_poll_interval = Duration::from_secs(6);
    sub.stall_after = Duration::from_secs(30);
    let handler = Counting {
        sleep_first: Some(Duration::from_secs(9)),
        ..Counting::default()
    };
    let applied = handler.applied.clone();
    let stop = CancellationToken::new();
    let task = spawn(&db, &brokers, sub, handler, &stop);
    // Bound: the 9 s event, a rejoin, and the other 19 events well within 90 s.
    drained(&brokers, group, name, &applied, 20, Duration::from_secs(90)).await;
    publish(&brokers, name, 5).await;
    drained(&brokers, group, name, &applied, 25, Duration::from_secs(60)).await;
    stop.cancel();
    task.await.expect("consumer task");
}

#[tokio::test]
async fn a_group_rebalancing_when_the_broker_restarts_drains_afterwards() {
    let mut broker = Broker::start().await;
    let brokers = broker.address();
    let (group, name) = ("consumers.rebalance", "consumers.rebalance.v1");
    topic(&brokers, name).await;
    publish(&brokers, name, 10).await;
    let db = database().await;
    let first = Counting::default();
    let applied = first.applied.clone();
    let stop = CancellationToken::new();
    let a = spawn(
        &db,
        &brokers,
        subscription(group, name),
        first.clone(),
        &stop,
    );
    drained(&brokers, group, name, &applied, 10, Duration::from_secs(60)).await;
    // A second member joins (same inbox, same counter): the group rebalances, and the
    // broker dies in the middle of it.
    let b = spawn(
        &db,
        &brokers,
        subscription(group, name),
        first.clone(),
        &stop,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    broker.kill().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    broker.resume().await;
    publish(&brokers, name, 10).await;
    // Bound: a rejoin after the broker returns, then 10 events, within 90 s.
    drained(&brokers, group, name, &applied, 20, Duration::from_secs(90)).await;
    stop.cancel();
    a.await.expect("first member");
    b.await.expect("second member");
}

#[tokio::test]
async fn a_consumer_started_while_the_broker_is_down_applies_once_it_is_back() {
    let mut broker = Broker::start().await;
    let brokers = broker.address();
    let (group, name) = ("consumers.late-broker", "consumers.late-broker.v1");
    topic(&brokers, name).await;
    broker.kill().await;
    let db = database().await;
    let handler = Counting::default();
    let applied = handler.applied.clone();
    let stop = CancellationToken::new();
    let task = spawn(&db, &brokers, subscription(group, name), handler, &stop);
    tokio::time::sleep(Duration::from_secs(3)).await;
    broker.resume().await;
    publish(&brokers, name, 10).await;
    // Bound: librdkafka's reconnect backoff (at most 2 s), a join, 10 events: 60 s.
    drained(&brokers, group, name, &applied, 10, Duration::from_secs(60)).await;
    stop.cancel();
    task.await.expect("consumer task");
}

/// A group member that holds the topic's only partition, reads and never commits: the
/// group has lag, and our member receives nothing. Its client id sorts before
/// librdkafka's default, so the range assignor gives it the partition.
fn squatter(
    brokers: &str,
    group: &str,
    topic: &str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("client.id", "aaaa-squatter")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("squatter");
    consumer.subscribe(&[topic]).expect("squatter subscribes");
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let _ = consumer.poll(Duration::from_millis(100));
        }
        // Dropping it leaves the group: the partition goes to the other member.
    })
}

fn metric_line(name: &str, group: &str) -> Option<f64> {
    platform::metrics::render()
        .lines()
        .find(|l| {
            l.starts_with(name) && l.contains(&format!("messaging_consumer_group_name=\"{group}\""))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn a_stalled_consumer_is_reported_restarted_and_fails_liveness_until_it_flows() {
    let broker = Broker::start().await;
    let brokers = broker.address();
    let (group, name) = ("consumers.stalled", "consumers.stalled.v1");
    topic(&brokers, name).await;
    let hold = Arc::new(AtomicBool::new(false));
    let squat = squatter(&brokers, group, name, hold.clone());
    // Let the squatter own the group first.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let db = database().await;
    let handler = Counting::default();
    let applied = handler.applied.clone();
    let stop = CancellationToken::new();
    let task = spawn(&db, &brokers, subscription(group, name), handler, &stop);
    publish(&brokers, name, 8).await;

    // The lag gauge tells the truth while this member has no partition at all.
    eventually(
        "the lag gauge to show 8 on the held partition",
        Duration::from_secs(30),
        || async { (metric_line("messaging_consumer_lag", group) == Some(8.0)).then_some(()) },
    )
    .await;
    // stall_after 3 s: stalled, its client recreated, still stalled, liveness fails.
    let part = format!("consumer {group}");
    eventually(
        "the watchdog to fail liveness",
        Duration::from_secs(60),
        || async {
            platform::health::stuck_parts()
                .contains(&part)
                .then_some(())
        },
    )
    .await;
    assert_eq!(metric_line("messaging_consumer_stalled", group), Some(1.0));
    assert!(metric_line("messaging_consumer_restarts_total", group).is_some_and(|n| n >= 1.0));
    assert_eq!(applied.load(Ordering::SeqCst), 0);

    // The squatter leaves: the partition comes to our member, which applies everything
    // from the committed offset, and liveness recovers.
    hold.store(true, Ordering::SeqCst);
    squat.join().expect("squatter thread");
    drained(&brokers, group, name, &applied, 8, Duration::from_secs(90)).await;
    eventually("liveness to recover", Duration::from_secs(10), || async {
        (!platform::health::stuck_parts().contains(&part)).then_some(())
    })
    .await;
    assert_eq!(metric_line("messaging_consumer_stalled", group), Some(0.0));
    stop.cancel();
    task.await.expect("consumer task");
}

#[tokio::test]
async fn a_group_whose_broker_stops_answering_past_the_session_timeout_drains_afterwards() {
    let broker = Broker::start().await;
    let brokers = broker.address();
    let (group, name) = ("consumers.frozen", "consumers.frozen.v1");
    topic(&brokers, name).await;
    publish(&brokers, name, 5).await;
    let db = database().await;
    let mut sub = subscription(group, name);
    // The member's session runs out while the broker answers nothing: librdkafka gives
    // up its partitions (SESSTMOUT) and rejoins with a new member id once it answers.
    sub.session_timeout = Duration::from_secs(6);
    sub.max_poll_interval = Duration::from_secs(6);
    // The default patience: a rejoin on tansu takes a few 3 s pauses, and a watchdog
    // that recreated the client in the middle of one would only start it again.
    sub.stall_after = Duration::from_secs(30);
    let handler = Counting::default();
    let applied = handler.applied.clone();
    let stop = CancellationToken::new();
    let task = spawn(&db, &brokers, sub, handler, &stop);
    drained(&brokers, group, name, &applied, 5, Duration::from_secs(60)).await;
    for round in 0..3 {
        broker.freeze();
        tokio::time::sleep(Duration::from_secs(10)).await;
        broker.thaw();
        publish(&brokers, name, 5).await;
        // Bound: the old member expires (6 s), the new one leads, 5 events: 60 s.
        drained(
            &brokers,
            group,
            name,
            &applied,
            10 + 5 * round,
            Duration::from_secs(60),
        )
        .await;
    }
    stop.cancel();
    task.await.expect("consumer task");
}
