//! The idempotent consumer: applies each event once, retries a bounded number of times,
//! dead-letters what cannot be applied, and commits the offset only after the effect.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use rdkafka::{
    Offset, TopicPartitionList,
    consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer},
    message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait, TryInsertResult,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span};

use super::{Envelope, client_config, dlq_topic, headers, relay, store::inbox};
use crate::{PlatformError, metrics, telemetry};

/// Why an event could not be applied.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    message: String,
    /// No retry can help (undecodable payload, impossible state): dead-letter at once.
    permanent: bool,
}

impl HandlerError {
    /// A failure that a retry may cure (database busy, a dependency down).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure no retry can cure.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

/// A field of an event that does not parse: no retry can cure it.
impl From<crate::FieldError> for HandlerError {
    fn from(e: crate::FieldError) -> Self {
        Self::permanent(e.to_string())
    }
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::transient(format!("database: {e}"))
    }
}

/// Applies one event inside the consumer's transaction. Events of types the handler does
/// not care about return `Ok(())`.
pub trait Handler: Send + Sync + 'static {
    /// Applies `event`; every write goes through `txn`, which also records the event id.
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// Which topics a consumer group reads and how patient it is.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The consumer group, also the inbox's consumer name, e.g. `testing.trajectory-projection`.
    pub group: String,
    pub topics: Vec<String>,
    /// Attempts before a failing event is dead-lettered; one that failed while the
    /// database did not answer does not count.
    pub max_attempts: u32,
    /// The service's outbox, woken after each commit: a handler may stage events.
    pub outbox: Option<super::Outbox>,
    /// This replica's stable name ([`crate::Config::consumer_instance_id`]): the consumer
    /// joins as a static member and, restarted, takes its partitions back at once.
    pub instance_id: Option<String>,
    /// The watchdog's patience ([`crate::Config::consumer_stall_secs`]): a group with lag
    /// that receives nothing for this long is stalled; its client is recreated, and if it
    /// is still stalled as long again, the service's liveness check fails.
    pub stall_after: Duration,
    /// Kafka's `session.timeout.ms` ([`crate::Config::consumer_session_timeout_secs`]).
    pub session_timeout: Duration,
    /// Kafka's `max.poll.interval.ms` ([`crate::Config::consumer_max_poll_interval_secs`]).
    pub max_poll_interval: Duration,
}

impl Subscription {
    /// Group `group` of `topics`, with the consumer settings of `config`; no outbox.
    pub fn configured(group: &str, topics: &[&str], config: &crate::Config) -> Self {
        Self {
            group: group.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            max_attempts: config.consumer_max_attempts,
            outbox: None,
            instance_id: config.consumer_instance_id.clone(),
            stall_after: Duration::from_secs(config.consumer_stall_secs.max(1)),
            session_timeout: Duration::from_secs(config.consumer_session_timeout_secs),
            max_poll_interval: Duration::from_secs(config.consumer_max_poll_interval_secs),
        }
    }
}

enum Outcome {
    Applied,
    Duplicate,
    DeadLettered,
}

/// The consumer configuration of group `group`: manual commits, from the earliest offset
/// for a new group, and a short fetch wait so that an event is seen soon after it lands.
pub fn consumer_config(brokers: &str, group: &str) -> rdkafka::ClientConfig {
    let mut config = client_config(brokers);
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // Kafka's defaults; [`run`] sets the subscription's own. The 10 s used before
        // made members time themselves out (SESSTMOUT) whenever a busy broker left
        // heartbeats unanswered for a few seconds.
        .set("session.timeout.ms", "45000")
        .set("heartbeat.interval.ms", "3000")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "100");
    config
}

/// How often the offsets of applied events are committed (at most a second's events are
/// delivered again after a crash, and the inbox skips them).
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);
/// How often the watchdog reads the group's committed offsets and the partitions' ends.
const LAG_INTERVAL: Duration = Duration::from_secs(5);
/// How long one read of offsets or watermarks may take.
const LAG_READ_PATIENCE: Duration = Duration::from_secs(5);

