//! The caseload import as an operator runs it against the real platform: the
//! `inburgering import caseload` binary on a generated caseload (the testkit's
//! [`caseload::generate`]), writing into the databases of a running app whose register
//! reached trajectories through the broker. What it reports must be what the generator
//! wrote; a second run changes nothing and stages no event; one bad line, a truncated
//! file or a wrong field anywhere refuses the whole file, named by line and field; a
//! changed line is reported, not applied; a run killed half-way is finished by the next.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use chrono::{Days, NaiveDate};
use inburgering_testkit::{TestApp, caseload, scalar, spawn_app};
use secrecy::ExposeSecret;
use trajectories::caseload::record::{GgcRecord, Record, ResultRecord};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("caseload-{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `inburgering import caseload FILE` into `app`'s databases, with the report in `report`
/// and none of the caller's `INBURGERING_*` settings.
fn command(app: &TestApp, file: &Path, report: &Path) -> tokio::process::Command {
    let mut command =
        tokio::process::Command::new(inburgering_testkit::workspace_binary("inburgering"));
    command
        .args(["import", "caseload"])
        .arg(file)
        .arg("--trajectories-database-url")
        .arg(app.trajectories_db.expose_secret())
        .arg("--testing-database-url")
        .arg(app.testing_db.expose_secret())
        .arg("--report")
        .arg(report)
        .current_dir(file.parent().unwrap())
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("INBURGERING_") {
            command.env_remove(key);
        }
    }
    command.env("INBURGERING_LOG", "warn");
    command
}

async fn import(app: &TestApp, file: &Path, report: &Path) -> Output {
    command(app, file, report)
        .output()
        .await
        .expect("run inburgering")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run succeeded; its stderr.
fn ok(out: &Output) -> String {
    let text = stderr(out);
    assert!(out.status.success(), "the import failed:\n{text}");
    text
}

/// The run was refused as a usage error (exit 2); its stderr.
fn refused(out: &Output) -> String {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr:\n{text}");
    assert!(out.stdout.is_empty(), "no report printed");
    text
}

/// Rows of the outbox of trajectories and of testing.
async fn outboxes(app: &TestApp) -> (i64, i64) {
    let sql = "select count(*) from outbox";
    (
        scalar(&app.trajectories_db, sql).await,
        scalar(&app.testing_db, sql).await,
    )
}

/// The outboxes once every row is published and nothing new came for a second: what the
/// import staged and what the running services did about it.
async fn settled(app: &TestApp) -> (i64, i64) {
    let unsent = "select count(*) from outbox where sent_at is null";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut last = outboxes(app).await;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = outboxes(app).await;
        if now == last
            && scalar(&app.trajectories_db, unsent).await == 0
            && scalar(&app.testing_db, unsent).await == 0
        {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outboxes did not settle: {now:?}"
        );
        last = now;
    }
}

/// Nothing of an import is in the databases, and no event was staged since `before`.
async fn nothing_written(app: &TestApp, before: (i64, i64)) {
    for (db, table) in [
        (&app.trajectories_db, "person"),
        (&app.trajectories_db, "trajectory"),
        (&app.trajectories_db, "caseload_import"),
        (&app.trajectories_db, "ggc_registration"),
        (&app.testing_db, "imported_result"),
    ] {
        let n = scalar(db, &format!("select count(*) from {table}")).await;
        assert_eq!(n, 0, "{table} rows after a refused import");
    }
    assert_eq!(
        outboxes(app).await,
        before,
        "events staged by a refused import"
    );
}

fn read(path: &Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write(path: &Path, records: &[Record]) {
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Test results in the records, as testing must hold them.
fn results(records: &[Record]) -> i64 {
    records
        .iter()
        .filter_map(|r| r.trajectory.as_ref())
        .map(|t| t.results.len() as i64)
        .sum()
}

/// The `(line, field)` of each refusal the import printed for `file`.
fn refusals(stderr: &str, file: &Path) -> BTreeSet<(u64, String)> {
    let prefix = format!("{}: line ", file.display());
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let mut parts = rest.splitn(3, ": ");
            let line = parts.next().unwrap().parse().unwrap();
            (line, parts.next().unwrap().to_owned())
        })
        .collect()
}

/// `number` with two neighbouring digits swapped: a typo mod 97 catches.
fn typo(number: &str) -> String {
    let digits: Vec<char> = number.chars().collect();
    (0..digits.len() - 1)
        .map(|i| {
            let mut d = digits.clone();
            d.swap(i, i + 1);
            d.into_iter().collect::<String>()
        })
        .find(|t| t != number && platform::NationalNumber::parse(t).is_err())
        .expect("a transposition mod 97 refuses")
}

