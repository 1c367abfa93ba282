//! What a letter says and how it is printed: the agency's signature, the note of a letter
//! in Dutch only, names and addresses made printable, and the printer that fills the
//! templates of a batch's letters and lays them out as one PDF with its index.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::FromQueryResult;
use uuid::Uuid;

use super::templates::Ready;
use crate::{
    RecruitmentError,
    domain::{Agency, Language, TemplateText},
    pdf,
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

/// The agency's name as a letter signs it.
pub fn agency_name(agency: Agency) -> &'static str {
    match agency {
        Agency::Agii => "Agentschap Integratie en Inburgering",
        Agency::Bon => "Bon, Brussels Onthaalbureau Inburgering",
        Agency::Atlas => "Atlas, integratie & inburgering Antwerpen",
        Agency::InGent => "In-Gent",
    }
}

/// The Dutch note of a letter without a translation in the person's languages
/// (DESIGN.md §3: "Dutch alone when no translation exists, and the letter says so").
pub fn dutch_only_note(languages: &[Language], agency: &str) -> String {
    let wanted = languages
        .iter()
        .filter(|l| l.as_str() != "nl")
        .map(Language::dutch_name)
        .collect::<Vec<_>>();
    let in_which = if wanted.is_empty() {
        String::new()
    } else {
        format!(" in {}", wanted.join(" of "))
    };
    format!(
        "Deze brief is er alleen in het Nederlands: er bestaat nog geen vertaling{in_which}. \
         Hebt u vragen over deze brief? Neem contact op met {agency}. Wij helpen u graag, \
         ook met een tolk, en dat is gratis."
    )
}

/// A name or address as the letter font can print it: letters of the Latin alphabets
/// outside Windows-1252 (Turkish, Polish, Czech, Romanian, …) lose their accent, anything
/// else becomes `?`. Templates are checked at upload; people's names are not refused, a
/// letter is never stopped by one.
pub fn printable(text: &str) -> String {
    if pdf::unprintable(text).is_none() {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if pdf::unprintable(c.encode_utf8(&mut [0; 4])).is_none() {
                return c;
            }
            match c {
                'ş' | 'ș' | 'ś' | 'ŝ' => 's',
                'Ş' | 'Ș' | 'Ś' | 'Ŝ' => 'S',
                'ğ' | 'ĝ' | 'ġ' | 'ģ' => 'g',
                'Ğ' | 'Ĝ' | 'Ġ' | 'Ģ' => 'G',
                'ı' => 'i',
                'İ' => 'I',
                'ł' => 'l',
                'Ł' => 'L',
                'ř' | 'ŕ' => 'r',
                'Ř' | 'Ŕ' => 'R',
                'ț' | 'ţ' | 'ť' => 't',
                'Ț' | 'Ţ' | 'Ť' => 'T',
                'ă' | 'ā' | 'ą' => 'a',
                'Ă' | 'Ā' | 'Ą' => 'A',
                'č' | 'ć' | 'ĉ' | 'ċ' => 'c',
                'Č' | 'Ć' | 'Ĉ' | 'Ċ' => 'C',
                'ę' | 'ě' | 'ē' | 'ė' => 'e',
                'Ę' | 'Ě' | 'Ē' | 'Ė' => 'E',
                'ń' | 'ň' | 'ņ' => 'n',
                'Ń' | 'Ň' | 'Ņ' => 'N',
                'ő' | 'ō' => 'o',
                'Ő' | 'Ō' => 'O',
                'ű' | 'ū' | 'ů' | 'ų' => 'u',
                'Ű' | 'Ū' | 'Ů' | 'Ų' => 'U',
                'ź' | 'ż' => 'z',
                'Ź' | 'Ż' => 'Z',
                'đ' | 'ď' => 'd',
                'Đ' | 'Ď' => 'D',
                'ķ' => 'k',
                'Ķ' => 'K',
                'ļ' | 'ľ' | 'ĺ' => 'l',
                'Ļ' | 'Ľ' | 'Ĺ' => 'L',
                'ī' | 'į' | 'ĩ' => 'i',
                'Ī' | 'Į' | 'Ĩ' => 'I',
                _ => '?',
            }
        })
        .collect()
}

/// A letter reserved in a batch.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct Reserved {
    pub(super) letter_id: Uuid,
    pub(super) translation_language: Option<String>,
    pub(super) dutch_version: i32,
    pub(super) translation_version: Option<i32>,
    pub(super) person_id: Uuid,
    pub(super) nis: String,
    pub(super) agency: String,
    pub(super) target_group: String,
    pub(super) registered_on: NaiveDate,
    pub(super) mother_tongue: String,
    pub(super) contact_language: Option<String>,
    pub(super) given_name: String,
    pub(super) family_name: String,
    pub(super) street: String,
    pub(super) postal_code: String,
    pub(super) city: String,
}

