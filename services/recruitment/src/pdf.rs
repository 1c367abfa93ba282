//! Letters as printable PDF: sets official letters (the Dutch text first, then
//! optionally a translation on fresh pages) on A4 pages in batches, one PDF
//! document per batch, using only the standard Helvetica fonts in
//! WinAnsiEncoding (nothing embedded), and tells which characters those fonts
//! cannot print.
//!
//! This module only turns text into pages. It never logs, and it knows nothing
//! of people, addresses as records, or databases: the caller hands it plain
//! strings and gets bytes back. It must never write a character it cannot
//! print: all text of a letter is checked before anything of it is written, so
//! a refused letter leaves its batch as it was.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// A4 width, in points.
const PAGE_WIDTH: f32 = 595.0;
/// A4 height, in points.
const PAGE_HEIGHT: f32 = 842.0;
/// Left, right, top and bottom margin, in points.
const MARGIN: f32 = 70.0;
/// The width text is wrapped to, in points.
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Baseline of the page footer, inside the bottom margin.
const FOOTER_BASELINE: f32 = 40.0;
/// Font size of the page footer.
const FOOTER_SIZE: f32 = 9.0;
/// Space between the reference line and the first section.
const GAP_AFTER_REFERENCE: f32 = 24.0;
/// Space between a heading and its first paragraph.
const GAP_AFTER_HEADING: f32 = 6.0;
/// Space between two paragraphs.
const GAP_BETWEEN_PARAGRAPHS: f32 = 8.0;
/// Initial capacity of a page's content stream; a full page of text is ~3 KB.
const CONTENT_CAPACITY: usize = 4096;

/// Resource name of Helvetica in every page's font resources.
const REGULAR_NAME: Name<'static> = Name(b"F1");
/// Resource name of Helvetica-Bold in every page's font resources.
const BOLD_NAME: Name<'static> = Name(b"F2");

/// First WinAnsi code in the width tables (space).
const FIRST_CHAR: u8 = 32;
/// Last WinAnsi code in the width tables (ÿ).
const LAST_CHAR: u8 = 255;

// Adobe AFM advance widths (1/1000 em) of the standard-14 fonts for WinAnsi
// codes 32..=255; 0 for the codes cp1252 leaves undefined (127, 129, 141, 143,
// 144, 157), which `win_ansi` never produces. 160 is the space glyph, 173 the
// hyphen, as the PDF reference's WinAnsiEncoding has them.

/// Helvetica widths for WinAnsi codes 32..=255.
const HELVETICA_WIDTHS: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32..=47
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48..=63
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
    778, // 64..=79
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80..=95
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
    556, // 96..=111
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, // 112..=127
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 128..=143
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 144..=159
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737,
    333, // 160..=175
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834,
    611, // 176..=191
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278,
    278, // 192..=207
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, // 208..=223
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278,
    278, // 224..=239
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556,
    500, // 240..=255
];

/// Helvetica-Bold widths for WinAnsi codes 32..=255.
const HELVETICA_BOLD_WIDTHS: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 32..=47
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 48..=63
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 64..=79
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 80..=95
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611,
    611, // 96..=111
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, // 112..=127
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 128..=143
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, // 144..=159
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737,
    333, // 160..=175
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834,
    611, // 176..=191
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278,
    278, // 192..=207
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, // 208..=223
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278,
    278, // 224..=239
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611,
    556, // 240..=255
];

