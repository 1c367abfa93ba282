//! The one error enum of the testing service, in the caller's words.

use platform::{ServiceError, ServiceErrorCode, auth::AuthError};
use uuid::Uuid;

/// What went wrong with a testing request.
#[derive(Debug, thiserror::Error)]
pub enum TestingError {
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("person {person_id} is not known to testing")]
    CandidateNotFound { person_id: Uuid },
    #[error("session {session_id} does not exist")]
    SessionNotFound { session_id: Uuid },
    #[error("booking {booking_id} does not exist")]
    BookingNotFound { booking_id: Uuid },
    #[error("session {session_id} is full")]
    SessionFull { session_id: Uuid },
    #[error("session {session_id} has already started")]
    SessionStarted { session_id: Uuid },
    #[error("person {person_id} may not take this test: {reason}")]
    NotEligible { person_id: Uuid, reason: String },
    #[error("person {person_id} already has an open booking for this test")]
    AlreadyBooked { person_id: Uuid },
    #[error("booking {booking_id} is {status}, not booked")]
    BookingClosed {
        booking_id: Uuid,
        status: &'static str,
    },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl TestingError {
    /// Bad input in `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

impl ServiceError for TestingError {
    fn auth(&self) -> Option<&dyn platform::error::Refusal> {
        match self {
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }

    fn error_code(&self) -> ServiceErrorCode {
        match self {
            Self::InvalidArgument { .. } => ServiceErrorCode::InvalidArgument,
            Self::CandidateNotFound { .. }
            | Self::SessionNotFound { .. }
            | Self::BookingNotFound { .. } => ServiceErrorCode::NotFound,
            Self::AlreadyBooked { .. } => ServiceErrorCode::AlreadyExists,
            Self::SessionFull { .. }
            | Self::SessionStarted { .. }
            | Self::NotEligible { .. }
            | Self::BookingClosed { .. } => ServiceErrorCode::FailedPrecondition,
            Self::Auth(e) => e.error_code(),
            Self::Database(_) => ServiceErrorCode::DatabaseUnavailable,
            Self::Corrupt(_) => ServiceErrorCode::Internal,
        }
    }
}

platform::grpc_error!(TestingError);
