//! Listing at scale: `ListTrajectories` pages at 10 thousand and at 1 million
//! trajectories, first page, a page from the middle (resumed after the median id) and a
//! page filtered by municipality. Keyset paging on the primary key should keep every page
//! as fast at a million rows as at ten thousand; the bench prints both and their ratio.
//!
//! The rows are inserted with SQL (`generate_series`) into the trajectories database of a
//! test app: only the pages go through gRPC. Run with `scripts/bench [--release] listing`.
//! It prints numbers and asserts nothing about time.

use std::time::{Duration, Instant};

use proto::{common::v1::PageRequest, trajectories::v1 as pb};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::ExposeSecret;
use testkit::{authed, spawn_app};

/// Calls per measured page (the median is printed).
const CALLS: usize = 40;
const SIZES: [i64; 2] = [10_000, 1_000_000];

/// Adds trajectories until the table holds `total`: a third each in Antwerp, Ghent and
/// Brussels, all obliged and active.
async fn fill(db: &DatabaseConnection, total: i64) {
    let have: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "select count(*) from trajectory",
        ))
        .await
        .expect("count")
        .expect("a row")
        .try_get_by_index(0)
        .expect("a count");
    if total <= have {
        return;
    }
    db.execute_unprepared(&format!(
        "insert into trajectory (id, person_id, municipality_nis, agency, status, started_on, \
         rights_and_duties_clause, created_at, participation_hours, version, state) \
         select gen_random_uuid(), gen_random_uuid(), \
         (array['11002', '44021', '21004'])[1 + g % 3], \
         (array['atlas', 'in-gent', 'bon'])[1 + g % 3], \
         'obliged', date '2026-01-15', false, now(), 0, 0, 'active' \
         from generate_series({have}, {}) as g",
        total - 1
    ))
    .await
    .expect("insert trajectories");
    db.execute_unprepared("analyze trajectory")
        .await
        .expect("analyze");
}

/// The median time of `CALLS` listings of `request`, and how many trajectories a page held.
async fn median(
    client: &pb::trajectory_service_client::TrajectoryServiceClient<tonic::transport::Channel>,
    token: &str,
    request: pb::ListTrajectoriesRequest,
) -> (Duration, usize) {
    let mut times = Vec::with_capacity(CALLS);
    let mut held = 0;
    for _ in 0..CALLS {
        let started = Instant::now();
        let page = client
            .clone()
            .list_trajectories(authed(request.clone(), token))
            .await
            .expect("a page")
            .into_inner();
        times.push(started.elapsed());
        held = page.trajectories.len();
    }
    times.sort();
    (times[CALLS / 2], held)
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let app = spawn_app().await;
    let db = Database::connect(app.trajectories_db.expose_secret())
        .await
        .expect("trajectories' database");
    let client = app.trajectories().await;
    // Atlas sees Antwerp's third of the rows.
    let token = app.atlas();
    let page = |after: String| PageRequest {
        page_size: 50,
        page_token: after,
    };
    let mut rows = Vec::new();
    for total in SIZES {
        let filling = Instant::now();
        fill(&db, total).await;
        let filled = filling.elapsed();
        let middle: String = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!(
                    "select id::text from trajectory where agency = 'atlas' order by id \
                     offset {} limit 1",
                    total / 6
                ),
            ))
            .await
            .expect("the median id")
            .expect("a row")
            .try_get_by_index(0)
            .expect("an id");
        let first = median(
            &client,
            &token,
            pb::ListTrajectoriesRequest {
                page: Some(page(String::new())),
                ..Default::default()
            },
        )
        .await;
        let deep = median(
            &client,
            &token,
            pb::ListTrajectoriesRequest {
                page: Some(page(middle.clone())),
                ..Default::default()
            },
        )
        .await;
        let by_municipality = median(
            &client,
            &token,
            pb::ListTrajectoriesRequest {
                page: Some(page(middle)),
                municipality_nis: "11002".into(),
                ..Default::default()
            },
        )
        .await;
        rows.push((total, filled, first, deep, by_municipality));
    }

    println!(
        "inburgering bench: ListTrajectories pages of 50 ({} build), median of {CALLS} calls",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:>10}  {:>10}  {:>12}  {:>12}  {:>16}",
        "rows", "filled in", "first (ms)", "middle (ms)", "Antwerp, middle"
    );
    for (total, filled, first, deep, by_municipality) in &rows {
        assert!(
            first.1 == 50 && deep.1 == 50 && by_municipality.1 == 50,
            "every page holds 50 trajectories"
        );
        println!(
            "{total:>10}  {:>9.1}s  {:>12}  {:>12}  {:>16}",
            filled.as_secs_f64(),
            ms(first.0),
            ms(deep.0),
            ms(by_municipality.0)
        );
    }
    let (small, large) = (&rows[0], &rows[1]);
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
    println!(
        "1M / 10k: first page {:.2}, middle page {:.2}, Antwerp middle page {:.2} (flat is 1)",
        ratio(small.2.0, large.2.0),
        ratio(small.3.0, large.3.0),
        ratio(small.4.0, large.4.0)
    );
    let _ = db.close().await;
    app.stop().await;
}
