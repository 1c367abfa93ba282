//! Faults under load: a steady stream of commands across services while the broker is
//! stopped, a poison event arrives, a service is SIGKILLed mid-relay and PostgreSQL
//! crashes, and afterwards the proof, from the databases and the topics, that no
//! committed command and no event was lost and none was applied twice.
//!
//! The short run is a test (`it::faults`); the long one is `bench-faults`
//! (`scripts/bench faults`). Everything runs on loopback: two PostgreSQL clusters of
//! their own (the shared server must not crash under other tests; trajectories' server
//! stays up while the other services' one crashes, so that their consumers hold events
//! they cannot apply), the broker process, and trajectories as its own `inburgering
//! serve` process (only a process can be SIGKILLed); the other services run in this
//! process.
//!
//! The load is journeys of four commands: register a person, start their trajectory and
//! sign the contract (trajectories), then book an NT2 test (testing, once testing's
//! projection of trajectories' events knows the contract). A caller retries a command
//! only after `UNAVAILABLE`, and a retry after a lost answer finds the first attempt's
//! effect (the same person, "already has trajectory", "already signed", "already
//! booked"): that is how a client of the platform is expected to behave.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use platform::runtime::ServiceModule;
use proto::{testing::v1 as tpb, trajectories::v1 as pb};
use rdkafka::Message as _;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status, transport::Channel};

use crate::{
    Issuer, TestApp, authed, date, kafka, national_number, postgres::Cluster, spawn_app_on,
};

const TRAJECTORIES_TOPIC: &str = <trajectories::Trajectories as ServiceModule>::TOPIC;
const TESTING_TOPIC: &str = <testing::Testing as ServiceModule>::TOPIC;

/// How hard and how long.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Journeys started at most (4 commands each).
    pub journeys: usize,
    /// Commands per second the load aims at.
    pub rate: f64,
    /// How long the broker stays down.
    pub broker_down: Duration,
    /// How long PostgreSQL stays down after its crash.
    pub postgres_down: Duration,
    /// Load without faults before the first, between two and after the last.
    pub settle: Duration,
    /// Consumers' attempts before dead-lettering (the poison's expected count).
    pub max_attempts: u32,
    /// Bound on one command's retries and on the drain after the load.
    pub patience: Duration,
}

impl Plan {
    /// The test suite's run: about a minute in a debug build.
    pub fn short() -> Plan {
        Plan {
            journeys: 400,
            rate: 20.0,
            broker_down: Duration::from_secs(5),
            postgres_down: Duration::from_secs(12),
            settle: Duration::from_secs(4),
            max_attempts: 3,
            patience: Duration::from_secs(60),
        }
    }

    /// The bench's run: the broker down for a minute, PostgreSQL too (longer than the
    /// consumers' attempts take, each waiting up to the pool's 10 s for a connection).
    /// `FAULTS_RATE`, `FAULTS_JOURNEYS`, `FAULTS_BROKER_DOWN` and `FAULTS_POSTGRES_DOWN`
    /// (seconds) override.
    pub fn long() -> Plan {
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
        Plan {
            journeys: env("FAULTS_JOURNEYS").map_or(20_000, |v| v as usize),
            rate: env("FAULTS_RATE").unwrap_or(100.0),
            broker_down: Duration::from_secs_f64(env("FAULTS_BROKER_DOWN").unwrap_or(60.0)),
            postgres_down: Duration::from_secs_f64(env("FAULTS_POSTGRES_DOWN").unwrap_or(60.0)),
            settle: Duration::from_secs(10),
            max_attempts: 5,
            patience: Duration::from_secs(300),
        }
    }
}

/// What the callers saw.
#[derive(Debug, Default)]
struct Tally {
    /// Commands the load issued (a retry is the same command).
    commands: AtomicU64,
    /// Commands that took effect (answered OK, or found done on a retry).
    accepted: AtomicU64,
    /// Calls sent, retries included.
    calls: AtomicU64,
    /// Calls answered `UNAVAILABLE` and retried.
    retried: AtomicU64,
    /// Calls whose connection broke mid-call, retried.
    broken: AtomicU64,
    /// Retries that found the first attempt's effect (its answer was lost).
    found_done: AtomicU64,
    /// Bookings answered "not known yet" while testing's projection caught up.
    waited: AtomicU64,
    /// Commands given up on after [`Plan::patience`] of retries.
    gave_up: AtomicU64,
    /// Any other answer, by code: must stay empty.
    refused: Mutex<BTreeMap<String, u64>>,
}

