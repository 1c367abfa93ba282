//! Brussels: the obligation as the platform learns it from the national-register feed.
//! Recruitment's `NewcomerDetected` for the 19 Brussels municipalities reaches
//! trajectories, which keeps each person's first Brussels registration with what the
//! Brussels rule makes of it (adult under 65, from 2022-06-01, outside free movement, in
//! the foreigners' register).

use std::time::Duration;

use inburgering_testkit::{
    TestApp, authed, date, eventually, kafka, national_number, scalar, spawn_app,
};
use prost::Message;
use proto::{recruitment::v1 as rpb, trajectories::v1 as tpb};

const PATIENCE: Duration = Duration::from_secs(30);

/// Registers a person with trajectories as the feed does; the person id.
async fn person(app: &TestApp, number: String) -> String {
    app.trajectories()
        .await
        .register_person(authed(
            tpb::RegisterPersonRequest {
                national_number: number,
                given_name: "Nieuwkomer".into(),
                family_name: "Brussel".into(),
                mother_tongue: "ar".into(),
                contact_language: String::new(),
            },
            &app.token("bon", &["recruitment-officer"]),
        ))
        .await
        .expect("register")
        .into_inner()
        .person_id
}

/// Publishes a `NewcomerDetected` as recruitment's relay would.
async fn detected(
    app: &TestApp,
    person_id: &str,
    nis: &str,
    on: (i32, i32, i32),
    free_movement: bool,
    foreigners_register: bool,
) {
    let event = rpb::NewcomerDetected {
        registration_id: uuid::Uuid::now_v7().to_string(),
        person_id: person_id.into(),
        municipality_nis: nis.into(),
        registered_on: Some(date(on.0, on.1, on.2)),
        target_group: rpb::TargetGroup::BrusselsNewcomer as i32,
        free_movement: Some(free_movement),
        foreigners_register: Some(foreigners_register),
    };
    let id = uuid::Uuid::now_v7().to_string();
    kafka::produce(
        &app.broker.address(),
        "recruitment.events.v1",
        person_id,
        &[
            ("ce_id", id.as_str()),
            ("ce_type", "inburgering.recruitment.v1.NewcomerDetected"),
            ("ce_source", "/inburgering/recruitment"),
            ("ce_specversion", "1.0"),
        ],
        &event.encode_to_vec(),
    )
    .await;
}

