//! Turning one paragraph into positioned glyphs: bidirectional levels (UAX #9), runs of one
//! font and one direction, and OpenType shaping of each run with rustybuzz (Arabic joining
//! forms and marks, Ethiopic syllables, Latin kerning and accents).
//!
//! Widths are kept in ems, so one shaped paragraph serves any font size.

use std::ops::Range;

use rustybuzz::{Direction, Script, ShapePlan, UnicodeBuffer};
use unicode_bidi::{BidiClass, BidiInfo, Level};

use crate::fonts::{self, Family, Weight};

/// One glyph as it is drawn, with the bytes of the paragraph it stands for.
#[derive(Clone, Debug)]
pub(crate) struct Glyph {
    /// Glyph id in its font; 0 is `.notdef`, which [`Paragraph::notdef`] finds.
    pub(crate) id: u16,
    /// Horizontal advance, in ems of its font's size (the style's size times the family's
    /// scale).
    pub(crate) advance: f32,
    /// Horizontal offset from the pen position, in ems.
    pub(crate) x_offset: f32,
    /// Vertical offset from the baseline, in ems (up is positive).
    pub(crate) y_offset: f32,
    /// The bytes of the paragraph's text this glyph's cluster covers.
    pub(crate) text: Range<usize>,
}

impl krilla::text::Glyph for Glyph {
    fn glyph_id(&self) -> krilla::text::GlyphId {
        krilla::text::GlyphId::new(u32::from(self.id))
    }

    fn text_range(&self) -> Range<usize> {
        self.text.clone()
    }

    fn x_advance(&self, size: f32) -> f32 {
        self.advance * size
    }

    fn x_offset(&self, size: f32) -> f32 {
        self.x_offset * size
    }

    // krilla's y axis points down, OpenType's up.
    fn y_offset(&self, size: f32) -> f32 {
        -self.y_offset * size
    }

    fn y_advance(&self, _size: f32) -> f32 {
        0.0
    }

    fn location(&self) -> Option<krilla::surface::Location> {
        None
    }
}

/// A stretch of a paragraph in one font and one direction, shaped.
#[derive(Debug)]
pub(crate) struct Run {
    /// The bytes of the paragraph's text it covers.
    pub(crate) text: Range<usize>,
    pub(crate) family: Family,
    /// Its glyphs in visual (left to right) order, as the shaper returns them.
    pub(crate) glyphs: Vec<Glyph>,
}

/// One paragraph, shaped: its runs, levels and the advance each cluster adds.
pub(crate) struct Paragraph<'t> {
    pub(crate) text: &'t str,
    /// UAX #9 resolution of the whole paragraph, for reordering each line.
    pub(crate) bidi: BidiInfo<'t>,
    pub(crate) runs: Vec<Run>,
    /// The advance, in ems of the paragraph's size, of the cluster starting at each byte
    /// (0 elsewhere), with each family's [`Family::scale`].
    advance: Vec<f32>,
    /// Whether a cluster starts at each byte: where a word too long for a line may break.
    cluster_start: Vec<bool>,
}

impl Paragraph<'_> {
    /// Whether the paragraph runs right to left (and its lines are set flush right).
    pub(crate) fn rtl(&self) -> bool {
        self.bidi
            .paragraphs
            .first()
            .is_some_and(|p| p.level.is_rtl())
    }

    /// The width, in ems of the paragraph's size, of the bytes `range` of the text.
    pub(crate) fn width(&self, range: Range<usize>) -> f32 {
        self.advance[range].iter().sum()
    }

    /// Whether a cluster starts at byte `at`.
    pub(crate) fn is_cluster_start(&self, at: usize) -> bool {
        self.cluster_start.get(at).copied().unwrap_or(true)
    }

    /// The first character a font drew as `.notdef`, with its position counted in
    /// characters from 1; `None` when every glyph is a real one.
    pub(crate) fn notdef(&self) -> Option<(char, usize)> {
        let at = self
            .runs
            .iter()
            .flat_map(|run| &run.glyphs)
            .filter(|glyph| glyph.id == 0)
            .map(|glyph| glyph.text.start)
            .min()?;
        let ch = self.text[at..].chars().next()?;
        Some((ch, self.text[..at].chars().count() + 1))
    }
}

