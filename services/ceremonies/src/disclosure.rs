//! The read of invitees' names and contact languages from trajectories
//! (`DiscloseForCeremony`), on the organiser's behalf: trajectories checks the same
//! caller and organisation, discloses only its residents with an attest, and audits the
//! read. Nothing read here is logged.

use chrono::NaiveDate;
use platform::{Nis, grpc::OnBehalfOf};
use proto::trajectories::v1::{
    DiscloseForCeremonyRequest, disclosure_service_client::DisclosureServiceClient,
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

use crate::{CeremoniesError, rules};

/// What trajectories disclosed of one person for one ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosed {
    pub person_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub contact_language: Option<String>,
    /// Whole years on the ceremony's day; `None` when trajectories knows no birth date.
    pub age: Option<u32>,
}

/// The trajectories service, connected on first use.
#[derive(Debug, Clone)]
pub struct Trajectories {
    channel: Result<Channel, String>,
}

impl Trajectories {
    /// A client of `url` that connects when first called, so the service starts (and its
    /// other RPCs answer) while trajectories is down.
    pub fn lazy(url: &str) -> Self {
        let channel = platform::grpc::lazy_channel("trajectories_url", url);
        Self { channel }
    }

    /// Discloses `people` of `nis` for ceremony `ceremony_id` on `date`, in batches. Persons
    /// trajectories withholds (moved away, attest withdrawn) are left out.
    pub async fn disclose(
        &self,
        caller: &OnBehalfOf,
        nis: Nis,
        ceremony_id: Uuid,
        date: NaiveDate,
        people: &[Uuid],
    ) -> Result<Vec<Disclosed>, CeremoniesError> {
        let channel = self
            .channel
            .clone()
            .map_err(CeremoniesError::TrajectoriesUnavailable)?;
        let mut client = DisclosureServiceClient::new(channel);
        let mut out = Vec::with_capacity(people.len());
        for batch in people.chunks(rules::DISCLOSURE_BATCH) {
            let request = caller.request(DiscloseForCeremonyRequest {
                municipality_nis: nis.to_string(),
                ceremony_id: ceremony_id.to_string(),
                ceremony_date: Some(wire::date(date)),
                person_ids: batch.iter().map(Uuid::to_string).collect(),
            });
            let answer = client
                .disclose_for_ceremony(request)
                .await
                .map_err(|status| match status.code() {
                    Code::PermissionDenied | Code::Unauthenticated => {
                        CeremoniesError::DisclosureRefused(status)
                    }
                    _ => CeremoniesError::TrajectoriesUnavailable(status.message().to_owned()),
                })?
                .into_inner();
            for i in answer.invitees {
                let person_id = Uuid::parse_str(&i.person_id).map_err(|_| {
                    CeremoniesError::TrajectoriesUnavailable(
                        "trajectories answered a person id that is not a UUID".into(),
                    )
                })?;
                if !batch.contains(&person_id) {
                    return Err(CeremoniesError::TrajectoriesUnavailable(
                        "trajectories answered a person it was not asked about".into(),
                    ));
                }
                out.push(Disclosed {
                    person_id,
                    given_name: i.given_name,
                    family_name: i.family_name,
                    contact_language: Some(i.contact_language).filter(|l| !l.is_empty()),
                    age: u32::try_from(i.age).ok(),
                });
            }
        }
        Ok(out)
    }
}
