//! The rates services are billed at: configuration with a validity period, not rules.
//! Built in are the embedded default's rates; production names a TOML file in
//! `INBURGERING_INTERPRETING_RATES_FILE` (docs/operations.md):
//!
//! ```toml
//! [[rate]]
//! mode = "on_site"    # on_site | phone | video | written
//! unit = "hour"       # hour (billed by the minute) | word
//! cents = 5500        # per unit
//! minimum = 60        # minutes or words billed at least
//! valid_from = 2024-01-01
//! valid_to = 2026-12-31     # inclusive; left out: still in force
//! ```

use std::path::Path;

use chrono::NaiveDate;
use figment::{
    Figment,
    providers::{Format, Toml},
};
use serde::Deserialize;

use crate::{domain::Mode, rules};

/// How a rate counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Hour,
    Word,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::Word => "word",
        }
    }

    /// The units of quantity one price is for: 60 minutes, or a word.
    pub fn per(self) -> i64 {
        match self {
            Unit::Hour => rules::MINUTES_PER_HOUR,
            Unit::Word => 1,
        }
    }
}

/// One rate of a mode, valid from `valid_from` to `valid_to` inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub mode: Mode,
    pub unit: Unit,
    pub cents: i64,
    pub minimum: i64,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl Rate {
    fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }

    fn overlaps(&self, other: &Rate) -> bool {
        let ends_before = |a: &Rate, b: &Rate| a.valid_to.is_some_and(|to| to < b.valid_from);
        self.mode == other.mode && !ends_before(self, other) && !ends_before(other, self)
    }

    /// Billed quantity and amount in cents of `quantity` minutes or words.
    pub fn bill(&self, quantity: i64) -> (i64, i64) {
        rules::line_amount(quantity, self.minimum, self.cents, self.unit.per())
    }
}

/// Every configured rate; at most one per mode on any day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates(Vec<Rate>);

#[derive(Debug, Deserialize)]
struct File {
    rate: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    mode: String,
    unit: String,
    cents: i64,
    minimum: i64,
    valid_from: Day,
    valid_to: Option<Day>,
}

/// A day as TOML writes it: a bare date (which figment hands over as a one-entry map) or
/// a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Day {
    Text(String),
    Toml(std::collections::BTreeMap<String, String>),
}

impl Day {
    fn text(&self) -> &str {
        match self {
            Day::Text(s) => s,
            Day::Toml(m) => m.values().next().map_or("", String::as_str),
        }
    }
}

impl Rates {
    /// The embedded default: illustrative rates from 2024-01-01, still in force.
    pub fn builtin() -> Self {
        let from = NaiveDate::from_ymd_opt(2024, 1, 1).expect("a valid date");
        let rate = |mode, unit, cents, minimum| Rate {
            mode,
            unit,
            cents,
            minimum,
            valid_from: from,
            valid_to: None,
        };
        Self(vec![
            rate(Mode::OnSite, Unit::Hour, 5500, 60),
            rate(Mode::Video, Unit::Hour, 4500, 30),
            rate(Mode::Phone, Unit::Hour, 4000, 15),
            rate(Mode::Written, Unit::Word, 12, 100),
        ])
    }

    /// No rates at all: billing refuses, naming the missing rate.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// The rates of `path`, or the built-in ones when no file is configured.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        match path {
            None => Ok(Self::builtin()),
            Some(path) => {
                let file: File = Figment::from(Toml::file_exact(path))
                    .extract()
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Self::from_entries(file.rate).map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }

