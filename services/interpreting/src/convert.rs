//! Proto ⇄ domain and stored rows ⇄ proto, in one place for the API and the events.

use proto::{common::v1 as common, interpreting::v1 as pb};

use crate::{
    InterpretingError,
    domain::{Mode, Region, RequestState, Window},
    rates::{Rate, Unit},
    store::{absence, availability, interpreter, invoice, invoice_line, request},
};

type Result<T, E = InterpretingError> = std::result::Result<T, E>;

pub fn mode(m: Mode) -> pb::Mode {
    match m {
        Mode::OnSite => pb::Mode::OnSite,
        Mode::Phone => pb::Mode::Phone,
        Mode::Video => pb::Mode::Video,
        Mode::Written => pb::Mode::Written,
    }
}

fn stored_mode(s: &str) -> i32 {
    Mode::from_stored(s).map_or(pb::Mode::Unspecified, mode) as i32
}

pub fn mode_from(field: &'static str, value: i32) -> Result<Mode> {
    match pb::Mode::try_from(value) {
        Ok(pb::Mode::OnSite) => Ok(Mode::OnSite),
        Ok(pb::Mode::Phone) => Ok(Mode::Phone),
        Ok(pb::Mode::Video) => Ok(Mode::Video),
        Ok(pb::Mode::Written) => Ok(Mode::Written),
        Ok(pb::Mode::Unspecified) => Err(InterpretingError::invalid(field, "is required")),
        Err(_) => Err(InterpretingError::invalid(
            field,
            format!("{value} is not a mode"),
        )),
    }
}

pub fn region(r: Region) -> pb::Region {
    match r {
        Region::Antwerpen => pb::Region::Antwerpen,
        Region::Limburg => pb::Region::Limburg,
        Region::OostVlaanderen => pb::Region::OostVlaanderen,
        Region::VlaamsBrabant => pb::Region::VlaamsBrabant,
        Region::WestVlaanderen => pb::Region::WestVlaanderen,
        Region::Brussels => pb::Region::Brussels,
    }
}

pub fn region_from(field: &'static str, value: i32) -> Result<Region> {
    match pb::Region::try_from(value) {
        Ok(pb::Region::Antwerpen) => Ok(Region::Antwerpen),
        Ok(pb::Region::Limburg) => Ok(Region::Limburg),
        Ok(pb::Region::OostVlaanderen) => Ok(Region::OostVlaanderen),
        Ok(pb::Region::VlaamsBrabant) => Ok(Region::VlaamsBrabant),
        Ok(pb::Region::WestVlaanderen) => Ok(Region::WestVlaanderen),
        Ok(pb::Region::Brussels) => Ok(Region::Brussels),
        Ok(pb::Region::Unspecified) | Err(_) => Err(InterpretingError::invalid(
            field,
            format!("{value} is not a region"),
        )),
    }
}

pub fn state(s: RequestState) -> pb::RequestState {
    match s {
        RequestState::Open => pb::RequestState::Open,
        RequestState::Assigned => pb::RequestState::Assigned,
        RequestState::Cancelled => pb::RequestState::Cancelled,
        RequestState::Performed => pb::RequestState::Performed,
    }
}

/// A state filter: unspecified is none.
pub fn state_from(value: i32) -> Result<Option<RequestState>> {
    match pb::RequestState::try_from(value) {
        Ok(pb::RequestState::Unspecified) => Ok(None),
        Ok(pb::RequestState::Open) => Ok(Some(RequestState::Open)),
        Ok(pb::RequestState::Assigned) => Ok(Some(RequestState::Assigned)),
        Ok(pb::RequestState::Cancelled) => Ok(Some(RequestState::Cancelled)),
        Ok(pb::RequestState::Performed) => Ok(Some(RequestState::Performed)),
        Err(_) => Err(InterpretingError::invalid(
            "state",
            format!("{value} is not a request state"),
        )),
    }
}

fn unit(u: Unit) -> pb::RateUnit {
    match u {
        Unit::Hour => pb::RateUnit::Hour,
        Unit::Word => pb::RateUnit::Word,
    }
}

fn stored_unit(s: &str) -> i32 {
    match s {
        "hour" => pb::RateUnit::Hour as i32,
        "word" => pb::RateUnit::Word as i32,
        _ => pb::RateUnit::Unspecified as i32,
    }
}

fn money(cents: i64) -> Option<common::Money> {
    Some(common::Money { cents })
}

fn list(stored: &str) -> impl Iterator<Item = &str> {
    stored.split(',').filter(|s| !s.is_empty())
}

fn time_of_day(minutes: u32) -> pb::TimeOfDay {
    pb::TimeOfDay {
        hours: i32::try_from(minutes / 60).unwrap_or(0),
        minutes: i32::try_from(minutes % 60).unwrap_or(0),
    }
}

