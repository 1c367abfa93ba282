//! A soak of `inburgering dev`, the real binary as a developer runs it: SQLite files, the
//! broker as its child process, the dev issuer. It is started in a fresh data folder on
//! free ports, then `SOAK_CLIENTS` (default 16) clients call it at about `SOAK_RATE`
//! (default 100) calls/s in all for `SOAK_SECS` (default 1800) seconds.
//!
//! The mix mostly writes where events result: journeys in trajectories (register a
//! person, start the trajectory in Antwerp, sign the contract), whose events testing,
//! municipalities, ceremonies, recruitment and interpreting consume; and, for people
//! signed a moment earlier, a placement in a municipality's offer with hours logged
//! (municipalities' events, consumed by trajectories and three others) and an NT2 test
//! booked (testing's events, consumed by trajectories). Between them it reads, in every
//! service, what the projections hold: testing's candidate, the local monitor and the
//! offers of municipalities, ceremonies, recruitment's funnel, interpreting's requests,
//! and the trajectory itself.
//!
//! After the load it waits (at most `SOAK_DRAIN` seconds, default 300) until every
//! consumer group has applied every event staged on its topic, comparing the outbox of
//! the publishing service's SQLite file with the inbox of the consuming one. It prints
//! the calls, the answers by gRPC code (and the `UNAVAILABLE` ones that name the database
//! or a lock), events staged and applied, the largest total lag `/metrics` showed
//! (`messaging_consumer_lag`, scraped every 2 s), the seconds from the end of the load to
//! lag 0, and the ERROR lines in dev's log. It exits non-zero only when the run failed:
//! dev did not start or died, or a group never drained. It asserts no timing.
//!
//! The data folder (with dev's log, `dev.log`) is removed after a clean run (every group
//! drained, no ERROR line before the SIGTERM), kept otherwise or with `SOAK_KEEP=1`. Run with `scripts/bench [--release] soak`.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    future::Future,
    net::{SocketAddr, TcpListener as StdListener},
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use platform::runtime::ServiceModule;
use proto::{
    ceremonies::v1::{self as cpb, ceremony_service_client::CeremonyServiceClient},
    interpreting::v1::{self as ipb, interpreting_service_client::InterpretingServiceClient},
    municipalities::v1::{self as mpb, municipality_service_client::MunicipalityServiceClient},
    recruitment::v1::{self as rpb, recruitment_service_client::RecruitmentServiceClient},
    testing::v1::{self as tpb, testing_service_client::TestingServiceClient},
    trajectories::v1::{self as pb, trajectory_service_client::TrajectoryServiceClient},
};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use testkit::{authed, date, national_number, sign_request};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    process::{Child, Command},
    task::JoinSet,
    time::{Interval, MissedTickBehavior},
};
use tonic::{Code, Status, transport::Channel};

/// The municipality the journeys live in (Antwerp; Atlas is its agency).
const NIS: &str = "11002";
/// How often `/metrics` is read.
const SCRAPE_EVERY: Duration = Duration::from_secs(2);
/// How often the consumers' watchdogs read the lag from the broker (platform's
/// `LAG_INTERVAL`): the gauge can be that old.
const LAG_INTERVAL: Duration = Duration::from_secs(5);
/// How often, during the load, the SQLite files are compared (staged − applied).
const DB_LAG_EVERY: Duration = Duration::from_secs(10);
/// How often a progress line is printed during the load.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);
/// Tokens of the dev issuer live an hour: they are fetched again well before.
const TOKENS_EVERY: Duration = Duration::from_secs(1800);
/// People waiting for a placement or a booking, per client.
const QUEUE: usize = 64;
/// Attempts at a placement or booking the projection did not allow yet.
const TRIES: u32 = 6;

// Settings -------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Settings {
    secs: u64,
    rate: f64,
    clients: usize,
    drain: Duration,
    keep: bool,
}

impl Settings {
    fn from_env() -> Settings {
        let num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
        Settings {
            secs: num("SOAK_SECS").map_or(1800, |v| v.max(1.0) as u64),
            rate: num("SOAK_RATE").filter(|r| *r > 0.0).unwrap_or(100.0),
            clients: num("SOAK_CLIENTS").map_or(16, |v| v.max(1.0) as usize),
            drain: Duration::from_secs(num("SOAK_DRAIN").map_or(300, |v| v.max(1.0) as u64)),
            keep: std::env::var_os("SOAK_KEEP").is_some_and(|v| !v.is_empty() && v != "0"),
        }
    }
}

// Topics and consumer groups ------------------------------------------------------------

/// A topic and the service (its SQLite file) whose outbox stages its events.
#[derive(Debug, Clone, Copy)]
struct Topic {
    topic: &'static str,
    service: &'static str,
}

fn module<M: ServiceModule>() -> Topic {
    Topic {
        topic: M::TOPIC,
        service: M::NAME,
    }
}

fn topics() -> Vec<Topic> {
    vec![
        module::<trajectories::Trajectories>(),
        module::<testing::Testing>(),
        module::<municipalities::Municipalities>(),
        module::<ceremonies::Ceremonies>(),
        module::<recruitment::Recruitment>(),
        module::<interpreting::Interpreting>(),
    ]
}

/// A consumer group, the topic it reads and the service (its SQLite file) that keeps
/// its inbox.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Group {
    group: String,
    topic: String,
    service: &'static str,
}

/// Every consumer group of the platform (as the services' `consumers()` declare them).
fn groups() -> Vec<Group> {
    let t = |m: Topic| m.topic;
    let [traj, test, muni, cere, recr, inte] = [
        module::<trajectories::Trajectories>(),
        module::<testing::Testing>(),
        module::<municipalities::Municipalities>(),
        module::<ceremonies::Ceremonies>(),
        module::<recruitment::Recruitment>(),
        module::<interpreting::Interpreting>(),
    ];
    let list: [(&str, &str, Topic); 12] = [
        (testing::PROJECTION_GROUP, t(traj), test),
        (municipalities::projection::RESIDENTS_GROUP, t(traj), muni),
        (ceremonies::projection::ATTESTS_GROUP, t(traj), cere),
        (recruitment::projection::CONVERSION_GROUP, t(traj), recr),
        (interpreting::projection::TRAJECTORIES_GROUP, t(traj), inte),
        (trajectories::results::GROUP, t(test), traj),
        (trajectories::municipalities::GROUP, t(muni), traj),
        (municipalities::projection::MONITOR_GROUP, t(muni), muni),
        (ceremonies::projection::REGISTER_GROUP, t(muni), cere),
        (recruitment::projection::REGISTER_GROUP, t(muni), recr),
        (interpreting::projection::REGISTER_GROUP, t(muni), inte),
        (trajectories::brussels::GROUP, t(recr), traj),
    ];
    list.into_iter()
        .map(|(group, topic, consumer)| Group {
            group: group.to_owned(),
            topic: topic.to_owned(),
            service: consumer.service,
        })
        .collect()
}

