//! Interpreting across services: public bodies request, coordinators match and record,
//! billing follows each person's trajectory (from trajectories' events) on the day of the
//! service; the database never lets two coordinators book one interpreter twice at once,
//! on PostgreSQL (the exclusion constraint, through gRPC) and on SQLite (the transaction).

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use inburgering_testkit::{
    Signed, TestApp, authed, eventually, kafka, register_start_sign, scalar, spawn_app,
};
use interpreting::{
    domain::{Language, Mode, Region, Window},
    interpreters::{NewInterpreter, Pool},
    matching::Matching,
    requests::{Desk, NewRequest, Place, Service},
};
use platform::{Agency, events::Outbox, wire};
use prost::Message;
use proto::{common::v1 as common, interpreting::v1 as pb, trajectories::v1 as tpb};
use tonic::Code;

const PATIENCE: Duration = Duration::from_secs(30);
const ANTWERP: &str = "11002";

fn coordinator(app: &TestApp) -> String {
    app.token("atlas", &["interpreting-coordinator"])
}

fn requester(app: &TestApp, org: &str) -> String {
    app.token(org, &["interpreting-requester"])
}

fn all_week() -> Vec<pb::WeeklyWindow> {
    (1..=7)
        .map(|weekday| pb::WeeklyWindow {
            weekday,
            from: Some(pb::TimeOfDay {
                hours: 0,
                minutes: 0,
            }),
            to: Some(pb::TimeOfDay {
                hours: 24,
                minutes: 0,
            }),
        })
        .collect()
}

fn interpreter_request(languages: &[&str], modes: &[pb::Mode]) -> pb::RegisterInterpreterRequest {
    pb::RegisterInterpreterRequest {
        given_name: "Samira".into(),
        family_name: "Tolk".into(),
        email: "samira@tolk.example".into(),
        phone: "+32 470 00 00 00".into(),
        languages: languages.iter().map(|l| (*l).to_owned()).collect(),
        modes: modes.iter().map(|m| *m as i32).collect(),
        regions: vec![pb::Region::Antwerpen as i32],
        availability: all_week(),
        certification: Some(pb::Certification {
            reference: "ST-2024-0117".into(),
            valid_until: Some(inburgering_testkit::date(2030, 12, 31)),
        }),
    }
}

async fn register_interpreter(app: &TestApp, languages: &[&str], modes: &[pb::Mode]) -> String {
    app.interpreting()
        .await
        .register_interpreter(authed(
            interpreter_request(languages, modes),
            &coordinator(app),
        ))
        .await
        .expect("register interpreter")
        .into_inner()
        .interpreter
        .unwrap()
        .interpreter_id
}

fn on_site(
    starts_at: DateTime<Utc>,
    minutes: i32,
    person_id: &str,
) -> pb::RequestInterpretingRequest {
    pb::RequestInterpretingRequest {
        municipality_nis: ANTWERP.into(),
        language: "ar".into(),
        mode: pb::Mode::OnSite as i32,
        starts_at: Some(wire::timestamp(starts_at)),
        duration_minutes: minutes,
        place: "OCMW Antwerpen, Lange Gasthuisstraat 39".into(),
        person_id: person_id.into(),
        purpose: "intake social service".into(),
        word_count: 0,
        due_on: None,
    }
}

async fn request(
    app: &TestApp,
    token: &str,
    r: pb::RequestInterpretingRequest,
) -> Result<pb::InterpretingRequest, tonic::Status> {
    app.interpreting()
        .await
        .request_interpreting(authed(r, token))
        .await
        .map(|r| r.into_inner().request.unwrap())
}

async fn assign(
    app: &TestApp,
    request_id: &str,
    interpreter_id: &str,
) -> Result<pb::InterpretingRequest, tonic::Status> {
    app.interpreting()
        .await
        .assign_interpreter(authed(
            pb::AssignInterpreterRequest {
                request_id: request_id.into(),
                interpreter_id: interpreter_id.into(),
            },
            &coordinator(app),
        ))
        .await
        .map(|r| r.into_inner().request.unwrap())
}

fn today() -> common::Date {
    interpreting::convert::date(platform::clock::today())
}

