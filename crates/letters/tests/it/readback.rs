//! Letters read back with pdftotext: every word, in logical order, in every script.

use inburgering_letters::Section;

use crate::samples::{SAMPLES, sample};
use crate::{address, expected_words, letter, poppler, print, read_back};

#[test]
fn every_contact_language_reads_back_word_for_word() {
    let mut wrong = Vec::new();
    for s in SAMPLES {
        let paragraphs: Vec<String> = s.paragraphs.iter().map(|p| (*p).to_owned()).collect();
        let sections = [Section {
            heading: s.heading,
            paragraphs: &paragraphs,
        }];
        let address = address(s.name);
        let letter = letter(&address, &sections);
        let (pdf, pages) = print(&letter);
        assert_eq!(pages, 1, "{}", s.lang);
        let (got, want) = (read_back(&pdf), expected_words(&letter));
        if got != want {
            wrong.push(format!("{}:\n  got  {got:?}\n  want {want:?}", s.lang));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_name_of_latin_given_name_and_arabic_family_name_reads_back_as_written() {
    let name = "Ahmed الحسن";
    let paragraphs = [format!("Beste {name}, welkom in Gent.")];
    let sections = [Section {
        heading: "Welkom",
        paragraphs: &paragraphs,
    }];
    let address = address(name);
    let letter = letter(&address, &sections);
    let (pdf, _) = print(&letter);
    let got = read_back(&pdf);
    assert_eq!(got[..2], ["Ahmed".to_owned(), "الحسن".to_owned()]);
    assert_eq!(got, expected_words(&letter));
}

/// A word of `pdftotext -bbox` output: its text and its box (left, top, right).
struct Word {
    text: String,
    x_min: f32,
    y_min: f32,
    x_max: f32,
}

/// The words of the first page with their boxes.
fn boxes(pdf: &[u8]) -> Vec<Word> {
    let html = poppler("pdftotext", &["-bbox", "-f", "1", "-l", "1"], pdf);
    let attr = |tag: &str, name: &str| -> f32 {
        let at = tag.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        let end = tag[at..].find('"').expect("closing quote");
        tag[at..at + end].parse().expect("a number")
    };
    html.split("<word ")
        .skip(1)
        .map(|w| {
            let (tag, rest) = w.split_once('>').expect("tag end");
            let text = rest.split("</word>").next().unwrap_or_default();
            Word {
                text: text.to_owned(),
                x_min: attr(tag, "xMin"),
                y_min: attr(tag, "yMin"),
                x_max: attr(tag, "xMax"),
            }
        })
        .collect()
}

#[test]
fn an_rtl_paragraph_with_a_latin_address_and_digits_reads_right_to_left_flush_right() {
    let s = sample("ar");
    let paragraphs = [s.paragraphs[1].to_owned()];
    let sections = [Section {
        heading: s.heading,
        paragraphs: &paragraphs,
    }];
    let address = address(s.name);
    let letter = letter(&address, &sections);
    let (pdf, _) = print(&letter);
    assert_eq!(read_back(&pdf), expected_words(&letter));

    // The paragraph's words: the address block above holds "9000 Gent" too.
    let words: Vec<Word> = boxes(&pdf)
        .into_iter()
        .filter(|w| w.y_min > 150.0)
        .collect();
    // -bbox gives a right-to-left word's letters in visual order, so reversed.
    let find = |text: &str| {
        let reversed: String = text.chars().rev().collect();
        words
            .iter()
            .find(|w| {
                let w = w.text.trim_matches(|c: char| !c.is_alphanumeric());
                w == text || w == reversed
            })
            .unwrap_or_else(|| panic!("{text} on the page"))
    };
    // The first line starts on the right margin (595 − 70 points), ink a hair inside.
    let first = find("تفضلي");
    assert!((first.x_max - 525.0).abs() < 3.0, "{}", first.x_max);
    // The Latin address reads left to right, and sits left of the Arabic before it.
    let (street, number, postcode, city) =
        (find("Kerkstraat"), find("14"), find("9000"), find("Gent"));
    assert!(
        street.x_max < number.x_min && number.x_max < postcode.x_min && postcode.x_max < city.x_min
    );
    assert!(city.x_max < find("مكتبنا").x_min);
    assert!(first.x_min > find("مكتبنا").x_max);
    // The phone number keeps its groups in the order written.
    let groups: Vec<&Word> = ["09", "123", "45", "67"].iter().map(|g| find(g)).collect();
    for pair in groups.windows(2) {
        assert!(
            pair[0].x_max < pair[1].x_min,
            "{} before {}",
            pair[0].text,
            pair[1].text
        );
        assert!((pair[0].y_min - pair[1].y_min).abs() < 1.0);
    }
}

#[test]
fn a_tigrinya_letter_long_enough_breaks_across_pages_and_keeps_every_word() {
    let s = sample("ti");
    let paragraphs: Vec<String> = (0..40).map(|i| s.paragraphs[i % 2].to_owned()).collect();
    let sections = [Section {
        heading: s.heading,
        paragraphs: &paragraphs,
    }];
    let address = address(s.name);
    let letter = letter(&address, &sections);
    let (pdf, pages) = print(&letter);
    assert!(pages > 1, "{pages} page(s)");
    assert_eq!(read_back(&pdf), expected_words(&letter));
}
