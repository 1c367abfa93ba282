//! Events: the transactional outbox, its relay to Kafka, and the idempotent inbox consumer.
//!
//! A service stages an event with [`Outbox::stage`] inside the transaction that changes
//! its state; the [`relay`] publishes committed rows with an idempotent producer and marks
//! them sent. A consumer applies each event through [`consumer::run`], which records the
//! event id in the inbox in the same transaction as the effect, so a redelivered event
//! applies once, and sends what keeps failing to `<topic>.dlq`. Topic, key and the
//! CloudEvents headers are set here and nowhere else; services never call rdkafka.
//!
//! An event staged through [`Outbox::as_history`] states a fact imported with its own
//! dates (the caseload import): it carries the `ce_history` header, and a consumer asks
//! [`Envelope::is_history`] before it derives any follow-up from it.

pub mod consumer;
pub mod relay;
pub mod store;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    message::{Headers, Message},
    types::RDKafkaErrorCode,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::PlatformError;

/// CloudEvents Kafka-binding header names (binary content mode).
pub mod headers {
    pub const ID: &str = "ce_id";
    pub const TYPE: &str = "ce_type";
    pub const SOURCE: &str = "ce_source";
    pub const TIME: &str = "ce_time";
    pub const SPECVERSION: &str = "ce_specversion";
    pub const CONTENT_TYPE: &str = "content-type";
    pub const TRACEPARENT: &str = "traceparent";
    /// A CloudEvents extension attribute: the event states a fact imported with its own
    /// dates, and its value is the import's source label. Consumers project such an
    /// event but derive no follow-up from it (see [`super::Envelope::is_history`]).
    pub const HISTORY: &str = "ce_history";
    /// Why a message was dead-lettered.
    pub const DLQ_ERROR: &str = "dlq_error";
    /// How often it was tried.
    pub const DLQ_ATTEMPTS: &str = "dlq_attempts";
    /// Which consumer group gave up on it.
    pub const DLQ_CONSUMER: &str = "dlq_consumer";
}

/// The content type of every payload: protobuf from `proto/`.
pub const CONTENT_TYPE: &str = "application/protobuf";

/// The dead-letter topic of `topic`.
pub fn dlq_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// A header's value as text, e.g. `header(&message, headers::ID)`.
pub fn header<M: Message>(message: &M, key: &str) -> Option<String> {
    message.headers().and_then(|hs| {
        hs.iter()
            .find(|h| h.key == key)
            .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).into_owned()))
    })
}

/// A published event as a consumer sees it.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: Uuid,
    /// The protobuf message's full name, e.g. `inburgering.trajectories.v1.ContractSigned`.
    pub ce_type: String,
    pub source: String,
    pub time: DateTime<Utc>,
    pub topic: String,
    /// The aggregate id; never personal data.
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub traceparent: Option<String>,
    /// The import's source label when the event states an imported fact (`ce_history`).
    pub history: Option<String>,
}

impl Envelope {
    /// Whether the event states a fact imported with its own dates: project it, but
    /// derive no breach, letter, invitation or other follow-up from it.
    pub fn is_history(&self) -> bool {
        self.history.is_some()
    }

    /// Decodes the payload as `M` when the event is of that type; `Ok(None)` when it is
    /// another type.
    pub fn decode<M: prost::Message + prost::Name + Default>(
        &self,
    ) -> Result<Option<M>, consumer::HandlerError> {
        if self.ce_type != M::full_name() {
            return Ok(None);
        }
        M::decode(self.payload.as_slice()).map(Some).map_err(|e| {
            consumer::HandlerError::permanent(format!(
                "payload is not a valid {}: {e}",
                self.ce_type
            ))
        })
    }

