//! Reading a batch back: the words of each letter as `pdftotext` gives them, compared as
//! a reader compares them (crates/letters/tests/it does the same for the printer alone).

use std::path::Path;
use std::process::Command;

use unicode_bidi::BidiClass;

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
/// trimmed off each word's ends, words split at slashes (where a line may break) and
/// where they turn from a right-to-left script to Latin or digits. pdftotext guesses the direction of text itself and puts a
/// comma, full stop or space next to an embedded left-to-right run on the wrong side of
/// it; the letters, the words and their order are what is checked.
pub fn words(text: &str) -> Vec<String> {
    let mut split = String::with_capacity(text.len());
    let mut last = None;
    for c in text.chars() {
        if matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        {
            continue;
        }
        // A line may break after a slash ("Pan/" "Pani"): the parts are the words.
        if c.is_whitespace() || c == '/' {
            last = None;
            split.push(' ');
            continue;
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
        .map(|w| date_groups(w.trim_matches(|c: char| !c.is_alphanumeric())))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A date's groups in a fixed order. In a right-to-left paragraph "16-11-2026" follows an
/// Arabic letter, so UAX #9 (W2) makes its groups Arabic numbers, each a run of its own:
/// the page shows 2026-11-16 left to right, which a reader of Arabic reads from the right
/// as the day, the month, the year. pdftotext gives the groups in the page's order.
fn date_groups(word: &str) -> String {
    let groups: Vec<&str> = word.split('-').collect();
    let digits = |g: &&str| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit());
    if groups.len() < 2 || !groups.iter().all(digits) {
        return word.to_owned();
    }
    let mut sorted = groups;
    sorted.sort_unstable();
    sorted.join("-")
}

/// The words of each letter of the batch `pdf`, split by its index (`.index.csv`: the
/// first page of each letter), with each page's footer ("page N") left out; and each
/// letter's person id and translation language from the index.
pub fn letters(pdf: &Path) -> Vec<(String, String, Vec<String>)> {
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("pdftotext writes UTF-8");
    let pages: Vec<Vec<String>> = text
        .split('\x0c')
        .filter(|p| !p.trim().is_empty())
        .map(|page| {
            let mut w = words(page);
            let footer = w.split_off(w.len().saturating_sub(2));
            assert_eq!(
                footer.first().map(String::as_str),
                Some("page"),
                "{footer:?}"
            );
            w
        })
        .collect();
    let index = std::fs::read_to_string(pdf.with_extension("index.csv")).expect("the index");
    let rows: Vec<(usize, String, String)> = index
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().expect("a page"),
                f[2].to_owned(),
                f[3].to_owned(),
            )
        })
        .collect();
    rows.iter()
        .enumerate()
        .map(|(i, (first, person, language))| {
            let end = rows.get(i + 1).map_or(pages.len(), |r| r.0 - 1);
            let words = pages[first - 1..end].concat();
            (person.clone(), language.clone(), words)
        })
        .collect()
}

/// Where `want` occurs in `got` as a run of consecutive words.
pub fn find_run(got: &[String], want: &[String]) -> Option<usize> {
    if want.is_empty() {
        return Some(0);
    }
    got.windows(want.len()).position(|w| w == want)
}
