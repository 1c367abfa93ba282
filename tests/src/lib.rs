//! The test kit: spawns the platform on real parts so a test reads like its scenario.
//!
//! Each app gets fresh PostgreSQL databases (one per service, migrated by the service),
//! its own broker process (`inburgering-broker` on a port of its own), and either the dev
//! issuer or the independent `oidc-provider` started by the test command. Nothing here is
//! a mock: the services are the real crates behind a real gRPC server.

pub mod broker;
pub mod capture;
pub mod caseload;
pub mod faults;
pub mod kafka;
pub mod oidc;
pub mod otlp;
pub mod postgres;
pub mod process;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use platform::{
    Config,
    auth::{DevIssuer, Verifier},
    runtime::{self, ServiceModule},
};
use proto::{
    ceremonies::v1::ceremony_service_client::CeremonyServiceClient,
    interpreting::v1::interpreting_service_client::InterpretingServiceClient,
    municipalities::v1::municipality_service_client::MunicipalityServiceClient,
    recruitment::v1::recruitment_service_client::RecruitmentServiceClient,
    testing::v1::testing_service_client::TestingServiceClient,
    trajectories::v1::trajectory_service_client::TrajectoryServiceClient,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tonic::{Request, metadata::MetadataValue, transport::Channel};

pub use broker::Broker;

/// Which issuer the app trusts.
#[derive(Debug, Clone)]
pub enum Issuer {
    /// The platform's own dev issuer, served by the test on a port of its own.
    Dev,
    /// The independent `oidc-provider` the test command starts.
    OidcProvider,
}

/// A running platform for one test.
pub struct TestApp {
    pub broker: Broker,
    pub config: Arc<Config>,
    /// The dev issuer (also present when the app trusts `oidc-provider`, to forge tokens
    /// that must fail).
    pub dev_issuer: Arc<DevIssuer>,
    pub trajectories_addr: SocketAddr,
    pub testing_addr: SocketAddr,
    pub municipalities_addr: SocketAddr,
    pub ceremonies_addr: SocketAddr,
    pub recruitment_addr: SocketAddr,
    pub interpreting_addr: SocketAddr,
    /// The trajectories database, for tests of what must be recorded but is served by no
    /// API (the audit of obligation checks).
    pub trajectories_db: secrecy::SecretString,
    /// The testing database, for checks of its candidates and bookings.
    pub testing_db: secrecy::SecretString,
    /// The municipalities database, for checks of what the monitor holds.
    pub municipalities_db: secrecy::SecretString,
    /// The ceremonies database, for checks of what it keeps (and never keeps).
    pub ceremonies_db: secrecy::SecretString,
    /// The recruitment database, for the operators' commands (register feed, letters)
    /// and checks of what it keeps (and erases).
    pub recruitment_db: secrecy::SecretString,
    /// The interpreting database, for checks of its bookings and its audit.
    pub interpreting_db: secrecy::SecretString,
    verifier: Arc<Verifier>,
    trajectories: Running,
    testing: Running,
    municipalities: Running,
    ceremonies: Running,
    recruitment: Running,
    interpreting: Running,
}

/// One service of a test app: how to stop it and wait for it.
/// A service served by the test kit; [`Running::stop`] drains and stops it.
pub struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), platform::PlatformError>>,
}

impl Running {
    /// Stops the service gracefully and waits for it; panics if it failed.
    pub async fn stop(self, name: &str) {
        self.shutdown.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{name} stopped with an error: {e}"),
            Err(e) => panic!("{name} panicked: {e}"),
        }
    }
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("trajectories", &self.trajectories_addr)
            .finish()
    }
}

/// Spawns every service trusting the dev issuer.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Issuer::Dev).await
}

/// Spawns every service trusting `issuer`, and waits until trajectories, ceremonies,
/// recruitment and interpreting hold the municipality register (from municipalities' events). Ceremonies
/// and recruitment call the trajectories of the same app. The
/// deadline sweep is off: the tests' trajectories start in January 2026 and a sweep would
/// report their deadlines; a test of the sweep turns it on in `config` and restarts
/// trajectories.
pub async fn spawn_app_with(issuer: Issuer) -> TestApp {
    spawn_app_configured(issuer, |_| {}).await
}

/// [`spawn_app_with`], with `tweak` applied to the services' config (a bench sizes the
/// pools to its concurrency).
pub async fn spawn_app_configured(issuer: Issuer, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(|_| postgres::admin_url(), issuer, tweak).await
}

