//! Checking one record whole, without the database: every field parsed and named as the
//! file names it, then the trajectory replayed through the domain (`replay`). What passes
//! is a [`Checked`] record, ready to store.

use chrono::NaiveDate;
use platform::{NationalNumber, Nis};

use super::{
    fields::{CheckedResult, Problem, Register, TestKind, TestOutcome, date, keep},
    fingerprint::fingerprint,
    record::{Record, ResultRecord, TrajectoryRecord},
    replay::replay,
};
use crate::{
    TrajectoryError, convert,
    domain::{Trajectory, TrajectoryEvent},
    rules,
};

/// One refusal: the line, the field as the file names it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// The register facts of the first registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRegister {
    pub nis: Nis,
    pub registered_on: NaiveDate,
    pub free_movement: bool,
    pub foreigners_register: bool,
}

/// A record that passed: the person, the replayed trajectory with the events it caused
/// (no breach or overdue among them: history has none), the results and registrations.
#[derive(Debug, Clone)]
pub struct Checked {
    pub line: u64,
    pub number: NationalNumber,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Option<NaiveDate>,
    pub mother_tongue: String,
    pub contact_language: Option<String>,
    pub register: Option<CheckedRegister>,
    pub trajectory: Option<(Trajectory, Vec<TrajectoryEvent>)>,
    pub results: Vec<CheckedResult>,
    /// GGC (or BAPA) registrations: day and `dutch`/`french`.
    pub ggc: Vec<(NaiveDate, &'static str)>,
    /// Per part of the record (person, trajectory, results, registrations), a hash of
    /// what the file said: the same line again is unchanged, a different one changed.
    pub fingerprint: String,
}

/// Checks `record` (line `line`) against the register and the rules as of `today`.
pub fn check(
    line: u64,
    record: &Record,
    register: &Register,
    today: NaiveDate,
) -> Result<Checked, Vec<LineError>> {
    let mut problems = Vec::new();
    let checked = check_fields(record, register, today, &mut problems);
    match checked {
        Some(mut c) if problems.is_empty() => {
            c.line = line;
            Ok(c)
        }
        _ => Err(problems
            .into_iter()
            .map(|p| LineError {
                line,
                field: p.field,
                reason: p.reason,
            })
            .collect()),
    }
}

fn check_fields(
    record: &Record,
    register: &Register,
    today: NaiveDate,
    problems: &mut Vec<Problem>,
) -> Option<Checked> {
    let field_error = |e: TrajectoryError| Problem::domain("", e);
    let number = keep(
        problems,
        NationalNumber::parse(&record.national_number).map_err(|e| {
            Problem::new(
                "national_number",
                e.to_string()
                    .replace("national_number: ", "")
                    .replace("national_number ", ""),
            )
        }),
    );
    let given_name = keep(
        problems,
        convert::name("given_name", &record.given_name).map_err(field_error),
    );
    let family_name = keep(
        problems,
        convert::name("family_name", &record.family_name).map_err(field_error),
    );
    let mother_tongue = keep(
        problems,
        convert::language("mother_tongue", &record.mother_tongue)
            .map_err(field_error)
            .and_then(|l| l.ok_or_else(|| Problem::new("mother_tongue", "is required"))),
    );
    let contact_language = keep(
        problems,
        convert::language(
            "contact_language",
            record.contact_language.as_deref().unwrap_or(""),
        )
        .map_err(field_error),
    );
    let birth_date = match &record.birth_date {
        Some(b) => keep(problems, date("birth_date", b, today)).map(Some),
        None => Some(number.as_ref().and_then(NationalNumber::birth_date)),
    }
    .flatten();
    let register_facts = record.register.as_ref().and_then(|r| {
        let nis = keep(
            problems,
            register.municipality("register.municipality_nis", &r.municipality_nis),
        );
        let on = keep(
            problems,
            date("register.registered_on", &r.registered_on, today),
        );
        let nis = match nis {
            Some(Some(m)) => Some(m.nis),
            // A Walloon first registration is a fact too: keep its code.
            Some(None) => Nis::parse("municipality_nis", &r.municipality_nis).ok(),
            None => None,
        };
        Some(CheckedRegister {
            nis: nis?,
            registered_on: on?,
            free_movement: r.free_movement,
            foreigners_register: r.foreigners_register,
        })
    });
    let results = check_results(record.trajectory.as_ref(), today, problems);
    let trajectory = match &record.trajectory {
        Some(t) => {
            // The replay stops at its own first refusal, not at one of the person's fields.
            let mut own = Vec::new();
            let replayed = replay(t, register, today, birth_date, &results, &mut own);
            problems.extend(own);
            replayed
        }
        None => None,
    };
    // Where the person lived is judged from what passed its own check: a refused
    // trajectory or register fact is named once, not again at each GGC registration.
    let lived = match (&record.trajectory, &trajectory) {
        (Some(_), Some((t, _))) => Some(Lived::Trajectory(t.municipality.nis)),
        (Some(_), None) => None,
        (None, _) if record.register.is_some() && register_facts.is_none() => None,
        (None, _) => Some(Lived::Registered(register_facts.as_ref().map(|r| r.nis))),
    };
    let ggc = check_ggc(record, lived, today, problems);
    if !problems.is_empty() {
        return None;
    }
    Some(Checked {
        line: 0,
        number: number?,
        given_name: given_name?,
        family_name: family_name?,
        birth_date,
        mother_tongue: mother_tongue?,
        contact_language: contact_language?,
        register: register_facts,
        trajectory,
        results,
        ggc,
        fingerprint: fingerprint(record),
    })
}

fn check_results(
    trajectory: Option<&TrajectoryRecord>,
    today: NaiveDate,
    problems: &mut Vec<Problem>,
) -> Vec<CheckedResult> {
    let Some(t) = trajectory else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, r) in t.results.iter().enumerate() {
        if let Some(c) = check_result(&format!("trajectory.results[{i}]."), r, today, problems) {
            out.push(c);
        }
    }
    out
}

