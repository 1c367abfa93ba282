//! The caseload import at scale: a generated caseload of `--records N` persons (default
//! 1,000,000) with their whole histories (testkit's generator, which knows the counts the
//! reconciliation must show) imported by the release `inburgering import caseload` on the
//! PostgreSQL the tests use, against PostgreSQL's own `COPY` of the same rows.
//!
//! 1. The import alone: fresh trajectories and testing databases, migrated, the register
//!    projected into trajectories' `municipality` table from the `RegisterPublished` that
//!    municipalities publishes (decoded and applied by `wire::register`, as the services'
//!    consumers do); then the binary, timed from its start to its exit, its resident set
//!    (`VmHWM`, the kernel's peak) and its CPU time (`/proc/<pid>/stat`) sampled every
//!    50 ms, and its reconciliation report compared with the generator's.
//! 2. `COPY`: every table the import wrote, exported with `COPY … TO` a file, then loaded
//!    with `COPY … FROM STDIN` into empty copies made `like … including all` (their
//!    indexes and constraints, not their foreign keys), table after table as the import
//!    writes them; the ratio is import / COPY.
//! 3. Lag 0, with the platform running (`testkit::spawn_app`: every service, its relays and
//!    consumers, the broker): a second caseload of `--lag-records M` (default the smaller of
//!    N and 20,000: at a million the relay and the consumers of five services on the same
//!    two cores take hours) imported into the app's databases, then the time from the
//!    import's start until trajectories' and testing's outboxes are sent and every consumer
//!    group of `trajectories.events.v1` and `testing.events.v1` has committed to the
//!    topic's end. `--lag-records 0` skips it; `--lag-patience SECS` (default 3600) bounds
//!    the wait, and what is left then is printed.
//!
//! Run with `scripts/bench --release caseload` (or the built `target/release/bench-caseload
//! --records 20000`); `--seed S` picks another caseload, `--keep` keeps the databases and
//! the files. It prints one line per figure and asserts nothing about time; it fails when
//! the import fails or its report differs from the generator's counts.

#[path = "soak/topics.rs"]
#[allow(dead_code)] // The soak's list of topics and groups; this bench reads only the groups.
mod topics;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use platform::{events::Envelope, runtime::ServiceModule};
use prost::{Message, Name};
use rdkafka::{
    ClientConfig, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, Statement, TransactionTrait,
    sqlx::postgres::PgPoolCopyExt,
};
use secrecy::{ExposeSecret, SecretString};
use testkit::{caseload::Generated, postgres};
use tokio::io::AsyncWriteExt;

/// The label the bench's imports carry (`--source`).
const SOURCE: &str = "bench-caseload";
/// The goal of issue 23 for a million records on this machine.
const GOAL_SECS: f64 = 600.0;
/// How often the importer's resident set and the consumers' lag are read.
const RSS_SAMPLE: Duration = Duration::from_millis(50);
const LAG_POLL: Duration = Duration::from_millis(500);
const KAFKA_PATIENCE: Duration = Duration::from_secs(10);
/// `/proc`'s clock ticks per second (`getconf CLK_TCK`: 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

struct Options {
    records: u64,
    lag_records: u64,
    lag_patience: Duration,
    seed: u64,
    keep: bool,
}

