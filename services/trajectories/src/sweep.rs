//! The deadline sweep: finds obliged people whose contract deadline passed (plus the grace
//! period of `rules::BREACH_GRACE_DAYS`) with the component still open, or whose B1
//! follow-up is still open after its 24 months, and publishes `ObligationBreached` or
//! `B1FollowUpOverdue` once per trajectory and component.
//!
//! It runs on a schedule in every replica. The breach table's primary key makes a breach
//! publish once however many sweeps, replicas or late records find it; each trajectory is
//! swept in a transaction of its own, so one bad row never blocks the others.

use chrono::{Days, NaiveDate};
use platform::db::BeginWrite as _;
use platform::events::Outbox;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{
    TrajectoryError,
    domain::{Component, ObligationStatus},
    rules,
    store::{self, B1_FOLLOW_UP_KEY, breach, component_key, trajectory},
};

/// Trajectories read per query.
const BATCH: u64 = 200;

/// The job's name in logs, spans and metrics.
pub const JOB: &str = "breach-sweep";

/// One sweep as of `today`; returns how many breaches it published.
pub async fn run_once(
    db: &DatabaseConnection,
    outbox: &Outbox,
    today: NaiveDate,
) -> Result<u64, TrajectoryError> {
    let mut published = 0;
    let mut failed = 0u64;
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = trajectory::Entity::find()
            .select_only()
            .column(trajectory::Column::Id)
            .filter(candidates(today));
        if let Some(after) = after {
            query = query.filter(trajectory::Column::Id.gt(after));
        }
        let ids: Vec<Uuid> = query
            .order_by_asc(trajectory::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        for id in &ids {
            // One trajectory that cannot be swept (a lock timeout, a corrupt row) must not
            // keep the sweep from every trajectory after it.
            match sweep_one(db, outbox, *id, today).await {
                Ok(n) => published += n,
                Err(TrajectoryError::Conflict { .. }) => {
                    tracing::info!(trajectory_id = %id, "changed while swept; the next run looks again");
                }
                Err(error) => {
                    failed += 1;
                    tracing::warn!(trajectory_id = %id, %error, "trajectory not swept");
                }
            }
        }
        if (ids.len() as u64) < BATCH {
            if failed > 0 {
                return Err(TrajectoryError::Corrupt(format!(
                    "{failed} trajectories could not be swept ({published} breaches published)"
                )));
            }
            return Ok(published);
        }
        after = ids.last().copied();
    }
}

/// Publishes the breaches of one trajectory in one transaction.
async fn sweep_one(
    db: &DatabaseConnection,
    outbox: &Outbox,
    id: Uuid,
    today: NaiveDate,
) -> Result<u64, TrajectoryError> {
    let txn = db.begin_write().await?;
    let Some(t) = store::load(&txn, id).await? else {
        return Ok(0);
    };
    let missed = t.missed_deadlines(today);
    if missed.is_empty() {
        return Ok(0);
    }
    // Claims the version it read: a registration, result or suspension committed since
    // then makes this a conflict instead of a breach the trajectory no longer has.
    store::claim_version(&txn, &t).await?;
    let fresh = store::record_breaches(&txn, t.id, missed).await?;
    if fresh.is_empty() {
        return Ok(0);
    }
    crate::events::stage(&txn, outbox, &t, &fresh).await?;
    txn.commit().await?;
    outbox.committed();
    tracing::info!(trajectory_id = %t.id, breaches = fresh.len(), "obligation breached");
    Ok(fresh.len() as u64)
}

/// Active, obliged trajectories with something past its deadline and grace period and no
/// breach for it yet: an open component of a signed contract without attest, declaration
/// or exemption, or an open B1 follow-up. The domain decides again on the loaded
/// trajectory; this only keeps the scan small.
fn candidates(today: NaiveDate) -> Condition {
    use trajectory::Column as C;
    let cutoff = today
        .checked_sub_days(Days::new(rules::BREACH_GRACE_DAYS))
        .unwrap_or(today);
    let not_breached = |key: &'static str| {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(breach::Entity)
                .and_where(
                    Expr::col((breach::Entity, breach::Column::TrajectoryId))
                        .equals((trajectory::Entity, C::Id)),
                )
                .and_where(Expr::col((breach::Entity, breach::Column::Component)).eq(key))
                .to_owned(),
        )
        .not()
    };
    // A deadline that passed before the trajectory was imported is history (design §4).
    let after_import = |deadline: C| {
        Condition::any().add(C::ImportedOn.is_null()).add(
            Expr::col((trajectory::Entity, deadline))
                .gte(Expr::col((trajectory::Entity, C::ImportedOn))),
        )
    };
    let missed = |done: C, deadline: C, component: Component| {
        Condition::all()
            .add(done.is_null())
            .add(deadline.lt(cutoff))
            .add(after_import(deadline))
            .add(not_breached(component_key(component)))
    };
    let contract = Condition::all()
        .add(C::ExemptionReason.is_null())
        .add(C::ContractSignedOn.is_not_null())
        .add(C::AttestIssuedOn.is_null())
        .add(C::EffortDeclaredOn.is_null())
        .add(
            Condition::any()
                .add(missed(C::Nt2CompletedOn, C::Nt2Deadline, Component::Nt2))
                .add(missed(C::MoCompletedOn, C::MoDeadline, Component::Mo))
                .add(missed(
                    C::VdabRegisteredOn,
                    C::VdabDeadline,
                    Component::EconomicSelfReliance,
                ))
                .add(
                    missed(
                        C::ParticipationCompletedOn,
                        C::ParticipationDeadline,
                        Component::Participation,
                    )
                    .add(C::ParticipationWaiver.is_null()),
                ),
        );
    let b1 = Condition::all()
        .add(C::B1ClosedOn.is_null())
        .add(C::B1DueBy.lt(cutoff))
        .add(after_import(C::B1DueBy))
        .add(not_breached(B1_FOLLOW_UP_KEY));
    Condition::all()
        .add(C::State.eq("active"))
        .add(C::Status.eq(ObligationStatus::Obliged.as_str()))
        .add(Condition::any().add(contract).add(b1))
}
