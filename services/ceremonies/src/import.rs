//! `inburgering ceremonies import FILE.csv`: historical overviews (the agency's inventory
//! per municipality, year and kind) into the report. The whole file is checked before
//! anything is written, and written in one transaction: a file with one bad line imports
//! nothing. Importing the same file again changes nothing (rows are keyed by year,
//! municipality and kind).
//!
//! The file: a header `year,municipality,kind,invitations,participants,reported_rate`,
//! then one line per row. `municipality` is a Dutch or French name of Statbel's register
//! or a NIS code (a code merged away in 2025 counts for the municipality it became part
//! of); `kind` is `integration` or `youth`; `invitations`, `participants` and
//! `reported_rate` may be empty (not known). A rate is a percentage, `17`, `16.7`, `16,7`
//! or `17%`.

use platform::db::BeginWrite as _;
use std::collections::{HashMap, HashSet};

use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, sea_query::OnConflict};

use platform::Nis;
use wire::register::{self, Municipality};

use crate::{domain::CeremonyKind, rules, store::overview};

/// The header the file must start with.
pub const HEADER: [&str; 6] = [
    "year",
    "municipality",
    "kind",
    "invitations",
    "participants",
    "reported_rate",
];

/// One thing wrong with the file: the line (1 is the header) and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, field {}: {}",
            self.line, self.field, self.reason
        )
    }
}

/// Why nothing of a file was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Every bad line, in order; nothing was imported.
    #[error("nothing imported: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Lines(Vec<LineError>),
    #[error("nothing imported: the municipality register has not arrived from municipalities yet")]
    RegisterNotLoaded,
    #[error("nothing imported: database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A checked line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub year: i32,
    pub nis: Nis,
    pub kind: CeremonyKind,
    pub invitations: Option<u32>,
    pub participants: Option<u32>,
    pub reported_basis_points: Option<u32>,
}

/// A count cell: empty is not known; otherwise a whole number from 0.
pub fn count(cell: &str) -> Result<Option<u32>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    if let Some(rest) = cell.strip_prefix('-')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("{cell} is negative"));
    }
    if !cell.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{cell:?} is not a whole number"));
    }
    cell.parse()
        .map(Some)
        .map_err(|_| format!("{cell} is too large"))
}

/// A rate cell in hundredths of a percent: empty is not known; at most two decimals, from
/// 0 to 100%.
pub fn rate(cell: &str) -> Result<Option<u32>, String> {
    let cell = cell.trim();
    let number = cell.strip_suffix('%').unwrap_or(cell).trim();
    if number.is_empty() {
        return Ok(None);
    }
    if number.starts_with('-') {
        return Err(format!("{cell} is negative"));
    }
    let (whole, decimals) = match number.split_once(['.', ',']) {
        Some((w, d)) => (w, d),
        None => (number, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(decimals.is_empty() || digits(decimals)) || decimals.len() > 2 {
        return Err(format!(
            "{cell:?} is not a percentage (e.g. 17, 16.7 or 17%)"
        ));
    }
    let whole: u32 = whole.parse().map_err(|_| format!("{cell} is too large"))?;
    let hundredths: u32 = format!("{decimals:0<2}").parse().unwrap_or(0);
    let bp = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(hundredths))
        .ok_or_else(|| format!("{cell} is too large"))?;
    if bp > rules::MAX_RATE_BASIS_POINTS {
        return Err(format!("{cell} is above 100%"));
    }
    Ok(Some(bp))
}

fn kind(cell: &str) -> Result<CeremonyKind, String> {
    match cell.trim().to_lowercase().as_str() {
        "integration" | "integration ceremony" | "inburgeringsceremonie" => {
            Ok(CeremonyKind::Integration)
        }
        "youth" | "youth celebration" | "jongerenfeest" => Ok(CeremonyKind::Youth),
        other => Err(format!("{other:?} is not integration or youth")),
    }
}

fn year(cell: &str) -> Result<i32, String> {
    cell.trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| format!("{:?} is not a year from 2000 to 2100", cell.trim()))
}

