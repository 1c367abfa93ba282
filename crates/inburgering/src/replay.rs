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
use platform::events::{header, headers, relay};
use rdkafka::{
    message::{Header, Headers, Message, OwnedHeaders, OwnedMessage},
    producer::FutureRecord,
};
use serde_json::json;

use crate::options::usage;

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
    #[command(flatten)]
    kafka: crate::options::Brokers,
}

const TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let Some(original) = args.topic.strip_suffix(".dlq") else {
        return Err(usage(format!(
            "{} is not a dead-letter topic (its name ends in .dlq)",
            args.topic
        )));
    };
    if args.ids.is_empty() && args.consumer.is_none() {
        return Err(usage(
            "say what to replay: --id <ce_id> (repeatable) or --consumer <group>",
        ));
    }
    let wanted: HashSet<&str> = args.ids.iter().map(String::as_str).collect();
    let brokers = args.kafka.brokers.clone();
    let topic = args.topic.clone();
    let consumer = args.consumer.clone();
    let ids: HashSet<String> = wanted.iter().map(|id| (*id).to_owned()).collect();
    let dead = tokio::task::spawn_blocking(move || {
        platform::events::read_to_end(&brokers, &topic, TIMEOUT, |m| {
            header(m, headers::ID).is_some_and(|id| ids.contains(&id))
                || consumer
                    .as_deref()
                    .is_some_and(|c| header(m, headers::DLQ_CONSUMER).as_deref() == Some(c))
        })
    })
    .await??;
    // An event dead-lettered again after an earlier replay is there twice: replay it once,
    // the newest copy (its error is the current one).
    let mut newest: Vec<OwnedMessage> = Vec::new();
    for message in dead {
        let id = header(&message, headers::ID);
        newest.retain(|m| id.is_none() || header(m, headers::ID) != id);
        newest.push(message);
    }
    let chosen = newest;
    let producer = relay::producer(&args.kafka.brokers)?;
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
        "{} dead-lettered events {} to {original}",
        chosen.len(),
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
