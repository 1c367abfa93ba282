//! Recruitment's two batch paths on the same PostgreSQL:
//! - the register feed: records per second through `feed::import` (the file checked
//!   whole, each taken record registered with trajectories over gRPC and committed with
//!   its `NewcomerDetected`), first run and a re-run that finds everything imported;
//! - 100,000 welcome letters: `letters::run` (candidates from the database, templates
//!   filled, PDF batches of 500 written to disk with their index, letters marked sent
//!   with `LetterSent` in the outbox) against printing the same letters with the PDF
//!   module alone, in memory. Prints both and their ratio; asserts nothing about time.
//!
//! Run with `scripts/bench` (add `--release` for optimised numbers).

use std::time::Instant;

use platform::{events::Outbox, grpc::OnBehalfOf};
use recruitment::{domain::LetterKind, feed, letters, pdf};
use sea_orm::{ConnectionTrait, Database};
use secrecy::ExposeSecret;
use testkit::spawn_app;

const FEED_RECORDS: u32 = 2_000;
const LETTERS: i64 = 100_000;

fn number(born: &str, serial: u32) -> String {
    let base: u64 = format!("{born}{serial:03}").parse().expect("digits");
    format!("{base:09}{:02}", 97 - base % 97)
}

fn register_file(records: u32) -> String {
    let mut file = String::from(
        "national_number,register,registration_date,municipality_nis,nationality,languages,given_name,family_name,street,postal_code,city\n",
    );
    for i in 0..records {
        // Born on one of 28 days of 1990, 999 serials a day: distinct valid numbers.
        let born = format!("9001{:02}", 1 + i / 999);
        file += &format!(
            "{},foreigners,2023-12-{:02},21004,MA,en,Bench{i},Nieuwkomer,Wetstraat {i},1000,Brussel\n",
            number(&born, 1 + i % 999),
            1 + i % 28
        );
    }
    file
}