/// [`spawn_app_configured`] with each service's database on the PostgreSQL server
/// `postgres_admin(service)` names (an admin URL): a [`postgres::Cluster`] a test may
/// crash.
pub async fn spawn_app_on(
    postgres_admin: impl Fn(&'static str) -> String,
    issuer: Issuer,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    capture::install();
    let broker = Broker::start().await;
    let (dev_issuer, issuer_url) = oidc::serve_dev_issuer().await;
    let issuer_url = match issuer {
        Issuer::Dev => issuer_url,
        Issuer::OidcProvider => oidc::provider_issuer(),
    };
    let config = Config {
        kafka_brokers: broker.address(),
        oidc_issuer: issuer_url.clone(),
        consumer_max_attempts: 3,
        breach_sweep_interval_secs: 0,
        // A group with lag that receives nothing for 10 s is stalled here: the suite's
        // drains are bounded at a minute, and a stall must be cured well within it.
        consumer_stall_secs: 10,
        ..Config::default()
    };
    let mut config = config;
    tweak(&mut config);
    let config = Arc::new(config);
    let verifier = Arc::new(Verifier::new(issuer_url, config.oidc_audience.clone()));
    let trajectories_db = postgres::fresh_database_at(&postgres_admin("trajectories")).await;
    let (trajectories_addr, trajectories) =
        start::<trajectories::Trajectories>(&config, &verifier, &trajectories_db).await;
    let testing_db = postgres::fresh_database_at(&postgres_admin("testing")).await;
    let (testing_addr, testing) = start::<testing::Testing>(&config, &verifier, &testing_db).await;
    let municipalities_db = postgres::fresh_database_at(&postgres_admin("municipalities")).await;
    let (municipalities_addr, municipalities) =
        start::<municipalities::Municipalities>(&config, &verifier, &municipalities_db).await;
    let ceremonies_db = postgres::fresh_database_at(&postgres_admin("ceremonies")).await;
    let ceremonies_config = Arc::new(Config {
        trajectories_url: format!("http://{trajectories_addr}"),
        ..(*config).clone()
    });
    let (ceremonies_addr, ceremonies) =
        start::<ceremonies::Ceremonies>(&ceremonies_config, &verifier, &ceremonies_db).await;
    let recruitment_db = postgres::fresh_database_at(&postgres_admin("recruitment")).await;
    let (recruitment_addr, recruitment) =
        start::<recruitment::Recruitment>(&ceremonies_config, &verifier, &recruitment_db).await;
    let interpreting_db = postgres::fresh_database_at(&postgres_admin("interpreting")).await;
    let (interpreting_addr, interpreting) =
        start::<interpreting::Interpreting>(&config, &verifier, &interpreting_db).await;
    wait_for_register(&trajectories_db, "trajectories").await;
    wait_for_register(&ceremonies_db, "ceremonies").await;
    wait_for_register(&recruitment_db, "recruitment").await;
    wait_for_register(&interpreting_db, "interpreting").await;
    TestApp {
        broker,
        config,
        dev_issuer,
        trajectories_addr,
        testing_addr,
        municipalities_addr,
        ceremonies_addr,
        recruitment_addr,
        interpreting_addr,
        trajectories_db,
        testing_db,
        municipalities_db,
        ceremonies_db,
        recruitment_db,
        interpreting_db,
        verifier,
        trajectories,
        testing,
        municipalities,
        ceremonies,
        recruitment,
        interpreting,
    }
}

/// Every code of the register shipped with municipalities: 565 municipalities and the 29
/// codes merged away in 2025.
pub const REGISTER_CODES: i64 = 565 + 29;

/// Waits until the projection of `service` (in its database `db`) holds the whole register.
async fn wait_for_register(db: &secrecy::SecretString, service: &str) {
    use sea_orm::{ConnectionTrait, Database, Statement};
    use secrecy::ExposeSecret;
    let db = Database::connect(db.expose_secret())
        .await
        .unwrap_or_else(|e| panic!("{service} database answers: {e}"));
    eventually(
        &format!("the municipality register in {service}"),
        Duration::from_secs(60),
        || {
            let db = db.clone();
            async move {
                let row = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        "select count(*) from municipality",
                    ))
                    .await
                    .ok()
                    .flatten()?;
                let count: i64 = row.try_get_by_index(0).ok()?;
                (count == REGISTER_CODES).then_some(())
            }
        },
    )
    .await;
    let _ = db.close().await;
}

