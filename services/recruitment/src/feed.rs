//! The national-register feed (`inburgering recruitment import-register FILE`): change
//! records as CSV with a header or as JSON lines, with the fields
//! `national_number, register, registration_date, municipality_nis, nationality,
//! languages, given_name, family_name, street, postal_code, city` (`languages`: ISO 639-1
//! codes separated by `;` in CSV or a JSON array, mother tongue first).
//!
//! How it behaves, as the operator's guide (docs/operations.md) says:
//! - The whole file is checked first. A line that is malformed (a bad national number, an
//!   unknown NIS code, an unknown register code, a bad date, a truncated or wrong-length
//!   line) stops the import before anything is written, and every such line is reported
//!   with its field.
//! - A well-formed record is then either taken or counted with its reason: only the
//!   population and foreigners' registers are taken, and only people in a target group
//!   (`rules::target_group`); a record repeated in the file or imported before is counted
//!   as such and changes nothing.
//! - A taken record's national number goes to trajectories (`RegisterPerson`, which stores
//!   it once); recruitment keeps the `person_id`, the registration and, until the letter
//!   is sent plus the retention, the name and address for the letter. Each record commits
//!   on its own with its `NewcomerDetected`, so an import stopped half-way (trajectories
//!   down, the process killed) is finished by running the same file again.

use platform::db::BeginWrite as _;
use std::collections::{BTreeMap, HashSet};

use chrono::{NaiveDate, Utc};
use futures::{StreamExt, stream};
use platform::{NationalNumber, events::Outbox, grpc::OnBehalfOf};
use proto::{
    recruitment::v1 as pb,
    trajectories::v1::{RegisterPersonRequest, trajectory_service_client::TrajectoryServiceClient},
};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;
use wire::register::Known;

use crate::{
    RecruitmentError, convert,
    domain::{Language, LetterKind, Municipality, Nationality, Nis},
    rules::{self, Group, NotTargeted, Register},
    store::{addressee, letter, registration},
};

/// Records registered with trajectories at the same time.
const CONCURRENT_REGISTRATIONS: usize = 8;

/// A bad line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based, the header being line 1 of a CSV file.
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// Why an import wrote nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the file has {} bad line(s); nothing was imported:\n{}", .0.len(), lines(.0))]
    BadLines(Vec<LineError>),
    #[error(
        "stopped at line {line} after {imported} new record(s); run the same file again to finish: {error}"
    )]
    Stopped {
        line: u64,
        imported: u64,
        error: RecruitmentError,
    },
    #[error(transparent)]
    Recruitment(#[from] RecruitmentError),
}

