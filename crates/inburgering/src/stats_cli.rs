//! `inburgering stats brussels --from … --to …`: the Brussels figures of
//! `BrusselsStatisticsService` for a period (both days included), printed for a reply to
//! parliament. It asks the trajectories service at `--trajectories-url` with a `monitor`'s
//! token in `INBURGERING_TOKEN`, so the figures are the API's, not a second computation.

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Subcommand;
use platform::{Config, grpc::OnBehalfOf};
use proto::trajectories::v1::{
    GetBrusselsFiguresRequest, brussels_statistics_service_client::BrusselsStatisticsServiceClient,
};

use crate::options::{Caller, ServiceUrls, usage};

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
        #[command(flatten)]
        caller: Caller,
        #[command(flatten)]
        urls: ServiceUrls,
    },
}

pub async fn run(command: StatsCommand) -> anyhow::Result<()> {
    let StatsCommand::Brussels {
        from,
        to,
        caller,
        urls,
    } = command;
    let mut config = Config::load()?;
    urls.apply(&mut config);
    let token = caller.token("monitor")?;
    let caller =
        OnBehalfOf::bearer(token, None).map_err(|e| usage(format!("INBURGERING_TOKEN: {e}")))?;
    let mut client = BrusselsStatisticsServiceClient::connect(config.trajectories_url.clone())
        .await
        .with_context(|| format!("connecting to trajectories at {}", config.trajectories_url))?;
    let f = client
        .get_brussels_figures(caller.request(GetBrusselsFiguresRequest {
            from: Some(wire::date(from)),
            to: Some(wire::date(to)),
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
