//! The letter printer from the outside: letters in every contact language printed, then
//! read back with poppler's `pdftotext` and `pdftoppm` (Debian's poppler-utils).

mod docs;
mod pages;
mod readback;
mod samples;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use inburgering_letters::{Batch, Letter, Section};
use unicode_bidi::BidiClass;

/// A scratch file for one test's PDF, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn write(name: &str, pdf: &[u8]) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("letters-{}-{n}-{name}.pdf", std::process::id()));
        std::fs::write(&path, pdf).expect("temp dir is writable");
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs a poppler tool on the PDF and returns its standard output.
pub fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let file = Scratch::write(tool, pdf);
    let out = Command::new(tool)
        .args(args)
        .arg(&file.0)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{tool} (apt-get install poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("poppler writes UTF-8")
}

/// Whether `c` is a letter of a right-to-left script (`Some(true)`), a left-to-right letter
/// or a digit (`Some(false)`), or neither.
fn strong_rtl(c: char) -> Option<bool> {
    match unicode_bidi::bidi_class(c) {
        BidiClass::R | BidiClass::AL => Some(true),
        BidiClass::L | BidiClass::EN | BidiClass::AN => Some(false),
        _ => None,
    }
}

/// The words of `text` as a reader compares them: bidi controls dropped, punctuation
/// trimmed off each word's ends, and a word split where it turns from a right-to-left script
/// to Latin or digits. pdftotext guesses the direction of text itself: it puts a comma, full
/// stop or space next to an embedded left-to-right run on the wrong side of it ("،Kerkstraat",
/// "Gentمن", "۹تا"). The letters, the words and their order are what is checked.
pub fn words(text: &str) -> Vec<String> {
    let mut split = String::with_capacity(text.len());
    let mut last = None;
    for c in text.chars() {
        if matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        {
            continue;
        }
        if c.is_whitespace() {
            last = None;
        } else if let Some(rtl) = strong_rtl(c) {
            if last.is_some_and(|l| l != rtl) {
                split.push(' ');
            }
            last = Some(rtl);
        }
        split.push(c);
    }
    split
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The words of a PDF as pdftotext reads them back, each page's footer ("page N", N the
/// page within its letter, checked to be there) left out.
pub fn read_back(pdf: &[u8]) -> Vec<String> {
    let text = poppler("pdftotext", &["-enc", "UTF-8"], pdf);
    let mut all = Vec::new();
    let pages = text.split('\x0c').filter(|p| !p.trim().is_empty());
    for (i, page) in pages.enumerate() {
        let mut page_words = words(page);
        let footer = page_words.split_off(page_words.len().saturating_sub(2));
        let numbered = footer.len() == 2 && footer[1].parse::<u32>().is_ok();
        assert!(
            footer[0] == "page" && numbered,
            "footer of page {}: {footer:?}",
            i + 1
        );
        all.extend(page_words);
    }
    all
}

/// The words a letter carries, in reading order.
pub fn expected_words(letter: &Letter<'_>) -> Vec<String> {
    let mut text = String::new();
    for line in letter.address {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(letter.reference);
    for section in letter.sections {
        text.push('\n');
        text.push_str(section.heading);
        for p in section.paragraphs {
            text.push('\n');
            text.push_str(p);
        }
    }
    words(&text)
}

/// The address block of a letter to `name`.
pub fn address(name: &str) -> Vec<String> {
    vec![
        name.to_owned(),
        "Kerkstraat 1".to_owned(),
        "9000 Gent".to_owned(),
    ]
}

/// Prints one letter alone in a batch; returns the PDF and its page count.
pub fn print(letter: &Letter<'_>) -> (Vec<u8>, u32) {
    let mut batch = Batch::new("test");
    if let Err(e) = batch.add(letter) {
        panic!("{e}");
    }
    let pages = batch.pages();
    (batch.finish().expect("the batch is written"), pages)
}

/// A letter of one section.
pub fn letter<'a>(address: &'a [String], sections: &'a [Section<'a>]) -> Letter<'a> {
    Letter {
        address,
        reference: "Ref. 0193-7a2c - 07-12-2026",
        sections,
    }
}
