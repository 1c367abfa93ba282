//! Prometheus metrics, named after the OpenTelemetry semantic conventions
//! (`rpc.server.duration` → `rpc_server_duration_seconds`) plus a few platform counters.

use std::{
    net::SocketAddr,
    sync::{LazyLock, Mutex},
    time::Duration,
};

use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

type Labels = Vec<(&'static str, String)>;

struct Metrics {
    registry: Mutex<Registry>,
    rpc_duration: Family<Labels, Histogram>,
    auth_refusals: Family<Labels, Counter>,
    outbox_published: Family<Labels, Counter>,
    outbox_lag: Family<Labels, Histogram>,
    outbox_backlog: Family<Labels, Gauge<i64, std::sync::atomic::AtomicI64>>,
    process_duration: Family<Labels, Histogram>,
    dead_lettered: Family<Labels, Counter>,
    consumer_lag: Family<Labels, Gauge<i64, std::sync::atomic::AtomicI64>>,
    consumer_stalled: Family<Labels, Gauge<i64, std::sync::atomic::AtomicI64>>,
    consumer_restarts: Family<Labels, Counter>,
    outbox_oldest: Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    job_runs: Family<Labels, Counter>,
    job_affected: Family<Labels, Counter>,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let rpc_duration =
        Family::<Labels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
    registry.register_with_unit(
        "rpc_server_duration",
        "Duration of gRPC server calls",
        Unit::Seconds,
        rpc_duration.clone(),
    );
    let auth_refusals = Family::<Labels, Counter>::default();
    registry.register(
        "auth_refusals",
        "Requests refused by authentication or authorisation, by reason",
        auth_refusals.clone(),
    );
    let outbox_published = Family::<Labels, Counter>::default();
    registry.register(
        "outbox_published",
        "Outbox events published to Kafka",
        outbox_published.clone(),
    );
    let outbox_lag =
        Family::<Labels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
    registry.register_with_unit(
        "outbox_relay_lag",
        "Time from staging an event to the broker's acknowledgement",
        Unit::Seconds,
        outbox_lag.clone(),
    );
    let outbox_backlog = Family::<Labels, Gauge<i64, std::sync::atomic::AtomicI64>>::default();
    registry.register(
        "outbox_backlog",
        "Outbox events not yet published",
        outbox_backlog.clone(),
    );
    let process_duration =
        Family::<Labels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
    registry.register_with_unit(
        "messaging_process_duration",
        "Duration of applying one consumed event",
        Unit::Seconds,
        process_duration.clone(),
    );
    let dead_lettered = Family::<Labels, Counter>::default();
    registry.register(
        "messaging_dead_lettered",
        "Events sent to a dead-letter topic",
        dead_lettered.clone(),
    );
    let consumer_lag = Family::<Labels, Gauge<i64, std::sync::atomic::AtomicI64>>::default();
    registry.register(
        "messaging_consumer_lag",
        "Messages between a consumer group's committed offset and the partition's high watermark, both read from the broker",
        consumer_lag.clone(),
    );
    let consumer_stalled = Family::<Labels, Gauge<i64, std::sync::atomic::AtomicI64>>::default();
    registry.register(
        "messaging_consumer_stalled",
        "1 while a consumer group has lag but has received nothing for its stall time",
        consumer_stalled.clone(),
    );
    let consumer_restarts = Family::<Labels, Counter>::default();
    registry.register(
        "messaging_consumer_restarts",
        "Times the watchdog recreated a stalled consumer's client, by reason",
        consumer_restarts.clone(),
    );
    let outbox_oldest = Family::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    registry.register_with_unit(
        "outbox_oldest_unsent_age",
        "Age of the oldest outbox event not yet published (0 when none)",
        Unit::Seconds,
        outbox_oldest.clone(),
    );
    let job_runs = Family::<Labels, Counter>::default();
    registry.register(
        "scheduled_job_runs",
        "Runs of a scheduled job, by outcome",
        job_runs.clone(),
    );
    let job_affected = Family::<Labels, Counter>::default();
    registry.register(
        "scheduled_job_affected",
        "Records a scheduled job acted on (e.g. breaches published)",
        job_affected.clone(),
    );
    Metrics {
        registry: Mutex::new(registry),
        job_runs,
        job_affected,
        consumer_lag,
        consumer_stalled,
        consumer_restarts,
        outbox_oldest,
        rpc_duration,
        auth_refusals,
        outbox_published,
        outbox_lag,
        outbox_backlog,
        process_duration,
        dead_lettered,
    }
});