    /// Reads the envelope from a Kafka message's CloudEvents headers.
    pub fn from_message<M: Message>(message: &M) -> Result<Self, String> {
        let mut id = None;
        let mut ce_type = None;
        let mut source = None;
        let mut time = None;
        let mut traceparent = None;
        let mut history = None;
        if let Some(hs) = message.headers() {
            for h in hs.iter() {
                let Some(value) = h.value.and_then(|v| std::str::from_utf8(v).ok()) else {
                    continue;
                };
                match h.key {
                    headers::ID => id = Some(value.to_owned()),
                    headers::TYPE => ce_type = Some(value.to_owned()),
                    headers::SOURCE => source = Some(value.to_owned()),
                    headers::TIME => time = Some(value.to_owned()),
                    headers::TRACEPARENT => traceparent = Some(value.to_owned()),
                    headers::HISTORY => history = Some(value.to_owned()),
                    _ => {}
                }
            }
        }
        let id = id.ok_or("missing ce_id header")?;
        let id = Uuid::parse_str(&id).map_err(|e| format!("ce_id is not a UUID: {e}"))?;
        let time = time
            .map(|t| DateTime::parse_from_rfc3339(&t).map(|t| t.with_timezone(&Utc)))
            .transpose()
            .map_err(|e| format!("ce_time is not RFC 3339: {e}"))?
            .unwrap_or_else(Utc::now);
        Ok(Envelope {
            id,
            ce_type: ce_type.ok_or("missing ce_type header")?,
            source: source.unwrap_or_default(),
            time,
            topic: message.topic().to_owned(),
            key: message
                .key()
                .and_then(|k| std::str::from_utf8(k).ok())
                .map(str::to_owned),
            payload: message.payload().unwrap_or_default().to_vec(),
            traceparent,
            history,
        })
    }
}

/// Stages a service's events in its outbox table. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbox {
    topic: Arc<str>,
    source: Arc<str>,
    /// The source label its rows carry as history; `None` for events that happen now.
    history: Option<Arc<str>>,
    committed: Arc<Notify>,
}

/// One event of any type, ready for [`Outbox::stage_all`].
#[derive(Clone, Debug)]
pub struct Staged {
    key: String,
    ce_type: String,
    payload: Vec<u8>,
}

impl Staged {
    /// `event` keyed by the aggregate id `key` (never personal data).
    pub fn new<M: prost::Message + prost::Name>(key: impl Into<String>, event: &M) -> Self {
        Self {
            key: key.into(),
            ce_type: M::full_name(),
            payload: event.encode_to_vec(),
        }
    }
}

/// Rows per insert statement in [`Outbox::stage_all`]: nine bound values a row stays far
/// below PostgreSQL's 65,535 bind parameters and SQLite's 32,766.
const STAGE_CHUNK: usize = 500;

impl Outbox {
    /// The outbox of the service that publishes on `topic`; `service` names the
    /// CloudEvents source (`/inburgering/<service>`).
    pub fn new(service: &str, topic: &str) -> Self {
        Self {
            topic: topic.into(),
            source: format!("/inburgering/{service}").into(),
            history: None,
            committed: Arc::new(Notify::new()),
        }
    }

    /// The same outbox (topic, relay wakeups) whose rows state facts imported with their
    /// own dates: each carries `source` (the import's label, e.g.
    /// `caseload:atlas-2026.jsonl`; never personal data) in the `ce_history` header.
    pub fn as_history(&self, source: &str) -> Outbox {
        Self {
            history: Some(source.into()),
            ..self.clone()
        }
    }

    /// The topic this outbox publishes on.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Writes `event` as an outbox row in the caller's transaction `txn`, keyed by the
    /// aggregate id `key`. The current trace context travels with it.
    pub async fn stage<C, M>(&self, txn: &C, key: &str, event: &M) -> Result<Uuid, DbErr>
    where
        C: ConnectionTrait,
        M: prost::Message + prost::Name,
    {
        let event_id = Uuid::now_v7();
        let row = self.row(
            event_id,
            Staged::new(key, event),
            Utc::now(),
            crate::telemetry::current_traceparent(),
        );
        store::outbox::Entity::insert(row).exec(txn).await?;
        Ok(event_id)
    }

