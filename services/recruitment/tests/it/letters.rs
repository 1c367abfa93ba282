//! Every seeded language printed through the real batch run and read back word for word;
//! names as written; the contact block and intake slot on both parts; Dutch with the note
//! where there is no translation; the templates' review mark.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use platform::events::Outbox;
use recruitment::{
    domain::{Language, LetterKind, TemplateText},
    letters::{self, Senders},
    store::{addressee, migrations::Migrator, registration, template},
};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

use crate::readback::{self, find_run, words};

const BRUSSELS: &str = "21004";
const GHENT: &str = "44021";

/// Bon sets its whole block and an intake slot; In-Gent keeps the built-in one.
const SENDERS: &str = r#"
[[sender]]
agency = "bon"
office = "Onthaal Brussel"
address = ["Voorbeeldstraat 1", "1000 Brussel"]
phone = "02 000 00 00"
hours = "maandag tot vrijdag, 9 tot 12 uur"
intake = "dinsdag om 10 uur, zonder afspraak"
"#;

/// A name per language, as people write theirs: Arabic script, Cyrillic, Ethiopic, the
/// Latin letters of Turkish, Polish and Romanian; the Arabic reader's is Latin and Arabic.
fn name_in(language: &str) -> (&'static str, &'static str) {
    match language {
        "ar" => ("Ahmed", "الحسن"),
        "fa" => ("سارا", "رضایی"),
        "prs" => ("Ahmad", "احمدی"),
        "ps" => ("ګل", "خان"),
        "tr" => ("Ayşe", "Yılmaz"),
        "pl" => ("Łukasz", "Wójcik"),
        "ro" => ("Ștefan", "Țurcanu"),
        "uk" => ("Олена", "Шевченко"),
        "ru" => ("Иван", "Петров"),
        "bg" => ("Мария", "Иванова"),
        "ti" => ("ሳባ", "ተስፋይ"),
        "so" => ("Hodan", "Cali"),
        "fr" => ("Élodie", "Dupont"),
        "es" => ("José", "Núñez"),
        "en" => ("Mary", "Smith"),
        _ => ("Jan", "Peeters"),
    }
}