/// A person whose trajectory ends today: taken to the attest, or stopped.
async fn ended(app: &TestApp, base: u64, stop: bool) -> Signed {
    if !stop {
        return crate::ceremonies::attested(app, base, false).await;
    }
    let signed = register_start_sign(app, base).await;
    app.trajectories()
        .await
        .stop_trajectory(authed(
            tpb::StopTrajectoryRequest {
                trajectory_id: signed.trajectory_id.clone(),
                reason: "moved abroad".into(),
                stopped_on: Some(today()),
            },
            &app.atlas(),
        ))
        .await
        .expect("stop");
    signed
}

async fn perform(
    app: &TestApp,
    request_id: &str,
    minutes: i32,
) -> Result<pb::InterpretingRequest, tonic::Status> {
    app.interpreting()
        .await
        .record_performance(authed(
            pb::RecordPerformanceRequest {
                request_id: request_id.into(),
                minutes,
                words: 0,
            },
            &coordinator(app),
        ))
        .await
        .map(|r| r.into_inner().request.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_billed_to_the_requester_during_the_trajectory_and_to_the_person_after_it() {
    let app = spawn_app().await;
    let ocmw = requester(&app, "ocmw-antwerpen");
    // Running since 2026-01-15; attest today; requested while running and stopped today,
    // before the service; and no person at all.
    let running = register_start_sign(&app, 910_101_001).await;
    let attested = ended(&app, 910_101_002, false).await;
    let stopped = register_start_sign(&app, 910_101_003).await;
    let soon = Utc::now() + TimeDelta::seconds(5);
    let mut ids = Vec::new();
    for person in [
        &running.person_id,
        &attested.person_id,
        &stopped.person_id,
        &String::new(),
    ] {
        let interpreter =
            register_interpreter(&app, &["ar", "prs"], &[pb::Mode::OnSite, pb::Mode::Video]).await;
        let r = request(&app, &ocmw, on_site(soon, 10, person))
            .await
            .expect("request");
        assert_eq!(r.state, pb::RequestState::Open as i32);
        assert_eq!(r.agency, common::Agency::Atlas as i32);
        let candidates = app
            .interpreting()
            .await
            .list_candidates(authed(
                pb::ListCandidatesRequest {
                    request_id: r.request_id.clone(),
                },
                &coordinator(&app),
            ))
            .await
            .expect("candidates")
            .into_inner()
            .candidates;
        // The free interpreter first; those booked at that hour ruled out, saying by what.
        assert_eq!(candidates.len(), ids.len() + 1);
        assert_eq!(candidates[0].interpreter_id, interpreter);
        assert!(candidates[0].eligible, "{:?}", candidates[0].reasons);
        assert!(
            candidates[0]
                .reasons
                .iter()
                .any(|r| r.contains("certified until 2030-12-31")),
            "{:?}",
            candidates[0].reasons
        );
        for taken in &candidates[1..] {
            assert!(!taken.eligible);
            assert!(
                taken.reasons.iter().any(|r| r.contains("is booked from")),
                "{:?}",
                taken.reasons
            );
        }
        let assigned = assign(&app, &r.request_id, &interpreter)
            .await
            .expect("assign");
        assert_eq!(assigned.interpreter_id, interpreter);
        assert_eq!(assigned.state, pb::RequestState::Assigned as i32);
        ids.push(r.request_id);
    }
    app.trajectories()
        .await
        .stop_trajectory(authed(
            tpb::StopTrajectoryRequest {
                trajectory_id: stopped.trajectory_id.clone(),
                reason: "moved abroad".into(),
                stopped_on: Some(today()),
            },
            &app.atlas(),
        ))
        .await
        .expect("stop");

    // A late cancellation (in 2 hours, under the 24) is billed as booked; an early one not.
    let spare = register_interpreter(&app, &["ar"], &[pb::Mode::OnSite]).await;
    let late = request(
        &app,
        &ocmw,
        on_site(Utc::now() + TimeDelta::hours(2), 90, &running.person_id),
    )
    .await
    .unwrap();
    assign(&app, &late.request_id, &spare)
        .await
        .expect("assign late");
    let early = request(
        &app,
        &ocmw,
        on_site(Utc::now() + TimeDelta::days(3), 60, &running.person_id),
    )
    .await
    .unwrap();
    assign(&app, &early.request_id, &spare)
        .await
        .expect("assign early");
    let mut client = app.interpreting().await;
    for (r, billable) in [(&late, true), (&early, false)] {
        let cancelled = client
            .cancel_request(authed(
                pb::CancelRequestRequest {
                    request_id: r.request_id.clone(),
                },
                &ocmw,
            ))
            .await
            .expect("cancel")
            .into_inner()
            .request
            .unwrap();
        assert_eq!(cancelled.state, pb::RequestState::Cancelled as i32);
        assert_eq!(cancelled.cancellation_billable, billable);
    }

    // Not recorded before the service started; then 9 minutes each (billed: the hour).
    let too_soon = perform(&app, &ids[0], 9).await.expect_err("not started");
    assert_eq!(too_soon.code(), Code::FailedPrecondition, "{too_soon:?}");
    tokio::time::sleep(
        (soon - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(200),
    )
    .await;
    for id in &ids {
        let done = perform(&app, id, 9).await.expect("performed");
        assert_eq!(done.state, pb::RequestState::Performed as i32);
    }
    let again = perform(&app, &ids[0], 9).await.expect_err("twice");
    assert_eq!(again.code(), Code::FailedPrecondition);

    // Billing follows the trajectories as interpreting learnt them from the broker.
    eventually(
        "the attest and the stop in interpreting",
        PATIENCE,
        || async {
            let ended = scalar(
                &app.interpreting_db,
                "select count(*) from trajectory where ended_on is not null",
            )
            .await;
            (ended == 2).then_some(())
        },
    )
    .await;
    let invoices = client
        .run_billing(authed(
            pb::RunBillingRequest {
                month: Some(today()),
            },
            &coordinator(&app),
        ))
        .await
        .expect("billing")
        .into_inner()
        .invoices;
    let payer = |kind: pb::PayerKind, who: &str| {
        invoices
            .iter()
            .find(|i| i.payer_kind == kind as i32 && i.payer == who)
            .unwrap_or_else(|| panic!("an invoice to {who}: {invoices:#?}"))
    };
    let to_ocmw = payer(pb::PayerKind::Organisation, "ocmw-antwerpen");
    let mut billed: Vec<&str> = to_ocmw
        .lines
        .iter()
        .map(|l| l.request_id.as_str())
        .collect();
    billed.sort();
    let mut expected = vec![ids[0].as_str(), ids[3].as_str(), late.request_id.as_str()];
    expected.sort();
    assert_eq!(
        billed, expected,
        "during the trajectory, without a person, and the late cancellation"
    );
    // On site €55/h: the 60-minute minimum for 9 minutes, 90 booked minutes for the late one.
    assert_eq!(to_ocmw.total.as_ref().unwrap().cents, 5500 + 5500 + 8250);
    for person in [&attested.person_id, &stopped.person_id] {
        let theirs = payer(pb::PayerKind::Person, person);
        assert_eq!(theirs.lines.len(), 1);
        assert_eq!(theirs.total.as_ref().unwrap().cents, 5500);
    }
    assert_eq!(invoices.len(), 3);
    let rerun = client
        .run_billing(authed(
            pb::RunBillingRequest {
                month: Some(today()),
            },
            &coordinator(&app),
        ))
        .await
        .expect("billing again")
        .into_inner()
        .invoices;
    assert!(rerun.is_empty(), "billed twice: {rerun:#?}");

    // The requester sees its own invoice only; the coordinator exports all three.
    let seen = client
        .list_invoices(authed(
            pb::ListInvoicesRequest {
                month: Some(today()),
                page: None,
            },
            &ocmw,
        ))
        .await
        .expect("requester's invoices")
        .into_inner()
        .invoices;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].invoice_id, to_ocmw.invoice_id);
    let csv = client
        .export_invoices(authed(
            pb::ExportInvoicesRequest {
                month: Some(today()),
            },
            &coordinator(&app),
        ))
        .await
        .expect("export")
        .into_inner()
        .csv;
    assert_eq!(csv.lines().count(), 1 + 5, "{csv}");
    assert!(csv.starts_with("invoice_id,month,agency,payer_kind,payer,request_id"));
    assert!(
        csv.contains(&format!("person,{}", attested.person_id)),
        "{csv}"
    );

    // One InterpretingBilled per invoice, keyed by the invoice.
    let brokers = app.broker.address();
    let events = eventually("an InterpretingBilled per invoice", PATIENCE, || async {
        let events =
            kafka::decoded::<pb::InterpretingBilled>(&brokers, "interpreting.events.v1").await;
        (events.len() == 3).then_some(events)
    })
    .await;
    let mut keys: Vec<String> = events
        .iter()
        .map(|(m, e)| {
            let key =
                String::from_utf8_lossy(rdkafka::Message::key(m).unwrap_or_default()).into_owned();
            assert_eq!(key, e.invoice_id);
            key
        })
        .collect();
    keys.sort();
    let mut invoice_ids: Vec<String> = invoices.iter().map(|i| i.invoice_id.clone()).collect();
    invoice_ids.sort();
    assert_eq!(keys, invoice_ids);
    drop(client);
    app.stop().await;
}

/// Requests at one hour tomorrow, made through the API.
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
    assert!(
        outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| e.code() == Code::FailedPrecondition)
    );
    let rows = scalar(
        &app.interpreting_db,
        &format!("select count(*) from booking where request_id = '{contested}'"),
    )
    .await;
    assert_eq!(rows, 1);
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
    interpreting::store::municipality::Entity::insert(
        interpreting::store::municipality::ActiveModel {
            code: Set(ANTWERP.into()),
            current_nis: Set(ANTWERP.into()),
            province_nis: Set("10000".into()),
            agency: Set(Some("atlas".into())),
        },
    )
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
    assert_eq!(own.len(), 1);
    drop(client);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trajectory_event_delivered_twice_is_applied_once() {
    let app = spawn_app().await;
    let trajectory_id = uuid::Uuid::now_v7().to_string();
    let person_id = uuid::Uuid::now_v7().to_string();
    let publish = |id: &'static str, ce_type: &'static str, payload: Vec<u8>| {
        let brokers = app.broker.address();
        let key = trajectory_id.clone();
        async move {
            let headers = [
                ("ce_id", id),
                ("ce_type", ce_type),
                ("ce_source", "/inburgering/trajectories"),
                ("ce_specversion", "1.0"),
            ];
            kafka::produce(&brokers, "trajectories.events.v1", &key, &headers, &payload).await;
        }
    };
    let started = tpb::TrajectoryStarted {
        trajectory_id: trajectory_id.clone(),
        person_id: person_id.clone(),
        started_on: Some(inburgering_testkit::date(2026, 2, 1)),
        ..Default::default()
    };
    let stopped = |day| tpb::TrajectoryStopped {
        trajectory_id: trajectory_id.clone(),
        person_id: person_id.clone(),
        stopped_on: Some(inburgering_testkit::date(2026, 9, day)),
        ..Default::default()
    };
    let start_id = "0190e1c2-0000-7000-8000-000000000001";
    let stop_id = "0190e1c2-0000-7000-8000-000000000002";
    for _ in 0..2 {
        publish(
            start_id,
            "inburgering.trajectories.v1.TrajectoryStarted",
            started.encode_to_vec(),
        )
        .await;
        publish(
            stop_id,
            "inburgering.trajectories.v1.TrajectoryStopped",
            stopped(10).encode_to_vec(),
        )
        .await;
    }
    // A later stop of the same trajectory (a correction) does not move its end.
    publish(
        "0190e1c2-0000-7000-8000-000000000003",
        "inburgering.trajectories.v1.TrajectoryStopped",
        stopped(20).encode_to_vec(),
    )
    .await;
    let applied = format!(
        "select count(*) from inbox where consumer = 'interpreting.trajectories' and event_id in ('{start_id}', '{stop_id}', '0190e1c2-0000-7000-8000-000000000003')"
    );
    eventually("the three events applied", PATIENCE, || async {
        (scalar(&app.interpreting_db, &applied).await == 3).then_some(())
    })
    .await;
    let rows = scalar(&app.interpreting_db, &format!("select count(*) from trajectory where trajectory_id = '{trajectory_id}' and started_on = '2026-02-01' and ended_on = '2026-09-10'")).await;
    assert_eq!(rows, 1);
    app.stop().await;
}
