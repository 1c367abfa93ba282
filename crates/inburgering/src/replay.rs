//! `inburgering events replay <topic>.dlq`: publishes chosen dead-lettered events to their
//! original topic again, byte for byte — key, protobuf payload, CloudEvents headers and
//! `traceparent` — without the `dlq_*` headers. The consumers are idempotent (each records
//! the `ce_id` in its inbox): the group that gave up applies the event, every other group
//! counts it as a duplicate. Run it after the cause is fixed, or the event fails again and
//! lands in the dead-letter topic once more.
//!
//! It reads the dead-letter topic up to its end as of the start, so it always finishes, and
//! it never commits offsets or removes anything from the dead-letter topic.

use std::{collections::HashSet, time::Duration};

use anyhow::{Context as _, bail};
use platform::events::{client_config, headers, relay};
use rdkafka::{
    Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    message::{Header, Headers, Message, OwnedHeaders, OwnedMessage},
    producer::FutureRecord,
};
use serde_json::json;

/// Options of `events replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The dead-letter topic, e.g. `trajectories.events.v1.dlq`.
    topic: String,
    /// Replay the event with this `ce_id`; repeat for several.
    #[arg(long = "id")]
    ids: Vec<String>,
    /// Replay every event this consumer group gave up on (`dlq_consumer`).
    #[arg(long)]
    consumer: Option<String>,
    /// Only print what would be replayed.
    #[arg(long)]
    dry_run: bool,
    /// Kafka bootstrap servers.
    #[arg(
        long,
        env = "INBURGERING_KAFKA_BROKERS",
        default_value = "127.0.0.1:9092"
    )]
    brokers: String,
}

const TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let Some(original) = args.topic.strip_suffix(".dlq") else {
        bail!(
            "{} is not a dead-letter topic (its name ends in .dlq)",
            args.topic
        );
    };
    if args.ids.is_empty() && args.consumer.is_none() {
        bail!("say what to replay: --id <ce_id> (repeatable) or --consumer <group>");
    }
    let wanted: HashSet<&str> = args.ids.iter().map(String::as_str).collect();
    let selected = |m: &OwnedMessage| {
        let id = header(m, headers::ID);
        let consumer = header(m, headers::DLQ_CONSUMER);
        id.as_deref().is_some_and(|id| wanted.contains(id))
            || args
                .consumer
                .as_deref()
                .is_some_and(|c| consumer.as_deref() == Some(c))
    };
    let dead = read_to_end(&args.brokers, &args.topic)?;
    let chosen: Vec<&OwnedMessage> = dead.iter().filter(|m| selected(m)).collect();
    let producer = relay::producer(&args.brokers)?;
    for message in &chosen {
        let line = json!({
            "ce_id": header(message, headers::ID),
            "ce_type": header(message, headers::TYPE),
            "dlq_consumer": header(message, headers::DLQ_CONSUMER),
            "dlq_error": header(message, headers::DLQ_ERROR),
            "from": format!("{}/{}/{}", message.topic(), message.partition(), message.offset()),
            "to": original,
            "replayed": !args.dry_run,
        });
        if !args.dry_run {
            let mut kept = OwnedHeaders::new();
            if let Some(hs) = message.headers() {
                for h in hs.iter().filter(|h| !h.key.starts_with("dlq_")) {
                    kept = kept.insert(Header {
                        key: h.key,
                        value: h.value,
                    });
                }
            }
            let mut record = FutureRecord::to(original).headers(kept);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(payload) = message.payload() {
                record = record.payload(payload);
            }
            producer
                .send(record, TIMEOUT)
                .await
                .map_err(|(e, _)| e)
                .with_context(|| format!("publishing {line} to {original}"))?;
        }
        println!("{line}");
    }
    eprintln!(
        "{} of {} dead-lettered events {} to {original}",
        chosen.len(),
        dead.len(),
        if args.dry_run {
            "would be replayed"
        } else {
            "replayed"
        }
    );
    let found: HashSet<String> = chosen
        .iter()
        .filter_map(|m| header(m, headers::ID))
        .collect();
    let missing: Vec<&&str> = wanted.iter().filter(|id| !found.contains(**id)).collect();
    if !missing.is_empty() {
        bail!("not in {}: {missing:?}", args.topic);
    }
    Ok(())
}

fn header(message: &OwnedMessage, key: &str) -> Option<String> {
    message.headers().and_then(|hs| {
        hs.iter()
            .find(|h| h.key == key)
            .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).into_owned()))
    })
}

/// Every message of `topic` from the start up to its end as of now.
fn read_to_end(brokers: &str, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
    let consumer: BaseConsumer = client_config(brokers)
        .set(
            "group.id",
            format!("inburgering-replay-{}", uuid::Uuid::now_v7()),
        )
        .set("enable.auto.commit", "false")
        .create()
        .context("creating the Kafka consumer")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .with_context(|| format!("reading the metadata of {topic}"))?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<i32>>())
        .unwrap_or_default();
    if partitions.is_empty() {
        bail!("{topic} does not exist or has no partitions");
    }
    let mut assignment = TopicPartitionList::new();
    let mut ends = Vec::new();
    for partition in partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, TIMEOUT)
            .with_context(|| format!("reading the offsets of {topic}/{partition}"))?;
        if high > low {
            assignment.add_partition_offset(topic, partition, Offset::Offset(low))?;
            ends.push((partition, high));
        }
    }
    let mut messages = Vec::new();
    if ends.is_empty() {
        return Ok(messages);
    }
    consumer.assign(&assignment)?;
    let done = |messages: &[OwnedMessage]| {
        ends.iter().all(|(partition, high)| {
            messages
                .iter()
                .any(|m| m.partition() == *partition && m.offset() + 1 >= *high)
        })
    };
    while !done(&messages) {
        match consumer.poll(TIMEOUT) {
            Some(Ok(m)) => messages.push(m.detach()),
            Some(Err(e)) => return Err(e).context(format!("reading {topic}")),
            None => bail!("{topic} went quiet before its end; is the broker reachable?"),
        }
    }
    Ok(messages)
}
