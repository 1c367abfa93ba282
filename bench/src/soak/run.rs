//! The run: the settings from the environment, then dev started, the load with its
//! progress lines, the drain, what the files hold and the figures printed.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use tokio::{task::JoinSet, time::MissedTickBehavior};

use super::{
    clients::{Tally, tokens},
    dev::{Dev, free_ports, inburgering_bin, register_reached_trajectories},
    load::{Shared, Worker, warm_up},
    measure::{Files, LagWatch, lag_by_group, scrape},
    report::{clip, percentile, thousands},
    topics::{groups, topics},
};

/// How often `/metrics` is read.
const SCRAPE_EVERY: Duration = Duration::from_secs(2);
/// How often the consumers' watchdogs read the lag from the broker (platform's
/// `LAG_INTERVAL`): the gauge can be that old.
const LAG_INTERVAL: Duration = Duration::from_secs(5);
/// How often, during the load, the SQLite files are compared (staged − applied).
const DB_LAG_EVERY: Duration = Duration::from_secs(10);
/// How often a progress line is printed during the load.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);
/// Tokens of the dev issuer live an hour: they are fetched again well before.
const TOKENS_EVERY: Duration = Duration::from_secs(1800);

#[derive(Debug, Clone)]
struct Settings {
    secs: u64,
    rate: f64,
    clients: usize,
    drain: Duration,
    keep: bool,
}

impl Settings {
    fn from_env() -> Settings {
        let num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
        Settings {
            secs: num("SOAK_SECS").map_or(1800, |v| v.max(1.0) as u64),
            rate: num("SOAK_RATE").filter(|r| *r > 0.0).unwrap_or(100.0),
            clients: num("SOAK_CLIENTS").map_or(16, |v| v.max(1.0) as usize),
            drain: Duration::from_secs(num("SOAK_DRAIN").map_or(300, |v| v.max(1.0) as u64)),
            keep: std::env::var_os("SOAK_KEEP").is_some_and(|v| !v.is_empty() && v != "0"),
        }
    }
}

