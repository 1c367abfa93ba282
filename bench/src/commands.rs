//! Commands and events on one PostgreSQL: how close `SignContract` through gRPC comes to
//! PostgreSQL running exactly the SQL statements one `SignContract` issues (captured on
//! the wire and replayed by pgbench, on the same server and database, in the same run),
//! and how long an event takes from commit to a consumer on the other side of the broker.
//!
//! The capture: a second trajectories server on the same database through a recording
//! proxy (`pgwire`) signs one contract after a few warm-up signatures; what the relay
//! sends meanwhile (its own connection, found by its advisory lock) is left out. The
//! replay: the same statements in the same order with the same values, but for the keys:
//! the trajectory to sign comes from a table of unsigned ones filled through gRPC (one
//! sub-select in the first read, whose row `\gset` keeps for the statements after it),
//! and new ids are `gen_random_uuid()`. pgbench runs it with prepared statements, as sqlx
//! does.
//!
//! The latency: 5 seconds of `SignContract` at each steady rate of `BENCH_RATES` per
//! second (default `50,250,500`), each call sent on its tick whatever the others do,
//! timed from the event's `ce_time` (staged, in the command's transaction) to its arrival
//! at a consumer configured as the services' are, and split in two hops at the Kafka
//! record's timestamp (the moment the relay handed it to the producer): staged → relayed
//! (commit, the relay's wake-up and read) and relayed → consumed (producer, broker,
//! fetch). The goal printed beside it: p99 ≤ 50 ms at 250/s.
//!
//! Run with `scripts/bench` (`--release` for the figures that count). It prints numbers
//! and ratios and asserts nothing about time. `BENCH_POOL` sets the services' pool size
//! (default 32, the largest concurrency measured).

mod pgwire;

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use proto::trajectories::v1::trajectory_service_client::TrajectoryServiceClient;
use rdkafka::{
    consumer::{Consumer, StreamConsumer},
    message::{Headers, Message},
};
use sea_orm::{ConnectionTrait, Database};
use secrecy::{ExposeSecret, SecretString};
use testkit::{
    Issuer, authed, eventually, postgres, register_and_start, scalar, sign_request,
    spawn_app_configured,
};

/// Commands per concurrency level, for gRPC and for pgbench alike.
const COMMANDS: usize = 1600;
const LEVELS: [usize; 2] = [8, 32];
/// The pgbench client number times this plus its transaction number keys its target.
const PER_CLIENT: usize = 1_000_000;
/// Signatures before the recorded one, so the pool's connections have their statements
/// prepared, as in a service that has run a while.
const WARM_UPS: usize = 40;
/// Signatures whose events tell that the latency listener reads the topic's end.
const CANARIES: usize = 3;

