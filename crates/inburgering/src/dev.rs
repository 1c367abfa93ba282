//! `inburgering dev`: the whole platform on one machine, nothing to configure.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::Context as _;
use platform::{
    Config,
    auth::{DevIssuer, Verifier},
};
use tokio::{net::TcpListener, process::Command, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    options::{DEFAULT_DATA_DIR, DataDir},
    services::{self, ServiceName},
};

/// The dev issuer's URL with the default port.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8180/realms/inburgering";

/// The broker's port when `--broker-port` is not given (the event tools' default too).
const DEFAULT_BROKER_PORT: u16 = 9092;

/// Options of `inburgering dev`.
#[derive(Debug, clap::Args)]
pub struct DevArgs {
    #[command(flatten)]
    data: DataDir,
    /// gRPC port of the first service; the others follow (trajectories 50051, testing 50052, municipalities 50053, ceremonies 50054, recruitment 50055, interpreting 50056).
    #[arg(long, default_value_t = 50051)]
    grpc_port: u16,
    /// Port of the dev OIDC issuer.
    #[arg(long, default_value_t = 8180)]
    issuer_port: u16,
    /// Port of the Kafka-protocol broker (fixed: the broker advertises it).
    #[arg(long, default_value_t = DEFAULT_BROKER_PORT)]
    broker_port: u16,
    /// Port of the Prometheus /metrics endpoint.
    #[arg(long, default_value_t = 9464)]
    metrics_port: u16,
}

/// Where the dev issuer keeps its signing key.
pub fn issuer_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-issuer").join("key.pem")
}

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let data_dir = args.data.path()?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let log = std::env::var("INBURGERING_LOG").unwrap_or_else(|_| "info,rdkafka=warn".into());
    let otlp = std::env::var("INBURGERING_OTLP_ENDPOINT").ok();
    let telemetry = platform::telemetry::init("inburgering-dev", &log, otlp.as_deref())?;
    let shutdown = services::shutdown_on_signal();
    let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));

    // The broker first: services retry until it answers, but the banner should not lie.
    let broker_addr = local(args.broker_port);
    let broker_stop = CancellationToken::new();
    let broker = tokio::spawn(supervise_broker(
        broker_bin()?,
        broker_addr,
        data_dir.join("broker"),
        broker_stop.clone(),
    ));
    wait_until_answers(broker_addr, Duration::from_secs(60))
        .await
        .context("the broker did not start; see its output above")?;
    // Every topic once, before six services race to create the ones they share: a
    // create that loses the race is an ERROR line in the broker's log.
    let topics: Vec<&str> = ServiceName::ALL.iter().map(|s| s.topic()).collect();
    platform::events::ensure_topics(&broker_addr.to_string(), &topics)
        .await
        .context("creating the platform's topics on the broker")?;

    let issuer_url = format!("http://{}/realms/inburgering", local(args.issuer_port));
    let issuer_listener = TcpListener::bind(local(args.issuer_port))
        .await
        .with_context(|| format!("binding the dev issuer on port {}", args.issuer_port))?;
    let issuer = Arc::new(DevIssuer::load_or_create(
        &issuer_key_path(&data_dir),
        issuer_url.clone(),
        Config::default().oidc_audience,
    )?);
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    {
        let stop = shutdown.clone();
        let router = issuer.clone().router();
        tasks.spawn(async move {
            axum::serve(issuer_listener, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .context("dev issuer")
        });
    }

    let config = Arc::new(Config {
        kafka_brokers: broker_addr.to_string(),
        oidc_issuer: issuer_url.clone(),
        data_dir: data_dir.clone(),
        log,
        otlp_endpoint: otlp,
        // Trajectories is the first service (offset 0).
        trajectories_url: format!("http://{}", local(args.grpc_port)),
        ..Config::default()
    });
    let verifier = Arc::new(Verifier::new(
        config.oidc_issuer.clone(),
        config.oidc_audience.clone(),
    ));
    let mut endpoints = Vec::new();
    for (offset, service) in ServiceName::ALL.into_iter().enumerate() {
        let addr = local(args.grpc_port + offset as u16);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {} on {addr}", service.as_str()))?;
        endpoints.push((service, addr));
        let url = platform::db::sqlite_url(&data_dir, service.as_str());
        tasks.spawn(services::run(
            service,
            config.clone(),
            url,
            listener,
            verifier.clone(),
            shutdown.clone(),
        ));
    }
    let metrics_addr = local(args.metrics_port);
    let metrics = TcpListener::bind(metrics_addr)
        .await
        .with_context(|| format!("binding metrics on {metrics_addr}"))?;
    {
        let stop = shutdown.clone();
        tasks.spawn(async move {
            platform::metrics::serve(metrics, stop)
                .await
                .context("metrics")
        });
    }

    print_banner(
        &endpoints,
        &issuer_url,
        broker_addr,
        metrics_addr,
        &data_dir,
    );

    let mut failure = None;
    tokio::select! {
        biased;
        _ = shutdown.cancelled() => {}
        Some(done) = tasks.join_next() => {
            // A part that ended because shutdown began (Ctrl-C, SIGTERM) did its job:
            // both branches are ready at once then, and this one may be chosen.
            let stopping = shutdown.is_cancelled() && matches!(done, Ok(Ok(())));
            if !stopping {
                failure = Some(match done {
                    Ok(Err(e)) => e,
                    Ok(Ok(())) => anyhow::anyhow!("a part of the platform stopped unexpectedly"),
                    Err(e) => anyhow::anyhow!("a part of the platform panicked: {e}"),
                });
            }
        }
    }
    shutdown.cancel();
    while let Some(done) = tasks.join_next().await {
        if let Ok(Err(e)) = done {
            eprintln!("stopping: {e:#}");
        }
    }
    // Services have drained and their relays flushed: now the broker may go.
    broker_stop.cancel();
    let _ = broker.await;
    telemetry.shutdown();
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn print_banner(
    endpoints: &[(ServiceName, SocketAddr)],
    issuer: &str,
    broker: SocketAddr,
    metrics: SocketAddr,
    data_dir: &Path,
) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "inburgering".into());
    let trajectories = endpoints
        .iter()
        .find(|(s, _)| *s == ServiceName::Trajectories)
        .map(|(_, a)| a.to_string())
        .unwrap_or_default();
    eprintln!();
    eprintln!(
        "inburgering dev is running (Ctrl-C stops it). Data: {}",
        data_dir.display()
    );
    for (service, addr) in endpoints {
        eprintln!("  gRPC {:<14} {addr}", service.as_str());
    }
    eprintln!("  OIDC issuer        {issuer}");
    eprintln!("  Kafka broker       {broker}");
    eprintln!(
        "  Metrics            {}",
        platform::metrics::describe(metrics)
    );
    eprintln!();
    eprintln!("A token for an Atlas case worker, and a first call:");
    eprintln!(
        "  TOKEN=$({} --org atlas --role case-worker)",
        token_command(&exe, data_dir, issuer)
    );
    eprintln!(
        "  grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" -d '{{\"national_number\": \"85.07.30-033.28\", \"given_name\": \"Amina\", \"family_name\": \"Haddad\", \"mother_tongue\": \"ar\"}}' {trajectories} inburgering.trajectories.v1.TrajectoryService/RegisterPerson"
    );
    eprintln!("Events as they are published:");
    eprintln!(
        "  {} events tail trajectories.events.v1{}",
        shell_word(&exe),
        if broker.port() == DEFAULT_BROKER_PORT {
            String::new()
        } else {
            format!(" --brokers {broker}")
        }
    );
    eprintln!();
}

