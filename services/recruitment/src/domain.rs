//! The recruitment domain: types that cannot be invalid once parsed. No I/O here.

use std::fmt;

use chrono::NaiveDate;
pub use platform::{Agency, Nis};
use uuid::Uuid;

use crate::{
    RecruitmentError,
    rules::{Group, Region},
};

/// A municipality of the register, as this service keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub nis: Nis,
    pub name_nl: String,
    /// None in Wallonia, where no agency is competent.
    pub agency: Option<Agency>,
}

impl Municipality {
    /// The region follows from the competent agency: Bon serves the 19 Brussels
    /// municipalities, no agency Wallonia, the others Flanders.
    pub fn region(&self) -> Region {
        match self.agency {
            Some(Agency::Bon) => Region::Brussels,
            Some(_) => Region::Flanders,
            None => Region::Wallonia,
        }
    }
}

/// A language code, lower case: ISO 639-1 ("ar", "nl"), or ISO 639-3 for a language that
/// has no two-letter code ("prs", Dari).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Language(String);

impl Language {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, RecruitmentError> {
        let code = input.trim().to_ascii_lowercase();
        if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Self(code))
        } else {
            Err(RecruitmentError::invalid(
                field,
                format!(
                    "{input:?} is not a language code (ISO 639-1, two letters such as \"ar\", \
                     or ISO 639-3 where there is none, such as \"prs\")"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Dutch: the language of every letter.
    pub fn dutch() -> Self {
        Self("nl".into())
    }

    /// The language's name in Dutch, for the letter's note; the code itself for a
    /// language the table does not hold.
    pub fn dutch_name(&self) -> &str {
        match self.0.as_str() {
            "ar" => "het Arabisch",
            "en" => "het Engels",
            "fr" => "het Frans",
            "es" => "het Spaans",
            "pt" => "het Portugees",
            "tr" => "het Turks",
            "ru" => "het Russisch",
            "uk" => "het Oekraïens",
            "fa" => "het Perzisch",
            "prs" => "het Dari",
            "ps" => "het Pasjtoe",
            "so" => "het Somalisch",
            "ti" => "het Tigrinya",
            "ro" => "het Roemeens",
            "pl" => "het Pools",
            "bg" => "het Bulgaars",
            "de" => "het Duits",
            "it" => "het Italiaans",
            "zh" => "het Chinees",
            "hi" => "het Hindi",
            other => other,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 3166-1 alpha-2 nationality, upper case ("MA").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nationality(String);

impl Nationality {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, RecruitmentError> {
        let code = input.trim().to_ascii_uppercase();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(RecruitmentError::invalid(
                field,
                format!("{input:?} is not an ISO 3166-1 alpha-2 country code (e.g. \"MA\")"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The two letters (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LetterKind {
    /// To obliged and entitled newcomers in Flanders, from the competent agency.
    Recruitment,
    /// To adult newcomers in Brussels, from Bon.
    Welcome,
}

impl LetterKind {
    pub const ALL: [LetterKind; 2] = [LetterKind::Recruitment, LetterKind::Welcome];

    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Recruitment => "recruitment",
            LetterKind::Welcome => "welcome",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The letter a target group gets.
    pub fn of(group: Group) -> Self {
        match group {
            Group::Obliged | Group::Entitled => LetterKind::Recruitment,
            Group::BrusselsNewcomer => LetterKind::Welcome,
        }
    }

    /// The groups that get this letter.
    pub fn groups(self) -> &'static [Group] {
        match self {
            LetterKind::Recruitment => &[Group::Obliged, Group::Entitled],
            LetterKind::Welcome => &[Group::BrusselsNewcomer],
        }
    }
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Obliged => "obliged",
            Group::Entitled => "entitled",
            Group::BrusselsNewcomer => "brussels-newcomer",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Group::Obliged, Group::Entitled, Group::BrusselsNewcomer]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

/// The placeholders a template may hold, filled per letter.
pub const PLACEHOLDERS: [&str; 4] = ["name", "agency", "municipality", "registered_on"];
/// The placeholders every template must hold: a letter that does not name its addressee
/// and its sender is not official.
pub const REQUIRED_PLACEHOLDERS: [&str; 2] = ["name", "agency"];

/// A template's text, checked at upload: every `{{…}}` is a known placeholder, the
/// required ones are there, and a font the letters ship prints every character (any
/// script a newcomer reads: Latin, Cyrillic, Greek, Arabic, Ethiopic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    pub subject: String,
    pub paragraphs: Vec<String>,
}

impl TemplateText {
    pub fn parse(subject: &str, paragraphs: &[String]) -> Result<Self, RecruitmentError> {
        let subject = subject.trim();
        if subject.is_empty() {
            return Err(RecruitmentError::invalid("subject", "is required"));
        }
        if subject.chars().count() > 200 {
            return Err(RecruitmentError::invalid(
                "subject",
                "is longer than 200 characters",
            ));
        }
        if paragraphs.is_empty() || paragraphs.iter().all(|p| p.trim().is_empty()) {
            return Err(RecruitmentError::invalid(
                "paragraphs",
                "at least one is required",
            ));
        }
        if paragraphs.len() > 40 || paragraphs.iter().any(|p| p.chars().count() > 4000) {
            return Err(RecruitmentError::invalid(
                "paragraphs",
                "at most 40 paragraphs of at most 4000 characters",
            ));
        }
        // Positions count in the text as it is kept: trimmed.
        let paragraphs: Vec<&str> = paragraphs.iter().map(|p| p.trim()).collect();
        let mut seen = Vec::new();
        let texts = std::iter::once(("subject", String::new(), subject)).chain(
            paragraphs
                .iter()
                .enumerate()
                .map(|(i, p)| ("paragraphs", format!("paragraph {} ", i + 1), *p)),
        );
        for (field, which, text) in texts {
            if let Some((ch, position)) = letters::uncovered(text) {
                return Err(RecruitmentError::invalid(
                    field,
                    format!(
                        "{which}holds {ch:?} (U+{:04X}) at position {position}, which no letter \
                         font can print",
                        u32::from(ch)
                    ),
                ));
            }
            for name in placeholders(field, &which, text)? {
                if !PLACEHOLDERS.contains(&name) {
                    return Err(RecruitmentError::invalid(
                        field,
                        format!(
                            "{which}{{{{{name}}}}} is not a placeholder; known are {}",
                            PLACEHOLDERS.map(|p| format!("{{{{{p}}}}}")).join(", ")
                        ),
                    ));
                }
                seen.push(name);
            }
        }
        if let Some(missing) = REQUIRED_PLACEHOLDERS.iter().find(|p| !seen.contains(p)) {
            return Err(RecruitmentError::invalid(
                "paragraphs",
                format!("the placeholder {{{{{missing}}}}} is missing; every letter needs it"),
            ));
        }
        Ok(Self {
            subject: subject.to_owned(),
            paragraphs: paragraphs.into_iter().map(str::to_owned).collect(),
        })
    }

    /// The text with the placeholders filled from `value`.
    pub fn fill<'a>(text: &str, value: impl Fn(&str) -> &'a str) -> String {
        let mut out = String::with_capacity(text.len() + 32);
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find("}}") {
                Some(end) => {
                    out.push_str(value(after[..end].trim()));
                    rest = &after[end + 2..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The placeholder names in `text`; a `{{` without its `}}` is an error naming where it
/// opens, counted in characters from 1 (`which` names the paragraph; empty for the subject).
fn placeholders<'t>(
    field: &'static str,
    which: &str,
    text: &'t str,
) -> Result<Vec<&'t str>, RecruitmentError> {
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..].find("{{").map(|s| at + s) {
        let after = start + 2;
        let end = text[after..].find("}}").ok_or_else(|| {
            let position = text[..start].chars().count() + 1;
            RecruitmentError::invalid(
                field,
                format!(
                    "{which}opens a placeholder with {{{{ at position {position} and does not \
                     close it with }}}}"
                ),
            )
        })?;
        names.push(text[after..after + end].trim());
        at = after + end + 2;
    }
    Ok(names)
}

/// The state of an action of a local recruitment plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Planned,
    InProgress,
    Done,
    Dropped,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] = [
        ActionStatus::Planned,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Planned => "planned",
            ActionStatus::InProgress => "in-progress",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A display name of an ambassador, checked (it is printed on campaign material).
pub fn display_name(field: &'static str, input: &str) -> Result<String, RecruitmentError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(RecruitmentError::invalid(field, "is required"));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(RecruitmentError::invalid(
            field,
            "must be at most 100 printable characters",
        ));
    }
    Ok(name.to_owned())
}

/// A required free text of at most `max` printable characters, trimmed.
pub fn required_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, RecruitmentError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(RecruitmentError::invalid(field, "is required"));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(RecruitmentError::invalid(
            field,
            format!("must be at most {max} printable characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A campaign as asked for, checked; lists hold the stored names.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub target_groups: Vec<String>,
    pub channels: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The NIS codes in force of the municipalities it runs in.
    pub municipalities: Vec<String>,
}

/// A referral as asked for, checked.
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub person_id: Uuid,
    pub referrer_kind: String,
    /// The referrer's name; for an ambassador, their id.
    pub referrer_name: String,
    /// The ambassador who referred, named by id: a person's name stays in the
    /// ambassadors' table, where withdrawing consent erases it.
    pub ambassador: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub referred_on: NaiveDate,
    pub gpmi_condition: bool,
}

/// An ambassador as asked for, checked.
#[derive(Debug, Clone)]
pub struct NewAmbassador {
    pub display_name: String,
    pub languages: Vec<Language>,
    pub consent_on: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraphs(ps: &[&str]) -> Vec<String> {
        ps.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn a_template_without_the_name_is_refused_at_upload() {
        let err = TemplateText::parse("Welkom", &paragraphs(&["Beste, {{agency}} groet u."]))
            .expect_err("no name");
        assert!(err.to_string().contains("{{name}} is missing"), "{err}");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_refused() {
        let unknown = TemplateText::parse("W", &paragraphs(&["{{name}} {{agency}} {{adres}}"]))
            .expect_err("x");
        assert!(
            unknown
                .to_string()
                .contains("paragraph 1 {{adres}} is not a placeholder"),
            "{unknown}"
        );
        let open = TemplateText::parse("W", &paragraphs(&["{{name}}", "{{agency}} {{agency"]))
            .expect_err("x");
        assert_eq!(
            open.to_string(),
            "paragraphs: paragraph 2 opens a placeholder with {{ at position 12 and does not \
             close it with }}"
        );
    }

    #[test]
    fn an_unclosed_placeholder_in_arabic_text_is_named_by_its_position() {
        // "Dear {{name}}, welcome to {{municipality": the position counts characters as the
        // text is written (logical order), not bytes and not as it is displayed.
        let arabic = "عزيزي {{name}}، مرحبا بك في {{municipality";
        let err = TemplateText::parse("مرحبا", &paragraphs(&["{{agency}}", arabic]))
            .expect_err("unclosed");
        let position = arabic.chars().count() - "{{municipality".len() + 1;
        assert_eq!(position, 29);
        assert!(
            err.to_string().contains(&format!(
                "paragraph 2 opens a placeholder with {{{{ at position {position} "
            )),
            "{err}"
        );
        let subject = TemplateText::parse("{{name", &paragraphs(&["{{name}} {{agency}}"]))
            .expect_err("unclosed subject");
        assert!(
            subject
                .to_string()
                .starts_with("subject: opens a placeholder with {{ at position 1 "),
            "{subject}"
        );
    }

    #[test]
    fn any_script_a_letter_font_prints_is_accepted_at_upload() {
        for (subject, body) in [
            ("Hoş geldiniz", "Sayın {{name}}, {{agency}} Łódź Ștefan"),
            ("Ласкаво просимо", "Шановний {{name}}, {{agency}}"),
            ("مرحبا", "عزيزي {{name}}، {{agency}}"),
            ("خوش آمدید", "{{name}} گرامی، {{agency}} پښتو ځای"),
            ("እንቋዕ ብደሓን መጻእኩም", "ክቡር {{name}}፣ {{agency}}"),
        ] {
            assert!(
                TemplateText::parse(subject, &paragraphs(&[body])).is_ok(),
                "{subject}"
            );
        }
    }

    #[test]
    fn a_character_no_font_prints_is_refused_at_upload_with_its_position() {
        let err = TemplateText::parse("Welkom 王", &paragraphs(&["{{name}} {{agency}}"]))
            .expect_err("Han");
        assert_eq!(
            err.to_string(),
            "subject: holds '王' (U+738B) at position 8, which no letter font can print"
        );
        let err = TemplateText::parse(
            "Welkom",
            &paragraphs(&["{{name}}", "  {{agency}} 🙂 groet u"]),
        )
        .expect_err("emoji");
        assert!(
            err.to_string()
                .starts_with("paragraphs: paragraph 2 holds '🙂' (U+1F642) at position 12,"),
            "positions count in the text as kept, trimmed: {err}"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let text = TemplateText::parse(
            "W",
            &paragraphs(&["Beste {{name}}, {{ agency }} schrijft."]),
        )
        .expect("valid");
        let filled = TemplateText::fill(&text.paragraphs[0], |p| match p {
            "name" => "Amal",
            "agency" => "Bon",
            _ => "?",
        });
        assert_eq!(filled, "Beste Amal, Bon schrijft.");
    }

    #[test]
    fn languages_are_two_or_three_letters_and_nationalities_two() {
        assert_eq!(
            Language::parse("languages", " AR ").ok().map(|l| l.0),
            Some("ar".into())
        );
        assert_eq!(
            Language::parse("languages", "PRS").ok().map(|l| l.0),
            Some("prs".into()),
            "Dari has no ISO 639-1 code"
        );
        assert_eq!(
            Language::parse("languages", "prs")
                .map(|l| l.dutch_name().to_owned())
                .ok(),
            Some("het Dari".into())
        );
        for wrong in ["a", "arab", "a1", "fa-AF", ""] {
            assert!(Language::parse("languages", wrong).is_err(), "{wrong}");
        }
        assert_eq!(
            Nationality::parse("nationality", "ma").ok().map(|n| n.0),
            Some("MA".into())
        );
        assert!(Nationality::parse("nationality", "M4").is_err());
    }
}
