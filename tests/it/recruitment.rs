//! Recruitment across services: the national-register feed goes through the real CLI,
//! hands national numbers to trajectories and keeps person ids; the welcome batch prints
//! one PDF letter per eligible newcomer (Dutch then the translation, or Dutch with the
//! note), once; trajectory starts and contracts come back as the funnel.

use std::{path::PathBuf, time::Duration};

use chrono::Datelike;
use inburgering_testkit::{TestApp, authed, date, eventually, kafka, spawn_app};
use proto::{common::v1 as common, recruitment::v1 as pb, trajectories::v1 as tpb};
use sea_orm::Database;
use secrecy::ExposeSecret;
use tonic::Code;

const PATIENCE: Duration = Duration::from_secs(30);
const BRUSSELS: &str = "21004";
const SCHAERBEEK: &str = "21015";
const GHENT: &str = "44021";
const LIEGE: &str = "62063";

fn officer(app: &TestApp, org: &str) -> String {
    app.token(org, &["recruitment-officer"])
}

/// A valid national number of someone born on `born` (YYMMDD), serial `serial`.
fn number(born: &str, serial: u32, from_2000: bool) -> String {
    let base: u64 = format!("{born}{serial:03}").parse().unwrap();
    let check = if from_2000 {
        97 - (2_000_000_000 + base) % 97
    } else {
        97 - base % 97
    };
    format!("{base:09}{check:02}")
}

const HEADER: &str = "national_number,register,registration_date,municipality_nis,nationality,languages,given_name,family_name,street,postal_code,city\n";

fn line(
    nn: &str,
    register: &str,
    day: &str,
    nis: &str,
    nat: &str,
    langs: &str,
    given: &str,
) -> String {
    format!(
        "{nn},{register},{day},{nis},{nat},{langs},{given},Testfamilie,Wetstraat 1,1000,Brussel\n"
    )
}