impl Tally {
    fn refuse(&self, status: &Status) {
        let key = format!("{:?}: {}", status.code(), status.message());
        *self
            .refused
            .lock()
            .expect("tally lock")
            .entry(key)
            .or_default() += 1;
    }
}

/// What one journey achieved, as its caller knows it.
#[derive(Debug, Default, Clone)]
struct Journey {
    person_id: Option<String>,
    trajectory_id: Option<String>,
    signed: bool,
    booked: bool,
}

/// When each fault happened, from the start of the load.
#[derive(Debug, Default)]
pub struct Timeline {
    pub broker_stopped_at: Duration,
    pub broker_back_at: Duration,
    pub poison_at: Duration,
    pub killed_at: Duration,
    /// Unsent outbox rows of trajectories at the SIGKILL (> 0: it died mid-relay).
    pub unsent_at_kill: i64,
    pub restarted_at: Duration,
    pub postgres_crashed_at: Duration,
    pub postgres_back_at: Duration,
    pub load_stopped_at: Duration,
    /// trajectories' resident set (KiB): before the load, and under it (just before the
    /// SIGKILL, and just before PostgreSQL's crash, in the restarted process).
    pub rss_idle_kib: u64,
    pub rss_loaded_kib: u64,
    pub rss_restarted_kib: u64,
    pub drained_at: Duration,
}

/// One topic's events: what the services staged and what the topic holds.
#[derive(Debug)]
pub struct TopicFigures {
    pub topic: &'static str,
    /// Outbox rows (committed events).
    pub staged: usize,
    /// Outbox rows never marked sent.
    pub unsent: usize,
    /// Messages on the topic (republished ones included; the poison too).
    pub messages: usize,
    /// Messages whose id was already on the topic: published again after the SIGKILL.
    pub republished: usize,
    /// Staged events whose id is not on the topic.
    pub lost: usize,
}

/// One consumer group's share of a topic.
#[derive(Debug)]
pub struct GroupFigures {
    pub group: &'static str,
    pub topic: &'static str,
    /// Staged events of the topic in the group's inbox.
    pub applied: usize,
    /// Staged events of the topic not in it.
    pub missing: usize,
}

/// One dead-lettered message.
#[derive(Debug)]
pub struct DeadLetter {
    pub topic: String,
    pub group: String,
    pub attempts: u32,
    pub is_poison: bool,
}

/// Everything the run measured and proved.
#[derive(Debug)]
pub struct Figures {
    pub plan: Plan,
    pub build: &'static str,
    pub timeline: Timeline,
    pub journeys: usize,
    pub commands: u64,
    pub accepted: u64,
    pub calls: u64,
    pub retried: u64,
    pub broken: u64,
    pub found_done: u64,
    pub waited: u64,
    pub gave_up: u64,
    pub refused: BTreeMap<String, u64>,
    /// Commands a caller saw accepted whose effect is not in the database.
    pub lost_commands: usize,
    /// Effects in the database no caller saw accepted.
    pub unacknowledged: usize,
    /// Persons with more than one trajectory or booking.
    pub doubled_commands: usize,
    pub topics: Vec<TopicFigures>,
    pub groups: Vec<GroupFigures>,
    /// Redeliveries the inboxes skipped (counters of this process and of the restarted
    /// trajectories process; the killed process's counts die with it).
    pub duplicates_suppressed: u64,
    /// Candidates in testing whose event counter exceeds the events of their journey.
    pub applied_twice: usize,
    pub dead_letters: Vec<DeadLetter>,
    /// ERROR lines trajectories logged over its starts (expected: none).
    pub trajectories_errors: Vec<String>,
}

