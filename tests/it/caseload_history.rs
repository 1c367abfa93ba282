//! The caseload import end to end (issue 23): an agency's history, imported with
//! `inburgering import caseload`, reaches every consumer through the broker marked as
//! history (`ce_history`), so the Brussels figures, ceremonies' invitation lists, the local
//! monitor and recruitment's funnel read it; and the past triggers nothing: no breach or
//! overdue B1 follow-up from the deadline sweep, no invitation, no letter. With the broker
//! down the import still completes and its events wait in the outbox.

use std::{collections::BTreeSet, path::PathBuf, process::Output, time::Duration};

use chrono::{Datelike, Days, NaiveDate};
use inburgering_testkit::{
    TestApp, authed, date, eventually, kafka, national_number, register_and_start, scalar,
    sign_request, spawn_app,
};
use platform::events::Envelope;
use proto::{
    ceremonies::v1 as cpb, common::v1 as common, municipalities::v1 as mpb, recruitment::v1 as rpb,
    testing::v1 as epb, trajectories::v1 as tpb,
};
use rdkafka::{Message as _, message::OwnedMessage};
use sea_orm::{ConnectionTrait, Database, Statement};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::ceremonies::{details, organiser, plan};

/// The label the import gives its facts and events.
const SOURCE: &str = "caseload:history-it.jsonl";
/// Generous: a busy 2-core machine runs several apps beside this one.
const PATIENCE: Duration = Duration::from_secs(120);
const ANTWERP: &str = "11002";
const GHENT: &str = "44021";
const BRUSSELS_CITY: &str = "21004";
const TRAJECTORIES_TOPIC: &str = "trajectories.events.v1";

fn today() -> NaiveDate {
    platform::clock::today()
}

fn days_ago(n: u64) -> NaiveDate {
    today() - Days::new(n)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date")
}

fn plus(d: NaiveDate, n: u64) -> NaiveDate {
    d + Days::new(n)
}

fn iso(d: NaiveDate) -> String {
    d.to_string()
}

fn day(d: NaiveDate) -> common::Date {
    date(d.year(), d.month() as i32, d.day() as i32)
}

/// The day Antwerp's five attests were issued: a few months ago.
fn antwerp_attest() -> NaiveDate {
    days_ago(100)
}

/// The day the Ghent attest was issued.
fn ghent_attest() -> NaiveDate {
    days_ago(60)
}

/// Started 300 days before the attest (as [`attested`] counts back).
fn started_before(attest: NaiveDate) -> NaiveDate {
    attest - Days::new(300)
}

/// A complete history ending in the attest on `attest`, every date counted back from it:
/// started 300 days before, the contract a week later, VDAB within its two months, MO
/// passed, NT2 failed once and then passed, 40 hours of participation reached on the
/// attest's day.
fn attested(number: String, given: &str, nis: &str, agency: &str, attest: NaiveDate) -> Value {
    let started = started_before(attest);
    let signed = plus(started, 7);
    let centre = format!("Huis van het Nederlands {nis}");
    let fees = if agency == "bon" { 0 } else { 18_000 };
    json!({
        "national_number": number,
        "given_name": given,
        "family_name": "Historiek",
        "mother_tongue": "ar",
        "contact_language": "fr",
        "trajectory": {
            "municipality_nis": nis,
            "agency": agency,
            "status": "obliged",
            "started_on": iso(started),
            "contract": {
                "signed_on": iso(signed),
                "nt2_deadline": iso(plus(signed, 365)),
                "mo_deadline": iso(plus(signed, 300)),
                "participation_deadline": iso(plus(signed, 365)),
            },
            "fees_paid_cents": fees,
            "results": [
                {"test": "mo", "taken_on": iso(plus(started, 150)), "outcome": "passed", "centre": centre},
                {"test": "nt2-a2", "taken_on": iso(plus(started, 200)), "outcome": "failed", "level": "A1", "centre": centre},
                {"test": "nt2-a2", "taken_on": iso(plus(started, 250)), "outcome": "passed", "level": "A2", "centre": centre},
            ],
            "vdab_registered_on": iso(plus(started, 30)),
            "participation": {"hours": 40, "completed_on": iso(attest)},
            "attest_issued_on": iso(attest),
        },
    })
}

