//! The invitation letter as the API returns it (`Invitation.letter`): the Dutch text of the
//! printed invitation ([`printing::texts`](crate::printing::texts)), naming the invitee's
//! contact language so the municipality can add a translation or an interpreter; Dutch
//! only, and saying so, when no contact language is known. The printed letter adds the
//! translation and the contact block ([`printing`](crate::printing)).

use crate::{
    domain::{Ceremony, Invitation},
    printing::texts::{self, Facts},
};

pub use crate::printing::texts::{dutch_date, language_nl};

/// The letter inviting `who` to `ceremony` of the municipality `municipality_nl`.
pub fn invitation(ceremony: &Ceremony, municipality_nl: &str, who: &Invitation) -> String {
    let d = &ceremony.details;
    let name = format!("{} {}", who.given_name, who.family_name);
    let facts = Facts {
        name: &name,
        municipality: municipality_nl,
        kind: d.kind,
        host: d.host,
        date: d.date,
        place: &d.place,
        attest_issued_on: who.attest_issued_on,
        reason: "",
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
        "{}\n\n{language}\n\n{}",
        texts::invitation_body(&facts).join("\n\n"),
        texts::closing(municipality_nl).join("\n")
    )
}
