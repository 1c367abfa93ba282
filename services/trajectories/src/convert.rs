//! Conversions between proto and domain values of this service's own messages and enums,
//! each naming the field it checks; used by the API, the events and the features alike.
//! Shared conversions (UUIDs, dates, agencies, NIS codes, pages) are `wire`'s.

use chrono::NaiveDate;
use platform::FieldError;
use proto::{common::v1 as common, trajectories::v1 as pb};

use crate::{
    TrajectoryError,
    domain::{
        Component, Contract, ExemptionReason, FeeKind, ObligationStatus, ParticipationWaiver,
        State, Trajectory,
    },
};

/// Names longer than this are refused; no civil register holds longer ones.
const MAX_NAME_CHARS: usize = 200;

/// A day of a request, `None` when absent. The wire checks it; this service has always
/// called a day that does not exist "not a calendar date", and still does.
pub fn day(field: &'static str, d: Option<&common::Date>) -> Result<Option<NaiveDate>, FieldError> {
    wire::optional_date(field, d).map_err(|e| {
        let reason = e.reason.replace("is not a date", "is not a calendar date");
        FieldError::new(field, reason)
    })
}

/// A required day of a request.
pub fn required_day(
    field: &'static str,
    d: Option<&common::Date>,
) -> Result<NaiveDate, FieldError> {
    day(field, d)?.ok_or_else(|| FieldError::new(field, "is required"))
}

pub fn name(field: &'static str, value: &str) -> Result<String, TrajectoryError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(TrajectoryError::invalid(field, "is required"));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(TrajectoryError::invalid(
            field,
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(TrajectoryError::invalid(
            field,
            "contains control characters",
        ));
    }
    Ok(value.to_owned())
}

/// An ISO 639 code (2 or 3 lowercase letters); empty is `None`.
pub fn language(field: &'static str, value: &str) -> Result<Option<String>, TrajectoryError> {
    if value.is_empty() {
        return Ok(None);
    }
    if !(2..=3).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(TrajectoryError::invalid(
            field,
            format!("{value:?} is not an ISO 639 language code such as \"ar\""),
        ));
    }
    Ok(Some(value.to_owned()))
}

pub fn status_from(value: i32) -> Result<Option<ObligationStatus>, TrajectoryError> {
    match pb::ObligationStatus::try_from(value) {
        Ok(pb::ObligationStatus::Unspecified) => Ok(None),
        Ok(pb::ObligationStatus::Obliged) => Ok(Some(ObligationStatus::Obliged)),
        Ok(pb::ObligationStatus::Entitled) => Ok(Some(ObligationStatus::Entitled)),
        Ok(pb::ObligationStatus::Voluntary) => Ok(Some(ObligationStatus::Voluntary)),
        Err(_) => Err(TrajectoryError::invalid(
            "status",
            format!("{value} is not an obligation status"),
        )),
    }
}

pub fn status(s: ObligationStatus) -> pb::ObligationStatus {
    match s {
        ObligationStatus::Obliged => pb::ObligationStatus::Obliged,
        ObligationStatus::Entitled => pb::ObligationStatus::Entitled,
        ObligationStatus::Voluntary => pb::ObligationStatus::Voluntary,
    }
}

pub fn exemption_from(value: i32) -> Result<Option<ExemptionReason>, TrajectoryError> {
    match pb::ExemptionReason::try_from(value) {
        Ok(pb::ExemptionReason::Unspecified) => Ok(None),
        Ok(pb::ExemptionReason::SeriousIllness) => Ok(Some(ExemptionReason::SeriousIllness)),
        Ok(pb::ExemptionReason::MentalDisability) => Ok(Some(ExemptionReason::MentalDisability)),
        Ok(pb::ExemptionReason::PhysicalDisability) => {
            Ok(Some(ExemptionReason::PhysicalDisability))
        }
        Err(_) => Err(TrajectoryError::invalid(
            "exemption_reason",
            format!("{value} is not an exemption reason"),
        )),
    }
}

pub fn exemption(e: Option<ExemptionReason>) -> pb::ExemptionReason {
    match e {
        None => pb::ExemptionReason::Unspecified,
        Some(ExemptionReason::SeriousIllness) => pb::ExemptionReason::SeriousIllness,
        Some(ExemptionReason::MentalDisability) => pb::ExemptionReason::MentalDisability,
        Some(ExemptionReason::PhysicalDisability) => pb::ExemptionReason::PhysicalDisability,
    }
}

pub fn component(c: Component) -> pb::Component {
    match c {
        Component::Nt2 => pb::Component::Nt2,
        Component::Mo => pb::Component::Mo,
        Component::EconomicSelfReliance => pb::Component::EconomicSelfReliance,
        Component::Participation => pb::Component::Participation,
    }
}

pub fn deadlines(c: &Contract) -> Vec<pb::ComponentDeadline> {
    c.deadlines()
        .into_iter()
        .map(|(comp, d)| pb::ComponentDeadline {
            component: component(comp) as i32,
            deadline: Some(wire::date(d)),
        })
        .collect()
}

