//! gRPC handlers of the recruitment service: proto ⇄ domain (through [`convert`]) and the
//! policy checks; the work is in [`campaigns`](crate::campaigns), [`plans`](crate::plans),
//! [`letters`](crate::letters), [`newcomers`](crate::newcomers), [`funnel`](crate::funnel)
//! and [`feed`](crate::feed).

use platform::Principal;
use proto::recruitment::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    RecruitmentError,
    campaigns::Campaigns,
    convert,
    domain::{Language, Municipality, TemplateText, required_text},
    feed, funnel, letters, newcomers,
    plans::Plans,
    policy::{self, Scope},
    store::local_plan,
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

/// The `RecruitmentService` implementation.
#[derive(Debug, Clone)]
pub struct RecruitmentApi {
    campaigns: Campaigns,
    plans: Plans,
}

impl RecruitmentApi {
    pub fn new(campaigns: Campaigns, plans: Plans) -> Self {
        Self { campaigns, plans }
    }

    fn db(&self) -> &sea_orm::DatabaseConnection {
        self.campaigns.db()
    }

    /// The municipality a request names in `municipality_nis`, if `scope` holds it.
    async fn municipality_in(
        &self,
        scope: &Scope,
        principal: &Principal,
        raw: &str,
    ) -> Result<Municipality> {
        let m = feed::municipality(self.db(), "municipality_nis", raw).await?;
        policy::within(scope, &m, principal)?;
        Ok(m)
    }

    /// The same for a `municipality_nis` that may be left empty (all of `scope`).
    async fn optional_municipality(
        &self,
        scope: &Scope,
        principal: &Principal,
        raw: &str,
    ) -> Result<Option<Municipality>> {
        if raw.is_empty() {
            return Ok(None);
        }
        self.municipality_in(scope, principal, raw).await.map(Some)
    }

    /// The filter of a newcomers' listing in an officer's `area`.
    async fn newcomer_filter(
        &self,
        principal: &Principal,
        area: &[platform::Agency],
        req: &pb::ListNewcomersRequest,
    ) -> Result<newcomers::Filter> {
        let scope = Scope::Agencies(area.to_vec());
        let only = self
            .optional_municipality(&scope, principal, &req.municipality_nis)
            .await?;
        Ok(newcomers::Filter {
            nis: only.map(|m| m.nis),
            registered_from: wire::optional_date("registered_from", req.registered_from.as_ref())?,
            registered_to: wire::optional_date("registered_to", req.registered_to.as_ref())?,
        })
    }

    /// The NIS codes in force of a campaign's municipalities, each in the officer's area.
    async fn campaign_municipalities(
        &self,
        principal: &Principal,
        area: &[platform::Agency],
        raw: &[String],
    ) -> Result<Vec<String>> {
        let scope = Scope::Agencies(area.to_vec());
        let mut municipalities = Vec::new();
        for raw in raw {
            let m = self.municipality_in(&scope, principal, raw).await?;
            municipalities.push(m.nis.to_string());
        }
        Ok(municipalities)
    }

    /// The plan `raw` if the officer's area holds it; another area's is not found.
    async fn officer_plan(&self, principal: &Principal, raw: &str) -> Result<local_plan::Model> {
        let area = policy::officer(principal)?;
        let id = wire::uuid("plan_id", raw)?;
        let plan = self.plans.get(id).await?;
        if policy::in_area(&area, &plan.agency) {
            Ok(plan)
        } else {
            Err(RecruitmentError::PlanNotFound { plan_id: id })
        }
    }

    async fn plan_message(&self, plan: &local_plan::Model) -> Result<pb::LocalPlan> {
        let actions = self.plans.actions(plan.id).await?;
        Ok(convert::plan(plan, &actions))
    }
}

