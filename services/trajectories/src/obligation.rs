//! The obligation check for other public bodies: yes, no or unknown, and nothing else
//! about the trajectory; every check is audited.

use chrono::Utc;
use platform::{Principal, Role};
use proto::trajectories::v1 as pb;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use tonic::{Request, Response, Status};
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

/// The `ObligationCheckService` implementation.
#[derive(Debug, Clone)]
pub struct ObligationCheckApi {
    db: DatabaseConnection,
}

impl ObligationCheckApi {
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
}

#[tonic::async_trait]
impl pb::obligation_check_service_server::ObligationCheckService for ObligationCheckApi {
    #[tracing::instrument(skip_all, fields(organisation))]
    async fn check_obligation(
        &self,
        request: Request<pb::CheckObligationRequest>,
    ) -> Result<Response<pb::CheckObligationResponse>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Role::ObligationCheck)?;
        tracing::Span::current().record("organisation", principal.organisation.alias.as_str());
        let req = request.get_ref();
        let number = wire::national_number("national_number", &req.national_number)?;
        let care_budget = match pb::Benefit::try_from(req.benefit) {
            Ok(pb::Benefit::CarePremiumReduction | pb::Benefit::ElderlyCarePriority) => false,
            Ok(pb::Benefit::CareBudget) => true,
            _ => return Err(TrajectoryError::invalid("benefit", "is required").into()),
        };
        let purpose = req.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 200 {
            return Err(
                TrajectoryError::invalid("purpose", "is required, at most 200 characters").into(),
            );
        }
        let years = |field: &'static str, v: i32| {
            u32::try_from(v)
                .map_err(|_| TrajectoryError::invalid(field, format!("{v} is negative")))
        };
        let uninterrupted = years(
            "uninterrupted_residence_years",
            req.uninterrupted_residence_years,
        )?;
        let total = years("total_residence_years", req.total_residence_years)?;
        if uninterrupted > total {
            return Err(TrajectoryError::invalid(
                "uninterrupted_residence_years",
                "exceeds total_residence_years",
            )
            .into());
        }
        let (person_id, standing) = self.standing(&number).await?;
        let answer = answer(standing, care_budget, uninterrupted, total);
        // The audit names who asked, for what, and the yes/no; never the number itself.
        obligation_check::ActiveModel {
            id: Set(Uuid::now_v7()),
            checked_at: Set(Utc::now()),
            caller: Set(principal.subject.clone()),
            organisation: Set(principal.organisation.alias.clone()),
            purpose: Set(purpose.to_owned()),
            benefit: Set(req.benefit().as_str_name().to_owned()),
            person_id: Set(person_id),
            answer: Set(answer.as_str_name().to_owned()),
        }
        .insert(&self.db)
        .await
        .map_err(TrajectoryError::from)?;
        tracing::info!(answer = answer.as_str_name(), "obligation checked");
        Ok(Response::new(pb::CheckObligationResponse {
            answer: answer as i32,
        }))
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
