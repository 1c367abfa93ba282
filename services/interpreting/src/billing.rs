//! Billing: a month's performed services and late cancellations of an agency's area, each
//! priced at the rate in force on its day, grouped per payer into invoices
//! (`InterpretingBilled`). Who pays follows [`rules::who_pays`] on the day of the
//! service, from the trajectories known when billing. A service is billed once: its
//! request id is the key of its invoice line. Amounts are cents.

use platform::db::BeginWrite as _;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use platform::{Agency, events::Outbox, paging::Page};
use proto::interpreting::v1 as pb;
use sea_orm::{
    Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    InterpretingError, convert,
    domain::{Mode, RequestState},
    policy::Viewer,
    rates::Rates,
    rules::{self, Payer, TrajectorySpan},
    store::{invoice, invoice_line, request, trajectory},
};

type Result<T, E = InterpretingError> = std::result::Result<T, E>;

/// The first day of the month of `day`.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

/// An invoice with its lines.
pub type Billed = (invoice::Model, Vec<invoice_line::Model>);

/// The billing of the service.
#[derive(Debug, Clone)]
pub struct Billing {
    db: DatabaseConnection,
    outbox: Outbox,
    rates: Rates,
}

impl Billing {
    pub fn new(db: DatabaseConnection, outbox: Outbox, rates: Rates) -> Self {
        Self { db, outbox, rates }
    }

    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    /// Bills what of `month` in `area` is not billed yet.
    pub async fn run(
        &self,
        area: &[Agency],
        any_day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<Billed>> {
        use request::Column as C;
        let month = month_of(any_day);
        if month > month_of(platform::clock::belgian_date(now)) {
            return Err(InterpretingError::invalid(
                "month",
                format!("{} has not begun", month.format("%Y-%m")),
            ));
        }
        let next = month + Months::new(1);
        let due = request::Entity::find()
            .filter(Expr::col(C::Agency).is_in(area.iter().map(|a| a.as_str())))
            .filter(Expr::col(C::ServiceOn).gte(month))
            .filter(Expr::col(C::ServiceOn).lt(next))
            .filter(Expr::col(C::InvoiceId).is_null())
            .filter(
                Condition::any()
                    .add(Expr::col(C::State).eq(RequestState::Performed.as_str()))
                    .add(
                        Condition::all()
                            .add(Expr::col(C::State).eq(RequestState::Cancelled.as_str()))
                            .add(Expr::col(C::CancellationBillable).eq(true)),
                    ),
            )
            .order_by_asc(C::Id)
            .all(&self.db)
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let spans = self.spans(&due).await?;
        // (agency, payer kind, payer) → lines; BTreeMap for a stable order.
        let mut grouped: BTreeMap<(String, &'static str, String), Vec<invoice_line::Model>> =
            BTreeMap::new();
        for r in &due {
            let day = r.service_on.ok_or_else(|| {
                InterpretingError::Corrupt(format!("request {} has no service day", r.id))
            })?;
            let mode = Mode::from_stored(&r.mode).ok_or_else(|| {
                InterpretingError::Corrupt(format!("request {} has mode {:?}", r.id, r.mode))
            })?;
            let rate = self.rates.on(mode, day).ok_or(InterpretingError::NoRate {
                mode: mode.as_str(),
                day,
            })?;
            let late = r.state == RequestState::Cancelled.as_str();
            let quantity = if late {
                r.duration_minutes
            } else {
                r.performed_minutes.or(r.performed_words)
            }
            .ok_or_else(|| {
                InterpretingError::Corrupt(format!("request {} has nothing to bill", r.id))
            })?;
            let (billed, amount) = rate.bill(i64::from(quantity));
            let person_spans = r
                .person_id
                .map(|p| spans.get(&p).map(Vec::as_slice).unwrap_or_default());
            let (kind, payer) = match (rules::who_pays(day, person_spans), r.person_id) {
                (Payer::Person, Some(person)) => ("person", person.to_string()),
                _ => ("organisation", r.requester.clone()),
            };
            grouped
                .entry((r.agency.clone(), kind, payer))
                .or_default()
                .push(invoice_line::Model {
                    request_id: r.id,
                    invoice_id: Uuid::nil(),
                    service_on: day,
                    mode: mode.as_str().to_owned(),
                    language: r.language.clone(),
                    quantity: billed,
                    unit: rate.unit.as_str().to_owned(),
                    rate_cents: rate.cents,
                    amount_cents: amount,
                    late_cancellation: late,
                });
        }
        let month_label = month.format("%Y-%m").to_string();
        let race = || InterpretingError::BillingRace {
            month: month_label.clone(),
        };
        let txn = self.db.begin_write().await?;
        let mut out = Vec::with_capacity(grouped.len());
        for ((agency, kind, payer), mut lines) in grouped {
            let id = Uuid::now_v7();
            let total = lines.iter().map(|l| l.amount_cents).sum();
            let row = invoice::Model {
                id,
                month,
                agency,
                payer_kind: kind.to_owned(),
                payer,
                total_cents: total,
                issued_at: now,
            };
            invoice::Entity::insert(invoice::ActiveModel::from(row.clone()))
                .exec_without_returning(&txn)
                .await?;
            for l in &mut lines {
                l.invoice_id = id;
            }
            let ids: Vec<Uuid> = lines.iter().map(|l| l.request_id).collect();
            let marked = request::Entity::update_many()
                .col_expr(C::InvoiceId, Expr::val(id))
                .filter(Expr::col(C::Id).is_in(ids.iter().copied()))
                .filter(Expr::col(C::InvoiceId).is_null())
                .exec(&txn)
                .await?;
            if marked.rows_affected != ids.len() as u64 {
                return Err(race());
            }
            invoice_line::Entity::insert_many(
                lines.iter().cloned().map(invoice_line::ActiveModel::from),
            )
            .exec_without_returning(&txn)
            .await
            .map_err(|e| if is_unique(&e) { race() } else { e.into() })?;
            self.outbox
                .stage(
                    &txn,
                    &id.to_string(),
                    &pb::InterpretingBilled {
                        invoice_id: id.to_string(),
                        month: Some(wire::date(month)),
                        agency: wire::stored_agency(&row.agency),
                        payer_kind: convert::payer_kind(&row.payer_kind) as i32,
                        payer: row.payer.clone(),
                        request_ids: ids.iter().map(Uuid::to_string).collect(),
                        total: Some(proto::common::v1::Money { cents: total }),
                    },
                )
                .await?;
            out.push((row, lines));
        }
        txn.commit().await?;
        self.outbox.committed();
        tracing::info!(month = %month_label, invoices = out.len(), services = due.len(), "interpreting billed");
        Ok(out)
    }

    /// Who pays each of `rows` on its day, by the trajectories known now.
    pub async fn payers(&self, rows: &[request::Model]) -> Result<Vec<pb::PayerKind>> {
        let spans = self.spans(rows).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let day = r
                    .service_on
                    .or_else(|| crate::requests::slot_of(r).map(|s| s.day()))
                    .or(r.due_on);
                let person = r
                    .person_id
                    .map(|p| spans.get(&p).map(Vec::as_slice).unwrap_or_default());
                match day.map(|d| rules::who_pays(d, person)) {
                    Some(Payer::Person) => pb::PayerKind::Person,
                    Some(Payer::Requester) => pb::PayerKind::Organisation,
                    None => pb::PayerKind::Unspecified,
                }
            })
            .collect())
    }

    /// The trajectories of the persons of `due`.
    async fn spans(&self, due: &[request::Model]) -> Result<HashMap<Uuid, Vec<TrajectorySpan>>> {
        let persons: Vec<Uuid> = due.iter().filter_map(|r| r.person_id).collect();
        let mut out: HashMap<Uuid, Vec<TrajectorySpan>> = HashMap::new();
        for chunk in persons.chunks(500) {
            for t in trajectory::Entity::find()
                .filter(Expr::col(trajectory::Column::PersonId).is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?
            {
                out.entry(t.person_id).or_default().push(TrajectorySpan {
                    started_on: t.started_on,
                    ended_on: t.ended_on,
                });
            }
        }
        Ok(out)
    }

    /// The invoices of `month` the viewer sees, with their lines.
    pub async fn list(
        &self,
        viewer: &Viewer,
        any_day: NaiveDate,
        page: Page,
    ) -> Result<(Vec<Billed>, String)> {
        use invoice::Column as C;
        if viewer.area.is_empty() && viewer.own.is_none() {
            return Ok((Vec::new(), String::new()));
        }
        let mut visible = Condition::any();
        if !viewer.area.is_empty() {
            visible =
                visible.add(Expr::col(C::Agency).is_in(viewer.area.iter().map(|a| a.as_str())));
        }
        if let Some(own) = &viewer.own {
            visible = visible.add(
                Condition::all()
                    .add(Expr::col(C::PayerKind).eq("organisation"))
                    .add(Expr::col(C::Payer).eq(own.as_str())),
            );
        }
        let mut q = invoice::Entity::find()
            .filter(Expr::col(C::Month).eq(month_of(any_day)))
            .filter(visible)
            .order_by_asc(C::Id);
        if let Some(after) = page.after {
            q = q.filter(Expr::col(C::Id).gt(after));
        }
        let mut rows = q.limit(page.fetch()).all(&self.db).await?;
        let next = page.finish(&mut rows, |r| r.id);
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut lines: HashMap<Uuid, Vec<invoice_line::Model>> = HashMap::new();
        if !ids.is_empty() {
            for l in invoice_line::Entity::find()
                .filter(Expr::col(invoice_line::Column::InvoiceId).is_in(ids))
                .order_by_asc(invoice_line::Column::ServiceOn)
                .order_by_asc(invoice_line::Column::RequestId)
                .all(&self.db)
                .await?
            {
                lines.entry(l.invoice_id).or_default().push(l);
            }
        }
        let out = rows
            .into_iter()
            .map(|r| {
                let l = lines.remove(&r.id).unwrap_or_default();
                (r, l)
            })
            .collect();
        Ok((out, next))
    }

    /// The invoices of `month` the viewer sees, as CSV with a line per billed service.
    pub async fn export(&self, viewer: &Viewer, any_day: NaiveDate) -> Result<String> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let header = [
            "invoice_id",
            "month",
            "agency",
            "payer_kind",
            "payer",
            "request_id",
            "service_on",
            "mode",
            "language",
            "quantity",
            "unit",
            "rate_cents",
            "amount_cents",
            "late_cancellation",
            "invoice_total_cents",
        ];
        out.write_record(header).map_err(csv_error)?;
        let mut page =
            Page::parse(500, "").map_err(|e| InterpretingError::invalid("page", e.to_string()))?;
        loop {
            let (invoices, next) = self.list(viewer, any_day, page).await?;
            for (i, lines) in &invoices {
                for l in lines {
                    out.write_record([
                        i.id.to_string(),
                        i.month.format("%Y-%m").to_string(),
                        i.agency.clone(),
                        i.payer_kind.clone(),
                        i.payer.clone(),
                        l.request_id.to_string(),
                        l.service_on.to_string(),
                        l.mode.clone(),
                        l.language.clone(),
                        l.quantity.to_string(),
                        l.unit.clone(),
                        l.rate_cents.to_string(),
                        l.amount_cents.to_string(),
                        l.late_cancellation.to_string(),
                        i.total_cents.to_string(),
                    ])
                    .map_err(csv_error)?;
                }
            }
            if next.is_empty() {
                break;
            }
            page = Page::parse(500, &next)
                .map_err(|e| InterpretingError::invalid("page", e.to_string()))?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| InterpretingError::Corrupt(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| InterpretingError::Corrupt(e.to_string()))
    }
}

fn csv_error(e: csv::Error) -> InterpretingError {
    InterpretingError::Corrupt(format!("writing CSV: {e}"))
}

fn is_unique(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
