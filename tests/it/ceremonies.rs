//! Ceremonies across services: attests issued in trajectories become an invitation list
//! in ceremonies, names and contact languages are read from trajectories on the
//! organiser's behalf (audited), invitations go out once, RSVPs and attendance are
//! recorded, and the report counts them beside imported historical overviews.

use std::time::Duration;

use chrono::Datelike;
use inburgering_testkit::{
    Signed, TestApp, authed, date, eventually, kafka, register_and_start,
    register_and_start_person, scalar, sign_request, spawn_app,
};
use prost::Message as _;
use proto::{ceremonies::v1 as pb, common::v1 as common, trajectories::v1 as tpb};
use secrecy::ExposeSecret;
use tonic::Code;

mod letters;

const PATIENCE: Duration = Duration::from_secs(30);
const ANTWERP: &str = "11002";
const GHENT: &str = "44021";

pub(crate) fn organiser(app: &TestApp, nis: &str) -> String {
    app.token(&format!("municipality-{nis}"), &["ceremony-organiser"])
}

fn today() -> chrono::NaiveDate {
    platform::clock::today()
}

fn day(d: chrono::NaiveDate) -> common::Date {
    date(d.year(), d.month() as i32, d.day() as i32)
}

/// An integration ceremony today in Antwerp over the attests of this year.
pub(crate) fn details(capacity: i32) -> pb::CeremonyDetails {
    pb::CeremonyDetails {
        kind: pb::CeremonyKind::Integration as i32,
        date: Some(day(today())),
        place: "Stadhuis, Grote Markt 1".into(),
        host: pb::Host::Mayor as i32,
        capacity,
        attest_from: Some(date(today().year(), 1, 1)),
        attest_to: Some(day(today())),
        co_organiser: 0,
        min_age: 0,
        max_age: 0,
    }
}

pub(crate) async fn plan(
    app: &TestApp,
    nis: &str,
    details: pb::CeremonyDetails,
) -> Result<pb::Ceremony, tonic::Status> {
    app.ceremonies()
        .await
        .plan_ceremony(authed(
            pb::PlanCeremonyRequest {
                municipality_nis: nis.into(),
                details: Some(details),
            },
            &organiser(app, nis),
        ))
        .await
        .map(|r| r.into_inner().ceremony.expect("ceremony"))
}

pub(crate) async fn send(
    app: &TestApp,
    ceremony_id: &str,
) -> Result<pb::SendInvitationsResponse, tonic::Status> {
    app.ceremonies()
        .await
        .send_invitations(authed(
            pb::SendInvitationsRequest {
                ceremony_id: ceremony_id.into(),
            },
            &organiser(app, ANTWERP),
        ))
        .await
        .map(|r| r.into_inner())
}

async fn invitations(app: &TestApp, ceremony_id: &str) -> Vec<pb::Invitation> {
    app.ceremonies()
        .await
        .list_invitations(authed(
            pb::ListInvitationsRequest {
                ceremony_id: ceremony_id.into(),
                page: None,
            },
            &organiser(app, ANTWERP),
        ))
        .await
        .expect("list invitations")
        .into_inner()
        .invitations
}

/// A person registered with the nine digits `base` (born in the 2000s when `young`),
/// started and signed in Antwerp, taken to the attest.
pub(crate) async fn attested(app: &TestApp, base: u64, young: bool) -> Signed {
    let token = app.atlas();
    let mut client = app.trajectories().await;
    let (person_id, trajectory_id) = if young {
        let person = tpb::RegisterPersonRequest {
            national_number: format!("{base:09}{:02}", 97 - (2_000_000_000 + base) % 97),
            given_name: "Yusuf".into(),
            family_name: "Demir".into(),
            mother_tongue: "tr".into(),
            contact_language: String::new(),
        };
        register_and_start_person(&mut client, &token, person, ANTWERP).await
    } else {
        register_and_start(&mut client, &token, base, ANTWERP).await
    };
    client
        .sign_contract(authed(sign_request(&trajectory_id), &token))
        .await
        .expect("sign");
    let signed = Signed {
        person_id,
        trajectory_id,
    };
    // Tests in a session starting in a minute: the attest is issued today, and a ceremony
    // today can record attendance at its door.
    let soon = chrono::Utc::now() + chrono::Duration::minutes(1);
    crate::citizenship::attest_at(app, &signed, soon).await;
    signed
}