impl Options {
    fn parse() -> Options {
        let mut records = 1_000_000;
        let mut lag_records = None;
        let mut lag_patience = 3600;
        let mut seed = 23;
        let mut keep = false;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> u64 {
                args.next()
                    .and_then(|v| v.replace(['_', ','], "").parse().ok())
                    .unwrap_or_else(|| usage(&format!("{name} needs a whole number")))
            };
            match arg.as_str() {
                "--records" => records = number("--records"),
                "--lag-records" => lag_records = Some(number("--lag-records")),
                "--lag-patience" => lag_patience = number("--lag-patience"),
                "--seed" => seed = number("--seed"),
                "--keep" => keep = true,
                other => usage(&format!("unknown argument {other}")),
            }
        }
        if records == 0 {
            usage("--records: at least 1");
        }
        Options {
            records,
            lag_records: lag_records.unwrap_or(records.min(20_000)),
            lag_patience: Duration::from_secs(lag_patience),
            seed,
            keep,
        }
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "bench-caseload: {problem}\nusage: bench-caseload [--records N] [--lag-records M] [--lag-patience SECS] [--seed S] [--keep]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let options = Options::parse();
    let binary = testkit::workspace_binary("inburgering");
    let dir = std::env::temp_dir().join(format!("bench-caseload-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("a folder for the caseload files");
    println!(
        "caseload: {} on {} cores, load average {} at the start",
        binary.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );

    let generated = generate(&dir.join("caseload.jsonl"), options.records, options.seed).await;
    let (trajectories_url, testing_url) = databases().await;
    let before = Tables::count(&trajectories_url, &testing_url).await;

    let import = import(&binary, &generated, &trajectories_url, &testing_url).await;
    let n = generated.records;
    println!("caseload: {}", import.summary);
    println!(
        "caseload import, {n} records: {:.1} s, {:.0} records/s (goal for 1,000,000: under {GOAL_SECS:.0} s; at this rate a million takes {:.0} s)",
        import.secs,
        n as f64 / import.secs,
        1e6 * import.secs / n as f64
    );
    println!(
        "caseload import: peak resident memory {:.0} MB (VmHWM, sampled every {} ms)",
        import.peak_kib as f64 / 1024.0,
        RSS_SAMPLE.as_millis()
    );
    println!(
        "caseload import: the importer's own CPU {:.1} s ({:.0}% of its wall time; the rest it waits on PostgreSQL)",
        import.cpu_secs,
        100.0 * import.cpu_secs / import.secs
    );
    println!("caseload import: the reconciliation report equals the generator's counts");

    let after = Tables::count(&trajectories_url, &testing_url).await;
    let written = after.grown_since(&before);
    let copy = copy_baseline(&written, &dir).await;
    let rows: i64 = written.iter().map(|t| t.rows).sum();
    println!(
        "caseload COPY of the same rows: {rows} rows in {} tables ({}), {:.1} s, {:.0} rows/s",
        written.len(),
        written
            .iter()
            .map(|t| format!("{}.{} {}", t.service, t.name, t.rows))
            .collect::<Vec<_>>()
            .join(", "),
        copy.as_secs_f64(),
        rows as f64 / copy.as_secs_f64()
    );
    println!(
        "caseload ratio import / COPY = {:.2} (import {:.1} s, COPY {:.1} s)",
        import.secs / copy.as_secs_f64(),
        import.secs,
        copy.as_secs_f64()
    );
    if !options.keep {
        drop_database(&trajectories_url).await;
        drop_database(&testing_url).await;
    }

    if options.lag_records > 0 {
        let generated = generate(
            &dir.join("lag.jsonl"),
            options.lag_records,
            options.seed + 1,
        )
        .await;
        lag_to_zero(&binary, &generated, options.lag_patience).await;
    }
    if options.keep {
        println!("caseload: files kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The generator, off the runtime, timed.
async fn generate(path: &Path, records: u64, seed: u64) -> Generated {
    let started = Instant::now();
    let owned = path.to_owned();
    let generated =
        tokio::task::spawn_blocking(move || testkit::caseload::generate(&owned, records, seed))
            .await
            .expect("the generator thread")
            .unwrap_or_else(|e| panic!("generating {}: {e}", path.display()));
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    println!(
        "caseload: {} records generated ({:.0} MB of JSON lines, seed {seed}) in {:.1} s",
        generated.records,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    generated
}

// The databases ---------------------------------------------------------------------------

/// Fresh trajectories and testing databases, migrated, trajectories holding the register.
async fn databases() -> (SecretString, SecretString) {
    let trajectories_url = postgres::fresh_database().await;
    let testing_url = postgres::fresh_database().await;
    let trajectories = platform::db::connect_and_migrate::<
        <trajectories::Trajectories as ServiceModule>::Migrator,
    >(&trajectories_url, 2)
    .await
    .expect("migrating trajectories");
    let testing =
        platform::db::connect_and_migrate::<<testing::Testing as ServiceModule>::Migrator>(
            &testing_url,
            2,
        )
        .await
        .expect("migrating testing");
    let codes = load_register(&trajectories).await;
    println!(
        "caseload: trajectories and testing databases migrated, {codes} register codes projected"
    );
    trajectories.close().await.ok();
    testing.close().await.ok();
    (trajectories_url, testing_url)
}

/// The register shipped with municipalities, as its `RegisterPublished` reaches
/// trajectories: encoded, then decoded and written by `wire::register` in one transaction.
async fn load_register(db: &DatabaseConnection) -> usize {
    use proto::municipalities::v1::RegisterPublished;
    let register = municipalities::register::shipped().expect("the shipped register parses");
    let event = RegisterPublished {
        valid_from: Some(wire::date(municipalities::register::VALID_FROM)),
        municipalities: register
            .iter()
            .map(municipalities::convert::municipality)
            .collect(),
    };
    let envelope = Envelope {
        id: uuid::Uuid::now_v7(),
        ce_type: RegisterPublished::full_name(),
        source: municipalities::SERVICE.to_owned(),
        time: chrono::Utc::now(),
        topic: wire::register::TOPIC.to_owned(),
        key: Some(municipalities::register::EVENT_KEY.to_owned()),
        payload: event.encode_to_vec(),
        traceparent: None,
        history: None,
    };
    let rows = wire::register::rows(&envelope)
        .expect("the register's rows")
        .expect("a RegisterPublished");
    let txn = db.begin().await.expect("a transaction");
    let codes = wire::register::apply(&txn, rows)
        .await
        .expect("the register applied");
    txn.commit().await.expect("the register committed");
    codes
}

async fn drop_database(url: &SecretString) {
    let Some((_, name)) = url.expose_secret().rsplit_once('/') else {
        return;
    };
    let admin = Database::connect(postgres::admin_url())
        .await
        .expect("the admin database");
    if let Err(e) = admin
        .execute_unprepared(&format!("drop database if exists {name} with (force)"))
        .await
    {
        eprintln!("caseload: could not drop {name}: {e}");
    }
    admin.close().await.ok();
}

// The import ------------------------------------------------------------------------------

struct Import {
    secs: f64,
    peak_kib: u64,
    /// User and system CPU of the importer, as last sampled.
    cpu_secs: f64,
    /// The importer's last line on stderr: what it imported.
    summary: String,
}

/// Runs the release importer on `generated`, checking its report against the generator's.
async fn import(
    binary: &Path,
    generated: &Generated,
    trajectories: &SecretString,
    testing: &SecretString,
) -> Import {
    let started = Instant::now();
    let child = tokio::process::Command::new(binary)
        .args(["import", "caseload"])
        .arg(&generated.path)
        .args(["--source", SOURCE])
        .arg("--trajectories-database-url")
        .arg(trajectories.expose_secret())
        .arg("--testing-database-url")
        .arg(testing.expose_secret())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let pid = child.id().expect("the importer's pid");
    let peak = Arc::new(AtomicU64::new(0));
    let cpu = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(sample(pid, peak.clone(), cpu.clone()));
    let output = child.wait_with_output().await.expect("the importer ran");
    let secs = started.elapsed().as_secs_f64();
    sampler.abort();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the import failed ({}):\n{}",
        output.status,
        tail(&stderr, 40)
    );
    let expected = generated.expected.to_csv();
    if stdout != expected {
        let differing: Vec<String> = diff(&expected, &stdout);
        panic!(
            "the reconciliation report differs from the generator's counts (expected ⇢ imported):\n{}",
            differing.join("\n")
        );
    }
    Import {
        secs,
        peak_kib: peak.load(Ordering::Relaxed),
        cpu_secs: cpu.load(Ordering::Relaxed) as f64 / CLOCK_TICKS,
        summary: stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(nothing on stderr)")
            .to_owned(),
    }
}

/// Keeps the largest `VmHWM` of `pid` in `peak`, and its user + system CPU (in clock
/// ticks) in `cpu`, until the process is gone.
async fn sample(pid: u32, peak: Arc<AtomicU64>, cpu: Arc<AtomicU64>) {
    let path = format!("/proc/{pid}/status");
    let stat = format!("/proc/{pid}/stat");
    loop {
        // After the command's name (which may hold spaces): state is the 1st field,
        // utime the 12th and stime the 13th.
        if let Ok(line) = tokio::fs::read_to_string(&stat).await
            && let Some((_, fields)) = line.rsplit_once(')')
        {
            let ticks: Vec<u64> = fields
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|f| f.parse().ok())
                .collect();
            if ticks.len() == 2 {
                cpu.fetch_max(ticks[0] + ticks[1], Ordering::Relaxed);
            }
        }
        let Ok(status) = tokio::fs::read_to_string(&path).await else {
            return;
        };
        let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        else {
            return; // exited: a zombie has no memory left to report
        };
        peak.fetch_max(kib, Ordering::Relaxed);
        tokio::time::sleep(RSS_SAMPLE).await;
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The lines of two reports that differ, by section and key.
fn diff(expected: &str, got: &str) -> Vec<String> {
    let keyed = |text: &str| -> std::collections::BTreeMap<String, String> {
        text.lines()
            .filter_map(|l| l.rsplit_once(','))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let (want, have) = (keyed(expected), keyed(got));
    let mut keys: Vec<&String> = want.keys().chain(have.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| want.get(*k) != have.get(*k))
        .map(|k| {
            let show = |v: Option<&String>| v.map_or("(none)".to_owned(), Clone::clone);
            format!("{k}: {} ⇢ {}", show(want.get(k)), show(have.get(k)))
        })
        .collect()
}

// The COPY baseline -----------------------------------------------------------------------

/// One table of one service's database and its rows.
#[derive(Debug, Clone)]
struct Table {
    service: &'static str,
    url: SecretString,
    name: String,
    rows: i64,
}

struct Tables(Vec<Table>);

impl Tables {
    /// Every table of both databases with its rows.
    async fn count(trajectories: &SecretString, testing: &SecretString) -> Tables {
        let mut all = Vec::new();
        for (service, url) in [("trajectories", trajectories), ("testing", testing)] {
            let db = connect(url).await;
            let names = texts(
                &db,
                "select tablename::text from pg_tables where schemaname = 'public' order by 1",
            )
            .await;
            for name in names {
                let rows = number(&db, &format!("select count(*) from public.\"{name}\"")).await;
                all.push(Table {
                    service,
                    url: url.clone(),
                    name,
                    rows,
                });
            }
            db.close().await.ok();
        }
        Tables(all)
    }

    /// The tables that hold more rows than in `before`: what the import wrote.
    fn grown_since(&self, before: &Tables) -> Vec<Table> {
        self.0
            .iter()
            .filter(|t| {
                let was = before
                    .0
                    .iter()
                    .find(|b| b.service == t.service && b.name == t.name)
                    .map_or(0, |b| b.rows);
                t.rows > was
            })
            .cloned()
            .collect()
    }
}

/// Exports `tables` to files, then times loading them into empty copies of the tables.
async fn copy_baseline(tables: &[Table], dir: &Path) -> Duration {
    let mut files: Vec<(PathBuf, &Table)> = Vec::new();
    for table in tables {
        let db = connect(&table.url).await;
        let pool = db.get_postgres_connection_pool();
        let path = dir.join(format!("{}.{}.copy", table.service, table.name));
        let mut out = tokio::fs::File::create(&path)
            .await
            .expect("a file for the rows");
        let mut stream = pool
            .copy_out_raw(&format!("copy public.\"{}\" to stdout", table.name))
            .await
            .expect("COPY TO");
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk.expect("COPY data"))
                .await
                .expect("writing the rows");
        }
        out.flush().await.expect("the rows written");
        drop(stream);
        db.execute_unprepared(&format!(
            "create schema if not exists bench_copy; \
             drop table if exists bench_copy.\"{0}\"; \
             create table bench_copy.\"{0}\" (like public.\"{0}\" including all)",
            table.name
        ))
        .await
        .expect("an empty copy of the table");
        db.close().await.ok();
        files.push((path, table));
    }
    let mut total = Duration::ZERO;
    for (path, table) in &files {
        let db = connect(&table.url).await;
        let pool = db.get_postgres_connection_pool();
        // Just written, so read from the page cache: the baseline is PostgreSQL's work.
        let file = tokio::fs::File::open(path).await.expect("the rows' file");
        let started = Instant::now();
        let mut copy = pool
            .copy_in_raw(&format!("copy bench_copy.\"{}\" from stdin", table.name))
            .await
            .expect("COPY FROM");
        copy.read_from(file).await.expect("the rows sent");
        let loaded = copy.finish().await.expect("COPY finished");
        total += started.elapsed();
        assert_eq!(loaded as i64, table.rows, "rows copied into {}", table.name);
        db.execute_unprepared(&format!("drop table bench_copy.\"{}\"", table.name))
            .await
            .ok();
        db.close().await.ok();
        let _ = std::fs::remove_file(path);
    }
    total
}

async fn connect(url: &SecretString) -> DatabaseConnection {
    Database::connect(url.expose_secret())
        .await
        .unwrap_or_else(|e| panic!("the database answers: {e}"))
}

async fn texts(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .unwrap_or_else(|| panic!("{sql}: no number"))
}

// Lag 0 -----------------------------------------------------------------------------------

/// Imports `generated` into a running platform and times the way to lag 0.
async fn lag_to_zero(binary: &Path, generated: &Generated, patience: Duration) {
    let app = testkit::spawn_app().await;
    let topics = [
        <trajectories::Trajectories as ServiceModule>::TOPIC,
        <testing::Testing as ServiceModule>::TOPIC,
    ];
    let groups: Vec<topics::Group> = topics::groups()
        .into_iter()
        .filter(|g| topics.contains(&g.topic.as_str()))
        .collect();
    let readers = LagReaders::new(&app.broker.address(), &groups);
    let started = Instant::now();
    let import = import(binary, generated, &app.trajectories_db, &app.testing_db).await;
    let imported = started.elapsed();
    let events = outbox(&app.trajectories_db, "").await + outbox(&app.testing_db, "").await;
    let n = generated.records;
    println!(
        "caseload lag: {n} records imported with the platform running in {:.1} s ({:.0} records/s), {events} events staged",
        import.secs,
        n as f64 / import.secs
    );
    let mut relayed = None;
    let (unsent, behind) = loop {
        let unsent = outbox(&app.trajectories_db, " where sent_at is null").await
            + outbox(&app.testing_db, " where sent_at is null").await;
        let behind = if unsent == 0 {
            relayed.get_or_insert(started.elapsed());
            readers.lag().await
        } else {
            Vec::new()
        };
        let done = unsent == 0 && behind.iter().all(|(_, lag)| *lag == Some(0));
        if done || started.elapsed() > imported + patience {
            break (unsent, behind);
        }
        tokio::time::sleep(LAG_POLL).await;
    };
    let secs = started.elapsed().as_secs_f64();
    if unsent == 0 && behind.iter().all(|(_, lag)| *lag == Some(0)) {
        println!(
            "caseload lag 0 at {n} records: {secs:.1} s from the import's start, {:.1} s after its end; every event relayed at {:.1} s ({:.0} events/s), consumed by the {} groups of {} at {secs:.1} s ({:.0} events/s)",
            secs - imported.as_secs_f64(),
            relayed.unwrap_or_default().as_secs_f64(),
            events as f64 / relayed.unwrap_or_default().as_secs_f64(),
            groups.len(),
            topics.join(" and "),
            events as f64 / secs
        );
    } else {
        let left: Vec<String> = behind
            .iter()
            .filter(|(_, lag)| *lag != Some(0))
            .map(|(g, lag)| {
                format!(
                    "{g} {}",
                    lag.map_or("unknown".to_owned(), |l| l.to_string())
                )
            })
            .collect();
        println!(
            "caseload lag NOT 0 at {n} records after {secs:.1} s (patience {} s after the import): {unsent} events unsent; behind: {}",
            patience.as_secs(),
            if left.is_empty() {
                "(not read while events were unsent)".to_owned()
            } else {
                left.join(", ")
            }
        );
    }
    app.stop().await;
}

async fn outbox(url: &SecretString, filter: &str) -> i64 {
    testkit::scalar(url, &format!("select count(*) from outbox{filter}")).await
}

/// One client per consumer group that reads its committed offsets (it joins no group).
struct LagReaders(Vec<(topics::Group, Arc<BaseConsumer>)>);

impl LagReaders {
    fn new(brokers: &str, groups: &[topics::Group]) -> LagReaders {
        LagReaders(
            groups
                .iter()
                .map(|g| {
                    let reader: BaseConsumer = ClientConfig::new()
                        .set("bootstrap.servers", brokers)
                        .set("group.id", &g.group)
                        .set("enable.auto.commit", "false")
                        .create()
                        .expect("a lag reader");
                    (g.clone(), Arc::new(reader))
                })
                .collect(),
        )
    }

    /// Each group's lag on its topic (high watermark minus committed offset, summed over
    /// the partitions); `None` when the broker did not answer.
    async fn lag(&self) -> Vec<(String, Option<i64>)> {
        let mut out = Vec::new();
        for (group, reader) in &self.0 {
            let (reader, topic) = (reader.clone(), group.topic.clone());
            let lag = tokio::task::spawn_blocking(move || read_lag(&reader, &topic).ok())
                .await
                .ok()
                .flatten();
            out.push((group.group.clone(), lag));
        }
        out
    }
}

fn read_lag(reader: &BaseConsumer, topic: &str) -> Result<i64, rdkafka::error::KafkaError> {
    let metadata = reader.fetch_metadata(Some(topic), KAFKA_PATIENCE)?;
    let mut partitions = TopicPartitionList::new();
    for t in metadata.topics().iter().filter(|t| t.name() == topic) {
        for p in t.partitions() {
            partitions.add_partition(topic, p.id());
        }
    }
    let committed = reader.committed_offsets(partitions, KAFKA_PATIENCE)?;
    let mut lag = 0;
    for element in committed.elements() {
        let (low, high) = reader.fetch_watermarks(topic, element.partition(), KAFKA_PATIENCE)?;
        let position = match element.offset() {
            Offset::Offset(n) => n.max(low),
            _ => low,
        };
        lag += (high - position).max(0);
    }
    Ok(lag)
}
