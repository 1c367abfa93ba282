//! One trace across services, read from a real OTLP export: a result recorded in testing
//! that completes the last component in trajectories is one trace from the gRPC call,
//! through the outbox and the broker, to the consumer and the attest it publishes.

use std::time::Duration;

use inburgering_testkit::{
    authed, capture, date, eventually, otlp, register_start_sign, spawn_app,
};
use opentelemetry_proto::tonic::{common::v1::any_value::Value, trace::v1::Span};
use proto::{testing::v1 as tpb, trajectories::v1 as pb};

use crate::citizenship::pass;

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
}

#[tokio::test]
async fn a_result_in_testing_that_issues_the_attest_is_one_exported_trace() {
    let (receiver, endpoint) = otlp::Receiver::start().await;
    let capture = capture::install_exporting_to(Some(&endpoint));
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;

    // Everything but MO first: NT2 passed, VDAB on time, participation waived (works).
    pass(&app, &signed.person_id, tpb::TestType::Nt2A2).await;
    let mut client = app.trajectories().await;
    // The NT2 result is applied first: a registration racing it would be refused as a
    // concurrent change (ABORTED, retryable).
    let reader = client.clone();
    let get = || {
        let mut client = reader.clone();
        let token = app.atlas();
        let id = signed.trajectory_id.clone();
        async move {
            client
                .get_trajectory(authed(
                    pb::GetTrajectoryRequest { trajectory_id: id },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
                .trajectory
                .unwrap()
        }
    };
    eventually("NT2 completed", Duration::from_secs(30), || async {
        get()
            .await
            .components
            .iter()
            .any(|c| c.component() == pb::Component::Nt2 && c.completed_on.is_some())
            .then_some(())
    })
    .await;
    client
        .record_vdab_registration(authed(
            pb::RecordVdabRegistrationRequest {
                trajectory_id: signed.trajectory_id.clone(),
                registered_on: Some(date(2026, 2, 1)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap();
    client
        .waive_participation(authed(
            pb::WaiveParticipationRequest {
                trajectory_id: signed.trajectory_id.clone(),
                waiver: pb::ParticipationWaiver::Works as i32,
            },
            &app.atlas(),
        ))
        .await
        .unwrap();

    let mo = pass(&app, &signed.person_id, tpb::TestType::Mo).await;
    eventually("the attest", Duration::from_secs(30), || async {
        get().await.attest_issued_on.map(|_| ())
    })
    .await;

    // Find, among the exported spans, the trace of the MO result.
    let trace = eventually(
        "the whole trace to be exported",
        Duration::from_secs(30),
        || async {
            capture.flush();
            let spans = receiver.spans();
            let rpc = spans.iter().find(|s| {
                s.name == "inburgering.testing.v1.TestingService/RecordResult"
                    && spans.iter().any(|c| {
                        c.trace_id == s.trace_id
                            && attribute(c, "messaging.message.id").is_some()
                            && c.name == "testing.events.v1 publish"
                    })
                    && spans.iter().any(|c| {
                        c.trace_id == s.trace_id
                            && attribute(c, "ce_type").as_deref()
                                == Some("inburgering.trajectories.v1.AttestIssued")
                    })
            })?;
            Some(
                spans
                    .iter()
                    .filter(|s| s.trace_id == rpc.trace_id)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        },
    )
    .await;
    let names: Vec<&str> = trace.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "inburgering.testing.v1.TestingService/RecordResult",
        "testing.events.v1 publish",
        "testing.events.v1 process",
        "trajectories.events.v1 publish",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from the trace: {names:?}"
        );
    }
    let process = trace
        .iter()
        .find(|s| s.name == "testing.events.v1 process")
        .unwrap();
    assert_eq!(
        attribute(process, "messaging.consumer.group.name").as_deref(),
        Some("trajectories.test-results")
    );
    let publish = trace
        .iter()
        .find(|s| s.name == "testing.events.v1 publish")
        .unwrap();
    assert_eq!(
        process.parent_span_id, publish.span_id,
        "the consumer continues the producer's span"
    );
    let _ = mo;
}

#[tokio::test]
async fn the_fortieth_hour_in_municipalities_is_one_trace_to_the_completed_component() {
    let (receiver, endpoint) = otlp::Receiver::start().await;
    let capture = capture::install_exporting_to(Some(&endpoint));
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let placement = inburgering_testkit::placed(&app, "11002", &signed.person_id).await;
    for (day, hours) in [(1, 12), (2, 12), (3, 12), (4, 4)] {
        inburgering_testkit::log_hours(&app, "11002", &placement, date(2026, 6, day), hours)
            .await
            .unwrap();
    }
    let trace = eventually(
        "the trace of the last hours to be exported",
        Duration::from_secs(30),
        || async {
            capture.flush();
            let spans = receiver.spans();
            let rpc = spans.iter().find(|s| {
                s.name == "inburgering.municipalities.v1.MunicipalityService/LogHours"
                    && spans.iter().any(|c| {
                        c.trace_id == s.trace_id
                            && attribute(c, "ce_type").as_deref()
                                == Some("inburgering.trajectories.v1.ComponentCompleted")
                    })
            })?;
            Some(
                spans
                    .iter()
                    .filter(|s| s.trace_id == rpc.trace_id)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        },
    )
    .await;
    let names: Vec<&str> = trace.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "inburgering.municipalities.v1.MunicipalityService/LogHours",
        "municipalities.events.v1 publish",
        "municipalities.events.v1 process",
        "trajectories.events.v1 publish",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from the trace: {names:?}"
        );
    }
    assert!(
        trace
            .iter()
            .any(|s| s.name == "municipalities.events.v1 process"
                && attribute(s, "messaging.consumer.group.name").as_deref()
                    == Some("trajectories.municipalities")),
        "trajectories consumed it in the same trace: {names:?}"
    );
}

#[tokio::test]
async fn sending_invitations_is_one_trace_through_the_audited_read_in_trajectories() {
    let (receiver, endpoint) = otlp::Receiver::start().await;
    let capture = capture::install_exporting_to(Some(&endpoint));
    let app = spawn_app().await;
    crate::ceremonies::attested(&app, 850_730_033, false).await;
    let ceremony = crate::ceremonies::plan(&app, "11002", crate::ceremonies::details(10))
        .await
        .unwrap();
    // The attest reaches ceremonies through the broker; invite once it has.
    eventually("the invitation", Duration::from_secs(30), || async {
        let sent = crate::ceremonies::send(&app, &ceremony.ceremony_id)
            .await
            .ok()?;
        (sent.sent == 1).then_some(())
    })
    .await;
    let trace = eventually(
        "the trace of the invitations to be exported",
        Duration::from_secs(30),
        || async {
            capture.flush();
            let spans = receiver.spans();
            let rpc = spans.iter().find(|s| {
                s.name == "inburgering.ceremonies.v1.CeremonyService/SendInvitations"
                    && spans.iter().any(|c| {
                        c.trace_id == s.trace_id && c.name == "ceremonies.events.v1 publish"
                    })
            })?;
            Some(
                spans
                    .iter()
                    .filter(|s| s.trace_id == rpc.trace_id)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        },
    )
    .await;
    let names: Vec<&str> = trace.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "inburgering.ceremonies.v1.CeremonyService/SendInvitations",
        "inburgering.trajectories.v1.DisclosureService/DiscloseForCeremony",
        "ceremonies.events.v1 publish",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from the trace: {names:?}"
        );
    }
}
