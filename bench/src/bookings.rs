//! Bookings under contention: many clients race for few seats. Prints bookings per
//! second and checks, by counting, that no session was oversold.
//!
//! Run with `scripts/bench`. It prints numbers and asserts nothing about time.

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use proto::testing::v1 as pb;
use testkit::{authed, eventually, register_start_sign, spawn_app};

const CANDIDATES: usize = 300;
const SESSIONS: usize = 10;
const SEATS: i32 = 20;
const CLIENTS: usize = 32;

#[tokio::main]
async fn main() {
    let app = spawn_app().await;
    let admin = app.token("atlas", &["test-admin"]);
    let people: Vec<String> = stream::iter(0..CANDIDATES)
        .map(|i| {
            let app = &app;
            async move {
                register_start_sign(app, 300_000_000 + i as u64)
                    .await
                    .person_id
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let testing = app.testing().await;
    let last = people.last().expect("candidates").clone();
    eventually(
        "testing to learn every contract",
        Duration::from_secs(120),
        || {
            let mut testing = testing.clone();
            let token = admin.clone();
            let last = last.clone();
            async move {
                testing
                    .get_candidate(authed(pb::GetCandidateRequest { person_id: last }, &token))
                    .await
                    .ok()
                    .and_then(|r| r.into_inner().candidate)
                    .filter(|c| c.may_book_nt2)
            }
        },
    )
    .await;
    // The projection applies in order: once the last contract is in, all are.
    let starts_at = chrono::Utc::now() + chrono::Duration::days(1);
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let session = testing
            .clone()
            .plan_session(authed(
                pb::PlanSessionRequest {
                    test_type: pb::TestType::Nt2A2 as i32,
                    location: "Bench hall".into(),
                    starts_at: Some(prost_types::Timestamp {
                        seconds: starts_at.timestamp(),
                        nanos: 0,
                    }),
                    capacity: SEATS,
                },
                &admin,
            ))
            .await
            .expect("plan")
            .into_inner()
            .session
            .expect("session");
        sessions.push(session.session_id);
    }

    let started = Instant::now();
    let outcomes: Vec<bool> = stream::iter(people.iter().enumerate())
        .map(|(i, person)| {
            let mut testing = testing.clone();
            let token = app.atlas();
            let session_id = sessions[i % SESSIONS].clone();
            async move {
                testing
                    .book_test(authed(
                        pb::BookTestRequest {
                            session_id,
                            person_id: person.clone(),
                        },
                        &token,
                    ))
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(CLIENTS)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let booked = outcomes.iter().filter(|ok| **ok).count();

    let listed = testing
        .clone()
        .list_sessions(authed(pb::ListSessionsRequest::default(), &admin))
        .await
        .expect("list")
        .into_inner()
        .sessions;
    let oversold = listed.iter().filter(|s| s.booked > s.capacity).count();
    let seats: i32 = listed.iter().map(|s| s.capacity).sum();
    let taken: i32 = listed.iter().map(|s| s.booked).sum();

    println!(
        "inburgering bench: bookings under contention ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{CANDIDATES} candidates race for {seats} seats in {SESSIONS} sessions with {CLIENTS} concurrent clients"
    );
    println!(
        "booking attempts/s                 {:>8.0}",
        CANDIDATES as f64 / elapsed
    );
    println!(
        "successful bookings/s              {:>8.0}",
        booked as f64 / elapsed
    );
    println!(
        "bookings accepted / seats          {booked} / {seats} (sessions report {taken} taken)"
    );
    println!("sessions oversold                  {oversold}");
    app.stop().await;
}
