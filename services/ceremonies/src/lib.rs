//! The ceremonies service: integration ceremonies and youth celebrations of a
//! municipality, the invitation list built from the attests issued in its territory,
//! invitations, RSVPs, attendance at the door, ambassadors, and the response-rate report
//! (platform ceremonies and imported historical overviews side by side).
//!
//! It owns its tables and publishes on `ceremonies.events.v1` through the platform outbox.
//! It learns attests from `trajectories.events.v1` and the municipality register from
//! `municipalities.events.v1`. Invitees' names and contact languages are read from
//! trajectories at the moment of inviting, on the organiser's behalf (an audited read):
//! it must never hold a national number, never put a name in a log, trace or event, and
//! never read another service's tables. Invitations and cancellation notices are printed
//! as letters by the operator's batch run ([`printing`]).

pub mod api;
pub mod ceremony;
pub mod convert;
pub mod disclosure;
pub mod domain;
mod error;
pub mod import;
pub mod invitations;
pub mod letter;
pub mod policy;
pub mod printing;
pub mod projection;
pub mod report;
pub mod rules;
pub mod store;

pub use error::CeremoniesError;

use platform::runtime::{ConsumerTask, ServiceContext, ServiceModule};
use proto::ceremonies::v1::ceremony_service_server::CeremonyServiceServer;
use tonic::service::Routes;

/// The service's name: its SQLite file and CloudEvents source.
pub const SERVICE: &str = "ceremonies";
/// The topic it publishes on.
pub const TOPIC: &str = "ceremonies.events.v1";
/// The topic of attests.
pub const TRAJECTORIES_TOPIC: &str = "trajectories.events.v1";
/// The topic of the municipality register.
pub const MUNICIPALITIES_TOPIC: &str = "municipalities.events.v1";

/// Largest request the service decodes; its messages are small.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The ceremonies service as the platform runs it.
#[derive(Debug)]
pub struct Ceremonies;

impl ServiceModule for Ceremonies {
    const NAME: &'static str = SERVICE;
    const TOPIC: &'static str = TOPIC;
    const GRPC_SERVICES: &'static [&'static str] = &["inburgering.ceremonies.v1.CeremonyService"];
    type Migrator = store::Migrator;
    const ACCESS: &'static [platform::auth::Rule] = policy::ACCESS;

    fn routes(ctx: &ServiceContext) -> Routes {
        let trajectories = disclosure::Trajectories::lazy(&ctx.config.trajectories_url);
        let ceremonies = ceremony::Ceremonies::new(ctx.db.clone(), ctx.outbox.clone());
        let invitations = invitations::Invitations::new(ceremonies.clone(), trajectories);
        Routes::new(
            CeremonyServiceServer::new(api::CeremonyApi::new(ceremonies, invitations))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        vec![
            ctx.consumer(
                projection::ATTESTS_GROUP,
                &[TRAJECTORIES_TOPIC],
                projection::Attests,
            ),
            ctx.consumer(
                projection::REGISTER_GROUP,
                &[MUNICIPALITIES_TOPIC],
                wire::register::Register,
            ),
        ]
    }
}