fn normalised(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The register as the import reads it: codes (current and former) and names.
#[derive(Debug, Default)]
pub struct Register {
    by_code: HashMap<String, Nis>,
    by_name: HashMap<String, Nis>,
}

impl Register {
    pub async fn load(db: &DatabaseConnection) -> Result<Self, ImportError> {
        let rows = register::all(db).await?;
        if rows.is_empty() {
            return Err(ImportError::RegisterNotLoaded);
        }
        Ok(Self::from_rows(rows))
    }

    /// The register of the projection's `rows`, as [`Register::load`] reads them. Public
    /// for the fuzz targets (`fuzz/`), which have no database.
    #[doc(hidden)]
    pub fn from_rows(rows: Vec<Municipality>) -> Self {
        let mut register = Self::default();
        for r in rows {
            let Ok(current) = Nis::parse("nis", &r.current_nis) else {
                continue;
            };
            if r.code == r.current_nis {
                register.by_name.insert(normalised(&r.name_nl), current);
                if !r.name_fr.is_empty() {
                    register.by_name.insert(normalised(&r.name_fr), current);
                }
            }
            register.by_code.insert(r.code, current);
        }
        register
    }

    fn resolve(&self, cell: &str) -> Result<Nis, String> {
        let cell = cell.trim();
        if cell.is_empty() {
            return Err("is required".into());
        }
        if cell.bytes().all(|b| b.is_ascii_digit()) {
            return self
                .by_code
                .get(cell)
                .copied()
                .ok_or_else(|| format!("{cell} is not a NIS code of Statbel's register"));
        }
        self.by_name.get(&normalised(cell)).copied().ok_or_else(|| {
            format!(
                "{cell:?} is not a municipality of Statbel's register (a name merged away in 2025: use its former NIS code)"
            )
        })
    }
}

/// Checks the whole file; `progress` is called with each line read.
pub fn check(
    text: &str,
    register: &Register,
    progress: &dyn Fn(u64),
) -> Result<Vec<Line>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 1;
        progress(line);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(LineError {
                    line,
                    field: "line",
                    reason: format!("is not CSV: {e}"),
                });
                continue;
            }
        };
        if line == 1 {
            let header: Vec<String> = record.iter().map(|c| c.trim().to_lowercase()).collect();
            if header != HEADER {
                return Err(ImportError::Lines(vec![LineError {
                    line,
                    field: "header",
                    reason: format!(
                        "is {:?}; expected {:?}",
                        record.iter().collect::<Vec<_>>().join(","),
                        HEADER.join(",")
                    ),
                }]));
            }
            continue;
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != HEADER.len() {
            errors.push(LineError {
                line,
                field: "line",
                reason: format!("has {} fields; expected {}", record.len(), HEADER.len()),
            });
            continue;
        }
        let mut bad = |field: &'static str, reason: String| {
            errors.push(LineError {
                line,
                field,
                reason,
            })
        };
        let year = year(&record[0]).map_err(|e| bad("year", e)).ok();
        let nis = register
            .resolve(&record[1])
            .map_err(|e| bad("municipality", e))
            .ok();
        let kind = kind(&record[2]).map_err(|e| bad("kind", e)).ok();
        let invitations = count(&record[3]).map_err(|e| bad("invitations", e)).ok();
        let participants = count(&record[4]).map_err(|e| bad("participants", e)).ok();
        let reported = rate(&record[5]).map_err(|e| bad("reported_rate", e)).ok();
        let (
            Some(year),
            Some(nis),
            Some(kind),
            Some(invitations),
            Some(participants),
            Some(reported),
        ) = (year, nis, kind, invitations, participants, reported)
        else {
            continue;
        };
        if let (Some(i), Some(p)) = (invitations, participants)
            && p > i
        {
            bad(
                "participants",
                format!("{p} is more than the {i} invitations"),
            );
            continue;
        }
        if !seen.insert((year, nis, kind)) {
            bad(
                "municipality",
                format!("{year}, {nis}, {} appears twice in the file", kind.as_str()),
            );
            continue;
        }
        lines.push(Line {
            year,
            nis,
            kind,
            invitations,
            participants,
            reported_basis_points: reported,
        });
    }
    if lines.is_empty() && errors.is_empty() && text.trim().is_empty() {
        errors.push(LineError {
            line: 1,
            field: "header",
            reason: "the file is empty".into(),
        });
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(ImportError::Lines(errors))
    }
}

