//! The conversion funnel: of the letters sent in a month, per municipality, target group
//! and campaign, how many people then started a trajectory (intake) and signed a contract
//! on or after the day of their letter. Cells under five people are suppressed, and so is
//! every rate computed from one.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use proto::recruitment::v1 as pb;
use sea_orm::{
    ConnectionTrait, FromQueryResult,
    sea_query::{Expr, ExprTrait, Order, Query},
};
use uuid::Uuid;

use crate::{
    RecruitmentError, convert,
    policy::Scope,
    rules,
    store::{attribution, conversion, letter},
};

/// Months a funnel request may span.
pub const MAX_FUNNEL_MONTHS: u32 = 36;

/// The months a funnel is asked for, checked: `to` not before `from`, and at most
/// [`MAX_FUNNEL_MONTHS`] months.
pub fn period(from: NaiveDate, to: NaiveDate) -> Result<(NaiveDate, NaiveDate), RecruitmentError> {
    if to < from {
        return Err(RecruitmentError::invalid(
            "to_month",
            format!("{}-{:02} is before from_month", to.year(), to.month()),
        ));
    }
    if from + Months::new(MAX_FUNNEL_MONTHS) <= to {
        return Err(RecruitmentError::invalid(
            "to_month",
            format!("a funnel spans at most {MAX_FUNNEL_MONTHS} months"),
        ));
    }
    Ok((from, to))
}

/// One sent letter with what became of its person.
#[derive(Debug, FromQueryResult)]
struct Sent {
    nis: String,
    target_group: String,
    sent_on: Option<NaiveDate>,
    sent_month: Option<NaiveDate>,
    intake_on: Option<NaiveDate>,
    contract_on: Option<NaiveDate>,
    campaign_id: Option<Uuid>,
}

/// The counts of one row, before suppression.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub letters: i64,
    pub intakes: i64,
    pub contracts: i64,
}

/// Row key: municipality, group, campaign, month.
pub type Key = (String, String, Option<Uuid>, NaiveDate);

/// The funnel's counts for the letters sent from `from_month` to `to_month` (first days)
/// in `scope`, optionally one municipality.
pub async fn counts(
    db: &impl ConnectionTrait,
    scope: &Scope,
    only: Option<&str>,
    from_month: NaiveDate,
    to_month: NaiveDate,
) -> Result<BTreeMap<Key, Counts>, RecruitmentError> {
    use letter::Column as L;
    let mut q = Query::select();
    q.column((letter::Entity, L::Nis))
        .column((letter::Entity, L::TargetGroup))
        .column((letter::Entity, L::SentOn))
        .column((letter::Entity, L::SentMonth))
        .column((conversion::Entity, conversion::Column::IntakeOn))
        .column((conversion::Entity, conversion::Column::ContractOn))
        .column((attribution::Entity, attribution::Column::CampaignId))
        .from(letter::Entity)
        .left_join(
            conversion::Entity,
            Expr::col((conversion::Entity, conversion::Column::PersonId))
                .equals((letter::Entity, L::PersonId)),
        )
        .left_join(
            attribution::Entity,
            Expr::col((attribution::Entity, attribution::Column::PersonId))
                .equals((letter::Entity, L::PersonId)),
        )
        .and_where(Expr::col((letter::Entity, L::State)).eq("sent"))
        .and_where(Expr::col((letter::Entity, L::SentMonth)).between(from_month, to_month))
        .order_by((letter::Entity, L::SentMonth), Order::Asc);
    if let Some(nis) = only {
        q.and_where(Expr::col((letter::Entity, L::Nis)).eq(nis));
    }
    match scope {
        Scope::All => {}
        Scope::Municipality(nis) => {
            q.and_where(Expr::col((letter::Entity, L::Nis)).eq(nis.to_string()));
        }
        Scope::Agencies(agencies) => {
            q.and_where(
                Expr::col((letter::Entity, L::Agency)).is_in(agencies.iter().map(|a| a.as_str())),
            );
        }
    }
    let stmt = db.get_database_backend().build(&q);
    let mut rows: BTreeMap<Key, Counts> = BTreeMap::new();
    for s in Sent::find_by_statement(stmt).all(db).await? {
        let (Some(sent_on), Some(month)) = (s.sent_on, s.sent_month) else {
            return Err(RecruitmentError::Corrupt(
                "a sent letter without a day".into(),
            ));
        };
        let c = rows
            .entry((s.nis, s.target_group, s.campaign_id, month))
            .or_default();
        c.letters += 1;
        c.intakes += i64::from(s.intake_on.is_some_and(|d| d >= sent_on));
        c.contracts += i64::from(s.contract_on.is_some_and(|d| d >= sent_on));
    }
    Ok(rows)
}

fn cell(count: i64) -> pb::Cell {
    if rules::may_show(count) {
        pb::Cell {
            count: Some(count),
            suppressed: false,
        }
    } else {
        pb::Cell {
            count: None,
            suppressed: true,
        }
    }
}

/// The funnel rows as the API returns them, suppressed where small.
pub fn rows(counts: &BTreeMap<Key, Counts>) -> Vec<pb::FunnelRow> {
    counts
        .iter()
        .map(|((nis, group, campaign, month), c)| {
            let shown = |n: i64| rules::may_show(n);
            let rate = |part: i64| {
                (shown(c.letters) && shown(part))
                    .then(|| rules::rate_percent(part, c.letters))
                    .flatten()
            };
            pb::FunnelRow {
                municipality_nis: nis.clone(),
                target_group: convert::stored_group(group) as i32,
                campaign_id: campaign.map(|c| c.to_string()).unwrap_or_default(),
                month: Some(wire::date(*month)),
                letters: Some(cell(c.letters)),
                intakes: Some(cell(c.intakes)),
                contracts: Some(cell(c.contracts)),
                intake_rate_percent: rate(c.intakes),
                contract_rate_percent: rate(c.contracts),
            }
        })
        .collect()
}
