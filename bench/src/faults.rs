//! Faults under load, the long run: the broker down for a minute, a poison event,
//! trajectories SIGKILLed mid-relay, PostgreSQL crashed, while journeys of four commands
//! flow at a steady rate. Prints what the callers saw and what the databases and topics
//! prove, then fails if anything was lost or applied twice.
//!
//! `FAULTS_RATE` (commands/s, default 100), `FAULTS_JOURNEYS` (cap, default 20000),
//! `FAULTS_BROKER_DOWN` and `FAULTS_POSTGRES_DOWN` (seconds, default 60 each) override
//! the plan. Run with
//! `scripts/bench [--release] faults`.
//!
//! `bench-faults --short` runs the test suite's plan (`it::faults`) instead; the exit code
//! tells whether the run was sound (`bench-contended` runs it repeatedly this way).
//! Either prints, on a line of its own, the seconds from the end of the last fault until
//! every consumer group had applied every staged event:
//! `last fault → lag 0: 12.3 s` (or `last fault → lag 0: never (gave up after 60.0 s)`).

use std::time::Duration;

use testkit::faults::{self, Figures, Plan};

/// The prefix of the line `bench-contended` parses.
const LAG_LINE: &str = "last fault → lag 0:";

#[tokio::main]
async fn main() {
    let mut short = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--short" => short = true,
            other => {
                eprintln!("bench-faults: unknown argument {other:?} (only --short)");
                std::process::exit(2);
            }
        }
    }
    let plan = if short { Plan::short() } else { Plan::long() };
    let figures = faults::run(plan).await;
    println!("{figures}");
    println!("{}", lag_line(&figures));
    figures.assert_sound();
}

/// When the last fault ended (every fault of the timeline is over by then: the broker is
/// back, the poison is published, trajectories serves again, PostgreSQL accepts), and how
/// long after it every group was at lag 0.
fn lag_line(figures: &Figures) -> String {
    let t = &figures.timeline;
    let last_fault = [
        t.broker_back_at,
        t.poison_at,
        t.restarted_at,
        t.postgres_back_at,
    ]
    .into_iter()
    .max()
    .unwrap_or_default();
    let after = t.drained_at.saturating_sub(last_fault);
    if figures.groups.iter().any(|g| g.missing > 0) {
        format!("{LAG_LINE} never (gave up after {:.1} s)", secs(after))
    } else {
        format!("{LAG_LINE} {:.1} s", secs(after))
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
