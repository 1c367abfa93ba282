//! `inburgering recruitment import-register FILE` and `inburgering recruitment letters`:
//! operators' commands on the recruitment database (configured like `serve recruitment`:
//! `INBURGERING_DATABASE_URL`, or the SQLite file under `--data-dir`, which must be there),
//! migrated first. Events they cause wait in the outbox for the running service's relay.
//!
//! The import hands national numbers to trajectories on the operator's behalf: it needs
//! a token of a `recruitment-officer` of an agency in `INBURGERING_TOKEN` (a service
//! account's in production; `inburgering token --org bon --role recruitment-officer` in
//! dev) and trajectories at `--trajectories-url`.

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use platform::{Config, events::Outbox, grpc::OnBehalfOf, runtime::ServiceModule};
use recruitment::{domain::LetterKind, feed, letters};

use crate::{
    options::{Caller, DataDir, ServiceUrls, read, usage},
    services::{self, ServiceName},
};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// To obliged and entitled newcomers in Flanders.
    Recruitment,
    /// To adult newcomers in Brussels, from Bon.
    Welcome,
}

#[derive(Debug, clap::Subcommand)]
pub enum RecruitmentCommand {
    /// Import national-register change records (CSV with a header, or JSON lines). The
    /// file is checked whole first: any malformed line stops it before anything is
    /// written. Importing the same file again adds nothing.
    ImportRegister {
        /// The file.
        file: PathBuf,
        /// The organisation the token acts for, when it holds several.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        caller: Caller,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        urls: ServiceUrls,
    },
    /// Print the letters of a kind to PDF files (one per batch, with an index) for the
    /// people registered in the period who do not have that letter yet.
    Letters {
        #[arg(long, value_enum)]
        kind: Kind,
        /// First registration day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        registered_from: NaiveDate,
        /// Last registration day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        registered_to: NaiveDate,
        /// Where the PDF files go (default: letters/ under the data folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Stop after this many batches (a trial run).
        #[arg(long)]
        max_batches: Option<u64>,
        #[command(flatten)]
        data: DataDir,
    },
}

async fn database(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let url = services::existing_database_url(config, ServiceName::Recruitment)?;
    platform::db::connect_and_migrate::<<recruitment::Recruitment as ServiceModule>::Migrator>(
        &url,
        config.database_max_connections,
    )
    .await
    .context("opening the recruitment database")
}

fn bar(len: u64, unit: &str) -> anyhow::Result<ProgressBar> {
    Ok(ProgressBar::new(len).with_style(
        ProgressStyle::with_template(&format!(
            "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
        ))
        .context("progress bar template")?,
    ))
}

pub async fn run(command: RecruitmentCommand) -> anyhow::Result<()> {
    let mut config = Config::load()?;
    command.apply(&mut config);
    // One trace per command (with `INBURGERING_OTLP_ENDPOINT`): the import's calls to
    // trajectories carry it, so Tempo shows the run and every registration it made.
    let telemetry = platform::telemetry::init_for_command(
        &format!("inburgering-{}", recruitment::SERVICE),
        &config.log,
        config.otlp_endpoint.as_deref(),
    )?;
    let outcome = {
        use tracing::Instrument as _;
        let span = tracing::info_span!("recruitment command", command = command.name());
        execute(config, command).instrument(span).await
    };
    telemetry.shutdown();
    outcome
}

impl RecruitmentCommand {
    /// Puts the folder and URLs named by flags or variables into `config`.
    fn apply(&self, config: &mut Config) {
        match self {
            RecruitmentCommand::ImportRegister { data, urls, .. } => {
                data.apply(config);
                urls.apply(config);
            }
            RecruitmentCommand::Letters { data, .. } => data.apply(config),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            RecruitmentCommand::ImportRegister { .. } => "import-register",
            RecruitmentCommand::Letters { .. } => "letters",
        }
    }
}

async fn execute(config: Config, command: RecruitmentCommand) -> anyhow::Result<()> {
    let outbox = Outbox::new(recruitment::SERVICE, recruitment::TOPIC);
    match command {
        RecruitmentCommand::ImportRegister {
            file, org, caller, ..
        } => {
            let token = caller.token(
                "recruitment-officer (persons are registered with trajectories on their behalf)",
            )?;
            let caller = OnBehalfOf::bearer(token, org.as_deref())
                .map_err(|e| usage(format!("INBURGERING_TOKEN: {e}")))?;
            let text = read(&file)?;
            let db = database(&config).await?;
            let registrar = feed::Registrar::new(&config.trajectories_url, caller);
            let bar = bar(feed::line_count(&text), "records")?;
            bar.set_message(format!("importing {}", file.display()));
            let outcome = feed::import(&db, &outbox, &registrar, &text, &|done| {
                bar.set_position(done)
            })
            .await;
            bar.finish_and_clear();
            let summary = outcome?;
            println!(
                "{}: {} records, {} new, {} imported before, {} repeated in the file",
                file.display(),
                summary.records,
                summary.imported,
                summary.already_imported,
                summary.duplicates_in_file
            );
            for (group, n) in &summary.groups {
                println!("  new {group}: {n}");
            }
            for (reason, n) in &summary.skipped {
                println!("  not taken, {reason}: {n}");
            }
            Ok(())
        }
        RecruitmentCommand::Letters {
            kind,
            registered_from,
            registered_to,
            out,
            max_batches,
            ..
        } => {
            if registered_to < registered_from {
                return Err(usage(format!(
                    "--registered-to {registered_to} is before --registered-from {registered_from}"
                )));
            }
            // A senders file that does not load stops the run before anything is reserved.
            let senders = recruitment::senders(&config)
                .map_err(|e| usage(format!("INBURGERING_LETTER_SENDERS_FILE: {e}")))?;
            let db = database(&config).await?;
            let run = letters::Run {
                kind: match kind {
                    Kind::Recruitment => LetterKind::Recruitment,
                    Kind::Welcome => LetterKind::Welcome,
                },
                registered_from,
                registered_to,
                out_dir: out.unwrap_or_else(|| config.data_dir.join("letters")),
                retention_days: recruitment::retention_days(&config),
                max_batches,
                senders,
            };
            let bar = bar(letters::pending(&db, &run).await?, "letters")?;
            bar.set_message(format!("{} letters", run.kind.as_str()));
            let outcome = letters::run(&db, &outbox, &run, &|done| bar.set_position(done)).await;
            bar.finish_and_clear();
            let summary = outcome?;
            println!(
                "{} letters in {} batch(es) to {}: {} with a translation, {} in Dutch only{}",
                summary.letters,
                summary.batches,
                run.out_dir.display(),
                summary.translated.values().sum::<u64>(),
                summary.dutch_only,
                if summary.resumed > 0 {
                    format!(
                        " ({} batch(es) of an interrupted run completed)",
                        summary.resumed
                    )
                } else {
                    String::new()
                }
            );
            for (language, n) in &summary.translated {
                println!("  translated into {language}: {n}");
            }
            for file in &summary.files {
                println!("  {}", file.display());
            }
            Ok(())
        }
    }
}
