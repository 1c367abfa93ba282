//! Ceremonies: planning, changes, cancellation (with a notice to every invitee), closing
//! after the day, listings, and the ambassadors of a ceremony. Each change and the events
//! it causes commit in one transaction.

use chrono::NaiveDate;
use platform::db::BeginWrite as _;
use platform::{Agency, Nis, events::Outbox, paging::Page};
use proto::ceremonies::v1 as pb;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;
use wire::register::{self, Known, Municipality};

use crate::{
    CeremoniesError, convert,
    domain::{AgeRange, Ceremony, CeremonyKind, CeremonyState, Details, Host, RawDetails},
    policy::Scope,
    store::{ambassador, ceremony, invitation, stored_nis},
};

type Result<T, E = CeremoniesError> = std::result::Result<T, E>;

/// A stored ceremony as the domain sees it.
pub(crate) fn from_row(row: ceremony::Model) -> Result<Ceremony> {
    let corrupt = |what: &str| CeremoniesError::Corrupt(format!("ceremony {}: {what}", row.id));
    let count = |v: i32, what: &str| u32::try_from(v).map_err(|_| corrupt(what));
    let ages = match (row.min_age, row.max_age) {
        (Some(min), Some(max)) => Some(AgeRange {
            min: count(min, "min_age")?,
            max: count(max, "max_age")?,
        }),
        _ => None,
    };
    Ok(Ceremony {
        id: row.id,
        nis: stored_nis(&row.nis)?,
        agency: Agency::from_alias(&row.agency).ok_or_else(|| corrupt("agency"))?,
        details: Details {
            kind: CeremonyKind::from_stored(&row.kind).ok_or_else(|| corrupt("kind"))?,
            date: row.date,
            place: row.place.clone(),
            host: Host::from_stored(&row.host).ok_or_else(|| corrupt("host"))?,
            capacity: count(row.capacity, "capacity")?,
            attest_from: row.attest_from,
            attest_to: row.attest_to,
            co_organiser: match &row.co_organiser {
                Some(a) => Some(Agency::from_alias(a).ok_or_else(|| corrupt("co_organiser"))?),
                None => None,
            },
            ages,
        },
        state: CeremonyState::from_stored(&row.state).ok_or_else(|| corrupt("state"))?,
        invitations: count(row.invitations, "invitations")?,
        rounds: count(row.rounds, "rounds")?,
    })
}

fn detail_columns(row: &mut ceremony::ActiveModel, d: &Details) {
    use chrono::Datelike;
    row.kind = Set(d.kind.as_str().to_owned());
    row.date = Set(d.date);
    row.year = Set(d.date.year());
    row.place = Set(d.place.clone());
    row.host = Set(d.host.as_str().to_owned());
    row.capacity = Set(d.capacity as i32);
    row.attest_from = Set(d.attest_from);
    row.attest_to = Set(d.attest_to);
    row.co_organiser = Set(d.co_organiser.map(|a| a.as_str().to_owned()));
    row.min_age = Set(d.ages.map(|a| a.min as i32));
    row.max_age = Set(d.ages.map(|a| a.max as i32));
}

/// Which ceremonies a listing returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub nis: Option<Nis>,
    /// The competent agencies the caller covers; `None` means any.
    pub agencies: Option<Vec<Agency>>,
    pub year: Option<i32>,
}

impl Filter {
    /// What a listing asks for (municipality `nis`, `year`), within what `scope` lets the
    /// caller see: an organiser sees its own municipality whatever it names.
    pub fn new(scope: Scope, nis: Option<Nis>, year: Option<i32>) -> Self {
        match scope {
            Scope::Municipality(own) => Self {
                nis: Some(own),
                agencies: None,
                year,
            },
            Scope::Agencies(agencies) => Self {
                nis,
                agencies: Some(agencies),
                year,
            },
            Scope::All => Self {
                nis,
                agencies: None,
                year,
            },
        }
    }
}

/// The ceremonies' store and its outbox.
#[derive(Debug, Clone)]
pub struct Ceremonies {
    db: DatabaseConnection,
    outbox: Outbox,
}

