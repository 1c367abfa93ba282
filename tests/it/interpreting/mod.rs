//! Interpreting across services: public bodies request, coordinators match and record,
//! billing follows each person's trajectory (from trajectories' events) on the day of the
//! service. [`matching`]: the database never lets two coordinators book one interpreter
//! twice at once, on PostgreSQL (the exclusion constraint, through gRPC) and on SQLite
//! (the transaction); bad input and other organisations are refused saying why.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use inburgering_testkit::{
    TestApp, authed, eventually, kafka, register_start_sign, scalar, spawn_app,
};

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
    wire::date(platform::clock::today())
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
    let attested = crate::ceremonies::attested(&app, 910_101_002, false).await;
    let stopped = register_start_sign(&app, 910_101_003).await;
    // Far enough ahead for the twenty calls below on two busy cores.
    let soon = Utc::now() + TimeDelta::seconds(15);
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

    // The requester's late cancellation (in 10 minutes, under the 24 hours) is billed as
    // booked; an early one is not, nor one the agency makes.
    let spare = register_interpreter(&app, &["ar"], &[pb::Mode::OnSite]).await;
    let late = request(
        &app,
        &ocmw,
        on_site(Utc::now() + TimeDelta::minutes(10), 90, &running.person_id),
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
    let other = register_interpreter(&app, &["ar"], &[pb::Mode::OnSite]).await;
    let by_agency = request(
        &app,
        &ocmw,
        on_site(Utc::now() + TimeDelta::minutes(10), 60, &running.person_id),
    )
    .await
    .unwrap();
    assign(&app, &by_agency.request_id, &other)
        .await
        .expect("assign");
    let mut client = app.interpreting().await;
    let atlas = coordinator(&app);
    for (r, token, billable) in [
        (&late, &ocmw, true),
        (&early, &ocmw, false),
        (&by_agency, &atlas, false),
    ] {
        let cancelled = client
            .cancel_request(authed(
                pb::CancelRequestRequest {
                    request_id: r.request_id.clone(),
                },
                token,
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
    let begun = client
        .cancel_request(authed(
            pb::CancelRequestRequest {
                request_id: ids[0].clone(),
            },
            &ocmw,
        ))
        .await
        .expect_err("begun");
    assert_eq!(begun.code(), Code::FailedPrecondition, "{begun:?}");
    assert!(
        begun
            .message()
            .contains("recorded as performed, not cancelled")
    );
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
    // Coordinators see who pays by what interpreting knows now; requesters are not told
    // whether a person's trajectory has ended.
    for (id, payer) in [
        (&ids[0], pb::PayerKind::Organisation),
        (&ids[1], pb::PayerKind::Person),
        (&ids[2], pb::PayerKind::Person),
        (&ids[3], pb::PayerKind::Organisation),
    ] {
        for (token, shown) in [(&atlas, payer), (&ocmw, pb::PayerKind::Unspecified)] {
            let r = client
                .get_request(authed(
                    pb::GetRequestRequest {
                        request_id: id.clone(),
                    },
                    token,
                ))
                .await
                .expect("get")
                .into_inner()
                .request
                .unwrap();
            assert_eq!(r.payer_kind, shown as i32, "who pays {id}");
        }
    }
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
mod matching;

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
    // The stop again under the same event id, with another day: were it applied a second
    // time, the trajectory would end on the 5th.
    for day in [10, 5] {
        publish(
            start_id,
            "inburgering.trajectories.v1.TrajectoryStarted",
            started.encode_to_vec(),
        )
        .await;
        publish(
            stop_id,
            "inburgering.trajectories.v1.TrajectoryStopped",
            stopped(day).encode_to_vec(),
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
