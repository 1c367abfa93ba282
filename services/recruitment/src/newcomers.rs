//! The newcomers the register feed brought in, as an officer lists them: the
//! registrations of the agencies of their area, with the letters each person was sent.

use chrono::NaiveDate;
use platform::paging::Page;
use sea_orm::{
    ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    RecruitmentError,
    domain::{Agency, LetterKind, Nis},
    store::{letter, registration},
};

/// Which newcomers a listing asks for, besides the officer's area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// One municipality (the one in force), or all of the area.
    pub nis: Option<Nis>,
    /// Registration days, both inclusive.
    pub registered_from: Option<NaiveDate>,
    pub registered_to: Option<NaiveDate>,
}

/// A registration with the kinds of letter its person was sent by the area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newcomer {
    pub registration: registration::Model,
    pub letters_sent: Vec<LetterKind>,
}

/// A page of the registrations of `area` that `filter` selects, in registration order,
/// and the token of the next page.
pub async fn list(
    db: &impl ConnectionTrait,
    area: &[Agency],
    filter: &Filter,
    page: Page,
) -> Result<(Vec<Newcomer>, String), RecruitmentError> {
    use registration::Column as C;
    let mut q = registration::Entity::find()
        .filter(Expr::col(C::Agency).is_in(area.iter().map(|a| a.as_str())))
        .order_by_asc(C::Id);
    if let Some(nis) = filter.nis {
        q = q.filter(Expr::col(C::Nis).eq(nis.to_string()));
    }
    if let Some(from) = filter.registered_from {
        q = q.filter(Expr::col(C::RegisteredOn).gte(from));
    }
    if let Some(to) = filter.registered_to {
        q = q.filter(Expr::col(C::RegisteredOn).lte(to));
    }
    if let Some(after) = page.after {
        q = q.filter(Expr::col(C::Id).gt(after));
    }
    let mut rows = q.limit(page.fetch()).all(db).await?;
    let next = page.finish(&mut rows, |r| r.id);
    let people: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
    let sent = letter::Entity::find()
        .filter(Expr::col(letter::Column::PersonId).is_in(people))
        .filter(Expr::col(letter::Column::Agency).is_in(area.iter().map(|a| a.as_str())))
        .filter(Expr::col(letter::Column::State).eq("sent"))
        .all(db)
        .await?;
    let newcomers = rows
        .into_iter()
        .map(|r| Newcomer {
            letters_sent: sent
                .iter()
                .filter(|l| l.person_id == r.person_id)
                .filter_map(|l| LetterKind::from_stored(&l.kind))
                .collect(),
            registration: r,
        })
        .collect();
    Ok((newcomers, next))
}
