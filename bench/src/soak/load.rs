//! The load: the cycle of calls each client walks, the people in flight between its
//! writes, what the clients share (tally, tokens, pace, the offer and session in use), and
//! the warm-up (a first journey, an offer and a session) before it starts.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use proto::{
    ceremonies::v1 as cpb, interpreting::v1 as ipb, municipalities::v1 as mpb,
    recruitment::v1 as rpb, testing::v1 as tpb, trajectories::v1 as pb,
};
use testkit::{authed, date, national_number, sign_request};
use tokio::time::Interval;
use tonic::{Code, Status};

use super::{
    clients::{Clients, Tally, Tokens, call},
    dev::Ports,
};

/// The municipality the journeys live in (Antwerp; Atlas is its agency).
const NIS: &str = "11002";

/// People waiting for a placement or a booking, per client.
const QUEUE: usize = 64;
/// Attempts at a placement or booking the projection did not allow yet.
const TRIES: u32 = 6;

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
pub(crate) struct Shared {
    pub(crate) tally: Tally,
    pub(crate) tokens: RwLock<Arc<Tokens>>,
    pub(crate) next_person: AtomicU64,
    /// The offer placements go into, replaced by a new one when full.
    pub(crate) offer: tokio::sync::Mutex<String>,
    /// The session bookings go into, replaced by a new one when full.
    pub(crate) session: tokio::sync::Mutex<String>,
    /// Recently signed people (person, trajectory), for the reads.
    pub(crate) signed: Mutex<VecDeque<(String, String)>>,
    pub(crate) next_read: AtomicU64,
    /// The global pace: one tick per call.
    pub(crate) pace: tokio::sync::Mutex<Interval>,
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
pub(crate) struct Worker {
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
    pub(crate) fn new(index: usize, ports: Ports, shared: Arc<Shared>) -> Worker {
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

    pub(crate) async fn run(mut self, until: tokio::time::Instant) {
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

/// Before the load: one journey through, an offer and a session.
pub(crate) async fn warm_up(
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
