//! What a letter says and how it is printed: the note of a letter in Dutch only, and the
//! printer that fills the templates of a batch's letters, adds the sender's contact block
//! and lays them out as one PDF (the `letters` crate) with its index.

use std::collections::BTreeMap;

use ::letters::{Batch, Letter, PdfError, Section, Senders, printable};
use chrono::NaiveDate;
use sea_orm::FromQueryResult;
use uuid::Uuid;

use super::templates::Ready;
use crate::{
    RecruitmentError,
    domain::{Agency, Language, TemplateText},
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

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

/// Fills the templates of reserved letters and prints them. Owns what it reads, so a
/// batch prints on a thread of its own.
pub(super) struct Printer {
    /// The municipalities' Dutch names by NIS code.
    pub(super) names: BTreeMap<String, String>,
    /// Every version of the kind's templates, by (language, version).
    pub(super) versions: BTreeMap<(String, i32), Ready>,
    /// Who signs, and the contact block each letter ends with.
    pub(super) senders: Senders,
}

/// One section's heading and paragraphs, owned until the letter is added.
struct Text {
    heading: String,
    paragraphs: Vec<String>,
}

impl Printer {
    fn template(&self, language: &str, version: i32) -> Result<&Ready> {
        self.versions
            .get(&(language.to_owned(), version))
            .ok_or_else(|| {
                RecruitmentError::Corrupt(format!("template {language} v{version} is gone"))
            })
    }

    /// The sections of a letter: the Dutch letter (with the note when there is no
    /// translation for a reader of another language), then the translation; each ends
    /// with the proposed intake slot and the sender's contact block.
    fn sections(&self, l: &Reserved) -> Result<Vec<Text>> {
        if Agency::from_alias(&l.agency).is_none() {
            return Err(RecruitmentError::Corrupt(format!("agency {:?}", l.agency)));
        }
        let sender = self.senders.for_municipality(&l.agency, &l.nis);
        // Names print as written; a character no font has becomes `?`, never a refusal.
        let name = printable(&format!("{} {}", l.given_name, l.family_name)).into_owned();
        let municipality = self
            .names
            .get(&l.nis)
            .map_or(l.nis.as_str(), String::as_str);
        let registered_on = l.registered_on.format("%d-%m-%Y").to_string();
        let value = |p: &str| match p {
            "name" => name.as_str(),
            "agency" => sender.organisation.as_str(),
            "municipality" => municipality,
            "registered_on" => registered_on.as_str(),
            _ => "",
        };
        let fill = |t: &Ready| Text {
            heading: TemplateText::fill(&t.subject, value),
            paragraphs: t
                .paragraphs
                .iter()
                .map(|p| TemplateText::fill(p, value))
                .collect(),
        };
        let mut dutch = fill(self.template("nl", l.dutch_version)?);
        let translation = match (&l.translation_language, l.translation_version) {
            (Some(language), Some(version)) => Some(fill(self.template(language, version)?)),
            _ => None,
        };
        if translation.is_none() {
            let languages = languages_of(&l.mother_tongue, l.contact_language.as_deref());
            if !languages.iter().any(|x| x.as_str() == "nl") {
                dutch
                    .paragraphs
                    .push(dutch_only_note(&languages, &sender.organisation));
            }
        }
        let mut texts: Vec<Text> = std::iter::once(dutch).chain(translation).collect();
        for text in &mut texts {
            text.paragraphs.extend(sender.paragraphs());
        }
        Ok(texts)
    }

    /// Prints the reserved letters to one PDF; returns the bytes and the index (CSV).
    /// Runs on the calling thread from start to end (a [`Batch`] stays on its thread).
    pub(super) fn print(
        &self,
        batch_id: Uuid,
        letters: &[Reserved],
        on: NaiveDate,
    ) -> Result<(Vec<u8>, String)> {
        let mut batch = Batch::new(&format!("Brieven {batch_id}"));
        let mut index = String::from("page,letter_id,person_id,translation_language\n");
        for l in letters {
            let texts = self.sections(l)?;
            let sections: Vec<Section<'_>> = texts
                .iter()
                .map(|t| Section {
                    heading: &t.heading,
                    paragraphs: &t.paragraphs,
                })
                .collect();
            let address = [
                printable(&format!("{} {}", l.given_name, l.family_name)).into_owned(),
                printable(&l.street).into_owned(),
                printable(&format!("{} {}", l.postal_code, l.city)).into_owned(),
            ];
            let reference = format!("Ref. {} - {}", l.letter_id, on.format("%d-%m-%Y"));
            let page = batch
                .add(&Letter {
                    address: &address,
                    reference: &reference,
                    sections: &sections,
                })
                // Templates and senders are checked before, names made printable: an
                // error is a bug, and says which field without the text.
                .map_err(|e| match e {
                    PdfError::Unprintable { field, .. } => RecruitmentError::Corrupt(format!(
                        "letter {}: {field} is not printable",
                        l.letter_id
                    )),
                    PdfError::Write { reason } => {
                        RecruitmentError::Corrupt(format!("letter {}: {reason}", l.letter_id))
                    }
                })?;
            index.push_str(&format!(
                "{page},{},{},{}\n",
                l.letter_id,
                l.person_id,
                l.translation_language.as_deref().unwrap_or("")
            ));
        }
        let bytes = batch.finish().map_err(|e| {
            RecruitmentError::Corrupt(format!(
                "batch {batch_id}: the PDF could not be written: {e}"
            ))
        })?;
        Ok((bytes, index))
    }
}