#[tokio::main]
async fn main() {
    let app = spawn_app().await;
    let db = Database::connect(app.recruitment_db.expose_secret())
        .await
        .expect("recruitment database");
    let outbox = Outbox::new(recruitment::SERVICE, recruitment::TOPIC);

    // The register feed.
    let token = app.token("bon", &["recruitment-officer"]);
    let registrar = feed::Registrar::new(
        &format!("http://{}", app.trajectories_addr),
        OnBehalfOf::bearer(&token, None).expect("a token header"),
    );
    let file = register_file(FEED_RECORDS);
    let started = Instant::now();
    let first = feed::import(&db, &outbox, &registrar, &file, &|_| {})
        .await
        .expect("import");
    let first_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let again = feed::import(&db, &outbox, &registrar, &file, &|_| {})
        .await
        .expect("re-import");
    let again_secs = started.elapsed().as_secs_f64();
    assert_eq!(first.imported, u64::from(FEED_RECORDS));
    assert_eq!(again.already_imported, u64::from(FEED_RECORDS));
    println!(
        "register feed, {FEED_RECORDS} records: {:.0} records/s new ({first_secs:.1} s), {:.0} records/s already imported ({again_secs:.1} s)",
        f64::from(FEED_RECORDS) / first_secs,
        f64::from(FEED_RECORDS) / again_secs
    );

    // The letters are the command alone: the services (and their relay, which would
    // publish 100,000 LetterSent through the debug broker on the same two cores) stop;
    // the database stays.
    app.stop().await;

    // 100,000 Brussels newcomers of December 2023 without a letter, in a mix of languages.
    for sql in [
        format!(
            "insert into registration (id, person_id, nis, agency, registered_on, register,
                 nationality, target_group, mother_tongue, contact_language, imported_at)
             select md5('r' || g)::uuid, md5('p' || g)::uuid,
                    case when g % 5 = 0 then '21015' else '21004' end, 'bon',
                    date '2023-12-01' + (g % 31), 'foreigners', 'MA', 'brussels-newcomer',
                    (array['en', 'fr', 'es', 'ar', 'ti'])[1 + g % 5], null, now()
             from generate_series(1, {LETTERS}) g"
        ),
        format!(
            "insert into addressee (registration_id, given_name, family_name, street,
                 postal_code, city, erase_after)
             select md5('r' || g)::uuid, 'Nieuwkomer' || g, 'Bench', 'Wetstraat ' || g,
                    '1000', 'Brussel', null
             from generate_series(1, {LETTERS}) g"
        ),
    ] {
        db.execute_unprepared(&sql).await.expect("fill");
    }
    let out_dir = std::env::temp_dir().join(format!("bench-letters-{}", uuid::Uuid::now_v7()));
    let run = letters::Run {
        kind: LetterKind::Welcome,
        registered_from: chrono::NaiveDate::from_ymd_opt(2023, 12, 1).expect("a day"),
        registered_to: chrono::NaiveDate::from_ymd_opt(2023, 12, 31).expect("a day"),
        out_dir: out_dir.clone(),
        retention_days: 30,
        max_batches: None,
    };
    let started = Instant::now();
    let summary = letters::run(&db, &outbox, &run, &|done| {
        if done % 10_000 == 0 {
            eprintln!(
                "  letters: {done}/{} ({:.1} s)",
                LETTERS + i64::from(FEED_RECORDS),
                started.elapsed().as_secs_f64()
            );
        }
    })
    .await
    .expect("letters");
    let full = started.elapsed().as_secs_f64();
    let bytes: u64 = summary
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let printed = summary.letters;

    // The same letters printed by the PDF module alone, in memory: the welcome template's
    // length (greeting, two paragraphs, closing, signature), a translation for three in
    // five (en, fr, es), Dutch with the note for the other two (ar, ti).
    let dutch: Vec<String> = [
        "Beste Nieuwkomer Bench,",
        "Op 04-12-2023 hebt u zich ingeschreven in Brussel. Welkom in Brussel! Bon, Brussels Onthaalbureau Inburgering helpt nieuwkomers op weg: met Nederlandse les, een cursus over het leven in België en Brussel, en begeleiding naar werk, studie of vrijwilligerswerk.",
        "Sinds 1 juni 2022 is inburgering in Brussel verplicht voor sommige nieuwkomers. U kiest zelf bij wie u uw traject volgt. Kom langs of maak een afspraak: de begeleiding is gratis.",
        "Met vriendelijke groeten,",
        "Bon, Brussels Onthaalbureau Inburgering",
    ]
    .map(String::from)
    .to_vec();
    let mut with_note = dutch.clone();
    with_note.push(letters::dutch_only_note(
        &[recruitment::domain::Language::parse("languages", "ar").expect("a code")],
        "Bon, Brussels Onthaalbureau Inburgering",
    ));
    let english: Vec<String> = [
        "Dear Nieuwkomer Bench,",
        "On 04-12-2023 you registered in Brussel. Welcome to Brussels! Bon, Brussels Onthaalbureau Inburgering helps newcomers find their way: with Dutch lessons, a course on life in Belgium and Brussels, and guidance towards work, study or volunteering.",
        "Since 1 June 2022 civic integration is compulsory in Brussels for some newcomers. You choose where you follow your programme. Drop in or make an appointment: the guidance is free.",
        "Kind regards,",
        "Bon, Brussels Onthaalbureau Inburgering",
    ]
    .map(String::from)
    .to_vec();
    let started = Instant::now();
    let mut alone_bytes = 0usize;
    let mut left = printed as usize;
    while left > 0 {
        let mut batch = pdf::Batch::new("bench");
        for i in 0..left.min(500) {
            let address = [
                format!("Nieuwkomer{i} Bench"),
                format!("Wetstraat {i}"),
                "1000 Brussel".into(),
            ];
            let translated = [
                pdf::Section {
                    heading: "Welkom in Brussel",
                    paragraphs: &dutch,
                },
                pdf::Section {
                    heading: "Welcome to Brussels",
                    paragraphs: &english,
                },
            ];
            let dutch_only = [pdf::Section {
                heading: "Welkom in Brussel",
                paragraphs: &with_note,
            }];
            let sections: &[pdf::Section<'_>] = if i % 5 < 3 { &translated } else { &dutch_only };
            batch
                .add(&pdf::Letter {
                    address: &address,
                    reference: "Ref. 01a23ab0-9946-7783-ba15-001c23e3d88d - 03-12-2026",
                    sections,
                })
                .expect("printable");
        }
        left -= left.min(500);
        alone_bytes += batch.finish().len();
    }
    let alone = started.elapsed().as_secs_f64();
    println!(
        "welcome letters: {printed} in {} batches, {:.1} s ({:.0} letters/s, {:.0} MB of PDF); the PDF module alone, same count in memory: {alone:.1} s ({:.0} MB); ratio {:.2} (alone/full, 1 = no overhead beyond printing)",
        summary.batches,
        full,
        printed as f64 / full,
        bytes as f64 / 1e6,
        alone_bytes as f64 / 1e6,
        alone / full
    );
    let _ = std::fs::remove_dir_all(&out_dir);
    db.close().await.expect("close");
}