/// Migrates `url` and serves `M` on a port of its own.
async fn start<M: ServiceModule>(
    config: &Arc<Config>,
    verifier: &Arc<Verifier>,
    url: &secrecy::SecretString,
) -> (SocketAddr, Running) {
    let prepared = runtime::prepare::<M>(config.clone(), url)
        .await
        .unwrap_or_else(|e| panic!("preparing {}: {e}", M::NAME));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("bound address");
    let verifier = verifier.clone();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        prepared
            .serve::<M>(listener, verifier, proto::FILE_DESCRIPTOR_SET, stop)
            .await
    });
    (addr, Running { shutdown, task })
}

impl TestApp {
    /// A dev-issuer token for one organisation and roles.
    pub fn token(&self, organisation: &str, roles: &[&str]) -> String {
        self.dev_issuer.token(organisation, roles)
    }

    /// An Atlas case worker's token.
    pub fn atlas(&self) -> String {
        self.token("atlas", &["case-worker"])
    }

    pub async fn trajectories(&self) -> TrajectoryServiceClient<Channel> {
        TrajectoryServiceClient::connect(format!("http://{}", self.trajectories_addr))
            .await
            .expect("trajectories answers")
    }

    pub async fn testing(&self) -> TestingServiceClient<Channel> {
        TestingServiceClient::connect(format!("http://{}", self.testing_addr))
            .await
            .expect("testing answers")
    }

    pub async fn municipalities(&self) -> MunicipalityServiceClient<Channel> {
        MunicipalityServiceClient::connect(format!("http://{}", self.municipalities_addr))
            .await
            .expect("municipalities answers")
    }

    pub async fn ceremonies(&self) -> CeremonyServiceClient<Channel> {
        CeremonyServiceClient::connect(format!("http://{}", self.ceremonies_addr))
            .await
            .expect("ceremonies answers")
    }

    pub async fn recruitment(&self) -> RecruitmentServiceClient<Channel> {
        RecruitmentServiceClient::connect(format!("http://{}", self.recruitment_addr))
            .await
            .expect("recruitment answers")
    }

    pub async fn interpreting(&self) -> InterpretingServiceClient<Channel> {
        InterpretingServiceClient::connect(format!("http://{}", self.interpreting_addr))
            .await
            .expect("interpreting answers")
    }

    /// Stops the services gracefully (drain, relay flush) and waits for them.
    pub async fn stop(self) {
        self.interpreting.stop("interpreting").await;
        self.recruitment.stop("recruitment").await;
        self.ceremonies.stop("ceremonies").await;
        self.trajectories.stop("trajectories").await;
        self.testing.stop("testing").await;
        self.municipalities.stop("municipalities").await;
    }

    /// A second trajectories server of this app on the database at `url` (the same
    /// database through a recording proxy, for the bench's capture of what a command
    /// sends), on a port of its own.
    pub async fn serve_trajectories_at(
        &self,
        url: &secrecy::SecretString,
    ) -> (SocketAddr, Running) {
        start::<trajectories::Trajectories>(&self.config, &self.verifier, url).await
    }

    /// Stops trajectories and starts it again on the same database and broker (on a new
    /// port; `trajectories()` connects to it):
    /// `between` runs while it is down (e.g. to rewind its consumer group).
    pub async fn restart_trajectories<F: Future<Output = ()>>(&mut self, between: F) {
        self.stop_trajectories().await;
        between.await;
        let (addr, restarted) = start::<trajectories::Trajectories>(
            &self.config,
            &self.verifier,
            &self.trajectories_db,
        )
        .await;
        self.trajectories_addr = addr;
        self.trajectories = restarted;
    }

    /// Stops the in-process trajectories (drained); `self.trajectories` becomes a
    /// finished placeholder.
    async fn stop_trajectories(&mut self) {
        let running = std::mem::replace(
            &mut self.trajectories,
            Running {
                shutdown: CancellationToken::new(),
                task: tokio::spawn(async { Ok(()) }),
            },
        );
        running.stop("trajectories").await;
    }

