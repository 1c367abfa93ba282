//! The idempotent consumer: applies each event once, retries a bounded number of times,
//! dead-letters what cannot be applied, and commits the offset only after the effect.

use std::{future::Future, sync::Arc, time::Duration};

use chrono::Utc;
use rdkafka::{
    ClientContext, Statistics,
    consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer},
    message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait,
    TryInsertResult,
};
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
        .set("session.timeout.ms", "10000")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "100");
    config
}

/// Consumes `subscription` until `shutdown`, applying each event with `handler` against
/// `db`. The message in flight when shutdown comes is finished first.
pub async fn run<H: Handler>(
    db: DatabaseConnection,
    brokers: String,
    subscription: Subscription,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> Result<(), PlatformError> {
    let context = LagReporter {
        group: subscription.group.clone(),
    };
    let mut config = consumer_config(&brokers, &subscription.group);
    // librdkafka reports each partition's lag in its statistics.
    config.set("statistics.interval.ms", "5000");
    if let Some(instance) = &subscription.instance_id {
        config.set("group.instance.id", instance);
    }
    let consumer = Closing(Some(
        config.create_with_context::<_, StreamConsumer<LagReporter>>(context)?,
    ));
    let consumer = consumer.0.as_ref().expect("set just above");
    let topics: Vec<&str> = subscription.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    let dlq = relay::producer(&brokers)?;
    tracing::info!(group = %subscription.group, topics = ?subscription.topics, "consumer started");
    loop {
        let message = tokio::select! {
            m = consumer.recv() => m,
            _ = shutdown.cancelled() => break,
        };
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, group = %subscription.group, "consumer receive failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let started = std::time::Instant::now();
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
            None => break, // shutting down mid-retry: leave the offset, another run retries
        };
        metrics::message_processed(
            message.topic(),
            &subscription.group,
            label,
            started.elapsed(),
        );
        // Only now, after the effect (or the DLQ) is durable, does the offset move.
        if let Err(e) = consumer.commit_message(&message, CommitMode::Async) {
            tracing::warn!(error = %e, "offset commit failed; the event may be redelivered and skipped by the inbox");
        }
    }
    tracing::info!(group = %subscription.group, "consumer stopped");
    Ok(())
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
    let txn = db.begin().await?;
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
struct Closing(Option<StreamConsumer<LagReporter>>);

/// Turns librdkafka's periodic statistics into the `messaging_consumer_lag` gauge.
struct LagReporter {
    group: String,
}

impl ClientContext for LagReporter {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                // Partition -1 is librdkafka's internal "unassigned" bucket; lag -1 unknown.
                if *partition >= 0 && p.consumer_lag >= 0 {
                    metrics::consumer_lag(topic, &self.group, *partition, p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for LagReporter {}

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
