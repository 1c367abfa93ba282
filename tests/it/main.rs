#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a failed test, with its line
//! The one integration-test binary: every module is a scenario on real parts
//! (PostgreSQL, the broker process, real OIDC issuers, real gRPC servers).

mod access;
mod auth;
mod breaches;
mod brussels;
mod caseload;
mod caseload_history;
mod ceremonies;
mod citizenship;
mod cli;
mod consumers;
mod deploy;
mod disclosure;
mod events;
mod faults;
mod history;
mod interpreting;
mod migrations;
mod municipalities;
mod obligation;
mod privacy;
mod recruitment;
mod testing;
mod traces;
mod trajectories;
