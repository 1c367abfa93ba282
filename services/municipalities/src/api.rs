//! gRPC handlers of the municipalities service: proto ⇄ domain (through [`convert`]) and
//! the policy checks; the work is in [`directory`], [`partnership`], [`participation`] and
//! [`report`].

use chrono::Utc;
use platform::{Nis, Principal, clock};
use proto::municipalities::v1 as pb;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    MunicipalitiesError, convert, directory,
    domain::{self, Municipality, Offer, Placement, Resident},
    participation::Participation,
    partnership, policy, report,
};

/// The `MunicipalityService` implementation.
#[derive(Debug, Clone)]
pub struct MunicipalityApi {
    participation: Participation,
}

type Result<T, E = MunicipalitiesError> = std::result::Result<T, E>;

impl MunicipalityApi {
    pub fn new(participation: Participation) -> Self {
        Self { participation }
    }

    fn db(&self) -> &DatabaseConnection {
        self.participation.db()
    }

    /// The municipality a request names in `field`: an unknown or merged code is bad input.
    async fn named(&self, field: &'static str, raw: &str) -> Result<Municipality> {
        let nis = Nis::parse(field, raw)?;
        directory::get(self.db(), nis).await.map_err(|e| match e {
            MunicipalitiesError::MunicipalityNotFound { .. }
            | MunicipalitiesError::Merged { .. } => {
                MunicipalitiesError::invalid(field, e.to_string())
            }
            other => other,
        })
    }

    /// [`Self::named`], refused unless the caller manages it.
    async fn managed(
        &self,
        principal: &Principal,
        field: &'static str,
        raw: &str,
    ) -> Result<Municipality> {
        let m = self.named(field, raw).await?;
        policy::require_manage(principal, m.nis, m.agency)?;
        Ok(m)
    }

    /// Whether the caller manages the municipality `nis` (stored, hence known).
    async fn manages(&self, principal: &Principal, nis: Nis) -> Result<bool> {
        let agency = directory::competent_agency(self.db(), nis).await?;
        Ok(policy::may_manage(principal, nis, agency)?)
    }

    /// The offer, if the caller manages its municipality; otherwise "does not exist".
    async fn offer(&self, principal: &Principal, raw: &str) -> Result<Offer> {
        let offer_id = wire::uuid("offer_id", raw)?;
        match self.participation.offer(offer_id).await? {
            Some(o) if self.manages(principal, o.nis).await? => Ok(o),
            _ => Err(MunicipalitiesError::OfferNotFound { offer_id }),
        }
    }

    /// The resident, if the caller may place them; otherwise "not known".
    async fn resident(&self, principal: &Principal, person_id: Uuid) -> Result<Resident> {
        self.participation
            .resident(person_id)
            .await?
            .filter(|who| policy::may_see_resident(principal, who))
            .ok_or(MunicipalitiesError::PersonNotFound { person_id })
    }

    /// The placement, if the caller manages its municipality.
    async fn placement(&self, principal: &Principal, raw: &str) -> Result<Placement> {
        let placement_id = wire::uuid("placement_id", raw)?;
        match self.participation.placement(placement_id).await? {
            Some(p) if self.manages(principal, p.nis).await? => Ok(p),
            _ => Err(MunicipalitiesError::PlacementNotFound { placement_id }),
        }
    }
}

