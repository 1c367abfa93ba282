//! Writes and reads of a municipality's partnership: contacts, agreements with the agency,
//! local integration plans with their actions.

use chrono::Utc;
use platform::db::BeginWrite as _;
use platform::{Agency, Nis};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::{
    MunicipalitiesError,
    domain::{ActionStatus, Agreement, Contact, LocalPlan, stored_nis},
    store::{agreement, contact, local_plan, plan_action},
};

fn to_contact(row: contact::Model) -> Result<Contact, MunicipalitiesError> {
    Ok(Contact {
        id: row.id,
        nis: stored_nis(&row.nis)?,
        function: row.function,
        work_email: row.work_email,
    })
}

pub async fn add_contact(
    db: &DatabaseConnection,
    nis: Nis,
    function: String,
    work_email: String,
) -> Result<Contact, MunicipalitiesError> {
    let row = contact::ActiveModel {
        id: Set(Uuid::now_v7()),
        nis: Set(nis.to_string()),
        function: Set(function),
        work_email: Set(work_email),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    to_contact(row)
}

pub async fn contact(
    db: &DatabaseConnection,
    contact_id: Uuid,
) -> Result<Option<Contact>, MunicipalitiesError> {
    contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .map(to_contact)
        .transpose()
}

pub async fn remove_contact(
    db: &DatabaseConnection,
    contact_id: Uuid,
) -> Result<(), MunicipalitiesError> {
    contact::Entity::delete_by_id(contact_id).exec(db).await?;
    Ok(())
}

pub async fn contacts(
    db: &DatabaseConnection,
    nis: Nis,
) -> Result<Vec<Contact>, MunicipalitiesError> {
    contact::Entity::find()
        .filter(contact::Column::Nis.eq(nis.to_string()))
        .order_by_asc(contact::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_contact)
        .collect()
}

fn to_agreement(row: agreement::Model) -> Result<Agreement, MunicipalitiesError> {
    Ok(Agreement {
        id: row.id,
        nis: stored_nis(&row.nis)?,
        agency: Agency::from_alias(&row.agency)
            .ok_or_else(|| MunicipalitiesError::Corrupt(format!("agreement {} agency", row.id)))?,
        subject: row.subject,
        signed_on: row.signed_on,
        valid_until: row.valid_until,
    })
}

pub async fn record_agreement(
    db: &DatabaseConnection,
    new: Agreement,
) -> Result<Agreement, MunicipalitiesError> {
    let row = agreement::ActiveModel {
        id: Set(new.id),
        nis: Set(new.nis.to_string()),
        agency: Set(new.agency.as_str().to_owned()),
        subject: Set(new.subject),
        signed_on: Set(new.signed_on),
        valid_until: Set(new.valid_until),
    }
    .insert(db)
    .await?;
    to_agreement(row)
}

pub async fn agreements(
    db: &DatabaseConnection,
    nis: Nis,
) -> Result<Vec<Agreement>, MunicipalitiesError> {
    agreement::Entity::find()
        .filter(agreement::Column::Nis.eq(nis.to_string()))
        .order_by_asc(agreement::Column::SignedOn)
        .order_by_asc(agreement::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_agreement)
        .collect()
}

/// The municipality of an existing plan, if there is one.
pub async fn plan_municipality(
    db: &DatabaseConnection,
    plan_id: Uuid,
) -> Result<Option<Nis>, MunicipalitiesError> {
    local_plan::Entity::find_by_id(plan_id)
        .one(db)
        .await?
        .map(|p| stored_nis(&p.nis))
        .transpose()
}

/// Creates or replaces a plan and its actions in one transaction; returns its id and the
/// Refuses a `plan_id` that names no plan of the municipality `nis`; none is a new plan.
pub async fn require_plan(
    db: &DatabaseConnection,
    plan_id: Option<Uuid>,
    nis: Nis,
) -> Result<(), MunicipalitiesError> {
    match plan_id {
        Some(plan_id) if plan_municipality(db, plan_id).await? != Some(nis) => {
            Err(MunicipalitiesError::PlanNotFound { plan_id })
        }
        _ => Ok(()),
    }
}

/// ids of its actions, in order.
pub async fn save_plan(
    db: &DatabaseConnection,
    plan: &LocalPlan,
) -> Result<(Uuid, Vec<Uuid>), MunicipalitiesError> {
    let txn = db.begin_write().await?;
    let id = match plan.id {
        Some(id) => {
            local_plan::ActiveModel {
                id: Set(id),
                nis: Set(plan.nis.to_string()),
                title: Set(plan.title.clone()),
                from_year: Set(plan.from_year),
                to_year: Set(plan.to_year),
            }
            .update(&txn)
            .await?;
            id
        }
        None => {
            local_plan::ActiveModel {
                id: Set(Uuid::now_v7()),
                nis: Set(plan.nis.to_string()),
                title: Set(plan.title.clone()),
                from_year: Set(plan.from_year),
                to_year: Set(plan.to_year),
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    let existing: Vec<Uuid> = plan_action::Entity::find()
        .filter(plan_action::Column::PlanId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    if let Some(unknown) = plan
        .actions
        .iter()
        .filter_map(|(a, _, _)| *a)
        .find(|a| !existing.contains(a))
    {
        return Err(MunicipalitiesError::invalid(
            "actions.action_id",
            format!("{unknown} is not an action of this plan"),
        ));
    }
    plan_action::Entity::delete_many()
        .filter(plan_action::Column::PlanId.eq(id))
        .exec(&txn)
        .await?;
    let mut ids = Vec::with_capacity(plan.actions.len());
    for (position, (action_id, description, status)) in plan.actions.iter().enumerate() {
        let action_id = action_id.unwrap_or_else(Uuid::now_v7);
        plan_action::ActiveModel {
            id: Set(action_id),
            plan_id: Set(id),
            position: Set(position as i32),
            description: Set(description.clone()),
            status: Set(status.as_str().to_owned()),
        }
        .insert(&txn)
        .await?;
        ids.push(action_id);
    }
    txn.commit().await?;
    Ok((id, ids))
}

/// A municipality's plans, each with its actions and their ids.
pub async fn plans(
    db: &DatabaseConnection,
    nis_code: Nis,
) -> Result<Vec<(Uuid, LocalPlan, Vec<Uuid>)>, MunicipalitiesError> {
    let rows = local_plan::Entity::find()
        .filter(local_plan::Column::Nis.eq(nis_code.to_string()))
        .order_by_asc(local_plan::Column::FromYear)
        .order_by_asc(local_plan::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let actions = plan_action::Entity::find()
            .filter(plan_action::Column::PlanId.eq(row.id))
            .order_by_asc(plan_action::Column::Position)
            .all(db)
            .await?;
        let ids = actions.iter().map(|a| a.id).collect();
        let actions = actions
            .into_iter()
            .map(|a| {
                let status = ActionStatus::from_stored(&a.status).ok_or_else(|| {
                    MunicipalitiesError::Corrupt(format!("action {} status", a.id))
                })?;
                Ok((Some(a.id), a.description, status))
            })
            .collect::<Result<_, MunicipalitiesError>>()?;
        out.push((
            row.id,
            LocalPlan {
                id: Some(row.id),
                nis: stored_nis(&row.nis)?,
                title: row.title,
                from_year: row.from_year,
                to_year: row.to_year,
                actions,
            },
            ids,
        ));
    }
    Ok(out)
}
