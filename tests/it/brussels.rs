//! Brussels: the obligation as the platform learns it from the national-register feed.
//! Recruitment's `NewcomerDetected` for the 19 Brussels municipalities reaches
//! trajectories, which keeps each person's first Brussels registration with what the
//! Brussels rule makes of it (adult under 65, from 2022-06-01, outside free movement, in
//! the foreigners' register).

use std::time::Duration;

use inburgering_testkit::{
    TestApp, authed, date, eventually, kafka, national_number, scalar, spawn_app,
};
use prost::Message;
use proto::{recruitment::v1 as rpb, trajectories::v1 as tpb};

const PATIENCE: Duration = Duration::from_secs(30);

/// Registers a person with trajectories as the feed does; the person id.
async fn person(app: &TestApp, number: String) -> String {
    app.trajectories()
        .await
        .register_person(authed(
            tpb::RegisterPersonRequest {
                national_number: number,
                given_name: "Nieuwkomer".into(),
                family_name: "Brussel".into(),
                mother_tongue: "ar".into(),
                contact_language: String::new(),
            },
            &app.token("bon", &["recruitment-officer"]),
        ))
        .await
        .expect("register")
        .into_inner()
        .person_id
}

/// Publishes a `NewcomerDetected` as recruitment's relay would.
async fn detected(
    app: &TestApp,
    person_id: &str,
    nis: &str,
    on: (i32, i32, i32),
    free_movement: bool,
    foreigners_register: bool,
) {
    let event = rpb::NewcomerDetected {
        registration_id: uuid::Uuid::now_v7().to_string(),
        person_id: person_id.into(),
        municipality_nis: nis.into(),
        registered_on: Some(date(on.0, on.1, on.2)),
        target_group: rpb::TargetGroup::BrusselsNewcomer as i32,
        free_movement,
        foreigners_register,
    };
    let id = uuid::Uuid::now_v7().to_string();
    kafka::produce(
        &app.broker.address(),
        "recruitment.events.v1",
        person_id,
        &[
            ("ce_id", id.as_str()),
            ("ce_type", "inburgering.recruitment.v1.NewcomerDetected"),
            ("ce_source", "/inburgering/recruitment"),
            ("ce_specversion", "1.0"),
        ],
        &event.encode_to_vec(),
    )
    .await;
}

fn young(base: u64) -> String {
    format!("{base:09}{:02}", 97 - (2_000_000_000 + base) % 97)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trajectories_keeps_each_brussels_newcomers_first_registration_and_whether_it_obliges() {
    let app = spawn_app().await;
    let adult = person(&app, national_number(900_512_001)).await;
    let early = person(&app, national_number(900_512_002)).await;
    let minor = person(&app, young(100_301_001)).await;
    let senior = person(&app, national_number(550_101_001)).await;
    let european = person(&app, national_number(900_512_003)).await;
    let settled = person(&app, national_number(900_512_004)).await;
    let flemish = person(&app, national_number(900_512_005)).await;
    // The adult moves within Brussels later: the first registration decides; one of the
    // day before the obligation is not obliged.
    detected(&app, &adult, "21004", (2023, 1, 10), false, true).await;
    detected(&app, &adult, "21015", (2023, 5, 1), false, true).await;
    detected(&app, &early, "21004", (2022, 5, 31), false, true).await;
    detected(&app, &minor, "21004", (2023, 1, 10), false, true).await;
    detected(&app, &senior, "21004", (2023, 1, 10), false, true).await;
    detected(&app, &european, "21004", (2023, 1, 10), true, true).await;
    detected(&app, &settled, "21004", (2023, 1, 10), false, false).await;
    detected(&app, &flemish, "23062", (2023, 1, 10), false, true).await;
    let last = format!("select count(*) from brussels_newcomer where person_id = '{settled}'");
    eventually("the newcomers in trajectories", PATIENCE, || async {
        (scalar(&app.trajectories_db, &last).await == 1).then_some(())
    })
    .await;
    let why = |person: &str, reason: &str| {
        format!(
            "select count(*) from brussels_newcomer where person_id = '{person}' and not obliged \
             and not_obliged_because = '{reason}'"
        )
    };
    assert_eq!(
        scalar(
            &app.trajectories_db,
            &format!(
                "select count(*) from brussels_newcomer where person_id = '{adult}' and obliged \
                 and municipality_nis = '21004' and registered_on = '2023-01-10'"
            )
        )
        .await,
        1
    );
    for (p, reason) in [
        (&early, "before_the_obligation"),
        (&minor, "age"),
        (&senior, "age"),
        (&european, "free_movement"),
        (&settled, "population_register"),
    ] {
        assert_eq!(
            scalar(&app.trajectories_db, &why(p, reason)).await,
            1,
            "{reason}"
        );
    }
    assert_eq!(
        scalar(
            &app.trajectories_db,
            "select count(*) from brussels_newcomer"
        )
        .await,
        6,
        "the Flemish registration is not a Brussels one"
    );
    app.stop().await;
}
