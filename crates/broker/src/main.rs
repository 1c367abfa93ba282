//! `inburgering-broker`: the Kafka-protocol broker for the embedded default and the tests.
//!
//! It embeds tansu with SQLite storage. It lives in its own binary because tansu's libSQL
//! and sea-orm's SQLite both bundle `sqlite3.c`, and one binary cannot link both. Services
//! never know it is tansu: they speak the Kafka protocol through rdkafka, and production
//! points `INBURGERING_KAFKA_BROKERS` at Apache Kafka instead. It must never hold data that
//! is not reproducible from the services' outboxes: it is a development broker.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use tansu_broker::{broker::Broker, coordinator::group::administrator::Controller};
use tansu_storage::StorageContainer;
use tokio::{signal::unix::SignalKind, time::Instant};
use tracing::{info, warn};
use url::Url;

#[derive(Debug, Parser)]
#[command(about = "Kafka-protocol broker (tansu on SQLite) for development and tests")]
struct Args {
    /// Address to listen on and to advertise (host:port); the advertised address is fixed,
    /// so clients must reach the broker at exactly this address.
    #[arg(
        long,
        env = "INBURGERING_BROKER_LISTEN",
        default_value = "127.0.0.1:9092"
    )]
    listen: String,
    /// Folder that holds the broker's SQLite file (`broker.db`).
    #[arg(long, env = "INBURGERING_BROKER_DATA", default_value = "data")]
    data_dir: PathBuf,
    /// Kafka cluster id reported to clients.
    #[arg(long, default_value = "inburgering-dev")]
    cluster_id: String,
    /// Stop when the process that started the broker is gone (`inburgering dev` runs it in
    /// a process group of its own, so no terminal signal reaches it when `dev` is killed).
    #[arg(long)]
    exit_with_parent: bool,
}

const DB_FILE: &str = "broker.db";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,inburgering_broker=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();

    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating broker data folder {}", args.data_dir.display()))?;
    // tansu resolves `sqlite://<path>` against the working directory only.
    std::env::set_current_dir(&args.data_dir)
        .with_context(|| format!("entering broker data folder {}", args.data_dir.display()))?;

    let listener = Url::parse(&format!("tcp://{}", args.listen)).context("--listen")?;
    let storage = Url::parse(&format!("sqlite://{DB_FILE}")).expect("constant URL parses");

    let mut broker = Broker::<Controller<StorageContainer>, StorageContainer>::builder()
        .node_id(111)
        .cluster_id(args.cluster_id.clone())
        .incarnation_id(uuid::Uuid::now_v7())
        .advertised_listener(listener.clone())
        .storage(storage)
        .listener(listener.clone())
        .silent(true)
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("building broker: {e:?}"))?;

    // The schema exists once `build` has opened the storage.
    index_headers().await?;

    let serving = tokio::spawn(async move {
        broker
            .serve(Instant::now())
            .await
            .map_err(|e| anyhow::anyhow!("broker stopped: {e:?}"))
    });
    info!(listen = %args.listen, "broker listening");
    println!("inburgering-broker ready on {}", args.listen);

    let mut term = tokio::signal::unix::signal(SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(SignalKind::interrupt())?;
    let parent = std::os::unix::process::parent_id();
    let orphaned = async move {
        if !args.exit_with_parent {
            return std::future::pending().await;
        }
        // A dead parent's children are adopted (by init or a subreaper): the id changes.
        while std::os::unix::process::parent_id() == parent {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM: stopping broker"),
        _ = int.recv() => info!("SIGINT: stopping broker"),
        () = orphaned => info!("the process that started the broker is gone: stopping broker"),
        outcome = serving => {
            return outcome.context("broker task panicked")?;
        }
    }
    // Each produce is committed by SQLite before it is acknowledged, so stopping here
    // loses nothing that a client was told is stored.
    Ok(())
}

/// tansu 0.6 creates `header` without an index, and fetches slow to a stop after ~80k
/// records: index it by the key fetches use.
async fn index_headers() -> anyhow::Result<()> {
    let db = libsql::Builder::new_local(DB_FILE)
        .build()
        .await
        .context("opening broker.db to index headers")?;
    let conn = db.connect().context("connecting to broker.db")?;
    if let Err(e) = conn
        .execute(
            "create index if not exists header_topition_offset on header (topition, offset_id)",
            (),
        )
        .await
    {
        warn!(error = %e, "could not index broker headers; fetches slow down on large topics");
    }
    Ok(())
}
