//! The one bridge between the wire and our types.
//!
//! `proto` holds the generated types and nothing else; `platform` holds the plumbing and
//! cannot see them. This crate sits on both: every conversion of a request or event field
//! is written here once and names the field it refuses (a [`FieldError`], which each
//! service turns into its `InvalidArgument` through `platform::grpc_error!`). Services
//! keep only the conversions of their own messages and enums.
//!
//! - [`Date`](common::Date) ⇄ [`NaiveDate`]: [`date`], [`optional_date`], [`required_date`],
//!   [`month`], [`year`];
//! - `google.protobuf.Timestamp` ⇄ [`DateTime<Utc>`]: [`timestamp`], [`time`], [`optional_time`];
//! - UUIDs in strings: [`uuid`], [`optional_uuid`];
//! - [`Agency`] ⇄ [`common::Agency`]: [`agency`], [`agency_from`], [`required_agency`],
//!   [`stored_agency`];
//! - [`Nis`] and [`NationalNumber`]: [`nis`], [`optional_nis`], [`national_number`];
//! - paging: [`page`], [`page_response`];
//! - the municipality register every service keeps from `municipalities.events.v1`:
//!   [`register`].

pub mod register;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
pub use platform::FieldError;
use platform::{
    Agency, NationalNumber, Nis,
    paging::{Cursor, Page},
};
use proto::common::v1 as common;
use uuid::Uuid;

type Result<T> = std::result::Result<T, FieldError>;

// ---- identifiers ------------------------------------------------------------------

/// A required UUID.
pub fn uuid(field: &'static str, value: &str) -> Result<Uuid> {
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| FieldError::new(field, format!("{value:?} is not a UUID")))
}

/// A UUID that may be left empty.
pub fn optional_uuid(field: &'static str, value: &str) -> Result<Option<Uuid>> {
    if value.is_empty() {
        Ok(None)
    } else {
        uuid(field, value).map(Some)
    }
}

/// A well-formed NIS code (whether a municipality has it is the register's question).
pub fn nis(field: &'static str, value: &str) -> Result<Nis> {
    Nis::parse(field, value)
}

/// A NIS code of a filter, where empty means any municipality.
pub fn optional_nis(field: &'static str, value: &str) -> Result<Option<Nis>> {
    if value.is_empty() {
        Ok(None)
    } else {
        nis(field, value).map(Some)
    }
}

/// A national register number, checked (mod 97). The reason never repeats the number.
pub fn national_number(field: &'static str, value: &str) -> Result<NationalNumber> {
    NationalNumber::parse(value).map_err(|e| FieldError::new(field, e.0))
}

// ---- dates and times --------------------------------------------------------------

/// The wire form of a day.
pub fn date(d: NaiveDate) -> common::Date {
    common::Date {
        year: d.year(),
        month: i32::try_from(d.month()).unwrap_or(0),
        day: i32::try_from(d.day()).unwrap_or(0),
    }
}

/// The day a wire date names, `None` when it names none (e.g. 2025-02-30 or all zeros).
pub fn naive_date(d: &common::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        d.year,
        u32::try_from(d.month).ok()?,
        u32::try_from(d.day).ok()?,
    )
}

/// A day that may be absent; present, it must be a real day.
pub fn optional_date(field: &'static str, d: Option<&common::Date>) -> Result<Option<NaiveDate>> {
    d.map(|d| {
        naive_date(d).ok_or_else(|| {
            FieldError::new(
                field,
                format!("{}-{}-{} is not a date", d.year, d.month, d.day),
            )
        })
    })
    .transpose()
}

/// A required day.
pub fn required_date(field: &'static str, d: Option<&common::Date>) -> Result<NaiveDate> {
    optional_date(field, d)?.ok_or_else(|| FieldError::new(field, "is required"))
}

/// A month, given as a date whose day is 0 or a real day of that month: its first day.
pub fn month(field: &'static str, d: Option<&common::Date>) -> Result<NaiveDate> {
    let d = d.ok_or_else(|| FieldError::new(field, "is required"))?;
    let first = u32::try_from(d.month)
        .ok()
        .and_then(|m| NaiveDate::from_ymd_opt(d.year, m, 1))
        .ok_or_else(|| FieldError::new(field, format!("{}-{} is not a month", d.year, d.month)))?;
    if d.day != 0 && naive_date(d).is_none() {
        return Err(FieldError::new(
            field,
            format!("{}-{}-{} is not a date", d.year, d.month, d.day),
        ));
    }
    Ok(first)
}

/// The years a report or statistic may ask for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A calendar year of a report, from 2000 to 2100.
pub fn year(field: &'static str, value: i32) -> Result<i32> {
    if YEARS.contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            format!(
                "{value} is not a year from {} to {}",
                YEARS.start(),
                YEARS.end()
            ),
        ))
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
) -> Result<Option<DateTime<Utc>>> {
    t.map(|t| {
        u32::try_from(t.nanos)
            .ok()
            .and_then(|nanos| DateTime::from_timestamp(t.seconds, nanos))
            .ok_or_else(|| FieldError::new(field, "is not a valid time"))
    })
    .transpose()
}

/// A required instant.
pub fn time(field: &'static str, t: Option<&prost_types::Timestamp>) -> Result<DateTime<Utc>> {
    optional_time(field, t)?.ok_or_else(|| FieldError::new(field, "is required"))
}

// ---- agencies ---------------------------------------------------------------------