/// Consumes `subscription` until `shutdown`, applying each event with `handler` against
/// `db`. The message in flight when shutdown comes is finished first.
///
/// A watchdog runs beside it: every [`LAG_INTERVAL`] it reads the group's lag from the
/// broker (committed offsets against high watermarks, so the `messaging_consumer_lag`
/// gauge tells the truth even while this member is stuck or has no partitions). When the
/// group has lag and this consumer has received nothing for `stall_after`, it logs an
/// ERROR naming the group and the partitions behind, sets `messaging_consumer_stalled`,
/// and recreates its client, which rejoins the group and fetches from the committed
/// offsets. Still stalled `stall_after` later, it reports the service stuck
/// ([`crate::health`]): the liveness check fails and Kubernetes restarts the pod.
pub async fn run<H: Handler>(
    db: DatabaseConnection,
    brokers: String,
    subscription: Subscription,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> Result<(), PlatformError> {
    let group = subscription.group.clone();
    let part = format!("consumer {group}");
    let dlq = relay::producer(&brokers)?;
    let (lag_tx, lag) = watch::channel(None);
    // Read at least twice per stall time, so a stall is seen within 1.5 of it.
    let every = LAG_INTERVAL
        .min(subscription.stall_after / 2)
        .max(Duration::from_millis(500));
    let lag_task = tokio::spawn(watch_lag(
        lag_reader(&brokers, &group)?,
        group.clone(),
        subscription.topics.clone(),
        every,
        lag_tx,
        shutdown.clone(),
    ));
    metrics::consumer_stalled(&group, false);
    let mut restarted = false;
    let outcome = 'client: loop {
        let consumer = match subscribe(&brokers, &subscription) {
            Ok(c) => c,
            Err(e) => break 'client Err(e),
        };
        tracing::info!(group = %group, topics = ?subscription.topics, "consumer started");
        let mut last_received = Instant::now();
        let mut check = tokio::time::interval(every);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut commits = tokio::time::interval(COMMIT_INTERVAL);
        commits.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Whether an offset was stored since the last commit.
        let mut stored = false;
        loop {
            let message = tokio::select! {
                m = consumer.recv() => m,
                _ = commits.tick() => {
                    commit_stored(&consumer, &group, &mut stored);
                    continue;
                }
                _ = check.tick() => {
                    let Some(behind) = stalled(&lag, last_received, subscription.stall_after) else {
                        continue;
                    };
                    metrics::consumer_stalled(&group, true);
                    if restarted {
                        tracing::error!(group = %group, behind = %behind, stalled_secs = last_received.elapsed().as_secs(),
                            "consumer still stalled after its client was recreated; failing the liveness check");
                        crate::health::stuck(&part);
                        // Keep watching: should it recover, liveness recovers with it.
                        last_received = Instant::now();
                        continue;
                    }
                    tracing::error!(group = %group, behind = %behind, stalled_secs = last_received.elapsed().as_secs(),
                        "consumer stalled: the group has lag but nothing arrived; recreating its client");
                    metrics::consumer_restarted(&group, "stalled");
                    restarted = true;
                    commit_stored(&consumer, &group, &mut stored);
                    close(consumer).await;
                    continue 'client;
                }
                _ = shutdown.cancelled() => {
                    commit_stored(&consumer, &group, &mut stored);
                    break 'client Ok(());
                }
            };
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, group = %group, "consumer receive failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            let started = Instant::now();
            let outcome = process(
                &db,
                &dlq,
                &subscription,
                handler.as_ref(),
                &message,
                &shutdown,
            )
            .await;
            let label = match &outcome {
                Some(Outcome::Applied) => "applied",
                Some(Outcome::Duplicate) => "duplicate",
                Some(Outcome::DeadLettered) => "dead_lettered",
                None => {
                    // Shutting down mid-retry: leave this offset, another run retries.
                    commit_stored(&consumer, &group, &mut stored);
                    break 'client Ok(());
                }
            };
            metrics::message_processed(message.topic(), &group, label, started.elapsed());
            // Only now, after the effect (or the DLQ) is durable, does the offset move:
            // stored here, committed with the others of the last second.
            match consumer.store_offset_from_message(&message) {
                Ok(()) => stored = true,
                Err(e) => {
                    tracing::warn!(error = %e, "offset store failed; the event may be redelivered and skipped by the inbox");
                }
            }
            drop(message);
            last_received = Instant::now();
            if restarted {
                tracing::info!(group = %group, "consumer flowing again");
                metrics::consumer_stalled(&group, false);
                crate::health::recovered(&part);
                restarted = false;
            }
        }
    };
    lag_task.abort();
    crate::health::recovered(&part);
    tracing::info!(group = %group, "consumer stopped");
    outcome
}

