//! Events across the real broker: CloudEvents headers, keys, outage, redelivery, DLQ,
//! and one trace from the gRPC call to the consumer.

use std::time::Duration;

use inburgering_testkit::{
    TestApp, authed, capture, eventually, kafka, register_start_sign, spawn_app,
};
use opentelemetry::trace::TraceId;
use proto::testing::v1 as tpb;

const TOPIC: &str = "trajectories.events.v1";
const PATIENCE: Duration = Duration::from_secs(30);

async fn candidate(app: &TestApp, person_id: &str) -> Option<tpb::Candidate> {
    app.testing()
        .await
        .get_candidate(authed(
            tpb::GetCandidateRequest {
                person_id: person_id.into(),
            },
            &app.token("atlas", &["test-admin"]),
        ))
        .await
        .ok()
        .and_then(|r| r.into_inner().candidate)
}

async fn signed_candidate(app: &TestApp, person_id: &str) -> tpb::Candidate {
    eventually("the contract to reach testing", PATIENCE, || async {
        candidate(app, person_id).await.filter(|c| c.may_book_nt2)
    })
    .await
}

#[tokio::test]
async fn events_carry_cloudevents_headers_and_aggregate_keys() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let messages = kafka::read(&app.broker.address(), TOPIC, 3, PATIENCE).await;
    assert_eq!(messages.len(), 3);
    let types: Vec<String> = messages
        .iter()
        .map(|m| kafka::header(m, "ce_type").unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "inburgering.trajectories.v1.PersonRegistered",
            "inburgering.trajectories.v1.TrajectoryStarted",
            "inburgering.trajectories.v1.ContractSigned",
        ]
    );
    use rdkafka::Message;
    let keys: Vec<String> = messages
        .iter()
        .map(|m| String::from_utf8_lossy(m.key().unwrap()).into_owned())
        .collect();
    assert_eq!(
        keys,
        [
            signed.person_id.clone(),
            signed.trajectory_id.clone(),
            signed.trajectory_id.clone()
        ]
    );
    for m in &messages {
        assert_eq!(kafka::header(m, "ce_specversion").as_deref(), Some("1.0"));
        assert_eq!(
            kafka::header(m, "ce_source").as_deref(),
            Some("/inburgering/trajectories")
        );
        assert!(uuid::Uuid::parse_str(&kafka::header(m, "ce_id").unwrap()).is_ok());
        assert!(
            chrono::DateTime::parse_from_rfc3339(&kafka::header(m, "ce_time").unwrap()).is_ok()
        );
        assert!(kafka::header(m, "traceparent").unwrap().starts_with("00-"));
    }
    use prost::Message as _;
    let contract =
        proto::trajectories::v1::ContractSigned::decode(messages[2].payload().unwrap()).unwrap();
    assert_eq!(contract.fees_total.unwrap().cents, 18_000);
    assert_eq!(contract.person_id, signed.person_id);
}

#[tokio::test]
async fn commands_succeed_while_the_broker_is_down_and_their_events_arrive_once_after() {
    let mut app = spawn_app().await;
    // Warm up: the consumer has joined and applied a first person.
    let first = register_start_sign(&app, 700_101_001).await;
    signed_candidate(&app, &first.person_id).await;

    app.broker.kill().await;
    let during = register_start_sign(&app, 700_101_002).await;
    assert!(
        candidate(&app, &during.person_id).await.is_none(),
        "nothing can cross a dead broker"
    );
    app.broker.resume().await;

    let c = signed_candidate(&app, &during.person_id).await;
    assert_eq!(
        c.events_applied, 3,
        "PersonRegistered, TrajectoryStarted and ContractSigned, each applied once"
    );
    assert_eq!(c.trajectory_id, during.trajectory_id);
    // Give a late duplicate the chance to show up, then check again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        candidate(&app, &during.person_id)
            .await
            .unwrap()
            .events_applied,
        3
    );
}

#[tokio::test]
async fn the_same_event_delivered_twice_is_applied_once() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    assert_eq!(
        signed_candidate(&app, &signed.person_id)
            .await
            .events_applied,
        3
    );

    let messages = kafka::read(&app.broker.address(), TOPIC, 3, PATIENCE).await;
    kafka::redeliver(&app.broker.address(), &messages[2]).await;
    kafka::redeliver(&app.broker.address(), &messages[1]).await;
    eventually(
        "the duplicates to be seen and skipped",
        PATIENCE,
        || async {
            let metrics = platform::metrics::render();
            metrics
                .lines()
                .find(|l| {
                    l.starts_with("messaging_process_duration_seconds_count")
                        && l.contains("outcome=\"duplicate\"")
                })
                .filter(|l| l.ends_with(" 2"))
                .map(|_| ())
        },
    )
    .await;
    assert_eq!(
        candidate(&app, &signed.person_id)
            .await
            .unwrap()
            .events_applied,
        3
    );
}

