//! The fonts a letter is set in: three Noto families, Regular and Bold, compiled into the
//! binary, and which of them prints a given character.
//!
//! Nothing here reads the file system: the binary needs no font installed.

use std::sync::LazyLock;

use rustybuzz::Face;

/// A family of the letter fonts; each covers its own scripts, and all share the space,
/// digits and some punctuation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    /// Noto Sans: Latin (Turkish, Romanian, Polish, Somali …), Cyrillic and Greek.
    Sans,
    /// Noto Naskh Arabic: Arabic, Farsi, Dari, Pashto and their digits.
    Arabic,
    /// Noto Sans Ethiopic: Tigrinya and Amharic.
    Ethiopic,
}

/// Regular for running text, Bold for headings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// Families in the order a character no script claims falls back to them.
pub(crate) const FAMILIES: [Family; 3] = [Family::Sans, Family::Arabic, Family::Ethiopic];

/// The font files, `[family][weight]`, as Debian's fonts-noto-core ships them (fonts/OFL.txt).
static FILES: [[&[u8]; 2]; 3] = [
    [
        include_bytes!("../fonts/NotoSans-Regular.ttf"),
        include_bytes!("../fonts/NotoSans-Bold.ttf"),
    ],
    [
        include_bytes!("../fonts/NotoNaskhArabic-Regular.ttf"),
        include_bytes!("../fonts/NotoNaskhArabic-Bold.ttf"),
    ],
    [
        include_bytes!("../fonts/NotoSansEthiopic-Regular.ttf"),
        include_bytes!("../fonts/NotoSansEthiopic-Bold.ttf"),
    ],
];

/// One font: its parsed tables for shaping and its PDF handle.
pub(crate) struct Font {
    /// Parsed for shaping and coverage.
    pub(crate) face: Face<'static>,
    /// The same bytes as krilla embeds (and subsets) them.
    pub(crate) pdf: krilla::text::Font,
    /// Font units per em, for scaling positions to ems.
    pub(crate) units_per_em: f32,
    /// Height above the baseline a line of this font needs, in ems (hhea ascender).
    pub(crate) ascent: f32,
    /// Depth below the baseline a line of this font needs, in ems (hhea descender, positive).
    pub(crate) descent: f32,
}

impl Font {
    fn load(data: &'static [u8]) -> Font {
        let face = Face::from_slice(data, 0).expect("the vendored fonts are valid OpenType");
        let pdf = krilla::text::Font::new(data.into(), 0).expect("krilla reads the vendored fonts");
        // Units per em are at most 16384 (OpenType head table), exact in an f32.
        let units_per_em = face.units_per_em() as f32;
        Font {
            ascent: f32::from(face.ascender()) / units_per_em,
            descent: -f32::from(face.descender()) / units_per_em,
            face,
            pdf,
            units_per_em,
        }
    }
}

/// Every font, parsed once per process.
static FONTS: LazyLock<Vec<[Font; 2]>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|[regular, bold]| [Font::load(regular), Font::load(bold)])
        .collect()
});

impl Family {
    fn index(self) -> usize {
        match self {
            Family::Sans => 0,
            Family::Arabic => 1,
            Family::Ethiopic => 2,
        }
    }

    /// The font of this family in `weight`.
    pub(crate) fn font(self, weight: Weight) -> &'static Font {
        let fonts = &FONTS[self.index()];
        match weight {
            Weight::Regular => &fonts[0],
            Weight::Bold => &fonts[1],
        }
    }

    /// How much larger than the style's size this family is set. Noto Naskh Arabic's
    /// letters are small beside Noto Sans at one size; Arabic-script printing sets them about
    /// a tenth larger so both read alike.
    pub(crate) fn scale(self) -> f32 {
        match self {
            Family::Arabic => 1.1,
            Family::Sans | Family::Ethiopic => 1.0,
        }
    }

    /// Whether this family has a glyph for `c` (Regular and Bold cover the same characters).
    pub(crate) fn covers(self, c: char) -> bool {
        let bit = 1 << self.index();
        match usize::try_from(u32::from(c)) {
            Ok(code) if code <= 0xFFFF => BMP[code] & bit != 0,
            _ => cmap_bits(c) & bit != 0,
        }
    }
}

/// The families covering each character of the Basic Multilingual Plane, one bit per family
/// in [`FAMILIES`] order: looking up the fonts' cmaps for every character of every letter
/// was a third of the printing time. (None of the fonts has a character beyond it.)
static BMP: LazyLock<Vec<u8>> = LazyLock::new(|| {
    (0..=0xFFFF_u32)
        .map(|code| char::from_u32(code).map_or(0, cmap_bits))
        .collect()
});

/// The families covering `c`, as bits, from the fonts' cmaps.
fn cmap_bits(c: char) -> u8 {
    FAMILIES
        .iter()
        .enumerate()
        .filter(|(_, family)| family.font(Weight::Regular).face.glyph_index(c).is_some())
        .fold(0, |bits, (i, _)| bits | 1 << i)
}

