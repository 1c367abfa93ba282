//! A fresh PostgreSQL database per service per test, and a cluster of its own for a test
//! that restarts the server.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;

/// The server the tests use: `INBURGERING_TEST_POSTGRES` (an admin URL), by default the
/// local server with trust auth.
pub fn admin_url() -> String {
    std::env::var("INBURGERING_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Creates an empty database on the tests' server and returns its URL.
pub async fn fresh_database() -> SecretString {
    fresh_database_at(&admin_url()).await
}

/// Creates an empty database on the server of `admin` (an admin URL) and returns its URL.
/// Databases are named `it_<uuid>`; the test command drops leftovers before a run.
pub async fn fresh_database_at(admin: &str) -> SecretString {
    let name = format!("it_{}", uuid::Uuid::new_v4().simple());
    let db = Database::connect(admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} does not answer: {e}"));
    db.execute_unprepared(&format!("create database {name}"))
        .await
        .expect("create test database");
    db.close().await.expect("close admin connection");
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(admin);
    SecretString::from(format!("{base}/{name}"))
}

/// A PostgreSQL cluster of its own (`initdb` in a temporary folder, on a free port), for
/// a test that crashes and restarts the server: the shared server must never go down
/// under other tests. Stopped and removed on drop.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// initdb refuses to run as root: then the cluster belongs to the postgres user.
    as_postgres: bool,
}

/// The folder of `initdb` and `pg_ctl`: Debian keeps them off the PATH, per version.
fn server_binaries() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!("no PostgreSQL server binaries under /usr/lib/postgresql: run scripts/setup")
    })
}

impl Cluster {
    /// Creates and starts the cluster; waits until it accepts connections.
    pub fn start() -> Cluster {
        let port = crate::free_port();
        let data =
            std::env::temp_dir().join(format!("inburgering-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data).expect("cluster folder");
        // Root? /proc/self belongs to the process's effective user.
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        let cluster = Cluster {
            bin: server_binaries(),
            data,
            port,
            as_postgres,
        };
        if as_postgres {
            cluster.run(Command::new("chown").arg("postgres").arg(&cluster.data));
        }
        cluster.run(cluster.tool("initdb").arg("-D").arg(&cluster.data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ]));
        cluster.pg_ctl(&["start"]);
        cluster
    }

    /// The admin URL of the cluster.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Crashes the server (`immediate`: no checkpoint, every connection cut), leaves it
    /// down for `down`, and starts it again; it recovers from its write-ahead log.
    /// Returns once it accepts connections.
    pub fn crash_and_restart(&self, down: std::time::Duration) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
        std::thread::sleep(down);
        self.pg_ctl(&["start"]);
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off",
            self.port,
            self.data.display()
        );
        self.run(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(self.log())
                .args(["-w", "-o", &options])
                .args(args),
        );
    }

    fn log(&self) -> PathBuf {
        self.data.join("server.log")
    }

    fn run(&self, command: &mut Command) {
        let out = command
            .output()
            .unwrap_or_else(|e| panic!("running {command:?}: {e}"));
        assert!(
            out.status.success(),
            "{command:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
    }

    /// The data folder (the server's log is `server.log` in it).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
