//! The testing service over gRPC: sessions, bookings under contention, fees, results.

use std::time::Duration;

use inburgering_testkit::{
    TestApp, authed, eventually, kafka, register_and_start, register_start_sign, sign_request,
    spawn_app,
};
use proto::{common::v1::Agency, testing::v1 as pb};
use tonic::Code;

const PATIENCE: Duration = Duration::from_secs(30);

fn in_hours(hours: i64) -> prost_types::Timestamp {
    let t = chrono::Utc::now() + chrono::Duration::hours(hours);
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

fn admin(app: &TestApp) -> String {
    app.token("atlas", &["test-admin"])
}

async fn plan(
    app: &TestApp,
    test_type: pb::TestType,
    capacity: i32,
    starts_at: prost_types::Timestamp,
) -> pb::Session {
    app.testing()
        .await
        .plan_session(authed(
            pb::PlanSessionRequest {
                test_type: test_type as i32,
                location: "Huis van het Nederlands Antwerpen".into(),
                starts_at: Some(starts_at),
                capacity,
            },
            &admin(app),
        ))
        .await
        .expect("plan")
        .into_inner()
        .session
        .expect("session")
}

/// A person with a signed contract that testing has learned about.
async fn candidate(app: &TestApp, base: u64) -> String {
    let signed = register_start_sign(app, base).await;
    wait_for_contract(app, &signed.person_id, &app.atlas()).await;
    signed.person_id
}

async fn wait_for_contract(app: &TestApp, person_id: &str, token: &str) {
    eventually("testing to learn of the contract", PATIENCE, || async {
        app.testing()
            .await
            .get_candidate(authed(
                pb::GetCandidateRequest {
                    person_id: person_id.into(),
                },
                token,
            ))
            .await
            .ok()
            .and_then(|r| r.into_inner().candidate)
            .filter(|c| c.may_book_nt2)
    })
    .await;
}

async fn book(
    app: &TestApp,
    session: &pb::Session,
    person_id: &str,
    token: &str,
) -> Result<pb::Booking, tonic::Status> {
    app.testing()
        .await
        .book_test(authed(
            pb::BookTestRequest {
                session_id: session.session_id.clone(),
                person_id: person_id.into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().booking.expect("booking"))
}

async fn fees_of(app: &TestApp, person_id: &str) -> pb::ListFeesResponse {
    app.testing()
        .await
        .list_fees(authed(
            pb::ListFeesRequest {
                person_id: person_id.into(),
                agency: 0,
            },
            &app.atlas(),
        ))
        .await
        .expect("fees")
        .into_inner()
}

async fn record(
    app: &TestApp,
    booking: &pb::Booking,
    outcome: pb::Outcome,
    token: &str,
) -> Result<pb::Booking, tonic::Status> {
    app.testing()
        .await
        .record_result(authed(
            pb::RecordResultRequest {
                booking_id: booking.booking_id.clone(),
                outcome: outcome as i32,
                level_reached: if outcome == pb::Outcome::Passed {
                    "A2".into()
                } else {
                    String::new()
                },
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().booking.expect("booking"))
}

#[tokio::test]
async fn a_test_costs_ninety_euro_and_a_retake_is_charged_again() {
    let app = spawn_app().await;
    let person = candidate(&app, 850_730_033).await;
    let first = plan(&app, pb::TestType::Nt2A2, 10, in_hours(24)).await;
    let booking = book(&app, &first, &person, &app.atlas()).await.unwrap();
    assert_eq!(booking.fee.unwrap().cents, 9_000);
    let failed = record(&app, &booking, pb::Outcome::Failed, &admin(&app))
        .await
        .unwrap();
    assert_eq!(failed.status(), pb::BookingStatus::Failed);

    let retake = plan(&app, pb::TestType::Nt2A2, 10, in_hours(48)).await;
    let again = book(&app, &retake, &person, &app.atlas()).await.unwrap();
    assert_eq!(again.fee.unwrap().cents, 9_000, "a retake is paid again");
    let mo = plan(&app, pb::TestType::Mo, 10, in_hours(48)).await;
    book(&app, &mo, &person, &app.atlas()).await.unwrap();

    let ledger = fees_of(&app, &person).await;
    assert_eq!(ledger.fees.len(), 3);
    assert_eq!(ledger.total.unwrap().cents, 27_000);
    let agency = app
        .testing()
        .await
        .list_fees(authed(
            pb::ListFeesRequest {
                person_id: String::new(),
                agency: Agency::Atlas as i32,
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(agency.total.unwrap().cents, 27_000);
    let status = app
        .testing()
        .await
        .list_fees(authed(
            pb::ListFeesRequest {
                person_id: String::new(),
                agency: Agency::InGent as i32,
            },
            &app.atlas(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn brussels_residents_book_without_a_fee() {
    let app = spawn_app().await;
    let token = app.token("agii", &["case-worker"]);
    let mut client = app.trajectories().await;
    let (person, trajectory) = register_and_start(&mut client, &token, 850_730_033, "21004").await;
    client
        .sign_contract(authed(sign_request(&trajectory), &token))
        .await
        .unwrap();
    wait_for_contract(&app, &person, &token).await;
    let session = plan(&app, pb::TestType::Mo, 5, in_hours(24)).await;
    let booking = book(&app, &session, &person, &token).await.unwrap();
    assert_eq!(booking.fee.unwrap().cents, 0);
    let ledger = app
        .testing()
        .await
        .list_fees(authed(
            pb::ListFeesRequest {
                person_id: person.clone(),
                agency: 0,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ledger.fees.len(), 1);
    assert_eq!(ledger.fees[0].reason, "brussels-resident");
}

#[tokio::test]
async fn the_last_seats_go_to_exactly_as_many_parallel_bookings() {
    let app = spawn_app().await;
    let mut people = Vec::new();
    for i in 0..12u64 {
        people.push(candidate(&app, 700_000_000 + i).await);
    }
    let session = plan(&app, pb::TestType::Nt2A2, 3, in_hours(24)).await;
    let attempts = people.iter().map(|p| {
        let app = &app;
        let session = session.clone();
        async move { book(app, &session, p, &app.atlas()).await }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let booked = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(booked, 3, "exactly the seats");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(
            refused.message().contains("is full"),
            "{}",
            refused.message()
        );
    }
    let listed = app
        .testing()
        .await
        .list_sessions(authed(pb::ListSessionsRequest::default(), &admin(&app)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.sessions[0].booked, 3);
    assert_eq!(listed.sessions[0].free_seats, 0);
    let free = app
        .testing()
        .await
        .list_sessions(authed(
            pb::ListSessionsRequest {
                only_with_free_seats: true,
                ..Default::default()
            },
            &admin(&app),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(free.sessions.is_empty());
    let mut charged = 0;
    for p in &people {
        charged += fees_of(&app, p).await.fees.len();
    }
    assert_eq!(charged, 3, "nothing charged for a refused booking");
}

#[tokio::test]
async fn refused_bookings_say_why_and_charge_nothing() {
    let app = spawn_app().await;
    let person = candidate(&app, 850_730_033).await;
    let session = plan(&app, pb::TestType::Mo, 1, in_hours(24)).await;

    // A person without a signed contract.
    let mut client = app.trajectories().await;
    let (unsigned, _) = register_and_start(&mut client, &app.atlas(), 850_730_034, "11002").await;
    eventually("testing to learn of the start", PATIENCE, || async {
        app.testing()
            .await
            .get_candidate(authed(
                pb::GetCandidateRequest {
                    person_id: unsigned.clone(),
                },
                &app.atlas(),
            ))
            .await
            .ok()
            .and_then(|r| r.into_inner().candidate)
            .filter(|c| !c.trajectory_id.is_empty())
    })
    .await;
    let status = book(&app, &session, &unsigned, &app.atlas())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("contract is not signed"),
        "{}",
        status.message()
    );

    // Another agency's person: not even known to them.
    let status = book(
        &app,
        &session,
        &person,
        &app.token("in-gent", &["case-worker"]),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // An unknown session and a session that already started.
    let ghost = pb::Session {
        session_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };
    assert_eq!(
        book(&app, &ghost, &person, &app.atlas())
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let soon = plan(
        &app,
        pb::TestType::Mo,
        5,
        prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp() + 2,
            nanos: 0,
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let status = book(&app, &soon, &person, &app.atlas()).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("already started"),
        "{}",
        status.message()
    );

    // One open booking per test; a full session.
    book(&app, &session, &person, &app.atlas()).await.unwrap();
    let other = plan(&app, pb::TestType::Mo, 5, in_hours(30)).await;
    assert_eq!(
        book(&app, &other, &person, &app.atlas())
            .await
            .unwrap_err()
            .code(),
        Code::AlreadyExists
    );
    let late = candidate(&app, 850_730_035).await;
    let status = book(&app, &session, &late, &app.atlas()).await.unwrap_err();
    assert!(status.message().contains("is full"), "{}", status.message());

    assert_eq!(
        fees_of(&app, &person).await.fees.len(),
        1,
        "only the one booking charged"
    );
    assert!(fees_of(&app, &unsigned).await.fees.is_empty());
    assert!(fees_of(&app, &late).await.fees.is_empty());

    // Bad input names its field.
    let status = app
        .testing()
        .await
        .plan_session(authed(
            pb::PlanSessionRequest {
                test_type: pb::TestType::Mo as i32,
                location: "Gent".into(),
                starts_at: Some(in_hours(1)),
                capacity: 0,
            },
            &admin(&app),
        ))
        .await
        .unwrap_err();
    assert!(
        status.message().starts_with("capacity"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_result_is_recorded_once_by_a_test_admin_and_published() {
    let app = spawn_app().await;
    let person = candidate(&app, 850_730_033).await;
    let session = plan(&app, pb::TestType::Nt2A2, 5, in_hours(24)).await;
    let booking = book(&app, &session, &person, &app.atlas()).await.unwrap();

    let status = record(&app, &booking, pb::Outcome::Passed, &app.atlas())
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "a case worker records no results"
    );
    let passed = record(&app, &booking, pb::Outcome::Passed, &admin(&app))
        .await
        .unwrap();
    assert_eq!(passed.status(), pb::BookingStatus::Passed);
    assert_eq!(passed.level_reached, "A2");
    let status = record(&app, &booking, pb::Outcome::Failed, &admin(&app))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let ghost = pb::Booking {
        booking_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };
    assert_eq!(
        record(&app, &ghost, pb::Outcome::Passed, &admin(&app))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );

    // Asks for one more than expected, to see that no second result was published; the
    // wait for it is short because the four are there already.
    let events = kafka::read(
        &app.broker.address(),
        "testing.events.v1",
        5,
        Duration::from_secs(5),
    )
    .await;
    let types: Vec<String> = events
        .iter()
        .filter_map(|m| kafka::header(m, "ce_type"))
        .collect();
    assert_eq!(
        types,
        [
            "inburgering.testing.v1.TestSessionPlanned",
            "inburgering.testing.v1.TestBooked",
            "inburgering.testing.v1.FeeCharged",
            "inburgering.testing.v1.TestResultRecorded",
        ]
    );
}

#[tokio::test]
async fn cancelling_releases_the_seat_and_refunds_the_fee() {
    let app = spawn_app().await;
    let person = candidate(&app, 850_730_033).await;
    let other = candidate(&app, 850_730_034).await;
    let session = plan(&app, pb::TestType::Mo, 1, in_hours(24)).await;
    let booking = book(&app, &session, &person, &app.atlas()).await.unwrap();
    assert!(
        book(&app, &session, &other, &app.atlas()).await.is_err(),
        "full"
    );
    let cancelled = app
        .testing()
        .await
        .cancel_booking(authed(
            pb::CancelBookingRequest {
                booking_id: booking.booking_id.clone(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(cancelled.status(), pb::BookingStatus::Cancelled);
    book(&app, &session, &other, &app.atlas())
        .await
        .expect("the released seat");
    let ledger = fees_of(&app, &person).await;
    assert_eq!(ledger.fees.len(), 2);
    assert_eq!(ledger.total.unwrap().cents, 0, "charged and refunded");
    assert_eq!(ledger.fees[1].reason, "cancelled");
}

#[tokio::test]
async fn a_non_integrant_books_only_a_paid_language_level_test_and_gets_its_level() {
    let app = spawn_app().await;
    // Registered by Atlas, no trajectory: a non-integrant.
    let person_id = app
        .trajectories()
        .await
        .register_person(authed(
            proto::trajectories::v1::RegisterPersonRequest {
                national_number: inburgering_testkit::national_number(900_101_001),
                given_name: "Lena".into(),
                family_name: "Novak".into(),
                mother_tongue: "pl".into(),
                contact_language: "en".into(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .person_id;
    let known = eventually("testing to learn of the registration", PATIENCE, || async {
        app.testing()
            .await
            .get_candidate(authed(
                pb::GetCandidateRequest {
                    person_id: person_id.clone(),
                },
                &app.atlas(),
            ))
            .await
            .ok()
            .and_then(|r| r.into_inner().candidate)
    })
    .await;
    assert_eq!(known.trajectory_id, "");
    assert_eq!(known.agency, Agency::Atlas as i32);
    assert!(known.may_book_language_level);
    assert!(!known.may_book_nt2 && !known.may_book_mo && !known.may_book_b1_oral);
    let elsewhere = app
        .testing()
        .await
        .get_candidate(authed(
            pb::GetCandidateRequest {
                person_id: person_id.clone(),
            },
            &app.token("in-gent", &["case-worker"]),
        ))
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), Code::NotFound);

    let nt2 = plan(&app, pb::TestType::Nt2A2, 5, in_hours(24)).await;
    let refused = book(&app, &nt2, &person_id, &app.atlas())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("no integration trajectory"),
        "{refused:?}"
    );
    assert!(
        fees_of(&app, &person_id).await.fees.is_empty(),
        "nothing charged"
    );

    let level = plan(&app, pb::TestType::LanguageLevel, 5, in_hours(24)).await;
    let booking = book(&app, &level, &person_id, &app.atlas()).await.unwrap();
    assert_eq!(booking.test_type(), pb::TestType::LanguageLevel);
    assert_eq!(booking.fee.unwrap().cents, 9_000, "non-integrants pay");

    let result = |level: &str| pb::RecordResultRequest {
        booking_id: booking.booking_id.clone(),
        outcome: pb::Outcome::Passed as i32,
        level_reached: level.into(),
    };
    let mut testing = app.testing().await;
    let wrong = testing
        .record_result(authed(result("B3"), &admin(&app)))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert!(wrong.message().starts_with("level_reached"), "{wrong:?}");
    let certified = testing
        .record_result(authed(result("B1"), &admin(&app)))
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(certified.status(), pb::BookingStatus::Passed);
    assert_eq!(certified.level_reached, "B1");
    assert_eq!(fees_of(&app, &person_id).await.total.unwrap().cents, 9_000);

    // Trajectories reads the result and leaves it alone: no trajectory, no dead letter.
    let brokers = app.broker.address();
    let published = kafka::read(&brokers, "testing.events.v1", 5, PATIENCE).await;
    let recorded = published
        .iter()
        .find(|m| {
            kafka::header(m, "ce_type").as_deref()
                == Some("inburgering.testing.v1.TestResultRecorded")
        })
        .expect("the result event");
    use rdkafka::Message as _;
    let (partition, offset) = (recorded.partition(), recorded.offset());
    eventually("trajectories to consume the result", PATIENCE, || async {
        kafka::committed(
            &brokers,
            "trajectories.test-results",
            "testing.events.v1",
            partition,
        )
        .filter(|committed| *committed > offset)
    })
    .await;
    assert!(
        !platform::metrics::render()
            .lines()
            .any(|l| l.starts_with("messaging_dead_lettered_total")),
        "nothing dead-lettered"
    );
    app.stop().await;
}
