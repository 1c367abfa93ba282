//! The interpreting rules with numbers, each citing where it comes from, with tests at
//! both edges. Rates are not rules: they are configuration with a validity period
//! ([`crate::rates`]).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// A cancellation less than this many hours before the start, with an interpreter
/// booked, is billed as booked (issue 11: "cancelled less than 24 h before is billed";
/// configurable as `INBURGERING_INTERPRETING_LATE_CANCELLATION_HOURS`).
pub const DEFAULT_LATE_CANCELLATION_HOURS: u32 = 24;

/// The longest interpreting booking: a working day of 8 hours. Longer assignments are
/// booked as several requests, so one interpreter is not held for a night.
pub const MAX_BOOKED_MINUTES: i32 = 8 * 60;

/// The longest performed service that may be recorded: 12 hours, room for an overrun of
/// a full-day booking, not for a typing error of an extra zero.
pub const MAX_PERFORMED_MINUTES: i32 = 12 * 60;

/// How far ahead a service may be asked for: two years, the horizon of a trajectory's
/// deadlines; further is a typing error, not a plan.
pub const MAX_DAYS_AHEAD: i64 = 730;

/// The largest written translation one request carries.
pub const MAX_WORDS: i32 = 100_000;

/// Minutes in the hour an hourly rate counts.
pub const MINUTES_PER_HOUR: i64 = 60;

/// Whether cancelling at `cancelled_at` a service starting at `starts_at` is late: less
/// than `hours` before the start (exactly `hours` before is in time).
pub fn is_late_cancellation(
    cancelled_at: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    hours: u32,
) -> bool {
    starts_at - cancelled_at < TimeDelta::hours(i64::from(hours))
}

/// One trajectory of a person as interpreting learns it from trajectories' events: from
/// `TrajectoryStarted` to `AttestIssued` or `TrajectoryStopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrajectorySpan {
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

impl TrajectorySpan {
    /// Whether the trajectory runs on `day`: from its start day up to, not including, the
    /// day it ended (the day of the attest or the stop belongs to after).
    fn runs_on(&self, day: NaiveDate) -> bool {
        self.started_on.is_none_or(|s| s <= day)
            && self.ended_on.is_none_or(|e| day < e)
            && (self.started_on.is_some() || self.ended_on.is_some())
    }

    fn ended_by(&self, day: NaiveDate) -> bool {
        self.ended_on.is_some_and(|e| e <= day)
    }
}

/// Who pays a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payer {
    /// The requesting public body (the user government).
    Requester,
    /// The person the service was for.
    Person,
}

/// Who pays a service on `service_on` (DESIGN.md §3, interpreting: "during the trajectory
/// the requesting public body pays; after the trajectory ends the person pays"), from the
/// person's trajectories as known on the day of billing:
/// - no person named → the requester;
/// - a trajectory runs on the day → the requester;
/// - otherwise, a trajectory ended on or before the day → the person;
/// - otherwise (before any trajectory, or none known) → the requester: the person has not
///   had a trajectory the rule could place them after.
pub fn who_pays(service_on: NaiveDate, person: Option<&[TrajectorySpan]>) -> Payer {
    let Some(spans) = person else {
        return Payer::Requester;
    };
    if spans.iter().any(|s| s.runs_on(service_on)) {
        Payer::Requester
    } else if spans.iter().any(|s| s.ended_by(service_on)) {
        Payer::Person
    } else {
        Payer::Requester
    }
}

/// The amount of one line in cents: at least `minimum` units billed, at `price` cents per
/// `per` units (60 minutes for an hourly rate, 1 word), rounded half up to the cent.
pub fn line_amount(quantity: i64, minimum: i64, price: i64, per: i64) -> (i64, i64) {
    let billed = quantity.max(minimum);
    let amount =
        (i128::from(billed) * i128::from(price) * 2 + i128::from(per)) / (2 * i128::from(per));
    (billed, i64::try_from(amount).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a test date")
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("an RFC 3339 test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_cancellation_exactly_24_hours_before_is_in_time_and_a_second_later_is_late() {
        let start = at("2026-12-08T09:00:00Z");
        assert!(!is_late_cancellation(at("2026-12-07T09:00:00Z"), start, 24));
        assert!(is_late_cancellation(at("2026-12-07T09:00:01Z"), start, 24));
        assert!(!is_late_cancellation(at("2026-12-07T09:00:01Z"), start, 0));
        // After the start it is late whatever the hours.
        assert!(is_late_cancellation(at("2026-12-08T09:30:00Z"), start, 1));
    }

    #[test]
    fn the_requester_pays_from_the_first_day_of_the_trajectory_to_the_day_before_it_ends() {
        let span = [TrajectorySpan {
            started_on: Some(d(2026, 3, 1)),
            ended_on: Some(d(2026, 9, 15)),
        }];
        assert_eq!(who_pays(d(2026, 2, 28), Some(&span)), Payer::Requester);
        assert_eq!(who_pays(d(2026, 3, 1), Some(&span)), Payer::Requester);
        assert_eq!(who_pays(d(2026, 9, 14), Some(&span)), Payer::Requester);
        assert_eq!(who_pays(d(2026, 9, 15), Some(&span)), Payer::Person);
        assert_eq!(who_pays(d(2027, 1, 1), Some(&span)), Payer::Person);
    }

    #[test]
    fn a_running_trajectory_and_no_person_leave_it_with_the_requester() {
        let running = [TrajectorySpan {
            started_on: Some(d(2026, 3, 1)),
            ended_on: None,
        }];
        assert_eq!(who_pays(d(2030, 1, 1), Some(&running)), Payer::Requester);
        assert_eq!(who_pays(d(2030, 1, 1), None), Payer::Requester);
        assert_eq!(who_pays(d(2030, 1, 1), Some(&[])), Payer::Requester);
    }

    #[test]
    fn a_new_trajectory_after_a_stopped_one_puts_the_requester_back() {
        let spans = [
            TrajectorySpan {
                started_on: Some(d(2025, 1, 1)),
                ended_on: Some(d(2025, 6, 1)),
            },
            TrajectorySpan {
                started_on: Some(d(2026, 1, 1)),
                ended_on: None,
            },
        ];
        assert_eq!(who_pays(d(2025, 12, 31), Some(&spans)), Payer::Person);
        assert_eq!(who_pays(d(2026, 1, 1), Some(&spans)), Payer::Requester);
    }

    #[test]
    fn lines_bill_at_least_the_minimum_and_round_half_up_to_the_cent() {
        // 45 minutes at €55/h with a 60-minute minimum: the hour.
        assert_eq!(line_amount(45, 60, 5500, 60), (60, 5500));
        // 61 minutes: 5591.67 → 5592.
        assert_eq!(line_amount(61, 60, 5500, 60), (61, 5592));
        // 1 minute at €0.90/h: 1.5 cents → 2.
        assert_eq!(line_amount(1, 0, 90, 60), (1, 2));
        // 99 words at 12 cents with a 100-word minimum.
        assert_eq!(line_amount(99, 100, 12, 1), (100, 1200));
        assert_eq!(line_amount(101, 100, 12, 1), (101, 1212));
    }
}
