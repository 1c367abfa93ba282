//! Proto ⇄ domain, in one place: the API and the events both use it. Each parser names the
//! field it checks.

use platform::Nis;
use proto::{common::v1 as common, municipalities::v1 as pb};
use uuid::Uuid;
use wire::date;

use chrono::NaiveDate;

use crate::{
    MunicipalitiesError,
    domain::{
        self, ActionStatus, Agreement, Contact, HostKind, LocalPlan, Municipality,
        MunicipalityFilter, NewOffer, Offer, OfferFilter, OfferKind, Placement, PlacementState,
        Region,
    },
    monitor::{Measure, Row, Shown},
};

pub fn region(r: Region) -> pb::Region {
    match r {
        Region::Flanders => pb::Region::Flanders,
        Region::Brussels => pb::Region::Brussels,
        Region::Wallonia => pb::Region::Wallonia,
    }
}

/// A filter on region; `None` when unset.
pub fn region_from(value: i32) -> Result<Option<Region>, MunicipalitiesError> {
    match pb::Region::try_from(value) {
        Ok(pb::Region::Unspecified) => Ok(None),
        Ok(pb::Region::Flanders) => Ok(Some(Region::Flanders)),
        Ok(pb::Region::Brussels) => Ok(Some(Region::Brussels)),
        Ok(pb::Region::Wallonia) => Ok(Some(Region::Wallonia)),
        Err(_) => Err(MunicipalitiesError::invalid(
            "region",
            format!("{value} is not a region"),
        )),
    }
}

pub fn municipality(m: &Municipality) -> pb::Municipality {
    pb::Municipality {
        nis: m.nis.to_string(),
        name_nl: m.name_nl.clone(),
        name_fr: m.name_fr.clone(),
        province_nis: m.province_nis.clone().unwrap_or_default(),
        province_name_nl: m.province_name_nl.clone().unwrap_or_default(),
        region: region(m.region) as i32,
        agency: m
            .agency
            .map(wire::agency)
            .unwrap_or(common::Agency::Unspecified) as i32,
        former_nis: m.former.iter().map(Nis::to_string).collect(),
    }
}

/// The offer kind and host kind of a request, checked together.
pub fn offer_kind_from(kind: i32, host: i32) -> Result<OfferKind, MunicipalitiesError> {
    let host = match pb::HostKind::try_from(host) {
        Ok(pb::HostKind::Unspecified) => None,
        Ok(pb::HostKind::Company) => Some(HostKind::Company),
        Ok(pb::HostKind::Association) => Some(HostKind::Association),
        Ok(pb::HostKind::Organisation) => Some(HostKind::Organisation),
        Ok(pb::HostKind::LocalGovernment) => Some(HostKind::LocalGovernment),
        Err(_) => {
            return Err(MunicipalitiesError::invalid(
                "host_kind",
                format!("{host} is not a host kind"),
            ));
        }
    };
    match (pb::OfferKind::try_from(kind), host) {
        (Ok(pb::OfferKind::Internship), Some(host)) => Ok(OfferKind::Internship(host)),
        (Ok(pb::OfferKind::Internship), None) => Err(MunicipalitiesError::invalid(
            "host_kind",
            "is required for an internship: company, association, organisation or local government",
        )),
        (Ok(pb::OfferKind::Buddy | pb::OfferKind::Volunteering), Some(_)) => {
            Err(MunicipalitiesError::invalid(
                "host_kind",
                "is only for an internship (kennismakingsstage)",
            ))
        }
        (Ok(pb::OfferKind::Buddy), None) => Ok(OfferKind::Buddy),
        (Ok(pb::OfferKind::Volunteering), None) => Ok(OfferKind::Volunteering),
        (Ok(pb::OfferKind::Unspecified), _) => Err(MunicipalitiesError::invalid(
            "kind",
            "is required: buddy, internship or volunteering",
        )),
        (Err(_), _) => Err(MunicipalitiesError::invalid(
            "kind",
            format!("{kind} is not an offer kind"),
        )),
    }
}

/// A filter on offer kind; `None` when unset. Internships of every host kind match.
pub fn offer_kind_filter(kind: i32) -> Result<Option<&'static str>, MunicipalitiesError> {
    match pb::OfferKind::try_from(kind) {
        Ok(pb::OfferKind::Unspecified) => Ok(None),
        Ok(pb::OfferKind::Buddy) => Ok(Some(OfferKind::Buddy.as_str())),
        Ok(pb::OfferKind::Volunteering) => Ok(Some(OfferKind::Volunteering.as_str())),
        Ok(pb::OfferKind::Internship) => Ok(Some("internship")),
        Err(_) => Err(MunicipalitiesError::invalid(
            "kind",
            format!("{kind} is not an offer kind"),
        )),
    }
}