#[tokio::test]
async fn an_event_that_cannot_be_applied_is_retried_then_dead_lettered_with_its_error() {
    let app = spawn_app().await;
    let brokers = app.broker.address();
    // A contract for a trajectory testing never saw start: transient, retried 3 times.
    let orphan = proto::trajectories::v1::ContractSigned {
        trajectory_id: uuid::Uuid::now_v7().to_string(),
        person_id: uuid::Uuid::now_v7().to_string(),
        agency: proto::common::v1::Agency::Atlas as i32,
        signed_on: Some(inburgering_testkit::date(2026, 1, 20)),
        ..Default::default()
    };
    use prost::Message as _;
    let headers = |id: &str| {
        vec![
            ("ce_id", id.to_owned()),
            (
                "ce_type",
                "inburgering.trajectories.v1.ContractSigned".to_owned(),
            ),
            ("ce_source", "/test".to_owned()),
            ("ce_specversion", "1.0".to_owned()),
        ]
    };
    let orphan_id = uuid::Uuid::now_v7().to_string();
    let h = headers(&orphan_id);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    kafka::produce(
        &brokers,
        TOPIC,
        &orphan.trajectory_id,
        &h,
        &orphan.encode_to_vec(),
    )
    .await;
    // A payload that is not protobuf at all: permanent, dead-lettered at once.
    let garbage_id = uuid::Uuid::now_v7().to_string();
    let h = headers(&garbage_id);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    kafka::produce(&brokers, TOPIC, "garbage", &h, b"\xff\xff\xff not protobuf").await;
    // And the consumer is not stuck behind them.
    let signed = register_start_sign(&app, 850_730_033).await;

    // Testing's candidates and municipalities' residents give up on both, each on its
    // own account; recruitment's conversion keeps a contract of anyone (it counts what
    // follows a letter) and gives up on the garbage only.
    let dead = kafka::read(&brokers, &format!("{TOPIC}.dlq"), 5, PATIENCE).await;
    assert_eq!(dead.len(), 5);
    let by_id = |id: &str, group: &str| {
        dead.iter()
            .find(|m| {
                kafka::header(m, "ce_id").as_deref() == Some(id)
                    && kafka::header(m, "dlq_consumer").as_deref() == Some(group)
            })
            .unwrap_or_else(|| panic!("{id} dead-lettered by {group}"))
    };
    let o = by_id(&orphan_id, "testing.candidates");
    assert_eq!(kafka::header(o, "dlq_attempts").as_deref(), Some("3"));
    assert!(
        kafka::header(o, "dlq_error")
            .unwrap()
            .contains("no candidate")
    );
    let o = by_id(&orphan_id, "municipalities.residents");
    assert_eq!(kafka::header(o, "dlq_attempts").as_deref(), Some("3"));
    assert!(
        kafka::header(o, "dlq_error")
            .unwrap()
            .contains("has not started here yet")
    );
    for group in [
        "testing.candidates",
        "municipalities.residents",
        "recruitment.conversion",
    ] {
        let g = by_id(&garbage_id, group);
        assert_eq!(kafka::header(g, "dlq_attempts").as_deref(), Some("1"));
        assert!(
            kafka::header(g, "dlq_error")
                .unwrap()
                .contains("not a valid")
        );
    }
    assert_eq!(
        signed_candidate(&app, &signed.person_id)
            .await
            .events_applied,
        3
    );
}

#[tokio::test]
async fn one_trace_runs_from_the_grpc_call_through_the_broker_to_the_consumer() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    signed_candidate(&app, &signed.person_id).await;
    let spans = capture::install().spans();
    let rpc = spans
        .iter()
        .find(|s| s.name == "inburgering.trajectories.v1.TrajectoryService/SignContract")
        .expect("the SignContract server span");
    let trace: TraceId = rpc.span_context.trace_id();
    let in_trace: Vec<&str> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .map(|s| s.name.as_ref())
        .collect();
    assert!(
        in_trace.contains(&"trajectories.events.v1 publish"),
        "{in_trace:?}"
    );
    assert!(
        in_trace.contains(&"trajectories.events.v1 process"),
        "{in_trace:?}"
    );
}