fn check_result(
    prefix: &str,
    r: &ResultRecord,
    today: NaiveDate,
    problems: &mut Vec<Problem>,
) -> Option<CheckedResult> {
    let test = TestKind::parse(&r.test);
    if test.is_none() {
        problems.push(Problem::new(
            format!("{prefix}test"),
            format!("{:?} is not nt2-a2, nt2-a2-adapted, mo or b1-oral", r.test),
        ));
    }
    let taken_on = keep(
        problems,
        date(&format!("{prefix}taken_on"), &r.taken_on, today),
    );
    let outcome = match r.outcome.as_str() {
        "passed" => Some(TestOutcome::Passed),
        "failed" => Some(TestOutcome::Failed),
        "absent" => Some(TestOutcome::Absent),
        other => {
            problems.push(Problem::new(
                format!("{prefix}outcome"),
                format!("{other:?} is not passed, failed or absent"),
            ));
            None
        }
    };
    let centre = r.centre.trim();
    if centre.is_empty() || centre.chars().count() > 200 {
        problems.push(Problem::new(
            format!("{prefix}centre"),
            "is required, at most 200 characters",
        ));
    }
    let level = r.level.as_deref().map(str::trim).filter(|l| !l.is_empty());
    match (outcome, level, test) {
        (
            Some(TestOutcome::Passed),
            None,
            Some(TestKind::Nt2A2 | TestKind::Nt2A2Adapted | TestKind::B1Oral),
        ) => {
            problems.push(Problem::new(
                format!("{prefix}level"),
                "a passed language test needs the level reached (e.g. A2)",
            ));
        }
        (Some(TestOutcome::Absent), Some(_), _) => problems.push(Problem::new(
            format!("{prefix}level"),
            "an absence reaches no level",
        )),
        (_, Some(l), _) if l.chars().count() > 10 => problems.push(Problem::new(
            format!("{prefix}level"),
            "is longer than 10 characters",
        )),
        _ => {}
    }
    Some(CheckedResult {
        test: test?,
        taken_on: taken_on?,
        outcome: outcome?,
        level: level.map(str::to_owned),
        centre: centre.to_owned(),
    })
}

/// Where a person lived, from what passed its own check.
#[derive(Debug, Clone, Copy)]
enum Lived {
    /// The trajectory's municipality.
    Trajectory(Nis),
    /// No trajectory: the first registration's municipality, when the record gives one.
    Registered(Option<Nis>),
}

/// The GGC registrations; with `lived`, also whether the person lived in Brussels.
fn check_ggc(
    record: &Record,
    lived: Option<Lived>,
    today: NaiveDate,
    problems: &mut Vec<Problem>,
) -> Vec<(NaiveDate, &'static str)> {
    let mut out = Vec::new();
    for (i, g) in record.ggc_registrations.iter().enumerate() {
        let gp = format!("ggc_registrations[{i}].");
        let on = keep(
            problems,
            date(&format!("{gp}registered_on"), &g.registered_on, today),
        );
        let language: Option<&'static str> = match g.language.as_str() {
            "dutch" => Some("dutch"),
            "french" => Some("french"),
            other => {
                problems.push(Problem::new(
                    format!("{gp}language"),
                    format!("{other:?} is not dutch or french"),
                ));
                None
            }
        };
        if let Some(Lived::Trajectory(nis)) = lived
            && !rules::BRUSSELS_NIS.contains(&nis.code())
        {
            problems.push(Problem::new(
                format!("{gp}registered_on"),
                format!(
                    "the person's trajectory is in {nis} (Flanders); the GGC registers Brussels residents only"
                ),
            ));
            continue;
        }
        if let Some(Lived::Registered(nis)) = lived
            && !nis.is_some_and(|n| rules::BRUSSELS_NIS.contains(&n.code()))
        {
            problems.push(Problem::new(
                format!("{gp}registered_on"),
                "the person has neither a Brussels trajectory nor Brussels register facts; \
                 the GGC registers Brussels residents only",
            ));
            continue;
        }
        if let (Some(on), Some("dutch")) = (on, language)
            && on < rules::GGC_TRAJECTORIES_SINCE
        {
            problems.push(Problem::new(
                format!("{gp}language"),
                format!(
                    "GGC trajectories exist since {}; before, the BAPA route was French (T8)",
                    rules::GGC_TRAJECTORIES_SINCE
                ),
            ));
            continue;
        }
        if let (Some(on), Some(l)) = (on, language) {
            out.push((on, l));
        }
    }
    out
}
