//! The one error enum of the testing service.

use platform::{ServiceError, ServiceErrorCode, auth::AuthError};
use uuid::Uuid;

/// What went wrong with a testing request.
#[derive(Debug, thiserror::Error)]
pub enum TestingError {
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("person {person_id} is not known to testing")]
    CandidateNotFound { person_id: Uuid },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl ServiceError for TestingError {
    fn error_code(&self) -> ServiceErrorCode {
        match self {
            Self::InvalidArgument { .. } => ServiceErrorCode::InvalidArgument,
            Self::CandidateNotFound { .. } => ServiceErrorCode::NotFound,
            Self::Auth(e) => e.error_code(),
            Self::Database(_) => ServiceErrorCode::Unavailable,
        }
    }
}

impl From<TestingError> for tonic::Status {
    fn from(e: TestingError) -> Self {
        match e {
            TestingError::Auth(auth) => auth.into(),
            other => platform::error::into_status(other),
        }
    }
}