impl Figures {
    /// Panics, with the figures, unless nothing was lost or doubled, only `UNAVAILABLE`
    /// was returned, and the poison (and nothing else) is on the DLQ after the configured
    /// attempts.
    pub fn assert_sound(&self) {
        let mut wrong = Vec::new();
        if self.lost_commands > 0 || self.unacknowledged > 0 || self.doubled_commands > 0 {
            wrong.push("commands lost, unacknowledged or doubled");
        }
        if self.topics.iter().any(|t| t.lost > 0 || t.unsent > 0) {
            wrong.push("events lost or never sent");
        }
        if self.groups.iter().any(|g| g.missing > 0) {
            wrong.push("events not applied by a consumer");
        }
        if self.applied_twice > 0 {
            wrong.push("events applied twice");
        }
        if !self.refused.is_empty() || self.gave_up > 0 {
            wrong.push("answers other than UNAVAILABLE, or commands given up");
        }
        if self.dead_letters.iter().any(|d| !d.is_poison) {
            wrong.push("events other than the poison dead-lettered");
        }
        let poisoned_after = self
            .dead_letters
            .iter()
            .find(|d| d.group == testing::PROJECTION_GROUP)
            .map(|d| d.attempts);
        if poisoned_after != Some(self.plan.max_attempts) {
            wrong.push("the poison not dead-lettered by testing after the configured attempts");
        }
        assert!(wrong.is_empty(), "{}\n{self}", wrong.join("; "));
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.plan;
        let t = &self.timeline;
        writeln!(
            f,
            "inburgering faults under load ({} build): {} journeys of 4 commands at {:.0} commands/s, consumers give up after {} attempts",
            self.build, self.journeys, p.rate, p.max_attempts
        )?;
        writeln!(f, "faults, seconds from the start of the load")?;
        writeln!(
            f,
            "  broker killed                     {:>7}  back at {} ({} s down)",
            secs(t.broker_stopped_at),
            secs(t.broker_back_at),
            secs(t.broker_back_at - t.broker_stopped_at)
        )?;
        writeln!(
            f,
            "  poison event injected             {:>7}",
            secs(t.poison_at)
        )?;
        writeln!(
            f,
            "  trajectories SIGKILLed            {:>7}  with {} unsent outbox rows; serving again at {}",
            secs(t.killed_at),
            t.unsent_at_kill,
            secs(t.restarted_at)
        )?;
        writeln!(
            f,
            "  PostgreSQL crashed (immediate)    {:>7}  accepting again at {} (the server of all but trajectories)",
            secs(t.postgres_crashed_at),
            secs(t.postgres_back_at)
        )?;
        writeln!(
            f,
            "  load stopped                      {:>7}  every event applied at {}",
            secs(t.load_stopped_at),
            secs(t.drained_at)
        )?;
        writeln!(
            f,
            "trajectories' resident set: {} MiB idle, {} MiB under load, {} MiB restarted under load",
            t.rss_idle_kib / 1024,
            t.rss_loaded_kib / 1024,
            t.rss_restarted_kib / 1024
        )?;
        writeln!(f, "commands")?;
        writeln!(
            f,
            "  sent (commands / calls)           {:>7} / {}",
            self.commands, self.calls
        )?;
        writeln!(
            f,
            "  accepted                          {:>7}",
            self.accepted
        )?;
        writeln!(f, "  retried after UNAVAILABLE         {:>7}", self.retried)?;
        writeln!(
            f,
            "  connection broken mid-call, retried {:>7}",
            self.broken
        )?;
        writeln!(
            f,
            "  found done on retry               {:>7}",
            self.found_done
        )?;
        writeln!(f, "  bookings waiting for testing      {:>7}", self.waited)?;
        writeln!(
            f,
            "  other answers                     {:>7}",
            self.refused.values().sum::<u64>()
        )?;
        for (answer, n) in &self.refused {
            writeln!(f, "    {n} × {answer}")?;
        }
        writeln!(f, "  given up                          {:>7}", self.gave_up)?;
        writeln!(
            f,
            "  lost (accepted, not in database)  {:>7}",
            self.lost_commands
        )?;
        writeln!(
            f,
            "  in database, never acknowledged   {:>7}",
            self.unacknowledged
        )?;
        writeln!(
            f,
            "  applied twice                     {:>7}",
            self.doubled_commands
        )?;
        writeln!(
            f,
            "events          staged  unsent  on topic  republished  lost"
        )?;
        for t in &self.topics {
            writeln!(
                f,
                "  {:<24} {:>6} {:>7} {:>9} {:>12} {:>5}",
                t.topic, t.staged, t.unsent, t.messages, t.republished, t.lost
            )?;
        }
        writeln!(
            f,
            "consumers                                  applied  missing"
        )?;
        for g in &self.groups {
            writeln!(f, "  {:<40} {:>7} {:>8}", g.group, g.applied, g.missing)?;
        }
        writeln!(
            f,
            "  duplicates suppressed by inboxes  {:>7}",
            self.duplicates_suppressed
        )?;
        writeln!(
            f,
            "  applied twice                     {:>7}",
            self.applied_twice
        )?;
        writeln!(f, "dead letters")?;
        for d in &self.dead_letters {
            writeln!(
                f,
                "  {} by {} after {} attempts{}",
                d.topic,
                d.group,
                d.attempts,
                if d.is_poison {
                    " (the poison)"
                } else {
                    " (NOT the poison)"
                }
            )?;
        }
        writeln!(
            f,
            "trajectories logged {} ERROR lines over its starts",
            self.trajectories_errors.len()
        )?;
        for line in self.trajectories_errors.iter().take(3) {
            writeln!(f, "  {}", line.chars().take(400).collect::<String>())?;
        }
        Ok(())
    }
}

