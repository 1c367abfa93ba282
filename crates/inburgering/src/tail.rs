//! `inburgering events tail <topic>`: each event's key, CloudEvents headers and decoded
//! protobuf payload, one JSON object per line. Kafka's own tools and Debian's kcat are too
//! old for the dev broker; this one reads any of our topics, also on Apache Kafka.

use std::time::Duration;

use anyhow::Context as _;
use prost_reflect::{DescriptorPool, DynamicMessage};
use rdkafka::{
    ClientConfig,
    consumer::{Consumer, StreamConsumer},
    message::{Headers, Message},
};
use serde_json::{Map, Value, json};

/// Options of `events tail`.
#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// The topic, e.g. `trajectories.events.v1` or `trajectories.events.v1.dlq`.
    topic: String,
    #[command(flatten)]
    kafka: crate::options::Brokers,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<usize>,
    /// Stop when no event arrived for this many seconds (default: follow forever).
    #[arg(long)]
    idle_secs: Option<u64>,
}

pub async fn run(args: TailArgs) -> anyhow::Result<()> {
    let pool = DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).context("descriptor set")?;
    // A throwaway group that commits nothing: tailing never moves a service's offsets.
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.kafka.brokers)
        .set(
            "group.id",
            format!("inburgering-tail-{}", uuid::Uuid::now_v7()),
        )
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("log_level", "3")
        .create()
        .context("creating the Kafka consumer")?;
    consumer.subscribe(&[&args.topic])?;
    let mut seen = 0;
    loop {
        if args.count.is_some_and(|n| seen >= n) {
            return Ok(());
        }
        let message = match args.idle_secs {
            Some(secs) => {
                match tokio::time::timeout(Duration::from_secs(secs), consumer.recv()).await {
                    Ok(m) => m,
                    Err(_) => return Ok(()),
                }
            }
            None => consumer.recv().await,
        };
        let message = message.context("reading from the broker")?;
        println!("{}", describe(&pool, &message));
        seen += 1;
    }
}

fn describe<M: Message>(pool: &DescriptorPool, message: &M) -> Value {
    let mut headers = Map::new();
    let mut ce_type = None;
    if let Some(hs) = message.headers() {
        for h in hs.iter() {
            let value = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
            if h.key == "ce_type" {
                ce_type = value.clone();
            }
            headers.insert(
                h.key.to_owned(),
                value.map(Value::String).unwrap_or(Value::Null),
            );
        }
    }
    let payload = message.payload().unwrap_or_default();
    let decoded = match ce_type.as_deref().and_then(|t| pool.get_message_by_name(t)) {
        Some(descriptor) => match DynamicMessage::decode(descriptor, payload) {
            Ok(m) => serde_json::to_value(&m).unwrap_or(Value::Null),
            Err(e) => json!({"undecodable": e.to_string()}),
        },
        None => json!({"unknown_type": ce_type, "bytes": payload.len()}),
    };
    json!({
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        "headers": headers,
        "payload": decoded,
    })
}
