//! The municipalities domain: types that cannot be invalid once parsed, and the checks of
//! offers, placements and hours. No I/O, nothing of the wire.

use chrono::NaiveDate;
use uuid::Uuid;

pub use crate::geo::Region;
use crate::{MunicipalitiesError, rules};
use platform::{Agency, Nis};

/// A code read back from the service's own tables, which hold only parsed codes: one
/// that does not parse is corrupt data, not bad input.
pub fn stored_nis(stored: &str) -> Result<Nis, MunicipalitiesError> {
    Nis::parse("nis", stored)
        .map_err(|_| MunicipalitiesError::Corrupt(format!("stored NIS {stored:?}")))
}

/// A municipality of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub nis: Nis,
    pub name_nl: String,
    pub name_fr: String,
    /// None in Brussels.
    pub province_nis: Option<String>,
    pub province_name_nl: Option<String>,
    pub region: Region,
    /// None in Wallonia.
    pub agency: Option<Agency>,
    /// Codes merged into this one in 2025.
    pub former: Vec<Nis>,
}

/// What a municipality listing filters on (the page aside).
#[derive(Debug, Default)]
pub struct MunicipalityFilter {
    pub region: Option<Region>,
    pub province_nis: Option<String>,
    pub agency: Option<Agency>,
}

/// What an offer listing filters on (the page aside).
#[derive(Debug, Default)]
pub struct OfferFilter {
    pub nis: Option<Nis>,
    /// The stored kind; every host kind of an internship matches "internship".
    pub kind: Option<&'static str>,
    pub only_with_free_seats: bool,
}

/// The kind of a participation offer (DESIGN.md §3: buddy project, kennismakingsstage at a
/// company, association, organisation or local government, or volunteering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferKind {
    Buddy,
    Internship(HostKind),
    Volunteering,
}

impl OfferKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferKind::Buddy => "buddy",
            OfferKind::Internship(_) => "internship",
            OfferKind::Volunteering => "volunteering",
        }
    }

    pub fn host_kind(self) -> Option<HostKind> {
        match self {
            OfferKind::Internship(host) => Some(host),
            _ => None,
        }
    }

    pub fn from_stored(kind: &str, host: Option<&str>) -> Option<Self> {
        match kind {
            "buddy" => Some(OfferKind::Buddy),
            "volunteering" => Some(OfferKind::Volunteering),
            "internship" => host
                .and_then(HostKind::from_stored)
                .map(OfferKind::Internship),
            _ => None,
        }
    }
}

/// Where a kennismakingsstage is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Company,
    Association,
    Organisation,
    LocalGovernment,
}

impl HostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HostKind::Company => "company",
            HostKind::Association => "association",
            HostKind::Organisation => "organisation",
            HostKind::LocalGovernment => "local-government",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [
            HostKind::Company,
            HostKind::Association,
            HostKind::Organisation,
            HostKind::LocalGovernment,
        ]
        .into_iter()
        .find(|h| h.as_str() == s)
    }
}

/// Text of at most `max` characters, trimmed, required.
pub fn text(field: &'static str, input: &str, max: usize) -> Result<String, MunicipalitiesError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(MunicipalitiesError::invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(MunicipalitiesError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(MunicipalitiesError::invalid(
            field,
            "contains control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A participation offer, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOffer {
    pub nis: Nis,
    pub kind: OfferKind,
    pub host_organisation: String,
    pub title: String,
    pub capacity: i32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

impl NewOffer {
    /// Checks an offer's fields; `kind` is already parsed.
    pub fn parse(
        nis: Nis,
        kind: OfferKind,
        host_organisation: &str,
        title: &str,
        capacity: i32,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    ) -> Result<Self, MunicipalitiesError> {
        if !(1..=rules::MAX_OFFER_CAPACITY).contains(&capacity) {
            return Err(MunicipalitiesError::invalid(
                "capacity",
                format!(
                    "{capacity} is not between 1 and {}",
                    rules::MAX_OFFER_CAPACITY
                ),
            ));
        }
        if ends_on < starts_on {
            return Err(MunicipalitiesError::invalid(
                "ends_on",
                format!("{ends_on} is before starts_on {starts_on}"),
            ));
        }
        Ok(Self {
            nis,
            kind,
            host_organisation: text("host_organisation", host_organisation, 200)?,
            title: text("title", title, 200)?,
            capacity,
            starts_on,
            ends_on,
        })
    }
}

/// A participation offer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub id: Uuid,
    pub nis: Nis,
    pub kind: OfferKind,
    pub host_organisation: String,
    pub title: String,
    pub capacity: i32,
    pub placed: i32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub open: bool,
}

/// Where a placement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementState {
    Active,
    /// The trajectory reached the 40 hours.
    Completed,
    /// Ended before the 40 hours.
    Ended,
}

