//! Objects of one organisation are never returned to, nor changed by, another (BOLA): the
//! owners create one object of every kind, then every RPC is called by every caller the
//! matrix admits from another organisation, with every id field of the request set to the
//! owners' objects; afterwards the owners read their objects back unchanged.

use std::collections::BTreeMap;

use futures::{StreamExt, stream};
use inburgering_testkit::{
    TestApp, municipality_officer, national_number, placed, register_start_sign, spawn_app,
};
use prost_reflect::{DynamicMessage, Kind, ReflectMessage, Value as Field};
use serde_json::{Value, json};
use tonic::Code;

use super::{
    dynamic::{Channels, methods, rpc_name},
    matrix::MATRIX,
};

/// The organisations that own the objects: Atlas (Antwerp's agency), the municipality of
/// Antwerp, and OCMW Antwerpen (an interpreting requester outside the matrix's list).
const OWNERS: [&str; 2] = ["atlas", "municipality-11002"];
const ANTWERP: &str = "11002";

async fn call(
    channels: &Channels,
    rpc: &str,
    body: Value,
    token: &str,
) -> Result<Value, tonic::Status> {
    let method = methods()
        .into_iter()
        .find(|m| rpc_name(m) == rpc)
        .unwrap_or_else(|| panic!("no RPC {rpc}"));
    let message = DynamicMessage::deserialize(method.input(), body)
        .unwrap_or_else(|e| panic!("{rpc} request: {e}"));
    let reply = channels.call(&method, message, Some(token)).await?;
    Ok(serde_json::to_value(&reply).expect("a reply serialises"))
}

async fn created(channels: &Channels, rpc: &str, body: Value, token: &str, id: &str) -> String {
    let reply = call(channels, rpc, body, token)
        .await
        .unwrap_or_else(|e| panic!("{rpc}: {e}"));
    find(&reply, id).unwrap_or_else(|| panic!("{rpc} returned no {id}: {reply}"))
}

/// The first string under key `key` anywhere in `value`.
fn find(value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(|v| find(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find(v, key)),
        _ => None,
    }
}

