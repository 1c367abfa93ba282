//! What a municipality may know of its residents for one purpose, read at the moment it
//! needs it (`DisclosureService`). For a ceremony (inburgeringsdecreet: municipalities get
//! identification and attest status for ceremonies): the name, the contact language and
//! the age on the ceremony's day of residents of that municipality whose attest is issued;
//! nothing else, nobody else. Every person disclosed is audited in the same transaction
//! as the answer is decided.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use platform::{Principal, db::BeginWrite as _};
use proto::trajectories::v1 as pb;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    TrajectoryError,
    store::{disclosure_audit, person, trajectory},
};

/// Persons one request may name.
pub const MAX_PERSONS: usize = 500;
/// The purpose recorded in the audit.
pub const CEREMONY: &str = "ceremony";
/// The fields a ceremony gets.
const CEREMONY_FIELDS: &str = "given_name,family_name,contact_language,age";

/// A ceremony's request: the municipality, the ceremony, its day, and the persons it
/// names (each once).
#[derive(Debug)]
pub struct Ceremony {
    pub nis: String,
    pub ceremony_id: Uuid,
    pub on: NaiveDate,
    pub asked: Vec<Uuid>,
}

/// The disclosures of residents' data to their municipality.
#[derive(Debug, Clone)]
pub struct Disclosures {
    db: DatabaseConnection,
}

impl Disclosures {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// What `ceremony` may know of the persons it names, audited for `principal` in the
    /// transaction that decides it; the others are withheld.
    pub async fn for_ceremony(
        &self,
        principal: &Principal,
        ceremony: Ceremony,
    ) -> Result<pb::DiscloseForCeremonyResponse, TrajectoryError> {
        let Ceremony {
            nis,
            ceremony_id,
            on,
            asked,
        } = ceremony;
        // Residents of the municipality with an attest: the only ones the purpose covers.
        let txn = self.db.begin_write().await?;
        let attested: Vec<Uuid> = trajectory::Entity::find()
            .filter(trajectory::Column::PersonId.is_in(asked.clone()))
            .filter(trajectory::Column::MunicipalityNis.eq(nis.as_str()))
            .filter(trajectory::Column::AttestIssuedOn.is_not_null())
            .all(&txn)
            .await?
            .into_iter()
            .map(|t| t.person_id)
            .collect();
        let people: HashMap<Uuid, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(attested))
            .all(&txn)
            .await?
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
                .await?;
        }
        txn.commit().await?;
        tracing::info!(
            disclosed = invitees.len(),
            withheld = withheld.len(),
            purpose = CEREMONY,
            "residents disclosed for a ceremony"
        );
        Ok(pb::DiscloseForCeremonyResponse {
            invitees,
            withheld_person_ids: withheld,
        })
    }
}
