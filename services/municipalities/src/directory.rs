//! Reads of the municipality register: one municipality, a filtered page, and the
//! resolution of a current or former code.

use std::collections::BTreeMap;

use platform::{Agency, Nis, paging::Page};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    MunicipalitiesError,
    domain::{Municipality, MunicipalityFilter, Region, stored_nis},
    store::{former_nis, municipality},
};

fn to_domain(
    row: municipality::Model,
    formers: Vec<Nis>,
) -> Result<Municipality, MunicipalitiesError> {
    let corrupt =
        |what: &str| MunicipalitiesError::Corrupt(format!("municipality {}: {what}", row.nis));
    Ok(Municipality {
        nis: stored_nis(&row.nis)?,
        region: Region::from_stored(&row.region).ok_or_else(|| corrupt("region"))?,
        agency: row
            .agency
            .as_deref()
            .map(|a| Agency::from_alias(a).ok_or_else(|| corrupt("agency")))
            .transpose()?,
        name_nl: row.name_nl,
        name_fr: row.name_fr,
        province_nis: row.province_nis,
        province_name_nl: row.province_name_nl,
        former: formers,
    })
}

/// The former codes of each of `codes`.
async fn formers(
    db: &DatabaseConnection,
    codes: Vec<String>,
) -> Result<BTreeMap<String, Vec<Nis>>, MunicipalitiesError> {
    let mut by: BTreeMap<String, Vec<Nis>> = BTreeMap::new();
    for row in former_nis::Entity::find()
        .filter(former_nis::Column::Nis.is_in(codes))
        .order_by_asc(former_nis::Column::Former)
        .all(db)
        .await?
    {
        let former = stored_nis(&row.former)?;
        by.entry(row.nis).or_default().push(former);
    }
    Ok(by)
}

/// The municipality with current code `nis`; a former code is not found, with a hint.
pub async fn get(db: &DatabaseConnection, nis: Nis) -> Result<Municipality, MunicipalitiesError> {
    let code = nis.to_string();
    match municipality::Entity::find_by_id(code.clone())
        .one(db)
        .await?
    {
        Some(row) => {
            let mut formers = formers(db, vec![code.clone()]).await?;
            to_domain(row, formers.remove(&code).unwrap_or_default())
        }
        None => match former_nis::Entity::find_by_id(code.clone()).one(db).await? {
            Some(merged) => Err(MunicipalitiesError::Merged {
                nis: code,
                into: merged.nis,
            }),
            None => Err(MunicipalitiesError::MunicipalityNotFound { nis: code }),
        },
    }
}

/// The agency competent for the municipality `nis` (none in Wallonia), without the rest
/// of its record: what every access check on a stored offer or placement needs.
pub async fn competent_agency(
    db: &DatabaseConnection,
    nis: Nis,
) -> Result<Option<Agency>, MunicipalitiesError> {
    let code = nis.to_string();
    let row = municipality::Entity::find_by_id(code.clone())
        .one(db)
        .await?
        .ok_or(MunicipalitiesError::MunicipalityNotFound { nis: code })?;
    row.agency
        .as_deref()
        .map(|a| {
            Agency::from_alias(a).ok_or_else(|| {
                MunicipalitiesError::Corrupt(format!("municipality {}: agency", row.nis))
            })
        })
        .transpose()
}

/// A current or former code → the current municipality, and whether it was merged.
pub async fn resolve(
    db: &DatabaseConnection,
    nis: Nis,
) -> Result<(Municipality, bool), MunicipalitiesError> {
    match get(db, nis).await {
        Ok(m) => Ok((m, false)),
        Err(MunicipalitiesError::Merged { into, .. }) => {
            let current = Nis::parse("nis", &into)
                .map_err(|_| MunicipalitiesError::Corrupt(format!("merged into {into}")))?;
            Ok((get(db, current).await?, true))
        }
        Err(e) => Err(e),
    }
}

/// One page of municipalities, by code, and the token of the next.
pub async fn page(
    db: &DatabaseConnection,
    filter: MunicipalityFilter,
    page: Page<String>,
) -> Result<(Vec<Municipality>, String), MunicipalitiesError> {
    let mut rows = list(db, filter, page.after.clone(), page.fetch()).await?;
    let next_page_token = page.finish(&mut rows, |m| m.nis.to_string());
    Ok((rows, next_page_token))
}

async fn list(
    db: &DatabaseConnection,
    filter: MunicipalityFilter,
    after: Option<String>,
    limit: u64,
) -> Result<Vec<Municipality>, MunicipalitiesError> {
    use municipality::Column as C;
    let mut condition = Condition::all();
    if let Some(region) = filter.region {
        condition = condition.add(C::Region.eq(region.as_str()));
    }
    if let Some(province) = filter.province_nis {
        condition = condition.add(C::ProvinceNis.eq(province));
    }
    if let Some(agency) = filter.agency {
        condition = condition.add(C::Agency.eq(agency.as_str()));
    }
    if let Some(after) = after {
        condition = condition.add(C::Nis.gt(after));
    }
    let rows = municipality::Entity::find()
        .filter(condition)
        .order_by_asc(C::Nis)
        .limit(limit)
        .all(db)
        .await?;
    let mut formers = formers(db, rows.iter().map(|r| r.nis.clone()).collect()).await?;
    rows.into_iter()
        .map(|row| {
            let f = formers.remove(&row.nis).unwrap_or_default();
            to_domain(row, f)
        })
        .collect()
}