    /// Parses TOML text (tests, and the same checks as a file).
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = Figment::from(Toml::string(text))
            .extract()
            .map_err(|e| e.to_string())?;
        Self::from_entries(file.rate)
    }

    fn from_entries(entries: Vec<Entry>) -> Result<Self, String> {
        let date = |i: usize, field: &str, day: &Day| {
            let s = day.text();
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("rate {}: {field} {s:?} is not a date (YYYY-MM-DD)", i + 1))
        };
        let mut rates = Vec::with_capacity(entries.len());
        for (i, e) in entries.into_iter().enumerate() {
            let n = i + 1;
            let mode = Mode::from_stored(&e.mode).ok_or_else(|| {
                format!(
                    "rate {n}: mode {:?} is not on_site, phone, video or written",
                    e.mode
                )
            })?;
            let unit = match (e.unit.as_str(), mode) {
                ("word", Mode::Written) => Unit::Word,
                ("hour", m) if m.is_timed() => Unit::Hour,
                (u, m) => {
                    return Err(format!(
                        "rate {n}: {} is billed per {}, not per {u:?}",
                        m.as_str(),
                        if m.is_timed() { "hour" } else { "word" }
                    ));
                }
            };
            if e.cents <= 0 {
                return Err(format!("rate {n}: cents must be positive, not {}", e.cents));
            }
            if e.minimum < 0 {
                return Err(format!("rate {n}: minimum must not be negative"));
            }
            let valid_from = date(i, "valid_from", &e.valid_from)?;
            let valid_to = e
                .valid_to
                .as_ref()
                .map(|d| date(i, "valid_to", d))
                .transpose()?;
            if valid_to.is_some_and(|to| to < valid_from) {
                return Err(format!("rate {n}: valid_to is before valid_from"));
            }
            let rate = Rate {
                mode,
                unit,
                cents: e.cents,
                minimum: e.minimum,
                valid_from,
                valid_to,
            };
            if let Some(j) = rates.iter().position(|r: &Rate| r.overlaps(&rate)) {
                return Err(format!(
                    "rates {} and {n} of {} overlap in validity",
                    j + 1,
                    mode.as_str()
                ));
            }
            rates.push(rate);
        }
        Ok(Self(rates))
    }

    /// The rate of `mode` on `day`.
    pub fn on(&self, mode: Mode, day: NaiveDate) -> Option<&Rate> {
        self.0.iter().find(|r| r.mode == mode && r.valid_on(day))
    }

    pub fn all(&self) -> &[Rate] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a test date")
    }

    const TWO_PERIODS: &str = r#"
        [[rate]]
        mode = "video"
        unit = "hour"
        cents = 4000
        minimum = 30
        valid_from = "2024-01-01"
        valid_to = "2025-12-31"

        [[rate]]
        mode = "video"
        unit = "hour"
        cents = 4600
        minimum = 30
        valid_from = "2026-01-01"
    "#;

    #[test]
    fn a_rate_holds_to_its_last_day_and_the_next_one_from_its_first() {
        let rates = Rates::parse(TWO_PERIODS).expect("valid rates");
        assert_eq!(
            rates.on(Mode::Video, d(2025, 12, 31)).map(|r| r.cents),
            Some(4000)
        );
        assert_eq!(
            rates.on(Mode::Video, d(2026, 1, 1)).map(|r| r.cents),
            Some(4600)
        );
        assert_eq!(rates.on(Mode::Video, d(2023, 12, 31)), None);
        assert_eq!(rates.on(Mode::Phone, d(2026, 1, 1)), None);
    }

    #[test]
    fn overlapping_periods_and_wrong_units_are_refused_with_the_rate_named() {
        let overlapping = TWO_PERIODS.replace("2026-01-01", "2025-12-31");
        let e = Rates::parse(&overlapping).expect_err("overlap");
        assert!(e.contains("rates 1 and 2 of video overlap"), "{e}");
        let per_word = TWO_PERIODS.replacen("unit = \"hour\"", "unit = \"word\"", 1);
        let e = Rates::parse(&per_word).expect_err("unit");
        assert!(e.contains("rate 1: video is billed per hour"), "{e}");
        let free = TWO_PERIODS.replacen("cents = 4000", "cents = 0", 1);
        assert!(Rates::parse(&free).is_err());
        let bad_day = TWO_PERIODS.replacen("2024-01-01", "2024-13-01", 1);
        assert!(
            Rates::parse(&bad_day)
                .expect_err("date")
                .contains("valid_from")
        );
    }

    #[test]
    fn bare_toml_dates_read_as_dates() {
        let bare = TWO_PERIODS
            .replace("\"2024-01-01\"", "2024-01-01")
            .replace("\"2025-12-31\"", "2025-12-31");
        assert_ne!(bare, TWO_PERIODS);
        assert_eq!(Rates::parse(&bare), Rates::parse(TWO_PERIODS));
    }

    #[test]
    fn the_builtin_rates_cover_every_mode() {
        let rates = Rates::builtin();
        for mode in Mode::ALL {
            assert!(rates.on(mode, d(2026, 12, 4)).is_some(), "{mode:?}");
        }
    }
}
