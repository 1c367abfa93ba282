//! Recruitment's letters from the outside, on SQLite: the real migrations and seed, the
//! real batch run, the PDF read back with poppler's `pdftotext` (Debian's poppler-utils,
//! installed by `scripts/setup`).

// The service as other crates name it.
extern crate inburgering_recruitment as recruitment;

mod letters;
mod readback;
