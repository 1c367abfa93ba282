//! The B1 follow-up after the attest (DESIGN.md §3): B1 oral passed within 24 months,
//! or six months of work, study or training.

use chrono::NaiveDate;

use super::{
    event::TrajectoryEvent,
    trajectory::{ObligationStatus, Trajectory},
};
use crate::{TrajectoryError, rules};

impl Trajectory {
    /// After an attest: the B1 follow-up starts for an obliged person of working age
    /// (DESIGN.md §3). `birth_date` is the person's, from the national number.
    pub fn start_b1_follow_up(&mut self, birth_date: Option<NaiveDate>) -> Option<TrajectoryEvent> {
        let attest_on = self.progress.attest_issued_on?;
        if self.progress.b1_due_by.is_some() {
            return None;
        }
        let age = rules::age_on(birth_date?, attest_on);
        if !rules::b1_follow_up_applies(self.status == ObligationStatus::Obliged, age) {
            return None;
        }
        let due_by = rules::b1_due_by(attest_on);
        self.progress.b1_due_by = Some(due_by);
        Some(TrajectoryEvent::B1FollowUpDue { due_by })
    }

    /// Closes the follow-up on `on`; after its last day (month 25 on) it is closed late,
    /// which is also overdue (published once, whether the sweep saw it first or not).
    fn close_b1_follow_up(&mut self, on: NaiveDate) -> Vec<TrajectoryEvent> {
        let Some(due_by) = self.progress.b1_due_by else {
            return Vec::new();
        };
        if self.progress.b1_closed_on.is_some() {
            return Vec::new();
        }
        self.progress.b1_closed_on = Some(on);
        let mut events = vec![TrajectoryEvent::B1FollowUpClosed { on }];
        if !rules::on_time(due_by, on) {
            events.push(TrajectoryEvent::B1FollowUpOverdue { due_by });
        }
        events
    }

    /// A passed B1 oral test closes the follow-up.
    pub fn pass_b1(&mut self, passed_on: NaiveDate) -> Vec<TrajectoryEvent> {
        self.close_b1_follow_up(passed_on)
    }

    /// An uninterrupted period of work, study or training; 6 months of it close the
    /// follow-up.
    pub fn record_activity(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<TrajectoryEvent>, TrajectoryError> {
        if to < from {
            return Err(TrajectoryError::invalid("to", "lies before from"));
        }
        if to > today {
            return Err(TrajectoryError::invalid("to", "lies in the future"));
        }
        let Some(attest_on) = self.progress.attest_issued_on else {
            return Err(TrajectoryError::NotRequired {
                trajectory_id: self.id,
                what: "an activity before the attest",
            });
        };
        if from < attest_on {
            return Err(TrajectoryError::invalid(
                "from",
                format!("lies before the attest ({attest_on}); only what follows it counts"),
            ));
        }
        if !rules::activity_closes_follow_up(from, to) {
            return Ok(Vec::new());
        }
        // Closed on the day the 6 months were reached, however long the period recorded.
        let reached = rules::six_months_of_activity_on(from).unwrap_or(to);
        Ok(self.close_b1_follow_up(reached))
    }
}
