//! The batch run on SQLite: what a printed letter says (read back with `pdftotext`), once
//! per invitee and kind, an interrupted run finished by the next, and the notices of a
//! cancelled ceremony.

use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, Statement,
};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

use super::{Run, run};
use crate::{
    ceremony::Ceremonies,
    store::{Migrator, ceremony, invitation},
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 5, 3).expect("valid")
}

async fn database() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:").await.expect("SQLite");
    Migrator::up(&db, None).await.expect("migrated");
    wire::register::municipality::ActiveModel {
        code: Set("11002".into()),
        current_nis: Set("11002".into()),
        name_nl: Set("Antwerpen".into()),
        name_fr: Set("Anvers".into()),
        province_nis: Set("10000".into()),
        region: Set("Flanders".into()),
        agency: Set(Some("atlas".into())),
    }
    .insert(&db)
    .await
    .expect("register");
    db
}

/// A planned integration ceremony in Antwerp a month after [`today`].
async fn ceremony(db: &DatabaseConnection) -> Uuid {
    let id = Uuid::now_v7();
    let date = today() + Days::new(30);
    ceremony::ActiveModel {
        id: Set(id),
        nis: Set("11002".into()),
        agency: Set("atlas".into()),
        kind: Set("integration".into()),
        date: Set(date),
        year: Set(2027),
        place: Set("Stadhuis, Grote Markt 1".into()),
        host: Set("mayor".into()),
        capacity: Set(100),
        attest_from: Set(NaiveDate::from_ymd_opt(2027, 1, 1).expect("valid")),
        attest_to: Set(today()),
        co_organiser: Set(None),
        min_age: Set(None),
        max_age: Set(None),
        state: Set("planned".into()),
        invitations: Set(0),
        rounds: Set(1),
        participants: Set(None),
        no_shows: Set(None),
        created_by: Set("test".into()),
        cancel_reason: Set(None),
    }
    .insert(db)
    .await
    .expect("ceremony");
    id
}

/// Invites (as `SendInvitations` records them) one person per (given, family, language).
async fn invite(db: &DatabaseConnection, ceremony_id: Uuid, people: &[(&str, &str, Option<&str>)]) {
    for (given, family, language) in people {
        invitation::ActiveModel {
            id: Set(Uuid::now_v7()),
            ceremony_id: Set(ceremony_id),
            person_id: Set(Uuid::now_v7()),
            given_name: Set((*given).into()),
            family_name: Set((*family).into()),
            contact_language: Set(language.map(str::to_owned)),
            attest_issued_on: Set(NaiveDate::from_ymd_opt(2027, 3, 15).expect("valid")),
            late_addition: Set(false),
            invited_at: Set(Utc::now()),
            rsvp: Set(None),
            guests: Set(0),
            attended_at: Set(None),
            cancellation_sent: Set(false),
        }
        .insert(db)
        .await
        .expect("invitation");
    }
}

const PEOPLE: [(&str, &str, Option<&str>); 5] = [
    ("Ayşe", "Yılmaz", Some("tr")),
    ("محمد", "الأحمد", Some("ar")),
    ("Olena", "Kovalenko", Some("uk")),
    ("Tesfay", "Gebremedhin", Some("ti")),
    ("Jan", "Peeters", Some("nl")),
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ceremony-letters-{name}-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn job(out_dir: &Path) -> Run {
    Run {
        out_dir: out_dir.to_owned(),
        ceremony: None,
        max_batches: None,
        today: today(),
        senders: senders(),
    }
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a number")
}

fn pdf_text(path: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args([path.to_str().expect("utf-8 path"), "-"])
        .output()
        .expect("pdftotext is installed by scripts/setup (poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        path.display()
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The text of each letter in a batch, by its translation language ("" for none): pages
/// split at form feeds, grouped by the index.
fn letters_of(pdf: &Path) -> Vec<(String, String)> {
    let text = pdf_text(pdf);
    let pages: Vec<&str> = text.split('\u{c}').collect();
    let index = std::fs::read_to_string(pdf.with_extension("index.csv")).expect("index");
    let rows: Vec<(usize, String)> = index
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells[0].parse::<usize>().expect("page") - 1,
                cells[4].to_owned(),
            )
        })
        .collect();
    rows.iter()
        .enumerate()
        .map(|(i, (start, language))| {
            let end = rows.get(i + 1).map_or(pages.len(), |r| r.0);
            (language.clone(), pages[*start..end].join("\n"))
        })
        .collect()
}