#[tonic::async_trait]
impl pb::recruitment_service_server::RecruitmentService for RecruitmentApi {
    #[tracing::instrument(skip_all)]
    async fn list_newcomers(
        &self,
        request: Request<pb::ListNewcomersRequest>,
    ) -> Result<Response<pb::ListNewcomersResponse>, Status> {
        let principal = Principal::of(&request)?;
        let area = policy::officer(principal)?;
        let req = request.get_ref();
        let page = wire::page(req.page.as_ref())?;
        let filter = self.newcomer_filter(principal, &area, req).await?;
        let (rows, next) = newcomers::list(self.db(), &area, &filter, page).await?;
        Ok(Response::new(pb::ListNewcomersResponse {
            newcomers: rows
                .iter()
                .map(|n| convert::newcomer(&n.registration, &n.letters_sent))
                .collect(),
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all, fields(kind, language))]
    async fn upload_template(
        &self,
        request: Request<pb::UploadTemplateRequest>,
    ) -> Result<Response<pb::UploadTemplateResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let kind = convert::kind_from("kind", req.kind)?;
        policy::may_upload(principal, kind)?;
        let language = Language::parse("language", &req.language)?;
        let span = tracing::Span::current();
        span.record("kind", kind.as_str());
        span.record("language", language.as_str());
        let text = TemplateText::parse(&req.subject, &req.paragraphs)?;
        let by = letters::Uploader::officer(principal, req.reviewed);
        let stored = letters::upload(self.db(), kind, &language, text, &by).await?;
        Ok(Response::new(pb::UploadTemplateResponse {
            template: Some(convert::template(&stored)?),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::officer(principal)?;
        let kind = convert::kind_from("kind", request.get_ref().kind)?;
        let templates = letters::current(self.db(), kind)
            .await?
            .values()
            .map(convert::template)
            .collect::<Result<_>>()?;
        Ok(Response::new(pb::ListTemplatesResponse { templates }))
    }

    #[tracing::instrument(skip_all, fields(campaign_id))]
    async fn launch_campaign(
        &self,
        request: Request<pb::LaunchCampaignRequest>,
    ) -> Result<Response<pb::LaunchCampaignResponse>, Status> {
        let principal = Principal::of(&request)?;
        let agency = policy::acting_agency(principal)?;
        let area = policy::officer(principal)?;
        let req = request.get_ref();
        let mut new = convert::new_campaign(req)?;
        let nis = &req.municipality_nis;
        new.municipalities = self.campaign_municipalities(principal, &area, nis).await?;
        let by = &principal.organisation.alias;
        let campaign = self.campaigns.launch(agency, new, by).await?;
        tracing::Span::current().record("campaign_id", campaign.id.to_string());
        Ok(Response::new(pb::LaunchCampaignResponse {
            campaign: Some(convert::campaign(&campaign)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_campaigns(
        &self,
        request: Request<pb::ListCampaignsRequest>,
    ) -> Result<Response<pb::ListCampaignsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let area = policy::officer(principal)?;
        let page = wire::page(request.get_ref().page.as_ref())?;
        let (rows, next) = self.campaigns.list(&area, page).await?;
        Ok(Response::new(pb::ListCampaignsResponse {
            campaigns: rows.iter().map(convert::campaign).collect(),
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all, fields(person_id))]
    async fn record_referral(
        &self,
        request: Request<pb::RecordReferralRequest>,
    ) -> Result<Response<pb::RecordReferralResponse>, Status> {
        let principal = Principal::of(&request)?;
        let agency = policy::acting_agency(principal)?;
        let area = policy::officer(principal)?;
        let new = convert::new_referral(request.get_ref())?;
        tracing::Span::current().record("person_id", new.person_id.to_string());
        let (stored, created) = self.campaigns.record(agency, &area, new).await?;
        Ok(Response::new(pb::RecordReferralResponse {
            referral: Some(convert::referral(&stored)),
            created,
        }))
    }

    #[tracing::instrument(skip_all, fields(ambassador_id))]
    async fn add_ambassador(
        &self,
        request: Request<pb::AddAmbassadorRequest>,
    ) -> Result<Response<pb::AddAmbassadorResponse>, Status> {
        let principal = Principal::of(&request)?;
        let agency = policy::acting_agency(principal)?;
        let new = convert::new_ambassador(request.get_ref())?;
        let added = self.campaigns.add_ambassador(agency, new).await?;
        tracing::Span::current().record("ambassador_id", added.id.to_string());
        Ok(Response::new(pb::AddAmbassadorResponse {
            ambassador: Some(convert::ambassador(&added)),
        }))
    }

    #[tracing::instrument(skip_all, fields(ambassador_id))]
    async fn withdraw_ambassador_consent(
        &self,
        request: Request<pb::WithdrawAmbassadorConsentRequest>,
    ) -> Result<Response<pb::WithdrawAmbassadorConsentResponse>, Status> {
        let principal = Principal::of(&request)?;
        let area = policy::officer(principal)?;
        let id = wire::uuid("ambassador_id", &request.get_ref().ambassador_id)?;
        tracing::Span::current().record("ambassador_id", id.to_string());
        let withdrawn = self.campaigns.withdraw(&area, id).await?;
        Ok(Response::new(pb::WithdrawAmbassadorConsentResponse {
            ambassador: Some(convert::ambassador(&withdrawn)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_ambassadors(
        &self,
        request: Request<pb::ListAmbassadorsRequest>,
    ) -> Result<Response<pb::ListAmbassadorsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let area = policy::officer(principal)?;
        let page = wire::page(request.get_ref().page.as_ref())?;
        let (rows, next) = self.campaigns.ambassadors(&area, page).await?;
        Ok(Response::new(pb::ListAmbassadorsResponse {
            ambassadors: rows.iter().map(convert::ambassador).collect(),
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all, fields(plan_id))]
    async fn create_local_plan(
        &self,
        request: Request<pb::CreateLocalPlanRequest>,
    ) -> Result<Response<pb::CreateLocalPlanResponse>, Status> {
        let principal = Principal::of(&request)?;
        let scope = Scope::Agencies(policy::officer(principal)?);
        let req = request.get_ref();
        let m = self
            .municipality_in(&scope, principal, &req.municipality_nis)
            .await?;
        let agency = m
            .agency
            .ok_or_else(|| RecruitmentError::invalid("municipality_nis", "is in Wallonia"))?;
        let year = wire::year("year", req.year)?;
        let plan = self.plans.create(m.nis, agency, year).await?;
        tracing::Span::current().record("plan_id", plan.id.to_string());
        Ok(Response::new(pb::CreateLocalPlanResponse {
            plan: Some(self.plan_message(&plan).await?),
        }))
    }

    #[tracing::instrument(skip_all, fields(plan_id = %request.get_ref().plan_id))]
    async fn add_plan_action(
        &self,
        request: Request<pb::AddPlanActionRequest>,
    ) -> Result<Response<pb::AddPlanActionResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let plan = self.officer_plan(principal, &req.plan_id).await?;
        let description = required_text("description", &req.description, 1000)?;
        let owner = required_text("owner", &req.owner, 200)?;
        let due_on = wire::optional_date("due_on", req.due_on.as_ref())?;
        self.plans
            .add_action(plan.id, description, owner, due_on)
            .await?;
        Ok(Response::new(pb::AddPlanActionResponse {
            plan: Some(self.plan_message(&plan).await?),
        }))
    }

    #[tracing::instrument(skip_all, fields(plan_id = %request.get_ref().plan_id))]
    async fn update_plan_action(
        &self,
        request: Request<pb::UpdatePlanActionRequest>,
    ) -> Result<Response<pb::UpdatePlanActionResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let plan = self.officer_plan(principal, &req.plan_id).await?;
        let action_id = wire::uuid("action_id", &req.action_id)?;
        let status = convert::status_from("status", req.status)?;
        self.plans.set_status(plan.id, action_id, status).await?;
        Ok(Response::new(pb::UpdatePlanActionResponse {
            plan: Some(self.plan_message(&plan).await?),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_local_plan(
        &self,
        request: Request<pb::GetLocalPlanRequest>,
    ) -> Result<Response<pb::GetLocalPlanResponse>, Status> {
        let principal = Principal::of(&request)?;
        let scope = policy::plan_scope(principal)?;
        let req = request.get_ref();
        let m = self
            .municipality_in(&scope, principal, &req.municipality_nis)
            .await?;
        let plan = self.plans.of(m.nis, wire::year("year", req.year)?).await?;
        Ok(Response::new(pb::GetLocalPlanResponse {
            plan: Some(self.plan_message(&plan).await?),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_funnel(
        &self,
        request: Request<pb::GetFunnelRequest>,
    ) -> Result<Response<pb::GetFunnelResponse>, Status> {
        let principal = Principal::of(&request)?;
        let scope = policy::funnel_scope(principal)?;
        let req = request.get_ref();
        let (from, to) = funnel::period(
            wire::month("from_month", req.from_month.as_ref())?,
            wire::month("to_month", req.to_month.as_ref())?,
        )?;
        let nis = &req.municipality_nis;
        let only = self.optional_municipality(&scope, principal, nis).await?;
        let only = only.map(|m| m.nis.to_string());
        let counts = funnel::counts(self.db(), &scope, only.as_deref(), from, to).await?;
        Ok(Response::new(pb::GetFunnelResponse {
            rows: funnel::rows(&counts),
        }))
    }
}
