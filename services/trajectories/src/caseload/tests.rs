//! The check and the store of the caseload import at their edges, on SQLite.

use chrono::{NaiveDate, Utc};
use sea_orm::{Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;

use super::{
    Applied, Register,
    check::{LineError, check},
    record::{ContractRecord, GgcRecord, Record, RegisterFacts, ResultRecord, TrajectoryRecord},
};
use crate::{
    domain::TrajectoryEvent,
    store::{Migrator, caseload_import, person},
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("a date")
}

const TODAY: fn() -> NaiveDate = || d(2026, 12, 7);

fn row(
    code: &str,
    current: &str,
    region: &str,
    agency: Option<&str>,
) -> wire::register::Municipality {
    wire::register::Municipality {
        code: code.into(),
        current_nis: current.into(),
        name_nl: format!("gemeente {code}"),
        name_fr: format!("commune {code}"),
        province_nis: String::new(),
        region: region.into(),
        agency: agency.map(str::to_owned),
    }
}

fn register() -> Register {
    Register::new(vec![
        row("11002", "11002", "Flanders", Some("atlas")),
        row("11007", "11002", "Flanders", Some("atlas")),
        row("44021", "44021", "Flanders", Some("in-gent")),
        row("24062", "24062", "Flanders", Some("agii")),
        row("21004", "21004", "Brussels", Some("bon")),
        row("62063", "62063", "Wallonia", None),
    ])
}

/// A valid national number from a birth date's digits and a serial (born before 2000).
fn number(serial: u32) -> String {
    let base = 850_730_000 + u64::from(serial);
    format!("{base:09}{:02}", 97 - base % 97)
}

/// A complete Antwerp history: NT2 and MO passed, VDAB, participation, the attest.
fn complete(serial: u32) -> Record {
    Record {
        national_number: number(serial),
        given_name: "Amina".into(),
        family_name: "El Idrissi".into(),
        mother_tongue: "ar".into(),
        contact_language: Some("fr".into()),
        trajectory: Some(TrajectoryRecord {
            municipality_nis: "11002".into(),
            agency: "atlas".into(),
            status: "obliged".into(),
            started_on: "2020-03-02".into(),
            contract: Some(ContractRecord {
                signed_on: "2020-03-10".into(),
                nt2_deadline: "2021-03-10".into(),
                mo_deadline: "2020-12-10".into(),
                vdab_deadline: Some("2020-05-02".into()),
                participation_deadline: Some("2021-06-10".into()),
            }),
            fees_paid_cents: Some(18_000),
            results: vec![
                result("nt2-a2", "2020-11-05", "failed", Some("A1")),
                result("nt2-a2", "2021-01-20", "passed", Some("A2")),
                result("mo", "2020-10-01", "passed", None),
            ],
            vdab_registered_on: Some("2020-04-20".into()),
            participation: Some(super::record::ParticipationRecord {
                hours: 40,
                completed_on: Some("2021-02-15".into()),
                offers: Vec::new(),
            }),
            attest_issued_on: Some("2021-02-15".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn result(test: &str, on: &str, outcome: &str, level: Option<&str>) -> ResultRecord {
    ResultRecord {
        test: test.into(),
        taken_on: on.into(),
        outcome: outcome.into(),
        level: level.map(str::to_owned),
        centre: "Huis van het Nederlands Antwerpen".into(),
    }
}

fn refused(record: &Record) -> Vec<LineError> {
    check(7, record, &register(), TODAY()).expect_err("must be refused")
}

fn names(errors: &[LineError], field: &str, says: &str) -> bool {
    errors
        .iter()
        .any(|e| e.line == 7 && e.field == field && e.reason.contains(says))
}

#[test]
fn a_complete_history_replays_with_its_own_dates_and_no_breach() {
    let checked = check(3, &complete(1), &register(), TODAY()).expect("valid");
    let (t, events) = checked.trajectory.expect("a trajectory");
    assert_eq!(t.progress.attest_issued_on, Some(d(2021, 2, 15)));
    assert_eq!(t.progress.nt2_completed_on, Some(d(2021, 1, 20)));
    assert_eq!(
        t.progress.b1_due_by,
        Some(d(2023, 2, 15)),
        "the follow-up from the attest"
    );
    assert!(events.contains(&TrajectoryEvent::AttestIssued { on: d(2021, 2, 15) }));
    assert!(
        !events.iter().any(|e| matches!(
            e,
            TrajectoryEvent::ObligationBreached { .. } | TrajectoryEvent::B1FollowUpOverdue { .. }
        )),
        "history breaches nothing: {events:?}"
    );
    assert_eq!(
        checked.results.len(),
        3,
        "every result goes to testing, failed ones too"
    );
}

#[test]
fn an_attest_may_follow_its_last_component_but_never_precede_it() {
    let mut later = complete(1);
    later.trajectory.as_mut().unwrap().attest_issued_on = Some("2021-03-01".into());
    let (t, _) = check(1, &later, &register(), TODAY())
        .unwrap()
        .trajectory
        .unwrap();
    assert_eq!(t.progress.attest_issued_on, Some(d(2021, 3, 1)));

    let mut early = complete(1);
    early.trajectory.as_mut().unwrap().attest_issued_on = Some("2021-02-14".into());
    // A person's field wrong as well: both are named, the replay does not stop at it.
    early.given_name = String::new();
    let errors = refused(&early);
    assert!(
        names(
            &errors,
            "trajectory.attest_issued_on",
            "lies before 2021-02-15"
        ),
        "{errors:?}"
    );
    assert!(names(&errors, "given_name", "required"), "{errors:?}");
}

#[test]
fn a_result_after_the_attest_and_a_missing_attest_are_named() {
    let mut after = complete(1);
    let t = after.trajectory.as_mut().unwrap();
    t.attest_issued_on = Some("2021-03-01".into());
    t.results.push(result("mo", "2021-03-02", "failed", None));
    let errors = refused(&after);
    assert!(
        names(
            &errors,
            "trajectory.results[3].taken_on",
            "after the attest"
        ),
        "{errors:?}"
    );

    let mut missing = complete(1);
    missing.trajectory.as_mut().unwrap().attest_issued_on = None;
    let errors = refused(&missing);
    assert!(
        names(&errors, "trajectory.attest_issued_on", "is missing"),
        "{errors:?}"
    );

    let mut unearned = complete(1);
    unearned.trajectory.as_mut().unwrap().vdab_registered_on = None;
    let errors = refused(&unearned);
    assert!(
        names(
            &errors,
            "trajectory.attest_issued_on",
            "economic-self-reliance"
        ),
        "{errors:?}"
    );
}

#[test]
fn a_contract_before_the_start_and_results_nobody_could_take_are_named() {
    let mut early = complete(1);
    early
        .trajectory
        .as_mut()
        .unwrap()
        .contract
        .as_mut()
        .unwrap()
        .signed_on = "2020-03-01".into();
    assert!(names(
        &refused(&early),
        "trajectory.contract.signed_on",
        "before the start"
    ));

    let mut b1 = complete(1);
    let t = b1.trajectory.as_mut().unwrap();
    t.results
        .push(result("b1-oral", "2021-02-01", "passed", Some("B1")));
    let errors = refused(&b1);
    assert!(
        names(
            &errors,
            "trajectory.results[3].taken_on",
            "needs an attest first"
        ),
        "{errors:?}"
    );

    let mut failed_before_start = complete(1);
    failed_before_start.trajectory.as_mut().unwrap().results[0].taken_on = "2003-05-05".into();
    let errors = refused(&failed_before_start);
    assert!(
        names(
            &errors,
            "trajectory.results[0].taken_on",
            "before the trajectory started"
        ),
        "a failed result before the start is refused too: {errors:?}"
    );

    let mut before_start = complete(1);
    before_start.trajectory.as_mut().unwrap().results[2].taken_on = "2020-03-01".into();
    let errors = refused(&before_start);
    assert!(
        names(
            &errors,
            "trajectory.results[2].taken_on",
            "before the trajectory started"
        ),
        "{errors:?}"
    );
}

#[test]
fn each_field_is_named_with_the_line() {
    let mut bad = complete(1);
    bad.national_number = {
        let n = number(1);
        format!("{}{}", &n[..10], (n.as_bytes()[10] - b'0' + 1) % 10)
    };
    bad.mother_tongue = "Arabic".into();
    let t = bad.trajectory.as_mut().unwrap();
    t.municipality_nis = "99999".into();
    t.status = "maybe".into();
    t.results[0].centre = " ".into();
    let errors = refused(&bad);
    for (field, says) in [
        ("national_number", "mod 97"),
        ("mother_tongue", "ISO 639"),
        ("trajectory.municipality_nis", "not a municipality"),
        ("trajectory.status", "obliged, entitled or voluntary"),
        ("trajectory.results[0].centre", "required"),
    ] {
        assert!(names(&errors, field, says), "{field}: {errors:?}");
    }
}

#[test]
fn the_agency_fees_and_vdab_deadline_must_be_the_rules() {
    let mut wrong = complete(1);
    let t = wrong.trajectory.as_mut().unwrap();
    t.agency = "agii".into();
    assert!(names(&refused(&wrong), "trajectory.agency", "atlas is"));

    let mut fees = complete(1);
    fees.trajectory.as_mut().unwrap().fees_paid_cents = Some(9_000);
    assert!(names(
        &refused(&fees),
        "trajectory.fees_paid_cents",
        "18000"
    ));

    let mut vdab = complete(1);
    vdab.trajectory
        .as_mut()
        .unwrap()
        .contract
        .as_mut()
        .unwrap()
        .vdab_deadline = Some("2020-05-03".into());
    assert!(names(
        &refused(&vdab),
        "trajectory.contract.vdab_deadline",
        "2020-05-02"
    ));

    let mut former = complete(1);
    former.trajectory.as_mut().unwrap().municipality_nis = "11007".into();
    let (t, _) = check(1, &former, &register(), TODAY())
        .unwrap()
        .trajectory
        .unwrap();
    assert_eq!(
        t.municipality.nis.to_string(),
        "11002",
        "Borsbeek is Antwerp since 2025"
    );
}

#[test]
fn a_ggc_registration_belongs_to_brussels_and_dutch_starts_in_2024() {
    let mut flemish = complete(1);
    flemish.ggc_registrations = vec![GgcRecord {
        registered_on: "2024-05-01".into(),
        language: "dutch".into(),
    }];
    assert!(names(
        &refused(&flemish),
        "ggc_registrations[0].registered_on",
        "Brussels residents only"
    ));

    let brussels = |on: &str, language: &str| Record {
        national_number: number(2),
        given_name: "Oleksandr".into(),
        family_name: "Kovalenko".into(),
        mother_tongue: "uk".into(),
        register: Some(RegisterFacts {
            municipality_nis: "21004".into(),
            registered_on: "2023-01-10".into(),
            free_movement: false,
            foreigners_register: true,
        }),
        ggc_registrations: vec![GgcRecord {
            registered_on: on.into(),
            language: language.into(),
        }],
        ..Default::default()
    };
    let ok = check(1, &brussels("2024-01-01", "dutch"), &register(), TODAY()).expect("GGC 2024");
    assert_eq!(ok.ggc, vec![(d(2024, 1, 1), "dutch")]);
    assert!(
        check(1, &brussels("2023-12-31", "french"), &register(), TODAY()).is_ok(),
        "BAPA"
    );
    assert!(names(
        &refused(&brussels("2023-12-31", "dutch")),
        "ggc_registrations[0].language",
        "2024-01-01"
    ));
}

#[test]
fn a_deadline_that_passed_before_the_import_is_history_and_one_after_it_a_breach() {
    let mut open = complete(1);
    let t = open.trajectory.as_mut().unwrap();
    t.attest_issued_on = None;
    t.participation = None;
    let (mut t, _) = check(1, &open, &register(), TODAY())
        .unwrap()
        .trajectory
        .unwrap();
    // The participation deadline (2021-06-10) passed long before an import on 2021-06-11.
    t.imported_on = Some(d(2021, 6, 11));
    assert!(t.missed_deadlines(d(2026, 12, 7)).is_empty());
    // Imported on the deadline day itself: the deadline was still ahead.
    t.imported_on = Some(d(2021, 6, 10));
    assert_eq!(
        t.missed_deadlines(d(2026, 12, 7)),
        vec![TrajectoryEvent::ObligationBreached {
            component: crate::domain::Component::Participation,
            deadline: d(2021, 6, 10),
        }]
    );
}

async fn database() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:").await.expect("SQLite");
    Migrator::up(&db, None).await.expect("migrated");
    db
}

#[tokio::test]
async fn the_same_lines_twice_change_nothing_and_a_changed_line_is_reported_not_applied() {
    let db = database().await;
    let outbox = platform::events::Outbox::new("trajectories", "trajectories.events.v1");
    let batch = |records: &[Record]| {
        records
            .iter()
            .enumerate()
            .map(|(i, r)| check(i as u64 + 1, r, &register(), TODAY()).expect("valid"))
            .collect::<Vec<_>>()
    };
    let first = super::apply_batch(
        &db,
        &outbox,
        "atlas.jsonl",
        batch(&[complete(1), complete(2)]),
        Utc::now(),
    )
    .await
    .expect("stored");
    assert!(
        first.iter().all(|a| matches!(a, Applied::Created { .. })),
        "{first:?}"
    );
    let staged = platform::events::store::outbox::Entity::find()
        .all(&db)
        .await
        .expect("outbox");
    assert!(!staged.is_empty());
    assert!(
        staged
            .iter()
            .all(|row| row.history.as_deref() == Some("atlas.jsonl")),
        "every imported event is history"
    );

    let again = super::apply_batch(
        &db,
        &outbox,
        "atlas.jsonl",
        batch(&[complete(1), complete(2)]),
        Utc::now(),
    )
    .await
    .expect("again");
    assert!(
        again.iter().all(|a| matches!(a, Applied::Unchanged { .. })),
        "{again:?}"
    );
    let mut changed = complete(2);
    changed.trajectory.as_mut().unwrap().vdab_registered_on = Some("2020-04-21".into());
    let third = super::apply_batch(&db, &outbox, "atlas.jsonl", batch(&[changed]), Utc::now())
        .await
        .expect("changed");
    assert!(
        matches!(&third[0], Applied::Changed { parts, .. } if parts == &vec!["trajectory"]),
        "{third:?}"
    );
    assert_eq!(person::Entity::find().count(&db).await.unwrap(), 2);
    assert_eq!(caseload_import::Entity::find().count(&db).await.unwrap(), 2);
    let after = platform::events::store::outbox::Entity::find()
        .count(&db)
        .await
        .unwrap();
    assert_eq!(after, staged.len() as u64, "nothing staged by the repeats");

    let report = super::reconcile(&db, Some("atlas.jsonl"))
        .await
        .expect("report");
    assert_eq!(report.trajectories, 2);
    assert_eq!(report.per_agency.get("atlas"), Some(&2));
    assert_eq!(report.per_attest_year.get("2021"), Some(&2));
    assert_eq!(report.per_contract_year.get("2020"), Some(&2));
    assert_eq!(report.per_component.get("nt2"), Some(&2));
}

#[tokio::test]
async fn the_sweep_leaves_deadlines_before_the_import_alone_and_watches_those_after_it() {
    let db = database().await;
    let outbox = platform::events::Outbox::new("trajectories", "trajectories.events.v1");
    let today = Utc::now().date_naive();
    // Participation open: its deadline passed in 2021, long before the import.
    let mut past = complete(1);
    let t = past.trajectory.as_mut().unwrap();
    t.attest_issued_on = None;
    t.participation = None;
    // NT2 open with a deadline still ahead of the import.
    let mut ahead = complete(2);
    let t = ahead.trajectory.as_mut().unwrap();
    t.attest_issued_on = None;
    t.results.retain(|r| r.test != "nt2-a2");
    let next_year = today.checked_add_months(chrono::Months::new(12)).unwrap();
    t.contract.as_mut().unwrap().signed_on = "2024-03-10".into();
    t.started_on = "2024-03-02".into();
    t.contract.as_mut().unwrap().vdab_deadline = Some("2024-05-02".into());
    t.contract.as_mut().unwrap().nt2_deadline = next_year.to_string();
    t.contract.as_mut().unwrap().mo_deadline = "2024-12-10".into();
    t.contract.as_mut().unwrap().participation_deadline = Some("2025-06-10".into());
    t.results = vec![result("mo", "2024-10-01", "passed", None)];
    t.vdab_registered_on = Some("2024-04-20".into());
    t.participation.as_mut().unwrap().completed_on = Some("2025-02-15".into());
    let batch = [past, ahead]
        .iter()
        .enumerate()
        .map(|(i, r)| check(i as u64 + 1, r, &register(), today).expect("valid"))
        .collect();
    super::apply_batch(&db, &outbox, "history", batch, Utc::now())
        .await
        .expect("stored");
    assert_eq!(
        crate::sweep::run_once(&db, &outbox, today)
            .await
            .expect("swept"),
        0,
        "no breach for a deadline that passed before the import"
    );
    let after_deadline = next_year + chrono::Days::new(rules_grace() + 1);
    assert_eq!(
        crate::sweep::run_once(&db, &outbox, after_deadline)
            .await
            .expect("swept"),
        1,
        "the NT2 deadline after the import is watched like any other"
    );
}

fn rules_grace() -> u64 {
    crate::rules::BREACH_GRACE_DAYS
}