fn lines(errors: &[LineError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One record of the file, checked.
#[derive(Clone)]
pub struct Record {
    pub line: u64,
    pub national_number: NationalNumber,
    pub register: Register,
    pub registered_on: NaiveDate,
    pub municipality: Municipality,
    pub nationality: Nationality,
    pub languages: Vec<Language>,
    pub given_name: String,
    pub family_name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names, numbers and addresses never reach a log.
        f.debug_struct("Record")
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl Record {
    /// Whole years on the day of registration; adult when the number does not encode the
    /// birth date (a bis number with day 00): the case worker checks at intake.
    fn age(&self) -> u32 {
        self.national_number
            .birth_date()
            .and_then(|born| self.registered_on.years_since(born))
            .unwrap_or(rules::ADULT_AGE)
    }

    /// The record's target group, or why it has none.
    pub fn target(&self) -> Result<Group, NotTargeted> {
        rules::target_group(
            self.municipality.region(),
            self.register,
            self.nationality.as_str(),
            self.age(),
        )
    }

    fn key(&self) -> (String, String, NaiveDate) {
        (
            self.national_number.digits().to_owned(),
            self.municipality.nis.to_string(),
            self.registered_on,
        )
    }
}

/// The fields of a line before checking, from CSV or JSON.
#[derive(Debug, Default)]
struct Raw {
    fields: BTreeMap<&'static str, String>,
}

/// The feed's columns (the CSV header and the JSON keys), in order.
pub const FIELDS: [&str; 11] = [
    "national_number",
    "register",
    "registration_date",
    "municipality_nis",
    "nationality",
    "languages",
    "given_name",
    "family_name",
    "street",
    "postal_code",
    "city",
];

impl Raw {
    fn get(&self, field: &'static str) -> &str {
        self.fields.get(field).map_or("", |s| s.trim())
    }
}

/// What the file holds, by the first character that is not white space.
fn is_json_lines(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Lines of the file, for the progress bar.
pub fn line_count(text: &str) -> u64 {
    text.lines().filter(|l| !l.trim().is_empty()).count() as u64
}

fn raw_lines(text: &str, errors: &mut Vec<LineError>) -> Vec<(u64, Raw)> {
    let mut out = Vec::new();
    if is_json_lines(text) {
        for (i, line) in text.lines().enumerate() {
            let n = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
                Ok(map) => {
                    let mut raw = Raw::default();
                    for field in FIELDS {
                        let value = match map.get(field) {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(serde_json::Value::Array(items)) => items
                                .iter()
                                .map(|v| v.as_str().unwrap_or("?").to_owned())
                                .collect::<Vec<_>>()
                                .join(";"),
                            Some(serde_json::Value::Null) | None => String::new(),
                            Some(other) => other.to_string(),
                        };
                        raw.fields.insert(field, value);
                    }
                    out.push((n, raw));
                }
                Err(e) => errors.push(LineError {
                    line: n,
                    field: "line",
                    reason: format!("is not a JSON object ({e}); a truncated file?"),
                }),
            }
        }
        return out;
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            errors.push(LineError {
                line: 1,
                field: "header",
                reason: e.to_string(),
            });
            return out;
        }
    };
    let missing: Vec<&str> = FIELDS
        .iter()
        .filter(|f| !header.iter().any(|h| h == *f))
        .copied()
        .collect();
    if !missing.is_empty() {
        errors.push(LineError {
            line: 1,
            field: "header",
            reason: format!("lacks {}", missing.join(", ")),
        });
        return out;
    }
    for record in reader.records() {
        match record {
            Ok(r) => {
                let n = r.position().map_or(0, |p| p.line());
                let mut raw = Raw::default();
                for field in FIELDS {
                    let at = header
                        .iter()
                        .position(|h| h == field)
                        .expect("checked above");
                    raw.fields.insert(field, r.get(at).unwrap_or("").to_owned());
                }
                out.push((n, raw));
            }
            Err(e) => {
                let n = e.position().map_or(0, |p| p.line());
                errors.push(LineError {
                    line: n,
                    field: "line",
                    reason: match e.kind() {
                        csv::ErrorKind::UnequalLengths { len, expected_len, .. } => format!(
                            "has {len} fields where the header has {expected_len}; a truncated file?"
                        ),
                        _ => e.to_string(),
                    },
                });
            }
        }
    }
    out
}

fn register(input: &str) -> Result<Register, String> {
    match input.to_ascii_lowercase().as_str() {
        "population" => Ok(Register::Population),
        "foreigners" => Ok(Register::Foreigners),
        "waiting" => Ok(Register::Waiting),
        "" => Err("is required".into()),
        other => Err(format!(
            "{other:?} is not a register code; known are population, foreigners and waiting"
        )),
    }
}

fn text(raw: &Raw, field: &'static str, max: usize) -> Result<String, String> {
    let value = raw.get(field);
    if value.is_empty() {
        return Err("is required".into());
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(format!("must be at most {max} printable characters"));
    }
    Ok(value.to_owned())
}

/// Checks one line; every bad field is reported.
fn check(
    line: u64,
    raw: &Raw,
    register_of: &BTreeMap<String, Municipality>,
    errors: &mut Vec<LineError>,
) -> Option<Record> {
    let before = errors.len();
    let mut bad = |field: &'static str, reason: String| {
        errors.push(LineError {
            line,
            field,
            reason,
        });
    };
    let national_number = NationalNumber::parse(raw.get("national_number"))
        .map_err(|e| bad("national_number", e.0))
        .ok();
    let register = register(raw.get("register"))
        .map_err(|e| bad("register", e))
        .ok();
    let registered_on = NaiveDate::parse_from_str(raw.get("registration_date"), "%Y-%m-%d")
        .map_err(|_| {
            bad(
                "registration_date",
                format!(
                    "{:?} is not a date (YYYY-MM-DD)",
                    raw.get("registration_date")
                ),
            )
        })
        .ok();
    let municipality = match Nis::parse("municipality_nis", raw.get("municipality_nis")) {
        Ok(nis) => match register_of.get(&nis.to_string()) {
            Some(m) => Some(m.clone()),
            None => {
                bad(
                    "municipality_nis",
                    format!("{nis} is not in the municipality register"),
                );
                None
            }
        },
        Err(e) => {
            bad("municipality_nis", e.reason);
            None
        }
    };
    let nationality = Nationality::parse("nationality", raw.get("nationality"))
        .map_err(|e| bad("nationality", reason(e)))
        .ok();
    let mut languages = Vec::new();
    for code in raw
        .get("languages")
        .split(';')
        .filter(|c| !c.trim().is_empty())
    {
        match Language::parse("languages", code) {
            Ok(l) if !languages.contains(&l) => languages.push(l),
            Ok(_) => {}
            Err(e) => bad("languages", reason(e)),
        }
    }
    if languages.is_empty() && raw.get("languages").is_empty() {
        bad(
            "languages",
            "is required: the mother tongue at least".into(),
        );
    }
    let mut field =
        |name: &'static str, max: usize| text(raw, name, max).map_err(|e| bad(name, e)).ok();
    let given_name = field("given_name", 100);
    let family_name = field("family_name", 100);
    let street = field("street", 200);
    let postal_code = field("postal_code", 10);
    let city = field("city", 100);
    if errors.len() > before {
        return None;
    }
    Some(Record {
        line,
        national_number: national_number?,
        register: register?,
        registered_on: registered_on?,
        municipality: municipality?,
        nationality: nationality?,
        languages,
        given_name: given_name?,
        family_name: family_name?,
        street: street?,
        postal_code: postal_code?,
        city: city?,
    })
}

fn reason(e: RecruitmentError) -> String {
    match e {
        RecruitmentError::InvalidArgument { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// A municipality of the shared register as this service reasons about it.
fn known(m: wire::register::Municipality) -> Result<Municipality, RecruitmentError> {
    let nis =
        Nis::parse("nis", &m.current_nis).map_err(|e| RecruitmentError::Corrupt(e.to_string()))?;
    let agency = m.agency();
    Ok(Municipality {
        nis,
        name_nl: m.name_nl,
        agency,
    })
}

/// The municipality register as the service keeps it, by every code.
pub async fn register_of(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<String, Municipality>, RecruitmentError> {
    let rows = wire::register::all(db).await?;
    if rows.is_empty() {
        return Err(RecruitmentError::RegisterNotLoaded);
    }
    rows.into_iter()
        .map(|m| Ok((m.code.clone(), known(m)?)))
        .collect()
}

/// Checks the whole file: the records, or every bad line.
pub fn parse(
    text: &str,
    register_of: &BTreeMap<String, Municipality>,
) -> Result<Vec<Record>, Vec<LineError>> {
    let mut errors = Vec::new();
    let raw = raw_lines(text, &mut errors);
    let records: Vec<Record> = raw
        .iter()
        .filter_map(|(line, raw)| check(*line, raw, register_of, &mut errors))
        .collect();
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    /// New registrations, each with its `NewcomerDetected`.
    pub imported: u64,
    pub already_imported: u64,
    pub duplicates_in_file: u64,
    /// Records not taken, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// New registrations per target group.
    pub groups: BTreeMap<&'static str, u64>,
}

/// Registers persons with trajectories on the operator's behalf.
#[derive(Debug, Clone)]
pub struct Registrar {
    channel: Result<Channel, String>,
    caller: OnBehalfOf,
}

impl Registrar {
    pub fn new(trajectories_url: &str, caller: OnBehalfOf) -> Self {
        Self {
            channel: platform::grpc::lazy_channel("trajectories_url", trajectories_url),
            caller,
        }
    }

    async fn register(&self, record: &Record) -> Result<Uuid, RecruitmentError> {
        let channel = self
            .channel
            .clone()
            .map_err(RecruitmentError::TrajectoriesUnavailable)?;
        let mut client = TrajectoryServiceClient::new(channel);
        let languages = &record.languages;
        let request = self.caller.request(RegisterPersonRequest {
            national_number: record.national_number.digits().to_owned(),
            given_name: record.given_name.clone(),
            family_name: record.family_name.clone(),
            mother_tongue: languages.first().map(|l| l.to_string()).unwrap_or_default(),
            contact_language: languages.get(1).map(|l| l.to_string()).unwrap_or_default(),
        });
        let response =
            client
                .register_person(request)
                .await
                .map_err(|status| match status.code() {
                    Code::Unavailable
                    | Code::DeadlineExceeded
                    | Code::Cancelled
                    | Code::Unknown
                    | Code::Aborted => {
                        RecruitmentError::TrajectoriesUnavailable(status.message().to_owned())
                    }
                    _ => RecruitmentError::TrajectoriesRefused(status),
                })?;
        Uuid::parse_str(&response.get_ref().person_id)
            .map_err(|_| RecruitmentError::Corrupt("trajectories returned a bad person_id".into()))
    }
}

/// Stores one taken record with its addressee and its event, unless it is there already
/// (the unique registration index decides, also between two imports at once).
async fn store(
    db: &DatabaseConnection,
    outbox: &Outbox,
    record: &Record,
    group: Group,
    person_id: Uuid,
) -> Result<bool, RecruitmentError> {
    use registration::Column as C;
    // Someone written to already (a second registration: they moved) needs no address
    // kept for a letter that will not come.
    let served = letter::Entity::find()
        .filter(Expr::col(letter::Column::PersonId).eq(person_id))
        .filter(Expr::col(letter::Column::Kind).eq(LetterKind::of(group).as_str()))
        .one(db)
        .await?
        .is_some();
    // The insert comes first in the transaction: on SQLite a transaction that reads
    // before it writes cannot wait for the write lock and fails as busy.
    let txn = db.begin_write().await?;
    let id = Uuid::now_v7();
    let agency = record
        .municipality
        .agency
        .ok_or_else(|| RecruitmentError::Corrupt("a targeted record in Wallonia".into()))?;
    let languages = &record.languages;
    let inserted = registration::Entity::insert(registration::ActiveModel {
        id: Set(id),
        person_id: Set(person_id),
        nis: Set(record.municipality.nis.to_string()),
        agency: Set(agency.as_str().to_owned()),
        registered_on: Set(record.registered_on),
        register: Set(match record.register {
            Register::Population => "population",
            Register::Foreigners => "foreigners",
            Register::Waiting => "waiting",
        }
        .to_owned()),
        nationality: Set(record.nationality.as_str().to_owned()),
        target_group: Set(group.as_str().to_owned()),
        mother_tongue: Set(languages.first().map(|l| l.to_string()).unwrap_or_default()),
        contact_language: Set(languages.get(1).map(|l| l.to_string())),
        imported_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([C::PersonId, C::Nis, C::RegisteredOn])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    if !served {
        addressee::Entity::insert(addressee::ActiveModel {
            registration_id: Set(id),
            given_name: Set(record.given_name.clone()),
            family_name: Set(record.family_name.clone()),
            street: Set(record.street.clone()),
            postal_code: Set(record.postal_code.clone()),
            city: Set(record.city.clone()),
            erase_after: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    outbox
        .stage(
            &txn,
            &person_id.to_string(),
            &pb::NewcomerDetected {
                registration_id: id.to_string(),
                person_id: person_id.to_string(),
                municipality_nis: record.municipality.nis.to_string(),
                registered_on: Some(wire::date(record.registered_on)),
                target_group: convert::group(group) as i32,
                free_movement: Some(rules::FREE_MOVEMENT.contains(&record.nationality.as_str())),
                foreigners_register: Some(record.register == rules::Register::Foreigners),
            },
        )
        .await?;
    txn.commit().await?;
    outbox.committed();
    Ok(true)
}

/// Imports `text`: checks it all, then takes each record in a target group. `progress`
/// is told how many records are done.
pub async fn import(
    db: &DatabaseConnection,
    outbox: &Outbox,
    registrar: &Registrar,
    text: &str,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, FeedError> {
    let register_of = register_of(db).await?;
    let records = parse(text, &register_of).map_err(FeedError::BadLines)?;
    let mut summary = Summary {
        records: records.len() as u64,
        ..Summary::default()
    };
    let mut seen = HashSet::new();
    let mut taken = Vec::new();
    for record in records {
        if !seen.insert(record.key()) {
            summary.duplicates_in_file += 1;
            continue;
        }
        match record.target() {
            Ok(group) => taken.push((record, group)),
            Err(why) => *summary.skipped.entry(why.reason()).or_default() += 1,
        }
    }
    let skipped = summary.records - taken.len() as u64;
    progress(skipped);
    let mut done = skipped;
    let mut results = stream::iter(taken.iter())
        .map(|(record, group)| async move {
            let person_id = registrar.register(record).await?;
            let created = store(db, outbox, record, *group, person_id).await?;
            Ok::<_, RecruitmentError>((record.line, *group, created))
        })
        .buffered(CONCURRENT_REGISTRATIONS);
    let mut index = 0;
    while let Some(result) = results.next().await {
        let line = taken[index].0.line;
        index += 1;
        match result {
            Ok((_, group, true)) => {
                summary.imported += 1;
                *summary.groups.entry(group.as_str()).or_default() += 1;
            }
            Ok((_, _, false)) => summary.already_imported += 1,
            Err(error) => {
                return Err(FeedError::Stopped {
                    line,
                    imported: summary.imported,
                    error,
                });
            }
        }
        done += 1;
        progress(done);
    }
    tracing::info!(
        records = summary.records,
        imported = summary.imported,
        already_imported = summary.already_imported,
        duplicates = summary.duplicates_in_file,
        "register feed imported"
    );
    Ok(summary)
}

/// One municipality of the register by any of its codes, as a request names it.
pub async fn municipality(
    db: &impl ConnectionTrait,
    field: &'static str,
    raw: &str,
) -> Result<Municipality, RecruitmentError> {
    let nis = wire::nis(field, raw)?;
    match wire::register::find(db, nis).await? {
        Known::Found(m) => known(m),
        Known::Unknown => Err(RecruitmentError::UnknownMunicipality {
            nis: nis.to_string(),
        }),
        Known::NotLoaded => Err(RecruitmentError::RegisterNotLoaded),
    }
}
