//! The services this binary can run, and how one is run.

use std::sync::Arc;

use anyhow::Context as _;
use platform::{
    Config,
    auth::Verifier,
    runtime::{self, ServiceModule},
};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::options::{DataDir, ServiceUrls, existing_folder, usage};

/// Every service of the platform that exists so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceName {
    Trajectories,
    Testing,
    Municipalities,
    Ceremonies,
    Recruitment,
    Interpreting,
}

impl ServiceName {
    /// In port order under `inburgering dev` (50051, 50052, …).
    pub const ALL: [ServiceName; 6] = [
        ServiceName::Trajectories,
        ServiceName::Testing,
        ServiceName::Municipalities,
        ServiceName::Ceremonies,
        ServiceName::Recruitment,
        ServiceName::Interpreting,
    ];

    /// The topic it publishes on.
    pub fn topic(self) -> &'static str {
        match self {
            ServiceName::Trajectories => trajectories::Trajectories::TOPIC,
            ServiceName::Testing => testing::Testing::TOPIC,
            ServiceName::Municipalities => municipalities::Municipalities::TOPIC,
            ServiceName::Ceremonies => ceremonies::Ceremonies::TOPIC,
            ServiceName::Recruitment => recruitment::Recruitment::TOPIC,
            ServiceName::Interpreting => interpreting::Interpreting::TOPIC,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Trajectories => trajectories::Trajectories::NAME,
            ServiceName::Testing => testing::Testing::NAME,
            ServiceName::Municipalities => municipalities::Municipalities::NAME,
            ServiceName::Ceremonies => ceremonies::Ceremonies::NAME,
            ServiceName::Recruitment => recruitment::Recruitment::NAME,
            ServiceName::Interpreting => interpreting::Interpreting::NAME,
        }
    }
}

/// Migrates and serves `service` on `listener` until `shutdown`.
pub async fn run(
    service: ServiceName,
    config: Arc<Config>,
    database_url: SecretString,
    listener: TcpListener,
    verifier: Arc<Verifier>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    async fn go<M: ServiceModule>(
        config: Arc<Config>,
        url: SecretString,
        listener: TcpListener,
        verifier: Arc<Verifier>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let prepared = runtime::prepare::<M>(config, &url)
            .await
            .with_context(|| format!("preparing {}", M::NAME))?;
        prepared
            .serve::<M>(listener, verifier, proto::FILE_DESCRIPTOR_SET, shutdown)
            .await
            .with_context(|| format!("serving {}", M::NAME))
    }
    match service {
        ServiceName::Trajectories => {
            go::<trajectories::Trajectories>(config, database_url, listener, verifier, shutdown)
                .await
        }
        ServiceName::Testing => {
            go::<testing::Testing>(config, database_url, listener, verifier, shutdown).await
        }
        ServiceName::Municipalities => {
            go::<municipalities::Municipalities>(config, database_url, listener, verifier, shutdown)
                .await
        }
        ServiceName::Ceremonies => {
            go::<ceremonies::Ceremonies>(config, database_url, listener, verifier, shutdown).await
        }
        ServiceName::Recruitment => {
            go::<recruitment::Recruitment>(config, database_url, listener, verifier, shutdown).await
        }
        ServiceName::Interpreting => {
            go::<interpreting::Interpreting>(config, database_url, listener, verifier, shutdown)
                .await
        }
    }
}

/// The configured database of `service`, or its SQLite file under the data folder.
pub fn database_url(config: &Config, service: ServiceName) -> anyhow::Result<SecretString> {
    match &config.database_url {
        Some(url) => Ok(url.clone()),
        None => {
            std::fs::create_dir_all(&config.data_dir)?;
            Ok(platform::db::sqlite_url(&config.data_dir, service.as_str()))
        }
    }
}

