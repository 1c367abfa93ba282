//! The interpreting domain's types, made by parsing: once made, nothing checks them again.
//! No I/O here.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};
use platform::clock::belgian_time;

use crate::InterpretingError;

type Result<T, E = InterpretingError> = std::result::Result<T, E>;

/// An ISO 639 language: kept as its two-letter code (639-1) where it has one, else its
/// three-letter code (639-3), so "ar" and "ara" are the same language and Dari ("prs"),
/// Kurmanji ("kmr") and Sorani ("ckb") can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language(isolang::Language);

impl Language {
    pub fn parse(field: &'static str, input: &str) -> Result<Self> {
        let code = input.trim().to_ascii_lowercase();
        let language = match code.len() {
            2 => isolang::Language::from_639_1(&code),
            3 => isolang::Language::from_639_3(&code),
            _ => None,
        };
        language.map(Self).ok_or_else(|| {
            InterpretingError::invalid(
                field,
                format!(
                    "{input:?} is not an ISO 639 language code (two letters such as \"ar\", \
                     or three such as \"prs\" where there is no two-letter code)"
                ),
            )
        })
    }

    /// The stored and wire form.
    pub fn code(&self) -> &'static str {
        self.0.to_639_1().unwrap_or_else(|| self.0.to_639_3())
    }

    /// The English name, for the candidates' reasons.
    pub fn name(&self) -> &'static str {
        self.0.to_name()
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How the service is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    OnSite,
    Phone,
    Video,
    Written,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::OnSite, Mode::Phone, Mode::Video, Mode::Written];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::OnSite => "on_site",
            Mode::Phone => "phone",
            Mode::Video => "video",
            Mode::Written => "written",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Interpreting books an hour of the interpreter; a written translation a due date.
    pub fn is_timed(self) -> bool {
        self != Mode::Written
    }
}

/// Where an interpreter works on site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    Antwerpen,
    Limburg,
    OostVlaanderen,
    VlaamsBrabant,
    WestVlaanderen,
    Brussels,
}

impl Region {
    pub const ALL: [Region; 6] = [
        Region::Antwerpen,
        Region::Limburg,
        Region::OostVlaanderen,
        Region::VlaamsBrabant,
        Region::WestVlaanderen,
        Region::Brussels,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Antwerpen => "antwerpen",
            Region::Limburg => "limburg",
            Region::OostVlaanderen => "oost-vlaanderen",
            Region::VlaamsBrabant => "vlaams-brabant",
            Region::WestVlaanderen => "west-vlaanderen",
            Region::Brussels => "brussels",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The region of a municipality from its province's NIS code (Statbel: 10000
    /// Antwerpen, 20001 Vlaams-Brabant, 30000 West-Vlaanderen, 40000 Oost-Vlaanderen,
    /// 70000 Limburg); Brussels has no province. `None` in Wallonia.
    pub fn of_municipality(province_nis: &str, brussels: bool) -> Option<Self> {
        if brussels {
            return Some(Region::Brussels);
        }
        match province_nis {
            "10000" => Some(Region::Antwerpen),
            "20001" => Some(Region::VlaamsBrabant),
            "30000" => Some(Region::WestVlaanderen),
            "40000" => Some(Region::OostVlaanderen),
            "70000" => Some(Region::Limburg),
            _ => None,
        }
    }
}

/// A weekly window of work in Belgian wall-clock time, `from` before `to`, in minutes
/// since midnight (`to` may be 1440: midnight at the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// ISO weekday, 1 (Monday) to 7.
    pub weekday: u32,
    pub from: u32,
    pub to: u32,
}

const DAY_MINUTES: u32 = 24 * 60;

impl Window {
    pub fn parse(weekday: i32, from: (i32, i32), to: (i32, i32)) -> Result<Self> {
        let weekday = u32::try_from(weekday)
            .ok()
            .filter(|d| (1..=7).contains(d))
            .ok_or_else(|| {
                InterpretingError::invalid(
                    "availability.weekday",
                    format!("{weekday} is not an ISO weekday (1 Monday to 7 Sunday)"),
                )
            })?;
        let time = |field: &'static str, (h, m): (i32, i32)| {
            u32::try_from(h)
                .ok()
                .zip(u32::try_from(m).ok())
                .filter(|&(h, m)| h <= 24 && m < 60 && h * 60 + m <= DAY_MINUTES)
                .map(|(h, m)| h * 60 + m)
                .ok_or_else(|| {
                    InterpretingError::invalid(field, format!("{h:02}:{m:02} is not a time of day"))
                })
        };
        let from = time("availability.from", from)?;
        let to = time("availability.to", to)?;
        if to <= from {
            return Err(InterpretingError::invalid(
                "availability.to",
                format!("{} is not after from ({})", hhmm(to), hhmm(from)),
            ));
        }
        Ok(Self { weekday, from, to })
    }

    pub fn from_stored(weekday: i32, from: i32, to: i32) -> Option<Self> {
        let weekday = u32::try_from(weekday)
            .ok()
            .filter(|d| (1..=7).contains(d))?;
        let from = u32::try_from(from).ok()?;
        let to = u32::try_from(to)
            .ok()
            .filter(|&t| t <= DAY_MINUTES && t > from)?;
        Some(Self { weekday, from, to })
    }

    /// Whether `slot` lies inside this window, on one Belgian day.
    pub fn covers(&self, slot: &Slot) -> bool {
        slot.local_minutes().is_some_and(|(weekday, from, to)| {
            weekday == self.weekday && self.from <= from && to <= self.to
        })
    }

    pub fn describe(&self) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let day = DAYS[usize::try_from(self.weekday.saturating_sub(1)).unwrap_or(0) % 7];
        format!("{day} {}–{}", hhmm(self.from), hhmm(self.to))
    }
}

