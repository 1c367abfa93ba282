//! Liveness beyond "the process answers".
//!
//! A part of a service that can get stuck in a way only a restart cures (a consumer that
//! stays stalled after its client was recreated) reports it here. While any part is stuck,
//! the gRPC server's overall health status (service `""`, the chart's liveness probe)
//! reads NOT_SERVING, so Kubernetes restarts the pod; once every part has recovered it
//! reads SERVING again. Readiness (the service's own name) is not touched: a stuck
//! consumer does not stop the service answering calls.

use std::{collections::BTreeSet, sync::LazyLock};

use tokio::sync::watch;

static STUCK: LazyLock<watch::Sender<BTreeSet<String>>> =
    LazyLock::new(|| watch::Sender::new(BTreeSet::new()));

/// Reports `part` (e.g. `consumer testing.candidates`) stuck until [`recovered`].
pub fn stuck(part: &str) {
    STUCK.send_if_modified(|parts| parts.insert(part.to_owned()));
}

/// Reports `part` working again.
pub fn recovered(part: &str) {
    STUCK.send_if_modified(|parts| parts.remove(part));
}

/// The parts stuck now; empty when the process is live.
pub fn stuck_parts() -> BTreeSet<String> {
    STUCK.borrow().clone()
}

/// Follows the set of stuck parts.
pub fn subscribe() -> watch::Receiver<BTreeSet<String>> {
    STUCK.subscribe()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_stuck_until_it_recovers() {
        let part = "consumer health-test";
        assert!(!stuck_parts().contains(part));
        stuck(part);
        stuck(part);
        assert!(stuck_parts().contains(part));
        recovered(part);
        assert!(!stuck_parts().contains(part));
    }
}
