//! Faults under load, the long run: the broker down for a minute, a poison event,
//! trajectories SIGKILLed mid-relay, PostgreSQL crashed, while journeys of four commands
//! flow at a steady rate. Prints what the callers saw and what the databases and topics
//! prove, then fails if anything was lost or applied twice.
//!
//! `FAULTS_RATE` (commands/s, default 100), `FAULTS_JOURNEYS` (cap, default 20000),
//! `FAULTS_BROKER_DOWN` and `FAULTS_POSTGRES_DOWN` (seconds, default 60 each) override
//! the plan. Run with
//! `scripts/bench [--release] faults`.

use testkit::faults::{self, Plan};

#[tokio::main]
async fn main() {
    let figures = faults::run(Plan::long()).await;
    println!("{figures}");
    figures.assert_sound();
}