pub fn offer_kind(k: OfferKind) -> pb::OfferKind {
    match k {
        OfferKind::Buddy => pb::OfferKind::Buddy,
        OfferKind::Internship(_) => pb::OfferKind::Internship,
        OfferKind::Volunteering => pb::OfferKind::Volunteering,
    }
}

fn host_kind(h: Option<HostKind>) -> pb::HostKind {
    match h {
        None => pb::HostKind::Unspecified,
        Some(HostKind::Company) => pb::HostKind::Company,
        Some(HostKind::Association) => pb::HostKind::Association,
        Some(HostKind::Organisation) => pb::HostKind::Organisation,
        Some(HostKind::LocalGovernment) => pb::HostKind::LocalGovernment,
    }
}

pub fn offer(o: &Offer) -> pb::Offer {
    pb::Offer {
        offer_id: o.id.to_string(),
        municipality_nis: o.nis.to_string(),
        kind: offer_kind(o.kind) as i32,
        host_kind: host_kind(o.kind.host_kind()) as i32,
        host_organisation: o.host_organisation.clone(),
        title: o.title.clone(),
        capacity: o.capacity,
        placed: o.placed,
        starts_on: Some(date(o.starts_on)),
        ends_on: Some(date(o.ends_on)),
        state: if o.open {
            pb::OfferState::Open
        } else {
            pb::OfferState::Closed
        } as i32,
    }
}

pub fn placement(p: &Placement) -> pb::Placement {
    pb::Placement {
        placement_id: p.id.to_string(),
        offer_id: p.offer_id.to_string(),
        person_id: p.person_id.to_string(),
        trajectory_id: p.trajectory_id.to_string(),
        municipality_nis: p.nis.to_string(),
        state: match p.state {
            PlacementState::Active => pb::PlacementState::Active,
            PlacementState::Completed => pb::PlacementState::Completed,
            PlacementState::Ended => pb::PlacementState::Ended,
        } as i32,
        started_on: Some(date(p.started_on)),
        hours: p.hours as i32,
        trajectory_hours: p.trajectory_hours as i32,
        closed_on: p.closed_on.map(date),
    }
}

pub fn contact(c: &Contact) -> pb::Contact {
    pb::Contact {
        contact_id: c.id.to_string(),
        municipality_nis: c.nis.to_string(),
        function: c.function.clone(),
        work_email: c.work_email.clone(),
    }
}

pub fn agreement(a: &Agreement) -> pb::Agreement {
    pb::Agreement {
        agreement_id: a.id.to_string(),
        municipality_nis: a.nis.to_string(),
        agency: wire::agency(a.agency) as i32,
        subject: a.subject.clone(),
        signed_on: Some(date(a.signed_on)),
        valid_until: a.valid_until.map(date),
    }
}

pub fn action_status_from(value: i32) -> Result<ActionStatus, MunicipalitiesError> {
    match pb::ActionStatus::try_from(value) {
        Ok(pb::ActionStatus::Planned) => Ok(ActionStatus::Planned),
        Ok(pb::ActionStatus::InProgress) => Ok(ActionStatus::InProgress),
        Ok(pb::ActionStatus::Done) => Ok(ActionStatus::Done),
        Ok(pb::ActionStatus::Dropped) => Ok(ActionStatus::Dropped),
        Ok(pb::ActionStatus::Unspecified) | Err(_) => Err(MunicipalitiesError::invalid(
            "actions.status",
            format!("{value} is not planned, in progress, done or dropped"),
        )),
    }
}

fn action_status(s: ActionStatus) -> pb::ActionStatus {
    match s {
        ActionStatus::Planned => pb::ActionStatus::Planned,
        ActionStatus::InProgress => pb::ActionStatus::InProgress,
        ActionStatus::Done => pb::ActionStatus::Done,
        ActionStatus::Dropped => pb::ActionStatus::Dropped,
    }
}

/// A saved plan: every action has its id by now.
pub fn local_plan(id: Uuid, p: &LocalPlan, action_ids: &[Uuid]) -> pb::LocalPlan {
    pb::LocalPlan {
        plan_id: id.to_string(),
        municipality_nis: p.nis.to_string(),
        title: p.title.clone(),
        from_year: p.from_year,
        to_year: p.to_year,
        actions: p
            .actions
            .iter()
            .zip(action_ids)
            .map(|((_, description, status), id)| pb::PlanAction {
                action_id: id.to_string(),
                description: description.clone(),
                status: action_status(*status) as i32,
            })
            .collect(),
    }
}

