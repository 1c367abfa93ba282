//! Loading and saving the trajectory aggregate through any connection (the pool, or a
//! consumer's or the sweep's transaction), and the breach table that makes a breach
//! publish once.

use chrono::{NaiveDate, Utc};
use platform::events::Outbox;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult, sea_query::Expr,
};
use uuid::Uuid;

use super::entities::{breach, fee, person, trajectory};
use crate::{
    TrajectoryError,
    domain::{
        Agency, Component, Contract, EffortDeclaration, ExemptionReason, Fee, FeeKind,
        Municipality, Nis, ObligationStatus, ParticipationWaiver, Progress, State, Trajectory,
        TrajectoryEvent,
    },
    events,
};

/// Turns a page of rows into trajectories, reading all their fees in one query.
pub(super) async fn with_fees<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<trajectory::Model>,
) -> Result<Vec<Trajectory>, TrajectoryError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut fees = fee::Entity::find()
        .filter(fee::Column::TrajectoryId.is_in(ids))
        .order_by_asc(fee::Column::Kind)
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                fees.drain(..).partition(|f| f.trajectory_id == row.id);
            fees = rest;
            to_domain(row, mine)
        })
        .collect()
}

/// Loads a trajectory with its contract and fees through `conn` (a pool or the
/// consumer's transaction).
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<Trajectory>, TrajectoryError> {
    // One round trip: the trajectory joined with its fees, a row per fee (one row with
    // no fee before the contract). Every command on a trajectory starts here.
    let fees_of: sea_orm::RelationDef = fee::Entity::belongs_to(trajectory::Entity)
        .from(fee::Column::TrajectoryId)
        .to(trajectory::Column::Id)
        .into();
    let mut rows = trajectory::Entity::find_by_id(id)
        .join(JoinType::LeftJoin, fees_of.rev())
        .select_also(fee::Entity)
        .order_by_asc(fee::Column::Kind)
        .all(conn)
        .await?
        .into_iter();
    let Some((row, first)) = rows.next() else {
        return Ok(None);
    };
    let fees = first
        .into_iter()
        .chain(rows.filter_map(|(_, fee)| fee))
        .collect();
    to_domain(row, fees).map(Some)
}

