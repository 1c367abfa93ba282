//! The flags the commands share, defined once: where the data folder is, where a service
//! answers, which broker, on whose behalf. Each falls back to the `INBURGERING_*` variable
//! that `serve` reads, and `--help` names it; a flag beats the variable, the variable beats
//! the `INBURGERING_CONFIG` file.
//!
//! A mistake in how a command was called is a [`Usage`] error: `main` prints it as one
//! line and exits with 2.

use std::path::{Path, PathBuf};

use platform::Config;

/// The data folder when neither `--data-dir` nor the configuration names one.
pub const DEFAULT_DATA_DIR: &str = "data";

/// A mistake in how the command was called (a folder that is not there, a missing
/// token): `main` prints the message as one line and exits with 2, not 1.
#[derive(Debug)]
pub struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A [`Usage`] error saying `message`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(message.into()))
}

/// `--data-dir`: the folder `inburgering dev` keeps everything in.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDir {
    /// The data folder of `inburgering dev`: its SQLite files, the broker's storage and
    /// the dev issuer key [default: data, or data_dir of the INBURGERING_CONFIG file]
    #[arg(long = "data-dir", env = "INBURGERING_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDir {
    /// The folder named by the flag or the variable, else the `INBURGERING_CONFIG` file's,
    /// else `data`: for `dev` and `token`, which need nothing else of the configuration
    /// (the others [`apply`](Self::apply) the flag to the configuration they load).
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        if std::env::var_os("INBURGERING_CONFIG").is_some() {
            return Ok(Config::load()?.data_dir);
        }
        Ok(PathBuf::from(DEFAULT_DATA_DIR))
    }

    /// Puts the folder named by the flag or the variable into `config`.
    pub fn apply(&self, config: &mut Config) {
        if let Some(dir) = &self.data_dir {
            config.data_dir.clone_from(dir);
        }
    }
}

/// The folder `dir`, refused (one line, naming it) when it is not there: a command that
/// reads the data folder must not start an empty one of its own.
pub fn existing_folder(dir: &Path) -> anyhow::Result<&Path> {
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(usage(format!(
            "--data-dir {}: no such folder",
            dir.display()
        )))
    }
}

/// The text of the input file an operator named; one that cannot be read is a usage error.
pub fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).map_err(|e| usage(format!("{}: {e}", file.display())))
}

/// `--trajectories-url`: where the commands that call a service find it.
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceUrls {
    /// Where trajectories answers gRPC [default: http://127.0.0.1:50051, as under
    /// `inburgering dev`]
    #[arg(
        long = "trajectories-url",
        env = "INBURGERING_TRAJECTORIES_URL",
        value_name = "URL"
    )]
    trajectories_url: Option<String>,
}

impl ServiceUrls {
    /// Puts the URLs named by the flags or the variables into `config`.
    pub fn apply(&self, config: &mut Config) {
        if let Some(url) = &self.trajectories_url {
            config.trajectories_url.clone_from(url);
        }
    }
}

/// `--token`: the bearer token a command calls a service with, on the operator's behalf.
#[derive(Debug, Clone, clap::Args)]
pub struct Caller {
    /// The access token the command calls with (dev: `inburgering token --org … --role …`;
    /// production: a service account's); prefer the variable, a flag shows in `ps`
    #[arg(
        long,
        env = "INBURGERING_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
}

impl Caller {
    /// The token, or a usage error saying that a token of `role` is needed.
    pub fn token(&self, role: &str) -> anyhow::Result<&str> {
        self.token.as_deref().ok_or_else(|| {
            usage(format!(
                "no token: set INBURGERING_TOKEN (or --token) to a token of a {role}"
            ))
        })
    }
}

/// `--brokers`: the Kafka bootstrap servers of the event tools.
#[derive(Debug, Clone, clap::Args)]
pub struct Brokers {
    /// Kafka bootstrap servers
    #[arg(
        long,
        env = "INBURGERING_KAFKA_BROKERS",
        default_value = "127.0.0.1:9092",
        value_name = "HOST:PORT"
    )]
    pub brokers: String,
}
