//! Applies test results from `testing.events.v1`: a passed NT2 or MO test completes its
//! component, and the attest follows when everything required is done.

use chrono::{DateTime, NaiveDate};
use platform::events::{
    Envelope, Outbox,
    consumer::{Handler, HandlerError},
};
use proto::testing::v1 as testing;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::{TrajectoryError, domain::Component, store};

/// The consumer group (and inbox name) of test results.
pub const GROUP: &str = "trajectories.test-results";
/// The topic it reads.
pub const TOPIC: &str = "testing.events.v1";

/// The handler of `TestResultRecorded`.
#[derive(Debug)]
pub struct TestResults {
    pub outbox: Outbox,
}

/// A trajectory error as a consumer failure: a lost race or the database retries, the
/// rest cannot be cured by retrying.
pub(crate) fn handler_error(e: TrajectoryError) -> HandlerError {
    match e {
        TrajectoryError::Conflict { .. } | TrajectoryError::Database(_) => {
            HandlerError::transient(e.to_string())
        }
        other => HandlerError::permanent(other.to_string()),
    }
}

/// A passed test as [`TestResults`] applies it: the trajectory, the component it
/// completes (`None`: B1 oral, which closes the B1 follow-up) and the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passed {
    pub trajectory_id: Uuid,
    pub component: Option<Component>,
    pub passed_on: NaiveDate,
}

/// The decoding and checking half of [`TestResults`], without the database; `None` for
/// an event that changes nothing (another type, not passed, a language certificate).
pub fn passed(event: &Envelope) -> Result<Option<Passed>, HandlerError> {
    let Some(recorded) = event.decode::<testing::TestResultRecorded>()? else {
        return Ok(None);
    };
    if recorded.outcome() != testing::Outcome::Passed {
        return Ok(None);
    }
    let booking = recorded
        .booking
        .as_ref()
        .ok_or_else(|| HandlerError::permanent("a result without its booking"))?;
    let component = match booking.test_type() {
        testing::TestType::Nt2A2 | testing::TestType::Nt2A2Adapted => Some(Component::Nt2),
        testing::TestType::Mo => Some(Component::Mo),
        // B1 oral closes the B1 follow-up; it completes no component.
        testing::TestType::B1Oral => None,
        // A language certificate, outside any trajectory.
        testing::TestType::LanguageLevel => return Ok(None),
        testing::TestType::Unspecified => {
            return Err(HandlerError::permanent("a result without a test type"));
        }
    };
    let trajectory_id = wire::uuid("trajectory_id", &recorded.trajectory_id)
        .map_err(|_| HandlerError::permanent("trajectory_id is not a UUID"))?;
    // The test's (Belgian) day is the day the component was completed.
    let passed_on = recorded
        .session_starts_at
        .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
        .map(platform::clock::belgian_date)
        .ok_or_else(|| HandlerError::permanent("session_starts_at is missing"))?;
    Ok(Some(Passed {
        trajectory_id,
        component,
        passed_on,
    }))
}

impl Handler for TestResults {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        // A historical result came with the caseload import, which derived the components
        // and the attest from the same results with their own dates: nothing to do.
        if event.is_history() {
            return Ok(());
        }
        let Some(Passed {
            trajectory_id,
            component,
            passed_on,
        }) = passed(event)?
        else {
            return Ok(());
        };
        let mut trajectory = store::load(txn, trajectory_id)
            .await
            .map_err(handler_error)?
            .ok_or_else(|| {
                HandlerError::permanent(format!("trajectory {trajectory_id} does not exist"))
            })?;
        let events = match component {
            Some(component) => trajectory
                .complete_test(component, passed_on)
                .map_err(handler_error)?,
            None => trajectory.pass_b1(passed_on),
        };
        let saved = store::save_progress(txn, &self.outbox, &mut trajectory, events)
            .await
            .map_err(handler_error)?;
        tracing::info!(%trajectory_id, ?component, events = saved, "test result applied");
        Ok(())
    }
}