/// `inburgering token` as this `dev` needs it: its data folder (the issuer key) and its
/// issuer URL, each named only when it is not the default, so the banner's line works.
fn token_command(exe: &str, data_dir: &Path, issuer: &str) -> String {
    let mut command = format!("{} token", shell_word(exe));
    if data_dir != Path::new(DEFAULT_DATA_DIR) {
        command.push_str(&format!(
            " --data-dir {}",
            shell_word(&data_dir.display().to_string())
        ));
    }
    if issuer != DEFAULT_ISSUER {
        command.push_str(&format!(" --issuer {}", shell_word(issuer)));
    }
    command
}

/// `word` as one word for a POSIX shell: as it is when it holds nothing the shell reads.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The broker binary: `INBURGERING_BROKER_BIN`, or `inburgering-broker` beside this one.
fn broker_bin() -> anyhow::Result<PathBuf> {
    if let Ok(bin) = std::env::var("INBURGERING_BROKER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let bin = std::env::current_exe()?.with_file_name("inburgering-broker");
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p inburgering-broker` (scripts/dev does)",
        bin.display()
    );
    Ok(bin)
}

/// Runs the broker and restarts it when it dies, until `stop`; then SIGTERM and wait.
async fn supervise_broker(
    bin: PathBuf,
    addr: SocketAddr,
    data_dir: PathBuf,
    stop: CancellationToken,
) {
    loop {
        let child = Command::new(&bin)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--exit-with-parent")
            // Its own process group: Ctrl-C in the terminal reaches `dev` only, which
            // drains the services (the relay publishes what they staged) and stops the
            // broker last, instead of the broker leaving first.
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                tracing::error!(error = %e, bin = %bin.display(), "cannot start the broker");
                return;
            }
        };
        tokio::select! {
            status = child.wait() => {
                tracing::warn!(?status, "broker exited; restarting in 1 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = stop.cancelled() => return,
                }
            }
            _ = stop.cancelled() => {
                if let Some(pid) = child.id() {
                    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
                }
                if tokio::time::timeout(Duration::from_secs(5), child.wait()).await.is_err() {
                    let _ = child.kill().await;
                }
                return;
            }
        }
    }
}

async fn wait_until_answers(addr: SocketAddr, patience: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "nothing answers on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banners_token_command_names_only_what_differs_from_the_defaults() {
        assert_eq!(
            token_command("inburgering", Path::new("data"), DEFAULT_ISSUER),
            "inburgering token"
        );
        assert_eq!(
            token_command(
                "/opt/inburgering",
                Path::new("/tmp/my data"),
                "http://127.0.0.1:9180/realms/inburgering"
            ),
            "/opt/inburgering token --data-dir '/tmp/my data' --issuer http://127.0.0.1:9180/realms/inburgering"
        );
    }

    #[test]
    fn a_shell_word_with_a_quote_stays_one_word() {
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