// dev ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Ports {
    /// The first of six consecutive gRPC ports (trajectories, testing, municipalities,
    /// ceremonies, recruitment, interpreting).
    grpc: u16,
    issuer: u16,
    broker: u16,
    metrics: u16,
}

impl Ports {
    fn grpc(&self, offset: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.grpc + offset))
    }

    fn metrics(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.metrics))
    }

    fn issuer_url(&self) -> String {
        format!("http://127.0.0.1:{}/realms/inburgering", self.issuer)
    }
}

/// Nine ports free now, six of them consecutive, below the kernel's ephemeral range
/// (where the platform's own outgoing connections would take them).
fn free_ports() -> Ports {
    let bind = |port: u16| StdListener::bind(("127.0.0.1", port)).ok();
    let mut seed = u64::from(std::process::id())
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into());
    for _ in 0..500 {
        // xorshift: a different base per attempt.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let base = 20_000 + (seed % 12_000) as u16;
        let held: Option<Vec<StdListener>> = (0..9).map(|i| bind(base + i)).collect();
        if held.is_some() {
            return Ports {
                grpc: base,
                issuer: base + 6,
                broker: base + 7,
                metrics: base + 8,
            };
        }
    }
    panic!("no nine consecutive free ports between 20000 and 32000");
}

/// The `inburgering` binary beside this one.
fn inburgering_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("this executable's path");
    let bin = exe.with_file_name("inburgering");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --workspace --bins` (scripts/bench does)",
        bin.display()
    );
    bin
}

/// `inburgering dev` running as a child process.
struct Dev {
    child: Child,
    log: PathBuf,
    ports: Ports,
}

impl Dev {
    fn start(bin: &Path, data: &Path, ports: Ports) -> Dev {
        let log = data.join("dev.log");
        let file =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let child = Command::new(bin)
            .arg("dev")
            .arg("--data-dir")
            .arg(data)
            .args(["--grpc-port", &ports.grpc.to_string()])
            .args(["--issuer-port", &ports.issuer.to_string()])
            .args(["--broker-port", &ports.broker.to_string()])
            .args(["--metrics-port", &ports.metrics.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().expect("log handle")))
            .stderr(Stdio::from(file))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {} dev: {e}", bin.display()));
        Dev { child, log, ports }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Waits for the banner (everything bound, the issuer's key written) and for the
    /// metrics endpoint.
    async fn ready(&mut self, patience: Duration) -> Result<(), String> {
        let deadline = Instant::now() + patience;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("inburgering dev exited at start ({status})"));
            }
            if self.log_text().contains("inburgering dev is running")
                && tokio::net::TcpStream::connect(self.ports.metrics())
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "inburgering dev did not print its banner within {} s",
                    patience.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM (dev drains its services and stops the broker last), then SIGKILL after a
    /// minute; its exit status.
    async fn stop(&mut self) -> String {
        if let Ok(Some(status)) = self.child.try_wait() {
            return format!("had exited: {status}");
        }
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(Ok(status)) => status.to_string(),
            Ok(Err(e)) => format!("unknown: {e}"),
            Err(_) => {
                let _ = self.child.kill().await;
                "still running 60 s after SIGTERM: killed".into()
            }
        }
    }
}

// Tokens and clients ---------------------------------------------------------------------

/// One token per role the mix calls with.
#[derive(Debug)]
struct Tokens {
    /// atlas case-worker: trajectories' journeys, testing's reads and bookings.
    case_worker: String,
    /// atlas test-admin: testing's sessions.
    test_admin: String,
    /// municipality-11002 municipality-officer: offers, placements, hours.
    officer: String,
    /// agii monitor: the local monitor.
    monitor: String,
    /// municipality-11002 ceremony-organiser: ceremonies.
    organiser: String,
    /// atlas recruitment-officer: the funnel.
    recruiter: String,
    /// atlas interpreting-coordinator: interpreting's requests.
    coordinator: String,
}

/// `inburgering token --org … --role …` against dev's issuer key.
async fn token(bin: &Path, data: &Path, issuer: &str, org: &str, role: &str) -> String {
    let out = Command::new(bin)
        .args(["token", "--org", org, "--role", role, "--issuer", issuer])
        .arg("--data-dir")
        .arg(data)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run inburgering token: {e}"));
    assert!(
        out.status.success(),
        "inburgering token --org {org} --role {role}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("a token is ASCII")
        .trim()
        .to_owned()
}

async fn tokens(bin: &Path, data: &Path, issuer: &str) -> Tokens {
    let t = |org: &'static str, role: &'static str| token(bin, data, issuer, org, role);
    Tokens {
        case_worker: t("atlas", "case-worker").await,
        test_admin: t("atlas", "test-admin").await,
        officer: t("municipality-11002", "municipality-officer").await,
        monitor: t("agii", "monitor").await,
        organiser: t("municipality-11002", "ceremony-organiser").await,
        recruiter: t("atlas", "recruitment-officer").await,
        coordinator: t("atlas", "interpreting-coordinator").await,
    }
}

/// One client's connections, one per service (lazily connected).
#[derive(Clone)]
struct Clients {
    trajectories: TrajectoryServiceClient<Channel>,
    testing: TestingServiceClient<Channel>,
    municipalities: MunicipalityServiceClient<Channel>,
    ceremonies: CeremonyServiceClient<Channel>,
    recruitment: RecruitmentServiceClient<Channel>,
    interpreting: InterpretingServiceClient<Channel>,
}

impl Clients {
    fn new(ports: Ports) -> Clients {
        let channel = |offset: u16| {
            Channel::from_shared(format!("http://{}", ports.grpc(offset)))
                .expect("a valid address")
                .timeout(Duration::from_secs(30))
                .connect_lazy()
        };
        Clients {
            trajectories: TrajectoryServiceClient::new(channel(0)),
            testing: TestingServiceClient::new(channel(1)),
            municipalities: MunicipalityServiceClient::new(channel(2)),
            ceremonies: CeremonyServiceClient::new(channel(3)),
            recruitment: RecruitmentServiceClient::new(channel(4)),
            interpreting: InterpretingServiceClient::new(channel(5)),
        }
    }
}

// What the callers saw -------------------------------------------------------------------

#[derive(Debug, Default)]
struct RpcTally {
    latencies_ms: Vec<f64>,
    /// Answers by code: how many, and the first message of each code but OK.
    codes: BTreeMap<String, (u64, String)>,
}

#[derive(Debug, Default)]
struct Tally {
    calls: AtomicU64,
    /// `UNAVAILABLE` answers whose message names the database or a lock.
    database_unavailable: AtomicU64,
    by_rpc: Mutex<BTreeMap<&'static str, RpcTally>>,
}

fn code_name(code: Code) -> String {
    // `Code`'s Debug is CamelCase; gRPC's own names are SHOUTING_SNAKE.
    let camel = format!("{code:?}");
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

impl Tally {
    fn record(&self, rpc: &'static str, took: Duration, error: Option<&Status>) {
        self.calls.fetch_add(1, Relaxed);
        let code = error.map_or(Code::Ok, Status::code);
        if let Some(status) = error
            && status.code() == Code::Unavailable
        {
            let message = status.message().to_lowercase();
            if message.contains("database") || message.contains("locked") {
                self.database_unavailable.fetch_add(1, Relaxed);
            }
        }
        let mut by_rpc = self.by_rpc.lock().expect("tally lock");
        let entry = by_rpc.entry(rpc).or_default();
        entry.latencies_ms.push(took.as_secs_f64() * 1000.0);
        let slot = entry
            .codes
            .entry(code_name(code))
            .or_insert_with(|| (0, error.map(|s| s.message().to_owned()).unwrap_or_default()));
        slot.0 += 1;
    }
}

/// Calls `call` and counts its answer under `rpc`.
async fn call<T, Fut>(tally: &Tally, rpc: &'static str, call: Fut) -> Result<T, Status>
where
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let started = Instant::now();
    let result = call.await.map(tonic::Response::into_inner);
    tally.record(rpc, started.elapsed(), result.as_ref().err());
    result
}

// The load -------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Register,
    Start,
    Sign,
    Place,
    LogHours,
    Book,
    GetCandidate,
    GetTrajectory,
    LocalMonitor,
    ListOffers,
    ListCeremonies,
    Funnel,
    ListRequests,
}

/// Each client walks this cycle (from its own offset): four journeys' twelve writes,
/// three more writes downstream, eight reads.
const CYCLE: [Op; 23] = [
    Op::Register,
    Op::Start,
    Op::Sign,
    Op::GetCandidate,
    Op::Register,
    Op::Start,
    Op::Sign,
    Op::LocalMonitor,
    Op::Place,
    Op::Register,
    Op::Start,
    Op::Sign,
    Op::ListCeremonies,
    Op::Book,
    Op::GetCandidate,
    Op::Register,
    Op::Start,
    Op::Sign,
    Op::Funnel,
    Op::LogHours,
    Op::ListRequests,
    Op::ListOffers,
    Op::GetTrajectory,
];

/// A person signed a moment ago, waiting for a downstream write that needs a
/// projection to know the contract.
#[derive(Debug, Clone)]
struct Later {
    person_id: String,
    not_before: Instant,
    tries: u32,
}

impl Later {
    fn new(person_id: String) -> Later {
        Later {
            person_id,
            not_before: Instant::now() + Duration::from_secs(2),
            tries: 0,
        }
    }

    fn again(mut self) -> Option<Later> {
        self.tries += 1;
        self.not_before = Instant::now() + Duration::from_secs(2);
        (self.tries < TRIES).then_some(self)
    }
}

/// What the clients share.
struct Shared {
    tally: Tally,
    tokens: RwLock<Arc<Tokens>>,
    next_person: AtomicU64,
    /// The offer placements go into, replaced by a new one when full.
    offer: tokio::sync::Mutex<String>,
    /// The session bookings go into, replaced by a new one when full.
    session: tokio::sync::Mutex<String>,
    /// Recently signed people (person, trajectory), for the reads.
    signed: Mutex<VecDeque<(String, String)>>,
    next_read: AtomicU64,
    /// The global pace: one tick per call.
    pace: tokio::sync::Mutex<Interval>,
}

impl Shared {
    fn tokens(&self) -> Arc<Tokens> {
        self.tokens.read().expect("tokens lock").clone()
    }

    fn some_signed(&self) -> Option<(String, String)> {
        let signed = self.signed.lock().expect("signed lock");
        if signed.is_empty() {
            return None;
        }
        let i = self.next_read.fetch_add(1, Relaxed) as usize % signed.len();
        signed.get(i).cloned()
    }
}

fn push_capped<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.len() < QUEUE {
        queue.push_back(item);
    }
}

/// Takes the first entry whose time has come.
fn take_ready(queue: &mut VecDeque<Later>) -> Option<Later> {
    let now = Instant::now();
    let i = queue.iter().position(|l| l.not_before <= now)?;
    queue.remove(i)
}

async fn create_offer(
    clients: &mut Clients,
    tally: Option<&Tally>,
    token: &str,
) -> Result<String, Status> {
    let request = authed(
        mpb::CreateOfferRequest {
            municipality_nis: NIS.into(),
            kind: mpb::OfferKind::Volunteering as i32,
            host_kind: 0,
            host_organisation: "Vrijwilligerspunt".into(),
            title: "Taalcafé".into(),
            capacity: 200,
            starts_on: Some(date(2026, 1, 1)),
            ends_on: Some(date(2026, 12, 31)),
        },
        token,
    );
    let answer = match tally {
        Some(tally) => {
            call(
                tally,
                "CreateOffer",
                clients.municipalities.create_offer(request),
            )
            .await
        }
        None => clients
            .municipalities
            .create_offer(request)
            .await
            .map(tonic::Response::into_inner),
    };
    answer.and_then(|r| {
        r.offer
            .map(|o| o.offer_id)
            .ok_or_else(|| Status::internal("no offer in the answer"))
    })
}

async fn plan_session(
    clients: &mut Clients,
    tally: Option<&Tally>,
    token: &str,
) -> Result<String, Status> {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(10);
    let request = authed(
        tpb::PlanSessionRequest {
            test_type: tpb::TestType::Nt2A2 as i32,
            location: "Huis van het Nederlands Antwerpen".into(),
            starts_at: Some(prost_types::Timestamp {
                seconds: starts_at.timestamp(),
                nanos: 0,
            }),
            capacity: 500,
        },
        token,
    );
    let answer = match tally {
        Some(tally) => call(tally, "PlanSession", clients.testing.plan_session(request)).await,
        None => clients
            .testing
            .plan_session(request)
            .await
            .map(tonic::Response::into_inner),
    };
    answer.and_then(|r| {
        r.session
            .map(|s| s.session_id)
            .ok_or_else(|| Status::internal("no session in the answer"))
    })
}

/// One client: its own connections and its people in flight.
struct Worker {
    clients: Clients,
    shared: Arc<Shared>,
    slot: usize,
    to_start: VecDeque<String>,
    to_sign: VecDeque<(String, String)>,
    to_place: VecDeque<Later>,
    to_book: VecDeque<Later>,
    to_log: VecDeque<String>,
}

impl Worker {
    fn new(index: usize, ports: Ports, shared: Arc<Shared>) -> Worker {
        Worker {
            clients: Clients::new(ports),
            shared,
            slot: index * 7 % CYCLE.len(),
            to_start: VecDeque::new(),
            to_sign: VecDeque::new(),
            to_place: VecDeque::new(),
            to_book: VecDeque::new(),
            to_log: VecDeque::new(),
        }
    }

    async fn run(mut self, until: tokio::time::Instant) {
        loop {
            {
                let mut pace = self.shared.pace.lock().await;
                tokio::select! {
                    _ = pace.tick() => {}
                    _ = tokio::time::sleep_until(until) => return,
                }
            }
            if tokio::time::Instant::now() >= until {
                return;
            }
            let op = CYCLE[self.slot];
            self.slot = (self.slot + 1) % CYCLE.len();
            self.step(op).await;
        }
    }

    /// The op, or what stands in for it when its queue is empty.
    fn resolve(&self, op: Op) -> Op {
        let ready = |q: &VecDeque<Later>| {
            let now = Instant::now();
            q.iter().any(|l| l.not_before <= now)
        };
        match op {
            Op::Start if self.to_start.is_empty() => Op::Register,
            Op::Sign if self.to_sign.is_empty() => self.resolve(Op::Start),
            Op::Place if !ready(&self.to_place) => Op::ListOffers,
            Op::Book if !ready(&self.to_book) => Op::GetCandidate,
            Op::LogHours if self.to_log.is_empty() => Op::GetTrajectory,
            Op::GetCandidate | Op::GetTrajectory if self.shared.some_signed().is_none() => {
                Op::LocalMonitor
            }
            op => op,
        }
    }

    async fn step(&mut self, op: Op) {
        let op = self.resolve(op);
        let shared = self.shared.clone();
        let tally = &shared.tally;
        let tokens = shared.tokens();
        let c = &mut self.clients;
        match op {
            Op::Register => {
                let n = shared.next_person.fetch_add(1, Relaxed);
                let request = pb::RegisterPersonRequest {
                    national_number: national_number(700_000_000 + n),
                    given_name: "Amina".into(),
                    family_name: "Haddad".into(),
                    mother_tongue: "ar".into(),
                    contact_language: "nl".into(),
                };
                let answer = call(
                    tally,
                    "RegisterPerson",
                    c.trajectories
                        .register_person(authed(request, &tokens.case_worker)),
                )
                .await;
                if let Ok(r) = answer {
                    push_capped(&mut self.to_start, r.person_id);
                }
            }
            Op::Start => {
                let Some(person_id) = self.to_start.pop_front() else {
                    return;
                };
                let request = pb::StartTrajectoryRequest {
                    person_id: person_id.clone(),
                    municipality_nis: NIS.into(),
                    status: pb::ObligationStatus::Obliged as i32,
                    exemption_reason: 0,
                    started_on: Some(date(2026, 1, 15)),
                };
                let answer = call(
                    tally,
                    "StartTrajectory",
                    c.trajectories
                        .start_trajectory(authed(request, &tokens.case_worker)),
                )
                .await;
                match answer {
                    Ok(r) => {
                        if let Some(t) = r.trajectory {
                            push_capped(&mut self.to_sign, (person_id, t.trajectory_id));
                        }
                    }
                    Err(s) if s.code() == Code::AlreadyExists => {
                        if let Some((_, id)) = s.message().rsplit_once("already has trajectory ") {
                            push_capped(&mut self.to_sign, (person_id, id.to_owned()));
                        }
                    }
                    Err(s) if s.code() == Code::Unavailable => {
                        push_capped(&mut self.to_start, person_id);
                    }
                    Err(_) => {}
                }
            }
            Op::Sign => {
                let Some((person_id, trajectory_id)) = self.to_sign.pop_front() else {
                    return;
                };
                let answer = call(
                    tally,
                    "SignContract",
                    c.trajectories
                        .sign_contract(authed(sign_request(&trajectory_id), &tokens.case_worker)),
                )
                .await;
                match answer {
                    Ok(_) => {
                        push_capped(&mut self.to_place, Later::new(person_id.clone()));
                        push_capped(&mut self.to_book, Later::new(person_id.clone()));
                        let mut signed = shared.signed.lock().expect("signed lock");
                        if signed.len() >= 1024 {
                            signed.pop_front();
                        }
                        signed.push_back((person_id, trajectory_id));
                    }
                    Err(s) if s.code() == Code::Unavailable => {
                        push_capped(&mut self.to_sign, (person_id, trajectory_id));
                    }
                    Err(_) => {}
                }
            }
            Op::Place => {
                let Some(later) = take_ready(&mut self.to_place) else {
                    return;
                };
                let offer_id = shared.offer.lock().await.clone();
                let request = mpb::PlacePersonRequest {
                    offer_id: offer_id.clone(),
                    person_id: later.person_id.clone(),
                    started_on: Some(date(2026, 2, 1)),
                };
                let answer = call(
                    tally,
                    "PlacePerson",
                    c.municipalities
                        .place_person(authed(request, &tokens.officer)),
                )
                .await;
                match answer {
                    Ok(r) => {
                        if let Some(p) = r.placement {
                            push_capped(&mut self.to_log, p.placement_id);
                        }
                    }
                    Err(s) if s.code() == Code::AlreadyExists => {}
                    Err(s) => {
                        if s.message().contains("no free seat") {
                            let mut current = shared.offer.lock().await;
                            if *current == offer_id
                                && let Ok(id) = create_offer(c, Some(tally), &tokens.officer).await
                            {
                                *current = id;
                            }
                        }
                        // The projection may not know the contract yet: later.
                        if let Some(later) = later.again() {
                            self.to_place.push_back(later);
                        }
                    }
                }
            }
            Op::LogHours => {
                let Some(placement_id) = self.to_log.pop_front() else {
                    return;
                };
                let request = mpb::LogHoursRequest {
                    placement_id,
                    done_on: Some(date(2026, 2, 2)),
                    hours: 4,
                };
                let _ = call(
                    tally,
                    "LogHours",
                    c.municipalities.log_hours(authed(request, &tokens.officer)),
                )
                .await;
            }
            Op::Book => {
                let Some(later) = take_ready(&mut self.to_book) else {
                    return;
                };
                let session_id = shared.session.lock().await.clone();
                let request = tpb::BookTestRequest {
                    session_id: session_id.clone(),
                    person_id: later.person_id.clone(),
                };
                let answer = call(
                    tally,
                    "BookTest",
                    c.testing.book_test(authed(request, &tokens.case_worker)),
                )
                .await;
                match answer {
                    Ok(_) => {}
                    Err(s) if s.code() == Code::AlreadyExists => {}
                    Err(s) => {
                        if s.message().contains("is full") {
                            let mut current = shared.session.lock().await;
                            if *current == session_id
                                && let Ok(id) =
                                    plan_session(c, Some(tally), &tokens.test_admin).await
                            {
                                *current = id;
                            }
                        }
                        if let Some(later) = later.again() {
                            self.to_book.push_back(later);
                        }
                    }
                }
            }
            Op::GetCandidate => {
                let Some((person_id, _)) = shared.some_signed() else {
                    return;
                };
                let _ = call(
                    tally,
                    "GetCandidate",
                    c.testing.get_candidate(authed(
                        tpb::GetCandidateRequest { person_id },
                        &tokens.case_worker,
                    )),
                )
                .await;
            }
            Op::GetTrajectory => {
                let Some((_, trajectory_id)) = shared.some_signed() else {
                    return;
                };
                let _ = call(
                    tally,
                    "GetTrajectory",
                    c.trajectories.get_trajectory(authed(
                        pb::GetTrajectoryRequest { trajectory_id },
                        &tokens.case_worker,
                    )),
                )
                .await;
            }
            Op::LocalMonitor => {
                let _ = call(
                    tally,
                    "GetLocalMonitor",
                    c.municipalities.get_local_monitor(authed(
                        mpb::GetLocalMonitorRequest {
                            municipality_nis: NIS.into(),
                            year: 2026,
                        },
                        &tokens.monitor,
                    )),
                )
                .await;
            }
            Op::ListOffers => {
                let _ = call(
                    tally,
                    "ListOffers",
                    c.municipalities.list_offers(authed(
                        mpb::ListOffersRequest {
                            municipality_nis: NIS.into(),
                            ..Default::default()
                        },
                        &tokens.officer,
                    )),
                )
                .await;
            }
            Op::ListCeremonies => {
                let _ = call(
                    tally,
                    "ListCeremonies",
                    c.ceremonies.list_ceremonies(authed(
                        cpb::ListCeremoniesRequest {
                            municipality_nis: NIS.into(),
                            ..Default::default()
                        },
                        &tokens.organiser,
                    )),
                )
                .await;
            }
            Op::Funnel => {
                let _ = call(
                    tally,
                    "GetFunnel",
                    c.recruitment.get_funnel(authed(
                        rpb::GetFunnelRequest {
                            municipality_nis: String::new(),
                            from_month: Some(date(2026, 1, 1)),
                            to_month: Some(date(2026, 12, 1)),
                        },
                        &tokens.recruiter,
                    )),
                )
                .await;
            }
            Op::ListRequests => {
                let _ = call(
                    tally,
                    "ListRequests",
                    c.interpreting.list_requests(authed(
                        ipb::ListRequestsRequest::default(),
                        &tokens.coordinator,
                    )),
                )
                .await;
            }
        }
    }
}

/// Waits until trajectories has applied a municipalities event (the register, which
/// municipalities publishes at its start): before, StartTrajectory is refused (and dev
/// logs it as an ERROR, which the soak counts).
async fn register_reached_trajectories(data: &Path, patience: Duration) -> Result<(), String> {
    let service = <trajectories::Trajectories as ServiceModule>::NAME;
    let path = data.join(format!("{service}.sqlite"));
    let sql = format!(
        "select count(*) from inbox where consumer = '{}'",
        trajectories::municipalities::GROUP
    );
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if path.exists()
            && let Ok(db) = Database::connect(format!("sqlite://{}?mode=ro", path.display())).await
        {
            let applied = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    sql.clone(),
                ))
                .await
                .ok()
                .flatten()
                .and_then(|r| r.try_get_by_index::<i64>(0).ok())
                .unwrap_or(0);
            let _ = db.close().await;
            if applied > 0 {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!(
        "the municipality register did not reach trajectories in {} s",
        patience.as_secs()
    ))
}

/// Before the load: one journey through, an offer and a session.
async fn warm_up(
    ports: Ports,
    tokens: &Tokens,
    patience: Duration,
) -> Result<(String, String), String> {
    let mut c = Clients::new(ports);
    let deadline = Instant::now() + patience;
    let mut last = String::new();
    let mut person_id = None;
    let mut trajectory_id = None;
    let mut signed = false;
    let mut offer = None;
    let mut session = None;
    while Instant::now() < deadline {
        if person_id.is_none() {
            match c
                .trajectories
                .register_person(authed(
                    pb::RegisterPersonRequest {
                        national_number: national_number(699_999_999),
                        given_name: "Amina".into(),
                        family_name: "Haddad".into(),
                        mother_tongue: "ar".into(),
                        contact_language: "nl".into(),
                    },
                    &tokens.case_worker,
                ))
                .await
            {
                Ok(r) => person_id = Some(r.into_inner().person_id),
                Err(s) => last = format!("RegisterPerson: {s}"),
            }
        }
        if let (Some(person), None) = (&person_id, &trajectory_id) {
            match c
                .trajectories
                .start_trajectory(authed(
                    pb::StartTrajectoryRequest {
                        person_id: person.clone(),
                        municipality_nis: NIS.into(),
                        status: pb::ObligationStatus::Obliged as i32,
                        exemption_reason: 0,
                        started_on: Some(date(2026, 1, 15)),
                    },
                    &tokens.case_worker,
                ))
                .await
            {
                Ok(r) => trajectory_id = r.into_inner().trajectory.map(|t| t.trajectory_id),
                Err(s) => last = format!("StartTrajectory: {s}"),
            }
        }
        if let (Some(trajectory), false) = (&trajectory_id, signed) {
            match c
                .trajectories
                .sign_contract(authed(sign_request(trajectory), &tokens.case_worker))
                .await
            {
                Ok(_) => signed = true,
                Err(s) => last = format!("SignContract: {s}"),
            }
        }
        if offer.is_none() {
            match create_offer(&mut c, None, &tokens.officer).await {
                Ok(id) => offer = Some(id),
                Err(s) => last = format!("CreateOffer: {s}"),
            }
        }
        if session.is_none() {
            match plan_session(&mut c, None, &tokens.test_admin).await {
                Ok(id) => session = Some(id),
                Err(s) => last = format!("PlanSession: {s}"),
            }
        }
        if signed && let (Some(offer), Some(session)) = (&offer, &session) {
            return Ok((offer.clone(), session.clone()));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!(
        "the first journey, offer and session did not go through in {} s; last answer: {last}",
        patience.as_secs()
    ))
}

// Metrics ----------------------------------------------------------------------------------

/// dev's `/metrics` body, or `None` when it does not answer.
async fn scrape(addr: SocketAddr) -> Option<String> {
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .ok()
        .flatten()
}

/// `messaging_consumer_lag` summed over partitions, per consumer group.
fn lag_by_group(metrics: &str) -> BTreeMap<String, i64> {
    let mut lag = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("messaging_consumer_lag{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let Some(group) = labels
            .split("messaging_consumer_group_name=\"")
            .nth(1)
            .and_then(|g| g.split('"').next())
        else {
            continue;
        };
        let value = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        *lag.entry(group.to_owned()).or_insert(0) += value as i64;
    }
    lag
}

/// The largest lags `/metrics` showed.
#[derive(Debug, Default)]
struct LagWatch {
    scrapes: u64,
    failed: u64,
    /// The largest sum over every group at one scrape, and when (from the load's start).
    max_total: i64,
    max_total_at: Duration,
    max_by_group: BTreeMap<String, i64>,
    now_total: i64,
}

impl LagWatch {
    /// The groups that were ever behind, with their largest lag.
    fn per_group(&self) -> String {
        let behind: Vec<String> = self
            .max_by_group
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(g, n)| format!("{g} {n}"))
            .collect();
        if behind.is_empty() {
            "0 for every group".to_owned()
        } else {
            behind.join(", ")
        }
    }

    fn observe(&mut self, lag: &BTreeMap<String, i64>, at: Duration) {
        self.scrapes += 1;
        let total: i64 = lag.values().sum();
        self.now_total = total;
        if total > self.max_total {
            self.max_total = total;
            self.max_total_at = at;
        }
        for (group, n) in lag {
            let max = self.max_by_group.entry(group.clone()).or_insert(0);
            *max = (*max).max(*n);
        }
    }
}

// The SQLite files -------------------------------------------------------------------------

/// Each service's SQLite file, opened read-only.
struct Files {
    dbs: BTreeMap<&'static str, DatabaseConnection>,
}

impl Files {
    /// Opens every file, waiting (at most `patience`) for the services to create them.
    async fn open(data: &Path, patience: Duration) -> Result<Files, String> {
        let deadline = Instant::now() + patience;
        let mut dbs = BTreeMap::new();
        for t in topics() {
            let path = data.join(format!("{}.sqlite", t.service));
            let db = loop {
                let url = format!("sqlite://{}?mode=ro", path.display());
                let mut options = ConnectOptions::new(url);
                options
                    .max_connections(1)
                    .min_connections(1)
                    .sqlx_logging(false);
                match Database::connect(options).await {
                    Ok(db) => break db,
                    Err(e) if Instant::now() >= deadline => {
                        return Err(format!("open {} read-only: {e}", path.display()));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            };
            dbs.insert(t.service, db);
        }
        Ok(Files { dbs })
    }

    fn db(&self, service: &str) -> &DatabaseConnection {
        self.dbs.get(service).expect("every service's file is open")
    }

    async fn try_rows(
        &self,
        service: &str,
        sql: &str,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        let db = self.db(service);
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
    }

    async fn rows(&self, service: &str, sql: &str) -> Vec<sea_orm::QueryResult> {
        self.try_rows(service, sql)
            .await
            .unwrap_or_else(|e| panic!("{service}: {sql}: {e}"))
    }

    /// The first column of the first row; `None` when the query fails.
    async fn count(&self, service: &str, sql: &str) -> Option<i64> {
        self.try_rows(service, sql)
            .await
            .ok()?
            .first()
            .and_then(|r| r.try_get_by_index::<i64>(0).ok())
    }

    async fn ids(&self, service: &str, sql: &str) -> BTreeSet<String> {
        self.rows(service, sql)
            .await
            .iter()
            .filter_map(|r| r.try_get_by_index::<String>(0).ok())
            .collect()
    }

    async fn staged(&self, topic: &Topic) -> Option<i64> {
        self.count(
            topic.service,
            &format!(
                "select count(*) from outbox where topic = '{}'",
                topic.topic
            ),
        )
        .await
    }

    async fn applied(&self, group: &Group) -> Option<i64> {
        self.count(
            group.service,
            &format!(
                "select count(*) from inbox where consumer = '{}' and topic = '{}'",
                group.group, group.topic
            ),
        )
        .await
    }

    /// The groups declared, and any other whose inbox holds rows.
    async fn all_groups(&self) -> Vec<Group> {
        let mut all: BTreeSet<Group> = groups().into_iter().collect();
        for t in topics() {
            for row in self
                .rows(t.service, "select distinct consumer, topic from inbox")
                .await
            {
                if let (Ok(group), Ok(topic)) = (
                    row.try_get_by_index::<String>(0),
                    row.try_get_by_index::<String>(1),
                ) {
                    all.insert(Group {
                        group,
                        topic,
                        service: t.service,
                    });
                }
            }
        }
        all.into_iter().collect()
    }

    /// Per group, the events staged on its topic that its inbox does not count yet;
    /// `None` when a file could not be read this time.
    async fn lag(&self, groups: &[Group]) -> Option<BTreeMap<String, i64>> {
        let mut staged = BTreeMap::new();
        for t in topics() {
            staged.insert(t.topic, self.staged(&t).await?);
        }
        let mut lag = BTreeMap::new();
        for g in groups {
            let want = staged.get(g.topic.as_str()).copied().unwrap_or(0);
            let behind = (want - self.applied(g).await?).max(0);
            lag.insert(g.group.clone(), behind);
        }
        Some(lag)
    }
}

// The run ----------------------------------------------------------------------------------

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn clip(line: &str, n: usize) -> String {
    let clipped: String = line.chars().take(n).collect();
    if clipped.len() < line.len() {
        format!("{clipped}…")
    } else {
        clipped
    }
}

#[tokio::main]
async fn main() {
    let settings = Settings::from_env();
    let bin = inburgering_bin();
    let data = std::env::temp_dir().join(format!(
        "inburgering-soak-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("create {}: {e}", data.display()));
    let ports = free_ports();
    println!(
        "inburgering dev soak ({} build): {} s at {:.0} calls/s from {} clients",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        settings.secs,
        settings.rate,
        settings.clients
    );
    println!(
        "  data {}; ports gRPC {}-{}, issuer {}, broker {}, metrics {}",
        data.display(),
        ports.grpc,
        ports.grpc + 5,
        ports.issuer,
        ports.broker,
        ports.metrics
    );

    let started = Instant::now();
    let mut dev = Dev::start(&bin, &data, ports);
    if let Err(e) = dev.ready(Duration::from_secs(180)).await {
        println!("FAILED: {e}; the end of dev's log:\n{}", dev.log_tail());
        dev.stop().await;
        std::process::exit(1);
    }
    if let Err(e) = register_reached_trajectories(&data, Duration::from_secs(180)).await {
        println!("FAILED: {e}; the end of dev's log:\n{}", dev.log_tail());
        dev.stop().await;
        std::process::exit(1);
    }
    let issuer = ports.issuer_url();
    let first_tokens = Arc::new(tokens(&bin, &data, &issuer).await);
    let (offer, session) = match warm_up(ports, &first_tokens, Duration::from_secs(180)).await {
        Ok(ids) => ids,
        Err(e) => {
            println!("FAILED: {e}; the end of dev's log:\n{}", dev.log_tail());
            dev.stop().await;
            std::process::exit(1);
        }
    };
    let files = match Files::open(&data, Duration::from_secs(60)).await {
        Ok(files) => files,
        Err(e) => {
            println!("FAILED: {e}");
            dev.stop().await;
            std::process::exit(1);
        }
    };
    let declared = groups();
    println!(
        "  dev ready and a first journey through in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The load.
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.rate));
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let shared = Arc::new(Shared {
        tally: Tally::default(),
        tokens: RwLock::new(first_tokens),
        next_person: AtomicU64::new(0),
        offer: tokio::sync::Mutex::new(offer),
        session: tokio::sync::Mutex::new(session),
        signed: Mutex::new(VecDeque::new()),
        next_read: AtomicU64::new(0),
        pace: tokio::sync::Mutex::new(pace),
    });
    let load_started = Instant::now();
    let until = tokio::time::Instant::now() + Duration::from_secs(settings.secs);
    let mut workers = JoinSet::new();
    for i in 0..settings.clients {
        workers.spawn(Worker::new(i, ports, shared.clone()).run(until));
    }
    let mut watch = LagWatch::default();
    let mut db_watch = LagWatch::default();
    let mut next_db_sample = load_started;
    let mut scrape_tick = tokio::time::interval(SCRAPE_EVERY);
    let mut next_progress = load_started + PROGRESS_EVERY;
    let mut next_tokens = load_started + TOKENS_EVERY;
    let mut calls_at_progress = 0;
    let mut dev_died = None;
    loop {
        tokio::select! {
            done = workers.join_next() => match done {
                None => break,
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(_) => {}
            },
            status = dev.child.wait() => {
                dev_died = Some(status.map_or_else(|e| e.to_string(), |s| s.to_string()));
                workers.abort_all();
                break;
            }
            _ = scrape_tick.tick() => {
                match scrape(ports.metrics()).await {
                    Some(m) => watch.observe(&lag_by_group(&m), load_started.elapsed()),
                    None => watch.failed += 1,
                }
                if Instant::now() >= next_db_sample {
                    next_db_sample += DB_LAG_EVERY;
                    match files.lag(&declared).await {
                        Some(lag) => db_watch.observe(&lag, load_started.elapsed()),
                        None => db_watch.failed += 1,
                    }
                }
                if Instant::now() >= next_tokens {
                    let fresh = tokens(&bin, &data, &issuer).await;
                    *shared.tokens.write().expect("tokens lock") = Arc::new(fresh);
                    next_tokens += TOKENS_EVERY;
                }
                if Instant::now() >= next_progress {
                    let calls = shared.tally.calls.load(Relaxed);
                    let not_ok: u64 = shared
                        .tally
                        .by_rpc
                        .lock()
                        .expect("tally lock")
                        .values()
                        .flat_map(|r| r.codes.iter())
                        .filter(|(code, _)| code.as_str() != "OK")
                        .map(|(_, (n, _))| n)
                        .sum();
                    println!(
                        "  {:>5.0} s: {} calls ({:.1}/s over the last {} s); total lag now {} by the gauge (max {}), {} by the databases (max {}); {} answers not OK, {} UNAVAILABLE naming the database",
                        load_started.elapsed().as_secs_f64(),
                        thousands(calls),
                        (calls - calls_at_progress) as f64 / PROGRESS_EVERY.as_secs_f64(),
                        PROGRESS_EVERY.as_secs(),
                        watch.now_total,
                        watch.max_total,
                        db_watch.now_total,
                        db_watch.max_total,
                        not_ok,
                        shared.tally.database_unavailable.load(Relaxed),
                    );
                    calls_at_progress = calls;
                    next_progress += PROGRESS_EVERY;
                }
            }
        }
    }
    let load_took = load_started.elapsed();
    let load_stopped = Instant::now();
    if let Some(status) = dev_died {
        println!(
            "FAILED: inburgering dev exited during the load ({status}); the end of its log:\n{}",
            dev.log_tail()
        );
        println!("data and dev's log kept in {}", data.display());
        std::process::exit(1);
    }

    // The drain: the databases, and what /metrics says.
    let all_groups = files.all_groups().await;
    let drain_deadline = load_stopped + settings.drain;
    let mut drained_after = None;
    let mut metric_zero_after = None;
    let mut metric_lag_seen = false;
    let mut next_scrape = Instant::now();
    while Instant::now() < drain_deadline {
        if drained_after.is_none()
            && let Some(lag) = files.lag(&all_groups).await
        {
            db_watch.observe(&lag, load_started.elapsed());
            if lag.values().all(|n| *n == 0) {
                drained_after = Some(load_stopped.elapsed());
            }
        }
        if metric_zero_after.is_none() && Instant::now() >= next_scrape {
            next_scrape = Instant::now() + Duration::from_secs(1);
            match scrape(ports.metrics()).await {
                Some(m) => {
                    let lag = lag_by_group(&m);
                    watch.observe(&lag, load_started.elapsed());
                    // The gauge is read from the broker every LAG_INTERVAL: a 0 is
                    // taken once it follows a reading with lag, or is fresh for sure.
                    if lag.values().all(|n| *n == 0) {
                        if metric_lag_seen || load_stopped.elapsed() >= LAG_INTERVAL {
                            metric_zero_after = Some(load_stopped.elapsed());
                        }
                    } else {
                        metric_lag_seen = true;
                    }
                }
                None => watch.failed += 1,
            }
        }
        let metric_given_up =
            drained_after.is_some_and(|d| load_stopped.elapsed() > d + Duration::from_secs(30));
        if drained_after.is_some() && (metric_zero_after.is_some() || metric_given_up) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // What the files hold.
    let mut topic_lines = Vec::new();
    let mut staged_ids = BTreeMap::new();
    for t in topics() {
        let ids = files
            .ids(
                t.service,
                &format!(
                    "select hex(event_id) from outbox where topic = '{}'",
                    t.topic
                ),
            )
            .await;
        let unsent = files
            .count(
                t.service,
                &format!(
                    "select count(*) from outbox where topic = '{}' and sent_at is null",
                    t.topic
                ),
            )
            .await
            .expect("count the unsent outbox rows");
        topic_lines.push(format!(
            "  {:<26} {:>8} {:>7}   {}",
            t.topic,
            thousands(ids.len() as u64),
            unsent,
            t.service
        ));
        staged_ids.insert(t.topic, ids);
    }
    let mut group_lines = Vec::new();
    let mut missing_total = 0;
    for g in &all_groups {
        let applied = files
            .ids(
                g.service,
                &format!(
                    "select hex(event_id) from inbox where consumer = '{}' and topic = '{}'",
                    g.group, g.topic
                ),
            )
            .await;
        let empty = BTreeSet::new();
        let staged = staged_ids.get(g.topic.as_str()).unwrap_or(&empty);
        let missing = staged.difference(&applied).count();
        missing_total += missing;
        group_lines.push(format!(
            "  {:<30} {:<26} {:>8} {:>8}",
            g.group,
            g.topic,
            thousands(staged.intersection(&applied).count() as u64),
            missing
        ));
    }
    for db in files.dbs.into_values() {
        let _ = db.close().await;
    }
    // What dev logged while it ran, and while it stopped (SIGTERM onwards).
    let running_log = dev.log_text();
    let dev_exit = dev.stop().await;
    let log = dev.log_text();
    let stopping_log = log.get(running_log.len()..).unwrap_or_default();
    let errors_of = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("ERROR"))
            .map(str::to_owned)
            .collect()
    };
    let (errors, stopping_errors) = (errors_of(&running_log), errors_of(stopping_log));

    // Figures.
    let tally = &shared.tally;
    let calls = tally.calls.load(Relaxed);
    println!(
        "load stopped after {:.1} s: {} calls, {:.1} calls/s",
        load_took.as_secs_f64(),
        thousands(calls),
        calls as f64 / load_took.as_secs_f64()
    );
    let by_rpc = tally.by_rpc.lock().expect("tally lock");
    let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
    for r in by_rpc.values() {
        for (code, (n, _)) in &r.codes {
            *by_code.entry(code.as_str()).or_default() += n;
        }
    }
    println!("answers by gRPC code");
    for (code, n) in &by_code {
        println!("  {code:<20} {:>9}", thousands(*n));
    }
    println!(
        "  UNAVAILABLE naming the database or a lock: {}",
        tally.database_unavailable.load(Relaxed)
    );
    println!("by call                  calls     ok  p50 ms  p99 ms  max ms");
    for (rpc, r) in by_rpc.iter() {
        let mut ms = r.latencies_ms.clone();
        ms.sort_by(f64::total_cmp);
        let ok = r.codes.get("OK").map_or(0, |(n, _)| *n);
        println!(
            "  {rpc:<20} {:>8} {:>6} {:>7.1} {:>7.1} {:>7.0}",
            thousands(ms.len() as u64),
            thousands(ok),
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            ms.last().copied().unwrap_or(0.0)
        );
        for (code, (n, message)) in r.codes.iter().filter(|(c, _)| c.as_str() != "OK") {
            println!("      {n} × {code}, first: {}", clip(message, 160));
        }
    }
    drop(by_rpc);
    println!("events                        staged  unsent   staged by");
    for line in &topic_lines {
        println!("{line}");
    }
    println!("consumer groups                topic                       applied  missing");
    for line in &group_lines {
        println!("{line}");
    }
    println!("largest total lag seen, summed over every group");
    println!(
        "  {:<50} {:>6} at {:>5.0} s of the load ({} readings, {} failed)",
        "the gauge (messaging_consumer_lag, every 2 s)",
        watch.max_total,
        watch.max_total_at.as_secs_f64(),
        watch.scrapes,
        watch.failed
    );
    println!("    per group: {}", watch.per_group());
    println!(
        "  {:<50} {:>6} at {:>5.0} s of the load ({} readings, {} failed)",
        "the databases (staged − applied, every 10 s)",
        db_watch.max_total,
        db_watch.max_total_at.as_secs_f64(),
        db_watch.scrapes,
        db_watch.failed
    );
    println!("    per group: {}", db_watch.per_group());
    match drained_after {
        Some(d) => println!(
            "load stopped → every staged event applied by every group (databases): {:.1} s",
            d.as_secs_f64()
        ),
        None => println!(
            "load stopped → every staged event applied by every group (databases): NEVER within {} s",
            settings.drain.as_secs()
        ),
    }
    match metric_zero_after {
        Some(d) => println!(
            "load stopped → messaging_consumer_lag 0 for every group: {:.1} s",
            d.as_secs_f64()
        ),
        None => println!("load stopped → messaging_consumer_lag 0 for every group: not seen"),
    }
    println!("dev stopped: {dev_exit}");
    println!(
        "dev logged {} ERROR lines while running (from its start to the SIGTERM), {} while stopping",
        errors.len(),
        stopping_errors.len()
    );
    for line in errors.iter().take(5) {
        println!("  {}", clip(line, 400));
    }
    if !stopping_errors.is_empty() {
        println!("  while stopping, the first:");
        for line in stopping_errors.iter().take(2) {
            println!("  {}", clip(line, 400));
        }
    }

    let failed = drained_after.is_none() || missing_total > 0;
    if failed || settings.keep || !errors.is_empty() {
        println!("data and dev's log kept in {}", data.display());
    } else {
        let _ = std::fs::remove_dir_all(&data);
    }
    if failed {
        println!("FAILED: a consumer group never applied every staged event");
        std::process::exit(1);
    }
}
