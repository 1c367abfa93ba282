//! Direct broker access for tests: read what services published, inject what a faulty
//! network or producer would deliver.

use std::time::Duration;

use rdkafka::{
    ClientConfig, Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer, StreamConsumer},
    message::{Header, Headers, Message, OwnedHeaders, OwnedMessage},
    producer::{FutureProducer, FutureRecord},
};

/// Reads `topic` from the start until `expected` messages arrived or `patience` ran out.
pub async fn read(
    brokers: &str,
    topic: &str,
    expected: usize,
    patience: Duration,
) -> Vec<OwnedMessage> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("test-reader-{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("test consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut messages = Vec::new();
    let deadline = tokio::time::Instant::now() + patience;
    while messages.len() < expected {
        match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Ok(Ok(m)) => messages.push(m.detach()),
            Ok(Err(e)) => panic!("reading {topic}: {e}"),
            Err(_) => break,
        }
    }
    messages
}

/// A header's value as text (the platform's reader, for an owned message).
pub fn header(message: &OwnedMessage, key: &str) -> Option<String> {
    platform::events::header(message, key)
}

/// Publishes a message exactly as given (a redelivery, or a poison message).
pub async fn produce(
    brokers: &str,
    topic: &str,
    key: &str,
    headers: &[(&str, &str)],
    payload: &[u8],
) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("test producer");
    let mut hs = OwnedHeaders::new();
    for (k, v) in headers {
        hs = hs.insert(Header {
            key: k,
            value: Some(*v),
        });
    }
    producer
        .send(
            FutureRecord::to(topic)
                .key(key)
                .payload(payload)
                .headers(hs),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("produce to the test broker");
}

/// Publishes `message` again, unchanged: what an at-least-once network does.
pub async fn redeliver(brokers: &str, message: &OwnedMessage) {
    let headers: Vec<(String, String)> = message
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    (
                        h.key.to_owned(),
                        String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
    produce(
        brokers,
        message.topic(),
        &key,
        &borrowed,
        message.payload().unwrap_or_default(),
    )
    .await;
}

fn group_consumer(brokers: &str, group: &str) -> rdkafka::consumer::BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("group consumer")
}

/// The offset `group` committed on one partition, if any.
pub fn committed(brokers: &str, group: &str, topic: &str, partition: i32) -> Option<i64> {
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition(topic, partition);
    let offsets = group_consumer(brokers, group)
        .committed_offsets(wanted, Duration::from_secs(10))
        .ok()?;
    match offsets.find_partition(topic, partition)?.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

/// Commits `offset` for `group` on one partition, as if the group's consumer had never
/// committed past it: what a crash between a consumer's effect and its offset commit
/// leaves behind. The group must have no running member.
pub fn rewind(
    brokers: &str,
    group: &str,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<(), rdkafka::error::KafkaError> {
    let mut position = TopicPartitionList::new();
    position
        .add_partition_offset(topic, partition, Offset::Offset(offset))
        .expect("a valid offset");
    group_consumer(brokers, group).commit(&position, CommitMode::Sync)
}

/// Everything on `topic` up to its end as of the call (not "until it looks quiet": an
/// exact count of what was published).
pub async fn read_all(brokers: &str, topic: &str) -> Vec<OwnedMessage> {
    let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        platform::events::read_to_end(&brokers, &topic, Duration::from_secs(20), |_| true)
            .unwrap_or_else(|e| panic!("reading {topic}: {e}"))
    })
    .await
    .expect("the reader thread")
}

/// The messages of type `M` on `topic` so far, decoded.
pub async fn decoded<M: prost::Message + prost::Name + Default>(
    brokers: &str,
    topic: &str,
) -> Vec<(OwnedMessage, M)> {
    let ce_type = M::full_name();
    read_all(brokers, topic)
        .await
        .into_iter()
        .filter(|m| header(m, "ce_type").as_deref() == Some(ce_type.as_str()))
        .map(|m| {
            let value = M::decode(m.payload().unwrap_or_default())
                .unwrap_or_else(|e| panic!("a {ce_type} that does not decode: {e}"));
            (m, value)
        })
        .collect()
}

/// The first message of type `M` on `topic`, waiting up to `patience` for it.
pub async fn first<M: prost::Message + prost::Name + Default>(
    brokers: &str,
    topic: &str,
    patience: Duration,
) -> (OwnedMessage, M) {
    crate::eventually(
        &format!("a {} on {topic}", M::full_name()),
        patience,
        || async { decoded::<M>(brokers, topic).await.into_iter().next() },
    )
    .await
}
