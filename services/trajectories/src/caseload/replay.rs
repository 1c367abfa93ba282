//! The replay of a trajectory's history through the domain, in date order: a history the
//! rules would never have produced (an attest before a component it needs, a contract
//! before the start, a B1 test before the attest…) is refused like a live request.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    fields::{
        CheckedResult, Problem, Register, TestKind, TestOutcome, date, enum_field, keep, rename,
    },
    record::TrajectoryRecord,
};
use crate::{
    TrajectoryError,
    domain::{
        Component, ContractTerms, ExemptionReason, ObligationStatus, ParticipationWaiver,
        Trajectory, TrajectoryEvent,
    },
    rules,
};

/// One dated fact of a trajectory's history, in the order the replay applies facts of
/// the same day.
#[derive(Debug, Clone)]
enum Fact {
    Resume(usize, NaiveDate),
    Pass(usize, TestKind, NaiveDate),
    Vdab(NaiveDate),
    Participation(NaiveDate),
    Effort(NaiveDate, String),
    Suspend(usize, NaiveDate, String),
    Activity(NaiveDate, NaiveDate),
    Stop(NaiveDate, String),
}

impl Fact {
    fn on(&self) -> NaiveDate {
        match self {
            Fact::Resume(_, d)
            | Fact::Pass(_, _, d)
            | Fact::Vdab(d)
            | Fact::Participation(d)
            | Fact::Effort(d, _)
            | Fact::Suspend(_, d, _)
            | Fact::Activity(d, _)
            | Fact::Stop(d, _) => *d,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Fact::Resume(..) => 0,
            Fact::Pass(..) | Fact::Vdab(..) | Fact::Participation(..) => 1,
            Fact::Effort(..) => 2,
            Fact::Suspend(..) => 3,
            Fact::Activity(..) => 4,
            Fact::Stop(..) => 5,
        }
    }
}