/// First registered in Brussels city on `on`, as the national register has it.
fn register_facts(on: NaiveDate, free_movement: bool) -> Value {
    json!({
        "municipality_nis": BRUSSELS_CITY,
        "registered_on": iso(on),
        "free_movement": free_movement,
        "foreigners_register": true,
    })
}

/// A Brussels newcomer with no trajectory at Bon, and what the GGC reported of them.
fn newcomer(number: String, given: &str, registered_on: NaiveDate, ggc: Value) -> Value {
    json!({
        "national_number": number,
        "given_name": given,
        "family_name": "Historiek",
        "mother_tongue": "ti",
        "register": register_facts(registered_on, false),
        "ggc_registrations": ggc,
    })
}

/// The people of Antwerp's five attests.
const ANTWERP_NAMES: [&str; 5] = ["Amal", "Bilal", "Chaima", "Dawit", "Elif"];
/// The Ghent attest.
const GHENT_NAME: &str = "Farid";

/// The caseload, one person a line:
/// - Bon (Brussels city): three obliged people registered in 2023 with a contract in
///   2023 and the attest in February 2024 (their B1 follow-up ran out in 2026: overdue,
///   were it live), one of them also in a French-language BAPA route; one entitled
///   (free movement) with a contract and nothing done yet; three obliged newcomers
///   without a trajectory: one in a Dutch-language GGC trajectory, one in a French one,
///   one registered nowhere;
/// - Atlas (Antwerp): five attests a few months ago; one contract of 2021 whose NT2 and
///   participation deadlines passed in 2022 with both still open (breaches, were it live);
/// - In-Gent (Ghent): one attest two months ago.
fn caseload() -> Vec<Value> {
    let mut records = Vec::new();
    for (i, given) in ["Hanan", "Idris", "Jamila"].into_iter().enumerate() {
        let mut r = attested(
            national_number(900_101_001 + i as u64),
            given,
            BRUSSELS_CITY,
            "bon",
            ymd(2024, 2, 5 + i as u32),
        );
        r["register"] = register_facts(ymd(2023, 2, 1), false);
        if i == 2 {
            r["ggc_registrations"] = json!([{"registered_on": "2023-02-20", "language": "french"}]);
        }
        records.push(r);
    }
    records.push(json!({
        "national_number": national_number(900_101_004),
        "given_name": "Karim",
        "family_name": "Historiek",
        "mother_tongue": "es",
        "register": register_facts(ymd(2023, 4, 20), true),
        "trajectory": {
            "municipality_nis": BRUSSELS_CITY,
            "agency": "bon",
            "status": "entitled",
            "started_on": "2023-05-02",
            "contract": {
                "signed_on": "2023-05-10",
                "nt2_deadline": "2025-05-10",
                "mo_deadline": "2024-11-10",
            },
            "fees_paid_cents": 0,
            "vdab_registered_on": "2023-06-01",
        },
    }));
    records.push(newcomer(
        national_number(900_101_005),
        "Lina",
        ymd(2023, 5, 2),
        json!([{"registered_on": "2024-03-01", "language": "dutch"}]),
    ));
    records.push(newcomer(
        national_number(900_101_006),
        "Mehdi",
        ymd(2023, 5, 2),
        json!([{"registered_on": "2024-03-01", "language": "french"}]),
    ));
    records.push(newcomer(
        national_number(900_101_007),
        "Nour",
        ymd(2023, 6, 1),
        json!([]),
    ));
    for (i, given) in ANTWERP_NAMES.into_iter().enumerate() {
        records.push(attested(
            national_number(850_730_101 + i as u64),
            given,
            ANTWERP,
            "atlas",
            antwerp_attest(),
        ));
    }
    records.push(json!({
        "national_number": national_number(850_730_110),
        "given_name": "Omar",
        "family_name": "Historiek",
        "mother_tongue": "so",
        "trajectory": {
            "municipality_nis": ANTWERP,
            "agency": "atlas",
            "status": "obliged",
            "started_on": "2021-01-11",
            "contract": {
                "signed_on": "2021-01-20",
                "nt2_deadline": "2022-01-20",
                "mo_deadline": "2021-10-20",
                "vdab_deadline": "2021-03-11",
                "participation_deadline": "2022-01-20",
            },
            "fees_paid_cents": 18_000,
            "results": [
                {"test": "mo", "taken_on": "2021-06-10", "outcome": "passed", "centre": "Atlas"},
                {"test": "nt2-a2", "taken_on": "2021-11-05", "outcome": "failed", "level": "A1", "centre": "Atlas"},
            ],
            "vdab_registered_on": "2021-02-15",
            "participation": {"hours": 12},
        },
    }));
    records.push(attested(
        national_number(850_730_120),
        GHENT_NAME,
        GHENT,
        "in-gent",
        ghent_attest(),
    ));
    records
}

