//! Faults under load, the short run (the long one is `scripts/bench faults`): the broker
//! down, a poison event, trajectories SIGKILLed mid-relay and PostgreSQL crashed while
//! commands flow; nothing committed is lost or applied twice.

use inburgering_testkit::faults::{self, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_applied_twice_under_faults() {
    let figures = faults::run(Plan::short()).await;
    println!("{figures}");
    figures.assert_sound();
    // The faults happened under load, not beside it.
    assert!(figures.retried > 0, "no caller met a fault:\n{figures}");
    assert!(
        figures.timeline.unsent_at_kill > 0,
        "the kill missed the relay:\n{figures}"
    );
    assert!(
        figures.accepted >= 4 * 20,
        "too little load to prove anything:\n{figures}"
    );
}
