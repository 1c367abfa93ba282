//! `inburgering import caseload FILE`: an agency's existing caseload (persons, trajectories
//! with their history, test results, Brussels registrations) brought in with its own dates.
//!
//! It writes into the trajectories and testing databases as their operators' commands do
//! (`INBURGERING_TRAJECTORIES_DATABASE_URL` / `INBURGERING_TESTING_DATABASE_URL`, or the
//! SQLite files under `--data-dir`), migrated first; the events wait in the outboxes for
//! the running services' relays, marked as history. Two passes over the file, streamed:
//! the first checks every line and writes nothing when any is bad; the second stores a
//! batch per transaction, so a run stopped half-way is finished by running it again.
//! The format: docs/caseload-import.md.

use std::{
    collections::HashMap,
    fs::File,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use platform::{Config, db::BeginWrite, runtime::ServiceModule};
use sea_orm::{DatabaseConnection, TransactionTrait};
use secrecy::SecretString;
use trajectories::caseload::{
    self, Applied, Checked, Format, LineError, Record, Register, TestKind, TestOutcome,
    record::CSV_COLUMNS,
};

use crate::{
    options::{DataDir, usage},
    services::{self, ServiceName},
};

/// Records per transaction.
const BATCH: usize = 500;
/// Refusals printed in full; the rest are counted.
const SHOWN_ERRORS: usize = 200;

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Import an agency's caseload (JSON lines, or CSV with the documented header). Every
    /// line is checked first and nothing is written when any is bad; importing the same
    /// file again changes nothing; a changed line is reported, not applied.
    Caseload {
        /// The file: `.csv` is read as CSV, anything else as JSON lines.
        file: PathBuf,
        /// The label the imported facts and their events carry [default: the file's name].
        #[arg(long)]
        source: Option<String>,
        /// Where to write the reconciliation report as CSV (it is printed too): the file's
        /// persons as the platform now holds them.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// The trajectories database (else INBURGERING_DATABASE_URL, else under --data-dir).
        #[arg(
            long,
            env = "INBURGERING_TRAJECTORIES_DATABASE_URL",
            hide_env_values = true
        )]
        trajectories_database_url: Option<String>,
        /// The testing database (else under --data-dir).
        #[arg(long, env = "INBURGERING_TESTING_DATABASE_URL", hide_env_values = true)]
        testing_database_url: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
}

pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Caseload {
        file,
        source,
        report,
        trajectories_database_url,
        testing_database_url,
        data,
    } = command;
    let source = match source {
        Some(s) if !s.trim().is_empty() && s.len() <= 200 => s.trim().to_owned(),
        Some(_) => return Err(usage("--source: 1 to 200 characters")),
        None => file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "caseload".to_owned()),
    };
    let lines = count_lines(&file)?;
    let (trajectories_db, testing_db) =
        databases(&data, trajectories_database_url, testing_database_url).await?;
    let register = caseload::register(&trajectories_db).await?;
    if !register.is_loaded() {
        anyhow::bail!(
            "the municipality register has not reached trajectories yet: start the platform (municipalities publishes it) and run the import again"
        );
    }
    let today = Utc::now().date_naive();
    let bar = bar(lines, &format!("checking {}", file.display()))?;
    let checked = check_file(&file, &register, today, &bar)?;
    bar.finish_and_clear();
    if !checked.errors.is_empty() {
        for e in checked.errors.iter().take(SHOWN_ERRORS) {
            eprintln!("{}: {e}", file.display());
        }
        if checked.errors.len() > SHOWN_ERRORS {
            eprintln!(
                "{}: … and {} more",
                file.display(),
                checked.errors.len() - SHOWN_ERRORS
            );
        }
        return Err(usage(format!(
            "{}: {} of {} records refused ({} problems); nothing imported",
            file.display(),
            checked.bad_lines,
            checked.records,
            checked.errors.len()
        )));
    }
    if checked.records == 0 {
        return Err(usage(format!("{}: no records in it", file.display())));
    }
    let bar = self::bar(checked.records, &format!("importing {}", file.display()))?;
    let totals = apply_file(
        &file,
        &register,
        today,
        &source,
        &trajectories_db,
        &testing_db,
        &bar,
    )
    .await?;
    bar.finish_and_clear();
    totals.print(&file, checked.records);
    let csv = totals.report.to_csv();
    if let Some(path) = report {
        std::fs::write(&path, &csv).with_context(|| format!("writing {}", path.display()))?;
    }
    print!("{csv}");
    Ok(())
}

