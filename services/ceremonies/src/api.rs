//! gRPC handlers of the ceremonies service: proto ⇄ domain (through [`convert`]) and the
//! policy checks; the work is in [`ceremony`](crate::ceremony),
//! [`invitations`](crate::invitations) and [`report`](crate::report).

use platform::{Principal, clock, grpc::OnBehalfOf};
use proto::ceremonies::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    CeremoniesError,
    ceremony::{Ceremonies, Filter},
    convert,
    domain::{self, Ceremony, CeremonyState, Details},
    invitations::Invitations,
    letter, policy, report,
};

type Result<T, E = CeremoniesError> = std::result::Result<T, E>;

/// The `CeremonyService` implementation.
#[derive(Debug, Clone)]
pub struct CeremonyApi {
    ceremonies: Ceremonies,
    invitations: Invitations,
}

impl CeremonyApi {
    pub fn new(ceremonies: Ceremonies, invitations: Invitations) -> Self {
        Self {
            ceremonies,
            invitations,
        }
    }

    /// The ceremony, if the caller may read it; otherwise "does not exist".
    async fn readable(&self, principal: &Principal, raw: &str) -> Result<Ceremony> {
        policy::staff(principal)?;
        let ceremony_id = wire::uuid("ceremony_id", raw)?;
        policy::readable(
            principal,
            ceremony_id,
            self.ceremonies.get(ceremony_id).await?,
        )
    }

    /// The ceremony, if the caller organises it (its municipality's organisers only).
    async fn managed(&self, principal: &Principal, raw: &str) -> Result<Ceremony> {
        policy::staff(principal)?;
        let ceremony_id = wire::uuid("ceremony_id", raw)?;
        policy::manageable(
            principal,
            ceremony_id,
            self.ceremonies.get(ceremony_id).await?,
        )
    }

    async fn letters(
        &self,
        c: &Ceremony,
        invitations: &[domain::Invitation],
    ) -> Result<Vec<pb::Invitation>> {
        let m = self.ceremonies.municipality("ceremony_id", c.nis).await?;
        let held = c.state == CeremonyState::Held;
        Ok(invitations
            .iter()
            .map(|i| convert::invitation(i, letter::invitation(c, &m.name_nl, i), held))
            .collect())
    }
}

