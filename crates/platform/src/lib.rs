//! The one shared kit of the inburgering services.
//!
//! It owns the plumbing every service needs and must not repeat: typed layered config,
//! the database pool and migrations, OIDC token validation and the `Principal`, the
//! transactional outbox with its relay and the idempotent inbox consumer, telemetry and
//! trace propagation, the gRPC server bootstrap, and the one mapping from errors to
//! `tonic::Status`. It must never contain a service's domain: no rule, no table of a
//! service, no knowledge of a service's proto beyond what a caller passes in.

pub mod agency;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod grpc;
pub mod health;
pub mod metrics;
pub mod national_number;
pub mod nis;
pub mod paging;
pub mod runtime;
pub mod telemetry;

pub use agency::Agency;
pub use auth::{Principal, Role};
pub use config::Config;
pub use error::{FieldError, PlatformError, ServiceError, ServiceErrorCode};
pub use national_number::{NationalNumber, NationalNumberError};
pub use nis::Nis;