#[tokio::test]
async fn the_consumer_reports_its_lag_per_partition() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    signed_candidate(&app, &signed.person_id).await;
    // librdkafka's statistics arrive every 5 s and may still show the lag before the
    // consumer caught up (a busy machine): the gauge must reach 0.
    let gauge = || {
        platform::metrics::render()
            .lines()
            .find(|l| {
                l.starts_with("messaging_consumer_lag{")
                    && l.contains("messaging_consumer_group_name=\"testing.candidates\"")
                    && l.contains("messaging_destination_name=\"trajectories.events.v1\"")
            })
            .map(str::to_owned)
    };
    let caught_up = eventually("the consumer lag gauge at 0", PATIENCE, || async {
        gauge().filter(|l| l.ends_with(" 0"))
    })
    .await;
    assert!(
        caught_up.contains("messaging_destination_partition_id=\"0\""),
        "{caught_up}"
    );
}

/// Publishes `event` to `TOPIC` as the relay would, with CloudEvents headers; its `ce_id`.
async fn publish<M: prost::Message + prost::Name>(brokers: &str, key: &str, event: &M) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let ce_type = M::full_name();
    kafka::produce(
        brokers,
        TOPIC,
        key,
        &[
            ("ce_id", id.as_str()),
            ("ce_type", ce_type.as_str()),
            ("ce_source", "/test"),
            ("ce_specversion", "1.0"),
        ],
        &event.encode_to_vec(),
    )
    .await;
    id
}

#[tokio::test]
async fn a_dead_lettered_event_is_replayed_once_its_cause_is_fixed() {
    use proto::{common::v1::Agency, trajectories::v1 as pb};
    let app = spawn_app().await;
    let brokers = app.broker.address();
    let (trajectory_id, person_id) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    // The contract arrives where its start never did: retried, then dead-lettered.
    let contract_id = publish(
        &brokers,
        &trajectory_id,
        &pb::ContractSigned {
            trajectory_id: trajectory_id.clone(),
            person_id: person_id.clone(),
            agency: Agency::Atlas as i32,
            signed_on: Some(inburgering_testkit::date(2026, 1, 20)),
            ..Default::default()
        },
    )
    .await;
    let dead = kafka::read(&brokers, &format!("{TOPIC}.dlq"), 1, PATIENCE).await;
    assert_eq!(
        kafka::header(&dead[0], "ce_id").as_deref(),
        Some(contract_id.as_str())
    );

    // The cause is fixed: the start arrives (late).
    publish(
        &brokers,
        &trajectory_id,
        &pb::TrajectoryStarted {
            trajectory_id: trajectory_id.clone(),
            person_id: person_id.clone(),
            municipality_nis: "11002".into(),
            agency: Agency::Atlas as i32,
            status: pb::ObligationStatus::Obliged as i32,
            exemption_reason: 0,
            started_on: Some(inburgering_testkit::date(2026, 1, 15)),
        },
    )
    .await;
    eventually("the late start", PATIENCE, || candidate(&app, &person_id)).await;

    let cli = |args: &[&str]| {
        std::process::Command::new(inburgering_testkit::workspace_binary("inburgering"))
            .args(["events", "replay", &format!("{TOPIC}.dlq")])
            .args(args)
            .args(["--brokers", &brokers])
            .output()
            .expect("run inburgering")
    };
    let refused = cli(&[]);
    assert!(!refused.status.success(), "replaying needs a choice");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--id"));
    let dry = cli(&["--consumer", "testing.candidates", "--dry-run"]);
    assert!(dry.status.success(), "{dry:?}");
    assert!(String::from_utf8_lossy(&dry.stdout).contains(&contract_id));
    let replayed = cli(&["--id", &contract_id]);
    assert!(replayed.status.success(), "{replayed:?}");
    let line: serde_json::Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert_eq!(line["ce_id"], contract_id.as_str());
    // Both groups of the topic may have given up on it; it is replayed once, and each
    // group's inbox decides whether it still has to apply it.
    assert!(
        ["testing.candidates", "municipalities.residents"]
            .contains(&line["dlq_consumer"].as_str().unwrap_or_default()),
        "{line}"
    );

    // Applied by the group that gave up on it; the original topic got it byte for byte,
    // without the dlq_* headers.
    let signed = eventually("the replayed contract", PATIENCE, || async {
        candidate(&app, &person_id).await.filter(|c| c.may_book_nt2)
    })
    .await;
    assert_eq!(signed.events_applied, 2);
    let again: Vec<_> = kafka::read(&brokers, TOPIC, 3, PATIENCE)
        .await
        .into_iter()
        .filter(|m| kafka::header(m, "ce_id").as_deref() == Some(contract_id.as_str()))
        .collect();
    assert_eq!(again.len(), 2, "the original and the replay");
    use rdkafka::Message as _;
    assert_eq!(again[0].payload(), again[1].payload());
    assert_eq!(again[0].key(), again[1].key());
    assert_eq!(kafka::header(&again[1], "dlq_error"), None);
    assert_eq!(
        kafka::header(&again[1], "ce_type"),
        kafka::header(&again[0], "ce_type")
    );
    app.stop().await;
}
