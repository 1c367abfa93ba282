//! The citizenship path across services: contract → tests booked and passed in testing →
//! components completed in trajectories from testing's events → VDAB → 40 hours → attest.

use std::time::Duration;

use inburgering_testkit::{
    Signed, TestApp, authed, date, eventually, kafka, register_start_sign, spawn_app,
};
use prost::Message as _;
use proto::{testing::v1 as tpb, trajectories::v1 as pb};
use rdkafka::Message as _;
use tonic::Code;

const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) async fn trajectory(app: &TestApp, id: &str) -> pb::Trajectory {
    app.trajectories()
        .await
        .get_trajectory(authed(
            pb::GetTrajectoryRequest {
                trajectory_id: id.into(),
            },
            &app.atlas(),
        ))
        .await
        .expect("get")
        .into_inner()
        .trajectory
        .expect("trajectory")
}

fn completed(t: &pb::Trajectory, component: pb::Component) -> bool {
    t.components
        .iter()
        .any(|c| c.component() == component && c.completed_on.is_some())
}

/// Books and passes one test for `person`, as the testing service's users do, in a
/// session tomorrow.
pub(crate) async fn pass(app: &TestApp, person: &str, test_type: tpb::TestType) -> tpb::Booking {
    pass_at(
        app,
        person,
        test_type,
        chrono::Utc::now() + chrono::Duration::days(1),
    )
    .await
}