/// The direction a block of text reads in: right to left when more of its letters belong
/// to right-to-left scripts than to left-to-right ones. A translation into Arabic keeps
/// its direction when a paragraph opens with a Latin name or address.
pub(crate) fn reads_rtl<'a>(texts: impl IntoIterator<Item = &'a str>) -> bool {
    let (mut ltr, mut rtl) = (0usize, 0usize);
    for c in texts.into_iter().flat_map(str::chars) {
        match unicode_bidi::bidi_class(c) {
            BidiClass::L => ltr += 1,
            BidiClass::R | BidiClass::AL => rtl += 1,
            _ => {}
        }
    }
    rtl > ltr
}

/// Whether `c` is a digit of a number: European or Arabic-Indic (both forms).
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
        || ('\u{0660}'..='\u{0669}').contains(&c)
        || ('\u{06F0}'..='\u{06F9}').contains(&c)
}

/// Gives a number written in groups of digits separated by single spaces ("09 123 45 67",
/// a phone number) the level of its first digit, so it reads left to right as written. By
/// UAX #9 alone the spaces between the groups take the right-to-left paragraph's direction
/// and the groups come out in reverse order ("67 45 123 09"), which would send a reader to
/// the wrong number.
fn keep_digit_groups_together(text: &str, levels: &mut [Level]) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i].1) {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut end = i;
        while end + 1 < chars.len() && is_digit(chars[end + 1].1) {
            end += 1;
        }
        let mut groups = 1;
        while end + 2 < chars.len() && chars[end + 1].1 == ' ' && is_digit(chars[end + 2].1) {
            end += 2;
            while end + 1 < chars.len() && is_digit(chars[end + 1].1) {
                end += 1;
            }
            groups += 1;
        }
        let stop = chars[end].0 + chars[end].1.len_utf8();
        if groups > 1 {
            let level = levels[start];
            levels[start..stop].fill(level);
        }
        i = end + 1;
    }
}

/// Shapes paragraphs, keeping the shaping plans it has compiled (a plan costs far more
/// than shaping one paragraph).
#[derive(Default)]
pub(crate) struct Shaper {
    plans: Vec<((Family, Weight, Direction, Script), ShapePlan)>,
    /// A buffer kept between runs so shaping does not allocate one each time.
    buffer: Option<UnicodeBuffer>,
}

