//! The obligation check for other public bodies: yes, no or unknown, and nothing else
//! about the trajectory; every check is audited.

use chrono::Utc;
use platform::Principal;
use proto::trajectories::v1 as pb;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::{
    TrajectoryError,
    domain::NationalNumber,
    rules,
    store::{obligation_check, person, trajectory},
};

/// What the platform knows of a person's obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not registered with any agency.
    Unknown,
    /// Attest issued, or exempted from the obligation.
    Met,
    /// Registered, but neither attest nor exemption.
    NotMet,
}

/// The answer for a benefit: the obligation met and the residence the benefit requires.
pub fn answer(
    standing: Standing,
    care_budget: bool,
    uninterrupted_years: u32,
    total_years: u32,
) -> pb::Answer {
    match standing {
        Standing::Unknown => pb::Answer::Unknown,
        Standing::NotMet => pb::Answer::No,
        Standing::Met
            if rules::residence_suffices(care_budget, uninterrupted_years, total_years) =>
        {
            pb::Answer::Yes
        }
        Standing::Met => pb::Answer::No,
    }
}

/// One obligation check as the asking body gives it.
#[derive(Debug)]
pub struct Check {
    pub number: NationalNumber,
    pub benefit: pb::Benefit,
    pub care_budget: bool,
    pub purpose: String,
    pub uninterrupted_years: u32,
    pub total_years: u32,
}

/// The obligation checks of other public bodies.
#[derive(Debug, Clone)]
pub struct ObligationChecks {
    db: DatabaseConnection,
}

impl ObligationChecks {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn standing(
        &self,
        number: &NationalNumber,
    ) -> Result<(Option<Uuid>, Standing), TrajectoryError> {
        let Some(person) = person::Entity::find()
            .filter(person::Column::NationalNumber.eq(number.digits()))
            .one(&self.db)
            .await?
        else {
            return Ok((None, Standing::Unknown));
        };
        let trajectory = trajectory::Entity::find()
            .filter(trajectory::Column::PersonId.eq(person.id))
            .one(&self.db)
            .await?;
        let standing = match trajectory {
            // The attest, a declaration of effort or an exemption meets the obligation
            // (Trajectory::obligation_met, read here without loading the whole trajectory).
            Some(t)
                if t.attest_issued_on.is_some()
                    || t.effort_declared_on.is_some()
                    || t.exemption_reason.is_some() =>
            {
                Standing::Met
            }
            _ => Standing::NotMet,
        };
        Ok((Some(person.id), standing))
    }

    /// Answers `check` for `principal` and audits it: who asked, for what, and the
    /// yes/no; never the number itself.
    pub async fn check(
        &self,
        principal: &Principal,
        check: &Check,
    ) -> Result<pb::Answer, TrajectoryError> {
        let (person_id, standing) = self.standing(&check.number).await?;
        let answer = answer(
            standing,
            check.care_budget,
            check.uninterrupted_years,
            check.total_years,
        );
        obligation_check::ActiveModel {
            id: Set(Uuid::now_v7()),
            checked_at: Set(Utc::now()),
            caller: Set(principal.subject.clone()),
            organisation: Set(principal.organisation.alias.clone()),
            purpose: Set(check.purpose.clone()),
            benefit: Set(check.benefit.as_str_name().to_owned()),
            person_id: Set(person_id),
            answer: Set(answer.as_str_name().to_owned()),
        }
        .insert(&self.db)
        .await?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_needs_the_obligation_met_and_the_residence() {
        assert_eq!(answer(Standing::Met, false, 5, 5), pb::Answer::Yes);
        assert_eq!(answer(Standing::Met, false, 4, 12), pb::Answer::No);
        assert_eq!(answer(Standing::NotMet, false, 20, 20), pb::Answer::No);
        assert_eq!(answer(Standing::Unknown, true, 20, 20), pb::Answer::Unknown);
        assert_eq!(answer(Standing::Met, true, 5, 9), pb::Answer::No);
        assert_eq!(answer(Standing::Met, true, 5, 10), pb::Answer::Yes);
    }
}