/// People, trajectories, results and attests in [`caseload`].
const PERSONS: i64 = 14;
const TRAJECTORIES: i64 = 11;
const RESULTS: usize = 9 * 3 + 2;
const ATTESTS: i64 = 9;

/// Writes `records` as JSON lines and runs `inburgering import caseload` on the app's
/// trajectories and testing databases, as an operator would; it must succeed.
async fn import(app: &TestApp, records: &[Value]) -> Output {
    let dir = std::env::temp_dir().join(format!("caseload-history-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file: PathBuf = dir.join("caseload.jsonl");
    let lines: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&file, lines).unwrap();
    let mut command =
        tokio::process::Command::new(inburgering_testkit::workspace_binary("inburgering"));
    command
        .arg("import")
        .arg("caseload")
        .arg(&file)
        .args(["--source", SOURCE])
        .arg("--trajectories-database-url")
        .arg(app.trajectories_db.expose_secret())
        .arg("--testing-database-url")
        .arg(app.testing_db.expose_secret())
        .current_dir(&dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("INBURGERING_") {
            command.env_remove(key);
        }
    }
    let out = command
        .env("INBURGERING_LOG", "warn")
        .output()
        .await
        .expect("run inburgering");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the import failed:\n{stderr}");
    let n = records.len();
    assert!(
        stderr.contains(&format!(
            "{n} records: {n} imported, 0 unchanged, 0 changed (not applied), 0 already on the platform"
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// The first column of every row of `sql`, as text.
async fn texts(url: &SecretString, sql: &str) -> Vec<String> {
    let db = Database::connect(url.expose_secret()).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let values = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    let _ = db.close().await;
    values
}

/// Waits until `sql` (one number) on `url` is `n`.
async fn until(url: &SecretString, what: &str, sql: &str, n: i64) {
    eventually(what, PATIENCE, || async {
        (scalar(url, sql).await == n).then_some(())
    })
    .await;
}

/// Waits until the service at `url` has published every row of its outbox.
async fn outbox_drained(url: &SecretString, service: &str) {
    until(
        url,
        &format!("{service}'s outbox to be sent"),
        "select count(*) from outbox where sent_at is null",
        0,
    )
    .await;
}

/// The ids of what the import created: its persons and its trajectories (the keys of
/// trajectories' events).
async fn imported_keys(app: &TestApp) -> BTreeSet<String> {
    let sql = "select cast(person_id as text) from caseload_import union all \
               select cast(id as text) from trajectory where imported_on is not null";
    texts(&app.trajectories_db, sql).await.into_iter().collect()
}

/// Asserts that every message of `messages` is history of [`SOURCE`], by the header and by
/// the platform's envelope.
fn all_history(messages: &[OwnedMessage], topic: &str) {
    for m in messages {
        let envelope = Envelope::from_message(m).unwrap();
        assert!(
            envelope.is_history(),
            "a {} on {topic} without ce_history",
            envelope.ce_type
        );
        assert_eq!(kafka::header(m, "ce_history").as_deref(), Some(SOURCE));
        assert_eq!(envelope.history.as_deref(), Some(SOURCE));
    }
}

fn of_type<M: prost::Name>(messages: &[OwnedMessage]) -> Vec<&OwnedMessage> {
    let ce_type = M::full_name();
    messages
        .iter()
        .filter(|m| kafka::header(m, "ce_type").as_deref() == Some(ce_type.as_str()))
        .collect()
}

/// The year's total of `measure` in Antwerp's local monitor, when shown.
async fn antwerp_total(app: &TestApp, year: i32, measure: mpb::Measure) -> Option<i64> {
    let report = app
        .municipalities()
        .await
        .get_local_monitor(authed(
            mpb::GetLocalMonitorRequest {
                municipality_nis: ANTWERP.into(),
                year,
            },
            &app.token("agii", &["monitor"]),
        ))
        .await
        .ok()?
        .into_inner();
    assert_eq!(report.threshold, 5);
    let row = report.rows.iter().find(|r| r.measure() == measure)?;
    match row.total.as_ref()?.value {
        Some(mpb::cell::Value::Count(n)) => Some(n),
        _ => None,
    }
}

/// Plans a ceremony in `nis` over `from`..`to`, sends its invitations as the organiser
/// and lists them: (sent, the invitations).
async fn invite(
    app: &TestApp,
    nis: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> (i32, Vec<cpb::Invitation>) {
    let details = cpb::CeremonyDetails {
        attest_from: Some(day(from)),
        attest_to: Some(day(to)),
        ..details(20)
    };
    let planned = plan(app, nis, details).await.unwrap();
    let mut client = app.ceremonies().await;
    let token = organiser(app, nis);
    let sent = client
        .send_invitations(authed(
            cpb::SendInvitationsRequest {
                ceremony_id: planned.ceremony_id.clone(),
            },
            &token,
        ))
        .await
        .expect("the organiser sends the invitations")
        .into_inner();
    let list = client
        .list_invitations(authed(
            cpb::ListInvitationsRequest {
                ceremony_id: planned.ceremony_id,
                page: None,
            },
            &token,
        ))
        .await
        .expect("the organiser lists the invitations")
        .into_inner()
        .invitations;
    assert_eq!(sent.invitations as usize, list.len());
    (sent.sent, list)
}

/// The person ids of the imported attests in `nis`.
async fn attested_in(app: &TestApp, nis: &str) -> BTreeSet<String> {
    texts(
        &app.trajectories_db,
        &format!(
            "select cast(person_id as text) from trajectory \
             where imported_on is not null and attest_issued_on is not null \
             and municipality_nis = '{nis}'"
        ),
    )
    .await
    .into_iter()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_history_reaches_the_figures_the_monitor_and_the_invitation_lists_as_history() {
    let app = spawn_app().await;
    let out = import(&app, &caseload()).await;
    let report = String::from_utf8(out.stdout).unwrap();
    for line in [
        format!("total,persons,{PERSONS}"),
        format!("total,trajectories,{TRAJECTORIES}"),
        "agency,bon,4".to_owned(),
        "agency,atlas,6".to_owned(),
        "agency,in-gent,1".to_owned(),
    ] {
        assert!(report.lines().any(|l| l == line), "{line} in:\n{report}");
    }

    // Every event the import caused crossed the broker as history of this import: the
    // trajectories' (persons, starts, contracts, components, attests) and the results.
    outbox_drained(&app.trajectories_db, "trajectories").await;
    outbox_drained(&app.testing_db, "testing").await;
    let brokers = app.broker.address();
    let published = kafka::read_all(&brokers, TRAJECTORIES_TOPIC).await;
    all_history(&published, TRAJECTORIES_TOPIC);
    let ids: BTreeSet<String> = published
        .iter()
        .map(|m| kafka::header(m, "ce_id").unwrap())
        .collect();
    let staged: BTreeSet<String> = texts(
        &app.trajectories_db,
        &format!("select cast(event_id as text) from outbox where history = '{SOURCE}'"),
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(ids, staged, "exactly the import's events, each marked");
    let keys = imported_keys(&app).await;
    assert_eq!(keys.len() as i64, PERSONS + TRAJECTORIES);
    for m in &published {
        let key = String::from_utf8_lossy(m.key().unwrap()).into_owned();
        assert!(keys.contains(&key), "an event keyed by {key}, not imported");
    }
    assert_eq!(
        of_type::<tpb::AttestIssued>(&published).len() as i64,
        ATTESTS
    );
    assert_eq!(
        of_type::<tpb::PersonRegistered>(&published).len() as i64,
        PERSONS
    );
    let results = kafka::read_all(&brokers, "testing.events.v1").await;
    all_history(&results, "testing.events.v1");
    assert_eq!(of_type::<epb::TestResultRecorded>(&results).len(), RESULTS);
    // Trajectories learns the historical results too, and derives nothing from them: the
    // import already did, with their own dates.
    until(
        &app.trajectories_db,
        "trajectories to consume the historical results",
        "select count(*) from inbox where consumer = 'trajectories.test-results'",
        RESULTS as i64,
    )
    .await;
    assert_eq!(
        scalar(
            &app.trajectories_db,
            "select count(*) from trajectory where imported_on is not null and version <> 0"
        )
        .await,
        0,
        "no imported trajectory changed after the import"
    );

    // The Brussels figures of 2023–2024 count the imported Bon contracts, attests and
    // registrations.
    let figures =
        tpb::brussels_statistics_service_client::BrusselsStatisticsServiceClient::connect(format!(
            "http://{}",
            app.trajectories_addr
        ))
        .await
        .unwrap()
        .get_brussels_figures(authed(
            tpb::GetBrusselsFiguresRequest {
                from: Some(date(2023, 1, 1)),
                to: Some(date(2024, 12, 31)),
            },
            &app.token("agii", &["monitor"]),
        ))
        .await
        .expect("figures")
        .into_inner();
    assert_eq!(
        figures,
        tpb::GetBrusselsFiguresResponse {
            bon_contracts: 4,
            bon_contracts_obliged: 3,
            bon_attests: 3,
            bon_attests_obliged: 3,
            // Lina; Jamila's registration was French (a BAPA route), as was Mehdi's.
            dutch_ggc_trajectories: 1,
            // Nour: Bon's three obliged started there, Lina and Mehdi are registered at
            // the GGC, Karim (free movement) is not obliged.
            obliged_not_registered: 1,
        }
    );

    // Ceremonies keeps every imported attest and invites no one on its own.
    until(
        &app.ceremonies_db,
        "ceremonies to keep the imported attests",
        "select count(*) from attest",
        ATTESTS,
    )
    .await;
    let before = kafka::read_all(&brokers, "ceremonies.events.v1").await;
    assert!(
        of_type::<cpb::InvitationSent>(&before).is_empty(),
        "the import sent an invitation"
    );
    assert_eq!(
        scalar(&app.ceremonies_db, "select count(*) from invitation").await,
        0
    );
    // An organiser's ceremony over the period of the imported attests invites them, with
    // the names the import brought.
    let a = antwerp_attest();
    let (sent, list) = invite(&app, ANTWERP, a - Days::new(10), plus(a, 10)).await;
    assert_eq!(sent, 5);
    let invited: BTreeSet<String> = list.iter().map(|i| i.person_id.clone()).collect();
    assert_eq!(invited, attested_in(&app, ANTWERP).await);
    let names: BTreeSet<&str> = list.iter().map(|i| i.given_name.as_str()).collect();
    assert_eq!(names, ANTWERP_NAMES.into_iter().collect());
    assert!(
        list.iter()
            .all(|i| i.family_name == "Historiek" && i.contact_language == "fr")
    );
    let g = ghent_attest();
    let (sent, list) = invite(&app, GHENT, g - Days::new(1), plus(g, 1)).await;
    assert_eq!(sent, 1);
    assert_eq!(list[0].given_name, GHENT_NAME);
    assert_eq!(
        BTreeSet::from([list[0].person_id.clone()]),
        attested_in(&app, GHENT).await
    );

    // Antwerp's local monitor counts the five imported trajectories in the years of their
    // own dates (five people: at the threshold, shown).
    eventually("the monitor to count the attests", PATIENCE, || async {
        (antwerp_total(&app, a.year(), mpb::Measure::AttestsIssued).await == Some(5)).then_some(())
    })
    .await;
    let started = started_before(a);
    assert_eq!(
        antwerp_total(&app, started.year(), mpb::Measure::TrajectoriesStarted).await,
        Some(5)
    );
    assert_eq!(
        antwerp_total(&app, plus(started, 7).year(), mpb::Measure::ContractsSigned).await,
        Some(5)
    );
    app.stop().await;
}

/// Successful runs of the breach sweep in this process.
fn sweeps_done() -> u64 {
    platform::metrics::render()
        .lines()
        .filter(|l| {
            l.starts_with("scheduled_job_runs_total")
                && l.contains("job=\"breach-sweep\"")
                && l.contains("outcome=\"ok\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// A live Atlas trajectory started on 2026-01-15, its contract signed with every deadline
/// ahead but VDAB's (two months after the start, long past): the sweep's control.
async fn live_late_trajectory(app: &TestApp) -> String {
    let token = app.atlas();
    let mut client = app.trajectories().await;
    let (_, id) = register_and_start(&mut client, &token, 850_730_199, ANTWERP).await;
    let ahead = Some(day(plus(today(), 100)));
    let terms = tpb::SignContractRequest {
        nt2_deadline: ahead,
        mo_deadline: ahead,
        participation_deadline: ahead,
        ..sign_request(&id)
    };
    client.sign_contract(authed(terms, &token)).await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_breaches_nothing_of_an_imported_past_and_no_letter_or_invitation_goes_out() {
    let mut app = spawn_app().await;
    import(&app, &caseload()).await;
    // What a live sweep would report: Bon's three B1 follow-ups ran out in 2026, Omar's
    // NT2 and participation deadlines in 2022.
    assert_eq!(
        scalar(
            &app.trajectories_db,
            "select count(*) from trajectory where imported_on is not null \
             and status = 'obliged' and state = 'active' and ( \
               (b1_due_by < current_date - 14 and b1_closed_on is null) \
               or (attest_issued_on is null and nt2_completed_on is null \
                   and nt2_deadline < current_date - 14))"
        )
        .await,
        4,
        "the caseload holds what a live sweep would breach"
    );
    let live = live_late_trajectory(&app).await;

    app.config = std::sync::Arc::new(platform::Config {
        breach_sweep_interval_secs: 1,
        ..(*app.config).clone()
    });
    app.restart_trajectories(async {}).await;
    let brokers = app.broker.address();
    let breaches = || async {
        kafka::decoded::<tpb::ObligationBreached>(&brokers, TRAJECTORIES_TOPIC)
            .await
            .into_iter()
            .map(|(_, b)| (b.trajectory_id.clone(), b.component()))
            .collect::<Vec<_>>()
    };
    eventually(
        "the sweep to breach the live trajectory",
        PATIENCE,
        || async {
            let found = breaches().await;
            (!found.is_empty()).then_some(())
        },
    )
    .await;
    let seen = sweeps_done();
    eventually("three more sweeps", PATIENCE, || async {
        (sweeps_done() >= seen + 3).then_some(())
    })
    .await;
    outbox_drained(&app.trajectories_db, "trajectories").await;
    assert_eq!(
        breaches().await,
        vec![(live.clone(), tpb::Component::EconomicSelfReliance)],
        "the live trajectory only"
    );
    let overdue = kafka::decoded::<tpb::B1FollowUpOverdue>(&brokers, TRAJECTORIES_TOPIC).await;
    assert!(overdue.is_empty(), "{} B1FollowUpOverdue", overdue.len());
    assert_eq!(
        scalar(
            &app.trajectories_db,
            "select count(*) from breach b join trajectory t on t.id = b.trajectory_id \
             where t.imported_on is not null"
        )
        .await,
        0
    );

    // Recruitment's funnel learns every imported start and contract; no letter goes out.
    until(
        &app.recruitment_db,
        "recruitment's funnel to learn the imported trajectories",
        "select count(*) from conversion",
        TRAJECTORIES + 1,
    )
    .await;
    let letters = kafka::decoded::<rpb::LetterSent>(&brokers, "recruitment.events.v1").await;
    assert!(letters.is_empty(), "{} LetterSent", letters.len());
    // Ceremonies keeps the attests and, with no organiser acting, invites no one.
    until(
        &app.ceremonies_db,
        "ceremonies to keep the imported attests",
        "select count(*) from attest",
        ATTESTS,
    )
    .await;
    let invitations = kafka::decoded::<cpb::InvitationSent>(&brokers, "ceremonies.events.v1").await;
    assert!(
        invitations.is_empty(),
        "{} InvitationSent",
        invitations.len()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_while_the_broker_is_down_waits_in_the_outbox_and_reaches_ceremonies_after() {
    let mut app = spawn_app().await;
    app.broker.kill().await;
    let attest = antwerp_attest();
    let records = vec![attested(
        national_number(850_730_130),
        "Amal",
        ANTWERP,
        "atlas",
        attest,
    )];
    import(&app, &records).await;
    let trajectory_id = texts(
        &app.trajectories_db,
        "select cast(id as text) from trajectory where imported_on is not null",
    )
    .await
    .pop()
    .expect("the imported trajectory");
    // Person, start, contract, four components, the attest and the B1 follow-up: all
    // waiting, all history; the three results wait in testing's outbox.
    let unsent = |history: &str| {
        format!("select count(*) from outbox where sent_at is null and history {history}")
    };
    let waiting = scalar(&app.trajectories_db, &unsent(&format!("= '{SOURCE}'"))).await;
    assert_eq!(waiting, 9, "the import's events wait in the outbox");
    assert_eq!(
        scalar(&app.trajectories_db, "select count(*) from outbox").await,
        waiting,
        "every row of the outbox is the import's"
    );
    assert_eq!(
        scalar(&app.testing_db, &unsent(&format!("= '{SOURCE}'"))).await,
        3
    );
    assert_eq!(
        scalar(&app.ceremonies_db, "select count(*) from attest").await,
        0
    );

    app.broker.resume().await;
    outbox_drained(&app.trajectories_db, "trajectories").await;
    outbox_drained(&app.testing_db, "testing").await;
    until(
        &app.ceremonies_db,
        "ceremonies to keep the attest once the broker is back",
        &format!(
            "select count(*) from attest where cast(trajectory_id as text) = '{trajectory_id}' \
             and issued_on = '{attest}' and nis = '{ANTWERP}'"
        ),
        1,
    )
    .await;
    let published = kafka::read_all(&app.broker.address(), TRAJECTORIES_TOPIC).await;
    all_history(&published, TRAJECTORIES_TOPIC);
    assert_eq!(of_type::<tpb::AttestIssued>(&published).len(), 1);
    app.stop().await;
}