/// Which families print `c`: none, one (a character of that family's script), or several
/// (spaces, digits, punctuation shared by scripts).
pub(crate) fn families_of(c: char) -> Coverage {
    let bits = match usize::try_from(u32::from(c)) {
        Ok(code) if code <= 0xFFFF => BMP[code],
        _ => cmap_bits(c),
    };
    let mut first = None;
    for (i, family) in FAMILIES.iter().enumerate() {
        if bits & 1 << i != 0 {
            first.get_or_insert(*family);
        }
    }
    match first {
        None => Coverage::None,
        Some(family) if bits.count_ones() == 1 => Coverage::Only(family),
        Some(family) => Coverage::Shared(family),
    }
}

/// How the letter fonts cover one character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coverage {
    /// No font prints it.
    None,
    /// Only this family prints it.
    Only(Family),
    /// Several families print it; this is the first of them in [`FAMILIES`] order.
    Shared(Family),
}

/// The first character of `text` no letter font prints, and its position counted in
/// characters from 1, as a person reading the text counts.
pub fn uncovered(text: &str) -> Option<(char, usize)> {
    text.chars()
        .enumerate()
        .find(|&(_, c)| families_of(c) == Coverage::None)
        .map(|(i, c)| (c, i + 1))
}

/// `text` with every character no letter font prints replaced by `?`: for people's names,
/// which are printed as written and never refused.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if uncovered(text).is_none() {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if families_of(c) == Coverage::None {
                '?'
            } else {
                c
            }
        })
        .collect::<String>()
        .into()
}

/// The family each character of `text` is set in, one entry per byte (continuation bytes
/// repeat their character's family). A character of one script takes the family of that
/// script; a shared character (space, digit, comma) stays in the family of the text before
/// it where that family has it, else takes the next script's family, so "شارع 14" keeps its
/// digits in the Arabic font and "Kerkstraat 14" in the Latin one. Characters no font
/// covers get the first family (callers check coverage first).
pub(crate) fn assign(text: &str) -> Vec<Family> {
    let mut families = vec![Family::Sans; text.len()];
    // The next script-specific family after each character, found right to left.
    let mut next: Vec<Option<Family>> = vec![None; text.len()];
    let mut ahead = None;
    for (i, c) in text.char_indices().rev() {
        next[i] = ahead;
        if let Coverage::Only(family) = families_of(c) {
            ahead = Some(family);
        }
    }
    let mut previous: Option<Family> = None;
    for (i, c) in text.char_indices() {
        let family = match families_of(c) {
            Coverage::Only(family) => family,
            Coverage::Shared(first) => previous
                .filter(|f| f.covers(c))
                .or(next[i].filter(|f| f.covers(c)))
                .unwrap_or(first),
            Coverage::None => previous.unwrap_or(Family::Sans),
        };
        families[i..i + c.len_utf8()].fill(family);
        previous = Some(family);
    }
    families
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_of_the_contact_languages_is_covered() {
        let samples = [
            "Ayşe Yılmaz Ğğİı",
            "Ștefan Țîrcă șț",
            "Łukasz Wójcik źżćńęą",
            "Київ Ґґ Єє Її",
            "Москва ёЁ ъ",
            "България Щщ",
            "Ελλάδα",
            "مرحبا بكم، ١٢٣",
            "می‌خواهیم گ چ پ ژ ک ی ۰۱۲۳",
            "ټ ډ ړ ږ ښ ګ ڼ ۍ ې",
            "ሰላም ትግርኛ ፡ ። ፣",
            "Soomaali: dh kh",
            "€ – — “ ” „ « » … • № ©",
        ];
        for sample in samples {
            assert_eq!(uncovered(sample), None, "{sample}");
        }
    }

    #[test]
    fn uncovered_names_the_first_character_no_font_has_and_counts_from_one() {
        assert_eq!(uncovered("Beste 王 en 😀"), Some(('王', 7)));
        assert_eq!(uncovered("😀"), Some(('😀', 1)));
        assert_eq!(uncovered("tab\there"), Some(('\t', 4)));
        assert_eq!(uncovered(""), None);
    }

    #[test]
    fn printable_replaces_only_what_no_font_has() {
        assert_eq!(printable("Ayşe Yılmaz"), "Ayşe Yılmaz");
        assert_eq!(printable("李 Wei"), "? Wei");
    }

    #[test]
    fn shared_characters_follow_the_script_around_them() {
        let text = "شارع 14, (Kerkstraat 14)";
        let families = assign(text);
        let at = |needle: &str| families[text.find(needle).expect("in text")];
        assert_eq!(at("14,"), Family::Arabic);
        assert_eq!(at("Kerk"), Family::Sans);
        assert_eq!(families[text.len() - 1], Family::Sans);
        // A leading space takes the script that follows it; digits, which Noto Sans
        // Ethiopic lacks, stay in Noto Sans.
        assert_eq!(assign(" ሰላም")[0], Family::Ethiopic);
        assert_eq!(assign("12 ሰላም")[0], Family::Sans);
        assert_eq!(at(","), Family::Arabic);
        // The parenthesis is not in Noto Naskh Arabic, so it falls back to Noto Sans.
        assert_eq!(at("("), Family::Sans);
    }
}
