//! The recruitment service: newcomers from the national-register feed and their target
//! group by rule, letter templates (Dutch with translations, versioned), recruitment and
//! welcome letters printed to PDF (the `letters` crate, every script a newcomer reads, with
//! the sender's contact block) in batches once per person and kind, campaigns,
//! referrals, ambassadors, local recruitment plans, and the conversion funnel letter →
//! intake → contract.
//!
//! It owns its tables and publishes on `recruitment.events.v1` through the platform
//! outbox. It learns the municipality register from `municipalities.events.v1` and
//! trajectory starts and contracts from `trajectories.events.v1`. It must never hold a
//! national number (the feed hands it to trajectories, which stores it once, and keeps
//! the `person_id`), never keep a letter's name and address past the retention, never put
//! a name or an address in a log, trace or event, and never read another service's tables.

pub mod api;
pub mod campaigns;
pub mod convert;
pub mod domain;
mod error;
pub mod feed;
pub mod funnel;
pub mod letters;
pub mod newcomers;
pub mod plans;
pub mod policy;
pub mod projection;
pub mod rules;
pub mod store;

use std::{sync::Arc, time::Duration};

pub use error::RecruitmentError;

use platform::runtime::{ConsumerTask, ScheduledJob, ServiceContext, ServiceModule};
use proto::recruitment::v1::recruitment_service_server::RecruitmentServiceServer;
use tonic::service::Routes;

/// The service's name: its SQLite file and CloudEvents source.
pub const SERVICE: &str = "recruitment";
/// The topic it publishes on.
pub const TOPIC: &str = "recruitment.events.v1";
/// The topic of trajectory starts and contracts.
pub const TRAJECTORIES_TOPIC: &str = "trajectories.events.v1";
/// The topic of the municipality register.
pub const MUNICIPALITIES_TOPIC: &str = wire::register::TOPIC;
/// The scheduled job that erases letters' names and addresses after the retention.
pub const ERASURE_JOB: &str = "recruitment-address-erasure";
/// How often the erasure runs: addresses are gone within an hour of their retention.
const ERASURE_EVERY: Duration = Duration::from_secs(3600);

/// Largest request the service decodes; templates are the largest messages.
const MAX_MESSAGE_BYTES: usize = 512 * 1024;

/// The days a letter's address is kept after sending, as configured.
pub fn retention_days(config: &platform::Config) -> u32 {
    config
        .address_retention_days
        .unwrap_or(rules::DEFAULT_ADDRESS_RETENTION_DAYS)
}

/// Who signs the letters and the contact blocks they end with, as configured
/// (`INBURGERING_LETTER_SENDERS_FILE`); the error names the file and the entry.
pub fn senders(config: &platform::Config) -> Result<::letters::Senders, String> {
    ::letters::Senders::load(config.letter_senders_file.as_deref())
}

/// The recruitment service as the platform runs it.
#[derive(Debug)]
pub struct Recruitment;

impl ServiceModule for Recruitment {
    const NAME: &'static str = SERVICE;
    const TOPIC: &'static str = TOPIC;
    const GRPC_SERVICES: &'static [&'static str] =
        &["inburgering.recruitment.v1.RecruitmentService"];
    type Migrator = store::migrations::Migrator;
    const ACCESS: &'static [platform::auth::Rule] = policy::ACCESS;

    fn check_config(config: &platform::Config) -> Result<(), String> {
        senders(config).map(|_| ())
    }

    fn routes(ctx: &ServiceContext) -> Routes {
        let campaigns = campaigns::Campaigns::new(ctx.db.clone(), ctx.outbox.clone());
        let plans = plans::Plans::new(ctx.db.clone());
        Routes::new(
            RecruitmentServiceServer::new(api::RecruitmentApi::new(campaigns, plans))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
    }

    fn consumers(ctx: &ServiceContext) -> Vec<ConsumerTask> {
        vec![
            ctx.consumer(
                projection::REGISTER_GROUP,
                &[MUNICIPALITIES_TOPIC],
                wire::register::Register,
            ),
            ctx.consumer(
                projection::CONVERSION_GROUP,
                &[TRAJECTORIES_TOPIC],
                projection::Conversion,
            ),
        ]
    }

    fn scheduled(ctx: &ServiceContext) -> Vec<ScheduledJob> {
        let db = ctx.db.clone();
        vec![ScheduledJob {
            name: ERASURE_JOB,
            every: ERASURE_EVERY,
            run: Arc::new(move || {
                let db = db.clone();
                Box::pin(async move {
                    letters::erase_due(&db, chrono::Utc::now())
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
        }]
    }
}
