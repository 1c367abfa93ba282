//! The auth matrix: every way a token can be wrong, against the dev issuer and against
//! the independent oidc-provider.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use inburgering_testkit::{Issuer, TestApp, authed, oidc, spawn_app, spawn_app_with};
use jsonwebtoken::{EncodingKey, Header};
use proto::trajectories::v1 as pb;
use serde_json::{Value, json};
use tonic::{Code, Request, Status};

async fn list_with(
    app: &TestApp,
    request: Request<pb::ListTrajectoriesRequest>,
) -> Result<(), Status> {
    app.trajectories()
        .await
        .list_trajectories(request)
        .await
        .map(|_| ())
}

async fn call(app: &TestApp, token: &str) -> Result<(), Status> {
    list_with(app, authed(pb::ListTrajectoriesRequest::default(), token)).await
}

fn refused(result: Result<(), Status>, code: Code, reason: &str) {
    let status = result.expect_err("must be refused");
    assert_eq!(status.code(), code, "{}", status.message());
    assert!(
        status.message().contains(reason),
        "{:?} should contain {reason:?}",
        status.message()
    );
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let claims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (header, claims, it.next().unwrap().to_owned())
}

/// The token with other claims but the original signature.
fn tampered(token: &str) -> String {
    let (header, mut claims, signature) = parts(token);
    claims["realm_access"]["roles"] = json!(["case-worker", "platform-admin"]);
    format!("{}.{}.{signature}", b64(&header), b64(&claims))
}

/// The token's claims with `alg: none` and no signature.
fn unsigned(token: &str) -> String {
    let (_, claims, _) = parts(token);
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    )
}

