//! Commands and events on one PostgreSQL: how close `SignContract` (a gRPC call that reads
//! a trajectory, then commits the contract, two fees and an outbox row in one transaction)
//! comes to the database's raw single-row insert rate, and how long an event takes from
//! commit to a consumer on the other side of the broker.
//!
//! Run with `scripts/bench`. It prints numbers and ratios and asserts nothing about time.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use rdkafka::{
    consumer::{Consumer, StreamConsumer},
    message::{Headers, Message},
};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use secrecy::ExposeSecret;
use testkit::{authed, postgres, register_and_start, sign_request, spawn_app};

/// Commands per concurrency level, and single-row inserts per level for the ceiling.
const COMMANDS: usize = 600;
const INSERTS: usize = 3000;
const LEVELS: [usize; 2] = [8, 32];

#[tokio::main]
async fn main() {
    let app = spawn_app().await;

    // The ceiling: single-row autocommit inserts into an empty table of the same server.
    let url = postgres::fresh_database().await;
    let db = Database::connect(url.expose_secret())
        .await
        .expect("bench database");
    db.execute_unprepared("create table row_ceiling (id uuid primary key, payload bytea not null)")
        .await
        .expect("create table");
    let mut ceiling = Vec::new();
    for level in LEVELS {
        let started = Instant::now();
        stream::iter(0..INSERTS)
            .for_each_concurrent(level, |_| {
                let db = db.clone();
                async move {
                    db.execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "insert into row_ceiling (id, payload) values ($1, $2)",
                        [uuid::Uuid::now_v7().into(), vec![0u8; 200].into()],
                    ))
                    .await
                    .expect("insert");
                }
            })
            .await;
        ceiling.push(INSERTS as f64 / started.elapsed().as_secs_f64());
    }

    // A consumer on the far side of the broker, timing ContractSigned from commit.
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let listener = tokio::spawn(listen(app.broker.address(), latencies.clone()));

    // Trajectories to sign, made outside the measurement.
    let token = app.atlas();
    let client = app.trajectories().await;
    let total = COMMANDS * LEVELS.len();
    let ids: Vec<String> = stream::iter(0..total)
        .map(|i| {
            let mut client = client.clone();
            let token = token.clone();
            async move {
                register_and_start(&mut client, &token, 100_000_000 + i as u64, "11002")
                    .await
                    .1
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let mut signing = Vec::new();
    for (level, chunk) in LEVELS.into_iter().zip(ids.chunks(COMMANDS)) {
        let started = Instant::now();
        stream::iter(chunk.iter().cloned())
            .for_each_concurrent(level, |id| {
                let mut client = client.clone();
                let token = token.clone();
                async move {
                    client
                        .sign_contract(authed(sign_request(&id), &token))
                        .await
                        .expect("sign");
                }
            })
            .await;
        signing.push(COMMANDS as f64 / started.elapsed().as_secs_f64());
    }

    let deadline = Instant::now() + Duration::from_secs(120);
    while latencies.lock().expect("lock").len() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    listener.abort();
    let mut lat = latencies.lock().expect("lock").clone();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };

    println!(
        "inburgering bench: commands and events on one PostgreSQL ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("{:<48} {:>12} {:>12}", "", "8 clients", "32 clients");
    println!(
        "{:<48} {:>12.0} {:>12.0}",
        "single-row inserts/s (ceiling)", ceiling[0], ceiling[1]
    );
    println!(
        "{:<48} {:>12.0} {:>12.0}",
        "SignContract commands/s via gRPC", signing[0], signing[1]
    );
    println!(
        "{:<48} {:>12.3} {:>12.3}",
        "ratio commands / ceiling",
        signing[0] / ceiling[0],
        signing[1] / ceiling[1]
    );
    println!(
        "commit → consumer latency over {} ContractSigned events: p50 {:.1} ms, p99 {:.1} ms",
        lat.len(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    println!(
        "(a SignContract is a read plus one transaction of four writes: contract, two fees, outbox row)"
    );
    app.stop().await;
}

async fn listen(brokers: String, latencies: Arc<Mutex<Vec<Duration>>>) {
    // Configured as the services' consumers are, so the latency is theirs.
    let group = format!("bench-{}", uuid::Uuid::now_v7());
    let consumer: StreamConsumer = platform::events::consumer::consumer_config(&brokers, &group)
        .create()
        .expect("bench consumer");
    consumer
        .subscribe(&["trajectories.events.v1"])
        .expect("subscribe");
    loop {
        let Ok(message) = consumer.recv().await else {
            continue;
        };
        let received = chrono::Utc::now();
        let mut is_contract = false;
        let mut time = None;
        if let Some(headers) = message.headers() {
            for h in headers.iter() {
                let value = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                match h.key {
                    "ce_type" => {
                        is_contract =
                            value.as_deref() == Some("inburgering.trajectories.v1.ContractSigned")
                    }
                    "ce_time" => {
                        time = value.and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                    }
                    _ => {}
                }
            }
        }
        if let (true, Some(time)) = (is_contract, time) {
            let elapsed = (received - time.with_timezone(&chrono::Utc))
                .to_std()
                .unwrap_or_default();
            latencies.lock().expect("lock").push(elapsed);
        }
    }
}
