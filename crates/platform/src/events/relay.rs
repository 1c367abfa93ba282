//! The outbox relay: publishes committed outbox rows in commit order with an idempotent
//! producer, then marks them sent.
//!
//! Delivery is at least once: a crash between the broker's acknowledgement and the mark
//! republishes the row, and consumers' inboxes make that harmless. With several replicas
//! of a service on PostgreSQL, a transaction-scoped advisory lock lets one relay at a
//! time publish, which keeps per-key order.

use std::time::Duration;

use chrono::Utc;
use rdkafka::{
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait, sea_query::Expr,
};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span};

use super::{CONTENT_TYPE, Outbox, client_config, headers, store::outbox};
use crate::{PlatformError, metrics, telemetry};

/// Rows published per round.
const BATCH: u64 = 256;
/// How often the relay looks for rows when nothing woke it.
const POLL: Duration = Duration::from_millis(500);
/// Pause after a failed round (broker down), so the log is not flooded.
const BACKOFF: Duration = Duration::from_secs(1);
/// How often the backlog gauge is refreshed.
const BACKLOG_INTERVAL: Duration = Duration::from_secs(5);
/// Arbitrary but fixed: the advisory lock key of the outbox relay.
const ADVISORY_LOCK_KEY: i64 = 0x1b0e_0b0c;

/// An idempotent producer: `enable.idempotence`, `acks=all`, ordered retries.
pub fn producer(brokers: &str) -> Result<FutureProducer, PlatformError> {
    Ok(client_config(brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // The relay enqueues a whole batch before it awaits the acknowledgements, so
        // records batch without lingering; a lone event goes out at once.
        .set("linger.ms", "0")
        .set("message.timeout.ms", "10000")
        .create()?)
}

/// Publishes `outbox`'s rows from `db` until `shutdown`, then publishes what is left once
/// more and returns.
pub async fn run(
    db: DatabaseConnection,
    brokers: String,
    outbox: Outbox,
    shutdown: CancellationToken,
) -> Result<(), PlatformError> {
    let mut producer = producer(&brokers)?;
    let wakeups = outbox.wakeups();
    let mut last_count: Option<std::time::Instant> = None;
    loop {
        let stopping = tokio::select! {
            _ = wakeups.notified() => false,
            _ = tokio::time::sleep(POLL) => false,
            _ = shutdown.cancelled() => true,
        };
        loop {
            match publish_round(&db, &producer, outbox.topic()).await {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, topic = outbox.topic(), "outbox relay round failed; retrying with a new producer");
                    // Records that timed out during an outage leave the idempotent
                    // producer in a state it must reset with the broker; a new one starts
                    // clean (a new producer id). The rows are still unsent: nothing lost.
                    producer = self::producer(&brokers)?;
                    if stopping {
                        break;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(BACKOFF) => {},
                        _ = shutdown.cancelled() => {},
                    }
                    break;
                }
            }
        }
        // The count is a query: at most one per interval, not one per commit.
        if last_count.is_none_or(|at| at.elapsed() >= BACKLOG_INTERVAL) || stopping {
            if let Ok((rows, oldest)) = backlog(&db, outbox.topic()).await {
                metrics::outbox_backlog(outbox.topic(), rows);
                let age = oldest
                    .map(|staged| (Utc::now() - staged).to_std().unwrap_or_default())
                    .unwrap_or_default();
                metrics::outbox_oldest_unsent(outbox.topic(), age);
            }
            last_count = Some(std::time::Instant::now());
        }
        if stopping {
            tracing::info!(topic = outbox.topic(), "outbox relay stopped");
            return Ok(());
        }
    }
}

/// Unsent rows of `topic` and when the oldest was staged, for the backlog gauges.
async fn backlog(
    db: &DatabaseConnection,
    topic: &str,
) -> Result<(u64, Option<chrono::DateTime<Utc>>), sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    let unsent = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::Topic.eq(topic));
    let rows = unsent.clone().count(db).await?;
    if rows == 0 {
        return Ok((0, None));
    }
    let oldest = unsent
        .order_by_asc(outbox::Column::Seq)
        .one(db)
        .await?
        .map(|row| row.ce_time);
    Ok((rows, oldest))
}

