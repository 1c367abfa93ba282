//! Protobuf event decoding in every consumer: the decoding and checking half of each
//! `Handler` a service runs (see `inburgering_fuzz::CONSUMERS`), i.e. `Envelope::decode`
//! of the payload by `ce_type` and every check up to, not including, the database write:
//! - ceremonies `projection::{attest_row, register_rows}`,
//! - interpreting `projection::{register_rows, span}`,
//! - municipalities `projection::{resident_event, own_fact}`,
//! - recruitment `projection::{register_rows, conversion_step}`,
//! - testing `projection::change`,
//! - trajectories `results::passed`, `brussels::{newcomer, decide}`,
//!   `municipalities::municipality_event`;
//!
//! and the platform's reading of a Kafka message into an `Envelope`
//! (`platform::events::Envelope::from_message`: CloudEvents headers, key, payload).
//!
//! Input: byte 0 picks the consumer (`% 13`; 12 means the Kafka-message path), byte 1 the
//! `ce_type` (one the consumer reads, or another), the rest is the Kafka value. On the
//! Kafka-message path the rest is read with `arbitrary` as headers, key and payload, and
//! the envelope it yields is run through every consumer.
//!
//! Asserts: nothing panics; a consumer returns a decoded event, "not mine", or a clean
//! `HandlerError`; each consumer's own invariants on what it decoded (codes of five digits,
//! one day per span, the register's rows non-empty, …).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use inburgering_fuzz::{CONSUMERS, envelope, run_consumer};
use libfuzzer_sys::fuzz_target;
use platform::events::{Envelope, headers};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};

/// A Kafka message's parts, for `Envelope::from_message`.
#[derive(Debug, Arbitrary)]
struct Message<'a> {
    headers: Vec<(u8, Option<&'a [u8]>)>,
    key: Option<&'a [u8]>,
    payload: Option<&'a [u8]>,
}

const HEADER_KEYS: [&str; 8] = [
    headers::ID,
    headers::TYPE,
    headers::SOURCE,
    headers::TIME,
    headers::SPECVERSION,
    headers::CONTENT_TYPE,
    headers::TRACEPARENT,
    "x-other",
];

fn kafka_path(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(m) = Message::arbitrary(&mut u) else {
        return;
    };
    let mut hs = OwnedHeaders::new();
    for (k, v) in &m.headers {
        hs = hs.insert(Header {
            key: HEADER_KEYS[usize::from(*k) % HEADER_KEYS.len()],
            value: *v,
        });
    }
    let message = OwnedMessage::new(
        m.payload.map(<[u8]>::to_vec),
        m.key.map(<[u8]>::to_vec),
        "trajectories.events.v1".into(),
        Timestamp::NotAvailable,
        0,
        0,
        Some(hs),
    );
    match Envelope::from_message(&message) {
        Ok(e) => {
            assert_eq!(e.payload.as_slice(), m.payload.unwrap_or_default());
            for i in 0..CONSUMERS.len() {
                run_consumer(i, &e);
            }
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, kind, payload @ ..] = data else {
        return;
    };
    let index = usize::from(*pick) % (CONSUMERS.len() + 1);
    if index == CONSUMERS.len() {
        return kafka_path(&data[1..]);
    }
    let types = CONSUMERS[index].types;
    let ce_type = types
        .get(usize::from(*kind) % (types.len() + 1))
        .copied()
        .unwrap_or("inburgering.other.v1.Unknown");
    run_consumer(index, &envelope(ce_type, payload));
});
