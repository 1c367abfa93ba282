//! Conversions of the wire's scalar forms every service parses the same way: UUIDs in
//! strings and `google.protobuf.Timestamp`. A failure names the field, like [`crate::Nis`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A request field that does not parse; services turn it into their `InvalidArgument`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl crate::ServiceError for FieldError {
    fn error_code(&self) -> crate::ServiceErrorCode {
        crate::ServiceErrorCode::InvalidArgument
    }
}

impl From<FieldError> for tonic::Status {
    fn from(e: FieldError) -> Self {
        crate::error::into_status(e)
    }
}

fn error(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

/// A required UUID.
pub fn uuid(field: &'static str, value: &str) -> Result<Uuid, FieldError> {
    if value.is_empty() {
        return Err(error(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| error(field, format!("{value:?} is not a UUID")))
}

/// A UUID that may be left empty.
pub fn optional_uuid(field: &'static str, value: &str) -> Result<Option<Uuid>, FieldError> {
    if value.is_empty() {
        Ok(None)
    } else {
        uuid(field, value).map(Some)
    }
}

/// The wire form of an instant.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// An instant that may be absent; present, it must be a valid time.
pub fn optional_time(
    field: &'static str,
    t: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    t.map(|t| {
        u32::try_from(t.nanos)
            .ok()
            .and_then(|nanos| DateTime::from_timestamp(t.seconds, nanos))
            .ok_or_else(|| error(field, "is not a valid time"))
    })
    .transpose()
}

/// A required instant.
pub fn time(
    field: &'static str,
    t: Option<&prost_types::Timestamp>,
) -> Result<DateTime<Utc>, FieldError> {
    optional_time(field, t)?.ok_or_else(|| error(field, "is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_times_name_their_field_when_wrong() {
        assert_eq!(
            uuid("request_id", "").unwrap_err().to_string(),
            "request_id: is required"
        );
        assert!(
            uuid("request_id", "nope")
                .unwrap_err()
                .reason
                .contains("not a UUID")
        );
        assert_eq!(optional_uuid("person_id", "").ok(), Some(None));
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(
            time("starts_at", Some(&bad)).unwrap_err().field,
            "starts_at"
        );
        assert!(time("starts_at", None).is_err());
        let now = DateTime::from_timestamp(1_765_000_000, 5).expect("a time");
        assert_eq!(time("t", Some(&timestamp(now))).ok(), Some(now));
    }
}
