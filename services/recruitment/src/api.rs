//! gRPC handlers of the recruitment service: proto ⇄ domain (through [`convert`]) and the
//! policy checks; the work is in [`campaigns`](crate::campaigns), [`plans`](crate::plans),
//! [`letters`](crate::letters), [`funnel`](crate::funnel) and [`feed`](crate::feed).

use chrono::{Datelike, Months, Utc};
use platform::Principal;
use proto::recruitment::v1 as pb;
use sea_orm::{
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use tonic::{Request, Response, Status};

use crate::{
    RecruitmentError,
    campaigns::{Campaigns, NewCampaign},
    convert,
    domain::{self, Agency, Language, LetterKind, Municipality, TemplateText},
    feed, funnel, letters,
    plans::Plans,
    policy::{self, Scope},
    store::{letter, local_plan, referral, registration},
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

/// Months a funnel request may span.
const MAX_FUNNEL_MONTHS: u32 = 36;

/// The `RecruitmentService` implementation.
#[derive(Debug, Clone)]
pub struct RecruitmentApi {
    campaigns: Campaigns,
    plans: Plans,
}

fn required_text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(RecruitmentError::invalid(field, "is required"));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(RecruitmentError::invalid(
            field,
            format!("must be at most {max} printable characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Refuses a municipality outside `scope`.
fn within(scope: &Scope, m: &Municipality, principal: &Principal) -> Result<()> {
    if scope.covers(m.nis, m.agency) {
        Ok(())
    } else {
        Err(platform::auth::AuthError::Forbidden(format!(
            "municipality {} is outside the area of {}",
            m.nis, principal.organisation.alias
        ))
        .into())
    }
}

impl RecruitmentApi {
    pub fn new(campaigns: Campaigns, plans: Plans) -> Self {
        Self { campaigns, plans }
    }

    fn db(&self) -> &sea_orm::DatabaseConnection {
        self.campaigns.db()
    }

    /// The plan `raw` if the officer's area holds it; another area's is not found.
    async fn officer_plan(&self, principal: &Principal, raw: &str) -> Result<local_plan::Model> {
        let area = policy::officer(principal)?;
        let id = wire::uuid("plan_id", raw)?;
        let plan = self.plans.get(id).await?;
        if Agency::from_alias(&plan.agency).is_some_and(|a| area.contains(&a)) {
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
        use registration::Column as C;
        let principal = Principal::of(&request)?;
        let area = policy::officer(principal)?;
        let req = request.get_ref();
        let page = wire::page(req.page.as_ref())?;
        let mut q = registration::Entity::find()
            .filter(Expr::col(C::Agency).is_in(area.iter().map(|a| a.as_str())))
            .order_by_asc(C::Id);
        if !req.municipality_nis.is_empty() {
            let m =
                feed::municipality(self.db(), "municipality_nis", &req.municipality_nis).await?;
            within(&Scope::Agencies(area.clone()), &m, principal)?;
            q = q.filter(Expr::col(C::Nis).eq(m.nis.to_string()));
        }
        if let Some(from) = wire::optional_date("registered_from", req.registered_from.as_ref())? {
            q = q.filter(Expr::col(C::RegisteredOn).gte(from));
        }
        if let Some(to) = wire::optional_date("registered_to", req.registered_to.as_ref())? {
            q = q.filter(Expr::col(C::RegisteredOn).lte(to));
        }
        if let Some(after) = page.after {
            q = q.filter(Expr::col(C::Id).gt(after));
        }
        let mut rows = q
            .limit(page.fetch())
            .all(self.db())
            .await
            .map_err(RecruitmentError::from)?;
        let next = page.finish(&mut rows, |r| r.id);
        let people: Vec<uuid::Uuid> = rows.iter().map(|r| r.person_id).collect();
        let sent = letter::Entity::find()
            .filter(Expr::col(letter::Column::PersonId).is_in(people))
            .filter(Expr::col(letter::Column::Agency).is_in(area.iter().map(|a| a.as_str())))
            .filter(Expr::col(letter::Column::State).eq("sent"))
            .all(self.db())
            .await
            .map_err(RecruitmentError::from)?;
        let newcomers = rows
            .iter()
            .map(|r| pb::Newcomer {
                registration_id: r.id.to_string(),
                person_id: r.person_id.to_string(),
                municipality_nis: r.nis.clone(),
                registered_on: Some(wire::date(r.registered_on)),
                target_group: convert::stored_group(&r.target_group) as i32,
                nationality: r.nationality.clone(),
                languages: std::iter::once(r.mother_tongue.clone())
                    .chain(r.contact_language.clone())
                    .collect(),
                letters_sent: sent
                    .iter()
                    .filter(|l| l.person_id == r.person_id)
                    .filter_map(|l| LetterKind::from_stored(&l.kind))
                    .map(|k| convert::kind(k) as i32)
                    .collect(),
            })
            .collect();
        Ok(Response::new(pb::ListNewcomersResponse {
            newcomers,
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
        let by = format!("{}/{}", principal.organisation.alias, principal.subject);
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
        let name = required_text("name", &req.name, 200)?;
        if req.target_groups.is_empty() {
            return Err(
                RecruitmentError::invalid("target_groups", "at least one is required").into(),
            );
        }
        let target_groups = req
            .target_groups
            .iter()
            .map(|g| convert::group_to_stored("target_groups", *g))
            .collect::<Result<Vec<_>>>()?;
        if req.channels.is_empty() {
            return Err(RecruitmentError::invalid("channels", "at least one is required").into());
        }
        let channels = req
            .channels
            .iter()
            .map(|c| convert::channel_to_stored("channels", *c))
            .collect::<Result<Vec<_>>>()?;
        let starts_on = wire::required_date("starts_on", req.starts_on.as_ref())?;
        let ends_on = wire::required_date("ends_on", req.ends_on.as_ref())?;
        if ends_on < starts_on {
            return Err(RecruitmentError::invalid(
                "ends_on",
                format!("{ends_on} is before starts_on {starts_on}"),
            )
            .into());
        }
        let mut municipalities = Vec::new();
        for raw in &req.municipality_nis {
            let m = feed::municipality(self.db(), "municipality_nis", raw).await?;
            within(&Scope::Agencies(area.clone()), &m, principal)?;
            municipalities.push(m.nis.to_string());
        }
        let campaign = self
            .campaigns
            .launch(
                agency,
                NewCampaign {
                    name,
                    target_groups,
                    channels,
                    starts_on,
                    ends_on,
                    municipalities,
                },
                &principal.organisation.alias,
            )
            .await?;
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
        let req = request.get_ref();
        let person_id = wire::uuid("person_id", &req.person_id)?;
        tracing::Span::current().record("person_id", person_id.to_string());
        let referrer_kind = convert::referrer_to_stored("referrer_kind", req.referrer_kind)?;
        let referrer_name = if referrer_kind == "ambassador" {
            // A person's name stays in the ambassadors' table, where withdrawing consent
            // erases it: a referral names the ambassador by id.
            let id = wire::uuid("referrer_name", &req.referrer_name).map_err(|_| {
                RecruitmentError::invalid(
                    "referrer_name",
                    "for an ambassador, is the ambassador_id (a UUID), never a name",
                )
            })?;
            self.campaigns.consenting_ambassador(&area, id).await?;
            id.to_string()
        } else {
            required_text("referrer_name", &req.referrer_name, 200)?
        };
        if req.gpmi_condition && referrer_kind != "ocmw" {
            return Err(RecruitmentError::invalid(
                "gpmi_condition",
                "only an OCMW makes the trajectory a condition of a GPMI",
            )
            .into());
        }
        let referred_on = wire::required_date("referred_on", req.referred_on.as_ref())?;
        if referred_on > Utc::now().date_naive() {
            return Err(RecruitmentError::invalid("referred_on", "is in the future").into());
        }
        let campaign_id = wire::optional_uuid("campaign_id", &req.campaign_id)?;
        if let Some(id) = campaign_id {
            self.campaigns.campaign(&area, id).await?;
        }
        if !self.campaigns.knows(&area, person_id).await? {
            return Err(RecruitmentError::PersonNotFound { person_id }.into());
        }
        let (stored, created) = self
            .campaigns
            .refer(
                agency,
                referral::Model {
                    id: uuid::Uuid::now_v7(),
                    person_id,
                    agency: agency.as_str().to_owned(),
                    referrer_kind,
                    referrer_name,
                    campaign_id,
                    referred_on,
                    gpmi_condition: req.gpmi_condition,
                },
            )
            .await?;
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
        let req = request.get_ref();
        let display_name = domain::display_name("display_name", &req.display_name)?;
        let languages = req
            .languages
            .iter()
            .map(|l| Language::parse("languages", l))
            .collect::<Result<Vec<_>>>()?;
        let consent_on = wire::required_date("consent_on", req.consent_on.as_ref())?;
        if consent_on > Utc::now().date_naive() {
            return Err(RecruitmentError::invalid("consent_on", "is in the future").into());
        }
        let added = self
            .campaigns
            .add_ambassador(agency, display_name, languages, consent_on)
            .await?;
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
        let area = policy::officer(principal)?;
        let req = request.get_ref();
        let m = feed::municipality(self.db(), "municipality_nis", &req.municipality_nis).await?;
        within(&Scope::Agencies(area), &m, principal)?;
        let agency = m
            .agency
            .ok_or_else(|| RecruitmentError::invalid("municipality_nis", "is in Wallonia"))?;
        let plan = self
            .plans
            .create(m.nis, agency, wire::year("year", req.year)?)
            .await?;
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
        let m = feed::municipality(self.db(), "municipality_nis", &req.municipality_nis).await?;
        within(&scope, &m, principal)?;
        let year = wire::year("year", req.year)?;
        let plan = self
            .plans
            .find(m.nis, year)
            .await?
            .ok_or_else(|| RecruitmentError::NoPlan {
                nis: m.nis.to_string(),
                year,
            })?;
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
        let from = wire::month("from_month", req.from_month.as_ref())?;
        let to = wire::month("to_month", req.to_month.as_ref())?;
        if to < from {
            return Err(RecruitmentError::invalid(
                "to_month",
                format!("{}-{:02} is before from_month", to.year(), to.month()),
            )
            .into());
        }
        if from + Months::new(MAX_FUNNEL_MONTHS) <= to {
            return Err(RecruitmentError::invalid(
                "to_month",
                format!("a funnel spans at most {MAX_FUNNEL_MONTHS} months"),
            )
            .into());
        }
        let only = if req.municipality_nis.is_empty() {
            None
        } else {
            let m =
                feed::municipality(self.db(), "municipality_nis", &req.municipality_nis).await?;
            within(&scope, &m, principal)?;
            Some(m.nis.to_string())
        };
        let counts = funnel::counts(self.db(), &scope, only.as_deref(), from, to).await?;
        Ok(Response::new(pb::GetFunnelResponse {
            rows: funnel::rows(&counts),
        }))
    }
}
