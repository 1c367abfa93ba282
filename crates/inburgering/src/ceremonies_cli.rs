//! `inburgering ceremonies import FILE.csv`, `inburgering ceremonies report --year Y` and
//! `inburgering ceremonies letters`: operators' commands on the ceremonies database
//! (configured like `serve ceremonies`: `INBURGERING_DATABASE_URL`, or the SQLite file
//! under `--data-dir`, which must be there), migrated first.

use std::path::PathBuf;

use anyhow::Context as _;
use ceremonies::{import, policy::Scope, printing, report};
use indicatif::{ProgressBar, ProgressStyle};
use platform::{Config, runtime::ServiceModule};

use crate::{
    options::{DataDir, read, usage},
    services::{self, ServiceName},
};

#[derive(Debug, clap::Subcommand)]
pub enum CeremoniesCommand {
    /// Load a historical overview (year,municipality,kind,invitations,participants,
    /// reported_rate); all or nothing, and importing it again changes nothing.
    Import {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the report of a year as CSV (platform ceremonies and imported overviews,
    /// then totals per agency and kind); a missing count is an empty cell.
    Report {
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the invitations and cancellation notices sent and not yet printed, once per
    /// invitee, ceremony and kind, to PDF files (one per batch of one ceremony, with an
    /// index): the Dutch letter, then the contact language's translation when there is
    /// one. A run that was interrupted is finished first.
    Letters {
        /// Only this ceremony's letters [default: every ceremony's].
        #[arg(long, value_name = "CEREMONY_ID")]
        ceremony: Option<uuid::Uuid>,
        /// Where the PDF files go (default: ceremony-letters/ under the data folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Stop after this many new batches (a trial run).
        #[arg(long)]
        max_batches: Option<u64>,
        #[command(flatten)]
        data: DataDir,
    },
}

fn config(data: &DataDir) -> anyhow::Result<Config> {
    let mut config = Config::load()?;
    data.apply(&mut config);
    Ok(config)
}

async fn database(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let url = services::existing_database_url(config, ServiceName::Ceremonies)?;
    platform::db::connect_and_migrate::<<ceremonies::Ceremonies as ServiceModule>::Migrator>(
        &url,
        config.database_max_connections,
    )
    .await
    .context("opening the ceremonies database")
}

pub async fn run(command: CeremoniesCommand) -> anyhow::Result<()> {
    match command {
        CeremoniesCommand::Import { file, data } => {
            let text = read(&file)?;
            let db = database(&config(&data)?).await?;
            let bar = ProgressBar::new(import::line_count(&text)).with_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} lines")
                    .context("progress bar template")?,
            );
            bar.set_message(format!("checking {}", file.display()));
            let outcome = import::run(&db, &text, &|line| bar.set_position(line)).await;
            bar.finish_and_clear();
            let summary = outcome?;
            println!(
                "{}: {} rows, {} new, {} changed, {} unchanged",
                file.display(),
                summary.rows,
                summary.inserted,
                summary.updated,
                summary.unchanged
            );
            Ok(())
        }
        CeremoniesCommand::Report { year, data } => {
            if !(2000..=2100).contains(&year) {
                return Err(usage(format!(
                    "--year {year}: not a year from 2000 to 2100"
                )));
            }
            let db = database(&config(&data)?).await?;
            let rows = report::year(&db, year, &Scope::All, None, None).await?;
            let totals = report::totals(&rows);
            print!("{}", report::csv(&rows, &totals)?);
            Ok(())
        }
        CeremoniesCommand::Letters {
            ceremony,
            out,
            max_batches,
            data,
        } => letters(config(&data)?, ceremony, out, max_batches).await,
    }
}

async fn letters(
    config: Config,
    ceremony: Option<uuid::Uuid>,
    out: Option<PathBuf>,
    max_batches: Option<u64>,
) -> anyhow::Result<()> {
    let senders = printing::Senders::load(config.letter_senders_file.as_deref())
        .map_err(|e| usage(format!("INBURGERING_LETTER_SENDERS_FILE: {e}")))?;
    let db = database(&config).await?;
    let run = printing::Run {
        out_dir: out.unwrap_or_else(|| config.data_dir.join("ceremony-letters")),
        ceremony,
        max_batches,
        today: platform::clock::today(),
        senders,
    };
    let bar = ProgressBar::new(printing::pending(&db, &run).await?).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} letters ({eta} left)")
            .context("progress bar template")?,
    );
    bar.set_message("ceremony letters");
    let outcome = printing::run(&db, &run, &|done| bar.set_position(done)).await;
    bar.finish_and_clear();
    let summary = outcome?;
    let kind = |k: &str| summary.letters.get(k).copied().unwrap_or(0);
    println!(
        "{} invitation(s) and {} cancellation notice(s) in {} batch(es) to {}: {} with a translation, {} in Dutch only{}",
        kind("invitation"),
        kind("cancellation"),
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
