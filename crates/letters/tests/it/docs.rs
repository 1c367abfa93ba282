//! What a newcomer receives: the first page of one letter per language as a picture under
//! docs/letters/, and how long printing takes. Both are run by hand:
//!
//! ```text
//! cargo test -p inburgering-letters --test it -- --ignored docs_pages
//! cargo test --release -p inburgering-letters --test it -- --ignored --nocapture timing
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use inburgering_letters::{Batch, Letter, Section};

use crate::samples::{SAMPLES, sample};
use crate::{Scratch, address, letter, print};

#[test]
#[ignore = "writes docs/letters/*.png: run by hand after changing the layout or fonts"]
fn docs_pages() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/letters");
    std::fs::create_dir_all(&dir).expect("docs/letters can be made");
    for s in SAMPLES {
        let paragraphs: Vec<String> = s.paragraphs.iter().map(|p| (*p).to_owned()).collect();
        let sections = [Section {
            heading: s.heading,
            paragraphs: &paragraphs,
        }];
        let address = address(s.name);
        let (pdf, _) = print(&letter(&address, &sections));
        let file = Scratch::write(s.lang, &pdf);
        let out = dir.join(s.lang);
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&file.0)
            .arg(&out)
            .status()
            .expect("pdftoppm (apt-get install poppler-utils)");
        assert!(status.success(), "pdftoppm for {}", s.lang);
    }
}

#[test]
#[ignore = "timing: run in release with --ignored --nocapture"]
fn timing() {
    // One 2-page letter: Dutch, then the Arabic translation.
    let (nl, ar) = (
        owned(sample("nl").paragraphs),
        owned(sample("ar").paragraphs),
    );
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
    let to = address("Layla الحسن");
    let (pdf, pages) = print(&letter(&to, &sections));
    println!("one {pages}-page Arabic letter: {} bytes", pdf.len());

    // 1,000 letters, each Dutch plus one of the 14 translations in turn (4 of 14 right to
    // left), in batches of 500 as recruitment prints them.
    let translations: Vec<(&str, Vec<String>, Vec<String>)> = SAMPLES[1..]
        .iter()
        .map(|s| (s.heading, owned(s.paragraphs), address(s.name)))
        .collect();
    let start = Instant::now();
    let mut finishing = std::time::Duration::ZERO;
    let (mut pages, mut bytes) = (0u32, 0usize);
    for b in 0..2 {
        let mut batch = Batch::new("batch");
        for i in 0..500 {
            let (heading, paragraphs, address) = &translations[(b * 500 + i) % translations.len()];
            let sections = [
                Section {
                    heading: sample("nl").heading,
                    paragraphs: &nl,
                },
                Section {
                    heading,
                    paragraphs,
                },
            ];
            let letter = Letter {
                address,
                reference: "Ref. 0193-7a2c - 07-12-2026",
                sections: &sections,
            };
            assert!(batch.add(&letter).is_ok());
        }
        pages += batch.pages();
        let finish = Instant::now();
        bytes += batch.finish().expect("written").len();
        finishing += finish.elapsed();
    }
    println!(
        "1,000 mixed-script letters, {pages} pages, {:.1} MB in {:?} ({finishing:?} of it writing the PDFs)",
        bytes as f64 / 1e6,
        start.elapsed()
    );
}

fn owned(paragraphs: &[&str]) -> Vec<String> {
    paragraphs.iter().map(|p| (*p).to_owned()).collect()
}
