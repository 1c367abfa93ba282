//! Test results an agency held before this service existed (issue 23's caseload import):
//! taken on their own dates, at their own centres, outside any session. `inburgering
//! import caseload` writes them into the testing database one batch per transaction.
//!
//! A result is keyed by person, test type and day. Importing it again changes nothing;
//! importing it with other content changes nothing either and says what differs, so an
//! operator decides, not the file. Each new result publishes `TestResultRecorded` marked as
//! history (consumers project it but derive no follow-up from it) and charges no fee.

use std::collections::{HashMap, hash_map::Entry};

use chrono::{NaiveDate, Utc};
use platform::events::{Outbox, Staged};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    TestingError, convert,
    domain::{self, BookingStatus, TestType},
    rules,
    store::imported_result,
};

/// One result as the agency holds it; [`HistoricalResult::check`] decides whether it may
/// be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalResult {
    pub person_id: Uuid,
    pub trajectory_id: Uuid,
    pub test_type: TestType,
    pub taken_on: NaiveDate,
    pub centre: String,
    /// Passed, failed or absent.
    pub outcome: BookingStatus,
    /// The level reached, e.g. "A2": required for a pass, none for an absence.
    pub level_reached: Option<String>,
}

impl HistoricalResult {
    /// Whether the result may be imported on `today`; the error names the field.
    pub fn check(&self, today: NaiveDate) -> Result<(), TestingError> {
        if self.person_id.is_nil() {
            return Err(TestingError::invalid("person_id", "is required"));
        }
        if self.trajectory_id.is_nil() {
            return Err(TestingError::invalid("trajectory_id", "is required"));
        }
        if self.test_type == TestType::LanguageLevel {
            return Err(TestingError::invalid(
                "test_type",
                "a language-level test is no integration history; import NT2 A2, adapted \
                 NT2 A2, MO or B1 oral",
            ));
        }
        if self.taken_on > today {
            return Err(TestingError::invalid(
                "taken_on",
                format!("{} lies in the future", self.taken_on),
            ));
        }
        if self.taken_on < rules::INTEGRATION_BEGAN_ON {
            return Err(TestingError::invalid(
                "taken_on",
                format!(
                    "{} lies before civic integration began on {}",
                    self.taken_on,
                    rules::INTEGRATION_BEGAN_ON
                ),
            ));
        }
        let centre = self.centre.trim();
        if centre.is_empty() {
            return Err(TestingError::invalid("centre", "is required"));
        }
        if centre.chars().count() > rules::MAX_CENTRE_CHARS {
            return Err(TestingError::invalid(
                "centre",
                format!("is longer than {} characters", rules::MAX_CENTRE_CHARS),
            ));
        }
        if !matches!(
            self.outcome,
            BookingStatus::Passed | BookingStatus::Failed | BookingStatus::Absent
        ) {
            return Err(TestingError::invalid(
                "outcome",
                "is passed, failed or absent",
            ));
        }
        // MO (maatschappelijke oriëntatie) is no language test: it reaches no level.
        if self.outcome == BookingStatus::Passed
            && self.level().is_none()
            && self.test_type != TestType::Mo
        {
            return Err(TestingError::invalid(
                "level_reached",
                "a passed language test states the level reached, e.g. A2 or B1",
            ));
        }
        domain::level_reached(
            self.test_type,
            self.outcome,
            self.level_reached.as_deref().unwrap_or(""),
        )?;
        Ok(())
    }

    /// The level as stored: trimmed, none when blank.
    fn level(&self) -> Option<&str> {
        self.level_reached
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
    }

    fn key(&self) -> Key {
        (
            self.person_id,
            self.test_type.as_str().to_owned(),
            self.taken_on,
        )
    }

