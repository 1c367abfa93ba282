//! A soak of `inburgering dev`, the real binary as a developer runs it: SQLite files, the
//! broker as its child process, the dev issuer. It is started in a fresh data folder on
//! free ports, then `SOAK_CLIENTS` (default 16) clients call it at about `SOAK_RATE`
//! (default 100) calls/s in all for `SOAK_SECS` (default 1800) seconds.
//!
//! The mix mostly writes where events result: journeys in trajectories (register a
//! person, start the trajectory in Antwerp, sign the contract), whose events testing,
//! municipalities, ceremonies, recruitment and interpreting consume; and, for people
//! signed a moment earlier, a placement in a municipality's offer with hours logged
//! (municipalities' events, consumed by trajectories and three others) and an NT2 test
//! booked (testing's events, consumed by trajectories). Between them it reads, in every
//! service, what the projections hold: testing's candidate, the local monitor and the
//! offers of municipalities, ceremonies, recruitment's funnel, interpreting's requests,
//! and the trajectory itself.
//!
//! After the load it waits (at most `SOAK_DRAIN` seconds, default 300) until every
//! consumer group has applied every event staged on its topic, comparing the outbox of
//! the publishing service's SQLite file with the inbox of the consuming one. It prints
//! the calls, the answers by gRPC code (and the `UNAVAILABLE` ones that name the database
//! or a lock), events staged and applied, the largest total lag `/metrics` showed
//! (`messaging_consumer_lag`, scraped every 2 s), the seconds from the end of the load to
//! lag 0, and the ERROR lines in dev's log. It exits non-zero only when the run failed:
//! dev did not start or died, or a group never drained. It asserts no timing.
//!
//! The data folder (with dev's log, `dev.log`) is removed after a clean run (every group
//! drained, no ERROR line before the SIGTERM), kept otherwise or with `SOAK_KEEP=1`. Run with `scripts/bench [--release] soak`.
//!
//! The files under `soak/`: `topics` (topics and consumer groups), `dev` (the child
//! process), `clients` (tokens, connections, the tally), `load` (the clients' calls),
//! `measure` (the lag by `/metrics` and by the SQLite files), `report` (formatting) and
//! `run` (the whole run, start to figures).

// This file is the binary's root (bench/Cargo.toml names it), so its modules, kept
// under soak/, are given by path.
#[path = "soak/clients.rs"]
mod clients;
#[path = "soak/dev.rs"]
mod dev;
#[path = "soak/load.rs"]
mod load;
#[path = "soak/measure.rs"]
mod measure;
#[path = "soak/report.rs"]
mod report;
#[path = "soak/run.rs"]
mod run;
#[path = "soak/topics.rs"]
mod topics;

#[tokio::main]
async fn main() {
    run::main().await;
}
