//! The five gRPC services of trajectories. A handler parses the request (`convert`,
//! `wire`), asks `policy`, makes one call to a feature module or the store, and converts
//! back; queries and audits live beneath it.

mod disclosure;
mod exchange;
mod obligation;
mod statistics;
mod trajectory;

pub use disclosure::DisclosureApi;
pub use exchange::PartnerExchangeApi;
pub use obligation::ObligationCheckApi;
pub use statistics::BrusselsStatisticsApi;
pub use trajectory::TrajectoryApi;