pub fn measure(m: Measure) -> pb::Measure {
    match m {
        Measure::NewcomersRegistered => pb::Measure::NewcomersRegistered,
        Measure::TrajectoriesStarted => pb::Measure::TrajectoriesStarted,
        Measure::ContractsSigned => pb::Measure::ContractsSigned,
        Measure::ComponentsCompleted => pb::Measure::ComponentsCompleted,
        Measure::AttestsIssued => pb::Measure::AttestsIssued,
        Measure::ObligationsBreached => pb::Measure::ObligationsBreached,
        Measure::ParticipationPlacements => pb::Measure::ParticipationPlacements,
        Measure::ParticipationHours => pb::Measure::ParticipationHours,
    }
}

pub fn cell(c: &Shown) -> pb::Cell {
    use pb::cell::Value;
    pb::Cell {
        value: Some(match c {
            Shown::Count(n) => Value::Count(*n),
            Shown::Suppressed => Value::Suppressed(true),
            Shown::Unavailable(why) => Value::Unavailable((*why).to_owned()),
        }),
    }
}

/// The filters of a municipality listing.
pub fn municipality_filter(
    req: &pb::ListMunicipalitiesRequest,
) -> Result<MunicipalityFilter, MunicipalitiesError> {
    let province_nis = match req.province_nis.trim() {
        "" => None,
        p => Some(Nis::parse("province_nis", p)?.to_string()),
    };
    Ok(MunicipalityFilter {
        region: region_from(req.region)?,
        province_nis,
        agency: wire::agency_from("agency", req.agency)?,
    })
}

/// The filters of an offer listing in the municipality `nis`.
pub fn offer_filter(
    req: &pb::ListOffersRequest,
    nis: Nis,
) -> Result<OfferFilter, MunicipalitiesError> {
    Ok(OfferFilter {
        nis: Some(nis),
        kind: offer_kind_filter(req.kind)?,
        only_with_free_seats: req.only_with_free_seats,
    })
}

/// An agreement with the competent agency of `m`, signed by `today` at the latest.
pub fn agreement_from(
    req: &pb::RecordAgreementRequest,
    m: &Municipality,
    today: NaiveDate,
) -> Result<Agreement, MunicipalitiesError> {
    let agency = m.agency.ok_or_else(|| {
        MunicipalitiesError::invalid(
            "municipality_nis",
            format!("{} has no competent agency to agree with", m.nis),
        )
    })?;
    let signed_on = wire::required_date("signed_on", req.signed_on.as_ref())?;
    let valid_until = wire::optional_date("valid_until", req.valid_until.as_ref())?;
    if valid_until.is_some_and(|u| u < signed_on) {
        return Err(MunicipalitiesError::invalid(
            "valid_until",
            "is before signed_on",
        ));
    }
    if signed_on > today {
        return Err(MunicipalitiesError::invalid(
            "signed_on",
            "is in the future",
        ));
    }
    Ok(Agreement {
        id: Uuid::now_v7(),
        nis: m.nis,
        agency,
        subject: domain::text("subject", &req.subject, 500)?,
        signed_on,
        valid_until,
    })
}

/// The local plan a request saves in the municipality `nis`, checked; `id` is the plan's
/// when it replaces one.
pub fn local_plan_from(
    req: &pb::SaveLocalPlanRequest,
    id: Option<Uuid>,
    nis: Nis,
) -> Result<LocalPlan, MunicipalitiesError> {
    let actions = req
        .actions
        .iter()
        .map(|a| {
            Ok((
                wire::optional_uuid("actions.action_id", &a.action_id)?,
                domain::text("actions.description", &a.description, 1000)?,
                action_status_from(a.status)?,
            ))
        })
        .collect::<Result<Vec<_>, MunicipalitiesError>>()?;
    LocalPlan {
        id,
        nis,
        title: domain::text("title", &req.title, 200)?,
        from_year: req.from_year,
        to_year: req.to_year,
        actions,
    }
    .check()
}

/// The offer a request creates in the municipality `nis`.
pub fn new_offer(req: &pb::CreateOfferRequest, nis: Nis) -> Result<NewOffer, MunicipalitiesError> {
    NewOffer::parse(
        nis,
        offer_kind_from(req.kind, req.host_kind)?,
        &req.host_organisation,
        &req.title,
        req.capacity,
        wire::required_date("starts_on", req.starts_on.as_ref())?,
        wire::required_date("ends_on", req.ends_on.as_ref())?,
    )
}

/// The local monitor of `nis` in `year`.
pub fn local_monitor(nis: Nis, year: i32, rows: &[Row]) -> pb::GetLocalMonitorResponse {
    pb::GetLocalMonitorResponse {
        municipality_nis: nis.to_string(),
        year,
        threshold: crate::rules::SUPPRESSION_THRESHOLD as i32,
        rows: rows
            .iter()
            .map(|r| pb::MonitorRow {
                measure: measure(r.measure) as i32,
                unit: r.measure.unit().to_owned(),
                quarters: r.quarters.iter().map(cell).collect(),
                total: Some(cell(&r.total)),
            })
            .collect(),
    }
}
