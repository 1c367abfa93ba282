//! The one error enum of the trajectories service, in the caller's words.

use platform::{ServiceError, ServiceErrorCode, auth::AuthError};
use uuid::Uuid;

/// What went wrong with a trajectories request.
#[derive(Debug, thiserror::Error)]
pub enum TrajectoryError {
    /// A request field is wrong; the message names it and says why.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("person {person_id} is not registered")]
    PersonNotFound { person_id: Uuid },
    #[error("person {person_id} has no trajectory with this agency")]
    NoTrajectory { person_id: Uuid },
    #[error("trajectory {trajectory_id} does not exist")]
    TrajectoryNotFound { trajectory_id: Uuid },
    #[error("person {person_id} already has trajectory {trajectory_id}")]
    TrajectoryExists {
        person_id: Uuid,
        trajectory_id: Uuid,
    },
    #[error("the contract of trajectory {trajectory_id} is already signed")]
    ContractAlreadySigned { trajectory_id: Uuid },
    #[error("trajectory {trajectory_id} has no signed contract yet")]
    ContractNotSigned { trajectory_id: Uuid },
    #[error("trajectory {trajectory_id}: {what} is already recorded")]
    AlreadyRecorded {
        trajectory_id: Uuid,
        what: &'static str,
    },
    #[error("trajectory {trajectory_id}: {what} is not required")]
    NotRequired {
        trajectory_id: Uuid,
        what: &'static str,
    },
    #[error("trajectory {trajectory_id} is {state}")]
    NotActive {
        trajectory_id: Uuid,
        state: &'static str,
    },
    #[error("trajectory {trajectory_id} changed meanwhile; retry")]
    Conflict { trajectory_id: Uuid },
    /// The municipality register (from the municipalities service) has not reached this
    /// service yet: retry once it has.
    #[error("the municipality register has not reached trajectories yet")]
    RegisterNotLoaded,
    #[error(
        "participation hours are logged in the municipalities service \
         (MunicipalityService/LogHours), the one source of the 40 hours"
    )]
    ParticipationMoved,
    /// A partner reported a number no person registered in Brussels has.
    #[error("national_number: no person registered in Brussels has this number")]
    NotInBrussels,
    /// A partner reported a resident of Flanders (where, it is not told).
    #[error("national_number: the person lives in Flanders, not in Brussels")]
    FlemishResident,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl TrajectoryError {
    /// Bad input in `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

impl ServiceError for TrajectoryError {
    fn auth(&self) -> Option<&dyn platform::error::Refusal> {
        match self {
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }

    fn error_code(&self) -> ServiceErrorCode {
        match self {
            Self::InvalidArgument { .. } => ServiceErrorCode::InvalidArgument,
            Self::NotInBrussels => ServiceErrorCode::NotFound,
            Self::FlemishResident => ServiceErrorCode::FailedPrecondition,
            Self::PersonNotFound { .. }
            | Self::TrajectoryNotFound { .. }
            | Self::NoTrajectory { .. } => ServiceErrorCode::NotFound,
            Self::TrajectoryExists { .. } => ServiceErrorCode::AlreadyExists,
            Self::ContractAlreadySigned { .. }
            | Self::ContractNotSigned { .. }
            | Self::AlreadyRecorded { .. }
            | Self::NotRequired { .. }
            | Self::NotActive { .. }
            | Self::ParticipationMoved => ServiceErrorCode::FailedPrecondition,
            Self::RegisterNotLoaded => ServiceErrorCode::Unavailable,
            Self::Conflict { .. } => ServiceErrorCode::Aborted,
            Self::Auth(e) => e.error_code(),
            Self::Database(_) => ServiceErrorCode::DatabaseUnavailable,
            Self::Corrupt(_) => ServiceErrorCode::Internal,
        }
    }
}

platform::grpc_error!(TrajectoryError);