    /// What differs between the stored result and this one, e.g. `outcome (stored failed,
    /// now passed)`; `None` when nothing does.
    fn differences(&self, stored: &imported_result::Model) -> Option<String> {
        let shown = |v: Option<&str>| v.unwrap_or("none").to_owned();
        let mut differ = Vec::new();
        let mut compare = |field: &str, was: String, now: String| {
            if was != now {
                differ.push(format!("{field} (stored {was}, now {now})"));
            }
        };
        compare(
            "trajectory_id",
            stored.trajectory_id.to_string(),
            self.trajectory_id.to_string(),
        );
        compare(
            "centre",
            stored.centre.clone(),
            self.centre.trim().to_owned(),
        );
        compare(
            "outcome",
            stored.outcome.clone(),
            self.outcome.as_str().to_owned(),
        );
        compare(
            "level_reached",
            shown(stored.level_reached.as_deref()),
            shown(self.level()),
        );
        Some(differ.join(", ")).filter(|d| !d.is_empty())
    }
}

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Results imported now.
    pub created: usize,
    /// Results that were there already, as given.
    pub unchanged: usize,
    /// Results that were there already with other content, not applied: the index within
    /// the batch and what differs.
    pub changed: Vec<(usize, String)>,
}

/// Person, test type (as stored), day: a result's identity.
type Key = (Uuid, String, NaiveDate);

/// Persons per `IN (…)` when reading what is stored: far below PostgreSQL's and SQLite's
/// bind-parameter limits.
const READ_CHUNK: usize = 500;

/// Rows per insert statement: ten bound values a row.
const WRITE_CHUNK: usize = 500;

/// Imports one batch in the caller's transaction `conn`, labelled `source` (the import's
/// label, never personal data): each result is checked (an error names its index in the
/// batch and the field, and nothing is written), a new one is stored and its
/// `TestResultRecorded` staged as history on `outbox`; one already stored is counted
/// unchanged or, when its content differs, reported and left as it was. A result given
/// twice in one batch is imported once; the second is unchanged or changed.
pub async fn import<C: ConnectionTrait>(
    conn: &C,
    outbox: &Outbox,
    source: &str,
    results: &[HistoricalResult],
) -> Result<ImportCounts, TestingError> {
    let source = source.trim();
    if source.is_empty() {
        return Err(TestingError::invalid("source", "is required"));
    }
    let today = Utc::now().date_naive();
    for (index, result) in results.iter().enumerate() {
        result.check(today).map_err(|e| in_batch(index, e))?;
    }
    let mut known = stored(conn, results).await?;
    let mut counts = ImportCounts::default();
    let mut new = Vec::new();
    let imported_at = Utc::now();
    for (index, result) in results.iter().enumerate() {
        match known.entry(result.key()) {
            Entry::Occupied(stored) => match result.differences(stored.get()) {
                None => counts.unchanged += 1,
                Some(what) => counts.changed.push((index, what)),
            },
            Entry::Vacant(slot) => {
                let row = imported_result::Model {
                    id: Uuid::now_v7(),
                    person_id: result.person_id,
                    trajectory_id: result.trajectory_id,
                    test_type: result.test_type.as_str().to_owned(),
                    taken_on: result.taken_on,
                    centre: result.centre.trim().to_owned(),
                    outcome: result.outcome.as_str().to_owned(),
                    level_reached: result.level().map(str::to_owned),
                    source: source.to_owned(),
                    imported_at,
                };
                new.push(slot.insert(row).clone());
            }
        }
    }
    counts.created = new.len();
    let events = new
        .iter()
        .map(|row| {
            Ok(Staged::new(
                row.id.to_string(),
                &convert::imported_result(row)?,
            ))
        })
        .collect::<Result<Vec<_>, TestingError>>()?;
    for chunk in new.chunks(WRITE_CHUNK) {
        imported_result::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(|row| imported_result::ActiveModel::from(row).reset_all()),
        )
        .exec_without_returning(conn)
        .await?;
    }
    outbox.as_history(source).stage_all(conn, events).await?;
    Ok(counts)
}