fn day(value: &str) -> NaiveDate {
    value.parse().unwrap()
}

fn shift(value: &str, days: i64) -> String {
    let d = day(value);
    let moved = if days >= 0 {
        d.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    moved.unwrap().to_string()
}

#[tokio::test]
async fn a_generated_caseload_imports_exactly_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let dir = scratch("exact");
    let generated = caseload::generate(&dir.join("atlas.jsonl"), 400, 1).unwrap();
    let report = dir.join("report.csv");
    let records = read(&generated.path);
    let expected = generated.expected.to_csv();

    let started = std::time::Instant::now();
    let out = import(&app, &generated.path, &report).await;
    let first = started.elapsed();
    let text = ok(&out);
    assert!(
        text.contains("400 records: 400 imported, 0 unchanged, 0 changed (not applied), 0 already on the platform"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&report).unwrap(), expected);
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let imported = "select count(*) from trajectory where imported_on is not null";
    assert_eq!(
        scalar(&app.trajectories_db, imported).await,
        generated.expected.trajectories as i64
    );
    let stored_results = "select count(*) from imported_result";
    assert_eq!(
        scalar(&app.testing_db, stored_results).await,
        results(&records)
    );

    let before = settled(&app).await;
    assert!(before.0 > 400, "the import staged its events: {before:?}");
    std::fs::remove_file(&report).unwrap();
    let started = std::time::Instant::now();
    let out = import(&app, &generated.path, &report).await;
    let again = started.elapsed();
    let text = ok(&out);
    assert!(
        text.contains("400 records: 0 imported, 400 unchanged, 0 changed (not applied)"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("; nothing changed"), "{text}");
    assert_eq!(std::fs::read_to_string(&report).unwrap(), expected);
    assert_eq!(outboxes(&app).await, before, "the second run staged events");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        outboxes(&app).await,
        before,
        "something acted on the second run"
    );
    assert_eq!(
        scalar(&app.testing_db, stored_results).await,
        results(&records)
    );
    eprintln!("400 records: first run {first:?}, second run {again:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test]
async fn one_mistyped_national_number_among_two_thousand_refuses_the_file() {
    let app = spawn_app().await;
    let dir = scratch("typo");
    let file = dir.join("agii.jsonl");
    caseload::generate(&file, 2_000, 2).unwrap();
    let mut records = read(&file);
    records[1_233].national_number = typo(&records[1_233].national_number);
    write(&file, &records);
    let before = outboxes(&app).await;

    let text = refused(&import(&app, &file, &dir.join("report.csv")).await);
    assert_eq!(
        refusals(&text, &file),
        BTreeSet::from([(1_234, "national_number".to_owned())]),
        "{text}"
    );
    assert!(
        text.contains("1 of 2000 records refused") && text.contains("nothing imported"),
        "{text}"
    );
    assert!(
        !dir.join("report.csv").exists(),
        "no report of a refused file"
    );
    nothing_written(&app, before).await;
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

/// A record's mistake: which record it fits, what it changes, the field it must be named by.
struct Mistake {
    fits: fn(&Record) -> bool,
    make: fn(&mut Record),
    field: Field,
}

/// The field a mistake is named by: a fixed name, or one that depends on the record.
enum Field {
    Is(&'static str),
    Of(fn(&Record) -> String),
}

impl Field {
    fn of(&self, r: &Record) -> String {
        match self {
            Field::Is(name) => (*name).to_owned(),
            Field::Of(f) => f(r),
        }
    }
}

fn any(_: &Record) -> bool {
    true
}

fn trajectory(r: &Record) -> &trajectories::caseload::record::TrajectoryRecord {
    r.trajectory.as_ref().unwrap()
}

fn has_contract(r: &Record) -> bool {
    r.trajectory.as_ref().is_some_and(|t| t.contract.is_some())
}

fn has_results(r: &Record) -> bool {
    r.trajectory.as_ref().is_some_and(|t| !t.results.is_empty())
}

fn has_attest(r: &Record) -> bool {
    r.trajectory
        .as_ref()
        .is_some_and(|t| t.attest_issued_on.is_some())
}

/// The index of the last result of a record (the one a mistake appended).
fn last_result(r: &Record) -> String {
    format!(
        "trajectory.results[{}].taken_on",
        trajectory(r).results.len() - 1
    )
}

fn mistakes() -> Vec<Mistake> {
    vec![
        Mistake {
            fits: any,
            make: |r| r.national_number = typo(&r.national_number),
            field: Field::Is("national_number"),
        },
        Mistake {
            fits: any,
            make: |r| r.given_name = " ".into(),
            field: Field::Is("given_name"),
        },
        Mistake {
            fits: any,
            make: |r| r.birth_date = Some("1990-02-30".into()),
            field: Field::Is("birth_date"),
        },
        Mistake {
            fits: any,
            make: |r| r.mother_tongue = "Arabic".into(),
            field: Field::Is("mother_tongue"),
        },
        Mistake {
            fits: |r| r.register.is_some(),
            make: |r| r.register.as_mut().unwrap().municipality_nis = "11999".into(),
            field: Field::Is("register.municipality_nis"),
        },
        Mistake {
            fits: |r| r.trajectory.is_some(),
            make: |r| r.trajectory.as_mut().unwrap().municipality_nis = "11999".into(),
            field: Field::Is("trajectory.municipality_nis"),
        },
        Mistake {
            fits: |r| r.trajectory.as_ref().is_some_and(|t| t.agency == "in-gent"),
            make: |r| r.trajectory.as_mut().unwrap().agency = "atlas".into(),
            field: Field::Is("trajectory.agency"),
        },
        Mistake {
            fits: |r| r.trajectory.is_some(),
            make: |r| r.trajectory.as_mut().unwrap().status = "forced".into(),
            field: Field::Is("trajectory.status"),
        },
        // Named once: not again at the GGC registration of the trajectory it refused.
        Mistake {
            fits: |r| !r.ggc_registrations.is_empty() && r.trajectory.is_some(),
            make: |r| r.trajectory.as_mut().unwrap().status = "forced".into(),
            field: Field::Is("trajectory.status"),
        },
        Mistake {
            fits: |r| {
                r.trajectory
                    .as_ref()
                    .is_some_and(|t| t.contract.is_none() && t.stopped.is_none())
            },
            make: |r| r.trajectory.as_mut().unwrap().started_on = "2004-03-31".into(),
            field: Field::Is("trajectory.started_on"),
        },
        Mistake {
            fits: has_contract,
            make: |r| {
                let t = r.trajectory.as_mut().unwrap();
                t.contract.as_mut().unwrap().signed_on = shift(&t.started_on, -1);
            },
            field: Field::Is("trajectory.contract.signed_on"),
        },
        Mistake {
            fits: has_contract,
            make: |r| {
                let c = r.trajectory.as_mut().unwrap().contract.as_mut().unwrap();
                c.mo_deadline = shift(&c.signed_on, -1);
            },
            field: Field::Is("trajectory.contract.mo_deadline"),
        },
        Mistake {
            fits: |r| {
                has_contract(r)
                    && trajectory(r)
                        .contract
                        .as_ref()
                        .unwrap()
                        .vdab_deadline
                        .is_some()
            },
            make: |r| {
                let c = r.trajectory.as_mut().unwrap().contract.as_mut().unwrap();
                c.vdab_deadline = Some(shift(c.vdab_deadline.as_ref().unwrap(), 1));
            },
            field: Field::Is("trajectory.contract.vdab_deadline"),
        },
        Mistake {
            fits: |r| {
                r.trajectory
                    .as_ref()
                    .is_some_and(|t| t.fees_paid_cents.is_some())
            },
            make: |r| r.trajectory.as_mut().unwrap().fees_paid_cents = Some(9_000),
            field: Field::Is("trajectory.fees_paid_cents"),
        },
        Mistake {
            fits: has_results,
            make: |r| r.trajectory.as_mut().unwrap().results[0].test = "nt2-b1".into(),
            field: Field::Is("trajectory.results[0].test"),
        },
        Mistake {
            fits: has_results,
            make: |r| r.trajectory.as_mut().unwrap().results[0].outcome = "won".into(),
            field: Field::Is("trajectory.results[0].outcome"),
        },
        Mistake {
            fits: has_results,
            make: |r| r.trajectory.as_mut().unwrap().results[0].centre = String::new(),
            field: Field::Is("trajectory.results[0].centre"),
        },
        Mistake {
            fits: |r| {
                r.trajectory.as_ref().is_some_and(|t| {
                    t.results
                        .iter()
                        .any(|x| x.test.starts_with("nt2") && x.outcome == "passed")
                })
            },
            make: |r| {
                let t = r.trajectory.as_mut().unwrap();
                let pass = t
                    .results
                    .iter_mut()
                    .find(|x| x.test.starts_with("nt2") && x.outcome == "passed")
                    .unwrap();
                pass.level = None;
            },
            field: Field::Of(|r| {
                let i = trajectory(r)
                    .results
                    .iter()
                    .position(|x| x.test.starts_with("nt2") && x.outcome == "passed")
                    .unwrap();
                format!("trajectory.results[{i}].level")
            }),
        },
        Mistake {
            fits: has_attest,
            make: |r| {
                let t = r.trajectory.as_mut().unwrap();
                t.attest_issued_on = Some(t.contract.as_ref().unwrap().signed_on.clone());
            },
            field: Field::Is("trajectory.attest_issued_on"),
        },
        Mistake {
            fits: has_attest,
            make: |r| {
                let t = r.trajectory.as_mut().unwrap();
                let after = shift(t.attest_issued_on.as_ref().unwrap(), 1);
                t.results.push(ResultRecord {
                    test: "nt2-a2".into(),
                    taken_on: after,
                    outcome: "failed".into(),
                    level: None,
                    centre: "CVO Antwerpen".into(),
                });
            },
            field: Field::Of(last_result),
        },
        Mistake {
            fits: |r| {
                r.trajectory.as_ref().is_some_and(|t| {
                    t.contract.is_some() && t.attest_issued_on.is_none() && t.stopped.is_none()
                })
            },
            make: |r| {
                let t = r.trajectory.as_mut().unwrap();
                let on = shift(&t.contract.as_ref().unwrap().signed_on, 10);
                t.results.push(ResultRecord {
                    test: "b1-oral".into(),
                    taken_on: on,
                    outcome: "passed".into(),
                    level: Some("B1".into()),
                    centre: "CVO Antwerpen".into(),
                });
            },
            field: Field::Of(last_result),
        },
        Mistake {
            fits: |r| r.trajectory.as_ref().is_some_and(|t| t.agency != "bon"),
            make: |r| {
                r.ggc_registrations = vec![GgcRecord {
                    registered_on: trajectory(r).started_on.clone(),
                    language: "french".into(),
                }]
            },
            field: Field::Is("ggc_registrations[0].registered_on"),
        },
        Mistake {
            fits: |r| r.trajectory.as_ref().is_some_and(|t| t.agency == "bon"),
            make: |r| {
                r.ggc_registrations = vec![GgcRecord {
                    registered_on: "2023-05-02".into(),
                    language: "dutch".into(),
                }]
            },
            field: Field::Is("ggc_registrations[0].language"),
        },
        Mistake {
            fits: |r| {
                r.trajectory
                    .as_ref()
                    .is_some_and(|t| t.suspensions.first().is_some_and(|s| s.to.is_some()))
            },
            make: |r| {
                let s = &mut r.trajectory.as_mut().unwrap().suspensions[0];
                s.to = Some(shift(&s.from, -1));
            },
            field: Field::Is("trajectory.suspensions[0].to"),
        },
        Mistake {
            fits: |r| {
                r.trajectory
                    .as_ref()
                    .is_some_and(|t| t.suspensions.first().is_some_and(|s| s.to.is_some()))
            },
            make: |r| {
                let t = r.trajectory.as_mut().unwrap();
                t.vdab_registered_on = Some(shift(&t.suspensions[0].from, 1));
            },
            field: Field::Is("trajectory.vdab_registered_on"),
        },
    ]
}

#[tokio::test]
async fn every_wrong_field_is_named_by_its_line_and_nothing_is_written() {
    let app = spawn_app().await;
    let dir = scratch("fields");
    let file = dir.join("mixed.jsonl");
    caseload::generate(&file, 600, 3).unwrap();
    let mut records = read(&file);
    let mut used = BTreeSet::new();
    let mut expected = BTreeSet::new();
    for (n, mistake) in mistakes().into_iter().enumerate() {
        let i = (0..records.len())
            .find(|i| !used.contains(i) && (mistake.fits)(&records[*i]))
            .unwrap_or_else(|| panic!("no record of the 600 fits mistake {n}"));
        used.insert(i);
        (mistake.make)(&mut records[i]);
        expected.insert((i as u64 + 1, mistake.field.of(&records[i])));
    }
    write(&file, &records);
    let before = outboxes(&app).await;

    let text = refused(&import(&app, &file, &dir.join("report.csv")).await);
    assert_eq!(refusals(&text, &file), expected, "{text}");
    assert!(
        text.contains("the trajectory is suspended by then"),
        "a VDAB registration during a suspension: {text}"
    );
    // The replay's trajectories have ids of their own the file never held.
    assert!(
        !text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
            .any(|word| uuid::Uuid::parse_str(word).is_ok()),
        "an id in the refusals: {text}"
    );
    assert!(
        text.contains(&format!("{} of 600 records refused", expected.len())),
        "{text}"
    );
    nothing_written(&app, before).await;
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_truncated_last_line_is_named_and_nothing_is_imported() {
    let app = spawn_app().await;
    let dir = scratch("truncated");
    let file = dir.join("in-gent.jsonl");
    caseload::generate(&file, 50, 4).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let last = text.trim_end().rfind('\n').unwrap() + 1;
    let cut = last + (text.len() - last) / 2;
    std::fs::write(&file, &text[..cut]).unwrap();
    let before = outboxes(&app).await;

    let text = refused(&import(&app, &file, &dir.join("report.csv")).await);
    assert_eq!(
        refusals(&text, &file),
        BTreeSet::from([(50, "(line)".to_owned())]),
        "{text}"
    );
    assert!(text.contains("truncated"), "{text}");
    assert!(text.contains("1 of 50 records refused"), "{text}");
    nothing_written(&app, before).await;
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_changed_record_is_reported_and_not_applied() {
    let app = spawn_app().await;
    let dir = scratch("changed");
    let file = dir.join("bon.jsonl");
    let generated = caseload::generate(&file, 60, 5).unwrap();
    let report = dir.join("report.csv");
    ok(&import(&app, &file, &report).await);

    let mut records = read(&file);
    let i = records.iter().position(has_contract).unwrap();
    let contract = records[i]
        .trajectory
        .as_mut()
        .unwrap()
        .contract
        .as_mut()
        .unwrap();
    let stored = contract.nt2_deadline.clone();
    contract.nt2_deadline = shift(&stored, 7);
    write(&file, &records);
    let before = settled(&app).await;

    let text = ok(&import(&app, &file, &report).await);
    assert!(
        text.contains(&format!(
            "line {}: changed since it was imported (trajectory); not applied",
            i + 1
        )),
        "{text}"
    );
    assert!(
        text.contains("60 records: 0 imported, 59 unchanged, 1 changed (not applied)"),
        "{text}"
    );
    let sql = format!(
        "select count(*) from trajectory t join person p on p.id = t.person_id \
         where p.national_number = '{}' and t.nt2_deadline = date '{stored}'",
        records[i].national_number
    );
    assert_eq!(
        scalar(&app.trajectories_db, &sql).await,
        1,
        "the stored deadline"
    );
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        generated.expected.to_csv()
    );
    assert_eq!(outboxes(&app).await, before, "a changed line staged events");
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}

#[tokio::test]
async fn an_import_killed_half_way_is_finished_by_running_it_again() {
    let app = spawn_app().await;
    let dir = scratch("killed");
    let generated = caseload::generate(&dir.join("atlas.jsonl"), 1_500, 6).unwrap();
    let report = dir.join("report.csv");
    let imported = "select count(*) from caseload_import";

    let mut child = command(&app, &generated.path, &report).spawn().unwrap();
    let started = std::time::Instant::now();
    let at_kill = loop {
        let n = scalar(&app.trajectories_db, imported).await;
        if n > 0 {
            child.start_kill().unwrap();
            break n;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the import ended ({status}) before a batch was seen");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no batch in 2 min"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let status = child.wait().await.unwrap();
    let kept = scalar(&app.trajectories_db, imported).await;
    assert!(
        !status.success() && (at_kill..1_500).contains(&kept),
        "killed ({status}) with {kept} of 1500 imported"
    );

    let text = ok(&import(&app, &generated.path, &report).await);
    assert!(
        text.contains(&format!(
            "1500 records: {} imported, {kept} unchanged, 0 changed (not applied)",
            1_500 - kept
        )),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        generated.expected.to_csv()
    );
    assert_eq!(scalar(&app.trajectories_db, imported).await, 1_500);
    assert_eq!(
        scalar(&app.testing_db, "select count(*) from imported_result").await,
        results(&read(&generated.path))
    );
    eprintln!(
        "killed after {:?} with {kept} of 1500 imported",
        started.elapsed()
    );
    std::fs::remove_dir_all(&dir).unwrap();
    app.stop().await;
}
