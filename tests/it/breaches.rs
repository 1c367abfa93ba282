//! Missed deadlines and the declaration of effort: the scheduled sweep publishes
//! `ObligationBreached` once per component, a late record adds no second breach, and a
//! "verklaring geleverde inspanningen" meets the obligation without an attest.

use std::time::Duration;

use chrono::Datelike;
use inburgering_testkit::{
    TestApp, authed, date, eventually, kafka, register_and_start, register_start_sign,
    sign_request, spawn_app,
};
use proto::{
    common::v1::Date,
    trajectories::v1::{self as pb, trajectory_service_client::TrajectoryServiceClient},
};
use rdkafka::message::Message as _;
use tonic::Code;
use tonic::transport::Channel;

use platform::events::Outbox;
use sea_orm::Database;
use secrecy::ExposeSecret;
use trajectories::sweep;

use crate::citizenship::{attest, obligation};

const PATIENCE: Duration = Duration::from_secs(30);

/// `days` from today, as a contract deadline that has not passed.
fn from_today(days: i64) -> Date {
    let d = platform::clock::today() + chrono::Duration::days(days);
    date(d.year(), d.month() as i32, d.day() as i32)
}

/// The breaches published so far, as (trajectory, component, deadline).
async fn breaches(app: &TestApp) -> Vec<(String, pb::Component, Date)> {
    kafka::decoded::<pb::ObligationBreached>(&app.broker.address(), "trajectories.events.v1")
        .await
        .into_iter()
        .map(|(m, b)| {
            assert_eq!(
                m.key(),
                Some(b.trajectory_id.as_bytes()),
                "keyed by trajectory"
            );
            (b.trajectory_id.clone(), b.component(), b.deadline.unwrap())
        })
        .collect()
}

/// Starts an obliged trajectory on 2026-01-15 and signs it with NT2 and participation
/// deadlines ahead and the MO deadline given; its id.
async fn start_and_sign(
    client: &mut TrajectoryServiceClient<Channel>,
    token: &str,
    base: u64,
    mo_deadline: Date,
) -> String {
    let (_, id) = register_and_start(client, token, base, "11002").await;
    client
        .sign_contract(authed(
            pb::SignContractRequest {
                nt2_deadline: Some(from_today(100)),
                mo_deadline: Some(mo_deadline),
                participation_deadline: Some(from_today(100)),
                ..sign_request(&id)
            },
            token,
        ))
        .await
        .unwrap();
    id
}

