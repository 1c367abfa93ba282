//! Typed, layered configuration: defaults → file (`INBURGERING_CONFIG`) → `INBURGERING_*`
//! environment. The embedded default needs none of it.

use std::{net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::PlatformError;

/// Configuration of one process (`serve <service>` or `dev`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Config {
    /// Database URL: `postgres://…` in production, `sqlite://…?mode=rwc` embedded.
    /// Kept secret because it may carry a password.
    #[serde(serialize_with = "serialize_secret_opt")]
    pub database_url: Option<SecretString>,
    /// Largest number of pooled database connections per service.
    pub database_max_connections: u32,
    /// Kafka bootstrap servers, comma separated.
    pub kafka_brokers: String,
    /// OIDC issuer URL (Keycloak realm URL), e.g. `https://sso.example/realms/inburgering`.
    pub oidc_issuer: String,
    /// The audience access tokens must carry.
    pub oidc_audience: String,
    /// gRPC listen address.
    pub grpc_addr: SocketAddr,
    /// Prometheus `/metrics` listen address.
    pub metrics_addr: SocketAddr,
    /// OTLP/gRPC collector endpoint; traces are exported only when set.
    pub otlp_endpoint: Option<String>,
    /// Folder for the embedded default's SQLite files and dev issuer key.
    pub data_dir: PathBuf,
    /// Log filter in `tracing` syntax.
    pub log: String,
    /// Attempts before a consumed event goes to the dead-letter topic. An attempt made
    /// while the service's database does not answer does not count.
    pub consumer_max_attempts: u32,
    /// A stable name of this replica, e.g. its pod's name (the chart sets it from
    /// `metadata.name`). Set, the service's consumers join their groups as static members
    /// (Kafka's `group.instance.id`): a container restarted after a crash takes its
    /// partitions back at once, instead of waiting for the group to notice the dead
    /// member and rebalance. Unset, they join as dynamic members.
    pub consumer_instance_id: Option<String>,
    /// Seconds a consumer group may have lag while its consumer receives nothing before the
    /// watchdog calls it stalled: it logs an ERROR, recreates the client, and fails the
    /// liveness check if the group is still stalled as long again.
    pub consumer_stall_secs: u64,
    /// Seconds the broker waits for a consumer's heartbeat before it drops the member
    /// (Kafka's `session.timeout.ms`; Kafka's default of 45 s).
    pub consumer_session_timeout_secs: u64,
    /// Seconds one event may take to apply before the consumer gives up its partitions
    /// to the group (Kafka's `max.poll.interval.ms`; Kafka's default of 300 s). The
    /// consumer rejoins once the event is applied.
    pub consumer_max_poll_interval_secs: u64,
    /// Upper bound on one gRPC request's processing time, in seconds.
    pub request_timeout_secs: u64,
    /// Seconds between two runs of the trajectories' deadline sweep (ObligationBreached
    /// for missed contract deadlines); 0 turns it off. Every replica sweeps; a breach is
    /// published once.
    pub breach_sweep_interval_secs: u64,
    /// gRPC URL of trajectories, for the services that ask it something that must be
    /// current (ceremonies: the names and contact languages of invitees, an audited read).
    pub trajectories_url: String,
    /// Days recruitment keeps a letter's name and address after sending it; unset means
    /// the rule's default (recruitment `rules::DEFAULT_ADDRESS_RETENTION_DAYS`).
    pub address_retention_days: Option<u32>,
    /// Hours before the start within which interpreting's cancellation of a booked
    /// interpreter is billed; unset means the rule's default (interpreting
    /// `rules::DEFAULT_LATE_CANCELLATION_HOURS`).
    pub interpreting_late_cancellation_hours: Option<u32>,
    /// A TOML file of interpreting rates with their validity; unset means the built-in
    /// rates (docs/operations.md).
    pub interpreting_rates_file: Option<PathBuf>,
    /// A TOML file of the letters' senders: each agency's and office's contact block and
    /// proposed intake slot; unset means the agencies' public names and websites only
    /// (docs/operations.md).
    pub letter_senders_file: Option<PathBuf>,
}

fn serialize_secret_opt<S: serde::Serializer>(
    value: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    match value {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            database_max_connections: 10,
            kafka_brokers: "127.0.0.1:9092".into(),
            oidc_issuer: "http://127.0.0.1:8180/realms/inburgering".into(),
            oidc_audience: "inburgering".into(),
            grpc_addr: ([127, 0, 0, 1], 50051).into(),
            metrics_addr: ([127, 0, 0, 1], 9464).into(),
            otlp_endpoint: None,
            data_dir: PathBuf::from("data"),
            log: "info".into(),
            consumer_max_attempts: 5,
            consumer_instance_id: None,
            consumer_stall_secs: 30,
            consumer_session_timeout_secs: 45,
            consumer_max_poll_interval_secs: 300,
            request_timeout_secs: 30,
            breach_sweep_interval_secs: 3600,
            trajectories_url: "http://127.0.0.1:50051".into(),
            address_retention_days: None,
            interpreting_late_cancellation_hours: None,
            interpreting_rates_file: None,
            letter_senders_file: None,
        }
    }
}

impl Config {
    /// Reads defaults, then the TOML file named by `INBURGERING_CONFIG` if any, then
    /// `INBURGERING_*` variables (`INBURGERING_KAFKA_BROKERS`, …).
    pub fn load() -> Result<Self, PlatformError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(path) = std::env::var("INBURGERING_CONFIG") {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Env::prefixed("INBURGERING_").ignore(&["CONFIG"]))
            .extract()
            .map_err(|e| PlatformError::Config(e.to_string()))
    }
}
