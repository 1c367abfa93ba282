//! Dates and instants from outside, every conversion. Since the `wire` crate, each is
//! written once and every service uses it (twelve per-service converters were fuzzed one by
//! one before):
//! - `google.protobuf`-style `common.v1.Date` → `NaiveDate`: `wire::{naive_date,
//!   optional_date, required_date, month}`, and trajectories' wording of them,
//!   `trajectories::convert::{day, required_day}`;
//! - `google.protobuf.Timestamp` → `DateTime<Utc>`: `wire::{optional_time, time}`, and the Belgian day and time of an instant (`platform::clock::{belgian_date,
//!   belgian_time}`), which the test-results consumer takes of an event's timestamp;
//! - a date string as the register feed and the rates file read it (`%Y-%m-%d`).
//!
//! Asserts: nothing panics; every conversion accepts exactly the calendar dates (month and
//! day as given, none negative) and gives the same day; a converted date converts back to
//! the same wire date; absent is `None` where optional and an error where required; a valid
//! timestamp round-trips through `wire::timestamp`; the Belgian time is one or two hours
//! ahead of UTC.
#![no_main]

use arbitrary::Arbitrary;
use chrono::{DateTime, NaiveDate, Timelike};
use libfuzzer_sys::fuzz_target;
use proto::common::v1::Date;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    year: i32,
    month: i32,
    day: i32,
    present: bool,
    seconds: i64,
    nanos: i32,
    text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let wire = Date {
        year: input.year,
        month: input.month,
        day: input.day,
    };
    let expected = u32::try_from(input.month)
        .ok()
        .zip(u32::try_from(input.day).ok())
        .and_then(|(m, d)| NaiveDate::from_ymd_opt(input.year, m, d));
    let given = input.present.then_some(&wire);

    // The conversion agrees with the calendar.
    assert_eq!(wire::naive_date(&wire), expected);
    let optional = |r: Option<NaiveDate>| if input.present { r } else { None };
    assert_eq!(
        wire::optional_date("day", given)
            .ok()
            .flatten(),
        optional(expected)
    );
    assert_eq!(
        trajectories::convert::day("day", given)
            .ok()
            .flatten(),
        optional(expected)
    );
    // Absent is fine where optional.
    assert!(wire::optional_date("day", None).is_ok_and(|d| d.is_none()));
    assert!(trajectories::convert::day("day", None).is_ok_and(|d| d.is_none()));

    // Required: the date, or a refusal naming the field.
    let required = [
        wire::required_date("starts_on", given).map_err(|e| e.to_string()),
        trajectories::convert::required_day("starts_on", given).map_err(|e| e.to_string()),
    ];
    for r in required {
        match r {
            Ok(d) => assert_eq!(Some(d), optional(expected)),
            Err(e) => {
                assert!(e.contains("starts_on"), "{e}");
                assert_eq!(optional(expected), None);
            }
        }
    }

    // Months: wire (interpreting, recruitment) takes the first of the month, when the day
    // is 0 or a real day of it.
    let first = u32::try_from(input.month)
        .ok()
        .and_then(|m| NaiveDate::from_ymd_opt(input.year, m, 1));
    assert_eq!(
        wire::month("month", given).ok(),
        if input.present && (input.day == 0 || expected.is_some()) {
            first
        } else {
            None
        }
    );

    // A date converts back to the wire date it came from.
    if let Some(d) = expected {
        assert_eq!(wire::date(d), wire);
    }

    // Timestamps.
    let ts = prost_types::Timestamp {
        seconds: input.seconds,
        nanos: input.nanos,
    };
    let expected_time = u32::try_from(input.nanos)
        .ok()
        .and_then(|n| DateTime::from_timestamp(input.seconds, n));
    let got = wire::optional_time("at", Some(&ts));
    assert_eq!(got.as_ref().ok().copied().flatten(), expected_time);
    assert!(wire::optional_time("at", None).is_ok_and(|t| t.is_none()));
    match wire::time("at", Some(&ts)) {
        Ok(t) => {
            // chrono keeps a leap second as nanos ≥ 1e9; the wire form keeps it as given.
            assert_eq!(wire::timestamp(t), ts);
            let belgian = platform::clock::belgian_time(t);
            // (A leap second, nanos from 1e9, which chrono accepts and the wire allows
            // here, loses its extra second in the addition: skip it.)
            if t.nanosecond() < 1_000_000_000 {
                let ahead = belgian - t.naive_utc();
                // Within two hours of chrono's last instant, the last one stands in.
                assert!(
                    ahead == chrono::Duration::hours(1)
                        || ahead == chrono::Duration::hours(2)
                        || belgian == chrono::NaiveDateTime::MAX,
                    "{t} is {ahead} behind Belgium"
                );
            }
            assert_eq!(platform::clock::belgian_date(t), belgian.date());
            let _ = belgian.hour();
        }
        Err(e) => assert_eq!(e.field, "at"),
    }
    // What the test-results consumer does with an event's session time.
    if let Some(t) = DateTime::from_timestamp(input.seconds, 0) {
        let _ = platform::clock::belgian_date(t);
    }

    // A date string as the register feed and the rates file read it.
    if let Ok(d) = NaiveDate::parse_from_str(input.text, "%Y-%m-%d") {
        let printed = d.format("%Y-%m-%d").to_string();
        assert_eq!(NaiveDate::parse_from_str(&printed, "%Y-%m-%d"), Ok(d));
    }
});
