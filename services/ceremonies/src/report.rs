//! The response-rate report: per municipality, year and kind, the ceremonies held on the
//! platform (counted from their invitations and attendance, so a rate always matches its
//! counts) beside the imported historical overviews (whose published rate is kept and
//! checked against their own counts), with totals per agency and kind. A count not known
//! stays missing: never 0, never part of a rate.

use std::collections::HashMap;

use platform::{Agency, Nis};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, Func, Query},
};
use wire::register::municipality;

use crate::{
    CeremoniesError,
    domain::{CeremonyKind, CeremonyState, ReportRow, ReportTotal, Source},
    policy::Scope,
    store::{ceremony, overview, stored_nis},
};

/// The totals of a year's rows (kept here too for the report's callers).
pub use crate::domain::totals;

#[derive(Debug, FromQueryResult)]
struct Counted {
    nis: String,
    kind: String,
    held: i64,
    invitations: i64,
    participants: i64,
}

fn count(v: i64, what: &str) -> Result<u32, CeremoniesError> {
    u32::try_from(v).map_err(|_| CeremoniesError::Corrupt(format!("{what} count {v}")))
}

/// The ceremonies held in `year`, summed per municipality and kind in one aggregate over
/// the ceremonies alone: a held ceremony carries its invitations and participants, counted
/// from its invitation rows when it was closed (nothing about them changes after that).
async fn platform_rows(
    db: &DatabaseConnection,
    year: i32,
    scope: &Scope,
) -> Result<Vec<Counted>, CeremoniesError> {
    use ceremony::Column as C;
    let mut q = Query::select();
    q.from(ceremony::Entity)
        .column(C::Nis)
        .column(C::Kind)
        .expr_as(Func::count(Expr::col(C::Id)), Alias::new("held"))
        .expr_as(
            Func::cast_as(Func::sum(Expr::col(C::Invitations)), Alias::new("bigint")),
            Alias::new("invitations"),
        )
        .expr_as(
            Func::cast_as(
                Func::sum(Func::coalesce([Expr::col(C::Participants), Expr::val(0)])),
                Alias::new("bigint"),
            ),
            Alias::new("participants"),
        )
        .and_where(Expr::col(C::Year).eq(year))
        .and_where(Expr::col(C::State).eq(CeremonyState::Held.as_str()))
        .group_by_col(C::Nis)
        .group_by_col(C::Kind);
    match scope {
        Scope::All => {}
        Scope::Municipality(nis) => {
            q.and_where(Expr::col(C::Nis).eq(nis.to_string()));
        }
        Scope::Agencies(agencies) => {
            q.and_where(Expr::col(C::Agency).is_in(agencies.iter().map(|a| a.as_str())));
        }
    }
    let stmt = db.get_database_backend().build(&q);
    Ok(Counted::find_by_statement(stmt).all(db).await?)
}

/// What the report needs of the register: name and agency per current code.
async fn names(
    db: &DatabaseConnection,
    codes: Vec<String>,
) -> Result<HashMap<String, (String, Option<Agency>)>, CeremoniesError> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(municipality::Entity::find()
        .filter(municipality::Column::Code.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let agency = m.agency();
            (m.code, (m.name_nl, agency))
        })
        .collect())
}

