//! Storing checked records, one batch per transaction: a person not imported before is
//! written whole (person, trajectory with its progress, fees, Brussels registrations, the
//! import row) with its events staged as history; the same line again is unchanged; a
//! different line for an imported person is reported as changed and not applied; a person
//! the platform registered itself is left alone and reported.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use platform::events::{Outbox, Staged};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{check::Checked, fingerprint::changed_parts};
use crate::{
    TrajectoryError, brussels,
    domain::{State, Trajectory},
    events,
    rules::{self, BrusselsObligation, BrusselsRegistration},
    store::{brussels_newcomer, caseload_import, fee, ggc_registration, person, trajectory},
};

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Written now.
    Created {
        person_id: Uuid,
        trajectory_id: Option<Uuid>,
    },
    /// Imported before from the same line content: nothing written.
    Unchanged {
        person_id: Uuid,
        trajectory_id: Option<Uuid>,
    },
    /// Imported before with different content: reported, not applied.
    Changed {
        person_id: Uuid,
        parts: Vec<&'static str>,
    },
    /// The platform registered this person itself (not an import): left alone.
    AlreadyOnPlatform { person_id: Uuid },
}

impl Applied {
    /// The person the line is about, whatever became of it.
    pub fn person_id(&self) -> Uuid {
        match self {
            Applied::Created { person_id, .. }
            | Applied::Unchanged { person_id, .. }
            | Applied::Changed { person_id, .. }
            | Applied::AlreadyOnPlatform { person_id } => *person_id,
        }
    }
}

/// Rows of one table per insert statement: far under PostgreSQL's 65,535 and SQLite's
/// 32,766 bound values for the widest table (the trajectory, 31 columns).
const ROWS_PER_INSERT: usize = 500;

/// Stores `batch` in the caller's transaction, staging events through `outbox` marked as
/// history of `source`; one outcome per record, in order.
pub async fn apply_batch<C: ConnectionTrait>(
    conn: &C,
    outbox: &Outbox,
    source: &str,
    batch: Vec<Checked>,
    now: DateTime<Utc>,
) -> Result<Vec<Applied>, TrajectoryError> {
    let numbers: Vec<String> = batch.iter().map(|c| c.number.digits().to_owned()).collect();
    let known: HashMap<String, Uuid> = person::Entity::find()
        .select_only_id_and_number()
        .filter(person::Column::NationalNumber.is_in(numbers))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, n)| (n, id))
        .collect();
    let ids: Vec<Uuid> = known.values().copied().collect();
    let imported: HashMap<Uuid, String> = caseload_import::Entity::find()
        .filter(caseload_import::Column::PersonId.is_in(ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.person_id, r.fingerprint))
        .collect();
    let trajectories: HashMap<Uuid, Uuid> = trajectory::Entity::find()
        .filter(trajectory::Column::PersonId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.person_id, t.id))
        .collect();
    let history = outbox.as_history(source);
    let mut rows = Rows::default();
    let mut outcomes = Vec::with_capacity(batch.len());
    for checked in batch {
        let outcome = match known.get(checked.number.digits()) {
            Some(&person_id) => match imported.get(&person_id) {
                Some(stored) if *stored == checked.fingerprint => Applied::Unchanged {
                    person_id,
                    trajectory_id: trajectories.get(&person_id).copied(),
                },
                Some(stored) => Applied::Changed {
                    person_id,
                    parts: changed_parts(stored, &checked.fingerprint),
                },
                None => Applied::AlreadyOnPlatform { person_id },
            },
            None => rows.add(checked, source, now)?,
        };
        outcomes.push(outcome);
    }
    rows.write(conn, &history).await?;
    Ok(outcomes)
}

trait SelectIdAndNumber {
    fn select_only_id_and_number(self) -> Self;
}

impl SelectIdAndNumber for sea_orm::Select<person::Entity> {
    fn select_only_id_and_number(self) -> Self {
        use sea_orm::QuerySelect;
        self.select_only()
            .column(person::Column::Id)
            .column(person::Column::NationalNumber)
    }
}

/// The rows of a batch, per table, and its events in order.
#[derive(Default)]
struct Rows {
    persons: Vec<person::ActiveModel>,
    trajectories: Vec<trajectory::ActiveModel>,
    fees: Vec<fee::ActiveModel>,
    newcomers: Vec<brussels_newcomer::ActiveModel>,
    ggc: Vec<ggc_registration::ActiveModel>,
    imports: Vec<caseload_import::ActiveModel>,
    events: Vec<Staged>,
}

