//! A caseload record as an agency's export gives it: one person per line, in JSON lines
//! (the whole history) or CSV (one column per fact, one result per test). Every value is
//! read as text here and checked in `check`, so an error names the field as the file does.
//! The format is documented field by field in `docs/caseload-import.md`.

use serde::{Deserialize, Serialize};

/// One person with their trajectory, results and Brussels registrations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub national_number: String,
    pub given_name: String,
    pub family_name: String,
    /// When absent, the birth date the national number encodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    pub mother_tongue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_language: Option<String>,
    /// The first registration in a municipality, as the national register has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectory: Option<TrajectoryRecord>,
    /// Registrations the GGC (since 2024) or a BAPA (before) reported for this person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ggc_registrations: Vec<GgcRecord>,
}

/// The national register's facts of the first registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterFacts {
    pub municipality_nis: String,
    pub registered_on: String,
    pub free_movement: bool,
    pub foreigners_register: bool,
}

/// The trajectory as the agency's system holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryRecord {
    pub municipality_nis: String,
    /// `agii`, `bon`, `atlas` or `in-gent`; must be the one competent for the municipality.
    pub agency: String,
    /// `obliged`, `entitled` or `voluntary`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<String>,
    pub started_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractRecord>,
    /// What the person paid in course fees, in cents; checked against the rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_paid_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ResultRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vdab_registered_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participation: Option<ParticipationRecord>,
    /// `works` or `studies`: participation is not required (known at the contract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participation_waiver: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<SuspensionRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort_declaration: Option<EffortRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attest_issued_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b1: Option<B1Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractRecord {
    pub signed_on: String,
    pub nt2_deadline: String,
    pub mo_deadline: String,
    /// When given, it must be the rules' (2 months after the start, T1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vdab_deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participation_deadline: Option<String>,
}

/// A test taken: NT2 A2 (or adapted), MO or B1 oral, at a centre on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultRecord {
    /// `nt2-a2`, `nt2-a2-adapted`, `mo` or `b1-oral`.
    pub test: String,
    pub taken_on: String,
    /// `passed`, `failed` or `absent`.
    pub outcome: String,
    /// The level reached (`A2`, `B1`…), required for a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub centre: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipationRecord {
    /// Hours over all offers.
    pub hours: u32,
    /// The day the 40 hours were reached, when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<OfferHours>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferHours {
    pub offer: String,
    pub hours: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspensionRecord {
    pub from: String,
    /// Absent while the suspension lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffortRecord {
    pub issued_on: String,
    pub grounds: String,
}

/// The B1 follow-up after the attest: closed by a passed B1 oral test (in `results`) or
/// by six months of work, study or training from `activity_from`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct B1Record {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_to: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRecord {
    pub on: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GgcRecord {
    pub registered_on: String,
    /// `dutch` or `french`.
    pub language: String,
}

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// From the file name: `.csv` is CSV, anything else JSON lines.
    pub fn of(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::JsonLines,
        }
    }
}

/// One line of JSON; the error names where the line broke.
pub fn from_json(line: &str) -> Result<Record, String> {
    serde_json::from_str(line).map_err(|e| {
        if e.is_eof() {
            format!("the line ends in the middle of a record (truncated?): {e}")
        } else {
            e.to_string()
        }
    })
}

/// The CSV columns, in order: the header line of a CSV caseload.
pub const CSV_COLUMNS: &[&str] = &[
    "national_number",
    "given_name",
    "family_name",
    "birth_date",
    "mother_tongue",
    "contact_language",
    "register_nis",
    "registered_on",
    "free_movement",
    "foreigners_register",
    "municipality_nis",
    "agency",
    "status",
    "exemption",
    "started_on",
    "signed_on",
    "nt2_deadline",
    "mo_deadline",
    "vdab_deadline",
    "participation_deadline",
    "fees_paid_cents",
    "nt2_test",
    "nt2_on",
    "nt2_outcome",
    "nt2_level",
    "nt2_centre",
    "mo_on",
    "mo_outcome",
    "mo_centre",
    "vdab_registered_on",
    "participation_hours",
    "participation_completed_on",
    "participation_waiver",
    "suspended_from",
    "suspended_to",
    "suspension_reason",
    "effort_issued_on",
    "effort_grounds",
    "attest_issued_on",
    "b1_on",
    "b1_outcome",
    "b1_centre",
    "b1_activity_from",
    "b1_activity_to",
    "stopped_on",
    "stop_reason",
    "ggc_registered_on",
    "ggc_language",
];

