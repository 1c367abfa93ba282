//! `PartnerExchangeService`: the exchange with the Brussels partners (issue 12).

use chrono::NaiveDate;
use platform::{Principal, Role};
use proto::trajectories::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    TrajectoryError, convert,
    domain::NationalNumber,
    exchange::{Exchange, GGC, HUIS_NL},
    policy, rules,
};

/// The `PartnerExchangeService` implementation.
#[derive(Debug, Clone)]
pub struct PartnerExchangeApi {
    exchange: Exchange,
}

impl PartnerExchangeApi {
    pub fn new(exchange: Exchange) -> Self {
        Self { exchange }
    }
}

/// A GGC report: the person, the day and the language of the registration.
fn ggc_report(
    req: &pb::ReportGgcRegistrationRequest,
) -> Result<(NationalNumber, NaiveDate, &'static str), TrajectoryError> {
    let number = wire::national_number("national_number", &req.national_number)?;
    let on = convert::required_day("registered_on", req.registered_on.as_ref())?;
    let lang = match pb::GgcLanguage::try_from(req.language) {
        Ok(pb::GgcLanguage::Dutch) => "dutch",
        Ok(pb::GgcLanguage::French) => "french",
        _ => {
            return Err(TrajectoryError::invalid(
                "language",
                "is required: dutch or french",
            ));
        }
    };
    // Before 2024 the alternative to Bon was a French-speaking BAPA trajectory, which
    // the GGC reports the same way; the Dutch-language GGC route exists since 2024.
    if on < rules::BRUSSELS_OBLIGATION_SINCE {
        return Err(TrajectoryError::invalid(
            "registered_on",
            format!(
                "{on} is before the Brussels obligation began on {}",
                rules::BRUSSELS_OBLIGATION_SINCE
            ),
        ));
    }
    if lang == "dutch" && on < rules::GGC_TRAJECTORIES_SINCE {
        return Err(TrajectoryError::invalid(
            "registered_on",
            format!(
                "{on} is before the GGC's Dutch-language trajectories began on {}",
                rules::GGC_TRAJECTORIES_SINCE
            ),
        ));
    }
    Ok((number, on, lang))
}

#[tonic::async_trait]
impl pb::partner_exchange_service_server::PartnerExchangeService for PartnerExchangeApi {
    #[tracing::instrument(skip_all)]
    async fn report_ggc_registration(
        &self,
        request: Request<pb::ReportGgcRegistrationRequest>,
    ) -> Result<Response<pb::ReportGgcRegistrationResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::require_partner(principal, GGC)?;
        let (number, on, lang) = ggc_report(request.get_ref())?;
        let answer = self.exchange.report(principal, &number, on, lang).await?;
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all)]
    async fn list_bon_registrations(
        &self,
        request: Request<pb::ListBonRegistrationsRequest>,
    ) -> Result<Response<pb::ListBonRegistrationsResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::require_partner(principal, GGC)?;
        let req = request.get_ref();
        let from = convert::required_day("from", req.from.as_ref())?;
        let to = convert::required_day("to", req.to.as_ref())?;
        let page = wire::page(req.page.as_ref())?;
        let answer = (self.exchange)
            .bon_registrations(principal, from, to, page)
            .await?;
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all)]
    async fn list_dutch_route_referrals(
        &self,
        request: Request<pb::ListDutchRouteReferralsRequest>,
    ) -> Result<Response<pb::ListDutchRouteReferralsResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::require_partner(principal, HUIS_NL)?;
        let page = wire::page(request.get_ref().page.as_ref())?;
        let answer = self.exchange.dutch_route_referrals(principal, page).await?;
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all)]
    async fn list_exchange_conflicts(
        &self,
        request: Request<pb::ListExchangeConflictsRequest>,
    ) -> Result<Response<pb::ListExchangeConflictsResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::require_bon_case_worker(principal)?;
        let page = wire::page(request.get_ref().page.as_ref())?;
        Ok(Response::new(
            self.exchange.conflicts(principal, page).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn list_exchange_audit(
        &self,
        request: Request<pb::ListExchangeAuditRequest>,
    ) -> Result<Response<pb::ListExchangeAuditResponse>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Role::PlatformAdmin)?;
        let page = wire::page(request.get_ref().page.as_ref())?;
        Ok(Response::new(self.exchange.audit_entries(page).await?))
    }
}
