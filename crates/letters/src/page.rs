//! Setting a letter's shaped paragraphs on A4 pages: where each line goes, when a page is
//! full, and drawing the lines and page footers into the document.
//!
//! Layout is done in full before anything is drawn, so a letter is either drawn whole or
//! not at all.

use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::surface::Surface;

use crate::fonts::{Family, Weight};
use crate::layout::{self, Line};
use crate::shape::{Paragraph, Shaper};

/// A4 width, in points.
pub(crate) const PAGE_WIDTH: f32 = 595.0;
/// A4 height, in points.
pub(crate) const PAGE_HEIGHT: f32 = 842.0;
/// Left, right, top and bottom margin, in points.
const MARGIN: f32 = 70.0;
/// The width text is wrapped to, in points.
pub(crate) const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Baseline of the page footer, from the bottom edge (inside the bottom margin).
const FOOTER_BASELINE: f32 = 40.0;
/// Space between the reference line and the first section.
pub(crate) const GAP_AFTER_REFERENCE: f32 = 24.0;
/// Space between a heading and its first paragraph.
pub(crate) const GAP_AFTER_HEADING: f32 = 6.0;
/// Space between two paragraphs.
pub(crate) const GAP_BETWEEN_PARAGRAPHS: f32 = 8.0;

/// How a kind of line is set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    pub(crate) weight: Weight,
    /// Font size in points.
    pub(crate) size: f32,
    /// Least distance between baselines, in points; a script whose font needs more
    /// (Arabic with its marks) gets more.
    pub(crate) leading: f32,
}

pub(crate) const ADDRESS: Style = Style {
    weight: Weight::Regular,
    size: 11.0,
    leading: 15.0,
};
pub(crate) const REFERENCE: Style = Style {
    weight: Weight::Regular,
    size: 9.0,
    leading: 12.0,
};
pub(crate) const HEADING: Style = Style {
    weight: Weight::Bold,
    size: 13.0,
    leading: 18.0,
};
pub(crate) const BODY: Style = Style {
    weight: Weight::Regular,
    size: 11.0,
    leading: 15.0,
};
const FOOTER: Style = Style {
    weight: Weight::Regular,
    size: 9.0,
    leading: 12.0,
};

/// A paragraph shaped in its style.
pub(crate) struct Block<'t> {
    pub(crate) paragraph: Paragraph<'t>,
    pub(crate) style: Style,
}

/// One line placed on a page.
struct Placed {
    /// Index of its block.
    block: usize,
    line: Line,
    /// Left end of the line, in points from the left edge.
    x: f32,
    /// Baseline, in points from the top edge.
    baseline: f32,
}

/// Where the next line of a letter goes.
pub(crate) struct Cursor {
    /// Lines of the pages laid out so far; the last is the page being filled.
    pages: Vec<Vec<Placed>>,
    /// Top of the free space on the current page, in points from the top edge.
    top: f32,
}

impl Cursor {
    pub(crate) fn new() -> Self {
        Cursor {
            pages: vec![Vec::new()],
            top: MARGIN,
        }
    }

    /// Whether nothing has been set on the current page yet.
    fn is_fresh(&self) -> bool {
        self.pages.last().is_none_or(Vec::is_empty)
    }

    /// Starts a new page unless the current one is still empty.
    pub(crate) fn break_page(&mut self) {
        if !self.is_fresh() {
            self.pages.push(Vec::new());
            self.top = MARGIN;
        }
    }

    /// Starts a new page if less than `height` points are left on this one.
    pub(crate) fn need(&mut self, height: f32) {
        if self.top + height > PAGE_HEIGHT - MARGIN {
            self.break_page();
        }
    }

    /// Leaves `height` points of space.
    pub(crate) fn skip(&mut self, height: f32) {
        self.top += height;
    }

    /// Sets block `index` wrapped to the text width: flush left, or flush right when it
    /// reads right to left. A line that does not fit starts the next page.
    pub(crate) fn block(&mut self, blocks: &[Block<'_>], index: usize) {
        let Block { paragraph, style } = &blocks[index];
        for line in layout::lines(paragraph, TEXT_WIDTH / style.size) {
            let (ascent, descent) = extent(paragraph, &line, *style);
            let leading = style.leading.max(ascent + descent);
            self.need(leading);
            let width = line.width * style.size;
            let x = if paragraph.rtl() {
                MARGIN + TEXT_WIDTH - width
            } else {
                MARGIN
            };
            let baseline = self.top + (leading - ascent - descent) / 2.0 + ascent;
            self.top += leading;
            if let Some(page) = self.pages.last_mut() {
                page.push(Placed {
                    block: index,
                    line,
                    x,
                    baseline,
                });
            }
        }
    }

    /// The number of pages laid out.
    pub(crate) fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Draws the laid-out pages into `document`, each with the footer "page N".
    pub(crate) fn draw(
        self,
        blocks: &[Block<'_>],
        shaper: &mut Shaper,
        document: &mut krilla::Document,
    ) {
        let a4 = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size");
        for (number, lines) in self.pages.iter().enumerate() {
            let mut page = document.start_page_with(a4.clone());
            let mut surface = page.surface();
            for placed in lines {
                let block = &blocks[placed.block];
                draw_line(
                    &mut surface,
                    &block.paragraph,
                    &placed.line,
                    block.style,
                    placed.x,
                    placed.baseline,
                );
            }
            let label = format!("page {}", number + 1);
            let footer = shaper.paragraph(&label, FOOTER.weight, false);
            let line = Line {
                text: 0..label.len(),
                width: footer.width(0..label.len()),
            };
            let x = (PAGE_WIDTH - line.width * FOOTER.size) / 2.0;
            draw_line(
                &mut surface,
                &footer,
                &line,
                FOOTER,
                x,
                PAGE_HEIGHT - FOOTER_BASELINE,
            );
            surface.finish();
            page.finish();
        }
    }
}

/// The height above and depth below the baseline that `line` needs, in points: the
/// largest of the fonts it is set in.
fn extent(paragraph: &Paragraph<'_>, line: &Line, style: Style) -> (f32, f32) {
    let mut families: Vec<Family> = paragraph
        .runs
        .iter()
        .filter(|run| run.text.start < line.text.end && line.text.start < run.text.end)
        .map(|run| run.family)
        .collect();
    families.dedup();
    families.iter().fold((0.0f32, 0.0f32), |(a, d), family| {
        let font = family.font(style.weight);
        let size = style.size * family.scale();
        (a.max(font.ascent * size), d.max(font.descent * size))
    })
}

/// Draws `line` of `paragraph` from `x` on `baseline`, piece by piece left to right; every
/// glyph run carries the text it stands for, so the words can be copied and read back.
fn draw_line(
    surface: &mut Surface<'_>,
    paragraph: &Paragraph<'_>,
    line: &Line,
    style: Style,
    x: f32,
    baseline: f32,
) {
    let mut x = x;
    for piece in layout::pieces(paragraph, line) {
        let font = piece.run.family.font(style.weight);
        surface.draw_glyphs(
            Point::from_xy(x, baseline),
            piece.glyphs,
            font.pdf.clone(),
            paragraph.text,
            style.size * piece.run.family.scale(),
            false,
        );
        x += piece.width * style.size;
    }
}
