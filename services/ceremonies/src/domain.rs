//! The ceremonies domain: types that cannot be invalid once parsed, and the checks of a
//! ceremony's details, RSVPs and historical counts. No I/O, nothing of the wire.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use platform::{Agency, Nis};
use uuid::Uuid;

use crate::{CeremoniesError, rules};

/// The two kinds of celebration (DESIGN.md §3: "a youth celebration is a separate kind").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CeremonyKind {
    Integration,
    Youth,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Integration => "integration",
            CeremonyKind::Youth => "youth",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [CeremonyKind::Integration, CeremonyKind::Youth]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// In the letter: "de inburgeringsceremonie", "het jongerenfeest".
    pub fn dutch(self) -> &'static str {
        match self {
            CeremonyKind::Integration => "de inburgeringsceremonie",
            CeremonyKind::Youth => "het jongerenfeest",
        }
    }
}

/// Who hands over the attest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Mayor,
    Alderman,
}

impl Host {
    pub fn as_str(self) -> &'static str {
        match self {
            Host::Mayor => "mayor",
            Host::Alderman => "alderman",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Host::Mayor, Host::Alderman]
            .into_iter()
            .find(|h| h.as_str() == s)
    }
}

/// A ceremony's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyState {
    Planned,
    Held,
    Cancelled,
}

impl CeremonyState {
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyState::Planned => "planned",
            CeremonyState::Held => "held",
            CeremonyState::Cancelled => "cancelled",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [
            CeremonyState::Planned,
            CeremonyState::Held,
            CeremonyState::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// Ages on the day of a youth celebration, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeRange {
    pub min: u32,
    pub max: u32,
}

impl AgeRange {
    pub fn contains(self, age: u32) -> bool {
        (self.min..=self.max).contains(&age)
    }
}

/// The details an organiser decides, checked: a ceremony cannot be planned with them
/// unless they hold together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub kind: CeremonyKind,
    pub date: NaiveDate,
    pub place: String,
    pub host: Host,
    pub capacity: u32,
    pub attest_from: NaiveDate,
    pub attest_to: NaiveDate,
    /// None: the municipality's competent agency.
    pub co_organiser: Option<Agency>,
    /// Youth celebrations only.
    pub ages: Option<AgeRange>,
}

/// What [`Details::check`] reads, before it is checked.
#[derive(Debug, Clone)]
pub struct RawDetails {
    pub kind: Option<CeremonyKind>,
    pub date: NaiveDate,
    pub place: String,
    pub host: Option<Host>,
    pub capacity: i32,
    pub attest_from: NaiveDate,
    pub attest_to: NaiveDate,
    pub co_organiser: Option<Agency>,
    pub min_age: i32,
    pub max_age: i32,
}

impl Details {
    /// Checks `raw` on `today` (the Belgian date): field by field, naming the field.
    pub fn check(raw: RawDetails, today: NaiveDate) -> Result<Self, CeremoniesError> {
        let kind = raw
            .kind
            .ok_or_else(|| CeremoniesError::invalid("details.kind", "is required"))?;
        if raw.date < today {
            return Err(CeremoniesError::invalid(
                "details.date",
                format!("{} is in the past (today is {today})", raw.date),
            ));
        }
        let place = raw.place.trim().to_owned();
        if place.is_empty() || place.chars().count() > 200 {
            return Err(CeremoniesError::invalid(
                "details.place",
                "is required, at most 200 characters",
            ));
        }
        printable("details.place", &place)?;
        let host = raw.host.ok_or_else(|| {
            CeremoniesError::invalid("details.host", "is required: the mayor or an alderman")
        })?;
        let capacity = u32::try_from(raw.capacity)
            .ok()
            .filter(|c| (1..=rules::MAX_CAPACITY).contains(c))
            .ok_or_else(|| {
                CeremoniesError::invalid(
                    "details.capacity",
                    format!("{} is not from 1 to {}", raw.capacity, rules::MAX_CAPACITY),
                )
            })?;
        if raw.attest_to < raw.attest_from {
            return Err(CeremoniesError::invalid(
                "details.attest_to",
                format!(
                    "the attest period ends on {} before it starts on {}",
                    raw.attest_to, raw.attest_from
                ),
            ));
        }
        if raw.attest_to > raw.date {
            return Err(CeremoniesError::invalid(
                "details.attest_to",
                format!(
                    "the attest period ends on {}, after the ceremony on {}: attests not yet issued cannot be celebrated",
                    raw.attest_to, raw.date
                ),
            ));
        }
        let ages = match kind {
            CeremonyKind::Integration => {
                if raw.min_age != 0 || raw.max_age != 0 {
                    return Err(CeremoniesError::invalid(
                        "details.min_age",
                        "only a youth celebration has an age range",
                    ));
                }
                None
            }
            CeremonyKind::Youth => {
                let bound = |field: &'static str, v: i32| {
                    u32::try_from(v)
                        .ok()
                        .filter(|a| (rules::YOUTH_MIN_AGE..=rules::YOUTH_MAX_AGE).contains(a))
                        .ok_or_else(|| {
                            CeremoniesError::invalid(
                                field,
                                format!(
                                    "{v} is not an age from {} to {}",
                                    rules::YOUTH_MIN_AGE,
                                    rules::YOUTH_MAX_AGE
                                ),
                            )
                        })
                };
                let min = bound("details.min_age", raw.min_age)?;
                let max = bound("details.max_age", raw.max_age)?;
                if max < min {
                    return Err(CeremoniesError::invalid(
                        "details.max_age",
                        format!("{max} is below min_age {min}"),
                    ));
                }
                Some(AgeRange { min, max })
            }
        };
        Ok(Self {
            kind,
            date: raw.date,
            place,
            host,
            capacity,
            attest_from: raw.attest_from,
            attest_to: raw.attest_to,
            co_organiser: raw.co_organiser,
            ages,
        })
    }

    /// Whether a change from `self` to `next` keeps who is invited: required once
    /// invitations are out.
    pub fn same_invitees(&self, next: &Details) -> bool {
        self.kind == next.kind
            && self.attest_from == next.attest_from
            && self.attest_to == next.attest_to
            && self.ages == next.ages
    }
}