/// The consumer groups of each topic the load produces on, with the database of each.
fn groups(app: &TestApp) -> Vec<(&'static str, &'static str, SecretString)> {
    vec![
        (
            TRAJECTORIES_TOPIC,
            testing::PROJECTION_GROUP,
            app.testing_db.clone(),
        ),
        (
            TRAJECTORIES_TOPIC,
            municipalities::projection::RESIDENTS_GROUP,
            app.municipalities_db.clone(),
        ),
        (
            TRAJECTORIES_TOPIC,
            recruitment::projection::CONVERSION_GROUP,
            app.recruitment_db.clone(),
        ),
        (
            TRAJECTORIES_TOPIC,
            interpreting::projection::TRAJECTORIES_GROUP,
            app.interpreting_db.clone(),
        ),
        (
            TRAJECTORIES_TOPIC,
            ceremonies::projection::ATTESTS_GROUP,
            app.ceremonies_db.clone(),
        ),
        (
            TESTING_TOPIC,
            trajectories::results::GROUP,
            app.trajectories_db.clone(),
        ),
    ]
}

/// Runs the plan and returns its figures; panics only when the platform cannot be
/// started or a check cannot be made (a wrong figure is for [`Figures::assert_sound`]).
pub async fn run(plan: Plan) -> Figures {
    // Trajectories keeps its database on a server of its own, which stays up: while the
    // other services' server is down, its events keep coming, and their consumers hold
    // events they cannot apply (in production every service has its own database).
    let (cluster, producer) = tokio::task::spawn_blocking(|| (Cluster::start(), Cluster::start()))
        .await
        .expect("the cluster thread");
    let max_attempts = plan.max_attempts;
    let (crashed, kept) = (cluster.admin_url(), producer.admin_url());
    let mut app = spawn_app_on(
        |service| {
            if service == "trajectories" {
                kept.clone()
            } else {
                crashed.clone()
            }
        },
        Issuer::Dev,
        |c| c.consumer_max_attempts = max_attempts,
    )
    .await;
    let mut process = app.trajectories_as_process().await;
    let sessions = plan_sessions(&app, plan.journeys).await;

    let mut timeline = Timeline {
        rss_idle_kib: process.rss_kib().unwrap_or(0),
        ..Timeline::default()
    };
    let tally = Arc::new(Tally::default());
    let stop = CancellationToken::new();
    let load = tokio::spawn(generate(
        Clients::new(&app, sessions),
        plan.clone(),
        tally.clone(),
        stop.clone(),
    ));
    let start = Instant::now();

    tokio::time::sleep(plan.settle).await;
    timeline.broker_stopped_at = start.elapsed();
    app.broker.kill().await;
    tokio::time::sleep(plan.broker_down).await;
    app.broker.resume().await;
    timeline.broker_back_at = start.elapsed();

    tokio::time::sleep(plan.settle).await;
    let poison = inject_poison(&app).await;
    timeline.poison_at = start.elapsed();

    timeline.rss_loaded_kib = process.rss_kib().unwrap_or(0);
    timeline.unsent_at_kill = kill_mid_relay(&app.trajectories_db, &mut process).await;
    timeline.killed_at = start.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    process.start().await;
    timeline.restarted_at = start.elapsed();

    tokio::time::sleep(plan.settle).await;
    timeline.rss_restarted_kib = process.rss_kib().unwrap_or(0);
    timeline.postgres_crashed_at = start.elapsed();
    let postgres_down = plan.postgres_down;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.crash_and_restart(postgres_down);
        cluster
    })
    .await
    .expect("the cluster thread");
    timeline.postgres_back_at = start.elapsed();

    tokio::time::sleep(plan.settle).await;
    stop.cancel();
    let journeys = load.await.expect("the load generator");
    timeline.load_stopped_at = start.elapsed();

    // Wait (boundedly) for the consumers; what is still missing then shows in the figures.
    let all = groups(&app);
    let drain_deadline = Instant::now() + plan.patience;
    while Instant::now() < drain_deadline && !drained(&app, &all).await {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    timeline.drained_at = start.elapsed();

    let figures = prove(&app, &process, plan, timeline, &tally, &journeys, &poison).await;
    process.stop().await;
    app.stop().await;
    drop((cluster, producer));
    figures
}

