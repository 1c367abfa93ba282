//! The one error enum of the recruitment service, in the caller's words.

use platform::{ServiceError, ServiceErrorCode, auth::AuthError};
use uuid::Uuid;

/// What went wrong with a recruitment request or command.
#[derive(Debug, thiserror::Error)]
pub enum RecruitmentError {
    /// A request field is wrong; the message names it and says why.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("municipality_nis: {nis} is not in the municipality register")]
    UnknownMunicipality { nis: String },
    #[error("campaign {campaign_id} does not exist")]
    CampaignNotFound { campaign_id: Uuid },
    #[error("person {person_id} is not a newcomer known to recruitment")]
    PersonNotFound { person_id: Uuid },
    #[error("ambassador {ambassador_id} does not exist")]
    AmbassadorNotFound { ambassador_id: Uuid },
    #[error("ambassador {ambassador_id} already withdrew consent")]
    ConsentWithdrawn { ambassador_id: Uuid },
    #[error("local plan {plan_id} does not exist")]
    PlanNotFound { plan_id: Uuid },
    #[error("municipality {nis} has no local plan for {year}")]
    NoPlan { nis: String, year: i32 },
    #[error("the local plan of {nis} for {year} exists already: {plan_id}")]
    PlanExists {
        nis: String,
        year: i32,
        plan_id: Uuid,
    },
    #[error("action {action_id} is not part of plan {plan_id}")]
    ActionNotFound { plan_id: Uuid, action_id: Uuid },
    #[error("no Dutch template of the {kind} letter has been uploaded")]
    NoDutchTemplate { kind: &'static str },
    #[error("the municipality register has not arrived from municipalities yet; retry in a moment")]
    RegisterNotLoaded,
    #[error("trajectories cannot be reached to register persons: {0}")]
    TrajectoriesUnavailable(String),
    #[error("trajectories refused: {0}")]
    TrajectoriesRefused(tonic::Status),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("letter files: {0}")]
    Files(#[from] std::io::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl RecruitmentError {
    /// Bad input in `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

impl From<platform::NationalNumberError> for RecruitmentError {
    fn from(e: platform::NationalNumberError) -> Self {
        Self::invalid("national_number", e.0)
    }
}

impl ServiceError for RecruitmentError {
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
            Self::CampaignNotFound { .. }
            | Self::PersonNotFound { .. }
            | Self::AmbassadorNotFound { .. }
            | Self::PlanNotFound { .. }
            | Self::NoPlan { .. }
            | Self::ActionNotFound { .. } => ServiceErrorCode::NotFound,
            Self::PlanExists { .. } => ServiceErrorCode::AlreadyExists,
            Self::ConsentWithdrawn { .. } | Self::NoDutchTemplate { .. } => {
                ServiceErrorCode::FailedPrecondition
            }
            Self::RegisterNotLoaded | Self::TrajectoriesUnavailable(_) => {
                ServiceErrorCode::Unavailable
            }
            Self::TrajectoriesRefused(status) => match status.code() {
                tonic::Code::InvalidArgument => ServiceErrorCode::InvalidArgument,
                tonic::Code::NotFound => ServiceErrorCode::NotFound,
                tonic::Code::AlreadyExists => ServiceErrorCode::AlreadyExists,
                tonic::Code::FailedPrecondition => ServiceErrorCode::FailedPrecondition,
                tonic::Code::Unauthenticated => ServiceErrorCode::Unauthenticated,
                _ => ServiceErrorCode::PermissionDenied,
            },
            Self::Auth(e) => e.error_code(),
            Self::Database(_) => ServiceErrorCode::DatabaseUnavailable,
            Self::Files(_) => ServiceErrorCode::Unavailable,
            Self::Corrupt(_) => ServiceErrorCode::Internal,
        }
    }
}

platform::grpc_error!(RecruitmentError);