    /// Stages many events of one type in as few statements as the database allows; for
    /// batches (letters), where one insert per event would dominate.
    pub async fn stage_many<C, M>(&self, txn: &C, events: &[(String, M)]) -> Result<(), DbErr>
    where
        C: ConnectionTrait,
        M: prost::Message + prost::Name,
    {
        let rows = events
            .iter()
            .map(|(key, event)| Staged::new(key.as_str(), event))
            .collect();
        self.stage_all(txn, rows).await
    }

    /// Stages events of any types in the caller's transaction, in the given order (the
    /// relay publishes them in it), in as few statements as the database allows; for
    /// bulk imports. The current trace context travels with each.
    pub async fn stage_all<C: ConnectionTrait>(
        &self,
        txn: &C,
        rows: Vec<Staged>,
    ) -> Result<(), DbErr> {
        let traceparent = crate::telemetry::current_traceparent();
        let now = Utc::now();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows
                .by_ref()
                .take(STAGE_CHUNK)
                .map(|staged| self.row(Uuid::now_v7(), staged, now, traceparent.clone()))
                .collect();
            store::outbox::Entity::insert_many(chunk)
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }

    fn row(
        &self,
        event_id: Uuid,
        staged: Staged,
        at: DateTime<Utc>,
        traceparent: Option<String>,
    ) -> store::outbox::ActiveModel {
        store::outbox::ActiveModel {
            event_id: Set(event_id),
            topic: Set(self.topic.to_string()),
            key: Set(staged.key),
            ce_type: Set(staged.ce_type),
            ce_source: Set(self.source.to_string()),
            ce_time: Set(at),
            payload: Set(staged.payload),
            traceparent: Set(traceparent),
            history: Set(self.history.as_deref().map(str::to_owned)),
            ..Default::default()
        }
    }

    /// Wakes the relay; call after the transaction that staged events committed.
    pub fn committed(&self) {
        self.committed.notify_one();
    }

    pub(crate) fn wakeups(&self) -> Arc<Notify> {
        self.committed.clone()
    }
}

/// The base rdkafka client configuration for `brokers`.
pub fn client_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        // librdkafka leaves Nagle's algorithm on by default: a small request written
        // while an earlier segment waits for its ACK is held back, up to the peer's
        // delayed-ACK time. Produce and fetch requests are small; send them at once.
        .set("socket.nagle.disable", "true")
        .set("socket.keepalive.enable", "true")
        .set("reconnect.backoff.max.ms", "2000")
        .set("log_level", "4");
    config
}

/// Creates `topics` and their dead-letter topics if they do not exist. It asks the broker
/// which exist first and creates only the others: a create of an existing topic is an
/// ERROR line in the broker's log (tansu logs one per topic at every start), which would
/// teach operators to ignore errors. In production the chart's topic definitions create
/// them first; a `TopicAlreadyExists` from a race with another replica is still expected.
pub async fn ensure_topics(brokers: &str, topics: &[&str]) -> Result<(), PlatformError> {
    let wanted: Vec<String> = topics
        .iter()
        .flat_map(|t| [t.to_string(), dlq_topic(t)])
        .collect();
    let existing = existing_topics(brokers).await?;
    let names: Vec<String> = wanted
        .into_iter()
        .filter(|t| !existing.contains(t))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> = client_config(brokers).create()?;
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| NewTopic::new(name, 1, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&new, &options).await? {
        match result {
            Ok(topic) => tracing::info!(topic, "topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(PlatformError::Kafka(rdkafka::error::KafkaError::AdminOp(
                    code,
                )))
                .inspect_err(|_| tracing::error!(topic, ?code, "topic creation failed"));
            }
        }
    }
    Ok(())
}

