//! `inburgering ceremonies import FILE.csv` and `inburgering ceremonies report --year Y`:
//! operators' commands on the ceremonies database (configured like `serve ceremonies`:
//! `INBURGERING_DATABASE_URL`, or the SQLite file under `--data-dir`, which must be there),
//! migrated first.

use std::path::PathBuf;

use anyhow::Context as _;
use ceremonies::{import, policy::Scope, report};
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
}

async fn database(data: &DataDir) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let mut config = Config::load()?;
    data.apply(&mut config);
    let url = services::existing_database_url(&config, ServiceName::Ceremonies)?;
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
            let db = database(&data).await?;
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
            let db = database(&data).await?;
            let rows = report::year(&db, year, &Scope::All, None, None).await?;
            let totals = report::totals(&rows);
            print!("{}", report::csv(&rows, &totals)?);
            Ok(())
        }
    }
}
