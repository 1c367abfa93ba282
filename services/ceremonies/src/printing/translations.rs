//! The ceremony letters in the contact languages newcomers read most, each a translation of
//! the Dutch letter in plain language, printed after it (issue 24: "Dutch first, then the
//! contact language"). None is yet reviewed by a sworn translator: until an agency has
//! them reviewed, each translation says the Dutch letter is the official one. A language
//! not here gets the Dutch letter with a note, in Dutch.
//!
//! The reason of a cancellation is the organiser's, in Dutch: a translation points to it.
//! Dates are written in digits, as each language writes them.

use chrono::NaiveDate;

use super::texts::{Facts, LetterKind, Text};
use crate::domain::{CeremonyKind, Host};

/// The languages with a translation (ISO 639-1).
pub const LANGUAGES: [&str; 8] = ["ar", "en", "fr", "pl", "ro", "ru", "tr", "uk"];

/// One language's words around the facts.
struct Words {
    heading: String,
    body: Vec<String>,
    /// That this is a translation and the Dutch letter is the official one.
    official: &'static str,
    regards: &'static str,
    signature: String,
    /// The lead of the contact block.
    questions: &'static str,
}

/// The letter of `kind` in `language`, with the contact block's lines `contact` (in Dutch,
/// as the Dutch letter has them); `None` when there is no translation into `language`.
pub fn translation(
    language: &str,
    kind: LetterKind,
    f: &Facts<'_>,
    contact: &[String],
) -> Option<Text> {
    let w = match language {
        "ar" => ar(kind, f),
        "en" => en(kind, f),
        "fr" => fr(kind, f),
        "pl" => pl(kind, f),
        "ro" => ro(kind, f),
        "ru" => ru(kind, f),
        "tr" => tr(kind, f),
        "uk" => uk(kind, f),
        _ => return None,
    };
    let mut paragraphs = w.body;
    paragraphs.push(w.official.to_owned());
    paragraphs.push(w.regards.to_owned());
    paragraphs.push(w.signature);
    paragraphs.push(w.questions.to_owned());
    paragraphs.extend(contact.iter().cloned());
    Some(Text {
        heading: w.heading,
        paragraphs,
    })
}

/// Day, month and year in digits with `sep`: "01/06/2027".
fn digits(d: NaiveDate, sep: &str) -> String {
    d.format(&format!("%d{sep}%m{sep}%Y")).to_string()
}

/// Picks the words for an integration ceremony or a youth celebration.
fn by_kind<'w>(k: CeremonyKind, integration: &'w str, youth: &'w str) -> &'w str {
    match k {
        CeremonyKind::Integration => integration,
        CeremonyKind::Youth => youth,
    }
}

/// Picks the words for the mayor or an alderman.
fn by_host<'w>(h: Host, mayor: &'w str, alderman: &'w str) -> &'w str {
    match h {
        Host::Mayor => mayor,
        Host::Alderman => alderman,
    }
}

fn en(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "/"), digits(f.attest_issued_on, "/"));
    let what = by_kind(f.kind, "the integration ceremony", "the youth celebration");
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!("Invitation to {what} on {date}"),
            vec![
                format!("Dear {},", f.name),
                format!("Congratulations on your civic integration certificate of {issued}!"),
                format!(
                    "The municipality of {} invites you to {what} on {date} at {}. There, {} will hand you your certificate.",
                    f.municipality,
                    f.place,
                    by_host(f.host, "the mayor", "an alderman")
                ),
                "Please let us know whether you will come and how many guests you will bring."
                    .to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!("Cancelled: {what} on {date}"),
            vec![
                format!("Dear {},", f.name),
                format!(
                    "The municipality of {} invited you to {what} on {date} at {}. It will not take place.",
                    f.municipality, f.place
                ),
                "The reason is in the Dutch letter.".to_owned(),
                "Your civic integration certificate remains valid.".to_owned(),
                "We are sorry.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "This is a translation of the Dutch letter. The Dutch letter is the official one.",
        regards: "Kind regards,",
        signature: format!("The municipality of {}", f.municipality),
        questions: "Questions? Contact:",
    }
}

