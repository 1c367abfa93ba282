//! Ceremony letters on paper (issue 24), end to end: invitations sent through the API are
//! printed by `inburgering ceremonies letters` — Dutch first, then the contact language,
//! names as written — once per invitee and kind; a run that could not write its file is
//! finished by the next; a cancelled ceremony's notices go to those invited.

use std::path::{Path, PathBuf};

use inburgering_testkit::{
    Signed, TestApp, authed, eventually, register_and_start_person, scalar, sign_request, spawn_app,
};
use proto::{ceremonies::v1 as pb, trajectories::v1 as tpb};
use secrecy::ExposeSecret;

use super::{ANTWERP, PATIENCE, details, organiser, plan, send};

/// A person born in the 1980s with the nine digits `base`, named and speaking as given,
/// registered and started in Antwerp, taken to the attest.
async fn attested_as(
    app: &TestApp,
    base: u64,
    given: &str,
    family: &str,
    language: &str,
) -> Signed {
    let token = app.atlas();
    let mut client = app.trajectories().await;
    let person = tpb::RegisterPersonRequest {
        national_number: format!("{base:09}{:02}", 97 - base % 97),
        given_name: given.into(),
        family_name: family.into(),
        mother_tongue: language.into(),
        contact_language: language.into(),
    };
    let (person_id, trajectory_id) =
        register_and_start_person(&mut client, &token, person, ANTWERP).await;
    client
        .sign_contract(authed(sign_request(&trajectory_id), &token))
        .await
        .expect("sign");
    let signed = Signed {
        person_id,
        trajectory_id,
    };
    let soon = chrono::Utc::now() + chrono::Duration::minutes(1);
    crate::citizenship::attest_at(app, &signed, soon).await;
    signed
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ceremony-letters-{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `inburgering ceremonies letters --out DIR`, asynchronously (the app answers meanwhile).
async fn letters(app: &TestApp, out: &Path) -> std::process::Output {
    tokio::process::Command::new(inburgering_testkit::workspace_binary("inburgering"))
        .args(["ceremonies", "letters", "--out", out.to_str().unwrap()])
        .env(
            "INBURGERING_DATABASE_URL",
            app.ceremonies_db.expose_secret(),
        )
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

fn pdfs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    files.sort();
    files
}

/// Each letter's text in a batch with the person it is for: pages split at form feeds,
/// grouped by the index.
fn letters_of(pdf: &Path) -> Vec<(String, String)> {
    let out = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext is installed by scripts/setup (poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let pages: Vec<&str> = text.split('\u{c}').collect();
    let index = std::fs::read_to_string(pdf.with_extension("index.csv")).unwrap();
    let rows: Vec<(usize, String)> = index
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].parse::<usize>().unwrap() - 1, cells[3].to_owned())
        })
        .collect();
    rows.iter()
        .enumerate()
        .map(|(i, (start, person))| {
            let end = rows.get(i + 1).map_or(pages.len(), |r| r.0);
            (person.clone(), pages[*start..end].join("\n"))
        })
        .collect()
}