impl PlacementState {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementState::Active => "active",
            PlacementState::Completed => "completed",
            PlacementState::Ended => "ended",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [
            PlacementState::Active,
            PlacementState::Completed,
            PlacementState::Ended,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// A person placed in an offer; the person is an id only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub person_id: Uuid,
    pub trajectory_id: Uuid,
    pub nis: Nis,
    pub kind: OfferKind,
    pub state: PlacementState,
    pub started_on: NaiveDate,
    pub hours: u32,
    pub trajectory_hours: u32,
    pub closed_on: Option<NaiveDate>,
}

/// A municipality's contact: a function and a work e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: Uuid,
    pub nis: Nis,
    pub function: String,
    pub work_email: String,
}

/// A partnership agreement between a municipality and its agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: Uuid,
    pub nis: Nis,
    pub agency: Agency,
    pub subject: String,
    pub signed_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// A municipality-level figure: who is a resident of which municipality, as the monitor
/// and placements need it (projected from trajectory events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub trajectory_id: Uuid,
    pub person_id: Uuid,
    pub nis: Nis,
    pub agency: Agency,
    pub contract_signed_on: Option<NaiveDate>,
    /// active, suspended or stopped.
    pub state: &'static str,
    pub hours: u32,
    pub completed_on: Option<NaiveDate>,
}

impl Resident {
    /// Whether the person may be placed or have hours logged now: an active trajectory
    /// with a signed contract and participation not yet completed. Returns the contract day.
    pub fn may_participate(&self) -> Result<NaiveDate, MunicipalitiesError> {
        if self.state != "active" {
            return Err(MunicipalitiesError::TrajectoryNotActive {
                person_id: self.person_id,
                state: self.state,
            });
        }
        if self.completed_on.is_some() {
            return Err(MunicipalitiesError::AlreadyCompleted {
                person_id: self.person_id,
            });
        }
        self.contract_signed_on
            .ok_or(MunicipalitiesError::NoContract {
                person_id: self.person_id,
            })
    }
}

/// Whether a placement may start on `started_on` in an offer running from `starts_on` to
/// `ends_on`, for a person whose contract was signed on `contract_signed_on`.
pub fn check_placement_start(
    started_on: NaiveDate,
    offer: (NaiveDate, NaiveDate),
    contract_signed_on: NaiveDate,
) -> Result<(), MunicipalitiesError> {
    let (starts_on, ends_on) = offer;
    if started_on < starts_on || started_on > ends_on {
        return Err(MunicipalitiesError::invalid(
            "started_on",
            format!("{started_on} lies outside the offer ({starts_on} to {ends_on})"),
        ));
    }
    if started_on < contract_signed_on {
        return Err(MunicipalitiesError::invalid(
            "started_on",
            format!("{started_on} is before the contract was signed ({contract_signed_on})"),
        ));
    }
    Ok(())
}

/// Hours to log, checked against the calendar (issue 8): a whole number from 1 to 12, not
/// in the future, not before the contract nor before the placement started.
pub fn check_hours(
    hours: i32,
    done_on: NaiveDate,
    today: NaiveDate,
    contract_signed_on: NaiveDate,
    placement_started_on: NaiveDate,
) -> Result<u32, MunicipalitiesError> {
    if hours < 0 {
        return Err(MunicipalitiesError::invalid(
            "hours",
            format!("{hours} is negative"),
        ));
    }
    let hours = hours as u32;
    if !rules::fits_in_a_day(0, hours) {
        return Err(MunicipalitiesError::invalid(
            "hours",
            format!(
                "{hours} is not between 1 and {} (hours of one day)",
                rules::MAX_HOURS_PER_DAY
            ),
        ));
    }
    if done_on > today {
        return Err(MunicipalitiesError::invalid(
            "done_on",
            format!("{done_on} is in the future"),
        ));
    }
    if done_on < contract_signed_on {
        return Err(MunicipalitiesError::invalid(
            "done_on",
            format!("{done_on} is before the contract was signed ({contract_signed_on})"),
        ));
    }
    if done_on < placement_started_on {
        return Err(MunicipalitiesError::invalid(
            "done_on",
            format!("{done_on} is before the placement started ({placement_started_on})"),
        ));
    }
    Ok(hours)
}

/// A work e-mail address: something@domain, no more (a contact is a function, not a
/// private person).
pub fn work_email(input: &str) -> Result<String, MunicipalitiesError> {
    let value = text("work_email", input, 254)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if valid {
        Ok(value.to_lowercase())
    } else {
        Err(MunicipalitiesError::invalid(
            "work_email",
            "is not an e-mail address (name@organisation.be)",
        ))
    }
}

/// The status of an action of a local integration plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Planned,
    InProgress,
    Done,
    Dropped,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Planned => "planned",
            ActionStatus::InProgress => "in-progress",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [
            ActionStatus::Planned,
            ActionStatus::InProgress,
            ActionStatus::Done,
            ActionStatus::Dropped,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// A local integration plan, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPlan {
    pub id: Option<Uuid>,
    pub nis: Nis,
    pub title: String,
    pub from_year: i32,
    pub to_year: i32,
    /// (existing id or none, description, status), in order.
    pub actions: Vec<(Option<Uuid>, String, ActionStatus)>,
}

