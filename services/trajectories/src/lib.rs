//! The trajectories service: persons (the one place the national register number is
//! stored), obligation status, trajectories and their contracts, fees.
//!
//! It owns its tables and publishes what happened on `trajectories.events.v1` through the
//! platform outbox. It must never log, trace or publish a national number or a name, and
//! never read another service's tables.

pub mod api;
pub mod brussels;
pub mod caseload;
pub mod casework;
pub mod convert;
pub mod disclosure;
pub mod domain;
mod error;
pub mod events;
pub mod exchange;
pub mod municipalities;
pub mod obligation;
pub mod policy;
pub mod results;
pub mod rules;
pub mod statistics;
pub mod store;
pub mod sweep;

pub use error::TrajectoryError;

use std::{sync::Arc, time::Duration};

use platform::runtime::{ConsumerTask, ScheduledJob, ServiceContext, ServiceModule};
use proto::trajectories::v1::{
    brussels_statistics_service_server::BrusselsStatisticsServiceServer,
    disclosure_service_server::DisclosureServiceServer,
    obligation_check_service_server::ObligationCheckServiceServer,
    partner_exchange_service_server::PartnerExchangeServiceServer,
    trajectory_service_server::TrajectoryServiceServer,
};
use tonic::service::Routes;

/// Largest request the service decodes; its messages are small.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The trajectories service as the platform runs it.
#[derive(Debug)]
pub struct Trajectories;

impl ServiceModule for Trajectories {
    const NAME: &'static str = "trajectories";
    const TOPIC: &'static str = "trajectories.events.v1";
    const GRPC_SERVICES: &'static [&'static str] = &[
        "inburgering.trajectories.v1.TrajectoryService",
        "inburgering.trajectories.v1.ObligationCheckService",
        "inburgering.trajectories.v1.DisclosureService",
        "inburgering.trajectories.v1.PartnerExchangeService",
        "inburgering.trajectories.v1.BrusselsStatisticsService",
    ];
    type Migrator = store::Migrator;
    const ACCESS: &'static [platform::auth::Rule] = policy::ACCESS;

    fn routes(ctx: &ServiceContext) -> Routes {
        let store = store::Store::new(ctx.db.clone(), ctx.outbox.clone());
        let api = api::TrajectoryApi::new(casework::Casework::new(store));
        let check = api::ObligationCheckApi::new(obligation::ObligationChecks::new(ctx.db.clone()));
        Routes::new(TrajectoryServiceServer::new(api).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(
                ObligationCheckServiceServer::new(check)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .add_service(
                DisclosureServiceServer::new(api::DisclosureApi::new(
                    disclosure::Disclosures::new(ctx.db.clone()),
                ))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .add_service(
                PartnerExchangeServiceServer::new(api::PartnerExchangeApi::new(
                    exchange::Exchange::new(ctx.db.clone()),
                ))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .add_service(
                BrusselsStatisticsServiceServer::new(api::BrusselsStatisticsApi::new(
                    statistics::Statistics::new(ctx.db.clone()),
                ))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        let results = results::TestResults {
            outbox: ctx.outbox.clone(),
        };
        let municipalities = municipalities::MunicipalityEvents {
            outbox: ctx.outbox.clone(),
        };
        vec![
            ctx.consumer(results::GROUP, &[results::TOPIC], results),
            ctx.consumer(
                municipalities::GROUP,
                &[municipalities::TOPIC],
                municipalities,
            ),
            ctx.consumer(
                brussels::GROUP,
                &[brussels::TOPIC],
                brussels::BrusselsNewcomers,
            ),
        ]
    }

    fn scheduled(ctx: &ServiceContext) -> Vec<ScheduledJob> {
        if ctx.config.breach_sweep_interval_secs == 0 {
            tracing::info!("the deadline sweep is off (breach_sweep_interval_secs = 0)");
            return Vec::new();
        }
        let (db, outbox) = (ctx.db.clone(), ctx.outbox.clone());
        vec![ScheduledJob {
            name: sweep::JOB,
            every: Duration::from_secs(ctx.config.breach_sweep_interval_secs),
            run: Arc::new(move || {
                let (db, outbox) = (db.clone(), outbox.clone());
                Box::pin(async move {
                    let today = platform::clock::today();
                    sweep::run_once(&db, &outbox, today)
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
        }]
    }
}
