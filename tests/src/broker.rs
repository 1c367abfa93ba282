//! The broker binary, one process per test on a port of its own.

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

/// A running `inburgering-broker` with its own SQLite storage.
#[derive(Debug)]
pub struct Broker {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// The broker binary: `INBURGERING_BROKER_BIN`, or `inburgering-broker` beside the tests.
fn binary() -> PathBuf {
    match std::env::var("INBURGERING_BROKER_BIN") {
        Ok(bin) => PathBuf::from(bin),
        Err(_) => crate::workspace_binary("inburgering-broker"),
    }
}

impl Broker {
    /// Starts a broker on a free port and waits until it answers.
    pub async fn start() -> Broker {
        // The broker advertises the address it listens on, so it needs a concrete port
        // up front: take one the kernel considers free.
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!("inburgering-broker-{}", uuid::Uuid::new_v4()));
        let mut broker = Broker {
            port,
            dir,
            child: None,
        };
        broker.resume().await;
        broker
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (as a crash would); its storage stays.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill broker");
        }
    }

    /// Freezes the broker (SIGSTOP): connections stay open and nothing is answered, as
    /// when a busy broker leaves heartbeats unanswered. [`Broker::thaw`] resumes it.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Resumes a frozen broker (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("the broker is running");
        let status = std::process::Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Starts the broker again on the same port and storage.
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "broker already running");
        let child = Command::new(binary())
            .arg("--listen")
            .arg(self.address())
            .arg("--data-dir")
            .arg(&self.dir)
            // A test ended by nextest's timeout is killed without running this kit's
            // drops: the broker then stops on its own instead of lingering.
            .arg("--exit-with-parent")
            .stdout(Stdio::null())
            // INBURGERING_TEST_BROKER_LOG=<file> (with RUST_LOG) keeps what tansu says.
            .stderr(match std::env::var_os("INBURGERING_TEST_BROKER_LOG") {
                Some(path) => Stdio::from(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .expect("broker log"),
                ),
                None => Stdio::null(),
            })
            .kill_on_drop(true)
            .spawn()
            .expect("spawn inburgering-broker");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(self.address())
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "broker did not answer on {}",
                self.address()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