/// A ceremony as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub id: Uuid,
    pub nis: Nis,
    /// The municipality's competent agency.
    pub agency: Agency,
    pub details: Details,
    pub state: CeremonyState,
    pub invitations: u32,
    /// Rounds of SendInvitations that sent at least one invitation.
    pub rounds: u32,
}

impl Ceremony {
    /// Refuses `what` unless the ceremony is planned.
    pub fn require_planned(&self, what: &'static str) -> Result<(), CeremoniesError> {
        if self.state == CeremonyState::Planned {
            Ok(())
        } else {
            Err(CeremoniesError::NotPlanned {
                ceremony_id: self.id,
                state: self.state.as_str(),
                what,
            })
        }
    }

    /// Refuses `what` before the ceremony's day.
    pub fn require_day(&self, today: NaiveDate, what: &'static str) -> Result<(), CeremoniesError> {
        if today >= self.details.date {
            Ok(())
        } else {
            Err(CeremoniesError::NotYet {
                ceremony_id: self.id,
                date: self.details.date,
                what,
            })
        }
    }

    /// The year it counts in for the report.
    pub fn year(&self) -> i32 {
        self.details.date.year()
    }
}

/// An answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rsvp {
    Yes,
    No,
    Maybe,
}

impl Rsvp {
    pub fn as_str(self) -> &'static str {
        match self {
            Rsvp::Yes => "yes",
            Rsvp::No => "no",
            Rsvp::Maybe => "maybe",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Rsvp::Yes, Rsvp::No, Rsvp::Maybe]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Guests an invitee brings, checked against [`rules::MAX_GUESTS_PER_INVITATION`].
pub fn guests(value: i32, rsvp: Rsvp) -> Result<u32, CeremoniesError> {
    let guests = u32::try_from(value)
        .ok()
        .filter(|g| *g <= rules::MAX_GUESTS_PER_INVITATION)
        .ok_or_else(|| {
            CeremoniesError::invalid(
                "guests",
                format!(
                    "{value} is not from 0 to {}",
                    rules::MAX_GUESTS_PER_INVITATION
                ),
            )
        })?;
    if rsvp == Rsvp::No && guests > 0 {
        return Err(CeremoniesError::invalid(
            "guests",
            "someone who does not come brings no guests",
        ));
    }
    Ok(guests)
}

/// An invitee of one ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub ceremony_id: Uuid,
    pub person_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub contact_language: Option<String>,
    pub attest_issued_on: NaiveDate,
    pub rsvp: Option<Rsvp>,
    pub guests: u32,
    pub attended: bool,
    pub late_addition: bool,
}

/// Refuses `text` of `field` when a letter would print one of its characters as `?`:
/// the place and a cancellation's reason are printed in every invitee's letter.
fn printable(field: &'static str, text: &str) -> Result<(), CeremoniesError> {
    match letters::uncovered(text) {
        Some((ch, position)) => Err(CeremoniesError::invalid(
            field,
            format!("{ch:?} at position {position} is a character no letter font prints"),
        )),
        None => Ok(()),
    }
}