/// The soak from start to end, as the crate's doc describes it.
pub(crate) async fn main() {
    let settings = Settings::from_env();
    let bin = inburgering_bin();
    let data = std::env::temp_dir().join(format!(
        "inburgering-soak-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("create {}: {e}", data.display()));
    let ports = free_ports();
    println!(
        "inburgering dev soak ({} build): {} s at {:.0} calls/s from {} clients",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        settings.secs,
        settings.rate,
        settings.clients
    );
    println!(
        "  data {}; ports gRPC {}-{}, issuer {}, broker {}, metrics {}",
        data.display(),
        ports.grpc,
        ports.grpc + 5,
        ports.issuer,
        ports.broker,
        ports.metrics
    );

    let started = Instant::now();
    let mut dev = Dev::start(&bin, &data, ports);
    if let Err(e) = dev.ready(Duration::from_secs(180)).await {
        println!("FAILED: {e}; the end of dev's log:\n{}", dev.log_tail());
        dev.stop().await;
        std::process::exit(1);
    }
    if let Err(e) = register_reached_trajectories(&data, Duration::from_secs(180)).await {
        println!("FAILED: {e}; the end of dev's log:\n{}", dev.log_tail());
        dev.stop().await;
        std::process::exit(1);
    }
    let issuer = ports.issuer_url();
    let first_tokens = Arc::new(tokens(&bin, &data, &issuer).await);
    let (offer, session) = match warm_up(ports, &first_tokens, Duration::from_secs(180)).await {
        Ok(ids) => ids,
        Err(e) => {
            println!("FAILED: {e}; the end of dev's log:\n{}", dev.log_tail());
            dev.stop().await;
            std::process::exit(1);
        }
    };
    let files = match Files::open(&data, Duration::from_secs(60)).await {
        Ok(files) => files,
        Err(e) => {
            println!("FAILED: {e}");
            dev.stop().await;
            std::process::exit(1);
        }
    };
    let declared = groups();
    println!(
        "  dev ready and a first journey through in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The load.
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.rate));
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let shared = Arc::new(Shared {
        tally: Tally::default(),
        tokens: RwLock::new(first_tokens),
        next_person: AtomicU64::new(0),
        offer: tokio::sync::Mutex::new(offer),
        session: tokio::sync::Mutex::new(session),
        signed: Mutex::new(VecDeque::new()),
        next_read: AtomicU64::new(0),
        pace: tokio::sync::Mutex::new(pace),
    });
    let load_started = Instant::now();
    let until = tokio::time::Instant::now() + Duration::from_secs(settings.secs);
    let mut workers = JoinSet::new();
    for i in 0..settings.clients {
        workers.spawn(Worker::new(i, ports, shared.clone()).run(until));
    }
    let mut watch = LagWatch::default();
    let mut db_watch = LagWatch::default();
    let mut next_db_sample = load_started;
    let mut scrape_tick = tokio::time::interval(SCRAPE_EVERY);
    let mut next_progress = load_started + PROGRESS_EVERY;
    let mut next_tokens = load_started + TOKENS_EVERY;
    let mut calls_at_progress = 0;
    let mut dev_died = None;
    loop {
        tokio::select! {
            done = workers.join_next() => match done {
                None => break,
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(_) => {}
            },
            status = dev.child.wait() => {
                dev_died = Some(status.map_or_else(|e| e.to_string(), |s| s.to_string()));
                workers.abort_all();
                break;
            }
            _ = scrape_tick.tick() => {
                match scrape(ports.metrics()).await {
                    Some(m) => watch.observe(&lag_by_group(&m), load_started.elapsed()),
                    None => watch.failed += 1,
                }
                if Instant::now() >= next_db_sample {
                    next_db_sample += DB_LAG_EVERY;
                    match files.lag(&declared).await {
                        Some(lag) => db_watch.observe(&lag, load_started.elapsed()),
                        None => db_watch.failed += 1,
                    }
                }
                if Instant::now() >= next_tokens {
                    let fresh = tokens(&bin, &data, &issuer).await;
                    *shared.tokens.write().expect("tokens lock") = Arc::new(fresh);
                    next_tokens += TOKENS_EVERY;
                }
                if Instant::now() >= next_progress {
                    let calls = shared.tally.calls.load(Relaxed);
                    let not_ok: u64 = shared
                        .tally
                        .by_rpc
                        .lock()
                        .expect("tally lock")
                        .values()
                        .flat_map(|r| r.codes.iter())
                        .filter(|(code, _)| code.as_str() != "OK")
                        .map(|(_, (n, _))| n)
                        .sum();
                    println!(
                        "  {:>5.0} s: {} calls ({:.1}/s over the last {} s); total lag now {} by the gauge (max {}), {} by the databases (max {}); {} answers not OK, {} UNAVAILABLE naming the database",
                        load_started.elapsed().as_secs_f64(),
                        thousands(calls),
                        (calls - calls_at_progress) as f64 / PROGRESS_EVERY.as_secs_f64(),
                        PROGRESS_EVERY.as_secs(),
                        watch.now_total,
                        watch.max_total,
                        db_watch.now_total,
                        db_watch.max_total,
                        not_ok,
                        shared.tally.database_unavailable.load(Relaxed),
                    );
                    calls_at_progress = calls;
                    next_progress += PROGRESS_EVERY;
                }
            }
        }
    }
    let load_took = load_started.elapsed();
    let load_stopped = Instant::now();
    if let Some(status) = dev_died {
        println!(
            "FAILED: inburgering dev exited during the load ({status}); the end of its log:\n{}",
            dev.log_tail()
        );
        println!("data and dev's log kept in {}", data.display());
        std::process::exit(1);
    }

    // The drain: the databases, and what /metrics says.
    let all_groups = files.all_groups().await;
    let drain_deadline = load_stopped + settings.drain;
    let mut drained_after = None;
    let mut metric_zero_after = None;
    let mut metric_lag_seen = false;
    let mut next_scrape = Instant::now();
    while Instant::now() < drain_deadline {
        if drained_after.is_none()
            && let Some(lag) = files.lag(&all_groups).await
        {
            db_watch.observe(&lag, load_started.elapsed());
            if lag.values().all(|n| *n == 0) {
                drained_after = Some(load_stopped.elapsed());
            }
        }
        if metric_zero_after.is_none() && Instant::now() >= next_scrape {
            next_scrape = Instant::now() + Duration::from_secs(1);
            match scrape(ports.metrics()).await {
                Some(m) => {
                    let lag = lag_by_group(&m);
                    watch.observe(&lag, load_started.elapsed());
                    // The gauge is read from the broker every LAG_INTERVAL: a 0 is
                    // taken once it follows a reading with lag, or is fresh for sure.
                    if lag.values().all(|n| *n == 0) {
                        if metric_lag_seen || load_stopped.elapsed() >= LAG_INTERVAL {
                            metric_zero_after = Some(load_stopped.elapsed());
                        }
                    } else {
                        metric_lag_seen = true;
                    }
                }
                None => watch.failed += 1,
            }
        }
        let metric_given_up =
            drained_after.is_some_and(|d| load_stopped.elapsed() > d + Duration::from_secs(30));
        if drained_after.is_some() && (metric_zero_after.is_some() || metric_given_up) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // What the files hold.
    let mut topic_lines = Vec::new();
    let mut staged_ids = BTreeMap::new();
    for t in topics() {
        let ids = files
            .ids(
                t.service,
                &format!(
                    "select hex(event_id) from outbox where topic = '{}'",
                    t.topic
                ),
            )
            .await;
        let unsent = files
            .count(
                t.service,
                &format!(
                    "select count(*) from outbox where topic = '{}' and sent_at is null",
                    t.topic
                ),
            )
            .await
            .expect("count the unsent outbox rows");
        topic_lines.push(format!(
            "  {:<26} {:>8} {:>7}   {}",
            t.topic,
            thousands(ids.len() as u64),
            unsent,
            t.service
        ));
        staged_ids.insert(t.topic, ids);
    }
    let mut group_lines = Vec::new();
    let mut missing_total = 0;
    for g in &all_groups {
        let applied = files
            .ids(
                g.service,
                &format!(
                    "select hex(event_id) from inbox where consumer = '{}' and topic = '{}'",
                    g.group, g.topic
                ),
            )
            .await;
        let empty = BTreeSet::new();
        let staged = staged_ids.get(g.topic.as_str()).unwrap_or(&empty);
        let missing = staged.difference(&applied).count();
        missing_total += missing;
        group_lines.push(format!(
            "  {:<30} {:<26} {:>8} {:>8}",
            g.group,
            g.topic,
            thousands(staged.intersection(&applied).count() as u64),
            missing
        ));
    }
    for db in files.dbs.into_values() {
        let _ = db.close().await;
    }
    // What dev logged while it ran, and while it stopped (SIGTERM onwards).
    let running_log = dev.log_text();
    let dev_exit = dev.stop().await;
    let log = dev.log_text();
    let stopping_log = log.get(running_log.len()..).unwrap_or_default();
    let errors_of = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("ERROR"))
            .map(str::to_owned)
            .collect()
    };
    let (errors, stopping_errors) = (errors_of(&running_log), errors_of(stopping_log));

    // Figures.
    let tally = &shared.tally;
    let calls = tally.calls.load(Relaxed);
    println!(
        "load stopped after {:.1} s: {} calls, {:.1} calls/s",
        load_took.as_secs_f64(),
        thousands(calls),
        calls as f64 / load_took.as_secs_f64()
    );
    let by_rpc = tally.by_rpc.lock().expect("tally lock");
    let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
    for r in by_rpc.values() {
        for (code, (n, _)) in &r.codes {
            *by_code.entry(code.as_str()).or_default() += n;
        }
    }
    println!("answers by gRPC code");
    for (code, n) in &by_code {
        println!("  {code:<20} {:>9}", thousands(*n));
    }
    println!(
        "  UNAVAILABLE naming the database or a lock: {}",
        tally.database_unavailable.load(Relaxed)
    );
    println!("by call                  calls     ok  p50 ms  p99 ms  max ms");
    for (rpc, r) in by_rpc.iter() {
        let mut ms = r.latencies_ms.clone();
        ms.sort_by(f64::total_cmp);
        let ok = r.codes.get("OK").map_or(0, |(n, _)| *n);
        println!(
            "  {rpc:<20} {:>8} {:>6} {:>7.1} {:>7.1} {:>7.0}",
            thousands(ms.len() as u64),
            thousands(ok),
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            ms.last().copied().unwrap_or(0.0)
        );
        for (code, (n, message)) in r.codes.iter().filter(|(c, _)| c.as_str() != "OK") {
            println!("      {n} × {code}, first: {}", clip(message, 160));
        }
    }
    drop(by_rpc);
    println!("events                        staged  unsent   staged by");
    for line in &topic_lines {
        println!("{line}");
    }
    println!("consumer groups                topic                       applied  missing");
    for line in &group_lines {
        println!("{line}");
    }
    println!("largest total lag seen, summed over every group");
    println!(
        "  {:<50} {:>6} at {:>5.0} s of the load ({} readings, {} failed)",
        "the gauge (messaging_consumer_lag, every 2 s)",
        watch.max_total,
        watch.max_total_at.as_secs_f64(),
        watch.scrapes,
        watch.failed
    );
    println!("    per group: {}", watch.per_group());
    println!(
        "  {:<50} {:>6} at {:>5.0} s of the load ({} readings, {} failed)",
        "the databases (staged − applied, every 10 s)",
        db_watch.max_total,
        db_watch.max_total_at.as_secs_f64(),
        db_watch.scrapes,
        db_watch.failed
    );
    println!("    per group: {}", db_watch.per_group());
    match drained_after {
        Some(d) => println!(
            "load stopped → every staged event applied by every group (databases): {:.1} s",
            d.as_secs_f64()
        ),
        None => println!(
            "load stopped → every staged event applied by every group (databases): NEVER within {} s",
            settings.drain.as_secs()
        ),
    }
    match metric_zero_after {
        Some(d) => println!(
            "load stopped → messaging_consumer_lag 0 for every group: {:.1} s",
            d.as_secs_f64()
        ),
        None => println!("load stopped → messaging_consumer_lag 0 for every group: not seen"),
    }
    println!("dev stopped: {dev_exit}");
    println!(
        "dev logged {} ERROR lines while running (from its start to the SIGTERM), {} while stopping",
        errors.len(),
        stopping_errors.len()
    );
    for line in errors.iter().take(5) {
        println!("  {}", clip(line, 400));
    }
    if !stopping_errors.is_empty() {
        println!("  while stopping, the first:");
        for line in stopping_errors.iter().take(2) {
            println!("  {}", clip(line, 400));
        }
    }

    let failed = drained_after.is_none() || missing_total > 0;
    if failed || settings.keep || !errors.is_empty() {
        println!("data and dev's log kept in {}", data.display());
    } else {
        let _ = std::fs::remove_dir_all(&data);
    }
    if failed {
        println!("FAILED: a consumer group never applied every staged event");
        std::process::exit(1);
    }
}
