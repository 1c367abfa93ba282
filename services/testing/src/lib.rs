//! The testing service: NT2 A2, MO and B1 oral tests, sessions, bookings, fees, results.
//!
//! This first slice owns the projection of trajectory events that decides who may book
//! which test, applied through the platform inbox so that each event counts once. It must
//! never read the trajectories database: it learns only from `trajectories.events.v1`.

pub mod api;
mod error;
pub mod projection;
pub mod store;

pub use error::TestingError;

use platform::runtime::{ConsumerTask, ServiceContext, ServiceModule};
use proto::testing::v1::testing_service_server::TestingServiceServer;
use tonic::service::Routes;

/// The trajectories topic this service consumes.
pub const TRAJECTORIES_TOPIC: &str = "trajectories.events.v1";
/// The consumer group (and inbox name) of the candidate projection.
pub const PROJECTION_GROUP: &str = "testing.candidates";

/// The testing service as the platform runs it.
#[derive(Debug)]
pub struct Testing;

impl ServiceModule for Testing {
    const NAME: &'static str = "testing";
    const TOPIC: &'static str = "testing.events.v1";
    const GRPC_SERVICES: &'static [&'static str] = &["inburgering.testing.v1.TestingService"];
    type Migrator = store::Migrator;

    fn routes(ctx: &ServiceContext) -> Routes {
        Routes::new(TestingServiceServer::new(api::TestingApi::new(
            ctx.db.clone(),
        )))
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        vec![ctx.consumer(
            PROJECTION_GROUP,
            &[TRAJECTORIES_TOPIC],
            projection::Candidates,
        )]
    }
}