#[tokio::test]
async fn invitations_print_once_in_dutch_and_the_contact_language_and_a_cancellation_reaches_the_invited()
 {
    let app = spawn_app().await;
    let ayse = attested_as(&app, 880_312_045, "Ayşe", "Yılmaz", "tr").await;
    let karim = attested_as(&app, 900_101_057, "كريم", "الحسن", "ar").await;
    eventually("ceremonies to keep both attests", PATIENCE, || async {
        let kept = scalar(&app.ceremonies_db, "select count(*) from attest").await;
        (kept == 2).then_some(())
    })
    .await;
    let ceremony = plan(&app, ANTWERP, details(50)).await.unwrap();
    let sent = send(&app, &ceremony.ceremony_id).await.unwrap();
    assert_eq!(sent.sent, 2);

    let dir = scratch("invitations");
    let out = ok(&letters(&app, &dir).await);
    assert!(
        out.contains("2 invitation(s) and 0 cancellation notice(s) in 1 batch(es)"),
        "{out}"
    );
    assert!(
        out.contains("2 with a translation, 0 in Dutch only"),
        "{out}"
    );
    let files = pdfs(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let printed = letters_of(&files[0]);
    assert_eq!(printed.len(), 2);
    let of = |person: &str| {
        printed
            .iter()
            .find(|(p, _)| p == person)
            .map(|(_, text)| text.clone())
            .unwrap_or_else(|| panic!("a letter to {person}"))
    };
    let to_ayse = of(&ayse.person_id);
    assert!(
        to_ayse.contains("Ayşe Yılmaz"),
        "her name as written:\n{to_ayse}"
    );
    assert!(to_ayse.contains("De gemeente Antwerpen nodigt u uit op de inburgeringsceremonie"));
    assert!(to_ayse.contains("Stadhuis, Grote Markt 1"), "{to_ayse}");
    assert!(to_ayse.contains("dezelfde brief in het Turks"), "{to_ayse}");
    assert!(
        to_ayse.contains("Antwerpen Belediyesi sizi"),
        "the Turkish letter:\n{to_ayse}"
    );
    assert!(
        to_ayse.contains("Atlas, integratie & inburgering Antwerpen"),
        "the agency's contact block:\n{to_ayse}"
    );
    let to_karim = of(&karim.person_id);
    assert!(
        to_karim.contains("كريم"),
        "an Arabic name as written:\n{to_karim}"
    );
    assert!(to_karim.contains("الحسن"), "{to_karim}");
    assert!(
        to_karim.contains("حفل الاندماج"),
        "the Arabic letter:\n{to_karim}"
    );

    // A second run prints nothing new; sending again invites no one twice either.
    let again = scratch("again");
    let out = ok(&letters(&app, &again).await);
    assert!(
        out.contains("0 invitation(s) and 0 cancellation notice(s) in 0 batch(es)"),
        "{out}"
    );
    assert!(pdfs(&again).is_empty());
    assert_eq!(send(&app, &ceremony.ceremony_id).await.unwrap().sent, 0);

    // The ceremony is cancelled; the first run cannot write its file (a file is in the way
    // of the folder) and stops with the notices reserved.
    let cancelled = app
        .ceremonies()
        .await
        .cancel_ceremony(authed(
            pb::CancelCeremonyRequest {
                ceremony_id: ceremony.ceremony_id.clone(),
                reason: "De zaal is niet beschikbaar".into(),
            },
            &organiser(&app, ANTWERP),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.informed, 2);
    let blocked = scratch("blocked").join("letters");
    std::fs::write(&blocked, b"in the way").unwrap();
    let failed = letters(&app, &blocked).await;
    assert!(!failed.status.success(), "the run cannot write its file");
    let reserved = "select count(*) from letter where kind = 'cancellation' and state = 'pending'";
    assert_eq!(scalar(&app.ceremonies_db, reserved).await, 2);

    // The next run finishes that batch and prints nothing else, nobody twice.
    let notices = scratch("notices");
    let out = ok(&letters(&app, &notices).await);
    assert!(
        out.contains("0 invitation(s) and 2 cancellation notice(s) in 1 batch(es)"),
        "{out}"
    );
    assert!(
        out.contains("1 batch(es) of an interrupted run completed"),
        "{out}"
    );
    let files = pdfs(&notices);
    assert_eq!(files.len(), 1, "{files:?}");
    let printed = letters_of(&files[0]);
    let mut people: Vec<&str> = printed.iter().map(|(p, _)| p.as_str()).collect();
    people.sort();
    let mut invited = vec![ayse.person_id.as_str(), karim.person_id.as_str()];
    invited.sort();
    assert_eq!(
        people, invited,
        "the notice goes to those invited, once each"
    );
    let notice = &printed
        .iter()
        .find(|(p, _)| *p == ayse.person_id)
        .unwrap()
        .1;
    assert!(notice.contains("gaat niet door"), "{notice}");
    assert!(
        notice.contains("De reden: De zaal is niet beschikbaar"),
        "{notice}"
    );
    assert!(notice.contains("iptal edildi"), "{notice}");
    let out = ok(&letters(&app, &scratch("after")).await);
    assert!(out.contains("in 0 batch(es)"), "{out}");
    let printed_once = "select count(*) from letter where state = 'printed'";
    assert_eq!(scalar(&app.ceremonies_db, printed_once).await, 4);
}
