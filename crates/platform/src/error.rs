//! One mapping from errors to `tonic::Status`, after Quickwit's `ServiceError`.
//!
//! Every service's error enum implements [`ServiceError`]; no handler builds a status by
//! hand. Infrastructure failures become `UNAVAILABLE` with a generic message: the detail
//! goes to the log, never to the caller.

use tonic::{Code, Status};

/// Gives a service's error enum its `From<Error> for tonic::Status` (through
/// [`into_status`]) and `From<FieldError>` (through its `invalid(field, reason)`
/// constructor): the only two conversions a service's error needs, written once here.
#[macro_export]
macro_rules! grpc_error {
    ($error:ty) => {
        impl ::core::convert::From<$error> for ::tonic::Status {
            fn from(e: $error) -> Self {
                $crate::error::into_status(e)
            }
        }

        impl ::core::convert::From<$crate::FieldError> for $error {
            fn from(e: $crate::FieldError) -> Self {
                <$error>::invalid(e.field, e.reason)
            }
        }
    };
}

/// What kind of failure an error is, in gRPC's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceErrorCode {
    /// Bad input: the message names the field and says why.
    InvalidArgument,
    /// The thing asked for does not exist, or the caller may not know it does.
    NotFound,
    /// It exists already.
    AlreadyExists,
    /// The request is valid but the state does not allow it.
    FailedPrecondition,
    /// No valid token.
    Unauthenticated,
    /// A valid token that may not do this.
    PermissionDenied,
    /// A concurrent change won; the caller may retry at once.
    Aborted,
    /// A dependency (the broker, another service) failed; the caller may retry.
    Unavailable,
    /// The service's own database did not answer or stayed locked; the caller may retry.
    DatabaseUnavailable,
    /// A bug: an invariant did not hold.
    Internal,
}

impl ServiceErrorCode {
    fn grpc(self) -> Code {
        match self {
            Self::InvalidArgument => Code::InvalidArgument,
            Self::NotFound => Code::NotFound,
            Self::AlreadyExists => Code::AlreadyExists,
            Self::FailedPrecondition => Code::FailedPrecondition,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::PermissionDenied => Code::PermissionDenied,
            Self::Aborted => Code::Aborted,
            Self::Unavailable | Self::DatabaseUnavailable => Code::Unavailable,
            Self::Internal => Code::Internal,
        }
    }
}

/// Implemented by every error that can reach a caller: its class and, through
/// `Display`, its message. [`into_status`] is the one conversion to a `Status`; a
/// service's error gets its `From<…> for Status` from [`crate::grpc_error!`].
pub trait ServiceError: std::error::Error {
    /// The gRPC class of this error.
    fn error_code(&self) -> ServiceErrorCode;

    /// The refused token or role behind this error, if that is what it is: refusals are
    /// counted and logged as such, whichever service's error carries them.
    fn auth(&self) -> Option<&dyn Refusal> {
        None
    }
}

/// A refused caller (`auth::AuthError`): it makes its own status, counting and logging
/// the refusal.
pub trait Refusal {
    /// The status the caller sees.
    fn status(&self) -> Status;
}

/// A request field that does not parse or breaks a rule of its form: the message names
/// the field and says why. Every conversion from the wire (the `wire` crate), NIS codes
/// and pages return it; each service turns it into its `InvalidArgument`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field as the caller named it, e.g. `page.page_size`.
    pub field: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl FieldError {
    /// `field` refused for `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

impl ServiceError for FieldError {
    fn error_code(&self) -> ServiceErrorCode {
        ServiceErrorCode::InvalidArgument
    }
}

/// Turns any [`ServiceError`] into the status the caller sees, logging what the caller
/// must not see.
pub fn into_status<E: ServiceError>(error: E) -> Status {
    if let Some(auth) = error.auth() {
        return auth.status();
    }
    let code = error.error_code();
    let hidden = match code {
        ServiceErrorCode::Unavailable => "a dependency is unavailable; retry later",
        ServiceErrorCode::DatabaseUnavailable => {
            "the service's database is unavailable (not answering or busy); the call changed nothing and is safe to retry"
        }
        ServiceErrorCode::Internal => "internal error",
        _ => return Status::new(code.grpc(), error.to_string()),
    };
    tracing::error!(error = %error, "request failed");
    Status::new(code.grpc(), hidden)
}

/// Failures of the platform's own plumbing.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("OIDC issuer: {0}")]
    Oidc(String),
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("telemetry: {0}")]
    Telemetry(String),
}

impl ServiceError for PlatformError {
    fn error_code(&self) -> ServiceErrorCode {
        match self {
            Self::Config(_) | Self::Telemetry(_) => ServiceErrorCode::Internal,
            Self::Database(_) => ServiceErrorCode::DatabaseUnavailable,
            _ => ServiceErrorCode::Unavailable,
        }
    }
}

impl From<FieldError> for Status {
    fn from(e: FieldError) -> Self {
        into_status(e)
    }
}

impl ServiceError for sea_orm::DbErr {
    fn error_code(&self) -> ServiceErrorCode {
        ServiceErrorCode::DatabaseUnavailable
    }
}