/// The database of `service` for an operator's command (an import, a report): the
/// configured one, or the SQLite file that `dev` or `serve` made under the data folder.
/// Never a new, empty one: a command run from the wrong folder would otherwise find
/// nothing in it (not even the municipality register) and say so misleadingly.
pub fn existing_database_url(
    config: &Config,
    service: ServiceName,
) -> anyhow::Result<SecretString> {
    if let Some(url) = &config.database_url {
        return Ok(url.clone());
    }
    let dir = existing_folder(&config.data_dir)?;
    let file = platform::db::sqlite_path(dir, service.as_str());
    if !file.is_file() {
        return Err(usage(format!(
            "--data-dir {}: no {} database in it ({}); name the folder `inburgering dev` runs with, or set INBURGERING_DATABASE_URL",
            dir.display(),
            service.as_str(),
            file.display()
        )));
    }
    Ok(platform::db::sqlite_url(dir, service.as_str()))
}

/// The configuration of `serve` and `migrate`: files and variables, then the flags.
fn load(data: &DataDir, urls: Option<&ServiceUrls>) -> anyhow::Result<Config> {
    let mut config = Config::load()?;
    data.apply(&mut config);
    if let Some(urls) = urls {
        urls.apply(&mut config);
    }
    Ok(config)
}

/// `inburgering migrate <service>`: the schema, then exit.
pub async fn migrate(service: ServiceName, data: &DataDir) -> anyhow::Result<()> {
    let config = load(data, None)?;
    let telemetry = platform::telemetry::init(
        &format!("inburgering-{}", service.as_str()),
        &config.log,
        config.otlp_endpoint.as_deref(),
    )?;
    let url = database_url(&config, service)?;
    let max = config.database_max_connections;
    async fn up<M: ServiceModule>(
        url: &SecretString,
        max: u32,
    ) -> Result<(), platform::PlatformError> {
        platform::db::connect_and_migrate::<M::Migrator>(url, max)
            .await
            .map(|_| ())
    }
    let migrated = match service {
        ServiceName::Trajectories => up::<trajectories::Trajectories>(&url, max).await,
        ServiceName::Testing => up::<testing::Testing>(&url, max).await,
        ServiceName::Municipalities => up::<municipalities::Municipalities>(&url, max).await,
        ServiceName::Ceremonies => up::<ceremonies::Ceremonies>(&url, max).await,
        ServiceName::Recruitment => up::<recruitment::Recruitment>(&url, max).await,
        ServiceName::Interpreting => up::<interpreting::Interpreting>(&url, max).await,
    };
    telemetry.shutdown();
    migrated.with_context(|| format!("migrating {}", service.as_str()))
}

/// `inburgering serve <service>`: one service, configured from the environment.
pub async fn serve(service: ServiceName, data: &DataDir, urls: &ServiceUrls) -> anyhow::Result<()> {
    let config = Arc::new(load(data, Some(urls))?);
    let telemetry = platform::telemetry::init(
        &format!("inburgering-{}", service.as_str()),
        &config.log,
        config.otlp_endpoint.as_deref(),
    )?;
    let database_url = database_url(&config, service)?;
    let verifier = Arc::new(Verifier::new(
        config.oidc_issuer.clone(),
        config.oidc_audience.clone(),
    ));
    let listener = TcpListener::bind(config.grpc_addr)
        .await
        .with_context(|| format!("binding gRPC on {}", config.grpc_addr))?;
    let metrics = TcpListener::bind(config.metrics_addr)
        .await
        .with_context(|| format!("binding metrics on {}", config.metrics_addr))?;
    let shutdown = shutdown_on_signal();
    let metrics_task = tokio::spawn(platform::metrics::serve(metrics, shutdown.clone()));
    let outcome = run(
        service,
        config,
        database_url,
        listener,
        verifier,
        shutdown.clone(),
    )
    .await;
    shutdown.cancel();
    let _ = metrics_task.await;
    telemetry.shutdown();
    outcome
}

/// A token cancelled on SIGTERM or Ctrl-C.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    return;
                }
            };
        // SIGHUP: the terminal of `inburgering dev` was closed.
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(hup) => Some(hup),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP");
                None
            }
        };
        let hangup = async {
            match hup.as_mut() {
                Some(hup) => hup.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: draining"),
            _ = hangup => tracing::info!("SIGHUP: draining"),
        }
        cancel.cancel();
    });
    token
}
