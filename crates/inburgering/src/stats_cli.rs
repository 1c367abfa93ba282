//! `inburgering stats brussels --from … --to …`: the Brussels figures of
//! `BrusselsStatisticsService` for a period (both days included), printed for a reply to
//! parliament. It asks the trajectories service at `INBURGERING_TRAJECTORIES_URL` with a
//! `monitor`'s token in `INBURGERING_TOKEN`, so the figures are the API's, not a second
//! computation.

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate};
use clap::Subcommand;
use platform::{Config, grpc::OnBehalfOf};
use proto::{
    common::v1 as common,
    trajectories::v1::{
        GetBrusselsFiguresRequest,
        brussels_statistics_service_client::BrusselsStatisticsServiceClient,
    },
};

/// The figures the platform computes for a period.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Bon's contracts and attests (of them obliged), Dutch-language GGC trajectories and
    /// obliged newcomers registered nowhere, in the Brussels region.
    Brussels {
        /// First day of the period (YYYY-MM-DD), counted.
        #[arg(long)]
        from: NaiveDate,
        /// Last day of the period (YYYY-MM-DD), counted.
        #[arg(long)]
        to: NaiveDate,
    },
}

fn date(d: NaiveDate) -> common::Date {
    common::Date {
        year: d.year(),
        month: i32::try_from(d.month()).unwrap_or(0),
        day: i32::try_from(d.day()).unwrap_or(0),
    }
}

pub async fn run(command: StatsCommand) -> anyhow::Result<()> {
    let StatsCommand::Brussels { from, to } = command;
    let config = Config::load()?;
    let token = std::env::var("INBURGERING_TOKEN")
        .context("INBURGERING_TOKEN: a token of a monitor is needed to read the figures")?;
    let caller = OnBehalfOf::bearer(&token, None)?;
    let mut client = BrusselsStatisticsServiceClient::connect(config.trajectories_url.clone())
        .await
        .with_context(|| format!("connecting to trajectories at {}", config.trajectories_url))?;
    let f = client
        .get_brussels_figures(caller.request(GetBrusselsFiguresRequest {
            from: Some(date(from)),
            to: Some(date(to)),
        }))
        .await
        .map_err(|s| anyhow::anyhow!("trajectories refused: {}", s.message()))?
        .into_inner();
    println!("Brussels, {from} to {to} (both included):");
    println!(
        "  contracts signed at Bon:                         {}",
        f.bon_contracts
    );
    println!(
        "    of the contracts, obliged:                              {}",
        f.bon_contracts_obliged
    );
    println!(
        "  attests issued by Bon:                           {}",
        f.bon_attests
    );
    println!(
        "    of the attests, obliged:                              {}",
        f.bon_attests_obliged
    );
    println!(
        "  chose a Dutch-language GGC trajectory:           {}",
        f.dutch_ggc_trajectories
    );
    println!(
        "  obliged, registered with neither Bon nor the GGC: {}",
        f.obliged_not_registered
    );
    Ok(())
}
