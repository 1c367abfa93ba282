//! Official letters as printable PDF in every script a newcomer in Flanders and Brussels
//! reads: Latin (Dutch, French, English, Turkish ş ğ ı, Romanian ș ț, Polish ł, Somali),
//! Cyrillic (Ukrainian, Russian, Bulgarian), Greek, Arabic script (Arabic, Farsi, Dari,
//! Pashto) and Ethiopic (Tigrinya). It sets letters — the address block, a reference line,
//! then sections (the Dutch letter first, then a translation on fresh pages) — on A4 pages
//! in batches, one PDF document per batch, and tells which characters no font it ships can
//! print. Recruitment's and ceremonies' letters both go through it.
//!
//! It only turns text into pages. It never logs, and it knows nothing of people, records or
//! databases: callers hand it plain strings and get bytes back. It must never print a
//! character as a blank box: every text of a letter is checked before anything of it is
//! drawn, so a refused letter leaves its batch as it was.
//!
//! # How
//! - Fonts: Noto Sans, Noto Naskh Arabic and Noto Sans Ethiopic, Regular and Bold, from
//!   Debian's fonts-noto-core (SIL Open Font License, `fonts/OFL.txt`), compiled in with
//!   `include_bytes!` so the binary needs nothing installed. Each character is set in the
//!   font of its script; spaces, digits and punctuation follow the script around them.
//! - Bidirectional text (UAX #9, `unicode-bidi`): a section reads right to left when most
//!   of its letters are of right-to-left scripts, and its lines are then set flush right; a
//!   Latin address or number inside keeps its own order. One addition to UAX #9: a number in
//!   groups ("09 123 45 67") stays one left-to-right unit, never split by a line break,
//!   where the algorithm alone would reverse the order of its groups. The address block and
//!   reference line are always left to right (Dutch post), whatever script a name is in.
//! - Arabic script is set a tenth larger than the style's size, so it reads as large as the
//!   Latin beside it.
//! - Shaping (`rustybuzz`, a port of HarfBuzz): Arabic joining forms, ligatures and marks,
//!   Ethiopic syllables, Latin kerning. A glyph the fonts lack (`.notdef`) refuses the letter.
//! - Line breaking (UAX #14, `unicode-linebreak`) by measured width, greedy; a word wider
//!   than a line breaks between clusters. Page breaks come from the lines' real heights.
//! - PDF (`krilla`, the PDF crate of typst): embeds each font subset to the glyphs the batch
//!   uses, and writes every glyph run with the text it stands for (ToUnicode, and
//!   ActualText where glyphs and characters do not map one to one), so `pdftotext` and
//!   screen readers get the words back in logical order.
//!
//! Why these: krilla does the hard PDF part (CID fonts, subsetting with `subsetter`, text
//! extraction maps) and takes glyphs we shape and place ourselves; it is built without its
//! image codecs and without its own simple-text feature, whose single-line, single-font
//! shaping is not enough for letters. typst itself would bring a whole typesetting
//! language and compiler; parley or cosmic-text would bring a second font stack and system
//! font discovery. rustybuzz is the version krilla's text feature would use, so the
//! shaping stack is built once.

mod fonts;
mod layout;
mod page;
mod sender;
mod shape;

use krilla::metadata::Metadata;

pub use fonts::{printable, uncovered};
pub use sender::{Sender, Senders};

use page::{
    ADDRESS, BODY, Block, Cursor, GAP_AFTER_HEADING, GAP_AFTER_REFERENCE, GAP_BETWEEN_PARAGRAPHS,
    HEADING, REFERENCE,
};
use shape::Shaper;

/// Why a letter could not be added to a batch, or a batch not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// Some text holds a character none of the shipped fonts has.
    #[error("{field} holds {ch:?} at position {position}, which no letter font can print")]
    Unprintable {
        /// Which part of the letter: address, reference, heading or paragraph.
        field: &'static str,
        /// The first character that cannot be printed.
        ch: char,
        /// Its position in that text, counted in characters from 1.
        position: usize,
    },
    /// The PDF writer failed (a font it could not subset): a bug, not bad input.
    #[error("the PDF could not be written: {reason}")]
    Write {
        /// What the writer said.
        reason: String,
    },
}

/// One part of a letter: a heading and paragraphs, set on fresh pages.
#[derive(Debug)]
pub struct Section<'a> {
    /// The heading, set in bold above the paragraphs.
    pub heading: &'a str,
    /// The paragraphs, in order, each wrapped to the text width.
    pub paragraphs: &'a [String],
}

