//! Breaking a shaped paragraph into lines (UAX #14 break opportunities, greedy, by width)
//! and putting each line's glyphs in visual order (UAX #9 rule L2).

use std::ops::Range;

use unicode_linebreak::{BreakOpportunity, linebreaks};

use crate::shape::{Glyph, Paragraph, Run};

/// One line of a paragraph: bytes of its text, without the spaces it ends in.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Line {
    pub(crate) text: Range<usize>,
    /// Its width in ems.
    pub(crate) width: f32,
}

/// Glyphs of one run that are drawn together, left to right.
pub(crate) struct Piece<'p> {
    pub(crate) run: &'p Run,
    pub(crate) glyphs: &'p [Glyph],
    /// The width of `glyphs`, in ems of the paragraph's size.
    pub(crate) width: f32,
}

/// The end of `range` with trailing white space left off.
fn trimmed_end(text: &str, range: Range<usize>) -> usize {
    range.start + text[range].trim_end().len()
}

/// Breaks `p` into lines at most `max` ems wide. Lines break where UAX #14 allows (after a
/// space, after a hyphen, …); a word wider than a whole line breaks between clusters, so no
/// text is ever lost or set past the margin.
pub(crate) fn lines(p: &Paragraph<'_>, max: f32) -> Vec<Line> {
    let text = p.text;
    let mut lines = Vec::new();
    let mut start = 0;
    // The last break opportunity at which the line still fits.
    let mut fits: Option<usize> = None;
    let mut opportunities = linebreaks(text).peekable();
    while let Some(&(at, kind)) = opportunities.peek() {
        if kind == BreakOpportunity::Allowed && inside_number(text, at) {
            opportunities.next();
            continue;
        }
        let end = trimmed_end(text, start..at);
        let width = p.width(start..end);
        if width <= max || end == start {
            opportunities.next();
            if kind == BreakOpportunity::Mandatory {
                push(&mut lines, p, start..at);
                start = at;
                fits = None;
            } else {
                fits = Some(at);
            }
            continue;
        }
        match fits.take() {
            // Break at the last opportunity that fit and measure this one again.
            Some(last) => {
                push(&mut lines, p, start..last);
                start = last;
            }
            // The first word alone is too wide: break it between clusters.
            None => {
                let rest = break_word(&mut lines, p, start, end, max);
                if rest == start {
                    // One cluster wider than a whole line: it stands alone, past the margin.
                    push(&mut lines, p, start..at);
                    start = at;
                    opportunities.next();
                } else {
                    start = rest;
                }
            }
        }
    }
    lines
}

/// Whether a break at byte `at` would split a number written in groups of digits
/// ("09 123 45 67"): a single space between two digits.
fn inside_number(text: &str, at: usize) -> bool {
    let mut before = text[..at].chars().rev();
    let after = text[at..].chars().next();
    before.next() == Some(' ')
        && before.next().is_some_and(|c| c.is_numeric())
        && after.is_some_and(char::is_numeric)
}

/// Sets lines of the word `start..end` wider than `max` ems, breaking between clusters
/// (at least one cluster per line); returns where its last, narrower piece starts.
fn break_word(
    lines: &mut Vec<Line>,
    p: &Paragraph<'_>,
    start: usize,
    end: usize,
    max: f32,
) -> usize {
    let mut piece = start;
    let mut width = 0.0;
    for (i, _) in p.text[start..end]
        .char_indices()
        .map(|(i, c)| (start + i, c))
    {
        if !p.is_cluster_start(i) {
            continue;
        }
        let advance = p.width(i..i + 1);
        if width + advance > max && i > piece {
            push(lines, p, piece..i);
            piece = i;
            width = 0.0;
        }
        width += advance;
    }
    piece
}

/// Adds the line `range` (trailing spaces left off), unless it holds nothing.
fn push(lines: &mut Vec<Line>, p: &Paragraph<'_>, range: Range<usize>) {
    let end = trimmed_end(p.text, range.clone());
    if end > range.start {
        lines.push(Line {
            width: p.width(range.start..end),
            text: range.start..end,
        });
    }
}