fn fr(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "/"), digits(f.attest_issued_on, "/"));
    let what = by_kind(f.kind, "la cérémonie d'intégration", "la fête des jeunes");
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!("Invitation à {what} du {date}"),
            vec![
                format!("Bonjour {},", f.name),
                format!("Félicitations pour votre attestation d'intégration civique du {issued} !"),
                format!(
                    "La commune de {} vous invite à {what} le {date}. Lieu : {}. {} vous y remettra votre attestation.",
                    f.municipality,
                    f.place,
                    by_host(f.host, "Le bourgmestre", "Un échevin")
                ),
                "Merci de nous dire si vous venez et avec combien d'invités.".to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!(
                "{} du {date} est annulée",
                by_kind(f.kind, "La cérémonie d'intégration", "La fête des jeunes")
            ),
            vec![
                format!("Bonjour {},", f.name),
                format!(
                    "La commune de {} vous a invité(e) à {what} du {date}. Lieu : {}. Elle n'aura pas lieu.",
                    f.municipality, f.place
                ),
                "La raison figure dans la lettre en néerlandais.".to_owned(),
                "Votre attestation d'intégration civique reste valable.".to_owned(),
                "Nous en sommes désolés.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "Ceci est une traduction de la lettre en néerlandais. Seule la lettre en néerlandais est officielle.",
        regards: "Cordialement,",
        signature: format!("La commune de {}", f.municipality),
        questions: "Des questions ? Contactez :",
    }
}

fn tr(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "."), digits(f.attest_issued_on, "."));
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!(
                "Davet: {date} tarihli {}",
                by_kind(f.kind, "uyum töreni", "gençlik kutlaması")
            ),
            vec![
                format!("Sayın {},", f.name),
                format!("{issued} tarihli uyum belgeniz (inburgeringsattest) için tebrikler!"),
                format!(
                    "{} Belediyesi sizi {date} tarihinde {} davet ediyor. Yer: {}. Belgenizi orada {} size verecek.",
                    f.municipality,
                    by_kind(f.kind, "uyum törenine", "gençlik kutlamasına"),
                    f.place,
                    by_host(f.host, "belediye başkanı", "bir belediye başkan yardımcısı")
                ),
                "Gelip gelmeyeceğinizi ve yanınızda kaç misafir getireceğinizi lütfen bize bildirin."
                    .to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!(
                "{date} tarihli {} iptal edildi",
                by_kind(f.kind, "uyum töreni", "gençlik kutlaması")
            ),
            vec![
                format!("Sayın {},", f.name),
                format!(
                    "{} Belediyesi sizi {date} tarihinde {} davet etmişti. Yer: {}. Bu etkinlik yapılmayacak.",
                    f.municipality,
                    by_kind(f.kind, "uyum törenine", "gençlik kutlamasına"),
                    f.place
                ),
                "İptalin nedeni Felemenkçe mektupta yazılıdır.".to_owned(),
                "Uyum belgeniz geçerliliğini korur.".to_owned(),
                "Özür dileriz.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "Bu, Felemenkçe mektubun çevirisidir. Resmî mektup Felemenkçe olanıdır.",
        regards: "Saygılarımızla,",
        signature: format!("{} Belediyesi", f.municipality),
        questions: "Sorularınız için:",
    }
}

fn uk(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "."), digits(f.attest_issued_on, "."));
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!(
                "Запрошення на {} {date}",
                by_kind(f.kind, "церемонію інтеграції", "молодіжне свято")
            ),
            vec![
                format!("Доброго дня, {}!", f.name),
                format!(
                    "Вітаємо з отриманням сертифіката про інтеграцію (inburgeringsattest) від {issued}!"
                ),
                format!(
                    "Муніципалітет {} запрошує вас на {} {date}. Місце: {}. Там {} вручить вам ваш сертифікат.",
                    f.municipality,
                    by_kind(f.kind, "церемонію інтеграції", "молодіжне свято"),
                    f.place,
                    by_host(f.host, "мер", "один із заступників мера")
                ),
                "Будь ласка, повідомте нам, чи ви прийдете і скільки гостей візьмете з собою."
                    .to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!(
                "{} {date} скасовано",
                by_kind(f.kind, "Церемонію інтеграції", "Молодіжне свято")
            ),
            vec![
                format!("Доброго дня, {}!", f.name),
                format!(
                    "Муніципалітет {} запросив вас на {} {date}. Місце: {}. Захід не відбудеться.",
                    f.municipality,
                    by_kind(f.kind, "церемонію інтеграції", "молодіжне свято"),
                    f.place
                ),
                "Причину вказано в листі нідерландською мовою.".to_owned(),
                "Ваш сертифікат про інтеграцію залишається дійсним.".to_owned(),
                "Просимо вибачення.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "Це переклад листа нідерландською мовою. Офіційним є лист нідерландською мовою.",
        regards: "З повагою,",
        signature: format!("Муніципалітет {}", f.municipality),
        questions: "Маєте запитання? Зверніться до:",
    }
}

