//! Letters: templates per kind and language (versioned, checked at upload), and the batch
//! run (`inburgering recruitment letters`) that prints every eligible person's letter,
//! once per person and kind, to PDF files of [`rules::LETTERS_PER_BATCH`] letters plus an
//! index.
//!
//! A batch is two transactions around a file. The first reserves the letters (one per
//! person and kind: a unique index) in a batch marked `printing`; then the PDF and its
//! index are written under a temporary name and renamed; the second marks the batch and
//! its letters sent, stages one `LetterSent` each and starts the addresses' retention. A
//! run interrupted anywhere is finished by the next: a `printing` batch is printed again
//! from its reserved letters (same file), so no letter is lost and none is sent twice.
//! With the broker down, the events wait in the outbox.
//!
//! - [`templates`]: upload and read the templates;
//! - [`batch`]: the run, its reservations, files and events, and the erasure;
//! - [`render`]: what a letter says and how it is printed.

mod batch;
mod render;
mod templates;

pub use ::letters::{Sender, Senders};
pub use batch::{Run, Summary, erase_due, pending, run};
pub use render::dutch_only_note;
pub use templates::{Uploader, current, upload};