/// The report of `year` the caller's `scope` may read, optionally for one municipality
/// or agency; rows ordered by municipality, kind and source.
pub async fn year(
    db: &DatabaseConnection,
    year: i32,
    scope: &Scope,
    only_nis: Option<Nis>,
    only_agency: Option<Agency>,
) -> Result<Vec<ReportRow>, CeremoniesError> {
    let counted = platform_rows(db, year, scope).await?;
    let imported = overview::Entity::find()
        .filter(overview::Column::Year.eq(year))
        .all(db)
        .await?;
    let codes = counted
        .iter()
        .map(|c| c.nis.clone())
        .chain(imported.iter().map(|o| o.nis.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let names = names(db, codes).await?;
    let named = |nis: &str| names.get(nis).cloned().unwrap_or((nis.to_owned(), None));
    let kind = |k: &str| {
        CeremonyKind::from_stored(k).ok_or_else(|| CeremoniesError::Corrupt(format!("kind {k:?}")))
    };
    let mut rows = Vec::with_capacity(counted.len() + imported.len());
    for c in counted {
        let (name, agency) = named(&c.nis);
        rows.push(ReportRow::new(
            stored_nis(&c.nis)?,
            name,
            agency,
            year,
            kind(&c.kind)?,
            Source::Platform,
            Some(count(c.held, "held")?),
            Some(count(c.invitations, "invitations")?),
            Some(count(c.participants, "participants")?),
            None,
        ));
    }
    let known = |v: Option<i32>, what: &str| v.map(|v| count(i64::from(v), what)).transpose();
    for o in imported {
        let (name, agency) = named(&o.nis);
        rows.push(ReportRow::new(
            stored_nis(&o.nis)?,
            name,
            agency,
            year,
            kind(&o.kind)?,
            Source::Imported,
            None,
            known(o.invitations, "invitations")?,
            known(o.participants, "participants")?,
            known(o.reported_rate_bp, "reported rate")?,
        ));
    }
    rows.retain(|r| {
        let in_scope = match scope {
            Scope::All => true,
            Scope::Municipality(nis) => r.nis == *nis,
            Scope::Agencies(agencies) => r.agency.is_some_and(|a| agencies.contains(&a)),
        };
        in_scope
            && only_nis.is_none_or(|n| r.nis == n)
            && only_agency.is_none_or(|a| r.agency == Some(a))
    });
    rows.sort_by_key(|r| (r.nis, r.kind, r.source));
    Ok(rows)
}

/// A rate in hundredths of a percent as a person writes it: "17", "16.7", "16.67".
pub fn basis_points_text(bp: u32) -> String {
    let (whole, rest) = (bp / 100, bp % 100);
    match rest {
        0 => whole.to_string(),
        r if r % 10 == 0 => format!("{whole}.{}", r / 10),
        r => format!("{whole}.{r:02}"),
    }
}

/// The report as CSV: one line per row, then one per total (source `total`). A missing
/// count or rate is an empty cell, never 0.
pub fn csv(rows: &[ReportRow], totals: &[ReportTotal]) -> Result<String, CeremoniesError> {
    let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| CeremoniesError::Corrupt(format!("writing CSV: {e}"));
    out.write_record([
        "year",
        "municipality_nis",
        "municipality",
        "agency",
        "kind",
        "source",
        "ceremonies_held",
        "invitations",
        "participants",
        "computed_rate_percent",
        "reported_rate_percent",
        "inconsistent",
        "rows_with_missing_counts",
    ])
    .map_err(fail)?;
    for r in rows {
        out.write_record([
            r.year.to_string(),
            r.nis.to_string(),
            r.name.clone(),
            r.agency.map(|a| a.as_str().to_owned()).unwrap_or_default(),
            r.kind.as_str().to_owned(),
            r.source.as_str().to_owned(),
            opt(r.held),
            opt(r.invitations),
            opt(r.participants),
            opt(r.computed_rate),
            r.reported_basis_points
                .map(basis_points_text)
                .unwrap_or_default(),
            if r.inconsistent { "yes" } else { "no" }.to_owned(),
            String::new(),
        ])
        .map_err(fail)?;
    }
    let year = rows.first().map(|r| r.year.to_string()).unwrap_or_default();
    for t in totals {
        out.write_record([
            year.clone(),
            String::new(),
            String::new(),
            t.agency.map(|a| a.as_str().to_owned()).unwrap_or_default(),
            t.kind.as_str().to_owned(),
            "total".to_owned(),
            opt(t.held),
            opt(t.invitations),
            opt(t.participants),
            opt(t.computed_rate),
            String::new(),
            t.inconsistent_rows.to_string(),
            t.rows_with_missing_counts.to_string(),
        ])
        .map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| CeremoniesError::Corrupt(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| CeremoniesError::Corrupt(format!("CSV: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        invitations: Option<u32>,
        participants: Option<u32>,
        reported: Option<u32>,
    ) -> ReportRow {
        ReportRow::new(
            Nis::parse("nis", "11002").expect("valid"),
            "Antwerpen".into(),
            Some(Agency::Atlas),
            2019,
            CeremonyKind::Integration,
            Source::Imported,
            None,
            invitations,
            participants,
            reported,
        )
    }

    #[test]
    fn a_missing_count_leaves_the_rate_missing_and_unflagged() {
        let r = row(None, Some(10), Some(4_000));
        assert_eq!((r.computed_rate, r.inconsistent), (None, false));
        let r = row(Some(25), None, None);
        assert_eq!(r.computed_rate, None);
    }

    #[test]
    fn a_reported_rate_that_its_counts_do_not_give_is_flagged() {
        // 20 / 50 = 40%.
        assert!(!row(Some(50), Some(20), Some(4_000)).inconsistent);
        assert!(row(Some(50), Some(20), Some(4_500)).inconsistent);
        assert_eq!(row(Some(50), Some(20), None).computed_rate, Some(40));
    }

    #[test]
    fn a_total_misses_what_any_of_its_rows_misses() {
        let rows = [row(Some(50), Some(20), None), row(None, Some(5), None)];
        let t = &totals(&rows)[0];
        assert_eq!(t.invitations, None);
        assert_eq!(t.participants, Some(25));
        assert_eq!(t.computed_rate, None);
        assert_eq!(t.rows_with_missing_counts, 1);
        let rows = [row(Some(50), Some(20), None), row(Some(50), Some(30), None)];
        assert_eq!(totals(&rows)[0].computed_rate, Some(50));
    }

    #[test]
    fn missing_is_an_empty_cell_in_the_csv() {
        let rows = [row(None, Some(10), Some(1_670))];
        let text = csv(&rows, &totals(&rows)).expect("csv");
        let line = text.lines().nth(1).expect("a row");
        assert_eq!(
            line,
            "2019,11002,Antwerpen,atlas,integration,imported,,,10,,16.7,no,"
        );
    }
}
