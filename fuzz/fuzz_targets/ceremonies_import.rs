//! Ceremonies' historical overview import (`inburgering ceremonies import FILE.csv`):
//! `ceremonies::import::check` against a small register (`import::Register::from_rows`,
//! the rows `Register::load` reads), and the cell parsers `import::{count, rate}` and
//! `import::line_count`.
//!
//! The file arrives as bytes: like the command (`read_to_string`), bytes that are not
//! UTF-8 are refused before parsing.
//!
//! Asserts: nothing panics; the result is the lines or every bad line with its line
//! number (from 1) and field; an accepted line has a year from 2000 to 2100, a known
//! municipality, no more participants than invitations, a rate of at most 100%, and no
//! (year, municipality, kind) twice; progress is reported line by line.
#![no_main]

use std::{cell::Cell, collections::HashSet, sync::LazyLock};

use ceremonies::import::{self, ImportError, Register};
use libfuzzer_sys::fuzz_target;

static REGISTER: LazyLock<Register> = LazyLock::new(inburgering_fuzz::ceremonies_register);

const KNOWN: [&str; 6] = ["11002", "44021", "21004", "21015", "62063", "71016"];
/// What an error may name besides a column: the line itself, or the header.
const WHOLE: [&str; 2] = ["line", "header"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = import::line_count(text);
    let last = Cell::new(0u64);
    let result = import::check(text, &REGISTER, &|line| {
        assert_eq!(line, last.get() + 1, "progress skips a line");
        last.set(line);
    });
    match result {
        Ok(lines) => {
            let mut seen = HashSet::new();
            for l in &lines {
                assert!((2000..=2100).contains(&l.year));
                assert!(KNOWN.contains(&l.nis.to_string().as_str()), "{}", l.nis);
                if let (Some(i), Some(p)) = (l.invitations, l.participants) {
                    assert!(p <= i);
                }
                assert!(l.reported_basis_points.is_none_or(|bp| bp <= 10_000));
                assert!(seen.insert((l.year, l.nis, l.kind)), "a duplicate accepted");
            }
        }
        Err(ImportError::Lines(errors)) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(e.line >= 1);
                assert!(
                    WHOLE.contains(&e.field) || import::HEADER.contains(&e.field),
                    "{}",
                    e.field
                );
                assert!(!e.to_string().is_empty());
            }
        }
        Err(other) => panic!("check touched the database? {other}"),
    }

    // The cell parsers on every comma-separated piece.
    for cell in text.split([',', '\n']) {
        if let Ok(Some(n)) = import::count(cell) {
            assert_eq!(cell.trim().parse::<u32>().ok(), Some(n));
        }
        if let Ok(Some(bp)) = import::rate(cell) {
            assert!(bp <= 10_000);
        }
    }
});
