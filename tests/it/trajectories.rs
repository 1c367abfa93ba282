//! Trajectories over gRPC: registration, start, contract, scoped reads, paging.

use inburgering_testkit::{
    authed, date, national_number, register_start_sign, sign_request, spawn_app,
};
use proto::{
    common::v1::{Agency, PageRequest},
    trajectories::v1::{self as pb, trajectory_service_client::TrajectoryServiceClient},
};
use tonic::Code;
use tonic::transport::Channel;

fn person(base: u64) -> pb::RegisterPersonRequest {
    pb::RegisterPersonRequest {
        national_number: national_number(base),
        given_name: "Yusuf".into(),
        family_name: "Demir".into(),
        mother_tongue: "tr".into(),
        contact_language: String::new(),
    }
}

fn start(person_id: &str, nis: &str) -> pb::StartTrajectoryRequest {
    pb::StartTrajectoryRequest {
        person_id: person_id.into(),
        municipality_nis: nis.into(),
        status: pb::ObligationStatus::Entitled as i32,
        exemption_reason: 0,
        started_on: Some(date(2026, 1, 15)),
    }
}

#[tokio::test]
async fn registering_the_same_number_twice_returns_the_same_person() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let first = client
        .register_person(authed(person(850_730_033), &app.atlas()))
        .await
        .unwrap()
        .into_inner();
    // The same number written with separators, by another agency.
    let mut again = person(850_730_033);
    let n = national_number(850_730_033);
    again.national_number = format!(
        "{}.{}.{}-{}.{}",
        &n[0..2],
        &n[2..4],
        &n[4..6],
        &n[6..9],
        &n[9..]
    );
    let second = client
        .register_person(authed(again, &app.token("in-gent", &["case-worker"])))
        .await
        .unwrap()
        .into_inner();
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.person_id, second.person_id);
}

#[tokio::test]
async fn bad_national_numbers_are_refused_naming_the_field_and_the_reason() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let mut bad = person(850_730_033);
    bad.national_number = format!("{}00", &national_number(850_730_033)[..9]);
    let status = client
        .register_person(authed(bad, &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("national_number") && status.message().contains("mod 97"),
        "{}",
        status.message()
    );

    let mut nameless = person(850_730_033);
    nameless.family_name = "  ".into();
    let status = client
        .register_person(authed(nameless, &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("family_name"),
        "{}",
        status.message()
    );

    // Nothing was half-written: the valid number registers as new.
    let ok = client
        .register_person(authed(person(850_730_033), &app.atlas()))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.created);
}

#[tokio::test]
async fn the_municipality_register_decides_the_agency_also_for_codes_merged_in_2025() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let cases = [
        ("11002", "atlas", Agency::Atlas, "11002"),
        ("44021", "in-gent", Agency::InGent, "44021"),
        ("21004", "agii", Agency::Bon, "21004"),
        ("24062", "agii", Agency::Agii, "24062"),
        // Borsbeek became a district of Antwerp on 2025-01-01: Atlas, stored as Antwerp.
        ("11007", "atlas", Agency::Atlas, "11002"),
        // Kruibeke became part of Beveren-Kruibeke-Zwijndrecht.
        ("46013", "agii", Agency::Agii, "46030"),
    ];
    for (i, (nis, org, agency, stored)) in cases.into_iter().enumerate() {
        let token = app.token(org, &["case-worker"]);
        let p = client
            .register_person(authed(person(700_101_001 + i as u64), &token))
            .await
            .unwrap()
            .into_inner();
        let t = client
            .start_trajectory(authed(start(&p.person_id, nis), &token))
            .await
            .unwrap_or_else(|s| panic!("{nis}: {s:?}"))
            .into_inner()
            .trajectory
            .unwrap();
        assert_eq!(t.agency(), agency, "{nis}");
        assert_eq!(t.municipality_nis, stored, "{nis}");
    }
}