/// Whether every consumer group applied every event staged on its topic.
async fn drained(app: &TestApp, groups: &[(&'static str, &'static str, SecretString)]) -> bool {
    for (topic, group, db) in groups {
        let staged = column(outbox_db(app, topic), &outbox_ids(topic)).await;
        let applied = column(db, &inbox_ids(topic, group)).await;
        if staged.iter().any(|id| !applied.contains(id)) {
            return false;
        }
    }
    true
}

/// Seats per session (testing's largest).
const SEATS: usize = 500;

/// Sessions with a seat for every journey, ten days from now.
async fn plan_sessions(app: &TestApp, journeys: usize) -> Vec<String> {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(10);
    let mut testing = app.testing().await;
    let mut sessions = Vec::new();
    for _ in 0..journeys.div_ceil(SEATS) {
        let session = testing
            .plan_session(authed(
                tpb::PlanSessionRequest {
                    test_type: tpb::TestType::Nt2A2 as i32,
                    location: "Huis van het Nederlands Antwerpen".into(),
                    starts_at: Some(prost_types::Timestamp {
                        seconds: starts_at.timestamp(),
                        nanos: 0,
                    }),
                    capacity: SEATS as i32,
                },
                &app.token("atlas", &["test-admin"]),
            ))
            .await
            .expect("plan a session")
            .into_inner()
            .session
            .expect("a session");
        sessions.push(session.session_id);
    }
    sessions
}

/// What the load calls with: lazily connected channels that reconnect to the same
/// address after a restart.
#[derive(Clone)]
struct Clients {
    trajectories: pb::trajectory_service_client::TrajectoryServiceClient<Channel>,
    testing: tpb::testing_service_client::TestingServiceClient<Channel>,
    token: String,
    /// Journey `i` books a seat in session `i % len`.
    sessions: Arc<Vec<String>>,
}

impl Clients {
    fn new(app: &TestApp, sessions: Vec<String>) -> Clients {
        let channel = |addr: std::net::SocketAddr| {
            Channel::from_shared(format!("http://{addr}"))
                .expect("a valid address")
                .connect_lazy()
        };
        Clients {
            trajectories: pb::trajectory_service_client::TrajectoryServiceClient::new(channel(
                app.trajectories_addr,
            )),
            testing: tpb::testing_service_client::TestingServiceClient::new(channel(
                app.testing_addr,
            )),
            token: app.atlas(),
            sessions: Arc::new(sessions),
        }
    }
}

/// Starts a journey every 4 / `rate` seconds until `stop` or `plan.journeys`, then waits
/// for those in flight.
async fn generate(
    clients: Clients,
    plan: Plan,
    tally: Arc<Tally>,
    stop: CancellationToken,
) -> Vec<Journey> {
    let mut pace = tokio::time::interval(Duration::from_secs_f64(4.0 / plan.rate));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = tokio::task::JoinSet::new();
    for i in 0..plan.journeys {
        tokio::select! {
            _ = pace.tick() => {},
            _ = stop.cancelled() => break,
        }
        running.spawn(journey(clients.clone(), i, tally.clone(), plan.patience));
    }
    running.join_all().await
}

/// How one call ended, once retries after `UNAVAILABLE` are spent.
enum Answer<T> {
    Ok(T),
    Other(Status),
    GaveUp,
}

/// The connection broke in the middle of the call (the server was SIGKILLed): tonic
/// reports `Unknown` "transport error" where gRPC's status-code spec says `UNAVAILABLE`
/// ("some data transmitted before the connection breaks"). Retryable like `UNAVAILABLE`,
/// and just as ambiguous: the command may have committed.
fn broken(status: &Status) -> bool {
    status.code() == Code::Unknown && status.message() == "transport error"
}