fn ru(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "."), digits(f.attest_issued_on, "."));
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!(
                "Приглашение на {} {date}",
                by_kind(f.kind, "церемонию интеграции", "молодёжный праздник")
            ),
            vec![
                format!("Здравствуйте, {}!", f.name),
                format!(
                    "Поздравляем с получением сертификата об интеграции (inburgeringsattest) от {issued}!"
                ),
                format!(
                    "Муниципалитет {} приглашает вас на {} {date}. Место: {}. Там {} вручит вам ваш сертификат.",
                    f.municipality,
                    by_kind(f.kind, "церемонию интеграции", "молодёжный праздник"),
                    f.place,
                    by_host(f.host, "мэр", "один из заместителей мэра")
                ),
                "Пожалуйста, сообщите нам, придёте ли вы и сколько гостей возьмёте с собой."
                    .to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!(
                "{} {date} отменяется",
                by_kind(f.kind, "Церемония интеграции", "Молодёжный праздник")
            ),
            vec![
                format!("Здравствуйте, {}!", f.name),
                format!(
                    "Муниципалитет {} пригласил вас на {} {date}. Место: {}. Мероприятие не состоится.",
                    f.municipality,
                    by_kind(f.kind, "церемонию интеграции", "молодёжный праздник"),
                    f.place
                ),
                "Причина указана в письме на нидерландском языке.".to_owned(),
                "Ваш сертификат об интеграции остаётся действительным.".to_owned(),
                "Приносим извинения.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "Это перевод письма на нидерландском языке. Официальным является письмо на нидерландском языке.",
        regards: "С уважением,",
        signature: format!("Муниципалитет {}", f.municipality),
        questions: "Есть вопросы? Обращайтесь:",
    }
}

fn pl(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "."), digits(f.attest_issued_on, "."));
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!(
                "Zaproszenie na {} w dniu {date}",
                by_kind(f.kind, "ceremonię integracyjną", "święto młodzieży")
            ),
            vec![
                format!("Dzień dobry, {},", f.name),
                format!(
                    "Gratulujemy zaświadczenia o integracji (inburgeringsattest) z dnia {issued}!"
                ),
                format!(
                    "Gmina {} zaprasza Pana/Panią na {} w dniu {date}. Miejsce: {}. {} wręczy tam Panu/Pani zaświadczenie.",
                    f.municipality,
                    by_kind(f.kind, "ceremonię integracyjną", "święto młodzieży"),
                    f.place,
                    by_host(f.host, "Burmistrz", "Członek zarządu gminy")
                ),
                "Prosimy o informację, czy Pan/Pani przyjdzie i z iloma gośćmi.".to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!(
                "{} z dnia {date}",
                by_kind(
                    f.kind,
                    "Odwołana ceremonia integracyjna",
                    "Odwołane święto młodzieży"
                )
            ),
            vec![
                format!("Dzień dobry, {},", f.name),
                format!(
                    "Gmina {} zaprosiła Pana/Panią na {} w dniu {date}. Miejsce: {}. Wydarzenie się nie odbędzie.",
                    f.municipality,
                    by_kind(f.kind, "ceremonię integracyjną", "święto młodzieży"),
                    f.place
                ),
                "Powód podano w liście w języku niderlandzkim.".to_owned(),
                "Zaświadczenie o integracji pozostaje ważne.".to_owned(),
                "Przepraszamy.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "To jest tłumaczenie listu w języku niderlandzkim. Oficjalny jest list w języku niderlandzkim.",
        regards: "Z poważaniem,",
        signature: format!("Gmina {}", f.municipality),
        questions: "Pytania? Prosimy o kontakt:",
    }
}

fn ro(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "."), digits(f.attest_issued_on, "."));
    let what = by_kind(f.kind, "ceremonia de integrare", "sărbătoarea tinerilor");
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!("Invitație la {what} din {date}"),
            vec![
                format!("Bună ziua, {},", f.name),
                format!(
                    "Felicitări pentru certificatul de integrare civică (inburgeringsattest) din {issued}!"
                ),
                format!(
                    "Primăria {} vă invită la {what} din {date}. Locul: {}. Acolo, {} vă va înmâna certificatul.",
                    f.municipality,
                    f.place,
                    by_host(f.host, "primarul", "un viceprimar")
                ),
                "Vă rugăm să ne spuneți dacă veniți și cu câți invitați.".to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!(
                "{} din {date} a fost anulată",
                by_kind(f.kind, "Ceremonia de integrare", "Sărbătoarea tinerilor")
            ),
            vec![
                format!("Bună ziua, {},", f.name),
                format!(
                    "Primăria {} v-a invitat la {what} din {date}. Locul: {}. Evenimentul nu va mai avea loc.",
                    f.municipality, f.place
                ),
                "Motivul este scris în scrisoarea în limba neerlandeză.".to_owned(),
                "Certificatul de integrare rămâne valabil.".to_owned(),
                "Ne pare rău.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "Aceasta este traducerea scrisorii în limba neerlandeză. Scrisoarea oficială este cea în limba neerlandeză.",
        regards: "Cu stimă,",
        signature: format!("Primăria {}", f.municipality),
        questions: "Întrebări? Contactați:",
    }
}

