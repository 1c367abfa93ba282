//! The Brussels partner exchange (issue 12): the GGC reports its registrations, reads
//! Bon's; the Huis van het Nederlands Brussel reads the Dutch-language route's referrals;
//! a Bon case worker sees the reports that contradict a contract; a platform-admin reads
//! the audit. Every exchange writes one `exchange_audit` row with the persons concerned,
//! in the transaction of what it records. Nothing here is logged but ids.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use platform::{Principal, db::BeginWrite as _, paging::Page};
use proto::trajectories::v1 as pb;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    TrajectoryError,
    domain::NationalNumber,
    rules,
    store::{brussels_newcomer, exchange_audit, ggc_registration, person, trajectory},
};

type Result<T, E = TrajectoryError> = std::result::Result<T, E>;

/// The organisation of the Brussels Common Community Commission.
pub const GGC: &str = "ggc";
/// The organisation of the Huis van het Nederlands Brussel.
pub const HUIS_NL: &str = "huis-nl-brussel";

fn language(stored: &str) -> i32 {
    match stored {
        "dutch" => pb::GgcLanguage::Dutch as i32,
        "french" => pb::GgcLanguage::French as i32,
        _ => pb::GgcLanguage::Unspecified as i32,
    }
}

/// Writes the audit row of one exchange.
async fn audit<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    purpose: &str,
    persons: &[Uuid],
) -> Result<()> {
    exchange_audit::Entity::insert(exchange_audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        caller: Set(principal.subject.clone()),
        organisation: Set(principal.organisation.alias.clone()),
        purpose: Set(purpose.to_owned()),
        person_ids: Set(persons
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",")),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The exchange with the Brussels partners.
#[derive(Debug, Clone)]
pub struct Exchange {
    db: DatabaseConnection,
}

impl Exchange {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Records a GGC registration of `number` unless it is the same report again.
    pub async fn report(
        &self,
        principal: &Principal,
        number: &NationalNumber,
        registered_on: NaiveDate,
        lang: &'static str,
    ) -> Result<pb::ReportGgcRegistrationResponse> {
        // A refused report is audited too: the answer itself tells the GGC something.
        let refuse = |persons: Vec<Uuid>, e: TrajectoryError| async move {
            audit(&self.db, principal, "ggc-registration-refused", &persons).await?;
            Err::<pb::ReportGgcRegistrationResponse, _>(e)
        };
        let Some(person) = person::Entity::find()
            .filter(person::Column::NationalNumber.eq(number.digits()))
            .one(&self.db)
            .await?
        else {
            return refuse(Vec::new(), TrajectoryError::NotInBrussels).await;
        };
        let own = trajectory::Entity::find()
            .filter(trajectory::Column::PersonId.eq(person.id))
            .one(&self.db)
            .await?;
        let in_brussels_trajectory = |t: &trajectory::Model| {
            t.municipality_nis
                .parse::<u32>()
                .is_ok_and(|n| rules::BRUSSELS_NIS.contains(&n))
        };
        if own.as_ref().is_some_and(|t| !in_brussels_trajectory(t)) {
            return refuse(vec![person.id], TrajectoryError::FlemishResident).await;
        }
        let registered_in_brussels = brussels_newcomer::Entity::find_by_id(person.id)
            .one(&self.db)
            .await?
            .is_some();
        if own.is_none() && !registered_in_brussels {
            return refuse(vec![person.id], TrajectoryError::NotInBrussels).await;
        }
        let conflict = own.filter(|t| t.agency == "bon" && t.contract_signed_on.is_some());
        let txn = self.db.begin_write().await?;
        use ggc_registration::Column as C;
        let inserted = ggc_registration::Entity::insert(ggc_registration::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(person.id),
            registered_on: Set(registered_on),
            language: Set(lang.to_owned()),
            reported_at: Set(Utc::now()),
            reported_by: Set(principal.organisation.alias.clone()),
            conflicting_trajectory_id: Set(conflict.as_ref().map(|t| t.id)),
            conflicting_contract_signed_on: Set(conflict
                .as_ref()
                .and_then(|t| t.contract_signed_on)),
        })
        .on_conflict(
            OnConflict::columns([C::PersonId, C::RegisteredOn, C::Language])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        audit(&txn, principal, "ggc-registration", &[person.id]).await?;
        txn.commit().await?;
        let recorded = inserted > 0;
        tracing::info!(person_id = %person.id, recorded, flagged = conflict.is_some(), "ggc registration reported");
        Ok(pb::ReportGgcRegistrationResponse {
            person_id: person.id.to_string(),
            recorded,
            flagged: conflict.is_some(),
        })
    }

    /// One page of Bon's obliged trajectories started from `from` to `to`, for the GGC.
    pub async fn bon_registrations(
        &self,
        principal: &Principal,
        from: NaiveDate,
        to: NaiveDate,
        page: Page,
    ) -> Result<pb::ListBonRegistrationsResponse> {
        use trajectory::Column as T;
        let mut q = trajectory::Entity::find()
            .filter(T::Agency.eq("bon"))
            // The GGC needs to know whom not to chase: the obliged.
            .filter(T::Status.eq("obliged"))
            .filter(T::StartedOn.between(from, to))
            .order_by_asc(T::Id);
        if let Some(after) = page.after {
            q = q.filter(T::Id.gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |t| t.id);
        let persons: Vec<Uuid> = rows.iter().map(|t| t.person_id).collect();
        let numbers: HashMap<Uuid, String> = person::Entity::find()
            .filter(person::Column::Id.is_in(persons.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.national_number))
            .collect();
        audit(&self.db, principal, "bon-registrations", &persons).await?;
        Ok(pb::ListBonRegistrationsResponse {
            registrations: rows
                .iter()
                .map(|t| pb::BonRegistration {
                    national_number: numbers.get(&t.person_id).cloned().unwrap_or_default(),
                    started_on: Some(wire::date(t.started_on)),
                    attest_issued_on: t.attest_issued_on.map(wire::date),
                })
                .collect(),
            page: wire::page_response(next),
        })
    }

    /// One page of the Dutch-language GGC registrations, for the Huis van het Nederlands.
    pub async fn dutch_route_referrals(
        &self,
        principal: &Principal,
        page: Page,
    ) -> Result<pb::ListDutchRouteReferralsResponse> {
        use ggc_registration::Column as G;
        let mut q = ggc_registration::Entity::find()
            .filter(G::Language.eq("dutch"))
            .order_by_asc(G::Id);
        if let Some(after) = page.after {
            q = q.filter(G::Id.gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |g| g.id);
        let persons: Vec<Uuid> = rows.iter().map(|g| g.person_id).collect();
        let people: HashMap<Uuid, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(persons.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        audit(&self.db, principal, "dutch-route-referrals", &persons).await?;
        Ok(pb::ListDutchRouteReferralsResponse {
            referrals: rows
                .iter()
                .filter_map(|g| {
                    let p = people.get(&g.person_id)?;
                    Some(pb::DutchRouteReferral {
                        national_number: p.national_number.clone(),
                        given_name: p.given_name.clone(),
                        family_name: p.family_name.clone(),
                        contact_language: p.contact_language.clone().unwrap_or_default(),
                        registered_on: Some(wire::date(g.registered_on)),
                    })
                })
                .collect(),
            page: wire::page_response(next),
        })
    }

    /// One page of the GGC reports that contradict a Bon contract.
    pub async fn conflicts(
        &self,
        principal: &Principal,
        page: Page,
    ) -> Result<pb::ListExchangeConflictsResponse> {
        use ggc_registration::Column as G;
        let mut q = ggc_registration::Entity::find()
            .filter(G::ConflictingTrajectoryId.is_not_null())
            .order_by_asc(G::Id);
        if let Some(after) = page.after {
            q = q.filter(G::Id.gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |g| g.id);
        let persons: Vec<Uuid> = rows.iter().map(|g| g.person_id).collect();
        audit(&self.db, principal, "exchange-conflicts", &persons).await?;
        Ok(pb::ListExchangeConflictsResponse {
            conflicts: rows
                .iter()
                .map(|g| pb::ExchangeConflict {
                    person_id: g.person_id.to_string(),
                    trajectory_id: g
                        .conflicting_trajectory_id
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    contract_signed_on: g.conflicting_contract_signed_on.map(wire::date),
                    ggc_registered_on: Some(wire::date(g.registered_on)),
                    language: language(&g.language),
                })
                .collect(),
            page: wire::page_response(next),
        })
    }

    /// One page of the exchange audit, newest first.
    pub async fn audit_entries(&self, page: Page) -> Result<pb::ListExchangeAuditResponse> {
        use exchange_audit::Column as A;
        let mut q = exchange_audit::Entity::find().order_by_desc(A::Id);
        if let Some(after) = page.after {
            q = q.filter(A::Id.lt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |a| a.id);
        Ok(pb::ListExchangeAuditResponse {
            entries: rows
                .into_iter()
                .map(|a| pb::ExchangeAuditEntry {
                    at: Some(wire::timestamp(a.at)),
                    caller: a.caller,
                    organisation: a.organisation,
                    purpose: a.purpose,
                    person_ids: a
                        .person_ids
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
                .collect(),
            page: wire::page_response(next),
        })
    }
}