/// The WinAnsi (cp1252) byte the letter font prints `c` with, if any.
fn win_ansi(c: char) -> Option<u8> {
    let code = u32::from(c);
    if (0x20..=0x7E).contains(&code) || (0xA0..=0xFF).contains(&code) {
        return u8::try_from(code).ok();
    }
    let byte = match c {
        '\u{20AC}' => 0x80, // €
        '\u{201A}' => 0x82, // ‚
        '\u{0192}' => 0x83, // ƒ
        '\u{201E}' => 0x84, // „
        '\u{2026}' => 0x85, // …
        '\u{2020}' => 0x86, // †
        '\u{2021}' => 0x87, // ‡
        '\u{02C6}' => 0x88, // ˆ
        '\u{2030}' => 0x89, // ‰
        '\u{0160}' => 0x8A, // Š
        '\u{2039}' => 0x8B, // ‹
        '\u{0152}' => 0x8C, // Œ
        '\u{017D}' => 0x8E, // Ž
        '\u{2018}' => 0x91, // ‘
        '\u{2019}' => 0x92, // ’
        '\u{201C}' => 0x93, // “
        '\u{201D}' => 0x94, // ”
        '\u{2022}' => 0x95, // •
        '\u{2013}' => 0x96, // –
        '\u{2014}' => 0x97, // —
        '\u{02DC}' => 0x98, // ˜
        '\u{2122}' => 0x99, // ™
        '\u{0161}' => 0x9A, // š
        '\u{203A}' => 0x9B, // ›
        '\u{0153}' => 0x9C, // œ
        '\u{017E}' => 0x9E, // ž
        '\u{0178}' => 0x9F, // Ÿ
        _ => return None,
    };
    Some(byte)
}

/// The first character of `text` that the letter font cannot print, if any.
pub fn unprintable(text: &str) -> Option<char> {
    text.chars().find(|&c| win_ansi(c).is_none())
}

/// Why a letter could not be added to a batch.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// Some text holds a character outside WinAnsiEncoding.
    #[error("{field} holds {ch:?}, which the letter font cannot print")]
    Unprintable {
        /// Which part of the letter: address, reference, heading or paragraph.
        field: &'static str,
        /// The first character that cannot be printed.
        ch: char,
    },
}

/// One part of a letter: a heading and paragraphs, set on fresh pages.
pub struct Section<'a> {
    /// The heading, set in bold above the paragraphs.
    pub heading: &'a str,
    /// The paragraphs, in order, each wrapped to the text width.
    pub paragraphs: &'a [String],
}

/// One letter: the address block (top left of its first page) and its sections in order.
pub struct Letter<'a> {
    /// The address block, one line per entry.
    pub address: &'a [String],
    /// The reference line set in small type under the address.
    pub reference: &'a str,
    /// The sections: the Dutch letter first, then any translation.
    pub sections: &'a [Section<'a>],
}

/// One of the two fonts of a letter.
#[derive(Clone, Copy, PartialEq)]
enum Font {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

impl Font {
    /// The font's name in the page resources.
    fn name(self) -> Name<'static> {
        match self {
            Font::Regular => REGULAR_NAME,
            Font::Bold => BOLD_NAME,
        }
    }

    /// The font's width table.
    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA_WIDTHS,
            Font::Bold => &HELVETICA_BOLD_WIDTHS,
        }
    }
}

/// How a kind of line is set.
#[derive(Clone, Copy)]
struct Style {
    font: Font,
    size: f32,
    leading: f32,
}

const ADDRESS: Style = Style {
    font: Font::Regular,
    size: 11.0,
    leading: 15.0,
};
const REFERENCE: Style = Style {
    font: Font::Regular,
    size: 9.0,
    leading: 12.0,
};
const HEADING: Style = Style {
    font: Font::Bold,
    size: 13.0,
    leading: 18.0,
};
const BODY: Style = Style {
    font: Font::Regular,
    size: 11.0,
    leading: 15.0,
};

/// Advance width of one WinAnsi byte, in 1/1000 em.
fn glyph_width(widths: &[u16; 224], byte: u8) -> u32 {
    let index = usize::from(byte.wrapping_sub(FIRST_CHAR));
    widths.get(index).map_or(0, |&w| u32::from(w))
}

/// Advance width of WinAnsi bytes, in 1/1000 em.
fn text_width(widths: &[u16; 224], bytes: &[u8]) -> u32 {
    bytes.iter().map(|&b| glyph_width(widths, b)).sum()
}

/// Writes the WinAnsi bytes of `text` into `out`, replacing what it held.
/// Characters that cannot be printed are left out (callers check first).
fn encode(text: &str, out: &mut Vec<u8>) {
    out.clear();
    out.extend(text.chars().filter_map(win_ansi));
}