async fn publish_round(
    db: &DatabaseConnection,
    producer: &FutureProducer,
    topic: &str,
) -> Result<usize, PlatformError> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            let row = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "select pg_try_advisory_xact_lock($1) as leader",
                    [ADVISORY_LOCK_KEY.into()],
                ))
                .await?;
            let leader: bool = match row {
                Some(row) => row.try_get("", "leader")?,
                None => false,
            };
            if !leader {
                return Ok(0);
            }
            let published = publish_rows(&txn, producer, topic).await;
            txn.commit().await?;
            published
        }
        // One process owns an SQLite file, and a long read transaction there would turn
        // into a write conflict: no lock and no transaction.
        _ => publish_rows(db, producer, topic).await,
    }
}

async fn publish_rows<C: ConnectionTrait>(
    conn: &C,
    producer: &FutureProducer,
    topic: &str,
) -> Result<usize, PlatformError> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::Topic.eq(topic))
        .order_by_asc(outbox::Column::Seq)
        .limit(BATCH)
        .all(conn)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Enqueue the whole batch, then await acknowledgements in order: the idempotent
    // producer keeps them ordered per partition.
    let mut pending = Vec::with_capacity(rows.len());
    for row in &rows {
        let span = info_span!(
            "publish",
            otel.name = %format!("{} publish", row.topic),
            otel.kind = "producer",
            messaging.system = "kafka",
            messaging.destination.name = %row.topic,
            messaging.message.id = %row.event_id,
            ce_type = %row.ce_type,
        );
        telemetry::set_parent(&span, row.traceparent.as_deref());
        let traceparent = span.in_scope(telemetry::current_traceparent);
        let ce_id = row.event_id.to_string();
        let ce_time = row
            .ce_time
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut hs = OwnedHeaders::new_with_capacity(8)
            .insert(Header {
                key: headers::ID,
                value: Some(&ce_id),
            })
            .insert(Header {
                key: headers::TYPE,
                value: Some(&row.ce_type),
            })
            .insert(Header {
                key: headers::SOURCE,
                value: Some(&row.ce_source),
            })
            .insert(Header {
                key: headers::TIME,
                value: Some(&ce_time),
            })
            .insert(Header {
                key: headers::SPECVERSION,
                value: Some("1.0"),
            })
            .insert(Header {
                key: headers::CONTENT_TYPE,
                value: Some(CONTENT_TYPE),
            });
        if let Some(tp) = &traceparent {
            hs = hs.insert(Header {
                key: headers::TRACEPARENT,
                value: Some(tp),
            });
        }
        if let Some(source) = &row.history {
            hs = hs.insert(Header {
                key: headers::HISTORY,
                value: Some(source),
            });
        }
        let record = FutureRecord::to(&row.topic)
            .key(&row.key)
            .payload(&row.payload)
            .headers(hs);
        match producer.send_result(record) {
            Ok(delivery) => pending.push((row, delivery, span)),
            Err((e, _)) => {
                tracing::warn!(error = %e, "producer queue refused a record");
                break;
            }
        }
    }
    let mut sent = Vec::with_capacity(pending.len());
    let mut failure = None;
    for (row, delivery, span) in pending {
        let outcome = delivery.instrument(span.clone()).await;
        match outcome {
            Ok(Ok(_)) => {
                metrics::outbox_published(&row.topic, Utc::now() - row.ce_time);
                sent.push(row.seq);
            }
            Ok(Err((e, _))) => {
                failure = Some(PlatformError::Kafka(e));
                break;
            }
            Err(_) => {
                failure = Some(PlatformError::Config("producer dropped a delivery".into()));
                break;
            }
        }
    }
    if !sent.is_empty() {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::SentAt, Expr::value(Utc::now()))
            .filter(outbox::Column::Seq.is_in(sent.clone()))
            .exec(conn)
            .await?;
    }
    match failure {
        Some(e) if sent.is_empty() => Err(e),
        Some(e) => {
            tracing::warn!(error = %e, published = sent.len(), "outbox batch published in part");
            Ok(sent.len())
        }
        None => Ok(sent.len()),
    }
}
