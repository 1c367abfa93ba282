//! Matching under contention: coordinators assign a day of interpreting requests over a
//! small pool, racing for the same interpreters and hours. Each coordinator takes the
//! next request, lists its candidates and books the best one that is still free, trying
//! the next when the database refuses a double booking. Prints assignments per second at
//! 1 and at N coordinators, the refusals, and proves from the database that no two
//! bookings of one interpreter overlap.
//!
//! Run with `scripts/bench`. It prints numbers and asserts nothing about time.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use chrono::{TimeDelta, Utc};
use futures::{StreamExt, stream};
use proto::interpreting::v1 as pb;
use testkit::{TestApp, authed, scalar, spawn_app};
use tonic::Code;

const INTERPRETERS: usize = 20;
/// Requests per round: from 08:00 every 6 minutes, an hour each, over the day.
const REQUESTS: usize = 200;
const COORDINATORS: [usize; 2] = [1, 32];

#[derive(Default)]
struct Tally {
    assigned: AtomicUsize,
    refused: AtomicUsize,
    unmatched: AtomicUsize,
}

async fn requests(app: &TestApp, day: i64) -> Vec<String> {
    let ocmw = app.token("ocmw-antwerpen", &["interpreting-requester"]);
    let first = (Utc::now() + TimeDelta::days(day))
        .date_naive()
        .and_hms_opt(7, 0, 0)
        .expect("a time")
        .and_utc();
    stream::iter(0..REQUESTS)
        .map(|i| {
            let ocmw = ocmw.clone();
            async move {
                let starts_at = first + TimeDelta::minutes(6 * i as i64);
                app.interpreting()
                    .await
                    .request_interpreting(authed(
                        pb::RequestInterpretingRequest {
                            municipality_nis: "11002".into(),
                            language: "ar".into(),
                            mode: pb::Mode::OnSite as i32,
                            starts_at: Some(wire::timestamp(starts_at)),
                            duration_minutes: 60,
                            place: "Bench street 1".into(),
                            person_id: String::new(),
                            purpose: "bench".into(),
                            word_count: 0,
                            due_on: None,
                        },
                        &ocmw,
                    ))
                    .await
                    .expect("request")
                    .into_inner()
                    .request
                    .expect("request")
                    .request_id
            }
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// One coordinator's work on one request: the best free candidate, trying the next on a
/// refusal.
async fn match_one(app: &TestApp, token: &str, id: String, tally: &Tally) {
    let mut client = app.interpreting().await;
    let candidates = client
        .list_candidates(authed(
            pb::ListCandidatesRequest {
                request_id: id.clone(),
            },
            token,
        ))
        .await
        .expect("candidates")
        .into_inner()
        .candidates;
    for c in candidates.iter().filter(|c| c.eligible) {
        match client
            .assign_interpreter(authed(
                pb::AssignInterpreterRequest {
                    request_id: id.clone(),
                    interpreter_id: c.interpreter_id.clone(),
                },
                token,
            ))
            .await
        {
            Ok(_) => {
                tally.assigned.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) if e.code() == Code::FailedPrecondition => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => panic!("assign: {e:?}"),
        }
    }
    tally.unmatched.fetch_add(1, Ordering::Relaxed);
}

#[tokio::main]
async fn main() {
    let app = Arc::new(spawn_app().await);
    let coordinator = app.token("atlas", &["interpreting-coordinator"]);
    let all_week: Vec<pb::WeeklyWindow> = (1..=7)
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
        .collect();
    for i in 0..INTERPRETERS {
        app.interpreting()
            .await
            .register_interpreter(authed(
                pb::RegisterInterpreterRequest {
                    given_name: format!("Tolk{i}"),
                    family_name: "Bench".into(),
                    email: format!("tolk{i}@bench.example"),
                    phone: "+32 470 00 00 00".into(),
                    languages: vec!["ar".into()],
                    modes: vec![pb::Mode::OnSite as i32],
                    regions: vec![pb::Region::Antwerpen as i32],
                    availability: all_week.clone(),
                    certification: None,
                },
                &coordinator,
            ))
            .await
            .expect("register");
    }
    println!(
        "matching under contention: {INTERPRETERS} interpreters, {REQUESTS} one-hour requests a day \
         starting every 6 minutes (10 overlap at any hour), PostgreSQL, gRPC"
    );
    let mut rates = Vec::new();
    for (round, coordinators) in COORDINATORS.into_iter().enumerate() {
        // A day of its own per round, so the rounds do not compete for the same hours.
        let ids = requests(&app, 2 + round as i64).await;
        let tally = Arc::new(Tally::default());
        let queue = Arc::new(std::sync::Mutex::new(ids));
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..coordinators {
            let (app, queue, tally, token) = (
                app.clone(),
                queue.clone(),
                tally.clone(),
                coordinator.clone(),
            );
            workers.spawn(async move {
                loop {
                    let next = queue.lock().expect("the queue").pop();
                    let Some(id) = next else { break };
                    match_one(&app, &token, id, &tally).await;
                }
            });
        }
        workers.join_all().await;
        let elapsed = started.elapsed().as_secs_f64();
        let assigned = tally.assigned.load(Ordering::Relaxed);
        let rate = assigned as f64 / elapsed;
        rates.push(rate);
        println!(
            "  {coordinators:>2} coordinator(s): {assigned} assigned, {} refused as double bookings, {} without a free interpreter, \
             in {elapsed:.2} s: {rate:.1} assignments/s",
            tally.refused.load(Ordering::Relaxed),
            tally.unmatched.load(Ordering::Relaxed),
        );
    }
    let overlapping = scalar(
        &app.interpreting_db,
        "select count(*) from booking a join booking b on a.interpreter_id = b.interpreter_id \
         and a.request_id < b.request_id and a.starts_at < b.ends_at and b.starts_at < a.ends_at",
    )
    .await;
    let booked = scalar(&app.interpreting_db, "select count(*) from booking").await;
    println!(
        "  bookings: {booked}; pairs of one interpreter's bookings that overlap: {overlapping}"
    );
    println!(
        "  ratio {} coordinators / 1: {:.2}",
        COORDINATORS[1],
        rates[1] / rates[0]
    );
    assert_eq!(overlapping, 0, "an interpreter was booked twice at once");
    let app = Arc::into_inner(app).expect("the workers are done");
    app.stop().await;
}