fn fee_kind(k: FeeKind) -> pb::FeeKind {
    match k {
        FeeKind::Nt2Course => pb::FeeKind::Nt2Course,
        FeeKind::MoCourse => pb::FeeKind::MoCourse,
    }
}

pub fn trajectory(t: &Trajectory) -> pb::Trajectory {
    pb::Trajectory {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        municipality_nis: t.municipality.to_string(),
        agency: wire::agency(t.agency()) as i32,
        status: status(t.status) as i32,
        exemption_reason: exemption(t.exemption) as i32,
        started_on: Some(wire::date(t.started_on)),
        contract: t.contract.as_ref().map(|c| pb::Contract {
            signed_on: Some(wire::date(c.signed_on)),
            deadlines: deadlines(c),
            rights_and_duties_clause: c.rights_and_duties_clause,
            fees: c
                .fees
                .iter()
                .map(|f| pb::Fee {
                    kind: fee_kind(f.kind) as i32,
                    amount: Some(common::Money { cents: f.cents }),
                })
                .collect(),
            fees_total: Some(common::Money {
                cents: c.fees_total(),
            }),
        }),
        components: components(t),
        participation_hours: t.progress.participation_hours as i32,
        participation_waiver: match (t.status, t.progress.participation_waiver) {
            (_, Some(ParticipationWaiver::Works)) => pb::ParticipationWaiver::Works,
            (_, Some(ParticipationWaiver::Studies)) => pb::ParticipationWaiver::Studies,
            (ObligationStatus::Voluntary, None) => pb::ParticipationWaiver::Voluntary,
            _ => pb::ParticipationWaiver::Unspecified,
        } as i32,
        attest_issued_on: t.progress.attest_issued_on.map(wire::date),
        state: match t.state {
            State::Active => pb::TrajectoryState::Active,
            State::Suspended { .. } => pb::TrajectoryState::Suspended,
            State::Stopped { .. } => pb::TrajectoryState::Stopped,
        } as i32,
        state_reason: match &t.state {
            State::Active => String::new(),
            State::Suspended { reason, .. } | State::Stopped { reason, .. } => reason.clone(),
        },
        state_since: match &t.state {
            State::Active => None,
            State::Suspended { since, .. } | State::Stopped { since, .. } => {
                Some(wire::date(*since))
            }
        },
        b1_due_by: t.progress.b1_due_by.map(wire::date),
        b1_closed_on: t.progress.b1_closed_on.map(wire::date),
        effort_declared_on: t
            .progress
            .effort_declaration
            .as_ref()
            .map(|e| wire::date(e.issued_on)),
        effort_grounds: t
            .progress
            .effort_declaration
            .as_ref()
            .map(|e| e.grounds.clone())
            .unwrap_or_default(),
    }
}

fn components(t: &Trajectory) -> Vec<pb::ComponentProgress> {
    t.components()
        .into_iter()
        .map(|(c, required, done)| pb::ComponentProgress {
            component: component(c) as i32,
            required,
            completed_on: done.map(wire::date),
        })
        .collect()
}

/// Why participation is waived: works or studies. A voluntary trajectory is waived by its
/// status, not by a waiver.
pub fn waiver(value: i32) -> Result<ParticipationWaiver, FieldError> {
    match pb::ParticipationWaiver::try_from(value) {
        Ok(pb::ParticipationWaiver::Works) => Ok(ParticipationWaiver::Works),
        Ok(pb::ParticipationWaiver::Studies) => Ok(ParticipationWaiver::Studies),
        Ok(pb::ParticipationWaiver::Voluntary) => Err(FieldError::new(
            "waiver",
            "a voluntary trajectory is waived by its status, not by a waiver",
        )),
        _ => Err(FieldError::new("waiver", "is required: works or studies")),
    }
}

/// An activity's kind must be named (work, study or training); which one does not change
/// what it counts for.
pub fn require_activity_kind(value: i32) -> Result<(), FieldError> {
    match pb::ActivityKind::try_from(value) {
        Ok(pb::ActivityKind::Unspecified) | Err(_) => Err(FieldError::new(
            "kind",
            "is required: work, study or training",
        )),
        Ok(_) => Ok(()),
    }
}

/// The DVZ advice on `t`, produced on `today`.
pub fn dvz_advice(t: &Trajectory, today: NaiveDate) -> pb::DvzAdvice {
    let view = trajectory(t);
    pb::DvzAdvice {
        person_id: view.person_id,
        trajectory_id: view.trajectory_id,
        agency: view.agency,
        status: view.status,
        started_on: view.started_on,
        contract_signed_on: view.contract.and_then(|c| c.signed_on),
        components: view.components,
        attest_issued_on: view.attest_issued_on,
        state: view.state,
        produced_on: Some(wire::date(today)),
        effort_declared_on: view.effort_declared_on,
    }
}