    /// Moves trajectories out of this process: stops the in-process server and serves
    /// the same database on the same address from `inburgering serve trajectories`, so
    /// that a test can SIGKILL it. Everything that called it keeps calling it there.
    pub async fn trajectories_as_process(&mut self) -> process::ServiceProcess {
        use secrecy::ExposeSecret;
        self.stop_trajectories().await;
        let c = &self.config;
        let data_dir = std::env::temp_dir().join("inburgering-process-data");
        let env = [
            (
                "DATABASE_URL",
                self.trajectories_db.expose_secret().to_owned(),
            ),
            (
                "DATABASE_MAX_CONNECTIONS",
                c.database_max_connections.to_string(),
            ),
            ("KAFKA_BROKERS", c.kafka_brokers.clone()),
            ("OIDC_ISSUER", c.oidc_issuer.clone()),
            ("OIDC_AUDIENCE", c.oidc_audience.clone()),
            ("GRPC_ADDR", self.trajectories_addr.to_string()),
            ("METRICS_ADDR", format!("127.0.0.1:{}", free_port())),
            ("CONSUMER_MAX_ATTEMPTS", c.consumer_max_attempts.to_string()),
            // Like a pod's name: the same after a restart of the process.
            (
                "CONSUMER_INSTANCE_ID",
                format!("trajectories-{}", self.trajectories_addr.port()),
            ),
            (
                "BREACH_SWEEP_INTERVAL_SECS",
                c.breach_sweep_interval_secs.to_string(),
            ),
            ("REQUEST_TIMEOUT_SECS", c.request_timeout_secs.to_string()),
            ("DATA_DIR", data_dir.display().to_string()),
            (
                "LOG",
                std::env::var("INBURGERING_TEST_PROCESS_LOG").unwrap_or_else(|_| "warn".to_owned()),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (format!("INBURGERING_{k}"), v))
        .collect();
        let mut process = process::ServiceProcess::new("trajectories", self.trajectories_addr, env);
        process.start().await;
        process
    }
}

/// A port the kernel considers free now (for a server that must know its port up front).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A binary of the workspace beside the running executable: `target/<profile>/<name>`
/// for a test (`target/<profile>/deps/it-…`) and for a bench (`target/<profile>/bench-…`).
/// The test command and `scripts/bench` build them first.
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let mut dir = exe.parent().expect("the executable's folder");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().expect("target/<profile>");
    }
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is missing: run the tests with scripts/test, which builds it",
        bin.display()
    );
    bin
}

/// One number (the first column of the first row of `sql`) from the database at `url`:
/// for checks of what a service keeps, or never keeps.
pub async fn scalar(url: &secrecy::SecretString, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    use secrecy::ExposeSecret;
    let db = Database::connect(url.expose_secret())
        .await
        .unwrap_or_else(|e| panic!("the database answers: {e}"));
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    let value = row
        .try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: not a number: {e}"));
    let _ = db.close().await;
    value
}

/// `message` with `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {token}")).expect("a JWT is valid metadata"),
    );
    request
}

/// Polls `check` until it returns `Some`, or panics after `patience` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, patience: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Builds a valid national register number from nine digits.
pub fn national_number(base: u64) -> String {
    format!("{base:09}{:02}", 97 - base % 97)
}

/// A calendar date for requests.
pub fn date(year: i32, month: i32, day: i32) -> proto::common::v1::Date {
    proto::common::v1::Date { year, month, day }
}

/// The ids of a person taken through register → start → sign.
#[derive(Debug, Clone)]
pub struct Signed {
    pub person_id: String,
    pub trajectory_id: String,
}

/// Registers a person (by the nine digits `base`) and starts an obliged trajectory on
/// 2026-01-15 in municipality `nis`; `(person_id, trajectory_id)`.
pub async fn register_and_start(
    client: &mut TrajectoryServiceClient<Channel>,
    token: &str,
    base: u64,
    nis: &str,
) -> (String, String) {
    let person = proto::trajectories::v1::RegisterPersonRequest {
        national_number: national_number(base),
        given_name: "Amina".into(),
        family_name: "Haddad".into(),
        mother_tongue: "ar".into(),
        contact_language: "fr".into(),
    };
    register_and_start_person(client, token, person, nis).await
}

/// [`register_and_start`] for the person `person`.
pub async fn register_and_start_person(
    client: &mut TrajectoryServiceClient<Channel>,
    token: &str,
    person: proto::trajectories::v1::RegisterPersonRequest,
    nis: &str,
) -> (String, String) {
    use proto::trajectories::v1 as pb;
    let person_id = client
        .register_person(authed(person, token))
        .await
        .expect("register")
        .into_inner()
        .person_id;
    let trajectory_id = client
        .start_trajectory(authed(
            pb::StartTrajectoryRequest {
                person_id: person_id.clone(),
                municipality_nis: nis.into(),
                status: pb::ObligationStatus::Obliged as i32,
                exemption_reason: 0,
                started_on: Some(date(2026, 1, 15)),
            },
            token,
        ))
        .await
        .expect("start")
        .into_inner()
        .trajectory
        .expect("trajectory")
        .trajectory_id;
    (person_id, trajectory_id)
}