#[tokio::test]
async fn walloon_unknown_and_malformed_municipalities_are_invalid_with_the_reason() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let p = client
        .register_person(authed(person(850_730_033), &app.atlas()))
        .await
        .unwrap()
        .into_inner();
    for (nis, reason) in [
        ("62063", "no Flemish agency is competent"),
        ("11999", "11999 is not a municipality in Statbel's register"),
        ("21020", "21020 is not a municipality"),
        ("1100", "5-digit"),
        ("", "required"),
    ] {
        let status = client
            .start_trajectory(authed(start(&p.person_id, nis), &app.atlas()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{nis}");
        assert!(
            status.message().starts_with("municipality_nis") && status.message().contains(reason),
            "{nis}: {}",
            status.message()
        );
    }
    let mut future = start(&p.person_id, "11002");
    future.started_on = Some(date(2026, 2, 30));
    let status = client
        .start_trajectory(authed(future, &app.atlas()))
        .await
        .unwrap_err();
    assert!(
        status.message().starts_with("started_on")
            && status.message().contains("not a calendar date"),
        "{}",
        status.message()
    );
    let status = client
        .start_trajectory(authed(start("not-a-uuid", "11002"), &app.atlas()))
        .await
        .unwrap_err();
    assert!(
        status.message().starts_with("person_id"),
        "{}",
        status.message()
    );
    let status = client
        .start_trajectory(authed(
            start(&uuid::Uuid::now_v7().to_string(), "11002"),
            &app.atlas(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn an_atlas_case_worker_cannot_start_a_trajectory_in_ghent() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let p = client
        .register_person(authed(person(850_730_033), &app.atlas()))
        .await
        .unwrap()
        .into_inner();
    let status = client
        .start_trajectory(authed(start(&p.person_id, "44021"), &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("in-gent"), "{}", status.message());
}

#[tokio::test]
async fn signing_charges_two_course_fees_and_fixes_the_vdab_deadline() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let mut client = app.trajectories().await;
    let t = client
        .get_trajectory(authed(
            pb::GetTrajectoryRequest {
                trajectory_id: signed.trajectory_id.clone(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();
    let contract = t.contract.expect("signed contract");
    assert_eq!(contract.fees_total.unwrap().cents, 18_000);
    assert_eq!(contract.fees.len(), 2);
    assert!(
        contract
            .fees
            .iter()
            .all(|f| f.amount.as_ref().unwrap().cents == 90_00)
    );
    assert!(contract.rights_and_duties_clause);
    let vdab = contract
        .deadlines
        .iter()
        .find(|d| d.component() == pb::Component::EconomicSelfReliance)
        .expect("VDAB deadline");
    assert_eq!(
        vdab.deadline,
        Some(date(2026, 3, 15)),
        "2 months after the start on 2026-01-15"
    );

    let status = client
        .sign_contract(authed(sign_request(&signed.trajectory_id), &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("already signed"));
}

#[tokio::test]
async fn a_refused_contract_leaves_the_trajectory_unsigned() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let p = client
        .register_person(authed(person(850_730_033), &app.atlas()))
        .await
        .unwrap()
        .into_inner();
    let t = client
        .start_trajectory(authed(start(&p.person_id, "11002"), &app.atlas()))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();
    let mut request = sign_request(&t.trajectory_id);
    request.nt2_deadline = None;
    let status = client
        .sign_contract(authed(request, &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("nt2_deadline"),
        "{}",
        status.message()
    );
    let mut request = sign_request(&t.trajectory_id);
    request.rights_and_duties_accepted = false;
    let status = client
        .sign_contract(authed(request, &app.atlas()))
        .await
        .unwrap_err();
    assert!(
        status.message().starts_with("rights_and_duties_accepted"),
        "{}",
        status.message()
    );
    let after = client
        .get_trajectory(authed(
            pb::GetTrajectoryRequest {
                trajectory_id: t.trajectory_id.clone(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();
    assert!(after.contract.is_none());
    // And it can still be signed properly.
    client
        .sign_contract(authed(sign_request(&t.trajectory_id), &app.atlas()))
        .await
        .unwrap();
}

#[tokio::test]
async fn atlas_case_worker_cannot_read_an_in_gent_trajectory_nor_learn_it_exists() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let gent = app.token("in-gent", &["case-worker"]);
    let p = client
        .register_person(authed(person(850_730_033), &gent))
        .await
        .unwrap()
        .into_inner();
    let t = client
        .start_trajectory(authed(start(&p.person_id, "44021"), &gent))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();

    let status = client
        .get_trajectory(authed(
            pb::GetTrajectoryRequest {
                trajectory_id: t.trajectory_id.clone(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::NotFound,
        "not PERMISSION_DENIED: that would confirm it exists"
    );
    assert_eq!(
        status.message(),
        format!("trajectory {} does not exist", t.trajectory_id),
        "the same answer as for an id that never existed"
    );
    let listed = client
        .list_trajectories(authed(pb::ListTrajectoriesRequest::default(), &app.atlas()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.trajectories.is_empty());
    let status = client
        .sign_contract(authed(sign_request(&t.trajectory_id), &app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    // In-Gent itself sees it.
    let own = client
        .list_trajectories(authed(pb::ListTrajectoriesRequest::default(), &gent))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.trajectories.len(), 1);
}

async fn list(
    client: &mut TrajectoryServiceClient<Channel>,
    token: &str,
    request: pb::ListTrajectoriesRequest,
) -> Result<pb::ListTrajectoriesResponse, tonic::Status> {
    client
        .list_trajectories(authed(request, token))
        .await
        .map(|r| r.into_inner())
}

fn page(page_size: i32, page_token: &str) -> Option<PageRequest> {
    Some(PageRequest {
        page_size,
        page_token: page_token.into(),
    })
}

#[tokio::test]
async fn listing_pages_with_a_cursor_and_filters() {
    let app = spawn_app().await;
    let mut client = app.trajectories().await;
    let token = app.token("agii", &["case-worker"]);
    let mut started = Vec::new();
    for i in 0..5u64 {
        let p = client
            .register_person(authed(person(600_000_000 + i), &token))
            .await
            .unwrap()
            .into_inner();
        let mut request = start(&p.person_id, if i % 2 == 0 { "24062" } else { "21004" });
        if i == 4 {
            request.status = pb::ObligationStatus::Voluntary as i32;
        }
        let t = client
            .start_trajectory(authed(request, &token))
            .await
            .unwrap()
            .into_inner()
            .trajectory
            .unwrap();
        started.push(t.trajectory_id);
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let request = pb::ListTrajectoriesRequest {
            page: page(2, &page_token),
            ..Default::default()
        };
        let response = list(&mut client, &token, request).await.unwrap();
        pages += 1;
        seen.extend(response.trajectories.into_iter().map(|t| t.trajectory_id));
        page_token = response.page.unwrap().next_page_token;
        if page_token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, started, "every trajectory once, oldest first");

    let filtered = [
        (
            pb::ListTrajectoriesRequest {
                agency: Agency::Bon as i32,
                ..Default::default()
            },
            2,
        ),
        (
            pb::ListTrajectoriesRequest {
                municipality_nis: "24062".into(),
                ..Default::default()
            },
            3,
        ),
        (
            pb::ListTrajectoriesRequest {
                status: pb::ObligationStatus::Voluntary as i32,
                ..Default::default()
            },
            1,
        ),
    ];
    for (request, expected) in filtered {
        let response = list(&mut client, &token, request.clone()).await.unwrap();
        assert_eq!(response.trajectories.len(), expected, "{request:?}");
    }

    let refused = [
        (
            pb::ListTrajectoriesRequest {
                page: page(501, ""),
                ..Default::default()
            },
            Code::InvalidArgument,
            "page.page_size",
        ),
        (
            pb::ListTrajectoriesRequest {
                page: page(2, "garbage"),
                ..Default::default()
            },
            Code::InvalidArgument,
            "page.page_token",
        ),
        (
            pb::ListTrajectoriesRequest {
                agency: Agency::Atlas as i32,
                ..Default::default()
            },
            Code::PermissionDenied,
            "agency atlas",
        ),
    ];
    for (request, code, message) in refused {
        let status = list(&mut client, &token, request).await.unwrap_err();
        assert_eq!(status.code(), code);
        assert!(
            status.message().starts_with(message),
            "{}",
            status.message()
        );
    }
}

#[tokio::test]
async fn a_suspended_trajectory_waits_a_stopped_one_ends_and_dvz_gets_the_record() {
    let app = spawn_app().await;
    let signed = inburgering_testkit::register_start_sign(&app, 850_730_033).await;
    let mut client = app.trajectories().await;
    let id = signed.trajectory_id.clone();
    client
        .suspend_trajectory(authed(
            pb::SuspendTrajectoryRequest {
                trajectory_id: id.clone(),
                reason: "verblijf in het buitenland".into(),
                suspended_on: Some(date(2026, 4, 1)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap();
    let vdab = |on| {
        authed(
            pb::RecordVdabRegistrationRequest {
                trajectory_id: id.clone(),
                registered_on: Some(on),
            },
            &app.atlas(),
        )
    };
    let status = client
        .record_vdab_registration(vdab(date(2026, 2, 2)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("suspended"),
        "{}",
        status.message()
    );
    client
        .resume_trajectory(authed(
            pb::ResumeTrajectoryRequest {
                trajectory_id: id.clone(),
                resumed_on: Some(date(2026, 5, 1)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap();
    client
        .record_vdab_registration(vdab(date(2026, 2, 2)))
        .await
        .unwrap();

    let advice = client
        .get_dvz_advice(authed(
            pb::GetDvzAdviceRequest {
                person_id: signed.person_id.clone(),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .advice
        .unwrap();
    assert_eq!(advice.trajectory_id, id);
    assert_eq!(advice.contract_signed_on, Some(date(2026, 1, 20)));
    let vdab = advice
        .components
        .iter()
        .find(|c| c.component() == pb::Component::EconomicSelfReliance)
        .unwrap();
    assert_eq!(vdab.completed_on, Some(date(2026, 2, 2)));
    assert!(advice.attest_issued_on.is_none());
    let other = client
        .get_dvz_advice(authed(
            pb::GetDvzAdviceRequest {
                person_id: signed.person_id.clone(),
            },
            &app.token("in-gent", &["case-worker"]),
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);

    let stopped = client
        .stop_trajectory(authed(
            pb::StopTrajectoryRequest {
                trajectory_id: id.clone(),
                reason: "verhuisd naar Namen".into(),
                stopped_on: Some(date(2026, 6, 1)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap();
    assert_eq!(stopped.state(), pb::TrajectoryState::Stopped);
    assert_eq!(stopped.state_since, Some(date(2026, 6, 1)));
    let waive = client
        .waive_participation(authed(
            pb::WaiveParticipationRequest {
                trajectory_id: id.clone(),
                waiver: pb::ParticipationWaiver::Works as i32,
            },
            &app.atlas(),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        waive.code(),
        Code::FailedPrecondition,
        "{}",
        waive.message()
    );
    let events = inburgering_testkit::kafka::read(
        &app.broker.address(),
        "trajectories.events.v1",
        7,
        std::time::Duration::from_secs(30),
    )
    .await;
    let types: Vec<String> = events
        .iter()
        .filter_map(|m| inburgering_testkit::kafka::header(m, "ce_type"))
        .collect();
    for expected in [
        "TrajectorySuspended",
        "TrajectoryResumed",
        "TrajectoryStopped",
    ] {
        assert!(
            types.iter().any(|t| t.ends_with(expected)),
            "{expected} in {types:?}"
        );
    }
    let stop = events
        .iter()
        .find(|m| {
            inburgering_testkit::kafka::header(m, "ce_type")
                .is_some_and(|t| t.ends_with("TrajectoryStopped"))
        })
        .unwrap();
    use rdkafka::Message;
    assert!(
        !String::from_utf8_lossy(stop.payload().unwrap()).contains("Namen"),
        "the reason stays with the agency"
    );
}