pub fn window_from(w: &pb::WeeklyWindow) -> Result<Window> {
    let t = |field: &'static str, t: Option<&pb::TimeOfDay>| {
        t.map(|t| (t.hours, t.minutes))
            .ok_or_else(|| InterpretingError::invalid(field, "is required"))
    };
    Window::parse(
        w.weekday,
        t("availability.from", w.from.as_ref())?,
        t("availability.to", w.to.as_ref())?,
    )
}

/// An interpreter with its languages, hours and absences.
pub fn interpreter(
    i: &interpreter::Model,
    languages: Vec<String>,
    windows: &[availability::Model],
    absences: &[absence::Model],
) -> pb::Interpreter {
    pb::Interpreter {
        interpreter_id: i.id.to_string(),
        given_name: i.given_name.clone(),
        family_name: i.family_name.clone(),
        email: i.email.clone(),
        phone: i.phone.clone(),
        languages,
        modes: list(&i.modes).map(stored_mode).collect(),
        regions: list(&i.regions)
            .filter_map(Region::from_stored)
            .map(|r| region(r) as i32)
            .collect(),
        availability: windows
            .iter()
            .filter_map(|w| Window::from_stored(w.weekday, w.from_minute, w.to_minute))
            .map(|w| pb::WeeklyWindow {
                weekday: i32::try_from(w.weekday).unwrap_or(0),
                from: Some(time_of_day(w.from)),
                to: Some(time_of_day(w.to)),
            })
            .collect(),
        absences: absences
            .iter()
            .map(|a| pb::Absence {
                absence_id: a.id.to_string(),
                starts_at: Some(wire::timestamp(a.starts_at)),
                ends_at: Some(wire::timestamp(a.ends_at)),
            })
            .collect(),
        certification: i
            .certification_reference
            .as_ref()
            .map(|r| pb::Certification {
                reference: r.clone(),
                valid_until: i.certification_valid_until.map(wire::date),
            }),
        registered_by: wire::stored_agency(&i.registered_by),
    }
}

/// A request; who pays is filled in by the reads that know it.
pub fn request(r: &request::Model) -> pb::InterpretingRequest {
    pb::InterpretingRequest {
        request_id: r.id.to_string(),
        requester: r.requester.clone(),
        municipality_nis: r.municipality_nis.clone(),
        agency: wire::stored_agency(&r.agency),
        language: r.language.clone(),
        mode: stored_mode(&r.mode),
        starts_at: r.starts_at.map(wire::timestamp),
        duration_minutes: r.duration_minutes.unwrap_or(0),
        place: r.place.clone().unwrap_or_default(),
        person_id: r.person_id.map(|p| p.to_string()).unwrap_or_default(),
        purpose: r.purpose.clone(),
        word_count: r.word_count.unwrap_or(0),
        due_on: r.due_on.map(wire::date),
        state: RequestState::from_stored(&r.state).map_or(pb::RequestState::Unspecified, state)
            as i32,
        interpreter_id: r.interpreter_id.map(|i| i.to_string()).unwrap_or_default(),
        requested_at: Some(wire::timestamp(r.requested_at)),
        cancelled_at: r.cancelled_at.map(wire::timestamp),
        cancellation_billable: r.cancellation_billable,
        performed_minutes: r.performed_minutes.unwrap_or(0),
        performed_words: r.performed_words.unwrap_or(0),
        invoice_id: r.invoice_id.map(|i| i.to_string()).unwrap_or_default(),
        payer_kind: pb::PayerKind::Unspecified as i32,
    }
}

pub fn rate(r: &Rate) -> pb::Rate {
    pb::Rate {
        mode: mode(r.mode) as i32,
        unit: unit(r.unit) as i32,
        price: money(r.cents),
        minimum: i32::try_from(r.minimum).unwrap_or(i32::MAX),
        valid_from: Some(wire::date(r.valid_from)),
        valid_to: r.valid_to.map(wire::date),
    }
}

pub fn payer_kind(stored: &str) -> pb::PayerKind {
    match stored {
        "organisation" => pb::PayerKind::Organisation,
        "person" => pb::PayerKind::Person,
        _ => pb::PayerKind::Unspecified,
    }
}

pub fn invoice(i: &invoice::Model, lines: &[invoice_line::Model]) -> pb::Invoice {
    pb::Invoice {
        invoice_id: i.id.to_string(),
        month: Some(wire::date(i.month)),
        agency: wire::stored_agency(&i.agency),
        payer_kind: payer_kind(&i.payer_kind) as i32,
        payer: i.payer.clone(),
        lines: lines
            .iter()
            .map(|l| pb::InvoiceLine {
                request_id: l.request_id.to_string(),
                service_on: Some(wire::date(l.service_on)),
                mode: stored_mode(&l.mode),
                language: l.language.clone(),
                quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
                unit: stored_unit(&l.unit),
                rate: money(l.rate_cents),
                amount: money(l.amount_cents),
                late_cancellation: l.late_cancellation,
            })
            .collect(),
        total: money(i.total_cents),
        issued_at: Some(wire::timestamp(i.issued_at)),
    }
}
