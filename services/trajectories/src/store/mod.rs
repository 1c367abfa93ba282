//! The trajectories database: sea-orm entities, migrations, and the writes that commit a
//! state change together with its outbox events.

mod aggregate;
mod entities;
mod migrations;
mod repository;

pub use aggregate::{
    B1_FOLLOW_UP_KEY, claim_version, component_key, load, record_breaches, save_progress,
};
pub use entities::{
    breach, brussels_newcomer, caseload_import, disclosure_audit, exchange_audit, fee,
    ggc_registration, obligation_check, person, trajectory,
};
pub use migrations::Migrator;
pub use repository::{ListFilter, NewPerson, Store};