/// Writes the progress of `t` if nobody saved it since it was loaded, and stages
/// `events` (the caller commits); returns how many events it staged. An attest among
/// them starts the B1 follow-up, for which the person's birth date is read here.
pub async fn save_progress<C: ConnectionTrait>(
    conn: &C,
    outbox: &Outbox,
    t: &mut Trajectory,
    mut events: Vec<TrajectoryEvent>,
) -> Result<usize, TrajectoryError> {
    use trajectory::Column as C;
    if events
        .iter()
        .any(|e| matches!(e, TrajectoryEvent::AttestIssued { .. }))
    {
        let birth_date = person::Entity::find_by_id(t.person_id)
            .select_only()
            .column(person::Column::BirthDate)
            .into_tuple::<Option<chrono::NaiveDate>>()
            .one(conn)
            .await?
            .flatten();
        events.extend(t.start_b1_follow_up(birth_date));
    }
    let p = &t.progress;
    let updated = trajectory::Entity::update_many()
        .col_expr(C::Nt2CompletedOn, Expr::value(p.nt2_completed_on))
        .col_expr(C::MoCompletedOn, Expr::value(p.mo_completed_on))
        .col_expr(C::VdabRegisteredOn, Expr::value(p.vdab_registered_on))
        .col_expr(
            C::ParticipationHours,
            Expr::value(p.participation_hours as i32),
        )
        .col_expr(
            C::ParticipationCompletedOn,
            Expr::value(p.participation_completed_on),
        )
        .col_expr(
            C::ParticipationWaiver,
            Expr::value(p.participation_waiver.map(|w| w.as_str())),
        )
        .col_expr(C::AttestIssuedOn, Expr::value(p.attest_issued_on))
        .col_expr(C::Version, Expr::value(t.version + 1))
        .col_expr(C::B1DueBy, Expr::value(p.b1_due_by))
        .col_expr(C::B1ClosedOn, Expr::value(p.b1_closed_on))
        .col_expr(
            C::EffortDeclaredOn,
            Expr::value(p.effort_declaration.as_ref().map(|e| e.issued_on)),
        )
        .col_expr(
            C::EffortGrounds,
            Expr::value(p.effort_declaration.as_ref().map(|e| e.grounds.clone())),
        )
        .col_expr(C::State, Expr::value(t.state.as_str()))
        .col_expr(
            C::StateReason,
            Expr::value(match &t.state {
                State::Active => None,
                State::Suspended { reason, .. } | State::Stopped { reason, .. } => {
                    Some(reason.clone())
                }
            }),
        )
        .col_expr(
            C::StateSince,
            Expr::value(match &t.state {
                State::Active => None,
                State::Suspended { since, .. } | State::Stopped { since, .. } => Some(*since),
            }),
        )
        .filter(C::Id.eq(t.id))
        .filter(C::Version.eq(t.version));
    // A resumed trajectory's deadlines move (rules::deadline_after_suspension); without a
    // contract there are none to write (and none to erase).
    let updated = match &t.contract {
        Some(c) => updated
            .col_expr(C::Nt2Deadline, Expr::value(c.nt2_deadline))
            .col_expr(C::MoDeadline, Expr::value(c.mo_deadline))
            .col_expr(C::VdabDeadline, Expr::value(c.vdab_deadline))
            .col_expr(
                C::ParticipationDeadline,
                Expr::value(c.participation_deadline),
            ),
        None => updated,
    }
    .exec(conn)
    .await?;
    if updated.rows_affected != 1 {
        return Err(TrajectoryError::Conflict {
            trajectory_id: t.id,
        });
    }
    let events = record_breaches(conn, t.id, events).await?;
    events::stage(conn, outbox, t, &events).await?;
    t.version += 1;
    Ok(events.len())
}

/// Bumps the version of `t` if it is still the one loaded: a write that depends on the
/// whole loaded state without changing it (the deadline sweep) fails with `Conflict`
/// when anything changed meanwhile, and makes a concurrent save from the same read fail.
pub async fn claim_version<C: ConnectionTrait>(
    conn: &C,
    t: &Trajectory,
) -> Result<(), TrajectoryError> {
    let updated = trajectory::Entity::update_many()
        .col_expr(trajectory::Column::Version, Expr::value(t.version + 1))
        .filter(trajectory::Column::Id.eq(t.id))
        .filter(trajectory::Column::Version.eq(t.version))
        .exec(conn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(TrajectoryError::Conflict {
            trajectory_id: t.id,
        });
    }
    Ok(())
}

/// Records each `ObligationBreached` and `B1FollowUpOverdue` among `events` in the breach
/// table and keeps only those not recorded before: a breach is published once per
/// trajectory and component, whether the sweep or a late record found it first.
pub async fn record_breaches<C: ConnectionTrait>(
    conn: &C,
    trajectory_id: Uuid,
    events: Vec<TrajectoryEvent>,
) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
    let mut kept = Vec::with_capacity(events.len());
    for event in events {
        let missed = match &event {
            TrajectoryEvent::ObligationBreached {
                component,
                deadline,
            } => Some((component_key(*component), *deadline)),
            TrajectoryEvent::B1FollowUpOverdue { due_by } => Some((B1_FOLLOW_UP_KEY, *due_by)),
            _ => None,
        };
        if let Some((key, deadline)) = missed {
            let inserted = breach::Entity::insert(breach::ActiveModel {
                trajectory_id: Set(trajectory_id),
                component: Set(key.to_owned()),
                deadline: Set(deadline),
                recorded_at: Set(Utc::now()),
            })
            .on_conflict_do_nothing_on([breach::Column::TrajectoryId, breach::Column::Component])
            .exec_without_returning(conn)
            .await?;
            if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
                continue;
            }
        }
        kept.push(event);
    }
    Ok(kept)
}

