//! What a municipality's ceremony organiser may read of its residents: the attested ones
//! of its own municipality, with name, contact language and age on the day, each read
//! audited; everybody else withheld without reason.

use inburgering_testkit::{
    TestApp, authed, date, register_and_start, register_start_sign, spawn_app,
};
use proto::trajectories::v1::{self as pb, disclosure_service_client::DisclosureServiceClient};
use sea_orm::{ConnectionTrait, Database, Statement};
use secrecy::ExposeSecret;
use tonic::{Code, Request};

const ANTWERP: &str = "11002";
const GHENT: &str = "44021";

fn organiser(app: &TestApp, nis: &str) -> String {
    app.token(&format!("municipality-{nis}"), &["ceremony-organiser"])
}

fn request(
    nis: &str,
    ceremony_id: &str,
    on: (i32, i32, i32),
    person_ids: &[&str],
) -> pb::DiscloseForCeremonyRequest {
    pb::DiscloseForCeremonyRequest {
        municipality_nis: nis.into(),
        ceremony_id: ceremony_id.into(),
        ceremony_date: Some(date(on.0, on.1, on.2)),
        person_ids: person_ids.iter().map(|&id| id.to_owned()).collect(),
    }
}

async fn disclose(
    app: &TestApp,
    request: Request<pb::DiscloseForCeremonyRequest>,
) -> Result<pb::DiscloseForCeremonyResponse, tonic::Status> {
    DisclosureServiceClient::connect(format!("http://{}", app.trajectories_addr))
        .await
        .unwrap()
        .disclose_for_ceremony(request)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn an_organiser_reads_only_the_attested_residents_of_its_municipality_audited() {
    let app = spawn_app().await;
    // Born 1985-07-30 (the national number's first six digits), contact language French.
    let attested = register_start_sign(&app, 850_730_033).await;
    crate::citizenship::attest(&app, &attested).await;
    let mut client = app.trajectories().await;
    let (unattested, _) = register_and_start(&mut client, &app.atlas(), 850_730_034, ANTWERP).await;
    let in_gent = app.token("in-gent", &["case-worker"]);
    let (ghent, _) = register_and_start(&mut client, &in_gent, 850_730_035, GHENT).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let asked = [
        unattested.as_str(),
        attested.person_id.as_str(),
        ghent.as_str(),
        unknown.as_str(),
    ];

    // The day before the 41st birthday, then the birthday itself.
    let eve = uuid::Uuid::now_v7().to_string();
    let answer = disclose(
        &app,
        authed(
            request(ANTWERP, &eve, (2026, 7, 29), &asked),
            &organiser(&app, ANTWERP),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        answer.invitees,
        vec![pb::CeremonyInvitee {
            person_id: attested.person_id.clone(),
            given_name: "Amina".into(),
            family_name: "Haddad".into(),
            contact_language: "fr".into(),
            age: 40,
        }]
    );
    assert_eq!(
        answer.withheld_person_ids,
        vec![unattested.clone(), ghent.clone(), unknown.clone()],
        "no attest, another municipality, unknown: withheld, in the order asked"
    );
    let birthday = uuid::Uuid::now_v7().to_string();
    let answer = disclose(
        &app,
        authed(
            request(
                ANTWERP,
                &birthday,
                (2026, 7, 30),
                &[&attested.person_id, &attested.person_id],
            ),
            &organiser(&app, ANTWERP),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        answer.invitees.len(),
        1,
        "a person named twice is read once"
    );
    assert_eq!(answer.invitees[0].age, 41);

    // Ghent's organiser learns nothing of Antwerp's attested resident, and may not ask
    // in Antwerp's name.
    let answer = disclose(
        &app,
        authed(
            request(GHENT, &eve, (2026, 7, 29), &[&attested.person_id]),
            &organiser(&app, GHENT),
        ),
    )
    .await
    .unwrap();
    assert!(answer.invitees.is_empty());
    assert_eq!(answer.withheld_person_ids, vec![attested.person_id.clone()]);
    let refused = |token: String| request_as(&app, &attested.person_id, &eve, token);
    for (who, token) in [
        ("Ghent's organiser", organiser(&app, GHENT)),
        ("a case worker", app.atlas()),
        (
            "Antwerp's officer",
            app.token("municipality-11002", &["municipality-officer"]),
        ),
        (
            "an organiser outside a municipality",
            app.token("atlas", &["ceremony-organiser"]),
        ),
    ] {
        let s = refused(token).await.unwrap_err();
        assert_eq!(s.code(), Code::PermissionDenied, "{who}: {}", s.message());
    }
    let anonymous = disclose(
        &app,
        Request::new(request(
            ANTWERP,
            &eve,
            (2026, 7, 29),
            &[&attested.person_id],
        )),
    )
    .await
    .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // Bad input names its field (and for a list, the entry).
    let antwerp = organiser(&app, ANTWERP);
    let bad = |req: pb::DiscloseForCeremonyRequest| {
        let token = antwerp.clone();
        let app = &app;
        async move { disclose(app, authed(req, &token)).await.unwrap_err() }
    };
    let s = bad(request(
        ANTWERP,
        &eve,
        (2026, 7, 29),
        &[&attested.person_id, "not-a-uuid"],
    ))
    .await;
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message().starts_with("person_ids") && s.message().contains("[1]"),
        "{}",
        s.message()
    );
    let s = bad(request(ANTWERP, &eve, (2026, 7, 29), &[])).await;
    assert!(s.message().starts_with("person_ids"), "{}", s.message());
    let too_many = vec![attested.person_id.as_str(); 501];
    let s = bad(request(ANTWERP, &eve, (2026, 7, 29), &too_many)).await;
    assert!(s.message().starts_with("person_ids"), "{}", s.message());
    let s = bad(request("1100", &eve, (2026, 7, 29), &[&attested.person_id])).await;
    assert!(
        s.message().starts_with("municipality_nis"),
        "{}",
        s.message()
    );
    let s = bad(request(
        ANTWERP,
        "ceremony-1",
        (2026, 7, 29),
        &[&attested.person_id],
    ))
    .await;
    assert!(s.message().starts_with("ceremony_id"), "{}", s.message());
    let s = bad(request(
        ANTWERP,
        &eve,
        (2026, 2, 30),
        &[&attested.person_id],
    ))
    .await;
    assert!(s.message().starts_with("ceremony_date"), "{}", s.message());
    let mut undated = request(ANTWERP, &eve, (2026, 7, 29), &[&attested.person_id]);
    undated.ceremony_date = None;
    let s = bad(undated).await;
    assert!(s.message().starts_with("ceremony_date"), "{}", s.message());

    // One audit row per person disclosed, for the ceremony, by Antwerp's organiser; no
    // rows for the withheld, the refused or the invalid, and no names.
    let db = Database::connect(app.trajectories_db.expose_secret())
        .await
        .unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "select caller, organisation, purpose, reference, person_id::text as person \
             from disclosure_audit order by id",
        ))
        .await
        .unwrap();
    let audit: Vec<(String, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "caller").unwrap(),
                r.try_get("", "organisation").unwrap(),
                r.try_get("", "purpose").unwrap(),
                r.try_get("", "reference").unwrap(),
                r.try_get("", "person").unwrap(),
            )
        })
        .collect();
    let row = |ceremony: &str| {
        (
            "dev-municipality-11002".to_owned(),
            "municipality-11002".to_owned(),
            "ceremony".to_owned(),
            ceremony.to_owned(),
            attested.person_id.clone(),
        )
    };
    assert_eq!(audit, vec![row(&eve), row(&birthday)]);
    let dump = format!("{rows:?}");
    assert!(
        !dump.contains("Haddad") && !dump.contains("Amina"),
        "no names"
    );
    db.close().await.unwrap();
}

/// Asks for `person_id` in Antwerp's name with `token`.
async fn request_as(
    app: &TestApp,
    person_id: &str,
    ceremony_id: &str,
    token: String,
) -> Result<pb::DiscloseForCeremonyResponse, tonic::Status> {
    disclose(
        app,
        authed(
            request(ANTWERP, ceremony_id, (2026, 7, 29), &[person_id]),
            &token,
        ),
    )
    .await
}