impl Shaper {
    /// Shapes `text` in `weight`, reading right to left when `rtl`.
    pub(crate) fn paragraph<'t>(
        &mut self,
        text: &'t str,
        weight: Weight,
        rtl: bool,
    ) -> Paragraph<'t> {
        let base = if rtl { Level::rtl() } else { Level::ltr() };
        let mut bidi = BidiInfo::new(text, Some(base));
        if rtl {
            keep_digit_groups_together(text, &mut bidi.levels);
        }
        let families = fonts::assign(text);
        let mut paragraph = Paragraph {
            text,
            runs: Vec::new(),
            advance: vec![0.0; text.len()],
            cluster_start: vec![false; text.len()],
            bidi,
        };
        let mut start = 0;
        for (i, _) in text.char_indices().skip(1).chain([(text.len(), ' ')]) {
            let ends = i == text.len()
                || families[i] != families[start]
                || paragraph.bidi.levels[i] != paragraph.bidi.levels[start];
            if ends {
                let run = self.run(
                    text,
                    start..i,
                    families[start],
                    weight,
                    paragraph.bidi.levels[start].is_rtl(),
                );
                let scale = run.family.scale();
                for glyph in &run.glyphs {
                    paragraph.advance[glyph.text.start] += glyph.advance * scale;
                    paragraph.cluster_start[glyph.text.start] = true;
                }
                paragraph.runs.push(run);
                start = i;
            }
        }
        paragraph
    }

    /// Shapes the bytes `range` of `text`, all in one font and one direction.
    fn run(
        &mut self,
        text: &str,
        range: Range<usize>,
        family: Family,
        weight: Weight,
        rtl: bool,
    ) -> Run {
        let font = family.font(weight);
        let mut buffer = self.buffer.take().unwrap_or_default();
        buffer.push_str(&text[range.clone()]);
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        buffer.guess_segment_properties();
        let key = (family, weight, buffer.direction(), buffer.script());
        let plan = match self.plans.iter().position(|(k, _)| *k == key) {
            Some(i) => &self.plans[i].1,
            None => {
                let plan = ShapePlan::new(&font.face, key.2, Some(key.3), None, &[]);
                self.plans.push((key, plan));
                &self.plans[self.plans.len() - 1].1
            }
        };
        let shaped = rustybuzz::shape_with_plan(&font.face, plan, buffer);

        // A cluster runs to the next larger cluster start, or to the end of the run.
        let mut starts: Vec<usize> = shaped
            .glyph_infos()
            .iter()
            .map(|g| g.cluster as usize)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let end_of = |cluster: usize| {
            let i = starts.partition_point(|&s| s <= cluster);
            starts.get(i).copied().unwrap_or(range.len())
        };
        let em = font.units_per_em;
        let glyphs = shaped
            .glyph_infos()
            .iter()
            .zip(shaped.glyph_positions())
            .map(|(info, pos)| {
                let cluster = info.cluster as usize;
                Glyph {
                    // Glyph ids of OpenType fonts are 16-bit.
                    id: u16::try_from(info.glyph_id).unwrap_or(0),
                    advance: pos.x_advance as f32 / em,
                    x_offset: pos.x_offset as f32 / em,
                    y_offset: pos.y_offset as f32 / em,
                    text: range.start + cluster..range.start + end_of(cluster),
                }
            })
            .collect();
        self.buffer = Some(shaped.clear());
        Run {
            text: range,
            family,
            glyphs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_letters_join_and_differ_from_their_isolated_forms() {
        let mut shaper = Shaper::default();
        // بيت: three letters that join; isolated, each has its own glyph.
        let joined = shaper.paragraph("بيت", Weight::Regular, true);
        let apart = shaper.paragraph("ب ي ت", Weight::Regular, true);
        let ids = |p: &Paragraph<'_>| -> Vec<u16> {
            p.runs
                .iter()
                .flat_map(|r| &r.glyphs)
                .map(|g| g.id)
                .filter(|&id| id != 3)
                .collect()
        };
        assert_eq!(joined.runs.len(), 1);
        assert!(joined.rtl());
        let (joined, apart) = (ids(&joined), ids(&apart));
        assert_eq!(joined.len(), 3);
        for id in &joined {
            assert!(!apart.contains(id), "{joined:?} vs {apart:?}");
        }
    }

    #[test]
    fn a_paragraph_splits_into_runs_of_one_font_and_one_direction() {
        let mut shaper = Shaper::default();
        let text = "السيد Ahmed يسكن في Kerkstraat 14";
        let p = shaper.paragraph(text, Weight::Regular, true);
        let shown: Vec<(&str, Family, bool)> = p
            .runs
            .iter()
            .map(|r| {
                (
                    &text[r.text.clone()],
                    r.family,
                    p.bidi.levels[r.text.start].is_rtl(),
                )
            })
            .collect();
        assert!(shown.contains(&("Ahmed", Family::Sans, false)), "{shown:?}");
        assert!(
            shown.contains(&("Kerkstraat 14", Family::Sans, false)),
            "{shown:?}"
        );
        assert_eq!(shown[0], ("السيد ", Family::Arabic, true));
        assert_eq!(p.notdef(), None);
        assert!(p.width(0..text.len()) > 5.0);
    }

    #[test]
    fn vowel_marks_are_shaped_onto_their_letters() {
        let mut shaper = Shaper::default();
        // مُؤَخَّرًا: damma, fatha, shadda and tanwin over their letters.
        let p = shaper.paragraph("مُؤَخَّرًا", Weight::Regular, true);
        assert_eq!(p.notdef(), None);
        let glyphs: Vec<&Glyph> = p.runs.iter().flat_map(|r| &r.glyphs).collect();
        let marks: Vec<&&Glyph> = glyphs.iter().filter(|g| g.advance == 0.0).collect();
        // Shadda and fatha share one glyph in Noto Naskh Arabic.
        assert_eq!(marks.len(), 4, "{glyphs:?}");
        // Placed above (or below) their letter, not on the baseline beside it.
        assert!(
            marks.iter().all(|m| m.y_offset != 0.0 || m.x_offset != 0.0),
            "{marks:?}"
        );
    }

    #[test]
    fn every_script_shapes_without_notdef_in_both_weights() {
        let mut shaper = Shaper::default();
        let texts = [
            "Ayşe Yılmaz, Ștefan Țîrcă, Łukasz Wójcik, Éléonore — 25 € „ok“",
            "Олена Коваленко, п’ятниця; Мария Георгиева; Ελλάδα",
            "عزيزتي ليلى الحسن، ١٢٣ Kerkstraat 14",
            "می‌خواهیم ۰۱۲ ټولنې ښاروالۍ ګنټ ډ ړ ږ ې",
            "ክብርቲ ወይዘሮ ሳባ ተስፋይ፡ ቀረባ እዋን። 09 123",
        ];
        for text in texts {
            for weight in [Weight::Regular, Weight::Bold] {
                let rtl = reads_rtl([text]);
                assert_eq!(
                    shaper.paragraph(text, weight, rtl).notdef(),
                    None,
                    "{text} {weight:?}"
                );
            }
        }
    }

    #[test]
    fn a_phone_number_in_an_rtl_paragraph_stays_one_left_to_right_run() {
        let mut shaper = Shaper::default();
        let text = "اتصلي بالرقم 09 123 45 67 أو ٠٩ ١٢٣ ٤٥ ٦٧ من الساعة 9 إلى 12";
        let p = shaper.paragraph(text, Weight::Regular, true);
        let level = |needle: &str| p.bidi.levels[text.find(needle).expect("in text")];
        for number in ["09 123 45 67", "٠٩ ١٢٣ ٤٥ ٦٧"] {
            let start = text.find(number).expect("in text");
            let levels = &p.bidi.levels[start..start + number.len()];
            assert!(
                levels.iter().all(|l| *l == levels[0] && l.is_ltr()),
                "{number}"
            );
        }
        // Lone numbers keep their place: the words between them stay right to left.
        assert!(level("إلى").is_rtl());
        assert!(level("9 ").is_ltr());
    }

    #[test]
    fn the_direction_follows_the_majority_of_letters() {
        assert!(reads_rtl(["Kerkstraat 14، السيد أحمد يسكن هنا"]));
        assert!(!reads_rtl(["Meneer أحمد woont hier"]));
        assert!(!reads_rtl(["ሰላም"]));
        assert!(reads_rtl(["سلام", "123"]));
    }

    #[test]
    fn a_glyph_run_covers_every_byte_of_its_text_once() {
        let mut shaper = Shaper::default();
        for (text, rtl) in [("ffi café", false), ("لا إله", true), ("ትግርኛ", false)] {
            let p = shaper.paragraph(text, Weight::Bold, rtl);
            let mut covered = vec![0; text.len()];
            for glyph in p.runs.iter().flat_map(|r| &r.glyphs) {
                assert!(glyph.id != 0, "{text}");
                if p.is_cluster_start(glyph.text.start) {
                    for b in glyph.text.clone() {
                        covered[b] += 1;
                    }
                }
            }
            assert!(covered.iter().all(|&n| n >= 1), "{text}: {covered:?}");
        }
    }
}
