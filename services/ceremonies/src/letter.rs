//! The invitation letter: in Dutch (the official language of the invitation), naming the
//! invitee's contact language so the municipality can add a translation or an
//! interpreter; Dutch only, and saying so, when no contact language is known.

use chrono::{Datelike, NaiveDate};

use crate::domain::{Ceremony, Host, Invitation};

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

/// The letter inviting `who` to `ceremony` of the municipality `municipality_nl`.
pub fn invitation(ceremony: &Ceremony, municipality_nl: &str, who: &Invitation) -> String {
    let d = &ceremony.details;
    let host = match d.host {
        Host::Mayor => "de burgemeester",
        Host::Alderman => "een schepen",
    };
    let language = match who.contact_language.as_deref() {
        Some("nl") => "Uw contacttaal is het Nederlands.".to_owned(),
        Some(code) => format!(
            "Uw contacttaal is het {}. Wilt u deze brief in die taal, of een tolk op de dag zelf? Laat het ons weten.",
            language_nl(code)
        ),
        None => {
            "Wij kennen uw contacttaal niet: deze brief is alleen in het Nederlands.".to_owned()
        }
    };
    format!(
        "Beste {given} {family},\n\n\
         Proficiat met uw inburgeringsattest van {issued}!\n\n\
         De gemeente {municipality} nodigt u uit op {kind} op {date} in {place}. \
         Daar reikt {host} u uw attest uit.\n\n\
         Laat ons weten of u komt en met hoeveel gasten.\n\n\
         {language}\n\n\
         Met vriendelijke groeten,\n\
         De gemeente {municipality}",
        given = who.given_name,
        family = who.family_name,
        issued = dutch_date(who.attest_issued_on),
        municipality = municipality_nl,
        kind = d.kind.dutch(),
        date = dutch_date(d.date),
        place = d.place,
    )
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
}