/// Replays the trajectory's history through the domain in date order.
pub(super) fn replay(
    t: &TrajectoryRecord,
    register: &Register,
    today: NaiveDate,
    birth_date: Option<NaiveDate>,
    results: &[CheckedResult],
    problems: &mut Vec<Problem>,
) -> Option<(Trajectory, Vec<TrajectoryEvent>)> {
    let p = "trajectory.";
    let municipality = match keep(
        problems,
        register.municipality("trajectory.municipality_nis", &t.municipality_nis),
    ) {
        Some(Some(m)) => Some(m),
        Some(None) => {
            problems.push(Problem::new(
                "trajectory.municipality_nis",
                format!(
                    "{} is in Wallonia; no Flemish agency is competent there",
                    t.municipality_nis
                ),
            ));
            None
        }
        None => None,
    };
    let agency = enum_field(
        problems,
        "trajectory.agency",
        &t.agency,
        platform::Agency::from_alias,
        "agii, bon, atlas or in-gent",
    );
    if let (Some(m), Some(a)) = (municipality, agency)
        && m.agency != a
    {
        problems.push(Problem::new(
            "trajectory.agency",
            format!(
                "{} is not competent for {}: {} is (rule M1)",
                a.as_str(),
                m.nis,
                m.agency.as_str()
            ),
        ));
    }
    let status = enum_field(
        problems,
        "trajectory.status",
        &t.status,
        ObligationStatus::from_stored,
        "obliged, entitled or voluntary",
    );
    let exemption = t.exemption.as_deref().map(|e| {
        enum_field(
            problems,
            "trajectory.exemption",
            e,
            ExemptionReason::from_stored,
            "serious-illness, mental-disability or physical-disability",
        )
    });
    let started_on = keep(
        problems,
        date("trajectory.started_on", &t.started_on, today),
    );
    let waiver = t.participation_waiver.as_deref().map(|w| {
        enum_field(
            problems,
            "trajectory.participation_waiver",
            w,
            ParticipationWaiver::from_stored,
            "works or studies",
        )
    });
    let facts = collect_facts(t, today, results, problems);
    let contract = t.contract.as_ref().map(|c| {
        let cp = "trajectory.contract.";
        let d = |problems: &mut Vec<Problem>, f: &str, v: &str| {
            keep(problems, date(&format!("{cp}{f}"), v, NaiveDate::MAX))
        };
        (
            d(problems, "signed_on", &c.signed_on),
            d(problems, "nt2_deadline", &c.nt2_deadline),
            d(problems, "mo_deadline", &c.mo_deadline),
            c.vdab_deadline
                .as_deref()
                .map(|v| d(problems, "vdab_deadline", v)),
            c.participation_deadline
                .as_deref()
                .map(|v| d(problems, "participation_deadline", v)),
        )
    });
    if !problems.is_empty() {
        return None;
    }
    let (municipality, status, started_on) = (municipality?, status?, started_on?);
    // Every test a trajectory counts was taken in it: a result before the start is one
    // the person could not take for this trajectory (and testing keeps none before
    // 2004-04-01, which no start precedes: T13).
    for (i, r) in results.iter().enumerate() {
        if r.taken_on < started_on {
            problems.push(Problem::new(
                format!("trajectory.results[{i}].taken_on"),
                format!(
                    "{} lies before the trajectory started ({started_on})",
                    r.taken_on
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return None;
    }
    let exemption = exemption.flatten();
    let (mut trajectory, started) = Trajectory::start(
        Uuid::now_v7(),
        municipality,
        status,
        exemption,
        started_on,
        today,
    )
    .map_err(|e| problems.push(Problem::domain(p, e)))
    .ok()?;
    let mut events = vec![started];
    if let Some((signed_on, nt2, mo, vdab, participation)) = contract {
        let signed_on = signed_on?;
        if signed_on > today {
            problems.push(Problem::new(
                "trajectory.contract.signed_on",
                format!("{signed_on} lies in the future"),
            ));
            return None;
        }
        let terms = ContractTerms {
            signed_on,
            rights_and_duties_accepted: true,
            nt2_deadline: nt2,
            mo_deadline: mo,
            participation_deadline: participation.flatten(),
        };
        events.extend(
            trajectory
                .sign_contract(terms)
                .map_err(|e| problems.push(Problem::domain("trajectory.contract.", e)))
                .ok()?,
        );
        let signed = trajectory.contract.as_ref()?;
        if let Some(Some(v)) = vdab
            && v != signed.vdab_deadline
        {
            problems.push(Problem::new(
                "trajectory.contract.vdab_deadline",
                format!(
                    "{v} is not the rules' deadline: {} months after the start, {} (T1)",
                    rules::VDAB_REGISTRATION_MONTHS,
                    signed.vdab_deadline
                ),
            ));
        }
        if let Some(paid) = t.fees_paid_cents
            && paid != signed.fees_total()
        {
            problems.push(Problem::new(
                "trajectory.fees_paid_cents",
                format!(
                    "{paid} is not what the rules charge this trajectory: {} (T3, T4)",
                    signed.fees_total()
                ),
            ));
        }
        if let Some(Some(w)) = waiver {
            events.extend(
                trajectory
                    .waive_participation(w, signed_on)
                    .map_err(|e| problems.push(Problem::domain(p, e)))
                    .ok()?,
            );
        }
    } else if waiver.is_some() || t.fees_paid_cents.is_some_and(|c| c != 0) {
        problems.push(Problem::new(
            "trajectory.contract",
            "is required for a participation waiver or fees paid",
        ));
    }
    if let Some(hours) = t.participation.as_ref().map(|p| p.hours) {
        trajectory.record_participation_hours(hours);
    }
    if !problems.is_empty() {
        return None;
    }
    let attest_on = match &t.attest_issued_on {
        Some(a) => Some(keep(
            problems,
            date("trajectory.attest_issued_on", a, today),
        )?),
        None => None,
    };
    apply_facts(
        &mut trajectory,
        &mut events,
        facts,
        attest_on,
        birth_date,
        today,
        problems,
    );
    if !problems.is_empty() {
        return None;
    }
    check_attest(&trajectory, attest_on, results, problems);
    // History has no breaches: whatever the source system did about a late fact is its own.
    events.retain(|e| {
        !matches!(
            e,
            TrajectoryEvent::ObligationBreached { .. } | TrajectoryEvent::B1FollowUpOverdue { .. }
        )
    });
    problems.is_empty().then_some((trajectory, events))
}

fn collect_facts(
    t: &TrajectoryRecord,
    today: NaiveDate,
    results: &[CheckedResult],
    problems: &mut Vec<Problem>,
) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (i, r) in results.iter().enumerate() {
        if r.outcome == TestOutcome::Passed {
            facts.push(Fact::Pass(i, r.test, r.taken_on));
        }
    }
    if let Some(v) = &t.vdab_registered_on
        && let Some(d) = keep(problems, date("trajectory.vdab_registered_on", v, today))
    {
        facts.push(Fact::Vdab(d));
    }
    if let Some(Some(c)) = t.participation.as_ref().map(|p| p.completed_on.as_deref())
        && let Some(d) = keep(
            problems,
            date("trajectory.participation.completed_on", c, today),
        )
    {
        facts.push(Fact::Participation(d));
    }
    for (i, s) in t.suspensions.iter().enumerate() {
        let sp = format!("trajectory.suspensions[{i}].");
        let from = keep(problems, date(&format!("{sp}from"), &s.from, today));
        if let Some(from) = from {
            facts.push(Fact::Suspend(i, from, s.reason.clone()));
        }
        if let Some(to) = &s.to
            && let Some(to) = keep(problems, date(&format!("{sp}to"), to, today))
        {
            match from {
                // Resumes sort before suspensions of the same day: one that ends where it
                // began would resume a trajectory that was never suspended.
                Some(from) if to <= from => problems.push(Problem::new(
                    format!("{sp}to"),
                    format!("{to} is not after the suspension began ({from})"),
                )),
                _ => facts.push(Fact::Resume(i, to)),
            }
        }
    }
    if let Some(e) = &t.effort_declaration
        && let Some(d) = keep(
            problems,
            date(
                "trajectory.effort_declaration.issued_on",
                &e.issued_on,
                today,
            ),
        )
    {
        facts.push(Fact::Effort(d, e.grounds.clone()));
    }
    if let Some(b1) = &t.b1 {
        match (&b1.activity_from, &b1.activity_to) {
            (Some(f), Some(to)) => {
                let f = keep(problems, date("trajectory.b1.activity_from", f, today));
                let to = keep(problems, date("trajectory.b1.activity_to", to, today));
                if let (Some(f), Some(to)) = (f, to) {
                    facts.push(Fact::Activity(f, to));
                }
            }
            (None, None) => {}
            _ => problems.push(Problem::new(
                "trajectory.b1",
                "activity_from and activity_to go together",
            )),
        }
    }
    if let Some(s) = &t.stopped
        && let Some(d) = keep(problems, date("trajectory.stopped.on", &s.on, today))
    {
        facts.push(Fact::Stop(d, s.reason.clone()));
    }
    facts.sort_by_key(|f| (f.on(), f.rank()));
    facts
}

/// Applies the facts in order; the attest the domain issues takes the file's date (which
/// may follow the last component, never precede it) and starts the B1 follow-up.
#[allow(clippy::too_many_arguments)]
fn apply_facts(
    t: &mut Trajectory,
    events: &mut Vec<TrajectoryEvent>,
    facts: Vec<Fact>,
    attest_on: Option<NaiveDate>,
    birth_date: Option<NaiveDate>,
    today: NaiveDate,
    problems: &mut Vec<Problem>,
) {
    let stopped_on = facts.iter().find_map(|f| match f {
        Fact::Stop(d, _) => Some(*d),
        _ => None,
    });
    for fact in facts {
        let on = fact.on();
        if let Some(stop) = stopped_on
            && on > stop
        {
            let field = match &fact {
                Fact::Pass(i, ..) => format!("trajectory.results[{i}].taken_on"),
                Fact::Resume(i, _) => format!("trajectory.suspensions[{i}].to"),
                _ => "trajectory.stopped.on".to_owned(),
            };
            problems.push(Problem::new(
                field,
                format!("{on} lies after the trajectory stopped ({stop})"),
            ));
            return;
        }
        let step = match fact {
            Fact::Pass(i, TestKind::B1Oral, d) => {
                let prefix = format!("trajectory.results[{i}].taken_on");
                match t.progress.attest_issued_on {
                    Some(a) if d >= a => Ok(t.pass_b1(d)),
                    Some(a) => Err(Problem::new(
                        prefix,
                        format!(
                            "the B1 oral test of the follow-up is taken after the attest ({a}), not before"
                        ),
                    )),
                    None => Err(Problem::new(
                        prefix,
                        "a B1 oral test of the follow-up needs an attest first; this person could not take it",
                    )),
                }
            }
            Fact::Pass(i, kind, d) => {
                let prefix = format!("trajectory.results[{i}].");
                if d < t.started_on {
                    Err(Problem::new(
                        format!("{prefix}taken_on"),
                        format!("lies before the trajectory started ({})", t.started_on),
                    ))
                } else {
                    let component = kind.component().unwrap_or(Component::Nt2);
                    t.complete_test(component, d).map_err(|e| match e {
                        TrajectoryError::ContractNotSigned { .. } => Problem::new(
                            format!("{prefix}taken_on"),
                            "a test counts for the trajectory only under a signed contract; there is none",
                        ),
                        other => Problem::domain(&prefix, other),
                    })
                }
            }
            Fact::Vdab(d) => t
                .record_vdab_registration(d, today)
                .map_err(|e| rename("trajectory.vdab_registered_on")(Problem::domain("", e))),
            Fact::Participation(d) => {
                if t.contract.is_none() {
                    Err(Problem::new(
                        "trajectory.participation.completed_on",
                        "participation counts only under a signed contract; there is none",
                    ))
                } else if d < t.started_on {
                    Err(Problem::new(
                        "trajectory.participation.completed_on",
                        format!("lies before the trajectory started ({})", t.started_on),
                    ))
                } else {
                    Ok(t.complete_participation(d))
                }
            }
            Fact::Suspend(i, d, reason) => t
                .suspend(&reason, d, today)
                .map_err(|e| Problem::domain(&format!("trajectory.suspensions[{i}]."), e)),
            Fact::Resume(i, d) => t
                .resume(d, today)
                .map_err(|e| Problem::domain(&format!("trajectory.suspensions[{i}]."), e)),
            Fact::Effort(d, grounds) => t
                .declare_effort(&grounds, d, today)
                .map_err(|e| Problem::domain("trajectory.effort_declaration.", e)),
            Fact::Activity(from, to) => t
                .record_activity(from, to, today)
                .map_err(|e| Problem::domain("trajectory.b1.activity_", e)),
            Fact::Stop(d, reason) => t
                .stop(&reason, d, today)
                .map_err(|e| Problem::domain("trajectory.stopped.", e)),
        };
        match step {
            Ok(new) => {
                for event in new {
                    if let TrajectoryEvent::AttestIssued { on: derived } = event {
                        let Some(file_on) = attest_on else {
                            problems.push(Problem::new(
                                "trajectory.attest_issued_on",
                                format!("is missing, but every component it needs was completed by {derived}, when the rules issue the attest"),
                            ));
                            return;
                        };
                        if file_on < derived {
                            problems.push(Problem::new(
                                "trajectory.attest_issued_on",
                                format!("{file_on} lies before {derived}, when the last component it needs was completed"),
                            ));
                            return;
                        }
                        t.progress.attest_issued_on = Some(file_on);
                        events.push(TrajectoryEvent::AttestIssued { on: file_on });
                        events.extend(t.start_b1_follow_up(birth_date));
                    } else {
                        events.push(event);
                    }
                }
            }
            Err(p) => {
                problems.push(p);
                return;
            }
        }
    }
}

/// The attest the file gives must be the one the rules issued; no NT2 or MO result may
/// follow it.
pub(super) fn check_attest(
    t: &Trajectory,
    attest_on: Option<NaiveDate>,
    results: &[CheckedResult],
    problems: &mut Vec<Problem>,
) {
    match (attest_on, t.progress.attest_issued_on) {
        (Some(_), None) => {
            let open: Vec<_> = t
                .open_components()
                .into_iter()
                .map(crate::store::component_key)
                .collect();
            problems.push(Problem::new(
                "trajectory.attest_issued_on",
                format!(
                    "the attest needs every component, and these were never completed: {}",
                    open.join(", ")
                ),
            ));
        }
        (Some(a), Some(_)) => {
            for (i, r) in results.iter().enumerate() {
                if r.test != TestKind::B1Oral && r.taken_on > a {
                    problems.push(Problem::new(
                        format!("trajectory.results[{i}].taken_on"),
                        format!(
                            "{} lies after the attest ({a}); an NT2 or MO test after the attest never counted",
                            r.taken_on
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
}
