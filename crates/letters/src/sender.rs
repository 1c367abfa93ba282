//! Who sends a letter and how the reader reaches them: the contact block every letter
//! carries, per agency and office, and the intake slot an agency proposes. Configuration,
//! not code: built in are the agencies' public names and websites only; production names a
//! TOML file in `INBURGERING_LETTER_SENDERS_FILE` (docs/operations.md):
//!
//! ```toml
//! [[sender]]
//! agency = "atlas"                       # agii | bon | atlas | in-gent
//! office = "Onthaal Centrum"             # optional
//! address = ["Carnotstraat 110", "2060 Antwerpen"]
//! phone = "03 000 00 00"
//! hours = "maandag tot vrijdag, 9 tot 12 uur"
//! website = "www.atlas-antwerpen.be"     # optional: the built-in website
//! intake = "dinsdag of donderdag om 10 uur, zonder afspraak"   # optional
//! municipalities = ["11002"]             # optional: the NIS codes this office serves
//! ```
//!
//! An entry without `municipalities` is the agency's own contact block; one with them is an
//! office that answers for those municipalities. What an entry leaves out is left out of
//! the letter: a block says only what is known, and nothing here invents a phone number.

use std::collections::BTreeMap;
use std::path::Path;

use figment::{
    Figment,
    providers::{Format, Toml},
    value::Value,
};
use serde::Deserialize;

use crate::uncovered;

/// The agencies' aliases, as every service names them.
const AGENCIES: [&str; 4] = ["agii", "bon", "atlas", "in-gent"];

/// The agency whose contact block a letter of any other alias carries: the Flemish agency.
const FALLBACK: &str = "agii";

/// A letter's sender and how to reach them. Empty texts are unknown and left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The agency's public name, as the letter signs it.
    pub organisation: String,
    /// The office, e.g. "kantoor Leuven".
    pub office: String,
    /// The office's postal address, one line per entry.
    pub address: Vec<String>,
    /// The phone number, as written.
    pub phone: String,
    /// When the office is open, in Dutch.
    pub hours: String,
    /// The website, as written.
    pub website: String,
    /// The intake slot the agency proposes, in Dutch, if it sets one.
    pub intake: Option<String>,
}

impl Sender {
    /// A sender known by name and website only.
    fn public(organisation: &str, website: &str) -> Self {
        Sender {
            organisation: organisation.to_owned(),
            office: String::new(),
            address: Vec::new(),
            phone: String::new(),
            hours: String::new(),
            website: website.to_owned(),
            intake: None,
        }
    }

    /// The contact block's lines, in Dutch: who, where, phone, opening hours, website —
    /// only those that are known.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.organisation.clone()];
        if !self.office.is_empty() {
            lines.push(self.office.clone());
        }
        let address: Vec<&str> = self
            .address
            .iter()
            .map(String::as_str)
            .filter(|l| !l.is_empty())
            .collect();
        if !address.is_empty() {
            lines.push(format!("Adres: {}", address.join(", ")));
        }
        let labelled = [
            ("Telefoon", &self.phone),
            ("Open", &self.hours),
            ("Website", &self.website),
        ];
        for (label, value) in labelled {
            if !value.is_empty() {
                lines.push(format!("{label}: {value}"));
            }
        }
        lines
    }

    /// The proposed intake slot as a line in Dutch, if the agency sets one.
    pub fn intake_line(&self) -> Option<String> {
        self.intake
            .as_deref()
            .map(|slot| format!("Voorstel voor uw intakegesprek: {slot}"))
    }

    /// The paragraphs a letter's section ends with: the intake slot (if any), then the
    /// contact block, one line per paragraph. The translation of a letter repeats them.
    pub fn paragraphs(&self) -> Vec<String> {
        self.intake_line().into_iter().chain(self.lines()).collect()
    }
}

/// Every agency's senders: its own contact block and its offices by municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Senders {
    /// The agency's own block, by alias.
    agencies: BTreeMap<String, Sender>,
    /// An office's block, by (alias, NIS code of a municipality it serves).
    offices: BTreeMap<(String, String), Sender>,
}

/// One `[[sender]]` entry as the file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    agency: String,
    organisation: Option<String>,
    #[serde(default)]
    office: String,
    #[serde(default)]
    address: Vec<String>,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    hours: String,
    website: Option<String>,
    intake: Option<String>,
    #[serde(default)]
    municipalities: Vec<String>,
}

impl Senders {
    /// The built-in senders: each agency's public name and website, nothing more.
    pub fn builtin() -> Self {
        let agencies = [
            (
                "agii",
                "Agentschap Integratie en Inburgering",
                "www.integratie-inburgering.be",
            ),
            (
                "bon",
                "Bon, Brussels onthaalbureau inburgering",
                "www.bon.be",
            ),
            (
                "atlas",
                "Atlas, integratie & inburgering Antwerpen",
                "www.atlas-antwerpen.be",
            ),
            ("in-gent", "IN-Gent", "www.in-gent.be"),
        ];
        Senders {
            agencies: agencies
                .into_iter()
                .map(|(alias, name, website)| (alias.to_owned(), Sender::public(name, website)))
                .collect(),
            offices: BTreeMap::new(),
        }
    }