/// One CSV row (already split into `CSV_COLUMNS.len()` cells) as a record; an empty cell
/// is an absent value. The error names the column.
pub fn from_csv(cells: &[&str]) -> Result<Record, String> {
    if cells.len() != CSV_COLUMNS.len() {
        return Err(format!(
            "has {} columns, the header has {} (truncated?)",
            cells.len(),
            CSV_COLUMNS.len()
        ));
    }
    let get = |name: &str| -> Option<String> {
        let i = CSV_COLUMNS.iter().position(|c| *c == name)?;
        let v = cells[i].trim();
        (!v.is_empty()).then(|| v.to_owned())
    };
    let text = |name: &str| get(name).unwrap_or_default();
    let flag = |name: &str| -> Result<bool, String> {
        match get(name).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(format!("{name}: {other:?} is not true or false")),
        }
    };
    let number = |name: &str| -> Result<Option<u64>, String> {
        get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("{name}: {v:?} is not a whole number"))
            })
            .transpose()
    };
    let result = |test: String, on: &str, outcome: &str, level: Option<String>, centre: &str| {
        get(on).map(|taken_on| ResultRecord {
            test,
            taken_on,
            outcome: text(outcome),
            level,
            centre: text(centre),
        })
    };
    let register = get("register_nis")
        .map(|municipality_nis| {
            Ok::<_, String>(RegisterFacts {
                municipality_nis,
                registered_on: text("registered_on"),
                free_movement: flag("free_movement")?,
                foreigners_register: flag("foreigners_register")?,
            })
        })
        .transpose()?;
    let trajectory = match get("municipality_nis") {
        None => None,
        Some(municipality_nis) => {
            let results = [
                result(
                    get("nt2_test").unwrap_or_else(|| "nt2-a2".into()),
                    "nt2_on",
                    "nt2_outcome",
                    get("nt2_level"),
                    "nt2_centre",
                ),
                result("mo".into(), "mo_on", "mo_outcome", None, "mo_centre"),
                result(
                    "b1-oral".into(),
                    "b1_on",
                    "b1_outcome",
                    Some("B1".into()),
                    "b1_centre",
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            let hours = number("participation_hours")?;
            Some(TrajectoryRecord {
                municipality_nis,
                agency: text("agency"),
                status: text("status"),
                exemption: get("exemption"),
                started_on: text("started_on"),
                contract: get("signed_on").map(|signed_on| ContractRecord {
                    signed_on,
                    nt2_deadline: text("nt2_deadline"),
                    mo_deadline: text("mo_deadline"),
                    vdab_deadline: get("vdab_deadline"),
                    participation_deadline: get("participation_deadline"),
                }),
                fees_paid_cents: number("fees_paid_cents")?.map(|c| c as i64),
                results,
                vdab_registered_on: get("vdab_registered_on"),
                participation: match (hours, get("participation_completed_on")) {
                    (None, None) => None,
                    (hours, completed_on) => Some(ParticipationRecord {
                        hours: u32::try_from(hours.unwrap_or(0))
                            .map_err(|_| "participation_hours: too large".to_owned())?,
                        completed_on,
                        offers: Vec::new(),
                    }),
                },
                participation_waiver: get("participation_waiver"),
                suspensions: get("suspended_from")
                    .map(|from| SuspensionRecord {
                        from,
                        to: get("suspended_to"),
                        reason: text("suspension_reason"),
                    })
                    .into_iter()
                    .collect(),
                effort_declaration: get("effort_issued_on").map(|issued_on| EffortRecord {
                    issued_on,
                    grounds: text("effort_grounds"),
                }),
                attest_issued_on: get("attest_issued_on"),
                b1: match (get("b1_activity_from"), get("b1_activity_to")) {
                    (None, None) => None,
                    (activity_from, activity_to) => Some(B1Record {
                        activity_from,
                        activity_to,
                    }),
                },
                stopped: get("stopped_on").map(|on| StopRecord {
                    on,
                    reason: text("stop_reason"),
                }),
            })
        }
    };
    Ok(Record {
        national_number: text("national_number"),
        given_name: text("given_name"),
        family_name: text("family_name"),
        birth_date: get("birth_date"),
        mother_tongue: text("mother_tongue"),
        contact_language: get("contact_language"),
        register,
        trajectory,
        ggc_registrations: get("ggc_registered_on")
            .map(|registered_on| GgcRecord {
                registered_on,
                language: text("ggc_language"),
            })
            .into_iter()
            .collect(),
    })
}