/// Registers a person, starts an obliged trajectory in Antwerp and signs the contract,
/// as an Atlas case worker.
pub async fn register_start_sign(app: &TestApp, base: u64) -> Signed {
    let token = app.atlas();
    let mut client = app.trajectories().await;
    let (person_id, trajectory_id) = register_and_start(&mut client, &token, base, "11002").await;
    client
        .sign_contract(authed(sign_request(&trajectory_id), &token))
        .await
        .expect("sign");
    Signed {
        person_id,
        trajectory_id,
    }
}

/// A valid `SignContractRequest` for a trajectory started on 2026-01-15.
pub fn sign_request(trajectory_id: &str) -> proto::trajectories::v1::SignContractRequest {
    proto::trajectories::v1::SignContractRequest {
        trajectory_id: trajectory_id.to_owned(),
        signed_on: Some(date(2026, 1, 20)),
        rights_and_duties_accepted: true,
        nt2_deadline: Some(date(2026, 12, 31)),
        mo_deadline: Some(date(2026, 9, 30)),
        participation_deadline: Some(date(2026, 12, 31)),
    }
}

/// A municipality officer's token for the municipality `nis`.
pub fn municipality_officer(app: &TestApp, nis: &str) -> String {
    app.token(&format!("municipality-{nis}"), &["municipality-officer"])
}

/// A volunteering offer of 10 seats in 2026 in municipality `nis`, created by its officer;
/// its id.
pub async fn volunteering_offer(app: &TestApp, nis: &str) -> String {
    use proto::municipalities::v1 as pb;
    app.municipalities()
        .await
        .create_offer(authed(
            pb::CreateOfferRequest {
                municipality_nis: nis.into(),
                kind: pb::OfferKind::Volunteering as i32,
                host_kind: 0,
                host_organisation: "Vrijwilligerspunt".into(),
                title: "Taalcafé".into(),
                capacity: 10,
                starts_on: Some(date(2026, 1, 1)),
                ends_on: Some(date(2026, 12, 31)),
            },
            &municipality_officer(app, nis),
        ))
        .await
        .expect("the officer creates an offer")
        .into_inner()
        .offer
        .expect("an offer")
        .offer_id
}

/// Places `person_id` (a resident of `nis` with a signed contract) in a new offer of `nis`
/// from 2026-05-01, once municipalities has learned of the contract; the placement's id.
pub async fn placed(app: &TestApp, nis: &str, person_id: &str) -> String {
    use proto::municipalities::v1 as pb;
    let offer_id = volunteering_offer(app, nis).await;
    let token = municipality_officer(app, nis);
    let mut client = app.municipalities().await;
    eventually(
        "municipalities to learn of the contract",
        Duration::from_secs(30),
        || {
            let (mut client, token, offer_id) = (client.clone(), token.clone(), offer_id.clone());
            async move {
                client
                    .place_person(authed(
                        pb::PlacePersonRequest {
                            offer_id,
                            person_id: person_id.into(),
                            started_on: Some(date(2026, 5, 1)),
                        },
                        &token,
                    ))
                    .await
                    .ok()
                    .and_then(|r| r.into_inner().placement)
            }
        },
    )
    .await;
    client
        .list_placements(authed(
            pb::ListPlacementsRequest {
                offer_id,
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("the officer lists placements")
        .into_inner()
        .placements
        .pop()
        .expect("the placement")
        .placement_id
}

/// Logs `hours` on `day` for a placement in `nis`, as its officer.
pub async fn log_hours(
    app: &TestApp,
    nis: &str,
    placement_id: &str,
    day: proto::common::v1::Date,
    hours: i32,
) -> Result<proto::municipalities::v1::Placement, tonic::Status> {
    use proto::municipalities::v1 as pb;
    app.municipalities()
        .await
        .log_hours(authed(
            pb::LogHoursRequest {
                placement_id: placement_id.into(),
                done_on: Some(day),
                hours,
            },
            &municipality_officer(app, nis),
        ))
        .await
        .map(|r| r.into_inner().placement.expect("a placement"))
}