fn sweeps_done() -> u64 {
    platform::metrics::render()
        .lines()
        .filter(|l| {
            l.starts_with("scheduled_job_runs_total")
                && l.contains("job=\"breach-sweep\"")
                && l.contains("outcome=\"ok\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test]
async fn the_sweep_reports_each_missed_deadline_once_and_late_records_add_no_second_breach() {
    // Set up with the sweep off, so that it sees each trajectory complete.
    let mut app = spawn_app().await;
    let token = app.atlas();
    let mut client = app.trajectories().await;
    // Started 2026-01-15: VDAB by 2026-03-15, long past. Every other deadline is ahead,
    // but for the MO deadline of `two`, which the case worker fixed in February.
    let late = start_and_sign(&mut client, &token, 850_730_033, from_today(100)).await;
    let two = start_and_sign(&mut client, &token, 850_730_034, date(2026, 2, 1)).await;
    // Registered at VDAB on time: nothing to report.
    let on_time = start_and_sign(&mut client, &token, 850_730_035, from_today(100)).await;
    client
        .record_vdab_registration(authed(
            pb::RecordVdabRegistrationRequest {
                trajectory_id: on_time.clone(),
                registered_on: Some(date(2026, 3, 15)),
            },
            &token,
        ))
        .await
        .unwrap();
    // Suspended: the deadlines wait.
    let suspended = start_and_sign(&mut client, &token, 850_730_036, from_today(100)).await;
    client
        .suspend_trajectory(authed(
            pb::SuspendTrajectoryRequest {
                trajectory_id: suspended.clone(),
                reason: "hospitalised".into(),
                suspended_on: Some(date(2026, 2, 1)),
            },
            &token,
        ))
        .await
        .unwrap();

    app.config = std::sync::Arc::new(platform::Config {
        breach_sweep_interval_secs: 1,
        ..(*app.config).clone()
    });
    app.restart_trajectories(async {}).await;
    let mut client = app.trajectories().await;

    let first = eventually("the sweep to report three breaches", PATIENCE, || async {
        let found = breaches(&app).await;
        (found.len() >= 3).then_some(found)
    })
    .await;
    let mut expected = vec![
        (
            late.clone(),
            pb::Component::EconomicSelfReliance,
            date(2026, 3, 15),
        ),
        (
            two.clone(),
            pb::Component::EconomicSelfReliance,
            date(2026, 3, 15),
        ),
        (two.clone(), pb::Component::Mo, date(2026, 2, 1)),
    ];
    let mut sorted = first.clone();
    sorted.sort_by_key(|(t, c, _)| (t.clone(), *c as i32));
    expected.sort_by_key(|(t, c, _)| (t.clone(), *c as i32));
    assert_eq!(sorted, expected);

    // More sweeps, then the late registration itself: still one breach per component.
    let seen = sweeps_done();
    eventually("three more sweeps", PATIENCE, || async {
        (sweeps_done() >= seen + 3).then_some(())
    })
    .await;
    let registered = client
        .record_vdab_registration(authed(
            pb::RecordVdabRegistrationRequest {
                trajectory_id: late.clone(),
                registered_on: Some(date(2026, 4, 2)),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();
    assert!(
        registered
            .components
            .iter()
            .any(|c| c.component() == pb::Component::EconomicSelfReliance
                && c.completed_on.is_some())
    );
    eventually("the late registration's event", PATIENCE, || async {
        let messages = kafka::read_all(&app.broker.address(), "trajectories.events.v1").await;
        messages
            .iter()
            .any(|m| {
                m.key() == Some(late.as_bytes())
                    && kafka::header(m, "ce_type").as_deref()
                        == Some("inburgering.trajectories.v1.ComponentCompleted")
            })
            .then_some(())
    })
    .await;
    assert_eq!(breaches(&app).await.len(), 3, "no breach twice");
    app.stop().await;
}

#[tokio::test]
async fn a_declaration_of_effort_meets_the_obligation_without_an_attest() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let mut client = app.trajectories().await;
    let declare = |grounds: &str, issued_on: Date| pb::DeclareEffortRequest {
        trajectory_id: signed.trajectory_id.clone(),
        grounds: grounds.into(),
        issued_on: Some(issued_on),
    };

    let refused = client
        .declare_effort(authed(declare(" ", date(2026, 6, 1)), &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().starts_with("grounds"), "{refused:?}");
    let refused = client
        .declare_effort(authed(declare("low literacy", from_today(1)), &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().starts_with("issued_on"), "{refused:?}");
    let elsewhere = client
        .declare_effort(authed(
            declare("low literacy", date(2026, 6, 1)),
            &app.token("in-gent", &["case-worker"]),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        elsewhere.code(),
        Code::NotFound,
        "another agency's trajectory"
    );

    let before = obligation(&app).await;
    assert_eq!(before, pb::Answer::No);

    let declared = client
        .declare_effort(authed(
            declare(
                "three NT2 attempts after 600 course hours; A1 reached",
                date(2026, 6, 1),
            ),
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();
    assert_eq!(declared.effort_declared_on, Some(date(2026, 6, 1)));
    assert_eq!(declared.attest_issued_on, None);
    assert_eq!(declared.b1_due_by, None, "no B1 follow-up without attest");
    let again = client
        .declare_effort(authed(declare("again", date(2026, 6, 2)), &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);

    let after = obligation(&app).await;
    assert_eq!(after, pb::Answer::Yes);
    let advice = client
        .get_dvz_advice(authed(
            pb::GetDvzAdviceRequest {
                person_id: signed.person_id.clone(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .advice
        .unwrap();
    assert_eq!(advice.effort_declared_on, Some(date(2026, 6, 1)));

    let (event, issued) = kafka::first::<pb::EffortDeclarationIssued>(
        &app.broker.address(),
        "trajectories.events.v1",
        PATIENCE,
    )
    .await;
    assert_eq!(issued.trajectory_id, signed.trajectory_id);
    assert_eq!(
        issued.unreached_components().collect::<Vec<_>>(),
        vec![
            pb::Component::Nt2,
            pb::Component::Mo,
            pb::Component::EconomicSelfReliance,
            pb::Component::Participation
        ]
    );
    let raw = String::from_utf8_lossy(event.payload().unwrap());
    assert!(
        !raw.contains("NT2 attempts"),
        "the grounds stay with the agency"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_b1_follow_up_still_open_after_month_24_is_reported_overdue_once() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let (attested, _) = attest(&app, &signed).await;
    let due_by = attested
        .b1_due_by
        .expect("an obliged 41-year-old is followed up");

    // The sweep as it will run two years on: the grace period after month 24, twice.
    let db = Database::connect(app.trajectories_db.expose_secret())
        .await
        .unwrap();
    let outbox = Outbox::new("trajectories", "trajectories.events.v1");
    let due = chrono::NaiveDate::from_ymd_opt(due_by.year, due_by.month as u32, due_by.day as u32)
        .unwrap();
    let quiet = due + chrono::Days::new(14);
    assert_eq!(sweep::run_once(&db, &outbox, quiet).await.unwrap(), 0);
    let later = quiet + chrono::Days::new(1);
    assert_eq!(sweep::run_once(&db, &outbox, later).await.unwrap(), 1);
    assert_eq!(
        sweep::run_once(&db, &outbox, later).await.unwrap(),
        0,
        "once"
    );

    let (_, event) = kafka::first::<pb::B1FollowUpOverdue>(
        &app.broker.address(),
        "trajectories.events.v1",
        PATIENCE,
    )
    .await;
    assert_eq!(event.trajectory_id, signed.trajectory_id);
    assert_eq!(event.due_by, Some(due_by));
    app.stop().await;
}
