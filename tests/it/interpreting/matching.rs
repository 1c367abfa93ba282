//! Matching: races for one interpreter and hour on both databases, and what is refused
//! (bad input, unsuitable interpreters, absences, other organisations) with its reason.

use std::sync::Arc;

use interpreting::{
    domain::{Language, Mode, Region, Window},
    interpreters::{NewInterpreter, Pool},
    matching::Matching,
    requests::{Desk, NewRequest, Place, Service},
};
use platform::{Agency, events::Outbox};

use super::*;

async fn tomorrow_requests(app: &TestApp, n: usize) -> Vec<String> {
    let at = Utc::now() + TimeDelta::days(1);
    let ocmw = requester(app, "ocmw-antwerpen");
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(
            request(app, &ocmw, on_site(at, 60, ""))
                .await
                .expect("request")
                .request_id,
        );
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_racing_for_one_interpreter_and_hour_book_it_once() {
    let app = Arc::new(spawn_app().await);
    let interpreter = register_interpreter(&app, &["ar"], &[pb::Mode::OnSite]).await;
    let requests = tomorrow_requests(&app, 12).await;
    let mut racers = tokio::task::JoinSet::new();
    for id in requests {
        let (app, interpreter) = (app.clone(), interpreter.clone());
        racers.spawn(async move { assign(&app, &id, &interpreter).await });
    }
    let outcomes = racers.join_all().await;
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "{outcomes:#?}");
    for lost in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(lost.code(), Code::FailedPrecondition, "{lost:?}");
        assert!(
            lost.message()
                .contains(&format!("interpreter {interpreter} is already booked from")),
            "{lost:?}"
        );
    }
    let booked = scalar(
        &app.interpreting_db,
        &format!("select count(*) from booking where interpreter_id = '{interpreter}'"),
    )
    .await;
    assert_eq!(booked, 1);
    let constraint = scalar(&app.interpreting_db, "select count(*) from pg_constraint where conname = 'booking_never_twice' and contype = 'x'").await;
    assert_eq!(
        constraint, 1,
        "the exclusion constraint guards the bookings"
    );

    // Six interpreters racing for one request: one is booked, the request is not doubled.
    let contested = tomorrow_requests(&app, 1).await.remove(0);
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let interpreter = register_interpreter(&app, &["ar"], &[pb::Mode::OnSite]).await;
        let (app, id) = (app.clone(), contested.clone());
        racers.spawn(async move { assign(&app, &id, &interpreter).await });
    }
    let outcomes = racers.join_all().await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:#?}"
    );
    // A loser that read the request before the winner committed is ABORTED (a concurrent
    // change won); one that read it after is told it has an interpreter.
    assert!(
        outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| matches!(e.code(), Code::FailedPrecondition | Code::Aborted)),
        "{outcomes:#?}"
    );
    let rows = scalar(
        &app.interpreting_db,
        &format!("select count(*) from booking where request_id = '{contested}'"),
    )
    .await;
    assert_eq!(rows, 1);

    // Reassigning frees the first interpreter's hour in the same step, and says who was
    // released.
    let winner = scalar(
        &app.interpreting_db,
        &format!("select count(*) from booking where request_id = '{contested}'"),
    )
    .await;
    assert_eq!(winner, 1);
    let mut client = app.interpreting().await;
    let current = client
        .get_request(authed(
            pb::GetRequestRequest {
                request_id: contested.clone(),
            },
            &coordinator(&app),
        ))
        .await
        .unwrap()
        .into_inner()
        .request
        .unwrap();
    let first = current.interpreter_id.clone();
    let second = register_interpreter(&app, &["ar"], &[pb::Mode::OnSite]).await;
    let again = client
        .reassign_interpreter(authed(
            pb::ReassignInterpreterRequest {
                request_id: contested.clone(),
                interpreter_id: first.clone(),
            },
            &coordinator(&app),
        ))
        .await
        .expect_err("the same interpreter");
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    let moved = client
        .reassign_interpreter(authed(
            pb::ReassignInterpreterRequest {
                request_id: contested.clone(),
                interpreter_id: second.clone(),
            },
            &coordinator(&app),
        ))
        .await
        .expect("reassign")
        .into_inner()
        .request
        .unwrap();
    assert_eq!(moved.interpreter_id, second);
    let first_booked = scalar(
        &app.interpreting_db,
        &format!("select count(*) from booking where interpreter_id = '{first}'"),
    )
    .await;
    assert_eq!(
        first_booked, 0,
        "the first interpreter's hour is free again"
    );
    let brokers = app.broker.address();
    let events = eventually("the reassignment on the topic", PATIENCE, || async {
        let events =
            kafka::decoded::<pb::InterpreterAssigned>(&brokers, "interpreting.events.v1").await;
        events
            .into_iter()
            .find(|(_, e)| e.request_id == contested && e.previous_interpreter_id == first)
    })
    .await;
    assert_eq!(events.1.interpreter_id, second);
    // Nothing on the topic carries an interpreter's name, a purpose or a place.
    for m in kafka::read_all(&brokers, "interpreting.events.v1").await {
        let payload =
            String::from_utf8_lossy(rdkafka::Message::payload(&m).unwrap_or_default()).into_owned();
        for personal in [
            "Samira",
            "Tolk",
            "samira@tolk.example",
            "intake social service",
            "Lange Gasthuisstraat",
        ] {
            assert!(!payload.contains(personal), "{personal} on the topic");
        }
    }
    drop(client);
    let app = Arc::into_inner(app).expect("the racers are done");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_the_booking_transaction_refuses_the_same_race() {
    let dir = std::env::temp_dir().join(format!("interpreting-race-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = platform::db::sqlite_url(&dir, "interpreting");
    let db = platform::db::connect_and_migrate::<interpreting::store::Migrator>(&url, 8)
        .await
        .unwrap();
    // The one municipality the requests name, as the register projection keeps it.
    use sea_orm::{ActiveValue::Set, EntityTrait};
    wire::register::municipality::Entity::insert(wire::register::municipality::ActiveModel {
        code: Set(ANTWERP.into()),
        current_nis: Set(ANTWERP.into()),
        name_nl: Set("Antwerpen".into()),
        name_fr: Set("Anvers".into()),
        province_nis: Set("10000".into()),
        region: Set("Flanders".into()),
        agency: Set(Some("atlas".into())),
    })
    .exec_without_returning(&db)
    .await
    .unwrap();
    let outbox = Outbox::new(interpreting::SERVICE, interpreting::TOPIC);
    let pool = Pool::new(db.clone());
    let window = |d| Window::parse(d, (0, 0), (24, 0)).unwrap();
    let interpreter = pool
        .register(
            Agency::Atlas,
            NewInterpreter {
                given_name: "Samira".into(),
                family_name: "Tolk".into(),
                email: "samira@tolk.example".into(),
                phone: "+32 470 00 00 00".into(),
                languages: vec![Language::parse("languages", "ar").unwrap()],
                modes: vec![Mode::OnSite],
                regions: vec![Region::Antwerpen],
                windows: (1..=7).map(window).collect(),
                certification: None,
            },
        )
        .await
        .unwrap();
    let desk = Desk::new(db.clone(), outbox.clone(), 24);
    let now = Utc::now();
    let slot = interpreting::domain::Slot::new(now + TimeDelta::days(1), 60);
    let place = Place {
        nis: platform::Nis::parse("nis", ANTWERP).unwrap(),
        agency: Agency::Atlas,
        region: Region::Antwerpen,
    };
    let mut ids = Vec::new();
    for _ in 0..12 {
        let r = desk
            .create(
                NewRequest {
                    requester: "ocmw-antwerpen".into(),
                    place,
                    language: Language::parse("language", "ar").unwrap(),
                    mode: Mode::OnSite,
                    service: Service::Interpreting(slot),
                    address: Some("Lange Gasthuisstraat 39".into()),
                    person_id: None,
                    purpose: "intake".into(),
                },
                now,
            )
            .await
            .unwrap();
        ids.push(r.id);
    }
    let matching = Arc::new(Matching::new(pool, outbox));
    let mut racers = tokio::task::JoinSet::new();
    for id in ids {
        let matching = matching.clone();
        racers.spawn(async move {
            matching
                .assign(&[Agency::Atlas], id, interpreter, false, now)
                .await
        });
    }
    let outcomes = racers.join_all().await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:#?}"
    );
    for lost in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(lost, interpreting::InterpretingError::DoubleBooking { interpreter_id, .. } if *interpreter_id == interpreter),
            "{lost:?}"
        );
    }
    let booked = scalar(&url, "select count(*) from booking").await;
    assert_eq!(booked, 1);
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_and_unsuitable_interpreters_are_refused_saying_why() {
    let app = spawn_app().await;
    let ocmw = requester(&app, "ocmw-antwerpen");
    let mut client = app.interpreting().await;
    let at = Utc::now() + TimeDelta::days(2);
    let refused = |code: Code, text: &'static str| {
        move |r: Result<pb::InterpretingRequest, tonic::Status>| {
            let e = r.expect_err(text);
            assert_eq!(e.code(), code, "{e:?}");
            assert!(e.message().contains(text), "{text}: {e:?}");
        }
    };
    let mut bad = on_site(at, 60, "");
    bad.language = "xx".into();
    refused(
        Code::InvalidArgument,
        "language: \"xx\" is not an ISO 639 language code",
    )(request(&app, &ocmw, bad).await);
    for minutes in [0, -30, 481] {
        refused(
            Code::InvalidArgument,
            "duration_minutes: must be 1 to 480 minutes",
        )(request(&app, &ocmw, on_site(at, minutes, "")).await);
    }
    refused(Code::InvalidArgument, "is in the past")(
        request(
            &app,
            &ocmw,
            on_site(Utc::now() - TimeDelta::minutes(5), 60, ""),
        )
        .await,
    );
    let mut no_place = on_site(at, 60, "");
    no_place.place.clear();
    refused(Code::InvalidArgument, "place: is required on site")(
        request(&app, &ocmw, no_place).await,
    );
    let mut written = on_site(at, 0, "");
    written.mode = pb::Mode::Written as i32;
    written.starts_at = None;
    written.word_count = 800;
    refused(Code::InvalidArgument, "due_on: is required")(request(&app, &ocmw, written).await);
    let mut bad_person = on_site(at, 60, "someone");
    bad_person.person_id = "someone".into();
    refused(Code::InvalidArgument, "person_id:")(request(&app, &ocmw, bad_person).await);
    let case_worker = app.atlas();
    refused(Code::PermissionDenied, "interpreting-requester")(
        request(&app, &case_worker, on_site(at, 60, "")).await,
    );
    let anonymous = client
        .request_interpreting(on_site(at, 60, ""))
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // Interpreters who lack the language, the mode or the region are refused by name.
    let r = request(&app, &ocmw, on_site(at, 60, ""))
        .await
        .expect("a good request");
    let turkish = register_interpreter(&app, &["tr"], &[pb::Mode::OnSite]).await;
    refused(Code::FailedPrecondition, "does not interpret ar")(
        assign(&app, &r.request_id, &turkish).await,
    );
    let video_only = register_interpreter(&app, &["ar"], &[pb::Mode::Video]).await;
    refused(Code::FailedPrecondition, "does not work on site")(
        assign(&app, &r.request_id, &video_only).await,
    );
    let mut ghent = interpreter_request(&["ar"], &[pb::Mode::OnSite]);
    ghent.regions = vec![pb::Region::OostVlaanderen as i32];
    let ghent = client
        .register_interpreter(authed(ghent, &coordinator(&app)))
        .await
        .unwrap()
        .into_inner()
        .interpreter
        .unwrap()
        .interpreter_id;
    refused(Code::FailedPrecondition, "does not go on site in antwerpen")(
        assign(&app, &r.request_id, &ghent).await,
    );
    let mut unknown = interpreter_request(&["xx"], &[pb::Mode::OnSite]);
    unknown.languages.push("ar".into());
    let e = client
        .register_interpreter(authed(unknown, &coordinator(&app)))
        .await
        .expect_err("xx");
    assert!(e.message().starts_with("languages:"), "{e:?}");

    // Interpreters' personal data: coordinators only, every read audited.
    let e = client
        .get_interpreter(authed(
            pb::GetInterpreterRequest {
                interpreter_id: turkish.clone(),
            },
            &ocmw,
        ))
        .await
        .expect_err("a requester");
    assert_eq!(e.code(), Code::PermissionDenied);
    let reads = scalar(
        &app.interpreting_db,
        "select count(*) from personal_data_read where purpose = 'GetInterpreter'",
    )
    .await;
    client
        .get_interpreter(authed(
            pb::GetInterpreterRequest {
                interpreter_id: turkish.clone(),
            },
            &coordinator(&app),
        ))
        .await
        .expect("a coordinator");
    let after = scalar(
        &app.interpreting_db,
        "select count(*) from personal_data_read where purpose = 'GetInterpreter'",
    )
    .await;
    assert_eq!(after, reads + 1);

    // Another organisation's request is not found, for requesters and coordinators alike.
    for stranger in [
        requester(&app, "ocmw-gent"),
        app.token("in-gent", &["interpreting-coordinator"]),
    ] {
        let e = client
            .get_request(authed(
                pb::GetRequestRequest {
                    request_id: r.request_id.clone(),
                },
                &stranger,
            ))
            .await
            .expect_err("another organisation");
        assert_eq!(e.code(), Code::NotFound, "{e:?}");
    }
    // In-Gent's coordinators neither match, cancel nor record Atlas's requests, nor keep
    // the hours of Atlas's interpreters.
    let in_gent = app.token("in-gent", &["interpreting-coordinator"]);
    let interpreter = register_interpreter(&app, &["ar"], &[pb::Mode::OnSite]).await;
    let e = client
        .assign_interpreter(authed(
            pb::AssignInterpreterRequest {
                request_id: r.request_id.clone(),
                interpreter_id: interpreter.clone(),
            },
            &in_gent,
        ))
        .await
        .expect_err("another area");
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    let e = client
        .cancel_request(authed(
            pb::CancelRequestRequest {
                request_id: r.request_id.clone(),
            },
            &in_gent,
        ))
        .await
        .expect_err("another area");
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    let e = client
        .set_availability(authed(
            pb::SetAvailabilityRequest {
                interpreter_id: interpreter.clone(),
                availability: all_week(),
            },
            &in_gent,
        ))
        .await
        .expect_err("Atlas's interpreter");
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");

    // An absence over a booking is refused; a booking in an absence too.
    assign(&app, &r.request_id, &interpreter)
        .await
        .expect("assign");
    let absence = |from: DateTime<Utc>, hours: i64| {
        authed(
            pb::AddAbsenceRequest {
                interpreter_id: interpreter.clone(),
                starts_at: Some(wire::timestamp(from)),
                ends_at: Some(wire::timestamp(from + TimeDelta::hours(hours))),
            },
            &coordinator(&app),
        )
    };
    let e = client
        .add_absence(absence(at - TimeDelta::hours(1), 3))
        .await
        .expect_err("over the booking");
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert!(
        e.message()
            .contains(&format!("overlaps request {}", r.request_id)),
        "{e:?}"
    );
    let later = at + TimeDelta::days(1);
    let r2 = request(&app, &ocmw, on_site(later, 60, "")).await.unwrap();
    client
        .add_absence(absence(later - TimeDelta::hours(1), 3))
        .await
        .expect("an absence where nothing is booked");
    refused(Code::FailedPrecondition, "is absent from")(
        assign(&app, &r2.request_id, &interpreter).await,
    );
    let own = client
        .list_requests(authed(
            pb::ListRequestsRequest {
                page: None,
                state: 0,
            },
            &ocmw,
        ))
        .await
        .unwrap()
        .into_inner()
        .requests;
    assert_eq!(own.len(), 2);
    drop(client);
    app.stop().await;
}