impl Rows {
    fn add(
        &mut self,
        c: Checked,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<Applied, TrajectoryError> {
        let (person_id, agency) = match &c.trajectory {
            Some((t, _)) => (t.person_id, Some(t.agency())),
            None => (Uuid::now_v7(), None),
        };
        self.events.push(Staged::new(
            person_id.to_string(),
            &events::person_registered(
                person_id,
                now,
                &c.mother_tongue,
                c.contact_language.as_deref(),
                agency,
            ),
        ));
        self.persons.push(person::ActiveModel {
            id: Set(person_id),
            national_number: Set(c.number.digits().to_owned()),
            given_name: Set(c.given_name),
            family_name: Set(c.family_name),
            mother_tongue: Set(c.mother_tongue),
            contact_language: Set(c.contact_language),
            birth_date: Set(c.birth_date),
            registered_at: Set(now),
            registered_by: Set(format!("import:{source}")),
        });
        self.imports.push(caseload_import::ActiveModel {
            person_id: Set(person_id),
            source: Set(source.to_owned()),
            line: Set(c.line as i64),
            fingerprint: Set(c.fingerprint),
            imported_at: Set(now),
        });
        if let Some(r) = &c.register
            && rules::BRUSSELS_NIS.contains(&r.nis.code())
        {
            let obligation = rules::brussels_obligation(&BrusselsRegistration {
                municipality_nis: r.nis.code(),
                registered_on: r.registered_on,
                birth_date: c.birth_date,
                free_movement: r.free_movement,
                foreigners_register: r.foreigners_register,
                legal_stay_since: None,
                exempted: false,
            });
            let (obliged, why) = match obligation {
                BrusselsObligation::Obliged => (true, None),
                BrusselsObligation::NotObliged(why) => (false, Some(brussels::because(why))),
            };
            self.newcomers.push(brussels_newcomer::ActiveModel {
                person_id: Set(person_id),
                municipality_nis: Set(r.nis.to_string()),
                registered_on: Set(r.registered_on),
                free_movement: Set(r.free_movement),
                foreigners_register: Set(r.foreigners_register),
                obliged: Set(obliged),
                not_obliged_because: Set(why.map(str::to_owned)),
            });
        }
        let trajectory_id = c.trajectory.as_ref().map(|(t, _)| t.id);
        let bon_contract = c
            .trajectory
            .as_ref()
            .filter(|(t, _)| t.agency() == platform::Agency::Bon)
            .and_then(|(t, _)| t.contract.as_ref().map(|k| (t.id, k.signed_on)));
        for (registered_on, language) in &c.ggc {
            self.ggc.push(ggc_registration::ActiveModel {
                id: Set(Uuid::now_v7()),
                person_id: Set(person_id),
                registered_on: Set(*registered_on),
                language: Set((*language).to_owned()),
                reported_at: Set(now),
                reported_by: Set(format!("import:{source}")),
                conflicting_trajectory_id: Set(bon_contract.map(|b| b.0)),
                conflicting_contract_signed_on: Set(bon_contract.map(|b| b.1)),
            });
        }
        if let Some((mut t, events)) = c.trajectory {
            t.imported_on = Some(now.date_naive());
            self.events.extend(events::staged(&t, &events)?);
            if let Some(contract) = &t.contract {
                for f in &contract.fees {
                    self.fees.push(fee::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        trajectory_id: Set(t.id),
                        person_id: Set(t.person_id),
                        kind: Set(f.kind.as_str().to_owned()),
                        amount_cents: Set(f.cents),
                        charged_on: Set(contract.signed_on),
                    });
                }
            }
            self.trajectories.push(trajectory_row(&t, now));
        }
        Ok(Applied::Created {
            person_id,
            trajectory_id,
        })
    }

    async fn write<C: ConnectionTrait>(
        self,
        conn: &C,
        outbox: &Outbox,
    ) -> Result<(), TrajectoryError> {
        insert_all::<person::Entity, _>(conn, self.persons).await?;
        insert_all::<trajectory::Entity, _>(conn, self.trajectories).await?;
        insert_all::<fee::Entity, _>(conn, self.fees).await?;
        insert_all::<brussels_newcomer::Entity, _>(conn, self.newcomers).await?;
        insert_all::<ggc_registration::Entity, _>(conn, self.ggc).await?;
        insert_all::<caseload_import::Entity, _>(conn, self.imports).await?;
        outbox.stage_all(conn, self.events).await?;
        Ok(())
    }
}

async fn insert_all<E, C>(conn: &C, rows: Vec<E::ActiveModel>) -> Result<(), TrajectoryError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        E::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// The trajectory's row with everything the replay made of it.
fn trajectory_row(t: &Trajectory, now: DateTime<Utc>) -> trajectory::ActiveModel {
    let p = &t.progress;
    let c = t.contract.as_ref();
    let (state_reason, state_since) = match &t.state {
        State::Active => (None, None),
        State::Suspended { reason, since } | State::Stopped { reason, since } => {
            (Some(reason.clone()), Some(*since))
        }
    };
    trajectory::ActiveModel {
        id: Set(t.id),
        person_id: Set(t.person_id),
        municipality_nis: Set(t.municipality.to_string()),
        agency: Set(t.agency().as_str().to_owned()),
        status: Set(t.status.as_str().to_owned()),
        exemption_reason: Set(t.exemption.map(|e| e.as_str().to_owned())),
        started_on: Set(t.started_on),
        contract_signed_on: Set(c.map(|c| c.signed_on)),
        nt2_deadline: Set(c.map(|c| c.nt2_deadline)),
        mo_deadline: Set(c.map(|c| c.mo_deadline)),
        vdab_deadline: Set(c.map(|c| c.vdab_deadline)),
        participation_deadline: Set(c.and_then(|c| c.participation_deadline)),
        rights_and_duties_clause: Set(c.is_some_and(|c| c.rights_and_duties_clause)),
        created_at: Set(now),
        nt2_completed_on: Set(p.nt2_completed_on),
        mo_completed_on: Set(p.mo_completed_on),
        vdab_registered_on: Set(p.vdab_registered_on),
        participation_hours: Set(i32::try_from(p.participation_hours).unwrap_or(i32::MAX)),
        participation_completed_on: Set(p.participation_completed_on),
        participation_waiver: Set(p.participation_waiver.map(|w| w.as_str().to_owned())),
        attest_issued_on: Set(p.attest_issued_on),
        version: Set(0),
        state: Set(t.state.as_str().to_owned()),
        state_reason: Set(state_reason),
        state_since: Set(state_since),
        b1_due_by: Set(p.b1_due_by),
        b1_closed_on: Set(p.b1_closed_on),
        effort_declared_on: Set(p.effort_declaration.as_ref().map(|e| e.issued_on)),
        effort_grounds: Set(p.effort_declaration.as_ref().map(|e| e.grounds.clone())),
        imported_on: Set(t.imported_on),
    }
}