/// Calls `call` until it answers something other than `UNAVAILABLE` or `patience` runs
/// out, counting every call.
async fn retrying<T, F, Fut>(tally: &Tally, patience: Duration, mut call: F) -> Answer<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_millis(50);
    loop {
        tally.calls.fetch_add(1, Relaxed);
        match call().await {
            Ok(response) => return Answer::Ok(response.into_inner()),
            Err(status) if status.code() == Code::Unavailable || broken(&status) => {
                if broken(&status) {
                    tally.broken.fetch_add(1, Relaxed);
                } else {
                    tally.retried.fetch_add(1, Relaxed);
                }
                if Instant::now() >= deadline {
                    return Answer::GaveUp;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(status) => return Answer::Other(status),
        }
    }
}

/// One person's four commands; stops at the first that does not take effect.
async fn journey(c: Clients, i: usize, tally: Arc<Tally>, patience: Duration) -> Journey {
    let mut done = Journey::default();
    let token = c.token.clone();
    let outcome = |tally: &Tally, answer: Answer<()>| -> bool {
        match answer {
            Answer::Ok(()) => {
                tally.accepted.fetch_add(1, Relaxed);
                true
            }
            Answer::Other(status) => {
                tally.refuse(&status);
                false
            }
            Answer::GaveUp => {
                tally.gave_up.fetch_add(1, Relaxed);
                false
            }
        }
    };

    // Register: the same national number again answers with the same person.
    tally.commands.fetch_add(1, Relaxed);
    let request = pb::RegisterPersonRequest {
        national_number: national_number(700_000_000 + i as u64),
        given_name: "Amina".into(),
        family_name: "Haddad".into(),
        mother_tongue: "ar".into(),
        contact_language: "nl".into(),
    };
    let answer = retrying(&tally, patience, || {
        let (mut client, request) = (c.trajectories.clone(), authed(request.clone(), &token));
        async move { client.register_person(request).await }
    })
    .await;
    let answer = match answer {
        Answer::Ok(r) => {
            if !r.created {
                tally.found_done.fetch_add(1, Relaxed);
            }
            done.person_id = Some(r.person_id);
            Answer::Ok(())
        }
        Answer::Other(s) => Answer::Other(s),
        Answer::GaveUp => Answer::GaveUp,
    };
    if !outcome(&tally, answer) {
        return done;
    }
    let person_id = done.person_id.clone().expect("set above");

    // Start: a second start names the trajectory the first one made.
    tally.commands.fetch_add(1, Relaxed);
    let request = pb::StartTrajectoryRequest {
        person_id: person_id.clone(),
        municipality_nis: "11002".into(),
        status: pb::ObligationStatus::Obliged as i32,
        exemption_reason: 0,
        started_on: Some(date(2026, 1, 15)),
    };
    let answer = retrying(&tally, patience, || {
        let (mut client, request) = (c.trajectories.clone(), authed(request.clone(), &token));
        async move { client.start_trajectory(request).await }
    })
    .await;
    let answer = match answer {
        Answer::Ok(r) => {
            done.trajectory_id = r.trajectory.map(|t| t.trajectory_id);
            Answer::Ok(())
        }
        Answer::Other(s) if s.code() == Code::AlreadyExists => {
            let existing = s
                .message()
                .rsplit_once("already has trajectory ")
                .map(|(_, id)| id.to_owned());
            match existing {
                Some(id) => {
                    tally.found_done.fetch_add(1, Relaxed);
                    done.trajectory_id = Some(id);
                    Answer::Ok(())
                }
                None => Answer::Other(s),
            }
        }
        Answer::Other(s) => Answer::Other(s),
        Answer::GaveUp => Answer::GaveUp,
    };
    if !outcome(&tally, answer) {
        return done;
    }
    let trajectory_id = done.trajectory_id.clone().expect("set above");

    // Sign: a second signature is refused as already signed.
    tally.commands.fetch_add(1, Relaxed);
    let request = crate::sign_request(&trajectory_id);
    let answer = retrying(&tally, patience, || {
        let (mut client, request) = (c.trajectories.clone(), authed(request.clone(), &token));
        async move { client.sign_contract(request).await }
    })
    .await;
    let answer = match answer {
        Answer::Ok(_) => Answer::Ok(()),
        Answer::Other(s)
            if s.code() == Code::FailedPrecondition && s.message().contains("already signed") =>
        {
            tally.found_done.fetch_add(1, Relaxed);
            Answer::Ok(())
        }
        Answer::Other(s) => Answer::Other(s),
        Answer::GaveUp => Answer::GaveUp,
    };
    if !outcome(&tally, answer) {
        return done;
    }
    done.signed = true;

    // Book: testing learns of the contract from trajectories' events; until then it
    // answers "not found" or "not signed", and the caller tries again a little later.
    tally.commands.fetch_add(1, Relaxed);
    let request = tpb::BookTestRequest {
        session_id: c.sessions[i % c.sessions.len()].clone(),
        person_id,
    };
    let deadline = Instant::now() + patience;
    let answer = loop {
        let answer = retrying(&tally, patience, || {
            let (mut client, request) = (c.testing.clone(), authed(request.clone(), &token));
            async move { client.book_test(request).await }
        })
        .await;
        match answer {
            Answer::Ok(_) => break Answer::Ok(()),
            Answer::Other(s) if s.code() == Code::AlreadyExists => {
                tally.found_done.fetch_add(1, Relaxed);
                break Answer::Ok(());
            }
            // Its projection may know the person before their trajectory (another
            // partition), or nothing yet.
            Answer::Other(s)
                if (s.code() == Code::NotFound
                    || (s.code() == Code::FailedPrecondition
                        && s.message().contains("may not take this test")))
                    && Instant::now() < deadline =>
            {
                tally.waited.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Answer::Other(s) => break Answer::Other(s),
            Answer::GaveUp => break Answer::GaveUp,
        }
    };
    done.booked = outcome(&tally, answer);
    done
}

/// A `ContractSigned` for a trajectory nobody started: testing (and municipalities)
/// cannot apply it, a retry cannot help, and it must end on the DLQ after the configured
/// attempts without holding up the events behind it. Its `ce_id`.
async fn inject_poison(app: &TestApp) -> String {
    use prost::Message as _;
    let event = pb::ContractSigned {
        trajectory_id: uuid::Uuid::now_v7().to_string(),
        person_id: uuid::Uuid::now_v7().to_string(),
        agency: proto::common::v1::Agency::Atlas as i32,
        signed_on: Some(date(2026, 1, 20)),
        ..Default::default()
    };
    let id = uuid::Uuid::now_v7().to_string();
    let ce_type = <pb::ContractSigned as prost::Name>::full_name();
    kafka::produce(
        &app.broker.address(),
        TRAJECTORIES_TOPIC,
        &event.trajectory_id,
        &[
            ("ce_id", id.as_str()),
            ("ce_type", ce_type.as_str()),
            ("ce_source", "/faults"),
            ("ce_specversion", "1.0"),
        ],
        &event.encode_to_vec(),
    )
    .await;
    id
}

/// SIGKILLs `process` as soon as its outbox holds unsent rows (its relay is at work), or
/// after ten seconds of looking; the unsent rows at that moment.
async fn kill_mid_relay(db: &SecretString, process: &mut crate::process::ServiceProcess) -> i64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    use secrecy::ExposeSecret;
    let db = Database::connect(db.expose_secret())
        .await
        .expect("trajectories' database answers");
    let unsent_rows = || async {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "select count(*) from outbox where sent_at is null",
            ))
            .await
            .ok()
            .flatten()?;
        row.try_get_by_index::<i64>(0).ok()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut unsent = 0;
    while Instant::now() < deadline {
        unsent = unsent_rows().await.unwrap_or(0);
        if unsent > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    process.kill().await;
    let _ = db.close().await;
    unsent
}

fn outbox_db<'a>(app: &'a TestApp, topic: &str) -> &'a SecretString {
    if topic == TESTING_TOPIC {
        &app.testing_db
    } else {
        &app.trajectories_db
    }
}

