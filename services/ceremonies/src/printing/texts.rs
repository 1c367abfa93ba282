//! What a ceremony's letters say in Dutch, the official language of the invitation: the
//! invitation and the cancellation notice, the note on the letter's languages, and the
//! contact block's lead. The translations are in [`super::translations`].
//!
//! TODO(issue 24): the texts live in code, one [`VERSION`] per release, each printed
//! letter recording the version it was printed with. Recruitment keeps its letters as
//! versioned templates an agency uploads (reviewed by a sworn translator); that machinery
//! belongs to recruitment's database and kinds today. Once it lives in `crates/letters`
//! (templates by kind and language, checked at upload), ceremonies' texts become seeded
//! templates of their own kinds there, and this file the seed.

use chrono::{Datelike, NaiveDate};

use crate::domain::{CeremonyKind, Host};

/// The release of the texts below and in [`super::translations`]: raise it with any change
/// of wording, so a printed letter's `text_version` says which words it carried.
pub const VERSION: i32 = 1;

/// Which letter: the invitation, or the notice that the ceremony is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LetterKind {
    Invitation,
    Cancellation,
}

impl LetterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Invitation => "invitation",
            LetterKind::Cancellation => "cancellation",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [LetterKind::Invitation, LetterKind::Cancellation]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What a letter tells one invitee, as printed (names and the organiser's words already
/// made printable).
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// Given and family name, as written.
    pub name: &'a str,
    /// The municipality's Dutch name.
    pub municipality: &'a str,
    pub kind: CeremonyKind,
    pub host: Host,
    pub date: NaiveDate,
    pub place: &'a str,
    pub attest_issued_on: NaiveDate,
    /// Why the ceremony is cancelled, in the organiser's (Dutch) words; cancellations only.
    pub reason: &'a str,
}

/// A letter's text in one language: its heading and paragraphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub heading: String,
    pub paragraphs: Vec<String>,
}

const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// A date as a Dutch letter writes it: "1 juni 2027".
pub fn dutch_date(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// The Dutch name of a contact language (ISO 639-1), or the code when it has none here.
pub fn language_nl(code: &str) -> String {
    let name = match code {
        "ar" => "Arabisch",
        "en" => "Engels",
        "fr" => "Frans",
        "de" => "Duits",
        "es" => "Spaans",
        "pt" => "Portugees",
        "it" => "Italiaans",
        "tr" => "Turks",
        "ru" => "Russisch",
        "uk" => "Oekraïens",
        "pl" => "Pools",
        "ro" => "Roemeens",
        "bg" => "Bulgaars",
        "fa" => "Perzisch",
        "ps" => "Pasjtoe",
        "ti" => "Tigrinya",
        "so" => "Somalisch",
        "am" => "Amhaars",
        "ku" => "Koerdisch",
        "ur" => "Urdu",
        "hi" => "Hindi",
        "zh" => "Chinees",
        "nl" => "Nederlands",
        _ => return code.to_owned(),
    };
    name.to_owned()
}

fn host(h: Host) -> &'static str {
    match h {
        Host::Mayor => "de burgemeester",
        Host::Alderman => "een schepen",
    }
}

/// The invitation's opening paragraphs, before the note on its languages: the same in the
/// printed letter and in the text the API returns.
pub fn invitation_body(f: &Facts<'_>) -> Vec<String> {
    vec![
        format!("Beste {},", f.name),
        format!(
            "Proficiat met uw inburgeringsattest van {}!",
            dutch_date(f.attest_issued_on)
        ),
        format!(
            "De gemeente {} nodigt u uit op {} op {} in {}. Daar reikt {} u uw attest uit.",
            f.municipality,
            f.kind.dutch(),
            dutch_date(f.date),
            f.place,
            host(f.host)
        ),
        "Laat ons weten of u komt en met hoeveel gasten.".to_owned(),
    ]
}

/// The cancellation notice's opening paragraphs.
fn cancellation_body(f: &Facts<'_>) -> Vec<String> {
    vec![
        format!("Beste {},", f.name),
        format!(
            "De gemeente {} heeft u uitgenodigd op {} op {} in {}. Dat gaat niet door.",
            f.municipality,
            f.kind.dutch(),
            dutch_date(f.date),
            f.place
        ),
        format!("De reden: {}", f.reason),
        "Uw inburgeringsattest blijft geldig.".to_owned(),
        "Het spijt ons.".to_owned(),
    ]
}

