//! The one error enum of the ceremonies service, in the caller's words.

use platform::{ServiceError, ServiceErrorCode, auth::AuthError};
use uuid::Uuid;

/// What went wrong with a ceremonies request.
#[derive(Debug, thiserror::Error)]
pub enum CeremoniesError {
    /// A request field is wrong; the message names it and says why.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("ceremony {ceremony_id} does not exist")]
    CeremonyNotFound { ceremony_id: Uuid },
    #[error("ceremony {ceremony_id} is {state}: {what} only while it is planned")]
    NotPlanned {
        ceremony_id: Uuid,
        state: &'static str,
        what: &'static str,
    },
    #[error(
        "capacity: ceremony {ceremony_id} seats {capacity} invitees and would have {invitations} invitations"
    )]
    OverCapacity {
        ceremony_id: Uuid,
        capacity: u32,
        invitations: u32,
    },
    #[error(
        "ceremony {ceremony_id} has {invitations} invitations: its kind, attest period and age range are fixed; cancel it and plan a new one"
    )]
    InvitationsSent { ceremony_id: Uuid, invitations: u32 },
    #[error("person {person_id} is not invited to ceremony {ceremony_id}")]
    NotInvited { ceremony_id: Uuid, person_id: Uuid },
    #[error("attendance of person {person_id} at ceremony {ceremony_id} is already recorded")]
    AlreadyAttended { ceremony_id: Uuid, person_id: Uuid },
    #[error("ceremony {ceremony_id} takes place on {date}: {what} from that day on")]
    NotYet {
        ceremony_id: Uuid,
        date: chrono::NaiveDate,
        what: &'static str,
    },
    #[error("ceremony {ceremony_id} took place on {date}: no more invitations")]
    Over {
        ceremony_id: Uuid,
        date: chrono::NaiveDate,
    },
    #[error("ambassador {ambassador_id} does not exist")]
    AmbassadorNotFound { ambassador_id: Uuid },
    #[error("ambassador {ambassador_id} already withdrew consent")]
    ConsentWithdrawn { ambassador_id: Uuid },
    #[error("the municipality register has not arrived from municipalities yet; retry in a moment")]
    RegisterNotLoaded,
    #[error("trajectories cannot be reached to read the invitees: {0}")]
    TrajectoriesUnavailable(String),
    #[error("trajectories refused to disclose the invitees: {0}")]
    DisclosureRefused(tonic::Status),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("letters: {path} could not be written: {source}")]
    LetterFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl CeremoniesError {
    /// Bad input in `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

impl ServiceError for CeremoniesError {
    fn auth(&self) -> Option<&dyn platform::error::Refusal> {
        match self {
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }

    fn error_code(&self) -> ServiceErrorCode {
        match self {
            Self::InvalidArgument { .. } => ServiceErrorCode::InvalidArgument,
            Self::CeremonyNotFound { .. } | Self::AmbassadorNotFound { .. } => {
                ServiceErrorCode::NotFound
            }
            Self::AlreadyAttended { .. } => ServiceErrorCode::AlreadyExists,
            Self::NotPlanned { .. }
            | Self::OverCapacity { .. }
            | Self::InvitationsSent { .. }
            | Self::NotInvited { .. }
            | Self::NotYet { .. }
            | Self::Over { .. }
            | Self::ConsentWithdrawn { .. } => ServiceErrorCode::FailedPrecondition,
            Self::RegisterNotLoaded | Self::TrajectoriesUnavailable(_) => {
                ServiceErrorCode::Unavailable
            }
            Self::DisclosureRefused(_) => ServiceErrorCode::PermissionDenied,
            Self::Auth(e) => e.error_code(),
            Self::Database(_) => ServiceErrorCode::DatabaseUnavailable,
            Self::LetterFile { .. } => ServiceErrorCode::Unavailable,
            Self::Corrupt(_) => ServiceErrorCode::Internal,
        }
    }
}

platform::grpc_error!(CeremoniesError);