/// How the breach table names an overdue B1 follow-up.
pub const B1_FOLLOW_UP_KEY: &str = "b1-follow-up";

/// How the breach table names a component.
pub fn component_key(component: Component) -> &'static str {
    match component {
        Component::Nt2 => "nt2",
        Component::Mo => "mo",
        Component::EconomicSelfReliance => "economic-self-reliance",
        Component::Participation => "participation",
    }
}

fn to_domain(row: trajectory::Model, fees: Vec<fee::Model>) -> Result<Trajectory, TrajectoryError> {
    let corrupt = |what: &str| TrajectoryError::Corrupt(format!("trajectory {}: {what}", row.id));
    let municipality = Municipality::new(
        Nis::parse("municipality_nis", &row.municipality_nis)
            .map_err(|_| corrupt("municipality"))?,
        Agency::from_alias(&row.agency).ok_or_else(|| corrupt("agency"))?,
    );
    let status = ObligationStatus::from_stored(&row.status).ok_or_else(|| corrupt("status"))?;
    let exemption = row
        .exemption_reason
        .as_deref()
        .map(|e| ExemptionReason::from_stored(e).ok_or_else(|| corrupt("exemption")))
        .transpose()?;
    let contract = match row.contract_signed_on {
        None => None,
        Some(signed_on) => {
            let date = |d: Option<NaiveDate>| d.ok_or_else(|| corrupt("contract deadline"));
            Some(Contract {
                signed_on,
                nt2_deadline: date(row.nt2_deadline)?,
                mo_deadline: date(row.mo_deadline)?,
                vdab_deadline: date(row.vdab_deadline)?,
                participation_deadline: row.participation_deadline,
                rights_and_duties_clause: row.rights_and_duties_clause,
                fees: fees
                    .iter()
                    .map(|f| {
                        Ok(Fee {
                            kind: FeeKind::from_stored(&f.kind)
                                .ok_or_else(|| corrupt("fee kind"))?,
                            cents: f.amount_cents,
                        })
                    })
                    .collect::<Result<_, TrajectoryError>>()?,
            })
        }
    };
    let participation_waiver = row
        .participation_waiver
        .as_deref()
        .map(|w| ParticipationWaiver::from_stored(w).ok_or_else(|| corrupt("participation waiver")))
        .transpose()?;
    Ok(Trajectory {
        id: row.id,
        person_id: row.person_id,
        municipality,
        status,
        exemption,
        started_on: row.started_on,
        contract,
        progress: Progress {
            nt2_completed_on: row.nt2_completed_on,
            mo_completed_on: row.mo_completed_on,
            vdab_registered_on: row.vdab_registered_on,
            participation_hours: <u32 as TryFrom<i32>>::try_from(row.participation_hours)
                .map_err(|_| corrupt("participation hours"))?,
            participation_completed_on: row.participation_completed_on,
            participation_waiver,
            attest_issued_on: row.attest_issued_on,
            b1_due_by: row.b1_due_by,
            b1_closed_on: row.b1_closed_on,
            effort_declaration: match (row.effort_declared_on, row.effort_grounds) {
                (Some(issued_on), Some(grounds)) => Some(EffortDeclaration { issued_on, grounds }),
                (None, None) => None,
                _ => return Err(corrupt("declaration of effort")),
            },
        },
        state: match (row.state.as_str(), row.state_reason, row.state_since) {
            ("active", _, _) => State::Active,
            ("suspended", Some(reason), Some(since)) => State::Suspended { reason, since },
            ("stopped", Some(reason), Some(since)) => State::Stopped { reason, since },
            _ => return Err(corrupt("state")),
        },
        imported_on: row.imported_on,
        version: row.version,
    })
}