/// The names of the topics the broker holds (metadata for all topics, which never
/// auto-creates one).
async fn existing_topics(brokers: &str) -> Result<Vec<String>, PlatformError> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = client_config(brokers).create()?;
    let names = tokio::task::spawn_blocking(move || {
        consumer
            .fetch_metadata(None, Duration::from_secs(10))
            .map(|m| m.topics().iter().map(|t| t.name().to_owned()).collect())
    })
    .await
    .map_err(|e| PlatformError::Config(format!("reading topic metadata: {e}")))??;
    Ok(names)
}

/// Reads `topic` from its start up to its end as of the call, and returns the messages
/// `keep` accepts. For tools and tests: it joins no group, commits nothing, and always
/// finishes (or fails when the broker goes quiet for `patience`). Blocking: call it from a
/// blocking context (`spawn_blocking`) inside a runtime.
pub fn read_to_end(
    brokers: &str,
    topic: &str,
    patience: Duration,
    mut keep: impl FnMut(&rdkafka::message::BorrowedMessage<'_>) -> bool,
) -> Result<Vec<rdkafka::message::OwnedMessage>, PlatformError> {
    use std::collections::HashMap;

    use rdkafka::{
        Message as _, Offset, TopicPartitionList,
        consumer::{BaseConsumer, Consumer},
    };
    let consumer: BaseConsumer = client_config(brokers)
        .set(
            "group.id",
            format!("inburgering-reader-{}", uuid::Uuid::now_v7()),
        )
        .set("enable.auto.commit", "false")
        // Records removed by retention after the watermarks were read: start at the next.
        .set("auto.offset.reset", "earliest")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), patience)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    if partitions.is_empty() {
        return Err(PlatformError::Config(format!(
            "{topic} does not exist or has no partitions"
        )));
    }
    let mut assignment = TopicPartitionList::new();
    // The last offset still to read, per partition.
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    for partition in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, patience)?;
        if high > low {
            assignment.add_partition_offset(topic, partition, Offset::Offset(low))?;
            remaining.insert(partition, high - 1);
        }
    }
    let mut kept = Vec::new();
    if remaining.is_empty() {
        return Ok(kept);
    }
    consumer.assign(&assignment)?;
    while !remaining.is_empty() {
        match consumer.poll(patience) {
            Some(Ok(message)) => {
                if remaining
                    .get(&message.partition())
                    .is_some_and(|last| message.offset() >= *last)
                {
                    remaining.remove(&message.partition());
                }
                if keep(&message) {
                    kept.push(message.detach());
                }
            }
            Some(Err(e)) => return Err(e.into()),
            None => {
                return Err(PlatformError::Config(format!(
                    "{topic} went quiet before its end; is the broker reachable?"
                )));
            }
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};
    use sea_orm::{DatabaseConnection, QueryOrder};
    use sea_orm_migration::{MigrationTrait, MigratorTrait};

    use super::*;

    struct PlatformTables;

    impl MigratorTrait for PlatformTables {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            crate::db::migrations(std::iter::empty())
        }
    }

    /// An in-memory SQLite database on one connection (a second would see another).
    async fn sqlite() -> DatabaseConnection {
        let url = secrecy::SecretString::from("sqlite::memory:");
        crate::db::connect_and_migrate::<PlatformTables>(&url, 1)
            .await
            .expect("in-memory SQLite")
    }

    async fn rows(db: &DatabaseConnection) -> Vec<store::outbox::Model> {
        store::outbox::Entity::find()
            .order_by_asc(store::outbox::Column::Seq)
            .all(db)
            .await
            .expect("outbox rows")
    }

    fn at(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    #[tokio::test]
    async fn history_rows_carry_the_import_label_and_plain_rows_carry_none() {
        let db = sqlite().await;
        let outbox = Outbox::new("trajectories", "trajectories.events.v1");
        let history = outbox.as_history("caseload:atlas-2026.jsonl");
        assert_eq!(history.topic(), outbox.topic());
        assert!(
            Arc::ptr_eq(&history.wakeups(), &outbox.wakeups()),
            "a commit through either wakes the one relay"
        );
        outbox.stage(&db, "plain", &at(1)).await.unwrap();
        history.stage(&db, "imported", &at(2)).await.unwrap();
        history
            .stage_many(&db, &[("imported-many".to_owned(), at(3))])
            .await
            .unwrap();
        history
            .stage_all(&db, vec![Staged::new("imported-all", &at(4))])
            .await
            .unwrap();
        outbox
            .stage_all(&db, vec![Staged::new("plain-all", &at(5))])
            .await
            .unwrap();
        let labels: Vec<(String, Option<String>)> = rows(&db)
            .await
            .into_iter()
            .map(|r| (r.key, r.history))
            .collect();
        let label = Some("caseload:atlas-2026.jsonl".to_owned());
        assert_eq!(
            labels,
            [
                ("plain".to_owned(), None),
                ("imported".to_owned(), label.clone()),
                ("imported-many".to_owned(), label.clone()),
                ("imported-all".to_owned(), label),
                ("plain-all".to_owned(), None),
            ]
        );
    }

    /// 4,000 rows of nine bound values each would be 36,000 parameters in one statement,
    /// more than SQLite's 32,766: they go in chunks, and keep their order across them.
    #[tokio::test]
    async fn stage_all_keeps_the_given_order_across_chunks_of_mixed_types() {
        let db = sqlite().await;
        let outbox = Outbox::new("trajectories", "trajectories.events.v1").as_history("import");
        let staged: Vec<Staged> = (0..4_000)
            .map(|i| {
                let key = format!("k{i:04}");
                if i % 2 == 0 {
                    Staged::new(key, &at(i))
                } else {
                    Staged::new(
                        key,
                        &prost_types::Duration {
                            seconds: i,
                            nanos: 0,
                        },
                    )
                }
            })
            .collect();
        outbox.stage_all(&db, staged).await.unwrap();
        let rows = rows(&db).await;
        assert_eq!(rows.len(), 4_000);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.key, format!("k{i:04}"), "row {i} in the given order");
            let expected = if i % 2 == 0 {
                "google.protobuf.Timestamp"
            } else {
                "google.protobuf.Duration"
            };
            assert_eq!(row.ce_type, expected);
            assert_eq!(row.history.as_deref(), Some("import"));
            assert_eq!(row.ce_source, "/inburgering/trajectories");
        }
        assert!(
            rows.windows(2).all(|w| w[0].event_id < w[1].event_id),
            "event ids are v7 and increase with the order"
        );
        use prost::Message as _;
        let last = prost_types::Duration::decode(rows[3_999].payload.as_slice()).unwrap();
        assert_eq!(last.seconds, 3_999);
    }

    #[tokio::test]
    async fn stage_all_of_nothing_writes_nothing() {
        let db = sqlite().await;
        let outbox = Outbox::new("trajectories", "trajectories.events.v1");
        outbox.stage_all(&db, Vec::new()).await.unwrap();
        assert!(rows(&db).await.is_empty());
    }

    fn message(extra: &[(&str, &str)]) -> OwnedMessage {
        let id = Uuid::now_v7().to_string();
        let mut hs = OwnedHeaders::new();
        for (key, value) in [(headers::ID, id.as_str()), (headers::TYPE, "t")]
            .iter()
            .chain(extra)
        {
            hs = hs.insert(Header {
                key,
                value: Some(*value),
            });
        }
        OwnedMessage::new(
            Some(Vec::new()),
            Some(b"k".to_vec()),
            "topic".into(),
            Timestamp::NotAvailable,
            0,
            0,
            Some(hs),
        )
    }

    #[test]
    fn an_envelope_is_history_exactly_when_the_header_is_there() {
        let plain = Envelope::from_message(&message(&[])).unwrap();
        assert!(!plain.is_history());
        assert_eq!(plain.history, None);
        let imported =
            Envelope::from_message(&message(&[(headers::HISTORY, "caseload:bon.jsonl")])).unwrap();
        assert!(imported.is_history());
        assert_eq!(imported.history.as_deref(), Some("caseload:bon.jsonl"));
    }
}
