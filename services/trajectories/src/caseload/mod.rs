//! The caseload import: an agency's existing trajectories, results and registrations
//! brought in with their own dates (`inburgering import caseload FILE`).
//!
//! Each line is checked whole before anything is written ([`check`]): fields named as the
//! file names them, then the trajectory replayed through the domain in date order, so the
//! rules that hold for live requests hold for history too. What passes is stored a batch
//! per transaction ([`apply`]), its events staged through the outbox marked as history
//! (`Outbox::as_history`): consumers project them, nothing acts on them, and the deadline
//! sweep never reports a deadline that passed before the import (`imported_on`). The same
//! line again changes nothing; a changed line is reported, not applied; a run stopped
//! half-way is finished by running it again. [`report`] counts what an import brought in.
//! The file format: `docs/caseload-import.md`.

pub mod apply;
pub mod check;
mod fields;
mod fingerprint;
pub mod record;
mod replay;
pub mod report;

pub use apply::{Applied, apply_batch};
pub use check::{Checked, LineError, check};
pub use fields::{CheckedResult, Register, TestKind, TestOutcome};
pub use fingerprint::changed_parts;
pub use record::{Format, Record};
pub use report::{Reconciliation, add_persons, reconcile};

/// The register as the check needs it, read once from the service's projection.
pub async fn register(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Register, crate::TrajectoryError> {
    Ok(Register::new(wire::register::all(db).await?))
}

#[cfg(test)]
mod tests;
