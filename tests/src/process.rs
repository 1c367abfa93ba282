//! A service as its own process (`inburgering serve <service>`), for what only a process
//! can suffer: SIGKILL mid-work, and a restart from nothing but its database.

use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

/// One `inburgering serve <service>` process, configured by `INBURGERING_*` variables.
#[derive(Debug)]
pub struct ServiceProcess {
    service: String,
    addr: SocketAddr,
    env: Vec<(String, String)>,
    /// stdout and stderr of every start, appended: what an operator would read.
    log: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl ServiceProcess {
    /// A process of `service` serving gRPC on `addr` with the configuration `env`
    /// (`INBURGERING_*` pairs); not started yet.
    pub fn new(service: &str, addr: SocketAddr, env: Vec<(String, String)>) -> ServiceProcess {
        let log = std::env::temp_dir().join(format!(
            "inburgering-{service}-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        ServiceProcess {
            service: service.to_owned(),
            addr,
            env,
            log,
            child: None,
            starts: 0,
        }
    }

    /// Starts the process and waits until it accepts gRPC connections.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "{} already running", self.service);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("service log file");
        let child = Command::new(crate::workspace_binary("inburgering"))
            .args(["serve", &self.service])
            .env_remove("INBURGERING_CONFIG")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::from(log.try_clone().expect("log handle")))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn inburgering serve");
        self.child = Some(child);
        self.starts += 1;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(self.addr).await.is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{} exited at start ({status}):\n{}",
                    self.service,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} did not answer on {}",
                self.service,
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no drain, no relay flush, no offset commit; what a node failure does.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("SIGKILL the service");
        }
    }

    /// SIGTERM, then waits for the drain; panics if the process did not exit cleanly.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().expect("a running child has an id");
            let sent = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .expect("kill -TERM");
            assert!(sent.success(), "SIGTERM to {}", self.service);
            let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
                .await
                .unwrap_or_else(|_| panic!("{} did not drain within 30 s", self.service))
                .expect("wait for the service");
            assert!(
                status.success(),
                "{} stopped with {status}:\n{}",
                self.service,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }

    /// Where it serves gRPC.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How often it was started.
    pub fn starts(&self) -> u32 {
        self.starts
    }

    /// What its Prometheus endpoint (`INBURGERING_METRICS_ADDR`) reports now.
    pub async fn metrics(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self
            .env
            .iter()
            .find(|(k, _)| k == "INBURGERING_METRICS_ADDR")
            .map(|(_, v)| v.clone())
            .expect("a process with a metrics address");
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .unwrap_or_else(|e| panic!("metrics of {} at {addr}: {e}", self.service));
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .expect("ask for metrics");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .expect("read metrics");
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// Its resident set size in KiB now (`VmRSS`), if it runs.
    pub fn rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id()?;
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The lines it logged at ERROR, over all its starts.
    pub fn error_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("ERROR"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        if std::thread::panicking() || std::env::var_os("INBURGERING_TEST_KEEP_LOGS").is_some() {
            eprintln!("{} log kept: {}", self.service, self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