/// Breaks WinAnsi `text` into lines at most `max` (1/1000 em) wide, on spaces;
/// a word wider than a line is broken between characters. Calls `emit` with
/// each line, a slice of `text` without leading or trailing spaces.
fn wrap(text: &[u8], widths: &[u16; 224], max: u32, mut emit: impl FnMut(&[u8])) {
    // The line being gathered: start, end (exclusive) and width.
    let mut line: Option<(usize, usize, u32)> = None;
    let mut i = 0;
    while i < text.len() {
        if text[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        let mut width = 0;
        while i < text.len() && text[i] != b' ' {
            width += glyph_width(widths, text[i]);
            i += 1;
        }
        let end = i;
        if let Some((line_start, line_end, line_width)) = line {
            let joined = line_width + text_width(widths, &text[line_end..start]) + width;
            if joined <= max {
                line = Some((line_start, end, joined));
                continue;
            }
            emit(&text[line_start..line_end]);
        }
        if width <= max {
            line = Some((start, end, width));
        } else {
            let mut piece = start;
            let mut piece_width = 0;
            for j in start..end {
                let w = glyph_width(widths, text[j]);
                if piece_width + w > max && j > piece {
                    emit(&text[piece..j]);
                    piece = j;
                    piece_width = 0;
                }
                piece_width += w;
            }
            line = Some((piece, end, piece_width));
        }
    }
    if let Some((line_start, line_end, _)) = line {
        emit(&text[line_start..line_end]);
    }
}

/// Writes `n` as decimal digits into the end of `buf`; returns where they start.
fn digits(mut n: u32, buf: &mut [u8; 10]) -> usize {
    let mut at = buf.len();
    loop {
        at -= 1;
        // n % 10 < 10, so the cast cannot truncate.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || at == 0 {
            return at;
        }
    }
}

/// The page being set for a letter.
struct Cursor {
    /// The page's content stream; a text object is open in it.
    content: Content,
    /// 1-based page number within the letter.
    page: u32,
    /// Top of the free space left on the page.
    top: f32,
    /// The font and size last selected in the content stream.
    font: Option<(Font, f32)>,
}

impl Cursor {
    fn new(page: u32) -> Self {
        let mut content = Content::with_capacity(CONTENT_CAPACITY);
        content.begin_text();
        Cursor {
            content,
            page,
            top: PAGE_HEIGHT - MARGIN,
            font: None,
        }
    }

    fn select(&mut self, font: Font, size: f32) {
        if self.font != Some((font, size)) {
            self.content.set_font(font.name(), size);
            self.font = Some((font, size));
        }
    }

    /// Whether nothing has been set on the page yet.
    fn is_fresh(&self) -> bool {
        self.top >= PAGE_HEIGHT - MARGIN
    }
}

/// The objects of the document being written.
struct Doc {
    pdf: Pdf,
    next_id: i32,
    page_tree: Ref,
    regular: Ref,
    bold: Ref,
    page_refs: Vec<Ref>,
}

impl Doc {
    fn alloc(&mut self) -> Ref {
        let id = Ref::new(self.next_id);
        self.next_id += 1;
        id
    }

    /// Closes the page of `content`: sets its footer and writes its content
    /// stream and page object.
    fn write_page(&mut self, mut content: Content, page: u32) {
        let mut label = *b"page 0000000000";
        let mut number = [0; 10];
        let start = digits(page, &mut number);
        let len = 5 + number.len() - start;
        label[5..len].copy_from_slice(&number[start..]);
        let label = &label[..len];
        let width = text_width(Font::Regular.widths(), label) as f32 * FOOTER_SIZE / 1000.0;
        content
            .set_font(REGULAR_NAME, FOOTER_SIZE)
            .set_text_matrix([
                1.0,
                0.0,
                0.0,
                1.0,
                (PAGE_WIDTH - width) / 2.0,
                FOOTER_BASELINE,
            ])
            .show(Str(label))
            .end_text();
        let data = content.finish();

        let content_id = self.alloc();
        let page_id = self.alloc();
        self.pdf.stream(content_id, data.as_slice());
        let mut page = self.pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(self.page_tree)
            .contents(content_id);
        page.resources()
            .fonts()
            .pair(REGULAR_NAME, self.regular)
            .pair(BOLD_NAME, self.bold);
        page.finish();
        self.page_refs.push(page_id);
    }