fn pdfs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    files.sort();
    files
}

fn senders() -> letters::Senders {
    letters::Senders::parse(
        r#"
        [[sender]]
        agency = "atlas"
        office = "Onthaal Centrum"
        address = ["Carnotstraat 110", "2060 Antwerpen"]
        phone = "03 000 00 00"
        "#,
    )
    .expect("senders")
}

#[tokio::test]
async fn an_invitation_prints_dutch_then_the_contact_language_with_the_name_as_written() {
    let db = database().await;
    let c = ceremony(&db).await;
    invite(&db, c, &PEOPLE).await;
    let dir = scratch("first");
    let summary = run(&db, &job(&dir), &|_| {}).await.expect("printed");
    assert_eq!(summary.total(), 5);
    assert_eq!(summary.batches, 1);
    assert_eq!(summary.dutch_only, 2, "Dutch and Tigrinya: no translation");
    let files = pdfs(&dir);
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().and_then(|n| n.to_str()).expect("name");
    assert!(name.starts_with("invitation-11002-20270602-"), "{name}");
    let letters = letters_of(&files[0]);
    assert_eq!(letters.len(), 5);

    let (language, ayse) = &letters[0];
    assert_eq!(language, "tr");
    assert!(ayse.contains("Ayşe Yılmaz"), "the name as written:\n{ayse}");
    assert!(ayse.contains("Uitnodiging voor de inburgeringsceremonie van 2 juni 2027"));
    assert!(
        ayse.contains("De gemeente Antwerpen nodigt u uit"),
        "{ayse}"
    );
    assert!(ayse.contains("dezelfde brief in het Turks"), "{ayse}");
    assert!(
        ayse.contains("uyum törenine davet ediyor"),
        "the translation:\n{ayse}"
    );
    assert!(
        ayse.contains("Telefoon: 03 000 00 00"),
        "the contact block:\n{ayse}"
    );
    let dutch = ayse.find("nodigt u uit").expect("Dutch");
    let turkish = ayse.find("davet ediyor").expect("Turkish");
    assert!(dutch < turkish, "Dutch first");

    let (language, arabic) = &letters[1];
    assert_eq!(language, "ar");
    assert!(
        arabic.contains("محمد"),
        "an Arabic given name as written:\n{arabic}"
    );
    assert!(
        arabic.contains("الأحمد"),
        "an Arabic family name as written:\n{arabic}"
    );
    assert!(
        arabic.contains("حفل الاندماج"),
        "the Arabic translation:\n{arabic}"
    );

    let (_, olena) = &letters[2];
    assert!(olena.contains("церемонію інтеграції"), "{olena}");
    let (language, tesfay) = &letters[3];
    assert_eq!(language, "");
    assert!(
        tesfay.contains("nog geen vertaling in het Tigrinya"),
        "{tesfay}"
    );
    let (_, jan) = &letters[4];
    assert!(
        !jan.contains("vertaling"),
        "a Dutch speaker gets no note:\n{jan}"
    );

    // Every letter is printed once: a second run prints nothing new.
    let again = scratch("again");
    let second = run(&db, &job(&again), &|_| {}).await.expect("ran");
    assert_eq!(second.total(), 0);
    assert!(pdfs(&again).is_empty());
    assert_eq!(
        scalar(&db, "select count(*) from letter where state = 'printed'").await,
        5
    );
}