fn outbox_ids(topic: &str) -> String {
    format!("select event_id::text from outbox where topic = '{topic}'")
}

fn inbox_ids(topic: &str, group: &str) -> String {
    format!("select event_id::text from inbox where topic = '{topic}' and consumer = '{group}'")
}

/// The first column of every row of `sql`, as text.
async fn column(url: &SecretString, sql: &str) -> BTreeSet<String> {
    rows(url, sql).await.into_iter().collect()
}

/// Like [`column`], keeping duplicates.
async fn rows(url: &SecretString, sql: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    use secrecy::ExposeSecret;
    let db = Database::connect(url.expose_secret())
        .await
        .unwrap_or_else(|e| panic!("database answers: {e}"));
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = db.close().await;
    rows.iter()
        .map(|r| {
            r.try_get_by_index::<String>(0)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
        .collect()
}

/// Sums the `messaging_process_duration` counts of outcome `duplicate` in a Prometheus
/// text exposition.
fn duplicates_in(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("messaging_process_duration")
                && l.contains("_count{")
                && l.contains("outcome=\"duplicate\"")
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum()
}

/// Checks the databases and topics against what the callers were told.
async fn prove(
    app: &TestApp,
    process: &crate::process::ServiceProcess,
    plan: Plan,
    timeline: Timeline,
    tally: &Tally,
    journeys: &[Journey],
    poison: &str,
) -> Figures {
    // Commands: each effect a caller saw is there once, and nothing else is.
    let said = |pick: fn(&Journey) -> Option<String>| -> BTreeSet<String> {
        journeys.iter().filter_map(pick).collect()
    };
    let persons = said(|j| j.person_id.clone());
    let trajectories = said(|j| j.trajectory_id.clone());
    let signed = said(|j| j.signed.then(|| j.trajectory_id.clone()).flatten());
    let booked = said(|j| j.booked.then(|| j.person_id.clone()).flatten());
    let in_db_persons = column(&app.trajectories_db, "select id::text from person").await;
    let in_db_trajectories = rows(
        &app.trajectories_db,
        "select person_id::text from trajectory",
    )
    .await;
    let in_db_trajectory_ids =
        column(&app.trajectories_db, "select id::text from trajectory").await;
    let in_db_signed = column(
        &app.trajectories_db,
        "select id::text from trajectory where contract_signed_on is not null",
    )
    .await;
    let in_db_bookings = rows(&app.testing_db, "select person_id::text from booking").await;
    let in_db_booked: BTreeSet<String> = in_db_bookings.iter().cloned().collect();
    let lost_commands = persons.difference(&in_db_persons).count()
        + trajectories.difference(&in_db_trajectory_ids).count()
        + signed.difference(&in_db_signed).count()
        + booked.difference(&in_db_booked).count();
    let unacknowledged = in_db_persons.difference(&persons).count()
        + in_db_trajectory_ids.difference(&trajectories).count()
        + in_db_signed.difference(&signed).count()
        + in_db_booked.difference(&booked).count();
    let distinct_trajectory_persons: BTreeSet<&String> = in_db_trajectories.iter().collect();
    let doubled_commands = (in_db_trajectories.len() - distinct_trajectory_persons.len())
        + (in_db_bookings.len() - in_db_booked.len());

    // Events: every staged event is on its topic, and every consumer applied it.
    let mut topics = Vec::new();
    for topic in [TRAJECTORIES_TOPIC, TESTING_TOPIC] {
        let db = outbox_db(app, topic);
        let staged = column(db, &outbox_ids(topic)).await;
        let unsent = rows(
            db,
            &format!(
                "select event_id::text from outbox where topic = '{topic}' and sent_at is null"
            ),
        )
        .await
        .len();
        let messages = kafka::read_all(&app.broker.address(), topic).await;
        let ids: Vec<String> = messages
            .iter()
            .filter_map(|m| kafka::header(m, "ce_id"))
            .collect();
        let distinct: BTreeSet<&String> = ids.iter().collect();
        topics.push(TopicFigures {
            topic,
            staged: staged.len(),
            unsent,
            messages: messages.len(),
            republished: ids.len() - distinct.len(),
            lost: staged.iter().filter(|id| !distinct.contains(id)).count(),
        });
    }
    let mut consumers = Vec::new();
    for (topic, group, db) in groups(app) {
        let staged = column(outbox_db(app, topic), &outbox_ids(topic)).await;
        let applied = column(&db, &inbox_ids(topic, group)).await;
        consumers.push(GroupFigures {
            group,
            topic,
            applied: staged.intersection(&applied).count(),
            missing: staged.difference(&applied).count(),
        });
    }
    // testing counts each event it applies to a candidate: three per signed journey.
    let counters = rows(
        &app.testing_db,
        "select person_id::text || ' ' || events_applied::text from candidate",
    )
    .await;
    let applied_twice = counters
        .iter()
        .filter_map(|r| r.rsplit_once(' ')?.1.parse::<i64>().ok())
        .filter(|n| *n > 3)
        .count();
    let duplicates_suppressed =
        duplicates_in(&platform::metrics::render()) + duplicates_in(&process.metrics().await);

    let mut dead_letters = Vec::new();
    for topic in [TRAJECTORIES_TOPIC, TESTING_TOPIC] {
        let dlq = platform::events::dlq_topic(topic);
        for m in kafka::read_all(&app.broker.address(), &dlq).await {
            dead_letters.push(DeadLetter {
                topic: dlq.clone(),
                group: kafka::header(&m, "dlq_consumer").unwrap_or_default(),
                attempts: kafka::header(&m, "dlq_attempts")
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0),
                is_poison: kafka::header(&m, "ce_id").as_deref() == Some(poison)
                    && m.topic() == dlq,
            });
        }
    }

    Figures {
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        journeys: journeys.len(),
        commands: tally.commands.load(Relaxed),
        accepted: tally.accepted.load(Relaxed),
        calls: tally.calls.load(Relaxed),
        retried: tally.retried.load(Relaxed),
        broken: tally.broken.load(Relaxed),
        found_done: tally.found_done.load(Relaxed),
        waited: tally.waited.load(Relaxed),
        gave_up: tally.gave_up.load(Relaxed),
        refused: tally.refused.lock().expect("tally lock").clone(),
        lost_commands,
        unacknowledged,
        doubled_commands,
        topics,
        groups: consumers,
        duplicates_suppressed,
        applied_twice,
        dead_letters,
        trajectories_errors: process.error_lines(),
        plan,
        timeline,
    }
}