/// Brussels registrations of December 2023 with distractors whose fate the test knows.
fn december_register() -> String {
    let mut file = String::from(HEADER);
    // Seven adult newcomers in the city of Brussels: English, French, Spanish, Arabic and
    // Tigrinya speakers get a translation; the Portuguese in Schaerbeek Dutch with the note.
    for (i, langs) in ["en", "fr;en", "es", "ar", "ar;fr", "ti", "en"]
        .iter()
        .enumerate()
    {
        let nn = number("900512", i as u32 + 1, false);
        file += &line(
            &nn,
            "foreigners",
            "2023-12-04",
            BRUSSELS,
            "MA",
            langs,
            &format!("Persoon{i}"),
        );
    }
    // Two in Schaerbeek (a cell under five in the funnel).
    for i in 0..2 {
        let nn = number("850101", i + 1, false);
        file += &line(
            &nn,
            "population",
            "2023-12-20",
            SCHAERBEEK,
            "BR",
            "pt",
            "Schaarbeek",
        );
    }
    // Distractors: a minor, the waiting register, Liège, a Ghent resident (a recruitment
    // letter, not a welcome one), a registration in January, and a repeated line.
    file += &line(
        &number("100301", 1, true),
        "foreigners",
        "2023-12-05",
        BRUSSELS,
        "SY",
        "ar",
        "Minor",
    );
    file += &line(
        &number("800101", 9, false),
        "waiting",
        "2023-12-05",
        BRUSSELS,
        "AF",
        "ps",
        "Waiting",
    );
    file += &line(
        &number("800101", 10, false),
        "foreigners",
        "2023-12-05",
        LIEGE,
        "CD",
        "fr",
        "Liege",
    );
    file += &line(
        &number("800101", 11, false),
        "foreigners",
        "2023-12-06",
        GHENT,
        "TR",
        "tr",
        "Gent",
    );
    file += &line(
        &number("800101", 12, false),
        "foreigners",
        "2024-01-03",
        BRUSSELS,
        "IN",
        "en",
        "January",
    );
    file += &line(
        &number("900512", 1, false),
        "foreigners",
        "2023-12-04",
        BRUSSELS,
        "MA",
        "en",
        "Persoon0",
    );
    file
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("recruitment-{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the real CLI; asynchronously, so the app's servers (on this test's runtime) answer
/// its calls meanwhile.
async fn cli(app: &TestApp, token: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(inburgering_testkit::workspace_binary("inburgering"))
        .arg("recruitment")
        .args(args)
        .env(
            "INBURGERING_DATABASE_URL",
            app.recruitment_db.expose_secret(),
        )
        .env(
            "INBURGERING_TRAJECTORIES_URL",
            format!("http://{}", app.trajectories_addr),
        )
        .env("INBURGERING_TOKEN", token)
        .env("INBURGERING_LOG", "warn")
        .output()
        .await
        .expect("run inburgering")
}

fn ok(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the command failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn import(app: &TestApp, text: &str) -> std::process::Output {
    let dir = scratch("feed");
    let file = dir.join("register.csv");
    std::fs::write(&file, text).unwrap();
    cli(
        app,
        &officer(app, "bon"),
        &["import-register", file.to_str().unwrap()],
    )
    .await
}

async fn welcome(app: &TestApp, out: &std::path::Path) -> std::process::Output {
    cli(
        app,
        "",
        &[
            "letters",
            "--kind",
            "welcome",
            "--registered-from",
            "2023-12-01",
            "--registered-to",
            "2023-12-31",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .await
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    inburgering_testkit::scalar(&app.recruitment_db, sql).await
}

fn pdf_text(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext is installed by scripts/setup (poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        path.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pdfs(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    files.sort();
    files
}

/// The text of each letter in a batch: pages split at form feeds, grouped by the index.
fn letters_of(pdf: &std::path::Path) -> Vec<String> {
    let text = pdf_text(pdf);
    let pages: Vec<&str> = text.split('\u{c}').collect();
    let index = std::fs::read_to_string(pdf.with_extension("index.csv")).unwrap();
    let starts: Vec<usize> = index
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse::<usize>().unwrap() - 1)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).copied().unwrap_or(pages.len());
            pages[start..end].join("\n")
        })
        .collect()
}

#[tokio::test]
async fn a_december_register_becomes_one_welcome_letter_per_brussels_newcomer_once() {
    let app = spawn_app().await;
    let out = ok(&import(&app, &december_register()).await);
    assert!(
        out.contains("15 records, 11 new, 0 imported before, 1 repeated in the file"),
        "{out}"
    );
    assert!(out.contains("new brussels-newcomer: 10"), "{out}");
    assert!(
        out.contains("new obliged: 1"),
        "the Turkish national in Ghent: {out}"
    );
    assert!(
        out.contains("not taken, under 18 on the day of registration: 1"),
        "{out}"
    );
    assert!(
        out.contains("not taken, not in the population or foreigners' register: 1"),
        "{out}"
    );
    assert!(
        out.contains("not taken, registered in Wallonia, where no Flemish agency works: 1"),
        "{out}"
    );
    // The Ghent resident is taken too, for the recruitment letter.
    assert_eq!(
        scalar(
            &app,
            "select count(*) from registration where target_group = 'obliged'"
        )
        .await,
        1
    );
    let taken = scalar(&app, "select count(*) from registration").await;
    assert_eq!(
        taken, 11,
        "7 + 2 Brussels December, 1 Brussels January, 1 Ghent"
    );

    // Again: nothing new, and trajectories keeps one person per national number.
    let again = ok(&import(&app, &december_register()).await);
    assert!(again.contains("0 new, 11 imported before"), "{again}");
    assert_eq!(scalar(&app, "select count(*) from registration").await, 11);

    let dir = scratch("letters");
    let out = ok(&welcome(&app, &dir).await);
    assert!(out.contains("9 letters in 1 batch(es)"), "{out}");
    assert!(
        out.contains("7 with a translation, 2 in Dutch only"),
        "{out}"
    );
    let files = pdfs(&dir);
    assert_eq!(files.len(), 1, "one PDF per batch: {files:?}");
    let letters = letters_of(&files[0]);
    assert_eq!(letters.len(), 9);
    for letter in &letters {
        assert!(
            letter.contains("Welkom in Brussel"),
            "every letter starts in Dutch:\n{letter}"
        );
        let dutch_at = letter.find("Welkom in Brussel").unwrap();
        if let Some(at) = letter.find("Welcome to Brussels") {
            assert!(at > dutch_at, "the translation follows the Dutch letter");
        }
    }
    // A sentence may break across lines: compared with its white space made single spaces.
    let flat: Vec<String> = letters
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let with = |needle: &str| flat.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(with("Welcome to Brussels"), 2, "the two English speakers");
    assert_eq!(with("Bienvenue à Bruxelles"), 1, "fr;en takes French first");
    assert_eq!(with("Bienvenido/a a Bruselas"), 1);
    assert_eq!(
        with("مرحبا بك في بروكسل"),
        2,
        "ar, and ar;fr takes Arabic first"
    );
    assert_eq!(with("እንቋዕ ናብ ብራስልስ ብደሓን መጻእኩም"), 1, "Tigrinya");
    assert_eq!(
        with("alleen in het Nederlands"),
        2,
        "the two Portuguese speakers"
    );
    assert_eq!(with("vertaling in het Portugees"), 2);
    // Every letter, in both its parts, says how to reach Bon.
    assert!(
        letters.iter().all(|l| l.matches("www.bon.be").count()
            == if l.contains("alleen in het Nederlands") {
                1
            } else {
                2
            }),
        "the contact block closes the Dutch letter and the translation"
    );

    // A second run sends nothing twice.
    let rerun = ok(&welcome(&app, &scratch("rerun")).await);
    assert!(rerun.contains("0 letters in 0 batch(es)"), "{rerun}");
    let sent = eventually("nine LetterSent on the topic", PATIENCE, || async {
        let sent =
            kafka::decoded::<pb::LetterSent>(&app.config.kafka_brokers, recruitment::TOPIC).await;
        (sent.len() >= 9).then_some(sent)
    })
    .await;
    assert_eq!(sent.len(), 9);
    let mut people: Vec<_> = sent.iter().map(|(_, e)| e.person_id.clone()).collect();
    people.sort();
    people.dedup();
    assert_eq!(people.len(), 9, "one letter per person");
    for (message, event) in &sent {
        assert_eq!(
            kafka::header(message, "ce_type").as_deref(),
            Some("inburgering.recruitment.v1.LetterSent")
        );
        let key = String::from_utf8_lossy(rdkafka::Message::key(message).unwrap()).into_owned();
        assert_eq!(
            key, event.person_id,
            "keyed by person id, never a national number"
        );
    }
    let detected =
        kafka::decoded::<pb::NewcomerDetected>(&app.config.kafka_brokers, recruitment::TOPIC).await;
    assert_eq!(detected.len(), 11);

    // No national number, name or address in the commands' output, the events or the
    // schema: recruitment keeps person ids, and the addressee only until the retention.
    let everything = format!("{out}{again}{rerun}");
    let payloads: String = kafka::read_all(&app.config.kafka_brokers, recruitment::TOPIC)
        .await
        .iter()
        .map(|m| {
            let key = rdkafka::Message::key(m).unwrap_or_default();
            let payload = rdkafka::Message::payload(m).unwrap_or_default();
            format!(
                "{}{}",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(payload)
            )
        })
        .collect();
    for secret in [
        number("900512", 1, false),
        "Persoon0".into(),
        "Testfamilie".into(),
        "Wetstraat".into(),
    ] {
        assert!(
            !everything.contains(&secret),
            "{secret} in the commands' output"
        );
        assert!(
            !payloads.contains(&secret),
            "{secret} on recruitment.events.v1"
        );
    }
    assert_eq!(
        scalar(
            &app,
            "select count(*) from information_schema.columns where column_name like '%national_num%'"
        )
        .await,
        0,
        "recruitment has no column for a national number"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_register_file_imports_nothing_and_names_each_bad_line() {
    let app = spawn_app().await;
    let good = line(
        &number("900512", 1, false),
        "foreigners",
        "2023-12-04",
        BRUSSELS,
        "MA",
        "en",
        "A",
    );
    let mut bad_number = number("900512", 2, false);
    bad_number.replace_range(10..11, if bad_number.ends_with('0') { "1" } else { "0" });
    let truncated = number("900512", 6, false);
    let file = format!(
        "{HEADER}{good}{}{}{}{}{truncated},foreigners,2023-12-04,2100",
        line(
            &bad_number,
            "foreigners",
            "2023-12-04",
            BRUSSELS,
            "MA",
            "en",
            "B"
        ),
        line(
            &number("900512", 3, false),
            "foreigners",
            "2023-12-04",
            "99999",
            "MA",
            "en",
            "C"
        ),
        line(
            &number("900512", 4, false),
            "diplomatic",
            "2023-12-04",
            BRUSSELS,
            "MA",
            "en",
            "D"
        ),
        line(
            &number("900512", 5, false),
            "foreigners",
            "2023-02-30",
            BRUSSELS,
            "MA",
            "en",
            "E"
        ),
    );
    // The last line is truncated: the file ends in the middle of a record.
    let output = import(&app, &file).await;
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("5 bad line(s); nothing was imported"), "{err}");
    assert!(
        err.contains("line 3: national_number: check digits do not match (mod 97)"),
        "{err}"
    );
    assert!(
        err.contains("line 4: municipality_nis: 99999 is not in the municipality register"),
        "{err}"
    );
    assert!(
        err.contains("line 5: register: \"diplomatic\" is not a register code"),
        "{err}"
    );
    assert!(err.contains("line 6: registration_date"), "{err}");
    assert!(
        err.contains("line 7: line: has 4 fields where the header has 11; a truncated file?"),
        "{err}"
    );
    assert_eq!(scalar(&app, "select count(*) from registration").await, 0);
    assert_eq!(scalar(&app, "select count(*) from addressee").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_batch_interrupted_half_way_is_finished_by_the_next_run_and_the_broker_down_loses_nothing()
 {
    let mut app = spawn_app().await;
    // Two more: Persoon0 registers again in Schaerbeek (one letter still, and both of
    // their addresses go with it), and a Turkish name, printed as written.
    let file = december_register()
        + &line(
            &number("900512", 1, false),
            "foreigners",
            "2023-12-22",
            SCHAERBEEK,
            "MA",
            "en",
            "Persoon0",
        )
        + &line(
            &number("910304", 1, false),
            "foreigners",
            "2023-12-10",
            BRUSSELS,
            "TR",
            "tr",
            "Ayşe",
        );
    let imported = ok(&import(&app, &file).await);
    assert!(imported.contains("17 records, 13 new"), "{imported}");
    // The output folder cannot be made (a file is in the way): the batch is reserved,
    // its file cannot be written, and the run stops.
    let blocked = scratch("blocked").join("letters");
    std::fs::write(&blocked, b"in the way").unwrap();
    let failed = welcome(&app, &blocked).await;
    assert!(!failed.status.success(), "the run cannot write its file");
    assert_eq!(
        scalar(&app, "select count(*) from letter where state = 'pending'").await,
        10
    );
    assert_eq!(
        scalar(&app, "select count(*) from letter where state = 'sent'").await,
        0
    );

    // The broker goes down; the next run completes the batch all the same.
    app.broker.kill().await;
    let dir = scratch("resumed");
    let out = ok(&welcome(&app, &dir).await);
    assert!(out.contains("10 letters in 1 batch(es)"), "{out}");
    assert!(
        out.contains("1 batch(es) of an interrupted run completed"),
        "{out}"
    );
    assert_eq!(
        scalar(&app, "select count(*) from letter where state = 'sent'").await,
        10
    );
    let printed = letters_of(&pdfs(&dir)[0]);
    assert_eq!(printed.len(), 10);
    let ayse = printed
        .iter()
        .find(|l| l.contains("Ayşe Testfamilie"))
        .expect("the letter to Ayşe, her name as she writes it");
    assert!(
        ayse.contains("Brüksel'e hoş geldiniz"),
        "in Turkish: {ayse}"
    );
    // Addresses are kept until the retention is over, then erased.
    assert_eq!(
        scalar(
            &app,
            "select count(*) from addressee where erase_after is not null"
        )
        .await,
        11,
        "ten letters, and Persoon0's second address with theirs"
    );
    app.broker.resume().await;
    let sent = eventually(
        "nine LetterSent after the broker is back",
        Duration::from_secs(60),
        || async {
            let sent =
                kafka::decoded::<pb::LetterSent>(&app.config.kafka_brokers, recruitment::TOPIC)
                    .await;
            (sent.len() >= 10).then_some(sent)
        },
    )
    .await;
    assert_eq!(sent.len(), 10, "none lost, none twice");
    let db = Database::connect(app.recruitment_db.expose_secret())
        .await
        .unwrap();
    let now = chrono::Utc::now();
    assert_eq!(
        recruitment::letters::erase_due(&db, now).await.unwrap(),
        0,
        "within the retention"
    );
    let later = now
        + chrono::Duration::days(i64::from(recruitment::rules::DEFAULT_ADDRESS_RETENTION_DAYS) + 1);
    assert_eq!(
        recruitment::letters::erase_due(&db, later).await.unwrap(),
        11
    );
    assert_eq!(
        scalar(
            &app,
            "select count(*) from addressee where erase_after is not null"
        )
        .await,
        0
    );
    // The two not yet written to (January, Ghent) keep theirs until their letter.
    assert_eq!(scalar(&app, "select count(*) from addressee").await, 2);
    db.close().await.unwrap();
    app.stop().await;
}

fn today() -> chrono::NaiveDate {
    platform::clock::today()
}

fn day(d: chrono::NaiveDate) -> common::Date {
    date(d.year(), d.month() as i32, d.day() as i32)
}

#[tokio::test]
async fn the_funnel_counts_letters_intakes_and_contracts_and_suppresses_small_cells() {
    let app = spawn_app().await;
    ok(&import(&app, &december_register()).await);
    ok(&welcome(&app, &scratch("funnel")).await);
    let bon = officer(&app, "bon");
    let mut recruitment = app.recruitment().await;

    // A campaign brings in one of the Brussels newcomers through an OCMW referral.
    let campaign = recruitment
        .launch_campaign(authed(
            pb::LaunchCampaignRequest {
                name: "Welkom in de metro".into(),
                target_groups: vec![pb::TargetGroup::BrusselsNewcomer as i32],
                channels: vec![
                    pb::Channel::PublicTransport as i32,
                    pb::Channel::Flyers as i32,
                ],
                starts_on: Some(date(2024, 1, 1)),
                ends_on: Some(date(2024, 6, 30)),
                municipality_nis: vec![BRUSSELS.into()],
            },
            &bon,
        ))
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    let newcomers = recruitment
        .list_newcomers(authed(
            pb::ListNewcomersRequest {
                municipality_nis: BRUSSELS.into(),
                registered_from: Some(date(2023, 12, 1)),
                registered_to: Some(date(2023, 12, 31)),
                page: None,
            },
            &bon,
        ))
        .await
        .unwrap()
        .into_inner()
        .newcomers;
    assert_eq!(newcomers.len(), 7);
    assert!(
        newcomers
            .iter()
            .all(|n| n.letters_sent == vec![pb::LetterKind::Welcome as i32])
    );

    // Six of the seven come to an intake and five sign their contract, after the letter.
    let case_worker = app.token("bon", &["case-worker"]);
    let mut trajectories = app.trajectories().await;
    for (i, n) in newcomers.iter().take(6).enumerate() {
        let trajectory = trajectories
            .start_trajectory(authed(
                tpb::StartTrajectoryRequest {
                    person_id: n.person_id.clone(),
                    municipality_nis: BRUSSELS.into(),
                    status: tpb::ObligationStatus::Obliged as i32,
                    exemption_reason: 0,
                    started_on: Some(day(today())),
                },
                &case_worker,
            ))
            .await
            .unwrap()
            .into_inner()
            .trajectory
            .unwrap();
        if i < 5 {
            let next_year = today().year() + 1;
            trajectories
                .sign_contract(authed(
                    tpb::SignContractRequest {
                        trajectory_id: trajectory.trajectory_id,
                        signed_on: Some(day(today())),
                        rights_and_duties_accepted: true,
                        nt2_deadline: Some(date(next_year, 12, 31)),
                        mo_deadline: Some(date(next_year, 9, 30)),
                        participation_deadline: Some(date(next_year, 12, 31)),
                    },
                    &case_worker,
                ))
                .await
                .unwrap();
        }
    }
    let referral = recruitment
        .record_referral(authed(
            pb::RecordReferralRequest {
                person_id: newcomers[6].person_id.clone(),
                referrer_kind: pb::ReferrerKind::Ocmw as i32,
                referrer_name: "OCMW Brussel".into(),
                campaign_id: campaign.campaign_id.clone(),
                referred_on: Some(day(today())),
                gpmi_condition: true,
            },
            &bon,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(referral.created);
    // The same referral again changes nothing; AgII (whose area holds Bon's) records its
    // own, without seeing Bon's.
    let referral_by = |token: String, kind: pb::ReferrerKind, name: &str| {
        let mut client = recruitment.clone();
        let request = pb::RecordReferralRequest {
            person_id: newcomers[6].person_id.clone(),
            referrer_kind: kind as i32,
            referrer_name: name.into(),
            campaign_id: String::new(),
            referred_on: Some(day(today())),
            gpmi_condition: false,
        };
        async move { client.record_referral(authed(request, &token)).await }
    };
    let again = referral_by(bon.clone(), pb::ReferrerKind::Ocmw, "OCMW Brussel")
        .await
        .unwrap()
        .into_inner();
    assert!(!again.created);
    assert_eq!(again.referral.unwrap().campaign_id, campaign.campaign_id);
    let agii = referral_by(
        officer(&app, "agii"),
        pb::ReferrerKind::Ocmw,
        "OCMW Brussel",
    )
    .await
    .unwrap()
    .into_inner();
    assert!(agii.created, "AgII's own referral");
    assert_eq!(agii.referral.unwrap().campaign_id, "", "not Bon's campaign");
    let by_name = referral_by(
        bon.clone(),
        pb::ReferrerKind::Ambassador,
        "Fatima El Amrani",
    )
    .await
    .unwrap_err();
    assert_eq!(by_name.code(), Code::InvalidArgument);
    assert!(
        by_name.message().starts_with("referrer_name:"),
        "{by_name:?}"
    );

    let month = day(today().with_day(1).unwrap());
    let funnel = |token: String, nis: &'static str| {
        let mut client = recruitment.clone();
        async move {
            client
                .get_funnel(authed(
                    pb::GetFunnelRequest {
                        municipality_nis: nis.into(),
                        from_month: Some(month),
                        to_month: Some(month),
                    },
                    &token,
                ))
                .await
        }
    };
    let rows = eventually(
        "six intakes and five contracts in the funnel",
        PATIENCE,
        || {
            let f = funnel(bon.clone(), "");
            async move {
                let rows = f.await.unwrap().into_inner().rows;
                let main = rows
                    .iter()
                    .find(|r| r.municipality_nis == BRUSSELS && r.campaign_id.is_empty())?;
                let counted = (main.intakes.as_ref()?.count, main.contracts.as_ref()?.count);
                (counted == (Some(6), Some(5))).then_some(rows)
            }
        },
    )
    .await;
    let main = rows
        .iter()
        .find(|r| r.municipality_nis == BRUSSELS && r.campaign_id.is_empty())
        .unwrap();
    assert_eq!(
        main.letters.as_ref().unwrap().count,
        Some(6),
        "the seventh counts under its campaign"
    );
    assert_eq!(main.intakes.as_ref().unwrap().count, Some(6));
    assert_eq!(main.intake_rate_percent, Some(100));
    assert_eq!(
        main.contract_rate_percent,
        Some(83),
        "5 of 6, rounded half up"
    );
    let by_campaign = rows
        .iter()
        .find(|r| r.campaign_id == campaign.campaign_id)
        .unwrap();
    assert!(
        by_campaign.letters.as_ref().unwrap().suppressed,
        "one letter is a small cell"
    );
    assert_eq!(by_campaign.intake_rate_percent, None);
    let schaerbeek = rows
        .iter()
        .find(|r| r.municipality_nis == SCHAERBEEK)
        .unwrap();
    assert_eq!(schaerbeek.letters.as_ref().unwrap().count, None);
    assert!(schaerbeek.letters.as_ref().unwrap().suppressed);

    // A municipality officer sees their own municipality's funnel and no other.
    let schaerbeek_officer = app.token(
        &format!("municipality-{SCHAERBEEK}"),
        &["municipality-officer"],
    );
    let own = funnel(schaerbeek_officer.clone(), "")
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert!(own.iter().all(|r| r.municipality_nis == SCHAERBEEK) && !own.is_empty());
    let other = funnel(schaerbeek_officer, BRUSSELS).await.unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied, "{other:?}");
    // An Atlas officer's area holds no Brussels municipality.
    let atlas = funnel(officer(&app, "atlas"), BRUSSELS).await.unwrap_err();
    assert_eq!(atlas.code(), Code::PermissionDenied, "{atlas:?}");
    let case_worker_refused = funnel(case_worker, "").await.unwrap_err();
    assert_eq!(case_worker_refused.code(), Code::PermissionDenied);
    app.stop().await;
}

#[tokio::test]
async fn templates_are_checked_at_upload_and_versioned() {
    let app = spawn_app().await;
    let bon = officer(&app, "bon");
    let mut client = app.recruitment().await;
    let upload = |token: String, kind: pb::LetterKind, paragraphs: Vec<&'static str>| {
        let mut client = client.clone();
        async move {
            client
                .upload_template(authed(
                    pb::UploadTemplateRequest {
                        kind: kind as i32,
                        language: "en".into(),
                        subject: "Welcome".into(),
                        paragraphs: paragraphs.into_iter().map(String::from).collect(),
                        reviewed: None,
                    },
                    &token,
                ))
                .await
        }
    };
    let missing = upload(
        bon.clone(),
        pb::LetterKind::Welcome,
        vec!["Dear {{name}}, welcome."],
    )
    .await
    .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(
        missing.message().contains("{{agency}} is missing"),
        "{missing:?}"
    );
    let unknown = upload(
        bon.clone(),
        pb::LetterKind::Welcome,
        vec!["{{name}} {{agency}} {{address}}"],
    )
    .await
    .unwrap_err();
    assert!(
        unknown
            .message()
            .contains("{{address}} is not a placeholder"),
        "{unknown:?}"
    );
    let unprintable = upload(
        bon.clone(),
        pb::LetterKind::Welcome,
        vec!["{{name}} {{agency}} 欢迎"],
    )
    .await
    .unwrap_err();
    assert_eq!(unprintable.code(), Code::InvalidArgument);
    assert!(
        unprintable.message().contains(
            "paragraph 1 holds '欢' (U+6B22) at position 21, which no letter font can print"
        ),
        "{unprintable:?}"
    );
    let unclosed = upload(
        bon.clone(),
        pb::LetterKind::Welcome,
        vec!["{{agency}}", "عزيزي {{name}}، مرحبا بك في {{municipality"],
    )
    .await
    .unwrap_err();
    assert!(
        unclosed
            .message()
            .contains("paragraph 2 opens a placeholder with {{ at position 29"),
        "{unclosed:?}"
    );
    let v3 = upload(
        bon.clone(),
        pb::LetterKind::Welcome,
        vec!["Dear {{name}},", "{{agency}} welcomes you. Hoş geldiniz!"],
    )
    .await
    .unwrap()
    .into_inner()
    .template
    .unwrap();
    assert_eq!(
        (v3.version, v3.reviewed),
        (3, true),
        "the seeds are versions 1 and 2; an agency's upload counts as reviewed"
    );
    // Bon does not send the Flemish recruitment letter; Atlas does not send the welcome.
    let bon_recruitment = upload(
        bon,
        pb::LetterKind::Recruitment,
        vec!["{{name}} {{agency}}"],
    )
    .await
    .unwrap_err();
    assert_eq!(bon_recruitment.code(), Code::PermissionDenied);
    let atlas_welcome = upload(
        officer(&app, "atlas"),
        pb::LetterKind::Welcome,
        vec!["{{name}} {{agency}}"],
    )
    .await
    .unwrap_err();
    assert_eq!(atlas_welcome.code(), Code::PermissionDenied);
    let current = client
        .list_templates(authed(
            pb::ListTemplatesRequest {
                kind: pb::LetterKind::Welcome as i32,
            },
            &officer(&app, "agii"),
        ))
        .await
        .unwrap()
        .into_inner()
        .templates;
    let en = current.iter().find(|t| t.language == "en").unwrap();
    assert_eq!((en.version, en.paragraphs.len()), (3, 2));
    let dari = current.iter().find(|t| t.language == "prs").unwrap();
    assert!(
        !dari.reviewed,
        "the seeded translations await a sworn translator"
    );
    assert!(current.iter().any(|t| t.language == "nl"));
    app.stop().await;
}

#[tokio::test]
async fn local_plans_are_agreed_per_municipality_and_read_by_its_officer() {
    let app = spawn_app().await;
    let bon = officer(&app, "bon");
    let mut client = app.recruitment().await;
    let plan = client
        .create_local_plan(authed(
            pb::CreateLocalPlanRequest {
                municipality_nis: SCHAERBEEK.into(),
                year: 2024,
            },
            &bon,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let again = client
        .create_local_plan(authed(
            pb::CreateLocalPlanRequest {
                municipality_nis: SCHAERBEEK.into(),
                year: 2024,
            },
            &bon,
        ))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let with_action = client
        .add_plan_action(authed(
            pb::AddPlanActionRequest {
                plan_id: plan.plan_id.clone(),
                description: "Bon-medewerker twee dagen per week aan het loket burgerzaken".into(),
                owner: "Bon".into(),
                due_on: Some(date(2024, 3, 31)),
            },
            &bon,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let action = &with_action.actions[0];
    assert_eq!(action.status, pb::ActionStatus::Planned as i32);
    let done = client
        .update_plan_action(authed(
            pb::UpdatePlanActionRequest {
                plan_id: plan.plan_id.clone(),
                action_id: action.action_id.clone(),
                status: pb::ActionStatus::Done as i32,
            },
            &bon,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(done.actions[0].done_on, Some(day(today())));
    let municipality = app.token(
        &format!("municipality-{SCHAERBEEK}"),
        &["municipality-officer"],
    );
    let read = client
        .get_local_plan(authed(
            pb::GetLocalPlanRequest {
                municipality_nis: SCHAERBEEK.into(),
                year: 2024,
            },
            &municipality,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(read.actions.len(), 1);
    // The municipality reads; it does not change the plan. Atlas does not see it at all.
    let change = client
        .add_plan_action(authed(
            pb::AddPlanActionRequest {
                plan_id: plan.plan_id.clone(),
                description: "x".into(),
                owner: "y".into(),
                due_on: None,
            },
            &municipality,
        ))
        .await
        .unwrap_err();
    assert_eq!(change.code(), Code::PermissionDenied);
    let atlas = client
        .add_plan_action(authed(
            pb::AddPlanActionRequest {
                plan_id: plan.plan_id.clone(),
                description: "x".into(),
                owner: "y".into(),
                due_on: None,
            },
            &officer(&app, "atlas"),
        ))
        .await
        .unwrap_err();
    assert_eq!(atlas.code(), Code::NotFound);
    let bad_year = client
        .create_local_plan(authed(
            pb::CreateLocalPlanRequest {
                municipality_nis: SCHAERBEEK.into(),
                year: 1999,
            },
            &bon,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_year.code(), Code::InvalidArgument);
    assert!(bad_year.message().starts_with("year:"), "{bad_year:?}");
    app.stop().await;
}