    /// The senders of the TOML file at `path`, or the built-in ones when none is configured.
    /// The error names the file and the entry.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        match path {
            None => Ok(Self::builtin()),
            Some(path) => Self::from_figment(Figment::from(Toml::file_exact(path)))
                .map_err(|e| format!("{}: {e}", path.display())),
        }
    }

    /// Parses TOML text (tests, and the same checks as a file).
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::from_figment(Figment::from(Toml::string(text)))
    }

    fn from_figment(figment: Figment) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            sender: Vec<Value>,
        }
        let file: File = figment.extract().map_err(|e| e.to_string())?;
        let mut senders = Self::builtin();
        // Which entry set an agency's own block or an office's municipality, to name both
        // entries of a conflict.
        let mut set_by: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
        for (i, value) in file.sender.iter().enumerate() {
            let n = i + 1;
            let entry: Entry = value
                .deserialize()
                .map_err(|e| format!("sender {n}: {}", e.kind))?;
            let (alias, places, sender) = senders
                .entry(entry)
                .map_err(|e| format!("sender {n}: {e}"))?;
            let keys: Vec<Option<String>> = if places.is_empty() {
                vec![None]
            } else {
                places.into_iter().map(Some).collect()
            };
            for key in keys {
                if let Some(first) = set_by.insert((alias.clone(), key.clone()), n) {
                    return Err(match key {
                        None => format!("senders {first} and {n} are both {alias}'s own block"),
                        Some(nis) => format!(
                            "senders {first} and {n} both serve municipality {nis} for {alias}"
                        ),
                    });
                }
                match key {
                    None => senders.agencies.insert(alias.clone(), sender.clone()),
                    Some(nis) => senders.offices.insert((alias.clone(), nis), sender.clone()),
                };
            }
        }
        Ok(senders)
    }

    /// Checks one entry; returns its agency, the municipalities it serves and its block.
    fn entry(&self, e: Entry) -> Result<(String, Vec<String>, Sender), String> {
        let builtin = self.agencies.get(&e.agency).ok_or_else(|| {
            format!(
                "agency {:?} is not one of {}",
                e.agency,
                AGENCIES.join(", ")
            )
        })?;
        let organisation = e
            .organisation
            .unwrap_or_else(|| builtin.organisation.clone());
        if organisation.trim().is_empty() {
            return Err("organisation is empty".into());
        }
        let website = e.website.unwrap_or_else(|| builtin.website.clone());
        let intake = e.intake.filter(|s| !s.trim().is_empty());
        let texts = [
            ("organisation", organisation.as_str()),
            ("office", &e.office),
            ("phone", &e.phone),
            ("hours", &e.hours),
            ("website", &website),
            ("intake", intake.as_deref().unwrap_or("")),
        ];
        let address = e.address.iter().map(|l| ("address", l.as_str()));
        for (field, text) in texts.into_iter().chain(address) {
            if let Some((ch, position)) = uncovered(text) {
                return Err(format!(
                    "{field} holds {ch:?} at position {position}, which no letter font can print"
                ));
            }
        }
        for nis in &e.municipalities {
            if nis.len() != 5 || !nis.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "municipalities: {nis:?} is not a NIS code (five digits)"
                ));
            }
        }
        let sender = Sender {
            organisation,
            office: e.office,
            address: e.address,
            phone: e.phone,
            hours: e.hours,
            website,
            intake,
        };
        Ok((e.agency, e.municipalities, sender))
    }

    /// The agency's own contact block. An alias that is not an agency's gets the Flemish
    /// agency's (agii).
    pub fn for_agency(&self, alias: &str) -> &Sender {
        self.agencies
            .get(alias)
            .or_else(|| self.agencies.get(FALLBACK))
            .expect("the built-in senders hold every agency")
    }

    /// The block of the agency's office serving the municipality with NIS code `nis`, else
    /// the agency's own.
    pub fn for_municipality(&self, alias: &str, nis: &str) -> &Sender {
        self.offices
            .get(&(alias.to_owned(), nis.to_owned()))
            .unwrap_or_else(|| self.for_agency(alias))
    }
}

