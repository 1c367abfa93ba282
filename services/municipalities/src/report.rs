//! The local monitor's query: the facts of one municipality and year, counted by measure
//! and quarter, then put through disclosure control ([`crate::monitor::disclose`]).

use std::collections::HashMap;

use platform::Nis;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

use crate::{
    MunicipalitiesError,
    monitor::{Count, Measure, Row, disclose},
    store::monitor_fact,
};

type Tally = (String, i32, i64, i64, i64);

/// (measure, quarter or 0 for the year) → (facts, people, amount).
async fn tally(
    db: &DatabaseConnection,
    nis: Nis,
    year: i32,
    by_quarter: bool,
) -> Result<Vec<Tally>, MunicipalitiesError> {
    use monitor_fact::Column as C;
    let mut query = monitor_fact::Entity::find()
        .select_only()
        .column(C::Measure)
        .filter(C::Nis.eq(nis.to_string()))
        .filter(C::Year.eq(year))
        .group_by(C::Measure);
    query = if by_quarter {
        query.column(C::Quarter).group_by(C::Quarter)
    } else {
        query.column_as(Expr::cust("0"), "quarter")
    };
    Ok(query
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "facts")
        .column_as(
            Expr::cust("CAST(COUNT(DISTINCT person_ref) AS BIGINT)"),
            "people",
        )
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"),
            "amount",
        )
        .into_tuple::<Tally>()
        .all(db)
        .await?)
}

/// What a cell shows before disclosure control: hours for hours, completions and breaches
/// as counted (one person may complete several components), people otherwise.
fn count(measure: Measure, facts: i64, people: i64, amount: i64) -> Count {
    let value = match measure {
        Measure::ParticipationHours => amount,
        Measure::ComponentsCompleted | Measure::ObligationsBreached => facts,
        _ => people,
    };
    Count { value, people }
}

/// The monitor of `nis` in `year`, every measure, disclosure-controlled.
pub async fn local_monitor(
    db: &DatabaseConnection,
    nis: Nis,
    year: i32,
) -> Result<Vec<Row>, MunicipalitiesError> {
    let mut cells: HashMap<(Measure, i32), Count> = HashMap::new();
    for by_quarter in [true, false] {
        for (measure, quarter, facts, people, amount) in tally(db, nis, year, by_quarter).await? {
            let measure = Measure::from_stored(&measure).ok_or_else(|| {
                MunicipalitiesError::Corrupt(format!("monitor measure {measure:?}"))
            })?;
            cells.insert((measure, quarter), count(measure, facts, people, amount));
        }
    }
    let cell = |m: Measure, q: i32| cells.get(&(m, q)).copied().unwrap_or_default();
    Ok(Measure::ALL
        .into_iter()
        .map(|m| {
            disclose(
                m,
                std::array::from_fn(|i| cell(m, i as i32 + 1)),
                cell(m, 0),
            )
        })
        .collect())
}