#[tonic::async_trait]
impl pb::municipality_service_server::MunicipalityService for MunicipalityApi {
    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().nis))]
    async fn get_municipality(
        &self,
        request: Request<pb::GetMunicipalityRequest>,
    ) -> Result<Response<pb::GetMunicipalityResponse>, Status> {
        Principal::of(&request)?;
        let nis = Nis::parse("nis", &request.get_ref().nis)?;
        let m = directory::get(self.db(), nis).await?;
        Ok(Response::new(pb::GetMunicipalityResponse {
            municipality: Some(convert::municipality(&m)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_municipalities(
        &self,
        request: Request<pb::ListMunicipalitiesRequest>,
    ) -> Result<Response<pb::ListMunicipalitiesResponse>, Status> {
        Principal::of(&request)?;
        let req = request.get_ref();
        let page = wire::page::<String>(req.page.as_ref())?;
        let filter = convert::municipality_filter(req)?;
        let (rows, next_page_token) = directory::page(self.db(), filter, page).await?;
        Ok(Response::new(pb::ListMunicipalitiesResponse {
            municipalities: rows.iter().map(convert::municipality).collect(),
            page: wire::page_response(next_page_token),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().nis))]
    async fn resolve_nis(
        &self,
        request: Request<pb::ResolveNisRequest>,
    ) -> Result<Response<pb::ResolveNisResponse>, Status> {
        Principal::of(&request)?;
        let nis = Nis::parse("nis", &request.get_ref().nis)?;
        let (m, merged) = directory::resolve(self.db(), nis).await?;
        Ok(Response::new(pb::ResolveNisResponse {
            municipality: Some(convert::municipality(&m)),
            merged,
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn add_contact(
        &self,
        request: Request<pb::AddContactRequest>,
    ) -> Result<Response<pb::AddContactResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let m = self
            .managed(principal, "municipality_nis", &req.municipality_nis)
            .await?;
        let function = domain::text("function", &req.function, 120)?;
        let email = domain::work_email(&req.work_email)?;
        let contact = partnership::add_contact(self.db(), m.nis, function, email).await?;
        tracing::info!(contact_id = %contact.id, "contact added");
        Ok(Response::new(pb::AddContactResponse {
            contact: Some(convert::contact(&contact)),
        }))
    }

    #[tracing::instrument(skip_all, fields(contact_id = %request.get_ref().contact_id))]
    async fn remove_contact(
        &self,
        request: Request<pb::RemoveContactRequest>,
    ) -> Result<Response<pb::RemoveContactResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let contact_id = wire::uuid("contact_id", &request.get_ref().contact_id)?;
        match partnership::contact(self.db(), contact_id).await? {
            Some(c) if self.manages(principal, c.nis).await? => {
                partnership::remove_contact(self.db(), contact_id).await?;
                tracing::info!("contact removed");
                Ok(Response::new(pb::RemoveContactResponse {}))
            }
            _ => Err(MunicipalitiesError::ContactNotFound { contact_id }.into()),
        }
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn list_contacts(
        &self,
        request: Request<pb::ListContactsRequest>,
    ) -> Result<Response<pb::ListContactsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let m = self
            .managed(
                principal,
                "municipality_nis",
                &request.get_ref().municipality_nis,
            )
            .await?;
        let contacts = partnership::contacts(self.db(), m.nis).await?;
        Ok(Response::new(pb::ListContactsResponse {
            contacts: contacts.iter().map(convert::contact).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn record_agreement(
        &self,
        request: Request<pb::RecordAgreementRequest>,
    ) -> Result<Response<pb::RecordAgreementResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let m = self
            .managed(principal, "municipality_nis", &req.municipality_nis)
            .await?;
        let new = convert::agreement_from(req, &m, clock::today())?;
        let agreement = partnership::record_agreement(self.db(), new).await?;
        tracing::info!(agreement_id = %agreement.id, "agreement recorded");
        Ok(Response::new(pb::RecordAgreementResponse {
            agreement: Some(convert::agreement(&agreement)),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn list_agreements(
        &self,
        request: Request<pb::ListAgreementsRequest>,
    ) -> Result<Response<pb::ListAgreementsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let m = self
            .managed(
                principal,
                "municipality_nis",
                &request.get_ref().municipality_nis,
            )
            .await?;
        let agreements = partnership::agreements(self.db(), m.nis).await?;
        Ok(Response::new(pb::ListAgreementsResponse {
            agreements: agreements.iter().map(convert::agreement).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn save_local_plan(
        &self,
        request: Request<pb::SaveLocalPlanRequest>,
    ) -> Result<Response<pb::SaveLocalPlanResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let m = self
            .managed(principal, "municipality_nis", &req.municipality_nis)
            .await?;
        let id = wire::optional_uuid("plan_id", &req.plan_id)?;
        partnership::require_plan(self.db(), id, m.nis).await?;
        let plan = convert::local_plan_from(req, id, m.nis)?;
        let (plan_id, action_ids) = partnership::save_plan(self.db(), &plan).await?;
        tracing::info!(%plan_id, actions = action_ids.len(), "local plan saved");
        Ok(Response::new(pb::SaveLocalPlanResponse {
            plan: Some(convert::local_plan(plan_id, &plan, &action_ids)),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn list_local_plans(
        &self,
        request: Request<pb::ListLocalPlansRequest>,
    ) -> Result<Response<pb::ListLocalPlansResponse>, Status> {
        let principal = Principal::of(&request)?;
        let m = self
            .managed(
                principal,
                "municipality_nis",
                &request.get_ref().municipality_nis,
            )
            .await?;
        let plans = partnership::plans(self.db(), m.nis).await?;
        Ok(Response::new(pb::ListLocalPlansResponse {
            plans: plans
                .iter()
                .map(|(id, plan, ids)| convert::local_plan(*id, plan, ids))
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn create_offer(
        &self,
        request: Request<pb::CreateOfferRequest>,
    ) -> Result<Response<pb::CreateOfferResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let m = self
            .managed(principal, "municipality_nis", &req.municipality_nis)
            .await?;
        let new = convert::new_offer(req, m.nis)?;
        let created_by = &principal.organisation.alias;
        let offer = self.participation.create_offer(new, created_by).await?;
        tracing::info!(offer_id = %offer.id, kind = offer.kind.as_str(), "offer created");
        Ok(Response::new(pb::CreateOfferResponse {
            offer: Some(convert::offer(&offer)),
        }))
    }

    #[tracing::instrument(skip_all, fields(offer_id = %request.get_ref().offer_id))]
    async fn get_offer(
        &self,
        request: Request<pb::GetOfferRequest>,
    ) -> Result<Response<pb::GetOfferResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let offer = self.offer(principal, &request.get_ref().offer_id).await?;
        Ok(Response::new(pb::GetOfferResponse {
            offer: Some(convert::offer(&offer)),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis))]
    async fn list_offers(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let m = self
            .managed(principal, "municipality_nis", &req.municipality_nis)
            .await?;
        let page = wire::page::<Uuid>(req.page.as_ref())?;
        let filter = convert::offer_filter(req, m.nis)?;
        let (rows, next_page_token) = self.participation.offers(filter, page).await?;
        Ok(Response::new(pb::ListOffersResponse {
            offers: rows.iter().map(convert::offer).collect(),
            page: wire::page_response(next_page_token),
        }))
    }

    #[tracing::instrument(skip_all, fields(offer_id = %request.get_ref().offer_id))]
    async fn close_offer(
        &self,
        request: Request<pb::CloseOfferRequest>,
    ) -> Result<Response<pb::CloseOfferResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let offer = self.offer(principal, &request.get_ref().offer_id).await?;
        let offer = self.participation.close_offer(offer.id).await?;
        tracing::info!("offer closed");
        Ok(Response::new(pb::CloseOfferResponse {
            offer: Some(convert::offer(&offer)),
        }))
    }

    #[tracing::instrument(skip_all, fields(offer_id = %request.get_ref().offer_id, person_id))]
    async fn place_person(
        &self,
        request: Request<pb::PlacePersonRequest>,
    ) -> Result<Response<pb::PlacePersonResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let req = request.get_ref();
        let person_id = wire::uuid("person_id", &req.person_id)?;
        // Recorded once parsed: whatever else a caller types there never reaches a span.
        tracing::Span::current().record("person_id", person_id.to_string());
        let started_on = wire::required_date("started_on", req.started_on.as_ref())?;
        let offer = self.offer(principal, &req.offer_id).await?;
        let who = self.resident(principal, person_id).await?;
        let placement = self.participation.place(&offer, &who, started_on).await?;
        tracing::info!(placement_id = %placement.id, trajectory_id = %who.trajectory_id, "person placed");
        Ok(Response::new(pb::PlacePersonResponse {
            placement: Some(convert::placement(&placement)),
        }))
    }

    #[tracing::instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn log_hours(
        &self,
        request: Request<pb::LogHoursRequest>,
    ) -> Result<Response<pb::LogHoursResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let req = request.get_ref();
        let done_on = wire::required_date("done_on", req.done_on.as_ref())?;
        let open = self.placement(principal, &req.placement_id).await?;
        let by = &principal.organisation.alias;
        let placement = self
            .participation
            .log_hours(&open, done_on, req.hours, by, clock::today(), Utc::now())
            .await?;
        Ok(Response::new(pb::LogHoursResponse {
            placement: Some(convert::placement(&placement)),
        }))
    }

    #[tracing::instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn end_placement(
        &self,
        request: Request<pb::EndPlacementRequest>,
    ) -> Result<Response<pb::EndPlacementResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let req = request.get_ref();
        let ended_on = wire::required_date("ended_on", req.ended_on.as_ref())?;
        let open = self.placement(principal, &req.placement_id).await?;
        let placement = self
            .participation
            .end(&open, ended_on, clock::today())
            .await?;
        tracing::info!("placement ended");
        Ok(Response::new(pb::EndPlacementResponse {
            placement: Some(convert::placement(&placement)),
        }))
    }

    #[tracing::instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn get_placement(
        &self,
        request: Request<pb::GetPlacementRequest>,
    ) -> Result<Response<pb::GetPlacementResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let placement = self
            .placement(principal, &request.get_ref().placement_id)
            .await?;
        Ok(Response::new(pb::GetPlacementResponse {
            placement: Some(convert::placement(&placement)),
        }))
    }

    #[tracing::instrument(skip_all, fields(offer_id = %request.get_ref().offer_id))]
    async fn list_placements(
        &self,
        request: Request<pb::ListPlacementsRequest>,
    ) -> Result<Response<pb::ListPlacementsResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let req = request.get_ref();
        let page = wire::page::<Uuid>(req.page.as_ref())?;
        let offer = self.offer(principal, &req.offer_id).await?;
        let mut rows = self
            .participation
            .placements(offer.id, page.after, page.fetch())
            .await?;
        let next_page_token = page.finish(&mut rows, |p| p.id);
        Ok(Response::new(pb::ListPlacementsResponse {
            placements: rows.iter().map(convert::placement).collect(),
            page: wire::page_response(next_page_token),
        }))
    }

    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis, year = request.get_ref().year))]
    async fn get_local_monitor(
        &self,
        request: Request<pb::GetLocalMonitorRequest>,
    ) -> Result<Response<pb::GetLocalMonitorResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let m = self
            .named("municipality_nis", &req.municipality_nis)
            .await?;
        policy::require_monitor(principal, m.nis)?;
        let year = wire::year("year", req.year)?;
        let rows = report::local_monitor(self.db(), m.nis, year).await?;
        Ok(Response::new(convert::local_monitor(m.nis, year, &rows)))
    }
}
