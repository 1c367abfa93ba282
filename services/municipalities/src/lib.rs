//! The municipalities service: the register of municipalities (Statbel's, with the
//! competent agency and the codes merged in 2025), partnerships, participation offers and
//! placements with their hours (the one source of truth for the 40 hours), and the local
//! monitor.
//!
//! It owns its tables and publishes on `municipalities.events.v1` through the platform
//! outbox: the register as one `RegisterPublished` (other services keep a projection) and
//! participation as it happens. It learns residents and the monitor's facts from
//! `trajectories.events.v1`. It must never hold a national number or a name, never let a
//! person id leave the monitor, and never read another service's tables.

pub mod api;
pub mod convert;
pub mod directory;
pub mod domain;
mod error;
pub mod geo;
pub mod monitor;
pub mod participation;
pub mod partnership;
pub mod policy;
pub mod projection;
pub mod register;
pub mod report;
pub mod rules;
pub mod store;

pub use error::MunicipalitiesError;

use platform::runtime::{ConsumerTask, ServiceContext, ServiceModule};
use proto::municipalities::v1::municipality_service_server::MunicipalityServiceServer;
use tonic::service::Routes;

/// The service's name: its SQLite file and CloudEvents source.
pub const SERVICE: &str = "municipalities";
/// The topic it publishes on.
pub const TOPIC: &str = "municipalities.events.v1";
/// The trajectories topic it consumes.
pub const TRAJECTORIES_TOPIC: &str = "trajectories.events.v1";

/// Largest request the service decodes; its messages are small.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The municipalities service as the platform runs it.
#[derive(Debug)]
pub struct Municipalities;

impl ServiceModule for Municipalities {
    const NAME: &'static str = SERVICE;
    const TOPIC: &'static str = TOPIC;
    const GRPC_SERVICES: &'static [&'static str] =
        &["inburgering.municipalities.v1.MunicipalityService"];
    type Migrator = store::Migrator;
    const ACCESS: &'static [platform::auth::Rule] = policy::ACCESS;

    fn routes(ctx: &ServiceContext) -> Routes {
        let participation = participation::Participation::new(ctx.db.clone(), ctx.outbox.clone());
        Routes::new(
            MunicipalityServiceServer::new(api::MunicipalityApi::new(participation))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        vec![
            ctx.consumer(
                projection::RESIDENTS_GROUP,
                &[TRAJECTORIES_TOPIC],
                projection::Residents,
            ),
            ctx.consumer(projection::MONITOR_GROUP, &[TOPIC], projection::OwnFacts),
        ]
    }
}