fn ar(kind: LetterKind, f: &Facts<'_>) -> Words {
    let (date, issued) = (digits(f.date, "/"), digits(f.attest_issued_on, "/"));
    let what = by_kind(f.kind, "حفل الاندماج", "حفل الشباب");
    let (heading, body) = match kind {
        LetterKind::Invitation => (
            format!("دعوة إلى {what} يوم {date}"),
            vec![
                format!("مرحبًا {}،", f.name),
                format!(
                    "تهانينا على شهادة الاندماج المدني (inburgeringsattest) الصادرة بتاريخ {issued}!"
                ),
                format!(
                    "تدعوك بلدية {} إلى {what} يوم {date}. المكان: {}. هناك سيسلّمك {} شهادتك.",
                    f.municipality,
                    f.place,
                    by_host(f.host, "رئيس البلدية", "أحد نواب رئيس البلدية")
                ),
                "يرجى إخبارنا إن كنت ستحضر وكم ضيفًا سيرافقك.".to_owned(),
            ],
        ),
        LetterKind::Cancellation => (
            format!("إلغاء {what} يوم {date}"),
            vec![
                format!("مرحبًا {}،", f.name),
                format!(
                    "دعتك بلدية {} إلى {what} يوم {date}. المكان: {}. لن يُقام هذا الحفل.",
                    f.municipality, f.place
                ),
                "سبب الإلغاء مذكور في الرسالة باللغة الهولندية.".to_owned(),
                "تبقى شهادة الاندماج المدني الخاصة بك سارية.".to_owned(),
                "نعتذر عن ذلك.".to_owned(),
            ],
        ),
    };
    Words {
        heading,
        body,
        official: "هذه ترجمة للرسالة باللغة الهولندية. الرسالة الرسمية هي الرسالة باللغة الهولندية.",
        regards: "مع أطيب التحيات،",
        signature: format!("بلدية {}", f.municipality),
        questions: "هل لديك أسئلة؟ تواصل مع:",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).expect("valid");
        Facts {
            name: "Ayşe Yılmaz",
            municipality: "Antwerpen",
            kind: CeremonyKind::Integration,
            host: Host::Mayor,
            date: d(6, 1),
            place: "Stadhuis, Grote Markt 1",
            attest_issued_on: d(3, 15),
            reason: "De zaal is niet beschikbaar",
        }
    }

    #[test]
    fn every_language_says_both_letters_with_the_name_place_and_date() {
        let contact = ["Atlas".to_owned()];
        for language in LANGUAGES {
            for kind in [LetterKind::Invitation, LetterKind::Cancellation] {
                let t = translation(language, kind, &facts(), &contact)
                    .unwrap_or_else(|| panic!("{language} has a translation"));
                let all = t.paragraphs.join("\n");
                assert!(all.contains("Ayşe Yılmaz"), "{language} {kind:?}");
                assert!(
                    all.contains("Stadhuis, Grote Markt 1"),
                    "{language} {kind:?}"
                );
                assert!(
                    t.heading.contains("2027"),
                    "{language} {kind:?}: {}",
                    t.heading
                );
                assert_eq!(t.paragraphs.last().map(String::as_str), Some("Atlas"));
                assert!(
                    !all.contains("De zaal"),
                    "{language}: the Dutch reason stays in the Dutch letter"
                );
                let printable = std::iter::once(&t.heading).chain(&t.paragraphs);
                for p in printable {
                    assert_eq!(letters::uncovered(p), None, "{language}: {p}");
                }
            }
        }
    }

    #[test]
    fn a_language_without_a_translation_has_none() {
        assert!(translation("ti", LetterKind::Invitation, &facts(), &[]).is_none());
        assert!(translation("nl", LetterKind::Invitation, &facts(), &[]).is_none());
    }

    #[test]
    fn a_youth_celebration_and_an_alderman_are_named_as_such() {
        let youth = Facts {
            kind: CeremonyKind::Youth,
            host: Host::Alderman,
            ..facts()
        };
        let en = translation("en", LetterKind::Invitation, &youth, &[]).expect("en");
        assert!(en.heading.contains("youth celebration"), "{}", en.heading);
        assert!(
            en.paragraphs[2].contains("an alderman"),
            "{}",
            en.paragraphs[2]
        );
        let fr = translation("fr", LetterKind::Cancellation, &youth, &[]).expect("fr");
        assert!(fr.heading.starts_with("La fête des jeunes du 01/06/2027"));
    }
}