/// A person's languages as the registration holds them, mother tongue first.
pub(super) fn languages_of(mother_tongue: &str, contact: Option<&str>) -> Vec<Language> {
    std::iter::once(mother_tongue)
        .chain(contact)
        .filter_map(|l| Language::parse("languages", l).ok())
        .collect()
}

/// Fills the templates of reserved letters and prints them.
pub(super) struct Printer<'a> {
    pub(super) names: &'a BTreeMap<String, String>,
    pub(super) versions: &'a BTreeMap<(String, i32), Ready>,
}

impl Printer<'_> {
    fn template(&self, language: &str, version: i32) -> Result<&Ready> {
        self.versions
            .get(&(language.to_owned(), version))
            .ok_or_else(|| {
                RecruitmentError::Corrupt(format!("template {language} v{version} is gone"))
            })
    }

    /// Prints the reserved letters to one PDF; returns the bytes and the index (CSV).
    pub(super) fn print(
        &self,
        batch_id: Uuid,
        letters: &[Reserved],
        on: NaiveDate,
    ) -> Result<(Vec<u8>, String)> {
        let mut batch = pdf::Batch::new(&format!("Brieven {batch_id}"));
        let mut index = String::from("page,letter_id,person_id,translation_language\n");
        for l in letters {
            let agency = Agency::from_alias(&l.agency)
                .map(agency_name)
                .ok_or_else(|| RecruitmentError::Corrupt(format!("agency {:?}", l.agency)))?;
            let name = printable(&format!("{} {}", l.given_name, l.family_name));
            let municipality = self
                .names
                .get(&l.nis)
                .map_or(l.nis.as_str(), String::as_str);
            let registered_on = l.registered_on.format("%d-%m-%Y").to_string();
            let value = |p: &str| match p {
                "name" => name.as_str(),
                "agency" => agency,
                "municipality" => municipality,
                "registered_on" => registered_on.as_str(),
                _ => "",
            };
            let fill = |t: &Ready| -> (String, Vec<String>) {
                (
                    TemplateText::fill(&t.subject, value),
                    t.paragraphs
                        .iter()
                        .map(|p| TemplateText::fill(p, value))
                        .collect(),
                )
            };
            let (nl_subject, mut nl_paragraphs) = fill(self.template("nl", l.dutch_version)?);
            let translation = match (&l.translation_language, l.translation_version) {
                (Some(language), Some(version)) => Some(fill(self.template(language, version)?)),
                _ => None,
            };
            if translation.is_none() {
                let languages = languages_of(&l.mother_tongue, l.contact_language.as_deref());
                if !languages.iter().any(|x| x.as_str() == "nl") {
                    nl_paragraphs.push(dutch_only_note(&languages, agency));
                }
            }
            let mut sections = vec![pdf::Section {
                heading: &nl_subject,
                paragraphs: &nl_paragraphs,
            }];
            if let Some((subject, paragraphs)) = &translation {
                sections.push(pdf::Section {
                    heading: subject,
                    paragraphs,
                });
            }
            let address = [
                name.clone(),
                printable(&l.street),
                printable(&format!("{} {}", l.postal_code, l.city)),
            ];
            let reference = format!("Ref. {} - {}", l.letter_id, on.format("%d-%m-%Y"));
            let page = batch
                .add(&pdf::Letter {
                    address: &address,
                    reference: &reference,
                    sections: &sections,
                })
                // Every text is printable by now: an error is a bug, and says which field
                // without the text.
                .map_err(|e| match e {
                    pdf::PdfError::Unprintable { field, .. } => RecruitmentError::Corrupt(format!(
                        "letter {}: {field} is not printable",
                        l.letter_id
                    )),
                })?;
            index.push_str(&format!(
                "{page},{},{},{}\n",
                l.letter_id,
                l.person_id,
                l.translation_language.as_deref().unwrap_or("")
            ));
        }
        Ok((batch.finish(), index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_letter_font_lose_their_accent_not_their_letter() {
        assert_eq!(printable("Ayşe Kılıç"), "Ayse Kiliç", "ç is in the font");
        assert_eq!(printable("Łukasz Dvořák"), "Lukasz Dvorák");
        assert_eq!(printable("Ștefan Țurcanu"), "Stefan Turcanu");
        assert_eq!(printable("Éléonore Müller"), "Éléonore Müller");
        assert_eq!(printable("محمد"), "????");
        assert!(pdf::unprintable(&printable("Ğğİı ŘřŠš ǅ")).is_none());
    }
}
