//! The events the trajectories service publishes on `trajectories.events.v1`. None carries
//! a national number or a name.

use chrono::{DateTime, Utc};
use proto::trajectories::v1 as pb;
use uuid::Uuid;

use crate::{
    api::convert,
    domain::{Contract, Trajectory},
};

pub fn person_registered(
    person_id: Uuid,
    at: DateTime<Utc>,
    mother_tongue: &str,
    contact_language: Option<&str>,
) -> pb::PersonRegistered {
    pb::PersonRegistered {
        person_id: person_id.to_string(),
        registered_at: Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: at.timestamp_subsec_nanos() as i32,
        }),
        mother_tongue: mother_tongue.to_owned(),
        contact_language: contact_language.unwrap_or_default().to_owned(),
    }
}

pub fn trajectory_started(t: &Trajectory) -> pb::TrajectoryStarted {
    pb::TrajectoryStarted {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        municipality_nis: t.municipality.to_string(),
        agency: convert::agency(t.agency()) as i32,
        status: convert::status(t.status) as i32,
        exemption_reason: convert::exemption(t.exemption) as i32,
        started_on: Some(convert::date(t.started_on)),
    }
}

pub fn contract_signed(t: &Trajectory, contract: &Contract) -> pb::ContractSigned {
    pb::ContractSigned {
        trajectory_id: t.id.to_string(),
        person_id: t.person_id.to_string(),
        agency: convert::agency(t.agency()) as i32,
        municipality_nis: t.municipality.to_string(),
        status: convert::status(t.status) as i32,
        signed_on: Some(convert::date(contract.signed_on)),
        deadlines: convert::deadlines(contract),
        fees_total: Some(proto::common::v1::Money {
            cents: contract.fees_total(),
        }),
    }
}