/// Why a ceremony is cancelled, as its notices print it: 1 to 500 characters, each one a
/// letter font prints.
pub fn cancel_reason(value: &str) -> Result<&str, CeremoniesError> {
    let reason = value.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(CeremoniesError::invalid(
            "reason",
            "is required, at most 500 characters",
        ));
    }
    printable("reason", reason)?;
    Ok(reason)
}

/// A display name for the programme: a given name, 1 to 60 characters.
pub fn display_name(value: &str) -> Result<String, CeremoniesError> {
    let name = value.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(CeremoniesError::invalid(
            "display_name",
            "is required, at most 60 characters",
        ));
    }
    Ok(name.to_owned())
}

/// The day an ambassador consented: not after `today`.
pub fn consent_given_on(day: NaiveDate, today: NaiveDate) -> Result<NaiveDate, CeremoniesError> {
    if day > today {
        return Err(CeremoniesError::invalid(
            "consent_given_on",
            format!("{day} is in the future"),
        ));
    }
    Ok(day)
}

/// Age in whole years on `on` of someone born on `born`.
pub fn age_on(born: NaiveDate, on: NaiveDate) -> Option<u32> {
    on.years_since(born)
}

/// Where a report row's counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Platform,
    Imported,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Platform => "platform",
            Source::Imported => "imported",
        }
    }
}

/// A row of the response-rate report: one municipality, year, kind and source. A count
/// not known stays missing: never 0, never part of a rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub nis: Nis,
    pub name: String,
    pub agency: Option<Agency>,
    pub year: i32,
    pub kind: CeremonyKind,
    pub source: Source,
    pub held: Option<u32>,
    pub invitations: Option<u32>,
    pub participants: Option<u32>,
    pub computed_rate: Option<u32>,
    pub reported_basis_points: Option<u32>,
    pub inconsistent: bool,
}

impl ReportRow {
    /// The row with its rate computed and its reported rate checked, from what it counts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        nis: Nis,
        name: String,
        agency: Option<Agency>,
        year: i32,
        kind: CeremonyKind,
        source: Source,
        held: Option<u32>,
        invitations: Option<u32>,
        participants: Option<u32>,
        reported_basis_points: Option<u32>,
    ) -> Self {
        let computed_rate = invitations
            .zip(participants)
            .and_then(|(i, p)| rules::response_rate_percent(p, i));
        let inconsistent = match (reported_basis_points, invitations, participants) {
            (Some(r), Some(i), Some(p)) => rules::disagrees(r, p, i),
            _ => false,
        };
        Self {
            nis,
            name,
            agency,
            year,
            kind,
            source,
            held,
            invitations,
            participants,
            computed_rate,
            reported_basis_points,
            inconsistent,
        }
    }
}

/// The sum of the report rows of one agency and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTotal {
    pub agency: Option<Agency>,
    pub kind: CeremonyKind,
    pub rows: u32,
    pub held: Option<u32>,
    pub invitations: Option<u32>,
    pub participants: Option<u32>,
    pub computed_rate: Option<u32>,
    pub rows_with_missing_counts: u32,
    pub inconsistent_rows: u32,
}

/// A sum that is missing as soon as one of its terms is.
fn sum(mut values: impl Iterator<Item = Option<u32>>) -> Option<u32> {
    values.try_fold(0u32, |acc, v| v.map(|v| acc.saturating_add(v)))
}