#[tonic::async_trait]
impl pb::ceremony_service_server::CeremonyService for CeremonyApi {
    #[tracing::instrument(skip_all, fields(nis = %request.get_ref().municipality_nis, ceremony_id))]
    async fn plan_ceremony(
        &self,
        request: Request<pb::PlanCeremonyRequest>,
    ) -> Result<Response<pb::PlanCeremonyResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let nis = wire::nis("municipality_nis", &req.municipality_nis)?;
        policy::require_organiser(principal, nis)?;
        let raw = convert::raw_details(req.details.as_ref())?;
        let c = self
            .ceremonies
            .plan(nis, raw, clock::today(), &principal.subject)
            .await?;
        tracing::Span::current().record("ceremony_id", tracing::field::display(c.id));
        Ok(Response::new(pb::PlanCeremonyResponse {
            ceremony: Some(convert::ceremony(&c)),
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn change_ceremony(
        &self,
        request: Request<pb::ChangeCeremonyRequest>,
    ) -> Result<Response<pb::ChangeCeremonyResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let c = self.managed(principal, &req.ceremony_id).await?;
        let details = Details::check(convert::raw_details(req.details.as_ref())?, clock::today())?;
        let c = self.ceremonies.change(&c, details).await?;
        Ok(Response::new(pb::ChangeCeremonyResponse {
            ceremony: Some(convert::ceremony(&c)),
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn cancel_ceremony(
        &self,
        request: Request<pb::CancelCeremonyRequest>,
    ) -> Result<Response<pb::CancelCeremonyResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let c = self.managed(principal, &req.ceremony_id).await?;
        let reason = domain::cancel_reason(&req.reason)?;
        let (c, informed) = self.ceremonies.cancel(&c, reason).await?;
        Ok(Response::new(pb::CancelCeremonyResponse {
            ceremony: Some(convert::ceremony(&c)),
            informed: informed as i32,
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn close_ceremony(
        &self,
        request: Request<pb::CloseCeremonyRequest>,
    ) -> Result<Response<pb::CloseCeremonyResponse>, Status> {
        let principal = Principal::of(&request)?;
        let c = self
            .managed(principal, &request.get_ref().ceremony_id)
            .await?;
        let (c, participants, no_shows) = self.ceremonies.close(&c, clock::today()).await?;
        Ok(Response::new(pb::CloseCeremonyResponse {
            ceremony: Some(convert::ceremony(&c)),
            participants: participants as i32,
            no_shows: no_shows as i32,
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn get_ceremony(
        &self,
        request: Request<pb::GetCeremonyRequest>,
    ) -> Result<Response<pb::GetCeremonyResponse>, Status> {
        let principal = Principal::of(&request)?;
        let c = self
            .readable(principal, &request.get_ref().ceremony_id)
            .await?;
        Ok(Response::new(pb::GetCeremonyResponse {
            ceremony: Some(convert::ceremony(&c)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_ceremonies(
        &self,
        request: Request<pb::ListCeremoniesRequest>,
    ) -> Result<Response<pb::ListCeremoniesResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let page = wire::page(req.page.as_ref())?;
        let named = wire::optional_nis("municipality_nis", &req.municipality_nis)?;
        let year = (req.year != 0)
            .then(|| wire::year("year", req.year))
            .transpose()?;
        let filter = Filter::new(policy::listing(principal, named)?, named, year);
        let (ceremonies, next) = self.ceremonies.list(&filter, page).await?;
        Ok(Response::new(pb::ListCeremoniesResponse {
            ceremonies: ceremonies.iter().map(convert::ceremony).collect(),
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn send_invitations(
        &self,
        request: Request<pb::SendInvitationsRequest>,
    ) -> Result<Response<pb::SendInvitationsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let c = self
            .managed(principal, &request.get_ref().ceremony_id)
            .await?;
        let caller = OnBehalfOf::of(&request)?;
        let sent = self.invitations.send(&c, &caller, clock::today()).await?;
        Ok(Response::new(pb::SendInvitationsResponse {
            sent: sent.sent as i32,
            invitations: sent.invitations as i32,
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn list_invitations(
        &self,
        request: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let c = self.managed(principal, &req.ceremony_id).await?;
        let (invitations, next) = self
            .invitations
            .list(c.id, wire::page(req.page.as_ref())?)
            .await?;
        Ok(Response::new(pb::ListInvitationsResponse {
            invitations: self.letters(&c, &invitations).await?,
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn record_rsvp(
        &self,
        request: Request<pb::RecordRsvpRequest>,
    ) -> Result<Response<pb::RecordRsvpResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let c = self.managed(principal, &req.ceremony_id).await?;
        let person_id = wire::uuid("person_id", &req.person_id)?;
        let rsvp = convert::rsvp_from(req.rsvp)?;
        let guests = domain::guests(req.guests, rsvp)?;
        let i = self.invitations.rsvp(&c, person_id, rsvp, guests).await?;
        Ok(Response::new(pb::RecordRsvpResponse {
            invitation: self.letters(&c, &[i]).await?.pop(),
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn record_attendance(
        &self,
        request: Request<pb::RecordAttendanceRequest>,
    ) -> Result<Response<pb::RecordAttendanceResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let c = self.managed(principal, &req.ceremony_id).await?;
        let person_id = wire::uuid("person_id", &req.person_id)?;
        let i = self
            .invitations
            .attend(&c, person_id, clock::today())
            .await?;
        Ok(Response::new(pb::RecordAttendanceResponse {
            invitation: self.letters(&c, &[i]).await?.pop(),
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn add_ambassador(
        &self,
        request: Request<pb::AddAmbassadorRequest>,
    ) -> Result<Response<pb::AddAmbassadorResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let c = self.managed(principal, &req.ceremony_id).await?;
        let name = domain::display_name(&req.display_name)?;
        let consent = wire::required_date("consent_given_on", req.consent_given_on.as_ref())?;
        let consent = domain::consent_given_on(consent, clock::today())?;
        let a = self.ceremonies.add_ambassador(&c, name, consent).await?;
        Ok(Response::new(pb::AddAmbassadorResponse {
            ambassador: Some(convert::ambassador(&a)),
        }))
    }

    #[tracing::instrument(skip_all, fields(ambassador_id = %request.get_ref().ambassador_id))]
    async fn withdraw_ambassador_consent(
        &self,
        request: Request<pb::WithdrawAmbassadorConsentRequest>,
    ) -> Result<Response<pb::WithdrawAmbassadorConsentResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::staff(principal)?;
        let ambassador_id = wire::uuid("ambassador_id", &request.get_ref().ambassador_id)?;
        let found = self.ceremonies.ambassador(ambassador_id).await?;
        let a = policy::ambassador_manageable(principal, ambassador_id, found)?;
        let a = self.ceremonies.withdraw_consent(&a, clock::today()).await?;
        Ok(Response::new(pb::WithdrawAmbassadorConsentResponse {
            ambassador: Some(convert::ambassador(&a)),
        }))
    }

    #[tracing::instrument(skip_all, fields(ceremony_id = %request.get_ref().ceremony_id))]
    async fn list_ambassadors(
        &self,
        request: Request<pb::ListAmbassadorsRequest>,
    ) -> Result<Response<pb::ListAmbassadorsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let c = self
            .managed(principal, &request.get_ref().ceremony_id)
            .await?;
        let all = self.ceremonies.ambassadors(c.id).await?;
        Ok(Response::new(pb::ListAmbassadorsResponse {
            ambassadors: all.iter().map(convert::ambassador).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::GetReportResponse>, Status> {
        let principal = Principal::of(&request)?;
        let scope = policy::report_scope(principal)?;
        let req = request.get_ref();
        let year = wire::year("year", req.year)?;
        let only_nis = wire::optional_nis("municipality_nis", &req.municipality_nis)?;
        policy::report_on(principal, &scope, only_nis)?;
        let only_agency = wire::agency_from("agency", req.agency)?;
        let db = self.ceremonies.db();
        let rows = report::year(db, year, &scope, only_nis, only_agency).await?;
        Ok(Response::new(convert::report(&rows)))
    }
}