impl Ceremonies {
    pub fn new(db: DatabaseConnection, outbox: Outbox) -> Self {
        Self { db, outbox }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The municipality now in force for `code` (a former code resolves to the one it
    /// was merged into). An unknown code is bad input in `field`.
    pub async fn municipality(&self, field: &'static str, code: Nis) -> Result<Municipality> {
        match register::find(&self.db, code).await? {
            Known::Found(m) => Ok(m),
            Known::NotLoaded => Err(CeremoniesError::RegisterNotLoaded),
            Known::Unknown => Err(CeremoniesError::invalid(
                field,
                format!("{code} is not a municipality in Statbel's register"),
            )),
        }
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<Ceremony>> {
        ceremony::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(from_row)
            .transpose()
    }

    pub async fn list(&self, filter: &Filter, page: Page) -> Result<(Vec<Ceremony>, String)> {
        use ceremony::Column as C;
        let mut q = ceremony::Entity::find().order_by_asc(C::Id);
        if let Some(nis) = filter.nis {
            q = q.filter(C::Nis.eq(nis.to_string()));
        }
        if let Some(agencies) = &filter.agencies {
            q = q.filter(C::Agency.is_in(agencies.iter().map(|a| a.as_str())));
        }
        if let Some(year) = filter.year {
            q = q.filter(C::Year.eq(year));
        }
        if let Some(after) = page.after {
            q = q.filter(C::Id.gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |r| r.id);
        let ceremonies = rows.into_iter().map(from_row).collect::<Result<_>>()?;
        Ok((ceremonies, next))
    }

    /// Plans a ceremony in the municipality `requested` names (in force, not merged away)
    /// with `raw` details, checked on `today`.
    pub async fn plan(
        &self,
        requested: Nis,
        raw: RawDetails,
        today: NaiveDate,
        by: &str,
    ) -> Result<Ceremony> {
        let m = self.municipality("municipality_nis", requested).await?;
        let nis = stored_nis(&m.current_nis)?;
        if nis != requested {
            return Err(CeremoniesError::invalid(
                "municipality_nis",
                format!("{requested} was merged into {nis} on 2025-01-01"),
            ));
        }
        let details = Details::check(raw, today)?;
        let agency = m.agency().ok_or_else(|| {
            CeremoniesError::invalid(
                "municipality_nis",
                format!("{nis} is in Wallonia, where no Flemish agency is competent"),
            )
        })?;
        let id = Uuid::now_v7();
        let mut row = ceremony::ActiveModel {
            id: Set(id),
            nis: Set(nis.to_string()),
            agency: Set(agency.as_str().to_owned()),
            state: Set(CeremonyState::Planned.as_str().to_owned()),
            invitations: Set(0),
            rounds: Set(0),
            participants: Set(None),
            no_shows: Set(None),
            created_by: Set(by.to_owned()),
            cancel_reason: Set(None),
            ..Default::default()
        };
        detail_columns(&mut row, &details);
        let txn = self.db.begin_write().await?;
        let stored = from_row(row.insert(&txn).await?)?;
        let event = pb::CeremonyPlanned {
            ceremony_id: id.to_string(),
            municipality_nis: nis.to_string(),
            agency: wire::agency(agency) as i32,
            details: Some(convert::details(&stored.details)),
        };
        self.outbox.stage(&txn, &id.to_string(), &event).await?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(ceremony_id = %id, %nis, kind = details.kind.as_str(), "ceremony planned");
        Ok(stored)
    }

    /// Replaces the details of planned `c`; once invitations are out, only its date, place,
    /// host, capacity (not below them) and co-organiser may change.
    pub async fn change(&self, c: &Ceremony, next: Details) -> Result<Ceremony> {
        c.require_planned("it can be changed")?;
        if c.invitations > 0 && !c.details.same_invitees(&next) {
            return Err(CeremoniesError::InvitationsSent {
                ceremony_id: c.id,
                invitations: c.invitations,
            });
        }
        let txn = self.db.begin_write().await?;
        let mut row = ceremony::ActiveModel {
            id: sea_orm::ActiveValue::Unchanged(c.id),
            ..Default::default()
        };
        detail_columns(&mut row, &next);
        // Conditional: a concurrent SendInvitations may have raised the count meanwhile.
        let changed = ceremony::Entity::update_many()
            .set(row)
            .filter(ceremony::Column::Id.eq(c.id))
            .filter(ceremony::Column::State.eq(CeremonyState::Planned.as_str()))
            .filter(ceremony::Column::Invitations.lte(next.capacity as i32))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            let now = self
                .get(c.id)
                .await?
                .ok_or(CeremoniesError::CeremonyNotFound { ceremony_id: c.id })?;
            now.require_planned("it can be changed")?;
            return Err(CeremoniesError::OverCapacity {
                ceremony_id: c.id,
                capacity: next.capacity,
                invitations: now.invitations,
            });
        }
        let event = pb::CeremonyChanged {
            ceremony_id: c.id.to_string(),
            municipality_nis: c.nis.to_string(),
            details: Some(convert::details(&next)),
        };
        self.outbox.stage(&txn, &c.id.to_string(), &event).await?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(ceremony_id = %c.id, "ceremony changed");
        Ok(Ceremony {
            details: next,
            ..c.clone()
        })
    }

    /// Cancels planned `c` and sends every invitee a notice, once; the number informed.
    pub async fn cancel(&self, c: &Ceremony, reason: &str) -> Result<(Ceremony, u32)> {
        c.require_planned("it can be cancelled")?;
        let txn = self.db.begin_write().await?;
        let changed = ceremony::Entity::update_many()
            .col_expr(
                ceremony::Column::State,
                Expr::value(CeremonyState::Cancelled.as_str()),
            )
            .col_expr(ceremony::Column::CancelReason, Expr::value(reason))
            .filter(ceremony::Column::Id.eq(c.id))
            .filter(ceremony::Column::State.eq(CeremonyState::Planned.as_str()))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            return Err(CeremoniesError::NotPlanned {
                ceremony_id: c.id,
                state: "no longer planned",
                what: "it can be cancelled",
            });
        }
        // The row lock taken above keeps SendInvitations out until this commits.
        let invitees = invitation::Entity::find()
            .filter(invitation::Column::CeremonyId.eq(c.id))
            .filter(invitation::Column::CancellationSent.eq(false))
            .all(&txn)
            .await?;
        let key = c.id.to_string();
        self.outbox
            .stage(
                &txn,
                &key,
                &pb::CeremonyCancelled {
                    ceremony_id: key.clone(),
                    municipality_nis: c.nis.to_string(),
                    reason: reason.to_owned(),
                    invitations: c.invitations as i32,
                },
            )
            .await?;
        for i in &invitees {
            self.outbox
                .stage(
                    &txn,
                    &key,
                    &pb::CancellationNoticeSent {
                        ceremony_id: key.clone(),
                        invitation_id: i.id.to_string(),
                        person_id: i.person_id.to_string(),
                        contact_language: i.contact_language.clone().unwrap_or_default(),
                    },
                )
                .await?;
        }
        invitation::Entity::update_many()
            .col_expr(invitation::Column::CancellationSent, Expr::value(true))
            .filter(invitation::Column::CeremonyId.eq(c.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.outbox.committed();
        let informed = invitees.len() as u32;
        tracing::info!(ceremony_id = %c.id, informed, "ceremony cancelled");
        Ok((
            Ceremony {
                state: CeremonyState::Cancelled,
                ..c.clone()
            },
            informed,
        ))
    }

    /// Closes `c` on or after its day: attendance is final. (participants, no-shows).
    pub async fn close(&self, c: &Ceremony, today: NaiveDate) -> Result<(Ceremony, u32, u32)> {
        c.require_planned("it can be closed")?;
        c.require_day(today, "it can be closed")?;
        let txn = self.db.begin_write().await?;
        // Lock the row first: attendance recorded meanwhile waits, then finds it held.
        let locked = ceremony::Entity::update_many()
            .col_expr(
                ceremony::Column::State,
                Expr::value(CeremonyState::Held.as_str()),
            )
            .filter(ceremony::Column::Id.eq(c.id))
            .filter(ceremony::Column::State.eq(CeremonyState::Planned.as_str()))
            .exec(&txn)
            .await?;
        if locked.rows_affected == 0 {
            return Err(CeremoniesError::NotPlanned {
                ceremony_id: c.id,
                state: "no longer planned",
                what: "it can be closed",
            });
        }
        let of = || invitation::Entity::find().filter(invitation::Column::CeremonyId.eq(c.id));
        let participants = of()
            .filter(invitation::Column::AttendedAt.is_not_null())
            .count(&txn)
            .await? as u32;
        let no_shows = of()
            .filter(invitation::Column::AttendedAt.is_null())
            .filter(invitation::Column::Rsvp.eq(crate::domain::Rsvp::Yes.as_str()))
            .count(&txn)
            .await? as u32;
        ceremony::Entity::update_many()
            .col_expr(
                ceremony::Column::Participants,
                Expr::value(participants as i32),
            )
            .col_expr(ceremony::Column::NoShows, Expr::value(no_shows as i32))
            .filter(ceremony::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
        let event = pb::CeremonyHeld {
            ceremony_id: c.id.to_string(),
            municipality_nis: c.nis.to_string(),
            agency: wire::agency(c.agency) as i32,
            kind: convert::kind(c.details.kind) as i32,
            date: Some(wire::date(c.details.date)),
            invitations: c.invitations as i32,
            participants: participants as i32,
            no_shows: no_shows as i32,
        };
        self.outbox.stage(&txn, &c.id.to_string(), &event).await?;
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(ceremony_id = %c.id, participants, no_shows, "ceremony held");
        Ok((
            Ceremony {
                state: CeremonyState::Held,
                ..c.clone()
            },
            participants,
            no_shows,
        ))
    }

    /// Links an ambassador who consented on `consent_on` to `c`.
    pub async fn add_ambassador(
        &self,
        c: &Ceremony,
        display_name: String,
        consent_on: NaiveDate,
    ) -> Result<ambassador::Model> {
        c.require_planned("ambassadors can be added")?;
        let id = Uuid::now_v7();
        let txn = self.db.begin_write().await?;
        let row = ambassador::ActiveModel {
            id: Set(id),
            ceremony_id: Set(c.id),
            display_name: Set(display_name),
            consent_given_on: Set(consent_on),
            consent_withdrawn_on: Set(None),
        }
        .insert(&txn)
        .await?;
        let event = pb::AmbassadorLinked {
            ceremony_id: c.id.to_string(),
            ambassador_id: id.to_string(),
        };
        self.outbox.stage(&txn, &c.id.to_string(), &event).await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(row)
    }

    /// An ambassador and the ceremony it is linked to.
    pub async fn ambassador(&self, id: Uuid) -> Result<Option<(ambassador::Model, Ceremony)>> {
        let Some(a) = ambassador::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        Ok(self.get(a.ceremony_id).await?.map(|c| (a, c)))
    }

    /// Withdraws consent: the name is erased at once, the dates stay as the record.
    pub async fn withdraw_consent(
        &self,
        a: &ambassador::Model,
        today: NaiveDate,
    ) -> Result<ambassador::Model> {
        let txn = self.db.begin_write().await?;
        let changed = ambassador::Entity::update_many()
            .col_expr(ambassador::Column::DisplayName, Expr::value(""))
            .col_expr(ambassador::Column::ConsentWithdrawnOn, Expr::value(today))
            .filter(ambassador::Column::Id.eq(a.id))
            .filter(ambassador::Column::ConsentWithdrawnOn.is_null())
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            return Err(CeremoniesError::ConsentWithdrawn {
                ambassador_id: a.id,
            });
        }
        let event = pb::AmbassadorConsentWithdrawn {
            ceremony_id: a.ceremony_id.to_string(),
            ambassador_id: a.id.to_string(),
        };
        self.outbox
            .stage(&txn, &a.ceremony_id.to_string(), &event)
            .await?;
        txn.commit().await?;
        self.outbox.committed();
        Ok(ambassador::Model {
            display_name: String::new(),
            consent_withdrawn_on: Some(today),
            ..a.clone()
        })
    }

    pub async fn ambassadors(&self, ceremony_id: Uuid) -> Result<Vec<ambassador::Model>> {
        Ok(ambassador::Entity::find()
            .filter(ambassador::Column::CeremonyId.eq(ceremony_id))
            .order_by_asc(ambassador::Column::Id)
            .all(&self.db)
            .await?)
    }
}