/// Whether `windows` together cover `slot`: each part of it (one per Belgian day) lies in
/// the union of that weekday's windows, so 09:00–12:00 and 12:00–17:00 cover 11:00–13:00.
pub fn covered(windows: &[Window], slot: &Slot) -> bool {
    slot.days().iter().all(|part| {
        let Some((weekday, from, to)) = part.local_minutes() else {
            return false;
        };
        let mut day: Vec<(u32, u32)> = windows
            .iter()
            .filter(|w| w.weekday == weekday)
            .map(|w| (w.from, w.to))
            .collect();
        day.sort_unstable();
        // Walk the windows in order, extending what is covered from the slot's start.
        let mut reached = from;
        for (f, t) in day {
            if f <= reached && t > reached {
                reached = t;
            }
        }
        reached >= to
    })
}

/// Minutes since midnight as HH:MM.
pub fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The time an interpreting service holds its interpreter: `[starts_at, ends_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Slot {
    pub fn new(starts_at: DateTime<Utc>, minutes: i32) -> Self {
        Self {
            starts_at,
            ends_at: starts_at + TimeDelta::minutes(i64::from(minutes)),
        }
    }

    pub fn overlaps(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> bool {
        self.starts_at < ends_at && starts_at < self.ends_at
    }

    /// The Belgian day the service is on.
    pub fn day(&self) -> NaiveDate {
        platform::clock::belgian_date(self.starts_at)
    }

    /// The slot's ISO weekday and minutes of the Belgian day it lies in, its start rounded
    /// down and its end up to the minute; `None` when it runs past midnight.
    fn local_minutes(&self) -> Option<(u32, u32, u32)> {
        let start = belgian_time(self.starts_at);
        let end = belgian_time(self.ends_at);
        let minutes = |t: NaiveTime| t.hour() * 60 + t.minute();
        let end_minutes = if end.date() == start.date() {
            minutes(end.time()) + u32::from(end.second() > 0 || end.nanosecond() > 0)
        } else if end.date() == start.date() + TimeDelta::days(1) && end.time() == NaiveTime::MIN {
            DAY_MINUTES
        } else {
            return None;
        };
        Some((
            start.date().weekday().number_from_monday(),
            minutes(start.time()),
            end_minutes,
        ))
    }

    /// The slot cut at Belgian midnight: one part, or two for a slot that runs into the
    /// next day (each part must then lie in a window of its own day).
    pub fn days(&self) -> Vec<Slot> {
        let start = belgian_time(self.starts_at);
        let offset = start - self.starts_at.naive_utc();
        let midnight = (start.date() + TimeDelta::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            - offset;
        let midnight = midnight.and_utc();
        if self.ends_at <= midnight {
            vec![*self]
        } else {
            vec![
                Slot {
                    starts_at: self.starts_at,
                    ends_at: midnight,
                },
                Slot {
                    starts_at: midnight,
                    ends_at: self.ends_at,
                },
            ]
        }
    }
}

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    Open,
    Assigned,
    Cancelled,
    Performed,
}

impl RequestState {
    pub const ALL: [RequestState; 4] = [
        RequestState::Open,
        RequestState::Assigned,
        RequestState::Cancelled,
        RequestState::Performed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Open => "open",
            RequestState::Assigned => "assigned",
            RequestState::Cancelled => "cancelled",
            RequestState::Performed => "performed",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Describes an instant in Belgian time for reasons and errors.
pub fn local(at: DateTime<Utc>) -> String {
    belgian_time(at).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("an RFC 3339 test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn two_and_three_letter_codes_name_the_same_language() {
        let ar = Language::parse("language", "AR").expect("Arabic");
        assert_eq!(Language::parse("language", "ara").expect("Arabic"), ar);
        assert_eq!(ar.code(), "ar");
        assert_eq!(
            Language::parse("language", "prs").expect("Dari").code(),
            "prs"
        );
        assert!(Language::parse("language", "xx").is_err());
        assert!(Language::parse("language", "qqq").is_err());
        assert!(Language::parse("language", "arabic").is_err());
    }

    #[test]
    fn a_window_covers_a_slot_up_to_its_closing_minute() {
        // Monday 2026-12-07, 09:00–17:00 Brussels = 08:00–16:00 UTC.
        let w = Window::parse(1, (9, 0), (17, 0)).expect("a window");
        assert!(w.covers(&Slot::new(at("2026-12-07T08:00:00Z"), 60)));
        assert!(w.covers(&Slot::new(at("2026-12-07T15:00:00Z"), 60)));
        assert!(!w.covers(&Slot::new(at("2026-12-07T15:00:00Z"), 61)));
        assert!(!w.covers(&Slot::new(at("2026-12-07T07:59:00Z"), 30)));
        // Tuesday is another day.
        assert!(!w.covers(&Slot::new(at("2026-12-08T08:00:00Z"), 60)));
    }

    #[test]
    fn a_slot_over_midnight_needs_the_windows_of_both_days() {
        // Monday 23:30 to Tuesday 00:30 Brussels.
        let slot = Slot::new(at("2026-12-07T22:30:00Z"), 60);
        let parts = slot.days();
        assert_eq!(parts.len(), 2);
        let monday = Window::parse(1, (20, 0), (24, 0)).expect("a window");
        let tuesday = Window::parse(2, (0, 0), (8, 0)).expect("a window");
        assert!(monday.covers(&parts[0]) && tuesday.covers(&parts[1]));
        assert!(!monday.covers(&slot));
        assert_eq!(Slot::new(at("2026-12-07T22:00:00Z"), 60).days().len(), 1);
    }

    #[test]
    fn adjacent_windows_cover_a_slot_across_their_seam_and_a_gap_does_not() {
        let w = |from, to| Window::parse(1, from, to).expect("a window");
        // Monday 11:00–13:00 Brussels.
        let slot = Slot::new(at("2026-12-07T10:00:00Z"), 120);
        assert!(covered(&[w((9, 0), (12, 0)), w((12, 0), (17, 0))], &slot));
        assert!(!covered(&[w((9, 0), (12, 0)), w((12, 30), (17, 0))], &slot));
        // A slot ending 30 seconds past the window's close is outside it.
        let late = Slot {
            starts_at: at("2026-12-07T15:00:00Z"),
            ends_at: at("2026-12-07T16:00:30Z"),
        };
        assert!(!covered(&[w((9, 0), (17, 0))], &late));
        // Over midnight: both days' windows are needed.
        let night = Slot::new(at("2026-12-07T22:30:00Z"), 60);
        let tuesday = Window::parse(2, (0, 0), (8, 0)).expect("a window");
        assert!(covered(&[w((20, 0), (24, 0)), tuesday], &night));
        assert!(!covered(&[w((20, 0), (24, 0))], &night));
    }

    #[test]
    fn the_last_sunday_of_march_has_23_hours_and_windows_follow_the_wall_clock() {
        // 2026-03-29: 09:00 Brussels is 07:00 UTC (summer time since 01:00 UTC).
        let sunday = Window::parse(7, (9, 0), (10, 0)).expect("a window");
        assert!(sunday.covers(&Slot::new(at("2026-03-29T07:00:00Z"), 60)));
        assert!(!sunday.covers(&Slot::new(at("2026-03-29T08:00:00Z"), 60)));
        // The Sunday before, still winter time: 09:00 is 08:00 UTC.
        assert!(sunday.covers(&Slot::new(at("2026-03-22T08:00:00Z"), 60)));
    }

    #[test]
    fn windows_refuse_bad_days_and_reversed_hours() {
        assert!(Window::parse(1, (71_582_789, 0), (17, 0)).is_err());
        assert!(Window::parse(0, (9, 0), (17, 0)).is_err());
        assert!(Window::parse(8, (9, 0), (17, 0)).is_err());
        assert!(Window::parse(1, (17, 0), (9, 0)).is_err());
        assert!(Window::parse(1, (9, 60), (17, 0)).is_err());
        assert!(Window::parse(7, (0, 0), (24, 0)).is_ok());
    }

    #[test]
    fn slots_overlap_unless_one_ends_when_the_other_starts() {
        let s = Slot::new(at("2026-12-07T09:00:00Z"), 60);
        assert!(s.overlaps(at("2026-12-07T09:59:00Z"), at("2026-12-07T11:00:00Z")));
        assert!(!s.overlaps(at("2026-12-07T10:00:00Z"), at("2026-12-07T11:00:00Z")));
        assert!(!s.overlaps(at("2026-12-07T08:00:00Z"), at("2026-12-07T09:00:00Z")));
    }
}
