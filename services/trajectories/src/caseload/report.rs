//! The reconciliation report: what the platform now holds of an import, counted the way an
//! agency's own system counts, to hold the two side by side.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
    RelationDef, StreamTrait,
};
use serde::Serialize;

use crate::{
    TrajectoryError,
    store::{caseload_import, trajectory},
};

/// Counts of an import's persons and trajectories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub persons: u64,
    pub trajectories: u64,
    pub per_agency: BTreeMap<String, u64>,
    pub per_municipality: BTreeMap<String, u64>,
    /// `obliged`, `entitled`, `voluntary`, each also by state (`obliged/stopped`).
    pub per_status: BTreeMap<String, u64>,
    /// Contracts signed per year; `none` for trajectories without one.
    pub per_contract_year: BTreeMap<String, u64>,
    /// Attests per year of issue.
    pub per_attest_year: BTreeMap<String, u64>,
    /// Completed components: `nt2`, `mo`, `economic-self-reliance`, `participation`; and
    /// `participation-waived`, `effort-declaration`, `b1-closed`.
    pub per_component: BTreeMap<String, u64>,
}

/// The columns of a trajectory the report counts.
#[derive(Debug, FromQueryResult)]
struct Counted {
    agency: String,
    municipality_nis: String,
    status: String,
    state: String,
    contract_signed_on: Option<NaiveDate>,
    attest_issued_on: Option<NaiveDate>,
    nt2_completed_on: Option<NaiveDate>,
    mo_completed_on: Option<NaiveDate>,
    vdab_registered_on: Option<NaiveDate>,
    participation_completed_on: Option<NaiveDate>,
    participation_waiver: Option<String>,
    effort_declared_on: Option<NaiveDate>,
    b1_closed_on: Option<NaiveDate>,
}

type Row = (
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    [Option<NaiveDate>; 4],
    (Option<String>, Option<NaiveDate>, Option<NaiveDate>),
);

/// Counts what `source` brought in (every import when `None`), streaming the rows.
pub async fn reconcile<C: ConnectionTrait + StreamTrait>(
    db: &C,
    source: Option<&str>,
) -> Result<Reconciliation, TrajectoryError> {
    let mut report = Reconciliation::default();
    let mut persons = caseload_import::Entity::find();
    if let Some(s) = source {
        persons = persons.filter(caseload_import::Column::Source.eq(s));
    }
    report.persons = sea_orm::PaginatorTrait::count(persons, db).await?;
    let imported: RelationDef = caseload_import::Entity::belongs_to(trajectory::Entity)
        .from(caseload_import::Column::PersonId)
        .to(trajectory::Column::PersonId)
        .into();
    use trajectory::Column as T;
    let mut query = trajectory::Entity::find()
        .join(JoinType::InnerJoin, imported.rev())
        .select_only()
        .columns([T::Agency, T::MunicipalityNis, T::Status, T::State])
        .columns([T::ContractSignedOn, T::AttestIssuedOn])
        .columns([
            T::Nt2CompletedOn,
            T::MoCompletedOn,
            T::VdabRegisteredOn,
            T::ParticipationCompletedOn,
        ])
        .columns([T::ParticipationWaiver, T::EffortDeclaredOn, T::B1ClosedOn]);
    if let Some(s) = source {
        query = query.filter(caseload_import::Column::Source.eq(s));
    }
    let mut rows = query.into_model::<Counted>().stream(db).await?;
    while let Some(r) = rows.try_next().await? {
        report.add(r);
    }
    Ok(report)
}

/// Adds to `report` what the platform holds of `persons` (one batch of a file's persons,
/// whatever import or request brought them in): the report of a file, which holds against
/// the source system's counts also when part of it came with an earlier file.
pub async fn add_persons<C: ConnectionTrait>(
    db: &C,
    persons: &[uuid::Uuid],
    report: &mut Reconciliation,
) -> Result<(), TrajectoryError> {
    use trajectory::Column as T;
    report.persons += persons.len() as u64;
    for chunk in persons.chunks(500) {
        let rows = trajectory::Entity::find()
            .select_only()
            .columns([T::Agency, T::MunicipalityNis, T::Status, T::State])
            .columns([T::ContractSignedOn, T::AttestIssuedOn])
            .columns([
                T::Nt2CompletedOn,
                T::MoCompletedOn,
                T::VdabRegisteredOn,
                T::ParticipationCompletedOn,
            ])
            .columns([T::ParticipationWaiver, T::EffortDeclaredOn, T::B1ClosedOn])
            .filter(T::PersonId.is_in(chunk.iter().copied()))
            .into_model::<Counted>()
            .all(db)
            .await?;
        for r in rows {
            report.add(r);
        }
    }
    Ok(())
}

impl Reconciliation {
    fn add(&mut self, r: Counted) {
        self.count((
            r.agency,
            r.municipality_nis,
            r.status,
            r.state,
            r.contract_signed_on,
            r.attest_issued_on,
            [
                r.nt2_completed_on,
                r.mo_completed_on,
                r.vdab_registered_on,
                r.participation_completed_on,
            ],
            (r.participation_waiver, r.effort_declared_on, r.b1_closed_on),
        ));
    }

    fn count(&mut self, row: Row) {
        let (agency, nis, status, state, contract, attest, done, (waiver, effort, b1)) = row;
        let bump = |map: &mut BTreeMap<String, u64>, key: String| *map.entry(key).or_default() += 1;
        self.trajectories += 1;
        bump(&mut self.per_agency, agency);
        bump(&mut self.per_municipality, nis);
        bump(&mut self.per_status, status.clone());
        bump(&mut self.per_status, format!("{status}/{state}"));
        bump(
            &mut self.per_contract_year,
            contract.map_or("none".to_owned(), |d| d.year().to_string()),
        );
        if let Some(a) = attest {
            bump(&mut self.per_attest_year, a.year().to_string());
        }
        for (name, d) in ["nt2", "mo", "economic-self-reliance", "participation"]
            .into_iter()
            .zip(done)
        {
            if d.is_some() {
                bump(&mut self.per_component, name.to_owned());
            }
        }
        for (name, present) in [
            ("participation-waived", waiver.is_some()),
            ("effort-declaration", effort.is_some()),
            ("b1-closed", b1.is_some()),
        ] {
            if present {
                bump(&mut self.per_component, name.to_owned());
            }
        }
    }

    /// The report as `section,key,count` lines (CSV with a header).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,key,count\n");
        out.push_str(&format!("total,persons,{}\n", self.persons));
        out.push_str(&format!("total,trajectories,{}\n", self.trajectories));
        for (section, map) in [
            ("agency", &self.per_agency),
            ("municipality", &self.per_municipality),
            ("status", &self.per_status),
            ("contract_year", &self.per_contract_year),
            ("attest_year", &self.per_attest_year),
            ("component", &self.per_component),
        ] {
            for (k, v) in map {
                out.push_str(&format!("{section},{k},{v}\n"));
            }
        }
        out
    }
}