/// Checks `text` and writes it in one transaction; `progress` is called per line read.
pub async fn run(
    db: &DatabaseConnection,
    text: &str,
    progress: &dyn Fn(u64),
) -> Result<Summary, ImportError> {
    let register = Register::load(db).await?;
    let lines = check(text, &register, progress)?;
    let txn = db.begin_write().await?;
    let mut summary = Summary {
        rows: lines.len() as u64,
        ..Summary::default()
    };
    let to_i32 = |v: Option<u32>| v.map(|v| v as i32);
    for l in &lines {
        let key = (l.year, l.nis.to_string(), l.kind.as_str().to_owned());
        let existing = overview::Entity::find_by_id(key.clone()).one(&txn).await?;
        let row = overview::Model {
            year: l.year,
            nis: key.1.clone(),
            kind: key.2.clone(),
            invitations: to_i32(l.invitations),
            participants: to_i32(l.participants),
            reported_rate_bp: to_i32(l.reported_basis_points),
        };
        match existing {
            Some(e) if e == row => {
                summary.unchanged += 1;
                continue;
            }
            Some(_) => summary.updated += 1,
            None => summary.inserted += 1,
        }
        overview::Entity::insert(overview::ActiveModel {
            year: Set(row.year),
            nis: Set(row.nis),
            kind: Set(row.kind),
            invitations: Set(row.invitations),
            participants: Set(row.participants),
            reported_rate_bp: Set(row.reported_rate_bp),
        })
        .on_conflict(
            OnConflict::columns([
                overview::Column::Year,
                overview::Column::Nis,
                overview::Column::Kind,
            ])
            .update_columns([
                overview::Column::Invitations,
                overview::Column::Participants,
                overview::Column::ReportedRateBp,
            ])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    tracing::info!(
        rows = summary.rows,
        inserted = summary.inserted,
        updated = summary.updated,
        unchanged = summary.unchanged,
        "historical overview imported"
    );
    Ok(summary)
}

/// Lines of `text` (for a progress bar's length).
pub fn line_count(text: &str) -> u64 {
    text.lines().count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register() -> Register {
        let nis = |c: &str| Nis::parse("nis", c).expect("valid");
        Register {
            by_code: [("11002", "11002"), ("11007", "11002"), ("44021", "44021")]
                .into_iter()
                .map(|(c, n)| (c.to_owned(), nis(n)))
                .collect(),
            by_name: [
                ("antwerpen", "11002"),
                ("anvers", "11002"),
                ("gent", "44021"),
            ]
            .into_iter()
            .map(|(c, n)| (c.to_owned(), nis(n)))
            .collect(),
        }
    }

    fn errors(text: &str) -> Vec<(u64, &'static str)> {
        match check(text, &register(), &|_| {}) {
            Err(ImportError::Lines(e)) => e.into_iter().map(|e| (e.line, e.field)).collect(),
            other => panic!("expected line errors, got {other:?}"),
        }
    }

    const HEAD: &str = "year,municipality,kind,invitations,participants,reported_rate\n";

    #[test]
    fn counts_may_be_missing_but_not_negative_or_words() {
        assert_eq!(count(""), Ok(None));
        assert_eq!(count(" 0 "), Ok(Some(0)));
        assert_eq!(count("120"), Ok(Some(120)));
        assert!(count("-1").expect_err("negative").contains("negative"));
        assert!(count("twelve").is_err());
        assert!(count("1.5").is_err());
    }

    #[test]
    fn rates_are_percentages_up_to_one_hundred() {
        assert_eq!(rate(""), Ok(None));
        assert_eq!(rate("17"), Ok(Some(1_700)));
        assert_eq!(rate("16,7"), Ok(Some(1_670)));
        assert_eq!(rate("16.67%"), Ok(Some(1_667)));
        assert_eq!(rate("100"), Ok(Some(10_000)));
        assert!(rate("100.01").expect_err("above").contains("above 100%"));
        assert!(rate("-5").is_err());
        assert!(rate("16.667").is_err());
        assert!(rate("abc").is_err());
    }

    #[test]
    fn a_good_file_reads_names_codes_and_missing_cells() {
        let text = format!(
            "{HEAD}2019,Antwerpen,integration,120,40,33\n2019,11007,youth,,,\n2019, gent ,integration,50,,\n"
        );
        let lines = check(&text, &register(), &|_| {}).expect("valid");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].reported_basis_points, Some(3_300));
        assert_eq!(lines[1].nis.to_string(), "11002");
        assert_eq!(lines[1].invitations, None);
        assert_eq!(lines[2].participants, None);
    }

    #[test]
    fn every_bad_cell_is_named_by_line_and_field() {
        assert_eq!(errors("year,municipality,kind\n"), vec![(1, "header")]);
        assert_eq!(
            errors(&format!(
                "{HEAD}2019,Antwerpen,integration,abc,4,\n2019,Atlantis,integration,5,4,\n2019,Gent,integration,-3,4,\n2019,Gent,youth,10,4,101\n2019,Gent,party,1,1,\n"
            )),
            vec![
                (2, "invitations"),
                (3, "municipality"),
                (4, "invitations"),
                (5, "reported_rate"),
                (6, "kind"),
            ]
        );
    }

    #[test]
    fn more_participants_than_invitations_and_duplicates_are_refused() {
        assert_eq!(
            errors(&format!("{HEAD}2019,Gent,integration,10,11,\n")),
            vec![(2, "participants")]
        );
        assert_eq!(
            errors(&format!(
                "{HEAD}2019,Gent,integration,10,5,\n2019,44021,integration,10,5,\n"
            )),
            vec![(3, "municipality")]
        );
    }
}