fn young(base: u64) -> String {
    format!("{base:09}{:02}", 97 - (2_000_000_000 + base) % 97)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trajectories_keeps_each_brussels_newcomers_first_registration_and_whether_it_obliges() {
    let app = spawn_app().await;
    let adult = person(&app, national_number(900_512_001)).await;
    let early = person(&app, national_number(900_512_002)).await;
    let minor = person(&app, young(100_301_001)).await;
    let senior = person(&app, national_number(550_101_001)).await;
    let european = person(&app, national_number(900_512_003)).await;
    let settled = person(&app, national_number(900_512_004)).await;
    let flemish = person(&app, national_number(900_512_005)).await;
    // The adult moves within Brussels later: the first registration decides; one of the
    // day before the obligation is not obliged.
    // Out of order: the later move arrives first, the first registration after it.
    detected(&app, &adult, "21015", (2023, 5, 1), false, true).await;
    detected(&app, &adult, "21004", (2023, 1, 10), false, true).await;
    detected(&app, &early, "21004", (2022, 5, 31), false, true).await;
    detected(&app, &minor, "21004", (2023, 1, 10), false, true).await;
    detected(&app, &senior, "21004", (2023, 1, 10), false, true).await;
    detected(&app, &european, "21004", (2023, 1, 10), true, true).await;
    detected(&app, &settled, "21004", (2023, 1, 10), false, false).await;
    detected(&app, &flemish, "23062", (2023, 1, 10), false, true).await;
    applied(&app, 8).await;
    let why = |person: &str, reason: &str| {
        format!(
            "select count(*) from brussels_newcomer where person_id = '{person}' and not obliged \
             and not_obliged_because = '{reason}'"
        )
    };
    assert_eq!(
        scalar(
            &app.trajectories_db,
            &format!(
                "select count(*) from brussels_newcomer where person_id = '{adult}' and obliged \
                 and municipality_nis = '21004' and registered_on = '2023-01-10'"
            )
        )
        .await,
        1
    );
    for (p, reason) in [
        (&early, "before_the_obligation"),
        (&minor, "age"),
        (&senior, "age"),
        (&european, "free_movement"),
        (&settled, "population_register"),
    ] {
        assert_eq!(
            scalar(&app.trajectories_db, &why(p, reason)).await,
            1,
            "{reason}"
        );
    }
    assert_eq!(
        scalar(
            &app.trajectories_db,
            "select count(*) from brussels_newcomer"
        )
        .await,
        6,
        "the Flemish registration is not a Brussels one"
    );
    app.stop().await;
}

/// Starts a trajectory in `nis` (Bon in Brussels, AgII elsewhere) on `started` with
/// `status`, and signs its contract on `signed` when given; the trajectory id.
async fn trajectory(
    app: &TestApp,
    person_id: &str,
    nis: &str,
    obliged: bool,
    started: (i32, i32, i32),
    signed: Option<(i32, i32, i32)>,
) -> String {
    let org = if nis.starts_with("21") { "bon" } else { "agii" };
    let token = app.token(org, &["case-worker"]);
    let mut client = app.trajectories().await;
    let status = if obliged {
        tpb::ObligationStatus::Obliged
    } else {
        tpb::ObligationStatus::Entitled
    };
    let id = client
        .start_trajectory(authed(
            tpb::StartTrajectoryRequest {
                person_id: person_id.into(),
                municipality_nis: nis.into(),
                status: status as i32,
                exemption_reason: 0,
                started_on: Some(date(started.0, started.1, started.2)),
            },
            &token,
        ))
        .await
        .expect("start")
        .into_inner()
        .trajectory
        .unwrap()
        .trajectory_id;
    if let Some((y, m, d)) = signed {
        client
            .sign_contract(authed(
                tpb::SignContractRequest {
                    trajectory_id: id.clone(),
                    signed_on: Some(date(y, m, d)),
                    rights_and_duties_accepted: true,
                    nt2_deadline: Some(date(y + 2, 12, 31)),
                    mo_deadline: Some(date(y + 2, 12, 31)),
                    participation_deadline: Some(date(y + 2, 12, 31)),
                },
                &token,
            ))
            .await
            .expect("sign");
    }
    id
}

async fn report(
    app: &TestApp,
    number: &str,
    on: (i32, i32, i32),
    language: tpb::GgcLanguage,
) -> Result<tpb::ReportGgcRegistrationResponse, tonic::Status> {
    tpb::partner_exchange_service_client::PartnerExchangeServiceClient::connect(format!(
        "http://{}",
        app.trajectories_addr
    ))
    .await
    .unwrap()
    .report_ggc_registration(authed(
        tpb::ReportGgcRegistrationRequest {
            national_number: number.into(),
            registered_on: Some(date(on.0, on.1, on.2)),
            language: language as i32,
        },
        &app.token("ggc", &["partner-exchange"]),
    ))
    .await
    .map(|r| r.into_inner())
}

/// The period of the parliamentary answer of 2024.
const FROM: (i32, i32, i32) = (2022, 6, 1);
const TO: (i32, i32, i32) = (2024, 3, 20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brussels_figures_come_from_the_data_and_skip_every_distractor() {
    let app = spawn_app().await;
    let mut serial = 0u64;
    let mut next = || {
        serial += 1;
        national_number(900_101_000 + serial)
    };
    let in_period = (2023, 3, 1);
    // Bon: 12 contracts signed in the period, 5 of them obliged (the first five); four get
    // the attest in the period (two obliged, two entitled) and one just after it.
    let mut bon = Vec::new();
    for i in 0..12 {
        let number = next();
        let p = person(&app, number.clone()).await;
        let t = trajectory(&app, &p, "21004", i < 5, (2022, 9, 1), Some(in_period)).await;
        bon.push((number, p, t));
    }
    let attest_on = |t: &str, day: &str| {
        format!("update trajectory set attest_issued_on = '{day}' where id = '{t}'")
    };
    for (_, _, t) in &bon[3..7] {
        exec(&app, &attest_on(t, "2024-02-01")).await;
    }
    exec(&app, &attest_on(&bon[7].2, "2024-03-21")).await;
    // The period's last day counts: an attest (entitled) on 2024-03-20; and its first: an
    // obliged contract signed on 2022-06-01.
    exec(&app, &attest_on(&bon[8].2, "2024-03-20")).await;
    let first_day = person(&app, next()).await;
    trajectory(
        &app,
        &first_day,
        "21004",
        true,
        (2022, 5, 2),
        Some((2022, 6, 1)),
    )
    .await;
    // Distractors: contracts the day before the obligation and the day after the period;
    // Flemish residents (AgII) with contracts in the period.
    for signed in [(2022, 5, 31), (2024, 3, 21)] {
        let p = person(&app, next()).await;
        trajectory(&app, &p, "21004", true, (2022, 1, 10), Some(signed)).await;
    }
    for _ in 0..3 {
        let p = person(&app, next()).await;
        trajectory(&app, &p, "23062", true, (2022, 9, 1), Some(in_period)).await;
    }

    // Newcomers of the register feed: obliged ones registered in the period (three report
    // Dutch-language GGC trajectories, two French-language ones, one a Dutch one after the
    // period, four nowhere), plus distractors the rule or the period leaves out.
    let mut dutch = Vec::new();
    for _ in 0..3 {
        dutch.push(newcomer(&app, next(), (2023, 10, 2), false).await);
    }
    let mut french = Vec::new();
    for _ in 0..2 {
        french.push(newcomer(&app, next(), (2023, 10, 2), false).await);
    }
    let late_dutch = newcomer(&app, next(), (2023, 10, 2), false).await;
    let mut nowhere = Vec::new();
    for _ in 0..4 {
        nowhere.push(newcomer(&app, next(), (2023, 11, 15), false).await);
    }
    newcomer(&app, next(), (2024, 3, 21), false).await;
    newcomer(&app, next(), (2023, 11, 15), true).await;
    // The last day: one registered on it (nowhere after), one reported Dutch on it.
    newcomer(&app, next(), (2024, 3, 20), false).await;
    let dutch_last_day = newcomer(&app, next(), (2023, 12, 1), false).await;
    // One who starts at Bon only the day after the period: not registered by then.
    let starts_late = newcomer(&app, next(), (2023, 12, 1), false).await;
    trajectory(&app, &starts_late.1, "21004", true, (2024, 3, 21), None).await;
    // Two of Bon's obliged contracts are Brussels newcomers of the period too: registered.
    for (_, p, _) in bon.iter().take(2) {
        detected(&app, p, "21004", (2022, 7, 1), false, true).await;
    }
    applied(&app, 17).await;
    report(
        &app,
        &dutch_last_day.0,
        (2024, 3, 20),
        tpb::GgcLanguage::Dutch,
    )
    .await
    .unwrap();
    for (number, _) in &dutch {
        let r = report(&app, number, (2024, 2, 5), tpb::GgcLanguage::Dutch)
            .await
            .unwrap();
        assert!(r.recorded && !r.flagged);
    }
    // The same person reported again, and on another day: still one person.
    let again = report(&app, &dutch[0].0, (2024, 2, 5), tpb::GgcLanguage::Dutch)
        .await
        .unwrap();
    assert!(!again.recorded);
    report(&app, &dutch[0].0, (2024, 3, 1), tpb::GgcLanguage::Dutch)
        .await
        .unwrap();
    for (number, _) in &french {
        report(&app, number, (2024, 2, 5), tpb::GgcLanguage::French)
            .await
            .unwrap();
    }
    report(&app, &late_dutch.0, (2024, 3, 21), tpb::GgcLanguage::Dutch)
        .await
        .unwrap();

    let figures =
        tpb::brussels_statistics_service_client::BrusselsStatisticsServiceClient::connect(format!(
            "http://{}",
            app.trajectories_addr
        ))
        .await
        .unwrap()
        .get_brussels_figures(authed(
            tpb::GetBrusselsFiguresRequest {
                from: Some(date(FROM.0, FROM.1, FROM.2)),
                to: Some(date(TO.0, TO.1, TO.2)),
            },
            &app.token("agii", &["monitor"]),
        ))
        .await
        .expect("figures")
        .into_inner();
    assert_eq!(
        figures,
        tpb::GetBrusselsFiguresResponse {
            bon_contracts: 13,
            bon_contracts_obliged: 6,
            bon_attests: 5,
            bon_attests_obliged: 2,
            dutch_ggc_trajectories: 4,
            // Four registered nowhere, one registered on the last day, one the GGC reported
            // only after the period, one who started at Bon only after it.
            obliged_not_registered: 7,
        }
    );

    // The operator's command prints the same figures.
    let out = tokio::process::Command::new(inburgering_testkit::workspace_binary("inburgering"))
        .args([
            "stats",
            "brussels",
            "--from",
            "2022-06-01",
            "--to",
            "2024-03-20",
        ])
        .env(
            "INBURGERING_TRAJECTORIES_URL",
            format!("http://{}", app.trajectories_addr),
        )
        .env("INBURGERING_TOKEN", app.token("agii", &["monitor"]))
        .env("INBURGERING_LOG", "warn")
        .output()
        .await
        .expect("run inburgering");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (label, n) in [
        ("contracts signed at Bon:", 13),
        ("of the contracts, obliged:", 6),
        ("attests issued by Bon:", 5),
        ("of the attests, obliged:", 2),
        ("chose a Dutch-language GGC trajectory:", 4),
        ("obliged, registered with neither Bon nor the GGC:", 7),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(label)
                    && l.trim_end().ends_with(&format!(" {n}"))),
            "{label} {n} in:\n{stdout}"
        );
    }
    app.stop().await;
}

