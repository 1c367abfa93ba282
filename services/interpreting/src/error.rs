//! The one error enum of the interpreting service, in the caller's words.

use platform::{ServiceError, ServiceErrorCode, auth::AuthError};
use uuid::Uuid;

/// What went wrong with an interpreting request or command.
#[derive(Debug, thiserror::Error)]
pub enum InterpretingError {
    /// A request field is wrong; the message names it and says why.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("municipality_nis: {nis} is not in the municipality register")]
    UnknownMunicipality { nis: String },
    #[error("interpreter {interpreter_id} does not exist")]
    InterpreterNotFound { interpreter_id: Uuid },
    #[error("request {request_id} does not exist")]
    RequestNotFound { request_id: Uuid },
    /// The request is not in the state the command needs.
    #[error("request {request_id} is {state}: {hint}")]
    WrongState {
        request_id: Uuid,
        state: &'static str,
        hint: &'static str,
    },
    /// The interpreter cannot take the request; the reason says why.
    #[error("interpreter {interpreter_id} cannot take request {request_id}: {reason}")]
    Unsuitable {
        interpreter_id: Uuid,
        request_id: Uuid,
        reason: String,
    },
    /// The database refused a second booking of the interpreter at once.
    #[error(
        "interpreter {interpreter_id} is already booked from {from} to {to} (request {other_request}); \
         pick another candidate"
    )]
    DoubleBooking {
        interpreter_id: Uuid,
        other_request: Uuid,
        from: String,
        to: String,
    },
    #[error(
        "the absence overlaps request {request_id} booked from {from} to {to}: reassign it first"
    )]
    AbsenceOverBooking {
        request_id: Uuid,
        from: String,
        to: String,
    },
    #[error("no {mode} rate is configured for {day}")]
    NoRate {
        mode: &'static str,
        day: chrono::NaiveDate,
    },
    #[error("another billing run of {month} billed some of the same services; run it again")]
    BillingRace { month: String },
    /// A concurrent change to the same request or interpreter won; retrying may succeed.
    #[error("request {request_id} {what}; read it again and retry")]
    Contended {
        request_id: Uuid,
        what: &'static str,
    },
    #[error("interpreter {interpreter_id} is managed by {agency}, outside your area")]
    NotYourInterpreter {
        interpreter_id: Uuid,
        agency: String,
    },
    #[error("the municipality register has not arrived from municipalities yet; retry in a moment")]
    RegisterNotLoaded,
    #[error("rates: {0}")]
    Rates(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl InterpretingError {
    /// Bad input in `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

impl ServiceError for InterpretingError {
    fn auth(&self) -> Option<&dyn platform::error::Refusal> {
        match self {
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }

    fn error_code(&self) -> ServiceErrorCode {
        match self {
            Self::InvalidArgument { .. } | Self::UnknownMunicipality { .. } => {
                ServiceErrorCode::InvalidArgument
            }
            Self::InterpreterNotFound { .. } | Self::RequestNotFound { .. } => {
                ServiceErrorCode::NotFound
            }
            Self::WrongState { .. }
            | Self::Unsuitable { .. }
            | Self::DoubleBooking { .. }
            | Self::AbsenceOverBooking { .. }
            | Self::NoRate { .. } => ServiceErrorCode::FailedPrecondition,
            Self::BillingRace { .. } | Self::Contended { .. } => ServiceErrorCode::Aborted,
            Self::NotYourInterpreter { .. } => ServiceErrorCode::PermissionDenied,
            Self::RegisterNotLoaded => ServiceErrorCode::Unavailable,
            Self::Database(_) => ServiceErrorCode::DatabaseUnavailable,
            Self::Auth(e) => e.error_code(),
            Self::Rates(_) | Self::Corrupt(_) => ServiceErrorCode::Internal,
        }
    }
}

platform::grpc_error!(InterpretingError);
