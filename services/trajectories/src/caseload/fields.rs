//! What every part of the caseload check shares: a refused field before its line is
//! known, dates and enumerations read from text, the register, the tests and outcomes.

use std::collections::HashMap;

use chrono::NaiveDate;
use platform::Nis;

use crate::{
    TrajectoryError,
    domain::{Component, Municipality},
};

/// The register as the check needs it: each code (current or former) with the
/// municipality in force and its agency; `None` where no Flemish agency is competent.
#[derive(Debug, Clone, Default)]
pub struct Register {
    codes: HashMap<String, Option<Municipality>>,
}

impl Register {
    /// From the rows of `wire::register::all`.
    pub fn new(rows: Vec<wire::register::Municipality>) -> Self {
        let codes = rows
            .into_iter()
            .map(|row| {
                let m = row
                    .nis()
                    .zip(row.agency())
                    .map(|(nis, agency)| Municipality::new(nis, agency));
                (row.code, m)
            })
            .collect();
        Self { codes }
    }

    /// Whether any register has reached the service.
    pub fn is_loaded(&self) -> bool {
        !self.codes.is_empty()
    }

    pub(super) fn municipality(
        &self,
        field: &str,
        value: &str,
    ) -> Result<Option<Municipality>, Problem> {
        let code = Nis::parse("municipality_nis", value)
            .map_err(|e| Problem::new(field, e.to_string().replace("municipality_nis: ", "")))?;
        match self.codes.get(&code.to_string()) {
            Some(m) => Ok(*m),
            None => Err(Problem::new(
                field,
                format!("{code} is not a municipality in Statbel's register"),
            )),
        }
    }
}

/// A field and why it was refused, before the line is known.
#[derive(Debug, Clone)]
pub(super) struct Problem {
    pub(super) field: String,
    pub(super) reason: String,
}

impl Problem {
    pub(super) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A domain refusal of a step of the replay, its field put under `prefix` by the
    /// name the file gives it. The replay's trajectory has an id of its own that the file
    /// never held, so the reason says what went wrong, not which trajectory.
    pub(super) fn domain(prefix: &str, e: TrajectoryError) -> Self {
        let reason = match e {
            TrajectoryError::InvalidArgument { field, reason } => {
                return Self::new(format!("{prefix}{}", file_field(field)), reason);
            }
            TrajectoryError::NotActive { state, .. } => {
                format!("the trajectory is {state} by then")
            }
            TrajectoryError::ContractNotSigned { .. } => {
                "needs a signed contract; the record has none".to_owned()
            }
            TrajectoryError::AlreadyRecorded { what, .. } => format!("{what} is already recorded"),
            TrajectoryError::NotRequired { what, .. } => format!("{what} is not required"),
            TrajectoryError::ContractAlreadySigned { .. } => {
                "the contract is already signed".to_owned()
            }
            other => other.to_string(),
        };
        Self::new(prefix.trim_end_matches('.'), reason)
    }
}

/// The record's name of a field the domain names as its requests do.
fn file_field(domain: &'static str) -> &'static str {
    match domain {
        "suspended_on" => "from",
        "resumed_on" => "to",
        "stopped_on" => "on",
        "exemption_reason" => "exemption",
        other => other,
    }
}

/// A test of the integration tests, as testing knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestKind {
    Nt2A2,
    Nt2A2Adapted,
    Mo,
    B1Oral,
}

impl TestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nt2A2 => "nt2-a2",
            Self::Nt2A2Adapted => "nt2-a2-adapted",
            Self::Mo => "mo",
            Self::B1Oral => "b1-oral",
        }
    }

    pub(super) fn parse(value: &str) -> Option<Self> {
        [Self::Nt2A2, Self::Nt2A2Adapted, Self::Mo, Self::B1Oral]
            .into_iter()
            .find(|k| k.as_str() == value)
    }

    /// The component a pass completes; the B1 oral test belongs to the follow-up.
    pub(super) fn component(self) -> Option<Component> {
        match self {
            Self::Nt2A2 | Self::Nt2A2Adapted => Some(Component::Nt2),
            Self::Mo => Some(Component::Mo),
            Self::B1Oral => None,
        }
    }
}

/// How a test went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestOutcome {
    Passed,
    Failed,
    Absent,
}

impl TestOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Absent => "absent",
        }
    }
}

/// A checked result, for testing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedResult {
    pub test: TestKind,
    pub taken_on: NaiveDate,
    pub outcome: TestOutcome,
    pub level: Option<String>,
    pub centre: String,
}

/// A date in ISO form (`2024-03-01`), not after `today`.
pub(super) fn date(field: &str, value: &str, today: NaiveDate) -> Result<NaiveDate, Problem> {
    if value.trim().is_empty() {
        return Err(Problem::new(field, "is required"));
    }
    let d = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        Problem::new(
            field,
            format!("{value:?} is not a calendar date (YYYY-MM-DD)"),
        )
    })?;
    if d > today {
        return Err(Problem::new(field, format!("{d} lies in the future")));
    }
    Ok(d)
}

/// Records a problem and gives `None`, or the value.
pub(super) fn keep<T>(problems: &mut Vec<Problem>, r: Result<T, Problem>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

pub(super) fn enum_field<T>(
    problems: &mut Vec<Problem>,
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Option<T> {
    let v = parse(value);
    if v.is_none() {
        problems.push(Problem::new(field, format!("{value:?} is not {allowed}")));
    }
    v
}

pub(super) fn rename(field: &'static str) -> impl Fn(Problem) -> Problem {
    move |p| Problem::new(field, p.reason)
}
