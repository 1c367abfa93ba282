//! Local recruitment plans: what an agency and a municipality agreed for a year, as
//! actions with an owner, a status and dates.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    RecruitmentError,
    domain::{ActionStatus, Agency, Nis},
    store::{local_plan, plan_action},
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

/// The plans of the service.
#[derive(Debug, Clone)]
pub struct Plans {
    db: DatabaseConnection,
}

impl Plans {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates the plan of `nis` for `year`; one per municipality and year.
    pub async fn create(&self, nis: Nis, agency: Agency, year: i32) -> Result<local_plan::Model> {
        if let Some(existing) = self.find(nis, year).await? {
            return Err(RecruitmentError::PlanExists {
                nis: nis.to_string(),
                year,
                plan_id: existing.id,
            });
        }
        let row = local_plan::Model {
            id: Uuid::now_v7(),
            nis: nis.to_string(),
            year,
            agency: agency.as_str().to_owned(),
        };
        match local_plan::Entity::insert(local_plan::ActiveModel::from(row.clone()))
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => Ok(row),
            // Created at the same moment by someone else: the unique index decided.
            Err(e) if e.to_string().to_lowercase().contains("unique") => {
                let winner = self
                    .find(nis, year)
                    .await?
                    .ok_or(RecruitmentError::Database(e))?;
                Err(RecruitmentError::PlanExists {
                    nis: nis.to_string(),
                    year,
                    plan_id: winner.id,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn find(&self, nis: Nis, year: i32) -> Result<Option<local_plan::Model>> {
        Ok(local_plan::Entity::find()
            .filter(Expr::col(local_plan::Column::Nis).eq(nis.to_string()))
            .filter(Expr::col(local_plan::Column::Year).eq(year))
            .one(&self.db)
            .await?)
    }

    /// The plan of `nis` for `year`; none is [`RecruitmentError::NoPlan`].
    pub async fn of(&self, nis: Nis, year: i32) -> Result<local_plan::Model> {
        self.find(nis, year)
            .await?
            .ok_or_else(|| RecruitmentError::NoPlan {
                nis: nis.to_string(),
                year,
            })
    }

    pub async fn get(&self, id: Uuid) -> Result<local_plan::Model> {
        local_plan::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(RecruitmentError::PlanNotFound { plan_id: id })
    }

    pub async fn actions(&self, plan_id: Uuid) -> Result<Vec<plan_action::Model>> {
        Ok(plan_action::Entity::find()
            .filter(Expr::col(plan_action::Column::PlanId).eq(plan_id))
            .order_by_asc(plan_action::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn add_action(
        &self,
        plan_id: Uuid,
        description: String,
        owner: String,
        due_on: Option<NaiveDate>,
    ) -> Result<()> {
        plan_action::Entity::insert(plan_action::ActiveModel::from(plan_action::Model {
            id: Uuid::now_v7(),
            plan_id,
            description,
            owner,
            status: ActionStatus::Planned.as_str().to_owned(),
            due_on,
            done_on: None,
        }))
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Sets an action's status; done records the day, any other status clears it.
    pub async fn set_status(
        &self,
        plan_id: Uuid,
        action_id: Uuid,
        status: ActionStatus,
    ) -> Result<()> {
        let done_on = (status == ActionStatus::Done).then(|| Utc::now().date_naive());
        let updated = plan_action::Entity::update_many()
            .col_expr(plan_action::Column::Status, Expr::val(status.as_str()))
            .col_expr(plan_action::Column::DoneOn, Expr::val(done_on))
            .filter(Expr::col(plan_action::Column::Id).eq(action_id))
            .filter(Expr::col(plan_action::Column::PlanId).eq(plan_id))
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(RecruitmentError::ActionNotFound { plan_id, action_id });
        }
        Ok(())
    }
}