/// Records one finished gRPC call.
pub fn rpc_finished(service: &str, method: &str, code: &str, elapsed: Duration) {
    METRICS
        .rpc_duration
        .get_or_create(&vec![
            ("rpc_service", service.to_owned()),
            ("rpc_method", method.to_owned()),
            ("rpc_grpc_status_code", code.to_owned()),
        ])
        .observe(elapsed.as_secs_f64());
}

/// Counts a refused request by reason (never who).
pub fn auth_refused(reason: &str) {
    METRICS
        .auth_refusals
        .get_or_create(&vec![("reason", reason.to_owned())])
        .inc();
}

/// Counts a published outbox event and its staging-to-ack lag.
pub fn outbox_published(topic: &str, lag: chrono::TimeDelta) {
    let labels = vec![("messaging_destination_name", topic.to_owned())];
    METRICS.outbox_published.get_or_create(&labels).inc();
    METRICS
        .outbox_lag
        .get_or_create(&labels)
        .observe(lag.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6);
}

/// Sets the number of unsent outbox rows.
pub fn outbox_backlog(topic: &str, rows: u64) {
    METRICS
        .outbox_backlog
        .get_or_create(&vec![("messaging_destination_name", topic.to_owned())])
        .set(i64::try_from(rows).unwrap_or(i64::MAX));
}

/// Records one consumed event's processing.
pub fn message_processed(topic: &str, group: &str, outcome: &str, elapsed: Duration) {
    METRICS
        .process_duration
        .get_or_create(&vec![
            ("messaging_destination_name", topic.to_owned()),
            ("messaging_consumer_group_name", group.to_owned()),
            ("outcome", outcome.to_owned()),
        ])
        .observe(elapsed.as_secs_f64());
}

/// Counts a dead-lettered event.
pub fn dead_lettered(topic: &str) {
    METRICS
        .dead_lettered
        .get_or_create(&vec![("messaging_destination_name", topic.to_owned())])
        .inc();
}

/// Sets how far a consumer group is behind on one partition.
pub fn consumer_lag(topic: &str, group: &str, partition: i32, lag: i64) {
    METRICS
        .consumer_lag
        .get_or_create(&vec![
            ("messaging_destination_name", topic.to_owned()),
            ("messaging_consumer_group_name", group.to_owned()),
            ("messaging_destination_partition_id", partition.to_string()),
        ])
        .set(lag.max(0));
}

/// Marks consumer group `group` stalled (lag, nothing received) or flowing.
pub fn consumer_stalled(group: &str, stalled: bool) {
    METRICS
        .consumer_stalled
        .get_or_create(&vec![("messaging_consumer_group_name", group.to_owned())])
        .set(i64::from(stalled));
}

/// Counts one recreation of group `group`'s consumer client.
pub fn consumer_restarted(group: &str, reason: &str) {
    METRICS
        .consumer_restarts
        .get_or_create(&vec![
            ("messaging_consumer_group_name", group.to_owned()),
            ("reason", reason.to_owned()),
        ])
        .inc();
}

/// Sets the age of the oldest unsent outbox row of `topic` (0 when none).
pub fn outbox_oldest_unsent(topic: &str, age: Duration) {
    METRICS
        .outbox_oldest
        .get_or_create(&vec![("messaging_destination_name", topic.to_owned())])
        .set(age.as_secs_f64());
}

/// Counts one run of scheduled job `job` and what it acted on.
pub fn job_ran(job: &str, outcome: &str, affected: u64) {
    let labels = vec![("job", job.to_owned())];
    let mut with_outcome = labels.clone();
    with_outcome.push(("outcome", outcome.to_owned()));
    METRICS.job_runs.get_or_create(&with_outcome).inc();
    METRICS.job_affected.get_or_create(&labels).inc_by(affected);
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let mut out = String::new();
    let registry = METRICS
        .registry
        .lock()
        .expect("metrics registry lock is never poisoned");
    encode(&mut out, &registry).expect("writing to a String cannot fail");
    out
}

/// Serves `GET /metrics` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(
                    "content-type",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                render(),
            )
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// The address a metrics listener is bound to, for logs.
pub fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/metrics")
}