fn bar(len: u64, message: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} records ({per_sec})")
            .context("progress bar template")?,
    );
    bar.set_message(message.to_owned());
    Ok(bar)
}

async fn databases(
    data: &DataDir,
    trajectories: Option<String>,
    testing: Option<String>,
) -> anyhow::Result<(DatabaseConnection, DatabaseConnection)> {
    let mut config = Config::load()?;
    data.apply(&mut config);
    let url = |given: Option<String>, service| -> anyhow::Result<SecretString> {
        match given {
            Some(u) => Ok(SecretString::from(u)),
            None => services::existing_database_url(&config, service),
        }
    };
    let trajectories_url = url(trajectories, ServiceName::Trajectories)?;
    let testing_url = url(testing, ServiceName::Testing)?;
    let max = config.database_max_connections;
    let t = platform::db::connect_and_migrate::<
        <trajectories::Trajectories as ServiceModule>::Migrator,
    >(&trajectories_url, max)
    .await
    .context("opening the trajectories database")?;
    let e = platform::db::connect_and_migrate::<<testing::Testing as ServiceModule>::Migrator>(
        &testing_url,
        max,
    )
    .await
    .context("opening the testing database")?;
    Ok((t, e))
}

fn open(file: &Path) -> anyhow::Result<BufReader<File>> {
    File::open(file)
        .map(BufReader::new)
        .map_err(|e| usage(format!("{}: {e}", file.display())))
}

fn count_lines(file: &Path) -> anyhow::Result<u64> {
    let mut n = 0;
    for line in open(file)?.lines() {
        line.map_err(|e| usage(format!("{}: {e}", file.display())))?;
        n += 1;
    }
    Ok(n)
}

/// Each record of the file with its line number, or why the line is not one.
fn records(file: &Path) -> anyhow::Result<impl Iterator<Item = (u64, Result<Record, LineError>)>> {
    let format = Format::of(file);
    let mut lines = open(file)?.lines().enumerate().peekable();
    if format == Format::Csv {
        let header = lines
            .next()
            .map(|(_, l)| l.unwrap_or_default())
            .unwrap_or_default();
        let columns: Vec<&str> = header.trim_end_matches('\r').split(',').collect();
        if columns != CSV_COLUMNS {
            return Err(usage(format!(
                "{}: line 1: the header must be the documented columns ({}), in order",
                file.display(),
                CSV_COLUMNS.join(",")
            )));
        }
    }
    Ok(lines.filter_map(move |(i, line)| {
        let n = i as u64 + 1;
        let parsed = match line {
            Err(e) => Err(e.to_string()),
            Ok(l) if l.trim().is_empty() => return None,
            Ok(l) => match format {
                Format::JsonLines => caseload::record::from_json(&l),
                Format::Csv => csv_cells(&l).and_then(|cells| {
                    caseload::record::from_csv(
                        &cells.iter().map(String::as_str).collect::<Vec<_>>(),
                    )
                }),
            },
        };
        Some((
            n,
            parsed.map_err(|reason| LineError {
                line: n,
                field: "(line)".to_owned(),
                reason,
            }),
        ))
    }))
}

/// One CSV line's cells (quotes allowed).
fn csv_cells(line: &str) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let record = reader
        .records()
        .next()
        .ok_or("an empty line")?
        .map_err(|e| e.to_string())?;
    Ok(record.iter().map(str::to_owned).collect())
}

struct CheckedFile {
    records: u64,
    bad_lines: u64,
    errors: Vec<LineError>,
}

