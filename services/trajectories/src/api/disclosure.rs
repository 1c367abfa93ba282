//! `DisclosureService`: what a municipality may know of its residents for a ceremony.

use std::collections::HashSet;

use platform::Principal;
use proto::trajectories::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    TrajectoryError, convert,
    disclosure::{Ceremony, Disclosures, MAX_PERSONS},
    policy,
};

/// The `DisclosureService` implementation.
#[derive(Debug, Clone)]
pub struct DisclosureApi {
    disclosures: Disclosures,
}

impl DisclosureApi {
    pub fn new(disclosures: Disclosures) -> Self {
        Self { disclosures }
    }
}

/// The ceremony of a request for municipality `nis` (already checked against the caller).
fn ceremony(
    nis: String,
    req: &pb::DiscloseForCeremonyRequest,
) -> Result<Ceremony, TrajectoryError> {
    let ceremony_id = wire::uuid("ceremony_id", &req.ceremony_id)?;
    let on = convert::required_day("ceremony_date", req.ceremony_date.as_ref())?;
    if req.person_ids.is_empty() || req.person_ids.len() > MAX_PERSONS {
        return Err(TrajectoryError::invalid(
            "person_ids",
            format!("names {} persons; 1 to {MAX_PERSONS}", req.person_ids.len()),
        ));
    }
    let mut asked = Vec::with_capacity(req.person_ids.len());
    let mut seen = HashSet::with_capacity(req.person_ids.len());
    for (i, raw) in req.person_ids.iter().enumerate() {
        let id = wire::uuid("person_ids", raw).map_err(|_| {
            TrajectoryError::invalid("person_ids", format!("[{i}] {raw:?} is not a UUID"))
        })?;
        // A person named twice is answered and audited once.
        if seen.insert(id) {
            asked.push(id);
        }
    }
    Ok(Ceremony {
        nis,
        ceremony_id,
        on,
        asked,
    })
}

#[tonic::async_trait]
impl pb::disclosure_service_server::DisclosureService for DisclosureApi {
    #[tracing::instrument(skip_all, fields(
        nis = %request.get_ref().municipality_nis,
        ceremony_id = %request.get_ref().ceremony_id,
        asked = request.get_ref().person_ids.len(),
        disclosed,
    ))]
    async fn disclose_for_ceremony(
        &self,
        request: Request<pb::DiscloseForCeremonyRequest>,
    ) -> Result<Response<pb::DiscloseForCeremonyResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let nis = wire::nis("municipality_nis", &req.municipality_nis)?.to_string();
        policy::require_ceremony_organiser(principal, &nis)?;
        let ceremony = ceremony(nis, req)?;
        let answer = self.disclosures.for_ceremony(principal, ceremony).await?;
        tracing::Span::current().record("disclosed", answer.invitees.len());
        Ok(Response::new(answer))
    }
}
