//! The invitation list and what invitees answer: invitations from the attests of the
//! municipality and period (once per person and ceremony, whatever the replicas or
//! retries), RSVPs, and attendance at the door (once).

use chrono::{NaiveDate, Utc};
use platform::db::BeginWrite as _;
use platform::{grpc::OnBehalfOf, paging::Page};
use proto::ceremonies::v1 as pb;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
    CeremoniesError,
    ceremony::Ceremonies,
    disclosure::{Disclosed, Trajectories},
    domain::{Ceremony, CeremonyState, Invitation, Rsvp},
    store::{attest, ceremony, invitation},
};

type Result<T, E = CeremoniesError> = std::result::Result<T, E>;

fn from_row(row: invitation::Model) -> Result<Invitation> {
    let rsvp = match &row.rsvp {
        Some(r) => Some(Rsvp::from_stored(r).ok_or_else(|| {
            CeremoniesError::Corrupt(format!("invitation {}: rsvp {r:?}", row.id))
        })?),
        None => None,
    };
    Ok(Invitation {
        id: row.id,
        ceremony_id: row.ceremony_id,
        person_id: row.person_id,
        given_name: row.given_name,
        family_name: row.family_name,
        contact_language: row.contact_language,
        attest_issued_on: row.attest_issued_on,
        rsvp,
        guests: u32::try_from(row.guests).unwrap_or(0),
        attended: row.attended_at.is_some(),
        late_addition: row.late_addition,
    })
}

/// What one round of invitations did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub sent: u32,
    pub invitations: u32,
}

/// Invitations, RSVPs and attendance.
#[derive(Debug, Clone)]
pub struct Invitations {
    ceremonies: Ceremonies,
    trajectories: Trajectories,
}

impl Invitations {
    pub fn new(ceremonies: Ceremonies, trajectories: Trajectories) -> Self {
        Self {
            ceremonies,
            trajectories,
        }
    }

    /// Residents of `c`'s municipality with an attest in its period, not yet invited.
    async fn candidates(&self, c: &Ceremony) -> Result<Vec<(Uuid, NaiveDate)>> {
        let invited = invitation::Entity::find()
            .select_only()
            .column(invitation::Column::PersonId)
            .filter(invitation::Column::CeremonyId.eq(c.id))
            .into_query();
        let rows = attest::Entity::find()
            .filter(attest::Column::Nis.eq(c.nis.to_string()))
            .filter(attest::Column::IssuedOn.between(c.details.attest_from, c.details.attest_to))
            .filter(attest::Column::PersonId.not_in_subquery(invited))
            .order_by_asc(attest::Column::IssuedOn)
            .order_by_asc(attest::Column::PersonId)
            .all(self.ceremonies.db())
            .await?;
        // One person, one invitation, even with two trajectories' attests in the period.
        let mut seen = std::collections::HashSet::new();
        Ok(rows
            .into_iter()
            .filter(|a| seen.insert(a.person_id))
            .map(|a| (a.person_id, a.issued_on))
            .collect())
    }

    /// Invites everyone of `c`'s list not yet invited; nothing is sent when they would not
    /// all fit.
    pub async fn send(&self, c: &Ceremony, caller: &OnBehalfOf, today: NaiveDate) -> Result<Sent> {
        c.require_planned("invitations can be sent")?;
        if today > c.details.date {
            return Err(CeremoniesError::Over {
                ceremony_id: c.id,
                date: c.details.date,
            });
        }
        let candidates = self.candidates(c).await?;
        if candidates.is_empty() {
            return Ok(Sent {
                sent: 0,
                invitations: c.invitations,
            });
        }
        let people: Vec<Uuid> = candidates.iter().map(|(p, _)| *p).collect();
        let disclosed = self
            .trajectories
            .disclose(caller, c.nis, c.id, c.details.date, &people)
            .await?;
        let issued: std::collections::HashMap<Uuid, NaiveDate> = candidates.into_iter().collect();
        // A youth celebration invites its age range only; an unknown age is not in it.
        let invitees: Vec<Disclosed> = disclosed
            .into_iter()
            .filter(|d| match c.details.ages {
                Some(range) => d.age.is_some_and(|a| range.contains(a)),
                None => true,
            })
            .collect();
        self.write(c, invitees, &issued).await
    }