/// Commits the offsets stored since the last commit, if any.
fn commit_stored(consumer: &StreamConsumer, group: &str, stored: &mut bool) {
    if std::mem::take(stored)
        && let Err(e) = consumer.commit_consumer_state(CommitMode::Async)
    {
        tracing::warn!(group = %group, error = %e, "offset commit failed; events since the last commit may be redelivered and skipped by the inbox");
    }
}

/// A new client of `subscription`'s group, subscribed to its topics.
fn subscribe(brokers: &str, subscription: &Subscription) -> Result<Closing, PlatformError> {
    let mut config = consumer_config(brokers, &subscription.group);
    if let Some(instance) = &subscription.instance_id {
        config.set("group.instance.id", instance);
    }
    let session = subscription.session_timeout.as_millis().max(1000);
    config
        // The offset of an applied event is stored, and [`run`] commits what is stored
        // once per [`COMMIT_INTERVAL`] and when it stops. One commit per event, as
        // before, sent hundreds of OffsetCommit requests a second to the coordinator
        // under load; the heartbeats queued behind them went unanswered past the
        // session timeout (SESSTMOUT), and the member was dropped from its group.
        .set("enable.auto.offset.store", "false");
    config
        .set("session.timeout.ms", session.to_string())
        // A heartbeat every third of the session: two may go unanswered.
        .set("heartbeat.interval.ms", (session / 3).to_string())
        .set(
            "max.poll.interval.ms",
            subscription
                .max_poll_interval
                .as_millis()
                .max(session)
                .to_string(),
        );
    let consumer: StreamConsumer = config.create()?;
    let topics: Vec<&str> = subscription.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    Ok(Closing(Some(consumer)))
}

/// What the partitions of a group are behind, read from the broker at `read_at`.
#[derive(Debug, Clone)]
struct Lag {
    /// (topic, partition, messages behind)
    partitions: Vec<(String, i32, i64)>,
    read_at: Instant,
}

/// `Some(partitions behind)` when the latest lag reading, taken after the last message
/// arrived, shows lag and nothing has arrived for `patience`.
fn stalled(
    lag: &watch::Receiver<Option<Lag>>,
    last_received: Instant,
    patience: Duration,
) -> Option<String> {
    let lag = lag.borrow();
    let lag = lag.as_ref()?;
    let behind: Vec<String> = lag
        .partitions
        .iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|(topic, partition, n)| format!("{topic}[{partition}]: {n}"))
        .collect();
    (!behind.is_empty() && lag.read_at > last_received && last_received.elapsed() >= patience)
        .then(|| behind.join(", "))
}

/// A client that reads group `group`'s committed offsets; it never joins the group.
fn lag_reader(brokers: &str, group: &str) -> Result<Arc<BaseConsumer>, PlatformError> {
    Ok(Arc::new(
        client_config(brokers)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()?,
    ))
}

/// Reads the group's lag every `every`, sets `messaging_consumer_lag` and hands
/// the reading to the watchdog. A reading that fails (broker down) is `None`: the
/// watchdog does not call a consumer stalled for what it cannot know.
async fn watch_lag(
    reader: Arc<BaseConsumer>,
    group: String,
    topics: Vec<String>,
    every: Duration,
    lag: watch::Sender<Option<Lag>>,
    shutdown: CancellationToken,
) {
    loop {
        let (client, wanted) = (reader.clone(), topics.clone());
        let reading = tokio::task::spawn_blocking(move || read_lag(&client, &wanted)).await;
        match reading {
            Ok(Ok(partitions)) => {
                for (topic, partition, behind) in &partitions {
                    metrics::consumer_lag(topic, &group, *partition, *behind);
                }
                lag.send_replace(Some(Lag {
                    partitions,
                    read_at: Instant::now(),
                }));
            }
            Ok(Err(e)) => {
                tracing::debug!(group = %group, error = %e, "cannot read the group's lag");
                lag.send_replace(None);
            }
            Err(_) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {},
            _ = shutdown.cancelled() => return,
        }
    }
}