#[tokio::test]
async fn an_interrupted_run_is_finished_by_the_next_without_printing_anyone_twice() {
    let db = database().await;
    let c = ceremony(&db).await;
    invite(&db, c, &PEOPLE).await;
    // The output folder cannot be made (a file is in the way): the batch is reserved, its
    // file cannot be written, and the run stops.
    let blocked = scratch("blocked").join("letters");
    std::fs::write(&blocked, b"in the way").expect("a file");
    let failed = run(&db, &job(&blocked), &|_| {}).await;
    assert!(
        matches!(failed, Err(crate::CeremoniesError::LetterFile { .. })),
        "{failed:?}"
    );
    assert_eq!(
        scalar(&db, "select count(*) from letter where state = 'pending'").await,
        5
    );
    // More invitees arrive meanwhile (a late round): the next run completes the reserved
    // batch first, then prints the newcomers in a batch of their own.
    invite(&db, c, &[("Łukasz", "Wójcik", Some("pl"))]).await;
    let dir = scratch("resumed");
    let summary = run(&db, &job(&dir), &|_| {}).await.expect("printed");
    assert_eq!(summary.resumed, 1);
    assert_eq!(summary.batches, 2);
    assert_eq!(summary.total(), 6);
    let printed: Vec<(String, String)> = pdfs(&dir).iter().flat_map(|p| letters_of(p)).collect();
    assert_eq!(printed.len(), 6, "each invitee once");
    assert!(printed.iter().any(|(_, l)| l.contains("Łukasz Wójcik")));
    assert_eq!(
        scalar(&db, "select count(*) from letter where state = 'printed'").await,
        6
    );
    assert_eq!(
        scalar(
            &db,
            "select count(*) from letter_batch where state = 'printing'"
        )
        .await,
        0
    );
    // And a batch whose file was written but whose marking was lost is printed again to
    // the same file, once: its letters are not reserved a second time.
    assert_eq!(
        scalar(&db, "select count(distinct invitation_id) from letter").await,
        6
    );
}

#[tokio::test]
async fn a_batch_written_but_not_marked_is_completed_once_and_nothing_else_printed() {
    let db = database().await;
    let c = ceremony(&db).await;
    invite(&db, c, &PEOPLE[..2]).await;
    let dir = scratch("crash");
    run(&db, &job(&dir), &|_| {}).await.expect("printed");
    // A run that died after writing its file, before marking it: the batch is printing
    // again, its lease over.
    db.execute_unprepared(
        "update letter_batch set state = 'printing', claimed_until = '2000-01-01 00:00:00+00:00'; \
         update letter set state = 'pending'",
    )
    .await
    .expect("rewound");
    let summary = run(&db, &job(&dir), &|_| {}).await.expect("resumed");
    assert_eq!((summary.resumed, summary.total()), (1, 2));
    let files = pdfs(&dir);
    assert_eq!(files.len(), 1, "the same file again: {files:?}");
    assert_eq!(letters_of(&files[0]).len(), 2);
    assert_eq!(scalar(&db, "select count(*) from letter").await, 2);
}

#[tokio::test]
async fn a_cancelled_ceremony_sends_its_notice_to_those_invited_once() {
    let db = database().await;
    let c = ceremony(&db).await;
    invite(&db, c, &PEOPLE[..3]).await;
    let dir = scratch("invited");
    run(&db, &job(&dir), &|_| {}).await.expect("printed");
    let ceremonies = Ceremonies::new(
        db.clone(),
        platform::events::Outbox::new(crate::SERVICE, crate::TOPIC),
    );
    let planned = ceremonies.get(c).await.expect("read").expect("there");
    let (_, informed) = ceremonies
        .cancel(&planned, "De zaal is niet beschikbaar")
        .await
        .expect("cancelled");
    assert_eq!(informed, 3);
    let notices = scratch("notices");
    let summary = run(&db, &job(&notices), &|_| {}).await.expect("printed");
    assert_eq!(summary.letters.get("cancellation"), Some(&3));
    assert_eq!(summary.letters.get("invitation"), None);
    let files = pdfs(&notices);
    assert_eq!(files.len(), 1);
    assert!(
        files[0]
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("cancellation-")),
        "{files:?}"
    );
    let letters = letters_of(&files[0]);
    assert_eq!(letters.len(), 3);
    let (_, ayse) = &letters[0];
    assert!(
        ayse.contains("De inburgeringsceremonie van 2 juni 2027 gaat niet door"),
        "{ayse}"
    );
    assert!(
        ayse.contains("De reden: De zaal is niet beschikbaar"),
        "{ayse}"
    );
    assert!(ayse.contains("Ayşe Yılmaz"), "{ayse}");
    assert!(ayse.contains("uyum töreni iptal edildi"), "{ayse}");
    let (_, arabic) = &letters[1];
    assert!(
        arabic.contains("لن يُقام هذا الحفل") || arabic.contains("إلغاء"),
        "{arabic}"
    );

    let again = scratch("notices-again");
    let second = run(&db, &job(&again), &|_| {}).await.expect("ran");
    assert_eq!(second.total(), 0, "a notice once");
}

