//! The platform's calendar day. Deadlines, registrations and attests are Belgian dates: a
//! case worker in Antwerp at 00:30 on 15 March is on 15 March, while UTC still says the
//! 14th. The day is taken in Europe/Brussels time: CET (UTC+1), and CEST (UTC+2) from the
//! last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC (EU Directive
//! 2000/84/EC, the rule Belgium follows).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};

/// Today in Belgium.
pub fn today() -> NaiveDate {
    belgian_date(Utc::now())
}

/// The Belgian calendar date at the instant `at`.
pub fn belgian_date(at: DateTime<Utc>) -> NaiveDate {
    belgian_time(at).date()
}

/// The Belgian wall-clock time at the instant `at` (office hours, availability windows).
pub fn belgian_time(at: DateTime<Utc>) -> NaiveDateTime {
    let summer_offset = |year| {
        let starts = last_sunday(year, 3).and_hms_opt(1, 0, 0)?.and_utc();
        let ends = last_sunday(year, 10).and_hms_opt(1, 0, 0)?.and_utc();
        Some(at >= starts && at < ends)
    };
    let hours = if summer_offset(at.year()).unwrap_or(false) {
        2
    } else {
        1
    };
    // An instant from outside may lie within two hours of the last one chrono represents:
    // its Belgian time is then that last one, not a panic.
    at.naive_utc()
        .checked_add_signed(Duration::hours(hours))
        .unwrap_or(NaiveDateTime::MAX)
}

/// The last Sunday of `month` (March or October) in `year`.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let last_day = NaiveDate::from_ymd_opt(year, month + 1, 1)
        .and_then(|first_of_next| first_of_next.pred_opt())
        .unwrap_or(NaiveDate::MAX);
    last_day - Duration::days(i64::from(last_day.weekday().num_days_from_sunday()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("an RFC 3339 test instant")
            .with_timezone(&Utc)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a test date")
    }

    #[test]
    fn winter_days_start_an_hour_before_utc_midnight() {
        assert_eq!(belgian_date(utc("2026-03-14T22:59:59Z")), d(2026, 3, 14));
        assert_eq!(belgian_date(utc("2026-03-14T23:00:00Z")), d(2026, 3, 15));
        assert_eq!(belgian_date(utc("2026-12-31T23:00:00Z")), d(2027, 1, 1));
    }

    #[test]
    fn wall_clock_time_follows_the_offset_of_the_season() {
        let t = |s| belgian_time(utc(s)).format("%F %R").to_string();
        assert_eq!(t("2026-12-07T08:30:00Z"), "2026-12-07 09:30");
        assert_eq!(t("2026-07-06T08:30:00Z"), "2026-07-06 10:30");
    }

    #[test]
    fn summer_days_start_two_hours_before_utc_midnight() {
        assert_eq!(belgian_date(utc("2026-06-30T21:59:59Z")), d(2026, 6, 30));
        assert_eq!(belgian_date(utc("2026-06-30T22:00:00Z")), d(2026, 7, 1));
    }

    #[test]
    fn summer_time_runs_from_the_last_sunday_of_march_to_that_of_october() {
        assert_eq!(last_sunday(2026, 3), d(2026, 3, 29));
        assert_eq!(last_sunday(2026, 10), d(2026, 10, 25));
        assert_eq!(last_sunday(2027, 3), d(2027, 3, 28));
        // The night before each switch, 22:30 UTC is still the same day in winter time…
        assert_eq!(belgian_date(utc("2026-03-28T22:30:00Z")), d(2026, 3, 28));
        // …and the evening after the spring switch, 22:30 UTC is already tomorrow.
        assert_eq!(belgian_date(utc("2026-03-29T22:30:00Z")), d(2026, 3, 30));
        assert_eq!(belgian_date(utc("2026-10-24T22:30:00Z")), d(2026, 10, 25));
        assert_eq!(belgian_date(utc("2026-10-25T22:30:00Z")), d(2026, 10, 25));
    }
}