/// The wire form of an agency.
pub fn agency(a: Agency) -> common::Agency {
    match a {
        Agency::Agii => common::Agency::Agii,
        Agency::Bon => common::Agency::Bon,
        Agency::Atlas => common::Agency::Atlas,
        Agency::InGent => common::Agency::InGent,
    }
}

/// The wire value of a stored alias; unspecified for none (Wallonia) or an unknown one.
pub fn stored_agency(alias: &str) -> i32 {
    Agency::from_alias(alias).map_or(common::Agency::Unspecified, agency) as i32
}

/// The agency of a field where unspecified means none (Wallonia, or "any" in a filter).
pub fn agency_from(field: &'static str, value: i32) -> Result<Option<Agency>> {
    match common::Agency::try_from(value) {
        Ok(common::Agency::Unspecified) => Ok(None),
        Ok(common::Agency::Agii) => Ok(Some(Agency::Agii)),
        Ok(common::Agency::Bon) => Ok(Some(Agency::Bon)),
        Ok(common::Agency::Atlas) => Ok(Some(Agency::Atlas)),
        Ok(common::Agency::InGent) => Ok(Some(Agency::InGent)),
        Err(_) => Err(FieldError::new(field, format!("{value} is not an agency"))),
    }
}

/// The agency of a field that must name one.
pub fn required_agency(field: &'static str, value: i32) -> Result<Agency> {
    agency_from(field, value)?.ok_or_else(|| FieldError::new(field, "is required"))
}

// ---- paging -----------------------------------------------------------------------

/// The page a listing request asks for (`page`); absent is the first page of the default
/// size.
pub fn page<C: Cursor>(request: Option<&common::PageRequest>) -> Result<Page<C>> {
    match request {
        Some(p) => Page::parse(p.page_size, &p.page_token),
        None => Page::parse(0, ""),
    }
}

/// The `page` of a listing response: where the next page starts, empty on the last.
pub fn page_response(next_page_token: String) -> Option<common::PageResponse> {
    Some(common::PageResponse { next_page_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i32, month: i32, day: i32) -> common::Date {
        common::Date { year, month, day }
    }

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

    #[test]
    fn dates_round_trip_and_refuse_days_that_do_not_exist() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).expect("leap day");
        assert_eq!(required_date("signed_on", Some(&date(day))), Ok(day));
        let err = required_date("signed_on", Some(&d(2025, 2, 29))).unwrap_err();
        assert_eq!(err.to_string(), "signed_on: 2025-2-29 is not a date");
        assert_eq!(
            required_date("signed_on", None).unwrap_err().to_string(),
            "signed_on: is required"
        );
        assert_eq!(optional_date("stopped_on", None), Ok(None));
        assert!(optional_date("stopped_on", Some(&d(0, 0, 0))).is_err());
    }

    #[test]
    fn a_month_is_its_first_day_whatever_day_is_given() {
        let first = NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
        assert_eq!(month("month", Some(&d(2026, 3, 0))), Ok(first));
        assert_eq!(month("month", Some(&d(2026, 3, 1))), Ok(first));
        assert_eq!(month("month", Some(&d(2026, 3, 31))), Ok(first));
        assert_eq!(
            month("month", Some(&d(2026, 13, 0))).unwrap_err().field,
            "month"
        );
        assert!(month("month", Some(&d(2026, 2, 30))).is_err());
        assert!(month("month", None).is_err());
    }

    #[test]
    fn years_are_checked_at_both_edges() {
        assert_eq!(year("year", 2000), Ok(2000));
        assert_eq!(year("year", 2100), Ok(2100));
        assert_eq!(
            year("year", 1999).unwrap_err().to_string(),
            "year: 1999 is not a year from 2000 to 2100"
        );
        assert!(year("year", 2101).is_err());
    }

    #[test]
    fn agencies_round_trip_and_name_the_field() {
        for a in Agency::ALL {
            assert_eq!(agency_from("agency", agency(a) as i32), Ok(Some(a)));
            assert_eq!(stored_agency(a.as_str()), agency(a) as i32);
        }
        assert_eq!(agency_from("agency", 0), Ok(None));
        assert_eq!(required_agency("agency", 0).unwrap_err().field, "agency");
        assert_eq!(
            agency_from("filter.agency", 9).unwrap_err().to_string(),
            "filter.agency: 9 is not an agency"
        );
        assert_eq!(stored_agency("wallonia"), 0);
    }

    #[test]
    fn codes_and_numbers_name_their_field() {
        assert_eq!(
            nis("municipality_nis", "21004").map(|n| n.to_string()),
            Ok("21004".into())
        );
        assert_eq!(
            nis("municipality_nis", "2100").unwrap_err().field,
            "municipality_nis"
        );
        assert!(national_number("national_number", "85073003328").is_ok());
        let err = national_number("national_number", "85073003327").unwrap_err();
        assert_eq!(err.field, "national_number");
        assert!(
            !err.reason.contains("85073003327"),
            "the number is never echoed"
        );
    }

    #[test]
    fn pages_default_when_absent_and_refuse_bad_sizes() {
        let first: Page<Uuid> = page(None).expect("default page");
        assert_eq!(first.size, platform::paging::DEFAULT_PAGE_SIZE);
        let bad = common::PageRequest {
            page_size: 501,
            page_token: String::new(),
        };
        assert_eq!(
            page::<Uuid>(Some(&bad)).unwrap_err().field,
            "page.page_size"
        );
        assert_eq!(
            page_response("x".into()).map(|p| p.next_page_token),
            Some("x".into())
        );
    }
}
