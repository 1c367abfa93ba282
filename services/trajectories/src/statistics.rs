//! The Brussels figures parliament asks for (issue 12), computed from the data for a
//! period whose first and last day both count; each person counts once per figure.
//! Role `monitor`: counts only, no person.

use chrono::NaiveDate;
use proto::trajectories::v1 as pb;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Select,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::{
    TrajectoryError,
    store::{brussels_newcomer, ggc_registration, trajectory},
};

/// The figures of one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    pub bon_contracts: i64,
    pub bon_contracts_obliged: i64,
    pub bon_attests: i64,
    pub bon_attests_obliged: i64,
    pub dutch_ggc_trajectories: i64,
    pub obliged_not_registered: i64,
}

impl Figures {
    /// The figures as the service answers them.
    pub fn response(&self) -> pb::GetBrusselsFiguresResponse {
        pb::GetBrusselsFiguresResponse {
            bon_contracts: self.bon_contracts,
            bon_contracts_obliged: self.bon_contracts_obliged,
            bon_attests: self.bon_attests,
            bon_attests_obliged: self.bon_attests_obliged,
            dutch_ggc_trajectories: self.dutch_ggc_trajectories,
            obliged_not_registered: self.obliged_not_registered,
        }
    }
}

async fn persons<E: EntityTrait>(
    db: &DatabaseConnection,
    q: Select<E>,
    person: E::Column,
) -> Result<i64, TrajectoryError> {
    let n: Option<i64> = q
        .select_only()
        .column_as(Expr::col(person).count_distinct(), "n")
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0))
}

/// The Brussels figures from `from` to `to`, both included.
pub async fn brussels(
    db: &DatabaseConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Figures, TrajectoryError> {
    use trajectory::Column as T;
    let bon = || trajectory::Entity::find().filter(T::Agency.eq("bon"));
    let contracts = || bon().filter(T::ContractSignedOn.between(from, to));
    let attests = || bon().filter(T::AttestIssuedOn.between(from, to));
    let obliged = T::Status.eq("obliged");
    let started_by_then = Query::select()
        .column(T::PersonId)
        .from(trajectory::Entity)
        .and_where(Expr::col(T::Agency).eq("bon"))
        .and_where(Expr::col(T::StartedOn).lte(to))
        .to_owned();
    let reported_by_then = Query::select()
        .column(ggc_registration::Column::PersonId)
        .from(ggc_registration::Entity)
        .and_where(Expr::col(ggc_registration::Column::RegisteredOn).lte(to))
        .to_owned();
    use brussels_newcomer::Column as N;
    Ok(Figures {
        bon_contracts: persons(db, contracts(), T::PersonId).await?,
        bon_contracts_obliged: persons(db, contracts().filter(obliged.clone()), T::PersonId)
            .await?,
        bon_attests: persons(db, attests(), T::PersonId).await?,
        bon_attests_obliged: persons(db, attests().filter(obliged), T::PersonId).await?,
        dutch_ggc_trajectories: persons(
            db,
            ggc_registration::Entity::find()
                .filter(ggc_registration::Column::Language.eq("dutch"))
                .filter(ggc_registration::Column::RegisteredOn.between(from, to)),
            ggc_registration::Column::PersonId,
        )
        .await?,
        obliged_not_registered: persons(
            db,
            brussels_newcomer::Entity::find()
                .filter(N::Obliged.eq(true))
                .filter(N::RegisteredOn.between(from, to))
                .filter(Expr::col(N::PersonId).not_in_subquery(started_by_then))
                .filter(Expr::col(N::PersonId).not_in_subquery(reported_by_then)),
            N::PersonId,
        )
        .await?,
    })
}

/// The Brussels figures, read from the service's database.
#[derive(Debug, Clone)]
pub struct Statistics {
    db: DatabaseConnection,
}

impl Statistics {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The Brussels figures from `from` to `to`, both included.
    pub async fn brussels(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Figures, TrajectoryError> {
        brussels(&self.db, from, to).await
    }
}