    async fn write(
        &self,
        c: &Ceremony,
        invitees: Vec<Disclosed>,
        issued: &std::collections::HashMap<Uuid, NaiveDate>,
    ) -> Result<Sent> {
        use ceremony::Column as C;
        let db = self.ceremonies.db();
        let outbox = self.ceremonies.outbox();
        let txn = db.begin_write().await?;
        // Lock the ceremony first: a concurrent round or a cancellation waits for this one.
        let locked = ceremony::Entity::update_many()
            .col_expr(C::Rounds, Expr::col(C::Rounds))
            .filter(C::Id.eq(c.id))
            .filter(C::State.eq(CeremonyState::Planned.as_str()))
            .exec(&txn)
            .await?;
        if locked.rows_affected == 0 {
            return Err(CeremoniesError::NotPlanned {
                ceremony_id: c.id,
                state: "no longer planned",
                what: "invitations can be sent",
            });
        }
        let current = ceremony::Entity::find_by_id(c.id)
            .one(&txn)
            .await?
            .ok_or(CeremoniesError::CeremonyNotFound { ceremony_id: c.id })?;
        let late = current.rounds > 0;
        let now = Utc::now();
        let key = c.id.to_string();
        let mut sent = 0u32;
        for who in invitees {
            let Some(issued_on) = issued.get(&who.person_id).copied() else {
                continue;
            };
            let id = Uuid::now_v7();
            let inserted = invitation::Entity::insert(invitation::ActiveModel {
                id: Set(id),
                ceremony_id: Set(c.id),
                person_id: Set(who.person_id),
                given_name: Set(who.given_name),
                family_name: Set(who.family_name),
                contact_language: Set(who.contact_language.clone()),
                attest_issued_on: Set(issued_on),
                late_addition: Set(late),
                invited_at: Set(now),
                rsvp: Set(None),
                guests: Set(0),
                attended_at: Set(None),
                cancellation_sent: Set(false),
            })
            .on_conflict(
                OnConflict::columns([invitation::Column::CeremonyId, invitation::Column::PersonId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            if inserted == 0 {
                continue;
            }
            sent += 1;
            let event = pb::InvitationSent {
                ceremony_id: key.clone(),
                invitation_id: id.to_string(),
                person_id: who.person_id.to_string(),
                municipality_nis: c.nis.to_string(),
                contact_language: who.contact_language.unwrap_or_default(),
                late_addition: late,
            };
            outbox.stage(&txn, &key, &event).await?;
        }
        let before = u32::try_from(current.invitations).unwrap_or(0);
        if sent == 0 {
            return Ok(Sent {
                sent: 0,
                invitations: before,
            });
        }
        let total = before + sent;
        let raised = ceremony::Entity::update_many()
            .col_expr(C::Invitations, Expr::value(total as i32))
            .col_expr(C::Rounds, Expr::col(C::Rounds).add(1))
            .filter(C::Id.eq(c.id))
            .filter(C::Capacity.gte(total as i32))
            .exec(&txn)
            .await?;
        if raised.rows_affected == 0 {
            // Dropping the transaction rolls back every invitation of this round.
            return Err(CeremoniesError::OverCapacity {
                ceremony_id: c.id,
                capacity: u32::try_from(current.capacity).unwrap_or(0),
                invitations: total,
            });
        }
        txn.commit().await?;
        outbox.committed();
        tracing::info!(ceremony_id = %c.id, sent, invitations = total, late, "invitations sent");
        Ok(Sent {
            sent,
            invitations: total,
        })
    }

    pub async fn list(&self, ceremony_id: Uuid, page: Page) -> Result<(Vec<Invitation>, String)> {
        let mut q = invitation::Entity::find()
            .filter(invitation::Column::CeremonyId.eq(ceremony_id))
            .order_by_asc(invitation::Column::Id);
        if let Some(after) = page.after {
            q = q.filter(invitation::Column::Id.gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(self.ceremonies.db()).await?;
        let next = page.finish(&mut rows, |r| r.id);
        Ok((rows.into_iter().map(from_row).collect::<Result<_>>()?, next))
    }

    async fn invitation_of(&self, c: &Ceremony, person_id: Uuid) -> Result<invitation::Model> {
        invitation::Entity::find()
            .filter(invitation::Column::CeremonyId.eq(c.id))
            .filter(invitation::Column::PersonId.eq(person_id))
            .one(self.ceremonies.db())
            .await?
            .ok_or(CeremoniesError::NotInvited {
                ceremony_id: c.id,
                person_id,
            })
    }

    /// Records an invitee's answer; a later answer replaces an earlier one.
    pub async fn rsvp(
        &self,
        c: &Ceremony,
        person_id: Uuid,
        rsvp: Rsvp,
        guests: u32,
    ) -> Result<Invitation> {
        c.require_planned("answers can be recorded")?;
        let row = self.invitation_of(c, person_id).await?;
        let txn = self.ceremonies.db().begin_write().await?;
        invitation::Entity::update_many()
            .col_expr(invitation::Column::Rsvp, Expr::value(rsvp.as_str()))
            .col_expr(invitation::Column::Guests, Expr::value(guests as i32))
            .filter(invitation::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        let event = pb::RsvpRecorded {
            ceremony_id: c.id.to_string(),
            invitation_id: row.id.to_string(),
            person_id: person_id.to_string(),
            rsvp: crate::convert::rsvp(rsvp) as i32,
            guests: guests as i32,
        };
        self.ceremonies
            .outbox()
            .stage(&txn, &c.id.to_string(), &event)
            .await?;
        txn.commit().await?;
        self.ceremonies.outbox().committed();
        let mut invitation = from_row(row)?;
        invitation.rsvp = Some(rsvp);
        invitation.guests = guests;
        Ok(invitation)
    }

    /// Records that an invitee came, once, from the ceremony's day until it is closed.
    pub async fn attend(
        &self,
        c: &Ceremony,
        person_id: Uuid,
        today: NaiveDate,
    ) -> Result<Invitation> {
        c.require_planned("attendance can be recorded")?;
        c.require_day(today, "attendance can be recorded")?;
        let row = self.invitation_of(c, person_id).await?;
        let txn = self.ceremonies.db().begin_write().await?;
        let marked = invitation::Entity::update_many()
            .col_expr(invitation::Column::AttendedAt, Expr::value(Utc::now()))
            .filter(invitation::Column::Id.eq(row.id))
            .filter(invitation::Column::AttendedAt.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected == 0 {
            return Err(CeremoniesError::AlreadyAttended {
                ceremony_id: c.id,
                person_id,
            });
        }
        let event = pb::AttendanceRecorded {
            ceremony_id: c.id.to_string(),
            invitation_id: row.id.to_string(),
            person_id: person_id.to_string(),
        };
        self.ceremonies
            .outbox()
            .stage(&txn, &c.id.to_string(), &event)
            .await?;
        txn.commit().await?;
        self.ceremonies.outbox().committed();
        let mut invitation = from_row(row)?;
        invitation.attended = true;
        Ok(invitation)
    }
}
