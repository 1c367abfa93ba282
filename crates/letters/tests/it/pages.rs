//! Batches: page numbers, fresh pages per section, refusals that leave the batch as it was,
//! and fonts subset to what the batch uses.

use inburgering_letters::{Batch, Letter, PdfError, Section, uncovered};

use crate::samples::{SAMPLES, sample};
use crate::{address, letter, read_back};

/// Counts `/Type/Page` objects, not `/Type/Pages`.
fn page_objects(pdf: &[u8]) -> usize {
    let needle = b"/Type/Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

fn paragraphs(lang: &str) -> Vec<String> {
    sample(lang)
        .paragraphs
        .iter()
        .map(|p| (*p).to_owned())
        .collect()
}

#[test]
fn every_section_starts_a_page_and_add_returns_the_first_page_of_the_letter() {
    let (nl, ar) = (paragraphs("nl"), paragraphs("ar"));
    let sections = [
        Section {
            heading: sample("nl").heading,
            paragraphs: &nl,
        },
        Section {
            heading: sample("ar").heading,
            paragraphs: &ar,
        },
    ];
    let address = address("Ahmed الحسن");
    let letter = letter(&address, &sections);
    let mut batch = Batch::new("Brieven — batch 1");
    for expected in [1, 3, 5] {
        assert_eq!(batch.add(&letter).ok(), Some(expected));
    }
    assert_eq!(batch.pages(), 6);
    let pdf = batch.finish().expect("written");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(page_objects(&pdf), 6);
    assert_eq!(
        read_back(&pdf).len(),
        3 * crate::expected_words(&letter).len()
    );
}

#[test]
fn a_character_no_font_has_is_refused_by_name_and_position_and_leaves_the_batch_as_it_was() {
    assert_eq!(uncovered("Beste meneer 王"), Some(('王', 14)));
    assert_eq!(uncovered("مرحبا 😀"), Some(('😀', 7)));
    assert_eq!(uncovered(sample("ti").paragraphs[0]), None);

    let good = paragraphs("uk");
    let bad = vec![good[0].clone(), "Добрий день 😀 ласкаво".to_owned()];
    let mut batch = Batch::new("test");
    let sections = [Section {
        heading: "Brief",
        paragraphs: &good,
    }];
    let address = address("Олена Коваленко");
    assert_eq!(batch.add(&letter(&address, &sections)).ok(), Some(1));
    let before = batch.pages();
    let sections = [
        Section {
            heading: "Brief",
            paragraphs: &good,
        },
        Section {
            heading: "Лист",
            paragraphs: &bad,
        },
    ];
    match batch.add(&letter(&address, &sections)) {
        Err(PdfError::Unprintable {
            field,
            ch,
            position,
        }) => {
            assert_eq!((field, ch, position), ("paragraph", '😀', 13));
        }
        other => panic!("{other:?}"),
    }
    let heading = [Section {
        heading: "Brief 王",
        paragraphs: &good,
    }];
    let refused = batch.add(&letter(&address, &heading));
    assert!(matches!(
        refused,
        Err(PdfError::Unprintable {
            field: "heading",
            ch: '王',
            position: 7
        })
    ));
    assert_eq!(batch.pages(), before);
    let pdf = batch.finish().expect("written");
    assert_eq!(page_objects(&pdf), before as usize);
}

#[test]
fn an_empty_batch_is_a_pdf_of_one_blank_page() {
    // krilla writes at least one page, as a PDF reader expects.
    let batch = Batch::new("leeg");
    assert_eq!(batch.pages(), 0);
    let pdf = batch.finish().expect("written");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(page_objects(&pdf), 1);
}

#[test]
fn a_batch_embeds_only_the_glyphs_it_uses() {
    // The three Regular fonts alone are over 1 MB; a letter in each script needs a few
    // hundred glyphs of them.
    let mut batch = Batch::new("alle talen");
    let texts: Vec<(Vec<String>, Vec<String>)> = SAMPLES
        .iter()
        .map(|s| (address(s.name), paragraphs(s.lang)))
        .collect();
    for (s, (address, paragraphs)) in SAMPLES.iter().zip(&texts) {
        let sections = [Section {
            heading: s.heading,
            paragraphs,
        }];
        assert!(
            batch
                .add(&Letter {
                    address,
                    reference: "Ref. 1",
                    sections: &sections,
                })
                .is_ok()
        );
    }
    let pdf = batch.finish().expect("written");
    assert!(
        pdf.len() < 300_000,
        "{} bytes for {} letters",
        pdf.len(),
        SAMPLES.len()
    );
}
