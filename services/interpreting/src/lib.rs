//! The interpreting service: the interpreter pool (languages, modes, regions, weekly hours,
//! absences, certification), requests for social interpreting and translation by public
//! bodies, matching ranked and explained, bookings that never hold one interpreter twice at
//! once, performed services, and invoices per payer and month at configured rates.
//!
//! It owns its tables and publishes on `interpreting.events.v1` through the platform
//! outbox. It learns the municipality register from `municipalities.events.v1` and each
//! trajectory's first and last day from `trajectories.events.v1` (who pays). It must
//! never show an interpreter's name or contact details to anyone but a coordinator (and
//! audits every such read), never put a name, a purpose or a place in a log, trace or
//! event, and never read another service's tables.

pub mod api;
pub mod billing;
pub mod convert;
pub mod domain;
mod error;
pub mod interpreters;
pub mod matching;
pub mod policy;
pub mod projection;
pub mod rates;
pub mod requests;
pub mod rules;
pub mod store;

pub use error::InterpretingError;

use platform::runtime::{ConsumerTask, ServiceContext, ServiceModule};
use proto::interpreting::v1::interpreting_service_server::InterpretingServiceServer;
use tonic::service::Routes;

/// The service's name: its SQLite file and CloudEvents source.
pub const SERVICE: &str = "interpreting";
/// The topic it publishes on.
pub const TOPIC: &str = "interpreting.events.v1";
/// The topic of trajectory starts and ends.
pub const TRAJECTORIES_TOPIC: &str = "trajectories.events.v1";
/// The topic of the municipality register.
pub const MUNICIPALITIES_TOPIC: &str = "municipalities.events.v1";

/// The hours before the start within which a cancellation is billed, as configured.
pub fn late_cancellation_hours(config: &platform::Config) -> u32 {
    config
        .interpreting_late_cancellation_hours
        .unwrap_or(rules::DEFAULT_LATE_CANCELLATION_HOURS)
}

/// The interpreting service as the platform runs it.
#[derive(Debug)]
pub struct Interpreting;

impl ServiceModule for Interpreting {
    const NAME: &'static str = SERVICE;
    const TOPIC: &'static str = TOPIC;
    const GRPC_SERVICES: &'static [&'static str] =
        &["inburgering.interpreting.v1.InterpretingService"];
    type Migrator = store::Migrator;
    const ACCESS: &'static [platform::auth::Rule] = policy::ACCESS;

    fn check_config(config: &platform::Config) -> Result<(), String> {
        rates::Rates::load(config.interpreting_rates_file.as_deref()).map(|_| ())
    }

    fn routes(ctx: &ServiceContext) -> Routes {
        // check_config refused a file that does not load; should it have gone since, bill
        // nothing (every run names the missing rate) rather than at other prices.
        let rates = rates::Rates::load(ctx.config.interpreting_rates_file.as_deref())
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "interpreting rates do not load; billing refuses until they do");
                rates::Rates::none()
            });
        let pool = interpreters::Pool::new(ctx.db.clone());
        let desk = requests::Desk::new(
            ctx.db.clone(),
            ctx.outbox.clone(),
            late_cancellation_hours(&ctx.config),
        );
        let matching = matching::Matching::new(pool.clone(), ctx.outbox.clone());
        let billing = billing::Billing::new(ctx.db.clone(), ctx.outbox.clone(), rates);
        Routes::new(InterpretingServiceServer::new(api::InterpretingApi::new(
            pool, desk, matching, billing,
        )))
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        vec![
            ctx.consumer(
                projection::REGISTER_GROUP,
                &[MUNICIPALITIES_TOPIC],
                wire::register::Register,
            ),
            ctx.consumer(
                projection::TRAJECTORIES_GROUP,
                &[TRAJECTORIES_TOPIC],
                projection::Trajectories,
            ),
        ]
    }
}