impl Default for Senders {
    fn default() -> Self {
        Self::builtin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATLAS: &str = r#"
        [[sender]]
        agency = "atlas"
        office = "Onthaal Centrum"
        address = ["Carnotstraat 110", "2060 Antwerpen"]
        phone = "03 000 00 00"
        hours = "maandag tot vrijdag, 9 tot 12 uur"
        intake = "dinsdag om 10 uur"

        [[sender]]
        agency = "agii"
        office = "kantoor Leuven"
        address = ["Diestsepoort 1", "3000 Leuven"]
        municipalities = ["24062", "24001"]
    "#;

    #[test]
    fn a_configured_agency_gets_its_block_and_the_others_keep_their_public_one() {
        let senders = Senders::parse(ATLAS).expect("valid senders");
        let atlas = senders.for_agency("atlas");
        assert_eq!(
            atlas.organisation,
            "Atlas, integratie & inburgering Antwerpen"
        );
        assert_eq!(
            atlas.paragraphs(),
            [
                "Voorstel voor uw intakegesprek: dinsdag om 10 uur",
                "Atlas, integratie & inburgering Antwerpen",
                "Onthaal Centrum",
                "Adres: Carnotstraat 110, 2060 Antwerpen",
                "Telefoon: 03 000 00 00",
                "Open: maandag tot vrijdag, 9 tot 12 uur",
                "Website: www.atlas-antwerpen.be",
            ]
        );
        assert_eq!(
            senders.for_agency("bon"),
            Senders::builtin().for_agency("bon")
        );
    }

    #[test]
    fn the_builtin_block_says_only_the_name_and_website() {
        let senders = Senders::builtin();
        for alias in AGENCIES {
            let lines = senders.for_agency(alias).lines();
            assert_eq!(lines.len(), 2, "{alias}: {lines:?}");
            assert!(lines[1].starts_with("Website: www."), "{alias}");
            assert_eq!(senders.for_agency(alias).intake_line(), None);
        }
        assert_eq!(
            senders.for_agency("in-gent").lines(),
            ["IN-Gent", "Website: www.in-gent.be"]
        );
        assert_eq!(senders.for_agency("elsewhere"), senders.for_agency("agii"));
        assert_eq!(Senders::load(None), Ok(Senders::builtin()));
    }

    #[test]
    fn an_office_answers_for_its_municipalities_and_the_agency_for_the_rest() {
        let senders = Senders::parse(ATLAS).expect("valid senders");
        assert_eq!(
            senders.for_municipality("agii", "24062").office,
            "kantoor Leuven"
        );
        assert_eq!(
            senders.for_municipality("agii", "24001").office,
            "kantoor Leuven"
        );
        assert_eq!(
            senders.for_municipality("agii", "44021"),
            senders.for_agency("agii")
        );
        assert_eq!(senders.for_agency("agii").office, "");
        // The office belongs to agii only.
        assert_eq!(
            senders.for_municipality("atlas", "24062"),
            senders.for_agency("atlas")
        );
    }

    #[test]
    fn a_bad_entry_is_refused_with_its_number_and_field() {
        let cases = [
            (
                ATLAS.replace("\"agii\"", "\"agiii\""),
                "sender 2: agency \"agiii\" is not one of agii, bon, atlas, in-gent",
            ),
            (
                ATLAS.replace("phone = ", "telephone = "),
                "sender 1: unknown field: found `telephone`",
            ),
            (
                ATLAS.replace("agency = \"agii\"", ""),
                "sender 2: missing field `agency`",
            ),
            (
                ATLAS.replace("03 000 00 00", "03 000 00 00 ☎"),
                "sender 1: phone holds '☎' at position 14, which no letter font can print",
            ),
            (
                ATLAS.replace("\"24001\"", "\"2400\""),
                "sender 2: municipalities: \"2400\" is not a NIS code",
            ),
            (
                ATLAS.replace("\"Carnotstraat 110\",", "3,"),
                "sender 1: invalid type",
            ),
            (
                format!("{ATLAS}\n[[sender]]\nagency = \"atlas\"\n"),
                "senders 1 and 3 are both atlas's own block",
            ),
            (
                format!("{ATLAS}\n[[sender]]\nagency = \"agii\"\nmunicipalities = [\"24062\"]\n"),
                "senders 2 and 3 both serve municipality 24062 for agii",
            ),
        ];
        for (text, want) in cases {
            let e = Senders::parse(&text).expect_err(want);
            assert!(e.contains(want), "{e}\n  wanted {want}");
        }
    }

    #[test]
    fn a_file_that_does_not_load_is_named() {
        let path = std::env::temp_dir().join(format!("senders-{}.toml", std::process::id()));
        std::fs::write(&path, "[[sender]]\nagency = \"bonn\"\n").expect("temp dir is writable");
        let e = Senders::load(Some(&path)).expect_err("unknown agency");
        let _ = std::fs::remove_file(&path);
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains("sender 1: agency \"bonn\""), "{e}");
        let missing = Senders::load(Some(Path::new("/nonexistent/senders.toml")));
        assert!(missing.expect_err("missing file").contains("senders.toml"));
    }

    #[test]
    fn names_in_any_script_a_font_covers_are_accepted() {
        let text = "[[sender]]\nagency = \"bon\"\noffice = \"مكتب بروكسل — Кабінет\"\n";
        let senders = Senders::parse(text).expect("Arabic and Cyrillic print");
        assert_eq!(senders.for_agency("bon").office, "مكتب بروكسل — Кабінет");
    }
}
