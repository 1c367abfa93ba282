//! What a caller holds and what the callers saw: the tokens per role (from dev's issuer),
//! one connection per service, and the tally of answers by call and gRPC code.

use std::{
    collections::BTreeMap,
    future::Future,
    path::Path,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use proto::{
    ceremonies::v1::ceremony_service_client::CeremonyServiceClient,
    interpreting::v1::interpreting_service_client::InterpretingServiceClient,
    municipalities::v1::municipality_service_client::MunicipalityServiceClient,
    recruitment::v1::recruitment_service_client::RecruitmentServiceClient,
    testing::v1::testing_service_client::TestingServiceClient,
    trajectories::v1::trajectory_service_client::TrajectoryServiceClient,
};
use tokio::process::Command;
use tonic::{Code, Status, transport::Channel};

use super::dev::Ports;

/// One token per role the mix calls with.
#[derive(Debug)]
pub(crate) struct Tokens {
    /// atlas case-worker: trajectories' journeys, testing's reads and bookings.
    pub(crate) case_worker: String,
    /// atlas test-admin: testing's sessions.
    pub(crate) test_admin: String,
    /// municipality-11002 municipality-officer: offers, placements, hours.
    pub(crate) officer: String,
    /// agii monitor: the local monitor.
    pub(crate) monitor: String,
    /// municipality-11002 ceremony-organiser: ceremonies.
    pub(crate) organiser: String,
    /// atlas recruitment-officer: the funnel.
    pub(crate) recruiter: String,
    /// atlas interpreting-coordinator: interpreting's requests.
    pub(crate) coordinator: String,
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

pub(crate) async fn tokens(bin: &Path, data: &Path, issuer: &str) -> Tokens {
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
pub(crate) struct Clients {
    pub(crate) trajectories: TrajectoryServiceClient<Channel>,
    pub(crate) testing: TestingServiceClient<Channel>,
    pub(crate) municipalities: MunicipalityServiceClient<Channel>,
    pub(crate) ceremonies: CeremonyServiceClient<Channel>,
    pub(crate) recruitment: RecruitmentServiceClient<Channel>,
    pub(crate) interpreting: InterpretingServiceClient<Channel>,
}

impl Clients {
    pub(crate) fn new(ports: Ports) -> Clients {
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
pub(crate) struct RpcTally {
    pub(crate) latencies_ms: Vec<f64>,
    /// Answers by code: how many, and the first message of each code but OK.
    pub(crate) codes: BTreeMap<String, (u64, String)>,
}

#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) calls: AtomicU64,
    /// `UNAVAILABLE` answers whose message names the database or a lock.
    pub(crate) database_unavailable: AtomicU64,
    pub(crate) by_rpc: Mutex<BTreeMap<&'static str, RpcTally>>,
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
pub(crate) async fn call<T, Fut>(tally: &Tally, rpc: &'static str, call: Fut) -> Result<T, Status>
where
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let started = Instant::now();
    let result = call.await.map(tonic::Response::into_inner);
    tally.record(rpc, started.elapsed(), result.as_ref().err());
    result
}
