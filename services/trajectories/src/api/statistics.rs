//! `BrusselsStatisticsService`: the Brussels figures parliament asks for; counts only.

use platform::{Principal, Role};
use proto::trajectories::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{TrajectoryError, convert, statistics::Statistics};

/// The `BrusselsStatisticsService` implementation.
#[derive(Debug, Clone)]
pub struct BrusselsStatisticsApi {
    statistics: Statistics,
}

impl BrusselsStatisticsApi {
    pub fn new(statistics: Statistics) -> Self {
        Self { statistics }
    }
}

#[tonic::async_trait]
impl pb::brussels_statistics_service_server::BrusselsStatisticsService for BrusselsStatisticsApi {
    #[tracing::instrument(skip_all)]
    async fn get_brussels_figures(
        &self,
        request: Request<pb::GetBrusselsFiguresRequest>,
    ) -> Result<Response<pb::GetBrusselsFiguresResponse>, Status> {
        Principal::of(&request)?.require(Role::Monitor)?;
        let req = request.get_ref();
        let from = convert::required_day("from", req.from.as_ref())?;
        let to = convert::required_day("to", req.to.as_ref())?;
        if to < from {
            let reason = format!("{to} is before from ({from})");
            return Err(TrajectoryError::invalid("to", reason).into());
        }
        let f = self.statistics.brussels(from, to).await?;
        Ok(Response::new(f.response()))
    }
}
