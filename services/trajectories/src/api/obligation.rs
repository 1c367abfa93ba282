//! `ObligationCheckService`: yes, no or unknown for another public body.

use platform::{Principal, Role};
use proto::trajectories::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    TrajectoryError,
    obligation::{Check, ObligationChecks},
};

/// The `ObligationCheckService` implementation.
#[derive(Debug, Clone)]
pub struct ObligationCheckApi {
    checks: ObligationChecks,
}

impl ObligationCheckApi {
    pub fn new(checks: ObligationChecks) -> Self {
        Self { checks }
    }
}

fn check(req: &pb::CheckObligationRequest) -> Result<Check, TrajectoryError> {
    let number = wire::national_number("national_number", &req.national_number)?;
    let care_budget = match pb::Benefit::try_from(req.benefit) {
        Ok(pb::Benefit::CarePremiumReduction | pb::Benefit::ElderlyCarePriority) => false,
        Ok(pb::Benefit::CareBudget) => true,
        _ => return Err(TrajectoryError::invalid("benefit", "is required")),
    };
    let purpose = req.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        return Err(TrajectoryError::invalid(
            "purpose",
            "is required, at most 200 characters",
        ));
    }
    let years = |field: &'static str, v: i32| {
        u32::try_from(v).map_err(|_| TrajectoryError::invalid(field, format!("{v} is negative")))
    };
    let uninterrupted_years = years(
        "uninterrupted_residence_years",
        req.uninterrupted_residence_years,
    )?;
    let total_years = years("total_residence_years", req.total_residence_years)?;
    if uninterrupted_years > total_years {
        return Err(TrajectoryError::invalid(
            "uninterrupted_residence_years",
            "exceeds total_residence_years",
        ));
    }
    Ok(Check {
        number,
        benefit: req.benefit(),
        care_budget,
        purpose: purpose.to_owned(),
        uninterrupted_years,
        total_years,
    })
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
        let check = check(request.get_ref())?;
        let answer = self.checks.check(principal, &check).await?;
        tracing::info!(answer = answer.as_str_name(), "obligation checked");
        Ok(Response::new(pb::CheckObligationResponse {
            answer: answer as i32,
        }))
    }
}