/// The group's lag per partition of `topics`: high watermark minus committed offset (the
/// low watermark when the group never committed).
fn read_lag(
    reader: &BaseConsumer,
    topics: &[String],
) -> Result<Vec<(String, i32, i64)>, rdkafka::error::KafkaError> {
    let mut partitions = TopicPartitionList::new();
    for topic in topics {
        let metadata = reader.fetch_metadata(Some(topic), LAG_READ_PATIENCE)?;
        for t in metadata.topics().iter().filter(|t| t.name() == topic) {
            for p in t.partitions() {
                partitions.add_partition(topic, p.id());
            }
        }
    }
    let committed = reader.committed_offsets(partitions, LAG_READ_PATIENCE)?;
    let mut lag = Vec::new();
    for element in committed.elements() {
        let (low, high) =
            reader.fetch_watermarks(element.topic(), element.partition(), LAG_READ_PATIENCE)?;
        let position = match element.offset() {
            Offset::Offset(n) => n.max(low),
            _ => low,
        };
        lag.push((
            element.topic().to_owned(),
            element.partition(),
            (high - position).max(0),
        ));
    }
    Ok(lag)
}

/// Closes `consumer` off the async runtime, waiting at most [`CLOSE_PATIENCE`].
async fn close(mut consumer: Closing) {
    if let Some(inner) = consumer.0.take() {
        let closing = tokio::task::spawn_blocking(move || drop(inner));
        if tokio::time::timeout(CLOSE_PATIENCE, closing).await.is_err() {
            tracing::warn!("Kafka consumer did not close in time; leaving it behind");
        }
    }
}

async fn process<H: Handler>(
    db: &DatabaseConnection,
    dlq: &FutureProducer,
    subscription: &Subscription,
    handler: &H,
    message: &BorrowedMessage<'_>,
    shutdown: &CancellationToken,
) -> Option<Outcome> {
    let envelope = match Envelope::from_message(message) {
        Ok(e) => e,
        Err(reason) => {
            return dead_letter(dlq, subscription, message, &reason, 1, shutdown).await;
        }
    };
    let span = info_span!(
        "process",
        otel.name = %format!("{} process", envelope.topic),
        otel.kind = "consumer",
        messaging.system = "kafka",
        messaging.destination.name = %envelope.topic,
        messaging.consumer.group.name = %subscription.group,
        messaging.message.id = %envelope.id,
        ce_type = %envelope.ce_type,
    );
    telemetry::set_parent(&span, envelope.traceparent.as_deref());
    async {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match apply_once(db, subscription, handler, &envelope).await {
                Ok(true) => return Some(Outcome::Applied),
                Ok(false) => {
                    tracing::info!(event_id = %envelope.id, "event already applied; skipped");
                    return Some(Outcome::Duplicate);
                }
                // The database failed, not the event: that attempt does not count, or
                // a database restart would dead-letter every event in flight.
                Err(e) if !e.permanent && db.ping().await.is_err() => {
                    tracing::warn!(event_id = %envelope.id, error = %e, "database unavailable; waiting for it before applying the event");
                    attempt -= 1;
                    wait_for_database(db, shutdown).await?;
                }
                Err(e) if e.permanent || attempt >= subscription.max_attempts => {
                    tracing::error!(event_id = %envelope.id, attempt, error = %e, "event cannot be applied; dead-lettering");
                    return dead_letter(dlq, subscription, message, &e.message, attempt, shutdown).await;
                }
                Err(e) => {
                    tracing::warn!(event_id = %envelope.id, attempt, error = %e, "event failed; retrying");
                    let backoff = Duration::from_millis(100 * 2u64.pow(attempt.min(6)));
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {},
                        _ = shutdown.cancelled() => return None,
                    }
                }
            }
        }
    }
    .instrument(span)
    .await
}