/// The stored results of the batch's persons, by key.
async fn stored<C: ConnectionTrait>(
    conn: &C,
    results: &[HistoricalResult],
) -> Result<HashMap<Key, imported_result::Model>, TestingError> {
    let mut persons: Vec<Uuid> = results.iter().map(|r| r.person_id).collect();
    persons.sort_unstable();
    persons.dedup();
    let mut known = HashMap::new();
    for chunk in persons.chunks(READ_CHUNK) {
        let rows = imported_result::Entity::find()
            .filter(imported_result::Column::PersonId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        for row in rows {
            known.insert((row.person_id, row.test_type.clone(), row.taken_on), row);
        }
    }
    Ok(known)
}

/// `error` about the result at `index` of the batch.
fn in_batch(index: usize, error: TestingError) -> TestingError {
    match error {
        TestingError::InvalidArgument { field, reason } => TestingError::InvalidArgument {
            field,
            reason: format!("result {index} of the batch: {reason}"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use platform::events::store::outbox;
    use prost::Message as _;
    use proto::testing::v1 as pb;
    use sea_orm::{Database, DatabaseConnection, QueryOrder, TransactionTrait};
    use sea_orm_migration::MigratorTrait as _;

    use super::*;
    use crate::store::{Migrator, booking, fee};

    const SOURCE: &str = "caseload:atlas-2026.jsonl";

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    fn passed_nt2(person_id: Uuid) -> HistoricalResult {
        HistoricalResult {
            person_id,
            trajectory_id: Uuid::now_v7(),
            test_type: TestType::Nt2A2,
            taken_on: day(2012, 5, 3),
            centre: " Huis van het Nederlands Antwerpen ".into(),
            outcome: BookingStatus::Passed,
            level_reached: Some("A2".into()),
        }
    }

    async fn database() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("SQLite");
        Migrator::up(&db, None).await.expect("migrated");
        db
    }

    /// One batch in one transaction, committed, as the CLI runs it.
    async fn run(
        db: &DatabaseConnection,
        results: &[HistoricalResult],
    ) -> Result<ImportCounts, TestingError> {
        let txn = db.begin().await?;
        let counts = import(&txn, &crate::outbox(), SOURCE, results).await?;
        txn.commit().await?;
        Ok(counts)
    }

    async fn outbox_rows(db: &DatabaseConnection) -> Vec<outbox::Model> {
        outbox::Entity::find()
            .order_by_asc(outbox::Column::Seq)
            .all(db)
            .await
            .expect("outbox")
    }

    async fn stored(db: &DatabaseConnection) -> Vec<imported_result::Model> {
        imported_result::Entity::find()
            .order_by_asc(imported_result::Column::Id)
            .all(db)
            .await
            .expect("imported results")
    }

    fn refused_field(result: &HistoricalResult, today: NaiveDate) -> &'static str {
        match result.check(today) {
            Err(TestingError::InvalidArgument { field, .. }) => field,
            other => panic!("expected a refused field, got {other:?}"),
        }
    }

    #[test]
    fn each_wrong_field_is_named() {
        let today = day(2026, 3, 10);
        let good = passed_nt2(Uuid::now_v7());
        assert!(good.check(today).is_ok());
        let wrong = |change: fn(&mut HistoricalResult)| {
            let mut r = good.clone();
            change(&mut r);
            refused_field(&r, today)
        };
        assert_eq!(wrong(|r| r.person_id = Uuid::nil()), "person_id");
        assert_eq!(wrong(|r| r.trajectory_id = Uuid::nil()), "trajectory_id");
        assert_eq!(
            wrong(|r| r.test_type = TestType::LanguageLevel),
            "test_type"
        );
        assert_eq!(wrong(|r| r.taken_on = day(2026, 3, 11)), "taken_on");
        assert_eq!(wrong(|r| r.taken_on = day(2004, 3, 31)), "taken_on");
        assert_eq!(wrong(|r| r.centre = "  ".into()), "centre");
        assert_eq!(wrong(|r| r.centre = "x".repeat(201)), "centre");
        assert_eq!(wrong(|r| r.outcome = BookingStatus::Booked), "outcome");
        assert_eq!(wrong(|r| r.outcome = BookingStatus::Cancelled), "outcome");
        assert_eq!(wrong(|r| r.level_reached = None), "level_reached");
        assert_eq!(
            wrong(|r| r.level_reached = Some(" ".into())),
            "level_reached"
        );
        assert_eq!(
            wrong(|r| {
                r.outcome = BookingStatus::Absent;
            }),
            "level_reached",
            "an absence reached no level"
        );
        assert_eq!(
            wrong(|r| r.level_reached = Some("A2 and more".into())),
            "level_reached"
        );
    }

    #[test]
    fn the_edges_of_each_bound_are_accepted() {
        let today = day(2026, 3, 10);
        let ok = |change: fn(&mut HistoricalResult)| {
            let mut r = passed_nt2(Uuid::now_v7());
            change(&mut r);
            r.check(today)
        };
        assert!(ok(|r| r.taken_on = rules::INTEGRATION_BEGAN_ON).is_ok());
        assert!(ok(|r| r.taken_on = day(2026, 3, 10)).is_ok(), "today");
        assert!(ok(|r| r.centre = "x".repeat(200)).is_ok());
        assert!(
            ok(|r| {
                r.outcome = BookingStatus::Failed;
                r.level_reached = None;
            })
            .is_ok(),
            "a failure may state no level"
        );
        assert!(
            ok(|r| {
                r.test_type = TestType::B1Oral;
                r.outcome = BookingStatus::Absent;
                r.level_reached = Some("".into());
            })
            .is_ok(),
            "a blank level is none"
        );
        for t in [TestType::Nt2A2Adapted, TestType::Mo, TestType::B1Oral] {
            let mut r = passed_nt2(Uuid::now_v7());
            r.test_type = t;
            assert!(r.check(today).is_ok(), "{t:?}");
        }
    }

    #[tokio::test]
    async fn a_bad_result_in_a_batch_writes_nothing_and_names_its_index() {
        let db = database().await;
        let mut late = passed_nt2(Uuid::now_v7());
        late.taken_on = Utc::now().date_naive() + chrono::Days::new(1);
        let error = run(&db, &[passed_nt2(Uuid::now_v7()), late])
            .await
            .expect_err("refused");
        assert!(
            matches!(&error, TestingError::InvalidArgument { field: "taken_on", reason }
                if reason.starts_with("result 1 of the batch")),
            "{error}"
        );
        assert!(stored(&db).await.is_empty());
        assert!(outbox_rows(&db).await.is_empty());
    }

    #[tokio::test]
    async fn the_same_batch_twice_is_unchanged_and_stages_nothing_more() {
        let db = database().await;
        let person = Uuid::now_v7();
        let mut mo = passed_nt2(person);
        mo.test_type = TestType::Mo;
        mo.outcome = BookingStatus::Failed;
        mo.level_reached = None;
        let mut b1 = passed_nt2(Uuid::now_v7());
        b1.test_type = TestType::B1Oral;
        b1.outcome = BookingStatus::Absent;
        b1.level_reached = None;
        let batch = [passed_nt2(person), mo, b1];

        let first = run(&db, &batch).await.expect("imported");
        assert_eq!(
            first,
            ImportCounts {
                created: 3,
                ..Default::default()
            }
        );
        let again = run(&db, &batch).await.expect("imported again");
        assert_eq!(
            again,
            ImportCounts {
                unchanged: 3,
                ..Default::default()
            }
        );
        assert_eq!(stored(&db).await.len(), 3);
        assert_eq!(
            outbox_rows(&db).await.len(),
            3,
            "one event per result, once"
        );
    }

    #[tokio::test]
    async fn a_changed_result_is_reported_and_not_applied() {
        let db = database().await;
        let mut failed = passed_nt2(Uuid::now_v7());
        failed.outcome = BookingStatus::Failed;
        failed.level_reached = None;
        run(&db, std::slice::from_ref(&failed))
            .await
            .expect("imported");
        let first = stored(&db).await;

        let mut passed = failed.clone();
        passed.outcome = BookingStatus::Passed;
        passed.level_reached = Some("A2".into());
        passed.centre = "CVO Gent".into();
        let counts = run(&db, &[passed_nt2(Uuid::now_v7()), passed])
            .await
            .expect("batch");
        assert_eq!(
            counts.created, 1,
            "the other result of the batch is imported"
        );
        assert_eq!(counts.unchanged, 0);
        assert_eq!(
            counts.changed,
            vec![(
                1,
                "centre (stored Huis van het Nederlands Antwerpen, now CVO Gent), \
                 outcome (stored failed, now passed), level_reached (stored none, now A2)"
                    .to_owned()
            )]
        );
        let now = stored(&db).await;
        assert_eq!(now.len(), 2);
        assert_eq!(now[0], first[0], "the stored row is the first import's");
        assert_eq!(outbox_rows(&db).await.len(), 2, "nothing staged for it");
    }

    #[tokio::test]
    async fn a_result_given_twice_in_one_batch_is_imported_once() {
        let db = database().await;
        let result = passed_nt2(Uuid::now_v7());
        let mut other_level = result.clone();
        other_level.level_reached = Some("B1".into());
        let counts = run(&db, &[result.clone(), result, other_level])
            .await
            .expect("batch");
        assert_eq!(counts.created, 1);
        assert_eq!(counts.unchanged, 1);
        assert_eq!(
            counts.changed,
            vec![(2, "level_reached (stored A2, now B1)".to_owned())]
        );
        assert_eq!(stored(&db).await.len(), 1);
        assert_eq!(outbox_rows(&db).await.len(), 1);
    }

    #[tokio::test]
    async fn staged_results_carry_the_history_label_and_no_fee() {
        let db = database().await;
        let result = passed_nt2(Uuid::now_v7());
        run(&db, std::slice::from_ref(&result))
            .await
            .expect("imported");
        let [row] = stored(&db).await.try_into().expect("one row");
        assert_eq!(row.centre, "Huis van het Nederlands Antwerpen", "trimmed");
        assert_eq!(row.source, SOURCE);
        let [staged] = outbox_rows(&db).await.try_into().expect("one event");
        assert_eq!(staged.history.as_deref(), Some(SOURCE));
        assert_eq!(staged.topic, "testing.events.v1");
        assert_eq!(staged.ce_source, "/inburgering/testing");
        assert_eq!(
            staged.key,
            row.id.to_string(),
            "keyed by the result, no person"
        );
        let event = pb::TestResultRecorded::decode(staged.payload.as_slice()).expect("payload");
        let booking = event.booking.clone().expect("booking");
        assert_eq!(booking.booking_id, row.id.to_string());
        assert_eq!(booking.session_id, "");
        assert_eq!(booking.person_id, result.person_id.to_string());
        assert_eq!(booking.test_type(), pb::TestType::Nt2A2);
        assert_eq!(booking.status(), pb::BookingStatus::Passed);
        assert_eq!(booking.fee.map(|f| f.cents), Some(0));
        assert_eq!(booking.level_reached, "A2");
        assert_eq!(event.trajectory_id, result.trajectory_id.to_string());
        assert_eq!(event.outcome(), pb::Outcome::Passed);
        let noon = day(2012, 5, 3)
            .and_hms_opt(12, 0, 0)
            .expect("noon")
            .and_utc();
        assert_eq!(event.session_starts_at, Some(wire::timestamp(noon)));
        assert!(fee::Entity::find().all(&db).await.expect("fees").is_empty());
        assert!(
            booking::Entity::find()
                .all(&db)
                .await
                .expect("bookings")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_database_refuses_a_second_result_for_the_same_person_test_and_day() {
        let db = database().await;
        run(&db, &[passed_nt2(Uuid::now_v7())])
            .await
            .expect("imported");
        let [mut copy] = stored(&db).await.try_into().expect("one row");
        copy.id = Uuid::now_v7();
        let duplicate =
            imported_result::Entity::insert(imported_result::ActiveModel::from(copy).reset_all())
                .exec(&db)
                .await;
        assert!(duplicate.is_err(), "unique on person, test type and day");
    }
}
