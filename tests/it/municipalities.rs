//! The municipalities service over gRPC: the register, participation from offer to the
//! completed component in trajectories, the edges of hours and seats, the local monitor's
//! disclosure control, and a municipality kept out of another's data.

use std::time::Duration;

use inburgering_testkit::{
    TestApp, authed, date, eventually, kafka, log_hours, municipality_officer, placed,
    register_start_sign, sign_request, spawn_app, volunteering_offer,
};
use proto::{
    common::v1::{Agency, PageRequest},
    municipalities::v1 as pb,
    trajectories::v1 as traj,
};
use sea_orm::{ConnectionTrait, Database, Statement};
use secrecy::ExposeSecret;
use tonic::Code;

use crate::citizenship::trajectory;

const PATIENCE: Duration = Duration::from_secs(30);
const TOPIC: &str = "municipalities.events.v1";

fn antwerp(app: &TestApp) -> String {
    municipality_officer(app, "11002")
}

/// One number from the municipalities database.
async fn scalar(app: &TestApp, sql: &str) -> i64 {
    inburgering_testkit::scalar(&app.municipalities_db, sql).await
}

#[tokio::test]
async fn the_register_answers_by_code_by_filter_and_for_codes_merged_in_2025() {
    let app = spawn_app().await;
    let mut client = app.municipalities().await;
    let token = app.atlas();
    let get = |nis: &str| authed(pb::GetMunicipalityRequest { nis: nis.into() }, &token);
    let antwerp = client
        .get_municipality(get("11002"))
        .await
        .unwrap()
        .into_inner()
        .municipality
        .unwrap();
    assert_eq!(antwerp.name_nl, "Antwerpen");
    assert_eq!(antwerp.agency(), Agency::Atlas);
    assert_eq!(antwerp.region(), pb::Region::Flanders);
    assert_eq!(antwerp.former_nis, vec!["11007".to_string()], "Borsbeek");
    let liege = client
        .get_municipality(get("62063"))
        .await
        .unwrap()
        .into_inner()
        .municipality
        .unwrap();
    assert_eq!(liege.agency(), Agency::Unspecified, "no agency in Wallonia");

    let merged = client.get_municipality(get("11007")).await.unwrap_err();
    assert_eq!(merged.code(), Code::NotFound);
    assert!(
        merged.message().contains("merged into 11002"),
        "{}",
        merged.message()
    );
    let resolved = client
        .resolve_nis(authed(
            pb::ResolveNisRequest {
                nis: "46013".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(resolved.merged);
    assert_eq!(
        resolved.municipality.unwrap().name_nl,
        "Beveren-Kruibeke-Zwijndrecht"
    );
    for (nis, code, field) in [
        ("11999", Code::NotFound, "11999"),
        ("1100", Code::InvalidArgument, "nis:"),
        ("", Code::InvalidArgument, "nis:"),
    ] {
        let status = client
            .resolve_nis(authed(pb::ResolveNisRequest { nis: nis.into() }, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{nis}");
        assert!(
            status.message().contains(field),
            "{nis}: {}",
            status.message()
        );
    }

    // The 19 Brussels municipalities, in pages of 10.
    let mut codes = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_municipalities(authed(
                pb::ListMunicipalitiesRequest {
                    page: Some(PageRequest {
                        page_size: 10,
                        page_token: page_token.clone(),
                    }),
                    region: pb::Region::Brussels as i32,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(
            page.municipalities
                .iter()
                .all(|m| m.agency() == Agency::Bon)
        );
        codes.extend(page.municipalities.into_iter().map(|m| m.nis));
        page_token = page.page.unwrap().next_page_token;
        if page_token.is_empty() {
            break;
        }
    }
    assert_eq!(codes.len(), 19);
    assert_eq!(codes.first().map(String::as_str), Some("21001"));
    let in_gent = client
        .list_municipalities(authed(
            pb::ListMunicipalitiesRequest {
                agency: Agency::InGent as i32,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = in_gent
        .municipalities
        .iter()
        .map(|m| m.name_nl.as_str())
        .collect();
    assert_eq!(names, vec!["Gent"]);
    let unauthenticated = client
        .get_municipality(tonic::Request::new(pb::GetMunicipalityRequest {
            nis: "11002".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);

    // The register went out as one event.
    let published = kafka::decoded::<pb::RegisterPublished>(&app.broker.address(), TOPIC).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].1.municipalities.len(), 565);
}

#[tokio::test]
async fn a_newcomer_placed_by_the_municipality_completes_participation_in_trajectories_at_forty_hours()
 {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let placement = placed(&app, "11002", &signed.person_id).await;
    for (day, hours) in [(1, 12), (2, 12), (3, 12)] {
        log_hours(&app, "11002", &placement, date(2026, 6, day), hours)
            .await
            .unwrap();
    }
    let after_36 = log_hours(&app, "11002", &placement, date(2026, 6, 4), 3)
        .await
        .unwrap();
    assert_eq!((after_36.hours, after_36.trajectory_hours), (39, 39));
    assert_eq!(
        after_36.state(),
        pb::PlacementState::Active,
        "39 hours are not 40"
    );
    let done = log_hours(&app, "11002", &placement, date(2026, 6, 5), 1)
        .await
        .unwrap();
    assert_eq!(done.state(), pb::PlacementState::Completed);
    assert_eq!(done.closed_on, Some(date(2026, 6, 5)));

    let t = eventually(
        "trajectories to complete participation",
        PATIENCE,
        || async {
            let t = trajectory(&app, &signed.trajectory_id).await;
            t.components
                .iter()
                .any(|c| {
                    c.component() == traj::Component::Participation && c.completed_on.is_some()
                })
                .then_some(t)
        },
    )
    .await;
    assert_eq!(t.participation_hours, 40);
    let completed =
        kafka::decoded::<pb::ParticipationCompleted>(&app.broker.address(), TOPIC).await;
    assert_eq!(completed.len(), 1, "once");
    assert_eq!(completed[0].1.trajectory_hours, 40);
    assert_eq!(
        kafka::header(&completed[0].0, "ce_source").as_deref(),
        Some("/inburgering/municipalities")
    );

    // Hours on a completed placement, and the old trajectories RPC, are refused.
    let closed = log_hours(&app, "11002", &placement, date(2026, 6, 6), 1)
        .await
        .unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition);
    assert!(
        closed.message().contains("completed"),
        "{}",
        closed.message()
    );
    #[allow(deprecated)] // the old RPC must say where hours are logged now
    let moved = app
        .trajectories()
        .await
        .log_participation(authed(
            traj::LogParticipationRequest {
                trajectory_id: signed.trajectory_id.clone(),
                hours: 1,
                done_on: Some(date(2026, 6, 6)),
            },
            &app.atlas(),
        ))
        .await
        .unwrap_err();
    assert_eq!(moved.code(), Code::FailedPrecondition);
    assert!(
        moved.message().contains("MunicipalityService/LogHours"),
        "{}",
        moved.message()
    );
}

#[tokio::test]
async fn hours_seats_and_placements_are_refused_at_their_edges() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let placement = placed(&app, "11002", &signed.person_id).await;
    let cases = [
        (
            date(2026, 6, 1),
            -1,
            Code::InvalidArgument,
            "hours: -1 is negative",
        ),
        (
            date(2026, 6, 1),
            0,
            Code::InvalidArgument,
            "hours: 0 is not between 1 and 12",
        ),
        (
            date(2026, 6, 1),
            13,
            Code::InvalidArgument,
            "hours: 13 is not between 1 and 12",
        ),
        (
            date(2099, 1, 1),
            2,
            Code::InvalidArgument,
            "done_on: 2099-01-01 is in the future",
        ),
        (
            date(2026, 4, 30),
            2,
            Code::InvalidArgument,
            "done_on: 2026-04-30 is before the placement started",
        ),
        (
            date(2026, 2, 30),
            2,
            Code::InvalidArgument,
            "done_on: 2026-2-30 is not a date",
        ),
    ];
    for (day, hours, code, message) in cases {
        let status = log_hours(&app, "11002", &placement, day, hours)
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{message}");
        assert!(
            status.message().starts_with(message),
            "{}",
            status.message()
        );
    }
    // 8 and 4 fit in a day; one more hour does not.
    log_hours(&app, "11002", &placement, date(2026, 6, 1), 8)
        .await
        .unwrap();
    log_hours(&app, "11002", &placement, date(2026, 6, 1), 4)
        .await
        .unwrap();
    let full = log_hours(&app, "11002", &placement, date(2026, 6, 1), 1)
        .await
        .unwrap_err();
    assert_eq!(full.code(), Code::FailedPrecondition);
    assert!(
        full.message().contains("12 hours are already logged"),
        "{}",
        full.message()
    );

    let mut client = app.municipalities().await;
    let ended = client
        .end_placement(authed(
            pb::EndPlacementRequest {
                placement_id: placement.clone(),
                ended_on: Some(date(2026, 6, 2)),
            },
            &antwerp(&app),
        ))
        .await
        .unwrap()
        .into_inner()
        .placement
        .unwrap();
    assert_eq!(ended.state(), pb::PlacementState::Ended);
    assert_eq!(ended.hours, 12, "nothing half-written by the refusals");
    let closed = log_hours(&app, "11002", &placement, date(2026, 6, 2), 2)
        .await
        .unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition);
    assert!(
        closed.message().contains("is ended"),
        "{}",
        closed.message()
    );

    // An offer of one seat takes one person.
    let create = |capacity: i32, kind: pb::OfferKind, host: pb::HostKind| {
        authed(
            pb::CreateOfferRequest {
                municipality_nis: "11002".into(),
                kind: kind as i32,
                host_kind: host as i32,
                host_organisation: "Stad Antwerpen".into(),
                title: "Kennismakingsstage".into(),
                capacity,
                starts_on: Some(date(2026, 1, 1)),
                ends_on: Some(date(2026, 12, 31)),
            },
            &antwerp(&app),
        )
    };
    for (capacity, kind, host, field) in [
        (
            0,
            pb::OfferKind::Buddy,
            pb::HostKind::Unspecified,
            "capacity",
        ),
        (
            201,
            pb::OfferKind::Buddy,
            pb::HostKind::Unspecified,
            "capacity",
        ),
        (
            1,
            pb::OfferKind::Internship,
            pb::HostKind::Unspecified,
            "host_kind",
        ),
        (1, pb::OfferKind::Buddy, pb::HostKind::Company, "host_kind"),
        (
            1,
            pb::OfferKind::Unspecified,
            pb::HostKind::Unspecified,
            "kind",
        ),
    ] {
        let status = client
            .create_offer(create(capacity, kind, host))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let one_seat = client
        .create_offer(create(
            1,
            pb::OfferKind::Internship,
            pb::HostKind::LocalGovernment,
        ))
        .await
        .unwrap()
        .into_inner()
        .offer
        .unwrap();
    let second = register_start_sign(&app, 850_730_034).await;
    let third = register_start_sign(&app, 850_730_035).await;
    let place = |person_id: &str| {
        authed(
            pb::PlacePersonRequest {
                offer_id: one_seat.offer_id.clone(),
                person_id: person_id.into(),
                started_on: Some(date(2026, 5, 1)),
            },
            &antwerp(&app),
        )
    };
    let mut client2 = client.clone();
    eventually("the second contract in municipalities", PATIENCE, || {
        let request = place(&second.person_id);
        let mut client = client2.clone();
        async move { client.place_person(request).await.ok() }
    })
    .await;
    let again = client2
        .place_person(place(&second.person_id))
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        Code::FailedPrecondition,
        "{}",
        again.message()
    );
    let status = eventually("the third contract in municipalities", PATIENCE, || {
        let request = place(&third.person_id);
        let mut client = client.clone();
        async move {
            let status = client.place_person(request).await.unwrap_err();
            (status.message().contains("no free seat")).then_some(status)
        }
    })
    .await;
    assert_eq!(status.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn two_officers_placing_the_last_seat_at_once_one_wins() {
    let app = spawn_app().await;
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(register_start_sign(&app, 850_730_040 + i).await.person_id);
    }
    let client = app.municipalities().await;
    let offer = client
        .clone()
        .create_offer(authed(
            pb::CreateOfferRequest {
                municipality_nis: "11002".into(),
                kind: pb::OfferKind::Buddy as i32,
                host_kind: 0,
                host_organisation: "Buddywerking Antwerpen".into(),
                title: "Buddy".into(),
                capacity: 1,
                starts_on: Some(date(2026, 1, 1)),
                ends_on: Some(date(2026, 12, 31)),
            },
            &antwerp(&app),
        ))
        .await
        .unwrap()
        .into_inner()
        .offer
        .unwrap();
    // Every contract is known to municipalities first, so only the seat decides.
    eventually("six contracts in municipalities", PATIENCE, || async {
        let n = scalar(
            &app,
            "select count(*) from resident where contract_signed_on is not null",
        )
        .await;
        (n == 6).then_some(())
    })
    .await;
    let racers = people.iter().map(|person_id| {
        let mut client = client.clone();
        let request = authed(
            pb::PlacePersonRequest {
                offer_id: offer.offer_id.clone(),
                person_id: person_id.clone(),
                started_on: Some(date(2026, 5, 1)),
            },
            &antwerp(&app),
        );
        async move { client.place_person(request).await }
    });
    let outcomes = futures::future::join_all(racers).await;
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "{outcomes:?}");
    for lost in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(lost.code(), Code::FailedPrecondition, "{lost:?}");
    }
    let seats = client
        .clone()
        .get_offer(authed(
            pb::GetOfferRequest {
                offer_id: offer.offer_id.clone(),
            },
            &antwerp(&app),
        ))
        .await
        .unwrap()
        .into_inner()
        .offer
        .unwrap();
    assert_eq!((seats.placed, seats.capacity), (1, 1));
}

#[tokio::test]
async fn hours_delivered_twice_count_once_in_trajectories_and_in_the_monitor() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let placement = placed(&app, "11002", &signed.person_id).await;
    log_hours(&app, "11002", &placement, date(2026, 6, 1), 7)
        .await
        .unwrap();
    let (message, logged) =
        kafka::first::<pb::ParticipationHoursLogged>(&app.broker.address(), TOPIC, PATIENCE).await;
    assert_eq!(logged.hours, 7);
    let hours_in_monitor = "select cast(coalesce(sum(amount), 0) as bigint) from monitor_fact \
         where measure = 'participation-hours'";
    eventually("the monitor to count the hours", PATIENCE, || async {
        (scalar(&app, hours_in_monitor).await == 7).then_some(())
    })
    .await;
    eventually("trajectories to count the hours", PATIENCE, || async {
        (trajectory(&app, &signed.trajectory_id)
            .await
            .participation_hours
            == 7)
            .then_some(())
    })
    .await;

    kafka::redeliver(&app.broker.address(), &message).await;
    // A later entry proves both consumers have read past the redelivered one.
    log_hours(&app, "11002", &placement, date(2026, 6, 2), 2)
        .await
        .unwrap();
    eventually("the monitor to count the later entry", PATIENCE, || async {
        (scalar(&app, hours_in_monitor).await == 9).then_some(())
    })
    .await;
    eventually(
        "trajectories to count the later entry",
        PATIENCE,
        || async {
            (trajectory(&app, &signed.trajectory_id)
                .await
                .participation_hours
                == 9)
                .then_some(())
        },
    )
    .await;
    let applied = scalar(
        &app,
        &format!(
            "select count(*) from inbox where consumer = 'municipalities.monitor' \
             and event_id = '{}'",
            kafka::header(&message, "ce_id").unwrap()
        ),
    )
    .await;
    assert_eq!(applied, 1, "the redelivery was recognised, not applied");
    let db = Database::connect(app.trajectories_db.expose_secret())
        .await
        .unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "select count(*) from inbox where consumer = 'trajectories.municipalities' \
                 and event_id = '{}'",
                kafka::header(&message, "ce_id").unwrap()
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get_by_index::<i64>(0).unwrap(),
        1,
        "trajectories too"
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn concurrent_logs_of_one_person_keep_the_day_cap_and_complete_once_freeing_the_seats() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let a = placed(&app, "11002", &signed.person_id).await;
    let b = placed(&app, "11002", &signed.person_id).await;
    // Two placements log a full day on the same day at once: one day holds 12 hours.
    let (first, second) = futures::join!(
        log_hours(&app, "11002", &a, date(2026, 6, 1), 12),
        log_hours(&app, "11002", &b, date(2026, 6, 1), 12),
    );
    assert_eq!(
        [first.is_ok(), second.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count(),
        1,
        "{first:?} {second:?}"
    );
    for day in 2..=3 {
        log_hours(&app, "11002", &a, date(2026, 6, day), 12)
            .await
            .unwrap();
    }
    // At 36 hours both placements log 4 at once: they queue on the person, the first
    // reaches 40 and completes participation, the second finds it completed.
    let (first, second) = futures::join!(
        log_hours(&app, "11002", &a, date(2026, 6, 4), 4),
        log_hours(&app, "11002", &b, date(2026, 6, 5), 4),
    );
    let (won, lost) = match (first, second) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("one of the two must complete: {other:?}"),
    };
    assert_eq!(won.trajectory_hours, 40);
    assert_eq!(lost.code(), Code::FailedPrecondition);
    assert!(lost.message().contains("completed"), "{}", lost.message());
    let completed = eventually("one ParticipationCompleted", PATIENCE, || async {
        let all = kafka::decoded::<pb::ParticipationCompleted>(&app.broker.address(), TOPIC).await;
        (!all.is_empty()).then_some(all)
    })
    .await;
    assert_eq!(completed.len(), 1);
    let mut client = app.municipalities().await;
    for placement_id in [&a, &b] {
        let p = client
            .get_placement(authed(
                pb::GetPlacementRequest {
                    placement_id: placement_id.to_string(),
                },
                &antwerp(&app),
            ))
            .await
            .unwrap()
            .into_inner()
            .placement
            .unwrap();
        assert_eq!(p.state(), pb::PlacementState::Completed);
        let offer = client
            .get_offer(authed(
                pb::GetOfferRequest {
                    offer_id: p.offer_id.clone(),
                },
                &antwerp(&app),
            ))
            .await
            .unwrap()
            .into_inner()
            .offer
            .unwrap();
        assert_eq!(offer.placed, 0, "a completed placement frees its seat");
    }
}

#[tokio::test]
async fn a_placement_cannot_end_before_its_hours_nor_place_another_municipalitys_resident() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let placement = placed(&app, "11002", &signed.person_id).await;
    log_hours(&app, "11002", &placement, date(2026, 6, 3), 2)
        .await
        .unwrap();
    let mut client = app.municipalities().await;
    let early = client
        .end_placement(authed(
            pb::EndPlacementRequest {
                placement_id: placement.clone(),
                ended_on: Some(date(2026, 6, 2)),
            },
            &antwerp(&app),
        ))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::InvalidArgument);
    assert!(
        early.message().starts_with("ended_on"),
        "{}",
        early.message()
    );
    // Ghent's officer, in Ghent's own offer, cannot place an Antwerp resident.
    let gent_offer = volunteering_offer(&app, "44021").await;
    let foreign = client
        .place_person(authed(
            pb::PlacePersonRequest {
                offer_id: gent_offer,
                person_id: signed.person_id.clone(),
                started_on: Some(date(2026, 5, 1)),
            },
            &municipality_officer(&app, "44021"),
        ))
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::NotFound, "{}", foreign.message());
    // An offer in an unknown or merged-away municipality is bad input naming the field.
    for nis in ["11999", "11007"] {
        let status = client
            .create_offer(authed(
                pb::CreateOfferRequest {
                    municipality_nis: nis.into(),
                    kind: pb::OfferKind::Buddy as i32,
                    host_organisation: "x".into(),
                    title: "x".into(),
                    capacity: 1,
                    starts_on: Some(date(2026, 1, 1)),
                    ends_on: Some(date(2026, 2, 1)),
                    ..Default::default()
                },
                &antwerp(&app),
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{nis}");
        assert!(
            status.message().starts_with("municipality_nis"),
            "{}",
            status.message()
        );
    }
}

/// Starts a trajectory in Antwerp on `started_on` for a new person; its ids.
async fn start_on(
    app: &TestApp,
    base: u64,
    started_on: proto::common::v1::Date,
) -> (String, String) {
    let mut client = app.trajectories().await;
    let person_id = client
        .register_person(authed(
            traj::RegisterPersonRequest {
                national_number: inburgering_testkit::national_number(base),
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
    let trajectory_id = client
        .start_trajectory(authed(
            traj::StartTrajectoryRequest {
                person_id: person_id.clone(),
                municipality_nis: "11002".into(),
                status: traj::ObligationStatus::Obliged as i32,
                started_on: Some(started_on),
                ..Default::default()
            },
            &app.atlas(),
        ))
        .await
        .unwrap()
        .into_inner()
        .trajectory
        .unwrap()
        .trajectory_id;
    (person_id, trajectory_id)
}

fn count(cell: &pb::Cell) -> Option<i64> {
    match cell.value {
        Some(pb::cell::Value::Count(n)) => Some(n),
        _ => None,
    }
}

fn suppressed(cell: &pb::Cell) -> bool {
    matches!(cell.value, Some(pb::cell::Value::Suppressed(true)))
}

#[tokio::test]
async fn the_monitor_shows_aggregates_suppresses_small_cells_and_never_a_person() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    // Six trajectories start in Q1 2026, two in Q2; three of the Q1 ones sign a contract.
    let mut trajectories = app.trajectories().await;
    for i in 0..8u64 {
        let on = if i < 6 {
            date(2026, 1, 15)
        } else {
            date(2026, 4, 15)
        };
        let (person_id, trajectory_id) = start_on(&app, 850_730_050 + i, on).await;
        if i < 3 {
            trajectories
                .sign_contract(authed(sign_request(&trajectory_id), &app.atlas()))
                .await
                .unwrap();
        }
        ids.extend([person_id, trajectory_id]);
    }
    let monitor = app.token("agii", &["monitor"]);
    let mut client = app.municipalities().await;
    let request = |token: &str| {
        authed(
            pb::GetLocalMonitorRequest {
                municipality_nis: "11002".into(),
                year: 2026,
            },
            token,
        )
    };
    let report = eventually("the monitor to count eight starts", PATIENCE, || {
        let (mut client, request) = (client.clone(), request(&monitor));
        async move {
            let report = client.get_local_monitor(request).await.ok()?.into_inner();
            let started = report
                .rows
                .iter()
                .find(|r| r.measure() == pb::Measure::TrajectoriesStarted)?
                .clone();
            (count(started.total.as_ref()?) == Some(8)).then_some(report)
        }
    })
    .await;
    assert_eq!(report.threshold, 5);
    let row = |m: pb::Measure| report.rows.iter().find(|r| r.measure() == m).unwrap();
    let started = row(pb::Measure::TrajectoriesStarted);
    // Q2's 2 (and the empty Q3, Q4) are under 5; Q1's 6 would give Q2 away as 8 - 6: hidden too.
    assert!(started.quarters.iter().all(suppressed), "{started:?}");
    assert_eq!(count(started.total.as_ref().unwrap()), Some(8));
    let contracts = row(pb::Measure::ContractsSigned);
    assert!(
        suppressed(contracts.total.as_ref().unwrap()),
        "3 people: {contracts:?}"
    );
    assert!(
        contracts.quarters.iter().all(suppressed),
        "never shown as 0"
    );
    let registered = row(pb::Measure::NewcomersRegistered);
    assert!(matches!(
        registered.total.as_ref().unwrap().value,
        Some(pb::cell::Value::Unavailable(_))
    ));
    let shown = format!("{report:?}");
    for id in &ids {
        assert!(
            !shown.contains(id.as_str()),
            "a person or trajectory id left the monitor"
        );
    }

    // A municipality sees its own monitor only; a case worker is no monitor.
    client
        .get_local_monitor(request(&antwerp(&app)))
        .await
        .unwrap();
    let gent = client
        .get_local_monitor(request(&municipality_officer(&app, "44021")))
        .await
        .unwrap_err();
    assert_eq!(gent.code(), Code::PermissionDenied);
    let worker = client
        .get_local_monitor(request(&app.atlas()))
        .await
        .unwrap_err();
    assert_eq!(worker.code(), Code::PermissionDenied);
    let bad_year = client
        .get_local_monitor(authed(
            pb::GetLocalMonitorRequest {
                municipality_nis: "11002".into(),
                year: 1999,
            },
            &monitor,
        ))
        .await
        .unwrap_err();
    assert!(
        bad_year.message().starts_with("year"),
        "{}",
        bad_year.message()
    );
}

#[tokio::test]
async fn a_partnership_keeps_contacts_agreements_and_plans_of_its_own_municipality() {
    let app = spawn_app().await;
    let mut client = app.municipalities().await;
    let token = antwerp(&app);
    let contact = client
        .add_contact(authed(
            pb::AddContactRequest {
                municipality_nis: "11002".into(),
                function: "integratieambtenaar".into(),
                work_email: "Integratie@Antwerpen.be".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();
    assert_eq!(contact.work_email, "integratie@antwerpen.be");
    let bad = client
        .add_contact(authed(
            pb::AddContactRequest {
                municipality_nis: "11002".into(),
                function: "schepen".into(),
                work_email: "not an address".into(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert!(bad.message().starts_with("work_email"), "{}", bad.message());
    let agreement = client
        .record_agreement(authed(
            pb::RecordAgreementRequest {
                municipality_nis: "11002".into(),
                subject: "Regie participatietrajecten 2026-2031".into(),
                signed_on: Some(date(2026, 1, 10)),
                valid_until: Some(date(2031, 12, 31)),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .agreement
        .unwrap();
    assert_eq!(agreement.agency(), Agency::Atlas);
    let plan = client
        .save_local_plan(authed(
            pb::SaveLocalPlanRequest {
                municipality_nis: "11002".into(),
                title: "Lokaal integratieplan".into(),
                from_year: 2026,
                to_year: 2031,
                actions: vec![pb::PlanAction {
                    action_id: String::new(),
                    description: "Buddyproject met 50 plaatsen".into(),
                    status: pb::ActionStatus::Planned as i32,
                }],
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let mut action = plan.actions[0].clone();
    action.status = pb::ActionStatus::InProgress as i32;
    let updated = client
        .save_local_plan(authed(
            pb::SaveLocalPlanRequest {
                plan_id: plan.plan_id.clone(),
                municipality_nis: "11002".into(),
                title: plan.title.clone(),
                from_year: 2026,
                to_year: 2031,
                actions: vec![action.clone()],
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(
        updated.actions[0].action_id, action.action_id,
        "the action kept its id"
    );
    let plans = client
        .list_local_plans(authed(
            pb::ListLocalPlansRequest {
                municipality_nis: "11002".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .plans;
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].actions[0].status(), pb::ActionStatus::InProgress);
    let too_long = client
        .save_local_plan(authed(
            pb::SaveLocalPlanRequest {
                municipality_nis: "11002".into(),
                title: "Te lang".into(),
                from_year: 2026,
                to_year: 2040,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert!(
        too_long.message().starts_with("to_year"),
        "{}",
        too_long.message()
    );
    client
        .remove_contact(authed(
            pb::RemoveContactRequest {
                contact_id: contact.contact_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap();
    let left = client
        .list_contacts(authed(
            pb::ListContactsRequest {
                municipality_nis: "11002".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert!(left.is_empty());
}

#[tokio::test]
async fn an_officer_of_another_municipality_is_refused_on_every_rpc() {
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let placement_id = placed(&app, "11002", &signed.person_id).await;
    let offer_id = volunteering_offer(&app, "11002").await;
    let mut client = app.municipalities().await;
    let own = antwerp(&app);
    let contact_id = client
        .add_contact(authed(
            pb::AddContactRequest {
                municipality_nis: "11002".into(),
                function: "integratieambtenaar".into(),
                work_email: "integratie@antwerpen.be".into(),
            },
            &own,
        ))
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap()
        .contact_id;
    let plan_id = client
        .save_local_plan(authed(
            pb::SaveLocalPlanRequest {
                municipality_nis: "11002".into(),
                title: "Plan".into(),
                from_year: 2026,
                to_year: 2026,
                ..Default::default()
            },
            &own,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap()
        .plan_id;

    let mut checked = 0;
    for token in [
        municipality_officer(&app, "44021"),
        app.token("in-gent", &["case-worker"]),
    ] {
        macro_rules! refused {
            ($rpc:ident, $request:expr, $code:expr) => {{
                let status = client.$rpc(authed($request, &token)).await.unwrap_err();
                assert_eq!(
                    status.code(),
                    $code,
                    "{}: {}",
                    stringify!($rpc),
                    status.message()
                );
                checked += 1;
            }};
        }
        let nis = || "11002".to_string();
        let denied = Code::PermissionDenied;
        refused!(
            add_contact,
            pb::AddContactRequest {
                municipality_nis: nis(),
                function: "x".into(),
                work_email: "a@b.be".into()
            },
            denied
        );
        refused!(
            list_contacts,
            pb::ListContactsRequest {
                municipality_nis: nis()
            },
            denied
        );
        refused!(
            remove_contact,
            pb::RemoveContactRequest {
                contact_id: contact_id.clone()
            },
            Code::NotFound
        );
        refused!(
            record_agreement,
            pb::RecordAgreementRequest {
                municipality_nis: nis(),
                subject: "x".into(),
                signed_on: Some(date(2026, 1, 1)),
                valid_until: None
            },
            denied
        );
        refused!(
            list_agreements,
            pb::ListAgreementsRequest {
                municipality_nis: nis()
            },
            denied
        );
        refused!(
            save_local_plan,
            pb::SaveLocalPlanRequest {
                plan_id: plan_id.clone(),
                municipality_nis: nis(),
                title: "x".into(),
                from_year: 2026,
                to_year: 2026,
                actions: vec![]
            },
            denied
        );
        refused!(
            list_local_plans,
            pb::ListLocalPlansRequest {
                municipality_nis: nis()
            },
            denied
        );
        refused!(
            create_offer,
            pb::CreateOfferRequest {
                municipality_nis: nis(),
                kind: pb::OfferKind::Buddy as i32,
                host_kind: 0,
                host_organisation: "x".into(),
                title: "x".into(),
                capacity: 1,
                starts_on: Some(date(2026, 1, 1)),
                ends_on: Some(date(2026, 2, 1))
            },
            denied
        );
        refused!(
            get_offer,
            pb::GetOfferRequest {
                offer_id: offer_id.clone()
            },
            Code::NotFound
        );
        refused!(
            list_offers,
            pb::ListOffersRequest {
                municipality_nis: nis(),
                ..Default::default()
            },
            denied
        );
        refused!(
            close_offer,
            pb::CloseOfferRequest {
                offer_id: offer_id.clone()
            },
            Code::NotFound
        );
        refused!(
            place_person,
            pb::PlacePersonRequest {
                offer_id: offer_id.clone(),
                person_id: signed.person_id.clone(),
                started_on: Some(date(2026, 5, 1))
            },
            Code::NotFound
        );
        refused!(
            log_hours,
            pb::LogHoursRequest {
                placement_id: placement_id.clone(),
                done_on: Some(date(2026, 6, 1)),
                hours: 1
            },
            Code::NotFound
        );
        refused!(
            end_placement,
            pb::EndPlacementRequest {
                placement_id: placement_id.clone(),
                ended_on: Some(date(2026, 6, 1))
            },
            Code::NotFound
        );
        refused!(
            get_placement,
            pb::GetPlacementRequest {
                placement_id: placement_id.clone()
            },
            Code::NotFound
        );
        refused!(
            list_placements,
            pb::ListPlacementsRequest {
                offer_id: offer_id.clone(),
                ..Default::default()
            },
            Code::NotFound
        );
        refused!(
            get_local_monitor,
            pb::GetLocalMonitorRequest {
                municipality_nis: nis(),
                year: 2026
            },
            denied
        );
    }
    assert_eq!(checked, 34);
    // Nothing was changed by the refusals.
    let offer = client
        .get_offer(authed(pb::GetOfferRequest { offer_id }, &own))
        .await
        .unwrap()
        .into_inner()
        .offer
        .unwrap();
    assert_eq!((offer.state(), offer.placed), (pb::OfferState::Open, 0));
    let placement = client
        .get_placement(authed(pb::GetPlacementRequest { placement_id }, &own))
        .await
        .unwrap()
        .into_inner()
        .placement
        .unwrap();
    assert_eq!(placement.hours, 0);
    let contacts = client
        .list_contacts(authed(
            pb::ListContactsRequest {
                municipality_nis: "11002".into(),
            },
            &own,
        ))
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts.len(), 1);
}
