//! What a municipality may know of its residents for one purpose, read at the moment it
//! needs it (`DisclosureService`). For a ceremony (inburgeringsdecreet: municipalities get
//! identification and attest status for ceremonies): the name, the contact language and
//! the age on the ceremony's day of residents of that municipality whose attest is issued;
//! nothing else, nobody else. Every person disclosed is audited in the same transaction
//! as the answer is decided.

use platform::db::BeginWrite as _;
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use platform::Principal;
use proto::trajectories::v1 as pb;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    TrajectoryError, convert, policy,
    store::{disclosure_audit, person, trajectory},
};

/// Persons one request may name.
pub const MAX_PERSONS: usize = 500;
/// The purpose recorded in the audit.
pub const CEREMONY: &str = "ceremony";
/// The fields a ceremony gets.
const CEREMONY_FIELDS: &str = "given_name,family_name,contact_language,age";

/// The `DisclosureService` implementation.
#[derive(Debug, Clone)]
pub struct DisclosureApi {
    db: DatabaseConnection,
}

impl DisclosureApi {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl pb::disclosure_service_server::DisclosureService for DisclosureApi {
    #[tracing::instrument(skip_all, fields(
        nis = %request.get_ref().municipality_nis,
        ceremony_id = %request.get_ref().ceremony_id,
        asked = request.get_ref().person_ids.len(),
        disclosed,
    ))]
    async fn disclose_for_ceremony(
        &self,
        request: Request<pb::DiscloseForCeremonyRequest>,
    ) -> Result<Response<pb::DiscloseForCeremonyResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let nis = wire::nis("municipality_nis", &req.municipality_nis)?.to_string();
        policy::require_ceremony_organiser(principal, &nis)?;
        let ceremony_id = wire::uuid("ceremony_id", &req.ceremony_id)?;
        let on = convert::required_day("ceremony_date", req.ceremony_date.as_ref())?;
        if req.person_ids.is_empty() || req.person_ids.len() > MAX_PERSONS {
            return Err(TrajectoryError::invalid(
                "person_ids",
                format!("names {} persons; 1 to {MAX_PERSONS}", req.person_ids.len()),
            )
            .into());
        }
        let mut asked = Vec::with_capacity(req.person_ids.len());
        let mut seen = HashSet::with_capacity(req.person_ids.len());
        for (i, raw) in req.person_ids.iter().enumerate() {
            let id = Uuid::parse_str(raw).map_err(|_| {
                TrajectoryError::invalid("person_ids", format!("[{i}] {raw:?} is not a UUID"))
            })?;
            // A person named twice is answered and audited once.
            if seen.insert(id) {
                asked.push(id);
            }
        }

        // Residents of the municipality with an attest: the only ones the purpose covers.
        let txn = self.db.begin_write().await.map_err(TrajectoryError::from)?;
        let attested: Vec<Uuid> = trajectory::Entity::find()
            .filter(trajectory::Column::PersonId.is_in(asked.clone()))
            .filter(trajectory::Column::MunicipalityNis.eq(nis.as_str()))
            .filter(trajectory::Column::AttestIssuedOn.is_not_null())
            .all(&txn)
            .await
            .map_err(TrajectoryError::from)?
            .into_iter()
            .map(|t| t.person_id)
            .collect();
        let people: HashMap<Uuid, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(attested))
            .all(&txn)
            .await
            .map_err(TrajectoryError::from)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let now = Utc::now();
        let mut invitees = Vec::new();
        let mut withheld = Vec::new();
        let mut audit = Vec::new();
        for id in asked {
            let Some(p) = people.get(&id) else {
                withheld.push(id.to_string());
                continue;
            };
            let age = p
                .birth_date
                .and_then(|born| on.years_since(born))
                .map_or(-1, |a| a as i32);
            invitees.push(pb::CeremonyInvitee {
                person_id: id.to_string(),
                given_name: p.given_name.clone(),
                family_name: p.family_name.clone(),
                contact_language: p.contact_language.clone().unwrap_or_default(),
                age,
            });
            audit.push(disclosure_audit::ActiveModel {
                id: Set(Uuid::now_v7()),
                disclosed_at: Set(now),
                caller: Set(principal.subject.clone()),
                organisation: Set(principal.organisation.alias.clone()),
                purpose: Set(CEREMONY.to_owned()),
                reference: Set(ceremony_id.to_string()),
                person_id: Set(id),
                fields: Set(CEREMONY_FIELDS.to_owned()),
            });
        }
        if !audit.is_empty() {
            disclosure_audit::Entity::insert_many(audit)
                .exec_without_returning(&txn)
                .await
                .map_err(TrajectoryError::from)?;
        }
        txn.commit().await.map_err(TrajectoryError::from)?;
        tracing::Span::current().record("disclosed", invitees.len());
        tracing::info!(
            disclosed = invitees.len(),
            withheld = withheld.len(),
            purpose = CEREMONY,
            "residents disclosed for a ceremony"
        );
        Ok(Response::new(pb::DiscloseForCeremonyResponse {
            invitees,
            withheld_person_ids: withheld,
        }))
    }
}