#[tokio::test]
async fn an_invitation_reserved_before_the_ceremony_was_cancelled_is_not_printed() {
    let db = database().await;
    let c = ceremony(&db).await;
    invite(&db, c, &PEOPLE[..2]).await;
    let blocked = scratch("blocked-cancel").join("letters");
    std::fs::write(&blocked, b"in the way").expect("a file");
    assert!(run(&db, &job(&blocked), &|_| {}).await.is_err());
    let ceremonies = Ceremonies::new(
        db.clone(),
        platform::events::Outbox::new(crate::SERVICE, crate::TOPIC),
    );
    let planned = ceremonies.get(c).await.expect("read").expect("there");
    ceremonies
        .cancel(&planned, "Storm")
        .await
        .expect("cancelled");
    let dir = scratch("after-cancel");
    let summary = run(&db, &job(&dir), &|_| {}).await.expect("printed");
    assert_eq!(summary.resumed, 1);
    assert_eq!(summary.letters.get("invitation"), None);
    assert_eq!(summary.letters.get("cancellation"), Some(&2));
    assert_eq!(
        scalar(&db, "select count(*) from letter where kind = 'invitation'").await,
        0,
        "the reservation is let go"
    );
}

#[tokio::test]
async fn a_ceremony_past_its_day_prints_nothing_and_one_ceremony_can_be_printed_alone() {
    let db = database().await;
    let first = ceremony(&db).await;
    let second = ceremony(&db).await;
    invite(&db, first, &PEOPLE[..1]).await;
    invite(&db, second, &PEOPLE[1..2]).await;
    let later = Run {
        today: today() + Days::new(31),
        ..job(&scratch("late"))
    };
    assert_eq!(super::pending(&db, &later).await.expect("counted"), 0);
    assert_eq!(run(&db, &later, &|_| {}).await.expect("ran").total(), 0);
    // A batch an interrupted run left is let go once the day is past.
    let blocked = scratch("blocked-late").join("letters");
    std::fs::write(&blocked, b"in the way").expect("a file");
    assert!(run(&db, &job(&blocked), &|_| {}).await.is_err());
    let summary = run(&db, &later, &|_| {}).await.expect("ran");
    assert_eq!((summary.resumed, summary.total()), (1, 0));
    assert_eq!(scalar(&db, "select count(*) from letter").await, 0);
    let only = Run {
        ceremony: Some(second),
        ..job(&scratch("only"))
    };
    assert_eq!(super::pending(&db, &only).await.expect("counted"), 1);
    let summary = run(&db, &only, &|_| {}).await.expect("printed");
    assert_eq!(summary.total(), 1);
    let unknown = Run {
        ceremony: Some(Uuid::now_v7()),
        ..job(&scratch("unknown"))
    };
    assert!(matches!(
        run(&db, &unknown, &|_| {}).await,
        Err(crate::CeremoniesError::CeremonyNotFound { .. })
    ));
    assert_eq!(
        super::pending(&db, &job(&scratch("rest")))
            .await
            .expect("counted"),
        1
    );
}