/// The greeting and signature.
pub fn closing(municipality: &str) -> [String; 2] {
    [
        "Met vriendelijke groeten,".to_owned(),
        format!("De gemeente {municipality}"),
    ]
}

/// The heading of the Dutch letter.
fn heading(kind: LetterKind, f: &Facts<'_>) -> String {
    let date = dutch_date(f.date);
    match (kind, f.kind) {
        (LetterKind::Invitation, CeremonyKind::Integration) => {
            format!("Uitnodiging voor de inburgeringsceremonie van {date}")
        }
        (LetterKind::Invitation, CeremonyKind::Youth) => {
            format!("Uitnodiging voor het jongerenfeest van {date}")
        }
        (LetterKind::Cancellation, CeremonyKind::Integration) => {
            format!("De inburgeringsceremonie van {date} gaat niet door")
        }
        (LetterKind::Cancellation, CeremonyKind::Youth) => {
            format!("Het jongerenfeest van {date} gaat niet door")
        }
    }
}

/// The Dutch letter's note on its languages, for an invitee whose contact language is
/// `contact` and whose translation is `translation`; none for a Dutch speaker. Without a
/// translation it says so and offers help (DESIGN.md §3: "Dutch alone when no translation
/// exists, and the letter says so").
pub fn language_note(
    contact: Option<&str>,
    translation: Option<&str>,
    helper: &str,
) -> Option<String> {
    let help = format!(
        "Hebt u vragen over deze brief? Neem contact op met {helper}. Wij helpen u graag, \
         ook met een tolk, en dat is gratis."
    );
    match (contact, translation) {
        (Some("nl"), _) => None,
        (_, Some(language)) => Some(format!(
            "Na deze Nederlandse brief volgt dezelfde brief in het {}.",
            language_nl(language)
        )),
        (Some(code), None) => Some(format!(
            "Deze brief is er alleen in het Nederlands: er bestaat nog geen vertaling in het {}. {help}",
            language_nl(code)
        )),
        (None, None) => Some(format!(
            "Wij kennen uw contacttaal niet: deze brief is alleen in het Nederlands. {help}"
        )),
    }
}

/// The lead of the contact block in the Dutch letter.
pub const QUESTIONS: &str = "Vragen? Neem contact op met:";

/// The Dutch letter of `kind`: heading, body, the note on its languages, the closing and
/// the contact block (`contact`: its lines, in Dutch).
pub fn dutch(kind: LetterKind, f: &Facts<'_>, note: Option<String>, contact: &[String]) -> Text {
    let mut paragraphs = match kind {
        LetterKind::Invitation => invitation_body(f),
        LetterKind::Cancellation => cancellation_body(f),
    };
    paragraphs.extend(note);
    paragraphs.extend(closing(f.municipality));
    paragraphs.push(QUESTIONS.to_owned());
    paragraphs.extend(contact.iter().cloned());
    Text {
        heading: heading(kind, f),
        paragraphs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_dutch() {
        let d = NaiveDate::from_ymd_opt(2027, 6, 1).expect("valid");
        assert_eq!(dutch_date(d), "1 juni 2027");
    }

    #[test]
    fn unknown_languages_keep_their_code() {
        assert_eq!(language_nl("ar"), "Arabisch");
        assert_eq!(language_nl("wo"), "wo");
    }

    #[test]
    fn the_note_names_the_translation_or_says_there_is_none() {
        let note = |c, t| language_note(c, t, "Atlas");
        assert_eq!(note(Some("nl"), None), None);
        assert_eq!(
            note(Some("tr"), Some("tr")).as_deref(),
            Some("Na deze Nederlandse brief volgt dezelfde brief in het Turks.")
        );
        let ti = note(Some("ti"), None).expect("a note");
        assert!(ti.contains("nog geen vertaling in het Tigrinya"), "{ti}");
        assert!(ti.contains("Neem contact op met Atlas"), "{ti}");
        let unknown = note(None, None).expect("a note");
        assert!(
            unknown.starts_with("Wij kennen uw contacttaal niet"),
            "{unknown}"
        );
    }

    #[test]
    fn kinds_are_stored_by_name() {
        for k in [LetterKind::Invitation, LetterKind::Cancellation] {
            assert_eq!(LetterKind::from_stored(k.as_str()), Some(k));
        }
        assert_eq!(LetterKind::from_stored("reminder"), None);
    }
}
