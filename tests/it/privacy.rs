//! Personal data never leaves the trajectories database: not in logs, span attributes or
//! Kafka keys.

use std::time::Duration;

use inburgering_testkit::{capture, kafka, national_number, register_start_sign, spawn_app};
use rdkafka::Message;

#[tokio::test]
async fn no_national_number_or_name_in_logs_spans_or_kafka_keys() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    // A refused registration also logs: the bad number must not appear either.
    let mut client = app.trajectories().await;
    let bad = format!("{}00", &national_number(910_101_123)[..9]);
    let _ = client
        .register_person(inburgering_testkit::authed(
            proto::trajectories::v1::RegisterPersonRequest {
                national_number: bad.clone(),
                given_name: "Amina".into(),
                family_name: "Haddad".into(),
                mother_tongue: "ar".into(),
                contact_language: String::new(),
            },
            &app.atlas(),
        ))
        .await;
    let messages = kafka::read(
        &app.broker.address(),
        "trajectories.events.v1",
        3,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(messages.len(), 3);

    let secrets = [
        national_number(850_730_033),
        bad,
        "Amina".to_owned(),
        "Haddad".to_owned(),
    ];
    let capture = capture::install();
    let logs = capture.logs();
    assert!(
        logs.contains(&signed.trajectory_id),
        "the capture works: ids are logged"
    );
    let spans = capture.spans();
    assert!(!spans.is_empty());
    let attributes: String = spans
        .iter()
        .map(|s| {
            format!(
                "{} {:?} {:?}",
                s.name,
                s.attributes,
                s.events
                    .iter()
                    .map(|e| format!("{} {:?}", e.name, e.attributes))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "{secret} leaked into the logs"
        );
        assert!(
            !attributes.contains(secret.as_str()),
            "{secret} leaked into span attributes"
        );
        for m in &messages {
            let key = String::from_utf8_lossy(m.key().unwrap_or_default());
            assert!(!key.contains(secret.as_str()), "{secret} is a Kafka key");
            let payload = String::from_utf8_lossy(m.payload().unwrap_or_default());
            assert!(
                !payload.contains(secret.as_str()),
                "{secret} is in an event payload"
            );
        }
    }
}
