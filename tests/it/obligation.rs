//! The obligation check for other public bodies: yes, no or unknown, audited.

use inburgering_testkit::{TestApp, authed, date, national_number, spawn_app};
use proto::trajectories::v1::{
    self as pb, obligation_check_service_client::ObligationCheckServiceClient,
};
use sea_orm::{ConnectionTrait, Database};
use secrecy::ExposeSecret;
use tonic::Code;

pub(crate) async fn check(
    app: &TestApp,
    token: &str,
    base: u64,
    benefit: pb::Benefit,
    uninterrupted: i32,
    total: i32,
) -> Result<pb::Answer, tonic::Status> {
    let mut client =
        ObligationCheckServiceClient::connect(format!("http://{}", app.trajectories_addr))
            .await
            .unwrap();
    client
        .check_obligation(authed(
            pb::CheckObligationRequest {
                national_number: national_number(base),
                benefit: benefit as i32,
                purpose: "dossier ZB-2026-0042".into(),
                uninterrupted_residence_years: uninterrupted,
                total_residence_years: total,
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().answer())
}

#[tokio::test]
async fn public_bodies_get_yes_no_or_unknown_and_every_check_is_audited() {
    let app = spawn_app().await;
    let vsb = app.token("vlaamse-sociale-bescherming", &["obligation-check"]);
    assert_eq!(
        check(
            &app,
            &vsb,
            850_730_033,
            pb::Benefit::CarePremiumReduction,
            5,
            5
        )
        .await
        .unwrap(),
        pb::Answer::Unknown
    );

    // An obliged person without attest: no. An exempted person: the obligation is met.
    let mut client = app.trajectories().await;
    let start = |person_id: String, exemption: pb::ExemptionReason| pb::StartTrajectoryRequest {
        person_id,
        municipality_nis: "11002".into(),
        status: pb::ObligationStatus::Obliged as i32,
        exemption_reason: exemption as i32,
        started_on: Some(date(2026, 1, 15)),
    };
    for (base, exemption) in [
        (850_730_033, pb::ExemptionReason::Unspecified),
        (850_730_034, pb::ExemptionReason::SeriousIllness),
    ] {
        let person = client
            .register_person(authed(
                pb::RegisterPersonRequest {
                    national_number: national_number(base),
                    given_name: "Amina".into(),
                    family_name: "Haddad".into(),
                    mother_tongue: "ar".into(),
                    contact_language: String::new(),
                },
                &app.atlas(),
            ))
            .await
            .unwrap()
            .into_inner()
            .person_id;
        client
            .start_trajectory(authed(start(person, exemption), &app.atlas()))
            .await
            .unwrap();
    }
    assert_eq!(
        check(
            &app,
            &vsb,
            850_730_033,
            pb::Benefit::CarePremiumReduction,
            20,
            20
        )
        .await
        .unwrap(),
        pb::Answer::No
    );
    assert_eq!(
        check(
            &app,
            &vsb,
            850_730_034,
            pb::Benefit::CarePremiumReduction,
            5,
            5
        )
        .await
        .unwrap(),
        pb::Answer::Yes
    );
    assert_eq!(
        check(
            &app,
            &vsb,
            850_730_034,
            pb::Benefit::ElderlyCarePriority,
            4,
            12
        )
        .await
        .unwrap(),
        pb::Answer::No
    );
    assert_eq!(
        check(&app, &vsb, 850_730_034, pb::Benefit::CareBudget, 5, 9)
            .await
            .unwrap(),
        pb::Answer::No
    );
    assert_eq!(
        check(&app, &vsb, 850_730_034, pb::Benefit::CareBudget, 5, 10)
            .await
            .unwrap(),
        pb::Answer::Yes
    );

    // Only the obligation-check role asks; bad input names its field.
    let refused = check(
        &app,
        &app.atlas(),
        850_730_034,
        pb::Benefit::CareBudget,
        5,
        10,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let bad = check(&app, &vsb, 850_730_034, pb::Benefit::Unspecified, 5, 10)
        .await
        .unwrap_err();
    assert!(bad.message().starts_with("benefit"), "{}", bad.message());
    let bad = check(&app, &vsb, 850_730_034, pb::Benefit::CareBudget, 11, 10)
        .await
        .unwrap_err();
    assert!(
        bad.message().starts_with("uninterrupted_residence_years"),
        "{}",
        bad.message()
    );

    // Six answered checks, each audited with who asked and why; no national number.
    let db = Database::connect(app.trajectories_db.expose_secret())
        .await
        .unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "select organisation, purpose, answer, coalesce(person_id::text, '') as person from obligation_check",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 6);
    for row in &rows {
        assert_eq!(
            row.try_get::<String>("", "organisation").unwrap(),
            "vlaamse-sociale-bescherming"
        );
        assert_eq!(
            row.try_get::<String>("", "purpose").unwrap(),
            "dossier ZB-2026-0042"
        );
        let answer: String = row.try_get("", "answer").unwrap();
        assert!(["ANSWER_YES", "ANSWER_NO", "ANSWER_UNKNOWN"].contains(&answer.as_str()));
    }
    let dump = format!("{rows:?}");
    assert!(
        !dump.contains(&national_number(850_730_034)),
        "no national number in the audit"
    );
}
