//! Recruitment's two batch paths on the same PostgreSQL:
//! - the register feed: records per second through `feed::import` (the file checked
//!   whole, each taken record registered with trajectories over gRPC and committed with
//!   its `NewcomerDetected`), first run and a re-run that finds everything imported;
//! - 100,000 welcome letters through `letters::run` (candidates from the database,
//!   templates filled, batches of 500 printed on every core at once, written to disk with
//!   their index, letters marked sent with `LetterSent` in the outbox), in a realistic mix
//!   of Brussels newcomers' contact languages (over a third right to left: Arabic, Farsi,
//!   Dari, Pashto), every letter with a configured contact block and intake slot; then the
//!   same count in Dutch only. Prints time, MB of PDF per 1,000 letters and the ratio;
//!   asserts nothing about time.
//!
//! Run with `scripts/bench` (add `--release` for optimised numbers).

use std::time::Instant;

use platform::{events::Outbox, grpc::OnBehalfOf};
use recruitment::{domain::LetterKind, feed, letters};
use sea_orm::{ConnectionTrait, Database};
use secrecy::ExposeSecret;
use testkit::spawn_app;

const FEED_RECORDS: u32 = 2_000;
const LETTERS: i64 = 100_000;

/// Contact languages of the bench's newcomers, in percent: Arabic first; right to left
/// (ar, fa, prs, ps) 34 %; Portuguese has no translation (Dutch with the note); 4 % read
/// Dutch.
const MIX: [(&str, u32); 17] = [
    ("ar", 22),
    ("fa", 5),
    ("prs", 4),
    ("ps", 3),
    ("fr", 12),
    ("en", 8),
    ("es", 5),
    ("ro", 6),
    ("pl", 4),
    ("bg", 3),
    ("uk", 6),
    ("ru", 3),
    ("tr", 4),
    ("ti", 3),
    ("so", 3),
    ("pt", 5),
    ("nl", 4),
];

/// Bon's contact block as an agency would configure it (the number is a placeholder).
const SENDERS: &str = r#"
[[sender]]
agency = "bon"
office = "Onthaal Brussel"
address = ["Voorbeeldstraat 1", "1000 Brussel"]
phone = "02 000 00 00"
hours = "maandag tot vrijdag, 9 tot 12 uur"
intake = "dinsdag om 10 uur, zonder afspraak"
"#;

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
            "{},foreigners,2023-11-{:02},21004,MA,en,Bench{i},Nieuwkomer,Wetstraat {i},1000,Brussel\n",
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
    // publish 200,000 LetterSent through the debug broker on the same two cores) stop;
    // the database stays.
    app.stop().await;

    // 100,000 Brussels newcomers of December 2023 in the mix, and as many of January 2024
    // who read Dutch.
    let mix: Vec<&str> = MIX
        .iter()
        .flat_map(|&(language, percent)| std::iter::repeat_n(language, percent as usize))
        .collect();
    assert_eq!(mix.len(), 100, "the mix is in percent");
    let rtl = MIX
        .iter()
        .filter(|(l, _)| ["ar", "fa", "prs", "ps"].contains(l))
        .map(|(_, p)| p)
        .sum::<u32>();
    let mix_sql = mix
        .iter()
        .map(|l| format!("'{l}'"))
        .collect::<Vec<_>>()
        .join(",");
    for (offset, first_day, languages) in [
        (0, "2023-12-01", format!("array[{mix_sql}]")),
        (LETTERS, "2024-01-01", "array['nl']".to_owned()),
    ] {
        fill(&db, offset, first_day, &languages).await;
    }
    let senders = letters::Senders::parse(SENDERS).expect("the bench's senders");
    let mixed = print_letters(&db, &outbox, &senders, (2023, 12)).await;
    let dutch = print_letters(&db, &outbox, &senders, (2024, 1)).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    for (name, r) in [
        (format!("{rtl} % right to left, 17 languages"), &mixed),
        ("Dutch only".to_owned(), &dutch),
    ] {
        println!(
            "welcome letters, {name}: {} letters in {} batches on {cores} cores, {:.1} s ({:.0} letters/s), {:.1} MB of PDF ({:.2} MB per 1,000 letters); {} with a translation",
            r.letters,
            r.batches,
            r.secs,
            r.letters as f64 / r.secs,
            r.bytes as f64 / 1e6,
            r.bytes as f64 / 1e3 / r.letters as f64,
            r.translated
        );
    }
    println!(
        "mixed / Dutch only: time {:.2}, MB per 1,000 letters {:.2}",
        mixed.secs / dutch.secs,
        (mixed.bytes as f64 / mixed.letters as f64) / (dutch.bytes as f64 / dutch.letters as f64)
    );
    db.close().await.expect("close");
}

/// Registers `LETTERS` Brussels newcomers from `first_day` on (31 days), their mother
/// tongue taken in turn from the SQL array `languages`, with an address.
async fn fill(db: &sea_orm::DatabaseConnection, offset: i64, first_day: &str, languages: &str) {
    for sql in [
        format!(
            "insert into registration (id, person_id, nis, agency, registered_on, register,
                 nationality, target_group, mother_tongue, contact_language, imported_at)
             select md5('r' || g)::uuid, md5('p' || g)::uuid,
                    case when g % 5 = 0 then '21015' else '21004' end, 'bon',
                    date '{first_day}' + (g % 31), 'foreigners', 'MA', 'brussels-newcomer',
                    ({languages})[1 + g % cardinality({languages})], null, now()
             from generate_series({}, {}) g",
            offset + 1,
            offset + LETTERS
        ),
        format!(
            "insert into addressee (registration_id, given_name, family_name, street,
                 postal_code, city, erase_after)
             select md5('r' || g)::uuid, 'Nieuwkomer' || g, 'Bench', 'Wetstraat ' || g,
                    '1000', 'Brussel', null
             from generate_series({}, {}) g",
            offset + 1,
            offset + LETTERS
        ),
    ] {
        db.execute_unprepared(&sql).await.expect("fill");
    }
}

/// What one run of the letters did, and how long it took.
struct Printed {
    letters: u64,
    batches: u64,
    translated: u64,
    bytes: u64,
    secs: f64,
}

/// Runs the welcome letters of the newcomers registered in `month` to a scratch folder.
async fn print_letters(
    db: &sea_orm::DatabaseConnection,
    outbox: &Outbox,
    senders: &letters::Senders,
    (year, month): (i32, u32),
) -> Printed {
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1).expect("a day");
    let out_dir = std::env::temp_dir().join(format!("bench-letters-{}", uuid::Uuid::now_v7()));
    let run = letters::Run {
        kind: LetterKind::Welcome,
        registered_from: first,
        registered_to: first + chrono::Days::new(30),
        out_dir: out_dir.clone(),
        retention_days: 30,
        max_batches: None,
        senders: senders.clone(),
    };
    let started = Instant::now();
    let summary = letters::run(db, outbox, &run, &|done| {
        if done % 20_000 == 0 {
            eprintln!(
                "  letters: {done} ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    })
    .await
    .expect("letters");
    let secs = started.elapsed().as_secs_f64();
    let bytes = summary
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let _ = std::fs::remove_dir_all(&out_dir);
    Printed {
        letters: summary.letters,
        batches: summary.batches,
        translated: summary.translated.values().sum(),
        bytes,
        secs,
    }
}
