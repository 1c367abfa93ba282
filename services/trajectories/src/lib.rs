//! The trajectories service: persons (the one place the national register number is
//! stored), obligation status, trajectories and their contracts, fees.
//!
//! It owns its tables and publishes what happened on `trajectories.events.v1` through the
//! platform outbox. It must never log, trace or publish a national number or a name, and
//! never read another service's tables.

pub mod api;
pub mod domain;
mod error;
pub mod events;
pub mod obligation;
pub mod policy;
pub mod results;
pub mod rules;
pub mod store;

pub use error::TrajectoryError;

use platform::runtime::{ConsumerTask, ServiceContext, ServiceModule};
use proto::trajectories::v1::{
    obligation_check_service_server::ObligationCheckServiceServer,
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
    const GRPC_SERVICES: &'static [&'static str] =
        &["inburgering.trajectories.v1.TrajectoryService"];
    type Migrator = store::Migrator;

    fn routes(ctx: &ServiceContext) -> Routes {
        let api = api::TrajectoryApi::new(store::Store::new(ctx.db.clone(), ctx.outbox.clone()));
        let check = obligation::ObligationCheckApi::new(ctx.db.clone());
        Routes::new(TrajectoryServiceServer::new(api).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(
                ObligationCheckServiceServer::new(check)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        let handler = results::TestResults {
            outbox: ctx.outbox.clone(),
        };
        vec![ctx.consumer(results::GROUP, &[results::TOPIC], handler)]
    }
}