/// Longest pause between two pings of a database that does not answer.
const DATABASE_PATIENCE: Duration = Duration::from_secs(5);

/// Returns once `db` answers again (`None` on shutdown), pinging with a growing pause.
async fn wait_for_database(db: &DatabaseConnection, shutdown: &CancellationToken) -> Option<()> {
    let mut pause = Duration::from_millis(200);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(pause) => {},
            _ = shutdown.cancelled() => return None,
        }
        if db.ping().await.is_ok() {
            tracing::info!("database answers again");
            return Some(());
        }
        pause = (pause * 2).min(DATABASE_PATIENCE);
    }
}

/// One transaction: record the id in the inbox, apply, commit. `Ok(false)` when the id
/// was already there.
async fn apply_once<H: Handler>(
    db: &DatabaseConnection,
    subscription: &Subscription,
    handler: &H,
    envelope: &Envelope,
) -> Result<bool, HandlerError> {
    let txn = crate::db::BeginWrite::begin_write(db).await?;
    let row = inbox::ActiveModel {
        consumer: Set(subscription.group.clone()),
        event_id: Set(envelope.id),
        topic: Set(envelope.topic.clone()),
        applied_at: Set(Utc::now()),
    };
    let inserted = inbox::Entity::insert(row)
        .on_conflict_do_nothing_on([inbox::Column::Consumer, inbox::Column::EventId])
        .exec_without_returning(&txn)
        .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        txn.rollback().await?;
        return Ok(false);
    }
    handler.handle(&txn, envelope).await?;
    txn.commit().await?;
    if let Some(outbox) = &subscription.outbox {
        outbox.committed();
    }
    Ok(true)
}

/// How long closing a consumer may hold up shutdown.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

/// Owns a consumer and closes it off the async runtime when dropped, waiting at most
/// [`CLOSE_PATIENCE`]: librdkafka's close waits to leave the group, which never happens
/// when the broker is gone (rust-rdkafka #509, #611), and shutdown must stay bounded.
struct Closing(Option<StreamConsumer>);

impl std::ops::Deref for Closing {
    type Target = StreamConsumer;

    fn deref(&self) -> &StreamConsumer {
        self.0
            .as_ref()
            .expect("a Closing holds its consumer until dropped or closed")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(consumer) = self.0.take() {
            let (closed, wait) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                drop(consumer);
                let _ = closed.send(());
            });
            if wait.recv_timeout(CLOSE_PATIENCE).is_err() {
                tracing::warn!("Kafka consumer did not close in time; leaving it behind");
            }
        }
    }
}

/// Sends the message, with why it failed, to `<topic>.dlq`; retries until the DLQ takes
/// it, because committing the offset without it would lose the event.
async fn dead_letter(
    dlq: &FutureProducer,
    subscription: &Subscription,
    message: &BorrowedMessage<'_>,
    reason: &str,
    attempts: u32,
    shutdown: &CancellationToken,
) -> Option<Outcome> {
    let topic = dlq_topic(message.topic());
    let attempts = attempts.to_string();
    loop {
        let mut hs = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for h in original.iter() {
                hs = hs.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
        }
        hs = hs
            .insert(Header {
                key: headers::DLQ_ERROR,
                value: Some(reason),
            })
            .insert(Header {
                key: headers::DLQ_ATTEMPTS,
                value: Some(&attempts),
            })
            .insert(Header {
                key: headers::DLQ_CONSUMER,
                value: Some(&subscription.group),
            });
        let mut record = FutureRecord::to(&topic).headers(hs);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        match dlq.send(record, Duration::from_secs(10)).await {
            Ok(_) => {
                metrics::dead_lettered(message.topic());
                return Some(Outcome::DeadLettered);
            }
            Err((e, _)) => {
                tracing::error!(error = %e, topic, "dead-letter publish failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {},
                    _ = shutdown.cancelled() => return None,
                }
            }
        }
    }
}