    /// Closes the current page and starts the letter's next one.
    fn break_page(&mut self, cursor: &mut Cursor) {
        let next = Cursor::new(cursor.page + 1);
        let done = std::mem::replace(cursor, next);
        self.write_page(done.content, done.page);
    }

    /// Sets one line at the cursor, on a new page if it does not fit.
    fn line(&mut self, cursor: &mut Cursor, style: Style, bytes: &[u8]) {
        if cursor.top - style.leading < MARGIN && !cursor.is_fresh() {
            self.break_page(cursor);
        }
        let baseline = cursor.top - style.size;
        cursor.select(style.font, style.size);
        cursor
            .content
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, MARGIN, baseline])
            .show(Str(bytes));
        cursor.top -= style.leading;
    }

    /// Sets `text` wrapped to the text width.
    fn text(&mut self, cursor: &mut Cursor, scratch: &mut Vec<u8>, text: &str, style: Style) {
        encode(text, scratch);
        // Truncating the bound only makes lines a hair narrower.
        let max = (TEXT_WIDTH * 1000.0 / style.size) as u32;
        wrap(scratch, style.font.widths(), max, |line| {
            self.line(cursor, style, line);
        });
    }
}

/// Checks that every character of `text` can be printed.
fn check(field: &'static str, text: &str) -> Result<(), PdfError> {
    match unprintable(text) {
        Some(ch) => Err(PdfError::Unprintable { field, ch }),
        None => Ok(()),
    }
}

/// A batch being written: one PDF document.
pub struct Batch {
    doc: Doc,
    /// WinAnsi bytes of the text being set, reused for every string.
    scratch: Vec<u8>,
}

impl Batch {
    /// Starts an empty batch whose document information carries `title`.
    pub fn new(title: &str) -> Self {
        let catalog = Ref::new(1);
        let page_tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let mut pdf = Pdf::with_capacity(1 << 20);
        for (id, base) in [
            (regular, Name(b"Helvetica")),
            (bold, Name(b"Helvetica-Bold")),
        ] {
            let widths = if id == regular {
                &HELVETICA_WIDTHS
            } else {
                &HELVETICA_BOLD_WIDTHS
            };
            pdf.type1_font(id)
                .base_font(base)
                .encoding_predefined(Name(b"WinAnsiEncoding"))
                .first_char(FIRST_CHAR)
                .last_char(LAST_CHAR)
                .widths(widths.iter().map(|&w| f32::from(w)));
        }
        // Objects may come in any order: catalog and info are written now.
        pdf.catalog(catalog).pages(page_tree);
        pdf.document_info(info).title(TextStr(title));
        Batch {
            doc: Doc {
                pdf,
                next_id: 6,
                page_tree,
                regular,
                bold,
                page_refs: Vec::new(),
            },
            scratch: Vec::with_capacity(4096),
        }
    }

    /// Adds a letter; returns the 1-based page number its first page has in the batch.
    /// Errors with the unprintable char (and which field) if any text cannot be printed;
    /// the batch is then left as it was.
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

