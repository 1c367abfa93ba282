//! The testing service: NT2 A2, MO and B1 oral tests, sessions, bookings, fees, results.
//!
//! It owns sessions at central locations, bookings (never more than seats), the fee
//! ledger and results, and publishes them on `testing.events.v1`. Who may book what comes
//! from its projection of trajectory events, applied through the platform inbox so each
//! event counts once. Results an agency held before it existed arrive through [`history`].
//! It must never read the trajectories database.

pub mod api;
pub mod bookings;
pub mod convert;
pub mod domain;
mod error;
pub mod history;
pub mod policy;
pub mod projection;
pub mod rules;
pub mod store;

pub use error::TestingError;

use platform::events::Outbox;
use platform::runtime::{ConsumerTask, ServiceContext, ServiceModule};
use proto::testing::v1::testing_service_server::TestingServiceServer;
use tonic::service::Routes;

/// The trajectories topic this service consumes.
pub const TRAJECTORIES_TOPIC: &str = "trajectories.events.v1";
/// The consumer group (and inbox name) of the candidate projection.
pub const PROJECTION_GROUP: &str = "testing.candidates";

/// The outbox the service stages its events in, as the platform builds it for the running
/// service: what a command that writes into the testing database (the caseload import)
/// must stage through.
pub fn outbox() -> Outbox {
    Outbox::new(Testing::NAME, Testing::TOPIC)
}

/// The testing service as the platform runs it.
#[derive(Debug)]
pub struct Testing;

impl ServiceModule for Testing {
    const NAME: &'static str = "testing";
    const TOPIC: &'static str = "testing.events.v1";
    const GRPC_SERVICES: &'static [&'static str] = &["inburgering.testing.v1.TestingService"];
    type Migrator = store::Migrator;
    const ACCESS: &'static [platform::auth::Rule] = policy::ACCESS;

    fn routes(ctx: &ServiceContext) -> Routes {
        let bookings = bookings::Bookings::new(ctx.db.clone(), ctx.outbox.clone());
        Routes::new(TestingServiceServer::new(api::TestingApi::new(bookings)))
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        vec![ctx.consumer(
            PROJECTION_GROUP,
            &[TRAJECTORIES_TOPIC],
            projection::Candidates,
        )]
    }
}