/// The report's totals per agency and kind.
pub fn totals(rows: &[ReportRow]) -> Vec<ReportTotal> {
    let mut groups: BTreeMap<(Option<Agency>, CeremonyKind), Vec<&ReportRow>> = BTreeMap::new();
    for r in rows {
        groups.entry((r.agency, r.kind)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((agency, kind), rows)| {
            let invitations = sum(rows.iter().map(|r| r.invitations));
            let participants = sum(rows.iter().map(|r| r.participants));
            ReportTotal {
                agency,
                kind,
                rows: rows.len() as u32,
                held: sum(rows.iter().map(|r| r.held)),
                invitations,
                participants,
                computed_rate: invitations
                    .zip(participants)
                    .and_then(|(i, p)| rules::response_rate_percent(p, i)),
                rows_with_missing_counts: rows
                    .iter()
                    .filter(|r| r.invitations.is_none() || r.participants.is_none())
                    .count() as u32,
                inconsistent_rows: rows.iter().filter(|r| r.inconsistent).count() as u32,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn raw() -> RawDetails {
        RawDetails {
            kind: Some(CeremonyKind::Integration),
            date: d(2027, 6, 1),
            place: "Stadhuis".into(),
            host: Some(Host::Mayor),
            capacity: 100,
            attest_from: d(2026, 1, 1),
            attest_to: d(2026, 12, 31),
            co_organiser: None,
            min_age: 0,
            max_age: 0,
        }
    }

    fn field(e: CeremoniesError) -> &'static str {
        match e {
            CeremoniesError::InvalidArgument { field, .. } => field,
            other => panic!("not bad input: {other}"),
        }
    }

    #[test]
    fn a_ceremony_is_planned_today_or_later() {
        let today = d(2027, 6, 1);
        assert!(Details::check(raw(), today).is_ok());
        let past = Details::check(raw(), d(2027, 6, 2)).expect_err("in the past");
        assert_eq!(field(past), "details.date");
    }

    #[test]
    fn a_place_and_a_reason_in_any_script_print_and_one_no_font_has_is_named() {
        let today = d(2027, 1, 1);
        let mut arabic = raw();
        arabic.place = "قاعة المدينة, Grote Markt 1".into();
        assert!(Details::check(arabic, today).is_ok());
        let mut emoji = raw();
        emoji.place = "Stadhuis 🎉".into();
        match Details::check(emoji, today) {
            Err(CeremoniesError::InvalidArgument { field, reason }) => {
                assert_eq!(field, "details.place");
                assert!(reason.contains("'🎉' at position 10"), "{reason}");
            }
            other => panic!("expected the place refused, got {other:?}"),
        }
        assert_eq!(
            cancel_reason("  Storm op komst ").ok(),
            Some("Storm op komst")
        );
        assert_eq!(cancel_reason("Зал закрито").ok(), Some("Зал закрито"));
        assert_eq!(
            field(cancel_reason("Feest ✨").expect_err("no font")),
            "reason"
        );
        assert_eq!(field(cancel_reason(" ").expect_err("empty")), "reason");
        let long = "a".repeat(500);
        assert!(cancel_reason(&long).is_ok());
        assert!(cancel_reason(&format!("{long}a")).is_err());
    }

    #[test]
    fn an_attest_period_ends_after_it_starts_and_by_the_ceremony() {
        let today = d(2027, 1, 1);
        let mut one_day = raw();
        one_day.attest_to = one_day.attest_from;
        assert!(Details::check(one_day, today).is_ok());
        let mut backwards = raw();
        backwards.attest_to = d(2025, 12, 31);
        assert_eq!(
            field(Details::check(backwards, today).expect_err("ends first")),
            "details.attest_to"
        );
        let mut on_the_day = raw();
        on_the_day.attest_to = on_the_day.date;
        assert!(Details::check(on_the_day, today).is_ok());
        let mut after = raw();
        after.attest_to = d(2027, 6, 2);
        assert_eq!(
            field(Details::check(after, today).expect_err("after the ceremony")),
            "details.attest_to"
        );
    }

    #[test]
    fn capacity_is_from_one_to_the_maximum() {
        let today = d(2027, 1, 1);
        for (capacity, ok) in [
            (0, false),
            (1, true),
            (5_000, true),
            (5_001, false),
            (-1, false),
        ] {
            let mut r = raw();
            r.capacity = capacity;
            assert_eq!(Details::check(r, today).is_ok(), ok, "capacity {capacity}");
        }
    }

    #[test]
    fn only_a_youth_celebration_has_an_age_range_within_the_youth_bounds() {
        let today = d(2027, 1, 1);
        let mut integration = raw();
        integration.max_age = 25;
        assert_eq!(
            field(Details::check(integration, today).expect_err("no range")),
            "details.min_age"
        );
        let youth = |min, max| RawDetails {
            kind: Some(CeremonyKind::Youth),
            min_age: min,
            max_age: max,
            ..raw()
        };
        let ok = Details::check(youth(12, 30), today).expect("the widest range");
        assert_eq!(ok.ages, Some(AgeRange { min: 12, max: 30 }));
        assert_eq!(
            field(Details::check(youth(11, 18), today).expect_err("too young")),
            "details.min_age"
        );
        assert_eq!(
            field(Details::check(youth(16, 31), today).expect_err("too old")),
            "details.max_age"
        );
        assert_eq!(
            field(Details::check(youth(18, 16), today).expect_err("backwards")),
            "details.max_age"
        );
    }

    #[test]
    fn guests_are_bounded_and_none_with_a_no() {
        assert_eq!(guests(0, Rsvp::Yes).ok(), Some(0));
        assert_eq!(guests(10, Rsvp::Yes).ok(), Some(10));
        assert!(guests(11, Rsvp::Yes).is_err());
        assert!(guests(-1, Rsvp::Maybe).is_err());
        assert!(guests(1, Rsvp::No).is_err());
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_on(d(2009, 6, 1), d(2027, 6, 1)), Some(18));
        assert_eq!(age_on(d(2009, 6, 2), d(2027, 6, 1)), Some(17));
    }
}