/// Waits until trajectories has applied `n` events of recruitment's topic (its inbox).
async fn applied(app: &TestApp, n: i64) {
    let sql = "select count(*) from inbox where consumer = 'trajectories.newcomers'";
    eventually("the newcomers in trajectories", PATIENCE, || async {
        (scalar(&app.trajectories_db, sql).await == n).then_some(())
    })
    .await;
}

/// A newcomer of the register feed registered in Brussels city on `on`.
async fn newcomer(
    app: &TestApp,
    number: String,
    on: (i32, i32, i32),
    free_movement: bool,
) -> (String, String) {
    let p = person(app, number.clone()).await;
    detected(app, &p, "21004", on, free_movement, true).await;
    (number, p)
}

async fn exec(app: &TestApp, sql: &str) {
    use sea_orm::{ConnectionTrait, Database};
    use secrecy::ExposeSecret;
    let db = Database::connect(app.trajectories_db.expose_secret())
        .await
        .unwrap();
    db.execute_unprepared(sql).await.unwrap();
    let _ = db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_works_both_ways_refuses_what_it_must_and_audits_every_read() {
    use tonic::Code;
    let app = spawn_app().await;
    let exchange = || async {
        tpb::partner_exchange_service_client::PartnerExchangeServiceClient::connect(format!(
            "http://{}",
            app.trajectories_addr
        ))
        .await
        .unwrap()
    };
    // A Bon contract, a Brussels newcomer, a Flemish resident.
    let bon_number = national_number(880_202_001);
    let bon_person = person(&app, bon_number.clone()).await;
    let bon_trajectory = trajectory(
        &app,
        &bon_person,
        "21004",
        true,
        (2024, 1, 8),
        Some((2024, 1, 15)),
    )
    .await;
    let newcomer_number = national_number(880_202_002);
    let newcomer = person(&app, newcomer_number.clone()).await;
    detected(&app, &newcomer, "21015", (2024, 1, 3), false, true).await;
    let flemish_number = national_number(880_202_003);
    let flemish = person(&app, flemish_number.clone()).await;
    trajectory(&app, &flemish, "23062", true, (2024, 1, 8), None).await;
    let seen = format!("select count(*) from brussels_newcomer where person_id = '{newcomer}'");
    eventually("the newcomer in trajectories", PATIENCE, || async {
        (scalar(&app.trajectories_db, &seen).await == 1).then_some(())
    })
    .await;

    let unknown = report(
        &app,
        &national_number(880_202_099),
        (2024, 2, 1),
        tpb::GgcLanguage::Dutch,
    )
    .await
    .expect_err("nobody");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    assert!(
        unknown
            .message()
            .contains("no person registered in Brussels"),
        "{unknown:?}"
    );
    let resident = report(&app, &flemish_number, (2024, 2, 1), tpb::GgcLanguage::Dutch)
        .await
        .expect_err("a Flemish resident");
    assert_eq!(resident.code(), Code::FailedPrecondition, "{resident:?}");
    assert!(
        resident
            .message()
            .contains("lives in Flanders, not in Brussels")
    );
    let ok = report(
        &app,
        &newcomer_number,
        (2024, 2, 1),
        tpb::GgcLanguage::Dutch,
    )
    .await
    .unwrap();
    assert!(ok.recorded && !ok.flagged);
    let twice = report(
        &app,
        &newcomer_number,
        (2024, 2, 1),
        tpb::GgcLanguage::Dutch,
    )
    .await
    .unwrap();
    assert!(!twice.recorded);
    // A report that contradicts Bon's contract: kept beside it, flagged, nothing overwritten.
    let contradicts = report(&app, &bon_number, (2024, 2, 1), tpb::GgcLanguage::French)
        .await
        .unwrap();
    assert!(contradicts.recorded && contradicts.flagged);
    let still = format!(
        "select count(*) from trajectory where id = '{bon_trajectory}' and agency = 'bon' and contract_signed_on = '2024-01-15'"
    );
    assert_eq!(scalar(&app.trajectories_db, &still).await, 1);
    let conflicts = exchange()
        .await
        .list_exchange_conflicts(authed(
            tpb::ListExchangeConflictsRequest::default(),
            &app.token("bon", &["case-worker"]),
        ))
        .await
        .expect("a Bon case worker")
        .into_inner()
        .conflicts;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].trajectory_id, bon_trajectory);

    // The other way: the GGC reads Bon's registrations; the Huis van het Nederlands the
    // Dutch-language referrals.
    let bon_side = exchange()
        .await
        .list_bon_registrations(authed(
            tpb::ListBonRegistrationsRequest {
                from: Some(date(2024, 1, 1)),
                to: Some(date(2024, 12, 31)),
                page: None,
            },
            &app.token("ggc", &["partner-exchange"]),
        ))
        .await
        .expect("the GGC")
        .into_inner()
        .registrations;
    assert_eq!(bon_side.len(), 1);
    assert_eq!(bon_side[0].national_number, bon_number);
    assert_eq!(bon_side[0].attest_issued_on, None);
    let referrals = exchange()
        .await
        .list_dutch_route_referrals(authed(
            tpb::ListDutchRouteReferralsRequest::default(),
            &app.token("huis-nl-brussel", &["partner-exchange"]),
        ))
        .await
        .expect("the Huis van het Nederlands")
        .into_inner()
        .referrals;
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0].national_number, newcomer_number);

    // Each side keeps to its own: the GGC calls no case-worker RPC, a Bon case worker no
    // exchange RPC, the Huis reads no Bon registrations, only an admin the audit.
    let ggc = app.token("ggc", &["partner-exchange"]);
    let e = app
        .trajectories()
        .await
        .list_trajectories(authed(tpb::ListTrajectoriesRequest::default(), &ggc))
        .await
        .expect_err("the GGC as a case worker");
    assert_eq!(e.code(), Code::PermissionDenied);
    let bon_worker = app.token("bon", &["case-worker"]);
    let e = exchange()
        .await
        .report_ggc_registration(authed(
            tpb::ReportGgcRegistrationRequest {
                national_number: newcomer_number.clone(),
                registered_on: Some(date(2024, 2, 1)),
                language: tpb::GgcLanguage::Dutch as i32,
            },
            &bon_worker,
        ))
        .await
        .expect_err("a Bon case worker on the exchange");
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = exchange()
        .await
        .list_bon_registrations(authed(
            tpb::ListBonRegistrationsRequest {
                from: Some(date(2024, 1, 1)),
                to: Some(date(2024, 12, 31)),
                page: None,
            },
            &app.token("huis-nl-brussel", &["partner-exchange"]),
        ))
        .await
        .expect_err("the Huis reads no Bon registrations");
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = exchange()
        .await
        .list_exchange_audit(authed(tpb::ListExchangeAuditRequest::default(), &ggc))
        .await
        .expect_err("not an admin");
    assert_eq!(e.code(), Code::PermissionDenied);

    let audit = exchange()
        .await
        .list_exchange_audit(authed(
            tpb::ListExchangeAuditRequest::default(),
            &app.token("agii", &["platform-admin"]),
        ))
        .await
        .expect("an admin")
        .into_inner()
        .entries;
    let purposes: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.organisation.as_str(), a.purpose.as_str()))
        .collect();
    assert_eq!(
        purposes,
        [
            ("huis-nl-brussel", "dutch-route-referrals"),
            ("ggc", "bon-registrations"),
            ("bon", "exchange-conflicts"),
            ("ggc", "ggc-registration"),
            ("ggc", "ggc-registration"),
            ("ggc", "ggc-registration"),
            ("ggc", "ggc-registration-refused"),
            ("ggc", "ggc-registration-refused"),
        ],
        "newest first: every exchange, refused reports too (their answer tells something), \
         calls refused for their role not"
    );
    assert_eq!(audit[0].person_ids, std::slice::from_ref(&newcomer));
    assert_eq!(audit[1].person_ids, std::slice::from_ref(&bon_person));
    assert_eq!(audit[2].person_ids, std::slice::from_ref(&bon_person));
    assert_eq!(audit[6].person_ids, std::slice::from_ref(&flemish));
    assert!(
        audit[7].person_ids.is_empty(),
        "an unknown number names nobody"
    );
    app.stop().await;
}
