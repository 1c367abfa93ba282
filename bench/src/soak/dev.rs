//! `inburgering dev` as the soak runs it: free ports, the binary beside this one, the child
//! process (start, wait for its banner, stop) and the wait for the municipality register
//! to reach trajectories before the first journey.

use std::{
    net::{SocketAddr, TcpListener as StdListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use platform::runtime::ServiceModule;
use sea_orm::{ConnectionTrait, Database, Statement};
use tokio::process::{Child, Command};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ports {
    /// The first of six consecutive gRPC ports (trajectories, testing, municipalities,
    /// ceremonies, recruitment, interpreting).
    pub(crate) grpc: u16,
    pub(crate) issuer: u16,
    pub(crate) broker: u16,
    pub(crate) metrics: u16,
}

impl Ports {
    pub(crate) fn grpc(&self, offset: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.grpc + offset))
    }

    pub(crate) fn metrics(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.metrics))
    }

    pub(crate) fn issuer_url(&self) -> String {
        format!("http://127.0.0.1:{}/realms/inburgering", self.issuer)
    }
}

/// Nine ports free now, six of them consecutive, below the kernel's ephemeral range
/// (where the platform's own outgoing connections would take them).
pub(crate) fn free_ports() -> Ports {
    let bind = |port: u16| StdListener::bind(("127.0.0.1", port)).ok();
    let mut seed = u64::from(std::process::id())
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into());
    for _ in 0..500 {
        // xorshift: a different base per attempt.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let base = 20_000 + (seed % 12_000) as u16;
        let held: Option<Vec<StdListener>> = (0..9).map(|i| bind(base + i)).collect();
        if held.is_some() {
            return Ports {
                grpc: base,
                issuer: base + 6,
                broker: base + 7,
                metrics: base + 8,
            };
        }
    }
    panic!("no nine consecutive free ports between 20000 and 32000");
}

/// The `inburgering` binary beside this one.
pub(crate) fn inburgering_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("this executable's path");
    let bin = exe.with_file_name("inburgering");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --workspace --bins` (scripts/bench does)",
        bin.display()
    );
    bin
}

/// `inburgering dev` running as a child process.
pub(crate) struct Dev {
    pub(crate) child: Child,
    log: PathBuf,
    ports: Ports,
}

impl Dev {
    pub(crate) fn start(bin: &Path, data: &Path, ports: Ports) -> Dev {
        let log = data.join("dev.log");
        let file =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let child = Command::new(bin)
            .arg("dev")
            .arg("--data-dir")
            .arg(data)
            .args(["--grpc-port", &ports.grpc.to_string()])
            .args(["--issuer-port", &ports.issuer.to_string()])
            .args(["--broker-port", &ports.broker.to_string()])
            .args(["--metrics-port", &ports.metrics.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().expect("log handle")))
            .stderr(Stdio::from(file))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {} dev: {e}", bin.display()));
        Dev { child, log, ports }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Waits for the banner (everything bound, the issuer's key written) and for the
    /// metrics endpoint.
    pub(crate) async fn ready(&mut self, patience: Duration) -> Result<(), String> {
        let deadline = Instant::now() + patience;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("inburgering dev exited at start ({status})"));
            }
            if self.log_text().contains("inburgering dev is running")
                && tokio::net::TcpStream::connect(self.ports.metrics())
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "inburgering dev did not print its banner within {} s",
                    patience.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM (dev drains its services and stops the broker last), then SIGKILL after a
    /// minute; its exit status.
    pub(crate) async fn stop(&mut self) -> String {
        if let Ok(Some(status)) = self.child.try_wait() {
            return format!("had exited: {status}");
        }
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(Ok(status)) => status.to_string(),
            Ok(Err(e)) => format!("unknown: {e}"),
            Err(_) => {
                let _ = self.child.kill().await;
                "still running 60 s after SIGTERM: killed".into()
            }
        }
    }
}

/// Waits until trajectories has applied a municipalities event (the register, which
/// municipalities publishes at its start): before, StartTrajectory is refused (and dev
/// logs it as an ERROR, which the soak counts).
pub(crate) async fn register_reached_trajectories(
    data: &Path,
    patience: Duration,
) -> Result<(), String> {
    let service = <trajectories::Trajectories as ServiceModule>::NAME;
    let path = data.join(format!("{service}.sqlite"));
    let sql = format!(
        "select count(*) from inbox where consumer = '{}'",
        trajectories::municipalities::GROUP
    );
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if path.exists()
            && let Ok(db) = Database::connect(format!("sqlite://{}?mode=ro", path.display())).await
        {
            let applied = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    sql.clone(),
                ))
                .await
                .ok()
                .flatten()
                .and_then(|r| r.try_get_by_index::<i64>(0).ok())
                .unwrap_or(0);
            let _ = db.close().await;
            if applied > 0 {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!(
        "the municipality register did not reach trajectories in {} s",
        patience.as_secs()
    ))
}