/// A migrated SQLite database of its own, with Brussels and Ghent in the register.
async fn database() -> (DatabaseConnection, PathBuf) {
    let dir = std::env::temp_dir().join(format!("recruitment-letters-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let url = platform::db::sqlite_url(&dir, recruitment::SERVICE);
    let db = platform::db::connect_and_migrate::<Migrator>(&url, 4)
        .await
        .expect("migrated");
    for (code, name, region, agency) in [
        (BRUSSELS, "Brussel", "Brussels", "bon"),
        (GHENT, "Gent", "Flanders", "in-gent"),
    ] {
        let row = wire::register::municipality::ActiveModel {
            code: Set(code.into()),
            current_nis: Set(code.into()),
            name_nl: Set(name.into()),
            name_fr: Set(name.into()),
            province_nis: Set(String::new()),
            region: Set(region.into()),
            agency: Set(Some(agency.into())),
        };
        wire::register::municipality::Entity::insert(row)
            .exec_without_returning(&db)
            .await
            .expect("a municipality");
    }
    (db, dir)
}

/// Registers a newcomer of `kind`'s target group who reads `language`; their person id.
async fn register(
    db: &DatabaseConnection,
    kind: LetterKind,
    language: &str,
    (given, family): (&str, &str),
) -> Uuid {
    let (nis, agency, group) = match kind {
        LetterKind::Welcome => (BRUSSELS, "bon", "brussels-newcomer"),
        LetterKind::Recruitment => (GHENT, "in-gent", "obliged"),
    };
    let (id, person_id) = (Uuid::now_v7(), Uuid::now_v7());
    registration::Entity::insert(registration::ActiveModel {
        id: Set(id),
        person_id: Set(person_id),
        nis: Set(nis.into()),
        agency: Set(agency.into()),
        registered_on: Set(NaiveDate::from_ymd_opt(2026, 11, 16).expect("a day")),
        register: Set("foreigners".into()),
        nationality: Set("SY".into()),
        target_group: Set(group.into()),
        mother_tongue: Set(language.into()),
        contact_language: Set(None),
        imported_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await
    .expect("a registration");
    addressee::Entity::insert(addressee::ActiveModel {
        registration_id: Set(id),
        given_name: Set(given.into()),
        family_name: Set(family.into()),
        street: Set("Kerkstraat 14".into()),
        postal_code: Set("9000".into()),
        city: Set("Gent".into()),
        erase_after: Set(None),
    })
    .exec_without_returning(db)
    .await
    .expect("an addressee");
    person_id
}

/// One letter as read back: its translation language (empty: none) and its words.
struct ReadBack {
    language: String,
    words: Vec<String>,
}

/// Runs the letters of `kind` and reads every batch back, by person id.
async fn print(
    db: &DatabaseConnection,
    kind: LetterKind,
    senders: &Senders,
) -> BTreeMap<Uuid, ReadBack> {
    let out_dir = std::env::temp_dir().join(format!("recruitment-pdf-{}", Uuid::now_v7()));
    let run = letters::Run {
        kind,
        registered_from: NaiveDate::from_ymd_opt(2026, 11, 1).expect("a day"),
        registered_to: NaiveDate::from_ymd_opt(2026, 11, 30).expect("a day"),
        out_dir: out_dir.clone(),
        retention_days: 30,
        max_batches: None,
        senders: senders.clone(),
    };
    let outbox = Outbox::new(recruitment::SERVICE, recruitment::TOPIC);
    let summary = letters::run(db, &outbox, &run, &|_| {})
        .await
        .expect("the run");
    let mut letters = BTreeMap::new();
    for file in &summary.files {
        for (person, language, words) in readback::letters(file) {
            letters.insert(
                person.parse().expect("a person id"),
                ReadBack { language, words },
            );
        }
    }
    if std::env::var_os("KEEP_PDF").is_none() {
        let _ = std::fs::remove_dir_all(&out_dir);
    } else {
        eprintln!("PDF kept in {}", out_dir.display());
    }
    letters
}

/// The words a part of a letter must show: its template filled, then `extra` paragraphs.
fn expected(
    t: &template::Model,
    name: &str,
    sender: &letters::Sender,
    extra: &[String],
) -> Vec<String> {
    let paragraphs: Vec<String> = serde_json::from_str(&t.paragraphs).expect("paragraphs");
    let municipality = if t.kind == "welcome" {
        "Brussel"
    } else {
        "Gent"
    };
    let value = |p: &str| match p {
        "name" => name,
        "agency" => sender.organisation.as_str(),
        "municipality" => municipality,
        "registered_on" => "16-11-2026",
        _ => "",
    };
    let mut text = TemplateText::fill(&t.subject, value);
    for p in paragraphs.iter().chain(extra) {
        text.push('\n');
        text.push_str(&TemplateText::fill(p, value));
    }
    words(&text)
}

#[tokio::test]
async fn every_seeded_language_prints_and_reads_back_word_for_word_with_the_contact_block() {
    let (db, dir) = database().await;
    let senders = Senders::parse(SENDERS).expect("valid senders");
    for kind in LetterKind::ALL {
        let templates = letters::current(&db, kind).await.expect("templates");
        assert!(
            templates.len() >= 15,
            "{}: {:?}",
            kind.as_str(),
            templates.keys()
        );
        let mut people = Vec::new();
        for language in templates.keys() {
            let person = register(&db, kind, language, name_in(language)).await;
            people.push((person, language.clone()));
        }
        let printed = print(&db, kind, &senders).await;
        assert_eq!(printed.len(), people.len());
        let agency = match kind {
            LetterKind::Welcome => "bon",
            LetterKind::Recruitment => "in-gent",
        };
        let sender = senders.for_agency(agency);
        let block = sender.paragraphs();
        let mut wrong = Vec::new();
        for (person, language) in &people {
            let (given, family) = name_in(language);
            let name = format!("{given} {family}");
            let letter = &printed[person];
            // The name as written, Gent for the address of the test person.
            let address = words(&format!("{name}\nKerkstraat 14\n9000 Gent"));
            let dutch = expected(&templates["nl"], &name, sender, &block);
            let at = find_run(&letter.words, &dutch);
            if !letter.words.starts_with(&address) || at.is_none() {
                wrong.push(format!(
                    "{} {language}: Dutch part\n  got  {:?}\n  want {dutch:?}",
                    kind.as_str(),
                    letter.words
                ));
                continue;
            }
            if *language == "nl" {
                assert_eq!(letter.language, "", "a Dutch reader gets no translation");
                continue;
            }
            assert_eq!(&letter.language, language);
            let translation = expected(&templates[language], &name, sender, &block);
            match find_run(&letter.words, &translation) {
                Some(t) if Some(t) > at => {}
                _ => wrong.push(format!(
                    "{} {language}: translation\n  got  {:?}\n  want {translation:?}",
                    kind.as_str(),
                    letter.words
                )),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
    // Bon's letters carry its intake slot and phone; In-Gent's only what is known of it.
    assert!(
        senders
            .for_agency("bon")
            .paragraphs()
            .iter()
            .any(|p| p.contains("dinsdag om 10 uur"))
    );
    assert_eq!(
        senders.for_agency("in-gent").paragraphs(),
        ["IN-Gent", "Website: www.in-gent.be"]
    );
    db.close().await.expect("closed");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_reader_without_a_translation_gets_the_dutch_letter_with_the_note_in_dutch() {
    let (db, dir) = database().await;
    let senders = Senders::parse(SENDERS).expect("valid senders");
    let portuguese = register(&db, LetterKind::Welcome, "pt", ("João", "Silva")).await;
    let printed = print(&db, LetterKind::Welcome, &senders).await;
    let letter = &printed[&portuguese];
    assert_eq!(letter.language, "", "no Portuguese template");
    let pt = Language::parse("language", "pt").expect("a code");
    let note = letters::dutch_only_note(&[pt], "Bon, Brussels onthaalbureau inburgering");
    assert!(note.contains("geen vertaling in het Portugees"), "{note}");
    let templates = letters::current(&db, LetterKind::Welcome)
        .await
        .expect("templates");
    let sender = senders.for_agency("bon");
    let mut after = vec![note];
    after.extend(sender.paragraphs());
    let want = expected(&templates["nl"], "João Silva", sender, &after);
    let at = find_run(&letter.words, &want).unwrap_or_else(|| {
        panic!(
            "the Dutch letter, the note, the contact block:\n  got  {:?}\n  want {want:?}",
            letter.words
        )
    });
    assert_eq!(
        at + want.len(),
        letter.words.len(),
        "nothing after it: no translation"
    );
    db.close().await.expect("closed");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_name_with_a_character_no_font_has_prints_it_as_a_question_mark_and_the_batch_goes_on() {
    let (db, dir) = database().await;
    let senders = Senders::builtin();
    let wang = register(&db, LetterKind::Welcome, "en", ("Wei", "王")).await;
    let ayse = register(&db, LetterKind::Welcome, "tr", ("Ayşe", "Yılmaz")).await;
    let printed = print(&db, LetterKind::Welcome, &senders).await;
    // "Wei ?": the question mark is punctuation to a reader comparing words.
    assert_eq!(printed[&wang].words[..2], ["Wei", "Kerkstraat"]);
    assert_eq!(
        printed[&ayse].words[..2],
        ["Ayşe".to_owned(), "Yılmaz".to_owned()]
    );
    db.close().await.expect("closed");
    let _ = std::fs::remove_dir_all(dir);
}

fn uploader(reviewed: bool) -> letters::Uploader {
    letters::Uploader {
        by: "bon/officer".into(),
        reviewed,
    }
}

#[tokio::test]
async fn seeded_translations_are_not_reviewed_and_an_agency_upload_says_whether_it_is() {
    let (db, dir) = database().await;
    let welcome = letters::current(&db, LetterKind::Welcome)
        .await
        .expect("templates");
    for (language, t) in &welcome {
        assert_eq!(
            (t.uploaded_by.as_str(), t.reviewed),
            ("seed", false),
            "{language}"
        );
    }
    // Dutch, English and French had a first seed (v1); the plain-language one is v2.
    assert_eq!(welcome["en"].version, 2);
    assert_eq!(welcome["ar"].version, 1);
    let text =
        TemplateText::parse("مرحبا", &["عزيزي {{name}}، {{agency}}".to_owned()]).expect("valid");
    let ar = Language::parse("language", "ar").expect("a code");
    let reviewed = letters::upload(&db, LetterKind::Welcome, &ar, text.clone(), &uploader(true))
        .await
        .expect("uploaded");
    assert_eq!((reviewed.version, reviewed.reviewed), (2, true));
    let draft = letters::upload(&db, LetterKind::Welcome, &ar, text, &uploader(false))
        .await
        .expect("uploaded");
    assert_eq!((draft.version, draft.reviewed), (3, false));

    // An older database gains the mark: the agency's uploads reviewed, the seed's not; the
    // seed runs again without adding a version to a kind and language an agency took over.
    db.execute_unprepared("alter table template drop column reviewed")
        .await
        .expect("dropped");
    db.execute_unprepared(
        "delete from seaql_migrations where version in \
         ('m0004_recruitment_template_reviewed', 'm0005_recruitment_seed_plain_language')",
    )
    .await
    .expect("forgotten");
    Migrator::up(&db, None).await.expect("migrated again");
    let rows = template::Entity::find()
        .filter(Expr::col(template::Column::Language).eq("ar"))
        .filter(Expr::col(template::Column::Kind).eq("welcome"))
        .all(&db)
        .await
        .expect("rows");
    let marks: Vec<(i32, bool)> = rows.iter().map(|t| (t.version, t.reviewed)).collect();
    assert_eq!(
        marks,
        [(1, false), (2, true), (3, true)],
        "versions are never changed but for the mark"
    );
    let en = letters::current(&db, LetterKind::Welcome)
        .await
        .expect("templates");
    assert_eq!(en["en"].version, 2, "the seed adds nothing it has already");
    db.close().await.expect("closed");
    let _ = std::fs::remove_dir_all(dir);
}