        let first = self.pages() + 1;
        let Batch { doc, scratch, .. } = self;
        let mut cursor = Cursor::new(1);
        for line in letter.address {
            doc.text(&mut cursor, scratch, line, ADDRESS);
        }
        doc.text(&mut cursor, scratch, letter.reference, REFERENCE);
        cursor.top -= GAP_AFTER_REFERENCE;
        for (i, section) in letter.sections.iter().enumerate() {
            // A heading needs room for itself and one line under it.
            let needed = HEADING.leading + GAP_AFTER_HEADING + BODY.leading;
            if i > 0 || (cursor.top - needed < MARGIN && !cursor.is_fresh()) {
                doc.break_page(&mut cursor);
            }
            doc.text(&mut cursor, scratch, section.heading, HEADING);
            cursor.top -= GAP_AFTER_HEADING;
            for (j, paragraph) in section.paragraphs.iter().enumerate() {
                if j > 0 {
                    cursor.top -= GAP_BETWEEN_PARAGRAPHS;
                }
                doc.text(&mut cursor, scratch, paragraph, BODY);
            }
        }
        doc.write_page(cursor.content, cursor.page);
        Ok(first)
    }

    /// The number of pages written so far.
    pub fn pages(&self) -> u32 {
        u32::try_from(self.doc.page_refs.len()).unwrap_or(u32::MAX)
    }

    /// The finished PDF bytes (catalog, page tree, info dictionary with the title).
    pub fn finish(self) -> Vec<u8> {
        let Batch { mut doc, .. } = self;
        let count = i32::try_from(doc.page_refs.len()).unwrap_or(i32::MAX);
        doc.pdf
            .pages(doc.page_tree)
            .kids(doc.page_refs.iter().copied())
            .count(count);
        doc.pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize) -> String {
        let mut text = String::new();
        for i in 0..n {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(
                [
                    "inburgering",
                    "gemeente",
                    "uitnodiging",
                    "kennismakingsgesprek",
                    "één",
                    "€25",
                ][i % 6],
            );
        }
        text
    }

    fn address() -> Vec<String> {
        vec![
            "Mevrouw E. Jansen".to_owned(),
            "Kerkstraat 1".to_owned(),
            "1234 AB Utrecht".to_owned(),
        ]
    }

    /// Counts `/Type /Page` objects, not `/Type /Pages`.
    fn page_objects(pdf: &[u8]) -> usize {
        let needle = b"/Type /Page";
        pdf.windows(needle.len() + 1)
            .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
            .count()
    }

    #[test]
    fn unprintable_finds_the_first_character_outside_win_ansi() {
        assert_eq!(unprintable("Beste meneer Kılıç"), Some('ı'));
        assert_eq!(unprintable("Éléonore — 25 € „quote“"), None);
        assert_eq!(unprintable("tab\there"), Some('\t'));
        assert_eq!(win_ansi('“'), Some(0x93));
        assert_eq!(win_ansi('„'), Some(0x84));
        assert_eq!(win_ansi('ÿ'), Some(0xFF));
    }

    #[test]
    fn every_printable_code_has_a_width() {
        for code in 0u32..0x3000 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            if let Some(b) = win_ansi(c) {
                assert!(glyph_width(&HELVETICA_WIDTHS, b) > 0, "{c:?}");
                assert!(glyph_width(&HELVETICA_BOLD_WIDTHS, b) > 0, "{c:?}");
            }
        }
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width_and_breaks_long_words() {
        let text = format!("{} {}", words(60), "x".repeat(300));
        let mut bytes = Vec::new();
        encode(&text, &mut bytes);
        let max = (TEXT_WIDTH * 1000.0 / BODY.size) as u32;
        let mut lines = 0;
        let mut total = 0;
        wrap(&bytes, &HELVETICA_WIDTHS, max, |line| {
            lines += 1;
            total += line.iter().filter(|&&b| b != b' ').count();
            assert!(text_width(&HELVETICA_WIDTHS, line) <= max);
            assert!(!line.starts_with(b" ") && !line.ends_with(b" "));
        });
        assert!(lines > 3);
        assert_eq!(total, bytes.iter().filter(|&&b| b != b' ').count());
    }

    #[test]
    fn long_paragraphs_and_sections_take_new_pages() {
        let address = address();
        let long = [words(400)];
        let short = ["Welkom in de gemeente.".to_owned()];
        let mut batch = Batch::new("test");

        let one = [Section {
            heading: "Brief",
            paragraphs: &long,
        }];
        let first = batch.add(&Letter {
            address: &address,
            reference: "ref 1",
            sections: &one,
        });
        assert_eq!(first.ok(), Some(1));
        assert!(batch.pages() > 1, "400 words fit on one page");

        let two = [
            Section {
                heading: "Uitnodiging",
                paragraphs: &short,
            },
            Section {
                heading: "Invitation",
                paragraphs: &short,
            },
        ];
        let before = batch.pages();
        let start = batch.add(&Letter {
            address: &address,
            reference: "ref 2",
            sections: &two,
        });
        assert_eq!(start.ok(), Some(before + 1));
        assert_eq!(
            batch.pages() - before,
            2,
            "the second section starts a page of its own"
        );
        let next = batch.add(&Letter {
            address: &address,
            reference: "ref 3",
            sections: &two,
        });
        assert_eq!(next.ok(), Some(before + 3));
    }

    #[test]
    fn output_is_a_pdf_with_one_page_object_per_page() {
        let address = address();
        let paragraphs = [
            words(250),
            "Met vriendelijke groet :) \\ de gemeente".to_owned(),
        ];
        let sections = [
            Section {
                heading: "Uitnodiging",
                paragraphs: &paragraphs,
            },
            Section {
                heading: "Invitation",
                paragraphs: &paragraphs,
            },
        ];
        let mut batch = Batch::new("Brieven — batch 1");
        for _ in 0..3 {
            assert!(
                batch
                    .add(&Letter {
                        address: &address,
                        reference: "ref",
                        sections: &sections
                    })
                    .is_ok()
            );
        }
        let pages = batch.pages();
        let pdf = batch.finish();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
        assert_eq!(page_objects(&pdf), pages as usize);
        let count = format!("/Count {pages}");
        assert!(pdf.windows(count.len()).any(|w| w == count.as_bytes()));
        let escaped = b"(Met vriendelijke groet :\\) \\\\ de gemeente)";
        assert!(pdf.windows(escaped.len()).any(|w| w == escaped));
    }

    #[test]
    fn an_unprintable_character_is_refused_and_leaves_the_batch_as_it_was() {
        let address = address();
        let good = [words(20)];
        let bad = [words(20), "Beste meneer Kılıç".to_owned()];
        let mut batch = Batch::new("test");
        let sections = [Section {
            heading: "Brief",
            paragraphs: &good,
        }];
        assert!(
            batch
                .add(&Letter {
                    address: &address,
                    reference: "r",
                    sections: &sections
                })
                .is_ok()
        );
        let before = batch.pages();
        let sections = [
            Section {
                heading: "Brief",
                paragraphs: &good,
            },
            Section {
                heading: "Letter",
                paragraphs: &bad,
            },
        ];
        let result = batch.add(&Letter {
            address: &address,
            reference: "r",
            sections: &sections,
        });
        match result {
            Err(PdfError::Unprintable { field, ch }) => {
                assert_eq!(field, "paragraph");
                assert_eq!(ch, 'ı');
            }
            Ok(page) => panic!("added at page {page}"),
        }
        assert_eq!(batch.pages(), before);
        let pdf = batch.finish();
        assert_eq!(page_objects(&pdf), before as usize);
    }

    #[test]
    #[ignore = "timing: run in release with --ignored --nocapture"]
    fn render_ten_thousand_letters() {
        let address = address();
        let paragraphs: Vec<String> = (0..5).map(|i| words(60 + 10 * i)).collect();
        let sections = [
            Section {
                heading: "Uitnodiging voor een kennismaking",
                paragraphs: &paragraphs,
            },
            Section {
                heading: "Invitation to an introduction",
                paragraphs: &paragraphs,
            },
        ];
        let letter = Letter {
            address: &address,
            reference: "Kenmerk REC-2024-000123",
            sections: &sections,
        };
        let start = std::time::Instant::now();
        let (mut pages, mut bytes) = (0u64, 0usize);
        for _ in 0..20 {
            let mut batch = Batch::new("batch");
            for _ in 0..500 {
                assert!(batch.add(&letter).is_ok());
            }
            pages += u64::from(batch.pages());
            bytes += batch.finish().len();
        }
        println!(
            "10,000 letters, {pages} pages, {bytes} bytes in {:?}",
            start.elapsed()
        );
    }
}
