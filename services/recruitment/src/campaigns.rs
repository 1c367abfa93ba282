//! Campaigns (target groups, channels, period), referrals with their referrer, and the
//! ambassadors who tell their story, with consent. Each belongs to the agency that made
//! it; an officer sees those of the agencies of their area.

use chrono::Utc;
use platform::db::BeginWrite as _;
use platform::{events::Outbox, paging::Page};
use proto::recruitment::v1 as pb;
use sea_orm::{
    ActiveValue::Set,
    DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
    RecruitmentError, convert,
    domain::{Agency, NewAmbassador, NewCampaign, NewReferral},
    store::{ambassador, attribution, campaign, referral, registration},
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

/// The campaigns, referrals and ambassadors of the service.
#[derive(Debug, Clone)]
pub struct Campaigns {
    db: DatabaseConnection,
    outbox: Outbox,
}

impl Campaigns {
    pub fn new(db: DatabaseConnection, outbox: Outbox) -> Self {
        Self { db, outbox }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Launches a campaign of `agency`, with its `CampaignLaunched`.
    pub async fn launch(
        &self,
        agency: Agency,
        new: NewCampaign,
        by: &str,
    ) -> Result<campaign::Model> {
        let row = campaign::Model {
            id: Uuid::now_v7(),
            agency: agency.as_str().to_owned(),
            name: new.name,
            target_groups: new.target_groups.join(","),
            channels: new.channels.join(","),
            starts_on: new.starts_on,
            ends_on: new.ends_on,
            municipalities: new.municipalities.join(","),
            created_by: by.to_owned(),
        };
        let txn = self.db.begin_write().await?;
        campaign::Entity::insert(campaign::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await?;
        self.outbox
            .stage(
                &txn,
                &row.id.to_string(),
                &pb::CampaignLaunched {
                    campaign: Some(convert::campaign(&row)),
                },
            )
            .await?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(campaign_id = %row.id, "campaign launched");
        Ok(row)
    }

    /// The campaigns of `agencies`, in the order they were launched.
    pub async fn list(
        &self,
        agencies: &[Agency],
        page: Page,
    ) -> Result<(Vec<campaign::Model>, String)> {
        let mut q = campaign::Entity::find()
            .filter(Expr::col(campaign::Column::Agency).is_in(agencies.iter().map(|a| a.as_str())))
            .order_by_asc(campaign::Column::Id);
        if let Some(after) = page.after {
            q = q.filter(Expr::col(campaign::Column::Id).gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |r| r.id);
        Ok((rows, next))
    }

    /// A campaign of one of `agencies`; another agency's is not found.
    pub async fn campaign(&self, agencies: &[Agency], id: Uuid) -> Result<campaign::Model> {
        campaign::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|c| Agency::from_alias(&c.agency).is_some_and(|a| agencies.contains(&a)))
            .ok_or(RecruitmentError::CampaignNotFound { campaign_id: id })
    }

    /// Whether recruitment knows `person_id` as a newcomer in one of `agencies`' area.
    pub async fn knows(&self, agencies: &[Agency], person_id: Uuid) -> Result<bool> {
        Ok(registration::Entity::find()
            .filter(Expr::col(registration::Column::PersonId).eq(person_id))
            .filter(
                Expr::col(registration::Column::Agency).is_in(agencies.iter().map(|a| a.as_str())),
            )
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Records `new` for `agency` once its ambassador consents and its campaign and
    /// person are known in `area`.
    pub async fn record(
        &self,
        agency: Agency,
        area: &[Agency],
        new: NewReferral,
    ) -> Result<(referral::Model, bool)> {
        if let Some(id) = new.ambassador {
            self.consenting_ambassador(area, id).await?;
        }
        if let Some(id) = new.campaign_id {
            self.campaign(area, id).await?;
        }
        let person_id = new.person_id;
        if !self.knows(area, person_id).await? {
            return Err(RecruitmentError::PersonNotFound { person_id });
        }
        let row = referral::Model {
            id: Uuid::now_v7(),
            person_id,
            agency: agency.as_str().to_owned(),
            referrer_kind: new.referrer_kind,
            referrer_name: new.referrer_name,
            campaign_id: new.campaign_id,
            referred_on: new.referred_on,
            gpmi_condition: new.gpmi_condition,
        };
        self.refer(agency, row).await
    }

    /// Records a referral once per person and referrer; the first through a campaign
    /// decides the person's campaign in the funnel.
    pub async fn refer(
        &self,
        agency: Agency,
        row: referral::Model,
    ) -> Result<(referral::Model, bool)> {
        use referral::Column as C;
        let txn = self.db.begin_write().await?;
        let inserted = referral::Entity::insert(referral::ActiveModel::from(referral::Model {
            agency: agency.as_str().to_owned(),
            ..row.clone()
        }))
        .on_conflict(
            OnConflict::columns([C::Agency, C::PersonId, C::ReferrerKind, C::ReferrerName])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted == 0 {
            let existing = referral::Entity::find()
                .filter(Expr::col(C::Agency).eq(agency.as_str()))
                .filter(Expr::col(C::PersonId).eq(row.person_id))
                .filter(Expr::col(C::ReferrerKind).eq(row.referrer_kind.clone()))
                .filter(Expr::col(C::ReferrerName).eq(row.referrer_name.clone()))
                .one(&txn)
                .await?
                .ok_or_else(|| RecruitmentError::Corrupt("a referral vanished".into()))?;
            return Ok((existing, false));
        }
        if let Some(campaign_id) = row.campaign_id {
            attribution::Entity::insert(attribution::ActiveModel {
                person_id: Set(row.person_id),
                campaign_id: Set(campaign_id),
            })
            .on_conflict(
                OnConflict::column(attribution::Column::PersonId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        let stored = referral::Model {
            agency: agency.as_str().to_owned(),
            ..row
        };
        self.outbox
            .stage(
                &txn,
                &stored.person_id.to_string(),
                &pb::ReferralRecorded {
                    referral: Some(convert::referral(&stored)),
                },
            )
            .await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok((stored, true))
    }

    pub async fn add_ambassador(
        &self,
        agency: Agency,
        new: NewAmbassador,
    ) -> Result<ambassador::Model> {
        let row = ambassador::Model {
            id: Uuid::now_v7(),
            agency: agency.as_str().to_owned(),
            display_name: Some(new.display_name),
            languages: new
                .languages
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(","),
            consent_on: new.consent_on,
            withdrawn_on: None,
        };
        ambassador::Entity::insert(ambassador::ActiveModel::from(row.clone()))
            .exec_without_returning(&self.db)
            .await?;
        Ok(row)
    }

    /// An ambassador of `agencies` who still consents; others are not found.
    pub async fn consenting_ambassador(&self, agencies: &[Agency], id: Uuid) -> Result<()> {
        ambassador::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|a| a.withdrawn_on.is_none())
            .filter(|a| Agency::from_alias(&a.agency).is_some_and(|x| agencies.contains(&x)))
            .map(|_| ())
            .ok_or(RecruitmentError::AmbassadorNotFound { ambassador_id: id })
    }

    /// Withdraws consent: the name and languages are erased, the dates stay.
    pub async fn withdraw(&self, agencies: &[Agency], id: Uuid) -> Result<ambassador::Model> {
        let found = ambassador::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|a| Agency::from_alias(&a.agency).is_some_and(|x| agencies.contains(&x)))
            .ok_or(RecruitmentError::AmbassadorNotFound { ambassador_id: id })?;
        if found.withdrawn_on.is_some() {
            return Err(RecruitmentError::ConsentWithdrawn { ambassador_id: id });
        }
        let today = Utc::now().date_naive();
        let updated = ambassador::Entity::update_many()
            .col_expr(
                ambassador::Column::DisplayName,
                Expr::val(Option::<String>::None),
            )
            .col_expr(ambassador::Column::Languages, Expr::val(""))
            .col_expr(ambassador::Column::WithdrawnOn, Expr::val(today))
            .filter(Expr::col(ambassador::Column::Id).eq(id))
            .filter(Expr::col(ambassador::Column::WithdrawnOn).is_null())
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(RecruitmentError::ConsentWithdrawn { ambassador_id: id });
        }
        Ok(ambassador::Model {
            display_name: None,
            languages: String::new(),
            withdrawn_on: Some(today),
            ..found
        })
    }

    pub async fn ambassadors(
        &self,
        agencies: &[Agency],
        page: Page,
    ) -> Result<(Vec<ambassador::Model>, String)> {
        let mut q = ambassador::Entity::find()
            .filter(
                Expr::col(ambassador::Column::Agency).is_in(agencies.iter().map(|a| a.as_str())),
            )
            .order_by_asc(ambassador::Column::Id);
        if let Some(after) = page.after {
            q = q.filter(Expr::col(ambassador::Column::Id).gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |r| r.id);
        Ok((rows, next))
    }
}