/// The owners' objects: per package, the request field that names each and its value.
struct Victims {
    ids: BTreeMap<(String, String), String>,
    /// What must never appear in another organisation's reply.
    secrets: Vec<String>,
    /// The owners' reads of their objects: (rpc, request, token).
    reads: Vec<(&'static str, Value, String)>,
}

async fn victims(app: &TestApp, channels: &Channels) -> Victims {
    let signed = register_start_sign(app, 551_001_001).await;
    let officer = municipality_officer(app, ANTWERP);
    let placement_id = placed(app, ANTWERP, &signed.person_id).await;
    let placement = call(
        channels,
        "inburgering.municipalities.v1.MunicipalityService/GetPlacement",
        json!({"placement_id": placement_id}),
        &officer,
    )
    .await
    .expect("the officer reads the placement");
    let offer_id = find(&placement, "offerId").expect("a placement names its offer");
    let contact_id = created(
        channels,
        "inburgering.municipalities.v1.MunicipalityService/AddContact",
        json!({"municipality_nis": ANTWERP, "function": "integratieambtenaar", "work_email": "integratie@antwerpen.example"}),
        &officer,
        "contactId",
    )
    .await;
    let organiser = app.token("municipality-11002", &["ceremony-organiser"]);
    let today = platform::clock::today();
    let day = |d: chrono::NaiveDate| {
        use chrono::Datelike;
        json!({"year": d.year(), "month": d.month(), "day": d.day()})
    };
    let ceremony_id = created(
        channels,
        "inburgering.ceremonies.v1.CeremonyService/PlanCeremony",
        json!({"municipality_nis": ANTWERP, "details": {
            "kind": "CEREMONY_KIND_INTEGRATION", "date": day(today), "place": "Stadhuis",
            "host": "HOST_MAYOR", "capacity": 20,
            "attest_from": day(today - chrono::Days::new(30)), "attest_to": day(today)}}),
        &organiser,
        "ceremonyId",
    )
    .await;
    let recruiter = app.token("atlas", &["recruitment-officer"]);
    let plan_id = created(
        channels,
        "inburgering.recruitment.v1.RecruitmentService/CreateLocalPlan",
        json!({"municipality_nis": ANTWERP, "year": 2026}),
        &recruiter,
        "planId",
    )
    .await;
    let campaign_id = created(
        channels,
        "inburgering.recruitment.v1.RecruitmentService/LaunchCampaign",
        json!({"name": "Welkom in Antwerpen", "target_groups": ["TARGET_GROUP_OBLIGED"],
               "channels": ["CHANNEL_FLYERS"], "starts_on": day(today),
               "ends_on": day(today + chrono::Days::new(60)), "municipality_nis": [ANTWERP]}),
        &recruiter,
        "campaignId",
    )
    .await;
    let coordinator = app.token("atlas", &["interpreting-coordinator"]);
    let interpreter_id = created(
        channels,
        "inburgering.interpreting.v1.InterpretingService/RegisterInterpreter",
        json!({"given_name": "Samira", "family_name": "Tolk", "email": "samira@tolk.example",
               "phone": "+32 470 00 00 00", "languages": ["ar"], "modes": ["MODE_PHONE"],
               "regions": ["REGION_ANTWERPEN"]}),
        &coordinator,
        "interpreterId",
    )
    .await;
    let ocmw = app.token("ocmw-antwerpen", &["interpreting-requester"]);
    let starts = chrono::Utc::now() + chrono::Days::new(3);
    let request_id = created(
        channels,
        "inburgering.interpreting.v1.InterpretingService/RequestInterpreting",
        json!({"municipality_nis": ANTWERP, "language": "ar", "mode": "MODE_PHONE",
               "starts_at": starts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
               "duration_minutes": 30, "person_id": signed.person_id, "purpose": "intake"}),
        &ocmw,
        "requestId",
    )
    .await;

    let t = "inburgering.trajectories.v1";
    let m = "inburgering.municipalities.v1";
    let c = "inburgering.ceremonies.v1";
    let r = "inburgering.recruitment.v1";
    let i = "inburgering.interpreting.v1";
    let s = "inburgering.testing.v1";
    let mut ids = BTreeMap::new();
    for package in [t, m, c, r, i, s] {
        ids.insert(
            (package.into(), "person_id".into()),
            signed.person_id.clone(),
        );
        ids.insert(
            (package.into(), "municipality_nis".into()),
            ANTWERP.to_owned(),
        );
    }
    ids.insert(
        (t.into(), "trajectory_id".into()),
        signed.trajectory_id.clone(),
    );
    ids.insert((m.into(), "offer_id".into()), offer_id.clone());
    ids.insert((m.into(), "placement_id".into()), placement_id.clone());
    ids.insert((m.into(), "contact_id".into()), contact_id.clone());
    ids.insert((c.into(), "ceremony_id".into()), ceremony_id.clone());
    ids.insert((r.into(), "plan_id".into()), plan_id.clone());
    ids.insert((r.into(), "campaign_id".into()), campaign_id.clone());
    ids.insert((i.into(), "interpreter_id".into()), interpreter_id.clone());
    ids.insert((i.into(), "request_id".into()), request_id.clone());

    let atlas = app.atlas();
    let reads = vec![
        (
            "inburgering.trajectories.v1.TrajectoryService/GetTrajectory",
            json!({"trajectory_id": signed.trajectory_id}),
            atlas,
        ),
        (
            "inburgering.municipalities.v1.MunicipalityService/GetPlacement",
            json!({"placement_id": placement_id}),
            officer.clone(),
        ),
        (
            "inburgering.municipalities.v1.MunicipalityService/GetOffer",
            json!({"offer_id": offer_id}),
            officer.clone(),
        ),
        (
            "inburgering.municipalities.v1.MunicipalityService/ListContacts",
            json!({"municipality_nis": ANTWERP}),
            officer,
        ),
        (
            "inburgering.ceremonies.v1.CeremonyService/GetCeremony",
            json!({"ceremony_id": ceremony_id}),
            organiser,
        ),
        (
            "inburgering.recruitment.v1.RecruitmentService/GetLocalPlan",
            json!({"municipality_nis": ANTWERP, "year": 2026}),
            recruiter.clone(),
        ),
        (
            "inburgering.recruitment.v1.RecruitmentService/ListCampaigns",
            json!({}),
            recruiter,
        ),
        (
            "inburgering.interpreting.v1.InterpretingService/GetInterpreter",
            json!({"interpreter_id": interpreter_id}),
            coordinator,
        ),
        (
            "inburgering.interpreting.v1.InterpretingService/GetRequest",
            json!({"request_id": request_id}),
            ocmw,
        ),
    ];
    // The interpreter pool is shared for matching (issue 11): every agency's coordinators
    // read an interpreter, but only the registering agency changes one — which the
    // snapshot checks.
    let secrets = ids
        .iter()
        .filter(|((_, field), _)| field != "municipality_nis" && field != "interpreter_id")
        .map(|(_, v)| v.clone())
        .chain([
            national_number(551_001_001).replace(['.', '-'], ""),
            "Haddad".into(),
        ])
        .collect();
    Victims {
        ids,
        secrets,
        reads,
    }
}

/// A request for `method` aimed at the victims' objects: every id field the victims have
/// is theirs; dates, times, numbers and enums get a plausible value so that more calls get
/// past validation to the ownership check.
fn aimed(input: prost_reflect::MessageDescriptor, victims: &Victims) -> DynamicMessage {
    let package = input.package_name().to_owned();
    let mut message = DynamicMessage::new(input.clone());
    for field in input.fields() {
        let id = victims.ids.get(&(package.clone(), field.name().to_owned()));
        let value = match (field.kind(), field.is_list(), id) {
            (Kind::String, false, Some(id)) => Field::String(id.clone()),
            (Kind::String, true, Some(id)) => Field::List(vec![Field::String(id.clone())]),
            (Kind::Int32, false, _) => Field::I32(1),
            (Kind::Enum(_), false, _) => Field::EnumNumber(1),
            (Kind::Message(m), false, _) if m.full_name() == "inburgering.common.v1.Date" => {
                let mut date = DynamicMessage::new(m);
                let today = platform::clock::today();
                use chrono::Datelike;
                date.set_field_by_name("year", Field::I32(today.year()));
                date.set_field_by_name("month", Field::I32(today.month() as i32));
                date.set_field_by_name("day", Field::I32(today.day() as i32));
                Field::Message(date)
            }
            (Kind::Message(m), false, _) if m.full_name() == "google.protobuf.Timestamp" => {
                let at = prost_types::Timestamp {
                    seconds: (chrono::Utc::now() + chrono::Days::new(3)).timestamp(),
                    nanos: 0,
                };
                Field::Message(at.transcode_to_dynamic())
            }
            _ => continue,
        };
        message.set_field(&field, value);
    }
    message
}

async fn snapshot(channels: &Channels, victims: &Victims) -> Vec<Value> {
    let mut out = Vec::new();
    for (rpc, body, token) in &victims.reads {
        out.push(
            call(channels, rpc, body.clone(), token)
                .await
                .unwrap_or_else(|e| panic!("the owner reads {rpc}: {e}")),
        );
    }
    out
}

#[tokio::test]
async fn no_organisation_reads_or_changes_an_object_of_another() {
    let app = spawn_app().await;
    let channels = Channels::of(&app).await;
    let victims = victims(&app, &channels).await;
    let before = snapshot(&channels, &victims).await;

    let methods = methods();
    let mut cases = Vec::new();
    for method in &methods {
        let rpc = rpc_name(method);
        let allow = MATRIX
            .iter()
            .find(|(r, _)| *r == rpc)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("{rpc} is not in the matrix"));
        for (role, orgs) in allow {
            for org in orgs.iter().filter(|o| !OWNERS.contains(o)) {
                cases.push((method.clone(), *role, *org));
            }
        }
    }
    let total = cases.len();
    let outcomes: Vec<(String, String, Result<Value, tonic::Status>)> = stream::iter(cases)
        .map(|(method, role, org)| {
            let channels = channels.clone();
            let token = app.token(org, &[role.as_str()]);
            let request = aimed(method.input(), &victims);
            async move {
                let reply = channels
                    .call(&method, request, Some(&token))
                    .await
                    .map(|r| serde_json::to_value(&r).expect("a reply serialises"));
                (
                    rpc_name(&method),
                    format!("{} of {org}", role.as_str()),
                    reply,
                )
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;

    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut leaks = Vec::new();
    for (rpc, who, outcome) in &outcomes {
        let code = outcome.as_ref().map_or_else(|s| s.code(), |_| Code::Ok);
        *codes.entry(format!("{code:?}")).or_default() += 1;
        if let Ok(reply) = outcome {
            let text = reply.to_string();
            for secret in &victims.secrets {
                if text.contains(secret.as_str()) {
                    leaks.push(format!("{rpc} as {who} returned {secret}: {text}"));
                }
            }
        }
    }
    println!("BOLA: {total} calls by other organisations: {codes:?}");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
    let after = snapshot(&channels, &victims).await;
    for ((rpc, _, _), (was, is)) in victims.reads.iter().zip(before.iter().zip(&after)) {
        assert_eq!(was, is, "{rpc}: another organisation changed the object");
    }
    app.stop().await;
}