/// Plans run within the local government term of office and never more than this many
/// years.
pub const MAX_PLAN_YEARS: i32 = 6;
/// A plan may hold this many actions.
pub const MAX_PLAN_ACTIONS: usize = 100;

impl LocalPlan {
    pub fn check(self) -> Result<Self, MunicipalitiesError> {
        if !(2000..=2100).contains(&self.from_year) {
            return Err(MunicipalitiesError::invalid(
                "from_year",
                format!("{} is not a plausible year", self.from_year),
            ));
        }
        if self.to_year < self.from_year || self.to_year - self.from_year >= MAX_PLAN_YEARS {
            return Err(MunicipalitiesError::invalid(
                "to_year",
                format!(
                    "{} must lie from from_year to {} years after it",
                    self.to_year,
                    MAX_PLAN_YEARS - 1
                ),
            ));
        }
        let mut ids: Vec<Uuid> = self.actions.iter().filter_map(|(id, _, _)| *id).collect();
        ids.sort();
        if let Some(twice) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(MunicipalitiesError::invalid(
                "actions.action_id",
                format!("{} appears twice", twice[0]),
            ));
        }
        if self.actions.len() > MAX_PLAN_ACTIONS {
            return Err(MunicipalitiesError::invalid(
                "actions",
                format!("more than {MAX_PLAN_ACTIONS} actions"),
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn nis_codes_are_five_digits() {
        assert_eq!(
            Nis::parse("nis", " 11002 ").map(Nis::code).ok(),
            Some(11002)
        );
        for bad in ["", "1100", "110020", "11a02", "09999", "-1100"] {
            let err = Nis::parse("nis", bad).expect_err(bad).to_string();
            assert!(err.starts_with("nis: "), "{bad}: {err}");
        }
    }

    #[test]
    fn hours_are_checked_at_their_edges() {
        let (today, contract, start) = (d(2026, 6, 10), d(2026, 3, 1), d(2026, 4, 1));
        assert_eq!(
            check_hours(12, today, today, contract, start).ok(),
            Some(12)
        );
        assert_eq!(check_hours(1, start, today, contract, start).ok(), Some(1));
        for (hours, on, field) in [
            (-1, today, "hours"),
            (0, today, "hours"),
            (13, today, "hours"),
            (4, d(2026, 6, 11), "done_on"),
            (4, d(2026, 3, 31), "done_on"),
        ] {
            let err = check_hours(hours, on, today, contract, start).expect_err("refused");
            assert!(err.to_string().starts_with(field), "{err}");
        }
        let err = check_hours(4, d(2026, 2, 28), today, contract, d(2026, 1, 1))
            .expect_err("before the contract");
        assert!(err.to_string().contains("before the contract"), "{err}");
    }

    #[test]
    fn a_placement_starts_within_the_offer_and_after_the_contract() {
        let offer = (d(2026, 1, 1), d(2026, 12, 31));
        assert!(check_placement_start(d(2026, 1, 1), offer, d(2025, 12, 1)).is_ok());
        assert!(check_placement_start(d(2026, 12, 31), offer, d(2025, 12, 1)).is_ok());
        assert!(check_placement_start(d(2027, 1, 1), offer, d(2025, 12, 1)).is_err());
        assert!(check_placement_start(d(2026, 2, 1), offer, d(2026, 2, 2)).is_err());
    }

    #[test]
    fn offers_seat_one_to_two_hundred() {
        let make = |capacity| {
            NewOffer::parse(
                Nis::parse("nis", "11002").expect("a code"),
                OfferKind::Buddy,
                "Vrijwilligerspunt",
                "Buddy",
                capacity,
                d(2026, 1, 1),
                d(2026, 12, 31),
            )
        };
        assert!(make(0).is_err());
        assert!(make(1).is_ok());
        assert!(make(200).is_ok());
        assert!(make(201).is_err());
    }

    #[test]
    fn work_emails_are_addresses() {
        assert_eq!(
            work_email(" Integratie@Antwerpen.be ").ok().as_deref(),
            Some("integratie@antwerpen.be")
        );
        for bad in ["", "integratie", "a@b", "a @b.be", "a@.be", "a@b@c.be"] {
            assert!(work_email(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn nis_parse_never_panics(input in ".{0,12}") {
            let _ = Nis::parse("nis", &input);
        }

        #[test]
        fn a_parsed_nis_prints_as_it_was_read(code in 10_000u32..100_000) {
            let nis = Nis::parse("nis", &code.to_string()).expect("five digits");
            proptest::prop_assert_eq!(nis.to_string(), code.to_string());
        }
    }
}