#[tokio::main]
async fn main() {
    let pool: u32 = std::env::var("BENCH_POOL")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(32);
    let rates: Vec<f64> = std::env::var("BENCH_RATES")
        .ok()
        .map(|r| r.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![50.0, 250.0, 500.0]);
    let paced: Vec<usize> = rates.iter().map(|r| (r * 5.0) as usize).collect();
    let app = spawn_app_configured(Issuer::Dev, |c| c.database_max_connections = pool).await;
    let token = app.atlas();
    let client = app.trajectories().await;
    let mut next_person = 100_000_000u64;

    // Capture what one SignContract sends, through a proxy in front of the same database.
    let admin = postgres::admin_url();
    let upstream = server_address(&admin);
    let proxy = pgwire::Proxy::start(upstream).await;
    // Without TLS, so the proxy can read the statements (the measured services and
    // pgbench both keep the server's default).
    let proxied = SecretString::from(format!(
        "{}?sslmode=disable",
        app.trajectories_db
            .expose_secret()
            .replacen(&upstream.to_string(), &proxy.address.to_string(), 1)
            .replacen(
                &format!("localhost:{}", upstream.port()),
                &proxy.address.to_string(),
                1,
            )
    ));
    let (addr, extra) = app.serve_trajectories_at(&proxied).await;
    let mut recorded = TrajectoryServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("proxied trajectories");
    let mut capture_ids = Vec::new();
    for _ in 0..WARM_UPS + 1 {
        let mut c = client.clone();
        capture_ids.push(register_and_start(&mut c, &token, next_person, "11002").await);
        next_person += 1;
    }
    let (person, last) = capture_ids.pop().expect("trajectories to sign");
    for (_, id) in &capture_ids {
        recorded
            .sign_contract(authed(sign_request(id), &token))
            .await
            .expect("warm-up sign");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.record();
    recorded
        .sign_contract(authed(sign_request(&last), &token))
        .await
        .expect("recorded sign");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = without_relay(proxy.stop());
    extra.stop("trajectories (proxied)").await;
    let round_trips = |prepare: bool| {
        sent.iter()
            .filter(|s| matches!(s, pgwire::Sent::RoundTrip { prepare: p, .. } if *p == prepare))
            .count()
    };
    let (round_trips, preparing) = (round_trips(false), round_trips(true));
    let statements: Vec<(String, Vec<String>)> = sent
        .into_iter()
        .filter_map(|s| match s {
            pgwire::Sent::Statement { sql, values, .. } => Some((sql, values)),
            pgwire::Sent::RoundTrip { .. } => None,
        })
        .collect();
    let script = replay_script(&statements, &last, &person);

    // Unsigned trajectories: for pgbench (keyed by client and transaction) and for gRPC.
    let url = app.trajectories_db.clone();
    let db = Database::connect(url.expose_secret())
        .await
        .expect("trajectories database");
    db.execute_unprepared("create table bench_target (n bigint primary key, id uuid not null)")
        .await
        .expect("target table");
    let made = |count: usize, first: u64| {
        let client = client.clone();
        let token = token.clone();
        async move {
            stream::iter(0..count)
                .map(|i| {
                    let mut client = client.clone();
                    let token = token.clone();
                    async move {
                        register_and_start(&mut client, &token, first + i as u64, "11002")
                            .await
                            .1
                    }
                })
                .buffer_unordered(32)
                .collect::<Vec<String>>()
                .await
        }
    };
    let for_pgbench = made(COMMANDS * LEVELS.len(), next_person).await;
    next_person += for_pgbench.len() as u64;
    next_person += (COMMANDS * LEVELS.len()) as u64;
    let for_grpc = made(COMMANDS * LEVELS.len(), next_person).await;
    next_person += for_grpc.len() as u64;
    let mut for_latency = Vec::new();
    for count in &paced {
        for_latency.push(made(*count, next_person).await);
        next_person += *count as u64;
    }
    let canaries = made(CANARIES, next_person).await;

    let dir = std::env::temp_dir().join(format!("bench-commands-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench folder");
    let script_path = dir.join("sign_contract.sql");
    std::fs::write(&script_path, &script).expect("pgbench script");
    if let Ok(keep) = std::env::var("BENCH_KEEP_SCRIPT") {
        std::fs::write(keep, &script).expect("kept pgbench script");
    }

    let mut replayed = Vec::new();
    for (level, chunk) in LEVELS.into_iter().zip(for_pgbench.chunks(COMMANDS)) {
        let per_client = COMMANDS / level;
        let mut rows = Vec::new();
        for (k, id) in chunk.iter().enumerate() {
            let n = (k / per_client) * PER_CLIENT + k % per_client + 1;
            rows.push(format!("({n}, '{id}')"));
        }
        db.execute_unprepared("truncate bench_target")
            .await
            .expect("truncate");
        db.execute_unprepared(&format!(
            "insert into bench_target values {}",
            rows.join(",")
        ))
        .await
        .expect("targets");
        replayed.push(pgbench(
            url.expose_secret(),
            &script_path,
            level,
            per_client,
        ));
    }
    let unsigned = scalar(
        &url,
        "select count(*) from trajectory t join bench_target b on b.id = t.id \
         where t.contract_signed_on is null",
    )
    .await;
    assert_eq!(unsigned, 0, "pgbench signed every target of its last level");

    // The relay publishes what pgbench wrote to the outbox too: let it finish first.
    outbox_drained(&url).await;

    let mut signing = Vec::new();
    for (level, chunk) in LEVELS.into_iter().zip(for_grpc.chunks(COMMANDS)) {
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
    outbox_drained(&url).await;

    // Commit → consumer at steady rates: a consumer on the far side of the broker,
    // configured as the services' are, times each ContractSigned from its ce_time.
    let ids: HashSet<String> = for_latency
        .iter()
        .flatten()
        .chain(&canaries)
        .cloned()
        .collect();
    let latencies = Arc::new(Mutex::new(Vec::<Hops>::new()));
    let listener = tokio::spawn(listen(app.broker.address(), latencies.clone(), ids));
    // The listener has joined its group and reads the topic's end once the canaries'
    // events reach it; only then does the clock start.
    for id in &canaries {
        let mut client = client.clone();
        client
            .sign_contract(authed(sign_request(id), &token))
            .await
            .expect("sign canary");
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while latencies.lock().expect("lock").len() < CANARIES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut paced_runs = Vec::new();
    for (rate, ids) in rates.iter().zip(for_latency) {
        latencies.lock().expect("lock").clear();
        let count = ids.len();
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let started = Instant::now();
        let mut calls = tokio::task::JoinSet::new();
        for id in ids {
            ticks.tick().await;
            let mut client = client.clone();
            let token = token.clone();
            calls.spawn(async move {
                client
                    .sign_contract(authed(sign_request(&id), &token))
                    .await
                    .expect("sign");
            });
        }
        calls.join_all().await;
        let achieved = count as f64 / started.elapsed().as_secs_f64();
        let deadline = Instant::now() + Duration::from_secs(120);
        while latencies.lock().expect("lock").len() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let hops = std::mem::take(&mut *latencies.lock().expect("lock"));
        paced_runs.push((*rate, achieved, hops));
        // Let the relay and the consumer go quiet between two rates.
        outbox_drained(&url).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    listener.abort();

    println!(
        "inburgering bench: SignContract on one PostgreSQL ({} build, pool {pool})",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "one SignContract sends {} statements in {round_trips} round trips, and {preparing} more to prepare statements on a fresh connection (pgbench script: {}):",
        statements.len(),
        script_path.display()
    );
    for (sql, _) in &statements {
        println!("  {}", sql.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    println!("{:<48} {:>12} {:>12}", "", "8 clients", "32 clients");
    println!(
        "{:<48} {:>12.0} {:>12.0}",
        "pgbench, the same statements (tx/s)", replayed[0], replayed[1]
    );
    println!(
        "{:<48} {:>12.0} {:>12.0}",
        "SignContract via gRPC (commands/s)", signing[0], signing[1]
    );
    println!(
        "{:<48} {:>12.3} {:>12.3}",
        "ratio gRPC / pgbench",
        signing[0] / replayed[0],
        signing[1] / replayed[1]
    );
    println!(
        "commit → consumer latency (ms; relayed = the Kafka record's timestamp, when the relay handed the event to the producer):"
    );
    println!(
        "{:<22} {:>7} {:>9} {:>9} {:>20} {:>20}",
        "rate asked / achieved",
        "events",
        "p50",
        "p99",
        "staged → relayed p50/p99",
        "relayed → consumed p50/p99"
    );
    for (rate, achieved, hops) in &paced_runs {
        let total = percentiles(hops.iter().map(|h| h.total));
        let relayed = percentiles(hops.iter().map(|h| h.to_relay));
        let consumed = percentiles(hops.iter().map(|h| h.to_consumer));
        println!(
            "{:<22} {:>7} {:>9.1} {:>9.1} {:>20} {:>20}",
            format!("{rate:.0} / {achieved:.0}"),
            hops.len(),
            total.0,
            total.1,
            format!("{:.1} / {:.1}", relayed.0, relayed.1),
            format!("{:.1} / {:.1}", consumed.0, consumed.1),
        );
        if (*rate - 250.0).abs() < f64::EPSILON {
            let largest = if relayed.1 >= consumed.1 {
                "staged → relayed"
            } else {
                "relayed → consumed"
            };
            println!(
                "  at 250/s: p99 {:.1} ms against the goal of 50 ms ({}); the largest hop at p99: {largest}",
                total.1,
                if total.1 <= 50.0 { "met" } else { "not met" }
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    app.stop().await;
}

/// Waits (up to five minutes) until the outbox relay has published every row.
async fn outbox_drained(url: &SecretString) {
    eventually(
        "the outbox relay to catch up",
        Duration::from_secs(300),
        || async {
            let unsent = scalar(url, "select count(*) from outbox where sent_at is null").await;
            (unsent == 0).then_some(())
        },
    )
    .await;
}

/// What was sent without what the outbox relay sent meanwhile: its transactions (those
/// that take its advisory lock) and its backlog count, found per connection, since the
/// relay shares the service's pool.
fn without_relay(sent: Vec<pgwire::Sent>) -> Vec<pgwire::Sent> {
    use pgwire::Sent;
    let mut unit_of = vec![0usize; sent.len()];
    let mut open: HashMap<usize, usize> = HashMap::new();
    let mut last: HashMap<usize, usize> = HashMap::new();
    let mut next = 0;
    for (i, s) in sent.iter().enumerate() {
        let c = s.connection();
        match s {
            Sent::Statement { sql, .. } => {
                let upper = sql.trim_start().to_uppercase();
                let unit = match open.get(&c) {
                    Some(u) => *u,
                    None => {
                        next += 1;
                        if upper.starts_with("BEGIN") {
                            open.insert(c, next);
                        }
                        next
                    }
                };
                if upper.starts_with("COMMIT") || upper.starts_with("ROLLBACK") {
                    open.remove(&c);
                }
                unit_of[i] = unit;
                last.insert(c, unit);
            }
            Sent::RoundTrip { .. } => unit_of[i] = last.get(&c).copied().unwrap_or(0),
        }
    }
    let relay: HashSet<usize> = sent
        .iter()
        .zip(&unit_of)
        .filter(|(s, _)| match s {
            Sent::Statement { sql, .. } => {
                sql.contains("pg_try_advisory_xact_lock")
                    || (sql.contains("\"outbox\"")
                        && !sql.trim_start().to_uppercase().starts_with("INSERT"))
            }
            Sent::RoundTrip { .. } => false,
        })
        .map(|(_, u)| *u)
        .collect();
    sent.into_iter()
        .zip(unit_of)
        .filter(|(_, u)| !relay.contains(u))
        .map(|(s, _)| s)
        .collect()
}

/// The server's address in a `postgres://…@host:port/db` URL.
fn server_address(url: &str) -> SocketAddr {
    let rest = url.split_once('@').map_or(url, |(_, r)| r);
    let host_port = rest.split('/').next().unwrap_or(rest);
    let host_port = host_port.replace("localhost", "127.0.0.1");
    let with_port = if host_port.contains(':') {
        host_port
    } else {
        format!("{host_port}:5432")
    };
    with_port
        .parse()
        .expect("PostgreSQL at a numeric loopback address")
}

/// The pgbench script of `statements` (captured signing `signed`): the same statements
/// with their values, but for the trajectory (from `bench_target`), what the first read
/// returned (`:g_…`), and new ids.
fn replay_script(statements: &[(String, Vec<String>)], signed: &str, person: &str) -> String {
    let signed_text = format!("'{signed}'");
    let signed = format!("'{signed}'::uuid");
    let person = format!("'{person}'::uuid");
    let first_read = statements
        .iter()
        .position(|(sql, values)| {
            sql.trim_start().to_lowercase().starts_with("select") && values.contains(&signed)
        })
        .unwrap_or_else(|| {
            panic!("the trajectory {signed} is read before it is signed; captured: {statements:#?}")
        });
    // A read joined with another table names its columns `A_id`, `A_person_id`, …
    let column = |name: &str| {
        if statements[first_read].0.contains("\"A_id\"") {
            format!(":g_A_{name}")
        } else {
            format!(":g_{name}")
        }
    };
    let mut out = String::from("\\set i :i + 1\n\\set n :client_id * 1000000 + :i\n");
    for (k, (sql, values)) in statements.iter().enumerate() {
        let mut sql = sql.clone();
        for (j, v) in values.iter().enumerate().rev() {
            let with = if *v == signed {
                if k == first_read {
                    "(select id from bench_target where n = :n)".to_owned()
                } else {
                    column("id")
                }
            } else if *v == signed_text && k > first_read {
                // The trajectory id as text: the event's key.
                column("id")
            } else if *v == person && k > first_read {
                format!("({})::uuid", column("person_id"))
            } else if v.ends_with("::uuid") || is_uuid_text(v) {
                // A new id (fee, outbox row, event): fresh for each transaction.
                if v.ends_with("::uuid") {
                    "gen_random_uuid()".to_owned()
                } else {
                    "gen_random_uuid()::text".to_owned()
                }
            } else {
                v.clone()
            };
            sql = sql.replace(&format!("${}", j + 1), &with);
        }
        let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&sql);
        // `\\gset` ends its command in place of the semicolon.
        out.push_str(if k == first_read {
            " \\gset g_\n"
        } else {
            ";\n"
        });
    }
    out
}

fn is_uuid_text(v: &str) -> bool {
    v.strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .is_some_and(|v| uuid::Uuid::parse_str(v).is_ok())
}

/// pgbench's transactions per second for `script` at `clients`, each running
/// `per_client` transactions, prepared statements as sqlx uses them.
fn pgbench(url: &str, script: &std::path::Path, clients: usize, per_client: usize) -> f64 {
    let out = std::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-D", "i=0", "-j", "2"])
        .arg(format!("-c{clients}"))
        .arg(format!("-t{per_client}"))
        .arg("-f")
        .arg(script)
        .arg(url)
        .output()
        .expect("pgbench runs (Debian: postgresql-client)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .expect("pgbench prints its tps")
}

/// One event's way from its transaction to a consumer.
#[derive(Debug, Clone, Copy)]
struct Hops {
    /// `ce_time` (staged) → the record's timestamp (handed to the producer).
    to_relay: Duration,
    /// The record's timestamp → received by the consumer.
    to_consumer: Duration,
    /// `ce_time` → received.
    total: Duration,
}

/// p50 and p99 in milliseconds.
fn percentiles(values: impl Iterator<Item = Duration>) -> (f64, f64) {
    let mut v: Vec<Duration> = values.collect();
    v.sort();
    let pct = |p: f64| {
        v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3
    };
    (pct(0.50), pct(0.99))
}

/// Times each `ContractSigned` of a trajectory in `ids` (the key is the trajectory id)
/// from its `ce_time` to its arrival, split at the record's timestamp.
async fn listen(brokers: String, latencies: Arc<Mutex<Vec<Hops>>>, ids: HashSet<String>) {
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
        let key = message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        if !ids.contains(&key) {
            continue;
        }
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
        let relayed = message
            .timestamp()
            .to_millis()
            .and_then(chrono::DateTime::from_timestamp_millis);
        if let (true, Some(time), Some(relayed)) = (is_contract, time, relayed) {
            let staged = time.with_timezone(&chrono::Utc);
            let span = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
                (to - from).to_std().unwrap_or_default()
            };
            latencies.lock().expect("lock").push(Hops {
                to_relay: span(staged, relayed),
                to_consumer: span(relayed, received),
                total: span(staged, received),
            });
        }
    }
}
