//! The one error enum of the municipalities service, in the caller's words.

use platform::{ServiceError, ServiceErrorCode, auth::AuthError};
use uuid::Uuid;

/// What went wrong with a municipalities request.
#[derive(Debug, thiserror::Error)]
pub enum MunicipalitiesError {
    /// A request field is wrong; the message names it and says why.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("{nis} is not a municipality in Statbel's register")]
    MunicipalityNotFound { nis: String },
    #[error("{nis} was merged into {into} on 2025-01-01; ResolveNis maps the old code")]
    Merged { nis: String, into: String },
    #[error("person {person_id} has no trajectory known to this municipality")]
    PersonNotFound { person_id: Uuid },
    #[error("person {person_id} has no signed contract yet")]
    NoContract { person_id: Uuid },
    #[error("the trajectory of person {person_id} is {state}")]
    TrajectoryNotActive {
        person_id: Uuid,
        state: &'static str,
    },
    #[error("person {person_id} has already completed participation")]
    AlreadyCompleted { person_id: Uuid },
    #[error("offer {offer_id} does not exist")]
    OfferNotFound { offer_id: Uuid },
    #[error("offer {offer_id} has no free seat")]
    OfferFull { offer_id: Uuid },
    #[error("offer {offer_id} is closed")]
    OfferClosed { offer_id: Uuid },
    #[error("person {person_id} is already placed in offer {offer_id}")]
    AlreadyPlaced { person_id: Uuid, offer_id: Uuid },
    #[error("placement {placement_id} does not exist")]
    PlacementNotFound { placement_id: Uuid },
    #[error("placement {placement_id} is {state}: no more hours can be logged on it")]
    PlacementClosed {
        placement_id: Uuid,
        state: &'static str,
    },
    #[error(
        "hours: {already} hours are already logged for this person on {day}; at most {max} a day"
    )]
    DayFull {
        day: chrono::NaiveDate,
        already: u32,
        max: u32,
    },
    #[error("contact {contact_id} does not exist")]
    ContactNotFound { contact_id: Uuid },
    #[error("local plan {plan_id} does not exist")]
    PlanNotFound { plan_id: Uuid },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl MunicipalitiesError {
    /// Bad input in `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

impl ServiceError for MunicipalitiesError {
    fn auth(&self) -> Option<&dyn platform::error::Refusal> {
        match self {
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }

    fn error_code(&self) -> ServiceErrorCode {
        match self {
            Self::InvalidArgument { .. } => ServiceErrorCode::InvalidArgument,
            Self::MunicipalityNotFound { .. }
            | Self::Merged { .. }
            | Self::PersonNotFound { .. }
            | Self::OfferNotFound { .. }
            | Self::PlacementNotFound { .. }
            | Self::ContactNotFound { .. }
            | Self::PlanNotFound { .. } => ServiceErrorCode::NotFound,
            Self::AlreadyPlaced { .. } => ServiceErrorCode::AlreadyExists,
            Self::NoContract { .. }
            | Self::TrajectoryNotActive { .. }
            | Self::AlreadyCompleted { .. }
            | Self::OfferFull { .. }
            | Self::OfferClosed { .. }
            | Self::PlacementClosed { .. }
            | Self::DayFull { .. } => ServiceErrorCode::FailedPrecondition,
            Self::Auth(e) => e.error_code(),
            Self::Database(_) => ServiceErrorCode::DatabaseUnavailable,
            Self::Corrupt(_) => ServiceErrorCode::Internal,
        }
    }
}

platform::grpc_error!(MunicipalitiesError);