/// Publishes `event` on trajectories' topic as trajectories would, with event id `id`.
async fn publish_attest(app: &TestApp, id: &str, event: &tpb::AttestIssued) {
    let headers = [
        ("ce_id", id),
        ("ce_type", "inburgering.trajectories.v1.AttestIssued"),
        ("ce_source", "/inburgering/trajectories"),
        ("ce_specversion", "1.0"),
    ];
    kafka::produce(
        &app.broker.address(),
        "trajectories.events.v1",
        &event.trajectory_id,
        &headers,
        &event.encode_to_vec(),
    )
    .await;
}

async fn attests_kept(app: &TestApp) -> i64 {
    scalar(&app.ceremonies_db, "select count(*) from attest").await
}

#[tokio::test]
async fn a_ceremony_over_a_period_invites_exactly_the_attests_of_its_municipality_once() {
    let app = spawn_app().await;
    let adult = attested(&app, 850_730_033, false).await;
    let young = attested(&app, 80_512_001, true).await;
    eventually("ceremonies to keep both attests", PATIENCE, || async {
        (attests_kept(&app).await == 2).then_some(())
    })
    .await;
    // Attests that must not be invited: Ghent's, one of Antwerp's before the period, and
    // one trajectories does not know (it withholds it: ceremonies invites only whom
    // trajectories discloses). And a real attest delivered again.
    let other = |nis: &str, issued_on: common::Date| tpb::AttestIssued {
        trajectory_id: uuid::Uuid::now_v7().to_string(),
        person_id: uuid::Uuid::now_v7().to_string(),
        agency: if nis == GHENT {
            common::Agency::InGent
        } else {
            common::Agency::Atlas
        } as i32,
        municipality_nis: nis.into(),
        status: tpb::ObligationStatus::Obliged as i32,
        issued_on: Some(issued_on),
    };
    publish_attest(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        &other(GHENT, day(today())),
    )
    .await;
    publish_attest(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        &other(ANTWERP, date(today().year() - 1, 12, 31)),
    )
    .await;
    publish_attest(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        &other(ANTWERP, day(today())),
    )
    .await;
    let again = tpb::AttestIssued {
        trajectory_id: adult.trajectory_id.clone(),
        person_id: adult.person_id.clone(),
        agency: common::Agency::Atlas as i32,
        municipality_nis: ANTWERP.into(),
        status: tpb::ObligationStatus::Obliged as i32,
        issued_on: Some(day(today())),
    };
    publish_attest(&app, &uuid::Uuid::now_v7().to_string(), &again).await;
    eventually("ceremonies to keep the other attests", PATIENCE, || async {
        (attests_kept(&app).await == 5).then_some(())
    })
    .await;

    let ceremony = plan(&app, ANTWERP, details(10)).await.unwrap();
    assert_eq!(ceremony.state(), pb::CeremonyState::Planned);
    assert_eq!(ceremony.agency(), common::Agency::Atlas);
    let sent = send(&app, &ceremony.ceremony_id).await.unwrap();
    assert_eq!((sent.sent, sent.invitations), (2, 2));
    // Again, as a retry or a second replica would: nothing twice.
    let sent = send(&app, &ceremony.ceremony_id).await.unwrap();
    assert_eq!((sent.sent, sent.invitations), (0, 2));

    let list = invitations(&app, &ceremony.ceremony_id).await;
    let mut invited: Vec<&str> = list.iter().map(|i| i.person_id.as_str()).collect();
    invited.sort();
    let mut expected = vec![adult.person_id.as_str(), young.person_id.as_str()];
    expected.sort();
    assert_eq!(invited, expected);
    let amina = list
        .iter()
        .find(|i| i.person_id == adult.person_id)
        .unwrap();
    assert_eq!(
        (amina.given_name.as_str(), amina.family_name.as_str()),
        ("Amina", "Haddad")
    );
    assert_eq!(amina.contact_language, "fr");
    assert!(
        amina.letter.starts_with("Beste Amina Haddad"),
        "{}",
        amina.letter
    );
    assert!(amina.letter.contains("Antwerpen"));
    assert!(amina.letter.contains("Uw contacttaal is het Frans"));
    let yusuf = list
        .iter()
        .find(|i| i.person_id == young.person_id)
        .unwrap();
    assert!(
        yusuf.letter.contains("alleen in het Nederlands"),
        "no contact language: Dutch only, and the letter says so"
    );

    // The read was trajectories', on the organiser's behalf, audited per person.
    assert_eq!(
        scalar(
            &app.trajectories_db,
            &format!(
                "select count(*) from disclosure_audit where purpose = 'ceremony' \
                 and reference = '{}' and organisation = 'municipality-11002'",
                ceremony.ceremony_id
            ),
        )
        .await,
        2
    );
    // Ceremonies keeps no national number.
    assert_eq!(
        scalar(
            &app.ceremonies_db,
            "select count(*) from information_schema.columns where column_name like '%national%'",
        )
        .await,
        0
    );

    // One InvitationSent per person crossed the broker, keyed by the ceremony.
    let events = kafka::read(&app.broker.address(), "ceremonies.events.v1", 3, PATIENCE).await;
    let sent_events: Vec<_> = events
        .iter()
        .filter(|m| {
            kafka::header(m, "ce_type").as_deref()
                == Some("inburgering.ceremonies.v1.InvitationSent")
        })
        .collect();
    assert_eq!(sent_events.len(), 2);
    use rdkafka::Message as _;
    for m in &sent_events {
        assert_eq!(m.key(), Some(ceremony.ceremony_id.as_bytes()));
        let e = pb::InvitationSent::decode(m.payload().unwrap()).unwrap();
        assert_eq!(e.municipality_nis, ANTWERP);
    }

    // An attest issued after the first round: the next round invites only that person,
    // as a late addition.
    let late = attested(&app, 860_101_017, false).await;
    eventually("ceremonies to keep the late attest", PATIENCE, || async {
        (attests_kept(&app).await == 6).then_some(())
    })
    .await;
    let sent = send(&app, &ceremony.ceremony_id).await.unwrap();
    assert_eq!((sent.sent, sent.invitations), (1, 3));
    let list = invitations(&app, &ceremony.ceremony_id).await;
    let added = list.iter().find(|i| i.person_id == late.person_id).unwrap();
    assert!(added.late_addition);
    assert!(list.iter().filter(|i| i.late_addition).count() == 1);

    // Fewer seats than invitations: refused, and nothing changes.
    let mut smaller = details(1);
    smaller.place = "Zaal 2".into();
    let refused = app
        .ceremonies()
        .await
        .change_ceremony(authed(
            pb::ChangeCeremonyRequest {
                ceremony_id: ceremony.ceremony_id.clone(),
                details: Some(smaller),
            },
            &organiser(&app, ANTWERP),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("capacity"),
        "{}",
        refused.message()
    );
    // A ceremony too small for its list sends nothing at all.
    let tiny = plan(&app, ANTWERP, details(1)).await.unwrap();
    let refused = send(&app, &tiny.ceremony_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(invitations(&app, &tiny.ceremony_id).await.is_empty());

    // RSVPs: the invited answer; someone not invited cannot.
    let mut client = app.ceremonies().await;
    let token = organiser(&app, ANTWERP);
    let rsvp = |person: &str, rsvp: pb::Rsvp, guests: i32| {
        authed(
            pb::RecordRsvpRequest {
                ceremony_id: ceremony.ceremony_id.clone(),
                person_id: person.into(),
                rsvp: rsvp as i32,
                guests,
            },
            &token,
        )
    };
    let yes = client
        .record_rsvp(rsvp(&adult.person_id, pb::Rsvp::Yes, 2))
        .await
        .unwrap()
        .into_inner()
        .invitation
        .unwrap();
    assert_eq!((yes.rsvp(), yes.guests), (pb::Rsvp::Yes, 2));
    client
        .record_rsvp(rsvp(&young.person_id, pb::Rsvp::Yes, 0))
        .await
        .unwrap();
    let stranger = uuid::Uuid::now_v7().to_string();
    let refused = client
        .record_rsvp(rsvp(&stranger, pb::Rsvp::Yes, 0))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("not invited"));
    let refused = client
        .record_rsvp(rsvp(&adult.person_id, pb::Rsvp::Yes, 11))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().starts_with("guests"));

    // At the door: once.
    let attend = |person: &str| {
        authed(
            pb::RecordAttendanceRequest {
                ceremony_id: ceremony.ceremony_id.clone(),
                person_id: person.into(),
            },
            &token,
        )
    };
    let came = client
        .record_attendance(attend(&adult.person_id))
        .await
        .unwrap()
        .into_inner()
        .invitation
        .unwrap();
    assert!(came.attended);
    let twice = client
        .record_attendance(attend(&adult.person_id))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists);

    // Closed: one came, one said yes and did not.
    let closed = client
        .close_ceremony(authed(
            pb::CloseCeremonyRequest {
                ceremony_id: ceremony.ceremony_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((closed.participants, closed.no_shows), (1, 1));
    let list = invitations(&app, &ceremony.ceremony_id).await;
    assert!(
        list.iter()
            .any(|i| i.person_id == young.person_id && i.no_show)
    );

    // The report counts what was recorded: 3 invited, 1 came, 33%.
    let report = client
        .get_report(authed(
            pb::GetReportRequest {
                year: today().year(),
                municipality_nis: String::new(),
                agency: 0,
            },
            &app.token("agii", &["monitor"]),
        ))
        .await
        .unwrap()
        .into_inner();
    let row = report
        .rows
        .iter()
        .find(|r| r.municipality_nis == ANTWERP && r.source() == pb::Source::Platform)
        .expect("Antwerp's row");
    assert_eq!(row.municipality_name, "Antwerpen");
    assert_eq!(
        (
            row.ceremonies_held,
            row.invitations,
            row.participants,
            row.computed_rate_percent
        ),
        (Some(1), Some(3), Some(1), Some(33))
    );
    assert!(!row.inconsistent);

    // The names read for the invitations stayed in the invitation table: not in logs,
    // span attributes, or the ceremonies' events.
    let capture = inburgering_testkit::capture::install();
    let logs = capture.logs();
    assert!(logs.contains(&ceremony.ceremony_id), "the capture works");
    let spans: String = capture
        .spans()
        .iter()
        .map(|s| format!("{} {:?}", s.name, s.attributes))
        .collect();
    let events = kafka::read_all(&app.broker.address(), "ceremonies.events.v1").await;
    for name in ["Amina", "Haddad", "Yusuf", "Demir"] {
        assert!(!logs.contains(name), "{name} in the logs");
        assert!(!spans.contains(name), "{name} in span attributes");
        for m in &events {
            let payload = String::from_utf8_lossy(m.payload().unwrap_or_default());
            assert!(!payload.contains(name), "{name} in an event");
        }
    }
}

#[tokio::test]
async fn a_youth_celebration_invites_its_age_range_and_a_cancellation_informs_the_invited() {
    let app = spawn_app().await;
    let adult = attested(&app, 850_730_033, false).await;
    let young = attested(&app, 80_512_001, true).await;
    eventually("ceremonies to keep both attests", PATIENCE, || async {
        (attests_kept(&app).await == 2).then_some(())
    })
    .await;
    let youth = pb::CeremonyDetails {
        kind: pb::CeremonyKind::Youth as i32,
        min_age: 16,
        max_age: 25,
        host: pb::Host::Alderman as i32,
        ..details(50)
    };
    let celebration = plan(&app, ANTWERP, youth).await.unwrap();
    let sent = send(&app, &celebration.ceremony_id).await.unwrap();
    assert_eq!(sent.sent, 1);
    let list = invitations(&app, &celebration.ceremony_id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].person_id, young.person_id,
        "18 is in 16–25, 41 is not"
    );
    assert_ne!(list[0].person_id, adult.person_id);
    assert!(list[0].letter.contains("het jongerenfeest"));

    let cancelled = app
        .ceremonies()
        .await
        .cancel_ceremony(authed(
            pb::CancelCeremonyRequest {
                ceremony_id: celebration.ceremony_id.clone(),
                reason: "De zaal is niet beschikbaar".into(),
            },
            &organiser(&app, ANTWERP),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.informed, 1);
    assert_eq!(
        cancelled.ceremony.unwrap().state(),
        pb::CeremonyState::Cancelled
    );
    let events = kafka::read(&app.broker.address(), "ceremonies.events.v1", 4, PATIENCE).await;
    let notices: Vec<_> = events
        .iter()
        .filter(|m| {
            kafka::header(m, "ce_type").as_deref()
                == Some("inburgering.ceremonies.v1.CancellationNoticeSent")
        })
        .collect();
    assert_eq!(notices.len(), 1);
    // A cancelled ceremony invites no one any more.
    let refused = send(&app, &celebration.ceremony_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn planning_refuses_bad_periods_past_days_and_unknown_municipalities() {
    let app = spawn_app().await;
    let refused = |s: tonic::Status, field: &str| {
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        assert!(s.message().starts_with(field), "{field}: {}", s.message());
    };
    let mut backwards = details(10);
    backwards.attest_from = Some(day(today()));
    backwards.attest_to = Some(date(today().year() - 1, 1, 1));
    refused(
        plan(&app, ANTWERP, backwards).await.unwrap_err(),
        "details.attest_to",
    );
    let mut past = details(10);
    let yesterday = today() - chrono::Duration::days(1);
    past.date = Some(day(yesterday));
    past.attest_to = Some(day(yesterday));
    refused(plan(&app, ANTWERP, past).await.unwrap_err(), "details.date");
    refused(
        plan(&app, ANTWERP, details(0)).await.unwrap_err(),
        "details.capacity",
    );
    let no_range = pb::CeremonyDetails {
        kind: pb::CeremonyKind::Youth as i32,
        ..details(10)
    };
    refused(
        plan(&app, ANTWERP, no_range).await.unwrap_err(),
        "details.min_age",
    );
    // 11999 is no municipality; Borsbeek (11007) was merged into Antwerp.
    let s = app
        .ceremonies()
        .await
        .plan_ceremony(authed(
            pb::PlanCeremonyRequest {
                municipality_nis: "11999".into(),
                details: Some(details(10)),
            },
            &organiser(&app, "11999"),
        ))
        .await
        .unwrap_err();
    refused(s, "municipality_nis");
    let s = app
        .ceremonies()
        .await
        .plan_ceremony(authed(
            pb::PlanCeremonyRequest {
                municipality_nis: "11007".into(),
                details: Some(details(10)),
            },
            &organiser(&app, "11007"),
        ))
        .await
        .unwrap_err();
    refused(s, "municipality_nis");
    assert_eq!(
        scalar(&app.ceremonies_db, "select count(*) from ceremony").await,
        0,
        "nothing of the refused plans was stored"
    );
}

#[tokio::test]
async fn an_organiser_of_another_municipality_is_refused_on_every_rpc() {
    let app = spawn_app().await;
    let ceremony = plan(&app, ANTWERP, details(10)).await.unwrap();
    let id = ceremony.ceremony_id.clone();
    let ghent = organiser(&app, GHENT);
    let mut c = app.ceremonies().await;
    let not_found = |r: Result<(), tonic::Status>, rpc: &str| {
        let s = r.expect_err(rpc);
        assert_eq!(s.code(), Code::NotFound, "{rpc}: {s:?}");
    };
    let denied = |r: Result<(), tonic::Status>, rpc: &str| {
        let s = r.expect_err(rpc);
        assert_eq!(s.code(), Code::PermissionDenied, "{rpc}: {s:?}");
    };
    let person = uuid::Uuid::now_v7().to_string();
    denied(
        c.plan_ceremony(authed(
            pb::PlanCeremonyRequest {
                municipality_nis: ANTWERP.into(),
                details: Some(details(10)),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "PlanCeremony",
    );
    not_found(
        c.change_ceremony(authed(
            pb::ChangeCeremonyRequest {
                ceremony_id: id.clone(),
                details: Some(details(20)),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "ChangeCeremony",
    );
    not_found(
        c.cancel_ceremony(authed(
            pb::CancelCeremonyRequest {
                ceremony_id: id.clone(),
                reason: "x".into(),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "CancelCeremony",
    );
    not_found(
        c.close_ceremony(authed(
            pb::CloseCeremonyRequest {
                ceremony_id: id.clone(),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "CloseCeremony",
    );
    not_found(
        c.get_ceremony(authed(
            pb::GetCeremonyRequest {
                ceremony_id: id.clone(),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "GetCeremony",
    );
    denied(
        c.list_ceremonies(authed(
            pb::ListCeremoniesRequest {
                page: None,
                municipality_nis: ANTWERP.into(),
                year: 0,
            },
            &ghent,
        ))
        .await
        .map(drop),
        "ListCeremonies",
    );
    let own = c
        .list_ceremonies(authed(
            pb::ListCeremoniesRequest {
                page: None,
                municipality_nis: String::new(),
                year: 0,
            },
            &ghent,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(own.ceremonies.is_empty(), "Ghent sees only its own");
    not_found(
        c.send_invitations(authed(
            pb::SendInvitationsRequest {
                ceremony_id: id.clone(),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "SendInvitations",
    );
    not_found(
        c.list_invitations(authed(
            pb::ListInvitationsRequest {
                ceremony_id: id.clone(),
                page: None,
            },
            &ghent,
        ))
        .await
        .map(drop),
        "ListInvitations",
    );
    not_found(
        c.record_rsvp(authed(
            pb::RecordRsvpRequest {
                ceremony_id: id.clone(),
                person_id: person.clone(),
                rsvp: pb::Rsvp::Yes as i32,
                guests: 0,
            },
            &ghent,
        ))
        .await
        .map(drop),
        "RecordRsvp",
    );
    not_found(
        c.record_attendance(authed(
            pb::RecordAttendanceRequest {
                ceremony_id: id.clone(),
                person_id: person.clone(),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "RecordAttendance",
    );
    not_found(
        c.add_ambassador(authed(
            pb::AddAmbassadorRequest {
                ceremony_id: id.clone(),
                display_name: "Samira".into(),
                consent_given_on: Some(day(today())),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "AddAmbassador",
    );
    not_found(
        c.list_ambassadors(authed(
            pb::ListAmbassadorsRequest {
                ceremony_id: id.clone(),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "ListAmbassadors",
    );
    // Antwerp's ambassador, withdrawn by Ghent: unknown to Ghent.
    let antwerp = organiser(&app, ANTWERP);
    let ambassador = c
        .add_ambassador(authed(
            pb::AddAmbassadorRequest {
                ceremony_id: id.clone(),
                display_name: "Samira".into(),
                consent_given_on: Some(day(today())),
            },
            &antwerp,
        ))
        .await
        .unwrap()
        .into_inner()
        .ambassador
        .unwrap();
    not_found(
        c.withdraw_ambassador_consent(authed(
            pb::WithdrawAmbassadorConsentRequest {
                ambassador_id: ambassador.ambassador_id.clone(),
            },
            &ghent,
        ))
        .await
        .map(drop),
        "WithdrawAmbassadorConsent",
    );
    denied(
        c.get_report(authed(
            pb::GetReportRequest {
                year: today().year(),
                municipality_nis: ANTWERP.into(),
                agency: 0,
            },
            &ghent,
        ))
        .await
        .map(drop),
        "GetReport",
    );

    // The agency of the area reads the ceremony, not its invitees; the monitor neither.
    let atlas = app.token("atlas", &["case-worker"]);
    c.get_ceremony(authed(
        pb::GetCeremonyRequest {
            ceremony_id: id.clone(),
        },
        &atlas,
    ))
    .await
    .expect("Atlas reads Antwerp's ceremonies");
    let s = c
        .list_invitations(authed(
            pb::ListInvitationsRequest {
                ceremony_id: id.clone(),
                page: None,
            },
            &atlas,
        ))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    let in_gent = app.token("in-gent", &["case-worker"]);
    let s = c
        .get_ceremony(authed(
            pb::GetCeremonyRequest {
                ceremony_id: id.clone(),
            },
            &in_gent,
        ))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound);
    let monitor = app.token("agii", &["monitor"]);
    let s = c
        .get_ceremony(authed(
            pb::GetCeremonyRequest {
                ceremony_id: id.clone(),
            },
            &monitor,
        ))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);

    // Consent withdrawn by Antwerp: the name is gone, the record stays.
    let withdrawn = c
        .withdraw_ambassador_consent(authed(
            pb::WithdrawAmbassadorConsentRequest {
                ambassador_id: ambassador.ambassador_id.clone(),
            },
            &antwerp,
        ))
        .await
        .unwrap()
        .into_inner()
        .ambassador
        .unwrap();
    assert_eq!(withdrawn.display_name, "");
    assert!(withdrawn.consent_withdrawn_on.is_some());
    let again = c
        .withdraw_ambassador_consent(authed(
            pb::WithdrawAmbassadorConsentRequest {
                ambassador_id: ambassador.ambassador_id,
            },
            &antwerp,
        ))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
}

const OVERVIEW_2019: &str = "\
year,municipality,kind,invitations,participants,reported_rate
2019,Antwerpen,integration,120,40,33
2019,Gent,integration,200,34,17%
2019,Leuven,integration,50,40,80
2019,Mechelen,integration,,,45
2019,Sint-Niklaas,integration,80,30,50
2019,Aalst,integration,60,,
2019,Genk,youth,100,98,98
";

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(inburgering_testkit::workspace_binary("inburgering"))
        .arg("ceremonies")
        .args(args)
        .env(
            "INBURGERING_DATABASE_URL",
            app.ceremonies_db.expose_secret(),
        )
        .env("INBURGERING_LOG", "warn")
        .output()
        .expect("run inburgering")
}

#[tokio::test]
async fn an_imported_overview_shows_missing_as_missing_and_flags_inconsistent_rows() {
    let app = spawn_app().await;
    let dir = tempfile_dir();
    let good = dir.join("overview-2019.csv");
    std::fs::write(&good, OVERVIEW_2019).unwrap();
    let first = cli(&app, &["import", good.to_str().unwrap()]);
    assert!(first.status.success(), "{first:?}");
    assert!(String::from_utf8_lossy(&first.stdout).contains("7 rows, 7 new"));
    let second = cli(&app, &["import", good.to_str().unwrap()]);
    assert!(second.status.success(), "{second:?}");
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("0 new, 0 changed, 7 unchanged"),
        "importing the same file twice changes nothing: {second:?}"
    );

    // Each bad file: refused naming its line and field, and nothing of it imported.
    for (body, line_and_field) in [
        (
            "year,gemeente,kind,invitations,participants,reported_rate\n",
            "line 1, field header",
        ),
        (
            "2019,Hasselt,integration,veel,10,\n",
            "line 2, field invitations",
        ),
        (
            "2019,Hasselt,integration,-4,10,\n",
            "line 2, field invitations",
        ),
        (
            "2019,Hasselt,integration,40,10,120\n",
            "line 2, field reported_rate",
        ),
        (
            "2019,Hasselt,integration,40,10,25\n2019,Atlantis,integration,1,1,\n",
            "line 3, field municipality",
        ),
    ] {
        let text = if body.starts_with("year") {
            body.to_owned()
        } else {
            format!("year,municipality,kind,invitations,participants,reported_rate\n{body}")
        };
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, text).unwrap();
        let out = cli(&app, &["import", bad.to_str().unwrap()]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(line_and_field),
            "{line_and_field}: {stderr}"
        );
        assert!(stderr.contains("nothing imported"), "{stderr}");
    }
    assert_eq!(
        scalar(&app.ceremonies_db, "select count(*) from overview").await,
        7,
        "Hasselt's good line of the last file was not imported either"
    );

    let report = app
        .ceremonies()
        .await
        .get_report(authed(
            pb::GetReportRequest {
                year: 2019,
                municipality_nis: String::new(),
                agency: 0,
            },
            &app.token("agii", &["monitor"]),
        ))
        .await
        .unwrap()
        .into_inner();
    let row = |name: &str| {
        report
            .rows
            .iter()
            .find(|r| r.municipality_name == name)
            .unwrap_or_else(|| panic!("{name}'s row"))
    };
    // 40/120 = 33.3%: 33 is rounding. 34/200 = 17%. 40/50 = 80%.
    for name in ["Antwerpen", "Gent", "Leuven"] {
        assert!(!row(name).inconsistent, "{name}");
    }
    assert_eq!(row("Antwerpen").computed_rate_percent, Some(33));
    // 30/80 = 37.5%, published as 50%.
    assert!(row("Sint-Niklaas").inconsistent);
    assert_eq!(row("Sint-Niklaas").computed_rate_percent, Some(38));
    // No counts: nothing computed, nothing zero, the reported 45% kept.
    let mechelen = row("Mechelen");
    assert_eq!(
        (
            mechelen.invitations,
            mechelen.participants,
            mechelen.computed_rate_percent
        ),
        (None, None, None)
    );
    assert_eq!(mechelen.reported_rate_basis_points, Some(4_500));
    assert!(
        !mechelen.inconsistent,
        "a rate without counts cannot be checked"
    );
    let aalst = row("Aalst");
    assert_eq!((aalst.invitations, aalst.participants), (Some(60), None));
    assert_eq!(aalst.computed_rate_percent, None);
    assert_eq!(row("Genk").kind(), pb::CeremonyKind::Youth);
    // AgII's integration ceremonies: Leuven, Mechelen, Sint-Niklaas and Aalst; two miss
    // counts, so the total misses them too.
    let agii = report
        .totals
        .iter()
        .find(|t| t.agency() == common::Agency::Agii && t.kind() == pb::CeremonyKind::Integration)
        .expect("AgII's total");
    assert_eq!(agii.rows, 4);
    assert_eq!(agii.invitations, None);
    assert_eq!(agii.rows_with_missing_counts, 2);
    assert_eq!(agii.inconsistent_rows, 1);

    // The same as CSV; a missing count is an empty cell.
    let out = cli(&app, &["report", "--year", "2019"]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("year,municipality_nis,municipality,agency,kind,source,"));
    let mechelen = csv.lines().find(|l| l.contains(",Mechelen,")).unwrap();
    assert_eq!(
        mechelen,
        "2019,12025,Mechelen,agii,integration,imported,,,,,45,no,"
    );
    let sint_niklaas = csv.lines().find(|l| l.contains(",Sint-Niklaas,")).unwrap();
    assert!(
        sint_niklaas.ends_with(",80,30,38,50,yes,"),
        "{sint_niklaas}"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ceremonies-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