/// The token's claims signed HS256 with the issuer's public key as the secret: the
/// classic key-confusion attack.
fn hs256_with_public_key(token: &str, public_pem: &str) -> String {
    let (header, claims, _) = parts(token);
    let mut forged = Header::new(jsonwebtoken::Algorithm::HS256);
    forged.kid = header["kid"].as_str().map(str::to_owned);
    jsonwebtoken::encode(
        &forged,
        &claims,
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .expect("HS256 signs")
}

#[tokio::test]
async fn every_bad_token_from_the_dev_issuer_is_refused_with_its_reason() {
    let app = spawn_app().await;
    let issuer = &app.dev_issuer;
    let valid = app.atlas();
    call(&app, &valid).await.expect("a valid token passes");

    refused(
        list_with(&app, Request::new(pb::ListTrajectoriesRequest::default())).await,
        Code::Unauthenticated,
        "no bearer token",
    );
    refused(
        call(&app, "not-a-jwt").await,
        Code::Unauthenticated,
        "malformed",
    );
    refused(
        call(&app, &tampered(&valid)).await,
        Code::Unauthenticated,
        "signature",
    );
    refused(
        call(&app, &unsigned(&valid)).await,
        Code::Unauthenticated,
        "",
    );
    refused(
        call(
            &app,
            &hs256_with_public_key(&valid, &issuer.public_key_pem()),
        )
        .await,
        Code::Unauthenticated,
        "HS256",
    );

    let claims = |change: &dyn Fn(&mut Value)| {
        let mut c = issuer.claims(
            "s",
            json!(["atlas"]),
            &["case-worker"],
            Duration::from_secs(300),
        );
        change(&mut c);
        issuer.sign(&c)
    };
    refused(
        call(
            &app,
            &claims(&|c| c["iss"] = json!("http://127.0.0.1:1/realms/inburgering")),
        )
        .await,
        Code::Unauthenticated,
        "another issuer",
    );
    refused(
        call(&app, &claims(&|c| c["aud"] = json!("account"))).await,
        Code::Unauthenticated,
        "audience",
    );
    let past = chrono::Utc::now().timestamp() - 120;
    refused(
        call(&app, &claims(&|c| c["exp"] = json!(past))).await,
        Code::Unauthenticated,
        "expired",
    );
    let future = chrono::Utc::now().timestamp() + 600;
    refused(
        call(&app, &claims(&|c| c["nbf"] = json!(future))).await,
        Code::Unauthenticated,
        "not valid yet",
    );
    // Within the 30 s leeway an expired token still passes: clocks drift.
    let just = chrono::Utc::now().timestamp() - 5;
    call(&app, &claims(&|c| c["exp"] = json!(just)))
        .await
        .expect("within leeway");

    let stranger =
        platform::auth::DevIssuer::generate(issuer.issuer(), issuer.audience()).expect("key");
    refused(
        call(&app, &stranger.token("atlas", &["case-worker"])).await,
        Code::Unauthenticated,
        "key the issuer does not publish",
    );

    refused(
        call(&app, &app.token("atlas", &["monitor"])).await,
        Code::PermissionDenied,
        "case-worker",
    );
    refused(
        call(&app, &app.token("ggc", &["case-worker"])).await,
        Code::PermissionDenied,
        "ggc",
    );
    refused(
        call(&app, &claims(&|c| c["organization"] = json!([]))).await,
        Code::PermissionDenied,
        "no organisation",
    );

    let metrics = platform::metrics::render();
    for reason in [
        "missing_token",
        "bad_signature",
        "expired",
        "wrong_audience",
        "unknown_key",
        "missing_role",
    ] {
        assert!(
            metrics.contains(&format!("auth_refusals_total{{reason=\"{reason}\"}}")),
            "{reason} counted:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn a_token_with_several_organisations_acts_for_the_one_named_in_metadata() {
    let app = spawn_app().await;
    let issuer = &app.dev_issuer;
    let token = issuer.sign(&issuer.claims(
        "s",
        json!({"agii": {"kind": ["agency"]}, "bon": {"kind": ["agency"]}}),
        &["case-worker"],
        Duration::from_secs(300),
    ));
    refused(
        call(&app, &token).await,
        Code::PermissionDenied,
        "several organisations",
    );
    let with = |org: &str| {
        let mut r = authed(pb::ListTrajectoriesRequest::default(), &token);
        r.metadata_mut()
            .insert("x-organization", org.parse().unwrap());
        r
    };
    list_with(&app, with("bon")).await.expect("bon is held");
    refused(
        list_with(&app, with("atlas")).await,
        Code::PermissionDenied,
        "does not hold",
    );
}

#[tokio::test]
async fn health_and_reflection_need_no_token() {
    let app = spawn_app().await;
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{}", app.trajectories_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut health = tonic_health_client(channel);
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "inburgering.trajectories.v1.TrajectoryService".into(),
        })
        .await
        .expect("health answers without a token")
        .into_inner();
    assert_eq!(
        reply.status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );
}

fn tonic_health_client(
    channel: tonic::transport::Channel,
) -> tonic_health::pb::health_client::HealthClient<tonic::transport::Channel> {
    tonic_health::pb::health_client::HealthClient::new(channel)
}

#[tokio::test]
async fn tokens_of_the_independent_oidc_provider_are_accepted_and_bad_ones_refused() {
    let app = spawn_app_with(Issuer::OidcProvider).await;
    // Keycloak's map form and list form of `organization`.
    let atlas = oidc::provider_token("atlas-backoffice").await;
    call(&app, &atlas).await.expect("map-form organisation");
    let gent = oidc::provider_token("in-gent-backoffice").await;
    call(&app, &gent).await.expect("list-form organisation");

    refused(
        call(&app, &tampered(&atlas)).await,
        Code::Unauthenticated,
        "signature",
    );
    refused(
        call(&app, &unsigned(&atlas)).await,
        Code::Unauthenticated,
        "",
    );
    refused(
        call(&app, &oidc_hs256(&atlas).await).await,
        Code::Unauthenticated,
        "HS256",
    );
    // A token from another issuer (our dev issuer) is unknown here.
    refused(call(&app, &app.atlas()).await, Code::Unauthenticated, "");
    refused(
        call(&app, &oidc::provider_token("no-roles").await).await,
        Code::PermissionDenied,
        "case-worker",
    );
    refused(
        call(&app, &oidc::provider_token("ggc-exchange").await).await,
        Code::PermissionDenied,
        "",
    );
    let multi = oidc::provider_token("multi-org").await;
    refused(
        call(&app, &multi).await,
        Code::PermissionDenied,
        "several organisations",
    );
    let mut request = authed(pb::ListTrajectoriesRequest::default(), &multi);
    request
        .metadata_mut()
        .insert("x-organization", "bon".parse().unwrap());
    list_with(&app, request)
        .await
        .expect("x-organization picks bon");
}

/// HS256 over the provider's token with the provider's RSA public key (from its JWKS).
async fn oidc_hs256(token: &str) -> String {
    use rsa::{
        BigUint, RsaPublicKey,
        pkcs8::{EncodePublicKey, LineEnding},
    };
    let body = openidconnect::reqwest::get(format!(
        "{}/protocol/openid-connect/certs",
        oidc::provider_issuer()
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let jwks: Value = serde_json::from_slice(&body).unwrap();
    let key = &jwks["keys"][0];
    let n = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap());
    let e = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap());
    let pem = RsaPublicKey::new(n, e)
        .unwrap()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    hs256_with_public_key(token, &pem)
}

#[tokio::test]
async fn a_municipality_officer_of_the_independent_provider_acts_for_its_own_nis_only() {
    use proto::municipalities::v1 as mpb;
    let app = spawn_app_with(Issuer::OidcProvider).await;
    let officer = oidc::provider_token("municipality-11002-officer").await;
    let mut client = app.municipalities().await;
    let list = |nis: &str| {
        authed(
            mpb::ListOffersRequest {
                municipality_nis: nis.into(),
                ..Default::default()
            },
            &officer,
        )
    };
    client
        .list_offers(list("11002"))
        .await
        .expect("its own municipality, from the nis attribute");
    refused(
        client.list_offers(list("44021")).await.map(|_| ()),
        Code::PermissionDenied,
        "municipality 44021 is outside organisation municipality-11002",
    );
    // A monitor sees aggregates, and holds no case worker's or officer's rights.
    let monitor = oidc::provider_token("agii-monitor").await;
    client
        .get_local_monitor(authed(
            mpb::GetLocalMonitorRequest {
                municipality_nis: "44021".into(),
                year: 2026,
            },
            &monitor,
        ))
        .await
        .expect("the monitor role");
    refused(
        client
            .list_offers(authed(
                mpb::ListOffersRequest {
                    municipality_nis: "24062".into(),
                    ..Default::default()
                },
                &monitor,
            ))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "municipality-officer",
    );
}

#[tokio::test]
async fn a_ceremony_organiser_of_the_independent_provider_organises_its_own_municipality_only() {
    use proto::ceremonies::v1 as cpb;
    let app = spawn_app_with(Issuer::OidcProvider).await;
    let organiser = oidc::provider_token("municipality-11002-organiser").await;
    let mut client = app.ceremonies().await;
    let list = |nis: &str, token: &str| {
        authed(
            cpb::ListCeremoniesRequest {
                municipality_nis: nis.into(),
                ..Default::default()
            },
            token,
        )
    };
    client
        .list_ceremonies(list("11002", &organiser))
        .await
        .expect("its own municipality, from the nis attribute");
    refused(
        client
            .list_ceremonies(list("44021", &organiser))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "municipality 44021 is outside organisation municipality-11002",
    );
    // A municipality officer is not its ceremony organiser.
    let officer = oidc::provider_token("municipality-11002-officer").await;
    refused(
        client
            .list_ceremonies(list("11002", &officer))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "ceremony-organiser",
    );
}

#[tokio::test]
async fn recruitment_officers_and_municipality_officers_of_the_independent_provider_see_their_own_area()
 {
    use proto::recruitment::v1 as rpb;
    let app = spawn_app_with(Issuer::OidcProvider).await;
    let bon = oidc::provider_token("bon-recruitment-officer").await;
    let schaerbeek = oidc::provider_token("municipality-21015-officer").await;
    let mut client = app.recruitment().await;
    let plan = |nis: &str, token: &str| {
        authed(
            rpb::CreateLocalPlanRequest {
                municipality_nis: nis.into(),
                year: 2024,
            },
            token,
        )
    };
    client
        .create_local_plan(plan("21015", &bon))
        .await
        .expect("Bon agrees a plan with a Brussels municipality");
    refused(
        client
            .create_local_plan(plan("11002", &bon))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "outside the area of bon",
    );
    let get = |nis: &str, token: &str| {
        authed(
            rpb::GetLocalPlanRequest {
                municipality_nis: nis.into(),
                year: 2024,
            },
            token,
        )
    };
    client
        .get_local_plan(get("21015", &schaerbeek))
        .await
        .expect("Schaerbeek reads its own plan, from the nis attribute");
    refused(
        client
            .get_local_plan(get("21004", &schaerbeek))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "outside the area of municipality-21015",
    );
    refused(
        client
            .create_local_plan(plan("21015", &schaerbeek))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "recruitment-officer",
    );
    refused(
        client
            .list_newcomers(authed(rpb::ListNewcomersRequest::default(), "not-a-jwt"))
            .await
            .map(|_| ()),
        Code::Unauthenticated,
        "malformed",
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interpreting_roles_of_the_independent_provider_request_and_coordinate_each_their_own() {
    use proto::interpreting::v1 as ipb;
    let app = spawn_app_with(Issuer::OidcProvider).await;
    let requester = oidc::provider_token("ocmw-antwerpen-interpreting-requester").await;
    let coordinator = oidc::provider_token("atlas-interpreting-coordinator").await;
    let mut client = app.interpreting().await;
    let starts_at = chrono::Utc::now() + chrono::Duration::days(2);
    let ask = ipb::RequestInterpretingRequest {
        municipality_nis: "11002".into(),
        language: "ti".into(),
        mode: ipb::Mode::Video as i32,
        starts_at: Some(wire::timestamp(starts_at)),
        duration_minutes: 45,
        purpose: "school meeting".into(),
        ..Default::default()
    };
    let asked = client
        .request_interpreting(authed(ask.clone(), &requester))
        .await
        .expect("a requester of ocmw-antwerpen asks")
        .into_inner()
        .request
        .unwrap();
    assert_eq!(asked.requester, "ocmw-antwerpen");
    // The coordinator of Atlas sees it (Antwerp is Atlas's area) but may not ask; the
    // requester may not read the interpreter pool.
    let seen = client
        .list_requests(authed(ipb::ListRequestsRequest::default(), &coordinator))
        .await
        .expect("the coordinator's area")
        .into_inner()
        .requests;
    assert_eq!(seen.len(), 1);
    refused(
        client
            .request_interpreting(authed(ask, &coordinator))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "interpreting-requester",
    );
    refused(
        client
            .list_interpreters(authed(ipb::ListInterpretersRequest::default(), &requester))
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        "interpreting-coordinator",
    );
    drop(client);
    app.stop().await;
}

/// Reflection on each port lists that server's own services (and health), never another
/// service of the platform: `grpcurl list` on testing's port shows no TrajectoryService.
#[tokio::test]
async fn reflection_lists_only_the_services_each_server_serves() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let app = spawn_app().await;
    let ports = [
        (app.trajectories_addr, "inburgering.trajectories.v1."),
        (app.testing_addr, "inburgering.testing.v1."),
        (app.municipalities_addr, "inburgering.municipalities.v1."),
        (app.ceremonies_addr, "inburgering.ceremonies.v1."),
        (app.recruitment_addr, "inburgering.recruitment.v1."),
        (app.interpreting_addr, "inburgering.interpreting.v1."),
    ];
    for (addr, own) in ports {
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut replies = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .expect("reflection answers without a token")
            .into_inner();
        let reply = replies
            .message()
            .await
            .expect("a reflection reply")
            .expect("one reply");
        let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
            panic!("{addr}: not a service list: {reply:?}");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        assert!(
            names.iter().any(|n| n.starts_with(own)),
            "{addr} lists its own services: {names:?}"
        );
        assert!(
            names.iter().any(|n| n == "grpc.health.v1.Health"),
            "{addr} lists health: {names:?}"
        );
        let foreign: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with("inburgering.") && !n.starts_with(own))
            .collect();
        assert!(foreign.is_empty(), "{addr} advertises {foreign:?}");
    }
}
