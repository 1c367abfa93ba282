//! Proto ⇄ domain for the ceremonies' own messages and enums, in one place: the API, the
//! events and the projections use it. The shared fields (dates, UUIDs, agencies, NIS codes,
//! pages) go through [`wire`]. Each parser names the field it checks.

use proto::ceremonies::v1 as pb;
use wire::{agency, agency_from, date, required_date};

use crate::{
    CeremoniesError,
    domain::{
        Ceremony, CeremonyKind, CeremonyState, Details, Host, Invitation, RawDetails, ReportRow,
        ReportTotal, Rsvp, Source, totals,
    },
};

pub fn kind(k: CeremonyKind) -> pb::CeremonyKind {
    match k {
        CeremonyKind::Integration => pb::CeremonyKind::Integration,
        CeremonyKind::Youth => pb::CeremonyKind::Youth,
    }
}

pub fn kind_from(value: i32) -> Option<CeremonyKind> {
    match pb::CeremonyKind::try_from(value) {
        Ok(pb::CeremonyKind::Integration) => Some(CeremonyKind::Integration),
        Ok(pb::CeremonyKind::Youth) => Some(CeremonyKind::Youth),
        _ => None,
    }
}

fn host(h: Host) -> pb::Host {
    match h {
        Host::Mayor => pb::Host::Mayor,
        Host::Alderman => pb::Host::Alderman,
    }
}

fn state(s: CeremonyState) -> pb::CeremonyState {
    match s {
        CeremonyState::Planned => pb::CeremonyState::Planned,
        CeremonyState::Held => pb::CeremonyState::Held,
        CeremonyState::Cancelled => pb::CeremonyState::Cancelled,
    }
}

pub fn rsvp(r: Rsvp) -> pb::Rsvp {
    match r {
        Rsvp::Yes => pb::Rsvp::Yes,
        Rsvp::No => pb::Rsvp::No,
        Rsvp::Maybe => pb::Rsvp::Maybe,
    }
}

pub fn rsvp_from(value: i32) -> Result<Rsvp, CeremoniesError> {
    match pb::Rsvp::try_from(value) {
        Ok(pb::Rsvp::Yes) => Ok(Rsvp::Yes),
        Ok(pb::Rsvp::No) => Ok(Rsvp::No),
        Ok(pb::Rsvp::Maybe) => Ok(Rsvp::Maybe),
        _ => Err(CeremoniesError::invalid(
            "rsvp",
            "is required: RSVP_YES, RSVP_NO or RSVP_MAYBE",
        )),
    }
}

/// The request's details, before [`Details::check`].
pub fn raw_details(d: Option<&pb::CeremonyDetails>) -> Result<RawDetails, CeremoniesError> {
    let d = d.ok_or_else(|| CeremoniesError::invalid("details", "is required"))?;
    let host = match pb::Host::try_from(d.host) {
        Ok(pb::Host::Mayor) => Some(Host::Mayor),
        Ok(pb::Host::Alderman) => Some(Host::Alderman),
        _ => None,
    };
    Ok(RawDetails {
        kind: kind_from(d.kind),
        date: required_date("details.date", d.date.as_ref())?,
        place: d.place.clone(),
        host,
        capacity: d.capacity,
        attest_from: required_date("details.attest_from", d.attest_from.as_ref())?,
        attest_to: required_date("details.attest_to", d.attest_to.as_ref())?,
        co_organiser: agency_from("details.co_organiser", d.co_organiser)?,
        min_age: d.min_age,
        max_age: d.max_age,
    })
}

pub fn details(d: &Details) -> pb::CeremonyDetails {
    pb::CeremonyDetails {
        kind: kind(d.kind) as i32,
        date: Some(date(d.date)),
        place: d.place.clone(),
        host: host(d.host) as i32,
        capacity: d.capacity as i32,
        attest_from: Some(date(d.attest_from)),
        attest_to: Some(date(d.attest_to)),
        co_organiser: d.co_organiser.map_or(0, |a| agency(a) as i32),
        min_age: d.ages.map_or(0, |a| a.min as i32),
        max_age: d.ages.map_or(0, |a| a.max as i32),
    }
}

pub fn ceremony(c: &Ceremony) -> pb::Ceremony {
    pb::Ceremony {
        ceremony_id: c.id.to_string(),
        municipality_nis: c.nis.to_string(),
        details: Some(details(&c.details)),
        state: state(c.state) as i32,
        invitations: c.invitations as i32,
        agency: agency(c.agency) as i32,
    }
}

/// An invitation, with its letter and whether it was a no-show (known once held).
pub fn invitation(i: &Invitation, letter: String, held: bool) -> pb::Invitation {
    pb::Invitation {
        invitation_id: i.id.to_string(),
        ceremony_id: i.ceremony_id.to_string(),
        person_id: i.person_id.to_string(),
        given_name: i.given_name.clone(),
        family_name: i.family_name.clone(),
        contact_language: i.contact_language.clone().unwrap_or_default(),
        attest_issued_on: Some(date(i.attest_issued_on)),
        rsvp: i.rsvp.map_or(0, |r| rsvp(r) as i32),
        guests: i.guests as i32,
        attended: i.attended,
        late_addition: i.late_addition,
        letter,
        no_show: held && i.rsvp == Some(Rsvp::Yes) && !i.attended,
    }
}

fn source(s: Source) -> pb::Source {
    match s {
        Source::Platform => pb::Source::Platform,
        Source::Imported => pb::Source::Imported,
    }
}

fn opt(v: Option<u32>) -> Option<i32> {
    v.map(|v| i32::try_from(v).unwrap_or(i32::MAX))
}

pub fn report_row(r: &ReportRow) -> pb::ReportRow {
    pb::ReportRow {
        municipality_nis: r.nis.to_string(),
        municipality_name: r.name.clone(),
        agency: r.agency.map_or(0, |a| agency(a) as i32),
        year: r.year,
        kind: kind(r.kind) as i32,
        source: source(r.source) as i32,
        ceremonies_held: opt(r.held),
        invitations: opt(r.invitations),
        participants: opt(r.participants),
        computed_rate_percent: opt(r.computed_rate),
        reported_rate_basis_points: opt(r.reported_basis_points),
        inconsistent: r.inconsistent,
    }
}

pub fn report_total(t: &ReportTotal) -> pb::ReportTotal {
    pb::ReportTotal {
        agency: t.agency.map_or(0, |a| agency(a) as i32),
        kind: kind(t.kind) as i32,
        rows: t.rows as i32,
        ceremonies_held: opt(t.held),
        invitations: opt(t.invitations),
        participants: opt(t.participants),
        computed_rate_percent: opt(t.computed_rate),
        rows_with_missing_counts: t.rows_with_missing_counts as i32,
        inconsistent_rows: t.inconsistent_rows as i32,
    }
}

/// The report of `rows`, with their totals per agency and kind.
pub fn report(rows: &[ReportRow]) -> pb::GetReportResponse {
    pb::GetReportResponse {
        rows: rows.iter().map(report_row).collect(),
        totals: totals(rows).iter().map(report_total).collect(),
    }
}

pub fn ambassador(a: &crate::store::ambassador::Model) -> pb::Ambassador {
    pb::Ambassador {
        ambassador_id: a.id.to_string(),
        ceremony_id: a.ceremony_id.to_string(),
        display_name: a.display_name.clone(),
        consent_given_on: Some(date(a.consent_given_on)),
        consent_withdrawn_on: a.consent_withdrawn_on.map(date),
    }
}