/// The first pass: every line checked, duplicates of a person found; nothing written.
fn check_file(
    file: &Path,
    register: &Register,
    today: chrono::NaiveDate,
    bar: &ProgressBar,
) -> anyhow::Result<CheckedFile> {
    let mut out = CheckedFile {
        records: 0,
        bad_lines: 0,
        errors: Vec::new(),
    };
    // The number as an integer, to the first line that named it: 16 bytes a person.
    let mut seen: HashMap<u64, u64> = HashMap::new();
    for (line, record) in records(file)? {
        out.records += 1;
        bar.inc(1);
        let result = record
            .map_err(|e| vec![e])
            .and_then(|r| caseload::check(line, &r, register, today));
        match result {
            Ok(c) => {
                // Testing's own rules for a historical result, now: a result it would
                // refuse in the second pass would leave the line half-imported.
                let testing_errors = testing_refusals(&c, today);
                if !testing_errors.is_empty() {
                    out.bad_lines += 1;
                    out.errors.extend(testing_errors);
                    continue;
                }
                let key: u64 = c.number.digits().parse().unwrap_or_default();
                if let Some(first) = seen.insert(key, line) {
                    out.bad_lines += 1;
                    out.errors.push(LineError {
                        line,
                        field: "national_number".to_owned(),
                        reason: format!("the same person as line {first}; one line per person"),
                    });
                }
            }
            Err(errors) => {
                out.bad_lines += 1;
                out.errors.extend(errors);
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct Totals {
    created: u64,
    unchanged: u64,
    changed: Vec<(u64, Vec<&'static str>)>,
    on_platform: Vec<u64>,
    results_created: usize,
    results_unchanged: usize,
    results_changed: usize,
    /// What the platform holds of the file's persons.
    report: caseload::Reconciliation,
}

impl Totals {
    fn print(&self, file: &Path, records: u64) {
        for (line, parts) in &self.changed {
            eprintln!(
                "{}: line {line}: changed since it was imported ({}); not applied",
                file.display(),
                parts.join(", ")
            );
        }
        for line in &self.on_platform {
            eprintln!(
                "{}: line {line}: this person was registered on the platform itself, not by an import; left as it is",
                file.display()
            );
        }
        let verdict = if self.created == 0 && self.results_created == 0 {
            "; nothing changed"
        } else {
            ""
        };
        eprintln!(
            "{}: {records} records: {} imported, {} unchanged, {} changed (not applied), {} already on the platform; results: {} imported, {} unchanged, {} changed (not applied){verdict}",
            file.display(),
            self.created,
            self.unchanged,
            self.changed.len(),
            self.on_platform.len(),
            self.results_created,
            self.results_unchanged,
            self.results_changed,
        );
    }
}

/// The second pass: a batch per transaction in each database.
async fn apply_file(
    file: &Path,
    register: &Register,
    today: chrono::NaiveDate,
    source: &str,
    trajectories_db: &DatabaseConnection,
    testing_db: &DatabaseConnection,
    bar: &ProgressBar,
) -> anyhow::Result<Totals> {
    let outbox = platform::events::Outbox::new(
        <trajectories::Trajectories as ServiceModule>::NAME,
        <trajectories::Trajectories as ServiceModule>::TOPIC,
    );
    let testing_outbox = testing::outbox();
    let mut totals = Totals::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = records(file)?;
    loop {
        let next = lines.next();
        let done = next.is_none();
        if let Some((line, record)) = next {
            let record = record
                .map_err(|e| anyhow::anyhow!("{e} (the file changed since it was checked?)"))?;
            let c = caseload::check(line, &record, register, today).map_err(|e| {
                anyhow::anyhow!("{} (the file changed since it was checked?)", e[0])
            })?;
            batch.push(c);
            if batch.len() < BATCH {
                continue;
            }
        }
        if batch.is_empty() {
            break;
        }
        let chunk = std::mem::take(&mut batch);
        let n = chunk.len() as u64;
        store_batch(
            chunk,
            source,
            trajectories_db,
            testing_db,
            &outbox,
            &testing_outbox,
            &mut totals,
        )
        .await?;
        bar.inc(n);
        if done {
            break;
        }
    }
    Ok(totals)
}

async fn store_batch(
    chunk: Vec<Checked>,
    source: &str,
    trajectories_db: &DatabaseConnection,
    testing_db: &DatabaseConnection,
    outbox: &platform::events::Outbox,
    testing_outbox: &platform::events::Outbox,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    let lines: Vec<u64> = chunk.iter().map(|c| c.line).collect();
    let results: Vec<Vec<caseload::CheckedResult>> =
        chunk.iter().map(|c| c.results.clone()).collect();
    let txn = trajectories_db.begin_write().await?;
    let applied = caseload::apply_batch(&txn, outbox, source, chunk, Utc::now()).await?;
    txn.commit().await?;
    let persons: Vec<uuid::Uuid> = applied.iter().map(Applied::person_id).collect();
    caseload::add_persons(trajectories_db, &persons, &mut totals.report).await?;
    let mut historical = Vec::new();
    for ((line, outcome), results) in lines.into_iter().zip(applied).zip(results) {
        let ids = match outcome {
            Applied::Created {
                person_id,
                trajectory_id,
            } => {
                totals.created += 1;
                Some((person_id, trajectory_id))
            }
            Applied::Unchanged {
                person_id,
                trajectory_id,
            } => {
                totals.unchanged += 1;
                // A run stopped between the two databases left these results to do.
                Some((person_id, trajectory_id))
            }
            Applied::Changed { parts, .. } => {
                totals.changed.push((line, parts));
                None
            }
            Applied::AlreadyOnPlatform { .. } => {
                totals.on_platform.push(line);
                None
            }
        };
        if let Some((person_id, Some(trajectory_id))) = ids {
            historical.extend(
                results
                    .into_iter()
                    .map(|r| self::historical(r, person_id, trajectory_id)),
            );
        }
    }
    if !historical.is_empty() {
        let txn = testing_db.begin().await?;
        let counts = testing::history::import(&txn, testing_outbox, source, &historical).await?;
        txn.commit().await?;
        totals.results_created += counts.created;
        totals.results_unchanged += counts.unchanged;
        totals.results_changed += counts.changed.len();
    }
    Ok(())
}

/// What testing would refuse of the record's results, named as the file names them.
fn testing_refusals(c: &Checked, today: chrono::NaiveDate) -> Vec<LineError> {
    // Any id will do for the check: the real ones exist only once the line is stored.
    let placeholder = uuid::Uuid::from_u128(1);
    c.results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            historical(r.clone(), placeholder, placeholder)
                .check(today)
                .err()
                .map(|e| LineError {
                    line: c.line,
                    field: format!("trajectory.results[{i}]"),
                    reason: e.to_string(),
                })
        })
        .collect()
}

fn historical(
    r: caseload::CheckedResult,
    person_id: uuid::Uuid,
    trajectory_id: uuid::Uuid,
) -> testing::history::HistoricalResult {
    testing::history::HistoricalResult {
        person_id,
        trajectory_id,
        test_type: test_type(r.test),
        taken_on: r.taken_on,
        centre: r.centre,
        outcome: outcome_of(r.outcome),
        level_reached: r.level,
    }
}

fn test_type(k: TestKind) -> testing::domain::TestType {
    use testing::domain::TestType as T;
    match k {
        TestKind::Nt2A2 => T::Nt2A2,
        TestKind::Nt2A2Adapted => T::Nt2A2Adapted,
        TestKind::Mo => T::Mo,
        TestKind::B1Oral => T::B1Oral,
    }
}

fn outcome_of(o: TestOutcome) -> testing::domain::BookingStatus {
    use testing::domain::BookingStatus as S;
    match o {
        TestOutcome::Passed => S::Passed,
        TestOutcome::Failed => S::Failed,
        TestOutcome::Absent => S::Absent,
    }
}