/// [`pass`] in a session that starts at `starts` (its Belgian day is the day passed).
pub(crate) async fn pass_at(
    app: &TestApp,
    person: &str,
    test_type: tpb::TestType,
    starts: chrono::DateTime<chrono::Utc>,
) -> tpb::Booking {
    let admin = app.token("atlas", &["test-admin"]);
    let mut testing = app.testing().await;
    eventually("testing to learn of the contract", PATIENCE, || {
        let mut testing = testing.clone();
        let token = admin.clone();
        let person = person.to_owned();
        async move {
            testing
                .get_candidate(authed(
                    tpb::GetCandidateRequest { person_id: person },
                    &token,
                ))
                .await
                .ok()
                .and_then(|r| r.into_inner().candidate)
                .filter(|c| c.may_book_nt2)
        }
    })
    .await;
    let session = testing
        .plan_session(authed(
            tpb::PlanSessionRequest {
                test_type: test_type as i32,
                location: "Antwerpen".into(),
                starts_at: Some(prost_types::Timestamp {
                    seconds: starts.timestamp(),
                    nanos: 0,
                }),
                capacity: 10,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    let booking = testing
        .book_test(authed(
            tpb::BookTestRequest {
                session_id: session.session_id,
                person_id: person.into(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(booking.fee.as_ref().unwrap().cents, 9_000);
    testing
        .record_result(authed(
            tpb::RecordResultRequest {
                booking_id: booking.booking_id.clone(),
                outcome: tpb::Outcome::Passed as i32,
                level_reached: "A2".into(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap()
}

/// Takes a signed trajectory to its attest the short way: VDAB on time, participation
/// waived for work, MO then NT2 booked and passed in testing. Returns the trajectory with
/// its attest and the NT2 booking whose result issued it.
pub(crate) async fn attest(app: &TestApp, signed: &Signed) -> (pb::Trajectory, tpb::Booking) {
    attest_at(app, signed, chrono::Utc::now() + chrono::Duration::days(1)).await
}

/// [`attest`] with both tests in sessions starting at `starts`.
pub(crate) async fn attest_at(
    app: &TestApp,
    signed: &Signed,
    starts: chrono::DateTime<chrono::Utc>,
) -> (pb::Trajectory, tpb::Booking) {
    let mut client = app.trajectories().await;
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
    pass_at(app, &signed.person_id, tpb::TestType::Mo, starts).await;
    let nt2 = pass_at(app, &signed.person_id, tpb::TestType::Nt2A2, starts).await;
    let attested = eventually("the attest", PATIENCE, || async {
        let t = trajectory(app, &signed.trajectory_id).await;
        t.attest_issued_on.is_some().then_some(t)
    })
    .await;
    (attested, nt2)
}

/// Asks, as a social protection body, about the care-premium reduction for the person of
/// `register_start_sign(…, 850_730_033)` with 5 years of residence.
pub(crate) async fn obligation(app: &TestApp) -> pb::Answer {
    let vsb = app.token("vlaamse-sociale-bescherming", &["obligation-check"]);
    crate::obligation::check(
        app,
        &vsb,
        850_730_033,
        pb::Benefit::CarePremiumReduction,
        5,
        5,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn from_contract_to_attest_across_testing_and_trajectories() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let t = trajectory(&app, &signed.trajectory_id).await;
    assert_eq!(
        t.contract.unwrap().fees_total.unwrap().cents,
        18_000,
        "2 × €90 at signing"
    );

    pass(&app, &signed.person_id, tpb::TestType::Nt2A2).await;
    pass(&app, &signed.person_id, tpb::TestType::Mo).await;
    eventually(
        "trajectories to complete NT2 and MO from testing's events",
        PATIENCE,
        || async {
            let t = trajectory(&app, &signed.trajectory_id).await;
            (completed(&t, pb::Component::Nt2) && completed(&t, pb::Component::Mo)).then_some(())
        },
    )
    .await;

    let mut client = app.trajectories().await;
    client
        .record_vdab_registration(authed(
            pb::RecordVdabRegistrationRequest {
                trajectory_id: signed.trajectory_id.clone(),
                registered_on: Some(date(2026, 3, 15)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap();
    // Participation: the municipality places the person and logs the hours; trajectories
    // learns them from municipalities' events.
    let placement = inburgering_testkit::placed(&app, "11002", &signed.person_id).await;
    for (day, hours) in [(1, 12), (2, 12), (3, 12), (4, 3)] {
        inburgering_testkit::log_hours(&app, "11002", &placement, date(2026, 6, day), hours)
            .await
            .unwrap();
    }
    let after_39 = eventually("trajectories to count 39 hours", PATIENCE, || async {
        let t = trajectory(&app, &signed.trajectory_id).await;
        (t.participation_hours == 39).then_some(t)
    })
    .await;
    assert!(
        after_39.attest_issued_on.is_none(),
        "39 hours are not enough"
    );
    assert_eq!(obligation(&app).await, pb::Answer::No, "no attest yet");
    let last = inburgering_testkit::log_hours(&app, "11002", &placement, date(2026, 6, 5), 1)
        .await
        .unwrap();
    assert_eq!(last.trajectory_hours, 40);
    let after_40 = eventually("the attest after the 40th hour", PATIENCE, || async {
        let t = trajectory(&app, &signed.trajectory_id).await;
        t.attest_issued_on.is_some().then_some(t)
    })
    .await;
    assert_eq!(
        after_40.attest_issued_on,
        Some(date(2026, 6, 5)),
        "the 40th hour completes the last component"
    );
    assert_eq!(after_40.participation_hours, 40);
    assert_eq!(
        obligation(&app).await,
        pb::Answer::Yes,
        "the attest and 5 years of residence"
    );

    // Born 1985, obliged: the B1 follow-up runs 24 months from the attest.
    assert_eq!(after_40.b1_due_by, Some(date(2028, 6, 5)));
    let due = client
        .list_b1_follow_up_due(authed(
            pb::ListB1FollowUpDueRequest::default(),
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(due.trajectories.len(), 1);
    let b1 = book_b1_when_listed(&app, &signed.person_id).await;
    assert_eq!(b1.fee.as_ref().unwrap().cents, 9_000);
    app.testing()
        .await
        .record_result(authed(
            tpb::RecordResultRequest {
                booking_id: b1.booking_id.clone(),
                outcome: tpb::Outcome::Passed as i32,
                level_reached: "B1".into(),
            },
            &app.token("atlas", &["test-admin"]),
        ))
        .await
        .unwrap();
    eventually("the B1 pass to close the follow-up", PATIENCE, || async {
        trajectory(&app, &signed.trajectory_id)
            .await
            .b1_closed_on
            .map(|_| ())
    })
    .await;
    let due = client
        .list_b1_follow_up_due(authed(
            pb::ListB1FollowUpDueRequest::default(),
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(due.trajectories.is_empty());

    let events = kafka::read(&app.broker.address(), "trajectories.events.v1", 9, PATIENCE).await;
    let types: Vec<String> = events
        .iter()
        .filter_map(|m| kafka::header(m, "ce_type"))
        .collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| t.ends_with(".ComponentCompleted"))
            .count(),
        4,
        "{types:?}"
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| t.ends_with(".AttestIssued"))
            .count(),
        1,
        "{types:?}"
    );
    assert!(
        !types.iter().any(|t| t.ends_with(".ObligationBreached")),
        "registered on the deadline day"
    );

    // Testing's ledger shows the three tests; the contract fees are trajectories'.
    let fees = app
        .testing()
        .await
        .list_fees(authed(
            tpb::ListFeesRequest {
                person_id: signed.person_id.clone(),
                agency: 0,
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fees.total.unwrap().cents, 27_000);
}

/// Books B1 oral once testing has learned of the follow-up (refused before).
async fn book_b1_when_listed(app: &TestApp, person: &str) -> tpb::Booking {
    let admin = app.token("atlas", &["test-admin"]);
    let starts = chrono::Utc::now() + chrono::Duration::days(2);
    let session = app
        .testing()
        .await
        .plan_session(authed(
            tpb::PlanSessionRequest {
                test_type: tpb::TestType::B1Oral as i32,
                location: "Antwerpen".into(),
                starts_at: Some(prost_types::Timestamp {
                    seconds: starts.timestamp(),
                    nanos: 0,
                }),
                capacity: 10,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    eventually("testing to put the person on the B1 list", PATIENCE, || {
        let session_id = session.session_id.clone();
        async move {
            app.testing()
                .await
                .book_test(authed(
                    tpb::BookTestRequest {
                        session_id,
                        person_id: person.into(),
                    },
                    &app.atlas(),
                ))
                .await
                .ok()
                .and_then(|r| r.into_inner().booking)
        }
    })
    .await
}

#[tokio::test]
async fn a_result_delivered_twice_completes_once_and_a_late_vdab_registration_breaches() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    pass(&app, &signed.person_id, tpb::TestType::Nt2A2).await;
    eventually("NT2 completed", PATIENCE, || async {
        completed(
            &trajectory(&app, &signed.trajectory_id).await,
            pb::Component::Nt2,
        )
        .then_some(())
    })
    .await;
    let results = kafka::read(&app.broker.address(), "testing.events.v1", 4, PATIENCE).await;
    let result = results
        .iter()
        .find(|m| {
            kafka::header(m, "ce_type").as_deref()
                == Some("inburgering.testing.v1.TestResultRecorded")
        })
        .expect("the result event");
    kafka::redeliver(&app.broker.address(), result).await;

    let mut client = app.trajectories().await;
    let late = client
        .record_vdab_registration(authed(
            pb::RecordVdabRegistrationRequest {
                trajectory_id: signed.trajectory_id.clone(),
                registered_on: Some(date(2026, 3, 16)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();
    assert!(completed(&late, pb::Component::EconomicSelfReliance));
    let status = client
        .record_vdab_registration(authed(
            pb::RecordVdabRegistrationRequest {
                trajectory_id: signed.trajectory_id.clone(),
                registered_on: Some(date(2026, 3, 1)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    // NT2 completed once (the duplicate skipped by the inbox), VDAB once, one breach.
    let events = kafka::read(&app.broker.address(), "trajectories.events.v1", 6, PATIENCE).await;
    let types: Vec<String> = events
        .iter()
        .filter_map(|m| kafka::header(m, "ce_type"))
        .collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| t.ends_with(".ComponentCompleted"))
            .count(),
        2,
        "{types:?}"
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| t.ends_with(".ObligationBreached"))
            .count(),
        1,
        "{types:?}"
    );
    eventually("the duplicate result to be skipped", PATIENCE, || async {
        platform::metrics::render()
            .lines()
            .any(|l| {
                l.starts_with("messaging_process_duration_seconds_count")
                    && l.contains("trajectories.test-results")
                    && l.contains("outcome=\"duplicate\"")
            })
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_crash_between_the_attest_and_the_offset_commit_issues_no_second_attest() {
    let mut app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let (_, nt2) = attest(&app, &signed).await;

    // The NT2 result that led to the attest, and where it sits on the topic.
    let brokers = app.broker.address();
    let results = kafka::read(&brokers, "testing.events.v1", 8, PATIENCE).await;
    let result = results
        .iter()
        .find(|m| {
            kafka::header(m, "ce_type").as_deref()
                == Some("inburgering.testing.v1.TestResultRecorded")
                && tpb::TestResultRecorded::decode(m.payload().unwrap())
                    .unwrap()
                    .booking
                    .is_some_and(|b| b.booking_id == nt2.booking_id)
        })
        .expect("the NT2 result event");
    let (partition, offset) = (result.partition(), result.offset());
    let group = trajectories::results::GROUP;

    // Down, the group's offset put back before the NT2 result — the state a crash after
    // the attest's commit and before the offset commit leaves — and up again.
    app.restart_trajectories(async {
        eventually(
            "the stopped group to accept the rewind",
            PATIENCE,
            || async {
                kafka::rewind(&brokers, group, "testing.events.v1", partition, offset).ok()
            },
        )
        .await;
        assert_eq!(
            kafka::committed(&brokers, group, "testing.events.v1", partition),
            Some(offset)
        );
    })
    .await;

    eventually(
        "the restarted consumer to pass the result again",
        PATIENCE,
        || async {
            kafka::committed(&brokers, group, "testing.events.v1", partition)
                .filter(|committed| *committed > offset)
        },
    )
    .await;
    eventually(
        "the redelivery to be skipped by the inbox",
        PATIENCE,
        || async {
            platform::metrics::render()
                .lines()
                .any(|l| {
                    l.starts_with("messaging_process_duration_seconds_count")
                        && l.contains(group)
                        && l.contains("outcome=\"duplicate\"")
                })
                .then_some(())
        },
    )
    .await;
    let published = kafka::read_all(&brokers, "trajectories.events.v1").await;
    let of_type = |suffix: &str| {
        published
            .iter()
            .filter(|m| {
                m.key() == Some(signed.trajectory_id.as_bytes())
                    && kafka::header(m, "ce_type").is_some_and(|t| t.ends_with(suffix))
            })
            .count()
    };
    assert_eq!(of_type(".AttestIssued"), 1);
    assert_eq!(
        of_type(".ComponentCompleted"),
        3,
        "MO, VDAB and NT2, once each"
    );
    let t = trajectory(&app, &signed.trajectory_id).await;
    assert!(t.attest_issued_on.is_some());
    app.stop().await;
}
