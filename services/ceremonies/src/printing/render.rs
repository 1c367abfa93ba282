//! How a batch of ceremony letters is printed: the Dutch letter, then the translation into
//! the invitee's contact language when there is one, with the sender's contact block, all
//! through the one letter printer (`letters`). Pure: text in, PDF bytes and index out.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    texts::{self, Facts, LetterKind},
    translations,
};
use crate::{
    CeremoniesError,
    domain::{CeremonyKind, Host},
};

/// What every letter of a batch shares: its ceremony, as the letters tell it.
#[derive(Debug, Clone)]
pub struct Occasion {
    pub kind: LetterKind,
    /// The municipality's Dutch name.
    pub municipality: String,
    pub ceremony: CeremonyKind,
    pub host: Host,
    pub date: NaiveDate,
    pub place: String,
    /// Why it is cancelled (cancellations only).
    pub reason: String,
    /// Who answers questions: the organisation named in the note of a Dutch-only letter.
    pub helper: String,
    /// The contact block's lines, in Dutch.
    pub contact: Vec<String>,
}

/// One letter of a batch, as reserved.
#[derive(Debug, Clone)]
pub struct Addressee {
    pub letter_id: Uuid,
    pub invitation_id: Uuid,
    pub person_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub contact_language: Option<String>,
    pub attest_issued_on: NaiveDate,
    /// The translation chosen when the letter was reserved.
    pub translation_language: Option<String>,
}

/// The translation an invitee whose contact language is `contact` gets: none for Dutch,
/// none when there is no translation into it.
pub fn translation_for(contact: Option<&str>) -> Option<&'static str> {
    let contact = contact?;
    translations::LANGUAGES
        .iter()
        .find(|l| **l == contact)
        .copied()
}

/// The index of a batch: the first page of each letter, and whom it is for.
pub const INDEX_HEADER: &str = "page,letter_id,invitation_id,person_id,translation_language\n";

/// Prints `letters` of `occasion` to one PDF titled `title`, each letter's reference dated
/// `on`; returns the bytes and the index (CSV). Names and the organiser's words are printed
/// as written, a character no font has as `?`: a letter is never stopped by a name.
pub fn print(
    title: &str,
    occasion: &Occasion,
    letters: &[Addressee],
    on: NaiveDate,
) -> Result<(Vec<u8>, String), CeremoniesError> {
    let place = letters::printable(&occasion.place);
    let reason = letters::printable(&occasion.reason);
    let municipality = letters::printable(&occasion.municipality);
    let mut batch = letters::Batch::new(title);
    let mut index = String::from(INDEX_HEADER);
    for l in letters {
        let name = letters::printable(&format!("{} {}", l.given_name, l.family_name)).into_owned();
        let facts = Facts {
            name: &name,
            municipality: &municipality,
            kind: occasion.ceremony,
            host: occasion.host,
            date: occasion.date,
            place: &place,
            attest_issued_on: l.attest_issued_on,
            reason: &reason,
        };
        let translated = l.translation_language.as_deref().and_then(|language| {
            translations::translation(language, occasion.kind, &facts, &occasion.contact)
                .map(|t| (language, t))
        });
        let note = texts::language_note(
            l.contact_language.as_deref(),
            translated.as_ref().map(|(language, _)| *language),
            &occasion.helper,
        );
        let dutch = texts::dutch(occasion.kind, &facts, note, &occasion.contact);
        let mut sections = vec![letters::Section {
            heading: &dutch.heading,
            paragraphs: &dutch.paragraphs,
        }];
        if let Some((_, t)) = &translated {
            sections.push(letters::Section {
                heading: &t.heading,
                paragraphs: &t.paragraphs,
            });
        }
        let address = [name.clone()];
        let reference = format!("Ref. {} - {}", l.letter_id, on.format("%d-%m-%Y"));
        let page = batch
            .add(&letters::Letter {
                address: &address,
                reference: &reference,
                sections: &sections,
            })
            // Names and the organiser's words are printable by now and the texts are ours:
            // an error is a bug. It names the field, never the text.
            .map_err(|e| {
                CeremoniesError::Corrupt(format!("letter {}: {}", l.letter_id, field_of(&e)))
            })?;
        index.push_str(&format!(
            "{page},{},{},{},{}\n",
            l.letter_id,
            l.invitation_id,
            l.person_id,
            translated.map_or("", |(language, _)| language)
        ));
    }
    let bytes = batch
        .finish()
        .map_err(|e| CeremoniesError::Corrupt(format!("{title}: {e}")))?;
    Ok((bytes, index))
}

/// What a printing error says without the text it could not print.
fn field_of(e: &letters::PdfError) -> String {
    match e {
        letters::PdfError::Unprintable {
            field, position, ..
        } => {
            format!("{field} is not printable at position {position}")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_language_with_a_translation_gets_one() {
        assert_eq!(translation_for(Some("tr")), Some("tr"));
        assert_eq!(translation_for(Some("ar")), Some("ar"));
        assert_eq!(translation_for(Some("nl")), None);
        assert_eq!(translation_for(Some("ti")), None);
        assert_eq!(translation_for(None), None);
    }
}