/// The glyphs of `line` in visual order, left to right: the line's level runs reordered by
/// UAX #9, and within a right-to-left level run its font runs last to first.
pub(crate) fn pieces<'p>(p: &'p Paragraph<'_>, line: &Line) -> Vec<Piece<'p>> {
    let mut pieces = Vec::new();
    let Some(para) = p.bidi.paragraphs.first() else {
        return pieces;
    };
    let (levels, level_runs) = p.bidi.visual_runs(para, line.text.clone());
    for level_run in level_runs {
        let rtl = levels[level_run.start].is_rtl();
        let overlapping = p
            .runs
            .iter()
            .filter(|run| run.text.start < level_run.end && level_run.start < run.text.end);
        let mut runs: Vec<&Run> = overlapping.collect();
        if rtl {
            runs.reverse();
        }
        for run in runs {
            let within = |g: &Glyph| level_run.contains(&g.text.start);
            // Glyphs of one cluster range are contiguous in a run's visual order.
            let Some(first) = run.glyphs.iter().position(within) else {
                continue;
            };
            let count = run.glyphs[first..].iter().take_while(|g| within(g)).count();
            let glyphs = &run.glyphs[first..first + count];
            pieces.push(Piece {
                run,
                glyphs,
                width: glyphs.iter().map(|g| g.advance).sum::<f32>() * run.family.scale(),
            });
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fonts::Weight;
    use crate::shape::Shaper;

    fn words(n: usize) -> String {
        let list = [
            "inburgering",
            "gemeente",
            "uitnodiging",
            "kennismakingsgesprek",
            "één",
            "€25",
        ];
        (0..n)
            .map(|i| list[i % list.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn lines_stay_within_the_width_and_keep_every_word() {
        let text = format!("{} {}", words(60), "x".repeat(300));
        let mut shaper = Shaper::default();
        let p = shaper.paragraph(&text, Weight::Regular, false);
        let max = 40.0;
        let lines = lines(&p, max);
        assert!(lines.len() > 5);
        let mut rebuilt = String::new();
        for line in &lines {
            assert!(line.width <= max + 1e-3, "{line:?}");
            assert!(!text[line.text.clone()].starts_with(' '));
            assert!(!text[line.text.clone()].ends_with(' '));
            rebuilt.push_str(&text[line.text.clone()]);
        }
        assert_eq!(rebuilt.replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn a_phone_number_is_not_broken_between_its_groups() {
        let mut shaper = Shaper::default();
        let text = "bel ons op 09 123 45 67";
        let p = shaper.paragraph(text, Weight::Regular, false);
        // Room for "bel ons op 09 123" but not for the whole line.
        let max = p.width(0..text.find(" 45").expect("in text"));
        let lines: Vec<&str> = lines(&p, max)
            .iter()
            .map(|l| &text[l.text.clone()])
            .collect();
        assert_eq!(lines, ["bel ons op", "09 123 45 67"]);
    }

    #[test]
    fn a_line_narrower_than_one_letter_still_sets_every_letter_once() {
        let mut shaper = Shaper::default();
        let text = "ab ሰላም";
        let p = shaper.paragraph(text, Weight::Regular, false);
        let lines: Vec<&str> = lines(&p, 0.1)
            .iter()
            .map(|l| &text[l.text.clone()])
            .collect();
        assert_eq!(lines, ["a", "b", "ሰ", "ላ", "ም"]);
    }

    #[test]
    fn a_line_that_fits_exactly_is_one_line() {
        let mut shaper = Shaper::default();
        let p = shaper.paragraph("Beste mevrouw", Weight::Regular, false);
        let width = p.width(0..p.text.len());
        assert_eq!(lines(&p, width).len(), 1);
        assert_eq!(lines(&p, width - 0.01).len(), 2);
    }

    #[test]
    fn an_rtl_line_with_a_latin_address_reads_right_to_left_around_it() {
        let mut shaper = Shaper::default();
        let text = "عنواننا Kerkstraat 14 في Gent";
        let p = shaper.paragraph(text, Weight::Regular, true);
        let lines = lines(&p, 100.0);
        assert_eq!(lines.len(), 1);
        let order: Vec<&str> = pieces(&p, &lines[0])
            .iter()
            .map(|piece| {
                let start = piece.glyphs.iter().map(|g| g.text.start).min().unwrap_or(0);
                let end = piece.glyphs.iter().map(|g| g.text.end).max().unwrap_or(0);
                text[start..end].trim()
            })
            .filter(|s| !s.is_empty())
            .collect();
        // Left to right on the page: the last words first, each Latin run read left to right.
        assert_eq!(order, ["Gent", "في", "Kerkstraat 14", "عنواننا"]);
    }
}
