//! Ceremony letters on paper (issue 24): the invitation and the cancellation notice as
//! printed letters, through the one letter printer (`letters`) that recruitment's letters
//! go through too — the Dutch letter first, then the invitee's contact language when a
//! translation exists, with the contact block of the agency's office for the municipality.
//!
//! Sending stays what it was: `SendInvitations` and `CancelCeremony` record the
//! invitations and notices and publish `InvitationSent` and `CancellationNoticeSent`.
//! Printing is the operator's batch step after them (`inburgering ceremonies letters`),
//! as recruitment's letters are:
//!
//! - once per invitation and kind (a unique index), so once per person, ceremony and kind,
//!   whatever the runs;
//! - in batches of [`rules::LETTERS_PER_BATCH`](crate::rules::LETTERS_PER_BATCH) letters of
//!   one ceremony and kind, each one PDF with an index (`.index.csv`: first page, letter,
//!   invitation, person, translation);
//! - a batch is two transactions around a file: the letters are reserved in a batch marked
//!   `printing`; the PDF and its index are written under a temporary name and renamed; the
//!   batch and its letters are then marked `printed`. A run interrupted anywhere is
//!   finished by the next, which prints a `printing` batch again from its reservations
//!   (same file name), so no letter is lost and none is printed twice.
//!
//! It keeps no more of a person than the invitation does (name and contact language, as
//! trajectories disclosed them): a letter row names the invitation, the kind, the batch and
//! the translation, and the PDF is the operator's to post and then remove. Invitations are
//! printed for planned ceremonies, notices for cancelled ones, neither after the day.
//!
//! - [`texts`]: the Dutch texts, the note on a letter's languages, the text version;
//! - [`translations`]: the translations;
//! - [`render`]: one batch to PDF bytes and its index;
//! - [`batch`]: the run, its reservations, files and resumption.

pub mod batch;
pub mod render;
pub mod texts;
pub mod translations;

pub use batch::{Run, Summary, pending, run};
pub use letters::Senders;
pub use texts::LetterKind;

#[cfg(test)]
mod tests;
