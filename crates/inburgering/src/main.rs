//! `inburgering`: the one binary of the platform.
//!
//! - `inburgering dev` starts everything on one machine with embedded defaults: every
//!   service, SQLite files under `./data`, the Kafka-protocol broker as a supervised child
//!   process, and a dev OIDC issuer. It prints the endpoints and a first grpcurl call.
//! - `inburgering serve <service>` runs one service against configured PostgreSQL, Kafka
//!   and OIDC issuer, as a Kubernetes Deployment does.
//! - `inburgering ceremonies import|report|letters` loads historical overviews, prints the
//!   response-rate report as CSV and the invitations and cancellation notices as PDF.
//! - `inburgering recruitment import-register|letters` imports the national-register feed
//!   and prints letters to PDF.
//! - `inburgering import caseload FILE` brings in an agency's existing caseload with its
//!   own dates, checked whole first (docs/caseload-import.md).
//! - `inburgering token` prints a dev-issuer token; `inburgering events tail` prints a
//!   topic's events as JSON; `inburgering events replay` re-publishes dead-lettered ones.
//!
//! Every command that reads the data folder takes `--data-dir`, every one that calls a
//! service `--<service>-url` (both defined once, in `options`, with the `INBURGERING_*`
//! variable as fallback). A mistake in how a command was called prints one line and exits
//! with 2; a failure prints one line and exits with 1.
//!
//! It wires services to the platform and holds no domain logic.

mod ceremonies_cli;
mod dev;
mod import_cli;
mod options;
mod recruitment_cli;
mod replay;
mod services;
mod stats_cli;
mod tail;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "inburgering",
    version,
    about = "Back office platform for civic integration in Flanders and Brussels"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the whole platform on this machine (SQLite, local broker, dev issuer).
    Dev(dev::DevArgs),
    /// Run one service as a Deployment does; configured by INBURGERING_* variables.
    Serve {
        /// The service to run.
        service: services::ServiceName,
        // Where its SQLite file is (made) when no INBURGERING_DATABASE_URL is set.
        #[command(flatten)]
        data: options::DataDir,
        #[command(flatten)]
        urls: options::ServiceUrls,
    },
    /// Run one service's database migrations and exit (the chart's migration Job).
    Migrate {
        /// The service whose database to migrate.
        service: services::ServiceName,
        // Where its SQLite file is (made) when no INBURGERING_DATABASE_URL is set.
        #[command(flatten)]
        data: options::DataDir,
    },
    /// Print an access token from the dev issuer (the key under the data folder).
    Token(token::TokenArgs),
    /// The ceremonies' historical overviews, report and printed letters.
    Ceremonies {
        #[command(subcommand)]
        command: ceremonies_cli::CeremoniesCommand,
    },
    /// The register feed and the letter batches of recruitment.
    Recruitment {
        #[command(subcommand)]
        command: recruitment_cli::RecruitmentCommand,
    },
    /// Figures computed from the data (`stats brussels --from … --to …`).
    Stats {
        #[command(subcommand)]
        command: stats_cli::StatsCommand,
    },
    /// Bring in what an agency holds today (`import caseload FILE`).
    Import {
        #[command(subcommand)]
        command: import_cli::ImportCommand,
    },
    /// Tools for the event topics.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Print each event of a topic (key, CloudEvents headers, decoded payload) as JSON.
    Tail(tail::TailArgs),
    /// Publish chosen events of a dead-letter topic to their original topic again.
    Replay(replay::ReplayArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line with the causes (`{:#}`), never the Debug dump with a backtrace.
            eprintln!("inburgering: {e:#}");
            if e.chain().any(|cause| cause.is::<options::Usage>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Dev(args) => dev::run(args).await,
        Command::Serve {
            service,
            data,
            urls,
        } => services::serve(service, &data, &urls).await,
        Command::Migrate { service, data } => services::migrate(service, &data).await,
        Command::Token(args) => token::run(args),
        Command::Ceremonies { command } => ceremonies_cli::run(command).await,
        Command::Recruitment { command } => recruitment_cli::run(command).await,
        Command::Stats { command } => stats_cli::run(command).await,
        Command::Import { command } => import_cli::run(command).await,
        Command::Events {
            command: EventsCommand::Tail(args),
        } => tail::run(args).await,
        Command::Events {
            command: EventsCommand::Replay(args),
        } => replay::run(args).await,
    }
}