/// One letter: the address block (top left of its first page) and its sections in order.
#[derive(Debug)]
pub struct Letter<'a> {
    /// The address block, one line per entry.
    pub address: &'a [String],
    /// The reference line set in small type under the address.
    pub reference: &'a str,
    /// The sections: the Dutch letter first, then any translation.
    pub sections: &'a [Section<'a>],
}

/// A batch being written: one PDF document.
///
/// Not `Send` (krilla's document keeps `Rc` handles): make it, fill it and finish it on one
/// thread, for instance all inside one `spawn_blocking` closure.
pub struct Batch {
    document: krilla::Document,
    shaper: Shaper,
    pages: u32,
}

/// Checks that every character of `text` can be printed.
fn check(field: &'static str, text: &str) -> Result<(), PdfError> {
    match uncovered(text) {
        Some((ch, position)) => Err(PdfError::Unprintable {
            field,
            ch,
            position,
        }),
        None => Ok(()),
    }
}

/// Shapes `text` as a block in `style`; refuses it, naming `field`, if a font drew any of
/// it as `.notdef` (the coverage check of [`uncovered`] makes that a bug, caught here).
fn block<'t>(
    shaper: &mut Shaper,
    text: &'t str,
    field: &'static str,
    style: page::Style,
    rtl: bool,
) -> Result<Block<'t>, PdfError> {
    let paragraph = shaper.paragraph(text, style.weight, rtl);
    match paragraph.notdef() {
        Some((ch, position)) => Err(PdfError::Unprintable {
            field,
            ch,
            position,
        }),
        None => Ok(Block { paragraph, style }),
    }
}

impl Batch {
    /// Starts an empty batch whose document information carries `title`.
    pub fn new(title: &str) -> Self {
        let mut document = krilla::Document::new();
        document.set_metadata(Metadata::new().title(title.to_owned()));
        Batch {
            document,
            shaper: Shaper::default(),
            pages: 0,
        }
    }

    /// Adds a letter; returns the 1-based page number its first page has in the batch.
    /// Errors with the unprintable character, its position and which field if any text
    /// cannot be printed; the batch is then left as it was.
    pub fn add(&mut self, letter: &Letter<'_>) -> Result<u32, PdfError> {
        for line in letter.address {
            check("address", line)?;
        }
        check("reference", letter.reference)?;
        for section in letter.sections {
            check("heading", section.heading)?;
            for paragraph in section.paragraphs {
                check("paragraph", paragraph)?;
            }
        }

        let mut blocks = Vec::new();
        let shaper = &mut self.shaper;
        let mut shape = |text, field, style, rtl| block(shaper, text, field, style, rtl);
        // The address and reference are Dutch post: left to right, whatever the names.
        for line in letter.address {
            blocks.push(shape(line, "address", ADDRESS, false)?);
        }
        blocks.push(shape(letter.reference, "reference", REFERENCE, false)?);
        let mut sections = Vec::new();
        for section in letter.sections {
            let texts = std::iter::once(section.heading)
                .chain(section.paragraphs.iter().map(String::as_str));
            let rtl = shape::reads_rtl(texts);
            let heading = blocks.len();
            blocks.push(shape(section.heading, "heading", HEADING, rtl)?);
            for paragraph in section.paragraphs {
                blocks.push(shape(paragraph, "paragraph", BODY, rtl)?);
            }
            sections.push((heading, section.paragraphs.len()));
        }

        let mut cursor = Cursor::new();
        for i in 0..=letter.address.len() {
            cursor.block(&blocks, i);
        }
        cursor.skip(GAP_AFTER_REFERENCE);
        for (i, &(heading, paragraphs)) in sections.iter().enumerate() {
            if i > 0 {
                cursor.break_page();
            }
            // A heading needs room for itself and one line under it.
            cursor.need(HEADING.leading + GAP_AFTER_HEADING + BODY.leading);
            cursor.block(&blocks, heading);
            cursor.skip(GAP_AFTER_HEADING);
            for j in 0..paragraphs {
                if j > 0 {
                    cursor.skip(GAP_BETWEEN_PARAGRAPHS);
                }
                cursor.block(&blocks, heading + 1 + j);
            }
        }

        let first = self.pages + 1;
        let pages = u32::try_from(cursor.pages()).unwrap_or(u32::MAX);
        cursor.draw(&blocks, &mut self.shaper, &mut self.document);
        self.pages = self.pages.saturating_add(pages);
        Ok(first)
    }

    /// The number of pages written so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// The finished PDF bytes: the pages, the fonts subset to the glyphs they use, and the
    /// document information with the title.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        self.document.finish().map_err(|e| PdfError::Write {
            reason: format!("{e:?}"),
        })
    }
}
